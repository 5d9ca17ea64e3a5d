//! Every refused field at once, next to its field, in the visitor's language (issue 12): the
//! service form, a maintenance, the profile, the JSON admin API and the command line. A refused
//! form keeps what was typed and stores nothing.

use crate::{
    helpers::{spawn_app_with, TestApp},
    pages::{add_service, Browser},
};
use reqwest::StatusCode;
use ronron::{
    app::{admins, catalogue, profile},
    db::models::{bulletins, tokens},
};
use serde_json::{json, Value};

async fn logged_in(app: &TestApp, lang: &'static str) -> (Browser, String) {
    admins::create_admin(&app.state, "camille", "correct horse battery").await.unwrap();
    let mut browser = Browser::new(app, lang);
    assert_eq!(browser.login("camille", "correct horse battery").await, StatusCode::SEE_OTHER);
    let csrf = browser.csrf().await;
    (browser, csrf)
}

/// The text of the element with `id` (up to its closing tag).
fn element(page: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = page.find(&marker).unwrap_or_else(|| panic!("no #{id} in the page:\n{page}")) + marker.len();
    page[start..].split('<').next().unwrap().to_string()
}

/// Whether the input `id` is marked invalid and described by its message.
fn marked(page: &str, id: &str) -> bool {
    let start = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no input #{id}"));
    let tag = page[start..].split('>').next().unwrap();
    tag.contains("aria-invalid=\"true\"") && tag.contains(&format!("aria-describedby=\"error-{id}\""))
}

