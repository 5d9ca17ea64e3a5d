//! The service catalogue: add, edit, remove.

use super::{
    common::{admin_page, done_message, refusal, see_other, FormData},
    session::{Admin, AdminForm},
};
use crate::{
    app::catalogue,
    bulletin::{vocab::*, ServiceDraft},
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

pub struct ServiceForm {
    pub slug: String,
    pub name: String,
    pub software: String,
    pub url: String,
    pub description: String,
    pub audience: String,
    pub registrations: Vec<Opt>,
    pub status: Option<views::Badge>,
    pub action: String,
}

#[derive(Template)]
#[template(path = "admin/services.html")]
struct ServicesPage<'a> {
    page: Page<'a>,
    done: Option<String>,
    error: Option<String>,
    services: Vec<ServiceForm>,
    new_service: ServiceForm,
    add_url: String,
}

fn draft_of(form: &FormData, slug: Option<&str>) -> ServiceDraft {
    ServiceDraft {
        slug: slug.map(str::to_string).unwrap_or_else(|| form.get("slug").unwrap_or_default()),
        name: form.get("name").unwrap_or_default(),
        software: form.get("software").unwrap_or_default(),
        url: form.get("url").unwrap_or_default(),
        description: form.text("description"),
        audience: form.get("audience").unwrap_or_default(),
        registration: form.get("registration").unwrap_or_else(|| "open".into()),
    }
}

async fn services_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    error: Option<String>,
    typed: Option<ServiceDraft>,
) -> Result<HttpResponse, PageError> {
    let page = admin_page(state, req, |t| t.get("admin_services")).await?;
    let listed = catalogue::list_with_status(state).await?;
    let form_of = |d: &ServiceDraft, status: Option<views::Badge>, action: String| ServiceForm {
        slug: d.slug.clone(),
        name: d.name.clone(),
        software: d.software.clone(),
        url: d.url.clone(),
        description: d.description.clone(),
        audience: d.audience.clone(),
        registrations: views::options_of::<Registration>(page.t, Some(d.registration.as_str())),
        status,
        action,
    };
    let template = ServicesPage {
        done: done_message(req, page.t),
        error,
        services: listed
            .iter()
            .map(|(s, st)| {
                let d = ServiceDraft {
                    slug: s.slug.clone(),
                    name: s.name.clone(),
                    software: s.software.clone(),
                    url: s.url.clone(),
                    description: s.description.clone(),
                    audience: s.audience.clone(),
                    registration: s.registration.clone(),
                };
                form_of(
                    &d,
                    Some(views::status_badge(*st, page.t)),
                    state.urls.admin(&format!("services/{}", s.slug)).to_string(),
                )
            })
            .collect(),
        new_service: form_of(
            &typed.unwrap_or(ServiceDraft { registration: "open".into(), ..Default::default() }),
            None,
            String::new(),
        ),
        add_url: state.urls.admin("services").to_string(),
        page,
    };
    render(req, status, &template)
}

pub async fn services(fed: web::Data<Federation>, req: HttpRequest, _admin: Admin) -> Result<HttpResponse, PageError> {
    services_page(state_of(&fed), &req, StatusCode::OK, None, None).await
}

pub async fn add_service(
    fed: web::Data<Federation>,
    req: HttpRequest,
    AdminForm(form): AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let draft = draft_of(&form, None);
    match catalogue::add(state, draft.clone()).await {
        Ok(_) => Ok(see_other(format!("{}?done=saved", state.urls.admin("services")))),
        Err(e) => services_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, refusal(e)?, Some(draft)).await,
    }
}

/// POST /admin/services/{slug}/{edit|remove}
pub async fn change_service(
    fed: web::Data<Federation>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    AdminForm(form): AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let (slug, action) = path.into_inner();
    let result = match action.as_str() {
        "edit" => catalogue::edit(state, &slug, draft_of(&form, Some(&slug))).await.map(|_| "saved"),
        "remove" => catalogue::remove(state, &slug).await.map(|_| "removed"),
        _ => return Err(PageError::NotFound),
    };
    match result {
        Ok(done) => Ok(see_other(format!("{}?done={done}", state.urls.admin("services")))),
        Err(e) => services_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, refusal(e)?, None).await,
    }
}
