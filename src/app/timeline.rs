//! The federated timeline: our bulletins and our peers' posts, newest first, filterable by kind,
//! peer, service, impact, language and dates. `db::models::timeline` holds the index; this module
//! keeps it in step with bulletins and received posts and builds the API's answer.

use super::{AppError, AppResult};
use crate::{
    bulletin::vocab::BulletinMeta,
    db::{
        models::{
            bulletins::{self, Bulletin},
            remote::{self, RemotePost},
            timeline::{self, PostEntry, TimelineItem},
            timeline_index,
        },
        DbConnection, DbResult,
    },
    federation::documents::hashtags,
    state::AppState,
    urls::{domain_of, Urls},
};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

// What a timeline query asks for.
pub use crate::db::models::timeline::TimelineFilter;

/// A timeline query: the index's filter, and whether to keep only the collective's members.
#[derive(Debug, Clone, Default)]
pub struct TimelineRequest {
    pub filter: TimelineFilter,
    /// Only the approved members of the collective (the role must be on).
    pub members_only: bool,
}

/// A page of the timeline as asked; `members_only` needs the collective role (else NotFound).
pub async fn request(state: &AppState, request: TimelineRequest) -> AppResult<TimelinePage> {
    Ok(page(state, filter_of(state, request).await?).await?)
}

/// The index's filter for `request`: the members' actors added when it asks for them only.
async fn filter_of(state: &AppState, request: TimelineRequest) -> AppResult<TimelineFilter> {
    let mut filter = request.filter;
    if request.members_only {
        filter.actors = Some(super::collective_pages::member_actors(state).await?);
    }
    Ok(filter)
}

/// [`request`]'s page as the JSON API sends it: a first page (no cursor) from the
/// [`PageCache`](crate::page_cache::PageCache) when this process has written nothing a page shows
/// since it was read (and for at most a second).
pub async fn request_json(state: &AppState, asked: TimelineRequest) -> AppResult<bytes::Bytes> {
    // A page after a cursor is read by a crawler or a reader going down the list, seldom twice;
    // the first pages are what a status page, a widget or a feed reader asks again and again.
    if asked.filter.before.is_some() {
        return Ok(bytes::Bytes::from(page_json(state, filter_of(state, asked).await?).await?));
    }
    let key = format!("{asked:?}");
    // Read before the page: a write that ends while it is read changes it, so the page read
    // then is never kept as current.
    let generation = state.db.generation();
    let now = state.clock.now();
    if let Some(body) = state.timeline_pages.get(&key, generation, now) {
        return Ok(body);
    }
    let body = bytes::Bytes::from(page_json(state, filter_of(state, asked).await?).await?);
    state.timeline_pages.keep(key, generation, now, body.clone());
    Ok(body)
}

/// One item of the timeline: one of our bulletins or a peer's post, as the JSON API, the timeline
/// page and the timeline feeds all show it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    /// The post's URL (its ActivityPub id).
    pub id: String,
    /// Its author's actor URL.
    pub actor: String,
    /// host[:port] of the author.
    pub domain: String,
    pub local: bool,
    /// `news`, `service_change`, `label_update` (the index's kinds).
    pub kind: String,
    pub change_type: Option<String>,
    pub impact: Option<String>,
    pub lang: Option<String>,
    #[serde(serialize_with = "micros")]
    pub published: NaiveDateTime,
    /// Its HTML as stored (a peer's was sanitised when received).
    pub content: String,
    /// Where a person reads it (a peer may name another page than the id).
    pub url: Option<String>,
    pub in_reply_to: Option<String>,
    /// A maintenance window, as the Note says it.
    pub start_time: Option<String>,
    pub end_time: Option<String>,
    /// The machine-readable part of a Ronron bulletin; none for a plain fediverse post.
    pub meta: Option<BulletinMeta>,
    /// The author as readers name it: our display name, the peer's name, else its handle.
    pub author_name: String,
    /// A title: a bulletin's own; for a peer's post its name or content warning, else its first
    /// words.
    pub title: String,
    #[serde(skip)]
    pub updated: NaiveDateTime,
    /// Its hashtags: (name, the tag's page).
    #[serde(skip)]
    pub hashtags: Vec<(String, String)>,
}

