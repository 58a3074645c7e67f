//! Alerting on a target's stored history with the SPC engine: one chart per metric
//! (individuals charts of TTFT, total latency and output speed over successful probes; a p
//! chart of the error rate over subgroups of consecutive probes, Montgomery §7.2), and one
//! alert per signal episode, not one per flagged point.
//!
//! An episode opens at the first flagged Phase II point and closes after `clean_run`
//! unflagged points in a row. A shift flags point after point (test 1, then test 2 on every
//! point of the run), so without episodes one shift would page someone at every cron run.
//! Phase I points are never alerted on: they are the baseline's own retrospective study, and
//! an error rate below its center line (an improvement) never alerts.

use crate::forecast::Predictive;
use crate::why::{self, Charted, Why};
use llmscope_protocol::probe::ProbeResult;
use llmscope_spc::{ChartConfig, Monitor, Observation, Point, RuleSignal, Signal, Sink, Which};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The metrics charted per target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    /// Time to first token, ms.
    TtftMs,
    /// Total latency, ms.
    TotalMs,
    /// Output speed, tokens/s.
    TokensPerS,
    /// Share of failed probes (p chart).
    ErrorRate,
}

impl Metric {
    /// All metrics, in the order they are evaluated.
    pub const ALL: [Metric; 4] = [
        Metric::TtftMs,
        Metric::TotalMs,
        Metric::TokensPerS,
        Metric::ErrorRate,
    ];

    /// The result field's name (and the state key).
    pub fn name(self) -> &'static str {
        match self {
            Metric::TtftMs => "ttft_ms",
            Metric::TotalMs => "total_ms",
            Metric::TokensPerS => "tokens_per_s",
            Metric::ErrorRate => "error_rate",
        }
    }
}

/// How alerts are computed (Worker variables `LLMSCOPE_BASELINE`, `LLMSCOPE_TESTS`,
/// `LLMSCOPE_P_SUBGROUP`).
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Phase I size: the first N points (p chart: subgroups) of the history.
    pub baseline: usize,
    /// The tests, as the engine reads them (`nelson`, `1,2`, ...).
    pub tests: String,
    /// Probes per p-chart subgroup.
    pub p_subgroup: usize,
    /// Unflagged points in a row that close an episode.
    pub clean_run: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            baseline: 20,
            tests: "nelson".into(),
            p_subgroup: 10,
            clean_run: 9,
        }
    }
}

/// Where one (target, metric) stands, persisted between cron runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Time of the last point evaluated; later points are new.
    pub last_t: i64,
    /// Whether an episode is open (already alerted).
    pub open: bool,
    /// Unflagged points since the last flagged one.
    pub clean: usize,
    /// The center frozen when the baseline first completed (p-bar for the error rate).
    #[serde(default)]
    pub center: Option<f64>,
    /// The sigma frozen with it. Later runs judge against these, so the baseline does not slide
    /// as old results leave the history window.
    #[serde(default)]
    pub sigma: Option<f64>,
    /// Error rate: the time of the first probe of the latest complete subgroup. Subgroups are
    /// cut at fixed probe counts from it, so they stay the same as the history window slides.
    #[serde(default)]
    pub subgroup_start_t: Option<i64>,
}

/// One alert to send.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Alert {
    /// The target's name.
    pub target: String,
    /// `ttft_ms`, `total_ms`, `tokens_per_s` or `error_rate`.
    pub metric: &'static str,
    /// The flagged point's time, epoch ms.
    pub t: i64,
    /// The plotted value.
    pub value: f64,
    /// The center line.
    pub center: f64,
    /// The limits.
    pub lcl: Option<f64>,
    /// The limits.
    pub ucl: Option<f64>,
    /// The tests that fired at the point.
    pub tests: Vec<u8>,
    /// The named rules (`LLMSCOPE_TESTS`'s rule language) that fired at the point, warnings
    /// left out: a warning is not a rejection.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// Why: the episode's shape, its likely cause, what moved with it ([`crate::why`]);
    /// its fields sit beside the others in the JSON. Absent in alerts stored before it.
    #[serde(flatten)]
    pub why: Option<Why>,
    /// A predictive alert's forecast ([`crate::forecast`]; `kind: "predictive"`), its fields
    /// beside the others; `None` for a chart alert. For a predictive alert `value` is the last
    /// point, `center` the degradation window's mean, and there are no limits or tests.
    #[serde(flatten)]
    pub forecast: Option<Predictive>,
}

