//! The Modbus source against a real Modbus server (pymodbus, tests/peers/modbus_server.py) over
//! Modbus TCP and over Modbus RTU through a socat pair of virtual serial ports: every type and
//! byte order, exceptions, a server that goes away and comes back, and config mistakes.
//!
//! The server encodes its values with Python's struct.pack, independently of the Rust decoder,
//! and prints where it put them (`--print-layout`); the tests build their configs from that.

mod support;

use llmscope_protocol::StreamState;
use llmscope_shim::source::modbus;
use llmscope_shim::source::{Emitter, Event, SourceConfig};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::{events_until, free_port, peer_script, python, wait_for_port, Peer};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long any one wait may take; generous for a loaded machine, never reached when it works.
const WAIT: Duration = Duration::from_secs(15);
/// The unit id the server answers as (not the default 1, so that the id is really sent).
const UNIT: u8 = 7;

/// One value the server holds.
#[derive(Clone, Debug)]
struct Entry {
    stream: String,
    kind: String,
    address: u64,
    data_type: String,
    order: Option<String>,
    value: f64,
}

/// Where the server puts its values, as it says itself.
fn layout() -> Vec<Entry> {
    let out = Command::new(python())
        .arg(peer_script("modbus_server.py"))
        .arg("--print-layout")
        .output()
        .expect("the peer's Python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entries: Vec<Value> = serde_json::from_slice(&out.stdout).expect("the layout is JSON");
    entries
        .iter()
        .map(|e| Entry {
            stream: e["stream"].as_str().unwrap().to_string(),
            kind: e["kind"].as_str().unwrap().to_string(),
            address: e["address"].as_u64().unwrap(),
            data_type: e["type"].as_str().unwrap().to_string(),
            order: e["order"].as_str().map(str::to_string),
            value: e["value"].as_f64().unwrap(),
        })
        .collect()
}

/// A `[[modbus.register]]` table for `entry` (as `[[register]]` within a section's own text).
fn register(entry: &Entry, extra: &str) -> String {
    let mut text = format!(
        "\n[[register]]\nstream = {:?}\nkind = {:?}\naddress = {}\ntype = {:?}\n",
        entry.stream, entry.kind, entry.address, entry.data_type
    );
    if let Some(order) = &entry.order {
        text += &format!("order = {order:?}\n");
    }
    text + extra
}

/// A section for the device at `target` (the `address = ...` or `serial = ...` lines).
fn section(target: &str, settings: &str, entries: &[Entry]) -> modbus::Config {
    let mut text = format!("name = \"peer\"\n{target}\nunit = {UNIT}\n{settings}\n");
    for e in entries {
        text += &register(e, "");
    }
    toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Extra streams over the same registers with a scale and an offset, and the values expected.
fn scaled_extras(entries: &[Entry]) -> (String, Vec<(String, f64)>) {
    let u16_reg = entries.iter().find(|e| e.stream == "h/u16").unwrap();
    let f32_reg = entries.iter().find(|e| e.stream == "i/f32").unwrap();
    let a = Entry {
        stream: "scaled/u16".into(),
        ..u16_reg.clone()
    };
    let b = Entry {
        stream: "scaled/f32".into(),
        ..f32_reg.clone()
    };
    let text = register(
        &a,
        "scale = 0.5\noffset = -100.0\nunit = \"bar\"\nlsl = 0\nusl = 30000\n",
    ) + &register(&b, "scale = 2\noffset = 1\n");
    let expected = vec![
        ("scaled/u16".to_string(), u16_reg.value * 0.5 - 100.0),
        ("scaled/f32".to_string(), f32_reg.value * 2.0 + 1.0),
    ];
    (text, expected)
}

/// Runs a validated source; events arrive on the receiver.
fn start(
    config: modbus::Config,
) -> (
    mpsc::Receiver<Event>,
    CancellationToken,
    Vec<JoinHandle<()>>,
) {
    start_all(vec![config])
}

/// Runs several validated sources into one receiver, as the shim does.
fn start_all(
    configs: Vec<modbus::Config>,
) -> (
    mpsc::Receiver<Event>,
    CancellationToken,
    Vec<JoinHandle<()>>,
) {
    let (emit, rx) = Emitter::channel(4096);
    let shutdown = CancellationToken::new();
    let tasks = configs
        .into_iter()
        .map(|config| {
            config
                .validate()
                .unwrap_or_else(|e| panic!("the test config is invalid: {e:?}"));
            tokio::spawn(config.build().run(emit.clone(), shutdown.clone()))
        })
        .collect();
    (rx, shutdown, tasks)
}

/// Cancels the sources and checks they return promptly.
async fn stop(shutdown: CancellationToken, tasks: Vec<JoinHandle<()>>) {
    shutdown.cancel();
    for task in tasks {
        tokio::time::timeout(Duration::from_secs(2), task)
            .await
            .expect("the source returns within 2 s of shutdown")
            .expect("the source task does not panic");
    }
}

/// The first reading of every stream.
fn first_readings(events: &[Event]) -> HashMap<String, f64> {
    let mut first = HashMap::new();
    for e in events {
        if let Event::Reading { stream, value, .. } = e {
            first.entry(stream.clone()).or_insert(*value);
        }
    }
    first
}

/// The status events of `stream`, in order.
fn statuses<'a>(events: &'a [Event], stream: &str) -> Vec<(StreamState, Option<&'a str>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Status {
                stream: s,
                state,
                reason,
            } if s == stream => Some((*state, reason.as_deref())),
            _ => None,
        })
        .collect()
}

