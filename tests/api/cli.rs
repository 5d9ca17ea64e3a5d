//! The `ronron` binary as an admin uses it: init, post, list, errors that name the option.

use std::process::Command;

fn ronron(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_ronron"))
        .args(args)
        .current_dir(dir)
        .env_remove("RONRON_CONFIG")
        .output()
        .expect("the binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into(),
        String::from_utf8_lossy(&output.stderr).into(),
    )
}

#[test]
fn init_post_edit_delete_and_list_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    // The same commands on PostgreSQL when TEST_DATABASE_URL is set.
    let database_url = crate::helpers::fresh_database_url(&dir);
    let (ok, out, err) =
        ronron(path, &["init", "--domain", "bulletin.chaton.example", "--database-url", &database_url]);
    assert!(ok, "{err}");
    assert!(out.contains("@bulletin@bulletin.chaton.example"), "{out}");
    let (ok, _, err) = ronron(path, &["init"]);
    assert!(!ok);
    assert!(err.contains("already exists"), "{err}");

    let (ok, out, err) = ronron(path, &["post", "news", "--title", "Bonjour", "--body", "Premier **bulletin**"]);
    assert!(ok, "{err}");
    assert!(out.contains("https://bulletin.chaton.example/b/"), "{out}");
    let id = out.split_whitespace().nth(1).unwrap().to_string();
    let (ok, _, err) = ronron(path, &["post", "edit", &id, "--title", "Bonjour à tous"]);
    assert!(ok, "{err}");
    let (ok, out, _) = ronron(path, &["post", "list"]);
    assert!(ok);
    assert!(out.contains("edited") && out.contains("Bonjour à tous"), "{out}");
    let (ok, _, err) = ronron(path, &["post", "delete", &id]);
    assert!(ok, "{err}");
    let (ok, _, err) = ronron(path, &["post", "delete", &id]);
    assert!(!ok);
    assert!(err.contains("was deleted"), "{err}");

    let (ok, _, err) = ronron(path, &["post", "news", "--title", "", "--body", "x"]);
    assert!(!ok);
    assert!(err.contains("--title: must not be empty"), "{err}");
    let (ok, _, err) = ronron(path, &["post", "news", "--title", "T", "--body", "x", "--lang", "de"]);
    assert!(!ok);
    assert!(err.contains("--lang"), "{err}");
    let (ok, out, _) = ronron(path, &["post", "list"]);
    assert!(ok);
    assert_eq!(out.lines().count(), 1, "nothing was published by the failed commands: {out}");

    std::fs::write(path.join("bad.toml"), "[account]\nname = \"Not Valid\"\n").unwrap();
    let (ok, _, err) = ronron(path, &["--config", "bad.toml", "post", "list"]);
    assert!(!ok);
    assert!(err.contains("account.name"), "{err}");
}
