//! The full-telemetry JSON export's last step (the dashboard's `export::telemetry` writes the
//! file's data; this runs when "Export" is clicked, so the site's first download leaves it
//! out): each probe result gets the OpenTelemetry GenAI semantic-convention names where one
//! applies (`gen_ai.server.time_to_first_token`, in seconds, ...), and the file is written
//! indented.

use serde_json::{json, Map, Value};

/// OpenTelemetry GenAI names (semantic conventions for generative AI, "gen_ai.*") for a probe
/// result: durations in seconds, as the conventions define them.
pub fn otel(result: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    let num = |k: &str| result.get(k).and_then(Value::as_f64);
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            out.insert(k.to_string(), v);
        }
    };
    put("gen_ai.provider.name", result.get("provider").cloned());
    put("gen_ai.request.model", result.get("model").cloned());
    put(
        "gen_ai.usage.input_tokens",
        result.get("input_tokens").filter(|v| !v.is_null()).cloned(),
    );
    put(
        "gen_ai.usage.output_tokens",
        result
            .get("output_tokens")
            .filter(|v| !v.is_null())
            .cloned(),
    );
    let ttft = num("ttft_ms");
    let total = num("total_ms");
    put(
        "gen_ai.server.time_to_first_token",
        ttft.map(|ms| json!(ms / 1000.0)),
    );
    put(
        "gen_ai.client.operation.duration",
        total.map(|ms| json!(ms / 1000.0)),
    );
    // Time per output token after the first: (total - TTFT) / (output tokens - 1).
    let per_token = match (ttft, total, num("output_tokens")) {
        (Some(a), Some(b), Some(n)) if n > 1.0 => Some(json!((b - a) / 1000.0 / (n - 1.0))),
        _ => None,
    };
    put("gen_ai.server.time_per_output_token", per_token);
    put("error.type", result.pointer("/error/kind").cloned());
    out
}

/// The export file's text from the dashboard's compact `doc`: its probe results with their
/// OpenTelemetry names, indented.
pub fn finish(doc: &str) -> Result<String, String> {
    let mut doc: Value =
        serde_json::from_str(doc).map_err(|e| format!("the export's data: {e}"))?;
    if let Some(results) = doc.get_mut("probe_results").and_then(Value::as_array_mut) {
        for r in results {
            let names = otel(r);
            if let Value::Object(fields) = r {
                fields.extend(names);
            }
        }
    }
    serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otel_names_use_seconds_and_exclude_the_first_token() {
        let probe = json!({"target": "mini", "provider": "openai", "model": "gpt-4o-mini",
            "t": 1_795_000_000_000i64, "ok": true, "status": 200, "ttft_ms": 250.0,
            "total_ms": 1250.0, "input_tokens": 12, "output_tokens": 11,
            "cached_input_tokens": null, "tokens_per_s": 11.0, "cost_usd": 0.0000084,
            "error": null, "extra": {"load_duration_ms": 3.5}});
        let o = otel(&probe);
        assert_eq!(o["gen_ai.server.time_to_first_token"], 0.25);
        assert_eq!(o["gen_ai.server.time_per_output_token"], 0.1); // 1.0 s over 10 tokens
        assert_eq!(o["gen_ai.request.model"], "gpt-4o-mini");
        assert!(!o.contains_key("error.type"));
        let file = finish(&json!({"probe_results": [probe]}).to_string()).unwrap();
        assert!(file.contains("\n  \"probe_results\": [\n"), "{file}");
        assert!(file.contains("\"gen_ai.server.time_to_first_token\": 0.25"));
        assert!(finish("{").unwrap_err().starts_with("the export's data"));
    }
}
