//! One bulletin: edit, delete, incident follow-ups, maintenance reschedule and cancel.

use super::{
    common::{admin_page, done_message, form_errors, see_other, status_of, visitor_texts, FormData, FormErrors},
    session::{Admin, AdminForm},
};
use crate::{
    app::{
        bulletins, deliveries,
        followers::{self, FollowState},
        AppError, AppResult,
    },
    bulletin::{
        forms::{self, PostFields},
        vocab::*,
    },
    federation::Federation,
    refusal::{Kind, Refusals},
    state::AppState,
    web::{
        html::{render, Page, PageError, Section},
        state_of,
        views::{self, Opt},
    },
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;

#[derive(Template)]
#[template(path = "admin/bulletin.html")]
struct ManagePage<'a> {
    page: Page<'a>,
    done: Option<String>,
    /// The refused form's errors (the summary above the page)…
    errors: FormErrors,
    /// …and each form's own, shown next to its fields.
    edit_errors: FormErrors,
    follow_up_errors: FormErrors,
    window_errors: FormErrors,
    action_base: String,
    public_url: String,
    title: String,
    body: String,
    lang: String,
    languages: Vec<Opt>,
    translation_title: String,
    translation_body: String,
    status: String,
    deleted: bool,
    content_html: String,
    /// Incident still open: follow-up form (what was typed, when it was refused).
    incident_states: Vec<Opt>,
    statuses: Vec<Opt>,
    follow_up_title: String,
    follow_up_body: String,
    /// Maintenance still open: reschedule and cancel.
    maintenance_open: bool,
    start: String,
    end: String,
    timezone: String,
    window_label: String,
    follow_ups: Vec<views::BulletinCard>,
    /// "Delivered to N of M servers, K waiting, J failed" and the failures' reasons.
    delivery: Option<String>,
    delivery_failures: Vec<(String, String)>,
    /// Deliveries still waiting: the page reloads itself (no script).
    refresh: bool,
}

/// A form of the page that was refused: which one (its action), why, and what was typed, shown
/// again in its fields.
pub(super) struct Refused {
    action: String,
    errors: FormErrors,
    typed: FormData,
}

impl Refused {
    /// The errors of `action`'s form, none for the page's other forms.
    fn errors_of(&self, action: &str) -> FormErrors {
        if self.action == action {
            self.errors.clone()
        } else {
            FormErrors::default()
        }
    }
    /// What was typed in `action`'s form for `field`, when that form was refused.
    fn typed(&self, action: &str, field: &str) -> Option<String> {
        (self.action == action).then(|| self.typed.text(field))
    }
}

/// "Delivered to 2 servers of 3, 1 waiting, 0 failed", or that nobody receives it.
pub(super) fn delivery_line(t: &crate::web::i18n::Texts, sent: &deliveries::BulletinDelivery) -> String {
    if sent.servers == 0 {
        return t.get("publishing.delivery_nobody").to_string();
    }
    let (n, m, k, j) =
        (sent.delivered.to_string(), sent.servers.to_string(), sent.waiting.to_string(), sent.failed.len().to_string());
    t.plural(
        "publishing.delivery",
        sent.delivered as u64,
        &[("delivered", &n), ("servers", &m), ("waiting", &k), ("failed", &j)],
    )
}

fn local_input(state: &AppState, at: Option<chrono::NaiveDateTime>) -> String {
    use chrono::TimeZone;
    at.map(|at| state.config.timezone().from_utc_datetime(&at).format("%Y-%m-%dT%H:%M").to_string()).unwrap_or_default()
}

