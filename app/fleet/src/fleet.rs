//! One broker connection's whole state, without I/O: what the worker's glue feeds it (the
//! WebSocket's bytes, the time) and what it hands back (bytes to send, the batched update for
//! the page). Sparkplug topics (`spBv1.0/...`) go to [`crate::sparkplug`], every other topic
//! through the shim's mapping ([`crate::mapping`]); their readings feed [`crate::engine`].

use crate::engine::{Engine, StreamUpdate};
use crate::mapping::{self, SubscribeConfig, Subscription};
use crate::session::{Incoming, Options, Session};
use crate::silence::{clock, Silence};
use crate::sparkplug::{Hosts, NodeUpdate};
use crate::view::{Ask, Shown, View};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Most problem lines one update carries; the rest are counted in `errors_dropped`.
const MAX_ERRORS: usize = 50;

/// The page's `connect` message (docs/fleet.md).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `ws://` or `wss://` URL of the broker's WebSocket listener.
    pub url: String,
    /// MQTT client id; absent: `llmscope-` and the time in hex.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Optional username.
    #[serde(default)]
    pub username: Option<String>,
    /// Optional password (held in the worker's memory only).
    #[serde(default)]
    pub password: Option<String>,
    /// 5 (default) or 4 (MQTT 3.1.1).
    #[serde(default = "default_version")]
    pub version: u8,
    /// Keep-alive, seconds (default 30).
    #[serde(default = "default_keep_alive")]
    pub keep_alive_s: u16,
    /// Subscription QoS, 0 or 1 (default 1).
    #[serde(default = "default_qos")]
    pub qos: u8,
    /// The topic filters and their mapping, as the shim's `[[mqtt.subscribe]]`.
    #[serde(default)]
    pub subscribe: Vec<SubscribeConfig>,
    /// More filters, as the page's form gives them ([`SubscribeConfig::from_filter`]).
    #[serde(default)]
    pub topics: Vec<String>,
    /// Ask Sparkplug edge nodes for a rebirth when their state is unknown (default false).
    #[serde(default)]
    pub rebirth: bool,
    /// Phase I length of each stream's chart (default 20, as the dashboard's).
    #[serde(default = "default_phase1")]
    pub phase1: usize,
    /// A source (a Sparkplug edge node, a plain topic's group) with no message for this many
    /// seconds, or 3 of its longest gaps if longer, is silent: its streams turn stale until it
    /// speaks again (default 10; 0: never). See [`crate::silence`].
    #[serde(default = "default_silent_after_s")]
    pub silent_after_s: f64,
}

fn default_version() -> u8 {
    5
}
fn default_keep_alive() -> u16 {
    30
}
fn default_qos() -> u8 {
    1
}
fn default_phase1() -> usize {
    20
}
fn default_silent_after_s() -> f64 {
    10.0
}

/// Where mosquitto bridges publish their state (`notifications true`): `1` up, `0` down, the
/// latter as the bridge's will on the remote broker when the local one dies.
const BRIDGE_STATE: (&str, &str) = ("$SYS/broker/connection/", "/state");

/// The connection's state for the page.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Status {
    /// `connecting`, `connected`, `closed` or `error`.
    pub state: &'static str,
    /// What happened, in words.
    pub detail: String,
    /// The broker refused the connection or a subscription: connecting again would not help.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub refused: bool,
}

/// Running totals.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Counts {
    /// MQTT messages received.
    pub messages: u64,
    /// Of those, on `spBv1.0/` topics.
    pub sparkplug: u64,
    /// Values that reached a stream.
    pub readings: u64,
    /// Problems (unreadable payloads, unknown aliases, seq gaps...).
    pub problems: u64,
    /// Streams known.
    pub streams: u64,
}

