//! `llmscope-shim analyze`: a control chart over a CSV export. The flags are a fixed contract
//! (see the README); this module turns them into an engine [`ChartSpec`], reads the file, and
//! hands the resulting [`Chart`](llmscope_spc::Chart) to one of the output formats.

mod error;
mod input;
mod output;

use error::fail;
pub use error::AnalyzeError;

type Result<T> = std::result::Result<T, AnalyzeError>;
use clap::{Args, ValueEnum};
use llmscope_spc::capability::SpecLimits;
use llmscope_spc::{analyze, ChartConfig, ChartSpec, ChartType, RuleSet, SpcError};
use std::io::Write;

use input::{Layout, Shape};
use output::Ahead;

/// The flags of `llmscope-shim analyze` (README, "analyze"); the field docs are the help text.
#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// CSV file with a header row, or - for standard input.
    pub file: String,
    /// The control chart.
    #[arg(long, value_enum, default_value_t = ChartArg::Individuals)]
    pub chart: ChartArg,
    /// The column to chart (defects or defectives for attribute charts). Default: the first
    /// numeric column that is not an index, subgroup or size column.
    #[arg(long, value_name = "NAME")]
    pub column: Option<String>,
    /// Fixed-size subgroups of N consecutive rows.
    #[arg(long, value_name = "N", conflicts_with = "subgroup_column")]
    pub subgroup_size: Option<usize>,
    /// Subgroups are consecutive rows sharing this column's value (long format).
    #[arg(long, value_name = "NAME")]
    pub subgroup_column: Option<String>,
    /// Sample sizes (p, np) or inspection units (c, u; need not be whole numbers).
    #[arg(long, value_name = "NAME")]
    pub size_column: Option<String>,
    /// The first N points (individuals) or subgroups estimate the limits (Phase I); the rest
    /// are judged against them (Phase II). Default: all points.
    #[arg(long, value_name = "N")]
    pub phase1: Option<usize>,
    /// Set aside baseline points that fail test 1 and estimate again until stable.
    #[arg(long)]
    pub exclude_out_of_control: bool,
    /// nelson (all eight), western-electric, westgard, none, a list such as 1,2,5 or 1,2:8
    /// (test:K), named rules such as "2-2s: 2 of 2 beyond 2s same side; 10-x: 10 in a row on
    /// one side", or @FILE holding them (README, "Rules"). Each chart runs those that apply.
    #[arg(long, default_value = "nelson", value_name = "SET")]
    pub tests: String,
    /// EWMA weight (default 0.2).
    #[arg(long, value_name = "X")]
    pub lambda: Option<f64>,
    /// EWMA limit width L in sigma (default 3).
    #[arg(long, value_name = "L")]
    pub width: Option<f64>,
    /// CUSUM reference value k in sigma (default 0.5).
    #[arg(long, value_name = "X")]
    pub k: Option<f64>,
    /// CUSUM decision interval h in sigma (default 4).
    #[arg(long, value_name = "X")]
    pub h: Option<f64>,
    /// CUSUM head start (fast initial response) in sigma, e.g. h/2 (default 0).
    #[arg(long, value_name = "X")]
    pub head_start: Option<f64>,
    /// Known process mean (p, c or u for attribute charts): no Phase I estimate.
    #[arg(long, value_name = "X")]
    pub mu: Option<f64>,
    /// Known process sigma, with --mu.
    #[arg(long, value_name = "X")]
    pub sigma: Option<f64>,
    /// Lower spec limit, for capability.
    #[arg(long, value_name = "X")]
    pub lsl: Option<f64>,
    /// Upper spec limit (or SLO), for capability.
    #[arg(long, value_name = "X")]
    pub usl: Option<f64>,
    /// Transform measurements before charting; limits are reported on both scales.
    #[arg(long, value_enum, default_value_t = TransformArg::None)]
    pub transform: TransformArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `--chart`: the control chart.
// Each variant is its flag value, which clap lists; a doc comment would add help text to it.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ChartArg {
    Individuals,
    XbarR,
    XbarS,
    P,
    Np,
    C,
    U,
    Ewma,
    Cusum,
}

