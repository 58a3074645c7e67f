//! Reading RESULTS: a JSON array of probe results (the Worker's `GET /results`), or the app's
//! telemetry export (an object with `"format": "llmscope-telemetry"` and its `probe_results`),
//! told apart by shape, then grouped by target (`llmscope_protocol::compare::group`).
//!
//! Every item is checked; the first bad one stops the run with its index, as `analyze` does with
//! a bad line: a comparison that silently left out results would not be the comparison of the
//! file (a target's error rate, for one, would be wrong).

use super::error::CompareError;
use llmscope_protocol::compare::{group, TargetResults};
use llmscope_protocol::probe::ProbeResult;
use serde_json::Value;

type Result<T> = std::result::Result<T, CompareError>;

/// The probe results of `bytes` (named `path` in errors), grouped by target.
pub fn read(bytes: &[u8], path: &str) -> Result<Vec<TargetResults>> {
    let doc: Value = serde_json::from_slice(bytes)
        .map_err(|e| CompareError::Data(format!("{path}: not JSON: {e}")))?;
    let items = items(&doc, path)?;
    if items.is_empty() {
        return Err(CompareError::Data(format!(
            "{path}: no probe results to compare; fetch some with GET /results"
        )));
    }
    let parsed = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            parse_item(item).map_err(|why| CompareError::Data(format!("{path}: item {i}: {why}")))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(group(&parsed))
}

/// The results array, by shape: an array, or a telemetry export's `probe_results`.
fn items<'a>(doc: &'a Value, path: &str) -> Result<&'a [Value]> {
    match doc {
        Value::Array(items) => Ok(items),
        Value::Object(o)
            if o.get("format").and_then(Value::as_str) == Some("llmscope-telemetry") =>
        {
            match o.get("probe_results") {
                Some(Value::Array(items)) => Ok(items),
                None | Some(Value::Null) => Ok(&[]),
                Some(_) => Err(CompareError::Data(format!(
                    "{path}: the telemetry export's probe_results is not a list"
                ))),
            }
        }
        _ => Err(CompareError::Data(format!(
            "{path}: neither a JSON array of probe results (as GET /results answers) nor the \
             app's telemetry export (an object with \"format\": \"llmscope-telemetry\")"
        ))),
    }
}

/// One item as a probe result.
fn parse_item(item: &Value) -> std::result::Result<ProbeResult, String> {
    let result: ProbeResult = serde_path_to_error::deserialize(item).map_err(|e| {
        let target = item.get("target").and_then(Value::as_str);
        let whose = target.map_or(String::new(), |t| format!("target \"{t}\": "));
        if let (".quality_pass" | "quality_pass", Some(other)) =
            (e.path().to_string().as_str(), item.get("quality_pass"))
        {
            return format!("{whose}quality_pass is {other}; it must be true, false or null");
        }
        let field = match e.path().to_string().as_str() {
            "." => String::new(),
            path => format!("{path}: "),
        };
        format!(
            "{whose}not a probe result: {field}{}; the fields are those of workers/README.md",
            e.inner()
        )
    })?;
    let name = &result.target;
    for (field, v) in [
        ("ttft_ms", result.ttft_ms),
        ("total_ms", result.total_ms),
        ("tokens_per_s", result.tokens_per_s),
    ] {
        if let Some(v) = v.filter(|v| *v < 0.0) {
            return Err(format!(
                "target \"{name}\": {field} is {v}; a duration or speed cannot be negative"
            ));
        }
    }
    Ok(result)
}
