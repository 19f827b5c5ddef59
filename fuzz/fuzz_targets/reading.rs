//! Reading an arbitrary answer to any probe never panics, and a grant or a refusal is only ever
//! read from a status the rules allow.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rakguard_catalog::Catalog;
use rakguard_verify::reading::{Answer, read};

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let catalog = Catalog::embedded();
    let probes = catalog.probes();
    let probe = &probes[usize::from(data[0]) % probes.len()];
    let status = 100 + u16::from(data[1]) * 2 % 500;
    let Ok(body) = std::str::from_utf8(&data[2..]) else { return };
    match read(catalog, probe, status, body, None) {
        Answer::Granted => assert!(probe.granted.contains(&status)),
        Answer::Missing { .. } => assert_eq!(status, 403),
        _ => {}
    }
});