impl Alert {
    /// One line a person reads: the metric, the value against its limits, and the tests; or,
    /// for a predictive alert, when it reaches its limit.
    pub fn describe(&self) -> String {
        if let Some(f) = &self.forecast {
            return f.describe(&self.target, self.metric);
        }
        format!(
            "{} is out of control: {:.3} (center {:.3}, {}); {}",
            self.metric,
            self.value,
            self.center,
            self.limits(),
            self.fired()
        )
    }

    /// The tests and named rules that fired, in words (`test 1: ...; rule 2-2s`); a
    /// predictive alert's are none.
    pub fn fired(&self) -> String {
        let tests: Vec<String> = self
            .tests
            .iter()
            .filter_map(|n| llmscope_spc::NelsonRule::from_number(*n))
            .map(|r| format!("test {}: {}", r.number(), r.describe(r.default_k())))
            .chain(self.rules.iter().map(|name| format!("rule {name}")))
            .collect();
        tests.join("; ")
    }

    /// The control limits in words, or a predictive alert's limit (`SLO 2000 ms`).
    pub fn limits(&self) -> String {
        if let Some(f) = &self.forecast {
            return format!("{} {:.0} ms", f.limit_name, f.limit);
        }
        match (self.lcl, self.ucl) {
            (Some(l), Some(u)) => format!("limits {l:.3} to {u:.3}"),
            (None, Some(u)) => format!("UCL {u:.3}"),
            (Some(l), None) => format!("LCL {l:.3}"),
            (None, None) => "no limits".into(),
        }
    }
}

/// An alert as stored in D1 (`alerts.json`), read back to deliver it later.
#[derive(Deserialize)]
struct StoredAlert {
    target: String,
    metric: String,
    t: i64,
    value: f64,
    center: f64,
    lcl: Option<f64>,
    ucl: Option<f64>,
    tests: Vec<u8>,
    #[serde(default)]
    rules: Vec<String>,
    #[serde(flatten)]
    why: Option<Why>,
    #[serde(flatten)]
    forecast: Option<Predictive>,
}

impl Alert {
    /// An alert from its stored JSON; `None` when it is not one (a metric this version does
    /// not chart).
    pub fn from_stored(json: &str) -> Option<Alert> {
        let a: StoredAlert = serde_json::from_str(json).ok()?;
        let metric = Metric::ALL.iter().find(|m| m.name() == a.metric)?.name();
        Some(Alert {
            target: a.target,
            metric,
            t: a.t,
            value: a.value,
            center: a.center,
            lcl: a.lcl,
            ucl: a.ucl,
            tests: a.tests,
            rules: a.rules,
            why: a.why,
            forecast: a.forecast,
        })
    }
}

/// Delivery attempts per webhook message per cron run.
pub const DELIVERY_ATTEMPTS: u32 = 3;

/// The wait before delivery attempt `attempt` (0-based) within one cron run: none, then 1 s,
/// then 2 s (doubling). A message still refused after [`DELIVERY_ATTEMPTS`] stays undelivered
/// and is tried again on the next cron run.
pub fn delivery_backoff_ms(attempt: u32) -> u64 {
    match attempt {
        0 => 0,
        n => 1000 << (n - 1).min(10),
    }
}

/// One charted series: (time, observation) pairs.
enum Series {
    Values(Vec<(i64, f64)>),
    Counts(Vec<(i64, f64, f64)>),
}

impl Series {
    /// The plotted values (a count's proportion).
    fn plotted(&self) -> Vec<f64> {
        match self {
            Series::Values(v) => v.iter().map(|p| p.1).collect(),
            Series::Counts(c) => c.iter().map(|p| p.1 / p.2).collect(),
        }
    }
}

/// Where the first whole subgroup of `n` probes starts in `history`: at a fixed count of
/// probes from `start_t`, the first probe of a subgroup an earlier run cut. Without one (the
/// first run), or when it has left the history, subgroups start at the oldest probe.
fn subgroup_offset(history: &[ProbeResult], n: usize, start_t: Option<i64>) -> usize {
    start_t
        .and_then(|t| history.iter().position(|r| r.t == t))
        .map_or(0, |at| at % n)
}

