//! The subscription loop of one broker: connects (and reconnects with backoff), subscribes
//! after every connect, skips retained replays, and turns each message into readings, a
//! `malformed` count or `stale` statuses.

use super::{broker, payload, Mqtt};
use crate::source::{now_ms, Emitter};
use rumqttc::{AsyncClient, Event, Outgoing, Packet, SubscribeFilter, SubscribeReasonCode};
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

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

pub(super) async fn run(source: Mqtt, emit: Emitter, shutdown: CancellationToken) {
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
        Err(e) => {
            // Only a restart with a fixed config or environment can help.
            let reason = e.to_string();
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
