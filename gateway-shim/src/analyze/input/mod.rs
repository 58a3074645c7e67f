//! Reading a CSV export into engine [`Data`], with errors that name the line and column.
//!
//! Every row is checked; the first bad cell stops the run with its line and column, since an
//! analysis that silently skipped a row would not be the analysis of the file.

mod file;
mod plain;

use super::error::{fail, AnalyzeError};
use plain::{Cells, Plain};

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

/// The input named on the command line: a file, or standard input for `-`.
pub enum Source {
    Stdin,
    File(std::fs::File),
}

/// Opens the file named on the command line; `-` is standard input.
pub fn open(path: &str) -> Result<Source> {
    if path == "-" {
        return Ok(Source::Stdin);
    }
    match std::fs::File::open(path) {
        Ok(file) => Ok(Source::File(file)),
        Err(cause) => Err(open_error(path, cause)),
    }
}

impl Source {
    /// All of the input (see [`file`] for a file); `path` names it in errors.
    pub fn read_all(self, path: &str) -> Result<Vec<u8>> {
        match self {
            Source::Stdin => read_all(std::io::stdin().lock(), path),
            Source::File(f) => file::read_all(f).map_err(|cause| open_error(path, cause)),
        }
    }
}

/// All of `source`; `path` names it in errors.
pub fn read_all(mut source: impl Read, path: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    source
        .read_to_end(&mut bytes)
        .map_err(|cause| open_error(path, cause))?;
    Ok(bytes)
}

fn open_error(path: &str, cause: std::io::Error) -> AnalyzeError {
    AnalyzeError::Open {
        path: path.to_string(),
        cause,
    }
}

/// The rows of `bytes`; `path` names them in errors. A file without quotes (the usual export)
/// is split with `memchr`, anything else goes through the csv crate's full parser, with the
/// same rows and the same errors either way.
pub fn read(bytes: &[u8], path: &str, layout: &Layout<'_>) -> Result<Input> {
    match Plain::new(bytes) {
        Some(plain) => read_records(plain, path, layout),
        None => read_records(Csv::new(bytes), path, layout),
    }
}

/// Where rows come from: the csv crate, or the plain splitter, over bytes that live for `'a`.
trait Records<'a> {
    /// The header cells, trimmed.
    fn headers(&mut self) -> std::result::Result<Vec<String>, csv::Error>;
    /// Fills `record` with the next non-empty row and returns its line, or None at the end.
    fn next(
        &mut self,
        record: &mut csv::ByteRecord,
    ) -> std::result::Result<Option<u64>, csv::Error>;
    /// The unread rest as plain lines, when it has no quotes (see [`plain`]).
    fn plain(&self) -> Option<Plain<'a>>;
}

/// Any CSV, through the csv crate (quotes, lone CR line ends, invalid UTF-8 in the header).
struct Csv<'a>(csv::Reader<&'a [u8]>);

impl<'a> Csv<'a> {
    fn new(bytes: &'a [u8]) -> Csv<'a> {
        Csv(csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(bytes))
    }
}

impl<'a> Records<'a> for Csv<'a> {
    fn headers(&mut self) -> std::result::Result<Vec<String>, csv::Error> {
        Ok(self
            .0
            .headers()?
            .iter()
            .map(|h| h.trim().to_string())
            .collect())
    }

    fn next(
        &mut self,
        record: &mut csv::ByteRecord,
    ) -> std::result::Result<Option<u64>, csv::Error> {
        Ok(self
            .0
            .read_byte_record(record)?
            .then(|| record.position().map_or(0, |p| p.line())))
    }

    fn plain(&self) -> Option<Plain<'a>> {
        None
    }
}

