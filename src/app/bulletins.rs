//! Bulletins: publish (news and service changes), preview, edit, delete, incident follow-ups,
//! reschedule and cancel a maintenance, and the scheduler's step (scheduled publications and
//! maintenance windows moving on their own).
//!
//! Each function changes the bulletin, its activity and its deliveries in one transaction.

use super::{live_bulletin, write_and_wake, AppError, AppResult};
use crate::{
    bulletin::{
        self,
        content::{self, RenderContext, Texts},
        vocab::*,
        BulletinError, ChangeDraft, NewsDraft, TextDraft, ValidText,
    },
    db::{
        models::{
            activities, bulletins, followers,
            services::{self, Service},
        },
        DbConnection,
    },
    federation::{
        activities::{enqueue_with_proof, public_activity},
        documents::{note_doc, service_ref, tombstone_doc},
    },
    refusal::{Kind, Refusals},
    state::AppState,
};
use chrono::NaiveDateTime;

// The stored bulletin and its translations are what the use-cases hand out.
pub use crate::db::models::bulletins::{Bulletin, Translation};

fn render_text(state: &AppState, b: &Bulletin, meta: &BulletinMeta, lang: &str, title: &str, body: &str) -> String {
    let url = state.urls.bulletin(&b.id).to_string();
    let criteria = state.criteria.clone();
    let label = move |id: &str, lang: &str| criteria.label(id, lang);
    let ctx = RenderContext {
        bulletin_url: &url,
        timezone: state.config.timezone(),
        hashtags: crate::federation::documents::hashtags(state, meta, [lang]),
        criterion_label: &label,
        words: &state.texts,
    };
    content::render(&ctx, &Texts { lang, title, body_markdown: body }, meta, b.starts_at, b.ends_at)
}

/// Renders the HTML of the bulletin and of its translations from their texts and its meta.
fn rerender(state: &AppState, b: &mut Bulletin, translations: &mut [Translation]) {
    let meta = b.meta();
    b.content_html = render_text(state, b, &meta, &b.lang, &b.title, &b.body_markdown);
    for t in translations.iter_mut() {
        t.content_html = render_text(state, b, &meta, &t.lang, &t.title, &t.body_markdown);
    }
}

// ---------------------------------------------------------------- writing

/// A bulletin checked and ready to store.
pub struct NewBulletin {
    pub main: ValidText,
    pub translation: Option<ValidText>,
    pub meta: BulletinMeta,
    pub services: Vec<Service>,
    pub starts_at: Option<NaiveDateTime>,
    pub ends_at: Option<NaiveDateTime>,
    pub publish_at: Option<NaiveDateTime>,
    pub in_reply_to: Option<String>,
}

/// `updated` must grow strictly, or Mastodon ignores the Update.
fn next_updated(b: &Bulletin, now: NaiveDateTime) -> NaiveDateTime {
    match b.updated_at {
        Some(previous) if now <= previous => previous + chrono::Duration::seconds(1),
        _ => now.max(b.published_at),
    }
}

fn store_meta(b: &mut Bulletin, meta: &BulletinMeta) {
    b.extra = Some(serde_json::to_string(meta).expect("meta serialises"));
    b.change_type = meta.change_type.map(|t| t.cli_name().to_string());
    b.state = meta.state.map(|s| s.cli_name().to_string());
}

/// A translation row for `id`, its HTML rendered later by `rerender`.
fn translation_row(id: &str, t: ValidText) -> Translation {
    Translation {
        bulletin_id: id.to_string(),
        lang: t.lang,
        title: t.title,
        body_markdown: t.body_markdown,
        content_html: String::new(),
    }
}

/// The catalogue services a bulletin is about.
fn services_of(c: &mut DbConnection, id: &str) -> AppResult<Vec<Service>> {
    let services: crate::db::DbResult<Vec<Service>> =
        bulletins::service_slugs(c, id)?.iter().filter_map(|s| services::find(c, s).transpose()).collect();
    Ok(services?)
}

