//! A chart as a value (qcc's design): the estimate, every plotted point with its limits, the
//! signals, and the companion chart. Computing it ([`analyze`]) is separate from showing it:
//! the CLI prints it, the dashboard draws it, the report exports it.

use crate::capability::{self, Capability, SpecLimits};
use crate::custom::RuleSignal;
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
///
/// Stored by column: the statistics, and the limits run-length encoded, since they are the same
/// for long stretches (constant on a Shewhart chart with equal sizes, converging on an EWMA).
/// A 10-million-point individuals chart thus takes 80 MB per chart rather than 640.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// What is plotted.
    pub kind: ChartKind,
    /// The tests this chart runs.
    pub rules: RuleSet,
    /// Every signal of Nelson's tests, in the order found (by point, then test number).
    pub signals: Vec<Signal>,
    /// Every signal of a named rule ([`RuleSet::custom`]), by point, then rule.
    pub rule_signals: Vec<RuleSignal>,
    first_index: usize,
    statistic: Vec<f64>,
    segments: Vec<Segment>,
}

/// Limits shared by the points from `start` (a position in the series) to the next segment.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Segment {
    start: usize,
    center: f64,
    lcl: Option<f64>,
    ucl: Option<f64>,
    sigma: f64,
}

impl Segment {
    fn point(&self, index: usize, statistic: f64) -> Point {
        Point {
            index,
            statistic,
            center: self.center,
            lcl: self.lcl,
            ucl: self.ucl,
            sigma: self.sigma,
        }
    }

    fn same_limits(&self, p: &Point) -> bool {
        self.center == p.center && self.lcl == p.lcl && self.ucl == p.ucl && self.sigma == p.sigma
    }
}

impl Series {
    fn new(kind: ChartKind, rules: RuleSet) -> Series {
        Series {
            kind,
            rules,
            signals: Vec::new(),
            rule_signals: Vec::new(),
            first_index: 0,
            statistic: Vec::new(),
            segments: Vec::new(),
        }
    }

    fn push(&mut self, p: Point) {
        if self.statistic.is_empty() {
            self.first_index = p.index;
        }
        let position = self.statistic.len();
        if !self.segments.last().is_some_and(|s| s.same_limits(&p)) {
            self.segments.push(Segment {
                start: position,
                center: p.center,
                lcl: p.lcl,
                ucl: p.ucl,
                sigma: p.sigma,
            });
        }
        self.statistic.push(p.statistic);
    }

    /// Number of plotted points.
    pub fn len(&self) -> usize {
        self.statistic.len()
    }

    /// True when nothing is plotted.
    pub fn is_empty(&self) -> bool {
        self.statistic.is_empty()
    }

    /// The index of the first point (1 on a moving-range chart, else 0).
    pub fn first_index(&self) -> usize {
        self.first_index
    }

    /// The plotted statistics, in order.
    pub fn statistics(&self) -> &[f64] {
        &self.statistic
    }

    /// The point at `position` (0 = the first plotted point) with its limits.
    pub fn point(&self, position: usize) -> Option<Point> {
        let statistic = *self.statistic.get(position)?;
        let k = self
            .segments
            .partition_point(|s| s.start <= position)
            .checked_sub(1)?;
        Some(self.segments[k].point(self.first_index + position, statistic))
    }

    /// The point whose index is `index`.
    pub fn point_at(&self, index: usize) -> Option<Point> {
        self.point(index.checked_sub(self.first_index)?)
    }

    /// Every point with its limits, in order.
    pub fn points(&self) -> impl ExactSizeIterator<Item = Point> + '_ {
        let mut segment = 0;
        self.statistic
            .iter()
            .enumerate()
            .map(move |(position, &statistic)| {
                while self
                    .segments
                    .get(segment + 1)
                    .is_some_and(|s| s.start <= position)
                {
                    segment += 1;
                }
                self.segments[segment].point(self.first_index + position, statistic)
            })
    }

    /// True when every point shares the same limits.
    pub fn constant_limits(&self) -> bool {
        self.segments.len() <= 1
    }

    /// The numbers of the tests that fire at the point whose index is `index`, ascending.
    ///
    /// A binary search over the signals, which are kept by point then test number.
    pub fn tests_at(&self, index: usize) -> impl Iterator<Item = u8> + '_ {
        let from = self.signals.partition_point(|s| s.index < index);
        self.signals[from..]
            .iter()
            .take_while(move |s| s.index == index)
            .map(|s| s.test.number())
    }

    /// The test numbers that fire at each point, as a bit set (bit t-1 for test t), aligned with
    /// the points.
    pub fn tests_by_point(&self) -> Vec<u8> {
        let mut out = vec![0u8; self.len()];
        for s in &self.signals {
            if let Some(bits) = s
                .index
                .checked_sub(self.first_index)
                .and_then(|p| out.get_mut(p))
            {
                *bits |= 1 << (s.test.number() - 1);
            }
        }
        out
    }
}

