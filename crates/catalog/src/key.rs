//! Stripe API keys: recognising, validating, classifying and masking them.
//!
//! This module owns everything rakguard knows about the shape of a Stripe key (see section 1 of
//! the fact reference): the accepted prefixes ([`ACCEPTED_PREFIXES`]), the length and character
//! rules, the [`ApiKey`] newtype that holds a validated key as a [`SecretString`], the
//! [`KeyError`] explaining why a pasted value is not a usable key (with a stable
//! [`code`](KeyError::code) and a plain-language [`fix`](KeyError::fix)), and [`mask`], which
//! hides a key the way Stripe does in its error messages.
//!
//! A key leaves an [`ApiKey`] only through [`ApiKey::expose_secret`]; `Debug`, `Display` and
//! every error show masked forms only.
//!
//! ```
//! use rakguard_catalog::key::{ApiKey, KeyKind, Mode};
//!
//! let key: ApiKey = "rk_test_0123456789abcdefghijABCD".parse()?;
//! assert_eq!((key.kind(), key.mode()), (KeyKind::Restricted, Mode::Test));
//! assert_eq!(key.to_string(), "rk_test_…ABCD");
//! assert_eq!(key.masked(), "rk_test_********************ABCD");
//! # Ok::<(), rakguard_catalog::key::KeyError>(())
//! ```

use std::fmt;
use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Prefix of a test-mode restricted key.
pub const RESTRICTED_TEST_PREFIX: &str = "rk_test_";
/// Prefix of a live-mode restricted key.
pub const RESTRICTED_LIVE_PREFIX: &str = "rk_live_";
/// Prefix of a test-mode (unrestricted) secret key.
pub const SECRET_TEST_PREFIX: &str = "sk_test_";
/// Prefix of a live-mode (unrestricted) secret key.
pub const SECRET_LIVE_PREFIX: &str = "sk_live_";
/// Prefix of a test-mode publishable key.
pub const PUBLISHABLE_TEST_PREFIX: &str = "pk_test_";
/// Prefix of a live-mode publishable key.
pub const PUBLISHABLE_LIVE_PREFIX: &str = "pk_live_";

/// Every prefix [`ApiKey::parse`] accepts, with the kind and mode it stands for.
///
/// All of them are [`PREFIX_LEN`] ASCII characters long.
pub const ACCEPTED_PREFIXES: [(&str, KeyKind, Mode); 6] = [
    (RESTRICTED_TEST_PREFIX, KeyKind::Restricted, Mode::Test),
    (RESTRICTED_LIVE_PREFIX, KeyKind::Restricted, Mode::Live),
    (SECRET_TEST_PREFIX, KeyKind::Secret, Mode::Test),
    (SECRET_LIVE_PREFIX, KeyKind::Secret, Mode::Live),
    (PUBLISHABLE_TEST_PREFIX, KeyKind::Publishable, Mode::Test),
    (PUBLISHABLE_LIVE_PREFIX, KeyKind::Publishable, Mode::Live),
];

/// Length in characters of every accepted prefix, such as `rk_test_`.
pub const PREFIX_LEN: usize = 8;

/// Fewest characters accepted after the prefix.
///
/// Legacy keys carry 24 characters after the prefix (32 in all) and current keys 99 (107 in all),
/// so anything shorter is a truncated copy or a placeholder. Notably `sk_test_123`, which
/// stripe-mock accepts, is rejected as [`KeyError::TooShort`].
pub const MIN_BODY_LEN: usize = 24;

/// Most characters accepted after the prefix.
///
/// Stripe only says keys can grow to roughly 128 characters after the prefix; this limit is the
/// 255-character ceiling Stripe gives for ids ([`MAX_KEY_LEN`]) minus the prefix, so that a
/// future, longer key format still parses.
pub const MAX_BODY_LEN: usize = MAX_KEY_LEN - PREFIX_LEN;

/// Most characters accepted for a whole key, prefix included.
pub const MAX_KEY_LEN: usize = 255;

/// Inputs shorter than this (in characters) are masked down to at most their `xx_` prefix.
const SHORT_INPUT_LEN: usize = 12;

/// Stripe mode a key belongs to. The key alone decides the mode of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Test mode (`…_test_`): test data only, no real money moves.
    Test,
    /// Live mode (`…_live_`): real data and real money.
    Live,
}

impl Mode {
    /// The lowercase name used in prefixes, JSON and the CLI: `"test"` or `"live"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Mode::Test => "test",
            Mode::Live => "live",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error from parsing a [`Mode`] from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown mode: expected \"test\" or \"live\"")]
pub struct ParseModeError;

impl FromStr for Mode {
    type Err = ParseModeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "test" => Ok(Mode::Test),
            "live" => Ok(Mode::Live),
            _ => Err(ParseModeError),
        }
    }
}

/// What kind of API key a key is, as told by its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    /// Secret key (`sk_`): full access to the account in its mode.
    Secret,
    /// Restricted key (`rk_`): secret, limited by per-resource permissions.
    Restricted,
    /// Publishable key (`pk_`): meant for browsers and apps, may be public.
    Publishable,
}

impl KeyKind {
    /// The lowercase name used in JSON and the CLI: `"secret"`, `"restricted"`, `"publishable"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyKind::Secret => "secret",
            KeyKind::Restricted => "restricted",
            KeyKind::Publishable => "publishable",
        }
    }

    /// The two-letter part of the prefix: `"sk"`, `"rk"` or `"pk"`.
    pub const fn short_prefix(self) -> &'static str {
        match self {
            KeyKind::Secret => "sk",
            KeyKind::Restricted => "rk",
            KeyKind::Publishable => "pk",
        }
    }

    /// Whether the key must be kept secret (secret and restricted keys).
    pub const fn is_secret(self) -> bool {
        !matches!(self, KeyKind::Publishable)
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error from parsing a [`KeyKind`] from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown key kind: expected \"secret\", \"restricted\" or \"publishable\"")]
pub struct ParseKeyKindError;

impl FromStr for KeyKind {
    type Err = ParseKeyKindError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "secret" => Ok(KeyKind::Secret),
            "restricted" => Ok(KeyKind::Restricted),
            "publishable" => Ok(KeyKind::Publishable),
            _ => Err(ParseKeyKindError),
        }
    }
}

