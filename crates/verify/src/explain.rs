//! Explaining a Stripe error seen at run time: which form rows to change, where, and how.
//!
//! [`explain`] reads an error body (with or without the `{"error": …}` envelope) and, with the
//! HTTP status when known, says in plain language what went wrong and how to fix it: for a
//! permission refusal of any era, the rows and levels to set as the form shows them ("Billing →
//! Coupons: Write"), the Dashboard page to do it on, and numbered steps. Reading the body is the
//! catalogue's ([`stripe_error::classify`]); naming permissions is the catalogue's too. Pure: no
//! IO, and any input is answered without panicking.

use rakguard_catalog::Catalog;
use rakguard_catalog::dashboard;
use rakguard_catalog::endpoint::Rule;
use rakguard_catalog::key::{MaskStyle, Mode, classify_prefix, mask};
use rakguard_catalog::stripe_error::{
    self, ApiMode, ParsedPermissionError, PermissionErrorEra, StripeErrorKind,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::verdict::Code;

/// What an error means and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// The verdict code the error amounts to; `None` for errors that are about the request
    /// itself (a missing object, a bad parameter, Stripe's own failure), not the key.
    pub code: Option<Code>,
    /// The HTTP status used to read the body (given, or inferred from the body).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// What happened, in one or two sentences.
    pub summary: String,
    /// The permissions the error names, as the form shows them. For a refusal naming several,
    /// any one of them allows the request.
    pub permissions: Vec<NamedPermission>,
    /// What to do, in order.
    pub steps: Vec<String>,
    /// Where in the Dashboard to do it: the key's edit page when the error links it, else the
    /// API keys page of the key's mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dashboard_url: Option<String>,
    /// The error as Stripe sent it (the message with any full key masked).
    pub stripe: StripeFields,
}

/// A permission named by an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedPermission {
    /// The id as Stripe printed it, without `rak_` (`coupon_write`).
    pub id: String,
    /// The row and level as the form shows them ("Billing → Coupons: Write"), or the best
    /// available name when the catalogue does not know the id.
    pub label: String,
    /// Whether the catalogue knows which row the id is on.
    pub known: bool,
    /// A remark, e.g. where the catalogue has seen Stripe print an id it cannot place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The fields of Stripe's error object that the explanation is based on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StripeFields {
    /// `type`.
    #[serde(rename = "type")]
    pub error_type: Option<String>,
    /// `code`.
    pub code: Option<String>,
    /// `message`, with anything shaped like a full API key masked.
    pub message: Option<String>,
    /// `request_log_url`, when Stripe logged the request for the Dashboard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_log_url: Option<String>,
}

/// Why an input could not be explained.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExplainError {
    /// Nothing was given.
    #[error("the input is empty: give the JSON body of a Stripe error response")]
    Empty,
    /// The input is not JSON.
    #[error(
        "the input is not JSON ({detail} at line {line}, column {column}): give the body of a Stripe error response, e.g. {{\"error\": {{\"message\": …}}}}"
    )]
    NotJson {
        /// What the JSON parser said.
        detail: String,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
    },
    /// JSON, but not a Stripe error.
    #[error(
        "the JSON is not a Stripe error: expected an object with \"error\" (or with \"message\", \"code\" or \"type\" at the top)"
    )]
    NotAnError,
}

/// Explains a Stripe error body. `status` is the HTTP status when known; without it, the status
/// is inferred from the body (its `code`, then its wording).
pub fn explain(status: Option<u16>, body: &str) -> Result<Explanation, ExplainError> {
    explain_with(Catalog::embedded(), status, body)
}

/// [`explain`] with a given catalogue.
pub fn explain_with(
    catalog: &Catalog,
    status: Option<u16>,
    body: &str,
) -> Result<Explanation, ExplainError> {
    let text = body.trim();
    if text.is_empty() {
        return Err(ExplainError::Empty);
    }
    let value: Value = serde_json::from_str(text).map_err(|error| ExplainError::NotJson {
        detail: error_detail(&error),
        line: error.line(),
        column: error.column(),
    })?;
    let (mut envelope, embedded_status) = normalise(&value).ok_or(ExplainError::NotAnError)?;
    // Whatever was pasted, nothing below sees a full key: every string is masked first.
    mask_strings(&mut envelope);
    let envelope_text = envelope.to_string();
    let status = status
        .or(embedded_status)
        .or_else(|| infer_status(&envelope_text));
    let error = stripe_error::classify(status.unwrap_or(400), &envelope_text);
    let stripe = StripeFields {
        error_type: error.error_type.clone(),
        code: error.code.clone(),
        message: error.message.clone(),
        request_log_url: error.request_log_url.clone(),
    };
    let mut explanation = Explanation {
        code: None,
        status,
        summary: String::new(),
        permissions: Vec::new(),
        steps: Vec::new(),
        dashboard_url: None,
        stripe,
    };
    let message = error.message.as_deref().unwrap_or_default();
    describe(catalog, &error.kind, message, &mut explanation);
    Ok(explanation)
}

/// The serde error's description without its position (reported separately).
fn error_detail(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text.get(..at).unwrap_or(&text).to_owned(),
        None => text,
    }
}

