//! Tests of the catalogue objects: products, prices, coupons and promotion codes.

use rakguard_catalog::key::Mode;
use serde_json::{Value, json};

use crate::{Answer, App};

fn ids(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|object| object["id"].as_str().expect("id").to_owned())
        .collect()
}

fn id(answer: &Answer) -> String {
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["id"].as_str().expect("id").to_owned()
}

fn assert_error(answer: &Answer, status: u16, code: Option<&str>, param: &str) {
    assert_eq!(answer.status, status, "{:?}", answer.body);
    assert_eq!(answer.code(), code, "{:?}", answer.body);
    assert_eq!(answer.body["error"]["param"], param, "{:?}", answer.body);
}

/// The types of the events recorded in test mode, oldest first.
fn event_types(app: &App) -> Vec<String> {
    let data = app.state.read();
    let mut types: Vec<String> = data
        .objects
        .newest_first(app.state.account_id(), Mode::Test, "event")
        .into_iter()
        .map(|event| event["type"].as_str().expect("type").to_owned())
        .collect();
    types.reverse();
    types
}

#[tokio::test]
async fn products_crud() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let created = app
        .call(
            "POST",
            "/v1/products",
            Some(&key),
            "name=Gold&description=Best&metadata[tier]=1&images[]=https%3A%2F%2Fx.test%2Fa.png",
        )
        .await;
    let product = id(&created);
    assert!(
        product.starts_with("prod_") && product.len() == 19,
        "{product}"
    );
    assert_eq!(created.body["object"], "product");
    assert_eq!(created.body["active"], true);
    assert_eq!(created.body["livemode"], false);
    assert_eq!(created.body["name"], "Gold");
    assert_eq!(created.body["description"], "Best");
    assert_eq!(created.body["images"], json!(["https://x.test/a.png"]));
    assert_eq!(created.body["metadata"], json!({"tier": "1"}));
    assert_eq!(created.body["default_price"], Value::Null);
    assert!(created.body["created"].is_i64() && created.body["updated"].is_i64());

    let path = format!("/v1/products/{product}");
    let updated = app
        .call(
            "POST",
            &path,
            Some(&key),
            "name=Platinum&active=false&description=&metadata[tier]=",
        )
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(updated.body["name"], "Platinum");
    assert_eq!(updated.body["active"], false);
    assert_eq!(updated.body["description"], Value::Null);
    assert_eq!(updated.body["metadata"], json!({}));
    let fetched = app.call("GET", &path, Some(&key), "").await;
    assert_eq!(fetched.body, updated.body);

    let empty_name = app.call("POST", &path, Some(&key), "name=").await;
    assert_error(&empty_name, 400, Some("parameter_invalid_empty"), "name");

    let deleted = app.call("DELETE", &path, Some(&key), "").await;
    assert_eq!(
        deleted.body,
        json!({"id": product, "object": "product", "deleted": true})
    );
    let gone = app.call("GET", &path, Some(&key), "").await;
    assert_error(&gone, 404, Some("resource_missing"), "id");
    assert_eq!(gone.message(), format!("No such product: '{product}'"));
    let gone = app.call("DELETE", &path, Some(&key), "").await;
    assert_error(&gone, 404, Some("resource_missing"), "id");

    assert_eq!(
        event_types(&app),
        ["product.created", "product.updated", "product.deleted"]
    );
}

#[tokio::test]
async fn products_validate_parameters() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let missing = app
        .call("POST", "/v1/products", Some(&key), "description=x")
        .await;
    assert_error(&missing, 400, Some("parameter_missing"), "name");
    assert_eq!(missing.message(), "Missing required param: name.");
    let unknown = app
        .call("POST", "/v1/products", Some(&key), "name=a&colour=red")
        .await;
    assert_error(&unknown, 400, Some("parameter_unknown"), "colour");
    let chosen = app
        .call("POST", "/v1/products", Some(&key), "name=a&id=gold_plan")
        .await;
    assert_eq!(id(&chosen), "gold_plan");
    let again = app
        .call("POST", "/v1/products", Some(&key), "name=b&id=gold_plan")
        .await;
    assert_eq!(again.status, 400);
    assert_eq!(again.body["error"]["param"], "id");
    let hash = app
        .call("POST", "/v1/products", Some(&key), "name=a&metadata=x")
        .await;
    assert_error(&hash, 400, None, "metadata");
    let update_unknown = app
        .call("POST", "/v1/products/gold_plan", Some(&key), "id=x")
        .await;
    assert_error(&update_unknown, 400, Some("parameter_unknown"), "id");
    let missing = app
        .call("POST", "/v1/products/prod_nope", Some(&key), "name=x")
        .await;
    assert_error(&missing, 404, Some("resource_missing"), "id");
    assert_eq!(event_types(&app), ["product.created"]);
}

