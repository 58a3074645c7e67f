//! Seeded labelled cases of many streams (issue 13's proof), beside [`super::faults`]' single
//! streams: a **coupled fault**, where one injected cause moves 2 to 3 of 10 to 50 streams at
//! once, each by its own size, a few points late or early, with or against the cause, on its
//! own kind of noise. Every stream has its own level and sigma; the ones the cause leaves
//! alone are in control but not all alike (independent, autocorrelated, or rounded to a coarse
//! unit with many ties), as a plant's registers are.
//!
//! And a **recurring motif**: a fault with a fixed pattern (a spike, a step and back, a ramp
//! and reset, a burst of oscillation or of a cycle, a stuck value) that happened once before,
//! in the same stream or in a stream of the same kind (the same register of another machine),
//! and happens again, at another size, on fresh noise. A variance increase and a mixture
//! recur as a distribution, not a pattern, so a shape distance cannot match them; they are
//! left out.

use super::shape::Shape;
use crate::Rng;

/// The shapes a coupled cause takes: what moves several streams at once (a setpoint or
/// material lot change is a step, tool wear a drift, a loose fixture a variance increase).
pub const COUPLED: [Shape; 3] = [Shape::Step, Shape::Drift, Shape::Variance];

/// In-control points before any fault; the chart's baseline is the first 100 of them.
pub const LEAD: usize = 150;
/// Points of the fault.
pub const LENGTH: usize = 60;

/// One labelled case: named streams on one index, the stream whose episode is explained, and
/// what was injected.
#[derive(Clone, Debug)]
pub struct Case {
    /// The streams' names (`s00`, `s01`, …).
    pub names: Vec<String>,
    /// Their values, all of one length.
    pub streams: Vec<Vec<f64>>,
    /// The stream whose episode is explained.
    pub target: usize,
    /// The shape injected into it.
    pub shape: Shape,
    /// The fault's first point (0-based).
    pub first: usize,
    /// Its last point.
    pub last: usize,
    /// The other streams the same cause moved.
    pub partners: Vec<usize>,
    /// The streams of the target's kind, searched for similar windows.
    pub kin: Vec<usize>,
    /// The motif's earlier occurrence, when it recurs.
    pub earlier: Option<Occurrence>,
}

/// Where a motif happened.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Occurrence {
    /// The stream.
    pub stream: usize,
    /// Its first point (0-based).
    pub first: usize,
    /// Its last point.
    pub last: usize,
}

/// A stream's in-control noise: level, marginal sigma, AR(1) coefficient, and the unit it is
/// rounded to (0: not rounded).
#[derive(Clone, Copy, Debug)]
struct Noise {
    mean: f64,
    sd: f64,
    phi: f64,
    unit: f64,
}

impl Noise {
    /// A register of the plant: a level from 0 to 1,000, a sigma from 0.1 to 30; a third
    /// independent, a third AR(1) with φ up to 0.6, a third rounded to a unit of 0.5 to 1 sigma.
    fn draw(rng: &mut Rng) -> Noise {
        let mean = (rng.uniform() * 1000.0).round();
        let sd = 10f64.powf(-1.0 + 2.5 * rng.uniform());
        let kind = rng.below(3);
        Noise {
            mean,
            sd,
            phi: if kind == 1 { 0.6 * rng.uniform() } else { 0.0 },
            unit: if kind == 2 {
                sd * (0.5 + 0.5 * rng.uniform())
            } else {
                0.0
            },
        }
    }

    /// `n` points, `effect` added in sigma units where it is `Some(Add)`, the deviations
    /// scaled where it is `Some(Scale)`.
    fn series(&self, rng: &mut Rng, n: usize, effect: impl Fn(usize) -> Effect) -> Vec<f64> {
        let innovation = (1.0 - self.phi * self.phi).sqrt();
        let mut e = rng.normal();
        (0..n)
            .map(|i| {
                e = self.phi * e + innovation * rng.normal();
                let z = match effect(i) {
                    Effect::Add(a) => e + a,
                    Effect::Scale(f) => e * f,
                };
                let v = self.mean + self.sd * z;
                if self.unit > 0.0 {
                    (v / self.unit).round() * self.unit
                } else {
                    v
                }
            })
            .collect()
    }
}

