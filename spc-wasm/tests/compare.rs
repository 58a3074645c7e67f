//! The comparison engine against an independent implementation: R 4.2's `wilcox.test`,
//! `prop.test`, `pbinom` and `p.adjust`, whose outputs `tests/fixtures/compare/make_fixtures.R`
//! wrote to `compare.json` (committed, so no R is needed to run this), and against a published
//! table of order-statistic ranks for the median.

use llmscope_spc::compare::holm::holm;
use llmscope_spc::compare::quantile::{order_ranks, quantile_ci};
use llmscope_spc::compare::wilson::wilson;
use llmscope_spc::compare::{compare, shift_test, CompareOptions, StreamInput};
use serde_json::Value;

mod common;
use common::numbers;

fn fixtures() -> Value {
    common::fixtures("compare")
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

fn close(got: f64, want: f64, tolerance: f64, what: &str) {
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: got {got}, R says {want} (tolerance {tolerance})"
    );
}

/// Hodges–Lehmann shift, Moses interval and Wilcoxon p-value as `wilcox.test(x, y,
/// conf.int = TRUE)`: exact cases to 1e-9 relative; normal-approximation intervals to R's
/// root-finding tolerance (`tol.root` = 1e-4, absolute, in the data's unit).
#[test]
fn shift_test_matches_r_wilcox_test() {
    let f = fixtures();
    let pairs = f["pairs"].as_array().expect("pairs");
    assert!(pairs.len() >= 10);
    let (mut exact, mut approximate) = (0, 0);
    for case in pairs {
        let name = case["name"].as_str().expect("name");
        let x = sorted(numbers(&case["x"]));
        let y = sorted(numbers(&case["y"]));
        let t = shift_test(&x, &y, 0.95).unwrap();
        let r_exact = case["exact"].as_bool().expect("exact");
        assert_eq!(t.exact, r_exact, "{name}: the same branch as R");
        assert_eq!(t.w, case["w"].as_f64().unwrap(), "{name}: W");
        let p = case["p_value"].as_f64().unwrap();
        close(t.p_value, p, 1e-9 * p, &format!("{name}: p-value"));
        let hl = case["hl_median"].as_f64().unwrap();
        close(
            t.shift,
            hl,
            1e-9 * hl.abs().max(1.0),
            &format!("{name}: HL median"),
        );
        let interval_tolerance = if r_exact {
            exact += 1;
            1e-9 * hl.abs().max(100.0)
        } else {
            approximate += 1;
            2e-4
        };
        close(
            t.lo,
            case["lo"].as_f64().unwrap(),
            interval_tolerance,
            &format!("{name}: lo"),
        );
        close(
            t.hi,
            case["hi"].as_f64().unwrap(),
            interval_tolerance,
            &format!("{name}: hi"),
        );
        // R's own estimate: the HL median in the exact branch; in the normal branch a root of
        // the standardized W, which lies in the middle gap of the sorted differences.
        let r_estimate = case["r_estimate"].as_f64().unwrap();
        if r_exact {
            close(t.shift, r_estimate, 1e-9 * hl.abs().max(1.0), name);
        } else {
            let diffs = sorted(
                x.iter()
                    .flat_map(|a| y.iter().map(move |b| a - b))
                    .collect(),
            );
            let half = diffs.len() / 2;
            let (from, to) = if diffs.len() % 2 == 1 {
                (diffs[half], diffs[half])
            } else {
                (diffs[half - 1], diffs[half])
            };
            assert!(
                r_estimate >= from - 2e-4 && r_estimate <= to + 2e-4,
                "{name}: R's estimate {r_estimate} outside the middle gap [{from}, {to}]"
            );
            assert!(t.shift >= from && t.shift <= to);
        }
    }
    assert!(exact >= 4 && approximate >= 6, "both branches covered");
}

/// Bad samples are errors that say what is wrong, not panics.
#[test]
fn shift_test_names_bad_samples() {
    let message = |a: &[f64], b: &[f64], c: f64| shift_test(a, b, c).unwrap_err().to_string();
    assert!(message(&[], &[1.0], 0.95).contains("sample a is empty"));
    assert!(message(&[1.0], &[2.0, 1.0], 0.95).contains("sample b is not sorted"));
    assert!(message(&[1.0, f64::NAN], &[1.0], 0.95).contains("value 1 is NaN"));
    assert!(message(&[1.0], &[1.0], 1.5).starts_with("confidence"));
}

