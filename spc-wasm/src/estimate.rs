//! Phase I: the baseline buffer and the estimate of center and sigma it gives.
//!
//! Estimators (each cites its source):
//! - Individuals: sigma = MR-bar / d2(2) (Montgomery §6.4), or median MR / d4(2) (robust;
//!   qcc's "MR median"), or the overall SD / c4(n).
//! - Subgroups: sigma = mean of R_i / d2(n_i) (qcc "UWAVE-R"; R-bar/d2 for equal sizes,
//!   Montgomery §6.2), mean of S_i / c4(n_i) (qcc "UWAVE-SD"; S-bar/c4, §6.3), or pooled SD /
//!   c4 (qcc "RMSDF"). The center is the size-weighted grand mean.
//! - p and np: p-bar = total defectives / total inspected (§7.2); c: mean count (§7.3);
//!   u: total defects / total units (§7.3).
//!
//! On request, baseline points that fail test 1 on the chart of the observations themselves
//! (individuals, X-bar, p, np, c, u: also for EWMA and CUSUM, whose own points are
//! autocorrelated) are set aside and the estimate repeated until nothing more is set aside
//! (Montgomery §6.2.1, "revised control limits"). For individuals, setting a point aside also
//! drops the two moving ranges it takes part in.

use crate::constants::ConstantsCache;
use crate::error::{invalid, SpcError};
use crate::monitor::{Observation, Point};
use crate::spec::{Baseline, ChartSpec, ChartType, SigmaMethod};
use crate::transform::{Transform, TransformKind};

/// The frozen Phase I estimate, on the charted (transformed) scale.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Estimate {
    /// Process center: mean, grand mean, p-bar, c-bar or u-bar.
    pub center: f64,
    /// Process sigma: within-subgroup for X-bar, sqrt(p-bar(1-p-bar)) for p and np (taken at
    /// the exact 95 % upper bound on p when the baseline had no failure, or only failures:
    /// `zero_failure_sigma`),
    /// sqrt(c-bar) for c, sqrt(u-bar) for u.
    pub sigma: f64,
    /// How sigma was estimated (the resolved method; `Auto` only for attribute and known).
    pub sigma_method: SigmaMethod,
    /// The transform applied to measurements before charting.
    pub transform: Transform,
    /// First baseline point (0-based).
    pub baseline_start: usize,
    /// One past the last baseline point.
    pub baseline_end: usize,
    /// Baseline points set aside because they failed test 1.
    pub excluded: Vec<usize>,
    /// True when mu and sigma were given rather than estimated.
    pub known: bool,
}

impl Estimate {
    /// Is this point part of the estimate?
    pub fn in_baseline(&self, index: usize) -> bool {
        (self.baseline_start..self.baseline_end).contains(&index)
            && self.excluded.binary_search(&index).is_err()
    }
}

/// One observation reduced to what the charts need, after the transform.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Sample {
    /// The value, the subgroup mean, or the count.
    pub x: f64,
    /// 1 for a value, the subgroup size, or the sample size.
    pub n: f64,
    /// Subgroup range (0 for a value).
    pub range: f64,
    /// Subgroup SD (0 for a value).
    pub sd: f64,
}

impl Sample {
    fn value(x: f64) -> Sample {
        Sample {
            x,
            n: 1.0,
            range: 0.0,
            sd: 0.0,
        }
    }

    fn subgroup(values: &[f64], transform: &Transform) -> Sample {
        let n = values.len() as f64;
        let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
        for &v in values {
            let v = transform.apply(v);
            min = min.min(v);
            max = max.max(v);
        }
        let mean = crate::math::weighted_mean(values.iter().map(|&v| (transform.apply(v), 1.0)));
        // Deviations are scaled by the range so their squares cannot overflow.
        let range = max - min;
        let scale = if range > 0.0 { range } else { 1.0 };
        let ss: f64 = values
            .iter()
            .map(|&v| ((transform.apply(v) - mean) / scale).powi(2))
            .sum();
        Sample {
            x: mean,
            n,
            range,
            sd: scale * (ss / (n - 1.0)).sqrt(),
        }
    }

