//! Issue 13's goals for what else changed and similar past episodes, on seeded labelled cases
//! (`explain::cases`, measured by `explain::goals`):
//! `cargo run --release -p llmscope-spc --example explain_goals [-- CASES]`. The numbers go in
//! docs/benchmarks.md, "Explain (issue 13)".

use llmscope_spc::explain::cases::COUPLED;
use llmscope_spc::explain::goals::{coupled_score, TOP};

fn main() {
    let cases = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(400);
    let c = coupled_score(cases, 20261206);
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
}
