//! The republisher's broker connection: polls rumqttc's event loop in a task of its own (so a
//! packet is never interrupted halfway), reconnects with backoff, and reports to the
//! republisher what it must act on: connected, a PUBACK, a command, the connection lost.
//!
//! The buffer, not rumqttc, sends unacknowledged samples again: on a lost connection the
//! republisher is told first and stops publishing, then every request rumqttc kept for a resend
//! is discarded. So after a reconnect the births come first and the samples follow in order.
//! With Sparkplug, each connection announces a new `bdSeq` in its will before it connects;
//! with `buffer_dir` the last one is kept there, so a restarted shim goes on from it.

use super::sparkplug::EdgeNode;
use crate::source::mqtt::broker;
use rumqttc::{Event, EventLoop, LastWill, Outgoing, Packet, QoS};
use std::path::{Path, PathBuf};
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
    /// The `bdSeq` of the next connection.
    pub bd_seq: BdSeq,
}

/// Sparkplug's birth/death sequence number: one more at each MQTT connect, 255 then 0
/// (Sparkplug 3.0, tck-id-payloads-nbirth-bdseq-increment). Kept in a file when there is a
/// folder for it: a shim that restarted at 0 could announce the `bdSeq` of the will its last
/// run left with the broker, and a host would take that old will for the live node's death.
pub struct BdSeq {
    value: u64,
    file: Option<PathBuf>,
}

impl BdSeq {
    /// Name of the file in `buffer_dir`: the last `bdSeq` announced, in decimal.
    pub const FILE: &'static str = "bdseq";

    /// The first `bdSeq` of this run: one after the last one kept in `dir`, else 0.
    pub fn start(dir: Option<&Path>) -> BdSeq {
        let file = dir.map(|d| d.join(Self::FILE));
        let kept = file.as_ref().and_then(|f| std::fs::read_to_string(f).ok());
        let last = kept.as_deref().map(|s| s.trim().parse::<u8>());
        if let (Some(Err(e)), Some(f)) = (&last, &file) {
            eprintln!("publish: {}: {e}; bdSeq begins at 0", f.display());
        }
        let value = match last {
            Some(Ok(last)) => (u64::from(last) + 1) % 256,
            _ => 0,
        };
        let bd_seq = BdSeq { value, file };
        bd_seq.keep();
        bd_seq
    }

    /// The current value.
    pub fn value(&self) -> u64 {
        self.value
    }

    /// Moves to the next connection's value.
    pub fn advance(&mut self) {
        self.value = (self.value + 1) % 256;
        self.keep();
    }

    /// Writes the value before it is announced (temp file and rename: never half written).
    fn keep(&self) {
        let Some(file) = &self.file else { return };
        let tmp = file.with_extension("tmp");
        let written =
            std::fs::write(&tmp, self.value.to_string()).and_then(|()| std::fs::rename(&tmp, file));
        if let Err(e) = written {
            eprintln!(
                "publish: {}: {e}; the next start begins bdSeq at 0 again",
                file.display()
            );
        }
    }
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
    let mut will = will;
    let bd_seq = |will: &Option<Will>| will.as_ref().map_or(0, |w| w.bd_seq.value());
    let set_will = |events: &mut EventLoop, will: &Option<Will>| {
        if let Some(w) = will {
            let (topic, payload) = w.node.death(w.bd_seq.value(), crate::source::now_ms());
            events
                .mqtt_options
                .set_last_will(LastWill::new(topic, payload, w.qos, false));
        }
    };
    set_will(&mut events, &will);
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
                Link::Connected {
                    bd_seq: bd_seq(&will),
                }
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
                if let Some(w) = &mut will {
                    w.bd_seq.advance();
                }
                set_will(&mut events, &will);
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

#[cfg(test)]
mod tests {
    use super::BdSeq;

    #[test]
    fn bd_seq_goes_on_across_restarts_and_wraps_after_255() {
        let dir = std::env::temp_dir().join(format!("llmscope-bdseq-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut run = BdSeq::start(Some(&dir));
        assert_eq!(run.value(), 0);
        run.advance();
        assert_eq!(
            BdSeq::start(Some(&dir)).value(),
            2,
            "one after the last announced"
        );
        std::fs::write(dir.join(BdSeq::FILE), "255").unwrap();
        assert_eq!(BdSeq::start(Some(&dir)).value(), 0);
        std::fs::write(dir.join(BdSeq::FILE), "not a number").unwrap();
        assert_eq!(
            BdSeq::start(Some(&dir)).value(),
            0,
            "a damaged file starts over"
        );
        assert_eq!(BdSeq::start(None).value(), 0, "memory only");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