    /// Validates and reduces a Phase II observation.
    pub(crate) fn from_observation(
        index: usize,
        obs: Observation<'_>,
        chart: ChartType,
        transform: &Transform,
    ) -> Result<Sample, SpcError> {
        check(index, obs, chart, transform_kind(transform))?;
        Ok(match obs {
            Observation::Value(x) => Sample::value(transform.apply(x)),
            Observation::Subgroup(values) => Sample::subgroup(values, transform),
            Observation::Count { count, size } => Sample {
                x: count,
                n: size,
                range: 0.0,
                sd: 0.0,
            },
        })
    }
}

fn transform_kind(t: &Transform) -> TransformKind {
    match t {
        Transform::Identity => TransformKind::None,
        Transform::Log => TransformKind::Log,
        Transform::BoxCox { .. } => TransformKind::BoxCox,
    }
}

/// Rejects an observation the chart cannot use, naming it.
fn check(
    index: usize,
    obs: Observation<'_>,
    chart: ChartType,
    transform: TransformKind,
) -> Result<(), SpcError> {
    let finite = |x: f64| {
        if x.is_finite() {
            Ok(())
        } else {
            Err(SpcError::NotFinite { index, value: x })
        }
    };
    let positive = |x: f64| {
        if transform == TransformKind::None || x > 0.0 {
            Ok(())
        } else {
            Err(invalid(
                "transform",
                format!("observation {index}: {x} is not positive; log and Box-Cox transforms need positive data"),
            ))
        }
    };
    let wrong = |what: &str| {
        Err(invalid(
            "observation",
            format!("observation {index}: a {} chart takes {what}", chart.name()),
        ))
    };
    match (obs, chart) {
        (
            Observation::Value(x),
            ChartType::Individuals | ChartType::Ewma { .. } | ChartType::Cusum { .. },
        ) => {
            finite(x)?;
            positive(x)
        }
        (Observation::Value(_), ChartType::XbarR | ChartType::XbarS) => {
            wrong("subgroups of 2 or more values")
        }
        (
            Observation::Subgroup(values),
            ChartType::XbarR | ChartType::XbarS | ChartType::Ewma { .. } | ChartType::Cusum { .. },
        ) => {
            if values.len() < 2 {
                return Err(SpcError::SubgroupTooSmall {
                    index,
                    size: values.len(),
                });
            }
            for &x in values {
                finite(x)?;
                positive(x)?;
            }
            Ok(())
        }
        (Observation::Subgroup(_), ChartType::Individuals) => wrong("single values"),
        (
            Observation::Count { count, size },
            ChartType::P | ChartType::Np | ChartType::C | ChartType::U,
        ) => {
            finite(count)?;
            finite(size)?;
            if count < 0.0 {
                return Err(SpcError::BadCount {
                    index,
                    message: format!("count {count} is negative"),
                });
            }
            if size <= 0.0 {
                return Err(SpcError::BadCount {
                    index,
                    message: format!("size {size} must be greater than 0"),
                });
            }
            if matches!(chart, ChartType::P | ChartType::Np) && count > size {
                return Err(SpcError::BadCount {
                    index,
                    message: format!("{count} defectives in a sample of {size}: a count cannot exceed its sample size"),
                });
            }
            Ok(())
        }
        (_, ChartType::P | ChartType::Np | ChartType::C | ChartType::U) => {
            wrong("counts with sample sizes")
        }
        (Observation::Count { .. }, _) => wrong("measurements, not counts"),
    }
}

/// The raw Phase I observations, kept until the baseline is complete. Raw, because a Box-Cox
/// lambda is fitted on the baseline before anything is transformed.
#[derive(Debug)]
pub(crate) struct Buffer {
    chart: ChartType,
    transform: TransformKind,
    data: Data,
}

#[derive(Debug)]
enum Data {
    Empty,
    Values(Vec<f64>),
    Subgroups { values: Vec<f64>, ends: Vec<usize> },
    Counts(Vec<(f64, f64)>),
}

