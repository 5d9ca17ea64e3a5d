//! What we receive: verify the signature, then dispatch on the activity's type.
//!
//! Verification needs the signer's key (a cached or fetched actor); everything after it is a few
//! rows written in one transaction together with the activity id, so a redelivered activity is
//! applied once and a failure leaves nothing half-written.

use super::{
    actors::fetch_actor,
    protocol::*,
    signatures::{self, SignatureError},
    FedData, FederationError,
};
use crate::{
    bulletin::render,
    db::{
        models::{
            followers::{self, NewFollower},
            remote::{self, FollowState, RemoteActor, RemotePost},
        },
        DbConnection, DbResult,
    },
    state::AppState,
    urls::Urls,
};
use chrono::NaiveDateTime;
use serde_json::Value;
use std::collections::BTreeMap;
use url::Url;

/// The most time spent fetching (a key, an announced post) while a peer waits for our answer.
const FETCH_BUDGET: std::time::Duration = std::time::Duration::from_secs(8);

/// The parts of an HTTP request that signatures cover.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: BTreeMap<String, String>,
    pub body: &'a [u8],
}

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Applied(&'static str),
    Duplicate,
    Ignored(String),
}

/// Verifies and applies one incoming activity.
pub async fn receive(data: &FedData, request: SignedRequest<'_>) -> Result<Outcome, FederationError> {
    let activity = parse_activity(request.body).map_err(FederationError::BadRequest)?;
    let pending = signatures::begin_verify_any(
        &data.app_data().urls.base(),
        request.method,
        request.path,
        request.query,
        &request.headers,
        Some(request.body),
        data.clock.system_time(),
    )?;
    // Refuse blocked servers before fetching anything from them. The same read finds the cached
    // actor holding the signing key.
    let claimed = vec![pending.key_id.clone(), activity.actor.0.clone(), activity.id.to_string()];
    let (block, cached) = known_parties(data, &pending, claimed).await?;
    if let Some(block) = block {
        return Err(FederationError::Forbidden(format!(
            "this server does not accept activities from {}",
            block.domain
        )));
    }
    // Mastodon gives up on an inbox after 10 s: fetching a key must not take longer than that.
    // A timeout is not remembered as a failed key: a cached key must not be refused because a
    // refetch (which a forger can cause) was slow; the key-fetch budget bounds the retries.
    let verification = tokio::time::timeout(FETCH_BUDGET, verified_signer(data, &pending, cached))
        .await
        .unwrap_or_else(|_| Err(FederationError::Fetch { url: pending.key_id.clone(), reason: "timed out".into() }));
    let signer = match verification {
        Ok(signer) => signer,
        // A deleted account announces its own deletion, signed with a key that can no longer be
        // fetched: if we never knew it there is nothing to undo, and a 401 would make its server
        // retry for days.
        Err(FederationError::Unauthorized(reason))
            if activity.kind == "Delete" && id_of(&activity.object).as_deref() == Some(activity.actor.0.as_str()) =>
        {
            return Ok(Outcome::Ignored(format!("Delete of an account we cannot verify: {reason}")));
        }
        Err(e) => return Err(e),
    };
    // Forwarded (the collective's Group forwards a member's Update): accepted on the actor's own
    // object integrity proof, then handled as if the actor had sent it.
    let signer = if signer.id != activity.actor.0 {
        match forwarded_author(data, &signer, &activity, request.body).await? {
            Some(author) => author,
            None => return Ok(Outcome::Ignored("one of our own activities, forwarded back".into())),
        }
    } else {
        signer
    };
    if crate::urls::domain_of(activity.id.as_str()) != crate::urls::domain_of(&signer.id) {
        return Err(FederationError::Unauthorized("the activity's id is on another host than its actor".into()));
    }
    // An Announce names a post to fetch from its origin; that is done before the transaction.
    let announced = match activity.kind.as_str() {
        "Announce" => Some(
            tokio::time::timeout(FETCH_BUDGET, fetch_announced(data, &signer, &activity))
                .await
                .unwrap_or_else(|_| Ok(Err("fetching the announced post timed out".into())))?,
        ),
        _ => None,
    };
    let state: AppState = data.app_data().clone();
    let db = state.db.clone();
    // Read once: everything this activity changes is dated alike.
    let now = state.clock.now();
    // A new post's rows are built here, on this request's thread, not in the shared write
    // (sanitising its HTML and building its timeline entry is most of a Create's work).
    let announced = announced.map(|fetched| fetched.map(|(author, note, raw)| NewPost::new(&author, note, &raw, now)));
    let created = (activity.kind == "Create" && announced.is_none())
        .then(|| embedded_post(&signer, &activity).map(|note| NewPost::new(&signer.id, note, &activity.object, now)));
    // The activity as sent (what the collective forwards of a member's edit), for the other
    // kinds only: a Create or an Announce does not need it, and parsing it is a parse of the
    // whole body again.
    let raw: Value = match (&announced, &created) {
        (None, None) => serde_json::from_slice(request.body).unwrap_or_default(),
        _ => Value::Null,
    };
    // Many requests at once share one transaction (each answered after its commit); one
    // server's activities are written in the order they came.
    let outcome = db
        .write_grouped(&crate::urls::domain_of(&signer.id), move |c| {
            let signer_domain = crate::urls::domain_of(&signer.id);
            if crate::db::models::activities::resume_domain(
                c,
                |inbox| crate::urls::domain_of(inbox) == signer_domain,
                now,
            )? > 0
            {
                tracing::info!(domain = %signer_domain, "paused server is back: deliveries resumed");
            }
            if !remote::record_received(c, activity.id.as_str(), &signer.id, &activity.kind, now)? {
                return Ok(Outcome::Duplicate);
            }
            let outcome = match (announced, created) {
                (Some(Ok(post)), _) => {
                    let outcome = store_prepared_post(c, &post)?;
                    if outcome == Outcome::Applied("post stored") {
                        super::collective::after_post_stored(c, &state, &post.row.actor_id, &post.note, now)?;
                    }
                    outcome
                }
                (Some(Err(reason)), _) => Outcome::Ignored(reason),
                (None, Some(created)) => on_create(c, &state, &signer, created, now)?,
                (None, None) => dispatch(c, &state, &signer, &activity, &raw, now)?,
            };
            if let Outcome::Ignored(_) = outcome {
                // Unknown or irrelevant activities are not kept; rolling back would also drop the
                // id, so remove it explicitly instead.
                forget_received(c, activity.id.as_str())?;
            }
            Ok(outcome)
        })
        .await;
    // Two deliveries of the same activity racing on PostgreSQL: the loser hits the unique key.
    let outcome = match outcome {
        Err(crate::db::DbError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ))) => Ok(Outcome::Duplicate),
        other => other,
    }?;
    if matches!(outcome, Outcome::Applied(_)) {
        data.app_data().delivery_wakeup.notify_waiters();
    }
    Ok(outcome)
}

