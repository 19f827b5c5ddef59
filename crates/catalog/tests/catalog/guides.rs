//! Setup guides: snapshots of the example manifests' guides, and checks of what every guide must
//! say (rows in form order, the prefilled link, the mode's Dashboard, escaping).
// Tests may panic on a broken expectation; the workspace lints are for library code.
#![allow(clippy::expect_used)]

use rakguard_catalog::Catalog;
use rakguard_catalog::guide::{
    self, GuideError, GuideFormat, GuideKind, GuideOptions, create_key_link,
};
use rakguard_catalog::key::Mode;
use rakguard_catalog::manifest::{Manifest, Requirement};
use rakguard_catalog::permission::{Level, Permission};

fn catalog() -> &'static Catalog {
    Catalog::embedded()
}

fn need(row: &str, level: Level, purpose: &str) -> Requirement {
    Requirement {
        permission: Permission::new(row, level),
        purpose: purpose.to_owned(),
    }
}

/// An example manifest from `examples/manifests/`, parsed as the CLI would.
fn example(name: &str, text: &str) -> Manifest {
    Manifest::parse(catalog(), name, text).expect("the example manifest is valid")
}

/// Frontegg: seven rows at Write, and a read-only variant.
fn frontegg() -> Manifest {
    example(
        "frontegg.toml",
        include_str!("../../../../examples/manifests/frontegg.toml"),
    )
}

/// Contacts Inbox: a Free and a Premium tier, secret keys accepted.
fn contacts_inbox() -> Manifest {
    example(
        "contacts-inbox.toml",
        include_str!("../../../../examples/manifests/contacts-inbox.toml"),
    )
}

/// Selgeo: five reads and three writes across four sections.
fn selgeo() -> Manifest {
    example(
        "selgeo.toml",
        include_str!("../../../../examples/manifests/selgeo.toml"),
    )
}

fn options(mode: Mode, format: GuideFormat, kind: GuideKind) -> GuideOptions {
    GuideOptions {
        mode,
        format,
        kind,
        ..GuideOptions::default()
    }
}

fn render(manifest: &Manifest, options: &GuideOptions) -> String {
    guide::render(catalog(), manifest, options).expect("the guide renders")
}

fn selgeo_options() -> GuideOptions {
    GuideOptions {
        paste_location: Some(String::from("Settings → Stripe in the Selgeo dashboard")),
        integration_url: Some(String::from("https://app.selgeo.example/settings/stripe")),
        ..GuideOptions::default()
    }
}

#[test]
fn selgeo_markdown_test_mode() {
    insta::assert_snapshot!("selgeo_md_test", render(&selgeo(), &selgeo_options()));
}

#[test]
fn selgeo_html_test_mode() {
    let options = GuideOptions {
        format: GuideFormat::Html,
        ..selgeo_options()
    };
    insta::assert_snapshot!("selgeo_html_test", render(&selgeo(), &options));
}

#[test]
fn frontegg_markdown_test_mode() {
    let options = options(Mode::Test, GuideFormat::Markdown, GuideKind::CreateKey);
    insta::assert_snapshot!("frontegg_md_test", render(&frontegg(), &options));
}

#[test]
fn frontegg_markdown_live_mode() {
    let options = options(Mode::Live, GuideFormat::Markdown, GuideKind::CreateKey);
    insta::assert_snapshot!("frontegg_md_live", render(&frontegg(), &options));
}

#[test]
fn contacts_inbox_markdown_premium_tier() {
    let options = GuideOptions {
        tier: Some(String::from("premium")),
        ..GuideOptions::default()
    };
    insta::assert_snapshot!(
        "contacts_inbox_md_test_premium",
        render(&contacts_inbox(), &options)
    );
}

#[test]
fn selgeo_stripe_app_markdown() {
    let options = GuideOptions {
        kind: GuideKind::StripeApp,
        ..selgeo_options()
    };
    insta::assert_snapshot!("selgeo_md_test_stripe_app", render(&selgeo(), &options));
}

/// The first cell of every table row under "Permissions …", up to the Connect column section.
fn permission_table_rows(markdown: &str) -> Vec<String> {
    markdown
        .lines()
        .skip_while(|line| !line.starts_with("## Permissions"))
        .take_while(|line| *line != "### Connect column")
        .filter(|line| {
            line.starts_with("| ") && !line.starts_with("| Row |") && !line.starts_with("| ---")
        })
        .filter_map(|line| line.split(" | ").next())
        .map(|cell| cell.trim_start_matches("| ").to_owned())
        .collect()
}

