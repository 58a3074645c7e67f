//! What a user asks for: the chart, how sigma is estimated, the baseline, the tests.
//! A [`ChartSpec`] is plain data; [`crate::Monitor`] and [`crate::analyze`] carry it out.

use crate::error::{invalid, SpcError};
use crate::rules::RuleSet;
use crate::transform::TransformKind;

/// The charts a user can ask for.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "type", rename_all = "kebab-case"))]
pub enum ChartType {
    /// Individuals with a moving-range companion (Montgomery §6.4).
    Individuals,
    /// X-bar with a range companion (Montgomery §6.2).
    XbarR,
    /// X-bar with a standard-deviation companion (Montgomery §6.3).
    XbarS,
    /// Fraction nonconforming (Montgomery §7.2).
    P,
    /// Number nonconforming (Montgomery §7.2.2).
    Np,
    /// Nonconformities per sample (Montgomery §7.3.1).
    C,
    /// Nonconformities per inspection unit, for varying sizes (Montgomery §7.3.1).
    U,
    /// Exponentially weighted moving average (Montgomery §9.2; Lucas & Saccucci 1990).
    Ewma {
        /// Weight of the newest point, 0 < lambda <= 1.
        lambda: f64,
        /// Width L of the limits in sigma of the EWMA statistic.
        width: f64,
    },
    /// Two-sided tabular CUSUM on standardized values (Montgomery §9.1; Lucas & Crosier 1982).
    Cusum {
        /// Reference value k, in sigma.
        k: f64,
        /// Decision interval h, in sigma.
        h: f64,
        /// Fast initial response: C+ and C- start here (in sigma), e.g. h/2.
        #[cfg_attr(feature = "serde", serde(default))]
        head_start: f64,
    },
}

impl ChartType {
    /// EWMA with Minitab's defaults: lambda 0.2, L 3.
    pub const EWMA_DEFAULT: ChartType = ChartType::Ewma {
        lambda: 0.2,
        width: 3.0,
    };
    /// CUSUM with the usual k = 0.5, h = 4 (Montgomery §9.1.3), no head start.
    pub const CUSUM_DEFAULT: ChartType = ChartType::Cusum {
        k: 0.5,
        h: 4.0,
        head_start: 0.0,
    };

    /// The kind of the plotted (primary) chart.
    pub fn primary_kind(self) -> ChartKind {
        match self {
            ChartType::Individuals => ChartKind::Individuals,
            ChartType::XbarR | ChartType::XbarS => ChartKind::XBar,
            ChartType::P => ChartKind::P,
            ChartType::Np => ChartKind::Np,
            ChartType::C => ChartKind::C,
            ChartType::U => ChartKind::U,
            ChartType::Ewma { .. } => ChartKind::Ewma,
            ChartType::Cusum { .. } => ChartKind::CusumUpper,
        }
    }

    /// The kind of the companion chart, where one exists.
    pub fn companion_kind(self) -> Option<ChartKind> {
        match self {
            ChartType::Individuals => Some(ChartKind::MovingRange),
            ChartType::XbarR => Some(ChartKind::Range),
            ChartType::XbarS => Some(ChartKind::StdDev),
            ChartType::Cusum { .. } => Some(ChartKind::CusumLower),
            _ => None,
        }
    }

