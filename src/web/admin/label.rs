//! The label: a grade, a comment and evidence for each of the charter's criteria.

use super::{
    common::{admin_page, done_message, refusal, see_other},
    session::{Admin, AdminForm},
};
use crate::{
    app::label,
    bulletin::vocab::*,
    federation::Federation,
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
    let sections = label::sheet(state)
        .await?
        .into_iter()
        .map(|graded| GradeSection {
            title: graded.section.title(lang).to_string(),
            criteria: graded
                .criteria
                .into_iter()
                .map(|g| {
                    let c = &g.criterion;
                    GradeForm {
                        id: c.id.clone(),
                        label: c.label(lang).to_string(),
                        action: state.urls.admin(&format!("label/{}", c.id)).to_string(),
                        grades: views::options_of::<Grade>(page.t, g.grade.map(|grade| grade.cli_name())),
                        comment: g.comment.clone().unwrap_or_default(),
                        evidence: g.evidence.clone().unwrap_or_default(),
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
    match label::set_grade(state, &criterion, &grade, form.get("comment"), form.get("evidence")).await {
        Ok(_) => Ok(see_other(format!("{}?done=saved#{}", state.urls.admin("label"), criterion.as_str()))),
        Err(e) => label_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, refusal(e)?).await,
    }
}
