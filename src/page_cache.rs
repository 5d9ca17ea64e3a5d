//! Pages as last sent, kept while this process writes nothing (`AppState::timeline_pages`).

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
/// Pages kept at most (each a few kB); past that, all are dropped and kept anew.
const MAX_KEPT: usize = 256;

/// The API's timeline pages as sent, kept while this process writes nothing: a status page, a
/// widget or a feed reader asks for the same first page again and again, and one served from
/// here costs a lookup instead of a query and its JSON. A page is kept under the write generation
/// it was read at (`Db::generation`) and for [`KEPT_FOR`], since another process on the same
/// database (a `ronron post`, a second `ronron serve`) does not change this one's generation.
#[derive(Default)]
pub struct PageCache {
    pages: Mutex<HashMap<String, KeptPage>>,
    hits: AtomicU64,
}

struct KeptPage {
    generation: u64,
    until: NaiveDateTime,
    body: bytes::Bytes,
}

impl PageCache {
    /// The page kept for `key`, if it was read at `generation` and has not expired at `now`.
    pub fn get(&self, key: &str, generation: u64, now: NaiveDateTime) -> Option<bytes::Bytes> {
        let pages = self.pages.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let page = pages.get(key).filter(|p| p.generation == generation && now < p.until)?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(page.body.clone())
    }

    /// Keeps `body` as the page of `key`, read at `generation` and at `now`.
    pub fn keep(&self, key: String, generation: u64, now: NaiveDateTime, body: bytes::Bytes) {
        let page = KeptPage { generation, until: now + KEPT_FOR, body };
        let mut pages = self.pages.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if pages.len() >= MAX_KEPT && !pages.contains_key(&key) {
            pages.clear();
        }
        pages.insert(key, page);
    }

    /// How many pages were sent from here.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }
}
