//! The web interface in a real browser: headless Chromium driven by tests/interop/browser.mjs
//! (playwright-core). An admin signs in, posts a maintenance window with the compose form, uploads
//! the logo on the profile page, and finds them on the host and status pages; the Atom feed is read back here. The script also checks
//! keyboard focus, console errors and third-party requests; the reading checks (the bulletin
//! page's h1, framed 404 pages in the visitor's language, 360 px phones, the admin area aligned
//! with the header, axe-core with no violation); and takes the README's screenshots
//! (into `docs/screenshots/` when UPDATE_SCREENSHOTS=1, else into a temporary folder).
//!
//! Required when REQUIRE_BROWSER_TEST=1 (as `.ci/run` sets it); otherwise skipped with a notice
//! when Chromium or `npm ci` in tests/interop is missing.

use crate::helpers::{spawn_app_with_clock, test_clock, TestApp};
use chrono::{Duration, TimeZone};
use ronron::{
    app::admins,
    app::bulletins::{self as publish, PostDraft},
    app::catalogue,
    app::profile::{self, ProfileEdit},
    bulletin::{vocab::*, ChangeDraft, ServiceDraft, TextDraft},
    clock::Clock,
    db::models::bulletins,
};
use std::path::{Path, PathBuf};

const TITLE: &str = "Mise à jour de Nextcloud 29";

fn chromium() -> PathBuf {
    PathBuf::from(std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into()))
}

fn text(lang: &str, title: &str, body: &str) -> TextDraft {
    TextDraft { lang: Some(lang.into()), title: title.into(), body_markdown: body.into() }
}

fn post(fr: TextDraft, en: TextDraft) -> PostDraft {
    PostDraft { main: fr, translation: Some(en), ..Default::default() }
}

fn change(change_type: ChangeType, service: &str) -> ChangeDraft {
    ChangeDraft {
        change_type,
        services: vec![service.into()],
        impact: Some(Impact::Minor),
        status: None,
        registration: None,
        new_url: None,
        starts_at: None,
        ends_at: None,
    }
}

