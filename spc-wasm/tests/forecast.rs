//! The forecast engine against independent numbers: R 4.2's `lm`, `predict`, `qt` and
//! `HoltWinters`, an optimal partitioning written in base R (which PELT must equal) and the
//! closed-form ETS(A,Ad,N) variance of FPP3 Table 8.8, all written by
//! `tests/fixtures/forecast/make_fixtures.R` to `forecast.json` (committed, so no R is needed
//! to run this); then the outlook on streams whose truth is known.

use llmscope_spc::forecast::holt::Holt;
use llmscope_spc::forecast::linear::Line;
use llmscope_spc::forecast::pelt::{changepoints, penalty};
use llmscope_spc::forecast::student::t_quantile;
use serde_json::Value;

mod common;
use common::numbers;

fn fixtures() -> Value {
    common::fixtures("forecast")
}

fn number(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1.0)
}

/// PELT's changepoints are exactly the optimal partitioning's, case by case (a flat stream,
/// a ramp, a step then a drift, a maintenance reset, a variance change).
#[test]
fn pelt_equals_optimal_partitioning_in_r() {
    let f = fixtures();
    let cases = f["pelt"].as_array().expect("pelt");
    assert_eq!(cases.len(), 5);
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let y = numbers(&case["y"]);
        let expected: Vec<usize> = numbers(&case["changepoints"])
            .iter()
            .map(|&c| c as usize)
            .collect();
        assert_eq!(changepoints(&y, penalty(y.len()), 6), expected, "{name}");
    }
}

/// The slope, its 95% interval, s and the 80% and 95% prediction intervals of `lm`.
#[test]
fn the_line_matches_lm_and_predict() {
    let f = fixtures();
    let c = &f["lm"];
    let line = Line::fit_iid(number(&c["x0"]), &numbers(&c["y"])).expect("a line");
    assert!(close(line.slope, number(&c["slope"]), 1e-10));
    assert!(close(line.s, number(&c["s"]), 1e-10));
    let (lo, hi) = line.slope_interval(0.95);
    // The interval carries the t quantile's series error (df = 38).
    assert!(close(lo, number(&c["slope_lo"]), 1e-6), "{lo}");
    assert!(close(hi, number(&c["slope_hi"]), 1e-6), "{hi}");
    let at = numbers(&c["at"]);
    for (i, &x) in at.iter().enumerate() {
        assert!(close(line.at(x), numbers(&c["fit"])[i], 1e-10));
        let (lo80, hi80) = line.prediction(x, 0.8);
        let (lo95, hi95) = line.prediction(x, 0.95);
        assert!(close(lo80, numbers(&c["lo80"])[i], 1e-6), "{x}: {lo80}");
        assert!(close(hi80, numbers(&c["hi80"])[i], 1e-6), "{x}: {hi80}");
        assert!(close(lo95, numbers(&c["lo95"])[i], 1e-6), "{x}: {lo95}");
        assert!(close(hi95, numbers(&c["hi95"])[i], 1e-6), "{x}: {hi95}");
    }
}

/// Within 5e-3 relative at df = 3, 2e-3 at 4.5, 5e-5 at 10 and 1e-6 from 30 on.
#[test]
fn t_quantiles_match_qt() {
    let f = fixtures();
    for c in f["qt"].as_array().expect("qt") {
        let (p, df, q) = (number(&c["p"]), number(&c["df"]), number(&c["q"]));
        let tol = match df {
            d if d < 4.0 => 5e-3,
            d if d < 10.0 => 2e-3,
            d if d < 30.0 => 5e-5,
            _ => 1e-6,
        };
        let got = t_quantile(p, df);
        assert!(
            (got - q).abs() <= tol * q.abs(),
            "qt({p}, {df}) = {q}, got {got}"
        );
    }
}

/// With φ = 1 the states and the SSE are HoltWinters'.
#[test]
fn undamped_holt_is_holt_winters() {
    let f = fixtures();
    let c = &f["holt"];
    let m = Holt::fit(
        &numbers(&c["y"]),
        number(&c["alpha"]),
        number(&c["beta"]),
        1.0,
    )
    .expect("a model");
    assert!(close(m.sse, number(&c["sse"]), 1e-10), "{}", m.sse);
    assert!(close(m.level, number(&c["level"]), 1e-10));
    assert!(close(m.trend, number(&c["trend"]), 1e-10));
}

