//! The dashboard's domain state in plain types (leptos's todomvc shape): a session of streams,
//! each with its samples and its chart settings. Components only read and update these; every
//! calculation is the SPC engine's.

use llmscope_spc::{analyze, Chart, ChartConfig, Data, SpcError};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

mod causes;
mod compare;
mod derived;
mod events;
mod rules;
pub use causes::{domain, lines, Annotation, Causes, Lists, Taxonomy, UNKNOWN};
pub use compare::{json_form as compare_json, CompareSetup};
pub use derived::{text as derived_text, Derived, STALE_MS};
pub use events::{SourceEvent, EVENTS};
pub use rules::{fired, marks, names as rule_names, Mark};

thread_local! {
    /// Each stream's chart as last computed (by stream id), with the revision it was computed
    /// for: shared by the dashboard and the stream view.
    static CHARTS: RefCell<HashMap<String, (u64, ChartState)>> = RefCell::new(HashMap::new());
}

/// A number no stream state had before: every stream made, read or changed takes a new one.
fn next_revision() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Forgets every cached chart ("Clear…" empties the session).
pub fn clear_charts() {
    CHARTS.with(|c| c.borrow_mut().clear());
}

/// What a stream's chart is now.
#[derive(Clone, Debug)]
pub enum ChartState {
    /// The baseline is not complete yet: no limits, no chart.
    Collecting,
    /// The chart of the whole stream (shared: the cache hands out the same one until the
    /// stream changes).
    Ready(Arc<Chart>),
    /// The engine cannot chart the stream under its settings, and why.
    Invalid(String),
}

impl ChartState {
    fn of(chart: Result<Option<Chart>, SpcError>) -> ChartState {
        match chart {
            Ok(None) => ChartState::Collecting,
            Ok(Some(chart)) => ChartState::Ready(Arc::new(chart)),
            Err(e) => ChartState::Invalid(e.to_string()),
        }
    }

    /// The chart, when there is one.
    pub fn ready(&self) -> Option<&Chart> {
        match self {
            ChartState::Ready(chart) => Some(chart),
            _ => None,
        }
    }
}

/// Two ready states are the same when they hold the same computed chart: the cache hands out
/// one `Arc` per revision, and comparing a million points on every tick would cost more than a
/// redraw.
impl PartialEq for ChartState {
    fn eq(&self, other: &ChartState) -> bool {
        match (self, other) {
            (ChartState::Collecting, ChartState::Collecting) => true,
            (ChartState::Ready(a), ChartState::Ready(b)) => Arc::ptr_eq(a, b),
            (ChartState::Invalid(a), ChartState::Invalid(b)) => a == b,
            _ => false,
        }
    }
}

/// One value of a stream: when (Unix epoch ms) and what.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// When it was measured, Unix epoch ms.
    pub t: f64,
    /// The measured value, in the stream's unit.
    pub value: f64,
}

/// Where a stream's data comes from. A stream is known by its source and its name together:
/// two sources may both send `press1/barrel_temperature` and stay two streams.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Origin {
    /// A built-in simulator.
    Simulator,
    /// An imported file.
    Import {
        /// The file's name.
        file: String,
    },
    /// A live WebSocket (the shim).
    Live {
        /// The shim's WebSocket URL.
        url: String,
    },
    /// A probe Worker's results.
    Probe {
        /// The probe Worker's URL.
        url: String,
    },
    /// A formula over other streams ([`Derived`]), as written. (A newtype, not a struct
    /// variant: serde's code for one costs the site's wasm several KB.)
    Derived(String),
}

impl Origin {
    /// The source in a few words, for a card and for telling apart streams of the same name:
    /// `simulator`, the file's name, `live 127.0.0.1:8080`, `probe probes.example.dev`.
    pub fn label(&self) -> String {
        match self {
            Origin::Simulator => "simulator".into(),
            Origin::Import { file } => file.clone(),
            Origin::Live { url } => format!("live {}", host(url)),
            Origin::Probe { url } => format!("probe {}", host(url)),
            Origin::Derived(formula) => format!("= {formula}"),
        }
    }

    /// Whether the source keeps adding points (and so falls under the retention limit).
    pub fn grows(&self) -> bool {
        matches!(
            self,
            Origin::Live { .. } | Origin::Probe { .. } | Origin::Derived(_)
        )
    }
}

