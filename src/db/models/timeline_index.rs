//! Keeping the timeline index in step: the rows written for one of our bulletins or a peer's
//! post, in the transaction that changes it.

use super::{
    bulletins::Bulletin,
    remote::RemotePost,
    timeline::{insert, remove, upsert, PostEntry, TimelineItem},
};
use crate::{
    bulletin::{
        render,
        vocab::{BulletinMeta, Choice},
    },
    db::{DbConnection, DbResult},
    urls::{domain_of, Urls},
};
use chrono::NaiveDateTime;
use serde_json::Value;

fn item(
    id: &str,
    actor: &str,
    is_local: bool,
    meta: Option<&BulletinMeta>,
    lang: Option<String>,
    published_at: NaiveDateTime,
    entry: Option<String>,
) -> (TimelineItem, Vec<String>) {
    let item = TimelineItem {
        id: id.to_string(),
        actor_id: actor.to_string(),
        domain: domain_of(actor),
        is_local,
        // A plain fediverse post (no Ronron extension) is kept as news.
        kind: meta.map(|m| m.bulletin_kind.cli_name().to_string()).unwrap_or_else(|| "news".into()),
        change_type: meta.and_then(|m| m.change_type).map(|t| t.cli_name().to_string()),
        impact: meta.and_then(|m| m.impact).map(|i| i.cli_name().to_string()),
        lang,
        published_at,
        entry,
    };
    let services = meta.map(|m| m.service.iter().map(|s| s.name.clone()).collect()).unwrap_or_default();
    (item, services)
}

/// Indexes one of our bulletins (call once it is federated, and after each change).
pub fn index_bulletin(c: &mut DbConnection, urls: &Urls, b: &Bulletin) -> DbResult<()> {
    if !b.is_public() {
        return remove(c, urls.bulletin(&b.id).as_str());
    }
    let meta = b.meta();
    let (row, services) = item(
        urls.bulletin(&b.id).as_str(),
        urls.host_actor().as_str(),
        true,
        Some(&meta),
        Some(b.lang.clone()),
        b.published_at,
        None,
    );
    upsert(c, &row, &services)
}

/// The index row of a post received from a peer, with its entry, and its services.
fn post_item(post: &RemotePost) -> (TimelineItem, Vec<String>) {
    let meta: Option<BulletinMeta> = post.meta.as_deref().and_then(|m| serde_json::from_str(m).ok());
    let entry = serde_json::to_string(&post_entry(post, meta.clone())).expect("an entry serialises");
    item(&post.id, &post.actor_id, false, meta.as_ref(), post.lang.clone(), post.published_at, Some(entry))
}

/// Indexes a post received from a peer.
pub fn index_post(c: &mut DbConnection, post: &RemotePost) -> DbResult<()> {
    let (row, services) = post_item(post);
    upsert(c, &row, &services)
}

/// The index row of a peer's post, with its entry and services, built before the write that
/// stores it (building the entry reads the post's JSON and HTML: work kept out of the inbox's
/// shared write).
pub struct NewIndexRow {
    row: TimelineItem,
    services: Vec<String>,
}

pub fn new_index_row(post: &RemotePost) -> NewIndexRow {
    let (row, services) = post_item(post);
    NewIndexRow { row, services }
}

/// Indexes a post received from a peer that was not stored before (so not indexed either).
pub fn index_new_post(c: &mut DbConnection, index: &NewIndexRow) -> DbResult<()> {
    insert(c, &index.row, &index.services)
}

/// What the timeline shows of a peer's post, read from the post as stored.
pub fn post_entry(p: &RemotePost, meta: Option<BulletinMeta>) -> PostEntry {
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
    PostEntry {
        content: p.content_html.clone(),
        url: p.url.clone(),
        in_reply_to: p.in_reply_to.clone(),
        start_time: text_of("startTime"),
        end_time: text_of("endTime"),
        meta,
        title,
        updated: p.updated_at.unwrap_or(p.published_at).max(p.published_at),
        hashtags,
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
