//! The JSON API against the emulator: connect, status, re-verify, reveal, disconnect, tenant
//! isolation, bad input, explain, connect sessions.

use super::*;

#[tokio::test]
async fn connect_status_reveal_disconnect() {
    let good = restricted("apigood", selgeo_needs());
    let mut lacking = selgeo_needs();
    let coupon = Catalog::embedded().resolve("coupon_write").unwrap();
    let promo = Catalog::embedded().resolve("promotion_code_write").unwrap();
    lacking.remove(&coupon);
    lacking.remove(&promo);
    let partial = restricted("apipartial", lacking);
    let emulator = emulator(vec![good.clone(), partial.clone()]).await;
    let dir = temp_dir();
    let running = service(
        &emulator.base_url,
        &database(false, dir.path()).await.unwrap(),
        false,
    )
    .await;
    let admin = token(&running, None, false).await;
    let revealer = token(&running, None, true).await;
    let scoped = token(&running, Some("acme"), false).await;
    let good_key = good.secret.clone().unwrap();

    // No token, bad token.
    let (status, body) = call(&running, "GET", "/v1/manifests", None, None).await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = call(&running, "GET", "/v1/manifests", Some("rgk_nope"), None).await;
    assert_eq!(status, 401);

    // A key missing two permissions: 422, the verdict names exactly those, nothing stored.
    let (status, body) = call(
        &running,
        "PUT",
        "/v1/tenants/acme/connections/test",
        Some(&admin),
        Some(connect_body(partial.secret.as_deref().unwrap())),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "STRIPE_PERMISSIONS_MISSING");
    let missing: Vec<&str> = body["verdict"]["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(missing.len(), 2, "{missing:?}");
    assert!(missing.iter().any(|m| m.contains("Coupons")));
    assert!(missing.iter().any(|m| m.contains("Promotion")));
    let (status, _) = call(
        &running,
        "GET",
        "/v1/tenants/acme/connections/test",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // A good key: 201, stored, masked only.
    let (status, body) = call(
        &running,
        "PUT",
        "/v1/tenants/acme/connections/test",
        Some(&admin),
        Some(connect_body(&good_key)),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["connection"]["status"], "active");
    assert!(!body.to_string().contains(&good_key));
    let (status, body) = call(
        &running,
        "GET",
        "/v1/tenants/acme/connections/test",
        Some(&scoped),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["masked_key"].as_str().unwrap().len(), good_key.len());
    assert_eq!(body["history"].as_array().unwrap().len(), 1);

    // Tenant isolation: the scoped token sees nothing of another tenant.
    let (status, _) = call(
        &running,
        "PUT",
        "/v1/tenants/other/connections/test",
        Some(&admin),
        Some(connect_body(&good_key)),
    )
    .await;
    assert_eq!(status, 201);
    let (status, body) = call(
        &running,
        "GET",
        "/v1/tenants/other/connections/test",
        Some(&scoped),
        None,
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = call(
        &running,
        "POST",
        "/v1/tenants/other/connections/test/verify",
        Some(&scoped),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &running,
        "DELETE",
        "/v1/tenants/other/connections/test",
        Some(&scoped),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // Re-verify.
    let (status, body) = call(
        &running,
        "POST",
        "/v1/tenants/acme/connections/test/verify",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["history"].as_array().unwrap().len(), 2);
    assert_eq!(body["history"][0]["trigger"], "manual");

    // Reveal: refused without the permission, the key with it.
    let (status, body) = call(
        &running,
        "POST",
        "/v1/tenants/acme/connections/test/reveal",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = call(
        &running,
        "POST",
        "/v1/tenants/acme/connections/test/reveal",
        Some(&revealer),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["key"], good_key.as_str());

    // Disconnect: gone, and an event says so.
    let (status, _) = call(
        &running,
        "DELETE",
        "/v1/tenants/acme/connections/test",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &running,
        "GET",
        "/v1/tenants/acme/connections/test",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (_, events) = call(
        &running,
        "GET",
        "/v1/events?tenant=acme",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(events["data"][0]["type"], "connection.disconnected");

    // The audit log has every action and no key.
    let audit = running
        .service
        .store()
        .audit_log(Some("acme"), 100)
        .await
        .unwrap();
    let actions: Vec<&str> = audit.iter().map(|row| row.action.as_str()).collect();
    for action in ["connect", "reverify", "reveal", "disconnect"] {
        assert!(actions.contains(&action), "{actions:?}");
    }
    for row in &audit {
        assert!(!row.detail.contains(&good_key));
    }
    running.shutdown().await;
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn bad_input_names_the_field() {
    let emulator = emulator(vec![]).await;
    let dir = temp_dir();
    let running = service(
        &emulator.base_url,
        &database(false, dir.path()).await.unwrap(),
        false,
    )
    .await;
    let admin = token(&running, None, false).await;
    let key = secret(KeyKind::Restricted, "whatever");
    for (path, body, code, field) in [
        (
            "/v1/tenants/acme/connections/prod",
            connect_body(&key),
            "mode_invalid",
            Some("mode"),
        ),
        (
            "/v1/tenants/ac%20me/connections/test",
            connect_body(&key),
            "tenant_invalid",
            Some("tenant"),
        ),
        (
            "/v1/tenants/acme/connections/test",
            json!({"key": key, "manifest": "nope"}),
            "manifest_not_found",
            None,
        ),
        (
            "/v1/tenants/acme/connections/test",
            json!({"key": "", "manifest": "selgeo"}),
            "key_missing",
            Some("key"),
        ),
        (
            "/v1/tenants/acme/connections/test",
            json!({"key": key, "manifest": "selgeo", "tier": "gold"}),
            "tier_invalid",
            Some("tier"),
        ),
        (
            "/v1/tenants/acme/connections/test",
            json!({"kee": key}),
            "body_invalid",
            None,
        ),
    ] {
        let (status, answer) = call(&running, "PUT", path, Some(&admin), Some(body)).await;
        assert!((400..500).contains(&status), "{path}: {status} {answer}");
        assert_eq!(answer["error"]["code"], code, "{answer}");
        if let Some(field) = field {
            assert_eq!(answer["error"]["field"], field, "{answer}");
        }
    }
    // Text that is not a key is a verdict (422), not stored.
    let (status, answer) = call(
        &running,
        "PUT",
        "/v1/tenants/acme/connections/test",
        Some(&admin),
        Some(json!({"key": "whsec_abc", "manifest": "selgeo"})),
    )
    .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["code"], "STRIPE_KEY_MALFORMED");
    // A live key in the test slot.
    let live = format!("rk_live_{}", "q".repeat(40));
    let (status, answer) = call(
        &running,
        "PUT",
        "/v1/tenants/acme/connections/test",
        Some(&admin),
        Some(connect_body(&live)),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(answer["code"], "STRIPE_KEY_WRONG_MODE");
    assert!(
        running
            .service
            .store()
            .connections(false)
            .await
            .unwrap()
            .is_empty()
    );
    running.shutdown().await;
    emulator.shutdown().await.unwrap();
}

#[tokio::test]
async fn sessions_explain_health_metrics_openapi() {
    let emulator = emulator(vec![]).await;
    let dir = temp_dir();
    let running = service(
        &emulator.base_url,
        &database(false, dir.path()).await.unwrap(),
        false,
    )
    .await;
    let admin = token(&running, None, false).await;
    let scoped = token(&running, Some("acme"), false).await;
    let (status, body) = call(
        &running,
        "POST",
        "/v1/connect_sessions",
        Some(&scoped),
        Some(json!({"tenant": "acme", "manifest": "selgeo", "mode": "test"})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/connect?session=", running.base_url))
    );
    let (status, _) = call(
        &running,
        "POST",
        "/v1/connect_sessions",
        Some(&scoped),
        Some(json!({"tenant": "other", "manifest": "selgeo"})),
    )
    .await;
    assert_eq!(status, 403);
    let body403 = r#"{"error":{"type":"invalid_request_error","message":"The provided key 'rk_test_***abcdef' does not have the required permissions for this endpoint on account 'acct_1'. Having the 'rak_coupon_write' permission would allow this request to continue."}}"#;
    let (status, body) = call(
        &running,
        "POST",
        "/v1/explain",
        Some(&admin),
        Some(json!({"body": body403, "status": 403})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["code"], "STRIPE_PERMISSIONS_MISSING");
    assert!(body.to_string().contains("Coupons"));
    let (status, _) = call(&running, "GET", "/healthz", None, None).await;
    assert_eq!(status, 200);
    let (status, _) = call(&running, "GET", "/readyz", None, None).await;
    assert_eq!(status, 200);
    let (status, metrics) = call(&running, "GET", "/metrics", None, None).await;
    assert_eq!(status, 200);
    assert!(
        metrics
            .as_str()
            .unwrap()
            .contains("rakguard_verification_seconds_bucket")
    );
    let (status, openapi) = call(&running, "GET", "/openapi.json", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(
        openapi["openapi"].as_str().map(|v| v.starts_with('3')),
        Some(true),
        "{openapi}"
    );
    running.shutdown().await;
    emulator.shutdown().await.unwrap();
}
