//! The delivery queue survives restarts, keeps order per inbox, and is shared safely.

use crate::helpers::{eventually, spawn_app, spawn_app_with_clock, test_clock, test_config, TestApp};
use actix_web::{web, App, HttpResponse, HttpServer};
use chrono::Duration;
use ronron::{
    app::bulletins::{self as publish, NewsEdit},
    bulletin::NewsDraft,
    db::models::{activities as queue, remote},
    jobs::delivery,
    state::AppState,
};
use std::{
    collections::HashMap,
    net::TcpListener,
    sync::{Arc, Mutex},
};

fn news(title: &str) -> NewsDraft {
    NewsDraft { title: title.into(), body_markdown: format!("{title} body"), lang: Some("en".into()) }
}

#[tokio::test]
async fn deliveries_queued_while_the_follower_is_down_arrive_once_in_order_after_restarts() {
    let a = spawn_app().await;
    let b = spawn_app().await;
    b.follow(&a).await;
    let b = b.stop().await;

    let one = publish::publish_news(&a.state, news("One")).await.unwrap();
    let two = publish::publish_news(&a.state, news("Two")).await.unwrap();
    publish::edit_news(&a.state, &one.id, NewsEdit { title: Some("One, edited".into()), ..Default::default() })
        .await
        .unwrap();
    publish::delete_bulletin(&a.state, &two.id).await.unwrap();
    // Only the oldest delivery of an inbox is tried; it fails and waits for its retry.
    assert_eq!(a.drain().await, 1);
    assert_eq!(a.state.db.read(|c| queue::count_by_status(c, queue::PENDING)).await.unwrap(), 4);
    let health = a.state.db.read(queue::health).await.unwrap();
    let shared = format!("http://localhost:{}/inbox", b.port);
    let shared = health.iter().find(|h| h.inbox == shared).expect("the follower's shared inbox is tracked");
    assert_eq!(shared.consecutive_failures, 1);
    assert!(shared.last_error.as_deref().unwrap_or_default().contains("error"), "{:?}", shared.last_error);

    // The sender restarts (now with real background workers), then the follower comes back.
    let a = a.stop().await.restart(Some(2)).await;
    let b = b.restart(None).await;
    let now = a.clock.now();
    a.state.db.write(move |c| queue::retry_now(c, now)).await.unwrap();
    let delivered = eventually(30, || async {
        a.state.db.read(|c| queue::count_by_status(c, queue::DELIVERED)).await.unwrap() == 5
    })
    .await;
    assert!(delivered, "the workers deliver everything");

    let one_id = a.state.urls.bulletin(&one.id).to_string();
    let two_id = a.state.urls.bulletin(&two.id).to_string();
    let post = b
        .state
        .db
        .read({
            let id = one_id.clone();
            move |c| remote::find_post(c, &id)
        })
        .await
        .unwrap()
        .expect("one arrived");
    assert!(post.content_html.contains("One, edited"), "the Update came after the Create: {}", post.content_html);
    assert!(b
        .state
        .db
        .read({
            let id = two_id.clone();
            move |c| remote::find_post(c, &id)
        })
        .await
        .unwrap()
        .is_none());
    assert!(b.state.db.read(move |c| remote::is_tombstoned(c, &two_id)).await.unwrap());
    // Each activity was sent successfully exactly once: one attempt each, two for the first.
    let rows = a.state.db.read(queue::list_deliveries).await.unwrap();
    let attempts: Vec<i32> = rows.iter().skip(1).map(|d| d.attempts).collect();
    assert_eq!(attempts, vec![2, 1, 1, 1], "after the Accept: {rows:?}");
    assert_eq!(b.state.db.read(remote::count_received).await.unwrap(), 5);
}

/// Records every POST it receives: (inbox path, activity id), in arrival order.
async fn recording_receiver() -> (u16, Arc<Mutex<Vec<(String, String)>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let shared = log.clone();
    let server = HttpServer::new(move || {
        let log = shared.clone();
        App::new().route(
            "/inbox/{n}",
            web::post().to(move |n: web::Path<String>, body: web::Bytes| {
                let log = log.clone();
                async move {
                    let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
                    // Slow enough that two workers would overlap if they could claim the same job.
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    log.lock().unwrap().push((n.into_inner(), value["id"].as_str().unwrap().to_string()));
                    HttpResponse::Accepted().finish()
                }
            }),
        )
    })
    .workers(2)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (port, log)
}