pub(super) fn insert_new(
    c: &mut DbConnection,
    state: &AppState,
    mut new: NewBulletin,
    now: NaiveDateTime,
) -> AppResult<Bulletin> {
    new.meta.service = new.services.iter().map(|s| service_ref(state, s)).collect();
    let scheduled = new.publish_at.is_some_and(|at| at > now);
    let mut b = Bulletin {
        id: bulletin::new_id(),
        kind: new.meta.bulletin_kind.cli_name().to_string(),
        lang: new.main.lang,
        title: new.main.title,
        body_markdown: new.main.body_markdown,
        content_html: String::new(),
        in_reply_to: new.in_reply_to,
        extra: None,
        created_at: now,
        published_at: if scheduled { new.publish_at.unwrap_or(now) } else { now },
        updated_at: None,
        deleted_at: None,
        change_type: None,
        state: None,
        starts_at: new.starts_at,
        ends_at: new.ends_at,
        federated_at: if scheduled { None } else { Some(now) },
    };
    store_meta(&mut b, &new.meta);
    let mut translations: Vec<Translation> = new.translation.into_iter().map(|t| translation_row(&b.id, t)).collect();
    rerender(state, &mut b, &mut translations);
    bulletins::insert(c, &b)?;
    bulletins::replace_translations(c, &b.id, &translations)?;
    bulletins::set_services(c, &b.id, &new.services.iter().map(|s| s.slug.clone()).collect::<Vec<_>>())?;
    if !scheduled {
        federate_new(c, state, &mut b, now)?;
    }
    Ok(b)
}

/// Applies what a service change does to the catalogue, then queues its Create. The caller has
/// stored `federated_at`.
fn federate_new(c: &mut DbConnection, state: &AppState, b: &mut Bulletin, now: NaiveDateTime) -> AppResult<()> {
    apply_to_catalogue(c, b, now)?;
    crate::db::models::timeline_index::index_bulletin(c, &state.urls, b)?;
    let translations = bulletins::translations(c, &b.id)?;
    let note = serde_json::to_value(note_doc(state, b, &translations)).expect("a Note serialises");
    let doc = public_activity(&state.urls, "Create", note, now);
    let inboxes = followers::delivery_inboxes(c)?;
    let key = state.keys.current_ed25519_host(c)?;
    enqueue_with_proof(c, &doc, &key, state.urls.bulletin(&b.id).as_str(), &inboxes, now)?;
    super::notify::queue_bulletin(c, state, b, super::notify::Event::Published, now)
}

fn apply_to_catalogue(c: &mut DbConnection, b: &Bulletin, now: NaiveDateTime) -> AppResult<()> {
    let meta = b.meta();
    for slug in bulletins::service_slugs(c, &b.id)? {
        let Some(mut service) = services::find(c, &slug)? else { continue };
        match meta.change_type {
            Some(ChangeType::Registration) => {
                service.registration = meta.registration.map(|r| r.cli_name()).unwrap_or("closed").to_string();
            }
            Some(ChangeType::Migration) => service.url = meta.new_url.clone().unwrap_or(service.url),
            _ => continue,
        }
        service.updated_at = now;
        services::update(c, &service)?;
    }
    Ok(())
}

/// Stores a changed bulletin (re-rendered) and queues its Update, in the caller's transaction.
fn save_and_update(c: &mut DbConnection, state: &AppState, b: &mut Bulletin, now: NaiveDateTime) -> AppResult<()> {
    let mut translations = bulletins::translations(c, &b.id)?;
    rerender(state, b, &mut translations);
    if b.federated_at.is_some() {
        b.updated_at = Some(next_updated(b, now));
    }
    bulletins::update(c, b)?;
    bulletins::replace_translations(c, &b.id, &translations)?;
    crate::db::models::timeline_index::index_bulletin(c, &state.urls, b)?;
    if b.federated_at.is_none() {
        return Ok(()); // still scheduled: the Create will carry the new version
    }
    let note = serde_json::to_value(note_doc(state, b, &translations)).expect("a Note serialises");
    let doc = public_activity(&state.urls, "Update", note, now);
    let inboxes = followers::delivery_inboxes(c)?;
    let key = state.keys.current_ed25519_host(c)?;
    enqueue_with_proof(c, &doc, &key, state.urls.bulletin(&b.id).as_str(), &inboxes, now)?;
    super::notify::queue_bulletin(c, state, b, super::notify::Event::Updated, now)
}

