//! The user's session in the browser (issue 10): streams of two sources stay apart, a saved
//! session the app cannot read is kept and never written over, retention drops the oldest
//! points of a live stream with a note, and a token typed into a WebSocket URL is never kept.
//! Read back from IndexedDB as the app stored it.

use fantoccini::Client;
use llmscope_e2e::{
    click, console_errors, js, plant_session, saved_session, wait_for, Session, DEADLINE,
};
use serde_json::Value;
use std::time::Duration;

/// Waits until `check` holds on the saved current session, and returns it.
async fn saved_when(client: &Client, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(45);
    loop {
        let saved = saved_session(client, "current").await;
        if check(&saved["session"]) {
            return saved;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: the saved session is {:.2000}",
            saved.to_string()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn streams(session: &Value) -> Vec<Value> {
    session["streams"].as_array().cloned().unwrap_or_default()
}

fn is_live(stream: &Value) -> bool {
    stream["origin"].get("Live").is_some()
}

/// Issue 10: with `?live=1` and the simulators on, the shim's `press1/barrel_temperature` and
/// the simulator's were one series of mixed samples.
#[tokio::test]
async fn with_live_data_and_simulators_every_stream_has_one_source() {
    let session = Session::open().await;
    let client = &session.client;
    client
        .goto(&session.url("?live=1&tick=100"))
        .await
        .expect("open with live data");
    let sims = wait_for(client, "[data-testid=simulators]", DEADLINE).await;
    if sims.attr("aria-pressed").await.ok().flatten().as_deref() != Some("true") {
        sims.click().await.expect("run the simulators");
    }
    let both = |s: &Value| {
        let named: Vec<Value> = streams(s)
            .into_iter()
            .filter(|x| {
                x["id"]
                    .as_str()
                    .is_some_and(|id| id.starts_with("press1/barrel_temperature"))
            })
            .collect();
        named.len() == 2
            && named
                .iter()
                .all(|x| x["samples"].as_array().is_some_and(|a| a.len() >= 20))
    };
    let saved = saved_when(client, "a simulated and a live barrel temperature", both).await;
    for stream in streams(&saved["session"]) {
        let (samples, seqs) = (
            stream["samples"].as_array().map_or(0, Vec::len),
            stream["seqs"].as_array().map_or(0, Vec::len),
        );
        if is_live(&stream) {
            assert_eq!(
                seqs, samples,
                "{}: every live sample has its seq",
                stream["id"]
            );
        } else {
            assert_eq!(
                seqs, 0,
                "{}: a simulator's stream holds no live sample",
                stream["id"]
            );
        }
    }
    // The clash is visible: the second one's name says where it comes from, and so do cards.
    let ids: Vec<String> = streams(&saved["session"])
        .iter()
        .filter_map(|s| s["id"].as_str().map(String::from))
        .filter(|id| id.starts_with("press1/barrel_temperature"))
        .collect();
    assert!(
        ids.iter()
            .any(|id| id.ends_with(&format!("(live 127.0.0.1:{})", session.site.port)))
            || ids.iter().any(|id| id.ends_with("(simulator)")),
        "a clashing name gets a visible suffix: {ids:?}"
    );
    let sources = js(
        client,
        "return [...document.querySelectorAll('[data-testid=stream-source]')].map(e => e.textContent)",
    )
    .await;
    let sources: Vec<String> = serde_json::from_value(sources).expect("texts");
    assert!(sources.iter().any(|s| s == "simulator"), "{sources:?}");
    assert!(
        sources.iter().any(|s| s.starts_with("live 127.0.0.1:")),
        "{sources:?}"
    );
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}

/// Issue 10: a saved session the app could not read was replaced by the first autosave.
#[tokio::test]
async fn an_unreadable_session_is_kept_shown_and_never_written_over() {
    let session = Session::open().await;
    let client = &session.client;
    // The first page saves once; after that, with nothing changing, it writes no more.
    llmscope_e2e::pause_simulators(client).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    // A session whose sample has no value (what `NaN` became in JSON): the app cannot read it.
    let unreadable = r#"{"streams":[{"id":"mine/temperature","unit":"°C","origin":"Simulator","samples":[{"t":1,"value":null}],"settings":{"chart":{}},"stale":null}]}"#;
    plant_session(client, "current", unreadable).await;
    // The generation before it reads: the banner offers it back.
    plant_session(client, "previous", &llmscope_e2e::bench_session_json(50)).await;
    client.goto(&session.site.url).await.expect("reload");
    let banner = wait_for(client, "[data-testid=kept-banner]", DEADLINE).await;
    let text = banner.text().await.unwrap_or_default();
    assert!(
        text.contains("Your saved session could not be read; it is kept."),
        "{text}"
    );
    // Two autosave periods later, nothing was written over it.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let current = saved_session(client, "current").await;
    assert_eq!(
        current["raw"], unreadable,
        "the unreadable session is still there"
    );
    // "Export it" gives the stored text as it is.
    click(
        client,
        fantoccini::Locator::Css("[data-testid=kept-export]"),
    )
    .await;
    let file =
        llmscope_e2e::downloaded(&session.downloads, "llmscope-unreadable-session.json").await;
    assert_eq!(
        std::fs::read_to_string(file).expect("the export"),
        unreadable
    );
    // Restoring the previous save brings its stream back, keeps the unreadable one aside, and
    // saving resumes.
    click(
        client,
        fantoccini::Locator::Css("[data-testid=kept-previous]"),
    )
    .await;
    wait_for(client, "[data-testid=stream-card]", DEADLINE).await;
    assert_eq!(
        llmscope_e2e::count(client, "[data-testid=kept-banner]").await,
        0,
        "the banner goes once the user chose"
    );
    let saved = saved_when(client, "the restored session saved", |s| {
        streams(s).iter().any(|x| x["id"] == "bench/latency")
    })
    .await;
    assert_eq!(
        streams(&saved["session"])[0]["samples"]
            .as_array()
            .map(Vec::len),
        Some(50)
    );
    let kept = saved_session(client, "kept").await;
    assert_eq!(
        kept["raw"], unreadable,
        "the unreadable session is kept aside"
    );
    session.close().await;
}

/// Issue 10: live streams grew without limit. `?keep=` sets the limit; the oldest points go,
/// the card says so, and the saved session reads back after the drop.
#[tokio::test]
async fn a_live_stream_keeps_its_newest_points_and_says_it_dropped_the_oldest() {
    let session = Session::open().await;
    let client = &session.client;
    llmscope_e2e::pause_simulators(client).await;
    client
        .goto(&session.url("?live=1&keep=40"))
        .await
        .expect("open with live data");
    llmscope_e2e::pause_simulators(client).await;
    let note = wait_for(
        client,
        "[data-testid=stream-dropped]",
        Duration::from_secs(45),
    )
    .await;
    let text = note.text().await.unwrap_or_default();
    assert!(
        text.starts_with("oldest ") && text.contains("points dropped"),
        "{text}"
    );
    let saved = saved_when(client, "live streams at their limit", |s| {
        let dropped = s["dropped"].as_object().map_or(0, |d| d.len());
        dropped > 0
    })
    .await;
    for stream in streams(&saved["session"]).iter().filter(|s| is_live(s)) {
        let n = stream["samples"].as_array().map_or(0, Vec::len);
        assert!(
            n <= 40,
            "{}: {n} points kept, the limit is 40",
            stream["id"]
        );
        assert_eq!(stream["seqs"].as_array().map_or(0, Vec::len), n);
    }
    // After a reload the trimmed streams read back (their stored chunks start mid-way).
    client.refresh().await.expect("reload");
    wait_for(client, "[data-testid=stream-card]", DEADLINE).await;
    assert_eq!(
        llmscope_e2e::count(client, "[data-testid=kept-banner]").await,
        0
    );
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}

/// Issue 10: a token typed into the WebSocket URL was saved with the session.
#[tokio::test]
async fn a_token_in_the_websocket_url_is_never_stored() {
    const SECRET: &str = "s3cret-in-the-url";
    let session = Session::open().await;
    let client = &session.client;
    llmscope_e2e::pause_simulators(client).await;
    let url = format!("ws://127.0.0.1:{}/ws?token={SECRET}", session.site.port);
    llmscope_e2e::connect_live(client, &url).await;
    let saved = saved_when(client, "live streams saved", |s| {
        streams(s)
            .iter()
            .any(|x| is_live(x) && x["samples"].as_array().is_some_and(|a| !a.is_empty()))
    })
    .await;
    assert!(!saved["raw"].as_str().unwrap_or_default().contains(SECRET));
    let origin = streams(&saved["session"])
        .into_iter()
        .find(is_live)
        .map(|s| s["origin"]["Live"]["url"].clone());
    assert_eq!(
        origin,
        Some(Value::from(format!(
            "ws://127.0.0.1:{}/ws",
            session.site.port
        )))
    );
    let status = wait_for(client, "[data-testid=live-status]", DEADLINE)
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(!status.contains(SECRET), "{status}");
    click(
        client,
        fantoccini::Locator::Css("[data-testid=export-json]"),
    )
    .await;
    let file = llmscope_e2e::downloaded(&session.downloads, "llmscope-session.json").await;
    let export = std::fs::read_to_string(file).expect("the export");
    assert!(!export.contains(SECRET), "the export holds the token");
    session.close().await;
}

/// Issue 10: `?live=wss://elsewhere` in a link connected and saved streams without asking.
#[tokio::test]
async fn a_link_to_another_servers_stream_asks_before_connecting() {
    use futures_util::SinkExt;
    use std::sync::atomic::Ordering;
    let (port, connections) = llmscope_e2e::ws_server(|mut ws| async move {
        for f in [
            r#"{"type":"hello","server":"elsewhere/1","streams":[{"id":"elsewhere/x","unit":"mm"}]}"#,
            r#"{"type":"sample","stream":"elsewhere/x","seq":1,"t":1764201600000,"value":1.5}"#,
        ] {
            let _ = ws
                .send(tokio_tungstenite::tungstenite::Message::Text(f.into()))
                .await;
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
    })
    .await;
    let session = Session::open().await;
    let client = &session.client;
    client
        .goto(&session.url(&format!("?live=ws://127.0.0.1:{port}/ws%3Ftoken%3Dx")))
        .await
        .expect("open the link");
    let ask = wait_for(client, "[data-testid=ask-live]", DEADLINE).await;
    let text = ask.text().await.unwrap_or_default();
    assert!(
        text.contains(&format!("ws://127.0.0.1:{port}/ws")),
        "{text}"
    );
    assert!(
        !text.contains("token"),
        "the question shows no token: {text}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "nothing connects before the user agrees"
    );
    click(
        client,
        fantoccini::Locator::Css("[data-testid=ask-live-connect]"),
    )
    .await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !llmscope_e2e::stream_names(client)
        .await
        .as_array()
        .is_some_and(|n| n.iter().any(|x| x == "elsewhere/x"))
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no stream from the other server"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(connections.load(Ordering::SeqCst) >= 1);
    session.close().await;
}

/// Issue 10: editing `#stream=` or pressing Back left the view as it was.
#[tokio::test]
async fn the_view_follows_the_url_fragment_and_back() {
    let session = Session::open().await;
    let client = &session.client;
    let heading = || async {
        js(client, "const h = document.querySelector('section.stream h2'); return h ? h.textContent : null").await
    };
    let until = |want: Value| async move {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let now = heading().await;
            if now == want {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the view shows {now}, not {want}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    client
        .goto(&session.url("#stream=press1%2Fcycle_time"))
        .await
        .expect("open a stream");
    until(Value::from("press1/cycle_time")).await;
    js(
        client,
        "location.hash = '#stream=' + encodeURIComponent('cnc1/spindle_vibration'); return true",
    )
    .await;
    until(Value::from("cnc1/spindle_vibration")).await;
    client.back().await.expect("Back");
    until(Value::from("press1/cycle_time")).await;
    client.forward().await.expect("Forward");
    until(Value::from("cnc1/spindle_vibration")).await;
    js(client, "location.hash = ''; return true").await;
    until(Value::Null).await;
    session.close().await;
}

/// Issue 10: probe polling started over at `since=0` on each start and ran twice after a
/// double click, adding every result again. Against a Worker stand-in that answers all its
/// results to every poll (as an inclusive or ignored `since` would).
#[tokio::test]
async fn a_double_click_on_poll_adds_each_probe_result_once() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = tcp.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]).to_string();
                let body = if request.starts_with("GET /targets") {
                    r#"[{"name":"m"}]"#.to_string()
                } else if request.starts_with("GET /results") {
                    let items: Vec<String> = (0..12u64)
                        .map(|i| format!(r#"{{"target":"m","t":{},"ok":{},"ttft_ms":300,"total_ms":900,"tokens_per_s":70,"error":null}}"#, 1_764_201_600_000u64 + i * 60_000, i != 5))
                        .collect();
                    format!("[{}]", items.join(","))
                } else {
                    String::new()
                };
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Allow-Headers: authorization\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tcp.write_all(response.as_bytes()).await;
            });
        }
    });
    let session = Session::open().await;
    let client = &session.client;
    llmscope_e2e::pause_simulators(client).await;
    js(
        client,
        &format!(
            "const e = document.querySelector('[data-testid=probe-url]'); e.value = 'http://127.0.0.1:{port}'; \
             e.dispatchEvent(new Event('input', {{bubbles: true}})); return true;"
        ),
    )
    .await;
    let poll = wait_for(client, "[data-testid=probe-connect]", DEADLINE).await;
    poll.click().await.expect("poll");
    poll.click().await.expect("poll again");
    // Two polls at least (every 10 s), then the count of outcomes.
    tokio::time::sleep(Duration::from_secs(14)).await;
    let saved = saved_when(client, "the probe streams saved", |s| {
        streams(s).iter().any(|x| x["id"] == "m/error_rate")
    })
    .await;
    let outcomes = streams(&saved["session"])
        .into_iter()
        .find(|x| x["id"] == "m/error_rate")
        .and_then(|x| x["samples"].as_array().map(Vec::len));
    assert_eq!(outcomes, Some(12), "each of the 12 probes once");
    let ttft = streams(&saved["session"])
        .into_iter()
        .find(|x| x["id"] == "m/ttft_ms")
        .and_then(|x| x["samples"].as_array().map(Vec::len));
    assert_eq!(ttft, Some(11), "11 successes once each");
    assert_eq!(
        saved["session"]["telemetry"]["probe_results"]
            .as_array()
            .map(Vec::len),
        Some(12)
    );
    session.close().await;
}
