//! A bounded, deterministic fuzz run of every parser of outside input in the shim, inside
//! `cargo test` (stable Rust, no cargo-fuzz): the `analyze` CSV reader (through the whole
//! report), `explain`'s CSV (every column as a stream), `compare`'s probe results (through the comparison), the TOML config, MQTT messages (topic matching and payload decoding), Modbus
//! responses (from a TCP "device" that answers with mutated frames, through tokio-modbus and the
//! shim's link and register decoding), and the frames a client sends the WebSocket server.
//!
//! Each target runs a fixed number of inputs from a fixed seed: half are random bytes, half are
//! valid inputs (a small corpus) with one to eight mutations stacked (bit flips, byte edits,
//! deletions, duplicated or spliced chunks, interesting tokens such as `NaN`, `1e308` or
//! `18446744073709551616`). Every input must give a result or an error, never a panic, and
//! outputs and error messages must stay within a bound proportional to the input. A failure
//! prints the input. Counts and times per target are in docs/security.md.

use futures_util::{SinkExt, StreamExt};
use llmscope_protocol::{ClientFrame, ServerFrame};
use llmscope_shim::hub::Hub;
use llmscope_shim::server::{self, Options};
use llmscope_shim::source::modbus::decode::{decode_registers, ByteOrder, DataType};
use llmscope_shim::source::modbus::link::{Link, Outcome, Target};
use llmscope_shim::source::modbus::plan::{Kind, Read};
use llmscope_shim::source::Event;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

use llmscope_fuzzkit::Gen;

/// Values that break naive parsers.
const TOKENS: &[&[u8]] = &[
    b"NaN",
    b"inf",
    b"-inf",
    b"1e308",
    b"1e309",
    b"-0",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"0x10",
    b"\"",
    b"\"\"",
    b",",
    b"\n",
    b"\r\n",
    b"\0",
    b"\xff\xfe",
    b"\xc3\xa9",
    b"[[[[[[[[[[",
    b"{\"a\":",
    b"}",
    b"~1",
    b"~0",
    b"/",
    b"=",
    b"[modbus]",
    b"[[mqtt]]",
    b"2025-11-27T00:00:00Z",
    b"9999-12-31T23:59:60+23:59",
    b"true",
    b"null",
];

/// Runs `count` inputs through `check`, printing the input of any panic; returns the time taken.
fn run(
    target: &str,
    count: usize,
    seed: u64,
    mut make: impl FnMut(&mut Gen) -> Vec<u8>,
    mut check: impl FnMut(&[u8]),
) -> Duration {
    llmscope_fuzzkit::run(target, count, seed, |gen, i| {
        let input = make(gen);
        if catch_unwind(AssertUnwindSafe(|| check(&input))).is_err() {
            panic!(
                "{target}: input #{i} of seed {seed} panicked: {:?}",
                String::from_utf8_lossy(&input)
            );
        }
    })
}

fn repo_file(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The first `lines` lines of a file, so the engine's work per input stays small.
fn head(bytes: &[u8], lines: usize) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text.lines().take(lines).collect::<Vec<_>>().join("\n");
    out.push('\n');
    out.into_bytes()
}

