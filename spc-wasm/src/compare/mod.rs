//! # Comparison: which model, which machine
//!
//! The statistics behind the Compare view, the `llmscope-shim compare` CLI and the Worker's
//! `GET /compare` (issue 12). Pure functions on slices, no I/O; every result is a plain value
//! (serializable with the `serde` feature) shaped after the compare contract.
//!
//! - [`compare`]: per stream ([`StreamSummary`]) n, P50/P95/P99 with exact order-statistic
//!   intervals ([`quantile`]), mean and SD, error and pass rates with Wilson intervals
//!   ([`wilson`]), and whether the stream is in statistical control ([`stream::stability`]);
//!   per pair ([`PairComparison`]) the Hodges–Lehmann shift with its Moses interval and the
//!   Mann–Whitney p-value as R's `wilcox.test` computes them ([`pair`], `select.rs` for large
//!   samples), Holm-adjusted across pairs ([`holm`]), with a sentence that never claims a
//!   difference the data do not show.
//! - [`recommend::recommend`]: from per-target summaries, constraints and weights, the Pareto
//!   frontier, a ranked recommendation with its reasons, and caveats (too few probes to tell,
//!   a stream out of control, an interval straddling a limit); `name` is `None` when nothing
//!   qualifies or the best cannot be told apart.
//! - [`machines::odd_machines`]: the machine unlike its peers, by Iglewicz & Hoaglin's modified
//!   z of each machine's median, with its evidence.
//!
//! Inputs are borrowed: a stream's metric values in time order plus its request, error and
//! quality counts ([`StreamInput`]). Bad input is an [`SpcError`] naming the stream and what
//! to fix; findings (an odd machine, a stream out of control) are data.

pub mod holm;
mod limits;
pub mod machines;
pub mod pair;
pub mod quantile;
pub mod recommend;
mod select;
pub mod stream;
mod sweep;
pub mod wilson;

use crate::error::{invalid, SpcError};
pub use pair::{shift_test, ShiftTest};
pub use stream::StreamSummary;

/// An estimate with its two-sided confidence interval. A bound is `None` (`null` in JSON)
/// when the data cannot give it ("not enough data"); the value is NaN (`null`) without data.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Interval {
    /// The point estimate.
    #[cfg_attr(feature = "serde", serde(deserialize_with = "nan_from_null"))]
    pub value: f64,
    /// Lower bound.
    pub lo: Option<f64>,
    /// Upper bound.
    pub hi: Option<f64>,
}

/// JSON has no NaN: serde_json writes it as `null`, so read `null` (or a number) back.
#[cfg(feature = "serde")]
fn nan_from_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    use serde::Deserialize;
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

impl Interval {
    /// An estimate without an interval.
    pub fn point(value: f64) -> Interval {
        Interval {
            value,
            lo: None,
            hi: None,
        }
    }
}

/// Quality checks of one stream: how many were judged and how many passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct QualityCounts {
    /// Checks that passed.
    pub passed: u64,
    /// Checks judged (`quality_pass` true or false; null is not judged).
    pub judged: u64,
}

/// One stream to compare: a target's (or machine's) results over the window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StreamInput<'a> {
    /// The target or machine name.
    pub name: &'a str,
    /// The metric of each successful request, in time order (the stability check needs it).
    pub values: &'a [f64],
    /// All requests, failed ones included (n).
    pub requests: u64,
    /// Failed requests.
    pub errors: u64,
    /// Quality checks, where the target has a check.
    pub quality: Option<QualityCounts>,
}

/// How to compare.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct CompareOptions {
    /// The metric's name in sentences, e.g. "TTFT".
    pub metric: String,
    /// Its unit, e.g. "ms".
    pub unit: String,
    /// Two-sided confidence of every interval, and 1 − confidence is the family-wise α of the
    /// pairwise tests.
    pub confidence: f64,
    /// `None`: every pair. `Some(r)`: only stream r against each other one (r first), Holm
    /// over those; a pair costs O(m + n), so 20 large streams take 19 pairs, not 190.
    pub reference: Option<usize>,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            metric: "TTFT".into(),
            unit: "ms".into(),
            confidence: 0.95,
            reference: None,
        }
    }
}

