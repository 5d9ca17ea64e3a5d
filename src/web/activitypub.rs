//! ActivityPub documents: actors, collections, bulletins (as Notes) and our public activities.
//! All readable without a signature, so any server can fetch our keys and posts.

use super::state_of;
use super::{activity_json, error::ApiError, html, pages, wants_activity_json};
use crate::federation::{
    actors,
    collections::{self, ActivityAt, BulletinAt},
    documents::{note_json_ld, with_context},
    Federation,
};
use actix_web::ResponseError;
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use serde::Deserialize;

/// True when `name` is the collective's Group (the role on).
fn is_group(fed: &Federation, name: &str) -> bool {
    state_of(fed).config.collective_account() == Some(name)
}

fn check_account(fed: &Federation, name: &str) -> Result<(), ApiError> {
    if name == state_of(fed).config.account.name {
        Ok(())
    } else {
        Err(ApiError::not_found(&format!("account `{name}`")))
    }
}

pub async fn host_actor(
    fed: web::Data<Federation>,
    req: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if is_group(&fed, &name) {
        return group_actor(&fed, &req).await;
    }
    check_account(&fed, &name)?;
    let state = state_of(&fed);
    if !wants_activity_json(&req) {
        return Ok(pages::host_page(state, &req).await.unwrap_or_else(|e| e.error_response()));
    }
    let account = crate::app::profile::effective(state).await?;
    let doc = actors::host_actor_doc(state, &account).await?;
    Ok(activity_json(StatusCode::OK, &doc))
}

/// The collective's Group; a browser is sent to the status page.
async fn group_actor(fed: &Federation, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let state = state_of(fed);
    if !wants_activity_json(req) {
        return Ok(HttpResponse::SeeOther()
            .insert_header((actix_web::http::header::LOCATION, state.urls.status_page().to_string()))
            .finish());
    }
    let doc = actors::group_actor_doc(state).await?.ok_or_else(|| ApiError::not_found("account"))?;
    Ok(activity_json(StatusCode::OK, &doc))
}

/// The collective's roster, a public collection on its Group.
pub async fn members(fed: web::Data<Federation>, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    if !is_group(&fed, &name) {
        return Err(ApiError::not_found(&format!("collective `{name}`")));
    }
    Ok(activity_json(StatusCode::OK, &crate::federation::collective::members_collection(state_of(&fed)).await?))
}

pub async fn instance_actor(fed: web::Data<Federation>) -> HttpResponse {
    activity_json(StatusCode::OK, &actors::instance_actor_doc(state_of(&fed)))
}

/// The instance actor pins nothing: an empty collection, which GoToSocial expects to find.
pub async fn instance_featured(fed: web::Data<Federation>) -> HttpResponse {
    activity_json(StatusCode::OK, &collections::instance_featured(state_of(&fed)))
}

#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<String>,
    before: Option<String>,
}

pub async fn outbox(
    fed: web::Data<Federation>,
    name: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    if is_group(&fed, &name) {
        return Ok(activity_json(StatusCode::OK, &crate::federation::collective::group_outbox(state_of(&fed)).await?));
    }
    check_account(&fed, &name)?;
    let state = state_of(&fed);
    if query.page.is_none() {
        return Ok(activity_json(StatusCode::OK, &collections::outbox(state).await?));
    }
    Ok(activity_json(StatusCode::OK, &collections::outbox_page(state, query.before.clone()).await?))
}

pub async fn followers(fed: web::Data<Federation>, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    if is_group(&fed, &name) {
        return Ok(activity_json(
            StatusCode::OK,
            &crate::federation::collective::group_followers(state_of(&fed)).await?,
        ));
    }
    check_account(&fed, &name)?;
    Ok(activity_json(StatusCode::OK, &collections::followers(state_of(&fed)).await?))
}

pub async fn following(fed: web::Data<Federation>, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    if is_group(&fed, &name) {
        return Ok(activity_json(StatusCode::OK, &crate::federation::collective::group_following(state_of(&fed))));
    }
    check_account(&fed, &name)?;
    Ok(activity_json(StatusCode::OK, &collections::following(state_of(&fed)).await?))
}

/// Ongoing incidents and upcoming or running maintenance, shown pinned by Mastodon.
pub async fn featured(fed: web::Data<Federation>, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    check_account(&fed, &name)?;
    Ok(activity_json(StatusCode::OK, &collections::featured(state_of(&fed)).await?))
}

pub async fn bulletin(
    fed: web::Data<Federation>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let state = state_of(&fed);
    let json = wants_activity_json(&req);
    match (collections::bulletin(state, &id).await?, json) {
        (BulletinAt::Missing, true) => Err(ApiError::not_found("bulletin")),
        (BulletinAt::Missing, false) => Ok(html::PageError::NotFound.error_response()),
        (BulletinAt::Deleted(tombstone), true) => Ok(activity_json(StatusCode::GONE, &tombstone)),
        (BulletinAt::Deleted(_), false) => Ok(html::PageError::Gone.error_response()),
        (BulletinAt::Published { bulletin, translations }, true) => {
            Ok(activity_json(StatusCode::OK, &note_json_ld(state, &bulletin, &translations)))
        }
        (BulletinAt::Published { bulletin, translations }, false) => {
            Ok(pages::bulletin_page(state, &req, &bulletin, &translations).await.unwrap_or_else(|e| e.error_response()))
        }
    }
}

/// Our public activities resolve at their ids; direct ones (Follow, Accept…) do not. The Create
/// or Update of a bulletin since deleted answers 410, like the bulletin itself.
pub async fn activity(fed: web::Data<Federation>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    match collections::activity(state_of(&fed), &id).await? {
        ActivityAt::Missing => Err(ApiError::not_found("activity")),
        ActivityAt::Gone(tombstone) => Ok(activity_json(StatusCode::GONE, &tombstone)),
        ActivityAt::Stored(doc) => Ok(activity_json(StatusCode::OK, &doc)),
    }
}

/// The service catalogue: every service with its current status (derived from service changes).
pub async fn services_collection(
    fed: web::Data<Federation>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    check_account(&fed, &name)?;
    Ok(activity_json(StatusCode::OK, &collections::services(state_of(&fed)).await?))
}

pub async fn service(
    fed: web::Data<Federation>,
    req: HttpRequest,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if !wants_activity_json(&req) {
        return Ok(pages::service_page(state_of(&fed), &req, &slug).await.unwrap_or_else(|e| e.error_response()));
    }
    let doc = collections::service(state_of(&fed), &slug).await?.ok_or_else(|| ApiError::not_found("service"))?;
    Ok(activity_json(StatusCode::OK, &with_context(doc)))
}

/// The label: the charter graded, criterion by criterion, with comments and evidence.
pub async fn label(fed: web::Data<Federation>, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    check_account(&fed, &name)?;
    Ok(activity_json(StatusCode::OK, &collections::label(state_of(&fed)).await?))
}
