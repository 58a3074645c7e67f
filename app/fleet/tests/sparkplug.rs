//! The host application's view of Sparkplug edge nodes, message by message: births name the
//! streams, aliases resolve, deaths (with the right `bdSeq`) make streams stale and a new
//! birth revives them, `seq` gaps are counted, unknown aliases are reported (never guessed),
//! and a rebirth is asked for only when the option permits, once per birth.

use llmscope_app_fleet::engine::{Engine, StreamUpdate};
use llmscope_app_fleet::sparkplug::{rebirth_request, Hosts};
use llmscope_protocol::sparkplug::{
    self, MessageType, Metric, MetricValue, Payload, Topic, BD_SEQ, REBIRTH,
};

fn payload(seq: Option<u64>, metrics: Vec<Metric>) -> Vec<u8> {
    Payload {
        timestamp: Some(1_000),
        seq,
        metrics,
        ..Payload::default()
    }
    .to_bytes()
}

fn bd_seq(v: u64) -> Metric {
    Metric {
        name: Some(BD_SEQ.into()),
        datatype: Some(8),
        value: Some(MetricValue::LongValue(v)),
        ..Metric::default()
    }
}

fn topic(kind: MessageType, device: Option<&str>) -> String {
    Topic::edge("plant1", kind, "edge1", device)
}

struct Host {
    hosts: Hosts,
    engine: Engine,
    errors: Vec<String>,
    commands: Vec<(String, Vec<u8>)>,
}

impl Host {
    fn new(rebirth: bool) -> Host {
        Host {
            hosts: Hosts::new(rebirth),
            engine: Engine::new(20),
            errors: Vec::new(),
            commands: Vec::new(),
        }
    }

    fn send(&mut self, kind: MessageType, device: Option<&str>, bytes: Vec<u8>) {
        if let Some(c) = self.hosts.on_message(
            &topic(kind, device),
            &bytes,
            5_000.0,
            &mut self.engine,
            &mut self.errors,
        ) {
            self.commands.push(c);
        }
    }

    fn born(&mut self, bd: u64) {
        self.send(
            MessageType::NBirth,
            None,
            payload(
                Some(0),
                vec![bd_seq(bd), Metric::birth("uptime", 1, 1_000, 7.0)],
            ),
        );
        let metrics = vec![
            Metric::birth("temperature", 10, 1_000, 21.5),
            Metric::birth("pressure", 11, 1_000, 3.0),
        ];
        self.send(
            MessageType::DBirth,
            Some("press7"),
            payload(Some(1), metrics),
        );
    }

    fn streams(&mut self) -> Vec<StreamUpdate> {
        self.engine.take().0
    }
}

fn find<'a>(streams: &'a [StreamUpdate], id: &str) -> &'a StreamUpdate {
    streams
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no stream {id} in {streams:?}"))
}

#[test]
fn births_name_streams_and_data_resolves_aliases() {
    let mut h = Host::new(false);
    h.born(0);
    h.send(
        MessageType::DData,
        Some("press7"),
        payload(Some(2), vec![Metric::data(10, 2_000, 22.25)]),
    );
    let streams = h.streams();
    let ids: Vec<&str> = streams.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "plant1/edge1/press7/pressure",
            "plant1/edge1/press7/temperature",
            "plant1/edge1/uptime"
        ]
    );
    let t = find(&streams, "plant1/edge1/press7/temperature");
    assert_eq!((t.last, t.t, t.n, t.status), (22.25, 2_000.0, 2, "live"));
    assert_eq!(h.errors, Vec::<String>::new());
    let nodes = h.hosts.take();
    assert_eq!(
        (nodes[0].id.as_str(), nodes[0].state, nodes[0].bd_seq),
        ("plant1/edge1", "online", Some(0))
    );
    assert_eq!(nodes[0].devices, ["press7"]);
}

#[test]
fn a_death_makes_the_nodes_streams_stale_and_a_new_birth_revives_them() {
    let mut h = Host::new(false);
    h.born(3);
    h.streams();
    // An older session's will (bdSeq 2) does not kill the node born with bdSeq 3.
    h.send(MessageType::NDeath, None, payload(None, vec![bd_seq(2)]));
    assert!(h.streams().is_empty());
    assert!(
        h.errors[0].contains("NDEATH with bdSeq 2, but the node's NBIRTH had bdSeq 3"),
        "{:?}",
        h.errors
    );
    h.send(MessageType::NDeath, None, payload(None, vec![bd_seq(3)]));
    let streams = h.streams();
    assert_eq!(streams.len(), 3);
    assert!(streams.iter().all(|s| s.status == "stale"), "{streams:?}");
    assert_eq!(h.hosts.take()[0].state, "offline");
    h.born(4);
    let streams = h.streams();
    assert!(streams.iter().all(|s| s.status == "live"), "{streams:?}");
    assert_eq!(h.hosts.take()[0].bd_seq, Some(4));
}

