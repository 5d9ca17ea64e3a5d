//! The host's label: grades against the charter's criteria.

use super::{
    bulletins::{insert_new, NewBulletin},
    write_and_wake, AppResult,
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
    state::AppState,
};
use chrono::NaiveDateTime;

// The stored grades and their history are what the use-cases hand out.
pub use crate::db::models::label::{GradeRow, HistoryRow};

/// Sets a criterion's grade. A change of grade publishes a label update bulletin listing
/// old → new; a change of comment or evidence only updates the label document.
pub async fn set_grade(
    state: &AppState,
    criterion: &str,
    grade: &str,
    comment: Option<String>,
    evidence: Option<String>,
) -> AppResult<Option<Bulletin>> {
    bulletin::check_optional_text("comment", comment.as_deref())?;
    let now = state.clock.now();
    let grade = bulletin::validate_grade(&state.criteria, criterion, grade, evidence.as_deref())?;
    let st = state.clone();
    let criterion = criterion.to_string();
    write_and_wake(state, move |c| {
        let old = label::find(c, &criterion)?;
        let old_grade: Option<Grade> = old.as_ref().and_then(|o| Grade::parse("grade", &o.grade).ok());
        let row = GradeRow {
            criterion: criterion.clone(),
            grade: grade.cli_name().to_string(),
            comment: comment.clone().or_else(|| old.as_ref().and_then(|o| o.comment.clone())),
            evidence: evidence.clone().or_else(|| old.as_ref().and_then(|o| o.evidence.clone())),
            updated_at: now,
        };
        if old_grade == Some(grade) {
            label::set(c, &row, None)?;
            return Ok(None);
        }
        let mut meta = BulletinMeta::news();
        meta.bulletin_kind = BulletinKind::LabelUpdate;
        meta.criteria_set = Some(st.criteria.id.clone());
        meta.grade_changes = vec![GradeChange {
            criterion: criterion.clone(),
            from: old_grade,
            to: grade,
            comment: row.comment.clone(),
            evidence: row.evidence.clone(),
        }];
        let langs = &st.config.account.languages;
        let text = |lang: &str| {
            let t = st.texts.texts(lang);
            ValidText {
                lang: lang.to_string(),
                title: t.get("post.label_update_title").to_string(),
                body_markdown: row.comment.clone().unwrap_or_default(),
            }
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
        let b = insert_new(c, &st, new, now)?;
        label::set(c, &row, Some(&b.id))?;
        Ok(Some(b))
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
