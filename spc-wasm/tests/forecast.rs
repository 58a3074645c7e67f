//! The forecast engine against independent numbers: R 4.2's `lm`, `predict` and `qt`, and an
//! optimal partitioning written in base R (which PELT must equal), all written by
//! `tests/fixtures/forecast/make_fixtures.R` to `forecast.json` (committed, so no R is needed
//! to run this).

use llmscope_spc::forecast::linear::Line;
use llmscope_spc::forecast::pelt::{changepoints, penalty};
use llmscope_spc::forecast::student::t_quantile;
use serde_json::Value;

fn fixtures() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/forecast/forecast.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn numbers(v: &Value) -> Vec<f64> {
    let items = v.as_array().expect("an array");
    items
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
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
