//! Uploaded logos (issue 12: "a logo is a URL on another server"): the host's and the
//! collective's, uploaded from the admin's pages (multipart, with the CSRF token), the admin API
//! and the command line; checked by their bytes (size, type, dimensions) with refusals in the
//! visitor's language; stored in `media.dir`, served from `/media/{file}` with their type and
//! strict headers; the actor's `icon`, the pages, the ChatonsInfos file; carried by export.

use crate::{
    helpers::{spawn_app, spawn_app_with, TestApp},
    pages::Browser,
};
use reqwest::{header, StatusCode};
use ronron::{
    app::{admins, archive, media},
    config::CollectiveConfig,
    db::models::tokens,
};
use serde_json::Value;
use std::path::Path;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/media").join(name)).unwrap()
}

/// A PNG of `len` bytes: the fixture, with bytes after its end (browsers and checks ignore them).
fn png_of(len: usize) -> Vec<u8> {
    let mut png = fixture("logo.png");
    png.resize(len, 0);
    png
}

/// A `multipart/form-data` body as a browser sends the logo form: the token, then the file.
fn multipart(csrf: &str, file: &[u8], content_type: &str, filename: &str) -> (String, Vec<u8>) {
    let boundary = "----ronron-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n").as_bytes(),
    );
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"{filename}\"\r\n\
             Content-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Posts the logo form of `path` as the signed-in `browser`.
async fn upload_form(
    app: &TestApp,
    browser: &Browser,
    path: &str,
    lang: &str,
    form: (String, Vec<u8>),
) -> (StatusCode, String) {
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}{path}", app.base()))
        .header(header::CONTENT_TYPE, form.0)
        .header(header::COOKIE, browser.cookie_header())
        .header(header::ACCEPT_LANGUAGE, lang)
        .body(form.1)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn signed_in(app: &TestApp, lang: &'static str) -> (Browser, String) {
    admins::create_admin(&app.state, "camille", "password123456").await.unwrap();
    let mut browser = Browser::new(app, lang);
    assert_eq!(browser.login("camille", "password123456").await, StatusCode::SEE_OTHER);
    let csrf = browser.csrf().await;
    (browser, csrf)
}

async fn token(app: &TestApp) -> String {
    let now = app.state.clock.now();
    app.state.db.write(move |c| tokens::create(c, "tests", now)).await.unwrap().1
}

async fn actor(url: &str) -> Value {
    let response =
        reqwest::Client::new().get(url).header(header::ACCEPT, "application/activity+json").send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    response.json().await.unwrap()
}

