//! Republishing every sample to an MQTT broker (`[publish]`), so a fleet of shims can feed one
//! broker (cluster) that many browsers share through its WebSocket listener.
//!
//! Two formats: `json`, each sample as `{"stream","seq","t","value"}` on
//! `{topic_prefix}/{stream id}`, and `sparkplug`, the shim as a Sparkplug B edge node
//! ([`sparkplug`]). Delivery is at least once: QoS 1 (default) in a persistent session, every
//! sample kept in a store-and-forward [`buffer`] (on disk with `buffer_dir`) until the broker
//! acknowledges it, and sent again in order after a reconnect ([`link`]). The buffer is bounded
//! by size and age, the oldest dropped first; `/status` shows the counts ([`Stats`]).

pub mod buffer;
pub mod link;
pub mod sparkplug;

use crate::config::Invalid;
use crate::source::mqtt::broker;
use crate::source::now_ms;
use buffer::{Buffer, Limits};
use link::Link;
use llmscope_protocol::Sample;
use rumqttc::{AsyncClient, QoS};
use serde::Deserialize;
use sha2::Digest;
use std::collections::{HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

/// `[publish]`. The keys are a fixed contract (README, "Publish").
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Broker URL, e.g. `mqtt://127.0.0.1:1883`.
    pub broker: String,
    /// JSON topics are `{topic_prefix}/{stream id}` (json only).
    pub topic_prefix: Option<String>,
    /// `json` or `sparkplug`.
    #[serde(default)]
    pub format: Format,
    /// The Sparkplug group.
    #[serde(default = "default_group")]
    pub group_id: String,
    /// The Sparkplug edge node; the host name when absent.
    pub edge_node_id: Option<String>,
    /// 0 or 1.
    #[serde(default = "default_qos")]
    pub qos: u8,
    /// `false` keeps the session (and its in-flight messages) across reconnects.
    #[serde(default)]
    pub clean_session: bool,
    /// User name for the broker, so a broker's ACL can give each plant its own topics.
    pub username: Option<String>,
    /// Password for the broker (needs `username`).
    pub password: Option<String>,
    /// Store-and-forward on disk in this folder; memory only when absent.
    pub buffer_dir: Option<PathBuf>,
    /// The buffer's size bound, MiB.
    #[serde(default = "default_max_mb")]
    pub buffer_max_mb: u64,
    /// The buffer's age bound, seconds.
    #[serde(default = "default_max_age")]
    pub buffer_max_age_s: u64,
}

/// `[publish] format`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `{"stream","seq","t","value"}` on `{topic_prefix}/{stream}`.
    #[default]
    Json,
    /// Sparkplug B 3.0.
    Sparkplug,
}

fn default_group() -> String {
    "llmscope".into()
}
fn default_qos() -> u8 {
    1
}
fn default_max_mb() -> u64 {
    256
}
fn default_max_age() -> u64 {
    86_400
}

impl Config {
    /// `[publish]` in the json format with every other key at its default.
    pub fn json(broker: impl Into<String>, topic_prefix: impl Into<String>) -> Config {
        Config {
            broker: broker.into(),
            topic_prefix: Some(topic_prefix.into()),
            format: Format::Json,
            group_id: default_group(),
            edge_node_id: None,
            qos: default_qos(),
            clean_session: false,
            username: None,
            password: None,
            buffer_dir: None,
            buffer_max_mb: default_max_mb(),
            buffer_max_age_s: default_max_age(),
        }
    }