fn form_order_names(manifest_rows: &[Requirement]) -> Vec<String> {
    let mut permissions: Vec<Permission> = manifest_rows
        .iter()
        .map(|requirement| requirement.permission.clone())
        .collect();
    catalog().sort_as_form(&mut permissions);
    permissions
        .iter()
        .map(|permission| {
            catalog()
                .row(&permission.row)
                .expect("known row")
                .display_name
                .clone()
        })
        .collect()
}

#[test]
fn table_lists_exactly_the_manifest_rows_in_form_order() {
    for manifest in [selgeo(), frontegg()] {
        let guide = render(&manifest, &GuideOptions::default());
        assert_eq!(
            permission_table_rows(&guide),
            form_order_names(&manifest.permissions),
            "{}",
            manifest.id
        );
    }
    let guide = render(&selgeo(), &GuideOptions::default());
    let headings: Vec<&str> = guide
        .lines()
        .filter(|line| line.starts_with("### "))
        .collect();
    assert_eq!(
        headings[..4],
        ["### Core", "### Checkout", "### Billing", "### Webhook"],
        "group headings follow the form's sections"
    );
}

#[test]
fn a_tier_adds_to_what_it_extends_and_write_subsumes_read() {
    let mut manifest = contacts_inbox();
    manifest.tiers[1]
        .permissions
        .push(need("customer", Level::Write, "Updates customer details."));
    let options = GuideOptions {
        tier: Some(String::from("Premium")),
        ..GuideOptions::default()
    };
    let guide = render(&manifest, &options);
    assert_eq!(
        permission_table_rows(&guide),
        [
            "Charges",
            "Customers",
            "Products",
            "Prices",
            "Subscriptions",
            "All Connect resources"
        ]
    );
    assert!(guide.contains(
        "| Customers | **Write** | Find the Stripe customer behind the email you are reading. \
         Updates customer details. |"
    ));
    let free = render(
        &manifest,
        &GuideOptions {
            tier: Some(String::from("free")),
            ..GuideOptions::default()
        },
    );
    assert_eq!(
        permission_table_rows(&free),
        ["Customers", "All Connect resources"]
    );
    assert!(free.contains("This guide is for the **Free** tier"));
    assert!(free.contains("**Premium**: everything Free needs, plus five permissions."));
}

#[test]
fn prefilled_link_has_one_rak_scope_per_known_permission() {
    let manifest = selgeo();
    let link = create_key_link(catalog(), &manifest, None, Mode::Test).expect("link");
    assert!(link.manual.is_empty());
    assert!(
        link.url.starts_with(
            "https://dashboard.stripe.com/test/apikeys/create?name=Selgeo%20Affiliates&"
        )
    );
    let scopes: Vec<&str> = link
        .url
        .split('&')
        .filter_map(|part| part.strip_prefix("permissions[]="))
        .collect();
    assert_eq!(scopes.len(), manifest.permissions.len());
    let mut expected: Vec<String> = manifest
        .permissions
        .iter()
        .map(|requirement| {
            format!(
                "rak_{}",
                catalog().scope(&requirement.permission).expect("scope")
            )
        })
        .collect();
    let mut found: Vec<String> = scopes.iter().map(|scope| (*scope).to_owned()).collect();
    expected.sort();
    found.sort();
    assert_eq!(found, expected);
    assert!(found.contains(&String::from("rak_balance_transaction_source_read")));
    let guide = render(&manifest, &GuideOptions::default());
    assert!(guide.contains(&format!("]({})", link.url)));
}

#[test]
fn rows_without_a_scope_id_are_left_to_set_by_hand() {
    let mut manifest = selgeo();
    manifest.permissions.push(need(
        "balance_transfer",
        Level::Read,
        "Reads balance transfers.",
    ));
    assert_eq!(
        catalog().scope(&Permission::new("balance_transfer", Level::Read)),
        None
    );
    let link = create_key_link(catalog(), &manifest, None, Mode::Test).expect("link");
    assert_eq!(
        link.manual,
        [Permission::new("balance_transfer", Level::Read)]
    );
    assert_eq!(link.url.matches("permissions[]=").count(), 8);
    let guide = render(&manifest, &GuideOptions::default());
    assert!(guide.contains("The link cannot set these rows"));
    assert!(guide.contains("- Core → Balance Transfers: Read"));
}

#[test]
fn live_guide_links_the_live_dashboard() {
    let options = options(Mode::Live, GuideFormat::Markdown, GuideKind::CreateKey);
    let guide = render(&frontegg(), &options);
    assert!(guide.contains("(https://dashboard.stripe.com/apikeys)"));
    assert!(
        guide.contains("(https://dashboard.stripe.com/apikeys/create?name=Frontegg%20Integration&")
    );
    assert!(!guide.contains("dashboard.stripe.com/test"));
    assert!(guide.contains("`rk_live_…`"));
    assert!(!guide.contains("rk_test_…"));

    let test = render(&frontegg(), &GuideOptions::default());
    assert!(test.contains("(https://dashboard.stripe.com/test/apikeys)"));
    assert!(test.contains("`rk_test_…`"));
}

