//! What Mastodon fetches: WebFinger, actors, collections, Notes, NodeInfo — unsigned.

use crate::helpers::spawn_app;
use ronron::{app::bulletins as publish, bulletin::NewsDraft};
use serde_json::Value;

const AP: &str = "application/activity+json";

async fn get(url: &str, accept: &str) -> (u16, String, Value) {
    let response = reqwest::Client::new().get(url).header("accept", accept).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let text = response.text().await.unwrap();
    (status, content_type, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test]
async fn webfinger_round_trips_for_both_actors() {
    let app = spawn_app().await;
    let domain = format!("localhost:{}", app.port);
    let (status, content_type, doc) =
        get(&format!("{}/.well-known/webfinger?resource=acct:bulletin@{domain}", app.base()), "*/*").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("application/jrd+json"));
    assert_eq!(doc["subject"], format!("acct:bulletin@{domain}"));
    let self_link = doc["links"].as_array().unwrap().iter().find(|l| l["rel"] == "self").unwrap();
    assert_eq!(self_link["type"], AP);
    assert_eq!(self_link["href"], app.actor_url().as_str());

    // Mastodon checks preferredUsername@host of every signing actor, the instance actor too.
    for actor_url in [app.actor_url().to_string(), app.state.urls.instance_actor().to_string()] {
        let (status, content_type, actor) = get(&actor_url, AP).await;
        assert_eq!(status, 200);
        assert!(content_type.starts_with(AP), "{content_type}");
        let handle = format!("acct:{}@{domain}", actor["preferredUsername"].as_str().unwrap());
        let (status, _, doc) = get(&format!("{}/.well-known/webfinger?resource={handle}", app.base()), "*/*").await;
        assert_eq!(status, 200, "{handle}");
        let href = doc["links"].as_array().unwrap().iter().find(|l| l["rel"] == "self").unwrap()["href"].clone();
        assert_eq!(href, actor["id"]);
    }
    let (status, _, _) =
        get(&format!("{}/.well-known/webfinger?resource=acct:nobody@{domain}", app.base()), "*/*").await;
    assert_eq!(status, 404);
    let (status, _, doc) = get(&format!("{}/.well-known/webfinger", app.base()), "*/*").await;
    assert_eq!(status, 400);
    assert!(doc["error"].as_str().unwrap().contains("resource"));
    let (status, content_type, body) = get(&format!("{}/.well-known/host-meta", app.base()), "*/*").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("application/xrd+xml"));
    assert!(body.as_str().unwrap().contains("/.well-known/webfinger?resource={uri}"));
}

#[tokio::test]
async fn the_host_actor_has_every_field_mastodon_reads() {
    let app = spawn_app().await;
    let (status, _, actor) =
        get(app.actor_url().as_str(), "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"").await;
    assert_eq!(status, 200);
    assert_eq!(actor["@context"][0], "https://www.w3.org/ns/activitystreams");
    assert_eq!(actor["type"], "Organization");
    assert_eq!(actor["id"], app.actor_url().as_str());
    assert_eq!(actor["preferredUsername"], "bulletin");
    assert_eq!(actor["inbox"], format!("{}/u/bulletin/inbox", app.base()));
    assert_eq!(actor["endpoints"]["sharedInbox"], format!("{}/inbox", app.base()));
    assert_eq!(actor["publicKey"]["id"], format!("{}#main-key", app.actor_url()));
    assert_eq!(actor["publicKey"]["owner"], app.actor_url().as_str());
    assert!(actor["publicKey"]["publicKeyPem"].as_str().unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));
    for field in ["outbox", "followers", "following", "featured", "published", "name", "url"] {
        assert!(actor[field].is_string(), "{field} missing");
    }
    assert_eq!(actor["manuallyApprovesFollowers"], false);
    assert_eq!(actor["discoverable"], true);
    let (_, _, followers) = get(actor["followers"].as_str().unwrap(), AP).await;
    assert_eq!(followers["totalItems"], 0);
    let (_, _, instance) = get(app.state.urls.instance_actor().as_str(), AP).await;
    assert_eq!(instance["type"], "Application");
    let (status, content_type, _) = get(app.actor_url().as_str(), "text/html").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"));
    let (status, _, _) = get(&format!("{}/u/someone-else", app.base()), AP).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn bulletins_are_notes_in_the_outbox_and_tombstones_once_deleted() {
    let app = spawn_app().await;
    let bulletin = publish::publish_news(
        &app.state,
        NewsDraft { title: "Bonjour".into(), body_markdown: "Le *premier*.".into(), lang: None },
    )
    .await
    .unwrap();
    let url = app.state.urls.bulletin(&bulletin.id).to_string();
    let (status, _, note) = get(&url, AP).await;
    assert_eq!(status, 200);
    assert_eq!(note["type"], "Note");
    assert_eq!(note["id"], url);
    assert_eq!(note["attributedTo"], app.actor_url().as_str());
    assert_eq!(note["to"][0], "https://www.w3.org/ns/activitystreams#Public");
    assert_eq!(note["cc"][0], format!("{}/followers", app.actor_url()));
    assert_eq!(note["contentMap"]["fr"], note["content"]);
    assert!(note.get("summary").is_none(), "no content warning unless meant");

    let (_, _, outbox) = get(&format!("{}/outbox", app.actor_url()), AP).await;
    assert_eq!(outbox["totalItems"], 1);
    let (_, _, page) = get(outbox["first"].as_str().unwrap(), AP).await;
    assert_eq!(page["type"], "OrderedCollectionPage");
    assert_eq!(page["orderedItems"][0]["type"], "Create");
    assert_eq!(page["orderedItems"][0]["object"]["id"], url);
    let create_id = page["orderedItems"][0]["id"].as_str().unwrap().to_string();
    let (status, _, create) = get(&create_id, AP).await;
    assert_eq!(status, 200);
    assert_eq!(create["object"]["id"], url);

    let (status, content_type, html) = get(&url, "text/html").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"));
    assert!(html.as_str().unwrap().contains("<em>premier</em>"));
    assert!(html.as_str().unwrap().contains("rel=\"alternate\" type=\"application/activity+json\""));
    assert!(
        html.as_str().unwrap().contains("<meta property=\"og:title\" content=\"Bonjour\">"),
        "OpenGraph for preview cards"
    );

    publish::delete_bulletin(&app.state, &bulletin.id).await.unwrap();
    let (status, _, tombstone) = get(&url, AP).await;
    assert_eq!(status, 410);
    assert_eq!(tombstone["type"], "Tombstone");
    assert_eq!(tombstone["id"], url);
    let (status, _, _) = get(&url, "text/html").await;
    assert_eq!(status, 410);
    let (status, _, gone) = get(&create_id, AP).await;
    assert_eq!(status, 410, "the Create of a deleted bulletin no longer shows it");
    assert_eq!(gone["type"], "Tombstone");

    let (status, _, nodeinfo) = get(&format!("{}/nodeinfo/2.1", app.base()), "application/json").await;
    assert_eq!(status, 200);
    assert_eq!(nodeinfo["software"]["name"], "ronron");
    assert_eq!(nodeinfo["usage"]["localPosts"], 0);
}