/// What a cause does to one point, in the stream's sigma units.
#[derive(Clone, Copy, Debug)]
enum Effect {
    Add(f64),
    Scale(f64),
}

/// A cause of shape `shape` and `size` (a step's or a drift's full size in sigmas, a variance
/// increase's factor) from `start` for `length` points, felt `gain` times as strongly and `lag`
/// points later (earlier when negative).
fn cause(shape: Shape, size: f64, gain: f64, start: usize, lag: isize) -> impl Fn(usize) -> Effect {
    let onset = start as isize + lag;
    move |i: usize| {
        let k = i as isize - onset;
        if k < 0 {
            return Effect::Add(0.0);
        }
        match shape {
            Shape::Variance => Effect::Scale(1.0 + (size - 1.0) * gain),
            Shape::Drift => Effect::Add(size * gain * (k as f64 / LENGTH as f64).min(1.0)),
            _ => Effect::Add(size * gain),
        }
    }
}

/// A coupled fault among `streams` streams (10 to 50 is the range): the target, a
/// N(50, 2) process charted as in [`super::faults`], takes one of [`COUPLED`] at [`LEAD`];
/// one or two partners take the same cause with a gain of 0.6 to 1.4, either sign (a
/// variance increase has none), and a lag of −2 to 4 points, on their own noise.
pub fn coupled(rng: &mut Rng, streams: usize) -> Case {
    let n = LEAD + LENGTH;
    let shape = COUPLED[rng.below(COUPLED.len() as u64) as usize];
    let between = |rng: &mut Rng, lo: f64, hi: f64| lo + (hi - lo) * rng.uniform();
    let size = match shape {
        Shape::Step => between(rng, 1.5, 3.0),
        Shape::Drift => between(rng, 3.0, 6.0),
        _ => between(rng, 2.5, 3.5),
    };
    let sign = if rng.uniform() < 0.5 { -1.0 } else { 1.0 };
    let mut order: Vec<usize> = (0..streams).collect();
    shuffle(rng, &mut order);
    let target = order[0];
    let partners: Vec<usize> = order[1..2 + rng.below(2) as usize].to_vec();
    let mut values = vec![Vec::new(); streams];
    let process = Noise {
        mean: super::faults::MEAN,
        sd: super::faults::SIGMA,
        phi: 0.0,
        unit: 0.0,
    };
    // A variance increase has no sign.
    let signed = |sign: f64| {
        if shape == Shape::Variance {
            size
        } else {
            sign * size
        }
    };
    values[target] = process.series(rng, n, cause(shape, signed(sign), 1.0, LEAD, 0));
    for &p in &partners {
        let gain = between(rng, 0.6, 1.4);
        let flip = if rng.uniform() < 0.5 { -1.0 } else { 1.0 };
        let lag = rng.below(7) as isize - 2;
        let signed = signed(sign * flip);
        values[p] = Noise::draw(rng).series(rng, n, cause(shape, signed, gain, LEAD, lag));
    }
    for v in values.iter_mut().filter(|v| v.is_empty()) {
        *v = Noise::draw(rng).series(rng, n, |_| Effect::Add(0.0));
    }
    Case {
        names: (0..streams).map(|i| format!("s{i:02}")).collect(),
        streams: values,
        target,
        shape,
        first: LEAD,
        last: n - 1,
        partners,
        kin: Vec::new(),
        earlier: None,
    }
}

/// One of the eight shapes of [`super::faults::fault`] (100 in-control points, then 60 of the
/// fault) in one stream among `streams`, the others in control with the variety of
/// [`coupled`]'s.
pub fn single(rng: &mut Rng, shape: Shape, streams: usize) -> Case {
    let target = rng.below(streams as u64) as usize;
    let f = super::faults::fault(shape, rng, 100, 60);
    let n = f.values.len();
    let values = (0..streams)
        .map(|i| {
            if i == target {
                f.values.clone()
            } else {
                Noise::draw(rng).series(rng, n, |_| Effect::Add(0.0))
            }
        })
        .collect();
    Case {
        names: (0..streams).map(|i| format!("s{i:02}")).collect(),
        streams: values,
        target,
        shape,
        first: f.start,
        last: f.last,
        partners: Vec::new(),
        kin: Vec::new(),
        earlier: None,
    }
}

