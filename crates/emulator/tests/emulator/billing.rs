//! Tests of the billing resources: invoice items, invoices, subscriptions, Checkout Sessions.

use rakguard_emulator::EmulatorConfig;
use serde_json::Value;

use crate::{Answer, App};

struct Billing {
    app: App,
    key: String,
}

impl Billing {
    fn new() -> Billing {
        // These flows make many requests; lift the per-second limit out of the way.
        let mut config = EmulatorConfig {
            seed: Some(42),
            ..EmulatorConfig::default()
        };
        config.rate_limits.test = 100_000;
        let app = App::with_config(config);
        let key = app.secret("Secret key (test)");
        Billing { app, key }
    }

    async fn call(&self, method: &str, path: &str, body: &str) -> Answer {
        self.app.call(method, path, Some(&self.key), body).await
    }

    /// A call that must succeed; its body.
    async fn ok(&self, method: &str, path: &str, body: &str) -> Value {
        let answer = self.call(method, path, body).await;
        assert_eq!(
            answer.status, 200,
            "{method} {path} {body}: {:?}",
            answer.body
        );
        answer.body
    }

    async fn customer(&self, extra: &str) -> String {
        id(&self
            .ok("POST", "/v1/customers", &format!("email=a%40b.c{extra}"))
            .await)
    }

    /// A product and a price for it (`recurring` like `&recurring[interval]=month`, or empty).
    async fn price(&self, amount: i64, recurring: &str) -> String {
        let product = id(&self.ok("POST", "/v1/products", "name=Gold").await);
        id(&self
            .ok(
                "POST",
                "/v1/prices",
                &format!("product={product}&unit_amount={amount}&currency=usd{recurring}"),
            )
            .await)
    }

