//! Atom feed of the host's bulletins (all, or one kind, or one service), for feed readers and for
//! the OPML export of peers.

use super::{error::ApiError, state_of};
use crate::{
    bulletin::vocab::{BulletinKind, Choice},
    db::models::bulletins::{self, Bulletin},
    federation::{publish::hashtags, Federation},
    state::AppState,
};
use actix_web::{web, HttpResponse};
use atom_syndication::{Category, Content, Entry, Feed, Generator, Link, Person};
use chrono::{FixedOffset, NaiveDateTime};
use serde::Deserialize;

const FEED_SIZE: usize = 50;

#[derive(Deserialize)]
pub struct FeedQuery {
    kind: Option<String>,
    service: Option<String>,
}

fn date(at: NaiveDateTime) -> chrono::DateTime<FixedOffset> {
    at.and_utc().fixed_offset()
}

fn link(href: &str, rel: &str, mime: &str) -> Link {
    Link { href: href.to_string(), rel: rel.to_string(), mime_type: Some(mime.to_string()), ..Default::default() }
}

fn entry(state: &AppState, b: &Bulletin, author: &str) -> Entry {
    let url = state.urls.bulletin(&b.id).to_string();
    Entry {
        id: url.clone(),
        title: b.title.clone().into(),
        updated: date(b.updated_at.unwrap_or(b.published_at)),
        published: Some(date(b.published_at)),
        authors: vec![Person {
            name: author.to_string(),
            uri: Some(state.urls.host_actor().to_string()),
            email: None,
            ..Default::default()
        }],
        links: vec![link(&url, "alternate", "text/html")],
        categories: hashtags(state, &b.meta())
            .into_iter()
            .map(|(name, href)| Category { term: name, scheme: Some(href), label: None })
            .collect(),
        content: Some(Content {
            value: Some(b.content_html.clone()),
            content_type: Some("html".into()),
            lang: Some(b.lang.clone()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// GET /u/{name}/feed.atom[?kind=service_change][&service=nextcloud]
pub async fn host_feed(
    fed: web::Data<Federation>,
    name: web::Path<String>,
    query: web::Query<FeedQuery>,
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
    // One read: the latest bulletins, narrowed to those about the service when one is asked.
    let selected: Vec<Bulletin> = state
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
                if selected.len() == FEED_SIZE {
                    break;
                }
            }
            Ok(selected)
        })
        .await?;
    let service = query.service.clone();
    let profile = crate::profile::effective(&state).await?;
    let mut self_url = state.urls.host_feed();
    if let Some(k) = kind {
        self_url.query_pairs_mut().append_pair("kind", k.cli_name());
    }
    if let Some(s) = &service {
        self_url.query_pairs_mut().append_pair("service", s);
    }
    let title = match (kind, &service) {
        (Some(k), _) => format!("{} — {}", profile.display_name, k.label(state.config.default_language())),
        (None, Some(s)) => format!("{} — {s}", profile.display_name),
        (None, None) => profile.display_name.clone(),
    };
    let feed = Feed {
        id: self_url.to_string(),
        title: title.into(),
        updated: date(
            selected.iter().map(|b| b.updated_at.unwrap_or(b.published_at)).max().unwrap_or_else(|| state.clock.now()),
        ),
        authors: vec![Person {
            name: profile.display_name.clone(),
            uri: Some(state.urls.host_actor().to_string()),
            email: None,
            ..Default::default()
        }],
        links: vec![
            link(self_url.as_str(), "self", "application/atom+xml"),
            link(state.urls.host_actor().as_str(), "alternate", "text/html"),
        ],
        generator: Some(Generator {
            value: "Ronron".into(),
            uri: None,
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
        lang: Some(state.config.default_language().to_string()),
        entries: selected.iter().map(|b| entry(&state, b, &profile.display_name)).collect(),
        ..Default::default()
    };
    Ok(HttpResponse::Ok().content_type("application/atom+xml; charset=utf-8").body(feed.to_string()))
}
