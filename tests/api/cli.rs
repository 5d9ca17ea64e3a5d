//! The `ronron` binary as an admin uses it: init, post, list, errors that name the option.

use crate::helpers::run_ronron as ronron;

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
    let (ok, _, err) = ronron(path, &["post", "cancel", "nope"]);
    assert!(!ok && err.contains("no bulletin has the id `nope` (see `ronron post list`)"), "{err}");
    let (ok, _, err) = ronron(path, &["followers", "approve", "999"]);
    assert!(!ok && err.contains("no follower has the id `999` (see `ronron followers list`)"), "{err}");

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

#[test]
fn services_changes_follow_ups_label_and_profile_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let database_url = crate::helpers::fresh_database_url(&dir);
    let (ok, _, err) = ronron(path, &["init", "--domain", "chaton.example", "--database-url", &database_url]);
    assert!(ok, "{err}");
    let run = |args: &[&str]| {
        let (ok, out, err) = ronron(path, args);
        assert!(ok, "{args:?}: {err}");
        out
    };
    run(&[
        "service",
        "add",
        "nextcloud",
        "--name",
        "Nextcloud",
        "--software",
        "Nextcloud",
        "--url",
        "https://cloud.chaton.example",
    ]);
    let (ok, _, err) =
        ronron(path, &["service", "add", "Bad Slug", "--name", "x", "--software", "x", "--url", "https://x"]);
    assert!(!ok && err.contains("--slug"), "{err}");

    let out = run(&[
        "post",
        "change",
        "maintenance",
        "--service",
        "nextcloud",
        "--start",
        "2099-03-12 21:00",
        "--end",
        "2099-03-12 21:15",
        "--title",
        "Mise à jour",
        "--body",
        "Version 26",
        "--translation-lang",
        "en",
        "--translation-title",
        "Upgrade",
    ]);
    assert!(out.starts_with("published "), "{out}");
    let (ok, _, err) = ronron(
        path,
        &[
            "post",
            "change",
            "maintenance",
            "--service",
            "nextcloud",
            "--start",
            "2099-03-12 21:00",
            "--end",
            "2099-03-12 20:00",
            "--title",
            "x",
        ],
    );
    assert!(!ok && err.contains("--end: the window ends before it starts"), "{err}");
    let (ok, _, err) = ronron(path, &["post", "change", "outage", "--service", "nextcloud", "--title", "x"]);
    assert!(!ok && err.contains("--type: `outage` is not one of"), "{err}");

    let out =
        run(&["post", "change", "incident", "--service", "nextcloud", "--impact", "critical", "--title", "Panne"]);
    let incident = out.split_whitespace().nth(1).unwrap().to_string();
    let out = run(&["service", "list"]);
    assert!(out.contains("major_outage"), "{out}");
    run(&["post", "follow-up", &incident, "--state", "resolved", "--body", "Réparé"]);
    let out = run(&["service", "list"]);
    assert!(out.contains("operational"), "{out}");
    let (ok, _, err) = ronron(path, &["post", "follow-up", &incident, "--state", "monitoring"]);
    assert!(!ok && err.contains("already resolved"), "{err}");

    let out = run(&["label", "set", "neutral.no-ads", "met", "--comment", "Aucune publicité"]);
    assert!(out.contains("label update published"), "{out}");
    let (ok, _, err) = ronron(path, &["label", "set", "neutral.no-ads", "great"]);
    assert!(!ok && err.contains("--grade"), "{err}");
    let out = run(&["label", "set", "hoster.backups=met", "open.formats=partial", "neutral.no-ads=met"]);
    assert!(out.contains("label update published"), "{out}");
    let (ok, _, err) = ronron(path, &["label", "set", "hoster.backups=partial", "open.formats=great"]);
    assert!(!ok && err.contains("open.formats: `great` is not one of"), "{err}");
    let (ok, _, err) = ronron(path, &["label", "set", "hoster.backups", "open.formats=met"]);
    assert!(!ok && err.contains("expected CRITERION=GRADE"), "{err}");
    assert!(run(&["label", "show"]).contains("open.formats"));
    assert!(run(&["label", "show"]).contains("neutral.no-ads"));
    assert!(run(&["label", "criteria"]).contains("hoster.backups"));

    run(&["profile", "set", "--display-name", "Chaton", "--country", "FR"]);
    assert!(run(&["profile", "show"]).contains("FR"));
    let (ok, _, err) = ronron(path, &["profile", "set", "--website", "ftp://x"]);
    assert!(!ok && err.contains("--website"), "{err}");

    let out = run(&["post", "news", "--title", "Plus tard", "--body", "AG", "--publish-at", "2099-01-01 10:00"]);
    assert!(out.contains("scheduled for"), "{out}");
    let list = run(&["post", "list"]);
    assert!(list.contains("scheduled") && list.contains("maintenance") && list.contains("[resolved]"), "{list}");
}

