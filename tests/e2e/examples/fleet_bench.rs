//! How many messages a second the broker source's worker keeps up with in Chromium, on this
//! machine: 1,000 Sparkplug edge nodes with one device of 20 metrics each (20,000 streams) are
//! born, then publish `--rounds` rounds of one DDATA each (default 10), QoS 0, through
//! mosquitto's WebSocket listener to the worker (app/fleet, built by `cargo xtask site`), each
//! round as fast as a rumqttc client can once the page has every reading of the round before.
//! Printed: the messages and readings a second that reached the page in the worker's batched
//! updates, lost messages (seq gaps), and the main thread's longest task (PerformanceObserver
//! `longtask`) while live.
//!
//! `cargo run -p llmscope-e2e --release --example fleet_bench [-- --rounds R]`

use llmscope_e2e::{fleet_worker_path, free_port, serve_fleet_page, Driver, Mosquitto};
use llmscope_protocol::sparkplug::{MessageType, Metric, Payload, Topic};
use rumqttc::{AsyncClient, MqttOptions, QoS};
use serde_json::json;
use std::time::{Duration, Instant};

const NODES: usize = 1_000;
const METRICS: usize = 20;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = match (args.next().as_deref(), args.next()) {
        (Some("--rounds"), Some(r)) => r.parse().expect("--rounds takes a whole number"),
        _ => 10,
    };
    let worker = fleet_worker_path();
    let (tcp, ws, ws_closed, http) = (free_port(), free_port(), free_port(), free_port());
    let _broker = Mosquitto::start(tcp, ws, ws_closed);
    serve_fleet_page(http).await;
    let driver = Driver::start();
    let client = driver.browser().await;
    client
        .goto(&format!("http://127.0.0.1:{http}/fleet.html"))
        .await
        .expect("the page");
    let config = json!({ "url": format!("ws://127.0.0.1:{ws}"), "qos": 0, "subscribe": [{ "topic": "spBv1.0/#" }] });
    client
        .execute(
            "fleetStart('bench', arguments[0], arguments[1]);",
            vec![json!(worker), config],
        )
        .await
        .expect("start the worker");
    let page = |script: &'static str| {
        let client = client.clone();
        async move { client.execute(script, vec![]).await.expect(script) }
    };
    while !page("return JSON.stringify(window.fleet.bench.statuses)")
        .await
        .to_string()
        .contains("connected")
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut options = MqttOptions::new("fleet-bench", "127.0.0.1", tcp);
    options.set_keep_alive(Duration::from_secs(30));
    let (publisher, mut events) = AsyncClient::new(options, 10_000);
    tokio::spawn(async move { while events.poll().await.is_ok() {} });
    let node = |i: usize| format!("node{i:04}");
    for i in 0..NODES {
        let birth = Payload {
            seq: Some(0),
            ..Payload::default()
        };
        publisher
            .publish(
                Topic::edge("bench", MessageType::NBirth, &node(i), None),
                QoS::AtMostOnce,
                false,
                birth.to_bytes(),
            )
            .await
            .expect("publish");
        let metrics = (0..METRICS)
            .map(|j| Metric::birth(&format!("m{j:02}"), j as u64 + 1, 1, 10.0))
            .collect();
        let dbirth = Payload {
            seq: Some(1),
            metrics,
            ..Payload::default()
        };
        publisher
            .publish(
                Topic::edge("bench", MessageType::DBirth, &node(i), Some("machine")),
                QoS::AtMostOnce,
                false,
                dbirth.to_bytes(),
            )
            .await
            .expect("publish");
    }
    // Closed loop: each round (one DDATA per node) is published when the page has every reading
    // of the round before, so the broker's queue for the browser (mosquitto drops past 1,000
    // queued messages) never overflows and the rate is the worker's, not the broker's.
    let mut start = Instant::now();
    let mut seen = 0.0;
    for round in 0..=rounds {
        let expected = (NODES * METRICS * (round + 1)) as f64;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            seen =
                page("return window.fleet.bench.counts ? window.fleet.bench.counts.readings : 0")
                    .await
                    .as_f64()
                    .unwrap_or(0.0);
            if seen >= expected || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if round == 0 {
            page("window.longTasks = []; return 0").await; // the births are not "live"
            start = Instant::now();
        }
        if round == rounds {
            break;
        }
        for i in 0..NODES {
            let metrics = (0..METRICS)
                .map(|j| {
                    Metric::data(
                        j as u64 + 1,
                        round as u64 + 2,
                        10.0 + ((i + j + round) % 7) as f64 * 0.1,
                    )
                })
                .collect();
            let data = Payload {
                seq: Some((round as u64 + 2) % 256),
                metrics,
                ..Payload::default()
            };
            publisher
                .publish(
                    Topic::edge("bench", MessageType::DData, &node(i), Some("machine")),
                    QoS::AtMostOnce,
                    false,
                    data.to_bytes(),
                )
                .await
                .expect("publish");
        }
    }
    let expected = (NODES * METRICS * (rounds + 1)) as f64;
    let done = start.elapsed().as_secs_f64();
    let messages = (NODES * rounds) as f64;
    let longest = page("return Math.max(0, ...window.longTasks)")
        .await
        .as_f64()
        .unwrap_or(0.0);
    let streams = page("return Object.keys(window.fleet.bench.streams).length").await;
    let problems = page("return window.fleet.bench.counts.problems").await;
    println!("fleet bench: {NODES} nodes x {METRICS} metrics ({streams} streams), {rounds} rounds of DDATA = {messages} messages");
    println!("  all {seen}/{expected} readings (births included) on the page, the rounds took {done:.2} s: {:.0} messages/s, {:.0} readings/s", messages / done, messages * METRICS as f64 / done);
    println!("  problems (seq gaps: messages lost): {problems}");
    println!(
        "  the page's longest main-thread task while live: {longest:.0} ms (0: none over 50 ms)"
    );
    let _ = client.close().await;
}
