//! Our two actors (the host account and the instance actor) and the remote actors we cache.

use super::{protocol::*, FedData, FederationError};
use crate::{
    bulletin::render,
    config::AccountConfig,
    db::models::{
        self, followers,
        remote::{self, RemoteActor},
    },
    state::AppState,
};
use activitypub_federation::traits::{Actor, Object};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use url::Url;

fn rfc3339(at: chrono::NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The host account: an `Organization` Mastodon users follow.
/// `account` is the profile as published (`app::profile::effective`).
pub async fn host_actor_doc(state: &AppState, account: &AccountConfig) -> Result<ActorDoc, FederationError> {
    let urls = &state.urls;
    // Read from the database each time: another process may have rotated the key.
    let key = state
        .db
        .read(|c| models::keys::find(c, crate::state::HOST_KEY))
        .await?
        .ok_or_else(|| crate::db::DbError::Corrupt("the host account's key is missing".into()))?;
    // The Ed25519 key as stored too (an import may have put back another since this process read it).
    let multibase = state
        .db
        .read(|c| models::keys::find_ed25519(c, crate::state::HOST_KEY))
        .await?
        .map_or_else(|| state.keys.ed25519.host().multibase().to_string(), |k| k.public_key_multibase);
    let created = key.created_at;
    let field = |name: &str, value: String| PropertyValue { kind: "PropertyValue", name: name.to_string(), value };
    let mut attachment = Vec::new();
    if let Some(website) = &account.website {
        attachment.push(field("Website", render::link_html(website)));
    }
    if let Some(contact) = &account.contact {
        attachment.push(field("Contact", render::link_html(contact)));
    }
    if let Some(structure) = &account.structure_type {
        attachment.push(field("Structure", render::escape(structure)));
    }
    let place: Vec<&str> = [account.region.as_deref(), account.country.as_deref()].into_iter().flatten().collect();
    if !place.is_empty() {
        attachment.push(field("Location", render::escape(&place.join(", "))));
    }
    attachment.push(field("Languages", render::escape(&account.languages.join(", "))));
    let host_profile = serde_json::json!({
        "structureType": account.structure_type,
        "country": account.country,
        "region": account.region,
        "languages": account.languages,
        "website": account.website,
        "contact": account.contact,
        "feed": urls.host_feed(),
        "chatonsInfos": urls.chatonsinfos_organization(),
    });
    Ok(ActorDoc {
        context: context(),
        id: urls.host_actor(),
        kind: "Organization",
        preferred_username: account.name.clone(),
        name: account.display_name.clone(),
        summary: render::markdown_to_html(&account.summary),
        url: urls.host_actor(),
        inbox: urls.host_inbox(),
        outbox: Some(urls.host_outbox()),
        followers: Some(urls.host_followers()),
        following: Some(urls.host_following()),
        featured: Some(urls.host_featured()),
        endpoints: Endpoints { shared_inbox: urls.shared_inbox() },
        public_key: PublicKeyDoc {
            id: urls.host_key_id(),
            owner: urls.host_actor(),
            public_key_pem: key.public_key_pem,
        },
        assertion_method: vec![MultikeyDoc::of(&urls.host_actor(), &multibase)],
        manually_approves_followers: account.manually_approves_followers,
        discoverable: account.discoverable,
        indexable: account.discoverable,
        published: rfc3339(created),
        attachment,
        icon: account.logo.as_deref().map(|logo| icon(state, logo, &account.display_name)),
        host_profile: Some(host_profile),
        services: Some(urls.host_services()),
        label: Some(urls.host_label()),
        members: None,
    })
}

/// An actor's `icon`: an `Image`, with its `mediaType` when the file is one of ours (uploaded).
fn icon(state: &AppState, url: &str, owner_name: &str) -> serde_json::Value {
    let mut icon = serde_json::json!({"type": "Image", "url": url, "name": format!("Logo {owner_name}")});
    if let Some(media_type) = state.urls.media_file_of(url).and_then(crate::app::media::type_of_name) {
        icon["mediaType"] = media_type.into();
    }
    icon
}

/// The instance actor: an `Application` that signs our fetches, served without a signature.
pub fn instance_actor_doc(state: &AppState) -> ActorDoc {
    let urls = &state.urls;
    ActorDoc {
        context: context(),
        id: urls.instance_actor(),
        kind: "Application",
        preferred_username: state.config.instance_actor_name(),
        name: format!("{} (instance)", state.config.instance.domain),
        summary: String::new(),
        url: urls.base(),
        inbox: urls.instance_inbox(),
        outbox: None,
        followers: None,
        following: None,
        // GoToSocial reads it on every fetch of an actor and logs an error when it is missing.
        featured: Some(urls.instance_featured()),
        endpoints: Endpoints { shared_inbox: urls.shared_inbox() },
        public_key: PublicKeyDoc {
            id: urls.instance_key_id(),
            owner: urls.instance_actor(),
            public_key_pem: state.keys.instance.public_key_pem.clone(),
        },
        assertion_method: vec![MultikeyDoc::of(&urls.instance_actor(), state.keys.ed25519.instance.multibase())],
        manually_approves_followers: true,
        discoverable: false,
        indexable: false,
        published: "2026-01-01T00:00:00Z".into(),
        attachment: vec![],
        icon: None,
        host_profile: None,
        services: None,
        label: None,
        members: None,
    }
}

/// The `@context` of the Group's documents: ours, and the `members` term of its roster.
pub fn group_context() -> serde_json::Value {
    let mut context = context();
    if let Some(terms) = context.as_array_mut().and_then(|a| a.last_mut()).and_then(|t| t.as_object_mut()) {
        terms.insert("members".into(), serde_json::json!({"@id": "rr:members", "@type": "@id"}));
    }
    context
}

/// The collective's account: an AS2 `Group` (FEP-1b12) that announces its members' bulletins.
/// None when the role is off.
pub async fn group_actor_doc(state: &AppState) -> Result<Option<ActorDoc>, FederationError> {
    let (Some(collective), Some(keys)) = (state.config.collective.as_ref(), state.keys.group.as_ref()) else {
        return Ok(None);
    };
    let urls = &state.urls;
    let created = state
        .db
        .read(|c| models::keys::find(c, crate::state::GROUP_KEY))
        .await?
        .map(|k| k.created_at)
        .unwrap_or_default();
    let logo = crate::app::media::logo(state, crate::app::media::Owner::Group).await?;
    Ok(Some(ActorDoc {
        context: group_context(),
        id: urls.group_actor(),
        kind: "Group",
        preferred_username: collective.account.clone(),
        name: collective.display_name.clone(),
        summary: render::markdown_to_html(&collective.summary),
        url: urls.group_actor(),
        inbox: urls.group_inbox(),
        outbox: Some(urls.group_outbox()),
        followers: Some(urls.group_followers()),
        following: Some(urls.group_following()),
        featured: None,
        endpoints: Endpoints { shared_inbox: urls.shared_inbox() },
        public_key: PublicKeyDoc {
            id: urls.group_key_id(),
            owner: urls.group_actor(),
            public_key_pem: keys.public_key_pem.clone(),
        },
        assertion_method: state
            .keys
            .ed25519
            .group
            .iter()
            .map(|k| MultikeyDoc::of(&urls.group_actor(), k.multibase()))
            .collect(),
        manually_approves_followers: false,
        discoverable: true,
        indexable: true,
        published: rfc3339(created),
        attachment: vec![],
        icon: logo.map(|l| icon(state, urls.media(&l.file).as_str(), &collective.display_name)),
        host_profile: None,
        services: None,
        label: None,
        members: Some(urls.group_members()),
    }))
}

pub async fn follower_count(state: &AppState) -> Result<i64, FederationError> {
    Ok(state.db.read(followers::count_accepted).await?)
}

/// Our instance actor as activitypub_federation needs it to sign fetches.
#[derive(Debug, Clone)]
pub struct LocalSigner {
    id: Url,
    inbox: Url,
    public_key_pem: String,
    private_key_pem: String,
}

impl LocalSigner {
    pub fn instance_actor(state: &AppState) -> Self {
        LocalSigner {
            id: state.urls.instance_actor(),
            inbox: state.urls.instance_inbox(),
            public_key_pem: state.keys.instance.public_key_pem.clone(),
            private_key_pem: state.keys.instance.private_key_pem.clone(),
        }
    }
}

#[async_trait]
impl Object for LocalSigner {
    type DataType = AppState;
    type Kind = serde_json::Value;
    type Error = FederationError;

    fn id(&self) -> &Url {
        &self.id
    }
    async fn read_from_id(_id: Url, _data: &FedData) -> Result<Option<Self>, FederationError> {
        Ok(None)
    }
    async fn into_json(self, data: &FedData) -> Result<serde_json::Value, FederationError> {
        Ok(serde_json::to_value(instance_actor_doc(data.app_data()))?)
    }
    async fn verify(_json: &serde_json::Value, _expected: &Url, _data: &FedData) -> Result<(), FederationError> {
        Err(FederationError::BadRequest("our own instance actor is never received".into()))
    }
    async fn from_json(_json: serde_json::Value, _data: &FedData) -> Result<Self, FederationError> {
        Err(FederationError::BadRequest("our own instance actor is never received".into()))
    }
}

impl Actor for LocalSigner {
    fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }
    fn private_key_pem(&self) -> Option<String> {
        Some(self.private_key_pem.clone())
    }
    fn inbox(&self) -> Url {
        self.inbox.clone()
    }
}