impl Buffer {
    pub(crate) fn new(spec: &ChartSpec) -> Buffer {
        Buffer {
            chart: spec.chart,
            transform: spec.transform,
            data: Data::Empty,
        }
    }

    /// Room for `n` more single values (a batch knows its length up front).
    pub(crate) fn reserve_values(&mut self, n: usize) {
        if let Data::Empty = self.data {
            if matches!(
                self.chart,
                ChartType::Individuals | ChartType::Ewma { .. } | ChartType::Cusum { .. }
            ) {
                self.data = Data::Values(Vec::with_capacity(n));
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        match &self.data {
            Data::Empty => 0,
            Data::Values(v) => v.len(),
            Data::Subgroups { ends, .. } => ends.len(),
            Data::Counts(c) => c.len(),
        }
    }

    pub(crate) fn push(&mut self, index: usize, obs: Observation<'_>) -> Result<(), SpcError> {
        check(index, obs, self.chart, self.transform)?;
        let fresh = match &self.data {
            Data::Empty => true,
            Data::Values(v) => v.is_empty() && !matches!(obs, Observation::Value(_)),
            _ => false,
        };
        if fresh {
            self.data = match obs {
                Observation::Value(_) => Data::Values(Vec::new()),
                Observation::Subgroup(_) => Data::Subgroups {
                    values: Vec::new(),
                    ends: Vec::new(),
                },
                Observation::Count { .. } => Data::Counts(Vec::new()),
            };
        }
        match (&mut self.data, obs) {
            (Data::Values(v), Observation::Value(x)) => v.push(x),
            (Data::Subgroups { values, ends }, Observation::Subgroup(s)) => {
                values.extend_from_slice(s);
                ends.push(values.len());
            }
            (Data::Counts(c), Observation::Count { count, size }) => c.push((count, size)),
            _ => {
                return Err(invalid(
                    "observation",
                    format!(
                        "observation {index}: do not mix single values and subgroups in one chart"
                    ),
                ))
            }
        }
        Ok(())
    }

    /// The measurements of points `start..end`, untransformed, for fitting a transform.
    fn raw_values(&self, start: usize, end: usize) -> Vec<f64> {
        match &self.data {
            Data::Values(v) => v[start..end].to_vec(),
            Data::Subgroups { values, ends } => {
                let from = if start == 0 { 0 } else { ends[start - 1] };
                values[from..ends[end - 1]].to_vec()
            }
            _ => Vec::new(),
        }
    }

    pub(crate) fn sample(&self, i: usize, transform: &Transform) -> Sample {
        match &self.data {
            Data::Values(v) => Sample::value(transform.apply(v[i])),
            Data::Subgroups { values, ends } => {
                let from = if i == 0 { 0 } else { ends[i - 1] };
                Sample::subgroup(&values[from..ends[i]], transform)
            }
            Data::Counts(c) => Sample {
                x: c[i].0,
                n: c[i].1,
                range: 0.0,
                sd: 0.0,
            },
            Data::Empty => Sample::value(f64::NAN),
        }
    }

    fn is_subgroups(&self) -> bool {
        matches!(self.data, Data::Subgroups { .. })
    }
}

/// The Shewhart point of an observation on the chart of the observations themselves
/// (individuals, X-bar, p, np, c, u). EWMA and CUSUM use it for exclusion.
pub(crate) fn shewhart_point(
    chart: ChartType,
    index: usize,
    s: &Sample,
    center: f64,
    sigma: f64,
    width: f64,
) -> Point {
    let inf = f64::INFINITY;
    let (statistic, center, sigma, floor, ceiling) = match chart {
        ChartType::P => (s.x / s.n, center, sigma / s.n.sqrt(), 0.0, 1.0),
        ChartType::Np => (s.x, s.n * center, sigma * s.n.sqrt(), 0.0, s.n),
        ChartType::C => (s.x, center, sigma, 0.0, inf),
        ChartType::U => (s.x / s.n, center, sigma / s.n.sqrt(), 0.0, inf),
        // Single values (n = 1) skip the square root: this runs for every streamed point.
        _ if s.n == 1.0 => (s.x, center, sigma, -inf, inf),
        _ => (s.x, center, sigma / s.n.sqrt(), -inf, inf),
    };
    Point {
        index,
        statistic,
        center,
        lcl: Some((center - width * sigma).max(floor)),
        ucl: Some((center + width * sigma).min(ceiling)),
        sigma,
    }
}

/// Estimates center and sigma from the buffered baseline (or takes the known values).
pub(crate) fn estimate(spec: &ChartSpec, buffer: &Buffer) -> Result<Estimate, SpcError> {
    if let Baseline::Known { mu, sigma } = spec.baseline {
        return known(spec, mu, sigma);
    }
    let start = spec.baseline.start();
    let end = spec.baseline.end().unwrap_or(buffer.len());
    if end > buffer.len() {
        return Err(SpcError::BaselineTooLong {
            baseline: end,
            available: buffer.len(),
        });
    }
    if start >= end {
        return Err(SpcError::TooFewPoints {
            needed: 1,
            got: 0,
            what: "the baseline",
        });
    }
    let transform = match spec.box_cox_lambda {
        Some(lambda) if spec.transform == TransformKind::BoxCox => Transform::BoxCox { lambda },
        _ => Transform::fit(spec.transform, &buffer.raw_values(start, end))?,
    };
    // Subgroups are summarized once; single values and counts are cheap to read again, and a
    // 10-million-point baseline should not be copied.
    let summaries: Vec<Sample> = if buffer.is_subgroups() {
        (start..end).map(|i| buffer.sample(i, &transform)).collect()
    } else {
        Vec::new()
    };
    let sample = |j: usize| match summaries.get(j) {
        Some(s) => *s,
        None => buffer.sample(start + j, &transform),
    };
    let samples = Samples {
        len: end - start,
        at: &sample,
    };
    let method = resolve_method(spec, buffer.is_subgroups());
    let mut included = vec![true; samples.len];
    for &i in &spec.exclude {
        if let Some(keep) = i.checked_sub(start).and_then(|j| included.get_mut(j)) {
            *keep = false;
        }
    }
    let mut constants = ConstantsCache::new();
    loop {
        let (center, sigma) =
            center_and_sigma(spec.chart, method, &samples, &included, &mut constants)?;
        let mut changed = false;
        if spec.exclude_out_of_control {
            for (j, keep) in included.iter_mut().enumerate() {
                let p = shewhart_point(
                    spec.chart,
                    start + j,
                    &sample(j),
                    center,
                    sigma,
                    spec.width(),
                );
                let beyond = p.ucl.is_some_and(|u| p.statistic > u)
                    || p.lcl.is_some_and(|l| p.statistic < l);
                if *keep && beyond {
                    *keep = false;
                    changed = true;
                }
            }
        }
        if !changed {
            let excluded = (0..samples.len)
                .filter(|&j| !included[j])
                .map(|j| start + j)
                .collect();
            return Ok(Estimate {
                center,
                sigma,
                sigma_method: method,
                transform,
                baseline_start: start,
                baseline_end: end,
                excluded,
                known: false,
            });
        }
    }
}

/// The baseline's samples, read on demand.
struct Samples<'a> {
    len: usize,
    at: &'a dyn Fn(usize) -> Sample,
}

impl Samples<'_> {
    /// The samples still in the estimate.
    fn kept<'b>(&'b self, included: &'b [bool]) -> impl Iterator<Item = Sample> + 'b {
        (0..self.len).filter(|&j| included[j]).map(|j| (self.at)(j))
    }
}