#[tokio::test]
async fn products_list_filters_and_pages() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let mut created = Vec::new();
    for index in 0..5 {
        let active = if index % 2 == 0 { "true" } else { "false" };
        let answer = app
            .call(
                "POST",
                "/v1/products",
                Some(&key),
                &format!("name=p{index}&active={active}"),
            )
            .await;
        created.push(id(&answer));
    }
    let first = app
        .call("GET", "/v1/products?limit=2", Some(&key), "")
        .await;
    assert_eq!(ids(&first.body), [created[4].as_str(), created[3].as_str()]);
    assert_eq!(first.body["has_more"], true);
    assert_eq!(first.body["url"], "/v1/products");
    let next = app
        .call(
            "GET",
            &format!("/v1/products?limit=2&starting_after={}", created[3]),
            Some(&key),
            "",
        )
        .await;
    assert_eq!(ids(&next.body), [created[2].as_str(), created[1].as_str()]);
    let last = app
        .call(
            "GET",
            &format!("/v1/products?limit=2&starting_after={}", created[1]),
            Some(&key),
            "",
        )
        .await;
    assert_eq!(ids(&last.body), [created[0].as_str()]);
    assert_eq!(last.body["has_more"], false);
    let active = app
        .call("GET", "/v1/products?active=true", Some(&key), "")
        .await;
    assert_eq!(
        ids(&active.body),
        [
            created[4].as_str(),
            created[2].as_str(),
            created[0].as_str()
        ]
    );
    let chosen = app
        .call(
            "GET",
            &format!("/v1/products?ids[]={}&ids[]={}", created[1], created[3]),
            Some(&key),
            "",
        )
        .await;
    assert_eq!(
        ids(&chosen.body),
        [created[3].as_str(), created[1].as_str()]
    );
    let unknown = app
        .call("GET", "/v1/products?colour=red", Some(&key), "")
        .await;
    assert_error(&unknown, 400, Some("parameter_unknown"), "colour");
}

#[tokio::test]
async fn product_with_default_price_data() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let created = app
        .call(
            "POST",
            "/v1/products",
            Some(&key),
            "name=Pro&default_price_data[currency]=EUR&default_price_data[unit_amount]=1500&default_price_data[recurring][interval]=month",
        )
        .await;
    let product = id(&created);
    let price = created.body["default_price"].as_str().expect("price");
    assert!(price.starts_with("price_"));
    let fetched = app
        .call("GET", &format!("/v1/prices/{price}"), Some(&key), "")
        .await;
    assert_eq!(fetched.status, 200, "{:?}", fetched.body);
    assert_eq!(fetched.body["product"], product);
    assert_eq!(fetched.body["currency"], "eur");
    assert_eq!(fetched.body["unit_amount"], 1500);
    assert_eq!(fetched.body["type"], "recurring");
    assert_eq!(fetched.body["recurring"]["interval"], "month");
    let missing = app
        .call(
            "POST",
            "/v1/products",
            Some(&key),
            "name=Pro&default_price_data[unit_amount]=1500",
        )
        .await;
    assert_error(
        &missing,
        400,
        Some("parameter_missing"),
        "default_price_data[currency]",
    );
    let unknown = app
        .call(
            "POST",
            "/v1/products",
            Some(&key),
            "name=Pro&default_price_data[currency]=usd&default_price_data[unit_amount]=1&default_price_data[colour]=red",
        )
        .await;
    assert_error(
        &unknown,
        400,
        Some("parameter_unknown"),
        "default_price_data[colour]",
    );
    assert_eq!(event_types(&app), ["product.created", "price.created"]);
}