impl From<super::collective::Handled> for Outcome {
    fn from(handled: super::collective::Handled) -> Outcome {
        match handled {
            super::collective::Handled::Applied(what) => Outcome::Applied(what),
            super::collective::Handled::Ignored(why) => Outcome::Ignored(why),
        }
    }
}

fn forget_received(c: &mut DbConnection, id: &str) -> DbResult<()> {
    use crate::db::schema::received_activities;
    use diesel::prelude::*;
    diesel::delete(received_activities::table.find(id)).execute(c)?;
    Ok(())
}

/// Of the cached actors whose key is the signature's key id, the one holding it. Only an actor of
/// the key's own server may; when several of them name that key id (one key shared by a server's
/// actors), the exact owner the key id names (`owner`: the key id without its fragment), or nobody
/// (the owner is then fetched, never taken for another actor of its server).
fn key_holder(rows: Vec<RemoteActor>, key_url: Option<&Url>, owner: &Url) -> Option<RemoteActor> {
    let mut of_its_server: Vec<RemoteActor> = rows
        .into_iter()
        .filter(|row| {
            Url::parse(&row.id).ok().zip(key_url).is_some_and(|(id, key)| super::fetch::same_server(&id, key))
        })
        .collect();
    match of_its_server.len() {
        1 => of_its_server.pop(),
        _ => of_its_server.into_iter().find(|row| row.id == owner.as_str()),
    }
}

/// The cached copies of a request's signer, read before anything is fetched: the actor holding
/// the signature's key (by key id), else the actor the key id names.
#[derive(Default)]
struct CachedSigner {
    by_key: Option<RemoteActor>,
    by_owner: Option<RemoteActor>,
}

/// One read for what a request needs before its signature can be checked: the block covering one
/// of the URLs it claims (then nothing else is looked up), and the cached copies of its signer.
/// Only an actor of the key's own server may hold the key.
async fn known_parties(
    data: &FedData,
    pending: &signatures::PendingSignature,
    claimed: Vec<String>,
) -> Result<(Option<crate::db::models::blocks::DomainBlock>, CachedSigner), FederationError> {
    let key_id = pending.key_id.clone();
    let owner = pending.key_owner_hint();
    Ok(data
        .app_data()
        .db
        .read(move |c| {
            if let Some(block) = crate::db::models::blocks::covering(c, &claimed)? {
                return Ok((Some(block), CachedSigner::default()));
            }
            let Some(owner) = owner else { return Ok((None, CachedSigner::default())) };
            // The cache is looked up by key id first: a keyId without a fragment (GoToSocial's
            // `…/users/alice/main-key`) names no actor, and must not cost a fetch on every request.
            let key_url = Url::parse(&key_id).ok();
            let by_key = key_holder(remote::find_actors_by_key(c, &key_id)?, key_url.as_ref(), &owner);
            let by_owner = match by_key {
                Some(_) => None,
                None => remote::find_actor(c, owner.as_str())?,
            };
            Ok((None, CachedSigner { by_key, by_owner }))
        })
        .await?)
}