    /// The types of the events recorded so far, oldest first.
    async fn event_types(&self) -> Vec<String> {
        let events = self.ok("GET", "/v1/events?limit=100", "").await;
        let mut types: Vec<String> = events["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|event| event["type"].as_str().unwrap().to_owned())
            .collect();
        types.reverse();
        types
    }
}

fn id(object: &Value) -> String {
    object["id"].as_str().expect("id").to_owned()
}

fn assert_error(answer: &Answer, status: u16, code: Option<&str>, param: Option<&str>) {
    assert_eq!(answer.status, status, "{:?}", answer.body);
    if code.is_some() {
        assert_eq!(answer.code(), code, "{:?}", answer.body);
    }
    assert_eq!(
        answer.body["error"]["param"].as_str(),
        param,
        "{:?}",
        answer.body
    );
}

#[tokio::test]
async fn invoice_lifecycle_with_items() {
    let b = Billing::new();
    let customer = b.customer("").await;
    let price = b.price(1000, "").await;
    let first = b
        .ok(
            "POST",
            "/v1/invoiceitems",
            &format!("customer={customer}&price={price}&quantity=2&metadata[k]=v"),
        )
        .await;
    assert!(id(&first).starts_with("ii_"));
    assert_eq!(first["amount"], 2000);
    assert_eq!(first["currency"], "usd");
    assert_eq!(first["invoice"], Value::Null);
    b.ok(
        "POST",
        "/v1/invoiceitems",
        &format!("customer={customer}&amount=500&currency=usd&description=Setup"),
    )
    .await;
    let pending = b
        .ok(
            "GET",
            &format!("/v1/invoiceitems?customer={customer}&pending=true"),
            "",
        )
        .await;
    assert_eq!(pending["data"].as_array().unwrap().len(), 2);

    // The new draft sweeps in the pending items.
    let invoice = b
        .ok(
            "POST",
            "/v1/invoices",
            &format!("customer={customer}&description=March"),
        )
        .await;
    let invoice_id = id(&invoice);
    assert!(invoice_id.starts_with("in_"));
    assert_eq!(invoice["status"], "draft");
    assert_eq!(invoice["number"], Value::Null);
    assert_eq!(invoice["lines"]["total_count"], 2);
    assert!(
        invoice["lines"]["data"][0]["id"]
            .as_str()
            .unwrap()
            .starts_with("il_")
    );
    assert_eq!(invoice["subtotal"], 2500);
    assert_eq!(invoice["amount_due"], 2500);
    assert_eq!(invoice["billing_reason"], "manual");
    let attached = b
        .ok("GET", &format!("/v1/invoiceitems?invoice={invoice_id}"), "")
        .await;
    assert_eq!(attached["data"].as_array().unwrap().len(), 2);

    // Items added to or changed on the draft move its amounts.
    let third = b
        .ok(
            "POST",
            "/v1/invoiceitems",
            &format!(
                "customer={customer}&unit_amount=300&quantity=3&currency=usd&invoice={invoice_id}"
            ),
        )
        .await;
    assert_eq!(third["amount"], 900);
    b.ok(
        "POST",
        &format!("/v1/invoiceitems/{}", id(&first)),
        "quantity=1",
    )
    .await;
    let invoice = b.ok("GET", &format!("/v1/invoices/{invoice_id}"), "").await;
    assert_eq!(invoice["lines"]["total_count"], 3);
    assert_eq!(invoice["amount_due"], 1000 + 500 + 900);
    let deleted = b
        .ok("DELETE", &format!("/v1/invoiceitems/{}", id(&third)), "")
        .await;
    assert_eq!(deleted["deleted"], true);
    let lines = b
        .ok(
            "GET",
            &format!("/v1/invoices/{invoice_id}/lines?limit=1"),
            "",
        )
        .await;
    assert_eq!(lines["data"].as_array().unwrap().len(), 1);
    assert_eq!(lines["has_more"], true);
    assert_eq!(lines["data"][0]["object"], "line_item");

    let open = b
        .ok("POST", &format!("/v1/invoices/{invoice_id}/finalize"), "")
        .await;
    assert_eq!(open["status"], "open");
    assert_eq!(open["amount_due"], 1500);
    assert!(open["number"].as_str().unwrap().ends_with("-0001"));
    assert!(open["status_transitions"]["finalized_at"].is_i64());
    // Items of a finalized invoice are frozen.
    let frozen = b
        .call(
            "POST",
            &format!("/v1/invoiceitems/{}", id(&first)),
            "quantity=5",
        )
        .await;
    assert_error(&frozen, 400, Some("invoice_not_editable"), None);

    let paid = b
        .ok(
            "POST",
            &format!("/v1/invoices/{invoice_id}/pay"),
            "payment_method=pm_card_visa",
        )
        .await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["paid"], true);
    assert_eq!(paid["amount_paid"], 1500);
    assert_eq!(paid["amount_remaining"], 0);
    assert!(paid["payment_intent"].as_str().unwrap().starts_with("pi_"));
    assert!(paid["charge"].as_str().unwrap().starts_with("ch_"));
    let types = b.event_types().await;
    for wanted in [
        "invoiceitem.created",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_succeeded",
    ] {
        assert!(types.iter().any(|t| t == wanted), "{wanted} in {types:?}");
    }
    let listed = b
        .ok(
            "GET",
            &format!("/v1/invoices?customer={customer}&status=paid"),
            "",
        )
        .await;
    assert_eq!(listed["data"][0]["id"], invoice_id.as_str());
}

