//! Import ChatonsInfos files into the profile and the catalogue: a form (a URL, or the
//! organisation file pasted), the changes it would make, and a confirmation that applies them.

use super::{
    common::{admin_page, done_message, refusal, see_other},
    session::{Admin, AdminForm},
};
use crate::{
    app::chatonsinfos::{self, ImportPlan, ServiceAction, Source},
    chatonsinfos::SkipReason,
    federation::Federation,
    state::AppState,
    web::{
        html::{render, Page, PageError, Section},
        state_of,
    },
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;

/// One line of the changes: (label, before, after).
type Change = (String, String, String);

struct ServiceRow {
    slug: String,
    source: String,
    action: String,
    changes: Vec<Change>,
}

#[derive(Template)]
#[template(path = "admin/chatonsinfos.html")]
struct ImportPage<'a> {
    page: Page<'a>,
    done: Option<String>,
    error: Option<String>,
    notice: Option<String>,
    action: String,
    export_url: String,
    url: String,
    text: String,
    /// Set once a plan is shown: the confirmation form.
    fingerprint: Option<String>,
    nothing: bool,
    profile: Vec<Change>,
    services: Vec<ServiceRow>,
    /// (file, line, key, why)
    skipped: Vec<(String, usize, String, String)>,
}

fn blank<'a>(state: &AppState, req: &HttpRequest, page: Page<'a>, url: String, text: String) -> ImportPage<'a> {
    ImportPage {
        done: done_message(req, page.t),
        error: None,
        notice: None,
        action: state.urls.admin("chatonsinfos").to_string(),
        export_url: state.urls.chatonsinfos_organization().to_string(),
        url,
        text,
        fingerprint: None,
        nothing: false,
        profile: vec![],
        services: vec![],
        skipped: vec![],
        page,
    }
}

fn with_plan<'a>(mut view: ImportPage<'a>, plan: &ImportPlan) -> ImportPage<'a> {
    let t = view.page.t;
    let change = |c: &chatonsinfos::FieldChange| (t.get(c.field).to_string(), c.before.clone(), c.after.clone());
    view.fingerprint = Some(plan.fingerprint());
    view.nothing = plan.changes_nothing();
    view.profile = plan.profile.iter().map(change).collect();
    view.services = plan
        .services
        .iter()
        .map(|s| ServiceRow {
            slug: s.slug.clone(),
            source: s.source.clone(),
            action: match s.action {
                ServiceAction::Add => t.get("chatonsinfos.add"),
                ServiceAction::Edit => t.get("chatonsinfos.edit"),
                ServiceAction::Unchanged => t.get("chatonsinfos.unchanged"),
            }
            .to_string(),
            changes: s.changes.iter().map(change).collect(),
        })
        .collect();
    view.skipped = plan
        .skipped
        .iter()
        .map(|k| {
            let why = match k.reason {
                SkipReason::Unknown => t.get("chatonsinfos.skip_unknown"),
                SkipReason::Derived => t.get("chatonsinfos.skip_derived"),
                SkipReason::SecondContact => t.get("chatonsinfos.skip_contact"),
            };
            (k.file.clone(), k.line, k.key.clone(), why.to_string())
        })
        .collect();
    view
}

pub async fn import_form(
    fed: web::Data<Federation>,
    req: HttpRequest,
    _admin: Admin,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let page = admin_page(state, &req, |t| t.get("chatonsinfos.title")).await?;
    render(&req, StatusCode::OK, &blank(state, &req, page, String::new(), String::new()))
}

/// Without a fingerprint: shows what would change. With one: applies, if the files still give
/// the plan that was shown (else shows the new one).
pub async fn import(
    fed: web::Data<Federation>,
    req: HttpRequest,
    AdminForm(form): AdminForm,
) -> Result<HttpResponse, PageError> {
    let state = state_of(&fed);
    let url = form.text("url").trim().to_string();
    let text = form.text("text");
    let confirmed = form.text("fingerprint");
    let page = admin_page(state, &req, |t| t.get("chatonsinfos.title")).await?;
    let mut view = blank(state, &req, page, url.clone(), text.clone());
    view.done = None;
    let source = if !text.trim().is_empty() {
        Source::File { name: view.page.t.get("chatonsinfos.pasted").to_string(), bytes: text.into_bytes() }
    } else if !url.is_empty() {
        Source::Url(url)
    } else {
        view.error = Some(view.page.t.get("chatonsinfos.empty").to_string());
        return render(&req, StatusCode::UNPROCESSABLE_ENTITY, &view);
    };
    let plan = match chatonsinfos::plan(state, source).await {
        Ok(plan) => plan,
        Err(e) => {
            view.error = refusal(state, &req, e)?;
            return render(&req, StatusCode::UNPROCESSABLE_ENTITY, &view);
        }
    };
    if !confirmed.is_empty() {
        if confirmed == plan.fingerprint() {
            return match chatonsinfos::apply(state, plan).await {
                Ok(_) => Ok(see_other(format!("{}?done=imported", state.urls.admin("chatonsinfos")))),
                Err(e) => {
                    view.error = refusal(state, &req, e)?;
                    render(&req, StatusCode::UNPROCESSABLE_ENTITY, &view)
                }
            };
        }
        view.notice = Some(view.page.t.get("chatonsinfos.changed_since").to_string());
        return render(&req, StatusCode::CONFLICT, &with_plan(view, &plan));
    }
    render(&req, StatusCode::OK, &with_plan(view, &plan))
}
