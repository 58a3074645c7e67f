//! # llmscope-spc: the LLMscope statistical process control engine
//!
//! Control charts, tests for special causes, average run lengths, capability and transforms,
//! as plain Rust with no I/O: the same engine runs in the browser (wasm32), in the Cloudflare
//! Worker and in the native shim.
//!
//! The central types:
//! - [`ChartSpec`] says what to compute: the chart ([`ChartType`]), the sigma estimator
//!   ([`SigmaMethod`]), the Phase I [`Baseline`], the tests ([`RuleSet`]), a transform.
//! - [`Monitor`] is a streaming chart: [`Monitor::push`] one observation at a time, O(1)
//!   amortized per point once the baseline is complete.
//! - [`analyze`] is the batch analysis. It is the monitor fed a whole series, so batch and
//!   streaming agree exactly.
//! - [`Chart`] is the result as a value: estimate, points with their limits, [`Signal`]s, and
//!   the companion chart.
//!
//! Findings are data, not failures: a special cause is a [`Signal`]; `Err` ([`SpcError`]) is
//! only for input the engine cannot use, and it names what and where.
//!
//! ```
//! use llmscope_spc::{analyze, ChartSpec, ChartType, Data, NelsonRule};
//! let mut values: Vec<f64> = (0..30).map(|i| 10.0 + ((i * 7) % 5) as f64 * 0.1).collect();
//! values.push(25.0); // a point far beyond the limits
//! let chart = analyze(&ChartSpec::new(ChartType::Individuals), &Data::Values(values)).unwrap();
//! assert!(chart.primary.signals.iter().any(|s| s.test == NelsonRule::Beyond && s.index == 30));
//! ```
#![deny(missing_docs)]

pub mod arl;
pub mod capability;
mod chart;
pub mod columns;
pub mod compare;
mod config;
pub mod constants;
pub mod custom;
mod error;
mod estimate;
pub mod explain;
pub mod forecast;
pub mod math;
mod monitor;
pub mod normality;
mod rng;
mod rules;
mod spec;
pub mod summary;
pub mod transform;
#[cfg(feature = "wasm")]
mod wasm;
#[cfg(feature = "wasm")]
mod wasm_compare;
#[cfg(feature = "wasm")]
mod wasm_explain;
#[cfg(feature = "wasm")]
mod wasm_forecast;
#[cfg(feature = "wasm")]
mod wasm_rules;

pub use chart::{analyze, Chart, Data, Series};
pub use config::ChartConfig;
pub use custom::RuleSignal;
pub use error::SpcError;
pub use estimate::{zero_failure_upper_bound, Estimate};
pub use monitor::{Monitor, Observation, Point, Sink, Which};
pub use rng::Rng;
pub use rules::{LimitSide, NelsonRule, RuleDetector, RuleSet, Signal};
pub use spec::{Baseline, ChartKind, ChartSpec, ChartType, SigmaMethod};