/// The error rate's subgroups: `n` consecutive probes each, cut at fixed probe counts (see
/// [`subgroup_offset`]), each a (time of its last probe, failures, n) point; and the time of
/// the first probe of the last one, for the next run.
fn subgroups(
    history: &[ProbeResult],
    n: usize,
    start_t: Option<i64>,
) -> (Vec<(i64, f64, f64)>, Option<i64>) {
    let n = n.max(1);
    let groups: Vec<&[ProbeResult]> = history[subgroup_offset(history, n, start_t)..]
        .chunks_exact(n)
        .collect();
    let points = groups
        .iter()
        .filter_map(|g| {
            let failed = g.iter().filter(|r| !r.ok).count() as f64;
            Some((g.last()?.t, failed, n as f64))
        })
        .collect();
    let last_start = groups.last().and_then(|g| g.first()).map(|r| r.t);
    (points, last_start.or(start_t))
}

/// The first and last probe (indexes into `history`) of each point of `metric`'s series.
fn probes_of(
    history: &[ProbeResult],
    metric: Metric,
    settings: &Settings,
    start_t: Option<i64>,
) -> Vec<(usize, usize)> {
    if metric == Metric::ErrorRate {
        let n = settings.p_subgroup.max(1);
        let offset = subgroup_offset(history, n, start_t);
        let groups = (history.len() - offset) / n;
        return (0..groups)
            .map(|g| (offset + g * n, offset + (g + 1) * n - 1))
            .collect();
    }
    let mut state = State::default();
    let Series::Values(points) = series(history, metric, settings, &mut state) else {
        return Vec::new();
    };
    // The same filter as `series`: the successful probes with a finite value, in order.
    let mut at = history.iter().enumerate().filter(|(_, r)| r.ok);
    points
        .iter()
        .filter_map(|p| at.find(|(_, r)| r.t == p.0).map(|(i, _)| (i, i)))
        .collect()
}

fn series(
    history: &[ProbeResult],
    metric: Metric,
    settings: &Settings,
    state: &mut State,
) -> Series {
    let pick = |r: &ProbeResult| match metric {
        Metric::TtftMs => r.ttft_ms,
        Metric::TotalMs => r.total_ms,
        Metric::TokensPerS => r.tokens_per_s,
        Metric::ErrorRate => None,
    };
    if metric == Metric::ErrorRate {
        let (points, start) = subgroups(history, settings.p_subgroup, state.subgroup_start_t);
        state.subgroup_start_t = start;
        return Series::Counts(points);
    }
    Series::Values(
        history
            .iter()
            .filter(|r| r.ok)
            .filter_map(|r| Some((r.t, pick(r).filter(|v| v.is_finite())?)))
            .collect(),
    )
}

/// Collects the primary chart's points and the tests and named rules that fired at each.
#[derive(Default)]
struct Flags {
    points: BTreeMap<usize, Point>,
    tests: BTreeMap<usize, Vec<u8>>,
    /// Indexes into `names` of the named rules (not warnings) that fired at each point.
    rules: BTreeMap<usize, Vec<usize>>,
    /// Whether each named rule is a warning.
    warnings: Vec<bool>,
    signals: Vec<Signal>,
    /// The named rules' signals, warnings left out: they open episodes as tests do.
    rule_signals: Vec<RuleSignal>,
}

impl Sink for Flags {
    fn point(&mut self, which: Which, point: Point) {
        if which == Which::Primary {
            self.points.insert(point.index, point);
        }
    }

    fn signal(&mut self, which: Which, signal: Signal) {
        if which == Which::Primary {
            self.tests
                .entry(signal.index)
                .or_default()
                .push(signal.test.number());
            self.signals.push(signal);
        }
    }

    fn rule_signal(&mut self, which: Which, signal: RuleSignal) {
        let warning = self.warnings.get(signal.rule).copied().unwrap_or(false);
        if which == Which::Primary && !warning {
            self.tests.entry(signal.index).or_default();
            self.rules
                .entry(signal.index)
                .or_default()
                .push(signal.rule);
            self.rule_signals.push(signal);
        }
    }
}

