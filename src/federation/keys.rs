//! RSA-2048 keys: generated, PEM-encoded, used to sign and verify with aws-lc-rs (constant-time and
//! in OpenSSL's class for speed; the pure-Rust `rsa` crate is both slower and under RUSTSEC-2023-0071).
//!
//! Our own keys live in the database (`local_keys`); [`LocalKeys`] holds them parsed. The host
//! account's key can be rotated by another process (`ronron keys rotate`), so whoever signs for the
//! host asks [`LocalKeys::current_host`], which rereads the stored row and reparses it only when it
//! changed.

use super::proofs::{Ed25519Key, ProofError};
use crate::{
    clock::Clock,
    db::{models::keys as key_rows, Db, DbError},
};
use aws_lc_rs::{
    encoding::AsDer,
    rand::SystemRandom,
    rsa::{KeyPair, KeySize},
    signature::{self, UnparsedPublicKey},
};
use base64::{engine::general_purpose::STANDARD, Engine};
use std::sync::{Arc, RwLock};

pub const HOST_KEY: &str = "host";
pub const INSTANCE_KEY: &str = "instance";
/// The collective's Group (only made when the role is on).
pub const GROUP_KEY: &str = "collective";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot generate an RSA key")]
    Generate,
    #[error("the stored private key is invalid: {0}")]
    InvalidPrivateKey(String),
    #[error("the public key is not a PEM-encoded RSA key")]
    InvalidPublicKey,
    #[error("the public key is too short: RSA keys must have at least 2048 bits")]
    PublicKeyTooShort,
    #[error("signing failed")]
    Sign,
}

pub struct GeneratedKeys {
    pub private_key_pem: String,
    pub public_key_pem: String,
}

pub fn generate() -> Result<GeneratedKeys, KeyError> {
    let pair = KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
    let private = pair.as_der().map_err(|_| KeyError::Generate)?;
    let public = aws_lc_rs::signature::KeyPair::public_key(&pair).as_der().map_err(|_| KeyError::Generate)?;
    Ok(GeneratedKeys {
        private_key_pem: to_pem("PRIVATE KEY", private.as_ref()),
        public_key_pem: to_pem("PUBLIC KEY", public.as_ref()),
    })
}

fn to_pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

/// DER bytes of the first PEM block (any label: PUBLIC KEY, RSA PUBLIC KEY, PRIVATE KEY).
fn from_pem(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    if body.is_empty() {
        return None;
    }
    STANDARD.decode(body).ok()
}

/// A private key parsed once and reused for every signature.
pub struct SigningKey {
    pair: KeyPair,
}

impl SigningKey {
    pub fn from_pem(pem: &str) -> Result<SigningKey, KeyError> {
        let der = from_pem(pem).ok_or_else(|| KeyError::InvalidPrivateKey("not PEM".into()))?;
        let pair = KeyPair::from_pkcs8(&der).map_err(|e| KeyError::InvalidPrivateKey(e.to_string()))?;
        Ok(SigningKey { pair })
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256, base64-encoded (what `rsa-sha256`/`hs2019` mean in practice).
    pub fn sign_base64(&self, message: &[u8]) -> Result<String, KeyError> {
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(&signature::RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut signature)
            .map_err(|_| KeyError::Sign)?;
        Ok(STANDARD.encode(signature))
    }
}

/// Checks a base64 RSASSA-PKCS1-v1_5 SHA-256 signature against a PEM public key (SPKI or PKCS#1).
/// A key under 2048 bits is refused as such (verification would only say "does not match").
pub fn verify_base64(public_key_pem: &str, message: &[u8], signature_b64: &str) -> Result<bool, KeyError> {
    let der = from_pem(public_key_pem).ok_or(KeyError::InvalidPublicKey)?;
    if is_too_short(&der) {
        return Err(KeyError::PublicKeyTooShort);
    }
    let Ok(signature) = STANDARD.decode(signature_b64.trim()) else {
        return Ok(false);
    };
    let key = UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, der);
    Ok(key.verify(message, &signature).is_ok())
}

/// The key parses as RSA but is under 2048 bits. The size check is aws-lc-rs's own
/// (`KeyRejected` "TooSmall"); a key that does not parse at all is left to `verify`.
fn is_too_short(der: &[u8]) -> bool {
    let Ok(key) = aws_lc_rs::rsa::PublicKey::from_der(der) else { return false };
    let Ok(spki) = key.as_der() else { return false };
    matches!(
        aws_lc_rs::rsa::PublicEncryptingKey::from_der(spki.as_ref()),
        Err(e) if e.description_() == "TooSmall"
    )
}

