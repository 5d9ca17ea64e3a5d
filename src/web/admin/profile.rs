//! The host's public profile.

use super::{
    common::{admin_page, done_message, form_errors, see_other, visitor_texts, FormErrors},
    session::{Admin, AdminForm},
};
use crate::{
    app::profile,
    federation::Federation,
    state::AppState,
    web::{
        html::{render, Page, PageError, Section},
        state_of,
    },
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;

#[derive(Template)]
#[template(path = "admin/profile.html")]
struct ProfilePage<'a> {
    page: Page<'a>,
    done: Option<String>,
    errors: FormErrors,
    fields: Vec<(&'static str, String, String, bool)>,
    action: String,
}

async fn profile_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    sent: Option<(profile::ProfileEdit, FormErrors)>,
) -> Result<HttpResponse, PageError> {
    let page = admin_page(state, req, |t| t.get("admin_profile")).await?;
    let mut p = profile::effective(state).await?;
    // A refused edit shows what was typed.
    let (edit, errors) = sent.unzip();
    if let Some(edit) = edit {
        let typed = |v: Option<String>, stored: &mut Option<String>| *stored = v.filter(|v| !v.is_empty());
        p.display_name = edit.display_name.unwrap_or_default();
        p.summary = edit.summary.unwrap_or_default();
        typed(edit.structure_type, &mut p.structure_type);
        typed(edit.country, &mut p.country);
        typed(edit.region, &mut p.region);
        typed(edit.website, &mut p.website);
        typed(edit.contact, &mut p.contact);
        typed(edit.logo, &mut p.logo);
    }
    // (form name, label, current value, multi-line)
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let t = page.t;
    let fields = vec![
        ("display_name", t.get("display_name").to_string(), p.display_name.clone(), false),
        ("summary", t.get("summary").to_string(), p.summary.clone(), true),
        ("structure_type", t.get("structure").to_string(), value(&p.structure_type), false),
        ("country", t.get("country").to_string(), value(&p.country), false),
        ("region", t.get("region").to_string(), value(&p.region), false),
        ("website", t.get("website").to_string(), value(&p.website), false),
        ("contact", t.get("contact").to_string(), value(&p.contact), false),
        ("logo", t.get("logo").to_string(), value(&p.logo), false),
    ];
    let template = ProfilePage {
        done: done_message(req, page.t),
        errors: errors.unwrap_or_default(),
        fields,
        action: state.urls.admin("profile").to_string(),
        page,
    };
    render(req, status, &template)
}

pub async fn profile(fed: web::Data<Federation>, req: HttpRequest, _admin: Admin) -> Result<HttpResponse, PageError> {
    profile_page(state_of(&fed), &req, StatusCode::OK, None).await
}

pub async fn save_profile(
    fed: web::Data<Federation>,
    req: HttpRequest,
    AdminForm(form): AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    // Every field is on the form: an empty one clears it (`Some("")`).
    let field = |name: &str| Some(form.text(name).trim().to_string());
    let edit = profile::ProfileEdit {
        display_name: field("display_name"),
        summary: field("summary"),
        structure_type: field("structure_type"),
        country: field("country"),
        region: field("region"),
        website: field("website"),
        contact: field("contact"),
        logo: field("logo"),
    };
    match profile::set(state, edit.clone()).await {
        Ok(_) => {
            profile::federate_profile_if_changed(state).await?;
            Ok(see_other(format!("{}?done=saved", state.urls.admin("profile"))))
        }
        Err(e) => {
            let errors = form_errors(e, visitor_texts(state, &req), "")?;
            profile_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, Some((edit, errors))).await
        }
    }
}
