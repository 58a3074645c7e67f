//! The comparison's wasm-bindgen API (issue 12; cargo feature `wasm`): plain JavaScript objects
//! and typed arrays in, plain objects out, shaped as the compare contract.
//!
//! ```js
//! const result = compare(
//!   [{ name: "A", values: new Float64Array(ttftA), requests: 1000, errors: 3 },
//!    { name: "B", values: ttftB }],
//!   { metric: "TTFT", unit: "ms", confidence: 0.95, reference: null });
//! result.targets[0].p95;   // { value, lo, hi }
//! result.pairs[0].words;   // "A's TTFT is 118 ms lower than B's (95% CI 84–150 ms)"
//! recommend(candidates, { max_latency: 800 }, { cost: 4 }, undefined, result.pairs);
//! oddMachines([{ name: "press-1", values }, ...], "ms");
//! shiftTest(a, b, 0.95);   // { shift, lo, hi, p_value, w, exact }
//! ```
//! Bad input throws an `Error` naming the argument and the field (`streams[2].values[17]: not a
//! number`); unknown keys are refused, so a misspelt setting is not silently ignored.

use crate::compare::machines::{odd_machines as odd_machines_of, MachineInput};
use crate::compare::recommend::{
    recommend as recommend_of, Candidate, Constraints, Labels, Weights,
};
use crate::compare::{self as engine, CompareOptions, PairComparison, QualityCounts, StreamInput};
use crate::wasm::{error, to_js};
use js_sys::{Array, Float64Array, Object, Reflect};
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** One stream to compare: a target's (or machine's) metric values, in time order. */
export interface CompareStream {
  name: string;
  /** The metric of each successful request. */
  values: Float64Array | number[];
  /** All requests, failed ones included (default: values + errors). */
  requests?: number;
  /** Failed requests (default 0). */
  errors?: number;
  /** Quality checks judged and passed, where the target has a check. */
  quality?: { passed: number; judged: number } | null;
}

export interface CompareOptions {
  /** The metric's name in sentences (default "TTFT"). */
  metric?: string;
  /** Its unit (default "ms"). */
  unit?: string;
  /** Two-sided confidence of every interval (default 0.95). */
  confidence?: number;
  /** Compare only stream `reference` (0-based) with each other one: 19 pairs of 20, not 190. */
  reference?: number | null;
}

/** An estimate with its interval; a bound is null when the data cannot give it. */
export interface Interval { value: number | null; lo: number | null; hi: number | null }

export interface Comparison {
  metric: string;
  targets: { name: string; n: number; n_ok: number; error_rate: Interval; p50: Interval;
    p95: Interval; p99: Interval; mean: number | null; sd: number | null;
    in_control: boolean | null; stability: string; pass_rate: Interval | null }[];
  pairs: PairComparison[];
}

export interface PairComparison {
  a: string; b: string; shift: number; lo: number; hi: number; p_value: number;
  p_unadjusted: number; significant: boolean; exact: boolean; n_a: number; n_b: number;
  words: string;
}

export interface Candidate {
  name: string; n: number; latency?: Interval | null; speed?: Interval | null;
  error_rate: Interval; pass_rate?: Interval | null; cost_per_success?: number | null;
  in_control?: boolean | null;
}

export interface Constraints {
  max_latency?: number | null; max_error_rate?: number | null; min_pass_rate?: number | null;
  max_cost?: number | null;
}

export interface Weights { cost?: number; latency?: number; speed?: number; quality?: number }

export interface Labels { latency?: string; latency_unit?: string; speed?: string; speed_unit?: string }

export interface Recommendation {
  pareto: string[];
  recommendation: { name: string | null; reasons: string[]; caveats: string[] };
  ranking: { name: string; score: number; rank: number }[];
}

export interface MachineReport {
  machines: { name: string; n: number; median: number | null; peers_median: number | null;
    z: number | null; odd: boolean; words: string }[];
  center: number | null; scale: number | null; enough: boolean; odd: string[]; summary: string;
}

