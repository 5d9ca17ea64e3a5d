//! Golden documents: the JSON of each kind of bulletin and of the host's documents, compared with
//! the examples in `tests/fixtures/golden/`, which `docs/FEDERATION.md` quotes verbatim.
//! Run with `UPDATE_GOLDEN=1` to rewrite the files, and their quotes in the docs, after a
//! deliberate change (then reread the prose around them).

use crate::helpers::{spawn_app_with_clock, test_clock, TestApp};
use chrono::Duration;
use ronron::{
    app::bulletins::{self as publish, PostDraft},
    app::catalogue,
    app::profile::{self, ProfileEdit},
    bulletin::{render::sanitize_own_html, vocab::*, ChangeDraft, ServiceDraft, TextDraft},
};
use serde_json::Value;

/// Tags Mastodon keeps in a post's HTML.
const MASTODON_TAGS: &[&str] =
    &["p", "br", "span", "a", "del", "pre", "blockquote", "code", "b", "strong", "u", "i", "em", "ul", "ol", "li"];

pub(crate) async fn fetch(url: &str) -> Value {
    let response = reqwest::Client::new().get(url).header("accept", "application/activity+json").send().await.unwrap();
    assert!(response.status().is_success(), "{url}: {}", response.status());
    response.json().await.unwrap()
}

/// Replaces what changes from run to run: the test's address, bulletin ids, keys.
/// The shared `@context` is shown once (golden file `context`), and elided elsewhere.
pub(crate) fn normalise(app: &TestApp, value: &Value, ids: &[(&str, &str)]) -> String {
    let mut value = value.clone();
    mask_keys(&mut value);
    let context = value.get("@context").cloned();
    if let Some(proof) = value.get_mut("proof").and_then(Value::as_object_mut) {
        if context.is_some() && proof.get("@context") == context.as_ref() {
            proof.insert("@context".into(), Value::String("… (the document's @context, repeated)".into()));
        }
    }
    if value.get("@context") == Some(&ronron::federation::protocol::context()) {
        value["@context"] = Value::String("… (see Context)".into());
    }
    let mut text = serde_json::to_string_pretty(&value).unwrap();
    text = text
        .replace(&app.base(), "https://chaton.example")
        .replace(&format!("localhost:{}", app.port), "chaton.example");
    for (id, name) in ids {
        text = text.replace(id, name);
    }
    if let Some(start) = text.find("-----BEGIN PUBLIC KEY-----") {
        let end = text.find("-----END PUBLIC KEY-----").unwrap();
        text.replace_range(start..end, "-----BEGIN PUBLIC KEY-----\\n…\\n");
    }
    text
}

/// Ed25519 keys and proof values change from run to run.
fn mask_keys(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (name, item) in map.iter_mut() {
                match name.as_str() {
                    "publicKeyMultibase" => *item = Value::String("z6Mk…".into()),
                    "proofValue" => *item = Value::String("z…".into()),
                    _ => mask_keys(item),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_keys),
        _ => {}
    }
}

pub(crate) fn check_golden(name: &str, actual: &str) {
    let root = env!("CARGO_MANIFEST_DIR");
    let path = format!("{root}/tests/fixtures/golden/{name}.json");
    let docs_path = format!("{root}/docs/FEDERATION.md");
    let docs = std::fs::read_to_string(&docs_path).unwrap();
    let marker = format!("<!-- golden: {name} ");
    let start = docs.find(&marker).unwrap_or_else(|| panic!("docs/FEDERATION.md has no `{marker}` marker"));
    let block_start =
        start + docs[start..].find("```json\n").expect("a json block after the marker") + "```json\n".len();
    let block_end = block_start + docs[block_start..].find("\n```").expect("the block ends");
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&path, format!("{actual}\n")).unwrap();
        let updated = format!("{}{}{}", &docs[..block_start], actual.trim(), &docs[block_end..]);
        std::fs::write(&docs_path, updated).unwrap();
        return;
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{path} missing: run with UPDATE_GOLDEN=1"));
    assert_eq!(actual.trim(), expected.trim(), "{name} differs from {path}");
    assert_eq!(
        &docs[block_start..block_end],
        expected.trim(),
        "docs/FEDERATION.md must quote {name}.json verbatim after its marker"
    );
}

/// The content is already what a Mastodon-like sanitiser keeps: only allowed tags, nothing lost.
fn check_content(note: &Value, must_say: &[&str]) {
    for (lang, html) in note["contentMap"].as_object().unwrap() {
        let html = html.as_str().unwrap();
        assert_eq!(sanitize_own_html(html), html, "{lang}: sanitising changes nothing");
        for tag in html
            .split('<')
            .skip(1)
            .map(|t| t.trim_start_matches('/').split(|c: char| !c.is_alphanumeric()).next().unwrap())
        {
            assert!(MASTODON_TAGS.contains(&tag), "{lang}: <{tag}> is not kept by Mastodon");
        }
    }
    let content = note["content"].as_str().unwrap();
    for phrase in must_say {
        assert!(content.contains(phrase), "content lacks {phrase:?}: {content}");
    }
}

