//! The OPC-UA source against a real OPC-UA server (asyncua, tests/peers/opcua_server.py): data
//! changes become readings, non-numbers and bad status codes are reported without stopping the
//! other nodes, a server restart is survived, and config mistakes name their line and key.

mod support;

use llmscope_protocol::StreamState;
use llmscope_shim::source::{Emitter, Event, Source, SourceConfig};
use std::process::Command;
use std::time::Duration;
use support::{events_until, free_port, peer_script, python, wait_for_port, Peer};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const DEADLINE: Duration = Duration::from_secs(30);

fn start_server(port: u16) -> Peer {
    start_server_with(port, &[])
}

fn start_server_with(port: u16, args: &[&str]) -> Peer {
    Peer::start(
        Command::new(python())
            .arg(peer_script("opcua_server.py"))
            .arg("--port")
            .arg(port.to_string())
            .args(args),
    )
}

/// A complete config file with one [[opcua]] section reading `nodes` (pairs of node id and
/// stream) from 127.0.0.1:`port`, with `extra` lines in the section.
fn config_text(port: u16, extra: &str, nodes: &[(&str, &str)]) -> String {
    let mut text = format!(
        "[[opcua]]\nname = \"oven\"\nendpoint = \"opc.tcp://127.0.0.1:{port}/\"\n\
         publishing_interval_ms = 200\nsampling_interval_ms = 100\n{extra}\n"
    );
    for (node_id, stream) in nodes {
        text.push_str(&format!(
            "\n[[opcua.node]]\nnode_id = \"{node_id}\"\nstream = \"{stream}\"\nunit = \"mm\"\n"
        ));
    }
    text
}

fn source(port: u16, nodes: &[(&str, &str)]) -> Box<dyn Source> {
    source_with(port, "", nodes)
}

fn source_with(port: u16, extra: &str, nodes: &[(&str, &str)]) -> Box<dyn Source> {
    let config = llmscope_shim::config::parse(&config_text(port, extra, nodes), "plant.toml")
        .unwrap_or_else(|e| panic!("{e}"));
    config
        .opcua
        .into_iter()
        .next()
        .expect("an [[opcua]] section")
        .build()
}

/// A running source and the way to stop it.
struct Running {
    rx: mpsc::Receiver<Event>,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

fn run(source: Box<dyn Source>) -> Running {
    let (emit, rx) = Emitter::channel(100_000);
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(source.run(emit, shutdown.clone()));
    Running { rx, shutdown, task }
}

impl Running {
    /// Cancels the source and checks it returns (the deadline is generous; it should take ~1 s).
    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the source returns after shutdown")
            .expect("the source does not panic");
    }
}

fn readings<'a>(events: &'a [Event], name: &'a str) -> impl Iterator<Item = (i64, f64)> + 'a {
    events.iter().filter_map(move |e| match e {
        Event::Reading { stream, t, value } if stream == name => Some((*t, *value)),
        _ => None,
    })
}

fn position(events: &[Event], f: impl FnMut(&Event) -> bool) -> Option<usize> {
    events.iter().position(f)
}

fn is_status(e: &Event, name: &str, want: StreamState) -> bool {
    matches!(e, Event::Status { stream, state, .. } if stream == name && *state == want)
}

const DIAMETER: (&str, &str) = ("ns=2;s=Line1.Diameter", "oven/diameter");
const COUNT: (&str, &str) = ("ns=2;s=Line1.Count", "oven/count");
const LABEL: (&str, &str) = ("ns=2;s=Line1.Label", "oven/label");
const SENSOR: (&str, &str) = ("ns=2;s=Line1.Sensor", "oven/sensor");

