//! The wording of Stripe's API errors, in both directions.
//!
//! Rendering: one function per failure ([`no_api_key`], [`permission_error`], [`rate_limited`],
//! …) builds the exact JSON envelope (`{"error": {...}}`) and HTTP status Stripe sends, so the
//! emulator can answer like Stripe. The message templates are Stripe's own, as quoted in the
//! project's reference notes (`stripe-api-facts.md`, `rak-permissions.md`); where Stripe's wording
//! changed over the years, [`PermissionErrorEra`] picks the template. Three wordings are not
//! quoted there and follow public captures of real responses instead: the `parameter_missing` and
//! `parameter_invalid_empty` sentences, and the last sentence of the empty-header 401 (the
//! reference elides it; its cited capture shows the same tail as the no-key 401).
//!
//! Reading: [`parse_permission_message`] reads a restricted-key refusal message of any era back into
//! a [`ParsedPermissionError`], and [`classify`] turns a whole response (status and body) into a
//! [`StripeError`]. Both follow Stripe's own advice to integrators: decide on the status and `code`
//! first, then on short stable fragments of the message, never on whole sentences. Both accept any
//! input without panicking; what they cannot recognise comes back as `None` or
//! [`StripeErrorKind::Other`].
//!
//! The module is pure: no IO, no clock, no global state. Keys arrive already masked (see
//! [`crate::key`]); nothing here ever sees a full key.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use serde::Serialize;
use serde_json::{Map, Value};

/// Error codes this module renders or recognises, as they appear in the `code` field.
pub mod code {
    /// 401: the key was expired (rolled with a delay, CLI key older than 90 days, or expired by hand).
    pub const API_KEY_EXPIRED: &str = "api_key_expired";
    /// 401: the platform's key expired while acting for a connected account.
    pub const PLATFORM_API_KEY_EXPIRED: &str = "platform_api_key_expired";
    /// 401: a publishable key was used on an endpoint that needs a secret or restricted key.
    pub const SECRET_KEY_REQUIRED: &str = "secret_key_required";
    /// 403: `Stripe-Account` names an account the key cannot reach.
    pub const ACCOUNT_INVALID: &str = "account_invalid";
    /// `Stripe-Account` was sent by an account that is not a Connect platform.
    pub const PLATFORM_ACCOUNT_REQUIRED: &str = "platform_account_required";
    /// 403 (2026 wording): the restricted key lacks the endpoint's permission.
    pub const MORE_PERMISSIONS_REQUIRED: &str = "more_permissions_required";
    /// 404 (or 400 when the id came in a parameter): no such object.
    pub const RESOURCE_MISSING: &str = "resource_missing";
    /// 429: too many requests.
    pub const RATE_LIMIT: &str = "rate_limit";
    /// 429: another request holds the object's lock.
    pub const LOCK_TIMEOUT: &str = "lock_timeout";
    /// 409: a request with the same idempotency key is still running.
    pub const IDEMPOTENCY_KEY_IN_USE: &str = "idempotency_key_in_use";
    /// 400: a required parameter is absent.
    pub const PARAMETER_MISSING: &str = "parameter_missing";
    /// 400: a parameter the endpoint does not know was sent.
    pub const PARAMETER_UNKNOWN: &str = "parameter_unknown";
    /// 400: a parameter that cannot be unset was sent as an empty string.
    pub const PARAMETER_INVALID_EMPTY: &str = "parameter_invalid_empty";
    /// 400: a parameter that must be an integer was not one.
    pub const PARAMETER_INVALID_INTEGER: &str = "parameter_invalid_integer";
}

/// The `type` Stripe puts on client-side failures, including every 401, 403 and 429.
pub const INVALID_REQUEST_ERROR: &str = "invalid_request_error";
/// The `type` of a reused idempotency key with different parameters.
pub const IDEMPOTENCY_ERROR: &str = "idempotency_error";
/// The `type` of failures on Stripe's side.
pub const API_ERROR: &str = "api_error";
/// Where `doc_url` points: this base followed by the code with `_` turned into `-`.
pub const DOC_URL_BASE: &str = "https://stripe.com/docs/error-codes/";
/// The message of [`api_error`] when the caller has nothing better. This is rakguard's wording:
/// Stripe's 500 messages vary and none is pinned down in the reference.
pub const DEFAULT_API_ERROR_MESSAGE: &str = "An unknown error occurred on Stripe's side.";

/// The Dashboard origin used by the 2026 template's edit link.
const DASHBOARD_ORIGIN: &str = "https://dashboard.stripe.com/";

// Stable fragments. The renderers build Stripe's sentences from them and the readers look for
// them, so both directions agree by construction.
const NO_KEY_MESSAGE: &str = "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.";
const NO_KEY_FRAGMENT: &str = "You did not provide an API key";
const INVALID_KEY_PREFIX: &str = "Invalid API Key provided: ";
const EXPIRED_KEY_PREFIX: &str = "Expired API Key provided: ";
const IP_MESSAGE: &str = "The API key provided does not allow requests from your IP address.";
const IP_FRAGMENT: &str = "does not allow requests from your IP address";
const PUBLISHABLE_MESSAGE: &str = "This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.";
const PUBLISHABLE_FRAGMENT: &str = "cannot be made with a publishable API key";
const REQUIRED_PERMISSIONS_FRAGMENT: &str = "does not have the required permissions";
const MORE_PERMISSIONS_SENTENCE: &str =
    "Having more permissions would allow this request to continue.";
const MORE_PERMISSIONS_FRAGMENT: &str = "Having more permissions";
const UNAVAILABLE_SENTENCE: &str = "This is a restricted API key, but the required permissions are not available for use by restricted keys.";
const UNAVAILABLE_FRAGMENT: &str = "not available for use by restricted keys";
const APPS_OPENING: &str = "This application does not have the required permissions";
const NO_CONNECT_MESSAGE: &str = "You passed a restricted API key with the Stripe-Account header, but the restricted API key does not have any Connect permissions.";
const NO_CONNECT_FRAGMENT: &str = "does not have any Connect permissions";
const PERMISSION_DENIED_OPENING: &str = "Permission denied.";
const ENABLING_MARKER: &str = "Enabling ";
const HAVING_THE_MARKER: &str = "Having the ";
const EDIT_LINK_SENTENCE: &str = "You can edit permissions at ";
const ACCOUNT_ACCESS_FRAGMENT: &str = "does not have access to account";
const NO_SUCH_FRAGMENT: &str = "No such ";
const UNRECOGNIZED_URL_FRAGMENT: &str = "Unrecognized request URL";
const RATE_LIMIT_MESSAGE: &str = "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.";
const LOCK_TIMEOUT_MESSAGE: &str = "This object cannot be accessed right now because another API request or Stripe process is currently accessing it. If you see this error intermittently, retry the request. If you see this error frequently and are making multiple concurrent requests to a single object, make your requests serially or at a lower rate.";
const LOCK_TIMEOUT_FRAGMENT: &str = "cannot be accessed right now";
const IDEMPOTENCY_MISMATCH_FRAGMENT: &str = "Keys for idempotent requests can only be used";
const IDEMPOTENCY_IN_USE_FRAGMENT: &str = "using this Idempotent Key";

/// Characters escaped when an id is placed inside the edit link's `destination` value.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'-')
    .remove(b'.')
    .remove(b'~');

/// A permission as a refusal message names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PermissionName {
    /// The bare scope id, e.g. `plan_read` (no `rak_` prefix).
    pub id: String,
    /// The Dashboard's name for it, e.g. "Prices Read". Only the 2026 template prints it.
    pub label: String,
}

impl PermissionName {
    /// A permission from its bare id and Dashboard label.
    pub fn new(id: impl Into<String>, label: impl Into<String>) -> Self {
        PermissionName {
            id: id.into(),
            label: label.into(),
        }
    }
}

/// Which of Stripe's restricted-key refusal templates a message uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PermissionErrorEra {
    /// Template D, 2026 on: "Permission denied. …", the Dashboard label with the bare id in
    /// `('…')`, code `more_permissions_required` and a link to the key's edit page.
    Current,
    /// Template A, about 2021 to 2025: "Having the 'rak_…' permission(s) would allow …", no code.
    Rak,
    /// Template B, about 2017 to 2021: "Having more permissions would allow …", naming nothing.
    MorePermissions,
    /// Template C: the endpoint is not available to restricted keys at all.
    Unavailable,
    /// Stripe Apps: "This application does not have … Having the '…' scope would allow …".
    Apps,
}

impl PermissionErrorEra {
    /// Every era, newest first.
    pub const ALL: [PermissionErrorEra; 5] = [
        PermissionErrorEra::Current,
        PermissionErrorEra::Rak,
        PermissionErrorEra::MorePermissions,
        PermissionErrorEra::Unavailable,
        PermissionErrorEra::Apps,
    ];

    /// A short snake_case name, as used in serialised output.
    pub fn as_str(self) -> &'static str {
        match self {
            PermissionErrorEra::Current => "current",
            PermissionErrorEra::Rak => "rak",
            PermissionErrorEra::MorePermissions => "more_permissions",
            PermissionErrorEra::Unavailable => "unavailable",
            PermissionErrorEra::Apps => "apps",
        }
    }
}

impl fmt::Display for PermissionErrorEra {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The three kinds of restricted-key refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RefusalKind {
    /// The key lacks a permission it could be given.
    MissingPermission,
    /// No restricted-key permission covers the endpoint; only a secret key can call it.
    UnavailableToRestrictedKeys,
    /// The key was sent with `Stripe-Account` but has no Connect permissions at all.
    NoConnectPermissions,
}

impl RefusalKind {
    /// A short snake_case name, as used in serialised output.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalKind::MissingPermission => "missing_permission",
            RefusalKind::UnavailableToRestrictedKeys => "unavailable_to_restricted_keys",
            RefusalKind::NoConnectPermissions => "no_connect_permissions",
        }
    }
}

/// Test or live mode, for the "a similar object exists in … mode" hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiMode {
    /// Test mode (`sk_test_`, `rk_test_` keys).
    Test,
    /// Live mode (`sk_live_`, `rk_live_` keys).
    Live,
}

impl ApiMode {
    /// `"test"` or `"live"`, as Stripe writes it in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiMode::Test => "test",
            ApiMode::Live => "live",
        }
    }

    /// The other mode.
    pub fn other(self) -> ApiMode {
        match self {
            ApiMode::Test => ApiMode::Live,
            ApiMode::Live => ApiMode::Test,
        }
    }
}

/// How the missing object was asked for, which decides the status of a `resource_missing` error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lookup {
    /// The id was in the URL path (`GET /v1/customers/cus_x`): 404.
    Path,
    /// The id came in a parameter of another call (`customer=cus_x` on a Checkout Session): 400.
    Parameter,
}

impl Lookup {
    fn status(self) -> u16 {
        match self {
            Lookup::Path => 404,
            Lookup::Parameter => 400,
        }
    }
}

/// An error response ready to send: the HTTP status and the JSON envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedError {
    /// The HTTP status.
    pub status: u16,
    /// The body, `{"error": {"type": …, "code"?: …, "message": …, "param"?: …, "doc_url"?: …}}`.
    pub body: Value,
}

impl RenderedError {
    /// Adds `request_log_url`, which Stripe sets on errors it logged for the Dashboard.
    pub fn with_request_log_url(mut self, url: &str) -> Self {
        if let Some(error) = self.body.get_mut("error").and_then(Value::as_object_mut) {
            error.insert("request_log_url".to_owned(), Value::String(url.to_owned()));
        }
        self
    }

    /// The error object's `message`.
    pub fn message(&self) -> Option<&str> {
        self.field("message")
    }

    /// The error object's `code`.
    pub fn code(&self) -> Option<&str> {
        self.field("code")
    }

    /// A string field of the error object.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.body.get("error")?.get(name)?.as_str()
    }

    /// The body serialised compactly, as sent on the wire.
    pub fn body_string(&self) -> String {
        self.body.to_string()
    }
}

/// The error object under construction.
struct Draft {
    status: u16,
    error: Map<String, Value>,
}

impl Draft {
    fn new(status: u16, error_type: &str, message: String) -> Self {
        let mut error = Map::new();
        error.insert("type".to_owned(), Value::String(error_type.to_owned()));
        error.insert("message".to_owned(), Value::String(message));
        Draft { status, error }
    }

    fn invalid_request(status: u16, message: String) -> Self {
        Draft::new(status, INVALID_REQUEST_ERROR, message)
    }

