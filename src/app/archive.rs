//! A host leaves with its data: `export --all` writes everything the host made as one versioned
//! JSON document; `import --all` loads it into a fresh instance, all or nothing.
//!
//! The account's identity is its URL: imported on the same domain (a new machine), the followers
//! keep following it. With the key included, its signatures verify as before; without it the
//! instance's own new key is announced with an actor `Update` (signed with it), and peers that
//! refetch a key on a failed check (Mastodon, GoToSocial, Ronron) keep accepting us. A collective
//! moves with its roster, its Group's followers and re-shares, and (with the keys) its Group's key.

use super::{profile, timeline, AppError, AppResult};
use crate::refusal::{Kind, Reason};
use crate::{
    db::models::{
        archive::{self, KeyRow, Tables},
        keys::{self, Ed25519Row},
        states::{FollowState, JoinState, JoinedVia, MemberState},
    },
    state::{AppState, GROUP_KEY, HOST_KEY},
};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "ronron-export";
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Export {
    /// Always `ronron-export`.
    pub format: String,
    /// The version of this format (1).
    pub version: u32,
    /// `instance.domain` of the host that wrote it: every URL derives from it.
    pub domain: String,
    /// The host account's actor URL.
    pub actor: String,
    pub exported_at: NaiveDateTime,
    /// When the account was made (its actor's `published`).
    pub account_created_at: NaiveDateTime,
    /// The host account's key pair, only when asked for (`--include-key`): the document is then
    /// as secret as the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_key: Option<KeyRow>,
    /// The collective's Group's key pair, with `host_key`, when this instance has one (it has or
    /// had the collective role).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_key: Option<KeyRow>,
    /// The host account's Ed25519 key (FEP-521a, it signs object integrity proofs), with
    /// `host_key`. An export made before Ronron had these keys has none: one is made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_ed25519_key: Option<Ed25519Row>,
    /// The Group's Ed25519 key, with `group_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_ed25519_key: Option<Ed25519Row>,
    pub tables: Tables,
    /// The uploaded logos' files (the settings name which is whose). An export made before
    /// Ronron stored logos has none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<super::media::MediaFile>,
}