/// Finds the error object: `{"error": {…}}`, the OAuth `{"error": "…", "error_description"}`,
/// an SDK dump's `raw`, or a bare error object. Returns it wrapped in the envelope, and a status
/// the dump carries (`statusCode`, `status`, `http_status`).
fn normalise(value: &Value) -> Option<(Value, Option<u16>)> {
    let top = value.as_object()?;
    let embedded_status = ["statusCode", "status", "http_status", "httpStatus"]
        .iter()
        .find_map(|name| top.get(*name)?.as_u64())
        .and_then(|status| u16::try_from(status).ok())
        .filter(|status| (100..=599).contains(status));
    let wrap = |object: &Map<String, Value>| {
        let mut envelope = Map::new();
        envelope.insert("error".to_owned(), Value::Object(object.clone()));
        Value::Object(envelope)
    };
    let is_error_object = |object: &Map<String, Value>| {
        ["message", "code", "type"]
            .iter()
            .any(|field| object.get(*field).is_some_and(Value::is_string))
    };
    match top.get("error") {
        Some(Value::Object(error)) => return Some((wrap(error), embedded_status)),
        Some(Value::String(_)) => return Some((value.clone(), embedded_status)),
        _ => {}
    }
    if let Some(Value::Object(raw)) = top.get("raw")
        && is_error_object(raw)
    {
        return Some((wrap(raw), embedded_status));
    }
    is_error_object(top).then(|| (wrap(top), embedded_status))
}

/// The status a body most likely came with, from its `code`, then its wording.
fn infer_status(envelope: &str) -> Option<u16> {
    let fields = stripe_error::classify(400, envelope);
    if let Some(code) = fields.code.as_deref() {
        use stripe_error::code;
        let status = match code {
            code::MORE_PERMISSIONS_REQUIRED | code::ACCOUNT_INVALID => Some(403),
            code::API_KEY_EXPIRED | code::PLATFORM_API_KEY_EXPIRED | code::SECRET_KEY_REQUIRED => {
                Some(401)
            }
            code::RATE_LIMIT | code::LOCK_TIMEOUT => Some(429),
            code::IDEMPOTENCY_KEY_IN_USE => Some(409),
            _ => None,
        };
        if status.is_some() {
            return status;
        }
    }
    match stripe_error::classify(403, envelope).kind {
        StripeErrorKind::MissingPermission(_)
        | StripeErrorKind::RestrictedUnavailable
        | StripeErrorKind::NoConnectPermissions
        | StripeErrorKind::AccountInvalid => return Some(403),
        _ => {}
    }
    match stripe_error::classify(401, envelope).kind {
        StripeErrorKind::NoApiKey
        | StripeErrorKind::ExpiredApiKey { .. }
        | StripeErrorKind::IpNotAllowed
        | StripeErrorKind::PublishableKeyNotAllowed
        | StripeErrorKind::InvalidApiKey { masked: Some(_) } => return Some(401),
        _ => {}
    }
    let message = fields.message.as_deref().unwrap_or_default();
    if message.contains("rate limit") || message.contains("cannot be accessed right now") {
        return Some(429);
    }
    if message.starts_with("Unrecognized request URL") {
        return Some(404);
    }
    if fields.error_type.as_deref() == Some(stripe_error::API_ERROR) {
        return Some(500);
    }
    None
}

/// Masks every whitespace-separated token that looks like a full API key (a key prefix and no
/// `*`), so a body pasted from a log never prints one.
pub fn mask_keys(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let start = rest
            .find(|c: char| c.is_ascii_alphanumeric() || c == '_')
            .unwrap_or(rest.len());
        out.push_str(rest.get(..start).unwrap_or_default());
        rest = rest.get(start..).unwrap_or_default();
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let token = rest.get(..end).unwrap_or_default();
        if classify_prefix(token).is_some() && token.len() > 12 {
            out.push_str(&mask(token, MaskStyle::InvalidKey));
        } else {
            out.push_str(token);
        }
        rest = rest.get(end..).unwrap_or_default();
    }
    out
}

/// Applies [`mask_keys`] to every string in a JSON value.
fn mask_strings(value: &mut Value) {
    match value {
        Value::String(text) => *text = mask_keys(text),
        Value::Array(items) => items.iter_mut().for_each(mask_strings),
        Value::Object(object) => object.values_mut().for_each(mask_strings),
        _ => {}
    }
}

/// The API keys page for a masked key's mode (live when the mode cannot be told).
fn keys_page(masked: Option<&str>) -> (String, Option<Mode>) {
    let mode = masked.and_then(classify_prefix).map(|(_, mode)| mode);
    (dashboard::api_keys_url(mode.unwrap_or(Mode::Live)), mode)
}

fn mode_words(mode: Option<Mode>) -> &'static str {
    match mode {
        Some(Mode::Test) => " (test mode)",
        Some(Mode::Live) => " (live mode)",
        None => "",
    }
}