/// Evaluates one metric of one target's history (oldest first): the alerts for points newer
/// than `state.last_t`, with `state` advanced. Errors are the engine's, e.g. too little data
/// or a baseline with no variation; they alert nobody and are logged by the caller.
pub fn evaluate(
    target: &str,
    metric: Metric,
    history: &[ProbeResult],
    settings: &Settings,
    state: &mut State,
) -> Result<Vec<Alert>, String> {
    let subgroup_start_t = state.subgroup_start_t;
    let series = series(history, metric, settings, state);
    let (times, len) = match &series {
        Series::Values(v) => (v.iter().map(|p| p.0).collect::<Vec<_>>(), v.len()),
        Series::Counts(c) => (c.iter().map(|p| p.0).collect(), c.len()),
    };
    let frozen = matches!(
        (metric, state.center, state.sigma),
        (Metric::ErrorRate, Some(_), _) | (_, Some(_), Some(_))
    );
    if !frozen && len <= settings.baseline {
        return Ok(Vec::new()); // still collecting the baseline
    }
    let chart = if metric == Metric::ErrorRate {
        "p"
    } else {
        "individuals"
    };
    let config = ChartConfig {
        chart: Some(chart.into()),
        phase1: (!frozen).then_some(settings.baseline),
        mu: state.center.filter(|_| frozen),
        // The p chart needs its sigma only for a zero-failure baseline (p-bar 0), whose sigma
        // the engine takes at the exact upper bound on p; otherwise it is sqrt(p(1-p)).
        sigma: state.sigma.filter(|_| frozen),
        tests: Some(settings.tests.clone()),
        ..ChartConfig::default()
    };
    let spec = config.to_spec().map_err(|e| e.to_string())?;
    let names: Vec<String> = spec
        .tests
        .custom()
        .rules()
        .iter()
        .map(|r| r.name.clone())
        .collect();
    let mut flags = Flags {
        warnings: spec
            .tests
            .custom()
            .rules()
            .iter()
            .map(|r| r.warning)
            .collect(),
        ..Flags::default()
    };
    let mut monitor = Monitor::new(spec).map_err(|e| e.to_string())?;
    for i in 0..len {
        let obs = match &series {
            Series::Values(v) => Observation::Value(v[i].1),
            Series::Counts(c) => Observation::Count {
                count: c[i].1,
                size: c[i].2,
            },
        };
        monitor.push(obs, &mut flags).map_err(|e| e.to_string())?;
    }
    monitor.finish(&mut flags).map_err(|e| e.to_string())?;
    if !frozen {
        let e = monitor.estimate().ok_or("no estimate after the baseline")?;
        state.center = Some(e.center);
        state.sigma = Some(e.sigma);
    }
    let phase1 = if frozen { 0 } else { settings.baseline };
    let values = series.plotted();
    let probes = probes_of(history, metric, settings, subgroup_start_t);
    let chart = Charted {
        metric: metric.name(),
        values: &values,
        probes: &probes,
        signals: &flags.signals,
        rule_signals: &flags.rule_signals,
        phase2: phase1,
        clean_run: settings.clean_run,
    };

    let mut alerts = Vec::new();
    for (i, &t) in times.iter().enumerate().skip(phase1) {
        if t <= state.last_t {
            continue;
        }
        state.last_t = t;
        // A falling error rate is an improvement, not an incident.
        let improved = |p: &Point| metric == Metric::ErrorRate && p.statistic <= p.center;
        let flagged = flags
            .tests
            .get(&i)
            .filter(|_| !flags.points.get(&i).is_some_and(improved));
        let Some(tests) = flagged else {
            state.clean += 1;
            if state.clean >= settings.clean_run {
                state.open = false;
            }
            continue;
        };
        state.clean = 0;
        if state.open {
            continue;
        }
        state.open = true;
        let Some(p) = flags.points.get(&i) else {
            continue;
        };
        // The point's sigma: a third of the distance to its limit (constant subgroups).
        let sigma = p.ucl.map(|u| (u - p.center) / 3.0).filter(|s| *s > 0.0);
        alerts.push(Alert {
            target: target.to_string(),
            metric: metric.name(),
            t,
            value: p.statistic,
            center: p.center,
            lcl: p.lcl,
            ucl: p.ucl,
            tests: tests.clone(),
            rules: flags.rules.get(&i).map_or_else(Vec::new, |fired| {
                fired
                    .iter()
                    .filter_map(|&r| names.get(r).cloned())
                    .collect()
            }),
            why: sigma.and_then(|s| why::explain(history, &chart, i, p.center, s)),
            forecast: None,
        });
    }
    Ok(alerts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(t: i64, ttft: f64, ok: bool) -> ProbeResult {
        ProbeResult {
            target: "x".into(),
            provider: "openai".into(),
            model: "m".into(),
            t,
            ok,
            status: Some(200),
            ttft_ms: ok.then_some(ttft),
            total_ms: ok.then_some(ttft + 100.0),
            input_tokens: None,
            output_tokens: None,
            cached_input_tokens: None,
            tokens_per_s: None,
            cost_usd: None,
            error: None,
            quality_pass: None,
            extra: Default::default(),
        }
    }

    /// Normal noise, sd 2 (Python's `random.seed(7)`, `gauss(0, 2)`), fixed so tests are exact.
    const NOISE: [f64; 48] = [
        -0.51, 1.02, -0.45, -0.63, -1.86, -0.43, 2.22, 0.85, 2.07, 0.5, 0.79, 0.37, -3.33, 1.71,
        1.01, 1.0, -3.38, -3.49, -1.78, -0.94, 0.61, -0.09, 1.04, -1.28, 0.62, 0.79, -1.32, 3.44,
        1.11, 2.39, -1.24, -1.48, -0.69, -0.21, 1.26, 0.5, -0.89, -1.91, -1.04, 2.44, -1.62, 0.49,
        0.85, -2.98, 0.1, 2.61, -4.03, -0.64,
    ];

    /// In control around 50 ms, then `shifted` points around 80 ms (15 sigma up).
    fn history(stable: usize, shifted: usize) -> Vec<ProbeResult> {
        (0..stable + shifted)
            .map(|i| {
                let base = if i < stable { 50.0 } else { 80.0 };
                probe(i as i64 * 1000, base + NOISE[i % NOISE.len()], true)
            })
            .collect()
    }

    #[test]
    fn a_shift_alerts_once_however_often_it_is_evaluated() {
        let settings = Settings::default();
        let mut state = State::default();
        let full = history(30, 12);
        let mut alerts = Vec::new();
        // One evaluation per cron run, each seeing one more point.
        for n in 1..=full.len() {
            alerts
                .extend(evaluate("x", Metric::TtftMs, &full[..n], &settings, &mut state).unwrap());
        }
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        let a = &alerts[0];
        assert_eq!(
            (a.t, a.metric, a.value),
            (30_000, "ttft_ms", 80.0 + NOISE[30])
        );
        assert_eq!(a.tests, [1], "only test 1 fires at the first shifted point");
        assert!(a.ucl.unwrap() < 80.0);
        let text = crate::notify::tests::legacy_text(&alerts);
        assert!(
            text.starts_with("LLMscope: x\n• ttft_ms is out of control: 78.760"),
            "{text}"
        );
        assert!(text.contains("test 1: 1 point more than 3 sigma"), "{text}");
    }

    /// `LLMSCOPE_TESTS` in the rule language: a named rule alerts with its name, a warning rule
    /// alone does not.
    #[test]
    fn a_named_rule_alerts_by_its_name_and_a_warning_does_not() {
        let full = history(30, 12);
        let run = |tests: &str| {
            let settings = Settings {
                tests: tests.into(),
                ..Settings::default()
            };
            evaluate("x", Metric::TtftMs, &full, &settings, &mut State::default()).unwrap()
        };
        let alerts = run("high: 2 of 2 beyond 2s above");
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        let a = &alerts[0];
        assert_eq!(
            (a.t, a.tests.len(), &a.rules[..]),
            (31_000, 0, &["high".to_string()][..])
        );
        assert!(a.describe().ends_with("; rule high"), "{}", a.describe());
        assert!(a.why.is_some(), "a named rule's episode is explained too");
        let stored = serde_json::to_string(a).unwrap();
        assert!(stored.contains(r#""rules":["high"]"#), "{stored}");
        // The stored form reads back (its floats to serde_json's parsing, not bit for bit).
        let back = Alert::from_stored(&stored).unwrap();
        assert_eq!(
            (back.t, &back.tests, &back.rules),
            (a.t, &a.tests, &a.rules)
        );
        assert_eq!(
            back.why.map(|w| w.since_t),
            a.why.as_ref().map(|w| w.since_t)
        );
        assert_eq!(run("watch: 1 of 1 beyond 2s above, warning"), []);
    }

    #[test]
    fn the_limits_stay_frozen_when_the_baseline_leaves_the_history_window() {
        let settings = Settings::default();
        let mut state = State::default();
        let full = history(30, 6);
        let first = evaluate("x", Metric::TtftMs, &full[..25], &settings, &mut state).unwrap();
        assert!(first.is_empty());
        let center = state.center.unwrap();
        // The window now starts after the baseline; the limits are still the baseline's.
        let alerts = evaluate("x", Metric::TtftMs, &full[15..], &settings, &mut state).unwrap();
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!((alerts[0].t, alerts[0].center), (30_000, center));
    }

    #[test]
    fn an_episode_closes_after_a_clean_run_and_the_next_one_alerts_again() {
        let settings = Settings::default();
        let mut state = State::default();
        let mut h = history(30, 3);
        let back = history(12, 0);
        h.extend(back.into_iter().enumerate().map(|(i, mut p)| {
            p.t = (33 + i as i64) * 1000;
            p
        }));
        h.extend(history(0, 2).into_iter().enumerate().map(|(i, mut p)| {
            p.t = (45 + i as i64) * 1000;
            p
        }));
        let alerts = evaluate("x", Metric::TtftMs, &h, &settings, &mut state).unwrap();
        assert_eq!(
            alerts.iter().map(|a| a.t).collect::<Vec<_>>(),
            [30_000, 45_000]
        );
        // Nothing new: nothing sent again.
        assert!(evaluate("x", Metric::TtftMs, &h, &settings, &mut state)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn failures_are_a_p_chart_and_never_latency_points() {
        let settings = Settings {
            baseline: 5,
            p_subgroup: 10,
            ..Settings::default()
        };
        let mut h: Vec<ProbeResult> = (0..100)
            .map(|i| probe(i * 1000, 50.0, i % 10 != 3)) // 10 % failures
            .collect();
        h.extend((100..110).map(|i| probe(i * 1000, 50.0, i % 10 < 2))); // 80 % failures
        let mut state = State::default();
        let alerts = evaluate("x", Metric::ErrorRate, &h, &settings, &mut state).unwrap();
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!((alerts[0].t, alerts[0].value), (109_000, 0.8));
        assert!((alerts[0].center - 0.1).abs() < 1e-12);
        // Failed probes carry no TTFT: the TTFT series only has the successful ones.
        let Series::Values(v) = series(&h, Metric::TtftMs, &settings, &mut State::default()) else {
            panic!()
        };
        assert_eq!(v.len(), 90 + 2);
    }

    /// One evaluation per cron run, each on the latest `window` probes of `ok(i)` outcomes,
    /// one new probe per run: the alerts of every run.
    fn runs(
        probes: usize,
        window: usize,
        settings: &Settings,
        ok: impl Fn(usize) -> bool,
    ) -> Vec<Alert> {
        let all: Vec<ProbeResult> = (0..probes)
            .map(|i| probe(i as i64 * 1000, 50.0, ok(i)))
            .collect();
        let mut state = State::default();
        let mut alerts = Vec::new();
        for end in 1..=probes {
            let h = &all[end.saturating_sub(window)..end];
            alerts.extend(evaluate("x", Metric::ErrorRate, h, settings, &mut state).unwrap());
        }
        alerts
    }

    #[test]
    fn a_total_outage_after_a_clean_baseline_alerts_exactly_once() {
        // 200 good probes are the baseline (20 subgroups of 10, p-bar 0), then 100 failures.
        let alerts = runs(300, 2000, &Settings::default(), |i| i < 200);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        let a = &alerts[0];
        assert_eq!(
            (a.metric, a.t, a.value, a.center),
            ("error_rate", 209_000, 1.0, 0.0)
        );
        assert_eq!(a.tests, [1], "{a:?}");
        // One failure in a subgroup is within the limit of a 200-probe clean baseline.
        assert!(runs(300, 2000, &Settings::default(), |i| i != 250).is_empty());
    }

    #[test]
    fn error_rate_subgroups_stay_fixed_as_the_window_slides() {
        // p-bar 0.02 (1 failure in the 50-probe baseline): one failure in 10 (0.1) is inside
        // the limit (0.153), two (0.2) are not. The window (100 probes) is full from run 100 on.
        let settings = Settings {
            baseline: 5,
            ..Settings::default()
        };
        // Two failures in two subgroups (probes 200-209 and 210-219): no signal, although a
        // window that slides one probe per run would cut a subgroup holding both.
        let apart = runs(300, 100, &settings, |i| ![3, 208, 212].contains(&i));
        assert!(apart.is_empty(), "{apart:?}");
        // Two failures in one subgroup (230-239): one alert, at that subgroup's last probe.
        let together = runs(300, 100, &settings, |i| ![3, 232, 236].contains(&i));
        assert_eq!(
            together.iter().map(|a| (a.t, a.value)).collect::<Vec<_>>(),
            [(239_000, 0.2)]
        );
    }

    #[test]
    fn delivery_backs_off_doubling() {
        assert_eq!(
            (0..4).map(delivery_backoff_ms).collect::<Vec<_>>(),
            [0, 1000, 2000, 4000]
        );
    }
}
