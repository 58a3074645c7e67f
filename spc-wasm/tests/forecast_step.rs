//! A step back after a degradation (`forecast::step`) against independent numbers: R 4.2's
//! `lm` + `predict(se.fit = TRUE)`, `qt` and an optimal partitioning written in base R, from
//! `tests/fixtures/step/make_fixtures.R` (`step.json`, committed); then on the seeded
//! generator's "drift with a maintenance reset" curves, whose reset lies in a known span.

use llmscope_spc::forecast::generate::{curve, in_control, Kind, HOUR, SIGMA};
use llmscope_spc::forecast::linear::Line;
use llmscope_spc::forecast::step::{jump, step_back};
use llmscope_spc::Rng;
use serde_json::Value;

mod common;
use common::numbers;

fn number(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

/// At R's changepoints, the jump between the two sides' `lm` lines is R's to 1e-9 (size,
/// standard error, Welch degrees of freedom, 95% interval); the engine finds the step back at
/// R's changepoint with R's size, its interval no narrower (it allows for autocorrelation).
#[test]
fn the_step_and_its_interval_match_lm_predict_and_qt() {
    let f = common::fixtures("step");
    for s in f["series"].as_array().expect("series") {
        let (name, y) = (s["name"].as_str().expect("name"), numbers(&s["y"]));
        let jumps = s["jumps"].as_array().expect("jumps");
        for j in jumps {
            let at = |k: &str| number(&j[k]) as usize;
            let got = jump(&y, at("a"), at("c"), at("b"), Line::fit_iid).expect("a jump");
            let (lo, hi) = got.interval(0.95);
            for (what, g, r) in [
                ("size", got.size, number(&j["size"])),
                ("se", got.se, number(&j["se"])),
                ("df", got.df, number(&j["df"])),
                ("lo", lo, number(&j["lo"])),
                ("hi", hi, number(&j["hi"])),
            ] {
                assert!(close(g, r), "{name} at {}: {what} {g} vs R {r}", at("c"));
            }
        }
        // The newest change is the step back in both series.
        let last = jumps.last().expect("a change");
        let found = step_back(&y).expect("enough data").expect("a step back");
        assert_eq!(found.at, number(&last["c"]) as usize, "{name}");
        assert!(
            close(found.size, number(&last["size"])),
            "{name}: {found:?}"
        );
        assert!(found.lo <= number(&last["lo"]) + 1e-9 && found.hi >= number(&last["hi"]) - 1e-9);
    }
}

/// The generator's maintenance reset (a drift 40–70% of the way to the limit, then back to the
/// mean, in control 0.5–1 h before the next drift) is found within a block of that span, as a
/// fall of 2.4–4.2 sigma; linear wear and a stream in control have none.
#[test]
fn the_generators_maintenance_resets_are_found_and_nothing_else() {
    let mut rng = Rng::new(1954);
    for (i, phi) in [0.0, 0.3, 0.5, 0.0, 0.2].into_iter().enumerate() {
        let c = curve(&mut rng, Kind::MaintenanceReset, phi);
        let start = c.start.expect("a degradation");
        let s = step_back(&c.values)
            .expect("enough data")
            .unwrap_or_else(|| panic!("curve {i} (φ {phi}): no step back"));
        let block = c.values.len().div_ceil(128);
        assert!(
            start <= s.at + HOUR + block && s.at + HOUR / 2 <= start + block,
            "curve {i}: step at {}, drift from {start}",
            s.at
        );
        assert!(
            (-4.3 * SIGMA..-2.3 * SIGMA).contains(&s.size) && s.hi < 0.0 && s.slope > 0.0,
            "curve {i}: {s:?}"
        );
    }
    for phi in [0.0, 0.5] {
        let c = curve(&mut rng, Kind::Linear, phi);
        assert_eq!(
            step_back(&c.values).expect("enough data"),
            None,
            "linear φ {phi}"
        );
        let calm = in_control(&mut rng, phi, 4 * HOUR);
        assert_eq!(
            step_back(&calm.values).expect("enough data"),
            None,
            "in control φ {phi}"
        );
    }
}