#[test]
fn manifest_text_is_escaped() {
    let mut manifest = selgeo();
    manifest.name = String::from("<script>alert('x')</script> & Co");
    manifest.key_name = String::from("\"><img src=x onerror=alert(1)>");
    manifest.permissions[0].purpose = String::from("<b>bold</b> | pipe");
    let options = GuideOptions {
        format: GuideFormat::Html,
        ..GuideOptions::default()
    };
    let html = render(&manifest, &options);
    assert!(!html.contains("<script"));
    assert!(!html.contains("<img"));
    assert!(!html.contains("<b>"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co"));
    assert!(html.contains("<title>Create a Stripe restricted key for &lt;script&gt;"));

    let markdown = render(&manifest, &GuideOptions::default());
    assert!(
        !markdown.replace(r"\<", "").contains("<script"),
        "only escaped angle brackets"
    );
    assert!(markdown.contains(r"\<script\>alert('x')\</script\> & Co"));
    assert!(markdown.contains(r"\<b\>bold\</b\> \| pipe"));
}

#[test]
fn html_is_a_standalone_document_without_scripts() {
    let options = GuideOptions {
        format: GuideFormat::Html,
        ..selgeo_options()
    };
    let html = render(&selgeo(), &options);
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(html.ends_with("</html>\n"));
    for banned in ["<script", "<link", "<img", "src=", "@import", "url("] {
        assert!(!html.contains(banned), "{banned}");
    }
    assert!(html.contains("<th scope=\"col\">Row</th>"));
    assert!(html.contains("<th scope=\"row\">Checkout Sessions</th>"));
    assert_eq!(html.matches("<h1>").count(), 1);
}

#[test]
fn connect_column_is_either_tabled_or_explicitly_none() {
    let guide = render(&selgeo(), &GuideOptions::default());
    assert!(guide.contains("Connect permissions: **None**"));
    assert!(guide.contains("Leave the Connect column at None."));

    let mut manifest = selgeo();
    manifest.connect_permissions.push(need(
        "charge",
        Level::Read,
        "Reports on your connected accounts' sales.",
    ));
    let guide = render(&manifest, &GuideOptions::default());
    assert!(guide.contains("| Row | Section | Connect column |"));
    assert!(
        guide
            .contains("| Charges | Core | **Read** | Reports on your connected accounts' sales. |")
    );
    assert!(guide.contains("The link does not set the Connect column either"));
    assert!(!guide.contains("Connect permissions: **None**"));
}

#[test]
fn secret_key_advice_follows_the_manifest() {
    let refused = render(&selgeo(), &GuideOptions::default());
    assert!(refused.contains("Selgeo refuses it"));
    let accepted = render(
        &contacts_inbox(),
        &GuideOptions {
            tier: Some(String::from("free")),
            ..GuideOptions::default()
        },
    );
    assert!(accepted.contains("Contacts Inbox accepts it"));
}

#[test]
fn bad_tiers_and_links_are_errors() {
    let error = guide::render(
        catalog(),
        &contacts_inbox(),
        &GuideOptions {
            tier: Some(String::from("gold")),
            ..GuideOptions::default()
        },
    )
    .expect_err("unknown tier");
    assert_eq!(
        error,
        GuideError::UnknownTier {
            tier: String::from("gold"),
            known: vec![String::from("free"), String::from("premium")],
        }
    );

    let mut tiers_only = contacts_inbox();
    tiers_only.permissions.clear();
    assert!(matches!(
        guide::render(catalog(), &tiers_only, &GuideOptions::default()),
        Err(GuideError::TierRequired { .. })
    ));

    let mut empty = selgeo();
    empty.permissions.clear();
    assert_eq!(
        guide::render(catalog(), &empty, &GuideOptions::default()),
        Err(GuideError::NothingToGrant)
    );

    let error = guide::render(
        catalog(),
        &selgeo(),
        &GuideOptions {
            integration_url: Some(String::from("javascript:alert(1)")),
            ..GuideOptions::default()
        },
    )
    .expect_err("script link");
    assert!(matches!(error, GuideError::InvalidUrl(_)));
}

#[test]
fn output_is_deterministic() {
    for format in [GuideFormat::Markdown, GuideFormat::Html] {
        for kind in [GuideKind::CreateKey, GuideKind::StripeApp] {
            let options = options(Mode::Test, format, kind);
            assert_eq!(render(&frontegg(), &options), render(&frontegg(), &options));
        }
    }
}
