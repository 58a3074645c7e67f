//! `llmscope-shim forecast`: when will a CSV column cross its limit (issue 14's fixed
//! contract, README "llmscope-shim forecast"). It reads one column as `analyze` does (errors
//! name the line and column), hands it to the engine's [`outlook`] with its default model
//! (the line, or the wear curve when the degradation steepens), and writes the degradation,
//! the forecast band, the time to limit and the predictive alert.
//!
//! The limits: `--limit spec` uses `--lsl`/`--usl`; `--limit control` the individuals chart's
//! limits (moving-range sigma), estimated on the points before the degradation starts when
//! there are at least [`BASELINE_MIN`] of them, else on all points. Without `--limit`, spec
//! when a spec limit is given, else control.

mod output;

use crate::analyze::{self, AnalyzeError};
use clap::{Args, ValueEnum};
use llmscope_spc::forecast::{degradation, outlook, Outlook, Settings, Side};
use llmscope_spc::{analyze as chart, Baseline, ChartSpec, ChartType, Data};
use std::io::Write;

/// The fewest points before the degradation that set the control limits on their own.
pub const BASELINE_MIN: usize = 20;
/// The longest horizon, in points (the band has one row per point).
pub const HORIZON_MAX: usize = 1_000_000;

/// The flags of `llmscope-shim forecast` (README); the field docs are the help text.
#[derive(Args, Debug)]
pub struct ForecastArgs {
    /// CSV file with a header row, or - for standard input.
    pub file: String,
    /// The column to forecast. Default: the first numeric column that is not an index.
    #[arg(long, value_name = "NAME")]
    pub column: Option<String>,
    /// Lower spec limit.
    #[arg(long, value_name = "X")]
    pub lsl: Option<f64>,
    /// Upper spec limit (or SLO).
    #[arg(long, value_name = "X")]
    pub usl: Option<f64>,
    /// Which limits the forecast is held against. Default: spec when --lsl or --usl is given,
    /// else control.
    #[arg(long, value_enum)]
    pub limit: Option<LimitArg>,
    /// Points to forecast past the last one; the alert's horizon.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub horizon: usize,
    /// The predictive alert fires when P(crossing within the horizon) is at least P.
    #[arg(long, value_name = "P", default_value_t = 0.8)]
    pub probability: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
}

/// `--limit`: control limits or spec limits.
// Each variant is its flag value, which clap lists; a doc comment would add help text to it.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LimitArg {
    Control,
    Spec,
}

/// `--format`: how the outlook is written.
// Each variant is its flag value, which clap lists; a doc comment would add help text to it.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Json,
    Text,
}

/// What the outputs show.
pub struct Forecast {
    /// The column forecast.
    pub column: String,
    /// The limits held against.
    pub kind: LimitArg,
    /// The engine's outlook.
    pub outlook: Outlook,
}

/// `forecast` as the command line runs it.
pub fn run(args: &ForecastArgs) -> Result<(), AnalyzeError> {
    check(args)?;
    let f = forecast(args, &analyze::read_source(&args.file)?)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        FormatArg::Json => output::json(&f, &mut out),
        FormatArg::Text => output::text(&f, args.horizon, &mut out),
    }
    .and_then(|()| out.flush())
    .map_err(AnalyzeError::Write)
}

/// The outlook of the CSV `bytes` (named `args.file`) under `args`.
pub fn forecast(args: &ForecastArgs, bytes: &[u8]) -> Result<Forecast, AnalyzeError> {
    let path = &args.file;
    let (column, values) = analyze::read_column(bytes, path, args.column.as_deref())?;
    let engine = |cause| AnalyzeError::Engine {
        path: path.clone(),
        column: column.clone(),
        cause,
    };
    let kind = args
        .limit
        .unwrap_or(if args.lsl.is_some() || args.usl.is_some() {
            LimitArg::Spec
        } else {
            LimitArg::Control
        });
    let (lower, upper) = match kind {
        LimitArg::Spec => (args.lsl, args.usl),
        LimitArg::Control => control_limits(&values).map_err(|cause| match cause {
            llmscope_spc::SpcError::ZeroSigma { .. } => AnalyzeError::Data(format!(
                "{path}: column '{column}': the values do not vary, so there are no control \
                 limits to reach: give --lsl or --usl"
            )),
            cause => engine(cause),
        })?,
    };
    let settings = Settings {
        horizon: args.horizon,
        probability: args.probability,
        lower,
        upper,
        ..Settings::default()
    };
    let outlook = outlook(&values, &settings).map_err(engine)?;
    Ok(Forecast {
        column,
        kind,
        outlook,
    })
}

/// The individuals chart's (LCL, UCL) at the last point, the baseline before the degradation.
fn control_limits(values: &[f64]) -> Result<(Option<f64>, Option<f64>), llmscope_spc::SpcError> {
    let mut spec = ChartSpec::new(ChartType::Individuals);
    if let Some(d) = degradation(values) {
        if d.start >= BASELINE_MIN {
            spec.baseline = Baseline::FirstN { n: d.start };
        }
    }
    let c = chart(&spec, &Data::Values(values.to_vec()))?;
    let last = c.primary.points().last();
    Ok((last.and_then(|p| p.lcl), last.and_then(|p| p.ucl)))
}

/// The flags that do not fit, before the file is read.
fn check(args: &ForecastArgs) -> Result<(), AnalyzeError> {
    let flags = |m: &str| Err(AnalyzeError::Flags(m.to_string()));
    if args.limit == Some(LimitArg::Spec) && args.lsl.is_none() && args.usl.is_none() {
        return flags("--limit spec needs --lsl X or --usl X (or use --limit control)");
    }
    if args.horizon == 0 || args.horizon > HORIZON_MAX {
        return flags("--horizon: give a number of points from 1 to 1000000");
    }
    if !(args.probability > 0.0 && args.probability <= 1.0) {
        return flags("--probability: give a probability above 0 and at most 1, e.g. 0.8");
    }
    for (name, v) in [("--lsl", args.lsl), ("--usl", args.usl)] {
        if v.is_some_and(|v| !v.is_finite()) {
            return flags(&format!("{name}: give a finite number"));
        }
    }
    if let (Some(lsl), Some(usl)) = (args.lsl, args.usl) {
        if lsl >= usl {
            return flags(&format!("--lsl {lsl} must be below --usl {usl}"));
        }
    }
    Ok(())
}

/// The contract's name of the limit the forecast heads for.
pub fn limit_name(kind: LimitArg, side: Side) -> &'static str {
    match (kind, side) {
        (LimitArg::Spec, Side::Upper) => "usl",
        (LimitArg::Spec, Side::Lower) => "lsl",
        (LimitArg::Control, Side::Upper) => "ucl",
        (LimitArg::Control, Side::Lower) => "lcl",
    }
}
