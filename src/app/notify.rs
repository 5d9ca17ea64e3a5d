//! Subscribers outside the fediverse: email subscriptions (double opt-in, one-click unsubscribe)
//! and webhooks. Publishing a bulletin queues what they get in the bulletin's own transaction
//! ([`queue_bulletin`]); `jobs::notify` sends it. The emails' words are built here
//! ([`email_for`]), in the subscriber's language when the bulletin has it.

use super::{AppError, AppResult};
use crate::refusal::{Kind, Reason, Refusal};
use crate::{
    bulletin::{render::plain_text, vocab::Choice},
    db::{
        models::{
            bulletins::{self as bulletin_rows, Bulletin},
            notify::{self as rows, Notification, CONFIRM, EMAIL, WEBHOOK},
        },
        DbConnection,
    },
    state::AppState,
};
use base64::Engine;
use chrono::{Duration, NaiveDateTime, SecondsFormat};
use sha2::{Digest, Sha256};
use std::net::IpAddr;

pub use crate::db::models::notify::{Notification as NotificationRow, Subscriber, Webhook};

/// What a bulletin's life sends to webhooks (emails: only `bulletin.published`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Published,
    /// Edited, or its state changed (an incident's follow-up, a maintenance starting or ending).
    Updated,
    Deleted,
}

impl Event {
    pub const ALL: [Event; 3] = [Event::Published, Event::Updated, Event::Deleted];

    pub fn name(self) -> &'static str {
        match self {
            Event::Published => "bulletin.published",
            Event::Updated => "bulletin.updated",
            Event::Deleted => "bulletin.deleted",
        }
    }
}

/// A pending confirmation is not sent again before this (no mail bombing a third party).
pub fn confirmation_interval() -> Duration {
    Duration::hours(24)
}

pub const SCOPE_ALL: &str = "all";
pub const SCOPE_CHANGES: &str = "changes";
const MAX_EMAIL_CHARS: usize = 254;
const LOG_LENGTH: i64 = 50;

fn new_secret(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

fn rfc3339(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The services named, each checked against the catalogue, as stored (space-separated).
fn check_services(c: &mut DbConnection, field: &'static str, slugs: &[String]) -> AppResult<String> {
    let mut known = Vec::new();
    for slug in slugs.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        match crate::db::models::services::find(c, slug)? {
            Some(s) if s.removed_at.is_none() => known.push(s.slug),
            _ => return Err(AppError::refused(field, Kind::UnknownService, &[("value", slug)])),
        }
    }
    known.sort();
    known.dedup();
    Ok(known.join(" "))
}

/// An email address as stored: trimmed, its domain lowercased; refused with the reason otherwise.
pub fn normalise_email(text: &str) -> AppResult<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::refused("email", Kind::Required, &[]));
    }
    if text.chars().count() > MAX_EMAIL_CHARS {
        return Err(AppError::refused("email", Kind::TooLong, &[("max", &MAX_EMAIL_CHARS.to_string())]));
    }
    let address: lettre::Address =
        text.parse().map_err(|_| AppError::refused("email", Kind::NotAnEmail, &[("value", text)]))?;
    Ok(format!("{}@{}", address.user(), address.domain().to_lowercase()))
}

// ---------------------------------------------------------------- email subscriptions

/// What a visitor typed in the subscription form.
#[derive(Debug, Clone, Default)]
pub struct SubscribeRequest {
    pub email: String,
    /// The language of the page the form was on (the emails' language).
    pub lang: String,
    /// Only service changes (incidents, maintenance…), not news.
    pub changes_only: bool,
    /// Only bulletins about these services; empty: every bulletin.
    pub services: Vec<String>,
    /// The client's address (the form's rate limit); stored only hashed, until confirmed.
    pub client: Option<IpAddr>,
}

/// What a subscription request did. The visitor is told the same thing in each case (check your
/// inbox), so the form does not tell who is subscribed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeOutcome {
    /// A confirmation email is queued.
    ConfirmationQueued,
    /// A confirmation was sent lately, or the address is already subscribed: nothing is sent.
    NothingSent,
}

