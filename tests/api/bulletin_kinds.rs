//! Service changes, label updates, scheduled bulletins and profile edits, federated between
//! Ronron instances; the receiving side reads the extension properties back.

use crate::helpers::{spawn_app, spawn_app_with_clock, test_clock, TestApp};
use chrono::Duration;
use ronron::{
    app::bulletins::{self as publish, PostDraft},
    app::catalogue,
    app::profile::{self, ProfileEdit},
    bulletin::{vocab::*, ChangeDraft, ServiceDraft, TextDraft},
    db::models::{bulletins, label, remote},
};

fn text(title: &str, body: &str) -> PostDraft {
    PostDraft { main: TextDraft { lang: None, title: title.into(), body_markdown: body.into() }, ..Default::default() }
}

async fn add_nextcloud(app: &TestApp) {
    catalogue::add(
        &app.state,
        ServiceDraft {
            slug: "nextcloud".into(),
            name: "Nextcloud".into(),
            software: "Nextcloud".into(),
            url: "https://cloud.chaton.example".into(),
            description: "Fichiers et agendas".into(),
            audience: "membres".into(),
            registration: "open".into(),
        },
    )
    .await
    .unwrap();
}

fn change(change_type: ChangeType) -> ChangeDraft {
    ChangeDraft {
        change_type,
        services: vec!["nextcloud".into()],
        impact: None,
        status: None,
        registration: None,
        new_url: None,
        starts_at: None,
        ends_at: None,
    }
}

async fn received(app: &TestApp, note_id: &str) -> remote::RemotePost {
    let id = note_id.to_string();
    app.state
        .db
        .read(move |c| remote::find_post(c, &id))
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{note_id} not received"))
}

fn received_meta(post: &remote::RemotePost) -> BulletinMeta {
    serde_json::from_str(post.meta.as_deref().expect("meta parsed")).unwrap()
}

async fn status_of(app: &TestApp, slug: &str) -> ServiceStatus {
    catalogue::list_with_status(&app.state).await.unwrap().into_iter().find(|(s, _)| s.slug == slug).unwrap().1
}

#[tokio::test]
async fn a_maintenance_window_moves_on_its_own_and_each_step_federates() {
    let clock = test_clock();
    let a = spawn_app_with_clock(0, clock.clone(), |_| {}).await;
    // B shares A's clock: each checks the other's signature dates against its own.
    let b = spawn_app_with_clock(0, clock.clone(), |_| {}).await;
    add_nextcloud(&a).await;
    b.follow(&a).await;

    let now = clock.now();
    let mut maintenance = change(ChangeType::Maintenance);
    maintenance.starts_at = Some(now + Duration::hours(12));
    maintenance.ends_at = Some(now + Duration::hours(12) + Duration::minutes(15));
    let mut post = text("Mise à jour de Nextcloud", "Passage en version 26.");
    post.translation = Some(TextDraft {
        lang: Some("en".into()),
        title: "Nextcloud upgrade".into(),
        body_markdown: "Version 26.".into(),
    });
    let bulletin = publish::publish_change(&a.state, post, maintenance).await.unwrap();
    assert_eq!(a.drain().await, 1);
    let note_id = a.state.urls.bulletin(&bulletin.id).to_string();
    let post = received(&b, &note_id).await;
    assert_eq!(post.kind.as_deref(), Some("serviceChange"));
    assert_eq!(received_meta(&post), bulletin.meta(), "the receiver reads back the same structure");
    assert_eq!(bulletin.meta().state, Some(ChangeState::Scheduled));
    assert!(
        post.content_html.contains("maintenance le mardi 12 mars 2030 de 21 h à 21 h 15 (heure de Paris)"),
        "{}",
        post.content_html
    );
    let raw: serde_json::Value = serde_json::from_str(&post.raw).unwrap();
    assert!(raw["contentMap"]["en"].as_str().unwrap().contains("Tuesday 12 March 2030 21:00–21:15"), "{raw}");
    assert_eq!(raw["startTime"], "2030-03-12T20:00:00Z");
    assert_eq!(status_of(&a, "nextcloud").await, ServiceStatus::Operational);

    // Nothing happens before the window.
    clock.advance(Duration::hours(11));
    assert_eq!(a.run_scheduled().await, 0);
    // The window opens: the Note is updated (in progress, under maintenance).
    clock.advance(Duration::hours(1));
    assert_eq!(a.run_scheduled().await, 1);
    assert_eq!(a.run_scheduled().await, 0, "each step happens once");
    assert_eq!(status_of(&a, "nextcloud").await, ServiceStatus::UnderMaintenance);
    assert_eq!(a.drain().await, 1);
    let meta = received_meta(&received(&b, &note_id).await);
    assert_eq!(meta.state, Some(ChangeState::InProgress));
    assert_eq!(meta.service_status, Some(ServiceStatus::UnderMaintenance));

    // It closes: Update to completed, and a short follow-up in the thread.
    clock.advance(Duration::minutes(15));
    assert_eq!(a.run_scheduled().await, 1);
    assert_eq!(a.drain().await, 2);
    let meta = received_meta(&received(&b, &note_id).await);
    assert_eq!(meta.state, Some(ChangeState::Completed));
    assert_eq!(status_of(&a, "nextcloud").await, ServiceStatus::Operational);
    let posts = b.state.db.read(|c| remote::list_posts(c, 10)).await.unwrap();
    let follow_up = posts.iter().find(|p| p.id != note_id).expect("a follow-up");
    assert_eq!(follow_up.in_reply_to.as_deref(), Some(note_id.as_str()));
}

