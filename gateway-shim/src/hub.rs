//! The hub: every source's events meet here. It numbers samples (`seq` rises strictly across all
//! sources), keeps the last `buffer` of them for replay, tracks each stream's state, and fans
//! out to every client.
//!
//! A client subscribes and takes its replay in one step under the hub's lock
//! ([`Hub::subscribe_since`]), so nothing falls between the replay and the live feed and nothing
//! is sent twice.

use crate::source::Event;
use llmscope_protocol::{Sample, ServerFrame, StreamInfo, StreamState};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::broadcast;

/// What clients are sent live.
#[derive(Clone, Debug)]
pub enum Update {
    /// A new sample.
    Sample(Arc<Sample>),
    /// A stream appeared or changed state: a `hello` or `status` frame.
    Frame(Arc<ServerFrame>),
}

/// Updates a slow client may fall behind by before it is resynchronised from the buffer.
const LIVE_QUEUE: usize = 16_384;

/// See the module docs.
#[derive(Debug)]
pub struct Hub {
    state: Mutex<State>,
    live: broadcast::Sender<Update>,
    samples: broadcast::Sender<Arc<Sample>>,
}

#[derive(Debug)]
struct State {
    next_seq: u64,
    capacity: usize,
    buffer: VecDeque<Arc<Sample>>,
    streams: Vec<StreamInfo>,
    status: BTreeMap<String, (StreamState, Option<String>)>,
    malformed: BTreeMap<String, Malformed>,
}

/// Malformed payloads of one source: how many, and the latest.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Malformed {
    /// How many so far.
    pub count: u64,
    /// The latest one's description.
    pub last: String,
}

/// What a client receives first when it connects or reconnects.
#[derive(Debug)]
pub struct Catchup {
    /// The `hello` frame.
    pub hello: ServerFrame,
    /// A `status` frame for every stream that is not live.
    pub statuses: Vec<ServerFrame>,
    /// Samples the client missed that the buffer no longer holds.
    pub missed: u64,
    /// Samples the client missed that the buffer still holds, in order.
    pub replay: Vec<Arc<Sample>>,
    /// The live feed from just after the replay.
    pub live: broadcast::Receiver<Update>,
    /// Samples up to this seq are already delivered, or not for this client (a new one, or one
    /// whose `since` is from before a restart of the server).
    pub delivered: u64,
}