fn describe(catalog: &Catalog, kind: &StripeErrorKind, message: &str, out: &mut Explanation) {
    match kind {
        StripeErrorKind::MissingPermission(parsed) => permission_refusal(catalog, parsed, out),
        StripeErrorKind::RestrictedUnavailable => {
            let parsed = stripe_error::parse_permission_message(message);
            let masked = parsed.as_ref().and_then(|parsed| parsed.masked_key.clone());
            let (url, _) = keys_page(masked.as_deref());
            out.code = Some(Code::PermissionsMissing);
            out.summary = "No restricted key can call this endpoint: the permission it needs is not available to restricted keys, so no change on the form will allow it.".to_owned();
            out.steps = vec![
                "Check whether the integration can do without this endpoint (`rakguard catalog lookup METHOD PATH` shows what the catalogue knows of it).".to_owned(),
                "If it cannot, the call needs the account's secret key; make it from a place that may hold the secret key, not with the restricted key.".to_owned(),
            ];
            out.dashboard_url = Some(url);
        }
        StripeErrorKind::NoConnectPermissions => {
            out.code = Some(Code::PermissionsMissing);
            out.summary = "The restricted key was used with the Stripe-Account header (on a connected account), but it has no Connect permissions at all.".to_owned();
            out.steps = vec![
                "Open the API keys page of the platform account and edit the restricted key (\"⋯\" → \"Edit key\").".to_owned(),
                "In the Connect column of the form, set the permissions the integration needs on connected accounts.".to_owned(),
                "Save, then retry the request.".to_owned(),
            ];
            out.dashboard_url = Some(dashboard::api_keys_url(Mode::Live));
        }
        StripeErrorKind::AccountInvalid => {
            let masked = masked_in(message);
            let (url, _) = keys_page(masked.as_deref());
            out.code = Some(Code::AccountInvalid);
            out.summary = "The Stripe-Account header names an account this key cannot reach: the account id is wrong, the account does not exist, or it is no longer connected to the platform.".to_owned();
            out.steps = vec![
                "Check the connected account id sent in Stripe-Account (acct_…).".to_owned(),
                "Check in the Dashboard (Connect → Accounts) that the account is still connected to the platform that owns this key.".to_owned(),
                "If access was revoked, the account has to connect again.".to_owned(),
            ];
            out.dashboard_url = Some(url);
        }
        StripeErrorKind::NoApiKey => {
            out.code = Some(Code::KeyInvalid);
            out.summary =
                "No API key was sent: the request had no Authorization header, or it was empty."
                    .to_owned();
            out.steps = vec![
                "Check that the integration is configured with the key (an unset environment variable is the usual cause).".to_owned(),
                "Send it as `Authorization: Bearer <key>`.".to_owned(),
            ];
            out.dashboard_url = Some(dashboard::api_keys_url(Mode::Live));
        }
        StripeErrorKind::InvalidApiKey { masked } => {
            let (url, mode) = keys_page(masked.as_deref());
            out.code = Some(Code::KeyInvalid);
            out.summary = format!(
                "Stripe does not recognise the key{}: it is mistyped or truncated, belongs to another account or mode, or was deleted or rolled.",
                masked
                    .as_deref()
                    .map(|masked| format!(" {masked}"))
                    .unwrap_or_default()
            );
            out.steps = vec![
                format!(
                    "Open the API keys page{} and find the key by its last four characters.",
                    mode_words(mode)
                ),
                "If it is listed, copy it again (\"Reveal\" shows restricted keys once; otherwise roll or create one).".to_owned(),
                "If it is not listed, it was deleted or rolled: create a new restricted key with the permissions the integration needs (`rakguard guide MANIFEST`).".to_owned(),
                "Replace the key in the integration and check it with `rakguard verify`.".to_owned(),
            ];
            out.dashboard_url = Some(url);
        }
        StripeErrorKind::ExpiredApiKey { masked } => {
            let (url, mode) = keys_page(masked.as_deref());
            out.code = Some(Code::KeyExpired);
            out.summary = format!(
                "The key{} has expired: it was rolled and the grace period ended, or it was set to expire.",
                masked
                    .as_deref()
                    .map(|masked| format!(" {masked}"))
                    .unwrap_or_default()
            );
            out.steps = vec![
                format!(
                    "Open the API keys page{} and find the key that replaced it, or create a new restricted key.",
                    mode_words(mode)
                ),
                "Replace the key in the integration and check it with `rakguard verify`."
                    .to_owned(),
            ];
            out.dashboard_url = Some(url);
        }
        StripeErrorKind::IpNotAllowed => {
            let ip = message
                .rsplit_once('(')
                .and_then(|(_, rest)| rest.split_once(')'))
                .map(|(ip, _)| ip.trim().to_owned())
                .filter(|ip| !ip.is_empty() && ip.len() <= 45);
            out.code = Some(Code::KeyIpRestricted);
            out.summary = format!(
                "The key only accepts requests from certain IP addresses, and the request came from {}.",
                ip.as_deref()
                    .map(|ip| format!("{ip}, which is not one of them"))
                    .unwrap_or_else(|| "an address that is not one of them".to_owned())
            );
            out.steps = vec![
                "Open the API keys page and edit the key (\"⋯\" → \"Edit key\" or \"Manage IP restrictions\").".to_owned(),
                format!(
                    "Add {} to the allowed IP addresses, or remove the restriction.",
                    ip.as_deref().unwrap_or("the server's outgoing IP address")
                ),
                "Save, then retry the request.".to_owned(),
            ];
            out.dashboard_url = Some(dashboard::api_keys_url(Mode::Live));
        }
        StripeErrorKind::PublishableKeyNotAllowed => {
            out.code = Some(Code::KeyPublishable);
            out.summary = "A publishable key (pk_…) was used for a call that needs a secret or restricted key; publishable keys can only create tokens in a browser.".to_owned();
            out.steps = vec![
                "Open the API keys page and click \"Create restricted key\".".to_owned(),
                "Set the permissions the integration needs (`rakguard guide MANIFEST` lists them), create the key, and use it instead of the publishable key.".to_owned(),
            ];
            out.dashboard_url = Some(dashboard::api_keys_url(Mode::Live));
        }
        StripeErrorKind::RateLimited { lock_timeout } => {
            out.code = Some(Code::RateLimited);
            if *lock_timeout {
                out.summary = "Another request or Stripe process was using the same object at the same moment (lock_timeout).".to_owned();
                out.steps = vec![
                    "Retry the request after a short, randomised delay.".to_owned(),
                    "If it happens often, send the requests on one object one after another instead of concurrently.".to_owned(),
                ];
            } else {
                out.summary = "Too many requests: Stripe's rate limit for the account was exceeded (25 per second in test mode, 100 in live mode, less for some endpoints).".to_owned();
                out.steps = vec![
                    "Retry with exponential backoff and jitter.".to_owned(),
                    "Spread requests out, or lower the concurrency (`--rate` and `--max-in-flight` for rakguard's own runs).".to_owned(),
                ];
            }
        }
        StripeErrorKind::ResourceMissing { param, exists_in } => match exists_in {
            Some(other) => {
                let (key_mode, object_mode) = match other {
                    ApiMode::Test => (Mode::Live, Mode::Test),
                    ApiMode::Live => (Mode::Test, Mode::Live),
                };
                out.code = Some(Code::KeyWrongMode);
                out.summary = format!(
                    "The object exists in {object_mode} mode, but the request used a {key_mode} mode key."
                );
                out.steps = vec![format!(
                    "Use a {object_mode} mode key for {object_mode} mode objects (or create the object in {key_mode} mode)."
                )];
                out.dashboard_url = Some(dashboard::api_keys_url(object_mode));
            }
            None => {
                out.summary = format!(
                    "The object does not exist{}. The key was allowed to look it up, so this is not a permission problem.",
                    param
                        .as_deref()
                        .map(|param| format!(" (parameter `{param}`)"))
                        .unwrap_or_default()
                );
                out.steps = vec![
                    "Check the id, and that it belongs to this account and mode (and to the account named in Stripe-Account, if any).".to_owned(),
                ];
            }
        },
        StripeErrorKind::UnrecognizedUrl => {
            out.summary =
                "No Stripe endpoint has this URL; this says nothing about the key's permissions."
                    .to_owned();
            out.steps = vec![
                "Check the method and path against the API reference (`rakguard catalog lookup METHOD PATH`).".to_owned(),
            ];
        }
        StripeErrorKind::IdempotencyError { in_use } => {
            if *in_use {
                out.summary =
                    "A request with the same idempotency key is still being processed.".to_owned();
                out.steps = vec!["Retry later with the same idempotency key.".to_owned()];
            } else {
                out.summary =
                    "The idempotency key was already used for a request with other parameters."
                        .to_owned();
                out.steps = vec!["Use a new idempotency key for a different request.".to_owned()];
            }
        }
        StripeErrorKind::InvalidRequest { code, param } => {
            out.summary = format!(
                "Stripe rejected the request itself{}{}, after the key's permissions were checked: this is not a permission problem.",
                code.as_deref()
                    .map(|code| format!(" ({code})"))
                    .unwrap_or_default(),
                param
                    .as_deref()
                    .map(|param| format!(" because of parameter `{param}`"))
                    .unwrap_or_default()
            );
            out.steps = vec!["Fix the request as the message says.".to_owned()];
        }
        StripeErrorKind::ApiError => {
            out.summary = "Stripe failed on its side (api_error or 5xx); the request may or may not have been carried out.".to_owned();
            out.steps = vec![
                "Retry with the same idempotency key, with backoff.".to_owned(),
                "If it persists, check https://status.stripe.com.".to_owned(),
            ];
        }
        _ => {
            out.summary =
                "This error is not about the key or its permissions, as far as rakguard can tell."
                    .to_owned();
            out.steps = vec!["Read Stripe's message and the linked documentation.".to_owned()];
        }
    }
}

