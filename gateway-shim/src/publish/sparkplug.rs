//! The shim as a Sparkplug B 3.0 edge node (`[publish] format = "sparkplug"`): the edge node is
//! `edge_node_id` in `group_id`, each source section is a device named by its `name`, and each
//! stream is a Double metric named by its id.
//!
//! - NBIRTH (seq 0) carries `bdSeq` and `Node Control/Rebirth`; a DBIRTH per device follows
//!   with every metric's name, alias (numbered from 1 across the node) and last value.
//! - DDATA carries one sample by alias. A stream no birth named (an MQTT wildcard's discovery)
//!   gets an alias and the node is born again first (NBIRTH with the connection's `bdSeq`,
//!   every DBIRTH), since Sparkplug 3.0 sends DBIRTHs only right after an NBIRTH.
//! - `seq` counts 0 to 255 and wraps, over every message but NDEATH.
//! - NDEATH carries the `bdSeq` of its connection: it is the MQTT will, and is sent on clean
//!   shutdown.

use llmscope_protocol::sparkplug::{
    self, DataType, MessageType, Metric, MetricValue, Payload, Topic,
};
use llmscope_protocol::Sample;
use std::collections::HashMap;

/// A device and the streams announced for it at start, plus the stream templates (with `{n}`
/// placeholders) that name streams it discovers later.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Device {
    /// The source section's name.
    pub name: String,
    /// Stream ids known at start.
    pub streams: Vec<String>,
    /// Templates of streams found at run time, e.g. `line2/{1}/vibration`.
    pub templates: Vec<String>,
}

/// A message ready for the broker.
pub type Outgoing = (String, Vec<u8>);

/// The edge node's state: aliases, last values and `seq`.
pub struct EdgeNode {
    group: String,
    node: String,
    devices: Vec<DeviceState>,
    /// Stream id → (device index, alias).
    index: HashMap<String, (usize, u64)>,
    next_alias: u64,
    seq: u8,
}

struct DeviceState {
    name: String,
    templates: Vec<String>,
    metrics: Vec<MetricState>,
}

/// A metric of a device: its stream, alias, and last time and value.
struct MetricState {
    stream: String,
    alias: u64,
    last: Option<(i64, f64)>,
}

/// The alias of `Node Control/Rebirth`; streams are numbered from 1.
const REBIRTH_ALIAS: u64 = 0;

impl EdgeNode {
    /// An edge node with its devices. Device names that are not valid Sparkplug ids have the
    /// offending characters replaced by `_`.
    pub fn new(group: &str, node: &str, devices: Vec<Device>) -> EdgeNode {
        let mut edge = EdgeNode {
            group: group.to_string(),
            node: node.to_string(),
            devices: Vec::new(),
            index: HashMap::new(),
            next_alias: REBIRTH_ALIAS + 1,
            seq: 0,
        };
        for d in devices {
            let name = d.name.replace(['/', '+', '#', '\0'], "_");
            edge.devices.push(DeviceState {
                name: if name.is_empty() { "_".into() } else { name },
                templates: d.templates,
                metrics: Vec::new(),
            });
            let i = edge.devices.len() - 1;
            for stream in d.streams {
                edge.add_metric(i, &stream);
            }
        }
        edge
    }

    /// The topic a host writes commands (rebirth) to.
    pub fn ncmd_topic(&self) -> String {
        Topic::edge(&self.group, MessageType::NCmd, &self.node, None)
    }

    /// The NDEATH of the connection that announced `bd_seq`: the will, and the goodbye.
    pub fn death(&self, bd_seq: u64, now_ms: i64) -> Outgoing {
        let payload = Payload {
            timestamp: Some(now_ms as u64),
            metrics: vec![bd_seq_metric(bd_seq, now_ms)],
            ..Payload::default()
        };
        let topic = Topic::edge(&self.group, MessageType::NDeath, &self.node, None);
        (topic, payload.to_bytes())
    }