/// What the command line says of itself: positional arguments by their name, only the states an
/// incident can move to, times in the host's zone, and admin accounts deleted but never the last.
#[test]
fn the_command_line_names_arguments_lists_incident_states_shows_local_times_and_deletes_admins() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let database_url = crate::helpers::fresh_database_url(&dir);
    let (ok, _, err) = ronron(path, &["init", "--domain", "chaton.example", "--database-url", &database_url]);
    assert!(ok, "{err}");
    let run = |args: &[&str]| {
        let (ok, out, err) = ronron(path, args);
        assert!(ok, "{args:?}: {err}");
        out
    };
    run(&[
        "service",
        "add",
        "cloud",
        "--name",
        "Nuage",
        "--software",
        "Nextcloud",
        "--url",
        "https://cloud.chaton.example",
    ]);
    let out = run(&[
        "post",
        "change",
        "incident",
        "--service",
        "cloud",
        "--title",
        "Panne",
        "--translation-lang",
        "en",
        "--translation-title",
        "Outage",
    ]);
    let incident = out.split_whitespace().nth(1).unwrap().to_string();

    let (ok, _, err) = ronron(path, &["post", "follow-up", &incident, "--state", "completed"]);
    assert!(
        !ok && err.contains("--state: `completed` is not one of: investigating, identified, monitoring, resolved"),
        "{err}"
    );
    assert!(!err.contains("scheduled"), "only the states of an incident: {err}");
    // The translation's title is optional, as the main one is.
    run(&[
        "post",
        "follow-up",
        &incident,
        "--state",
        "identified",
        "--body",
        "Un disque",
        "--translation-lang",
        "en",
        "--translation-body",
        "A disk",
    ]);
    let (ok, _, err) = ronron(path, &["post", "news", "--title", "T", "--body", "x", "--translation-lang", "en"]);
    assert!(!ok && err.contains("--translation-title: must not be empty"), "a news translation needs its title: {err}");

    // A positional argument is named as such, never as an option.
    let (ok, _, err) =
        ronron(path, &["post", "reschedule", &incident, "--start", "2099-01-01 10:00", "--end", "2099-01-01 11:00"]);
    assert!(!ok && err.contains("id: `") && !err.contains("--id"), "{err}");

    // Times in the host's zone (instance.timezone = Europe/Paris), with the zone said.
    let out = run(&["post", "news", "--title", "Plus tard", "--body", "AG", "--publish-at", "2099-07-01 10:00"]);
    assert!(out.contains("scheduled for"), "{out}");
    let list = run(&["post", "list"]);
    let line = list.lines().find(|l| l.contains("Plus tard")).unwrap();
    assert!(line.contains("2099-07-01 10:00 CEST"), "{list}");

    run(&["admin", "create", "alice"]);
    run(&["admin", "create", "bob"]);
    let out = run(&["admin", "delete", "bob"]);
    assert!(out.contains("admin `bob` deleted"), "{out}");
    let out = run(&["admin", "list"]);
    assert!(out.contains("alice") && !out.contains("bob"), "{out}");
    let (ok, _, err) = ronron(path, &["admin", "delete", "bob"]);
    assert!(!ok && err.contains("no admin is named `bob` (see `ronron admin list`)"), "{err}");
    let (ok, _, err) = ronron(path, &["admin", "delete", "alice"]);
    assert!(!ok && err.contains("`alice` is the last admin"), "{err}");
    assert!(run(&["admin", "list"]).contains("alice"), "the last admin is kept");
}

