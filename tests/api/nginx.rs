//! Ronron behind Debian's real nginx, configured with the documented site (docs/nginx/ronron.conf,
//! its ports and certificate rewritten) and a self-signed certificate made by openssl: WebFinger,
//! a signed Follow POSTed to the inbox through nginx, https URLs in the documents, a bulletin
//! page, the body limit, and the visitor's address (X-Forwarded-For) as the login throttle sees it.
//! Skipped when nginx or openssl is missing, unless REQUIRE_NGINX_TEST=1.

use crate::{
    helpers::{spawn_app_with, TestApp},
    pages::hidden,
};
use reqwest::{header, redirect::Policy, StatusCode};
use ronron::app::{admins, bulletins, peers};
use std::{
    net::{IpAddr, TcpListener},
    path::{Path, PathBuf},
    process::{Child, Command},
};

const SITE: &str = include_str!("../../docs/nginx/ronron.conf");
const NGINX: &str = "/usr/sbin/nginx";
const PASSWORD: &str = "correct horse battery";

#[test]
fn deploy_md_shows_the_tested_nginx_site() {
    let doc = include_str!("../../docs/DEPLOY.md");
    assert!(doc.contains(&format!("```nginx\n{SITE}```")), "docs/DEPLOY.md quotes docs/nginx/ronron.conf verbatim");
    for line in ["proxy_set_header Host $http_host;", "client_max_body_size 1m;", "ssl_certificate "] {
        assert!(SITE.contains(line), "{line}");
    }
}

/// nginx and openssl, or a skip (a failure when REQUIRE_NGINX_TEST=1).
fn tools_present() -> bool {
    let present = Path::new(NGINX).exists() && Command::new("openssl").arg("version").output().is_ok();
    if !present {
        assert!(
            std::env::var("REQUIRE_NGINX_TEST").as_deref() != Ok("1"),
            "REQUIRE_NGINX_TEST=1 but nginx or openssl is missing (apt-get install -y nginx-light openssl)"
        );
        eprintln!("skipped: nginx or openssl missing (apt-get install -y nginx-light openssl)");
    }
    present
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running nginx, stopped on drop: SIGTERM to the master, which stops its workers (a SIGKILL
/// would leave them running).
struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        let _ = self.0.wait();
    }
}

/// A self-signed certificate for localhost (not a CA, so it can be its own trust anchor).
fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"])
        .args(["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE", "-addext", "keyUsage=digitalSignature"])
        .args(["-addext", "extendedKeyUsage=serverAuth"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(status.status.success(), "openssl: {}", String::from_utf8_lossy(&status.stderr));
    (cert, key)
}

/// The documented site with this test's ports, certificate and upstream.
fn site(http: u16, tls: u16, upstream: u16, cert: &Path, key: &Path, dir: &Path) -> String {
    let mut site = SITE.to_string();
    let cert_path = "/etc/letsencrypt/live/bulletin.example.org/fullchain.pem";
    let key_path = "/etc/letsencrypt/live/bulletin.example.org/privkey.pem";
    for (from, to) in [
        ("listen 80;", format!("listen 127.0.0.1:{http};")),
        ("listen [::]:80;", String::new()),
        ("listen 443 ssl;", format!("listen 127.0.0.1:{tls} ssl;")),
        ("listen [::]:443 ssl;", String::new()),
        ("server_name bulletin.example.org;", "server_name localhost;".to_string()),
        (cert_path, cert.display().to_string()),
        (key_path, key.display().to_string()),
        ("root /var/www/html;", format!("root {};", dir.display())),
        ("proxy_pass http://127.0.0.1:8080;", format!("proxy_pass http://127.0.0.1:{upstream};")),
    ] {
        assert!(site.contains(from), "the documented site has `{from}`");
        site = site.replace(from, &to);
    }
    site
}

fn start_nginx(dir: &Path, site: &str, tls: u16) -> Nginx {
    std::fs::write(dir.join("ronron.conf"), site).unwrap();
    let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let d = dir.display();
    let main = format!(
        "{user}worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\nhttp {{\n\
         access_log off;\nclient_body_temp_path {d}/body;\nproxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\nuwsgi_temp_path {d}/uwsgi;\nscgi_temp_path {d}/scgi;\n\
         include {d}/ronron.conf;\n}}\n",
        user = if is_root { "user root;\n" } else { "" }
    );
    std::fs::write(dir.join("nginx.conf"), main).unwrap();
    let test = Command::new(NGINX).arg("-p").arg(dir).arg("-c").arg(dir.join("nginx.conf")).arg("-t").output().unwrap();
    assert!(test.status.success(), "nginx -t: {}", String::from_utf8_lossy(&test.stderr));
    let child = Command::new(NGINX)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .args(["-g", "daemon off;"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("nginx starts");
    let nginx = Nginx(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", tls)).is_ok() {
            return nginx;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("nginx does not listen: {}", std::fs::read_to_string(dir.join("error.log")).unwrap_or_default());
}

/// A client trusting the certificate, connecting from `from` (any 127.x address).
fn client(cert: &Path, from: IpAddr) -> reqwest::Client {
    let pem = std::fs::read(cert).unwrap();
    reqwest::Client::builder()
        .redirect(Policy::none())
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()])
        .local_address(from)
        .build()
        .unwrap()
}

/// One login through the form, as a browser at `from` would.
async fn login(base: &str, cert: &Path, from: &str, password: &str) -> (StatusCode, Option<String>) {
    let client = client(cert, from.parse().unwrap());
    let form = client.get(format!("{base}/admin/login")).header(header::ACCEPT_LANGUAGE, "en").send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let csrf_cookie = form
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("ronron_login_csrf="))
        .expect("the login form sets its CSRF cookie");
    let csrf = hidden(&form.text().await.unwrap(), "csrf");
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("username", "camille"), ("password", password), ("csrf", &csrf), ("next", "/admin")])
        .finish();
    let response = client
        .post(format!("{base}/admin/login"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, csrf_cookie)
        .body(body)
        .send()
        .await
        .unwrap();
    let session = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().to_string())
        .find(|c| c.starts_with("ronron_session="));
    (response.status(), session)
}