#[tokio::test]
async fn two_processes_sharing_the_queue_never_send_a_job_twice() {
    let first = spawn_app().await;
    // A second "process": its own pool, state and client on the same database.
    let config = test_config(first.port, &first.database_url, 0);
    let second = tokio::task::spawn_blocking(move || AppState::open(config)).await.unwrap().unwrap();
    let (port, log) = recording_receiver().await;
    let inboxes: Vec<String> = (0..4).map(|n| format!("http://localhost:{port}/inbox/{n}")).collect();
    let ids: Vec<String> = (0..12).map(|n| format!("{}#job-{n}", first.state.urls.activity("test"))).collect();
    queue_creates(&first, &ids, &inboxes).await;
    let (a, b) = tokio::join!(ronron::cli::drain_deliveries(&first.state), ronron::cli::drain_deliveries(&second));
    assert_eq!(a.unwrap() + b.unwrap(), 48);
    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), 48, "each job sent once");
    let mut per_inbox: HashMap<String, Vec<String>> = HashMap::new();
    for (inbox, id) in log {
        per_inbox.entry(inbox).or_default().push(id);
    }
    for (inbox, received) in per_inbox {
        assert_eq!(received, ids, "inbox {inbox} received every job once, in order");
    }
}

/// Stores a Create from `app`'s host account for each id, queued for each inbox, due now.
async fn queue_creates(app: &TestApp, ids: &[String], inboxes: &[String]) {
    let actor = app.state.urls.host_actor().to_string();
    let (ids, inboxes, now) = (ids.to_vec(), inboxes.to_vec(), app.clock.now());
    app.state
        .db
        .write(move |c| -> ronron::db::DbResult<()> {
            for id in &ids {
                let activity = queue::StoredActivity {
                    id: id.clone(),
                    kind: "Create".into(),
                    object_id: id.clone(),
                    json: serde_json::json!({"id": id, "type": "Create", "actor": actor}).to_string(),
                    created_at: now,
                };
                queue::store_and_enqueue(c, &activity, &inboxes, now)?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

/// Moves `app`'s clock to when its last waiting delivery is due, as time passing would (pauses
/// stay as they are).
async fn until_due(app: &TestApp) {
    let deliveries = app.state.db.read(queue::list_deliveries).await.unwrap();
    let due = deliveries.iter().filter(|d| d.status == queue::PENDING).map(|d| d.next_attempt_at).max();
    let due = due.expect("a waiting delivery");
    if due > app.clock.now() {
        app.clock.advance(due - app.clock.now());
    }
}

async fn inbox_health(app: &TestApp, inbox: &str) -> queue::InboxHealth {
    let health = app.state.db.read(queue::health).await.unwrap();
    health.into_iter().find(|h| h.inbox == inbox).unwrap_or_else(|| panic!("{inbox} is tracked"))
}

#[tokio::test]
async fn a_server_down_past_its_attempts_is_paused_nothing_is_lost_and_it_resumes_when_it_speaks() {
    // One clock for both: it dates their signatures and checks the other's.
    let clock = test_clock();
    let a = spawn_app_with_clock(0, clock.clone(), |c| c.delivery.max_attempts = 2).await;
    let b = spawn_app_with_clock(0, clock.clone(), |_| {}).await;
    b.follow(&a).await;
    let b = b.stop().await;
    activities_publish(&a, "Pendant la panne").await;
    assert_eq!(a.drain().await, 1, "first attempt fails");
    until_due(&a).await;
    assert_eq!(a.drain().await, 1, "second and last attempt fails: the inbox is paused");
    let health = a.state.db.read(queue::health).await.unwrap();
    assert!(health.iter().any(|h| h.paused_at.is_some()), "a paused inbox is visible: {health:?}");
    activities_publish(&a, "Toujours en panne").await;
    until_due(&a).await;
    assert_eq!(a.drain().await, 0, "nothing is attempted while paused");
    assert_eq!(a.state.db.read(|c| queue::count_by_status(c, queue::PENDING)).await.unwrap(), 2, "and nothing is lost");
    assert_eq!(a.state.db.read(|c| queue::count_by_status(c, queue::FAILED)).await.unwrap(), 0);

    // B comes back and sends something signed (it follows again): A resumes and delivers.
    let b = b.restart(None).await;
    ronron::app::peers::follow(&b.state, &b.data(), &a.actor_url()).await.unwrap();
    assert_eq!(b.drain().await, 1);
    assert_eq!(a.drain().await, 3, "the two waiting posts and the new Accept");
    assert!(a.state.db.read(queue::health).await.unwrap().iter().all(|h| h.paused_at.is_none()));
    assert_eq!(b.state.db.read(|c| remote::list_posts(c, 10)).await.unwrap().len(), 2);
}

async fn activities_publish(app: &crate::helpers::TestApp, title: &str) {
    publish::publish_news(&app.state, news(title)).await.unwrap();
}

#[tokio::test]
async fn an_inbox_failing_for_three_days_is_paused_and_resumes_when_its_server_speaks() {
    let clock = test_clock();
    let a = spawn_app_with_clock(0, clock.clone(), |_| {}).await;
    let b = spawn_app_with_clock(0, clock.clone(), |_| {}).await;
    b.follow(&a).await;
    let inbox = format!("http://localhost:{}/inbox", b.port);
    let b = b.stop().await;
    activities_publish(&a, "Panne longue").await;
    assert_eq!(a.drain().await, 1, "the first failure");
    let started = clock.now();
    // A failure a day: far from the 16 attempts, and not yet three days.
    for _ in 0..2 {
        clock.advance(Duration::days(1));
        assert_eq!(a.drain().await, 1);
    }
    clock.advance(queue::pause_after() - (clock.now() - started) - Duration::minutes(1));
    assert_eq!(a.drain().await, 1, "a minute short of three days");
    let health = inbox_health(&a, &inbox).await;
    assert_eq!((health.consecutive_failures, health.failing_since), (4, Some(started)));
    assert_eq!(health.paused_at, None, "not paused before three days");
    until_due(&a).await;
    assert!(clock.now() - started >= queue::pause_after());
    assert_eq!(a.drain().await, 1, "a failure three days after the first");
    let health = inbox_health(&a, &inbox).await;
    assert_eq!(health.consecutive_failures, 5);
    assert_eq!(health.paused_at, Some(clock.now()), "paused: {health:?}");
    activities_publish(&a, "Toujours en panne").await;
    clock.advance(Duration::days(1));
    assert_eq!(a.drain().await, 0, "nothing is attempted while paused");
    assert_eq!(a.state.db.read(|c| queue::count_by_status(c, queue::PENDING)).await.unwrap(), 2, "and nothing is lost");
    assert_eq!(a.state.db.read(|c| queue::count_by_status(c, queue::FAILED)).await.unwrap(), 0);

    // B comes back and sends something signed (it follows again): A resumes and delivers.
    let b = b.restart(None).await;
    ronron::app::peers::follow(&b.state, &b.data(), &a.actor_url()).await.unwrap();
    assert_eq!(b.drain().await, 1);
    let health = inbox_health(&a, &inbox).await;
    assert_eq!((health.paused_at, health.failing_since), (None, None), "resumed");
    assert_eq!(a.drain().await, 3, "the two waiting posts and the new Accept");
    assert_eq!(inbox_health(&a, &inbox).await.consecutive_failures, 0);
    assert_eq!(b.state.db.read(|c| remote::list_posts(c, 10)).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_job_leased_by_a_dead_worker_is_taken_over_once_its_lease_has_passed() {
    let clock = test_clock();
    let app = spawn_app_with_clock(0, clock.clone(), |_| {}).await;
    let (port, log) = recording_receiver().await;
    let id = format!("{}#leased", app.state.urls.activity("test"));
    queue_creates(&app, std::slice::from_ref(&id), &[format!("http://localhost:{port}/inbox/0")]).await;
    // A process on another machine claims the job, then dies before recording anything: nobody
    // restarts under its name, so its lease, no longer renewed, has to pass.
    let dead = delivery::register(&app.state, "elsewhere/127.0.0.1:1".into()).await.unwrap();
    let (owner, now) = (dead.id().to_string(), clock.now());
    let claimed = app.state.db.write(move |c| queue::claim_due(c, &owner, now, delivery::lease(), 16)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].0.locked_until, Some(now + delivery::lease()));
    assert_eq!(claimed[0].0.locked_by.as_deref(), Some(dead.id()));
    assert_eq!(delivery::lease(), Duration::seconds(30), "a short lease");
    assert_eq!(app.drain().await, 0, "leased: no other worker takes it");
    clock.advance(delivery::lease() - Duration::seconds(1));
    assert_eq!(app.drain().await, 0, "not before the lease has passed");
    clock.advance(Duration::seconds(2));
    assert_eq!(app.drain().await, 1, "then another worker takes it over");
    assert_eq!(*log.lock().unwrap(), vec![("0".to_string(), id)], "sent once");
    assert_eq!(app.state.db.read(|c| queue::count_by_status(c, queue::DELIVERED)).await.unwrap(), 1);
}

#[tokio::test]
async fn a_lease_is_renewed_while_its_job_is_in_flight_and_only_its_holder_renews_it() {
    let clock = test_clock();
    let app = spawn_app_with_clock(0, clock.clone(), |_| {}).await;
    let ids: Vec<String> = (0..2).map(|n| format!("{}#renewed-{n}", app.state.urls.activity("test"))).collect();
    queue_creates(&app, &ids[..1], &["http://localhost:1/inbox/a".to_string()]).await;
    queue_creates(&app, &ids[1..], &["http://localhost:1/inbox/b".to_string()]).await;
    let sender = delivery::register(&app.state, "here/127.0.0.1:2".into()).await.unwrap();
    let other = delivery::register(&app.state, "there/127.0.0.1:3".into()).await.unwrap();
    let claim = |owner: &delivery::Owner, limit| {
        let (owner, now) = (owner.id().to_string(), clock.now());
        app.state.db.write(move |c| queue::claim_due(c, &owner, now, delivery::lease(), limit))
    };
    let mine = claim(&sender, 1).await.unwrap();
    let theirs = claim(&other, 1).await.unwrap();
    assert_eq!((mine.len(), theirs.len()), (1, 1));
    // Nothing in flight: a heartbeat renews no lease.
    clock.advance(Duration::seconds(20));
    assert_eq!(delivery::renew(&app.state, &sender).await.unwrap(), 0);
    // The holder is sending its job: every heartbeat renews that lease, and only that one.
    let in_flight = vec![mine[0].0.id, theirs[0].0.id];
    let (owner, name, now) = (sender.id().to_string(), sender.name().to_string(), clock.now());
    let renewed = app
        .state
        .db
        .write(move |c| queue::renew_leases(c, &owner, &name, &in_flight, now, delivery::lease()))
        .await
        .unwrap();
    assert_eq!(renewed, 1, "its own lease only");
    clock.advance(Duration::seconds(20));
    let rows = app.state.db.read(queue::list_deliveries).await.unwrap();
    let row = |id: i64| rows.iter().find(|d| d.id == id).unwrap().clone();
    assert_eq!(row(mine[0].0.id).locked_until, Some(now + delivery::lease()));
    assert!(row(theirs[0].0.id).locked_until.unwrap() < clock.now(), "the other's lease was not renewed");
    assert_eq!(app.drain().await, 1, "the other's lapsed lease is taken over, the renewed one is not");
}

#[tokio::test]
async fn a_restarted_process_takes_back_its_own_leases_at_once_and_never_a_live_processs() {
    let clock = test_clock();
    let app = spawn_app_with_clock(0, clock.clone(), |_| {}).await;
    let (port, log) = recording_receiver().await;
    let ids: Vec<String> = (0..2).map(|n| format!("{}#reclaimed-{n}", app.state.urls.activity("test"))).collect();
    queue_creates(&app, &ids[..1], &[format!("http://localhost:{port}/inbox/0")]).await;
    queue_creates(&app, &ids[1..], &[format!("http://localhost:{port}/inbox/1")]).await;
    let crashed = delivery::register(&app.state, "here/127.0.0.1:2".into()).await.unwrap();
    let live = delivery::register(&app.state, "here/127.0.0.1:3".into()).await.unwrap();
    for owner in [&crashed, &live] {
        let (owner, now) = (owner.id().to_string(), clock.now());
        let claimed =
            app.state.db.write(move |c| queue::claim_due(c, &owner, now, delivery::lease(), 1)).await.unwrap();
        assert_eq!(claimed.len(), 1);
    }
    assert_eq!(app.drain().await, 0, "both leased");
    // The crashed one starts again under its name, within its lease: it releases what it held.
    let again = delivery::register(&app.state, crashed.name().to_string()).await.unwrap();
    assert_ne!(again.id(), crashed.id(), "a new identity at every start");
    let processes = app.state.db.read(queue::list_processes).await.unwrap();
    let names: Vec<&str> = processes.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["here/127.0.0.1:2", "here/127.0.0.1:3"], "its previous life is gone: {processes:?}");
    assert_eq!(app.drain().await, 1, "its job is due again at once, the live process's is not");
    assert_eq!(*log.lock().unwrap(), vec![("0".to_string(), ids[0].clone())]);
    let rows = app.state.db.read(queue::list_deliveries).await.unwrap();
    assert_eq!(rows.iter().filter(|d| d.locked_by.as_deref() == Some(live.id())).count(), 1, "{rows:?}");
    // A clean stop releases what is still held.
    assert_eq!(delivery::unregister(&app.state, &live).await.unwrap(), 1);
    assert_eq!(app.drain().await, 1);
    assert_eq!(app.state.db.read(|c| queue::count_by_status(c, queue::DELIVERED)).await.unwrap(), 2);
}

#[tokio::test]
async fn an_activity_a_live_server_keeps_refusing_is_given_up_and_the_queue_moves_on() {
    let app = spawn_app_with_clock(0, test_clock(), |c| c.delivery.max_attempts = 2).await;
    // A server that answers 500 to the first activity it is sent and 202 to others.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let first: Arc<Mutex<Option<String>>> = Arc::default();
    let accepted: Arc<Mutex<Vec<String>>> = Arc::default();
    let (f, a) = (first.clone(), accepted.clone());
    let server = HttpServer::new(move || {
        let (first, accepted) = (f.clone(), a.clone());
        App::new().route(
            "/inbox",
            web::post().to(move |body: web::Bytes| {
                let (first, accepted) = (first.clone(), accepted.clone());
                async move {
                    let id =
                        serde_json::from_slice::<serde_json::Value>(&body).unwrap()["id"].as_str().unwrap().to_string();
                    let mut first = first.lock().unwrap();
                    if first.get_or_insert(id.clone()) == &id {
                        return HttpResponse::InternalServerError().finish();
                    }
                    accepted.lock().unwrap().push(id);
                    HttpResponse::Accepted().finish()
                }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    let inbox = format!("http://localhost:{port}/inbox");
    let ids: Vec<String> = (0..2).map(|n| format!("{}#{n}", app.state.urls.activity("refused"))).collect();
    queue_creates(&app, &ids, std::slice::from_ref(&inbox)).await;
    assert_eq!(app.drain().await, 1, "500 on the first");
    until_due(&app).await;
    assert_eq!(app.drain().await, 2, "500 again: given up; then the second goes out");
    assert_eq!(*accepted.lock().unwrap(), vec![ids[1].clone()]);
    assert_eq!(app.state.db.read(|c| queue::count_by_status(c, queue::FAILED)).await.unwrap(), 1);
    assert!(
        app.state.db.read(queue::health).await.unwrap().iter().all(|h| h.paused_at.is_none()),
        "a live server is not paused"
    );
}

#[tokio::test]
async fn a_panic_inside_a_write_rolls_it_back_and_leaves_every_connection_usable() {
    use ronron::db::models::settings;
    let app = spawn_app().await;
    let db = app.state.db.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = db.write_blocking(|c| -> ronron::db::DbResult<()> {
                settings::put(c, "test.half", "written")?;
                panic!("a bug in the middle of a transaction");
            });
        }))
    })
    .await
    .unwrap();
    assert!(outcome.is_err(), "the panic reaches the caller");
    // More writes than the pool has connections: none is stuck in the panicked transaction.
    for i in 0..8 {
        let key = format!("test.after{i}");
        app.state.db.write(move |c| settings::put(c, &key, "ok")).await.expect("the pool writes again");
    }
    assert_eq!(app.state.db.read(|c| settings::get(c, "test.half")).await.unwrap(), None, "nothing half-written");
}
