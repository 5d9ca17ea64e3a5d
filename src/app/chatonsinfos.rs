//! ChatonsInfos: the host's organisation file and one file per service, generated from the profile
//! and the catalogue; and the import of files a host already published (fetch, compare, apply on
//! confirmation).

use super::{profile, AppError, AppResult};
use crate::refusal::{Kind, Reason, Refusal};
use crate::{
    bulletin::{
        derive_status,
        vocab::{Choice, Registration},
        ServiceDraft,
    },
    chatonsinfos::{self as ci, FileHeader, InfoError, SkipReason},
    config::AccountConfig,
    db::models::{bulletins, remote, services, settings},
    federation::{check_outgoing_url, http_client},
    state::AppState,
};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// At most this many service files are read from one organisation file.
pub const MAX_SUBS: usize = 100;
/// The whole import (every file fetched) must finish within this time.
pub const IMPORT_TIMEOUT: Duration = Duration::from_secs(60);

fn head(state: &AppState) -> FileHeader {
    FileHeader { generated_at: state.clock.now(), generator: format!("Ronron {}", env!("CARGO_PKG_VERSION")) }
}

fn organization_of(account: &AccountConfig) -> ci::Organization {
    let contact = account.contact.as_deref().map(str::trim).filter(|c| !c.is_empty());
    let (contact_email, contact_url) = match contact {
        Some(c) if c.starts_with("http://") || c.starts_with("https://") => (None, Some(c.to_string())),
        Some(c) if c.contains('@') && !c.contains("://") => (Some(c.trim_start_matches("mailto:").to_string()), None),
        _ => (None, None),
    };
    let some = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    ci::Organization {
        name: account.display_name.clone(),
        description: some(&account.summary),
        website: account.website.clone(),
        logo: account.logo.clone(),
        contact_url,
        contact_email,
        kind: account.structure_type.clone(),
        country_code: account.country.clone(),
    }
}

fn service_info(service: &services::Service, status: crate::bulletin::vocab::ServiceStatus) -> ci::ServiceInfo {
    let some = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    ci::ServiceInfo {
        name: service.name.clone(),
        description: some(&service.description),
        website: some(&service.url),
        software: some(&service.software),
        registration: Registration::parse("registration", &service.registration).ok(),
        status: Some(status),
    }
}

/// The organisation file: the profile, and a `subs.<slug>` for each service of the catalogue.
pub async fn organization_file(state: &AppState) -> AppResult<String> {
    let account = profile::effective(state).await?;
    let subs = state
        .db
        .read(services::list)
        .await?
        .into_iter()
        .map(|s| (s.slug.clone(), state.urls.chatonsinfos_service(&s.slug).to_string()))
        .collect::<Vec<_>>();
    Ok(ci::organization_file(&head(state), &organization_of(&account), &subs))
}

/// One service's file, with its current status and registration; `None` when not in the catalogue.
pub async fn service_file(state: &AppState, slug: &str) -> AppResult<Option<String>> {
    let key = slug.to_string();
    let found = state
        .db
        .read(move |c| match services::find(c, &key)? {
            Some(s) if s.removed_at.is_none() => {
                let status = derive_status(&bulletins::changes_for_service(c, &s.slug)?);
                Ok(Some((s, status)))
            }
            _ => Ok(None),
        })
        .await?;
    Ok(found.map(|(s, status)| ci::service_file(&head(state), &service_info(&s, status))))
}

/// The collective's federation file, the one stats.chatons.org's crawler starts from: a
/// `subs.<id>` per approved member whose actor names its organisation file
/// (`hostProfile.chatonsInfos`, as Ronron hosts publish it). A member that names none is left out
/// rather than given a guessed URL. NotFound when the collective role is off.
pub async fn federation_file(state: &AppState) -> AppResult<String> {
    let Some(collective) = state.config.collective.as_ref() else {
        return Err(AppError::NotFound(Reason::new(Kind::CollectiveOff, &[])));
    };
    let members = super::collective_pages::members(state).await?;
    let actors: Vec<String> = members.iter().map(|m| m.actor.clone()).collect();
    let raws = state
        .db
        .read(move |c| {
            let mut found = Vec::with_capacity(actors.len());
            for actor in &actors {
                found.push(remote::find_actor(c, actor)?.map(|a| a.raw));
            }
            Ok(found)
        })
        .await?;
    let subs: Vec<(String, String)> = members
        .iter()
        .zip(raws)
        .filter_map(|(member, raw)| {
            let url = raw.as_deref().and_then(organisation_file_of)?;
            Some((member.name.clone(), url))
        })
        .collect();
    let account = profile::effective(state).await?;
    let federation = ci::Federation {
        name: collective.display_name.clone(),
        description: crate::bulletin::render::plain_text(&crate::bulletin::render::markdown_to_html(
            &collective.summary,
        )),
        website: state.urls.collective_status().to_string(),
        contact_email: organization_of(&account).contact_email.unwrap_or_default(),
    };
    Ok(ci::federation_file(&head(state), &federation, &subs))
}

