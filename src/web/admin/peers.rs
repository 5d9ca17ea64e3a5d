//! Peers: follow, unfollow, block and unblock.

use super::{
    common::{admin_page, done_message, internal, see_other},
    session::{Admin, AdminForm},
};
use crate::{
    app::blocks as moderation,
    db::models::remote,
    federation::{actors, Federation, FederationError},
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
    let following = state.db.read(remote::list_following).await?;
    let blocks = moderation::list(state).await?;
    let template = PeersPage {
        done: done_message(req, page.t),
        error,
        following: following
            .iter()
            .map(|f| PeerRow {
                actor: f.actor_id.clone(),
                status: if f.status == "accepted" {
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
        let t = state.texts.texts(crate::web::i18n::choose(&req, state.config.default_language()));
        return refused(format!("target: {}", t.get("required"))).await;
    }
    let done = match action.as_str() {
        "follow" => {
            let data = fed.to_request_data();
            let followed = async {
                let actor = actors::resolve(&data, &target).await?;
                let url = url::Url::parse(&actor.id).map_err(|e| FederationError::BadRequest(e.to_string()))?;
                crate::app::peers::follow(state, &data, &url).await
            }
            .await;
            match followed {
                Ok(_) => "followed",
                Err(FederationError::Db(e)) => return Err(e.into()),
                Err(e) => return refused(format!("target: {e}")).await,
            }
        }
        "unfollow" => match crate::app::peers::unfollow(state, &target).await {
            Ok(true) => "unfollowed",
            Ok(false) => return Err(PageError::NotFound),
            Err(e) => return Err(internal(e)),
        },
        "block" => match moderation::block(state, &target, form.get("reason")).await {
            Ok(_) => "blocked",
            Err(moderation::BlockError::Db(e)) => return Err(e.into()),
            Err(e) => return refused(format!("target: {e}")).await,
        },
        "unblock" => match moderation::unblock(state, &target).await {
            Ok(true) => "unblocked",
            Ok(false) => return Err(PageError::NotFound),
            Err(e) => return Err(internal(e)),
        },
        _ => return Err(PageError::NotFound),
    };
    Ok(see_other(format!("{}?done={done}", state.urls.admin("peers"))))
}