fn micros<S: serde::Serializer>(at: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
}

/// A peer's [`PostEntry`] as stored, its values kept as written (JSON text, not read).
#[derive(Deserialize)]
struct StoredEntry<'a> {
    #[serde(borrow)]
    content: &'a RawValue,
    #[serde(borrow)]
    url: &'a RawValue,
    #[serde(borrow)]
    in_reply_to: &'a RawValue,
    #[serde(borrow)]
    start_time: &'a RawValue,
    #[serde(borrow)]
    end_time: &'a RawValue,
    #[serde(borrow)]
    meta: &'a RawValue,
    #[serde(borrow)]
    title: &'a RawValue,
    // Not sent, but required as `PostEntry` requires them: an entry `page` would not read is
    // not sent by this path either (both then build the item from its rows).
    #[serde(borrow, rename = "updated")]
    _updated: &'a RawValue,
    #[serde(borrow, rename = "hashtags")]
    _hashtags: &'a RawValue,
}

/// A peer's post as [`TimelineEntry`] serialises it, the stored entry's values written as they
/// are (`updated` and the hashtags are not sent, as there).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StoredItem<'a> {
    id: &'a str,
    actor: &'a str,
    domain: &'a str,
    local: bool,
    kind: &'a str,
    change_type: &'a Option<String>,
    impact: &'a Option<String>,
    lang: &'a Option<String>,
    #[serde(serialize_with = "micros")]
    published: NaiveDateTime,
    content: &'a RawValue,
    url: &'a RawValue,
    in_reply_to: &'a RawValue,
    start_time: &'a RawValue,
    end_time: &'a RawValue,
    meta: &'a RawValue,
    author_name: &'a str,
    title: &'a RawValue,
}

impl<'a> StoredItem<'a> {
    fn of(item: &'a TimelineItem, entry: &'a StoredEntry<'a>, author_name: &'a str) -> Self {
        StoredItem {
            id: &item.id,
            actor: &item.actor_id,
            domain: &item.domain,
            local: false,
            kind: &item.kind,
            change_type: &item.change_type,
            impact: &item.impact,
            lang: &item.lang,
            published: item.published_at,
            content: entry.content,
            url: entry.url,
            in_reply_to: entry.in_reply_to,
            start_time: entry.start_time,
            end_time: entry.end_time,
            meta: entry.meta,
            author_name,
            title: entry.title,
        }
    }
}

/// A page of the timeline; `next` is the cursor of the page after, when there may be one.
#[derive(Debug, Clone, Serialize)]
pub struct TimelinePage {
    pub items: Vec<TimelineEntry>,
    pub next: Option<String>,
}

/// A page of the timeline, keyset-paginated by the filter's cursor: one read, in which a peer's
/// post is shown from its index row (its entry) and its author's name, joined to it.
pub async fn page(state: &AppState, filter: TimelineFilter) -> DbResult<TimelinePage> {
    let (items, next) = read_page(state, filter, |item, entry, author| {
        serde_json::from_str::<PostEntry>(entry).ok().map(|entry| remote_entry(item.clone(), entry, author))
    })
    .await?;
    let items = items
        .into_iter()
        .map(|item| match item {
            Rendered::Stored(entry) => entry,
            Rendered::Built(entry) => *entry,
        })
        .collect();
    Ok(TimelinePage { items, next })
}

