use crate::App;

async fn check(app: &App, method: &str, path: &str, status: u16, fragment: &str) {
    let key = app.secret("Secret key (test)");
    let answer = app.call(method, path, Some(&key), "").await;
    assert_eq!(answer.status, status, "{method} {path}: {:?}", answer.body);
    assert!(
        answer.body.to_string().contains(fragment),
        "{method} {path}: {:?}",
        answer.body
    );
}

#[tokio::test]
async fn other_operations_answer_like_missing_objects() {
    let app = App::new(vec![]);
    check(&app, "GET", "/v1/coupons/x", 404, "No such coupon: 'x'").await;
    check(
        &app,
        "POST",
        "/v1/checkout/sessions/cs_x/expire",
        404,
        "No such checkout.session: 'cs_x'",
    )
    .await;
    check(
        &app,
        "GET",
        "/v1/charges?limit=1",
        200,
        r#""url":"/v1/charges""#,
    )
    .await;
    check(
        &app,
        "DELETE",
        "/v1/webhook_endpoints/we_x",
        404,
        "resource_missing",
    )
    .await;
    check(&app, "POST", "/v1/prices", 400, "parameter_missing").await;
    check(&app, "GET", "/v1/tokens/tok_x", 400, "No such").await;
    check(&app, "GET", "/v1/customers/search", 400, "query").await;
    check(&app, "GET", "/v1/balance", 200, r#""object":"balance""#).await;
    check(
        &app,
        "GET",
        "/v1/customers/cus_x/tax_ids",
        404,
        "No such customer: 'cus_x'",
    )
    .await;
}

#[tokio::test]
async fn sub_resources_of_a_real_customer_pass_the_parent() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let created = app.call("POST", "/v1/customers", Some(&key), "").await;
    let id = created.body["id"].as_str().expect("id");
    check(
        &app,
        "GET",
        &format!("/v1/customers/{id}/tax_ids"),
        200,
        r#""object":"list""#,
    )
    .await;
    check(
        &app,
        "GET",
        &format!("/v1/customers/{id}/tax_ids/txi_x"),
        404,
        "No such tax_id: 'txi_x'",
    )
    .await;
}
