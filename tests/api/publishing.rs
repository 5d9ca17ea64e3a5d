//! Publishing with confidence (issue 12): grading every criterion at once publishes one label
//! update, the first grading is announced or not, field errors are shown at once in the visitor's
//! language, and each bulletin's admin page says where it was delivered.

use crate::{
    helpers::{spawn_app, spawn_app_with_clock, test_clock},
    pages::Browser,
};
use reqwest::StatusCode;
use ronron::{
    app::{
        admins, deliveries,
        label::{self, FirstGrading, GradeInput},
    },
    bulletin::vocab::*,
    db::models::{label as grades, remote},
};

fn grade(criterion: &str, grade: &str) -> GradeInput {
    GradeInput { criterion: criterion.into(), grade: grade.into(), comment: None, evidence: None }
}

#[tokio::test]
async fn grading_several_criteria_publishes_one_label_update_listing_every_change() {
    let a = spawn_app_with_clock(0, test_clock(), |_| {}).await;
    let b = spawn_app_with_clock(0, a.clock.clone(), |_| {}).await;
    b.follow(&a).await;

    // The first grading, quietly: stored, nothing published.
    let first = vec![grade("hoster.backups", "partial"), grade("alternative.free-software", "met")];
    assert!(label::set_grades(&a.state, first, FirstGrading::Quiet).await.unwrap().is_none());
    assert_eq!(a.drain().await, 0, "nothing sent");
    assert_eq!(label::grades(&a.state).await.unwrap().len(), 2);

    // Three grades saved at once, one unchanged: one bulletin listing the two changes.
    let save =
        vec![grade("hoster.backups", "met"), grade("alternative.free-software", "met"), grade("neutral.no-ads", "met")];
    let update = label::set_grades(&a.state, save, FirstGrading::Quiet).await.unwrap().expect("one label update");
    assert_eq!(a.drain().await, 1, "one post, not one per criterion");
    let post = b
        .state
        .db
        .read({
            let id = a.state.urls.bulletin(&update.id).to_string();
            move |c| remote::find_post(c, &id)
        })
        .await
        .unwrap()
        .expect("B received the update");
    let meta: BulletinMeta = serde_json::from_str(post.meta.as_deref().unwrap()).unwrap();
    let changes: Vec<_> = meta.grade_changes.iter().map(|c| (c.criterion.as_str(), c.from, c.to)).collect();
    assert_eq!(
        changes,
        vec![("hoster.backups", Some(Grade::Partial), Grade::Met), ("neutral.no-ads", None, Grade::Met)],
        "every change, old → new, and only the changes"
    );
    assert_eq!(post.content_html.matches("<li>").count(), 2, "{}", post.content_html);
    assert!(post.content_html.contains("partiellement respecté → respecté"), "{}", post.content_html);
    let history = a.state.db.read(grades::history).await.unwrap();
    assert_eq!(history.len(), 4, "an unchanged criterion adds no history line");

    // All or none: one bad grade, and nothing is written; the error names criterion and field.
    let bad = vec![grade("hoster.backups", "not_met"), grade("neutral.no-ads", "excellent")];
    let err = label::set_grades(&a.state, bad, FirstGrading::Announce).await.unwrap_err();
    assert_eq!(err.field(), Some("neutral.no-ads.grade"), "{err}");
    assert_eq!(label::grade(&a.state, "hoster.backups").await.unwrap().unwrap().grade, "met", "no partial write");
    let twice = vec![grade("hoster.backups", "met"), grade("hoster.backups", "partial")];
    assert_eq!(
        label::set_grades(&a.state, twice, FirstGrading::Announce).await.unwrap_err().field(),
        Some("hoster.backups")
    );

    // Another host announces its first grading: one "our label" post.
    let c = spawn_app().await;
    let first = vec![grade("hoster.backups", "met"), grade("neutral.no-ads", "partial")];
    let ours = label::set_grades(&c.state, first, FirstGrading::Announce).await.unwrap().expect("announced");
    assert_eq!(ours.title, "Notre label");
    assert_eq!(ours.meta().grade_changes.len(), 2);
}

