//! ActivityPub documents: actors, collections, bulletins (as Notes) and our public activities.
//! All readable without a signature, so any server can fetch our keys and posts.

use super::state_of;
use super::{activity_json, error::ApiError, pages, wants_activity_json};
use crate::{
    db::models::{activities as queue, bulletins, remote},
    federation::{
        activities::{note_doc, note_json_ld, tombstone_doc},
        actors,
        protocol::*,
        Federation,
    },
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

const PAGE_SIZE: i64 = 20;

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
    check_account(&fed, &name)?;
    let state = state_of(&fed);
    if !wants_activity_json(&req) {
        return pages::host_page(state).await;
    }
    let doc = actors::host_actor_doc(state).await?;
    Ok(activity_json(StatusCode::OK, &doc))
}

pub async fn instance_actor(fed: web::Data<Federation>) -> HttpResponse {
    activity_json(StatusCode::OK, &actors::instance_actor_doc(state_of(&fed)))
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
    check_account(&fed, &name)?;
    let state = state_of(&fed).clone();
    let urls = state.urls.clone();
    if query.page.is_none() {
        let total = state.db.read(bulletins::count_published).await?;
        return Ok(activity_json(
            StatusCode::OK,
            &OrderedCollectionDoc {
                context: context(),
                id: urls.host_outbox(),
                kind: "OrderedCollection",
                total_items: total,
                first: Some(urls.host_outbox_page(None)),
                ordered_items: None,
            },
        ));
    }
    let before = query.before.clone();
    let page_urls = urls.clone();
    let (items, next) = state
        .db
        .read(move |c| {
            let cursor = match before {
                Some(id) => bulletins::find(c, &id)?.map(|b| (b.published_at, b.id)),
                None => None,
            };
            let page = bulletins::list_published(c, cursor, PAGE_SIZE)?;
            let mut items = Vec::new();
            for bulletin in &page {
                let note_id = page_urls.bulletin(&bulletin.id);
                let create = queue::latest_for_object(c, note_id.as_str(), "Create")?;
                let create_id = create.map(|a| a.id).unwrap_or_else(|| format!("{note_id}#create"));
                items.push(json!({
                    "id": create_id,
                    "type": "Create",
                    "actor": page_urls.host_actor(),
                    "published": note_doc(&page_urls, bulletin).published,
                    "to": [PUBLIC],
                    "cc": [page_urls.host_followers()],
                    "object": note_doc(&page_urls, bulletin),
                }));
            }
            let next = (page.len() as i64 == PAGE_SIZE).then(|| page.last().map(|b| b.id.clone())).flatten();
            Ok((items, next))
        })
        .await?;
    let mut id = urls.host_outbox_page(query.before.as_deref());
    id.set_fragment(None);
    Ok(activity_json(
        StatusCode::OK,
        &OrderedCollectionPageDoc {
            context: context(),
            id,
            kind: "OrderedCollectionPage",
            part_of: urls.host_outbox(),
            next: next.map(|cursor| urls.host_outbox_page(Some(&cursor))),
            ordered_items: items,
        },
    ))
}

pub async fn followers(fed: web::Data<Federation>, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    check_account(&fed, &name)?;
    let state = state_of(&fed);
    let total = actors::follower_count(state).await?;
    // The count is public (Mastodon shows it); the list of followers is not published.
    Ok(activity_json(
        StatusCode::OK,
        &OrderedCollectionDoc {
            context: context(),
            id: state.urls.host_followers(),
            kind: "OrderedCollection",
            total_items: total,
            first: None,
            ordered_items: None,
        },
    ))
}

pub async fn following(fed: web::Data<Federation>, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    check_account(&fed, &name)?;
    let state = state_of(&fed);
    let rows = state.db.read(remote::list_following).await?;
    let accepted = rows.iter().filter(|r| r.status == "accepted").count() as i64;
    Ok(activity_json(
        StatusCode::OK,
        &OrderedCollectionDoc {
            context: context(),
            id: state.urls.host_following(),
            kind: "OrderedCollection",
            total_items: accepted,
            first: None,
            ordered_items: None,
        },
    ))
}

pub async fn featured(fed: web::Data<Federation>, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    check_account(&fed, &name)?;
    let state = state_of(&fed);
    Ok(activity_json(
        StatusCode::OK,
        &OrderedCollectionDoc {
            context: context(),
            id: state.urls.host_featured(),
            kind: "OrderedCollection",
            total_items: 0,
            first: None,
            ordered_items: Some(vec![]),
        },
    ))
}

pub async fn bulletin(
    fed: web::Data<Federation>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let state = state_of(&fed);
    let key = id.into_inner();
    let found = state.db.read(move |c| bulletins::find(c, &key)).await?;
    let bulletin = found.ok_or_else(|| ApiError::not_found("bulletin"))?;
    let json = wants_activity_json(&req);
    match (bulletin.is_deleted(), json) {
        (true, true) => Ok(activity_json(StatusCode::GONE, &tombstone_doc(&state.urls, &bulletin, true))),
        (true, false) => Ok(pages::gone_page(state)),
        (false, true) => Ok(activity_json(StatusCode::OK, &note_json_ld(&state.urls, &bulletin))),
        (false, false) => Ok(pages::bulletin_page(state, &bulletin)),
    }
}

/// Our public activities resolve at their ids; direct ones (Follow, Accept…) do not.
pub async fn activity(fed: web::Data<Federation>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let state = state_of(&fed);
    let url = state.urls.activity(&id).to_string();
    let stored = state.db.read(move |c| queue::find_activity(c, &url)).await?;
    let stored = stored
        .filter(|a| matches!(a.kind.as_str(), "Create" | "Update" | "Delete"))
        .ok_or_else(|| ApiError::not_found("activity"))?;
    let value: Value =
        serde_json::from_str(&stored.json).map_err(|e| ApiError::from(crate::federation::FederationError::from(e)))?;
    Ok(activity_json(StatusCode::OK, &value))
}
