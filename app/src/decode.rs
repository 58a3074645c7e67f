//! Outside data checked before it enters a session: share links, session files, live frames
//! and probe results. Every number must be finite: the session is saved as JSON, where NaN and
//! infinity become `null`, and a session with a `null` value cannot be read back. A bad record
//! is named (stream and sample, or its position in a batch) and the good records around it are
//! kept wherever the format has records to keep.

use crate::model::Sample;
use llmscope_protocol::ServerFrame;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// The first sample whose time or value is not finite, named by stream and 0-based index.
pub fn samples(stream: &str, samples: &[Sample]) -> Result<(), String> {
    for (i, s) in samples.iter().enumerate() {
        for (what, x) in [("time", s.t), ("value", s.value)] {
            if !x.is_finite() {
                return Err(format!(
                    "stream '{stream}', sample {i}: the {what} is {x}, not a finite number"
                ));
            }
        }
    }
    Ok(())
}

/// The streams of a session file as JSON, checked before they are read: a sample whose time or
/// value is not a number (an older save wrote NaN as `null`) is named by stream and index,
/// which the typed reader would not do once the text is parsed.
pub fn session_samples(session: &Value) -> Result<(), String> {
    let streams = session.get("streams").and_then(Value::as_array);
    for (k, stream) in streams.into_iter().flatten().enumerate() {
        let name = stream
            .get("id")
            .and_then(Value::as_str)
            .map_or_else(|| format!("stream {k}"), |id| format!("stream '{id}'"));
        let samples = stream.get("samples").and_then(Value::as_array);
        for (i, sample) in samples.into_iter().flatten().enumerate() {
            for field in ["t", "value"] {
                match sample.get(field) {
                    Some(x) if x.as_f64().is_some_and(f64::is_finite) => {}
                    x => {
                        return Err(format!(
                            "{name}, sample {i}: '{field}' is {}, not a number (NaN or infinity saved by an older version?)",
                            x.map_or("missing".into(), Value::to_string)
                        ))
                    }
                }
            }
        }
    }
    Ok(())
}

/// A live frame as read: the frame, holding only its good samples, and why the others were
/// left out.
#[derive(Debug, PartialEq)]
pub struct Frame {
    /// The frame read, holding only its good samples.
    pub frame: ServerFrame,
    /// Why each left-out batch sample was left out, named by its position and seq.
    pub rejected: Vec<String>,
}

/// A batch frame with its samples still unread, so each is read on its own.
#[derive(Deserialize)]
struct RawBatch<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(borrow)]
    samples: Vec<&'a RawValue>,
}

/// Reads a frame of the stream protocol (docs/protocol.md). In a batch, a sample that cannot be
/// read (`"value": null`, a number out of range) is left out and named by its position and seq;
/// the batch's other samples are kept. Any other bad frame is an error that says why. (serde_json
/// reads only finite numbers, so whatever is read is finite; the fuzz test checks it.)
pub fn frame(text: &str) -> Result<Frame, String> {
    match ServerFrame::parse(text) {
        Ok(frame) => Ok(Frame {
            frame,
            rejected: Vec::new(),
        }),
        Err(e) => match serde_json::from_str::<RawBatch>(text) {
            Ok(batch) if batch.kind == "batch" => Ok(batch_by_sample(&batch.samples)),
            _ => Err(e),
        },
    }
}

fn batch_by_sample(raw: &[&RawValue]) -> Frame {
    let mut samples = Vec::with_capacity(raw.len());
    let mut rejected = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        match serde_json::from_str::<llmscope_protocol::Sample>(r.get()) {
            Ok(s) => samples.push(s),
            Err(e) => {
                let seq = serde_json::from_str::<SeqOnly>(r.get())
                    .map_or_else(|_| String::new(), |s| format!(" (seq {})", s.seq));
                rejected.push(format!("batch sample {i}{seq}: {e}"));
            }
        }
    }
    Frame {
        frame: ServerFrame::Batch { samples },
        rejected,
    }
}

#[derive(Deserialize)]
struct SeqOnly {
    seq: u64,
}

/// A probe Worker's `/results` answer as read: each result whole, and why others were left out.
#[derive(Debug, Default, PartialEq)]
pub struct Results {
    /// Each readable result, whole, as the Worker answered it.
    pub results: Vec<Value>,
    /// Why each unreadable result was left out, named by its position.
    pub rejected: Vec<String>,
}

#[derive(Deserialize)]
struct Wrapped<'a> {
    #[serde(borrow)]
    results: Vec<&'a RawValue>,
}