/// A host as a visitor would meet it, with a month of history (so the screenshots mean
/// something): a profile, three services, label grades, news, a past maintenance, and an
/// incident opened this morning. The clock ends at `test_clock()`'s time.
async fn seed(app: &TestApp) {
    let clock = &app.clock;
    profile::set(
        &app.state,
        ProfileEdit {
            display_name: Some("Chaton des Collines".into()),
            summary: Some(
                "Association d'hébergement de **services libres** pour les habitants et les associations de la \
                 vallée. Hébergés chez nous, sauvegardés chaque nuit, sans publicité."
                    .into(),
            ),
            structure_type: Some("association".into()),
            country: Some("FR".into()),
            region: Some("Auvergne-Rhône-Alpes".into()),
            website: Some("https://chaton.example".into()),
            contact: Some("mailto:contact@chaton.example".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    for (slug, name, software, description, registration) in [
        ("nextcloud", "Nextcloud", "Nextcloud", "Fichiers, agendas et contacts", "open"),
        ("pad", "Pads", "Etherpad", "Écriture collaborative", "open"),
        ("visio", "Visio", "Jitsi Meet", "Visioconférence", "closed"),
    ] {
        catalogue::add(
            &app.state,
            ServiceDraft {
                slug: slug.into(),
                name: name.into(),
                software: software.into(),
                url: format!("https://{slug}.chaton.example"),
                description: description.into(),
                audience: "membres".into(),
                registration: registration.into(),
            },
        )
        .await
        .unwrap();
    }
    for (criterion, grade, comment) in [
        ("hoster.backups", "met", "Sauvegarde chiffrée chaque nuit, restauration testée chaque mois."),
        ("alternative.free-software", "met", "Uniquement des logiciels libres."),
        ("transparent.finances", "partial", "Comptes 2029 en cours de publication."),
    ] {
        ronron::app::label::set_grade(&app.state, criterion, grade, Some(comment.into()), None).await.unwrap();
        clock.advance(Duration::days(2));
    }
    clock.advance(Duration::days(5));
    publish::publish_post(
        &app.state,
        post(
            text(
                "fr",
                "Bienvenue aux associations de la vallée",
                "Les inscriptions aux **pads** sont ouvertes à toutes les associations.",
            ),
            text("en", "Welcome to the valley's associations", "**Pads** are now open to every association."),
        ),
    )
    .await
    .unwrap();
    // A maintenance that has run its course: scheduled, in progress, completed.
    clock.advance(Duration::days(6));
    let mut upgrade = change(ChangeType::Maintenance, "visio");
    upgrade.starts_at = Some(clock.now() + Duration::days(2));
    upgrade.ends_at = upgrade.starts_at.map(|at| at + Duration::hours(1));
    publish::publish_change(
        &app.state,
        post(
            text("fr", "Mise à jour de Jitsi Meet", "Nouvelle version, meilleure qualité audio."),
            text("en", "Jitsi Meet upgrade", "A new version with better audio."),
        ),
        upgrade,
    )
    .await
    .unwrap();
    for _ in 0..2 {
        clock.advance(Duration::days(2));
        app.run_scheduled().await;
        clock.advance(Duration::hours(1));
        app.run_scheduled().await;
    }
    // This morning's incident (the clock stops at test_clock()'s time).
    let until_morning = test_clock().now() - Duration::minutes(50) - clock.now();
    assert!(until_morning > Duration::zero(), "the history fits before the test's time");
    clock.advance(until_morning);
    let mut incident = change(ChangeType::Incident, "pad");
    incident.status = Some(ServiceStatus::Degraded);
    let root = publish::publish_change(
        &app.state,
        post(
            text(
                "fr",
                "Lenteurs sur les pads",
                "Les pads répondent lentement depuis ce matin ; nous cherchons la cause.",
            ),
            text("en", "Pads are slow", "Pads have been slow since this morning; we are looking into it."),
        ),
        incident,
    )
    .await
    .unwrap();
    // Two follow-ups: the incident's timeline shows each one's text (the browser checks it).
    clock.advance(Duration::minutes(30));
    publish::post_follow_up(
        &app.state,
        &root.id,
        post(
            text("fr", "", "Un disque presque plein ; nous faisons de la place."),
            text("en", "Pads are slow — cause identified", "A nearly full disk; we are freeing space."),
        ),
        ChangeState::Identified,
        None,
    )
    .await
    .unwrap();
    clock.advance(Duration::minutes(20));
    publish::post_follow_up(
        &app.state,
        &root.id,
        post(
            text("fr", "", "De la place est libérée ; nous surveillons les temps de réponse."),
            text("en", "Pads are slow — monitoring", "Space is freed; we are watching response times."),
        ),
        ChangeState::Monitoring,
        None,
    )
    .await
    .unwrap();
    assert_eq!(clock.now(), test_clock().now());
}

#[tokio::test]
async fn an_admin_posts_a_maintenance_in_chromium_and_visitors_see_it() {
    let interop = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop");
    let required = std::env::var("REQUIRE_BROWSER_TEST").is_ok_and(|v| v == "1");
    let missing = if !chromium().exists() {
        Some(format!("{} is missing (apt-get install chromium)", chromium().display()))
    } else if !interop.join("node_modules/playwright-core").exists() {
        Some("tests/interop/node_modules is missing (run `npm ci` there)".to_string())
    } else {
        None
    };
    if let Some(missing) = missing {
        assert!(!required, "REQUIRE_BROWSER_TEST=1 but {missing}");
        eprintln!("skipped: {missing}, so the browser test cannot run");
        return;
    }

    let clock = Clock::manual(test_clock().now() - Duration::days(30));
    let app = spawn_app_with_clock(0, clock.clone(), |_| {}).await;
    seed(&app).await;
    admins::create_admin(&app.state, "admin", "password123456").await.unwrap();

    // A window later today, typed as the form expects it: local time in the host's time zone.
    let starts_at = clock.now() + Duration::hours(5);
    let ends_at = starts_at + Duration::minutes(90);
    let local = |at| app.state.config.timezone().from_utc_datetime(&at).format("%Y-%m-%dT%H:%M").to_string();

    let screenshots_tmp = tempfile::tempdir().unwrap();
    let screenshots = if std::env::var("UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots")
    } else {
        screenshots_tmp.path().to_path_buf()
    };
    let run = tokio::process::Command::new("node")
        .arg(interop.join("browser.mjs"))
        .args(["--base", &app.base(), "--username", "admin", "--password", "password123456"])
        .args(["--start", &local(starts_at), "--end", &local(ends_at), "--title", TITLE, "--service", "Nextcloud"])
        .arg("--logo")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/media/logo.png"))
        .arg("--screenshots")
        .arg(&screenshots)
        .arg("--chromium")
        .arg(chromium())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(180), run)
        .await
        .expect("the browser test finishes within 3 minutes")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}{stdout}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("the script's last line is its JSON report ({e}): {stdout}"));
    assert!(report["audited"].as_u64().unwrap_or(0) >= 21, "axe-core audited every page: {stdout}");
    for name in ["host.png", "host-mobile.png", "compose.png"] {
        let png = std::fs::read(screenshots.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(png.starts_with(b"\x89PNG"), "{name} is a PNG");
    }

    // The form's local times were read in the host's time zone.
    let admin_url = url::Url::parse(report["admin_url"].as_str().unwrap()).unwrap();
    let id = admin_url.path_segments().unwrap().next_back().unwrap().to_string();
    let bulletin = {
        let id = id.clone();
        app.state.db.read(move |c| bulletins::find(c, &id)).await.unwrap().expect("the published bulletin")
    };
    assert_eq!(bulletin.title, TITLE);
    assert_eq!((bulletin.starts_at, bulletin.ends_at), (Some(starts_at), Some(ends_at)));
    assert_eq!(bulletin.state.as_deref(), Some("scheduled"));

    // The logo uploaded in the browser is the one stored, and the actor's icon.
    let logo = ronron::app::media::logo(&app.state, ronron::app::media::Owner::Host).await.unwrap().expect("a logo");
    let uploaded = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/media/logo.png")).unwrap();
    let served = reqwest::get(app.state.urls.media(&logo.file)).await.unwrap().bytes().await.unwrap();
    assert_eq!(served.as_ref(), uploaded.as_slice());

    // And feed readers get it too.
    let feed_url = format!("{}/u/bulletin/feed.atom", app.base());
    let response = reqwest::get(&feed_url).await.unwrap();
    assert_eq!(response.status(), 200);
    let feed: atom_syndication::Feed = response.text().await.unwrap().parse().expect("a valid Atom feed");
    let note_url = app.state.urls.bulletin(&id).to_string();
    let entry = feed.entries().iter().find(|e| e.id() == note_url).expect("the maintenance is in the feed");
    assert_eq!(entry.title().as_str(), TITLE);
    assert!(entry.links().iter().any(|l| l.href() == note_url), "{:?}", entry.links());
}
