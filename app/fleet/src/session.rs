//! The MQTT client's protocol side, without I/O: bytes in from the WebSocket, packets out as
//! bytes for it. CONNECT (3.1.1 or 5, optional username/password), SUBSCRIBE after CONNACK,
//! PUBACK for QoS 1, PINGREQ when the connection has been quiet for most of the keep-alive,
//! and errors in words for a refused CONNACK, a refused subscription or a silent broker.
//! Packets come from `mqtt5-protocol` (docs/fleet.md says why that codec).
//!
//! A WebSocket message may hold several MQTT packets or part of one (MQTT 5 §6.0): incoming
//! bytes are buffered until a whole packet is there.

use bytes::{Buf, BytesMut};
use mqtt5_protocol::packet::connect::ConnectPacket;
use mqtt5_protocol::packet::pingreq::PingReqPacket;
use mqtt5_protocol::packet::puback::PubAckPacket;
use mqtt5_protocol::packet::publish::PublishPacket;
use mqtt5_protocol::packet::suback::SubAckReasonCode;
use mqtt5_protocol::packet::subscribe::SubscribePacket;
use mqtt5_protocol::packet::MqttPacket;
use mqtt5_protocol::{ConnectOptions, FixedHeader, Packet, QoS};

/// How to connect.
#[derive(Clone, Debug)]
pub struct Options {
    /// 4 (MQTT 3.1.1) or 5.
    pub version: u8,
    /// The client id (MQTT 5 and mosquitto accept any; 3.1.1 brokers want 1 to 23 characters).
    pub client_id: String,
    /// Optional username.
    pub username: Option<String>,
    /// Optional password (needs a username).
    pub password: Option<String>,
    /// Keep-alive in seconds.
    pub keep_alive_s: u16,
    /// QoS of the subscriptions (0 or 1).
    pub qos: u8,
}

/// What the broker said that the caller acts on.
#[derive(Debug, PartialEq)]
pub enum Incoming {
    /// CONNACK accepted; SUBSCRIBE has been queued.
    Connected,
    /// A message.
    Message {
        /// Its topic.
        topic: String,
        /// Its payload.
        payload: Vec<u8>,
    },
}

/// One connection's protocol state.
#[derive(Debug)]
pub struct Session {
    options: Options,
    filters: Vec<String>,
    buffer: BytesMut,
    outgoing: Vec<u8>,
    connected: bool,
    next_id: u16,
    /// When we last sent anything (ms), for the keep-alive.
    last_sent: f64,
    /// When a PINGREQ went out that is not answered yet.
    ping_sent: Option<f64>,
}

impl Session {
    /// A session that will subscribe to `filters` once connected.
    pub fn new(options: Options, filters: Vec<String>) -> Session {
        Session {
            options,
            filters,
            buffer: BytesMut::new(),
            outgoing: Vec::new(),
            connected: false,
            next_id: 0,
            last_sent: 0.0,
            ping_sent: None,
        }
    }

    /// The CONNECT packet, to send as soon as the WebSocket is open.
    pub fn connect(&mut self, now: f64) -> Result<Vec<u8>, String> {
        let o = &self.options;
        let mut options = ConnectOptions::new(o.client_id.clone());
        options.keep_alive = mqtt5_protocol::time::Duration::from_secs(u64::from(o.keep_alive_s));
        options.clean_start = true;
        options.username = o.username.clone();
        options.password = o.password.as_ref().map(|p| p.as_bytes().to_vec());
        let packet = match o.version {
            5 => ConnectPacket::new(options),
            4 => ConnectPacket::new_v311(options),
            v => {
                return Err(format!(
                    "MQTT version {v} is not supported: use 5 or 4 (3.1.1)"
                ))
            }
        };
        self.last_sent = now;
        encode(&packet)
    }