/// One batch for the page (`type: "update"`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Update {
    /// Set when the connection's state changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// The streams that changed; empty once the page asks for a [`View`] (it then gets
    /// `view`, not 20,000 streams a batch).
    pub streams: Vec<StreamUpdate>,
    /// The Sparkplug edge nodes that changed; empty once the page asks for a [`View`] (the
    /// rows show their nodes' state).
    pub nodes: Vec<NodeUpdate>,
    /// New points `[t, value]` of the watched streams.
    pub points: BTreeMap<String, Vec<[f64; 2]>>,
    /// Totals so far.
    pub counts: Counts,
    /// New problems, one line each.
    pub errors: Vec<String>,
    /// Problems beyond the [`MAX_ERRORS`] lines of this batch.
    pub errors_dropped: u64,
    /// The page's window of the grouped list, once it asked for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view: Option<Shown>,
}

/// One broker connection.
pub struct Fleet {
    session: Session,
    /// How to connect again, and to what.
    options: Options,
    subs: Vec<Subscription>,
    hosts: Hosts,
    engine: Engine,
    counts: Counts,
    errors: Vec<String>,
    errors_dropped: u64,
    status: Option<Status>,
    /// The broker refused this connection (CONNACK or SUBACK).
    refused: bool,
    view: Option<View>,
    silence: Silence,
    /// A Sparkplug message's source key, built here without allocating per message.
    key: String,
    /// The mosquitto bridges last said down, and since when (epoch ms).
    bridges_down: BTreeMap<String, f64>,
}

/// A Sparkplug source's key starts so: the others are plain topics' groups.
const SPARKPLUG: &str = "spBv1.0/";

impl Fleet {
    /// Checks the page's config; the error names the key.
    pub fn new(config: Config, now: f64) -> Result<Fleet, String> {
        if !(config.url.starts_with("ws://") || config.url.starts_with("wss://")) {
            return Err(format!(
                "url: '{}' is not a WebSocket URL like ws://broker:9001",
                config.url
            ));
        }
        if config.password.is_some() && config.username.is_none() {
            return Err("password: needs a username (MQTT sends no password without one)".into());
        }
        if !matches!(config.version, 4 | 5) || config.qos > 1 {
            return Err(format!(
                "version must be 4 (3.1.1) or 5, qos 0 or 1: got {} and {}",
                config.version, config.qos
            ));
        }
        if config.silent_after_s.is_nan() || config.silent_after_s < 0.0 {
            return Err(format!(
                "silent_after_s: {} is not a number of seconds (0 turns it off)",
                config.silent_after_s
            ));
        }
        let mut subscribe = config.subscribe;
        subscribe.extend(
            config
                .topics
                .iter()
                .map(|t| SubscribeConfig::from_filter(t)),
        );
        if subscribe.is_empty() {
            return Err(
                "subscribe: add a topic filter, e.g. spBv1.0/# or plant/+/temperature".into(),
            );
        }
        let subs = subscribe
            .iter()
            .enumerate()
            .map(|(i, s)| Subscription::parse(i, s))
            .collect::<Result<Vec<_>, _>>()?;
        let options = Options {
            version: config.version,
            client_id: config
                .client_id
                .unwrap_or_else(|| format!("llmscope-{:x}", now as u64)),
            username: config.username,
            password: config.password,
            keep_alive_s: config.keep_alive_s,
            qos: config.qos,
        };
        Ok(Fleet {
            session: Session::new(
                options.clone(),
                subs.iter().map(|s| s.topic.clone()).collect(),
            ),
            options,
            subs,
            hosts: Hosts::new(config.rebirth),
            engine: Engine::new(config.phase1),
            counts: Counts::default(),
            errors: Vec::new(),
            errors_dropped: 0,
            status: None,
            refused: false,
            view: None,
            silence: Silence::new(config.silent_after_s),
            key: String::new(),
            bridges_down: BTreeMap::new(),
        })
    }

