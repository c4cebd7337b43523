//! Publisher keys: Ed25519 key pairs for signing packs, and the public keys a device trusts.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A publisher public key a device trusts for packs. Serialised as
/// `{"key_id": "...", "public_key": "<base64>"}`; deserialising checks the key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TrustedKeyRepr", into = "TrustedKeyRepr")]
pub struct TrustedKey {
    /// Name the publisher signs under, e.g. `xian-demo-2026`.
    pub key_id: String,
    key: VerifyingKey,
}

#[derive(Clone, Serialize, Deserialize)]
struct TrustedKeyRepr {
    key_id: String,
    public_key: String,
}

impl TryFrom<TrustedKeyRepr> for TrustedKey {
    type Error = Error;
    fn try_from(r: TrustedKeyRepr) -> Result<Self> {
        TrustedKey::new(&r.key_id, &r.public_key)
    }
}

impl From<TrustedKey> for TrustedKeyRepr {
    fn from(k: TrustedKey) -> Self {
        TrustedKeyRepr {
            public_key: k.public_key_b64(),
            key_id: k.key_id,
        }
    }
}

impl TrustedKey {
    /// A trusted key from its id and base64 public key; refuses keys that are not 32 bytes or
    /// not a valid curve point.
    pub fn new(key_id: &str, public_key_b64: &str) -> Result<TrustedKey> {
        if key_id.trim().is_empty() {
            return Err(Error::invalid("trusted key has an empty key id"));
        }
        let bytes = B64
            .decode(public_key_b64.trim().as_bytes())
            .map_err(|e| Error::invalid(format!("public key of '{key_id}' is not base64: {e}")))?;
        let arr = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
            Error::invalid(format!(
                "public key of '{key_id}' is {} bytes, expected 32",
                bytes.len()
            ))
        })?;
        let key = VerifyingKey::from_bytes(&arr).map_err(|_| {
            Error::invalid(format!(
                "public key of '{key_id}' is not a valid Ed25519 key"
            ))
        })?;
        Ok(TrustedKey {
            key_id: key_id.to_string(),
            key,
        })
    }

    /// The public key, standard base64.
    pub fn public_key_b64(&self) -> String {
        B64.encode(self.key.to_bytes())
    }

    pub(crate) fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }
}

/// A publisher's signing key pair. The secret never leaves the publisher's machine, except the
/// demo key in `data/keys/`, which is public on purpose and trusted only by demo builds.
#[derive(Clone, Serialize, Deserialize)]
pub struct PublisherKeyPair {
    /// Name the publisher signs under.
    pub key_id: String,
    /// The 32-byte Ed25519 seed, standard base64.
    pub secret_key: String,
    /// The public key, standard base64.
    pub public_key: String,
}

impl std::fmt::Debug for PublisherKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublisherKeyPair")
            .field("key_id", &self.key_id)
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

impl PublisherKeyPair {
    /// A fresh key pair from the operating system's random source.
    pub fn generate(key_id: &str) -> Result<PublisherKeyPair> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|e| Error::Internal(format!("no randomness for key generation: {e}")))?;
        Ok(Self::from_seed(key_id, seed))
    }

    /// The key pair for a given 32-byte seed (tests and fixed demo keys).
    pub fn from_seed(key_id: &str, seed: [u8; 32]) -> PublisherKeyPair {
        let sk = SigningKey::from_bytes(&seed);
        PublisherKeyPair {
            key_id: key_id.to_string(),
            secret_key: B64.encode(seed),
            public_key: B64.encode(sk.verifying_key().to_bytes()),
        }
    }

    /// Reads a key pair from its JSON file form, checking that the halves match.
    pub fn from_json(bytes: &[u8]) -> Result<PublisherKeyPair> {
        let kp: PublisherKeyPair = serde_json::from_slice(bytes)
            .map_err(|e| Error::invalid(format!("not a publisher key file: {e}")))?;
        let seed = B64
            .decode(kp.secret_key.as_bytes())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
            .ok_or_else(|| Error::invalid("secret_key is not 32 bytes of base64"))?;
        let rebuilt = Self::from_seed(&kp.key_id, seed);
        if rebuilt.public_key != kp.public_key {
            return Err(Error::invalid("public_key does not belong to secret_key"));
        }
        Ok(rebuilt)
    }

    /// The public half, as a device would trust it.
    pub fn trusted_key(&self) -> TrustedKey {
        // Built from our own seed, so the key is well-formed.
        TrustedKey::new(&self.key_id, &self.public_key).expect("own public key is valid")
    }

    pub(crate) fn signing_key(&self) -> SigningKey {
        let seed = B64
            .decode(self.secret_key.as_bytes())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
            .unwrap_or([0u8; 32]);
        SigningKey::from_bytes(&seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_public_keys_are_refused() {
        assert!(
            TrustedKey::new("k", "!!!")
                .unwrap_err()
                .to_string()
                .contains("not base64")
        );
        assert!(
            TrustedKey::new("k", "AAAA")
                .unwrap_err()
                .to_string()
                .contains("expected 32")
        );
        assert!(
            TrustedKey::new("", "AAAA")
                .unwrap_err()
                .to_string()
                .contains("empty key id")
        );
    }

    #[test]
    fn key_file_round_trips_and_mismatch_is_caught() {
        let kp = PublisherKeyPair::generate("k1").unwrap();
        let json = serde_json::to_vec(&kp).unwrap();
        let back = PublisherKeyPair::from_json(&json).unwrap();
        assert_eq!(back.public_key, kp.public_key);
        let mut bad = kp.clone();
        bad.public_key = PublisherKeyPair::from_seed("x", [3; 32]).public_key;
        let err = PublisherKeyPair::from_json(&serde_json::to_vec(&bad).unwrap()).unwrap_err();
        assert!(err.to_string().contains("does not belong"), "{err}");
    }
}