pub use crate::bulletin::PostDraft;

fn check_publish_at(publish_at: Option<NaiveDateTime>, now: NaiveDateTime) -> Result<(), BulletinError> {
    match publish_at {
        Some(at) if at < now - chrono::Duration::minutes(1) => {
            Err(bulletin::refuse("publish-at", Kind::InThePast, &[]))
        }
        _ => Ok(()),
    }
}

/// What a post would look like once published, without storing or sending anything: the
/// content HTML of its main text and of its translation, as Mastodon users will read them.
/// `change` is None for news. Checked exactly as publishing checks it.
pub async fn preview(
    state: &AppState,
    draft: PostDraft,
    change: Option<ChangeDraft>,
) -> AppResult<Vec<(String, String)>> {
    let now = state.clock.now();
    let mut refusals = Refusals::new();
    let (main, translation) =
        bulletin::check_texts(&mut refusals, &state.config, &draft.main, draft.translation.as_ref(), change.is_none());
    let valid = match change {
        None => None,
        Some(change) => {
            let known = state.db.read(services::list).await?;
            change.check(&mut refusals, &known, draft.publish_at.unwrap_or(now).max(now))
        }
    };
    bulletin::refused(refusals)?;
    let main = main.expect("no refusal");
    let (meta, services, starts_at, ends_at) = match valid {
        None => (BulletinMeta::news(), vec![], None, None),
        Some(valid) => (valid.meta, valid.services, valid.starts_at, valid.ends_at),
    };
    let mut meta = meta;
    meta.service = services.iter().map(|s| service_ref(state, s)).collect();
    let mut b = Bulletin {
        id: "preview".into(),
        kind: meta.bulletin_kind.cli_name().to_string(),
        lang: main.lang,
        title: main.title,
        body_markdown: main.body_markdown,
        content_html: String::new(),
        in_reply_to: None,
        extra: None,
        created_at: now,
        published_at: now,
        updated_at: None,
        deleted_at: None,
        change_type: None,
        state: None,
        starts_at,
        ends_at,
        federated_at: None,
    };
    store_meta(&mut b, &meta);
    let mut translations: Vec<Translation> = translation.into_iter().map(|t| translation_row("preview", t)).collect();
    rerender(state, &mut b, &mut translations);
    let mut out = vec![(b.lang.clone(), b.content_html.clone())];
    out.extend(translations.into_iter().map(|t| (t.lang, t.content_html)));
    Ok(out)
}

/// Publishes a news bulletin now.
pub async fn publish_news(state: &AppState, draft: NewsDraft) -> AppResult<Bulletin> {
    let post = PostDraft {
        main: TextDraft { lang: draft.lang, title: draft.title, body_markdown: draft.body_markdown },
        ..Default::default()
    };
    publish_post(state, post).await
}

/// Publishes a news bulletin, now or at `publish_at`.
pub async fn publish_post(state: &AppState, draft: PostDraft) -> AppResult<Bulletin> {
    let now = state.clock.now();
    let mut refusals = Refusals::new();
    let (main, translation) =
        bulletin::check_texts(&mut refusals, &state.config, &draft.main, draft.translation.as_ref(), true);
    bulletin::collect(&mut refusals, check_publish_at(draft.publish_at, now));
    bulletin::refused(refusals)?;
    let main = main.expect("no refusal");
    let new = NewBulletin {
        main,
        translation,
        meta: BulletinMeta::news(),
        services: vec![],
        starts_at: None,
        ends_at: None,
        publish_at: draft.publish_at,
        in_reply_to: None,
    };
    let st = state.clone();
    write_and_wake(state, move |c| insert_new(c, &st, new, now)).await
}

