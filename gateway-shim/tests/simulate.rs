//! `llmscope-shim simulate` end to end, as a user runs it: the real binary, its in-process plant
//! polled over real Modbus TCP, and a WebSocket client.

mod support;

use futures_util::StreamExt;
use llmscope_protocol::ServerFrame;
use std::process::Command;
use std::time::Duration;
use support::{free_port, wait_for_port, Peer};
use tokio_tungstenite::tungstenite::Message;

fn shim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_llmscope-shim"))
}

async fn frames(url: &str, until_seq: u64) -> Vec<ServerFrame> {
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let last = out.iter().rev().find_map(|f| match f {
            ServerFrame::Sample(s) => Some(s.seq),
            ServerFrame::Batch { samples } => samples.last().map(|s| s.seq),
            _ => None,
        });
        if last.is_some_and(|l| l >= until_seq) {
            return out;
        }
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                out.push(ServerFrame::parse(&t).expect("valid frame"))
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("stream ended early: {other:?}; frames so far: {out:?}"),
        }
    }
}

fn samples(frames: &[ServerFrame]) -> Vec<llmscope_protocol::Sample> {
    frames
        .iter()
        .flat_map(|f| match f {
            ServerFrame::Sample(s) => vec![s.clone()],
            ServerFrame::Batch { samples } => samples.clone(),
            _ => vec![],
        })
        .collect()
}

#[tokio::test]
async fn the_demo_plant_streams_through_real_modbus_and_resumes_without_loss() {
    let port = free_port();
    let _shim = Peer::start(shim().args([
        "simulate",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--interval-ms",
        "100",
    ]));
    wait_for_port(port, Duration::from_secs(20)).await;
    let url = format!("ws://127.0.0.1:{port}/ws");
    let first = frames(&format!("{url}?since=0"), 30).await;
    let ServerFrame::Hello { streams, .. } = &first[0] else {
        panic!("hello first: {first:?}")
    };
    let ids: Vec<&str> = streams.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "press1/barrel_temperature",
            "press1/cycle_time",
            "cnc1/spindle_vibration",
            "line1/energy",
            "line1/parts",
            "line1/scrap"
        ]
    );
    assert_eq!(streams[0].unit.as_deref(), Some("°C"));
    let got = samples(&first);
    assert_eq!(
        got.iter().map(|s| s.seq).collect::<Vec<_>>(),
        (1..=got.len() as u64).collect::<Vec<_>>()
    );
    let temperature: Vec<f64> = got
        .iter()
        .filter(|s| s.stream == "press1/barrel_temperature")
        .map(|s| s.value)
        .collect();
    assert!(
        temperature.iter().all(|v| (215.0..235.0).contains(v)),
        "plausible temperatures: {temperature:?}"
    );

    // Reconnect after the last seq seen: everything after it, in order, once.
    let seen = got.last().map(|s| s.seq).unwrap_or(0);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let again = samples(&frames(&format!("{url}?since={seen}"), seen + 20).await);
    assert_eq!(again.first().map(|s| s.seq), Some(seen + 1));
    assert!(
        again.windows(2).all(|w| w[1].seq == w[0].seq + 1),
        "no loss, no duplicates"
    );
}

#[test]
fn a_public_address_without_a_token_is_refused() {
    let out = shim()
        .args(["simulate", "--listen", "0.0.0.0:0"])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("token is required"), "{err}");
}

#[tokio::test]
async fn sigterm_closes_every_client_and_exits_zero() {
    let port = free_port();
    let child = shim()
        .args([
            "simulate",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--interval-ms",
            "100",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the shim starts");
    let pid = child.id();
    wait_for_port(port, Duration::from_secs(20)).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws"))
        .await
        .expect("connect");
    // Data flows before the signal.
    loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
            Ok(Some(Ok(Message::Text(t))))
                if t.contains("\"sample\"") || t.contains("\"batch\"") =>
            {
                break
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("no sample before the signal: {other:?}"),
        }
    }
    let kill = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    // The client is told: a close frame, not a dropped connection.
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame,
            Ok(Some(Ok(_))) => {}
            other => panic!("no close frame after SIGTERM: {other:?}"),
        }
    };
    assert!(closed.is_none(), "a plain close: {closed:?}");
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("the shim exits");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert!(
        stdout.contains(&format!("streaming on ws://127.0.0.1:{port}/ws")),
        "{stdout}"
    );
    assert_eq!(stderr.trim(), "llmscope-shim: stopping", "{stderr}");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the port is released"
    );
}
