//! Compose a bulletin, with its preview (on the page and as a fragment for the live preview).

use super::{
    common::{admin_page, form_errors, see_other, visitor_texts, FormData, FormErrors},
    session::{Admin, AdminForm},
};
use crate::{
    app::{bulletins, AppResult},
    bulletin::{
        self,
        forms::{ChangeFields, PostFields},
        vocab::*,
    },
    federation::Federation,
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

/// The form's values, echoed back after a preview or an error.
#[derive(Default)]
pub struct ComposeValues {
    pub kind: String,
    pub post: PostFields,
    pub change: ChangeFields,
}

impl ComposeValues {
    pub fn from_form(form: &FormData) -> ComposeValues {
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
    ) -> AppResult<(crate::bulletin::PostDraft, Option<crate::bulletin::ChangeDraft>)> {
        let tz = state.config.timezone();
        let mut refusals = crate::refusal::Refusals::new();
        let post = bulletin::collect(&mut refusals, self.post.draft(tz));
        let change = if self.is_news() { None } else { bulletin::collect(&mut refusals, self.change.draft(tz)) };
        match (post, change) {
            (Some(post), change) if refusals.is_empty() => Ok((post, change)),
            _ => {
                // The texts are checked too, so that every refusal shows at once.
                let translation = self.post.translation();
                bulletin::check_texts(
                    &mut refusals,
                    &state.config,
                    &self.post.main(),
                    translation.as_ref(),
                    self.is_news(),
                );
                Err(bulletin::BulletinError::Fields(refusals.into_vec()).into())
            }
        }
    }
}

pub struct ServiceChoice {
    pub slug: String,
    pub name: String,
    pub checked: bool,
}

/// The preview: what Mastodon shows, the Note's `content` (the post's main language), with a
/// note naming the translation that travels beside it in `contentMap`.
pub struct Preview {
    pub lang: String,
    pub html: String,
    pub note: Option<String>,
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
    errors: FormErrors,
    previews: Vec<Preview>,
    timezone: String,
    window_label: String,
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
}

async fn compose_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    values: ComposeValues,
    errors: FormErrors,
    previews: Vec<Preview>,
) -> Result<HttpResponse, PageError> {
    let page = admin_page(state, req, |t| t.get("compose_title")).await?;
    let t = page.t;
    let catalogue = crate::app::catalogue::list(state).await?;
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
        errors,
        previews,
        timezone: crate::bulletin::content::zone_name(state.config.timezone(), t),
        window_label: views::window_label(state, t),
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
    compose_page(state, &req, StatusCode::OK, values, FormErrors::default(), vec![]).await
}

/// Mastodon displays a Note's `content` only: the preview shows that, and says in which
/// languages the translations travel (`contentMap`, for the servers that read it).
async fn previews_of(state: &AppState, values: &ComposeValues, t: &Texts) -> AppResult<Vec<Preview>> {
    let (post, change) = values.drafts(state)?;
    let mut texts = bulletins::preview(state, post, change).await?.into_iter();
    let Some((lang, html)) = texts.next() else { return Ok(vec![]) };
    let others: Vec<String> = texts.map(|(other, _)| state.texts.language_name_in(&other, t)).collect();
    let note =
        (!others.is_empty()).then(|| t.fill("reading.preview_translation", &[("translation", &others.join(", "))]));
    Ok(vec![Preview { lang, html, note }])
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
        let t = state.texts.texts(crate::web::i18n::choose(&req, state.config.default_language()));
        return match previews_of(state, &values, t).await {
            Ok(previews) => compose_page(state, &req, StatusCode::OK, values, FormErrors::default(), previews).await,
            Err(e) => {
                let errors = form_errors(e, visitor_texts(state, &req), "")?;
                compose_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, values, errors, vec![]).await
            }
        };
    }
    let published = async {
        let (post, change) = values.drafts(state)?;
        match change {
            None => bulletins::publish_post(state, post).await,
            Some(change) => bulletins::publish_change(state, post, change).await,
        }
    }
    .await;
    match published {
        Ok(b) => {
            let done = if b.federated_at.is_some() { "published" } else { "scheduled" };
            Ok(see_other(format!("{}?done={done}", state.urls.admin(&format!("bulletins/{}", b.id)))))
        }
        Err(e) => {
            let errors = form_errors(e, visitor_texts(state, &req), "")?;
            compose_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, values, errors, vec![]).await
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
    let (status, previews, error) = match previews_of(state, &values, t).await {
        Ok(previews) => (StatusCode::OK, previews, None),
        Err(e) => {
            let lines: Vec<String> = form_errors(e, t, "")?.errors.iter().map(|e| e.line(t)).collect();
            (StatusCode::UNPROCESSABLE_ENTITY, vec![], Some(lines.join(" ")))
        }
    };
    render(&req, status, &PreviewFragment { t, previews, error })
}