#[test]
fn a_device_death_makes_only_its_streams_stale() {
    let mut h = Host::new(false);
    h.born(0);
    h.streams();
    h.send(
        MessageType::DDeath,
        Some("press7"),
        payload(Some(2), vec![]),
    );
    let streams = h.streams();
    assert_eq!(streams.len(), 2);
    assert!(streams
        .iter()
        .all(|s| s.id.starts_with("plant1/edge1/press7/") && s.status == "stale"));
}

#[test]
fn a_seq_gap_is_counted_and_wraps_at_256() {
    let mut h = Host::new(false);
    h.born(0);
    h.send(
        MessageType::DData,
        Some("press7"),
        payload(Some(4), vec![Metric::data(10, 2_000, 1.0)]),
    );
    assert_eq!(h.hosts.take()[0].seq_gaps, 1);
    assert!(
        h.errors[0].contains("seq went from 1 to 4 (2 message(s) missing)"),
        "{:?}",
        h.errors
    );
    for seq in (5..=255).chain(0..=1) {
        h.send(
            MessageType::NData,
            None,
            payload(Some(seq), vec![Metric::data(1, 2_000, 1.0)]),
        );
    }
    assert_eq!(h.hosts.take()[0].seq_gaps, 1, "255 then 0 is no gap");
}

#[test]
fn an_alias_no_birth_named_is_reported_not_guessed() {
    let mut h = Host::new(false);
    h.born(0);
    h.streams();
    // Alias 11 is press7's; on another device it means nothing.
    h.send(
        MessageType::DData,
        Some("press8"),
        payload(Some(2), vec![Metric::data(11, 2_000, 9.0)]),
    );
    assert!(h.streams().is_empty(), "nothing guessed");
    assert_eq!(h.hosts.take()[0].unknown_aliases, 1);
    assert_eq!(
        h.errors,
        ["plant1/edge1/press8: alias 11 was named by no birth: dropped, not guessed"]
    );
    assert!(h.commands.is_empty(), "no rebirth without the option");
}

#[test]
fn a_rebirth_is_asked_once_per_birth_when_permitted() {
    let mut h = Host::new(true);
    // Data from a node whose birth this host never saw.
    h.send(
        MessageType::NData,
        None,
        payload(Some(9), vec![Metric::data(1, 2_000, 1.0)]),
    );
    h.send(
        MessageType::NData,
        None,
        payload(Some(10), vec![Metric::data(1, 2_000, 1.0)]),
    );
    assert_eq!(h.commands.len(), 1, "asked once");
    assert_eq!(h.commands[0], rebirth_request("plant1", "edge1", 5_000.0));
    let (topic, bytes) = &h.commands[0];
    assert_eq!(topic, "spBv1.0/plant1/NCMD/edge1");
    let Ok(sparkplug::Message::Edge {
        payload: request, ..
    }) = sparkplug::decode(topic, bytes)
    else {
        panic!("the request is a Sparkplug payload");
    };
    assert_eq!(request.metrics[0].name.as_deref(), Some(REBIRTH));
    assert_eq!(
        request.metrics[0].value,
        Some(MetricValue::BooleanValue(true))
    );
    h.born(1);
    h.send(
        MessageType::DData,
        Some("press7"),
        payload(Some(5), vec![Metric::data(10, 2_000, 1.0)]),
    );
    assert_eq!(
        h.commands.len(),
        2,
        "a seq gap after the new birth asks again"
    );
}

#[test]
fn bytes_that_are_not_sparkplug_are_an_error_naming_the_topic() {
    let mut h = Host::new(false);
    h.send(MessageType::NBirth, None, b"{\"v\":1}".to_vec());
    assert!(
        h.errors[0].starts_with("Sparkplug payload on 'spBv1.0/plant1/NBIRTH/edge1'"),
        "{:?}",
        h.errors
    );
}
