//! Compose, preview, list and manage bulletins: edit, delete, schedule, incident follow-ups,
//! maintenance reschedule and cancel.

use super::{
    admin_page, done_message, see_other,
    session::{Admin, AdminForm},
    FormData,
};
use crate::{
    bulletin::{
        forms::{self, ChangeFields, PostFields},
        vocab::*,
        BulletinError,
    },
    db::models::{bulletins as rows, bulletins::Bulletin, services},
    federation::{Federation, FederationError},
    state::AppState,
    web::{
        html::{render, Page, PageError, Section},
        i18n::Texts,
        state_of,
        views::{self, Opt},
    },
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;

/// What the compose page offers: news, each kind of service change.
pub const COMPOSE_KINDS: &[&str] =
    &["news", "incident", "maintenance", "registration", "launch", "migration", "closure"];

pub fn kind_title(t: &Texts, kind: &str) -> String {
    match kind {
        "news" => t.get("compose_news").to_string(),
        other => {
            let label = ChangeType::parse("type", other).map(|c| c.label(t)).unwrap_or_default();
            let mut chars = label.chars();
            chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
        }
    }
}

/// An error shown next to its field.
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Turns a domain refusal into a message for the form; anything else is a server error.
fn form_error(e: FederationError) -> Result<FieldError, PageError> {
    match e {
        FederationError::Bulletin(BulletinError::Invalid { field, reason }) => {
            Ok(FieldError { field: field.to_string(), message: format!("{field}: {reason}") })
        }
        FederationError::Bulletin(other) => Ok(FieldError { field: String::new(), message: other.to_string() }),
        other => Err(PageError::Internal(other.to_string())),
    }
}

fn bulletin_error(e: BulletinError) -> FederationError {
    FederationError::Bulletin(e)
}

/// The form's values, echoed back after a preview or an error.
#[derive(Default)]
pub struct ComposeValues {
    pub kind: String,
    pub post: PostFields,
    pub change: ChangeFields,
}

impl ComposeValues {
    fn from_form(form: &FormData) -> ComposeValues {
        let kind = form.get("kind").unwrap_or_else(|| "news".into());
        ComposeValues {
            post: PostFields {
                lang: form.get("lang"),
                title: form.text("title"),
                body: form.text("body"),
                translation_lang: form.get("translation_lang"),
                translation_title: form.get("translation_title"),
                translation_body: Some(form.text("translation_body")).filter(|b| !b.trim().is_empty()),
                publish_at: form.get("publish_at"),
            },
            change: ChangeFields {
                change_type: kind.clone(),
                services: form.all("services"),
                impact: form.get("impact"),
                status: form.get("status"),
                registration: form.get("registration"),
                new_url: form.get("new_url"),
                start: form.get("start"),
                end: form.get("end"),
            },
            kind,
        }
    }
    fn is_news(&self) -> bool {
        self.kind == "news"
    }
    /// The drafts, checked for their types (the domain checks the rest).
    fn drafts(
        &self,
        state: &AppState,
    ) -> Result<(crate::bulletin::PostDraft, Option<crate::bulletin::ChangeDraft>), FederationError> {
        let tz = state.config.timezone();
        let post = self.post.draft(tz).map_err(bulletin_error)?;
        let change = if self.is_news() { None } else { Some(self.change.draft(tz).map_err(bulletin_error)?) };
        Ok((post, change))
    }
}

pub struct ServiceChoice {
    pub slug: String,
    pub name: String,
    pub checked: bool,
}

/// A preview: what Mastodon shows, in each language of the post.
pub struct Preview {
    pub lang: String,
    pub html: String,
}

#[derive(Template)]
#[template(path = "admin/compose.html")]
struct ComposePage<'a> {
    page: Page<'a>,
    values: ComposeValues,
    kinds: Vec<Opt>,
    kind_title: String,
    services: Vec<ServiceChoice>,
    languages: Vec<Opt>,
    impacts: Vec<Opt>,
    statuses: Vec<Opt>,
    registrations: Vec<Opt>,
    error: Option<FieldError>,
    previews: Vec<Preview>,
    timezone: String,
    handle: String,
    avatar: String,
    compose_url: String,
    preview_url: String,
    script_url: String,
}

impl ComposePage<'_> {
    fn is(&self, kind: &str) -> bool {
        self.values.kind == kind
    }
    fn invalid(&self, field: &str) -> bool {
        self.error.as_ref().is_some_and(|e| e.field == field)
    }
}

