//! Domain blocks: a blocked server's activities are refused (403), what we stored from it is
//! purged, and nothing more is delivered to it.

use super::{AppError, AppResult};
use crate::refusal::Kind;
use crate::{
    db::{
        models::{
            activities as queue,
            blocks::{self, DomainBlock},
            followers, remote,
        },
        DbResult,
    },
    state::AppState,
    urls::Authority,
};

fn not_a_host(domain: &str) -> AppError {
    AppError::refused("domain", Kind::NotAHost, &[("value", domain)])
}

/// What a block removed.
#[derive(Debug, Default, PartialEq)]
pub struct Purged {
    pub followers: usize,
    pub following: usize,
    pub posts: usize,
    pub deliveries: usize,
}

/// A domain as blocks store it: `host` or `host:port` as [`Authority`] normalises them (lower
/// case, IDNA to ASCII, no trailing dot, no default port), typed with or without a scheme.
pub fn normalise(domain: &str) -> AppResult<String> {
    Authority::parse(domain).map(|a| a.to_string()).ok_or_else(|| not_a_host(domain.trim()))
}

/// What a block removed, with the block as stored.
#[derive(Debug)]
pub struct Blocked {
    pub block: DomainBlock,
    pub purged: Purged,
}

/// Blocks a domain and purges what came from it, in one transaction.
pub async fn block(state: &AppState, domain: &str, reason: Option<String>) -> AppResult<Blocked> {
    crate::bulletin::check_optional_text("reason", reason.as_deref())?;
    let domain = normalise(domain)?;
    let now = state.clock.now();
    let block = DomainBlock { domain: domain.clone(), reason, created_at: now };
    if block.covers(state.urls.base().as_str()) {
        return Err(AppError::refused("domain", Kind::ThisServer, &[("value", &domain)]));
    }
    let (block, purged) = state
        .db
        .write(move |c| -> DbResult<(DomainBlock, Purged)> {
            // Blocking a domain again keeps the block as it was first stored (its reason, its date).
            let block = match blocks::insert(c, &block)? {
                true => block,
                false => blocks::list(c)?.into_iter().find(|b| b.domain == block.domain).unwrap_or(block),
            };
            let mut purged = Purged::default();
            for f in followers::list(c, None)? {
                if block.covers(&f.actor_id) {
                    followers::delete(c, f.id)?;
                    purged.followers += 1;
                }
            }
            for f in remote::list_following(c)? {
                if block.covers(&f.actor_id) {
                    remote::delete_following(c, &f.actor_id)?;
                    purged.following += 1;
                }
            }
            for entry in crate::db::models::directory::list(c)? {
                if block.covers(&entry.actor_id) {
                    crate::db::models::directory::delete(c, &entry.actor_id)?;
                }
            }
            purged.posts = remote::delete_posts_where(c, |p| block.covers(&p.id) || block.covers(&p.actor_id))?;
            purged.deliveries = queue::give_up_pending_where(c, |inbox| block.covers(inbox), "domain blocked", now)?;
            Ok((block, purged))
        })
        .await?;
    Ok(Blocked { block, purged })
}

/// Lifts a block; false when the domain was not blocked.
pub async fn unblock(state: &AppState, domain: &str) -> AppResult<bool> {
    let domain = normalise(domain)?;
    Ok(state
        .db
        .write(move |c| -> DbResult<bool> {
            // A block stored before blocks were normalised is found under any of its spellings.
            let mut deleted = false;
            for block in blocks::list(c)? {
                if block.domain == domain || normalise(&block.domain).is_ok_and(|d| d == domain) {
                    deleted |= blocks::delete(c, &block.domain)?;
                }
            }
            Ok(deleted)
        })
        .await?)
}

pub async fn list(state: &AppState) -> AppResult<Vec<DomainBlock>> {
    Ok(state.db.read(blocks::list).await?)
}
