//! The host's public profile: the `[account]` configuration, with the fields an admin edits from
//! the command line (`ronron profile set`) stored in the database on top of it.

use super::{
    media::{self, Logo, Owner, Upload},
    write_and_wake, AppError, AppResult,
};
use crate::{
    bulletin,
    config::{AccountConfig, Config},
    db::{
        models::{followers, settings},
        DbConnection, DbResult,
    },
    federation::activities::{enqueue, new_activity_id, public_activity},
    refusal::{Kind, Refusals},
    state::AppState,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub(crate) const OVERRIDES: &str = "profile.overrides";

/// Fields `ronron profile set` can change; `Some("")` clears an optional field.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ProfileEdit {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub structure_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
}

impl ProfileEdit {
    fn merged(mut self, newer: ProfileEdit) -> ProfileEdit {
        macro_rules! take {
            ($($field:ident),*) => { $( if newer.$field.is_some() { self.$field = newer.$field; } )* };
        }
        take!(display_name, summary, structure_type, country, region, website, contact, logo);
        self
    }

    fn apply(&self, account: &mut AccountConfig) {
        let optional = |value: &Option<String>, target: &mut Option<String>| {
            if let Some(v) = value {
                *target = Some(v.clone()).filter(|v| !v.trim().is_empty());
            }
        };
        if let Some(name) = &self.display_name {
            account.display_name = name.clone();
        }
        if let Some(summary) = &self.summary {
            account.summary = summary.clone();
        }
        optional(&self.structure_type, &mut account.structure_type);
        optional(&self.country, &mut account.country);
        optional(&self.region, &mut account.region);
        optional(&self.website, &mut account.website);
        optional(&self.contact, &mut account.contact);
        optional(&self.logo, &mut account.logo);
    }
}

fn stored(raw: Option<String>) -> ProfileEdit {
    raw.and_then(|r| serde_json::from_str(&r).ok()).unwrap_or_default()
}

/// The profile as published: configuration, then the stored edits; an uploaded logo is served
/// by this host (`media::set_logo`), and wins over a logo URL.
pub async fn effective(state: &AppState) -> DbResult<AccountConfig> {
    let raw = state.db.read(|c| settings::get(c, OVERRIDES)).await?;
    let mut account = state.config.account.clone();
    stored(raw).apply(&mut account);
    if let Some(logo) = media::logo(state, Owner::Host).await? {
        account.logo = Some(state.urls.media(&logo.file).to_string());
    }
    Ok(account)
}

/// Uploads the host's logo (checked and stored by `media::set_logo`); followers receive the
/// actor's `Update`.
pub async fn set_logo(state: &AppState, upload: Upload) -> AppResult<Logo> {
    let logo = media::set_logo(state, Owner::Host, upload).await?;
    federate_profile_if_changed(state).await?;
    Ok(logo)
}

/// Removes the host's logo: the uploaded one, and a logo URL from the configuration or an edit;
/// followers receive the actor's `Update`. False when there was none.
pub async fn remove_logo(state: &AppState) -> AppResult<bool> {
    let uploaded = media::remove_logo(state, Owner::Host).await?;
    let url = effective(state).await?.logo.is_some();
    if url {
        set(state, ProfileEdit { logo: Some(String::new()), ..Default::default() }).await?;
    }
    federate_profile_if_changed(state).await?;
    Ok(uploaded || url)
}

/// [`effective`] on a connection already held (inside another read), without the uploaded
/// logo: for the name and other text fields.
pub fn effective_in(c: &mut DbConnection, config: &Config) -> DbResult<AccountConfig> {
    let mut account = config.account.clone();
    stored(settings::get(c, OVERRIDES)?).apply(&mut account);
    Ok(account)
}

/// Validates and stores an edit; the caller federates the new profile.
pub async fn set(state: &AppState, edit: ProfileEdit) -> AppResult<AccountConfig> {
    let (json, account) = prepare(state, edit).await?;
    state.db.write(move |c| settings::put(c, OVERRIDES, &json)).await?;
    Ok(account)
}