#[test]
fn analyze_csv() {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: llmscope_shim::analyze::AnalyzeArgs,
    }
    let mut corpus: Vec<Vec<u8>> = [
        "pistonrings.csv",
        "viscosity.csv",
        "orangejuice.csv",
        "circuit.csv",
        "dyedcloth.csv",
    ]
    .iter()
    .map(|f| head(&repo_file(&format!("spc-wasm/tests/data/{f}")), 60))
    .collect();
    corpus.push(b"sample,value\n1,\"1,5\"\n2,\"2\n\"\n3,4\n".to_vec());
    corpus.push(b"count,size\n3,50\n5,100\n0,0\n60,50\n".to_vec());
    let flags: &[&[&str]] = &[
        &[],
        &["--chart", "xbar-r", "--subgroup-size", "5"],
        &["--chart", "xbar-s", "--subgroup-column", "sample"],
        &["--chart", "p", "--column", "count", "--size-column", "size"],
        &[
            "--chart",
            "np",
            "--column",
            "count",
            "--size-column",
            "size",
        ],
        &["--chart", "c", "--column", "count"],
        &["--chart", "u", "--column", "count", "--size-column", "size"],
        &["--chart", "ewma", "--phase1", "10"],
        &["--chart", "cusum", "--exclude-out-of-control"],
        &["--transform", "box-cox", "--usl", "80", "--lsl", "60"],
        &["--transform", "log", "--tests", "1,2:7"],
    ];
    // The CSV report only: JSON and text add the engine's simulated ARL, seconds per chart in a
    // debug build, and nothing read from the input.
    let mut variant = 0usize;
    run(
        "analyze CSV",
        4000,
        1,
        |g| g.input(&corpus, TOKENS, 300),
        |csv| {
            variant += 1;
            let mut argv = vec!["analyze", "fuzz.csv"];
            argv.extend(flags[variant % flags.len()]);
            argv.extend(["--format", "csv"]);
            let cli = Cli::try_parse_from(&argv).expect("the flags of the table parse");
            let mut out = Vec::new();
            let bound = 4096 + 1000 * csv.len();
            match llmscope_shim::analyze::report(&cli.args, csv, &mut out) {
                Ok(()) => assert!(out.len() <= bound, "{} bytes of output", out.len()),
                Err(e) => {
                    let message = format!("{e:#}");
                    assert!(message.len() <= 1024 + csv.len(), "{message}");
                }
            }
        },
    );
}

#[test]
fn toml_config() {
    let mut corpus: Vec<Vec<u8>> = ["modbus", "mqtt", "opcua"]
        .iter()
        .map(|s| repo_file(&format!("gateway-shim/src/source/{s}/sample.toml")))
        .collect();
    corpus.push(
        b"[server]\nlisten = \"127.0.0.1:9750\"\nallowed_hosts = [\"plant-pc\"]\nmax_connections = 8\n\
          [[modbus]]\nname = \"p\"\naddress = \"127.0.0.1:5020\"\n[[modbus.register]]\nstream = \"p/t\"\n\
          kind = \"holding\"\naddress = 0\ntype = \"f32\"\n"
            .to_vec(),
    );
    run(
        "TOML config",
        10_000,
        2,
        |g| g.input(&corpus, TOKENS, 400),
        |bytes| {
            let text = String::from_utf8_lossy(bytes);
            if let Err(e) = llmscope_shim::config::parse(&text, "fuzz.toml") {
                assert!(e.to_string().len() <= 1024 + text.len(), "{e}");
            }
        },
    );
}

/// Probe results as GET /results answers them: two targets, failures, quality checks.
fn results_corpus() -> Vec<u8> {
    let mut items = Vec::new();
    for i in 0..30 {
        for (target, ttft) in [("a", 300.0 + i as f64), ("b", 420.0 - i as f64)] {
            let failed = i % 7 == 6;
            items.push(serde_json::json!({
                "target": target, "provider": "openai", "model": "m", "t": 1000 * i,
                "ok": !failed, "status": if failed { 500 } else { 200 },
                "ttft_ms": if failed { None } else { Some(ttft) }, "total_ms": ttft + 900.0,
                "input_tokens": 12, "output_tokens": 40, "cached_input_tokens": null,
                "tokens_per_s": 55.5, "cost_usd": null, "quality_pass": i % 3 != 0,
                "error": if failed {
                    serde_json::json!({"kind": "server", "message": "HTTP 500", "retry_after_s": 1.5})
                } else {
                    serde_json::Value::Null
                },
                "extra": {"ttfb_ms": 120.0}
            }));
        }
    }
    serde_json::to_vec(&items).expect("JSON")
}

/// Byte mutations of JSON rarely parse: this mutates values instead, so that most inputs
/// reach the comparison: one to eight fields of random items set to edge values.
fn structured(g: &mut Gen, seed: &[u8]) -> Vec<u8> {
    use serde_json::{json, Value};
    const FIELDS: &[&str] = &[
        "target",
        "ok",
        "t",
        "ttft_ms",
        "total_ms",
        "tokens_per_s",
        "error",
        "quality_pass",
        "status",
        "extra",
    ];
    let values = [
        Value::Null,
        json!(0),
        json!(-1),
        json!(1e308),
        json!(-0.0),
        json!(u64::MAX),
        json!(""),
        json!("a"),
        json!(true),
        json!(false),
        json!([]),
        json!({}),
        json!({"kind": "timeout", "message": "x", "retry_after_s": null}),
    ];
    let mut items: Vec<Value> = serde_json::from_slice(seed).expect("the corpus is JSON");
    for _ in 0..1 + g.below(8) {
        let at = g.below(items.len());
        match g.below(4) {
            0 => {
                let copy = items[at].clone();
                items.push(copy);
            }
            1 if items.len() > 1 => {
                items.swap_remove(at);
            }
            _ => items[at][*g.pick(FIELDS)] = g.pick(&values).clone(),
        }
    }
    serde_json::to_vec(&items).expect("JSON")
}

