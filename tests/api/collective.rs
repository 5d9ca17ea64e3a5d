//! The collective role: a collective K whose Group re-shares the bulletins of its members A and B
//! (added by its admin) and C (joined through the flow), never those of an outsider X, to a
//! follower F that follows only K. Real instances on loopback, real signatures.

use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use ronron::{
    app::{
        bulletins::{self as publish, NewsEdit},
        collective::{self, MemberState},
    },
    bulletin::NewsDraft,
    config::CollectiveConfig,
    db::models::{activities as queue, collective as roster, remote},
};
use serde_json::{json, Value};

pub(crate) fn news(title: &str) -> NewsDraft {
    NewsDraft { title: title.into(), body_markdown: format!("{title}: details."), lang: None }
}

pub(crate) async fn spawn_collective(adjust: impl FnOnce(&mut CollectiveConfig)) -> TestApp {
    let mut collective = CollectiveConfig::default();
    adjust(&mut collective);
    spawn_app_with(0, move |c| c.collective = Some(collective)).await
}

pub(crate) async fn has_post(app: &TestApp, id: &str) -> bool {
    let id = id.to_string();
    app.state.db.read(move |c| remote::find_post(c, &id)).await.unwrap().is_some()
}

/// The activities K sent to `inbox`, as (type, JSON, delivery state), oldest first.
pub(crate) async fn sent_to(k: &TestApp, inbox: &str) -> Vec<(String, Value, String)> {
    let inbox = inbox.to_string();
    k.state
        .db
        .read(move |c| {
            let mut out = Vec::new();
            for d in queue::list_deliveries(c)?.into_iter().filter(|d| d.inbox == inbox) {
                let activity = queue::find_activity(c, &d.activity_id)?.expect("stored");
                out.push((activity.kind, serde_json::from_str(&activity.json).unwrap(), d.status.to_string()));
            }
            Ok(out)
        })
        .await
        .unwrap()
}

pub(crate) fn announces_of(sent: &[(String, Value, String)], object: &str) -> usize {
    sent.iter().filter(|(kind, json, _)| kind == "Announce" && json["object"] == object).count()
}

/// K's admin adds `member`: K follows it (its Follow, then the member's Accept).
pub(crate) async fn add(k: &TestApp, member: &TestApp) {
    let added = collective::add_member(&k.state, &k.data(), member.actor_url().as_str()).await.unwrap();
    assert_eq!(added.state, MemberState::Approved);
    k.drain().await;
    member.drain().await;
}

