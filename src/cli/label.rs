//! `ronron label`: the host's grades against the charter's criteria.

use super::{cli_error, print_bulletin};
use crate::{app::label, state::AppState};
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum LabelCommand {
    /// List the charter's criteria (ids to use with `label set`).
    Criteria,
    /// Show the current grades.
    Show,
    /// Grade a criterion: met, partial, not_met or not_applicable. A new grade is published.
    Set {
        criterion: String,
        grade: String,
        #[arg(long)]
        comment: Option<String>,
        /// URL of a page that shows it.
        #[arg(long)]
        evidence: Option<String>,
    },
    /// Every change to the label (grades, comments, evidence), oldest first.
    History,
}

pub(super) async fn label_command(state: AppState, command: LabelCommand) -> anyhow::Result<()> {
    match command {
        LabelCommand::Criteria => {
            println!("{} ({})", state.criteria.name_en, state.criteria.id);
            for section in &state.criteria.sections {
                println!("{} / {}", section.title("en"), section.title("fr"));
                for c in &section.criteria {
                    println!("  {:<28} {}", c.id, c.label("en"));
                }
            }
        }
        LabelCommand::Show => {
            for g in label::grades(&state).await? {
                println!("{:<28} {:<15} {}", g.criterion, g.grade, g.comment.unwrap_or_default());
            }
        }
        LabelCommand::Set { criterion, grade, comment, evidence } => {
            match label::set_grade(&state, &criterion, &grade, comment, evidence).await.map_err(cli_error)? {
                Some(b) => print_bulletin(&state, "grade changed; label update published", &b),
                None => println!("grade unchanged; comment and evidence updated"),
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
