//! Other servers: followers, the accounts we follow, blocks, and the delivery queue.

use super::{json, no_content, numeric_id, opt_time, state, time, AdminToken, Body};
use crate::{
    app::{
        self,
        followers::{FollowState, Follower},
        peers::Following,
    },
    federation::Federation,
    web::error::ApiError,
};
use actix_web::{http::StatusCode, web, HttpResponse};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct FollowerJson {
    id: i64,
    actor: String,
    /// `@user@server`, or the actor's URL when its actor was never stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    handle: Option<String>,
    /// The display name, null when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<String>,
    /// pending (waiting for approval) or accepted.
    status: FollowState,
    inbox: String,
    shared_inbox: Option<String>,
    created_at: String,
    updated_at: String,
}

fn follower_json(f: Follower) -> FollowerJson {
    FollowerJson {
        id: f.id,
        actor: f.actor_id,
        handle: None,
        name: None,
        server: None,
        status: f.status,
        inbox: f.inbox,
        shared_inbox: f.shared_inbox,
        created_at: time(f.created_at),
        updated_at: time(f.updated_at),
    }
}

/// A follower with who it is, as the list gives it.
fn entry_json(entry: app::followers::FollowerEntry) -> FollowerJson {
    let app::followers::FollowerEntry { follower, handle, name, server } = entry;
    FollowerJson { handle: Some(handle), name: Some(name), server: Some(server), ..follower_json(follower) }
}

#[derive(Deserialize)]
pub struct FollowersQuery {
    status: Option<String>,
    q: Option<String>,
}

/// GET /api/v1/admin/followers?status=pending|accepted&q=text
pub async fn followers(
    _: AdminToken,
    fed: web::Data<Federation>,
    query: web::Query<FollowersQuery>,
) -> Result<HttpResponse, ApiError> {
    let status = match query.status.as_deref() {
        None => None,
        Some(raw) => match FollowState::parse(raw) {
            Some(state @ (FollowState::Pending | FollowState::Accepted)) => Some(state),
            _ => return Err(ApiError::bad_parameter("status", format!("`{raw}` is not one of: pending, accepted"))),
        },
    };
    let list = app::followers::directory(state(&fed), status, query.q.as_deref()).await?;
    let list: Vec<FollowerJson> = list.into_iter().map(entry_json).collect();
    Ok(json(StatusCode::OK, &serde_json::json!({ "followers": list })))
}

/// The follower `raw`, or 404.
async fn find_follower(fed: &web::Data<Federation>, raw: &str) -> Result<Follower, ApiError> {
    let id = numeric_id("follower", raw)?;
    Ok(app::followers::find(state(fed), id).await?)
}

/// POST /api/v1/admin/followers/{id}/approve — accepts a pending follower (they get an Accept).
pub async fn approve_follower(
    _: AdminToken,
    fed: web::Data<Federation>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let follower = find_follower(&fed, &id).await?;
    app::followers::approve_follower(state(&fed), follower.id).await?;
    Ok(json(StatusCode::OK, &follower_json(find_follower(&fed, &id).await?)))
}

/// DELETE /api/v1/admin/followers/{id} — removes a follower or refuses a pending one (a Reject).
pub async fn remove_follower(
    _: AdminToken,
    fed: web::Data<Federation>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let follower = find_follower(&fed, &id).await?;
    app::followers::remove_follower(state(&fed), follower.id).await?;
    Ok(no_content())
}

#[derive(Serialize)]
struct FollowingJson {
    actor: String,
    /// pending (until they accept), accepted or rejected.
    status: FollowState,
    inbox: String,
    created_at: String,
    updated_at: String,
}

fn following_json(f: Following) -> FollowingJson {
    FollowingJson {
        actor: f.actor_id,
        status: f.status,
        inbox: f.inbox,
        created_at: time(f.created_at),
        updated_at: time(f.updated_at),
    }
}

