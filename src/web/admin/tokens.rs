//! Bearer tokens for the JSON admin API: create (its secret shown once), revoke.

use super::{
    common::{admin_page, done_message, refusal, see_other},
    session::{Admin, AdminForm},
};
use crate::{
    app::tokens,
    federation::Federation,
    state::AppState,
    web::{
        html::{render, Page, PageError, Section},
        state_of, views,
    },
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;

pub struct TokenRow {
    pub name: String,
    pub created: views::When,
    pub last_used: Option<views::When>,
    pub revoked: bool,
    pub revoke_url: String,
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage<'a> {
    page: Page<'a>,
    done: Option<String>,
    error: Option<String>,
    /// A token just created: its secret, shown this once.
    secret: Option<(String, String)>,
    tokens: Vec<TokenRow>,
    create_url: String,
    api_doc: String,
}

async fn tokens_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    error: Option<String>,
    secret: Option<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let page = admin_page(state, req, |t| t.get("admin_tokens")).await?;
    let lang = page.t.lang;
    let all = tokens::list(state).await?;
    let template = TokensPage {
        done: done_message(req, page.t),
        error,
        secret,
        tokens: all
            .iter()
            .map(|t| TokenRow {
                name: t.name.clone(),
                created: views::when(state, t.created_at, lang),
                last_used: t.last_used_at.map(|at| views::when(state, at, lang)),
                revoked: t.is_revoked(),
                revoke_url: state.urls.admin(&format!("tokens/{}/revoke", t.id)).to_string(),
            })
            .collect(),
        create_url: state.urls.admin("tokens").to_string(),
        api_doc: state.urls.base().join("api/v1/admin/bulletins").map(|u| u.to_string()).unwrap_or_default(),
        page,
    };
    render(req, status, &template)
}

pub async fn tokens(fed: web::Data<Federation>, req: HttpRequest, _admin: Admin) -> Result<HttpResponse, PageError> {
    tokens_page(state_of(&fed), &req, StatusCode::OK, None, None).await
}

/// POST /admin/tokens: the new token's secret is shown on the answer itself, never again.
pub async fn create_token(
    fed: web::Data<Federation>,
    req: HttpRequest,
    AdminForm(form): AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let (token, secret) = match tokens::create(state, &form.text("name")).await {
        Ok(created) => created,
        Err(e) => {
            return tokens_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, refusal(state, &req, e)?, None).await
        }
    };
    let mut response = tokens_page(state, &req, StatusCode::OK, None, Some((token.name, secret))).await?;
    // The secret must not linger in any cache.
    response
        .headers_mut()
        .insert(actix_web::http::header::CACHE_CONTROL, actix_web::http::header::HeaderValue::from_static("no-store"));
    Ok(response)
}

pub async fn revoke_token(
    fed: web::Data<Federation>,
    id: web::Path<i64>,
    _csrf_checked: AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    if !tokens::revoke(state, id.into_inner()).await? {
        return Err(PageError::NotFound);
    }
    Ok(see_other(format!("{}?done=revoked", state.urls.admin("tokens"))))
}
