//! The rule language's detector against the built-in one, per point, on the same seeded
//! normal series (a speed ratio, for docs/benchmarks.md "Named rules"), and the Markov chain
//! of the Westgard set: its states and the time to build and solve it.
//!
//! `cargo run --release -p llmscope-spc --example rules_speed`

use llmscope_spc::custom::{parse_rules, CustomDetector, NELSON_TEXT, WESTGARD_TEXT};
use llmscope_spc::{arl, LimitSide, Rng, RuleDetector, RuleSet};
use std::hint::black_box;
use std::time::Instant;

const POINTS: usize = 5_000_000;

/// Best of five: seconds for one pass.
fn best(mut pass: impl FnMut() -> usize) -> (f64, usize) {
    let mut fastest = f64::INFINITY;
    let mut signals = 0;
    for _ in 0..5 {
        let t = Instant::now();
        signals = black_box(pass());
        fastest = fastest.min(t.elapsed().as_secs_f64());
    }
    (fastest, signals)
}

fn main() {
    let mut rng = Rng::new(16);
    let zs: Vec<f64> = (0..POINTS).map(|_| rng.normal()).collect();
    let builtin = best(|| {
        let mut d = RuleDetector::new(RuleSet::nelson());
        let mut out = Vec::new();
        for &z in &zs {
            d.push(z, z, LimitSide::of_z(z, 3.0), &mut out);
        }
        out.len()
    });
    let language = |text: &str| {
        let rules = parse_rules(text).expect("a preset parses");
        best(|| {
            let mut d = CustomDetector::new(rules.clone());
            let mut out = Vec::new();
            for &z in &zs {
                d.push(z, z, LimitSide::of_z(z, 3.0), &mut out);
            }
            out.len()
        })
    };
    let nelson = language(NELSON_TEXT);
    let westgard = language(WESTGARD_TEXT);
    let rate = |(s, _): (f64, usize)| POINTS as f64 / s / 1e6;
    println!(
        "built-in Nelson:        {:6.1} M points/s ({} signals)",
        rate(builtin),
        builtin.1
    );
    println!(
        "Nelson in the language: {:6.1} M points/s ({} signals), {:.2}x the built-in's time",
        rate(nelson),
        nelson.1,
        nelson.0 / builtin.0
    );
    println!(
        "Westgard (6 rules):     {:6.1} M points/s ({} signals)",
        rate(westgard),
        westgard.1
    );
    let set: RuleSet = "westgard".parse().expect("the preset parses");
    let t = Instant::now();
    let a = arl::with_rules(&set, 0.25, None).expect("a chain");
    println!(
        "Westgard ARL at a 0.25-sigma shift: {:.2} ({:?}) in {:.2} ms, first call",
        a.value,
        a.method,
        t.elapsed().as_secs_f64() * 1e3
    );
}
