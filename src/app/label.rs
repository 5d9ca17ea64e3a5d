//! The host's label: grades against the charter's criteria.

use super::{
    bulletins::{insert_new, NewBulletin},
    write_and_wake,
};
use crate::{
    bulletin::{self, vocab::*, ValidText},
    db::models::{
        bulletins::Bulletin,
        label::{self, GradeRow},
    },
    federation::FederationError,
    state::AppState,
};

// ---------------------------------------------------------------- label

/// Sets a criterion's grade. A change of grade publishes a label update bulletin listing
/// old → new; a change of comment or evidence only updates the label document.
pub async fn set_grade(
    state: &AppState,
    criterion: &str,
    grade: &str,
    comment: Option<String>,
    evidence: Option<String>,
) -> Result<Option<Bulletin>, FederationError> {
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
