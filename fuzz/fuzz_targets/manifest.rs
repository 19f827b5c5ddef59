//! Manifest parsing and Stripe App import never panic, whatever the file holds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rakguard_catalog::Catalog;
use rakguard_catalog::manifest::{Manifest, import_stripe_app};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let catalog = Catalog::embedded();
    let _ = Manifest::parse(catalog, "fuzz.toml", text);
    let _ = import_stripe_app(catalog, "fuzz.json", text);
});