/// Starts the server on a free TCP port and waits until it listens.
async fn tcp_server() -> (Peer, u16) {
    let port = free_port();
    let peer = tcp_server_on(port).await;
    (peer, port)
}

async fn tcp_server_on(port: u16) -> Peer {
    let peer = Peer::start(
        Command::new(python())
            .arg(peer_script("modbus_server.py"))
            .args(["--tcp", &port.to_string(), "--unit", &UNIT.to_string()]),
    );
    wait_for_port(port, WAIT).await;
    peer
}

/// Checks that every stream read the value the server holds, and none went stale.
fn check_values(events: &[Event], entries: &[Entry], scaled: &[(String, f64)]) {
    let got = first_readings(events);
    for e in entries {
        assert_eq!(
            got.get(&e.stream),
            Some(&e.value),
            "{} ({} {} at {}, order {:?})",
            e.stream,
            e.kind,
            e.data_type,
            e.address,
            e.order
        );
    }
    for (stream, want) in scaled {
        let value = got[stream];
        assert!(
            (value - want).abs() <= 1e-9 * want.abs().max(1.0),
            "{stream}: {value} instead of {want}"
        );
    }
    let stale: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(e, Event::Status { .. }))
        .collect();
    assert!(
        stale.is_empty(),
        "no stream should change status: {stale:?}"
    );
}

/// Every type in every byte order, coils, discrete inputs, input and holding registers, scale
/// and offset, over Modbus TCP.
#[tokio::test]
async fn every_type_and_order_decodes_over_tcp() {
    let entries = layout();
    assert!(
        entries.len() >= 30,
        "the layout covers every type and order"
    );
    let (_server, port) = tcp_server().await;
    let (extra, scaled) = scaled_extras(&entries);
    let mut config = section(
        &format!("address = \"127.0.0.1:{port}\""),
        "interval_ms = 200\ntimeout_ms = 2000",
        &entries,
    );
    config.register.extend(
        toml::from_str::<modbus::Config>(&format!("name = \"x\"\n{extra}"))
            .unwrap()
            .register,
    );

    let source = config.clone().build();
    let info = source.streams();
    assert_eq!(info.len(), entries.len() + 2);
    let bar = info.iter().find(|s| s.id == "scaled/u16").unwrap();
    assert_eq!(
        (bar.unit.as_deref(), bar.lsl, bar.usl),
        (Some("bar"), Some(0.0), Some(30000.0))
    );
    assert_eq!(source.name(), "peer");

    let (mut rx, shutdown, tasks) = start(config);
    let want = entries.len() + scaled.len();
    let events = events_until(&mut rx, WAIT, |seen| first_readings(seen).len() == want).await;
    check_values(&events, &entries, &scaled);
    stop(shutdown, tasks).await;
}

