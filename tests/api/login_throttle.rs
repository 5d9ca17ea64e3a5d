//! The login throttle behind a reverse proxy: `X-Forwarded-For` counts only from
//! `server.trusted_proxies`, an attacker locks only itself, the real admin still logs in (slowed
//! down, never refused), and "try again in N minutes" tells when the lock really lifts.

use crate::{
    helpers::{spawn_app_with_clock, test_clock, TestApp},
    pages::hidden,
};
use reqwest::{header, redirect::Policy, StatusCode};
use ronron::app::admins;

const PASSWORD: &str = "correct horse battery";

struct Answer {
    status: StatusCode,
    headers: header::HeaderMap,
    body: String,
}

impl Answer {
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|c| c.to_str().unwrap().to_string())
            .find(|c| c.starts_with(&format!("{name}=")))
    }
}

/// One login through the form, as a browser behind a proxy would send it: the proxy adds
/// `forwarded` (the client's address as it saw it, or anything a client typed) and `proto`.
async fn login(app: &TestApp, forwarded: Option<&str>, proto: Option<&str>, username: &str, password: &str) -> Answer {
    let client = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    let with_proxy = |mut request: reqwest::RequestBuilder| {
        if let Some(forwarded) = forwarded {
            request = request.header("X-Forwarded-For", forwarded);
        }
        if let Some(proto) = proto {
            request = request.header("X-Forwarded-Proto", proto);
        }
        request.header(header::ACCEPT_LANGUAGE, "en")
    };
    let form = with_proxy(client.get(format!("{}/admin/login", app.base()))).send().await.unwrap();
    let csrf_cookie = form
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().to_string())
        .find(|c| c.starts_with("ronron_login_csrf="))
        .expect("the login form sets its CSRF cookie");
    let csrf_cookie = csrf_cookie.split(';').next().unwrap().to_string();
    let csrf = hidden(&form.text().await.unwrap(), "csrf");
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("username", username), ("password", password), ("csrf", &csrf), ("next", "/admin")])
        .finish();
    let response = with_proxy(client.post(format!("{}/admin/login", app.base())))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, csrf_cookie)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    Answer { status, headers, body: response.text().await.unwrap() }
}

async fn app_behind_proxy(trusted: &[&str]) -> TestApp {
    let trusted: Vec<String> = trusted.iter().map(|s| s.to_string()).collect();
    let app = spawn_app_with_clock(0, test_clock(), move |c| c.server.trusted_proxies = trusted).await;
    admins::create_admin(&app.state, "camille", PASSWORD).await.unwrap();
    app
}