/// Publishes a service change (maintenance, incident, registration, launch, migration, closure).
pub async fn publish_change(state: &AppState, draft: PostDraft, change: ChangeDraft) -> AppResult<Bulletin> {
    let now = state.clock.now();
    let mut refusals = Refusals::new();
    let (main, translation) =
        bulletin::check_texts(&mut refusals, &state.config, &draft.main, draft.translation.as_ref(), false);
    bulletin::collect(&mut refusals, check_publish_at(draft.publish_at, now));
    let st = state.clone();
    write_and_wake(state, move |c| {
        let known = services::list(c)?;
        let valid = change.check(&mut refusals, &known, draft.publish_at.unwrap_or(now).max(now));
        bulletin::refused(refusals)?;
        let (main, valid) = (main.expect("no refusal"), valid.expect("no refusal"));
        let new = NewBulletin {
            main,
            translation,
            meta: valid.meta,
            services: valid.services,
            starts_at: valid.starts_at,
            ends_at: valid.ends_at,
            publish_at: draft.publish_at,
            in_reply_to: None,
        };
        insert_new(c, &st, new, now)
    })
    .await
}

/// Posts an incident follow-up: a new Note in reply to the incident's first bulletin, which is
/// updated with the incident's new state.
pub async fn post_follow_up(
    state: &AppState,
    root_id: &str,
    draft: PostDraft,
    new_state: ChangeState,
    status: Option<ServiceStatus>,
) -> AppResult<Bulletin> {
    let now = state.clock.now();
    let st = state.clone();
    let root_id = root_id.to_string();
    let config = state.config.clone();
    write_and_wake(state, move |c| {
        let mut root = live_bulletin(c, &root_id)?;
        let (new_state, status) = bulletin::validate_follow_up(&root, new_state, status)?;
        let mut main_draft = draft.main.clone();
        if main_draft.title.trim().is_empty() {
            let lang = main_draft.lang.clone().unwrap_or_else(|| config.default_language().to_string());
            let t = st.texts.texts(&lang);
            main_draft.title = t.fill("post.follow_up_title", &[("title", &root.title), ("state", new_state.label(t))]);
        }
        // A translation without a title gets the generated one in its language, as the main text does.
        let mut translation_draft = draft.translation.clone();
        if let Some(t) = translation_draft.as_mut().filter(|t| t.title.trim().is_empty()) {
            if let Some(lang) = t.lang.clone() {
                let texts = st.texts.texts(&lang);
                let root_title = bulletins::translations(c, &root.id)?
                    .into_iter()
                    .find(|r| r.lang == lang)
                    .map_or_else(|| root.title.clone(), |r| r.title);
                t.title =
                    texts.fill("post.follow_up_title", &[("title", &root_title), ("state", new_state.label(texts))]);
            }
        }
        let (main, translation) = bulletin::validate_texts(&config, &main_draft, translation_draft.as_ref(), false)?;
        let mut meta = root.meta();
        meta.state = Some(new_state);
        meta.service_status = Some(status);
        let services = services_of(c, &root.id)?;
        let reply = NewBulletin {
            main,
            translation,
            meta: meta.clone(),
            services,
            starts_at: None,
            ends_at: None,
            publish_at: None,
            in_reply_to: Some(st.urls.bulletin(&root.id).to_string()),
        };
        let reply = insert_new(c, &st, reply, now)?;
        store_meta(&mut root, &meta);
        save_and_update(c, &st, &mut root, now)?;
        Ok(reply)
    })
    .await
}

/// The maintenance `id`, which must be scheduled or in progress.
fn open_maintenance(c: &mut DbConnection, id: &str) -> AppResult<(Bulletin, BulletinMeta)> {
    let b = live_bulletin(c, id)?;
    let meta = b.meta();
    if meta.change_type != Some(ChangeType::Maintenance) || !meta.state.is_some_and(|s| s.is_open()) {
        return Err(AppError::conflicting("id", Kind::NotOpenMaintenance, &[("value", id)]));
    }
    Ok((b, meta))
}