#[tokio::test]
async fn prices_crud_and_types() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let product = id(&app
        .call("POST", "/v1/products", Some(&key), "name=Widget")
        .await);
    let one_time = app
        .call(
            "POST",
            "/v1/prices",
            Some(&key),
            &format!(
                "currency=usd&unit_amount=999&product={product}&nickname=Std&lookup_key=std&metadata[a]=b"
            ),
        )
        .await;
    let price = id(&one_time);
    assert!(price.starts_with("price_") && price.len() == 30, "{price}");
    assert_eq!(one_time.body["object"], "price");
    assert_eq!(one_time.body["type"], "one_time");
    assert_eq!(one_time.body["recurring"], Value::Null);
    assert_eq!(one_time.body["unit_amount"], 999);
    assert_eq!(one_time.body["unit_amount_decimal"], "999");
    assert_eq!(one_time.body["billing_scheme"], "per_unit");
    assert_eq!(one_time.body["active"], true);
    assert_eq!(one_time.body["lookup_key"], "std");
    assert_eq!(one_time.body["nickname"], "Std");
    assert_eq!(one_time.body["metadata"], json!({"a": "b"}));
    assert_eq!(one_time.body["livemode"], false);

    let recurring = app
        .call(
            "POST",
            "/v1/prices",
            Some(&key),
            "currency=usd&unit_amount_decimal=12.5&product_data[name]=Seat&recurring[interval]=week&recurring[interval_count]=2",
        )
        .await;
    assert_eq!(recurring.status, 200, "{:?}", recurring.body);
    assert_eq!(recurring.body["type"], "recurring");
    assert_eq!(recurring.body["unit_amount"], Value::Null);
    assert_eq!(recurring.body["unit_amount_decimal"], "12.5");
    assert_eq!(recurring.body["recurring"]["interval"], "week");
    assert_eq!(recurring.body["recurring"]["interval_count"], 2);
    assert_eq!(recurring.body["recurring"]["usage_type"], "licensed");
    let new_product = recurring.body["product"].as_str().expect("product");
    let fetched = app
        .call(
            "GET",
            &format!("/v1/products/{new_product}"),
            Some(&key),
            "",
        )
        .await;
    assert_eq!(fetched.body["name"], "Seat");

    let path = format!("/v1/prices/{price}");
    let updated = app
        .call(
            "POST",
            &path,
            Some(&key),
            "active=false&nickname=&metadata[c]=d",
        )
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(updated.body["active"], false);
    assert_eq!(updated.body["nickname"], Value::Null);
    assert_eq!(updated.body["metadata"], json!({"a": "b", "c": "d"}));
    assert_eq!(
        app.call("GET", &path, Some(&key), "").await.body,
        updated.body
    );
    let immutable = app.call("POST", &path, Some(&key), "unit_amount=5").await;
    assert_error(&immutable, 400, Some("parameter_unknown"), "unit_amount");
    let missing = app
        .call("GET", "/v1/prices/price_nope", Some(&key), "")
        .await;
    assert_error(&missing, 404, Some("resource_missing"), "id");
    assert_eq!(missing.message(), "No such price: 'price_nope'");

    assert_eq!(
        event_types(&app),
        [
            "product.created",
            "price.created",
            "product.created",
            "price.created",
            "price.updated"
        ]
    );
}

