//! Interoperability with an independent implementation: a follower built on Fedify (Node.js),
//! in tests/interop/. It is required when REQUIRE_INTEROP_TEST=1 (as `.ci/run` sets it);
//! otherwise it runs when `npm ci` has been run in tests/interop and is skipped with a notice.

use crate::helpers::spawn_app_with;
use ronron::{app::bulletins as publish, bulletin::NewsDraft};
use serde_json::Value;
use std::{path::Path, process::Stdio, time::Duration};
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test]
async fn a_fedify_follower_receives_and_verifies_create_update_delete() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop");
    let required = std::env::var("REQUIRE_INTEROP_TEST").is_ok_and(|v| v == "1");
    if !dir.join("node_modules/@fedify/fedify").exists() {
        assert!(!required, "REQUIRE_INTEROP_TEST=1 but tests/interop/node_modules is missing: run `npm ci` there");
        eprintln!("skipped: run `npm ci` in tests/interop to run the Fedify interop test");
        return;
    }
    let app = spawn_app_with(1, |_| {}).await;
    let handle = format!("bulletin@localhost:{}", app.port);
    let mut child = tokio::process::Command::new("node")
        .arg(dir.join("follower.mjs"))
        .args(["--handle", &handle, "--timeout", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut events: Vec<Value> = Vec::new();
    let mut next_event = async || -> Value {
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("the follower answers in time")
            .expect("stdout readable")
            .expect("the follower is still running");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
    };
    // Wait until the Follow is accepted, then publish, edit, delete.
    let mut accepted = false;
    while !accepted {
        let event = next_event().await;
        assert_ne!(event["event"], "error", "{event}");
        accepted = event["event"] == "accept";
        events.push(event);
    }
    let bulletin = publish::publish_news(
        &app.state,
        NewsDraft { title: "Interop".into(), body_markdown: "Hello **Fedify**".into(), lang: Some("en".into()) },
    )
    .await
    .unwrap();
    let note_id = app.state.urls.bulletin(&bulletin.id).to_string();
    let wait_for = |kind: &'static str| kind;
    for kind in ["create", "update", "delete"] {
        let event = loop {
            let event = next_event().await;
            assert_ne!(event["event"], "error", "{event}");
            if event["event"] == wait_for(kind) {
                break event;
            }
        };
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
    let status =
        tokio::time::timeout(Duration::from_secs(20), child.wait()).await.expect("the follower exits").unwrap();
    assert!(status.success(), "the follower exits 0 after the Delete");
}
