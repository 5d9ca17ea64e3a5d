//! HTTP: the ActivityPub endpoints and the public pages. The same URL answers HTML to browsers
//! and ActivityPub JSON to `Accept: application/activity+json` (or the ld+json profile).

pub mod activitypub;
pub mod admin;
pub mod admin_api;
pub mod api;
pub mod chatonsinfos;
pub mod client;
pub mod collective_pages;
pub mod error;
pub mod feeds;
pub mod html;
pub mod i18n;
pub mod ical;
pub mod inbox;
pub mod media;
pub mod ops;
pub mod pages;
pub mod subscriptions;
pub mod views;
pub mod wellknown;

use crate::{federation::protocol::ACTIVITY_JSON, urls::routes};
use actix_web::{
    body::{BoxBody, MessageBody},
    dev::{AppService, HttpServiceFactory, ServiceRequest, ServiceResponse},
    guard,
    http::{header, Method, StatusCode},
    middleware::Next,
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
        .service(at(routes::INSTANCE_ACTOR_FEATURED).get(activitypub::instance_featured))
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
        .service(at(routes::ACCOUNT_MEMBERS).get(activitypub::members))
        .service(at(routes::SERVICE).get(activitypub::service))
        .service(at(routes::TAG).get(pages::tag_page))
        .service(at(routes::API_TIMELINE).get(api::timeline))
        .service(at(routes::ACCOUNT_FEED).get(feeds::host_feed))
        .service(at(routes::API_DIRECTORY).get(api::directory))
        .service(at(routes::STATUS_PAGE).get(pages::status_page))
        .service(at(routes::TIMELINE_PAGE).get(pages::timeline_page))
        .service(at(routes::DIRECTORY_PAGE).get(pages::directory_page))
        .service(at(routes::ASSET).get(html::asset))
        .service(at(routes::MEDIA).get(media::media_file))
        .service(at(routes::ACCOUNT_FEED_RSS).get(feeds::host_feed_rss))
        .service(at(routes::ACCOUNT_MAINTENANCE_CALENDAR).get(ical::maintenance_calendar))
        .service(at(routes::TIMELINE_ATOM).get(feeds::timeline_atom))
        .service(at(routes::TIMELINE_RSS).get(feeds::timeline_rss))
        .service(at(routes::FOLLOWING_OPML).get(feeds::following_opml))
        .service(at(routes::COLLECTIVE_STATUS).get(collective_pages::status_page))
        .service(at(routes::COLLECTIVE_MEMBERS).get(collective_pages::members_page))
        .service(at(routes::COLLECTIVE_LABELS).get(collective_pages::labels_page))
        .service(at(routes::COLLECTIVE_FEED).get(feeds::collective_atom))
        .service(at(routes::COLLECTIVE_FEED_RSS).get(feeds::collective_rss))
        .service(at(routes::COLLECTIVE_MAINTENANCE_CALENDAR).get(ical::collective_calendar))
        .service(at(routes::HEALTHZ).get(ops::healthz))
        .service(at(routes::READYZ).get(ops::readyz))
        .service(at(routes::METRICS).get(ops::metrics_on_main))
        .service(at(routes::CHATONSINFOS_ORGANIZATION).get(chatonsinfos::organization))
        .service(at(routes::CHATONSINFOS_SERVICE).get(chatonsinfos::service))
        .service(at(routes::CHATONSINFOS_FEDERATION).get(chatonsinfos::federation))
        .service(at(routes::SUBSCRIPTIONS).post(subscriptions::subscribe))
        .service(at(routes::SUBSCRIPTION_CONFIRM).get(subscriptions::confirm_page).post(subscriptions::confirm))
        .service(
            at(routes::SUBSCRIPTION_UNSUBSCRIBE).get(subscriptions::unsubscribe_page).post(subscriptions::unsubscribe),
        )
        .service(at("/").get(pages::home))
        .configure(admin::routes)
        .configure(admin_api::routes);
}

/// The separate `metrics.listen` listener: the machines' endpoints only.
pub fn ops_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(at(routes::HEALTHZ).get(ops::healthz))
        .service(at(routes::READYZ).get(ops::readyz))
        .service(at(routes::METRICS).get(ops::metrics_on_own_listener));
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

/// The Content Security Policy of every HTML answer: our own styles and scripts only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' https: data:; style-src 'self'; \
     script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Wraps every answer (pages, documents, feeds, JSON, error pages, the 404 of an unknown path):