/// The host (and port) of a URL: what sits between `://` and the next `/`, `?` or `#`.
fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

/// Chart settings plus what the engine's config does not hold: spec limits.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// The engine's settings (chart, phase1, tests, transform...).
    pub chart: ChartConfig,
    /// Lower spec limit.
    pub lsl: Option<f64>,
    /// Upper spec limit or SLO.
    pub usl: Option<f64>,
    /// Consecutive points per subgroup, for X-bar charts.
    pub subgroup_size: Option<usize>,
    /// How many of the latest points are recent: a signal among them makes the card say
    /// "signal" ([`DEFAULT_RECENT`] when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recent: Option<usize>,
    /// When the stream's equipment was last maintained (epoch ms, or the time of a sample):
    /// the maintenance list's "Maintained", or a step back the user confirmed (issue 14). The
    /// forecast reads the points from it on. It travels with the settings (export, share,
    /// storage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintained: Option<f64>,
    /// Named rules run beside `chart.tests` (issue 16), as the rule editor applied them, in the
    /// saved form of `llmscope_app_lazy::rules` ([`Settings::spec`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<String>,
    /// The rule set as typed in the rule editor, comments and layout kept, which the editor
    /// shows again while it is what runs (`llmscope_app_lazy::rules::opening`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules_text: Option<String>,
}

/// The recent window of a card's status, in points.
pub const DEFAULT_RECENT: usize = 25;

/// A stream of measurements and how to chart it.
///
/// Change a stream through [`Session::stream_mut`], [`Session::slot`] or [`Session::push`]
/// (or call [`Stream::touch`] after changing it in place): they give it a new revision, which
/// is what its cached chart is keyed by.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stream {
    /// The stream's name, unique in the session: suffixed with its source when another source
    /// took the name first ([`candidate_ids`]).
    pub id: String,
    /// The unit of the values (`ms`, `tokens/s`...), empty when none.
    pub unit: String,
    /// Where the stream's data comes from.
    pub origin: Origin,
    /// The measurements, oldest first.
    pub samples: Vec<Sample>,
    /// How to chart the stream: the engine's config and the spec limits.
    pub settings: Settings,
    /// Set when the source says the stream is stale, with the reason.
    pub stale: Option<String>,
    /// The shim's sequence number of each sample, for live streams (parallel to `samples`),
    /// kept for the full export.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seqs: Vec<u64>,
    /// What its source said about its health, oldest first ([`SourceEvent`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<SourceEvent>,
    /// For a derived `p(bad, total)` stream, each point's total (parallel to `samples`,
    /// whose values are bad/total); never saved: the stream is derived anew after a load.
    #[serde(skip)]
    pub sizes: Vec<f64>,
    /// This state's number ([`next_revision`]): new on every change, never saved.
    #[serde(skip, default = "next_revision")]
    revision: u64,
}

/// Streams are equal when their content is: the revision only names a state.
impl PartialEq for Stream {
    fn eq(&self, other: &Stream) -> bool {
        self.id == other.id
            && self.unit == other.unit
            && self.origin == other.origin
            && self.samples == other.samples
            && self.settings == other.settings
            && self.stale == other.stale
            && self.seqs == other.seqs
            && self.events == other.events
    }
}

/// How a stream is doing now, for its card. Ordered: problems first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Health {
    /// A signal among the recent points, or one the user has not seen yet.
    Signal,
    /// The source says the stream is stale.
    Stale,
    /// Signals, all seen and none recent: how many points signalled.
    HadSignals(usize),
    /// No chart yet: the baseline is not complete (or the stream cannot be charted).
    Collecting,
    /// A chart without a single signal.
    InControl,
}

impl Health {
    /// The status in a word or two (the card's `data-status` and its badge's class).
    pub fn label(self) -> &'static str {
        match self {
            Health::Signal => "signal",
            Health::Stale => "stale",
            Health::HadSignals(_) => "had signals",
            Health::Collecting => "collecting baseline",
            Health::InControl => "in control",
        }
    }

    /// The status as the card's badge says it: the label, with the count of points that
    /// signalled for "had signals".
    pub fn text(self) -> String {
        match self {
            Health::HadSignals(n) => format!("had signals ({n})"),
            other => other.label().to_string(),
        }
    }
}

/// Points shown on the dashboard's sparkline.
pub const SPARK: usize = 120;
/// Baseline for a new stream: the first 30 points.
pub const DEFAULT_PHASE1: usize = 30;

