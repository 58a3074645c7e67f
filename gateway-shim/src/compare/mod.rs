//! `llmscope-shim compare`: which target to use, from probe results. The flags and the JSON
//! output are a fixed contract (issue 12, README "llmscope-shim compare"); this module reads
//! the results ([`input`]), runs the engine's comparison and recommendation
//! (`llmscope_spc::compare`) and hands both to one of the output formats ([`output`]).
//!
//! Cost is not known here yet: the price table lives in the Worker (`workers/src/prices.rs`).
//! Every target's `cost` is null, cost is neither constrained nor scored, and the
//! recommendation's caveats say so (and name `--max-cost-usd` and `--volume` when given).

mod error;
mod input;
mod output;

pub use error::CompareError;

use clap::{Args, ValueEnum};
use input::TargetResults;
use llmscope_spc::compare::recommend::{
    recommend, Candidate, Constraints, Labels, Recommendation, Weights,
};
use llmscope_spc::compare::{compare, CompareOptions, Comparison, QualityCounts, StreamInput};
use std::io::{Read, Write};

type Result<T> = std::result::Result<T, CompareError>;

/// The flags of `llmscope-shim compare` (README, "compare"); the field docs are the help text.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Probe results: the JSON array GET /results answers (targets mixed), or the app's
    /// telemetry export; - for standard input.
    pub results: String,
    /// The metric compared.
    #[arg(long, value_enum, default_value_t = Metric::TtftMs)]
    pub metric: Metric,
    /// Highest acceptable TTFT P95 in ms.
    #[arg(long, value_name = "X")]
    pub max_ttft_p95_ms: Option<f64>,
    /// Highest acceptable error rate (0 to 1).
    #[arg(long, value_name = "Y")]
    pub max_error_rate: Option<f64>,
    /// Lowest acceptable quality pass rate (0 to 1).
    #[arg(long, value_name = "Z")]
    pub min_pass_rate: Option<f64>,
    /// Highest acceptable cost per successful request in USD (not applied yet: the shim has
    /// no price table).
    #[arg(long, value_name = "W")]
    pub max_cost_usd: Option<f64>,
    /// Weights of the criteria, e.g. cost=1,latency=1,speed=1,quality=1; keys left out weigh 1.
    #[arg(long, value_name = "LIST")]
    pub weights: Option<String>,
    /// Requests per month for the cost projection (not applied yet: no price table).
    #[arg(long, value_name = "N")]
    pub volume: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `--metric`: the probe result field compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Metric {
    /// Time to the first visible text.
    #[value(name = "ttft_ms")]
    TtftMs,
    /// Time to the end of the stream.
    #[value(name = "total_ms")]
    TotalMs,
    /// Output speed.
    #[value(name = "tokens_per_s")]
    TokensPerS,
}

impl Metric {
    /// The field's name, as in the results and the JSON output.
    pub fn field(self) -> &'static str {
        match self {
            Metric::TtftMs => "ttft_ms",
            Metric::TotalMs => "total_ms",
            Metric::TokensPerS => "tokens_per_s",
        }
    }

    /// Its name in sentences, and its unit.
    fn words(self) -> (&'static str, &'static str) {
        match self {
            Metric::TtftMs => ("TTFT", "ms"),
            Metric::TotalMs => ("total time", "ms"),
            Metric::TokensPerS => ("speed", "tokens/s"),
        }
    }

    fn value(self, s: &input::Success) -> Option<f64> {
        match self {
            Metric::TtftMs => s.ttft_ms,
            Metric::TotalMs => s.total_ms,
            Metric::TokensPerS => s.tokens_per_s,
        }
    }
}

/// `--format`: how the report is written.
// Each variant is its flag value, which clap lists; a doc comment would add help text to it.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Json,
    Text,
}

/// What the outputs show.
pub struct Report {
    /// The metric compared.
    pub metric: Metric,
    /// The engine's comparison of that metric.
    pub comparison: Comparison,
    /// The engine's recommendation, with the shim's cost caveats added.
    pub recommendation: Recommendation,
}

/// `compare` as the command line runs it: the results file (or standard input), the report to
/// stdout.
pub fn run(args: &CompareArgs) -> Result<()> {
    let bytes = read_source(&args.results)?;
    let report = report(args, &bytes)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        Format::Json => output::json(&report, &mut out),
        Format::Text => output::text(&report, &mut out),
    }
    .and_then(|()| out.flush())
    .map_err(CompareError::Write)
}

fn read_source(path: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let read = if path == "-" {
        std::io::stdin().lock().read_to_end(&mut bytes).map(drop)
    } else {
        std::fs::read(path).map(|b| bytes = b)
    };
    read.map_err(|cause| CompareError::Open {
        path: path.to_string(),
        cause,
    })?;
    Ok(bytes)
}

