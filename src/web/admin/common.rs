//! What the admin pages share: the submitted form, the redirect after a change and its message,
//! the page frame, and the refusals shown on a form.

use crate::{
    bulletin::BulletinError,
    db::models::bulletins::Bulletin,
    federation::FederationError,
    state::AppState,
    web::{
        html::{page, Page, PageError, Section},
        i18n::Texts,
    },
};
use actix_web::{http::header, HttpRequest, HttpResponse};

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

/// A refusal to show on the page (field named), or a server error.
pub(super) fn refusal(message: impl ToString) -> Option<String> {
    Some(message.to_string())
}

pub(super) fn internal(e: impl ToString) -> PageError {
    PageError::Internal(e.to_string())
}

/// An error shown next to its field.
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Turns a domain refusal into a message for the form; anything else is a server error.
pub(super) fn form_error(e: FederationError) -> Result<FieldError, PageError> {
    match e {
        FederationError::Bulletin(BulletinError::Invalid { field, reason }) => {
            Ok(FieldError { field: field.to_string(), message: format!("{field}: {reason}") })
        }
        FederationError::Bulletin(other) => Ok(FieldError { field: String::new(), message: other.to_string() }),
        other => Err(PageError::Internal(other.to_string())),
    }
}

pub(super) fn bulletin_error(e: BulletinError) -> FederationError {
    FederationError::Bulletin(e)
}

pub(super) fn status_of(b: &Bulletin, t: &Texts) -> String {
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
