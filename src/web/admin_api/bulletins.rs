//! Bulletins: list, publish (news or a service change), show, edit, delete, incident follow-ups,
//! and moving or cancelling a maintenance window.

use super::{json, no_content, opt_time, state, time, AdminToken, Body};
use crate::{
    app::{
        bulletins::{self, Bulletin, Publication, Translation},
        AppError,
    },
    bulletin::{
        forms::{self, ChangeFields, PostFields},
        parse_local_time,
        vocab::{ChangeState, Choice},
        TextDraft,
    },
    federation::Federation,
    refusal::Kind,
    state::AppState,
    web::error::ApiError,
};
use actix_web::{http::header, http::StatusCode, web, HttpResponse};
use serde::{Deserialize, Serialize};

/// A bulletin in a list.
#[derive(Serialize)]
pub struct BulletinSummary {
    id: String,
    /// news, service_change or label_update.
    kind: String,
    change_type: Option<String>,
    state: Option<String>,
    title: String,
    lang: String,
    /// published, scheduled (waiting for its publication time) or deleted.
    status: &'static str,
    url: String,
    published_at: String,
    updated_at: Option<String>,
    deleted_at: Option<String>,
}

impl BulletinSummary {
    fn new(state: &AppState, b: &Bulletin) -> Self {
        let status = match Publication::of(b) {
            Publication::Deleted => "deleted",
            Publication::Scheduled => "scheduled",
            Publication::Published | Publication::Edited => "published",
        };
        BulletinSummary {
            id: b.id.clone(),
            kind: b.kind.clone(),
            change_type: b.change_type.clone(),
            state: b.state.clone(),
            title: b.title.clone(),
            lang: b.lang.clone(),
            status,
            url: state.urls.bulletin(&b.id).to_string(),
            published_at: time(b.published_at),
            updated_at: opt_time(b.updated_at),
            deleted_at: opt_time(b.deleted_at),
        }
    }
}

#[derive(Serialize)]
struct TextJson {
    lang: String,
    title: String,
    body: String,
}

/// A bulletin with its texts and what it says about services.
#[derive(Serialize)]
pub struct BulletinDetail {
    #[serde(flatten)]
    summary: BulletinSummary,
    body: String,
    translations: Vec<TextJson>,
    services: Vec<String>,
    impact: Option<&'static str>,
    service_status: Option<&'static str>,
    registration: Option<&'static str>,
    new_url: Option<String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    in_reply_to: Option<String>,
}

/// The bulletin `id` as the admin API shows it, or 404.
pub async fn detail(state: &AppState, id: &str) -> Result<BulletinDetail, ApiError> {
    let view = bulletins::view(state, id).await?;
    Ok(detail_of(state, &view.bulletin, view.translations, view.services))
}

fn detail_of(state: &AppState, b: &Bulletin, translations: Vec<Translation>, services: Vec<String>) -> BulletinDetail {
    let meta = b.meta();
    BulletinDetail {
        summary: BulletinSummary::new(state, b),
        body: b.body_markdown.clone(),
        translations: translations
            .into_iter()
            .map(|t| TextJson { lang: t.lang, title: t.title, body: t.body_markdown })
            .collect(),
        services,
        impact: meta.impact.map(Choice::cli_name),
        service_status: meta.service_status.map(Choice::cli_name),
        registration: meta.registration.map(Choice::cli_name),
        new_url: meta.new_url,
        starts_at: opt_time(b.starts_at),
        ends_at: opt_time(b.ends_at),
        in_reply_to: b.in_reply_to.clone(),
    }
}

async fn answer(state: &AppState, status: StatusCode, b: &Bulletin) -> Result<HttpResponse, ApiError> {
    let body = detail(state, &b.id).await?;
    let mut response = HttpResponse::build(status);
    if status == StatusCode::CREATED {
        response.insert_header((header::LOCATION, state.urls.admin_bulletin(&b.id).to_string()));
    }
    Ok(response.json(body))
}

