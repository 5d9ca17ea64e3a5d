//! What every HTML page shares: the frame's data (site name, navigation, language switch, feeds,
//! the admin's session), rendering, the embedded assets, and the errors pages show.

use super::i18n::{self, Texts};
use crate::{
    db::{DbError, Outage},
    state::AppState,
};
use actix_web::{
    body::{BoxBody, MessageBody},
    cookie::{Cookie, SameSite},
    dev::{ServiceRequest, ServiceResponse},
    http::{header, Method, StatusCode},
    middleware::Next,
    web, HttpMessage, HttpRequest, HttpResponse, ResponseError,
};
use askama::Template;

/// The sections of the navigation, to mark the current one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Section {
    Host,
    Status,
    Timeline,
    Directory,
    /// The collective role's pages.
    Collective,
    Admin,
    None,
}

pub struct LangLink {
    pub code: &'static str,
    pub name: String,
    pub href: String,
    pub current: bool,
}

pub struct FeedLink {
    pub title: String,
    pub mime: &'static str,
    pub href: String,
}

/// OpenGraph tags, for the preview card Mastodon builds from a link.
pub struct OpenGraph {
    pub kind: &'static str,
    pub title: String,
    pub description: String,
    pub url: String,
    pub locale: String,
    /// The host's logo, when it has one (`og:image`).
    pub image: Option<String>,
}

/// The signed-in admin, with the CSRF token every form of theirs carries.
#[derive(Clone)]
pub struct AdminView {
    pub username: String,
    pub csrf: String,
}

/// The cookie of an admin's session (set at login, see `admin::session`).
pub const SESSION_COOKIE: &str = "ronron_session";

/// The admin whose session cookie this request carries, if any (looked up once per request): the
/// frame shows them, and the admin pages' extractors (`admin::session`) require them.
pub async fn current_admin(state: &AppState, req: &HttpRequest) -> Result<Option<AdminView>, PageError> {
    if let Some(view) = req.extensions().get::<AdminView>() {
        return Ok(Some(view.clone()));
    }
    let Some(cookie) = req.cookie(SESSION_COOKIE) else { return Ok(None) };
    let session =
        crate::app::admins::session(state, cookie.value()).await.map_err(|e| PageError::Internal(e.to_string()))?;
    let view = session.map(|s| AdminView { username: s.username, csrf: s.csrf_token });
    if let Some(view) = &view {
        req.extensions_mut().insert(view.clone());
    }
    Ok(view)
}

/// Everything the page frame (`templates/layout.html`) shows around a page's own content.
pub struct Page<'a> {
    pub t: &'a Texts,
    pub lang: &'static str,
    pub title: String,
    pub site_name: String,
    pub handle: String,
    pub section: Section,
    pub langs: Vec<LangLink>,
    pub home_url: String,
    pub status_url: String,
    pub timeline_url: String,
    pub directory_url: String,
    /// The collective's status page, when the collective role is on.
    pub collective_url: Option<String>,
    pub admin_url: String,
    pub css_url: String,
    pub icon_url: String,
    pub activity_alternate: Option<String>,
    pub feeds: Vec<FeedLink>,
    pub og: Option<OpenGraph>,
    pub admin: Option<AdminView>,
    /// Allow search engines (admin pages say no).
    pub noindex: bool,
}

impl<'a> Page<'a> {
    pub fn is(&self, section: Section) -> bool {
        self.section == section
    }

    /// The `<title>`: the page's title then the site's name, which is not repeated when the
    /// title already holds it (the host page is titled with the host's name).
    pub fn full_title(&self) -> String {
        let (title, site) = (self.title.trim(), self.site_name.as_str());
        if title.is_empty() {
            site.to_string()
        } else if title.contains(site) {
            title.to_string()
        } else {
            format!("{title} — {site}")
        }
    }
}

/// The frame for a page of `section`, in the visitor's language.
pub async fn page<'a>(
    state: &'a AppState,
    req: &HttpRequest,
    section: Section,
    title: impl Into<String>,
) -> Result<Page<'a>, PageError> {
    let lang = i18n::choose(req, state.config.default_language());
    let profile = crate::app::profile::effective(state).await?;
    let admin = current_admin(state, req).await?;
    Ok(Page {
        t: state.texts.texts(lang),
        lang,
        title: title.into(),
        site_name: profile.display_name,
        handle: state.config.handle(),
        section,
        langs: i18n::LANGS
            .into_iter()
            .map(|code| LangLink {
                code,
                name: state.texts.language_name(code),
                href: switch_href(req, code),
                current: code == lang,
            })
            .collect(),
        home_url: state.urls.host_actor().to_string(),
        status_url: state.urls.status_page().to_string(),
        timeline_url: state.urls.timeline_page().to_string(),
        directory_url: state.urls.directory_page().to_string(),
        collective_url: crate::app::collective_pages::role_on(state)
            .then(|| state.urls.collective_status().to_string()),
        admin_url: state.urls.admin("").to_string(),
        css_url: state.urls.asset("style.css").to_string(),
        icon_url: state.urls.asset("logo.svg").to_string(),
        activity_alternate: None,
        feeds: Vec::new(),
        og: None,
        admin,
        noindex: section == Section::Admin,
    })
}

