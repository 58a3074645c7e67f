//! `llmscope-shim explain`: why each signal episode of a CSV column fired (issue 13's fixed
//! contract, README "llmscope-shim explain"). It takes `analyze`'s flags, charts `--column`
//! the same way, and hands every episode to the engine's `explain` (shape, what else changed
//! among the file's other numeric columns, suggested causes, similar earlier windows).

mod output;

use crate::analyze::{self, AnalyzeArgs, AnalyzeError};
use clap::Args;
use llmscope_spc::columns::is_index_column;
use llmscope_spc::explain::cause::Domain;
use llmscope_spc::explain::{explain, EpisodeReport, Stream};
use std::io::Write;

/// The flags of `llmscope-shim explain`: `analyze`'s, with `--format json|text`.
#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The chart and the file, as `analyze` takes them.
    #[command(flatten)]
    pub analyze: AnalyzeArgs,
    /// Columns of the same kind as --column (comma-separated), searched for similar earlier
    /// windows besides the column itself [default: every other numeric column]. A pressure's
    /// spike says little about a temperature's.
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub kin: Option<Vec<String>>,
}

/// What the outputs show.
pub struct Explained {
    /// The column explained.
    pub column: String,
    /// Whose words the causes are in.
    pub domain: Domain,
    /// The other columns read (what else changed, similar windows).
    pub others: Vec<String>,
    /// Columns left out because their first row is not a number (text, dates).
    pub skipped: Vec<String>,
    /// Every episode, explained.
    pub episodes: Vec<EpisodeReport>,
}

/// `explain` as the command line runs it.
pub fn run(args: &ExplainArgs) -> Result<(), AnalyzeError> {
    let a = &args.analyze;
    let explained = explained(a, args.kin.as_deref(), &analyze::read_source(&a.file)?)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    // explained() refused csv.
    match a.format {
        analyze::Format::Json => output::json(&explained, &mut out),
        _ => output::text(&explained, &mut out),
    }
    .and_then(|()| out.flush())
    .map_err(AnalyzeError::Write)
}

/// The explanation of the CSV `bytes` (named `args.file`) under `args`; `kin` names the
/// columns searched for similar windows (`None`: every other numeric column).
pub fn explained(
    args: &AnalyzeArgs,
    kin: Option<&[String]>,
    bytes: &[u8],
) -> Result<Explained, AnalyzeError> {
    if args.format == analyze::Format::Csv {
        return Err(AnalyzeError::Flags(
            "--format csv: explain writes json or text".into(),
        ));
    }
    let spec = analyze::spec_from(args)?;
    let path = &args.file;
    let (headers, numeric) = header_and_numeric(bytes, path)?;
    let column = match &args.column {
        Some(c) => c.clone(),
        None => analyze::read_column(bytes, path, None)?.0,
    };
    let mut names = vec![column.clone()];
    let mut skipped = Vec::new();
    for (h, &is_number) in headers.iter().zip(&numeric) {
        if *h == column || is_index_column(h) {
            continue;
        }
        if is_number {
            names.push(h.clone());
        } else {
            skipped.push(h.clone());
        }
    }
    let values = names
        .iter()
        .map(|n| analyze::read_column(bytes, path, Some(n)).map(|(_, v)| v))
        .collect::<Result<Vec<_>, _>>()?;
    let streams: Vec<Stream<'_>> = names
        .iter()
        .zip(&values)
        .map(|(name, v)| Stream { name, values: v })
        .collect();
    let domain = domain_of(&column);
    let kin = kin_indexes(&names, kin)?;
    let episodes =
        explain(&streams, 0, &kin, &spec, domain).map_err(|cause| AnalyzeError::Engine {
            path: path.clone(),
            column: column.clone(),
            cause,
        })?;
    Ok(Explained {
        column,
        domain,
        others: names[1..].to_vec(),
        skipped,
        episodes,
    })
}

/// The indexes in `names` (`names[0]` is the column explained) of the `kin` columns.
fn kin_indexes(names: &[String], kin: Option<&[String]>) -> Result<Vec<usize>, AnalyzeError> {
    let Some(kin) = kin else {
        return Ok((1..names.len()).collect());
    };
    kin.iter()
        .filter(|k| !k.is_empty() && **k != names[0])
        .map(|k| {
            names.iter().position(|n| n == k).ok_or_else(|| {
                AnalyzeError::Flags(format!(
                    "--kin: '{k}' is not a numeric column of the file (they are: {})",
                    names[1..].join(", ")
                ))
            })
        })
        .collect()
}

/// A probe metric's column speaks of providers; any other, of machines.
fn domain_of(column: &str) -> Domain {
    let llm = [
        "ttft",
        "total_ms",
        "tokens_per_s",
        "latency",
        "error_rate",
        "cost",
    ];
    if llm.iter().any(|k| column.to_ascii_lowercase().contains(k)) {
        Domain::Llm
    } else {
        Domain::Plant
    }
}

/// The header, and whether each column's first data row holds a number.
fn header_and_numeric(bytes: &[u8], path: &str) -> Result<(Vec<String>, Vec<bool>), AnalyzeError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let csv_error = |at: &str, cause| AnalyzeError::Csv {
        path: path.to_string(),
        at: at.to_string(),
        cause,
    };
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error("cannot read the header row", e))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut first = csv::StringRecord::new();
    reader
        .read_record(&mut first)
        .map_err(|e| csv_error("line 2", e))?;
    let numeric = (0..headers.len())
        .map(|i| {
            first
                .get(i)
                .is_some_and(|c| c.trim().parse::<f64>().is_ok())
        })
        .collect();
    Ok((headers, numeric))
}