#[derive(Deserialize)]
pub struct ListQuery {
    limit: Option<String>,
}

/// GET /api/v1/admin/bulletins?limit= — every bulletin (scheduled and deleted ones too), newest first.
pub async fn list(
    _: AdminToken,
    fed: web::Data<Federation>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit =
        match &query.limit {
            None => 50,
            Some(raw) => raw.parse().ok().filter(|n| (1..=200).contains(n)).ok_or_else(|| {
                ApiError::bad_parameter("limit", format!("`{raw}` is not a whole number from 1 to 200"))
            })?,
        };
    let state = state(&fed);
    let list = bulletins::list(state, limit).await?;
    let list: Vec<BulletinSummary> = list.iter().map(|b| BulletinSummary::new(state, b)).collect();
    Ok(json(StatusCode::OK, &serde_json::json!({ "bulletins": list })))
}

/// The texts of a post, as `PostFields` names them (unknown fields are refused).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewBulletin {
    /// `news` or `change`.
    kind: String,
    change: Option<ChangeBody>,
    lang: Option<String>,
    title: Option<String>,
    body: Option<String>,
    translation_lang: Option<String>,
    translation_title: Option<String>,
    translation_body: Option<String>,
    publish_at: Option<String>,
}

/// `ChangeFields` as JSON.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeBody {
    #[serde(rename = "type")]
    change_type: Option<String>,
    services: Option<Vec<String>>,
    impact: Option<String>,
    status: Option<String>,
    registration: Option<String>,
    new_url: Option<String>,
    start: Option<String>,
    end: Option<String>,
}

/// The domain's name for a field of the change (`service`, `new-url`) as this API's (`change.services`).
fn change_error(e: ApiError) -> ApiError {
    e.rename_fields(|field| match field {
        "type" | "impact" | "status" | "registration" | "new_url" | "start" | "end" => Some(format!("change.{field}")),
        "service" => Some("change.services".into()),
        _ => None,
    })
}

/// POST /api/v1/admin/bulletins — publishes news or a service change, now or at `publish_at`.
pub async fn create(
    _: AdminToken,
    fed: web::Data<Federation>,
    Body(body): Body<NewBulletin>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&fed);
    let tz = state.config.timezone();
    let post = PostFields {
        lang: body.lang,
        title: body.title.unwrap_or_default(),
        body: body.body.unwrap_or_default(),
        translation_lang: body.translation_lang,
        translation_title: body.translation_title,
        translation_body: body.translation_body,
        publish_at: body.publish_at,
    };
    let b = match (body.kind.as_str(), body.change) {
        ("news", None) => bulletins::publish_post(state, post.draft(tz)?).await?,
        ("news", Some(_)) => return Err(AppError::refused("change", Kind::ChangeOnlyForChange, &[]).into()),
        ("change", None) => return Err(AppError::refused("change", Kind::ChangeRequired, &[]).into()),
        ("change", Some(c)) => {
            let change = ChangeFields {
                change_type: c.change_type.unwrap_or_default(),
                services: c.services.unwrap_or_default(),
                impact: c.impact,
                status: c.status,
                registration: c.registration,
                new_url: c.new_url,
                start: c.start,
                end: c.end,
            };
            let change = change.draft(tz).map_err(|e| change_error(e.into()))?;
            let draft = post.draft(tz)?;
            bulletins::publish_change(state, draft, change).await.map_err(|e| change_error(e.into()))?
        }
        (other, _) => {
            let refused = AppError::refused("kind", Kind::NotOneOf, &[("value", other), ("values", "news, change")]);
            return Err(refused.into());
        }
    };
    answer(state, StatusCode::CREATED, &b).await
}

/// GET /api/v1/admin/bulletins/{id}
pub async fn show(_: AdminToken, fed: web::Data<Federation>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    Ok(json(StatusCode::OK, &detail(state(&fed), &id).await?))
}

