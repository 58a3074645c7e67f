//! The MQTT source (`[[mqtt]]`, sample config in docs/sources/mqtt.toml): subscribes to topic
//! filters on one broker and turns each message into a reading of the stream named after the
//! topic's levels, like Telegraf's `mqtt_consumer` with topic parsing.
//!
//! - `topic.rs`: filter rules, matching with wildcard captures, `stream` templates (`{1}`).
//! - `payload.rs`: plain-number or JSON payloads, JSON pointers, timestamps.
//! - `broker.rs`: broker URL, connection options, TLS, backoff (shared with `publish.rs`).
//!
//! Behaviour: every configured filter is (re)subscribed after each connect, since the session is
//! clean and a restarted broker forgets subscriptions anyway. A filter covered by another one
//! (`a/+` under `a/#`) is not subscribed separately, so brokers that deliver a message once per
//! matching subscription do not double it; each message is matched against every configured
//! subscription locally. A lost broker marks the known streams stale with the reason; they turn
//! live again with their next reading. A payload that cannot be read is reported as malformed
//! and never stops the source.
//!
//! Retained messages are read like any other (a stream's last value arrives at start), except
//! that the retained copy a broker sends again after a reconnect is skipped when it is the same
//! payload as the last message read on that topic: it is an old value, not a new measurement.

pub(crate) mod broker;
mod payload;
mod topic;

use super::{now_ms, Emitter, Source, SourceFuture};
use crate::config::Invalid;
use llmscope_protocol::StreamInfo;
use rumqttc::{AsyncClient, Event, Outgoing, Packet, QoS, SubscribeFilter, SubscribeReasonCode};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A `[[mqtt]]` section: one broker.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The section's name.
    pub name: String,
    /// `mqtt://host:port` or `mqtts://host:port`.
    pub broker: String,
    /// MQTT client id; a unique `llmscope-...` id when absent.
    pub client_id: Option<String>,
    /// User name for the broker.
    pub username: Option<String>,
    /// Password for the broker (needs `username`).
    pub password: Option<String>,
    /// Subscription QoS: 0, 1 or 2.
    #[serde(default = "default_qos")]
    pub qos: u8,
    /// MQTT keep-alive in seconds: a silent broker is noticed within about twice this.
    pub keep_alive_s: Option<u64>,
    /// The topics to read.
    #[serde(default)]
    pub subscribe: Vec<Subscription>,
}

/// A `[[mqtt.subscribe]]` entry: one topic filter and how to read its messages.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subscription {
    /// Topic filter, with `+` and `#` wildcards.
    pub topic: String,
    /// JSON pointer to the value; absent for a plain-number payload.
    pub value: Option<String>,
    /// JSON pointer to a timestamp (epoch ms or RFC 3339); absent to use the arrival time.
    pub time: Option<String>,
    /// Stream name; `{1}` is what the first wildcard matched, `{2}` the second...
    pub stream: String,
    /// Unit of the values.
    pub unit: Option<String>,
    /// Lower spec limit.
    pub lsl: Option<f64>,
    /// Upper spec limit.
    pub usl: Option<f64>,
}

fn default_qos() -> u8 {
    1
}

/// Keep-alive when `keep_alive_s` is absent: short enough that a vanished broker is noticed in
/// well under a minute.
const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);

