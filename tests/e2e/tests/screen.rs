//! The screen as a user meets it. On a phone (390×844) the first screen shows the brand, a
//! menu, the Sources toggle and cards with data; the actions wait in the menu (keyboard too),
//! charts take the full width, a pinch zooms the chart and a drag pans it (WebDriver touch
//! actions, `pointerType` "touch"). On a wide screen (1440×900) the Sources panel lists every
//! source with its state and counts, two live shims at once, and Disconnect stops a shim's data
//! while the shim goes on sending; of two Workers polled, a stopped one is polled no more.
//! Screenshots land in target/screenshots/screen-*.png.

use fantoccini::actions::{InputSource, PointerAction, TouchActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use futures_util::{SinkExt, StreamExt};
use llmscope_e2e::{
    click, connect_live, console_errors, eventually, js, screenshot, wait_for, ws_server, Session,
    DEADLINE,
};
use serde_json::Value;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// Sets the viewport (not the window) to `width`×`height` CSS pixels.
async fn viewport(client: &Client, width: u32, height: u32) {
    client
        .set_window_size(width, height)
        .await
        .expect("resize the window");
    let inner = js(client, "return [innerWidth, innerHeight]").await;
    let (w, h) = (
        inner[0].as_u64().unwrap_or(0) as u32,
        inner[1].as_u64().unwrap_or(0) as u32,
    );
    // The window's frame, if any, is added so that the page itself gets the size asked for.
    client
        .set_window_size(2 * width - w, 2 * height - h)
        .await
        .expect("resize the window");
    assert_eq!(
        js(client, "return [innerWidth, innerHeight]").await,
        serde_json::json!([width, height]),
        "the viewport"
    );
}

/// Whether the element `css` is shown (WebDriver's displayedness).
async fn shown(client: &Client, css: &str) -> bool {
    wait_for(client, css, DEADLINE)
        .await
        .is_displayed()
        .await
        .unwrap_or_else(|e| panic!("is {css} displayed: {e}"))
}

/// `css`'s box on screen: left, top, width, height (CSS pixels).
async fn rect(client: &Client, css: &str) -> [f64; 4] {
    wait_for(client, css, DEADLINE).await;
    let r = js(
        client,
        &format!("const r = document.querySelector({css:?}).getBoundingClientRect(); return [r.left, r.top, r.width, r.height];"),
    )
    .await;
    std::array::from_fn(|i| r[i].as_f64().unwrap_or(f64::NAN))
}

async fn text(client: &Client, css: &str) -> String {
    wait_for(client, css, DEADLINE)
        .await
        .text()
        .await
        .unwrap_or_default()
}

/// Waits until `ready` holds of the page's answer to `script`, and returns that answer.
async fn until(client: &Client, script: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let v = js(client, script).await;
        if ready(&v) {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{script} never got there: {v}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many cards show a value (a card with no point yet shows "–").
const CARDS_WITH_DATA: &str =
    "return [...document.querySelectorAll('[data-testid=stream-card] .last strong')].filter(e => !['–', 'NaN', ''].includes(e.textContent)).length";

/// A phone-sized window (390×844) on the dashboard with fast simulators, once 8 cards show data.
async fn phone_with_data() -> Session {
    let session = Session::open().await;
    viewport(&session.client, 390, 844).await;
    session
        .client
        .goto(&session.url("?tick=25"))
        .await
        .expect("open with fast simulators");
    until(&session.client, CARDS_WITH_DATA, |n| n.as_u64() >= Some(8)).await;
    session
}

#[tokio::test]
async fn on_a_phone_the_first_screen_shows_data_and_the_actions_wait_in_a_menu() {
    let session = phone_with_data().await;
    let client = &session.client;
    // The bar: brand, Sources toggle, menu; no action, no source form.
    for css in [
        ".brand",
        "[data-testid=menu]",
        "[data-testid=sources-toggle]",
    ] {
        assert!(shown(client, css).await, "{css} on the first screen");
    }
    for testid in [
        "simulators",
        "export-json",
        "report-pdf",
        "share",
        "connect-url",
        "probe-url",
    ] {
        let css = format!("[data-testid={testid}]");
        assert!(!shown(client, &css).await, "{testid} waits in a menu");
    }
    let bar = rect(client, "header.bar").await;
    assert!(bar[3] < 80.0, "the bar is one line: {bar:?}");
    // The cards are on the first screen, one column, the page's width less the padding (the
    // page's width is the viewport's less a scrollbar, which a phone lays over the page).
    let page = js(client, "return document.documentElement.clientWidth").await;
    let page = page.as_f64().expect("the page's width");
    assert!(page >= 390.0 - 20.0, "{page}");
    let card = rect(client, "[data-testid=stream-card]").await;
    assert!(
        card[1] + card[3] <= 844.0,
        "the first card is on screen: {card:?}"
    );
    assert!(
        card[2] >= page - 2.0 * 12.0,
        "cards take the width: {card:?} of {page}"
    );
    let second = rect(client, "[data-testid=stream-card]:nth-child(2)").await;
    assert!(second[1] > card[1], "one card a row: {card:?} {second:?}");
    screenshot(client, "screen-phone-dashboard").await;

    // The menu opens and closes from the keyboard; it says whether it is open.
    let menu = wait_for(client, "[data-testid=menu]", DEADLINE).await;
    assert_eq!(
        menu.attr("aria-expanded").await.ok().flatten().as_deref(),
        Some("false")
    );
    menu.send_keys(&Key::Enter.to_string())
        .await
        .expect("Enter on the menu");
    assert_eq!(
        menu.attr("aria-expanded").await.ok().flatten().as_deref(),
        Some("true")
    );
    for testid in ["simulators", "export-json", "report-pdf", "share"] {
        let css = format!("[data-testid={testid}]");
        assert!(shown(client, &css).await, "{testid} in the open menu");
    }
    screenshot(client, "screen-phone-menu").await;
    wait_for(client, "[data-testid=export-json]", DEADLINE)
        .await
        .send_keys(&Key::Escape.to_string())
        .await
        .expect("Escape in the menu");
    assert!(
        !shown(client, "[data-testid=simulators]").await,
        "Escape closes the menu"
    );
    assert_eq!(
        js(client, "return document.activeElement.dataset.testid").await,
        "menu",
        "the focus goes back to the menu button"
    );

    // The Sources panel, behind its toggle: the simulators, running.
    click(client, Locator::Css("[data-testid=sources-toggle]")).await;
    assert!(shown(client, "[data-testid=sources]").await);
    let sims = text(client, "[data-testid=source][data-kind=simulator]").await;
    assert!(
        sims.contains("simulators") && sims.contains("running") && sims.contains("8 streams"),
        "{sims}"
    );
    assert!(shown(client, "[data-testid=connect-url]").await);
    screenshot(client, "screen-phone-sources").await;
    click(client, Locator::Css("[data-testid=sources-toggle]")).await;
    assert!(!shown(client, "[data-testid=sources]").await);

    // A stream's chart takes the full width.
    click(client, Locator::Css("[data-testid=stream-card]")).await;
    let chart = rect(client, "[data-testid=control-chart]").await;
    assert!(
        chart[2] >= page - 2.0 * 12.0 && chart[0] + chart[2] <= page,
        "the chart is the page's width less the padding: {chart:?} of {page}"
    );
    assert_eq!(
        js(client, "return document.documentElement.scrollWidth").await,
        page,
        "nothing sticks out sideways"
    );
    screenshot(client, "screen-phone-stream").await;
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}

/// The stream view's range readout: first point and end (exclusive) shown.
async fn view_range(client: &Client) -> (i64, i64) {
    let r = js(client, "const e = document.querySelector('[data-testid=view-range]'); return [+e.dataset.from, +e.dataset.to];").await;
    (r[0].as_i64().unwrap_or(-1), r[1].as_i64().unwrap_or(-1))
}

/// A finger on `canvas`: down at `from` (from the element's center), moved to `to`, up.
fn finger(id: &str, canvas: &fantoccini::elements::Element, from: f64, to: f64) -> TouchActions {
    let at = |x: f64, duration: Option<Duration>| PointerAction::MoveToElement {
        element: canvas.clone(),
        duration,
        x,
        y: 0.0,
    };
    TouchActions::new(id.into())
        .then(at(from, None))
        .then(PointerAction::Down { button: 0 })
        .then(at(to, Some(Duration::from_millis(300))))
        .then(PointerAction::Up { button: 0 })
}

#[tokio::test]
async fn on_touch_a_pinch_zooms_the_chart_and_a_drag_pans_it() {
    let session = phone_with_data().await;
    let client = &session.client;
    click(client, Locator::Css("[data-testid=stream-card]")).await;
    wait_for(client, "[data-testid=view-range]", DEADLINE).await;
    until(
        client,
        "return +document.querySelector('[data-testid=view-range]').dataset.to",
        |n| n.as_u64() >= Some(300),
    )
    .await;
    // Still data: the simulators pause (from the menu), so the points stay as they are.
    click(client, Locator::Css("[data-testid=menu]")).await;
    click(client, Locator::Css("[data-testid=simulators]")).await;
    click(client, Locator::Css("[data-testid=menu]")).await;
    let (a, all) = view_range(client).await;
    assert_eq!(a, 0, "the whole stream at first");
    let canvas = wait_for(client, "[data-testid=control-chart]", DEADLINE).await;

    // Two fingers 40 px apart spread to 240: a sixth of the points, around the middle.
    let pinch = fantoccini::actions::Actions::from(finger("left", &canvas, -20.0, -120.0))
        .and(finger("right", &canvas, 20.0, 120.0));
    client.perform_actions(pinch).await.expect("pinch");
    let (a, b) = view_range(client).await;
    let span = b - a;
    assert!(
        (span - all / 6).abs() <= 2,
        "a pinch from 40 to 240 px shows a sixth of {all} points: {a}..{b}"
    );
    assert!(
        ((a + b) / 2 - all / 2).abs() <= 1,
        "around the middle: {a}..{b} of {all}"
    );
    assert!(
        text(client, "[data-testid=view-range]")
            .await
            .starts_with(&format!("points {a}–")),
        "the readout says the points shown"
    );

    // One finger dragged 100 px to the right: earlier points, as many.
    let width = js(
        client,
        "return document.querySelector('[data-testid=control-chart]').clientWidth",
    )
    .await;
    let width = width.as_f64().expect("the chart's width");
    client
        .perform_actions(finger("one", &canvas, 0.0, 100.0))
        .await
        .expect("drag");
    let (c, d) = view_range(client).await;
    let expected = (100.0 / width * span as f64).round() as i64;
    assert_eq!(d - c, span, "a drag keeps the zoom");
    assert!(
        (a - c - expected).abs() <= 1,
        "a 100 px drag on {width} px moves {expected} points: {a}..{b} to {c}..{d}"
    );
    screenshot(client, "screen-phone-zoomed").await;
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}

/// A WebSocket server that says hello and sends one sample of `fake/x` every 20 ms.
async fn fake_shim() -> u16 {
    let (port, _) = ws_server(|mut ws| async move {
        let hello = r#"{"type":"hello","server":"fake/1","streams":[{"id":"fake/x","unit":"mm"}]}"#;
        if ws.send(Message::Text(hello.into())).await.is_err() {
            return;
        }
        for seq in 1u64.. {
            let sample = format!(
                r#"{{"type":"sample","stream":"fake/x","seq":{seq},"t":{},"value":{}}}"#,
                1_764_201_600_000u64 + seq * 20,
                (seq % 7) as f64
            );
            if ws.send(Message::Text(sample.into())).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    port
}

/// How many samples the shim at `port` sends to a client of our own, counted as they come.
async fn listen(port: u16) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws"))
        .await
        .expect("connect to the shim");
    let heard = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = heard.clone();
    tokio::spawn(async move {
        while let Some(Ok(Message::Text(text))) = ws.next().await {
            let frame: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let n = match frame["type"].as_str() {
                Some("sample") => 1,
                Some("batch") => frame["samples"].as_array().map_or(0, Vec::len),
                _ => 0,
            };
            count.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
        }
    });
    heard
}

/// The row of the source named `name`: its state and its point count.
async fn source(client: &Client, name: &str) -> (String, u64, String) {
    let script = format!(
        "const r = [...document.querySelectorAll('[data-testid=source]')].find(r => r.querySelector('.source-name').textContent === {name:?}); \
         if (!r) return null; \
         return [r.dataset.state, r.querySelector('[data-testid=source-counts]').textContent, r.textContent];"
    );
    let v = js(client, &script).await;
    let counts = v[1].as_str().unwrap_or_default();
    let points = counts
        .split(" · ")
        .find_map(|c| c.strip_suffix(" points").or(c.strip_suffix(" point")))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    (
        v[0].as_str().unwrap_or("missing").to_string(),
        points,
        v[2].as_str().unwrap_or_default().to_string(),
    )
}

/// Clicks the button `testid` in the row of the source named `name`.
async fn press(client: &Client, name: &str, testid: &str) {
    let script = format!(
        "const r = [...document.querySelectorAll('[data-testid=source]')].find(r => r.querySelector('.source-name').textContent === {name:?}); \
         const b = r && r.querySelector('[data-testid={testid}]'); if (!b) return false; b.click(); return true;"
    );
    assert_eq!(
        js(client, &script).await,
        true,
        "{testid} in the row of {name}"
    );
}

async fn until_state(client: &Client, name: &str, state: &str) -> (String, u64, String) {
    eventually(&format!("{name} {state}"), DEADLINE, || async move {
        let row = source(client, name).await;
        if row.0 == state {
            Ok(row)
        } else {
            Err(format!("{row:?}"))
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sources_panel_lists_every_source_and_disconnect_stops_its_data() {
    let fake = fake_shim().await;
    let session = Session::open().await;
    let client = &session.client;
    viewport(client, 1440, 900).await;
    client
        .goto(&session.url("?tick=25"))
        .await
        .expect("open with fast simulators");
    until(client, CARDS_WITH_DATA, |n| n.as_u64() >= Some(8)).await;
    // A wide screen shows the panel and the actions, no toggles.
    assert!(shown(client, "[data-testid=sources]").await);
    assert!(shown(client, "[data-testid=simulators]").await);
    assert!(!shown(client, "[data-testid=menu]").await);
    assert!(!shown(client, "[data-testid=sources-toggle]").await);
    let (state, _, row) = source(client, "simulators").await;
    assert_eq!(state, "running", "{row}");

    // Two shims at once: the one serving the page, and another.
    let own = format!("ws://127.0.0.1:{}/ws", session.site.port);
    let other = format!("ws://127.0.0.1:{fake}/ws");
    for url in [&own, &other] {
        connect_live(client, url).await;
    }
    let (_, _, row) = until_state(client, &own, "connected").await;
    assert!(row.contains(&format!("live from {own}")), "{row}");
    until_state(client, &other, "connected").await;
    assert_eq!(
        js(
            client,
            "return document.querySelectorAll('[data-testid=source][data-kind=live]').length"
        )
        .await,
        2
    );
    until(client, CARDS_WITH_DATA, |n| n.as_u64() >= Some(12)).await;

    // Disconnect the page's own shim: it says so, and its points stop while the shim goes on
    // sending (a client of our own hears it) and the other shim's points still grow.
    press(client, &own, "source-disconnect").await;
    let (_, stopped_at, row) = until_state(client, &own, "disconnected").await;
    assert!(row.contains(&format!("disconnected from {own}")), "{row}");
    assert!(stopped_at > 0, "it had points: {row}");
    let heard = listen(session.site.port).await;
    let (_, other_before, _) = source(client, &other).await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while heard.load(std::sync::atomic::Ordering::SeqCst) < 30
        || source(client, &other).await.1 < other_before + 30
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no samples from the shims"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (state, after, row) = source(client, &own).await;
    assert_eq!(
        (state.as_str(), after),
        ("disconnected", stopped_at),
        "{row}"
    );
    assert_eq!(source(client, &other).await.0, "connected");
    screenshot(client, "screen-wide-dashboard").await;

    // Connected again, its points grow again.
    press(client, &own, "source-connect").await;
    until_state(client, &own, "connected").await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while source(client, &own).await.1 <= stopped_at {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no points after connecting again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Removed: off the list, its streams kept as a source this page is not connected to.
    press(client, &other, "source-disconnect").await;
    until_state(client, &other, "disconnected").await;
    press(client, &other, "source-remove").await;
    until_state(client, &other, "not connected").await;
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}

/// A probe Worker stand-in with one target, `m`, and no results yet: how many `/results`
/// requests it was sent.
async fn fake_worker() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let polls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = polls.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = tcp.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).to_string();
                let body = if request.starts_with("GET /targets") {
                    r#"[{"name":"m"}]"#
                } else if request.starts_with("GET /results") {
                    count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    "[]"
                } else {
                    "" // the CORS preflight
                };
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Allow-Headers: authorization\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tcp.write_all(response.as_bytes()).await;
            });
        }
    });
    (port, polls)
}

/// Waits until the Worker stand-in has been polled more than `after` times; returns the count.
async fn polled_past(polls: &std::sync::atomic::AtomicUsize, after: usize) -> usize {
    let what = format!("polled past {after}");
    eventually(&what, Duration::from_secs(40), || async {
        let n = polls.load(std::sync::atomic::Ordering::SeqCst);
        if n > after {
            Ok(n)
        } else {
            Err(format!("{n} polls"))
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_are_polled_and_stop_ends_one_polling_loop() {
    let (a, polls_a) = fake_worker().await;
    let (b, polls_b) = fake_worker().await;
    let session = Session::open().await;
    let client = &session.client;
    let (url_a, url_b) = (
        format!("http://127.0.0.1:{a}"),
        format!("http://127.0.0.1:{b}"),
    );
    for url in [&url_a, &url_b] {
        js(
            client,
            &format!(
                "const set = (id, v) => {{ const e = document.querySelector(`[data-testid=${{id}}]`); e.value = v; e.dispatchEvent(new Event('input', {{bubbles: true}})); }}; \
                 set('probe-url', {url:?}); set('probe-token', 't'); return true;"
            ),
        )
        .await;
        click(client, Locator::Css("[data-testid=probe-connect]")).await;
    }
    let (_, _, row) = until_state(client, &url_a, "polling").await;
    until_state(client, &url_b, "polling").await;
    polled_past(&polls_a, 0).await;
    polled_past(&polls_b, 0).await;
    assert!(row.contains(&format!("polling {url_a}")), "{row}");

    press(client, &url_a, "source-disconnect").await;
    let (_, _, row) = until_state(client, &url_a, "stopped").await;
    assert!(row.contains(&format!("stopped polling {url_a}")), "{row}");
    // Between two of B's rounds (10 s apart), A, started at the same time, would poll once.
    let b0 = polled_past(&polls_b, polls_b.load(std::sync::atomic::Ordering::SeqCst)).await;
    let a0 = polls_a.load(std::sync::atomic::Ordering::SeqCst);
    polled_past(&polls_b, b0).await;
    let a1 = polls_a.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(a1, a0, "a stopped Worker is polled no more");
    assert_eq!(source(client, &url_b).await.0, "polling");

    // Polled again with the token it was given.
    press(client, &url_a, "source-connect").await;
    until_state(client, &url_a, "polling").await;
    polled_past(&polls_a, a1).await;
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}
