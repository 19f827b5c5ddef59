//! API tokens for the integrator's backend, and signed short-lived links and CSRF tokens for the
//! hosted connect page.
//!
//! **API tokens** look like `rgk_` followed by 40 base62 characters (about 238 bits of entropy).
//! Only their SHA-256 ([`hash_token`]) is stored, with a public id (`tok_…`) and a hint
//! (`rgk_AbCd…wxyz`) for listings; the token itself is shown once, at creation. A presented token
//! is checked with [`check_format`] (cheap, precise errors that never echo the token) and then
//! looked up by hash, compared with [`hashes_equal`] (constant time).
//!
//! **Signed links** ([`Signer::sign`], like Stripe's account links) carry a payload and an expiry,
//! authenticated with HMAC-SHA256: `base64url(payload) "." expiry "." base64url(mac)`, URL-safe as
//! is. **CSRF tokens** ([`Signer::csrf_token`]) are bound to a session string, valid for
//! [`CSRF_TTL_SECS`], and never contain the session itself. Links and CSRF tokens use separate
//! MAC domains, so neither can stand in for the other.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac as _};
use rand::Rng as _;
use secrecy::SecretString;
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

/// Every rakguard API token starts with this.
pub const TOKEN_PREFIX: &str = "rgk_";
/// Number of random base62 characters after [`TOKEN_PREFIX`].
pub const TOKEN_RANDOM_LEN: usize = 40;
/// Total length of an API token.
pub const TOKEN_LEN: usize = TOKEN_PREFIX.len() + TOKEN_RANDOM_LEN;
/// Every API token id starts with this.
pub const TOKEN_ID_PREFIX: &str = "tok_";
/// Number of random base62 characters after [`TOKEN_ID_PREFIX`].
pub const TOKEN_ID_RANDOM_LEN: usize = 16;
/// How long a CSRF token stays valid, in seconds (2 hours).
pub const CSRF_TTL_SECS: i64 = 2 * 60 * 60;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const LINK_DOMAIN: &[u8] = b"rakguard-link-v1\0";
const CSRF_DOMAIN: &[u8] = b"rakguard-csrf-v1\0";
const MAC_LEN: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// The rakguard API token scheme; [`ApiToken::generate`] makes new tokens.
#[derive(Debug)]
#[non_exhaustive]
pub struct ApiToken;

/// A freshly generated API token: show [`NewToken::token`] once, store the rest.
///
/// `Debug` redacts the token.
#[derive(Debug)]
pub struct NewToken {
    /// The token (`rgk_` + 40 base62 characters). Never stored.
    pub token: SecretString,
    /// Its public id (`tok_` + 16 base62 characters).
    pub id: String,
    /// Hex SHA-256 of the full token ([`hash_token`]): what is stored and looked up.
    pub hash: String,
    /// A recognisable, non-secret hint such as `rgk_AbCd…wxyz` (first and last 4 random
    /// characters) for listings.
    pub hint: String,
}

impl ApiToken {
    /// Generates a new random token with its id, hash and hint.
    #[must_use]
    pub fn generate() -> NewToken {
        let random = random_base62(TOKEN_RANDOM_LEN);
        let mut token = Zeroizing::new(String::with_capacity(TOKEN_LEN));
        token.push_str(TOKEN_PREFIX);
        token.push_str(&random);
        let hint = format!(
            "{TOKEN_PREFIX}{}…{}",
            &random[..4],
            &random[TOKEN_RANDOM_LEN - 4..]
        );
        let id = format!(
            "{TOKEN_ID_PREFIX}{}",
            random_base62(TOKEN_ID_RANDOM_LEN).as_str()
        );
        NewToken {
            hash: hash_token(&token),
            token: SecretString::from(token.as_str()),
            id,
            hint,
        }
    }
}

/// Hex SHA-256 of the full token, as stored.
#[must_use]
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Compares two byte strings in time that depends only on their lengths.
#[must_use]
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

/// Compares two token hashes (or any two strings) in constant time.
#[must_use]
pub fn hashes_equal(a: &str, b: &str) -> bool {
    constant_time_eq(a.as_bytes(), b.as_bytes())
}

/// Whether `token` hashes to `stored_hash`, compared in constant time.
#[must_use]
pub fn token_matches(token: &str, stored_hash: &str) -> bool {
    hashes_equal(&hash_token(token), stored_hash)
}

