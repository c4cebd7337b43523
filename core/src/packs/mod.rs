//! Signed packs: how reference data (stations, training) travels from a publisher to a phone.
//!
//! A pack is a JSON payload wrapped in a DSSE envelope (Dead Simple Signing Envelope, the
//! format in-toto and Sigstore use): the payload travels base64-encoded, and the Ed25519
//! signature covers the exact payload bytes and its type through DSSE's pre-authentication
//! encoding. Signing bytes rather than re-serialised JSON means no canonicalisation rules and no
//! way for a parser difference to change what was signed. See
//! `docs/decisions/0002-dsse-signed-packs.md` and `docs/formats/station-pack.md`.
//!
//! This module opens and seals envelopes and keeps the `packs` table (what is installed). What
//! a payload means is up to the module that owns it (`stations`, `training`). The API is one
//! handle, [`Packs`] (`ws.packs()`): import, the installed list, and fetching from a server.

mod handle;
mod installed;
mod keys;

pub use handle::Packs;
pub use installed::{InstalledPack, PackFetch, installed_packs};
pub(crate) use installed::{etag, set_etag};
pub use keys::{PublisherKeyPair, TrustedKey};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Key id of the demo publisher, which signs the bundled Xi'an sample pack.
pub const DEMO_KEY_ID: &str = "waystation-demo-2026";
/// Public key of the demo publisher. Its secret is in `data/keys/demo-publisher.json` for
/// everyone to see: trust it only in demos and tests, never in a production app.
pub const DEMO_PUBLIC_KEY: &str = "Egcohxq2SSVnZeAuVor5/OzSUk8U2eafg+bNnPWrBEI=";

/// The demo publisher's key, as a device would trust it.
pub fn demo_trusted_key() -> TrustedKey {
    // A constant checked by `demo_key_is_valid` below.
    TrustedKey::new(DEMO_KEY_ID, DEMO_PUBLIC_KEY).expect("demo key constant is valid")
}

/// Largest pack accepted by default, in bytes. The Xi'an pack is about 0.6 MB.
pub const DEFAULT_MAX_PACK_BYTES: usize = 32 * 1024 * 1024;

/// Most signatures an envelope may carry. DSSE allows several (a publisher rotating keys signs
/// with the old and the new one), but each one costs an Ed25519 verification: without a bound,
/// a 32 MB pack holding a quarter of a million signatures under a trusted key id keeps a phone
/// busy verifying for many seconds before it is refused.
pub const MAX_SIGNATURES: usize = 8;

/// At most `max` characters of `text` from a pack, control characters replaced: key ids and
/// payload types are echoed in refusals, and a pack is untrusted until verified.
fn shown(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

/// A DSSE envelope as it is stored in a `.pack.json` file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Media type of the payload, e.g. `application/vnd.waystation.station-pack+json`.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// The payload, standard base64.
    pub payload: String,
    /// One or more signatures; the pack is accepted when one verifies under a trusted key.
    #[serde(default)]
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature in an [`Envelope`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeSignature {
    /// Which publisher key made it.
    pub keyid: String,
    /// The Ed25519 signature over the PAE, standard base64.
    pub sig: String,
}

/// A verified payload, with who signed it and its SHA-256.
#[derive(Clone, Debug)]
pub struct VerifiedPayload {
    /// The payload bytes exactly as signed.
    pub bytes: Vec<u8>,
    /// The trusted key that verified it.
    pub key_id: String,
    /// Lowercase hex SHA-256 of the payload bytes: the content's identity, whoever signed it.
    pub payload_sha256: String,
}

/// The header fields every pack payload carries, checked the same way for every kind.
#[derive(Clone, Copy, Debug)]
pub struct PackHeader<'a> {
    /// `station` or `training`, for messages.
    pub kind: &'a str,
    /// The payload's `format` field.
    pub format: &'a str,
    /// The `format` this kind must have.
    pub expected_format: &'a str,
    /// The payload's `format_version`.
    pub format_version: u32,
    /// The newest `format_version` this build reads.
    pub max_format_version: u32,
    /// The payload's `pack_id`.
    pub pack_id: &'a str,
    /// The payload's `version`.
    pub version: u64,
}

impl PackHeader<'_> {
    /// Refuses a wrong format, an unsupported format version, a malformed pack id or an
    /// out-of-range version, naming the field.
    pub fn check(&self) -> Result<()> {
        if self.format != self.expected_format {
            return Err(Error::pack(format!(
                "payload format is '{}', expected '{}'",
                self.format.chars().take(80).collect::<String>(),
                self.expected_format
            )));
        }
        if self.format_version == 0 || self.format_version > self.max_format_version {
            return Err(Error::pack(format!(
                "{} pack format version {} is not supported (this build reads up to {})",
                self.kind, self.format_version, self.max_format_version
            )));
        }
        let id_ok = !self.pack_id.is_empty()
            && self.pack_id.len() <= 64
            && self
                .pack_id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !id_ok {
            return Err(Error::pack(format!(
                "pack_id '{}' must be 1-64 lowercase letters, digits or dashes",
                self.pack_id.chars().take(80).collect::<String>()
            )));
        }
        if self.version == 0 || self.version > i64::MAX as u64 {
            return Err(Error::pack(format!(
                "pack version {} is out of range",
                self.version
            )));
        }
        Ok(())
    }
}

