//! RSA-2048 keys: generated, PEM-encoded, used to sign and verify with aws-lc-rs (constant-time and
//! in OpenSSL's class for speed; the pure-Rust `rsa` crate is both slower and under RUSTSEC-2023-0071).

use aws_lc_rs::{
    encoding::AsDer,
    rand::SystemRandom,
    rsa::{KeyPair, KeySize},
    signature::{self, UnparsedPublicKey},
};
use base64::{engine::general_purpose::STANDARD, Engine};

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
