//! The collective role: the roster, the Group's followers and relay subscribers, and on the member
//! side the collectives this host asked to join.

use super::{json, no_content, opt_time, state, time, AdminToken, Body};
use crate::{
    app::collective::{self, FollowerStatus, Join, Member, MemberState},
    federation::Federation,
    web::error::ApiError,
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct MemberJson {
    actor: String,
    handle: String,
    /// pending (asked to join, waiting for approval) or approved.
    state: MemberState,
    /// added (by this collective's admin) or request (the host asked).
    joined_via: crate::app::collective::JoinedVia,
    since: String,
    approved_at: Option<String>,
}

fn member_json(m: Member) -> MemberJson {
    MemberJson {
        actor: m.actor_id,
        handle: m.handle,
        state: m.state,
        joined_via: m.joined_via,
        since: time(m.since),
        approved_at: opt_time(m.approved_at),
    }
}

#[derive(Deserialize)]
pub struct MembersQuery {
    state: Option<String>,
    member: Option<String>,
}

/// GET /api/v1/admin/members?state=pending|approved
pub async fn members(
    _: AdminToken,
    fed: web::Data<Federation>,
    query: web::Query<MembersQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = match query.state.as_deref() {
        None => None,
        Some(raw) => Some(
            MemberState::parse(raw)
                .ok_or_else(|| ApiError::bad_parameter("state", format!("`{raw}` is not one of: pending, approved")))?,
        ),
    };
    let list: Vec<MemberJson> =
        collective::list_members(state(&fed), filter).await?.into_iter().map(member_json).collect();
    Ok(json(StatusCode::OK, &serde_json::json!({ "members": list })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    /// The member host's account: `@name@domain` or an actor URL.
    handle: String,
}

/// POST /api/v1/admin/members — puts a host on the roster (or approves one that asked).
pub async fn add_member(
    _: AdminToken,
    fed: web::Data<Federation>,
    Body(body): Body<AddMember>,
) -> Result<HttpResponse, ApiError> {
    let member = collective::add_member(state(&fed), &fed.to_request_data(), &body.handle).await?;
    Ok(json(StatusCode::CREATED, &member_json(member)))
}

/// DELETE /api/v1/admin/members?member=HANDLE_OR_ACTOR — takes a host off the roster.
pub async fn remove_member(
    _: AdminToken,
    fed: web::Data<Federation>,
    query: web::Query<MembersQuery>,
) -> Result<HttpResponse, ApiError> {
    let Some(member) = query.member.as_deref().filter(|m| !m.trim().is_empty()) else {
        return Err(ApiError::bad_parameter(
            "member",
            "give the member's handle or actor URL, as GET members lists it",
        ));
    };
    collective::remove_member(state(&fed), member).await?;
    Ok(no_content())
}

#[derive(Deserialize)]
pub struct FollowersQuery {
    relay: Option<bool>,
}

fn follower_json(f: FollowerStatus) -> serde_json::Value {
    serde_json::json!({
        "actor": f.follower.actor_id,
        "status": f.follower.status,
        "relay": f.follower.is_relay,
        "inbox": f.follower.delivery_inbox(),
        "since": time(f.follower.created_at),
        "last_delivered_at": opt_time(f.last_delivered),
        "consecutive_failures": f.failures,
        "paused_at": opt_time(f.paused_since),
    })
}

/// GET /api/v1/admin/collective/followers?relay=true|false — the Group's followers and relay
/// subscribers, with their health.
pub async fn followers(
    _: AdminToken,
    fed: web::Data<Federation>,
    query: web::Query<FollowersQuery>,
) -> Result<HttpResponse, ApiError> {
    let list: Vec<_> = collective::followers(state(&fed), query.relay).await?.into_iter().map(follower_json).collect();
    Ok(json(StatusCode::OK, &serde_json::json!({ "followers": list })))
}

fn join_json(j: Join) -> serde_json::Value {
    serde_json::json!({
        "collective": j.group_actor_id,
        "handle": j.handle,
        "state": j.state,
        "asked_at": time(j.created_at),
        "updated_at": time(j.updated_at),
    })
}

/// GET /api/v1/admin/collective/joins — the collectives this host asked to join.
pub async fn joins(_: AdminToken, fed: web::Data<Federation>) -> Result<HttpResponse, ApiError> {
    let list: Vec<_> = collective::join_requests(state(&fed)).await?.into_iter().map(join_json).collect();
    Ok(json(StatusCode::OK, &serde_json::json!({ "joins": list })))
}

#[derive(Deserialize)]
pub struct LeaveQuery {
    collective: Option<String>,
}

/// DELETE /api/v1/admin/collective/joins?collective=HANDLE_OR_ACTOR — leaves a collective: its
/// Group gets `Undo{Join}` and `Undo{Follow}`; the request stays listed, as left.
pub async fn leave(
    _: AdminToken,
    fed: web::Data<Federation>,
    query: web::Query<LeaveQuery>,
) -> Result<HttpResponse, ApiError> {
    let Some(collective) = query.collective.as_deref().filter(|c| !c.trim().is_empty()) else {
        return Err(ApiError::bad_parameter(
            "collective",
            "give the collective's handle or its Group's actor URL, as GET collective/joins lists it",
        ));
    };
    let join = collective::leave(state(&fed), collective).await?;
    Ok(json(StatusCode::OK, &join_json(join)))
}

/// POST /api/v1/admin/collective/joins — asks a collective (its Group's handle) to join.
pub async fn join(
    _: AdminToken,
    fed: web::Data<Federation>,
    Body(body): Body<AddMember>,
) -> Result<HttpResponse, ApiError> {
    let join = collective::join(state(&fed), &fed.to_request_data(), &body.handle).await?;
    Ok(json(StatusCode::CREATED, &join_json(join)))
}

/// PUT /api/v1/admin/collective/logo — the Group's logo, as the profile's.
pub async fn put_logo(
    _: AdminToken,
    fed: web::Data<Federation>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let state = state(&fed);
    let upload = super::upload_body(state, &req, payload).await?;
    let logo = collective::set_logo(state, upload).await.map_err(super::upload_error)?;
    Ok(json(StatusCode::OK, &super::logo_json(state, logo)))
}

/// DELETE /api/v1/admin/collective/logo — 204 whether there was one or not.
pub async fn delete_logo(_: AdminToken, fed: web::Data<Federation>) -> Result<HttpResponse, ApiError> {
    collective::remove_logo(state(&fed)).await?;
    Ok(no_content())
}
