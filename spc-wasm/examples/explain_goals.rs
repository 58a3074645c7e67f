//! Issue 13's goals for what else changed and similar past episodes, on seeded labelled cases
//! (`explain::cases`, measured by `explain::goals`):
//! `cargo run --release -p llmscope-spc --example explain_goals [-- CASES [SEED]]`. The numbers go in
//! docs/benchmarks.md, "Explain (issue 13)".

use llmscope_spc::explain::cases::{COUPLED, MOTIFS};
use llmscope_spc::explain::goals::{coupled_score, motif_score, TOP};

fn main() {
    let cases = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(400);
    let seed = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20261206);
    let c = coupled_score(cases, seed);
    println!(
        "coupled: {} of {} partners in the top {TOP} ({:.3}); {} of {} cases detected; \
         places 1..5, below: {:?}",
        c.found,
        c.partners,
        c.recall(),
        c.detected,
        c.cases,
        c.places
    );
    for (shape, (found, partners)) in COUPLED.iter().zip(c.by_shape) {
        println!("  {}: {found} of {partners}", shape.as_str());
    }
    let m = motif_score(cases, seed);
    println!(
        "motif: the earlier occurrence first in {} of {} detected ({:.3}); {} of {} cases \
         detected; in a kin stream {} of {}",
        m.found,
        m.detected,
        m.precision(),
        m.detected,
        m.cases,
        m.in_kin.0,
        m.in_kin.1
    );
    for (shape, (found, detected)) in MOTIFS.iter().zip(m.by_shape) {
        println!("  {}: {found} of {detected}", shape.as_str());
    }
}
