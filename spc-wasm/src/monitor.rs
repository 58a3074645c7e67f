//! The streaming monitor: feed observations one at a time and get the points and signals each
//! one completes. Batch analysis ([`crate::analyze`]) is this same monitor fed a whole series,
//! so batch and streaming agree by construction (and a property test checks it).
//!
//! Life of a monitor: it collects the Phase I baseline (nothing is judged yet, since limits do
//! not exist), then freezes the center and sigma, replays the baseline through the chart, and
//! from then on judges each new point against the frozen limits in O(1) time and memory.
//! Phase II points never enter the estimate, so no point is judged against limits that
//! include it; Phase I points are judged against the limits of their own baseline, which is the
//! retrospective study Phase I is (Montgomery §6.1.5).

use crate::constants::ConstantsCache;
use crate::custom::{CustomDetector, RuleSignal};
use crate::error::{invalid, SpcError};
use crate::estimate::{self, Buffer, Estimate};
use crate::rules::{LimitSide, RuleDetector, Signal};
use crate::spec::{Baseline, ChartSpec, ChartType};
use crate::transform::Transform;

/// One observation: a measurement, a subgroup of measurements, or a count of defects (or
/// defectives) in a sample of some size.
#[allow(missing_docs)] // the fields are named for what they hold
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Observation<'a> {
    /// One measurement (individuals, EWMA, CUSUM).
    Value(f64),
    /// One subgroup of measurements (X-bar/R, X-bar/S, or EWMA/CUSUM of subgroup means).
    Subgroup(&'a [f64]),
    /// Defectives (p, np) or defects (c, u) in a sample of `size` units; sizes need not be
    /// whole numbers for u.
    Count { count: f64, size: f64 },
}

/// Which of the two charts a point or signal belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// The main chart (individuals, X-bar, p, EWMA, CUSUM C+...).
    Primary,
    /// The companion chart (MR, R, S, CUSUM C-).
    Companion,
}

/// One plotted point with the limits it was judged against.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Point {
    /// 0-based index over observations (subgroups for X-bar); the MR chart starts at 1.
    pub index: usize,
    /// The plotted statistic.
    pub statistic: f64,
    /// The center line at this point.
    pub center: f64,
    /// Lower control limit, where the chart has one.
    pub lcl: Option<f64>,
    /// Upper control limit, where the chart has one.
    pub ucl: Option<f64>,
    /// Sigma of the plotted statistic at this point (sigma/sqrt(n) for X-bar).
    pub sigma: f64,
}

impl Point {
    /// Distance from the center line in sigma of the statistic.
    pub fn z(&self) -> f64 {
        (self.statistic - self.center) / self.sigma
    }

    fn side(&self) -> LimitSide {
        match (self.lcl, self.ucl) {
            (_, Some(u)) if self.statistic > u => LimitSide::Above,
            (Some(l), _) if self.statistic < l => LimitSide::Below,
            _ => LimitSide::Inside,
        }
    }
}

/// Where a monitor sends what it finds.
pub trait Sink {
    /// A new plotted point.
    fn point(&mut self, which: Which, point: Point);
    /// A signal completed at a point.
    fn signal(&mut self, which: Which, signal: Signal);
    /// A named rule ([`crate::custom`]) completed at a point, after the Nelson tests' signals
    /// there. Named rules run on the primary chart only. A sink that does not show them may
    /// leave this out.
    fn rule_signal(&mut self, _which: Which, _signal: RuleSignal) {}
    /// The limits were frozen (the baseline completed or parameters are known).
    fn frozen(&mut self, _estimate: &Estimate) {}
}

/// A streaming control chart. See the module docs.
#[derive(Debug)]
pub struct Monitor {
    spec: ChartSpec,
    pushed: usize,
    state: State,
}

#[derive(Debug)]
enum State {
    Collecting(Buffer),
    Monitoring(Box<Judge>),
}