async fn compose_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    values: ComposeValues,
    error: Option<FieldError>,
    previews: Vec<Preview>,
) -> Result<HttpResponse, PageError> {
    let page = admin_page(state, req, |t| t.get("compose_title")).await?;
    let t = page.t;
    let catalogue = state.db.read(services::list).await?;
    let profile = crate::app::profile::effective(state).await?;
    let template = ComposePage {
        kinds: COMPOSE_KINDS
            .iter()
            .map(|k| Opt { value: k.to_string(), label: kind_title(t, k), selected: values.kind == *k })
            .collect(),
        kind_title: kind_title(t, &values.kind),
        services: catalogue
            .iter()
            .map(|s| ServiceChoice {
                slug: s.slug.clone(),
                name: s.name.clone(),
                checked: values.change.services.contains(&s.slug),
            })
            .collect(),
        languages: state
            .config
            .account
            .languages
            .iter()
            .map(|l| Opt {
                value: l.clone(),
                label: state.texts.language_name(l),
                selected: values.post.lang.as_deref() == Some(l.as_str()),
            })
            .collect(),
        impacts: views::options_of::<Impact>(t, values.change.impact.as_deref()),
        statuses: views::options_of::<ServiceStatus>(t, values.change.status.as_deref()),
        registrations: views::options_of::<Registration>(t, values.change.registration.as_deref()),
        error,
        previews,
        timezone: state.config.timezone().name().to_string(),
        handle: state.config.handle(),
        avatar: profile
            .logo
            .clone()
            .filter(|l| l.starts_with("http"))
            .unwrap_or_else(|| state.urls.asset("logo.svg").to_string()),
        compose_url: state.urls.admin("compose").to_string(),
        preview_url: state.urls.admin("preview").to_string(),
        script_url: state.urls.asset("compose.js").to_string(),
        values,
        page,
    };
    render(req, status, &template)
}

pub async fn compose_form(
    fed: web::Data<Federation>,
    req: HttpRequest,
    _admin: Admin,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let kind = url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "kind")
        .map(|(_, v)| v.into_owned())
        .filter(|k| COMPOSE_KINDS.contains(&k.as_str()))
        .unwrap_or_else(|| "news".into());
    let values = ComposeValues {
        change: ChangeFields { change_type: kind.clone(), ..Default::default() },
        kind,
        ..Default::default()
    };
    compose_page(state, &req, StatusCode::OK, values, None, vec![]).await
}

async fn previews_of(state: &AppState, values: &ComposeValues) -> Result<Vec<Preview>, FederationError> {
    let (post, change) = values.drafts(state)?;
    Ok(crate::app::bulletins::preview(state, post, change)
        .await?
        .into_iter()
        .map(|(lang, html)| Preview { lang, html })
        .collect())
}

/// POST /admin/compose: `action=preview` shows what would be published; `action=publish`
/// publishes (or schedules, with a publication time).
pub async fn compose(
    fed: web::Data<Federation>,
    req: HttpRequest,
    AdminForm(form): AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let values = ComposeValues::from_form(&form);
    if form.get("action").as_deref() == Some("preview") {
        return match previews_of(state, &values).await {
            Ok(previews) => compose_page(state, &req, StatusCode::OK, values, None, previews).await,
            Err(e) => {
                compose_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, values, Some(form_error(e)?), vec![]).await
            }
        };
    }
    let published = async {
        let (post, change) = values.drafts(state)?;
        match change {
            None => crate::app::bulletins::publish_post(state, post).await,
            Some(change) => crate::app::bulletins::publish_change(state, post, change).await,
        }
    }
    .await;
    match published {
        Ok(b) => {
            let done = if b.federated_at.is_some() { "published" } else { "scheduled" };
            Ok(see_other(format!("{}?done={done}", state.urls.admin(&format!("bulletins/{}", b.id)))))
        }
        Err(e) => {
            compose_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, values, Some(form_error(e)?), vec![]).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin/preview.html")]
struct PreviewFragment<'a> {
    t: &'a Texts,
    previews: Vec<Preview>,
    error: Option<String>,
}

/// POST /admin/preview: the preview alone, for the compose page's live preview script.
pub async fn preview_fragment(
    fed: web::Data<Federation>,
    req: HttpRequest,
    AdminForm(form): AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let t = state.texts.texts(crate::web::i18n::choose(&req, state.config.default_language()));
    let values = ComposeValues::from_form(&form);
    let (status, previews, error) = match previews_of(state, &values).await {
        Ok(previews) => (StatusCode::OK, previews, None),
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, vec![], Some(form_error(e)?.message)),
    };
    render(&req, status, &PreviewFragment { t, previews, error })
}

// ---------------------------------------------------------------- list and manage

pub struct BulletinRow {
    pub admin_url: String,
    pub public_url: String,
    pub title: String,
    pub kind: String,
    pub status: String,
    pub state: Option<views::Badge>,
    pub when: views::When,
}

fn status_of(b: &Bulletin, t: &Texts) -> String {
    let text = if b.is_deleted() {
        t.get("status_deleted")
    } else if b.federated_at.is_none() {
        t.get("status_scheduled")
    } else if b.updated_at.is_some() {
        t.get("status_edited")
    } else {
        t.get("status_published")
    };
    text.to_string()
}