#[test]
fn explain_csv() {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: llmscope_shim::analyze::AnalyzeArgs,
    }
    let mut press = String::from("t,temperature,pressure,setpoint,operator\n");
    for i in 0..80 {
        let sp = if i >= 50 { 65 } else { 60 };
        let noise = ((i * 7919) % 13) as f64 / 13.0;
        press += &format!(
            "{i},{},{},{sp},op{}\n",
            50 + sp - 60 + i % 3,
            120.0 + noise,
            i % 2
        );
    }
    let corpus = vec![
        press.into_bytes(),
        head(&repo_file("spc-wasm/tests/data/viscosity.csv"), 60),
    ];
    let flags: &[&[&str]] = &[
        &["--phase1", "30"],
        &["--column", "pressure"],
        &["--chart", "ewma", "--phase1", "20"],
        &["--chart", "cusum"],
        &["--chart", "xbar-r", "--subgroup-size", "5"],
    ];
    let mut variant = 0usize;
    run(
        "explain CSV",
        1000,
        5,
        |g| g.input(&corpus, TOKENS, 300),
        |csv| {
            variant += 1;
            let mut argv = vec!["explain", "fuzz.csv"];
            argv.extend(flags[variant % flags.len()]);
            argv.extend(["--format", "json"]);
            let cli = Cli::try_parse_from(&argv).expect("the flags of the table parse");
            match llmscope_shim::explain::explained(&cli.args, None, csv) {
                Ok(e) => assert!(
                    e.episodes.len() <= csv.len(),
                    "{} episodes",
                    e.episodes.len()
                ),
                Err(e) => {
                    let message = format!("{e:#}");
                    assert!(message.len() <= 1024 + csv.len(), "{message}");
                }
            }
        },
    );
}

#[test]
fn compare_results() {
    use llmscope_shim::compare::{report, CompareArgs, Format, Metric};
    let array = results_corpus();
    let mut export =
        br#"{"format": "llmscope-telemetry", "version": 1, "probe_results": "#.to_vec();
    export.extend(&array);
    export.push(b'}');
    let corpus = vec![array, export];
    let metrics = [Metric::TtftMs, Metric::TotalMs, Metric::TokensPerS];
    let mut variant = 0usize;
    run(
        "compare results",
        2000,
        3,
        |g| {
            if g.below(2) == 0 {
                g.input(&corpus, TOKENS, 400)
            } else {
                structured(g, &corpus[0])
            }
        },
        |bytes| {
            variant += 1;
            let args = CompareArgs {
                results: "fuzz.json".into(),
                metric: metrics[variant % metrics.len()],
                max_ttft_p95_ms: Some(400.0),
                max_error_rate: (variant % 2 == 0).then_some(0.1),
                min_pass_rate: None,
                max_cost_usd: None,
                weights: Some("speed=0".into()),
                volume: None,
                format: Format::Json,
            };
            if let Err(e) = report(&args, bytes) {
                let message = e.to_string();
                assert!(message.len() <= 1024 + bytes.len(), "{message}");
            }
        },
    );
}