/// One pair: `shift` is a − b in the metric's unit. Serialized with the contract's fields
/// (`a`, `b`, `shift`, `lo`, `hi`, `p_value`, `significant`) and a few more.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PairComparison {
    /// First stream's name.
    pub a: String,
    /// Second stream's name.
    pub b: String,
    /// Hodges–Lehmann estimate of a − b.
    pub shift: f64,
    /// Lower bound of the shift's interval (not adjusted for multiplicity).
    pub lo: f64,
    /// Upper bound.
    pub hi: f64,
    /// Holm-adjusted two-sided p-value.
    pub p_value: f64,
    /// The p-value of this pair alone.
    pub p_unadjusted: f64,
    /// Holm-adjusted p-value ≤ 1 − confidence and an interval that excludes 0: a difference
    /// the data show.
    pub significant: bool,
    /// Exact null distribution (true) or normal approximation.
    pub exact: bool,
    /// Values compared from a and from b.
    pub n_a: usize,
    /// Values compared from b.
    pub n_b: usize,
    /// The finding in one sentence.
    pub words: String,
}

/// The comparison of a set of streams of one metric.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Comparison {
    /// The metric's name.
    pub metric: String,
    /// One summary per stream, in input order.
    pub targets: Vec<StreamSummary>,
    /// Every pair (i < j in input order, or the reference first) with at least one value on
    /// each side.
    pub pairs: Vec<PairComparison>,
}

