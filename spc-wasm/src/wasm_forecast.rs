//! The forecast wasm-bindgen API (issue 14; cargo feature `wasm`): the degradation, time to
//! limit and predictive alert of many streams, as `llmscope-shim forecast`'s JSON.
//!
//! ```js
//! const [press] = forecast(
//!   [{ name: "press1/temperature", values: new Float64Array(t), usl: 80 }],
//!   { horizon: 3600, probability: 0.8 });
//! press.alert;                        // true
//! press.time_to_limit.median;         // points after the last one (null: not within the horizon)
//! ```
//! Without `band: true` the forecast band is left out (what an alerting loop over many
//! streams needs, [`predict`]). Bad input throws an `Error` naming the argument and the field
//! (`streams[2].values[17]: not a number`); unknown keys are refused.

use crate::forecast::limit::Crossing;
use crate::forecast::{outlook, predict, Degradation, Model, Settings, Side, Step, TimeToLimit};
use crate::wasm::{error, to_js};
use crate::wasm_compare::{absent, field, items, known_keys, name, numbers};
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** One stream, with its own limits if they differ from the options'. */
export interface ForecastStream {
  name: string; values: Float64Array | number[]; lsl?: number; usl?: number;
}

export interface ForecastOptions {
  /** Points forecast past the last one, also the alert's horizon (default 100). */
  horizon?: number;
  /** The alert fires when P(crossing within the horizon) is at least this (default 0.8). */
  probability?: number;
  /** "auto" (default: the line, or the wear curve when a degradation steepens), "linear",
   *  "exponential" or "holt". */
  model?: "auto" | "linear" | "exponential" | "holt";
  /** The limits of every stream without its own. */
  lsl?: number;
  usl?: number;
  /** Include the forecast band (default false). */
  band?: boolean;
}

/** One stream's forecast, as `llmscope-shim forecast`'s JSON with spec limits. */
export interface Forecast {
  column: string;
  n: number;
  degradation: { detected: boolean; start: number; slope: number; lo: number; hi: number };
  forecast?: { index: number; median: number; lo80: number; hi80: number; lo95: number; hi95: number }[];
  time_to_limit: {
    limit: "usl" | "lsl" | null; value: number | null;
    median: number | null; lo80: number | null; hi80: number | null;
    lo95: number | null; hi95: number | null; probability: number; within_reach: number;
  };
  alert: boolean;
}
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "ForecastStream[]")]
    pub type JsForecastStreams;
    #[wasm_bindgen(typescript_type = "ForecastOptions | undefined")]
    pub type JsForecastOptions;
    #[wasm_bindgen(typescript_type = "Forecast[]")]
    pub type JsForecasts;
}

const STREAM_FIELDS: &[&str] = &["name", "values", "lsl", "usl"];
const OPTION_FIELDS: &[&str] = &["horizon", "probability", "model", "lsl", "usl", "band"];

#[derive(Serialize)]
struct Forecast<'a> {
    column: &'a str,
    n: usize,
    degradation: Found,
    #[serde(skip_serializing_if = "Option::is_none")]
    forecast: Option<Vec<Band>>,
    time_to_limit: Time,
    alert: bool,
}

#[derive(Serialize)]
struct Found {
    detected: bool,
    start: usize,
    slope: f64,
    lo: f64,
    hi: f64,
}

#[derive(Serialize)]
struct Band {
    index: usize,
    median: f64,
    lo80: f64,
    hi80: f64,
    lo95: f64,
    hi95: f64,
}

#[derive(Serialize)]
struct Time {
    limit: Option<&'static str>,
    value: Option<f64>,
    median: Option<f64>,
    lo80: Option<f64>,
    hi80: Option<f64>,
    lo95: Option<f64>,
    hi95: Option<f64>,
    probability: f64,
    within_reach: f64,
}

impl Found {
    fn of(d: &Degradation) -> Found {
        Found {
            detected: d.detected,
            start: d.start,
            slope: d.slope,
            lo: d.lo,
            hi: d.hi,
        }
    }
}

