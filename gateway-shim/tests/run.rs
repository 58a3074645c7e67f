//! `llmscope-shim run --config` end to end: the real binary with an MQTT source and the MQTT
//! republisher against a real mosquitto, read by a WebSocket client and an MQTT subscriber.

#[path = "support/mqtt.rs"]
mod mqtt_support;
mod support;

use futures_util::StreamExt;
use llmscope_protocol::ServerFrame;
use mqtt_support::{Broker, Client};
use std::process::Command;
use std::time::Duration;
use support::{free_ports, wait_for_port, Peer};
use tokio_tungstenite::tungstenite::Message;

#[tokio::test]
async fn mqtt_in_websocket_and_mqtt_out() {
    let [broker_port, shim_port] = free_ports();
    let _broker = Broker::start(broker_port).await;
    let config = std::env::temp_dir().join(format!("llmscope-run-{}.toml", std::process::id()));
    std::fs::write(
        &config,
        format!(
            r#"[server]
listen = "127.0.0.1:{shim_port}"

[[mqtt]]
name = "line2"
broker = "mqtt://127.0.0.1:{broker_port}"

[[mqtt.subscribe]]
topic = "plant/line2/+/vibration"
value = "/rms"
stream = "line2/{{1}}/vibration"
unit = "mm/s"

[publish]
broker = "mqtt://127.0.0.1:{broker_port}"
topic_prefix = "llmscope"
"#
        ),
    )
    .expect("write the config");
    let _shim = Peer::start(
        Command::new(env!("CARGO_BIN_EXE_llmscope-shim"))
            .arg("run")
            .arg("--config")
            .arg(&config),
    );
    wait_for_port(shim_port, Duration::from_secs(20)).await;

    let mut watcher = Client::connect(broker_port, "watcher");
    watcher
        .client
        .subscribe("llmscope/#", rumqttc::QoS::AtLeastOnce)
        .await
        .expect("subscribe");
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{shim_port}/ws"))
        .await
        .expect("connect");
    let publisher = Client::connect(broker_port, "press");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);

    // Publish until the sample comes out both ways (the source subscribes asynchronously).
    let (mut via_ws, mut via_mqtt) = (None, None);
    while via_ws.is_none() || via_mqtt.is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "ws: {via_ws:?}, mqtt: {via_mqtt:?}"
        );
        publisher
            .publish("plant/line2/a7/vibration", r#"{"rms": 2.75}"#)
            .await;
        let tick = tokio::time::sleep(Duration::from_millis(300));
        tokio::pin!(tick);
        loop {
            tokio::select! {
                frame = ws.next() => if let Some(Ok(Message::Text(t))) = frame {
                    let samples = match ServerFrame::parse(&t) {
                        Ok(ServerFrame::Sample(s)) => vec![s],
                        Ok(ServerFrame::Batch { samples }) => samples,
                        _ => vec![],
                    };
                    if let Some(s) = samples.into_iter().next() {
                        via_ws = Some((s.stream, s.value));
                    }
                },
                message = watcher.rx.recv() => if let Some(p) = message {
                    via_mqtt = Some((p.topic.clone(), String::from_utf8_lossy(&p.payload).to_string()));
                },
                () = &mut tick => break,
            }
        }
    }
    assert_eq!(via_ws, Some(("line2/a7/vibration".to_string(), 2.75)));
    let (topic, payload) = via_mqtt.unwrap();
    assert_eq!(topic, "llmscope/line2/a7/vibration");
    let json: serde_json::Value = serde_json::from_str(&payload).expect("JSON sample");
    assert_eq!(
        (json["stream"].as_str(), json["value"].as_f64()),
        (Some("line2/a7/vibration"), Some(2.75))
    );
    let _ = std::fs::remove_file(config);
}