/// Diameter = 10.0 + 0.001 k and Count = k: both arrive, live first, rising, on the pattern.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_delivers_numeric_changes() {
    let port = free_port();
    let _server = start_server(port);
    wait_for_port(port, DEADLINE).await;
    let source = source(port, &[DIAMETER, COUNT]);
    assert_eq!(source.name(), "oven");
    let streams = source.streams();
    assert_eq!(
        streams.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["oven/diameter", "oven/count"]
    );
    assert!(streams.iter().all(|s| s.unit.as_deref() == Some("mm")));

    let mut running = run(source);
    let events = events_until(&mut running.rx, DEADLINE, |seen| {
        readings(seen, "oven/diameter").count() >= 6 && readings(seen, "oven/count").count() >= 6
    })
    .await;

    for stream in ["oven/diameter", "oven/count"] {
        let live = position(&events, |e| is_status(e, stream, StreamState::Live));
        let first = position(
            &events,
            |e| matches!(e, Event::Reading { stream: s, .. } if s == stream),
        );
        assert!(
            live.is_some() && live < first,
            "{stream} goes live before its first reading: {events:?}"
        );
    }
    assert!(
        !events.iter().any(|e| matches!(
            e,
            Event::Malformed { .. }
                | Event::Status {
                    state: StreamState::Stale,
                    ..
                }
        )),
        "{events:?}"
    );

    let now = llmscope_shim::source::now_ms();
    let diameters: Vec<(i64, f64)> = readings(&events, "oven/diameter").collect();
    let mut last = f64::NEG_INFINITY;
    for &(t, v) in &diameters {
        let k = ((v - 10.0) / 0.001).round();
        assert!(
            k >= 0.0 && (v - (10.0 + 0.001 * k)).abs() < 1e-9,
            "{v} is not 10 + 0.001 k: {diameters:?}"
        );
        assert!(v > last, "diameters rise: {diameters:?}");
        assert!(
            (t - now).abs() < 120_000,
            "t {t} is the server's clock, near now {now}"
        );
        last = v;
    }
    let counts: Vec<f64> = readings(&events, "oven/count").map(|(_, v)| v).collect();
    assert!(
        counts.iter().all(|v| v.fract() == 0.0 && *v >= 0.0),
        "{counts:?}"
    );
    assert!(
        counts.windows(2).all(|w| w[0] < w[1]),
        "counts rise: {counts:?}"
    );

    running.stop().await;
}

/// A String node is malformed every time, a bad status is malformed and stale until the next
/// good value, and the Double node keeps flowing throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_numbers_and_bad_status_are_reported_without_stopping_the_rest() {
    let port = free_port();
    let _server = start_server(port);
    wait_for_port(port, DEADLINE).await;
    let mut running = run(source(port, &[DIAMETER, LABEL, SENSOR]));

    let label_malformed = |e: &Event| {
        matches!(e, Event::Malformed { source, detail }
            if source == "oven" && detail.contains("oven/label") && detail.contains("not a number"))
    };
    let sensor_stale = |e: &Event| {
        matches!(e, Event::Status { stream, state: StreamState::Stale, reason: Some(r) }
            if stream == "oven/sensor" && r.contains("BadSensorFailure"))
    };
    let events = events_until(&mut running.rx, DEADLINE, |seen| {
        let Some(malformed) = position(seen, label_malformed) else {
            return false;
        };
        let Some(stale) = position(seen, sensor_stale) else {
            return false;
        };
        let diameter_after = seen[malformed..]
            .iter()
            .any(|e| matches!(e, Event::Reading { stream, .. } if stream == "oven/diameter"));
        let live_again = seen[stale..]
            .iter()
            .position(|e| is_status(e, "oven/sensor", StreamState::Live));
        let reading_after = live_again.is_some_and(|l| {
            seen[stale + l..]
                .iter()
                .any(|e| matches!(e, Event::Reading { stream, .. } if stream == "oven/sensor"))
        });
        diameter_after && reading_after
    })
    .await;

    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Malformed { detail, .. }
            if detail.contains("oven/sensor") && detail.contains("BadSensorFailure"))),
        "a bad status is reported as malformed: {events:?}"
    );
    assert!(
        readings(&events, "oven/label").next().is_none(),
        "{events:?}"
    );
    assert!(
        !events.iter().any(|e| matches!(e, Event::Status { stream, state: StreamState::Stale, .. } if stream == "oven/diameter")),
        "{events:?}"
    );
    running.stop().await;
}