/// Asks for a subscription: a confirmation email with the double opt-in link is queued, at most
/// once per [`confirmation_interval`] per address, and at most `smtp.subscriptions_per_hour`
/// requests per client address.
pub async fn subscribe(state: &AppState, request: SubscribeRequest) -> AppResult<SubscribeOutcome> {
    if !state.config.smtp.enabled() {
        return Err(AppError::state_refuses(Kind::SubscriptionsOff, &[]));
    }
    let email = normalise_email(&request.email)?;
    let lang = if state.config.account.languages.contains(&request.lang) {
        request.lang.clone()
    } else {
        state.config.default_language().to_string()
    };
    let requester = request.client.map(|ip| format!("{:x}", Sha256::digest(ip.to_string().as_bytes())));
    let per_hour = i64::from(state.config.smtp.subscriptions_per_hour);
    let now = state.clock.now();
    let outcome = state
        .db
        .write(move |c| {
            let services = check_services(c, "services", &request.services)?;
            if let Some(requester) = &requester {
                if rows::requests_from(c, requester, now - Duration::hours(1))? >= per_hour {
                    return Err(AppError::state_refuses(
                        Kind::TooManySubscriptions,
                        &[("per_hour", &per_hour.to_string())],
                    ));
                }
            }
            let scope = if request.changes_only { SCOPE_CHANGES } else { SCOPE_ALL }.to_string();
            match rows::find_subscriber_by_email(c, &email)? {
                Some(existing) if existing.confirmed_at.is_some() => Ok(SubscribeOutcome::NothingSent),
                Some(existing) if existing.created_at > now - confirmation_interval() => {
                    Ok(SubscribeOutcome::NothingSent)
                }
                Some(mut existing) => {
                    // An old request never confirmed: ask again, with what was typed now.
                    existing.lang = lang;
                    existing.scope = scope;
                    existing.services = services;
                    existing.requested_from = requester;
                    existing.created_at = now;
                    rows::update_subscriber(c, &existing)?;
                    rows::enqueue(c, EMAIL, &existing.id, CONFIRM, None, "", now)?;
                    Ok(SubscribeOutcome::ConfirmationQueued)
                }
                None => {
                    let subscriber = rows::Subscriber {
                        id: uuid::Uuid::new_v4().to_string(),
                        email,
                        lang,
                        scope,
                        services,
                        token: new_secret(24),
                        requested_from: requester,
                        created_at: now,
                        confirmed_at: None,
                    };
                    rows::insert_subscriber(c, &subscriber)?;
                    rows::enqueue(c, EMAIL, &subscriber.id, CONFIRM, None, "", now)?;
                    Ok(SubscribeOutcome::ConfirmationQueued)
                }
            }
        })
        .await?;
    state.delivery_wakeup.notify_waiters();
    Ok(outcome)
}

fn unknown_link() -> AppError {
    AppError::NotFound(Reason::new(Kind::LinkInvalid, &[]))
}

/// The subscription a confirmation or unsubscribe link names.
pub async fn by_token(state: &AppState, token: &str) -> AppResult<Subscriber> {
    let token = token.to_string();
    state.db.read(move |c| rows::find_subscriber_by_token(c, &token)).await?.ok_or_else(unknown_link)
}

/// Confirms a subscription (the double opt-in link); confirming twice is harmless.
pub async fn confirm(state: &AppState, token: &str) -> AppResult<Subscriber> {
    let token = token.to_string();
    let now = state.clock.now();
    state
        .db
        .write(move |c| {
            let mut s = rows::find_subscriber_by_token(c, &token)?.ok_or_else(unknown_link)?;
            if s.confirmed_at.is_none() {
                s.confirmed_at = Some(now);
                // The client address was kept only for the form's rate limit.
                s.requested_from = None;
                rows::update_subscriber(c, &s)?;
            }
            Ok(s)
        })
        .await
}

/// Unsubscribes (the link of every email, and RFC 8058's one-click POST): the address is deleted.
pub async fn unsubscribe(state: &AppState, token: &str) -> AppResult<()> {
    let token = token.to_string();
    state
        .db
        .write(move |c| {
            let s = rows::find_subscriber_by_token(c, &token)?.ok_or_else(unknown_link)?;
            rows::delete_subscriber(c, &s.id)?;
            Ok(())
        })
        .await
}

/// Subscribers for the admin: counts and the list.
#[derive(Debug, Clone)]
pub struct Subscribers {
    pub confirmed: usize,
    pub pending: usize,
    pub list: Vec<Subscriber>,
    /// Emails waiting to be sent, sent, given up.
    pub queued: i64,
    pub sent: i64,
    pub failed: i64,
}

