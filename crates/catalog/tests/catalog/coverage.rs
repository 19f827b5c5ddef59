//! Every operation of the current official SDK is mapped or excepted, with counts by grade.

use std::collections::BTreeMap;

use rakguard_catalog::Catalog;
use rakguard_catalog::endpoint::{Method, Rule};

const SDK_OPERATIONS: &str = include_str!("../data/stripe-api-operations-v16.1.0.txt");

#[test]
fn every_sdk_operation_is_mapped_or_excepted() {
    let catalog = Catalog::embedded();
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut missing = Vec::new();
    let (mut v1_total, mut v1_mapped) = (0usize, 0usize);
    for line in SDK_OPERATIONS
        .lines()
        .filter(|line| !line.trim().is_empty())
    {
        let (method, path) = line.split_once(' ').expect("METHOD /path");
        let method: Method = method.parse().expect("known method");
        let Some(operation) = catalog.operation(method, path) else {
            missing.push(line.to_owned());
            continue;
        };
        let api = operation.api_version().to_owned();
        let bucket = match &operation.rule {
            Rule::Mapped { grade, .. } => grade.as_str().to_owned(),
            Rule::Excepted { kind } => format!("excepted:{}", kind.as_str()),
        };
        if api == "v1" {
            v1_total += 1;
            v1_mapped += usize::from(operation.permission().is_some());
        }
        *counts.entry((api, bucket)).or_default() += 1;
    }
    assert!(
        missing.is_empty(),
        "operations neither mapped nor excepted: {missing:#?}"
    );
    println!("coverage of stripe-python v16.1.0 operations:");
    for ((api, bucket), count) in &counts {
        println!("  {api} {bucket:<22} {count}");
    }
    let share = v1_mapped as f64 * 100.0 / v1_total as f64;
    println!("  v1 mapped to a concrete permission: {v1_mapped}/{v1_total} = {share:.1}%");
    assert_eq!(v1_total, 556);
    assert!(
        share >= 85.0,
        "only {share:.1}% of v1 operations are mapped"
    );
}

#[test]
fn every_mapped_operation_is_routable_to_itself() {
    let catalog = Catalog::embedded();
    for operation in catalog.operations() {
        let concrete: String = operation
            .path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "x_1"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let found = catalog.lookup(operation.method, &concrete);
        assert_eq!(
            found,
            Some(operation),
            "{operation} is not routable as {concrete}"
        );
    }
}