async fn manage_page(
    state: &AppState,
    req: &HttpRequest,
    id: &str,
    status: StatusCode,
    refused: Option<Refused>,
) -> Result<HttpResponse, PageError> {
    let bulletins::BulletinView { bulletin: b, translations, replies, .. } = bulletins::view(state, id).await?;
    let page = admin_page(state, req, |t| t.get("manage_bulletin")).await?;
    let t = page.t;
    let meta = b.meta();
    let open = meta.state.is_some_and(|s| s.is_open());
    let translation = translations.first();
    let sent = deliveries::of_bulletin(state, &b.id).await?;
    let mut done = done_message(req, t);
    // Nobody follows: "on its way to your followers" would be untrue.
    if sent.servers == 0 && req.query_string().contains("done=published") {
        done = Some(t.get("publishing.done_published_nobody").to_string());
    }
    let (delivery, refresh) = if b.federated_at.is_none() || b.is_deleted() && sent.servers == 0 {
        (None, false)
    } else {
        (Some(delivery_line(t, &sent)), sent.waiting > 0)
    };
    let typed = |action: &str, field: &str| refused.as_ref().and_then(|r| r.typed(action, field));
    let errors_of = |action: &str| refused.as_ref().map(|r| r.errors_of(action)).unwrap_or_default();
    let translation_lang = typed("edit", "translation_lang").or_else(|| translation.map(|tr| tr.lang.clone()));
    let select = |options: Vec<Opt>, chosen: Option<String>| -> Vec<Opt> {
        options.into_iter().map(|o| Opt { selected: chosen.as_deref() == Some(o.value.as_str()), ..o }).collect()
    };
    let template = ManagePage {
        errors: refused.as_ref().map(|r| r.errors.clone()).unwrap_or_default(),
        edit_errors: errors_of("edit"),
        follow_up_errors: errors_of("follow-up"),
        window_errors: errors_of("reschedule"),
        delivery,
        delivery_failures: sent.failed.clone(),
        refresh,
        done,
        action_base: state.urls.admin(&format!("bulletins/{}", b.id)).to_string(),
        public_url: state.urls.bulletin(&b.id).to_string(),
        title: typed("edit", "title").unwrap_or_else(|| b.title.clone()),
        body: typed("edit", "body").unwrap_or_else(|| b.body_markdown.clone()),
        lang: b.lang.clone(),
        languages: state
            .config
            .account
            .languages
            .iter()
            .map(|l| Opt {
                value: l.clone(),
                label: state.texts.language_name(l),
                selected: translation_lang.as_ref() == Some(l),
            })
            .collect(),
        translation_title: typed("edit", "translation_title")
            .unwrap_or_else(|| translation.map(|tr| tr.title.clone()).unwrap_or_default()),
        translation_body: typed("edit", "translation_body")
            .unwrap_or_else(|| translation.map(|tr| tr.body_markdown.clone()).unwrap_or_default()),
        status: status_of(&b, t),
        deleted: b.is_deleted(),
        content_html: b.content_html.clone(),
        incident_states: if meta.change_type == Some(ChangeType::Incident) && open && b.in_reply_to.is_none() {
            select(
                views::options_of::<ChangeState>(t, None)
                    .into_iter()
                    .filter(|o| ChangeState::parse("state", &o.value).is_ok_and(|s| s.is_incident_state()))
                    .collect(),
                typed("follow-up", "state"),
            )
        } else {
            vec![]
        },
        statuses: select(views::options_of::<ServiceStatus>(t, None), typed("follow-up", "status")),
        follow_up_title: typed("follow-up", "title").unwrap_or_default(),
        follow_up_body: typed("follow-up", "body").unwrap_or_default(),
        maintenance_open: meta.change_type == Some(ChangeType::Maintenance) && open,
        start: typed("reschedule", "start").unwrap_or_else(|| local_input(state, b.starts_at)),
        end: typed("reschedule", "end").unwrap_or_else(|| local_input(state, b.ends_at)),
        timezone: crate::bulletin::content::zone_name(state.config.timezone(), t),
        window_label: views::window_label(state, t),
        follow_ups: replies.iter().map(|r| views::card(state, r, &[], t.lang)).collect(),
        page,
    };
    render(req, status, &template)
}

pub async fn manage(
    fed: web::Data<Federation>,
    req: HttpRequest,
    _admin: Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    manage_page(state_of(&fed), &req, &id, StatusCode::OK, None).await
}