pub async fn subscribers(state: &AppState) -> AppResult<Subscribers> {
    Ok(state
        .db
        .read(|c| {
            let list = rows::subscribers(c)?;
            let confirmed = list.iter().filter(|s| s.confirmed_at.is_some()).count();
            Ok::<_, crate::db::DbError>(Subscribers {
                confirmed,
                pending: list.len() - confirmed,
                queued: rows::count(c, EMAIL, rows::PENDING)?,
                sent: rows::count(c, EMAIL, rows::SENT)?,
                failed: rows::count(c, EMAIL, rows::FAILED)?,
                list,
            })
        })
        .await?)
}

/// Removes a subscriber, named by its id or its address.
pub async fn remove_subscriber(state: &AppState, id_or_email: &str) -> AppResult<Subscriber> {
    let key = id_or_email.trim().to_string();
    state
        .db
        .write(move |c| {
            let found = match rows::find_subscriber(c, &key)? {
                Some(s) => Some(s),
                None => match normalise_email(&key) {
                    Ok(email) => rows::find_subscriber_by_email(c, &email)?,
                    Err(_) => None,
                },
            };
            let s = found.ok_or_else(|| AppError::no_such(Kind::NoSubscriber, &key))?;
            rows::delete_subscriber(c, &s.id)?;
            Ok(s)
        })
        .await
}

/// The export formats of the subscriber list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

impl std::str::FromStr for ExportFormat {
    type Err = AppError;
    fn from_str(s: &str) -> AppResult<Self> {
        match s {
            "csv" => Ok(ExportFormat::Csv),
            "json" => Ok(ExportFormat::Json),
            other => Err(AppError::refused("format", Kind::NotOneOf, &[("value", other), ("values", "csv, json")])),
        }
    }
}

fn csv_cell(text: &str) -> String {
    // Quoted always; a leading =, +, - or @ is prefixed so a spreadsheet does not run it.
    let text = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_string() };
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The subscribers as CSV (a header line, then one line each) or JSON (an array).
pub async fn export_subscribers(state: &AppState, format: ExportFormat) -> AppResult<String> {
    let list = subscribers(state).await?.list;
    Ok(match format {
        ExportFormat::Json => {
            let items: Vec<serde_json::Value> = list
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "id": s.id,
                        "email": s.email,
                        "lang": s.lang,
                        "scope": s.scope,
                        "services": s.service_slugs(),
                        "created_at": rfc3339(s.created_at),
                        "confirmed_at": s.confirmed_at.map(rfc3339),
                    })
                })
                .collect();
            serde_json::to_string_pretty(&items).expect("JSON serialises")
        }
        ExportFormat::Csv => {
            let mut out = String::from("id,email,lang,scope,services,created_at,confirmed_at\r\n");
            for s in &list {
                let cells = [
                    s.id.clone(),
                    s.email.clone(),
                    s.lang.clone(),
                    s.scope.clone(),
                    s.services.clone(),
                    rfc3339(s.created_at),
                    s.confirmed_at.map(rfc3339).unwrap_or_default(),
                ];
                out.push_str(&cells.iter().map(|c| csv_cell(c)).collect::<Vec<_>>().join(","));
                out.push_str("\r\n");
            }
            out
        }
    })
}

// ---------------------------------------------------------------- webhooks

/// A webhook as the admin registers it.
#[derive(Debug, Clone, Default)]
pub struct NewWebhook {
    pub url: String,
    /// Event names (`bulletin.published`…); empty: every event.
    pub events: Vec<String>,
    /// Bulletin kinds or change types (`news`, `incident`, `maintenance`…); empty: every kind.
    pub kinds: Vec<String>,
    /// Service slugs; empty: every bulletin.
    pub services: Vec<String>,
}

const KINDS: &[&str] = &[
    "news",
    "service_change",
    "label_update",
    "incident",
    "maintenance",
    "launch",
    "closure",
    "registration",
    "migration",
];

fn check_words(field: &'static str, words: &[String], known: &[&str]) -> AppResult<String> {
    let mut out: Vec<String> = Vec::new();
    for w in words.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
        if !known.contains(&w) {
            return Err(AppError::refused(field, Kind::NotOneOf, &[("value", w), ("values", &known.join(", "))]));
        }
        if !out.iter().any(|o| o == w) {
            out.push(w.to_string());
        }
    }
    Ok(out.join(" "))
}