/// Why a presented API token (or `Authorization` header) was refused. Messages say how to fix it
/// and never contain the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// No token at all.
    #[error(
        "no API token was given; send your rakguard API token as `Authorization: Bearer rgk_…`"
    )]
    Missing,
    /// The `Authorization` header does not use the Bearer scheme.
    #[error("the Authorization header must use the Bearer scheme: `Authorization: Bearer rgk_…`")]
    NotBearer,
    /// A Stripe API key was sent where a rakguard API token belongs.
    #[error(
        "this is a Stripe API key, not a rakguard API token; authenticate with your rakguard API \
         token (`rgk_…`) and never send Stripe keys in this header"
    )]
    StripeKey,
    /// The token does not start with `rgk_`.
    #[error("rakguard API tokens start with `rgk_`; check that you copied the whole token")]
    Prefix,
    /// The token contains characters other than letters and digits after its prefix.
    #[error(
        "rakguard API tokens contain only letters and digits after `rgk_`; check for quotes, \
         spaces or line breaks copied along with the token"
    )]
    Charset,
    /// The token has the wrong length.
    #[error(
        "rakguard API tokens are {TOKEN_LEN} characters long (`rgk_` and {TOKEN_RANDOM_LEN} \
         letters and digits), this one has {len}; copy the whole token again"
    )]
    Length {
        /// The presented token's length in characters.
        len: usize,
    },
}

impl TokenError {
    /// A stable, machine-readable code for API error bodies.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing => "token_missing",
            Self::NotBearer => "auth_scheme_not_bearer",
            Self::StripeKey => "token_is_stripe_key",
            Self::Prefix => "token_prefix",
            Self::Charset => "token_charset",
            Self::Length { .. } => "token_length",
        }
    }
}

/// Checks that `token` looks like a rakguard API token (prefix, characters, length) before any
/// lookup.
///
/// # Errors
///
/// The first problem found, as a [`TokenError`].
pub fn check_format(token: &str) -> Result<(), TokenError> {
    if token.is_empty() {
        return Err(TokenError::Missing);
    }
    let Some(random) = token.strip_prefix(TOKEN_PREFIX) else {
        let stripe = ["sk_", "rk_", "pk_"]
            .iter()
            .any(|prefix| token.starts_with(prefix));
        return Err(if stripe {
            TokenError::StripeKey
        } else {
            TokenError::Prefix
        });
    };
    if !random.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(TokenError::Charset);
    }
    if token.len() != TOKEN_LEN {
        return Err(TokenError::Length { len: token.len() });
    }
    Ok(())
}

/// Extracts the token from an `Authorization` header value (`Bearer rgk_…`; the scheme is
/// case-insensitive and surrounding whitespace is ignored) and checks its format.
///
/// # Errors
///
/// [`TokenError::Missing`] for an empty value, [`TokenError::NotBearer`] for another scheme (or a
/// bare token), otherwise as [`check_format`].
pub fn bearer(header_value: &str) -> Result<&str, TokenError> {
    let value = header_value.trim();
    if value.is_empty() {
        return Err(TokenError::Missing);
    }
    let Some((scheme, token)) = value.split_once(|c: char| c.is_ascii_whitespace()) else {
        return Err(if value.eq_ignore_ascii_case("bearer") {
            TokenError::Missing
        } else {
            TokenError::NotBearer
        });
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(TokenError::NotBearer);
    }
    let token = token.trim();
    check_format(token)?;
    Ok(token)
}

/// Why a signed link was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// Not of the form `payload.expiry.signature`.
    #[error("this link is malformed; check that it was copied completely, or ask for a new one")]
    Malformed,
    /// The signature does not match (altered, or signed with another secret).
    #[error("this link is not valid; ask for a new one")]
    BadSignature,
    /// Authentic, but past its expiry.
    #[error("this link has expired; ask for a new one")]
    Expired,
}

/// Signs and verifies short-lived links and CSRF tokens with a 256-bit secret (HMAC-SHA256).
///
/// `Debug` hides the secret; it is zeroized on drop.
#[derive(Clone)]
pub struct Signer {
    secret: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer { .. }")
    }
}

impl Signer {
    /// A signer with this secret (share it between instances that verify each other's links).
    #[must_use]
    pub fn new(secret: [u8; 32]) -> Self {
        Self {
            secret: Zeroizing::new(secret),
        }
    }