/// A cached remote actor, as activitypub_federation's `Object` (which needs the id as a `Url`).
#[derive(Debug, Clone)]
pub struct CachedActor {
    pub id: Url,
    pub row: RemoteActor,
}

impl CachedActor {
    fn from_row(row: RemoteActor) -> Result<Self, FederationError> {
        let id = Url::parse(&row.id).map_err(|e| FederationError::Internal(format!("stored actor id: {e}")))?;
        Ok(CachedActor { id, row })
    }
}

#[async_trait]
impl Object for CachedActor {
    type DataType = AppState;
    type Kind = serde_json::Value;
    type Error = FederationError;

    fn id(&self) -> &Url {
        &self.id
    }
    fn last_refreshed_at(&self) -> Option<DateTime<Utc>> {
        Some(self.row.fetched_at.and_utc())
    }
    async fn read_from_id(id: Url, data: &FedData) -> Result<Option<Self>, FederationError> {
        let key = id.to_string();
        let row = data.db.read(move |c| remote::find_actor(c, &key)).await?;
        row.map(CachedActor::from_row).transpose()
    }
    async fn into_json(self, _data: &FedData) -> Result<serde_json::Value, FederationError> {
        Ok(serde_json::from_str(&self.row.raw)?)
    }
    async fn verify(json: &serde_json::Value, expected_domain: &Url, _data: &FedData) -> Result<(), FederationError> {
        let actor: IncomingActor = serde_json::from_value(json.clone())
            .map_err(|e| FederationError::BadRequest(format!("not an actor: {e}")))?;
        let server = crate::urls::Authority::of_url;
        if server(&actor.id).is_none() || server(&actor.id) != server(expected_domain) {
            return Err(FederationError::BadRequest("the actor's id is on another host than its URL".into()));
        }
        if server(&actor.inbox).map(|a| a.host) != server(&actor.id).map(|a| a.host) {
            return Err(FederationError::BadRequest("the actor's inbox is on another host".into()));
        }
        Ok(())
    }
    async fn from_json(json: serde_json::Value, data: &FedData) -> Result<Self, FederationError> {
        let actor: IncomingActor = serde_json::from_value(json.clone())
            .map_err(|e| FederationError::BadRequest(format!("not an actor: {e}")))?;
        let row = RemoteActor {
            id: actor.id.to_string(),
            actor_type: actor.kind,
            preferred_username: actor.preferred_username.unwrap_or_default(),
            name: actor.name,
            inbox: actor.inbox.to_string(),
            // Deliveries go to the shared inbox: it must be on the actor's own server.
            shared_inbox: actor
                .endpoints
                .and_then(|e| e.shared_inbox)
                .filter(|u| crate::urls::domain_of(u.as_str()) == crate::urls::domain_of(actor.id.as_str()))
                .map(|u| u.to_string()),
            outbox: actor.outbox.map(|u| u.to_string()),
            public_key_id: actor.public_key.id,
            public_key_pem: actor.public_key.public_key_pem,
            raw: json.to_string(),
            fetched_at: data.clock.now(),
        };
        let stored = row.clone();
        data.db.write(move |c| remote::upsert_actor(c, &stored)).await?;
        Ok(CachedActor { id: actor.id, row })
    }
}

