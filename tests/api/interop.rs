//! Interoperability with an independent implementation: a follower built on Fedify (Node.js),
//! in tests/interop/. It is required when REQUIRE_INTEROP_TEST=1 (as `.ci/run` sets it);
//! otherwise it runs when `npm ci` has been run in tests/interop and is skipped with a notice.

use crate::helpers::spawn_app_with;
use ronron::{
    app::{
        bulletins as publish,
        collective::{self, MemberState},
    },
    bulletin::NewsDraft,
    config::CollectiveConfig,
};
use serde_json::Value;
use std::{path::Path, process::Stdio, time::Duration};
use tokio::io::{AsyncBufReadExt, BufReader};

/// The Fedify follower of tests/interop, following `handle`; None when skipped.
struct Follower {
    child: tokio::process::Child,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Follower {
    fn spawn(handle: &str) -> Option<Self> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop");
        let required = std::env::var("REQUIRE_INTEROP_TEST").is_ok_and(|v| v == "1");
        if !dir.join("node_modules/@fedify/fedify").exists() {
            assert!(!required, "REQUIRE_INTEROP_TEST=1 but tests/interop/node_modules is missing: run `npm ci` there");
            eprintln!("skipped: run `npm ci` in tests/interop to run the Fedify interop test");
            return None;
        }
        let mut child = tokio::process::Command::new("node")
            .arg(dir.join("follower.mjs"))
            .args(["--handle", handle, "--timeout", "60"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs");
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        Some(Follower { child, lines })
    }

    async fn next_event(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(60), self.lines.next_line())
            .await
            .expect("the follower answers in time")
            .expect("stdout readable")
            .expect("the follower is still running");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
    }

    /// Skips events up to the first of `kind`; panics on an `error` event.
    async fn wait_for(&mut self, kind: &str) -> Value {
        loop {
            let event = self.next_event().await;
            assert_ne!(event["event"], "error", "{event}");
            if event["event"] == kind {
                return event;
            }
        }
    }
}

#[tokio::test]
async fn a_fedify_follower_receives_and_verifies_create_update_delete() {
    let app = spawn_app_with(1, |_| {}).await;
    let handle = format!("bulletin@localhost:{}", app.port);
    let Some(mut follower) = Follower::spawn(&handle) else { return };
    // Wait until the Follow is accepted, then publish, edit, delete.
    follower.wait_for("accept").await;
    let bulletin = publish::publish_news(
        &app.state,
        NewsDraft { title: "Interop".into(), body_markdown: "Hello **Fedify**".into(), lang: Some("en".into()) },
    )
    .await
    .unwrap();
    let note_id = app.state.urls.bulletin(&bulletin.id).to_string();
    for kind in ["create", "update", "delete"] {
        let event = follower.wait_for(kind).await;
        assert_eq!(event["objectId"], note_id, "{event}");
        assert_eq!(event["signatureVerified"], true, "{event}");
        match kind {
            "create" => {
                assert!(event["content"].as_str().unwrap().contains("<strong>Fedify</strong>"), "{event}");
                publish::edit_news(
                    &app.state,
                    &bulletin.id,
                    publish::NewsEdit { body_markdown: Some("Edited".into()), ..Default::default() },
                )
                .await
                .unwrap();
            }
            "update" => {
                assert!(event["content"].as_str().unwrap().contains("Edited"), "{event}");
                assert!(event["updated"].is_string(), "{event}");
                publish::delete_bulletin(&app.state, &bulletin.id).await.unwrap();
            }
            _ => {}
        }
    }
    let status = tokio::time::timeout(Duration::from_secs(20), follower.child.wait())
        .await
        .expect("the follower exits")
        .unwrap();
    assert!(status.success(), "the follower exits 0 after the Delete");
}

/// Issue 10: a Fedify follower of a collective's Group gets, verified, the Announce of a member's
/// bulletin, and the announced Note (fetched from the member) is attributed to the member.
#[tokio::test]
async fn a_fedify_follower_of_the_collective_verifies_its_announces() {
    let k = spawn_app_with(0, |c| c.collective = Some(CollectiveConfig::default())).await;
    let a = spawn_app_with(0, |_| {}).await;
    let added = collective::add_member(&k.state, &k.data(), a.actor_url().as_str()).await.unwrap();
    assert_eq!(added.state, MemberState::Approved);
    k.drain().await; // K's Follow of A
    a.drain().await; // A's Accept
    let Some(mut follower) = Follower::spawn(&format!("collectif@localhost:{}", k.port)) else { return };
    let group = k.state.urls.group_actor().to_string();
    assert_eq!(follower.wait_for("ready").await["target"], group.as_str());
    follower.wait_for("followed").await;
    k.drain().await; // the Group's Accept
    let accept = follower.wait_for("accept").await;
    assert_eq!(accept["actor"], group.as_str(), "{accept}");

    let bulletin = publish::publish_news(
        &a.state,
        NewsDraft { title: "Maintenance".into(), body_markdown: "Chez **A**".into(), lang: Some("fr".into()) },
    )
    .await
    .unwrap();
    let note_id = a.state.urls.bulletin(&bulletin.id).to_string();
    a.drain().await; // A's Create to K
    k.drain().await; // the Group's Announce, answered once Fedify has run its listener
    let announce = follower.wait_for("announce").await;
    assert_eq!(announce["actor"], group.as_str(), "{announce}");
    assert_eq!(announce["signatureVerified"], true, "{announce}");
    // The Announce carries the Group's FEP-8b32 proof: Fedify checks it before the HTTP Signature.
    assert_eq!(announce["embeddedSignature"], true, "{announce}");
    assert_eq!(announce["objectId"], note_id, "{announce}");
    assert_eq!(announce["type"], "Note", "{announce}");
    assert_eq!(announce["attributedTo"], a.actor_url().as_str(), "{announce}");
    assert!(announce["content"].as_str().unwrap().contains("<strong>A</strong>"), "{announce}");

    // A edits: K forwards A's own Update (HTTP-signed by the Group). Fedify takes an activity
    // whose key owner is not its actor only on a proof of the actor: the Update is reported.
    publish::edit_news(
        &a.state,
        &bulletin.id,
        publish::NewsEdit { body_markdown: Some("Reportée à **jeudi**".into()), ..Default::default() },
    )
    .await
    .unwrap();
    a.drain().await; // A's Update to K
    k.drain().await; // K forwards it to the follower
    let update = follower.wait_for("update").await;
    assert_eq!(update["actor"], a.actor_url().as_str(), "A's own activity: {update}");
    assert_eq!(update["embeddedSignature"], true, "{update}");
    assert_eq!(update["objectId"], note_id, "{update}");
    assert!(update["content"].as_str().unwrap().contains("<strong>jeudi</strong>"), "{update}");
}

/// Fedify's own `verifyObject` (tests/interop/proof.mjs) accepts our Create and Update on their
/// eddsa-jcs-2022 proofs, reading our key from the actor document, and refuses them altered.
#[tokio::test]
async fn fedify_verifies_our_object_integrity_proofs() {
    use ronron::db::models::activities as queue;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop");
    if !dir.join("node_modules/@fedify/fedify").exists() {
        assert!(std::env::var("REQUIRE_INTEROP_TEST").is_err(), "tests/interop/node_modules is missing");
        eprintln!("skipped: run `npm ci` in tests/interop");
        return;
    }
    let app = spawn_app_with(0, |_| {}).await;
    let bulletin = publish::publish_news(
        &app.state,
        NewsDraft { title: "Prouvé".into(), body_markdown: "Signé par **Ed25519**".into(), lang: Some("fr".into()) },
    )
    .await
    .unwrap();
    publish::edit_news(
        &app.state,
        &bulletin.id,
        publish::NewsEdit { body_markdown: Some("Modifié".into()), ..Default::default() },
    )
    .await
    .unwrap();
    let note = app.state.urls.bulletin(&bulletin.id).to_string();
    for kind in ["Create", "Update"] {
        let id = note.clone();
        let row = app.state.db.read(move |c| queue::latest_for_object(c, &id, kind)).await.unwrap().unwrap();
        let activity: Value = serde_json::from_str(&row.json).unwrap();
        let mut altered = activity.clone();
        altered["object"]["content"] = Value::String("<p>Falsifié</p>".into());
        for (doc, expected) in [(&activity, true), (&altered, false)] {
            let mut child = tokio::process::Command::new("node")
                .arg(dir.join("proof.mjs"))
                .arg("verify")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("node runs");
            let mut stdin = child.stdin.take().unwrap();
            tokio::io::AsyncWriteExt::write_all(&mut stdin, doc.to_string().as_bytes()).await.unwrap();
            drop(stdin);
            let output =
                tokio::time::timeout(Duration::from_secs(30), child.wait_with_output()).await.unwrap().unwrap();
            assert!(output.status.success(), "proof.mjs failed on the {kind}");
            let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
            assert_eq!(answer["verified"], expected, "{kind} (altered: {}): {answer}", !expected);
            if expected {
                assert_eq!(answer["actor"], app.actor_url().as_str(), "{answer}");
            }
        }
    }
}