/// The damped recursion's states and SSE, and the variance sum against FPP3's closed form.
#[test]
fn damped_holt_matches_the_recursion_and_the_closed_form_variance() {
    let f = fixtures();
    let c = &f["damped"];
    let m = Holt::fit(
        &numbers(&c["y"]),
        number(&c["alpha"]),
        number(&c["beta"]),
        number(&c["phi"]),
    )
    .expect("a model");
    assert!(close(m.sse, number(&c["sse"]), 1e-10));
    assert!(close(m.level, number(&c["level"]), 1e-10));
    assert!(close(m.trend, number(&c["trend"]), 1e-10));
    for (h, v) in numbers(&c["variance_over_sigma2"]).iter().enumerate() {
        assert!(
            close(m.variance(h + 1) / m.sigma2, *v, 1e-10),
            "h = {}",
            h + 1
        );
    }
}

use llmscope_spc::forecast::limit::wear_crossing;
use llmscope_spc::forecast::wear::Wear;
use llmscope_spc::forecast::{outlook, Model, Settings, Side};
use llmscope_spc::{Rng, SpcError};

/// `flat` in-control points of N(50, 1), then `ramp` points rising `rate` per point.
fn drifting(seed: u64, flat: usize, ramp: usize, rate: f64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    (0..flat + ramp)
        .map(|i| 50.0 + rng.normal() + rate * i.saturating_sub(flat) as f64)
        .collect()
}

/// A drift towards USL 60 at 0.01 per point from point 1000: at point 1999 its level is
/// 59.99, so it crosses in about 1 point; with USL 62, about 200.
#[test]
fn a_drift_is_alerted_with_its_time_to_the_usl() {
    let v = drifting(1, 1000, 1000, 0.01);
    let s = Settings {
        horizon: 400,
        upper: Some(62.0),
        lower: Some(38.0),
        ..Settings::default()
    };
    let o = outlook(&v, &s).expect("an outlook");
    assert!(o.degradation.detected);
    assert!(
        (900..=1100).contains(&o.degradation.start),
        "{:?}",
        o.degradation
    );
    assert_eq!(o.forecast.len(), 400);
    assert_eq!(o.forecast[0].index, 2000);
    let f = &o.forecast[199];
    assert!(f.lo95 < f.lo80 && f.lo80 < f.median && f.median < f.hi80 && f.hi80 < f.hi95);
    assert!((f.median - 62.0).abs() < 1.0, "{f:?}");
    let t = o.time_to_limit;
    assert_eq!(t.side, Some(Side::Upper));
    let c = t.crossing;
    let (lo, median, hi) = (c.lo80.unwrap(), c.median.unwrap(), c.hi80.unwrap());
    assert!(
        lo < 200.0 && 200.0 < hi && (150.0..250.0).contains(&median),
        "{c:?}"
    );
    assert!(c.lo95.unwrap() <= lo && hi <= c.hi95.unwrap());
    assert!(o.alert && c.probability > 0.99);
    // 100 points ahead it cannot get there: no alert, and the crossing is beyond the horizon.
    let short = outlook(&v, &Settings { horizon: 100, ..s }).expect("an outlook");
    assert!(!short.alert && short.time_to_limit.crossing.median.is_none());
}

/// In control: no degradation, no alert, nothing reached; a fall heads for the LSL instead.
#[test]
fn in_control_gives_no_alert_and_a_fall_heads_for_the_lsl() {
    let s = Settings {
        horizon: 500,
        upper: Some(55.0),
        lower: Some(45.0),
        ..Settings::default()
    };
    let o = outlook(&drifting(2, 2000, 0, 0.0), &s).expect("an outlook");
    assert!(!o.alert);
    assert_eq!(o.time_to_limit.crossing.median, None);
    let o = outlook(&drifting(3, 500, 500, -0.02), &s).expect("an outlook");
    assert_eq!(o.time_to_limit.side, Some(Side::Lower));
    assert!(o.alert);
    assert_eq!(
        o.time_to_limit.crossing.lo80,
        Some(0.0),
        "already below 45 at the end"
    );
}