/// What a PATCH may change; a field left out keeps its value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edit {
    title: Option<String>,
    body: Option<String>,
    lang: Option<String>,
    translation_lang: Option<String>,
    translation_title: Option<String>,
    translation_body: Option<String>,
}

/// PATCH /api/v1/admin/bulletins/{id} — edits the texts; followers receive an Update.
pub async fn edit(
    _: AdminToken,
    fed: web::Data<Federation>,
    id: web::Path<String>,
    Body(body): Body<Edit>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&fed);
    if body.translation_lang.is_none() {
        if body.translation_title.is_some() {
            return Err(AppError::refused("translation_lang", Kind::TranslationLangRequired, &[]).into());
        }
        if body.translation_body.is_some() {
            return Err(AppError::refused("translation_lang", Kind::TranslationLangRequired, &[]).into());
        }
    }
    if body.title.is_none() && body.body.is_none() && body.lang.is_none() && body.translation_lang.is_none() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "nothing to change: give title, body, lang or translation_lang",
        ));
    }
    // The same edit as `ronron post edit`: a translation given replaces the current one.
    let translation = body.translation_lang.map(|lang| TextDraft {
        lang: Some(lang),
        title: body.translation_title.unwrap_or_default(),
        body_markdown: body.translation_body.unwrap_or_default(),
    });
    let edit = bulletins::NewsEdit { title: body.title, body_markdown: body.body, lang: body.lang, translation };
    let b = bulletins::edit_news(state, &id, edit).await?;
    answer(state, StatusCode::OK, &b).await
}

/// DELETE /api/v1/admin/bulletins/{id} — followers receive a Delete; the URL answers 410.
pub async fn delete(
    _: AdminToken,
    fed: web::Data<Federation>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    bulletins::delete_bulletin(state(&fed), &id).await?;
    Ok(no_content())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    /// investigating, identified, monitoring or resolved.
    state: String,
    status: Option<String>,
    lang: Option<String>,
    title: Option<String>,
    body: Option<String>,
    translation_lang: Option<String>,
    translation_title: Option<String>,
    translation_body: Option<String>,
}

/// POST /api/v1/admin/bulletins/{id}/follow-ups — an incident's next step, in its thread.
pub async fn follow_up(
    _: AdminToken,
    fed: web::Data<Federation>,
    id: web::Path<String>,
    Body(body): Body<FollowUp>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&fed);
    let new_state = ChangeState::parse_incident("state", &body.state)?;
    let status = forms::choice_field("status", &body.status)?;
    let post = PostFields {
        lang: body.lang,
        title: body.title.unwrap_or_default(),
        body: body.body.unwrap_or_default(),
        translation_lang: body.translation_lang,
        translation_title: body.translation_title,
        translation_body: body.translation_body,
        publish_at: None,
    };
    let b = bulletins::post_follow_up(state, &id, post.draft(state.config.timezone())?, new_state, status).await?;
    answer(state, StatusCode::CREATED, &b).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    start: String,
    end: String,
}

/// POST /api/v1/admin/bulletins/{id}/reschedule — moves a maintenance window.
pub async fn reschedule(
    _: AdminToken,
    fed: web::Data<Federation>,
    id: web::Path<String>,
    Body(body): Body<Window>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&fed);
    let tz = state.config.timezone();
    let start = parse_local_time("start", &body.start, tz)?;
    let end = parse_local_time("end", &body.end, tz)?;
    let b = bulletins::reschedule(state, &id, start, end).await?;
    answer(state, StatusCode::OK, &b).await
}

/// POST /api/v1/admin/bulletins/{id}/cancel — cancels a maintenance that is scheduled or running.
pub async fn cancel(
    _: AdminToken,
    fed: web::Data<Federation>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let state = state(&fed);
    let b = bulletins::cancel(state, &id).await?;
    answer(state, StatusCode::OK, &b).await
}
