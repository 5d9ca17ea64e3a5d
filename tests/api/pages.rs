//! The web interface over real HTTP: every public page in both languages and both faces, the
//! admin behind its login (throttling, CSRF), composing and managing bulletins from forms, and
//! hostile text from admins and peers staying inert.

use crate::helpers::{spawn_app, TestApp};
use reqwest::{header, redirect::Policy, StatusCode};
use ronron::{
    app::admins,
    app::bulletins as publish,
    app::catalogue,
    bulletin::{
        forms::{ChangeFields, PostFields},
        ServiceDraft,
    },
    db::models::{directory, remote},
};
use std::collections::HashMap;

/// A small browser: keeps cookies, follows no redirect (tests look at them).
pub struct Browser {
    client: reqwest::Client,
    base: String,
    cookies: HashMap<String, String>,
    lang: &'static str,
}

impl Browser {
    pub fn new(app: &TestApp, lang: &'static str) -> Browser {
        Browser {
            client: reqwest::Client::builder().redirect(Policy::none()).build().unwrap(),
            base: app.base(),
            cookies: HashMap::new(),
            lang,
        }
    }

    fn keep_cookies(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all(header::SET_COOKIE) {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || text.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    pub async fn get(&mut self, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header(header::ACCEPT, "text/html")
            .header(header::ACCEPT_LANGUAGE, self.lang)
            .header(header::COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        (response.status(), response.headers().clone(), response.text().await.unwrap())
    }

    pub async fn post(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT_LANGUAGE, self.lang)
            .header(header::COOKIE, self.cookie_header())
            .body(body)
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        (response.status(), response.headers().clone(), response.text().await.unwrap())
    }

    /// Logs in through the form; returns the status of the answer.
    pub async fn login(&mut self, username: &str, password: &str) -> StatusCode {
        let (_, _, page) = self.get("/admin/login").await;
        let csrf = hidden(&page, "csrf");
        self.post(
            "/admin/login",
            &[("username", username), ("password", password), ("csrf", &csrf), ("next", "/admin")],
        )
        .await
        .0
    }

    /// The CSRF token the admin pages carry.
    pub async fn csrf(&mut self) -> String {
        let (status, _, page) = self.get("/admin").await;
        assert_eq!(status, StatusCode::OK, "logged in");
        hidden(&page, "csrf")
    }
}

/// The value of a hidden input in a page.
pub fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).unwrap_or_else(|| panic!("no hidden {name} in the page")) + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

pub async fn add_service(app: &TestApp, slug: &str, name: &str) {
    catalogue::add(
        &app.state,
        ServiceDraft {
            slug: slug.into(),
            name: name.into(),
            software: name.into(),
            url: format!("https://{slug}.chaton.example"),
            description: String::new(),
            audience: String::new(),
            registration: "open".into(),
        },
    )
    .await
    .unwrap();
}

pub async fn publish_sample(app: &TestApp) -> (String, String) {
    add_service(app, "cloud", "Nextcloud").await;
    let news = publish::publish_post(
        &app.state,
        PostFields {
            title: "Nouvelles de l’asso".into(),
            body: "Bonjour *tout le monde*".into(),
            translation_lang: Some("en".into()),
            translation_title: Some("News from the association".into()),
            translation_body: Some("Hello *everyone*".into()),
            ..Default::default()
        }
        .draft(app.state.config.timezone())
        .unwrap(),
    )
    .await
    .unwrap();
    let incident = publish::publish_change(
        &app.state,
        PostFields { title: "Nextcloud inaccessible".into(), ..Default::default() }
            .draft(app.state.config.timezone())
            .unwrap(),
        ChangeFields {
            change_type: "incident".into(),
            services: vec!["cloud".into()],
            impact: Some("major".into()),
            ..Default::default()
        }
        .draft(app.state.config.timezone())
        .unwrap(),
    )
    .await
    .unwrap();
    (news.id, incident.id)
}

#[actix_rt::test]
async fn every_public_page_answers_in_french_and_english_and_as_activitypub() {
    let app = spawn_app().await;
    let (news, incident) = publish_sample(&app).await;
    ronron::app::label::set_grade(&app.state, "alternative.free-software", "met", Some("Tout est libre".into()), None)
        .await
        .ok();
    let pages = [
        "/".to_string(),
        "/u/bulletin".into(),
        "/status".into(),
        format!("/b/{news}"),
        format!("/b/{incident}"),
        "/services/cloud".into(),
        "/tags/chatons".into(),
        "/timeline".into(),
        "/timeline?kind=service_change&impact=major".into(),
        "/directory".into(),
        "/directory?software=nextcloud&registration=open".into(),
        "/admin/login".into(),
    ];
    for (lang, word) in [("fr", "Aller au contenu"), ("en", "Skip to content")] {
        let mut browser = Browser::new(&app, if lang == "fr" { "fr-FR,fr;q=0.9" } else { "en-GB,en;q=0.8,fr;q=0.2" });
        for path in &pages {
            let (status, headers, body) = browser.get(path).await;
            assert_eq!(status, StatusCode::OK, "{path} in {lang}: {body}");
            assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"), "{path}");
            assert!(body.contains(&format!("<html lang=\"{lang}\">")), "{path} in {lang}");
            assert!(body.contains(word), "{path} in {lang} has the navigation");
            assert!(headers.contains_key(header::CONTENT_SECURITY_POLICY), "{path}");
        }
    }
    // The same URLs answer ActivityPub JSON to federation clients.
    let client = reqwest::Client::new();
    for path in ["/u/bulletin".to_string(), format!("/b/{news}"), "/services/cloud".into()] {
        let response = client
            .get(format!("{}{path}", app.base()))
            .header(header::ACCEPT, "application/activity+json")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert!(response.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("application/activity+json"));
        let doc: serde_json::Value = response.json().await.unwrap();
        assert!(doc["id"].as_str().unwrap().ends_with(path.as_str()), "{path}");
    }
    // A page that does not exist, and a bad filter, say so in a page (the 404 in the visitor's
    // language only).
    let mut browser = Browser::new(&app, "fr");
    let (status, _, body) = browser.get("/b/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("n’existe pas") && !body.contains("does not exist"), "{body}");
    let (status, _, body) = browser.get("/timeline?kind=gossip").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("`kind` must be one of"), "{body}");
    let (status, _, body) = browser.get("/directory?grade=met").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("`grade` needs a `criterion`"), "{body}");
}