/// Fetches `url` and checks it is served as an uploaded file is: its type, `nosniff`, a policy
/// that runs nothing, cached for good. The bytes.
async fn served(url: &str, media_type: &str) -> Vec<u8> {
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    let h = response.headers();
    assert_eq!(h[header::CONTENT_TYPE], media_type);
    assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("sandbox"), "{csp}");
    assert_eq!(h[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
    response.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn a_logo_uploaded_on_the_profile_page_is_served_by_the_host_and_becomes_the_avatar() {
    let app = spawn_app().await;
    let (mut browser, csrf) = signed_in(&app, "fr").await;
    let (status, _, page) = browser.get("/admin/profile").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("enctype=\"multipart/form-data\"") && page.contains("Pas encore de logo."), "{page}");

    // Without the session's token, nothing is stored.
    let png = fixture("logo.png");
    let (status, _) =
        upload_form(&app, &browser, "/admin/profile/logo", "fr", multipart("forged", &png, "image/png", "l.png")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(media::logo(&app.state, media::Owner::Host).await.unwrap(), None);

    let (status, _) =
        upload_form(&app, &browser, "/admin/profile/logo", "fr", multipart(&csrf, &png, "image/png", "logo.png")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let logo = media::logo(&app.state, media::Owner::Host).await.unwrap().expect("the logo is stored");
    assert_eq!((logo.width, logo.height, logo.media_type.as_str()), (96, 96, "image/png"));
    let url = format!("{}/media/{}", app.base(), logo.file);
    assert_eq!(served(&url, "image/png").await, png, "the bytes uploaded");
    assert!(app.state.config.media.dir.as_ref().map(|d| Path::new(d).join(&logo.file).is_file()).unwrap());

    // The actor's icon, which Mastodon shows as the avatar, names it with its type.
    let doc = actor(app.actor_url().as_str()).await;
    assert_eq!(doc["icon"]["url"], url.as_str());
    assert_eq!(doc["icon"]["mediaType"], "image/png");
    assert_eq!(doc["icon"]["type"], "Image");
    // The pages, the preview card and the organisation file.
    let (_, _, admin_page) = browser.get("/admin/profile").await;
    assert!(admin_page.contains(&format!("src=\"{url}\"")) && admin_page.contains("Retirer le logo"), "{admin_page}");
    let (_, _, host) = browser.get("/").await;
    assert!(host.contains(&format!("<img src=\"{url}\"")), "{host}");
    assert!(host.contains(&format!("<meta property=\"og:image\" content=\"{url}\">")), "{host}");
    let org = reqwest::get(format!("{}/chatonsinfos/organization.properties", app.base())).await.unwrap();
    assert!(org.text().await.unwrap().contains(&format!("organization.logo = {url}")));

    // Another logo replaces it: the old file goes, the new one is served.
    let other = fixture("other.png");
    let (status, _) =
        upload_form(&app, &browser, "/admin/profile/logo", "fr", multipart(&csrf, &other, "image/png", "o.png")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let newer = media::logo(&app.state, media::Owner::Host).await.unwrap().unwrap();
    assert_ne!(newer.file, logo.file);
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 404, "the replaced file is gone");
    assert_eq!(served(&format!("{}/media/{}", app.base(), newer.file), "image/png").await, other);

    // Removed: no icon, no picture, no file.
    let (status, _, _) = browser.post("/admin/profile/logo/remove", &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(actor(app.actor_url().as_str()).await.get("icon").is_none());
    let (_, _, host) = browser.get("/").await;
    assert!(!host.contains("/media/"), "{host}");
    assert_eq!(reqwest::get(format!("{}/media/{}", app.base(), newer.file)).await.unwrap().status(), 404);
}

#[tokio::test]
async fn refused_uploads_say_why_in_the_visitors_language_next_to_the_field() {
    let app = spawn_app_with(0, |c| c.media.max_logo_bytes = 2048).await;
    let (browser, csrf) = signed_in(&app, "fr").await;
    let form = |file: &[u8], t: &str| multipart(&csrf, file, t, "logo");

    let (status, page) =
        upload_form(&app, &browser, "/admin/profile/logo", "fr", form(&png_of(3000), "image/png")).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page.contains("Ce fichier dépasse 2\u{a0}Kio\u{a0}: choisissez une image plus légère."), "{page}");
    assert!(page.contains("aria-invalid=\"true\""), "the field is marked: {page}");

    let svg = fixture("script.svg");
    let (status, page) = upload_form(&app, &browser, "/admin/profile/logo", "fr", form(&svg, "image/svg+xml")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Les images SVG sont refusées\u{a0}: elles peuvent contenir des scripts."), "{page}");

    let (status, page) =
        upload_form(&app, &browser, "/admin/profile/logo", "fr", form(b"%PDF-1.7 hello", "image/png")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Ce fichier n’est pas une image PNG, JPEG, GIF ou WebP."), "{page}");

    let (status, page) =
        upload_form(&app, &browser, "/admin/profile/logo", "fr", form(&fixture("logo.png"), "image/gif")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("annoncé comme «\u{a0}image/gif\u{a0}» mais c’est une image «\u{a0}image/png\u{a0}»"),
        "{page}"
    );

    // In English for an English reader.
    let mut english = Browser::new(&app, "en");
    assert_eq!(english.login("camille", "password123456").await, StatusCode::SEE_OTHER);
    let csrf_en = english.csrf().await;
    let (status, page) =
        upload_form(&app, &english, "/admin/profile/logo", "en", multipart(&csrf_en, &svg, "image/svg+xml", "x.svg"))
            .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("SVG images are refused: they can carry scripts."), "{page}");
    assert_eq!(media::logo(&app.state, media::Owner::Host).await.unwrap(), None, "nothing was stored");
}

#[tokio::test]
async fn the_admin_api_puts_and_deletes_the_logo_with_typed_refusals() {
    let app = spawn_app_with(0, |c| c.media.max_logo_bytes = 2048).await;
    let secret = token(&app).await;
    let http = reqwest::Client::new();
    let endpoint = format!("{}/api/v1/admin/profile/logo", app.base());
    let put = |body: Vec<u8>, content_type: &str, lang: &str| {
        http.put(&endpoint)
            .bearer_auth(&secret)
            .header(header::CONTENT_TYPE, content_type)
            .header(header::ACCEPT_LANGUAGE, lang)
            .body(body)
            .send()
    };

    let response = put(png_of(5000), "image/png", "fr").await.unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["field"], "logo");
    assert_eq!(body["errors"][0]["message"], "Ce fichier dépasse 2\u{a0}Kio\u{a0}: choisissez une image plus légère.");

    let response = put(fixture("script.svg"), "image/svg+xml", "en").await.unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert!(body["errors"][0]["message"].as_str().unwrap().starts_with("SVG images are refused"), "{body}");

    let response = put(b"GIF89a".to_vec(), "image/gif", "en").await.unwrap();
    assert_eq!(response.status(), 422, "a header and nothing else is no image");

    let gif = fixture("logo.gif");
    let response = put(gif.clone(), "image/gif", "en").await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["media_type"].as_str(), body["width"].as_u64(), body["height"].as_u64()),
        (Some("image/gif"), Some(1), Some(1))
    );
    let url = body["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{}/media/", app.base())) && url.ends_with(".gif"), "{url}");
    assert_eq!(served(&url, "image/gif").await, gif);
    let profile: Value = http
        .get(format!("{}/api/v1/admin/profile", app.base()))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(profile["logo"], url.as_str());
    // The actor's icon resolves to the same bytes.
    let doc = actor(app.actor_url().as_str()).await;
    assert_eq!(served(doc["icon"]["url"].as_str().unwrap(), "image/gif").await, gif);

    let response = http.delete(&endpoint).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(response.status(), 204);
    assert!(actor(app.actor_url().as_str()).await.get("icon").is_none());
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 404);
    // Without a token, nothing.
    let response = http.put(&endpoint).header(header::CONTENT_TYPE, "image/gif").body(gif).send().await.unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn only_names_ronron_writes_are_served_from_the_media_folder() {
    let app = spawn_app().await;
    let stored = profile_logo(&app).await;
    let dir = Path::new(app.state.config.media.dir.as_deref().unwrap());
    std::fs::write(dir.join("notes.txt"), "secret").unwrap();
    std::fs::write(dir.parent().unwrap().join("outside.png"), fixture("logo.png")).unwrap();
    let svg_name = format!("{}.svg", "a".repeat(64));
    std::fs::write(dir.join(&svg_name), fixture("script.svg")).unwrap();
    let html = reqwest::Client::new();
    for path in [
        "/media/notes.txt".to_string(),
        "/media/..%2Foutside.png".to_string(),
        "/media/%2e%2e%2foutside.png".to_string(),
        "/media/..%2F..%2F..%2Fetc%2Fpasswd".to_string(),
        format!("/media/{svg_name}"),
        format!("/media/{}", stored.file.to_uppercase()),
        format!("/media/{}.png", "0".repeat(64)),
        format!("/media/{}/", stored.file),
    ] {
        let response =
            html.get(format!("{}{path}", app.base())).header(header::ACCEPT, "text/html").send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let page = response.text().await.unwrap();
        assert!(page.contains("<html") && page.contains("/assets/style.css"), "a framed 404 page for {path}: {page}");
    }
    // HEAD answers as GET does.
    let head = html.head(format!("{}/media/{}", app.base(), stored.file)).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()[header::CONTENT_TYPE], "image/png");
}

