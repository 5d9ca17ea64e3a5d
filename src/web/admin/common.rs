//! What the admin pages share: the submitted form, the redirect after a change and its message,
//! the page frame, and the refusals shown on a form.

use crate::{
    app::{
        bulletins::{Bulletin, Publication},
        AppError,
    },
    state::AppState,
    web::{
        html::{page, Page, PageError, Section},
        i18n::Texts,
    },
};
use actix_web::{http::header, web, HttpRequest, HttpResponse};

/// A submitted form: `application/x-www-form-urlencoded`, with repeated names kept (the
/// services a change is about).
pub struct FormData(Vec<(String, String)>);

impl FormData {
    pub fn parse(body: &[u8]) -> FormData {
        FormData(url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }
    /// The value, trimmed; None when absent or empty.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).filter(|v| !v.is_empty())
    }
    /// The value as typed (a body keeps its line breaks), empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.replace("\r\n", "\n")).unwrap_or_default()
    }
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}

/// After a change, back to a page with a message (`?done=` names it; the page translates it).
pub fn see_other(location: impl Into<String>) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location.into())).finish()
}

/// The translated message for a `?done=` after a redirect.
pub fn done_message(req: &HttpRequest, t: &Texts) -> Option<String> {
    let done = url::form_urlencoded::parse(req.query_string().as_bytes()).find(|(k, _)| k == "done")?.1.into_owned();
    let message = match done.as_str() {
        "published" => t.get("done_published"),
        "scheduled" => t.get("done_scheduled"),
        "edited" => t.get("done_edited"),
        "deleted" => t.get("done_deleted"),
        "follow_up" => t.get("done_follow_up"),
        "rescheduled" => t.get("done_rescheduled"),
        "cancelled" => t.get("done_cancelled"),
        "saved" => t.get("done_saved"),
        "removed" => t.get("done_removed"),
        "followed" => t.get("done_followed"),
        "unfollowed" => t.get("done_unfollowed"),
        "blocked" => t.get("done_blocked"),
        "unblocked" => t.get("done_unblocked"),
        "approved" => t.get("done_approved"),
        "retried" => t.get("done_retried"),
        "revoked" => t.get("done_revoked"),
        "imported" => t.get("chatonsinfos.done"),
        _ => return None,
    };
    Some(message.to_string())
}

/// An admin page's frame.
pub async fn admin_page<'a>(
    state: &'a AppState,
    req: &HttpRequest,
    title: fn(&Texts) -> &str,
) -> Result<Page<'a>, PageError> {
    let mut page = page(state, req, Section::Admin, String::new()).await?;
    page.title = title(page.t).to_string();
    Ok(page)
}

/// The texts of the visitor's language, for a refusal worded before the page is built.
pub(super) fn visitor_texts<'a>(state: &'a AppState, req: &HttpRequest) -> &'a Texts {
    state.texts.texts(crate::web::i18n::choose(req, state.config.default_language()))
}

/// The one mapping of the use-cases' error to a page: what the visitor can fix is shown on the
/// form (every field refused, worded in `t`'s language); something that does not exist is the
/// 404 page; anything else is the error page (its cause goes to the log). `prefix` keeps the
/// ids apart when a page has several forms.
pub(super) fn form_errors(e: AppError, t: &Texts, prefix: &str) -> Result<FormErrors, PageError> {
    match e {
        AppError::NotFound(_) => Err(PageError::NotFound),
        AppError::Db(e) => Err(e.into()),
        AppError::Internal(cause) => Err(PageError::Internal(cause)),
        refused => {
            let refusals = refused.refusals();
            let errors = if refusals.is_empty() {
                let message = match &refused {
                    AppError::Conflict { reason, .. } => reason.words(t),
                    // The other server's or the network's own words, framed in the visitor's.
                    AppError::Unreachable { reason, .. } => t.fill("forms.unreachable", &[("reason", reason)]),
                    other => other.to_string(),
                };
                vec![FieldError {
                    field: String::new(),
                    label: String::new(),
                    message,
                    id: format!("{prefix}form-error"),
                }]
            } else {
                refusals
                    .iter()
                    .map(|r| {
                        // `id` names what the page acts on, no field of its form: its refusal
                        // stands alone above the form.
                        let field = if r.field == "id" { String::new() } else { form_name(&r.field) };
                        FieldError {
                            label: field_label(t, &field),
                            message: r.reason.words(t),
                            id: format!("{prefix}error-{field}"),
                            field,
                        }
                    })
                    .collect()
            };
            Ok(FormErrors { errors, prefix: prefix.to_string() })
        }
    }
}

/// A domain field (`publish-at`, `service`) as the forms name their inputs (`publish_at`,
/// `services`).
fn form_name(field: &str) -> String {
    match field {
        "service" => "services".to_string(),
        other => other.replace('-', "_"),
    }
}

