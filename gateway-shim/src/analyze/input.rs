//! Reading a CSV export into engine [`Data`], with errors that name the line and column.
//!
//! Every row is checked; the first bad cell stops the run with its line and column, since an
//! analysis that silently skipped a row would not be the analysis of the file.

use super::error::{fail, AnalyzeError};

type Result<T> = std::result::Result<T, AnalyzeError>;
use llmscope_spc::Data;
use std::io::Read;

/// How rows become observations.
pub struct Layout<'a> {
    pub column: Option<&'a str>,
    pub subgroup_size: Option<usize>,
    pub subgroup_column: Option<&'a str>,
    pub size_column: Option<&'a str>,
    pub kind: Shape,
}

/// What the chart takes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Values,
    Subgroups,
    /// Counts with sizes; `sizes_required` for p and np.
    Counts {
        sizes_required: bool,
    },
}

/// The data read, and the name of the column charted.
pub struct Input {
    pub data: Data,
    pub column: String,
}

/// The file named on the command line, or standard input for `-`.
pub fn open(path: &str) -> Result<Box<dyn Read>> {
    Ok(if path == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(
            std::fs::File::open(path).map_err(|cause| AnalyzeError::Open {
                path: path.to_string(),
                cause,
            })?,
        )
    })
}

/// Reads `source`; `path` names it in errors.
pub fn read(source: impl Read, path: &str, layout: &Layout<'_>) -> Result<Input> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(source);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|cause| csv_error(path, "cannot read the header row".into(), cause))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let find = |name: &str, flag: &str| -> Result<usize> {
        headers.iter().position(|h| h == name).ok_or_else(|| {
            AnalyzeError::Data(format!(
                "{path}: {flag} '{name}' is not a column; the header has: {}",
                headers.join(", ")
            ))
        })
    };
    let subgroup_col = layout
        .subgroup_column
        .map(|n| find(n, "--subgroup-column"))
        .transpose()?;
    let size_col = layout
        .size_column
        .map(|n| find(n, "--size-column"))
        .transpose()?;
    if let Shape::Counts {
        sizes_required: true,
    } = layout.kind
    {
        if size_col.is_none() {
            fail!(
                Data,
                "p and np charts need the sample sizes: add --size-column NAME"
            );
        }
    }

    let mut records = reader.byte_records();
    let first = match records.next() {
        Some(r) => r.map_err(|cause| csv_error(path, "line 2".into(), cause))?,
        None => fail!(Data, "{path}: there are no data rows after the header"),
    };
    let value_col = match layout.column {
        Some(name) => find(name, "--column")?,
        None => first_numeric(&headers, &first, &[subgroup_col, size_col]).ok_or_else(|| {
            AnalyzeError::Data(format!(
                "{path}: no numeric column found in line 2; name one with --column"
            ))
        })?,
    };
    let value_name = headers[value_col].clone();

    let mut builder = Builder::new(layout, subgroup_col.is_some());
    let mut rows = 0usize;
    let mut line = 2u64;
    let mut record = first;
    loop {
        let cell =
            |col: usize, name: &str| -> Result<f64> { number(&record, col, name, line, path) };
        let value = cell(value_col, &value_name)?;
        let size = match size_col {
            Some(c) => Some(cell(c, &headers[c])?),
            None => None,
        };
        let key = subgroup_col.map(|c| record.get(c).unwrap_or_default());
        builder.row(value, size, key);
        rows += 1;
        match records.next() {
            None => break,
            Some(r) => {
                record = r.map_err(|cause| csv_error(path, format!("line {}", line + 1), cause))?;
                line = record.position().map_or(line + 1, |p| p.line());
            }
        }
    }
    if let Some(n) = layout.subgroup_size.filter(|&n| n > rows) {
        fail!(Data, "{path}: --subgroup-size {n} is more than the {rows} data rows: not one whole subgroup; give the rows per subgroup");
    }
    Ok(Input {
        data: builder.finish(),
        column: value_name,
    })
}