/// The organisation file an actor document names, when it is an http(s) URL.
fn organisation_file_of(actor_raw: &str) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_str(actor_raw).ok()?;
    let url = doc.get("hostProfile")?.get("chatonsInfos")?.as_str()?;
    let parsed = url::Url::parse(url).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.to_string())
}

// ---------------------------------------------------------------- import

/// Where the organisation file comes from.
#[derive(Debug, Clone)]
pub enum Source {
    Url(String),
    /// A file's content, read by the door (`name` is how to mention it).
    File {
        name: String,
        bytes: Vec<u8>,
    },
}

impl Source {
    fn name(&self) -> &str {
        match self {
            Source::Url(u) => u,
            Source::File { name, .. } => name,
        }
    }
}

/// One field that would change: `field` is its label's catalogue key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: &'static str,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceAction {
    Add,
    Edit,
    Unchanged,
}

#[derive(Debug, Clone)]
pub struct ServicePlan {
    pub slug: String,
    /// The service file's URL.
    pub source: String,
    pub action: ServiceAction,
    pub changes: Vec<FieldChange>,
    draft: ServiceDraft,
}

/// A key of a file read that is not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedKey {
    pub file: String,
    pub key: String,
    pub line: usize,
    pub reason: SkipReason,
}

/// What an import would change; nothing is written until [`apply`].
#[derive(Debug, Clone)]
pub struct ImportPlan {
    pub source: String,
    pub profile: Vec<FieldChange>,
    pub services: Vec<ServicePlan>,
    pub skipped: Vec<SkippedKey>,
    edit: profile::ProfileEdit,
}

impl ImportPlan {
    pub fn changes_nothing(&self) -> bool {
        self.profile.is_empty() && self.services.iter().all(|s| s.action == ServiceAction::Unchanged)
    }

    /// A digest of the changes: a confirmation applies only the plan that was shown.
    pub fn fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(format!("{:?}", self.profile));
        for s in &self.services {
            hash.update(format!("{}|{:?}|{:?}", s.slug, s.action, s.changes));
        }
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub profile_fields: usize,
    pub services_added: usize,
    pub services_edited: usize,
}

/// `reason`, framed by the file it was found in, as the refusal of the form's `file`.
fn in_file(name: &str, reason: Reason) -> Refusal {
    Refusal { field: "file".into(), reason: Reason::nested(Kind::InFile, &[("file", name)], reason) }
}

fn file_error(name: &str, e: InfoError) -> AppError {
    AppError::Fields(vec![in_file(name, e.reason())])
}

/// What the profile or the catalogue refuses of a file's values, each framed by the file and
/// the field.
fn refused_values(name: &str, e: AppError) -> AppError {
    let framed =
        |field: &str, reason: Reason| in_file(name, Reason::nested(Kind::InField, &[("field", field)], reason));
    match e {
        AppError::Invalid { field, reason } => AppError::Fields(vec![framed(&field, Reason::Text(reason))]),
        AppError::Fields(refusals) => {
            AppError::Fields(refusals.into_iter().map(|r| framed(&r.field, r.reason)).collect())
        }
        other => other,
    }
}

fn unreachable(name: &str, reason: impl std::fmt::Display) -> AppError {
    AppError::Unreachable { field: Some("file".into()), reason: format!("{name}: {reason}") }
}

/// Fetches one file: http(s) only, no private addresses outside dev mode, no redirects, at most
/// [`ci::MAX_BYTES`].
async fn fetch(state: &AppState, client: &reqwest::Client, url: &str) -> AppResult<Vec<u8>> {
    let parsed = url::Url::parse(url).map_err(|_| AppError::refused("file", Kind::NotAUrl, &[("value", url)]))?;
    check_outgoing_url(&parsed, state.config.dev_mode())
        .map_err(|reason| AppError::Fields(vec![in_file(url, Reason::Text(reason))]))?;
    if let Some(block) = crate::federation::blocked(state, vec![url.to_string()]).await? {
        return Err(AppError::conflicting("file", Kind::Blocked, &[("value", &block.domain)]));
    }
    let mut response = client
        .get(parsed)
        .header(reqwest::header::ACCEPT, "text/plain, */*;q=0.5")
        .send()
        .await
        .map_err(|e| unreachable(url, format!("cannot be fetched ({e})")))?;
    if !response.status().is_success() {
        return Err(unreachable(url, format!("the server answered {}", response.status())));
    }
    if response.content_length().is_some_and(|n| n > ci::MAX_BYTES as u64) {
        return Err(file_error(url, InfoError::TooLarge { max: ci::MAX_BYTES }));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) =
        response.chunk().await.map_err(|e| unreachable(url, format!("the transfer failed ({e})")))?
    {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > ci::MAX_BYTES {
            return Err(file_error(url, InfoError::TooLarge { max: ci::MAX_BYTES }));
        }
    }
    Ok(bytes)
}