/// A webhook's address, or why it is refused.
fn check_webhook_url(state: &AppState, typed: &str) -> Result<url::Url, Refusal> {
    let url = url::Url::parse(typed).map_err(|_| Refusal::new("url", Kind::NotAUrl, &[("value", typed)]))?;
    if crate::federation::check_outgoing_url(&url, state.config.dev_mode()).is_err() {
        let kind = match url.scheme() {
            "https" => Kind::HostNameOnly,
            "http" if !state.config.dev_mode() => Kind::HttpsOnly,
            _ => Kind::NotWebUrl,
        };
        return Err(Refusal::new("url", kind, &[("value", typed)]));
    }
    if url.username() != "" || url.password().is_some() {
        return Err(Refusal::new("url", Kind::UrlCredentials, &[]));
    }
    if !state.config.dev_mode() && url.host_str().is_some_and(|h| h == "localhost" || h.ends_with(".localhost")) {
        return Err(Refusal::new("url", Kind::UrlThisMachine, &[]));
    }
    Ok(url)
}

/// Registers a webhook; its HMAC secret is made here and is in the returned row.
pub async fn add_webhook(state: &AppState, new: NewWebhook) -> AppResult<Webhook> {
    // Every field is checked, so every refusal shows at once.
    let mut refusals = Vec::new();
    let url = check_webhook_url(state, new.url.trim()).map_err(|refusal| refusals.push(refusal)).ok();
    let events: Vec<&str> = Event::ALL.iter().map(|e| e.name()).collect();
    let mut words = |field, typed: &[String], known: &[&str]| match check_words(field, typed, known) {
        Ok(words) => words,
        Err(e) => {
            refusals.extend(e.refusals());
            String::new()
        }
    };
    let (events, kinds) = (words("events", &new.events, &events), words("kinds", &new.kinds, KINDS));
    let Some(url) = url.filter(|_| refusals.is_empty()) else {
        return Err(AppError::Fields(refusals));
    };
    let now = state.clock.now();
    state
        .db
        .write(move |c| {
            let hook = Webhook {
                id: uuid::Uuid::new_v4().simple().to_string()[..12].to_string(),
                url: url.to_string(),
                secret: format!("whsec_{}", new_secret(24)),
                events,
                kinds,
                services: check_services(c, "services", &new.services)?,
                created_at: now,
            };
            rows::insert_webhook(c, &hook)?;
            Ok(hook)
        })
        .await
}

pub async fn webhooks(state: &AppState) -> AppResult<Vec<Webhook>> {
    Ok(state.db.read(rows::webhooks).await?)
}

pub async fn remove_webhook(state: &AppState, id: &str) -> AppResult<()> {
    let id = id.to_string();
    state
        .db
        .write(move |c| match rows::delete_webhook(c, &id)? {
            true => Ok(()),
            false => Err(AppError::no_such(Kind::NoWebhook, &id)),
        })
        .await
}

/// A webhook and its latest calls, newest first.
pub async fn webhook_log(state: &AppState, id: &str) -> AppResult<(Webhook, Vec<Notification>)> {
    let id = id.to_string();
    let key = id.clone();
    let found = state
        .db
        .read(move |c| match rows::find_webhook(c, &key)? {
            Some(hook) => Ok(Some((hook, rows::log_of(c, &key, LOG_LENGTH)?))),
            None => Ok(None),
        })
        .await?;
    found.ok_or_else(|| AppError::no_such(Kind::NoWebhook, &id))
}

/// Makes every waiting email and webhook call due now.
pub async fn retry_now(state: &AppState) -> AppResult<usize> {
    let now = state.clock.now();
    let n = state.db.write(move |c| rows::retry_now(c, now)).await?;
    state.delivery_wakeup.notify_waiters();
    Ok(n)
}

// ---------------------------------------------------------------- queueing, in the bulletin's transaction

fn matches_services(chosen: &str, about: &[String]) -> bool {
    let chosen: Vec<&str> = chosen.split_whitespace().collect();
    chosen.is_empty() || about.iter().any(|s| chosen.contains(&s.as_str()))
}