/// Posts `activity` to `to`'s shared inbox signed with `from`'s host key; the answer's status.
pub(crate) async fn send_signed(from: &TestApp, key_id: &str, to: &str, activity: &Value, instance_key: bool) -> u16 {
    let inbox = url::Url::parse(to).unwrap();
    let body = serde_json::to_vec(activity).unwrap();
    let host = from.state.keys.host();
    let signer = if instance_key { &from.state.keys.instance.signer } else { &host.signer };
    let headers =
        ronron::federation::signatures::sign_post(&inbox, &body, key_id, signer, from.clock.system_time()).unwrap();
    let mut request = reqwest::Client::new().post(inbox).body(body);
    for (name, value) in &headers {
        if name != "host" {
            request = request.header(name, value);
        }
    }
    request.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn the_group_reshares_members_bulletins_once_to_its_followers() {
    let k = spawn_collective(|_| {}).await;
    let (a, b, x, c, f) =
        (spawn_app().await, spawn_app().await, spawn_app().await, spawn_app().await, spawn_app().await);
    let group = k.state.urls.group_actor();

    // The Group is a second local actor, found by WebFinger.
    let finger: Value =
        reqwest::get(format!("{}/.well-known/webfinger?resource=acct:collectif@localhost:{}", k.base(), k.port))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(finger["links"][1]["href"], group.as_str(), "{finger}");
    let actor: Value = reqwest::Client::new()
        .get(group.clone())
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(actor["type"], "Group");
    assert_eq!(actor["members"], k.state.urls.group_members().as_str());
    assert_ne!(actor["publicKey"]["publicKeyPem"], k.state.keys.host().public_key_pem.as_str(), "its own key");

    // A and B are added by K's admin; X is only followed; C asks to join and is approved.
    add(&k, &a).await;
    add(&k, &b).await;
    k.follow(&x).await;
    let join = collective::join(&c.state, &c.data(), group.as_str()).await.unwrap();
    assert_eq!(join.state, roster::JoinState::Pending);
    c.drain().await; // its Follow of the Group and its Join
    k.drain().await; // the Group's Accept of the Follow
    let pending = collective::list_members(&k.state, Some(MemberState::Pending)).await.unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].actor_id, c.actor_url().as_str());
    assert!(!collective::is_member(&k.state, c.actor_url().as_str()).await.unwrap(), "pending is not a member");
    collective::add_member(&k.state, &k.data(), &pending[0].handle).await.unwrap(); // approval
    k.drain().await; // Accept{Join} and K's Follow of C
    c.drain().await; // C's Accept of that Follow
    let joins = collective::join_requests(&c.state).await.unwrap();
    assert_eq!(joins[0].state, roster::JoinState::Accepted, "C sees that it was accepted");
    assert!(collective::is_member(&k.state, c.actor_url().as_str()).await.unwrap());

    // F follows only K's Group.
    ronron::app::peers::follow(&f.state, &f.data(), &group).await.unwrap();
    f.drain().await;
    k.drain().await;
    let followers = collective::followers(&k.state, Some(false)).await.unwrap();
    assert!(followers.iter().any(|x| x.follower.actor_id == f.actor_url().as_str()));
    let f_inbox = f.state.urls.shared_inbox().to_string();

    // A and B post: F gets both as Announces from the Group (F fetches and stores the posts).
    let from_a = publish::publish_news(&a.state, news("Maintenance chez A")).await.unwrap();
    let from_b = publish::publish_news(&b.state, news("Incident chez B")).await.unwrap();
    let (a_note, b_note) =
        (a.state.urls.bulletin(&from_a.id).to_string(), b.state.urls.bulletin(&from_b.id).to_string());
    a.drain().await;
    b.drain().await;
    k.drain().await;
    assert!(has_post(&f, &a_note).await && has_post(&f, &b_note).await, "F stored both re-shared bulletins");
    let sent = sent_to(&k, &f_inbox).await;
    for note in [&a_note, &b_note] {
        let announce = sent.iter().find(|(kind, json, _)| kind == "Announce" && json["object"] == note.as_str());
        let (_, json, status) = announce.expect("an Announce of each");
        assert_eq!(status, "delivered", "F's inbox verified the Group's signature and answered 202");
        assert_eq!(json["actor"], group.as_str());
        assert_eq!(json["to"], json!(["https://www.w3.org/ns/activitystreams#Public"]));
        assert_eq!(json["cc"], json!([k.state.urls.group_followers().as_str()]));
    }

    // X posts: it is followed by K, but not a member: nothing is re-shared.
    let from_x = publish::publish_news(&x.state, news("Chez X")).await.unwrap();
    let x_note = x.state.urls.bulletin(&from_x.id).to_string();
    x.drain().await;
    assert!(has_post(&k, &x_note).await, "K keeps it in its timeline");
    k.drain().await;
    assert!(!has_post(&f, &x_note).await);
    assert_eq!(announces_of(&sent_to(&k, &f_inbox).await, &x_note), 0);

    // The same bulletin reaching K a second time, through B's Announce of it: announced once.
    let announce = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/boost-of-a", b.base()),
        "type": "Announce",
        "actor": b.actor_url(),
        "object": a_note,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    });
    let status =
        send_signed(&b, &b.state.urls.host_key_id(), k.state.urls.shared_inbox().as_str(), &announce, false).await;
    assert_eq!(status, 202);
    k.drain().await;
    assert_eq!(announces_of(&sent_to(&k, &f_inbox).await, &a_note), 1, "one Announce per bulletin");
    let key = a_note.clone();
    assert!(k.state.db.read(move |c| roster::find_reshare(c, &key)).await.unwrap().is_some());
    let (state, note) = (k.state.clone(), a_note.clone());
    let again = k.state.db.write(move |c| collective_reshare_again(c, &state, &note)).await.unwrap();
    assert!(!again, "the unique key refuses a second re-share");

    // A edits: its Update carries A's FEP-8b32 proof; K checks it with A's key and forwards the
    // Update as A sent it; F, which follows only K, accepts it on that proof and shows the edit.
    publish::edit_news(
        &a.state,
        &from_a.id,
        NewsEdit { body_markdown: Some("Reportée.".into()), ..Default::default() },
    )
    .await
    .unwrap();
    a.drain().await;
    k.drain().await;
    let sent = sent_to(&k, &f_inbox).await;
    let forwarded = sent.iter().find(|(kind, json, _)| kind == "Forward" && json["type"] == "Update");
    let (_, json, status) = forwarded.expect("A's Update forwarded to F");
    assert_eq!(json["actor"], a.actor_url().as_str(), "the member's own activity, verbatim");
    assert_eq!(json["proof"]["verificationMethod"], format!("{}#ed25519-key", a.actor_url()));
    assert_eq!(status, "delivered", "F accepted it on A's proof");
    let key = a_note.clone();
    let stored = f.state.db.read(move |c| remote::find_post(c, &key)).await.unwrap().unwrap();
    assert!(stored.content_html.contains("Reportée."), "F shows the edit: {}", stored.content_html);

    // A deletes: F gets Undo{Announce} of the Group's Announce.
    publish::delete_bulletin(&a.state, &from_a.id).await.unwrap();
    a.drain().await;
    k.drain().await;
    let sent = sent_to(&k, &f_inbox).await;
    let announce_id =
        sent.iter().find(|(k, j, _)| k == "Announce" && j["object"] == a_note.as_str()).unwrap().1["id"].clone();
    let (_, undo, status) = sent.iter().find(|(kind, _, _)| kind == "Undo").expect("an Undo");
    assert_eq!(undo["object"]["type"], "Announce");
    assert_eq!(undo["object"]["id"], announce_id);
    assert_eq!(undo["object"]["object"], a_note.as_str());
    assert_eq!(status, "delivered");

    // B posts, and is removed before the Group's Announce is sent: the Announce is dropped.
    let late = publish::publish_news(&b.state, news("Trop tard")).await.unwrap();
    let late_note = b.state.urls.bulletin(&late.id).to_string();
    b.drain().await;
    let removed = collective::remove_member(&k.state, b.actor_url().as_str()).await.unwrap();
    assert!(removed.dropped_deliveries >= 1, "{removed:?}");
    k.drain().await;
    assert!(!has_post(&f, &late_note).await);
    assert!(sent_to(&k, &f_inbox)
        .await
        .iter()
        .all(|(kind, j, s)| kind != "Announce" || j["object"] != late_note.as_str() || s == "failed"));

    // A is removed; even if K's host follows it again as a plain peer, its bulletins are not
    // re-shared.
    collective::remove_member(&k.state, a.actor_url().as_str()).await.unwrap();
    k.drain().await;
    a.drain().await;
    k.follow(&a).await;
    let after = publish::publish_news(&a.state, news("Après le départ")).await.unwrap();
    let after_note = a.state.urls.bulletin(&after.id).to_string();
    a.drain().await;
    assert!(has_post(&k, &after_note).await);
    k.drain().await;
    assert_eq!(announces_of(&sent_to(&k, &f_inbox).await, &after_note), 0);

    // The roster is public, on the Group.
    let members: Value = reqwest::Client::new()
        .get(k.state.urls.group_members())
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(members["orderedItems"], json!([c.actor_url().as_str()]), "{members}");
}