/// `--transform`: what is charted instead of the raw values.
// Each variant is its flag value, which clap lists; a doc comment would add help text to it.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TransformArg {
    None,
    Log,
    BoxCox,
}

/// `--format`: how the report is written.
// Each variant is its flag value, which clap lists; a doc comment would add help text to it.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Json,
    Csv,
    Text,
}

/// `analyze` as the command line runs it: the file (or standard input), the report to stdout.
pub fn run(args: &AnalyzeArgs) -> Result<()> {
    let source = input::open(&args.file)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, unbuffered_stdout());
    report_from(args, |path| source.read_all(path), &mut out)
}

/// Standard output without the standard library's line buffer, which searches every write
/// for its last newline (a few MB of JSON points have none). Nothing else writes to it here.
#[cfg(unix)]
fn unbuffered_stdout() -> Box<dyn Write> {
    use std::os::fd::AsFd;
    match std::io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(std::fs::File::from(fd)),
        Err(_) => Box::new(std::io::stdout().lock()),
    }
}

#[cfg(not(unix))]
fn unbuffered_stdout() -> Box<dyn Write> {
    Box::new(std::io::stdout().lock())
}

/// All of the file named on the command line (`-`: standard input).
pub fn read_source(path: &str) -> Result<Vec<u8>> {
    input::open(path)?.read_all(path)
}

/// One column of individual values (`None`: the column `analyze` charts by default), and its
/// name; errors name the line and column as `analyze`'s do.
pub fn read_column(bytes: &[u8], path: &str, column: Option<&str>) -> Result<(String, Vec<f64>)> {
    let layout = Layout {
        column,
        subgroup_size: None,
        subgroup_column: None,
        size_column: None,
        kind: Shape::Values,
    };
    let input = input::read(bytes, path, &layout)?;
    match input.data {
        llmscope_spc::Data::Values(v) => Ok((input.column, v)),
        _ => fail!(
            Data,
            "{path}: column '{}' is not one of single values",
            input.column
        ),
    }
}

/// `analyze` on CSV read from `source` (named `args.file` in errors), the report written to
/// `out`. Public for the fuzz test (tests/fuzz.rs), which needs no file or process per input.
#[doc(hidden)]
pub fn report(args: &AnalyzeArgs, source: impl std::io::Read, out: &mut impl Write) -> Result<()> {
    report_from(args, |path| input::read_all(source, path), out)
}

/// `analyze` with the flags checked before `read` reads the input (named `args.file`).
fn report_from(
    args: &AnalyzeArgs,
    read: impl FnOnce(&str) -> Result<Vec<u8>>,
    out: &mut impl Write,
) -> Result<()> {
    let spec = spec_from(args)?;
    let layout = layout_from(args, spec.chart)?;
    let input = input::read(&read(&args.file)?, &args.file, &layout)?;
    // JSON's summary needs only the data, and so do an individuals chart's statistics: they
    // are made on the other core beside the engine.
    let ahead = spec.chart == ChartType::Individuals && args.transform == TransformArg::None;
    let (chart, extras) = std::thread::scope(|s| {
        let extras = (args.format == Format::Json).then(|| {
            s.spawn(|| {
                let summary = output::summary(&input.data);
                (summary, ahead.then(|| Ahead::new(&input.data)).flatten())
            })
        });
        let chart = analyze(&spec, &input.data);
        let extras = extras.map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        (chart, extras)
    });
    let (summary, ahead) = extras.map_or((None, None), |(s, a)| (Some(s), a));
    let chart = chart.map_err(|cause| AnalyzeError::Engine {
        path: args.file.clone(),
        column: input.column.clone(),
        cause,
    })?;
    let limits = SpecLimits {
        lsl: args.lsl,
        usl: args.usl,
        target: None,
    };
    let capability = if args.lsl.is_some() || args.usl.is_some() {
        Some(
            chart
                .capability(&input.data, &limits, 0.95)
                .map_err(AnalyzeError::Capability)?,
        )
    } else {
        None
    };
    let report = output::Report {
        file: &args.file,
        column: &input.column,
        chart: &chart,
        data: &input.data,
        capability,
        summary,
        ahead,
    };
    match args.format {
        Format::Json => output::json(&report, out),
        Format::Csv => output::csv(&report, out),
        Format::Text => output::text(&report, out),
    }
    .map_err(AnalyzeError::Write)
}