#[tokio::test]
async fn an_incident_arrives_as_a_thread_and_the_first_note_follows_its_state() {
    let clock = test_clock();
    let a = spawn_app_with_clock(0, clock.clone(), |_| {}).await;
    // B shares A's clock: each checks the other's signature dates against its own.
    let b = spawn_app_with_clock(0, clock.clone(), |_| {}).await;
    add_nextcloud(&a).await;
    b.follow(&a).await;
    let mut incident = change(ChangeType::Incident);
    incident.impact = Some(Impact::Critical);
    let root =
        publish::publish_change(&a.state, text("Nextcloud inaccessible", "Nous cherchons."), incident).await.unwrap();
    assert_eq!(status_of(&a, "nextcloud").await, ServiceStatus::MajorOutage);
    clock.advance(Duration::minutes(10));
    let identified =
        publish::post_follow_up(&a.state, &root.id, text("", "Disque plein."), ChangeState::Identified, None)
            .await
            .unwrap();
    assert_eq!(identified.title, "Nextcloud inaccessible — cause identifiée");
    clock.advance(Duration::minutes(10));
    publish::post_follow_up(&a.state, &root.id, text("", "Réparé."), ChangeState::Resolved, None).await.unwrap();
    assert_eq!(status_of(&a, "nextcloud").await, ServiceStatus::Operational);
    assert_eq!(a.drain().await, 5, "Create, then Create + Update twice");

    let root_id = a.state.urls.bulletin(&root.id).to_string();
    let posts = b.state.db.read(|c| remote::list_posts(c, 10)).await.unwrap();
    assert_eq!(posts.len(), 3);
    assert_eq!(
        posts.iter().filter(|p| p.in_reply_to.as_deref() == Some(root_id.as_str())).count(),
        2,
        "two replies in the thread"
    );
    let root_meta = received_meta(&received(&b, &root_id).await);
    assert_eq!(root_meta.state, Some(ChangeState::Resolved));
    assert_eq!(root_meta.service_status, Some(ServiceStatus::Operational));

    let err = publish::post_follow_up(&a.state, &root.id, text("", "Encore ?"), ChangeState::Monitoring, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already resolved"), "{err}");
}

#[tokio::test]
async fn registration_migration_and_closure_change_the_catalogue() {
    let a = spawn_app_with_clock(0, test_clock(), |_| {}).await;
    add_nextcloud(&a).await;
    let mut registration = change(ChangeType::Registration);
    registration.registration = Some(Registration::Closed);
    publish::publish_change(&a.state, text("Inscriptions fermées", ""), registration).await.unwrap();
    let mut migration = change(ChangeType::Migration);
    migration.new_url = Some("https://nuage.chaton.example".into());
    publish::publish_change(&a.state, text("Nouvelle adresse", ""), migration).await.unwrap();
    let services = catalogue::list_with_status(&a.state).await.unwrap();
    assert_eq!(services[0].0.registration, "closed");
    assert_eq!(services[0].0.url, "https://nuage.chaton.example");
    a.clock.advance(Duration::days(1));
    publish::publish_change(&a.state, text("Fermeture", "Merci."), change(ChangeType::Closure)).await.unwrap();
    assert_eq!(status_of(&a, "nextcloud").await, ServiceStatus::Closed);
    a.clock.advance(Duration::days(1));
    publish::publish_change(&a.state, text("Retour", ""), change(ChangeType::Launch)).await.unwrap();
    assert_eq!(status_of(&a, "nextcloud").await, ServiceStatus::Operational);
}

#[tokio::test]
async fn a_label_update_lists_old_and_new_grades() {
    let a = spawn_app_with_clock(0, test_clock(), |_| {}).await;
    // B shares A's clock: each checks the other's signature dates against its own.
    let b = spawn_app_with_clock(0, a.clock.clone(), |_| {}).await;
    b.follow(&a).await;
    let first = ronron::app::label::set_grade(
        &a.state,
        "alternative.free-software",
        "met",
        Some("Tout est libre.".into()),
        None,
    )
    .await
    .unwrap()
    .expect("a new grade is published");
    a.clock.advance(Duration::days(30));
    let second = ronron::app::label::set_grade(
        &a.state,
        "alternative.free-software",
        "partial",
        None,
        Some("https://chaton.example/audit".into()),
    )
    .await
    .unwrap()
    .expect("a changed grade is published");
    assert!(
        ronron::app::label::set_grade(
            &a.state,
            "alternative.free-software",
            "partial",
            Some("Sauf un outil.".into()),
            None
        )
        .await
        .unwrap()
        .is_none(),
        "same grade: no bulletin"
    );
    assert_eq!(a.drain().await, 2);
    let meta = received_meta(&received(&b, a.state.urls.bulletin(&second.id).as_str()).await);
    assert_eq!(meta.bulletin_kind, BulletinKind::LabelUpdate);
    assert_eq!(meta.criteria_set.as_deref(), Some("https://www.chatons.org/charte"));
    assert_eq!(meta.grade_changes[0].from, Some(Grade::Met));
    assert_eq!(meta.grade_changes[0].to, Grade::Partial);
    let post = received(&b, a.state.urls.bulletin(&first.id).as_str()).await;
    assert!(post.content_html.contains("logiciels libres&nbsp;: non évalué → respecté"), "{}", post.content_html);
    let history = a.state.db.read(label::history).await.unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[1].old_grade.as_deref(), Some("met"));

    let err = ronron::app::label::set_grade(&a.state, "nope", "met", None, None).await.unwrap_err();
    assert!(err.to_string().starts_with("criterion: `nope` is not a criterion"), "{err}");
    let err = ronron::app::label::set_grade(&a.state, "neutral.no-ads", "excellent", None, None).await.unwrap_err();
    assert!(
        err.to_string().starts_with("grade: `excellent` is not one of: met, partial, not_met, not_applicable"),
        "{err}"
    );
}