/// The shapes a motif takes.
pub const MOTIFS: [Shape; 6] = [
    Shape::Spike,
    Shape::Step,
    Shape::Drift,
    Shape::Oscillation,
    Shape::Cyclic,
    Shape::Stuck,
];

/// A recurring motif among `streams` streams (at least 4): the target and 1 to 3 streams of
/// its kind are N(µ, σ) processes (µ from 40 to 60, σ from 1.5 to 3; the target N(50, 2));
/// the motif, 20 to 40 points of one of [`MOTIFS`] (a spike 1 to 3), happens first in the target or, half the
/// time, one of its kin, between points 150 and 300, and again in the target between 400 and
/// 500, at 0.7 to 1.4 times the size. The case's `first` and `last` are the recurrence.
pub fn motif(rng: &mut Rng, streams: usize) -> Case {
    let between = |rng: &mut Rng, lo: f64, hi: f64| lo + (hi - lo) * rng.uniform();
    let shape = MOTIFS[rng.below(MOTIFS.len() as u64) as usize];
    let length = 20 + rng.below(21) as usize;
    let pattern = Pattern::draw(rng, shape, length);
    let length = pattern.length;
    let (early, late) = (150 + rng.below(151) as usize, 400 + rng.below(101) as usize);
    let n = late + length + 40;
    let mut order: Vec<usize> = (0..streams).collect();
    shuffle(rng, &mut order);
    let target = order[0];
    let kin: Vec<usize> = order[1..2 + rng.below(3) as usize].to_vec();
    let mut values = vec![Vec::new(); streams];
    for &k in std::iter::once(&target).chain(&kin) {
        let (mean, sd) = if k == target {
            (super::faults::MEAN, super::faults::SIGMA)
        } else {
            (between(rng, 40.0, 60.0), between(rng, 1.5, 3.0))
        };
        values[k] = (0..n).map(|_| mean + sd * rng.normal()).collect();
    }
    let home = if rng.uniform() < 0.5 {
        target
    } else {
        kin[rng.below(kin.len() as u64) as usize]
    };
    let gain = between(rng, 0.7, 1.4);
    pattern.apply(&mut values[home], early, 1.0);
    pattern.apply(&mut values[target], late, gain);
    for v in values.iter_mut().filter(|v| v.is_empty()) {
        *v = Noise::draw(rng).series(rng, n, |_| Effect::Add(0.0));
    }
    Case {
        names: (0..streams).map(|i| format!("s{i:02}")).collect(),
        streams: values,
        target,
        shape,
        first: late,
        last: late + length - 1,
        partners: Vec::new(),
        kin,
        earlier: Some(Occurrence {
            stream: home,
            first: early,
            last: early + length - 1,
        }),
    }
}

/// A motif's fixed pattern, in sigma units of the stream it lands on.
#[derive(Clone, Copy, Debug)]
struct Pattern {
    shape: Shape,
    length: usize,
    /// A spike's or step's height, a ramp's end, an oscillation's or a cycle's amplitude.
    size: f64,
    /// A spike's width; a cycle's period.
    width: f64,
    phase: f64,
}

impl Pattern {
    fn draw(rng: &mut Rng, shape: Shape, length: usize) -> Pattern {
        let sign = if rng.uniform() < 0.5 { -1.0 } else { 1.0 };
        let (lo, hi, width) = match shape {
            // A spike is only its points.
            Shape::Spike => (4.0, 7.0, (1 + rng.below(3)) as f64),
            Shape::Step => (1.5, 3.0, 0.0),
            Shape::Drift => (3.0, 6.0, 0.0),
            Shape::Oscillation => (1.2, 2.0, 0.0),
            _ => (2.0, 3.0, 8.0 + 8.0 * rng.uniform()),
        };
        Pattern {
            shape,
            length: if shape == Shape::Spike {
                width as usize
            } else {
                length
            },
            size: sign * (lo + (hi - lo) * rng.uniform()),
            width,
            phase: rng.uniform() * std::f64::consts::TAU,
        }
    }

