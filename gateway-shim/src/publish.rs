//! Republishing every sample to an MQTT broker (`[publish]`), so a fleet of shims can feed one
//! broker that many browsers share through its WebSocket listener.
//!
//! Each sample goes to `{topic_prefix}/{stream id}` as JSON `{"stream","seq","t","value"}`, QoS 0
//! and not retained: a live feed where a late sample is worth less than the next one. Nothing is
//! queued while the broker is unreachable (samples are counted and dropped, the hub keeps its own
//! buffer for replay), and when the samples come faster than the broker takes them the
//! republisher skips ahead rather than slowing the hub. Both are logged, at most every few
//! seconds.

use crate::config::Invalid;
use crate::source::mqtt::broker;
use llmscope_protocol::Sample;
use rumqttc::{AsyncClient, Event, EventLoop, Outgoing, Packet, QoS};
use serde::Deserialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// `[publish]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Broker URL, e.g. `mqtt://127.0.0.1:1883`.
    pub broker: String,
    /// Topics are `{topic_prefix}/{stream id}`.
    pub topic_prefix: String,
}

impl Config {
    /// Checks the values serde cannot.
    pub fn validate(&self) -> Result<(), Invalid> {
        broker::parse(&self.broker).map_err(|e| Invalid::new("broker", e.to_string()))?;
        let p = &self.topic_prefix;
        if p.is_empty() {
            return Err(Invalid::new(
                "topic_prefix",
                "is empty: write e.g. llmscope/plant1",
            ));
        }
        if p.contains(['+', '#', '\0']) {
            return Err(Invalid::new(
                "topic_prefix",
                format!("'{p}': a topic cannot contain '+', '#' or NUL"),
            ));
        }
        if p.starts_with('$') {
            return Err(Invalid::new(
                "topic_prefix",
                format!("'{p}': topics starting with '$' belong to the broker"),
            ));
        }
        if p.ends_with('/') {
            return Err(Invalid::new(
                "topic_prefix",
                format!("'{p}': drop the final '/' (it is added before the stream)"),
            ));
        }
        Ok(())
    }
}

/// Requests queued for the broker connection; beyond this, samples are skipped.
const QUEUE: usize = 1024;
/// Shortest time between two log lines about skipped samples.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// Publishes every sample received until `shutdown` is cancelled or the sender is dropped,
/// reconnecting with backoff. Returns within about a second of `shutdown`.
pub async fn run(
    config: Config,
    mut samples: broadcast::Receiver<Arc<Sample>>,
    shutdown: CancellationToken,
) {
    let target = broker::parse(&config.broker).and_then(|b| {
        Ok((
            b.options(&broker::client_id("pub"), Duration::from_secs(15))?,
            b.to_string(),
        ))
    });
    let (options, url) = match target {
        Ok(t) => t,
        Err(e) => {
            eprintln!("publish: {e}; not republishing");
            return;
        }
    };
    let (client, events) = AsyncClient::new(options, QUEUE);
    let connected = Arc::new(AtomicBool::new(false));
    let stop = CancellationToken::new();
    let driver = tokio::spawn(drive(events, connected.clone(), stop.clone(), url.clone()));
    let mut skipped = Skipped::new(url.clone());
    let mut invalid = std::collections::HashSet::new();
    loop {
        let received = tokio::select! {
            _ = shutdown.cancelled() => break,
            received = samples.recv() => received,
        };
        match received {
            Ok(sample) => {
                if !connected.load(Ordering::Relaxed) {
                    skipped.add(1, "the broker is unreachable");
                    continue;
                }
                let topic = format!("{}/{}", config.topic_prefix, sample.stream);
                let json = serde_json::to_vec(&*sample).unwrap_or_default();
                match client.try_publish(topic, QoS::AtMostOnce, false, json) {
                    Ok(()) => {}
                    Err(rumqttc::ClientError::TryRequest(_))
                        if rumqttc::valid_topic(&sample.stream) =>
                    {
                        skipped.add(1, "the broker takes them slower than they arrive");
                    }
                    Err(_) => {
                        if invalid.insert(sample.stream.clone()) {
                            eprintln!(
                                "publish: stream '{}' is not a valid MQTT topic; not republished",
                                sample.stream
                            );
                        }
                    }
                }
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                skipped.add(n, "the republisher fell behind the hub");
            }
            Err(broadcast::error::RecvError::Closed) => break,
        }
        skipped.log();
    }
    skipped.log_now();
    // Say goodbye when connected (the driver ends once the disconnect is sent, after the samples
    // queued before it); otherwise there is nothing to wait for.
    if !connected.load(Ordering::Relaxed) || client.try_disconnect().is_err() {
        stop.cancel();
    }
    let mut driver = driver;
    if tokio::time::timeout(Duration::from_millis(700), &mut driver)
        .await
        .is_err()
    {
        stop.cancel();
        let _ = driver.await;
    }
}

/// Polls the connection (its own task, so that it is never interrupted mid-packet), reconnects
/// with backoff and keeps `connected` up to date. Ends after sending a disconnect, or on `stop`.
async fn drive(
    mut events: EventLoop,
    connected: Arc<AtomicBool>,
    stop: CancellationToken,
    url: String,
) {
    let mut backoff = broker::Backoff::new();
    let mut last_error = String::new();
    loop {
        let event = tokio::select! {
            _ = stop.cancelled() => return,
            event = events.poll() => event,
        };
        match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                connected.store(true, Ordering::Relaxed);
                backoff.reset();
                if !last_error.is_empty() {
                    eprintln!("publish: connected to {url} again");
                    last_error.clear();
                }
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) => return,
            Ok(_) => {}
            Err(e) => {
                connected.store(false, Ordering::Relaxed);
                let error = e.to_string();
                if error != last_error {
                    eprintln!("publish: broker {url}: {error}; retrying");
                    last_error = error;
                }
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(backoff.next()) => {}
                }
            }
        }
    }
}

/// Counts skipped samples by reason and logs them now and then.
struct Skipped {
    counts: Vec<(&'static str, u64)>,
    url: String,
    last_log: Option<tokio::time::Instant>,
}

impl Skipped {
    fn new(url: String) -> Skipped {
        Skipped {
            counts: Vec::new(),
            url,
            last_log: None,
        }
    }

    fn add(&mut self, n: u64, why: &'static str) {
        match self.counts.iter_mut().find(|(w, _)| *w == why) {
            Some((_, count)) => *count += n,
            None => self.counts.push((why, n)),
        }
    }

    fn log(&mut self) {
        if !self.counts.is_empty() && self.last_log.is_none_or(|t| t.elapsed() >= LOG_EVERY) {
            self.log_now();
        }
    }

    fn log_now(&mut self) {
        for (why, count) in self.counts.drain(..) {
            eprintln!("publish: skipped {count} samples for {}: {why}", self.url);
        }
        self.last_log = Some(tokio::time::Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(prefix: &str) -> Config {
        Config {
            broker: "mqtt://127.0.0.1:1883".into(),
            topic_prefix: prefix.into(),
        }
    }

    #[test]
    fn topic_prefixes() {
        assert!(config("llmscope/plant1").validate().is_ok());
        for bad in ["", "a/+", "a/#", "$SYS", "a/"] {
            assert_eq!(
                config(bad).validate().unwrap_err().key,
                "topic_prefix",
                "{bad:?}"
            );
        }
        let mut c = config("a");
        c.broker = "mqtt://h:0".into();
        assert_eq!(c.validate().unwrap_err().key, "broker");
    }
}
