//! The streams and their control charts: each stream gets the engine's streaming monitor
//! (`llmscope_spc::Monitor`, individuals chart, Phase I = the first `phase1` values, as the
//! dashboard's live streams do), and what changed since the last batch is taken as one update
//! for the page. Points are kept only for the streams the page watches, so 20,000 streams cost
//! the page one line each per batch, not a chart each.

use llmscope_spc::{
    Baseline, ChartSpec, ChartType, Monitor, Observation, Point, Signal, Sink, Which,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// One stream's state as the page gets it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StreamUpdate {
    /// The stream id, e.g. `plant1/press7/spindle/temperature`.
    pub id: String,
    /// `live` or `stale`.
    pub status: &'static str,
    /// Why it is stale (a death, a lost broker).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The last value and its time (epoch ms).
    pub last: f64,
    /// Its time, epoch ms.
    pub t: f64,
    /// Values received.
    pub n: u64,
    /// Signals (Nelson tests on the main chart) so far.
    pub signals: u64,
    /// The test number (1-8) of the latest signal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_signal: Option<u8>,
    /// The control limits, once Phase I is done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lcl: Option<f64>,
    /// Upper control limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ucl: Option<f64>,
    /// Its chart's place in the engine (not for the page).
    #[serde(skip)]
    pub chart: usize,
    /// Stale because its source went silent ([`crate::silence`]), so a message from that
    /// source revives it (not for the page: `reason` says it).
    #[serde(skip)]
    pub silent: bool,
}

/// The last point and the signals of one push.
#[derive(Default)]
struct Seen {
    point: Option<Point>,
    signals: Vec<Signal>,
}

impl Sink for Seen {
    fn point(&mut self, which: Which, point: Point) {
        if which == Which::Primary {
            self.point = Some(point);
        }
    }
    fn signal(&mut self, which: Which, signal: Signal) {
        if which == Which::Primary {
            self.signals.push(signal);
        }
    }
}

/// Every stream, and what changed since the last [`Engine::take`].
pub struct Engine {
    phase1: usize,
    /// Every stream's state, by id (so a group's streams are a range).
    states: BTreeMap<String, StreamUpdate>,
    /// Every stream's chart, at its `chart`; `None` where the spec was refused (never, for
    /// individuals).
    monitors: Vec<Option<Monitor>>,
    changed: BTreeSet<String>,
    /// Whether `changed` is kept: not once the page takes a grouped view instead.
    track: bool,
    watched: HashSet<String>,
    points: BTreeMap<String, Vec<[f64; 2]>>,
    readings: u64,
    /// Counts changes that move a group's roll-up: a new stream, a first signal, stale or
    /// live again (the view rolls up again only then).
    rollup: u64,
}

impl Engine {
    /// An engine whose charts take their limits from the first `phase1` values.
    pub fn new(phase1: usize) -> Engine {
        Engine {
            phase1: phase1.max(2),
            states: BTreeMap::new(),
            monitors: Vec::new(),
            changed: BTreeSet::new(),
            track: true,
            watched: HashSet::new(),
            points: BTreeMap::new(),
            readings: 0,
            rollup: 0,
        }
    }

    /// A value of stream `id` at `t` (epoch ms); a stale stream comes back to life.
    pub fn reading(&mut self, id: &str, t: f64, value: f64) {
        self.readings += 1;
        // One lookup by `&str` for a known stream: no allocation.
        let moved = match self.states.get_mut(id) {
            Some(s) => record(s, &mut self.monitors, t, value),
            None => {
                self.add(id, value, t);
                if let Some(s) = self.states.get_mut(id) {
                    record(s, &mut self.monitors, t, value);
                }
                true
            }
        };
        self.rollup += u64::from(moved);
        if self.track && !self.changed.contains(id) {
            self.changed.insert(id.to_string());
        }
        if !self.watched.is_empty() && self.watched.contains(id) {
            self.points
                .entry(id.to_string())
                .or_default()
                .push([t, value]);
        }
    }

    /// A new stream and its chart.
    fn add(&mut self, id: &str, value: f64, t: f64) {
        let state = StreamUpdate {
            id: id.to_string(),
            status: "live",
            reason: None,
            last: value,
            t,
            n: 0,
            signals: 0,
            last_signal: None,
            lcl: None,
            ucl: None,
            chart: self.monitors.len(),
            silent: false,
        };
        self.states.insert(id.to_string(), state);
        let spec = ChartSpec {
            baseline: Baseline::FirstN { n: self.phase1 },
            ..ChartSpec::new(ChartType::Individuals)
        };
        self.monitors.push(Monitor::streaming(spec).ok());
    }

