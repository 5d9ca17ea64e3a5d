//! Messages that say what really happened (issue 11, part 2): a passed `(expires)`, a key under
//! 2048 bits, a deeply nested body, a database this process cannot write.

use crate::{
    helpers::{spawn_app, TestApp},
    http_signatures::{digest, now_http, FakeMastodon},
};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};

async fn post_inbox(app: &TestApp, headers: &[(&str, String)], body: Vec<u8>) -> (u16, String) {
    let mut request = reqwest::Client::new().post(format!("{}/inbox", app.base())).body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap();
    (status, body["error"].as_str().unwrap_or_default().to_string())
}

fn follow_of(fake: &FakeMastodon, name: &str, app: &TestApp) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/follows/{name}", fake.base),
        "type": "Follow",
        "actor": fake.actor(name),
        "object": app.actor_url(),
    }))
    .unwrap()
}

async fn nothing_stored(app: &TestApp) -> bool {
    app.state.db.read(ronron::db::models::remote::count_received).await.unwrap() == 0
}

#[tokio::test]
async fn a_passed_expires_is_reported_as_expired_seconds_ago_not_an_hour() {
    let app = spawn_app().await;
    let fake = FakeMastodon::start(&["alice"]).await;
    let body = follow_of(&fake, "alice", &app);
    let digest = digest(&body);
    let host = format!("localhost:{}", app.port);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let (created, expires) = (now - 60, now - 30);
    let signing_string = format!(
        "(request-target): post /inbox\n(created): {created}\n(expires): {expires}\nhost: {host}\ndigest: {digest}"
    );
    let signature = format!(
        "keyId=\"{}#main-key\",algorithm=\"hs2019\",created={created},expires={expires},\
         headers=\"(request-target) (created) (expires) host digest\",signature=\"{}\"",
        fake.actor("alice"),
        fake.sign_string("alice", &signing_string)
    );
    let (status, error) = post_inbox(&app, &[("digest", digest), ("signature", signature), ("host", host)], body).await;
    assert_eq!(status, 401, "{error}");
    assert!(error.contains("has expired") && error.contains("seconds ago"), "{error}");
    assert!(!error.contains("hour"), "{error}");
    let seconds: u64 = error.split("passed ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!((30..40).contains(&seconds), "{error}");
    assert!(nothing_stored(&app).await);
}

/// RSASSA-PKCS1-v1_5 with SHA-256 by the `rsa` crate, which still signs with short keys.
fn sign_pkcs1_sha256(key: &rsa::RsaPrivateKey, message: &str) -> Vec<u8> {
    const SHA256_DIGEST_INFO: [u8; 19] = [
        0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
        0x20,
    ];
    let scheme = || rsa::Pkcs1v15Sign { hash_len: Some(32), prefix: SHA256_DIGEST_INFO.into() };
    let hashed = Sha256::digest(message.as_bytes());
    let signature = key.sign(scheme(), &hashed).unwrap();
    // A genuine signature: a verifier that allows short keys accepts it.
    key.to_public_key().verify(scheme(), &hashed, &signature).unwrap();
    signature
}

#[tokio::test]
async fn a_1024_bit_key_is_refused_as_too_short_not_as_a_mismatch() {
    use base64::{engine::general_purpose::STANDARD, Engine};
    use rsa::pkcs8::EncodePublicKey;
    let app = spawn_app().await;
    let fake = FakeMastodon::start(&[]).await;
    let weak = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
    fake.serve_public_key("weak", &weak.to_public_key().to_public_key_pem(rsa::pkcs8::LineEnding::LF).unwrap());
    let body = follow_of(&fake, "weak", &app);
    let (date, digest, host) = (now_http(), digest(&body), format!("localhost:{}", app.port));
    let signing_string = format!(
        "(request-target): post /inbox\nhost: {host}\ndate: {date}\ndigest: {digest}\ncontent-type: application/activity+json"
    );
    let signature = format!(
        "keyId=\"{}#main-key\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date digest content-type\",signature=\"{}\"",
        fake.actor("weak"),
        STANDARD.encode(sign_pkcs1_sha256(&weak, &signing_string))
    );
    let headers = [
        ("date", date),
        ("digest", digest),
        ("content-type", "application/activity+json".to_string()),
        ("signature", signature),
    ];
    let (status, error) = post_inbox(&app, &headers, body).await;
    assert_eq!(status, 401, "{error}");
    assert!(error.contains("too short") && error.contains("2048 bits"), "{error}");
    assert!(error.contains(&fake.actor("weak")), "names the key: {error}");
    assert!(!error.contains("does not match"), "{error}");
    assert!(nothing_stored(&app).await);
}

#[tokio::test]
async fn a_deeply_nested_body_is_reported_as_such_not_as_a_type_error() {
    let app = spawn_app().await;
    let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes();
    let ct = [("content-type", "application/activity+json".to_string())];
    let (status, error) = post_inbox(&app, &ct, nested(10_000)).await;
    assert_eq!(status, 400, "{error}");
    assert!(error.contains("nested too deeply"), "{error}");
    assert!(error.contains("JSON object"), "{error}");
    // Shallower, it is simply not an object.
    let (status, error) = post_inbox(&app, &ct, nested(50)).await;
    assert_eq!(status, 400, "{error}");
    assert!(error.contains("must be a JSON object") && error.contains("array"), "{error}");
    // Deep inside an object too.
    let mut deep_field = b"{\"id\":\"x\",\"type\":\"Note\",\"actor\":\"x\",\"tag\":".to_vec();
    deep_field.extend(nested(1_000));
    deep_field.push(b'}');
    let (status, error) = post_inbox(&app, &ct, deep_field).await;
    assert_eq!(status, 400, "{error}");
    assert!(error.contains("nested too deeply"), "{error}");
    assert!(nothing_stored(&app).await);
}

/// Runs `ronron` in `dir`; as `nobody` when `as_nobody` (root writes whatever the file modes say).
fn ronron(binary: &std::path::Path, dir: &std::path::Path, args: &[&str], as_nobody: bool) -> (bool, String) {
    use std::os::unix::process::CommandExt;
    let mut command = std::process::Command::new(binary);
    command.args(args).current_dir(dir).env_remove("RONRON_CONFIG").env_remove("RONRON_DATABASE_URL");
    if as_nobody {
        command.uid(65534).gid(65534);
    }
    let output = command.output().expect("the binary runs");
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into())
}

