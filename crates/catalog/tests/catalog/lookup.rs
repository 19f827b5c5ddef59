//! Concrete requests map to the right operation and permission.

use rakguard_catalog::Catalog;
use rakguard_catalog::endpoint::Method;

/// `check("GET /v1/customers/cus_1", Some("customer_read"))`: the request's required permission
/// as a scope id (or `row:level` when no scope id is known), or `None` when nothing matches or
/// the operation is an exception.
#[track_caller]
fn check(request: &str, expected: Option<&str>) {
    let catalog = Catalog::embedded();
    let (method, path) = request.split_once(' ').expect("METHOD path");
    let method: Method = method.parse().expect("method");
    let found = catalog
        .lookup(method, path)
        .and_then(|operation| operation.permission())
        .map(|permission| catalog.permission_name(permission));
    assert_eq!(found.as_deref(), expected, "{request}");
}

#[track_caller]
fn check_template(request: &str, template: &str) {
    let catalog = Catalog::embedded();
    let (method, path) = request.split_once(' ').expect("METHOD path");
    let operation = catalog.lookup(method.parse().expect("method"), path);
    assert_eq!(
        operation.map(|operation| operation.path.as_str()),
        Some(template),
        "{request}"
    );
}

#[test]
fn customers() {
    check("GET /v1/customers", Some("customer_read"));
    check("GET /v1/customers/cus_123", Some("customer_read"));
    check("POST /v1/customers/cus_123", Some("customer_write"));
    check("DELETE /v1/customers/cus_123", Some("customer_write"));
    check("POST /v1/customers", Some("customer_write"));
}

#[test]
fn literal_segments_win_over_parameters() {
    check_template("GET /v1/customers/search", "/v1/customers/search");
    check_template("GET /v1/customers/cus_search", "/v1/customers/{customer}");
    check_template("GET /v1/invoices/upcoming", "/v1/invoices/upcoming");
    check_template("GET /v1/invoices/in_1", "/v1/invoices/{invoice}");
    check_template("GET /v1/charges/search?query=x", "/v1/charges/search");
}

#[test]
fn query_strings_trailing_slashes_and_encoding_are_ignored() {
    check(
        "GET /v1/customers?limit=3&expand[]=data.sources",
        Some("customer_read"),
    );
    check("GET /v1/customers/", Some("customer_read"));
    check(
        "GET /v1/customers/cus_1/?expand%5B%5D=x",
        Some("customer_read"),
    );
    check_template("GET /v1/customers/%73earch", "/v1/customers/search");
    check_template("GET /v1/customers/cus%5F1", "/v1/customers/{customer}");
    check_template("GET /v1/customers/a%2Fb", "/v1/customers/{customer}");
}

#[test]
fn parameters_are_returned_decoded_by_name() {
    let catalog = Catalog::embedded();
    let matched = catalog
        .lookup_with_params(Method::Get, "/v1/customers/cus%5F1/tax_ids/txi_2")
        .expect("matches");
    let names: Vec<&str> = matched.params.iter().map(|(name, _)| *name).collect();
    let values: Vec<&str> = matched
        .params
        .iter()
        .map(|(_, value)| value.as_str())
        .collect();
    assert_eq!(names, matched.operation.param_names().collect::<Vec<_>>());
    assert_eq!(values, ["cus_1", "txi_2"]);
}

#[test]
fn unknown_paths_and_methods_do_not_match() {
    check("GET /v1/nonsense", None);
    check("GET /v2/nonsense/x", None);
    check("GET v1/customers", None);
    check("GET /v1/customers/cus_1/nonsense", None);
    check("DELETE /v1/charges", None);
    check("GET ", None);
}

#[test]
fn well_known_permissions() {
    check("GET /v1/charges/ch_1", Some("charge_read"));
    check("POST /v1/refunds", Some("charge_write"));
    check("POST /v1/prices", Some("plan_write"));
    check("GET /v1/prices/price_1", Some("plan_read"));
    check("POST /v1/coupons", Some("coupon_write"));
    check("POST /v1/promotion_codes", Some("promotion_code_write"));
    check("GET /v1/checkout/sessions", Some("checkout_session_read"));
    check(
        "POST /v1/checkout/sessions/cs_test_1/expire",
        Some("checkout_session_write"),
    );
    check("POST /v1/webhook_endpoints", Some("webhook_write"));
    check("GET /v1/balance", Some("balance_read"));
    check("GET /v1/invoices", Some("invoice_read"));
    check("POST /v1/invoices/in_1/pay", Some("invoice_write"));
    check("POST /v1/subscriptions/sub_1", Some("subscription_write"));
    check("GET /v1/events/evt_1", Some("event_read"));
    check(
        "POST /v1/payment_intents/pi_1/confirm",
        Some("payment_intent_write"),
    );
    check(
        "POST /v1/terminal/connection_tokens",
        Some("terminal_connection_token_write"),
    );
    check("POST /v1/account_links", Some("account_link_write"));
}
