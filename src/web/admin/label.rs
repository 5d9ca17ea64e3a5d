//! The label: one form grading every criterion of the charter (grade, comment, evidence), saved
//! at once; a save publishes one label update listing every changed grade.

use super::{
    common::{admin_page, done_message, refusal, see_other, FormData},
    session::{Admin, AdminForm},
};
use crate::{
    app::{label, AppError},
    bulletin::vocab::*,
    federation::Federation,
    state::AppState,
    web::{
        html::{render, Page, PageError, Section},
        i18n::Texts,
        state_of,
        views::{self, Opt},
    },
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;

pub struct GradeForm {
    pub id: String,
    pub label: String,
    pub grades: Vec<Opt>,
    pub comment: String,
    pub evidence: String,
    /// Errors shown next to their field.
    pub grade_error: Option<String>,
    pub comment_error: Option<String>,
    pub evidence_error: Option<String>,
}

pub struct GradeSection {
    pub title: String,
    pub criteria: Vec<GradeForm>,
}

#[derive(Template)]
#[template(path = "admin/label.html")]
struct LabelPage<'a> {
    page: Page<'a>,
    done: Option<String>,
    error: Option<String>,
    action: String,
    /// Nothing graded yet: the admin chooses whether the first save is announced.
    first_grading: bool,
    quiet_first: bool,
    sections: Vec<GradeSection>,
}

/// The form's names for a criterion's fields: the app's error fields are the same.
fn name(criterion: &str, field: &str) -> String {
    format!("{criterion}.{field}")
}

/// A refusal in the visitor's words: what the grading form can refuse has a catalogue entry.
fn plain_words(t: &Texts, e: &AppError) -> String {
    let field = e.field().unwrap_or_default();
    if field.ends_with(".evidence") {
        t.get("publishing.error_evidence").to_string()
    } else if field.ends_with(".grade") {
        t.get("publishing.error_grade").to_string()
    } else if field.ends_with(".comment") {
        t.get("publishing.error_control_character").to_string()
    } else {
        match e.refusals().first() {
            Some(refusal) => refusal.reason.words(t),
            None => e.reason(),
        }
    }
}

async fn label_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    submitted: Option<(&FormData, &[AppError])>,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let page = admin_page(state, req, |t| t.get("admin_label")).await?;
    let t = page.t;
    let lang = t.lang;
    let sheet = label::sheet(state).await?;
    let first_grading = sheet.iter().all(|s| s.criteria.iter().all(|c| c.grade.is_none()));
    let error_at = |field: &str| {
        submitted.and_then(|(_, errors)| errors.iter().find(|e| e.field() == Some(field)).map(|e| plain_words(t, e)))
    };
    let sections = sheet
        .into_iter()
        .map(|graded| GradeSection {
            title: graded.section.title(lang).to_string(),
            criteria: graded
                .criteria
                .into_iter()
                .map(|g| {
                    let id = g.criterion.id.clone();
                    // After a refusal the form shows what was typed, not what is stored.
                    let (grade, comment, evidence) = match submitted {
                        Some((form, _)) => (
                            form.get(&name(&id, "grade")),
                            form.text(&name(&id, "comment")),
                            form.text(&name(&id, "evidence")),
                        ),
                        None => (
                            g.grade.map(|grade| grade.cli_name().to_string()),
                            g.comment.clone().unwrap_or_default(),
                            g.evidence.clone().unwrap_or_default(),
                        ),
                    };
                    GradeForm {
                        label: g.criterion.label(lang).to_string(),
                        grades: views::options_of::<Grade>(t, grade.as_deref()),
                        comment,
                        evidence,
                        grade_error: error_at(&name(&id, "grade")).or_else(|| error_at(&id)),
                        comment_error: error_at(&name(&id, "comment")),
                        evidence_error: error_at(&name(&id, "evidence")),
                        id,
                    }
                })
                .collect(),
        })
        .collect();
    let quiet_first = submitted.is_some_and(|(form, _)| form.get("first_post").as_deref() == Some("none"));
    let template = LabelPage {
        done: done_message(req, t),
        error,
        action: state.urls.admin("label").to_string(),
        first_grading,
        quiet_first,
        sections,
        page,
    };
    render(req, status, &template)
}

pub async fn label(fed: web::Data<Federation>, req: HttpRequest, _admin: Admin) -> Result<HttpResponse, PageError> {
    label_page(state_of(&fed), &req, StatusCode::OK, None, None).await
}

/// POST /admin/label: every criterion given a grade, saved at once.
pub async fn set_grades(
    fed: web::Data<Federation>,
    req: HttpRequest,
    AdminForm(form): AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let inputs: Vec<label::GradeInput> = state
        .criteria
        .sections
        .iter()
        .flat_map(|s| &s.criteria)
        .filter_map(|c| {
            // A criterion left at "—" stays as it is.
            let grade = form.get(&name(&c.id, "grade"))?;
            Some(label::GradeInput {
                criterion: c.id.clone(),
                grade,
                comment: form.get(&name(&c.id, "comment")),
                evidence: form.get(&name(&c.id, "evidence")),
            })
        })
        .collect();
    if inputs.is_empty() {
        return Ok(see_other(state.urls.admin("label").to_string()));
    }
    let problems = label::problems(state, &inputs);
    if !problems.is_empty() {
        return label_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, Some((&form, &problems)), None).await;
    }
    let first = if form.get("first_post").as_deref() == Some("none") {
        label::FirstGrading::Quiet
    } else {
        label::FirstGrading::Announce
    };
    match label::set_grades(state, inputs, first).await {
        Ok(Some(b)) => Ok(see_other(format!("{}?done=published", state.urls.admin(&format!("bulletins/{}", b.id))))),
        Ok(None) => Ok(see_other(format!("{}?done=saved", state.urls.admin("label")))),
        Err(e) => {
            label_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, Some((&form, &[])), refusal(state, &req, e)?)
                .await
        }
    }
}
