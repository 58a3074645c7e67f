//! The MQTT source and the republisher against a real broker: each test starts its own
//! mosquitto on a free port (never the system one) and publishes or subscribes with a rumqttc
//! client, so topic matching, payload reading, reconnection and delivery are what a plant would
//! see. Config errors are checked through the same loader `run --config` uses.

mod support;

#[path = "support/mqtt.rs"]
mod mqtt_support;

use llmscope_protocol::{Sample, StreamInfo, StreamState};
use llmscope_shim::source::Event;
use mqtt_support::*;
use rumqttc::{AsyncClient, MqttOptions, QoS};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use support::{events_until, free_port};
use tokio::sync::broadcast;
use tokio::time::{timeout, timeout_at, Instant};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn wildcards_pointers_and_plain_payloads_make_streams() {
    let port = free_port();
    let _broker = Broker::start(port).await;
    let (streams, mut rx, shutdown, task) = start_source(&format!(
        r#"
[[mqtt]]
name = "plant"
broker = "mqtt://127.0.0.1:{port}"
qos = 1

[[mqtt.subscribe]]
topic = "plant/line2/+/vibration"
value = "/rms"
time = "/ts"
stream = "line2/{{1}}/vibration"
unit = "mm/s"
usl = 7.1

[[mqtt.subscribe]]
topic = "plant/line2/+/temp"
stream = "line2/{{1}}/temp"

[[mqtt.subscribe]]
topic = "plant/line3/+/#"
value = "/data/v"
stream = "line3/{{2}}@{{1}}"

[[mqtt.subscribe]]
topic = "plant/press1/pressure"
stream = "press1/pressure"
unit = "bar"
"#
    ));
    assert_eq!(
        streams,
        [StreamInfo {
            id: "press1/pressure".into(),
            unit: Some("bar".into()),
            lsl: None,
            usl: None
        }],
        "only the stream without placeholders is known upfront"
    );
    let client = Client::connect(port, "test-pub-1");
    publish_until(&client, &mut rx, "plant/press1/pressure", "1.25", |e| {
        is_reading(e, "press1/pressure", 1.25)
    })
    .await;

    client
        .publish(
            "plant/line2/a/vibration",
            r#"{"rms": 2.5, "ts": 1764201600123}"#,
        )
        .await;
    client
        .publish(
            "plant/line2/b/vibration",
            r#"{"rms": "3.5", "ts": "2025-11-27T00:00:01+00:00"}"#,
        )
        .await;
    client.publish("plant/line2/a/temp", " 41.5\n").await;
    client
        .publish("plant/line3/cell7/load/max", r#"{"data": {"v": 9}}"#)
        .await;
    client.publish("plant/other/x", "5").await;
    client.publish("plant/press1/pressure", "2").await;
    let expected: [(&str, f64, Option<i64>); 5] = [
        ("line2/a/vibration", 2.5, Some(1_764_201_600_123)),
        ("line2/b/vibration", 3.5, Some(1_764_201_601_000)),
        ("line2/a/temp", 41.5, None),
        ("line3/load/max@cell7", 9.0, None),
        ("press1/pressure", 2.0, None),
    ];
    let events = events_until(&mut rx, WITHIN, |seen| {
        expected
            .iter()
            .all(|(s, v, _)| seen.iter().any(|e| is_reading(e, s, *v)))
    })
    .await;
    for (stream, value, t) in expected {
        let reading = events
            .iter()
            .position(|e| is_reading(e, stream, value))
            .unwrap_or(usize::MAX);
        if let (Some(t), Some(Event::Reading { t: got, .. })) = (t, events.get(reading)) {
            assert_eq!(*got, t, "{stream}: the time from the payload");
        } else if let Some(Event::Reading { t: got, .. }) = events.get(reading) {
            assert!(
                *got > 1_700_000_000_000,
                "{stream}: the arrival time, got {got}"
            );
        }
        let discovered = events
            .iter()
            .position(|e| matches!(e, Event::Discovered(i) if i.id == stream));
        if stream == "press1/pressure" {
            assert_eq!(
                discovered, None,
                "an announced stream is not discovered again"
            );
        } else {
            assert!(
                discovered.is_some_and(|d| d < reading),
                "{stream} is discovered before its first reading: {events:?}"
            );
        }
    }
    let vibration = events.iter().find_map(|e| match e {
        Event::Discovered(i) if i.id == "line2/a/vibration" => Some(i.clone()),
        _ => None,
    });
    assert_eq!(
        vibration,
        Some(StreamInfo {
            id: "line2/a/vibration".into(),
            unit: Some("mm/s".into()),
            lsl: None,
            usl: Some(7.1)
        })
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::Reading { value, .. } if *value == 5.0)),
        "an unsubscribed topic is ignored: {events:?}"
    );
    assert!(
        !events.iter().any(|e| matches!(e, Event::Malformed { .. })),
        "{events:?}"
    );
    stop(shutdown, task).await;
}