/// Finds the key named by the signature, checks who owns it, and checks the signature with it —
/// refetching the actor once if the check fails, in case its key was rotated. `cached` is what
/// [`known_parties`] read.
async fn verified_signer(
    data: &FedData,
    pending: &signatures::PendingSignature,
    cached: CachedSigner,
) -> Result<RemoteActor, FederationError> {
    let owner = pending
        .key_owner_hint()
        .ok_or_else(|| SignatureError::Malformed(format!("keyId `{}` is not a URL", pending.key_id)))?;
    // Our own host however spelled (`OUR.host.`): never fetched as someone else's key.
    let ours = crate::urls::Authority::of_url(&data.app_data().urls.base());
    if data.app_data().urls.is_local(&owner) || crate::urls::Authority::of_url(&owner) == ours {
        return Err(FederationError::Unauthorized("the request claims to be signed by this server".into()));
    }
    let limits = &data.app_data().limits;
    let CachedSigner { by_key, by_owner } = cached;
    // Only a fetch counts against the server's key budget: a cached actor is read, not fetched.
    let cached = by_key.is_some() || by_owner.is_some();
    let owner = match &by_key {
        Some(row) => Url::parse(&row.id).map_err(|e| FederationError::Internal(format!("stored actor id: {e}")))?,
        None => owner,
    };
    // A key that could not be fetched a moment ago is refused without fetching it again. Only
    // for actors we do not have: a forged request naming a known key cannot get it refused.
    if let Some(failed_at) = limits.failed_key(&pending.key_id).filter(|_| !cached) {
        let ago = (data.app_data().clock.now() - failed_at).num_seconds();
        return Err(FederationError::Unauthorized(format!(
            "the signing key {} could not be fetched {ago} s ago; it is not fetched again before {} s have passed",
            pending.key_id,
            limits.failed_key_ttl_secs()
        )));
    }
    let unauthorized = |e: FederationError| match e {
        FederationError::Db(e) => FederationError::Db(e),
        FederationError::Throttled { message, retry_after_secs } => {
            FederationError::Throttled { message, retry_after_secs }
        }
        other => {
            if !cached {
                limits.remember_failed_key(&pending.key_id);
            }
            FederationError::Unauthorized(format!("cannot get the signing key {}: {other}", pending.key_id))
        }
    };
    if !cached {
        key_fetch_budget(data, &owner)?;
    }
    // A keyId without a fragment is a document of its own: its owner is read from it.
    let owner = match Url::parse(&pending.key_id) {
        Ok(key_url) if !cached && key_url.fragment().is_none() => {
            key_owner(data, &key_url).await.map_err(unauthorized)?
        }
        _ => owner,
    };
    // A cached copy young enough is used as read; an older one is refreshed (or kept when the
    // refetch fails) by `fetch_actor`.
    let fresh = by_key.or(by_owner).filter(|row| data.clock.now() - row.fetched_at < super::actors::actor_max_age());
    let actor = match fresh {
        Some(row) => row,
        None => fetch_actor(data, &owner, false).await.map_err(unauthorized)?,
    };
    let check = |actor: &RemoteActor| -> Result<(), FederationError> {
        // Its `publicKey`, or (RFC 9421) one of its Ed25519 `assertionMethod` keys.
        match pending.verify_with_actor(&actor.public_key_id, &actor.public_key_pem, &actor.raw) {
            Some(result) => result.map_err(FederationError::from),
            None => Err(FederationError::Unauthorized(format!(
                "the key {} does not belong to {} (its key is {})",
                pending.key_id, actor.id, actor.public_key_id
            ))),
        }
    };
    match check(&actor) {
        Ok(()) => Ok(actor),
        Err(first_error) => {
            key_fetch_budget(data, &owner)?;
            let refreshed = fetch_actor(data, &owner, true).await.map_err(unauthorized)?;
            if refreshed.public_key_pem == actor.public_key_pem
                && refreshed.public_key_id == actor.public_key_id
                && refreshed.raw == actor.raw
            {
                return Err(first_error);
            }
            check(&refreshed)?;
            Ok(refreshed)
        }
    }
}