async fn profile_logo(app: &TestApp) -> media::Logo {
    ronron::app::profile::set_logo(&app.state, media::Upload { bytes: fixture("logo.png"), declared_type: None })
        .await
        .unwrap()
}

#[tokio::test]
async fn the_collectives_logo_is_the_groups_icon_and_shows_on_its_pages() {
    let app = spawn_app_with(0, |c| c.collective = Some(CollectiveConfig::default())).await;
    let (mut browser, csrf) = signed_in(&app, "fr").await;
    let (_, _, page) = browser.get("/admin/members").await;
    assert!(page.contains("action=\"") && page.contains("/admin/members/logo\""), "{page}");
    let png = fixture("other.png");
    let (status, _) =
        upload_form(&app, &browser, "/admin/members/logo", "fr", multipart(&csrf, &png, "image/png", "c.png")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let group = actor(app.state.urls.group_actor().as_str()).await;
    assert_eq!(group["icon"]["mediaType"], "image/png");
    let url = group["icon"]["url"].as_str().unwrap().to_string();
    assert_eq!(served(&url, "image/png").await, png);
    // The host's own avatar is another matter.
    assert!(actor(app.actor_url().as_str()).await.get("icon").is_none());
    let (_, _, status_page) = browser.get("/collective").await;
    assert!(status_page.contains(&format!("src=\"{url}\"")), "{status_page}");

    // The refusals as on the profile page, in the members page's logo section.
    let svg = fixture("script.svg");
    let (status, page) =
        upload_form(&app, &browser, "/admin/members/logo", "fr", multipart(&csrf, &svg, "image/svg+xml", "c.svg"))
            .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Les images SVG sont refusées"), "{page}");

    // The API removes it.
    let secret = token(&app).await;
    let endpoint = format!("{}/api/v1/admin/collective/logo", app.base());
    let response = reqwest::Client::new().delete(&endpoint).bearer_auth(&secret).send().await.unwrap();
    assert_eq!(response.status(), 204);
    assert!(actor(app.state.urls.group_actor().as_str()).await.get("icon").is_none());
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 404);
    let (_, _, status_page) = browser.get("/collective").await;
    assert!(!status_page.contains("/media/"), "{status_page}");
}

