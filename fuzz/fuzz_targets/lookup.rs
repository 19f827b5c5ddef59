//! The endpoint router never panics, and whatever it matches is an operation of that method.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rakguard_catalog::Catalog;
use rakguard_catalog::endpoint::Method;

fuzz_target!(|data: &[u8]| {
    let Ok(path) = std::str::from_utf8(data) else { return };
    let catalog = Catalog::embedded();
    for method in Method::ALL {
        if let Some(operation) = catalog.lookup(method, path) {
            assert_eq!(operation.method, method);
        }
        if let Some(matched) = catalog.lookup_with_params(method, path) {
            assert_eq!(matched.params.len(), matched.operation.param_names().count());
        }
    }
});