fn text_change(changes: &mut Vec<FieldChange>, field: &'static str, before: &str, after: Option<&String>) {
    if let Some(after) = after {
        if after.trim() != before.trim() {
            changes.push(FieldChange { field, before: before.to_string(), after: after.clone() });
        }
    }
}

/// Reads the organisation file and its service files and compares them with the profile and the
/// catalogue. Fields a file does not give are kept; services it does not list are kept.
pub async fn plan(state: &AppState, source: Source) -> AppResult<ImportPlan> {
    let name = source.name().to_string();
    match tokio::time::timeout(IMPORT_TIMEOUT, plan_within(state, source)).await {
        Ok(result) => result,
        Err(_) => Err(unreachable(&name, format!("the files were not read within {} s", IMPORT_TIMEOUT.as_secs()))),
    }
}

async fn plan_within(state: &AppState, source: Source) -> AppResult<ImportPlan> {
    let client = http_client(state);
    let name = source.name().to_string();
    let bytes = match source {
        Source::Url(url) => fetch(state, &client, &url).await?,
        Source::File { bytes, .. } => bytes,
    };
    let org = ci::read_organization(&bytes).map_err(|e| file_error(&name, e))?;
    if org.subs.len() > MAX_SUBS {
        let max = MAX_SUBS.to_string();
        return Err(AppError::Fields(vec![in_file(&name, Reason::new(Kind::InfoTooManySubs, &[("max", &max)]))]));
    }
    let mut skipped: Vec<SkippedKey> = org
        .skipped
        .iter()
        .map(|s| SkippedKey { file: name.clone(), key: s.key.clone(), line: s.line, reason: s.reason })
        .collect();

    // The profile.
    let o = &org.organization;
    let edit = profile::ProfileEdit {
        display_name: Some(o.name.clone()),
        summary: o.description.clone(),
        structure_type: o.kind.clone(),
        country: o.country_code.clone(),
        region: None,
        website: o.website.clone(),
        contact: o.contact_email.as_ref().map(|e| format!("mailto:{e}")).or_else(|| o.contact_url.clone()),
        logo: o.logo.clone(),
    };
    let current = profile::effective(state).await?;
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut changes = Vec::new();
    text_change(&mut changes, "display_name", &current.display_name, edit.display_name.as_ref());
    text_change(&mut changes, "summary", &current.summary, edit.summary.as_ref());
    text_change(&mut changes, "structure", &opt(&current.structure_type), edit.structure_type.as_ref());
    text_change(&mut changes, "country", &opt(&current.country), edit.country.as_ref());
    text_change(&mut changes, "website", &opt(&current.website), edit.website.as_ref());
    text_change(&mut changes, "contact", &opt(&current.contact), edit.contact.as_ref());
    text_change(&mut changes, "logo", &opt(&current.logo), edit.logo.as_ref());
    // Refuse now what the profile would refuse at apply time.
    profile::prepare(state, edit.clone()).await.map_err(|e| refused_values(&name, e))?;

    // The services.
    let existing = state.db.read(services::list).await?;
    let mut plans: Vec<ServicePlan> = Vec::new();
    for (id, url, line) in &org.subs {
        let slug = ci::sub_id(id);
        if plans.iter().any(|p| p.slug == slug) {
            return Err(file_error(&name, InfoError::line(*line, Kind::InfoSubsTwice, &[("id", id), ("slug", &slug)])));
        }
        let bytes = fetch(state, &client, url).await?;
        let file = ci::read_service(&bytes).map_err(|e| file_error(url, e))?;
        skipped.extend(file.skipped.iter().map(|s| SkippedKey {
            file: url.clone(),
            key: s.key.clone(),
            line: s.line,
            reason: s.reason,
        }));
        let s = file.service;
        let registration = s.registration.map(|r| r.cli_name().to_string());
        let mut draft = ServiceDraft {
            slug: slug.clone(),
            name: s.name.clone(),
            software: s.software.clone().unwrap_or_default(),
            url: s.website.clone().unwrap_or_default(),
            description: s.description.clone().unwrap_or_default(),
            audience: String::new(),
            registration: registration.clone().unwrap_or_default(),
        };
        let (action, changes) = match existing.iter().find(|e| e.slug == slug) {
            Some(e) => {
                let mut changes = Vec::new();
                text_change(&mut changes, "name", &e.name, Some(&s.name));
                text_change(&mut changes, "software", &e.software, s.software.as_ref());
                text_change(&mut changes, "address", &e.url, s.website.as_ref());
                text_change(&mut changes, "description", &e.description, s.description.as_ref());
                text_change(&mut changes, "registrations", &e.registration, registration.as_ref());
                let pick = |new: &str, old: &str| if new.is_empty() { old.to_string() } else { new.to_string() };
                let merged = ServiceDraft {
                    slug: slug.clone(),
                    name: pick(&draft.name, &e.name),
                    software: pick(&draft.software, &e.software),
                    url: pick(&draft.url, &e.url),
                    description: pick(&draft.description, &e.description),
                    audience: e.audience.clone(),
                    registration: pick(&draft.registration, &e.registration),
                };
                merged.validate().map_err(|e| service_refused(url, e.into()))?;
                let action = if changes.is_empty() { ServiceAction::Unchanged } else { ServiceAction::Edit };
                (action, changes)
            }
            None => {
                if draft.software.is_empty() {
                    return Err(file_error(url, InfoError::Missing { key: "software.name".into() }));
                }
                if draft.url.is_empty() {
                    return Err(file_error(url, InfoError::Missing { key: "service.website".into() }));
                }
                if draft.registration.is_empty() {
                    draft.registration = "open".into();
                }
                draft.validate().map_err(|e| service_refused(url, e.into()))?;
                let changes = vec![
                    FieldChange { field: "name", before: String::new(), after: draft.name.clone() },
                    FieldChange { field: "software", before: String::new(), after: draft.software.clone() },
                    FieldChange { field: "address", before: String::new(), after: draft.url.clone() },
                    FieldChange { field: "registrations", before: String::new(), after: draft.registration.clone() },
                ];
                (ServiceAction::Add, changes)
            }
        };
        plans.push(ServicePlan { slug, source: url.clone(), action, changes, draft });
    }
    Ok(ImportPlan { source: name, profile: changes, services: plans, skipped, edit })
}