/// A socat pair of pseudo-terminals linked at two fresh paths, removed when dropped.
struct PtyPair {
    _socat: Peer,
    a: PathBuf,
    b: PathBuf,
}

impl PtyPair {
    async fn new() -> PtyPair {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let base =
            std::env::temp_dir().join(format!("llmscope-modbus-{}-{stamp}", std::process::id()));
        let (a, b) = (base.with_extension("a"), base.with_extension("b"));
        let socat = Peer::start(Command::new("socat").args([
            "-d".to_string(),
            "-d".to_string(),
            format!("pty,raw,echo=0,link={}", a.display()),
            format!("pty,raw,echo=0,link={}", b.display()),
        ]));
        let deadline = tokio::time::Instant::now() + WAIT;
        while !(a.exists() && b.exists()) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "socat made no ptys at {} and {}",
                a.display(),
                b.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        PtyPair {
            _socat: socat,
            a,
            b,
        }
    }
}

impl Drop for PtyPair {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.a);
        let _ = std::fs::remove_file(&self.b);
    }
}

/// The same values over Modbus RTU: the server on one end of a virtual serial line, the
/// source on the other.
#[tokio::test]
async fn every_type_and_order_decodes_over_rtu() {
    let entries = layout();
    let pty = PtyPair::new().await;
    let _server = Peer::start(
        Command::new(python())
            .arg(peer_script("modbus_server.py"))
            .args([
                "--rtu",
                &pty.a.display().to_string(),
                "--unit",
                &UNIT.to_string(),
                "--unit",
                &(UNIT + 1).to_string(),
                "--baud",
                "19200",
            ]),
    );
    // The source retries until the server has opened its end; timeouts on the way are fine.
    wait_for_file_open(&pty.a).await;
    let (extra, scaled) = scaled_extras(&entries);
    let mut config = section(
        &format!(
            "serial = {:?}\nbaud = 19200\nparity = \"N\"\ndata_bits = 8\nstop_bits = 1",
            pty.b.display().to_string()
        ),
        "interval_ms = 200\ntimeout_ms = 1000\nretries = 2",
        &entries,
    );
    config.register.extend(
        toml::from_str::<modbus::Config>(&format!("name = \"x\"\n{extra}"))
            .unwrap()
            .register,
    );
    // A second device on the same line (RS-485 multi-drop): its section names the same port,
    // which the two sections share, one request at a time.
    let second: Vec<Entry> = ["h/f64/DCBA", "c/2", "d/6"]
        .iter()
        .map(|s| {
            let e = entries.iter().find(|e| e.stream == *s).unwrap();
            Entry {
                stream: format!("unit8/{s}"),
                ..e.clone()
            }
        })
        .collect();
    let mut second_config = section(
        &format!("serial = {:?}\nbaud = 19200", pty.b.display().to_string()),
        "interval_ms = 300\ntimeout_ms = 1000\nretries = 2",
        &second,
    );
    second_config.unit = i64::from(UNIT + 1);
    let (mut rx, shutdown, tasks) = start_all(vec![config, second_config]);
    let want = entries.len() + scaled.len() + second.len();
    let events = events_until(&mut rx, WAIT, |seen| first_readings(seen).len() == want).await;
    // Statuses may come and go while the server starts; the values must be right.
    let got = first_readings(&events);
    for e in entries.iter().chain(&second) {
        assert_eq!(got.get(&e.stream), Some(&e.value), "{} over RTU", e.stream);
    }
    for (stream, want) in &scaled {
        assert!(
            (got[stream] - want).abs() <= 1e-9 * want.abs().max(1.0),
            "{stream} over RTU"
        );
    }
    stop(shutdown, tasks).await;
}

/// Gives the server a moment to open its end of the line: waits until some process other than
/// socat holds the pty open (Linux /proc), or a short while where /proc is not available.
async fn wait_for_file_open(link: &Path) {
    let Ok(target) = std::fs::canonicalize(link) else {
        return;
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        if opened_by_others(&target) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn opened_by_others(target: &Path) -> bool {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return true;
    };
    for p in procs.flatten() {
        let comm = std::fs::read_to_string(p.path().join("comm")).unwrap_or_default();
        if comm.trim() == "socat" {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        if fds
            .flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l == target))
        {
            return true;
        }
    }
    false
}

