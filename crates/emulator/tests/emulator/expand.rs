//! `expand[]`: ids become objects, through lists, nested paths, and only with read permission on
//! the expanded object.

use rakguard_emulator::ErrorEra;

use crate::App;

async fn paid_intent(app: &App, key: &str) -> (String, String) {
    let customer = app
        .call("POST", "/v1/customers", Some(key), "email=x%40example.com")
        .await;
    assert_eq!(customer.status, 200, "{:?}", customer.body);
    let customer = customer.body["id"].as_str().expect("id").to_owned();
    let intent = app
        .call(
            "POST",
            "/v1/payment_intents",
            Some(key),
            &format!("amount=1500&currency=usd&customer={customer}&payment_method=pm_card_visa&confirm=true"),
        )
        .await;
    assert_eq!(intent.status, 200, "{:?}", intent.body);
    (customer, intent.body["id"].as_str().expect("id").to_owned())
}

#[tokio::test]
async fn an_id_becomes_the_object() {
    let app = App::with_restricted(&[], ErrorEra::Current);
    let key = app.secret("Secret key (test)");
    let (customer, intent) = paid_intent(&app, &key).await;
    let plain = app
        .call(
            "GET",
            &format!("/v1/payment_intents/{intent}"),
            Some(&key),
            "",
        )
        .await;
    assert_eq!(plain.body["customer"], customer.as_str());
    let expanded = app
        .call(
            "GET",
            &format!("/v1/payment_intents/{intent}?expand[]=customer&expand[]=latest_charge"),
            Some(&key),
            "",
        )
        .await;
    assert_eq!(expanded.status, 200, "{:?}", expanded.body);
    assert_eq!(expanded.body["customer"]["object"], "customer");
    assert_eq!(expanded.body["customer"]["id"], customer.as_str());
    assert_eq!(expanded.body["latest_charge"]["object"], "charge");
}

#[tokio::test]
async fn lists_expand_through_data_and_paths_nest() {
    let app = App::with_restricted(&[], ErrorEra::Current);
    let key = app.secret("Secret key (test)");
    paid_intent(&app, &key).await;
    let listed = app
        .call(
            "GET",
            "/v1/payment_intents?expand[]=data.latest_charge.balance_transaction",
            Some(&key),
            "",
        )
        .await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    let charge = &listed.body["data"][0]["latest_charge"];
    assert_eq!(charge["object"], "charge");
    assert_eq!(
        charge["balance_transaction"]["object"],
        "balance_transaction"
    );
}

#[tokio::test]
async fn expanding_needs_read_permission_on_the_expanded_object() {
    let app = App::with_restricted(
        &[
            &["payment_intent_write", "customer_write"],
            &["payment_intent_read"],
        ],
        ErrorEra::Current,
    );
    let (_, intent) = paid_intent(&app, &app.secret("r0")).await;
    let narrow = app.secret("r1");
    let plain = app
        .call(
            "GET",
            &format!("/v1/payment_intents/{intent}"),
            Some(&narrow),
            "",
        )
        .await;
    assert_eq!(plain.status, 200);
    let refused = app
        .call(
            "GET",
            &format!("/v1/payment_intents/{intent}?expand[]=customer"),
            Some(&narrow),
            "",
        )
        .await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    assert_eq!(refused.code(), Some("more_permissions_required"));
    assert!(
        refused.message().contains("('customer_read')"),
        "{}",
        refused.message()
    );
}

#[tokio::test]
async fn a_balance_transactions_source_needs_its_own_row() {
    let app = App::with_restricted(
        &[&["balance_read"], &["balance_transaction_source_read"]],
        ErrorEra::Current,
    );
    paid_intent(&app, &app.secret("Secret key (test)")).await;
    let path = "/v1/balance_transactions?limit=1&expand[]=data.source";
    let refused = app.call("GET", path, Some(&app.secret("r0")), "").await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    assert!(
        refused
            .message()
            .contains("('balance_transaction_source_read')"),
        "{}",
        refused.message()
    );
    let allowed = app.call("GET", path, Some(&app.secret("r1")), "").await;
    assert_eq!(allowed.status, 200, "{:?}", allowed.body);
    assert_eq!(allowed.body["data"][0]["source"]["object"], "charge");
}

#[tokio::test]
async fn expand_must_be_an_array_of_short_paths() {
    let app = App::with_restricted(&[], ErrorEra::Current);
    let key = app.secret("Secret key (test)");
    let not_array = app
        .call("GET", "/v1/customers?expand=data", Some(&key), "")
        .await;
    assert_eq!(not_array.status, 400);
    assert_eq!(not_array.message(), "Invalid array");
    let deep = app
        .call("GET", "/v1/customers?expand[]=a.b.c.d.e", Some(&key), "")
        .await;
    assert_eq!(deep.status, 400);
    assert_eq!(deep.body["error"]["param"], "expand");
}