impl Config {
    /// Checks the values serde cannot (ranges, combinations); errors name the key.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.name.trim().is_empty() {
            return Err(Invalid::new(
                "name",
                "is empty: name the section, e.g. name = \"line2\"",
            ));
        }
        broker::parse(&self.broker).map_err(|e| Invalid::new("broker", e))?;
        if let Some(id) = &self.client_id {
            if id.is_empty() || id.len() > 65_535 {
                return Err(Invalid::new(
                    "client_id",
                    "must be 1 to 65535 bytes; omit it for a generated one",
                ));
            }
        }
        if self.password.is_some() && self.username.is_none() {
            return Err(Invalid::new(
                "password",
                "needs a username (MQTT sends no password without one)",
            ));
        }
        if self.qos > 2 {
            return Err(Invalid::new(
                "qos",
                format!("is {}: must be 0, 1 or 2", self.qos),
            ));
        }
        if let Some(k) = self.keep_alive_s {
            if !(1..=65_535).contains(&k) {
                return Err(Invalid::new(
                    "keep_alive_s",
                    format!("is {k}: must be 1 to 65535 seconds"),
                ));
            }
        }
        if self.subscribe.is_empty() {
            return Err(Invalid::new(
                "subscribe",
                "is missing: add a [[mqtt.subscribe]] with topic and stream (see docs/sources/mqtt.toml)",
            ));
        }
        let mut fixed = HashMap::new();
        for (i, s) in self.subscribe.iter().enumerate() {
            let key = |k: &str| format!("subscribe[{i}].{k}");
            let filter =
                topic::Filter::parse(&s.topic).map_err(|e| Invalid::new(key("topic"), e))?;
            for (k, pointer) in [("value", &s.value), ("time", &s.time)] {
                if let Some(p) = pointer {
                    payload::check_pointer(p).map_err(|e| Invalid::new(key(k), e))?;
                }
            }
            if s.time.is_some() && s.value.is_none() {
                return Err(Invalid::new(
                    key("time"),
                    "needs `value`: a timestamp can only be read from a JSON payload",
                ));
            }
            let template = topic::Template::parse(&s.stream, filter.wildcards())
                .map_err(|e| Invalid::new(key("stream"), e))?;
            if let Some(name) = template.fixed() {
                if let Some(j) = fixed.insert(name.clone(), i) {
                    return Err(Invalid::new(
                        key("stream"),
                        format!("'{name}' is already the stream of subscribe[{j}]; stream names must differ"),
                    ));
                }
            }
            for (k, limit) in [("lsl", s.lsl), ("usl", s.usl)] {
                if limit.is_some_and(|x| !x.is_finite()) {
                    return Err(Invalid::new(key(k), "must be a finite number"));
                }
            }
            if let (Some(lsl), Some(usl)) = (s.lsl, s.usl) {
                if lsl >= usl {
                    return Err(Invalid::new(
                        key("usl"),
                        format!("is {usl}, not above lsl {lsl}"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The running source.
    pub fn build(self) -> Box<dyn super::Source> {
        Box::new(Mqtt::new(self))
    }
}

/// A configured subscription, checked and compiled.
struct Sub {
    filter: topic::Filter,
    stream: topic::Template,
    value: Option<String>,
    time: Option<String>,
    unit: Option<String>,
    lsl: Option<f64>,
    usl: Option<f64>,
    /// Index in `Mqtt::filters` of the filter subscribed for it (itself or one covering it).
    subscribed_as: usize,
}

impl Sub {
    fn info(&self, id: String) -> StreamInfo {
        StreamInfo {
            id,
            unit: self.unit.clone(),
            lsl: self.lsl,
            usl: self.usl,
        }
    }
}

/// The running source.
struct Mqtt {
    name: String,
    broker: Result<broker::Broker, String>,
    client_id: String,
    credentials: Option<(String, String)>,
    qos: QoS,
    keep_alive: Duration,
    subs: Vec<Sub>,
    /// The filters actually subscribed: each configured one not covered by another.
    filters: Vec<String>,
}

impl Mqtt {
    fn new(config: Config) -> Mqtt {
        let qos = match config.qos {
            0 => QoS::AtMostOnce,
            2 => QoS::ExactlyOnce,
            _ => QoS::AtLeastOnce,
        };
        let mut parsed = Vec::new();
        for s in config.subscribe {
            // `validate` has checked these; an entry that still fails is left out, loudly.
            let compiled = topic::Filter::parse(&s.topic).and_then(|filter| {
                let stream = topic::Template::parse(&s.stream, filter.wildcards())?;
                Ok((s.topic.clone(), filter, stream))
            });
            match compiled {
                Ok((text, filter, stream)) => parsed.push((text, filter, stream, s)),
                Err(e) => eprintln!(
                    "mqtt {}: subscription '{}' skipped: {e}",
                    config.name, s.topic
                ),
            }
        }
        // Subscribe to each distinct filter that no other one covers.
        let mut filters: Vec<(String, topic::Filter)> = Vec::new();
        for (i, (text, filter, ..)) in parsed.iter().enumerate() {
            // Covered by another filter: strictly, or equally by an earlier one (the same text).
            let covered = parsed.iter().enumerate().any(|(j, (_, other, ..))| {
                j != i && other.covers(filter) && (j < i || !filter.covers(other))
            });
            if !covered {
                filters.push((text.clone(), filter.clone()));
            }
        }
        let subs = parsed
            .into_iter()
            .map(|(_, filter, stream, s)| Sub {
                subscribed_as: filters
                    .iter()
                    .position(|(_, f)| f.covers(&filter))
                    .unwrap_or(0),
                filter,
                stream,
                value: s.value,
                time: s.time,
                unit: s.unit,
                lsl: s.lsl,
                usl: s.usl,
            })
            .collect();
        Mqtt {
            broker: broker::parse(&config.broker),
            client_id: config
                .client_id
                .unwrap_or_else(|| broker::client_id(&config.name)),
            credentials: config
                .username
                .map(|u| (u, config.password.unwrap_or_default())),
            qos,
            keep_alive: config
                .keep_alive_s
                .map_or(DEFAULT_KEEP_ALIVE, Duration::from_secs),
            subs,
            filters: filters.into_iter().map(|(t, _)| t).collect(),
            name: config.name,
        }
    }

    fn options(&self) -> Result<(rumqttc::MqttOptions, String), String> {
        let broker = self.broker.as_ref().map_err(Clone::clone)?;
        let mut options = broker.options(&self.client_id, self.keep_alive)?;
        if let Some((user, password)) = &self.credentials {
            options.set_credentials(user.clone(), password.clone());
        }
        Ok((options, broker.to_string()))
    }
}

impl Source for Mqtt {
    fn name(&self) -> &str {
        &self.name
    }

    fn streams(&self) -> Vec<StreamInfo> {
        self.subs
            .iter()
            .filter_map(|s| s.stream.fixed().map(|id| s.info(id)))
            .collect()
    }

    fn run(self: Box<Self>, emit: Emitter, shutdown: CancellationToken) -> SourceFuture {
        Box::pin(run(*self, emit, shutdown))
    }
}

/// What the run loop knows about streams.
struct Streams {
    /// Every stream announced or discovered, with the subscription that feeds it.
    known: HashMap<String, usize>,
    /// The streams currently reported stale.
    stale: HashSet<String>,
}

impl Streams {
    /// Marks every known stream (or those of the subscriptions `only` selects) stale, once.
    async fn mark_stale(&mut self, emit: &Emitter, reason: &str, only: impl Fn(usize) -> bool) {
        let mut names: Vec<&String> = self
            .known
            .iter()
            .filter(|(n, s)| only(**s) && !self.stale.contains(*n))
            .map(|(n, _)| n)
            .collect();
        names.sort();
        for name in names {
            emit.stale(name, reason).await;
            self.stale.insert(name.clone());
        }
    }
}

async fn run(source: Mqtt, emit: Emitter, shutdown: CancellationToken) {
    let mut streams = Streams {
        known: source
            .subs
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.stream.fixed().map(|name| (name, i)))
            .collect(),
        stale: HashSet::new(),
    };
    let (options, url) = match source.options() {
        Ok(o) => o,
        Err(reason) => {
            // Only a restart with a fixed config or environment can help.
            eprintln!("mqtt {}: {reason}", source.name);
            streams.mark_stale(&emit, &reason, |_| true).await;
            shutdown.cancelled().await;
            return;
        }
    };
    let (client, mut events) = AsyncClient::new(options, 64);
    let mut backoff = broker::Backoff::new();
    let mut connected = false;
    let mut last_error = String::new();
    // A hash of the last payload of each topic, to recognize retained replays.
    let mut last_payload: HashMap<String, u64> = HashMap::new();
    loop {
        let event = tokio::select! {
            _ = shutdown.cancelled() => break,
            event = events.poll() => event,
        };
        match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                connected = true;
                backoff.reset();
                if !last_error.is_empty() {
                    eprintln!("mqtt {}: connected to {url} again", source.name);
                    last_error.clear();
                }
                let filters = source
                    .filters
                    .iter()
                    .map(|f| SubscribeFilter::new(f.clone(), source.qos));
                // An empty SUBSCRIBE is a protocol error: never send one.
                if source.filters.is_empty() {
                    eprintln!("mqtt {}: no usable subscription", source.name);
                } else if let Err(e) = client.try_subscribe_many(filters) {
                    eprintln!("mqtt {}: cannot subscribe: {e}", source.name);
                }
            }
            Ok(Event::Incoming(Packet::Publish(message))) => {
                let mut hasher = std::collections::hash_map::DefaultHasher::new();
                message.payload.hash(&mut hasher);
                let hash = hasher.finish();
                let last = last_payload.insert(message.topic.clone(), hash);
                // The broker's retained copy of the message already read before a reconnect.
                let replay = message.retain && last == Some(hash);
                if !replay {
                    on_message(
                        &source,
                        &emit,
                        &mut streams,
                        &message.topic,
                        &message.payload,
                    )
                    .await;
                }
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                for (i, code) in ack.return_codes.iter().enumerate() {
                    if *code == SubscribeReasonCode::Failure {
                        let filter = source.filters.get(i).map_or("?", String::as_str);
                        let reason = format!("broker {url} refused the subscription to '{filter}'");
                        eprintln!("mqtt {}: {reason}", source.name);
                        streams
                            .mark_stale(&emit, &reason, |s| {
                                source.subs.get(s).is_some_and(|s| s.subscribed_as == i)
                            })
                            .await;
                    }
                }
            }
            Ok(_) => {}
            Err(e) => {
                connected = false;
                let reason = format!("broker {url}: {}", describe(&e));
                if reason != last_error {
                    eprintln!("mqtt {}: {reason}; retrying", source.name);
                    last_error = reason.clone();
                }
                streams.mark_stale(&emit, &reason, |_| true).await;
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(backoff.next()) => {}
                }
            }
        }
    }
    if connected {
        // Say goodbye so the broker does not wait a keep-alive to drop the session.
        let _ = client.try_disconnect();
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            while let Ok(event) = events.poll().await {
                if event == Event::Outgoing(Outgoing::Disconnect) {
                    break;
                }
            }
        })
        .await;
    }
}

