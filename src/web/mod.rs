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
use actix_web::{
    dev::{AppService, HttpServiceFactory},
    guard,
    http::{header, Method},
    web, FromRequest, Handler, HttpRequest, HttpResponse, Resource, Responder,
};
use serde::Serialize;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(at(routes::WEBFINGER).get(wellknown::webfinger))
        .service(at(routes::HOST_META).get(wellknown::host_meta))
        .service(at(routes::NODEINFO_WELL_KNOWN).get(wellknown::nodeinfo_links))
        .service(at(routes::NODEINFO).get(wellknown::nodeinfo))
        .service(at(routes::SHARED_INBOX).post(inbox::shared_inbox))
        .service(at(routes::INSTANCE_ACTOR).get(activitypub::instance_actor))
        .service(at(routes::INSTANCE_ACTOR_INBOX).post(inbox::shared_inbox))
        .service(at(routes::ACCOUNT).get(activitypub::host_actor))
        .service(at(routes::ACCOUNT_INBOX).post(inbox::account_inbox))
        .service(at(routes::ACCOUNT_OUTBOX).get(activitypub::outbox))
        .service(at(routes::ACCOUNT_FOLLOWERS).get(activitypub::followers))
        .service(at(routes::ACCOUNT_FOLLOWING).get(activitypub::following))
        .service(at(routes::ACCOUNT_FEATURED).get(activitypub::featured))
        .service(at(routes::BULLETIN).get(activitypub::bulletin))
        .service(at(routes::ACTIVITY).get(activitypub::activity))
        .service(at(routes::ACCOUNT_SERVICES).get(activitypub::services_collection))
        .service(at(routes::ACCOUNT_LABEL).get(activitypub::label))
        .service(at(routes::SERVICE).get(activitypub::service))
        .service(at(routes::TAG).get(pages::tag_page))
        .service(at(routes::API_TIMELINE).get(api::timeline))
        .service(at(routes::ACCOUNT_FEED).get(feeds::host_feed))
        .service(at(routes::API_DIRECTORY).get(api::directory))
        .service(at(routes::STATUS_PAGE).get(pages::status_page))
        .service(at(routes::TIMELINE_PAGE).get(pages::timeline_page))
        .service(at(routes::DIRECTORY_PAGE).get(pages::directory_page))
        .service(at(routes::ASSET).get(html::asset))
        .service(at(routes::ACCOUNT_FEED_RSS).get(feeds::host_feed_rss))
        .service(at(routes::ACCOUNT_MAINTENANCE_CALENDAR).get(ical::maintenance_calendar))
        .service(at(routes::TIMELINE_ATOM).get(feeds::timeline_atom))
        .service(at(routes::TIMELINE_RSS).get(feeds::timeline_rss))
        .service(at(routes::FOLLOWING_OPML).get(feeds::following_opml))
        .service(at("/").get(pages::home))
        .configure(admin::routes)
        .configure(admin_api::routes);
}

/// One path and the methods it answers. `HEAD` is answered wherever `GET` is, by the same
/// handler (the server sends the headers, `Content-Length` included, and drops the body); any
/// other method gets 405 with `Allow` naming the ones it does answer. A path no resource matches
/// stays a 404.
pub struct Methods {
    resource: Resource,
    allow: Vec<Method>,
    refuse: fn(String) -> HttpResponse,
}

/// The resource at `path`, to be given its methods (`at(P).get(h).post(h2)`).
pub fn at(path: &str) -> Methods {
    Methods { resource: web::resource(path), allow: Vec::new(), refuse: method_not_allowed }
}

/// A 405 for the pages and documents: no body, only the methods the path answers.
fn method_not_allowed(allow: String) -> HttpResponse {
    HttpResponse::MethodNotAllowed().insert_header((header::ALLOW, allow)).finish()
}

impl Methods {
    /// The 405 this path answers (the admin API answers in JSON).
    pub fn refuse_with(mut self, refuse: fn(String) -> HttpResponse) -> Self {
        self.refuse = refuse;
        self
    }
    pub fn get<F, Args>(mut self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.allow.extend([Method::GET, Method::HEAD]);
        self.resource = self.resource.route(web::route().guard(guard::Any(guard::Get()).or(guard::Head())).to(handler));
        self
    }
    pub fn post<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(Method::POST, handler)
    }
    pub fn put<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(Method::PUT, handler)
    }
    pub fn patch<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(Method::PATCH, handler)
    }
    pub fn delete<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.method(Method::DELETE, handler)
    }
    fn method<F, Args>(mut self, method: Method, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.allow.push(method.clone());
        self.resource = self.resource.route(web::method(method).to(handler));
        self
    }
}

impl HttpServiceFactory for Methods {
    fn register(self, config: &mut AppService) {
        let allow = self.allow.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
        let refuse = self.refuse;
        self.resource
            .default_service(web::to(move || {
                let allow = allow.clone();
                async move { refuse(allow) }
            }))
            .register(config)
    }
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