#[tokio::test]
async fn scheduled_bulletins_wait_survive_a_restart_and_federate_once() {
    let a = spawn_app_with_clock(0, test_clock(), |_| {}).await;
    // B shares A's clock: each checks the other's signature dates against its own.
    let b = spawn_app_with_clock(0, a.clock.clone(), |_| {}).await;
    b.follow(&a).await;
    let mut post = text("Assemblée générale", "Le 20 mars.");
    post.publish_at = Some(a.clock.now() + Duration::hours(2));
    let scheduled = publish::publish_post(&a.state, post).await.unwrap();
    assert_eq!(a.drain().await, 0, "nothing federates before its time");
    let url = a.state.urls.bulletin(&scheduled.id).to_string();
    let status =
        reqwest::Client::new().get(&url).header("accept", "application/activity+json").send().await.unwrap().status();
    assert_eq!(status, 404, "not public before its time");

    let a = a.stop().await.restart(None).await;
    a.clock.advance(Duration::hours(1));
    assert_eq!(a.run_scheduled().await, 0);
    a.clock.advance(Duration::hours(1));
    assert_eq!(a.run_scheduled().await, 1);
    assert_eq!(a.run_scheduled().await, 0, "published once");
    assert_eq!(a.drain().await, 1);
    received(&b, &url).await;
    let count = a.state.db.read(bulletins::count_published).await.unwrap();
    assert_eq!(count, 1);
}