export interface ShiftTest { shift: number; lo: number; hi: number; p_value: number; w: number; exact: boolean }
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "CompareStream[]")]
    pub type JsStreams;
    #[wasm_bindgen(typescript_type = "CompareOptions | undefined")]
    pub type JsCompareOptions;
    #[wasm_bindgen(typescript_type = "Comparison")]
    pub type JsComparison;
    #[wasm_bindgen(typescript_type = "Candidate[]")]
    pub type JsCandidates;
    #[wasm_bindgen(typescript_type = "Constraints | undefined")]
    pub type JsConstraints;
    #[wasm_bindgen(typescript_type = "Weights | undefined")]
    pub type JsWeights;
    #[wasm_bindgen(typescript_type = "Labels | undefined")]
    pub type JsLabels;
    #[wasm_bindgen(typescript_type = "PairComparison[] | undefined")]
    pub type JsPairs;
    #[wasm_bindgen(typescript_type = "Recommendation")]
    pub type JsRecommendation;
    #[wasm_bindgen(typescript_type = "{ name: string; values: Float64Array | number[] }[]")]
    pub type JsMachines;
    #[wasm_bindgen(typescript_type = "MachineReport")]
    pub type JsMachineReport;
    #[wasm_bindgen(typescript_type = "Float64Array | number[]")]
    pub type JsNumbers;
    #[wasm_bindgen(typescript_type = "ShiftTest")]
    pub type JsShiftTest;
}

const STREAM_FIELDS: &[&str] = &["name", "values", "requests", "errors", "quality"];
const QUALITY_FIELDS: &[&str] = &["passed", "judged"];
const OPTION_FIELDS: &[&str] = &["metric", "unit", "confidence", "reference"];
const CANDIDATE_FIELDS: &[&str] = &[
    "name",
    "n",
    "latency",
    "speed",
    "error_rate",
    "pass_rate",
    "cost_per_success",
    "in_control",
];
const CONSTRAINT_FIELDS: &[&str] = &["max_latency", "max_error_rate", "min_pass_rate", "max_cost"];
const WEIGHT_FIELDS: &[&str] = &["cost", "latency", "speed", "quality"];
const LABEL_FIELDS: &[&str] = &["latency", "latency_unit", "speed", "speed_unit"];
const MACHINE_FIELDS: &[&str] = &["name", "values"];

/// Absent: `undefined` or `null`.
pub(crate) fn absent(value: &JsValue) -> bool {
    value.is_undefined() || value.is_null()
}

/// Refuses keys outside `known`, naming the first unknown one.
pub(crate) fn known_keys(value: &JsValue, what: &str, known: &[&str]) -> Result<(), JsError> {
    let Some(object) = value.dyn_ref::<Object>() else {
        return Err(error(format!("{what}: not an object")));
    };
    for key in Object::keys(object).iter().filter_map(|k| k.as_string()) {
        if !known.contains(&key.as_str()) {
            return Err(error(format!(
                "{what}: unknown field '{key}'; known: {}",
                known.join(", ")
            )));
        }
    }
    Ok(())
}

/// A value of type T read by serde, an error naming the path to the bad field.
fn from_js<T: DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsError> {
    let de = serde_wasm_bindgen::Deserializer::from(value);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let at = match path.as_str() {
            "." => what.to_string(),
            p if p.starts_with('[') => format!("{what}{p}"),
            p => format!("{what}.{p}"),
        };
        // serde-wasm-bindgen's errors are JavaScript Errors, displayed "Error: ...".
        let message = e.inner().to_string();
        error(format!("{at}: {}", message.trim_start_matches("Error: ")))
    })
}

/// An optional settings object: the default when absent, unknown keys refused.
fn settings<T: DeserializeOwned + Default>(
    value: JsValue,
    what: &str,
    known: &[&str],
) -> Result<T, JsError> {
    if absent(&value) {
        return Ok(T::default());
    }
    known_keys(&value, what, known)?;
    from_js(value, what)
}

