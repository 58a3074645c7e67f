//! The comparison report of issue 12: which target to use, from probe results. One builder for
//! every part that answers it — `llmscope-shim compare`, the Worker's `GET /compare` and the
//! dashboard's Compare view — so the same results give the same JSON everywhere. The statistics
//! are the engine's (`llmscope_spc::compare`); this module chooses what is compared and
//! serializes the contract's fields (`json.rs`).
//!
//! The recommendation judges latency by TTFT P95 and speed by median tokens/s, whatever metric
//! the report shows, and cost by the cost per successful request (`cost.rs` says how each cost
//! is computed, from the results and the price table of [`Settings::prices`]).

mod cost;
mod group;
mod json;

pub use cost::monthly;
pub use group::{group, Billed, Spend, Success, TargetResults, Tokens};

use crate::prices::PriceTable;

use llmscope_spc::compare::recommend::{
    recommend, Candidate, Constraints, Labels, Recommendation, Weights,
};
use llmscope_spc::compare::{
    compare, summarize, CompareOptions, Comparison, QualityCounts, StreamInput,
};
use llmscope_spc::SpcError;
use std::fmt;

/// The probe result field compared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Metric {
    /// Time to the first visible text.
    #[default]
    TtftMs,
    /// Time to the end of the stream.
    TotalMs,
    /// Output speed.
    TokensPerS,
}

impl Metric {
    /// Every metric, in the contract's order.
    pub const ALL: [Metric; 3] = [Metric::TtftMs, Metric::TotalMs, Metric::TokensPerS];

    /// The field's name, as in the results and the JSON output.
    pub fn field(self) -> &'static str {
        match self {
            Metric::TtftMs => "ttft_ms",
            Metric::TotalMs => "total_ms",
            Metric::TokensPerS => "tokens_per_s",
        }
    }

    /// The metric named `field`, e.g. `ttft_ms`.
    pub fn from_field(field: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.field() == field)
    }

    /// Its name in sentences, and its unit.
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            Metric::TtftMs => ("TTFT", "ms"),
            Metric::TotalMs => ("total time", "ms"),
            Metric::TokensPerS => ("speed", "tokens/s"),
        }
    }

    fn value(self, s: &Success) -> Option<f64> {
        match self {
            Metric::TtftMs => s.ttft_ms,
            Metric::TotalMs => s.total_ms,
            Metric::TokensPerS => s.tokens_per_s,
        }
    }
}

/// What the user asks: the metric shown, the limits (`None`: no limit), the weights and the
/// monthly volume, and the prices to cost the targets with. The field names but `prices` are
/// the CLI's flags in snake_case and the Worker's query parameters; `prices` comes from
/// `LLMSCOPE_PRICES` (the Worker's `Config::prices`, the CLI's environment), and
/// `..Settings::default()` gives the shipped table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    /// The metric compared.
    pub metric: Metric,
    /// Highest acceptable TTFT P95 in ms.
    pub max_ttft_p95_ms: Option<f64>,
    /// Highest acceptable error rate (0 to 1).
    pub max_error_rate: Option<f64>,
    /// Lowest acceptable quality pass rate (0 to 1).
    pub min_pass_rate: Option<f64>,
    /// Highest acceptable cost per successful request in USD.
    pub max_cost_usd: Option<f64>,
    /// The criteria's weights.
    pub weights: Weights,
    /// Requests per month, for the cost projection.
    pub volume: Option<u64>,
    /// The prices of what the results' `cost_usd` does not price (default: the shipped table;
    /// the CLI and the Worker pass the shipped one overlaid with `LLMSCOPE_PRICES`).
    pub prices: PriceTable,
}

/// A target's cost (the contract's `cost` object, plus `prices_taken`); `cost.rs` has the
/// definitions.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Cost {
    /// Mean cost of a request, failed ones included (0 for one that is not billed).
    pub per_request_usd: Option<f64>,
    /// Total cost / successful requests; null when none succeeded.
    pub per_success_usd: Option<f64>,
    /// The table's USD per million tokens at 3 input tokens to 1 output token; null when the
    /// table does not know the model.
    pub blended_3to1_per_mtok: Option<f64>,
    /// USD per million tokens at the target's measured input:cached:output mix.
    pub blended_measured_per_mtok: Option<f64>,
    /// `per_request_usd` × the monthly volume, when a volume is given ([`monthly`] says why
    /// per request).
    pub monthly_usd: Option<f64>,
    /// The date of the table's row for the target (YYYY-MM-DD), which prices the 3:1 blend and
    /// the results without `cost_usd`; null when the table does not know the model.
    pub prices_taken: Option<String>,
}