#[test]
fn mqtt_messages() {
    let payloads: Vec<Vec<u8>> = [
        "21.5",
        " -3e2 ",
        r#"{"rms": 1.25, "ts": 1764201600000}"#,
        r#"{"a": {"b": [1, 2, {"c": "3.5"}]}, "t": "2025-11-27T00:00:00.123+01:00"}"#,
        r#"{"a/b": 7, "m~n": 8, "t": "1764201600123"}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let topics: Vec<Vec<u8>> = ["plant/line2/a/vibration", "plant/line2/b/c/d", "x"]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    let subscriptions: &[(&str, &str, Option<&str>, Option<&str>)] = &[
        ("plant/line2/+/vibration", "line2/{1}/vibration", None, None),
        (
            "plant/line2/+/vibration",
            "line2/{1}",
            Some("/rms"),
            Some("/ts"),
        ),
        ("plant/#", "all/{1}", Some("/a/b/2/c"), Some("/t")),
        ("+/+/+/+", "{1}{2}{3}{4}", Some("/a~1b"), None),
        ("#", "x", Some("/m~0n"), Some("/t")),
    ];
    let mut g2 = Gen::new(30);
    run(
        "MQTT messages",
        50_000,
        3,
        |g| g.input(&payloads, TOKENS, 200),
        |raw| {
            let (filter, stream, value, time) = *g2.pick(subscriptions);
            let topic_bytes = g2.input(&topics, TOKENS, 40);
            let topic = String::from_utf8_lossy(&topic_bytes);
            match llmscope_shim::source::mqtt::decode_message(
                filter, stream, value, time, &topic, raw,
            ) {
                Ok(Some((name, v, t))) => {
                    assert!(v.is_finite(), "value {v}");
                    assert!(name.len() <= stream.len() + 4 * topic.len());
                    if let Some(t) = t {
                        assert!((946_684_800_000..4_102_444_800_000).contains(&t), "t {t}");
                    }
                }
                Ok(None) => {}
                Err(e) => assert!(e.to_string().len() <= 1024, "{e}"),
            }
        },
    );
}

#[test]
fn modbus_register_decoding() {
    let types = [
        DataType::Bool,
        DataType::I16,
        DataType::U16,
        DataType::I32,
        DataType::U32,
        DataType::I64,
        DataType::U64,
        DataType::F32,
        DataType::F64,
    ];
    let orders = [
        ByteOrder::ABCD,
        ByteOrder::CDAB,
        ByteOrder::BADC,
        ByteOrder::DCBA,
    ];
    let mut variant = 0usize;
    run(
        "Modbus register decoding",
        100_000,
        4,
        |g| g.bytes(20),
        |bytes| {
            variant += 1;
            let words: Vec<u16> = bytes
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            let ty = types[variant % types.len()];
            let order = orders[variant / types.len() % orders.len()];
            let _ = decode_registers(&words, ty, order);
        },
    );
}

/// A Modbus TCP "device" that answers each request with a mutated valid response, then hangs
/// up (so a short frame ends in EOF at once rather than in a timeout).
async fn mutated_device(listener: tokio::net::TcpListener, seed: u64) {
    let mut gen = Gen::new(seed);
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        let mut request = [0u8; 12];
        if socket.read_exact(&mut request).await.is_err() {
            continue;
        }
        let (function, count) = (request[7], u16::from_be_bytes([request[10], request[11]]));
        let data: Vec<u8> = match function {
            1 | 2 => (0..count.div_ceil(8))
                .map(|_| gen.next_u64() as u8)
                .collect(),
            _ => (0..count * 2).map(|_| gen.next_u64() as u8).collect(),
        };
        let mut pdu = vec![function, data.len() as u8];
        pdu.extend(data);
        let mut frame = request[..4].to_vec(); // transaction id and protocol id, echoed
        frame.extend(((pdu.len() + 1) as u16).to_be_bytes());
        frame.push(request[6]);
        frame.extend(pdu);
        let frame = match gen.below(4) {
            0 => frame,
            _ => gen.mutate(
                &frame,
                &[b"\x83\x02", b"\x00\x00", b"\xff\xff", b"\x00\x06"],
            ),
        };
        let _ = socket.write_all(&frame).await;
        let _ = socket.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modbus_responses() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let device = tokio::spawn(mutated_device(listener, 5));
    let mut link = Link::new(Target::Tcp(addr), 1, Duration::from_millis(500));
    let kinds = [Kind::Coil, Kind::Discrete, Kind::Holding, Kind::Input];
    let mut gen = Gen::new(6);
    let started = Instant::now();
    let count = 10_000;
    let mut tally = [0usize; 5];
    for i in 0..count {
        let kind = *gen.pick(&kinds);
        let quantity = 1 + gen.below(usize::from(kind.max_quantity())) as u16;
        let read = Read {
            kind,
            start: gen.next_u64() as u16 % (u16::MAX - quantity),
            count: quantity,
            items: vec![0],
        };
        let outcome = link.read(&read).await;
        tally[match &outcome {
            Outcome::Registers(_) => 0,
            Outcome::Bits(_) => 1,
            Outcome::Exception(_) => 2,
            Outcome::Malformed(_) => 3,
            Outcome::Failed(..) => 4,
        }] += 1;
        match &outcome {
            Outcome::Registers(words) => assert_eq!(words.len(), usize::from(quantity), "#{i}"),
            Outcome::Bits(bits) => assert_eq!(bits.len(), usize::from(quantity), "#{i}"),
            Outcome::Malformed(why) | Outcome::Failed(_, why) => {
                assert!(
                    why.len() <= 1024,
                    "#{i}: {} bytes: {}",
                    why.len(),
                    &why[..300]
                )
            }
            Outcome::Exception(_) => {}
        }
        link.reset();
    }
    println!(
        "fuzz Modbus responses: {count} inputs in {:.2} s (registers, bits, exceptions, malformed, failed: {tally:?})",
        started.elapsed().as_secs_f64()
    );
    assert!(
        tally[0] > 0 && tally[1] > 0 && tally[4] > 0,
        "good answers get through and broken ones fail: {tally:?}"
    );
    device.abort();
}

