//! `cargo xtask fuzz [--seconds N]`: coverage-guided fuzzing (cargo-fuzz, libFuzzer) of the
//! parsers of outside input, each target for N seconds (default 60), beyond the bounded runs
//! in `cargo test`. Not in CI. The targets live in `fuzz/`; their corpora grow in
//! `fuzz/corpus/<target>/` from run to run, and a crash is saved in `fuzz/artifacts/`.
//!
//! cargo-fuzz asks for nightly-only compiler flags (sanitizers); `RUSTC_BOOTSTRAP=1` lets the
//! machine's stable toolchain accept them, since no other toolchain can be installed here.

use crate::util::{self, output, say};
use std::process::Command;
use std::time::Instant;

pub const DEFAULT_SECONDS: u64 = 60;
const CARGO_FUZZ: &str = "0.13.1";

/// Every `[[bin]]` of fuzz/Cargo.toml.
const TARGETS: &[&str] = &[
    "share_link",
    "app_files",
    "app_frames",
    "provider_streams",
    "worker_targets",
    "shim_config",
    "client_frames",
];

pub fn run(seconds: u64) -> Result<(), String> {
    cargo_fuzz()?;
    let dir = util::root().join("fuzz");
    let mut rows = Vec::new();
    for target in TARGETS {
        say(&format!(
            "fuzzing {target} for {seconds} s (cargo fuzz run)"
        ));
        let started = Instant::now();
        util::run(
            Command::new("cargo")
                .current_dir(&dir)
                .env("RUSTC_BOOTSTRAP", "1")
                .args(["fuzz", "run", target, "--"])
                .arg(format!("-max_total_time={seconds}")),
        )?;
        let corpus = std::fs::read_dir(dir.join("corpus").join(target))
            .map(|d| d.count())
            .unwrap_or(0);
        rows.push((target, corpus, started.elapsed().as_secs()));
    }
    println!("\n| target | corpus files | seconds (with build) |\n|---|---|---|");
    for (target, corpus, secs) in rows {
        println!("| {target} | {corpus} | {secs} |");
    }
    Ok(())
}

/// cargo-fuzz at [`CARGO_FUZZ`] (cargo install, about 2 minutes the first time).
fn cargo_fuzz() -> Result<(), String> {
    let have = output(Command::new("cargo").args(["fuzz", "--version"])).unwrap_or_default();
    if have.contains(CARGO_FUZZ) {
        return Ok(());
    }
    say(&format!(
        "installing cargo-fuzz {CARGO_FUZZ} (cargo install --locked, ~2 min)"
    ));
    util::run(Command::new("cargo").args([
        "install",
        "cargo-fuzz",
        "--locked",
        "--version",
        &format!("={CARGO_FUZZ}"),
    ]))
}
