//! HTTP itself, on every route: `HEAD` answers like `GET` without the body, a method a path does
//! not answer is a 405 naming those it does, every answer carries `nosniff` and every HTML one
//! (error pages included) the CSP, and a `next` the login cannot redirect to is dropped.

use crate::{
    helpers::{spawn_app, TestApp},
    pages::{hidden, publish_sample, Browser},
};
use reqwest::{header, redirect::Policy, Method, StatusCode};
use ronron::{app::admins, app::bulletins as publish, db::models::tokens};

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

async fn call(app: &TestApp, method: Method, path: &str, accept: &str) -> reqwest::Response {
    client().request(method, format!("{}{path}", app.base())).header(header::ACCEPT, accept).send().await.unwrap()
}

/// Headers that differ between two answers to the same request.
const PER_ANSWER: [header::HeaderName; 2] = [header::DATE, header::SET_COOKIE];

#[actix_rt::test]
async fn head_answers_like_get_without_the_body_on_every_page_feed_and_document() {
    let app = spawn_app().await;
    let (news, _) = publish_sample(&app).await;
    let html = "text/html";
    let ap = "application/activity+json";
    let any = "*/*";
    let paths = [
        ("/", html),
        ("/u/bulletin", html),
        ("/u/bulletin", ap),
        ("/status", html),
        (&format!("/b/{news}") as &str, html),
        (&format!("/b/{news}"), ap),
        ("/services/cloud", html),
        ("/tags/chatons", html),
        ("/timeline", html),
        ("/directory", html),
        ("/admin/login", html),
        ("/admin", html),
        ("/u/bulletin/feed.atom", any),
        ("/u/bulletin/feed.rss", any),
        ("/u/bulletin/maintenance.ics", any),
        ("/timeline.atom", any),
        ("/timeline.rss", any),
        ("/following.opml", any),
        ("/assets/style.css", any),
        ("/api/v1/timeline", any),
        ("/api/v1/directory", any),
        ("/u/bulletin/outbox", ap),
        ("/.well-known/nodeinfo", any),
        ("/nodeinfo/2.1", any),
        ("/b/nope", html),
    ];
    for (path, accept) in paths {
        let get = call(&app, Method::GET, path, accept).await;
        let head = call(&app, Method::HEAD, path, accept).await;
        assert_eq!(head.status(), get.status(), "HEAD {path} ({accept})");
        assert!(head.status() != StatusCode::NOT_FOUND || path == "/b/nope", "HEAD {path} ({accept})");
        let (get_headers, head_headers) = (get.headers().clone(), head.headers().clone());
        let names = |h: &header::HeaderMap| {
            let mut names: Vec<String> =
                h.keys().filter(|k| !PER_ANSWER.contains(k)).map(|k| k.as_str().to_string()).collect();
            names.sort();
            names
        };
        assert_eq!(names(&head_headers), names(&get_headers), "HEAD {path} ({accept})");
        for (name, value) in &get_headers {
            if !PER_ANSWER.contains(name) {
                assert_eq!(head_headers.get(name), Some(value), "HEAD {path} ({accept}): {name}");
            }
        }
        let body = get.bytes().await.unwrap();
        assert_eq!(
            head_headers[header::CONTENT_LENGTH].to_str().unwrap(),
            body.len().to_string(),
            "HEAD {path} ({accept}) says how long the body is"
        );
        assert!(head.bytes().await.unwrap().is_empty(), "HEAD {path} ({accept}) has no body");
    }
}