    /// A signer with a fresh random secret (links do not survive a restart).
    #[must_use]
    pub fn generate() -> Self {
        let mut secret = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(secret.as_mut_slice());
        Self { secret }
    }

    /// HMAC-SHA256 keyed with the secret, started with a domain tag.
    fn mac(&self, domain: &[u8]) -> HmacSha256 {
        // HMAC pads keys shorter than the block (64 bytes) with zeros (RFC 2104), so passing the
        // padded key to the infallible constructor is the same as HMAC with the 32-byte secret.
        let mut key = Zeroizing::new([0u8; 64]);
        key[..32].copy_from_slice(self.secret.as_slice());
        let mut mac = <HmacSha256 as hmac::Mac>::new((&*key).into());
        mac.update(domain);
        mac
    }

    fn link_mac(&self, payload_b64: &str, expiry: &str) -> HmacSha256 {
        let mut mac = self.mac(LINK_DOMAIN);
        mac.update(payload_b64.as_bytes());
        mac.update(b".");
        mac.update(expiry.as_bytes());
        mac
    }

    fn csrf_mac(&self, session: &str, expiry: &str) -> HmacSha256 {
        let mut mac = self.mac(CSRF_DOMAIN);
        // The expiry is all digits (or a sign), so the separator keeps the input unambiguous.
        mac.update(expiry.as_bytes());
        mac.update(b"\n");
        mac.update(session.as_bytes());
        mac
    }

