//! Sparkplug B 3.0 as a host application reads it: births name the metrics and their aliases,
//! data messages are resolved through those aliases, deaths make streams stale, and `seq` is
//! checked per edge node. Payloads and topics are `llmscope_protocol::sparkplug`'s, which
//! decodes only under `spBv1.0/`.
//!
//! - Stream ids: `{group}/{node}/{device}/{metric}` for a device's metrics, `{group}/{node}/{metric}`
//!   for the edge node's own. `bdSeq` and `Node Control/*` metrics are bookkeeping, not streams.
//! - NDEATH makes the node's streams and its devices' stale; DDEATH the device's. An NDEATH
//!   whose `bdSeq` differs from the node's last NBIRTH is an older session's will (Sparkplug 3.0
//!   §7.2: the host compares them): reported, and the live node is left as it is.
//! - A `seq` that is not the last one plus 1 (mod 256) is a gap, counted per node.
//! - A metric alias no birth defined is reported and dropped, never guessed.
//! - With `rebirth` on, data from a node not born, an unknown alias or a `seq` gap makes the
//!   host ask for a rebirth (NCMD `Node Control/Rebirth` = true), once until the next NBIRTH.

use crate::engine::Engine;
use llmscope_protocol::sparkplug::{
    self, DataType, Message, MessageType, Metric, MetricValue, Payload, Topic, BD_SEQ, REBIRTH,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One edge node as the page gets it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NodeUpdate {
    /// `{group}/{node}`.
    pub id: String,
    /// `online` (born), `offline` (dead) or `unborn` (data seen, no NBIRTH yet).
    pub state: &'static str,
    /// The `bdSeq` of its last NBIRTH.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bd_seq: Option<u64>,
    /// `seq` gaps seen.
    pub seq_gaps: u64,
    /// Metrics dropped because no birth named their alias.
    pub unknown_aliases: u64,
    /// Rebirth requests sent.
    pub rebirths: u64,
    /// Its devices that are born.
    pub devices: Vec<String>,
}

#[derive(Default)]
struct Node {
    state: NodeUpdate,
    seq: Option<u64>,
    /// Device (`""` for the node's own metrics), then alias, to the metric's stream id: a
    /// data message's metric is found without building a string.
    aliases: HashMap<String, HashMap<u64, String>>,
    devices: BTreeSet<String>,
    rebirth_asked: bool,
}

/// A rebirth request to publish: topic and payload.
pub type Command = (String, Vec<u8>);

/// Every edge node seen.
pub struct Hosts {
    rebirth: bool,
    nodes: BTreeMap<String, Node>,
    changed: BTreeSet<String>,
    /// Whether `changed` is kept: not once the page takes a grouped view instead.
    track: bool,
}

impl Hosts {
    /// A host that asks for rebirths when `rebirth` is on.
    pub fn new(rebirth: bool) -> Hosts {
        Hosts {
            rebirth,
            nodes: BTreeMap::new(),
            changed: BTreeSet::new(),
            track: true,
        }
    }

    /// Whether the nodes changed since the last [`Hosts::take`] are kept (the default).
    pub fn track_changes(&mut self, on: bool) {
        self.track = on;
        if !on {
            self.changed.clear();
        }
    }

    /// One message on a `spBv1.0/` topic. Problems go to `errors`; a rebirth request to send
    /// comes back.
    pub fn on_message(
        &mut self,
        topic: &str,
        bytes: &[u8],
        now: f64,
        engine: &mut Engine,
        errors: &mut Vec<String>,
    ) -> Option<Command> {
        let (topic, payload) = match sparkplug::decode(topic, bytes) {
            Ok(Message::Edge { topic, payload }) => (topic, payload),
            Ok(Message::State { .. }) => return None,
            Err(e) => {
                errors.push(e.to_string());
                return None;
            }
        };
        let Topic::Edge {
            group_id,
            message_type,
            edge_node_id,
            device_id,
        } = topic
        else {
            return None;
        };
        if matches!(message_type, MessageType::NCmd | MessageType::DCmd) {
            return None; // commands are for edge nodes (our own rebirth requests come back here)
        }
        let id = format!("{group_id}/{edge_node_id}");
        if !self.nodes.contains_key(&id) {
            let state = NodeUpdate {
                id: id.clone(),
                state: "unborn",
                ..NodeUpdate::default()
            };
            let node = Node {
                state,
                ..Node::default()
            };
            self.nodes.insert(id.clone(), node);
        }
        let node = self.nodes.get_mut(&id)?;
        if self.track && !self.changed.contains(&id) {
            self.changed.insert(id.clone());
        }
        let mut ask = false;
        if message_type != MessageType::NDeath {
            ask |= check_seq(node, &id, message_type, payload.seq, errors);
        }
        let t = payload.timestamp.map_or(now, |t| t as f64);
        let device = device_id.as_deref();
        match message_type {
            MessageType::NBirth => {
                node.state.state = "online";
                node.state.bd_seq = bd_seq(&payload);
                node.aliases.clear();
                node.devices.clear();
                node.rebirth_asked = false;
                birth(node, &id, String::new(), &payload.metrics, t, engine);
            }
            MessageType::NDeath => {
                let death = bd_seq(&payload);
                match (death, node.state.bd_seq) {
                    (Some(d), Some(b)) if d != b => errors.push(format!(
                        "{id}: NDEATH with bdSeq {d}, but the node's NBIRTH had bdSeq {b}: an older session's will, ignored"
                    )),
                    _ => {
                        node.state.state = "offline";
                        node.devices.clear();
                        engine.stale_under(&id, "NDEATH: the edge node went offline");
                    }
                }
            }
            MessageType::DBirth | MessageType::DData | MessageType::NData
                if node.state.state != "online" =>
            {
                errors.push(format!(
                    "{id}: {} before the node's NBIRTH (or after its NDEATH): its metrics are unknown, not guessed",
                    message_type.as_str()
                ));
                ask = true;
            }
            MessageType::DBirth => {
                let d = device.unwrap_or_default().to_string();
                node.devices.insert(d.clone());
                birth(node, &format!("{id}/{d}"), d, &payload.metrics, t, engine);
            }
            MessageType::DDeath => {
                let d = device.unwrap_or_default();
                node.devices.remove(d);
                engine.stale_under(&format!("{id}/{d}"), "DDEATH: the device went offline");
            }
            MessageType::NData | MessageType::DData => {
                ask |= data(node, &id, device, &payload.metrics, t, engine, errors);
            }
            MessageType::NCmd | MessageType::DCmd => {}
        }
        if !matches!(message_type, MessageType::NData | MessageType::DData) {
            node.state.devices = node.devices.iter().cloned().collect();
        }
        if ask && self.rebirth && !node.rebirth_asked && message_type != MessageType::NDeath {
            node.rebirth_asked = true;
            node.state.rebirths += 1;
            return Some(rebirth_request(&group_id, &edge_node_id, now));
        }
        None
    }

    /// Node `{group}/{node}` as the page sees it.
    pub fn node(&self, id: &str) -> Option<&NodeUpdate> {
        self.nodes.get(id).map(|n| &n.state)
    }

    /// The nodes changed since the last call.
    pub fn take(&mut self) -> Vec<NodeUpdate> {
        let changed = std::mem::take(&mut self.changed);
        changed
            .iter()
            .filter_map(|id| self.nodes.get(id))
            .map(|n| n.state.clone())
            .collect()
    }
}

/// Checks `seq` (NBIRTH starts it); true on a gap.
fn check_seq(
    node: &mut Node,
    id: &str,
    kind: MessageType,
    seq: Option<u64>,
    errors: &mut Vec<String>,
) -> bool {
    let Some(seq) = seq else {
        return false;
    };
    let previous = node.seq.replace(seq);
    if kind == MessageType::NBirth {
        return false;
    }
    match previous {
        Some(p) if (p + 1) % 256 != seq => {
            node.state.seq_gaps += 1;
            errors.push(format!(
                "{id}: seq went from {p} to {seq} ({} message(s) missing)",
                (seq + 256 - p - 1) % 256
            ));
            true
        }
        _ => false,
    }
}

/// The `bdSeq` metric of an NBIRTH or NDEATH.
fn bd_seq(payload: &Payload) -> Option<u64> {
    let m = payload
        .metrics
        .iter()
        .find(|m| m.name.as_deref() == Some(BD_SEQ))?;
    match m.value {
        Some(MetricValue::LongValue(v)) => Some(v),
        Some(MetricValue::IntValue(v)) => Some(u64::from(v)),
        _ => m.value_f64().map(|v| v as u64),
    }
}

/// Whether a metric is Sparkplug's bookkeeping rather than a measurement.
fn bookkeeping(name: &str) -> bool {
    name == BD_SEQ || name.starts_with("Node Control/") || name.starts_with("Device Control/")
}

/// Records a birth's names and aliases (those of `device`, `""` for the node's own, start
/// afresh), and its values as readings of `prefix/{name}`.
fn birth(
    node: &mut Node,
    prefix: &str,
    device: String,
    metrics: &[Metric],
    t: f64,
    engine: &mut Engine,
) {
    let aliases = node.aliases.entry(device).or_default();
    aliases.clear();
    for m in metrics {
        let Some(name) = m.name.as_deref().filter(|n| !bookkeeping(n)) else {
            continue;
        };
        let stream = format!("{prefix}/{name}");
        if let Some(v) = m.value_f64() {
            engine.reading(&stream, m.timestamp.map_or(t, |t| t as f64), v);
        }
        if let Some(alias) = m.alias {
            aliases.insert(alias, stream);
        }
    }
}

/// Resolves a data message's metrics; true when an alias was unknown.
fn data(
    node: &mut Node,
    id: &str,
    device: Option<&str>,
    metrics: &[Metric],
    t: f64,
    engine: &mut Engine,
    errors: &mut Vec<String>,
) -> bool {
    let prefix = || device.map_or_else(|| id.to_string(), |d| format!("{id}/{d}"));
    let aliases = node.aliases.get(device.unwrap_or_default());
    let mut unknown = false;
    for m in metrics {
        let t = m.timestamp.map_or(t, |t| t as f64);
        let name = match (m.name.as_deref(), m.alias) {
            (Some(n), _) => n,
            (None, Some(a)) => match aliases.and_then(|by| by.get(&a)) {
                // A birth named it, and it is no bookkeeping metric.
                Some(stream) => {
                    if let Some(v) = m.value_f64() {
                        engine.reading(stream, t, v);
                    }
                    continue;
                }
                None => {
                    node.state.unknown_aliases += 1;
                    unknown = true;
                    errors.push(format!(
                        "{}: alias {a} was named by no birth: dropped, not guessed",
                        prefix()
                    ));
                    continue;
                }
            },
            (None, None) => {
                errors.push(format!(
                    "{}: a metric with neither name nor alias: dropped",
                    prefix()
                ));
                continue;
            }
        };
        if let (false, Some(v)) = (bookkeeping(name), m.value_f64()) {
            engine.reading(&format!("{}/{name}", prefix()), t, v);
        }
    }
    unknown
}

/// NCMD `Node Control/Rebirth` = true (Sparkplug 3.0 §6.4.18).
pub fn rebirth_request(group: &str, node: &str, now: f64) -> Command {
    let payload = Payload {
        timestamp: Some(now as u64),
        metrics: vec![Metric {
            name: Some(REBIRTH.to_string()),
            timestamp: Some(now as u64),
            datatype: Some(DataType::Boolean as u32),
            value: Some(MetricValue::BooleanValue(true)),
            ..Metric::default()
        }],
        ..Payload::default()
    };
    (
        Topic::edge(group, MessageType::NCmd, node, None),
        payload.to_bytes(),
    )
}
