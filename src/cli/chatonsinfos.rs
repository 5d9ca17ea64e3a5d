//! `ronron import --chatonsinfos URL|FILE [--apply]`: fill the profile and the catalogue from the
//! ChatonsInfos files a host already publishes.

use super::cli_error;
use crate::{
    app::chatonsinfos::{self, ImportPlan, ServiceAction, Source},
    chatonsinfos::SkipReason,
    i18n::{Message, Texts},
    state::AppState,
};
use std::{
    io::{BufRead, IsTerminal, Write},
    path::PathBuf,
};

pub(super) async fn import(state: AppState, file: PathBuf, apply: bool, t: &Texts) -> anyhow::Result<()> {
    let typed = file.to_string_lossy().to_string();
    let source = if typed.starts_with("http://") || typed.starts_with("https://") {
        Source::Url(typed)
    } else if typed == "-" {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)?;
        Source::File { name: t.get("cli.standard_input").into(), bytes }
    } else {
        let bytes = std::fs::read(&file).map_err(|e| {
            Message::new("cli.cannot_read_file", &[("file", &file.display().to_string()), ("error", &e.to_string())])
        })?;
        Source::File { name: file.display().to_string(), bytes }
    };
    let plan = chatonsinfos::plan(&state, source).await.map_err(cli_error)?;
    print_plan(t, &plan);
    if plan.changes_nothing() {
        println!("{}", t.get("cli.nothing_to_change"));
        return Ok(());
    }
    if !apply {
        if !std::io::stdin().is_terminal() {
            println!("{}", t.get("cli.dry_run"));
            return Ok(());
        }
        print!("{} ", t.get("cli.apply_question"));
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim().to_lowercase().as_str(), "y" | "yes" | "o" | "oui") {
            println!("{}", t.get("cli.nothing_changed"));
            return Ok(());
        }
    }
    let report = chatonsinfos::apply(&state, plan).await.map_err(cli_error)?;
    let values = [
        ("fields", t.count("cli.count.profile_fields", report.profile_fields)),
        ("added", t.count("cli.count.services_added", report.services_added)),
        ("edited", t.count("cli.count.services_edited", report.services_edited)),
    ];
    println!("{}", t.fill("cli.applied", &values.each_ref().map(|(k, v)| (*k, v.as_str()))));
    Ok(())
}

fn print_plan(t: &Texts, plan: &ImportPlan) {
    println!("{}", t.fill("cli.plan_from", &[("source", &plan.source)]));
    if !plan.profile.is_empty() {
        println!("{}", t.get("cli.plan_profile"));
        for c in &plan.profile {
            println!("  {}: {:?} -> {:?}", t.get(c.field), c.before, c.after);
        }
    }
    for s in &plan.services {
        let values = [("slug", s.slug.as_str()), ("source", &s.source)];
        let line = match s.action {
            ServiceAction::Add => t.fill("cli.plan_service_add", &values),
            ServiceAction::Edit => t.fill("cli.plan_service_edit", &values),
            ServiceAction::Unchanged => t.fill("cli.plan_service_unchanged", &values),
        };
        println!("{line}");
        for c in &s.changes {
            println!("  {}: {:?} -> {:?}", t.get(c.field), c.before, c.after);
        }
    }
    if !plan.skipped.is_empty() {
        println!("{}", t.get("cli.plan_skipped"));
        for k in &plan.skipped {
            let why = match k.reason {
                SkipReason::Unknown => t.get("chatonsinfos.skip_unknown"),
                SkipReason::Derived => t.get("chatonsinfos.skip_derived"),
                SkipReason::SecondContact => t.get("chatonsinfos.skip_contact"),
            };
            let values = [("file", k.file.as_str()), ("line", &k.line.to_string()), ("key", &k.key), ("why", why)];
            println!("{}", t.fill("cli.plan_skipped_line", &values));
        }
    }
}