fn collective_reshare_again(
    c: &mut ronron::db::DbConnection,
    state: &ronron::state::AppState,
    note: &str,
) -> ronron::db::DbResult<bool> {
    let now = state.clock.now();
    ronron::federation::collective::reshare(c, state, "http://nobody.example/u/x", note, now)
}

#[tokio::test]
async fn a_mastodon_style_relay_subscription_gets_members_bulletins() {
    let k = spawn_collective(|c| c.relay = true).await;
    let (a, m) = (spawn_app().await, spawn_app().await);
    add(&k, &a).await;
    // Mastodon's relay Follow: from its instance actor (an Application), to the relay's inbox.
    let follow = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/relay-follow", m.base()),
        "type": "Follow",
        "actor": m.state.urls.instance_actor(),
        "object": "https://www.w3.org/ns/activitystreams#Public",
    });
    let inbox = k.state.urls.group_inbox().to_string();
    assert_eq!(send_signed(&m, &m.state.urls.instance_key_id(), &inbox, &follow, true).await, 202);
    let relays = collective::followers(&k.state, Some(true)).await.unwrap();
    assert_eq!(relays.len(), 1);
    assert_eq!(relays[0].follower.actor_id, m.state.urls.instance_actor().as_str());
    k.drain().await;
    let to_m = m.state.urls.shared_inbox().to_string();
    let answer_inbox = m.state.urls.instance_inbox().to_string();
    let (kind, accept, status) = sent_to(&k, &answer_inbox).await.into_iter().next().expect("an answer");
    assert_eq!((kind.as_str(), status.as_str()), ("Accept", "delivered"));
    assert_eq!(accept["object"]["id"], follow["id"], "Mastodon finds its relay by the Follow's id");
    assert_eq!(accept["actor"], k.state.urls.group_actor().as_str());

    // A member's bulletin reaches the relay subscriber as an Announce from the actor whose inbox
    // is the relay URL the admin typed.
    let bulletin = publish::publish_news(&a.state, news("Relayé")).await.unwrap();
    a.drain().await;
    k.drain().await;
    let note = a.state.urls.bulletin(&bulletin.id).to_string();
    assert_eq!(announces_of(&sent_to(&k, &to_m).await, &note), 1);

    // A relay Follow from a person's account is not a subscription.
    let person = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/person-follow", a.base()),
        "type": "Follow",
        "actor": a.actor_url(),
        "object": "https://www.w3.org/ns/activitystreams#Public",
    });
    assert_eq!(send_signed(&a, &a.state.urls.host_key_id(), &inbox, &person, false).await, 202);
    assert_eq!(collective::followers(&k.state, Some(true)).await.unwrap().len(), 1);
}

