//! French as a French admin writes it, and English too: counts that agree with their noun (CLDR
//! plural rules in the catalogues), the words of maintenances and incidents, the state a
//! maintenance is in at the clock's now, and one label score everywhere.

use crate::{
    helpers::{spawn_app, spawn_app_with, spawn_app_with_clock, test_clock},
    pages::{add_service, Browser},
};
use ronron::{
    app::{admins, bulletins as publish},
    bulletin::{
        forms::{ChangeFields, PostFields},
        vocab::ChangeState,
    },
};

/// The deliveries page says how many in words that agree ("Aucun envoi abandonné", not
/// "Abandonnés 0"; the Follow is the one delivery); the status page's history says "Les 30 derniers jours"; the directory's label
/// score agrees with its count.
#[actix_rt::test]
async fn counts_read_as_sentences_in_both_languages() {
    let us = spawn_app().await;
    let peer = spawn_app_with(0, |c| c.account.display_name = "Autre Chaton".into()).await;
    admins::create_admin(&us.state, "camille", "correct horse battery").await.unwrap();
    ronron::app::label::set_grade(&peer.state, "alternative.free-software", "met", None, None).await.unwrap();
    us.follow(&peer).await;
    ronron::app::directory::refresh(&us.data(), &peer.actor_url()).await.unwrap();
    let total = peer.state.criteria.criteria().count();
    for (lang, deliveries, history, score) in [
        (
            "fr",
            "Aucun envoi en attente · 1 envoi remis · Aucun envoi abandonné",
            "Les 30 derniers jours.",
            format!("1 critère respecté sur {total}"),
        ),
        (
            "en",
            "No deliveries waiting · 1 delivery made · No deliveries given up",
            "The last 30 days.",
            format!("1 of {total} criteria met"),
        ),
    ] {
        let mut browser = Browser::new(&us, lang);
        browser.login("camille", "correct horse battery").await;
        let (_, _, page) = browser.get("/admin/deliveries").await;
        assert!(page.contains(deliveries), "{lang}: {page}");
        assert!(!page.contains("Abandonnés") && !page.contains("Given up"), "{page}");
        let (_, _, page) = browser.get("/status").await;
        assert!(page.contains(history), "{lang}: {page}");
        let (_, _, page) = browser.get("/directory").await;
        assert!(page.contains(&score), "{lang}: {page}");
    }
}

async fn publish_change(
    app: &crate::helpers::TestApp,
    title: &str,
    english: Option<&str>,
    fields: ChangeFields,
) -> ronron::app::bulletins::Bulletin {
    let tz = app.state.config.timezone();
    let post = PostFields {
        title: title.into(),
        body: "Merci de votre patience.".into(),
        translation_lang: english.map(|_| "en".into()),
        translation_title: english.map(str::to_string),
        translation_body: english.map(|_| "Thank you for your patience.".into()),
        ..Default::default()
    };
    publish::publish_change(&app.state, post.draft(tz).unwrap(), fields.draft(tz).unwrap()).await.unwrap()
}

fn maintenance() -> ChangeFields {
    ChangeFields {
        change_type: "maintenance".into(),
        services: vec!["cloud".into()],
        impact: Some("major".into()),
        start: Some("2030-03-12T21:00".into()),
        end: Some("2030-03-12T21:15".into()),
        ..Default::default()
    }
}