/// R's `prop.test(x, n, correct = FALSE)$conf.int`, the Wilson score interval.
#[test]
fn wilson_matches_r_prop_test() {
    for case in fixtures()["wilson"].as_array().expect("wilson") {
        let (x, n) = (case["x"].as_f64().unwrap(), case["n"].as_f64().unwrap());
        let ci = wilson(x as u64, n as u64, 0.95);
        let what = format!("{x}/{n}");
        close(ci.lo.unwrap(), case["lo"].as_f64().unwrap(), 1e-12, &what);
        close(ci.hi.unwrap(), case["hi"].as_f64().unwrap(), 1e-12, &what);
        assert_eq!(ci.value, x / n);
    }
}

/// The order-statistic ranks of the exact quantile interval, against R's `pbinom`, up to
/// n = 100 000, at P50, P95 and P99, including the sizes where a bound first exists.
#[test]
fn quantile_ranks_match_r_pbinom() {
    let cases = fixtures()["quantile_ranks"]
        .as_array()
        .expect("ranks")
        .clone();
    assert!(cases.len() >= 50);
    for case in cases {
        let n = case["n"].as_u64().unwrap() as usize;
        let p = case["p"].as_f64().unwrap();
        let r = order_ranks(n, p, 0.95);
        let want = |key: &str| case[key].as_u64().map(|v| v as usize);
        assert_eq!(r.lower, want("lower"), "n = {n}, p = {p}: lower rank");
        assert_eq!(r.upper, want("upper"), "n = {n}, p = {p}: upper rank");
    }
}

/// The 95 % interval for a median as published: M. J. Campbell & M. J. Gardner (1988),
/// "Calculating confidence intervals for some non-parametric analyses", BMJ 296, 1454-1456,
/// table (ranks r and s of the order statistics); the same as Conover's Table A3 procedure.
#[test]
fn median_ranks_match_the_published_table() {
    for (n, lower, upper) in [
        (10, 2, 9),
        (20, 6, 15),
        (30, 10, 21),
        (50, 18, 33),
        (100, 40, 61),
    ] {
        let r = order_ranks(n, 0.5, 0.95);
        assert_eq!((r.lower, r.upper), (Some(lower), Some(upper)), "n = {n}");
        assert!(r.coverage.unwrap() >= 0.95);
    }
    let data: Vec<f64> = (1..=10).map(f64::from).collect();
    let ci = quantile_ci(&data, 0.5, 0.95);
    assert_eq!((ci.lo, ci.hi), (Some(2.0), Some(9.0)), "x(2) and x(9)");
}

/// R's `p.adjust(p, method = "holm")`.
#[test]
fn holm_matches_r_p_adjust() {
    for case in fixtures()["holm"].as_array().expect("holm") {
        let p = numbers(&case["p"]);
        for (got, want) in holm(&p).iter().zip(numbers(&case["adjusted"])) {
            close(*got, want, 1e-15, &format!("holm({p:?})"));
        }
    }
}

/// The whole comparison on streams with a known truth: A is 20 % faster than B, C is B's twin.
#[test]
fn compare_finds_the_known_shift_and_no_false_one() {
    let mut state = 7u64;
    let mut uniform = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    // Log-normal latencies (median 400 ms), by the inverse CDF of a logistic stand-in.
    let mut latency = |median: f64| median * (0.3 * (uniform() / (1.0 - uniform())).ln()).exp();
    let a: Vec<f64> = (0..400).map(|_| latency(320.0)).collect();
    let b: Vec<f64> = (0..400).map(|_| latency(400.0)).collect();
    let c: Vec<f64> = (0..380).map(|_| latency(400.0)).collect();
    let input = |name, values: &'static [f64], errors| StreamInput {
        name,
        values,
        requests: values.len() as u64 + errors,
        errors,
        quality: None,
    };
    let (a, b, c) = (a.leak(), b.leak(), c.leak());
    let streams = [input("A", a, 0), input("B", b, 2), input("C", c, 20)];
    let result = compare(&streams, &CompareOptions::default()).unwrap();
    assert_eq!(result.targets.len(), 3);
    let ab = &result.pairs[0];
    assert_eq!((ab.a.as_str(), ab.b.as_str()), ("A", "B"));
    assert!(ab.significant && ab.lo < ab.shift && ab.shift < ab.hi);
    assert!(
        ab.lo < -80.0 * 0.5 && ab.hi > -80.0 * 1.5,
        "the true shift is about -80 ms"
    );
    assert!(ab.words.starts_with("A's TTFT is ") && ab.words.contains("lower than B's"));
    let bc = &result.pairs[2];
    assert!(
        !bc.significant,
        "B and C share one distribution: {}",
        bc.words
    );
    assert_eq!(
        bc.words,
        "no detectable difference in TTFT between B and C at this sample size (n = 400 vs 380)"
    );
    let c_errors = &result.targets[2].error_rate;
    assert!(c_errors.lo.unwrap() > result.targets[0].error_rate.hi.unwrap());
    assert!(result.pairs.iter().all(|p| p.p_value >= p.p_unadjusted));
}

