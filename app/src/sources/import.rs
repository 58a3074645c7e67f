//! File import: CSV (a header row, one stream per numeric column) and the session JSON this app
//! exports. A malformed row is reported with its line and column and nothing is imported,
//! unless the user chose to skip bad rows; then the report says how many were skipped.

use crate::model::Session;

/// What a CSV file held: one series per numeric column, and the lines skipped.
#[derive(Debug, PartialEq)]
pub struct Imported {
    /// Each numeric column: its header name and its values, one per row kept.
    pub columns: Vec<(String, Vec<f64>)>,
    /// The first line (1-based) of each malformed row skipped.
    pub skipped: Vec<usize>,
    /// The data rows read, skipped ones included (the header is not counted).
    pub rows: usize,
}

/// One CSV record: its fields (trimmed) and the lines it spans, 1-based.
pub(crate) struct Row<'a> {
    lines: (usize, usize),
    pub(crate) fields: Vec<&'a str>,
}

impl Row<'_> {
    /// Where the row is, for messages: "line 7", or "lines 7 to 9" when a quoted field holds
    /// line breaks (or an unclosed quote ran on).
    pub(crate) fn place(&self) -> String {
        match self.lines {
            (a, b) if a == b => format!("line {a}"),
            (a, b) => format!("lines {a} to {b}"),
        }
    }
}

/// CSV records as RFC 4180 reads them, with csv-core (the dialect of the shim's `csv` reader):
/// quoted fields may hold commas, doubled quotes and line breaks. Blank lines are skipped.
pub(crate) struct Records<'a> {
    reader: csv_core::Reader,
    text: &'a str,
    /// Bytes of `text` read so far.
    at: usize,
    /// The line `at` is on, 1-based.
    line: usize,
    out: Vec<u8>,
    ends: Vec<usize>,
    record: String,
}

impl<'a> Records<'a> {
    pub(crate) fn new(text: &'a str) -> Records<'a> {
        Records {
            reader: csv_core::Reader::new(),
            text: text.strip_prefix('\u{feff}').unwrap_or(text),
            at: 0,
            line: 1,
            out: vec![0; 1024],
            ends: vec![0; 64],
            record: String::new(),
        }
    }

    /// How much of the text has been read, 0 to 1.
    fn progress(&self) -> f64 {
        self.at as f64 / self.text.len().max(1) as f64
    }

    /// Moves `at` by `n` bytes, counting the line breaks passed.
    fn advance(&mut self, n: usize) {
        let passed = &self.text.as_bytes()[self.at..self.at + n];
        self.line += passed.iter().filter(|&&b| b == b'\n').count();
        self.at += n;
    }

    /// The next record that is not blank.
    pub(crate) fn next_row(&mut self) -> Option<Row<'_>> {
        let (lines, nout, nend) = self.next_record()?;
        // Field bytes come from a `str` and are cut at ASCII delimiters, so they are UTF-8.
        self.record = String::from_utf8_lossy(&self.out[..nout]).into_owned();
        let mut from = 0;
        let mut fields = Vec::with_capacity(nend);
        for &end in &self.ends[..nend] {
            fields.push(self.record.get(from..end).unwrap_or_default().trim());
            from = end;
        }
        Some(Row { lines, fields })
    }