#[tokio::test]
async fn without_the_collective_role_its_logo_is_refused() {
    let app = spawn_app().await;
    let secret = token(&app).await;
    let response = reqwest::Client::new()
        .put(format!("{}/api/v1/admin/collective/logo", app.base()))
        .bearer_auth(&secret)
        .header(header::CONTENT_TYPE, "image/png")
        .body(fixture("logo.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
}

#[tokio::test]
async fn export_all_carries_the_logo_and_import_all_puts_it_back() {
    let app = spawn_app().await;
    let logo = profile_logo(&app).await;
    let export = archive::export_all(&app.state, true).await.unwrap();
    assert_eq!(export.media.len(), 1);
    assert_eq!(export.media[0].file, logo.file);
    let text = serde_json::to_string(&export).unwrap();
    let port = app.port;
    let _stopped = app.stop().await;
    let fresh = crate::helpers::spawn_fresh_on(port, 0).await;
    archive::import_all(&fresh.state, archive::parse(&text).unwrap()).await.unwrap();
    let doc = actor(fresh.actor_url().as_str()).await;
    assert_eq!(served(doc["icon"]["url"].as_str().unwrap(), "image/png").await, fixture("logo.png"));
}

#[test]
fn the_command_line_uploads_and_removes_the_logo() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let database_url = crate::helpers::fresh_database_url(&dir);
    let ronron = |args: &[&str]| {
        let output = crate::helpers::ronron_command().args(args).current_dir(path).output().expect("the binary runs");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).to_string(),
            String::from_utf8_lossy(&output.stderr).to_string(),
        )
    };
    let (ok, _, err) = ronron(&["init", "--domain", "chaton.example", "--database-url", &database_url]);
    assert!(ok, "{err}");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/media");
    let svg = fixtures.join("script.svg").display().to_string();
    let (ok, _, err) = ronron(&["profile", "logo", &svg]);
    assert!(!ok && err.contains("file: SVG images are refused: they can carry scripts"), "{err}");
    let big = path.join("big.png");
    std::fs::write(&big, png_of(2 * 1024 * 1024)).unwrap();
    let (ok, _, err) = ronron(&["profile", "logo", big.to_str().unwrap()]);
    assert!(!ok && err.contains("file: this file is larger than 1024 KiB"), "{err}");

    let png = fixtures.join("logo.png").display().to_string();
    let (ok, out, err) = ronron(&["profile", "logo", &png]);
    assert!(ok, "{err}");
    assert!(out.contains("https://chaton.example/media/") && out.contains("96 × 96"), "{out}");
    let (_, shown, _) = ronron(&["profile", "show"]);
    let url = shown.lines().find(|l| l.starts_with("Logo:")).unwrap().trim_start_matches("Logo:").trim().to_string();
    let file = url.rsplit('/').next().unwrap();
    // Beside the SQLite database, or under data/ with PostgreSQL.
    let folder = if database_url.starts_with("sqlite") { path.join("media") } else { path.join("data/media") };
    assert_eq!(std::fs::read(folder.join(file)).unwrap(), fixture("logo.png"), "{shown}");

    let (ok, out, err) = ronron(&["profile", "logo", "--remove"]);
    assert!(ok && out.contains("logo removed"), "{out}{err}");
    assert!(!folder.join(file).exists());
    let (ok, _, err) = ronron(&["profile", "logo"]);
    assert!(!ok && err.contains("FILE"), "{err}");
    // The collective's logo needs the role.
    let (ok, _, err) = ronron(&["collective", "logo", &png]);
    assert!(!ok && err.contains("collective"), "{err}");
}

