//! The full-telemetry JSON export ("Export session") and its import: the second module
//! (`llmscope_app_lazy::telemetry`, through `crate::lazy`) turns the session's JSON into the
//! file (its `telemetry_export`) and back, since only those two buttons need it; this checks
//! and reads the session it gives back.

use crate::model::Session;
use serde::Deserialize;
use serde_json::Value;

/// Reads an export (or an older bare session file).
pub async fn import(text: &str) -> Result<Session, String> {
    read(&crate::lazy::telemetry_import(text).await?)
}

/// The session's JSON the second module makes the file of: serde's, plus the Compare view's
/// setup (`session.compare`), which is written beside serde. Serialized, not cloned: a session
/// can hold millions of points.
pub fn session_json(session: &Session) -> String {
    let mut json = serde_json::to_value(session).unwrap_or_default();
    if let (Some(setup), Value::Object(fields)) = (&session.compare, &mut json) {
        fields.insert("compare".into(), setup.to_json());
    }
    json.to_string()
}

/// The export file's text with the second module's part called directly, as a library: for
/// host tests and fuzzing (the page goes through `crate::lazy`, so its wasm leaves this out).
pub fn export_direct(session: &Session) -> String {
    let json = serde_json::from_str(&session_json(session)).unwrap_or_default();
    llmscope_app_lazy::telemetry::export(json)
}

/// [`import`] with the second module's part called directly, as [`export_direct`].
pub fn import_direct(text: &str) -> Result<Session, String> {
    read(&llmscope_app_lazy::telemetry::import(text)?.to_string())
}

/// The session of the second module's answer, checked: values, then annotations.
fn read(session: &str) -> Result<Session, String> {
    let not_ours = |e: serde_json::Error| format!("not a session file of this dashboard: {e}");
    let doc: Value = serde_json::from_str(session).map_err(not_ours)?;
    crate::decode::session_samples(&doc).map_err(nothing_imported)?;
    if let Some(causes) = doc.get("causes") {
        crate::model::Causes::deserialize(causes).map_err(|e| {
            nothing_imported(format!("the file's annotations (session.causes): {e}"))
        })?;
    }
    let setup = doc
        .get("compare")
        .filter(|v| v.is_object())
        .map(crate::model::CompareSetup::from_json);
    let mut session: Session = serde_json::from_value(doc).map_err(not_ours)?;
    session.compare = setup;
    Ok(session)
}

fn nothing_imported(why: String) -> String {
    format!("{why}; nothing was imported")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, Sample, Stream};
    use export_direct as export;
    use import_direct as import;
    use serde_json::json;

    /// A probe result as the Worker answers it (a few of its fields).
    fn probe() -> Value {
        json!({"target": "mini", "provider": "openai", "ok": true, "ttft_ms": 250.0,
               "total_ms": 1250.0, "output_tokens": 11, "error": null,
               "extra": {"load_duration_ms": 3.5}})
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
        st.settings.rules_text = Some("# ours\n1-3s: 1 beyond 3s".into());
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