impl Actor for CachedActor {
    fn public_key_pem(&self) -> &str {
        &self.row.public_key_pem
    }
    fn private_key_pem(&self) -> Option<String> {
        None
    }
    fn inbox(&self) -> Url {
        Url::parse(&self.row.inbox).unwrap_or_else(|_| self.id.clone())
    }
    fn shared_inbox(&self) -> Option<Url> {
        self.row.shared_inbox.as_deref().and_then(|u| Url::parse(u).ok())
    }
}

/// How long a cached remote actor is used before it is fetched again (as Mastodon does).
pub fn actor_max_age() -> chrono::Duration {
    chrono::Duration::days(1)
}

/// Fetches (or reads from cache, refreshing after [`actor_max_age`] by our clock) the actor at
/// `url`. A stale copy is kept when the refetch fails; `force` fetches whatever the cache holds.
pub async fn fetch_actor(data: &FedData, url: &Url, force: bool) -> Result<RemoteActor, FederationError> {
    let key = url.to_string();
    let cached = data.db.read(move |c| remote::find_actor(c, &key)).await?;
    if let Some(row) = &cached {
        if !force && data.clock.now() - row.fetched_at < actor_max_age() {
            return Ok(row.clone());
        }
    }
    let fetched = match super::fetch::object(data, url).await {
        Ok(fetched) => fetched,
        Err(e) => {
            return match cached {
                Some(row) if !force => {
                    tracing::info!(actor = %url, error = %e, "cannot refresh a cached actor; its last copy is used");
                    Ok(row)
                }
                _ => Err(e),
            }
        }
    };
    CachedActor::verify(&fetched.object, &fetched.url, data).await?;
    Ok(CachedActor::from_json(fetched.object, data).await?.row)
}