/// A maintenance's post says when in words ("de 21 h à 21 h 15 (heure de Paris). Impact
/// majeur.", no "État : planifiée"), its pages say "Horaire (heure de Paris)", "Annoncée le",
/// "Aussi en anglais"; an incident says "Signalé le" and "Mises à jour"; the admin says
/// "Changer l’horaire"; the host page's title does not repeat the host's name.
#[actix_rt::test]
async fn maintenance_and_incident_words_in_french_and_english() {
    let app = spawn_app_with_clock(0, test_clock(), |c| c.account.display_name = "Chaton Exemple".into()).await;
    admins::create_admin(&app.state, "camille", "correct horse battery").await.unwrap();
    add_service(&app, "cloud", "Nextcloud").await;
    let m = publish_change(&app, "Mise à jour de Nextcloud", Some("Nextcloud upgrade"), maintenance()).await;
    assert!(
        m.content_html.contains(
            "Nextcloud — maintenance le mardi 12 mars 2030 de 21 h à 21 h 15 (heure de Paris). Impact majeur.</p>"
        ),
        "{}",
        m.content_html
    );
    assert!(!m.content_html.contains("État") && !m.content_html.contains("Europe/Paris"), "{}", m.content_html);
    let translations = publish::view(&app.state, &m.id).await.unwrap().translations;
    let en = &translations.iter().find(|t| t.lang == "en").unwrap().content_html;
    assert!(
        en.contains("Nextcloud — maintenance on Tuesday 12 March 2030 21:00–21:15 (Paris time). Major impact.</p>"),
        "{en}"
    );

    let mut fr = Browser::new(&app, "fr");
    let (_, _, page) = fr.get(&format!("/b/{}", m.id)).await;
    assert!(page.contains("<dt>Horaire (heure de Paris)</dt><dd>mardi 12 mars 2030 de 21 h à 21 h 15</dd>"), "{page}");
    assert!(page.contains("Aussi en <a href=") && page.contains("hreflang=\"en\">anglais</a>"), "{page}");
    let (_, _, page) = Browser::new(&app, "en").get(&format!("/b/{}?lang=en", m.id)).await;
    assert!(page.contains("<dt>Schedule (Paris time)</dt><dd>Tuesday 12 March 2030 21:00–21:15</dd>"), "{page}");
    assert!(page.contains("hreflang=\"fr\">French</a>"), "{page}");
    let (_, _, page) = fr.get("/status").await;
    assert!(page.contains("Annoncée le <time"), "{page}");
    assert!(page.contains("Horaire (heure de Paris)\u{a0}:</strong> mardi 12 mars 2030 de 21 h à 21 h 15"), "{page}");
    assert!(!page.contains("premier signalement"), "{page}");

    let incident = publish_change(
        &app,
        "Nextcloud inaccessible",
        None,
        ChangeFields { change_type: "incident".into(), services: vec!["cloud".into()], ..Default::default() },
    )
    .await;
    let tz = app.state.config.timezone();
    publish::post_follow_up(
        &app.state,
        &incident.id,
        PostFields { title: String::new(), body: "La cause est trouvée.".into(), ..Default::default() }
            .draft(tz)
            .unwrap(),
        ChangeState::Identified,
        None,
    )
    .await
    .unwrap();
    let (_, _, page) = fr.get("/status").await;
    assert!(page.contains("Signalé le <time"), "{page}");
    let (_, _, page) = fr.get(&format!("/b/{}", incident.id)).await;
    assert!(page.contains(">Mises à jour</h2>") && !page.contains("Suivis"), "{page}");

    fr.login("camille", "correct horse battery").await;
    let (_, _, page) = fr.get(&format!("/admin/bulletins/{}", m.id)).await;
    assert!(page.contains("Changer l’horaire") && !page.contains("Replanifier"), "{page}");
    assert!(page.contains("<h2 id=\"window-title\">Horaire (heure de Paris)</h2>"), "{page}");
    let (_, _, page) = fr.get("/admin/compose?kind=maintenance").await;
    assert!(page.contains("<legend>Horaire (heure de Paris)</legend>"), "{page}");

    let (_, _, page) = fr.get("/u/bulletin").await;
    assert!(page.contains("<title>Chaton Exemple</title>"), "{page}");
    let (_, _, page) = fr.get("/status").await;
    assert!(page.contains("<title>État des services — Chaton Exemple</title>"), "{page}");
}

