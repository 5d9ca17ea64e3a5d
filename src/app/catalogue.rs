//! The service catalogue: services the host offers, each with a status derived from the service
//! changes posted about it (never typed by hand).

use super::{AppError, AppResult};
use crate::refusal::Kind;

// The stored service is what the use-cases hand out.
pub use crate::db::models::services::Service;
use crate::{
    bulletin::{self, vocab::*, ServiceDraft},
    db::{
        models::{bulletins, services},
        DbResult,
    },
    state::AppState,
};

pub(super) fn no_service(slug: &str) -> AppError {
    AppError::no_such(Kind::NoService, slug)
}

pub async fn add(state: &AppState, draft: ServiceDraft) -> AppResult<Service> {
    draft.validate()?;
    let now = state.clock.now();
    let service = Service {
        slug: draft.slug.clone(),
        name: draft.name.trim().to_string(),
        software: draft.software.trim().to_string(),
        url: draft.url.clone(),
        description: draft.description.trim().to_string(),
        audience: draft.audience.trim().to_string(),
        registration: Registration::parse("registration", &draft.registration)?.cli_name().to_string(),
        created_at: now,
        updated_at: now,
        removed_at: None,
    };
    let row = service.clone();
    let inserted = state
        .db
        .write(move |c| match services::find(c, &row.slug)? {
            Some(existing) if existing.removed_at.is_none() => Ok(false),
            Some(_) => services::update(c, &row).map(|_| true),
            None => services::insert(c, &row).map(|_| true),
        })
        .await?;
    if !inserted {
        return Err(AppError::conflicting("slug", Kind::ServiceExists, &[("value", &draft.slug)]));
    }
    Ok(service)
}

/// Changes the given fields of a service (empty fields in `edit` are kept).
pub async fn edit(state: &AppState, slug: &str, edit: ServiceDraft) -> AppResult<Service> {
    let key = slug.to_string();
    let current = state.db.read(move |c| services::find(c, &key)).await?;
    let mut service = current.filter(|s| s.removed_at.is_none()).ok_or_else(|| no_service(slug))?;
    let pick = |new: &str, old: &str| if new.is_empty() { old.to_string() } else { new.to_string() };
    let draft = ServiceDraft {
        slug: service.slug.clone(),
        name: pick(&edit.name, &service.name),
        software: pick(&edit.software, &service.software),
        url: pick(&edit.url, &service.url),
        description: pick(&edit.description, &service.description),
        audience: pick(&edit.audience, &service.audience),
        registration: pick(&edit.registration, &service.registration),
    };
    draft.validate()?;
    service.name = draft.name;
    service.software = draft.software;
    service.url = draft.url;
    service.description = draft.description;
    service.audience = draft.audience;
    service.registration = Registration::parse("registration", &draft.registration)?.cli_name().to_string();
    service.updated_at = state.clock.now();
    let row = service.clone();
    state.db.write(move |c| services::update(c, &row)).await?;
    Ok(service)
}

/// Takes a service out of the catalogue (its past bulletins keep naming it).
pub async fn remove(state: &AppState, slug: &str) -> AppResult<()> {
    let key = slug.to_string();
    let now = state.clock.now();
    let removed = state
        .db
        .write(move |c| match services::find(c, &key)? {
            Some(mut s) if s.removed_at.is_none() => {
                s.removed_at = Some(now);
                services::update(c, &s).map(|_| true)
            }
            _ => Ok(false),
        })
        .await?;
    if removed {
        Ok(())
    } else {
        Err(no_service(slug))
    }
}

/// Every service with its current status.
pub async fn list_with_status(state: &AppState) -> DbResult<Vec<(Service, ServiceStatus)>> {
    state
        .db
        .read(|c| {
            let mut out = Vec::new();
            for service in services::list(c)? {
                let status = bulletin::derive_status(&bulletins::changes_for_service(c, &service.slug)?);
                out.push((service, status));
            }
            Ok(out)
        })
        .await
}

/// The services of the catalogue (not removed), as a change can name them.
pub async fn list(state: &AppState) -> DbResult<Vec<Service>> {
    state.db.read(services::list).await
}

/// A service's status as of now (a slug added again keeps its past changes).
pub async fn status_of(state: &AppState, slug: &str) -> DbResult<ServiceStatus> {
    let slug = slug.to_string();
    let changes = state.db.read(move |c| bulletins::changes_for_service(c, &slug)).await?;
    Ok(bulletin::derive_status(&changes))
}
