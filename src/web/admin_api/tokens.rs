//! API tokens: list, create (its secret in that answer only), revoke.

use super::{json, no_content, numeric_id, opt_time, state, time, AdminToken, Body};
use crate::{
    app::tokens::{self, ApiToken},
    federation::Federation,
    web::error::ApiError,
};
use actix_web::{http::header, http::StatusCode, web, HttpResponse};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct TokenJson {
    id: i64,
    name: String,
    created_at: String,
    last_used_at: Option<String>,
    revoked_at: Option<String>,
    /// Only in the answer that creates the token.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

impl TokenJson {
    fn new(t: ApiToken, secret: Option<String>) -> Self {
        TokenJson {
            id: t.id,
            name: t.name,
            created_at: time(t.created_at),
            last_used_at: opt_time(t.last_used_at),
            revoked_at: opt_time(t.revoked_at),
            secret,
        }
    }
}

/// GET /api/v1/admin/tokens — every token, newest first, revoked ones included (never a secret).
pub async fn list_tokens(_: AdminToken, fed: web::Data<Federation>) -> Result<HttpResponse, ApiError> {
    let list = tokens::list(state(&fed)).await?;
    let list: Vec<TokenJson> = list.into_iter().map(|t| TokenJson::new(t, None)).collect();
    Ok(json(StatusCode::OK, &serde_json::json!({ "tokens": list })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
}

/// POST /api/v1/admin/tokens — a new token; its secret is in this answer and nowhere else.
pub async fn create_token(
    _: AdminToken,
    fed: web::Data<Federation>,
    Body(body): Body<NewToken>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&fed);
    let (token, secret) = tokens::create(state, &body.name).await?;
    let location = state.urls.admin_token(token.id).to_string();
    Ok(HttpResponse::Created().insert_header((header::LOCATION, location)).json(TokenJson::new(token, Some(secret))))
}

/// DELETE /api/v1/admin/tokens/{id} — revokes a token (the one making the request included).
pub async fn revoke_token(
    _: AdminToken,
    fed: web::Data<Federation>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&fed);
    let id = numeric_id("token", &id)?;
    tokens::revoke(state, id).await?;
    Ok(no_content())
}