#[tokio::test]
async fn wrong_state_transitions_are_400() {
    let b = Billing::new();
    let customer = b.customer("").await;
    b.ok(
        "POST",
        "/v1/invoiceitems",
        &format!("customer={customer}&amount=700&currency=usd"),
    )
    .await;
    let invoice = id(&b
        .ok("POST", "/v1/invoices", &format!("customer={customer}"))
        .await);
    let path = format!("/v1/invoices/{invoice}");
    let void = b.call("POST", &format!("{path}/void"), "").await;
    assert_error(&void, 400, Some("invoice_not_editable"), None);
    let uncollectible = b
        .call("POST", &format!("{path}/mark_uncollectible"), "")
        .await;
    assert_error(&uncollectible, 400, Some("invoice_not_editable"), None);
    b.ok("POST", &format!("{path}/finalize"), "").await;
    let again = b.call("POST", &format!("{path}/finalize"), "").await;
    assert_error(&again, 400, Some("invoice_not_editable"), None);
    let delete = b.call("DELETE", &path, "").await;
    assert_error(&delete, 400, Some("invoice_not_editable"), None);
    let edit = b.call("POST", &path, "description=late").await;
    assert_error(&edit, 400, Some("invoice_not_editable"), None);
    assert_eq!(
        b.ok("POST", &path, "metadata[a]=b").await["metadata"]["a"],
        "b"
    );
    let send = b.call("POST", &format!("{path}/send"), "").await;
    assert_error(&send, 400, Some("invoice_not_editable"), None);
    // No payment method anywhere: 400 and the invoice stays open.
    let unpaid = b.call("POST", &format!("{path}/pay"), "").await;
    assert_eq!(unpaid.status, 400, "{:?}", unpaid.body);
    // A declined card: 402, the attempt counted, invoice.payment_failed.
    let declined = b
        .call(
            "POST",
            &format!("{path}/pay"),
            "payment_method=pm_card_chargeDeclined",
        )
        .await;
    assert_eq!(declined.status, 402, "{:?}", declined.body);
    let after = b.ok("GET", &path, "").await;
    assert_eq!(after["status"], "open");
    assert_eq!(after["attempt_count"], 1);
    assert!(
        b.event_types()
            .await
            .contains(&"invoice.payment_failed".to_owned())
    );
    let marked = b
        .ok("POST", &format!("{path}/mark_uncollectible"), "")
        .await;
    assert_eq!(marked["status"], "uncollectible");
    let voided = b.ok("POST", &format!("{path}/void"), "").await;
    assert_eq!(voided["status"], "void");
    let pay_void = b.call("POST", &format!("{path}/pay"), "").await;
    assert_error(&pay_void, 400, Some("invoice_not_editable"), None);
    assert!(b.event_types().await.contains(&"invoice.voided".to_owned()));

    // send_invoice needs days_until_due; paid out of band without a charge.
    let missing = b
        .call(
            "POST",
            "/v1/invoices",
            &format!("customer={customer}&collection_method=send_invoice"),
        )
        .await;
    assert_error(
        &missing,
        400,
        Some("parameter_missing"),
        Some("days_until_due"),
    );
    b.ok(
        "POST",
        "/v1/invoiceitems",
        &format!("customer={customer}&amount=900&currency=usd"),
    )
    .await;
    let sent = id(&b
        .ok(
            "POST",
            "/v1/invoices",
            &format!("customer={customer}&collection_method=send_invoice&days_until_due=30"),
        )
        .await);
    let open = b
        .ok("POST", &format!("/v1/invoices/{sent}/finalize"), "")
        .await;
    assert_eq!(
        open["due_date"].as_i64().unwrap()
            - open["status_transitions"]["finalized_at"].as_i64().unwrap(),
        30 * 86_400
    );
    b.ok("POST", &format!("/v1/invoices/{sent}/send"), "").await;
    let oob = b
        .ok(
            "POST",
            &format!("/v1/invoices/{sent}/pay"),
            "paid_out_of_band=true",
        )
        .await;
    assert_eq!(oob["status"], "paid");
    assert_eq!(oob["paid_out_of_band"], true);
    assert_eq!(oob["charge"], Value::Null);

    // Deleting a draft puts its items back to pending.
    let item = id(&b
        .ok(
            "POST",
            "/v1/invoiceitems",
            &format!("customer={customer}&amount=100&currency=usd"),
        )
        .await);
    let draft = id(&b
        .ok("POST", "/v1/invoices", &format!("customer={customer}"))
        .await);
    let gone = b.ok("DELETE", &format!("/v1/invoices/{draft}"), "").await;
    assert_eq!(gone["deleted"], true);
    assert_eq!(
        b.ok("GET", &format!("/v1/invoiceitems/{item}"), "").await["invoice"],
        Value::Null
    );
    // A $0 invoice is paid on finalization.
    let empty = id(&b
        .ok(
            "POST",
            "/v1/invoices",
            &format!("customer={customer}&pending_invoice_items_behavior=exclude"),
        )
        .await);
    let zero = b
        .ok("POST", &format!("/v1/invoices/{empty}/finalize"), "")
        .await;
    assert_eq!(zero["status"], "paid");
}