/// SQLite says "unable to open database file" when it can read the database but not create its
/// `-wal`/`-shm` files, and "attempt to write a readonly database" when it can create them but not
/// write the file: both now say the database is read-only, naming the path and what to fix.
///
/// Tests often run as root, whom file modes do not stop: then the command runs as `nobody` (uid
/// 65534), exactly as a service account that does not own the files would. As another user, the
/// modes alone reproduce it.
#[test]
fn a_database_this_process_cannot_write_is_named_read_only() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    let as_root = std::fs::metadata(dir).unwrap().uid() == 0;
    // The binary and the folders must be reachable by `nobody`.
    let binary = dir.join("ronron");
    std::fs::copy(env!("CARGO_BIN_EXE_ronron"), &binary).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = dir.join("data");
    let db_path = data.join("ronron.db");
    let url = format!("sqlite://{}", db_path.display());
    let (ok, err) = ronron(&binary, dir, &["init", "--domain", "chaton.example", "--database-url", &url], false);
    assert!(ok, "{err}");
    let (ok, err) = ronron(&binary, dir, &["post", "list"], false);
    assert!(ok, "{err}");
    let read_only = |path: &std::path::Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    for entry in std::fs::read_dir(&data).unwrap() {
        read_only(&entry.unwrap().path(), 0o444);
    }
    read_only(&dir.join("ronron.toml"), 0o444);

    // The file is writable but its folder is not: SQLite cannot create ronron.db-wal next to it
    // (it said "unable to open database file").
    read_only(&db_path, 0o666);
    read_only(&data, 0o555);
    let (ok, err) = ronron(&binary, dir, &["post", "list"], as_root);
    assert!(!ok);
    assert!(!err.contains("unable to open"), "{err}");
    assert!(err.contains("read-only") && err.contains(&format!("folder {}", data.display())), "{err}");
    assert!(err.contains("ronron.db-wal"), "says what SQLite needs there: {err}");

    // The folder is writable but the file is not.
    read_only(&db_path, 0o444);
    read_only(&data, 0o777);
    let (ok, err) = ronron(&binary, dir, &["post", "list"], as_root);
    assert!(!ok);
    assert!(!err.contains("readonly database") && !err.contains("unable to open"), "{err}");
    assert!(err.contains(&format!("the database {} is read-only", db_path.display())), "{err}");
    assert!(err.contains("cannot write the file"), "{err}");

    // Writable again: it works, nothing was lost.
    read_only(&db_path, 0o666);
    let (ok, err) = ronron(&binary, dir, &["post", "list"], as_root);
    assert!(ok, "{err}");
}
