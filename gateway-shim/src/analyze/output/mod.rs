//! The three output formats of `analyze`, one file each: [`json`], [`csv`], [`text`].
//! Presentation only: every number comes from the engine's [`Chart`] value. This file holds
//! what the formats share.

mod ahead;
mod chunks;
mod csv;
mod json;
mod text;

pub use self::ahead::Ahead;
pub use self::csv::csv;
pub use self::json::json;
pub use self::text::text;
use llmscope_spc::capability::Capability;
use llmscope_spc::custom::CustomRule;
use llmscope_spc::summary::{summarize, Summary};
use llmscope_spc::transform::Transform;
use llmscope_spc::{Chart, ChartType, Data, NelsonRule, Observation, Point, Series, SigmaMethod};

/// Everything a format needs.
pub struct Report<'a> {
    pub file: &'a str,
    pub column: &'a str,
    pub chart: &'a Chart,
    pub data: &'a Data,
    pub capability: Option<Capability>,
    /// The measurements' summary, where the format shows one (JSON).
    pub summary: Option<Summary>,
    /// Statistics formatted while the engine ran (JSON of an individuals chart).
    pub ahead: Option<Ahead<'a>>,
}

/// Shifts (in sigma) whose ARL the reports show besides the in-control one.
const SHIFTS: [f64; 2] = [1.0, 2.0];

pub(super) fn method_name(m: SigmaMethod, chart: ChartType) -> &'static str {
    match m {
        SigmaMethod::MovingRange => "MR-bar / d2",
        SigmaMethod::MedianMovingRange => "median MR / d4",
        SigmaMethod::OverallSd => "overall SD / c4",
        SigmaMethod::AverageRange => "mean of R / d2(n)",
        SigmaMethod::AverageSd => "mean of S / c4(n)",
        SigmaMethod::PooledSd => "pooled SD / c4",
        SigmaMethod::Auto => match chart {
            ChartType::P | ChartType::Np => "sqrt(p-bar (1 - p-bar))",
            ChartType::C => "sqrt(c-bar)",
            ChartType::U => "sqrt(u-bar)",
            _ => "given",
        },
    }
}
/// The summary of every measurement (each value of each subgroup, each count).
pub(super) fn summary(data: &Data) -> Summary {
    match data {
        // Single values are the measurements: no copy.
        Data::Values(values) => summarize(values),
        _ => summarize(&measurements(data)),
    }
}

fn measurements(data: &Data) -> Vec<f64> {
    let mut out = Vec::with_capacity(data.len());
    for i in 0..data.len() {
        match data.observation(i) {
            Observation::Value(x) => out.push(x),
            Observation::Subgroup(s) => out.extend_from_slice(s),
            Observation::Count { count, .. } => out.push(count),
        }
    }
    out
}

pub(super) fn original_scale(t: &Transform, p: &Point) -> [Option<f64>; 4] {
    let back = |x: f64| Some(t.invert(x));
    [
        back(p.statistic),
        back(p.center),
        p.lcl.and_then(back),
        p.ucl.and_then(back),
    ]
}

/// Center and sigma on the scale the chart plots. The np chart plots counts of defectives, so
/// with a fixed sample size n its center is n·p̄ and its sigma √(n·p̄(1−p̄)) (Montgomery,
/// *Introduction to Statistical Quality Control*, 6th ed., §7.2.3; qcc's `stats.np`/`sd.np`
/// report the same). With varying n there is no single value: both are None, and each point
/// carries its own center and limits. Every other chart plots on the estimate's own scale.
pub(super) fn charted_scale(chart: &Chart, data: &Data) -> (Option<f64>, Option<f64>) {
    let (p, sigma) = (chart.center(), chart.sigma());
    if chart.spec.chart != ChartType::Np {
        return (Some(p), Some(sigma));
    }
    let mut sizes = (0..data.len()).filter_map(|i| match data.observation(i) {
        Observation::Count { size, .. } => Some(size),
        _ => None,
    });
    let first = sizes.next();
    match first {
        Some(n) if sizes.all(|m| m == n) => (Some(n * p), Some((n * p * (1.0 - p)).sqrt())),
        _ => (None, None),
    }
}

/// A signal of a Nelson test or of a named rule, as the reports list them.
pub(super) struct Signal<'a> {
    pub index: usize,
    pub first: usize,
    pub last: usize,
    pub what: Found<'a>,
}

/// What fired.
#[derive(Clone, Copy)]
pub(super) enum Found<'a> {
    Test(NelsonRule),
    Rule(&'a CustomRule),
}

/// Every signal of a series by point: Nelson's tests first at a point (by number), then the
/// named rules (in the order written).
pub(super) fn signals(series: &Series) -> Vec<Signal<'_>> {
    let tests = series.signals.iter().map(|s| Signal {
        index: s.index,
        first: s.first,
        last: s.last,
        what: Found::Test(s.test),
    });
    let rules = series.rules.custom().rules();
    let named = series.rule_signals.iter().filter_map(|s| {
        Some(Signal {
            index: s.index,
            first: s.first,
            last: s.last,
            what: Found::Rule(rules.get(s.rule)?),
        })
    });
    let mut all: Vec<Signal<'_>> = tests.chain(named).collect();
    // Stable: at a point the tests (pushed first) stay before the rules.
    all.sort_by_key(|s| s.index);
    all
}
