//! File import: CSV (a header row, one stream per numeric column) and the session JSON this app
//! exports. A malformed row is reported with its line and column and nothing is imported,
//! unless the user chose to skip bad rows; then the report says how many were skipped.

use crate::model::Session;

/// Column names that are an index or a time, not a measurement (as `llmscope-shim analyze`).
const INDEX_NAMES: [&str; 10] = [
    "index",
    "sample",
    "subgroup",
    "id",
    "seq",
    "t",
    "time",
    "timestamp",
    "date",
    "n",
];

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

/// Parses CSV text. With `skip_bad`, malformed rows are skipped and listed; without, the first
/// one fails the whole import, naming its line and column.
pub fn csv(text: &str, skip_bad: bool) -> Result<Imported, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or("the file is empty")?;
    let names = cells(header);
    let rows: Vec<(usize, Vec<String>)> = lines.map(|(i, l)| (i + 1, cells(l))).collect();
    let first = rows
        .first()
        .ok_or("there are no data rows after the header")?;
    let numeric = |i: &usize| first.1.get(*i).is_some_and(|c| number(c).is_some());
    let mut picked: Vec<usize> = (0..names.len())
        .filter(|i| numeric(i) && !INDEX_NAMES.contains(&names[*i].to_ascii_lowercase().as_str()))
        .collect();
    if picked.is_empty() {
        picked = (0..names.len()).filter(numeric).collect();
    }
    if picked.is_empty() {
        return Err(format!("line {}: no numeric column found", first.0));
    }
    let mut columns: Vec<(String, Vec<f64>)> = picked
        .iter()
        .map(|&i| (names[i].clone(), Vec::with_capacity(rows.len())))
        .collect();
    let mut skipped = Vec::new();
    for (line, row) in &rows {
        let parsed: Result<Vec<f64>, String> = picked
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
            Ok(values) => columns
                .iter_mut()
                .zip(values)
                .for_each(|((_, v), x)| v.push(x)),
            Err(e) if !skip_bad => {
                return Err(format!(
                    "{e}; nothing was imported (choose \"skip bad rows\" to import the rest)"
                ))
            }
            Err(_) => skipped.push(*line),
        }
    }
    Ok(Imported {
        columns,
        skipped,
        rows: rows.len(),
    })
}

/// Reads a session exported as JSON.
pub fn session_json(text: &str) -> Result<Session, String> {
    serde_json::from_str(text).map_err(|e| format!("not an LLMscope session file: {e}"))
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
