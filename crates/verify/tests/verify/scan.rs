//! `scan`: the level held on every row, for keys holding assorted permission sets.

use super::*;
use rakguard_catalog::key::Mode;
use rakguard_verify::{Code, Held, scan};

/// Permission sets: nothing, one of each kind, a spread, everything.
fn sets() -> Vec<BTreeSet<Permission>> {
    let catalog = Catalog::embedded();
    let every: BTreeSet<Permission> = catalog
        .rows()
        .iter()
        .flat_map(|row| {
            [Level::Read, Level::Write]
                .into_iter()
                .filter(|level| row.levels.offers(*level))
                .map(|level| Permission::new(row.id.clone(), level))
                .collect::<Vec<_>>()
        })
        .collect();
    let spread: BTreeSet<Permission> = catalog
        .rows()
        .iter()
        .enumerate()
        .filter_map(|(i, row)| {
            let level = match i % 3 {
                0 => return None,
                1 => Level::Read,
                _ => Level::Write,
            };
            row.levels
                .offers(level)
                .then(|| Permission::new(row.id.clone(), level))
        })
        .collect();
    vec![
        BTreeSet::new(),
        ["customer_read", "coupon_write", "balance_read"]
            .iter()
            .map(|id| perm(id))
            .collect(),
        spread,
        every,
    ]
}

#[tokio::test]
async fn scan_finds_exactly_what_each_key_holds() {
    let catalog = Catalog::embedded();
    let sets = sets();
    let specs: Vec<KeySpec> = sets
        .iter()
        .enumerate()
        .map(|(i, set)| restricted(&format!("scan{i}"), Mode::Test, set))
        .collect();
    let mut config = EmulatorConfig {
        keys: specs.clone(),
        ..EmulatorConfig::default()
    };
    config.faults.rate_limit_per_second = Some(100_000);
    let running = emulator_with(config).await;
    let mut options = options(&running);
    options.rate_per_second = Some(1000);
    options.max_in_flight = 32;
    for (spec, held) in specs.iter().zip(&sets) {
        let verdict = scan(&key_of(spec), &options).await.unwrap();
        assert_eq!(verdict.code, Code::Ok, "{}", verdict.message);
        assert_eq!(verdict.rows.len(), catalog.rows().len());
        let mut wrong = Vec::new();
        let mut unknown = Vec::new();
        for result in &verdict.permissions {
            let permission = Permission::new(result.row.clone(), result.level);
            let truth = holds(held, &permission);
            match result.outcome {
                Outcome::Granted if !truth => wrong.push(format!("{} granted", result.permission)),
                Outcome::Missing if truth => wrong.push(format!("{} missing", result.permission)),
                Outcome::Unknown
                    if catalog.probe(&permission).is_some()
                        && !structural(result.reason.as_deref()) =>
                {
                    unknown.push(format!("{}: {:?}", result.permission, result.reason))
                }
                _ => {}
            }
        }
        assert!(wrong.is_empty(), "{}: wrong answers {wrong:?}", spec.name);
        assert!(
            unknown.is_empty(),
            "{}: unknown answers {unknown:?}",
            spec.name
        );
        // Every row with both probes reads as exactly one level.
        for row in &verdict.rows {
            let write = Permission::new(row.row.clone(), Level::Write);
            let read = Permission::new(row.row.clone(), Level::Read);
            let has_probes = catalog.probe(&write).is_some() && catalog.probe(&read).is_some();
            if has_probes {
                let expected = if holds(held, &write) {
                    Held::Write
                } else if holds(held, &read) {
                    Held::Read
                } else {
                    Held::None
                };
                assert_eq!(row.held, expected, "{}: row {}", spec.name, row.row);
            }
        }
        // Fewer than two requests per row.
        assert!(
            (verdict.requests as usize) < 2 * catalog.rows().len(),
            "{}: {} requests",
            spec.name,
            verdict.requests
        );
    }
    running.shutdown().await.unwrap();
}

/// Unknowns that no key or fault changes: not needed, or no probe exists.
pub fn structural(reason: Option<&str>) -> bool {
    reason.is_some_and(|reason| {
        reason.starts_with("not probed") || reason.starts_with("the catalogue has no probe")
    })
}
