//! The republisher's broker connection: polls rumqttc's event loop in a task of its own (so a
//! packet is never interrupted halfway), reconnects with backoff, and reports to the
//! republisher what it must act on: connected, a PUBACK, a command, the connection lost.
//!
//! The buffer, not rumqttc, sends unacknowledged samples again: on a lost connection the
//! republisher is told first and stops publishing, then every request rumqttc kept for a resend
//! is discarded. So after a reconnect the births come first and the samples follow in order.
//! With Sparkplug, each connection announces a new `bdSeq` in its will before it connects.

use super::sparkplug::EdgeNode;
use crate::source::mqtt::broker;
use rumqttc::{Event, EventLoop, LastWill, Outgoing, Packet, QoS};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// What the republisher learns from the connection.
#[derive(Debug)]
pub enum Link {
    /// Connected, with this connection's `bdSeq` (Sparkplug).
    Connected {
        /// The `bdSeq` the will of this connection carries.
        bd_seq: u64,
    },
    /// The oldest publish in flight is done: the broker acknowledged it (QoS 1, in order by
    /// MQTT 3.1.1 §4.6), or it was written to the connection (QoS 0).
    Acked,
    /// A message on a subscribed topic (Sparkplug's NCMD).
    Command(Vec<u8>),
    /// The connection is lost: stop publishing and answer, then nothing in flight is resent.
    Lost(oneshot::Sender<()>),
}

/// The will (NDEATH) each connection should carry.
pub struct Will {
    /// Builds the NDEATH.
    pub node: EdgeNode,
    /// Its QoS.
    pub qos: QoS,
}

/// Polls until `stop`, or until a disconnect was sent.
pub async fn drive(
    mut events: EventLoop,
    tx: mpsc::Sender<Link>,
    stop: CancellationToken,
    url: String,
    will: Option<Will>,
    qos: QoS,
) {
    let mut backoff = broker::Backoff::new();
    let mut last_error = String::new();
    let mut bd_seq = 0u64;
    let set_will = |events: &mut EventLoop, bd_seq: u64| {
        if let Some(w) = &will {
            let (topic, payload) = w.node.death(bd_seq, crate::source::now_ms());
            events
                .mqtt_options
                .set_last_will(LastWill::new(topic, payload, w.qos, false));
        }
    };
    set_will(&mut events, bd_seq);
    loop {
        let event = tokio::select! {
            _ = stop.cancelled() => return,
            event = events.poll() => event,
        };
        let link = match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff.reset();
                if !last_error.is_empty() {
                    eprintln!("publish: connected to {url} again");
                    last_error.clear();
                }
                Link::Connected { bd_seq }
            }
            Ok(Event::Incoming(Packet::PubAck(_))) => Link::Acked,
            Ok(Event::Outgoing(Outgoing::Publish(_))) if qos == QoS::AtMostOnce => Link::Acked,
            Ok(Event::Incoming(Packet::Publish(p))) => Link::Command(p.payload.to_vec()),
            Ok(Event::Outgoing(Outgoing::Disconnect)) => return,
            Ok(_) => continue,
            Err(e) => {
                let error = e.to_string();
                if error != last_error {
                    eprintln!("publish: broker {url}: {error}; retrying");
                    last_error = error;
                }
                let (answer, answered) = oneshot::channel();
                if tx.send(Link::Lost(answer)).await.is_err() || answered.await.is_err() {
                    return;
                }
                // The republisher sends nothing now: drop what rumqttc kept to resend and what
                // was queued after the loss, all of it still in the buffer.
                events.clean();
                events.pending.clear();
                // A birth may have gone out with this bdSeq, so the next connection has its own.
                bd_seq = (bd_seq + 1) % 256;
                set_will(&mut events, bd_seq);
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(backoff.next()) => {}
                }
                continue;
            }
        };
        if tx.send(link).await.is_err() {
            return;
        }
    }
}
