//! The host itself: its service catalogue, its label and its public profile.

use super::{bulletins, json, no_content, state, time, AdminToken, Body};
use crate::{
    app::{
        catalogue::{self, Service},
        label, profile,
    },
    bulletin::{self, vocab::Choice, ServiceDraft},
    config::AccountConfig,
    federation::Federation,
    state::AppState,
    web::error::ApiError,
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
struct ServiceJson {
    slug: String,
    name: String,
    software: String,
    url: String,
    description: String,
    audience: String,
    registration: String,
    /// Derived from the service changes posted about it.
    status: &'static str,
    /// Its public page (and ActivityPub id).
    page: String,
    created_at: String,
    updated_at: String,
}

fn service_json(state: &AppState, s: Service, status: bulletin::vocab::ServiceStatus) -> ServiceJson {
    ServiceJson {
        page: state.urls.service(&s.slug).to_string(),
        status: status.cli_name(),
        created_at: time(s.created_at),
        updated_at: time(s.updated_at),
        slug: s.slug,
        name: s.name,
        software: s.software,
        url: s.url,
        description: s.description,
        audience: s.audience,
        registration: s.registration,
    }
}

/// A service with its status as of now (a slug added again keeps its past changes).
async fn with_status(state: &AppState, s: Service) -> Result<ServiceJson, ApiError> {
    let status = catalogue::status_of(state, &s.slug).await?;
    Ok(service_json(state, s, status))
}

/// GET /api/v1/admin/services
pub async fn services(_: AdminToken, fed: web::Data<Federation>) -> Result<HttpResponse, ApiError> {
    let state = state(&fed);
    let list: Vec<ServiceJson> = catalogue::list_with_status(state)
        .await?
        .into_iter()
        .map(|(s, status)| service_json(state, s, status))
        .collect();
    Ok(json(StatusCode::OK, &serde_json::json!({ "services": list })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewService {
    slug: Option<String>,
    name: Option<String>,
    software: Option<String>,
    url: Option<String>,
    description: Option<String>,
    audience: Option<String>,
    registration: Option<String>,
}

/// POST /api/v1/admin/services
pub async fn add_service(
    _: AdminToken,
    fed: web::Data<Federation>,
    Body(body): Body<NewService>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&fed);
    let draft = ServiceDraft {
        slug: body.slug.unwrap_or_default(),
        name: body.name.unwrap_or_default(),
        software: body.software.unwrap_or_default(),
        url: body.url.unwrap_or_default(),
        description: body.description.unwrap_or_default(),
        audience: body.audience.unwrap_or_default(),
        registration: body.registration.unwrap_or_else(|| "open".into()),
    };
    let service = catalogue::add(state, draft).await?;
    Ok(json(StatusCode::CREATED, &with_status(state, service).await?))
}

/// A PATCH of a service: a field left out (or empty) keeps its value, as with `ronron service edit`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceEdit {
    name: Option<String>,
    software: Option<String>,
    url: Option<String>,
    description: Option<String>,
    audience: Option<String>,
    registration: Option<String>,
}

/// PATCH /api/v1/admin/services/{slug}
pub async fn edit_service(
    _: AdminToken,
    fed: web::Data<Federation>,
    slug: web::Path<String>,
    Body(body): Body<ServiceEdit>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&fed);
    let edit = ServiceDraft {
        slug: slug.to_string(),
        name: body.name.unwrap_or_default(),
        software: body.software.unwrap_or_default(),
        url: body.url.unwrap_or_default(),
        description: body.description.unwrap_or_default(),
        audience: body.audience.unwrap_or_default(),
        registration: body.registration.unwrap_or_default(),
    };
    let service = catalogue::edit(state, &slug, edit).await?;
    Ok(json(StatusCode::OK, &with_status(state, service).await?))
}

/// DELETE /api/v1/admin/services/{slug} — out of the catalogue; past bulletins keep naming it.
pub async fn remove_service(
    _: AdminToken,
    fed: web::Data<Federation>,
    slug: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    catalogue::remove(state(&fed), &slug).await?;
    Ok(no_content())
}

#[derive(Serialize)]
struct GradeJson {
    criterion: String,
    /// The criterion in English and French, as the charter words it.
    en: String,
    fr: String,
    /// met, partial, not_met, not_applicable, or null while not graded.
    grade: Option<String>,
    comment: Option<String>,
    evidence: Option<String>,
    updated_at: Option<String>,
}

/// GET /api/v1/admin/label — every criterion of the charter with its grade.
pub async fn label(_: AdminToken, fed: web::Data<Federation>) -> Result<HttpResponse, ApiError> {
    let state = state(&fed);
    let criteria: Vec<GradeJson> = label::sheet(state)
        .await?
        .into_iter()
        .flat_map(|section| section.criteria)
        .map(|g| GradeJson {
            grade: g.grade.map(|grade| grade.cli_name().to_string()),
            comment: g.comment,
            evidence: g.evidence,
            updated_at: g.updated_at.map(time),
            en: g.criterion.label("en").to_string(),
            fr: g.criterion.label("fr").to_string(),
            criterion: g.criterion.id,
        })
        .collect();
    Ok(json(StatusCode::OK, &serde_json::json!({ "criteria_set": state.criteria.id, "criteria": criteria })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grade {
    grade: String,
    comment: Option<String>,
    evidence: Option<String>,
}

/// PUT /api/v1/admin/label/{criterion} — a new grade publishes a label update bulletin; the same
/// grade with a new comment or evidence only updates the label document.
pub async fn set_grade(
    _: AdminToken,
    fed: web::Data<Federation>,
    criterion: web::Path<String>,
    Body(body): Body<Grade>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&fed);
    if state.criteria.find(&criterion).is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("`{criterion}` is not a criterion of {} (see GET /api/v1/admin/label)", state.criteria.id),
        ));
    }
    let announced = label::set_grade(state, &criterion, &body.grade, body.comment, body.evidence).await?;
    let row = label::grade(state, &criterion).await?;
    let bulletin = match announced {
        Some(b) => Some(bulletins::detail(state, &b.id).await?),
        None => None,
    };
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({
            "criterion": criterion.as_str(),
            "grade": row.as_ref().map(|g| g.grade.clone()),
            "comment": row.as_ref().and_then(|g| g.comment.clone()),
            "evidence": row.as_ref().and_then(|g| g.evidence.clone()),
            "updated_at": row.as_ref().map(|g| time(g.updated_at)),
            "bulletin": bulletin,
        }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriterionGrade {
    criterion: String,
    grade: String,
    comment: Option<String>,
    evidence: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grades {
    grades: Vec<CriterionGrade>,
    /// On the host's first grading: one "our label" post (true, the default) or nothing.
    #[serde(default = "yes")]
    first_post: bool,
}

/// PATCH /api/v1/admin/label — several grades at once, all or none; one label update lists every
/// changed grade. A criterion left out keeps its grade.
pub async fn set_grades(
    _: AdminToken,
    fed: web::Data<Federation>,
    Body(body): Body<Grades>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&fed);
    let inputs = body
        .grades
        .into_iter()
        .map(|g| label::GradeInput { criterion: g.criterion, grade: g.grade, comment: g.comment, evidence: g.evidence })
        .collect();
    let first = if body.first_post { label::FirstGrading::Announce } else { label::FirstGrading::Quiet };
    let announced = label::set_grades(state, inputs, first).await?;
    let bulletin = match announced {
        Some(b) => Some(bulletins::detail(state, &b.id).await?),
        None => None,
    };
    Ok(json(StatusCode::OK, &serde_json::json!({ "bulletin": bulletin })))
}

#[derive(Serialize)]
struct ProfileJson {
    handle: String,
    display_name: String,
    summary: String,
    structure_type: Option<String>,
    country: Option<String>,
    region: Option<String>,
    website: Option<String>,
    contact: Option<String>,
    logo: Option<String>,
    languages: Vec<String>,
}

fn profile_json(state: &AppState, a: AccountConfig) -> ProfileJson {
    ProfileJson {
        handle: state.config.handle(),
        display_name: a.display_name,
        summary: a.summary,
        structure_type: a.structure_type,
        country: a.country,
        region: a.region,
        website: a.website,
        contact: a.contact,
        logo: a.logo,
        languages: a.languages,
    }
}

/// GET /api/v1/admin/profile — the profile as published (configuration, then stored edits).
pub async fn profile(_: AdminToken, fed: web::Data<Federation>) -> Result<HttpResponse, ApiError> {
    let state = state(&fed);
    Ok(json(StatusCode::OK, &profile_json(state, profile::effective(state).await?)))
}

/// A PATCH of the profile: a field left out keeps its value; `""` clears an optional one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileEdit {
    display_name: Option<String>,
    summary: Option<String>,
    structure_type: Option<String>,
    country: Option<String>,
    region: Option<String>,
    website: Option<String>,
    contact: Option<String>,
    logo: Option<String>,
}

/// PATCH /api/v1/admin/profile — followers receive an Update of the actor when it changed.
pub async fn edit_profile(
    _: AdminToken,
    fed: web::Data<Federation>,
    Body(body): Body<ProfileEdit>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&fed);
    let edit = profile::ProfileEdit {
        display_name: body.display_name,
        summary: body.summary,
        structure_type: body.structure_type,
        country: body.country,
        region: body.region,
        website: body.website,
        contact: body.contact,
        logo: body.logo,
    };
    let account = profile::set(state, edit).await?;
    profile::federate_profile_if_changed(state).await?;
    Ok(json(StatusCode::OK, &profile_json(state, account)))
}

/// PUT /api/v1/admin/profile/logo — the image as the body (PNG, JPEG, GIF or WebP), its type as
/// `Content-Type`; followers receive the actor's Update.
pub async fn put_logo(
    _: AdminToken,
    fed: web::Data<Federation>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let state = state(&fed);
    let upload = super::upload_body(state, &req, payload).await?;
    let logo = profile::set_logo(state, upload).await.map_err(super::upload_error)?;
    Ok(json(StatusCode::OK, &super::logo_json(state, logo)))
}

/// DELETE /api/v1/admin/profile/logo — no logo any more (an uploaded one or a URL); 204 either way.
pub async fn delete_logo(_: AdminToken, fed: web::Data<Federation>) -> Result<HttpResponse, ApiError> {
    profile::remove_logo(state(&fed)).await?;
    Ok(no_content())
}