/// The current path and query with `lang` set to `code` (other parameters kept).
fn switch_href(req: &HttpRequest, code: &str) -> String {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(k, _)| k != "lang" && k != "done")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.push(("lang".into(), code.into()));
    let query: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    format!("{}?{query}", req.path())
}

/// Renders a page; a `?lang=` switch is remembered in a cookie for the next pages.
pub fn render(req: &HttpRequest, status: StatusCode, template: &impl Template) -> Result<HttpResponse, PageError> {
    let body = template.render().map_err(|e| PageError::Internal(e.to_string()))?;
    let mut response = HttpResponse::build(status);
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::VARY, "Accept, Accept-Language, Cookie"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("Referrer-Policy", "same-origin"))
        .insert_header((header::CONTENT_SECURITY_POLICY, super::CONTENT_SECURITY_POLICY));
    if let Some(lang) = i18n::query_lang(req) {
        response.cookie(
            Cookie::build(i18n::LANG_COOKIE, lang)
                .path("/")
                .same_site(SameSite::Lax)
                .max_age(actix_web::cookie::time::Duration::days(365))
                .finish(),
        );
    }
    Ok(response.body(body))
}

// ---------------------------------------------------------------- assets

/// The stylesheet and script, embedded so the binary is the whole site. Their URLs carry no
/// version, so caches revalidate daily; an ETag makes that cheap.
const ASSETS: &[(&str, &str, &str)] = &[
    ("style.css", "text/css; charset=utf-8", include_str!("../../assets/web/style.css")),
    ("compose.js", "text/javascript; charset=utf-8", include_str!("../../assets/web/compose.js")),
    ("logo.svg", "image/svg+xml", include_str!("../../assets/web/logo.svg")),
];

pub async fn asset(req: HttpRequest, name: web::Path<String>) -> HttpResponse {
    let Some((_, mime, body)) = ASSETS.iter().find(|(n, _, _)| *n == name.as_str()) else {
        return HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("no such asset");
    };
    let etag = format!("\"{}\"", &crate::app::admins::sha256_hex(body)[..16]);
    let cached = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str());
    let mut response = if cached { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response.insert_header((header::CACHE_CONTROL, "public, max-age=86400")).insert_header((header::ETAG, etag));
    if cached {
        response.finish()
    } else {
        response.content_type(*mime).body(*body)
    }
}

// ---------------------------------------------------------------- errors

/// What can go wrong behind a page. `error_response` says it in every language (it has no
/// request); the `error_pages` middleware replaces that with the visitor's language, framed.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("not found")]
    NotFound,
    #[error("gone")]
    Gone,
    #[error("the form has expired")]
    Csrf,
    #[error("login required")]
    LoginRequired { next: String },
    /// The database's disk is full, or the database cannot be reached: nothing was stored.
    #[error("{cause}")]
    Outage { outage: Outage, cause: String },
    #[error("{0}")]
    Internal(String),
}

impl From<DbError> for PageError {
    fn from(e: DbError) -> Self {
        match e.outage() {
            Some(outage) => PageError::Outage { outage, cause: e.to_string() },
            None => PageError::Internal(e.to_string()),
        }
    }
}

/// A use-case's error where the page has no form to show it on: a missing thing is the 404
/// page, anything else the error page. Pages with a form map refusals with `admin::form_error`.
impl From<crate::app::AppError> for PageError {
    fn from(e: crate::app::AppError) -> Self {
        match e {
            crate::app::AppError::NotFound(_) => PageError::NotFound,
            crate::app::AppError::Db(e) => e.into(),
            other => PageError::Internal(other.to_string()),
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::Gone => StatusCode::GONE,
            PageError::Csrf => StatusCode::FORBIDDEN,
            PageError::LoginRequired { .. } => StatusCode::SEE_OTHER,
            PageError::Outage { outage: Outage::DiskFull, .. } => StatusCode::INSUFFICIENT_STORAGE,
            PageError::Outage { outage: Outage::Unavailable, .. } => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let PageError::LoginRequired { next } = self {
            let target = format!(
                "{}/login?next={}",
                crate::urls::routes::ADMIN,
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            return HttpResponse::SeeOther().insert_header((header::LOCATION, target)).finish();
        }
        match self {
            PageError::Internal(cause) => tracing::error!(error = %cause, "page failed"),
            PageError::Outage { cause, .. } => {
                tracing::error!(error = %cause, "page failed: the database is out of service")
            }
            _ => {}
        }
        // The error has no request to choose a language from: it says it in every language we
        // have, from the embedded catalogues (parsed once; they are compile-time data). The
        // `error_pages` middleware, which has the request, answers in the visitor's language.
        static CATALOG: std::sync::OnceLock<crate::i18n::Catalog> = std::sync::OnceLock::new();
        let catalog = CATALOG.get_or_init(crate::i18n::Catalog::embedded);
        let kind = self.kind();
        let messages: Vec<ErrorMessage> =
            crate::i18n::LANGS.iter().map(|lang| ErrorMessage::new(lang, kind, catalog.texts(lang))).collect();
        let body = ErrorPage { status: self.status_code().as_u16(), messages }
            .render()
            .unwrap_or_else(|_| self.status_code().to_string());
        HttpResponse::build(self.status_code())
            .content_type("text/html; charset=utf-8")
            .insert_header((header::VARY, "Accept"))
            .body(body)
    }
}

impl PageError {
    fn kind(&self) -> ErrorKind {
        match self {
            PageError::NotFound | PageError::LoginRequired { .. } => ErrorKind::NotFound,
            PageError::Gone => ErrorKind::Gone,
            PageError::Csrf => ErrorKind::Csrf,
            PageError::Outage { outage: Outage::DiskFull, .. } => ErrorKind::DiskFull,
            PageError::Outage { outage: Outage::Unavailable, .. } => ErrorKind::Unavailable,
            PageError::Internal(_) => ErrorKind::Internal,
        }
    }
}

/// What an error page says.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ErrorKind {
    NotFound,
    Gone,
    Csrf,
    DiskFull,
    Unavailable,
    Internal,
}

impl ErrorKind {
    fn message(self, t: &Texts) -> &str {
        match self {
            ErrorKind::NotFound => t.get("error_not_found"),
            ErrorKind::Gone => t.get("error_gone"),
            ErrorKind::Csrf => t.get("error_csrf"),
            ErrorKind::DiskFull => t.get("error_disk_full"),
            ErrorKind::Unavailable => t.get("error_unavailable"),
            ErrorKind::Internal => t.get("error_internal"),
        }
    }

