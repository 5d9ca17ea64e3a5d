//! Other servers: followers, the accounts we follow, blocks, and the delivery queue.

use super::{json, no_content, numeric_id, opt_time, state, time, AdminToken, Body};
use crate::{
    app::blocks as moderation,
    db::models::{
        activities as queue,
        followers::{self, Follower},
        remote::{self, Following},
    },
    federation::{actors, Federation, FederationError},
    web::error::ApiError,
};
use actix_web::{http::StatusCode, web, HttpResponse};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct FollowerJson {
    id: i64,
    actor: String,
    /// pending (waiting for approval) or accepted.
    status: String,
    inbox: String,
    shared_inbox: Option<String>,
    created_at: String,
    updated_at: String,
}

fn follower_json(f: Follower) -> FollowerJson {
    FollowerJson {
        id: f.id,
        actor: f.actor_id,
        status: f.status,
        inbox: f.inbox,
        shared_inbox: f.shared_inbox,
        created_at: time(f.created_at),
        updated_at: time(f.updated_at),
    }
}

#[derive(Deserialize)]
pub struct FollowersQuery {
    status: Option<String>,
}

/// GET /api/v1/admin/followers?status=pending|accepted
pub async fn followers(
    _: AdminToken,
    fed: web::Data<Federation>,
    query: web::Query<FollowersQuery>,
) -> Result<HttpResponse, ApiError> {
    let status = match query.status.as_deref() {
        None => None,
        Some(followers::PENDING) => Some(followers::PENDING),
        Some(followers::ACCEPTED) => Some(followers::ACCEPTED),
        Some(other) => {
            return Err(ApiError::bad_parameter("status", format!("`{other}` is not one of: pending, accepted")))
        }
    };
    let list = state(&fed).db.read(move |c| followers::list(c, status)).await?;
    let list: Vec<FollowerJson> = list.into_iter().map(follower_json).collect();
    Ok(json(StatusCode::OK, &serde_json::json!({ "followers": list })))
}

/// The follower `raw`, or 404.
async fn find_follower(fed: &web::Data<Federation>, raw: &str) -> Result<Follower, ApiError> {
    let id = numeric_id("follower", raw)?;
    state(fed)
        .db
        .read(move |c| followers::find(c, id))
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no follower has the id `{id}`")))
}

/// POST /api/v1/admin/followers/{id}/approve — accepts a pending follower (they get an Accept).
pub async fn approve_follower(
    _: AdminToken,
    fed: web::Data<Federation>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let follower = find_follower(&fed, &id).await?;
    crate::app::followers::approve_follower(state(&fed), follower.id).await?;
    Ok(json(StatusCode::OK, &follower_json(find_follower(&fed, &id).await?)))
}

/// DELETE /api/v1/admin/followers/{id} — removes a follower or refuses a pending one (a Reject).
pub async fn remove_follower(
    _: AdminToken,
    fed: web::Data<Federation>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let follower = find_follower(&fed, &id).await?;
    crate::app::followers::remove_follower(state(&fed), follower.id).await?;
    Ok(no_content())
}

#[derive(Serialize)]
struct FollowingJson {
    actor: String,
    /// pending (until they accept), accepted or rejected.
    status: String,
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
    let list = state(&fed).db.read(remote::list_following).await?;
    let list: Vec<FollowingJson> = list.into_iter().map(following_json).collect();
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
    let data = fed.to_request_data();
    let about_handle = |e: FederationError| match e {
        FederationError::BadRequest(reason) => ApiError::invalid("handle", reason),
        // A blocked server: the domain refuses.
        FederationError::Forbidden(reason) => ApiError {
            field: Some("handle".into()),
            ..ApiError::new(StatusCode::CONFLICT, format!("handle: {reason}"))
        },
        other => other.into(),
    };
    let actor = actors::resolve(&data, &body.handle).await.map_err(about_handle)?;
    let url = url::Url::parse(&actor.id).map_err(|e| ApiError::invalid("handle", e))?;
    let row = crate::app::peers::follow(state(&fed), &data, &url).await.map_err(about_handle)?;
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
    if !crate::app::peers::unfollow(state(&fed), actor).await? {
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
    let list: Vec<BlockJson> = moderation::list(state(&fed))
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
    let state = state(&fed);
    let purged = moderation::block(state, &body.domain, body.reason).await?;
    let domain = moderation::normalise(&body.domain)?;
    let stored = moderation::list(state).await?.into_iter().find(|b| b.domain == domain);
    Ok(json(
        StatusCode::CREATED,
        &serde_json::json!({
            "domain": domain,
            "reason": stored.as_ref().and_then(|b| b.reason.clone()),
            "created_at": stored.as_ref().map(|b| time(b.created_at)),
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
    if !moderation::unblock(state(&fed), &domain).await? {
        return Err(ApiError::new(StatusCode::NOT_FOUND, format!("`{domain}` is not blocked")));
    }
    Ok(no_content())
}

/// GET /api/v1/admin/deliveries — the queue's counts and the health of each receiving inbox.
pub async fn deliveries(_: AdminToken, fed: web::Data<Federation>) -> Result<HttpResponse, ApiError> {
    let (pending, delivered, failed, health) = state(&fed)
        .db
        .read(|c| {
            Ok((
                queue::count_by_status(c, queue::PENDING)?,
                queue::count_by_status(c, queue::DELIVERED)?,
                queue::count_by_status(c, queue::FAILED)?,
                queue::health(c)?,
            ))
        })
        .await?;
    let inboxes: Vec<serde_json::Value> = health
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
        &serde_json::json!({ "pending": pending, "delivered": delivered, "failed": failed, "inboxes": inboxes }),
    ))
}

/// POST /api/v1/admin/deliveries/retry — every waiting delivery is due now and pauses are lifted.
pub async fn retry_deliveries(_: AdminToken, fed: web::Data<Federation>) -> Result<HttpResponse, ApiError> {
    let state = state(&fed);
    let now = state.clock.now();
    let due = state.db.write(move |c| queue::retry_now(c, now)).await?;
    state.delivery_wakeup.notify_waiters();
    Ok(json(StatusCode::OK, &serde_json::json!({ "due_now": due })))
}
