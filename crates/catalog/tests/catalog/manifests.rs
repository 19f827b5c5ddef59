//! Manifests: the examples match their seeds row for row, every validation problem is reported
//! with its field and fix, tiers and alternates resolve, Stripe App manifests import, and
//! serialisation round-trips.
#![allow(clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use proptest::prelude::*;
use rakguard_catalog::Catalog;
use rakguard_catalog::manifest::{
    Manifest, ManifestError, ManifestProblem, ProblemKind, Requirement, Severity,
    import_stripe_app, import_stripe_app_with_warnings,
};
use rakguard_catalog::permission::{Level, Permission};

const FRONTEGG: &str = include_str!("../../../../examples/manifests/frontegg.toml");
const CONTACTS_INBOX: &str = include_str!("../../../../examples/manifests/contacts-inbox.toml");
const SELGEO: &str = include_str!("../../../../examples/manifests/selgeo.toml");

use Level::{Read, Write};

fn catalog() -> &'static Catalog {
    Catalog::embedded()
}

fn parse(name: &str, text: &str) -> Manifest {
    match Manifest::parse(catalog(), name, text) {
        Ok(manifest) => manifest,
        Err(errors) => panic!("{name} does not parse:\n{errors}"),
    }
}

fn permission(row: &str, level: Level) -> Permission {
    Permission::new(row, level)
}

fn permissions(requirements: &[Requirement]) -> Vec<Permission> {
    requirements
        .iter()
        .map(|requirement| requirement.permission.clone())
        .collect()
}

/// Asserts that a seed's row label and level resolve to the expected row, and returns it.
fn seed_row(label: &str, level: Level, row: &str) -> Permission {
    let written = format!("{label}: {}", level.label());
    let expected = permission(row, level);
    assert_eq!(
        catalog().resolve(&written).as_ref(),
        Ok(&expected),
        "the seed's {written:?}"
    );
    expected
}

// ---------------------------------------------------------------------------------------------
// The examples match their seeds.

#[test]
fn frontegg_matches_the_seed_row_for_row() {
    // Seed 000, steps 4 (Core) and 5 (Billing): resource type, permission.
    let seed = [
        ("Customers", Write, "customer"),
        ("Charges and Refunds", Write, "charge"),
        ("Payment Intents", Write, "payment_intent"),
        ("Products", Write, "product"),
        ("Invoices", Write, "invoice"),
        ("Prices", Write, "price"),
        ("Subscriptions", Write, "subscription"),
    ];
    let expected: Vec<Permission> = seed
        .iter()
        .map(|(label, level, row)| seed_row(label, *level, row))
        .collect();
    let manifest = parse("frontegg.toml", FRONTEGG);
    assert_eq!(manifest.id, "frontegg");
    assert_eq!(manifest.key_name, "Frontegg Integration");
    assert!(!manifest.accept_secret_keys);
    assert_eq!(
        permissions(&manifest.permissions),
        expected,
        "in the seed's order"
    );
    assert_eq!(manifest.permissions.len(), 7);
    assert!(manifest.connect_permissions.is_empty() && manifest.tiers.is_empty());
    let required = manifest.required_permissions(None).expect("no tier");
    assert_eq!(required, expected.iter().cloned().collect::<BTreeSet<_>>());
    assert!(
        manifest
            .permissions
            .iter()
            .all(|requirement| !requirement.purpose.is_empty())
    );

    // "For read-only access, set the resource types above to Read instead of Write."
    let read_only = manifest
        .alternate("read-only")
        .expect("the read-only alternate");
    let reads: BTreeSet<Permission> = seed
        .iter()
        .map(|(label, _, row)| seed_row(label, Read, row))
        .collect();
    assert_eq!(
        permissions(&read_only.permissions)
            .into_iter()
            .collect::<BTreeSet<_>>(),
        reads
    );
    assert_eq!(read_only.permissions.len(), 7);
    assert!(
        read_only.description.contains("Read instead of Write"),
        "{}",
        read_only.description
    );
}

