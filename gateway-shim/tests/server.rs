//! The WebSocket server against a real client (tokio-tungstenite), with the hub fed directly:
//! replay without loss or duplicates, gaps, statuses, the token and the Origin check.

use futures_util::{SinkExt, StreamExt};
use llmscope_protocol::{ServerFrame, StreamState};
use llmscope_shim::hub::Hub;
use llmscope_shim::server::{self, Options};
use llmscope_shim::source::Event;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

struct Shim {
    hub: Arc<Hub>,
    port: u16,
    stop: CancellationToken,
}

impl Drop for Shim {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn shim(buffer: usize, options: Options) -> Shim {
    let hub = Hub::new(buffer, vec![]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = CancellationToken::new();
    tokio::spawn(server::serve(listener, hub.clone(), options, stop.clone()));
    Shim { hub, port, stop }
}

fn feed(hub: &Hub, from: usize, to: usize) {
    for i in from..to {
        let stream = if i % 3 == 0 {
            "press1/temperature"
        } else {
            "press1/pressure"
        };
        hub.apply(Event::Reading {
            stream: stream.into(),
            t: 1_764_201_600_000 + i as i64,
            value: i as f64,
        });
    }
}

async fn connect(port: u16, query: &str, headers: &[(&str, &str)]) -> Result<Client, String> {
    let mut request = format!("ws://127.0.0.1:{port}/ws{query}")
        .into_client_request()
        .map_err(|e| e.to_string())?;
    for (k, v) in headers {
        let name =
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(k.as_bytes()).unwrap();
        request.headers_mut().insert(name, v.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(ws, _)| ws)
        .map_err(|e| e.to_string())
}

async fn next_frame(ws: &mut Client) -> Option<ServerFrame> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .ok()??
        {
            Ok(Message::Text(t)) => return Some(ServerFrame::parse(&t).expect("valid frame")),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Reads frames until a sample with seq `until` or later; returns the seqs seen and any gap.
async fn read_until(ws: &mut Client, until: u64) -> (Vec<u64>, Vec<u64>) {
    let (mut seqs, mut gaps) = (Vec::new(), Vec::new());
    while seqs.last().is_none_or(|&last| last < until) {
        match next_frame(ws).await.expect("the stream continues") {
            ServerFrame::Sample(s) => seqs.push(s.seq),
            ServerFrame::Batch { samples } => seqs.extend(samples.iter().map(|s| s.seq)),
            ServerFrame::Gap { missed } => gaps.push(missed),
            _ => {}
        }
    }
    (seqs, gaps)
}

#[tokio::test]
async fn reconnecting_with_since_loses_nothing_and_repeats_nothing() {
    let s = shim(100_000, Options::default()).await;
    feed(&s.hub, 0, 300);
    let mut ws = connect(s.port, "", &[]).await.unwrap();
    assert!(
        matches!(next_frame(&mut ws).await, Some(ServerFrame::Hello { streams, .. }) if streams.len() == 2)
    );
    feed(&s.hub, 300, 1000);
    let (first, _) = read_until(&mut ws, 700).await;
    let seen = *first.last().unwrap();
    assert_eq!(
        first,
        (301..=seen).collect::<Vec<u64>>(),
        "a new client gets what comes after it connects"
    );
    drop(ws);
    feed(&s.hub, 1000, 2500);
    let mut ws = connect(s.port, "?since=700", &[]).await.unwrap();
    let (again, gaps) = read_until(&mut ws, 2500).await;
    assert!(gaps.is_empty());
    assert_eq!(again, (701..=2500).collect::<Vec<u64>>());
    // Live samples after the replay continue the sequence.
    feed(&s.hub, 2500, 2510);
    assert_eq!(
        read_until(&mut ws, 2510).await.0,
        (2501..=2510).collect::<Vec<u64>>()
    );
}

#[tokio::test]
async fn a_client_past_the_buffer_is_told_the_gap() {
    let s = shim(100, Options::default()).await;
    feed(&s.hub, 0, 1000);
    let mut ws = connect(s.port, "?since=500", &[]).await.unwrap();
    let (seqs, gaps) = read_until(&mut ws, 1000).await;
    assert_eq!(gaps, vec![400], "901..=1000 are held; 501..=900 are gone");
    assert_eq!(seqs, (901..=1000).collect::<Vec<u64>>());
    let bad = connect(s.port, "?since=abc", &[]).await;
    assert!(bad.unwrap_err().contains("400"));
}

#[tokio::test]
async fn stale_streams_are_reported_live_and_on_connect() {
    let s = shim(100, Options::default()).await;
    feed(&s.hub, 0, 3);
    let mut ws = connect(s.port, "", &[]).await.unwrap();
    next_frame(&mut ws).await;
    s.hub.apply(Event::Status {
        stream: "press1/pressure".into(),
        state: StreamState::Stale,
        reason: Some("modbus timeout".into()),
    });
    let frame = next_frame(&mut ws).await.unwrap();
    assert_eq!(
        frame,
        ServerFrame::Status {
            stream: "press1/pressure".into(),
            state: StreamState::Stale,
            reason: Some("modbus timeout".into())
        }
    );
    let mut late = connect(s.port, "", &[]).await.unwrap();
    assert!(matches!(
        next_frame(&mut late).await,
        Some(ServerFrame::Hello { .. })
    ));
    assert_eq!(
        next_frame(&mut late).await,
        Some(frame),
        "a new client learns the stale stream at once"
    );
}

#[tokio::test]
async fn the_token_is_required_when_set() {
    let options = Options {
        token: Some("change-me".into()),
        ..Options::default()
    };
    let s = shim(100, options).await;
    feed(&s.hub, 0, 5);
    // A wrong token in the URL or header is refused before the upgrade.
    assert!(connect(s.port, "?token=wrong", &[])
        .await
        .unwrap_err()
        .contains("401"));
    assert!(connect(s.port, "", &[("authorization", "Bearer nope")])
        .await
        .unwrap_err()
        .contains("401"));
    // No token: the first frame must be a valid auth frame, else the server closes.
    let mut ws = connect(s.port, "", &[]).await.unwrap();
    ws.send(Message::Text(r#"{"type":"auth","token":"guess"}"#.into()))
        .await
        .unwrap();
    assert_eq!(
        next_frame(&mut ws).await,
        None,
        "closed after a wrong auth frame"
    );
    let mut ws = connect(s.port, "", &[]).await.unwrap();
    ws.send(Message::Text(
        r#"{"type":"auth","token":"change-me"}"#.into(),
    ))
    .await
    .unwrap();
    assert!(matches!(
        next_frame(&mut ws).await,
        Some(ServerFrame::Hello { .. })
    ));
    let mut ws = connect(s.port, "?since=0", &[("authorization", "Bearer change-me")])
        .await
        .unwrap();
    next_frame(&mut ws).await;
    assert_eq!(read_until(&mut ws, 5).await.0, vec![1, 2, 3, 4, 5]);
    // /status needs it too, and never shows it.
    let status = http_get(s.port, "/status", "").await;
    assert!(status.starts_with("HTTP/1.1 401"), "{status}");
    let status = http_get(s.port, "/status", "Authorization: Bearer change-me\r\n").await;
    assert!(
        status.starts_with("HTTP/1.1 200") && !status.contains("change-me"),
        "{status}"
    );
}

#[tokio::test]
async fn origins_outside_the_allowlist_are_refused() {
    let options = Options {
        origins: vec!["http://127.0.0.1:8080".into()],
        ..Options::default()
    };
    let s = shim(100, options).await;
    assert!(connect(s.port, "", &[("origin", "http://evil.example")])
        .await
        .unwrap_err()
        .contains("403"));
    assert!(connect(s.port, "", &[("origin", "http://127.0.0.1:8080")])
        .await
        .is_ok());
    let own = format!("http://127.0.0.1:{}", s.port);
    assert!(
        connect(s.port, "", &[("origin", own.as_str())])
            .await
            .is_ok(),
        "the shim's own site may connect"
    );
}

/// A bare HTTP/1.1 GET, to see status codes and bodies as they are.
async fn http_get(port: u16, path: &str, headers: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn the_same_port_serves_the_dashboard_when_asked() {
    let site = std::env::temp_dir().join(format!("llmscope-site-{}", std::process::id()));
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("index.html"), "<title>LLMscope</title>").unwrap();
    let s = shim(
        10,
        Options {
            site: Some(site.clone()),
            ..Options::default()
        },
    )
    .await;
    let page = http_get(s.port, "/", "").await;
    assert!(
        page.starts_with("HTTP/1.1 200") && page.contains("<title>LLMscope</title>"),
        "{page}"
    );
    assert!(http_get(s.port, "/health", "")
        .await
        .contains(r#"{"ok":true}"#));
    assert!(
        connect(s.port, "", &[]).await.is_ok(),
        "and the WebSocket still answers on /ws"
    );
    let _ = std::fs::remove_dir_all(site);
}

#[test]
fn server_config_mistakes_name_the_line_and_key() {
    use llmscope_shim::config::parse;
    let source = "\n[[mqtt]]\nname = \"m\"\nbroker = \"mqtt://127.0.0.1:1883\"\n[[mqtt.subscribe]]\ntopic = \"a/b\"\nstream = \"a/b\"\n";
    let e = parse(
        &format!("[server]\nlisen = \"127.0.0.1:9750\"\n{source}"),
        "plant.toml",
    )
    .unwrap_err();
    assert!(
        e.contains("plant.toml: line 2") && e.contains("lisen"),
        "{e}"
    );
    let e = parse(
        &format!("[server]\nlisten = \"0.0.0.0:9750\"\n{source}"),
        "plant.toml",
    )
    .unwrap_err();
    assert!(
        e.contains("line 2") && e.contains("server.listen") && e.contains("token is required"),
        "{e}"
    );
    let e = parse(
        &format!("[server]\nbuffer = \"lots\"\n{source}"),
        "plant.toml",
    )
    .unwrap_err();
    assert!(e.contains("line 2") && e.contains("buffer"), "{e}");
    assert!(parse(
        &format!("[server]\nlisten = \"0.0.0.0:9750\"\ntoken = \"t\"\n{source}"),
        "plant.toml"
    )
    .is_ok());
    let e = parse("[server]\n", "plant.toml").unwrap_err();
    assert!(e.contains("no sources"), "{e}");
}
