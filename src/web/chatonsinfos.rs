//! The ChatonsInfos files (`.properties`, UTF-8) that stats.chatons.org's crawler reads.

use super::{error::ApiError, state_of};
use crate::{app::chatonsinfos, federation::Federation};
use actix_web::{http::header, web, HttpResponse};

fn properties(text: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(text)
}

/// GET /chatonsinfos/organization.properties
pub async fn organization(fed: web::Data<Federation>) -> Result<HttpResponse, ApiError> {
    Ok(properties(chatonsinfos::organization_file(state_of(&fed)).await?))
}

/// GET /chatonsinfos/services/{slug}.properties
pub async fn service(fed: web::Data<Federation>, slug: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let text =
        chatonsinfos::service_file(state_of(&fed), &slug).await?.ok_or_else(|| ApiError::not_found("service"))?;
    Ok(properties(text))
}

/// GET /chatonsinfos/federation.properties (the collective role only)
pub async fn federation(fed: web::Data<Federation>) -> Result<HttpResponse, ApiError> {
    Ok(properties(chatonsinfos::federation_file(state_of(&fed)).await?))
}