/// A register the server lacks: its stream goes stale with exception 2, the register next to
/// it that made the merged read fail is read on its own, and the others keep their values.
#[tokio::test]
async fn a_missing_register_reports_the_exception_code() {
    let entries = layout();
    let (_server, port) = tcp_server().await;
    let pick = |s: &str| entries.iter().find(|e| e.stream == s).unwrap().clone();
    let good = [pick("h/i16"), pick("i/u16"), pick("i/f32")];
    let missing = Entry {
        stream: "h/missing".into(),
        kind: "holding".into(),
        address: 1000,
        data_type: "f32".into(),
        order: None,
        value: 0.0,
    };
    // Input register 13 is right after the input registers at 10..13, so the planner merges
    // it into their read, which the server refuses as a whole.
    let hole = Entry {
        stream: "i/hole".into(),
        kind: "input".into(),
        address: 13,
        data_type: "u16".into(),
        order: None,
        value: 0.0,
    };
    let mut all = good.to_vec();
    all.push(missing);
    all.push(hole);
    let config = section(
        &format!("address = \"127.0.0.1:{port}\""),
        "interval_ms = 200\ntimeout_ms = 2000",
        &all,
    );
    let (mut rx, shutdown, tasks) = start(config);
    let events = events_until(&mut rx, WAIT, |seen| {
        let got = first_readings(seen);
        good.iter().all(|e| got.contains_key(&e.stream))
            && !statuses(seen, "h/missing").is_empty()
            && !statuses(seen, "i/hole").is_empty()
    })
    .await;
    assert_eq!(
        statuses(&events, "h/missing")[0],
        (
            StreamState::Stale,
            Some("modbus exception 2 (illegal data address) reading holding 1000..1002")
        )
    );
    assert_eq!(
        statuses(&events, "i/hole")[0],
        (
            StreamState::Stale,
            Some("modbus exception 2 (illegal data address) reading input 13..14")
        )
    );
    let got = first_readings(&events);
    for e in &good {
        assert_eq!(got[&e.stream], e.value, "{}", e.stream);
        assert!(
            statuses(&events, &e.stream).is_empty(),
            "{} keeps its status",
            e.stream
        );
    }
    assert!(!got.contains_key("h/missing") && !got.contains_key("i/hole"));
    stop(shutdown, tasks).await;
}

/// The server stops: every stream goes stale with a reason. It comes back on the same port:
/// they go live again (once) and readings resume.
#[tokio::test]
async fn a_server_that_goes_away_and_comes_back() {
    let entries = layout();
    let pick = |s: &str| entries.iter().find(|e| e.stream == s).unwrap().clone();
    let watched = [pick("h/f32/CDAB"), pick("c/0"), pick("i/i32/DCBA")];
    let (mut server, port) = tcp_server().await;
    let config = section(
        &format!("address = \"127.0.0.1:{port}\""),
        "interval_ms = 200\ntimeout_ms = 1000\nretries = 1",
        &watched,
    );
    let (mut rx, shutdown, tasks) = start(config);
    events_until(&mut rx, WAIT, |seen| {
        first_readings(seen).len() == watched.len()
    })
    .await;

    server.stop();
    let events = events_until(&mut rx, WAIT, |seen| {
        watched.iter().all(|e| {
            statuses(seen, &e.stream)
                .iter()
                .any(|(s, _)| *s == StreamState::Stale)
        })
    })
    .await;
    for e in &watched {
        let (_, reason) = statuses(&events, &e.stream)[0];
        let reason = reason.unwrap_or_default();
        eprintln!("{} went stale: {reason}", e.stream);
        assert!(
            reason.contains("connection refused")
                || reason.contains("connection")
                || reason.contains("timeout"),
            "{}: {reason}",
            e.stream
        );
    }

    let _server = tcp_server_on(port).await;
    let events = events_until(&mut rx, WAIT, |seen| {
        watched.iter().all(|e| {
            let live_at = seen.iter().position(
                |ev| matches!(ev, Event::Status { stream, state: StreamState::Live, .. } if *stream == e.stream),
            );
            live_at.is_some_and(|at| {
                seen[at..].iter().any(|ev| matches!(ev, Event::Reading { stream, .. } if *stream == e.stream))
            })
        })
    })
    .await;
    // Readings after `live` carry the server's values again; `live` came once per stream.
    for e in &watched {
        let lives = statuses(&events, &e.stream)
            .iter()
            .filter(|(s, _)| *s == StreamState::Live)
            .count();
        assert_eq!(lives, 1, "{}", e.stream);
        let last = events.iter().rev().find_map(|ev| match ev {
            Event::Reading { stream, value, .. } if *stream == e.stream => Some(*value),
            _ => None,
        });
        assert_eq!(last, Some(e.value), "{}", e.stream);
    }
    // More polls bring more readings but no more status changes.
    let more = events_until(&mut rx, WAIT, |seen| {
        seen.iter()
            .filter(
                |ev| matches!(ev, Event::Reading { stream, .. } if *stream == watched[0].stream),
            )
            .count()
            >= 3
    })
    .await;
    assert!(
        more.iter().all(|ev| !matches!(ev, Event::Status { .. })),
        "{more:?}"
    );
    stop(shutdown, tasks).await;
}

