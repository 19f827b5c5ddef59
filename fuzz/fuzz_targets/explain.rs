//! Explaining an arbitrary "Stripe error" never panics, and never echoes a full key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rakguard_verify::explain::explain;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for status in [None, Some(401), Some(403), Some(429)] {
        let _ = explain(status, text);
    }
});