/// The prefix string for a kind and mode, such as `"rk_test_"`.
pub const fn prefix_for(kind: KeyKind, mode: Mode) -> &'static str {
    match (kind, mode) {
        (KeyKind::Restricted, Mode::Test) => RESTRICTED_TEST_PREFIX,
        (KeyKind::Restricted, Mode::Live) => RESTRICTED_LIVE_PREFIX,
        (KeyKind::Secret, Mode::Test) => SECRET_TEST_PREFIX,
        (KeyKind::Secret, Mode::Live) => SECRET_LIVE_PREFIX,
        (KeyKind::Publishable, Mode::Test) => PUBLISHABLE_TEST_PREFIX,
        (KeyKind::Publishable, Mode::Live) => PUBLISHABLE_LIVE_PREFIX,
    }
}

/// Kind and mode of `raw` judged by its prefix alone, without validating the rest and without
/// copying the value into a secret. `None` if it does not start with an accepted prefix.
pub fn classify_prefix(raw: &str) -> Option<(KeyKind, Mode)> {
    ACCEPTED_PREFIXES
        .iter()
        .find(|(prefix, _, _)| raw.starts_with(prefix))
        .map(|&(_, kind, mode)| (kind, mode))
}

/// How to mask a key, following the styles Stripe uses in its error messages.
///
/// Whatever the style, [`mask`] never shows a head and tail that would leave fewer than half of
/// the characters hidden; shorter inputs are masked as described there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MaskStyle {
    /// `Invalid API Key provided:`: first 8 characters, one `*` per hidden character, last 4.
    /// Keeps the length.
    InvalidKey,
    /// `Expired API Key provided:` and the 2021–2025 permission messages: first 8 characters,
    /// one `*` per hidden character, last 6. Keeps the length.
    Long,
    /// 2026 permission messages: first 8 characters, `***`, last 4, such as `sk_test_***qPsl`.
    /// Stripe's exact rule here varies (3 or 4 stars, last 4 to 6); this picks one fixed shape.
    /// Does not keep the length.
    Short,
}

impl MaskStyle {
    /// How many trailing characters the style shows.
    const fn tail_len(self) -> usize {
        match self {
            MaskStyle::InvalidKey | MaskStyle::Short => 4,
            MaskStyle::Long => 6,
        }
    }

    /// Whether every hidden character becomes one `*`.
    const fn keeps_length(self) -> bool {
        !matches!(self, MaskStyle::Short)
    }
}

/// Masks any string in the given Stripe style, counting in characters (never splitting one).
///
/// - Key-, id- or secret-shaped input (an `_` within the first 8 characters, after lowercase
///   letters, as in `rk_live_…` or `pi_1Pi…`) shows its first 8 characters, stars and the
///   style's tail, as Stripe does.
/// - Other input (a password pasted by mistake) shows no head: stars and the tail only.
/// - Input shorter than 12 characters, or too short for the style to hide at least half of it,
///   shows at most its `xx_` prefix (when that is at most half the input) and stars.
///
/// ```
/// use rakguard_catalog::key::{mask, MaskStyle};
///
/// assert_eq!(mask("sk_test_4eC39HqLyjWDarjtT1zdp7dc", MaskStyle::InvalidKey), "sk_test_********************p7dc");
/// assert_eq!(mask("sk_test_4eC39HqLyjWDarjtT1zdp7dc", MaskStyle::Long), "sk_test_******************zdp7dc");
/// assert_eq!(mask("sk_test_4eC39HqLyjWDarjtT1zdp7dc", MaskStyle::Short), "sk_test_***p7dc");
/// assert_eq!(mask("sk_test_123", MaskStyle::InvalidKey), "sk_********");
/// ```
pub fn mask(raw: &str, style: MaskStyle) -> String {
    let length = raw.chars().count();
    let head_len = if looks_prefixed(raw) { PREFIX_LEN } else { 0 };
    let tail_len = style.tail_len();
    if length < SHORT_INPUT_LEN || 2 * (head_len + tail_len) > length {
        return mask_short_input(raw, length, style);
    }
    let star_count = if style.keeps_length() {
        length - head_len - tail_len
    } else {
        3
    };
    let mut masked = String::with_capacity(head_len + star_count + tail_len * 4);
    masked.extend(raw.chars().take(head_len));
    masked.extend(std::iter::repeat_n('*', star_count));
    masked.extend(raw.chars().skip(length - tail_len));
    masked
}

/// Whether `raw` starts like a Stripe key, id or secret: lowercase ASCII letters, then `_`,
/// within the first [`PREFIX_LEN`] characters.
fn looks_prefixed(raw: &str) -> bool {
    lowercase_prefix(raw).is_some_and(|prefix| prefix.len() <= PREFIX_LEN)
}

/// The leading `letters_` part of `raw`, if it has one (`"rk_"` for `"rk_test_…"`).
fn lowercase_prefix(raw: &str) -> Option<&str> {
    let underscore = raw.find('_')?;
    let letters = raw.get(..underscore)?;
    if letters.is_empty() || !letters.bytes().all(|byte| byte.is_ascii_lowercase()) {
        return None;
    }
    raw.get(..=underscore)
}

/// Masks input too short for the style's head and tail: at most the `xx_` prefix, then stars.
fn mask_short_input(raw: &str, length: usize, style: MaskStyle) -> String {
    let shown = lowercase_prefix(raw)
        .filter(|prefix| 2 * prefix.len() <= length)
        .unwrap_or("");
    let star_count = if style.keeps_length() {
        length - shown.len()
    } else {
        3
    };
    let mut masked = String::with_capacity(shown.len() + star_count);
    masked.push_str(shown);
    masked.extend(std::iter::repeat_n('*', star_count));
    masked
}

/// The masked form carried by errors: Stripe's invalid-key style, or the short style when the
/// input is longer than any key, so that an error never holds a huge run of stars.
fn mask_for_error(raw: &str) -> String {
    if raw.chars().count() > MAX_KEY_LEN {
        mask(raw, MaskStyle::Short)
    } else {
        mask(raw, MaskStyle::InvalidKey)
    }
}

/// A validated Stripe API key: restricted, secret or publishable, test or live.
///
/// The key is held in a [`SecretString`] (zeroed on drop) and leaves only through
/// [`expose_secret`](ApiKey::expose_secret). `Debug` and `Display` show the prefix and the last
/// four characters, such as `ApiKey(rk_test_…Ab12)` and `rk_test_…Ab12`.
///
/// Equality compares the whole key in constant time for keys of equal length: it does not stop at
/// the first differing byte. Lengths are compared first; a key's length is not secret (Stripe's
/// own masks keep it).
#[derive(Clone)]
pub struct ApiKey {
    secret: SecretString,
    kind: KeyKind,
    mode: Mode,
}

