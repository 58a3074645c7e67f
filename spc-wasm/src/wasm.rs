//! The wasm-bindgen API for JavaScript users (cargo feature `wasm`).
//!
//! ```js
//! const chart = new Chart({ chart: "individuals", phase1: 20, tests: "nelson" });
//! for (const x of values) for (const s of chart.push(x)) console.log(s.test ?? s.rule, s.index);
//! chart.pushBatch(new Float64Array(more));
//! chart.pushBatchPacked(new Float64Array(more)); // Uint32Array: [chart, test, index, first]...
//!                                                // (test 9 + k: the set's named rule k)
//! chart.limits();   // { center, sigma, primary: { lcl, ucl, ... }, secondary, ... }
//! chart.signals();  // every signal so far
//! ```
//! Settings are the shim's `analyze` flags in snake_case ([`ChartConfig`]). Errors are thrown
//! as JavaScript `Error`s with the engine's message; a rejected value changes nothing.

use crate::arl;
use crate::config::ChartConfig;
use crate::custom::RuleSignal;
use crate::monitor::{Monitor, Observation, Point, Sink, Which};
use crate::rules::{RuleSet, Signal};
use crate::{analyze as analyze_batch, Data, Estimate};
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** Chart settings: the names of `llmscope-shim analyze`'s flags, in snake_case. */
export interface ChartConfig {
  chart?: "individuals" | "xbar-r" | "xbar-s" | "p" | "np" | "c" | "u" | "ewma" | "cusum";
  /** The first N points (or subgroups) estimate the limits. Default 20 for a streaming chart. */
  phase1?: number;
  /** Baseline as [start, end), 0-based. */
  baseline_range?: [number, number];
  /** Known mean and sigma instead of a baseline. */
  mu?: number;
  sigma?: number;
  /** "nelson" (default), "western-electric", "westgard", "none", a list like "1,2:8,5", or
   *  named rules ("2-2s: 2 of 2 beyond 2s; ...", see checkRules), whose signals carry `rule`. */
  tests?: string;
  lambda?: number;
  width?: number;
  k?: number;
  h?: number;
  head_start?: number;
  exclude_out_of_control?: boolean;
  transform?: "none" | "log" | "box-cox";
  box_cox_lambda?: number;
  sigma_method?: "auto" | "moving-range" | "median-moving-range" | "overall-sd" | "average-range" | "average-sd" | "pooled-sd";
}

/** A special cause: the test (1-8) or the named rule, the point that completed it, and the
 *  first point of its pattern. */
export interface Signal {
  chart: "primary" | "secondary";
  /** Nelson's test, 1-8; absent from a named rule's signal. */
  test?: number;
  /** A named rule's name, e.g. "2-2s" (named rules run on the primary chart). */
  rule?: string;
  /** true on a warning rule's signal (reported, not a rejection). */
  warning?: boolean;
  index: number;
  first: number;
  last: number;
}

/** A plotted point with the limits it was judged against. */
export interface PointLimits {
  index: number;
  statistic: number;
  center: number;
  lcl: number | null;
  ucl: number | null;
  sigma: number;
}

export interface ChartLimits {
  center: number;
  sigma: number;
  baseline_start: number;
  baseline_end: number;
  excluded: number[];
  /** The latest point of each chart. */
  primary: PointLimits | null;
  secondary: PointLimits | null;
}

export interface AverageRunLength {
  value: number;
  method: "markov-chain" | { simulation: { runs: number; seed: number } };
  std_error: number | null;
}
"#;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(typescript_type = "ChartConfig")]
    pub type JsChartConfig;
    #[wasm_bindgen(typescript_type = "Signal[]")]
    pub type JsSignals;
    #[wasm_bindgen(typescript_type = "ChartLimits | undefined")]
    pub type JsLimits;
    #[wasm_bindgen(typescript_type = "AverageRunLength")]
    pub type JsArl;
    #[wasm_bindgen(typescript_type = "any")]
    pub type JsAnalysis;
}

/// Default baseline for a streaming chart without one: 20 points (Montgomery's minimum of 20
/// to 25 subgroups).
const DEFAULT_PHASE1: usize = 20;

pub(crate) fn error(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

pub(crate) fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(error)
}

pub(crate) fn config_from(value: JsValue) -> Result<ChartConfig, JsError> {
    if value.is_undefined() || value.is_null() {
        return Ok(ChartConfig::default());
    }
    // serde-wasm-bindgen reads only the fields it knows, so unknown ones are caught here.
    if let Some(object) = value.dyn_ref::<js_sys::Object>() {
        for key in js_sys::Object::keys(object)
            .iter()
            .filter_map(|k| k.as_string())
        {
            if !ChartConfig::FIELDS.contains(&key.as_str()) {
                return Err(error(format!(
                    "chart settings: unknown setting '{key}'; known: {}",
                    ChartConfig::FIELDS.join(", ")
                )));
            }
        }
    }
    serde_wasm_bindgen::from_value(value).map_err(|e| error(format!("chart settings: {e}")))
}

