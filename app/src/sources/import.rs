//! File import: CSV (a header row, one stream per numeric column) and the session JSON this app
//! exports. A malformed row is reported with its line and column and nothing is imported,
//! unless the user chose to skip bad rows; then the report says how many were skipped.

use crate::model::Session;
use llmscope_app_lazy::csv::{Records, Row};

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
            Err(_) => self.skipped.push(row.first_line()),
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
pub async fn session_json(text: &str) -> Result<Session, String> {
    crate::export::telemetry::import(text).await
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
