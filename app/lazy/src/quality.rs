//! Quality scores from outside (any eval's output), read from a file in the second module (the
//! Compare view's "Import quality scores"; the dashboard joins them to the compared targets by
//! their results' `model`, `app/src/ui/compare/quality.rs`).
//!
//! - **CSV:** a header row, then one model per row (RFC 4180, the import's reader). The model
//!   is the column headed `model`. The score is the column headed `score`; without one, the
//!   first column after `model` whose first row holds a number (an eval's `accuracy` or
//!   `pass@1`). Other columns are ignored.
//! - **JSON:** `{"model": score, ...}` or `[{"model": "...", "score": ...}, ...]`.
//! - **Scale:** a file's scores are all on one scale. When every score is at most 1 they are
//!   fractions (0–1) and kept; when any is above 1 the file is in percent (0–100) and every
//!   score is divided by 100. A score below 0 or above 100 is a bad line.
//! - **Bad lines** (no model, no number, out of range, a model given twice) are named with
//!   their line or item and left out; the good ones are kept.

use crate::csv::Records;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Scores read from a file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// The file's name.
    pub file: String,
    /// Each model and its score, 0 to 1, in the file's order.
    pub scores: Vec<(String, f64)>,
    /// How the file was read: the score column and the scale.
    pub how: String,
    /// Each line or item left out, and why.
    pub problems: Vec<String>,
}

impl Scores {
    /// As bytes for the dashboard (postcard).
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).unwrap_or_default()
    }

    /// Back from [`Scores::encode`]'s bytes.
    pub fn decode(bytes: &[u8]) -> Result<Scores, String> {
        postcard::from_bytes(bytes).map_err(|e| format!("unreadable scores: {e}"))
    }
}

/// One score as written, before its scale is known.
struct Raw {
    model: String,
    value: f64,
    /// "line 4", "item 2" or `"gpt-4o"` (a JSON key).
    place: String,
}

/// Reads a CSV or JSON file of model scores (JSON when the name ends in `.json` or the text
/// starts with `{` or `[`). An error only when nothing in it can be used.
pub fn parse(file: &str, text: &str) -> Result<Scores, String> {
    let text = text.trim_start_matches('\u{feff}');
    let json =
        file.to_ascii_lowercase().ends_with(".json") || text.trim_start().starts_with(['{', '[']);
    let (raw, mut problems, column) = if json {
        let (raw, problems) = from_json(text)?;
        (raw, problems, "score".to_string())
    } else {
        from_csv(text)?
    };
    let mut kept: Vec<Raw> = Vec::new();
    for r in raw {
        if !(0.0..=100.0).contains(&r.value) {
            problems.push(format!(
                "{}: score {} for \"{}\" is outside 0–1 and 0–100; left out",
                r.place, r.value, r.model
            ));
        } else if let Some(first) = kept.iter().find(|k| same_model(&k.model, &r.model)) {
            problems.push(format!(
                "{}: \"{}\" is scored again; the first score ({}) is kept",
                r.place, r.model, first.place
            ));
        } else {
            kept.push(r);
        }
    }
    if kept.is_empty() {
        let why = problems
            .first()
            .map_or(String::new(), |p| format!(" ({p})"));
        return Err(format!("{file}: no usable model score{why}"));
    }
    let percent = kept.iter().any(|r| r.value > 1.0);
    let how = format!(
        "score column \"{column}\", {}",
        if percent {
            "in percent (0–100): divided by 100"
        } else {
            "fractions (0–1)"
        }
    );
    let scale = if percent { 0.01 } else { 1.0 };
    Ok(Scores {
        file: file.to_string(),
        scores: kept
            .into_iter()
            .map(|r| (r.model, r.value * scale))
            .collect(),
        how,
        problems,
    })
}

