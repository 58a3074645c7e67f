//! The full-telemetry JSON export, and its import (README, "Export session"): the session
//! (streams, settings) plus the raw records it was built from, in the contracts' own field
//! names: probe results exactly as the Worker answered them (every field and extra,
//! workers/README.md), and the shim's samples with their `seq` (docs/protocol.md). Probe
//! results also carry the OpenTelemetry GenAI semantic-convention names where one applies
//! (`gen_ai.server.time_to_first_token`, in seconds, ...), so the file drops into an OTel
//! pipeline. Importing the file gives back the same session; those derived names are
//! recomputed on export, never read.
//!
//! Both directions work on the session's JSON as the dashboard writes it (its `Session`, with
//! `telemetry.probe_results` and each stream's `seqs`); the dashboard checks and reads the
//! session itself. Here, not in the main module, since only the Export and Import buttons use
//! it.

use serde::Deserialize;
use serde_json::{json, Map, Value};

/// What the file says it is.
pub const FORMAT: &str = "llmscope-telemetry";
/// The file format's version this build writes; it reads every version up to it.
pub const VERSION: u64 = 1;

/// OpenTelemetry GenAI names (semantic conventions for generative AI, "gen_ai.*") for a probe
/// result: durations in seconds, as the conventions define them.
pub fn otel(result: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    let num = |k: &str| result.get(k).and_then(Value::as_f64);
    let present = |k: &str| result.get(k).filter(|v| !v.is_null()).cloned();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            out.insert(k.to_string(), v);
        }
    };
    put("gen_ai.provider.name", result.get("provider").cloned());
    put("gen_ai.request.model", result.get("model").cloned());
    put("gen_ai.usage.input_tokens", present("input_tokens"));
    put("gen_ai.usage.output_tokens", present("output_tokens"));
    let ttft = num("ttft_ms");
    let total = num("total_ms");
    let seconds = |ms: f64| json!(ms / 1000.0);
    put("gen_ai.server.time_to_first_token", ttft.map(seconds));
    put("gen_ai.client.operation.duration", total.map(seconds));
    // Time per output token after the first: (total - TTFT) / (output tokens - 1).
    let per_token = match (ttft, total, num("output_tokens")) {
        (Some(a), Some(b), Some(n)) if n > 1.0 => Some(json!((b - a) / 1000.0 / (n - 1.0))),
        _ => None,
    };
    put("gen_ai.server.time_per_output_token", per_token);
    put("error.type", result.pointer("/error/kind").cloned());
    out
}

/// The streams of a session's JSON.
fn streams(session: &mut Value) -> &mut [Value] {
    match session.get_mut("streams") {
        Some(Value::Array(streams)) => streams,
        _ => &mut [],
    }
}

