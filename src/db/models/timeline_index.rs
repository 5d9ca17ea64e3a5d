//! Keeping the timeline index in step: the rows written for one of our bulletins or a peer's
//! post, in the transaction that changes it.

use super::{
    bulletins::Bulletin,
    remote::RemotePost,
    timeline::{remove, upsert, TimelineItem},
};
use crate::{
    bulletin::vocab::{BulletinMeta, Choice},
    db::{DbConnection, DbResult},
    urls::{domain_of, Urls},
};
use chrono::NaiveDateTime;

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
    );
    upsert(c, &row, &services)
}

/// Indexes a post received from a peer.
pub fn index_post(c: &mut DbConnection, post: &RemotePost) -> DbResult<()> {
    let meta: Option<BulletinMeta> = post.meta.as_deref().and_then(|m| serde_json::from_str(m).ok());
    let (row, services) = item(&post.id, &post.actor_id, false, meta.as_ref(), post.lang.clone(), post.published_at);
    upsert(c, &row, &services)
}