fn first_numeric(
    headers: &[String],
    row: &csv::ByteRecord,
    skip: &[Option<usize>],
) -> Option<usize> {
    let numeric = |i: &usize| parse(row.get(*i).unwrap_or_default()).is_some_and(f64::is_finite);
    let usable = |i: &usize| !skip.contains(&Some(*i)) && numeric(i);
    let named_like_index = |i: &usize| llmscope_spc::columns::is_index_column(&headers[*i]);
    (0..headers.len())
        .find(|i| usable(i) && !named_like_index(i))
        .or_else(|| (0..headers.len()).find(usable))
}

fn parse(bytes: &[u8]) -> Option<f64> {
    std::str::from_utf8(bytes).ok()?.trim().parse::<f64>().ok()
}

fn number(record: &csv::ByteRecord, col: usize, name: &str, line: u64, path: &str) -> Result<f64> {
    let Some(bytes) = record.get(col) else {
        fail!(
            Data,
            "{path}: line {line}: the row has {} cells, so column '{name}' is missing",
            record.len()
        );
    };
    let shown = String::from_utf8_lossy(bytes);
    match parse(bytes) {
        Some(x) if x.is_finite() => Ok(x),
        Some(_) => fail!(
            Data,
            "{path}: line {line}, column '{name}': '{shown}' is not a finite number"
        ),
        None if shown.trim().is_empty() => {
            fail!(
                Data,
                "{path}: line {line}, column '{name}': the cell is empty"
            )
        }
        None => fail!(
            Data,
            "{path}: line {line}, column '{name}': '{shown}' is not a number"
        ),
    }
}

/// Values reserved per subgroup at most before any are read.
const MAX_RESERVE: usize = 1024;

/// Turns rows into observations as they stream past.
struct Builder {
    shape: Shape,
    subgroup_size: Option<usize>,
    by_key: bool,
    values: Vec<f64>,
    subgroups: Vec<Vec<f64>>,
    counts: Vec<(f64, f64)>,
    key: Vec<u8>,
}

impl Builder {
    fn new(layout: &Layout<'_>, by_key: bool) -> Builder {
        Builder {
            shape: layout.kind,
            subgroup_size: layout.subgroup_size,
            by_key,
            values: Vec::new(),
            subgroups: Vec::new(),
            counts: Vec::new(),
            key: Vec::new(),
        }
    }

    fn row(&mut self, value: f64, size: Option<f64>, key: Option<&[u8]>) {
        match self.shape {
            Shape::Values => self.values.push(value),
            Shape::Counts { .. } => self.counts.push((value, size.unwrap_or(1.0))),
            Shape::Subgroups => {
                let new_group = match (key, self.subgroup_size) {
                    (Some(k), _) if self.by_key => {
                        let new = self.subgroups.is_empty() || k != self.key.as_slice();
                        if new {
                            self.key = k.to_vec();
                        }
                        new
                    }
                    (_, Some(n)) => self.subgroups.last().is_none_or(|g| g.len() >= n),
                    _ => self.subgroups.is_empty(),
                };
                if new_group {
                    // The size is a flag, not a promise of rows: bound what is reserved up front.
                    let reserve = self.subgroup_size.unwrap_or(5).min(MAX_RESERVE);
                    self.subgroups.push(Vec::with_capacity(reserve));
                }
                if let Some(g) = self.subgroups.last_mut() {
                    g.push(value);
                }
            }
        }
    }

    fn finish(self) -> Data {
        match self.shape {
            Shape::Values => Data::Values(self.values),
            Shape::Subgroups => Data::Subgroups(self.subgroups),
            Shape::Counts { .. } => Data::Counts(self.counts),
        }
    }
}

fn csv_error(path: &str, at: String, cause: csv::Error) -> AnalyzeError {
    AnalyzeError::Csv {
        path: path.to_string(),
        at,
        cause,
    }
}
