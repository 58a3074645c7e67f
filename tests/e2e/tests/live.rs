//! Live data in the browser: the dashboard connects to the shim that serves it (`?live=1`) and
//! charts the simulated plant, each card showing a value the shim sent; a server that sends
//! invalid frames gets them counted and shown, and the good frames around them still arrive;
//! a dropped connection is resumed with `?since=`, with no sample missing or twice.

use fantoccini::{Client, Locator};
use futures_util::{SinkExt, StreamExt};
use llmscope_e2e::{click, console_errors, downloaded, js, wait_for, Session, DEADLINE};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

/// The samples in one server frame (a `sample`, or each of a `batch`).
fn samples(frame: &Value) -> Vec<Value> {
    match frame["type"].as_str() {
        Some("sample") => vec![frame.clone()],
        Some("batch") => frame["samples"].as_array().cloned().unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Listens to the shim at `port` as a client of its own: every `(stream, value)` it sends.
async fn listen(port: u16) -> Arc<Mutex<Vec<(String, f64)>>> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws"))
        .await
        .expect("connect to the shim");
    let heard = Arc::new(Mutex::new(Vec::new()));
    let into = heard.clone();
    tokio::spawn(async move {
        while let Some(Ok(message)) = ws.next().await {
            let Message::Text(text) = message else {
                continue;
            };
            let frame: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            for s in samples(&frame) {
                if let (Some(stream), Some(value)) = (s["stream"].as_str(), s["value"].as_f64()) {
                    into.lock()
                        .expect("samples")
                        .push((stream.to_string(), value));
                }
            }
        }
    });
    heard
}

/// Whether a number the page shows with `shown`'s decimals is `value` rounded.
fn shows(shown: &str, value: f64) -> bool {
    let decimals = shown.split_once('.').map_or(0, |(_, d)| d.len());
    shown
        .parse::<f64>()
        .is_ok_and(|v| (v - value).abs() <= 0.5 * 10f64.powi(-(decimals as i32)) + 1e-9)
}

async fn text_of(client: &Client, css: &str) -> String {
    wait_for(client, css, DEADLINE)
        .await
        .text()
        .await
        .unwrap_or_default()
}

#[tokio::test]
async fn the_dashboard_charts_the_plant_streamed_by_the_shim_that_serves_it() {
    let session = Session::open().await;
    let client = &session.client;
    // A client of our own, subscribed before the page: it hears every sample the page does.
    let heard = listen(session.site.port).await;
    client
        .goto(&session.url("?live=1"))
        .await
        .expect("open with live data");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(45);
    let shown = loop {
        let shown = js(client, "const c = [...document.querySelectorAll('[data-testid=stream-card]')].find(c => c.querySelector('.name').textContent === 'press1/cycle_time'); return c ? c.querySelector('.last strong').textContent : null").await;
        let status = text_of(client, "[data-testid=live-status]").await;
        if let (Some(shown), true) = (shown.as_str(), status.starts_with("live from ws://")) {
            break shown.to_string();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no live plant streams: {shown} / {status}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // The card's value is one the shim sent for that stream.
    let sent: Vec<f64> = heard
        .lock()
        .expect("samples")
        .iter()
        .filter(|(stream, _)| stream == "press1/cycle_time")
        .map(|(_, v)| *v)
        .collect();
    assert!(
        sent.iter().any(|v| shows(&shown, *v)),
        "the card shows {shown}; the shim sent {sent:?}"
    );
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}

#[tokio::test]
async fn invalid_frames_are_counted_and_shown_and_the_stream_goes_on() {
    let (port, _) = llmscope_e2e::ws_server(|mut ws| async move {
        let frames = [
            r#"{"type":"hello","server":"fake/1","streams":[{"id":"fake/<b>bold</b>","unit":"mm"}]}"#,
            "this is not json",
            r#"{"type":"sample","stream":"fake/<b>bold</b>","seq":1,"t":1764201600000,"value":1.5}"#,
            r#"{"type":"sample","stream":"fake/<b>bold</b>"}"#,
            r#"{"type":"sample","stream":"fake/<b>bold</b>","seq":2,"t":1764201600100,"value":2.5}"#,
        ];
        for f in frames {
            if ws.send(Message::Text(f.into())).await.is_err() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
    })
    .await;
    let session = Session::open().await;
    let client = &session.client;
    client
        .goto(&session.url(&format!("?live=ws://127.0.0.1:{port}/ws")))
        .await
        .expect("open");
    // Another server than the page's own: the page asks first.
    wait_for(client, "[data-testid=ask-live-connect]", DEADLINE)
        .await
        .click()
        .await
        .expect("agree to connect");
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let status = text_of(client, "[data-testid=live-status]").await;
        let last = js(client, "const c = [...document.querySelectorAll('[data-testid=stream-card]')].find(c => c.textContent.includes('fake/')); return c ? c.querySelector('.last strong').textContent : null").await;
        if status.contains("2 invalid frames ignored") && last == "2.5000" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "status {status:?}, last value {last}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let name = js(client, "return [...document.querySelectorAll('[data-testid=stream-card] .name')].map(e => e.textContent).find(t => t.startsWith('fake/'))").await;
    assert_eq!(name, "fake/<b>bold</b>", "the name is shown as text");
    assert_eq!(
        js(client, "return document.querySelectorAll('.card b').length").await,
        0
    );
    session.close().await;
}

/// A TCP proxy to the shim that the test can cut. It keeps each connection's request line (to
/// read its `?since=`) and gives the shim its own Host (it answers only to its names, and to
/// the origin of the page it served).
struct Proxy {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(shim: u16) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let (seen, open) = (requests.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let task = tokio::spawn(relay(client, shim, seen.clone()));
                open.lock().expect("connections").push(task);
            }
        });
        Proxy {
            port,
            requests,
            connections,
        }
    }

    /// Drops every open connection, as a network failure would.
    fn cut(&self) {
        for task in self.connections.lock().expect("connections").drain(..) {
            task.abort();
        }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }
}

async fn relay(mut client: tokio::net::TcpStream, shim: u16, seen: Arc<Mutex<Vec<String>>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    seen.lock().expect("requests").push(lines[0].clone());
    for line in &mut lines {
        if line.to_ascii_lowercase().starts_with("host:") {
            *line = format!("Host: 127.0.0.1:{shim}");
        }
    }
    let Ok(mut server) = tokio::net::TcpStream::connect(("127.0.0.1", shim)).await else {
        return;
    };
    let mut out = lines.join("\r\n").into_bytes();
    out.extend_from_slice(&head[end..]);
    if server.write_all(&out).await.is_ok() {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    }
}

/// The `since` of a WebSocket request line (`GET /ws?since=41 HTTP/1.1`).
fn since(request: &str) -> Option<u64> {
    let query = request.split_whitespace().nth(1)?.split_once('?')?.1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("since="))
        .and_then(|s| s.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_resumes_with_since_and_no_sample_is_missing_or_twice() {
    let session = Session::open().await;
    let client = &session.client;
    let proxy = Proxy::start(session.site.port).await;
    client
        .goto(&session.url(&format!("?live=ws://127.0.0.1:{}/ws", proxy.port)))
        .await
        .expect("open");
    wait_for(client, "[data-testid=ask-live-connect]", DEADLINE)
        .await
        .click()
        .await
        .expect("agree to connect");
    let live = |client: &Client| {
        let client = client.clone();
        async move { text_of(&client, "[data-testid=live-status]").await }
    };
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !live(client).await.starts_with("live from ws://") {
        assert!(tokio::time::Instant::now() < deadline, "never connected");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let samples arrive, then drop the connection under the page.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(proxy.requests().len(), 1, "{:?}", proxy.requests());
    assert_eq!(
        since(&proxy.requests()[0]),
        None,
        "a first connection replays nothing"
    );
    proxy.cut();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let resumed = loop {
        if let Some(again) = proxy.requests().get(1) {
            break since(again).unwrap_or_else(|| panic!("reconnected without since: {again}"));
        }
        assert!(tokio::time::Instant::now() < deadline, "never reconnected");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Samples flow again, then the session's samples: every seq once, none missing.
    tokio::time::sleep(Duration::from_secs(2)).await;
    click(client, Locator::XPath("//button[. = 'Export session']")).await;
    let file = downloaded(&session.downloads, "llmscope-session.json").await;
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(file).expect("json")).expect("the export");
    let mut seqs: Vec<u64> = doc["samples"]
        .as_array()
        .expect("samples")
        .iter()
        .map(|s| s["seq"].as_u64().expect("a seq"))
        .collect();
    seqs.sort_unstable();
    let (first, last) = (seqs[0], seqs[seqs.len() - 1]);
    assert!(
        first <= resumed && resumed < last,
        "resumed after {resumed}, samples {first}..={last}"
    );
    for pair in seqs.windows(2) {
        assert_eq!(
            pair[1],
            pair[0] + 1,
            "after seq {} came {}: missing or twice (resumed after {resumed})",
            pair[0],
            pair[1]
        );
    }
    let errors: Vec<String> = console_errors(client)
        .await
        .into_iter()
        .filter(|e| !e.contains("WebSocket"))
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}