/// The actor of an activity its HTTP signer did not write, when the activity carries a valid
/// FEP-8b32 proof (`eddsa-jcs-2022`) by an Ed25519 `assertionMethod` Multikey of that actor, read
/// from the actor's document fetched from its own URL (refetched once, within the key-fetch
/// budget, when the proof does not verify). `None` for an activity of one of our own actors.
async fn forwarded_author(
    data: &FedData,
    forwarder: &RemoteActor,
    activity: &IncomingActivity,
    body: &[u8],
) -> Result<Option<RemoteActor>, FederationError> {
    use super::proofs::{self, ProofError};
    let actor = &activity.actor.0;
    let refuse = |reason: String| {
        FederationError::Unauthorized(format!(
            "the activity's actor {actor} is not the signer {}, and {reason}",
            forwarder.id
        ))
    };
    let describe = |e: ProofError| match e {
        ProofError::NoProof => "the activity has no object integrity proof (FEP-8b32) by its actor".to_string(),
        ProofError::Mismatch => {
            "its proof does not match the activity (altered, or not signed by the key it names)".into()
        }
        other => format!("its proof is refused: {other}"),
    };
    let raw: Value = serde_json::from_slice(body).map_err(|e| FederationError::BadRequest(e.to_string()))?;
    let actor_url = Url::parse(actor).map_err(|e| refuse(format!("its actor is not a URL: {e}")))?;
    if data.app_data().urls.is_local(&actor_url) {
        return Ok(None);
    }
    // Only what a forwarder carries (a Group forwards its members' edits): anything else must come
    // signed by its own actor, so an old Follow, Create or profile Update cannot be replayed.
    if !matches!(activity.kind.as_str(), "Update" | "Delete") {
        return Err(refuse(format!(
            "only an Update or a Delete is accepted from another signer, not a {}",
            activity.kind
        )));
    }
    let method = proofs::verification_method(&raw).map_err(|e| refuse(describe(e)))?;
    proofs::precheck(&raw).map_err(|e| refuse(describe(e)))?;
    if crate::urls::domain_of(&method) != crate::urls::domain_of(actor) {
        return Err(refuse(format!("the proof's verificationMethod {method} is not on its actor's server")));
    }
    if let Some(created) = proofs::created(&raw) {
        let now = data.app_data().clock.now().and_utc();
        let skew = chrono::Duration::from_std(super::httpsig::CLOCK_SKEW).unwrap_or_default();
        if created > now + skew {
            return Err(refuse(format!("its proof was created in the future ({created})")));
        }
    }
    let actor_url = &actor_url;
    let not_its_key = || {
        refuse(format!("the proof's verificationMethod {method} is not an Ed25519 assertionMethod Multikey of {actor}"))
    };
    let check = |author: &RemoteActor| -> Result<(), FederationError> {
        let key = super::rfc9421::ed25519_key_of(&author.raw, &method).ok_or_else(not_its_key)?;
        proofs::verify(&raw, &key).map_err(|e| refuse(describe(e)))
    };
    let fetch = |force| async move {
        tokio::time::timeout(FETCH_BUDGET, fetch_actor(data, actor_url, force))
            .await
            .unwrap_or_else(|_| Err(FederationError::Fetch { url: actor_url.to_string(), reason: "timed out".into() }))
    };
    // A first fetch of an actor we do not hold counts against its server's key-fetch budget, as a
    // signer's key does: a forger cannot make us fetch at will.
    let id = actor.clone();
    if data.app_data().db.read(move |c| remote::find_actor(c, &id)).await?.is_none() {
        key_fetch_budget(data, actor_url)?;
    }
    let author = fetch(false).await.map_err(|e| refuse(format!("its actor cannot be fetched: {e}")))?;
    match check(&author) {
        Ok(()) => Ok(Some(author)),
        Err(first_error) => {
            key_fetch_budget(data, actor_url)?;
            let refreshed = fetch(true).await.map_err(|e| refuse(format!("its actor cannot be fetched: {e}")))?;
            if refreshed.raw == author.raw {
                return Err(first_error);
            }
            check(&refreshed)?;
            Ok(Some(refreshed))
        }
    }
}

/// The owner of the key at `key_url`, read from the document served there: a `publicKey` document
/// (`{"id": key, "owner": actor}`), or an actor whose `publicKey` is this key (GoToSocial serves
/// its actor's minimal profile at `…/main-key`). The owner must be on the key's server.
async fn key_owner(data: &FedData, key_url: &Url) -> Result<Url, FederationError> {
    let doc = super::fetch::document(data, key_url).await?.object;
    let is_key = |v: &Value| v.get("id").and_then(Value::as_str) == Some(key_url.as_str());
    let owner_of = |v: &Value| v.get("owner").and_then(Value::as_str).map(str::to_string);
    let owner = if is_key(&doc) && doc.get("publicKeyPem").is_some() {
        owner_of(&doc)
    } else {
        let keys = match doc.get("publicKey") {
            Some(Value::Array(keys)) => keys.clone(),
            Some(key) => vec![key.clone()],
            None => vec![],
        };
        keys.iter().find(|k| is_key(k)).and_then(|k| owner_of(k).or_else(|| id_of(&doc)))
    };
    let owner = owner.ok_or_else(|| {
        FederationError::Unauthorized(format!("the document at {key_url} is not the key {key_url} and names no owner"))
    })?;
    let owner =
        Url::parse(&owner).map_err(|e| FederationError::Unauthorized(format!("the key's owner `{owner}`: {e}")))?;
    if !super::fetch::same_server(&owner, key_url) {
        return Err(FederationError::Unauthorized(format!(
            "the key {key_url} names an owner on another server: {owner}"
        )));
    }
    Ok(owner)
}

/// Counts one key fetch against the budget of `owner`'s server.
fn key_fetch_budget(data: &FedData, owner: &Url) -> Result<(), FederationError> {
    let server = crate::urls::domain_of(owner.as_str());
    data.app_data().limits.check_key_fetch(&server).map_err(|throttled| {
        tracing::info!(server = %server, retry_after = throttled.retry_after_secs, "key fetch budget reached");
        FederationError::Throttled {
            message: format!(
                "too many signing keys to fetch from {server}: this server fetches at most {} a minute \
                 from one server ({} at once); try again in {} s",
                throttled.per_minute, throttled.burst, throttled.retry_after_secs
            ),
            retry_after_secs: throttled.retry_after_secs,
        }
    })
}

fn dispatch(
    c: &mut DbConnection,
    state: &AppState,
    signer: &RemoteActor,
    activity: &IncomingActivity,
    raw: &Value,
    now: NaiveDateTime,
) -> DbResult<Outcome> {
    use super::collective;
    let urls = &state.urls;
    match activity.kind.as_str() {
        // The collective's Group and relay subscriptions first; what is left is the host's.
        "Follow" => match collective::on_follow(c, state, signer, activity, now)? {
            Some(outcome) => Ok(outcome.into()),
            None => on_follow(c, state, signer, activity, now),
        },
        "Undo" => match collective::on_undo(c, state, signer, activity, now)? {
            Some(outcome) => Ok(outcome.into()),
            None => on_undo(c, urls, signer, activity),
        },
        "Accept" | "Reject" => match collective::on_join_answer(c, signer, activity, now)? {
            Some(outcome) => Ok(outcome.into()),
            None => on_follow_answer(c, signer, activity, now),
        },
        "Join" => collective::on_join(c, state, signer, activity, now).map(Outcome::from),
        "Create" => {
            let created =
                embedded_post(signer, activity).map(|note| NewPost::new(&signer.id, note, &activity.object, now));
            on_create(c, state, signer, created, now)
        }
        "Update" => on_update(c, state, signer, activity, raw, now),
        "Delete" => on_delete(c, state, signer, activity, now),
        other => Ok(Outcome::Ignored(format!("activity type {other} is not handled"))),
    }
}

