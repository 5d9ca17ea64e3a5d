//! Admin accounts and sessions: argon2id password hashes, sessions known by the hash of their
//! cookie, a CSRF token per session, and throttling of failed logins. No HTTP here: the web
//! layer turns these results into cookies and pages.

use super::{AppError, AppResult};
use crate::refusal::Kind;
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
/// …lock a name for one client address after this many (the same name from another address is
/// not locked: an attacker cannot lock the real admin out)…
pub const MAX_FAILURES_PER_CLIENT: usize = 5;
/// …lock an address after this many for any names (so one client cannot try many names)…
pub const MAX_FAILURES_PER_IP: usize = 20;
/// …and slow down every login of a name after this many from all addresses together: each
/// attempt waits [`SLOWDOWN_BASE_MS`] ms, doubling with each further failure, at most
/// [`SLOWDOWN_MAX_MS`], before its password is checked. A slowdown, never a refusal.
pub const SLOWDOWN_AFTER: i64 = 5;
pub const SLOWDOWN_BASE_MS: u64 = 100;
pub const SLOWDOWN_MAX_MS: u64 = 5_000;

/// How long a login of a name with `failures` recent failures (from every address) waits.
pub fn slowdown(failures: i64) -> std::time::Duration {
    let ms = match failures - SLOWDOWN_AFTER {
        beyond if beyond < 0 => 0,
        beyond => SLOWDOWN_BASE_MS.saturating_mul(1u64 << beyond.min(20)).min(SLOWDOWN_MAX_MS),
    };
    std::time::Duration::from_millis(ms)
}

/// When a lock of `max` failures over `window` lifts, given the failures still counted (oldest
/// first): once all but `max - 1` of them have left the window.
fn lifts_at(failures: &[NaiveDateTime], max: usize, window: Duration) -> Option<NaiveDateTime> {
    (failures.len() >= max).then(|| failures[failures.len() - max] + window)
}

/// Whole minutes left until `lifts_at`, rounded up (what "try again in N minutes" says).
fn minutes_until(lifts_at: NaiveDateTime, now: NaiveDateTime) -> i64 {
    let ms = (lifts_at - now).num_milliseconds().max(1);
    (ms + 59_999) / 60_000
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

/// Equal strings, compared in constant time (tokens from clients). An empty token matches
/// nothing, not even another empty one (a session or form that lost its token).
pub fn same_token(a: &str, b: &str) -> bool {
    !a.is_empty() && a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn check_username(username: &str) -> AppResult<String> {
    let name = username.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(AppError::refused("username", Kind::UsernameLength, &[("max", "64")]));
    }
    if !name.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        return Err(AppError::refused("username", Kind::UsernameChars, &[]));
    }
    Ok(name.to_string())
}

fn check_password(password: &str) -> AppResult<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::refused("password", Kind::PasswordTooShort, &[("min", &MIN_PASSWORD_CHARS.to_string())]));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::refused("password", Kind::PasswordTooLong, &[("max", &MAX_PASSWORD_BYTES.to_string())]));
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

/// Hashing is CPU work and 19 MiB each: keep it off the async workers, a few at a time.
async fn blocking<T: Send + 'static>(state: &AppState, f: impl FnOnce() -> T + Send + 'static) -> T {
    let _permit = state.password_hashing.acquire().await.expect("the semaphore is never closed");
    tokio::task::spawn_blocking(f).await.expect("hashing does not panic")
}

/// The address the throttle counts failures under: an IPv4 address as it is, an IPv6 one by its
/// /64, since one home line or server gets a whole /64 to pick fresh addresses from.
pub fn throttle_address(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            format!("{}/64", std::net::Ipv6Addr::from(prefix))
        }
        _ => ip.to_string(),
    }
}

pub async fn create_admin(state: &AppState, username: &str, password: &str) -> AppResult<Admin> {
    let username = check_username(username)?;
    check_password(password)?;
    let password = password.to_string();
    let hash = blocking(state, move || hash_password(&password)).await?;
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
        return Err(AppError::conflicting("username", Kind::UsernameExists, &[("value", &username)]));
    }
    Ok(admin)
}

/// Sets a new password; every open session of that admin ends.
pub async fn set_password(state: &AppState, username: &str, password: &str) -> AppResult<()> {
    check_password(password)?;
    let password = password.to_string();
    let hash = blocking(state, move || hash_password(&password)).await?;
    let now = state.clock.now();
    let name = username.to_string();
    if state.db.write(move |c| rows::set_password(c, &name, &hash, now)).await? {
        Ok(())
    } else {
        Err(AppError::no_such(Kind::NoAdmin, username))
    }
}