/// Killing the server makes the streams stale with a reason; starting it again on the same port
/// brings them back live, with readings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restart_goes_stale_then_live_again() {
    let port = free_port();
    let mut server = start_server(port);
    wait_for_port(port, DEADLINE).await;
    let mut running = run(source(port, &[DIAMETER, COUNT]));

    events_until(&mut running.rx, DEADLINE, |seen| {
        readings(seen, "oven/diameter").count() >= 2
    })
    .await;
    server.stop();

    let events = events_until(&mut running.rx, DEADLINE, |seen| {
        seen.iter()
            .any(|e| is_status(e, "oven/diameter", StreamState::Stale))
            && seen
                .iter()
                .any(|e| is_status(e, "oven/count", StreamState::Stale))
    })
    .await;
    for e in &events {
        if let Event::Status {
            state: StreamState::Stale,
            reason,
            ..
        } = e
        {
            assert!(
                reason.as_deref().is_some_and(|r| r.starts_with("opcua")),
                "stale with a reason: {e:?}"
            );
        }
    }

    let _server = start_server(port);
    let events = events_until(&mut running.rx, DEADLINE, |seen| {
        ["oven/diameter", "oven/count"].iter().all(|stream| {
            position(seen, |e| is_status(e, stream, StreamState::Live)).is_some_and(|live| {
                seen[live..]
                    .iter()
                    .any(|e| matches!(e, Event::Reading { stream: s, .. } if s == stream))
            })
        })
    })
    .await;
    assert!(
        !events.iter().any(|e| matches!(e, Event::Malformed { .. })),
        "{events:?}"
    );
    running.stop().await;
}

/// Shutdown while the server is unreachable still returns promptly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_is_stale_and_shutdown_returns() {
    let port = free_port();
    let mut running = run(source(port, &[DIAMETER]));
    let events = events_until(&mut running.rx, DEADLINE, |seen| {
        seen.iter()
            .any(|e| is_status(e, "oven/diameter", StreamState::Stale))
    })
    .await;
    assert!(
        matches!(&events[..], [Event::Status { reason: Some(r), .. }] if r.contains(&format!("127.0.0.1:{port}"))),
        "{events:?}"
    );
    running.stop().await;
}

/// User-name login: the right password reads data; a wrong one, or anonymous access to a server
/// that wants a user, leaves the streams stale with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_name_login() {
    let port = free_port();
    let _server = start_server_with(port, &["--user", "operator:s3cret"]);
    wait_for_port(port, DEADLINE).await;

    let mut good = run(source_with(
        port,
        "username = \"operator\"\npassword = \"s3cret\"",
        &[DIAMETER],
    ));
    events_until(&mut good.rx, DEADLINE, |seen| {
        readings(seen, "oven/diameter").count() >= 2
    })
    .await;
    good.stop().await;

    let stale_reason = |events: &[Event]| {
        events.iter().find_map(|e| match e {
            Event::Status {
                state: StreamState::Stale,
                reason,
                ..
            } => reason.clone(),
            _ => None,
        })
    };
    let mut wrong = run(source_with(
        port,
        "username = \"operator\"\npassword = \"guess\"",
        &[DIAMETER],
    ));
    let events = events_until(&mut wrong.rx, DEADLINE, |seen| stale_reason(seen).is_some()).await;
    assert!(
        readings(&events, "oven/diameter").next().is_none(),
        "{events:?}"
    );
    let reason = stale_reason(&events).unwrap_or_default();
    assert!(reason.starts_with("opcua"), "{reason}");
    wrong.stop().await;

    let mut anonymous = run(source(port, &[DIAMETER]));
    let events = events_until(&mut anonymous.rx, DEADLINE, |seen| {
        stale_reason(seen).is_some()
    })
    .await;
    let reason = stale_reason(&events).unwrap_or_default();
    assert!(
        reason.contains("anonymous login") && reason.contains("UserName"),
        "{reason}"
    );
    anonymous.stop().await;
}

