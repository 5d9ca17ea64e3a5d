//! The federated timeline: our bulletins and our peers' posts, newest first, filterable by kind,
//! peer, service, impact, language and dates. `db::models::timeline` holds the index; this module
//! keeps it in step with bulletins and received posts and builds the API's answer.

use crate::{
    bulletin::vocab::{BulletinMeta, Choice},
    db::{
        models::{
            bulletins::{self, Bulletin},
            remote::{self, RemotePost},
            timeline::{self, TimelineFilter, TimelineItem},
        },
        DbConnection, DbResult,
    },
    state::AppState,
    urls::Urls,
};
use chrono::NaiveDateTime;
use serde_json::{json, Value};

/// host[:port] of a URL.
pub fn domain_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            })
        })
        .unwrap_or_default()
}

fn item(
    id: &str,
    actor: &str,
    is_local: bool,
    meta: Option<&BulletinMeta>,
    lang: Option<String>,
    published_at: NaiveDateTime,
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
    };
    let services = meta.map(|m| m.service.iter().map(|s| s.name.clone()).collect()).unwrap_or_default();
    (item, services)
}

/// Indexes one of our bulletins (call once it is federated, and after each change).
pub fn index_bulletin(c: &mut DbConnection, state: &AppState, b: &Bulletin) -> DbResult<()> {
    if !b.is_public() {
        return timeline::remove(c, state.urls.bulletin(&b.id).as_str());
    }
    let meta = b.meta();
    let (row, services) = item(
        state.urls.bulletin(&b.id).as_str(),
        state.urls.host_actor().as_str(),
        true,
        Some(&meta),
        Some(b.lang.clone()),
        b.published_at,
    );
    timeline::upsert(c, &row, &services)
}

/// Indexes a post received from a peer.
pub fn index_post(c: &mut DbConnection, post: &RemotePost) -> DbResult<()> {
    let meta: Option<BulletinMeta> = post.meta.as_deref().and_then(|m| serde_json::from_str(m).ok());
    let (row, services) = item(&post.id, &post.actor_id, false, meta.as_ref(), post.lang.clone(), post.published_at);
    timeline::upsert(c, &row, &services)
}

/// A page of the timeline as the JSON API returns it.
pub async fn page(state: &AppState, filter: TimelineFilter) -> DbResult<Value> {
    let limit = filter.limit;
    let st = state.clone();
    state
        .db
        .read(move |c| {
            let items = timeline::query(c, &filter)?;
            let mut out = Vec::new();
            for item in &items {
                out.push(render_item(c, &st, item)?);
            }
            let next =
                (items.len() as i64 == limit).then(|| items.last().map(|i| cursor(i.published_at, &i.id))).flatten();
            Ok(json!({"items": out, "next": next}))
        })
        .await
}

/// Where a timeline item's content lives: one of our bulletins, or a post stored from a peer.
pub enum Source {
    Local(Bulletin),
    Remote(RemotePost),
}

/// The row behind an index item (None if it went away meanwhile), for the API, the timeline
/// page and the timeline feeds alike.
pub fn source(c: &mut DbConnection, urls: &Urls, item: &TimelineItem) -> DbResult<Option<Source>> {
    if item.is_local {
        let Some(id) = urls.bulletin_id_of(&item.id) else { return Ok(None) };
        Ok(bulletins::find(c, &id)?.map(Source::Local))
    } else {
        Ok(remote::find_post(c, &item.id)?.map(Source::Remote))
    }
}

fn render_item(c: &mut DbConnection, state: &AppState, item: &TimelineItem) -> DbResult<Value> {
    let stamp = |t: NaiveDateTime| Value::String(t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
    let (content, url, in_reply_to, meta, window) = match source(c, &state.urls, item)? {
        Some(Source::Local(b)) => (
            b.content_html.clone(),
            Some(item.id.clone()),
            b.in_reply_to.clone(),
            serde_json::to_value(b.meta()).ok(),
            (b.starts_at.map(stamp), b.ends_at.map(stamp)),
        ),
        Some(Source::Remote(p)) => {
            // The window of a peer's maintenance, as its Note says it.
            let raw: Value = serde_json::from_str(&p.raw).unwrap_or(Value::Null);
            let window = (raw.get("startTime").cloned(), raw.get("endTime").cloned());
            (p.content_html, p.url, p.in_reply_to, p.meta.and_then(|m| serde_json::from_str(&m).ok()), window)
        }
        None => (String::new(), None, None, None, (None, None)),
    };
    Ok(json!({
        "id": item.id,
        "actor": item.actor_id,
        "domain": item.domain,
        "local": item.is_local,
        "kind": item.kind,
        "changeType": item.change_type,
        "impact": item.impact,
        "lang": item.lang,
        "published": item.published_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "content": content,
        "url": url,
        "inReplyTo": in_reply_to,
        "startTime": window.0,
        "endTime": window.1,
        "meta": meta,
    }))
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
                index_bulletin(c, &st, &b)?;
                n += 1;
            }
            for p in remote::list_posts(c, i64::MAX)? {
                index_post(c, &p)?;
                n += 1;
            }
            Ok(n)
        })
        .await
}
