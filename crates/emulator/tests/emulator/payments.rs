//! Tests of the payments resources: payment methods, payment intents, charges, refunds, balance.

use std::time::Duration;

use rakguard_catalog::key::Mode;
use rakguard_emulator::resources::{Ctx, payment_intents};
use serde_json::{Value, json};

use crate::{Answer, App};

struct Payments {
    app: App,
    key: String,
}

impl Payments {
    fn new() -> Payments {
        let app = App::new(vec![]);
        let key = app.secret("Secret key (test)");
        Payments { app, key }
    }

    async fn call(&self, method: &str, path: &str, body: &str) -> Answer {
        self.app.call(method, path, Some(&self.key), body).await
    }

    async fn ok(&self, method: &str, path: &str, body: &str) -> Value {
        let answer = self.call(method, path, body).await;
        assert_eq!(answer.status, 200, "{method} {path}: {:?}", answer.body);
        answer.body
    }

    async fn customer(&self) -> String {
        let customer = self.ok("POST", "/v1/customers", "name=Ann").await;
        customer["id"].as_str().unwrap().to_owned()
    }

    async fn get(&self, path: &str) -> Value {
        self.ok("GET", path, "").await
    }

    fn event_types(&self) -> Vec<String> {
        let data = self.app.state.read();
        data.objects
            .newest_first(self.app.state.account_id(), Mode::Test, "event")
            .iter()
            .rev()
            .filter_map(|event| event["type"].as_str().map(str::to_owned))
            .collect()
    }
}