#[tokio::test]
async fn the_grading_form_saves_all_criteria_and_shows_every_error_in_french() {
    let app = spawn_app().await;
    admins::create_admin(&app.state, "camille", "correct horse battery").await.unwrap();
    let mut browser = Browser::new(&app, "fr");
    browser.login("camille", "correct horse battery").await;
    let csrf = browser.csrf().await;
    let (_, _, page) = browser.get("/admin/label").await;
    let criteria = app.state.criteria.sections.iter().map(|s| s.criteria.len()).sum::<usize>();
    assert_eq!(page.matches("<select name=").count(), criteria, "every criterion");
    assert_eq!(page.matches("type=\"submit\">Enregistrer les évaluations<").count(), 1, "in one form, one button");
    assert!(!page.contains("/admin/label/"), "no form per criterion");
    assert!(page.contains("name=\"first_post\" value=\"none\""), "the first grading offers to publish nothing");

    // Two wrong fields: both shown, next to their fields, in plain French; nothing saved.
    let (status, _, page) = browser
        .post(
            "/admin/label",
            &[
                ("csrf", &csrf),
                ("hoster.backups.grade", "met"),
                ("hoster.backups.evidence", "faq"),
                ("neutral.no-ads.grade", "excellent"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"hoster.backups.evidence-error\">Indiquez l’adresse complète"), "{page}");
    assert!(page.contains("id=\"neutral.no-ads.grade-error\">Choisissez une évaluation"), "{page}");
    assert!(page.contains("value=\"faq\""), "what was typed is kept");
    assert!(label::grades(&app.state).await.unwrap().is_empty(), "nothing saved");

    // Every criterion at once: one bulletin, its page says nobody receives it.
    let (status, headers, _) = browser
        .post(
            "/admin/label",
            &[
                ("csrf", &csrf),
                ("hoster.backups.grade", "met"),
                ("hoster.backups.evidence", "https://chaton.example/sauvegardes"),
                ("neutral.no-ads.grade", "partial"),
                ("first_post", "announce"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = headers["location"].to_str().unwrap().to_string();
    assert!(location.contains("/admin/bulletins/") && location.ends_with("?done=published"), "{location}");
    let path = location.trim_start_matches(&app.base()).to_string();
    let (_, _, page) = browser.get(&path).await;
    assert!(page.contains("Notre label"), "{page}");
    assert!(!page.contains("il part vers vos abonnés"), "no follower: no such promise");
    assert!(page.contains("Aucun serveur ne suit encore ce compte"), "{page}");
    assert_eq!(label::grades(&app.state).await.unwrap().len(), 2);
    let (_, _, page) = browser.get("/admin/label").await;
    assert!(!page.contains("name=\"first_post\""), "only the first grading asks");
}

#[tokio::test]
async fn a_bulletins_admin_page_says_where_it_was_delivered() {
    let a = spawn_app_with_clock(0, test_clock(), |_| {}).await;
    let b = spawn_app_with_clock(0, a.clock.clone(), |_| {}).await;
    b.follow(&a).await;
    admins::create_admin(&a.state, "camille", "correct horse battery").await.unwrap();
    let update = label::set_grades(&a.state, vec![grade("hoster.backups", "met")], FirstGrading::Announce)
        .await
        .unwrap()
        .unwrap();
    let sent = deliveries::of_bulletin(&a.state, &update.id).await.unwrap();
    assert_eq!((sent.servers, sent.delivered, sent.waiting, sent.failed.len()), (1, 0, 1, 0));
    let mut browser = Browser::new(&a, "fr");
    browser.login("camille", "correct horse battery").await;
    let path = format!("/admin/bulletins/{}", update.id);
    let (_, _, page) = browser.get(&path).await;
    assert!(page.contains("Remis à 0 serveur sur 1, 1 en attente, 0 en échec."), "{page}");
    assert!(page.contains("http-equiv=\"refresh\""), "waiting: the page reloads itself");

    assert_eq!(a.drain().await, 1);
    let (_, _, page) = browser.get(&path).await;
    assert!(page.contains("Remis à 1 serveur sur 1, 0 en attente, 0 en échec."), "{page}");
    assert!(!page.contains("http-equiv=\"refresh\""), "nothing waits: no reload");
    let mut english = Browser::new(&a, "en");
    english.login("camille", "correct horse battery").await;
    let (_, _, page) = english.get(&path).await;
    assert!(page.contains("Delivered to 1 server of 1, 0 waiting, 0 failed."), "{page}");

    // Deleting asks first, on a page of its own that says what the follower receives.
    let (_, _, page) = browser.get(&path).await;
    assert!(!page.contains(&format!("method=\"post\" action=\"{}/delete\"", a.state.urls.admin(&path[7..]))));
    let (status, _, confirm) = browser.get(&format!("{path}/delete")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(confirm.contains("Supprimer ce bulletin\u{202f}?"), "{confirm}");
    assert!(confirm.contains("Votre abonné reçoit une suppression"), "{confirm}");
    assert!(confirm.contains("Oui, supprimer le bulletin"), "{confirm}");
    assert_eq!(browser.get(&format!("{path}/cancel")).await.0, StatusCode::NOT_FOUND, "not a maintenance");
    assert!(!label::history(&a.state).await.unwrap().is_empty());
    let csrf = browser.csrf().await;
    let (status, _, _) = browser.post(&format!("{path}/delete"), &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the confirmation's button deletes");
}

#[tokio::test]
async fn an_incidents_timeline_shows_every_updates_text_newest_first() {
    use ronron::{app::bulletins as publish, bulletin::forms::PostFields};
    let app = spawn_app().await;
    let (_, incident) = crate::pages::publish_sample(&app).await;
    let tz = app.state.config.timezone();
    for (body, state) in [
        ("Le disque du serveur est en cause.", ChangeState::Identified),
        ("Disque remplacé, tout refonctionne.", ChangeState::Monitoring),
    ] {
        app.clock.advance(chrono::Duration::minutes(30));
        let draft = PostFields { body: body.into(), ..Default::default() }.draft(tz).unwrap();
        publish::post_follow_up(&app.state, &incident, draft, state, None).await.unwrap();
    }
    let mut fr = Browser::new(&app, "fr");
    for path in [format!("/b/{incident}"), "/status".to_string(), "/u/bulletin".to_string()] {
        let (_, _, page) = fr.get(&path).await;
        let (cause, fixed) =
            (page.find("Le disque du serveur est en cause."), page.find("Disque remplacé, tout refonctionne."));
        assert!(cause.is_some() && fixed.is_some(), "{path} shows each follow-up's text: {page}");
        assert!(fixed < cause, "{path}: newest first");
    }
}