fn known(spec: &ChartSpec, mu: f64, sigma: f64) -> Result<Estimate, SpcError> {
    let sigma = match spec.chart {
        // A zero-failure baseline frozen earlier: its sigma comes with it.
        ChartType::P | ChartType::Np if mu == 0.0 && sigma.is_finite() && sigma > 0.0 => sigma,
        ChartType::P | ChartType::Np => {
            if !(mu > 0.0 && mu < 1.0) {
                return Err(invalid(
                    "mu",
                    format!("a known p must lie strictly between 0 and 1 (or be 0 with the sigma of a zero-failure baseline), got {mu}"),
                ));
            }
            (mu * (1.0 - mu)).sqrt()
        }
        ChartType::C | ChartType::U => {
            if mu <= 0.0 {
                return Err(invalid(
                    "mu",
                    format!("a known defect rate must be positive, got {mu}"),
                ));
            }
            mu.sqrt()
        }
        _ => sigma,
    };
    let transform = match (spec.transform, spec.box_cox_lambda) {
        (TransformKind::BoxCox, Some(lambda)) => Transform::BoxCox { lambda },
        (TransformKind::Log, _) => Transform::Log,
        _ => Transform::Identity,
    };
    Ok(Estimate {
        center: mu,
        sigma,
        sigma_method: SigmaMethod::Auto,
        transform,
        baseline_start: 0,
        baseline_end: 0,
        excluded: Vec::new(),
        known: true,
    })
}