    /// Whether the streams changed since the last [`Engine::take`] are kept (the default):
    /// off once the page takes a grouped view instead of every changed stream.
    pub fn track_changes(&mut self, on: bool) {
        self.track = on;
        if !on {
            self.changed.clear();
        }
    }

    /// Marks every stream whose id is `prefix` or starts with `prefix/` stale, once; a death
    /// replaces a silence's reason (it says more).
    pub fn stale_under(&mut self, prefix: &str, reason: &str) {
        let (track, changed) = (self.track, &mut self.changed);
        for state in under(&mut self.states, prefix, true) {
            if state.status == "stale" && !state.silent {
                continue;
            }
            self.rollup += u64::from(state.status != "stale");
            (state.status, state.silent) = ("stale", false);
            state.reason = Some(reason.to_string());
            if track {
                changed.insert(state.id.clone());
            }
        }
    }

    /// Marks the live streams of a silent source stale with `reason`: every stream under
    /// `prefix` when `deep` (a Sparkplug node and its devices), else the group `prefix`'s own
    /// (a plain topic's group, not the groups below it).
    pub fn silent(&mut self, prefix: &str, deep: bool, reason: &str) {
        let (track, changed) = (self.track, &mut self.changed);
        for state in under(&mut self.states, prefix, deep) {
            if state.status == "stale" {
                continue; // a death or a lost connection says more
            }
            self.rollup += 1;
            (state.status, state.silent) = ("stale", true);
            state.reason = Some(reason.to_string());
            if track {
                changed.insert(state.id.clone());
            }
        }
    }

    /// The streams [`Engine::silent`] marked under `prefix` are live again: their source spoke.
    pub fn revive(&mut self, prefix: &str, deep: bool) {
        let (track, changed) = (self.track, &mut self.changed);
        for state in under(&mut self.states, prefix, deep) {
            if !state.silent {
                continue;
            }
            self.rollup += 1;
            (state.status, state.silent, state.reason) = ("live", false, None);
            if track {
                changed.insert(state.id.clone());
            }
        }
    }

    /// Marks every stream stale (the broker connection is gone).
    pub fn stale_all(&mut self, reason: &str) {
        self.stale_under("", reason);
    }

    /// The streams whose new points the page wants (replaces the previous set).
    pub fn watch(&mut self, ids: impl IntoIterator<Item = String>) {
        self.watched = ids.into_iter().collect();
        self.points.retain(|id, _| self.watched.contains(id));
    }

    /// A number that changes whenever a group's roll-up may have: a new stream, a stream's
    /// first signal, a stream stale or live again.
    pub fn rollup(&self) -> u64 {
        self.rollup
    }

    /// Readings taken so far, over all streams.
    pub fn readings(&self) -> u64 {
        self.readings
    }

    /// How many streams there are.
    pub fn len(&self) -> usize {
        self.states.len()
    }

    /// Whether there is no stream yet.
    pub fn is_empty(&self) -> bool {
        self.states.is_empty()
    }

    /// Every stream's state, by id.
    pub fn states(&self) -> &BTreeMap<String, StreamUpdate> {
        &self.states
    }

    /// The streams changed since the last call, and the new points of watched streams.
    pub fn take(&mut self) -> (Vec<StreamUpdate>, BTreeMap<String, Vec<[f64; 2]>>) {
        let changed = std::mem::take(&mut self.changed);
        let updates = changed
            .iter()
            .filter_map(|id| self.states.get(id))
            .cloned()
            .collect();
        (updates, std::mem::take(&mut self.points))
    }
}

/// The streams under `prefix`: every one whose id is `prefix` or starts with `prefix/` when
/// `deep`, else those of the group `prefix` only (their id is `prefix/{metric}`).
fn under<'a>(
    states: &'a mut BTreeMap<String, StreamUpdate>,
    prefix: &'a str,
    deep: bool,
) -> impl Iterator<Item = &'a mut StreamUpdate> + 'a {
    states
        .range_mut(prefix.to_string()..)
        .take_while(move |(id, _)| id.starts_with(prefix))
        .filter(move |(id, _)| match deep {
            true => {
                prefix.is_empty() || id.len() == prefix.len() || id[prefix.len()..].starts_with('/')
            }
            false => crate::view::split(id).0 == prefix,
        })
        .map(|(_, s)| s)
}