/// Checks an edit against the stored ones: what to store under [`OVERRIDES`], and the profile it
/// gives (for a caller that stores it in its own transaction).
pub(crate) async fn prepare(state: &AppState, edit: ProfileEdit) -> AppResult<(String, AccountConfig)> {
    let mut refusals = Refusals::new();
    for (field, value) in [
        ("display-name", &edit.display_name),
        ("summary", &edit.summary),
        ("structure-type", &edit.structure_type),
        ("country", &edit.country),
        ("region", &edit.region),
        ("website", &edit.website),
        ("contact", &edit.contact),
        ("logo", &edit.logo),
    ] {
        bulletin::collect(&mut refusals, bulletin::check_optional_text(field, value.as_deref()));
    }
    bulletin::refused(refusals)?;
    let raw = state.db.read(|c| settings::get(c, OVERRIDES)).await?;
    let merged = stored(raw).merged(edit);
    let mut config: Config = (*state.config).clone();
    merged.apply(&mut config.account);
    check_account(&config.account)?;
    config.validate().map_err(|e| match e {
        crate::config::ConfigError::Invalid { key, reason } => {
            AppError::invalid(key.trim_start_matches("account.").replace('_', "-"), reason)
        }
        other => AppError::invalid("profile", other.to_string()),
    })?;
    let json = serde_json::to_string(&merged).expect("an edit serialises");
    Ok((json, config.account))
}
/// The profile's own fields, every refusal at once (the rest of the configuration is checked by
/// `Config::validate`).
fn check_account(account: &AccountConfig) -> Result<(), bulletin::BulletinError> {
    let mut refusals = Refusals::new();
    if account.display_name.trim().is_empty() {
        refusals.refuse("display-name", Kind::Required, &[]);
    }
    if let Some(country) = &account.country {
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
            refusals.refuse("country", Kind::Country, &[("value", country)]);
        }
    }
    let web = |v: &str| v.starts_with("https://") || v.starts_with("http://");
    if let Some(logo) = account.logo.as_deref().filter(|l| !web(l)) {
        refusals.refuse("logo", Kind::NotWebUrl, &[("value", logo)]);
    }
    for (field, value) in [("website", &account.website), ("contact", &account.contact)] {
        if let Some(value) = value.as_deref().filter(|v| !web(v) && !v.starts_with("mailto:")) {
            refusals.refuse(field, Kind::NotLinkUrl, &[("value", value)]);
        }
    }
    bulletin::refused(refusals)
}

// ---------------------------------------------------------------- profile

const PROFILE_FEDERATED: &str = "profile.federated";

/// Sends `Update{actor}` to followers when the public profile differs from the one last sent
/// (after `ronron profile set`, or a configuration change at start-up).
pub async fn federate_profile_if_changed(state: &AppState) -> AppResult<bool> {
    let mut actor =
        serde_json::to_value(crate::federation::actors::host_actor_doc(state, &effective(state).await?).await?)
            .map_err(|e| AppError::Internal(format!("the actor does not serialise: {e}")))?;
    let fingerprint = {
        let object = actor.as_object_mut().expect("an actor is an object");
        object.remove("published");
        actor.to_string()
    };
    let st = state.clone();
    let now = state.clock.now();
    write_and_wake(state, move |c| {
        let previous = settings::get(c, PROFILE_FEDERATED)?;
        if previous.as_deref() == Some(fingerprint.as_str()) {
            return Ok(false);
        }
        settings::put(c, PROFILE_FEDERATED, &fingerprint)?;
        if previous.is_none() {
            return Ok(false); // first start: nobody has seen another version
        }
        let actor_doc: Value = serde_json::from_str(&fingerprint).expect("stored just above");
        let mut doc = public_activity(&st.urls, "Update", actor_doc, now);
        doc.id = new_activity_id(&st.urls);
        let inboxes = followers::delivery_inboxes(c)?;
        enqueue(c, &doc, st.urls.host_actor().as_str(), &inboxes, now)?;
        Ok(true)
    })
    .await
}
