//! `ronron init`: the guided setup. Each question (domain, database, account, languages, time
//! zone, first admin and its password, services) is asked on standard input in French or English,
//! with its default in brackets, unless its flag answers it. A refused answer is explained and asked
//! again; at the end of the input the remaining questions take their defaults. Nothing is written
//! before every answer is valid; then the commented configuration file, the database with its
//! signing keys, the admin and the services.

use super::{cli_error, open_state};
use crate::{
    app::{admins, catalogue},
    bulletin::ServiceDraft,
    config::{self, Config, Setup},
    i18n::{Message, Texts},
};
use anyhow::bail;
use clap::Args;
use std::{
    io::{BufRead, Write},
    path::PathBuf,
};

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Public domain of this instance, e.g. bulletin.chaton.example (add :port only for tests).
    #[arg(long)]
    pub domain: Option<String>,
    /// Database URL: sqlite://path/to/file.db or postgres://user@host/db.
    #[arg(long)]
    pub database_url: Option<String>,
    /// The followable account's name: @NAME@domain.
    #[arg(long)]
    pub account: Option<String>,
    /// Languages bulletins are written in, the default first: `fr,en`.
    #[arg(long)]
    pub languages: Option<String>,
    /// IANA time zone of the host, e.g. Europe/Paris.
    #[arg(long)]
    pub timezone: Option<String>,
    /// The first web admin account (its password is asked, or generated and printed once).
    #[arg(long, conflicts_with = "no_admin")]
    pub admin: Option<String>,
    /// Create no web admin account now (`ronron admin create NAME` later).
    #[arg(long)]
    pub no_admin: bool,
    /// A service of the catalogue: SLUG,SOFTWARE,URL (repeat the flag for several). Given once,
    /// no service is asked for.
    #[arg(long, value_name = "SLUG,SOFTWARE,URL")]
    pub service: Vec<String>,
    /// Language of the questions: fr or en (default: from LC_ALL or LANG).
    #[arg(long, value_parser = ["fr", "en"])]
    pub lang: Option<String>,
    /// Overwrite the configuration file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Turn the collective role on: a second account, @collectif@domain (an ActivityPub Group),
    /// re-shares the bulletins of the member hosts of its roster (`ronron members add`).
    #[arg(long)]
    pub collective: bool,
}

/// The answers, all checked, before anything is written.
#[derive(Debug)]
struct Answers {
    setup: Setup,
    /// The first admin and its password (`None`: generated).
    admin: Option<(String, Option<String>)>,
    services: Vec<ServiceDraft>,
}

/// The questions' language: `--lang`, else the locale's (`fr_FR.UTF-8` → fr), else English.
pub(super) fn question_language(flag: Option<&str>) -> &'static str {
    let locale = flag.map(str::to_string).or_else(|| {
        ["LC_ALL", "LC_MESSAGES", "LANG"].iter().find_map(|v| std::env::var(v).ok().filter(|l| !l.is_empty()))
    });
    match locale {
        Some(l) if l.starts_with("fr") => "fr",
        _ => "en",
    }
}

/// Asks questions on `input`, writes them and the refusals on `output`.
struct Prompter<R, W> {
    input: R,
    output: W,
    ended: bool,
    /// Reads a secret without echoing it, when the questions come from a terminal; `None` when
    /// they come from a pipe (a script, the tests): the secret is then a line of `input`.
    hidden: Option<fn() -> std::io::Result<String>>,
}

impl<R: BufRead, W: Write> Prompter<R, W> {
    /// Asks `question` until the answer (or the default, for an empty line or the end of the input)
    /// passes `check`; a refusal is written and the question asked again.
    fn ask<T>(
        &mut self,
        question: &str,
        default: &str,
        check: impl Fn(&str) -> Result<T, String>,
    ) -> anyhow::Result<T> {
        self.ask_maybe_hidden(question, default, None, check)
    }

    /// [`Prompter::ask`] for a secret: on a terminal, what is typed is not shown.
    fn ask_secret<T>(&mut self, question: &str, check: impl Fn(&str) -> Result<T, String>) -> anyhow::Result<T> {
        self.ask_maybe_hidden(question, "", self.hidden, check)
    }

