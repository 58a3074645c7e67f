//! The worker's per-message cost, natively (wasm in the browser is slower by a roughly constant
//! factor): 1,000 Sparkplug edge nodes × 20 metrics born, then one-metric DDATA (report by
//! exception) spread over the 20,000 streams, as `tests/e2e/examples/fleet_dash_bench.rs`
//! publishes them. Measured per message: the MQTT packet alone, the Sparkplug payload alone,
//! and the whole `Fleet::receive` with one WebSocket frame a call (as before) and with a
//! worker's batch of 100 frames in one call (`worker.js` now). Then the 200 ms batch for the
//! page with its grouped view.
//!
//! `cargo bench -p llmscope-app-fleet --bench receive`

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use llmscope_app_fleet::view::Ask;
use llmscope_app_fleet::{Config, Fleet};
use llmscope_protocol::sparkplug::{self, MessageType, Metric, Payload, Topic};
use mqtt5_protocol::packet::connack::ConnAckPacket;
use mqtt5_protocol::packet::publish::PublishPacket;
use mqtt5_protocol::packet::MqttPacket;
use mqtt5_protocol::{Packet, QoS, ReasonCode};
use std::hint::black_box;

const NODES: usize = 1_000;
const METRICS: u64 = 20;
/// Frames the worker hands over in one call when 20,000 messages a second arrive.
const BATCH: usize = 100;

fn packet(p: &impl MqttPacket) -> Vec<u8> {
    let mut buf = BytesMut::new();
    p.encode(&mut buf).unwrap();
    buf.to_vec()
}

fn publish(kind: MessageType, node: usize, seq: u64, metrics: Vec<Metric>) -> Vec<u8> {
    let device = matches!(kind, MessageType::DBirth | MessageType::DData).then_some("press");
    let topic = Topic::edge("plant1", kind, &format!("node{node:04}"), device);
    let payload = Payload {
        timestamp: Some(1),
        seq: Some(seq % 256),
        metrics,
        ..Payload::default()
    };
    packet(&PublishPacket::new(
        topic,
        payload.to_bytes(),
        QoS::AtMostOnce,
    ))
}

/// A connected fleet with every node born, and `n` DDATA frames in the bench's order.
fn born(n: usize) -> (Fleet, Vec<Vec<u8>>) {
    let config: Config = serde_json::from_value(serde_json::json!({
        "url": "ws://b:9001", "subscribe": [{ "topic": "spBv1.0/#" }],
    }))
    .unwrap();
    let mut f = Fleet::new(config, 0.0).unwrap();
    f.connect(0.0).unwrap();
    f.receive(
        &packet(&ConnAckPacket::new(false, ReasonCode::Success)),
        0.0,
    )
    .unwrap();
    for i in 0..NODES {
        f.receive(&publish(MessageType::NBirth, i, 0, vec![]), 0.0)
            .unwrap();
        let metrics = (1..=METRICS)
            .map(|m| Metric::birth(&format!("m{m:02}"), m, 1, 10.0))
            .collect();
        f.receive(&publish(MessageType::DBirth, i, 1, metrics), 0.0)
            .unwrap();
    }
    f.view(Ask {
        count: 40,
        chart: Some("plant1/node0000/press/m01".into()),
        ..Ask::default()
    });
    f.tick(0.0).1.unwrap();
    let mut seq = vec![2u64; NODES];
    let frames = (0..n)
        .map(|k| {
            let i = k % NODES;
            let alias = 1 + (k / NODES) as u64 % METRICS;
            let metric = Metric::data(alias, 2, 10.0 + (k % 7) as f64 * 0.1);
            seq[i] += 1;
            publish(MessageType::DData, i, seq[i] - 1, vec![metric])
        })
        .collect();
    (f, frames)
}

fn per_message(c: &mut Criterion) {
    let (_, frames) = born(20_000);
    let mut g = c.benchmark_group("fleet per message");
    g.throughput(Throughput::Elements(frames.len() as u64));
    g.sample_size(10);
    g.bench_function("MQTT packet decode only", |b| {
        b.iter(|| {
            for f in &frames {
                let mut body = &f[2..]; // fixed header of a short packet: 2 bytes
                let header = mqtt5_protocol::FixedHeader::decode(&mut &f[..]).unwrap();
                black_box(
                    Packet::decode_from_body_with_version(
                        header.packet_type,
                        &header,
                        &mut body,
                        5,
                    )
                    .unwrap(),
                );
            }
        })
    });
    let topic = Topic::edge("plant1", MessageType::DData, "node0001", Some("press"));
    let one = Payload {
        timestamp: Some(1),
        seq: Some(3),
        metrics: vec![Metric::data(3, 2, 10.0)],
        ..Payload::default()
    }
    .to_bytes();
    g.bench_function("Sparkplug topic and payload decode only", |b| {
        b.iter(|| {
            for _ in 0..frames.len() {
                black_box(sparkplug::decode(&topic, &one).unwrap());
            }
        })
    });
    g.bench_function("Fleet::receive, one frame a call", |b| {
        b.iter_batched_ref(
            || fleet_clone(&frames),
            |(f, frames)| {
                for frame in frames.iter() {
                    black_box(f.receive(frame, 1.0).unwrap());
                }
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("Fleet::receive, 100 frames a call", |b| {
        b.iter_batched_ref(
            || {
                let (f, frames) = fleet_clone(&frames);
                let joined: Vec<Vec<u8>> = frames.chunks(BATCH).map(|c| c.concat()).collect();
                (f, joined)
            },
            |(f, joined)| {
                for batch in joined.iter() {
                    black_box(f.receive(batch, 1.0).unwrap());
                }
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// A fresh born fleet for each pass (a pass's `seq` must follow the births').
fn fleet_clone(frames: &[Vec<u8>]) -> (Fleet, Vec<Vec<u8>>) {
    let (f, _) = born(0);
    (f, frames.to_vec())
}

fn batch(c: &mut Criterion) {
    let (_, frames) = born(4_000);
    let mut g = c.benchmark_group("fleet batch");
    g.sample_size(10);
    // The 200 ms batch at 20,000 messages a second: 4,000 streams changed since the last.
    g.bench_function("tick with the view after 4,000 messages", |b| {
        b.iter_batched_ref(
            || {
                let (mut f, frames) = fleet_clone(&frames);
                for frame in &frames {
                    f.receive(frame, 1.0).unwrap();
                }
                f
            },
            |f| black_box(f.tick(1.0)),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, per_message, batch);
criterion_main!(benches);
