//! Object integrity proofs (FEP-8b32, `eddsa-jcs-2022`) and our Ed25519 keys (FEP-521a): what we
//! sign, and what an inbox accepts when the HTTP signer is not the activity's actor.

use crate::collective::{news, spawn_collective};
use crate::helpers::{spawn_app, TestApp};
use ronron::{
    app::bulletins::{self as publish, NewsEdit},
    db::models::{activities as queue, remote},
    federation::{proofs, rfc9421::ed25519_key_of},
};
use serde_json::Value;

async fn actor_doc(url: &str) -> Value {
    crate::golden::fetch(url).await
}

/// The stored (queued) activity of `kind` about `object_id`.
async fn stored(app: &TestApp, object_id: &str, kind: &'static str) -> Value {
    let id = object_id.to_string();
    let row = app.state.db.read(move |c| queue::latest_for_object(c, &id, kind)).await.unwrap().expect("queued");
    serde_json::from_str(&row.json).unwrap()
}

/// Posts `activity` to `to`'s shared inbox, HTTP-signed by `from`'s host account: status and body.
async fn forward(from: &TestApp, to: &TestApp, activity: &Value) -> (u16, String) {
    let inbox = to.state.urls.shared_inbox();
    let body = serde_json::to_vec(activity).unwrap();
    let key_id = from.state.urls.host_key_id();
    let host = from.state.keys.host();
    let headers =
        ronron::federation::signatures::sign_post(&inbox, &body, &key_id, &host.signer, from.clock.system_time())
            .unwrap();
    let mut request = reqwest::Client::new().post(inbox).body(body);
    for (name, value) in &headers {
        if name != "host" {
            request = request.header(name, value);
        }
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn our_actors_publish_their_ed25519_key_and_sign_bulletin_activities() {
    let k = spawn_collective(|_| {}).await;
    for actor in [k.state.urls.host_actor(), k.state.urls.instance_actor(), k.state.urls.group_actor()] {
        let doc = actor_doc(actor.as_str()).await;
        let method = &doc["assertionMethod"][0];
        assert_eq!(method["id"], format!("{actor}#ed25519-key"), "{doc}");
        assert_eq!(method["type"], "Multikey");
        assert_eq!(method["controller"], actor.as_str());
        assert!(method["publicKeyMultibase"].as_str().unwrap().starts_with("z6Mk"), "{method}");
        assert!(doc["@context"].to_string().contains("https://w3id.org/security/multikey/v1"));
    }
    // The key is made once: a restart publishes the same.
    let before = actor_doc(k.state.urls.host_actor().as_str()).await["assertionMethod"].clone();
    let k = k.stop().await.restart(None).await;
    let host_doc = actor_doc(k.state.urls.host_actor().as_str()).await;
    assert_eq!(host_doc["assertionMethod"], before, "the same key after a restart");
    let host_doc = host_doc.to_string();
    let key_id = format!("{}#ed25519-key", k.state.urls.host_actor());
    let public = ed25519_key_of(&host_doc, &key_id).expect("an Ed25519 Multikey of the actor");

    let b = publish::publish_news(&k.state, news("Signé")).await.unwrap();
    let note = k.state.urls.bulletin(&b.id).to_string();
    publish::edit_news(&k.state, &b.id, NewsEdit { body_markdown: Some("Modifié.".into()), ..Default::default() })
        .await
        .unwrap();
    publish::delete_bulletin(&k.state, &b.id).await.unwrap();
    for kind in ["Create", "Update", "Delete"] {
        let activity = stored(&k, &note, kind).await;
        let proof = &activity["proof"];
        assert_eq!(proof["type"], "DataIntegrityProof", "{kind}: {activity}");
        assert_eq!(proof["cryptosuite"], "eddsa-jcs-2022");
        assert_eq!(proof["proofPurpose"], "assertionMethod");
        assert_eq!(proof["verificationMethod"], key_id.as_str());
        assert_eq!(proof["@context"], activity["@context"]);
        assert!(!proof["created"].as_str().unwrap().contains('.'), "to the second");
        assert_eq!(proofs::verify(&activity, &public), Ok(()), "{kind}");
        let mut altered = activity.clone();
        altered["object"]["id"] = Value::String(format!("{note}-other"));
        assert_eq!(proofs::verify(&altered, &public), Err(proofs::ProofError::Mismatch));
    }
}

#[tokio::test]
async fn a_forwarded_update_is_applied_only_with_a_valid_proof_of_its_actor() {
    let (a, x, f) = (spawn_app().await, spawn_app().await, spawn_app().await);
    f.follow(&a).await;
    let b = publish::publish_news(&a.state, news("Maintenance")).await.unwrap();
    a.drain().await;
    let note = a.state.urls.bulletin(&b.id).to_string();
    let content = |f: &TestApp| {
        let (state, note) = (f.state.clone(), note.clone());
        async move { state.db.read(move |c| remote::find_post(c, &note)).await.unwrap().unwrap().content_html }
    };
    assert!(content(&f).await.contains("Maintenance"));
    // A edits; its Update is not delivered by A: X forwards it to F.
    publish::edit_news(&a.state, &b.id, NewsEdit { body_markdown: Some("Reportée.".into()), ..Default::default() })
        .await
        .unwrap();
    let genuine = stored(&a, &note, "Update").await;
    let mut unsigned = genuine.clone();
    unsigned.as_object_mut().unwrap().remove("proof");
    let at = a.clock.now();
    let x_key = &x.state.keys.ed25519.host();
    let a_key_id = format!("{}#ed25519-key", a.actor_url());
    let x_key_id = format!("{}#ed25519-key", x.actor_url());
    let mut tampered = genuine.clone();
    tampered["object"]["content"] = Value::String("<p>Annulée.</p>".into());
    let mut other_suite = genuine.clone();
    other_suite["proof"]["cryptosuite"] = Value::String("eddsa-rdfc-2022".into());
    let mut overlong = genuine.clone();
    overlong["proof"]["proofValue"] = Value::String(format!("z{}", "2".repeat(100_000)));
    let create = stored(&a, &note, "Create").await;
    let hostile = [
        ("no proof", unsigned.clone(), "no object integrity proof"),
        ("a proofValue of 100 kB", overlong, "is not `z` + a base58btc"),
        (
            "a proof made tomorrow",
            proofs::sign(&unsigned, &a.state.keys.ed25519.host(), &a_key_id, at + chrono::Duration::days(1)).unwrap(),
            "created in the future",
        ),
        ("A's genuine Create, replayed by X", create, "only an Update or a Delete"),
        ("tampered content", tampered, "does not match"),
        ("another cryptosuite", other_suite, "eddsa-rdfc-2022"),
        ("X's own key", proofs::sign(&unsigned, x_key, &x_key_id, at).unwrap(), "is not on its actor's server"),
        ("X's key under A's key id", proofs::sign(&unsigned, x_key, &a_key_id, at).unwrap(), "does not match"),
        (
            "A's RSA key id",
            proofs::sign(&unsigned, x_key, a.state.urls.host_key_id().as_str(), at).unwrap(),
            "is not an Ed25519 assertionMethod",
        ),
    ];
    for (what, activity, reason) in hostile {
        let (status, body) = forward(&x, &f, &activity).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert!(body.contains(reason) && body.contains("is not the signer"), "{what}: {body}");
        assert!(!content(&f).await.contains("Reportée."), "{what}: nothing applied");
    }
    // The genuine Update, forwarded by X, is applied as if A had sent it; sent again, a duplicate.
    let (status, body) = forward(&x, &f, &genuine).await;
    assert_eq!(status, 202, "{body}");
    assert!(content(&f).await.contains("Reportée."));
    let received = f.state.db.read(remote::count_received).await.unwrap();
    let (status, _) = forward(&x, &f, &genuine).await;
    assert_eq!(status, 202);
    assert_eq!(f.state.db.read(remote::count_received).await.unwrap(), received, "the replay is a duplicate");
}

/// `import --all --include-key`, run by the command line while the server runs, puts back the
/// exported Ed25519 key: the server's next proofs are made with the stored key (the one its actor
/// document shows), not with the one it read at start.
#[tokio::test]
async fn proofs_are_made_with_the_stored_key_after_another_process_replaced_it() {
    let app = spawn_app().await;
    let replacement = proofs::Ed25519Key::generate().unwrap();
    let row = ronron::db::models::keys::Ed25519Row {
        kind: ronron::federation::keys::HOST_KEY.to_string(),
        private_key_pkcs8: replacement.pkcs8_base64().to_string(),
        public_key_multibase: replacement.multibase().to_string(),
        created_at: app.clock.now(),
    };
    app.state.db.write(move |c| ronron::db::models::keys::restore_ed25519(c, &row)).await.unwrap();
    assert_ne!(app.state.keys.ed25519.host().multibase(), replacement.multibase(), "read at start");
    let b = publish::publish_news(&app.state, news("Nouvelle clé")).await.unwrap();
    let note = app.state.urls.bulletin(&b.id).to_string();
    let create = stored(&app, &note, "Create").await;
    let public = proofs::ed25519_from_multikey(replacement.multibase()).unwrap();
    proofs::verify(&create, &public).unwrap_or_else(|e| panic!("{e}: {create}"));
    assert_eq!(app.state.keys.ed25519.host().multibase(), replacement.multibase());
}