/// A French post carries French hashtags (#inscriptions), its English text English ones; the
/// Note's `tag` lists the tags of the languages it is written in, and both tag pages find it.
#[actix_rt::test]
async fn hashtags_are_in_the_posts_language() {
    let app = spawn_app().await;
    add_service(&app, "cloud", "Nextcloud").await;
    let b = publish_change(
        &app,
        "Inscriptions fermées",
        Some("Registrations closed"),
        ChangeFields {
            change_type: "registration".into(),
            services: vec!["cloud".into()],
            registration: Some("closed".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(b.content_html.contains("/tags/inscriptions\""), "{}", b.content_html);
    assert!(!b.content_html.contains("#<span>registration"), "{}", b.content_html);
    let translations = publish::view(&app.state, &b.id).await.unwrap().translations;
    let en = &translations[0].content_html;
    assert!(en.contains("#<span>registration</span>") && !en.contains("inscriptions</span>"), "{en}");
    let tags = note_tags(&app, &b.id).await;
    assert!(tags.iter().any(|t| t == "#inscriptions") && tags.iter().any(|t| t == "#registration"), "{tags:?}");
    for tag in ["inscriptions", "registration"] {
        let (_, _, page) = Browser::new(&app, "fr").get(&format!("/tags/{tag}")).await;
        assert!(page.contains("Inscriptions fermées"), "{tag}: {page}");
    }

    // A post in French only carries no English tag: Mastodon would show it under the post.
    let french_only = publish_change(
        &app,
        "Inscriptions ouvertes",
        None,
        ChangeFields {
            change_type: "registration".into(),
            services: vec!["cloud".into()],
            registration: Some("open".into()),
            ..Default::default()
        },
    )
    .await;
    let tags = note_tags(&app, &french_only.id).await;
    assert!(tags.iter().any(|t| t == "#inscriptions") && !tags.iter().any(|t| t == "#registration"), "{tags:?}");
}

/// The names of the hashtags in the Note served for bulletin `id`.
async fn note_tags(app: &crate::helpers::TestApp, id: &str) -> Vec<String> {
    let note = crate::golden::fetch(app.state.urls.bulletin(id).as_str()).await;
    note["tag"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_string()).collect()
}

/// The part of `page` between `from` and the next `to`.
fn between<'a>(page: &'a str, from: &str, to: &str) -> &'a str {
    let start = page.find(from).unwrap_or_else(|| panic!("no {from:?} in {page}")) + from.len();
    let rest = &page[start..];
    &rest[..rest.find(to).unwrap_or(rest.len())]
}

/// A maintenance is placed by where its window stands at the clock's now, even before the
/// scheduler moves it: before, the dashboard lists it as upcoming, not under "en cours"; during,
/// under "en cours" and the status page's "En cours"; after, in "Maintenances passées".
#[actix_rt::test]
async fn a_maintenance_is_upcoming_ongoing_then_past_as_its_window_goes() {
    let app = spawn_app_with_clock(0, test_clock(), |_| {}).await;
    admins::create_admin(&app.state, "camille", "correct horse battery").await.unwrap();
    add_service(&app, "cloud", "Nextcloud").await;
    publish_change(&app, "Mise à jour de Nextcloud", None, maintenance()).await;
    let mut fr = Browser::new(&app, "fr");
    fr.login("camille", "correct horse battery").await;
    let title = "Mise à jour de Nextcloud";
    let ongoing = |page: &str| between(page, "Incidents et maintenances en cours</h2>", "<h2").contains(title);
    let upcoming = |page: &str| between(page, "Maintenances à venir</h2>", "</ul>").contains(title);

    // 08:00 UTC: the window (20:00–20:15 UTC) is ahead.
    let (_, _, page) = fr.get("/admin").await;
    assert!(!ongoing(&page) && upcoming(&page), "{page}");
    assert!(page.contains("— planifiée</li>"), "{page}");
    let (_, _, page) = fr.get("/status").await;
    assert!(!page.contains("<h3>En cours</h3>"), "{page}");
    assert!(between(&page, "<h3>À venir</h3>", "<h3>Maintenances passées</h3>").contains(title), "{page}");

    // 20:05 UTC, the scheduler not run: inside the window.
    app.clock.advance(chrono::Duration::minutes(12 * 60 + 5));
    let (_, _, page) = fr.get("/admin").await;
    assert!(ongoing(&page) && !upcoming(&page), "{page}");
    assert!(page.contains("— en cours</li>"), "{page}");
    let (_, _, page) = fr.get("/status").await;
    assert!(between(&page, "<h3>En cours</h3>", "<h3>À venir</h3>").contains(title), "{page}");
    assert!(!between(&page, "<h3>À venir</h3>", "<h3>Maintenances passées</h3>").contains(title), "{page}");
    assert!(
        between(&page, "<h3>En cours</h3>", "<h3>À venir</h3>").contains("s-in_progress"),
        "the badge says en cours"
    );
    let (_, _, page) = fr.get("/u/bulletin").await;
    assert!(between(&page, "aria-labelledby=\"alerts\"", "</section>").contains(title), "{page}");
    let (_, _, page) = Browser::new(&app, "en").get("/status").await;
    assert!(between(&page, "<h3>In progress</h3>", "<h3>Upcoming</h3>").contains(title), "{page}");

    // 20:20 UTC: over.
    app.clock.advance(chrono::Duration::minutes(15));
    let (_, _, page) = fr.get("/admin").await;
    assert!(!ongoing(&page) && !upcoming(&page), "{page}");
    let (_, _, page) = fr.get("/status").await;
    assert!(!page.contains("<h3>En cours</h3>"), "{page}");
    assert!(between(&page, "<h3>Maintenances passées</h3>", "</section>").contains(title), "{page}");
    let (_, _, page) = fr.get("/u/bulletin").await;
    assert!(!page.contains("aria-labelledby=\"alerts\""), "no alert once over, before the scheduler runs: {page}");
}

/// One label score: met out of the criteria that apply (not applicable left out, ungraded
/// counted as not met), worded the same on the host's page and in a follower's directory; the
/// host page's og:description is plain text.
#[actix_rt::test]
async fn one_label_score_and_a_plain_og_description() {
    let us = spawn_app().await;
    let peer = spawn_app_with(0, |c| c.account.display_name = "Autre Chaton".into()).await;
    ronron::app::profile::set(
        &peer.state,
        ronron::app::profile::ProfileEdit {
            summary: Some("Nous hébergeons **Nextcloud** et [un pad](https://pad.example).".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    ronron::app::label::set_grade(&peer.state, "hoster.backups", "met", None, None).await.unwrap();
    ronron::app::label::set_grade(&peer.state, "alternative.free-software", "not_applicable", None, None)
        .await
        .unwrap();
    let total = peer.state.criteria.criteria().count();
    let fr = format!("1 critère respecté sur {}", total - 1);
    let en = format!("1 of {} criteria met", total - 1);
    us.follow(&peer).await;
    ronron::app::directory::refresh(&us.data(), &peer.actor_url()).await.unwrap();
    let (_, _, page) = Browser::new(&peer, "fr").get("/u/bulletin").await;
    assert!(page.contains(&format!("Dans l’ensemble\u{a0}: {fr}</p>")), "{page}");
    assert!(
        page.contains("<meta property=\"og:description\" content=\"Nous hébergeons Nextcloud et un pad.\">"),
        "{page}"
    );
    let (_, _, page) = Browser::new(&peer, "en").get("/u/bulletin").await;
    assert!(page.contains(&format!("Overall: {en}</p>")), "{page}");
    let (_, _, page) = Browser::new(&us, "fr").get("/directory").await;
    assert!(page.contains(&fr), "{page}");
    let (_, _, page) = Browser::new(&us, "en").get("/directory").await;
    assert!(page.contains(&en), "{page}");
}

/// An incident written in French with an English translation, and its follow-up likewise, read by
/// an English visitor: the host and status pages show the English title and text of each, not the
/// main language's.
#[actix_rt::test]
async fn an_incident_and_its_follow_ups_are_shown_in_the_visitors_language() {
    use ronron::bulletin::{PostDraft, TextDraft};
    let app = spawn_app().await;
    add_service(&app, "cloud", "Nextcloud").await;
    let incident = ChangeFields {
        change_type: "incident".into(),
        services: vec!["cloud".into()],
        impact: Some("minor".into()),
        ..Default::default()
    };
    let root = publish_change(&app, "Nuage lent", Some("Cloud is slow"), incident).await;
    let follow_up = PostDraft {
        main: TextDraft { lang: None, title: String::new(), body_markdown: "Un disque est plein.".into() },
        translation: Some(TextDraft {
            lang: Some("en".into()),
            title: String::new(),
            body_markdown: "A disk is full.".into(),
        }),
        ..Default::default()
    };
    publish::post_follow_up(&app.state, &root.id, follow_up, ChangeState::Identified, None).await.unwrap();
    for path in ["/", "/status"] {
        let (_, _, page) = Browser::new(&app, "en").get(path).await;
        assert!(page.contains("Cloud is slow") && page.contains("A disk is full."), "{path}: {page}");
        assert!(!page.contains("Nuage lent") && !page.contains("Un disque est plein."), "{path}: {page}");
        let (_, _, page) = Browser::new(&app, "fr").get(path).await;
        assert!(page.contains("Nuage lent") && page.contains("Un disque est plein."), "{path}: {page}");
    }
}