    /// A new MQTT session for a new WebSocket (after a lost connection); the streams, their
    /// charts and the Sparkplug nodes stay as they are (stale until data comes again).
    pub fn reconnect(&mut self) {
        let filters = self.subs.iter().map(|s| s.topic.clone()).collect();
        self.session = Session::new(self.options.clone(), filters);
    }

    /// The page's window of the grouped list: remembered for the next batches, and shown now.
    pub fn view(&mut self, ask: Ask) -> Shown {
        // From now on the page gets its window, not every changed stream and node.
        self.engine.track_changes(false);
        self.hosts.track_changes(false);
        let view = self.view.get_or_insert_with(View::default);
        view.ask = ask;
        self.engine.watch(view.ask.chart.clone());
        let hosts = &self.hosts;
        view.show(self.engine.states(), self.engine.rollup(), &|id| {
            hosts.node(id)
        })
    }

    /// The CONNECT packet for a freshly opened WebSocket.
    pub fn connect(&mut self, now: f64) -> Result<Vec<u8>, String> {
        self.set_status("connecting", "waiting for the broker's CONNACK".into());
        self.session.connect(now)
    }

    /// Bytes from the WebSocket; returns bytes to send. On `Err` the glue closes the socket
    /// (the streams are already stale and the status says why).
    pub fn receive(&mut self, bytes: &[u8], now: f64) -> Result<Vec<u8>, String> {
        let incoming = self.session.receive(bytes, now).map_err(|e| self.fail(e))?;
        for event in incoming {
            match event {
                Incoming::Connected => self.set_status("connected", "subscribed".into()),
                Incoming::Message { topic, payload } => self.message(&topic, &payload, now)?,
            }
        }
        Ok(self.session.take_outgoing())
    }

    fn message(&mut self, topic: &str, payload: &[u8], now: f64) -> Result<(), String> {
        self.counts.messages += 1;
        let mut errors = Vec::new();
        let before = self.engine.readings();
        if topic.starts_with(SPARKPLUG) {
            self.counts.sparkplug += 1;
            self.heard_node(topic, now);
            if let Some((topic, bytes)) =
                self.hosts
                    .on_message(topic, payload, now, &mut self.engine, &mut errors)
            {
                self.session
                    .publish(&topic, bytes, now)
                    .map_err(|e| self.fail(e))?;
            }
        } else {
            // A bridge's state changes when it does, not on a rhythm: never silent.
            let bridge = self.bridge_state(topic, payload, now);
            let (readings, problems) = mapping::read(&self.subs, topic, payload);
            errors = problems;
            for r in readings {
                let group = crate::view::split(&r.stream).0;
                if !bridge && self.silence.heard(group, now, true) {
                    self.engine.revive(group, false);
                }
                self.engine
                    .reading(&r.stream, r.t.map_or(now, |t| t as f64), r.value);
            }
        }
        self.counts.readings += self.engine.readings() - before;
        for e in errors {
            self.problem(e);
        }
        Ok(())
    }

    /// A Sparkplug edge node spoke (any message of its own but a death, which may be an
    /// older session's will the broker kept): its silent streams are live again.
    fn heard_node(&mut self, topic: &str, now: f64) {
        let mut levels = topic.split('/').skip(1);
        let (Some(group), Some(kind), Some(node)) = (levels.next(), levels.next(), levels.next())
        else {
            return;
        };
        if !matches!(kind, "NBIRTH" | "DBIRTH" | "NDATA" | "DDATA" | "DDEATH") {
            return;
        }
        self.key.clear();
        for part in [SPARKPLUG, group, "/", node] {
            self.key.push_str(part);
        }
        if self.silence.heard(&self.key, now, kind != "NBIRTH") {
            self.engine.revive(&self.key[SPARKPLUG.len()..], true);
        }
    }