/// The JSON of the engine's results has the compare contract's fields (issue 12), so the CLI,
/// the Worker and the dashboard can pass them through (they add `cost` per target). Runs with
/// `--features serde`.
#[cfg(feature = "serde")]
#[test]
fn json_has_the_contract_fields() {
    use llmscope_spc::compare::recommend::{recommend, Candidate, Constraints, Labels, Weights};
    use llmscope_spc::compare::QualityCounts;
    let a: Vec<f64> = (0..120).map(|i| 300.0 + (i * 37 % 101) as f64).collect();
    let b: Vec<f64> = (0..110).map(|i| 420.0 + (i * 53 % 97) as f64).collect();
    let streams = [
        StreamInput {
            name: "A",
            values: &a,
            requests: 121,
            errors: 1,
            quality: Some(QualityCounts {
                passed: 110,
                judged: 120,
            }),
        },
        StreamInput {
            name: "B",
            values: &b,
            requests: 110,
            errors: 0,
            quality: None,
        },
    ];
    let result = compare(&streams, &CompareOptions::default()).unwrap();
    let json = serde_json::to_value(&result).unwrap();
    assert_eq!(json["metric"], "TTFT");
    let t = &json["targets"][0];
    for key in ["name", "n", "n_ok", "in_control"] {
        assert!(!t[key].is_null(), "targets[].{key}");
    }
    for key in ["error_rate", "p50", "p95", "p99", "pass_rate"] {
        for part in ["value", "lo", "hi"] {
            assert!(t[key].get(part).is_some(), "targets[].{key}.{part}");
        }
    }
    assert!(json["targets"][1]["pass_rate"].is_null(), "no checks: null");
    assert!(t["p99"]["hi"].is_null(), "n = 120 cannot bound P99: null");
    let p = &json["pairs"][0];
    for key in ["a", "b", "shift", "lo", "hi", "p_value", "significant"] {
        assert!(!p[key].is_null(), "pairs[].{key}");
    }
    assert_eq!(p["significant"], true);
    let candidates: Vec<Candidate> = result
        .targets
        .iter()
        .map(|s| Candidate {
            name: s.name.clone(),
            n: s.n,
            latency: Some(s.p95),
            speed: None,
            error_rate: s.error_rate,
            pass_rate: s.pass_rate,
            cost_per_success: None,
            in_control: s.in_control,
        })
        .collect();
    let r = recommend(
        &candidates,
        &result.pairs,
        &Constraints::default(),
        &Weights::default(),
        &Labels::default(),
    )
    .unwrap();
    let r = serde_json::to_value(&r).unwrap();
    assert!(r["pareto"].is_array());
    // Inputs read back from JSON (the CLI's and the Worker's way in), a NaN value as null.
    let back: Vec<Candidate> =
        serde_json::from_value(serde_json::to_value(&candidates).unwrap()).unwrap();
    assert_eq!(back.len(), candidates.len());
    let limits: Constraints = serde_json::from_str(r#"{"max_error_rate": 0.02}"#).unwrap();
    assert_eq!(limits.max_error_rate, Some(0.02));
    let empty: llmscope_spc::compare::Interval =
        serde_json::from_str(r#"{"value": null, "lo": null, "hi": null}"#).unwrap();
    assert!(empty.value.is_nan());
    for key in ["name", "reasons", "caveats"] {
        assert!(
            r["recommendation"].get(key).is_some(),
            "recommendation.{key}"
        );
    }
}

/// The issue's proof, through the engine alone: A is B shifted 80 ms faster (20 %) at the same
/// price, C is B's twin but cheapest and fails 5 %, D drifts. The comparison finds the shift
/// inside its interval, C's error rate, D out of control, and two constraint sets recommend two
/// different targets.
#[test]
fn stand_in_truth_end_to_end() {
    use llmscope_spc::compare::recommend::{recommend, Candidate, Constraints, Labels, Weights};
    use llmscope_spc::Rng;
    let mut rng = Rng::new(2026);
    let mut draw = |median: f64| median * (0.25 * rng.normal()).exp();
    let n = 400;
    let b: Vec<f64> = (0..n).map(|_| draw(400.0)).collect();
    let a: Vec<f64> = (0..n).map(|_| draw(400.0) - 80.0).collect();
    let c: Vec<f64> = (0..n - 20).map(|_| draw(400.0)).collect();
    let d: Vec<f64> = (0..n)
        .map(|i| draw(300.0 + 200.0 * i as f64 / n as f64))
        .collect();
    let stream = |name, values: &'static [f64], errors: u64| StreamInput {
        name,
        values,
        requests: values.len() as u64 + errors,
        errors,
        quality: None,
    };
    let (a, b, c, d) = (a.leak(), b.leak(), c.leak(), d.leak());
    let streams = [
        stream("A", a, 1),
        stream("B", b, 1),
        stream("C", c, 20),
        stream("D", d, 2),
    ];
    let result = compare(&streams, &CompareOptions::default()).unwrap();
    let ab = &result.pairs[0];
    assert!(
        ab.significant && ab.lo <= -80.0 && -80.0 <= ab.hi,
        "{}",
        ab.words
    );
    let [ta, tb, tc, td] = [0, 1, 2, 3].map(|i| &result.targets[i]);
    assert!(
        tc.error_rate.lo.unwrap() > ta.error_rate.hi.unwrap(),
        "C's failures stand out"
    );
    assert_eq!(td.in_control, Some(false), "{}", td.stability);
    for t in [ta, tb, tc] {
        assert_eq!(t.in_control, Some(true), "{}: {}", t.name, t.stability);
    }
    let price = [0.002, 0.002, 0.0008, 0.0015];
    let candidates: Vec<Candidate> = result
        .targets
        .iter()
        .zip(price)
        .map(|(t, price)| Candidate {
            name: t.name.clone(),
            n: t.n,
            latency: Some(t.p95),
            speed: None,
            error_rate: t.error_rate,
            pass_rate: None,
            // A failed call is billed too: the price of all calls over the successful ones.
            cost_per_success: Some(price * t.n as f64 / t.n_ok as f64),
            in_control: t.in_control,
        })
        .collect();
    let strict = Constraints {
        max_error_rate: Some(0.02),
        ..Constraints::default()
    };
    let labels = Labels::default();
    let r = recommend(&candidates, &[], &strict, &Weights::default(), &labels).unwrap();
    // The P95 intervals of A and B overlap: on them alone the two are a tie, and said so.
    assert_eq!(r.recommendation.name, None, "{:?}", r.recommendation);
    assert!(r.recommendation.reasons[0].contains("cannot be told apart"));
    // The pairwise shift shows what the tail quantiles cannot.
    let r = recommend(
        &candidates,
        &result.pairs,
        &strict,
        &Weights::default(),
        &labels,
    )
    .unwrap();
    assert_eq!(
        r.recommendation.name.as_deref(),
        Some("A"),
        "{:?}",
        r.recommendation
    );
    let thrifty = Weights {
        cost: 4.0,
        ..Weights::default()
    };
    let r = recommend(
        &candidates,
        &result.pairs,
        &Constraints::default(),
        &thrifty,
        &labels,
    )
    .unwrap();
    assert_eq!(
        r.recommendation.name.as_deref(),
        Some("C"),
        "{:?}",
        r.recommendation
    );
    assert!(r
        .recommendation
        .caveats
        .iter()
        .any(|c| c.starts_with("D is out of statistical control")));
}
