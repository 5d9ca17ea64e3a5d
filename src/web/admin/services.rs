//! The service catalogue: add, edit, remove.

use super::{
    common::{admin_page, done_message, form_errors, refusal, see_other, visitor_texts, FormData, FormErrors},
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
    /// What this form refuses, next to each field.
    pub errors: FormErrors,
    /// Keeps the ids of this form's inputs apart from the other forms' on the page.
    pub prefix: String,
}

#[derive(Template)]
#[template(path = "admin/services.html")]
struct ServicesPage<'a> {
    page: Page<'a>,
    done: Option<String>,
    error: Option<String>,
    /// The errors of the form that was sent, summed up above it.
    errors: FormErrors,
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

/// What was refused, and on which form: the new service's (`None`) or a service's edit.
pub struct Sent {
    slug: Option<String>,
    draft: ServiceDraft,
    errors: FormErrors,
}

async fn services_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    error: Option<String>,
    sent: Option<Sent>,
) -> Result<HttpResponse, PageError> {
    let page = admin_page(state, req, |t| t.get("admin_services")).await?;
    let listed = catalogue::list_with_status(state).await?;
    let form_of = |d: &ServiceDraft, status: Option<views::Badge>, action: String, prefix: String| ServiceForm {
        slug: d.slug.clone(),
        name: d.name.clone(),
        software: d.software.clone(),
        url: d.url.clone(),
        description: d.description.clone(),
        audience: d.audience.clone(),
        registrations: views::options_of::<Registration>(page.t, Some(d.registration.as_str())),
        status,
        action,
        errors: FormErrors::default(),
        prefix,
    };
    let (sent_slug, mut sent_draft, sent_errors) = match sent {
        Some(Sent { slug, draft, errors }) => (slug, Some(draft), errors),
        None => (None, None, FormErrors::default()),
    };
    let mut services = Vec::new();
    let mut sent_errors = Some(sent_errors);
    for (s, st) in &listed {
        let stored = ServiceDraft {
            slug: s.slug.clone(),
            name: s.name.clone(),
            software: s.software.clone(),
            url: s.url.clone(),
            description: s.description.clone(),
            audience: s.audience.clone(),
            registration: s.registration.clone(),
        };
        let this = sent_slug.as_deref() == Some(s.slug.as_str());
        // The refused edit shows what was typed, not what is stored.
        let shown = if this { sent_draft.take().unwrap_or(stored) } else { stored };
        let mut form = form_of(
            &shown,
            Some(views::status_badge(*st, page.t)),
            state.urls.admin(&format!("services/{}", s.slug)).to_string(),
            format!("service-{}-", s.slug),
        );
        if this {
            form.errors = sent_errors.take().unwrap_or_default();
        }
        services.push(form);
    }
    let mut new_service = form_of(
        &sent_draft
            .filter(|_| sent_slug.is_none())
            .unwrap_or(ServiceDraft { registration: "open".into(), ..Default::default() }),
        None,
        String::new(),
        String::new(),
    );
    if sent_slug.is_none() {
        new_service.errors = sent_errors.take().unwrap_or_default();
    }
    // The summary above the forms links to the fields of the form that was sent.
    let summary = std::iter::once(&new_service)
        .chain(services.iter())
        .find(|f| !f.errors.is_empty())
        .map(|f| f.errors.clone())
        .unwrap_or_default();
    let template = ServicesPage {
        done: done_message(req, page.t),
        error,
        errors: summary,
        services,
        new_service,
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
        Err(e) => {
            let errors = form_errors(e, visitor_texts(state, &req), "")?;
            let sent = Sent { slug: None, draft, errors };
            services_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, None, Some(sent)).await
        }
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
    let done = |done: &str| see_other(format!("{}?done={done}", state.urls.admin("services")));
    match action.as_str() {
        "edit" => {
            let draft = draft_of(&form, Some(&slug));
            match catalogue::edit(state, &slug, draft.clone()).await {
                Ok(_) => Ok(done("saved")),
                Err(e) => {
                    let prefix = format!("service-{slug}-");
                    let errors = form_errors(e, visitor_texts(state, &req), &prefix)?;
                    let sent = Sent { slug: Some(slug), draft, errors };
                    services_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, None, Some(sent)).await
                }
            }
        }
        "remove" => match catalogue::remove(state, &slug).await {
            Ok(()) => Ok(done("removed")),
            Err(e) => {
                services_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, refusal(state, &req, e)?, None).await
            }
        },
        _ => Err(PageError::NotFound),
    }
}