/// An array's items, or an error naming `what`.
pub(crate) fn items(value: &JsValue, what: &str, give: &str) -> Result<Array, JsError> {
    value
        .dyn_ref::<Array>()
        .cloned()
        .ok_or_else(|| error(format!("{what}: not an array; give {give}")))
}

/// Field `key` of an object (undefined when missing).
pub(crate) fn field(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Numbers from a Float64Array or an array of numbers.
pub(crate) fn numbers(value: &JsValue, what: &str) -> Result<Vec<f64>, JsError> {
    if let Some(typed) = value.dyn_ref::<Float64Array>() {
        return Ok(typed.to_vec());
    }
    let array = items(value, what, "a Float64Array or an array of numbers")?;
    array
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_f64()
                .ok_or_else(|| error(format!("{what}[{i}]: not a number")))
        })
        .collect()
}

/// A count (a whole number >= 0), `None` when absent.
fn count(value: &JsValue, what: &str) -> Result<Option<u64>, JsError> {
    if absent(value) {
        return Ok(None);
    }
    match value.as_f64() {
        Some(x) if x >= 0.0 && x.fract() == 0.0 && x <= 9_007_199_254_740_992.0 => {
            Ok(Some(x as u64))
        }
        Some(x) => Err(error(format!(
            "{what}: {x} is not a count; give a whole number >= 0"
        ))),
        None => Err(error(format!(
            "{what}: not a number; give a whole number >= 0"
        ))),
    }
}

/// A name: a string.
pub(crate) fn name(value: &JsValue, what: &str) -> Result<String, JsError> {
    value.as_string().ok_or_else(|| {
        error(format!(
            "{what}: missing or not a string; give each one a name"
        ))
    })
}

/// One stream as read from JavaScript, owning its values.
struct Stream {
    name: String,
    values: Vec<f64>,
    requests: u64,
    errors: u64,
    quality: Option<QualityCounts>,
}

impl Stream {
    fn read(item: &JsValue, at: &str) -> Result<Stream, JsError> {
        known_keys(item, at, STREAM_FIELDS)?;
        let values = numbers(&field(item, "values"), &format!("{at}.values"))?;
        let errors = count(&field(item, "errors"), &format!("{at}.errors"))?.unwrap_or(0);
        let requests = count(&field(item, "requests"), &format!("{at}.requests"))?
            .unwrap_or(values.len() as u64 + errors);
        let quality = field(item, "quality");
        let quality = if absent(&quality) {
            None
        } else {
            let at = format!("{at}.quality");
            known_keys(&quality, &at, QUALITY_FIELDS)?;
            let read = |key: &str| {
                count(&field(&quality, key), &format!("{at}.{key}"))?
                    .ok_or_else(|| error(format!("{at}.{key}: missing")))
            };
            Some(QualityCounts {
                passed: read("passed")?,
                judged: read("judged")?,
            })
        };
        Ok(Stream {
            name: name(&field(item, "name"), &format!("{at}.name"))?,
            values,
            requests,
            errors,
            quality,
        })
    }

    fn input(&self) -> StreamInput<'_> {
        StreamInput {
            name: &self.name,
            values: &self.values,
            requests: self.requests,
            errors: self.errors,
            quality: self.quality,
        }
    }
}

