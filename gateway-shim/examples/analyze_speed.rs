//! `llmscope-shim analyze` end to end against the engine's own batch time, in one run, with an
//! optional earlier binary as the baseline (docs/benchmarks.md, the shim's section).
//!
//! ```text
//! cargo build --release -p gateway-shim --bins --example analyze_speed
//! target/release/examples/analyze_speed [--lines N] [--json-points N] [--runs N] [--before OLD_BINARY]
//! ```
//!
//! Writes two CSVs (`t,ttft_ms`, seeded) to target/bench/ once, then times, best of `--runs`
//! (3 by default; more on a busy machine, where the best run is the one least disturbed):
//! the engine's `analyze` (individuals, all eight tests) on the N points already in memory;
//! the shim binary on the same file (text report with all eight tests and with test 1 only, CSV
//! of every point); JSON of every point for
//! the larger file. Each shim time is printed as a ratio to the engine's time, and to
//! `--before`'s time when given.

use llmscope_spc::{analyze, ChartConfig, Data, Rng};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

fn main() {
    let mut lines = 1_000_000usize;
    let mut json_points = 10_000_000usize;
    let mut runs = 3usize;
    let mut before: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| usage(&flag));
        match flag.as_str() {
            "--lines" => lines = value.parse().unwrap_or_else(|_| usage(&flag)),
            "--json-points" => json_points = value.parse().unwrap_or_else(|_| usage(&flag)),
            "--runs" => runs = value.parse().unwrap_or_else(|_| usage(&flag)),
            "--before" => before = Some(PathBuf::from(value)),
            _ => usage(&flag),
        }
    }
    let exe = std::env::current_exe().expect("own path");
    let release = exe.parent().and_then(Path::parent).expect("target/release");
    let shim = release.join("llmscope-shim");
    assert!(
        shim.exists(),
        "{} is missing: cargo build --release -p gateway-shim --bins",
        shim.display()
    );
    let bench = release.join("../bench");
    std::fs::create_dir_all(&bench).expect("target/bench");
    let small = bench.join(format!("shim-speed-{lines}.csv"));
    let values = write_csv(&small, lines);

    let spec = ChartConfig {
        chart: Some("individuals".into()),
        tests: Some("nelson".into()),
        ..ChartConfig::default()
    }
    .to_spec()
    .expect("a valid spec");
    let data = Data::Values(values);
    let engine = best_of(runs, || {
        let t = Instant::now();
        let chart = analyze(&spec, &data).expect("a chart");
        std::hint::black_box(chart);
        t.elapsed().as_secs_f64()
    });
    println!("{lines} lines, individuals chart, all eight tests, best of {runs}:");
    println!("  engine batch (analyze on the parsed points): {engine:.3} s");
    for (label, args) in [
        ("text report", ["--format", "text", "--tests", "nelson"]),
        (
            "text report, test 1 only (no ARL simulation)",
            ["--format", "text", "--tests", "1"],
        ),
        (
            "CSV of every point",
            ["--format", "csv", "--tests", "nelson"],
        ),
    ] {
        let mut all = vec!["analyze", path_str(&small)];
        all.extend(args);
        report(label, &shim, before.as_deref(), &all, engine, runs);
    }

    let large = bench.join(format!("shim-speed-{json_points}.csv"));
    write_csv(&large, json_points);
    println!("{json_points} lines, JSON of every point, best of {runs}:");
    let args = ["analyze", path_str(&large), "--format", "json"];
    report(
        "JSON of every point",
        &shim,
        before.as_deref(),
        &args,
        f64::NAN,
        runs,
    );
}

fn usage(flag: &str) -> ! {
    eprintln!("analyze_speed: bad or incomplete flag {flag}: use --lines N, --json-points N, --runs N, --before BINARY");
    std::process::exit(2)
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// Times `shim args` (and `before args`) and prints the ratios.
fn report(
    label: &str,
    shim: &Path,
    before: Option<&Path>,
    args: &[&str],
    engine: f64,
    runs: usize,
) {
    // Runs alternate between the two binaries, so both meet the same moments of a busy machine.
    let (mut now, mut then) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..runs {
        now = now.min(run(shim, args));
        if let Some(before) = before {
            then = then.min(run(before, args));
        }
    }
    let mut line = format!("  shim, {label}: {now:.3} s");
    if engine.is_finite() {
        line += &format!(" ({:.2}x the engine)", now / engine);
    }
    if before.is_some() {
        line += &format!("; before: {then:.3} s, now/before {:.2}", now / then);
    }
    println!("{line}");
}

fn run(binary: &Path, args: &[&str]) -> f64 {
    let t = Instant::now();
    let status = Command::new(binary)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect("the shim runs");
    assert!(status.success(), "{} {args:?}: {status}", binary.display());
    t.elapsed().as_secs_f64()
}

fn best_of(runs: usize, mut time: impl FnMut() -> f64) -> f64 {
    (0..runs).map(|_| time()).fold(f64::INFINITY, f64::min)
}

/// Writes `lines` seeded latencies (once; an existing file is reused) and returns them.
fn write_csv(path: &Path, lines: usize) -> Vec<f64> {
    let mut rng = Rng::new(0x2545_F491_4F6C_DD1D);
    let values: Vec<f64> = (0..lines)
        .map(|_| ((420.0 + 80.0 * rng.uniform()) * 1000.0).round() / 1000.0)
        .collect();
    if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
        return values;
    }
    let file = std::fs::File::create(path).expect("create the CSV");
    let mut out = std::io::BufWriter::new(file);
    writeln!(out, "t,ttft_ms").expect("write");
    for (i, v) in values.iter().enumerate() {
        writeln!(out, "{},{v:.3}", 1_764_201_600_000u64 + i as u64 * 100).expect("write");
    }
    out.flush().expect("flush");
    values
}
