//! The host's label: grades against the charter's criteria.

use super::{
    bulletins::{insert_new, NewBulletin},
    write_and_wake, AppError, AppResult,
};
use crate::{
    bulletin::{
        self,
        criteria::{Criterion, Section},
        vocab::*,
        ValidText,
    },
    db::{
        models::{bulletins::Bulletin, label},
        DbResult,
    },
    refusal::Kind,
    state::AppState,
};
use chrono::NaiveDateTime;

// The stored grades and their history are what the use-cases hand out.
pub use crate::db::models::label::{GradeRow, HistoryRow};

/// One criterion's grade as a door hands it in (comment and evidence left out keep theirs).
#[derive(Debug, Clone)]
pub struct GradeInput {
    pub criterion: String,
    pub grade: String,
    pub comment: Option<String>,
    pub evidence: Option<String>,
}

/// What the first grading of the host publishes: one "our label" post, or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstGrading {
    Announce,
    Quiet,
}

/// Sets a criterion's grade. A change of grade publishes a label update bulletin listing
/// old → new; a change of comment or evidence only updates the label document.
pub async fn set_grade(
    state: &AppState,
    criterion: &str,
    grade: &str,
    comment: Option<String>,
    evidence: Option<String>,
) -> AppResult<Option<Bulletin>> {
    let input = GradeInput { criterion: criterion.to_string(), grade: grade.to_string(), comment, evidence };
    set_one(state, input, FirstGrading::Announce).await
}

/// `set_grade` with the choice of the first grading; errors name `criterion`, `grade`,
/// `comment` or `evidence`.
pub async fn set_one(state: &AppState, input: GradeInput, first: FirstGrading) -> AppResult<Option<Bulletin>> {
    let grade = check(state, &input)?;
    save(state, vec![(input, grade)], first).await
}

/// Sets several grades at once, all or none: one label update lists every change (old → new).
/// When nothing was graded before, `first` says whether one "our label" post goes out or none.
/// An error names the criterion and the field (`hoster.backups.grade`).
pub async fn set_grades(state: &AppState, inputs: Vec<GradeInput>, first: FirstGrading) -> AppResult<Option<Bulletin>> {
    if inputs.is_empty() {
        return Err(AppError::refused("grades", Kind::NoGrade, &[]));
    }
    let mut checked = Vec::with_capacity(inputs.len());
    for input in inputs {
        if checked.iter().any(|(seen, _): &(GradeInput, Grade)| seen.criterion == input.criterion) {
            return Err(AppError::refused(input.criterion.clone(), Kind::GradedTwice, &[("value", &input.criterion)]));
        }
        let grade = check(state, &input).map_err(|e| {
            let field = match e.field() {
                Some("criterion") | None => input.criterion.clone(),
                Some(f) => format!("{}.{f}", input.criterion),
            };
            e.about(field)
        })?;
        checked.push((input, grade));
    }
    save(state, checked, first).await
}

/// Every refusal `set_grades` would make, not just the first, each naming its field
/// (`hoster.backups.evidence`): what a form shows next to each field at once.
/// A refusal of the criterion itself (not one of the charter's), rather than of its grade.
fn is_about_criterion(e: &bulletin::BulletinError) -> bool {
    matches!(e, bulletin::BulletinError::Fields(refusals) if refusals.iter().any(|r| r.field == "criterion"))
}

pub fn problems(state: &AppState, inputs: &[GradeInput]) -> Vec<AppError> {
    inputs
        .iter()
        .flat_map(|input| {
            let mut found = Vec::new();
            let at = |field: &str| format!("{}.{field}", input.criterion);
            if let Err(e) = bulletin::check_optional_text("comment", input.comment.as_deref()) {
                found.push(AppError::from(e).about(at("comment")));
            }
            // The grade and the evidence are checked apart, so both can be reported.
            let blame = |e: bulletin::BulletinError, field: &str| match e {
                e if is_about_criterion(&e) => AppError::from(e).about(input.criterion.clone()),
                e => AppError::from(e).about(at(field)),
            };
            if let Err(e) = bulletin::validate_grade(&state.criteria, &input.criterion, &input.grade, None) {
                found.push(blame(e, "grade"));
            }
            if let Err(e) =
                bulletin::validate_grade(&state.criteria, &input.criterion, "met", input.evidence.as_deref())
            {
                if !is_about_criterion(&e) {
                    found.push(blame(e, "evidence"));
                }
            }
            found
        })
        .collect()
}

fn check(state: &AppState, input: &GradeInput) -> AppResult<Grade> {
    bulletin::check_optional_text("comment", input.comment.as_deref())?;
    Ok(bulletin::validate_grade(&state.criteria, &input.criterion, &input.grade, input.evidence.as_deref())?)
}

