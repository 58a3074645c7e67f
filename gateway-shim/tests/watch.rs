//! `llmscope-shim watch` as a user runs it: the real binary against the shim's own server and
//! hub, fed a stream whose chart is known, and what it prints.

mod support;

use llmscope_protocol::{StreamInfo, StreamState};
use llmscope_shim::hub::Hub;
use llmscope_shim::server::{self, Options};
use llmscope_shim::source::Event;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use support::Peer;
use tokio_util::sync::CancellationToken;

const STREAM: &str = "line2/diameter";

/// Waits for the next printed line containing `want`, returning every line read on the way.
fn until(lines: &mpsc::Receiver<String>, want: &str, seen: &mut Vec<String>) -> String {
    loop {
        match lines.recv_timeout(Duration::from_secs(30)) {
            Ok(line) if line.contains(want) => return line,
            Ok(line) => seen.push(line),
            Err(e) => panic!("no line with '{want}' ({e}); printed so far: {seen:#?}"),
        }
    }
}

// The test thread blocks on the printed lines while the server runs on the other worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_prints_the_baseline_its_findings_every_signal_and_stale_streams() {
    let info = StreamInfo {
        id: STREAM.into(),
        unit: Some("mm".into()),
        lsl: None,
        usl: None,
    };
    let hub = Hub::new(1000, vec![info]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = CancellationToken::new();
    let _stop = stop.clone().drop_guard();
    tokio::spawn(server::serve(
        listener,
        hub.clone(),
        Options::default(),
        stop,
    ));

    let mut child = Command::new(env!("CARGO_BIN_EXE_llmscope-shim"));
    child
        .args(["watch", &format!("ws://127.0.0.1:{port}/ws")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut watch = Peer(child.spawn().expect("watch starts"));
    let stdout = watch.0.stdout.take().expect("stdout");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    until(
        &lines,
        &format!("connected to ws://127.0.0.1:{port}/ws"),
        &mut seen,
    );
    let hello = until(&lines, "1 streams", &mut seen);
    assert!(hello.contains("40-point baseline, Nelson tests"), "{hello}");

    // 40 baseline points alternating 10, 11: center 10.5, MR-bar 1, sigma = 1 / d2 =
    // sqrt(pi) / 2, limits 10.5 ± 3 sqrt(pi) / 2 = 7.8413 to 13.1587. Inside the baseline the
    // points fail test 4 (14 in a row alternating up and down) and test 7 (15 in a row within
    // one sigma: every point is 0.5 from the center, sigma 0.886), each listed once. Then 20,
    // beyond the UCL: test 1.
    for i in 0..41 {
        let value = if i == 40 { 20.0 } else { 10.0 + (i % 2) as f64 };
        hub.apply(Event::Reading {
            stream: STREAM.into(),
            t: 1_764_201_600_000 + i * 1000,
            value,
        });
    }
    let baseline = until(&lines, "baseline complete", &mut seen);
    assert_eq!(
        baseline,
        format!(
            "watch: {STREAM} baseline complete: center 10.5000 mm, limits 7.8413 to 13.1587 mm"
        )
    );
    let finding = until(&lines, "its baseline itself fails", &mut seen);
    assert_eq!(
        finding,
        format!("watch: {STREAM} its baseline itself fails test(s) 4, 7: review the process before trusting these limits")
    );
    // The last baseline point is news as it happens (tests 4 and 7 fire there), then 20.
    let mut signals = Vec::new();
    while !signals
        .last()
        .is_some_and(|l: &String| l.contains("(seq 41,"))
    {
        signals.push(until(&lines, "SIGNAL", &mut seen));
    }
    let words: Vec<&str> = signals
        .iter()
        .map(|l| l.split_once("SIGNAL ").map_or("", |(_, w)| w))
        .collect();
    assert_eq!(words.len(), 3, "{signals:#?}");
    assert!(
        signals[0].starts_with("00:00:39 UTC  line2/diameter "),
        "{signals:#?}"
    );
    assert!(words[0].starts_with("test 4: ") && words[0].ends_with("(seq 40, value 11.0000 mm)"));
    assert!(words[1].starts_with("test 7: ") && words[1].ends_with("(seq 40, value 11.0000 mm)"));
    assert!(
        signals[2].starts_with("00:00:40 UTC  line2/diameter "),
        "{signals:#?}"
    );
    assert!(
        words[2].starts_with("test 1: ") && words[2].ends_with("(seq 41, value 20.0000 mm)"),
        "{signals:#?}"
    );

    hub.apply(Event::Status {
        stream: STREAM.into(),
        state: StreamState::Stale,
        reason: Some("modbus timeout after 500 ms".into()),
    });
    let stale = until(&lines, "is stale", &mut seen);
    assert_eq!(
        stale,
        format!("watch: {STREAM} is stale: modbus timeout after 500 ms")
    );
}
