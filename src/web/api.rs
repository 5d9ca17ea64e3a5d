//! The public JSON API (read-only): the federated timeline and the directory of peers.

use super::{error::ApiError, state_of};
use crate::{
    app::timeline::{self, TimelineFilter},
    federation::Federation,
};
use actix_web::{web, HttpResponse};
use chrono::NaiveDateTime;
use serde::Deserialize;

/// The timeline's filters, as the API, the timeline page and the timeline feeds take them.
#[derive(Deserialize, Default, Clone)]
pub struct TimelineQuery {
    pub kind: Option<String>,
    pub peer: Option<String>,
    pub service: Option<String>,
    pub impact: Option<String>,
    pub lang: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub before: Option<String>,
    pub limit: Option<i64>,
    /// `true`: only the collective's members (collective role).
    pub members: Option<String>,
}

const KINDS: &[&str] = &["news", "service_change", "label_update"];
const IMPACTS: &[&str] = &["none", "minor", "major", "critical"];

fn date(name: &str, value: &Option<String>) -> Result<Option<NaiveDateTime>, ApiError> {
    let Some(value) = value else { return Ok(None) };
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(value) {
        // To the microsecond: PostgreSQL keeps no finer, and would cut a finer bound otherwise
        // than it is compared here (`timeline::query` keeps the tighter of two bounds).
        return Ok(Some(chrono::SubsecRound::trunc_subsecs(at.naive_utc(), 6)));
    }
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map(|d| Some(d.and_hms_opt(0, 0, 0).expect("midnight exists")))
        .map_err(|_| ApiError::bad_request(format!("`{name}` must be a date (2030-03-12) or an RFC 3339 time")))
}

fn one_of(name: &str, value: &Option<String>, allowed: &[&str]) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if !allowed.contains(&v.as_str()) => {
            Err(ApiError::bad_request(format!("`{name}` must be one of: {}", allowed.join(", "))))
        }
        other => Ok(other.clone()),
    }
}

impl TimelineQuery {
    /// The filter these parameters ask for, or a 400 naming the bad one. The JSON timeline and
    /// the timeline feeds share it, so they accept the same values and give the same errors.
    pub fn filter(&self, default_limit: i64) -> Result<TimelineFilter, ApiError> {
        let limit = self.limit.unwrap_or(default_limit);
        if !(1..=100).contains(&limit) {
            return Err(ApiError::bad_request("`limit` must be between 1 and 100"));
        }
        let before = match &self.before {
            Some(cursor) => Some(
                timeline::parse_cursor(cursor)
                    .ok_or_else(|| ApiError::bad_request("`before` is not a cursor from `next`"))?,
            ),
            None => None,
        };
        // Stored as `domain_of` writes it: the same normalised spelling.
        let peer = self.peer.as_ref().map(|p| match p.contains("://") {
            true => crate::urls::domain_of(p),
            false => crate::urls::Authority::parse(p).map(|a| a.to_string()).unwrap_or_else(|| p.to_lowercase()),
        });
        Ok(TimelineFilter {
            kind: one_of("kind", &self.kind, KINDS)?,
            domain: peer,
            service: self.service.clone(),
            impact: one_of("impact", &self.impact, IMPACTS)?,
            lang: self.lang.clone(),
            since: date("since", &self.since)?,
            until: date("until", &self.until)?,
            actors: None,
            before,
            limit,
        })
    }

    /// The filter and the `members` flag, or a 400 naming the bad parameter.
    pub fn request(&self, default_limit: i64) -> Result<timeline::TimelineRequest, ApiError> {
        Ok(timeline::TimelineRequest {
            filter: self.filter(default_limit)?,
            members_only: flag("members", &self.members)?,
        })
    }
}

/// A yes/no parameter: `true` or `false` (absent is false).
pub fn flag(name: &str, value: &Option<String>) -> Result<bool, ApiError> {
    match value.as_deref().map(str::trim) {
        None | Some("") | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::bad_request(format!("`{name}` must be true or false"))),
    }
}

/// GET /api/v1/timeline — our bulletins and our peers' posts, newest first (`members=true`: only
/// the collective's members).
pub async fn timeline(fed: web::Data<Federation>, query: web::Query<TimelineQuery>) -> Result<HttpResponse, ApiError> {
    let page = timeline::request_json(state_of(&fed), query.request(20)?).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Access-Control-Allow-Origin", "*"))
        .content_type("application/json")
        .body(page))
}

/// The directory's filters, as the API and the directory page take them.
#[derive(Deserialize, Default, Clone)]
pub struct DirectoryParams {
    pub software: Option<String>,
    pub registration: Option<String>,
    pub status: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub lang: Option<String>,
    pub criterion: Option<String>,
    pub grade: Option<String>,
    /// `true`: only the collective's members (collective role).
    pub members: Option<String>,
}

/// A command-line value (`on_request`) as its wire value (`onRequest`), or a 400 naming it.
fn wire<T: crate::bulletin::vocab::Choice + serde::Serialize>(
    name: &'static str,
    value: &Option<String>,
) -> Result<Option<String>, ApiError> {
    match value {
        None => Ok(None),
        Some(v) => {
            let parsed = T::parse(name, v).map_err(|e| ApiError::bad_request(e.to_string()))?;
            Ok(serde_json::to_value(parsed).ok().and_then(|j| j.as_str().map(str::to_string)))
        }
    }
}

impl DirectoryParams {
    /// The checked search, or a 400 naming the parameter.
    pub fn query(&self) -> Result<crate::app::directory::DirectoryQuery, ApiError> {
        use crate::bulletin::vocab::{Grade, Registration, ServiceStatus};
        let grade = wire::<Grade>("grade", &self.grade)?;
        if grade.is_some() && self.criterion.is_none() {
            return Err(ApiError::bad_request("`grade` needs a `criterion`"));
        }
        Ok(crate::app::directory::DirectoryQuery {
            software: self.software.clone(),
            registration: wire::<Registration>("registration", &self.registration)?,
            status: wire::<ServiceStatus>("status", &self.status)?,
            country: self.country.clone(),
            region: self.region.clone(),
            lang: self.lang.clone(),
            criterion: self.criterion.clone(),
            grade,
            members_only: flag("members", &self.members)?,
            actors: None,
        })
    }
}

/// GET /api/v1/directory — peers, their services and label, filtered by what they publish
/// (`members=true`: only the collective's members).
pub async fn directory(
    fed: web::Data<Federation>,
    query: web::Query<DirectoryParams>,
) -> Result<HttpResponse, ApiError> {
    let data = fed.to_request_data();
    let peers = crate::app::collective_pages::directory(&data, query.query()?).await?;
    Ok(HttpResponse::Ok().insert_header(("Access-Control-Allow-Origin", "*")).json(serde_json::json!({"peers": peers})))
}
