//! Feeds for readers: Atom and RSS 2.0 of the host's bulletins (all, one kind, one service) and of
//! the federated timeline, and OPML of the peers we follow. The maintenance calendar is in `ical`.
//!
//! Both formats are written from the same `FeedHead` and `FeedItem`s, so an Atom feed and its RSS
//! twin always list the same entries.

use super::{api::TimelineQuery, error::ApiError, state_of};
use crate::{
    app::{
        bulletins::{self, Bulletin},
        peers::{self, FollowState},
        timeline::{self, TimelineEntry},
    },
    bulletin::{
        render,
        vocab::{BulletinKind, Choice},
    },
    federation::{documents::hashtags, Federation},
    state::AppState,
};
use actix_web::{http::header, web, HttpRequest, HttpResponse};
use chrono::{FixedOffset, NaiveDateTime};
use serde::Deserialize;
use url::Url;

const FEED_SIZE: usize = 50;
/// Readers poll feeds; five minutes of caching spares the database without hiding news for long.
pub const CACHE_CONTROL: &str = "public, max-age=300";
const GENERATOR: &str = "Ronron";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Atom,
    Rss,
}

impl Format {
    fn mime(self) -> &'static str {
        match self {
            Format::Atom => "application/atom+xml",
            Format::Rss => "application/rss+xml",
        }
    }
}