/// A connection error in words an operator can act on.
fn describe(e: &rumqttc::ConnectionError) -> String {
    use rumqttc::ConnectionError as E;
    match e {
        E::ConnectionRefused(code) => format!("connection refused ({code:?})"),
        E::NetworkTimeout => "no answer (connection timeout)".into(),
        E::Io(io) => format!("{io}"),
        E::MqttState(rumqttc::StateError::AwaitPingResp) => "no answer to keep-alive ping".into(),
        E::MqttState(rumqttc::StateError::ConnectionAborted) => {
            "connection closed by the broker".into()
        }
        other => other.to_string(),
    }
}

/// What the source makes of one message for one subscription (`filter`, `stream` template,
/// `value` and `time` pointers): the stream name and the reading, None when the topic does not
/// match, or the malformed-payload message. The fuzz test's entry point (tests/fuzz.rs): the
/// same code as [`on_message`], without a broker.
#[doc(hidden)]
pub fn decode_message(
    filter: &str,
    stream: &str,
    value: Option<&str>,
    time: Option<&str>,
    topic: &str,
    raw: &[u8],
) -> Result<Option<(String, f64, Option<i64>)>, String> {
    let filter = topic::Filter::parse(filter)?;
    let template = topic::Template::parse(stream, filter.wildcards())?;
    let Some(caps) = filter.captures(topic) else {
        return Ok(None);
    };
    let (v, t) = payload::Payload::new(raw).read(value, time)?;
    Ok(Some((template.render(&caps), v, t)))
}