/// Moves a maintenance window (before it is over); the Note is updated.
pub async fn reschedule(state: &AppState, id: &str, starts: NaiveDateTime, ends: NaiveDateTime) -> AppResult<Bulletin> {
    let now = state.clock.now();
    let st = state.clone();
    let id = id.to_string();
    write_and_wake(state, move |c| {
        let (mut b, mut meta) = open_maintenance(c, &id)?;
        if ends <= starts {
            return Err(bulletin::refuse("end", Kind::EndBeforeStart, &[]).into());
        }
        if ends <= now {
            return Err(bulletin::refuse("end", Kind::WindowOver, &[]).into());
        }
        let (new_state, status) = bulletin::maintenance_state(starts, ends, now);
        meta.state = Some(new_state);
        meta.service_status = Some(status);
        b.starts_at = Some(starts);
        b.ends_at = Some(ends);
        store_meta(&mut b, &meta);
        save_and_update(c, &st, &mut b, now)?;
        Ok(b)
    })
    .await
}

/// Cancels a maintenance window that is scheduled or in progress.
pub async fn cancel(state: &AppState, id: &str) -> AppResult<Bulletin> {
    let now = state.clock.now();
    let st = state.clone();
    let id = id.to_string();
    write_and_wake(state, move |c| {
        let (mut b, mut meta) = open_maintenance(c, &id)?;
        meta.state = Some(ChangeState::Cancelled);
        meta.service_status = Some(ServiceStatus::Operational);
        store_meta(&mut b, &meta);
        save_and_update(c, &st, &mut b, now)?;
        Ok(b)
    })
    .await
}

/// What an edit changes; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct NewsEdit {
    pub title: Option<String>,
    pub body_markdown: Option<String>,
    pub lang: Option<String>,
    /// Replaces (or adds) the translation.
    pub translation: Option<TextDraft>,
}

/// Edits a bulletin's text and federates an `Update` whose `updated` is newer than any before.
pub async fn edit_news(state: &AppState, id: &str, edit: NewsEdit) -> AppResult<Bulletin> {
    let now = state.clock.now();
    let st = state.clone();
    let id = id.to_string();
    write_and_wake(state, move |c| {
        let mut b = live_bulletin(c, &id)?;
        let current = bulletins::translations(c, &id)?;
        let main = TextDraft {
            lang: Some(edit.lang.unwrap_or(b.lang.clone())),
            title: edit.title.unwrap_or(b.title.clone()),
            body_markdown: edit.body_markdown.unwrap_or(b.body_markdown.clone()),
        };
        let translation = edit.translation.or_else(|| {
            current.first().map(|t| TextDraft {
                lang: Some(t.lang.clone()),
                title: t.title.clone(),
                body_markdown: t.body_markdown.clone(),
            })
        });
        let body_required = b.kind == bulletin::KIND_NEWS;
        let (main, translation) = bulletin::validate_texts(&st.config, &main, translation.as_ref(), body_required)?;
        b.lang = main.lang;
        b.title = main.title;
        b.body_markdown = main.body_markdown;
        let rows: Vec<Translation> = translation.into_iter().map(|t| translation_row(&b.id, t)).collect();
        bulletins::replace_translations(c, &b.id, &rows)?;
        save_and_update(c, &st, &mut b, now)?;
        Ok(b)
    })
    .await
}