#[tokio::test]
async fn followers_receive_the_actors_update_naming_the_new_logo() {
    let host = spawn_app().await;
    let follower = spawn_app().await;
    follower.follow(&host).await;
    let logo = profile_logo(&host).await;
    assert_eq!(host.drain().await, 1, "the actor's Update is sent to the follower");
    let cached = follower
        .state
        .db
        .read({
            let id = host.actor_url().to_string();
            move |c| ronron::db::models::remote::find_actor(c, &id)
        })
        .await
        .unwrap()
        .expect("the follower caches the host's actor");
    let raw: Value = serde_json::from_str(&cached.raw).unwrap();
    let url = host.state.urls.media(&logo.file).to_string();
    assert_eq!(raw["icon"]["url"], url.as_str(), "{raw}");
    assert_eq!(raw["icon"]["mediaType"], "image/png");
    // The URL the follower now has resolves to the bytes uploaded.
    assert_eq!(served(&url, "image/png").await, fixture("logo.png"));

    // Removing it sends another Update, without an icon.
    assert!(ronron::app::profile::remove_logo(&host.state).await.unwrap());
    assert_eq!(host.drain().await, 1);
    let cached = follower
        .state
        .db
        .read({
            let id = host.actor_url().to_string();
            move |c| ronron::db::models::remote::find_actor(c, &id)
        })
        .await
        .unwrap()
        .unwrap();
    assert!(serde_json::from_str::<Value>(&cached.raw).unwrap().get("icon").is_none(), "{}", cached.raw);
}

#[tokio::test]
async fn the_groups_update_is_queued_for_its_followers_when_its_logo_changes() {
    let app = spawn_app_with(0, |c| c.collective = Some(CollectiveConfig::default())).await;
    let group = app.state.urls.group_actor().to_string();
    let updates = || {
        let group = group.clone();
        app.state.db.read(move |c| ronron::db::models::activities::count_for_object(c, &group, "Update"))
    };
    assert_eq!(updates().await.unwrap(), 0);
    let upload = media::Upload { bytes: fixture("logo.gif"), declared_type: Some("image/gif".into()) };
    ronron::app::collective::set_logo(&app.state, upload).await.unwrap();
    assert_eq!(updates().await.unwrap(), 1, "the Group's Update is stored and queued");
    assert!(ronron::app::collective::remove_logo(&app.state).await.unwrap());
    assert_eq!(updates().await.unwrap(), 2);
    assert!(!ronron::app::collective::remove_logo(&app.state).await.unwrap(), "nothing to remove: nothing sent");
    assert_eq!(updates().await.unwrap(), 2);
}