/// Deletes an admin account and ends its sessions; the last admin cannot be deleted (no one
/// could log in to the web admin any more). One transaction, so two deletions cannot both pass.
pub async fn delete_admin(state: &AppState, username: &str) -> AppResult<()> {
    let name = username.to_string();
    match state.db.write(move |c| rows::delete_unless_last(c, &name)).await? {
        Some(true) => Ok(()),
        Some(false) => Err(AppError::conflicting("username", Kind::LastAdmin, &[("value", username)])),
        None => Err(AppError::no_such(Kind::NoAdmin, username)),
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

/// Checks a login from the client address `ip`. Too many recent failures for this name from
/// this address, or from this address for any names, refuse it before the password is even looked
/// at; many failures for this name from everywhere slow every attempt down (see [`slowdown`]) but
/// never refuse the right password from an address that has not failed.
pub async fn login(state: &AppState, username: &str, password: &str, ip: &str) -> AppResult<NewSession> {
    let now = state.clock.now();
    let window = Duration::minutes(THROTTLE_WINDOW_MINUTES);
    let since = now - window;
    let username = username.trim().to_string();
    let ip = throttle_address(ip);
    let ip = ip.as_str();
    let (name, addr) = (username.clone(), ip.to_string());
    let recent = state.db.read(move |c| rows::recent_failures(c, &name, &addr, since)).await?;
    let lock = [
        lifts_at(&recent.for_name_from_address, MAX_FAILURES_PER_CLIENT, window),
        lifts_at(&recent.from_address, MAX_FAILURES_PER_IP, window),
    ]
    .into_iter()
    .flatten()
    .max();
    if let Some(lifts_at) = lock {
        return Err(AppError::Throttled { minutes: minutes_until(lifts_at, now) });
    }
    let delay = slowdown(recent.for_name);
    if !delay.is_zero() {
        tracing::info!(username = %username, failures = recent.for_name, delay_ms = delay.as_millis() as u64, "login slowed down");
        tokio::time::sleep(delay).await;
    }
    let name = username.clone();
    let admin = state.db.read(move |c| rows::find(c, &name)).await?;
    let typed = password.to_string();
    let stored = admin.as_ref().map(|a| a.password_hash.clone());
    let matches = blocking(state, move || match stored {
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
    let addr = ip.to_string();
    state
        .db
        .write(move |c| {
            rows::delete_expired_sessions(c, now)?;
            rows::forget_failures(c, &row.username, &addr)?;
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
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(throttle_address("192.0.2.7"), "192.0.2.7");
        assert_eq!(throttle_address("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(throttle_address("2001:db8:1:2:bbbb::9"), "2001:db8:1:2::/64");
        assert_eq!(throttle_address("::ffff:192.0.2.7"), "::ffff:192.0.2.7");
        assert_eq!(throttle_address("unknown"), "unknown");
    }

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
        assert!(!same_token("", "") && !same_token("", "abc") && !same_token("abc", ""));
    }

    #[test]
    fn the_slowdown_grows_then_stops_at_its_cap() {
        assert_eq!(slowdown(0), std::time::Duration::ZERO);
        assert_eq!(slowdown(SLOWDOWN_AFTER - 1), std::time::Duration::ZERO);
        assert_eq!(slowdown(SLOWDOWN_AFTER).as_millis(), 100);
        assert_eq!(slowdown(SLOWDOWN_AFTER + 3).as_millis(), 800);
        assert_eq!(slowdown(SLOWDOWN_AFTER + 6).as_millis(), u128::from(SLOWDOWN_MAX_MS));
        assert_eq!(slowdown(i64::MAX).as_millis(), u128::from(SLOWDOWN_MAX_MS));
    }

    #[test]
    fn a_lock_lifts_when_enough_failures_have_left_the_window() {
        let t0 = chrono::NaiveDate::from_ymd_opt(2030, 3, 12).unwrap().and_hms_opt(8, 0, 0).unwrap();
        let window = Duration::minutes(15);
        let at = |minutes: i64| t0 + Duration::minutes(minutes);
        assert_eq!(lifts_at(&[at(0), at(1), at(2), at(3)], 5, window), None);
        // Five: free once the oldest leaves. Seven: once the third oldest leaves.
        assert_eq!(lifts_at(&[at(0), at(1), at(2), at(3), at(4)], 5, window), Some(at(15)));
        assert_eq!(lifts_at(&[at(0), at(1), at(2), at(3), at(4), at(5), at(6)], 5, window), Some(at(17)));
        assert_eq!(minutes_until(at(15), at(0)), 15);
        assert_eq!(minutes_until(at(15), at(14) + Duration::seconds(1)), 1);
        assert_eq!(minutes_until(at(15), at(13) + Duration::seconds(59)), 2);
    }
}