/// GET /api/v1/admin/following
pub async fn following(_: AdminToken, fed: web::Data<Federation>) -> Result<HttpResponse, ApiError> {
    let list: Vec<FollowingJson> =
        app::peers::list(state(&fed)).await?.into_iter().map(|p| following_json(p.following)).collect();
    Ok(json(StatusCode::OK, &serde_json::json!({ "following": list })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Follow {
    /// `@name@domain` or an actor URL.
    handle: String,
}

/// POST /api/v1/admin/following — follows an account; it stays pending until it accepts.
pub async fn follow(
    _: AdminToken,
    fed: web::Data<Federation>,
    Body(body): Body<Follow>,
) -> Result<HttpResponse, ApiError> {
    let row = app::peers::follow_handle(state(&fed), &fed.to_request_data(), &body.handle).await?;
    Ok(json(StatusCode::CREATED, &following_json(row)))
}

#[derive(Deserialize)]
pub struct UnfollowQuery {
    actor: Option<String>,
}

/// DELETE /api/v1/admin/following?actor=URL — stops following (they get an Undo).
pub async fn unfollow(
    _: AdminToken,
    fed: web::Data<Federation>,
    query: web::Query<UnfollowQuery>,
) -> Result<HttpResponse, ApiError> {
    let Some(actor) = query.actor.as_deref().filter(|a| !a.is_empty()) else {
        return Err(ApiError::bad_parameter("actor", "give the actor URL, as GET /api/v1/admin/following lists it"));
    };
    if !app::peers::unfollow(state(&fed), actor).await? {
        return Err(ApiError::new(StatusCode::NOT_FOUND, format!("this host does not follow `{actor}`")));
    }
    Ok(no_content())
}

#[derive(Serialize)]
struct BlockJson {
    domain: String,
    reason: Option<String>,
    created_at: String,
}

/// GET /api/v1/admin/blocks
pub async fn blocks(_: AdminToken, fed: web::Data<Federation>) -> Result<HttpResponse, ApiError> {
    let list: Vec<BlockJson> = app::blocks::list(state(&fed))
        .await?
        .into_iter()
        .map(|b| BlockJson { domain: b.domain, reason: b.reason, created_at: time(b.created_at) })
        .collect();
    Ok(json(StatusCode::OK, &serde_json::json!({ "blocks": list })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Block {
    domain: String,
    reason: Option<String>,
}

/// POST /api/v1/admin/blocks — blocks a server and purges what came from it.
pub async fn block(
    _: AdminToken,
    fed: web::Data<Federation>,
    Body(body): Body<Block>,
) -> Result<HttpResponse, ApiError> {
    let app::blocks::Blocked { block, purged } = app::blocks::block(state(&fed), &body.domain, body.reason).await?;
    Ok(json(
        StatusCode::CREATED,
        &serde_json::json!({
            "domain": block.domain,
            "reason": block.reason,
            "created_at": time(block.created_at),
            "purged": {
                "followers": purged.followers,
                "following": purged.following,
                "posts": purged.posts,
                "deliveries": purged.deliveries,
            },
        }),
    ))
}

/// DELETE /api/v1/admin/blocks/{domain}
pub async fn unblock(
    _: AdminToken,
    fed: web::Data<Federation>,
    domain: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if !app::blocks::unblock(state(&fed), &domain).await? {
        return Err(ApiError::new(StatusCode::NOT_FOUND, format!("`{domain}` is not blocked")));
    }
    Ok(no_content())
}

/// GET /api/v1/admin/deliveries — the queue's counts and the health of each receiving inbox.
pub async fn deliveries(_: AdminToken, fed: web::Data<Federation>) -> Result<HttpResponse, ApiError> {
    let queue = app::deliveries::status(state(&fed)).await?;
    let inboxes: Vec<serde_json::Value> = queue
        .inboxes
        .into_iter()
        .map(|h| {
            serde_json::json!({
                "inbox": h.inbox,
                "consecutive_failures": h.consecutive_failures,
                "last_success_at": opt_time(h.last_success_at),
                "last_failure_at": opt_time(h.last_failure_at),
                "last_error": h.last_error,
                "failing_since": opt_time(h.failing_since),
                "paused_at": opt_time(h.paused_at),
            })
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({
            "pending": queue.pending,
            "delivered": queue.delivered,
            "failed": queue.failed,
            "inboxes": inboxes,
        }),
    ))
}

/// POST /api/v1/admin/deliveries/retry — every waiting delivery is due now and pauses are lifted.
pub async fn retry_deliveries(_: AdminToken, fed: web::Data<Federation>) -> Result<HttpResponse, ApiError> {
    let due = app::deliveries::retry_now(state(&fed)).await?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "due_now": due })))
}