#[tokio::test]
async fn relay_mode_off_rejects_and_hostile_peers_get_nothing_reshared() {
    let k = spawn_collective(|c| c.max_reshares_per_hour = 1).await;
    let (a, x) = (spawn_app().await, spawn_app().await);
    add(&k, &a).await;
    // Relay mode is off: the subscription is answered with Reject and not stored.
    let follow = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/relay-follow", x.base()),
        "type": "Follow",
        "actor": x.state.urls.instance_actor(),
        "object": "https://www.w3.org/ns/activitystreams#Public",
    });
    let inbox = k.state.urls.group_inbox().to_string();
    assert_eq!(send_signed(&x, &x.state.urls.instance_key_id(), &inbox, &follow, true).await, 202);
    assert!(collective::followers(&k.state, Some(true)).await.unwrap().is_empty());
    k.drain().await;
    let answers = sent_to(&k, x.state.urls.instance_inbox().as_str()).await;
    assert_eq!(answers[0].0, "Reject");

    // A Join forged "on behalf of" A, signed by X: refused, the roster unchanged.
    let forged = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/forged-join", a.base()),
        "type": "Join",
        "actor": a.actor_url(),
        "object": k.state.urls.group_actor(),
    });
    assert_eq!(send_signed(&x, &x.state.urls.host_key_id(), &inbox, &forged, false).await, 401);
    assert_eq!(collective::list_members(&k.state, None).await.unwrap().len(), 1);

    // A member that floods: past max_reshares_per_hour its bulletins wait, nothing more is announced.
    let first = publish::publish_news(&a.state, news("Un")).await.unwrap();
    let second = publish::publish_news(&a.state, news("Deux")).await.unwrap();
    a.drain().await;
    let (one, two) = (a.state.urls.bulletin(&first.id).to_string(), a.state.urls.bulletin(&second.id).to_string());
    let announced = k
        .state
        .db
        .read(move |c| {
            Ok((queue::count_for_object(c, &one, "Announce")?, queue::count_for_object(c, &two, "Announce")?))
        })
        .await
        .unwrap();
    assert_eq!(announced, (1, 0));
}