#[tokio::test]
async fn prices_validate_parameters() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let product = id(&app
        .call("POST", "/v1/products", Some(&key), "name=Widget")
        .await);
    let cases: [(String, u16, Option<&str>, &str); 9] = [
        (
            format!("unit_amount=1&product={product}"),
            400,
            Some("parameter_missing"),
            "currency",
        ),
        (
            "currency=usd&unit_amount=1".to_owned(),
            400,
            Some("parameter_missing"),
            "product",
        ),
        (
            format!("currency=usd&product={product}"),
            400,
            Some("parameter_missing"),
            "unit_amount",
        ),
        (
            "currency=usd&unit_amount=1&product=prod_nope".to_owned(),
            400,
            Some("resource_missing"),
            "product",
        ),
        (
            "currency=usd&unit_amount=1&product_data[colour]=red".to_owned(),
            400,
            Some("parameter_unknown"),
            "product_data[colour]",
        ),
        (
            "currency=usd&unit_amount=1&product_data[active]=true".to_owned(),
            400,
            Some("parameter_missing"),
            "product_data[name]",
        ),
        (
            format!("currency=usd&unit_amount=1&product={product}&recurring[interval_count]=2"),
            400,
            Some("parameter_missing"),
            "recurring[interval]",
        ),
        (
            format!("currency=usd&unit_amount=abc&product={product}"),
            400,
            Some("parameter_invalid_integer"),
            "unit_amount",
        ),
        (
            format!("currency=usd&unit_amount=1&product={product}&colour=red"),
            400,
            Some("parameter_unknown"),
            "colour",
        ),
    ];
    for (body, status, code, param) in &cases {
        let answer = app.call("POST", "/v1/prices", Some(&key), body).await;
        assert_error(&answer, *status, *code, param);
    }
    let missing = app
        .call(
            "POST",
            "/v1/prices",
            Some(&key),
            "currency=usd&unit_amount=1&product=prod_nope",
        )
        .await;
    assert_eq!(missing.message(), "No such product: 'prod_nope'");
    let bad_interval = app
        .call(
            "POST",
            "/v1/prices",
            Some(&key),
            &format!("currency=usd&unit_amount=1&product={product}&recurring[interval]=fortnight"),
        )
        .await;
    assert_eq!(bad_interval.status, 400);
    assert_eq!(bad_interval.body["error"]["param"], "recurring[interval]");
    assert_eq!(event_types(&app), ["product.created"]);
}

#[tokio::test]
async fn price_lookup_keys_transfer() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let product = id(&app
        .call("POST", "/v1/products", Some(&key), "name=Widget")
        .await);
    let body = format!("currency=usd&unit_amount=1&product={product}&lookup_key=std");
    let first = id(&app.call("POST", "/v1/prices", Some(&key), &body).await);
    let clash = app.call("POST", "/v1/prices", Some(&key), &body).await;
    assert_eq!(clash.status, 400);
    assert_eq!(clash.body["error"]["param"], "lookup_key");
    let second = id(&app
        .call(
            "POST",
            "/v1/prices",
            Some(&key),
            &format!("{body}&transfer_lookup_key=true"),
        )
        .await);
    let old = app
        .call("GET", &format!("/v1/prices/{first}"), Some(&key), "")
        .await;
    assert_eq!(old.body["lookup_key"], Value::Null);
    let found = app
        .call("GET", "/v1/prices?lookup_keys[]=std", Some(&key), "")
        .await;
    assert_eq!(ids(&found.body), [second]);
}

#[tokio::test]
async fn prices_list_filters() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let a = id(&app.call("POST", "/v1/products", Some(&key), "name=A").await);
    let b = id(&app.call("POST", "/v1/products", Some(&key), "name=B").await);
    let one_time = id(&app
        .call(
            "POST",
            "/v1/prices",
            Some(&key),
            &format!("currency=usd&unit_amount=1&product={a}"),
        )
        .await);
    let monthly = id(&app
        .call(
            "POST",
            "/v1/prices",
            Some(&key),
            &format!("currency=eur&unit_amount=2&product={a}&recurring[interval]=month"),
        )
        .await);
    let archived = id(&app
        .call(
            "POST",
            "/v1/prices",
            Some(&key),
            &format!("currency=usd&unit_amount=3&product={b}&active=false"),
        )
        .await);
    let list = |query: &'static str| {
        let app = &app;
        let key = key.clone();
        async move {
            let answer = app
                .call("GET", &format!("/v1/prices{query}"), Some(&key), "")
                .await;
            assert_eq!(answer.status, 200, "{:?}", answer.body);
            ids(&answer.body)
        }
    };
    assert_eq!(
        list("").await,
        [archived.as_str(), monthly.as_str(), one_time.as_str()]
    );
    assert_eq!(list("?type=recurring").await, [monthly.as_str()]);
    assert_eq!(
        list("?type=one_time").await,
        [archived.as_str(), one_time.as_str()]
    );
    assert_eq!(
        list("?active=true").await,
        [monthly.as_str(), one_time.as_str()]
    );
    assert_eq!(
        list("?currency=usd").await,
        [archived.as_str(), one_time.as_str()]
    );
    assert_eq!(list("?recurring[interval]=month").await, [monthly.as_str()]);
    let by_product = app
        .call("GET", &format!("/v1/prices?product={b}"), Some(&key), "")
        .await;
    assert_eq!(ids(&by_product.body), [archived]);
    let page = app
        .call(
            "GET",
            &format!("/v1/prices?limit=1&starting_after={monthly}"),
            Some(&key),
            "",
        )
        .await;
    assert_eq!(ids(&page.body), [one_time]);
    assert_eq!(page.body["has_more"], false);
}

