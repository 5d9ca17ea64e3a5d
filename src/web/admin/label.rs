//! The label: a grade, a comment and evidence for each of the charter's criteria.

use super::{
    common::{admin_page, done_message, internal, refusal, see_other},
    session::{Admin, AdminForm},
};
use crate::{
    bulletin::vocab::*,
    db::models::label as label_rows,
    federation::{Federation, FederationError},
    state::AppState,
    web::{
        html::{render, Page, PageError, Section},
        state_of,
        views::{self, Opt},
    },
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;

pub struct GradeForm {
    pub id: String,
    pub label: String,
    pub action: String,
    pub grades: Vec<Opt>,
    pub comment: String,
    pub evidence: String,
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
    sections: Vec<GradeSection>,
}

async fn label_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let page = admin_page(state, req, |t| t.get("admin_label")).await?;
    let lang = page.t.lang;
    let grades = state.db.read(label_rows::grades).await?;
    let sections = state
        .criteria
        .sections
        .iter()
        .map(|section| GradeSection {
            title: if lang == "fr" { section.fr.clone() } else { section.en.clone() },
            criteria: section
                .criteria
                .iter()
                .map(|c| {
                    let row = grades.iter().find(|g| g.criterion == c.id);
                    GradeForm {
                        id: c.id.clone(),
                        label: if lang == "fr" { c.fr.clone() } else { c.en.clone() },
                        action: state.urls.admin(&format!("label/{}", c.id)).to_string(),
                        grades: views::options_of::<Grade>(lang, row.map(|g| g.grade.as_str())),
                        comment: row.and_then(|g| g.comment.clone()).unwrap_or_default(),
                        evidence: row.and_then(|g| g.evidence.clone()).unwrap_or_default(),
                    }
                })
                .collect(),
        })
        .collect();
    let template = LabelPage { done: done_message(req, page.t), error, sections, page };
    render(req, status, &template)
}

pub async fn label(fed: web::Data<Federation>, req: HttpRequest, _admin: Admin) -> Result<HttpResponse, PageError> {
    label_page(state_of(&fed), &req, StatusCode::OK, None).await
}

pub async fn set_grade(
    fed: web::Data<Federation>,
    req: HttpRequest,
    criterion: web::Path<String>,
    AdminForm(form): AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let grade = form.get("grade").unwrap_or_default();
    match crate::app::label::set_grade(state, &criterion, &grade, form.get("comment"), form.get("evidence")).await {
        Ok(_) => Ok(see_other(format!("{}?done=saved#{}", state.urls.admin("label"), criterion.as_str()))),
        Err(FederationError::Bulletin(e)) => {
            label_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, refusal(e)).await
        }
        Err(e) => Err(internal(e)),
    }
}