fn on_follow(
    c: &mut DbConnection,
    state: &AppState,
    signer: &RemoteActor,
    activity: &IncomingActivity,
    now: NaiveDateTime,
) -> DbResult<Outcome> {
    let urls = &state.urls;
    if id_of(&activity.object).as_deref() != Some(urls.host_actor().as_str()) {
        return Ok(Outcome::Ignored("Follow of an actor other than the host account".into()));
    }
    let status =
        if state.config.account.manually_approves_followers { followers::PENDING } else { followers::ACCEPTED };
    let at = now;
    let follower = followers::upsert(
        c,
        NewFollower {
            actor_id: &signer.id,
            inbox: &signer.inbox,
            shared_inbox: signer.shared_inbox.as_deref(),
            status,
            follow_activity_id: activity.id.as_str(),
            created_at: at,
            updated_at: at,
        },
    )?;
    if follower.status == followers::ACCEPTED {
        super::activities::answer_follow(c, urls, &follower, true, now)?;
        Ok(Outcome::Applied("follow accepted"))
    } else {
        Ok(Outcome::Applied("follow pending approval"))
    }
}

fn on_undo(c: &mut DbConnection, urls: &Urls, signer: &RemoteActor, activity: &IncomingActivity) -> DbResult<Outcome> {
    let object_id = id_of(&activity.object).unwrap_or_default();
    let embedded_type = activity.object.get("type").and_then(Value::as_str);
    let Some(follower) = followers::find_by_actor(c, &signer.id)? else {
        return Ok(Outcome::Ignored("Undo from an actor that does not follow us".into()));
    };
    // An Undo carries the Follow embedded or only its id; either must be this actor's Follow.
    let is_their_follow = follower.follow_activity_id == object_id
        || (embedded_type == Some("Follow")
            && activity.object.get("object").and_then(id_of).as_deref() == Some(urls.host_actor().as_str()));
    if !is_their_follow {
        return Ok(Outcome::Ignored("Undo of something other than a Follow of us".into()));
    }
    followers::delete(c, follower.id)?;
    Ok(Outcome::Applied("unfollowed"))
}

fn on_follow_answer(
    c: &mut DbConnection,
    signer: &RemoteActor,
    activity: &IncomingActivity,
    now: NaiveDateTime,
) -> DbResult<Outcome> {
    let Some(row) = remote::find_following(c, &signer.id)? else {
        return Ok(Outcome::Ignored(format!("{} for a follow we did not send", activity.kind)));
    };
    let object_id = id_of(&activity.object).unwrap_or_default();
    // Some servers answer with the Follow's id, others embed it, a few send their own id.
    let matches = object_id == row.follow_activity_id
        || object_id.is_empty()
        || activity.object.get("type").and_then(Value::as_str) == Some("Follow");
    if !matches {
        return Ok(Outcome::Ignored(format!("{} of an unknown object", activity.kind)));
    }
    let status = if activity.kind == "Accept" { FollowState::Accepted } else { FollowState::Rejected };
    remote::set_following_status(c, &signer.id, status, now)?;
    Ok(Outcome::Applied(if status == FollowState::Accepted {
        "follow accepted by peer"
    } else {
        "follow rejected by peer"
    }))
}

/// Parses a post and checks it belongs to `author_id`, on the author's own host.
pub(crate) fn verify_post(author_id: &str, object: &Value) -> Result<IncomingNote, String> {
    if !object.is_object() {
        return Err("the object must be embedded".into());
    }
    let note: IncomingNote = serde_json::from_value(object.clone()).map_err(|e| format!("malformed object: {e}"))?;
    if note.author().as_deref() != Some(author_id) {
        return Err("the object is not attributed to the signer".into());
    }
    if crate::urls::domain_of(note.id.as_str()) != crate::urls::domain_of(author_id) {
        return Err("the object's id is on another host than its author".into());
    }
    // Followers-only posts and direct messages are never kept: everything stored can be shown.
    if !note.to.iter().chain(&note.cc).any(|a| is_public(a)) {
        return Err("the post is not public (followers-only or direct)".into());
    }
    Ok(note)
}

fn embedded_post(signer: &RemoteActor, activity: &IncomingActivity) -> Result<IncomingNote, String> {
    verify_post(&signer.id, &activity.object)
}

/// Stores a verified post, received at `now`, unless it is of a kind we do not keep, deleted
/// before, or stored.
pub(crate) fn store_new_post(
    c: &mut DbConnection,
    author_id: &str,
    note: IncomingNote,
    raw: &Value,
    now: NaiveDateTime,
) -> DbResult<Outcome> {
    store_prepared_post(c, &NewPost::new(author_id, note, raw, now))
}

