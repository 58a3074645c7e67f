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
    http_get_as(port, path, &format!("127.0.0.1:{port}"), headers).await
}

/// A folder with a one-line `index.html`, for the shim to serve as its site.
fn site(name: &str) -> std::path::PathBuf {
    let site = std::env::temp_dir().join(format!("llmscope-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("index.html"), "<title>LLMscope</title>").unwrap();
    site
}

#[tokio::test]
async fn the_same_port_serves_the_dashboard_when_asked() {
    let site = site("site");
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
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("plant.toml: line 2") && e.contains("lisen"),
        "{e}"
    );
    let e = parse(
        &format!("[server]\nlisten = \"0.0.0.0:9750\"\n{source}"),
        "plant.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("line 2") && e.contains("server.listen") && e.contains("token is required"),
        "{e}"
    );
    let e = parse(
        &format!("[server]\nbuffer = \"lots\"\n{source}"),
        "plant.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("line 2") && e.contains("buffer"), "{e}");
    assert!(parse(
        &format!("[server]\nlisten = \"0.0.0.0:9750\"\ntoken = \"t\"\n{source}"),
        "plant.toml"
    )
    .is_ok());
    let e = parse("[server]\n", "plant.toml").unwrap_err().to_string();
    assert!(e.contains("no sources"), "{e}");
}

/// Feeds samples `from..to`, toggling a stream stale and live every 10 samples so that status
/// frames interleave with the samples, as they do on a plant with a flaky device.
fn feed_with_statuses(hub: &Hub, from: usize, to: usize) {
    for i in from..to {
        feed(hub, i, i + 1);
        if i % 10 == 9 {
            hub.apply(Event::Status {
                stream: "press1/pressure".into(),
                state: if i % 20 == 9 {
                    StreamState::Stale
                } else {
                    StreamState::Live
                },
                reason: Some("modbus timeout".into()),
            });
        }
    }
}

/// Reads frames until the sample `until` and checks the account: every seq after `after` is
/// either received, in order and once, or counted by a `gap` frame before the next sample.
/// Returns how many samples the gap frames reported.
async fn read_accounted(ws: &mut Client, after: u64, until: u64) -> u64 {
    let (mut next, mut lost) = (after + 1, 0);
    while next <= until {
        let samples = match next_frame(ws).await.expect("the stream continues") {
            ServerFrame::Sample(s) => vec![s],
            ServerFrame::Batch { samples } => samples,
            ServerFrame::Gap { missed } => {
                next += missed;
                lost += missed;
                continue;
            }
            _ => continue,
        };
        for s in samples {
            assert_eq!(
                s.seq, next,
                "seq {} arrived where {next} was due, with no gap frame for the difference",
                s.seq
            );
            next += 1;
        }
    }
    assert_eq!(
        next,
        until + 1,
        "gap frames must count exactly what is missing"
    );
    lost
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_client_is_told_every_loss_and_slows_no_one() {
    let s = shim(1000, Options::default()).await;
    feed(&s.hub, 0, 1);
    let mut slow = connect(s.port, "", &[]).await.unwrap();
    let mut fast = connect(s.port, "", &[]).await.unwrap();
    next_frame(&mut slow).await;
    next_frame(&mut fast).await;
    // The slow client reads nothing while 200,000 samples pass: its socket fills, its live
    // queue overflows and the replay buffer (1000) moves on. The fast client, read after each
    // chunk, must still get every sample, and the feed must never wait for the slow one.
    const CHUNK: usize = 2000;
    for chunk in 0..100 {
        let from = 1 + chunk * CHUNK;
        feed_with_statuses(&s.hub, from, from + CHUNK);
        let lost = read_accounted(&mut fast, from as u64, (from + CHUNK) as u64).await;
        assert_eq!(lost, 0, "the fast client lost samples in chunk {chunk}");
    }
    let last = (1 + 100 * CHUNK) as u64;
    let lost = read_accounted(&mut slow, 1, last).await;
    assert!(
        lost > 0,
        "the slow client must have fallen behind the buffer"
    );
}

#[tokio::test]
async fn a_since_beyond_u64_range_starts_afresh() {
    let s = shim(100, Options::default()).await;
    feed(&s.hub, 0, 50);
    let mut ws = connect(s.port, &format!("?since={}", u64::MAX), &[])
        .await
        .unwrap();
    assert!(matches!(
        next_frame(&mut ws).await,
        Some(ServerFrame::Hello { .. })
    ));
    feed(&s.hub, 50, 60);
    assert_eq!(
        read_accounted(&mut ws, 50, 60).await,
        0,
        "no replay, no gap: only what comes next"
    );
}

/// A GET with the `Host` header given, to see what a page after a DNS rebind would see.
async fn http_get_as(port: u16, path: &str, host: &str, headers: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{headers}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn a_rebound_host_is_refused_everywhere() {
    let site = site("site-host");
    let s = shim(
        10,
        Options {
            site: Some(site.clone()),
            ..Options::default()
        },
    )
    .await;
    feed(&s.hub, 0, 5);
    // After a rebind, evil.example resolves to 127.0.0.1: the browser sends its own name as
    // Host and its own origin as Origin, which match each other.
    let evil = format!("evil.example:{}", s.port);
    let origin = format!("Origin: http://{evil}\r\n");
    for path in ["/status", "/", "/index.html"] {
        let r = http_get_as(s.port, path, &evil, &origin).await;
        assert!(r.starts_with("HTTP/1.1 403"), "{path}: {r}");
        assert!(!r.contains("LLMscope") && !r.contains("press1"), "{r}");
    }
    let ws = connect(
        s.port,
        "",
        &[
            ("host", evil.as_str()),
            ("origin", &format!("http://{evil}")),
        ],
    )
    .await;
    assert!(ws.unwrap_err().contains("403"));
    // Loopback names are the shim's own, with or without the port.
    for host in [
        format!("127.0.0.1:{}", s.port),
        format!("localhost:{}", s.port),
        "localhost".to_string(),
        format!("[::1]:{}", s.port),
    ] {
        let r = http_get_as(s.port, "/status", &host, "").await;
        assert!(r.starts_with("HTTP/1.1 200"), "{host}: {r}");
    }
    let _ = std::fs::remove_dir_all(site);
}

#[tokio::test]
async fn an_auth_frame_over_64_kib_is_refused_unread() {
    let s = shim(
        10,
        Options {
            token: Some("change-me".into()),
            ..Options::default()
        },
    )
    .await;
    // A valid auth frame, padded with JSON whitespace to 100 KiB.
    let padded = format!(
        "{{\"type\":\"auth\",\"token\":\"change-me\"{}}}",
        " ".repeat(100 * 1024)
    );
    let mut ws = connect(s.port, "", &[]).await.unwrap();
    let _ = ws.send(Message::Text(padded.into())).await;
    assert_eq!(next_frame(&mut ws).await, None, "closed, no hello");
}

#[tokio::test]
async fn repeated_wrong_tokens_lock_the_address_out() {
    let s = shim(
        10,
        Options {
            token: Some("change-me".into()),
            ..Options::default()
        },
    )
    .await;
    for attempt in 1..=5 {
        let e = connect(s.port, "?token=guess", &[]).await.unwrap_err();
        assert!(e.contains("401"), "attempt {attempt}: {e}");
    }
    // Even the right token is refused during the lockout, so guessing gains nothing.
    let e = connect(s.port, "?token=change-me", &[]).await.unwrap_err();
    assert!(e.contains("429"), "{e}");
    let r = http_get(s.port, "/status", "Authorization: Bearer change-me\r\n").await;
    assert!(
        r.starts_with("HTTP/1.1 429") && r.to_ascii_lowercase().contains("retry-after"),
        "{r}"
    );
}

#[tokio::test]
async fn connections_beyond_the_cap_are_refused_until_one_leaves() {
    let s = shim(
        10,
        Options {
            token: Some("change-me".into()),
            max_connections: 2,
            ..Options::default()
        },
    )
    .await;
    // Two clients that have not authenticated yet hold both places.
    let first = connect(s.port, "", &[]).await.unwrap();
    let _second = connect(s.port, "", &[]).await.unwrap();
    let e = connect(s.port, "", &[]).await.unwrap_err();
    assert!(e.contains("503"), "{e}");
    drop(first);
    // The server notices the closed socket on its own time; retry until it has.
    let mut attempts = 0;
    let mut ws = loop {
        match connect(s.port, "", &[]).await {
            Ok(ws) => break ws,
            Err(e) => {
                assert!(e.contains("503") && attempts < 200, "{e}");
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    ws.send(Message::Text(
        r#"{"type":"auth","token":"change-me"}"#.into(),
    ))
    .await
    .unwrap();
    assert!(matches!(
        next_frame(&mut ws).await,
        Some(ServerFrame::Hello { .. })
    ));
}

#[tokio::test]
async fn listed_hosts_and_the_listen_address_are_accepted() {
    let s = shim(
        10,
        Options {
            hosts: vec!["plant-pc.local".into(), "192.0.2.10".into()],
            ..Options::default()
        },
    )
    .await;
    for host in ["plant-pc.local:9750", "PLANT-PC.local", "192.0.2.10:9750"] {
        let r = http_get_as(s.port, "/status", host, "").await;
        assert!(r.starts_with("HTTP/1.1 200"), "{host}: {r}");
    }
    let r = http_get_as(s.port, "/health", "other.local", "").await;
    assert!(r.starts_with("HTTP/1.1 403"), "{r}");
}

#[test]
fn server_limits_and_hosts_are_checked_in_the_config() {
    use llmscope_shim::config::parse;
    let source = "\n[[mqtt]]\nname = \"m\"\nbroker = \"mqtt://127.0.0.1:1883\"\n[[mqtt.subscribe]]\ntopic = \"a/b\"\nstream = \"a/b\"\n";
    let e = parse(
        &format!("[server]\nallowed_hosts = [\"plant-pc\",\n  \"http://plant-pc\"]\n{source}"),
        "plant.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("plant.toml: line 3")
            && e.contains("server.allowed_hosts[1]")
            && e.contains("without scheme"),
        "{e}"
    );
    let e = parse(
        &format!("[server]\nmax_connections = 0\n{source}"),
        "plant.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("line 2") && e.contains("server.max_connections"),
        "{e}"
    );
    let c = parse(
        &format!("[server]\nlisten = \"0.0.0.0:9750\"\ntoken = \"t\"\nallowed_hosts = [\"plant-pc\"]\n{source}"),
        "plant.toml",
    )
    .unwrap();
    assert_eq!(
        c.server.hosts(),
        vec!["plant-pc".to_string()],
        "0.0.0.0 is no name"
    );
    let c = parse(
        &format!("[server]\nlisten = \"[::1]:9750\"\n{source}"),
        "plant.toml",
    )
    .unwrap();
    assert_eq!(c.server.hosts(), vec!["[::1]".to_string()]);
    assert_eq!(c.server.max_connections, 64);
}
