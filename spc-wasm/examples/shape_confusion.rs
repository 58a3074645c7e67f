//! The shape classifier's confusion matrix on the seeded labelled faults (issue 13's proof):
//! `cargo run --release -p llmscope-spc --example shape_confusion [-- PER_SHAPE]`. The matrix
//! and precision go in docs/benchmarks.md, "Explain (issue 13)".

use llmscope_spc::explain::shape::Shape;
use llmscope_spc::explain::{confusion, Confusion};

fn main() {
    let per_shape = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let m: Confusion = confusion(per_shape, 20261206);
    print!("| injected \\ found |");
    for s in Shape::ALL {
        print!(" {} |", s.as_str());
    }
    println!(" missed |");
    println!("|{}", "---|".repeat(Shape::ALL.len() + 2));
    for (i, s) in Shape::ALL.iter().enumerate() {
        print!("| {} |", s.as_str());
        for c in &m.counts[i] {
            print!(" {c} |");
        }
        println!(" {} |", m.missed[i]);
    }
    println!(
        "\nprecision@1 {:.3} over {} detected episodes ({} injected, {} missed)",
        m.precision(),
        m.detected(),
        per_shape * Shape::ALL.len(),
        m.missed.iter().sum::<usize>()
    );
}