impl Monitor {
    /// A monitor for this spec. Fails on a bad spec before any data is seen.
    pub fn new(spec: ChartSpec) -> Result<Monitor, SpcError> {
        spec.validate()?;
        let buffer = Buffer::new(&spec);
        let mut monitor = Monitor {
            spec,
            pushed: 0,
            state: State::Collecting(buffer),
        };
        if let Baseline::Known { .. } = monitor.spec.baseline {
            monitor.freeze(&mut NoSink)?;
        }
        Ok(monitor)
    }

    /// A monitor that can stream: its baseline must end (first N points, a range, or known
    /// parameters), so that memory stays bounded.
    pub fn streaming(spec: ChartSpec) -> Result<Monitor, SpcError> {
        if spec.baseline == Baseline::All {
            return Err(invalid(
                "baseline",
                "a streaming chart needs a baseline that ends: the first N points, a range, or known mu and sigma",
            ));
        }
        Monitor::new(spec)
    }

    /// A hint that about `n` single values will follow: the baseline buffer is sized once.
    pub fn reserve(&mut self, n: usize) {
        if let State::Collecting(buffer) = &mut self.state {
            buffer.reserve_values(n);
        }
    }

    /// The spec this monitor runs.
    pub fn spec(&self) -> &ChartSpec {
        &self.spec
    }

    /// Observations pushed so far.
    pub fn len(&self) -> usize {
        self.pushed
    }

    /// True before the first observation.
    pub fn is_empty(&self) -> bool {
        self.pushed == 0
    }

    /// The frozen estimate, once the baseline is complete.
    pub fn estimate(&self) -> Option<&Estimate> {
        match &self.state {
            State::Monitoring(judge) => Some(&judge.estimate),
            State::Collecting(_) => None,
        }
    }

    /// Adds one observation. While the baseline is being collected nothing is emitted; the
    /// push that completes it emits every baseline point; later pushes emit their own.
    /// A rejected observation changes nothing.
    #[inline(always)]
    pub fn push(&mut self, obs: Observation<'_>, sink: &mut impl Sink) -> Result<(), SpcError> {
        let index = self.pushed;
        match &mut self.state {
            State::Monitoring(judge) => judge.push(index, obs, sink)?,
            State::Collecting(_) => return self.collect(index, obs, sink),
        }
        self.pushed += 1;
        Ok(())
    }

    /// A baseline observation (called only while collecting). Out of line, so that `push`,
    /// which runs for every point of a stream, stays small enough to inline into a caller's
    /// loop: in wasm a call to a large function costs its whole stack frame.
    #[inline(never)]
    fn collect(
        &mut self,
        index: usize,
        obs: Observation<'_>,
        sink: &mut impl Sink,
    ) -> Result<(), SpcError> {
        if let State::Collecting(buffer) = &mut self.state {
            buffer.push(index, obs)?;
        }
        self.pushed += 1;
        if self.spec.baseline.end() == Some(index + 1) {
            return self.freeze(sink);
        }
        Ok(())
    }

    /// Ends a batch: a baseline of all points is estimated now. Fails when the baseline asks
    /// for more points than were pushed.
    pub fn finish(&mut self, sink: &mut impl Sink) -> Result<(), SpcError> {
        if let State::Collecting(_) = self.state {
            match self.spec.baseline {
                Baseline::All => {}
                b => {
                    return Err(SpcError::BaselineTooLong {
                        baseline: b.end().unwrap_or(0),
                        available: self.pushed,
                    })
                }
            }
            self.freeze(sink)?;
        }
        Ok(())
    }

    fn freeze(&mut self, sink: &mut impl Sink) -> Result<(), SpcError> {
        let State::Collecting(buffer) = &self.state else {
            return Ok(());
        };
        let estimate = estimate::estimate(&self.spec, buffer)?;
        sink.frozen(&estimate);
        let mut judge = Judge::new(&self.spec, estimate);
        judge.replay(buffer, sink)?;
        self.state = State::Monitoring(Box::new(judge));
        Ok(())
    }
}

