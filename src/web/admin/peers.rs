//! Peers: follow, unfollow, block and unblock.

use super::{
    common::{admin_page, done_message, refusal, see_other},
    session::{Admin, AdminForm},
};
use crate::{
    app::{
        blocks,
        peers::{self, FollowState},
        AppError,
    },
    federation::Federation,
    state::AppState,
    web::{
        html::{render, Page, PageError, Section},
        state_of, views,
    },
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;

pub struct PeerRow {
    pub actor: String,
    pub status: String,
    pub since: views::When,
}

pub struct BlockRow {
    pub domain: String,
    pub reason: String,
    pub since: views::When,
}

#[derive(Template)]
#[template(path = "admin/peers.html")]
struct PeersPage<'a> {
    page: Page<'a>,
    done: Option<String>,
    error: Option<String>,
    following: Vec<PeerRow>,
    blocks: Vec<BlockRow>,
    base: String,
}

async fn peers_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let page = admin_page(state, req, |t| t.get("admin_peers")).await?;
    let lang = page.t.lang;
    let following = peers::list(state).await?;
    let blocks = blocks::list(state).await?;
    let template = PeersPage {
        done: done_message(req, page.t),
        error,
        following: following
            .iter()
            .map(|peer| &peer.following)
            .map(|f| PeerRow {
                actor: f.actor_id.clone(),
                status: if f.status == FollowState::Accepted {
                    page.t.get("accepted").into()
                } else {
                    page.t.get("pending").into()
                },
                since: views::when(state, f.created_at, lang),
            })
            .collect(),
        blocks: blocks
            .iter()
            .map(|b| BlockRow {
                domain: b.domain.clone(),
                reason: b.reason.clone().unwrap_or_default(),
                since: views::when(state, b.created_at, lang),
            })
            .collect(),
        base: state.urls.admin("peers").to_string(),
        page,
    };
    render(req, status, &template)
}

pub async fn peers(fed: web::Data<Federation>, req: HttpRequest, _admin: Admin) -> Result<HttpResponse, PageError> {
    peers_page(state_of(&fed), &req, StatusCode::OK, None).await
}

/// POST /admin/peers/{follow|unfollow|block|unblock}
pub async fn peer_action(
    fed: web::Data<Federation>,
    req: HttpRequest,
    action: web::Path<String>,
    AdminForm(form): AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let target = form.get("target").unwrap_or_default();
    let refused = |message: String| peers_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, Some(message));
    if target.is_empty() {
        let required = AppError::refused("target", crate::refusal::Kind::Required, &[]);
        return refused(refusal(state, &req, required)?.unwrap_or_default()).await;
    }
    let done = match action.as_str() {
        "follow" => peers::follow_handle(state, &fed.to_request_data(), &target).await.map(|_| "followed"),
        "unfollow" => match peers::unfollow(state, &target).await? {
            true => Ok("unfollowed"),
            false => return Err(PageError::NotFound),
        },
        "block" => blocks::block(state, &target, form.get("reason")).await.map(|_| "blocked"),
        "unblock" => match blocks::unblock(state, &target).await {
            Ok(true) => Ok("unblocked"),
            Ok(false) => return Err(PageError::NotFound),
            Err(e) => Err(e),
        },
        _ => return Err(PageError::NotFound),
    };
    let done = match done {
        Ok(done) => done,
        // The form has one field, `target`: what was refused is about it. What a peer answered
        // that we cannot use is shown on the form too, not as an error page.
        Err(AppError::Internal(reason)) if action.as_str() == "follow" => {
            let unusable = AppError::Unreachable { field: Some("target".into()), reason };
            return refused(refusal(state, &req, unusable)?.unwrap_or_default()).await;
        }
        Err(e) => return refused(refusal(state, &req, e.about("target"))?.unwrap_or_default()).await,
    };
    Ok(see_other(format!("{}?done={done}", state.urls.admin("peers"))))
}
