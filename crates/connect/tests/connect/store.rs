//! Storage on both backends: migrations are idempotent, one active connection per tenant and
//! mode, disconnect shreds the key.

use super::*;
use rakguard_connect::store::{AuditRow, ConnectionRow, Store};

fn row(id: &str, tenant: &str) -> ConnectionRow {
    ConnectionRow {
        id: id.to_owned(),
        tenant: tenant.to_owned(),
        mode: "test".to_owned(),
        manifest: "selgeo".to_owned(),
        tier: None,
        status: "active".to_owned(),
        active: true,
        masked_key: "rk_test_****abcd".to_owned(),
        ciphertext: Some(vec![1, 2, 3]),
        wrapped_key: Some(vec![4, 5, 6]),
        master_key_id: Some("m1".to_owned()),
        verdict: "{}".to_owned(),
        created_at: 1,
        verified_at: 1,
        next_check_at: 10,
        failures: 0,
        disconnected_at: None,
    }
}

fn audit() -> AuditRow {
    AuditRow {
        at: 1,
        actor: "test".to_owned(),
        action: "connect".to_owned(),
        tenant: Some("t".to_owned()),
        mode: Some("test".to_owned()),
        connection_id: None,
        source: None,
        detail: String::new(),
    }
}

async fn exercise(url: &str) {
    let store = Store::open(url).await.unwrap();
    // A second open migrates nothing and fails nothing.
    let store2 = Store::open(url).await.unwrap();
    store
        .insert_connection(&row("conn_a", "t1"), "connect", "ok", &[], &audit())
        .await
        .unwrap();
    store2
        .insert_connection(&row("conn_b", "t1"), "connect", "ok", &[], &audit())
        .await
        .unwrap();
    let active = store
        .active_connection("t1", "test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        active.id, "conn_b",
        "the newer connection replaces the older"
    );
    let old = store.connection("conn_a").await.unwrap().unwrap();
    assert!(!old.active);
    assert_eq!(old.ciphertext, None, "the replaced key is shredded");
    assert_eq!(old.wrapped_key, None);
    // Claims: due connections only, once per lease.
    let claimed = store.claim_due("r1", 100, 1000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        store
            .claim_due("r2", 100, 1000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Disconnect shreds.
    let event = rakguard_connect::store::EventRow {
        id: "evt_1".to_owned(),
        tenant: "t1".to_owned(),
        connection_id: None,
        event_type: "connection.disconnected".to_owned(),
        payload: "{}".to_owned(),
        created_at: 5,
        delivered_at: None,
        attempts: 0,
        next_attempt_at: 5,
        last_error: None,
    };
    let gone = store
        .disconnect("t1", "test", 5, &event, &audit())
        .await
        .unwrap();
    assert_eq!(gone.map(|row| row.id).as_deref(), Some("conn_b"));
    let shredded = store.connection("conn_b").await.unwrap().unwrap();
    assert_eq!(shredded.status, "disconnected");
    assert_eq!(shredded.ciphertext, None);
    assert!(
        store
            .active_connection("t1", "test")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.events(Some("t1"), 10).await.unwrap().len(), 1);
    assert_eq!(store.pending_events(10, 10).await.unwrap().len(), 1);
    assert_eq!(store.audit_log(None, 10).await.unwrap().len(), 3);
    assert_eq!(store.tenants().await.unwrap(), vec!["t1".to_owned()]);
}

#[tokio::test]
async fn sqlite_store() {
    let dir = temp_dir();
    exercise(&database(false, dir.path()).await.unwrap()).await;
    // WAL mode on a file database.
    assert!(dir.path().join("test.db").exists());
}

#[tokio::test]
async fn postgres_store() {
    if !postgres_available() {
        return;
    }
    let dir = temp_dir();
    exercise(&database(true, dir.path()).await.unwrap()).await;
}

#[tokio::test]
async fn a_bad_url_names_the_fix() {
    let error = Store::open("mysql://localhost/x")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("sqlite://") && error.contains("postgres://"),
        "{error}"
    );
}