struct NoSink;
impl Sink for NoSink {
    fn point(&mut self, _: Which, _: Point) {}
    fn signal(&mut self, _: Which, _: Signal) {}
}

/// Judges points against frozen limits.
#[derive(Debug)]
struct Judge {
    chart: ChartType,
    width: f64,
    estimate: Estimate,
    constants: ConstantsCache,
    primary: RuleDetector,
    /// The primary chart's named rules, when it has any.
    custom: Option<CustomDetector>,
    companion: Option<RuleDetector>,
    scratch: Vec<Signal>,
    custom_scratch: Vec<RuleSignal>,
    previous: Option<f64>,
    /// The limits of the individuals and moving-range charts, which are the same at every
    /// point: computed once, as points at index 0 with statistic 0.
    individuals: (Point, Point),
    ewma: f64,
    ewma_variance: f64,
    cusum_upper: f64,
    cusum_lower: f64,
}

impl Judge {
    fn new(spec: &ChartSpec, estimate: Estimate) -> Judge {
        let first_companion = usize::from(spec.chart == ChartType::Individuals);
        let head_start = match spec.chart {
            ChartType::Cusum { head_start, .. } => head_start,
            _ => 0.0,
        };
        let width = spec.width();
        let single = estimate::Sample {
            x: 0.0,
            n: 1.0,
            range: 0.0,
            sd: 0.0,
        };
        let (center, sigma) = (estimate.center, estimate.sigma);
        let individuals = (
            estimate::shewhart_point(ChartType::Individuals, 0, &single, center, sigma, width),
            // Center d2(2) sigma, sigma of the moving range d3(2) sigma.
            spread(
                width,
                0.0,
                crate::constants::d2(2) * sigma,
                crate::constants::d3(2) * sigma,
            ),
        );
        Judge {
            chart: spec.chart,
            width,
            primary: RuleDetector::new(spec.primary_rules()),
            custom: Some(spec.primary_rules().custom().clone())
                .filter(|c| !c.is_empty())
                .map(CustomDetector::new),
            custom_scratch: Vec::new(),
            companion: spec
                .companion_rules()
                .map(|r| RuleDetector::starting_at(r, first_companion)),
            ewma: estimate.center,
            individuals,
            estimate,
            constants: ConstantsCache::new(),
            scratch: Vec::new(),
            previous: None,
            ewma_variance: 0.0,
            cusum_upper: head_start,
            cusum_lower: head_start,
        }
    }

    /// The R or S point of an X-bar chart (Montgomery §6.2-6.3): center d2 sigma (c4 sigma
    /// for S), sigma of the statistic d3 sigma (sigma sqrt(1 - c4^2) for S).
    fn companion(&mut self, index: usize, s: &estimate::Sample, sink: &mut impl Sink) {
        let sigma = self.estimate.sigma;
        let point = match self.chart {
            ChartType::XbarR => {
                let c = self.constants.get(s.n as usize);
                spread(self.width, s.range, c.d2 * sigma, c.d3 * sigma)
            }
            ChartType::XbarS => {
                let c = self.constants.get(s.n as usize);
                spread(
                    self.width,
                    s.sd,
                    c.c4 * sigma,
                    sigma * (1.0_f64 - c.c4 * c.c4).max(0.0).sqrt(),
                )
            }
            _ => return,
        };
        self.emit(Which::Companion, Point { index, ..point }, sink);
    }

    /// A point of the individuals chart and of its moving-range chart (Montgomery §6.4), which
    /// starts at the second point.
    fn individual(&mut self, index: usize, x: f64, sink: &mut impl Sink) {
        let (value, moving_range) = self.individuals;
        self.emit(
            Which::Primary,
            Point {
                index,
                statistic: x,
                ..value
            },
            sink,
        );
        if let Some(previous) = self.previous.replace(x) {
            let statistic = (x - previous).abs();
            let point = Point {
                index,
                statistic,
                ..moving_range
            };
            self.emit(Which::Companion, point, sink);
        }
    }