fn resolve_method(spec: &ChartSpec, subgroups: bool) -> SigmaMethod {
    match (spec.sigma_method, spec.chart) {
        (SigmaMethod::Auto, _) if spec.chart.is_attribute() => SigmaMethod::Auto,
        (SigmaMethod::Auto, ChartType::XbarS) => SigmaMethod::AverageSd,
        (SigmaMethod::Auto, _) if subgroups => SigmaMethod::AverageRange,
        (SigmaMethod::Auto, _) => SigmaMethod::MovingRange,
        (m, _) => m,
    }
}

fn center_and_sigma(
    chart: ChartType,
    method: SigmaMethod,
    samples: &Samples<'_>,
    included: &[bool],
    constants: &mut ConstantsCache,
) -> Result<(f64, f64), SpcError> {
    let count = included.iter().filter(|k| **k).count();
    if count == 0 {
        return Err(SpcError::TooFewPoints {
            needed: 1,
            got: 0,
            what: "the baseline after exclusions",
        });
    }
    let totals = |f: fn(&Sample) -> f64| samples.kept(included).map(|s| f(&s)).sum::<f64>();
    let (center, sigma, what) = match chart {
        ChartType::P | ChartType::Np => {
            let inspected = totals(|s| s.n);
            let p = totals(|s| s.x) / inspected;
            let sigma = match p {
                // All failures (a pass rate whose baseline always passed) mirrors none.
                0.0 | 1.0 => zero_failure_sigma(inspected),
                _ => (p * (1.0 - p)).sqrt(),
            };
            (p, sigma, "p-bar")
        }
        ChartType::C => {
            let c = totals(|s| s.x) / count as f64;
            (c, c.sqrt(), "c-bar")
        }
        ChartType::U => {
            let u = totals(|s| s.x) / totals(|s| s.n);
            (u, u.sqrt(), "u-bar")
        }
        _ => {
            let center = crate::math::weighted_mean(samples.kept(included).map(|s| (s.x, s.n)));
            (
                center,
                measurement_sigma(method, samples, included, center, constants)?,
                "sigma",
            )
        }
    };
    if !(sigma > 0.0 && sigma.is_finite()) {
        return Err(SpcError::ZeroSigma { what });
    }
    Ok((center, sigma))
}

/// Confidence of [`zero_failure_upper_bound`]: 95 %, the level of the rule of three.
pub const ZERO_FAILURE_CONFIDENCE: f64 = 0.95;

/// The exact (Clopper-Pearson) one-sided upper confidence bound on p after `n` trials without
/// a failure: the p at which seeing no failure has probability 1 - confidence, so
/// `p_U = 1 - (1 - confidence)^(1/n)`. At 95 % it is close to 3/n, the "rule of three"
/// (Hanley & Lippman-Hand 1983, "If nothing goes wrong, is everything all right?", JAMA
/// 249(13):1743-1745): 0.2589 for n = 10, 0.0950 for 30, 0.0295 for 100, 0.00994 for 300.
pub fn zero_failure_upper_bound(n: f64) -> f64 {
    -((1.0 - ZERO_FAILURE_CONFIDENCE).ln() / n).exp_m1()
}

