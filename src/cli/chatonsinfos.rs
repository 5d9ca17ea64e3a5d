//! `ronron import --chatonsinfos URL|FILE [--apply]`: fill the profile and the catalogue from the
//! ChatonsInfos files a host already publishes.

use super::cli_error;
use crate::{
    app::chatonsinfos::{self, ImportPlan, ServiceAction, Source},
    chatonsinfos::SkipReason,
    state::AppState,
};
use anyhow::Context;
use std::{
    io::{BufRead, IsTerminal, Write},
    path::PathBuf,
};

pub(super) async fn import(state: AppState, file: PathBuf, apply: bool) -> anyhow::Result<()> {
    let typed = file.to_string_lossy().to_string();
    let source = if typed.starts_with("http://") || typed.starts_with("https://") {
        Source::Url(typed)
    } else if typed == "-" {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)?;
        Source::File { name: "standard input".into(), bytes }
    } else {
        let bytes = std::fs::read(&file).with_context(|| format!("file: cannot read {}", file.display()))?;
        Source::File { name: file.display().to_string(), bytes }
    };
    let plan = chatonsinfos::plan(&state, source).await.map_err(cli_error)?;
    print_plan(&state, &plan);
    if plan.changes_nothing() {
        println!("nothing to change");
        return Ok(());
    }
    if !apply {
        if !std::io::stdin().is_terminal() {
            println!("nothing was changed: run again with --apply to apply this");
            return Ok(());
        }
        print!("apply these changes? [y/N] ");
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "o" | "oui") {
            println!("nothing was changed");
            return Ok(());
        }
    }
    let report = chatonsinfos::apply(&state, plan).await.map_err(cli_error)?;
    println!(
        "applied: {} profile fields, {} services added, {} services edited",
        report.profile_fields, report.services_added, report.services_edited
    );
    Ok(())
}

fn print_plan(state: &AppState, plan: &ImportPlan) {
    let t = state.texts.texts("en");
    println!("from {}", plan.source);
    if !plan.profile.is_empty() {
        println!("profile:");
        for c in &plan.profile {
            println!("  {}: {:?} -> {:?}", t.get(c.field), c.before, c.after);
        }
    }
    for s in &plan.services {
        let verb = match s.action {
            ServiceAction::Add => "add",
            ServiceAction::Edit => "edit",
            ServiceAction::Unchanged => "unchanged",
        };
        println!("service {} ({verb}, from {}):", s.slug, s.source);
        for c in &s.changes {
            println!("  {}: {:?} -> {:?}", t.get(c.field), c.before, c.after);
        }
    }
    if !plan.skipped.is_empty() {
        println!("not imported:");
        for k in &plan.skipped {
            let why = match k.reason {
                SkipReason::Unknown => "Ronron has no such field",
                SkipReason::Derived => "derived from the service changes posted",
                SkipReason::SecondContact => "Ronron keeps one contact, the e-mail address",
            };
            println!("  {} line {}: {} ({why})", k.file, k.line, k.key);
        }
    }
}