    /// Attribute charts take counts and sizes rather than measurements.
    pub fn is_attribute(self) -> bool {
        matches!(
            self,
            ChartType::P | ChartType::Np | ChartType::C | ChartType::U
        )
    }

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            ChartType::Individuals => "individuals",
            ChartType::XbarR => "xbar-r",
            ChartType::XbarS => "xbar-s",
            ChartType::P => "p",
            ChartType::Np => "np",
            ChartType::C => "c",
            ChartType::U => "u",
            ChartType::Ewma { .. } => "ewma",
            ChartType::Cusum { .. } => "cusum",
        }
    }

    fn validate(self) -> Result<(), SpcError> {
        match self {
            ChartType::Ewma { lambda, width } => {
                if !(lambda > 0.0 && lambda <= 1.0) {
                    return Err(invalid(
                        "lambda",
                        format!("{lambda} is outside (0, 1]; 0.05 to 0.25 is usual"),
                    ));
                }
                if !(width.is_finite() && width > 0.0) {
                    return Err(invalid(
                        "width",
                        format!("{width} must be a positive number of sigma (L, e.g. 3)"),
                    ));
                }
            }
            ChartType::Cusum { k, h, head_start } => {
                if !(k.is_finite() && k >= 0.0) {
                    return Err(invalid(
                        "k",
                        format!("{k} must be a non-negative number of sigma (e.g. 0.5)"),
                    ));
                }
                if !(h.is_finite() && h > 0.0) {
                    return Err(invalid(
                        "h",
                        format!("{h} must be a positive number of sigma (e.g. 4 or 5)"),
                    ));
                }
                if !(head_start.is_finite() && (0.0..=h).contains(&head_start)) {
                    return Err(invalid(
                        "head_start",
                        format!("{head_start} must lie in [0, h]"),
                    ));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// What a plotted chart shows. A chart value carries one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum ChartKind {
    /// Individual values.
    Individuals,
    /// Moving ranges of two consecutive values.
    MovingRange,
    /// Subgroup means.
    XBar,
    /// Subgroup ranges.
    Range,
    /// Subgroup standard deviations.
    StdDev,
    /// Fraction nonconforming.
    P,
    /// Number nonconforming.
    Np,
    /// Nonconformities per sample.
    C,
    /// Nonconformities per unit.
    U,
    /// The EWMA statistic z_i.
    Ewma,
    /// The upper CUSUM C+, in sigma.
    CusumUpper,
    /// The lower CUSUM C-, in sigma (non-negative).
    CusumLower,
}

impl ChartKind {
    /// The name used in JSON and reports.
    pub fn name(self) -> &'static str {
        match self {
            ChartKind::Individuals => "individuals",
            ChartKind::MovingRange => "moving-range",
            ChartKind::XBar => "xbar",
            ChartKind::Range => "range",
            ChartKind::StdDev => "stddev",
            ChartKind::P => "p",
            ChartKind::Np => "np",
            ChartKind::C => "c",
            ChartKind::U => "u",
            ChartKind::Ewma => "ewma",
            ChartKind::CusumUpper => "cusum-upper",
            ChartKind::CusumLower => "cusum-lower",
        }
    }
}

/// How the process sigma is estimated from the baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum SigmaMethod {
    /// The chart's textbook default: MR-bar/d2 for individuals, R-bar/d2 for X-bar/R (and
    /// EWMA/CUSUM on subgroups), S-bar/c4 for X-bar/S.
    #[default]
    Auto,
    /// Mean moving range / d2(2) (individuals).
    MovingRange,
    /// Median moving range / d4(2), robust to outliers (individuals).
    MedianMovingRange,
    /// Overall standard deviation / c4(n) (individuals).
    OverallSd,
    /// Average of R_i / d2(n_i), qcc's "UWAVE-R" (subgroups).
    AverageRange,
    /// Average of S_i / c4(n_i), qcc's "UWAVE-SD" (subgroups).
    AverageSd,
    /// Pooled SD / c4(sum(n_i - 1) + 1), qcc's "RMSDF" (subgroups).
    PooledSd,
}

/// Which points (or subgroups) form the Phase I baseline that estimates the limits.
#[allow(missing_docs)] // the fields are named for what they hold
#[derive(Clone, Copy, Debug, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "kebab-case"))]
pub enum Baseline {
    /// Every point: a retrospective (Phase I only) study. Batch analysis only.
    #[default]
    All,
    /// The first N points or subgroups; later ones are Phase II.
    FirstN { n: usize },
    /// Points `start..end` (0-based, end exclusive).
    Range { start: usize, end: usize },
    /// Known parameters: no estimation, every point is Phase II. For attribute charts `mu` is
    /// p, the mean count c or the mean rate u, and `sigma` is ignored, except for a p of 0:
    /// then `sigma` is the one a zero-failure baseline was given (see `Estimate::sigma`).
    Known { mu: f64, sigma: f64 },
}

impl Baseline {
    /// Number of observations needed before limits exist; None when all data are needed.
    pub(crate) fn end(self) -> Option<usize> {
        match self {
            Baseline::All => None,
            Baseline::FirstN { n } => Some(n),
            Baseline::Range { end, .. } => Some(end),
            Baseline::Known { .. } => Some(0),
        }
    }

    pub(crate) fn start(self) -> usize {
        match self {
            Baseline::Range { start, .. } => start,
            _ => 0,
        }
    }
}

/// Everything that defines an analysis.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct ChartSpec {
    /// The chart and its own parameters.
    pub chart: ChartType,
    /// How the process sigma is estimated.
    pub sigma_method: SigmaMethod,
    /// Which points estimate the limits.
    pub baseline: Baseline,
    /// Exclude baseline points that fail test 1 and estimate again, until nothing changes.
    pub exclude_out_of_control: bool,
    /// Baseline points (0-based) the user sets aside, e.g. those with a known assignable cause.
    pub exclude: Vec<usize>,
    /// Tests asked for; each chart runs those that apply to it ([`RuleSet::restricted_to`]).
    /// Test 1's K is the width of the Shewhart limits.
    pub tests: RuleSet,
    /// Tests for the companion chart; `None` uses `tests` restricted to it. Its JSON key stays
    /// `secondary_tests`, so saved settings keep reading.
    #[cfg_attr(feature = "serde", serde(rename = "secondary_tests"))]
    pub companion_tests: Option<RuleSet>,
    /// Transform applied to each measurement before charting.
    pub transform: TransformKind,
    /// A fixed Box-Cox lambda instead of the maximum-likelihood one.
    pub box_cox_lambda: Option<f64>,
}