#[actix_rt::test]
async fn a_method_a_path_does_not_answer_is_a_405_naming_those_it_does() {
    let app = spawn_app().await;
    admins::create_admin(&app.state, "camille", "correct horse battery").await.unwrap();
    for (method, path, allow) in [
        (Method::PUT, "/status", "GET, HEAD"),
        (Method::DELETE, "/status", "GET, HEAD"),
        (Method::POST, "/", "GET, HEAD"),
        (Method::DELETE, "/u/bulletin", "GET, HEAD"),
        (Method::PUT, "/timeline.atom", "GET, HEAD"),
        (Method::GET, "/inbox", "POST"),
        (Method::HEAD, "/u/bulletin/inbox", "POST"),
        (Method::DELETE, "/admin/login", "GET, HEAD, POST"),
        (Method::GET, "/admin/logout", "POST"),
        (Method::PUT, "/admin/bulletins/x/delete", "GET, HEAD, POST"),
    ] {
        let response = call(&app, method.clone(), path, "text/html").await;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(response.headers()[header::ALLOW], allow, "{method} {path}");
    }
    // A path that does not exist stays a 404, whatever the method.
    for method in [Method::GET, Method::HEAD, Method::PUT, Method::POST] {
        for path in ["/nope", "/u/bulletin/nope", "/admin/nope"] {
            assert_eq!(call(&app, method.clone(), path, "text/html").await.status(), StatusCode::NOT_FOUND, "{path}");
        }
    }
    // The admin API checks the token first, then answers its 405 in JSON.
    let api = format!("{}/api/v1/admin/bulletins", app.base());
    assert_eq!(client().put(&api).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let now = app.state.clock.now();
    let (_, secret) = app.state.db.write(move |c| tokens::create(c, "tests", now)).await.unwrap();
    let response = client().put(&api).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()[header::ALLOW], "GET, HEAD, POST");
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("GET, HEAD, POST"), "{body}");
    let response = client().get(format!("{api}/x/cancel")).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()[header::ALLOW], "POST");
    let response = client().head(&api).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "HEAD on an API list");
    let response = client().get(format!("{}/api/v1/admin/nope", app.base())).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[actix_rt::test]
async fn a_next_with_control_characters_falls_back_to_the_dashboard() {
    let app = spawn_app().await;
    admins::create_admin(&app.state, "camille", "correct horse battery").await.unwrap();
    let mut browser = Browser::new(&app, "en");
    let (status, _, page) = browser.get("/admin/login?next=%2Fadmin%0D%0ASet-Cookie%3A%20evil%3D1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(hidden(&page, "next"), "/admin");
    let csrf = hidden(&page, "csrf");
    for next in ["/admin\r\nSet-Cookie: evil=1", "/admin/bulletins\n/x", "/admin/x\u{0}y", "/admin\u{7f}"] {
        let (status, headers, body) = browser
            .post(
                "/admin/login",
                &[("username", "camille"), ("password", "correct horse battery"), ("csrf", &csrf), ("next", next)],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{next:?}: {body}");
        assert_eq!(headers[header::LOCATION], "/admin", "{next:?}");
        assert!(headers.get_all(header::SET_COOKIE).iter().all(|c| !c.to_str().unwrap().contains("evil")));
    }
    // A good one is still followed.
    let (status, headers, _) = browser
        .post(
            "/admin/login",
            &[
                ("username", "camille"),
                ("password", "correct horse battery"),
                ("csrf", &csrf),
                ("next", "/admin/peers"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/admin/peers");
}

#[actix_rt::test]
async fn every_answer_says_nosniff_and_every_html_one_carries_the_csp() {
    let app = spawn_app().await;
    let (news, _) = publish_sample(&app).await;
    publish::delete_bulletin(&app.state, &news).await.unwrap();
    let html = "text/html";
    let ap = "application/activity+json";
    for (method, path, accept, status) in [
        (Method::GET, "/b/nope", html, 404),
        (Method::GET, &format!("/b/{news}") as &str, html, 410),
        (Method::GET, "/timeline?kind=gossip", html, 400),
        (Method::GET, "/status", html, 200),
        (Method::GET, "/nope", html, 404),
        (Method::PUT, "/status", html, 405),
        (Method::GET, &format!("/b/{news}"), ap, 410),
        (Method::GET, "/u/bulletin", ap, 200),
        (Method::GET, "/api/v1/timeline", "application/json", 200),
        (Method::GET, "/api/v1/timeline?kind=gossip", "application/json", 400),
        (Method::GET, "/api/v1/admin/bulletins", "application/json", 401),
        (Method::GET, "/timeline.atom", "*/*", 200),
        (Method::GET, "/u/bulletin/feed.rss", "*/*", 200),
        (Method::GET, "/following.opml", "*/*", 200),
        (Method::GET, "/u/bulletin/maintenance.ics", "*/*", 200),
        (Method::GET, "/.well-known/nodeinfo", "*/*", 200),
    ] {
        let response = call(&app, method.clone(), path, accept).await;
        assert_eq!(response.status().as_u16(), status, "{method} {path} ({accept})");
        let headers = response.headers();
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{method} {path} ({accept})");
        let is_html = headers.get(header::CONTENT_TYPE).is_some_and(|v| v.to_str().unwrap().starts_with("text/html"));
        if is_html {
            let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        }
        if path.starts_with("/b/") && accept == html {
            assert!(is_html, "{path} is an error page");
        }
    }
}