    /// A URL-safe token carrying `payload` until `expires_at_unix` (exclusive):
    /// `base64url(payload) "." expires_at_unix "." base64url(HMAC-SHA256)`.
    ///
    /// The payload is authenticated, not encrypted: anyone holding the link can read it.
    #[must_use]
    pub fn sign(&self, payload: &str, expires_at_unix: i64) -> String {
        let payload_b64 = URL_SAFE_NO_PAD.encode(payload);
        let expiry = expires_at_unix.to_string();
        let tag = self.link_mac(&payload_b64, &expiry).finalize().into_bytes();
        format!("{payload_b64}.{expiry}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// Checks a token from [`Signer::sign`] and returns its payload. The signature is checked (in
    /// constant time) before the expiry, so [`LinkError::Expired`] means the link was authentic.
    /// A link is valid while `now_unix < expires_at_unix`.
    ///
    /// # Errors
    ///
    /// [`LinkError::Malformed`], [`LinkError::BadSignature`] or [`LinkError::Expired`].
    pub fn verify(&self, token: &str, now_unix: i64) -> Result<String, LinkError> {
        let mut parts = token.split('.');
        let (Some(payload_b64), Some(expiry), Some(tag_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(LinkError::Malformed);
        };
        let expires_at: i64 = expiry.parse().map_err(|_| LinkError::Malformed)?;
        let tag = decode_tag(tag_b64).ok_or(LinkError::Malformed)?;
        self.link_mac(payload_b64, expiry)
            .verify_slice(&tag)
            .map_err(|_| LinkError::BadSignature)?;
        if now_unix >= expires_at {
            return Err(LinkError::Expired);
        }
        let payload = URL_SAFE_NO_PAD
            .decode(payload_b64)
            .map_err(|_| LinkError::Malformed)?;
        String::from_utf8(payload).map_err(|_| LinkError::Malformed)
    }

    /// A CSRF token for `session`, valid for [`CSRF_TTL_SECS`] from `now_unix`:
    /// `expiry "." base64url(HMAC-SHA256(expiry, session))`. The session string is not in it.
    #[must_use]
    pub fn csrf_token(&self, session: &str, now_unix: i64) -> String {
        let expiry = now_unix.saturating_add(CSRF_TTL_SECS).to_string();
        let tag = self.csrf_mac(session, &expiry).finalize().into_bytes();
        format!("{expiry}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// Whether `token` is a CSRF token from [`Signer::csrf_token`] for this `session` that has not
    /// expired at `now_unix` (constant-time MAC check).
    #[must_use]
    pub fn check_csrf(&self, token: &str, session: &str, now_unix: i64) -> bool {
        let Some((expiry, tag_b64)) = token.split_once('.') else {
            return false;
        };
        let Ok(expires_at) = expiry.parse::<i64>() else {
            return false;
        };
        let Some(tag) = decode_tag(tag_b64) else {
            return false;
        };
        self.csrf_mac(session, expiry).verify_slice(&tag).is_ok() && now_unix < expires_at
    }
}

/// Decodes a base64url MAC, refusing anything of the wrong size before decoding.
fn decode_tag(tag_b64: &str) -> Option<Vec<u8>> {
    if tag_b64.len() != 43 {
        return None;
    }
    let tag = URL_SAFE_NO_PAD.decode(tag_b64).ok()?;
    (tag.len() == MAC_LEN).then_some(tag)
}

/// `len` uniformly random base62 characters (rejection sampling over random bytes).
fn random_base62(len: usize) -> Zeroizing<String> {
    let mut rng = rand::rng();
    let mut out = Zeroizing::new(String::with_capacity(len));
    let mut buffer = Zeroizing::new([0u8; 64]);
    while out.len() < len {
        rng.fill_bytes(buffer.as_mut_slice());
        for &byte in buffer.iter() {
            // 248 = 4 × 62: accepting only bytes below it keeps every character equally likely.
            if byte < 248 && out.len() < len {
                out.push(char::from(BASE62[usize::from(byte % 62)]));
            }
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use secrecy::ExposeSecret as _;

    const NOW: i64 = 1_750_000_000;

    fn signer() -> Signer {
        Signer::new([42u8; 32])
    }

    #[test]
    fn generated_tokens_have_the_documented_shape() {
        let new = ApiToken::generate();
        let token = new.token.expose_secret();
        assert_eq!(token.len(), TOKEN_LEN);
        assert!(token.starts_with("rgk_"));
        assert_eq!(check_format(token), Ok(()));
        assert_eq!(new.hash, hash_token(token));
        assert_eq!(new.hash.len(), 64);
        assert!(new.id.starts_with("tok_"));
        assert_eq!(new.id.len(), 4 + TOKEN_ID_RANDOM_LEN);
        assert!(new.id[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(
            new.hint,
            format!("rgk_{}…{}", &token[4..8], &token[TOKEN_LEN - 4..])
        );
        assert!(token_matches(token, &new.hash));
        assert!(!token_matches(&token.replace("rgk_", "rgk_x"), &new.hash));

        let debug = format!("{new:?}");
        assert!(!debug.contains(token), "{debug}");
        assert!(!debug.contains(&token[4..]), "{debug}");

        let other = ApiToken::generate();
        assert_ne!(other.token.expose_secret(), token);
        assert_ne!(other.id, new.id);
    }

    #[test]
    fn hash_is_hex_sha256() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(hashes_equal(&hash_token("x"), &hash_token("x")));
        assert!(!hashes_equal(&hash_token("x"), &hash_token("y")));
    }

    #[test]
    fn format_errors() {
        let good = format!("rgk_{}", "a".repeat(40));
        assert_eq!(check_format(&good), Ok(()));
        assert_eq!(check_format(""), Err(TokenError::Missing));
        assert_eq!(check_format("sk_live_abcdef"), Err(TokenError::StripeKey));
        assert_eq!(check_format("rk_test_abcdef"), Err(TokenError::StripeKey));
        assert_eq!(check_format("xyz_abcdef"), Err(TokenError::Prefix));
        assert_eq!(check_format("RGK_abc"), Err(TokenError::Prefix));
        assert_eq!(
            check_format(&good[..30]),
            Err(TokenError::Length { len: 30 })
        );
        assert_eq!(
            check_format(&format!("{good}a")),
            Err(TokenError::Length { len: 45 })
        );
        assert_eq!(check_format(&format!("{good}\n")), Err(TokenError::Charset));
        assert_eq!(
            check_format(&format!("rgk_{}-", "a".repeat(39))),
            Err(TokenError::Charset)
        );
        assert_eq!(
            check_format(&format!("rgk_{}é", "a".repeat(38))),
            Err(TokenError::Charset)
        );
    }

    #[test]
    fn errors_have_codes_and_fixes_but_never_the_token() {
        let bad = format!("rgk_{}", "Q".repeat(39));
        let error = check_format(&bad).unwrap_err();
        assert_eq!(error.code(), "token_length");
        let message = error.to_string();
        assert!(message.contains("copy the whole token"), "{message}");
        assert!(!message.contains(&bad[4..]), "{message}");
        for error in [
            TokenError::Missing,
            TokenError::NotBearer,
            TokenError::StripeKey,
            TokenError::Prefix,
            TokenError::Charset,
            TokenError::Length { len: 3 },
        ] {
            assert!(!error.code().is_empty());
            assert!(error.to_string().contains("rgk_"), "{error}");
        }
    }

    #[test]
    fn bearer_header_parsing() {
        let good = format!("rgk_{}", "b".repeat(40));
        assert_eq!(bearer(&format!("Bearer {good}")), Ok(good.as_str()));
        assert_eq!(bearer(&format!("bearer  {good} ")), Ok(good.as_str()));
        assert_eq!(bearer(&format!("BEARER\t{good}")), Ok(good.as_str()));
        assert_eq!(bearer(""), Err(TokenError::Missing));
        assert_eq!(bearer("Bearer"), Err(TokenError::Missing));
        assert_eq!(bearer("Bearer   "), Err(TokenError::Missing));
        assert_eq!(bearer(&good), Err(TokenError::NotBearer));
        assert_eq!(bearer(&format!("Basic {good}")), Err(TokenError::NotBearer));
        assert_eq!(bearer("Bearer sk_live_x"), Err(TokenError::StripeKey));
        assert_eq!(
            bearer(&format!("Bearer {good} extra")),
            Err(TokenError::Charset)
        );
    }

    #[test]
    fn hmac_with_padded_key_is_standard_hmac() {
        let signer = signer();
        let mut ours = signer.mac(b"");
        ours.update(b"message");
        let mut standard = <HmacSha256 as hmac::digest::KeyInit>::new_from_slice(&[42u8; 32])
            .expect("any key length");
        standard.update(b"message");
        assert_eq!(
            ours.finalize().into_bytes(),
            standard.finalize().into_bytes()
        );
    }

    #[test]
    fn link_round_trip_and_shape() {
        let signer = signer();
        let token = signer.sign("conn_123|tenant_9", NOW + 600);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            "{token}"
        );
        assert_eq!(token.split('.').count(), 3);
        assert_eq!(signer.verify(&token, NOW).unwrap(), "conn_123|tenant_9");
        assert_eq!(signer.verify(&signer.sign("", NOW + 1), NOW).unwrap(), "");
    }

    #[test]
    fn link_expiry_boundary() {
        let signer = signer();
        let token = signer.sign("p", NOW);
        assert_eq!(signer.verify(&token, NOW - 1).unwrap(), "p");
        assert_eq!(signer.verify(&token, NOW), Err(LinkError::Expired));
        assert_eq!(signer.verify(&token, NOW + 1), Err(LinkError::Expired));
    }

    #[test]
    fn link_tampering_fails() {
        let signer = signer();
        let token = signer.sign("conn_123", NOW + 600);
        let parts: Vec<&str> = token.split('.').collect();
        let (payload, expiry, tag) = (parts[0], parts[1], parts[2]);

        let other_payload = URL_SAFE_NO_PAD.encode("conn_124");
        let forged = format!("{other_payload}.{expiry}.{tag}");
        assert_eq!(signer.verify(&forged, NOW), Err(LinkError::BadSignature));

        let later = format!("{payload}.{}.{tag}", NOW + 6000);
        assert_eq!(signer.verify(&later, NOW), Err(LinkError::BadSignature));
        let not_a_number = format!("{payload}.soon.{tag}");
        assert_eq!(signer.verify(&not_a_number, NOW), Err(LinkError::Malformed));

        let mut bad_tag = tag.to_owned();
        let first = if bad_tag.starts_with('A') { "B" } else { "A" };
        bad_tag.replace_range(..1, first);
        let forged = format!("{payload}.{expiry}.{bad_tag}");
        assert_eq!(signer.verify(&forged, NOW), Err(LinkError::BadSignature));
        let forged = format!("{payload}.{expiry}.{}", &tag[..42]);
        assert_eq!(signer.verify(&forged, NOW), Err(LinkError::Malformed));
        let forged = format!("{payload}.{expiry}.{tag}=");
        assert_eq!(signer.verify(&forged, NOW), Err(LinkError::Malformed));

        for malformed in ["", "a", "a.b", "a.1.b.c", "..", &format!("{token}.")] {
            assert_eq!(
                signer.verify(malformed, NOW),
                Err(LinkError::Malformed),
                "{malformed}"
            );
        }

        let other = Signer::new([7u8; 32]);
        assert_eq!(other.verify(&token, NOW), Err(LinkError::BadSignature));
        // An expired link signed by someone else is reported as a bad signature, not as expired.
        assert_eq!(
            other.verify(&token, NOW + 9999),
            Err(LinkError::BadSignature)
        );
    }

    #[test]
    fn csrf_tokens() {
        let signer = signer();
        let token = signer.csrf_token("session-abc", NOW);
        assert!(!token.contains("session-abc"));
        assert!(signer.check_csrf(&token, "session-abc", NOW));
        assert!(signer.check_csrf(&token, "session-abc", NOW + CSRF_TTL_SECS - 1));
        assert!(!signer.check_csrf(&token, "session-abc", NOW + CSRF_TTL_SECS));
        assert!(!signer.check_csrf(&token, "session-abd", NOW));
        assert!(!signer.check_csrf(&token, "", NOW));
        assert!(!Signer::generate().check_csrf(&token, "session-abc", NOW));

        let (expiry, tag) = token.split_once('.').unwrap();
        let extended = format!("{}.{tag}", expiry.parse::<i64>().unwrap() + 3600);
        assert!(!signer.check_csrf(&extended, "session-abc", NOW + CSRF_TTL_SECS));
        for bad in ["", ".", "x.y", &format!("{expiry}."), &format!("{token}x")] {
            assert!(!signer.check_csrf(bad, "session-abc", NOW), "{bad}");
        }

        // Links and CSRF tokens are not interchangeable.
        let link = signer.sign("session-abc", NOW + 100);
        assert!(!signer.check_csrf(&link, "session-abc", NOW));
        let as_link = format!("{}.{token}", URL_SAFE_NO_PAD.encode("session-abc"));
        assert!(signer.verify(&as_link, NOW).is_err());
    }

    #[test]
    fn signer_debug_hides_the_secret() {
        let debug = format!("{:?}", Signer::new([0xAB; 32]));
        assert_eq!(debug, "Signer { .. }");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn prop_link_round_trip(payload in "\\PC{0,100}", expires in any::<i64>(), now in any::<i64>()) {
            let signer = signer();
            let token = signer.sign(&payload, expires);
            let result = signer.verify(&token, now);
            if now < expires {
                prop_assert_eq!(result, Ok(payload));
            } else {
                prop_assert_eq!(result, Err(LinkError::Expired));
            }
        }

        #[test]
        fn prop_link_byte_changes_fail(
            payload in "[a-z0-9_|]{0,40}",
            index: prop::sample::Index,
            replacement in "[A-Za-z0-9_.=+/-]",
        ) {
            let signer = signer();
            let token = signer.sign(&payload, NOW + 60);
            let at = index.index(token.len());
            let mut tampered = token.clone();
            tampered.replace_range(at..=at, &replacement);
            prop_assume!(tampered != token);
            prop_assert!(signer.verify(&tampered, NOW).is_err());
        }

        #[test]
        fn prop_verify_never_panics(token in "\\PC{0,120}") {
            let _ = signer().verify(&token, NOW);
            let _ = signer().check_csrf(&token, "s", NOW);
        }

        #[test]
        fn prop_csrf_round_trip(session in "\\PC{0,60}", now in -(1i64 << 40)..(1i64 << 40)) {
            let signer = signer();
            let token = signer.csrf_token(&session, now);
            prop_assert!(signer.check_csrf(&token, &session, now));
            prop_assert!(signer.check_csrf(&token, &session, now + CSRF_TTL_SECS - 1));
            prop_assert!(!signer.check_csrf(&token, &session, now + CSRF_TTL_SECS));
            let other = format!("{session}x");
            prop_assert!(!signer.check_csrf(&token, &other, now));
        }

        #[test]
        fn prop_generated_tokens_pass_format(_seed in any::<u8>()) {
            let new = ApiToken::generate();
            prop_assert_eq!(check_format(new.token.expose_secret()), Ok(()));
            let header = format!("Bearer {}", new.token.expose_secret());
            prop_assert_eq!(bearer(&header), Ok(new.token.expose_secret()));
        }

        #[test]
        fn prop_check_format_never_echoes(token in "\\PC{0,60}") {
            if let Err(error) = check_format(&token) {
                let message = error.to_string();
                if token.len() >= 6 {
                    prop_assert!(!message.contains(&token));
                }
            }
        }
    }
}