    fn ask_maybe_hidden<T>(
        &mut self,
        question: &str,
        default: &str,
        hidden: Option<fn() -> std::io::Result<String>>,
        check: impl Fn(&str) -> Result<T, String>,
    ) -> anyhow::Result<T> {
        loop {
            let answer = match self.ended {
                true => default.to_string(),
                false => {
                    match default.is_empty() {
                        true => write!(self.output, "{question} ")?,
                        false => write!(self.output, "{question} [{default}] ")?,
                    }
                    self.output.flush()?;
                    let mut line = String::new();
                    match hidden {
                        // The terminal's line ended by Enter: nothing was echoed, not even it.
                        Some(read) => {
                            line = read()?;
                            writeln!(self.output)?;
                        }
                        None => {
                            if self.input.read_line(&mut line)? == 0 {
                                self.ended = true;
                                writeln!(self.output)?;
                            }
                        }
                    }
                    match line.trim() {
                        "" => default.to_string(),
                        typed => typed.to_string(),
                    }
                }
            };
            match check(&answer) {
                Ok(value) => return Ok(value),
                Err(refusal) if self.ended && answer == default => bail!(refusal),
                Err(refusal) => writeln!(self.output, "{refusal}")?,
            }
        }
    }
}

/// A flag's value checked like the answer to its question: a refusal names the flag.
fn from_flag<T>(flag: &str, value: &str, check: impl Fn(&str) -> Result<T, String>) -> anyhow::Result<T> {
    check(value).map_err(|refusal| anyhow::anyhow!("--{flag}: {refusal}"))
}

/// One configuration value checked by the configuration's own rules.
fn config_accepts(adjust: impl FnOnce(&mut Config)) -> bool {
    let mut config = Config::default();
    adjust(&mut config);
    config.validate().is_ok()
}

fn check_domain(t: &Texts, value: &str) -> Result<String, String> {
    match config_accepts(|c| c.instance.domain = value.to_string()) {
        true => Ok(value.to_string()),
        false => Err(t.fill("deploy.bad_domain", &[("value", value)])),
    }
}

fn check_database(t: &Texts, value: &str) -> Result<String, String> {
    match config_accepts(|c| c.database.url = value.to_string()) {
        true => Ok(value.to_string()),
        false => Err(t.fill("deploy.bad_database", &[("value", value)])),
    }
}

fn check_account(t: &Texts, value: &str) -> Result<String, String> {
    match config::is_valid_username(value) {
        true => Ok(value.to_string()),
        false => Err(t.fill("deploy.bad_account", &[("value", value)])),
    }
}

fn check_languages(t: &Texts, value: &str) -> Result<Vec<String>, String> {
    let codes: Vec<String> =
        value.split([',', ' ']).map(str::trim).filter(|c| !c.is_empty()).map(str::to_string).collect();
    if codes.is_empty() {
        return Err(t.get("deploy.no_language").to_string());
    }
    match codes.iter().find(|c| !config::is_language_code(c)) {
        Some(bad) => Err(t.fill("deploy.bad_language", &[("value", bad)])),
        None => Ok(codes),
    }
}

fn check_timezone(t: &Texts, value: &str) -> Result<String, String> {
    match value.parse::<chrono_tz::Tz>() {
        Ok(_) => Ok(value.to_string()),
        Err(_) => Err(t.fill("deploy.bad_timezone", &[("value", value)])),
    }
}

/// The admin's name; empty means none.
fn check_admin(t: &Texts, value: &str) -> Result<Option<String>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    let ok = value.chars().count() <= 64 && value.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
    match ok {
        true => Ok(Some(value.to_string())),
        false => Err(t.fill("deploy.bad_admin", &[("value", value)])),
    }
}

/// The admin's password; empty means generated.
fn check_password(t: &Texts, value: &str) -> Result<Option<String>, String> {
    match value.chars().count() {
        0 => Ok(None),
        n if n < admins::MIN_PASSWORD_CHARS => {
            Err(t.fill("deploy.short_password", &[("min", &admins::MIN_PASSWORD_CHARS.to_string())]))
        }
        _ => Ok(Some(value.to_string())),
    }
}