/// Over 200 drifts whose true crossing is known, the 80% interval of the time to limit
/// covers it 70–90% of the time (80% ± 3.5 binomial standard errors).
#[test]
fn the_80_percent_interval_covers_the_true_crossing_about_80_percent_of_the_time() {
    let (rate, usl, n) = (0.02, 58.0, 300);
    let truth = (usl - 50.0) / rate - (n - 1) as f64; // 101 points after the last
    let s = Settings {
        horizon: 1000,
        upper: Some(usl),
        ..Settings::default()
    };
    let covered = (0..200)
        .filter(|&seed| {
            let o = outlook(&drifting(100 + seed, 0, n, rate), &s).expect("an outlook");
            let c = o.time_to_limit.crossing;
            c.lo80.is_some_and(|lo| lo <= truth) && c.hi80.is_some_and(|hi| truth <= hi)
        })
        .count();
    assert!((140..=180).contains(&covered), "{covered} of 200");
}

/// Exponential wear `50 + 0.5 (e^{0.003 t} − 1)` with N(0, 0.2²) noise: USL 60 is reached at
/// `ln 21 / 0.003 ≈ 1014.8`, about 216 points after the last of 800.
fn wearing(seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    (0..800)
        .map(|i| 50.0 + 0.5 * (0.003 * i as f64).exp_m1() + 0.2 * rng.normal())
        .collect()
}

const WEAR_TRUTH: f64 = 1014.8 - 799.0;

/// Exponential wear: the exponential model finds the crossing the straight line misses, at
/// any offset, and the default model chooses the curve.
#[test]
fn the_exponential_model_follows_exponential_wear() {
    let v = wearing(4);
    let s = Settings {
        horizon: 400,
        upper: Some(60.0),
        model: Model::Exponential,
        ..Settings::default()
    };
    let c = outlook(&v, &s).expect("an outlook").time_to_limit.crossing;
    let truth = (21f64.ln() / 0.003) - 799.0;
    assert!(
        c.lo80.unwrap() <= truth && truth <= c.hi80.unwrap(),
        "{c:?} vs {truth}"
    );
    let auto = outlook(
        &v,
        &Settings {
            model: Model::Auto,
            ..s
        },
    )
    .expect("an outlook");
    assert_eq!(
        auto.time_to_limit.crossing, c,
        "the default model chooses the curve"
    );
    let linear = outlook(
        &v,
        &Settings {
            model: Model::Linear,
            ..s
        },
    )
    .expect("an outlook");
    let late = linear
        .time_to_limit
        .crossing
        .median
        .map_or(f64::INFINITY, |m| m);
    assert!(late > c.hi80.unwrap(), "the line is late: {late}");
    // The band bends: its median at the crossing is the limit.
    let at = auto.forecast[truth.round() as usize - 1];
    assert!((at.median - 60.0).abs() < 1.0, "{at:?}");
    // An offset and a scale: the same wear, 20 v − 45, crosses 20 × 60 − 45; and a fall,
    // 100 − v, crosses 40 downwards.
    let shifted: Vec<f64> = v.iter().map(|x| 20.0 * x - 45.0).collect();
    let up = Settings {
        upper: Some(20.0 * 60.0 - 45.0),
        ..s
    };
    let fall: Vec<f64> = v.iter().map(|x| 100.0 - x).collect();
    let down = Settings {
        upper: None,
        lower: Some(40.0),
        ..s
    };
    for (values, settings) in [(&shifted, &up), (&fall, &down)] {
        let t = outlook(values, settings)
            .expect("an outlook")
            .time_to_limit
            .crossing;
        assert!(
            (t.median.unwrap() - c.median.unwrap()).abs() < 0.01 * truth,
            "{t:?} vs {c:?}"
        );
    }
}

/// Over 200 such wear curves, the curve's 80% interval of the time to limit (which draws
/// the offset, the level and the rate) covers the true crossing 70–90% of the time.
#[test]
fn the_wear_curves_80_percent_interval_covers_the_true_crossing() {
    let covered = (0..200)
        .filter(|&seed| {
            let w = Wear::fit(0.0, &wearing(300 + seed), true).expect("a wear curve");
            let c = wear_crossing(&w, 60.0, true, 1000, 1000);
            c.lo80.is_some_and(|lo| lo <= WEAR_TRUTH) && c.hi80.is_some_and(|hi| WEAR_TRUTH <= hi)
        })
        .count();
    assert!((140..=180).contains(&covered), "{covered} of 200");
}