async fn save(state: &AppState, inputs: Vec<(GradeInput, Grade)>, first: FirstGrading) -> AppResult<Option<Bulletin>> {
    let now = state.clock.now();
    let st = state.clone();
    write_and_wake(state, move |c| {
        let first_grading = label::grades(c)?.is_empty();
        let mut rows = Vec::with_capacity(inputs.len());
        let mut changes = Vec::new();
        for (input, grade) in inputs {
            let old = label::find(c, &input.criterion)?;
            let old_grade: Option<Grade> = old.as_ref().and_then(|o| Grade::parse("grade", &o.grade).ok());
            let row = GradeRow {
                criterion: input.criterion.clone(),
                grade: grade.cli_name().to_string(),
                comment: input.comment.or_else(|| old.as_ref().and_then(|o| o.comment.clone())),
                evidence: input.evidence.or_else(|| old.as_ref().and_then(|o| o.evidence.clone())),
                updated_at: now,
            };
            // Resubmitting a whole form leaves most rows as they were: no history line for them.
            if old
                .as_ref()
                .is_some_and(|o| o.grade == row.grade && o.comment == row.comment && o.evidence == row.evidence)
            {
                continue;
            }
            if old_grade != Some(grade) {
                changes.push(GradeChange {
                    criterion: row.criterion.clone(),
                    from: old_grade,
                    to: grade,
                    comment: row.comment.clone(),
                    evidence: row.evidence.clone(),
                });
            }
            rows.push((row, old_grade != Some(grade)));
        }
        let quiet = first_grading && first == FirstGrading::Quiet;
        let bulletin = if changes.is_empty() || quiet {
            None
        } else {
            let title = |t: &crate::i18n::Texts| {
                if first_grading {
                    t.get("publishing.label_first_title").to_string()
                } else {
                    t.get("post.label_update_title").to_string()
                }
            };
            // One change keeps its comment as the post's text; several are listed line by line.
            let body = match changes.as_slice() {
                [one] => one.comment.clone().unwrap_or_default(),
                _ => String::new(),
            };
            let mut meta = BulletinMeta::news();
            meta.bulletin_kind = BulletinKind::LabelUpdate;
            meta.criteria_set = Some(st.criteria.id.clone());
            meta.grade_changes = changes;
            let langs = &st.config.account.languages;
            let text = |lang: &str| ValidText {
                lang: lang.to_string(),
                title: title(st.texts.texts(lang)),
                body_markdown: body.clone(),
            };
            let new = NewBulletin {
                main: text(&langs[0]),
                translation: langs.get(1).map(|l| text(l)),
                meta,
                services: vec![],
                starts_at: None,
                ends_at: None,
                publish_at: None,
                in_reply_to: None,
            };
            Some(insert_new(c, &st, new, now)?)
        };
        for (row, changed) in &rows {
            let announced = if *changed { bulletin.as_ref().map(|b| b.id.as_str()) } else { None };
            label::set(c, row, announced)?;
        }
        Ok(bulletin)
    })
    .await
}

/// A criterion of the charter with its grade, if it has one.
#[derive(Debug, Clone)]
pub struct GradedCriterion {
    pub criterion: Criterion,
    /// None while not graded.
    pub grade: Option<Grade>,
    pub comment: Option<String>,
    pub evidence: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
}

/// A section of the charter, its criteria graded.
#[derive(Debug, Clone)]
pub struct GradedSection {
    pub section: Section,
    pub criteria: Vec<GradedCriterion>,
}

/// The whole charter, section by section, each criterion with its grade: what the host page, the
/// admin's grading form and the API's label show.
pub async fn sheet(state: &AppState) -> DbResult<Vec<GradedSection>> {
    let grades = state.db.read(label::grades).await?;
    Ok(state
        .criteria
        .sections
        .iter()
        .map(|section| GradedSection {
            section: section.clone(),
            criteria: section
                .criteria
                .iter()
                .map(|criterion| {
                    let row = grades.iter().find(|g| g.criterion == criterion.id);
                    GradedCriterion {
                        criterion: criterion.clone(),
                        grade: row.map(|g| Grade::parse("grade", &g.grade).unwrap_or(Grade::Unknown)),
                        comment: row.and_then(|g| g.comment.clone()),
                        evidence: row.and_then(|g| g.evidence.clone()),
                        updated_at: row.map(|g| g.updated_at),
                    }
                })
                .collect(),
        })
        .collect())
}

/// The grades as stored, criterion by criterion (including criteria a former charter had).
pub async fn grades(state: &AppState) -> DbResult<Vec<GradeRow>> {
    state.db.read(label::grades).await
}

/// Every change to the label (grades, comments, evidence), oldest first.
pub async fn history(state: &AppState) -> DbResult<Vec<HistoryRow>> {
    state.db.read(label::history).await
}

/// The grade of one criterion, if it was graded.
pub async fn grade(state: &AppState, criterion: &str) -> DbResult<Option<GradeRow>> {
    let criterion = criterion.to_string();
    state.db.read(move |c| label::find(c, &criterion)).await
}
