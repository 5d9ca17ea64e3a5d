//! Admin accounts and sessions: argon2id password hashes, sessions known by the hash of their
//! cookie, a CSRF token per session, and throttling of failed logins. No HTTP here: the web
//! layer turns these results into cookies and pages.

use super::{AppError, AppResult};
use crate::{
    db::models::admins::{self as rows, Admin, Session},
    state::AppState,
};
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use base64::Engine;
use chrono::{Duration, NaiveDateTime};
use sha2::Digest;

pub const MIN_PASSWORD_CHARS: usize = 10;
const MAX_PASSWORD_BYTES: usize = 1024;
/// How long a session lasts without logging in again.
pub const SESSION_DAYS: i64 = 14;
/// Failed logins counted over this window…
pub const THROTTLE_WINDOW_MINUTES: i64 = 15;
/// …at most this many per username (so one account cannot be guessed at)…
pub const MAX_FAILURES_PER_USER: i64 = 5;
/// …and per client address (so one client cannot try many names).
pub const MAX_FAILURES_PER_IP: i64 = 20;

fn invalid(field: &'static str, reason: impl Into<String>) -> AppError {
    AppError::invalid(field, reason)
}

/// A random token, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn sha256_hex(text: &str) -> String {
    sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Equal strings, compared in constant time (tokens from clients).
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn check_username(username: &str) -> AppResult<String> {
    let name = username.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(invalid("username", "must be 1 to 64 characters"));
    }
    if !name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        return Err(invalid("username", "may hold letters, digits, `_`, `-` and `.` only"));
    }
    Ok(name.to_string())
}

fn check_password(password: &str) -> AppResult<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(invalid("password", format!("must be at least {MIN_PASSWORD_CHARS} characters")));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(invalid("password", format!("must be at most {MAX_PASSWORD_BYTES} bytes")));
    }
    Ok(())
}

/// An argon2id hash with the crate's defaults (19 MiB, 2 passes): well under a second on a
/// Raspberry Pi, and the OWASP-recommended minimum.
fn hash_password(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Hashing is CPU work: keep it off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("hashing does not panic")
}

pub async fn create_admin(state: &AppState, username: &str, password: &str) -> AppResult<Admin> {
    let username = check_username(username)?;
    check_password(password)?;
    let password = password.to_string();
    let hash = blocking(move || hash_password(&password)).await?;
    let now = state.clock.now();
    let admin = Admin { username: username.clone(), password_hash: hash, created_at: now, updated_at: now };
    let row = admin.clone();
    let created = state
        .db
        .write(move |c| match rows::find(c, &row.username)? {
            Some(_) => Ok(false),
            None => rows::insert(c, &row).map(|_| true),
        })
        .await?;
    if !created {
        return Err(AppError::conflict("username", format!("an admin named `{username}` already exists")));
    }
    Ok(admin)
}

/// Sets a new password; every open session of that admin ends.
pub async fn set_password(state: &AppState, username: &str, password: &str) -> AppResult<()> {
    check_password(password)?;
    let password = password.to_string();
    let hash = blocking(move || hash_password(&password)).await?;
    let now = state.clock.now();
    let name = username.to_string();
    if state.db.write(move |c| rows::set_password(c, &name, &hash, now)).await? {
        Ok(())
    } else {
        Err(AppError::NotFound(format!("no admin is named `{username}`")))
    }
}

pub async fn list_admins(state: &AppState) -> AppResult<Vec<Admin>> {
    Ok(state.db.read(rows::list).await?)
}

/// A new session: the cookie value (given to the browser only) and the stored row.
pub struct NewSession {
    pub cookie: String,
    pub session: Session,
}

/// Checks a login. Too many recent failures for this name or address refuse it before the
/// password is even looked at, so guessing stays slow whatever the answer.
pub async fn login(state: &AppState, username: &str, password: &str, ip: &str) -> AppResult<NewSession> {
    let now = state.clock.now();
    let since = now - Duration::minutes(THROTTLE_WINDOW_MINUTES);
    let username = username.trim().to_string();
    let (name, addr) = (username.clone(), ip.to_string());
    let (by_user, by_ip) = state.db.read(move |c| rows::recent_failures(c, &name, &addr, since)).await?;
    if by_user >= MAX_FAILURES_PER_USER || by_ip >= MAX_FAILURES_PER_IP {
        let (name, addr) = (username.clone(), ip.to_string());
        let oldest = state.db.read(move |c| rows::oldest_failure_since(c, &name, &addr, since)).await?;
        let lifts_at = oldest.unwrap_or(now) + Duration::minutes(THROTTLE_WINDOW_MINUTES);
        return Err(AppError::Throttled { minutes: ((lifts_at - now).num_seconds() + 59).max(60) / 60 });
    }
    let name = username.clone();
    let admin = state.db.read(move |c| rows::find(c, &name)).await?;
    let typed = password.to_string();
    let stored = admin.as_ref().map(|a| a.password_hash.clone());
    let matches = blocking(move || match stored {
        Some(hash) => verify_password(&typed, &hash),
        // As much work for an unknown name, so the answer's timing does not tell which names exist.
        None => hash_password(&typed).is_err(),
    })
    .await;
    if !matches {
        let (name, addr) = (username.clone(), ip.to_string());
        state
            .db
            .write(move |c| {
                rows::prune_failures(c, since)?;
                rows::record_failure(c, &name, &addr, now)
            })
            .await?;
        return Err(AppError::BadCredentials);
    }
    let cookie = random_token();
    let session = Session {
        token_hash: sha256_hex(&cookie),
        username,
        csrf_token: random_token(),
        created_at: now,
        expires_at: now + Duration::days(SESSION_DAYS),
    };
    let row = session.clone();
    state
        .db
        .write(move |c| {
            rows::delete_expired_sessions(c, now)?;
            rows::insert_session(c, &row)
        })
        .await?;
    Ok(NewSession { cookie, session })
}

/// The live session a cookie opens, if any.
pub async fn session(state: &AppState, cookie: &str) -> AppResult<Option<Session>> {
    let hash = sha256_hex(cookie);
    let now: NaiveDateTime = state.clock.now();
    Ok(state.db.read(move |c| rows::live_session(c, &hash, now)).await?)
}

pub async fn logout(state: &AppState, cookie: &str) -> AppResult<()> {
    let hash = sha256_hex(cookie);
    Ok(state.db.write(move |c| rows::delete_session(c, &hash)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterx", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn usernames_and_passwords_are_checked_with_the_field_named() {
        assert!(check_username(" ").is_err_and(|e| e.field() == Some("username")));
        assert!(check_username("a b").is_err_and(|e| e.field() == Some("username")));
        assert_eq!(check_username(" camille ").unwrap(), "camille");
        assert!(check_password("short").is_err_and(|e| e.field() == Some("password")));
        assert!(same_token("abc", "abc") && !same_token("abc", "abd") && !same_token("abc", "ab"));
    }
}
