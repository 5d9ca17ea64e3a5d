//! The host's public profile.

use super::{
    common::{admin_page, done_message, form_errors, logo_upload, see_other, visitor_texts, FormErrors},
    session::{Admin, AdminForm},
};
use crate::{
    app::{media, profile},
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
    logo: LogoForm,
}

/// The logo's part of a page (`admin/logo_form.html`): the current logo, the upload form and
/// its refusals, the removal's form.
pub struct LogoForm {
    pub current: Option<String>,
    pub action: String,
    pub remove_action: String,
    pub errors: FormErrors,
    pub hint: String,
}

impl LogoForm {
    pub fn new(state: &AppState, t: &crate::i18n::Texts, current: Option<String>, action: String) -> LogoForm {
        let max = (state.config.media.max_logo_bytes / 1024).to_string();
        LogoForm {
            current,
            remove_action: format!("{action}/remove"),
            action,
            errors: FormErrors::default(),
            hint: t.fill("logo_hint", &[("max", &max)]),
        }
    }
}

async fn profile_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    sent: Option<(profile::ProfileEdit, FormErrors)>,
    logo_errors: FormErrors,
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
    ];
    let mut logo = LogoForm::new(state, t, p.logo.clone(), state.urls.admin("profile/logo").to_string());
    logo.errors = logo_errors;
    let template = ProfilePage {
        done: done_message(req, page.t),
        errors: errors.unwrap_or_default(),
        fields,
        action: state.urls.admin("profile").to_string(),
        logo,
        page,
    };
    render(req, status, &template)
}

pub async fn profile(fed: web::Data<Federation>, req: HttpRequest, _admin: Admin) -> Result<HttpResponse, PageError> {
    profile_page(state_of(&fed), &req, StatusCode::OK, None, FormErrors::default()).await
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
        // The logo is uploaded with its own form.
        logo: None,
    };
    match profile::set(state, edit.clone()).await {
        Ok(_) => {
            profile::federate_profile_if_changed(state).await?;
            Ok(see_other(format!("{}?done=saved", state.urls.admin("profile"))))
        }
        Err(e) => {
            let errors = form_errors(e, visitor_texts(state, &req), "")?;
            profile_page(state, &req, StatusCode::UNPROCESSABLE_ENTITY, Some((edit, errors)), FormErrors::default())
                .await
        }
    }
}

/// POST /admin/profile/logo: the upload form (multipart, with the CSRF token).
pub async fn upload_logo(
    fed: web::Data<Federation>,
    req: HttpRequest,
    Admin(admin): Admin,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let uploaded = match logo_upload(state, &req, &admin.csrf, payload).await? {
        Ok(upload) => profile::set_logo(state, upload).await.map(|_| ()),
        Err(refused) => Err(refused),
    };
    match uploaded {
        Ok(()) => Ok(see_other(format!("{}?done=saved", state.urls.admin("profile")))),
        Err(e) => {
            let status =
                if media::is_too_big(&e) { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::UNPROCESSABLE_ENTITY };
            let errors = form_errors(e, visitor_texts(state, &req), "")?;
            profile_page(state, &req, status, None, errors).await
        }
    }
}

/// POST /admin/profile/logo/remove
pub async fn remove_logo(
    fed: web::Data<Federation>,
    _req: HttpRequest,
    AdminForm(_form): AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    profile::remove_logo(state).await?;
    Ok(see_other(format!("{}?done=removed", state.urls.admin("profile"))))
}