/// A verified post, with its row and its index row built (before the write that stores them).
pub(crate) struct NewPost {
    note: IncomingNote,
    row: RemotePost,
    index: crate::db::models::timeline_index::NewIndexRow,
}

impl NewPost {
    /// The post of `author_id`, received at `now`.
    pub(crate) fn new(author_id: &str, note: IncomingNote, raw: &Value, now: NaiveDateTime) -> NewPost {
        let row = post_row(author_id, &note, raw, now);
        let index = crate::db::models::timeline_index::new_index_row(&row);
        NewPost { note, row, index }
    }
}

fn store_prepared_post(c: &mut DbConnection, post: &NewPost) -> DbResult<Outcome> {
    let note = &post.note;
    if !POST_TYPES.contains(&note.kind.as_str()) {
        return Ok(Outcome::Ignored(format!("objects of type {} are not kept", note.kind)));
    }
    if remote::is_tombstoned(c, note.id.as_str())? {
        return Ok(Outcome::Ignored("the object was deleted before".into()));
    }
    if remote::post_exists(c, note.id.as_str())? {
        return Ok(Outcome::Ignored("the object is already stored".into()));
    }
    let row = &post.row;
    remote::insert_post(c, row)?;
    // Index rows live and go with their post: a post not stored has none.
    crate::db::models::timeline_index::index_new_post(c, &post.index)?;
    if row.kind.as_deref() == Some("serviceChange") || row.kind.as_deref() == Some("labelUpdate") {
        // The peer's catalogue or label changed: its directory entry is refreshed on the next tick.
        crate::db::models::directory::mark_stale(c, &row.actor_id)?;
    }
    Ok(Outcome::Applied("post stored"))
}