#[actix_rt::test]
async fn behind_a_trusted_proxy_an_attacker_locks_only_itself_and_the_admin_still_logs_in() {
    // The test client is the proxy: it connects from 127.0.0.1 and says who the client is.
    let app = app_behind_proxy(&["127.0.0.1/32"]).await;
    let attacker = Some("203.0.113.7");
    for _ in 0..admins::MAX_FAILURES_PER_CLIENT {
        assert_eq!(login(&app, attacker, None, "camille", "wrong password!").await.status, StatusCode::UNAUTHORIZED);
    }
    // The attacker's address is locked out of this name, even with the right password…
    let answer = login(&app, attacker, None, "camille", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(answer.body.contains("Try again in 15 minutes."), "{}", answer.body);
    // …while the admin, from an address with no failures, logs in. Over https at the proxy, the
    // session cookie is Secure although the instance's own scheme is http (a loopback domain).
    let answer = login(&app, Some("198.51.100.2"), Some("https"), "camille", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let session = answer.cookie("ronron_session").expect("a session cookie");
    assert!(session.contains("; Secure"), "{session}");
    // Without X-Forwarded-Proto the configured scheme decides: plain http here, so not Secure.
    let answer = login(&app, Some("198.51.100.3"), None, "camille", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert!(!answer.cookie("ronron_session").unwrap().contains("Secure"));

    // An attacker with many addresses gets 5 tries from each, each slower than the last: the
    // admin is slowed down as much, but never refused.
    for _ in 0..admins::MAX_FAILURES_PER_CLIENT {
        let answer = login(&app, Some("203.0.113.8"), None, "camille", "wrong password!").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let failures = 2 * admins::MAX_FAILURES_PER_CLIENT as i64;
    let started = std::time::Instant::now();
    let answer = login(&app, Some("198.51.100.4"), None, "camille", PASSWORD).await;
    let took = started.elapsed();
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert!(
        took >= admins::slowdown(failures),
        "the login waited {took:?}, less than {:?}",
        admins::slowdown(failures)
    );
    assert!(admins::slowdown(failures) >= std::time::Duration::from_secs(3));
    // The first attacker is still locked, and its lock does not slow a locked attempt.
    let started = std::time::Instant::now();
    assert_eq!(login(&app, attacker, None, "camille", PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(started.elapsed() < admins::slowdown(failures));
}

#[actix_rt::test]
async fn a_spoofed_forwarded_for_through_an_untrusted_peer_does_not_help_the_attacker() {
    // The proxy list names another network: 127.0.0.1 is an ordinary client, its headers ignored.
    let app = app_behind_proxy(&["10.0.0.0/8"]).await;
    for i in 0..admins::MAX_FAILURES_PER_CLIENT {
        let spoofed = format!("192.0.2.{i}");
        let answer = login(&app, Some(&spoofed), None, "camille", "wrong password!").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    // A fresh made-up address changes nothing: every attempt counted for 127.0.0.1.
    let answer = login(&app, Some("192.0.2.99"), Some("https"), "camille", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(answer.cookie("ronron_session").is_none());
    // Nor does it let one client try many names: the address lock counts every name.
    let mut tried = admins::MAX_FAILURES_PER_CLIENT;
    let mut name = 0;
    while tried < admins::MAX_FAILURES_PER_IP {
        let spoofed = format!("198.51.100.{tried}");
        let answer = login(&app, Some(&spoofed), None, &format!("guess{name}"), "wrong password!").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "attempt {tried}");
        tried += 1;
        name += 1;
    }
    let answer = login(&app, Some("198.51.100.250"), None, "someone-else", "wrong password!").await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(answer.body.contains("Try again in 15 minutes."), "{}", answer.body);
}

#[actix_rt::test]
async fn try_again_in_n_minutes_is_when_the_lock_really_lifts() {
    let app = app_behind_proxy(&["127.0.0.1/32"]).await;
    let client = Some("198.51.100.9");
    // A failure for another name from the same address, ten minutes before the five that lock:
    // it leaves the window first, but does not lift the lock.
    assert_eq!(login(&app, client, None, "alice", "wrong password!").await.status, StatusCode::UNAUTHORIZED);
    app.clock.advance(chrono::Duration::minutes(10));
    for _ in 0..admins::MAX_FAILURES_PER_CLIENT {
        assert_eq!(login(&app, client, None, "camille", "wrong password!").await.status, StatusCode::UNAUTHORIZED);
    }
    let answer = login(&app, client, None, "camille", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(answer.body.contains("Try again in 15 minutes."), "{}", answer.body);
    assert_eq!(answer.headers[header::RETRY_AFTER], "900");
    app.clock.advance(chrono::Duration::minutes(7) + chrono::Duration::seconds(30));
    let answer = login(&app, client, None, "camille", PASSWORD).await;
    assert!(answer.body.contains("Try again in 8 minutes."), "{}", answer.body);
    app.clock.advance(chrono::Duration::minutes(7));
    let answer = login(&app, client, None, "camille", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(answer.body.contains("Try again in 1 minute."), "{}", answer.body);
    // Fifteen minutes after the fifth failure, as announced, the right password works.
    app.clock.advance(chrono::Duration::seconds(30));
    let answer = login(&app, client, None, "camille", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
}
