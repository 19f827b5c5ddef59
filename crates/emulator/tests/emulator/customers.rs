use serde_json::Value;

use crate::App;

#[tokio::test]
async fn crud_round_trip() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let created = app
        .call(
            "POST",
            "/v1/customers",
            Some(&key),
            "email=a%40b.c&name=Ann&metadata[plan]=pro&metadata[x]=1",
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("cus_") && id.len() == 18);
    assert_eq!(created.body["object"], "customer");
    assert_eq!(created.body["livemode"], false);
    assert_eq!(created.body["metadata"]["plan"], "pro");
    let path = format!("/v1/customers/{id}");
    let updated = app
        .call(
            "POST",
            &path,
            Some(&key),
            "metadata[x]=&description=vip&name=",
        )
        .await;
    assert_eq!(updated.body["metadata"], serde_json::json!({"plan": "pro"}));
    assert_eq!(updated.body["description"], "vip");
    assert_eq!(updated.body["name"], Value::Null);
    let fetched = app
        .call(
            "GET",
            &format!("{path}?expand[]=default_source"),
            Some(&key),
            "",
        )
        .await;
    assert_eq!(fetched.body, updated.body);
    let deleted = app.call("DELETE", &path, Some(&key), "").await;
    assert_eq!(
        deleted.body,
        serde_json::json!({"id": id, "object": "customer", "deleted": true})
    );
    assert_eq!(
        app.call("GET", &path, Some(&key), "").await.body["deleted"],
        true
    );
    assert_eq!(
        app.call("POST", &path, Some(&key), "name=x").await.status,
        404
    );
}

#[tokio::test]
async fn unknown_and_malformed_parameters_are_400() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let answer = app
        .call("POST", "/v1/customers", Some(&key), "colour=red")
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.code(), Some("parameter_unknown"));
    assert_eq!(answer.body["error"]["param"], "colour");
    let answer = app
        .call(
            "POST",
            "/v1/customers",
            Some(&key),
            "metadata=1&metadata[a]=2",
        )
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["error"]["message"], "Invalid hash");
    assert_eq!(answer.body["error"]["param"], "metadata");
    let answer = app
        .call("GET", "/v1/customers?limit=101", Some(&key), "")
        .await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["error"]["param"], "limit");
}

#[tokio::test]
async fn lists_page_newest_first() {
    let app = App::new(vec![]);
    let key = app.secret("Secret key (test)");
    let mut ids = Vec::new();
    for index in 0..5 {
        let created = app
            .call(
                "POST",
                "/v1/customers",
                Some(&key),
                &format!("name=c{index}"),
            )
            .await;
        ids.push(created.body["id"].as_str().expect("id").to_owned());
    }
    let page = |body: &Value| -> Vec<String> {
        body["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|c| c["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let first = app
        .call("GET", "/v1/customers?limit=2", Some(&key), "")
        .await;
    assert_eq!(page(&first.body), [ids[4].clone(), ids[3].clone()]);
    assert_eq!(first.body["has_more"], true);
    assert_eq!(first.body["url"], "/v1/customers");
    let next = app
        .call(
            "GET",
            &format!("/v1/customers?limit=2&starting_after={}", ids[3]),
            Some(&key),
            "",
        )
        .await;
    assert_eq!(page(&next.body), [ids[2].clone(), ids[1].clone()]);
    let last = app
        .call(
            "GET",
            &format!("/v1/customers?limit=2&starting_after={}", ids[1]),
            Some(&key),
            "",
        )
        .await;
    assert_eq!(page(&last.body), [ids[0].clone()]);
    assert_eq!(last.body["has_more"], false);
    let back = app
        .call(
            "GET",
            &format!("/v1/customers?limit=2&ending_before={}", ids[1]),
            Some(&key),
            "",
        )
        .await;
    assert_eq!(page(&back.body), [ids[3].clone(), ids[2].clone()]);
    assert_eq!(back.body["has_more"], true);
    let all = app.call("GET", "/v1/customers", Some(&key), "").await;
    assert_eq!(page(&all.body).len(), 5);
}

#[tokio::test]
async fn test_and_live_data_are_separate() {
    let app = App::new(vec![]);
    let test = app.secret("Secret key (test)");
    let live = app.secret("Secret key (live)");
    let created = app.call("POST", "/v1/customers", Some(&test), "").await;
    let id = created.body["id"].as_str().expect("id");
    let answer = app
        .call("GET", &format!("/v1/customers/{id}"), Some(&live), "")
        .await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.code(), Some("resource_missing"));
    assert!(
        answer
            .message()
            .contains("a similar object exists in test mode, but a live mode key"),
        "{}",
        answer.message()
    );
    let listed = app.call("GET", "/v1/customers", Some(&live), "").await;
    assert_eq!(listed.body["data"], serde_json::json!([]));
    let live_created = app.call("POST", "/v1/customers", Some(&live), "").await;
    assert_eq!(live_created.body["livemode"], true);
}