/// One message: every subscription whose filter matches the topic reads it.
async fn on_message(source: &Mqtt, emit: &Emitter, streams: &mut Streams, topic: &str, raw: &[u8]) {
    let mut payload = payload::Payload::new(raw);
    for (i, sub) in source.subs.iter().enumerate() {
        let Some(caps) = sub.filter.captures(topic) else {
            continue;
        };
        let (value, t) = match payload.read(sub.value.as_deref(), sub.time.as_deref()) {
            Ok(read) => read,
            Err(detail) => {
                emit.malformed(&source.name, format!("topic {topic}: {detail}"))
                    .await;
                continue;
            }
        };
        let name = sub.stream.render(&caps);
        if !streams.known.contains_key(&name) {
            emit.discovered(sub.info(name.clone())).await;
            streams.known.insert(name.clone(), i);
        }
        if streams.stale.remove(&name) {
            emit.live(&name).await;
        }
        emit.reading(&name, t.unwrap_or_else(now_ms), value).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str, subs: &str) -> Config {
        let text = format!("name = \"line2\"\nbroker = \"mqtt://127.0.0.1:1883\"\n{extra}\n{subs}");
        toml::from_str(&text).unwrap()
    }

    fn sub(topic: &str, stream: &str) -> String {
        format!("[[subscribe]]\ntopic = \"{topic}\"\nstream = \"{stream}\"\n")
    }

    fn invalid(c: &Config) -> Invalid {
        c.validate().unwrap_err()
    }

    #[test]
    fn validation_names_the_key() {
        assert!(config("", &sub("plant/+/v", "line2/{1}/v"))
            .validate()
            .is_ok());
        assert_eq!(invalid(&config("qos = 3", &sub("a", "a"))).key, "qos");
        assert_eq!(
            invalid(&config("keep_alive_s = 0", &sub("a", "a"))).key,
            "keep_alive_s"
        );
        assert_eq!(
            invalid(&config("password = \"x\"", &sub("a", "a"))).key,
            "password"
        );
        assert_eq!(invalid(&config("", "")).key, "subscribe");
        let two = format!("{}{}", sub("a", "x"), sub("a/#", "y/{1}/{2}"));
        let e = invalid(&config("", &two));
        assert_eq!(e.key, "subscribe[1].stream");
        assert!(e.message.contains("only 1 wildcard"), "{}", e.message);
        assert_eq!(
            invalid(&config("", &format!("{}{}", sub("a", "x"), sub("b", "x")))).key,
            "subscribe[1].stream"
        );
        assert_eq!(
            invalid(&config("", &sub("a/#/b", "x"))).key,
            "subscribe[0].topic"
        );
        let pointer = format!("{}value = \"rms\"\n", sub("a", "x"));
        assert_eq!(invalid(&config("", &pointer)).key, "subscribe[0].value");
        let time_only = format!("{}time = \"/ts\"\n", sub("a", "x"));
        assert_eq!(invalid(&config("", &time_only)).key, "subscribe[0].time");
        let limits = format!("{}lsl = 5.0\nusl = 1.0\n", sub("a", "x"));
        assert_eq!(invalid(&config("", &limits)).key, "subscribe[0].usl");
        let mut bad_broker = config("", &sub("a", "x"));
        bad_broker.broker = "http://h".into();
        assert_eq!(invalid(&bad_broker).key, "broker");
    }

    #[test]
    fn covered_filters_are_subscribed_once() {
        let subs = [
            sub("a/+", "a/{1}"),
            sub("a/#", "all/{1}"),
            sub("a/#", "again/{1}"),
            sub("b", "b"),
        ]
        .concat();
        let m = Mqtt::new(config("", &subs));
        assert_eq!(m.filters, ["a/#", "b"]);
        assert_eq!(
            m.subs.iter().map(|s| s.subscribed_as).collect::<Vec<_>>(),
            [0, 0, 0, 1]
        );
        let ids: Vec<_> = m.streams().into_iter().map(|s| s.id).collect();
        assert_eq!(ids, ["b"]);
    }
}