#[test]
fn client_frames_parse() {
    let corpus: Vec<Vec<u8>> = [
        r#"{"type":"auth","token":"change-me"}"#,
        r#"{"type":"auth","token":"\u00e9\ud83d\ude00"}"#,
        r#"{"type":"hello"}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    run(
        "client frames (parse)",
        100_000,
        7,
        |g| g.input(&corpus, TOKENS, 200),
        |bytes| {
            if let Err(e) = ClientFrame::parse(&String::from_utf8_lossy(bytes)) {
                assert!(e.len() <= 1024, "{e}");
            }
        },
    );
}

/// The real server, with and without a token, taking random frames (text, binary, pings,
/// oversized ones) as first or later frames; afterwards a well-behaved client still gets its
/// samples.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_frames_on_the_server() {
    let hub = Hub::new(100, vec![]);
    let stop = tokio_util::sync::CancellationToken::new();
    let mut ports = Vec::new();
    for token in [None, Some("change-me".to_string())] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        ports.push((listener.local_addr().unwrap().port(), token.clone()));
        let options = Options {
            token,
            ..Options::default()
        };
        tokio::spawn(server::serve(listener, hub.clone(), options, stop.clone()));
    }
    let corpus = vec![br#"{"type":"auth","token":"change-me"}"#.to_vec()];
    let mut gen = Gen::new(8);
    let started = Instant::now();
    let count = 1200;
    for i in 0..count {
        let (port, token) = &ports[i % 2];
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws"))
            .await
            .unwrap_or_else(|e| panic!("#{i}: the server must still accept: {e}"));
        let payload = match gen.below(10) {
            0 => vec![b' '; 70 * 1024],
            // The right token now and then, so the lockout of wrong ones does not take over.
            1 if token.is_some() => corpus[0].clone(),
            _ => gen.input(&corpus, TOKENS, 300),
        };
        let message = match gen.below(4) {
            0 => Message::Binary(payload.into()),
            1 => Message::Ping(payload.into_iter().take(125).collect::<Vec<u8>>().into()),
            _ => Message::Text(String::from_utf8_lossy(&payload).into_owned().into()),
        };
        let _ = ws.send(message).await;
        drop(ws);
    }
    println!(
        "fuzz client frames (server): {count} connections in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/ws", ports[0].0))
        .await
        .unwrap();
    // The server subscribes before its hello: readings applied after it are this client's.
    loop {
        let Some(Ok(Message::Text(text))) =
            tokio::time::timeout(Duration::from_secs(10), ws.next())
                .await
                .expect("the server says hello")
        else {
            panic!("the connection ended before hello")
        };
        if matches!(ServerFrame::parse(&text), Ok(ServerFrame::Hello { .. })) {
            break;
        }
    }
    for i in 0..5 {
        hub.apply(Event::Reading {
            stream: "a".into(),
            t: 0,
            value: f64::from(i),
        });
    }
    let mut seen = 0;
    while seen < 5 {
        let Some(Ok(Message::Text(text))) =
            tokio::time::timeout(Duration::from_secs(10), ws.next())
                .await
                .expect("the server still serves")
        else {
            panic!("the connection ended")
        };
        match ServerFrame::parse(&text).unwrap() {
            ServerFrame::Sample(_) => seen += 1,
            ServerFrame::Batch { samples } => seen += samples.len(),
            _ => {}
        }
    }
    stop.cancel();
}