#[test]
fn contacts_inbox_matches_the_seed_row_for_row() {
    // Seed 001: resource type, Free, Premium, Connect permissions ("—" and None are absent).
    // (label, Free, Premium, Connect permissions, expected row)
    type SeedRow = (
        &'static str,
        Option<Level>,
        Option<Level>,
        Option<Level>,
        &'static str,
    );
    let seed: [SeedRow; 6] = [
        ("Charges", None, Some(Write), None, "charge"),
        ("Customers", Some(Read), Some(Read), None, "customer"),
        ("Products", None, Some(Read), None, "product"),
        ("Plan", None, Some(Read), None, "price"),
        ("Subscriptions", None, Some(Write), None, "subscription"),
        (
            "All Connect resources",
            Some(Read),
            Some(Read),
            None,
            "connected_account",
        ),
    ];
    let column = |pick: fn(&SeedRow) -> Option<Level>| {
        seed.iter()
            .filter_map(|row| pick(row).map(|level| seed_row(row.0, level, row.4)))
            .collect::<BTreeSet<_>>()
    };
    let free = column(|row| row.1);
    let premium = column(|row| row.2);
    let connect = column(|row| row.3);
    assert_eq!((free.len(), premium.len(), connect.len()), (2, 6, 0));

    let manifest = parse("contacts-inbox.toml", CONTACTS_INBOX);
    assert_eq!(manifest.id, "contacts-inbox");
    assert_eq!(manifest.tier_ids(), ["free", "premium"]);
    assert_eq!(
        manifest
            .tier("premium")
            .and_then(|tier| tier.extends.as_deref()),
        Some("free")
    );
    assert!(
        manifest.permissions.is_empty(),
        "everything belongs to a tier"
    );
    assert_eq!(
        manifest.required_permissions(Some("free")).expect("free"),
        free
    );
    assert_eq!(
        manifest
            .required_permissions(Some("premium"))
            .expect("premium"),
        premium
    );
    for tier in [None, Some("free"), Some("premium")] {
        assert!(
            manifest
                .connect_requirements(tier)
                .expect("tier")
                .is_empty(),
            "Connect column is None"
        );
    }
    assert!(
        manifest.requirements(None).expect("base").is_empty(),
        "None means the base only"
    );
    // Premium lists only what it adds; the rest comes from `free`.
    assert_eq!(
        manifest.tier("premium").map(|tier| tier.permissions.len()),
        Some(4)
    );
}

#[test]
fn selgeo_matches_the_seed_row_for_row() {
    // Seed 002, "Required permissions (8)": Read (5) then Write (3).
    let seed = [
        ("Checkout sessions", Read, "checkout_session"),
        ("Charges", Read, "charge"),
        ("Balance transactions", Read, "balance_transaction_source"),
        ("Customers", Read, "customer"),
        ("Invoices", Read, "invoice"),
        ("Promotion codes", Write, "promotion_code"),
        ("Coupons", Write, "coupon"),
        ("Webhook endpoints", Write, "webhook"),
    ];
    let expected: Vec<Permission> = seed
        .iter()
        .map(|(label, level, row)| seed_row(label, *level, row))
        .collect();
    let manifest = parse("selgeo.toml", SELGEO);
    assert_eq!(manifest.id, "selgeo");
    assert_eq!(manifest.key_name, "Selgeo Affiliates");
    assert!(!manifest.accept_secret_keys);
    assert_eq!(permissions(&manifest.permissions), expected);
    assert_eq!(
        manifest.requirements(None).expect("base").len(),
        8,
        "exactly eight"
    );
    assert_eq!(
        manifest.scopes(catalog(), None).expect("base"),
        [
            "balance_transaction_source_read",
            "charge_read",
            "customer_read",
            "checkout_session_read",
            "coupon_write",
            "promotion_code_write",
            "invoice_read",
            "webhook_write",
        ],
        "the form's order"
    );
    assert!(manifest.unscoped(catalog(), None).expect("base").is_empty());
}

#[test]
fn the_documented_example_parses() {
    let docs = include_str!("../../../../docs/manifest.md");
    let example = docs
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/manifest.md has a TOML example");
    let manifest = parse("docs/manifest.md", example);
    assert_eq!(manifest.tier_ids(), ["pro", "enterprise"]);
    assert_eq!(
        manifest
            .requirements(Some("enterprise"))
            .expect("enterprise")
            .len(),
        4
    );
    assert_eq!(
        manifest
            .connect_requirements(Some("enterprise"))
            .expect("enterprise")
            .len(),
        2
    );
    let read_only = manifest.alternate("read-only").expect("read-only");
    assert_eq!(
        permissions(&read_only.permissions),
        [permission("charge", Read), permission("invoice", Read)]
    );
    assert_eq!(
        manifest
            .alternate("invoices-only")
            .map(|alternate| alternate.permissions.len()),
        Some(1)
    );
}