/// The p and np charts' sigma when the baseline saw no failure at all (p-bar = 0). The
/// binomial sigma sqrt(p(1-p)) (Montgomery §7.2) is then 0, and every later failure would be
/// "out of control", so it is taken instead at [`zero_failure_upper_bound`] of the `inspected`
/// units: the largest p the baseline cannot rule out. The center line stays at the observed 0,
/// so a subgroup of n signals (test 1) when its share of failures exceeds
/// k sqrt(p_U(1 - p_U)/n), and, as any subgroup with a failure lies above the center line,
/// test 2 signals on K consecutive subgroups with failures. A total outage therefore signals at
/// its first subgroup whatever the baseline's length. A baseline of only failures (p-bar = 1,
/// e.g. a pass rate that always passed) is the same by symmetry: sigma at the bound on the
/// complement, center at 1, and a subgroup signals when its share falls far enough below.
fn zero_failure_sigma(inspected: f64) -> f64 {
    let p = zero_failure_upper_bound(inspected);
    (p * (1.0 - p)).sqrt()
}

fn measurement_sigma(
    method: SigmaMethod,
    samples: &Samples<'_>,
    included: &[bool],
    center: f64,
    constants: &mut ConstantsCache,
) -> Result<f64, SpcError> {
    let needs = |needed: usize, got: usize, what| {
        if got < needed {
            Err(SpcError::TooFewPoints { needed, got, what })
        } else {
            Ok(())
        }
    };
    let kept = || samples.kept(included);
    let count = included.iter().filter(|k| **k).count();
    Ok(match method {
        SigmaMethod::MovingRange | SigmaMethod::MedianMovingRange => {
            let at = samples.at;
            let ranges = (1..samples.len)
                .filter(|&i| included[i] && included[i - 1])
                .map(|i| (at(i).x - at(i - 1).x).abs());
            let what = "a moving-range sigma estimate (adjacent baseline points)";
            if method == SigmaMethod::MovingRange {
                let (sum, n) = ranges.fold((0.0, 0usize), |(sum, n), r| (sum + r, n + 1));
                needs(2, n + 1, what)?;
                sum / n as f64 / constants.get(2).d2
            } else {
                let ranges: Vec<f64> = ranges.collect();
                needs(2, ranges.len() + 1, what)?;
                crate::math::median(&ranges) / crate::constants::d4(2)
            }
        }
        SigmaMethod::OverallSd => {
            needs(2, count, "an overall-SD sigma estimate")?;
            let ss: f64 = kept().map(|s| (s.x - center).powi(2)).sum();
            (ss / (count as f64 - 1.0)).sqrt() / crate::constants::c4(count)
        }
        SigmaMethod::AverageRange | SigmaMethod::AverageSd | SigmaMethod::PooledSd => {
            if kept().any(|s| s.n < 2.0) {
                return Err(invalid(
                    "sigma_method",
                    "within-subgroup sigma needs subgroups, not single values",
                ));
            }
            match method {
                SigmaMethod::AverageRange => {
                    kept()
                        .map(|s| s.range / constants.get(s.n as usize).d2)
                        .sum::<f64>()
                        / count as f64
                }
                SigmaMethod::AverageSd => {
                    kept()
                        .map(|s| s.sd / constants.get(s.n as usize).c4)
                        .sum::<f64>()
                        / count as f64
                }
                _ => {
                    let df: f64 = kept().map(|s| s.n - 1.0).sum();
                    let pooled =
                        (kept().map(|s| (s.n - 1.0) * s.sd * s.sd).sum::<f64>() / df).sqrt();
                    pooled / crate::constants::c4(df as usize + 1)
                }
            }
        }
        SigmaMethod::Auto => unreachable_auto()?,
    })
}

fn unreachable_auto() -> Result<f64, SpcError> {
    Err(invalid(
        "sigma_method",
        "internal: the sigma method was not resolved",
    ))
}