/// POST /admin/bulletins/{id}/{edit|delete|follow-up|reschedule|cancel}
pub async fn act(
    fed: web::Data<Federation>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    AdminForm(form): AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let (id, action) = path.into_inner();
    let tz = state.config.timezone();
    let result: AppResult<&str> = async {
        match action.as_str() {
            "edit" => {
                let translation = form.get("translation_lang").map(|lang| crate::bulletin::TextDraft {
                    lang: Some(lang),
                    title: form.text("translation_title"),
                    body_markdown: form.text("translation_body"),
                });
                let edit = bulletins::NewsEdit {
                    title: Some(form.text("title")),
                    body_markdown: Some(form.text("body")),
                    lang: None,
                    translation,
                };
                bulletins::edit_news(state, &id, edit).await.map(|_| "edited")
            }
            "delete" => bulletins::delete_bulletin(state, &id).await.map(|_| "deleted"),
            "follow-up" => {
                let new_state = ChangeState::parse_incident("state", &form.get("state").unwrap_or_default())?;
                let status = forms::choice_field("status", &form.get("status"))?;
                let fields = PostFields {
                    lang: form.get("lang"),
                    title: form.text("title"),
                    body: form.text("body"),
                    ..Default::default()
                };
                let draft = fields.draft(tz)?;
                bulletins::post_follow_up(state, &id, draft, new_state, status).await.map(|_| "follow_up")
            }
            "reschedule" => {
                // Both times are checked, so both refusals show at once.
                let mut refusals = Refusals::new();
                let mut time = |field: &'static str, required: Kind| match crate::bulletin::collect(
                    &mut refusals,
                    forms::time_field(field, &form.get(field), tz),
                ) {
                    Some(None) => {
                        refusals.refuse(field, required, &[]);
                        None
                    }
                    at => at.flatten(),
                };
                let (start, end) = (time("start", Kind::StartRequired), time("end", Kind::EndRequired));
                match (start, end) {
                    (Some(start), Some(end)) if refusals.is_empty() => {
                        bulletins::reschedule(state, &id, start, end).await.map(|_| "rescheduled")
                    }
                    _ => Err(AppError::Fields(refusals.into_vec())),
                }
            }
            "cancel" => bulletins::cancel(state, &id).await.map(|_| "cancelled"),
            _ => Err(AppError::no_such(Kind::NoAction, &action)),
        }
    }
    .await;
    match result {
        Ok(done) => Ok(see_other(format!("{}?done={done}", state.urls.admin(&format!("bulletins/{id}"))))),
        Err(e) => {
            let prefix = if action == "follow-up" { "fu-" } else { "" };
            let errors = form_errors(e, visitor_texts(state, &req), prefix)?;
            let refused = Refused { action, errors, typed: form };
            manage_page(state, &req, &id, StatusCode::UNPROCESSABLE_ENTITY, Some(refused)).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin/confirm.html")]
struct ConfirmPage<'a> {
    page: Page<'a>,
    heading: String,
    bulletin_title: String,
    followers_receive: String,
    consequence: String,
    confirm: String,
    action: String,
    back_url: String,
}

/// GET /admin/bulletins/{id}/{delete|cancel}: what followers will receive, and one button that
/// does it (no script: the bulletin page's buttons lead here).
pub async fn confirm(
    fed: web::Data<Federation>,
    req: HttpRequest,
    _admin: Admin,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let (id, action) = path.into_inner();
    let bulletins::BulletinView { bulletin: b, .. } = bulletins::view(state, &id).await?;
    let meta = b.meta();
    let cancellable = meta.change_type == Some(ChangeType::Maintenance) && meta.state.is_some_and(|s| s.is_open());
    if b.is_deleted() || !(action == "delete" || action == "cancel" && cancellable) {
        return Err(PageError::NotFound);
    }
    let page = admin_page(state, &req, |t| t.get("manage_bulletin")).await?;
    let t = page.t;
    let followers = followers::list(state, Some(FollowState::Accepted)).await.map_err(|e| match e {
        AppError::Db(e) => PageError::from(e),
        other => PageError::Internal(other.to_string()),
    })?;
    let count = followers.len().to_string();
    let (heading, receive, consequence, confirm) = if action == "delete" {
        (
            t.get("publishing.confirm_delete_heading"),
            t.plural("publishing.confirm_delete_followers", followers.len() as u64, &[("count", &count)]),
            t.get("publishing.confirm_delete_consequence"),
            t.get("publishing.confirm_delete"),
        )
    } else {
        (
            t.get("publishing.confirm_cancel_heading"),
            t.plural("publishing.confirm_cancel_followers", followers.len() as u64, &[("count", &count)]),
            t.get("publishing.confirm_cancel_consequence"),
            t.get("publishing.confirm_cancel"),
        )
    };
    let base = state.urls.admin(&format!("bulletins/{}", b.id)).to_string();
    let template = ConfirmPage {
        heading: heading.to_string(),
        bulletin_title: b.title.clone(),
        followers_receive: if followers.is_empty() { t.get("publishing.confirm_nobody").to_string() } else { receive },
        consequence: consequence.to_string(),
        confirm: confirm.to_string(),
        action: format!("{base}/{action}"),
        back_url: base,
        page,
    };
    render(&req, StatusCode::OK, &template)
}
