//! Fuzzes key parsing and masking: no input may panic, a parsed key must round-trip, and no
//! masked or displayed form may contain the hidden middle of the key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rakguard_catalog::key::{ApiKey, MaskStyle, PREFIX_LEN, mask};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    for style in [MaskStyle::InvalidKey, MaskStyle::Long, MaskStyle::Short] {
        let masked = mask(input, style);
        if style != MaskStyle::Short {
            assert_eq!(masked.chars().count(), input.chars().count());
        }
    }
    let strict = ApiKey::parse(input);
    if let Err(error) = &strict {
        // Touch every accessor of the error.
        let _ = (error.code(), error.fix(), error.to_string());
    }
    match ApiKey::parse_lenient(input) {
        Ok((key, cleanups)) => {
            let secret = key.expose_secret();
            // Strict parsing accepts exactly the inputs that needed no cleanup.
            assert_eq!(strict.is_ok(), cleanups.is_empty());
            assert_eq!(ApiKey::parse(secret).ok().as_ref(), Some(&key));
            let middle = &secret[PREFIX_LEN..secret.len() - 4];
            for shown in [
                key.masked(),
                key.mask(MaskStyle::Long),
                format!("{key:?}"),
                key.to_string(),
            ] {
                assert!(!shown.contains(middle));
            }
            assert_eq!(key.masked().len(), secret.len());
        }
        Err(error) => {
            assert!(strict.is_err());
            assert!(!error.code().is_empty());
        }
    }
});