impl Stream {
    /// An empty stream with a 30-point baseline ([`DEFAULT_PHASE1`]) and no spec limits.
    pub fn new(id: impl Into<String>, unit: impl Into<String>, origin: Origin) -> Stream {
        let chart = ChartConfig {
            phase1: Some(DEFAULT_PHASE1),
            ..ChartConfig::default()
        };
        Stream {
            id: id.into(),
            unit: unit.into(),
            origin,
            samples: Vec::new(),
            settings: Settings {
                chart,
                ..Settings::default()
            },
            stale: None,
            seqs: Vec::new(),
            events: Vec::new(),
            sizes: Vec::new(),
            revision: next_revision(),
        }
    }

    /// Marks the stream changed: its chart is computed again when next asked for.
    pub fn touch(&mut self) {
        self.revision = next_revision();
    }

    /// The values of the samples, in order.
    pub fn values(&self) -> Vec<f64> {
        self.samples.iter().map(|s| s.value).collect()
    }

    /// The data as the chart takes it: single values; subgroups of `subgroup_size` for X-bar
    /// charts; or, for p and np charts of 0/1 outcomes (1 = defective, e.g. a failed probe),
    /// the count of ones in each complete subgroup of `subgroup_size` (Montgomery §7.2).
    pub fn data(&self) -> Data {
        let values = self.values();
        let n = self.settings.subgroup_size.unwrap_or(0);
        match self.settings.chart.chart.as_deref() {
            Some("p" | "np") if self.sized() => Data::Counts(
                values
                    .iter()
                    .zip(&self.sizes)
                    .map(|(p, n)| (p * n, *n))
                    .collect(),
            ),
            Some("xbar-r" | "xbar-s") if n >= 2 => {
                Data::Subgroups(values.chunks(n).map(<[f64]>::to_vec).collect())
            }
            Some("p" | "np") if n >= 1 => Data::Counts(
                values
                    .chunks_exact(n)
                    .map(|c| (c.iter().sum(), n as f64))
                    .collect(),
            ),
            _ => Data::Values(values),
        }
    }

    /// The chart of the whole stream under its settings. Until the baseline is complete there is
    /// none: `Ok(None)`.
    pub fn chart(&self) -> Result<Option<Chart>, SpcError> {
        let spec = self.settings.spec()?;
        let data = self.data();
        let needed = self.settings.chart.phase1.unwrap_or(2).max(2);
        if data.len() < needed {
            return Ok(None);
        }
        analyze(&spec, &data).map(Some)
    }

    /// The chart, recomputed only when the stream changed (a new revision) since the last
    /// call: the dashboard asks for every stream's chart on every tick, and a million-point
    /// import must not be analyzed again because a simulator added a point elsewhere.
    pub fn chart_state(&self) -> ChartState {
        CHARTS.with(|cache| {
            let mut cache = cache.borrow_mut();
            if let Some((revision, chart)) = cache.get(&self.id) {
                if *revision == self.revision {
                    return chart.clone();
                }
            }
            let chart = ChartState::of(self.chart());
            cache.insert(self.id.clone(), (self.revision, chart.clone()));
            chart
        })
    }

    /// The card's status: what is true now. A signal among the recent points
    /// ([`Settings::recent`]) is news, and so is one the user has not seen (`seen`: the time of
    /// the latest signal point seen, [`Session::acknowledged`]); older, seen ones are history:
    /// "had signals", with how many points signalled.
    pub fn health(&self, chart: &ChartState, seen: Option<f64>) -> Health {
        if self.stale.is_some() {
            return Health::Stale;
        }
        let Some(c) = chart.ready() else {
            return Health::Collecting;
        };
        let alarms = marks(&c.primary, 0..usize::MAX);
        let mut points = alarms.iter().filter(|m| m.alarm());
        let count = points.clone().count();
        let Some(last) = points.next_back().map(|m| m.index) else {
            return Health::InControl;
        };
        let end = c.primary.first_index() + c.primary.len();
        let recent = end.saturating_sub(self.settings.recent.unwrap_or(DEFAULT_RECENT).max(1));
        let unseen = match (seen, self.point_time(last)) {
            (Some(seen), Some(t)) => t > seen,
            _ => true,
        };
        if last >= recent || unseen {
            Health::Signal
        } else {
            Health::HadSignals(count)
        }
    }