/// Compares streams of one metric: per stream n, P50/P95/P99 with exact intervals, error and
/// pass rates, stability; per pair the Hodges–Lehmann shift with its interval and the
/// Holm-adjusted Mann–Whitney p-value, in words.
#[wasm_bindgen]
pub fn compare(streams: JsStreams, options: JsCompareOptions) -> Result<JsComparison, JsError> {
    let streams: JsValue = streams.into();
    let list = items(&streams, "streams", "an array of {name, values}")?;
    let owned = list
        .iter()
        .enumerate()
        .map(|(i, item)| Stream::read(&item, &format!("streams[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let inputs: Vec<StreamInput> = owned.iter().map(Stream::input).collect();
    let options: CompareOptions = settings(options.into(), "options", OPTION_FIELDS)?;
    let comparison = engine::compare(&inputs, &options).map_err(error)?;
    Ok(to_js(&comparison)?.unchecked_into())
}

/// The recommendation: Pareto frontier, ranked verdict with reasons, caveats. `latencyPairs`
/// (optional) are `compare(...).pairs` of the latency metric: a significant shift there counts
/// as a latency difference even where the quantile intervals overlap.
#[wasm_bindgen]
pub fn recommend(
    candidates: JsCandidates,
    constraints: JsConstraints,
    weights: JsWeights,
    labels: JsLabels,
    latency_pairs: JsPairs,
) -> Result<JsRecommendation, JsError> {
    let candidates: JsValue = candidates.into();
    let list = items(&candidates, "candidates", "an array of candidates")?;
    for (i, item) in list.iter().enumerate() {
        known_keys(&item, &format!("candidates[{i}]"), CANDIDATE_FIELDS)?;
    }
    let candidates: Vec<Candidate> = from_js(candidates, "candidates")?;
    let constraints: Constraints = settings(constraints.into(), "constraints", CONSTRAINT_FIELDS)?;
    let weights: Weights = settings(weights.into(), "weights", WEIGHT_FIELDS)?;
    let labels: Labels = settings(labels.into(), "labels", LABEL_FIELDS)?;
    let pairs: JsValue = latency_pairs.into();
    let pairs: Vec<PairComparison> = if absent(&pairs) {
        Vec::new()
    } else {
        from_js(pairs, "latencyPairs")?
    };
    let result =
        recommend_of(&candidates, &pairs, &constraints, &weights, &labels).map_err(error)?;
    Ok(to_js(&result)?.unchecked_into())
}

/// The machine unlike its peers: each machine's median against the others' by Iglewicz &
/// Hoaglin's modified z, flagged above 3.5 with its evidence.
#[wasm_bindgen(js_name = oddMachines)]
pub fn odd_machines(
    machines: JsMachines,
    unit: Option<String>,
) -> Result<JsMachineReport, JsError> {
    let machines: JsValue = machines.into();
    let list = items(&machines, "machines", "an array of {name, values}")?;
    let owned = list
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("machines[{i}]");
            known_keys(&item, &at, MACHINE_FIELDS)?;
            Ok((
                name(&field(&item, "name"), &format!("{at}.name"))?,
                numbers(&field(&item, "values"), &format!("{at}.values"))?,
            ))
        })
        .collect::<Result<Vec<_>, JsError>>()?;
    let inputs: Vec<MachineInput> = owned
        .iter()
        .map(|(name, values)| MachineInput { name, values })
        .collect();
    let report = odd_machines_of(&inputs, unit.as_deref().unwrap_or("")).map_err(error)?;
    Ok(to_js(&report)?.unchecked_into())
}

/// The Hodges–Lehmann shift a − b with its Moses interval and the Mann–Whitney p-value, as R's
/// `wilcox.test(a, b, conf.int = TRUE, conf.level = confidence)`. The samples may be in any
/// order (they are sorted here); `confidence` defaults to 0.95.
#[wasm_bindgen(js_name = shiftTest)]
pub fn shift_test(
    a: JsNumbers,
    b: JsNumbers,
    confidence: Option<f64>,
) -> Result<JsShiftTest, JsError> {
    let sorted = |value: JsNumbers, what: &str| -> Result<Vec<f64>, JsError> {
        let mut xs = numbers(&value.into(), what)?;
        if let Some(i) = xs.iter().position(|x| !x.is_finite()) {
            return Err(error(format!(
                "{what}[{i}]: {} is not a finite number",
                xs[i]
            )));
        }
        xs.sort_unstable_by(f64::total_cmp);
        Ok(xs)
    };
    let (a, b) = (sorted(a, "a")?, sorted(b, "b")?);
    let test = engine::shift_test(&a, &b, confidence.unwrap_or(0.95)).map_err(error)?;
    Ok(to_js(&test)?.unchecked_into())
}