/// `SLUG,SOFTWARE,URL` (or separated by spaces); empty means no more services.
fn check_service(t: &Texts, value: &str) -> Result<Option<ServiceDraft>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    let parts: Vec<&str> = value.split([',', ' ']).map(str::trim).filter(|p| !p.is_empty()).collect();
    let [slug, software, url] = parts[..] else {
        return Err(t.fill("deploy.bad_service", &[("value", value)]));
    };
    let draft = ServiceDraft {
        slug: slug.to_string(),
        name: software.to_string(),
        software: software.to_string(),
        url: url.to_string(),
        description: String::new(),
        audience: String::new(),
        registration: "open".into(),
    };
    // Every refused part at once, each in the setup's words.
    let fields: Vec<String> = match draft.validate() {
        Ok(()) => return Ok(Some(draft)),
        Err(crate::bulletin::BulletinError::Fields(refusals)) => refusals.iter().map(|r| r.field.to_string()).collect(),
        Err(crate::bulletin::BulletinError::Invalid { field, .. }) => vec![field.to_string()],
        Err(_) => vec![],
    };
    let mut words: Vec<String> = Vec::new();
    for field in &fields {
        let line = match field.as_str() {
            "slug" => t.fill("deploy.bad_service_slug", &[("value", slug)]),
            "url" => t.fill("deploy.bad_service_url", &[("value", url)]),
            _ => t.fill("deploy.bad_service", &[("value", value)]),
        };
        if !words.contains(&line) {
            words.push(line);
        }
    }
    if words.is_empty() {
        words.push(t.fill("deploy.bad_service", &[("value", value)]));
    }
    Err(words.join(" "))
}

/// Every answer, from its flag or its question.
fn gather(
    args: &InitArgs,
    t: &Texts,
    input: impl BufRead,
    output: impl Write,
    hidden: Option<fn() -> std::io::Result<String>>,
) -> anyhow::Result<Answers> {
    let mut p = Prompter { input, output, ended: false, hidden };
    let defaults = Setup::new("localhost:8080", "sqlite://data/ronron.db");
    macro_rules! answer {
        ($flag:literal, $value:expr, $question:expr, $default:expr, $check:expr) => {
            match $value {
                Some(value) => from_flag($flag, value, $check)?,
                None => p.ask($question, $default, $check)?,
            }
        };
    }
    writeln!(p.output, "{}", t.get("deploy.intro"))?;
    let domain = answer!("domain", &args.domain, t.get("deploy.ask_domain"), &defaults.domain, |v| check_domain(t, v));
    let database_url =
        answer!("database-url", &args.database_url, t.get("deploy.ask_database"), &defaults.database_url, |v| {
            check_database(t, v)
        });
    let account =
        answer!("account", &args.account, t.get("deploy.ask_account"), &defaults.account, |v| check_account(t, v));
    let languages =
        answer!("languages", &args.languages, t.get("deploy.ask_languages"), &defaults.languages.join(","), |v| {
            check_languages(t, v)
        });
    let timezone =
        answer!("timezone", &args.timezone, t.get("deploy.ask_timezone"), &defaults.timezone, |v| check_timezone(t, v));
    let admin = match (args.no_admin, &args.admin) {
        (true, _) => None,
        (false, Some(name)) => from_flag("admin", name, |v| check_admin(t, v))?,
        (false, None) => p.ask(t.get("deploy.ask_admin"), "", |v| check_admin(t, v))?,
    };
    let admin = match admin {
        Some(name) => {
            let password = p.ask_secret(t.get("deploy.ask_password"), |v| check_password(t, v))?;
            Some((name, password))
        }
        None => None,
    };
    let mut services = Vec::new();
    for flag in &args.service {
        if let Some(draft) = from_flag("service", flag, |v| check_service(t, v))? {
            services.push(draft);
        }
    }
    if args.service.is_empty() {
        while let Some(draft) = p.ask(t.get("deploy.ask_service"), "", |v| check_service(t, v))? {
            if services.iter().any(|s: &ServiceDraft| s.slug == draft.slug) {
                writeln!(p.output, "{}", t.fill("deploy.twice_service", &[("value", &draft.slug)]))?;
                continue;
            }
            services.push(draft);
        }
    }
    let setup =
        Setup { account, languages, timezone, collective: args.collective, ..Setup::new(&domain, &database_url) };
    Ok(Answers { setup, admin, services })
}

