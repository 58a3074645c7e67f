//! Issue 15's broker source, engine side, in headless Chromium against a real mosquitto with a
//! `protocol websockets` listener: a test page starts the built worker
//! (`pkg/fleet-worker-<hash>.js`, app/fleet) twice, as an MQTT 5 and an MQTT 3.1.1 client,
//! and a rumqttc client publishes Sparkplug B births and data for two edge nodes and plain
//! JSON and numbers on other topics. The worker's batched updates, merged by the page, must
//! show the streams `{group}/{node}/{device}/{metric}` and the mapped plain ones with the
//! published values; an NDEATH makes only that node's streams stale and a new NBIRTH (new
//! `bdSeq`) revives them; a skipped `seq` is counted and answered with a rebirth request (the
//! option is on); an alias no birth named is reported and makes no stream. Two more workers
//! (MQTT 5 and 3.1.1) on a listener that refuses anonymous clients report the refusal with
//! its reason code.

use llmscope_e2e::{
    eventually, fleet_worker_path, free_port, js, serve_fleet_page, Driver, Mosquitto, DEADLINE,
};
use llmscope_protocol::sparkplug::{
    MessageType, Metric, MetricValue, Payload, Topic, BD_SEQ, REBIRTH,
};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::sync::mpsc;

/// A publisher that also hears the rebirth requests (NCMD) the workers send.
struct Publisher {
    client: AsyncClient,
    commands: mpsc::UnboundedReceiver<rumqttc::Publish>,
}

impl Publisher {
    async fn connect(port: u16) -> Publisher {
        let mut options = MqttOptions::new("fleet-test-publisher", "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(5));
        let (client, mut events) = AsyncClient::new(options, 100);
        let (tx, commands) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let _ = tx.send(p);
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        });
        client
            .subscribe("spBv1.0/+/NCMD/+", QoS::AtLeastOnce)
            .await
            .expect("subscribe to NCMD");
        Publisher { client, commands }
    }

    async fn publish(&self, topic: &str, payload: Vec<u8>) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .expect("publish");
    }

    async fn sparkplug(
        &self,
        kind: MessageType,
        node: &str,
        device: Option<&str>,
        seq: Option<u64>,
        metrics: Vec<Metric>,
    ) {
        let payload = Payload {
            timestamp: Some(1_700_000_000_000),
            seq,
            metrics,
            ..Payload::default()
        };
        self.publish(
            &Topic::edge("plant1", kind, node, device),
            payload.to_bytes(),
        )
        .await;
    }

    /// An edge node's birth (bdSeq `bd`) and its device press7's, as a node sends them.
    async fn born(&self, node: &str, bd: u64, temperature: f64) {
        let bd_seq = Metric {
            name: Some(BD_SEQ.into()),
            datatype: Some(8),
            value: Some(MetricValue::LongValue(bd)),
            ..Metric::default()
        };
        let uptime = Metric::birth("uptime", 1, 1_700_000_000_000, 5.0);
        self.sparkplug(
            MessageType::NBirth,
            node,
            None,
            Some(0),
            vec![bd_seq, uptime],
        )
        .await;
        let metrics = vec![
            Metric::birth("temperature", 10, 1_700_000_000_000, temperature),
            Metric::birth("pressure", 11, 1_700_000_000_000, 3.5),
        ];
        self.sparkplug(MessageType::DBirth, node, Some("press7"), Some(1), metrics)
            .await;
    }

    /// The next rebirth request's topic.
    async fn rebirth_request(&mut self) -> String {
        let p = tokio::time::timeout(DEADLINE, self.commands.recv())
            .await
            .expect("a rebirth request in time")
            .expect("the publisher's loop");
        let payload = Payload::from_bytes(&p.payload).expect("a Sparkplug payload");
        assert_eq!(payload.metrics[0].name.as_deref(), Some(REBIRTH));
        assert_eq!(
            payload.metrics[0].value,
            Some(MetricValue::BooleanValue(true))
        );
        p.topic
    }
}

/// What the page merged from worker `name`.
async fn state(client: &fantoccini::Client, name: &str) -> Value {
    js(client, &format!("return window.fleet[{name:?}] ?? null;")).await
}