    fn replay(&mut self, buffer: &Buffer, sink: &mut impl Sink) -> Result<(), SpcError> {
        for i in 0..buffer.len() {
            let sample = buffer.sample(i, &self.estimate.transform);
            self.judge(i, sample, sink);
        }
        Ok(())
    }

    fn push(
        &mut self,
        index: usize,
        obs: Observation<'_>,
        sink: &mut impl Sink,
    ) -> Result<(), SpcError> {
        // The common stream, a finite value of an individuals chart without a transform, needs
        // no more checks: this runs for every point.
        if let (Observation::Value(x), ChartType::Individuals, Transform::Identity) =
            (obs, self.chart, self.estimate.transform)
        {
            if x.is_finite() {
                self.individual(index, x, sink);
                return Ok(());
            }
        }
        let sample =
            estimate::Sample::from_observation(index, obs, self.chart, &self.estimate.transform)?;
        self.judge(index, sample, sink);
        Ok(())
    }

    fn emit(&mut self, which: Which, point: Point, sink: &mut impl Sink) {
        let detector = match which {
            Which::Primary => &mut self.primary,
            Which::Companion => match &mut self.companion {
                Some(d) => d,
                None => return,
            },
        };
        detector.push(point.statistic, point.z(), point.side(), &mut self.scratch);
        sink.point(which, point);
        for &signal in &self.scratch {
            sink.signal(which, signal);
        }
        self.scratch.clear();
        if let (Which::Primary, Some(custom)) = (which, &mut self.custom) {
            custom.push(
                point.statistic,
                point.z(),
                point.side(),
                &mut self.custom_scratch,
            );
            for &signal in &self.custom_scratch {
                sink.rule_signal(which, signal);
            }
            self.custom_scratch.clear();
        }
    }

    fn judge(&mut self, index: usize, s: estimate::Sample, sink: &mut impl Sink) {
        let (center, sigma) = (self.estimate.center, self.estimate.sigma);
        match self.chart {
            ChartType::Individuals => self.individual(index, s.x, sink),
            ChartType::XbarR
            | ChartType::XbarS
            | ChartType::P
            | ChartType::Np
            | ChartType::C
            | ChartType::U => {
                let p = estimate::shewhart_point(self.chart, index, &s, center, sigma, self.width);
                self.emit(Which::Primary, p, sink);
                self.companion(index, &s, sink);
            }
            ChartType::Ewma { lambda, width } => {
                let variance_x = sigma * sigma / s.n;
                self.ewma = lambda * s.x + (1.0 - lambda) * self.ewma;
                self.ewma_variance =
                    lambda * lambda * variance_x + (1.0 - lambda).powi(2) * self.ewma_variance;
                let sd = self.ewma_variance.sqrt();
                let p = Point {
                    index,
                    statistic: self.ewma,
                    center,
                    lcl: Some(center - width * sd),
                    ucl: Some(center + width * sd),
                    sigma: sd,
                };
                self.emit(Which::Primary, p, sink);
            }
            ChartType::Cusum { k, h, .. } => {
                let z = (s.x - center) / (sigma / s.n.sqrt());
                self.cusum_upper = (z - k + self.cusum_upper).max(0.0);
                self.cusum_lower = (-z - k + self.cusum_lower).max(0.0);
                let point = |statistic| Point {
                    index,
                    statistic,
                    center: 0.0,
                    lcl: None,
                    ucl: Some(h),
                    sigma: 1.0,
                };
                self.emit(Which::Primary, point(self.cusum_upper), sink);
                self.emit(Which::Companion, point(self.cusum_lower), sink);
            }
        }
    }
}

/// A point of a companion chart of spreads, at index 0: LCL floored at 0.
fn spread(width: f64, statistic: f64, center: f64, sigma: f64) -> Point {
    Point {
        index: 0,
        statistic,
        center,
        lcl: Some((center - width * sigma).max(0.0)),
        ucl: Some(center + width * sigma),
        sigma,
    }
}
