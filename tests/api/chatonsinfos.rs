//! ChatonsInfos: the files Ronron serves for stats.chatons.org, and the import of the files a host
//! already publishes, from a real HTTP server on loopback serving fixtures shaped like members'.

use crate::{
    helpers::{spawn_app, spawn_app_with, TestApp},
    pages::{hidden, Browser},
};
use reqwest::StatusCode;
use ronron::{
    app::{
        admins,
        bulletins::{self as publish, PostDraft},
        catalogue,
        chatonsinfos::{self, ServiceAction, Source},
        profile,
    },
    bulletin::{vocab::*, ChangeDraft, ServiceDraft, TextDraft},
    chatonsinfos::SkipReason,
};
use std::{collections::HashMap, sync::Arc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/chatonsinfos");

/// A plain HTTP/1.1 server on loopback answering GETs from a path → body map (404 otherwise).
struct FileServer {
    base: String,
}

impl FileServer {
    async fn start(files: impl FnOnce(&str) -> HashMap<String, Vec<u8>>) -> FileServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let files = Arc::new(files(&base));
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else { return };
                let files = files.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&request);
                    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let (status, body) = match files.get(&path) {
                        Some(body) => ("200 OK", body.clone()),
                        None => ("404 Not Found", b"not found".to_vec()),
                    };
                    let head = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(&body).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        FileServer { base }
    }
}

/// The fixtures, their `https://chaton.example` pointing at `base`.
fn fixture(name: &str, base: &str) -> Vec<u8> {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap().replace("https://chaton.example", base).into_bytes()
}

async fn member_server() -> FileServer {
    FileServer::start(|base| {
        HashMap::from([
            ("/organization.properties".to_string(), fixture("organization.properties", base)),
            ("/chatonsinfos/pad.properties".to_string(), fixture("pad.properties", base)),
            ("/chatonsinfos/nextcloud.properties".to_string(), fixture("nextcloud.properties", base)),
        ])
    })
    .await
}

async fn get_text(url: &str) -> (StatusCode, String, String) {
    let response = reqwest::get(url).await.unwrap();
    let kind = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (response.status(), kind, response.text().await.unwrap())
}