/// The report: the comparison of the metric shown, the recommendation, and each target's cost
/// (in the comparison's order; `None` where the price is unknown).
#[derive(Clone, Debug)]
pub struct Report {
    /// The metric shown.
    pub metric: Metric,
    /// The engine's comparison of that metric.
    pub comparison: Comparison,
    /// The engine's recommendation, with the caveats of what is not known.
    pub recommendation: Recommendation,
    /// Each target's cost.
    pub costs: Vec<Option<Cost>>,
    /// The price table's date ([`PriceTable::taken`]): its rows may be older.
    pub prices_taken: String,
}

/// Why there is no report.
#[derive(Debug, PartialEq)]
pub enum CompareError {
    /// A setting is unusable; `name` is its [`Settings`] field.
    Setting {
        /// The setting, e.g. `max_error_rate`.
        name: &'static str,
        /// Why, and what would do.
        message: String,
    },
    /// The engine refused the streams.
    Engine(SpcError),
}

impl fmt::Display for CompareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompareError::Setting { name, message } => write!(f, "{name}: {message}"),
            CompareError::Engine(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CompareError {}

impl Settings {
    /// Whether the settings are usable, before any result is read.
    pub fn check(&self) -> Result<(), CompareError> {
        check_rates(self)?;
        recommend(
            &[],
            &[],
            &self.constraints(),
            &self.weights,
            &Labels::default(),
        )
        .map(drop)
        .map_err(setting_error)
    }

    fn constraints(&self) -> Constraints {
        Constraints {
            max_latency: self.max_ttft_p95_ms,
            max_error_rate: self.max_error_rate,
            min_pass_rate: self.min_pass_rate,
            max_cost: self.max_cost_usd,
        }
    }
}

/// The comparison and recommendation of `targets` (see [`group`]) under `settings`.
pub fn build(targets: &[TargetResults], settings: &Settings) -> Result<Report, CompareError> {
    build_against(targets, settings, None)
}

/// [`build`], with the pairs of target `reference` against each other one only (many-to-one,
/// Holm over those pairs) when it is given: n − 1 tests instead of n(n − 1)/2, for the
/// dashboard's default above a few targets. The recommendation then ranks only on those
/// pairs' significant differences.
pub fn build_against(
    targets: &[TargetResults],
    settings: &Settings,
    reference: Option<usize>,
) -> Result<Report, CompareError> {
    settings.check()?;
    let metric = settings.metric;
    let comparison = compare_metric(targets, metric, reference)?;
    let ttft = match metric {
        Metric::TtftMs => None,
        _ => Some(compare_metric(targets, Metric::TtftMs, reference)?),
    };
    // Only speed's summaries are read (its median): no pairs.
    let speed = match metric {
        Metric::TokensPerS => None,
        _ => Some(summarize_metric(targets, Metric::TokensPerS)?),
    };
    let ttft = ttft.as_ref().unwrap_or(&comparison);
    let speed = speed.as_ref().unwrap_or(&comparison);
    let (costs, cost_caveats): (Vec<_>, Vec<_>) = targets
        .iter()
        .map(|t| cost::cost(t, &settings.prices, settings.volume))
        .unzip();
    let mut recommendation = recommend(
        &candidates(&comparison, ttft, speed, &costs),
        &ttft.pairs,
        &settings.constraints(),
        &settings.weights,
        &Labels::default(),
    )
    .map_err(setting_error)?;
    let caveats = &mut recommendation.recommendation.caveats;
    caveats.extend(cost_caveats.into_iter().flatten());
    caveats.extend(cost::stale_prices(targets, &costs));
    if let Some(n) = settings
        .volume
        .filter(|_| costs.iter().all(Option::is_none))
    {
        caveats.push(format!(
            "volume {n}: no monthly projection, no target's price is known"
        ));
    }
    Ok(Report {
        metric,
        comparison,
        recommendation,
        costs,
        prices_taken: settings.prices.taken.clone(),
    })
}

/// The engine's comparison of one metric over every target: every pair, or those of the
/// `reference` target.
fn compare_metric(
    targets: &[TargetResults],
    metric: Metric,
    reference: Option<usize>,
) -> Result<Comparison, CompareError> {
    let values = metric_values(targets, metric);
    let (name, unit) = metric.words();
    let options = CompareOptions {
        metric: name.into(),
        unit: unit.into(),
        reference,
        ..CompareOptions::default()
    };
    compare(&stream_inputs(targets, &values), &options).map_err(CompareError::Engine)
}

/// The engine's summaries of one metric per target, without pairs.
fn summarize_metric(targets: &[TargetResults], metric: Metric) -> Result<Comparison, CompareError> {
    let values = metric_values(targets, metric);
    let confidence = CompareOptions::default().confidence;
    Ok(Comparison {
        metric: metric.words().0.into(),
        targets: summarize(&stream_inputs(targets, &values), confidence)
            .map_err(CompareError::Engine)?,
        pairs: Vec::new(),
    })
}

/// Each target's successful values of `metric`.
fn metric_values(targets: &[TargetResults], metric: Metric) -> Vec<Vec<f64>> {
    targets
        .iter()
        .map(|t| t.ok.iter().filter_map(|s| metric.value(s)).collect())
        .collect()
}

fn stream_inputs<'a>(targets: &'a [TargetResults], values: &'a [Vec<f64>]) -> Vec<StreamInput<'a>> {
    targets
        .iter()
        .zip(values)
        .map(|(t, v)| StreamInput {
            name: &t.name,
            values: v,
            requests: t.requests,
            errors: t.errors,
            quality: Some(QualityCounts {
                passed: t.passed,
                judged: t.judged,
            }),
        })
        .collect()
}

/// What the recommendation knows of each target. A target is judged out of control when the
/// metric shown or TTFT (the latency criterion) is.
fn candidates(
    shown: &Comparison,
    ttft: &Comparison,
    speed: &Comparison,
    costs: &[Option<Cost>],
) -> Vec<Candidate> {
    let rows = shown.targets.iter().zip(&ttft.targets).zip(&speed.targets);
    rows.zip(costs)
        .map(|(((s, t), v), cost)| Candidate {
            name: s.name.clone(),
            n: s.n,
            latency: Some(t.p95).filter(|i| i.value.is_finite()),
            speed: Some(v.p50).filter(|i| i.value.is_finite()),
            error_rate: s.error_rate,
            pass_rate: s.pass_rate,
            cost_per_success: cost.as_ref().and_then(|c| c.per_success_usd),
            in_control: match (s.in_control, t.in_control) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (shown, _) => shown,
            },
        })
        .collect()
}