impl Default for ChartSpec {
    fn default() -> Self {
        ChartSpec {
            chart: ChartType::Individuals,
            sigma_method: SigmaMethod::Auto,
            baseline: Baseline::All,
            exclude_out_of_control: false,
            exclude: Vec::new(),
            tests: RuleSet::nelson(),
            companion_tests: None,
            transform: TransformKind::None,
            box_cox_lambda: None,
        }
    }
}

impl ChartSpec {
    /// A spec for this chart with every other setting at its default.
    pub fn new(chart: ChartType) -> ChartSpec {
        ChartSpec {
            chart,
            ..ChartSpec::default()
        }
    }

    /// The tests the primary chart runs.
    pub fn primary_rules(&self) -> RuleSet {
        self.tests.restricted_to(self.chart.primary_kind())
    }

    /// The tests the companion chart runs.
    pub fn companion_rules(&self) -> Option<RuleSet> {
        let kind = self.chart.companion_kind()?;
        Some(match &self.companion_tests {
            Some(set) => set.clone(),
            None => self.tests.restricted_to(kind),
        })
    }

    /// Width of Shewhart limits in sigma of the statistic: test 1's K (3 by default).
    pub fn width(&self) -> f64 {
        self.tests.k(crate::NelsonRule::Beyond)
    }

    /// Checks every parameter and combination before any data is seen.
    pub fn validate(&self) -> Result<(), SpcError> {
        self.chart.validate()?;
        let method_ok = match self.sigma_method {
            SigmaMethod::Auto => true,
            SigmaMethod::MovingRange | SigmaMethod::MedianMovingRange | SigmaMethod::OverallSd => {
                !self.chart.is_attribute()
            }
            SigmaMethod::AverageRange | SigmaMethod::AverageSd | SigmaMethod::PooledSd => {
                !self.chart.is_attribute() && self.chart != ChartType::Individuals
            }
        };
        if !method_ok {
            return Err(invalid(
                "sigma_method",
                format!(
                    "{:?} does not apply to a {} chart",
                    self.sigma_method,
                    self.chart.name()
                ),
            ));
        }
        match self.baseline {
            Baseline::FirstN { n: 0 } => {
                return Err(invalid("phase1", "the baseline needs at least 1 point"))
            }
            Baseline::Range { start, end } if end <= start => {
                return Err(invalid(
                    "baseline",
                    format!("range {start}..{end} is empty"),
                ))
            }
            Baseline::Known { mu, sigma } => {
                if !mu.is_finite() {
                    return Err(invalid("mu", format!("{mu} is not a finite number")));
                }
                if !(self.chart.is_attribute() || sigma.is_finite() && sigma > 0.0) {
                    return Err(invalid(
                        "sigma",
                        format!("{sigma} must be a positive number"),
                    ));
                }
                if self.transform == TransformKind::BoxCox && self.box_cox_lambda.is_none() {
                    return Err(invalid(
                        "transform",
                        "box-cox with known parameters needs a fixed lambda, as there is no baseline to fit it on",
                    ));
                }
            }
            _ => {}
        }
        if self.transform != TransformKind::None && self.chart.is_attribute() {
            return Err(invalid(
                "transform",
                format!(
                    "a {} chart counts defects: transforms apply to measurements only",
                    self.chart.name()
                ),
            ));
        }
        self.validate_custom()?;
        if let Some(lambda) = self.box_cox_lambda {
            if !lambda.is_finite() {
                return Err(invalid("box_cox_lambda", format!("{lambda} is not finite")));
            }
        }
        Ok(())
    }

    /// Named rules run on Shewhart charts, compare fixed values on the charted scale, and
    /// need the spec limits they refer to.
    fn validate_custom(&self) -> Result<(), SpcError> {
        let custom = self.tests.custom();
        if custom.is_empty() {
            return Ok(());
        }
        if matches!(self.chart, ChartType::Ewma { .. } | ChartType::Cusum { .. }) {
            return Err(invalid(
                "tests",
                format!(
                    "named rules apply to Shewhart charts (individuals, X-bar, p, np, c, u); \
                     the {} chart signals at its own limits: use --tests nelson or none",
                    self.chart.name()
                ),
            ));
        }
        if custom.has_thresholds() && self.transform != TransformKind::None {
            return Err(invalid(
                "tests",
                "rules with fixed values (above 2500, usl, outside spec) compare the charted \
                 values, which a transform changes: drop the transform or use distances in sigma",
            ));
        }
        custom.check_spec_limits()
    }
}
