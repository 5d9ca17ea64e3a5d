//! HTTP: the ActivityPub endpoints and the public pages. The same URL answers HTML to browsers
//! and ActivityPub JSON to `Accept: application/activity+json` (or the ld+json profile).

pub mod activitypub;
pub mod admin;
pub mod admin_api;
pub mod api;
pub mod error;
pub mod feeds;
pub mod html;
pub mod i18n;
pub mod ical;
pub mod inbox;
pub mod pages;
pub mod views;
pub mod wellknown;

use crate::{federation::protocol::ACTIVITY_JSON, urls::routes};
use actix_web::{http::header, web, HttpRequest, HttpResponse};
use serde::Serialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(routes::WEBFINGER, web::get().to(wellknown::webfinger))
        .route(routes::HOST_META, web::get().to(wellknown::host_meta))
        .route(routes::NODEINFO_WELL_KNOWN, web::get().to(wellknown::nodeinfo_links))
        .route(routes::NODEINFO, web::get().to(wellknown::nodeinfo))
        .route(routes::SHARED_INBOX, web::post().to(inbox::shared_inbox))
        .route(routes::INSTANCE_ACTOR, web::get().to(activitypub::instance_actor))
        .route(routes::INSTANCE_ACTOR_INBOX, web::post().to(inbox::shared_inbox))
        .route(routes::ACCOUNT, web::get().to(activitypub::host_actor))
        .route(routes::ACCOUNT_INBOX, web::post().to(inbox::account_inbox))
        .route(routes::ACCOUNT_OUTBOX, web::get().to(activitypub::outbox))
        .route(routes::ACCOUNT_FOLLOWERS, web::get().to(activitypub::followers))
        .route(routes::ACCOUNT_FOLLOWING, web::get().to(activitypub::following))
        .route(routes::ACCOUNT_FEATURED, web::get().to(activitypub::featured))
        .route(routes::BULLETIN, web::get().to(activitypub::bulletin))
        .route(routes::ACTIVITY, web::get().to(activitypub::activity))
        .route(routes::ACCOUNT_SERVICES, web::get().to(activitypub::services_collection))
        .route(routes::ACCOUNT_LABEL, web::get().to(activitypub::label))
        .route(routes::SERVICE, web::get().to(activitypub::service))
        .route(routes::TAG, web::get().to(pages::tag_page))
        .route(routes::API_TIMELINE, web::get().to(api::timeline))
        .route(routes::ACCOUNT_FEED, web::get().to(feeds::host_feed))
        .route(routes::API_DIRECTORY, web::get().to(api::directory))
        .route(routes::STATUS_PAGE, web::get().to(pages::status_page))
        .route(routes::TIMELINE_PAGE, web::get().to(pages::timeline_page))
        .route(routes::DIRECTORY_PAGE, web::get().to(pages::directory_page))
        .route(routes::ASSET, web::get().to(html::asset))
        .route(routes::ACCOUNT_FEED_RSS, web::get().to(feeds::host_feed_rss))
        .route(routes::ACCOUNT_MAINTENANCE_CALENDAR, web::get().to(ical::maintenance_calendar))
        .route(routes::TIMELINE_ATOM, web::get().to(feeds::timeline_atom))
        .route(routes::TIMELINE_RSS, web::get().to(feeds::timeline_rss))
        .route(routes::FOLLOWING_OPML, web::get().to(feeds::following_opml))
        .route("/", web::get().to(pages::home))
        .configure(admin::routes)
        .configure(admin_api::routes);
}

/// True when the client asked for ActivityPub JSON rather than a page.
pub fn wants_activity_json(req: &HttpRequest) -> bool {
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    accept.contains("application/activity+json")
        || accept.contains("application/ld+json")
        || accept.contains("application/json")
}

/// An ActivityPub JSON response, with the content type Mastodon itself sends.
pub fn activity_json<T: Serialize>(status: actix_web::http::StatusCode, body: &T) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(format!("{ACTIVITY_JSON}; charset=utf-8"))
        .insert_header((header::VARY, "Accept"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .body(serde_json::to_string(body).expect("documents serialise"))
}

/// The application state inside the federation config handlers receive.
pub fn state_of(fed: &crate::federation::Federation) -> &crate::state::AppState {
    std::ops::Deref::deref(fed)
}