/// One actor's key pair: the PEM texts as stored, and the private key parsed for signing.
pub struct ActorKeys {
    pub private_key_pem: String,
    pub public_key_pem: String,
    pub signer: SigningKey,
}

impl ActorKeys {
    fn from_row(row: key_rows::LocalKey) -> Result<ActorKeys, KeyError> {
        Ok(ActorKeys {
            signer: SigningKey::from_pem(&row.private_key_pem)?,
            private_key_pem: row.private_key_pem,
            public_key_pem: row.public_key_pem,
        })
    }
}

/// Our two actors' keys. The instance actor's never changes while running; the host account's is
/// the last one this process read from the database (see [`LocalKeys::current_host`]).
pub struct LocalKeys {
    pub instance: ActorKeys,
    host: RwLock<Arc<ActorKeys>>,
    /// The collective's Group, when the role is on.
    pub group: Option<Arc<ActorKeys>>,
    /// The Ed25519 keys of the same actors (FEP-521a), which sign object integrity proofs.
    pub ed25519: Ed25519Keys,
}

/// Our actors' Ed25519 keys. They are not rotated; the host account's may still be replaced
/// by `import --all --include-key` (see [`LocalKeys::current_ed25519_host`]).
pub struct Ed25519Keys {
    pub instance: Arc<Ed25519Key>,
    host: RwLock<Arc<Ed25519Key>>,
    pub group: Option<Arc<Ed25519Key>>,
}