    /// Checks the values serde cannot.
    pub fn validate(&self) -> Result<(), Invalid> {
        broker::parse(&self.broker).map_err(|e| Invalid::new("broker", e.to_string()))?;
        match (&self.topic_prefix, self.format) {
            (Some(p), _) => check_prefix(p)?,
            (None, Format::Json) => {
                return Err(Invalid::new(
                    "topic_prefix",
                    "is missing: the json format publishes to {topic_prefix}/{stream}; write e.g. topic_prefix = \"llmscope/plant1\"",
                ))
            }
            (None, Format::Sparkplug) => {}
        }
        let id = |key: &str, v: &str| {
            llmscope_protocol::sparkplug::check_id(key, v).map_err(|e| Invalid::new(key, e))
        };
        id("group_id", &self.group_id)?;
        if let Some(node) = &self.edge_node_id {
            id("edge_node_id", node)?;
        }
        if self.qos > 1 {
            return Err(Invalid::new(
                "qos",
                format!(
                    "{} is not supported: use 1 (at least once, the default) or 0",
                    self.qos
                ),
            ));
        }
        if self.password.is_some() && self.username.is_none() {
            return Err(Invalid::new(
                "password",
                "needs a username (MQTT sends no password without one)",
            ));
        }
        if self.buffer_max_mb == 0 {
            return Err(Invalid::new("buffer_max_mb", "must be at least 1 (MiB)"));
        }
        if self.buffer_max_age_s == 0 {
            return Err(Invalid::new(
                "buffer_max_age_s",
                "must be at least 1 (second)",
            ));
        }
        if let Some(dir) = &self.buffer_dir {
            if dir.exists() && !dir.is_dir() {
                return Err(Invalid::new(
                    "buffer_dir",
                    format!(
                        "{} is a file: name a folder (it is created if missing)",
                        dir.display()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `edge_node_id`, or the host name made a valid Sparkplug id.
    pub fn edge_node(&self) -> String {
        self.edge_node_id.clone().unwrap_or_else(|| {
            let host = ["/proc/sys/kernel/hostname", "/etc/hostname"]
                .iter()
                .find_map(|p| std::fs::read_to_string(p).ok())
                .or_else(|| std::env::var("COMPUTERNAME").ok())
                .unwrap_or_default();
            let host = host.trim().replace(['/', '+', '#', '\0'], "_");
            if host.is_empty() {
                "llmscope-shim".into()
            } else {
                host
            }
        })
    }

    /// A client id that stays the same across restarts, so a persistent session resumes:
    /// `llmscope-p-` and 8 hex digits of the broker, format, group, node and prefix.
    fn client_id(&self) -> String {
        let key = format!(
            "{}|{:?}|{}|{}|{}",
            self.broker,
            self.format,
            self.group_id,
            self.edge_node(),
            self.topic_prefix.as_deref().unwrap_or("")
        );
        let digest = sha2::Sha256::digest(key.as_bytes());
        format!(
            "llmscope-p-{:08x}",
            u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
        )
    }

    fn limits(&self) -> Limits {
        Limits {
            max_bytes: self.buffer_max_mb.saturating_mul(1 << 20),
            max_age_ms: self
                .buffer_max_age_s
                .saturating_mul(1000)
                .min(i64::MAX as u64) as i64,
        }
    }
}

fn check_prefix(p: &str) -> Result<(), Invalid> {
    let bad = |why: String| Err(Invalid::new("topic_prefix", why));
    if p.is_empty() {
        return bad("is empty: write e.g. llmscope/plant1".into());
    }
    if p.contains(['+', '#', '\0']) {
        return bad(format!("'{p}': a topic cannot contain '+', '#' or NUL"));
    }
    if p.starts_with('$') {
        return bad(format!(
            "'{p}': topics starting with '$' belong to the broker"
        ));
    }
    if p.ends_with('/') {
        return bad(format!(
            "'{p}': drop the final '/' (it is added before the stream)"
        ));
    }
    Ok(())
}

/// The republisher's counters, for `/status`.
#[derive(Debug, Default)]
pub struct Stats {
    connected: AtomicBool,
    buffered: AtomicU64,
    buffered_bytes: AtomicU64,
    dropped: AtomicU64,
    delivered: AtomicU64,
    restored: AtomicU64,
}

impl Stats {
    /// `{"connected","buffered","buffered_bytes","dropped","delivered","restored"}`.
    pub fn to_json(&self) -> serde_json::Value {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        serde_json::json!({
            "connected": self.connected.load(Ordering::Relaxed),
            "buffered": n(&self.buffered),
            "buffered_bytes": n(&self.buffered_bytes),
            "dropped": n(&self.dropped),
            "delivered": n(&self.delivered),
            "restored": n(&self.restored),
        })
    }
}

/// The Sparkplug devices: one per source section, named by its `name`, with the streams it
/// announces and (MQTT) the stream templates of its wildcard subscriptions. Sections of the
/// same name are one device.
pub fn devices(
    config: &crate::config::Config,
    sources: &[Box<dyn crate::source::Source>],
) -> Vec<sparkplug::Device> {
    let mut devices: Vec<sparkplug::Device> = Vec::new();
    for source in sources {
        let templates = config
            .mqtt
            .iter()
            .filter(|m| m.name == source.name())
            .flat_map(|m| m.subscribe.iter().map(|s| s.stream.clone()))
            .filter(|t| t.contains('{'));
        let streams = source.streams().into_iter().map(|s| s.id);
        let i = match devices.iter().position(|d| d.name == source.name()) {
            Some(i) => i,
            None => {
                devices.push(sparkplug::Device {
                    name: source.name().to_string(),
                    ..Default::default()
                });
                devices.len() - 1
            }
        };
        devices[i].streams.extend(streams);
        devices[i].templates.extend(templates);
    }
    devices
}

/// QoS 1 publishes in flight at once (rumqttc's window as well).
const WINDOW: usize = 100;
/// Shortest time between two log lines about samples the republisher fell behind on.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// Publishes every sample received until `shutdown`, reconnecting with backoff; `devices` are
/// the Sparkplug devices (one per source section). Returns within about a second of
/// `shutdown`.
pub async fn run(
    config: Config,
    devices: Vec<sparkplug::Device>,
    mut samples: broadcast::Receiver<Arc<Sample>>,
    shutdown: CancellationToken,
    stats: Arc<Stats>,
) {
    let qos = if config.qos == 0 {
        QoS::AtMostOnce
    } else {
        QoS::AtLeastOnce
    };
    let target = broker::parse(&config.broker).and_then(|b| {
        let mut options = b.options(&config.client_id(), Duration::from_secs(15))?;
        options.set_clean_session(config.clean_session);
        options.set_inflight(WINDOW as u16);
        if let Some(user) = &config.username {
            options.set_credentials(user.clone(), config.password.clone().unwrap_or_default());
        }
        Ok((options, b.to_string()))
    });
    let (options, url) = match target {
        Ok(t) => t,
        Err(e) => {
            eprintln!("publish: {e}; not republishing");
            return;
        }
    };
    let buffer = open_buffer(&config, &stats);
    let node = config.edge_node();
    let (encoder, will) = match config.format {
        Format::Json => (
            Encoder::Json(config.topic_prefix.clone().unwrap_or_default()),
            None,
        ),
        Format::Sparkplug => (
            Encoder::Sparkplug(sparkplug::EdgeNode::new(&config.group_id, &node, devices)),
            Some(link::Will {
                node: sparkplug::EdgeNode::new(&config.group_id, &node, Vec::new()),
                // Sparkplug 3.0 asks for a QoS 1 will whatever the data's QoS
                // (tck-id-payloads-ndeath-will-message-qos).
                qos: QoS::AtLeastOnce,
                bd_seq: link::BdSeq::start(config.buffer_dir.as_deref()),
            }),
        ),
    };
    let (client, events) = AsyncClient::new(options, 2 * WINDOW + 64);
    let (link_tx, mut link_rx) = mpsc::channel(WINDOW + 16);
    let stop = CancellationToken::new();
    let driver = tokio::spawn(link::drive(
        events,
        link_tx,
        stop.clone(),
        url.clone(),
        will,
        qos,
    ));
    let mut p = Publisher {
        client,
        buffer,
        encoder,
        qos,
        in_flight: VecDeque::new(),
        connection: None,
        stats,
        invalid: HashSet::new(),
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut lagged = (0u64, tokio::time::Instant::now());
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            link = link_rx.recv() => match link {
                Some(link) => p.on_link(link),
                None => break,
            },
            received = samples.recv() => match received {
                Ok(sample) => {
                    p.buffer.push(sample);
                    while let Ok(sample) = samples.try_recv() {
                        p.buffer.push(sample);
                    }
                    p.flush();
                }
                Err(broadcast::error::RecvError::Lagged(n)) => lagged.0 += n,
                // The hub is gone: the shim is stopping.
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = tick.tick() => {
                if let Err(e) = p.buffer.tick(now_ms()) {
                    eprintln!("publish: buffer_dir: {e}");
                }
                if lagged.0 > 0 && lagged.1.elapsed() >= LOG_EVERY {
                    eprintln!("publish: skipped {} samples for {url}: the republisher fell behind the hub", lagged.0);
                    lagged = (0, tokio::time::Instant::now());
                }
            }
        }
        p.send();
        p.report();
    }
    p.finish(&mut link_rx).await;
    if p.connection.is_none() {
        stop.cancel();
    }
    let mut driver = driver;
    if tokio::time::timeout(Duration::from_millis(700), &mut driver)
        .await
        .is_err()
    {
        stop.cancel();
        let _ = driver.await;
    }
}

fn open_buffer(config: &Config, stats: &Stats) -> Buffer {
    let Some(dir) = &config.buffer_dir else {
        return Buffer::memory(config.limits());
    };
    match Buffer::open(dir, config.limits()) {
        Ok((buffer, restored)) => {
            if restored.records > 0 {
                eprintln!(
                    "publish: {} samples from {} to send first",
                    restored.records,
                    dir.display()
                );
            }
            if restored.torn_bytes > 0 {
                eprintln!(
                    "publish: {}: cut {} bytes of a record torn by a crash",
                    dir.display(),
                    restored.torn_bytes
                );
            }
            stats
                .restored
                .store(restored.records as u64, Ordering::Relaxed);
            buffer
        }
        Err(e) => {
            eprintln!(
                "publish: buffer_dir {}: {e}; buffering in memory only",
                dir.display()
            );
            Buffer::memory(config.limits())
        }
    }
}

/// How samples become MQTT messages.
enum Encoder {
    /// JSON on `{prefix}/{stream}`.
    Json(String),
    /// A Sparkplug edge node.
    Sparkplug(sparkplug::EdgeNode),
}

/// What a publish in flight was, so its PUBACK is accounted for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Flight {
    /// The buffer's next sample in flight.
    Sample,
    /// A birth, or the first messages of a sample (a DBIRTH before its DDATA).
    Control,
    /// A sample that cannot be published (an invalid topic): settled in its turn.
    Skipped,
}

/// The republisher's state between events.
struct Publisher {
    client: AsyncClient,
    buffer: Buffer,
    encoder: Encoder,
    qos: QoS,
    in_flight: VecDeque<Flight>,
    /// `(bdSeq, first live sample)` of the current connection: samples numbered below it
    /// waited in the buffer for it (historical, in Sparkplug's words).
    connection: Option<(u64, u64)>,
    stats: Arc<Stats>,
    /// Streams already reported as invalid topics.
    invalid: HashSet<String>,
}

impl Publisher {
    fn on_link(&mut self, link: Link) {
        match link {
            Link::Connected { bd_seq } => {
                self.connection = Some((bd_seq, self.buffer.enqueued()));
                if let Encoder::Sparkplug(node) = &mut self.encoder {
                    let _ = self
                        .client
                        .try_subscribe(node.ncmd_topic(), QoS::AtLeastOnce);
                }
                self.births();
            }
            Link::Acked => {
                if self.in_flight.pop_front() == Some(Flight::Sample) {
                    self.buffer.acked();
                    self.stats.delivered.fetch_add(1, Ordering::Relaxed);
                }
                self.settle();
            }
            Link::Command(payload) => {
                if sparkplug::EdgeNode::is_rebirth(&payload) {
                    self.births();
                }
            }
            Link::Lost(answer) => {
                self.connection = None;
                self.in_flight.clear();
                self.buffer.rewind();
                let _ = answer.send(());
            }
        }
    }

    fn births(&mut self) {
        let (Encoder::Sparkplug(node), Some((bd_seq, _))) = (&mut self.encoder, self.connection)
        else {
            return;
        };
        for (topic, payload) in node.births(bd_seq, now_ms()) {
            self.publish(topic, payload, Flight::Control);
        }
    }

    /// Sends buffered samples while connected and the window has room.
    fn send(&mut self) {
        while let Some((bd_seq, live_from)) = self.connection {
            if self.in_flight.len() >= WINDOW {
                return;
            }
            let Some((sample, number)) = self.buffer.next().map(|(s, n)| (s.clone(), n)) else {
                return;
            };
            self.buffer.sent();
            let messages = match &mut self.encoder {
                Encoder::Json(prefix) => {
                    let topic = format!("{prefix}/{}", sample.stream);
                    if !rumqttc::valid_topic(&topic) {
                        if self.invalid.insert(sample.stream.clone()) {
                            eprintln!(
                                "publish: stream '{}' is not a valid MQTT topic; not republished",
                                sample.stream
                            );
                        }
                        self.in_flight.push_back(Flight::Skipped);
                        self.settle();
                        continue;
                    }
                    vec![(topic, serde_json::to_vec(&*sample).unwrap_or_default())]
                }
                Encoder::Sparkplug(node) => {
                    node.data(&sample, number < live_from, bd_seq, now_ms())
                }
            };
            let last = messages.len().saturating_sub(1);
            for (i, (topic, payload)) in messages.into_iter().enumerate() {
                let flight = if i == last {
                    Flight::Sample
                } else {
                    Flight::Control
                };
                self.publish(topic, payload, flight);
            }
        }
    }

    /// Queues one publish; it is done at its PUBACK (QoS 1) or once written (QoS 0).
    fn publish(&mut self, topic: String, payload: Vec<u8>, flight: Flight) {
        if let Err(e) = self.client.try_publish(topic, self.qos, false, payload) {
            // Cannot happen while the window is smaller than the queue; the buffer resends it
            // after the next reconnect if it does.
            eprintln!("publish: {e}");
        }
        self.in_flight.push_back(flight);
    }

    /// Settles skipped samples that reached the front of the window.
    fn settle(&mut self) {
        while self.in_flight.front() == Some(&Flight::Skipped) {
            self.in_flight.pop_front();
            self.buffer.acked();
        }
    }

    fn flush(&mut self) {
        if let Err(e) = self.buffer.flush() {
            eprintln!("publish: buffer_dir: {e}; the samples are kept in memory");
        }
    }

    fn report(&self) {
        let s = &self.stats;
        s.connected
            .store(self.connection.is_some(), Ordering::Relaxed);
        s.buffered
            .store(self.buffer.waiting() as u64, Ordering::Relaxed);
        s.buffered_bytes
            .store(self.buffer.bytes(), Ordering::Relaxed);
        s.dropped.store(self.buffer.dropped(), Ordering::Relaxed);
    }

    /// On shutdown: waits briefly for the PUBACKs in flight (fewer duplicates next start), says
    /// NDEATH (Sparkplug), disconnects and closes the buffer.
    async fn finish(&mut self, link_rx: &mut mpsc::Receiver<Link>) {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(500);
        while self.connection.is_some() && !self.in_flight.is_empty() {
            match tokio::time::timeout_at(deadline, link_rx.recv()).await {
                Ok(Some(link)) => self.on_link(link),
                _ => break,
            }
        }
        if let (Encoder::Sparkplug(node), Some((bd_seq, _))) = (&self.encoder, self.connection) {
            let (topic, payload) = node.death(bd_seq, now_ms());
            let _ = self.client.try_publish(topic, self.qos, false, payload);
        }
        if self.connection.is_some() {
            let _ = self.client.try_disconnect();
        }
        if let Err(e) = self.buffer.close() {
            eprintln!("publish: buffer_dir: {e}");
        }
        self.report();
    }
}

#[cfg(test)]
mod tests;