/// Deletes a bulletin: its URL answers 410 from now on, and a `Delete` reaches every follower.
pub async fn delete_bulletin(state: &AppState, id: &str) -> AppResult<Bulletin> {
    let now = state.clock.now();
    let st = state.clone();
    let id = id.to_string();
    write_and_wake(state, move |c| {
        let current = live_bulletin(c, &id)?;
        bulletins::mark_deleted(c, &id, now)?;
        crate::db::models::timeline::remove(c, st.urls.bulletin(&id).as_str())?;
        let deleted = bulletins::find(c, &id)?.ok_or_else(|| AppError::from(BulletinError::NotFound(id.clone())))?;
        if current.federated_at.is_some() {
            let tombstone = serde_json::to_value(tombstone_doc(&st, &deleted, false)).expect("a Tombstone serialises");
            let doc = public_activity(&st.urls, "Delete", tombstone, now);
            let inboxes = followers::delivery_inboxes(c)?;
            let key = st.keys.current_ed25519_host(c)?;
            enqueue_with_proof(c, &doc, &key, st.urls.bulletin(&id).as_str(), &inboxes, now)?;
            super::notify::queue_bulletin(c, &st, &deleted, super::notify::Event::Deleted, now)?;
        }
        Ok(deleted)
    })
    .await
}

// ---------------------------------------------------------------- scheduler

/// Publishes scheduled bulletins whose time has come and moves maintenance windows along.
/// Safe to run from several processes at once: each step claims its row first.
pub async fn run_scheduled(state: &AppState) -> AppResult<usize> {
    let now = state.clock.now();
    let mut done = 0;
    for b in state.db.read(move |c| bulletins::due_for_publication(c, now)).await? {
        let st = state.clone();
        let published = write_and_wake(state, move |c| {
            if !bulletins::claim_publication(c, &b.id, now)? {
                return Ok(false);
            }
            let mut b =
                bulletins::find(c, &b.id)?.ok_or_else(|| AppError::from(BulletinError::NotFound(b.id.clone())))?;
            // A maintenance published late starts in the state its window has reached.
            let mut meta = b.meta();
            if let (Some(ChangeType::Maintenance), Some(s), Some(e)) = (meta.change_type, b.starts_at, b.ends_at) {
                let (new_state, status) = bulletin::maintenance_state(s, e, now);
                meta.state = Some(new_state);
                meta.service_status = Some(status);
                store_meta(&mut b, &meta);
                let mut translations = bulletins::translations(c, &b.id)?;
                rerender(&st, &mut b, &mut translations);
                bulletins::update(c, &b)?;
                bulletins::replace_translations(c, &b.id, &translations)?;
            }
            federate_new(c, &st, &mut b, now)?;
            Ok(true)
        })
        .await?;
        done += published as usize;
    }
    for b in state.db.read(move |c| bulletins::maintenance_due(c, now)).await? {
        let st = state.clone();
        let moved = write_and_wake(state, move |c| advance_maintenance(c, &st, b, now)).await?;
        done += moved as usize;
    }
    Ok(done)
}

fn advance_maintenance(c: &mut DbConnection, state: &AppState, mut b: Bulletin, now: NaiveDateTime) -> AppResult<bool> {
    let (Some(starts), Some(ends), Some(from)) = (b.starts_at, b.ends_at, b.state.clone()) else { return Ok(false) };
    let (to, status) = bulletin::maintenance_state(starts, ends, now);
    if to.cli_name() == from || !bulletins::claim_state(c, &b.id, &from, to.cli_name())? {
        return Ok(false);
    }
    // Work on the row as it is now (an edit may have landed since it was listed).
    b = bulletins::find(c, &b.id)?.ok_or_else(|| AppError::from(BulletinError::NotFound(b.id.clone())))?;
    let mut meta = b.meta();
    meta.state = Some(to);
    meta.service_status = Some(status);
    store_meta(&mut b, &meta);
    save_and_update(c, state, &mut b, now)?;
    if to == ChangeState::Completed {
        // A short follow-up, so Mastodon users see the window is over (an Update does not notify).
        let langs = &state.config.account.languages;
        let text = |lang: &str| {
            let t = state.texts.texts(lang);
            ValidText {
                lang: lang.to_string(),
                title: t
                    .fill("post.follow_up_title", &[("title", &b.title), ("state", ChangeState::Completed.label(t))]),
                body_markdown: String::new(),
            }
        };
        let translation = bulletins::translations(c, &b.id)?.first().map(|t| text(&t.lang));
        let services = services_of(c, &b.id)?;
        let follow_up = NewBulletin {
            main: text(&b.lang),
            translation: translation.filter(|t| langs.contains(&t.lang)),
            meta: BulletinMeta { service: vec![], ..meta },
            services,
            starts_at: b.starts_at,
            ends_at: b.ends_at,
            publish_at: None,
            in_reply_to: Some(state.urls.bulletin(&b.id).to_string()),
        };
        insert_new(c, state, follow_up, now)?;
    }
    Ok(true)
}