#[tokio::test]
async fn the_service_form_shows_every_error_at_once_in_french_and_in_english() {
    let app = spawn_app_with(0, |_| {}).await;
    for (lang, summary, required, slug, url) in [
        (
            "fr",
            "4 champs sont à corriger\u{a0}:",
            "Ce champ est obligatoire.",
            "«\u{a0}Video\u{a0}»\u{a0}: uniquement des lettres minuscules sans accent, des chiffres et des tirets.",
            "«\u{a0}ftp://cloud.example\u{a0}» n’est pas une adresse web (http ou https).",
        ),
        (
            "en",
            "4 fields need correcting:",
            "must not be empty",
            "`Video`: use only lowercase letters without accents, digits and hyphens",
            "`ftp://cloud.example` is not a web address (http or https)",
        ),
    ] {
        let mut browser = Browser::new(&app, lang);
        if lang == "fr" {
            admins::create_admin(&app.state, "camille", "correct horse battery").await.unwrap();
        }
        assert_eq!(browser.login("camille", "correct horse battery").await, StatusCode::SEE_OTHER);
        let csrf = browser.csrf().await;
        let form = [
            ("csrf", csrf.as_str()),
            ("slug", "Video"),
            ("name", ""),
            ("software", " "),
            ("url", "ftp://cloud.example"),
            ("registration", "open"),
            ("description", "Nos vidéos"),
        ];
        let (status, _, page) = browser.post("/admin/services", &form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
        assert!(page.contains(summary), "{lang}: the summary counts the fields: {page}");
        assert_eq!(element(&page, "error-slug"), slug, "{lang}");
        assert_eq!(element(&page, "error-name"), required, "{lang}");
        assert_eq!(element(&page, "error-software"), required, "{lang}");
        assert_eq!(element(&page, "error-url"), url, "{lang}");
        for id in ["slug", "name", "software", "url"] {
            assert!(marked(&page, id), "{lang}: #{id} is marked invalid and described");
        }
        assert!(!marked(&page, "description"), "a field not refused is not marked");
        assert!(
            page.contains("value=\"Video\"") && page.contains("value=\"ftp://cloud.example\""),
            "typed values kept"
        );
        assert!(page.contains(">Nos vidéos</textarea>"), "the description is kept");
        assert!(page.contains("href=\"#slug\""), "the summary links to the field");
    }
    assert!(catalogue::list(&app.state).await.unwrap().is_empty(), "nothing stored");

    // An edit refused keeps what was typed in that service's form.
    add_service(&app, "cloud", "Nuage").await;
    let mut browser = Browser::new(&app, "fr");
    browser.login("camille", "correct horse battery").await;
    let csrf = browser.csrf().await;
    let form = [("csrf", csrf.as_str()), ("name", "Nuage 2"), ("url", "pas-une-adresse"), ("registration", "open")];
    let (status, _, page) = browser.post("/admin/services/cloud/edit", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert_eq!(
        element(&page, "service-cloud-error-url"),
        "«\u{a0}pas-une-adresse\u{a0}» n’est pas une adresse web (http ou https)."
    );
    assert!(page.contains("value=\"Nuage 2\""), "the typed name is kept");
    assert_eq!(catalogue::list(&app.state).await.unwrap()[0].name, "Nuage", "nothing stored");
}

#[tokio::test]
async fn a_maintenance_form_shows_services_window_and_title_at_once() {
    let app = spawn_app_with(0, |_| {}).await;
    add_service(&app, "cloud", "Nuage").await;
    let (mut browser, csrf) = logged_in(&app, "fr").await;
    let form = [
        ("csrf", csrf.as_str()),
        ("kind", "maintenance"),
        ("start", "2030-03-13T22:00"),
        ("end", "2030-03-13T21:00"),
        ("title", " "),
        ("body", "Mise à jour de Nextcloud."),
        ("action", "publish"),
    ];
    let (status, _, page) = browser.post("/admin/compose", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("3 champs sont à corriger\u{a0}:"), "{page}");
    assert_eq!(element(&page, "error-services"), "Choisissez au moins un service.");
    assert_eq!(element(&page, "error-end"), "La fin doit venir après le début.");
    assert_eq!(element(&page, "error-title"), "Ce champ est obligatoire.");
    assert!(marked(&page, "end") && marked(&page, "title") && !marked(&page, "start"));
    assert!(page.contains("value=\"2030-03-13T22:00\""), "the typed start is kept");
    assert!(page.contains("Mise à jour de Nextcloud."), "the typed body is kept");

    // A time that does not parse is reported with the texts' faults, not instead of them.
    let form = [
        ("csrf", csrf.as_str()),
        ("kind", "maintenance"),
        ("services", "cloud"),
        ("start", "demain"),
        ("end", "2030-03-13T21:00"),
        ("title", ""),
        ("action", "preview"),
    ];
    let (status, _, page) = browser.post("/admin/compose", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(element(&page, "error-start").starts_with("«\u{a0}demain\u{a0}» n’est pas une date"), "{page}");
    assert_eq!(element(&page, "error-title"), "Ce champ est obligatoire.");
    assert!(app.state.db.read(|c| bulletins::list_all(c, 10)).await.unwrap().is_empty(), "nothing stored");
}

#[tokio::test]
async fn the_profile_shows_each_refused_field_and_keeps_what_was_typed() {
    let app = spawn_app_with(0, |_| {}).await;
    let (mut browser, csrf) = logged_in(&app, "fr").await;
    let form = [
        ("csrf", csrf.as_str()),
        ("display_name", "Chaton du Val"),
        ("summary", "Hébergeur associatif"),
        ("country", "France"),
        ("website", "https://val.example"),
        ("contact", "contact@val.example"),
    ];
    let (status, _, page) = browser.post("/admin/profile", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("2 champs sont à corriger\u{a0}:"), "{page}");
    assert_eq!(
        element(&page, "error-country"),
        "«\u{a0}France\u{a0}» n’est pas un code de pays à deux lettres comme FR."
    );
    assert!(element(&page, "error-contact").starts_with("«\u{a0}contact@val.example\u{a0}» n’est pas une adresse web"));
    assert!(marked(&page, "country") && marked(&page, "contact") && !marked(&page, "website"));
    assert!(page.contains("value=\"France\"") && page.contains("value=\"Chaton du Val\""), "typed values kept");
    let stored = profile::effective(&app.state).await.unwrap();
    assert_ne!(stored.display_name, "Chaton du Val", "nothing stored");
    assert_eq!(stored.country, None);
}

#[tokio::test]
async fn the_api_lists_every_refused_field_in_the_requests_language() {
    let app = spawn_app_with(0, |_| {}).await;
    let now = app.state.clock.now();
    let (_, secret) = app.state.db.write(move |c| tokens::create(c, "tests", now)).await.unwrap();
    let http = reqwest::Client::new();
    let post = |path: &str, lang: Option<&str>, body: Value| {
        let mut request = http.post(format!("{}/api/v1/admin{path}", app.base())).bearer_auth(&secret).json(&body);
        if let Some(lang) = lang {
            request = request.header(reqwest::header::ACCEPT_LANGUAGE, lang);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };
    let service = json!({"slug": "Video", "name": "", "software": "PeerTube", "url": "ftp://v.example"});
    let messages = |error: &Value| -> Vec<(String, String)> {
        error["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap().to_string(), e["message"].as_str().unwrap().to_string()))
            .collect()
    };
    let (status, error) = post("/services", Some("fr-FR, fr;q=0.9"), service.clone()).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(error["field"], "slug", "the first field: {error}");
    assert_eq!(
        messages(&error),
        [
            (
                "slug".to_string(),
                "«\u{a0}Video\u{a0}»\u{a0}: uniquement des lettres minuscules sans accent, des chiffres et des tirets."
                    .to_string()
            ),
            ("name".to_string(), "Ce champ est obligatoire.".to_string()),
            ("url".to_string(), "«\u{a0}ftp://v.example\u{a0}» n’est pas une adresse web (http ou https).".to_string()),
        ]
    );
    assert!(error["error"].as_str().unwrap().starts_with("slug: «\u{a0}Video"), "{error}");
    let (status, error) = post("/services", None, service).await;
    assert_eq!(status, 422);
    assert_eq!(
        messages(&error).into_iter().map(|(_, m)| m).collect::<Vec<_>>(),
        [
            "`Video`: use only lowercase letters without accents, digits and hyphens",
            "must not be empty",
            "`ftp://v.example` is not a web address (http or https)"
        ],
        "English without Accept-Language"
    );
    assert_eq!(
        error["error"],
        "slug: `Video`: use only lowercase letters without accents, digits and hyphens; name: must not be empty; \
         url: `ftp://v.example` is not a web address (http or https)"
    );
    assert!(catalogue::list(&app.state).await.unwrap().is_empty(), "nothing stored");

    add_service(&app, "cloud", "Nuage").await;
    let maintenance = json!({"kind": "change", "title": "", "body": "b", "change": {"type": "maintenance",
        "services": [], "start": "2030-03-13 22:00", "end": "2030-03-13 21:00"}});
    let (status, error) = post("/bulletins", Some("en"), maintenance.clone()).await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(
        messages(&error),
        [
            ("title".to_string(), "must not be empty".to_string()),
            ("change.services".to_string(), "choose at least one service".to_string()),
            ("change.end".to_string(), "the window ends before it starts".to_string()),
        ]
    );
    let (_, error) = post("/bulletins", Some("fr"), maintenance).await;
    assert_eq!(messages(&error)[2].1, "La fin doit venir après le début.");
    assert!(app.state.db.read(|c| bulletins::list_all(c, 10)).await.unwrap().is_empty(), "nothing stored");
}

/// `ronron post change` names each refused option on its own line.
#[test]
fn the_command_line_gives_one_line_per_refused_option() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = crate::helpers::fresh_database_url(&dir);
    let ronron = |args: &[&str]| {
        let output = crate::helpers::ronron_command().args(args).current_dir(dir.path()).output().unwrap();
        (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let (ok, err) = ronron(&["init", "--domain", "bulletin.chaton.example", "--database-url", &database_url]);
    assert!(ok, "{err}");
    let (ok, err) = ronron(&[
        "post",
        "change",
        "maintenance",
        "--service",
        "nowhere",
        "--start",
        "2099-03-12 21:00",
        "--end",
        "2099-03-12 20:00",
        "--title",
        " ",
    ]);
    assert!(!ok);
    let lines: Vec<&str> = err.lines().filter(|l| l.contains(": ")).collect();
    assert!(lines.iter().any(|l| l.ends_with("--title: must not be empty")), "{err}");
    assert!(lines.iter().any(|l| l.ends_with("--service: no service `nowhere` in the catalogue")), "{err}");
    assert!(lines.iter().any(|l| l.ends_with("--end: the window ends before it starts")), "{err}");
}

/// The host page names the country and the languages in the visitor's words, and the contact is a
/// link that reads without `mailto:`.
#[tokio::test]
async fn the_host_page_names_country_and_languages_and_links_the_contact() {
    let app = spawn_app_with(0, |_| {}).await;
    let edit = profile::ProfileEdit {
        country: Some("BE".into()),
        contact: Some("mailto:contact@val.example".into()),
        ..Default::default()
    };
    profile::set(&app.state, edit).await.unwrap();
    for (lang, country, languages) in [("fr", "Belgique", "français, anglais"), ("en", "Belgium", "French, English")] {
        let mut browser = Browser::new(&app, lang);
        let (status, _, page) = browser.get(&format!("/u/{}", app.state.config.account.name)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains(&format!("<dd>{country}</dd>")), "{lang}: {page}");
        assert!(page.contains(&format!("<dd>{languages}</dd>")), "{lang}: {page}");
        assert!(
            page.contains("<dd><a href=\"mailto:contact@val.example\">contact@val.example</a></dd>"),
            "{lang}: {page}"
        );
    }
}
