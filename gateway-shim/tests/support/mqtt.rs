//! MQTT test helpers shared by the MQTT and publish tests: a mosquitto of the test's own, a test
//! client, a subscriber that forwards what it receives, and a source started from config text.
#![allow(dead_code)]

use crate::support::{wait_for_port, Peer};
use llmscope_protocol::StreamInfo;
use llmscope_shim::source::{Emitter, Event, SourceConfig};
use rumqttc::{AsyncClient, MqttOptions, QoS};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{timeout, timeout_at, Instant};
use tokio_util::sync::CancellationToken;

pub const WITHIN: Duration = Duration::from_secs(12);

/// A mosquitto listening on 127.0.0.1:`port`, stopped when dropped.
pub struct Broker {
    pub peer: Peer,
    pub conf: PathBuf,
}

impl Broker {
    pub async fn start(port: u16) -> Broker {
        Broker::with(port, "").await
    }

    /// With `more` lines of mosquitto config after the plain listener on `port`.
    pub async fn with(port: u16, more: &str) -> Broker {
        let conf = std::env::temp_dir().join(format!(
            "llmscope-mqtt-test-{}-{port}.conf",
            std::process::id()
        ));
        std::fs::write(
            &conf,
            format!("per_listener_settings false\nallow_anonymous true\npersistence false\nlistener {port} 127.0.0.1\n{more}"),
        )
        .expect("write the mosquitto config");
        let peer = Peer::start(Command::new("/usr/sbin/mosquitto").arg("-c").arg(&conf));
        let broker = Broker { peer, conf };
        wait_for_port(port, Duration::from_secs(10)).await;
        broker
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.peer.stop();
        let _ = std::fs::remove_file(&self.conf);
    }
}

/// A test MQTT client: publishes, and forwards what it receives to `rx`.
pub struct Client {
    pub client: AsyncClient,
    pub rx: mpsc::UnboundedReceiver<rumqttc::Publish>,
    pub task: JoinHandle<()>,
}

impl Client {
    pub fn connect(port: u16, id: &str) -> Client {
        let mut options = MqttOptions::new(id, "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(5));
        let (client, mut events) = AsyncClient::new(options, 100);
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                        let _ = tx.send(p);
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        });
        Client { client, rx, task }
    }

    pub async fn publish(&self, topic: &str, payload: impl Into<Vec<u8>>) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .expect("queue a publish");
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A source built from a config file's text, running until the returned token is cancelled.
pub fn start_source(
    toml: &str,
) -> (
    Vec<StreamInfo>,
    mpsc::Receiver<Event>,
    CancellationToken,
    JoinHandle<()>,
) {
    let mut config = llmscope_shim::config::parse(toml, "plant.toml").expect("a valid config");
    let source = config.mqtt.remove(0).build();
    let streams = source.streams();
    let (emit, rx) = Emitter::channel(1000);
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(source.run(emit, shutdown.clone()));
    (streams, rx, shutdown, task)
}

/// Publishes `payload` to `topic` every 300 ms until an event satisfies `done` (so the test does
/// not depend on when the source has subscribed); returns the events seen.
pub async fn publish_until(
    client: &Client,
    rx: &mut mpsc::Receiver<Event>,
    topic: &str,
    payload: &str,
    done: impl Fn(&Event) -> bool,
) -> Vec<Event> {
    let deadline = Instant::now() + WITHIN;
    let mut seen = Vec::new();
    loop {
        client.publish(topic, payload).await;
        let next = (Instant::now() + Duration::from_millis(300)).min(deadline);
        loop {
            match timeout_at(next, rx.recv()).await {
                Ok(Some(e)) => {
                    let finished = done(&e);
                    seen.push(e);
                    if finished {
                        return seen;
                    }
                }
                Ok(None) => panic!("the source stopped; events so far: {seen:?}"),
                Err(_) => break,
            }
        }
        assert!(
            Instant::now() < deadline,
            "nothing arrived for {topic} after {WITHIN:?}; events: {seen:?}"
        );
    }
}

pub fn is_reading(e: &Event, stream: &str, value: f64) -> bool {
    matches!(e, Event::Reading { stream: s, value: v, .. } if s == stream && *v == value)
}

/// Cancels the source and checks it returns promptly.
pub async fn stop(shutdown: CancellationToken, task: JoinHandle<()>) {
    shutdown.cancel();
    timeout(Duration::from_secs(3), task)
        .await
        .expect("the source returns after shutdown")
        .expect("no panic");
}

/// Runs openssl with `args` in `dir`.
pub fn openssl(dir: &std::path::Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success(), "openssl {args:?} failed");
}

/// A subscriber: QoS 1, persistent session when `clean` is false, every message forwarded.
pub struct Reader {
    pub client: AsyncClient,
    pub rx: mpsc::UnboundedReceiver<rumqttc::Publish>,
    task: tokio::task::JoinHandle<()>,
}

impl Reader {
    pub async fn start(port: u16, id: &str, filter: &str, clean: bool) -> Reader {
        Reader::connect(Reader::options(port, id, clean), filter).await
    }

    pub fn options(port: u16, id: &str, clean: bool) -> MqttOptions {
        let mut options = MqttOptions::new(id, "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(5));
        options.set_clean_session(clean);
        options
    }

    pub async fn connect(options: MqttOptions, filter: &str) -> Reader {
        let (client, mut events) = AsyncClient::new(options, 100);
        let (tx, rx) = mpsc::unbounded_channel();
        let (subscribed_tx, mut subscribed) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            loop {
                match events.poll().await {
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                        let _ = tx.send(p);
                    }
                    Ok(rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_))) => {
                        let _ = subscribed_tx.send(());
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        });
        client
            .subscribe(filter, QoS::AtLeastOnce)
            .await
            .expect("queue a subscribe");
        timeout(WITHIN, subscribed.recv())
            .await
            .expect("subscribed");
        Reader { client, rx, task }
    }

    pub async fn next(&mut self) -> rumqttc::Publish {
        timeout(WITHIN, self.rx.recv())
            .await
            .expect("a message within the deadline")
            .expect("the reader runs")
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.task.abort();
    }
}