    /// A mosquitto bridge's state (`$SYS/broker/connection/{name}/state`), when subscribed:
    /// named in the reason of sources that go silent while it is down. True for such a topic.
    fn bridge_state(&mut self, topic: &str, payload: &[u8], now: f64) -> bool {
        let Some(name) = topic
            .strip_prefix(BRIDGE_STATE.0)
            .and_then(|t| t.strip_suffix(BRIDGE_STATE.1))
        else {
            return false;
        };
        match payload {
            b"0" => {
                self.bridges_down.entry(name.to_string()).or_insert(now);
            }
            _ => {
                self.bridges_down.remove(name);
            }
        }
        true
    }

    /// The sources silent since the last look: their live streams turn stale, saying since
    /// when, and which bridges are down.
    fn silences(&mut self, now: f64) {
        for (key, since) in self.silence.check(now) {
            let mut reason = format!(
                "silent since {}: no message for over {} s",
                clock(since),
                (self.silence.window(&key).unwrap_or_default() / 1_000.0).round()
            );
            for (name, down) in &self.bridges_down {
                let _ = write!(reason, "; bridge {name} reported down at {}", clock(*down));
            }
            match key.strip_prefix(SPARKPLUG) {
                Some(node) => self.engine.silent(node, true, &reason),
                None => self.engine.silent(&key, false, &reason),
            }
        }
    }

    /// The keep-alive, and the batch for the page; returns bytes to send (a PINGREQ) or the
    /// error that ends the connection.
    pub fn tick(&mut self, now: f64) -> (Update, Result<Vec<u8>, String>) {
        let out = match self.session.keep_alive(now) {
            Ok(()) => Ok(self.session.take_outgoing()),
            Err(e) => Err(self.fail(e)),
        };
        self.silences(now);
        let (streams, points) = self.engine.take();
        self.counts.streams = self.engine.len() as u64;
        let hosts = &self.hosts;
        let view = self.view.as_mut().map(|view| {
            view.keep(&points);
            view.show(self.engine.states(), self.engine.rollup(), &|id| {
                hosts.node(id)
            })
        });
        let update = Update {
            status: self.status.take(),
            streams,
            nodes: self.hosts.take(),
            points,
            counts: self.counts.clone(),
            errors: std::mem::take(&mut self.errors),
            errors_dropped: std::mem::take(&mut self.errors_dropped),
            view,
        };
        (update, out)
    }

    /// The WebSocket closed: every stream is stale.
    pub fn closed(&mut self, reason: &str) {
        // A refusal stays the last word: the worker does not try again after one.
        if !self.refused {
            self.set_status("closed", reason.to_string());
        }
        self.engine
            .stale_all(&format!("broker connection closed: {reason}"));
    }

    /// The streams whose points the page wants.
    pub fn watch(&mut self, ids: Vec<String>) {
        self.engine.watch(ids);
    }

    fn fail(&mut self, e: String) -> String {
        self.set_status("error", e.clone());
        self.engine.stale_all(&e);
        e
    }

    fn set_status(&mut self, state: &'static str, detail: String) {
        // The session's words for a refusal (session.rs): a CONNACK's or a SUBACK's.
        let refused = state == "error" && detail.starts_with("the broker refused");
        self.refused |= refused;
        self.status = Some(Status {
            state,
            detail,
            refused,
        });
    }