#[tokio::test]
async fn malformed_payloads_are_reported_and_the_stream_goes_on() {
    let port = free_port();
    let _broker = Broker::start(port).await;
    let (_, mut rx, shutdown, task) = start_source(&format!(
        r#"
[[mqtt]]
name = "cell"
broker = "mqtt://127.0.0.1:{port}"

[[mqtt.subscribe]]
topic = "plant/+/v"
stream = "{{1}}/v"

[[mqtt.subscribe]]
topic = "plant/+/j"
value = "/x"
stream = "{{1}}/j"
"#
    ));
    let client = Client::connect(port, "test-pub-2");
    publish_until(&client, &mut rx, "plant/s/v", "0", |e| {
        is_reading(e, "s/v", 0.0)
    })
    .await;

    client.publish("plant/s/v", "1").await;
    client.publish("plant/s/v", "abc").await;
    client.publish("plant/s/v", vec![0xff, 0xfe, 0x00]).await;
    client.publish("plant/s/v", "NaN").await;
    client.publish("plant/s/v", "2").await;
    client.publish("plant/s/j", r#"{"x": 10}"#).await;
    client.publish("plant/s/j", "{bad").await;
    client.publish("plant/s/j", r#"{"y": 1}"#).await;
    client.publish("plant/s/j", r#"{"x": "zz"}"#).await;
    client.publish("plant/s/j", r#"{"x": "11"}"#).await;
    client.publish("plant/s/v", "3").await;
    let events = events_until(&mut rx, WITHIN, |seen| {
        seen.iter()
            .filter(|e| matches!(e, Event::Malformed { .. }))
            .count()
            >= 6
            && seen.iter().any(|e| is_reading(e, "s/v", 3.0))
    })
    .await;
    let values = |stream: &str| -> Vec<f64> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Reading {
                    stream: s, value, ..
                } if s == stream => Some(*value),
                _ => None,
            })
            .collect()
    };
    assert_eq!(values("s/v"), [1.0, 2.0, 3.0], "{events:?}");
    assert_eq!(values("s/j"), [10.0, 11.0], "{events:?}");
    let details: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::Malformed { source, detail } => {
                assert_eq!(source, "cell");
                Some(detail.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(details.len(), 6, "{details:?}");
    assert_eq!(details[0], "topic plant/s/v: payload 'abc' is not a number");
    assert!(details[1].contains("not UTF-8"), "{}", details[1]);
    assert!(
        details[2].contains("'NaN' is not a finite number"),
        "{}",
        details[2]
    );
    assert!(
        details[3].starts_with("topic plant/s/j: payload '{bad' is not JSON"),
        "{}",
        details[3]
    );
    assert!(details[4].contains("has no /x"), "{}", details[4]);
    assert!(
        details[5].contains("/x 'zz' is not a number"),
        "{}",
        details[5]
    );
    stop(shutdown, task).await;
}

#[tokio::test]
async fn a_restarted_broker_is_resubscribed() {
    let port = free_port();
    let mut broker = Broker::start(port).await;
    let (_, mut rx, shutdown, task) = start_source(&format!(
        r#"
[[mqtt]]
name = "cell"
broker = "mqtt://127.0.0.1:{port}"
keep_alive_s = 5

[[mqtt.subscribe]]
topic = "plant/+/v"
stream = "{{1}}/v"
"#
    ));
    let client = Client::connect(port, "test-pub-3");
    publish_until(&client, &mut rx, "plant/s/v", "1", |e| {
        is_reading(e, "s/v", 1.0)
    })
    .await;
    drop(client);

    broker.peer.stop();
    let events = events_until(&mut rx, WITHIN, |seen| {
        seen.iter().any(|e| matches!(e, Event::Status { stream, state: StreamState::Stale, .. } if stream == "s/v"))
    })
    .await;
    let reason = events.iter().find_map(|e| match e {
        Event::Status { reason, .. } => reason.clone(),
        _ => None,
    });
    assert!(
        reason
            .as_deref()
            .is_some_and(|r| r.contains(&port.to_string())),
        "the reason names the broker: {reason:?}"
    );

    drop(broker);
    let _broker = Broker::start(port).await;
    let client = Client::connect(port, "test-pub-3b");
    let events = publish_until(&client, &mut rx, "plant/s/v", "7", |e| {
        is_reading(e, "s/v", 7.0)
    })
    .await;
    let live = events.iter().position(
        |e| matches!(e, Event::Status { stream, state: StreamState::Live, .. } if stream == "s/v"),
    );
    assert!(
        live.is_some_and(|l| l + 1 < events.len()),
        "live again before the reading: {events:?}"
    );
    stop(shutdown, task).await;
}

/// Connects with `id` (taking the id over from whoever holds it), then leaves.
async fn kick(port: u16, id: &str) {
    let (_client, mut events) = AsyncClient::new(MqttOptions::new(id, "127.0.0.1", port), 10);
    let deadline = Instant::now() + WITHIN;
    loop {
        match timeout_at(deadline, events.poll())
            .await
            .expect("connected in time")
        {
            Ok(rumqttc::Event::Incoming(rumqttc::Packet::ConnAck(_))) => return,
            Ok(_) => {}
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

#[tokio::test]
async fn a_retained_value_is_read_once_not_again_after_a_reconnect() {
    let port = free_port();
    let _broker = Broker::start(port).await;
    let client = Client::connect(port, "test-pub-6");
    client
        .client
        .publish("plant/r/v", QoS::AtLeastOnce, true, "5")
        .await
        .expect("queue a publish");
    let (_, mut rx, shutdown, task) = start_source(&format!(
        r#"
[[mqtt]]
name = "cell"
broker = "mqtt://127.0.0.1:{port}"
client_id = "llmscope-test-6"

[[mqtt.subscribe]]
topic = "plant/+/v"
stream = "{{1}}/v"
"#
    ));
    events_until(&mut rx, WITHIN, |seen| {
        seen.iter().any(|e| is_reading(e, "r/v", 5.0))
    })
    .await;

    // Another client with the same id makes the broker drop the source, which reconnects,
    // subscribes again and is sent the retained "5" once more.
    kick(port, "llmscope-test-6").await;
    let events = events_until(&mut rx, WITHIN, |seen| {
        seen.iter().any(|e| {
            matches!(
                e,
                Event::Status {
                    state: StreamState::Stale,
                    ..
                }
            )
        })
    })
    .await;
    assert!(
        !events.iter().any(|e| matches!(e, Event::Reading { .. })),
        "{events:?}"
    );
    let events = publish_until(&client, &mut rx, "plant/r/v", "6", |e| {
        is_reading(e, "r/v", 6.0)
    })
    .await;
    assert!(
        !events.iter().any(|e| is_reading(e, "r/v", 5.0)),
        "the retained value is not read again: {events:?}"
    );
    stop(shutdown, task).await;
}

#[tokio::test]
async fn a_broker_that_is_down_at_start_marks_announced_streams_stale() {
    let port = free_port();
    let (_, mut rx, shutdown, task) = start_source(&format!(
        r#"
[[mqtt]]
name = "press"
broker = "mqtt://127.0.0.1:{port}"

[[mqtt.subscribe]]
topic = "press1/temp"
stream = "press1/temp"
"#
    ));
    let events = events_until(&mut rx, WITHIN, |seen| !seen.is_empty()).await;
    assert!(
        matches!(&events[0], Event::Status { stream, state: StreamState::Stale, reason: Some(_) } if stream == "press1/temp"),
        "{events:?}"
    );
    let _broker = Broker::start(port).await;
    let client = Client::connect(port, "test-pub-4");
    publish_until(&client, &mut rx, "press1/temp", "70.5", |e| {
        is_reading(e, "press1/temp", 70.5)
    })
    .await;
    stop(shutdown, task).await;
}

#[tokio::test]
async fn the_republisher_delivers_samples() {
    let port = free_port();
    let _broker = Broker::start(port).await;
    let mut subscriber = Client::connect(port, "test-sub-5");
    subscriber
        .client
        .subscribe("llmscope/test/#", QoS::AtMostOnce)
        .await
        .expect("queue a subscribe");

    let (tx, rx) = broadcast::channel(64);
    let shutdown = CancellationToken::new();
    let config =
        llmscope_shim::publish::Config::json(format!("mqtt://127.0.0.1:{port}"), "llmscope/test");
    let task = tokio::spawn(llmscope_shim::publish::run(
        config,
        vec![],
        rx,
        shutdown.clone(),
        Default::default(),
    ));
    let sample = |seq: u64, stream: &str| {
        Arc::new(Sample {
            stream: stream.into(),
            seq,
            t: 1_764_201_600_000 + seq as i64,
            value: seq as f64 / 2.0,
        })
    };

    // Until the subscriber is subscribed, samples miss it: send until one arrives.
    let deadline = Instant::now() + WITHIN;
    loop {
        let _ = tx.send(sample(0, "warmup"));
        if timeout(Duration::from_millis(300), subscriber.rx.recv())
            .await
            .is_ok()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no sample reached the subscriber in {WITHIN:?}"
        );
    }
    for seq in 1..=5 {
        let stream = if seq % 2 == 0 {
            "press1/temp"
        } else {
            "line2/a/vibration"
        };
        tx.send(sample(seq, stream))
            .expect("the republisher listens");
    }
    let mut got = Vec::new();
    while got.len() < 5 {
        let p = timeout(WITHIN, subscriber.rx.recv())
            .await
            .expect("samples arrive")
            .expect("subscriber runs");
        let json: serde_json::Value = serde_json::from_slice(&p.payload).expect("JSON");
        if json["stream"] == "warmup" {
            continue;
        }
        let s: Sample = serde_json::from_value(json.clone()).expect("a sample");
        assert_eq!(p.topic, format!("llmscope/test/{}", s.stream));
        assert_eq!(p.qos, QoS::AtMostOnce);
        assert!(!p.retain);
        assert_eq!(json.as_object().map(|o| o.len()), Some(4), "{json}");
        got.push(s);
    }
    got.sort_by_key(|s| s.seq);
    let expected: Vec<_> = (1..=5)
        .map(|seq| {
            (*sample(
                seq,
                if seq % 2 == 0 {
                    "press1/temp"
                } else {
                    "line2/a/vibration"
                },
            ))
            .clone()
        })
        .collect();
    assert_eq!(got, expected);

    shutdown.cancel();
    timeout(Duration::from_secs(3), task)
        .await
        .expect("the republisher returns after shutdown")
        .expect("no panic");
}

#[tokio::test]
async fn the_republisher_ends_when_the_hub_does_and_survives_no_broker() {
    let port = free_port();
    let (tx, rx) = broadcast::channel(4);
    let config =
        llmscope_shim::publish::Config::json(format!("mqtt://127.0.0.1:{port}"), "llmscope");
    let task = tokio::spawn(llmscope_shim::publish::run(
        config,
        vec![],
        rx,
        CancellationToken::new(),
        Default::default(),
    ));
    for seq in 0..100 {
        let _ = tx.send(Arc::new(Sample {
            stream: "a".into(),
            seq,
            t: 0,
            value: 0.0,
        }));
    }
    drop(tx);
    timeout(Duration::from_secs(3), task)
        .await
        .expect("the republisher returns without a sender")
        .expect("no panic");
}

/// The 1-based line of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("the needle is in the text")
        + 1
}

const BASE: &str = r#"# plant.toml
[server]
listen = "127.0.0.1:9750"

[[mqtt]]
name = "line2"
broker = "mqtt://127.0.0.1:1883"

[[mqtt.subscribe]]
topic = "plant/line2/+/vibration"
value = "/rms"
stream = "line2/{1}/vibration"

[[mqtt.subscribe]]
topic = "plant/line2/+/temp"
stream = "line2/{1}/temp"
"#;

#[test]
fn config_errors_name_the_line_and_key() {
    llmscope_shim::config::parse(BASE, "plant.toml").expect("the base config is valid");
    let cases = [
        // (replace, with, expected key, line of)
        (
            "stream = \"line2/{1}/temp\"",
            "stream = \"line2/{1}/temp\"\ncolour = \"red\"",
            "colour",
            "colour",
        ),
        (
            "topic = \"plant/line2/+/temp\"",
            "topic = \"plant/#/temp\"",
            "mqtt[0].subscribe[1].topic",
            "plant/#/temp",
        ),
        (
            "stream = \"line2/{1}/temp\"",
            "stream = \"line2/{1}/temp\"\nvalue = \"rms\"",
            "mqtt[0].subscribe[1].value",
            "\"rms\"",
        ),
        (
            "stream = \"line2/{1}/temp\"",
            "stream = \"line2/{3}/temp\"",
            "mqtt[0].subscribe[1].stream",
            "{3}",
        ),
        (
            "broker = \"mqtt://127.0.0.1:1883\"",
            "broker = \"http://127.0.0.1:1883\"",
            "mqtt[0].broker",
            "http://",
        ),
        (
            "broker = \"mqtt://127.0.0.1:1883\"",
            "broker = \"mqtt://127.0.0.1:1883\"\nqos = 3",
            "mqtt[0].qos",
            "qos = 3",
        ),
        (
            "[server]",
            "[publish]\nbroker = \"mqtt://h\"\ntopic_prefix = \"a/#\"\n[server]",
            "publish.topic_prefix",
            "a/#",
        ),
    ];
    for (from, to, key, needle) in cases {
        let text = BASE.replacen(from, to, 1);
        let e = llmscope_shim::config::parse(&text, "plant.toml")
            .expect_err(to)
            .to_string();
        let line = line_of(&text, needle);
        assert!(e.starts_with("plant.toml:"), "{e}");
        assert!(
            e.contains(&format!("line {line}:")),
            "{to}: expected line {line}: {e}"
        );
        assert!(e.contains(key), "{to}: expected {key}: {e}");
    }
    let e = llmscope_shim::config::parse(
        &BASE.replacen("stream = \"line2/{1}/temp\"", "stream = \"t/{3}\"", 1),
        "plant.toml",
    )
    .expect_err("{3}")
    .to_string();
    assert!(e.contains("only 1 wildcard"), "{e}");
}

#[test]
fn the_sample_config_is_valid() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/source/mqtt/sample.toml");
    let text = std::fs::read_to_string(&path).expect("src/source/mqtt/sample.toml");
    let config = llmscope_shim::config::parse(&text, "mqtt.toml").unwrap_or_else(|e| panic!("{e}"));
    assert!(!config.mqtt.is_empty());
}