#[tokio::test]
async fn the_files_say_the_profile_the_catalogue_and_the_derived_status() {
    let app = spawn_app().await;
    profile::set(
        &app.state,
        profile::ProfileEdit {
            display_name: Some("Chaton d’essai".into()),
            summary: Some("Hébergeur associatif.\nDeux lignes.".into()),
            structure_type: Some("association".into()),
            country: Some("FR".into()),
            contact: Some("mailto:contact@chaton.example".into()),
            website: Some("https://chaton.example/".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    for (slug, registration) in [("pad", "open"), ("cloud", "on_request")] {
        catalogue::add(
            &app.state,
            ServiceDraft {
                slug: slug.into(),
                name: format!("Le {slug}"),
                software: "Etherpad".into(),
                url: format!("https://{slug}.chaton.example/"),
                description: String::new(),
                audience: String::new(),
                registration: registration.into(),
            },
        )
        .await
        .unwrap();
    }
    let incident = ChangeDraft {
        change_type: ChangeType::Incident,
        services: vec!["pad".into()],
        impact: Some(Impact::Major),
        status: None,
        registration: None,
        new_url: None,
        starts_at: None,
        ends_at: None,
    };
    let post = PostDraft {
        main: TextDraft { lang: None, title: "Pads en panne".into(), body_markdown: "On cherche.".into() },
        ..Default::default()
    };
    publish::publish_change(&app.state, post.clone(), incident).await.unwrap();
    let closing = ChangeDraft {
        change_type: ChangeType::Registration,
        services: vec!["cloud".into()],
        impact: None,
        status: None,
        registration: Some(Registration::Closed),
        new_url: None,
        starts_at: None,
        ends_at: None,
    };
    publish::publish_change(&app.state, post, closing).await.unwrap();

    let org_url = app.state.urls.chatonsinfos_organization().to_string();
    let (status, kind, org) = get_text(&org_url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind, "text/plain; charset=utf-8");
    assert!(org.contains("file.class = Organization\nfile.protocol = ChatonsInfos-0.5\n"), "{org}");
    assert!(org.contains("file.datetime = 20"), "{org}");
    assert!(org.contains("organization.name = Chaton d’essai\n"), "UTF-8 as is: {org}");
    assert!(org.contains("organization.description = Hébergeur associatif.\\nDeux lignes.\n"), "{org}");
    assert!(org.contains("organization.type = ASSOCIATION\n"), "{org}");
    assert!(org.contains("organization.contact.email = contact@chaton.example\n"), "{org}");
    assert!(!org.contains("organization.logo") && !org.contains("organization.contact.url"), "never invented: {org}");
    let pad_url = app.state.urls.chatonsinfos_service("pad").to_string();
    assert!(org.contains(&format!("subs.pad = {pad_url}\n")), "{org}");

    let (status, _, pad) = get_text(&pad_url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(pad.contains("file.class = Service\n"), "{pad}");
    assert!(pad.contains("service.status.level = ALERT\n"), "a major incident is a partial outage: {pad}");
    assert!(pad.contains("service.registration = Free\nservice.registration.load = OPEN\n"), "{pad}");
    assert!(pad.contains("# [Software]\nsoftware.name = Etherpad\n"), "{pad}");
    let (_, _, cloud) = get_text(app.state.urls.chatonsinfos_service("cloud").as_ref()).await;
    assert!(cloud.contains("service.status.level = OK\n"), "{cloud}");
    assert!(cloud.contains("service.registration.load = FULL\n"), "the registration change closed it: {cloud}");
    assert!(!cloud.contains("service.registration ="), "{cloud}");
    let (status, _, _) = get_text(app.state.urls.chatonsinfos_service("nope").as_ref()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Linked from the host page and the actor.
    let (_, _, home) = get_text(&app.base()).await;
    assert!(home.contains(&format!("href=\"{org_url}\"")), "{home}");
    let actor: serde_json::Value = reqwest::Client::new()
        .get(app.actor_url())
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(actor["hostProfile"]["chatonsInfos"], org_url.as_str());
}

#[tokio::test]
async fn an_import_from_a_members_files_shows_the_changes_then_applies_them() {
    let server = member_server().await;
    let app = spawn_app().await;
    catalogue::add(
        &app.state,
        ServiceDraft {
            slug: "nextcloud".into(),
            name: "Nuage".into(),
            software: "Nextcloud".into(),
            url: "https://old.chaton.example/".into(),
            description: "Ancienne description".into(),
            audience: "adhérents".into(),
            registration: "open".into(),
        },
    )
    .await
    .unwrap();
    let url = format!("{}/organization.properties", server.base);
    let plan = chatonsinfos::plan(&app.state, Source::Url(url.clone())).await.unwrap();
    // Nothing written yet.
    assert_eq!(catalogue::list(&app.state).await.unwrap().len(), 1);
    let fields: Vec<(&str, &str)> = plan.profile.iter().map(|c| (c.field, c.after.as_str())).collect();
    assert!(fields.contains(&("display_name", "Chaton des Près")), "{fields:?}");
    assert!(
        fields.contains(&("summary", "Association d'hébergement de services libres pour les habitants de la vallée.")),
        "{fields:?}"
    );
    assert!(fields.contains(&("structure", "association")), "{fields:?}");
    assert!(fields.contains(&("country", "FR")), "{fields:?}");
    assert!(fields.contains(&("contact", "mailto:contact@chaton.example")), "{fields:?}");
    let pad = plan.services.iter().find(|s| s.slug == "pad").unwrap();
    assert_eq!(pad.action, ServiceAction::Add);
    let cloud = plan.services.iter().find(|s| s.slug == "nextcloud").unwrap();
    assert_eq!(cloud.action, ServiceAction::Edit);
    let changed: Vec<&str> = cloud.changes.iter().map(|c| c.field).collect();
    assert_eq!(changed, vec!["address", "description", "registrations"], "{:?}", cloud.changes);
    // What is not imported is reported with its file and line.
    let skipped =
        |key: &str| plan.skipped.iter().find(|s| s.key == key).unwrap_or_else(|| panic!("{key} not reported"));
    assert_eq!(skipped("organization.socialnetworks.mastodon").line, 34);
    assert_eq!(skipped("organization.socialnetworks.mastodon").reason, SkipReason::Unknown);
    assert_eq!(skipped("organization.contact.url").reason, SkipReason::SecondContact);
    assert_eq!(skipped("service.status.level").reason, SkipReason::Derived);
    assert!(skipped("software.license.name").file.ends_with("/chatonsinfos/pad.properties"));
    assert!(plan.skipped.iter().all(|s| s.key != "organization.socialnetworks.diaspora"), "empty keys are absent");

    let report = chatonsinfos::apply(&app.state, plan).await.unwrap();
    assert_eq!((report.services_added, report.services_edited), (1, 1));
    let account = profile::effective(&app.state).await.unwrap();
    assert_eq!(account.display_name, "Chaton des Près");
    assert_eq!(account.logo.as_deref(), Some(format!("{}/logo.png", server.base).as_str()));
    let services = catalogue::list(&app.state).await.unwrap();
    let pad = services.iter().find(|s| s.slug == "pad").unwrap();
    assert_eq!((pad.name.as_str(), pad.software.as_str(), pad.registration.as_str()), ("Pad", "Etherpad", "open"));
    assert_eq!(pad.description, "Écrire à plusieurs, en même temps.\nSans inscription.");
    let cloud = services.iter().find(|s| s.slug == "nextcloud").unwrap();
    assert_eq!(cloud.registration, "closed", "FULL");
    assert_eq!(cloud.audience, "adhérents", "fields the files do not give are kept");

    // The same files again: nothing to change.
    let again = chatonsinfos::plan(&app.state, Source::Url(url)).await.unwrap();
    assert!(again.changes_nothing(), "{:?} {:?}", again.profile, again.services);
}

/// Import → export → import into another host gives the same profile and catalogue.
#[tokio::test]
async fn import_export_import_gives_the_same_data() {
    let server = member_server().await;
    let first = spawn_app().await;
    let plan = chatonsinfos::plan(&first.state, Source::Url(format!("{}/organization.properties", server.base)))
        .await
        .unwrap();
    chatonsinfos::apply(&first.state, plan).await.unwrap();
    // The first host's own files, read by a second host.
    let second = spawn_app().await;
    let exported = first.state.urls.chatonsinfos_organization().to_string();
    let plan = chatonsinfos::plan(&second.state, Source::Url(exported.clone())).await.unwrap();
    assert!(
        plan.skipped.iter().all(|s| s.key == "service.status.level" && s.reason == SkipReason::Derived),
        "Ronron's files hold only what it imports, and the status it derives: {:?}",
        plan.skipped
    );
    chatonsinfos::apply(&second.state, plan).await.unwrap();
    let data = |app: &TestApp| {
        let state = app.state.clone();
        async move {
            let a = profile::effective(&state).await.unwrap();
            let services: Vec<_> = catalogue::list(&state)
                .await
                .unwrap()
                .into_iter()
                .map(|s| (s.slug, s.name, s.software, s.url, s.description, s.registration))
                .collect();
            (a.display_name, a.summary, a.structure_type, a.country, a.website, a.contact, a.logo, services)
        }
    };
    let (one, two) = (data(&first).await, data(&second).await);
    assert_eq!(one, two);
    assert_eq!(one.7.len(), 2);
    // And the first host reading its own export changes nothing.
    assert!(chatonsinfos::plan(&first.state, Source::Url(exported)).await.unwrap().changes_nothing());
}

#[tokio::test]
async fn bad_files_are_refused_naming_the_file_and_the_line() {
    let server = FileServer::start(|base| {
        let mut huge = b"file.class = service\nservice.name = X\n".to_vec();
        huge.extend(std::iter::repeat_n(b'#', 300 * 1024));
        let org_with_subs = |sub: &str| {
            format!("file.class = organization\norganization.name = X\nsubs.s = {base}{sub}\n").into_bytes()
        };
        HashMap::from([
            ("/huge.properties".to_string(), huge),
            ("/org-huge.properties".to_string(), org_with_subs("/huge.properties")),
            ("/org-missing.properties".to_string(), org_with_subs("/gone.properties")),
            (
                "/bad-url.properties".to_string(),
                b"file.class = service\nservice.name = Pad\nservice.website = ftp://pad.example/\nsoftware.name = Etherpad\n"
                    .to_vec(),
            ),
            ("/org-bad-url.properties".to_string(), org_with_subs("/bad-url.properties")),
        ])
    })
    .await;
    let app = spawn_app().await;
    let refused = |source: Source| {
        let state = app.state.clone();
        async move { chatonsinfos::plan(&state, source).await.unwrap_err().to_string() }
    };
    let file = |bytes: &[u8]| Source::File { name: "organization.properties".into(), bytes: bytes.to_vec() };
    let mut latin1 = b"file.class = organization\norganization.name = Chaton des Pr".to_vec();
    latin1.extend([0xe8, b's', b'\n']);
    assert_eq!(
        refused(file(&latin1)).await,
        "file: organization.properties: line 2: the text is not UTF-8 (ChatonsInfos files are UTF-8)"
    );
    assert_eq!(
        refused(file(b"file.class = organization\norganization.description = X\n")).await,
        "file: organization.properties: `organization.name` is missing (it is mandatory)"
    );
    assert_eq!(
        refused(file(b"file.class = organization\norganization.name = X\norganization.website = chaton.example\n"))
            .await,
        "file: organization.properties: line 3: `organization.website` must be an http(s) URL, not `chaton.example`"
    );
    assert_eq!(
        refused(file(&vec![b'#'; 300 * 1024])).await,
        "file: organization.properties: the file is larger than 262144 bytes"
    );
    let base = &server.base;
    assert_eq!(
        refused(Source::Url(format!("{base}/org-huge.properties"))).await,
        format!("file: {base}/huge.properties: the file is larger than 262144 bytes")
    );
    assert_eq!(
        refused(Source::Url(format!("{base}/org-bad-url.properties"))).await,
        format!("file: {base}/bad-url.properties: line 3: `service.website` must be an http(s) URL, not `ftp://pad.example/`")
    );
    assert_eq!(
        refused(Source::Url(format!("{base}/org-missing.properties"))).await,
        format!("file: {base}/gone.properties: the server answered 404 Not Found")
    );
    assert_eq!(
        refused(Source::Url("ftp://x.example/o.properties".into())).await,
        "file: ftp://x.example/o.properties: unsupported scheme ftp"
    );
    // Outside dev mode, neither plain http nor an address on this machine.
    let prod = spawn_app_with(0, |c| c.instance.dev_mode = Some(false)).await;
    let err = chatonsinfos::plan(&prod.state, Source::Url(format!("{base}/org-huge.properties"))).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("file: {base}/org-huge.properties: only https URLs are allowed outside dev mode")
    );
    // Nothing was written by any of these.
    assert!(catalogue::list(&app.state).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_admin_page_shows_the_changes_and_applies_them_on_confirmation() {
    let server = member_server().await;
    let app = spawn_app().await;
    admins::create_admin(&app.state, "camille", "correct horse battery").await.unwrap();
    let mut browser = Browser::new(&app, "fr");
    browser.login("camille", "correct horse battery").await;
    let csrf = browser.csrf().await;
    let (status, _, page) = browser.get("/admin/chatonsinfos").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Adresse du fichier d’organisation"), "{page}");
    let url = format!("{}/organization.properties", server.base);
    let (status, _, page) = browser.post("/admin/chatonsinfos", &[("csrf", &csrf), ("url", &url), ("text", "")]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Ce qui changerait"), "{page}");
    assert!(page.contains("Chaton des Près"), "{page}");
    assert!(page.contains("nouveau service"), "{page}");
    assert!(page.contains("organization.socialnetworks.mastodon"), "{page}");
    assert!(page.contains("Ronron n’a pas de champ pour cette information"), "{page}");
    assert!(catalogue::list(&app.state).await.unwrap().is_empty(), "a preview writes nothing");
    let fingerprint = hidden(&page, "fingerprint");
    // A confirmation of another plan is not applied.
    let (status, _, page) = browser
        .post("/admin/chatonsinfos", &[("csrf", &csrf), ("url", &url), ("text", ""), ("fingerprint", "stale")])
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("Les fichiers ont changé depuis l’aperçu"), "{page}");
    assert!(catalogue::list(&app.state).await.unwrap().is_empty());
    let (status, headers, _) = browser
        .post("/admin/chatonsinfos", &[("csrf", &csrf), ("url", &url), ("text", ""), ("fingerprint", &fingerprint)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(headers["location"].to_str().unwrap().ends_with("/admin/chatonsinfos?done=imported"));
    assert_eq!(catalogue::list(&app.state).await.unwrap().len(), 2);
    assert_eq!(profile::effective(&app.state).await.unwrap().display_name, "Chaton des Près");
    // A refused file is shown above the form, naming the line.
    let (status, _, page) = browser
        .post(
            "/admin/chatonsinfos",
            &[("csrf", &csrf), ("url", ""), ("text", "file.class = service\nservice.name = X\n")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // In the visitor's language (French here), the parser's fault and where it was found.
    let french =
        "Ligne 1\u{a0}: «\u{a0}file.class\u{a0}» vaut Service\u{a0}: ce fichier doit être de classe Organization.";
    assert!(page.contains(french), "{page}");
    assert!(!page.contains("line 1:") && !page.contains("must be an"), "{page}");
}

#[test]
fn the_command_line_shows_the_changes_and_applies_them_with_apply() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(member_server());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let database_url = crate::helpers::fresh_database_url(&dir);
    let ronron = |args: &[&str]| {
        let output = crate::helpers::ronron_command()
            .args(args)
            .current_dir(path)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).to_string(),
            String::from_utf8_lossy(&output.stderr).to_string(),
        )
    };
    let (ok, _, err) = ronron(&["init", "--domain", "localhost:8080", "--database-url", &database_url]);
    assert!(ok, "{err}");
    let url = format!("{}/organization.properties", server.base);
    let (ok, out, err) = ronron(&["import", "--chatonsinfos", &url]);
    assert!(ok, "{err}");
    assert!(out.contains("Name: \"Ronron\" -> \"Chaton des Près\"") || out.contains("-> \"Chaton des Près\""), "{out}");
    assert!(out.contains("service pad (add,"), "{out}");
    assert!(out.contains("line 34: organization.socialnetworks.mastodon (Ronron has no field for this)"), "{out}");
    assert!(out.contains("nothing was changed: run again with --apply"), "{out}");
    let (ok, out, _) = ronron(&["service", "list"]);
    assert!(ok && !out.contains("pad"), "{out}");
    let (ok, out, err) = ronron(&["import", "--chatonsinfos", &url, "--apply"]);
    assert!(ok, "{err}");
    assert!(out.contains("applied: "), "{out}");
    let (_, out, _) = ronron(&["service", "list"]);
    assert!(out.contains("pad") && out.contains("nextcloud"), "{out}");
    // A bad file names the argument and the line.
    std::fs::write(
        path.join("org.properties"),
        "file.class = organization\norganization.name = X\nsubs.a = mailto:x@y\n",
    )
    .unwrap();
    let (ok, _, err) = ronron(&["import", "--chatonsinfos", "org.properties"]);
    assert!(!ok);
    assert!(err.contains("file: org.properties: line 3: `subs.a` must be an http(s) URL, not `mailto:x@y`"), "{err}");
}
