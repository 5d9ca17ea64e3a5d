//! Bearer tokens for the JSON admin API. A secret is shown once, when it is created; only its
//! SHA-256 is stored, so a leaked database does not hand out working tokens.

use crate::{
    bulletin::BulletinError,
    db::{schema::api_tokens, DbConnection, DbResult},
};
use base64::Engine;
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

/// Every secret starts with this, so a leaked one is easy to recognise (and to grep for).
pub const SECRET_PREFIX: &str = "rr_";
pub const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, Clone, Queryable, Selectable, PartialEq)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

impl ApiToken {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

/// A token's name as the admin typed it, trimmed; call it before [`create`].
pub fn validate_name(name: &str) -> Result<String, BulletinError> {
    crate::bulletin::check_text("name", name)?;
    let name = name.trim();
    let reason = if name.is_empty() {
        "must not be empty (say what the token is for, e.g. `status page`)".to_string()
    } else if name.chars().count() > MAX_NAME_CHARS || name.contains(['\n', '\r']) {
        format!("must be one line of at most {MAX_NAME_CHARS} characters")
    } else {
        return Ok(name.to_string());
    };
    Err(BulletinError::Invalid { field: "name", reason })
}

/// The SHA-256 of a secret, in lower-case hex: what is stored and looked up.
pub fn hash_secret(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    format!("{SECRET_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Creates a token; returns the row and the secret, shown once (only its SHA-256 is stored).
pub fn create(conn: &mut DbConnection, name: &str, now: NaiveDateTime) -> DbResult<(ApiToken, String)> {
    let secret = new_secret();
    let hash = hash_secret(&secret);
    diesel::insert_into(api_tokens::table)
        .values((api_tokens::name.eq(name.trim()), api_tokens::token_hash.eq(&hash), api_tokens::created_at.eq(now)))
        .execute(conn)?;
    // Read back by the unique hash: the id is the database's (no RETURNING on every SQLite).
    let token = api_tokens::table.filter(api_tokens::token_hash.eq(&hash)).select(ApiToken::as_select()).first(conn)?;
    Ok((token, secret))
}

pub fn find(conn: &mut DbConnection, id: i64) -> DbResult<Option<ApiToken>> {
    Ok(api_tokens::table.find(id).select(ApiToken::as_select()).first(conn).optional()?)
}

/// Every token, newest first, revoked ones included.
pub fn list(conn: &mut DbConnection) -> DbResult<Vec<ApiToken>> {
    Ok(api_tokens::table
        .order((api_tokens::created_at.desc(), api_tokens::id.desc()))
        .select(ApiToken::as_select())
        .load(conn)?)
}

/// Revokes a live token; false when there is no such token or it was already revoked.
pub fn revoke(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> DbResult<bool> {
    Ok(diesel::update(api_tokens::table.find(id).filter(api_tokens::revoked_at.is_null()))
        .set(api_tokens::revoked_at.eq(Some(now)))
        .execute(conn)?
        == 1)
}

/// The live token with this secret, its last_used_at bumped (at most once a minute).
pub fn authenticate(conn: &mut DbConnection, secret: &str, now: NaiveDateTime) -> DbResult<Option<ApiToken>> {
    if !secret.starts_with(SECRET_PREFIX) {
        return Ok(None);
    }
    // Looking up the hash, not comparing secrets, leaves nothing to time: the hash of a guess
    // says nothing about the hash of the real secret.
    let found = api_tokens::table
        .filter(api_tokens::token_hash.eq(hash_secret(secret)))
        .filter(api_tokens::revoked_at.is_null())
        .select(ApiToken::as_select())
        .first(conn)
        .optional()?;
    let Some(mut token) = found else { return Ok(None) };
    // Once a minute is enough to tell which tokens are in use, without a write per request.
    if token.last_used_at.is_none_or(|at| now - at >= Duration::minutes(1)) {
        diesel::update(api_tokens::table.find(token.id)).set(api_tokens::last_used_at.eq(Some(now))).execute(conn)?;
        token.last_used_at = Some(now);
    }
    Ok(Some(token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    #[test]
    fn a_token_authenticates_until_revoked_and_only_its_hash_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/t.db", dir.path().display()), 1).unwrap();
        let t0 = chrono::NaiveDate::from_ymd_opt(2030, 3, 12).unwrap().and_hms_opt(8, 0, 0).unwrap();
        let (first, secret) = db.write_blocking(|c| create(c, "  status page ", t0)).unwrap();
        assert_eq!(first.name, "status page");
        assert!(secret.starts_with("rr_") && secret.len() == 3 + 43, "{secret}");
        assert_eq!(first.token_hash, hash_secret(&secret));
        assert!(!first.token_hash.contains(&secret[3..]));
        let (second, other) = db.write_blocking(|c| create(c, "backup", t0 + Duration::seconds(1))).unwrap();
        assert_ne!(secret, other);

        let used = db.write_blocking(|c| authenticate(c, &secret, t0 + Duration::seconds(5))).unwrap().unwrap();
        assert_eq!((used.id, used.last_used_at), (first.id, Some(t0 + Duration::seconds(5))));
        let again = db.write_blocking(|c| authenticate(c, &secret, t0 + Duration::seconds(30))).unwrap().unwrap();
        assert_eq!(again.last_used_at, Some(t0 + Duration::seconds(5)), "not bumped within a minute");
        let later = db.write_blocking(|c| authenticate(c, &secret, t0 + Duration::seconds(65))).unwrap().unwrap();
        assert_eq!(later.last_used_at, Some(t0 + Duration::seconds(65)));
        assert_eq!(db.write_blocking(|c| authenticate(c, "rr_guess", t0)).unwrap(), None);
        assert_eq!(db.write_blocking(|c| authenticate(c, &first.token_hash, t0)).unwrap(), None, "the hash is no key");

        assert!(db.write_blocking(|c| revoke(c, first.id, t0 + Duration::minutes(2))).unwrap());
        assert!(!db.write_blocking(|c| revoke(c, first.id, t0 + Duration::minutes(3))).unwrap(), "once");
        assert!(!db.write_blocking(|c| revoke(c, 9999, t0)).unwrap());
        assert_eq!(db.write_blocking(|c| authenticate(c, &secret, t0 + Duration::minutes(4))).unwrap(), None);
        assert!(db.write_blocking(|c| authenticate(c, &other, t0)).unwrap().is_some());

        let listed = db.read_blocking(list).unwrap();
        assert_eq!(listed.iter().map(|t| t.id).collect::<Vec<_>>(), vec![second.id, first.id], "newest first");
        assert_eq!(listed[1].revoked_at, Some(t0 + Duration::minutes(2)));
        assert!(matches!(validate_name(" "), Err(BulletinError::Invalid { field: "name", .. })));
        assert!(matches!(validate_name("a\nb"), Err(BulletinError::Invalid { field: "name", .. })));
    }
}