/// Resolves `@name@domain`, `name@domain` or an actor URL to a (cached) remote actor.
pub async fn resolve(data: &FedData, handle_or_url: &str) -> Result<RemoteActor, FederationError> {
    let input = handle_or_url.trim();
    if input.starts_with("https://") || input.starts_with("http://") {
        let url = Url::parse(input).map_err(|e| FederationError::BadRequest(format!("`{input}` is not a URL: {e}")))?;
        return fetch_actor(data, &url, false).await;
    }
    let handle = input.trim_start_matches('@');
    if handle.split('@').count() != 2 || handle.split('@').any(str::is_empty) {
        return Err(FederationError::BadRequest(format!("`{input}` is neither @name@domain nor an actor URL")));
    }
    let finger = super::fetch::webfinger(data, handle).await?;
    let actor = fetch_actor(data, &finger.actor, false).await?;
    check_handle(data, input, handle, actor).await
}

/// The WebFinger answer checked back, as Mastodon does (`FetchRemoteActorService`): the actor
/// answers to the typed handle when its own handle (`preferredUsername` at its host) is that
/// handle, or when its host's WebFinger, asked for its own handle, names the same actor with the
/// typed handle as `subject` (an account whose handle is on another domain than its server).
/// Otherwise a WebFinger server could make any actor answer to any handle.
async fn check_handle(
    data: &FedData,
    input: &str,
    typed: &str,
    actor: RemoteActor,
) -> Result<RemoteActor, FederationError> {
    let own = format!("{}@{}", actor.preferred_username, crate::urls::domain_of(&actor.id));
    if own.eq_ignore_ascii_case(typed) {
        return Ok(actor);
    }
    let confirmed = match super::fetch::webfinger(data, &own).await {
        Ok(finger) => {
            finger.actor.as_str() == actor.id
                && finger.subject.as_deref().is_some_and(|subject| subject.eq_ignore_ascii_case(typed))
        }
        Err(e) => {
            tracing::info!(handle = %own, error = %e, "the actor's own WebFinger does not answer");
            false
        }
    };
    match confirmed {
        true => Ok(actor),
        false => Err(FederationError::BadRequest(format!(
            "`{input}` names the actor {}, which does not answer to that handle (its server knows it as @{own})",
            actor.id
        ))),
    }
}