    /// The time of the chart's latest signal point, when it has one: what opening the stream
    /// acknowledges.
    pub fn latest_signal_time(&self, chart: &ChartState) -> Option<f64> {
        let primary = &chart.ready()?.primary;
        let last = marks(primary, 0..usize::MAX)
            .iter()
            .rfind(|m| m.alarm())?
            .index;
        self.point_time(last)
    }

    /// How [`Stream::data`] groups samples into points: samples per point (the subgroup size
    /// for X-bar, p and np charts, else 1), and whether a last, incomplete subgroup is a point
    /// too (X-bar: yes; p and np count complete subgroups only).
    fn grouping(&self) -> (usize, bool) {
        let n = self.settings.subgroup_size.unwrap_or(0);
        match self.settings.chart.chart.as_deref() {
            Some("p" | "np") if self.sized() => (1, true),
            Some("xbar-r" | "xbar-s") if n >= 2 => (n, true),
            Some("p" | "np") if n >= 1 => (n, false),
            _ => (1, true),
        }
    }

    /// When point `index` of the stream's chart was complete: the time of the last sample of
    /// its subgroup (the sample's own time on charts of single values).
    pub fn point_time(&self, index: usize) -> Option<f64> {
        let (n, partial) = self.grouping();
        let first = index.checked_mul(n)?;
        let end = first.checked_add(n)?;
        let last = if partial {
            end.min(self.samples.len())
        } else {
            end
        };
        (first < last)
            .then(|| self.samples.get(last - 1).map(|x| x.t))
            .flatten()
    }
}

/// Points a growing stream (live, probe) keeps by default; `?keep=<points>` changes it.
pub const DEFAULT_KEEP: usize = 1_000_000;

/// Everything the user has open.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Every stream the user has open.
    pub streams: Vec<Stream>,
    /// How many of its oldest points each stream (by id) has dropped to stay within its limit.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dropped: BTreeMap<String, u64>,
    /// The raw records the streams were built from, for the full export.
    #[serde(default, skip_serializing_if = "Telemetry::is_empty")]
    pub telemetry: Telemetry,
    /// For each stream (by id), the time of its latest signal point the user has seen (by
    /// opening the stream): older signals no longer make its card say "signal".
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub acknowledged: BTreeMap<String, f64>,
    /// Assignable causes: the taxonomy, the annotations of episodes, and whether acknowledging
    /// needs a cause.
    #[serde(default, skip_serializing_if = "Causes::is_default")]
    pub causes: Causes,
    /// Derived streams' definitions, in the order they are evaluated: saved with the session
    /// in IndexedDB and carried by share links, but not part of the session's own JSON (an
    /// exported session file), which keeps the dashboard's wasm small (issue 3's budget).
    #[serde(skip)]
    pub derived: Vec<Derived>,
    /// The Compare view's setup, once the user changed it (none: its starting form): saved in
    /// IndexedDB, saved views and share links, and the JSON export's `session.compare`, each
    /// writing and reading it beside serde (`CompareSetup::to_json`), which keeps the
    /// dashboard's wasm small.
    #[serde(skip)]
    pub compare: Option<CompareSetup>,
}

/// Raw records as their sources sent them: probe results (every field, as the Worker
/// answered). The shim's sequence numbers live on their streams (`Stream::seqs`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Telemetry {
    /// Probe results, every field as the Worker answered it, oldest first.
    #[serde(default)]
    pub probe_results: Vec<serde_json::Value>,
}

impl Telemetry {
    /// Whether no raw record is held.
    pub fn is_empty(&self) -> bool {
        self.probe_results.is_empty()
    }
}

impl Session {
    /// The stream `id`, to change (it takes a new revision).
    pub fn stream_mut(&mut self, id: &str) -> Option<&mut Stream> {
        let stream = self.streams.iter_mut().find(|s| s.id == id)?;
        stream.touch();
        Some(stream)
    }

    /// The stream `id`, to read.
    pub fn stream(&self, id: &str) -> Option<&Stream> {
        self.streams.iter().find(|s| s.id == id)
    }

    /// The stream that `origin` calls `name`, if any. Streams are keyed by source and name:
    /// a name another source took first is found under its suffixed id ([`candidate_ids`]).
    pub fn find(&self, origin: &Origin, name: &str) -> Option<usize> {
        for id in candidate_ids(origin, name) {
            match self.streams.iter().position(|s| s.id == id) {
                Some(at) if self.streams[at].origin == *origin => return Some(at),
                Some(_) => continue, // another source's stream: try the next id
                None => return None,
            }
        }
        None
    }

