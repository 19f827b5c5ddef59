//! After many connects, no key appears in plaintext anywhere: the database file and its WAL,
//! the logs at debug level (every crate's events, this process's global subscriber), API
//! answers, error bodies, metrics.

use super::*;
use aho_corasick::AhoCorasick;
use rakguard_connect::service::Actor;

/// Sends every `tracing` event of this test process, at debug level and from every crate, to
/// `path`. Returns false when another test installed a global subscriber first.
fn log_to(path: &std::path::Path) -> bool {
    let file = std::fs::File::create(path).unwrap();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init()
        .is_ok()
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
    assert!(
        log_to(&dir.path().join("debug.log")),
        "the logger is this test's"
    );
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
    // The files while the service runs (the WAL holds the recent writes before a checkpoint),
    // then again after it stopped.
    let snapshot = |when: &str| {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            files.push((
                format!("{} ({when})", path.display()),
                std::fs::read(&path).unwrap(),
            ));
        }
        files
    };
    let mut files = snapshot("running");
    assert!(
        files
            .iter()
            .any(|(name, bytes)| name.contains("test.db-wal") && !bytes.is_empty()),
        "the WAL is there to be searched"
    );
    running.shutdown().await;
    emulator.shutdown().await.unwrap();
    files.extend(snapshot("stopped"));
    assert!(files.iter().any(|(name, _)| name.contains("test.db ")));
    // The log really holds the debug-level story of the run: every probe, every request.
    let log = files
        .iter()
        .find(|(name, _)| name.contains("debug.log (stopped)"))
        .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned())
        .unwrap();
    assert!(log.contains("probe answered"), "no debug events logged");
    assert!(log.contains("connect: verified"));
    assert!(log.matches("connect: verified").count() >= count);
    // Every key, and every key's body without its prefix, searched in one pass over each text.
    let mut needles: Vec<String> = keys.clone();
    needles.extend(keys.iter().map(|key| key["rk_test_".len()..].to_owned()));
    let finder = AhoCorasick::new(&needles).unwrap();
    for (name, bytes) in &files {
        if let Some(found) = finder.find(bytes.as_slice()) {
            panic!("a key in plaintext in {name} at byte {}", found.start());
        }
    }
    for text in &texts {
        assert!(
            finder.find(text.as_str()).is_none(),
            "a key in an answer: {text}"
        );
    }
}