/// The rows of `rows` as observations.
fn read_records<'a>(mut rows: impl Records<'a>, path: &str, layout: &Layout<'_>) -> Result<Input> {
    let headers = rows
        .headers()
        .map_err(|cause| csv_error(path, "cannot read the header row".into(), cause))?;
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

    // Where the data rows begin, for the plain reader (which reads the first row again).
    let start = rows.plain().filter(|_| subgroup_col.is_none());
    let mut record = csv::ByteRecord::new();
    let found = rows
        .next(&mut record)
        .map_err(|cause| csv_error(path, "line 2".into(), cause))?;
    if found.is_none() {
        fail!(Data, "{path}: there are no data rows after the header");
    }
    let value_col = match layout.column {
        Some(name) => find(name, "--column")?,
        None => first_numeric(&headers, &record, &[subgroup_col, size_col]).ok_or_else(|| {
            AnalyzeError::Data(format!(
                "{path}: no numeric column found in line 2; name one with --column"
            ))
        })?,
    };
    let cols = Columns {
        value: value_col,
        size: size_col,
        key: subgroup_col,
        headers: &headers,
        path,
    };
    let builder = Builder::new(layout, subgroup_col.is_some());
    let (data, count) = match start {
        Some(start) => {
            // The first row is named line 2 in errors, whatever blank lines precede it.
            cols.row(&record, 2)?;
            let cells = plain::read_rest(start, &cols)
                .map_err(|b| cols.bad(b.bad, b.cells, b.line, b.col))?;
            let count = cells.values.len();
            (builder.finish_with(cells), count)
        }
        None => read_serial(rows, record, &cols, builder)?,
    };
    if let Some(n) = layout.subgroup_size.filter(|&n| n > count) {
        fail!(Data, "{path}: --subgroup-size {n} is more than the {count} data rows: not one whole subgroup; give the rows per subgroup");
    }
    Ok(Input {
        data,
        column: headers[value_col].clone(),
    })
}

/// The columns read from each row, and what names them in errors.
pub struct Columns<'a> {
    pub value: usize,
    pub size: Option<usize>,
    key: Option<usize>,
    headers: &'a [String],
    path: &'a str,
}

impl Columns<'_> {
    /// The value and size cells of `record`, at `line`.
    fn row(&self, record: &csv::ByteRecord, line: u64) -> Result<(f64, Option<f64>)> {
        let cell = |col: usize| {
            cell_number(record.get(col)).map_err(|bad| self.bad(bad, record.len(), line, col))
        };
        let value = cell(self.value)?;
        let size = self.size.map(cell).transpose()?;
        Ok((value, size))
    }

    /// The error for a bad cell in column `col` of `line`, a row of `cells` cells.
    fn bad(&self, bad: Bad, cells: usize, line: u64, col: usize) -> AnalyzeError {
        let (path, name) = (self.path, &self.headers[col]);
        AnalyzeError::Data(match bad {
            Bad::Missing => {
                format!(
                    "{path}: line {line}: the row has {cells} cells, so column '{name}' is missing"
                )
            }
            Bad::NotFinite(shown) => {
                format!("{path}: line {line}, column '{name}': '{shown}' is not a finite number")
            }
            Bad::Empty => format!("{path}: line {line}, column '{name}': the cell is empty"),
            Bad::NotNumber(shown) => {
                format!("{path}: line {line}, column '{name}': '{shown}' is not a number")
            }
        })
    }
}