    /// Sets `code` and the matching `doc_url`.
    fn code(self, code: &str) -> Self {
        let url = doc_url(code);
        self.code_without_doc_url(code).set("doc_url", &url)
    }

    fn code_without_doc_url(self, code: &str) -> Self {
        self.set("code", code)
    }

    fn param(self, param: &str) -> Self {
        self.set("param", param)
    }

    fn set(mut self, name: &str, value: &str) -> Self {
        self.error
            .insert(name.to_owned(), Value::String(value.to_owned()));
        self
    }

    fn finish(self) -> RenderedError {
        let mut envelope = Map::new();
        envelope.insert("error".to_owned(), Value::Object(self.error));
        RenderedError {
            status: self.status,
            body: Value::Object(envelope),
        }
    }
}

/// The `doc_url` Stripe attaches to an error code: `https://stripe.com/docs/error-codes/` plus the
/// code with underscores turned into hyphens (`api_key_expired` → `…/api-key-expired`).
pub fn doc_url(code: &str) -> String {
    format!("{DOC_URL_BASE}{}", code.replace('_', "-"))
}

/// The Dashboard page where a key's permissions are edited, as the 2026 template links it:
/// `https://dashboard.stripe.com/b/<account>?destination=%2Fapikeys%2F<key object id>%2Fedit`.
pub fn edit_permissions_url(account_id: &str, key_object_id: &str) -> String {
    format!(
        "{DASHBOARD_ORIGIN}b/{}?destination=%2Fapikeys%2F{}%2Fedit",
        utf8_percent_encode(account_id, COMPONENT),
        utf8_percent_encode(key_object_id, COMPONENT),
    )
}

/// 401: no key at all (no `Authorization` header, no Basic user).
pub fn no_api_key() -> RenderedError {
    Draft::invalid_request(401, NO_KEY_MESSAGE.to_owned()).finish()
}

/// 401: an `Authorization` header was sent but carried no key.
///
/// `shown` is what Stripe quotes back: the value after `Bearer ` (`null`, `undefined`, …), or the
/// whole header value when nothing follows the scheme (`Bearer`). The caller masks it first if it
/// looks like a key.
pub fn empty_api_key(shown: &str) -> RenderedError {
    let message = format!(
        "You did not provide an API key, though you did set your Authorization header to \"{shown}\". Using Bearer auth, your Authorization header should look something like 'Authorization: Bearer YOUR_SECRET_KEY'. See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."
    );
    Draft::invalid_request(401, message).finish()
}

/// 401: the key is unknown, mistyped, deleted or from another account.
pub fn invalid_api_key(masked_key: &str) -> RenderedError {
    Draft::invalid_request(401, format!("{INVALID_KEY_PREFIX}{masked_key}")).finish()
}

/// 401 `api_key_expired`: the key's expiry has passed.
pub fn expired_api_key(masked_key: &str) -> RenderedError {
    Draft::invalid_request(401, format!("{EXPIRED_KEY_PREFIX}{masked_key}"))
        .code(code::API_KEY_EXPIRED)
        .finish()
}

/// 401: the key has an IP allowlist and the caller is outside it. Stripe sometimes appends the
/// caller's address in parentheses; pass it as `ip` to do the same. No `code` has been observed.
pub fn ip_not_allowed(ip: Option<&str>) -> RenderedError {
    let message = match ip {
        Some(ip) => format!("{IP_MESSAGE} ({ip})"),
        None => IP_MESSAGE.to_owned(),
    };
    Draft::invalid_request(401, message).finish()
}

/// 401 `secret_key_required`: a publishable key was used on a secret-only endpoint.
pub fn secret_key_required() -> RenderedError {
    Draft::invalid_request(401, PUBLISHABLE_MESSAGE.to_owned())
        .code(code::SECRET_KEY_REQUIRED)
        .finish()
}

/// What a restricted-key refusal reports, for [`permission_error`].
#[derive(Debug, Clone, Copy)]
pub struct PermissionRefusal<'a> {
    /// The key as Stripe shows it (already masked).
    pub masked_key: &'a str,
    /// The account the request ran on.
    pub account_id: &'a str,
    /// The permissions any one of which would allow the request.
    pub permissions: &'a [PermissionName],
    /// The id of the key object, for the 2026 edit link. Empty leaves the link out.
    pub key_object_id: &'a str,
}