#[tokio::test]
async fn prices_are_separate_between_test_and_live() {
    let app = App::new(vec![]);
    let test = app.secret("Secret key (test)");
    let live = app.secret("Secret key (live)");
    let product = id(&app
        .call("POST", "/v1/products", Some(&test), "name=Widget")
        .await);
    let price = id(&app
        .call(
            "POST",
            "/v1/prices",
            Some(&test),
            &format!("currency=usd&unit_amount=1&product={product}"),
        )
        .await);
    let from_live = app
        .call("GET", &format!("/v1/prices/{price}"), Some(&live), "")
        .await;
    assert_error(&from_live, 404, Some("resource_missing"), "id");
    assert!(
        from_live
            .message()
            .contains("a similar object exists in test mode, but a live mode key"),
        "{}",
        from_live.message()
    );
    let reference = app
        .call(
            "POST",
            "/v1/prices",
            Some(&live),
            &format!("currency=usd&unit_amount=1&product={product}"),
        )
        .await;
    assert_error(&reference, 400, Some("resource_missing"), "product");
    assert!(reference.message().contains("exists in test mode"));
    let listed = app.call("GET", "/v1/prices", Some(&live), "").await;
    assert_eq!(listed.body["data"], json!([]));
    let products = app.call("GET", "/v1/products", Some(&live), "").await;
    assert_eq!(products.body["data"], json!([]));
    let live_product = app
        .call("POST", "/v1/products", Some(&live), "name=Live")
        .await;
    assert_eq!(live_product.body["livemode"], true);
}

#[tokio::test]
async fn coupons_crud() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let percent = app
        .call(
            "POST",
            "/v1/coupons",
            Some(&key),
            "percent_off=25.5&name=Spring&metadata[src]=ad",
        )
        .await;
    let random = id(&percent);
    assert_eq!(random.len(), 8);
    assert!(random.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(percent.body["object"], "coupon");
    assert_eq!(percent.body["percent_off"], 25.5);
    assert_eq!(percent.body["amount_off"], Value::Null);
    assert_eq!(percent.body["duration"], "once");
    assert_eq!(percent.body["duration_in_months"], Value::Null);
    assert_eq!(percent.body["valid"], true);
    assert_eq!(percent.body["times_redeemed"], 0);
    assert_eq!(percent.body["name"], "Spring");

    let amount = app
        .call(
            "POST",
            "/v1/coupons",
            Some(&key),
            "id=TENOFF&amount_off=1000&currency=USD&duration=repeating&duration_in_months=3&max_redemptions=5",
        )
        .await;
    assert_eq!(id(&amount), "TENOFF");
    assert_eq!(amount.body["amount_off"], 1000);
    assert_eq!(amount.body["currency"], "usd");
    assert_eq!(amount.body["duration"], "repeating");
    assert_eq!(amount.body["duration_in_months"], 3);
    assert_eq!(amount.body["max_redemptions"], 5);

    let updated = app
        .call(
            "POST",
            "/v1/coupons/TENOFF",
            Some(&key),
            "name=Ten&metadata[k]=v",
        )
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(updated.body["name"], "Ten");
    assert_eq!(updated.body["metadata"], json!({"k": "v"}));
    let fixed = app
        .call("POST", "/v1/coupons/TENOFF", Some(&key), "percent_off=5")
        .await;
    assert_error(&fixed, 400, Some("parameter_unknown"), "percent_off");
    assert_eq!(
        app.call("GET", "/v1/coupons/TENOFF", Some(&key), "")
            .await
            .body,
        updated.body
    );

    let listed = app.call("GET", "/v1/coupons?limit=1", Some(&key), "").await;
    assert_eq!(ids(&listed.body), ["TENOFF"]);
    assert_eq!(listed.body["has_more"], true);
    assert_eq!(listed.body["url"], "/v1/coupons");
    let rest = app
        .call(
            "GET",
            "/v1/coupons?limit=1&starting_after=TENOFF",
            Some(&key),
            "",
        )
        .await;
    assert_eq!(ids(&rest.body), [random.as_str()]);
    assert_eq!(rest.body["has_more"], false);

    let deleted = app
        .call("DELETE", "/v1/coupons/TENOFF", Some(&key), "")
        .await;
    assert_eq!(
        deleted.body,
        json!({"id": "TENOFF", "object": "coupon", "deleted": true})
    );
    let gone = app.call("GET", "/v1/coupons/TENOFF", Some(&key), "").await;
    assert_error(&gone, 404, Some("resource_missing"), "id");
    assert_eq!(gone.message(), "No such coupon: 'TENOFF'");
    assert_eq!(
        event_types(&app),
        [
            "coupon.created",
            "coupon.created",
            "coupon.updated",
            "coupon.deleted"
        ]
    );
}