    fn problem(&mut self, e: String) {
        self.counts.problems += 1;
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(e);
        } else {
            self.errors_dropped += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use mqtt5_protocol::packet::connack::ConnAckPacket;
    use mqtt5_protocol::packet::publish::PublishPacket;
    use mqtt5_protocol::packet::MqttPacket;
    use mqtt5_protocol::{QoS, ReasonCode};

    fn bytes(packet: &impl MqttPacket) -> Vec<u8> {
        let mut buf = BytesMut::new();
        packet.encode(&mut buf).unwrap();
        buf.to_vec()
    }

    fn fleet() -> Fleet {
        let config: Config = serde_json::from_value(serde_json::json!({
            "url": "ws://b:9001",
            "subscribe": [{ "topic": "plant/#", "stream": "plant/{1}" }],
        }))
        .unwrap();
        Fleet::new(config, 0.0).unwrap()
    }

    fn connected(f: &mut Fleet) {
        f.connect(0.0).unwrap();
        f.receive(&bytes(&ConnAckPacket::new(false, ReasonCode::Success)), 0.0)
            .unwrap();
    }

    fn publish(f: &mut Fleet, topic: &str, value: &'static str) {
        publish_at(f, topic, value.as_bytes(), 1.0);
    }

    fn publish_at(f: &mut Fleet, topic: &str, payload: &[u8], now: f64) {
        let p = PublishPacket::new(topic, payload.to_vec(), QoS::AtMostOnce);
        f.receive(&bytes(&p), now).unwrap();
    }

    /// The stream's status and reason after a tick at `now`.
    fn state(f: &mut Fleet, id: &str, now: f64) -> (&'static str, String) {
        let _ = f.tick(now);
        let s = &f.engine.states()[id];
        (s.status, s.reason.clone().unwrap_or_default())
    }

    #[test]
    fn a_silent_node_and_a_silent_group_turn_stale_naming_the_down_bridge_and_revive() {
        let mut f = fleet();
        connected(&mut f);
        let t0 = 1_765_085_520_000.0; // 05:32:00 UTC
        publish_at(&mut f, "plant/l1/m/t", b"1", t0);
        publish_at(&mut f, "plant/l2/m/t", b"1", t0);
        f.receive(&sparkplug_birth(), t0).unwrap();
        publish_at(
            &mut f,
            "$SYS/broker/connection/plant1-bridge/state",
            b"0",
            t0 + 2_000.0,
        );
        publish_at(&mut f, "plant/l2/m/t", b"2", t0 + 8_000.0);
        assert_eq!(state(&mut f, "g/n1/temp", t0 + 9_000.0).0, "live");
        let (status, why) = state(&mut f, "g/n1/temp", t0 + 10_500.0);
        assert_eq!(status, "stale");
        assert_eq!(
            why,
            "silent since 05:32:00 UTC: no message for over 10 s; \
             bridge plant1-bridge reported down at 05:32:02 UTC"
        );
        assert_eq!(f.engine.states()["plant/l1/m/t"].status, "stale");
        assert_eq!(f.engine.states()["plant/l2/m/t"].status, "live", "it spoke");
        // The bridge is back, and the node's rebirth revives all its streams.
        publish_at(
            &mut f,
            "$SYS/broker/connection/plant1-bridge/state",
            b"1",
            t0 + 11_000.0,
        );
        f.receive(&sparkplug_birth(), t0 + 11_000.0).unwrap();
        assert_eq!(state(&mut f, "g/n1/temp", t0 + 11_500.0).0, "live");
        publish_at(&mut f, "plant/l1/m/t", b"3", t0 + 12_000.0);
        assert_eq!(state(&mut f, "plant/l1/m/t", t0 + 12_500.0).0, "live");
        // Silent again: no bridge is down now.
        let (_, why) = state(&mut f, "g/n1/temp", t0 + 30_000.0);
        assert_eq!(why, "silent since 05:32:11 UTC: no message for over 10 s");
    }

    #[test]
    fn frames_handed_over_together_read_as_when_handed_one_by_one() {
        // worker.js queues the WebSocket's frames and passes them joined, cut wherever its
        // byte bound falls: the streams, their charts and the counts must not tell.
        let frames: Vec<Vec<u8>> = (0..300)
            .map(|i| {
                let topic = format!("plant/line{}/press/t", i % 7);
                let value = format!("{}", 10.0 + f64::from(i % 11) * 0.1);
                bytes(&PublishPacket::new(
                    topic,
                    value.into_bytes(),
                    QoS::AtMostOnce,
                ))
            })
            .collect();
        let mut one = fleet();
        connected(&mut one);
        for f in &frames {
            one.receive(f, 1.0).unwrap();
        }
        let joined = frames.concat();
        let mut together = fleet();
        connected(&mut together);
        for part in joined.chunks(1_000) {
            together.receive(part, 1.0).unwrap();
        }
        let (a, b) = (one.tick(2.0).0, together.tick(2.0).0);
        assert_eq!(a.counts.messages, 300);
        assert_eq!(a.streams.len(), 7);
        assert_eq!((a.streams, a.counts), (b.streams, b.counts));
    }

    #[test]
    fn with_a_view_updates_carry_no_streams_and_no_nodes() {
        let mut f = fleet();
        connected(&mut f);
        f.view(Ask {
            count: 10,
            ..Ask::default()
        });
        publish(&mut f, "plant/line1/press/t", "1.5");
        let birth = sparkplug_birth();
        f.receive(&birth, 1.0).unwrap();
        let (update, _) = f.tick(2.0);
        assert!(update.streams.is_empty() && update.nodes.is_empty());
        assert_eq!(update.counts.streams, 2, "{:?}", update.counts);
        let html = update.view.unwrap().html;
        assert!(
            html.contains("node online"),
            "the row shows its node: {html}"
        );
    }

    /// An NBIRTH of `g/n1` with one metric.
    fn sparkplug_birth() -> Vec<u8> {
        use llmscope_protocol::sparkplug::{MessageType, Metric, Payload, Topic};
        let payload = Payload {
            timestamp: Some(1),
            seq: Some(0),
            metrics: vec![Metric::birth("temp", 1, 1, 20.0)],
            ..Payload::default()
        };
        let topic = Topic::edge("g", MessageType::NBirth, "n1", None);
        bytes(&PublishPacket::new(
            topic,
            payload.to_bytes(),
            QoS::AtMostOnce,
        ))
    }

    #[test]
    fn a_refusal_is_marked_and_stays_the_last_word_when_the_socket_closes() {
        let mut f = fleet();
        f.connect(0.0).unwrap();
        let refused = ConnAckPacket::new(false, ReasonCode::NotAuthorized);
        assert!(f.receive(&bytes(&refused), 0.0).is_err());
        let status = f.tick(0.0).0.status.unwrap();
        assert_eq!((status.state, status.refused), ("error", true));
        f.closed("the WebSocket closed");
        assert_eq!(f.tick(0.0).0.status, None, "not overwritten by `closed`");
    }

    #[test]
    fn after_a_view_updates_carry_the_window_and_a_reconnect_keeps_the_streams() {
        let mut f = fleet();
        connected(&mut f);
        publish(&mut f, "plant/line1/press/t", "1.5");
        let (update, _) = f.tick(1.0);
        assert_eq!(
            update.streams.len(),
            1,
            "without a view, the changed streams"
        );
        assert!(update.view.is_none());

        let shown = f.view(Ask {
            count: 10,
            ..Ask::default()
        });
        assert_eq!((shown.total, shown.groups), (1, [1, 0, 0]));
        publish(&mut f, "plant/line1/press/t", "1.6");
        let (update, _) = f.tick(2.0);
        assert!(update.streams.is_empty(), "with a view, no streams");
        let view = update.view.unwrap();
        assert!(
            view.html.contains("data-group=\"plant/line1/press\""),
            "{}",
            view.html
        );

        // The connection drops; a new session on a new socket keeps the (stale) stream.
        f.closed("gone");
        f.reconnect();
        let (update, _) = f.tick(3.0);
        assert_eq!(update.status.unwrap().state, "closed");
        assert_eq!(
            update.view.unwrap().groups,
            [1, 0, 1],
            "stale, still listed"
        );
        connected(&mut f);
        assert_eq!(f.tick(4.0).0.status.unwrap().state, "connected");
        publish(&mut f, "plant/line1/press/t", "1.7");
        assert_eq!(f.tick(5.0).0.view.unwrap().groups, [1, 0, 0], "live again");
    }
}
