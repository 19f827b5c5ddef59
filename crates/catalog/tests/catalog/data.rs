//! The embedded data parses, and holds together.

use rakguard_catalog::Catalog;
use rakguard_catalog::catalog::Sources;
use rakguard_catalog::permission::{Level, Permission};

#[test]
fn embedded_catalogue_parses_without_problems() {
    if let Err(error) = Catalog::parse(Sources::EMBEDDED) {
        panic!("{error}");
    }
}

#[test]
fn every_problem_is_reported_with_its_line() {
    let permissions = "id,group,display_name,aliases,levels,read_scope,write_scope,apps_read,apps_write,connect,scope_basis,implies,note\n\
        charge,Core,Charges,,read/write,charge_read,charge_write,,,yes,observed,,\n\
        charge,Core,Charges again,,read/write,,,,,yes,observed,,\n\
        coupon,Billing,Coupons,,sometimes,,,,,yes,observed,,\n";
    let endpoints = "method,path,status,row,level,grade,names,basis\n\
        GET,/v1/charges,mapped,charge,read,observed,,\n\
        GET,/v1/nope,mapped,nothing,read,observed,,\n\
        PATCH,/v1/charges,mapped,charge,write,observed,,\n";
    let sources = Sources {
        permissions,
        endpoints,
        probes: "",
        templates: "",
    };
    let error = Catalog::parse(sources).expect_err("three rows are broken");
    let text = error.to_string();
    assert!(
        text.contains("permissions.csv:3: duplicate row id \"charge\""),
        "{text}"
    );
    assert!(text.contains("permissions.csv:4:"), "{text}");
    assert!(
        text.contains("endpoints.csv:3: unknown row \"nothing\""),
        "{text}"
    );
    assert!(
        text.contains("endpoints.csv:4: unknown method \"PATCH\""),
        "{text}"
    );
}

#[test]
fn groups_keep_the_forms_order() {
    let catalog = Catalog::embedded();
    let names: Vec<&str> = catalog
        .groups()
        .iter()
        .map(|group| group.name.as_str())
        .collect();
    let expected_prefix = [
        "Core",
        "Checkout",
        "Billing",
        "Connect",
        "Orders",
        "Issuing",
        "Reporting",
        "Identity",
        "Webhook",
        "Stripe CLI",
        "Payment Links",
        "Terminal",
        "Tax",
        "Radar",
        "Climate",
    ];
    assert_eq!(&names[..expected_prefix.len()], &expected_prefix);
}

#[test]
fn scope_ids_resolve_in_every_spelling() {
    let catalog = Catalog::embedded();
    let price_write = Permission::new("price", Level::Write);
    for spelling in [
        "plan_write",
        "rak_plan_write",
        "price_write",
        "price:write",
        "Prices: Write",
        "Plans Write",
        "Billing → Prices: Write",
    ] {
        assert_eq!(
            catalog.resolve(spelling).as_ref(),
            Ok(&price_write),
            "{spelling}"
        );
    }
    assert_eq!(
        catalog.resolve("top_up_read"),
        Ok(Permission::new("topup", Level::Read))
    );
    assert_eq!(
        catalog.resolve("Charges and Refunds: Write"),
        Ok(Permission::new("charge", Level::Write))
    );
}

#[test]
fn unknown_names_get_a_suggestion() {
    let catalog = Catalog::embedded();
    let error = catalog
        .resolve("checkout_sesion_read")
        .expect_err("misspelt");
    assert!(
        error
            .to_string()
            .contains("did you mean checkout_session_read?"),
        "{error}"
    );
    let error = catalog
        .resolve("Balance: Write")
        .expect_err("read-only row");
    assert!(error.to_string().contains("None/Read"), "{error}");
    let error = catalog
        .resolve("Disputes: Read")
        .expect_err("Core and Issuing both have Disputes");
    assert!(error.to_string().contains("Issuing → Disputes"), "{error}");
}

#[test]
fn write_implies_read_and_rows_imply_others() {
    let catalog = Catalog::embedded();
    let held = [Permission::new("checkout_session", Level::Write)]
        .into_iter()
        .collect();
    assert!(catalog.satisfies(&held, &Permission::new("checkout_session", Level::Read)));
    assert!(catalog.satisfies(&held, &Permission::new("payment_intent", Level::Read)));
    assert!(!catalog.satisfies(&held, &Permission::new("payment_intent", Level::Write)));
    assert!(!catalog.satisfies(&held, &Permission::new("customer", Level::Read)));
}

#[test]
fn every_row_has_a_label_and_a_known_level_set() {
    let catalog = Catalog::embedded();
    assert!(catalog.rows().len() >= 110, "{} rows", catalog.rows().len());
    for row in catalog.rows() {
        assert!(!row.display_name.is_empty(), "{}", row.id);
        for level in row.levels.iter() {
            if let Some(scope) = row.scope(level) {
                assert!(scope.ends_with(level.as_str()), "{scope}");
                assert_eq!(
                    catalog.permission_by_scope(scope),
                    Some(Permission::new(row.id.clone(), level))
                );
            }
        }
    }
}