/// The comparison and recommendation of the results in `bytes` (named `args.results`).
pub fn report(args: &CompareArgs, bytes: &[u8]) -> Result<Report> {
    let weights = parse_weights(args.weights.as_deref())?;
    check_rates(args)?;
    let targets = input::read(bytes, &args.results)?;
    let engine = |cause| CompareError::Engine {
        path: args.results.clone(),
        cause,
    };
    let comparison = compare_metric(&targets, args.metric, None).map_err(engine)?;
    // The recommendation's latency is TTFT P95 and its speed median tokens/s, whatever the
    // metric shown.
    let ttft = match args.metric {
        Metric::TtftMs => None,
        _ => Some(compare_metric(&targets, Metric::TtftMs, None).map_err(engine)?),
    };
    // Only speed's summaries are used: pairs against the first target alone keep its cost low.
    let speed = match args.metric {
        Metric::TokensPerS => None,
        _ => Some(compare_metric(&targets, Metric::TokensPerS, Some(0)).map_err(engine)?),
    };
    let ttft = ttft.as_ref().unwrap_or(&comparison);
    let speed = speed.as_ref().unwrap_or(&comparison);
    let candidates = candidates(&comparison, ttft, speed);
    let constraints = Constraints {
        max_latency: args.max_ttft_p95_ms,
        max_error_rate: args.max_error_rate,
        min_pass_rate: args.min_pass_rate,
        // Not known yet: passed on, every candidate would be excluded for want of a price.
        max_cost: None,
    };
    let mut recommendation = recommend(
        &candidates,
        &ttft.pairs,
        &constraints,
        &weights,
        &Labels::default(),
    )
    .map_err(flag_error)?;
    recommendation
        .recommendation
        .caveats
        .extend(cost_caveats(args, &weights));
    Ok(Report {
        metric: args.metric,
        comparison,
        recommendation,
    })
}

/// The engine's comparison of one metric over every target: every pair, or those of the
/// `reference` target.
fn compare_metric(
    targets: &[TargetResults],
    metric: Metric,
    reference: Option<usize>,
) -> std::result::Result<Comparison, llmscope_spc::SpcError> {
    let values: Vec<Vec<f64>> = targets
        .iter()
        .map(|t| t.ok.iter().filter_map(|s| metric.value(s)).collect())
        .collect();
    let streams: Vec<StreamInput<'_>> = targets
        .iter()
        .zip(&values)
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
        .collect();
    let (name, unit) = metric.words();
    let options = CompareOptions {
        metric: name.into(),
        unit: unit.into(),
        reference,
        ..CompareOptions::default()
    };
    compare(&streams, &options)
}

/// What the recommendation knows of each target. A target is judged out of control when the
/// metric shown or TTFT (the latency criterion) is.
fn candidates(shown: &Comparison, ttft: &Comparison, speed: &Comparison) -> Vec<Candidate> {
    let rows = shown.targets.iter().zip(&ttft.targets).zip(&speed.targets);
    rows.map(|((s, t), v)| Candidate {
        name: s.name.clone(),
        n: s.n,
        latency: Some(t.p95).filter(|i| i.value.is_finite()),
        speed: Some(v.p50).filter(|i| i.value.is_finite()),
        error_rate: s.error_rate,
        pass_rate: s.pass_rate,
        cost_per_success: None,
        in_control: match (s.in_control, t.in_control) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (shown, _) => shown,
        },
    })
    .collect()
}

/// What is not there yet: cost.
fn cost_caveats(args: &CompareArgs, weights: &Weights) -> Vec<String> {
    let mut out = vec![String::from(
        "cost is not known to the shim yet (no price table): every target's cost is null",
    )];
    if weights.cost > 0.0 {
        out.push("cost is not scored: no target has a price".into());
    }
    if let Some(w) = args.max_cost_usd {
        out.push(format!(
            "--max-cost-usd {w} was not applied: cost is not available yet"
        ));
    }
    if let Some(n) = args.volume {
        out.push(format!(
            "--volume {n}: no monthly projection, cost is not available yet"
        ));
    }
    out
}

/// The rate limits are fractions: 5 % is 0.05.
fn check_rates(args: &CompareArgs) -> Result<()> {
    for (flag, v) in [
        ("--max-error-rate", args.max_error_rate),
        ("--min-pass-rate", args.min_pass_rate),
    ] {
        if let Some(v) = v.filter(|v| !(0.0..=1.0).contains(v)) {
            return Err(CompareError::Flags(format!(
                "{flag}: {v} is not a rate between 0 and 1 (5 % is 0.05)"
            )));
        }
    }
    Ok(())
}

/// `--weights cost=1,latency=1,speed=1,quality=1`: keys left out weigh 1.
pub fn parse_weights(list: Option<&str>) -> Result<Weights> {
    let mut w = Weights::default();
    let Some(list) = list else { return Ok(w) };
    let mut seen = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = |why: String| CompareError::Flags(format!("--weights: '{part}': {why}"));
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

/// The engine names the recommendation's settings in snake_case; here they are flags.
fn flag_error(e: llmscope_spc::SpcError) -> CompareError {
    let llmscope_spc::SpcError::InvalidParameter { name, message } = &e else {
        return CompareError::Flags(e.to_string());
    };
    let flag = match *name {
        "max_latency" => "--max-ttft-p95-ms",
        "max_error_rate" => "--max-error-rate",
        "min_pass_rate" => "--min-pass-rate",
        "max_cost" => "--max-cost-usd",
        _ => "--weights",
    };
    CompareError::Flags(format!("{flag}: {message}"))
}
