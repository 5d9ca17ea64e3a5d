//! `ronron label`: the host's grades against the charter's criteria.

use super::{cli_error, print_bulletin};
use crate::{
    app::label,
    i18n::{Message, Texts},
    state::AppState,
};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum LabelCommand {
    /// List the charter's criteria (ids to use with `label set`).
    Criteria,
    /// Show the current grades.
    Show,
    /// Grade criteria: `label set CRITERION GRADE` or, all saved at once with one label update
    /// listing every change, `label set hoster.backups=met open.data-export=partial …`. Grades are
    /// met, partial, not_met or not_applicable.
    Set {
        /// `CRITERION GRADE`, or one `CRITERION=GRADE` per criterion.
        #[arg(required = true, num_args = 1..)]
        grades: Vec<String>,
        /// Only with `CRITERION GRADE`.
        #[arg(long)]
        comment: Option<String>,
        /// URL of a page that shows it (only with `CRITERION GRADE`).
        #[arg(long)]
        evidence: Option<String>,
        /// On the host's first grading, publish nothing (by default one "our label" post).
        #[arg(long)]
        no_first_post: bool,
    },
    /// Every change to the label (grades, comments, evidence), oldest first.
    History,
}

pub(super) async fn label_command(state: AppState, command: LabelCommand, t: &Texts) -> anyhow::Result<()> {
    match command {
        LabelCommand::Criteria => {
            println!("{} ({})", state.criteria.name(t.lang), state.criteria.id);
            for section in &state.criteria.sections {
                println!("{}", section.title(t.lang));
                for c in &section.criteria {
                    println!("  {:<28} {}", c.id, c.label(t.lang));
                }
            }
        }
        LabelCommand::Show => {
            for g in label::grades(&state).await? {
                println!("{:<28} {:<15} {}", g.criterion, g.grade, g.comment.unwrap_or_default());
            }
        }
        LabelCommand::Set { grades, comment, evidence, no_first_post } => {
            let first = if no_first_post { label::FirstGrading::Quiet } else { label::FirstGrading::Announce };
            let published = match grades.as_slice() {
                [criterion, grade] if !criterion.contains('=') && !grade.contains('=') => {
                    let input =
                        label::GradeInput { criterion: criterion.clone(), grade: grade.clone(), comment, evidence };
                    label::set_one(&state, input, first).await.map_err(cli_error)?
                }
                _ => {
                    if comment.is_some() || evidence.is_some() {
                        return Err(Message::new("cli.comment_for_one_criterion", &[]).into());
                    }
                    let inputs = grades.iter().map(|pair| parse_pair(pair)).collect::<anyhow::Result<Vec<_>>>()?;
                    label::set_grades(&state, inputs, first).await.map_err(cli_error)?
                }
            };
            match published {
                Some(b) => print_bulletin(&state, t, t.get("cli.label_published"), &b),
                None => println!("{}", t.get("cli.label_saved_quietly")),
            }
        }
        LabelCommand::History => {
            for h in label::history(&state).await? {
                println!(
                    "{}  {:<28} {} → {}  {}",
                    h.changed_at.format("%Y-%m-%d %H:%M"),
                    h.criterion,
                    h.old_grade.unwrap_or_else(|| "-".into()),
                    h.new_grade,
                    h.bulletin_id.unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

/// `hoster.backups=met` → the criterion and its grade.
fn parse_pair(pair: &str) -> anyhow::Result<label::GradeInput> {
    match pair.split_once('=') {
        Some((criterion, grade)) if !criterion.trim().is_empty() && !grade.trim().is_empty() => Ok(label::GradeInput {
            criterion: criterion.trim().to_string(),
            grade: grade.trim().to_string(),
            comment: None,
            evidence: None,
        }),
        _ => Err(Message::new("cli.grade_pair", &[("value", pair)]).into()),
    }
}