impl Time {
    fn of(t: &TimeToLimit) -> Time {
        let Crossing {
            median,
            lo80,
            hi80,
            lo95,
            hi95,
            probability,
            within_reach,
        } = t.crossing;
        Time {
            limit: t.side.map(|s| match s {
                Side::Upper => "usl",
                Side::Lower => "lsl",
            }),
            value: t.limit,
            median,
            lo80,
            hi80,
            lo95,
            hi95,
            probability,
            within_reach,
        }
    }
}

fn band(steps: &[Step]) -> Vec<Band> {
    steps
        .iter()
        .map(|s| Band {
            index: s.index,
            median: s.median,
            lo80: s.lo80,
            hi80: s.hi80,
            lo95: s.lo95,
            hi95: s.hi95,
        })
        .collect()
}

/// The forecast of each of `streams`: its degradation, time to limit and predictive alert,
/// and with `options.band` its forecast band.
#[wasm_bindgen]
pub fn forecast(
    streams: JsForecastStreams,
    options: JsForecastOptions,
) -> Result<JsForecasts, JsError> {
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
    let defaults = Settings::default();
    let mut settings = Settings {
        horizon: match number(&read("horizon"), "options.horizon")? {
            None => defaults.horizon,
            Some(h) if h >= 1.0 && h.fract() == 0.0 && h <= u32::MAX as f64 => h as usize,
            Some(h) => {
                return Err(error(format!(
                    "options.horizon: {h} is not a count of points; give a whole number >= 1"
                )))
            }
        },
        probability: number(&read("probability"), "options.probability")?
            .unwrap_or(defaults.probability),
        model: match read("model").as_string().as_deref() {
            None if absent(&read("model")) => Model::Auto,
            Some("auto") => Model::Auto,
            Some("linear") => Model::Linear,
            Some("exponential") => Model::Exponential,
            Some("holt") => Model::DampedHolt,
            _ => {
                return Err(error(
                    "options.model: give \"auto\", \"linear\", \"exponential\" or \"holt\"",
                ))
            }
        },
        lower: number(&read("lsl"), "options.lsl")?,
        upper: number(&read("usl"), "options.usl")?,
    };
    let with_band = match read("band") {
        b if absent(&b) => false,
        b => b
            .as_bool()
            .ok_or_else(|| error("options.band: give true or false"))?,
    };
    let (lower, upper) = (settings.lower, settings.upper);
    let streams: JsValue = streams.into();
    let list = items(&streams, "streams", "an array of { name, values }")?;
    let mut out = Vec::with_capacity(list.length() as usize);
    for (i, item) in list.iter().enumerate() {
        let at = format!("streams[{i}]");
        known_keys(&item, &at, STREAM_FIELDS)?;
        let column = name(&field(&item, "name"), &format!("{at}.name"))?;
        let values = numbers(&field(&item, "values"), &format!("{at}.values"))?;
        settings.lower = number(&field(&item, "lsl"), &format!("{at}.lsl"))?.or(lower);
        settings.upper = number(&field(&item, "usl"), &format!("{at}.usl"))?.or(upper);
        let failed = |e| error(format!("{at} ({column}): {e}"));
        let (n, degradation, steps, time, alert) = if with_band {
            let o = outlook(&values, &settings).map_err(failed)?;
            let steps = Some(band(&o.forecast));
            (o.n, o.degradation, steps, o.time_to_limit, o.alert)
        } else {
            let p = predict(&values, &settings).map_err(failed)?;
            (p.n, p.degradation, None, p.time_to_limit, p.alert)
        };
        let json = Forecast {
            column: &column,
            n,
            degradation: Found::of(&degradation),
            forecast: steps,
            time_to_limit: Time::of(&time),
            alert,
        };
        out.push(to_js(&json)?);
    }
    Ok(out.into_iter().collect::<js_sys::Array>().unchecked_into())
}

/// A finite number, `None` when absent.
fn number(value: &JsValue, what: &str) -> Result<Option<f64>, JsError> {
    if absent(value) {
        return Ok(None);
    }
    match value.as_f64() {
        Some(x) if x.is_finite() => Ok(Some(x)),
        _ => Err(error(format!("{what}: not a finite number"))),
    }
}
