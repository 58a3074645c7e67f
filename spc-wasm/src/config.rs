//! A flat, string-keyed description of a chart: what a command line, a JSON settings object
//! or a JavaScript caller gives. [`ChartConfig::to_spec`] turns it into a checked [`ChartSpec`],
//! so every front end (the shim's `analyze`, the wasm API, the dashboard) reads settings the
//! same way and reports the same errors.

use crate::error::{invalid, SpcError};
use crate::spec::{Baseline, ChartSpec, ChartType, SigmaMethod};
use crate::transform::TransformKind;
use crate::RuleSet;

/// Chart settings by name, every field optional. Field names are the CLI's flags in
/// snake_case.
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct ChartConfig {
    /// individuals, xbar-r, xbar-s, p, np, c, u, ewma or cusum (default individuals).
    pub chart: Option<String>,
    /// The first N points or subgroups form the baseline.
    pub phase1: Option<usize>,
    /// Baseline start..end (0-based, end exclusive), instead of `phase1`.
    pub baseline_range: Option<(usize, usize)>,
    /// Known mean (p, c or u for attribute charts).
    pub mu: Option<f64>,
    /// Known sigma.
    pub sigma: Option<f64>,
    /// nelson, western-electric, westgard, none, a list like 1,2:8,5, or named rules
    /// ([`crate::custom`]).
    pub tests: Option<String>,
    /// EWMA weight (default 0.2).
    pub lambda: Option<f64>,
    /// EWMA limit width L (default 3).
    pub width: Option<f64>,
    /// CUSUM reference value k (default 0.5).
    pub k: Option<f64>,
    /// CUSUM decision interval h (default 4).
    pub h: Option<f64>,
    /// CUSUM head start (default 0).
    pub head_start: Option<f64>,
    /// Set aside baseline points that fail test 1, and estimate again.
    pub exclude_out_of_control: Option<bool>,
    /// Baseline points (0-based) to set aside, e.g. those with a known assignable cause.
    pub exclude: Option<Vec<usize>>,
    /// none, log or box-cox.
    pub transform: Option<String>,
    /// A fixed Box-Cox lambda.
    pub box_cox_lambda: Option<f64>,
    /// auto, moving-range, median-moving-range, overall-sd, average-range, average-sd, pooled-sd.
    pub sigma_method: Option<String>,
}

impl ChartConfig {
    /// Every setting's name, for front ends that must reject unknown ones themselves.
    pub const FIELDS: &'static [&'static str] = &[
        "chart",
        "phase1",
        "baseline_range",
        "mu",
        "sigma",
        "tests",
        "lambda",
        "width",
        "k",
        "h",
        "head_start",
        "exclude_out_of_control",
        "exclude",
        "transform",
        "box_cox_lambda",
        "sigma_method",
    ];

    /// The checked spec. Errors name the setting at fault and what would be valid.
    pub fn to_spec(&self) -> Result<ChartSpec, SpcError> {
        let name = self.chart.as_deref().unwrap_or("individuals");
        let chart = match name {
            "individuals" | "i-mr" | "imr" => ChartType::Individuals,
            "xbar-r" => ChartType::XbarR,
            "xbar-s" => ChartType::XbarS,
            "p" => ChartType::P,
            "np" => ChartType::Np,
            "c" => ChartType::C,
            "u" => ChartType::U,
            "ewma" => ChartType::Ewma { lambda: self.lambda.unwrap_or(0.2), width: self.width.unwrap_or(3.0) },
            "cusum" => ChartType::Cusum {
                k: self.k.unwrap_or(0.5),
                h: self.h.unwrap_or(4.0),
                head_start: self.head_start.unwrap_or(0.0),
            },
            other => {
                return Err(invalid(
                    "chart",
                    format!("'{other}' is not a chart: use individuals, xbar-r, xbar-s, p, np, c, u, ewma or cusum"),
                ))
            }
        };
        let only_for = |setting: &'static str, value: Option<f64>, wanted: &str| match value {
            Some(_) if name != wanted => Err(invalid(
                setting,
                format!("applies to the {wanted} chart only"),
            )),
            _ => Ok(()),
        };
        only_for("lambda", self.lambda, "ewma")?;
        only_for("width", self.width, "ewma")?;
        only_for("k", self.k, "cusum")?;
        only_for("h", self.h, "cusum")?;
        only_for("head_start", self.head_start, "cusum")?;
        let spec = ChartSpec {
            chart,
            sigma_method: self.sigma_method()?,
            baseline: self.baseline(chart)?,
            exclude_out_of_control: self.exclude_out_of_control.unwrap_or(false),
            exclude: self.exclude.clone().unwrap_or_default(),
            tests: match &self.tests {
                Some(t) => t.parse::<RuleSet>()?,
                None => RuleSet::nelson(),
            },
            companion_tests: None,
            transform: match self.transform.as_deref() {
                None => TransformKind::None,
                Some(t) => t.parse()?,
            },
            box_cox_lambda: self.box_cox_lambda,
        };
        spec.validate()?;
        Ok(spec)
    }

    fn baseline(&self, chart: ChartType) -> Result<Baseline, SpcError> {
        let chosen = [
            self.phase1.is_some(),
            self.baseline_range.is_some(),
            self.mu.is_some() || self.sigma.is_some(),
        ];
        if chosen.iter().filter(|c| **c).count() > 1 {
            return Err(invalid(
                "phase1",
                "give one of: phase1, a baseline range, or known mu and sigma",
            ));
        }
        Ok(
            match (self.phase1, self.baseline_range, self.mu, self.sigma) {
                (Some(n), ..) => Baseline::FirstN { n },
                (_, Some((start, end)), ..) => Baseline::Range { start, end },
                (_, _, Some(mu), Some(sigma)) => Baseline::Known { mu, sigma },
                (_, _, Some(mu), None) if chart.is_attribute() => Baseline::Known {
                    mu,
                    sigma: f64::NAN,
                },
                (_, _, Some(_), None) => {
                    return Err(invalid("mu", "a known mu needs a known sigma too"))
                }
                (_, _, None, Some(_)) => {
                    return Err(invalid("sigma", "a known sigma needs a known mu too"))
                }
                _ => Baseline::All,
            },
        )
    }

    fn sigma_method(&self) -> Result<SigmaMethod, SpcError> {
        Ok(match self.sigma_method.as_deref().unwrap_or("auto") {
            "auto" => SigmaMethod::Auto,
            "moving-range" => SigmaMethod::MovingRange,
            "median-moving-range" => SigmaMethod::MedianMovingRange,
            "overall-sd" => SigmaMethod::OverallSd,
            "average-range" => SigmaMethod::AverageRange,
            "average-sd" => SigmaMethod::AverageSd,
            "pooled-sd" => SigmaMethod::PooledSd,
            other => {
                return Err(invalid(
                    "sigma_method",
                    format!(
                        "'{other}' is not a sigma method: use auto, moving-range, median-moving-range, \
                         overall-sd, average-range, average-sd or pooled-sd"
                    ),
                ))
            }
        })
    }
}

#[cfg(all(test, feature = "serde"))]
mod tests {
    use super::ChartConfig;

    #[test]
    fn fields_lists_every_setting() {
        let value = serde_json::to_value(ChartConfig::default()).unwrap_or_default();
        let mut keys: Vec<&str> = value
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut fields = ChartConfig::FIELDS.to_vec();
        keys.sort_unstable();
        fields.sort_unstable();
        assert_eq!(keys, fields);
    }
}