    /// Reads bytes from the WebSocket; what the broker said, and queues the answers (SUBSCRIBE,
    /// PUBACK) for [`Session::take_outgoing`]. An `Err` ends the connection: its text says why.
    pub fn receive(&mut self, bytes: &[u8], now: f64) -> Result<Vec<Incoming>, String> {
        self.buffer.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(packet) = self.next_packet()? {
            self.ping_sent = None; // any packet shows the broker is there
            match packet {
                Packet::ConnAck(ack) => {
                    if !ack.reason_code.is_success() {
                        return Err(format!(
                            "the broker refused the connection: {:?} (MQTT {}); check the username, password and client id",
                            ack.reason_code,
                            if self.options.version == 5 { "5" } else { "3.1.1" }
                        ));
                    }
                    self.connected = true;
                    self.subscribe(now)?;
                    out.push(Incoming::Connected);
                }
                Packet::Publish(p) => {
                    if p.qos == QoS::AtLeastOnce {
                        if let Some(id) = p.packet_id {
                            self.queue(&PubAckPacket::new(id), now)?;
                        }
                    }
                    out.push(Incoming::Message {
                        topic: p.topic_name,
                        payload: p.payload.to_vec(),
                    });
                }
                Packet::SubAck(ack) => {
                    let refused: Vec<&str> = ack
                        .reason_codes
                        .iter()
                        .zip(&self.filters)
                        .filter(|(c, _)| {
                            !matches!(
                                c,
                                SubAckReasonCode::GrantedQoS0
                                    | SubAckReasonCode::GrantedQoS1
                                    | SubAckReasonCode::GrantedQoS2
                            )
                        })
                        .map(|(_, f)| f.as_str())
                        .collect();
                    if !refused.is_empty() {
                        return Err(format!(
                            "the broker refused the subscription to {}: check its ACL",
                            refused.join(", ")
                        ));
                    }
                }
                Packet::Disconnect(d) => {
                    return Err(format!("the broker disconnected: {:?}", d.reason_code))
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// The next whole packet in the buffer, if one is there.
    fn next_packet(&mut self) -> Result<Option<Packet>, String> {
        let mut peek = &self.buffer[..];
        let header = match FixedHeader::decode(&mut peek) {
            Ok(h) => h,
            // Not even a whole fixed header yet (at most 5 bytes).
            Err(_) if self.buffer.len() < 5 => return Ok(None),
            Err(e) => return Err(format!("the broker sent an unreadable packet: {e}")),
        };
        let header_len = self.buffer.len() - peek.len();
        let total = header_len + header.remaining_length as usize;
        if self.buffer.len() < total {
            return Ok(None);
        }
        let mut whole = self.buffer.split_to(total);
        whole.advance(header_len);
        let version = self.options.version;
        Packet::decode_from_body_with_version(header.packet_type, &header, &mut whole, version)
            .map(Some)
            .map_err(|e| {
                format!(
                    "the broker sent an unreadable {:?} packet: {e}",
                    header.packet_type
                )
            })
    }

    fn subscribe(&mut self, now: f64) -> Result<(), String> {
        if self.filters.is_empty() {
            return Ok(()); // an empty SUBSCRIBE is a protocol error
        }
        let qos = if self.options.qos == 0 {
            QoS::AtMostOnce
        } else {
            QoS::AtLeastOnce
        };
        let id = self.packet_id();
        let mut packet = if self.options.version == 5 {
            SubscribePacket::new(id)
        } else {
            SubscribePacket::new_v311(id)
        };
        for f in &self.filters {
            packet = packet.add_filter(f.clone(), qos);
        }
        self.queue(&packet, now)
    }

    /// A QoS 0 PUBLISH (the Sparkplug rebirth request).
    pub fn publish(&mut self, topic: &str, payload: Vec<u8>, now: f64) -> Result<(), String> {
        if !self.connected {
            return Ok(());
        }
        let packet = if self.options.version == 5 {
            PublishPacket::new(topic, payload, QoS::AtMostOnce)
        } else {
            PublishPacket::new_v311(topic, payload, QoS::AtMostOnce)
        };
        self.queue(&packet, now)
    }

    /// A PINGREQ when nothing was sent for three quarters of the keep-alive; an error when the
    /// last one got no answer within the keep-alive (MQTT 3.1.2.10: the broker is gone).
    pub fn keep_alive(&mut self, now: f64) -> Result<(), String> {
        let period = f64::from(self.options.keep_alive_s) * 1000.0;
        if !self.connected || period == 0.0 {
            return Ok(());
        }
        if let Some(sent) = self.ping_sent {
            if now - sent > period {
                return Err(format!(
                    "no answer to the keep-alive ping for {} s",
                    self.options.keep_alive_s
                ));
            }
        } else if now - self.last_sent >= period * 0.75 {
            self.queue(&PingReqPacket::default(), now)?;
            self.ping_sent = Some(now);
        }
        Ok(())
    }

    /// Bytes to send on the WebSocket (empty when there is nothing).
    pub fn take_outgoing(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.outgoing)
    }

    fn queue(&mut self, packet: &impl MqttPacket, now: f64) -> Result<(), String> {
        self.outgoing.extend(encode(packet)?);
        self.last_sent = now;
        Ok(())
    }

    fn packet_id(&mut self) -> u16 {
        self.next_id = self.next_id.checked_add(1).unwrap_or(1);
        self.next_id
    }
}

fn encode(packet: &impl MqttPacket) -> Result<Vec<u8>, String> {
    let mut buf = BytesMut::new();
    packet
        .encode(&mut buf)
        .map_err(|e| format!("cannot encode an MQTT packet: {e}"))?;
    Ok(buf.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mqtt5_protocol::packet::connack::ConnAckPacket;
    use mqtt5_protocol::ReasonCode;

    fn session(version: u8) -> Session {
        let options = Options {
            version,
            client_id: "t".into(),
            username: Some("u".into()),
            password: Some("p".into()),
            keep_alive_s: 10,
            qos: 1,
        };
        Session::new(options, vec!["spBv1.0/#".into(), "plant/+".into()])
    }

    #[test]
    fn connect_names_the_protocol_level_and_credentials() {
        for (version, level) in [(5, 5u8), (4, 4u8)] {
            let bytes = session(version).connect(0.0).unwrap();
            // Fixed header (2 bytes), "MQTT" with its length (6), then the level.
            assert_eq!(&bytes[2..8], b"\0\x04MQTT");
            assert_eq!(bytes[8], level);
            assert_eq!(bytes[9] & 0xC0, 0xC0, "username and password flags");
        }
    }

    #[test]
    fn a_message_split_across_frames_is_read_once_whole_and_qos1_is_acked() {
        for version in [4, 5] {
            let mut s = session(version);
            let ack = if version == 5 {
                ConnAckPacket::new(false, ReasonCode::Success)
            } else {
                ConnAckPacket::new_v311(false, ReasonCode::Success)
            };
            assert_eq!(
                s.receive(&encode(&ack).unwrap(), 0.0).unwrap(),
                vec![Incoming::Connected]
            );
            let subscribe = s.take_outgoing();
            assert_eq!(subscribe[0] >> 4, 8, "SUBSCRIBE after CONNACK");
            let publish = if version == 5 {
                PublishPacket::new("plant/a", &b"1.5"[..], QoS::AtLeastOnce)
            } else {
                PublishPacket::new_v311("plant/a", &b"1.5"[..], QoS::AtLeastOnce)
            };
            let bytes = encode(&publish.with_packet_id(7)).unwrap();
            let (a, b) = bytes.split_at(3);
            assert!(s.receive(a, 1.0).unwrap().is_empty());
            let got = s.receive(b, 1.0).unwrap();
            assert_eq!(
                got,
                vec![Incoming::Message {
                    topic: "plant/a".into(),
                    payload: b"1.5".to_vec()
                }]
            );
            assert_eq!(
                s.take_outgoing(),
                vec![0x40, 2, 0, 7],
                "PUBACK 7, 2 bytes in both versions"
            );
        }
    }

    #[test]
    fn a_refused_connack_is_an_error_that_says_what_to_check() {
        let mut s = session(4);
        let ack = encode(&ConnAckPacket::new_v311(
            false,
            ReasonCode::BadUsernameOrPassword,
        ))
        .unwrap();
        let e = s.receive(&ack, 0.0).unwrap_err();
        assert!(
            e.contains("refused the connection") && e.contains("BadUsernameOrPassword"),
            "{e}"
        );
    }

    #[test]
    fn pings_when_quiet_and_gives_up_on_a_silent_broker() {
        let mut s = session(5);
        s.receive(
            &encode(&ConnAckPacket::new(false, ReasonCode::Success)).unwrap(),
            0.0,
        )
        .unwrap();
        s.take_outgoing();
        s.keep_alive(5_000.0).unwrap();
        assert!(
            s.take_outgoing().is_empty(),
            "5 s of a 10 s keep-alive: no ping yet"
        );
        s.keep_alive(8_000.0).unwrap();
        assert_eq!(s.take_outgoing(), vec![0xC0, 0], "PINGREQ");
        s.keep_alive(17_000.0).unwrap();
        assert!(s.keep_alive(18_001.0).unwrap_err().contains("keep-alive"));
    }
}