fn id(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn payment_intent_confirm_succeeds_with_charge_and_balance_transaction() {
    let p = Payments::new();
    let customer = p.customer().await;
    let intent = p
        .ok(
            "POST",
            "/v1/payment_intents",
            &format!(
                "amount=2000&currency=USD&customer={customer}&description=Order+1&metadata[order]=1"
            ),
        )
        .await;
    assert_eq!(intent["object"], "payment_intent");
    assert_eq!(intent["status"], "requires_payment_method");
    assert_eq!(intent["currency"], "usd");
    assert_eq!(intent["payment_method_types"], json!(["card"]));
    assert_eq!(intent["capture_method"], "automatic");
    let intent_id = id(&intent);
    assert!(
        intent["client_secret"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{intent_id}_secret_"))
    );

    let confirmed = p
        .ok(
            "POST",
            &format!("/v1/payment_intents/{intent_id}/confirm"),
            "payment_method=pm_card_visa",
        )
        .await;
    assert_eq!(confirmed["status"], "succeeded");
    assert_eq!(confirmed["amount_received"], 2000);
    assert_eq!(confirmed["last_payment_error"], Value::Null);
    let pm = confirmed["payment_method"].as_str().unwrap();
    assert!(pm.starts_with("pm_") && pm != "pm_card_visa");
    let charge_id = confirmed["latest_charge"].as_str().unwrap();
    assert!(charge_id.starts_with("ch_"));

    let charge = p.get(&format!("/v1/charges/{charge_id}")).await;
    assert_eq!(charge["status"], "succeeded");
    assert_eq!(charge["paid"], true);
    assert_eq!(charge["captured"], true);
    assert_eq!(charge["amount"], 2000);
    assert_eq!(charge["amount_captured"], 2000);
    assert_eq!(charge["amount_refunded"], 0);
    assert_eq!(charge["payment_intent"], intent_id.as_str());
    assert_eq!(charge["payment_method"], pm);
    assert_eq!(charge["customer"], customer.as_str());
    assert_eq!(charge["metadata"]["order"], "1");
    assert_eq!(charge["outcome"]["type"], "authorized");
    assert_eq!(charge["payment_method_details"]["card"]["last4"], "4242");
    assert_eq!(charge["payment_method_details"]["card"]["brand"], "visa");

    let txn_id = charge["balance_transaction"].as_str().unwrap();
    let txn = p.get(&format!("/v1/balance_transactions/{txn_id}")).await;
    assert_eq!(txn["type"], "charge");
    assert_eq!(txn["amount"], 2000);
    assert_eq!(txn["fee"], 88);
    assert_eq!(txn["net"], 1912);
    assert_eq!(txn["source"], charge_id);
    assert_eq!(txn["status"], "pending");

    let pm_object = p.get(&format!("/v1/payment_methods/{pm}")).await;
    assert_eq!(pm_object["card"]["brand"], "visa");

    let listed = p
        .get(&format!("/v1/payment_intents?customer={customer}"))
        .await;
    assert_eq!(listed["data"][0]["id"], intent_id.as_str());
    let charges = p
        .get(&format!("/v1/charges?payment_intent={intent_id}"))
        .await;
    assert_eq!(charges["data"].as_array().unwrap().len(), 1);

    let events = p.event_types();
    for wanted in [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ] {
        assert!(events.iter().any(|e| e == wanted), "{wanted} in {events:?}");
    }
    assert!(
        !events
            .iter()
            .any(|e| e == "payment_intent.updated" || e == "charge.created")
    );
}

#[tokio::test]
async fn manual_capture_then_capture() {
    let p = Payments::new();
    let intent = p
        .ok(
            "POST",
            "/v1/payment_intents",
            "amount=1000&currency=usd&payment_method=pm_card_mastercard&confirm=true&capture_method=manual",
        )
        .await;
    assert_eq!(intent["status"], "requires_capture");
    assert_eq!(intent["amount_capturable"], 1000);
    assert_eq!(intent["amount_received"], 0);
    let charge_id = intent["latest_charge"].as_str().unwrap().to_owned();
    let charge = p.get(&format!("/v1/charges/{charge_id}")).await;
    assert_eq!(charge["captured"], false);
    assert_eq!(charge["balance_transaction"], Value::Null);

    let path = format!("/v1/payment_intents/{}/capture", id(&intent));
    let too_much = p.call("POST", &path, "amount_to_capture=1001").await;
    assert_eq!(too_much.status, 400);
    assert_eq!(too_much.body["error"]["param"], "amount_to_capture");

    let captured = p.ok("POST", &path, "amount_to_capture=600").await;
    assert_eq!(captured["status"], "succeeded");
    assert_eq!(captured["amount_received"], 600);
    assert_eq!(captured["amount_capturable"], 0);
    let charge = p.get(&format!("/v1/charges/{charge_id}")).await;
    assert_eq!(charge["captured"], true);
    assert_eq!(charge["amount_captured"], 600);
    assert_eq!(charge["amount_refunded"], 400);
    let txn = p
        .get(&format!(
            "/v1/balance_transactions/{}",
            charge["balance_transaction"].as_str().unwrap()
        ))
        .await;
    assert_eq!(txn["amount"], 600);

    let again = p.call("POST", &path, "").await;
    assert_eq!(again.status, 400);
    assert_eq!(again.code(), Some("payment_intent_unexpected_state"));
    assert!(again.message().contains("status of succeeded"));
    assert!(p.event_types().iter().any(|e| e == "charge.captured"));
}

#[tokio::test]
async fn legacy_charge_capture() {
    let p = Payments::new();
    let charge = p
        .ok(
            "POST",
            "/v1/charges",
            "amount=1500&currency=eur&source=tok_visa&capture=false&description=d",
        )
        .await;
    assert_eq!(charge["captured"], false);
    assert_eq!(charge["source"]["object"], "card");
    assert_eq!(charge["payment_intent"], Value::Null);
    let path = format!("/v1/charges/{}", id(&charge));
    let captured = p.ok("POST", &format!("{path}/capture"), "").await;
    assert_eq!(captured["captured"], true);
    assert_eq!(captured["amount_captured"], 1500);
    assert!(
        captured["balance_transaction"]
            .as_str()
            .unwrap()
            .starts_with("txn_")
    );
    let again = p.call("POST", &format!("{path}/capture"), "").await;
    assert_eq!(again.code(), Some("charge_already_captured"));
    let updated = p.ok("POST", &path, "description=new&metadata[k]=v").await;
    assert_eq!(updated["description"], "new");
    assert_eq!(updated["metadata"]["k"], "v");
    assert!(p.event_types().iter().any(|e| e == "charge.updated"));

    let declined = p
        .call(
            "POST",
            "/v1/charges",
            "amount=1500&currency=usd&source=tok_chargeDeclined",
        )
        .await;
    assert_eq!(declined.status, 402);
    assert_eq!(declined.body["error"]["type"], "card_error");
    let missing = p
        .call("POST", "/v1/charges", "amount=1500&currency=usd")
        .await;
    assert_eq!(missing.code(), Some("parameter_missing"));
}

#[tokio::test]
async fn declined_card_is_a_402_card_error() {
    let p = Payments::new();
    let answer = p
        .call(
            "POST",
            "/v1/payment_intents",
            "amount=1000&currency=usd&payment_method=pm_card_chargeDeclined&confirm=true",
        )
        .await;
    assert_eq!(answer.status, 402, "{:?}", answer.body);
    let error = &answer.body["error"];
    assert_eq!(error["type"], "card_error");
    assert_eq!(error["code"], "card_declined");
    assert_eq!(error["decline_code"], "generic_decline");
    assert_eq!(error["message"], "Your card was declined.");
    assert!(error["charge"].as_str().unwrap().starts_with("ch_"));
    assert_eq!(error["payment_intent"]["status"], "requires_payment_method");
    assert_eq!(error["payment_method"]["card"]["last4"], "0002");

    let intent_id = error["payment_intent"]["id"].as_str().unwrap();
    let intent = p.get(&format!("/v1/payment_intents/{intent_id}")).await;
    assert_eq!(intent["status"], "requires_payment_method");
    assert_eq!(intent["payment_method"], Value::Null);
    assert_eq!(
        intent["last_payment_error"]["decline_code"],
        "generic_decline"
    );
    assert_eq!(intent["last_payment_error"]["type"], "card_error");
    let charge = p
        .get(&format!(
            "/v1/charges/{}",
            error["charge"].as_str().unwrap()
        ))
        .await;
    assert_eq!(charge["status"], "failed");
    assert_eq!(charge["paid"], false);
    assert_eq!(charge["failure_code"], "card_declined");
    assert_eq!(charge["balance_transaction"], Value::Null);
    let events = p.event_types();
    assert!(events.iter().any(|e| e == "charge.failed"));
    assert!(events.iter().any(|e| e == "payment_intent.payment_failed"));

    let funds = p
        .call(
            "POST",
            &format!("/v1/payment_intents/{intent_id}/confirm"),
            "payment_method=pm_card_chargeDeclinedInsufficientFunds",
        )
        .await;
    assert_eq!(funds.status, 402);
    assert_eq!(funds.body["error"]["decline_code"], "insufficient_funds");
    assert_eq!(funds.message(), "Your card has insufficient funds.");

    let retried = p
        .ok(
            "POST",
            &format!("/v1/payment_intents/{intent_id}/confirm"),
            "payment_method=pm_card_visa",
        )
        .await;
    assert_eq!(retried["status"], "succeeded");
    assert_eq!(retried["last_payment_error"], Value::Null);
    let again = p
        .call(
            "POST",
            &format!("/v1/payment_intents/{intent_id}/confirm"),
            "",
        )
        .await;
    assert_eq!(again.code(), Some("payment_intent_unexpected_state"));
}

#[tokio::test]
async fn cancel_from_requires_states_only() {
    let p = Payments::new();
    let intent = p
        .ok("POST", "/v1/payment_intents", "amount=1000&currency=usd")
        .await;
    let path = format!("/v1/payment_intents/{}/cancel", id(&intent));
    let canceled = p
        .ok("POST", &path, "cancellation_reason=requested_by_customer")
        .await;
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(canceled["cancellation_reason"], "requested_by_customer");
    assert!(canceled["canceled_at"].is_i64());
    let again = p.call("POST", &path, "").await;
    assert_eq!(again.status, 400);
    assert_eq!(again.code(), Some("payment_intent_unexpected_state"));
    assert!(
        again.message().starts_with(
            "You cannot cancel this PaymentIntent because it has a status of canceled."
        )
    );
    let confirm = p
        .call(
            "POST",
            &format!("/v1/payment_intents/{}/confirm", id(&intent)),
            "payment_method=pm_card_visa",
        )
        .await;
    assert_eq!(confirm.code(), Some("payment_intent_unexpected_state"));

    let held = p
        .ok(
            "POST",
            "/v1/payment_intents",
            "amount=700&currency=usd&payment_method=pm_card_visa&confirm=true&capture_method=manual",
        )
        .await;
    let released = p
        .ok(
            "POST",
            &format!("/v1/payment_intents/{}/cancel", id(&held)),
            "",
        )
        .await;
    assert_eq!(released["status"], "canceled");
    let charge = p
        .get(&format!(
            "/v1/charges/{}",
            held["latest_charge"].as_str().unwrap()
        ))
        .await;
    assert_eq!(charge["refunded"], true);
    assert!(
        p.event_types()
            .iter()
            .any(|e| e == "payment_intent.canceled")
    );

    let done = p
        .ok(
            "POST",
            "/v1/payment_intents",
            "amount=700&currency=usd&payment_method=pm_card_visa&confirm=true",
        )
        .await;
    let refused = p
        .call(
            "POST",
            &format!("/v1/payment_intents/{}/cancel", id(&done)),
            "",
        )
        .await;
    assert!(refused.message().contains("status of succeeded"));
    let update = p
        .call(
            "POST",
            &format!("/v1/payment_intents/{}", id(&done)),
            "amount=900",
        )
        .await;
    assert_eq!(update.code(), Some("payment_intent_unexpected_state"));
    let described = p
        .ok(
            "POST",
            &format!("/v1/payment_intents/{}", id(&done)),
            "description=ok",
        )
        .await;
    assert_eq!(described["description"], "ok");
}

#[tokio::test]
async fn update_before_confirmation() {
    let p = Payments::new();
    let customer = p.customer().await;
    let intent = p
        .ok("POST", "/v1/payment_intents", "amount=1000&currency=usd")
        .await;
    let path = format!("/v1/payment_intents/{}", id(&intent));
    let updated = p
        .ok(
            "POST",
            &path,
            &format!("amount=1200&currency=eur&customer={customer}&payment_method=pm_card_amex&metadata[a]=b"),
        )
        .await;
    assert_eq!(updated["amount"], 1200);
    assert_eq!(updated["currency"], "eur");
    assert_eq!(updated["customer"], customer.as_str());
    assert_eq!(updated["status"], "requires_confirmation");
    let confirmed = p.ok("POST", &format!("{path}/confirm"), "").await;
    assert_eq!(confirmed["status"], "succeeded");
    assert_eq!(confirmed["amount_received"], 1200);
    let charge = p
        .get(&format!(
            "/v1/charges/{}",
            confirmed["latest_charge"].as_str().unwrap()
        ))
        .await;
    assert_eq!(charge["currency"], "eur");
    assert_eq!(charge["payment_method_details"]["card"]["brand"], "amex");
}

#[tokio::test]
async fn refunds_partial_then_full_update_the_charge() {
    let p = Payments::new();
    let intent = p
        .ok(
            "POST",
            "/v1/payment_intents",
            "amount=5000&currency=usd&payment_method=pm_card_visa&confirm=true",
        )
        .await;
    let intent_id = id(&intent);
    let charge_id = intent["latest_charge"].as_str().unwrap().to_owned();

    let partial = p
        .ok(
            "POST",
            "/v1/refunds",
            &format!(
                "payment_intent={intent_id}&amount=2000&reason=requested_by_customer&metadata[r]=1"
            ),
        )
        .await;
    assert_eq!(partial["object"], "refund");
    assert!(id(&partial).starts_with("re_"));
    assert_eq!(partial["status"], "succeeded");
    assert_eq!(partial["amount"], 2000);
    assert_eq!(partial["charge"], charge_id.as_str());
    assert_eq!(partial["payment_intent"], intent_id.as_str());
    assert_eq!(partial["reason"], "requested_by_customer");
    let charge = p.get(&format!("/v1/charges/{charge_id}")).await;
    assert_eq!(charge["amount_refunded"], 2000);
    assert_eq!(charge["refunded"], false);
    let txn = p
        .get(&format!(
            "/v1/balance_transactions/{}",
            partial["balance_transaction"].as_str().unwrap()
        ))
        .await;
    assert_eq!(txn["type"], "refund");
    assert_eq!(txn["amount"], -2000);
    assert_eq!(txn["net"], -2000);
    assert_eq!(txn["source"], id(&partial).as_str());

    let too_much = p
        .call(
            "POST",
            "/v1/refunds",
            &format!("charge={charge_id}&amount=3001"),
        )
        .await;
    assert_eq!(too_much.status, 400);
    assert_eq!(too_much.body["error"]["param"], "amount");

    let rest = p
        .ok("POST", &format!("/v1/charges/{charge_id}/refunds"), "")
        .await;
    assert_eq!(rest["amount"], 3000);
    let charge = p.get(&format!("/v1/charges/{charge_id}")).await;
    assert_eq!(charge["amount_refunded"], 5000);
    assert_eq!(charge["refunded"], true);
    let again = p
        .call("POST", "/v1/refunds", &format!("charge={charge_id}"))
        .await;
    assert_eq!(again.code(), Some("charge_already_refunded"));

    let listed = p.get(&format!("/v1/refunds?charge={charge_id}")).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
    let by_intent = p
        .get(&format!("/v1/refunds?payment_intent={intent_id}"))
        .await;
    assert_eq!(by_intent["data"].as_array().unwrap().len(), 2);
    let nested = p.get(&format!("/v1/charges/{charge_id}/refunds")).await;
    assert_eq!(nested["data"][0]["id"], id(&rest).as_str());
    let one = p
        .get(&format!("/v1/charges/{charge_id}/refunds/{}", id(&partial)))
        .await;
    assert_eq!(one["metadata"]["r"], "1");
    let updated = p
        .ok(
            "POST",
            &format!("/v1/refunds/{}", id(&partial)),
            "metadata[r]=2",
        )
        .await;
    assert_eq!(updated["metadata"]["r"], "2");
    let cancel = p
        .call("POST", &format!("/v1/refunds/{}/cancel", id(&partial)), "")
        .await;
    assert_eq!(cancel.status, 400);

    let neither = p.call("POST", "/v1/refunds", "amount=1").await;
    assert_eq!(neither.code(), Some("parameter_missing"));
    let events = p.event_types();
    assert!(events.iter().filter(|e| *e == "charge.refunded").count() == 2);
    assert!(events.iter().any(|e| e == "refund.created"));
}

#[tokio::test]
async fn balance_totals_follow_transactions_and_the_clock() {
    let p = Payments::new();
    let empty = p.get("/v1/balance").await;
    assert_eq!(empty["object"], "balance");
    assert_eq!(empty["livemode"], false);
    assert_eq!(
        empty["available"],
        json!([{"amount": 0, "currency": "usd", "source_types": {"card": 0}}])
    );

    let intent = p
        .ok(
            "POST",
            "/v1/payment_intents",
            "amount=2000&currency=usd&payment_method=pm_card_visa&confirm=true",
        )
        .await;
    let balance = p.get("/v1/balance").await;
    assert_eq!(balance["pending"][0]["amount"], 1912);
    assert_eq!(balance["available"][0]["amount"], 0);

    p.app.state.advance_clock(Duration::from_secs(3 * 86_400));
    let balance = p.get("/v1/balance").await;
    assert_eq!(balance["pending"][0]["amount"], 0);
    assert_eq!(balance["available"][0]["amount"], 1912);

    p.ok(
        "POST",
        "/v1/refunds",
        &format!("payment_intent={}&amount=500", id(&intent)),
    )
    .await;
    let balance = p.get("/v1/balance").await;
    assert_eq!(balance["available"][0]["amount"], 1412);

    let charges = p.get("/v1/balance_transactions?type=charge").await;
    assert_eq!(charges["data"].as_array().unwrap().len(), 1);
    assert_eq!(charges["data"][0]["status"], "available");
    let all = p.get("/v1/balance/history").await;
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    let by_source = p
        .get(&format!(
            "/v1/balance_transactions?source={}",
            intent["latest_charge"].as_str().unwrap()
        ))
        .await;
    assert_eq!(by_source["data"].as_array().unwrap().len(), 1);
    let by_payout = p.get("/v1/balance_transactions?payout=po_1").await;
    assert_eq!(by_payout["data"], json!([]));
    let missing = p.call("GET", "/v1/balance_transactions/txn_nope", "").await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn pay_creates_and_confirms_in_one_call() {
    let p = Payments::new();
    let customer = p.customer().await;
    let params = json!({});
    let state = &p.app.state;
    let authority = rakguard_emulator::api::Authority::unrestricted(state.account_id());
    let ctx = Ctx {
        state,
        account: state.account_id(),
        mode: Mode::Test,
        params: &params,
        path: "/v1/invoices/in_1/pay",
        request_id: "req_test",
        idempotency_key: None,
        path_params: &[],
        authority: &authority,
    };
    let (intent, charge) = payment_intents::pay(
        &ctx,
        1234,
        "usd",
        Some(&customer),
        Some("pm_card_visa"),
        Some("Invoice 1"),
        json!({"invoice": "in_1"}),
    )
    .unwrap();
    assert_eq!(intent["status"], "succeeded");
    assert_eq!(intent["amount_received"], 1234);
    assert_eq!(intent["capture_method"], "automatic");
    assert_eq!(intent["latest_charge"], charge["id"]);
    assert_eq!(charge["customer"], customer.as_str());
    assert_eq!(charge["captured"], true);
    assert_eq!(charge["description"], "Invoice 1");
    assert!(
        charge["balance_transaction"]
            .as_str()
            .unwrap()
            .starts_with("txn_")
    );

    let none = payment_intents::pay(&ctx, 1000, "usd", Some(&customer), None, None, json!({}))
        .unwrap_err();
    assert_eq!(none.status(), 400);
    assert!(
        none.rendered
            .message()
            .unwrap()
            .starts_with("This customer has no attached payment source or default payment method.")
    );

    // With a default payment method on the customer.
    let pm = p
        .ok(
            "POST",
            "/v1/payment_methods",
            "type=card&card[token]=tok_mastercard",
        )
        .await;
    p.ok(
        "POST",
        &format!("/v1/payment_methods/{}/attach", id(&pm)),
        &format!("customer={customer}"),
    )
    .await;
    {
        let mut data = state.write();
        let stored = match data
            .objects
            .find(state.account_id(), Mode::Test, "customer", &customer)
        {
            rakguard_emulator::store::Found::Here(customer) => customer,
            other => panic!("{other:?}"),
        };
        let mut stored = stored;
        stored["invoice_settings"]["default_payment_method"] = json!(id(&pm));
        data.objects
            .replace(state.account_id(), Mode::Test, "customer", stored);
    }
    let (intent, charge) =
        payment_intents::pay(&ctx, 900, "usd", Some(&customer), None, None, json!({})).unwrap();
    assert_eq!(intent["payment_method"], id(&pm).as_str());
    assert_eq!(
        charge["payment_method_details"]["card"]["brand"],
        "mastercard"
    );

    let declined = payment_intents::pay(
        &ctx,
        900,
        "usd",
        None,
        Some("pm_card_chargeDeclined"),
        None,
        json!({}),
    )
    .unwrap_err();
    assert_eq!(declined.status(), 402);
    assert_eq!(declined.rendered.code(), Some("card_declined"));

    let unknown = payment_intents::pay(&ctx, 900, "usd", Some("cus_nope"), None, None, json!({}))
        .unwrap_err();
    assert_eq!(unknown.rendered.field("param"), Some("customer"));
}

#[tokio::test]
async fn unknown_ids_name_the_parameter() {
    let p = Payments::new();
    let customer = p
        .call(
            "POST",
            "/v1/payment_intents",
            "amount=1000&currency=usd&customer=cus_nope",
        )
        .await;
    assert_eq!(customer.status, 400);
    assert_eq!(customer.code(), Some("resource_missing"));
    assert_eq!(customer.body["error"]["param"], "customer");
    assert_eq!(customer.message(), "No such customer: 'cus_nope'");
    let pm = p
        .call(
            "POST",
            "/v1/payment_intents",
            "amount=1000&currency=usd&payment_method=pm_nope",
        )
        .await;
    assert_eq!(pm.body["error"]["param"], "payment_method");
    assert_eq!(pm.code(), Some("resource_missing"));
    let intent = p.call("GET", "/v1/payment_intents/pi_nope", "").await;
    assert_eq!(intent.status, 404);
    let charge = p.call("POST", "/v1/refunds", "charge=ch_nope").await;
    assert_eq!(charge.body["error"]["param"], "charge");
    let attach = p
        .call(
            "POST",
            "/v1/payment_methods/pm_card_visa/attach",
            "customer=cus_nope",
        )
        .await;
    assert_eq!(attach.body["error"]["param"], "customer");
    let refund = p.call("GET", "/v1/refunds/re_nope", "").await;
    assert_eq!(refund.status, 404);

    let amount = p
        .call("POST", "/v1/payment_intents", "amount=ten&currency=usd")
        .await;
    assert_eq!(amount.code(), Some("parameter_invalid_integer"));
    let currency = p.call("POST", "/v1/payment_intents", "amount=100").await;
    assert_eq!(currency.code(), Some("parameter_missing"));
    assert_eq!(currency.body["error"]["param"], "currency");
    let small = p
        .call("POST", "/v1/payment_intents", "amount=10&currency=usd")
        .await;
    assert_eq!(small.code(), Some("amount_too_small"));
    let unknown = p
        .call(
            "POST",
            "/v1/payment_intents",
            "amount=100&currency=usd&bogus=1",
        )
        .await;
    assert_eq!(unknown.code(), Some("parameter_unknown"));
    let no_pm = p
        .call(
            "POST",
            "/v1/payment_intents",
            "amount=100&currency=usd&confirm=true",
        )
        .await;
    assert_eq!(no_pm.code(), Some("payment_intent_unexpected_state"));
}

#[tokio::test]
async fn payment_methods_attach_list_detach() {
    let p = Payments::new();
    let customer = p.customer().await;
    let pm = p
        .ok(
            "POST",
            "/v1/payment_methods",
            "type=card&card[token]=tok_visa&billing_details[name]=Ann&metadata[a]=1",
        )
        .await;
    assert_eq!(pm["type"], "card");
    assert_eq!(pm["card"]["last4"], "4242");
    assert_eq!(pm["billing_details"]["name"], "Ann");
    assert_eq!(pm["customer"], Value::Null);
    let path = format!("/v1/payment_methods/{}", id(&pm));
    let updated = p
        .ok(
            "POST",
            &path,
            "billing_details[address][city]=Paris&metadata[a]=",
        )
        .await;
    assert_eq!(updated["billing_details"]["address"]["city"], "Paris");
    assert_eq!(updated["metadata"], json!({}));
    let attached = p
        .ok(
            "POST",
            &format!("{path}/attach"),
            &format!("customer={customer}"),
        )
        .await;
    assert_eq!(attached["customer"], customer.as_str());
    let listed = p
        .get(&format!(
            "/v1/payment_methods?customer={customer}&type=card"
        ))
        .await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    let nested = p
        .get(&format!("/v1/customers/{customer}/payment_methods"))
        .await;
    assert_eq!(nested["data"][0]["id"], id(&pm).as_str());
    let missing_customer = p.call("POST", &format!("{path}/attach"), "").await;
    assert_eq!(missing_customer.code(), Some("parameter_missing"));
    let detached = p.ok("POST", &format!("{path}/detach"), "").await;
    assert_eq!(detached["customer"], Value::Null);
    let again = p.call("POST", &format!("{path}/detach"), "").await;
    assert_eq!(again.status, 400);
    let events = p.event_types();
    assert!(events.iter().any(|e| e == "payment_method.attached"));
    assert!(events.iter().any(|e| e == "payment_method.detached"));
    assert!(!events.iter().any(|e| e == "payment_method.created"));

    let test_id = p
        .ok(
            "POST",
            "/v1/payment_methods/pm_card_visa_debit/attach",
            &format!("customer={customer}"),
        )
        .await;
    assert_eq!(test_id["card"]["funding"], "debit");
    assert_ne!(test_id["id"], "pm_card_visa_debit");
    let bad_token = p
        .call(
            "POST",
            "/v1/payment_methods",
            "type=card&card[token]=tok_nope",
        )
        .await;
    assert_eq!(bad_token.body["error"]["param"], "card[token]");
}

#[tokio::test]
async fn test_and_live_are_isolated() {
    let p = Payments::new();
    let live = p.app.secret("Secret key (live)");
    let intent = p
        .ok(
            "POST",
            "/v1/payment_intents",
            "amount=1000&currency=usd&payment_method=pm_card_visa&confirm=true",
        )
        .await;
    let from_live = p
        .app
        .call(
            "GET",
            &format!("/v1/payment_intents/{}", id(&intent)),
            Some(&live),
            "",
        )
        .await;
    assert_eq!(from_live.status, 404);
    assert!(
        from_live
            .message()
            .contains("a similar object exists in test mode")
    );
    let live_charges = p.app.call("GET", "/v1/charges", Some(&live), "").await;
    assert_eq!(live_charges.body["data"], json!([]));
    let live_balance = p.app.call("GET", "/v1/balance", Some(&live), "").await;
    assert_eq!(live_balance.body["livemode"], true);
    assert_eq!(live_balance.body["pending"][0]["amount"], 0);
    let test_card_live = p
        .app
        .call(
            "POST",
            "/v1/payment_intents",
            Some(&live),
            "amount=1000&currency=usd&payment_method=pm_card_visa&confirm=true",
        )
        .await;
    assert_eq!(test_card_live.status, 400);
    assert_eq!(test_card_live.code(), Some("resource_missing"));
    assert_eq!(test_card_live.body["error"]["param"], "payment_method");
    let refund_live = p
        .app
        .call(
            "POST",
            "/v1/refunds",
            Some(&live),
            &format!("charge={}", intent["latest_charge"].as_str().unwrap()),
        )
        .await;
    assert!(
        refund_live
            .message()
            .contains("a similar object exists in test mode")
    );
}