/// The command line speaks the locale's language (`LC_ALL`, then `LC_MESSAGES`, then `LANG`):
/// with a French one, what it did, its refusals (each still naming its option), the errors that
/// something is not there and `check`'s report are in French; `C` and languages without a
/// catalogue get English.
const ADD_CLOUD: &[&str] =
    &["service", "add", "cloud", "--name", "Cloud", "--software", "Nextcloud", "--url", "https://cloud.chaton.example"];

#[test]
fn the_command_line_speaks_the_locales_language() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let database_url = crate::helpers::fresh_database_url(&dir);
    let (ok, _, err) = ronron(path, &["init", "--domain", "chaton.example", "--database-url", &database_url]);
    assert!(ok, "{err}");
    let in_locale = |vars: &[(&str, &str)], args: &[&str]| {
        let mut command = crate::helpers::ronron_command();
        for (name, value) in vars {
            command.env(name, value);
        }
        let output = command.args(args).current_dir(path).output().expect("the binary runs");
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        (output.status.success(), text(&output.stdout), text(&output.stderr))
    };
    let french = |args: &[&str]| in_locale(&[("LANG", "fr_FR.UTF-8")], args);

    let (ok, out, err) = french(ADD_CLOUD);
    assert!(ok, "{err}");
    assert!(out.starts_with("service cloud ajouté (https://chaton.example/"), "{out}");
    let (ok, out, err) = french(&["post", "news", "--title", "Bonjour", "--body", "Premier bulletin"]);
    assert!(ok, "{err}");
    assert!(out.starts_with("publié "), "{out}");
    let (ok, out, _) = french(&["post", "list"]);
    assert!(ok && out.contains(" publié ") && out.contains("Bonjour"), "{out}");

    let (ok, _, err) = french(&["post", "news", "--title", "", "--body", "x", "--lang", "de"]);
    assert!(!ok);
    assert!(err.starts_with("erreur\u{a0}: --title\u{a0}: Ce champ est obligatoire."), "{err}");
    assert!(err.contains("\n--lang\u{a0}: "), "every refused option, each on its line: {err}");
    let (ok, _, err) = french(&["post", "cancel", "nope"]);
    assert!(!ok);
    assert!(err.contains("Aucun bulletin n’a l’identifiant «\u{a0}nope\u{a0}». Voir `ronron post list`."), "{err}");
    let (ok, _, err) = french(&["unblock", "spam.example"]);
    assert!(!ok && err.contains("`spam.example` n’est pas bloqué"), "{err}");
    let (ok, out, err) = french(&["block", "spam.example"]);
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        "spam.example bloqué. Retirés\u{a0}: 0 abonné, 0 abonnement, 0 message. Abandonnés\u{a0}: 0 envoi."
    );

    // A public domain with no trusted proxy: `check` fails, in French.
    let public = format!("[instance]\ndomain = \"chaton.example\"\n[database]\nurl = \"{database_url}\"\n");
    std::fs::write(path.join("public.toml"), public).unwrap();
    let (ok, out, err) = french(&["--config", "public.toml", "check"]);
    assert!(!ok);
    let line = |name: &str| out.lines().find(|l| l.contains(name)).unwrap_or_default().to_string();
    assert!(line("base de données").starts_with("ok "), "{out}");
    assert!(line("proxy inverse").starts_with("ÉCHEC ") && out.contains("server.trusted_proxies est vide"), "{out}");
    assert!(err.contains("1 vérification sur 7 a échoué"), "{err}");

    // LC_ALL wins over LANG; C and a language without a catalogue are English.
    for vars in [[("LANG", "fr_FR.UTF-8"), ("LC_ALL", "C")], [("LANG", "de_DE.UTF-8"), ("LC_MESSAGES", "de_DE")]] {
        let (ok, out, _) = in_locale(&vars, &["service", "remove", "cloud"]);
        assert!(ok && out.trim() == "removed service cloud", "{vars:?}: {out}");
        let (ok, out, _) = in_locale(&vars, ADD_CLOUD);
        assert!(ok && out.starts_with("added service cloud"), "{vars:?}: {out}");
    }
    let (ok, out, _) = in_locale(&[("LANG", "C"), ("LC_MESSAGES", "fr_BE.UTF-8")], &["service", "remove", "cloud"]);
    assert!(ok && out.trim() == "service cloud retiré", "LC_MESSAGES wins over LANG: {out}");
}