/// Writes the configuration readable by its owner and group only (0640): it can hold a database
/// password, later an SMTP one. A new file is created, never one found at a symlink's end,
/// unless `--force` asks to replace it.
fn write_private(path: &std::path::Path, text: &str, replace: bool) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut options = std::fs::OpenOptions::new();
    options.write(true).mode(0o640);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

pub(super) async fn init(path: PathBuf, args: &InitArgs, t: &Texts) -> anyhow::Result<()> {
    if path.exists() && !args.force {
        return Err(Message::new("cli.config_exists", &[("file", &path.display().to_string())]).into());
    }
    let stdin = std::io::stdin();
    // The admin's password is typed without echo on a terminal; piped, it is read as a line.
    let hidden = std::io::IsTerminal::is_terminal(&stdin).then_some(rpassword::read_password as fn() -> _);
    let answers = gather(args, t, stdin.lock(), std::io::stderr(), hidden)?;
    let text = config::setup_file(&answers.setup);
    // The answers were each checked: a configuration they make that does not load is our fault.
    let config = Config::from_toml_and_env(&text, &[])?;
    let file = path.display().to_string();
    write_private(&path, &text, args.force)
        .map_err(|e| Message::new("cli.cannot_write", &[("file", &file), ("error", &e.to_string())]))?;
    let state = open_state(config.clone()).await?;
    println!("{}", t.fill("cli.config_written", &[("file", &file)]));
    println!("{}", t.fill("cli.start_with", &[("handle", &config.handle()), ("file", &file)]));
    if let Some((name, password)) = answers.admin {
        let (password, generated) = match password {
            Some(typed) => (typed, false),
            None => (admins::random_token()[..20].to_string(), true),
        };
        let admin = admins::create_admin(&state, &name, &password).await.map_err(cli_error)?;
        super::print_admin_created(
            t,
            &admin.username,
            state.urls.admin("login").as_str(),
            generated.then_some(&password),
        );
    }
    for draft in answers.services {
        let s = catalogue::add(&state, draft).await.map_err(cli_error)?;
        println!(
            "{}",
            t.fill("cli.service_added", &[("slug", &s.slug), ("url", state.urls.service(&s.slug).as_str())])
        );
    }
    if let Some(group) = config.collective_account() {
        let handle = format!("@{group}@{}", config.instance.domain);
        println!("{}", t.fill("cli.collective_ready", &[("handle", &handle), ("file", &file)]));
    }
    println!("{}", t.fill("cli.check_with", &[("file", &file)]));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Catalog;
    use clap::Parser;

    fn args(flags: &[&str]) -> InitArgs {
        let mut argv = vec!["ronron", "init"];
        argv.extend_from_slice(flags);
        match crate::cli::Cli::parse_from(argv).command {
            crate::cli::Command::Init(args) => args,
            _ => unreachable!(),
        }
    }

    fn run(flags: &[&str], input: &str, lang: &str) -> (anyhow::Result<Answers>, String) {
        let catalog = Catalog::embedded();
        let mut output = Vec::new();
        let answers = gather(&args(flags), catalog.texts(lang), input.as_bytes(), &mut output, None);
        (answers, String::from_utf8(output).unwrap())
    }

    #[test]
    fn the_password_is_read_without_echo_on_a_terminal() {
        // On a terminal the password comes from the no-echo reader, not from the input's lines,
        // and the output (the questions) never shows it.
        let mut output = Vec::new();
        let mut p = Prompter {
            input: "next answer\n".as_bytes(),
            output: &mut output,
            ended: false,
            hidden: Some(|| Ok("typed unseen 1234".to_string())),
        };
        let password = p.ask_secret("Password?", |v| Ok::<_, String>(v.to_string())).unwrap();
        assert_eq!(password, "typed unseen 1234");
        assert_eq!(p.ask("Next?", "", |v| Ok::<_, String>(v.to_string())).unwrap(), "next answer");
        let shown = String::from_utf8(output).unwrap();
        assert!(!shown.contains("typed unseen"), "{shown}");
        // Piped (no terminal), the password is a line of the input, as scripts give it.
        let mut p = Prompter { input: "piped 12345678\n".as_bytes(), output: Vec::new(), ended: false, hidden: None };
        assert_eq!(p.ask_secret("Password?", |v| Ok::<_, String>(v.to_string())).unwrap(), "piped 12345678");
    }

    #[test]
    fn a_refused_answer_is_explained_and_asked_again() {
        let input = "Chaton.example/x\nbulletin.chaton.example\n\nNouvelles!\nnouvelles\nfr, xyz\nfr,br\nMars/Olympus\n\
                     Europe/Brussels\nalice\ncourt\nun-mot-de-passe-long\ncloud Nextcloud ftp://x\nCloud Nextcloud https://c.example\n\
                     cloud Nextcloud https://cloud.chaton.example\ncloud Nextcloud https://x.example\n\n";
        let (answers, output) = run(&[], input, "fr");
        let answers = answers.unwrap();
        assert_eq!(answers.setup.domain, "bulletin.chaton.example");
        assert_eq!(answers.setup.database_url, "sqlite://data/ronron.db");
        assert_eq!(answers.setup.account, "nouvelles");
        assert_eq!(answers.setup.languages, vec!["fr", "br"]);
        assert_eq!(answers.setup.timezone, "Europe/Brussels");
        assert_eq!(answers.setup.trusted_proxies, config::LOCAL_PROXIES);
        assert_eq!(answers.admin, Some(("alice".to_string(), Some("un-mot-de-passe-long".to_string()))));
        assert_eq!(answers.services.len(), 1);
        assert_eq!(answers.services[0].url, "https://cloud.chaton.example");
        let t = Catalog::embedded();
        let t = t.texts("fr");
        for refusal in [
            t.fill("deploy.bad_domain", &[("value", "Chaton.example/x")]),
            t.fill("deploy.bad_account", &[("value", "Nouvelles!")]),
            t.fill("deploy.bad_language", &[("value", "xyz")]),
            t.fill("deploy.bad_timezone", &[("value", "Mars/Olympus")]),
            t.fill("deploy.short_password", &[("min", "10")]),
            t.fill("deploy.bad_service_url", &[("value", "ftp://x")]),
            t.fill("deploy.bad_service_slug", &[("value", "Cloud")]),
            t.fill("deploy.twice_service", &[("value", "cloud")]),
        ] {
            assert!(output.contains(&refusal), "{refusal} not in:\n{output}");
        }
        assert!(output.contains(t.get("deploy.ask_timezone")), "{output}");
    }

    #[test]
    fn flags_answer_their_questions_and_the_end_of_input_takes_the_defaults() {
        let (answers, output) = run(
            &[
                "--domain",
                "chaton.example",
                "--account",
                "info",
                "--no-admin",
                "--service",
                "pad,Etherpad,https://pad.example",
            ],
            "",
            "en",
        );
        let answers = answers.unwrap();
        assert_eq!(answers.setup.domain, "chaton.example");
        assert_eq!(answers.setup.account, "info");
        assert_eq!(answers.setup.languages, vec!["fr", "en"]);
        assert_eq!(answers.admin, None);
        assert_eq!(answers.services[0].slug, "pad");
        let t = Catalog::embedded();
        assert!(!output.contains(t.texts("en").get("deploy.ask_domain")), "a flag's question is not asked: {output}");
        // The end of the input, even after a refusal, takes the defaults (no admin).
        let (answers, _) = run(&[], "localhost:8080\nsqlite://x.db\nBad Name\n", "en");
        let answers = answers.unwrap();
        assert_eq!(answers.setup.account, "bulletin");
        assert_eq!(answers.admin, None);
        // An admin without a password typed gets a generated one.
        let (answers, _) = run(&["--admin", "camille"], "", "en");
        assert_eq!(answers.unwrap().admin, Some(("camille".to_string(), None)));
        // A bad flag stops, naming the flag.
        let (answers, _) = run(&["--timezone", "Nowhere"], "", "fr");
        let err = answers.unwrap_err().to_string();
        assert!(err.starts_with("--timezone: ") && err.contains("Nowhere"), "{err}");
    }
}