/// Where a bulletin stands, as the lists show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publication {
    /// Waiting for its publication time.
    Scheduled,
    Published,
    /// Published, then edited.
    Edited,
    Deleted,
}

impl Publication {
    pub fn of(b: &Bulletin) -> Publication {
        if b.is_deleted() {
            Publication::Deleted
        } else if b.federated_at.is_none() {
            Publication::Scheduled
        } else if b.updated_at.is_some() {
            Publication::Edited
        } else {
            Publication::Published
        }
    }
}

/// The latest bulletins, newest first, whatever their state.
pub async fn list(state: &AppState, limit: i64) -> AppResult<Vec<Bulletin>> {
    Ok(state.db.read(move |c| bulletins::list_all(c, limit)).await?)
}

/// A bulletin with what its pages show around it.
#[derive(Debug, Clone)]
pub struct BulletinView {
    pub bulletin: Bulletin,
    pub translations: Vec<Translation>,
    /// The catalogue services it is about (their slugs).
    pub services: Vec<String>,
    /// Its follow-ups (an incident's thread; a maintenance's completion), oldest first.
    pub replies: Vec<Bulletin>,
}

/// The bulletin `id` (deleted or not) with its translations, services and follow-ups.
pub async fn view(state: &AppState, id: &str) -> AppResult<BulletinView> {
    let key = id.to_string();
    let url = state.urls.bulletin(id).to_string();
    let found = state
        .db
        .read(move |c| {
            let Some(bulletin) = bulletins::find(c, &key)? else { return Ok(None) };
            Ok(Some(BulletinView {
                translations: bulletins::translations(c, &key)?,
                services: bulletins::service_slugs(c, &key)?,
                replies: bulletins::replies(c, &url)?,
                bulletin,
            }))
        })
        .await?;
    found.ok_or_else(|| BulletinError::NotFound(id.to_string()).into())
}

/// The latest published bulletins (at most `limit`), of one kind and about one service when
/// asked: what the host's feeds list.
pub async fn published(
    state: &AppState,
    kind: Option<BulletinKind>,
    service: Option<String>,
    limit: usize,
) -> AppResult<Vec<Bulletin>> {
    Ok(state
        .db
        .read(move |c| {
            let mut selected = Vec::new();
            for b in bulletins::list_published(c, None, 500)? {
                if kind.is_some_and(|k| b.meta().bulletin_kind != k) {
                    continue;
                }
                if let Some(slug) = &service {
                    if !bulletins::service_slugs(c, &b.id)?.contains(slug) {
                        continue;
                    }
                }
                selected.push(b);
                if selected.len() == limit {
                    break;
                }
            }
            Ok(selected)
        })
        .await?)
}

/// Maintenance windows ending after `ends_after`, each with how many Updates it had (a calendar
/// event's SEQUENCE).
pub async fn maintenance_windows(state: &AppState, ends_after: NaiveDateTime) -> AppResult<Vec<(Bulletin, i64)>> {
    let urls = state.urls.clone();
    Ok(state
        .db
        .read(move |c| {
            let mut windows = Vec::new();
            for b in bulletins::maintenance_windows(c, ends_after)? {
                let updates = activities::count_for_object(c, urls.bulletin(&b.id).as_str(), "Update")?;
                windows.push((b, updates));
            }
            Ok(windows)
        })
        .await?)
}
