//! `llmscope-shim compare`: which target to use, from probe results. The flags and the JSON
//! output are a fixed contract (issue 12, README "llmscope-shim compare"); this module reads
//! the results ([`input`]), has `llmscope_protocol::compare` build the report the Worker's
//! `GET /compare` also answers, and writes it as JSON or as text ([`output`]). Prices are the
//! shipped table overlaid with `LLMSCOPE_PRICES` from the environment, as in the Worker.

mod error;
mod input;
mod output;

pub use error::CompareError;

pub use llmscope_protocol::compare::{Metric, Report};

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, ValueEnum};
use llmscope_protocol::compare::{build, parse_weights, Settings};
use llmscope_protocol::prices::PriceTable;
use std::io::{Read, Write};

type Result<T> = std::result::Result<T, CompareError>;

/// The flags of `llmscope-shim compare` (README, "compare"); the field docs are the help text.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Probe results: the JSON array GET /results answers (targets mixed), or the app's
    /// telemetry export; - for standard input.
    pub results: String,
    /// The metric compared.
    #[arg(long, default_value = "ttft_ms", value_parser = metric_parser())]
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
    /// Highest acceptable cost per successful request in USD; a target whose price is unknown
    /// is not recommended under it. Prices: the shipped table, overlaid by LLMSCOPE_PRICES.
    #[arg(long, value_name = "W")]
    pub max_cost_usd: Option<f64>,
    /// Weights of the criteria, e.g. cost=1,latency=1,speed=1,quality=1; keys left out weigh 1.
    #[arg(long, value_name = "LIST")]
    pub weights: Option<String>,
    /// Requests sent per month, for the monthly cost: cost per request (billed failures
    /// included) × N.
    #[arg(long, value_name = "N")]
    pub volume: Option<u64>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `--metric`'s values are the result fields; clap lists them in the help.
fn metric_parser() -> impl TypedValueParser<Value = Metric> {
    PossibleValuesParser::new(Metric::ALL.map(Metric::field))
        .map(|field| Metric::from_field(&field).unwrap_or_default())
}

/// `--format`: how the report is written.
// Each variant is its flag value, which clap lists; a doc comment would add help text to it.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Json,
    Text,
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
    let settings = Settings {
        metric: args.metric,
        max_ttft_p95_ms: args.max_ttft_p95_ms,
        max_error_rate: args.max_error_rate,
        min_pass_rate: args.min_pass_rate,
        max_cost_usd: args.max_cost_usd,
        weights: parse_weights(args.weights.as_deref().unwrap_or("")).map_err(flag_error)?,
        volume: args.volume,
        prices: prices()?,
    };
    // Checked before the file is read: a typo in a flag should not wait for a large file.
    settings.check().map_err(flag_error)?;
    let targets = input::read(bytes, &args.results)?;
    build(&targets, &settings).map_err(|e| match e {
        llmscope_protocol::compare::CompareError::Engine(cause) => CompareError::Engine {
            path: args.results.clone(),
            cause,
        },
        setting => flag_error(setting),
    })
}

/// The shipped table overlaid with `LLMSCOPE_PRICES` when it is set. A bad one stops the run
/// (unlike the Worker, which keeps probing): a report priced otherwise than asked would mislead.
fn prices() -> Result<PriceTable> {
    let value = match std::env::var("LLMSCOPE_PRICES") {
        Ok(v) => Some(v),
        Err(std::env::VarError::NotPresent) => None,
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(CompareError::Flags(
                "LLMSCOPE_PRICES is not UTF-8 text: it must be a JSON document".into(),
            ))
        }
    };
    Ok(PriceTable::with_override(value.as_deref())?)
}

/// A setting's error, named as its flag.
fn flag_error(e: llmscope_protocol::compare::CompareError) -> CompareError {
    use llmscope_protocol::compare::CompareError as E;
    match e {
        E::Setting { name, message } => {
            CompareError::Flags(format!("--{}: {message}", name.replace('_', "-")))
        }
        E::Engine(e) => CompareError::Flags(e.to_string()),
    }
}