#[tokio::test]
async fn subscription_starts_active_with_a_paid_first_invoice() {
    let b = Billing::new();
    let customer = b.customer("").await;
    let price = b.price(1500, "&recurring[interval]=month").await;
    let subscription = b
        .ok(
            "POST",
            "/v1/subscriptions",
            &format!(
                "customer={customer}&items[0][price]={price}&items[0][quantity]=2&default_payment_method=pm_card_visa&metadata[plan]=gold&expand[]=latest_invoice"
            ),
        )
        .await;
    let sub_id = id(&subscription);
    assert!(sub_id.starts_with("sub_"));
    assert_eq!(subscription["status"], "active");
    assert_eq!(subscription["metadata"]["plan"], "gold");
    let item = &subscription["items"]["data"][0];
    assert!(item["id"].as_str().unwrap().starts_with("si_"));
    assert_eq!(item["quantity"], 2);
    assert_eq!(item["price"]["id"], price.as_str());
    let period = subscription["current_period_end"].as_i64().unwrap()
        - subscription["current_period_start"].as_i64().unwrap();
    assert!((28 * 86_400..=31 * 86_400).contains(&period), "{period}");
    let invoice = &subscription["latest_invoice"];
    assert_eq!(invoice["status"], "paid", "{invoice:?}");
    assert_eq!(invoice["billing_reason"], "subscription_create");
    assert_eq!(invoice["amount_paid"], 3000);
    assert_eq!(invoice["subscription"], sub_id.as_str());
    assert_eq!(invoice["lines"]["data"][0]["type"], "subscription");
    assert!(invoice["charge"].as_str().unwrap().starts_with("ch_"));

    let items = b
        .ok(
            "GET",
            &format!("/v1/subscription_items?subscription={sub_id}"),
            "",
        )
        .await;
    assert_eq!(items["data"].as_array().unwrap().len(), 1);
    let types = b.event_types().await;
    for wanted in [
        "customer.subscription.created",
        "invoice.finalized",
        "invoice.paid",
        "customer.subscription.updated",
    ] {
        assert!(types.iter().any(|t| t == wanted), "{wanted} in {types:?}");
    }

    // Updates: quantity, cancel at period end, metadata.
    let updated = b
        .ok(
            "POST",
            &format!("/v1/subscriptions/{sub_id}"),
            &format!(
                "items[0][id]={}&items[0][quantity]=3&cancel_at_period_end=true&metadata[x]=1",
                item["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(updated["items"]["data"][0]["quantity"], 3);
    assert_eq!(updated["cancel_at_period_end"], true);
    assert_eq!(updated["cancel_at"], subscription["current_period_end"]);
    assert_eq!(updated["metadata"]["x"], "1");
}

#[tokio::test]
async fn trial_starts_trialing_without_a_charge() {
    let b = Billing::new();
    let customer = b.customer("").await;
    let price = b.price(2000, "&recurring[interval]=year").await;
    let subscription = b
        .ok(
            "POST",
            "/v1/subscriptions",
            &format!("customer={customer}&items[0][price]={price}&trial_period_days=7"),
        )
        .await;
    assert_eq!(subscription["status"], "trialing");
    assert_eq!(
        subscription["trial_end"].as_i64().unwrap() - subscription["trial_start"].as_i64().unwrap(),
        7 * 86_400
    );
    assert_eq!(
        subscription["current_period_end"],
        subscription["trial_end"]
    );
    let invoice = b
        .ok(
            "GET",
            &format!(
                "/v1/invoices/{}",
                subscription["latest_invoice"].as_str().unwrap()
            ),
            "",
        )
        .await;
    assert_eq!(invoice["status"], "paid");
    assert_eq!(invoice["amount_due"], 0);
    assert_eq!(invoice["charge"], Value::Null);
    assert_eq!(invoice["payment_intent"], Value::Null);
    let charges = b.ok("GET", "/v1/charges", "").await;
    assert_eq!(charges["data"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn payment_behaviors_on_a_declined_first_payment() {
    let b = Billing::new();
    let customer = b.customer("").await;
    let price = b.price(900, "&recurring[interval]=week").await;
    let create = |extra: &'static str| {
        format!(
            "customer={customer}&items[0][price]={price}&default_payment_method=pm_card_chargeDeclined{extra}"
        )
    };
    let incomplete = b.ok("POST", "/v1/subscriptions", &create("")).await;
    assert_eq!(incomplete["status"], "incomplete");
    let invoice = b
        .ok(
            "GET",
            &format!(
                "/v1/invoices/{}",
                incomplete["latest_invoice"].as_str().unwrap()
            ),
            "",
        )
        .await;
    assert_eq!(invoice["status"], "open");
    assert_eq!(invoice["attempt_count"], 1);

    let refused = b
        .call(
            "POST",
            "/v1/subscriptions",
            &create("&payment_behavior=error_if_incomplete"),
        )
        .await;
    assert_eq!(refused.status, 402, "{:?}", refused.body);
    let listed = b
        .ok("GET", &format!("/v1/subscriptions?customer={customer}"), "")
        .await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);

    let waiting = b
        .ok(
            "POST",
            "/v1/subscriptions",
            &format!(
                "customer={customer}&items[0][price]={price}&payment_behavior=default_incomplete"
            ),
        )
        .await;
    assert_eq!(waiting["status"], "incomplete");
}

#[tokio::test]
async fn cancel_and_list_subscriptions() {
    let b = Billing::new();
    let customer = b.customer("").await;
    let price = b.price(500, "&recurring[interval]=month").await;
    let other_price = b.price(800, "&recurring[interval]=month").await;
    let body = |price: &str| {
        format!("customer={customer}&items[0][price]={price}&default_payment_method=pm_card_visa")
    };
    let first = id(&b.ok("POST", "/v1/subscriptions", &body(&price)).await);
    let second = id(&b.ok("POST", "/v1/subscriptions", &body(&other_price)).await);
    let canceled = b
        .ok("DELETE", &format!("/v1/subscriptions/{first}"), "")
        .await;
    assert_eq!(canceled["status"], "canceled");
    assert!(canceled["canceled_at"].is_i64());
    assert!(
        b.event_types()
            .await
            .contains(&"customer.subscription.deleted".to_owned())
    );
    let ids =
        |list: &Value| -> Vec<String> { list["data"].as_array().unwrap().iter().map(id).collect() };
    let default = b.ok("GET", "/v1/subscriptions", "").await;
    assert_eq!(ids(&default), vec![second.clone()]);
    let all = b.ok("GET", "/v1/subscriptions?status=all", "").await;
    assert_eq!(ids(&all), vec![second.clone(), first.clone()]);
    let only_canceled = b.ok("GET", "/v1/subscriptions?status=canceled", "").await;
    assert_eq!(ids(&only_canceled), vec![first.clone()]);
    let by_price = b
        .ok("GET", &format!("/v1/subscriptions?price={other_price}"), "")
        .await;
    assert_eq!(ids(&by_price), vec![second]);
    let update = b
        .call(
            "POST",
            &format!("/v1/subscriptions/{first}"),
            "cancel_at_period_end=true",
        )
        .await;
    assert_eq!(update.status, 400, "{:?}", update.body);
    let retrieved = b.ok("GET", &format!("/v1/subscriptions/{first}"), "").await;
    assert_eq!(retrieved["status"], "canceled");
}

#[tokio::test]
async fn checkout_sessions_create_expire_list() {
    let b = Billing::new();
    let customer = b.customer("").await;
    let price = b.price(1200, "").await;
    let session = b
        .ok(
            "POST",
            "/v1/checkout/sessions",
            &format!(
                "mode=payment&success_url=https%3A%2F%2Fexample.com%2Fok&line_items[0][price]={price}&line_items[0][quantity]=2&line_items[1][price_data][currency]=usd&line_items[1][price_data][unit_amount]=300&line_items[1][price_data][product_data][name]=Tip&line_items[1][quantity]=1&customer={customer}&metadata[order]=42"
            ),
        )
        .await;
    let session_id = id(&session);
    assert!(session_id.starts_with("cs_test_"), "{session_id}");
    assert_eq!(session_id.len(), "cs_test_".len() + 58);
    assert_eq!(session["object"], "checkout.session");
    assert_eq!(session["status"], "open");
    assert_eq!(session["payment_status"], "unpaid");
    assert_eq!(session["amount_total"], 2700);
    assert_eq!(session["currency"], "usd");
    assert_eq!(session["customer"], customer.as_str());
    assert_eq!(session["metadata"]["order"], "42");
    assert!(session["url"].as_str().unwrap().contains(&session_id));
    assert_eq!(
        session["expires_at"].as_i64().unwrap() - session["created"].as_i64().unwrap(),
        86_400
    );
    let lines = b
        .ok(
            "GET",
            &format!("/v1/checkout/sessions/{session_id}/line_items"),
            "",
        )
        .await;
    assert_eq!(lines["data"].as_array().unwrap().len(), 2);
    assert_eq!(lines["data"][0]["amount_total"], 2400);
    assert_eq!(lines["data"][1]["description"], "Tip");

    let open = b
        .ok(
            "GET",
            &format!("/v1/checkout/sessions?status=open&customer={customer}"),
            "",
        )
        .await;
    assert_eq!(open["data"][0]["id"], session_id.as_str());
    let expired = b
        .ok(
            "POST",
            &format!("/v1/checkout/sessions/{session_id}/expire"),
            "",
        )
        .await;
    assert_eq!(expired["status"], "expired");
    let again = b
        .call(
            "POST",
            &format!("/v1/checkout/sessions/{session_id}/expire"),
            "",
        )
        .await;
    assert_eq!(again.status, 400, "{:?}", again.body);
    let open = b.ok("GET", "/v1/checkout/sessions?status=open", "").await;
    assert_eq!(open["data"].as_array().unwrap().len(), 0);
    assert!(
        b.event_types()
            .await
            .contains(&"checkout.session.expired".to_owned())
    );

    // Mode-dependent checks.
    let recurring = b
        .call(
            "POST",
            "/v1/checkout/sessions",
            &format!(
                "mode=subscription&success_url=https%3A%2F%2Fx.y&line_items[0][price]={price}&line_items[0][quantity]=1"
            ),
        )
        .await;
    assert_eq!(recurring.status, 400, "{:?}", recurring.body);
    let setup = b
        .ok(
            "POST",
            "/v1/checkout/sessions",
            "mode=setup&success_url=https%3A%2F%2Fx.y&currency=usd",
        )
        .await;
    assert_eq!(setup["amount_total"], Value::Null);
    let missing_url = b
        .call(
            "POST",
            "/v1/checkout/sessions",
            &format!("mode=payment&line_items[0][price]={price}&line_items[0][quantity]=1"),
        )
        .await;
    assert_error(
        &missing_url,
        400,
        Some("parameter_missing"),
        Some("success_url"),
    );
    let missing_mode = b
        .call(
            "POST",
            "/v1/checkout/sessions",
            "success_url=https%3A%2F%2Fx.y",
        )
        .await;
    assert_error(&missing_mode, 400, Some("parameter_missing"), Some("mode"));
    let unknown = b
        .call("GET", "/v1/checkout/sessions/cs_test_nope", "")
        .await;
    assert_error(&unknown, 404, Some("resource_missing"), Some("id"));
}

#[tokio::test]
async fn required_parameters_and_unknown_references() {
    let b = Billing::new();
    let customer = b.customer("").await;
    let price = b.price(100, "&recurring[interval]=month").await;
    let cases: [(&str, String, u16, &str, &str); 8] = [
        (
            "/v1/subscriptions",
            format!("items[0][price]={price}"),
            400,
            "parameter_missing",
            "customer",
        ),
        (
            "/v1/subscriptions",
            format!("customer={customer}"),
            400,
            "parameter_missing",
            "items",
        ),
        (
            "/v1/subscriptions",
            format!("customer={customer}&items[0][quantity]=2"),
            400,
            "parameter_missing",
            "items[0][price]",
        ),
        (
            "/v1/subscriptions",
            format!("customer={customer}&items[0][price]=price_nope"),
            400,
            "resource_missing",
            "items[0][price]",
        ),
        (
            "/v1/subscriptions",
            format!("customer=cus_nope&items[0][price]={price}"),
            400,
            "resource_missing",
            "customer",
        ),
        (
            "/v1/invoices",
            String::new(),
            400,
            "parameter_missing",
            "customer",
        ),
        (
            "/v1/invoiceitems",
            "amount=100&currency=usd".to_owned(),
            400,
            "parameter_missing",
            "customer",
        ),
        (
            "/v1/invoiceitems",
            format!("customer={customer}&price=price_nope"),
            400,
            "resource_missing",
            "price",
        ),
    ];
    for (path, body, status, code, param) in cases {
        let answer = b.call("POST", path, &body).await;
        assert_error(&answer, status, Some(code), Some(param));
    }
    let message = b
        .call(
            "POST",
            "/v1/subscriptions",
            &format!("customer={customer}&items[0][price]=price_nope"),
        )
        .await;
    assert_eq!(message.message(), "No such price: 'price_nope'");
    let unknown_param = b
        .call(
            "POST",
            "/v1/invoices",
            &format!("customer={customer}&bogus=1"),
        )
        .await;
    assert_error(
        &unknown_param,
        400,
        Some("parameter_unknown"),
        Some("bogus"),
    );
}
