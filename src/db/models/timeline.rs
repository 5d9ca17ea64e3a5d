//! The timeline's index rows and its filtered, keyset-paginated query.

use crate::{
    bulletin::vocab::BulletinMeta,
    db::{
        schema::{remote_actors, timeline_items, timeline_services},
        DbConnection, DbResult,
    },
};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, PartialEq)]
// None inserted as NULL (the columns have no default), not as `DEFAULT`: an insert whose
// columns do not depend on its values is cached by its type (and, on PostgreSQL, cached at all).
#[diesel(table_name = timeline_items, treat_none_as_null = true)]
pub struct TimelineItem {
    pub id: String,
    pub actor_id: String,
    /// host[:port] of the author, for the peer filter.
    pub domain: String,
    pub is_local: bool,
    /// `news` (also for a plain fediverse post), `service_change` or `label_update`.
    pub kind: String,
    pub change_type: Option<String>,
    pub impact: Option<String>,
    pub lang: Option<String>,
    pub published_at: NaiveDateTime,
    /// A peer's post as the timeline shows it ([`PostEntry`] as JSON), so a page needs no other
    /// row; None for our own bulletins, and for rows indexed before it existed until filled.
    pub entry: Option<String>,
}

/// What the timeline shows of a peer's post, but its author's name (which follows the author's
/// profile): read from the post when it is indexed, kept in its index row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostEntry {
    pub content: String,
    pub url: Option<String>,
    pub in_reply_to: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    pub meta: Option<BulletinMeta>,
    pub title: String,
    pub updated: NaiveDateTime,
    pub hashtags: Vec<(String, String)>,
}

/// The items of the timeline that are peers' posts without their entry, after `after` by id (at
/// most `limit`): what start-up fills after the upgrade that added entries.
pub fn without_entry(conn: &mut DbConnection, after: &str, limit: i64) -> DbResult<Vec<String>> {
    Ok(timeline_items::table
        .filter(timeline_items::entry.is_null())
        .filter(timeline_items::is_local.eq(false))
        .filter(timeline_items::id.gt(after))
        .order(timeline_items::id)
        .select(timeline_items::id)
        .limit(limit)
        .load(conn)?)
}

pub fn set_entry(conn: &mut DbConnection, id: &str, entry: &str) -> DbResult<()> {
    diesel::update(timeline_items::table.find(id)).set(timeline_items::entry.eq(entry)).execute(conn)?;
    Ok(())
}

/// Writes (or rewrites) an item and the services it is about.
pub fn upsert(conn: &mut DbConnection, item: &TimelineItem, services: &[String]) -> DbResult<()> {
    remove(conn, &item.id)?;
    insert(conn, item, services)
}

/// Writes a new item (none with its id is indexed) and the services it is about.
pub fn insert(conn: &mut DbConnection, item: &TimelineItem, services: &[String]) -> DbResult<()> {
    each_backend!(conn, |c| diesel::insert_into(timeline_items::table).values(item).execute(c))?;
    let mut services: Vec<String> = services.iter().map(|s| s.to_lowercase()).collect();
    services.sort();
    services.dedup();
    for service in services {
        let row = (
            timeline_services::service.eq(service),
            timeline_services::published_at.eq(item.published_at),
            timeline_services::item_id.eq(&item.id),
        );
        each_backend!(conn, |c| diesel::insert_into(timeline_services::table).values(row).execute(c))?;
    }
    Ok(())
}

pub fn remove(conn: &mut DbConnection, id: &str) -> DbResult<()> {
    diesel::delete(timeline_services::table.filter(timeline_services::item_id.eq(id))).execute(conn)?;
    diesel::delete(timeline_items::table.find(id)).execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct TimelineFilter {
    pub kind: Option<String>,
    pub domain: Option<String>,
    pub service: Option<String>,
    pub impact: Option<String>,
    pub lang: Option<String>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
    /// Only these authors (a collective's members); an empty list matches nothing.
    pub actors: Option<Vec<String>>,
    /// Keyset cursor: items strictly older than (published_at, id).
    pub before: Option<(NaiveDateTime, String)>,
    pub limit: i64,
}

/// A peer author as cached with an item: (display name, preferred username); None for our own
/// bulletins and for an author not cached.
pub type CachedAuthor = Option<(Option<String>, String)>;

/// The page `f` asks for, each item with its author as cached (one statement: a page is read
/// whole by one query, its authors joined by primary key).
///
/// Newest first. Each filter has an index that starts with its column and ends with
/// (published_at, id); the keyset condition is written `published_at <= t AND (published_at < t
/// OR id < i)` so that its first half is an index range on both backends. With a service, the
/// walk starts from `timeline_services`' (service, published_at, item_id) key instead.
pub fn query(conn: &mut DbConnection, f: &TimelineFilter) -> DbResult<Vec<(TimelineItem, CachedAuthor)>> {
    use remote_actors as a;
    use timeline_items as t;
    use timeline_services as s;
    // One upper bound, the tighter: the planner cannot tell which of two bound parameters is, and
    // an index walk from the looser one reads every item between them (a dated filter's next
    // page took 15 ms at 100,000 items). `until` is strict, the cursor's walk starts at `at`.
    let (until, before) = match (f.until, &f.before) {
        (Some(until), Some((at, _))) if until <= *at => (Some(until), None),
        (Some(_), Some(before)) => (None, Some(before)),
        (until, before) => (until, before.as_ref()),
    };
    // The same filters on both query shapes; `$at` and `$id` are the columns the walk is ordered
    // by (the item's, or the service row's for the service filter).
    macro_rules! filtered {
        ($query:expr, $at:expr, $id:expr) => {{
            let mut q = $query
                .left_join(a::table.on(a::id.eq(t::actor_id)))
                .select((TimelineItem::as_select(), (a::name, a::preferred_username).nullable()))
                .order(($at.desc(), $id.desc()))
                .limit(f.limit)
                .into_boxed();
            if let Some(kind) = &f.kind {
                q = q.filter(t::kind.eq(kind.clone()));
            }
            if let Some(domain) = &f.domain {
                q = q.filter(t::domain.eq(domain.clone()));
            }
            if let Some(impact) = &f.impact {
                q = q.filter(t::impact.eq(impact.clone()));
            }
            if let Some(lang) = &f.lang {
                q = q.filter(t::lang.eq(lang.clone()));
            }
            if let Some(actors) = &f.actors {
                q = q.filter(t::actor_id.eq_any(actors.clone()));
            }
            if let Some(since) = f.since {
                q = q.filter($at.ge(since));
            }
            if let Some(until) = until {
                q = q.filter($at.lt(until));
            }
            if let Some((at, id)) = before {
                q = q.filter($at.le(*at)).filter($at.lt(*at).or($id.lt(id.clone())));
            }
            q.load(conn)?
        }};
    }
    Ok(match &f.service {
        Some(service) => {
            filtered!(
                t::table.inner_join(s::table).filter(s::service.eq(service.to_lowercase())),
                s::published_at,
                s::item_id
            )
        }
        None => filtered!(t::table, t::published_at, t::id),
    })
}

pub fn count(conn: &mut DbConnection) -> DbResult<i64> {
    Ok(timeline_items::table.count().get_result(conn)?)
}