    /// The stream that `origin` calls `name`, created when new (under the first free id of
    /// [`candidate_ids`]); and whether it was created. It takes a new revision: it is there to
    /// be changed.
    pub fn slot(&mut self, origin: &Origin, name: &str, unit: &str) -> (&mut Stream, bool) {
        if let Some(at) = self.find(origin, name) {
            let stream = &mut self.streams[at];
            stream.touch();
            return (stream, false);
        }
        let id = candidate_ids(origin, name)
            .find(|id| self.stream(id).is_none())
            .unwrap_or_else(|| name.to_string());
        self.streams.push(Stream::new(id, unit, origin.clone()));
        let at = self.streams.len() - 1;
        (&mut self.streams[at], true)
    }

    /// Adds a sample to the stream `origin` calls `name`, creating it when new; returns it.
    pub fn push(&mut self, name: &str, unit: &str, origin: &Origin, sample: Sample) -> &mut Stream {
        let (stream, _) = self.slot(origin, name, unit);
        stream.samples.push(sample);
        stream
    }

    /// Keeps at most `keep` points in each stream that `grows`, dropping the oldest (and
    /// their `seqs`) and counting them in [`Session::dropped`]. A full stream drops its
    /// oldest 1 % at once, so a stream at its limit is not shifted on every new point.
    pub fn retain(&mut self, keep: usize, grows: impl Fn(&Origin) -> bool) {
        let keep = keep.max(1);
        for stream in self.streams.iter_mut().filter(|s| grows(&s.origin)) {
            if stream.samples.len() <= keep {
                continue;
            }
            let extra = stream.samples.len() - (keep - keep / 100);
            stream.samples.drain(..extra);
            stream.touch();
            let seqs = stream.seqs.len().saturating_sub(stream.samples.len());
            stream.seqs.drain(..seqs);
            stream.sizes.drain(..extra.min(stream.sizes.len()));
            *self.dropped.entry(stream.id.clone()).or_default() += extra as u64;
        }
    }

    /// How many of its oldest points the stream `id` has dropped.
    pub fn dropped(&self, id: &str) -> u64 {
        self.dropped.get(id).copied().unwrap_or(0)
    }

    /// The status of the stream `stream` on its card ([`Stream::health`]).
    pub fn health(&self, stream: &Stream) -> Health {
        let seen = self.acknowledged.get(&stream.id).copied();
        stream.health(&stream.chart_state(), seen)
    }

    /// Records that the user saw the signals of stream `id` up to the point of time `t`;
    /// returns whether that is news (an earlier time changes nothing).
    pub fn acknowledge(&mut self, id: &str, t: f64) -> bool {
        let seen = self
            .acknowledged
            .entry(id.to_string())
            .or_insert(f64::NEG_INFINITY);
        let news = t > *seen;
        *seen = seen.max(t);
        news
    }

    /// Adds the streams of an imported session (a file this app exported); a stream of the same
    /// id is replaced by the imported one, which goes last, with what was acknowledged of it.
    /// The raw probe results are added to this session's, and so are its annotations (an
    /// imported stream's replace this session's of it) and its taxonomy's causes and actions
    /// this one lacks; its Compare setup, if it has one, replaces this one's. Returns how
    /// many streams were imported.
    pub fn merge(&mut self, imported: Session) -> usize {
        let n = imported.streams.len();
        let ids: Vec<&str> = imported.streams.iter().map(|s| s.id.as_str()).collect();
        self.causes.retain_streams(|id| !ids.contains(&id));
        self.causes.merge(imported.causes);
        for stream in imported.streams {
            self.streams.retain(|x| x.id != stream.id);
            match imported.acknowledged.get(&stream.id) {
                Some(t) => self.acknowledged.insert(stream.id.clone(), *t),
                None => self.acknowledged.remove(&stream.id),
            };
            self.streams.push(stream);
        }
        self.telemetry
            .probe_results
            .extend(imported.telemetry.probe_results);
        if imported.compare.is_some() {
            self.compare = imported.compare;
        }
        n
    }