impl Ed25519Keys {
    /// The host account's key, as this process last read it.
    pub fn host(&self) -> Arc<Ed25519Key> {
        self.host.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Ed25519(#[from] ProofError),
}

/// The Ed25519 key of `kind`, made and stored the first time (also the first start after an
/// upgrade that brought these keys); whichever process stores one first wins.
fn load_ed25519(db: &Db, clock: &Clock, kind: &str) -> Result<Arc<Ed25519Key>, LoadError> {
    let row = match db.read_blocking(|c| key_rows::find_ed25519(c, kind))? {
        Some(row) => row,
        None => {
            let key = Ed25519Key::generate()?;
            let row = key_rows::Ed25519Row {
                kind: kind.to_string(),
                private_key_pkcs8: key.pkcs8_base64().to_string(),
                public_key_multibase: key.multibase().to_string(),
                created_at: clock.now(),
            };
            db.write_blocking(|c| {
                key_rows::insert_ed25519_if_absent(c, &row)?;
                // The stored one: ours, or the one another process stored first.
                Ok::<_, DbError>(key_rows::find_ed25519(c, kind)?.unwrap_or_else(|| row.clone()))
            })?
        }
    };
    Ok(Arc::new(Ed25519Key::from_pkcs8_base64(&row.private_key_pkcs8, Some(&row.public_key_multibase))?))
}

impl LocalKeys {
    /// Loads both keys, creating each the first time (whichever process stores one first wins).
    pub fn load_or_create(db: &Db, clock: &Clock) -> Result<LocalKeys, LoadError> {
        Self::load_or_create_with(db, clock, false)
    }

    /// [`LocalKeys::load_or_create`], with the Group's key too when `group` (the collective role).
    pub fn load_or_create_with(db: &Db, clock: &Clock, group: bool) -> Result<LocalKeys, LoadError> {
        let load = |kind: &str| -> Result<ActorKeys, LoadError> {
            let existing = db.read_blocking(|c| key_rows::find(c, kind))?;
            let row = match existing {
                Some(row) => row,
                None => {
                    let generated = generate()?;
                    let row = key_rows::LocalKey {
                        kind: kind.to_string(),
                        private_key_pem: generated.private_key_pem,
                        public_key_pem: generated.public_key_pem,
                        created_at: clock.now(),
                    };
                    // Another process may have created it meanwhile: keep whichever was stored first.
                    db.write_blocking(|c| match key_rows::find(c, kind)? {
                        Some(stored) => Ok::<_, DbError>(stored),
                        None => key_rows::insert(c, &row).map(|_| row.clone()),
                    })?
                }
            };
            Ok(ActorKeys::from_row(row)?)
        };
        Ok(LocalKeys {
            instance: load(INSTANCE_KEY)?,
            host: RwLock::new(Arc::new(load(HOST_KEY)?)),
            group: if group { Some(Arc::new(load(GROUP_KEY)?)) } else { None },
            ed25519: Ed25519Keys {
                instance: load_ed25519(db, clock, INSTANCE_KEY)?,
                host: RwLock::new(load_ed25519(db, clock, HOST_KEY)?),
                group: if group { Some(load_ed25519(db, clock, GROUP_KEY)?) } else { None },
            },
        })
    }

    /// The host account's key as this process last read it (no database access).
    pub fn host(&self) -> Arc<ActorKeys> {
        self.host.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The host account's key as stored now: one small read; the key is reparsed only when the
    /// stored one differs from the cached one (a rotation, possibly by another process).
    pub async fn current_host(&self, db: &Db) -> Result<Arc<ActorKeys>, LoadError> {
        let row = db
            .read(|c| key_rows::find(c, HOST_KEY))
            .await?
            .ok_or_else(|| DbError::Corrupt("the host account's key is missing".into()))?;
        self.adopt_host(row)
    }

    /// Makes `row` the host key of this process unless it already is.
    /// The host account's Ed25519 key as stored now, read on `conn`: an `import --all
    /// --include-key` run by another process (the command line) may have put back the exported
    /// one since this process read it, and the actor document already shows the stored one, so
    /// proofs must be made with it.
    pub fn current_ed25519_host(&self, conn: &mut crate::db::DbConnection) -> crate::db::DbResult<Arc<Ed25519Key>> {
        let cached = self.ed25519.host();
        let Some(row) = key_rows::find_ed25519(conn, HOST_KEY)? else { return Ok(cached) };
        if row.public_key_multibase == cached.multibase() && row.private_key_pkcs8 == cached.pkcs8_base64() {
            return Ok(cached);
        }
        match Ed25519Key::from_pkcs8_base64(&row.private_key_pkcs8, Some(&row.public_key_multibase)) {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                *self.ed25519.host.write().unwrap_or_else(|p| p.into_inner()) = fresh.clone();
                tracing::info!("the host account's Ed25519 key changed; making proofs with the new one");
                Ok(fresh)
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot read the host account's stored Ed25519 key; using the one loaded before");
                Ok(cached)
            }
        }
    }

    pub fn adopt_host(&self, row: key_rows::LocalKey) -> Result<Arc<ActorKeys>, LoadError> {
        let cached = self.host();
        if cached.public_key_pem == row.public_key_pem && cached.private_key_pem == row.private_key_pem {
            return Ok(cached);
        }
        let fresh = Arc::new(ActorKeys::from_row(row)?);
        *self.host.write().unwrap_or_else(|p| p.into_inner()) = fresh.clone();
        tracing::info!("the host account's signing key changed; signing with the new one");
        Ok(fresh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies() {
        let keys = generate().unwrap();
        let signer = SigningKey::from_pem(&keys.private_key_pem).unwrap();
        let sig = signer.sign_base64(b"hello").unwrap();
        assert!(verify_base64(&keys.public_key_pem, b"hello", &sig).unwrap());
        assert!(!verify_base64(&keys.public_key_pem, b"hellO", &sig).unwrap());
        // The library that signs our fetches must be able to read the same PEM.
        use rsa::pkcs8::DecodePrivateKey;
        rsa::RsaPrivateKey::from_pkcs8_pem(&keys.private_key_pem).unwrap();
    }

    #[test]
    fn a_1024_bit_key_is_refused_as_too_short() {
        use rsa::pkcs8::EncodePublicKey;
        let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
        let pem = private.to_public_key().to_public_key_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        assert!(matches!(verify_base64(&pem, b"hello", "AA=="), Err(KeyError::PublicKeyTooShort)));
        // PKCS#1 ("RSA PUBLIC KEY") too.
        use rsa::pkcs1::EncodeRsaPublicKey;
        let pem = private.to_public_key().to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        assert!(matches!(verify_base64(&pem, b"hello", "AA=="), Err(KeyError::PublicKeyTooShort)));
        let ours = generate().unwrap();
        assert!(!verify_base64(&ours.public_key_pem, b"hello", "AA==").unwrap());
    }
}