#[actix_rt::test]
async fn the_host_and_status_pages_show_services_incidents_label_and_the_bulletin_in_the_visitors_language() {
    let app = spawn_app().await;
    let (news, incident) = publish_sample(&app).await;
    ronron::app::label::set_grade(
        &app.state,
        "alternative.free-software",
        "partial",
        Some("Presque".into()),
        Some("https://chaton.example/preuve".into()),
    )
    .await
    .unwrap();
    let mut fr = Browser::new(&app, "fr");
    let (_, _, host) = fr.get("/u/bulletin").await;
    assert!(host.contains("Nextcloud inaccessible"), "the open incident is at the top");
    assert!(host.contains("s-partial_outage") && host.contains("panne partielle"), "the service's status badge");
    assert!(
        host.contains("partiellement respecté") && host.contains("https://chaton.example/preuve"),
        "label with evidence"
    );
    assert!(host.contains("application/activity+json"), "alternate link for Mastodon's search");
    let (_, _, status) = fr.get("/status").await;
    assert!(status.contains("Nextcloud inaccessible") && status.contains("Incidents"));
    // The bulletin in the visitor's language, with a switch to the other one.
    let (_, _, page) = fr.get(&format!("/b/{news}")).await;
    assert!(page.contains("Nouvelles de l’asso") && page.contains(&format!("/b/{news}?lang=en")));
    assert!(page.contains("og:title") && page.contains("rel=\"alternate\" type=\"application/activity+json\""));
    let mut en = Browser::new(&app, "en");
    let (_, _, page) = en.get(&format!("/b/{news}")).await;
    assert!(page.contains("News from the association") && page.contains("<em>everyone</em>"), "{page}");
    // The switch wins over Accept-Language and is remembered.
    let (_, headers, page) = en.get(&format!("/b/{news}?lang=fr")).await;
    assert!(page.contains("Nouvelles de l’asso"));
    assert!(headers[header::SET_COOKIE].to_str().unwrap().starts_with("lang=fr"));
    let (_, _, page) = en.get("/status").await;
    assert!(page.contains("<html lang=\"fr\">"), "the cookie keeps French");
    // The incident's thread shows its follow-ups.
    publish::post_follow_up(
        &app.state,
        &incident,
        PostFields { body: "Disque remplacé".into(), ..Default::default() }.draft(app.state.config.timezone()).unwrap(),
        ronron::bulletin::vocab::ChangeState::Identified,
        None,
    )
    .await
    .unwrap();
    let (_, _, page) = fr.get(&format!("/b/{incident}")).await;
    assert!(page.contains("cause identifiée"), "the follow-up is in the thread");
}

