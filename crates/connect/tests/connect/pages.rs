//! The hosted connect page over HTTP (no browser): a signed session link, the CSRF-protected
//! forms, the red panel naming exactly the missing permissions, connect and disconnect.

use super::*;

async fn form_fields(html: &str) -> (String, String) {
    let field = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        let start = html
            .find(&marker)
            .unwrap_or_else(|| panic!("no {name} in {html}"))
            + marker.len();
        html[start..].split('"').next().unwrap().to_owned()
    };
    (field("session"), field("csrf"))
}

async fn post_form(running: &Running, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let body: String = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let response = reqwest::Client::new()
        .post(format!("{}{path}", running.base_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn paste_a_key_see_the_panel_then_connect_and_disconnect() {
    let setup = page_setup("page").await;
    let (running, url) = (&setup.running, setup.url.as_str());
    let (good, partial) = (setup.good.as_str(), setup.partial.as_str());
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200);
    let csp = response
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let page = response.text().await.unwrap();
    assert!(page.contains("Stripe restricted key"));
    assert!(page.contains("Required permissions (8)"), "{page}");
    let (session, csrf) = form_fields(&page).await;

    // A bad CSRF token is refused.
    let (status, _) = post_form(
        running,
        "/connect",
        &[
            ("session", &session),
            ("csrf", "x.y"),
            ("mode", "test"),
            ("key", good),
        ],
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        running
            .service
            .store()
            .connections(false)
            .await
            .unwrap()
            .is_empty()
    );

    // A key missing two permissions: the panel names exactly those two.
    let (status, page) = post_form(
        running,
        "/connect",
        &[
            ("session", &session),
            ("csrf", &csrf),
            ("mode", "test"),
            ("key", partial),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Your Stripe key is missing required permissions"),
        "{page}"
    );
    assert!(page.contains("Coupons: Write"), "{page}");
    assert!(page.contains("Invoices: Read"), "{page}");
    assert!(!page.contains(partial), "the key is never echoed");
    let listed = page.matches("<li>").count();
    assert!(listed >= 2);

    // The good key: connected, masked.
    let (status, page) = post_form(
        running,
        "/connect",
        &[
            ("session", &session),
            ("csrf", &csrf),
            ("mode", "test"),
            ("key", good),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("Disconnect"), "{page}");
    assert!(!page.contains(good));
    assert_eq!(
        running
            .service
            .store()
            .connections(true)
            .await
            .unwrap()
            .len(),
        1
    );

    // Disconnect: gone.
    let (status, page) = post_form(
        running,
        "/disconnect",
        &[("session", &session), ("csrf", &csrf), ("mode", "test")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("Stripe restricted key"));
    assert!(
        running
            .service
            .store()
            .connections(true)
            .await
            .unwrap()
            .is_empty()
    );

    // A tampered link is refused.
    let tampered = url.replace("session=", "session=x");
    assert_eq!(reqwest::get(&tampered).await.unwrap().status(), 403);
    // The guide and the assets are served.
    let guide = reqwest::get(format!("{}/guide/selgeo?mode=test", running.base_url))
        .await
        .unwrap();
    assert_eq!(guide.status(), 200);
    let css = reqwest::get(format!("{}/static/connect.css", running.base_url))
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    setup.shutdown().await;
}