/// The flags as the engine's [`ChartConfig`], which checks them the same way for every front end.
/// The tests are parsed here (from `--tests` or the file it names with `@`) so that named rules
/// get the spec limits (`--lsl`, `--usl`) their thresholds refer to.
pub(crate) fn spec_from(args: &AnalyzeArgs) -> Result<ChartSpec> {
    let flags = |e: SpcError| AnalyzeError::Flags(flag_words(&e.to_string()));
    let tests = match args.tests.strip_prefix('@') {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                AnalyzeError::Flags(format!("--tests: cannot read the rules in {path}: {e}"))
            })?;
            text.parse::<RuleSet>().map_err(|e| {
                let message = e.to_string();
                let message = message.strip_prefix("tests: ").unwrap_or(&message);
                AnalyzeError::Flags(format!("{path}: {message}"))
            })?
        }
        None => args.tests.parse::<RuleSet>().map_err(flags)?,
    };
    let config = ChartConfig {
        chart: name(&args.chart),
        phase1: args.phase1,
        mu: args.mu,
        sigma: args.sigma,
        lambda: args.lambda,
        width: args.width,
        k: args.k,
        h: args.h,
        head_start: args.head_start,
        exclude_out_of_control: Some(args.exclude_out_of_control),
        transform: name(&args.transform),
        ..ChartConfig::default()
    };
    let mut spec = config.to_spec().map_err(flags)?;
    spec.tests = tests.with_spec_limits(args.lsl, args.usl);
    spec.validate().map_err(flags)?;
    Ok(spec)
}

fn name(v: &impl ValueEnum) -> Option<String> {
    v.to_possible_value().map(|p| p.get_name().to_string())
}

/// Engine settings are named in snake_case; on the command line they are flags.
fn flag_words(message: &str) -> String {
    match message.split_once(": ") {
        Some((setting, rest)) if !setting.contains(' ') => {
            format!("--{}: {rest}", setting.replace('_', "-"))
        }
        _ => message.to_string(),
    }
}

fn layout_from(args: &AnalyzeArgs, chart: ChartType) -> Result<Layout<'_>> {
    let grouped = args.subgroup_size.is_some() || args.subgroup_column.is_some();
    let kind = match chart {
        ChartType::XbarR | ChartType::XbarS if !grouped => {
            fail!(
                Flags,
                "X-bar charts need subgroups: add --subgroup-size N or --subgroup-column NAME"
            )
        }
        ChartType::P | ChartType::Np => Shape::Counts {
            sizes_required: true,
        },
        ChartType::C | ChartType::U => Shape::Counts {
            sizes_required: false,
        },
        _ if grouped => Shape::Subgroups,
        ChartType::Individuals => Shape::Values,
        _ => Shape::Values,
    };
    if matches!(chart, ChartType::Individuals) && grouped {
        fail!(Flags, "the individuals chart takes single values: drop --subgroup-size/--subgroup-column, or use --chart xbar-r");
    }
    if chart.is_attribute() && grouped {
        fail!(
            Flags,
            "attribute charts take one count per row: drop --subgroup-size/--subgroup-column"
        );
    }
    if args.subgroup_size.is_some_and(|n| n < 2) {
        fail!(
            Flags,
            "--subgroup-size must be at least 2 (use the individuals chart for single values)"
        );
    }
    if args.size_column.is_some() && !chart.is_attribute() {
        fail!(Flags, "--size-column applies to p, np, c and u charts");
    }
    Ok(Layout {
        column: args.column.as_deref(),
        subgroup_size: args.subgroup_size,
        subgroup_column: args.subgroup_column.as_deref(),
        size_column: args.size_column.as_deref(),
        kind,
    })
}
