//! Derived streams: a formula over other streams (energy per part, scrap rate, first-pass
//! yield), kept as a stream like any other so the chart, cards, signals, Compare view and
//! forecast apply to it. The formula is parsed by the second module
//! (`llmscope_app_lazy::derived`, loaded when one is added); this is the small part that runs
//! on every new sample: the compiled stack code evaluated at each new sample of the driving
//! stream.
//!
//! **Alignment** (docs/derived.md): a point is made at each sample of the driving stream (the
//! formula's first stream), at that sample's time t. Every input is read at its latest sample
//! no later than t, and only if that sample is at most [`STALE_MS`] older than t; otherwise
//! there is no point. `delta(s)` and `rate(s)` span from the derived stream's previous point
//! (its reference time) to t, on the input's own samples, so a span without a part carries its
//! energy into the next point. Nothing is invented: a missing or stale input, a division by
//! zero or any result that is not a finite number is a gap (no point); a counter that fell
//! within the span (a reset) gives no point, and the next span starts at t.

use super::{Origin, Sample, Session, Stream};
use llmscope_app_lazy::derived::{self as lazy, op};

/// How much older than the driving sample an input's latest sample may be: one minute.
pub const STALE_MS: f64 = 60_000.0;

/// A derived stream's definition: its name (the stream's id), the formula as typed, and the
/// formula compiled (`llmscope_app_lazy::derived::Program`). Saved as one line of text
/// ([`text`]).
#[derive(Clone, Debug, Default)]
pub struct Derived {
    /// The derived stream's id.
    pub name: String,
    /// The formula as the user wrote it.
    pub formula: String,
    /// The streams it reads; the first drives it.
    pub inputs: Vec<String>,
    /// The stack code ([`op`]).
    pub code: Vec<u8>,
    /// How far it has been evaluated; `None` until it is, or after a load: then it is
    /// evaluated anew from its inputs' samples.
    cursor: Option<Cursor>,
}

/// Definitions are equal when they say the same: the cursor only records progress.
impl PartialEq for Derived {
    fn eq(&self, other: &Derived) -> bool {
        (&self.name, &self.formula, &self.inputs, &self.code)
            == (&other.name, &other.formula, &other.inputs, &other.code)
    }
}

/// Progress through the driving stream.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Cursor {
    /// The time of the last driving sample evaluated.
    done: f64,
    /// Where the next `delta`/`rate` span starts: the previous point's time.
    reference: Option<f64>,
}

/// A formula evaluated at one time.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// A value, and for `p(bad, total)` the point's size (total).
    Point(f64, Option<f64>),
    /// No point.
    Gap,
    /// No point, and the next span starts here (a counter reset, or an input without a
    /// sample at the span's start).
    Restart,
}

/// The index of `samples`' latest sample at or before `t`.
fn latest(samples: &[Sample], t: f64) -> Option<usize> {
    samples.partition_point(|s| s.t <= t).checked_sub(1)
}

/// The change of counter `s` from its value at `from` to its value at `t`, with the span's
/// seconds on its own samples; `Err` for a restart (no sample at `from`, or a reset within).
fn change(s: &[Sample], from: f64, t: f64) -> Result<(f64, f64), ()> {
    let a = latest(s, from).ok_or(())?;
    let b = latest(s, t).unwrap_or(a);
    let span = s.get(a..=b).ok_or(())?;
    if span.windows(2).any(|w| w[1].value < w[0].value) {
        return Err(());
    }
    Ok((
        span[span.len() - 1].value - span[0].value,
        (span[span.len() - 1].t - span[0].t) / 1000.0,
    ))
}