    /// Errors the site's frame can be drawn around: the frame reads the profile from the
    /// database, so an outage or an internal error gets the bare page.
    fn framed(self) -> bool {
        matches!(self, ErrorKind::NotFound | ErrorKind::Gone | ErrorKind::Csrf)
    }
}

/// Whether a request comes from a browser that wants a page: GET or HEAD, `Accept` naming
/// `text/html` and no JSON, outside the JSON API. ActivityPub and API clients keep their JSON.
fn wants_a_page(req: &ServiceRequest) -> bool {
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    matches!(*req.method(), Method::GET | Method::HEAD)
        && accept.contains("text/html")
        && !accept.contains("json")
        && !req.path().starts_with("/api/")
}

/// Error pages in the visitor's language, in the site's frame: every `PageError` answer, and any
/// 404 or 410 sent to a browser (an unknown path, a deleted activity). An error the frame cannot
/// be drawn for (the database out of service, an internal error) gets the bare page, in the
/// visitor's language too. The status, the headers set so far and the recorded error are kept.
pub async fn error_pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let browser = wants_a_page(&req);
    let response = next.call(req).await?.map_into_boxed_body();
    let page_error = response.response().error().and_then(|e| e.as_error::<PageError>());
    let kind = match (page_error, response.status()) {
        (Some(PageError::LoginRequired { .. }), _) => return Ok(response),
        (Some(e), _) => e.kind(),
        (None, StatusCode::NOT_FOUND) if browser => ErrorKind::NotFound,
        (None, StatusCode::GONE) if browser => ErrorKind::Gone,
        _ => return Ok(response),
    };
    let Some(fed) = response.request().app_data::<web::Data<crate::federation::Federation>>().cloned() else {
        return Ok(response);
    };
    let state = super::state_of(&fed);
    let (request, response) = response.into_parts();
    let status = response.status();
    let lang = i18n::choose(&request, state.config.default_language());
    let t = state.texts.texts(lang);
    let framed = if kind.framed() {
        match page(state, &request, Section::None, kind.message(t)).await {
            Ok(page) => FramedError {
                status: status.as_u16(),
                message: kind.message(t).to_string(),
                home: t.get("error_home").to_string(),
                page,
            }
            .render()
            .ok(),
            Err(e) => {
                tracing::warn!(error = %e, "the error page is shown without the site's frame");
                None
            }
        }
    } else {
        None
    };
    let body = framed.unwrap_or_else(|| {
        ErrorPage { status: status.as_u16(), messages: vec![ErrorMessage::new(lang, kind, t)] }
            .render()
            .unwrap_or_else(|_| status.to_string())
    });
    let mut response = response.set_body(BoxBody::new(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::VARY, header::HeaderValue::from_static("Accept, Accept-Language, Cookie"));
    headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-cache"));
    headers.remove(header::CONTENT_LENGTH);
    Ok(ServiceResponse::new(request, response))
}

/// A 404, 410 or 403 in the site's frame.
#[derive(Template)]
#[template(path = "error_page.html")]
struct FramedError<'a> {
    page: Page<'a>,
    status: u16,
    message: String,
    home: String,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    messages: Vec<ErrorMessage>,
}

struct ErrorMessage {
    lang: &'static str,
    text: String,
    home: String,
}

impl ErrorMessage {
    fn new(lang: &'static str, kind: ErrorKind, t: &Texts) -> Self {
        ErrorMessage { lang, text: kind.message(t).to_string(), home: t.get("error_home").to_string() }
    }
}
