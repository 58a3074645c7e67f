//! Full-size Monte-Carlo check of the ARL engine: seeded simulations of Shewhart charts with
//! tests for special causes against the published values (Champ & Woodall 1987) and the Markov
//! chain, plus a simulation of the two-sided CUSUM with a head start against `arl::cusum`.
//!
//! Run with `cargo run --release -p llmscope-spc --example arl_montecarlo [runs]` (default
//! 200,000 runs per line; a few seconds in a release build).

use llmscope_spc::arl::{self, ArlMethod};
use llmscope_spc::{NelsonRule, Rng, RuleSet};
use std::time::Instant;

/// Tests, rule set, shift, and the published value with its source (None: the Markov chain).
type Line = (&'static str, RuleSet, f64, Option<(f64, &'static str)>);

fn main() {
    let runs: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .filter(|&r| r >= 2)
        .unwrap_or(200_000);
    let seed = 20_240_601;
    use NelsonRule::*;
    let zone_set = RuleSet::only(&[Beyond, SameSide, ZoneA, ZoneB, Stratification, Mixture]);
    let lines: [Line; 6] = [
        (
            "test 1",
            RuleSet::only(&[Beyond]),
            0.0,
            Some((370.40, "Champ & Woodall 1987")),
        ),
        (
            "test 1",
            RuleSet::only(&[Beyond]),
            1.0,
            Some((43.89, "Champ & Woodall 1987")),
        ),
        (
            "Western Electric",
            RuleSet::western_electric(),
            0.0,
            Some((91.75, "Champ & Woodall 1987")),
        ),
        ("Western Electric", RuleSet::western_electric(), 1.0, None),
        ("tests 1,2,5,6,7,8", zone_set, 0.0, None),
        (
            "all eight tests",
            RuleSet::nelson(),
            0.0,
            Some((74.0, "about 74 (no exact value)")),
        ),
    ];

    println!("Shewhart ARL by seeded Monte Carlo: {runs} runs per line, seed {seed}");
    println!(
        "{:<18} {:>5}  {:>20}  {:>10}  {:<26} {:>6}  {:>7}",
        "tests", "shift", "simulated ± SE", "reference", "source", "z", "time"
    );
    let total = Instant::now();
    for (name, rules, shift, published) in lines {
        let (reference, source) = match published {
            Some((value, source)) => (value, source.to_string()),
            None => match arl::shewhart_markov(&rules, shift) {
                Ok(a) => (a.value, "Markov chain (this engine)".to_string()),
                Err(e) => (f64::NAN, format!("no reference: {e}")),
            },
        };
        let start = Instant::now();
        let sim = arl::shewhart_simulated(&rules, shift, runs, seed);
        let elapsed = start.elapsed();
        let se = sim.std_error.unwrap_or(f64::NAN);
        println!(
            "{:<18} {:>5.1}  {:>10.3} ± {:<7.3}  {:>10.3}  {:<26} {:>+6.2}  {:>6.2}s",
            name,
            shift,
            sim.value,
            se,
            reference,
            source,
            (sim.value - reference) / se,
            elapsed.as_secs_f64()
        );
    }
    println!("(z = (simulated - reference) / SE; |z| > 3 would point at a bug, except for the");
    println!(" all-eight line, whose reference 74 is itself a rounded simulation result.)");

    // What `shewhart` itself returns for a set that needs simulation (the shipped table).
    let start = Instant::now();
    match arl::shewhart(&RuleSet::nelson(), 0.0) {
        Ok(a) => {
            let runs = match a.method {
                ArlMethod::Simulation { runs, .. } => runs.to_string(),
                ArlMethod::MarkovChain => "Markov chain".to_string(),
            };
            println!(
                "\narl::shewhart(all eight, 0) = {:.2} ± {:.2} ({runs} runs) in {:.2}s",
                a.value,
                a.std_error.unwrap_or(f64::NAN),
                start.elapsed().as_secs_f64()
            );
        }
        Err(e) => println!("\narl::shewhart(all eight, 0): {e}"),
    }

    // Markov chain timings.
    let start = Instant::now();
    let we = arl::shewhart_markov(&RuleSet::western_electric(), 0.0);
    let t_we = start.elapsed();
    let zone_set = RuleSet::only(&[Beyond, SameSide, ZoneA, ZoneB, Stratification, Mixture]);
    let start = Instant::now();
    let zones = arl::shewhart_markov(&zone_set, 0.0);
    let t_zones = start.elapsed();
    println!(
        "Markov chain: Western Electric {:.4} in {:.2?}; tests 1,2,5,6,7,8 {:.4} in {:.2?}",
        we.map(|a| a.value).unwrap_or(f64::NAN),
        t_we,
        zones.map(|a| a.value).unwrap_or(f64::NAN),
        t_zones
    );

    // Two-sided CUSUM, k = 0.5, h = 4, head start h/2: simulation against arl::cusum.
    println!("\nTwo-sided CUSUM k = 0.5, h = 4, head start 2 (Lucas & Crosier 1982: 149, 5.29)");
    // The engine's generator: the CUSUM ARL it is checked against is a Markov chain, not a
    // simulation, so sharing the generator takes nothing from the check.
    let mut rng = Rng::new(seed);
    for shift in [0.0, 1.0] {
        let start = Instant::now();
        let (mut sum, mut sum2) = (0.0f64, 0.0f64);
        for _ in 0..runs {
            let (mut up, mut down, mut t) = (2.0f64, 2.0f64, 0u64);
            while up <= 4.0 && down <= 4.0 && t < 10_000_000 {
                let x = shift + rng.normal();
                up = (up + x - 0.5).max(0.0);
                down = (down - x - 0.5).max(0.0);
                t += 1;
            }
            sum += t as f64;
            sum2 += (t * t) as f64;
        }
        let n = runs as f64;
        let mean = sum / n;
        let se = ((sum2 / n - mean * mean).max(0.0) * n / (n - 1.0)).sqrt() / n.sqrt();
        let chain = arl::cusum(0.5, 4.0, 2.0, shift)
            .map(|a| a.value)
            .unwrap_or(f64::NAN);
        println!(
            "shift {shift:.1}: simulated {mean:.3} ± {se:.3}, arl::cusum {chain:.3}, z {:+.2}  ({:.2}s)",
            (mean - chain) / se,
            start.elapsed().as_secs_f64()
        );
    }
    println!("\ntotal {:.2}s", total.elapsed().as_secs_f64());
}
