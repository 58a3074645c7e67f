//! A chart as a value (qcc's design): the estimate, every plotted point with its limits, the
//! signals, and the companion chart. Computing it ([`analyze`]) is separate from showing it:
//! the CLI prints it, the dashboard draws it, the report exports it.

use crate::capability::{self, Capability, SpecLimits};
use crate::error::{invalid, SpcError};
use crate::estimate::Estimate;
use crate::monitor::{Monitor, Observation, Point, Sink, Which};
use crate::rules::{RuleSet, Signal};
use crate::spec::{ChartKind, ChartSpec, ChartType};

/// A whole series of observations, for batch analysis.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// One measurement per point.
    Values(Vec<f64>),
    /// One subgroup of measurements per point.
    Subgroups(Vec<Vec<f64>>),
    /// (count, size) per point, for attribute charts.
    Counts(Vec<(f64, f64)>),
}

impl Data {
    /// Number of observations (points or subgroups).
    pub fn len(&self) -> usize {
        match self {
            Data::Values(v) => v.len(),
            Data::Subgroups(s) => s.len(),
            Data::Counts(c) => c.len(),
        }
    }

    /// True when there is no observation.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Observation `i`.
    pub fn observation(&self, i: usize) -> Observation<'_> {
        match self {
            Data::Values(v) => Observation::Value(v[i]),
            Data::Subgroups(s) => Observation::Subgroup(&s[i]),
            Data::Counts(c) => Observation::Count {
                count: c[i].0,
                size: c[i].1,
            },
        }
    }
}

/// One plotted chart: the primary chart or its companion.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Series {
    /// What is plotted.
    pub kind: ChartKind,
    /// The tests this chart runs.
    pub rules: RuleSet,
    /// Every plotted point, in order.
    pub points: Vec<Point>,
    /// Every signal, in the order found (by point, then test number).
    pub signals: Vec<Signal>,
}

impl Series {
    fn new(kind: ChartKind, rules: RuleSet) -> Series {
        Series {
            kind,
            rules,
            points: Vec::new(),
            signals: Vec::new(),
        }
    }

    /// The test numbers that fire at each point, as a bit set (bit t-1 for test t), aligned with
    /// `points`.
    pub fn tests_by_point(&self) -> Vec<u8> {
        let mut out = vec![0u8; self.points.len()];
        let first = self.points.first().map_or(0, |p| p.index);
        for s in &self.signals {
            if let Some(bits) = out.get_mut(s.index - first) {
                *bits |= 1 << (s.test.number() - 1);
            }
        }
        out
    }
}

/// A control chart: the estimate that set its limits, the primary chart and its companion.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Chart {
    /// What was asked for.
    pub spec: ChartSpec,
    /// Center, sigma, baseline and transform.
    pub estimate: Estimate,
    /// The main chart.
    pub primary: Series,
    /// MR, R, S or CUSUM C-, where the chart has one.
    pub secondary: Option<Series>,
}

/// Collects a monitor's output into a [`Chart`].
struct Collect {
    primary: Series,
    secondary: Option<Series>,
}

impl Sink for Collect {
    fn point(&mut self, which: Which, point: Point) {
        match which {
            Which::Primary => self.primary.points.push(point),
            Which::Secondary => self.secondary.iter_mut().for_each(|s| s.points.push(point)),
        }
    }

    fn signal(&mut self, which: Which, signal: Signal) {
        match which {
            Which::Primary => self.primary.signals.push(signal),
            Which::Secondary => self
                .secondary
                .iter_mut()
                .for_each(|s| s.signals.push(signal)),
        }
    }
}

/// Batch analysis: the streaming [`Monitor`] fed the whole series.
pub fn analyze(spec: &ChartSpec, data: &Data) -> Result<Chart, SpcError> {
    let mut monitor = Monitor::new(spec.clone())?;
    let mut sink = Collect {
        primary: Series::new(spec.chart.primary_kind(), spec.primary_rules()),
        secondary: spec
            .chart
            .secondary_kind()
            .zip(spec.secondary_rules())
            .map(|(k, r)| Series::new(k, r)),
    };
    sink.primary.points.reserve(data.len());
    for i in 0..data.len() {
        monitor.push(data.observation(i), &mut sink)?;
    }
    monitor.finish(&mut sink)?;
    let estimate = monitor.estimate().cloned().ok_or(SpcError::TooFewPoints {
        needed: 1,
        got: data.len(),
        what: "a chart",
    })?;
    Ok(Chart {
        spec: spec.clone(),
        estimate,
        primary: sink.primary,
        secondary: sink.secondary,
    })
}

impl Chart {
    /// Process center (on the charted scale).
    pub fn center(&self) -> f64 {
        self.estimate.center
    }

    /// Process sigma (on the charted scale).
    pub fn sigma(&self) -> f64 {
        self.estimate.sigma
    }

    /// All signals of both charts.
    pub fn signal_count(&self) -> usize {
        self.primary.signals.len() + self.secondary.as_ref().map_or(0, |s| s.signals.len())
    }

    /// Average run length of this chart's primary tests for a shift of the process mean of
    /// `shift` process sigmas (0 = in control). Shewhart charts use the tests in force (normal
    /// approximation for attribute charts); EWMA and CUSUM use their own Markov chains.
    pub fn arl(&self, shift: f64) -> Result<crate::arl::Arl, SpcError> {
        match self.spec.chart {
            ChartType::Ewma { lambda, width } => crate::arl::ewma(lambda, width, shift),
            ChartType::Cusum { k, h, head_start } => crate::arl::cusum(k, h, head_start, shift),
            _ => crate::arl::shewhart(&self.primary.rules, shift),
        }
    }

    /// Process capability of the baseline (the points the limits describe, less any set
    /// aside), with sigma within from the chart and the spec limits on the same scale as the
    /// chart (transformed when a transform is in use).
    pub fn capability(
        &self,
        data: &Data,
        spec: &SpecLimits,
        confidence: f64,
    ) -> Result<Capability, SpcError> {
        if self.spec.chart.is_attribute() {
            return Err(invalid(
                "spec",
                "capability indices need measurements, not counts",
            ));
        }
        let t = &self.estimate.transform;
        let (start, end) = if self.estimate.known {
            (0, data.len())
        } else {
            (self.estimate.baseline_start, self.estimate.baseline_end)
        };
        let mut values = Vec::new();
        for i in (start..end).filter(|&i| self.estimate.known || self.estimate.in_baseline(i)) {
            match data.observation(i) {
                Observation::Value(x) => values.push(t.apply(x)),
                Observation::Subgroup(s) => values.extend(s.iter().map(|&x| t.apply(x))),
                Observation::Count { .. } => {}
            }
        }
        let scaled = |limit: Option<f64>, name: &'static str| -> Result<Option<f64>, SpcError> {
            match limit.map(|l| (l, t.apply(l))) {
                Some((l, v)) if !v.is_finite() => Err(invalid(
                    name,
                    format!(
                        "{l} cannot be transformed ({}): it must be positive",
                        t.name()
                    ),
                )),
                other => Ok(other.map(|(_, v)| v)),
            }
        };
        let spec = SpecLimits {
            lsl: scaled(spec.lsl, "lsl")?,
            usl: scaled(spec.usl, "usl")?,
            target: scaled(spec.target, "target")?,
        };
        capability::capability(
            &values,
            self.estimate.sigma,
            &spec,
            confidence,
            self.signal_count() == 0,
        )
    }
}