    /// Reads the next record that is not blank into `out` and `ends`: its lines, and how much
    /// of `out` and `ends` it filled.
    fn next_record(&mut self) -> Option<((usize, usize), usize, usize)> {
        loop {
            let blank = self.text.as_bytes()[self.at..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
            self.advance(blank);
            if self.at == self.text.len() {
                return None;
            }
            let first = self.line;
            let (mut nout, mut nend) = (0, 0);
            loop {
                let input = &self.text.as_bytes()[self.at..];
                let (res, nin, o, e) =
                    self.reader
                        .read_record(input, &mut self.out[nout..], &mut self.ends[nend..]);
                self.advance(nin);
                nout += o;
                nend += e;
                match res {
                    csv_core::ReadRecordResult::OutputFull => {
                        let grown = self.out.len() * 2;
                        self.out.resize(grown, 0);
                    }
                    csv_core::ReadRecordResult::OutputEndsFull => {
                        let grown = self.ends.len() * 2;
                        self.ends.resize(grown, 0);
                    }
                    csv_core::ReadRecordResult::InputEmpty if nin > 0 => {}
                    csv_core::ReadRecordResult::InputEmpty
                    | csv_core::ReadRecordResult::Record
                    | csv_core::ReadRecordResult::End => break,
                }
            }
            let blank = nend == 1 && self.out[..nout].trim_ascii().is_empty();
            if nend == 0 || blank {
                continue;
            }
            // The record's last line: the line break that ended it does not count.
            let last = self.line - usize::from(self.text.as_bytes()[..self.at].ends_with(b"\n"));
            return Some(((first, last.max(first)), nout, nend));
        }
    }
}

fn number(cell: &str) -> Option<f64> {
    cell.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Rows parsed between two yields to the browser, so a large file never freezes the page.
const CHUNK: usize = 50_000;

/// The column choice and what has been read so far.
struct Reader {
    names: Vec<String>,
    picked: Vec<usize>,
    columns: Vec<(String, Vec<f64>)>,
    skipped: Vec<usize>,
    skip_bad: bool,
    rows: usize,
}

impl Reader {
    /// Reads the header, picks the columns from the first data row, and reads that row.
    fn start(records: &mut Records, skip_bad: bool) -> Result<Reader, String> {
        let names: Vec<String> = records
            .next_row()
            .ok_or("the file is empty")?
            .fields
            .iter()
            .map(|f| f.to_string())
            .collect();
        let first = records
            .next_row()
            .ok_or("there are no data rows after the header")?;
        let numeric = |i: &usize| first.fields.get(*i).is_some_and(|c| number(c).is_some());
        let mut picked: Vec<usize> = (0..names.len())
            .filter(|i| numeric(i) && !llmscope_spc::columns::is_index_column(&names[*i]))
            .collect();
        if picked.is_empty() {
            picked = (0..names.len()).filter(numeric).collect();
        }
        if picked.is_empty() {
            return Err(format!("{}: no numeric column found", first.place()));
        }
        let columns = picked
            .iter()
            .map(|&i| (names[i].clone(), Vec::new()))
            .collect();
        let mut reader = Reader {
            names,
            picked,
            columns,
            skipped: Vec::new(),
            skip_bad,
            rows: 0,
        };
        reader.row(&first)?;
        Ok(reader)
    }

    /// Reads one data row; a bad one fails the import unless bad rows are skipped.
    fn row(&mut self, row: &Row) -> Result<(), String> {
        self.rows += 1;
        let names = &self.names;
        let parsed: Result<Vec<f64>, String> = self
            .picked
            .iter()
            .map(|&i| match row.fields.get(i) {
                None => Err(format!(
                    "{}: column '{}' is missing (the row has {} cells)",
                    row.place(),
                    names[i],
                    row.fields.len()
                )),
                Some(c) => number(c).ok_or_else(|| {
                    format!(
                        "{}, column '{}': '{c}' is not a number",
                        row.place(),
                        names[i]
                    )
                }),
            })
            .collect();
        match parsed {
            Ok(values) => self
                .columns
                .iter_mut()
                .zip(values)
                .for_each(|((_, v), x)| v.push(x)),
            Err(e) if !self.skip_bad => {
                return Err(format!(
                    "{e}; nothing was imported (choose \"skip bad rows\" to import the rest)"
                ))
            }
            Err(_) => self.skipped.push(row.lines.0),
        }
        Ok(())
    }

    fn finish(self) -> Imported {
        Imported {
            columns: self.columns,
            skipped: self.skipped,
            rows: self.rows,
        }
    }
}

/// Parses CSV text. With `skip_bad`, malformed rows are skipped and listed; without, the first
/// one fails the whole import, naming its line and column.
pub fn csv(text: &str, skip_bad: bool) -> Result<Imported, String> {
    let mut records = Records::new(text);
    let mut reader = Reader::start(&mut records, skip_bad)?;
    while let Some(row) = records.next_row() {
        reader.row(&row)?;
    }
    Ok(reader.finish())
}

/// The same, yielding to the browser every [`CHUNK`] rows and reporting progress (0 to 1).
pub async fn csv_in_chunks(
    text: &str,
    skip_bad: bool,
    progress: impl Fn(f64),
) -> Result<Imported, String> {
    let mut records = Records::new(text);
    let mut reader = Reader::start(&mut records, skip_bad)?;
    loop {
        for _ in 0..CHUNK {
            let Some(row) = records.next_row() else {
                progress(1.0);
                return Ok(reader.finish());
            };
            reader.row(&row)?;
        }
        progress(records.progress());
        next_tick().await;
    }
}

/// Resolves on the browser's next turn (setTimeout 0), letting it paint and handle input.
pub async fn next_tick() {
    sleep(std::time::Duration::ZERO).await;
}

/// Resolves after `duration` (setTimeout).
pub async fn sleep(duration: std::time::Duration) {
    let ms = duration.as_millis().min(i32::MAX as u128) as i32;
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Reads a session exported as JSON (the full telemetry export, or a bare session).
pub fn session_json(text: &str) -> Result<Session, String> {
    crate::export::telemetry::import(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn piston_rings_give_one_stream_and_skip_the_index() {
        let text = "subgroup,value,phase\n1,74.030,I\n1,74.002,I\n2,\"73.995\",I\n";
        let got = csv(text, false).unwrap();
        assert_eq!(
            got.columns,
            vec![("value".to_string(), vec![74.030, 74.002, 73.995])]
        );
    }

    #[test]
    fn a_quoted_field_may_hold_line_breaks_commas_and_quotes() {
        let text = "t,note,ttft\r\n1,\"cold start,\nsee \"\"ops\"\"\",400\r\n2,,410\r\n\r\n3,\"a\nb\nc\",abc\n4,x,420";
        let got = csv(text, true).unwrap();
        assert_eq!(
            got.columns,
            vec![("ttft".to_string(), vec![400.0, 410.0, 420.0])]
        );
        // The bad row starts on line 6 (after the break inside row 1 and a blank line).
        assert_eq!(got.skipped, vec![6]);
        assert_eq!(got.rows, 4);
        let e = csv(text, false).unwrap_err();
        assert!(
            e.starts_with(
                "lines 6 to 8, column 'ttft': 'abc' is not a number; nothing was imported"
            ),
            "{e}"
        );
    }

    #[test]
    fn an_unclosed_quote_names_the_lines_it_swallowed() {
        let text = "t,v\n1,5\n2,\"6\n3,7\n4,8\n";
        let e = csv(text, false).unwrap_err();
        assert!(e.starts_with("lines 3 to 5, column 'v'"), "{e}");
    }

    #[test]
    fn a_bad_row_imports_nothing_unless_skipping() {
        let text = "t,ttft\n1,400\n2,abc\n3,410\n4\n";
        let e = csv(text, false).unwrap_err();
        assert!(
            e.starts_with("line 3, column 'ttft': 'abc' is not a number"),
            "{e}"
        );
        let got = csv(text, true).unwrap();
        assert_eq!(got.columns[0].1, vec![400.0, 410.0]);
        assert_eq!(got.skipped, vec![3, 5]);
    }
}