/// Waits until `check` holds on worker `name`'s state; says what was seen otherwise.
async fn until(
    client: &fantoccini::Client,
    name: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    eventually(what, DEADLINE, || async {
        let s = state(client, name).await;
        if check(&s) {
            Ok(s)
        } else {
            Err(format!("{name}: {s:#}"))
        }
    })
    .await
}

fn stream<'a>(s: &'a Value, id: &str) -> &'a Value {
    &s["streams"][id]
}

#[tokio::test]
async fn the_worker_reads_sparkplug_and_plain_topics_from_mosquitto_over_websockets() {
    let worker = fleet_worker_path();
    let (tcp, ws, ws_closed, http) = (free_port(), free_port(), free_port(), free_port());
    let _broker = Mosquitto::start(tcp, ws, ws_closed);
    serve_fleet_page(http).await;
    let driver = Driver::start();
    let client = driver.browser().await;
    client
        .goto(&format!("http://127.0.0.1:{http}/fleet.html"))
        .await
        .expect("the test page");

    let url = format!("ws://127.0.0.1:{ws}");
    let v5 = json!({
        "url": url, "version": 5, "client_id": "fleet-v5", "rebirth": true,
        "subscribe": [
            { "topic": "spBv1.0/#" },
            { "topic": "plant/+/temp", "stream": "{1}/temp", "value": "/v" },
            { "topic": "plant/+/speed", "stream": "{1}/speed" },
        ],
    });
    let v311 = json!({
        "url": url, "version": 4, "client_id": "fleet-v311",
        "subscribe": [{ "topic": "plant/+/speed", "stream": "{1}/speed" }],
    });
    // The same clients on a listener that refuses anonymous ones.
    let refused = |version: u8| {
        json!({
            "url": format!("ws://127.0.0.1:{ws_closed}"), "version": version,
            "subscribe": [{ "topic": "plant/+/speed", "stream": "{1}/speed" }],
        })
    };
    let starts = [
        ("v5", v5),
        ("v311", v311),
        ("refused5", refused(5)),
        ("refused311", refused(4)),
    ];
    for (name, config) in starts {
        client
            .execute(
                "fleetStart(arguments[0], arguments[1], arguments[2]);",
                vec![json!(name), json!(worker), config],
            )
            .await
            .expect("start a worker");
    }
    for name in ["v5", "v311"] {
        until(&client, name, "the worker connected and subscribed", |s| {
            s["statuses"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x["state"] == "connected"))
        })
        .await;
    }

    for (name, reason) in [
        ("refused5", "NotAuthorized (MQTT 5)"),
        ("refused311", "NotAuthorized (MQTT 3.1.1)"),
    ] {
        let s = until(&client, name, "the refusal reported", |s| {
            s["statuses"].to_string().contains("refused")
        })
        .await;
        let statuses = s["statuses"].to_string();
        assert!(
            statuses.contains(&format!("the broker refused the connection: {reason}")),
            "{statuses}"
        );
        assert!(!statuses.contains("\"connected\""), "{statuses}");
    }

    let mut broker = Publisher::connect(tcp).await;
    for (node, temperature) in [("edge1", 20.0), ("edge2", 21.0)] {
        broker.born(node, 0, temperature).await;
        broker
            .sparkplug(
                MessageType::DData,
                node,
                Some("press7"),
                Some(2),
                vec![Metric::data(10, 1_700_000_001_000, temperature + 10.0)],
            )
            .await;
    }
    broker
        .publish("plant/line1/temp", br#"{"v": 21.5}"#.to_vec())
        .await;
    broker.publish("plant/line1/speed", b"1200".to_vec()).await;

    let s = until(&client, "v5", "the Sparkplug and plain streams", |s| {
        stream(s, "plant1/edge1/press7/temperature")["last"] == 30.0
            && stream(s, "plant1/edge2/press7/temperature")["last"] == 31.0
            && stream(s, "line1/speed")["last"] == 1200.0
    })
    .await;
    assert_eq!(
        stream(&s, "plant1/edge1/press7/temperature")["n"],
        2,
        "birth and data: {s:#}"
    );
    assert_eq!(
        stream(&s, "plant1/edge1/press7/temperature")["t"],
        1_700_000_001_000.0_f64
    );
    assert_eq!(stream(&s, "plant1/edge2/press7/pressure")["last"], 3.5);
    assert_eq!(stream(&s, "plant1/edge1/uptime")["last"], 5.0);
    assert_eq!(stream(&s, "line1/temp")["last"], 21.5);
    assert_eq!(s["nodes"]["plant1/edge1"]["state"], "online");
    assert!(
        stream(&s, "plant1/edge1/bdSeq").is_null(),
        "bdSeq is bookkeeping, not a stream"
    );
    until(&client, "v311", "the plain stream over MQTT 3.1.1", |s| {
        stream(s, "line1/speed")["last"] == 1200.0
    })
    .await;

    // edge1 dies: its streams (node and device) go stale, edge2's stay live.
    let bd0 = Metric {
        name: Some(BD_SEQ.into()),
        datatype: Some(8),
        value: Some(MetricValue::LongValue(0)),
        ..Metric::default()
    };
    broker
        .sparkplug(MessageType::NDeath, "edge1", None, None, vec![bd0])
        .await;
    let s = until(&client, "v5", "edge1's streams stale", |s| {
        stream(s, "plant1/edge1/press7/temperature")["status"] == "stale"
    })
    .await;
    for id in ["plant1/edge1/uptime", "plant1/edge1/press7/pressure"] {
        assert_eq!(stream(&s, id)["status"], "stale", "{id}");
        assert!(
            stream(&s, id)["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("NDEATH"),
            "{id}"
        );
    }
    assert_eq!(
        stream(&s, "plant1/edge2/press7/temperature")["status"],
        "live"
    );
    assert_eq!(s["nodes"]["plant1/edge1"]["state"], "offline");

    // It is born again with a new bdSeq: its streams are live again.
    broker.born("edge1", 1, 22.0).await;
    let s = until(&client, "v5", "edge1 reborn", |s| {
        stream(s, "plant1/edge1/press7/temperature")["status"] == "live"
            && s["nodes"]["plant1/edge1"]["bd_seq"] == 1
    })
    .await;
    assert_eq!(stream(&s, "plant1/edge1/press7/temperature")["last"], 22.0);
    assert_eq!(stream(&s, "plant1/edge1/uptime")["status"], "live");

    // edge2 skips seq 3 and 4: a gap is counted and a rebirth asked for.
    broker
        .sparkplug(
            MessageType::DData,
            "edge2",
            Some("press7"),
            Some(5),
            vec![Metric::data(10, 1_700_000_002_000, 33.0)],
        )
        .await;
    let s = until(&client, "v5", "edge2's seq gap", |s| {
        s["nodes"]["plant1/edge2"]["seq_gaps"] == 1
    })
    .await;
    assert_eq!(
        stream(&s, "plant1/edge2/press7/temperature")["last"],
        33.0,
        "the data itself is kept"
    );
    assert_eq!(broker.rebirth_request().await, "spBv1.0/plant1/NCMD/edge2");

    // Data by alias for a device no birth named: reported, no stream guessed.
    broker
        .sparkplug(
            MessageType::DData,
            "edge1",
            Some("press9"),
            Some(2),
            vec![Metric::data(10, 1_700_000_002_000, 99.0)],
        )
        .await;
    let s = until(&client, "v5", "the unknown alias reported", |s| {
        s["nodes"]["plant1/edge1"]["unknown_aliases"] == 1
    })
    .await;
    let errors = s["errors"].to_string();
    assert!(
        errors.contains("plant1/edge1/press9: alias 10 was named by no birth"),
        "{errors}"
    );
    let streams = s["streams"].as_object().expect("streams");
    assert!(
        !streams.keys().any(|k| k.contains("press9")),
        "{:?}",
        streams.keys()
    );
    assert_eq!(broker.rebirth_request().await, "spBv1.0/plant1/NCMD/edge1");
    assert_eq!(s["counts"]["problems"], 2, "one gap, one alias: {s:#}");
    assert!(!s["statuses"].to_string().contains("error"), "{s:#}");
    let _ = client.close().await;
}