/// The export file's text for the session's JSON.
pub fn export(mut session: Value) -> String {
    let telemetry = session
        .as_object_mut()
        .and_then(|o| o.remove("telemetry"))
        .unwrap_or_default();
    let mut samples: Vec<llmscope_protocol::Sample> = Vec::new();
    let mut status = Vec::new();
    for s in streams(&mut session) {
        let id = s["id"].as_str().unwrap_or_default().to_string();
        status.push(json!({
            "id": id,
            "state": if s["stale"].is_null() { "live" } else { "stale" },
            "reason": s["stale"],
        }));
        // The shim's sequence numbers leave the streams so the file holds them once.
        let seqs = s.as_object_mut().and_then(|o| o.remove("seqs"));
        let seqs = seqs
            .as_ref()
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        let points = s["samples"].as_array().into_iter().flatten();
        samples.extend(points.zip(seqs).map(|(x, seq)| llmscope_protocol::Sample {
            stream: id.clone(),
            seq: seq.as_u64().unwrap_or_default(),
            t: x["t"].as_f64().unwrap_or_default() as i64,
            value: x["value"].as_f64().unwrap_or(f64::NAN),
        }));
    }
    samples.sort_by_key(|x| x.seq);
    let probe_results: Vec<Value> = telemetry["probe_results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let names = otel(r);
            let mut r = r.clone();
            if let Value::Object(fields) = &mut r {
                fields.extend(names);
            }
            r
        })
        .collect();
    let doc = json!({
        "format": FORMAT,
        "version": VERSION,
        "session": session,
        "probe_results": probe_results,
        "samples": samples,
        "stream_status": status,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// The session's JSON of an export file, its raw records put back (the probe results without
/// the names [`export`] derives, each sample's `seq` on its stream), or of an older bare
/// session file as it is. The dashboard then checks and reads the session.
pub fn import(text: &str) -> Result<Value, String> {
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| format!("not a session file of this dashboard: {e}"))?;
    if doc.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Ok(doc);
    }
    match doc.get("version").and_then(Value::as_u64) {
        Some(v) if v <= VERSION => {}
        v => {
            return Err(format!(
                "a telemetry file of version {v:?}, newer than this dashboard reads ({VERSION})"
            ))
        }
    }
    let mut session = doc["session"].clone();
    let probe_results: Vec<Value> = doc["probe_results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let mut r = r.clone();
            if let Value::Object(fields) = &mut r {
                fields.retain(|k, _| !k.starts_with("gen_ai.") && k != "error.type");
            }
            r
        })
        .collect();
    if let Value::Object(fields) = &mut session {
        if !probe_results.is_empty() {
            fields.insert(
                "telemetry".into(),
                json!({ "probe_results": probe_results }),
            );
        }
    }
    let samples = match &doc["samples"] {
        Value::Null => &[][..],
        Value::Array(samples) => samples.as_slice(),
        _ => return Err("the file's samples: not a list; nothing was imported".into()),
    };
    for (i, x) in samples.iter().enumerate() {
        let x = llmscope_protocol::Sample::deserialize(x)
            .map_err(|e| format!("the file's samples, sample {i}: {e}; nothing was imported"))?;
        let stream = streams(&mut session)
            .iter_mut()
            .find(|s| s["id"].as_str() == Some(x.stream.as_str()));
        if let Some(Value::Object(stream)) = stream {
            let seqs = stream.entry("seqs").or_insert_with(|| json!([]));
            if let Value::Array(seqs) = seqs {
                seqs.push(x.seq.into());
            }
        }
    }
    Ok(session)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe() -> Value {
        json!({"target": "mini", "provider": "openai", "model": "gpt-4o-mini", "t": 1_795_000_000_000i64,
               "ok": true, "status": 200, "ttft_ms": 250.0, "total_ms": 1250.0, "input_tokens": 12,
               "output_tokens": 11, "cached_input_tokens": null, "tokens_per_s": 11.0, "cost_usd": 0.0000084,
               "error": null, "extra": {"load_duration_ms": 3.5}})
    }

    #[test]
    fn otel_names_use_seconds_and_exclude_the_first_token() {
        let o = otel(&probe());
        assert_eq!(o["gen_ai.server.time_to_first_token"], 0.25);
        assert_eq!(o["gen_ai.server.time_per_output_token"], 0.1); // 1.0 s over 10 tokens
        assert_eq!(o["gen_ai.request.model"], "gpt-4o-mini");
        assert!(!o.contains_key("error.type"));
    }

    #[test]
    fn the_raw_records_leave_the_session_and_come_back() {
        let session = json!({"streams": [
            {"id": "press1/temp", "samples": [{"t": 1.0, "value": 2.5}], "seqs": [41], "stale": "modbus timeout"},
            {"id": "b", "samples": [], "stale": null}],
            "telemetry": {"probe_results": [probe()]}});
        let text = export(session.clone());
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            doc["samples"],
            json!([{"stream": "press1/temp", "seq": 41, "t": 1, "value": 2.5}])
        );
        assert!(doc["session"].get("telemetry").is_none());
        assert!(doc["session"]["streams"][0].get("seqs").is_none());
        assert_eq!(doc["probe_results"][0]["gen_ai.usage.input_tokens"], 12);
        assert_eq!(
            doc["stream_status"],
            json!([{"id": "press1/temp", "state": "stale", "reason": "modbus timeout"},
                   {"id": "b", "state": "live", "reason": null}])
        );
        assert_eq!(import(&text).unwrap(), session);
        let newer = text.replace("\"version\": 1", "\"version\": 2");
        assert!(import(&newer)
            .unwrap_err()
            .starts_with("a telemetry file of version Some(2)"));
    }
}
