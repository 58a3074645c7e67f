//! Reading RESULTS: a JSON array of probe results (the Worker's `GET /results`), or the app's
//! telemetry export (an object with `"format": "llmscope-telemetry"` and its `probe_results`),
//! told apart by shape. Results are grouped by target name, in order of first appearance, and
//! each target's results are put in time order (`t`), which the stability check needs.
//!
//! Every item is checked; the first bad one stops the run with its index, as `analyze` does with
//! a bad line: a comparison that silently left out results would not be the comparison of the
//! file (a target's error rate, for one, would be wrong).

use super::error::CompareError;
use llmscope_protocol::probe::ProbeResult;
use serde_json::Value;

type Result<T> = std::result::Result<T, CompareError>;

/// One target's results over the file.
#[derive(Debug, Default)]
pub struct TargetResults {
    /// The target's name.
    pub name: String,
    /// Every result, failed ones included.
    pub requests: u64,
    /// Failed results.
    pub errors: u64,
    /// `quality_pass` true, and true or false (null or absent is not judged).
    pub passed: u64,
    /// Results with `quality_pass` true or false.
    pub judged: u64,
    /// The successful results, in time order.
    pub ok: Vec<Success>,
}

/// The metrics of one successful result.
#[derive(Clone, Copy, Debug)]
pub struct Success {
    /// When it was sent (epoch ms).
    pub t: i64,
    /// `ttft_ms`.
    pub ttft_ms: Option<f64>,
    /// `total_ms`.
    pub total_ms: Option<f64>,
    /// `tokens_per_s`.
    pub tokens_per_s: Option<f64>,
}

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
    let mut targets: Vec<TargetResults> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let result = parse_item(item)
            .map_err(|why| CompareError::Data(format!("{path}: item {i}: {why}")))?;
        let at = match targets.iter().position(|t| t.name == result.target) {
            Some(at) => at,
            None => {
                targets.push(TargetResults {
                    name: result.target.clone(),
                    ..TargetResults::default()
                });
                targets.len() - 1
            }
        };
        add(&mut targets[at], &result);
    }
    for t in &mut targets {
        // Stable: results sent in the same millisecond keep the file's order.
        t.ok.sort_by_key(|s| s.t);
    }
    Ok(targets)
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

fn add(target: &mut TargetResults, r: &ProbeResult) {
    target.requests += 1;
    if let Some(pass) = r.quality_pass {
        target.judged += 1;
        target.passed += u64::from(pass);
    }
    // A result is failed when it says so either way.
    if !r.ok || r.error.is_some() {
        target.errors += 1;
        return;
    }
    target.ok.push(Success {
        t: r.t,
        ttft_ms: r.ttft_ms,
        total_ms: r.total_ms,
        tokens_per_s: r.tokens_per_s,
    });
}
