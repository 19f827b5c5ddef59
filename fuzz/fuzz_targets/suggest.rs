//! Suggesting a manifest from an arbitrary request log never panics, and what it suggests parses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rakguard_catalog::Catalog;
use rakguard_catalog::manifest::Manifest;
use rakguard_verify::suggest::suggest;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let suggestion = suggest(text);
    if let Some(manifest) = &suggestion.manifest {
        assert!(Manifest::parse(Catalog::embedded(), "suggested", manifest).is_ok());
    }
});
