//! `rakguard emulator`: starts, prints its address and keys, answers like Stripe, stops.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::Duration;

use crate::rakguard;

/// One HTTP/1.1 request over a fresh connection; returns the whole answer.
fn http(address: &str, request: &str) -> String {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer
}

#[test]
fn the_emulator_prints_its_keys_and_answers_like_stripe() {
    let mut child = rakguard()
        .args(["emulator", "--port", "0", "--seed", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut address = None;
    let mut secret = None;
    // The banner is a handful of lines; stop at the admin line that ends it.
    for _ in 0..20 {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(url) = line.strip_prefix("Stripe emulator listening on http://") {
            address = Some(url.trim().to_owned());
        }
        if line.trim_start().starts_with("Secret key (test)") {
            secret = line
                .split_whitespace()
                .find(|word| word.starts_with("sk_test_"))
                .map(str::to_owned);
        }
        if line.starts_with("admin API") {
            break;
        }
    }
    let address = address.expect("the address is printed");
    let secret = secret.expect("a generated test secret key is printed in full");
    assert!(secret.len() >= 107, "{secret}");

    let created = http(
        &address,
        &format!(
            "POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {secret}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 15\r\nConnection: close\r\n\r\nemail=a%40b.com"
        ),
    );
    assert!(created.starts_with("HTTP/1.1 200"), "{created}");
    assert!(
        created.to_ascii_lowercase().contains("request-id: req_"),
        "{created}"
    );
    assert!(created.contains("\"object\":\"customer\""), "{created}");

    let refused = http(
        &address,
        "GET /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer rk_test_000000000000000000000000wxyz\r\nConnection: close\r\n\r\n",
    );
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert!(
        refused.contains("Invalid API Key provided: rk_test_"),
        "{refused}"
    );
    assert!(
        !refused.contains("rk_test_000000000000000000000000wxyz"),
        "the key is masked: {refused}"
    );

    child.kill().expect("kill");
    child.wait().expect("wait");
}

#[test]
fn a_bad_keys_file_names_the_field() {
    let dir = std::env::temp_dir().join(format!("rakguard-emulator-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("keys.toml");
    std::fs::write(
        &file,
        "[[key]]\nname = \"x\"\ntype = \"restricted\"\npermissions = [\"customer_wirte\"]\n",
    )
    .expect("write");
    let output = rakguard()
        .args(["emulator", "--port", "0", "--keys"])
        .arg(&file)
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("permissions"), "{text}");
    assert!(text.contains("customer_write"), "a suggestion: {text}");
}