/// A document for readers and other sites: cached a little, readable from any origin.
pub fn feed_response(mime: &str, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(format!("{mime}; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .body(body)
}

/// What a feed says about itself.
struct FeedHead {
    title: String,
    description: String,
    /// The feed's own URL, with its filters.
    self_url: Url,
    /// The page the feed is the feed of.
    html_url: Url,
    author_name: String,
    author_uri: String,
    lang: String,
    updated: NaiveDateTime,
}

/// One entry, whatever the format.
struct FeedItem {
    id: String,
    link: String,
    title: String,
    published: NaiveDateTime,
    updated: NaiveDateTime,
    author_name: String,
    author_uri: String,
    /// Sanitised HTML (ours is rendered and sanitised, a peer's is sanitised when stored).
    content_html: String,
    lang: Option<String>,
    /// (term, URL of the tag).
    categories: Vec<(String, String)>,
}

fn date(at: NaiveDateTime) -> chrono::DateTime<FixedOffset> {
    at.and_utc().fixed_offset()
}

fn rfc2822(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc2822()
}

fn link(href: &str, rel: &str, mime: &str) -> atom_syndication::Link {
    atom_syndication::Link {
        href: href.to_string(),
        rel: rel.to_string(),
        mime_type: Some(mime.to_string()),
        ..Default::default()
    }
}

fn person(name: &str, uri: &str) -> atom_syndication::Person {
    atom_syndication::Person { name: name.to_string(), uri: Some(uri.to_string()), ..Default::default() }
}

fn to_atom(head: &FeedHead, items: &[FeedItem]) -> String {
    use atom_syndication::{Category, Content, Entry, Feed, Generator};
    let feed = Feed {
        id: head.self_url.to_string(),
        title: head.title.clone().into(),
        subtitle: Some(head.description.clone().into()),
        updated: date(head.updated),
        authors: vec![person(&head.author_name, &head.author_uri)],
        links: vec![
            link(head.self_url.as_str(), "self", Format::Atom.mime()),
            link(head.html_url.as_str(), "alternate", "text/html"),
        ],
        generator: Some(Generator {
            value: GENERATOR.into(),
            uri: None,
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        lang: Some(head.lang.clone()),
        entries: items
            .iter()
            .map(|item| Entry {
                id: item.id.clone(),
                title: item.title.clone().into(),
                updated: date(item.updated),
                published: Some(date(item.published)),
                authors: vec![person(&item.author_name, &item.author_uri)],
                links: vec![link(&item.link, "alternate", "text/html")],
                categories: item
                    .categories
                    .iter()
                    .map(|(term, href)| Category { term: term.clone(), scheme: Some(href.clone()), label: None })
                    .collect(),
                content: Some(Content {
                    value: Some(item.content_html.clone()),
                    content_type: Some("html".into()),
                    lang: item.lang.clone(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    // Whatever the content, the feed stays XML: characters XML 1.0 forbids cannot be escaped.
    render::strip_forbidden(&feed.to_string())
}

fn to_rss(head: &FeedHead, items: &[FeedItem]) -> String {
    use rss::{
        extension::{atom::AtomExtension, dublincore::DublinCoreExtension},
        Category, Channel, Guid, Item,
    };
    let channel = Channel {
        title: head.title.clone(),
        link: head.html_url.to_string(),
        description: head.description.clone(),
        language: Some(head.lang.clone()),
        last_build_date: Some(rfc2822(head.updated)),
        generator: Some(format!("{GENERATOR} {}", env!("CARGO_PKG_VERSION"))),
        // Validators want the feed to name its own URL.
        atom_ext: Some(AtomExtension { links: vec![link(head.self_url.as_str(), "self", Format::Rss.mime())] }),
        items: items
            .iter()
            .map(|item| Item {
                title: Some(item.title.clone()),
                link: Some(item.link.clone()),
                description: Some(item.content_html.clone()),
                // A peer's id may not be its page (Mastodon's are not): a permalink only when it is.
                guid: Some(Guid { value: item.id.clone(), permalink: item.id == item.link }),
                pub_date: Some(rfc2822(item.published)),
                categories: item
                    .categories
                    .iter()
                    .map(|(term, _)| Category { name: term.clone(), domain: None })
                    .collect(),
                // RSS's own `author` must be an email address; Dublin Core's creator takes a name.
                dublin_core_ext: Some(DublinCoreExtension {
                    creators: vec![item.author_name.clone()],
                    ..Default::default()
                }),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    render::strip_forbidden(&channel.to_string())
}

fn respond(format: Format, head: &FeedHead, items: &[FeedItem]) -> HttpResponse {
    let body = match format {
        Format::Atom => to_atom(head, items),
        Format::Rss => to_rss(head, items),
    };
    feed_response(format.mime(), body)
}

fn local_item(state: &AppState, b: &Bulletin, author: &str) -> FeedItem {
    let url = state.urls.bulletin(&b.id).to_string();
    FeedItem {
        id: url.clone(),
        link: url,
        title: b.title.clone(),
        published: b.published_at,
        updated: b.updated_at.unwrap_or(b.published_at),
        author_name: author.to_string(),
        author_uri: state.urls.host_actor().to_string(),
        content_html: b.content_html.clone(),
        lang: Some(b.lang.clone()),
        categories: hashtags(state, &b.meta(), [b.lang.as_str()]),
    }
}

/// A timeline entry as a feed item.
fn entry_item(e: &TimelineEntry) -> FeedItem {
    FeedItem {
        id: e.id.clone(),
        link: e.url.clone().unwrap_or_else(|| e.id.clone()),
        title: e.title.clone(),
        published: e.published,
        updated: e.updated,
        author_name: e.author_name.clone(),
        author_uri: e.actor.clone(),
        content_html: e.content.clone(),
        lang: e.lang.clone(),
        categories: e.hashtags.clone(),
    }
}

// ---------------------------------------------------------------- the host's bulletins

#[derive(Deserialize)]
pub struct FeedQuery {
    kind: Option<String>,
    service: Option<String>,
}

async fn host_feed_in(
    fed: web::Data<Federation>,
    name: web::Path<String>,
    query: web::Query<FeedQuery>,
    format: Format,
) -> Result<HttpResponse, ApiError> {
    let state = state_of(&fed).clone();
    if *name != state.config.account.name {
        return Err(ApiError::not_found(&format!("account `{name}`")));
    }
    let kind = match &query.kind {
        Some(k) => Some(BulletinKind::parse("kind", k).map_err(|e| ApiError::bad_request(e.to_string()))?),
        None => None,
    };
    let service = query.service.clone();
    let selected = bulletins::published(&state, kind, service, FEED_SIZE).await?;
    let service = query.service.clone();
    let profile = crate::app::profile::effective(&state).await?;
    let lang = state.config.default_language().to_string();
    let mut self_url = match format {
        Format::Atom => state.urls.host_feed(),
        Format::Rss => state.urls.host_feed_rss(),
    };
    if let Some(k) = kind {
        self_url.query_pairs_mut().append_pair("kind", k.cli_name());
    }
    if let Some(s) = &service {
        self_url.query_pairs_mut().append_pair("service", s);
    }
    let t = state.texts.texts(&lang);
    let title = match (kind, &service) {
        (Some(k), _) => t.fill("feed.kind_title", &[("host", &profile.display_name), ("kind", k.label(t))]),
        (None, Some(s)) => format!("{} — {s}", profile.display_name),
        (None, None) => profile.display_name.clone(),
    };
    let summary = render::plain_text(&render::markdown_to_html(&profile.summary));
    let head = FeedHead {
        title,
        description: if summary.is_empty() { state.config.handle() } else { summary },
        self_url,
        html_url: state.urls.host_actor(),
        author_name: profile.display_name.clone(),
        author_uri: state.urls.host_actor().to_string(),
        lang,
        updated: selected
            .iter()
            .map(|b| b.updated_at.unwrap_or(b.published_at))
            .max()
            .unwrap_or_else(|| state.clock.now()),
    };
    let items: Vec<FeedItem> = selected.iter().map(|b| local_item(&state, b, &profile.display_name)).collect();
    Ok(respond(format, &head, &items))
}

/// GET /u/{name}/feed.atom[?kind=service_change][&service=nextcloud]
pub async fn host_feed(
    fed: web::Data<Federation>,
    name: web::Path<String>,
    query: web::Query<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    host_feed_in(fed, name, query, Format::Atom).await
}

/// GET /u/{name}/feed.rss, with the same filters as the Atom feed.
pub async fn host_feed_rss(
    fed: web::Data<Federation>,
    name: web::Path<String>,
    query: web::Query<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    host_feed_in(fed, name, query, Format::Rss).await
}

// ---------------------------------------------------------------- the federated timeline

async fn timeline_feed(
    fed: web::Data<Federation>,
    req: HttpRequest,
    query: web::Query<TimelineQuery>,
    format: Format,
) -> Result<HttpResponse, ApiError> {
    let state = state_of(&fed).clone();
    let request = query.request(FEED_SIZE as i64)?;
    let profile = crate::app::profile::effective(&state).await?;
    let items: Vec<FeedItem> = timeline::request(&state, request).await?.items.iter().map(entry_item).collect();
    let mut self_url = match format {
        Format::Atom => state.urls.timeline_atom(),
        Format::Rss => state.urls.timeline_rss(),
    };
    // The same filters as asked (already checked above).
    if !req.query_string().is_empty() {
        self_url.set_query(Some(req.query_string()));
    }
    let lang = state.config.default_language().to_string();
    let t = state.texts.texts(&lang);
    let head = FeedHead {
        title: t.fill("feed.timeline_title", &[("host", &profile.display_name)]),
        description: t.get("feed.timeline_description").to_string(),
        self_url,
        html_url: state.urls.base(),
        author_name: profile.display_name.clone(),
        author_uri: state.urls.host_actor().to_string(),
        lang,
        updated: items.iter().map(|i| i.updated).max().unwrap_or_else(|| state.clock.now()),
    };
    Ok(respond(format, &head, &items))
}

/// GET /timeline.atom, with the filters of GET /api/v1/timeline.
pub async fn timeline_atom(
    fed: web::Data<Federation>,
    req: HttpRequest,
    query: web::Query<TimelineQuery>,
) -> Result<HttpResponse, ApiError> {
    timeline_feed(fed, req, query, Format::Atom).await
}

/// GET /timeline.rss, with the filters of GET /api/v1/timeline.
pub async fn timeline_rss(
    fed: web::Data<Federation>,
    req: HttpRequest,
    query: web::Query<TimelineQuery>,
) -> Result<HttpResponse, ApiError> {
    timeline_feed(fed, req, query, Format::Rss).await
}

// ---------------------------------------------------------------- the collective's members

async fn collective_feed(fed: web::Data<Federation>, format: Format) -> Result<HttpResponse, ApiError> {
    let state = state_of(&fed).clone();
    let request = timeline::TimelineRequest {
        filter: timeline::TimelineFilter { limit: FEED_SIZE as i64, ..Default::default() },
        members_only: true,
    };
    let items: Vec<FeedItem> = timeline::request(&state, request).await?.items.iter().map(entry_item).collect();
    let lang = state.config.default_language().to_string();
    let t = state.texts.texts(&lang);
    let name = state.config.collective.as_ref().map(|c| c.display_name.clone()).unwrap_or_default();
    let head = FeedHead {
        title: t.fill("collective_pages.feed_title", &[("collective", &name)]),
        description: t.get("collective_pages.feed_description").to_string(),
        self_url: match format {
            Format::Atom => state.urls.collective_feed(),
            Format::Rss => state.urls.collective_feed_rss(),
        },
        html_url: state.urls.collective_timeline(),
        author_name: name,
        author_uri: state.urls.collective_status().to_string(),
        lang,
        updated: items.iter().map(|i| i.updated).max().unwrap_or_else(|| state.clock.now()),
    };
    Ok(respond(format, &head, &items))
}

/// GET /collective/feed.atom — the bulletins of every member of the collective.
pub async fn collective_atom(fed: web::Data<Federation>) -> Result<HttpResponse, ApiError> {
    collective_feed(fed, Format::Atom).await
}

/// GET /collective/feed.rss — the same entries as the Atom feed.
pub async fn collective_rss(fed: web::Data<Federation>) -> Result<HttpResponse, ApiError> {
    collective_feed(fed, Format::Rss).await
}

// ---------------------------------------------------------------- the peers we follow

/// GET /following.opml — the peers that accepted our follow, for a feed reader to import.
pub async fn following_opml(fed: web::Data<Federation>) -> Result<HttpResponse, ApiError> {
    let state = state_of(&fed);
    let mut peers = peers::export(state).await?;
    peers.retain(|p| p.status == FollowState::Accepted);
    Ok(feed_response("text/x-opml", peers::opml(state, &peers)))
}