/// A change [`ApiKey::parse_lenient`] made to the input before validating it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cleanup {
    /// Removed whitespace (spaces, tabs, line breaks, zero-width spaces, byte-order marks)
    /// around the key.
    TrimmedWhitespace {
        /// Characters removed before the key.
        leading: usize,
        /// Characters removed after the key.
        trailing: usize,
    },
    /// Removed a matching pair of quotes around the key.
    RemovedQuotes {
        /// The opening quote character.
        open: char,
        /// The closing quote character.
        close: char,
    },
}

impl Cleanup {
    /// Stable snake_case identifier for JSON output: `"trimmed_whitespace"` or `"removed_quotes"`.
    pub const fn code(&self) -> &'static str {
        match self {
            Cleanup::TrimmedWhitespace { .. } => "trimmed_whitespace",
            Cleanup::RemovedQuotes { .. } => "removed_quotes",
        }
    }
}

impl fmt::Display for Cleanup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cleanup::TrimmedWhitespace { leading, trailing } => write!(
                f,
                "removed whitespace around the key ({leading} before, {trailing} after)"
            ),
            Cleanup::RemovedQuotes { open, close } => {
                write!(f, "removed the quotes {open}…{close} around the key")
            }
        }
    }
}

impl ApiKey {
    /// Parses a pasted key strictly: the input must be exactly the key.
    ///
    /// Publishable and unrestricted secret keys parse fine; use [`kind`](ApiKey::kind) or
    /// [`require_restricted`](ApiKey::require_restricted) to insist on a restricted key.
    ///
    /// # Errors
    ///
    /// A [`KeyError`] naming the problem. When the input is a valid key except for surrounding
    /// whitespace or quotes, that is [`KeyError::SurroundingWhitespace`] or
    /// [`KeyError::SurroundingQuotes`]; otherwise the problem of the cleaned-up input is
    /// reported, so a webhook secret with a trailing newline is reported as a webhook secret.
    pub fn parse(raw: &str) -> Result<ApiKey, KeyError> {
        let (cleaned, cleanups) = clean_up(raw);
        let (kind, mode) = validate(cleaned)?;
        match cleanups.first() {
            None => Ok(ApiKey::new(cleaned, kind, mode)),
            Some(Cleanup::TrimmedWhitespace { .. }) => Err(KeyError::SurroundingWhitespace {
                masked: mask_for_error(cleaned),
            }),
            Some(&Cleanup::RemovedQuotes { open, close }) => Err(KeyError::SurroundingQuotes {
                masked: mask_for_error(cleaned),
                open,
                close,
            }),
        }
    }

    /// Parses a pasted key after removing surrounding whitespace and matching surrounding quotes
    /// (straight, back or curly), and reports what it removed, outermost first.
    ///
    /// # Errors
    ///
    /// A [`KeyError`] for the cleaned-up input; never `SurroundingWhitespace` or
    /// `SurroundingQuotes`.
    pub fn parse_lenient(raw: &str) -> Result<(ApiKey, Vec<Cleanup>), KeyError> {
        let (cleaned, cleanups) = clean_up(raw);
        let (kind, mode) = validate(cleaned)?;
        Ok((ApiKey::new(cleaned, kind, mode), cleanups))
    }

    fn new(validated: &str, kind: KeyKind, mode: Mode) -> ApiKey {
        ApiKey {
            secret: SecretString::from(validated),
            kind,
            mode,
        }
    }

    /// The kind of key: restricted, secret or publishable.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The mode the key works in.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The key's prefix, such as `"rk_test_"`.
    pub fn prefix(&self) -> &'static str {
        prefix_for(self.kind, self.mode)
    }

    /// The full key. This is the only way to get the key out of an [`ApiKey`]: call it only
    /// where the key is sent to Stripe or sealed for storage, and never log the result.
    pub fn expose_secret(&self) -> &str {
        self.secret.expose_secret()
    }

    /// The last four characters, which Stripe's Dashboard and error messages also show.
    pub fn last4(&self) -> &str {
        let secret = self.secret.expose_secret();
        // Validated keys are ASCII and longer than four characters, so this is a char boundary.
        secret.get(secret.len().saturating_sub(4)..).unwrap_or("")
    }

    /// The key masked as in Stripe's `Invalid API Key provided:` message, the form users see
    /// most: first 8 characters, one `*` per hidden character, last 4.
    pub fn masked(&self) -> String {
        self.mask(MaskStyle::InvalidKey)
    }

    /// The key masked in the given style (see [`mask`]).
    pub fn mask(&self, style: MaskStyle) -> String {
        mask(self.secret.expose_secret(), style)
    }

    /// Plain description of kind and mode, such as `"restricted key, test mode"`.
    pub fn describe(&self) -> String {
        format!("{} key, {} mode", self.kind, self.mode)
    }

    /// Checks that this is a restricted key.
    ///
    /// # Errors
    ///
    /// [`KeyError::PublishableKey`] or [`KeyError::FullAccessSecretKey`], whose
    /// [`fix`](KeyError::fix) tells the user how to get a restricted key.
    pub fn require_restricted(&self) -> Result<(), KeyError> {
        match self.kind {
            KeyKind::Restricted => Ok(()),
            KeyKind::Publishable => Err(KeyError::PublishableKey {
                masked: self.masked(),
                mode: self.mode,
            }),
            KeyKind::Secret => Err(KeyError::FullAccessSecretKey {
                masked: self.masked(),
                mode: self.mode,
            }),
        }
    }
}

impl FromStr for ApiKey {
    type Err = KeyError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        ApiKey::parse(raw)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey({self})")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}…{}", self.prefix(), self.last4())
    }
}

impl PartialEq for ApiKey {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(
            self.secret.expose_secret().as_bytes(),
            other.secret.expose_secret().as_bytes(),
        )
    }
}

impl Eq for ApiKey {}

/// Compares two byte strings without stopping at the first difference.
fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    let difference = left
        .iter()
        .zip(right)
        .fold(0u8, |accumulated, (a, b)| accumulated | (a ^ b));
    // Keeps the optimiser from turning the fold into an early-exit comparison.
    std::hint::black_box(difference) == 0
}

