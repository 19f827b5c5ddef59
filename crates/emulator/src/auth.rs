//! Authentication: the [`Caller`] extractor turns the `Authorization` header into a known, active
//! key allowed from the caller's address, or into Stripe's precise 401.
//!
//! Order, as on Stripe: no key → `no_api_key`; a header with nothing usable (`Bearer`, `null`) →
//! `empty_api_key`; an unknown, deleted or revoked key → `invalid_api_key`; an expired key or
//! rolled-away secret → `api_key_expired`; an address outside the key's allowlist →
//! `ip_not_allowed`. The peer address comes from axum's `ConnectInfo`; a key with an allowlist is
//! refused when the address is unknown.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use rakguard_catalog::key::{self, KeyKind, MaskStyle, Mode};
use rakguard_catalog::permission::Permission;
use rakguard_catalog::stripe_error;

use crate::error::ApiError;
use crate::keys::KeyLookup;
use crate::state::AppState;

/// The authenticated key of a request: a snapshot of the key taken when the request arrived.
/// `Debug` shows the secret masked.
#[derive(Clone)]
pub struct Caller {
    /// The key object's id (`mk_…`).
    pub key_id: String,
    /// The secret as presented (only ever shown masked).
    pub secret: String,
    /// Secret, restricted or publishable.
    pub kind: KeyKind,
    /// Test or live.
    pub mode: Mode,
    /// A restricted key's permissions.
    pub permissions: BTreeSet<Permission>,
    /// A restricted key's Connect permissions, if it has any.
    pub connect_permissions: Option<BTreeSet<Permission>>,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("key_id", &self.key_id)
            .field("secret", &crate::keys::redacted(&self.secret))
            .field("kind", &self.kind)
            .field("mode", &self.mode)
            .field("permissions", &self.permissions)
            .field("connect_permissions", &self.connect_permissions)
            .finish()
    }
}

impl Caller {
    /// The key masked in `style`.
    pub fn masked(&self, style: MaskStyle) -> String {
        key::mask(&self.secret, style)
    }
}

/// What the `Authorization` header carried.
#[derive(Debug, PartialEq, Eq)]
enum Presented {
    /// No key at all.
    Nothing,
    /// A header without a usable key; Stripe quotes this text back.
    Empty(String),
    /// A key to look up.
    Key(String),
}

fn presented(header: Option<&[u8]>) -> Presented {
    let Some(raw) = header else {
        return Presented::Nothing;
    };
    let text = String::from_utf8_lossy(raw);
    let text = text.trim();
    let (scheme, rest) = text.split_once(' ').unwrap_or((text, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        match rest {
            "" => Presented::Empty(text.to_owned()),
            "null" | "undefined" => Presented::Empty(rest.to_owned()),
            key => Presented::Key(key.to_owned()),
        }
    } else if scheme.eq_ignore_ascii_case("basic") {
        let user = decode_base64(rest)
            .and_then(|decoded| String::from_utf8(decoded).ok())
            .map(|credentials| {
                credentials
                    .split_once(':')
                    .map_or(credentials.clone(), |(user, _)| user.to_owned())
            });
        match user {
            Some(user) if !user.is_empty() => Presented::Key(user),
            Some(_) => Presented::Nothing,
            None => Presented::Key(rest.to_owned()),
        }
    } else if text.is_empty() || text == "null" {
        Presented::Empty(text.to_owned())
    } else {
        Presented::Key(text.to_owned())
    }
}

/// Decodes standard base64 (with or without padding); `None` for anything else.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut bits: u32 = 0;
    let mut bit_count = 0;
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for byte in text.trim_end_matches('=').bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        bit_count += 6;
        if bit_count >= 8 {
            bit_count -= 8;
            out.push(((bits >> bit_count) & 0xff) as u8);
        }
    }
    Some(out)
}

/// Unwraps IPv4 addresses carried in IPv6 (`::ffff:1.2.3.4`).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Authenticates a request against the emulator's keys.
pub fn authenticate(
    state: &AppState,
    header: Option<&[u8]>,
    peer: Option<IpAddr>,
) -> Result<Caller, ApiError> {
    let secret = match presented(header) {
        Presented::Nothing => return Err(stripe_error::no_api_key().into()),
        Presented::Empty(shown) => return Err(stripe_error::empty_api_key(&shown).into()),
        Presented::Key(secret) => secret,
    };
    let now = state.clock().now();
    let data = state.read();
    let record = match data.keys.lookup(&secret, now) {
        KeyLookup::Unknown => {
            return Err(
                stripe_error::invalid_api_key(&key::mask(&secret, MaskStyle::InvalidKey)).into(),
            );
        }
        KeyLookup::Expired => {
            return Err(stripe_error::expired_api_key(&key::mask(&secret, MaskStyle::Long)).into());
        }
        KeyLookup::Active(record) => record,
    };
    if !record.spec.allowed_ips.is_empty() {
        let peer = peer.map(canonical);
        let allowed =
            peer.is_some_and(|ip| record.spec.allowed_ips.iter().any(|net| net.contains(&ip)));
        if !allowed {
            let shown = peer.map(|ip| ip.to_string());
            return Err(stripe_error::ip_not_allowed(shown.as_deref()).into());
        }
    }
    Ok(Caller {
        key_id: record.id.clone(),
        secret,
        kind: record.spec.kind,
        mode: record.spec.mode,
        permissions: record.spec.permissions.clone(),
        connect_permissions: record.spec.connect_permissions.clone(),
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .map(|value| value.as_bytes());
        authenticate(state, header, peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_read_like_stripe() {
        let key = |text: &str| presented(Some(text.as_bytes()));
        assert_eq!(presented(None), Presented::Nothing);
        assert_eq!(
            key("Bearer sk_test_x"),
            Presented::Key("sk_test_x".to_owned())
        );
        assert_eq!(
            key("bearer   sk_test_x "),
            Presented::Key("sk_test_x".to_owned())
        );
        assert_eq!(key("Bearer"), Presented::Empty("Bearer".to_owned()));
        assert_eq!(key("Bearer null"), Presented::Empty("null".to_owned()));
        assert_eq!(key(""), Presented::Empty(String::new()));
        // "sk_test_x:" in base64.
        assert_eq!(
            key("Basic c2tfdGVzdF94Og=="),
            Presented::Key("sk_test_x".to_owned())
        );
        // ":" in base64: no user.
        assert_eq!(key("Basic Og=="), Presented::Nothing);
    }

    #[test]
    fn base64_decodes_with_and_without_padding() {
        assert_eq!(decode_base64("aGk="), Some(b"hi".to_vec()));
        assert_eq!(decode_base64("aGk"), Some(b"hi".to_vec()));
        assert_eq!(decode_base64("a*b"), None);
    }
}