/// [`page`] as the JSON API sends it (the JSON of [`TimelinePage`]), where a peer's post is
/// written from its stored entry as it is, not parsed and written again: the entry is most of a
/// page's bytes, and this is the path asked most.
async fn page_json(state: &AppState, filter: TimelineFilter) -> AppResult<Vec<u8>> {
    let (items, next) = read_page(state, filter, |item, entry, author| {
        let entry: StoredEntry = serde_json::from_str(entry).ok()?;
        serde_json::to_vec(&StoredItem::of(item, &entry, &author)).ok()
    })
    .await?;
    let internal = |e: serde_json::Error| AppError::Internal(e.to_string());
    let mut body = Vec::with_capacity(items.len() * 1024 + 64);
    body.extend_from_slice(b"{\"items\":[");
    for (n, item) in items.into_iter().enumerate() {
        if n > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&match item {
            Rendered::Stored(json) => json,
            Rendered::Built(entry) => serde_json::to_vec(&*entry).map_err(internal)?,
        });
    }
    body.extend_from_slice(b"],\"next\":");
    serde_json::to_writer(&mut body, &next).map_err(internal)?;
    body.push(b'}');
    Ok(body)
}

/// An item of a page as [`read_page`] gives it: what `stored` made of a peer's post from its
/// entry, or an entry built from the item's rows.
enum Rendered<T> {
    Stored(T),
    Built(Box<TimelineEntry>),
}

/// Reads a page: the index query (its peers' authors joined), and each item.
/// A peer's post with an entry is handed to `stored` (item, entry as stored, author's name); our
/// bulletins, posts indexed before entries existed and entries `stored` cannot read (None) are
/// built from their rows. Returns the items and the cursor of the page after.
async fn read_page<T, F>(
    state: &AppState,
    filter: TimelineFilter,
    stored: F,
) -> DbResult<(Vec<Rendered<T>>, Option<String>)>
where
    T: Send + 'static,
    F: Fn(&TimelineItem, &str, String) -> Option<T> + Send + 'static,
{
    let limit = filter.limit;
    let st = state.clone();
    state
        .db
        .read(move |c| {
            let items = timeline::query(c, &filter)?;
            let next = (items.len() as i64 == limit)
                .then(|| items.last().map(|(i, _)| cursor(i.published_at, &i.id)))
                .flatten();
            let mut our_name: Option<String> = None;
            let mut entries = Vec::with_capacity(items.len());
            for (item, author) in items {
                let author = (!item.is_local).then(|| {
                    peer_name(&item.actor_id, author.as_ref().map(|(name, handle)| (name.as_deref(), handle.as_str())))
                });
                if let Some(author) = &author {
                    if let Some(entry) = item.entry.as_deref() {
                        if let Some(rendered) = stored(&item, entry, author.clone()) {
                            entries.push(Rendered::Stored(rendered));
                            continue;
                        }
                    }
                }
                // Our bulletins, and a post indexed before entries existed (not filled yet).
                let Some(source) = source(c, &st.urls, &item)? else { continue };
                let entry = match source {
                    Source::Local(b) if b.is_public() => {
                        if our_name.is_none() {
                            our_name = Some(crate::app::profile::effective_in(c, &st.config)?.display_name);
                        }
                        local_entry(&st, &item, &b, our_name.as_deref().unwrap_or_default())
                    }
                    Source::Local(_) => continue,
                    Source::Remote(p) => {
                        let meta = p.meta.as_deref().and_then(|m| serde_json::from_str(m).ok());
                        let entry = timeline_index::post_entry(&p, meta);
                        remote_entry(item, entry, author.unwrap_or_default())
                    }
                };
                entries.push(Rendered::Built(Box::new(entry)));
            }
            Ok((entries, next))
        })
        .await
}

/// Where a timeline item's content lives: one of our bulletins, or a post stored from a peer.
enum Source {
    Local(Bulletin),
    Remote(RemotePost),
}

/// The row behind an index item (None if it went away meanwhile).
fn source(c: &mut DbConnection, urls: &Urls, item: &TimelineItem) -> DbResult<Option<Source>> {
    if item.is_local {
        let Some(id) = urls.bulletin_id_of(&item.id) else { return Ok(None) };
        Ok(bulletins::find(c, &id)?.map(Source::Local))
    } else {
        Ok(remote::find_post(c, &item.id)?.map(Source::Remote))
    }
}