/// Serialized as a plain list of points, as JavaScript and JSON readers expect.
#[cfg(feature = "serde")]
impl serde::Serialize for Series {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Points<'a>(&'a Series);
        impl serde::Serialize for Points<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.points())
            }
        }
        let mut s = serializer.serialize_struct("Series", 4)?;
        s.serialize_field("kind", &self.kind)?;
        s.serialize_field("rules", &self.rules)?;
        s.serialize_field("points", &Points(self))?;
        s.serialize_field("signals", &self.signals)?;
        if !self.rule_signals.is_empty() {
            s.serialize_field("rule_signals", &self.rule_signals)?;
        } else {
            s.skip_field("rule_signals")?;
        }
        s.end()
    }
}

/// A control chart: the estimate that set its limits, the primary chart and its companion.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Chart {
    /// What was asked for.
    pub spec: ChartSpec,
    /// Center, sigma, baseline and transform.
    pub estimate: Estimate,
    /// The main chart.
    pub primary: Series,
    /// MR, R, S or CUSUM C-, where the chart has one. Its key in JSON is `secondary` (fixed by
    /// the v1 output format).
    #[cfg_attr(feature = "serde", serde(rename = "secondary"))]
    pub companion: Option<Series>,
}

/// Collects a monitor's output into a [`Chart`].
struct Collect {
    primary: Series,
    companion: Option<Series>,
}

impl Sink for Collect {
    fn point(&mut self, which: Which, point: Point) {
        match which {
            Which::Primary => self.primary.push(point),
            Which::Companion => self.companion.iter_mut().for_each(|s| s.push(point)),
        }
    }

    fn signal(&mut self, which: Which, signal: Signal) {
        match which {
            Which::Primary => self.primary.signals.push(signal),
            Which::Companion => self
                .companion
                .iter_mut()
                .for_each(|s| s.signals.push(signal)),
        }
    }

    fn rule_signal(&mut self, which: Which, signal: RuleSignal) {
        if which == Which::Primary {
            self.primary.rule_signals.push(signal);
        }
    }
}

/// Batch analysis: the streaming [`Monitor`] fed the whole series.
pub fn analyze(spec: &ChartSpec, data: &Data) -> Result<Chart, SpcError> {
    let mut monitor = Monitor::new(spec.clone())?;
    let mut sink = Collect {
        primary: Series::new(spec.chart.primary_kind(), spec.primary_rules()),
        companion: spec
            .chart
            .companion_kind()
            .zip(spec.companion_rules())
            .map(|(k, r)| Series::new(k, r)),
    };
    if let Data::Values(v) = data {
        monitor.reserve(v.len());
    }
    sink.primary.statistic.reserve(data.len());
    sink.companion
        .iter_mut()
        .for_each(|s| s.statistic.reserve(data.len()));
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
        companion: sink.companion,
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

    /// All signals of both charts, named rules' included except warnings.
    pub fn signal_count(&self) -> usize {
        let rules = self.primary.rules.custom().rules();
        let rejections = self
            .primary
            .rule_signals
            .iter()
            .filter(|s| !rules.get(s.rule).is_some_and(|r| r.warning))
            .count();
        self.primary.signals.len()
            + rejections
            + self.companion.as_ref().map_or(0, |s| s.signals.len())
    }

    /// Average run length of this chart's primary tests for a shift of the process mean of
    /// `shift` process sigmas (0 = in control). Shewhart charts use the tests in force (normal
    /// approximation for attribute charts); EWMA and CUSUM use their own Markov chains.
    pub fn arl(&self, shift: f64) -> Result<crate::arl::Arl, SpcError> {
        match self.spec.chart {
            ChartType::Ewma { lambda, width } => crate::arl::ewma(lambda, width, shift),
            ChartType::Cusum { k, h, head_start } => crate::arl::cusum(k, h, head_start, shift),
            // Fixed values in sigma of the plotted statistic: the first point's (sigma / sqrt(n)
            // for X-bar), as the ARL assumes equal sizes.
            _ if !self.primary.rules.custom().is_empty() => crate::arl::with_rules(
                &self.primary.rules,
                shift,
                self.primary
                    .point(0)
                    .map(|p| (p.center, p.sigma))
                    .or(Some((self.estimate.center, self.estimate.sigma))),
            ),
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
