//! The explain wasm-bindgen API (issue 13; cargo feature `wasm`): every episode of one or more
//! columns explained, as `llmscope-shim explain`'s JSON.
//!
//! ```js
//! const [temperature] = explain(
//!   [{ name: "temperature", values: new Float64Array(t) }, { name: "setpoint", values: sp }],
//!   { columns: [0], chart: { chart: "individuals", phase1: 150 }, domain: "plant", kin: [] });
//! temperature.episodes[0].shape;          // "step"
//! temperature.episodes[0].co_moving[0];   // { stream: "setpoint", statistic, p_value, shift }
//! ```
//! The streams are read once for all the columns asked for, so the context of many columns'
//! episodes costs one copy from JavaScript. Bad input throws an `Error` naming the argument
//! and the field (`streams[2].values[17]: not a number`); unknown keys are refused.

use crate::explain::cause::Domain;
use crate::explain::{explain as explain_of, EpisodeReport, Stream};
use crate::wasm::{config_from, error, to_js};
use crate::wasm_compare::{absent, field, items, known_keys, name, numbers};
use js_sys::Array;
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** One stream: a column of the session, on the index all the streams share. */
export interface ExplainStream { name: string; values: Float64Array | number[] }

export interface ExplainOptions {
  /** The streams (0-based) whose episodes are explained (default [0]); every other stream is
   *  a candidate for what else changed. */
  columns?: number[];
  /** The chart the episodes are found on: individuals, ewma or cusum (ChartConfig). */
  chart?: ChartConfig;
  /** The causes' words: "llm" or "plant" (default "plant"). */
  domain?: "llm" | "plant";
  /** Streams of the same kind as the columns, searched for similar past windows besides the
   *  column itself (default none). */
  kin?: number[];
}

/** One column's episodes, as `llmscope-shim explain`'s JSON. */
export interface Explained {
  column: string;
  episodes: {
    first: number; last: number; tests: number[]; shape: string; evidence: object;
    co_moving: { stream: string; statistic: number; p_value: number; shift: number | null }[];
    suggestions: { cause: string; score: number; evidence: string }[];
    similar: { stream: string; first: number; last: number; distance: number }[];
  }[];
}
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "ExplainStream[]")]
    pub type JsExplainStreams;
    #[wasm_bindgen(typescript_type = "ExplainOptions | undefined")]
    pub type JsExplainOptions;
    #[wasm_bindgen(typescript_type = "Explained[]")]
    pub type JsExplained;
}

const STREAM_FIELDS: &[&str] = &["name", "values"];
const OPTION_FIELDS: &[&str] = &["columns", "chart", "domain", "kin"];

#[derive(Serialize)]
struct Explained<'a> {
    column: &'a str,
    episodes: Vec<EpisodeReport>,
}

/// Explains every episode of each of `options.columns` among `streams`: its shape and
/// evidence, what else changed, the suggested causes and the most similar past windows.
#[wasm_bindgen]
pub fn explain(
    streams: JsExplainStreams,
    options: JsExplainOptions,
) -> Result<JsExplained, JsError> {
    let streams: JsValue = streams.into();
    let list = items(&streams, "streams", "an array of { name, values }")?;
    let owned: Vec<(String, Vec<f64>)> = list
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("streams[{i}]");
            known_keys(&item, &at, STREAM_FIELDS)?;
            let values = numbers(&field(&item, "values"), &format!("{at}.values"))?;
            Ok((name(&field(&item, "name"), &format!("{at}.name"))?, values))
        })
        .collect::<Result<_, JsError>>()?;
    let all: Vec<Stream> = owned
        .iter()
        .map(|(name, values)| Stream { name, values })
        .collect();
    let options: JsValue = options.into();
    let read = |key: &str| {
        if absent(&options) {
            JsValue::UNDEFINED
        } else {
            field(&options, key)
        }
    };
    if !absent(&options) {
        known_keys(&options, "options", OPTION_FIELDS)?;
    }
    let columns = indexes(&read("columns"), "options.columns", all.len())?.unwrap_or(vec![0]);
    let kin = indexes(&read("kin"), "options.kin", all.len())?.unwrap_or_default();
    let spec = config_from(read("chart"))?
        .to_spec()
        .map_err(|e| error(format!("options.chart: {e}")))?;
    let domain = match read("domain").as_string().as_deref() {
        None if absent(&read("domain")) => Domain::Plant,
        Some("plant") => Domain::Plant,
        Some("llm") => Domain::Llm,
        _ => return Err(error("options.domain: give \"llm\" or \"plant\"")),
    };
    let explained = columns
        .iter()
        .map(|&c| {
            let episodes = explain_of(&all, c, &kin, &spec, domain)
                .map_err(|e| error(format!("streams[{c}] ({}): {e}", all[c].name)))?;
            Ok(Explained {
                column: all[c].name,
                episodes,
            })
        })
        .collect::<Result<Vec<_>, JsError>>()?;
    Ok(to_js(&explained)?.into())
}

/// Stream indexes below `n`, `None` when absent.
fn indexes(value: &JsValue, what: &str, n: usize) -> Result<Option<Vec<usize>>, JsError> {
    if absent(value) {
        return Ok(None);
    }
    let list: Array = items(value, what, "an array of stream indexes")?;
    list.iter()
        .enumerate()
        .map(|(i, v)| match v.as_f64() {
            Some(x) if x >= 0.0 && x.fract() == 0.0 && (x as usize) < n => Ok(x as usize),
            _ => Err(error(format!(
                "{what}[{i}]: not a stream index; give a whole number below {n}"
            ))),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}