#[test]
fn examples_have_no_warnings() {
    for (name, text) in [
        ("frontegg", FRONTEGG),
        ("contacts-inbox", CONTACTS_INBOX),
        ("selgeo", SELGEO),
    ] {
        let (_, warnings) = Manifest::parse_with_warnings(catalog(), name, text).expect("valid");
        assert!(warnings.is_empty(), "{name}: {warnings:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Every validation problem, with its field and fix.

const HEADER: &str = "id = \"t\"\nname = \"T\"\n";
const CUSTOMERS: &str = "[[permission]]\nname = \"customer_read\"\npurpose = \"p\"\n";

fn problems(text: &str) -> Vec<ManifestProblem> {
    match Manifest::parse_with_warnings(catalog(), "t.toml", text) {
        Ok((_, warnings)) => warnings,
        Err(errors) => errors.problems,
    }
}

/// `body` after a valid id and name: some problem is at `field` and mentions `fragment` in its
/// message or fix.
#[track_caller]
fn check(body: &str, field: &str, fragment: &str) {
    check_document(&format!("{HEADER}{body}"), field, fragment);
}

#[track_caller]
fn check_document(text: &str, field: &str, fragment: &str) {
    let found = problems(text);
    let matched = found.iter().any(|problem| {
        problem.field == field
            && (problem.message.contains(fragment)
                || problem
                    .fix
                    .as_deref()
                    .is_some_and(|fix| fix.contains(fragment)))
    });
    let listed: Vec<String> = found.iter().map(ToString::to_string).collect();
    assert!(
        matched,
        "expected {field}: …{fragment}… in:\n{}\n--- text:\n{text}",
        listed.join("\n")
    );
}

#[test]
fn permission_names_are_resolved_with_suggestions() {
    let entry = |name: &str| format!("[[permission]]\nname = {name:?}\npurpose = \"p\"\n");
    check(
        &entry("checkout_sesion_read"),
        "permission[0].name",
        "did you mean checkout_session_read?",
    );
    check(
        &entry("checkout_sesion_read"),
        "permission[0].name",
        "unknown permission \"checkout_sesion_read\"",
    );
    check(
        &entry("Custmers: Read"),
        "permission[0].name",
        "did you mean Customers: Read?",
    );
    check(
        &entry("zzzz"),
        "permission[0].name",
        "scope id such as customer_read",
    );
    check(
        &entry("Balance: Write"),
        "permission[0].name",
        "offers None/Read only",
    );
    check(
        &entry("Balance: Write"),
        "permission[0].name",
        "did you mean Balance: Read?",
    );
    check(
        &entry("balance_write"),
        "permission[0].name",
        "did you mean balance_read?",
    );
    check(
        &entry("Account Links: Read"),
        "permission[0].name",
        "offers None/Write only",
    );
    check(
        &entry("Disputes: Read"),
        "permission[0].name",
        "matches several rows",
    );
    check(
        &entry("Disputes: Read"),
        "permission[0].name",
        "name the section too",
    );
    check(
        &entry(""),
        "permission[0].name",
        "the permission name is empty",
    );
    check(
        &entry("user_email_read"),
        "permission[0].name",
        "can only be requested by Stripe Apps",
    );
    check(
        &entry("elements_write"),
        "permission[0].name",
        "remove this entry",
    );
}

#[test]
fn every_permission_needs_a_name_and_a_purpose() {
    check(
        "[[permission]]\nname = \"customer_read\"\n",
        "permission[0].purpose",
        "every permission needs one",
    );
    check(
        "[[permission]]\nname = \"customer_read\"\npurpose = \"  \"\n",
        "permission[0].purpose",
        "empty purpose",
    );
    check(
        "[[permission]]\npurpose = \"p\"\n",
        "permission[0].name",
        "missing `name`",
    );
    check(
        "[[tier]]\nid = \"a\"\nname = \"A\"\n[[tier.permission]]\nname = \"charge_read\"\n",
        "tier[0].permission[0].purpose",
        "missing purpose",
    );
    check(
        "[[connect_permission]]\nname = \"charge_read\"\n",
        "connect_permission[0].purpose",
        "missing purpose",
    );
}

#[test]
fn duplicates_are_reported() {
    check(
        &format!("{CUSTOMERS}{CUSTOMERS}"),
        "permission[1].name",
        "listed twice (also at permission[0])",
    );
    check(
        &format!("{CUSTOMERS}[[permission]]\nname = \"Customers: Write\"\npurpose = \"q\"\n"),
        "permission[0].name",
        "redundant: permission[1] requires Core → Customers: Write",
    );
    check(
        &format!(
            "{CUSTOMERS}[[tier]]\nid = \"free\"\nname = \"Free\"\n[[tier.permission]]\nname = \"charge_write\"\npurpose = \"p\"\n\
             [[tier]]\nid = \"pro\"\nname = \"Pro\"\nextends = \"free\"\n[[tier.permission]]\nname = \"charge_read\"\npurpose = \"p\"\n\
             [[tier.permission]]\nname = \"customer_read\"\npurpose = \"p\"\n"
        ),
        "tier[1].permission[0].name",
        "already required by tier \"free\"",
    );
    check(
        &format!(
            "{CUSTOMERS}[[tier]]\nid = \"pro\"\nname = \"Pro\"\n[[tier.permission]]\nname = \"customer_read\"\npurpose = \"p\"\n"
        ),
        "tier[0].permission[0].name",
        "already required by the base permissions",
    );
    let tier = "[[tier]]\nid = \"a\"\nname = \"A\"\n[[tier.permission]]\nname = \"charge_read\"\npurpose = \"p\"\n";
    check(
        &format!("{tier}{tier}"),
        "tier[1].id",
        "tier id \"a\" is already used by tier[0]",
    );
    let alternate = "[[alternate]]\nid = \"ro\"\nname = \"RO\"\nread_only = true\n";
    check(
        &format!("{CUSTOMERS}{alternate}{alternate}"),
        "alternate[1].id",
        "already used by alternate[0]",
    );
}

#[test]
fn duplicates_are_warnings_and_the_manifest_still_loads() {
    let text = format!("{HEADER}{CUSTOMERS}{CUSTOMERS}");
    let (manifest, warnings) =
        Manifest::parse_with_warnings(catalog(), "t.toml", &text).expect("warnings only");
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].severity(), Severity::Warning);
    assert_eq!(warnings[0].kind, ProblemKind::DuplicatePermission);
    assert!(
        warnings[0].to_string().contains(": warning: "),
        "{}",
        warnings[0]
    );
    assert_eq!(
        manifest.requirements(None).expect("base").len(),
        1,
        "merged"
    );
}

#[test]
fn tiers_are_checked() {
    let tier = |id: &str, extends: Option<&str>| {
        let extends = extends
            .map(|extends| format!("extends = {extends:?}\n"))
            .unwrap_or_default();
        format!(
            "[[tier]]\nid = {id:?}\nname = \"N\"\n{extends}[[tier.permission]]\nname = \"charge_read\"\npurpose = \"p\"\n"
        )
    };
    check(
        &format!("{}{}", tier("free", None), tier("pro", Some("fre"))),
        "tier[1].extends",
        "did you mean \"free\"?",
    );
    check(
        &tier("pro", Some("gold")),
        "tier[0].extends",
        "no other tier",
    );
    check(
        &format!("{}{}", tier("a", Some("b")), tier("b", Some("a"))),
        "tier[0].extends",
        "tiers extend each other in a cycle: a → b → a",
    );
    check(
        &format!(
            "{}{}{}",
            tier("x", None),
            tier("b", Some("c")),
            tier("c", Some("b"))
        ),
        "tier[1].extends",
        "cycle: b → c → b",
    );
    check(
        &tier("a", Some("a")),
        "tier[0].extends",
        "tier \"a\" extends itself",
    );
    check(&tier("Free Tier", None), "tier[0].id", "use \"free-tier\"");
    check(
        "[[tier]]\nid = \"a\"\n[[tier.permission]]\nname = \"charge_read\"\npurpose = \"p\"\n",
        "tier[0].name",
        "missing `name`",
    );
    check(
        &format!("{CUSTOMERS}[[tier]]\nid = \"a\"\nname = \"A\"\n"),
        "tier[0]",
        "adds no permissions",
    );
}

#[test]
fn a_cycle_is_reported_once() {
    let text = format!(
        "{HEADER}[[tier]]\nid = \"a\"\nname = \"A\"\nextends = \"b\"\n[[tier.permission]]\nname = \"charge_read\"\npurpose = \"p\"\n\
         [[tier]]\nid = \"b\"\nname = \"B\"\nextends = \"a\"\n[[tier.permission]]\nname = \"customer_read\"\npurpose = \"p\"\n"
    );
    let cycles = problems(&text)
        .into_iter()
        .filter(|problem| problem.kind == ProblemKind::ExtendsCycle)
        .count();
    assert_eq!(cycles, 1);
}

#[test]
fn connect_permissions_must_be_offered_by_the_connect_column() {
    let connect =
        |name: &str| format!("[[connect_permission]]\nname = {name:?}\npurpose = \"p\"\n");
    check(
        &connect("All Connect resources: Read"),
        "connect_permission[0].name",
        "\"(Direct)\" permission",
    );
    check(
        &connect("account_link_write"),
        "connect_permission[0].name",
        "move it to [[permission]]",
    );
    check(
        &format!(
            "[[tier]]\nid = \"a\"\nname = \"A\"\n{}",
            connect("Account Sessions: Write")
                .replace("[[connect_permission]]", "[[tier.connect_permission]]")
        ),
        "tier[0].connect_permission[0].name",
        "move it to [[tier.permission]]",
    );
    let manifest = parse("t.toml", &format!("{HEADER}{}", connect("charge_write")));
    assert_eq!(
        permissions(&manifest.connect_requirements(None).expect("base")),
        [permission("charge", Write)]
    );
    assert!(
        manifest.requirements(None).expect("base").is_empty(),
        "the columns are separate"
    );
}

#[test]
fn top_level_fields_are_checked() {
    check_document(&format!("name = \"T\"\n{CUSTOMERS}"), "id", "missing `id`");
    check_document(
        &format!("id = \"t\"\n{CUSTOMERS}"),
        "name",
        "missing `name`",
    );
    check_document(
        &format!("id = \"Contacts_Inbox\"\nname = \"T\"\n{CUSTOMERS}"),
        "id",
        "use \"contacts-inbox\"",
    );
    check_document(
        &format!("id = \"t\"\nname = \"\"\n{CUSTOMERS}"),
        "name",
        "`name` is empty",
    );
    check(
        &format!("key_name = \"\"\n{CUSTOMERS}"),
        "key_name",
        "`key_name` is empty",
    );
    check(
        &format!("accept_secret_keys = \"yes\"\n{CUSTOMERS}"),
        "accept_secret_keys",
        "expected true or false, found string",
    );
    check(
        &format!("id2 = 1\n{CUSTOMERS}"),
        "id2",
        "unknown field `id2`",
    );
    check(
        "[[permissions]]\nname = \"customer_read\"\npurpose = \"p\"\n",
        "permissions",
        "did you mean `permission`?",
    );
    check(
        "[permission]\nname = \"customer_read\"\npurpose = \"p\"\n",
        "permission",
        "write [[permission]] (double brackets)",
    );
    check(
        "permission = [\"customer_read\"]\n",
        "permission[0]",
        "expected a table, found string",
    );
    check(
        "[[permission]]\nname = \"customer_read\"\npurpos = \"p\"\n",
        "permission[0].purpos",
        "did you mean `purpose`?",
    );
    check(
        &format!("[[tier]]\nid = \"a\"\nname = \"A\"\ndescription = \"d\"\n{CUSTOMERS}"),
        "tier[0].description",
        "unknown field",
    );
    check("", "permission", "the manifest requires no permissions");
    check(
        "[[permission]]\nname = 5\npurpose = \"p\"\n",
        "permission[0].name",
        "expected a string, found integer",
    );
}

#[test]
fn alternates_are_checked() {
    let alternate = "[[alternate]]\nid = \"ro\"\nname = \"RO\"\n";
    check(
        &format!(
            "{CUSTOMERS}{alternate}read_only = true\n[[alternate.permission]]\nname = \"customer_read\"\npurpose = \"p\"\n"
        ),
        "alternate[0].read_only",
        "cannot be given too",
    );
    check(
        &format!("{CUSTOMERS}{alternate}description = \"d\"\n"),
        "alternate[0].permission",
        "lists no permissions",
    );
    check(
        &format!("{CUSTOMERS}{alternate}read_only = true\ntier = \"gold\"\n"),
        "alternate[0].tier",
        "unknown tier \"gold\"",
    );
    check(
        &format!(
            "{CUSTOMERS}{alternate}description = \"d\"\ntier = \"gold\"\n[[alternate.permission]]\nname = \"customer_read\"\npurpose = \"p\"\n"
        ),
        "alternate[0].tier",
        "only applies to read_only = true",
    );
    check(
        &format!(
            "{CUSTOMERS}{alternate}[[alternate.permission]]\nname = \"customer_read\"\npurpose = \"p\"\n"
        ),
        "alternate[0].description",
        "missing `description`",
    );
    check(
        &format!(
            "{CUSTOMERS}{alternate}description = \"d\"\n[[alternate.permission]]\nname = \"custmer_read\"\npurpose = \"p\"\n"
        ),
        "alternate[0].permission[0].name",
        "did you mean customer_read?",
    );
    check(
        &format!(
            "[[permission]]\nname = \"account_link_write\"\npurpose = \"p\"\n{alternate}read_only = true\n"
        ),
        "alternate[0]",
        "nothing it derives from offers Read",
    );
    check(
        &format!("{CUSTOMERS}[[alternate]]\nid = \"Read Only\"\nname = \"RO\"\nread_only = true\n"),
        "alternate[0].id",
        "use \"read-only\"",
    );
}

#[test]
fn syntax_errors_have_a_line_and_column() {
    let found = problems("id = \"t\"\nname = \"T\"\n[[permission]\nname = \"x\"\n");
    assert!(!found.is_empty());
    assert!(
        found
            .iter()
            .all(|problem| problem.kind == ProblemKind::Syntax && problem.field.is_empty())
    );
    assert_eq!(found[0].line, 3, "{found:?}");
    assert!(found[0].column > 1, "{found:?}");
    let shown = found[0].to_string();
    assert!(shown.starts_with("t.toml:3:"), "{shown}");
    let found = problems("id = \nname = \"T\"\n");
    assert_eq!((found[0].line, found[0].column), (1, 6), "{found:?}");
}

#[test]
fn every_problem_is_reported_at_once_with_file_line_column_field_and_fix() {
    let text = "\
id = \"Bad Id\"
name = \"T\"
colour = \"blue\"

[[permission]]
name = \"checkout_sesion_read\"
purpose = \"p\"

[[permission]]
name = \"customer_read\"

[[connect_permission]]
name = \"account_link_write\"
purpose = \"p\"

[[tier]]
id = \"pro\"
name = \"Pro\"
extends = \"free\"

[[tier.permission]]
name = \"Balance: Write\"
purpose = \"p\"
";
    let errors = Manifest::parse(catalog(), "bad.toml", text).expect_err("broken in six places");
    let lines: Vec<String> = errors.problems.iter().map(ToString::to_string).collect();
    let expected = [
        "bad.toml:1:6: id: \"Bad Id\" is not a valid id: use lowercase letters, digits and single hyphens (use \"bad-id\")",
        "bad.toml:3:1: colour: unknown field `colour` (the fields here are: id, name, description, key_name, accept_secret_keys, permission, connect_permission, tier, alternate)",
        "bad.toml:6:8: permission[0].name: unknown permission \"checkout_sesion_read\" (did you mean checkout_session_read?)",
        "bad.toml:9:1: permission[1].purpose: missing purpose: every permission needs one (add purpose = \"…\" telling the merchant why the integration needs it)",
        "bad.toml:13:8: connect_permission[0].name: Connect → Account Links: Write is a \"(Direct)\" permission: the Connect column does not offer it, so it cannot be granted on connected accounts (move it to [[permission]] if the integration needs it on its own account, or remove it)",
        "bad.toml:19:11: tier[0].extends: tier \"pro\" extends \"free\", which is not a tier of this manifest (this manifest has no other tier to extend: remove `extends`)",
        "bad.toml:22:8: tier[0].permission[0].name: \"Balance: Write\": the row Core → Balance offers None/Read only (did you mean Balance: Read?)",
    ];
    assert_eq!(lines, expected);
    assert_eq!(
        errors.to_string(),
        expected.join("\n"),
        "Display: one problem per line"
    );
    assert_eq!(errors.errors().count(), 7);
    assert_eq!(errors.warnings().count(), 0);
}

// ---------------------------------------------------------------------------------------------
// Queries.

const TIERED: &str = r#"
id = "tiered"
name = "Tiered"

[[permission]]
name = "charge_read"
purpose = "Show charges."

[[tier]]
id = "pro"
name = "Pro"
extends = "basic"

[[tier.permission]]
name = "Charges: Write"
purpose = "Refund charges."

[[tier.connect_permission]]
name = "customer_read"
purpose = "Read customers of connected accounts."

[[tier]]
id = "basic"
name = "Basic"

[[tier.permission]]
name = "Customers: Read"
purpose = "Find customers."

[[tier]]
id = "max"
name = "Max"
extends = "pro"

[[tier.permission]]
name = "balance_transfer:read"
purpose = "Show balance transfers."

[[alternate]]
id = "pro-read-only"
name = "Pro, read-only"
read_only = true
tier = "pro"
"#;

#[test]
fn a_tier_adds_to_the_base_and_the_tiers_it_extends() {
    let manifest = parse("tiered.toml", TIERED);
    let base = manifest.requirements(None).expect("base");
    assert_eq!(permissions(&base), [permission("charge", Read)]);
    let basic = manifest.requirements(Some("basic")).expect("basic");
    assert_eq!(
        permissions(&basic),
        [permission("charge", Read), permission("customer", Read)],
        "form order"
    );
    let pro = manifest.requirements(Some("pro")).expect("pro");
    assert_eq!(
        permissions(&pro),
        [permission("charge", Write), permission("customer", Read)]
    );
    assert_eq!(
        pro[0].purpose, "Show charges. Refund charges.",
        "write subsumes read, purposes merged"
    );
    let max = manifest.required_permissions(Some("max")).expect("max");
    assert_eq!(max.len(), 3);
    assert!(max.contains(&permission("balance_transfer", Read)));
    assert_eq!(
        permissions(&manifest.connect_requirements(Some("max")).expect("max")),
        [permission("customer", Read)]
    );
    assert!(
        manifest
            .connect_requirements(Some("basic"))
            .expect("basic")
            .is_empty()
    );
    assert_eq!(
        manifest.unscoped(catalog(), Some("max")).expect("max"),
        [permission("balance_transfer", Read)]
    );
    assert_eq!(
        manifest.scopes(catalog(), Some("max")).expect("max"),
        ["charge_write", "customer_read"]
    );
}

#[test]
fn an_unknown_tier_is_an_error_naming_the_tiers() {
    let manifest = parse("tiered.toml", TIERED);
    let error = manifest
        .requirements(Some("gold"))
        .expect_err("no such tier");
    assert_eq!(
        error,
        ManifestError::UnknownTier {
            tier: "gold".to_owned(),
            known: vec!["pro".to_owned(), "basic".to_owned(), "max".to_owned()]
        }
    );
    assert_eq!(
        error.to_string(),
        "unknown tier \"gold\" (this manifest's tiers: pro, basic, max)"
    );
    let selgeo = parse("selgeo.toml", SELGEO);
    assert!(selgeo.scopes(catalog(), Some("free")).is_err());
    assert!(selgeo.required_permissions(Some("free")).is_err());
}

#[test]
fn a_hand_built_cycle_does_not_hang_queries() {
    let mut manifest = parse("tiered.toml", TIERED);
    manifest.tiers[1].extends = Some("max".to_owned());
    assert_eq!(manifest.requirements(Some("max")).expect("max").len(), 3);
}

#[test]
fn read_only_alternates_downgrade_writes_and_drop_write_only_rows() {
    let text = format!(
        "{HEADER}\
         [[permission]]\nname = \"Customers: Write\"\npurpose = \"Update customers.\"\n\
         [[permission]]\nname = \"customer_read\"\npurpose = \"Find customers.\"\n\
         [[permission]]\nname = \"account_link_write\"\npurpose = \"Onboard sellers.\"\n\
         [[permission]]\nname = \"balance_read\"\npurpose = \"Show the balance.\"\n\
         [[alternate]]\nid = \"ro\"\nname = \"Read-only\"\nread_only = true\n"
    );
    let (manifest, warnings) =
        Manifest::parse_with_warnings(catalog(), "t.toml", &text).expect("valid");
    assert_eq!(
        warnings.len(),
        1,
        "the redundant customer_read: {warnings:?}"
    );
    let read_only = manifest.alternate("ro").expect("ro");
    assert_eq!(
        permissions(&read_only.permissions),
        [permission("balance", Read), permission("customer", Read)]
    );
    assert_eq!(
        read_only.permissions[1].purpose,
        "Update customers. Find customers."
    );
    assert!(
        read_only.description.ends_with(
            "Left out, because the row offers Write only: Connect → Account Links: Write."
        ),
        "{}",
        read_only.description
    );

    let tiered = parse("tiered.toml", TIERED);
    let pro = tiered
        .alternate("pro-read-only")
        .expect("derived from a tier");
    assert_eq!(
        permissions(&pro.permissions),
        [permission("charge", Read), permission("customer", Read)]
    );
}

// ---------------------------------------------------------------------------------------------
// Stripe App manifests.

const STRIPE_APP: &str = r#"{
  "id": "com.example.Invoicer",
  "version": "1.2.3",
  "name": "Invoicer",
  "icon": "./icon.png",
  "stripe_api_access_type": "restricted_api_key",
  "permissions": [
    {"permission": "invoice_write", "purpose": "Adds shipping lines to invoices."},
    {"permission": "top_up_read", "purpose": "Shows top-ups."},
    {"permission": "event_read", "purpose": "Listens to events."},
    {"permission": "user_email_read", "purpose": "Greets the Dashboard user."},
    {"permission": "rak_plan_write", "purpose": "Creates prices."}
  ],
  "ui_extension": {"views": []}
}"#;

