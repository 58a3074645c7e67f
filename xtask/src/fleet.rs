//! `cargo xtask fleet --nodes N --metrics M --rate HZ --broker mqtt://HOST:PORT [--sparkplug]
//! [--seconds S] [--seed K] [--changed C]`: the seeded fleet simulator (issue 15). xtask builds first in
//! every `cargo xtask` call, so it carries no MQTT client: this runs the example
//! `fleet_sim` of `llmscope-e2e` (tests/e2e/examples/fleet_sim.rs, which has rumqttc and the
//! Sparkplug payloads), passing the flags on after checking the required ones are there.

use crate::util::{self, run, say};

/// The flags every run needs.
const REQUIRED: [&str; 4] = ["--nodes", "--metrics", "--rate", "--broker"];

/// Runs the simulator with `args` (the words after `fleet`).
pub fn run_fleet(args: &[String]) -> Result<(), String> {
    check(args)?;
    say("running the fleet simulator (cargo run -p llmscope-e2e --release --example fleet_sim)");
    run(util::cargo()
        .args([
            "run",
            "-p",
            "llmscope-e2e",
            "--release",
            "--example",
            "fleet_sim",
            "--",
        ])
        .args(args))
}

/// The required flags are present: an early error beats building the example first.
fn check(args: &[String]) -> Result<(), String> {
    let missing: Vec<&str> = REQUIRED
        .into_iter()
        .filter(|flag| !args.iter().any(|a| a == flag))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fleet: missing {}: e.g. cargo xtask fleet --nodes 100 --metrics 20 --rate 1 \
             --broker mqtt://127.0.0.1:1883 --sparkplug --seconds 60",
            missing.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_required_flag_is_named() {
        let args: Vec<String> = ["--nodes", "2", "--rate", "1"].map(String::from).to_vec();
        let e = check(&args).unwrap_err();
        assert!(e.contains("--metrics, --broker"), "{e}");
        let all: Vec<String> = [
            "--nodes",
            "2",
            "--metrics",
            "3",
            "--rate",
            "1",
            "--broker",
            "mqtt://h:1",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(check(&all), Ok(()));
    }
}
