//! Pages as last sent, kept while this process writes nothing a page shows
//! (`AppState::timeline_pages`; `Db::write_queue_state` does not count).

use chrono::{Duration, NaiveDateTime};
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Mutex,
    },
};

/// How long a page is sent again as it was, at most: the bound on showing a write made by
/// another process (this process's own writes are seen at once).
const KEPT_FOR: Duration = Duration::seconds(1);
/// Pages kept at most, and their bytes at most: past either, the pages no longer current are
/// dropped, and if that is not enough, all of them.
const MAX_KEPT: usize = 256;
const MAX_BYTES: usize = 4 << 20;
/// A page larger than this is not kept (a hundred long posts): it would push out many others.
const MAX_PAGE_BYTES: usize = 256 << 10;

/// The API's timeline pages as sent, kept while this process writes nothing: a status page, a
/// widget or a feed reader asks for the same first page again and again, and one served from
/// here costs a lookup instead of a query and its JSON. A page is kept under the write generation
/// it was read at (`Db::generation`) and for [`KEPT_FOR`], since another process on the same
/// database (a `ronron post`, a second `ronron serve`) does not change this one's generation.
#[derive(Default)]
pub struct PageCache {
    pages: Mutex<Kept>,
    hits: AtomicU64,
}

#[derive(Default)]
struct Kept {
    pages: HashMap<String, KeptPage>,
    bytes: usize,
}

struct KeptPage {
    generation: u64,
    until: NaiveDateTime,
    body: bytes::Bytes,
}

impl KeptPage {
    /// Still the page to send at `generation` and `now` (a clock set back does not keep it
    /// longer than [`KEPT_FOR`]).
    fn current(&self, generation: u64, now: NaiveDateTime) -> bool {
        self.generation == generation && self.unexpired(now)
    }

    fn unexpired(&self, now: NaiveDateTime) -> bool {
        now < self.until && self.until - now <= KEPT_FOR
    }
}

impl PageCache {
    /// The page kept for `key`, if it was read at `generation` and has not expired at `now`.
    pub fn get(&self, key: &str, generation: u64, now: NaiveDateTime) -> Option<bytes::Bytes> {
        let kept = self.pages.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let page = kept.pages.get(key).filter(|p| p.current(generation, now))?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(page.body.clone())
    }

    /// Keeps `body` as the page of `key`, read at `generation` and at `now` (unless it is too
    /// large, or a page read at a later generation is kept already).
    pub fn keep(&self, key: String, generation: u64, now: NaiveDateTime, body: bytes::Bytes) {
        if body.len() > MAX_PAGE_BYTES {
            return;
        }
        let mut kept = self.pages.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let kept = &mut *kept;
        if kept.pages.get(&key).is_some_and(|p| p.generation > generation) {
            return;
        }
        if let Some(old) = kept.pages.remove(&key) {
            kept.bytes -= old.body.len();
        }
        let full = |k: &Kept| k.pages.len() >= MAX_KEPT || k.bytes + body.len() > MAX_BYTES;
        if full(kept) {
            // Kept: pages read at this generation or later (a late reader's is not the newest).
            kept.pages.retain(|_, p| p.generation >= generation && p.unexpired(now));
            kept.bytes = kept.pages.values().map(|p| p.body.len()).sum();
        }
        if full(kept) {
            kept.pages.clear();
            kept.bytes = 0;
        }
        kept.bytes += body.len();
        kept.pages.insert(key, KeptPage { generation, until: now + KEPT_FOR, body });
    }

    /// How many pages were sent from here.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap().naive_utc()
    }

    fn body(bytes: usize) -> bytes::Bytes {
        bytes::Bytes::from(vec![b'x'; bytes])
    }

    #[test]
    fn a_page_is_sent_again_only_at_its_generation_and_within_a_second() {
        let cache = PageCache::default();
        cache.keep("first".into(), 7, at(0), body(10));
        assert!(cache.get("first", 7, at(0)).is_some());
        assert!(cache.get("first", 8, at(0)).is_none(), "a write since");
        assert!(cache.get("first", 7, at(1)).is_none(), "a second later");
        assert!(cache.get("first", 7, at(-5)).is_none(), "a clock set back does not keep it longer");
        assert!(cache.get("other", 7, at(0)).is_none());
        assert_eq!(cache.hits(), 1);
    }

    #[test]
    fn a_page_read_before_a_write_does_not_replace_one_read_after() {
        let cache = PageCache::default();
        cache.keep("first".into(), 8, at(0), body(1));
        cache.keep("first".into(), 7, at(0), body(2));
        assert_eq!(cache.get("first", 8, at(0)).map(|b| b.len()), Some(1));
    }

    #[test]
    fn what_is_kept_is_bounded_in_pages_and_bytes() {
        let cache = PageCache::default();
        cache.keep("huge".into(), 1, at(0), body(MAX_PAGE_BYTES + 1));
        assert!(cache.get("huge", 1, at(0)).is_none(), "too large to keep");
        // Past the count, the pages no longer current go first; the current ones stay.
        cache.keep("old".into(), 1, at(0), body(1));
        for n in 0..MAX_KEPT - 1 {
            cache.keep(format!("page {n}"), 2, at(0), body(1));
        }
        cache.keep("one more".into(), 2, at(0), body(1));
        assert!(cache.get("page 0", 2, at(0)).is_some());
        assert!(cache.get("one more", 2, at(0)).is_some());
        assert_eq!(cache.pages.lock().unwrap().pages.len(), MAX_KEPT);
        // Past the bytes, with every page current: all are dropped, the new one kept.
        for n in 0..MAX_BYTES / MAX_PAGE_BYTES {
            cache.keep(format!("big {n}"), 2, at(0), body(MAX_PAGE_BYTES));
        }
        let kept = cache.pages.lock().unwrap();
        assert!(kept.bytes <= MAX_BYTES, "{} bytes kept", kept.bytes);
        assert_eq!(kept.bytes, kept.pages.values().map(|p| p.body.len()).sum::<usize>());
    }
}
