//! One bulletin: edit, delete, incident follow-ups, maintenance reschedule and cancel.

use super::{
    common::{admin_page, done_message, form_errors, see_other, status_of, visitor_texts, FormErrors},
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
    errors: FormErrors,
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
    /// Incident still open: follow-up form.
    incident_states: Vec<Opt>,
    statuses: Vec<Opt>,
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

impl ManagePage<'_> {
    fn invalid(&self, field: &str) -> bool {
        self.errors.of(field).is_some()
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
    errors: FormErrors,
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
    let template = ManagePage {
        delivery,
        delivery_failures: sent.failed.clone(),
        refresh,
        done,
        errors,
        action_base: state.urls.admin(&format!("bulletins/{}", b.id)).to_string(),
        public_url: state.urls.bulletin(&b.id).to_string(),
        title: b.title.clone(),
        body: b.body_markdown.clone(),
        lang: b.lang.clone(),
        languages: state
            .config
            .account
            .languages
            .iter()
            .map(|l| Opt {
                value: l.clone(),
                label: state.texts.language_name(l),
                selected: translation.is_some_and(|tr| &tr.lang == l),
            })
            .collect(),
        translation_title: translation.map(|tr| tr.title.clone()).unwrap_or_default(),
        translation_body: translation.map(|tr| tr.body_markdown.clone()).unwrap_or_default(),
        status: status_of(&b, t),
        deleted: b.is_deleted(),
        content_html: b.content_html.clone(),
        incident_states: if meta.change_type == Some(ChangeType::Incident) && open && b.in_reply_to.is_none() {
            views::options_of::<ChangeState>(t, None)
                .into_iter()
                .filter(|o| ChangeState::parse("state", &o.value).is_ok_and(|s| s.is_incident_state()))
                .collect()
        } else {
            vec![]
        },
        statuses: views::options_of::<ServiceStatus>(t, None),
        maintenance_open: meta.change_type == Some(ChangeType::Maintenance) && open,
        start: local_input(state, b.starts_at),
        end: local_input(state, b.ends_at),
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
    manage_page(state_of(&fed), &req, &id, StatusCode::OK, FormErrors::default()).await
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
                let start = forms::time_field("start", &form.get("start"), tz)?;
                let end = forms::time_field("end", &form.get("end"), tz)?;
                match (start, end) {
                    (Some(start), Some(end)) => {
                        bulletins::reschedule(state, &id, start, end).await.map(|_| "rescheduled")
                    }
                    (None, _) => Err(AppError::invalid("start", "is required")),
                    (_, None) => Err(AppError::invalid("end", "is required")),
                }
            }
            "cancel" => bulletins::cancel(state, &id).await.map(|_| "cancelled"),
            _ => Err(AppError::NotFound(format!("no action `{action}`"))),
        }
    }
    .await;
    match result {
        Ok(done) => Ok(see_other(format!("{}?done={done}", state.urls.admin(&format!("bulletins/{id}"))))),
        Err(e) => {
            let errors = form_errors(e, visitor_texts(state, &req), "")?;
            manage_page(state, &req, &id, StatusCode::UNPROCESSABLE_ENTITY, errors).await
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