/// The formula `code` over `inputs` at time `t`, its span starting at `from`. Code that does
/// not read (a damaged saved definition) is a gap, never a panic.
fn evaluate(code: &[u8], inputs: &[Option<&[Sample]>], t: f64, from: Option<f64>) -> Outcome {
    let mut stack: Vec<f64> = Vec::with_capacity(8);
    let mut size = None;
    let mut at = 0;
    while let Some(&o) = code.get(at) {
        at += 1;
        let value = match o {
            op::VALUE | op::DELTA | op::RATE => {
                let Some(Some(s)) = code.get(at).and_then(|&i| inputs.get(usize::from(i))) else {
                    return Outcome::Gap;
                };
                at += 1;
                match latest(s, t) {
                    Some(i) if t - s[i].t <= STALE_MS => {}
                    _ => return Outcome::Gap,
                }
                if o == op::VALUE {
                    latest(s, t).map_or(f64::NAN, |i| s[i].value)
                } else {
                    let Some(from) = from else {
                        return Outcome::Restart;
                    };
                    match change(s, from, t) {
                        Ok((d, _)) if o == op::DELTA => d,
                        Ok((d, seconds)) => d / seconds,
                        Err(()) => return Outcome::Restart,
                    }
                }
            }
            op::NUMBER => {
                let Some(bytes) = code.get(at..at + 8) else {
                    return Outcome::Gap;
                };
                at += 8;
                f64::from_le_bytes(bytes.try_into().unwrap_or_default())
            }
            op::NEG => -stack.pop().unwrap_or(f64::NAN),
            _ => {
                let (Some(b), Some(a)) = (stack.pop(), stack.pop()) else {
                    return Outcome::Gap;
                };
                match o {
                    op::ADD => a + b,
                    op::SUB => a - b,
                    op::MUL => a * b,
                    op::DIV => a / b,
                    // p(bad, total): a proportion of a positive total, bad within it.
                    op::P if b > 0.0 && (0.0..=b).contains(&a) => {
                        size = Some(b);
                        a / b
                    }
                    _ => f64::NAN,
                }
            }
        };
        stack.push(value);
    }
    match stack[..] {
        [v] if v.is_finite() => Outcome::Point(v, size),
        _ => Outcome::Gap,
    }
}

impl Derived {
    /// A definition of `name` by `formula`, compiled to `program`.
    pub fn new(
        name: String,
        formula: String,
        program: llmscope_app_lazy::derived::Program,
    ) -> Self {
        Derived {
            name,
            formula,
            inputs: program.inputs,
            code: program.code,
            cursor: None,
        }
    }

    /// The new points since the last call (all of them on the first): each sample and, for
    /// `p(bad, total)`, its size; and whether the stream must be built anew.
    fn advance(&mut self, session: &Session) -> (Vec<(Sample, Option<f64>)>, bool) {
        let inputs: Vec<Option<&[Sample]>> = self
            .inputs
            .iter()
            .map(|id| session.stream(id).map(|s| &s.samples[..]))
            .collect();
        let fresh = self.cursor.is_none();
        let mut cursor = self.cursor.unwrap_or(Cursor {
            done: f64::NEG_INFINITY,
            reference: None,
        });
        let driving = inputs.first().copied().flatten().unwrap_or_default();
        let mut points = Vec::new();
        for s in &driving[driving.partition_point(|s| s.t <= cursor.done)..] {
            match evaluate(&self.code, &inputs, s.t, cursor.reference) {
                Outcome::Point(value, size) => {
                    points.push((Sample { t: s.t, value }, size));
                    cursor.reference = Some(s.t);
                }
                Outcome::Restart => cursor.reference = Some(s.t),
                Outcome::Gap => {
                    cursor.reference.get_or_insert(s.t);
                }
            }
            cursor.done = s.t;
        }
        self.cursor = Some(cursor);
        (points, fresh)
    }
}

/// Serde for the saved session's definitions (IndexedDB) and a share link's: one string
/// ([`lazy::save`]), so their JSON costs the dashboard's wasm no code per field.
pub mod text {
    use super::{lazy, Derived};
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    /// Writes the definitions as one string.
    pub fn serialize<S: Serializer>(defs: &[Derived], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&save(defs))
    }

    /// Reads them back; damage is an error naming them.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Derived>, D::Error> {
        load(&String::deserialize(d)?).map_err(D::Error::custom)
    }

    /// The definitions as text.
    pub fn save(defs: &[Derived]) -> String {
        let defs: Vec<_> = defs
            .iter()
            .map(|d| (&d.name[..], &d.formula[..], &d.inputs[..], &d.code[..]))
            .collect();
        lazy::save(&defs)
    }

    /// Definitions from text.
    pub fn load(text: &str) -> Result<Vec<Derived>, String> {
        Ok(lazy::load(text)?
            .into_iter()
            .map(|d| Derived::new(d.name, d.formula, d.program))
            .collect())
    }
}

impl Session {
    /// Brings every derived stream up to date with its inputs: the new points only, or all
    /// of them after a load. Called after each change of the sources' streams.
    pub fn derive(&mut self) {
        let mut defs = std::mem::take(&mut self.derived);
        for def in &mut defs {
            let (points, fresh) = def.advance(self);
            if points.is_empty() && !fresh {
                continue;
            }
            let origin = Origin::Derived(def.formula.clone());
            let (stream, created) = self.slot(&origin, &def.name, "");
            if created && def.code.last() == Some(&op::P) {
                stream.settings.chart.chart = Some("p".into());
            }
            if fresh {
                stream.samples.clear();
                stream.sizes.clear();
            }
            for (sample, size) in points {
                stream.samples.push(sample);
                stream.sizes.extend(size);
            }
        }
        self.derived = defs;
    }

