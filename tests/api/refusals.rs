//! The refusals that used to reach the admin as English sentences (a slug or a name already
//! taken, webhooks and email subscriptions, blocks and follows, a follow-up of what is no
//! incident) are typed: the web admin words them in French next to their field, the JSON API in
//! the request's `Accept-Language`. The bulletin page's forms keep what was typed when refused,
//! and the directory names languages and countries in the visitor's words (issue 12).

use crate::{
    helpers::{spawn_app_with, TestApp},
    pages::{add_service, Browser},
};
use reqwest::StatusCode;
use ronron::{
    app::{admins, bulletins as publish, AppError},
    bulletin::{vocab::*, ChangeDraft, NewsDraft, PostDraft, TextDraft},
    db::models::{directory, tokens},
};
use serde_json::{json, Value};

const NBSP: char = '\u{a0}';

async fn logged_in(app: &TestApp, lang: &'static str) -> (Browser, String) {
    admins::create_admin(&app.state, "camille", "correct horse battery").await.unwrap();
    let mut browser = Browser::new(app, lang);
    assert_eq!(browser.login("camille", "correct horse battery").await, StatusCode::SEE_OTHER);
    let csrf = browser.csrf().await;
    (browser, csrf)
}

/// The text of the element with `id` (up to its first tag).
fn element(page: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = page.find(&marker).unwrap_or_else(|| panic!("no #{id} in the page:\n{page}")) + marker.len();
    page[start..].split('<').next().unwrap().to_string()
}

/// The text of the textarea with `id`.
fn textarea(page: &str, id: &str) -> String {
    let rest = &page[page.find(&format!("<textarea id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id}:\n{page}"))..];
    rest[rest.find('>').unwrap() + 1..].split('<').next().unwrap().to_string()
}

/// The opening tag of the element with `id`.
fn tag<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in the page:\n{page}"));
    page[start..].split('>').next().unwrap()
}

/// French as the catalogue writes it: `«`, `»` and `:` with their no-break spaces.
fn fr(text: &str) -> String {
    text.replace("« ", &format!("«{NBSP}")).replace(" »", &format!("{NBSP}»")).replace(" :", &format!("{NBSP}:"))
}

async fn news(app: &TestApp) -> String {
    let draft = NewsDraft { title: "Nouvelles".into(), body_markdown: "Du neuf.".into(), lang: None };
    publish::publish_news(&app.state, draft).await.unwrap().id
}