    /// Adds the columns of an imported CSV file as streams `<file without .csv>/<column>`,
    /// sample `t` being the row number; a stream of the same id is replaced. Returns how many
    /// streams were added.
    pub fn add_columns(&mut self, file: &str, columns: Vec<(String, Vec<f64>)>) -> usize {
        let base = file.trim_end_matches(".csv");
        let n = columns.len();
        for (column, values) in columns {
            let id = format!("{base}/{column}");
            self.streams.retain(|x| x.id != id);
            let origin = Origin::Import {
                file: file.to_string(),
            };
            let mut stream = Stream::new(id, "", origin);
            stream.samples = values
                .into_iter()
                .enumerate()
                .map(|(i, value)| Sample { t: i as f64, value })
                .collect();
            self.streams.push(stream);
        }
        n
    }
}

/// The ids a source's stream `name` may have, in order: the name itself, then the name with
/// the source as a visible suffix (`name (live 127.0.0.1:8080)`), then numbered.
pub fn candidate_ids<'a>(origin: &Origin, name: &'a str) -> impl Iterator<Item = String> + 'a {
    let label = origin.label();
    std::iter::once(name.to_string())
        .chain(std::iter::once(format!("{name} ({label})")))
        .chain((2..).map(move |n| format!("{name} ({label} {n})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: f64) -> Sample {
        Sample { t, value: t }
    }

    /// Issue 10: the shim's and the simulator's `press1/barrel_temperature` were one series.
    #[test]
    fn two_sources_of_one_name_stay_two_streams() {
        let live = Origin::Live {
            url: "ws://127.0.0.1:8080/ws".into(),
        };
        let mut s = Session::default();
        let name = "press1/barrel_temperature";
        s.push(name, "°C", &Origin::Simulator, at(1.0));
        s.push(name, "°C", &live, at(2.0));
        s.push(name, "°C", &Origin::Simulator, at(3.0));
        s.push(name, "°C", &live, at(4.0));
        let ids: Vec<&str> = s.streams.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(
            ids,
            [name, "press1/barrel_temperature (live 127.0.0.1:8080)"]
        );
        assert_eq!(s.streams[0].samples, [at(1.0), at(3.0)]);
        assert_eq!(s.streams[1].samples, [at(2.0), at(4.0)]);
        assert_eq!(s.find(&live, name), Some(1));
        // A third source of the same name, and one whose suffixed id is taken too.
        let other = Origin::Live {
            url: "ws://10.0.0.9:9750/ws".into(),
        };
        assert_eq!(
            s.slot(&other, name, "").0.id,
            "press1/barrel_temperature (live 10.0.0.9:9750)"
        );
        s.streams.push(Stream::new(
            "a (simulator)",
            "",
            Origin::Import {
                file: "x.csv".into(),
            },
        ));
        s.streams.push(Stream::new(
            "a",
            "",
            Origin::Import {
                file: "y.csv".into(),
            },
        ));
        assert_eq!(s.slot(&Origin::Simulator, "a", "").0.id, "a (simulator 2)");
        assert_eq!(
            s.find(&Origin::Simulator, "a")
                .map(|i| s.streams[i].id.clone()),
            Some("a (simulator 2)".into())
        );
    }

    #[test]
    fn an_imported_session_replaces_streams_of_the_same_id_and_adds_its_probe_results() {
        let mut mine = Session::default();
        mine.push("a", "ms", &Origin::Simulator, at(1.0));
        mine.push("b", "ms", &Origin::Simulator, at(2.0));
        mine.telemetry
            .probe_results
            .push(serde_json::json!({"n": 1}));
        let mut theirs = Session::default();
        theirs.push("a", "ms", &Origin::Simulator, at(7.0));
        theirs.push("c", "", &Origin::Simulator, at(8.0));
        theirs
            .telemetry
            .probe_results
            .push(serde_json::json!({"n": 2}));
        mine.acknowledge("a", 1.0);
        mine.acknowledge("b", 2.0);
        theirs.acknowledge("c", 8.0);
        assert_eq!(mine.merge(theirs), 2);
        let seen: Vec<(&str, f64)> = mine
            .acknowledged
            .iter()
            .map(|(id, t)| (id.as_str(), *t))
            .collect();
        assert_eq!(
            seen,
            [("b", 2.0), ("c", 8.0)],
            "acknowledgements come with their streams"
        );
        let ids: Vec<&str> = mine.streams.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, ["b", "a", "c"], "a replaced stream goes last");
        assert_eq!(mine.stream("a").unwrap().samples, [at(7.0)]);
        assert_eq!(
            mine.telemetry.probe_results,
            [serde_json::json!({"n": 1}), serde_json::json!({"n": 2})]
        );
    }

    #[test]
    fn csv_columns_become_streams_named_after_the_file_and_numbered_by_row() {
        let mut s = Session::default();
        let columns = vec![
            ("ttft".to_string(), vec![410.0, 420.0]),
            ("tps".to_string(), vec![50.0, 51.0]),
        ];
        assert_eq!(s.add_columns("run.csv", columns), 2);
        let ttft = s.stream("run/ttft").expect("named file/column");
        assert_eq!(
            ttft.samples,
            [
                Sample {
                    t: 0.0,
                    value: 410.0
                },
                Sample {
                    t: 1.0,
                    value: 420.0
                }
            ]
        );
        assert_eq!(
            ttft.origin,
            Origin::Import {
                file: "run.csv".into()
            }
        );
        // The same file again replaces its streams instead of adding to them.
        s.add_columns("run.csv", vec![("ttft".to_string(), vec![1.0])]);
        assert_eq!(s.streams.len(), 2);
        assert_eq!(s.stream("run/ttft").unwrap().samples.len(), 1);
    }

    #[test]
    fn growing_streams_keep_their_newest_points_and_count_the_dropped() {
        let live = Origin::Live {
            url: "ws://h/ws".into(),
        };
        let mut s = Session::default();
        for i in 0..250 {
            s.push("x", "", &live, at(i as f64)).seqs.push(i);
            s.push("y", "", &Origin::Simulator, at(i as f64));
        }
        s.retain(200, Origin::grows);
        let x = &s.streams[0];
        assert_eq!(
            x.samples.len(),
            198,
            "a full stream drops down to 99 % of its limit"
        );
        assert_eq!(x.samples[0], at(52.0), "the oldest go");
        assert_eq!(
            (x.seqs.len(), x.seqs[0]),
            (198, 52),
            "seqs stay beside their samples"
        );
        assert_eq!(s.dropped("x"), 52);
        assert_eq!(
            s.streams[1].samples.len(),
            250,
            "a simulator is not a growing source"
        );
        s.retain(200, Origin::grows);
        assert_eq!(s.dropped("x"), 52, "nothing more to drop");
    }

    #[test]
    fn outcomes_chart_as_a_p_chart_of_complete_subgroups() {
        let mut s = Stream::new("m/error_rate", "", Origin::Simulator);
        s.settings.chart.chart = Some("p".into());
        s.settings.chart.phase1 = Some(3);
        s.settings.subgroup_size = Some(4);
        let outcomes = [
            0., 1., 0., 0., 0., 0., 1., 0., 0., 0., 0., 0., 1., 1., 1., 1., 1.,
        ];
        s.samples = outcomes
            .iter()
            .map(|&value| Sample { t: 0.0, value })
            .collect();
        assert_eq!(
            s.data(),
            Data::Counts(vec![(1.0, 4.0), (1.0, 4.0), (0.0, 4.0), (4.0, 4.0)])
        );
        let chart = s.chart().unwrap().unwrap();
        assert!((chart.center() - 2.0 / 12.0).abs() < 1e-12);
        assert_eq!(chart.primary.signals.last().map(|x| x.index), Some(3));
    }

    /// A corrected file of the same length, with the same last sample, imported again: its
    /// chart is the corrected one (the cache was keyed by length and last sample, and showed
    /// the stale chart).
    #[test]
    fn a_reimported_file_of_the_same_length_and_last_sample_charts_anew() {
        let column = |middle: f64| {
            let mut values: Vec<f64> = (0..40).map(|i| 10.0 + (i % 3) as f64).collect();
            values[20] = middle;
            vec![("x".to_string(), values)]
        };
        let mut s = Session::default();
        s.add_columns("run.csv", column(11.0));
        let before = s.stream("run/x").unwrap().chart_state();
        s.add_columns("run.csv", column(500.0));
        let after = s.stream("run/x").unwrap().chart_state();
        // Test 1 (a point beyond the limits) at point 20.
        let beyond = |state: &ChartState| {
            let chart = state.ready().expect("the baseline is complete");
            chart.primary.tests_at(20).any(|t| t == 1)
        };
        assert!(!beyond(&before));
        assert!(beyond(&after), "the corrected point signals");
        assert_ne!(before, after);

        // A change through the session gives a new chart; asking again without one does not.
        let again = s.stream("run/x").unwrap().chart_state();
        assert_eq!(after, again, "the same revision is the same cached chart");
        s.stream_mut("run/x").unwrap().samples[20].value = 11.0;
        let fixed = s.stream("run/x").unwrap().chart_state();
        assert!(!beyond(&fixed));

        // Clearing forgets every chart.
        clear_charts();
        assert_ne!(fixed, s.stream("run/x").unwrap().chart_state());
    }

    /// A stream of 60 points with a spike at `spike` (a test 1 signal there) and nothing else.
    fn spiked(spike: usize) -> Stream {
        let mut s = Stream::new("m/ttft", "ms", Origin::Simulator);
        s.settings.chart.tests = Some("1".into());
        s.samples = (0..60)
            .map(|i| Sample {
                t: 1000.0 * i as f64,
                value: if i == spike {
                    900.0
                } else {
                    400.0 + (i % 7) as f64
                },
            })
            .collect();
        s
    }

    /// Issue 11: a card's status says what is true now.
    #[test]
    fn a_card_says_signal_while_a_signal_is_recent_or_unseen_then_had_signals() {
        let mut session = Session::default();
        session.streams.push(spiked(40));
        let health = |s: &Session| s.health(&s.streams[0]);
        // Point 40 of 60 is within the last 25: news, seen or not.
        assert_eq!(health(&session), Health::Signal);
        assert!(session.acknowledge("m/ttft", 40_000.0));
        assert_eq!(health(&session), Health::Signal, "still recent");
        // A window of 10 points: 40 is old, and seen: history, with its count.
        session.stream_mut("m/ttft").unwrap().settings.recent = Some(10);
        assert_eq!(health(&session), Health::HadSignals(1));
        assert_eq!(health(&session).label(), "had signals");
        assert_eq!(health(&session).text(), "had signals (1)");
        // Old but never seen: still news.
        session.acknowledged.clear();
        assert_eq!(health(&session), Health::Signal, "not yet acknowledged");
        // Seeing an earlier point does not acknowledge a later signal.
        assert!(session.acknowledge("m/ttft", 39_000.0));
        assert_eq!(health(&session), Health::Signal);
        assert!(session.acknowledge("m/ttft", 40_000.0));
        assert!(
            !session.acknowledge("m/ttft", 12.0),
            "an earlier time is no news"
        );
        assert_eq!(health(&session), Health::HadSignals(1));
        // Acknowledged, then a new signal: news again, until the stream is opened.
        let st = session.stream_mut("m/ttft").unwrap();
        st.samples[58].value = 900.0;
        assert_eq!(health(&session), Health::Signal);
        assert!(session.acknowledge_all("m/ttft").0);
        assert!(
            !session.acknowledge_all("m/ttft").0,
            "nothing new the second time"
        );
        assert_eq!(session.acknowledged["m/ttft"], 58_000.0);
        assert!(!session.acknowledge_all("no/such/stream").0);
        // No signal at all; and no chart yet.
        let mut quiet = spiked(usize::MAX);
        assert_eq!(quiet.health(&quiet.chart_state(), None), Health::InControl);
        quiet.samples.truncate(10);
        quiet.touch();
        assert_eq!(quiet.health(&quiet.chart_state(), None), Health::Collecting);
        // Order on the dashboard: news, stale, history, then the rest.
        assert!(Health::Signal < Health::Stale);
        assert!(Health::Stale < Health::HadSignals(3));
        assert!(Health::HadSignals(3) < Health::Collecting);
    }

    #[test]
    fn a_stream_charts_once_its_baseline_is_complete() {
        let mut s = Stream::new("m/ttft", "ms", Origin::Simulator);
        for i in 0..DEFAULT_PHASE1 - 1 {
            s.samples.push(Sample {
                t: i as f64,
                value: 400.0 + (i % 7) as f64,
            });
        }
        assert!(matches!(s.chart(), Ok(None)));
        s.samples.push(Sample {
            t: 99.0,
            value: 403.0,
        });
        s.samples.push(Sample {
            t: 100.0,
            value: 900.0,
        });
        assert_eq!(s.health(&s.chart_state(), None), Health::Signal);
    }
}