    /// NBIRTH (seq 0) and a DBIRTH per device, for a new connection or a rebirth.
    pub fn births(&mut self, bd_seq: u64, now_ms: i64) -> Vec<Outgoing> {
        let mut rebirth = Metric::birth(sparkplug::REBIRTH, REBIRTH_ALIAS, now_ms as u64, 0.0);
        rebirth.datatype = Some(DataType::Boolean as u32);
        rebirth.value = Some(MetricValue::BooleanValue(false));
        let nbirth = Payload {
            timestamp: Some(now_ms as u64),
            metrics: vec![bd_seq_metric(bd_seq, now_ms), rebirth],
            seq: Some(0),
            ..Payload::default()
        };
        self.seq = 0;
        let topic = Topic::edge(&self.group, MessageType::NBirth, &self.node, None);
        let mut out = vec![(topic, nbirth.to_bytes())];
        for i in 0..self.devices.len() {
            out.push(self.dbirth(i, now_ms));
        }
        out
    }

    /// The messages for one sample: its DDATA, after the births again (the connection's
    /// `bd_seq`) if the stream is new. `historical` marks a sample sent from the buffer after
    /// an outage.
    pub fn data(
        &mut self,
        sample: &Sample,
        historical: bool,
        bd_seq: u64,
        now_ms: i64,
    ) -> Vec<Outgoing> {
        let mut out = Vec::new();
        let (device, alias) = match self.index.get(&sample.stream) {
            Some(&found) => found,
            None => {
                let device = self.device_of(&sample.stream);
                let alias = self.add_metric(device, &sample.stream);
                // Every DBIRTH follows the NBIRTH before any data
                // (tck-id-payloads-dbirth-order): a metric found later is a rebirth.
                out = self.births(bd_seq, now_ms);
                (device, alias)
            }
        };
        if let Some(m) = self.devices[device]
            .metrics
            .iter_mut()
            .find(|m| m.alias == alias)
        {
            m.last = Some((sample.t, sample.value));
        }
        let mut metric = Metric::data(alias, sample.t as u64, sample.value);
        if historical {
            metric.is_historical = Some(true);
        }
        let payload = Payload {
            timestamp: Some(now_ms as u64),
            metrics: vec![metric],
            seq: Some(self.next_seq()),
            ..Payload::default()
        };
        let name = &self.devices[device].name;
        let topic = Topic::edge(&self.group, MessageType::DData, &self.node, Some(name));
        out.push((topic, payload.to_bytes()));
        out
    }

    /// Whether an NCMD payload asks for a rebirth (`Node Control/Rebirth` = true).
    pub fn is_rebirth(payload: &[u8]) -> bool {
        Payload::from_bytes(payload).is_ok_and(|p| {
            p.metrics.iter().any(|m| {
                let named = m.name.as_deref() == Some(sparkplug::REBIRTH)
                    || (m.name.is_none() && m.alias == Some(REBIRTH_ALIAS));
                named && m.value == Some(MetricValue::BooleanValue(true))
            })
        })
    }

    fn dbirth(&mut self, device: usize, now_ms: i64) -> Outgoing {
        let d = &self.devices[device];
        let metrics = d
            .metrics
            .iter()
            .map(|m| match m.last {
                Some((t, v)) => Metric::birth(&m.stream, m.alias, t as u64, v),
                None => Metric {
                    value: None,
                    is_null: Some(true),
                    ..Metric::birth(&m.stream, m.alias, now_ms as u64, 0.0)
                },
            })
            .collect();
        let topic = Topic::edge(&self.group, MessageType::DBirth, &self.node, Some(&d.name));
        let payload = Payload {
            timestamp: Some(now_ms as u64),
            metrics,
            seq: Some(self.next_seq()),
            ..Payload::default()
        };
        (topic, payload.to_bytes())
    }

    fn next_seq(&mut self) -> u64 {
        self.seq = self.seq.wrapping_add(1);
        u64::from(self.seq)
    }

    fn add_metric(&mut self, device: usize, stream: &str) -> u64 {
        if let Some(&(_, alias)) = self.index.get(stream) {
            return alias;
        }
        let alias = self.next_alias;
        self.next_alias += 1;
        self.devices[device].metrics.push(MetricState {
            stream: stream.to_string(),
            alias,
            last: None,
        });
        self.index.insert(stream.to_string(), (device, alias));
        alias
    }

