//! ActivityPub documents: actors, collections, bulletins (as Notes) and our public activities.
//! All readable without a signature, so any server can fetch our keys and posts.

use super::state_of;
use super::{activity_json, error::ApiError, html, pages, wants_activity_json};
use crate::{
    db::models::{activities as queue, bulletins, remote, services},
    federation::{
        actors,
        documents::{note_doc, note_json_ld, tombstone_doc},
        protocol::*,
        Federation,
    },
};
use actix_web::ResponseError;
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
        return Ok(pages::host_page(state, &req).await.unwrap_or_else(|e| e.error_response()));
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
    let st = state.clone();
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
                let translations = bulletins::translations(c, &bulletin.id)?;
                let note = note_doc(&st, bulletin, &translations);
                items.push(json!({
                    "id": create_id,
                    "type": "Create",
                    "actor": page_urls.host_actor(),
                    "published": note.published,
                    "to": [PUBLIC],
                    "cc": [page_urls.host_followers()],
                    "object": note,
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
    let accepted = rows.iter().filter(|r| r.status == crate::db::models::states::FollowState::Accepted).count() as i64;
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

/// Ongoing incidents and upcoming or running maintenance, shown pinned by Mastodon.
pub async fn featured(fed: web::Data<Federation>, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    check_account(&fed, &name)?;
    let state = state_of(&fed).clone();
    let st = state.clone();
    let notes = state
        .db
        .read(move |c| {
            let mut notes = Vec::new();
            for b in bulletins::open_changes(c)? {
                let translations = bulletins::translations(c, &b.id)?;
                notes.push(serde_json::to_value(note_doc(&st, &b, &translations)).expect("a Note serialises"));
            }
            Ok(notes)
        })
        .await?;
    Ok(activity_json(
        StatusCode::OK,
        &OrderedCollectionDoc {
            context: context(),
            id: state.urls.host_featured(),
            kind: "OrderedCollection",
            total_items: notes.len() as i64,
            first: None,
            ordered_items: Some(notes),
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
    let json = wants_activity_json(&req);
    // Scheduled (or deleted before its time): never public.
    let Some(bulletin) = found.filter(|b| b.federated_at.is_some()) else {
        return match json {
            true => Err(ApiError::not_found("bulletin")),
            false => Ok(html::PageError::NotFound.error_response()),
        };
    };
    let id = bulletin.id.clone();
    let translations = state.db.read(move |c| bulletins::translations(c, &id)).await?;
    match (bulletin.is_deleted(), json) {
        (true, true) => Ok(activity_json(StatusCode::GONE, &tombstone_doc(state, &bulletin, true))),
        (true, false) => Ok(html::PageError::Gone.error_response()),
        (false, true) => Ok(activity_json(StatusCode::OK, &note_json_ld(state, &bulletin, &translations))),
        (false, false) => {
            Ok(pages::bulletin_page(state, &req, &bulletin, &translations).await.unwrap_or_else(|e| e.error_response()))
        }
    }
}

/// Our public activities resolve at their ids; direct ones (Follow, Accept…) do not. The Create
/// or Update of a bulletin since deleted answers 410, like the bulletin itself.
pub async fn activity(fed: web::Data<Federation>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let state = state_of(&fed);
    let url = state.urls.activity(&id).to_string();
    let stored = state.db.read(move |c| queue::find_activity(c, &url)).await?;
    let stored = stored
        .filter(|a| matches!(a.kind.as_str(), "Create" | "Update" | "Delete"))
        .ok_or_else(|| ApiError::not_found("activity"))?;
    if stored.kind != "Delete" {
        if let Some(bulletin_id) = state.urls.bulletin_id_of(&stored.object_id) {
            let bulletin = state.db.read(move |c| bulletins::find(c, &bulletin_id)).await?;
            if let Some(b) = bulletin.filter(|b| b.is_deleted()) {
                return Ok(activity_json(StatusCode::GONE, &tombstone_doc(state, &b, true)));
            }
        }
    }
    let value: Value =
        serde_json::from_str(&stored.json).map_err(|e| ApiError::from(crate::federation::FederationError::from(e)))?;
    Ok(activity_json(StatusCode::OK, &value))
}

/// The service catalogue: every service with its current status (derived from service changes).
pub async fn services_collection(
    fed: web::Data<Federation>,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    check_account(&fed, &name)?;
    let state = state_of(&fed).clone();
    let st = state.clone();
    let docs = state
        .db
        .read(move |c| {
            let mut docs = Vec::new();
            for service in services::list(c)? {
                docs.push(service_doc(c, &st, &service)?);
            }
            Ok(docs)
        })
        .await?;
    Ok(activity_json(
        StatusCode::OK,
        &OrderedCollectionDoc {
            context: context(),
            id: state.urls.host_services(),
            kind: "OrderedCollection",
            total_items: docs.len() as i64,
            first: None,
            ordered_items: Some(docs),
        },
    ))
}

fn service_doc(
    c: &mut crate::db::DbConnection,
    state: &crate::state::AppState,
    s: &services::Service,
) -> crate::db::DbResult<Value> {
    use crate::bulletin::vocab::{Choice, Registration};
    let status = crate::bulletin::derive_status(&bulletins::changes_for_service(c, &s.slug)?);
    let registration = Registration::parse("registration", &s.registration).unwrap_or(Registration::Unknown);
    Ok(json!({
        "id": state.urls.service(&s.slug),
        "type": "HostedService",
        "attributedTo": state.urls.host_actor(),
        "name": s.name,
        "software": s.software,
        "url": s.url,
        "summary": crate::bulletin::render::escape(&s.description),
        "intendedAudience": s.audience,
        "registration": registration,
        "serviceStatus": status,
        "updated": s.updated_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }))
}

pub async fn service(
    fed: web::Data<Federation>,
    req: HttpRequest,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if !wants_activity_json(&req) {
        return Ok(pages::service_page(state_of(&fed), &req, &slug).await.unwrap_or_else(|e| e.error_response()));
    }
    let state = state_of(&fed).clone();
    let st = state.clone();
    let slug = slug.into_inner();
    let doc = state
        .db
        .read(move |c| match services::find(c, &slug)? {
            Some(s) if s.removed_at.is_none() => service_doc(c, &st, &s).map(Some),
            _ => Ok(None),
        })
        .await?
        .ok_or_else(|| ApiError::not_found("service"))?;
    Ok(activity_json(StatusCode::OK, &crate::federation::documents::with_context(doc)))
}

/// The label: the charter graded, criterion by criterion, with comments and evidence.
pub async fn label(fed: web::Data<Federation>, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    check_account(&fed, &name)?;
    let state = state_of(&fed);
    let grades = state.db.read(crate::db::models::label::grades).await?;
    let updated = grades.iter().map(|g| g.updated_at).max();
    let items: Vec<Value> = grades
        .iter()
        .map(|g| {
            use crate::bulletin::vocab::{Choice, Grade};
            let mut item = json!({
                "criterion": g.criterion,
                "grade": Grade::parse("grade", &g.grade).unwrap_or(Grade::Unknown),
            });
            for (key, value) in [("comment", &g.comment), ("evidence", &g.evidence)] {
                if let Some(value) = value {
                    item[key] = json!(value);
                }
            }
            item
        })
        .collect();
    Ok(activity_json(
        StatusCode::OK,
        &json!({
            "@context": context(),
            "id": state.urls.host_label(),
            "type": "Label",
            "attributedTo": state.urls.host_actor(),
            "criteriaSet": state.criteria.id,
            "updated": updated.map(|u| u.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            "grades": items,
        }),
    ))
}