/// Damped Holt forecasts a drift ending near 110. Fitted by one-step SSE on noisy data it
/// damps hard (φ = 0.8), so it levels off below 112: only its growing band reaches it (the
/// marginal approximation, an observation crossing), and 150 stays out of reach.
#[test]
fn damped_holt_gives_a_band_and_a_crossing() {
    let v = drifting(5, 0, 300, 0.2);
    let s = Settings {
        horizon: 200,
        upper: Some(112.0),
        model: Model::DampedHolt,
        ..Settings::default()
    };
    let o = outlook(&v, &s).expect("an outlook");
    let width = |i: usize| o.forecast[i].hi95 - o.forecast[i].lo95;
    assert!(width(100) > width(0));
    let c = o.time_to_limit.crossing;
    assert!(c.lo95.unwrap() <= c.lo80.unwrap(), "{c:?}");
    assert!(c.probability > 0.1 && c.probability < 0.9, "{c:?}");
    let far = outlook(
        &v,
        &Settings {
            upper: Some(150.0),
            ..s
        },
    )
    .expect("an outlook");
    assert!(far.time_to_limit.crossing.probability < 0.01);
    assert_eq!(far.time_to_limit.crossing.lo95, None);
}

/// Bad input is named, never a panic.
#[test]
fn bad_input_is_named() {
    let mut v = drifting(6, 50, 0, 0.0);
    let s = Settings::default();
    assert!(matches!(
        outlook(&v[..5], &s),
        Err(SpcError::TooFewPoints { got: 5, .. })
    ));
    v[17] = f64::NAN;
    assert!(matches!(
        outlook(&v, &s),
        Err(SpcError::NotFinite { index: 17, .. })
    ));
    v[17] = 50.0;
    let bad_p = Settings {
        probability: 0.0,
        ..s
    };
    assert!(matches!(
        outlook(&v, &bad_p),
        Err(SpcError::InvalidParameter {
            name: "probability",
            ..
        })
    ));
    let crossed = Settings {
        lower: Some(2.0),
        upper: Some(1.0),
        ..s
    };
    assert!(outlook(&v, &crossed).is_err());
    assert!(outlook(&v, &Settings { horizon: 0, ..s }).is_err());
}

use llmscope_spc::forecast::generate::{curve, in_control, Kind, HOUR, LIMIT};
use llmscope_spc::forecast::predict;

/// The backtest in small (examples/forecast_backtest.rs has the figures): one generated run to
/// failure of each kind, with AR(1) noise, watched every 10 minutes on its last 3 hours with
/// the default alert over 24 hours, is alerted after it starts degrading and before it crosses;
/// and 10 hours in control raise no alert.
#[test]
fn generated_runs_to_failure_are_alerted_before_the_crossing() {
    let s = Settings {
        horizon: 24 * HOUR,
        upper: Some(LIMIT),
        ..Settings::default()
    };
    let watch = |values: &[f64], from: usize, to: usize| {
        (from..to).step_by(600).find(|&o| {
            predict(&values[(o + 1).saturating_sub(3 * HOUR)..=o], &s).is_ok_and(|p| p.alert)
        })
    };
    let mut rng = Rng::new(2026);
    for kind in Kind::DEGRADATIONS {
        let c = curve(&mut rng, kind, 0.3);
        let (start, crossing) = (c.start.unwrap(), c.crossing.unwrap());
        assert_eq!(
            watch(&c.values, 600, c.baseline),
            None,
            "{kind:?}: before it degrades"
        );
        let first = watch(&c.values, start, crossing);
        assert!(
            first.is_some_and(|o| o < crossing),
            "{kind:?}: {first:?} vs {crossing}"
        );
    }
    let calm = in_control(&mut rng, 0.5, 10 * HOUR);
    assert_eq!(watch(&calm.values, HOUR, 10 * HOUR), None);
}
