//! Addresses in the Stripe Dashboard that guides, pages and messages point merchants to.

use crate::key::Mode;
use crate::permission::rak_scope;

/// The Dashboard's base address.
pub const DASHBOARD: &str = "https://dashboard.stripe.com";

/// The API keys page of `mode` (Developers → API keys). Test mode lives under `/test`.
pub fn api_keys_url(mode: Mode) -> String {
    format!("{DASHBOARD}{}/apikeys", mode_prefix(mode))
}

/// The "Create restricted key" page, prefilled with a key name and one
/// `permissions[]=rak_…` parameter per scope id.
pub fn create_key_url<'a>(
    mode: Mode,
    name: &str,
    scopes: impl IntoIterator<Item = &'a str>,
) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let mut url = format!(
        "{DASHBOARD}{}/apikeys/create?name={}",
        mode_prefix(mode),
        utf8_percent_encode(name, NON_ALPHANUMERIC)
    );
    for scope in scopes {
        url.push_str("&permissions[]=");
        url.push_str(&rak_scope(scope));
    }
    url
}

/// The edit page of a key, in the form Stripe's current 403 message links to.
pub fn edit_key_url(account: &str, key_object_id: &str) -> String {
    format!("{DASHBOARD}/b/{account}?destination=%2Fapikeys%2F{key_object_id}%2Fedit")
}

fn mode_prefix(mode: Mode) -> &'static str {
    match mode {
        Mode::Test => "/test",
        Mode::Live => "",
    }
}
