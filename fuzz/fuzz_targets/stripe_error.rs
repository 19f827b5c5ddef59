//! Parsing Stripe error messages and bodies never panics, whatever arrives.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rakguard_catalog::stripe_error::{classify, parse_permission_message};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = parse_permission_message(text);
    for status in [400, 401, 403, 404, 429, 500] {
        let _ = classify(status, text);
    }
});