    /// Removes the derived stream `name`: its definition and its stream.
    pub fn remove_derived(&mut self, name: &str) {
        if let Some(at) = self.derived.iter().position(|d| d.name == name) {
            self.derived.remove(at);
        }
        let derived = |s: &Stream| s.id == name && matches!(s.origin, Origin::Derived(_));
        if let Some(at) = self.streams.iter().position(derived) {
            self.streams.remove(at);
        }
    }
}

impl Stream {
    /// Whether the stream's points are proportions with a size each (`p(bad, total)`).
    pub fn sized(&self) -> bool {
        !self.sizes.is_empty() && self.sizes.len() == self.samples.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use llmscope_app_lazy::derived::{compile, Request};
    use llmscope_spc::Data;

    fn session(streams: &[(&str, &[(f64, f64)])]) -> Session {
        let mut s = Session::default();
        for (id, samples) in streams {
            for &(t, value) in *samples {
                s.push(id, "", &Origin::Simulator, Sample { t, value });
            }
        }
        s
    }

    fn define(s: &mut Session, name: &str, formula: &str) {
        let streams = s.streams.iter().map(|x| x.id.clone()).collect();
        let request = Request {
            name: name.into(),
            formula: formula.into(),
            streams,
        };
        let program = compile(&request).unwrap();
        s.derived
            .push(Derived::new(name.into(), formula.into(), program));
        s.derive();
    }

    fn points(s: &Session, id: &str) -> Vec<(f64, f64)> {
        s.stream(id)
            .unwrap()
            .samples
            .iter()
            .map(|x| (x.t, x.value))
            .collect()
    }

    /// Energy per part from two counters: a span without a part is carried into the next
    /// point, so each point is the energy of its parts; a zero division is no point.
    #[test]
    fn energy_per_part_spans_from_the_previous_point() {
        let energy: &[(f64, f64)] = &[(0., 10.), (1000., 10.4), (2000., 10.8), (3000., 11.4)];
        let parts: &[(f64, f64)] = &[(0., 5.), (1000., 6.), (2000., 6.), (3000., 8.)];
        let mut s = session(&[("e", energy), ("n", parts)]);
        define(&mut s, "e/part", "delta(e) / delta(n)");
        // t=0 starts the span; t=1000: 0.4 kWh / 1 part; t=2000: no part, no point;
        // t=3000: 1.0 kWh since t=1000 / 2 parts.
        let got = points(&s, "e/part");
        assert_eq!(got.len(), 2);
        assert!((got[0].1 - 0.4).abs() < 1e-12 && got[0].0 == 1000.);
        assert!((got[1].1 - 0.5).abs() < 1e-12 && got[1].0 == 3000.);
        assert!(matches!(
            s.stream("e/part").unwrap().origin,
            Origin::Derived(_)
        ));

        // New samples are evaluated incrementally, as the sources add them.
        s.push(
            "e",
            "",
            &Origin::Simulator,
            Sample {
                t: 4000.,
                value: 11.7,
            },
        );
        s.push(
            "n",
            "",
            &Origin::Simulator,
            Sample {
                t: 4000.,
                value: 9.,
            },
        );
        s.derive();
        let got = points(&s, "e/part");
        assert_eq!(got.len(), 3);
        assert!((got[2].1 - 0.3).abs() < 1e-12);

        // After a load (no cursor) the stream is evaluated anew: the same points.
        let before = points(&s, "e/part");
        let json = serde_json::to_string(&s).unwrap();
        let mut loaded: Session = serde_json::from_str(&json).unwrap();
        loaded.derived = text::load(&text::save(&s.derived)).unwrap();
        assert_eq!(loaded.derived, s.derived);
        loaded
            .stream_mut("e/part")
            .unwrap()
            .samples
            .push(Sample { t: 9e9, value: 1. });
        loaded.derive();
        assert_eq!(points(&loaded, "e/part"), before);
    }

    /// A counter that falls has been reset: no negative rate, no point across it, and the
    /// next span starts at the reset.
    #[test]
    fn a_counter_reset_is_not_a_negative_rate() {
        let c: &[(f64, f64)] = &[
            (0., 100.),
            (1000., 110.),
            (2000., 3.),
            (3000., 13.),
            (4000., 23.),
        ];
        let mut s = session(&[("c", c)]);
        define(&mut s, "c/rate", "rate(c)");
        // t=2000 spans the reset: no point; t=3000 spans 2000..3000 from the reset.
        assert_eq!(
            points(&s, "c/rate"),
            [(1000., 10.), (3000., 10.), (4000., 10.)]
        );
        define(&mut s, "c/delta", "delta(c)");
        assert_eq!(
            points(&s, "c/delta"),
            [(1000., 10.), (3000., 10.), (4000., 10.)]
        );
    }

    /// Inputs are read at their latest sample no later than the driving sample, and not when
    /// it is older than the staleness window: no value is invented.
    #[test]
    fn inputs_align_on_the_driving_stream_and_stale_ones_give_no_point() {
        let a: &[(f64, f64)] = &[(0., 1.), (1000., 2.), (100_000., 3.), (100_500., 4.)];
        let b: &[(f64, f64)] = &[(500., 10.), (100_200., 20.)];
        let mut s = session(&[("a", a), ("b", b)]);
        define(&mut s, "a+b", "a + b * 2 - -1");
        // t=0: b has no sample yet; t=1000: b=10 (500 ms old); t=100000: b's latest is
        // 99.5 s old, stale; t=100500: b=20.
        assert_eq!(points(&s, "a+b"), [(1000., 23.), (100_500., 45.)]);
        // A division by zero is a gap, not a crash and not an infinity.
        define(&mut s, "a/zero", "a / (b - b)");
        assert!(points(&s, "a/zero").is_empty());
        // The driving stream is the first in the formula.
        define(&mut s, "b-a", "b - a");
        assert_eq!(points(&s, "b-a"), [(500., 9.), (100_200., 17.)]);
    }

    /// First-pass yield as a p chart: each point is bad/total with its own size, so the
    /// chart's limits vary with the size (Montgomery §7.2.2, variable sample size).
    #[test]
    fn p_of_bad_and_total_charts_as_a_p_chart_with_varying_sizes() {
        let mut parts = vec![(0., 0.)];
        let mut scrap = vec![(0., 0.)];
        let (mut n, mut bad) = (0., 0.);
        for i in 1..=40 {
            n += 20. + (i % 3) as f64 * 10.;
            bad += (i % 4) as f64;
            parts.push((i as f64 * 1000., n));
            scrap.push((i as f64 * 1000., bad));
        }
        let mut s = session(&[("scrap", &scrap), ("parts", &parts)]);
        define(&mut s, "scrap rate", "p(delta(scrap), delta(parts))");
        let st = s.stream("scrap rate").unwrap();
        assert_eq!(st.settings.chart.chart.as_deref(), Some("p"));
        assert!(st.sized());
        assert_eq!(st.samples.len(), 40);
        let Data::Counts(counts) = st.data() else {
            panic!("a p stream's data are counts")
        };
        assert_eq!(counts[0].1, 30.);
        assert!((counts[0].0 - 1.).abs() < 1e-9);
        let chart = st
            .chart()
            .unwrap()
            .expect("40 points complete the baseline");
        // UCL_i = p̄ + 3 √(p̄(1 − p̄)/n_i), p̄ the baseline's (first 30 points') bad over total.
        let (bad, n) = counts[..30]
            .iter()
            .fold((0., 0.), |(b, t), c| (b + c.0, t + c.1));
        let pbar = bad / n;
        for (i, &(_, n_i)) in counts.iter().enumerate().take(3) {
            let ucl = chart.primary.point(i).and_then(|p| p.ucl).unwrap();
            let want = pbar + 3. * (pbar * (1. - pbar) / n_i).sqrt();
            assert!((ucl - want).abs() < 1e-9, "point {i}: {ucl} vs {want}");
        }
        let ucl = |i| chart.primary.point(i).and_then(|p| p.ucl);
        assert_ne!(ucl(0), ucl(1), "the limits vary with the size");
    }

    #[test]
    fn a_removed_derived_stream_leaves_its_inputs() {
        let a: &[(f64, f64)] = &[(0., 1.), (1000., 2.)];
        let mut s = session(&[("a", a)]);
        define(&mut s, "twice", "2 × a");
        assert_eq!(points(&s, "twice"), [(0., 2.), (1000., 4.)]);
        s.remove_derived("twice");
        assert!(s.derived.is_empty());
        assert_eq!(s.streams.len(), 1);
    }

    #[test]
    fn damaged_code_is_a_gap_not_a_panic() {
        let s: &[Sample] = &[Sample { t: 0., value: 1. }];
        for code in [
            &[op::VALUE][..],
            &[op::VALUE, 7],
            &[op::NUMBER, 1],
            &[op::ADD],
            &[99],
            &[],
        ] {
            assert_eq!(
                evaluate(code, &[Some(s)], 0., None),
                Outcome::Gap,
                "{code:?}"
            );
        }
    }
}