#[actix_rt::test]
async fn assets_are_embedded_with_cache_headers() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let response = client.get(format!("{}/assets/style.css", app.base())).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()[header::CACHE_CONTROL].to_str().unwrap().contains("max-age"));
    assert!(response.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/css"));
    let etag = response.headers()[header::ETAG].clone();
    let again = client
        .get(format!("{}/assets/style.css", app.base()))
        .header(header::IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let missing = client.get(format!("{}/assets/nope.js", app.base())).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    // Pages load nothing from another host.
    let mut browser = Browser::new(&app, "fr");
    let (_, _, page) = browser.get("/").await;
    for attribute in ["src=\"", "href=\""] {
        for piece in page.split(attribute).skip(1) {
            let url = piece.split('"').next().unwrap();
            if page.contains(&format!("<link rel=\"stylesheet\" href=\"{url}\"")) || attribute == "src=\"" {
                assert!(url.starts_with(&app.base()) || url.starts_with('/'), "{url} is loaded from elsewhere");
            }
        }
    }
}

#[actix_rt::test]
async fn the_admin_needs_a_login_that_is_throttled_after_failures() {
    let app = crate::helpers::spawn_app_with_clock(1, crate::helpers::test_clock(), |_| {}).await;
    admins::create_admin(&app.state, "camille", "correct horse battery").await.unwrap();
    let mut browser = Browser::new(&app, "en");
    let (status, headers, _) = browser.get("/admin/compose").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/admin/login?next=%2Fadmin%2Fcompose");
    // A login form posted without its token is refused.
    let (status, _, _) =
        browser.post("/admin/login", &[("username", "camille"), ("password", "correct horse battery")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for _ in 0..admins::MAX_FAILURES_PER_CLIENT {
        assert_eq!(browser.login("camille", "wrong password!").await, StatusCode::UNAUTHORIZED);
    }
    // Now even the right password waits.
    let (_, _, page) = browser.get("/admin/login").await;
    let csrf = hidden(&page, "csrf");
    let (status, headers, body) = browser
        .post("/admin/login", &[("username", "camille"), ("password", "correct horse battery"), ("csrf", &csrf)])
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(body.contains("Too many failed logins"), "{body}");
    assert!(headers[header::RETRY_AFTER].to_str().unwrap().parse::<i64>().unwrap() > 0);
    // Past the window it works, and the session cookie is HttpOnly.
    app.clock.advance(chrono::Duration::minutes(admins::THROTTLE_WINDOW_MINUTES + 1));
    let (_, _, page) = browser.get("/admin/login").await;
    let csrf = hidden(&page, "csrf");
    let (status, headers, _) = browser
        .post(
            "/admin/login",
            &[
                ("username", "camille"),
                ("password", "correct horse battery"),
                ("csrf", &csrf),
                ("next", "/admin/compose"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/admin/compose");
    let cookie = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap())
        .find(|c| c.starts_with("ronron_session="))
        .unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let (status, _, _) = browser.get("/admin/compose").await;
    assert_eq!(status, StatusCode::OK);
    // An unknown account is refused the same way, and a next= elsewhere is not followed.
    let mut other = Browser::new(&app, "fr");
    assert_eq!(other.login("nobody", "whatever12345").await, StatusCode::UNAUTHORIZED);
    let (_, _, page) = other.get("/admin/login?next=https://evil.example/").await;
    assert!(page.contains("name=\"next\" value=\"/admin\""), "no open redirect");
    // Logging out ends the session on the server.
    let csrf = browser.csrf().await;
    let (status, _, _) = browser.post("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = browser.get("/admin").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}

#[actix_rt::test]
async fn an_admin_composes_previews_publishes_and_manages_bulletins_from_forms() {
    let app = spawn_app().await;
    admins::create_admin(&app.state, "camille", "correct horse battery").await.unwrap();
    add_service(&app, "cloud", "Nextcloud").await;
    let mut browser = Browser::new(&app, "fr");
    assert_eq!(browser.login("camille", "correct horse battery").await, StatusCode::SEE_OTHER);
    let csrf = browser.csrf().await;
    // Every admin page renders in both languages.
    for lang in ["fr", "en"] {
        browser.lang = lang;
        for path in [
            "/admin",
            "/admin/compose?kind=news",
            "/admin/compose?kind=maintenance",
            "/admin/compose?kind=incident",
            "/admin/compose?kind=registration",
            "/admin/compose?kind=migration",
            "/admin/bulletins",
            "/admin/services",
            "/admin/label",
            "/admin/profile",
            "/admin/followers",
            "/admin/peers",
            "/admin/deliveries",
            "/admin/tokens",
        ] {
            let (status, _, body) = browser.get(path).await;
            assert_eq!(status, StatusCode::OK, "{path} in {lang}");
            assert!(body.contains(&format!("<html lang=\"{lang}\">")), "{path}");
        }
    }
    browser.lang = "fr";
    // Without the CSRF token nothing is written.
    let (status, _, _) =
        browser.post("/admin/compose", &[("kind", "news"), ("title", "T"), ("body", "B"), ("action", "publish")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Preview: what Mastodon users will read, nothing stored.
    let maintenance = [
        ("csrf", csrf.as_str()),
        ("kind", "maintenance"),
        ("services", "cloud"),
        ("start", "2030-03-12T21:00"),
        ("end", "2030-03-12T22:00"),
        ("impact", "minor"),
        ("lang", "fr"),
        ("title", "Mise à jour de Nextcloud"),
        ("body", "Coupure **courte**."),
    ];
    let mut form = maintenance.to_vec();
    form.push(("action", "preview"));
    let (status, _, page) = browser.post("/admin/compose", &form).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<strong>courte</strong>") && page.contains("mardi 12 mars 2030 de 21 h à"), "{page}");
    let (status, _, fragment) = browser.post("/admin/preview", &form).await;
    assert_eq!(status, StatusCode::OK);
    assert!(fragment.contains("Mise à jour de Nextcloud") && !fragment.contains("<html"));
    assert_eq!(app.state.db.read(ronron::db::models::bulletins::count_published).await.unwrap(), 0);
    // A bad field comes back named, the form keeps what was typed.
    let mut bad = maintenance.to_vec();
    bad.retain(|(k, _)| *k != "end");
    bad.push(("end", "2030-03-12T20:00"));
    bad.push(("action", "publish"));
    let (status, _, page) = browser.post("/admin/compose", &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("id=\"error-end\">La fin doit venir après le début.<")
            && page.contains("aria-describedby=\"error-end\"")
            && page.contains("Mise à jour de Nextcloud"),
        "{page}"
    );
    // Publish.
    let mut form = maintenance.to_vec();
    form.push(("action", "publish"));
    let (status, headers, _) = browser.post("/admin/compose", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = headers[header::LOCATION].to_str().unwrap().to_string();
    assert!(location.ends_with("?done=published"), "{location}");
    let admin_path = location.trim_start_matches(&app.base()).split('?').next().unwrap().to_string();
    let id = admin_path.rsplit('/').next().unwrap().to_string();
    let (_, _, page) = browser.get(location.trim_start_matches(&app.base())).await;
    assert!(page.contains("Bulletin publié"), "flash message");
    let (_, _, host) = browser.get("/").await;
    assert!(host.contains("Mise à jour de Nextcloud"), "upcoming maintenance on the host page");
    let (_, _, status_page) = browser.get("/status").await;
    assert!(status_page.contains("Mise à jour de Nextcloud") && status_page.contains("planifiée"));
    // Reschedule, then cancel, from its page.
    let (status, _, _) = browser
        .post(
            &format!("{admin_path}/reschedule"),
            &[("csrf", &csrf), ("start", "2030-03-13T21:00"), ("end", "2030-03-13T22:00")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let b = app
        .state
        .db
        .read({
            let id = id.clone();
            move |c| ronron::db::models::bulletins::find(c, &id)
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.starts_at.unwrap().to_string(), "2030-03-13 20:00:00");
    let (status, _, _) = browser.post(&format!("{admin_path}/cancel"), &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // An incident, then a follow-up posted from its page.
    let (_, headers, _) = browser
        .post(
            "/admin/compose",
            &[
                ("csrf", &csrf),
                ("kind", "incident"),
                ("services", "cloud"),
                ("impact", "critical"),
                ("title", "Panne du cloud"),
                ("action", "publish"),
            ],
        )
        .await;
    let incident_path = headers[header::LOCATION]
        .to_str()
        .unwrap()
        .trim_start_matches(&app.base())
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let (_, _, page) = browser.get(&incident_path).await;
    assert!(page.contains("Publier une mise à jour"), "follow-up form on an open incident");
    let (status, _, _) = browser
        .post(&format!("{incident_path}/follow-up"), &[("csrf", &csrf), ("state", "resolved"), ("body", "Réparé.")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, page) = browser.get("/status").await;
    assert!(page.contains("résolu"), "{page}");
    // News: edit then delete; the public page then says it is gone.
    let (_, headers, _) = browser
        .post(
            "/admin/compose",
            &[("csrf", &csrf), ("kind", "news"), ("title", "Bienvenue"), ("body", "Texte"), ("action", "publish")],
        )
        .await;
    let news_path = headers[header::LOCATION]
        .to_str()
        .unwrap()
        .trim_start_matches(&app.base())
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let news_id = news_path.rsplit('/').next().unwrap().to_string();
    let (status, _, _) = browser
        .post(&format!("{news_path}/edit"), &[("csrf", &csrf), ("title", "Bienvenue à toutes"), ("body", "Texte revu")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, page) = browser.get(&format!("/b/{news_id}")).await;
    assert!(page.contains("Bienvenue à toutes"));
    let (status, _, _) = browser.post(&format!("{news_path}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = browser.get(&format!("/b/{news_id}")).await;
    assert_eq!(status, StatusCode::GONE);
    // Scheduling from the form.
    let (_, headers, _) = browser
        .post(
            "/admin/compose",
            &[
                ("csrf", &csrf),
                ("kind", "news"),
                ("title", "Plus tard"),
                ("body", "B"),
                ("publish_at", "2030-03-20T09:00"),
                ("action", "publish"),
            ],
        )
        .await;
    assert!(headers[header::LOCATION].to_str().unwrap().ends_with("?done=scheduled"));
    // An unknown bulletin is a 404 page.
    let (status, _, _) = browser.get("/admin/bulletins/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_rt::test]
async fn services_label_profile_peers_and_deliveries_are_managed_from_forms() {
    let app = spawn_app().await;
    admins::create_admin(&app.state, "camille", "correct horse battery").await.unwrap();
    let mut browser = Browser::new(&app, "en");
    browser.login("camille", "correct horse battery").await;
    let csrf = browser.csrf().await;
    let (status, _, _) = browser
        .post(
            "/admin/services",
            &[
                ("csrf", &csrf),
                ("slug", "pad"),
                ("name", "Pads"),
                ("software", "Etherpad"),
                ("url", "https://pad.chaton.example"),
                ("registration", "open"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, page) = browser
        .post(
            "/admin/services",
            &[("csrf", &csrf), ("slug", "Bad Slug"), ("name", "X"), ("software", "X"), ("url", "https://x.example")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("slug"), "{page}");
    let (status, _, _) = browser
        .post(
            "/admin/services/pad/edit",
            &[
                ("csrf", &csrf),
                ("name", "Pads collaboratifs"),
                ("software", "Etherpad"),
                ("url", "https://pad.chaton.example"),
                ("registration", "closed"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, page) = browser.get("/status").await;
    assert!(page.contains("Pads collaboratifs") && page.contains("registrations closed"));
    // Label.
    let (status, _, _) = browser
        .post(
            "/admin/label",
            &[
                ("csrf", &csrf),
                ("alternative.free-software.grade", "met"),
                ("alternative.free-software.comment", "All free"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, page) =
        browser.post("/admin/label", &[("csrf", &csrf), ("alternative.free-software.grade", "excellent")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("grade"), "{page}");
    let (_, _, page) = browser.get("/").await;
    assert!(page.contains("All free"));
    // Profile.
    let (status, _, _) = browser
        .post(
            "/admin/profile",
            &[
                ("csrf", &csrf),
                ("display_name", "Chaton des Monts"),
                ("summary", "Hébergeur **associatif**"),
                ("country", "FR"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, page) = browser.get("/").await;
    assert!(page.contains("Chaton des Monts") && page.contains("<strong>associatif</strong>"));
    let (status, _, page) =
        browser.post("/admin/profile", &[("csrf", &csrf), ("display_name", "X"), ("website", "not a url")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    // Peers: a block, then an unblock; a follow of an unreachable name is refused with a reason.
    let (status, _, _) =
        browser.post("/admin/peers/block", &[("csrf", &csrf), ("target", "bad.example"), ("reason", "spam")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, page) = browser.get("/admin/peers").await;
    assert!(page.contains("bad.example") && page.contains("spam"));
    let (status, _, _) = browser.post("/admin/peers/unblock", &[("csrf", &csrf), ("target", "bad.example")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, page) = browser.post("/admin/peers/follow", &[("csrf", &csrf), ("target", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Account or address: must not be empty"), "{page}");
    // A server that does not answer: the network's words, framed in the visitor's.
    let (status, _, page) =
        browser.post("/admin/peers/follow", &[("csrf", &csrf), ("target", "nobody@127.0.0.1:9")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("The other server could not be reached, or its answer cannot be used ("), "{page}");
    // Deliveries: retry now.
    let (status, headers, _) = browser.post("/admin/deliveries/retry", &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(headers[header::LOCATION].to_str().unwrap().ends_with("done=retried"));
}

/// A peer follows us, and is approved from the followers page; a peer we follow shows in the
/// directory and the timeline pages.
#[actix_rt::test]
async fn followers_are_approved_and_peers_appear_in_the_timeline_and_directory_pages() {
    let us = crate::helpers::spawn_app_with(0, |c| c.account.manually_approves_followers = true).await;
    let peer = crate::helpers::spawn_app_with(0, |c| c.account.display_name = "Autre Chaton".into()).await;
    admins::create_admin(&us.state, "camille", "correct horse battery").await.unwrap();
    publish::publish_news(
        &peer.state,
        ronron::bulletin::NewsDraft {
            title: "Nouvelles d’ailleurs".into(), body_markdown: "Salut".into(), lang: None
        },
    )
    .await
    .unwrap();
    ronron::app::peers::follow(&peer.state, &peer.data(), &us.actor_url()).await.unwrap();
    assert_eq!(peer.drain().await, 1, "the Follow is sent");
    us.follow(&peer).await;
    ronron::app::directory::refresh(&us.data(), &peer.actor_url()).await.unwrap();
    let mut browser = Browser::new(&us, "fr");
    browser.login("camille", "correct horse battery").await;
    let csrf = browser.csrf().await;
    let (_, _, page) = browser.get("/admin").await;
    assert!(page.contains(">1 demande en attente</a>"), "the dashboard counts in words: {page}");
    let (_, _, page) = browser.get("/admin/followers").await;
    assert!(page.contains(peer.actor_url().as_str()) && page.contains("en attente"), "{page}");
    let approve =
        page.split("action=\"").find(|p| p.contains("/approve")).unwrap().split('"').next().unwrap().to_string();
    let (status, _, _) = browser.post(approve.trim_start_matches(&us.base()), &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(us.drain().await, 1, "the Accept is sent");
    let (_, _, page) = browser.get("/admin/followers").await;
    assert!(!page.contains("en attente</td>"), "approved");
    assert!(
        crate::helpers::eventually(20, || async {
            let (_, _, page) = Browser::new(&us, "fr").get("/timeline").await;
            page.contains("Nouvelles d’ailleurs")
        })
        .await,
        "the peer's bulletin reaches our timeline page"
    );
    assert!(
        crate::helpers::eventually(20, || async {
            let (_, _, page) = Browser::new(&us, "fr").get("/directory").await;
            page.contains("Autre Chaton")
        })
        .await,
        "the peer is in the directory page"
    );
    let (_, _, page) = browser.get(&format!("/timeline?peer={}", peer.actor_url())).await;
    assert!(page.contains("Nouvelles d’ailleurs"));
}

/// Payloads from the usual XSS cheat sheets, in every text an admin or a peer controls.
const XSS: &[&str] = &[
    "<script>alert('xss')</script>",
    "\"><img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    "<a href=\"javascript:alert(1)\">clic</a>",
    "'><iframe src=\"https://evil.example\"></iframe>",
    "<body onload=alert(1)>",
    "{{7*7}}<style>body{display:none}</style>",
];

fn assert_inert(page: &str, context: &str) {
    let lower = page.to_lowercase();
    // Escaped text may still read `onerror=`; what must never appear is live markup.
    for needle in [
        "<script>alert",
        "<img src=x",
        "<svg",
        "<iframe",
        "<body onload",
        "<a href=\"javascript:",
        "<style>body",
        "src=\"javascript:",
    ] {
        assert!(!lower.contains(needle), "{context}: `{needle}` got through:\n{page}");
    }
}

#[actix_rt::test]
async fn hostile_text_from_admins_and_peers_is_escaped_or_sanitised() {
    let app = spawn_app().await;
    admins::create_admin(&app.state, "camille", "correct horse battery").await.unwrap();
    let payload = XSS.join(" ");
    catalogue::add(
        &app.state,
        ServiceDraft {
            slug: "evil".into(),
            name: format!("Nom {payload}"),
            software: payload.clone(),
            url: "https://evil.chaton.example".into(),
            description: payload.clone(),
            audience: payload.clone(),
            registration: "open".into(),
        },
    )
    .await
    .unwrap();
    let news = publish::publish_post(
        &app.state,
        PostFields { title: XSS[1].into(), body: payload.clone(), ..Default::default() }
            .draft(app.state.config.timezone())
            .unwrap(),
    )
    .await
    .unwrap();
    publish::publish_change(
        &app.state,
        PostFields { title: XSS[0].into(), body: payload.clone(), ..Default::default() }
            .draft(app.state.config.timezone())
            .unwrap(),
        ChangeFields { change_type: "incident".into(), services: vec!["evil".into()], ..Default::default() }
            .draft(app.state.config.timezone())
            .unwrap(),
    )
    .await
    .unwrap();
    ronron::app::label::set_grade(
        &app.state,
        "alternative.free-software",
        "met",
        Some(payload.clone()),
        Some("https://evil.example/\"><script>alert('xss')</script>".into()),
    )
    .await
    .unwrap();
    ronron::app::profile::set(
        &app.state,
        ronron::app::profile::ProfileEdit {
            summary: Some(payload.clone()),
            region: Some(XSS[2].into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // A peer's post and directory entry, stored as if received (the display sanitises again).
    let now = app.clock.now();
    let post_id = "https://peer.example/notes/1".to_string();
    let post = remote::RemotePost {
        id: post_id.clone(),
        actor_id: "https://peer.example/u/x".into(),
        object_type: "Note".into(),
        content_html: payload.clone(),
        summary: None,
        url: Some("javascript:alert(1)".into()),
        lang: Some("fr".into()),
        in_reply_to: None,
        published_at: now,
        updated_at: None,
        raw: "{}".into(),
        received_at: now,
        kind: None,
        meta: None,
    };
    let entry = directory::PeerEntry {
        actor_id: "https://peer.example/u/x".into(),
        domain: "peer.example".into(),
        name: Some(format!("Pair {}", XSS[1])),
        host_profile: Some(serde_json::json!({"summary": payload, "url": "javascript:alert(1)", "country": XSS[0]}).to_string()),
        services: Some(serde_json::json!([{"name": XSS[1], "software": XSS[0], "url": "javascript:alert(1)", "serviceStatus": "operational"}]).to_string()),
        label: None,
        fetched_at: now,
    };
    app.state
        .db
        .write(move |c| -> ronron::db::DbResult<()> {
            remote::insert_post(c, &post)?;
            ronron::db::models::timeline_index::index_post(c, &post)?;
            directory::upsert(c, &entry)
        })
        .await
        .unwrap();
    let mut browser = Browser::new(&app, "fr");
    for path in [
        "/".to_string(),
        "/status".into(),
        format!("/b/{}", news.id),
        "/services/evil".into(),
        "/timeline".into(),
        "/directory".into(),
    ] {
        let (status, _, page) = browser.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_inert(&page, &path);
    }
    browser.login("camille", "correct horse battery").await;
    for path in [
        "/admin",
        "/admin/bulletins",
        "/admin/services",
        "/admin/label",
        "/admin/profile",
        &format!("/admin/bulletins/{}", news.id),
    ] {
        let (status, _, page) = browser.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_inert(&page, path);
    }
}

#[actix_rt::test]
async fn api_tokens_are_created_shown_once_and_revoked_from_the_admin() {
    let app = spawn_app().await;
    admins::create_admin(&app.state, "camille", "correct horse battery").await.unwrap();
    let mut browser = Browser::new(&app, "en");
    browser.login("camille", "correct horse battery").await;
    let csrf = browser.csrf().await;
    let (status, _, page) = browser.post("/admin/tokens", &[("csrf", &csrf), ("name", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    let (status, headers, page) = browser.post("/admin/tokens", &[("csrf", &csrf), ("name", "monitoring")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    let secret = page.split("id=\"token-secret\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    assert!(secret.starts_with("rr_"), "{secret}");
    let api = |secret: String| {
        let url = format!("{}/api/v1/admin/bulletins", app.base());
        async move { reqwest::Client::new().get(url).bearer_auth(secret).send().await.unwrap().status() }
    };
    assert_eq!(api(secret.clone()).await, StatusCode::OK, "the token opens the admin API");
    let (_, _, page) = browser.get("/admin/tokens").await;
    assert!(page.contains("monitoring") && !page.contains(&secret), "listed, never shown again");
    let revoke =
        page.split("action=\"").find(|p| p.contains("/revoke")).unwrap().split('"').next().unwrap().to_string();
    let (status, _, _) = browser.post(revoke.trim_start_matches(&app.base()), &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(api(secret).await, StatusCode::UNAUTHORIZED, "a revoked token is refused");
}