/// The label of a form's field, as the forms show it; empty for a field no form labels.
fn field_label(t: &Texts, field: &str) -> String {
    let label = match field {
        "title" | "translation_title" => t.get("title"),
        "body" | "translation_body" => t.get("body"),
        "lang" | "translation_lang" => t.get("language"),
        "services" => t.get("services"),
        "start" => t.get("start"),
        "end" => t.get("end"),
        "impact" => t.get("impact"),
        "status" => t.get("service_status"),
        "registration" => t.get("registrations"),
        "new_url" => t.get("new_address"),
        "publish_at" => t.get("publish_at"),
        "slug" => t.get("slug"),
        "name" => t.get("name"),
        "software" => t.get("software"),
        "url" => t.get("address"),
        "audience" => t.get("audience"),
        "description" => t.get("description"),
        "display_name" => t.get("display_name"),
        "summary" => t.get("summary"),
        "structure_type" => t.get("structure"),
        "country" => t.get("country"),
        "region" => t.get("region"),
        "website" => t.get("website"),
        "contact" => t.get("contact"),
        "logo" => t.get("logo"),
        "file" => t.get("file"),
        "kinds" => t.get("kind"),
        "events" => t.get("notify.event"),
        "email" => t.get("notify.email"),
        "domain" => t.get("domain"),
        "handle" => t.get("handle"),
        "target" => t.get("peer_handle"),
        "username" => t.get("username"),
        "password" => t.get("password"),
        _ => "",
    };
    let label = label.to_string();
    if field.starts_with("translation_") && !label.is_empty() {
        format!("{} ({label})", t.get("translation"))
    } else {
        label
    }
}

/// The message of a refusal in the visitor's language, for the pages that show one box above the
/// form.
pub(super) fn refusal(state: &AppState, req: &HttpRequest, e: AppError) -> Result<Option<String>, PageError> {
    let t = visitor_texts(state, req);
    Ok(Some(form_errors(e, t, "")?.errors.iter().map(|e| e.line(t)).collect::<Vec<_>>().join(" ")))
}

/// The fields a form refuses, each with its message in the visitor's language.
#[derive(Clone, Default)]
pub struct FormErrors {
    pub errors: Vec<FieldError>,
    pub prefix: String,
}

impl FormErrors {
    /// The refusal of the input `field` (as the form names it), if it is refused.
    pub fn of(&self, field: &str) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.field == field)
    }
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
    /// The summary's heading: how many fields to correct.
    pub fn heading(&self, t: &Texts) -> String {
        t.count("forms_summary", self.errors.len())
    }
}

/// An error shown next to its field (`field` as the form names the input; empty for an error
/// about no field).
#[derive(Clone)]
pub struct FieldError {
    pub field: String,
    pub label: String,
    pub message: String,
    /// The id of the message's element, for the input's `aria-describedby`.
    pub id: String,
}

impl FieldError {
    /// "Title: must not be empty", as the summary above the form lists it.
    pub fn line(&self, t: &Texts) -> String {
        match (self.label.as_str(), self.field.as_str()) {
            ("", "") => self.message.clone(),
            ("", field) => format!("{field}{} {}", t.get("colon"), self.message),
            (label, _) => format!("{label}{} {}", t.get("colon"), self.message),
        }
    }
}

pub(super) fn status_of(b: &Bulletin, t: &Texts) -> String {
    let text = match Publication::of(b) {
        Publication::Deleted => t.get("status_deleted"),
        Publication::Scheduled => t.get("status_scheduled"),
        Publication::Edited => t.get("status_edited"),
        Publication::Published => t.get("status_published"),
    };
    text.to_string()
}

// ---------------------------------------------------------------- logo uploads

/// The logo upload form (`multipart/form-data`: the `csrf` token and the file `logo`), read
/// capped at `media.max_logo_bytes`, its CSRF token checked against the session's. The upload,
/// or the refusal of a file over the limit (`app::media::too_big`).
pub async fn logo_upload(
    state: &AppState,
    req: &HttpRequest,
    csrf: &str,
    payload: web::Payload,
) -> Result<Result<crate::app::media::Upload, AppError>, PageError> {
    use futures::StreamExt;
    let max = state.config.media.max_logo_bytes;
    let mut form = actix_multipart::Multipart::new(req.headers(), payload);
    let (mut sent_csrf, mut upload, mut too_big) = (String::new(), None, false);
    // The whole form is read up to this many bytes, however many parts it has.
    let mut budget = crate::web::media::DRAIN_LIMIT;
    while let Some(field) = form.next().await {
        // A body that is not multipart, or broken: nothing usable, the token check refuses it.
        let Ok(mut field) = field else { break };
        match field.name() {
            Some("csrf") => {
                if let Ok(Some(bytes)) = crate::web::media::read_capped(&mut field, 1024, &mut budget).await {
                    sent_csrf = String::from_utf8_lossy(&bytes).trim().to_string();
                }
            }
            Some("logo") => {
                let declared = field.content_type().map(|m| m.essence_str().to_string());
                match crate::web::media::read_capped(&mut field, max, &mut budget).await {
                    Ok(Some(bytes)) => {
                        upload = Some(crate::app::media::Upload { bytes, declared_type: declared });
                    }
                    Ok(None) => too_big = true,
                    Err(_) => break,
                }
            }
            _ => {
                let _ = crate::web::media::read_capped(&mut field, 0, &mut budget).await;
            }
        }
        if budget == 0 {
            // A form larger than the logo page ever sends: not read further (the next part
            // would read the rest of this one), refused as too big after the token check.
            too_big = true;
            break;
        }
    }
    if !crate::app::admins::same_token(&sent_csrf, csrf) {
        return Err(PageError::Csrf);
    }
    if too_big {
        return Ok(Err(crate::app::media::too_big(state)));
    }
    Ok(Ok(upload.unwrap_or(crate::app::media::Upload { bytes: vec![], declared_type: None })))
}