#[tokio::test]
async fn ronron_behind_debians_nginx_with_the_documented_site() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path());
    let (http, tls) = (free_port(), free_port());
    let authority = format!("localhost:{tls}");
    let base = format!("https://{authority}");
    let app: TestApp = spawn_app_with(0, |c| {
        c.instance.domain = authority.clone();
        c.instance.scheme = Some("https".into());
        c.instance.dev_mode = Some(true);
        c.server.trusted_proxies = vec!["127.0.0.1/32".into()];
    })
    .await;
    let _nginx = start_nginx(dir.path(), &site(http, tls, app.port, &cert, &key, dir.path()), tls);
    let web = client(&cert, "127.0.0.1".parse().unwrap());

    // WebFinger through TLS, its links and the actor in https.
    let finger =
        web.get(format!("{base}/.well-known/webfinger?resource=acct:bulletin@{authority}")).send().await.unwrap();
    assert_eq!(finger.status(), StatusCode::OK);
    let finger: serde_json::Value = finger.json().await.unwrap();
    let actor_url = finger["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "self")
        .and_then(|l| l["href"].as_str())
        .expect("a self link")
        .to_string();
    assert!(actor_url.starts_with(&format!("{base}/")), "{actor_url}");
    let actor: serde_json::Value = web
        .get(&actor_url)
        .header(header::ACCEPT, "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for field in ["id", "inbox", "outbox", "followers"] {
        assert!(actor[field].as_str().unwrap().starts_with(&format!("{base}/")), "{field}: {actor}");
    }
    assert!(actor["endpoints"]["sharedInbox"].as_str().unwrap().starts_with("https://"), "{actor}");

    // A peer trusting the certificate follows by handle: WebFinger and the actor over https,
    // then its signed Follow is POSTed through nginx (the Host signed is `localhost:PORT`).
    let peer = spawn_app_with(0, |c| c.outgoing.extra_ca_file = Some(cert.display().to_string())).await;
    peers::follow_handle(&peer.state, &peer.data(), &format!("@bulletin@{authority}")).await.expect("follow");
    assert_eq!(peer.drain().await, 1, "the Follow is delivered through nginx (202 to a signed POST)");
    assert_eq!(app.drain().await, 1, "the Accept is sent");
    let row = peer
        .state
        .db
        .read({
            let id = actor_url.clone();
            move |c| ronron::db::models::remote::find_following(c, &id)
        })
        .await
        .unwrap()
        .expect("following row");
    assert_eq!(row.status, ronron::db::models::states::FollowState::Accepted, "the signed Accept was verified");

    // A bulletin: delivered to the peer with its https id, and its page served through nginx.
    let draft = ronron::bulletin::NewsDraft {
        title: "Derrière nginx".into(),
        body_markdown: "Servi en **https**.".into(),
        lang: None,
    };
    let bulletin = bulletins::publish_news(&app.state, draft).await.unwrap();
    let page_url = app.state.urls.bulletin(&bulletin.id).to_string();
    assert!(page_url.starts_with(&format!("{base}/")), "{page_url}");
    assert_eq!(app.drain().await, 1, "the Create is delivered");
    let page = web.get(&page_url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Derrière nginx") && html.contains(&format!("{base}/")), "{html}");
    let note: serde_json::Value = web
        .get(&page_url)
        .header(header::ACCEPT, "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(note["id"].as_str(), Some(page_url.as_str()), "{note}");
    let stored = peer.state.db.read(move |c| ronron::db::models::remote::find_post(c, &page_url)).await.unwrap();
    assert!(stored.is_some(), "the peer stored the bulletin under its https id");

    // nginx's body limit answers before Ronron.
    let big = web
        .post(format!("{base}/inbox"))
        .header(header::CONTENT_TYPE, "application/activity+json")
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Plain http is sent to https.
    let redirect =
        web.get(format!("http://127.0.0.1:{http}/about")).header(header::HOST, "localhost").send().await.unwrap();
    assert_eq!(redirect.status(), StatusCode::MOVED_PERMANENTLY);
    let location = redirect.headers()[header::LOCATION].to_str().unwrap().to_string();
    assert_eq!(location, "https://localhost/about");

    // The login throttle sees the visitors' addresses that nginx forwards: 127.0.0.2 locks only
    // itself, and the admin at 127.0.0.3 logs in (a Secure cookie: https at nginx).
    admins::create_admin(&app.state, "camille", PASSWORD).await.unwrap();
    for _ in 0..admins::MAX_FAILURES_PER_CLIENT {
        let (status, _) = login(&base, &cert, "127.0.0.2", "wrong password!").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _) = login(&base, &cert, "127.0.0.2", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "127.0.0.2 is locked");
    let (status, session) = login(&base, &cert, "127.0.0.3", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "127.0.0.3 is another visitor");
    assert!(session.expect("a session").contains("; Secure"));
}