/// Why a pasted value is not a usable API key.
///
/// Every variant that has an input carries it masked (see [`mask`]), never in full. `Display`
/// says what was pasted and why it is wrong; [`code`](KeyError::code) is a stable identifier and
/// [`fix`](KeyError::fix) says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Nothing was pasted, or only whitespace and quotes.
    #[error("no key given: the input is empty")]
    Empty,
    /// A valid key with spaces, tabs or line breaks around it (strict parsing only).
    #[error("'{masked}' has spaces or line breaks around it")]
    SurroundingWhitespace {
        /// The key, masked.
        masked: String,
    },
    /// A valid key wrapped in quotes (strict parsing only).
    #[error("'{masked}' is wrapped in quotes ({open}…{close})")]
    SurroundingQuotes {
        /// The key, masked.
        masked: String,
        /// The opening quote character.
        open: char,
        /// The closing quote character.
        close: char,
    },
    /// A space or tab inside the key; Stripe keys never contain one.
    #[error("'{masked}' contains a space or tab inside the key")]
    InnerWhitespace {
        /// The input, masked.
        masked: String,
    },
    /// A line break inside the key, typically from a key wrapped across lines.
    #[error("'{masked}' contains a line break inside the key")]
    InnerLineBreak {
        /// The input, masked.
        masked: String,
    },
    /// An ephemeral key (`ek_test_`, `ek_live_`): short-lived and scoped to one customer for a
    /// mobile app.
    #[error("'{masked}' is an ephemeral key ({mode} mode), not an API key")]
    EphemeralKey {
        /// The input, masked.
        masked: String,
        /// The mode in its prefix.
        mode: Mode,
    },
    /// A webhook endpoint signing secret (`whsec_`), which Stripe never accepts as an API key.
    #[error("'{masked}' is a webhook signing secret, not an API key")]
    WebhookSecret {
        /// The input, masked.
        masked: String,
    },
    /// A client secret (`pi_…_secret_…`, `seti_…_secret_…`) or Checkout Session id or secret
    /// (`cs_test_`, `cs_live_`): values a server hands to the browser for one payment.
    #[error("'{masked}' is a {what}, not an API key")]
    ClientSecret {
        /// The input, masked.
        masked: String,
        /// What it is, such as "PaymentIntent client secret".
        what: &'static str,
    },
    /// The id of a Stripe object, such as an account (`acct_`) or customer (`cus_`).
    #[error("'{masked}' is a Stripe object id ({object}), not an API key")]
    ObjectId {
        /// The input, masked.
        masked: String,
        /// The kind of object, such as "Account".
        object: &'static str,
    },
    /// A Stripe Terminal connection token (`pss_`).
    #[error("'{masked}' is a Terminal connection token, not an API key")]
    TerminalToken {
        /// The input, masked.
        masked: String,
    },
    /// An organization secret key (`sk_org_`). It works across the accounts of an organization,
    /// needs `Stripe-Context` on every request, and its mode is not part of its prefix, so
    /// rakguard, which checks one account's keys, does not classify it.
    #[error("'{masked}' is an organization key, which rakguard does not check")]
    OrganizationKey {
        /// The input, masked.
        masked: String,
    },
    /// The input does not start with an accepted prefix ([`ACCEPTED_PREFIXES`]) nor with any
    /// other prefix rakguard recognises.
    #[error("'{masked}' does not start like a Stripe API key (rk_test_, rk_live_, sk_…, pk_…)")]
    UnknownPrefix {
        /// The input, masked.
        masked: String,
    },
    /// A character after the prefix that is not an ASCII letter or digit.
    #[error("'{masked}' has a character that cannot be in a Stripe key at position {position}")]
    InvalidCharacters {
        /// The input, masked.
        masked: String,
        /// 1-based character position of the first offending character.
        position: usize,
    },
    /// Fewer than [`MIN_BODY_LEN`] characters after the prefix: cut off, or a placeholder.
    #[error(
        "'{masked}' is too short: {length} characters after the prefix, Stripe keys have at least {MIN_BODY_LEN}"
    )]
    TooShort {
        /// The input, masked.
        masked: String,
        /// Characters after the prefix.
        length: usize,
    },
    /// More than [`MAX_BODY_LEN`] characters after the prefix.
    #[error(
        "'{masked}' is too long: {length} characters after the prefix, at most {MAX_BODY_LEN} are accepted"
    )]
    TooLong {
        /// The input, masked.
        masked: String,
        /// Characters after the prefix.
        length: usize,
    },
    /// A publishable key where a restricted key is needed. Never returned by parsing; see
    /// [`ApiKey::require_restricted`].
    #[error("'{masked}' is a publishable key ({mode} mode), not a restricted key")]
    PublishableKey {
        /// The key, masked.
        masked: String,
        /// The key's mode.
        mode: Mode,
    },
    /// A full-access secret key where a restricted key is needed. Never returned by parsing; see
    /// [`ApiKey::require_restricted`].
    #[error("'{masked}' is a full-access secret key ({mode} mode), not a restricted key")]
    FullAccessSecretKey {
        /// The key, masked.
        masked: String,
        /// The key's mode.
        mode: Mode,
    },
}

