//! File import: CSV (a header row, one stream per numeric column) and the session JSON this app
//! exports. A malformed row is reported with its line and column and nothing is imported,
//! unless the user chose to skip bad rows; then the report says how many were skipped.

use crate::model::Session;

/// What a CSV file held: one series per numeric column, and the lines skipped.
#[derive(Debug, PartialEq)]
pub struct Imported {
    pub columns: Vec<(String, Vec<f64>)>,
    pub skipped: Vec<usize>,
    pub rows: usize,
}

/// Splits one CSV line, honouring double quotes.
fn cells(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                if let Some(cell) = out.last_mut() {
                    cell.push('"');
                }
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            c => {
                if let Some(cell) = out.last_mut() {
                    cell.push(c);
                }
            }
        }
    }
    out.into_iter().map(|c| c.trim().to_string()).collect()
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
}

impl Reader {
    /// Picks the columns from the header and the first data row.
    fn start(header: &str, first: Option<(usize, &str)>, skip_bad: bool) -> Result<Reader, String> {
        let names = cells(header);
        let (line, first) = first.ok_or("there are no data rows after the header")?;
        let first = cells(first);
        let numeric = |i: &usize| first.get(*i).is_some_and(|c| number(c).is_some());
        let mut picked: Vec<usize> = (0..names.len())
            .filter(|i| numeric(i) && !llmscope_spc::columns::is_index_column(&names[*i]))
            .collect();
        if picked.is_empty() {
            picked = (0..names.len()).filter(numeric).collect();
        }
        if picked.is_empty() {
            return Err(format!("line {line}: no numeric column found"));
        }
        let columns = picked
            .iter()
            .map(|&i| (names[i].clone(), Vec::new()))
            .collect();
        Ok(Reader {
            names,
            picked,
            columns,
            skipped: Vec::new(),
            skip_bad,
        })
    }

    /// Reads one data row; a bad one fails the import unless bad rows are skipped.
    fn row(&mut self, line: usize, text: &str) -> Result<(), String> {
        let row = cells(text);
        let names = &self.names;
        let parsed: Result<Vec<f64>, String> = self
            .picked
            .iter()
            .map(|&i| match row.get(i) {
                None => Err(format!(
                    "line {line}: column '{}' is missing (the row has {} cells)",
                    names[i],
                    row.len()
                )),
                Some(c) => number(c).ok_or_else(|| {
                    format!("line {line}, column '{}': '{c}' is not a number", names[i])
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
            Err(_) => self.skipped.push(line),
        }
        Ok(())
    }

    fn finish(self, rows: usize) -> Imported {
        Imported {
            columns: self.columns,
            skipped: self.skipped,
            rows,
        }
    }
}

/// Data lines with their 1-based line numbers, blank lines left out.
fn data_lines(text: &str) -> (Option<&str>, Vec<(usize, &str)>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l));
    let header = lines.next().map(|(_, l)| l);
    (header, lines.collect())
}

/// Parses CSV text. With `skip_bad`, malformed rows are skipped and listed; without, the first
/// one fails the whole import, naming its line and column.
pub fn csv(text: &str, skip_bad: bool) -> Result<Imported, String> {
    let (header, rows) = data_lines(text);
    let mut reader = Reader::start(
        header.ok_or("the file is empty")?,
        rows.first().copied(),
        skip_bad,
    )?;
    for (line, row) in &rows {
        reader.row(*line, row)?;
    }
    Ok(reader.finish(rows.len()))
}

/// The same, yielding to the browser every [`CHUNK`] rows and reporting progress (0 to 1).
pub async fn csv_in_chunks(
    text: &str,
    skip_bad: bool,
    progress: impl Fn(f64),
) -> Result<Imported, String> {
    let (header, rows) = data_lines(text);
    let mut reader = Reader::start(
        header.ok_or("the file is empty")?,
        rows.first().copied(),
        skip_bad,
    )?;
    for (k, chunk) in rows.chunks(CHUNK).enumerate() {
        for (line, row) in chunk {
            reader.row(*line, row)?;
        }
        progress(((k + 1) * CHUNK).min(rows.len()) as f64 / rows.len().max(1) as f64);
        next_tick().await;
    }
    Ok(reader.finish(rows.len()))
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
    crate::telemetry::import(text)
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
