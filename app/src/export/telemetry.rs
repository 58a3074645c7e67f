//! The full-telemetry JSON export, and its import: the session (streams, settings) plus the
//! raw records it was built from, in the contracts' own field names: probe results exactly as
//! the Worker answered them (every field and extra, workers/README.md), and the shim's samples
//! with their `seq` (docs/protocol.md). Probe results also carry the OpenTelemetry GenAI
//! semantic-convention names where one applies (`gen_ai.server.time_to_first_token`, in
//! seconds, ...), so the file drops into an OTel pipeline: the second module adds them and
//! indents the file (`llmscope_app_lazy::telemetry::finish`, on "Export"). Importing the file
//! gives back the same session; those derived names are recomputed on export, never read.

use crate::model::Session;
use serde::Deserialize;
use serde_json::{json, Value};

/// What the file says it is.
pub const FORMAT: &str = "llmscope-telemetry";
/// The file format's version this build writes; it reads every version up to it.
pub const VERSION: u64 = 1;

/// The export file's data, compact and without the OpenTelemetry names, which the second
/// module adds (`crate::lazy::download` of `telemetry`, in the header).
pub fn export(session: &Session) -> String {
    let mut bare = session.clone();
    let telemetry = std::mem::take(&mut bare.telemetry);
    // The shim's samples, in arrival order; their sequence numbers leave the session's streams
    // so the file holds them once.
    let mut samples: Vec<llmscope_protocol::Sample> = Vec::new();
    for s in &mut bare.streams {
        let seqs = std::mem::take(&mut s.seqs);
        samples.extend(
            s.samples
                .iter()
                .zip(seqs)
                .map(|(x, seq)| llmscope_protocol::Sample {
                    stream: s.id.clone(),
                    seq,
                    t: x.t as i64,
                    value: x.value,
                }),
        );
    }
    samples.sort_by_key(|x| x.seq);
    let streams: Vec<Value> = session
        .streams
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "state": if s.stale.is_some() { "stale" } else { "live" },
                "reason": s.stale,
            })
        })
        .collect();
    let mut doc = json!({
        "format": FORMAT,
        "version": VERSION,
        "session": bare,
        "probe_results": telemetry.probe_results,
        "samples": samples,
        "stream_status": streams,
    });
    if let Some(setup) = &session.compare {
        doc["session"]["compare"] = setup.to_json();
    }
    serde_json::to_string(&doc).unwrap_or_default()
}

/// The Compare view's setup a file's `session` holds, if any.
fn compare(session: &Value) -> Option<crate::model::CompareSetup> {
    let v = session.get("compare").filter(|v| v.is_object())?;
    Some(crate::model::CompareSetup::from_json(v))
}

/// Reads an export (or an older bare session file).
pub fn import(text: &str) -> Result<Session, String> {
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| format!("not a session file of this dashboard: {e}"))?;
    if doc.get("format").and_then(Value::as_str) != Some(FORMAT) {
        crate::decode::session_samples(&doc).map_err(nothing_imported)?;
        let setup = compare(&doc);
        let mut session: Session = serde_json::from_value(doc)
            .map_err(|e| format!("not a session file of this dashboard: {e}"))?;
        session.compare = setup;
        return Ok(session);
    }
    match doc.get("version").and_then(Value::as_u64) {
        Some(v) if v <= VERSION => {}
        v => {
            return Err(format!(
                "a telemetry file of version {v:?}, newer than this dashboard reads ({VERSION})"
            ))
        }
    }
    crate::decode::session_samples(&doc["session"]).map_err(nothing_imported)?;
    if let Some(causes) = doc["session"].get("causes") {
        crate::model::Causes::deserialize(causes).map_err(|e| {
            nothing_imported(format!("the file's annotations (session.causes): {e}"))
        })?;
    }
    let mut session: Session = serde_json::from_value(doc["session"].clone())
        .map_err(|e| format!("the file's session: {e}"))?;
    session.compare = compare(&doc["session"]);
    session.telemetry.probe_results = doc["probe_results"]
        .as_array()
        .map(|results| {
            results
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    if let Value::Object(fields) = &mut r {
                        fields.retain(|k, _| !k.starts_with("gen_ai.") && k != "error.type");
                    }
                    r
                })
                .collect()
        })
        .unwrap_or_default();
    let samples = match &doc["samples"] {
        Value::Null => &[][..],
        Value::Array(samples) => samples.as_slice(),
        _ => return Err("the file's samples: not a list; nothing was imported".into()),
    };
    for (i, x) in samples.iter().enumerate() {
        let x = llmscope_protocol::Sample::deserialize(x)
            .map_err(|e| nothing_imported(format!("the file's samples, sample {i}: {e}")))?;
        if let Some(s) = session.stream_mut(&x.stream) {
            s.seqs.push(x.seq);
        }
    }
    Ok(session)
}