#[tokio::test]
async fn every_kind_of_document_matches_its_documented_example() {
    let clock = test_clock();
    let app = spawn_app_with_clock(0, clock.clone(), |c| c.account.hashtags = vec!["chatons".into()]).await;
    profile::set(
        &app.state,
        ProfileEdit {
            display_name: Some("Chaton Exemple".into()),
            summary: Some("Hébergeur associatif de services libres.".into()),
            structure_type: Some("association".into()),
            country: Some("FR".into()),
            region: Some("Bretagne".into()),
            website: Some("https://chaton.example".into()),
            contact: Some("mailto:contact@chaton.example".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    catalogue::add(
        &app.state,
        ServiceDraft {
            slug: "nextcloud".into(),
            name: "Nextcloud".into(),
            software: "Nextcloud".into(),
            url: "https://cloud.chaton.example".into(),
            description: "Fichiers, agendas et contacts".into(),
            audience: "membres".into(),
            registration: "on_request".into(),
        },
    )
    .await
    .unwrap();

    let news = publish::publish_post(
        &app.state,
        PostDraft {
            main: TextDraft {
                lang: Some("fr".into()),
                title: "Nous proposons PeerTube".into(),
                body_markdown: "Une instance pour nos **membres**.".into(),
            },
            translation: Some(TextDraft {
                lang: Some("en".into()),
                title: "We now offer PeerTube".into(),
                body_markdown: "An instance for our **members**.".into(),
            }),
            publish_at: None,
        },
    )
    .await
    .unwrap();
    let window_start = clock.now() + Duration::hours(12);
    clock.advance(Duration::minutes(5));
    let maintenance = publish::publish_change(
        &app.state,
        PostDraft {
            main: TextDraft {
                lang: Some("fr".into()),
                title: "Mise à jour de Nextcloud".into(),
                body_markdown: "Passage de la version 25 à 26 : coupure de moins de 2 minutes.".into(),
            },
            translation: Some(TextDraft {
                lang: Some("en".into()),
                title: "Nextcloud upgrade".into(),
                body_markdown: "From version 25 to 26: less than 2 minutes of downtime.".into(),
            }),
            publish_at: None,
        },
        ChangeDraft {
            change_type: ChangeType::Maintenance,
            services: vec!["nextcloud".into()],
            impact: Some(Impact::Minor),
            status: None,
            registration: None,
            new_url: None,
            starts_at: Some(window_start),
            ends_at: Some(window_start + Duration::minutes(15)),
        },
    )
    .await
    .unwrap();
    clock.advance(Duration::minutes(5));
    let incident = publish::publish_change(
        &app.state,
        PostDraft {
            main: TextDraft {
                lang: None,
                title: "Nextcloud inaccessible".into(),
                body_markdown: "Nous analysons la panne.".into(),
            },
            ..Default::default()
        },
        ChangeDraft {
            change_type: ChangeType::Incident,
            services: vec!["nextcloud".into()],
            impact: Some(Impact::Major),
            status: None,
            registration: None,
            new_url: None,
            starts_at: None,
            ends_at: None,
        },
    )
    .await
    .unwrap();
    clock.advance(Duration::minutes(20));
    let follow_up = publish::post_follow_up(
        &app.state,
        &incident.id,
        PostDraft {
            main: TextDraft {
                lang: None,
                title: String::new(),
                body_markdown: "Le disque était plein ; le service est rétabli.".into(),
            },
            ..Default::default()
        },
        ChangeState::Resolved,
        None,
    )
    .await
    .unwrap();
    clock.advance(Duration::minutes(5));
    let label_update = ronron::app::label::set_grade(
        &app.state,
        "transparent.incidents",
        "met",
        Some("Annoncés ici même.".into()),
        Some("https://chaton.example/statut".into()),
    )
    .await
    .unwrap()
    .unwrap();

    let ids = [
        (news.id.as_str(), "news-1"),
        (maintenance.id.as_str(), "maintenance-1"),
        (incident.id.as_str(), "incident-1"),
        (follow_up.id.as_str(), "incident-1-resolved"),
        (label_update.id.as_str(), "label-1"),
    ];
    let bulletin = |id: &str| app.state.urls.bulletin(id).to_string();

    let note = fetch(&bulletin(&news.id)).await;
    check_content(&note, &["<strong>Nous proposons PeerTube</strong>", "<strong>membres</strong>"]);
    check_golden("note-news", &normalise(&app, &note, &ids));

    let note = fetch(&bulletin(&maintenance.id)).await;
    check_content(
        &note,
        &["Nextcloud — maintenance le mardi 12 mars 2030 de 21 h à 21 h 15 (heure de Paris). Impact mineur.</p>"],
    );
    assert!(note["contentMap"]["en"]
        .as_str()
        .unwrap()
        .contains("maintenance on Tuesday 12 March 2030 21:00–21:15 (Paris time). Minor impact.</p>"));
    check_golden("note-maintenance", &normalise(&app, &note, &ids));

    let note = fetch(&bulletin(&incident.id)).await;
    check_content(&note, &["Nextcloud — incident. Impact majeur.", "État de l’incident&nbsp;: résolu."]);
    check_golden("note-incident", &normalise(&app, &note, &ids));

    let note = fetch(&bulletin(&follow_up.id)).await;
    check_content(&note, &["Nextcloud inaccessible — résolu"]);
    check_golden("note-incident-follow-up", &normalise(&app, &note, &ids));

    let note = fetch(&bulletin(&label_update.id)).await;
    check_content(&note, &["Les incidents et maintenances sont annoncés publiquement&nbsp;: non évalué → respecté"]);
    check_golden("note-label-update", &normalise(&app, &note, &ids));

    check_golden("context", &serde_json::to_string_pretty(&ronron::federation::protocol::context()).unwrap());
    let actor = fetch(app.actor_url().as_str()).await;
    check_golden("actor", &normalise(&app, &actor, &ids));
    let services = fetch(&format!("{}/services", app.actor_url())).await;
    check_golden("services", &normalise(&app, &services, &ids));
    let label = fetch(&format!("{}/label", app.actor_url())).await;
    check_golden("label", &normalise(&app, &label, &ids));
    let featured = fetch(&format!("{}/featured", app.actor_url())).await;
    let pinned: Vec<&str> =
        featured["orderedItems"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(pinned, [bulletin(&maintenance.id)], "the upcoming maintenance is pinned; the resolved incident is not");
}