#[tokio::test]
async fn bad_service_changes_name_the_field_and_publish_nothing() {
    let a = spawn_app_with_clock(0, test_clock(), |_| {}).await;
    add_nextcloud(&a).await;
    let now = a.clock.now();
    let mut backwards = change(ChangeType::Maintenance);
    backwards.starts_at = Some(now + Duration::hours(2));
    backwards.ends_at = Some(now + Duration::hours(1));
    let err = publish::publish_change(&a.state, text("M", ""), backwards).await.unwrap_err();
    assert_eq!(err.to_string(), "end: the window ends before it starts");
    let mut unknown = change(ChangeType::Incident);
    unknown.services = vec!["peertube".into()];
    let err = publish::publish_change(&a.state, text("I", ""), unknown).await.unwrap_err();
    assert!(err.to_string().starts_with("service: no service `peertube`"), "{err}");
    let mut no_url = change(ChangeType::Migration);
    no_url.new_url = None;
    let err = publish::publish_change(&a.state, text("M", ""), no_url).await.unwrap_err();
    assert!(err.to_string().starts_with("new-url:"), "{err}");
    let mut german = text("T", "b");
    german.translation = Some(TextDraft { lang: Some("de".into()), title: "T".into(), body_markdown: "b".into() });
    let err = publish::publish_change(&a.state, german, change(ChangeType::Launch)).await.unwrap_err();
    assert!(err.to_string().starts_with("translation-lang: `de` is not one of the host's languages"), "{err}");
    let count = a.state.db.read(|c| bulletins::list_all(c, 10)).await.unwrap().len();
    assert_eq!(count, 0, "nothing was stored");
}

#[tokio::test]
async fn a_profile_edit_federates_as_an_actor_update() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    b.follow(&a).await;
    profile::set(
        &a.state,
        ProfileEdit { display_name: Some("Chaton de Test".into()), country: Some("FR".into()), ..Default::default() },
    )
    .await
    .unwrap();
    assert!(ronron::app::profile::federate_profile_if_changed(&a.state).await.unwrap());
    assert!(!ronron::app::profile::federate_profile_if_changed(&a.state).await.unwrap(), "sent once");
    assert_eq!(a.drain().await, 1);
    let id = a.actor_url().to_string();
    let actor = b.state.db.read(move |c| remote::find_actor(c, &id)).await.unwrap().unwrap();
    assert_eq!(actor.name.as_deref(), Some("Chaton de Test"));
    let raw: serde_json::Value = serde_json::from_str(&actor.raw).unwrap();
    assert_eq!(raw["hostProfile"]["country"], "FR");
    let err =
        profile::set(&a.state, ProfileEdit { country: Some("France".into()), ..Default::default() }).await.unwrap_err();
    assert!(err.to_string().starts_with("country:"), "the field is named: {err}");
}

#[tokio::test]
async fn a_maintenance_can_be_rescheduled_and_cancelled_and_its_tag_page_lists_it() {
    let clock = test_clock();
    let a = spawn_app_with_clock(0, clock.clone(), |_| {}).await;
    // B shares A's clock: each checks the other's signature dates against its own.
    let b = spawn_app_with_clock(0, clock.clone(), |_| {}).await;
    add_nextcloud(&a).await;
    b.follow(&a).await;
    let now = clock.now();
    let mut maintenance = change(ChangeType::Maintenance);
    maintenance.starts_at = Some(now + Duration::days(1));
    maintenance.ends_at = Some(now + Duration::days(1) + Duration::hours(1));
    let m = publish::publish_change(&a.state, text("Coupure", "Électricité."), maintenance).await.unwrap();
    let new_start = now + Duration::days(2);
    let err = publish::reschedule(&a.state, &m.id, new_start, new_start - Duration::hours(1)).await.unwrap_err();
    assert_eq!(err.to_string(), "end: the window ends before it starts");
    publish::reschedule(&a.state, &m.id, new_start, new_start + Duration::hours(1)).await.unwrap();
    assert_eq!(a.drain().await, 2, "Create, then Update");
    let note_id = a.state.urls.bulletin(&m.id).to_string();
    let raw: serde_json::Value = serde_json::from_str(&received(&b, &note_id).await.raw).unwrap();
    assert_eq!(raw["startTime"], "2030-03-14T08:00:00Z");

    let page = reqwest::get(format!("{}/tags/nextcloud", a.base())).await.unwrap().text().await.unwrap();
    assert!(page.contains("Coupure"), "{page}");

    publish::cancel(&a.state, &m.id).await.unwrap();
    assert_eq!(a.drain().await, 1);
    let meta = received_meta(&received(&b, &note_id).await);
    assert_eq!(meta.state, Some(ChangeState::Cancelled));
    let err = publish::cancel(&a.state, &m.id).await.unwrap_err();
    assert!(err.to_string().contains("is not a maintenance that is scheduled or in progress"), "{err}");
    clock.advance(Duration::days(3));
    assert_eq!(a.run_scheduled().await, 0, "a cancelled window does not move");
}