/// The rows of `rows` one by one, from `record` (line 2) on: any CSV, and subgroups by key.
fn read_serial<'a>(
    mut rows: impl Records<'a>,
    mut record: csv::ByteRecord,
    cols: &Columns<'_>,
    mut builder: Builder,
) -> Result<(Data, usize)> {
    let mut count = 0usize;
    let mut line = 2u64;
    loop {
        let (value, size) = cols.row(&record, line)?;
        let key = cols.key.map(|c| record.get(c).unwrap_or_default());
        builder.row(value, size, key);
        count += 1;
        match rows.next(&mut record) {
            Ok(None) => break,
            Ok(Some(at)) => line = at,
            Err(cause) => return Err(csv_error(cols.path, format!("line {}", line + 1), cause)),
        }
    }
    Ok((builder.finish(), count))
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

/// A cell as a number: `fast-float2` on the ASCII-trimmed bytes, then the standard library's
/// parser (Unicode trimming) for whatever that refuses, so both accept the same cells.
fn parse(bytes: &[u8]) -> Option<f64> {
    fast_float2::parse::<f64, _>(bytes.trim_ascii())
        .ok()
        .or_else(|| std::str::from_utf8(bytes).ok()?.trim().parse::<f64>().ok())
}

/// Why a cell is not a usable number; where it is, is added when it is reported.
pub enum Bad {
    /// The row has no such cell.
    Missing,
    /// A number, but NaN or infinite (shown as written).
    NotFinite(String),
    /// Blank.
    Empty,
    /// Not a number (shown as written).
    NotNumber(String),
}

/// A cell as a finite number. The cell is turned into text only when it is bad.
fn cell_number(cell: Option<&[u8]>) -> std::result::Result<f64, Bad> {
    let bytes = cell.ok_or(Bad::Missing)?;
    let shown = || String::from_utf8_lossy(bytes).into_owned();
    match parse(bytes) {
        Some(x) if x.is_finite() => Ok(x),
        Some(_) => Err(Bad::NotFinite(shown())),
        None if shown().trim().is_empty() => Err(Bad::Empty),
        None => Err(Bad::NotNumber(shown())),
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

    /// The observations of rows read as columns (the plain reader), as [`Builder::row`] makes
    /// them.
    fn finish_with(mut self, cells: Cells) -> Data {
        match self.shape {
            Shape::Values => Data::Values(cells.values),
            Shape::Counts { .. } => Data::Counts(match cells.sizes {
                Some(sizes) => cells.values.into_iter().zip(sizes).collect(),
                None => cells.values.into_iter().map(|v| (v, 1.0)).collect(),
            }),
            Shape::Subgroups => {
                for v in cells.values {
                    self.row(v, None, None);
                }
                self.finish()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The header, and each row as its line and cells.
    type Read = (Vec<String>, Vec<(u64, Vec<Vec<u8>>)>);

    fn rows<'a>(mut records: impl Records<'a>) -> Read {
        let headers = records.headers().unwrap();
        let mut record = csv::ByteRecord::new();
        let mut out = Vec::new();
        while let Some(line) = records.next(&mut record).unwrap() {
            out.push((line, record.iter().map(<[u8]>::to_vec).collect()));
        }
        (headers, out)
    }

    #[test]
    fn the_plain_splitter_reads_what_the_csv_crate_reads() {
        for text in [
            "t,x\n1,2\n2,3\n",
            "t,x\r\n1,2\r\n2,3",
            "\n\nt , x\n\n1,2\n\n\n2\n3,4,5\n",
            "x\n1.5\n \n-2e3\n",
            "a,b,c\n1,,3\n,,\n",
        ] {
            let bytes = text.as_bytes();
            let (plain, csv) = (
                rows(Plain::new(bytes).expect("plain")),
                rows(Csv::new(bytes)),
            );
            let cells = |r: &Read| {
                (
                    r.0.clone(),
                    r.1.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>(),
                )
            };
            assert_eq!(cells(&plain), cells(&csv), "{text:?}");
            // After a CR LF or a blank line the csv crate gives a record the number of the line
            // where its search began; the splitter gives the record's own line.
            if !text.contains('\r') && !text.contains("\n\n") {
                assert_eq!(plain, csv, "{text:?}");
            }
        }
        for needs_csv in ["x\n\"1\"\n", "x\r1\r2\r", ""] {
            assert!(Plain::new(needs_csv.as_bytes()).is_none(), "{needs_csv:?}");
        }
        assert!(Plain::new(b"\xffx\n1\n").is_none());
        let lines: Vec<u64> = rows(Plain::new(b"t,x\r\n1,2\r\n\r\n2,3").unwrap())
            .1
            .iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(lines, [2, 4]);
        let lines: Vec<u64> = rows(Plain::new(b"\n\nt,x\n\n1,2\n").unwrap())
            .1
            .iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(lines, [5]);
    }

    #[test]
    fn cells_parse_as_the_standard_library_parses_them() {
        for cell in [
            "1",
            " 2.5 ",
            "-1e-3",
            "+4",
            ".5",
            "5.",
            "inf",
            "NaN",
            "\u{a0}7\u{a0}",
            "1e400",
            "x",
            "",
            "1,5",
            "0x10",
        ] {
            let std = cell.trim().parse::<f64>().ok();
            let got = parse(cell.as_bytes());
            assert_eq!(
                got.map(f64::to_bits),
                std.map(f64::to_bits),
                "{cell:?}: {got:?} vs {std:?}"
            );
        }
    }
}