/// The masked key quoted after "provided key".
fn masked_in(message: &str) -> Option<String> {
    let start = message.find("provided key '")? + "provided key '".len();
    let rest = message.get(start..)?;
    let end = rest.find('\'')?;
    rest.get(..end).map(str::to_owned)
}

fn permission_refusal(catalog: &Catalog, parsed: &ParsedPermissionError, out: &mut Explanation) {
    out.code = Some(Code::PermissionsMissing);
    out.permissions = parsed
        .permissions
        .iter()
        .map(|permission| name_permission(catalog, &permission.id, permission.label.as_deref()))
        .collect();
    if parsed.era == Some(PermissionErrorEra::Apps) {
        apps_refusal(parsed, out);
        return;
    }
    let (keys_url, mode) = keys_page(parsed.masked_key.as_deref());
    let key = parsed
        .masked_key
        .as_deref()
        .map(|masked| format!("the key {masked}"))
        .unwrap_or_else(|| "the restricted key".to_owned());
    let account = parsed
        .account_id
        .as_deref()
        .map(|account| format!(" on account {account}"))
        .unwrap_or_default();
    let labels: Vec<&str> = out.permissions.iter().map(|p| p.label.as_str()).collect();
    out.summary = match labels.as_slice() {
        [] => format!(
            "Stripe refused {key}{account} for lack of a permission, without saying which ({} wording).",
            parsed.era.map_or("older", PermissionErrorEra::as_str)
        ),
        [one] => capitalise(&format!("{key}{account} lacks {one}.")),
        several => capitalise(&format!(
            "{key}{account} lacks a permission; any one of these allows the request: {}.",
            several.join("; ")
        )),
    };
    let mut steps = Vec::new();
    match &parsed.edit_url {
        Some(_) => {
            steps.push("Open the key's edit page in the Dashboard (the link below).".to_owned())
        }
        None => {
            steps.push(format!(
                "Open the API keys page{} in the Dashboard.",
                mode_words(mode)
            ));
            steps.push(format!(
                "Find {key} under \"Restricted keys\" and choose \"⋯\" → \"Edit key\"."
            ));
        }
    }
    match out.permissions.as_slice() {
        [] => {
            steps.push("Find the endpoint the integration called (Developers → Logs shows the 403), and look up the permission it needs: `rakguard catalog lookup METHOD PATH`.".to_owned());
            steps.push("Set that row on the form to the level needed.".to_owned());
        }
        [one] => steps.push(set_step(catalog, one)),
        several => {
            steps.push(format!(
                "Set any one of these: {}.",
                several
                    .iter()
                    .map(|permission| permission.label.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
    }
    steps.push(
        "Save. The key's value does not change, so the integration needs no update.".to_owned(),
    );
    steps.push(
        "Retry the request, or check the key with `rakguard verify --manifest FILE`.".to_owned(),
    );
    out.steps = steps;
    out.dashboard_url = Some(parsed.edit_url.clone().unwrap_or(keys_url));
}

/// A Stripe App's key was refused: the app's manifest, not the form, grants permissions.
fn apps_refusal(parsed: &ParsedPermissionError, out: &mut Explanation) {
    let account = parsed
        .account_id
        .as_deref()
        .map(|account| format!(" on account {account}"))
        .unwrap_or_default();
    let names: Vec<String> = out
        .permissions
        .iter()
        .map(|permission| format!("`{}` ({})", permission.id, permission.label))
        .collect();
    out.summary = match names.as_slice() {
        [] => format!("The Stripe App was refused{account} for lack of a permission."),
        [one] => format!("The Stripe App lacks the permission {one}{account}."),
        several => format!(
            "The Stripe App lacks a permission{account}; any one of these allows the request: {}.",
            several.join(", ")
        ),
    };
    out.steps = vec![
        "A Stripe App's key holds what the app's manifest requests, so the permission is added to the app, not to a key on the form.".to_owned(),
        format!(
            "Add {} to the `permissions` of the app's stripe-app.json, with a purpose (`rakguard manifest export` prints the array a manifest needs).",
            if names.is_empty() {
                "the permission the endpoint needs (`rakguard catalog lookup METHOD PATH`)".to_owned()
            } else {
                names.join(" or ")
            }
        ),
        "Upload a new version of the app; merchants accept the new permissions when they update it.".to_owned(),
    ];
    out.dashboard_url = None;
}

fn set_step(catalog: &Catalog, permission: &NamedPermission) -> String {
    let Some(resolved) = permission
        .known
        .then(|| catalog.permission_by_scope(&permission.id))
        .flatten()
        .or_else(|| catalog.resolve(&permission.label).ok())
    else {
        return format!("Grant {} on the form.", permission.label);
    };
    match catalog.row(&resolved.row) {
        Some(row) => {
            let also = if resolved.level == rakguard_catalog::permission::Level::Read
                && row
                    .levels
                    .offers(rakguard_catalog::permission::Level::Write)
            {
                " (Write also includes Read)"
            } else {
                ""
            };
            format!(
                "In the section \"{}\", set \"{}\" to {}{also}.",
                row.group,
                row.display_name,
                resolved.level.label()
            )
        }
        None => format!("Grant {} on the form.", permission.label),
    }
}

/// Names a permission id Stripe printed (`coupon_write`, `rak_coupon_write`, an Apps name) as the
/// form shows it, falling back to the label Stripe printed and to the operations where the
/// catalogue has seen Stripe print the id.
pub fn name_permission(catalog: &Catalog, id: &str, stripe_label: Option<&str>) -> NamedPermission {
    let bare = rakguard_catalog::permission::bare_scope(id.trim()).to_owned();
    let resolved = catalog
        .permission_by_scope(&bare)
        .or_else(|| catalog.resolve(&bare).ok())
        .or_else(|| stripe_label.and_then(|label| catalog.resolve(label).ok()));
    if let Some(permission) = resolved {
        return NamedPermission {
            id: bare,
            label: catalog.form_label(&permission),
            known: true,
            note: None,
        };
    }
    let seen_on: Vec<String> = catalog
        .operations()
        .iter()
        .filter_map(|operation| match &operation.rule {
            Rule::Mapped {
                permission, names, ..
            } if names
                .iter()
                .any(|name| rakguard_catalog::permission::bare_scope(name) == bare.as_str()) =>
            {
                Some(format!(
                    "{operation} (needs {})",
                    catalog.form_label(permission)
                ))
            }
            _ => None,
        })
        .collect();
    let note = if seen_on.is_empty() {
        "rakguard's catalogue does not know this permission id; look for it on the form by name"
            .to_owned()
    } else {
        format!(
            "the catalogue has seen Stripe name this id for {}",
            seen_on.join(", ")
        )
    };
    NamedPermission {
        label: stripe_label
            .map(str::to_owned)
            .unwrap_or_else(|| bare.clone()),
        id: bare,
        known: false,
        note: Some(note),
    }
}

/// The text with its first character in upper case.
fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use proptest::prelude::*;
    use rakguard_catalog::stripe_error::{PermissionName, PermissionRefusal};

    const MASKED: &str = "rk_test_***********************************4xYz";
    const ACCOUNT: &str = "acct_1ExampleAcct01";

    fn refusal(era: PermissionErrorEra, names: &[PermissionName], object: &str) -> String {
        stripe_error::permission_error(
            era,
            &PermissionRefusal {
                masked_key: MASKED,
                account_id: ACCOUNT,
                permissions: names,
                key_object_id: object,
            },
        )
        .body_string()
    }

    fn coupon() -> Vec<PermissionName> {
        vec![PermissionName::new("coupon_write", "Coupons Write")]
    }

    fn labels(explanation: &Explanation) -> Vec<&str> {
        explanation
            .permissions
            .iter()
            .map(|permission| permission.label.as_str())
            .collect()
    }

    #[test]
    fn every_naming_era_names_the_form_row() {
        for era in [PermissionErrorEra::Current, PermissionErrorEra::Rak] {
            let body = refusal(era, &coupon(), "rk_1KeyObject");
            for status in [Some(403), None] {
                let explanation = explain(status, &body).unwrap();
                assert_eq!(explanation.code, Some(Code::PermissionsMissing), "{era}");
                assert_eq!(explanation.status, Some(403), "{era}");
                assert_eq!(labels(&explanation), ["Billing → Coupons: Write"], "{era}");
                assert_eq!(explanation.permissions[0].id, "coupon_write", "{era}");
                assert!(
                    explanation
                        .steps
                        .iter()
                        .any(|step| step.contains("\"Billing\"")
                            && step.contains("\"Coupons\" to Write")),
                    "{era}: {:?}",
                    explanation.steps
                );
            }
        }
    }

    #[test]
    fn a_stripe_apps_refusal_points_to_the_apps_manifest() {
        let body = refusal(PermissionErrorEra::Apps, &coupon(), "");
        let explanation = explain(None, &body).unwrap();
        assert_eq!(explanation.code, Some(Code::PermissionsMissing));
        assert_eq!(labels(&explanation), ["Billing → Coupons: Write"]);
        assert!(
            explanation.summary.contains("Stripe App"),
            "{}",
            explanation.summary
        );
        assert!(
            explanation
                .steps
                .iter()
                .any(|step| step.contains("stripe-app.json") && step.contains("`coupon_write`")),
            "{:?}",
            explanation.steps
        );
        assert_eq!(explanation.dashboard_url, None);
    }

    #[test]
    fn the_current_era_links_the_keys_edit_page() {
        let body = refusal(PermissionErrorEra::Current, &coupon(), "rk_1KeyObject");
        let explanation = explain(Some(403), &body).unwrap();
        let url = explanation.dashboard_url.unwrap();
        assert!(url.contains("/b/acct_1ExampleAcct01"), "{url}");
        assert!(url.contains("rk_1KeyObject"), "{url}");
        assert_eq!(
            explanation.stripe.code.as_deref(),
            Some("more_permissions_required")
        );
    }

    #[test]
    fn older_eras_point_to_the_keys_page_of_the_keys_mode() {
        let body = refusal(PermissionErrorEra::Rak, &coupon(), "");
        let explanation = explain(Some(403), &body).unwrap();
        assert_eq!(
            explanation.dashboard_url.as_deref(),
            Some("https://dashboard.stripe.com/test/apikeys")
        );
        assert!(
            explanation.summary.contains(MASKED),
            "{}",
            explanation.summary
        );
        assert!(
            explanation.steps[0].contains("test mode"),
            "{:?}",
            explanation.steps
        );
    }

    #[test]
    fn several_names_are_alternatives() {
        let names = vec![
            PermissionName::new("payment_intent_read", "PaymentIntents Read"),
            PermissionName::new("checkout_session_read", "Checkout Sessions Read"),
        ];
        for era in [PermissionErrorEra::Current, PermissionErrorEra::Rak] {
            let explanation = explain(Some(403), &refusal(era, &names, "")).unwrap();
            assert_eq!(explanation.permissions.len(), 2, "{era}");
            assert!(explanation.permissions.iter().all(|p| p.known), "{era}");
            assert!(
                explanation.summary.contains("any one"),
                "{}",
                explanation.summary
            );
        }
    }

    #[test]
    fn the_plan_ids_resolve_to_prices() {
        let names = vec![PermissionName::new("rak_plan_write", "Prices Write")];
        let explanation =
            explain(Some(403), &refusal(PermissionErrorEra::Rak, &names, "")).unwrap();
        assert_eq!(explanation.permissions[0].id, "plan_write");
        assert!(
            explanation.permissions[0].label.contains("Prices: Write"),
            "{:?}",
            explanation.permissions
        );
    }

    #[test]
    fn templates_that_name_nothing_still_explain() {
        let explanation = explain(
            Some(403),
            &refusal(PermissionErrorEra::MorePermissions, &[], ""),
        )
        .unwrap();
        assert_eq!(explanation.code, Some(Code::PermissionsMissing));
        assert!(explanation.permissions.is_empty());
        assert!(
            explanation
                .steps
                .iter()
                .any(|step| step.contains("rakguard catalog lookup")),
            "{:?}",
            explanation.steps
        );

        let unavailable =
            explain(None, &refusal(PermissionErrorEra::Unavailable, &[], "")).unwrap();
        assert_eq!(unavailable.code, Some(Code::PermissionsMissing));
        assert!(
            unavailable.summary.contains("No restricted key"),
            "{}",
            unavailable.summary
        );

        let connect = explain(None, &stripe_error::no_connect_permissions().body_string()).unwrap();
        assert_eq!(connect.code, Some(Code::PermissionsMissing));
        assert!(connect.summary.contains("Connect"), "{}", connect.summary);
    }

    #[test]
    fn an_unknown_id_keeps_stripes_label() {
        let names = vec![PermissionName::new(
            "made_up_thing_read",
            "Made Up Things Read",
        )];
        let explanation =
            explain(Some(403), &refusal(PermissionErrorEra::Current, &names, "")).unwrap();
        let permission = &explanation.permissions[0];
        assert!(!permission.known);
        assert_eq!(permission.label, "Made Up Things Read");
        assert!(permission.note.is_some());
    }

    #[test]
    fn key_failures_get_their_codes() {
        let check = |status: Option<u16>, body: String, code: Code| {
            let explanation = explain(status, &body).unwrap();
            assert_eq!(explanation.code, Some(code), "{body}");
            assert!(!explanation.steps.is_empty(), "{body}");
            assert!(!explanation.summary.is_empty(), "{body}");
        };
        let masked = "rk_live_****************************************wxyz";
        check(
            Some(401),
            stripe_error::invalid_api_key(masked).body_string(),
            Code::KeyInvalid,
        );
        check(
            None,
            stripe_error::invalid_api_key(masked).body_string(),
            Code::KeyInvalid,
        );
        check(
            None,
            stripe_error::expired_api_key(masked).body_string(),
            Code::KeyExpired,
        );
        check(
            None,
            stripe_error::ip_not_allowed(Some("203.0.113.9")).body_string(),
            Code::KeyIpRestricted,
        );
        check(
            None,
            stripe_error::secret_key_required().body_string(),
            Code::KeyPublishable,
        );
        check(
            None,
            stripe_error::account_invalid(masked, "acct_1Other").body_string(),
            Code::AccountInvalid,
        );
        check(
            None,
            stripe_error::no_api_key().body_string(),
            Code::KeyInvalid,
        );
        check(
            None,
            stripe_error::rate_limited().body_string(),
            Code::RateLimited,
        );
        check(
            None,
            stripe_error::lock_timeout().body_string(),
            Code::RateLimited,
        );
    }

    #[test]
    fn the_ip_is_named_and_the_live_page_linked() {
        let body = stripe_error::ip_not_allowed(Some("203.0.113.9")).body_string();
        let explanation = explain(Some(401), &body).unwrap();
        assert!(explanation.summary.contains("203.0.113.9"));
        assert!(
            explanation
                .steps
                .iter()
                .any(|step| step.contains("203.0.113.9"))
        );
        let expired = explain(
            None,
            &stripe_error::expired_api_key("rk_test_************wxyz").body_string(),
        )
        .unwrap();
        assert_eq!(
            expired.dashboard_url.as_deref(),
            Some("https://dashboard.stripe.com/test/apikeys")
        );
    }

    #[test]
    fn literal_bodies_shaped_like_stripes_are_read() {
        // Written here in the shape the reference notes record, not copied from them.
        let legacy = r#"{"error":{"type":"invalid_request_error","message":"The provided key 'rk_live_*********************Qq42' does not have the required permissions for this endpoint on account 'acct_1Demo'. Having the 'rak_subscription_read' permission would allow this request to continue."}}"#;
        let explanation = explain(Some(403), legacy).unwrap();
        assert_eq!(explanation.code, Some(Code::PermissionsMissing));
        assert_eq!(explanation.permissions[0].id, "subscription_read");
        assert!(
            explanation.permissions[0]
                .label
                .ends_with("Subscriptions: Read")
        );
        assert_eq!(
            explanation.dashboard_url.as_deref(),
            Some("https://dashboard.stripe.com/apikeys")
        );

        // Without the envelope, without quotes around the label, without a status.
        let bare = r#"{"code":"more_permissions_required","type":"invalid_request_error","message":"Permission denied. The provided key 'rk_test_***Ab12' does not have the required permissions for this endpoint. Enabling Customers Write ('customer_write') permissions on this key would allow this request to continue."}"#;
        let explanation = explain(None, bare).unwrap();
        assert_eq!(explanation.status, Some(403));
        assert_eq!(explanation.permissions[0].label, "Core → Customers: Write");

        let limited = r#"{"error":{"code":"rate_limit","doc_url":"https://stripe.com/docs/error-codes/rate-limit","message":"Request rate limit exceeded. Try again later.","type":"invalid_request_error"}}"#;
        assert_eq!(
            explain(None, limited).unwrap().code,
            Some(Code::RateLimited)
        );

        let missing = r#"{"error":{"code":"resource_missing","message":"No such customer: 'cus_nope'","param":"customer","type":"invalid_request_error"}}"#;
        let explanation = explain(Some(404), missing).unwrap();
        assert_eq!(explanation.code, None);
        assert!(explanation.summary.contains("not a permission problem"));

        let other_mode = r#"{"error":{"code":"resource_missing","message":"No such customer: 'cus_x'; a similar object exists in live mode, but a test mode key was used to make this request.","type":"invalid_request_error"}}"#;
        let explanation = explain(Some(400), other_mode).unwrap();
        assert_eq!(explanation.code, Some(Code::KeyWrongMode));
    }

    #[test]
    fn sdk_dumps_with_raw_and_status_are_read() {
        let dump = r#"{"type":"StripePermissionError","statusCode":403,"raw":{"type":"invalid_request_error","message":"The provided key 'rk_live_****Zz99' does not have the required permissions for this endpoint on account 'acct_1X'. Having the 'rak_charge_read' permission would allow this request to continue."}}"#;
        let explanation = explain(None, dump).unwrap();
        assert_eq!(explanation.status, Some(403));
        assert_eq!(explanation.permissions[0].id, "charge_read");
    }

    #[test]
    fn full_keys_in_messages_are_masked() {
        let key = concat!("sk_", "test_", "4eC39HqLyjWDarjtT1zdp7dc");
        let body = format!(
            r#"{{"error":{{"type":"invalid_request_error","message":"Invalid API Key provided: {key}"}}}}"#
        );
        let explanation = explain(Some(401), &body).unwrap();
        let json = serde_json::to_string(&explanation).unwrap();
        assert!(!json.contains(key), "{json}");
        assert!(json.contains("p7dc"), "{json}");
    }

    #[test]
    fn bad_input_is_an_error() {
        assert_eq!(explain(None, "  "), Err(ExplainError::Empty));
        assert!(matches!(
            explain(None, "Permission denied."),
            Err(ExplainError::NotJson { line: 1, .. })
        ));
        assert_eq!(explain(None, "[1, 2]"), Err(ExplainError::NotAnError));
        assert_eq!(
            explain(None, r#"{"id": "cus_1"}"#),
            Err(ExplainError::NotAnError)
        );
    }

    #[test]
    fn the_json_has_the_documented_shape() {
        let body = refusal(PermissionErrorEra::Current, &coupon(), "rk_1");
        let value = serde_json::to_value(explain(Some(403), &body).unwrap()).unwrap();
        assert_eq!(value["code"], "STRIPE_PERMISSIONS_MISSING");
        assert_eq!(value["permissions"][0]["id"], "coupon_write");
        assert_eq!(value["permissions"][0]["label"], "Billing → Coupons: Write");
        assert_eq!(value["stripe"]["type"], "invalid_request_error");
        assert!(
            value["steps"]
                .as_array()
                .is_some_and(|steps| steps.len() >= 3)
        );
    }

    proptest! {
        #[test]
        fn any_text_is_answered_without_panicking(text in ".{0,400}", status in proptest::option::of(0u16..1000)) {
            let _ = explain(status, &text);
        }

        #[test]
        fn any_error_shaped_json_is_explained(
            message in ".{0,200}",
            code in proptest::option::of("[a-z_]{0,30}"),
            status in proptest::option::of(100u16..600),
        ) {
            let mut error = serde_json::json!({"type": "invalid_request_error", "message": message});
            if let Some(code) = code {
                error["code"] = Value::String(code);
            }
            let body = serde_json::json!({"error": error}).to_string();
            let explanation = explain(status, &body);
            prop_assert!(explanation.is_ok());
        }
    }
}