/// A pack's version as the API shows it (`i64`: a Kotlin `Long`). `validate` refuses versions
/// above `i64::MAX`, so the saturation never happens.
pub(crate) fn version_number(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(i64::MAX)
}

/// How an incoming pack relates to what is installed under its pack id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Installed {
    /// Nothing is installed under this id.
    Nothing,
    /// An older version is installed; the incoming pack replaces it.
    Older(i64),
    /// This exact payload is installed already: nothing to do.
    Same(i64),
}

/// Looks up the installed pack with `pack_id` inside the import transaction and applies the
/// rules every kind shares: the id must belong to the same kind, an older version is refused,
/// and the installed version number may not be reused for other content.
pub fn check_installed(
    conn: &rusqlite::Connection,
    kind: &str,
    pack_id: &str,
    version: u64,
    payload_sha256: &str,
) -> Result<Installed> {
    use rusqlite::OptionalExtension;
    let existing: Option<(i64, String, String)> = conn
        .query_row(
            "SELECT version, sha256, kind FROM packs WHERE pack_id = ?1",
            [pack_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((installed, sha, installed_kind)) = existing else {
        return Ok(Installed::Nothing);
    };
    if installed_kind != kind {
        return Err(Error::pack(format!(
            "pack id '{pack_id}' is already installed as a {installed_kind} pack"
        )));
    }
    let version = version_number(version);
    if version == installed && sha == payload_sha256 {
        return Ok(Installed::Same(installed));
    }
    if version < installed {
        return Err(Error::pack(format!(
            "pack '{pack_id}' version {version} is older than the installed version {installed}"
        )));
    }
    if version == installed {
        return Err(Error::pack(format!(
            "pack '{pack_id}' version {installed} is already installed with different content; \
             the publisher must bump the version"
        )));
    }
    Ok(Installed::Older(installed))
}

/// What the `packs` table records about an installed pack.
#[derive(Clone, Copy, Debug)]
pub struct PackRecord<'a> {
    /// `stations` or `training`.
    pub kind: &'a str,
    /// Pack id.
    pub pack_id: &'a str,
    /// Version being installed.
    pub version: u64,
    /// Publisher named in the payload.
    pub publisher: &'a str,
    /// When the publisher built it.
    pub created: chrono::DateTime<chrono::Utc>,
    /// Whether positions are synthetic.
    pub synthetic: bool,
    /// Notice text.
    pub notice: Option<&'a str>,
}

/// Records (inserts or replaces) an installed pack inside the import transaction.
pub fn record_installed(
    conn: &rusqlite::Connection,
    pack: &PackRecord<'_>,
    verified: &VerifiedPayload,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    use chrono::SecondsFormat;
    conn.execute(
        "INSERT INTO packs (pack_id, kind, version, publisher, key_id, created_at, sha256, \
         installed_at, synthetic, notice) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
         ON CONFLICT(pack_id) DO UPDATE SET version = excluded.version, \
         publisher = excluded.publisher, key_id = excluded.key_id, \
         created_at = excluded.created_at, sha256 = excluded.sha256, \
         installed_at = excluded.installed_at, synthetic = excluded.synthetic, \
         notice = excluded.notice",
        rusqlite::params![
            pack.pack_id,
            pack.kind,
            pack.version as i64,
            pack.publisher,
            verified.key_id,
            pack.created.to_rfc3339_opts(SecondsFormat::Secs, true),
            verified.payload_sha256,
            now.to_rfc3339_opts(SecondsFormat::Secs, true),
            pack.synthetic,
            pack.notice,
        ],
    )?;
    Ok(())
}

/// DSSE v1 pre-authentication encoding: what the signature actually covers.
fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest.iter() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Signs `payload` as a pack of type `payload_type` and returns the envelope file's bytes.
pub fn seal(payload: &[u8], payload_type: &str, key: &PublisherKeyPair) -> Result<Vec<u8>> {
    let sig: Signature = key.signing_key().sign(&pae(payload_type, payload));
    let env = Envelope {
        payload_type: payload_type.to_string(),
        payload: B64.encode(payload),
        signatures: vec![EnvelopeSignature {
            keyid: key.key_id.clone(),
            sig: B64.encode(sig.to_bytes()),
        }],
    };
    let mut out = serde_json::to_vec_pretty(&env).map_err(|e| Error::Internal(e.to_string()))?;
    out.push(b'\n');
    Ok(out)
}

/// Opens an envelope: checks its size, shape and type, and verifies a signature under one of
/// the `trusted` keys. Refuses unsigned, forged, tampered, truncated and oversized packs with a
/// message that says which.
pub fn open(
    bytes: &[u8],
    expected_type: &str,
    trusted: &[TrustedKey],
    max_bytes: usize,
) -> Result<VerifiedPayload> {
    if bytes.len() > max_bytes {
        return Err(Error::pack(format!(
            "pack is {} bytes, more than the limit of {max_bytes} bytes",
            bytes.len()
        )));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::pack("pack file is empty"));
    }
    let env: Envelope = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_eof() {
            Error::pack(format!("pack is truncated: the JSON ends early ({e})"))
        } else {
            Error::pack(format!("pack is not a signed pack envelope: {e}"))
        }
    })?;
    if env.payload_type != expected_type {
        return Err(Error::pack(format!(
            "pack has payload type '{}', expected '{expected_type}'",
            shown(&env.payload_type, 80)
        )));
    }
    if env.signatures.len() > MAX_SIGNATURES {
        return Err(Error::pack(format!(
            "pack has {} signatures, more than the limit of {MAX_SIGNATURES}",
            env.signatures.len()
        )));
    }
    let payload = B64
        .decode(env.payload.as_bytes())
        .map_err(|e| Error::pack(format!("pack payload is not valid base64: {e}")))?;
    if env.signatures.is_empty() {
        return Err(Error::pack("pack is unsigned: it has no signatures"));
    }
    let message = pae(&env.payload_type, &payload);
    let mut reasons = Vec::new();
    for s in &env.signatures {
        let keyid = shown(&s.keyid, 80);
        let Some(key) = trusted.iter().find(|k| k.key_id == s.keyid) else {
            reasons.push(format!("key '{keyid}' is not a trusted publisher key"));
            continue;
        };
        let sig_bytes = match B64.decode(s.sig.as_bytes()) {
            Ok(b) => b,
            Err(_) => {
                reasons.push(format!("signature by '{keyid}' is not valid base64"));
                continue;
            }
        };
        let Ok(sig_arr) = <[u8; 64]>::try_from(sig_bytes.as_slice()) else {
            reasons.push(format!("signature by '{keyid}' is not 64 bytes long"));
            continue;
        };
        let sig = Signature::from_bytes(&sig_arr);
        match key.verifying_key().verify_strict(&message, &sig) {
            Ok(()) => {
                return Ok(VerifiedPayload {
                    payload_sha256: sha256_hex(&payload),
                    bytes: payload,
                    key_id: key.key_id.clone(),
                });
            }
            Err(_) => reasons.push(format!(
                "signature by '{keyid}' does not match the payload (forged or tampered)"
            )),
        }
    }
    Err(Error::pack(format!(
        "no valid signature: {}",
        reasons.join("; ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPE: &str = "application/vnd.waystation.test+json";

    fn setup() -> (PublisherKeyPair, Vec<TrustedKey>) {
        let kp = PublisherKeyPair::from_seed("test-key", [7u8; 32]);
        let trusted = vec![kp.trusted_key()];
        (kp, trusted)
    }

    #[test]
    fn seal_then_open_round_trips() {
        let (kp, trusted) = setup();
        let sealed = seal(br#"{"hello":"world"}"#, TYPE, &kp).unwrap();
        let v = open(&sealed, TYPE, &trusted, 1 << 20).unwrap();
        assert_eq!(v.bytes, br#"{"hello":"world"}"#);
        assert_eq!(v.key_id, "test-key");
        assert_eq!(v.payload_sha256, sha256_hex(br#"{"hello":"world"}"#));
    }

    #[test]
    fn a_pack_with_more_signatures_than_the_limit_is_refused_before_any_is_verified() {
        let (kp, trusted) = setup();
        let sealed = seal(b"{}", TYPE, &kp).unwrap();
        let mut env: Envelope = serde_json::from_slice(&sealed).unwrap();
        // 100,000 signatures under the trusted key id: each would cost a verification.
        let bogus = EnvelopeSignature {
            keyid: kp.key_id.clone(),
            sig: B64.encode([1u8; 64]),
        };
        env.signatures = vec![bogus; 100_000];
        let bytes = serde_json::to_vec(&env).unwrap();
        let err = open(&bytes, TYPE, &trusted, DEFAULT_MAX_PACK_BYTES)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("100000 signatures, more than the limit of 8"),
            "{}",
            shown(&err, 200)
        );
        // Up to the limit, a good signature after bad ones still opens the pack.
        let good = env.signatures[0].clone();
        let mut env: Envelope = serde_json::from_slice(&sealed).unwrap();
        let real = env.signatures.remove(0);
        env.signatures = vec![good; MAX_SIGNATURES - 1];
        env.signatures.push(real);
        assert!(open(&serde_json::to_vec(&env).unwrap(), TYPE, &trusted, 1 << 20).is_ok());
    }

    #[test]
    fn refusals_echo_at_most_80_characters_of_a_key_id_or_payload_type() {
        let (kp, trusted) = setup();
        let sealed = seal(b"{}", TYPE, &kp).unwrap();
        let mut env: Envelope = serde_json::from_slice(&sealed).unwrap();
        env.signatures[0].keyid = format!("{}\n", "k".repeat(1 << 20));
        let err = open(&serde_json::to_vec(&env).unwrap(), TYPE, &trusted, 1 << 22)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not a trusted publisher key"),
            "{}",
            shown(&err, 200)
        );
        assert!(err.len() < 300, "{} characters", err.len());
        let mut env: Envelope = serde_json::from_slice(&sealed).unwrap();
        env.payload_type = "t".repeat(1 << 20);
        let err = open(&serde_json::to_vec(&env).unwrap(), TYPE, &trusted, 1 << 22)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("expected 'application/"),
            "{}",
            shown(&err, 200)
        );
        assert!(err.len() < 300, "{} characters", err.len());
    }

    #[test]
    fn demo_key_is_valid_and_matches_the_key_file() {
        let k = demo_trusted_key();
        let file =
            PublisherKeyPair::from_json(include_bytes!("../../../data/keys/demo-publisher.json"))
                .unwrap();
        assert_eq!(file.key_id, k.key_id);
        assert_eq!(file.public_key, k.public_key_b64());
    }

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // From the DSSE protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn refusals_name_the_problem() {
        let (kp, trusted) = setup();
        let sealed = seal(b"{}", TYPE, &kp).unwrap();
        let mut env: Envelope = serde_json::from_slice(&sealed).unwrap();

        // tampered payload
        let mut t = env.clone();
        t.payload = B64.encode(b"{\"x\":1}");
        let err = open(&serde_json::to_vec(&t).unwrap(), TYPE, &trusted, 1 << 20).unwrap_err();
        assert!(err.to_string().contains("forged or tampered"), "{err}");

        // wrong payload type (the signature also covers the type)
        let err = open(&sealed, "application/other", &trusted, 1 << 20).unwrap_err();
        assert!(
            err.to_string().contains("expected 'application/other'"),
            "{err}"
        );

        // untrusted key
        let other = PublisherKeyPair::from_seed("other", [9u8; 32]);
        let err = open(&sealed, TYPE, &[other.trusted_key()], 1 << 20).unwrap_err();
        assert!(
            err.to_string().contains("not a trusted publisher key"),
            "{err}"
        );

        // forged: right key id, wrong key
        let forged = seal(
            b"{}",
            TYPE,
            &PublisherKeyPair::from_seed("test-key", [1u8; 32]),
        )
        .unwrap();
        let err = open(&forged, TYPE, &trusted, 1 << 20).unwrap_err();
        assert!(err.to_string().contains("forged or tampered"), "{err}");

        // unsigned
        env.signatures.clear();
        let err = open(&serde_json::to_vec(&env).unwrap(), TYPE, &trusted, 1 << 20).unwrap_err();
        assert!(err.to_string().contains("unsigned"), "{err}");

        // truncated
        let err = open(&sealed[..sealed.len() / 2], TYPE, &trusted, 1 << 20).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");

        // huge
        let err = open(&sealed, TYPE, &trusted, 10).unwrap_err();
        assert!(err.to_string().contains("more than the limit"), "{err}");

        // garbage and empty
        let err = open(b"\x00\x01garbage", TYPE, &trusted, 1 << 20).unwrap_err();
        assert!(
            err.to_string().contains("not a signed pack envelope"),
            "{err}"
        );
        let err = open(b"  ", TYPE, &trusted, 1 << 20).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
    }
}