#[test]
fn a_stripe_app_manifest_imports() {
    let (manifest, warnings) =
        import_stripe_app_with_warnings(catalog(), "stripe-app.json", STRIPE_APP).expect("valid");
    assert_eq!(manifest.id, "com-example-invoicer");
    assert_eq!(manifest.name, "Invoicer");
    assert_eq!(manifest.key_name, "Invoicer");
    assert!(!manifest.accept_secret_keys);
    assert_eq!(
        permissions(&manifest.permissions),
        [
            permission("invoice", Write),
            permission("topup", Read),
            permission("event", Read),
            permission("price", Write),
        ]
    );
    assert_eq!(manifest.permissions[1].purpose, "Shows top-ups.");
    assert_eq!(
        manifest.description,
        "Imported from the Stripe App manifest com.example.Invoicer (version 1.2.3). Not imported, because only Stripe Apps can hold them and a restricted key cannot: user_email_read."
    );
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].kind, ProblemKind::DroppedAppsOnly);
    assert_eq!(
        (warnings[0].line, warnings[0].field.as_str()),
        (11, "permissions[3].permission")
    );
    assert_eq!(
        import_stripe_app(catalog(), "stripe-app.json", STRIPE_APP).expect("valid"),
        manifest
    );
}

#[test]
fn stripe_app_problems_have_lines_and_suggestions() {
    let text = r#"{
  "id": "com.example.app",
  "name": "App",
  "stripe_api_access_type": "oauth",
  "permissions": [
    {"permission": "customer_read", "purpose": "Reads customers."},
    {"permission": "cusomer_write", "purpose": "Writes customers."},
    {"permission": "charge_read"},
    {"purpose": "nothing"},
    "charge_write"
  ]
}"#;
    let errors =
        import_stripe_app(catalog(), "stripe-app.json", text).expect_err("three broken entries");
    let lines: Vec<String> = errors.problems.iter().map(ToString::to_string).collect();
    let has = |wanted: &str| lines.iter().any(|line| line.contains(wanted));
    assert!(
        has(
            "stripe-app.json:4:29: stripe_api_access_type: warning: the app authenticates with \"oauth\""
        ),
        "{lines:#?}"
    );
    assert!(
        has(
            "stripe-app.json:7:20: permissions[1].permission: unknown permission \"cusomer_write\" (did you mean customer_write?)"
        ),
        "{lines:#?}"
    );
    assert!(
        has("stripe-app.json:8:20: permissions[2].purpose: missing purpose"),
        "{lines:#?}"
    );
    assert!(
        has("stripe-app.json:9:5: permissions[3].permission: missing `permission`"),
        "{lines:#?}"
    );
    assert!(
        has("stripe-app.json:10:5: permissions[4]: expected an object, found string"),
        "{lines:#?}"
    );
}