#[wasm_bindgen(inline_js = r#"
export function signalsFromPacked(packed, rules) {
  const signals = new Array(packed.length >>> 2);
  for (let i = 0, j = 0; i < signals.length; i++, j += 4) {
    const index = packed[j + 2], test = packed[j + 1];
    const chart = packed[j] === 0 ? "primary" : "secondary";
    if (test <= 8) {
      signals[i] = { chart, test, index, first: packed[j + 3], last: index };
    } else {
      const rule = rules[test - 9];
      signals[i] = { chart, rule: rule.name, index, first: packed[j + 3], last: index };
      if (rule.warning) signals[i].warning = true;
    }
  }
  return signals;
}
"#)]
extern "C" {
    /// The signals as plain JavaScript objects, built in JavaScript from a view of wasm memory:
    /// a batch can complete a hundred thousand signals, and one object literal per signal
    /// costs less than setting five fields across the boundary (serde-wasm-bindgen) or writing
    /// and parsing JSON text.
    /// `rules`: the set's named rules, `{name, warning}` each, for the signals of test 9 + k.
    #[wasm_bindgen(js_name = signalsFromPacked)]
    fn signals_from_packed(packed: &[u32], rules: &JsValue) -> JsSignals;
}

/// A signal as [`signals_from_packed`] reads it: chart (0 primary, 1 secondary), test (1-8, or
/// [`FIRST_RULE`] + k for the set's named rule k), index, first (`last` is always `index`).
type PackedSignal = [u32; 4];

/// The packed `test` of the set's first named rule: past Nelson's eight.
const FIRST_RULE: u32 = 9;

fn pack(which: Which, s: Signal) -> PackedSignal {
    // usize is u32 on wasm32, the only target this API runs on.
    let index = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
    [
        u32::from(which == Which::Companion),
        u32::from(s.test.number()),
        index(s.index),
        index(s.first),
    ]
}

#[derive(Default)]
struct Collector {
    /// Every signal so far, in the order found; the ones from `fresh` on are not yet returned.
    all: Vec<PackedSignal>,
    fresh: usize,
    primary: Option<Point>,
    companion: Option<Point>,
}

impl Sink for Collector {
    fn point(&mut self, which: Which, point: Point) {
        match which {
            Which::Primary => self.primary = Some(point),
            Which::Companion => self.companion = Some(point),
        }
    }
    fn signal(&mut self, which: Which, signal: Signal) {
        self.all.push(pack(which, signal));
    }
    fn rule_signal(&mut self, which: Which, s: RuleSignal) {
        let index = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        let test = FIRST_RULE.saturating_add(index(s.rule));
        let chart = u32::from(which == Which::Companion);
        self.all.push([chart, test, index(s.index), index(s.first)]);
    }
}

/// The set's named rules as [`signals_from_packed`] names them: `[{name, warning}]`.
fn rule_names(spec: &crate::ChartSpec) -> Result<JsValue, JsError> {
    #[derive(Serialize)]
    struct Named<'a> {
        name: &'a str,
        warning: bool,
    }
    let rules = spec.tests.custom().rules().iter();
    let named: Vec<Named> = rules
        .map(|r| Named {
            name: &r.name,
            warning: r.warning,
        })
        .collect();
    to_js(&named)
}

/// A streaming control chart.
#[wasm_bindgen(js_name = Chart)]
pub struct JsChart {
    monitor: Monitor,
    sink: Collector,
    /// [`rule_names`] of the chart's set.
    rules: JsValue,
}