/// `X-Content-Type-Options: nosniff` on all of them, the CSP on every HTML one, and an error
/// line in the log for a 500 whose cause was not logged where it was made.
pub async fn answer_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    // Handlers' and extractors' errors arrive as responses; an `Err` would come from actix
    // itself before routing, and passes through (the request cannot be cloned before routing).
    let mut response = next.call(req).await?.map_into_boxed_body();
    if response.status() == StatusCode::INTERNAL_SERVER_ERROR {
        log_unlogged_failure(&response);
    }
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, header::HeaderValue::from_static("nosniff"));
    let html =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"));
    if html && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, header::HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    }
    Ok(response)
}

/// The public pages answered with an `ETag` (a hash of the page as sent) and `304 Not Modified`
/// when the client already holds it: the host page, the status page, the timeline page.
const CONDITIONAL_PAGES: &[&str] = &["/", routes::STATUS_PAGE, routes::TIMELINE_PAGE];

/// `ETag` and `If-None-Match` on [`CONDITIONAL_PAGES`]: a reader's browser or a feed-like poller
/// that comes back to an unchanged page gets a 304 without the body. The tag hashes the bytes
/// sent (language and query included), so it changes exactly when the page does.
pub async fn conditional_get(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let conditional = matches!(*req.method(), Method::GET | Method::HEAD)
        && req.match_pattern().is_some_and(|p| CONDITIONAL_PAGES.contains(&p.as_str()));
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_string);
    let response = next.call(req).await?.map_into_boxed_body();
    // A page that sets a cookie (a language switch) is always sent whole.
    if !conditional
        || response.status() != StatusCode::OK
        || response.headers().contains_key(header::ETAG)
        || response.headers().contains_key(header::SET_COOKIE)
    {
        return Ok(response);
    }
    let (request, response) = response.into_parts();
    let (mut head, body) = response.into_parts();
    let bytes =
        actix_web::body::to_bytes(body).await.map_err(|e| actix_web::error::ErrorInternalServerError(e.to_string()))?;
    use sha2::Digest;
    let hash = sha2::Sha256::digest(&bytes);
    let tag = format!("\"{}\"", hash[..12].iter().map(|b| format!("{b:02x}")).collect::<String>());
    let matches = if_none_match
        .is_some_and(|v| v.split(',').any(|t| t.trim().trim_start_matches("W/") == tag || t.trim() == "*"));
    let response = if matches {
        let mut not_modified = HttpResponse::NotModified();
        not_modified.insert_header((header::ETAG, tag)).insert_header((header::CACHE_CONTROL, "no-cache"));
        if let Some(vary) = head.headers().get(header::VARY) {
            not_modified.insert_header((header::VARY, vary.clone()));
        }
        not_modified.finish()
    } else {
        if let Ok(value) = header::HeaderValue::from_str(&tag) {
            head.headers_mut().insert(header::ETAG, value);
        }
        // Kept, but checked again at each visit.
        if !head.headers().contains_key(header::CACHE_CONTROL) {
            head.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-cache"));
        }
        head.set_body(BoxBody::new(bytes))
    };
    Ok(ServiceResponse::new(request, response))
}

/// Counts every answer in the metrics by method, route pattern (`/b/{id}`, never the path itself:
/// `unmatched` when no route matched) and status, with its time.
pub async fn count_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(fed) = req.app_data::<web::Data<crate::federation::Federation>>().cloned() else {
        return next.call(req).await;
    };
    let state = state_of(&fed);
    let stopwatch = state.clock.stopwatch();
    let method = req.method().clone();
    let route = req.match_pattern();
    let result = next.call(req).await;
    let status = match &result {
        Ok(response) => response.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    state.metrics.http_request(method.as_str(), route, status.as_u16(), stopwatch.seconds());
    result
}

/// `PageError` and `ApiError` log their causes when made; anything else that became a 500 (a
/// header the response builder refused, a failure inside actix) is logged here.
fn log_unlogged_failure(response: &ServiceResponse<BoxBody>) {
    let failure = response.response().error();
    let logged =
        failure.is_some_and(|e| e.as_error::<html::PageError>().is_some() || e.as_error::<error::ApiError>().is_some());
    if !logged {
        let cause = failure.map(|e| e.to_string()).unwrap_or_else(|| "no cause recorded".into());
        tracing::error!(error = %cause, path = %response.request().path(), "answered 500");
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

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{middleware::from_fn, test, App};
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A 500 the response builder made (here, a header it refused) gets an error line, and the
    /// answer still says nosniff.
    #[actix_rt::test]
    async fn a_500_whose_cause_nobody_logged_gets_an_error_line() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app =
            test::init_service(App::new().wrap(from_fn(answer_headers)).service(at("/").get(|| async {
                HttpResponse::SeeOther().insert_header((header::LOCATION, "/admin\r\nX: y")).finish()
            })))
            .await;
        let response = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers().get(header::X_CONTENT_TYPE_OPTIONS).unwrap(), "nosniff");
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(log.contains("ERROR") && log.contains("answered 500"), "{log}");
    }
}