impl Hub {
    /// A hub that keeps `capacity` samples and knows these streams.
    pub fn new(capacity: usize, streams: Vec<StreamInfo>) -> Arc<Hub> {
        let (live, _) = broadcast::channel(LIVE_QUEUE);
        let (samples, _) = broadcast::channel(LIVE_QUEUE);
        let mut state = State {
            next_seq: 1,
            capacity: capacity.max(1),
            buffer: VecDeque::with_capacity(capacity.clamp(1, 1 << 20)),
            streams: Vec::new(),
            status: BTreeMap::new(),
            malformed: BTreeMap::new(),
        };
        for s in streams {
            state.add_stream(s);
        }
        Arc::new(Hub {
            state: Mutex::new(state),
            live,
            samples,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock would be a bug here; the data stays usable either way.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies one event from a source.
    pub fn apply(&self, event: Event) {
        let mut state = self.lock();
        match event {
            Event::Reading { stream, t, value } => {
                if !state.status.contains_key(&stream) {
                    state.add_stream(StreamInfo {
                        id: stream.clone(),
                        unit: None,
                        lsl: None,
                        usl: None,
                    });
                    let _ = self.live.send(Update::Frame(Arc::new(state.hello())));
                }
                let sample = Arc::new(Sample {
                    stream,
                    seq: state.next_seq,
                    t,
                    value,
                });
                state.next_seq += 1;
                if state.buffer.len() == state.capacity {
                    state.buffer.pop_front();
                }
                state.buffer.push_back(sample.clone());
                let _ = self.live.send(Update::Sample(sample.clone()));
                let _ = self.samples.send(sample);
            }
            Event::Status {
                stream,
                state: new,
                reason,
            } => {
                let changed = state.status.get(&stream) != Some(&(new, reason.clone()));
                if changed {
                    state.status.insert(stream.clone(), (new, reason.clone()));
                    let frame = ServerFrame::Status {
                        stream,
                        state: new,
                        reason,
                    };
                    let _ = self.live.send(Update::Frame(Arc::new(frame)));
                }
            }
            Event::Malformed { source, detail } => {
                let entry = state.malformed.entry(source).or_default();
                entry.count += 1;
                entry.last = detail;
            }
            Event::Discovered(info) => {
                if !state.status.contains_key(&info.id) {
                    state.add_stream(info);
                    let _ = self.live.send(Update::Frame(Arc::new(state.hello())));
                }
            }
        }
    }

    /// Subscribes a client that last saw `since` (None: a new client, no replay). A `since`
    /// beyond the latest seq (the server restarted, so `seq` began again) is treated like None.
    pub fn subscribe_since(&self, since: Option<u64>) -> Catchup {
        self.catchup(since, false)
    }

    /// Subscribes again a client that fell behind the live feed after `last`, with a status for
    /// every stream, since changes may have been dropped for it along with samples.
    pub fn resync(&self, last: u64) -> Catchup {
        self.catchup(Some(last), true)
    }

    fn catchup(&self, since: Option<u64>, every_status: bool) -> Catchup {
        let state = self.lock();
        let live = self.live.subscribe();
        let latest = state.next_seq - 1;
        let since = since.filter(|&s| s <= latest);
        let (missed, replay) = since.map_or((0, Vec::new()), |s| state.replay(s));
        let statuses = state
            .status
            .iter()
            .filter(|(_, (s, _))| every_status || *s != StreamState::Live)
            .map(|(id, (s, r))| ServerFrame::Status {
                stream: id.clone(),
                state: *s,
                reason: r.clone(),
            })
            .collect();
        Catchup {
            hello: state.hello(),
            statuses,
            missed,
            replay,
            live,
            delivered: since.unwrap_or(latest),
        }
    }

    /// Every sample, for the MQTT republisher.
    pub fn samples(&self) -> broadcast::Receiver<Arc<Sample>> {
        self.samples.subscribe()
    }

    /// Counters for `/status`: streams with their state, samples, malformed payloads.
    pub fn stats(&self) -> serde_json::Value {
        let state = self.lock();
        let streams: Vec<serde_json::Value> = state
            .streams
            .iter()
            .map(|s| {
                let (st, reason) = state
                    .status
                    .get(&s.id)
                    .cloned()
                    .unwrap_or((StreamState::Live, None));
                serde_json::json!({"id": s.id, "unit": s.unit, "state": st, "reason": reason})
            })
            .collect();
        serde_json::json!({
            "server": llmscope_protocol::SERVER,
            "samples": state.next_seq - 1,
            "buffered": state.buffer.len(),
            "streams": streams,
            "malformed": state.malformed,
        })
    }
}

impl State {
    fn add_stream(&mut self, info: StreamInfo) {
        self.status
            .insert(info.id.clone(), (StreamState::Live, None));
        self.streams.push(info);
    }

    fn hello(&self) -> ServerFrame {
        ServerFrame::Hello {
            server: llmscope_protocol::SERVER.to_string(),
            streams: self.streams.clone(),
        }
    }

    /// Samples after `since` (at most the latest seq) still held, and how many after `since`
    /// are gone.
    fn replay(&self, since: u64) -> (u64, Vec<Arc<Sample>>) {
        let oldest = self.buffer.front().map_or(self.next_seq, |s| s.seq);
        let missed = oldest.saturating_sub(since + 1);
        let skip = usize::try_from((since + 1).saturating_sub(oldest)).unwrap_or(usize::MAX);
        (missed, self.buffer.iter().skip(skip).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(stream: &str, value: f64) -> Event {
        Event::Reading {
            stream: stream.into(),
            t: 0,
            value,
        }
    }

    #[test]
    fn seq_rises_across_streams_and_replay_resumes_without_loss_or_duplicates() {
        let hub = Hub::new(100, vec![]);
        for i in 0..10 {
            hub.apply(reading(if i % 2 == 0 { "a" } else { "b" }, i as f64));
        }
        let c = hub.subscribe_since(Some(4));
        assert_eq!(c.missed, 0);
        assert_eq!(
            c.replay.iter().map(|s| s.seq).collect::<Vec<_>>(),
            vec![5, 6, 7, 8, 9, 10]
        );
        assert_eq!(hub.subscribe_since(Some(10)).replay.len(), 0);
        assert_eq!(hub.subscribe_since(None).replay.len(), 0);
    }

    #[test]
    fn a_full_buffer_reports_the_gap() {
        let hub = Hub::new(5, vec![]);
        for i in 0..20 {
            hub.apply(reading("a", i as f64));
        }
        // The buffer holds 16..=20; a client that saw 3 missed 4..=15.
        let c = hub.subscribe_since(Some(3));
        assert_eq!(c.missed, 12);
        assert_eq!(
            c.replay.iter().map(|s| s.seq).collect::<Vec<_>>(),
            vec![16, 17, 18, 19, 20]
        );
        // A client from an earlier run of the server (seq beyond ours) starts afresh.
        for since in [50, u64::MAX] {
            let c = hub.subscribe_since(Some(since));
            assert_eq!((c.missed, c.replay.len(), c.delivered), (0, 0, 20));
        }
        assert_eq!(
            hub.subscribe_since(None).delivered,
            20,
            "a new client gets only what comes next"
        );
    }

    #[test]
    fn the_live_feed_starts_right_after_the_replay() {
        let hub = Hub::new(100, vec![]);
        hub.apply(reading("a", 1.0));
        let mut c = hub.subscribe_since(Some(0));
        hub.apply(reading("a", 2.0));
        assert_eq!(c.replay.iter().map(|s| s.seq).collect::<Vec<_>>(), vec![1]);
        let mut live = Vec::new();
        while let Ok(u) = c.live.try_recv() {
            if let Update::Sample(s) = u {
                live.push(s.seq);
            }
        }
        assert_eq!(live, vec![2]);
    }

    #[test]
    fn malformed_payloads_are_counted_per_source_and_shown_in_status() {
        let hub = Hub::new(10, vec![]);
        for detail in ["payload 'abc' is not a number", "payload '{' is not JSON"] {
            hub.apply(Event::Malformed {
                source: "line2".into(),
                detail: detail.into(),
            });
        }
        hub.apply(reading("line2/a/vibration", 1.0));
        let stats = hub.stats();
        assert_eq!(stats["malformed"]["line2"]["count"], 2);
        assert_eq!(
            stats["malformed"]["line2"]["last"],
            "payload '{' is not JSON"
        );
        assert_eq!(stats["samples"], 1, "the good data around them is kept");
    }

    #[test]
    fn statuses_are_sent_on_change_only_and_new_streams_announced() {
        let hub = Hub::new(
            10,
            vec![StreamInfo {
                id: "p/t".into(),
                unit: Some("°C".into()),
                lsl: None,
                usl: Some(80.0),
            }],
        );
        let mut live = hub.subscribe_since(None).live;
        let stale = || Event::Status {
            stream: "p/t".into(),
            state: StreamState::Stale,
            reason: Some("modbus timeout".into()),
        };
        hub.apply(stale());
        hub.apply(stale());
        hub.apply(reading("q/new", 1.0));
        let mut frames = Vec::new();
        while let Ok(u) = live.try_recv() {
            if let Update::Frame(f) = u {
                frames.push((*f).clone());
            }
        }
        assert_eq!(frames.len(), 2, "one status, one hello: {frames:?}");
        assert!(matches!(&frames[1], ServerFrame::Hello { streams, .. } if streams.len() == 2));
        let c = hub.subscribe_since(None);
        assert_eq!(c.statuses.len(), 1, "a new client learns the stale stream");
    }
}