fn nothing_imported(why: String) -> String {
    format!("{why}; nothing was imported")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, Sample, Stream};

    /// The file as the page offers it: finished by the second module.
    fn export(s: &Session) -> String {
        llmscope_app_lazy::telemetry::finish(&super::export(s)).unwrap()
    }

    fn probe() -> Value {
        json!({"target": "mini", "provider": "openai", "model": "gpt-4o-mini", "t": 1_795_000_000_000i64,
               "ok": true, "status": 200, "ttft_ms": 250.0, "total_ms": 1250.0, "input_tokens": 12,
               "output_tokens": 11, "cached_input_tokens": null, "tokens_per_s": 11.0, "cost_usd": 0.0000084,
               "error": null, "extra": {"load_duration_ms": 3.5}})
    }

    #[test]
    fn a_value_saved_as_null_is_named_and_nothing_is_imported() {
        let mut s = Session::default();
        let mut st = Stream::new("m/ttft", "ms", Origin::Simulator);
        st.samples = vec![
            Sample { t: 1.0, value: 2.0 },
            Sample {
                t: 2.0,
                value: f64::NAN,
            },
        ];
        s.streams.push(st);
        // What a session holding NaN becomes when saved: the value is null.
        let text = export(&s);
        assert!(text.contains("\"value\": null"));
        assert_eq!(
            import(&text).unwrap_err(),
            "stream 'm/ttft', sample 1: 'value' is null, not a number (NaN or infinity saved by an older version?); nothing was imported"
        );
        let bare = serde_json::to_string(&s).unwrap();
        assert!(import(&bare)
            .unwrap_err()
            .starts_with("stream 'm/ttft', sample 1"));
        // Numbers beyond f64 are refused where they stand.
        let huge = text.replace("\"value\": 2.0", "\"value\": 1e999");
        let e = import(&huge).unwrap_err();
        assert!(e.contains("number out of range at line"), "{e}");
        // The raw samples' list too.
        let raw = r#"{"format": "llmscope-telemetry", "version": 1, "session": {"streams": []},
            "samples": [{"stream": "a", "seq": 1, "t": 1, "value": 1.0},
                        {"stream": "a", "seq": 2, "t": 2, "value": null}]}"#;
        assert!(import(raw)
            .unwrap_err()
            .starts_with("the file's samples, sample 1: invalid type: null"));
    }

    #[test]
    fn an_export_imports_to_the_same_session() {
        let mut s = Session::default();
        let mut st = Stream::new(
            "press1/temp",
            "°C",
            Origin::Live {
                url: "ws://x/ws".into(),
            },
        );
        st.samples.push(Sample { t: 1.0, value: 2.5 });
        st.seqs.push(41);
        st.stale = Some("modbus timeout".into());
        s.streams.push(st);
        s.telemetry.probe_results.push(probe());
        s.causes.require = true;
        s.compare = Some(crate::model::CompareSetup {
            metric: "total_ms".into(),
            ..Default::default()
        });
        s.causes.annotate(crate::model::Annotation {
            stream: "press1/temp".into(),
            from: 1.0,
            to: 1.0,
            cause: "sensor stuck or failing".into(),
            action: "recalibrated sensor".into(),
            note: String::new(),
        });
        let text = export(&s);
        assert!(text.contains("\"gen_ai.server.time_to_first_token\": 0.25"));
        assert!(text.contains("\"load_duration_ms\": 3.5"));
        assert!(text.contains("\"seq\": 41"));
        let back = import(&text).unwrap();
        assert_eq!((&back, &back.compare), (&s, &s.compare));
        let mut mine = Session::default();
        mine.merge(back.clone());
        assert_eq!(mine.compare, s.compare, "an import brings its setup");
        assert_eq!(export(&back), text);
        // An older bare session file still imports.
        let bare = serde_json::to_string(&Session {
            streams: s.streams.clone(),
            ..Session::default()
        })
        .unwrap();
        assert_eq!(import(&bare).unwrap().streams, s.streams);
        // Damaged annotations are named, and nothing is imported.
        let damaged = text.replace("\"cause\": \"sensor stuck or failing\"", "\"cause\": 7");
        assert_ne!(damaged, text);
        let e = import(&damaged).unwrap_err();
        assert!(
            e.starts_with("the file's annotations (session.causes): annotation 0: cause: not text"),
            "{e}"
        );
        assert!(e.ends_with("nothing was imported"), "{e}");
    }
}