/// Each stream's summary alone, without pairs: what a ranking reads of a second metric (the
/// recommendation's speed), at a tenth of the cost of [`compare`]'s pairs.
pub fn summarize(
    streams: &[StreamInput<'_>],
    confidence: f64,
) -> Result<Vec<StreamSummary>, SpcError> {
    check_confidence(confidence)?;
    let mut sorted = Vec::new();
    streams
        .iter()
        .map(|s| stream::summarize_stream(s, confidence, &mut sorted))
        .collect()
}

fn check_confidence(confidence: f64) -> Result<(), SpcError> {
    if confidence > 0.0 && confidence < 1.0 {
        Ok(())
    } else {
        Err(invalid(
            "confidence",
            format!("{confidence} is outside (0, 1); 0.95 is usual"),
        ))
    }
}

/// Compares streams of one metric: summaries, then every pair, Holm-adjusted together.
pub fn compare(
    streams: &[StreamInput<'_>],
    options: &CompareOptions,
) -> Result<Comparison, SpcError> {
    check_confidence(options.confidence)?;
    let mut sorted = vec![Vec::new(); streams.len()];
    let targets = streams
        .iter()
        .zip(sorted.iter_mut())
        .map(|(s, buf)| stream::summarize_stream(s, options.confidence, buf))
        .collect::<Result<Vec<_>, _>>()?;
    let mut tests = Vec::new();
    for (i, j) in pair_indices(streams.len(), options.reference)? {
        if !sorted[i].is_empty() && !sorted[j].is_empty() {
            let test = pair::shift_test_sorted(&sorted[i], &sorted[j], options.confidence);
            tests.push((i, j, test));
        }
    }
    let raw: Vec<f64> = tests.iter().map(|t| t.2.p_value).collect();
    let adjusted = holm::holm(&raw);
    let alpha = 1.0 - options.confidence;
    let pairs = tests
        .into_iter()
        .zip(adjusted)
        .map(|((i, j, t), p)| {
            // The interval is not adjusted; requiring it to exclude 0 too keeps the sentence
            // from stating a shift whose own interval allows none.
            let significant = p <= alpha && (t.lo > 0.0 || t.hi < 0.0);
            let (a, b) = (streams[i].name, streams[j].name);
            let (n_a, n_b) = (sorted[i].len(), sorted[j].len());
            PairComparison {
                words: pair_words(a, b, &t, significant, (n_a, n_b), options),
                a: a.to_string(),
                b: b.to_string(),
                shift: t.shift,
                lo: t.lo,
                hi: t.hi,
                p_value: p,
                p_unadjusted: t.p_value,
                significant,
                exact: t.exact,
                n_a,
                n_b,
            }
        })
        .collect();
    Ok(Comparison {
        metric: options.metric.clone(),
        targets,
        pairs,
    })
}

/// The pairs to test: all (i < j), or the reference against each other stream.
fn pair_indices(count: usize, reference: Option<usize>) -> Result<Vec<(usize, usize)>, SpcError> {
    match reference {
        None => Ok((0..count)
            .flat_map(|i| (i + 1..count).map(move |j| (i, j)))
            .collect()),
        Some(r) if r < count => Ok((0..count).filter(|&j| j != r).map(|j| (r, j)).collect()),
        Some(r) => Err(invalid(
            "reference",
            format!("stream {r} does not exist: there are {count} streams (0-based)"),
        )),
    }
}

/// "A's TTFT is 118 ms lower than B's (95% CI 84–150 ms)", or, when the Holm-adjusted test
/// does not reject, "no detectable difference … at this sample size (n = 40 vs 38)": a
/// difference that is not significant is never stated.
fn pair_words(
    a: &str,
    b: &str,
    t: &ShiftTest,
    significant: bool,
    (n_a, n_b): (usize, usize),
    o: &CompareOptions,
) -> String {
    let level = format_number(o.confidence * 100.0);
    if !significant || t.shift == 0.0 {
        return format!(
            "no detectable difference in {} between {a} and {b} at this sample size (n = {n_a} vs {n_b})",
            o.metric
        );
    }
    let (direction, from, to) = if t.shift < 0.0 {
        ("lower", -t.hi, -t.lo)
    } else {
        ("higher", t.lo, t.hi)
    };
    format!(
        "{a}'s {} is {} {unit} {direction} than {b}'s ({level}% CI {}–{} {unit})",
        o.metric,
        format_number(t.shift.abs()),
        format_number(from),
        format_number(to),
        unit = o.unit
    )
}

/// A number for a sentence: three significant digits, whole numbers from 100 up, no
/// trailing zeros ("118", "84.2", "0.0123").
pub fn format_number(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x == 0.0 {
        return "0".into();
    }
    let digits = (2 - x.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_alone_are_the_comparisons_own() {
        let (a, b): (Vec<f64>, Vec<f64>) = (0..200)
            .map(|i| ((i * 37 % 101) as f64, (i * 53 % 97) as f64 + 3.0))
            .unzip();
        let input = |name, values| StreamInput {
            name,
            values,
            requests: 210,
            errors: 10,
            quality: None,
        };
        let streams = [input("a", &a[..]), input("b", &b[..])];
        let whole = compare(&streams, &CompareOptions::default()).unwrap();
        assert_eq!(summarize(&streams, 0.95).unwrap(), whole.targets);
        assert!(summarize(&streams, 1.0).is_err());
    }

    #[test]
    fn pairs_all_or_against_a_reference() {
        assert_eq!(pair_indices(3, None).unwrap(), vec![(0, 1), (0, 2), (1, 2)]);
        assert_eq!(pair_indices(3, Some(1)).unwrap(), vec![(1, 0), (1, 2)]);
        assert!(pair_indices(3, Some(3))
            .unwrap_err()
            .to_string()
            .contains("stream 3"));
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(format_number(118.4), "118");
        assert_eq!(format_number(84.249), "84.2");
        assert_eq!(format_number(0.012_34), "0.0123");
        assert_eq!(format_number(1500.0), "1500");
        assert_eq!(format_number(2.0), "2");
    }
}
