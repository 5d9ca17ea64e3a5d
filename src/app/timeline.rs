//! The federated timeline: our bulletins and our peers' posts, newest first, filterable by kind,
//! peer, service, impact, language and dates. `db::models::timeline` holds the index; this module
//! keeps it in step with bulletins and received posts and builds the API's answer.

use super::AppResult;
use crate::{
    bulletin::{render, vocab::BulletinMeta},
    db::{
        models::{
            bulletins::{self, Bulletin},
            remote::{self, RemoteActor, RemotePost},
            timeline::{self, TimelineItem},
        },
        DbConnection, DbResult,
    },
    federation::documents::hashtags,
    state::AppState,
    urls::{domain_of, Urls},
};
use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

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
    let mut filter = request.filter;
    if request.members_only {
        filter.actors = Some(super::collective_pages::member_actors(state).await?);
    }
    Ok(page(state, filter).await?)
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

/// A page of the timeline; `next` is the cursor of the page after, when there may be one.
#[derive(Debug, Clone, Serialize)]
pub struct TimelinePage {
    pub items: Vec<TimelineEntry>,
    pub next: Option<String>,
}

/// A page of the timeline, keyset-paginated by the filter's cursor.
pub async fn page(state: &AppState, filter: TimelineFilter) -> DbResult<TimelinePage> {
    let limit = filter.limit;
    let our_name = crate::app::profile::effective(state).await?.display_name;
    let st = state.clone();
    state
        .db
        .read(move |c| {
            let items = timeline::query(c, &filter)?;
            let next =
                (items.len() as i64 == limit).then(|| items.last().map(|i| cursor(i.published_at, &i.id))).flatten();
            let mut actors: HashMap<String, Option<RemoteActor>> = HashMap::new();
            let mut entries = Vec::new();
            for item in &items {
                let Some(source) = source(c, &st.urls, item)? else { continue };
                let entry = match source {
                    Source::Local(b) if b.is_public() => local_entry(&st, item, &b, &our_name),
                    Source::Local(_) => continue,
                    Source::Remote(p) => {
                        if !actors.contains_key(&p.actor_id) {
                            let actor = remote::find_actor(c, &p.actor_id)?;
                            actors.insert(p.actor_id.clone(), actor);
                        }
                        let actor = actors[&p.actor_id].clone();
                        remote_entry(item, p, actor.as_ref())
                    }
                };
                entries.push(entry);
            }
            Ok(TimelinePage { items: entries, next })
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
fn peer_name(actor_id: &str, actor: Option<&RemoteActor>) -> String {
    match actor {
        Some(a) => match a.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(name) => name.to_string(),
            None => format!("@{}@{}", a.preferred_username, domain_of(&a.id)),
        },
        None => actor_id.to_string(),
    }
}

fn remote_entry(item: &TimelineItem, p: RemotePost, actor: Option<&RemoteActor>) -> TimelineEntry {
    // The peer's Note as received: its window, title and hashtags are read from it.
    // (Its raw JSON keeps what the peer sent, escaped: what is read from it is cleaned here.)
    let raw: Value = serde_json::from_str(&p.raw).unwrap_or(Value::Null);
    let text_of = |key: &str| raw.get(key).and_then(Value::as_str).map(render::strip_forbidden);
    // A title when the post has one (an Article's name, a content warning), else its first words.
    let title = text_of("name")
        .map(|n| render::plain_text(&render::sanitize_html(&n)))
        .or_else(|| p.summary.as_deref().map(render::plain_text))
        .map(|t| excerpt(&t, 120))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| excerpt(&render::plain_text(&p.content_html), 80));
    let tags = match raw.get("tag") {
        Some(Value::Array(tags)) => tags.clone(),
        Some(tag @ Value::Object(_)) => vec![tag.clone()],
        _ => vec![],
    };
    let hashtags = tags
        .iter()
        .filter(|tag| tag.get("type").and_then(Value::as_str) == Some("Hashtag"))
        .filter_map(|tag| {
            let name = tag.get("name")?.as_str()?.trim_start_matches('#').trim();
            let href = tag.get("href").and_then(Value::as_str).unwrap_or_default();
            (!name.is_empty()).then(|| (render::strip_forbidden(name), render::strip_forbidden(href)))
        })
        .collect();
    TimelineEntry {
        id: item.id.clone(),
        actor: item.actor_id.clone(),
        domain: item.domain.clone(),
        local: false,
        kind: item.kind.clone(),
        change_type: item.change_type.clone(),
        impact: item.impact.clone(),
        lang: item.lang.clone(),
        published: item.published_at,
        start_time: text_of("startTime"),
        end_time: text_of("endTime"),
        meta: p.meta.as_deref().and_then(|m| serde_json::from_str(m).ok()),
        author_name: peer_name(&p.actor_id, actor),
        title,
        updated: p.updated_at.unwrap_or(p.published_at).max(p.published_at),
        hashtags,
        content: p.content_html,
        url: p.url,
        in_reply_to: p.in_reply_to,
    }
}

/// The first line of `text`, cut at a word boundary to at most `max` characters.
fn excerpt(text: &str, max: usize) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    if line.chars().count() <= max {
        return line.to_string();
    }
    let cut: String = line.chars().take(max).collect();
    let cut = match cut.rfind(char::is_whitespace) {
        Some(space) if space > max / 2 => &cut[..space],
        _ => cut.as_str(),
    };
    format!("{}…", cut.trim_end())
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
                crate::db::models::timeline_index::index_bulletin(c, &st.urls, &b)?;
                n += 1;
            }
            for p in remote::list_posts(c, i64::MAX)? {
                crate::db::models::timeline_index::index_post(c, &p)?;
                n += 1;
            }
            Ok(n)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_stop_at_a_word_and_say_so() {
        assert_eq!(excerpt("\n  Court\nsuite", 80), "Court");
        assert_eq!(excerpt("un deux trois quatre", 12), "un deux…");
        assert_eq!(excerpt("abcdefghijklmnop", 5), "abcde…");
    }
}