#[test]
fn broken_stripe_app_json_is_reported() {
    let errors = import_stripe_app(catalog(), "app.json", "{\n  \"id\": \"x\",\n  \"name\": }")
        .expect_err("syntax");
    assert_eq!(errors.problems.len(), 1);
    let problem = &errors.problems[0];
    assert_eq!(
        (problem.kind, problem.line, problem.column),
        (ProblemKind::Syntax, 3, 11)
    );
    assert!(
        !problem.message.contains("at line"),
        "the position is not repeated: {}",
        problem.message
    );

    let errors = import_stripe_app(catalog(), "app.json", "[1, 2]").expect_err("not an object");
    assert!(
        errors.to_string().contains("expected a JSON object"),
        "{errors}"
    );

    let errors = import_stripe_app(catalog(), "app.json", r#"{"id": "x", "name": "X"}"#)
        .expect_err("no permissions");
    assert!(
        errors
            .to_string()
            .contains("permissions: missing `permissions`"),
        "{errors}"
    );

    let errors = import_stripe_app(
        catalog(),
        "app.json",
        r#"{"id": "x", "name": "X", "permissions": [{"permission": "user_email_read", "purpose": "p"}]}"#,
    )
    .expect_err("nothing a restricted key can hold");
    assert!(
        errors.to_string().contains("requires no permissions"),
        "{errors}"
    );
}

// ---------------------------------------------------------------------------------------------
// Serialisation.

#[test]
fn to_toml_round_trips() {
    let imported = import_stripe_app(catalog(), "stripe-app.json", STRIPE_APP).expect("valid");
    let odd = parse(
        "odd.toml",
        "id = \"odd\"\nname = 'Quote \" and \\ backslash'\ndescription = \"\"\"\nTwo\nlines, ünïcode ✓\"\"\"\n\
             accept_secret_keys = true\n\
             [[connect_permission]]\nname = \"Billing → Coupons: Write\"\npurpose = \"tab\\there\"\n\
             [[permission]]\nname = \"Issuing → Disputes: Read\"\npurpose = \"p\"\n\
             [[permission]]\nname = \"accounts_kyc_id_numbers_read\"\npurpose = \"p\"\n\
             [[alternate]]\nid = \"explicit\"\nname = \"E\"\ndescription = \"d\"\n\
             [[alternate.permission]]\nname = \"charge_read\"\npurpose = \"p\"\n",
    );
    let manifests = [
        parse("frontegg.toml", FRONTEGG),
        parse("contacts-inbox.toml", CONTACTS_INBOX),
        parse("selgeo.toml", SELGEO),
        parse("tiered.toml", TIERED),
        imported,
        odd,
    ];
    for manifest in manifests {
        let text = manifest.to_toml();
        let again = match Manifest::parse(catalog(), "round-trip.toml", &text) {
            Ok(again) => again,
            Err(errors) => panic!("{errors}\n--- text:\n{text}"),
        };
        assert_eq!(again, manifest, "--- text:\n{text}");
        assert_eq!(again.to_toml(), text, "stable");
    }
}

#[test]
fn to_toml_spells_permissions_as_the_form_does() {
    let text = parse("selgeo.toml", SELGEO).to_toml();
    assert!(
        text.contains("name = \"Checkout Sessions: Read\""),
        "{text}"
    );
    assert!(
        text.contains("name = \"Webhook Endpoints: Write\""),
        "{text}"
    );
    assert!(text.contains("key_name = \"Selgeo Affiliates\""), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Robustness.

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = Manifest::parse(catalog(), "any.toml", &text);
        let _ = import_stripe_app(catalog(), "any.json", &text);
    }

    #[test]
    fn toml_like_text_never_panics(text in "[\\[\\]a-z_=\"' \n.0-9{}:,→—-]{0,300}") {
        let _ = Manifest::parse(catalog(), "any.toml", &text);
    }

    #[test]
    fn damaged_examples_never_panic(cut in 0usize..2000, insert in ".{0,8}") {
        for example in [FRONTEGG, CONTACTS_INBOX, SELGEO, TIERED] {
            let mut at = cut.min(example.len());
            while !example.is_char_boundary(at) {
                at -= 1;
            }
            let damaged = format!("{}{insert}{}", &example[..at], &example[at..]);
            if let Err(errors) = Manifest::parse(catalog(), "damaged.toml", &damaged) {
                prop_assert!(errors.problems.iter().any(ManifestProblem::is_error));
                prop_assert!(errors.problems.iter().all(|problem| problem.line >= 1 && problem.column >= 1));
            }
            let damaged_json = format!("{}{insert}{}", &STRIPE_APP[..cut.min(STRIPE_APP.len())], &STRIPE_APP[cut.min(STRIPE_APP.len())..]);
            let _ = import_stripe_app(catalog(), "damaged.json", &damaged_json);
        }
    }
}

#[test]
fn stripe_app_export_uses_apps_names_and_round_trips_through_import() {
    let catalog = Catalog::embedded();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/manifests/selgeo.toml"
    ))
    .unwrap();
    let manifest = Manifest::parse(catalog, "selgeo.toml", &text).unwrap();
    let exported = manifest.stripe_app_permissions(catalog, None).unwrap();
    assert!(
        exported.not_requestable.is_empty(),
        "{:?}",
        exported.not_requestable
    );
    let names: Vec<&str> = exported
        .permissions
        .iter()
        .map(|entry| entry.permission.as_str())
        .collect();
    assert!(
        names.contains(&"webhook_write") && names.contains(&"checkout_session_read"),
        "{names:?}"
    );
    let app = serde_json::json!({ "id": "com.example.selgeo", "version": "1.0.0", "name": "Selgeo", "permissions": exported.permissions });
    let imported =
        rakguard_catalog::manifest::import_stripe_app(catalog, "stripe-app.json", &app.to_string())
            .unwrap();
    assert_eq!(
        imported.required_permissions(None).unwrap(),
        manifest.required_permissions(None).unwrap()
    );
}

#[test]
fn stripe_app_export_lists_what_an_app_cannot_request() {
    let catalog = Catalog::embedded();
    let text = "id = \"x\"\nname = \"X\"\ndescription = \"d\"\n[[permission]]\nname = \"funding_instruction_write\"\npurpose = \"p\"\n";
    let manifest = Manifest::parse(catalog, "x.toml", text).unwrap();
    let exported = manifest.stripe_app_permissions(catalog, None).unwrap();
    assert!(exported.permissions.is_empty());
    assert_eq!(
        exported.not_requestable,
        ["Core → Funding Instructions: Write"]
    );
}