#[tokio::test]
async fn refusals_once_in_english_are_worded_in_french_on_the_admin_pages() {
    let app = spawn_app_with(0, |_| {}).await;
    let (mut browser, csrf) = logged_in(&app, "fr").await;
    add_service(&app, "cloud", "Nuage").await;

    // A slug already taken, next to its field.
    let form = [
        ("csrf", csrf.as_str()),
        ("slug", "cloud"),
        ("name", "Nuage bis"),
        ("software", "Nextcloud"),
        ("url", "https://nuage.chaton.example"),
        ("registration", "open"),
    ];
    let (status, _, page) = browser.post("/admin/services", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert_eq!(element(&page, "error-slug"), fr("Un service « cloud » existe déjà : choisissez un autre identifiant."));
    assert!(tag(&page, "slug").contains("aria-invalid=\"true\""), "{page}");

    // A webhook: its address and its kinds, both at once.
    let form = [("csrf", csrf.as_str()), ("url", "ftp://hooks.chaton.example/x"), ("kinds", "panne")];
    let (status, _, page) = browser.post("/admin/webhooks", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(
        page.contains(&fr("« ftp://hooks.chaton.example/x » n’est pas une adresse web (http ou https).")),
        "{page}"
    );
    assert!(page.contains(&fr("« panne » n’est pas une valeur possible. Valeurs possibles : news,")), "{page}");
    let form = [("csrf", csrf.as_str()), ("url", "https://user:secret@hooks.chaton.example/x")];
    let (_, _, page) = browser.post("/admin/webhooks", &form).await;
    assert!(page.contains("L’adresse ne doit contenir ni nom d’utilisateur ni mot de passe."), "{page}");

    // A domain to block that is none.
    let form = [("csrf", csrf.as_str()), ("target", "pas un domaine")];
    let (_, _, page) = browser.post("/admin/peers/block", &form).await;
    assert!(page.contains(&fr("« pas un domaine » n’est pas un nom de domaine")), "{page}");

    // A follow-up of news: the bulletin's state refuses, said in French without a field's name.
    let id = news(&app).await;
    let form = [("csrf", csrf.as_str()), ("state", "resolved"), ("body", "Réparé")];
    let (status, _, page) = browser.post(&format!("/admin/bulletins/{id}/follow-up"), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains(&fr(&format!("« {id} » n’est pas le premier bulletin d’un incident."))), "{page}");
    assert!(!page.contains("is not the first bulletin"), "{page}");
}

#[tokio::test]
async fn the_api_words_conflicts_and_refusals_in_the_requests_language() {
    let app = spawn_app_with(0, |_| {}).await;
    let now = app.state.clock.now();
    let (_, secret) = app.state.db.write(move |c| tokens::create(c, "tests", now)).await.unwrap();
    add_service(&app, "cloud", "Nuage").await;
    let id = news(&app).await;
    ronron::app::blocks::block(&app.state, "bad.example", None).await.unwrap();
    let http = reqwest::Client::new();
    let post = |path: String, lang: &'static str, body: Value| {
        let request = http
            .post(format!("{}/api/v1/admin{path}", app.base()))
            .bearer_auth(&secret)
            .header(reqwest::header::ACCEPT_LANGUAGE, lang)
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    };
    let service = json!({"slug": "cloud", "name": "N", "software": "S", "url": "https://x.chaton.example"});
    let webhook = json!({"url": "ftp://hooks.chaton.example/x", "kinds": ["panne"]});
    for (lang, slug, follow_up, blocked, not_web, not_one_of, not_a_host) in [
        (
            "fr-FR, fr;q=0.9",
            fr("slug: Un service « cloud » existe déjà : choisissez un autre identifiant."),
            fr(&format!("id: « {id} » n’est pas le premier bulletin d’un incident.")),
            "handle: Le domaine bad.example est bloqué.".to_string(),
            fr("« ftp://hooks.chaton.example/x » n’est pas une adresse web (http ou https)."),
            fr("« panne » n’est pas une valeur possible. Valeurs possibles : news,"),
            fr("« pas un domaine » n’est pas un nom de domaine"),
        ),
        (
            "en",
            "slug: a service `cloud` already exists".to_string(),
            format!("id: `{id}` is not the first bulletin of an incident"),
            "handle: bad.example is blocked".to_string(),
            "`ftp://hooks.chaton.example/x` is not a web address (http or https)".to_string(),
            "`panne` is not one of: news,".to_string(),
            "`pas un domaine` is not a host name".to_string(),
        ),
    ] {
        let (status, error) = post("/services".into(), lang, service.clone()).await;
        assert_eq!((status, error["field"].as_str(), error["error"].as_str()), (409, Some("slug"), Some(&*slug)));
        let (status, error) =
            post(format!("/bulletins/{id}/follow-ups"), lang, json!({"state": "resolved", "body": "b"})).await;
        assert_eq!((status, error["error"].as_str()), (409, Some(&*follow_up)), "{error}");
        let (status, error) = post("/following".into(), lang, json!({"handle": "alice@bad.example"})).await;
        assert_eq!((status, error["error"].as_str()), (409, Some(blocked.as_str())), "{error}");

        // Every refused field of a webhook at once, in errors[].
        let (status, error) = post("/webhooks".into(), lang, webhook.clone()).await;
        assert_eq!(status, 422, "{error}");
        let errors = error["errors"].as_array().unwrap_or_else(|| panic!("{error}"));
        assert_eq!(errors.len(), 2, "{error}");
        assert_eq!((errors[0]["field"].as_str(), errors[0]["message"].as_str()), (Some("url"), Some(&*not_web)));
        assert_eq!(errors[1]["field"], "kinds");
        assert!(errors[1]["message"].as_str().unwrap().starts_with(&not_one_of), "{error}");

        let (status, error) = post("/blocks".into(), lang, json!({"domain": "pas un domaine"})).await;
        assert_eq!(status, 422, "{error}");
        assert!(error["errors"][0]["message"].as_str().unwrap().starts_with(&not_a_host), "{error}");
    }

    // The `change` object of a bulletin, given to news or missing from a change.
    let news_with_change = json!({"kind": "news", "title": "T", "body": "B", "change": {"type": "incident"}});
    let change_without = json!({"kind": "change", "title": "T", "body": "B"});
    for (lang, only, required) in [
        (
            "fr",
            fr("Seul un bulletin de type « change » (changement de service) comporte ce champ."),
            fr("Obligatoire pour un bulletin de type « change » (changement de service)."),
        ),
        (
            "en",
            "only a bulletin of kind `change` has one".to_string(),
            "is required for a bulletin of kind `change`".to_string(),
        ),
    ] {
        for (body, words) in [(&news_with_change, &only), (&change_without, &required)] {
            let (status, error) = post("/bulletins".into(), lang, body.clone()).await;
            assert_eq!(status, 422, "{error}");
            assert_eq!(error["errors"][0]["field"], "change", "{error}");
            assert_eq!(error["errors"][0]["message"].as_str(), Some(words.as_str()), "{error}");
        }
    }
}

/// The command line words the same refusals in English, from the catalogue.
#[tokio::test]
async fn the_command_lines_words_for_taken_names_come_from_the_catalogue() {
    let app = spawn_app_with(0, |_| {}).await;
    admins::create_admin(&app.state, "camille", "correct horse battery").await.unwrap();
    let e = admins::create_admin(&app.state, "camille", "correct horse battery").await.unwrap_err();
    assert!(matches!(&e, AppError::Conflict { .. }), "{e:?}");
    assert_eq!(e.to_string(), "username: an admin named `camille` already exists");
    let e = admins::create_admin(&app.state, "dominique", "short").await.unwrap_err();
    assert_eq!(e.to_string(), "password: must be at least 10 characters");
    let t = app.state.texts.texts("fr");
    assert_eq!(e.refusals()[0].reason.words(t), "Au moins 10 caractères.");
}

#[tokio::test]
async fn the_bulletin_page_keeps_what_was_typed_when_a_form_is_refused() {
    let app = spawn_app_with(0, |_| {}).await;
    let (mut browser, csrf) = logged_in(&app, "fr").await;
    let id = news(&app).await;

    // The edit form: an empty title and a new body; the body typed stays, the error sits by the title.
    let form = [("csrf", csrf.as_str()), ("title", " "), ("body", "Un texte tapé avec soin.")];
    let (status, _, page) = browser.post(&format!("/admin/bulletins/{id}/edit"), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert_eq!(element(&page, "error-title"), "Ce champ est obligatoire.");
    assert!(tag(&page, "title").contains("aria-describedby=\"error-title\""), "{page}");
    assert_eq!(textarea(&page, "body"), "Un texte tapé avec soin.", "the body typed is kept");
    assert!(page.contains("Un champ est à corriger"), "{page}");

    // A maintenance rescheduled with a start that is no time and no end: both said, the start kept.
    add_service(&app, "cloud", "Nuage").await;
    let starts_at = app.state.clock.now() + chrono::Duration::days(2);
    let change = ChangeDraft {
        change_type: ChangeType::Maintenance,
        services: vec!["cloud".into()],
        impact: Some(Impact::Minor),
        status: None,
        registration: None,
        new_url: None,
        starts_at: Some(starts_at),
        ends_at: Some(starts_at + chrono::Duration::hours(1)),
    };
    let text = TextDraft { lang: None, title: "Mise à jour".into(), body_markdown: "Une heure.".into() };
    let post = PostDraft { main: text, translation: None, publish_at: None };
    let maintenance = publish::publish_change(&app.state, post, change).await.unwrap();
    let form = [("csrf", csrf.as_str()), ("start", "mardi soir"), ("end", "")];
    let (status, _, page) = browser.post(&format!("/admin/bulletins/{}/reschedule", maintenance.id), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(element(&page, "error-start").starts_with(&fr("« mardi soir » n’est pas une date")), "{page}");
    assert_eq!(element(&page, "error-end"), "Indiquez la fin de la maintenance.");
    assert!(tag(&page, "start").contains("value=\"mardi soir\""), "{page}");
    assert!(page.contains("2 champs sont à corriger"), "{page}");
    // The edit form of the same page is not blamed.
    assert!(!tag(&page, "title").contains("aria-invalid"), "{page}");
}

#[tokio::test]
async fn the_directory_names_languages_and_countries_in_the_visitors_words() {
    let app = spawn_app_with(0, |_| {}).await;
    let entry = directory::PeerEntry {
        actor_id: "https://peer.chaton.example/u/bulletin".into(),
        domain: "peer.chaton.example".into(),
        name: Some("Chaton voisin".into()),
        host_profile: Some(json!({"country": "BE", "languages": ["fr", "en", "br"]}).to_string()),
        services: None,
        label: None,
        fetched_at: app.state.clock.now(),
    };
    app.state.db.write(move |c| directory::upsert(c, &entry)).await.unwrap();
    for (lang, country, languages) in [
        ("fr", "Pays : Belgique", "Langues : français, anglais, breton"),
        ("en", "Country: Belgium", "Languages: French, English, Breton"),
    ] {
        let (status, _, page) = Browser::new(&app, lang).get("/directory").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("Chaton voisin"), "{page}");
        assert!(page.contains(&fr(country)), "{lang}: {page}");
        assert!(page.contains(&fr(languages)), "{lang}: {page}");
        assert!(!page.contains("fr, en"), "{lang}: raw codes: {page}");
    }
}

/// The refusals of the files an admin hands over (an export, a ChatonsInfos file, a backup) are
/// typed too: the command line prints them in English, and they read in French from the same
/// catalogue.
#[test]
fn the_refusals_of_files_are_worded_from_the_catalogue_in_both_languages() {
    let catalog = ronron::i18n::Catalog::embedded();
    let (en, french) = (catalog.texts("en"), catalog.texts("fr"));
    let words = |e: &AppError, t: &ronron::i18n::Texts| {
        e.refusals().iter().map(|r| r.reason.words(t)).collect::<Vec<_>>().join(" / ")
    };
    let export = ronron::app::archive::parse(r#"{"format": "other"}"#).unwrap_err();
    assert_eq!(export.to_string(), "file: is not a Ronron export (its format is `other`)");
    assert_eq!(words(&export, french), fr("Ce n’est pas un export Ronron (son format est « other »)."));
    let version = ronron::app::archive::parse(r#"{"format": "ronron-export", "version": 9}"#).unwrap_err();
    assert_eq!(words(&version, en), "is an export of version 9; this Ronron reads version 1");
    assert_eq!(words(&version, french), "C’est un export de version 9, et cette version de Ronron lit la version 1.");

    let info = ronron::chatonsinfos::read_organization(b"file.class = service\nservice.name = X\n").unwrap_err();
    assert_eq!(info.to_string(), "line 1: `file.class` is Service; this must be an Organization file");
    assert_eq!(
        info.reason().words(french),
        fr("Ligne 1 : « file.class » vaut Service : ce fichier doit être de classe Organization.")
    );
}
