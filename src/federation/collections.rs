//! The documents our URLs serve, read from storage: the outbox and its pages, the followers and
//! following counts, the featured (pinned) changes, the service catalogue and each service, the
//! label, a bulletin (its Note or its Tombstone) and a stored activity. `web::activitypub` only
//! chooses between these and a page, and writes the answer.

use super::{
    documents::{note_doc, tombstone_doc},
    protocol::*,
    FederationError,
};
use crate::{
    bulletin::vocab::{Choice, Grade, Registration},
    db::{
        models::{
            activities as queue,
            bulletins::{self, Bulletin, Translation},
            collective as roster, followers, label, remote,
            services::{self, Service},
            states::FollowState,
        },
        DbConnection, DbResult,
    },
    state::AppState,
};
use serde_json::{json, Value};

/// Bulletins per outbox page.
const PAGE_SIZE: i64 = 20;

fn collection(id: url::Url, total_items: i64, items: Option<Vec<Value>>) -> OrderedCollectionDoc {
    OrderedCollectionDoc {
        context: context(),
        id,
        kind: "OrderedCollection",
        total_items,
        first: None,
        ordered_items: items,
    }
}

/// The outbox: how many bulletins, and its first page.
pub async fn outbox(state: &AppState) -> DbResult<OrderedCollectionDoc> {
    let total = state.db.read(bulletins::count_published).await?;
    Ok(OrderedCollectionDoc {
        first: Some(state.urls.host_outbox_page(None)),
        ..collection(state.urls.host_outbox(), total, None)
    })
}

/// A page of the outbox: the Creates of our bulletins, newest first, before the bulletin `before`.
pub async fn outbox_page(state: &AppState, before: Option<String>) -> DbResult<OrderedCollectionPageDoc> {
    let urls = state.urls.clone();
    let st = state.clone();
    let cursor = before.clone();
    let (items, next) = state
        .db
        .read(move |c| {
            let cursor = match cursor {
                Some(id) => bulletins::find(c, &id)?.map(|b| (b.published_at, b.id)),
                None => None,
            };
            let page = bulletins::list_published(c, cursor, PAGE_SIZE)?;
            let mut items = Vec::new();
            for bulletin in &page {
                let note_id = urls.bulletin(&bulletin.id);
                let create = queue::latest_for_object(c, note_id.as_str(), "Create")?;
                let create_id = create.map(|a| a.id).unwrap_or_else(|| format!("{note_id}#create"));
                let translations = bulletins::translations(c, &bulletin.id)?;
                let note = note_doc(&st, bulletin, &translations);
                items.push(json!({
                    "id": create_id,
                    "type": "Create",
                    "actor": urls.host_actor(),
                    "published": note.published,
                    "to": [PUBLIC],
                    "cc": [urls.host_followers()],
                    "object": note,
                }));
            }
            let next = (page.len() as i64 == PAGE_SIZE).then(|| page.last().map(|b| b.id.clone())).flatten();
            Ok((items, next))
        })
        .await?;
    let urls = &state.urls;
    let mut id = urls.host_outbox_page(before.as_deref());
    id.set_fragment(None);
    Ok(OrderedCollectionPageDoc {
        context: context(),
        id,
        kind: "OrderedCollectionPage",
        part_of: urls.host_outbox(),
        next: next.map(|cursor| urls.host_outbox_page(Some(&cursor))),
        ordered_items: items,
    })
}

/// Our followers: the count is public (Mastodon shows it); the list is not published.
pub async fn followers(state: &AppState) -> DbResult<OrderedCollectionDoc> {
    let total = state.db.read(followers::count_accepted).await?;
    Ok(collection(state.urls.host_followers(), total, None))
}

/// The accounts we follow: the count of those that accepted.
pub async fn following(state: &AppState) -> DbResult<OrderedCollectionDoc> {
    let rows = state.db.read(remote::list_following).await?;
    let accepted = rows.iter().filter(|r| r.status == FollowState::Accepted).count() as i64;
    Ok(collection(state.urls.host_following(), accepted, None))
}

/// Ongoing incidents and upcoming or running maintenance, shown pinned by Mastodon.
pub async fn featured(state: &AppState) -> DbResult<OrderedCollectionDoc> {
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
    Ok(collection(state.urls.host_featured(), notes.len() as i64, Some(notes)))
}

/// The instance actor's `featured`: always empty (it posts nothing).
pub fn instance_featured(state: &AppState) -> OrderedCollectionDoc {
    collection(state.urls.instance_featured(), 0, Some(vec![]))
}

/// What a bulletin's URL answers.
pub enum BulletinAt {
    /// Never published, or scheduled (or deleted before its time): never public.
    Missing,
    Published {
        bulletin: Bulletin,
        translations: Vec<Translation>,
    },
    /// Deleted: a Tombstone (410).
    Deleted(TombstoneDoc),
}