/// Basic256Sha256 with SignAndEncrypt: the client makes its key pair in `pki_dir`, trusts the
/// server's self-signed certificate on first contact, and reads data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic256sha256_sign_and_encrypt() {
    let port = free_port();
    let dir =
        std::env::temp_dir().join(format!("llmscope-opcua-test-{}-{port}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server_dir = dir.join("server");
    let _server = start_server_with(port, &["--secure", &server_dir.display().to_string()]);
    wait_for_port(port, DEADLINE).await;

    let extra = format!(
        "security_policy = \"Basic256Sha256\"\npki_dir = \"{}\"\ntrust_server_certs = true",
        dir.join("client").display()
    );
    let mut running = run(source_with(port, &extra, &[DIAMETER]));
    let events = events_until(&mut running.rx, DEADLINE, |seen| {
        readings(seen, "oven/diameter").count() >= 2
    })
    .await;
    assert!(
        !events.iter().any(|e| matches!(e, Event::Malformed { .. })),
        "{events:?}"
    );
    running.stop().await;
    assert!(
        dir.join("client/own/cert.der").is_file(),
        "the client certificate is in pki_dir"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const GOOD: &str = r#"[server]
listen = "127.0.0.1:9750"

[[opcua]]
name = "oven"
endpoint = "opc.tcp://127.0.0.1:4840/"

[[opcua.node]]
node_id = "ns=2;s=Line1.Diameter"
stream = "oven/diameter"

[[opcua.node]]
node_id = "ns=2;i=1001"
stream = "oven/count"
"#;

/// `GOOD` with `from` replaced by `to` (which must occur once), parsed.
fn parse_changed(from: &str, to: &str) -> Result<llmscope_shim::config::Config, String> {
    assert_eq!(GOOD.matches(from).count(), 1, "{from}");
    llmscope_shim::config::parse(&GOOD.replacen(from, to, 1), "plant.toml")
        .map_err(|e| e.to_string())
}

fn assert_error(from: &str, to: &str, line: usize, key: &str) {
    let err = parse_changed(from, to).expect_err(to);
    assert!(err.starts_with("plant.toml:"), "{err}");
    assert!(
        err.contains(&format!("line {line}:")),
        "line {line} in: {err}"
    );
    assert!(err.contains(key), "{key} in: {err}");
}

#[test]
fn config_errors_name_line_and_key() {
    let good = llmscope_shim::config::parse(GOOD, "plant.toml").expect("the good config parses");
    assert_eq!(good.opcua.len(), 1);
    assert_eq!(good.opcua[0].nodes.len(), 2);

    // Unknown keys, in the section and in a node (serde).
    assert_error(
        "name = \"oven\"",
        "name = \"oven\"\ncolour = \"red\"",
        6,
        "colour",
    );
    assert_error(
        "stream = \"oven/count\"",
        "stream = \"oven/count\"\nscale = 2",
        15,
        "scale",
    );
    // Node id syntax.
    assert_error("ns=2;i=1001", "ns=2;x=1001", 13, "opcua[0].node[1].node_id");
    assert_error(
        "ns=2;s=Line1.Diameter",
        "Line1.Diameter",
        9,
        "opcua[0].node[0].node_id",
    );
    // Endpoints.
    assert_error(
        "opc.tcp://127.0.0.1:4840/",
        "http://127.0.0.1:4840/",
        6,
        "opcua[0].endpoint",
    );
    assert_error(
        "opc.tcp://127.0.0.1:4840/",
        "opc.tcp://127.0.0.1/",
        6,
        "opcua[0].endpoint",
    );
    // Streams are unique.
    assert_error(
        "stream = \"oven/count\"",
        "stream = \"oven/diameter\"",
        14,
        "opcua[0].node[1].stream",
    );
    // Security values and combinations.
    let endpoint = "endpoint = \"opc.tcp://127.0.0.1:4840/\"";
    assert_error(
        endpoint,
        &format!("{endpoint}\nsecurity_policy = \"Basic128\""),
        7,
        "Basic128",
    );
    assert_error(
        endpoint,
        &format!("{endpoint}\nsecurity_mode = \"Sign\""),
        7,
        "opcua[0].security_mode",
    );
    assert_error(
        endpoint,
        &format!("{endpoint}\nsecurity_policy = \"Basic256Sha256\"\nsecurity_mode = \"None\""),
        8,
        "opcua[0].security_mode",
    );
    assert!(parse_changed(
        endpoint,
        &format!("{endpoint}\nsecurity_policy = \"Basic256Sha256\"")
    )
    .is_ok());
    // User name and password go together.
    assert_error(
        endpoint,
        &format!("{endpoint}\nusername = \"op\""),
        7,
        "opcua[0].username",
    );
    assert_error(
        endpoint,
        &format!("{endpoint}\npassword = \"pw\""),
        7,
        "opcua[0].password",
    );
    assert!(parse_changed(
        endpoint,
        &format!("{endpoint}\nusername = \"op\"\npassword = \"pw\"")
    )
    .is_ok());
    // Intervals.
    assert_error(
        endpoint,
        &format!("{endpoint}\npublishing_interval_ms = 0"),
        7,
        "opcua[0].publishing_interval_ms",
    );
    assert_error(
        endpoint,
        &format!("{endpoint}\nsampling_interval_ms = 5000"),
        7,
        "opcua[0].sampling_interval_ms",
    );
}

/// The documented sample config is a valid config.
#[test]
fn sample_config_parses() {
    let text = include_str!("../src/source/opcua/sample.toml");
    let config = llmscope_shim::config::parse(text, "src/source/opcua/sample.toml")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.opcua.len(), 1);
    assert_eq!(config.opcua[0].nodes.len(), 2);
}