/// 403: a restricted key was refused, worded as in `era`.
///
/// - [`PermissionErrorEra::Current`] names each permission as `"<label>" ('<id>')`. Stripe's
///   captures only show one permission; for several, the pairs are joined with `, ` as template A
///   joins its ids, which keeps every label in quotes so labels containing commas ("Webhook
///   Endpoints, Event Destinations Read") stay readable. An empty label is left out, leaving
///   `('<id>')`. The body carries `code: more_permissions_required` and no `doc_url` (Stripe has
///   no page for that code).
/// - [`PermissionErrorEra::Rak`] and [`PermissionErrorEra::Apps`] quote ids as `'rak_<id>'` and
///   `'<id>'`, switching to "permissions"/"scopes" for several.
/// - With no permission to name, those three eras fall back to template B
///   ([`PermissionErrorEra::MorePermissions`]), the only one that names none.
/// - [`PermissionErrorEra::Unavailable`] ignores the permissions.
pub fn permission_error(era: PermissionErrorEra, refusal: &PermissionRefusal<'_>) -> RenderedError {
    let opening = format!(
        "The provided key '{}' {REQUIRED_PERMISSIONS_FRAGMENT} for this endpoint on account '{}'.",
        refusal.masked_key, refusal.account_id
    );
    let names_permissions = !refusal.permissions.is_empty();
    let plural = refusal.permissions.len() > 1;
    match era {
        PermissionErrorEra::Current if names_permissions => {
            let list = refusal
                .permissions
                .iter()
                .map(|permission| {
                    let id = bare_id(&permission.id);
                    if permission.label.is_empty() {
                        format!("('{id}')")
                    } else {
                        format!("\"{}\" ('{id}')", permission.label)
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            let mut message = format!(
                "{PERMISSION_DENIED_OPENING} {opening} {ENABLING_MARKER}{list} permissions on this key would allow this request to continue."
            );
            if !refusal.key_object_id.is_empty() {
                message.push(' ');
                message.push_str(EDIT_LINK_SENTENCE);
                message.push_str(&edit_permissions_url(
                    refusal.account_id,
                    refusal.key_object_id,
                ));
            }
            Draft::invalid_request(403, message)
                .code_without_doc_url(code::MORE_PERMISSIONS_REQUIRED)
                .finish()
        }
        PermissionErrorEra::Rak if names_permissions => {
            let list = quoted_list(refusal.permissions, |id| format!("rak_{id}"));
            let noun = if plural { "permissions" } else { "permission" };
            Draft::invalid_request(
                403,
                format!(
                    "{opening} {HAVING_THE_MARKER}{list} {noun} would allow this request to continue."
                ),
            )
            .finish()
        }
        PermissionErrorEra::Apps if names_permissions => {
            let list = quoted_list(refusal.permissions, str::to_owned);
            let noun = if plural { "scopes" } else { "scope" };
            Draft::invalid_request(
                403,
                format!(
                    "{APPS_OPENING} for this endpoint on account '{}'. {HAVING_THE_MARKER}{list} {noun} would allow this request to continue.",
                    refusal.account_id
                ),
            )
            .finish()
        }
        PermissionErrorEra::Unavailable => {
            Draft::invalid_request(403, format!("{opening} {UNAVAILABLE_SENTENCE}")).finish()
        }
        PermissionErrorEra::Current
        | PermissionErrorEra::Rak
        | PermissionErrorEra::Apps
        | PermissionErrorEra::MorePermissions => {
            Draft::invalid_request(403, format!("{opening} {MORE_PERMISSIONS_SENTENCE}")).finish()
        }
    }
}

/// 403: a restricted key was sent with `Stripe-Account` but holds no Connect permission. The
/// status is inferred from its family (permission refusals); no `code` has been observed.
pub fn no_connect_permissions() -> RenderedError {
    Draft::invalid_request(403, NO_CONNECT_MESSAGE.to_owned()).finish()
}

/// 403 `account_invalid`: `Stripe-Account` names an account the key cannot reach.
pub fn account_invalid(masked_key: &str, account_id: &str) -> RenderedError {
    let message = format!(
        "The provided key '{masked_key}' {ACCOUNT_ACCESS_FRAGMENT} '{account_id}' (or that account does not exist). Application access may have been revoked."
    );
    Draft::invalid_request(403, message)
        .code(code::ACCOUNT_INVALID)
        .finish()
}

/// `resource_missing`: `No such <object>: '<id>'` with `param` set. `object` is the name Stripe
/// uses in the sentence (`customer`, `price`, …).
pub fn resource_missing(object: &str, id: &str, param: &str, lookup: Lookup) -> RenderedError {
    Draft::invalid_request(
        lookup.status(),
        format!("{NO_SUCH_FRAGMENT}{object}: '{id}'"),
    )
    .code(code::RESOURCE_MISSING)
    .param(param)
    .finish()
}

/// `resource_missing` for an object that exists only in the other mode: `exists_in` is the mode
/// that holds it, and the key used was of the other mode.
pub fn resource_missing_in_other_mode(
    object: &str,
    id: &str,
    param: &str,
    exists_in: ApiMode,
    lookup: Lookup,
) -> RenderedError {
    let message = format!(
        "{NO_SUCH_FRAGMENT}{object}: '{id}'; a similar object exists in {} mode, but a {} mode key was used to make this request.",
        exists_in.as_str(),
        exists_in.other().as_str()
    );
    Draft::invalid_request(lookup.status(), message)
        .code(code::RESOURCE_MISSING)
        .param(param)
        .finish()
}

/// 404 for a path no route matches. Only the first sentence is rendered (as stripe-mock does); the
/// real API appends pointers to its docs that the reference does not quote.
pub fn unrecognized_url(method: &str, path: &str) -> RenderedError {
    Draft::invalid_request(
        404,
        format!("{UNRECOGNIZED_URL_FRAGMENT} ({method}: {path})."),
    )
    .finish()
}

/// 429 `rate_limit`.
pub fn rate_limited() -> RenderedError {
    Draft::invalid_request(429, RATE_LIMIT_MESSAGE.to_owned())
        .code(code::RATE_LIMIT)
        .finish()
}

/// 429 `lock_timeout`: another request holds the object.
pub fn lock_timeout() -> RenderedError {
    Draft::invalid_request(429, LOCK_TIMEOUT_MESSAGE.to_owned())
        .code(code::LOCK_TIMEOUT)
        .finish()
}

/// 400 `idempotency_error`: the key was first used with other parameters.
pub fn idempotency_mismatch(idempotency_key: &str) -> RenderedError {
    let message = format!(
        "{IDEMPOTENCY_MISMATCH_FRAGMENT} with the same parameters they were first used with. Try using a key other than '{idempotency_key}' if you meant to execute a different request."
    );
    Draft::new(400, IDEMPOTENCY_ERROR, message).finish()
}

/// 409 `idempotency_key_in_use`: the first request with this key is still running. The `type` is
/// `invalid_request_error`, as on Stripe's other non-server errors.
pub fn idempotency_key_in_use(idempotency_key: &str) -> RenderedError {
    let message = format!(
        "There is currently another in-progress request {IDEMPOTENCY_IN_USE_FRAGMENT} (that probably means you submitted twice, and the other request is still going through): {idempotency_key}. Please try again later."
    );
    Draft::invalid_request(409, message)
        .code(code::IDEMPOTENCY_KEY_IN_USE)
        .finish()
}

/// 400 `parameter_missing`.
pub fn parameter_missing(param: &str) -> RenderedError {
    Draft::invalid_request(400, format!("Missing required param: {param}."))
        .code(code::PARAMETER_MISSING)
        .param(param)
        .finish()
}

/// 400 `parameter_unknown`.
pub fn parameter_unknown(param: &str) -> RenderedError {
    Draft::invalid_request(400, format!("Received unknown parameter: {param}"))
        .code(code::PARAMETER_UNKNOWN)
        .param(param)
        .finish()
}

/// 400 `parameter_invalid_empty`: an empty string for a parameter that cannot be unset.
pub fn parameter_invalid_empty(param: &str) -> RenderedError {
    let message = format!(
        "You passed an empty string for '{param}'. We assume empty values are an attempt to unset a parameter; however '{param}' cannot be unset. You should remove '{param}' from your request or supply a non-empty value."
    );
    Draft::invalid_request(400, message)
        .code(code::PARAMETER_INVALID_EMPTY)
        .param(param)
        .finish()
}

/// 400 for a parameter that must be a hash (`metadata[key]=…`) but was sent as a plain value:
/// Stripe answers "Invalid hash" with the parameter and no code.
pub fn invalid_hash(param: &str) -> RenderedError {
    Draft::invalid_request(400, "Invalid hash".to_owned())
        .param(param)
        .finish()
}

/// 400 for a parameter that must be an array (`expand[]=…`) but was sent as a plain value or a
/// hash: Stripe answers "Invalid array" with the parameter and no code.
pub fn invalid_array(param: &str) -> RenderedError {
    Draft::invalid_request(400, "Invalid array".to_owned())
        .param(param)
        .finish()
}

/// 400 `parameter_invalid_integer`: `"Invalid integer: <value>"`.
pub fn invalid_integer(param: &str, value: &str) -> RenderedError {
    Draft::invalid_request(400, format!("Invalid integer: {value}"))
        .code(code::PARAMETER_INVALID_INTEGER)
        .param(param)
        .finish()
}

/// 400 for a request body or query string that cannot be decoded at all (bad percent-encoding,
/// unbalanced brackets). Stripe's wording for these is not recorded, so the message is rakguard's
/// own (`"Invalid request parameter '<param>': <detail>."`); it carries the parameter and no code.
pub fn malformed_parameter(param: &str, detail: &str) -> RenderedError {
    Draft::invalid_request(
        400,
        format!("Invalid request parameter '{param}': {detail}."),
    )
    .param(param)
    .finish()
}

/// 500 `api_error` with the given message (see [`DEFAULT_API_ERROR_MESSAGE`]).
pub fn api_error(message: &str) -> RenderedError {
    Draft::new(500, API_ERROR, message.to_owned()).finish()
}

/// The `type` of a declined payment.
pub const CARD_ERROR: &str = "card_error";

/// 402 `card_error` / `card_declined`: the issuer declined a payment. `decline_code` is Stripe's
/// (`generic_decline`, `insufficient_funds`, `lost_card`, …) and picks the message Stripe shows
/// customers ("Your card was declined." for most codes, "Your card has insufficient funds." for
/// `insufficient_funds`). `charge_id` and `payment_intent_id` fill `charge` and `payment_intent`
/// when known; Stripe puts the whole PaymentIntent object under `payment_intent`, which callers
/// holding it may substitute into the body.
pub fn card_declined(
    decline_code: &str,
    charge_id: Option<&str>,
    payment_intent_id: Option<&str>,
) -> RenderedError {
    let message = match decline_code {
        "insufficient_funds" => "Your card has insufficient funds.",
        _ => "Your card was declined.",
    };
    let mut draft = Draft::new(402, CARD_ERROR, message.to_owned())
        .code("card_declined")
        .set("decline_code", decline_code);
    if let Some(charge) = charge_id {
        draft = draft.set("charge", charge);
    }
    if let Some(intent) = payment_intent_id {
        draft = draft.set("payment_intent", intent);
    }
    draft.finish()
}

/// 400 `invalid_request_error` for a request refused because of the object's state, with the
/// `code` and sentence Stripe uses (the caller quotes them, e.g. `payment_intent_unexpected_state`
/// "You cannot cancel this PaymentIntent because it has a status of succeeded. …",
/// `charge_already_refunded` "Charge ch_… has already been refunded.").
pub fn invalid_state(code: &str, message: &str, param: Option<&str>) -> RenderedError {
    let draft = Draft::invalid_request(400, message.to_owned()).code(code);
    match param {
        Some(param) => draft.param(param),
        None => draft,
    }
    .finish()
}

/// One permission read from a refusal message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ParsedPermission {
    /// The bare scope id (`plan_read`), with any `rak_` prefix removed.
    pub id: String,
    /// The Dashboard label, when the message gives one (2026 template only).
    pub label: Option<String>,
}

/// A restricted-key refusal read back from its message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParsedPermissionError {
    /// The template the message follows. `None` for the Connect refusal, whose wording is the same
    /// in every capture.
    pub era: Option<PermissionErrorEra>,
    /// Which of the three refusals it is.
    pub kind: RefusalKind,
    /// The permissions named, in message order; any one of them would allow the request.
    pub permissions: Vec<ParsedPermission>,
    /// The masked key, as quoted.
    pub masked_key: Option<String>,
    /// The account, from "on account '…'" or else from the edit link.
    pub account_id: Option<String>,
    /// The Dashboard link that ends 2026 messages.
    pub edit_url: Option<String>,
    /// The key object's id, decoded from the edit link's `destination`.
    pub key_object_id: Option<String>,
}

impl ParsedPermissionError {
    fn empty(era: Option<PermissionErrorEra>, kind: RefusalKind) -> Self {
        ParsedPermissionError {
            era,
            kind,
            permissions: Vec::new(),
            masked_key: None,
            account_id: None,
            edit_url: None,
            key_object_id: None,
        }
    }

    /// The bare ids of the permissions named.
    pub fn permission_ids(&self) -> impl Iterator<Item = &str> {
        self.permissions
            .iter()
            .map(|permission| permission.id.as_str())
    }

    /// Whether the endpoint cannot be called with any restricted key.
    pub fn is_unavailable_to_restricted_keys(&self) -> bool {
        self.kind == RefusalKind::UnavailableToRestrictedKeys
    }

    /// Whether the refusal is the Connect one (`Stripe-Account` with no Connect permissions).
    pub fn is_no_connect_permissions(&self) -> bool {
        self.kind == RefusalKind::NoConnectPermissions
    }
}

/// Reads a restricted-key refusal message of any era. Returns `None` for anything else, including
/// the `account_invalid` message, which shares the opening "The provided key …".
///
/// Tolerates what real captures show: labels with or without quotes, no "on account …" part, no
/// trailing link, plural forms, the Apps "scope" wording, `rak_` or bare ids, and elisions. A
/// message that is recognisably a refusal but names no permission and matches no other template
/// is reported as [`PermissionErrorEra::MorePermissions`].
pub fn parse_permission_message(message: &str) -> Option<ParsedPermissionError> {
    let text = message.trim();
    if text.contains(NO_CONNECT_FRAGMENT) {
        return Some(ParsedPermissionError::empty(
            None,
            RefusalKind::NoConnectPermissions,
        ));
    }
    let names_scopes = text.contains("' scope") || text.contains(" scopes would allow");
    let looks_like_refusal = text.contains(REQUIRED_PERMISSIONS_FRAGMENT)
        || text.contains(UNAVAILABLE_FRAGMENT)
        || text.contains("permissions on this key")
        || (text.contains(HAVING_THE_MARKER) && (text.contains(" permission") || names_scopes));
    if !looks_like_refusal {
        return None;
    }

    let era = if text.contains(UNAVAILABLE_FRAGMENT) {
        PermissionErrorEra::Unavailable
    } else if text.contains(APPS_OPENING) || names_scopes {
        PermissionErrorEra::Apps
    } else if text.contains(MORE_PERMISSIONS_FRAGMENT) {
        PermissionErrorEra::MorePermissions
    } else if text.starts_with("Permission denied")
        || text.contains(ENABLING_MARKER)
        || text.contains("permissions on this key")
        || text.contains(EDIT_LINK_SENTENCE)
        || find_id_marker(text).is_some()
    {
        PermissionErrorEra::Current
    } else if text.contains(HAVING_THE_MARKER) {
        PermissionErrorEra::Rak
    } else {
        PermissionErrorEra::MorePermissions
    };
    let kind = if era == PermissionErrorEra::Unavailable {
        RefusalKind::UnavailableToRestrictedKeys
    } else {
        RefusalKind::MissingPermission
    };

    let permissions = match era {
        PermissionErrorEra::Current => {
            let labelled = labelled_permissions(text);
            if labelled.is_empty() {
                having_list(text)
            } else {
                labelled
            }
        }
        PermissionErrorEra::Rak | PermissionErrorEra::Apps => having_list(text),
        PermissionErrorEra::MorePermissions | PermissionErrorEra::Unavailable => Vec::new(),
    };

    let edit_url = edit_link(text);
    let key_object_id = edit_url.as_deref().and_then(key_object_id_from_link);
    let account_id = value_after(text, "on account ")
        .or_else(|| edit_url.as_deref().and_then(account_from_link));
    Some(ParsedPermissionError {
        era: Some(era),
        kind,
        permissions,
        masked_key: value_after(text, "provided key "),
        account_id,
        edit_url,
        key_object_id,
    })
}

/// Strips the `rak_` prefix older messages put on scope ids.
fn bare_id(id: &str) -> &str {
    id.strip_prefix("rak_").unwrap_or(id)
}

fn quoted_list(permissions: &[PermissionName], spell: impl Fn(&str) -> String) -> String {
    permissions
        .iter()
        .map(|permission| format!("'{}'", spell(bare_id(&permission.id))))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The closing quote for an opening one, for the quote styles seen in captures.
fn closing_quote(open: char) -> Option<char> {
    match open {
        '\'' => Some('\''),
        '"' => Some('"'),
        '\u{2018}' => Some('\u{2019}'),
        '\u{201c}' => Some('\u{201d}'),
        _ => None,
    }
}

fn is_quote(c: char) -> bool {
    matches!(
        c,
        '\'' | '"' | '\u{2018}' | '\u{2019}' | '\u{201c}' | '\u{201d}'
    )
}

/// The value written right after `marker`: a quoted string, or else the next word without
/// trailing punctuation.
fn value_after(text: &str, marker: &str) -> Option<String> {
    let start = text.find(marker)? + marker.len();
    let rest = text.get(start..)?.trim_start();
    let first = rest.chars().next()?;
    let value = match closing_quote(first) {
        Some(close) => {
            let inner = rest.get(first.len_utf8()..)?;
            match inner.find(close) {
                Some(end) => inner.get(..end)?,
                None => inner.split_whitespace().next()?,
            }
        }
        None => rest.split_whitespace().next()?,
    };
    let value = value
        .trim()
        .trim_end_matches(|c: char| matches!(c, '.' | ',' | ';' | ':' | ')') || is_quote(c));
    (!value.is_empty()).then(|| value.to_owned())
}

/// Every quoted string in `region`, in order. An unterminated quote ends the scan.
fn quoted_values(region: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut rest = region;
    while let Some((start, open)) = rest
        .char_indices()
        .find(|&(_, c)| closing_quote(c).is_some())
    {
        let Some(close) = closing_quote(open) else {
            break;
        };
        let Some(after_open) = rest.get(start + open.len_utf8()..) else {
            break;
        };
        let Some(end) = after_open.find(close) else {
            break;
        };
        let value = after_open.get(..end).unwrap_or_default().trim();
        if !value.is_empty() {
            values.push(value.to_owned());
        }
        rest = after_open.get(end + close.len_utf8()..).unwrap_or_default();
    }
    values
}

/// The quoted ids of templates A and Apps: everything quoted between "Having the " and the word
/// "permission"/"scope" (or "would allow", or the end when the message is cut short).
fn having_list(text: &str) -> Vec<ParsedPermission> {
    let Some(start) = text.find(HAVING_THE_MARKER) else {
        return Vec::new();
    };
    let region = text
        .get(start + HAVING_THE_MARKER.len()..)
        .unwrap_or_default();
    let end = [" permission", " scope", " would allow"]
        .iter()
        .filter_map(|word| region.find(word))
        .min()
        .unwrap_or(region.len());
    quoted_values(region.get(..end).unwrap_or_default())
        .into_iter()
        .map(|id| ParsedPermission {
            id: bare_id(&id).to_owned(),
            label: None,
        })
        .filter(|permission| !permission.id.is_empty())
        .collect()
}

/// Finds the next `('id')` marker of the 2026 template: its start, the id, and the end.
fn find_id_marker(text: &str) -> Option<(usize, &str, usize)> {
    let mut from = 0;
    while let Some(offset) = text.get(from..)?.find('(') {
        let paren = from + offset;
        let after_paren = text.get(paren + 1..)?;
        if let Some(open) = after_paren.chars().next()
            && let Some(close) = closing_quote(open)
            && let Some(inner) = after_paren.get(open.len_utf8()..)
            && let Some(end) = inner.find(&format!("{close})"))
            && let Some(id) = inner.get(..end)
            && !id.trim().is_empty()
            && !id
                .chars()
                .any(|c| c.is_whitespace() || c == '(' || c == ')')
        {
            let marker_end = paren + 1 + open.len_utf8() + end + close.len_utf8() + 1;
            return Some((paren, id.trim(), marker_end));
        }
        from = paren + 1;
    }
    None
}

/// The `"<label>" ('<id>')` pairs of the 2026 template. The first label is read only when the
/// list follows "Enabling "; later labels are the text between one marker and the next.
fn labelled_permissions(text: &str) -> Vec<ParsedPermission> {
    let (mut rest, mut label_first) = match text.find(ENABLING_MARKER) {
        Some(start) => (
            text.get(start + ENABLING_MARKER.len()..)
                .unwrap_or_default(),
            true,
        ),
        None => (text, false),
    };
    let mut permissions = Vec::new();
    while let Some((start, id, end)) = find_id_marker(rest) {
        let label = if label_first {
            clean_label(rest.get(..start).unwrap_or_default())
        } else {
            None
        };
        let id = bare_id(id);
        if !id.is_empty() {
            permissions.push(ParsedPermission {
                id: id.to_owned(),
                label,
            });
        }
        rest = rest.get(end..).unwrap_or_default();
        label_first = true;
        // The list ends where the sentence does.
        if !(rest.starts_with(',') || rest.starts_with(" or ") || rest.starts_with(" and ")) {
            break;
        }
    }
    permissions
}

/// A label as written before `('id')`: list separators, outer quotes and spaces removed.
fn clean_label(raw: &str) -> Option<String> {
    let mut label = raw.trim().trim_start_matches(',').trim_start();
    for separator in ["or ", "and "] {
        if let Some(stripped) = label.strip_prefix(separator) {
            label = stripped.trim_start();
        }
    }
    let label = label
        .trim()
        .trim_end_matches(',')
        .trim()
        .trim_matches(is_quote)
        .trim();
    (!label.is_empty()).then(|| label.to_owned())
}

/// The Dashboard link in the message, without trailing punctuation.
fn edit_link(text: &str) -> Option<String> {
    let start = text.find(DASHBOARD_ORIGIN)?;
    let link = text.get(start..)?.split_whitespace().next()?;
    let link = link.trim_end_matches(|c: char| matches!(c, '.' | ',' | ')') || is_quote(c));
    Some(link.to_owned())
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The key object id inside `destination=%2Fapikeys%2F<id>%2Fedit`.
fn key_object_id_from_link(link: &str) -> Option<String> {
    let decoded = percent_decode_str(link).decode_utf8_lossy();
    let start = decoded.find("/apikeys/")? + "/apikeys/".len();
    let id: String = decoded
        .get(start..)?
        .chars()
        .take_while(|&c| is_id_char(c) || c == '-' || c == '.')
        .collect();
    (!id.is_empty() && id != "create").then_some(id)
}

/// The account in the link's `/b/<account>` path.
fn account_from_link(link: &str) -> Option<String> {
    let start = link.find("/b/")? + "/b/".len();
    let account: String = link
        .get(start..)?
        .chars()
        .take_while(|&c| is_id_char(c))
        .collect();
    (!account.is_empty()).then_some(account)
}

/// What a Stripe error response means to rakguard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum StripeErrorKind {
    /// 403: the restricted key lacks a permission it could be given.
    MissingPermission(ParsedPermissionError),
    /// 403: no restricted key can call this endpoint.
    RestrictedUnavailable,
    /// 403: the restricted key has no Connect permissions and `Stripe-Account` was sent.
    NoConnectPermissions,
    /// 401: no key was sent, or the `Authorization` header carried none.
    NoApiKey,
    /// 401: the key is unknown (mistyped, deleted, other account). Any 401 that matches nothing
    /// more precise lands here, as the SDKs treat every 401 as an authentication failure.
    InvalidApiKey {
        /// The masked key Stripe echoed, if any.
        masked: Option<String>,
    },
    /// 401 `api_key_expired` (or `platform_api_key_expired`).
    ExpiredApiKey {
        /// The masked key Stripe echoed, if any.
        masked: Option<String>,
    },
    /// The key's IP allowlist excludes the caller.
    IpNotAllowed,
    /// 401 `secret_key_required`: a publishable key on a secret-only endpoint.
    PublishableKeyNotAllowed,
    /// 403 `account_invalid`: `Stripe-Account` names an account the key cannot reach.
    AccountInvalid,
    /// 429 (or 400 with `code: rate_limit`): slow down and retry.
    RateLimited {
        /// Whether it is the object lock (`lock_timeout`) rather than a rate limit.
        lock_timeout: bool,
    },
    /// `resource_missing`: the object does not exist (so the key was allowed to look).
    ResourceMissing {
        /// The parameter naming the object.
        param: Option<String>,
        /// The mode where a similar object exists, when Stripe says so.
        exists_in: Option<ApiMode>,
    },
    /// 404 for a URL no route matches; says nothing about permissions.
    UnrecognizedUrl,
    /// `idempotency_error`, or 409 `idempotency_key_in_use`.
    IdempotencyError {
        /// Whether the first request with the key is still running (409), rather than the key
        /// having been used with other parameters (400).
        in_use: bool,
    },
    /// Another 400/404 about the request itself (missing, unknown or empty parameter, …).
    InvalidRequest {
        /// The error code, if any.
        code: Option<String>,
        /// The parameter at fault, if any.
        param: Option<String>,
    },
    /// 5xx or `api_error`: Stripe's side failed.
    ApiError,
    /// Anything else (card errors, unknown statuses, bodies that say nothing recognisable).
    Other,
}

/// A Stripe error response, read: what it means plus the envelope's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("Stripe answered HTTP {status}: {}", .message.as_deref().unwrap_or("(no message)"))]
pub struct StripeError {
    /// The HTTP status.
    pub status: u16,
    /// What the response means.
    pub kind: StripeErrorKind,
    /// The envelope's `type`.
    pub error_type: Option<String>,
    /// The envelope's `code`.
    pub code: Option<String>,
    /// The envelope's `param`.
    pub param: Option<String>,
    /// The envelope's `message`.
    pub message: Option<String>,
    /// The envelope's `doc_url`.
    pub doc_url: Option<String>,
    /// The envelope's `request_log_url`.
    pub request_log_url: Option<String>,
}

/// The string fields of an error object.
#[derive(Default)]
struct Fields {
    error_type: Option<String>,
    code: Option<String>,
    param: Option<String>,
    message: Option<String>,
    doc_url: Option<String>,
    request_log_url: Option<String>,
}

impl Fields {
    /// Reads `{"error": {...}}`. Also accepts the object without the envelope, and the OAuth shape
    /// `{"error": "<code>", "error_description": "…"}`. Anything else yields no fields.
    fn parse(body: &str) -> Fields {
        let Ok(Value::Object(mut top)) = serde_json::from_str::<Value>(body.trim()) else {
            return Fields::default();
        };
        match top.remove("error") {
            Some(Value::Object(error)) => Fields::from_object(&error),
            Some(Value::String(oauth_code)) => Fields {
                code: non_empty(oauth_code),
                message: string_field(&top, "error_description"),
                ..Fields::default()
            },
            _ => Fields::from_object(&top),
        }
    }

    fn from_object(error: &Map<String, Value>) -> Fields {
        Fields {
            error_type: string_field(error, "type"),
            code: string_field(error, "code"),
            param: string_field(error, "param"),
            message: string_field(error, "message"),
            doc_url: string_field(error, "doc_url"),
            request_log_url: string_field(error, "request_log_url"),
        }
    }
}

fn non_empty(value: String) -> Option<String> {
    (!value.trim().is_empty()).then_some(value)
}

fn string_field(object: &Map<String, Value>, name: &str) -> Option<String> {
    match object.get(name) {
        Some(Value::String(value)) => non_empty(value.clone()),
        _ => None,
    }
}

/// Reads a Stripe error response. Never fails: bodies that are not JSON, or lack fields, are
/// classified from what is there (for a non-JSON body, the status alone).
///
/// The decision uses the `code` first, then `type` and the status, and only then short stable
/// fragments of the message to tell apart cases that share a status and have no code.
pub fn classify(status: u16, body: &str) -> StripeError {
    let fields = Fields::parse(body);
    let kind = kind_of(status, &fields);
    StripeError {
        status,
        kind,
        error_type: fields.error_type,
        code: fields.code,
        param: fields.param,
        message: fields.message,
        doc_url: fields.doc_url,
        request_log_url: fields.request_log_url,
    }
}

fn kind_of(status: u16, fields: &Fields) -> StripeErrorKind {
    let message = fields.message.as_deref().unwrap_or_default();
    if let Some(kind) = fields
        .code
        .as_deref()
        .and_then(|code| kind_from_code(code, fields, message))
    {
        return kind;
    }
    if fields.error_type.as_deref() == Some(IDEMPOTENCY_ERROR) {
        return StripeErrorKind::IdempotencyError {
            in_use: status == 409,
        };
    }
    match status {
        400 => bad_request_kind(fields, message),
        401 => unauthorized_kind(message),
        403 => forbidden_kind(message),
        404 => not_found_kind(fields, message),
        409 if message.contains(IDEMPOTENCY_IN_USE_FRAGMENT) => {
            StripeErrorKind::IdempotencyError { in_use: true }
        }
        429 => StripeErrorKind::RateLimited {
            lock_timeout: message.contains(LOCK_TIMEOUT_FRAGMENT),
        },
        500..=599 => StripeErrorKind::ApiError,
        _ if fields.error_type.as_deref() == Some(API_ERROR) => StripeErrorKind::ApiError,
        _ => StripeErrorKind::Other,
    }
}

fn kind_from_code(code: &str, fields: &Fields, message: &str) -> Option<StripeErrorKind> {
    let kind = match code {
        code::MORE_PERMISSIONS_REQUIRED => match parse_permission_message(message) {
            Some(parsed) => refusal_kind(parsed),
            None => StripeErrorKind::MissingPermission(ParsedPermissionError::empty(
                Some(PermissionErrorEra::Current),
                RefusalKind::MissingPermission,
            )),
        },
        code::API_KEY_EXPIRED | code::PLATFORM_API_KEY_EXPIRED => StripeErrorKind::ExpiredApiKey {
            masked: key_after(message, EXPIRED_KEY_PREFIX),
        },
        code::SECRET_KEY_REQUIRED => StripeErrorKind::PublishableKeyNotAllowed,
        code::ACCOUNT_INVALID => StripeErrorKind::AccountInvalid,
        code::RATE_LIMIT => StripeErrorKind::RateLimited {
            lock_timeout: false,
        },
        code::LOCK_TIMEOUT => StripeErrorKind::RateLimited { lock_timeout: true },
        code::RESOURCE_MISSING => resource_missing_kind(fields, message),
        code::IDEMPOTENCY_KEY_IN_USE => StripeErrorKind::IdempotencyError { in_use: true },
        _ => return None,
    };
    Some(kind)
}

fn refusal_kind(parsed: ParsedPermissionError) -> StripeErrorKind {
    match parsed.kind {
        RefusalKind::UnavailableToRestrictedKeys => StripeErrorKind::RestrictedUnavailable,
        RefusalKind::NoConnectPermissions => StripeErrorKind::NoConnectPermissions,
        RefusalKind::MissingPermission => StripeErrorKind::MissingPermission(parsed),
    }
}

fn resource_missing_kind(fields: &Fields, message: &str) -> StripeErrorKind {
    let exists_in = if message.contains("exists in test mode") {
        Some(ApiMode::Test)
    } else if message.contains("exists in live mode") {
        Some(ApiMode::Live)
    } else {
        None
    };
    StripeErrorKind::ResourceMissing {
        param: fields.param.clone(),
        exists_in,
    }
}

/// The masked key after `prefix` ("Invalid API Key provided: …"), without quotes.
fn key_after(message: &str, prefix: &str) -> Option<String> {
    value_after(message, prefix)
}

fn bad_request_kind(fields: &Fields, message: &str) -> StripeErrorKind {
    if message.starts_with(NO_SUCH_FRAGMENT) {
        resource_missing_kind(fields, message)
    } else if message.contains(IDEMPOTENCY_MISMATCH_FRAGMENT) {
        StripeErrorKind::IdempotencyError { in_use: false }
    } else {
        StripeErrorKind::InvalidRequest {
            code: fields.code.clone(),
            param: fields.param.clone(),
        }
    }
}

fn unauthorized_kind(message: &str) -> StripeErrorKind {
    if message.contains(NO_KEY_FRAGMENT) {
        StripeErrorKind::NoApiKey
    } else if message.contains(EXPIRED_KEY_PREFIX.trim_end()) {
        StripeErrorKind::ExpiredApiKey {
            masked: key_after(message, EXPIRED_KEY_PREFIX),
        }
    } else if message.contains(IP_FRAGMENT) {
        StripeErrorKind::IpNotAllowed
    } else if message.contains(PUBLISHABLE_FRAGMENT) {
        StripeErrorKind::PublishableKeyNotAllowed
    } else {
        StripeErrorKind::InvalidApiKey {
            masked: key_after(message, INVALID_KEY_PREFIX),
        }
    }
}

fn forbidden_kind(message: &str) -> StripeErrorKind {
    if let Some(parsed) = parse_permission_message(message) {
        refusal_kind(parsed)
    } else if message.contains(ACCOUNT_ACCESS_FRAGMENT) {
        StripeErrorKind::AccountInvalid
    } else if message.contains(IP_FRAGMENT) {
        StripeErrorKind::IpNotAllowed
    } else {
        StripeErrorKind::Other
    }
}

fn not_found_kind(fields: &Fields, message: &str) -> StripeErrorKind {
    if message.starts_with(UNRECOGNIZED_URL_FRAGMENT) {
        StripeErrorKind::UnrecognizedUrl
    } else if message.starts_with(NO_SUCH_FRAGMENT) {
        resource_missing_kind(fields, message)
    } else if fields.code.is_some() {
        StripeErrorKind::InvalidRequest {
            code: fields.code.clone(),
            param: fields.param.clone(),
        }
    } else {
        StripeErrorKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::sample::{Index, select};
    use serde_json::json;

    use PermissionErrorEra::{Apps, Current, MorePermissions, Rak, Unavailable};

    const KEY: &str = "rk_live_****BuW4ie";
    const ACCT: &str = "acct_1Nv0FGQ9RKHgCVdK";

    /// A one-line description of a parse result: era, kind, key, account, permissions, link.
    fn describe(parsed: Option<&ParsedPermissionError>) -> String {
        let Some(parsed) = parsed else {
            return "none".to_owned();
        };
        let permissions = parsed
            .permissions
            .iter()
            .map(|permission| match &permission.label {
                Some(label) => format!("{} \"{label}\"", permission.id),
                None => permission.id.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let mut line = format!(
            "{} {} key={} acct={} [{permissions}]",
            parsed.era.map_or("-", PermissionErrorEra::as_str),
            parsed.kind.as_str(),
            parsed.masked_key.as_deref().unwrap_or("-"),
            parsed.account_id.as_deref().unwrap_or("-"),
        );
        match (&parsed.key_object_id, &parsed.edit_url) {
            (Some(id), _) => line.push_str(&format!(" obj={id}")),
            (None, Some(_)) => line.push_str(" link"),
            (None, None) => {}
        }
        line
    }

    fn check(message: &str, expected: &str) {
        let parsed = parse_permission_message(message);
        assert_eq!(describe(parsed.as_ref()), expected, "message: {message}");
    }

    /// Template A around a quoted list, with the noun the list needs.
    fn template_a(list: &str, noun: &str) -> String {
        format!(
            "The provided key 'rk_live_*****Ab12Cd' does not have the required permissions for this endpoint on account 'acct_1'. Having the {list} {noun} would allow this request to continue."
        )
    }

    /// Template D around a permission list, with the placeholder key object id `mk_1`.
    fn template_d(list: &str) -> String {
        format!(
            "Permission denied. The provided key '{KEY}' does not have the required permissions for this endpoint on account '{ACCT}'. Enabling {list} permissions on this key would allow this request to continue. You can edit permissions at https://dashboard.stripe.com/b/{ACCT}?destination=%2Fapikeys%2Fmk_1%2Fedit"
        )
    }

    fn d(expected_permissions: &str) -> String {
        format!(
            "current missing_permission key={KEY} acct={ACCT} [{expected_permissions}] obj=mk_1"
        )
    }

    fn a(expected_permissions: &str) -> String {
        format!(
            "rak missing_permission key=rk_live_*****Ab12Cd acct=acct_1 [{expected_permissions}]"
        )
    }

    #[test]
    #[rustfmt::skip]
    fn reads_template_a_ids_from_the_reference() {
        check(&template_a("'rak_subscription_read'", "permission"), &a("subscription_read"));
        check(&template_a("'rak_accounts_kyc_id_numbers_read'", "permission"), &a("accounts_kyc_id_numbers_read"));
        check(&template_a("'rak_accounts_kyc_basic_read'", "permission"), &a("accounts_kyc_basic_read"));
        check(&template_a("'rak_connected_account_read'", "permission"), &a("connected_account_read"));
        check(&template_a("'rak_plan_write'", "permission"), &a("plan_write"));
        check(&template_a("'rak_dispute_write'", "permission"), &a("dispute_write"));
        check(&template_a("'rak_topup_read'", "permission"), &a("topup_read"));
        check(&template_a("'rak_topup_write'", "permission"), &a("topup_write"));
        check(&template_a("'rak_credit_note_read'", "permission"), &a("credit_note_read"));
        check(&template_a("'rak_invoice_item_read'", "permission"), &a("invoice_item_read"));
        check(&template_a("'rak_stripecli_session_write'", "permission"), &a("stripecli_session_write"));
        check(&template_a("'rak_financial_statement_read'", "permission"), &a("financial_statement_read"));
        check(&template_a("'rak_payment_intent_read', 'rak_checkout_session_read'", "permissions"), &a("payment_intent_read, checkout_session_read"));
    }

    #[test]
    #[rustfmt::skip]
    fn reads_template_a_variants() {
        // The reference's own wording, elisions included.
        check("The provided key 'rk_…' does not have the required permissions for this endpoint on account 'acct_…'. Having the 'rak_…' permission would allow this request to continue.", "rak missing_permission key=rk_… acct=acct_… […]");
        // The plural sentence on its own, as the reference quotes it.
        check("Having the 'rak_payment_intent_read', 'rak_checkout_session_read' permissions would allow this request to continue.", "rak missing_permission key=- acct=- [payment_intent_read, checkout_session_read]");
        // 2019-style double quotes around the key.
        check("The provided key \"sk_test…JhB\" does not have the required permissions for this endpoint on account 'acct_1'. Having the 'rak_charge_read' permission would allow this request to continue.", "rak missing_permission key=sk_test…JhB acct=acct_1 [charge_read]");
        // Cut short after the id.
        check("The provided key 'rk_test_***abcdef' does not have the required permissions for this endpoint on account 'acct_1'. Having the 'rak_customer_read'", "rak missing_permission key=rk_test_***abcdef acct=acct_1 [customer_read]");
        // Bare id in the old sentence.
        check(&template_a("'customer_write'", "permission"), &a("customer_write"));
    }

    #[test]
    #[rustfmt::skip]
    fn reads_templates_b_and_c() {
        check("The provided key 'sk_live_***Ab12Cd' does not have the required permissions for this endpoint on account 'acct_1'. Having more permissions would allow this request to continue.", "more_permissions missing_permission key=sk_live_***Ab12Cd acct=acct_1 []");
        check("…does not have the required permissions for this endpoint on account 'acct_1'. Having more permissions would allow this request to continue.", "more_permissions missing_permission key=- acct=acct_1 []");
        check("The provided key 'rk_live_***Ab12Cd' does not have the required permissions for this endpoint on account 'acct_1'. This is a restricted API key, but the required permissions are not available for use by restricted keys.", "unavailable unavailable_to_restricted_keys key=rk_live_***Ab12Cd acct=acct_1 []");
        check("…This is a restricted API key, but the required permissions are not available for use by restricted keys.", "unavailable unavailable_to_restricted_keys key=- acct=- []");
        // A refusal cut before it names anything.
        check("The provided key 'rk_live_***Ab12Cd' does not have the required permissions for this endpoint on account 'acct_1'.", "more_permissions missing_permission key=rk_live_***Ab12Cd acct=acct_1 []");
    }

    #[test]
    #[rustfmt::skip]
    fn reads_template_d_pairs_from_the_reference() {
        check(&template_d("\"Prices Read\" ('plan_read')"), &d("plan_read \"Prices Read\""));
        check(&template_d("\"Prices Write\" ('plan_write')"), &d("plan_write \"Prices Write\""));
        check(&template_d("\"Charges and Refunds Read\" ('charge_read')"), &d("charge_read \"Charges and Refunds Read\""));
        check(&template_d("\"Checkout Sessions Read\" ('checkout_session_read')"), &d("checkout_session_read \"Checkout Sessions Read\""));
        check(&template_d("\"Checkout Sessions Write\" ('checkout_session_write')"), &d("checkout_session_write \"Checkout Sessions Write\""));
        check(&template_d("\"Customers Write\" ('customer_write')"), &d("customer_write \"Customers Write\""));
        check(&template_d("\"Coupons Write\" ('coupon_write')"), &d("coupon_write \"Coupons Write\""));
        check(&template_d("\"Basic Business Contact Information Read\" ('accounts_kyc_basic_read')"), &d("accounts_kyc_basic_read \"Basic Business Contact Information Read\""));
        check(&template_d("\"Webhook Endpoints, Event Destinations Read\" ('webhook_read')"), &d("webhook_read \"Webhook Endpoints, Event Destinations Read\""));
    }

    #[test]
    #[rustfmt::skip]
    fn reads_template_d_ids_seen_without_labels() {
        check(&template_d("('credit_note_read')"), &d("credit_note_read"));
        check(&template_d("('product_write')"), &d("product_write"));
        check(&template_d("('billing_meter_read')"), &d("billing_meter_read"));
        check(&template_d("('tax_settings_read')"), &d("tax_settings_read"));
        check(&template_d("('subscription_write')"), &d("subscription_write"));
        check(&template_d("('webhook_write')"), &d("webhook_write"));
    }

    #[test]
    #[rustfmt::skip]
    fn reads_template_d_variants() {
        // The reference's capture, with its elisions and an unquoted label holding a comma.
        check("Permission denied. … Enabling Webhook Endpoints, Event Destinations Read ('webhook_read') permissions on this key would allow this request to continue. You can edit permissions at https://dashboard.stripe.com/…", "current missing_permission key=- acct=- [webhook_read \"Webhook Endpoints, Event Destinations Read\"] link");
        // Unquoted label.
        check(&template_d("Prices Read ('plan_read')"), &d("plan_read \"Prices Read\""));
        // No "on account" part: the account comes from the link.
        check("Permission denied. The provided key 'rk_live_***j4va7j' does not have the required permissions for this endpoint. Enabling \"Prices Read\" ('plan_read') permissions on this key would allow this request to continue. You can edit permissions at https://dashboard.stripe.com/b/acct_1Q?destination=%2Fapikeys%2Fmk_1%2Fedit", "current missing_permission key=rk_live_***j4va7j acct=acct_1Q [plan_read \"Prices Read\"] obj=mk_1");
        // No trailing link.
        check("Permission denied. The provided key 'sk_test_***qPsl' does not have the required permissions for this endpoint on account 'acct_1'. Enabling \"Customers Write\" ('customer_write') permissions on this key would allow this request to continue.", "current missing_permission key=sk_test_***qPsl acct=acct_1 [customer_write \"Customers Write\"]");
        // Neither: the id marker alone is enough.
        check("The provided key 'rk_live_***BuW4ie' does not have the required permissions for this endpoint. Enabling Coupons Write ('coupon_write') permissions on this key would allow this request to continue.", "current missing_permission key=rk_live_***BuW4ie acct=- [coupon_write \"Coupons Write\"]");
        // Several permissions, as rendered here and with "or".
        check(&template_d("\"Prices Read\" ('plan_read'), \"Prices Write\" ('plan_write')"), &d("plan_read \"Prices Read\", plan_write \"Prices Write\""));
        check(&template_d("\"Checkout Sessions Read\" ('checkout_session_read') or \"Checkout Sessions Write\" ('checkout_session_write')"), &d("checkout_session_read \"Checkout Sessions Read\", checkout_session_write \"Checkout Sessions Write\""));
        // A rak_ prefix in the new sentence is still stripped.
        check(&template_d("\"Prices Read\" ('rak_plan_read')"), &d("plan_read \"Prices Read\""));
    }

    #[test]
    #[rustfmt::skip]
    fn reads_apps_and_connect_wording() {
        check("This application does not have the required permissions for this endpoint on account 'acct_…'. Having the 'customer_read' scope would allow this request to continue.", "apps missing_permission key=- acct=acct_… [customer_read]");
        check("This application does not have the required permissions for this endpoint on account 'acct_1'. Having the 'customer_read', 'charge_read' scopes would allow this request to continue.", "apps missing_permission key=- acct=acct_1 [customer_read, charge_read]");
        check("You passed a restricted API key with the Stripe-Account header, but the restricted API key does not have any Connect permissions.", "- no_connect_permissions key=- acct=- []");
    }

    #[test]
    #[rustfmt::skip]
    fn ignores_messages_that_are_not_permission_refusals() {
        check("The provided key 'sk_test_***qPsl' does not have access to account 'acct_1' (or that account does not exist). Application access may have been revoked.", "none");
        check("Invalid API Key provided: pk_test_********fyDZ", "none");
        check("You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.", "none");
        check("For security reasons, the Stripe CLI only permits the use of restricted keys when in live mode. To generate restricted keys for use in live mode, use the `stripe login` command.", "none");
        check("Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.", "none");
        check("Permission denied", "none");
        check("", "none");
    }

    fn refusal<'a>(permissions: &'a [PermissionName]) -> PermissionRefusal<'a> {
        PermissionRefusal {
            masked_key: KEY,
            account_id: ACCT,
            permissions,
            key_object_id: "mk_1",
        }
    }

    #[test]
    fn renders_each_era_with_stripes_wording() {
        let one = [PermissionName::new("plan_read", "Prices Read")];
        let two = [
            PermissionName::new("payment_intent_read", "PaymentIntents Read"),
            PermissionName::new("rak_checkout_session_read", "Checkout Sessions Read"),
        ];
        let opening = format!(
            "The provided key '{KEY}' does not have the required permissions for this endpoint on account '{ACCT}'."
        );
        let current = permission_error(Current, &refusal(&one));
        assert_eq!(
            current.message(),
            Some(template_d("\"Prices Read\" ('plan_read')").as_str())
        );
        assert_eq!(
            (current.status, current.code(), current.field("doc_url")),
            (403, Some("more_permissions_required"), None)
        );
        assert_eq!(
            permission_error(Current, &refusal(&two)).message(),
            Some(template_d("\"PaymentIntents Read\" ('payment_intent_read'), \"Checkout Sessions Read\" ('checkout_session_read')").as_str())
        );
        let rak = permission_error(Rak, &refusal(&one));
        assert_eq!(rak.message(), Some(format!("{opening} Having the 'rak_plan_read' permission would allow this request to continue.").as_str()));
        assert_eq!((rak.status, rak.code()), (403, None));
        assert_eq!(
            permission_error(Rak, &refusal(&two)).message(),
            Some(format!("{opening} Having the 'rak_payment_intent_read', 'rak_checkout_session_read' permissions would allow this request to continue.").as_str())
        );
        assert_eq!(
            permission_error(MorePermissions, &refusal(&one)).message(),
            Some(
                format!("{opening} Having more permissions would allow this request to continue.")
                    .as_str()
            )
        );
        assert_eq!(
            permission_error(Unavailable, &refusal(&one)).message(),
            Some(format!("{opening} This is a restricted API key, but the required permissions are not available for use by restricted keys.").as_str())
        );
        assert_eq!(
            permission_error(Apps, &refusal(&one)).message(),
            Some(format!("This application does not have the required permissions for this endpoint on account '{ACCT}'. Having the 'plan_read' scope would allow this request to continue.").as_str())
        );
        assert_eq!(
            permission_error(Apps, &refusal(&two)).message(),
            Some(format!("This application does not have the required permissions for this endpoint on account '{ACCT}'. Having the 'payment_intent_read', 'checkout_session_read' scopes would allow this request to continue.").as_str())
        );
    }

    #[test]
    fn eras_that_name_permissions_fall_back_to_template_b_without_any() {
        for era in [Current, Rak, Apps, MorePermissions] {
            let rendered = permission_error(era, &refusal(&[]));
            let parsed = rendered.message().and_then(parse_permission_message);
            assert_eq!(
                parsed.map(|parsed| parsed.era),
                Some(Some(MorePermissions)),
                "{era}"
            );
            assert_eq!(rendered.code(), None);
        }
    }

    #[test]
    fn current_era_without_key_object_leaves_the_link_out() {
        let one = [PermissionName::new("plan_read", "")];
        let rendered = permission_error(
            Current,
            &PermissionRefusal {
                key_object_id: "",
                ..refusal(&one)
            },
        );
        assert_eq!(
            rendered.message(),
            Some(format!("Permission denied. The provided key '{KEY}' does not have the required permissions for this endpoint on account '{ACCT}'. Enabling ('plan_read') permissions on this key would allow this request to continue.").as_str())
        );
    }

    #[test]
    fn every_era_round_trips_through_the_parser() {
        let permissions = [
            PermissionName::new("webhook_read", "Webhook Endpoints, Event Destinations Read"),
            PermissionName::new("charge_read", "Charges and Refunds Read"),
        ];
        for era in PermissionErrorEra::ALL {
            let rendered = permission_error(era, &refusal(&permissions));
            let parsed = rendered.message().and_then(parse_permission_message);
            assert!(parsed.is_some(), "{era} did not parse");
            let Some(parsed) = parsed else { continue };
            assert_eq!(parsed.era, Some(era));
            assert_eq!(parsed.account_id.as_deref(), Some(ACCT), "{era}");
            let expected_ids: Vec<&str> = match era {
                Current | Rak | Apps => vec!["webhook_read", "charge_read"],
                _ => vec![],
            };
            assert_eq!(
                parsed.permission_ids().collect::<Vec<_>>(),
                expected_ids,
                "{era}"
            );
            let labels: Vec<Option<&str>> = parsed
                .permissions
                .iter()
                .map(|p| p.label.as_deref())
                .collect();
            match era {
                Current => {
                    assert_eq!(
                        labels,
                        [
                            Some("Webhook Endpoints, Event Destinations Read"),
                            Some("Charges and Refunds Read")
                        ]
                    );
                    assert_eq!(parsed.key_object_id.as_deref(), Some("mk_1"));
                    assert_eq!(parsed.edit_url, Some(edit_permissions_url(ACCT, "mk_1")));
                }
                _ => assert!(labels.iter().all(Option::is_none), "{era}"),
            }
            let expected_key = (era != Apps).then_some(KEY);
            assert_eq!(parsed.masked_key.as_deref(), expected_key, "{era}");
            assert_eq!(
                parsed.is_unavailable_to_restricted_keys(),
                era == Unavailable
            );
        }
        let connect = no_connect_permissions();
        let parsed = connect.message().and_then(parse_permission_message);
        assert!(parsed.is_some_and(|parsed| parsed.is_no_connect_permissions()));
    }

    #[test]
    #[rustfmt::skip]
    fn renders_the_other_errors_with_stripes_wording() {
        let cases: Vec<(RenderedError, u16, Option<&str>, &str)> = vec![
            (no_api_key(), 401, None, "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."),
            (empty_api_key("null"), 401, None, "You did not provide an API key, though you did set your Authorization header to \"null\". Using Bearer auth, your Authorization header should look something like 'Authorization: Bearer YOUR_SECRET_KEY'. See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."),
            (empty_api_key("Bearer"), 401, None, "You did not provide an API key, though you did set your Authorization header to \"Bearer\". Using Bearer auth, your Authorization header should look something like 'Authorization: Bearer YOUR_SECRET_KEY'. See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."),
            (invalid_api_key("pk_test_********fyDZ"), 401, None, "Invalid API Key provided: pk_test_********fyDZ"),
            (expired_api_key("rk_test_*****aaaaaa"), 401, Some("api_key_expired"), "Expired API Key provided: rk_test_*****aaaaaa"),
            (ip_not_allowed(None), 401, None, "The API key provided does not allow requests from your IP address."),
            (ip_not_allowed(Some("1.2.3.4")), 401, None, "The API key provided does not allow requests from your IP address. (1.2.3.4)"),
            (secret_key_required(), 401, Some("secret_key_required"), "This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys."),
            (no_connect_permissions(), 403, None, "You passed a restricted API key with the Stripe-Account header, but the restricted API key does not have any Connect permissions."),
            (account_invalid("sk_test_***qPsl", "acct_1"), 403, Some("account_invalid"), "The provided key 'sk_test_***qPsl' does not have access to account 'acct_1' (or that account does not exist). Application access may have been revoked."),
            (resource_missing("customer", "5", "customer", Lookup::Path), 404, Some("resource_missing"), "No such customer: '5'"),
            (resource_missing_in_other_mode("customer", "cus_1", "customer", ApiMode::Test, Lookup::Parameter), 400, Some("resource_missing"), "No such customer: 'cus_1'; a similar object exists in test mode, but a live mode key was used to make this request."),
            (resource_missing_in_other_mode("price", "price_1", "price", ApiMode::Live, Lookup::Path), 404, Some("resource_missing"), "No such price: 'price_1'; a similar object exists in live mode, but a test mode key was used to make this request."),
            (unrecognized_url("GET", "/v1/nope"), 404, None, "Unrecognized request URL (GET: /v1/nope)."),
            (rate_limited(), 429, Some("rate_limit"), "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits."),
            (lock_timeout(), 429, Some("lock_timeout"), "This object cannot be accessed right now because another API request or Stripe process is currently accessing it. If you see this error intermittently, retry the request. If you see this error frequently and are making multiple concurrent requests to a single object, make your requests serially or at a lower rate."),
            (idempotency_mismatch("k1"), 400, None, "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than 'k1' if you meant to execute a different request."),
            (idempotency_key_in_use("k1"), 409, Some("idempotency_key_in_use"), "There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): k1. Please try again later."),
            (parameter_missing("amount"), 400, Some("parameter_missing"), "Missing required param: amount."),
            (parameter_unknown("name"), 400, Some("parameter_unknown"), "Received unknown parameter: name"),
            (parameter_invalid_empty("customer"), 400, Some("parameter_invalid_empty"), "You passed an empty string for 'customer'. We assume empty values are an attempt to unset a parameter; however 'customer' cannot be unset. You should remove 'customer' from your request or supply a non-empty value."),
            (api_error(DEFAULT_API_ERROR_MESSAGE), 500, None, DEFAULT_API_ERROR_MESSAGE),
        ];
        for (rendered, status, code, message) in cases {
            assert_eq!((rendered.status, rendered.code(), rendered.message()), (status, code, Some(message)));
            let expected_doc_url = code.map(doc_url);
            assert_eq!(rendered.field("doc_url").map(str::to_owned), expected_doc_url, "{message}");
        }
    }

    #[test]
    fn envelopes_match_stripes_field_layout() {
        assert_eq!(
            resource_missing("customer", "5", "customer", Lookup::Path).body,
            json!({"error": {"code": "resource_missing", "doc_url": "https://stripe.com/docs/error-codes/resource-missing", "message": "No such customer: '5'", "param": "customer", "type": "invalid_request_error"}})
        );
        assert_eq!(
            rate_limited().body,
            json!({"error": {"code": "rate_limit", "doc_url": "https://stripe.com/docs/error-codes/rate-limit", "message": "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.", "type": "invalid_request_error"}})
        );
        assert_eq!(
            idempotency_mismatch("k").field("type"),
            Some("idempotency_error")
        );
        assert_eq!(api_error("boom").field("type"), Some("api_error"));
        let logged = invalid_api_key("sk_test_***1234")
            .with_request_log_url("https://dashboard.stripe.com/test/logs/req_1");
        assert_eq!(
            logged.field("request_log_url"),
            Some("https://dashboard.stripe.com/test/logs/req_1")
        );
        assert_eq!(
            classify(logged.status, &logged.body_string())
                .request_log_url
                .as_deref(),
            Some("https://dashboard.stripe.com/test/logs/req_1")
        );
    }

    #[test]
    fn doc_urls_and_edit_links_follow_stripes_patterns() {
        assert_eq!(
            doc_url("api_key_expired"),
            "https://stripe.com/docs/error-codes/api-key-expired"
        );
        assert_eq!(
            doc_url("rate_limit"),
            "https://stripe.com/docs/error-codes/rate-limit"
        );
        assert_eq!(
            edit_permissions_url("acct_1", "mk_1"),
            "https://dashboard.stripe.com/b/acct_1?destination=%2Fapikeys%2Fmk_1%2Fedit"
        );
        assert_eq!(
            key_object_id_from_link(&edit_permissions_url("acct_1", "mk/odd id")).as_deref(),
            Some("mk")
        );
    }

    fn describe_kind(kind: &StripeErrorKind) -> String {
        match kind {
            StripeErrorKind::MissingPermission(parsed) => {
                format!("MissingPermission({})", describe(Some(parsed)))
            }
            other => format!("{other:?}"),
        }
    }

    fn check_classify(status: u16, body: &str, expected: &str) {
        assert_eq!(
            describe_kind(&classify(status, body).kind),
            expected,
            "{status} {body}"
        );
    }

    fn error(fields: Value) -> String {
        json!({ "error": fields }).to_string()
    }

    fn message(text: &str) -> String {
        error(json!({"type": "invalid_request_error", "message": text}))
    }

    #[test]
    #[rustfmt::skip]
    fn classifies_authentication_failures() {
        check_classify(401, &message("You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."), "NoApiKey");
        check_classify(401, r#"{"status":401,"message":"You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.","type":"invalid_request_error"}"#, "NoApiKey");
        check_classify(401, &message("You did not provide an API key, though you did set your Authorization header to \"null\". Using Bearer auth, your Authorization header should look something like 'Authorization: Bearer YOUR_SECRET_KEY'. See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."), "NoApiKey");
        check_classify(401, &message("Invalid API Key provided: pk_test_********************fyDZ"), "InvalidApiKey { masked: Some(\"pk_test_********************fyDZ\") }");
        check_classify(401, &message("Invalid API Key provided: pi_1PiXF****zlzo"), "InvalidApiKey { masked: Some(\"pi_1PiXF****zlzo\") }");
        check_classify(401, &message("Invalid API Key provided: tok_********rPGQ"), "InvalidApiKey { masked: Some(\"tok_********rPGQ\") }");
        check_classify(401, &message("Invalid API Key provided: \"sk_test…JhB\""), "InvalidApiKey { masked: Some(\"sk_test…JhB\") }");
        check_classify(401, &message("Invalid API Key provided: … This key contains at least one space. Please delete the spaces and try again…"), "InvalidApiKey { masked: Some(\"…\") }");
        check_classify(401, &error(json!({"type": "invalid_request_error", "code": "api_key_expired", "doc_url": "https://stripe.com/docs/error-codes/api-key-expired", "message": "Expired API Key provided: rk_test_*****aaaaaa"})), "ExpiredApiKey { masked: Some(\"rk_test_*****aaaaaa\") }");
        check_classify(401, &message("Expired API Key provided: rk_test_*****aaaaaa"), "ExpiredApiKey { masked: Some(\"rk_test_*****aaaaaa\") }");
        check_classify(401, &error(json!({"type": "invalid_request_error", "code": "platform_api_key_expired", "message": "…"})), "ExpiredApiKey { masked: None }");
        check_classify(401, &message("This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys."), "PublishableKeyNotAllowed");
        check_classify(401, &error(json!({"type": "invalid_request_error", "code": "secret_key_required", "message": "…"})), "PublishableKeyNotAllowed");
        check_classify(401, &message("The API key provided does not allow requests from your IP address."), "IpNotAllowed");
        check_classify(401, &message("The API key provided does not allow requests from your IP address. (1.2.3.4)"), "IpNotAllowed");
        check_classify(403, &message("The API key provided does not allow requests from your IP address."), "IpNotAllowed");
        check_classify(401, &message("Please authenticate by specifying an `Authorization` header with any valid looking testmode secret API key. For example, `Authorization: Bearer sk_test_123`. Authorization was 'x'."), "InvalidApiKey { masked: None }");
        check_classify(401, "Unauthorized", "InvalidApiKey { masked: None }");
    }

    #[test]
    #[rustfmt::skip]
    fn classifies_permission_refusals() {
        check_classify(403, &message(&template_a("'rak_plan_write'", "permission")), &format!("MissingPermission({})", a("plan_write")));
        check_classify(403, &error(json!({"type": "invalid_request_error", "code": "more_permissions_required", "message": template_d("\"Prices Read\" ('plan_read')"), "request_log_url": "https://dashboard.stripe.com/logs/req_1"})), &format!("MissingPermission({})", d("plan_read \"Prices Read\"")));
        check_classify(403, &error(json!({"type": "invalid_request_error", "code": "more_permissions_required", "message": "something new"})), "MissingPermission(current missing_permission key=- acct=- [])");
        check_classify(403, &error(json!({"type": "invalid_request_error", "code": "more_permissions_required"})), "MissingPermission(current missing_permission key=- acct=- [])");
        check_classify(403, &message("The provided key 'sk_live_***Ab12Cd' does not have the required permissions for this endpoint on account 'acct_1'. Having more permissions would allow this request to continue."), "MissingPermission(more_permissions missing_permission key=sk_live_***Ab12Cd acct=acct_1 [])");
        check_classify(403, &message("The provided key 'rk_live_***Ab12Cd' does not have the required permissions for this endpoint on account 'acct_1'. This is a restricted API key, but the required permissions are not available for use by restricted keys."), "RestrictedUnavailable");
        check_classify(403, &message("This application does not have the required permissions for this endpoint on account 'acct_1'. Having the 'customer_read' scope would allow this request to continue."), "MissingPermission(apps missing_permission key=- acct=acct_1 [customer_read])");
        check_classify(403, &message("You passed a restricted API key with the Stripe-Account header, but the restricted API key does not have any Connect permissions."), "NoConnectPermissions");
        check_classify(403, &error(json!({"type": "invalid_request_error", "code": "account_invalid", "doc_url": "https://stripe.com/docs/error-codes/account-invalid", "message": "The provided key 'sk_test_***qPsl' does not have access to account 'acct_1' (or that account does not exist). Application access may have been revoked."})), "AccountInvalid");
        check_classify(403, &message("The provided key 'sk_test_***qPsl' does not have access to account 'acct_1' (or that account does not exist). Application access may have been revoked."), "AccountInvalid");
        check_classify(403, &error(json!({"type": "invalid_request_error", "code": "platform_account_required", "message": "Only Stripe Connect platforms can work with other accounts. If you specified a client_id parameter, make sure it's correct."})), "Other");
        check_classify(400, &error(json!({"type": "invalid_request_error", "code": "platform_account_required", "message": "Only Stripe Connect platforms can work with other accounts. If you specified a client_id parameter, make sure it's correct."})), "InvalidRequest { code: Some(\"platform_account_required\"), param: None }");
        check_classify(403, &message("For security reasons, the Stripe CLI only permits the use of restricted keys when in live mode. To generate restricted keys for use in live mode, use the `stripe login` command."), "Other");
        check_classify(403, "<html>Forbidden</html>", "Other");
    }

    #[test]
    #[rustfmt::skip]
    fn classifies_lookups_limits_and_request_errors() {
        check_classify(404, r#"{"error":{"code":"resource_missing","doc_url":"https://stripe.com/docs/error-codes/resource-missing","message":"No such customer: '5'","param":"customer","type":"invalid_request_error"}}"#, "ResourceMissing { param: Some(\"customer\"), exists_in: None }");
        check_classify(400, &error(json!({"type": "invalid_request_error", "code": "resource_missing", "param": "customer", "message": "No such customer: 'cus_…'; a similar object exists in test mode, but a live mode key was used to make this request."})), "ResourceMissing { param: Some(\"customer\"), exists_in: Some(Test) }");
        check_classify(404, &message("No such price: 'price_1'"), "ResourceMissing { param: None, exists_in: None }");
        check_classify(404, &message("Unrecognized request URL (GET: /v1/nope). Please see https://stripe.com/docs or we can help at https://support.stripe.com/."), "UnrecognizedUrl");
        check_classify(404, "Not Found", "Other");
        check_classify(429, r#"{"error":{"code":"rate_limit","doc_url":"https://stripe.com/docs/error-codes/rate-limit","message":"Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.","type":"invalid_request_error"}}"#, "RateLimited { lock_timeout: false }");
        check_classify(429, &error(json!({"type": "invalid_request_error", "code": "lock_timeout", "message": LOCK_TIMEOUT_MESSAGE})), "RateLimited { lock_timeout: true }");
        check_classify(429, &message(LOCK_TIMEOUT_MESSAGE), "RateLimited { lock_timeout: true }");
        check_classify(429, "", "RateLimited { lock_timeout: false }");
        check_classify(400, &error(json!({"type": "invalid_request_error", "code": "rate_limit", "message": "…"})), "RateLimited { lock_timeout: false }");
        check_classify(400, &error(json!({"type": "idempotency_error", "message": "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '5f07aeb4-3e07-4f84-be27-905074e61db7' if you meant to execute a different request."})), "IdempotencyError { in_use: false }");
        check_classify(400, &message("Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than 'k' if you meant to execute a different request."), "IdempotencyError { in_use: false }");
        check_classify(409, &error(json!({"type": "invalid_request_error", "code": "idempotency_key_in_use", "message": "…"})), "IdempotencyError { in_use: true }");
        check_classify(409, &message("There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): k. Please try again later."), "IdempotencyError { in_use: true }");
        check_classify(400, &error(json!({"type": "invalid_request_error", "code": "parameter_missing", "param": "amount", "message": "Missing required param: amount."})), "InvalidRequest { code: Some(\"parameter_missing\"), param: Some(\"amount\") }");
        check_classify(400, &message("Received unknown parameter: name"), "InvalidRequest { code: None, param: None }");
        check_classify(400, &error(json!({"type": "invalid_request_error", "code": "parameter_invalid_empty", "param": "line_items[0][images]", "message": "You passed an empty string for 'line_items[0][images]'. …", "decline_code": null})), "InvalidRequest { code: Some(\"parameter_invalid_empty\"), param: Some(\"line_items[0][images]\") }");
        check_classify(500, &error(json!({"type": "api_error", "message": "An unknown error occurred"})), "ApiError");
        check_classify(502, "<html>Bad Gateway</html>", "ApiError");
        check_classify(402, &error(json!({"type": "card_error", "code": "card_declined", "message": "Your card was declined."})), "Other");
        check_classify(400, r#"{"error": "invalid_grant", "error_description": "Authorization code expired"}"#, "InvalidRequest { code: Some(\"invalid_grant\"), param: None }");
        check_classify(200, "{}", "Other");
    }

    #[test]
    fn classify_keeps_the_envelope_fields_and_tolerates_odd_ones() {
        let body = json!({"error": {"type": "invalid_request_error", "code": "resource_missing", "param": "customer", "message": "No such customer: '5'", "doc_url": "https://stripe.com/docs/error-codes/resource-missing", "request_log_url": "https://dashboard.stripe.com/logs/req_1", "charge": null, "future_field": {"nested": [1, 2]}}});
        let error = classify(404, &body.to_string());
        assert_eq!(error.error_type.as_deref(), Some("invalid_request_error"));
        assert_eq!(error.code.as_deref(), Some("resource_missing"));
        assert_eq!(error.param.as_deref(), Some("customer"));
        assert_eq!(error.message.as_deref(), Some("No such customer: '5'"));
        assert_eq!(
            error.doc_url.as_deref(),
            Some("https://stripe.com/docs/error-codes/resource-missing")
        );
        assert_eq!(
            error.request_log_url.as_deref(),
            Some("https://dashboard.stripe.com/logs/req_1")
        );
        assert_eq!(
            error.to_string(),
            "Stripe answered HTTP 404: No such customer: '5'"
        );
        // Wrongly typed fields are ignored rather than failing the read.
        let odd = classify(
            403,
            r#"{"error": {"type": 3, "code": ["x"], "message": null}}"#,
        );
        assert_eq!(
            (odd.kind, odd.error_type, odd.code, odd.message),
            (StripeErrorKind::Other, None, None, None)
        );
        assert_eq!(
            classify(500, "not json").to_string(),
            "Stripe answered HTTP 500: (no message)"
        );
    }

    #[test]
    #[rustfmt::skip]
    fn every_rendered_error_classifies_as_itself() {
        let one = [PermissionName::new("plan_read", "Prices Read")];
        let cases = [
            (no_api_key(), "NoApiKey".to_owned()),
            (empty_api_key("Bearer"), "NoApiKey".to_owned()),
            (invalid_api_key("sk_test_***1234"), "InvalidApiKey { masked: Some(\"sk_test_***1234\") }".to_owned()),
            (expired_api_key("rk_test_***aaaaaa"), "ExpiredApiKey { masked: Some(\"rk_test_***aaaaaa\") }".to_owned()),
            (ip_not_allowed(Some("1.2.3.4")), "IpNotAllowed".to_owned()),
            (secret_key_required(), "PublishableKeyNotAllowed".to_owned()),
            (permission_error(Current, &refusal(&one)), format!("MissingPermission({})", d("plan_read \"Prices Read\""))),
            (permission_error(Unavailable, &refusal(&one)), "RestrictedUnavailable".to_owned()),
            (no_connect_permissions(), "NoConnectPermissions".to_owned()),
            (account_invalid("sk_test_***qPsl", "acct_1"), "AccountInvalid".to_owned()),
            (resource_missing("customer", "cus_x", "customer", Lookup::Path), "ResourceMissing { param: Some(\"customer\"), exists_in: None }".to_owned()),
            (resource_missing_in_other_mode("customer", "cus_x", "customer", ApiMode::Live, Lookup::Parameter), "ResourceMissing { param: Some(\"customer\"), exists_in: Some(Live) }".to_owned()),
            (unrecognized_url("POST", "/v1/nope"), "UnrecognizedUrl".to_owned()),
            (rate_limited(), "RateLimited { lock_timeout: false }".to_owned()),
            (lock_timeout(), "RateLimited { lock_timeout: true }".to_owned()),
            (idempotency_mismatch("k"), "IdempotencyError { in_use: false }".to_owned()),
            (idempotency_key_in_use("k"), "IdempotencyError { in_use: true }".to_owned()),
            (parameter_missing("amount"), "InvalidRequest { code: Some(\"parameter_missing\"), param: Some(\"amount\") }".to_owned()),
            (parameter_unknown("name"), "InvalidRequest { code: Some(\"parameter_unknown\"), param: Some(\"name\") }".to_owned()),
            (parameter_invalid_empty("customer"), "InvalidRequest { code: Some(\"parameter_invalid_empty\"), param: Some(\"customer\") }".to_owned()),
            (api_error(DEFAULT_API_ERROR_MESSAGE), "ApiError".to_owned()),
        ];
        for (rendered, expected) in cases {
            check_classify(rendered.status, &rendered.body_string(), &expected);
        }
    }

    /// Real messages to damage in the near-miss property.
    const REAL_MESSAGES: &[&str] = &[
        "The provided key 'rk_live_*****Ab12Cd' does not have the required permissions for this endpoint on account 'acct_1'. Having the 'rak_payment_intent_read', 'rak_checkout_session_read' permissions would allow this request to continue.",
        "Permission denied. The provided key 'rk_live_****BuW4ie' does not have the required permissions for this endpoint on account 'acct_1'. Enabling \"Prices Read\" ('plan_read') permissions on this key would allow this request to continue. You can edit permissions at https://dashboard.stripe.com/b/acct_1?destination=%2Fapikeys%2Fmk_1%2Fedit",
        "Permission denied. … Enabling Webhook Endpoints, Event Destinations Read ('webhook_read') permissions on this key would allow this request to continue. You can edit permissions at https://dashboard.stripe.com/…",
        "This application does not have the required permissions for this endpoint on account 'acct_…'. Having the 'customer_read' scope would allow this request to continue.",
        "The provided key 'rk_live_***Ab12Cd' does not have the required permissions for this endpoint on account 'acct_1'. This is a restricted API key, but the required permissions are not available for use by restricted keys.",
        "You passed a restricted API key with the Stripe-Account header, but the restricted API key does not have any Connect permissions.",
        "The provided key 'sk_test_***qPsl' does not have access to account 'acct_1' (or that account does not exist). Application access may have been revoked.",
    ];

    #[rustfmt::skip]
    const FRAGMENTS: &[&str] = &[
        "The provided key '", "' does not have the required permissions", " for this endpoint on account '",
        "Having the '", "rak_", "' permission", "' scope", " scopes would allow", "Having more permissions",
        "Enabling ", "\"", "('", "')", "(\"", " permissions on this key", "You can edit permissions at ",
        "https://dashboard.stripe.com/b/", "?destination=%2Fapikeys%2F", "%2Fedit", "%E2%82", "Permission denied.",
        "not available for use by restricted keys", "does not have any Connect permissions", "…", "é", "‘", "“",
        "(", ")", "'", ",", " or ", "/apikeys/", "/b/", " ",
    ];

    /// Inserts `insert` into `base` after `at` characters, then keeps `keep` characters.
    fn damage(base: &str, at: Index, insert: &str, keep: Index) -> String {
        let chars: Vec<char> = base.chars().collect();
        let split = at.index(chars.len() + 1);
        let mut damaged: Vec<char> = chars[..split].to_vec();
        damaged.extend(insert.chars());
        damaged.extend(&chars[split..]);
        let keep = keep.index(damaged.len() + 1);
        damaged[..keep].iter().collect()
    }

    fn id_strategy() -> impl Strategy<Value = String> {
        // Ids never start with `r`, so none begins with the `rak_` prefix the parser strips.
        "[a-qs-z][a-z0-9_]{0,20}[a-z0-9]"
    }

    fn label_strategy() -> impl Strategy<Value = String> {
        "[A-Z][A-Za-z0-9 ,&|-]{0,30}[A-Za-z0-9]"
    }

    fn permissions_strategy() -> impl Strategy<Value = Vec<PermissionName>> {
        prop::collection::vec((id_strategy(), label_strategy()), 1..5).prop_map(|pairs| {
            pairs
                .into_iter()
                .map(|(id, label)| PermissionName::new(id, label))
                .collect()
        })
    }

    proptest! {
        #[test]
        fn parsing_never_panics_on_arbitrary_text(text in any::<String>()) {
            let _ = parse_permission_message(&text);
        }

        #[test]
        fn parsing_never_panics_on_damaged_messages(
            base in select(REAL_MESSAGES),
            at in any::<Index>(),
            insert in "\\PC{0,12}",
            keep in any::<Index>(),
        ) {
            let _ = parse_permission_message(&damage(base, at, &insert, keep));
        }

        #[test]
        fn parsing_never_panics_on_fragment_soup(parts in prop::collection::vec(select(FRAGMENTS), 0..16)) {
            let text = parts.concat();
            let _ = parse_permission_message(&text);
            let _ = classify(403, &message(&text));
        }

        #[test]
        fn classify_never_panics(status in any::<u16>(), body in any::<String>()) {
            let _ = classify(status, &body);
        }

        #[test]
        fn classify_never_panics_on_envelopes(
            status in prop::sample::select(vec![400u16, 401, 403, 404, 409, 429, 500, 418]),
            kind in any::<Option<String>>(),
            code in prop::option::of(select(vec!["more_permissions_required", "api_key_expired", "resource_missing", "rate_limit", "x"])),
            base in select(REAL_MESSAGES),
            at in any::<Index>(),
            insert in "\\PC{0,12}",
            keep in any::<Index>(),
        ) {
            let body = error(json!({"type": kind, "code": code, "message": damage(base, at, &insert, keep)}));
            let _ = classify(status, &body);
        }

        #[test]
        fn current_era_round_trips(
            permissions in permissions_strategy(),
            key in "(rk|sk)_(test|live)_\\*{3,12}[A-Za-z0-9]{4,6}",
            account in "acct_[A-Za-z0-9]{16}",
            key_object in "mk_[A-Za-z0-9]{1,24}",
        ) {
            let refusal = PermissionRefusal { masked_key: &key, account_id: &account, permissions: &permissions, key_object_id: &key_object };
            let rendered = permission_error(Current, &refusal);
            let parsed = rendered.message().and_then(parse_permission_message);
            prop_assert!(parsed.is_some());
            let parsed = parsed.unwrap_or_else(|| ParsedPermissionError::empty(None, RefusalKind::MissingPermission));
            let expected: Vec<ParsedPermission> = permissions.iter().map(|p| ParsedPermission { id: p.id.clone(), label: Some(p.label.clone()) }).collect();
            prop_assert_eq!(parsed.era, Some(Current));
            prop_assert_eq!(parsed.permissions, expected);
            prop_assert_eq!(parsed.masked_key, Some(key));
            prop_assert_eq!(parsed.account_id, Some(account));
            prop_assert_eq!(parsed.key_object_id, Some(key_object));
            let classified = classify(rendered.status, &rendered.body_string());
            prop_assert!(matches!(classified.kind, StripeErrorKind::MissingPermission(_)));
        }

        #[test]
        fn rak_and_apps_eras_round_trip(
            permissions in permissions_strategy(),
            key in "(rk|sk)_(test|live)_\\*{3,12}[A-Za-z0-9]{4,6}",
            account in "acct_[A-Za-z0-9]{16}",
            apps in any::<bool>(),
        ) {
            let era = if apps { Apps } else { Rak };
            let refusal = PermissionRefusal { masked_key: &key, account_id: &account, permissions: &permissions, key_object_id: "" };
            let parsed = permission_error(era, &refusal).message().and_then(parse_permission_message);
            prop_assert!(parsed.is_some());
            let parsed = parsed.unwrap_or_else(|| ParsedPermissionError::empty(None, RefusalKind::MissingPermission));
            let expected: Vec<ParsedPermission> = permissions.iter().map(|p| ParsedPermission { id: p.id.clone(), label: None }).collect();
            prop_assert_eq!(parsed.era, Some(era));
            prop_assert_eq!(parsed.permissions, expected);
            prop_assert_eq!(parsed.masked_key, (!apps).then_some(key));
            prop_assert_eq!(parsed.account_id, Some(account));
        }

        #[test]
        fn eras_without_ids_round_trip(
            key in "(rk|sk)_(test|live)_\\*{3,12}[A-Za-z0-9]{4,6}",
            account in "acct_[A-Za-z0-9]{16}",
            unavailable in any::<bool>(),
        ) {
            let era = if unavailable { Unavailable } else { MorePermissions };
            let refusal = PermissionRefusal { masked_key: &key, account_id: &account, permissions: &[], key_object_id: "" };
            let parsed = permission_error(era, &refusal).message().and_then(parse_permission_message);
            prop_assert_eq!(parsed.as_ref().and_then(|p| p.era), Some(era));
            prop_assert_eq!(parsed.as_ref().and_then(|p| p.masked_key.clone()), Some(key));
            prop_assert_eq!(parsed.and_then(|p| p.account_id), Some(account));
        }
    }

    #[test]
    fn parameter_shape_errors_name_the_parameter() {
        let hash = invalid_hash("metadata");
        assert_eq!((hash.status, hash.message()), (400, Some("Invalid hash")));
        assert_eq!(hash.body["error"]["param"], "metadata");
        assert!(hash.body["error"].get("code").is_none());
        let array = invalid_array("expand");
        assert_eq!(array.message(), Some("Invalid array"));
        let integer = invalid_integer("limit", "ten");
        assert_eq!(integer.body["error"]["code"], "parameter_invalid_integer");
        assert_eq!(integer.message(), Some("Invalid integer: ten"));
        let malformed = malformed_parameter("a[b", "unbalanced brackets");
        assert_eq!(malformed.body["error"]["param"], "a[b");
    }

    #[test]
    fn card_declines_and_state_refusals() {
        let declined = card_declined("generic_decline", Some("ch_1"), Some("pi_1"));
        assert_eq!(declined.status, 402);
        assert_eq!(declined.body["error"]["type"], "card_error");
        assert_eq!(declined.code(), Some("card_declined"));
        assert_eq!(declined.message(), Some("Your card was declined."));
        assert_eq!(declined.field("decline_code"), Some("generic_decline"));
        assert_eq!(declined.field("charge"), Some("ch_1"));
        assert_eq!(declined.field("payment_intent"), Some("pi_1"));
        let funds = card_declined("insufficient_funds", None, None);
        assert_eq!(funds.message(), Some("Your card has insufficient funds."));
        assert!(funds.body["error"].get("charge").is_none());
        let state = invalid_state(
            "charge_already_refunded",
            "Charge ch_1 has already been refunded.",
            None,
        );
        assert_eq!(
            (state.status, state.code()),
            (400, Some("charge_already_refunded"))
        );
        assert!(state.body["error"].get("param").is_none());
        let with_param = invalid_state("amount_too_large", "x", Some("amount"));
        assert_eq!(with_param.field("param"), Some("amount"));
    }
}
