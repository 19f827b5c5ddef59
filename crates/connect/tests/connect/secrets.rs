//! After many connects, no key appears in plaintext anywhere: the database file and its WAL,
//! API answers, error bodies, metrics.

use super::*;
use rakguard_connect::service::Actor;

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[tokio::test]
async fn no_key_in_plaintext_after_a_thousand_connects() {
    let count: usize = std::env::var("RAKGUARD_TEST_CONNECTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let specs: Vec<KeySpec> = (0..count)
        .map(|i| restricted(&format!("leak{i:04}"), selgeo_needs()))
        .collect();
    let emulator = emulator(specs.clone()).await;
    let dir = temp_dir();
    let running = service(
        &emulator.base_url,
        &database(false, dir.path()).await.unwrap(),
        false,
    )
    .await;
    let token = token(&running, None, false).await;
    let actor = Actor {
        name: "test".to_owned(),
        tenant: None,
        can_reveal: false,
        source: None,
    };
    let keys: Vec<String> = specs
        .iter()
        .map(|spec| spec.secret.clone().unwrap())
        .collect();
    // Connect them, 16 at a time, through the service.
    for chunk in keys.chunks(16).enumerate() {
        let (n, chunk) = chunk;
        let futures = chunk.iter().enumerate().map(|(i, key)| {
            let service = running.service.clone();
            let actor = actor.clone();
            let key = secrecy::SecretString::from(key.clone());
            async move {
                let outcome = service
                    .connect(
                        &actor,
                        &format!("tenant{n}x{i}"),
                        "test",
                        &key,
                        "selgeo",
                        None,
                    )
                    .await
                    .unwrap();
                assert!(
                    outcome.connection.is_some(),
                    "{}",
                    outcome.verdict.to_json()
                );
            }
        });
        futures_util::future::join_all(futures).await;
    }
    // Some answers that could echo a key: a wrong-mode refusal, an invalid key, metrics, status.
    let mut texts = Vec::new();
    for key in keys.iter().take(3) {
        let (_, body) = call(
            &running,
            "PUT",
            "/v1/tenants/tenant0x0/connections/live",
            Some(&token),
            Some(connect_body(key)),
        )
        .await;
        texts.push(body.to_string());
    }
    let (_, metrics) = call(&running, "GET", "/metrics", None, None).await;
    texts.push(metrics.to_string());
    let (_, status) = call(
        &running,
        "GET",
        "/v1/tenants/tenant0x0/connections/test",
        Some(&token),
        None,
    )
    .await;
    texts.push(status.to_string());
    let (_, events) = call(&running, "GET", "/v1/events", Some(&token), None).await;
    texts.push(events.to_string());
    running.shutdown().await;
    emulator.shutdown().await.unwrap();

    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        files.push((path.display().to_string(), std::fs::read(&path).unwrap()));
    }
    assert!(files.iter().any(|(name, _)| name.ends_with("test.db")));
    for key in &keys {
        for (name, bytes) in &files {
            assert!(
                !contains(bytes, key.as_bytes()),
                "a key in plaintext in {name}"
            );
        }
        for text in &texts {
            assert!(!text.contains(key.as_str()), "a key in an answer: {text}");
        }
    }
}