/// Whether two model names are the same: without case and surrounding spaces.
pub fn same_model(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// The CSV's scores, its bad lines, and the score column's name.
fn from_csv(text: &str) -> Result<(Vec<Raw>, Vec<String>, String), String> {
    let mut records = Records::new(text);
    let header: Vec<String> = match records.next_row() {
        Some(row) => row.fields.iter().map(|f| f.to_string()).collect(),
        None => return Err("the file is empty: write a header such as model,score".into()),
    };
    let find = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let model = find("model").ok_or_else(|| {
        format!(
            "no \"model\" column in the header ({}): write e.g. model,score",
            header.join(",")
        )
    })?;
    let mut score = find("score");
    let (mut raw, mut problems) = (Vec::new(), Vec::new());
    while let Some(row) = records.next_row() {
        // Without a `score` column, the first numeric column after `model` in the first row.
        let at = *score.get_or_insert_with(|| {
            (model + 1..row.fields.len())
                .find(|&i| row.fields[i].parse::<f64>().is_ok())
                .unwrap_or(usize::MAX)
        });
        let place = row.place();
        let name = row.fields.get(model).copied().unwrap_or_default();
        let cell = row.fields.get(at).copied().unwrap_or_default();
        match (name.is_empty(), cell.parse::<f64>()) {
            (true, _) => problems.push(format!("{place}: no model name; left out")),
            (false, Ok(v)) if v.is_finite() => raw.push(Raw {
                model: name.to_string(),
                value: v,
                place,
            }),
            _ => problems.push(format!(
                "{place}: \"{cell}\" is not a score for \"{name}\"; left out"
            )),
        }
    }
    let column = match score.and_then(|i| header.get(i)) {
        Some(name) => name.clone(),
        None if raw.is_empty() && problems.is_empty() => {
            return Err("no rows after the header".into())
        }
        None => {
            return Err(format!(
                "no score column: name one \"score\", or put a numeric column after \"model\" \
                 (the header is {})",
                header.join(",")
            ))
        }
    };
    Ok((raw, problems, column))
}

/// The JSON's scores and its bad items.
fn from_json(text: &str) -> Result<(Vec<Raw>, Vec<String>), String> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "not JSON ({e}): write {{\"model\": score}} or [{{\"model\": ..., \"score\": ...}}]"
        )
    })?;
    let (mut raw, mut problems) = (Vec::new(), Vec::new());
    let mut take = |model: Option<&str>, score: Option<&Value>, place: String| match (
        model.filter(|m| !m.trim().is_empty()),
        score.and_then(Value::as_f64),
    ) {
        (Some(model), Some(value)) => raw.push(Raw {
            model: model.to_string(),
            value,
            place,
        }),
        (None, _) => problems.push(format!("{place}: no model name; left out")),
        (Some(model), _) => problems.push(format!(
            "{place}: the score of \"{model}\" is not a number ({}); left out",
            score.map_or("missing".into(), Value::to_string)
        )),
    };
    match &value {
        Value::Object(map) => {
            for (model, score) in map {
                take(Some(model), Some(score), format!("\"{model}\""));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let model = item.get("model").and_then(Value::as_str);
                take(model, item.get("score"), format!("item {}", i + 1));
            }
        }
        _ => {
            return Err(
                "write {\"model\": score} or [{\"model\": ..., \"score\": ...}]".to_string(),
            )
        }
    }
    Ok((raw, problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn models(scores: &Scores) -> Vec<(&str, f64)> {
        scores
            .scores
            .iter()
            .map(|(m, s)| (m.as_str(), *s))
            .collect()
    }

    #[test]
    fn a_csv_with_a_score_column_ignores_other_columns_and_reads_percent() {
        let text = "rank,model,notes,score\n1,gpt-4o,\"fast, cheap\",88.5\n2,claude-haiku,,71\n";
        let s = parse("eval.csv", text).unwrap();
        assert_eq!(models(&s), [("gpt-4o", 0.885), ("claude-haiku", 0.71)]);
        assert_eq!(
            s.how,
            "score column \"score\", in percent (0–100): divided by 100"
        );
        assert!(s.problems.is_empty(), "{:?}", s.problems);
    }

    #[test]
    fn without_a_score_column_the_first_numeric_column_after_model_is_used() {
        let text = "model,provider,accuracy,latency\nm1,openai,0.8,300\nm2,anthropic,0.6,200\n";
        let s = parse("e.csv", text).unwrap();
        assert_eq!(models(&s), [("m1", 0.8), ("m2", 0.6)]);
        assert_eq!(s.how, "score column \"accuracy\", fractions (0–1)");
    }

    #[test]
    fn bad_lines_are_named_and_the_good_ones_kept() {
        let text = "model,score\na,0.9\nb,high\n,0.5\nc,140\nA,0.1\n\nd,0.25\n";
        let s = parse("e.csv", text).unwrap();
        assert_eq!(models(&s), [("a", 0.9), ("d", 0.25)]);
        assert_eq!(
            s.problems,
            [
                "line 3: \"high\" is not a score for \"b\"; left out",
                "line 4: no model name; left out",
                "line 5: score 140 for \"c\" is outside 0–1 and 0–100; left out",
                "line 6: \"A\" is scored again; the first score (line 2) is kept",
            ]
        );
    }

    #[test]
    fn json_as_an_object_or_a_list() {
        let s = parse("e.json", r#"{"m1": 0.5, "m2": "x", "m3": 1}"#).unwrap();
        assert_eq!(models(&s), [("m1", 0.5), ("m3", 1.0)]);
        assert_eq!(
            s.problems,
            ["\"m2\": the score of \"m2\" is not a number (\"x\"); left out"]
        );
        let s = parse(
            "scores",
            r#"[{"model": "m1", "score": 50}, {"score": 3}, {"model": "m2", "score": 75, "n": 9}]"#,
        )
        .unwrap();
        assert_eq!(models(&s), [("m1", 0.5), ("m2", 0.75)]);
        assert_eq!(s.problems, ["item 2: no model name; left out"]);
    }

    #[test]
    fn files_with_nothing_usable_say_what_to_write() {
        let no_model = parse("e.csv", "name,score\na,1\n").unwrap_err();
        assert!(no_model.contains("no \"model\" column"), "{no_model}");
        let no_score = parse("e.csv", "model,notes\na,good\n").unwrap_err();
        assert!(no_score.contains("no score column"), "{no_score}");
        let bad_json = parse("e.json", "{\"a\": ").unwrap_err();
        assert!(bad_json.starts_with("not JSON"), "{bad_json}");
        let all_bad = parse("e.json", r#"{"a": -1}"#).unwrap_err();
        assert!(all_bad.contains("outside 0–1"), "{all_bad}");
    }
}