/// Reads `/results`: a JSON array of results, or `{"results": [...]}`. Each result is read on
/// its own, so one that cannot be read (a number out of range) is named by its position and
/// the others are kept; otherwise one bad result would block its target's polling for good,
/// since every poll would ask for it again.
pub fn results(text: &str) -> Result<Results, String> {
    let raw: Vec<&RawValue> = if text.trim_start().starts_with('{') {
        serde_json::from_str::<Wrapped>(text)
            .map_err(|e| format!("unexpected answer: {e}"))?
            .results
    } else {
        serde_json::from_str(text).map_err(|e| format!("unexpected answer: {e}"))?
    };
    let mut out = Results::default();
    for (i, r) in raw.iter().enumerate() {
        match serde_json::from_str::<Value>(r.get()) {
            Ok(v) => out.results.push(v),
            Err(e) => out.rejected.push(format!("result {i}: {e}")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_samples_are_named_by_stream_and_index() {
        let good = Sample { t: 1.0, value: 2.0 };
        let nan = Sample {
            t: 2.0,
            value: f64::NAN,
        };
        assert_eq!(samples("a", &[good, good]), Ok(()));
        assert_eq!(
            samples("a", &[good, nan]).unwrap_err(),
            "stream 'a', sample 1: the value is NaN, not a finite number"
        );
        let inf_t = Sample {
            t: f64::INFINITY,
            value: 1.0,
        };
        assert!(samples("b", &[inf_t])
            .unwrap_err()
            .contains("the time is inf"));
    }

    #[test]
    fn a_batch_keeps_its_good_samples_around_a_bad_one() {
        let text = r#"{"type":"batch","samples":[
            {"stream":"a","seq":1,"t":5,"value":1.5},
            {"stream":"a","seq":2,"t":6,"value":null},
            {"stream":"a","seq":3,"t":7,"value":1e999},
            {"stream":"a","seq":4,"t":8,"value":2.5}]}"#;
        // The whole-frame reader loses all four.
        assert!(ServerFrame::parse(text).is_err());
        let got = frame(text).unwrap();
        let ServerFrame::Batch { samples } = &got.frame else {
            panic!("{got:?}")
        };
        assert_eq!(
            samples.iter().map(|s| s.seq).collect::<Vec<_>>(),
            vec![1, 4]
        );
        assert_eq!(got.rejected.len(), 2);
        assert!(
            got.rejected[0].starts_with("batch sample 1 (seq 2): invalid type: null"),
            "{:?}",
            got.rejected
        );
        assert!(
            got.rejected[1].starts_with("batch sample 2 (seq 3): number out of range"),
            "{:?}",
            got.rejected
        );
    }

    #[test]
    fn a_single_bad_sample_frame_is_an_error_and_good_frames_pass() {
        let e =
            frame(r#"{"type":"sample","stream":"a","seq":9,"t":1,"value":-1e400}"#).unwrap_err();
        assert!(e.contains("number out of range"), "{e}");
        let ok = frame(r#"{"type":"gap","missed":3}"#).unwrap();
        assert_eq!(ok.frame, ServerFrame::Gap { missed: 3 });
        assert!(frame("[1,2]").is_err());
    }

    #[test]
    fn one_unreadable_probe_result_does_not_block_the_others() {
        let text = r#"[{"t": 1, "ok": true, "ttft_ms": 250.0},
                       {"t": 2, "ok": true, "ttft_ms": 1e999},
                       {"t": 3, "ok": true, "ttft_ms": 260.0}]"#;
        let got = results(text).unwrap();
        assert_eq!(got.results.len(), 2);
        assert_eq!(got.results[1]["t"], 3);
        assert!(got.rejected[0].starts_with("result 1: number out of range"));
        let wrapped = results(&format!("{{\"results\": {text}}}")).unwrap();
        assert_eq!(wrapped, got);
        assert!(results("{\"error\": \"no\"}").is_err());
    }

    #[test]
    fn a_session_file_names_the_sample_saved_as_null() {
        let doc: Value = serde_json::from_str(
            r#"{"streams":[{"id":"m/ttft","samples":[{"t":1,"value":2},{"t":2,"value":null}]}]}"#,
        )
        .unwrap();
        assert_eq!(
            session_samples(&doc).unwrap_err(),
            "stream 'm/ttft', sample 1: 'value' is null, not a number (NaN or infinity saved by an older version?)"
        );
    }
}
