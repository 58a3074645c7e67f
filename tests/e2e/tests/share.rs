//! Share links end to end: a session shared as a fragment link, and one too large for it
//! through the probe Worker (`wrangler dev`), each opened in a fresh browser profile; altered
//! links refused without touching the receiver's session; no token ever in a link.

use fantoccini::{Client, Locator};
use llmscope_e2e::{
    click, console_errors, console_log, count, import, js, notice, pause_simulators, screenshot,
    stream_names, temp_csv, wait_for, Session, DEADLINE,
};
use llmscope_probe_tests::Wrangler;
use std::time::Duration;

const WORKER_TOKEN: &str = "share-worker-token-93b1d0";
const LIVE_TOKEN: &str = "shim-token-5c77e2";

async fn text(client: &Client, css: &str) -> String {
    wait_for(client, css, DEADLINE)
        .await
        .text()
        .await
        .unwrap_or_default()
}

/// The notice once it says `wanted` (or, after the deadline, whatever it says): what the page
/// says after a click may wait for the second module to load.
async fn notice_saying(client: &Client, wanted: &str) -> String {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let said = text(client, "[data-testid=notice]").await;
        if said.contains(wanted) || tokio::time::Instant::now() >= deadline {
            return said;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clicks Share and returns the link once it is shown.
async fn share(client: &Client, wanted: &str) -> String {
    wait_for(client, "[data-testid=share]", DEADLINE)
        .await
        .click()
        .await
        .expect("share");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let link = js(
            client,
            "const e = document.querySelector('[data-testid=share-link]'); return e ? e.value : ''",
        )
        .await;
        let link = link.as_str().unwrap_or_default().to_string();
        if link.contains(wanted) {
            return link;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {wanted} link; notice: {}",
            text(client, "[data-testid=notice]").await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens a link as a fresh navigation (not a fragment change on the same page).
async fn open(client: &Client, link: &str) {
    client.goto("about:blank").await.expect("blank");
    client.goto(link).await.expect("open the link");
}

/// What a person compares: the open stream's center and signal count.
async fn stream_facts(client: &Client) -> (String, usize) {
    let center = text(client, "[data-testid=center]").await;
    (center, count(client, "[data-testid=signal-row]").await)
}

/// Types a token into the live and Worker forms and submits them: tokens the app now holds in
/// memory, which must never reach a link.
async fn hold_tokens(client: &Client, worker: &str) {
    let script = format!(
        "const set = (id, v) => {{ const e = document.querySelector(`[data-testid=${{id}}]`); e.value = v; e.dispatchEvent(new Event('input', {{bubbles: true}})); }}; \
         set('probe-url', {worker:?}); set('probe-token', {WORKER_TOKEN:?}); set('connect-url', 'ws://127.0.0.1:9/ws'); set('connect-token', {LIVE_TOKEN:?}); return true;"
    );
    js(client, &script).await;
    click(client, Locator::Css("[data-testid=probe-connect]")).await;
    click(client, Locator::Css("[data-testid=connect]")).await;
}

/// Clicks "Copy into my session" and waits until the page is the user's own again. When it
/// is not, the failure says the URL, the notice and the console, and keeps a screenshot.
async fn copy_into_mine(client: &Client) {
    click(client, Locator::Css("[data-testid=copy-shared]")).await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while count(client, "[data-testid=shared-banner]").await > 0 {
        if tokio::time::Instant::now() >= deadline {
            let said = js(
                client,
                "const n = document.querySelector('[data-testid=notice]'); \
                 return location.href + ' | notice: ' + (n ? n.textContent : 'none');",
            )
            .await;
            screenshot(client, "share-copy-stuck").await;
            let log = console_log(client).await;
            panic!("still viewing the shared session: {said}; console: {log:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn tamper(link: &str, at: usize) -> String {
    let mut bytes = link.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("ascii")
}

#[tokio::test]
async fn a_fragment_link_opens_the_same_session_read_only_and_bad_ones_change_nothing() {
    let session = Session::open().await;
    let client = &session.client;
    client
        .goto(&session.url("?tick=25"))
        .await
        .expect("fast simulators");
    wait_for(
        client,
        "[data-testid=stream-card][data-status=signal]",
        Duration::from_secs(60),
    )
    .await;
    pause_simulators(client).await;
    let mut csv = String::from("t,barrel_temp\n");
    for i in 0..200 {
        let shift = if i >= 150 { 6.0 } else { 0.0 };
        csv += &format!(
            "{i},{}\n",
            210.0 + shift + ((i * 37 % 11) as f64 - 5.0) * 0.4
        );
    }
    import(client, &temp_csv("press.csv", &csv)).await;
    assert!(notice(client).await.contains("imported"), "the import");
    hold_tokens(client, "http://127.0.0.1:9").await;
    let streams = stream_names(client).await;
    click(
        client,
        Locator::XPath("//article[.//h2[contains(., 'barrel_temp')]]"),
    )
    .await;
    let facts = stream_facts(client).await;
    assert!(facts.1 > 0, "the shift raised signals");
    click(client, Locator::XPath("//button[. = 'Zoom in']")).await;
    let link = share(client, "#s=").await;
    for secret in [WORKER_TOKEN, LIVE_TOKEN] {
        assert!(!link.contains(secret), "a token in the link");
    }

    // A fresh profile: the same streams, limits and signals, read-only, at the same view.
    let other = session.second_browser().await;
    open(&other, &link).await;
    wait_for(&other, "[data-testid=shared-banner]", DEADLINE).await;
    assert_eq!(stream_facts(&other).await, facts);
    assert_eq!(
        js(
            &other,
            "return document.querySelector('.settings').disabled"
        )
        .await,
        true,
        "settings are locked"
    );
    click(
        &other,
        Locator::XPath("//button[contains(., 'All streams')]"),
    )
    .await;
    assert_eq!(stream_names(&other).await, streams);
    // Copying it makes it the receiver's own.
    copy_into_mine(&other).await;
    wait_for(&other, "[data-testid=stream-card]", DEADLINE).await;
    // (The fresh profile may have saved its own simulators first: the shared ones are added.)
    let own = stream_names(&other).await;
    for name in streams.as_array().expect("names") {
        let owned = own.as_array().is_some_and(|l| l.contains(name));
        assert!(owned, "the receiver now owns {name}: {own}");
    }

    // Altered or cut links: a clear message, and the receiver's own session untouched.
    let at = link.find("#s=").expect("payload") + 40;
    for bad in [tamper(&link, at), link[..link.len() - 30].to_string()] {
        open(&other, &bad).await;
        let said = notice_saying(&other, "damaged").await;
        assert!(said.contains("damaged"), "{said}");
        assert_eq!(count(&other, "[data-testid=shared-banner]").await, 0);
        wait_for(&other, "[data-testid=stream-card]", DEADLINE).await;
        assert_eq!(
            stream_names(&other).await,
            own,
            "the receiver's session is untouched"
        );
    }
    for client in [client, &other] {
        // The made-up live and Worker addresses refuse connections; nothing else may fail.
        let errors: Vec<String> = console_errors(client)
            .await
            .into_iter()
            .filter(|e| !e.contains("127.0.0.1:9/"))
            .collect();
        assert!(errors.is_empty(), "console errors: {errors:#?}");
    }
    let _ = other.close().await;
    session.close().await;
}

/// IndexedDB can stall without an error (a page frozen in the back/forward cache mid-upgrade
/// did it here). Copying says so within seconds, keeps the shared session, and works once the
/// database answers again.
#[tokio::test]
async fn copying_into_a_stalled_database_says_so_and_works_once_it_answers() {
    let session = Session::open().await;
    let client = &session.client;
    wait_for(client, "[data-testid=stream-card]", DEADLINE).await;
    pause_simulators(client).await;
    let link = share(client, "#s=").await;
    open(client, &link).await;
    wait_for(client, "[data-testid=shared-banner]", DEADLINE).await;
    // Another connection upgrades the database and keeps its upgrade open: every other open
    // waits behind it, with no event at all.
    js(
        client,
        "const r = indexedDB.open('llmscope', 1000); \
         r.onupgradeneeded = () => { const tx = r.transaction; window.stall = tx; \
           const store = tx.objectStore(tx.objectStoreNames[0]); \
           const spin = () => { if (window.stall) store.get(0).onsuccess = spin; }; spin(); }; \
         return true;",
    )
    .await;
    click(client, Locator::Css("[data-testid=copy-shared]")).await;
    let said = notice_saying(client, "did not answer within 5 s").await;
    assert!(said.contains("did not answer within 5 s"), "{said}");
    assert_eq!(count(client, "[data-testid=shared-banner]").await, 1);

    js(
        client,
        "const tx = window.stall; window.stall = null; tx.abort(); return true;",
    )
    .await;
    copy_into_mine(client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_session_is_shared_encrypted_through_the_worker() {
    let session = Session::open().await;
    let client = &session.client;
    let origin = session.site.url.trim_end_matches('/').to_string();
    let secrets = [("LLMSCOPE_TOKEN", WORKER_TOKEN)];
    let vars = [("LLMSCOPE_ORIGINS", origin)];
    let wrangler = Wrangler::start("share", &vars, &secrets).await;
    pause_simulators(client).await;
    let mut csv = String::from("t,spindle_vibration\n");
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    for i in 0..100_000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        csv += &format!("{i},{:.6}\n", 3.0 + (x % 1_000_000) as f64 / 1e6);
    }
    import(client, &temp_csv("vibration.csv", &csv)).await;
    assert!(notice(client).await.contains("imported"), "the import");
    // Too large for a link, and no Worker yet: the app says what to do.
    wait_for(client, "[data-testid=share]", DEADLINE)
        .await
        .click()
        .await
        .expect("share");
    let said = notice_saying(client, "connect a probe Worker").await;
    assert!(said.contains("connect a probe Worker"), "{said}");
    hold_tokens(client, &wrangler.url).await;
    let streams = stream_names(client).await;
    let link = share(client, "#share=").await;
    assert!(
        !link.contains(WORKER_TOKEN) && !link.contains(LIVE_TOKEN),
        "a token in the link"
    );

    // The Worker holds ciphertext only.
    let id = link
        .split("#share=")
        .nth(1)
        .and_then(|r| r.split('&').next())
        .expect("id")
        .to_string();
    let stored = reqwest::get(format!("{}/share/{id}", wrangler.url))
        .await
        .expect("GET /share")
        .bytes()
        .await
        .expect("bytes");
    assert!(stored.len() > 100_000, "{} bytes", stored.len());
    for name in ["spindle_vibration", "vibration.csv"] {
        assert!(
            !stored.windows(name.len()).any(|w| w == name.as_bytes()),
            "{name} in the stored bytes"
        );
    }

    let other = session.second_browser().await;
    open(&other, &link).await;
    wait_for(
        &other,
        "[data-testid=shared-banner]",
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(stream_names(&other).await, streams);

    // An altered key fails authentication; an altered id finds nothing. Nothing changes.
    let key_at = link.find("&key=").expect("key") + 10;
    let id_at = link.find("#share=").expect("id") + 10;
    for (bad, expected) in [
        (tamper(&link, key_at), "authenticity"),
        (tamper(&link, id_at), "no such shared session"),
    ] {
        open(&other, &bad).await;
        let said = notice_saying(&other, expected).await;
        assert!(said.contains(expected), "{said}");
        assert_eq!(count(&other, "[data-testid=shared-banner]").await, 0);
    }
    let errors = console_errors(&other).await;
    assert!(
        errors
            .iter()
            .all(|e| e.contains("404") || e.contains("127.0.0.1:9/")),
        "console errors: {errors:#?}"
    );
    let _ = other.close().await;
    session.close().await;
}