#[tokio::test]
async fn coupons_validate_parameters() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let cases: [(&str, Option<&str>, &str); 6] = [
        ("duration=forever", Some("parameter_missing"), "percent_off"),
        ("amount_off=100", Some("parameter_missing"), "currency"),
        (
            "percent_off=10&duration=repeating",
            Some("parameter_missing"),
            "duration_in_months",
        ),
        (
            "percent_off=10&colour=red",
            Some("parameter_unknown"),
            "colour",
        ),
        (
            "amount_off=ten&currency=usd",
            Some("parameter_invalid_integer"),
            "amount_off",
        ),
        ("percent_off=101", None, "percent_off"),
    ];
    for (body, code, param) in cases {
        let answer = app.call("POST", "/v1/coupons", Some(&key), body).await;
        assert_error(&answer, 400, code, param);
    }
    id(&app
        .call("POST", "/v1/coupons", Some(&key), "id=SAME&percent_off=10")
        .await);
    let again = app
        .call("POST", "/v1/coupons", Some(&key), "id=SAME&percent_off=10")
        .await;
    assert_eq!(again.status, 400);
    assert_eq!(again.body["error"]["param"], "id");
    let missing = app.call("DELETE", "/v1/coupons/NOPE", Some(&key), "").await;
    assert_error(&missing, 404, Some("resource_missing"), "id");
}