    /// Lays the pattern on `values` from `at`, `gain` times its size, in the sigma of the
    /// points before it.
    fn apply(&self, values: &mut [f64], at: usize, gain: f64) {
        let sd = sd(&values[..at]);
        let held = values[at - 1];
        for (i, v) in values[at..at + self.length].iter_mut().enumerate() {
            let x = i as f64;
            let size = self.size * gain * sd;
            if self.shape == Shape::Stuck {
                *v = held;
                continue;
            }
            *v += match self.shape {
                Shape::Spike if x < self.width => size,
                Shape::Spike => 0.0,
                Shape::Drift => size * x / self.length as f64,
                Shape::Oscillation if i % 2 == 0 => size,
                Shape::Oscillation => -size,
                Shape::Cyclic => size * (std::f64::consts::TAU * x / self.width + self.phase).sin(),
                _ => size,
            };
        }
    }
}

fn sd(v: &[f64]) -> f64 {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
}

/// Fisher–Yates.
fn shuffle(rng: &mut Rng, v: &mut [usize]) {
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The partners move with the cause, the rest do not: the fault's mean or spread against
    /// the lead's, in each stream's own sigma.
    #[test]
    fn a_coupled_cause_moves_its_partners_and_only_them() {
        let mut rng = Rng::new(5);
        for _ in 0..30 {
            let case = coupled(&mut rng, 12);
            assert_eq!(case.streams.len(), 12);
            assert!(case.streams.iter().all(|v| v.len() == LEAD + LENGTH));
            assert!((1..=2).contains(&case.partners.len()));
            assert!(!case.partners.contains(&case.target));
            // (|mean shift| / sd, sd ratio) of the fault's last 50 points against the lead.
            let moved = |v: &[f64]| {
                let (m0, s0) = mean_sd(&v[..LEAD]);
                let (m1, s1) = mean_sd(&v[LEAD + 10..]);
                (((m1 - m0) / s0).abs(), s1 / s0)
            };
            for (i, v) in case.streams.iter().enumerate() {
                let (shift, ratio) = moved(v);
                if i == case.target || case.partners.contains(&i) {
                    // The least: a step of 0.6 × 1.5 sigma, a drift's mean of 0.6 × 3 × 35/60,
                    // a spread of 1 + 0.6 × 1.5.
                    let enough = if case.shape == Shape::Variance {
                        ratio > 1.5
                    } else {
                        shift > 0.5
                    };
                    assert!(enough, "{:?} stream {i}: {shift} {ratio}", case.shape);
                } else {
                    assert!(shift < 1.3 && ratio < 1.5, "stream {i}: {shift} {ratio}");
                }
            }
        }
    }

    /// The motif lands twice: in the target at the case's span, and earlier in the target or
    /// its kin, the same pattern (correlated), on streams of the target's kind.
    #[test]
    fn a_motif_recurs_in_the_target_after_its_earlier_occurrence() {
        let mut rng = Rng::new(8);
        let mut in_kin = 0;
        for _ in 0..40 {
            let case = motif(&mut rng, 10);
            let e = case.earlier.unwrap();
            assert!(e.last < case.first && case.last < case.streams[0].len());
            assert!(e.stream == case.target || case.kin.contains(&e.stream));
            assert!((1..=3).contains(&case.kin.len()) && !case.kin.contains(&case.target));
            in_kin += usize::from(e.stream != case.target);
            if matches!(case.shape, Shape::Drift | Shape::Cyclic) {
                let a = &case.streams[e.stream][e.first..=e.last];
                let b = &case.streams[case.target][case.first..=case.last];
                assert!(correlation(a, b) > 0.2, "{:?}", case.shape);
            }
            if case.shape == Shape::Stuck {
                let run = &case.streams[case.target][case.first..=case.last];
                assert!(run.windows(2).all(|w| w[0] == w[1]));
            }
        }
        assert!((10..=30).contains(&in_kin), "{in_kin}");
    }

    fn correlation(a: &[f64], b: &[f64]) -> f64 {
        let ((ma, sa), (mb, sb)) = (mean_sd(a), mean_sd(b));
        let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
        cov / ((a.len() - 1) as f64 * sa * sb)
    }

    fn mean_sd(v: &[f64]) -> (f64, f64) {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var.sqrt())
    }
}