/// The rate limits are fractions: 5 % is 0.05.
fn check_rates(settings: &Settings) -> Result<(), CompareError> {
    for (name, v) in [
        ("max_error_rate", settings.max_error_rate),
        ("min_pass_rate", settings.min_pass_rate),
    ] {
        if let Some(v) = v.filter(|v| !(0.0..=1.0).contains(v)) {
            return Err(CompareError::Setting {
                name,
                message: format!("{v} is not a rate between 0 and 1 (5 % is 0.05)"),
            });
        }
    }
    Ok(())
}

/// The engine names the recommendation's settings its own way; here they are [`Settings`]'.
fn setting_error(e: SpcError) -> CompareError {
    let SpcError::InvalidParameter { name, message } = &e else {
        return CompareError::Engine(e);
    };
    let name = match *name {
        "max_latency" => "max_ttft_p95_ms",
        "max_error_rate" => "max_error_rate",
        "min_pass_rate" => "min_pass_rate",
        "max_cost" => "max_cost_usd",
        _ => "weights",
    };
    CompareError::Setting {
        name,
        message: message.clone(),
    }
}

/// `cost=1,latency=1,speed=1,quality=1`: keys left out weigh 1. The error names the part.
pub fn parse_weights(list: &str) -> Result<Weights, CompareError> {
    let mut w = Weights::default();
    let mut seen = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = |why: String| CompareError::Setting {
            name: "weights",
            message: format!("'{part}': {why}"),
        };
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| bad("write key=number, e.g. latency=2".into()))?;
        let v: f64 = value.trim().parse().map_err(|_| {
            bad(format!(
                "'{}' is not a number; weights are non-negative numbers",
                value.trim()
            ))
        })?;
        if !(v.is_finite() && v >= 0.0) {
            return Err(bad(format!("{v} is not a non-negative number")));
        }
        let key = key.trim();
        if seen.contains(&key) {
            return Err(bad(format!("'{key}' is given twice")));
        }
        seen.push(key);
        let slot = match key {
            "cost" => &mut w.cost,
            "latency" => &mut w.latency,
            "speed" => &mut w.speed,
            "quality" => &mut w.quality,
            other => {
                return Err(bad(format!(
                    "unknown key '{other}'; the keys are cost, latency, speed and quality"
                )))
            }
        };
        *slot = v;
    }
    Ok(w)
}
