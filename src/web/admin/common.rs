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

/// The one mapping of the use-cases' error to a page: what the visitor can fix is shown on the
/// form (the field named); something that does not exist is the 404 page; anything else is the
/// error page (its cause goes to the log).
pub(super) fn form_error(e: AppError) -> Result<FieldError, PageError> {
    match e {
        AppError::NotFound(_) => Err(PageError::NotFound),
        AppError::Db(e) => Err(e.into()),
        AppError::Internal(cause) => Err(PageError::Internal(cause)),
        refused => {
            Ok(FieldError { field: refused.field().unwrap_or_default().to_string(), message: refused.to_string() })
        }
    }
}

/// The message of a refusal, for the pages that show one message above the form.
pub(super) fn refusal(e: AppError) -> Result<Option<String>, PageError> {
    Ok(Some(form_error(e)?.message))
}

/// An error shown next to its field.
pub struct FieldError {
    pub field: String,
    pub message: String,
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