impl KeyError {
    /// Stable snake_case identifier of the problem, for JSON output and tests.
    pub const fn code(&self) -> &'static str {
        match self {
            KeyError::Empty => "key_empty",
            KeyError::SurroundingWhitespace { .. } => "key_surrounding_whitespace",
            KeyError::SurroundingQuotes { .. } => "key_surrounding_quotes",
            KeyError::InnerWhitespace { .. } => "key_inner_whitespace",
            KeyError::InnerLineBreak { .. } => "key_inner_line_break",
            KeyError::EphemeralKey { .. } => "key_is_ephemeral_key",
            KeyError::WebhookSecret { .. } => "key_is_webhook_secret",
            KeyError::ClientSecret { .. } => "key_is_client_secret",
            KeyError::ObjectId { .. } => "key_is_object_id",
            KeyError::TerminalToken { .. } => "key_is_terminal_token",
            KeyError::OrganizationKey { .. } => "key_is_organization_key",
            KeyError::UnknownPrefix { .. } => "key_unknown_prefix",
            KeyError::InvalidCharacters { .. } => "key_invalid_characters",
            KeyError::TooShort { .. } => "key_too_short",
            KeyError::TooLong { .. } => "key_too_long",
            KeyError::PublishableKey { .. } => "key_is_publishable",
            KeyError::FullAccessSecretKey { .. } => "key_is_full_access_secret",
        }
    }

    /// Plain-language instruction telling the user what to do.
    pub const fn fix(&self) -> &'static str {
        match self {
            KeyError::Empty => {
                "paste your restricted key (it starts with rk_test_ or rk_live_); create one in the Stripe Dashboard under Developers → API keys"
            }
            KeyError::SurroundingWhitespace { .. } => {
                "remove the spaces or line breaks before and after the key, then paste it again"
            }
            KeyError::SurroundingQuotes { .. } => {
                "remove the quotes around the key: paste only the characters from rk_ to the end"
            }
            KeyError::InnerWhitespace { .. } => {
                "remove the spaces inside the key (Stripe keys never contain spaces), or copy it again with the Dashboard's copy button"
            }
            KeyError::InnerLineBreak { .. } => {
                "the key was split across lines: join it into one line, or copy it again with the Dashboard's copy button"
            }
            KeyError::EphemeralKey { .. } => {
                "this is an ephemeral key (ek_…) that Stripe issues to a mobile app for one customer and that soon expires, not an API key: create a restricted key (rk_test_… or rk_live_…) under Developers → API keys"
            }
            KeyError::WebhookSecret { .. } => {
                "this is a webhook signing secret (whsec_…), not an API key: create a restricted key (rk_test_… or rk_live_…) under Developers → API keys"
            }
            KeyError::ClientSecret { .. } => {
                "this is a client secret or Checkout Session value that your server hands to the browser for one payment, not an API key: create a restricted key (rk_test_… or rk_live_…) under Developers → API keys"
            }
            KeyError::ObjectId { .. } => {
                "this is the id of a Stripe object (such as acct_… or cus_…), not an API key: create a restricted key (rk_test_… or rk_live_…) under Developers → API keys"
            }
            KeyError::TerminalToken { .. } => {
                "this is a Stripe Terminal connection token (pss_…) for card readers, not an API key: create a restricted key (rk_test_… or rk_live_…) under Developers → API keys"
            }
            KeyError::OrganizationKey { .. } => {
                "this is an organization key (sk_org_…), which acts across accounts: open the account you want to check and create a restricted key (rk_test_… or rk_live_…) there under Developers → API keys"
            }
            KeyError::UnknownPrefix { .. } => {
                "paste only the key itself, starting with rk_test_ or rk_live_, without a variable name, 'Bearer' or other text; find it under Developers → API keys"
            }
            KeyError::InvalidCharacters { .. } => {
                "Stripe keys have only letters and digits after the prefix: copy the key again with the Dashboard's copy button"
            }
            KeyError::TooShort { .. } => {
                "the key is cut off or is a placeholder such as sk_test_123: copy the whole key again with the Dashboard's copy button"
            }
            KeyError::TooLong { .. } => {
                "the value is longer than any Stripe key: check that you pasted one key and nothing before or after it"
            }
            KeyError::PublishableKey { .. } => {
                "this is a publishable key (pk_…), meant for browsers, which cannot read your account: create a restricted key (rk_test_… or rk_live_…) under Developers → API keys"
            }
            KeyError::FullAccessSecretKey { .. } => {
                "this is a full-access secret key (sk_…): do not hand it out; create a restricted key (rk_test_… or rk_live_…) with only the permissions needed under Developers → API keys"
            }
        }
    }
}

/// Whether `character` is whitespace as pasted: Unicode whitespace plus the invisible
/// zero-width space, word joiner and byte-order mark that copy-paste often carries along.
fn is_pasted_whitespace(character: char) -> bool {
    character.is_whitespace() || matches!(character, '\u{200b}' | '\u{2060}' | '\u{feff}')
}