fn stamp(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn local_entry(state: &AppState, item: &TimelineItem, b: &Bulletin, our_name: &str) -> TimelineEntry {
    let meta = b.meta();
    TimelineEntry {
        id: item.id.clone(),
        actor: item.actor_id.clone(),
        domain: item.domain.clone(),
        local: true,
        kind: item.kind.clone(),
        change_type: item.change_type.clone(),
        impact: item.impact.clone(),
        lang: item.lang.clone(),
        published: item.published_at,
        content: b.content_html.clone(),
        url: Some(item.id.clone()),
        in_reply_to: b.in_reply_to.clone(),
        start_time: b.starts_at.map(stamp),
        end_time: b.ends_at.map(stamp),
        hashtags: hashtags(state, &meta, [b.lang.as_str()]),
        meta: Some(meta),
        author_name: our_name.to_string(),
        title: b.title.clone(),
        updated: b.updated_at.unwrap_or(b.published_at),
    }
}

/// A peer's name as readers show it: its display name, else its handle, else its actor URL.
/// `actor` is its cached (name, preferred username).
fn peer_name(actor_id: &str, actor: Option<(Option<&str>, &str)>) -> String {
    match actor {
        Some((name, handle)) => match name.map(str::trim).filter(|n| !n.is_empty()) {
            Some(name) => name.to_string(),
            None => format!("@{handle}@{}", domain_of(actor_id)),
        },
        None => actor_id.to_string(),
    }
}

fn remote_entry(item: TimelineItem, p: PostEntry, author_name: String) -> TimelineEntry {
    TimelineEntry {
        id: item.id,
        actor: item.actor_id,
        domain: item.domain,
        local: false,
        kind: item.kind,
        change_type: item.change_type,
        impact: item.impact,
        lang: item.lang,
        published: item.published_at,
        start_time: p.start_time,
        end_time: p.end_time,
        meta: p.meta,
        author_name,
        title: p.title,
        updated: p.updated,
        hashtags: p.hashtags,
        content: p.content,
        url: p.url,
        in_reply_to: p.in_reply_to,
    }
}

/// An opaque-looking but readable keyset cursor: `<micros since epoch>.<id>`.
pub fn cursor(at: NaiveDateTime, id: &str) -> String {
    format!("{}.{}", at.and_utc().timestamp_micros(), id)
}

pub fn parse_cursor(cursor: &str) -> Option<(NaiveDateTime, String)> {
    let (micros, id) = cursor.split_once('.')?;
    let at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
    Some((at, id.to_string()))
}

/// Indexes every stored bulletin and post when the index is empty (first start after the
/// upgrade that added it). Returns how many items were indexed.
pub async fn rebuild_if_empty(state: &AppState) -> DbResult<usize> {
    let st = state.clone();
    state
        .db
        .write(move |c| {
            if timeline::count(c)? > 0 {
                return Ok(0);
            }
            let mut n = 0;
            for b in bulletins::list_published(c, None, i64::MAX)? {
                timeline_index::index_bulletin(c, &st.urls, &b)?;
                n += 1;
            }
            for p in remote::list_posts(c, i64::MAX)? {
                timeline_index::index_post(c, &p)?;
                n += 1;
            }
            Ok(n)
        })
        .await
}

/// Writes the entry of every peer's post indexed before entries existed (the first start after
/// that upgrade), 500 a transaction; until then such a post is read from `remote_posts`. Returns
/// how many were filled.
pub async fn fill_entries(state: &AppState) -> DbResult<usize> {
    let mut after = String::new();
    let mut filled = 0;
    loop {
        let from = after.clone();
        let (last, n) = state
            .db
            .write(move |c| {
                let ids = timeline::without_entry(c, &from, 500)?;
                let mut n = 0;
                for id in &ids {
                    if let Some(post) = remote::find_post(c, id)? {
                        let meta = post.meta.as_deref().and_then(|m| serde_json::from_str(m).ok());
                        let entry = serde_json::to_string(&timeline_index::post_entry(&post, meta))
                            .expect("an entry serialises");
                        timeline::set_entry(c, id, &entry)?;
                        n += 1;
                    }
                }
                Ok::<_, crate::db::DbError>((ids.last().cloned(), n))
            })
            .await?;
        filled += n;
        match last {
            Some(last) => after = last,
            None => return Ok(filled),
        }
    }
}