fn service_refused(url: &str, e: AppError) -> AppError {
    refused_values(url, e)
}

/// Applies a plan in one transaction: the profile and every service, or nothing. The new profile
/// is then sent to followers if it changed.
pub async fn apply(state: &AppState, plan: ImportPlan) -> AppResult<ImportReport> {
    let report = ImportReport {
        profile_fields: plan.profile.len(),
        services_added: plan.services.iter().filter(|s| s.action == ServiceAction::Add).count(),
        services_edited: plan.services.iter().filter(|s| s.action == ServiceAction::Edit).count(),
    };
    let (json, _) = profile::prepare(state, plan.edit.clone()).await?;
    let write_profile = !plan.profile.is_empty();
    let now = state.clock.now();
    let services_plan: Vec<ServicePlan> =
        plan.services.into_iter().filter(|s| s.action != ServiceAction::Unchanged).collect();
    state
        .db
        .write(move |c| {
            if write_profile {
                settings::put(c, profile::OVERRIDES, &json)?;
            }
            for p in &services_plan {
                let d = &p.draft;
                let found = services::find(c, &d.slug)?;
                let mut row = match found {
                    Some(row) if row.removed_at.is_none() => row,
                    _ => services::Service {
                        slug: d.slug.clone(),
                        name: String::new(),
                        software: String::new(),
                        url: String::new(),
                        description: String::new(),
                        audience: String::new(),
                        registration: "open".into(),
                        created_at: now,
                        updated_at: now,
                        removed_at: None,
                    },
                };
                let set = |target: &mut String, new: &str| {
                    if !new.is_empty() {
                        *target = new.trim().to_string();
                    }
                };
                set(&mut row.name, &d.name);
                set(&mut row.software, &d.software);
                set(&mut row.url, &d.url);
                set(&mut row.description, &d.description);
                set(&mut row.registration, &d.registration);
                row.updated_at = now;
                match services::find(c, &d.slug)? {
                    Some(_) => services::update(c, &row)?,
                    None => services::insert(c, &row)?,
                }
            }
            Ok::<_, crate::db::DbError>(())
        })
        .await?;
    if write_profile {
        profile::federate_profile_if_changed(state).await?;
    }
    Ok(report)
}