/// Whether `character` breaks a line.
fn is_line_break(character: char) -> bool {
    matches!(
        character,
        '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// Quote pairs [`ApiKey::parse_lenient`] removes when they surround the whole input.
const QUOTE_PAIRS: [(char, char); 6] = [
    ('"', '"'),
    ('\'', '\''),
    ('`', '`'),
    ('“', '”'),
    ('‘', '’'),
    ('«', '»'),
];

/// How many layers of quotes [`clean_up`] removes at most, such as `"'rk_…'"`.
const MAX_QUOTE_LAYERS: usize = 3;

/// Removes surrounding whitespace and matching quotes, layer by layer, noting each removal.
fn clean_up(raw: &str) -> (&str, Vec<Cleanup>) {
    let mut text = raw;
    let mut cleanups = Vec::new();
    for layer in 0..=MAX_QUOTE_LAYERS {
        let trimmed_start = text.trim_start_matches(is_pasted_whitespace);
        let trimmed = trimmed_start.trim_end_matches(is_pasted_whitespace);
        let leading = text.chars().count() - trimmed_start.chars().count();
        let trailing = trimmed_start.chars().count() - trimmed.chars().count();
        if leading + trailing > 0 {
            cleanups.push(Cleanup::TrimmedWhitespace { leading, trailing });
        }
        text = trimmed;
        if layer == MAX_QUOTE_LAYERS {
            break;
        }
        let unquoted = QUOTE_PAIRS.iter().find_map(|&(open, close)| {
            let inner = text.strip_prefix(open)?.strip_suffix(close)?;
            Some((inner, open, close))
        });
        let Some((inner, open, close)) = unquoted else {
            break;
        };
        cleanups.push(Cleanup::RemovedQuotes { open, close });
        text = inner;
    }
    (text, cleanups)
}

/// Object id prefixes from Stripe's API that people paste in place of a key, longest first so
/// that `sub_sched_` wins over `sub_`.
const OBJECT_ID_PREFIXES: [(&str, &str); 39] = [
    ("sub_sched_", "Subscription schedule"),
    ("iauth_", "Issuing authorization"),
    ("promo_", "Promotion code"),
    ("plink_", "Payment link"),
    ("price_", "Price"),
    ("acct_", "Account"),
    ("btok_", "Bank token"),
    ("card_", "Card"),
    ("file_", "File"),
    ("prod_", "Product"),
    ("seti_", "SetupIntent"),
    ("cus_", "Customer"),
    ("evt_", "Event"),
    ("fee_", "Application fee"),
    ("ich_", "Issuing cardholder"),
    ("mtr_", "Billing meter"),
    ("req_", "Request"),
    ("src_", "Source"),
    ("sub_", "Subscription"),
    ("tok_", "Token"),
    ("txn_", "Balance transaction"),
    ("txr_", "Tax rate"),
    ("ba_", "Bank account"),
    ("ch_", "Charge"),
    ("cn_", "Credit note"),
    ("dp_", "Dispute"),
    ("du_", "Dispute"),
    ("ic_", "Issuing card"),
    ("ii_", "Invoice item"),
    ("il_", "Invoice line item"),
    ("in_", "Invoice"),
    ("pi_", "PaymentIntent"),
    ("pm_", "PaymentMethod"),
    ("po_", "Payout"),
    ("py_", "Payment"),
    ("qt_", "Quote"),
    ("re_", "Refund"),
    ("si_", "Subscription item"),
    ("tr_", "Transfer"),
];

/// The error for input that is a recognisable Stripe value but not an API key.
fn not_a_key(text: &str) -> Option<KeyError> {
    let masked = || mask_for_error(text);
    if text.starts_with("whsec_") {
        return Some(KeyError::WebhookSecret { masked: masked() });
    }
    if text.starts_with("sk_org_") {
        return Some(KeyError::OrganizationKey { masked: masked() });
    }
    if text.starts_with("pss_") {
        return Some(KeyError::TerminalToken { masked: masked() });
    }
    for (prefix, mode) in [("ek_test_", Mode::Test), ("ek_live_", Mode::Live)] {
        if text.starts_with(prefix) {
            return Some(KeyError::EphemeralKey {
                masked: masked(),
                mode,
            });
        }
    }
    let client_secret = if text.starts_with("cs_test_") || text.starts_with("cs_live_") {
        Some("Checkout Session id or client secret")
    } else if text.starts_with("pi_") && text.contains("_secret_") {
        Some("PaymentIntent client secret")
    } else if text.starts_with("seti_") && text.contains("_secret_") {
        Some("SetupIntent client secret")
    } else {
        None
    };
    if let Some(what) = client_secret {
        return Some(KeyError::ClientSecret {
            masked: masked(),
            what,
        });
    }
    OBJECT_ID_PREFIXES
        .iter()
        .find(|(prefix, _)| text.starts_with(prefix))
        .map(|&(_, object)| KeyError::ObjectId {
            masked: masked(),
            object,
        })
}

/// Validates input that has already been cleaned up, returning its kind and mode.
fn validate(text: &str) -> Result<(KeyKind, Mode), KeyError> {
    if text.is_empty() {
        return Err(KeyError::Empty);
    }
    if let Some(error) = not_a_key(text) {
        return Err(error);
    }
    let masked = || mask_for_error(text);
    let Some((kind, mode)) = classify_prefix(text) else {
        return Err(KeyError::UnknownPrefix { masked: masked() });
    };
    // Every accepted prefix is PREFIX_LEN ASCII bytes, so this is a char boundary.
    let body = text.get(PREFIX_LEN..).unwrap_or("");
    if body.chars().any(is_line_break) {
        return Err(KeyError::InnerLineBreak { masked: masked() });
    }
    if body.chars().any(is_pasted_whitespace) {
        return Err(KeyError::InnerWhitespace { masked: masked() });
    }
    if let Some(index) = body.chars().position(|c| !c.is_ascii_alphanumeric()) {
        return Err(KeyError::InvalidCharacters {
            masked: masked(),
            position: PREFIX_LEN + index + 1,
        });
    }
    // The body is ASCII from here on, so bytes are characters.
    let length = body.len();
    if length < MIN_BODY_LEN {
        return Err(KeyError::TooShort {
            masked: masked(),
            length,
        });
    }
    if length > MAX_BODY_LEN {
        return Err(KeyError::TooLong {
            masked: masked(),
            length,
        });
    }
    Ok((kind, mode))
}

#[cfg(test)]
// Tests may panic: a failed expectation is the test failing.
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Legacy-length (32 characters) restricted test key.
    const RK_TEST: &str = "rk_test_0123456789abcdefghijAb12";
    /// Stripe's long-standing documentation sample.
    const SK_TEST_SAMPLE: &str = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";

    /// A current-length (107 characters) key with the given prefix.
    fn long_key(prefix: &str) -> String {
        let body: String = "51HxQ7aBcDeFgHiJk9LmNoPqRsTuVwXyZ0123456789"
            .chars()
            .cycle()
            .take(99)
            .collect();
        format!("{prefix}{body}")
    }

    /// Checks one input: `expected` is `"restricted/test"`-style for a key, or the error code.
    fn check(input: &str, expected: &str) {
        let actual = match ApiKey::parse(input) {
            Ok(key) => format!("{}/{}", key.kind(), key.mode()),
            Err(error) => error.code().to_owned(),
        };
        assert_eq!(actual, expected, "input {input:?}");
    }

    #[test]
    #[rustfmt::skip] // One case per line reads as a table.
    fn parse_accepts_every_kind_and_mode() {
        check("rk_test_0123456789abcdefghijAb12", "restricted/test");
        check(concat!("rk_", "live_", "0123456789abcdefghijAb12"), "restricted/live");
        check("sk_test_4eC39HqLyjWDarjtT1zdp7dc", "secret/test");
        check(concat!("sk_", "live_", "0123456789abcdefghijAb12"), "secret/live");
        check("pk_test_0123456789abcdefghijAb12", "publishable/test");
        check("pk_live_0123456789abcdefghijAb12", "publishable/live");
        check(&long_key("rk_live_"), "restricted/live");
        check(&format!("rk_test_{}", "a".repeat(MAX_BODY_LEN)), "restricted/test");
    }

    #[test]
    #[rustfmt::skip] // One case per line reads as a table.
    fn parse_rejects_each_problem_with_its_code() {
        check("", "key_empty");
        check("   \n", "key_empty");
        check("\"\"", "key_empty");
        check(" rk_test_0123456789abcdefghijAb12", "key_surrounding_whitespace");
        check("rk_test_0123456789abcdefghijAb12\n", "key_surrounding_whitespace");
        check("\trk_test_0123456789abcdefghijAb12\r\n", "key_surrounding_whitespace");
        check("\u{feff}rk_test_0123456789abcdefghijAb12", "key_surrounding_whitespace");
        check("\"rk_test_0123456789abcdefghijAb12\"", "key_surrounding_quotes");
        check("'rk_test_0123456789abcdefghijAb12'", "key_surrounding_quotes");
        check("“rk_test_0123456789abcdefghijAb12”", "key_surrounding_quotes");
        check("\"rk_test_0123456789abcdefghijAb12'", "key_unknown_prefix");
        check("rk_test_0123456789 abcdefghijAb12", "key_inner_whitespace");
        check("rk_test_0123456789\tabcdefghijAb12", "key_inner_whitespace");
        check("rk_test_0123456789\nabcdefghijAb12", "key_inner_line_break");
        check("rk_test_0123456789\r\nabcdefghijAb12", "key_inner_line_break");
        check("ek_test_YWNjdF8xMjM0NTY3ODkwYWJjZGVm", "key_is_ephemeral_key");
        check("ek_live_YWNjdF8xMjM0NTY3ODkwYWJjZGVm", "key_is_ephemeral_key");
        check("whsec_0123456789abcdefghijAb12", "key_is_webhook_secret");
        check("whsec_0123456789abcdefghijAb12\n", "key_is_webhook_secret");
        check("pi_3PiXFabc123_secret_zlzoXYZ123", "key_is_client_secret");
        check("seti_1Abc234_secret_Def567", "key_is_client_secret");
        check("cs_test_a1B2c3D4e5F6g7H8", "key_is_client_secret");
        check("cs_live_a1B2c3D4e5F6g7H8", "key_is_client_secret");
        check("acct_1AbCdEfGhIjKlMnO", "key_is_object_id");
        check("cus_AbCdEfGhIjKlMn", "key_is_object_id");
        check("pi_3PiXFabc123", "key_is_object_id");
        check("tok_visa", "key_is_object_id");
        check("pss_test_YWNjdF8xMjM0NTY3ODkw", "key_is_terminal_token");
        check("sk_org_0123456789abcdefghijAb12", "key_is_organization_key");
        check("sk_prod_0123456789abcdefghijAb12", "key_unknown_prefix");
        check("RK_TEST_0123456789abcdefghijAb12", "key_unknown_prefix");
        check("Bearer rk_test_0123456789abcdefghijAb12", "key_unknown_prefix");
        check("hunter2", "key_unknown_prefix");
        check("rk_test_0123456789-abcdefghijAb1", "key_invalid_characters");
        check("rk_test_0123456789_abcdefghijAb1", "key_invalid_characters");
        check("rk_test_0123456789ábcdefghijAb12", "key_invalid_characters");
        check("sk_test_123", "key_too_short");
        check("rk_test_", "key_too_short");
        check("rk_test_0123456789abcdefghijAb1", "key_too_short");
        check(&format!("rk_test_{}", "a".repeat(MAX_BODY_LEN + 1)), "key_too_long");
    }

    #[test]
    fn parse_lenient_cleans_and_reports() {
        let (key, cleanups) = ApiKey::parse_lenient(" \"rk_test_0123456789abcdefghijAb12\"\n")
            .expect("lenient parse");
        assert_eq!(key.expose_secret(), RK_TEST);
        assert_eq!(
            cleanups,
            [
                Cleanup::TrimmedWhitespace {
                    leading: 1,
                    trailing: 1
                },
                Cleanup::RemovedQuotes {
                    open: '"',
                    close: '"'
                },
            ]
        );
        assert_eq!(cleanups[0].code(), "trimmed_whitespace");
        assert_eq!(cleanups[1].code(), "removed_quotes");

        let (_, cleanups) = ApiKey::parse_lenient(RK_TEST).expect("clean input");
        assert!(cleanups.is_empty());

        let error = ApiKey::parse_lenient("'whsec_0123456789abcdefghijAb12' ").expect_err("whsec");
        assert_eq!(error.code(), "key_is_webhook_secret");
    }

    #[test]
    fn errors_name_the_problem_and_the_fix() {
        let error = ApiKey::parse(" rk_test_0123456789abcdefghijAb12").expect_err("spaces");
        assert_eq!(
            error.to_string(),
            "'rk_test_********************Ab12' has spaces or line breaks around it"
        );
        assert!(error.fix().contains("remove the spaces"));

        let error = ApiKey::parse("whsec_0123456789abcdefghijAb12").expect_err("whsec");
        assert!(error.fix().contains("webhook signing secret (whsec_…)"));
        assert!(error.fix().contains("rk_test_"));

        let publishable = ApiKey::parse("pk_live_0123456789abcdefghijAb12").expect("pk");
        let error = publishable.require_restricted().expect_err("publishable");
        assert_eq!(error.code(), "key_is_publishable");
        assert!(error.fix().contains("restricted key"));
        let error = ApiKey::parse(SK_TEST_SAMPLE)
            .expect("sk")
            .require_restricted()
            .expect_err("secret");
        assert_eq!(error.code(), "key_is_full_access_secret");
        assert!(
            ApiKey::parse(RK_TEST)
                .expect("rk")
                .require_restricted()
                .is_ok()
        );
    }

    #[test]
    #[rustfmt::skip] // One variant per line reads as a list.
    fn every_error_has_a_distinct_code_and_a_fix() {
        let m = || String::from("rk_test_****");
        let errors = [
            KeyError::Empty,
            KeyError::SurroundingWhitespace { masked: m() },
            KeyError::SurroundingQuotes { masked: m(), open: '"', close: '"' },
            KeyError::InnerWhitespace { masked: m() },
            KeyError::InnerLineBreak { masked: m() },
            KeyError::EphemeralKey { masked: m(), mode: Mode::Test },
            KeyError::WebhookSecret { masked: m() },
            KeyError::ClientSecret { masked: m(), what: "PaymentIntent client secret" },
            KeyError::ObjectId { masked: m(), object: "Account" },
            KeyError::TerminalToken { masked: m() },
            KeyError::OrganizationKey { masked: m() },
            KeyError::UnknownPrefix { masked: m() },
            KeyError::InvalidCharacters { masked: m(), position: 9 },
            KeyError::TooShort { masked: m(), length: 3 },
            KeyError::TooLong { masked: m(), length: 300 },
            KeyError::PublishableKey { masked: m(), mode: Mode::Live },
            KeyError::FullAccessSecretKey { masked: m(), mode: Mode::Live },
        ];
        let mut codes: Vec<&str> = errors.iter().map(KeyError::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), errors.len());
        for error in &errors {
            assert!(error.code().starts_with("key_"));
            assert!(!error.fix().is_empty());
            assert!(!error.to_string().is_empty());
        }
    }

    #[test]
    fn accessors_describe_the_key() {
        let key = ApiKey::parse(RK_TEST).expect("valid");
        assert_eq!(key.prefix(), "rk_test_");
        assert_eq!(key.last4(), "Ab12");
        assert_eq!(key.describe(), "restricted key, test mode");
        assert_eq!(key.expose_secret(), RK_TEST);
        let live: ApiKey = SK_TEST_SAMPLE
            .replace("test", "live")
            .parse()
            .expect("valid");
        assert_eq!(live.describe(), "secret key, live mode");
        assert_eq!(
            classify_prefix("pk_live_x"),
            Some((KeyKind::Publishable, Mode::Live))
        );
        assert_eq!(classify_prefix("whsec_x"), None);
        for (prefix, kind, mode) in ACCEPTED_PREFIXES {
            assert_eq!(prefix.len(), PREFIX_LEN);
            assert_eq!(prefix_for(kind, mode), prefix);
            assert_eq!(prefix, format!("{}_{}_", kind.short_prefix(), mode));
        }
    }

    #[test]
    fn mode_and_kind_round_trip_through_text_and_json() {
        for mode in [Mode::Test, Mode::Live] {
            assert_eq!(mode.as_str().parse::<Mode>(), Ok(mode));
            let json = serde_json::to_string(&mode).expect("serialize");
            assert_eq!(json, format!("\"{mode}\""));
            assert_eq!(
                serde_json::from_str::<Mode>(&json).expect("deserialize"),
                mode
            );
        }
        for kind in [KeyKind::Secret, KeyKind::Restricted, KeyKind::Publishable] {
            assert_eq!(kind.as_str().parse::<KeyKind>(), Ok(kind));
            let json = serde_json::to_string(&kind).expect("serialize");
            assert_eq!(json, format!("\"{kind}\""));
        }
        assert_eq!("Test".parse::<Mode>(), Err(ParseModeError));
        assert_eq!("rk".parse::<KeyKind>(), Err(ParseKeyKindError));
    }

    #[test]
    fn equality_compares_whole_keys() {
        let key = ApiKey::parse(RK_TEST).expect("valid");
        assert_eq!(key, key.clone());
        let other = ApiKey::parse("rk_test_0123456789abcdefghijAb13").expect("valid");
        assert_ne!(key, other);
        let longer = ApiKey::parse(&long_key("rk_test_")).expect("valid");
        assert_ne!(key, longer);
    }

    #[test]
    fn invalid_key_mask_keeps_length_with_first_8_and_last_4() {
        let key = long_key("pk_test_");
        let masked = mask(&key, MaskStyle::InvalidKey);
        assert_eq!(masked.len(), 107);
        assert_eq!(masked, format!("pk_test_{}{}", "*".repeat(95), &key[103..]));
        assert_eq!(
            mask(
                "pi_1PiXFabcdefghijk_secret_mnopqrstzlzo",
                MaskStyle::InvalidKey
            ),
            "pi_1PiXF***************************zlzo"
        );
    }

    #[test]
    fn long_mask_keeps_length_with_first_8_and_last_6() {
        let key = long_key("rk_test_");
        let masked = mask(&key, MaskStyle::Long);
        assert_eq!(masked.len(), 107);
        assert_eq!(masked, format!("rk_test_{}{}", "*".repeat(93), &key[101..]));
        assert_eq!(
            ApiKey::parse(&key).expect("valid").mask(MaskStyle::Long),
            masked
        );
    }

    #[test]
    fn short_mask_is_prefix_three_stars_last_4() {
        assert_eq!(mask(SK_TEST_SAMPLE, MaskStyle::Short), "sk_test_***p7dc");
        assert_eq!(
            mask(&long_key("rk_live_"), MaskStyle::Short)
                .chars()
                .count(),
            15
        );
    }

    #[test]
    fn mask_hides_short_and_unshaped_input() {
        assert_eq!(mask("", MaskStyle::InvalidKey), "");
        assert_eq!(mask("a", MaskStyle::Long), "*");
        assert_eq!(mask("sk_test_123", MaskStyle::InvalidKey), "sk_********");
        assert_eq!(mask("sk_test_123", MaskStyle::Short), "sk_***");
        assert_eq!(mask("whsec_abc", MaskStyle::InvalidKey), "*********");
        assert_eq!(mask("hunter2", MaskStyle::InvalidKey), "*******");
        // 20 characters: a head and tail would show more than half, so only the prefix shows.
        assert_eq!(
            mask("rk_test_0123456789ab", MaskStyle::InvalidKey),
            "rk_*****************"
        );
        // Not key-shaped: no head, only the tail.
        assert_eq!(
            mask("CorrectHorseBatteryStaple", MaskStyle::InvalidKey),
            "*********************aple"
        );
        assert_eq!(
            mask("ééééééééééééééééé", MaskStyle::InvalidKey),
            "*************éééé"
        );
        assert_eq!(mask("🦀_🦀🦀", MaskStyle::Long), "****");
    }

    #[test]
    fn debug_and_display_never_reveal_the_key() {
        let raw = long_key("rk_live_");
        let key = ApiKey::parse(&raw).expect("valid");
        let middle = &raw[PREFIX_LEN..raw.len() - 4];
        let shown = [
            format!("{key:?}"),
            key.to_string(),
            format!("{key:#?}"),
            key.masked(),
        ];
        for text in &shown {
            assert!(!text.contains(middle), "{text}");
            assert!(!text.contains(&raw[PREFIX_LEN..PREFIX_LEN + 8]), "{text}");
        }
        assert_eq!(
            shown[0],
            format!("ApiKey(rk_live_…{})", &raw[raw.len() - 4..])
        );
        let error = ApiKey::parse(&format!("{raw} ")).expect_err("trailing space");
        assert!(!format!("{error:?}{error}").contains(middle));
    }

    fn valid_key() -> impl Strategy<Value = (String, KeyKind, Mode)> {
        (
            proptest::sample::select(ACCEPTED_PREFIXES.to_vec()),
            "[A-Za-z0-9]{24,247}",
        )
            .prop_map(|((prefix, kind, mode), body)| (format!("{prefix}{body}"), kind, mode))
    }

    proptest! {
        #[test]
        fn arbitrary_input_never_panics(input in any::<String>()) {
            let _ = ApiKey::parse(&input);
            let _ = ApiKey::parse_lenient(&input);
            for style in [MaskStyle::InvalidKey, MaskStyle::Long, MaskStyle::Short] {
                let masked = mask(&input, style);
                if style.keeps_length() {
                    prop_assert_eq!(masked.chars().count(), input.chars().count());
                }
            }
        }

        #[test]
        fn key_like_input_never_panics(input in "(rk|sk|pk|ek|pss|whsec)_(test|live)_\\PC{0,40}") {
            let _ = ApiKey::parse(&input);
            let _ = ApiKey::parse_lenient(&input);
        }

        #[test]
        fn valid_keys_parse_and_mask_keeps_length((raw, kind, mode) in valid_key()) {
            let key = ApiKey::parse(&raw).expect("valid key");
            prop_assert_eq!((key.kind(), key.mode()), (kind, mode));
            let masked = key.masked();
            prop_assert_eq!(masked.len(), raw.len());
            let middle = &raw[PREFIX_LEN..raw.len() - 4];
            prop_assert!(!masked.contains(middle));
            prop_assert!(masked[PREFIX_LEN..raw.len() - 4].bytes().all(|b| b == b'*'));
            let shown = format!("{key:?}{key}");
            prop_assert!(!shown.contains(middle));
            let (lenient, cleanups) = ApiKey::parse_lenient(&format!(" '{raw}'\n")).expect("lenient");
            prop_assert_eq!(lenient, key);
            prop_assert_eq!(cleanups.len(), 2);
        }
    }
}