pub async fn bulletin(state: &AppState, id: &str) -> DbResult<BulletinAt> {
    let key = id.to_string();
    let found = state
        .db
        .read(move |c| match bulletins::find(c, &key)? {
            Some(b) if b.federated_at.is_some() => Ok(Some((bulletins::translations(c, &b.id)?, b))),
            _ => Ok(None),
        })
        .await?;
    Ok(match found {
        None => BulletinAt::Missing,
        Some((_, bulletin)) if bulletin.is_deleted() => BulletinAt::Deleted(tombstone_doc(state, &bulletin, true)),
        Some((translations, bulletin)) => BulletinAt::Published { bulletin, translations },
    })
}

/// What an activity's URL answers: our public activities resolve at their ids; direct ones
/// (Follow, Accept…) do not. The Create or Update of a bulletin since deleted answers 410, like the
/// bulletin itself. The collective's Group's `Announce` and `Undo{Announce}` resolve too, while
/// the role is on; an `Announce` since undone answers 410 (`formerType: Announce`).
pub enum ActivityAt {
    Missing,
    Stored(Value),
    Gone(TombstoneDoc),
}

pub async fn activity(state: &AppState, id: &str) -> Result<ActivityAt, FederationError> {
    let url = state.urls.activity(id).to_string();
    let stored = state.db.read(move |c| queue::find_activity(c, &url)).await?;
    let Some(stored) = stored else { return Ok(ActivityAt::Missing) };
    if matches!(stored.kind.as_str(), "Announce" | "Undo") {
        return group_activity(state, stored).await;
    }
    if !matches!(stored.kind.as_str(), "Create" | "Update" | "Delete") {
        return Ok(ActivityAt::Missing);
    }
    if stored.kind != "Delete" {
        if let Some(bulletin_id) = state.urls.bulletin_id_of(&stored.object_id) {
            let bulletin = state.db.read(move |c| bulletins::find(c, &bulletin_id)).await?;
            if let Some(b) = bulletin.filter(|b| b.is_deleted()) {
                return Ok(ActivityAt::Gone(tombstone_doc(state, &b, true)));
            }
        }
    }
    Ok(ActivityAt::Stored(serde_json::from_str(&stored.json)?))
}

/// The Group's `Announce` of a member's bulletin (a Tombstone once undone) and its
/// `Undo{Announce}`; nothing while the collective role is off, and nothing of the host account's
/// own `Undo{Follow}` (a direct activity).
async fn group_activity(state: &AppState, stored: queue::StoredActivity) -> Result<ActivityAt, FederationError> {
    if state.config.collective.is_none() || state.keys.group.is_none() {
        return Ok(ActivityAt::Missing);
    }
    let doc: Value = serde_json::from_str(&stored.json)?;
    if doc.get("actor").and_then(Value::as_str) != Some(state.urls.group_actor().as_str()) {
        return Ok(ActivityAt::Missing);
    }
    if stored.kind == "Undo" {
        let undoes_announce = doc.pointer("/object/type").and_then(Value::as_str) == Some("Announce");
        return Ok(if undoes_announce { ActivityAt::Stored(doc) } else { ActivityAt::Missing });
    }
    let announce_id = stored.id.clone();
    let reshare = state.db.read(move |c| roster::find_reshare_by_announce(c, &announce_id)).await?;
    match reshare {
        None => Ok(ActivityAt::Missing),
        Some(reshare) => match reshare.undone_at {
            Some(undone_at) => Ok(ActivityAt::Gone(TombstoneDoc {
                context: Some(context()),
                id: url::Url::parse(&stored.id).map_err(|e| FederationError::Internal(e.to_string()))?,
                kind: "Tombstone",
                former_type: "Announce",
                deleted: Some(super::activities::rfc3339(undone_at)),
            })),
            None => Ok(ActivityAt::Stored(doc)),
        },
    }
}

/// The service catalogue: every service with its current status (derived from service changes).
pub async fn services(state: &AppState) -> DbResult<OrderedCollectionDoc> {
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
    Ok(collection(state.urls.host_services(), docs.len() as i64, Some(docs)))
}

/// A service of the catalogue (not one removed from it).
pub async fn service(state: &AppState, slug: &str) -> DbResult<Option<Value>> {
    let st = state.clone();
    let slug = slug.to_string();
    state
        .db
        .read(move |c| match services::find(c, &slug)? {
            Some(s) if s.removed_at.is_none() => service_doc(c, &st, &s).map(Some),
            _ => Ok(None),
        })
        .await
}

fn service_doc(c: &mut DbConnection, state: &AppState, s: &Service) -> DbResult<Value> {
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

/// The label: the charter graded, criterion by criterion, with comments and evidence.
pub async fn label(state: &AppState) -> DbResult<Value> {
    let grades = state.db.read(label::grades).await?;
    let updated = grades.iter().map(|g| g.updated_at).max();
    let items: Vec<Value> = grades
        .iter()
        .map(|g| {
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
    Ok(json!({
        "@context": context(),
        "id": state.urls.host_label(),
        "type": "Label",
        "attributedTo": state.urls.host_actor(),
        "criteriaSet": state.criteria.id,
        "updated": updated.map(|u| u.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "grades": items,
    }))
}

/// How many bulletins we published (NodeInfo's `localPosts`).
pub async fn published_count(state: &AppState) -> DbResult<i64> {
    state.db.read(bulletins::count_published).await
}
