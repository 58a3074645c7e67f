//! The MQTT source (`[[mqtt]]`, sample config in `sample.toml`): subscribes to topic
//! filters on one broker and turns each message into a reading of the stream named after the
//! topic's levels, like Telegraf's `mqtt_consumer` with topic parsing.
//!
//! - `topic.rs`: filter rules, matching with wildcard captures, `stream` templates (`{1}`).
//! - `payload.rs`: plain-number or JSON payloads, JSON pointers, timestamps.
//! - `config.rs`: the `[[mqtt]]` section and its checks; `subscription.rs`: the connection
//!   and message loop.
//! - `broker.rs`: broker URL, connection options, TLS, backoff (shared with `publish.rs`).
//!
//! Behaviour: every configured filter is (re)subscribed after each connect, since the session is
//! clean by default and a restarted broker forgets subscriptions anyway. With
//! `clean_session = false` (and a fixed `client_id`) the session persists: the broker keeps the
//! QoS 1 and 2 messages published while the shim was away and delivers them on reconnect. A filter covered by another one
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
mod config;
mod subscription;

use crate::source::{Emitter, Source, SourceFuture};
pub use config::{Config, Subscription};
use llmscope_protocol::mqtt::{payload, topic};
use llmscope_protocol::StreamInfo;
use rumqttc::QoS;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Keep-alive when `keep_alive_s` is absent: short enough that a vanished broker is noticed in
/// well under a minute.
const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);

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
    /// The broker URL, checked by `validate`.
    broker: String,
    client_id: String,
    credentials: Option<(String, String)>,
    qos: QoS,
    keep_alive: Duration,
    clean_session: bool,
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
            broker: config.broker,
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
            clean_session: config.clean_session,
            subs,
            filters: filters.into_iter().map(|(t, _)| t).collect(),
            name: config.name,
        }
    }

    fn options(&self) -> Result<(rumqttc::MqttOptions, String), broker::BrokerError> {
        let broker = broker::parse(&self.broker)?;
        let mut options = broker.options(&self.client_id, self.keep_alive)?;
        options.set_clean_session(self.clean_session);
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
        Box::pin(subscription::run(*self, emit, shutdown))
    }
}

/// Why [`decode_message`] read nothing: the subscription's filter or template, or the payload.
#[doc(hidden)]
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// The filter or stream template is refused (as the config check would).
    #[error(transparent)]
    Subscription(#[from] topic::TopicError),
    /// The payload gives no reading (what the source reports as malformed).
    #[error(transparent)]
    Payload(#[from] payload::PayloadError),
}

/// What the source makes of one message for one subscription (`filter`, `stream` template,
/// `value` and `time` pointers): the stream name and the reading, None when the topic does not
/// match, or the malformed-payload message. The fuzz test's entry point (tests/fuzz.rs): the
/// same code as the subscription loop's `on_message`, without a broker.
#[doc(hidden)]
pub fn decode_message(
    filter: &str,
    stream: &str,
    value: Option<&str>,
    time: Option<&str>,
    topic: &str,
    raw: &[u8],
) -> Result<Option<(String, f64, Option<i64>)>, MessageError> {
    let filter = topic::Filter::parse(filter)?;
    let template = topic::Template::parse(stream, filter.wildcards())?;
    let Some(caps) = filter.captures(topic) else {
        return Ok(None);
    };
    let (v, t) = payload::Payload::new(raw).read(value, time)?;
    Ok(Some((template.render(&caps), v, t)))
}

#[cfg(test)]
mod tests {
    use super::config::{config, sub};
    use super::*;

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