/// A value of stream `s` into its chart (one of `monitors`); true when that moved its group's
/// roll-up (it was stale, or this is its first signal).
fn record(s: &mut StreamUpdate, monitors: &mut [Option<Monitor>], t: f64, value: f64) -> bool {
    let before = (s.status, s.signals > 0);
    (s.status, s.reason, s.last, s.t, s.silent) = ("live", None, value, t, false);
    s.n += 1;
    let mut seen = Seen::default();
    // A non-finite value is refused by the monitor; the stream still shows it arrived.
    if let Some(Some(m)) = monitors.get_mut(s.chart) {
        let _ = m.push(Observation::Value(value), &mut seen);
    }
    if let Some(p) = seen.point {
        (s.lcl, s.ucl) = (p.lcl, p.ucl);
    }
    if let Some(last) = seen.signals.last() {
        s.signals += seen.signals.len() as u64;
        s.last_signal = Some(last.test.number());
    }
    before != (s.status, s.signals > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shift_after_phase1_is_a_signal_and_limits_are_reported() {
        let mut e = Engine::new(20);
        for i in 0..20 {
            e.reading("a", f64::from(i), 10.0 + f64::from(i % 3) * 0.1);
        }
        e.reading("a", 20.0, 50.0);
        let (updates, points) = e.take();
        let a = &updates[0];
        assert_eq!((a.n, a.last, a.status), (21, 50.0, "live"));
        assert!(a.ucl.is_some_and(|u| u < 50.0), "{a:?}");
        assert_eq!(a.last_signal, Some(1), "beyond the limits: test 1");
        assert!(points.is_empty(), "nobody watches a");
        assert!(e.take().0.is_empty(), "nothing changed since");
    }

    #[test]
    fn stale_under_a_prefix_takes_whole_levels_only_and_a_reading_revives() {
        let mut e = Engine::new(20);
        for id in ["g/n1/d/m", "g/n1/m", "g/n10/m", "g/n2/m"] {
            e.reading(id, 0.0, 1.0);
        }
        e.take();
        e.stale_under("g/n1", "NDEATH");
        let (u, _) = e.take();
        let ids: Vec<&str> = u.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["g/n1/d/m", "g/n1/m"]);
        assert!(u
            .iter()
            .all(|s| s.status == "stale" && s.reason.as_deref() == Some("NDEATH")));
        e.reading("g/n1/m", 1.0, 2.0);
        assert_eq!(e.take().0[0].status, "live");
    }

    #[test]
    fn a_silent_source_is_stale_with_its_reason_a_death_says_more_and_a_message_revives() {
        let mut e = Engine::new(20);
        for id in ["g/n1/d/m", "g/n1/m", "g/n10/m", "p/l/m/t", "p/l/m/sub/t"] {
            e.reading(id, 0.0, 1.0);
        }
        e.take();
        e.silent("g/n1", true, "silent since 05:00:00 UTC");
        e.silent("p/l/m", false, "silent since 05:00:01 UTC");
        let (u, _) = e.take();
        let ids: Vec<&str> = u.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            ["g/n1/d/m", "g/n1/m", "p/l/m/t"],
            "not g/n10, not p/l/m/sub"
        );
        assert!(u.iter().all(|s| s.status == "stale"));
        e.stale_under("g/n1/d", "NDEATH");
        e.revive("g/n1", true);
        let states = e.states();
        assert_eq!(states["g/n1/m"].status, "live", "revived");
        assert_eq!(
            (
                states["g/n1/d/m"].status,
                states["g/n1/d/m"].reason.as_deref()
            ),
            ("stale", Some("NDEATH")),
            "a death is not undone by the node's next message"
        );
        e.revive("p/l/m", false);
        assert_eq!(e.states()["p/l/m/t"].status, "live");
    }

    #[test]
    fn the_rollup_count_moves_only_when_a_group_may_have_changed() {
        let mut e = Engine::new(20);
        let mut last = e.rollup();
        let mut moved = |e: &Engine| {
            let m = e.rollup() != last;
            last = e.rollup();
            m
        };
        e.reading("g/a", 0.0, 10.0);
        assert!(moved(&e), "a new stream");
        for i in 1..10 {
            e.reading("g/a", f64::from(i), 10.0 + f64::from(i % 3) * 0.1);
        }
        assert!(!moved(&e), "readings in Phase I: no signal yet");
        for i in 10..20 {
            e.reading("g/a", f64::from(i), 10.0 + f64::from(i % 3) * 0.1);
        }
        e.reading("g/a", 20.0, 50.0);
        assert!(moved(&e), "a first signal");
        e.reading("g/a", 21.0, 60.0);
        assert!(!moved(&e), "a later signal");
        e.stale_all("gone");
        assert!(moved(&e), "stale");
        e.reading("g/a", 22.0, 10.0);
        assert!(moved(&e), "live again");
    }

    #[test]
    fn points_are_kept_for_watched_streams_only() {
        let mut e = Engine::new(20);
        e.watch(["b".to_string()]);
        e.reading("a", 1.0, 1.0);
        e.reading("b", 2.0, 3.0);
        let (_, points) = e.take();
        assert_eq!(
            points.into_iter().collect::<Vec<_>>(),
            vec![("b".to_string(), vec![[2.0, 3.0]])]
        );
    }
}