#[derive(Template)]
#[template(path = "admin/bulletins.html")]
struct ListPage<'a> {
    page: Page<'a>,
    rows: Vec<BulletinRow>,
    compose_url: String,
}

pub async fn list(fed: web::Data<Federation>, req: HttpRequest, _admin: Admin) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let page = admin_page(state, &req, |t| t.get("admin_bulletins")).await?;
    let t = page.t;
    let all = state.db.read(|c| rows::list_all(c, 200)).await?;
    let template = ListPage {
        rows: all
            .iter()
            .map(|b| BulletinRow {
                admin_url: state.urls.admin(&format!("bulletins/{}", b.id)).to_string(),
                public_url: state.urls.bulletin(&b.id).to_string(),
                title: b.title.clone(),
                kind: views::kind_label(b, t),
                status: status_of(b, t),
                state: b.meta().state.map(|s| views::state_badge(s, t)),
                when: views::when(state, b.published_at, t.lang),
            })
            .collect(),
        compose_url: state.urls.admin("compose").to_string(),
        page,
    };
    render(&req, StatusCode::OK, &template)
}

#[derive(Template)]
#[template(path = "admin/bulletin.html")]
struct ManagePage<'a> {
    page: Page<'a>,
    done: Option<String>,
    error: Option<FieldError>,
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
    follow_ups: Vec<views::BulletinCard>,
}

impl ManagePage<'_> {
    fn invalid(&self, field: &str) -> bool {
        self.error.as_ref().is_some_and(|e| e.field == field)
    }
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
    error: Option<FieldError>,
) -> Result<HttpResponse, PageError> {
    let key = id.to_string();
    let url = state.urls.bulletin(id).to_string();
    let found = state
        .db
        .read(move |c| {
            let Some(b) = rows::find(c, &key)? else { return Ok(None) };
            Ok(Some((rows::translations(c, &key)?, rows::replies(c, &url)?, b)))
        })
        .await?;
    let (translations, replies, b) = found.ok_or(PageError::NotFound)?;
    let page = admin_page(state, req, |t| t.get("manage_bulletin")).await?;
    let t = page.t;
    let meta = b.meta();
    let open = meta.state.is_some_and(|s| s.is_open());
    let translation = translations.first();
    let template = ManagePage {
        done: done_message(req, t),
        error,
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
        timezone: state.config.timezone().name().to_string(),
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
    let result: Result<&str, FederationError> = async {
        match action.as_str() {
            "edit" => {
                let translation = form.get("translation_lang").map(|lang| crate::bulletin::TextDraft {
                    lang: Some(lang),
                    title: form.text("translation_title"),
                    body_markdown: form.text("translation_body"),
                });
                let edit = crate::app::bulletins::NewsEdit {
                    title: Some(form.text("title")),
                    body_markdown: Some(form.text("body")),
                    lang: None,
                    translation,
                };
                crate::app::bulletins::edit_news(state, &id, edit).await.map(|_| "edited")
            }
            "delete" => crate::app::bulletins::delete_bulletin(state, &id).await.map(|_| "deleted"),
            "follow-up" => {
                let new_state =
                    ChangeState::parse("state", &form.get("state").unwrap_or_default()).map_err(bulletin_error)?;
                let status = forms::choice_field("status", &form.get("status")).map_err(bulletin_error)?;
                let fields = PostFields {
                    lang: form.get("lang"),
                    title: form.text("title"),
                    body: form.text("body"),
                    ..Default::default()
                };
                let draft = fields.draft(tz).map_err(bulletin_error)?;
                crate::app::bulletins::post_follow_up(state, &id, draft, new_state, status).await.map(|_| "follow_up")
            }
            "reschedule" => {
                let start = forms::time_field("start", &form.get("start"), tz).map_err(bulletin_error)?;
                let end = forms::time_field("end", &form.get("end"), tz).map_err(bulletin_error)?;
                match (start, end) {
                    (Some(start), Some(end)) => {
                        crate::app::bulletins::reschedule(state, &id, start, end).await.map(|_| "rescheduled")
                    }
                    (None, _) => {
                        Err(bulletin_error(BulletinError::Invalid { field: "start", reason: "is required".into() }))
                    }
                    (_, None) => {
                        Err(bulletin_error(BulletinError::Invalid { field: "end", reason: "is required".into() }))
                    }
                }
            }
            "cancel" => crate::app::bulletins::cancel(state, &id).await.map(|_| "cancelled"),
            _ => Err(bulletin_error(BulletinError::NotFound(action.clone()))),
        }
    }
    .await;
    match result {
        Ok(done) => Ok(see_other(format!("{}?done={done}", state.urls.admin(&format!("bulletins/{id}"))))),
        Err(FederationError::Bulletin(BulletinError::NotFound(_))) => Err(PageError::NotFound),
        Err(e) => manage_page(state, &req, &id, StatusCode::UNPROCESSABLE_ENTITY, Some(form_error(e)?)).await,
    }
}
