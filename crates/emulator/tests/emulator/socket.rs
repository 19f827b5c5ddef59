//! Tests over a real socket: the emulator spawned on port 0.

use rakguard_catalog::key::{KeyKind, Mode};
use rakguard_emulator::{EmulatorConfig, spawn};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn raw(addr: std::net::SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut buffer = Vec::new();
    let _ = stream.read_to_end(&mut buffer).await;
    String::from_utf8_lossy(&buffer).into_owned()
}

#[tokio::test]
async fn spawned_emulator_serves_and_checks_the_peer_address() {
    let mut config = EmulatorConfig {
        seed: Some(9),
        ..EmulatorConfig::default()
    };
    config.keys = EmulatorConfig::default_keys();
    config.keys.push(crate::spec(
        serde_json::json!({"name": "far", "type": "secret", "allowed_ips": ["192.0.2.0/24"]}),
    ));
    let running = spawn(config).await.expect("spawn");
    assert!(running.base_url.starts_with("http://127.0.0.1:"));
    let secret = &running
        .key(KeyKind::Secret, Mode::Test)
        .expect("key")
        .secret;
    let ok = raw(running.addr, &format!("GET /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {secret}\r\nConnection: close\r\n\r\n")).await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(ok.to_ascii_lowercase().contains("request-id: req_"), "{ok}");
    let far = &running
        .keys
        .iter()
        .find(|key| key.name == "far")
        .expect("far")
        .secret;
    let refused = raw(running.addr, &format!("GET /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {far}\r\nConnection: close\r\n\r\n")).await;
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert!(
        refused.contains("does not allow requests from your IP address. (127.0.0.1)"),
        "{refused}"
    );
    running.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn reset_fault_drops_the_connection_without_an_answer() {
    let running = spawn(EmulatorConfig {
        seed: Some(5),
        ..EmulatorConfig::default()
    })
    .await
    .expect("spawn");
    let secret = running
        .key(KeyKind::Secret, Mode::Test)
        .expect("key")
        .secret
        .clone();
    let set = raw(running.addr, "POST /_emulator/v1/faults HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 19\r\nConnection: close\r\n\r\n{\"reset_rate\": 1.0}").await;
    assert!(set.starts_with("HTTP/1.1 200"), "{set}");
    let dropped = raw(running.addr, &format!("GET /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {secret}\r\nConnection: close\r\n\r\n")).await;
    assert!(!dropped.contains("HTTP/1.1"), "{dropped}");
    running.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn debug_output_never_contains_a_secret() {
    let running = spawn(EmulatorConfig {
        seed: Some(9),
        ..EmulatorConfig::default()
    })
    .await
    .expect("spawn");
    let printed = format!("{running:?} {:?} {:?}", running.keys, running.state);
    for key in &running.keys {
        let middle = &key.secret[12..key.secret.len() - 6];
        assert!(
            !printed.contains(middle),
            "{} leaks in Debug output",
            key.name
        );
    }
    running.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn in_process_requests_seed_data_through_the_whole_pipeline() {
    let running = spawn(EmulatorConfig {
        seed: Some(4),
        ..EmulatorConfig::default()
    })
    .await
    .expect("spawn");
    let secret = running
        .key(KeyKind::Secret, Mode::Test)
        .expect("key")
        .secret
        .clone();
    let intent = running.seed_paid_charge(&secret, 1234).await.expect("paid");
    assert_eq!(intent["status"], "succeeded", "{intent}");
    assert_eq!(intent["amount"], 1234);
    // The charge and its balance transaction are there, as over a socket.
    let (status, charges) = running
        .request("GET", "/v1/charges", &secret, "limit=3")
        .await;
    assert_eq!(status, 200, "{charges}");
    assert_eq!(charges["data"][0]["amount"], 1234, "{charges}");
    assert_eq!(charges["data"][0]["paid"], true);
    // The same checks apply: a publishable key is refused, and so is no key at all.
    let publishable = running
        .key(KeyKind::Publishable, Mode::Test)
        .expect("key")
        .secret
        .clone();
    let (status, body) = running
        .seed_paid_charge(&publishable, 1)
        .await
        .expect_err("refused");
    assert_eq!(status, 401, "{body}");
    let (status, _) = running.request("GET", "/v1/customers", "", "").await;
    assert_eq!(status, 401);
    // Logged like any other request.
    assert!(running.state.logged() >= 4);
    running.shutdown().await.expect("shutdown");
}