#[wasm_bindgen(js_class = Chart)]
impl JsChart {
    /// A chart for these settings; throws on a bad setting, naming it.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsChartConfig) -> Result<JsChart, JsError> {
        let mut config = config_from(config.into())?;
        let has_baseline =
            config.phase1.is_some() || config.baseline_range.is_some() || config.mu.is_some();
        if !has_baseline {
            config.phase1 = Some(DEFAULT_PHASE1);
        }
        let spec = config.to_spec().map_err(error)?;
        let rules = rule_names(&spec)?;
        let monitor = Monitor::streaming(spec).map_err(error)?;
        Ok(JsChart {
            monitor,
            sink: Collector::default(),
            rules,
        })
    }

    /// The signals not yet returned.
    fn take(&mut self) -> JsSignals {
        let fresh =
            signals_from_packed(self.sink.all[self.sink.fresh..].as_flattened(), &self.rules);
        self.sink.fresh = self.sink.all.len();
        fresh
    }

    /// Adds one value; returns the signals it completed (all baseline signals when it
    /// completes the baseline): Nelson's tests with their `test`, then named rules' with their
    /// `rule`, at each point.
    pub fn push(&mut self, value: f64) -> Result<JsSignals, JsError> {
        self.monitor
            .push(Observation::Value(value), &mut self.sink)
            .map_err(error)?;
        Ok(self.take())
    }

    /// Adds many values; returns the signals they completed. Stops at the first bad value,
    /// keeping the ones before it.
    #[wasm_bindgen(js_name = pushBatch)]
    pub fn push_batch(&mut self, values: &[f64]) -> Result<JsSignals, JsError> {
        self.push_values(values)?;
        Ok(self.take())
    }

    /// Adds many values like `pushBatch`, and returns the signals they completed packed four
    /// numbers each: chart (0 primary, 1 secondary), test (1-8, or 9 + k for the set's named
    /// rule k, 0-based, as `checkRules` lists them), index, first (`last` is `index`). For
    /// batches that complete very many signals: no object per signal.
    #[wasm_bindgen(js_name = pushBatchPacked)]
    pub fn push_batch_packed(&mut self, values: &[f64]) -> Result<js_sys::Uint32Array, JsError> {
        self.push_values(values)?;
        let fresh = js_sys::Uint32Array::from(self.sink.all[self.sink.fresh..].as_flattened());
        self.sink.fresh = self.sink.all.len();
        Ok(fresh)
    }

    /// Pushes values up to the first bad one. On a bad value the call throws, so the signals
    /// of the good values before it are then only in `signals()`.
    fn push_values(&mut self, values: &[f64]) -> Result<(), JsError> {
        for &x in values {
            if let Err(e) = self.monitor.push(Observation::Value(x), &mut self.sink) {
                self.sink.fresh = self.sink.all.len();
                return Err(error(e));
            }
        }
        Ok(())
    }

    /// Adds one subgroup (X-bar charts, or EWMA/CUSUM of subgroup means).
    #[wasm_bindgen(js_name = pushSubgroup)]
    pub fn push_subgroup(&mut self, values: &[f64]) -> Result<JsSignals, JsError> {
        self.monitor
            .push(Observation::Subgroup(values), &mut self.sink)
            .map_err(error)?;
        Ok(self.take())
    }

    /// Adds a count of defects or defectives in a sample of `size` (p, np, c, u charts).
    #[wasm_bindgen(js_name = pushCount)]
    pub fn push_count(&mut self, count: f64, size: f64) -> Result<JsSignals, JsError> {
        self.monitor
            .push(Observation::Count { count, size }, &mut self.sink)
            .map_err(error)?;
        Ok(self.take())
    }

    /// Observations pushed so far.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.monitor.len()
    }

    /// The frozen center and sigma, and the latest limits; undefined until the baseline is
    /// complete.
    pub fn limits(&self) -> Result<JsLimits, JsError> {
        #[derive(Serialize)]
        struct Limits<'a> {
            center: f64,
            sigma: f64,
            baseline_start: usize,
            baseline_end: usize,
            excluded: &'a [usize],
            primary: Option<Point>,
            #[serde(rename = "secondary")]
            companion: Option<Point>,
        }
        let Some(e): Option<&Estimate> = self.monitor.estimate() else {
            return Ok(JsValue::UNDEFINED.unchecked_into());
        };
        let limits = Limits {
            center: e.center,
            sigma: e.sigma,
            baseline_start: e.baseline_start,
            baseline_end: e.baseline_end,
            excluded: &e.excluded,
            primary: self.sink.primary,
            companion: self.sink.companion,
        };
        Ok(to_js(&limits)?.unchecked_into())
    }

    /// Every signal so far, in the order found.
    pub fn signals(&self) -> Result<JsSignals, JsError> {
        Ok(signals_from_packed(
            self.sink.all.as_flattened(),
            &self.rules,
        ))
    }
}

/// Batch analysis of single values: the whole chart as a plain object (estimate, points with
/// limits, signals, companion chart).
#[wasm_bindgen]
pub fn analyze(config: JsChartConfig, values: &[f64]) -> Result<JsAnalysis, JsError> {
    let spec = config_from(config.into())?.to_spec().map_err(error)?;
    let chart = analyze_batch(&spec, &Data::Values(values.to_vec())).map_err(error)?;
    Ok(to_js(&chart)?.unchecked_into())
}

/// Average run length of a Shewhart chart with these tests ("nelson", "1,5", ...) after a
/// shift of the mean of `shift` sigma (0: the in-control false-alarm interval).
#[wasm_bindgen(js_name = averageRunLength)]
pub fn average_run_length(tests: &str, shift: f64) -> Result<JsArl, JsError> {
    let rules: RuleSet = tests.parse().map_err(error)?;
    let value = arl::shewhart(&rules, shift).map_err(error)?;
    Ok(to_js(&value)?.unchecked_into())
}