/// The JSON body webhooks receive for `event` on `b` (docs/API.md, "Webhooks").
fn payload(
    c: &mut DbConnection,
    state: &AppState,
    b: &Bulletin,
    event: Event,
    services: &[String],
) -> AppResult<String> {
    let meta = b.meta();
    let translations = bulletin_rows::translations(c, &b.id)?;
    let body = serde_json::json!({
        "event": event.name(),
        "host": state.urls.host_actor().as_str(),
        "bulletin": {
            "id": b.id,
            "url": state.urls.bulletin(&b.id).as_str(),
            "kind": b.kind,
            "change_type": b.change_type,
            "state": b.state,
            "service_status": meta.service_status.map(|s| s.cli_name()),
            "impact": meta.impact.map(|i| i.cli_name()),
            "lang": b.lang,
            "title": b.title,
            "content_html": b.content_html,
            "translations": translations.iter().map(|t| serde_json::json!({
                "lang": t.lang, "title": t.title, "content_html": t.content_html,
            })).collect::<Vec<_>>(),
            "services": services.iter().map(|s| serde_json::json!({
                "slug": s, "url": state.urls.service(s).as_str(),
            })).collect::<Vec<_>>(),
            "in_reply_to": b.in_reply_to,
            "published_at": rfc3339(b.published_at),
            "updated_at": b.updated_at.map(rfc3339),
            "deleted_at": b.deleted_at.map(rfc3339),
            "starts_at": b.starts_at.map(rfc3339),
            "ends_at": b.ends_at.map(rfc3339),
        }
    });
    Ok(serde_json::to_string(&body).expect("JSON serialises"))
}