/// Everything the host made, with its key only if `include_key`.
pub async fn export_all(state: &AppState, include_key: bool) -> AppResult<Export> {
    let (tables, key, group_key, ed25519) = state
        .db
        .read(|c| {
            // One snapshot, so that a bulletin published while the export runs is in it with all
            // its rows, or not at all (the server may be running).
            archive::in_one_snapshot(c, |c| {
                let ed25519 = (keys::find_ed25519(c, HOST_KEY)?, keys::find_ed25519(c, GROUP_KEY)?);
                Ok((archive::read_all(c)?, archive::key(c, HOST_KEY)?, archive::key(c, GROUP_KEY)?, ed25519))
            })
        })
        .await?;
    let key = key.ok_or_else(|| AppError::Internal("the host account has no key".into()))?;
    let media = super::media::export_files(state).await?;
    Ok(Export {
        format: FORMAT.into(),
        version: VERSION,
        domain: state.config.instance.domain.clone(),
        actor: state.urls.host_actor().to_string(),
        exported_at: state.clock.now(),
        account_created_at: key.created_at,
        host_key: include_key.then_some(key),
        group_key: group_key.filter(|_| include_key),
        host_ed25519_key: ed25519.0.filter(|_| include_key),
        group_ed25519_key: ed25519.1.filter(|_| include_key),
        tables,
        media,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub bulletins: usize,
    pub services: usize,
    pub followers: usize,
    pub following: usize,
    pub activities: usize,
    /// The export carried the key, and it is now this instance's.
    pub key_kept: bool,
    /// An actor `Update` was queued for the followers (the key changed).
    pub update_queued: bool,
}

/// The refusal of the export file.
fn refuse(kind: Kind, values: &[(&'static str, &str)]) -> AppError {
    AppError::refused("file", kind, values)
}

/// Reads an export: its format and version first, then every field (errors name its path).
pub fn parse(text: &str) -> AppResult<Export> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| refuse(Kind::ExportNotJson, &[("error", &e.to_string())]))?;
    match value.get("format").and_then(|f| f.as_str()) {
        Some(FORMAT) => {}
        Some(other) => return Err(refuse(Kind::ExportFormat, &[("value", other)])),
        None => return Err(refuse(Kind::ExportNoFormat, &[("format", FORMAT)])),
    }
    match value.get("version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(VERSION) => {}
        Some(v) => {
            let (version, supported) = (v.to_string(), VERSION.to_string());
            return Err(refuse(Kind::ExportVersion, &[("version", &version), ("supported", &supported)]));
        }
        None => return Err(refuse(Kind::ExportNoVersion, &[])),
    }
    let export: Export = serde_path_to_error::deserialize(value).map_err(|e| {
        refuse(Kind::ExportField, &[("path", &e.path().to_string()), ("error", &e.inner().to_string())])
    })?;
    for f in &export.tables.followers {
        if FollowState::parse(&f.status).is_none() {
            return Err(unknown_value("followers", &f.actor_id, "status", &f.status));
        }
    }
    for f in &export.tables.following {
        if FollowState::parse(&f.status).is_none() {
            return Err(unknown_value("following", &f.actor_id, "status", &f.status));
        }
    }
    check_states(&export.tables)?;
    for (field, kind, key) in [("host_key", HOST_KEY, &export.host_key), ("group_key", GROUP_KEY, &export.group_key)] {
        let Some(key) = key else { continue };
        if key.kind != kind {
            return Err(refuse(Kind::ExportKeyKind, &[("field", field), ("kind", kind)]));
        }
        crate::federation::keys::SigningKey::from_pem(&key.private_key_pem).map_err(|e| {
            let path = format!("{field}.private_key_pem");
            refuse(Kind::ExportField, &[("path", &path), ("error", &e.to_string())])
        })?;
    }
    for (field, kind, key) in [
        ("host_ed25519_key", HOST_KEY, &export.host_ed25519_key),
        ("group_ed25519_key", GROUP_KEY, &export.group_ed25519_key),
    ] {
        let Some(key) = key else { continue };
        if key.kind != kind {
            return Err(refuse(Kind::ExportKeyKind, &[("field", field), ("kind", kind)]));
        }
        crate::federation::proofs::Ed25519Key::from_pkcs8_base64(
            &key.private_key_pkcs8,
            Some(&key.public_key_multibase),
        )
        .map_err(|e| refuse(Kind::ExportField, &[("path", field), ("error", &e.to_string())]))?;
    }
    if export.host_ed25519_key.is_some() && export.host_key.is_none() {
        return Err(refuse(Kind::ExportKeyPair, &[("key", "host_ed25519_key"), ("needs", "host_key")]));
    }
    if export.group_ed25519_key.is_some() && export.group_key.is_none() {
        return Err(refuse(Kind::ExportKeyPair, &[("key", "group_ed25519_key"), ("needs", "group_key")]));
    }
    if export.group_key.is_some() && export.host_key.is_none() {
        return Err(refuse(Kind::ExportKeyPair, &[("key", "group_key"), ("needs", "host_key")]));
    }
    Ok(export)
}

/// A row of the export's `table` (by its actor, `who`) whose `field` holds a value this Ronron
/// does not know.
fn unknown_value(table: &str, who: &str, field: &str, value: &str) -> AppError {
    refuse(Kind::ExportUnknownValue, &[("table", table), ("who", who), ("field", field), ("value", value)])
}

/// The collective role's tables hold states as text: each must be one this Ronron knows.
fn check_states(t: &Tables) -> AppResult<()> {
    let unknown = |table: &str, who: &str, field: &str, value: &str| Err(unknown_value(table, who, field, value));
    for m in &t.collective_members {
        if MemberState::parse(&m.state).is_none() {
            return unknown("collective_members", &m.actor_id, "state", &m.state);
        }
        if JoinedVia::parse(&m.joined_via).is_none() {
            return unknown("collective_members", &m.actor_id, "joined_via", &m.joined_via);
        }
    }
    for f in &t.collective_followers {
        if FollowState::parse(&f.status).is_none() {
            return unknown("collective_followers", &f.actor_id, "status", &f.status);
        }
    }
    for j in &t.collective_joins {
        if JoinState::parse(&j.state).is_none() {
            return unknown("collective_joins", &j.group_actor_id, "state", &j.state);
        }
    }
    Ok(())
}

/// Loads `export` into this instance, which must be fresh (no bulletin, service, grade, follower,
/// follow, block or activity yet), in one transaction. With the key, the domain must be the same.
pub async fn import_all(state: &AppState, export: Export) -> AppResult<ImportReport> {
    let ours = state.config.instance.domain.clone();
    if export.domain != ours {
        return Err(refuse(Kind::ExportDomain, &[("domain", &export.domain), ("ours", &ours)]));
    }
    let report = ImportReport {
        bulletins: export.tables.bulletins.len(),
        services: export.tables.services.len(),
        followers: export.tables.followers.len(),
        following: export.tables.following.len(),
        activities: export.tables.activities.len(),
        key_kept: export.host_key.is_some(),
        update_queued: false,
    };
    // The files first: a logo's setting then never names a file that is not there (an import
    // refused below leaves them unnamed, and harmless).
    super::media::import_files(state, export.media.clone()).await?;
    state
        .db
        .write(move |c| {
            if let Some(table) = archive::first_non_empty(c)? {
                return Err(AppError::Conflict {
                    field: None,
                    reason: Reason::new(Kind::ImportNotFresh, &[("table", table)]),
                });
            }
            archive::insert_all(c, &export.tables)?;
            match &export.host_key {
                Some(key) => archive::put_key(c, key)?,
                None => archive::set_key_created(c, HOST_KEY, export.account_created_at)?,
            }
            // The Group's key is read at start: `ronron serve` signs with it from its next start.
            if let Some(key) = &export.group_key {
                archive::put_key(c, key)?;
            }
            // The Ed25519 keys too (read at start, like the Group's).
            for key in [&export.host_ed25519_key, &export.group_ed25519_key].into_iter().flatten() {
                keys::restore_ed25519(c, key)?;
            }
            Ok(())
        })
        .await?;
    timeline::rebuild_if_empty(state).await?;
    state.keys.current_host(&state.db).await.map_err(|e| AppError::Internal(e.to_string()))?;
    // Without the key the actor document differs from the one followers saw (its key): they get
    // its Update. With the key it is the same document, and nothing is sent.
    let update_queued = profile::federate_profile_if_changed(state).await?;
    Ok(ImportReport { update_queued, ..report })
}