/// A whole config file with one Modbus section, with `section` and `register` lines added.
fn config_file(unit: &str, data_type: &str, section: &str, register: &str) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:9750\"\n\n[[modbus]]\nname = \"press1\"\naddress = \"127.0.0.1:5020\"\n\
         unit = {unit}\ninterval_ms = 1000\ntimeout_ms = 500\n{section}\n[[modbus.register]]\n\
         stream = \"press1/temperature\"\nkind = \"holding\"\naddress = 0\ntype = {data_type:?}\n{register}\n\
         unit = \"°C\"\nlsl = 60.0\nusl = 80.0\n"
    )
}

/// The 1-based line of the first line of `text` that starts with `start`.
fn line_of(text: &str, start: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(start))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no line {start}"))
}

/// Config mistakes are refused with the line and the key.
#[test]
fn config_mistakes_name_the_line_and_the_key() {
    use llmscope_shim::config::parse;
    let ok = config_file("1", "f32", "", "order = \"CDAB\"");
    let config = parse(&ok, "plant.toml").expect("the base config is valid");
    assert_eq!(config.modbus.len(), 1);

    let cases = [
        (
            config_file("1", "f32", "colour = \"red\"", ""),
            "colour",
            "colour",
        ),
        (
            config_file("1", "f32", "", "order = \"ABDC\""),
            "order = ",
            "order",
        ),
        (
            config_file("1", "bool", "", ""),
            "type = ",
            "modbus[0].register[0].type",
        ),
        (
            config_file("300", "u16", "", ""),
            "unit = 300",
            "modbus[0].unit",
        ),
        (
            config_file("1", "u16", "", "order = \"DCBA\""),
            "order = ",
            "modbus[0].register[0].order",
        ),
        (
            config_file("1", "u16", "", "").replace("address = 0", "address = 400001"),
            "address = 400001",
            "address",
        ),
    ];
    for (text, line_start, key) in cases {
        let err = parse(&text, "plant.toml").expect_err(key).to_string();
        let line = line_of(&text, line_start);
        eprintln!("{err}");
        assert!(
            err.contains(&format!("line {line}")),
            "{key}: expected line {line} in: {err}"
        );
        assert!(err.contains(key), "{key}: {err}");
        assert!(err.starts_with("plant.toml"), "{err}");
    }
    // On a serial line, unit 0 (broadcast) is refused too.
    let serial = ok
        .replace("address = \"127.0.0.1:5020\"", "serial = \"/dev/ttyUSB0\"")
        .replace("unit = 1", "unit = 0");
    let err = parse(&serial, "plant.toml").unwrap_err().to_string();
    assert!(
        err.contains("modbus[0].unit")
            && err.contains(&format!("line {}", line_of(&serial, "unit = 0"))),
        "{err}"
    );
}

/// The documented sample config is valid.
#[test]
fn the_sample_config_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/source/modbus/sample.toml");
    let config = llmscope_shim::config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(!config.modbus.is_empty());
}