/// Queues, in the caller's transaction, what `event` on `b` sends: one email to each confirmed
/// subscriber who wants it (new bulletins only) and one call to each webhook whose filters match.
pub(crate) fn queue_bulletin(
    c: &mut DbConnection,
    state: &AppState,
    b: &Bulletin,
    event: Event,
    now: NaiveDateTime,
) -> AppResult<()> {
    let services = bulletin_rows::service_slugs(c, &b.id)?;
    let kinds: Vec<&str> = [Some(b.kind.as_str()), b.change_type.as_deref()].into_iter().flatten().collect();
    let hooks: Vec<Webhook> = rows::webhooks(c)?
        .into_iter()
        .filter(|h| h.events.is_empty() || h.events.split_whitespace().any(|e| e == event.name()))
        .filter(|h| h.kinds.is_empty() || h.kinds.split_whitespace().any(|k| kinds.contains(&k)))
        .filter(|h| matches_services(&h.services, &services))
        .collect();
    if !hooks.is_empty() {
        let body = payload(c, state, b, event, &services)?;
        for hook in hooks {
            rows::enqueue(c, WEBHOOK, &hook.id, event.name(), Some(&b.id), &body, now)?;
        }
    }
    if event == Event::Published && state.config.smtp.enabled() {
        for s in rows::confirmed_subscribers(c)? {
            if s.scope == SCOPE_CHANGES && b.change_type.is_none() {
                continue;
            }
            if matches_services(&s.services, &services) {
                rows::enqueue(c, EMAIL, &s.id, event.name(), Some(&b.id), "", now)?;
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- what is sent

/// One email, its words ready (the job adds the sender and sends it).
#[derive(Debug, Clone)]
pub struct Email {
    pub to: String,
    pub lang: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The one-click unsubscribe URL (`List-Unsubscribe`, RFC 8058); not on a confirmation.
    pub unsubscribe: Option<String>,
}

/// What a queued notification is, ready to send.
pub enum Outgoing {
    Email(Email),
    Webhook {
        hook: Webhook,
        body: String,
    },
    /// Its subscriber, webhook or bulletin is gone: given up with this reason.
    Gone(String),
}

fn html_page(lang: &str, title: &str, body: &str) -> String {
    let title = crate::bulletin::render::escape(title);
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
<body style=\"font-family:sans-serif;max-width:40em;margin:auto;line-height:1.5\">\n{body}\n</body></html>\n"
    )
}

fn link(url: &str, text: &str) -> String {
    format!("<a href=\"{}\">{}</a>", crate::bulletin::render::escape(url), crate::bulletin::render::escape(text))
}

/// The notification `n` as it is to be sent, read now (an email shows the bulletin as it is).
pub async fn outgoing(state: &AppState, n: &Notification) -> AppResult<Outgoing> {
    let profile = super::profile::effective(state).await?;
    let site = profile.display_name;
    let n = n.clone();
    let st = state.clone();
    let outgoing = state
        .db
        .read(move |c| {
            if n.channel == WEBHOOK {
                return Ok(match rows::find_webhook(c, &n.target)? {
                    Some(hook) => Outgoing::Webhook { hook, body: n.payload.clone() },
                    None => Outgoing::Gone("the webhook was removed".into()),
                });
            }
            let Some(s) = rows::find_subscriber(c, &n.target)? else {
                return Ok(Outgoing::Gone("the subscriber was removed".into()));
            };
            let t = st.texts.texts(&s.lang);
            let unsubscribe = st.urls.subscription_unsubscribe(&s.token);
            if n.event == CONFIRM {
                let confirm = st.urls.subscription_confirm(&s.token);
                let subject = t.fill("notify.confirm_subject", &[("site", &site)]);
                let intro = t.fill("notify.confirm_intro", &[("site", &site), ("email", &s.email)]);
                let ignore = t.get("notify.confirm_ignore");
                let text = format!("{intro}\n\n{confirm}\n\n{ignore}\n");
                let html = format!(
                    "<p>{}</p>\n<p>{}</p>\n<p>{}</p>",
                    crate::bulletin::render::escape(&intro),
                    link(confirm.as_str(), t.get("notify.confirm_button")),
                    crate::bulletin::render::escape(ignore)
                );
                return Ok(Outgoing::Email(Email {
                    to: s.email.clone(),
                    lang: s.lang.clone(),
                    html: html_page(&s.lang, &subject, &html),
                    subject,
                    text,
                    unsubscribe: None,
                }));
            }
            let Some(b) = n.bulletin_id.as_deref().map(|id| bulletin_rows::find(c, id)).transpose()?.flatten() else {
                return Ok(Outgoing::Gone("the bulletin is gone".into()));
            };
            if b.is_deleted() {
                return Ok(Outgoing::Gone("the bulletin was deleted".into()));
            }
            // The subscriber's language when the bulletin has it, else the bulletin's own.
            let translations = bulletin_rows::translations(c, &b.id)?;
            let (lang, title, content_html) = match translations.iter().find(|t| t.lang == s.lang && b.lang != s.lang) {
                Some(tr) => (tr.lang.clone(), tr.title.clone(), tr.content_html.clone()),
                None => (b.lang.clone(), b.title.clone(), b.content_html.clone()),
            };
            let url = st.urls.bulletin(&b.id);
            let subject = format!("[{site}] {title}");
            let read_online = t.get("notify.read_online");
            let why = t.fill("notify.why", &[("site", &site)]);
            let leave = t.get("notify.unsubscribe");
            let text = format!(
                "{title}\n\n{}\n\n{read_online} {url}\n\n-- \n{why}\n{leave} {unsubscribe}\n",
                plain_text(&content_html).trim()
            );
            let html = format!(
                "<h1>{}</h1>\n<div lang=\"{lang}\">{content_html}</div>\n<p>{}</p>\n<hr>\n<p style=\"font-size:small\">{}<br>{}</p>",
                crate::bulletin::render::escape(&title),
                link(url.as_str(), read_online.trim_end_matches([':', ' ', '\u{a0}'])),
                crate::bulletin::render::escape(&why),
                link(unsubscribe.as_str(), leave.trim_end_matches([':', ' ', '\u{a0}'])),
            );
            Ok(Outgoing::Email(Email {
                to: s.email.clone(),
                lang: lang.clone(),
                html: html_page(&lang, &title, &html),
                subject,
                text,
                unsubscribe: Some(unsubscribe.to_string()),
            }))
        })
        .await?;
    Ok(outgoing)
}

/// The HMAC-SHA256 of a webhook body with its secret, as the signature header carries it
/// (`sha256=` and lower-case hex).
pub fn signature(secret: &str, body: &[u8]) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = aws_lc_rs::hmac::sign(&key, body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_and_their_domain_lowercased() {
        assert_eq!(normalise_email(" Alice@Example.ORG ").unwrap(), "Alice@example.org");
        assert!(normalise_email("not an address").unwrap_err().to_string().starts_with("email:"));
        assert!(normalise_email("").is_err());
    }

    #[test]
    fn the_signature_is_githubs_hmac_sha256_hex() {
        // The example of GitHub's "Validating webhook deliveries".
        assert_eq!(
            signature("It's a Secret to Everybody", b"Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_cell("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_cell("=cmd()"), "\"'=cmd()\"");
    }
}