    /// The device whose template matches a stream found at run time; else one named `other`.
    fn device_of(&mut self, stream: &str) -> usize {
        let found = self
            .devices
            .iter()
            .position(|d| d.templates.iter().any(|t| template_matches(t, stream)));
        found.unwrap_or_else(|| {
            if let Some(i) = self.devices.iter().position(|d| d.name == "other") {
                return i;
            }
            self.devices.push(DeviceState {
                name: "other".into(),
                templates: Vec::new(),
                metrics: Vec::new(),
            });
            self.devices.len() - 1
        })
    }
}

fn bd_seq_metric(bd_seq: u64, now_ms: i64) -> Metric {
    Metric {
        name: Some(sparkplug::BD_SEQ.into()),
        timestamp: Some(now_ms as u64),
        datatype: Some(DataType::Int64 as u32),
        value: Some(MetricValue::LongValue(bd_seq)),
        ..Metric::default()
    }
}

/// Whether `name` could come from `template`: its literal parts in order, each `{n}` matching
/// one or more characters.
fn template_matches(template: &str, name: &str) -> bool {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        parts.push(&rest[..open]);
        rest = &rest[open + close + 1..];
    }
    parts.push(rest);
    let [first, middle @ .., last] = &parts[..] else {
        return template == name;
    };
    let Some(mut left) = name.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        // At least one character for the placeholder before it.
        let Some(at) = left.get(1..).and_then(|l| l.find(part)) else {
            return false;
        };
        left = &left[1 + at + part.len()..];
    }
    left.len() > last.len() && left.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use llmscope_protocol::sparkplug::{decode, Message};

    fn node() -> EdgeNode {
        EdgeNode::new(
            "plant1",
            "pc7",
            vec![
                Device {
                    name: "press1".into(),
                    streams: vec!["press1/temperature".into(), "press1/cycle".into()],
                    templates: vec![],
                },
                Device {
                    name: "line2".into(),
                    streams: vec![],
                    templates: vec!["line2/{1}/vibration".into()],
                },
            ],
        )
    }

    fn read((topic, bytes): &Outgoing) -> (Topic, Payload) {
        match decode(topic, bytes).unwrap() {
            Message::Edge { topic, payload } => (topic, payload),
            other => panic!("{other:?}"),
        }
    }

    fn kind(t: &Topic) -> (MessageType, Option<&str>) {
        match t {
            Topic::Edge {
                message_type,
                device_id,
                ..
            } => (*message_type, device_id.as_deref()),
            Topic::State { .. } => panic!("{t:?}"),
        }
    }

    fn sample(stream: &str, value: f64) -> Sample {
        Sample {
            stream: stream.into(),
            seq: 1,
            t: 1_000,
            value,
        }
    }

    #[test]
    fn births_name_every_metric_with_an_alias_then_data_goes_by_alias() {
        let mut n = node();
        let births: Vec<_> = n.births(3, 500).iter().map(read).collect();
        assert_eq!(kind(&births[0].0), (MessageType::NBirth, None));
        let nb = &births[0].1;
        assert_eq!(nb.seq, Some(0));
        assert_eq!(nb.metrics[0].name.as_deref(), Some("bdSeq"));
        assert_eq!(nb.metrics[0].value, Some(MetricValue::LongValue(3)));
        assert_eq!(nb.metrics[1].name.as_deref(), Some("Node Control/Rebirth"));
        assert_eq!(kind(&births[1].0), (MessageType::DBirth, Some("press1")));
        let named: Vec<_> = births[1]
            .1
            .metrics
            .iter()
            .map(|m| (m.name.clone().unwrap(), m.alias.unwrap(), m.is_null))
            .collect();
        assert_eq!(
            named,
            [
                ("press1/temperature".into(), 1, Some(true)),
                ("press1/cycle".into(), 2, Some(true))
            ]
        );
        assert_eq!((births[1].1.seq, births[2].1.seq), (Some(1), Some(2)));

        let out = n.data(&sample("press1/cycle", 12.5), false, 3, 600);
        let (topic, p) = read(&out[0]);
        assert_eq!(
            (kind(&topic), p.seq),
            ((MessageType::DData, Some("press1")), Some(3))
        );
        assert_eq!(
            (
                p.metrics[0].name.as_ref(),
                p.metrics[0].alias,
                p.metrics[0].value_f64()
            ),
            (None, Some(2), Some(12.5))
        );
        assert_eq!(p.metrics[0].is_historical, None);
        // A rebirth starts seq at 0 again and carries the last values.
        let again: Vec<_> = n.births(3, 700).iter().map(read).collect();
        assert_eq!(again[0].1.seq, Some(0));
        assert_eq!(again[1].1.metrics[1].value_f64(), Some(12.5));
    }

    /// Sparkplug 3.0, tck-id-payloads-dbirth-order: every DBIRTH comes right after the
    /// NBIRTH, before any data; a metric found later is born with the whole node again.
    #[test]
    fn a_discovered_stream_means_a_rebirth() {
        let mut n = node();
        n.births(4, 0);
        n.data(&sample("press1/cycle", 3.0), false, 4, 5);
        let out: Vec<_> = n
            .data(&sample("line2/m7/vibration", 2.0), true, 4, 10)
            .iter()
            .map(read)
            .collect();
        let kinds: Vec<_> = out.iter().map(|(t, p)| (kind(t), p.seq)).collect();
        assert_eq!(
            kinds,
            [
                ((MessageType::NBirth, None), Some(0)),
                ((MessageType::DBirth, Some("press1")), Some(1)),
                ((MessageType::DBirth, Some("line2")), Some(2)),
                ((MessageType::DData, Some("line2")), Some(3)),
            ]
        );
        assert_eq!(
            out[0].1.metrics[0].value,
            Some(MetricValue::LongValue(4)),
            "the connection's bdSeq"
        );
        assert_eq!(
            out[1].1.metrics[1].value_f64(),
            Some(3.0),
            "press1/cycle's last value"
        );
        let born = &out[2].1.metrics[0];
        assert_eq!(
            (born.name.as_deref(), born.alias),
            (Some("line2/m7/vibration"), Some(3))
        );
        assert_eq!(out[3].1.metrics[0].is_historical, Some(true));
        let out: Vec<_> = n
            .data(&sample("elsewhere", 1.0), false, 4, 10)
            .iter()
            .map(read)
            .collect();
        assert_eq!(kind(&out[0].0), (MessageType::NBirth, None));
        assert_eq!(kind(&out[3].0), (MessageType::DBirth, Some("other")));
        assert_eq!(kind(&out[4].0), (MessageType::DData, Some("other")));
    }

    #[test]
    fn seq_wraps_after_255() {
        let mut n = node();
        n.births(0, 0); // NBIRTH 0, DBIRTHs 1 and 2
        let seqs: Vec<u64> = (0..300)
            .map(|_| {
                read(&n.data(&sample("press1/temperature", 1.0), false, 0, 0)[0])
                    .1
                    .seq
                    .unwrap()
            })
            .collect();
        assert_eq!(&seqs[..3], [3, 4, 5]);
        assert_eq!(&seqs[252..255], [255, 0, 1]);
    }

    #[test]
    fn death_and_rebirth_requests() {
        let n = node();
        let (topic, p) = read(&n.death(9, 5));
        assert_eq!(kind(&topic), (MessageType::NDeath, None));
        assert_eq!(
            (p.seq, p.metrics[0].value.clone()),
            (None, Some(MetricValue::LongValue(9)))
        );
        let mut yes = Metric::birth(sparkplug::REBIRTH, 0, 0, 0.0);
        yes.value = Some(MetricValue::BooleanValue(true));
        let ask = |m: Metric| {
            Payload {
                metrics: vec![m],
                ..Payload::default()
            }
            .to_bytes()
        };
        assert!(EdgeNode::is_rebirth(&ask(yes.clone())));
        yes.value = Some(MetricValue::BooleanValue(false));
        assert!(!EdgeNode::is_rebirth(&ask(yes)));
        assert!(!EdgeNode::is_rebirth(b"\xff\xff"));
        assert_eq!(n.ncmd_topic(), "spBv1.0/plant1/NCMD/pc7");
    }

    #[test]
    fn templates() {
        assert!(template_matches(
            "line2/{1}/vibration",
            "line2/m7/vibration"
        ));
        assert!(template_matches("a/{1}/{2}", "a/x/y/z"));
        assert!(!template_matches("line2/{1}/vibration", "line2//vibration"));
        assert!(!template_matches(
            "line2/{1}/vibration",
            "line3/m7/vibration"
        ));
        assert!(template_matches("fixed", "fixed"));
        assert!(!template_matches("{1}", ""));
    }
}