fn post_row(author_id: &str, note: &IncomingNote, raw: &Value, now: NaiveDateTime) -> RemotePost {
    let at = now;
    // Bulletins from Ronron peers carry their machine-readable part in extension properties.
    let meta = raw
        .get("bulletinKind")
        .and_then(|_| serde_json::from_value::<crate::bulletin::vocab::BulletinMeta>(raw.clone()).ok());
    RemotePost {
        id: note.id.to_string(),
        actor_id: author_id.to_string(),
        object_type: note.kind.clone(),
        content_html: render::sanitize_html(&note.html()),
        summary: note.summary.as_deref().map(render::sanitize_html).filter(|s| !s.is_empty()),
        // Every text from a peer is cleaned of what no feed can carry (the HTML by its sanitiser).
        url: note.html_url().map(|u| render::strip_forbidden(&u)),
        lang: note.language().map(|l| render::strip_forbidden(&l)),
        in_reply_to: note.in_reply_to.as_ref().and_then(id_of),
        // A date in the future (a wrong clock, or a trick to stay on top) counts as now.
        published_at: note.published.map(|d| d.naive_utc()).unwrap_or(at).min(at),
        updated_at: note.updated.map(|d| d.naive_utc()),
        raw: raw.to_string(),
        received_at: at,
        kind: meta.as_ref().map(|m| {
            serde_json::to_value(m.bulletin_kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
        }),
        meta: meta.map(|m| serde_json::to_string(&m).expect("meta serialises")),
    }
}

const POST_TYPES: &[&str] = &["Note", "Article", "Page", "Question", "Event"];

/// A `Create` of `created` (its post, built before the write, or why it is not one we keep).
fn on_create(
    c: &mut DbConnection,
    state: &AppState,
    signer: &RemoteActor,
    created: Result<NewPost, String>,
    now: NaiveDateTime,
) -> DbResult<Outcome> {
    // Pending counts: a Create may overtake the Accept, which travels to another inbox.
    if remote::find_following(c, &signer.id)?.is_none_or(|f| f.status == FollowState::Rejected) {
        return Ok(Outcome::Ignored("Create from an actor we do not follow".into()));
    }
    let post = match created {
        Ok(post) => post,
        Err(reason) => return Ok(Outcome::Ignored(reason)),
    };
    let outcome = store_prepared_post(c, &post)?;
    if outcome == Outcome::Applied("post stored") {
        super::collective::after_post_stored(c, state, &signer.id, &post.note, now)?;
    }
    Ok(outcome)
}

const ACTOR_TYPES: &[&str] = &["Application", "Group", "Organization", "Person", "Service"];

fn on_update(
    c: &mut DbConnection,
    state: &AppState,
    signer: &RemoteActor,
    activity: &IncomingActivity,
    raw: &Value,
    now: NaiveDateTime,
) -> DbResult<Outcome> {
    let object_type = activity.object.get("type").and_then(Value::as_str).unwrap_or_default();
    if ACTOR_TYPES.contains(&object_type) {
        return on_actor_update(c, signer, activity, now);
    }
    if !POST_TYPES.contains(&object_type) {
        return Ok(Outcome::Ignored(format!("Update of a {object_type} is not handled")));
    }
    let note = match embedded_post(signer, activity) {
        Ok(note) => note,
        Err(reason) => return Ok(Outcome::Ignored(reason)),
    };
    let Some(existing) = remote::find_post(c, note.id.as_str())? else {
        return Ok(Outcome::Ignored("Update of a post we do not have".into()));
    };
    if existing.actor_id != signer.id {
        return Ok(Outcome::Ignored("Update of someone else's post".into()));
    }
    // Like Mastodon: an edit applies only when it says when it happened, and is newer.
    let Some(updated) = note.updated.map(|d| d.naive_utc()) else {
        return Ok(Outcome::Ignored("Update without `updated`".into()));
    };
    if existing.updated_at.is_some_and(|previous| updated <= previous) {
        return Ok(Outcome::Ignored("Update older than the stored version".into()));
    }
    let mut row = post_row(&signer.id, &note, &activity.object, now);
    row.received_at = existing.received_at;
    remote::update_post(c, &row)?;
    crate::db::models::timeline_index::index_post(c, &row)?;
    super::collective::after_post_updated(c, state, note.id.as_str(), raw, &signer.raw, now)?;
    Ok(Outcome::Applied("post updated"))
}

fn on_delete(
    c: &mut DbConnection,
    state: &AppState,
    signer: &RemoteActor,
    activity: &IncomingActivity,
    now: NaiveDateTime,
) -> DbResult<Outcome> {
    let Some(object_id) = id_of(&activity.object) else {
        return Ok(Outcome::Ignored("Delete without an object id".into()));
    };
    if object_id == signer.id {
        // The account itself is gone: forget it as a follower and as someone we follow.
        if let Some(f) = followers::find_by_actor(c, &signer.id)? {
            followers::delete(c, f.id)?;
        }
        remote::delete_following(c, &signer.id)?;
        crate::db::models::directory::delete(c, &signer.id)?;
        return Ok(Outcome::Applied("actor deleted"));
    }
    if crate::urls::domain_of(&object_id) != crate::urls::domain_of(&signer.id) {
        return Ok(Outcome::Ignored("Delete of an object on another host".into()));
    }
    match remote::find_post(c, &object_id)? {
        Some(post) if post.actor_id != signer.id => {
            return Ok(Outcome::Ignored("Delete of someone else's post".into()))
        }
        Some(_) => {}
        // Tombstones are kept only for actors we follow, so strangers cannot fill the table.
        None if remote::find_following(c, &signer.id)?.is_none() => {
            return Ok(Outcome::Ignored("Delete from an actor we do not follow".into()))
        }
        None => {}
    }
    remote::tombstone_post(c, &object_id, &signer.id, now)?;
    super::collective::after_post_deleted(c, state, &object_id, now)?;
    Ok(Outcome::Applied("post deleted"))
}

/// A profile update: applied at once (like Mastodon), only by the actor itself.
fn on_actor_update(
    c: &mut DbConnection,
    signer: &RemoteActor,
    activity: &IncomingActivity,
    now: NaiveDateTime,
) -> DbResult<Outcome> {
    let actor: IncomingActor = match serde_json::from_value(activity.object.clone()) {
        Ok(actor) => actor,
        Err(e) => return Ok(Outcome::Ignored(format!("Update of a malformed actor: {e}"))),
    };
    if actor.id.as_str() != signer.id {
        return Ok(Outcome::Ignored("Update of another actor".into()));
    }
    if actor.public_key.id != signer.public_key_id || actor.public_key.public_key_pem != signer.public_key_pem {
        // A new key is trusted only when fetched from the actor's own URL.
        return Ok(Outcome::Ignored("Update that changes the key; it is refetched when next needed".into()));
    }
    // The Ed25519 keys RFC 9421 checks are read from the stored document's `assertionMethod`:
    // like `publicKey`, they are trusted only when fetched from the actor's own URL.
    let stored_keys =
        serde_json::from_str::<serde_json::Value>(&signer.raw).ok().and_then(|raw| raw.get("assertionMethod").cloned());
    if activity.object.get("assertionMethod").cloned() != stored_keys {
        return Ok(Outcome::Ignored("Update that changes the keys; it is refetched when next needed".into()));
    }
    let row = RemoteActor {
        id: signer.id.clone(),
        actor_type: actor.kind,
        preferred_username: actor.preferred_username.unwrap_or_else(|| signer.preferred_username.clone()),
        name: actor.name,
        inbox: signer.inbox.clone(),
        shared_inbox: actor
            .endpoints
            .and_then(|e| e.shared_inbox)
            .filter(|u| crate::urls::domain_of(u.as_str()) == crate::urls::domain_of(&signer.id))
            .map(|u| u.to_string())
            .or(signer.shared_inbox.clone()),
        outbox: actor.outbox.map(|u| u.to_string()),
        public_key_id: signer.public_key_id.clone(),
        public_key_pem: signer.public_key_pem.clone(),
        raw: activity.object.to_string(),
        fetched_at: now,
    };
    remote::upsert_actor(c, &row)?;
    crate::db::models::directory::mark_stale(c, &signer.id)?;
    Ok(Outcome::Applied("profile updated"))
}

/// What an Announce shares, fetched from its origin and checked: (author id, post, raw JSON), or
/// why it is not kept. Only Announces from actors we follow are followed up.
async fn fetch_announced(
    data: &FedData,
    signer: &RemoteActor,
    activity: &IncomingActivity,
) -> Result<Result<(String, IncomingNote, Value), String>, FederationError> {
    let state = data.app_data();
    let signer_id = signer.id.clone();
    let following = state.db.read(move |c| remote::find_following(c, &signer_id)).await?;
    if following.is_none_or(|f| f.status == FollowState::Rejected) {
        return Ok(Err("Announce from an actor we do not follow".into()));
    }
    let Some(object_id) = id_of(&activity.object) else {
        return Ok(Err("Announce without an object id".into()));
    };
    let Ok(url) = Url::parse(&object_id) else {
        return Ok(Err(format!("Announce of `{object_id}`, which is not a URL")));
    };
    if let Some(block) = crate::federation::blocked(state, vec![object_id.clone()]).await? {
        return Ok(Err(format!("Announce of a post from blocked {}", block.domain)));
    }
    let key = object_id.clone();
    let known =
        state.db.read(move |c| Ok(remote::find_post(c, &key)?.is_some() || remote::is_tombstoned(c, &key)?)).await?;
    if known {
        return Ok(Err("the announced post is already stored or was deleted".into()));
    }
    let fetched = match super::fetch::object(data, &url).await {
        Ok(response) => response.object,
        Err(e) => return Ok(Err(format!("cannot fetch the announced post {object_id}: {e}"))),
    };
    let author = match fetched.get("attributedTo").and_then(|a| match a {
        Value::Array(items) => items.iter().find_map(id_of),
        other => id_of(other),
    }) {
        Some(author) => author,
        None => return Ok(Err("the announced post has no author".into())),
    };
    if let Some(block) = crate::federation::blocked(state, vec![author.clone()]).await? {
        return Ok(Err(format!("Announce of a post by blocked {}", block.domain)));
    }
    Ok(verify_post(&author, &fetched).map(|note| (author, note, fetched)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(id: &str, key_id: &str) -> RemoteActor {
        RemoteActor {
            id: id.into(),
            actor_type: "Person".into(),
            preferred_username: id.rsplit('/').next().unwrap().into(),
            name: None,
            inbox: format!("{id}/inbox"),
            shared_inbox: None,
            outbox: None,
            public_key_id: key_id.into(),
            public_key_pem: String::new(),
            raw: "{}".into(),
            fetched_at: chrono::NaiveDateTime::default(),
        }
    }

    #[test]
    fn the_holder_of_a_shared_key_id_is_the_exact_owner_or_nobody() {
        let key = Url::parse("https://peer.example/users/bob#main-key").unwrap();
        let owner = Url::parse("https://peer.example/users/bob").unwrap();
        let holder = |rows: Vec<RemoteActor>| key_holder(rows, Some(&key), &owner).map(|r| r.id);
        let (alice, bob) = ("https://peer.example/users/alice", "https://peer.example/users/bob");
        // Newest copy first: Alice's, naming Bob's key, comes before Bob himself.
        assert_eq!(holder(vec![cached(alice, key.as_str()), cached(bob, key.as_str())]).as_deref(), Some(bob));
        assert_eq!(
            holder(vec![cached(alice, key.as_str()), cached("https://peer.example/users/carol", key.as_str())]),
            None
        );
        // One actor of the key's server: it holds it (a key id without fragment names no actor).
        assert_eq!(holder(vec![cached(alice, key.as_str())]).as_deref(), Some(alice));
        // Another server's actor naming that key never holds it.
        assert_eq!(holder(vec![cached("https://elsewhere.example/users/bob", key.as_str())]), None);
        assert_eq!(
            holder(vec![cached("https://elsewhere.example/users/bob", key.as_str()), cached(bob, key.as_str())])
                .as_deref(),
            Some(bob)
        );
    }

    /// What a peer sends is cleaned as it is read: nothing stored holds a character no feed can
    /// carry, nor U+0000, which PostgreSQL refuses.
    #[test]
    fn a_peers_post_and_profile_are_stored_without_control_characters() {
        let hostile = "a\u{0}b\u{1}c\u{8}d\u{b}e\u{fffe}f\u{ffff}g\th\ni";
        let object = serde_json::json!({
            "id": "https://peer.example/notes/1",
            "type": "Note",
            "attributedTo": "https://peer.example/u/x",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "name": hostile,
            "summary": hostile,
            "content": format!("<p>{hostile} &#1; &#x8; &#11; &#0;</p>"),
            "contentMap": {format!("fr\u{1}"): "x"},
            "url": "https://peer.example/@x/1\u{1}",
        });
        let note = verify_post("https://peer.example/u/x", &object).unwrap();
        let now = chrono::DateTime::UNIX_EPOCH.naive_utc();
        let row = post_row("https://peer.example/u/x", &note, &object, now);
        let texts = [Some(&row.content_html), row.summary.as_ref(), row.url.as_ref(), row.lang.as_ref()];
        for text in texts.into_iter().flatten() {
            assert!(!text.chars().any(render::is_forbidden), "{text:?}");
        }
        assert!(row.content_html.contains("abcdefg\th"), "{}", row.content_html);
        assert_eq!(note.name.as_deref(), Some("abcdefg\th\ni"));
        let actor: crate::federation::protocol::IncomingActor = serde_json::from_value(serde_json::json!({
            "id": "https://peer.example/u/x",
            "type": "Person",
            "preferredUsername": "x\u{0}",
            "name": hostile,
            "inbox": "https://peer.example/u/x/inbox",
            "publicKey": {"id": "https://peer.example/u/x#main-key", "owner": "https://peer.example/u/x", "publicKeyPem": "k"},
        }))
        .unwrap();
        assert_eq!((actor.preferred_username.as_deref(), actor.name.as_deref()), (Some("x"), Some("abcdefg\th\ni")));
    }
}