#[tokio::test]
async fn promotion_codes_crud() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let coupon = id(&app
        .call("POST", "/v1/coupons", Some(&key), "id=HALF&percent_off=50")
        .await);
    let customer = id(&app.call("POST", "/v1/customers", Some(&key), "").await);
    let random = app
        .call(
            "POST",
            "/v1/promotion_codes",
            Some(&key),
            &format!("coupon={coupon}"),
        )
        .await;
    let random_id = id(&random);
    assert!(random_id.starts_with("promo_"), "{random_id}");
    assert_eq!(random.body["object"], "promotion_code");
    let code = random.body["code"].as_str().expect("code");
    assert!(!code.is_empty());
    assert!(
        code.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    );
    assert_eq!(random.body["coupon"]["id"], "HALF");
    assert_eq!(random.body["coupon"]["percent_off"], 50.0);
    assert_eq!(random.body["active"], true);
    assert_eq!(random.body["customer"], Value::Null);
    assert_eq!(random.body["times_redeemed"], 0);

    let named = app
        .call(
            "POST",
            "/v1/promotion_codes",
            Some(&key),
            &format!(
                "coupon={coupon}&code=SPRING24&customer={customer}&max_redemptions=3&metadata[a]=b&restrictions[first_time_transaction]=true&restrictions[minimum_amount]=500&restrictions[minimum_amount_currency]=usd"
            ),
        )
        .await;
    let named_id = id(&named);
    assert_eq!(named.body["code"], "SPRING24");
    assert_eq!(named.body["customer"], customer);
    assert_eq!(named.body["max_redemptions"], 3);
    assert_eq!(named.body["restrictions"]["first_time_transaction"], true);
    assert_eq!(named.body["restrictions"]["minimum_amount"], 500);

    let duplicate = app
        .call(
            "POST",
            "/v1/promotion_codes",
            Some(&key),
            &format!("coupon={coupon}&code=spring24"),
        )
        .await;
    assert_eq!(duplicate.status, 400);
    assert_eq!(duplicate.body["error"]["param"], "code");

    let path = format!("/v1/promotion_codes/{named_id}");
    let updated = app
        .call("POST", &path, Some(&key), "active=false&metadata[a]=")
        .await;
    assert_eq!(updated.status, 200, "{:?}", updated.body);
    assert_eq!(updated.body["active"], false);
    assert_eq!(updated.body["metadata"], json!({}));
    assert_eq!(
        app.call("GET", &path, Some(&key), "").await.body,
        updated.body
    );
    let immutable = app.call("POST", &path, Some(&key), "code=OTHER").await;
    assert_error(&immutable, 400, Some("parameter_unknown"), "code");

    let list = |query: String| {
        let app = &app;
        let key = key.clone();
        async move {
            let answer = app
                .call(
                    "GET",
                    &format!("/v1/promotion_codes{query}"),
                    Some(&key),
                    "",
                )
                .await;
            assert_eq!(answer.status, 200, "{:?}", answer.body);
            ids(&answer.body)
        }
    };
    assert_eq!(
        list(String::new()).await,
        [named_id.as_str(), random_id.as_str()]
    );
    assert_eq!(list("?active=true".to_owned()).await, [random_id.as_str()]);
    assert_eq!(list("?code=SPRING24".to_owned()).await, [named_id.as_str()]);
    assert_eq!(
        list(format!("?customer={customer}")).await,
        [named_id.as_str()]
    );
    assert_eq!(
        list(format!("?coupon={coupon}&limit=1")).await,
        [named_id.as_str()]
    );
    assert_eq!(list("?coupon=OTHER".to_owned()).await, Vec::<String>::new());

    let types = event_types(&app);
    assert_eq!(
        types
            .iter()
            .filter(|kind| kind.starts_with("promotion_code."))
            .collect::<Vec<_>>(),
        [
            "promotion_code.created",
            "promotion_code.created",
            "promotion_code.updated"
        ]
    );
}

#[tokio::test]
async fn promotion_codes_validate_references() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let missing = app
        .call("POST", "/v1/promotion_codes", Some(&key), "code=X")
        .await;
    assert_error(&missing, 400, Some("parameter_missing"), "coupon");
    let unknown_coupon = app
        .call("POST", "/v1/promotion_codes", Some(&key), "coupon=NOPE")
        .await;
    assert_error(&unknown_coupon, 400, Some("resource_missing"), "coupon");
    assert_eq!(unknown_coupon.message(), "No such coupon: 'NOPE'");
    id(&app
        .call("POST", "/v1/coupons", Some(&key), "id=HALF&percent_off=50")
        .await);
    let unknown_customer = app
        .call(
            "POST",
            "/v1/promotion_codes",
            Some(&key),
            "coupon=HALF&customer=cus_nope",
        )
        .await;
    assert_error(&unknown_customer, 400, Some("resource_missing"), "customer");
    let unknown = app
        .call(
            "POST",
            "/v1/promotion_codes",
            Some(&key),
            "coupon=HALF&colour=red",
        )
        .await;
    assert_error(&unknown, 400, Some("parameter_unknown"), "colour");
    let restriction = app
        .call(
            "POST",
            "/v1/promotion_codes",
            Some(&key),
            "coupon=HALF&restrictions[minimum_amount]=100",
        )
        .await;
    assert_error(
        &restriction,
        400,
        Some("parameter_missing"),
        "restrictions[minimum_amount_currency]",
    );
    let absent = app
        .call("GET", "/v1/promotion_codes/promo_nope", Some(&key), "")
        .await;
    assert_error(&absent, 404, Some("resource_missing"), "id");
    assert_eq!(event_types(&app), ["coupon.created"]);
}
