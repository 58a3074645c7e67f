//! `cargo xtask bench`: the benchmarks behind docs/benchmarks.md. Each reports against a
//! baseline measured in the same run, since these machines are shared and noisy:
//! - criterion: streaming and batch analysis of the engine (points per second), and the
//!   comparison of targets and machines (issue 12);
//! - analyze end to end on a 10-million-line CSV, against reading the same file;
//! - the wasm API from Node.js against the same series natively;
//! - the comparison of 20 targets × 100,000 results in headless Chromium against native;
//! - the explanation of 200 episodes over 200 streams × 10,000 points in headless Chromium
//!   against native (issue 13);
//! - the forecasts of 1,000 streams × 10,000 points in headless Chromium against the engine's
//!   `analyze` in the same page, and native (issue 14);
//! - the shim's WebSocket server: samples/s to 1 and 10 clients, latency, RSS;
//! - the dashboard and its exports in headless Chromium, and share-link sizes;
//! - the probe Worker's overhead in wrangler dev against a native client;
//! - the broker source (issue 15): the worker's cost per message natively (criterion), and
//!   publish → chart through the dashboard at 20,000 Sparkplug messages/s (mosquitto's
//!   WebSocket listener, headless Chromium);
//! - named rules against the built-in detector (issue 16);
//! - the in-control ARL by full-size seeded simulation against the published values.

use crate::setup;
use crate::util::{self, say};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

pub fn run(quick: bool) -> Result<(), String> {
    criterion("the engine", "llmscope-spc", "engine", quick)?;
    criterion("the comparison", "llmscope-spc", "compare", quick)?;
    analyze_end_to_end(if quick { 1_000_000 } else { 10_000_000 })?;
    wasm_against_native(if quick { 200_000 } else { 2_000_000 })?;
    compare_in_browser()?;
    explain_in_browser()?;
    forecast_in_browser()?;
    let quick_flag: &[&str] = if quick { &["--quick"] } else { &[] };
    say("the shim's WebSocket server under load on loopback (gateway-shim/examples/ws_load.rs)");
    util::run(&mut example_of("gateway-shim", "ws_load", quick_flag))?;
    say("the dashboard in headless Chromium: first chart painted, redraw of 100,000 points");
    crate::site::build()?;
    setup::chromium()?;
    util::run(util::cargo().args(["build", "-p", "gateway-shim"]))?;
    let shim = util::root().join("target/debug/llmscope-shim");
    util::run(example_of("llmscope-e2e", "browser_bench", &[]).env("LLMSCOPE_SHIM", &shim))?;
    say("exports of a 100,000-point session in headless Chromium (tests/e2e/examples/export_bench.rs)");
    util::run(example_of("llmscope-e2e", "export_bench", &[]).env("LLMSCOPE_SHIM", &shim))?;
    say("saving a 1,000,000-point session in headless Chromium (tests/e2e/examples/session_bench.rs)");
    util::run(example_of("llmscope-e2e", "session_bench", &[]).env("LLMSCOPE_SHIM", &shim))?;
    criterion(
        "the broker source's worker",
        "llmscope-app-fleet",
        "receive",
        quick,
    )?;
    say("publish → chart through the dashboard at 20,000 Sparkplug messages/s (tests/e2e/examples/fleet_dash_bench.rs)");
    setup::peers()?; // Debian's mosquitto
    util::run(example_of("llmscope-e2e", "fleet_dash_bench", &[]).env("LLMSCOPE_SHIM", &shim))?;
    say("share-link sizes against the raw data (app/examples/share_size.rs)");
    util::run(&mut example_of("llmscope-app", "share_size", &[]))?;
    say("the probe Worker's overhead in wrangler dev against a native client (tests/probes/examples/overhead.rs)");
    crate::worker::build()?;
    util::run(&mut example_of(
        "llmscope-probe-tests",
        "overhead",
        quick_flag,
    ))?;
    say("named rules against the built-in detector (spc-wasm/examples/rules_speed.rs)");
    util::run(&mut example("rules_speed", &[]))?;
    say("full-size Monte-Carlo ARL against the published values (examples/arl_montecarlo.rs)");
    util::run(&mut example("arl_montecarlo", &[]))
}

/// `cargo bench -p package --bench name` (criterion; `--quick` when asked).
fn criterion(what: &str, package: &str, name: &str, quick: bool) -> Result<(), String> {
    say(&format!(
        "criterion benchmarks of {what} (cargo bench -p {package} --bench {name})"
    ));
    let mut cmd = util::cargo();
    cmd.args(["bench", "-p", package, "--bench", name]);
    if quick {
        cmd.args(["--", "--quick"]);
    }
    util::run(&mut cmd)
}

/// A deterministic CSV of `lines` rows: a timestamp and a latency-like value.
fn write_csv(path: &Path, lines: usize) -> Result<(), String> {
    if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
        return Ok(());
    }
    say(&format!("writing a {lines}-line CSV to {}", path.display()));
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let write = |out: &mut std::io::BufWriter<std::fs::File>| -> std::io::Result<()> {
        writeln!(out, "t,ttft_ms")?;
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for i in 0..lines {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state >> 40) as f64 / (1u64 << 24) as f64;
            writeln!(
                out,
                "{},{:.3}",
                1_764_201_600_000u64 + i as u64 * 100,
                420.0 + 80.0 * noise
            )?;
        }
        out.flush()
    };
    write(&mut out).map_err(|e| format!("{}: {e}", path.display()))
}

/// `cargo run --release` of one of the engine's examples.
fn example(name: &str, args: &[&str]) -> Command {
    example_of("llmscope-spc", name, args)
}

/// `cargo run --release` of an example of `package`.
fn example_of(package: &str, name: &str, args: &[&str]) -> Command {
    let mut cmd = util::cargo();
    cmd.args([
        "run",
        "--release",
        "-q",
        "-p",
        package,
        "--example",
        name,
        "--",
    ])
    .args(args);
    cmd
}

fn seconds(cmd: &mut Command) -> Result<f64, String> {
    let start = Instant::now();
    let status = cmd
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if !status.success() {
        return Err(format!("{cmd:?} failed ({status})"));
    }
    Ok(start.elapsed().as_secs_f64())
}

fn best_of(runs: usize, mut cmd: impl FnMut() -> Command) -> Result<f64, String> {
    let mut best = f64::INFINITY;
    for _ in 0..runs {
        best = best.min(seconds(&mut cmd())?);
    }
    Ok(best)
}

fn analyze_end_to_end(lines: usize) -> Result<(), String> {
    let root = util::root();
    util::run(util::cargo().args(["build", "--release", "-p", "gateway-shim"]))?;
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let csv = dir.join(format!("latency-{lines}.csv"));
    write_csv(&csv, lines)?;
    let shim = root.join("target/release/llmscope-shim");
    say(&format!(
        "analyze end to end on {lines} lines (best of 3), against counting its lines (wc -l)"
    ));
    let read = best_of(3, || {
        let mut c = Command::new("wc");
        c.arg("-l");
        c.arg(&csv);
        c
    })?;
    for (label, args) in [
        (
            "individuals, Nelson tests, text report",
            vec!["--format", "text"],
        ),
        (
            "individuals, Nelson tests, JSON of every point",
            vec!["--format", "json"],
        ),
        (
            "individuals, test 1 only, text report",
            vec!["--tests", "1", "--format", "text"],
        ),
    ] {
        let t = best_of(3, || {
            let mut c = Command::new(&shim);
            c.arg("analyze").arg(&csv).args(&args);
            c
        })?;
        println!("  {label}: {t:.3} s ({:.1}x wc -l, {read:.3} s)", t / read);
    }
    Ok(())
}

fn wasm_against_native(points: usize) -> Result<(), String> {
    let package = setup::wasm_node_package()?;
    setup::node()?;
    say(&format!(
        "streaming {points} points: wasm in Node.js against native, both `--release` \
         (best of 10 each; native keeps its signals as the wasm API does)"
    ));
    let native = util::output(&mut example("stream_throughput", &[&points.to_string()]))
        .ok_or("the native throughput example failed")?;
    let wasm = util::output(
        Command::new("node")
            .arg(util::root().join("spc-wasm/tests/node/bench.mjs"))
            .arg(points.to_string())
            .env("LLMSCOPE_WASM_PKG", package.join("llmscope_spc.js")),
    )
    .ok_or("the Node.js benchmark failed")?;
    // "...: N points in T s = R M points/s (...)"
    let rate = |s: &str| {
        s.split(" = ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next()?.parse::<f64>().ok())
    };
    print!("  {native}");
    let native = rate(&native);
    // One line per API: pushBatch (signals as objects), pushBatchPacked (as a Uint32Array).
    for line in wasm.lines() {
        match (native, rate(line)) {
            (Some(n), Some(w)) => println!("  {line}  wasm/native: {:.2}", w / n),
            _ => println!("  {line}"),
        }
    }
    Ok(())
}

/// `target/{name}-bench/` with the engine's release wasm for the browser (`pkg/`,
/// wasm-bindgen --target web) and the bench page `page` of spc-wasm/tests/browser/.
fn browser_bench_dir(name: &str, page: &str) -> Result<std::path::PathBuf, String> {
    let root = util::root();
    setup::wasm_node_package()?; // builds the release wasm
    let dir = root.join(format!("target/{name}-bench"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    say(&format!(
        "generating the browser bindings (wasm-bindgen --target web) for the {name} bench"
    ));
    util::run(
        Command::new(setup::wasm_bindgen_cli()?)
            .args(["--target", "web", "--out-dir"])
            .arg(dir.join("pkg"))
            .arg(root.join("target/wasm32-unknown-unknown/release/llmscope_spc.wasm")),
    )?;
    let source = root.join("spc-wasm/tests/browser").join(page);
    std::fs::copy(&source, dir.join(page)).map_err(|e| format!("{}: {e}", source.display()))?;
    Ok(dir)
}

/// Issue 12's target: 20 targets × 100,000 results compared in the browser in under 300 ms.
/// The same streams (spc-wasm/examples/compare_speed.rs writes them) compared natively and by
/// the wasm build in headless Chromium (tests/e2e/examples/compare_bench.rs), all 190 pairs
/// and the 19 against one reference target, best of 5 each.
fn compare_in_browser() -> Result<(), String> {
    let dir = browser_bench_dir("compare", "compare_bench.html")?;
    say("comparing 20 targets x 100,000 results natively (spc-wasm/examples/compare_speed.rs)");
    let mut native = util::output(&mut example("compare_speed", &[&dir.to_string_lossy()]))
        .ok_or("the native comparison example failed")?;
    say("the Compare view's computation natively, as its Web Worker runs it (app/lazy/examples/compare_view.rs)");
    native += &util::output(&mut example_of(
        "llmscope-app-lazy",
        "compare_view",
        &[&dir.to_string_lossy()],
    ))
    .ok_or("the native Compare view example failed")?;
    // The second module as the site ships it (`site` profile), with bindings for the page.
    crate::site::build()?;
    util::run(
        Command::new(setup::wasm_bindgen_cli()?)
            .args([
                "--target",
                "web",
                "--out-name",
                "llmscope_lazy",
                "--out-dir",
            ])
            .arg(dir.join("lazy"))
            .arg(util::root().join("target/wasm32-unknown-unknown/site/llmscope_app_lazy.wasm")),
    )?;
    std::fs::write(dir.join("view_bench.html"), VIEW_BENCH_PAGE)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    setup::chromium()?;
    say("the same comparison by the wasm build in headless Chromium (tests/e2e/examples/compare_bench.rs)");
    let browser = util::output(
        example_of("llmscope-e2e", "compare_bench", &[]).env("LLMSCOPE_BENCH_DIR", &dir),
    )
    .ok_or("the browser comparison benchmark failed")?;
    // "native 190 pairs: 650.1 ms" and "browser 190 pairs: 900.2 ms (...)"
    let ms = |text: &str, side: &str, what: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{side} {what}: ")))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
    };
    for what in ["190 pairs", "19 pairs"] {
        match (ms(&native, "native", what), ms(&browser, "browser", what)) {
            (Some(n), Some(b)) => println!(
                "  {what}: browser {b:.0} ms, native {n:.0} ms, browser/native {:.2} (target: under 300 ms in the browser)",
                b / n
            ),
            _ => println!("  {what}: could not read the times:\n{native}{browser}"),
        }
    }
    // "native view 19 pairs: table 80.1 ms, report 300.2 ms", and the same from the browser.
    let view = |text: &str, side: &str, what: &str| -> Option<(f64, f64)> {
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{side} view {what}: table ")))?;
        let (table, report) = line.split_once(" ms, report ")?;
        Some((
            table.parse().ok()?,
            report.trim_end_matches(" ms").parse().ok()?,
        ))
    };
    for what in ["19 pairs", "190 pairs"] {
        match (view(&native, "native", what), view(&browser, "browser", what)) {
            (Some((nt, nr)), Some((bt, br))) => println!(
                "  the Compare view's Worker, {what}: the table after {bt:.0} ms, the report after {br:.0} ms in the browser (native {nt:.0} / {nr:.0} ms, browser/native {:.2}; target: under 300 ms)",
                br / nr
            ),
            _ => println!("  the view, {what}: could not read the times:\n{native}{browser}"),
        }
    }
    Ok(())
}

/// Issue 13's target: the full context of 200 episodes over 200 streams × 10,000 points in
/// the browser in ≤ 200 ms. The same streams (spc-wasm/examples/explain_speed.rs writes them)
/// explained natively and through the wasm API `explain` in headless Chromium (the comparison
/// bench's runner with spc-wasm/tests/browser/explain_bench.html), best of 15 each. Alone:
/// `cargo xtask bench explain`.
pub fn explain_in_browser() -> Result<(), String> {
    let dir = browser_bench_dir("explain", "explain_bench.html")?;
    say("explaining 200 episodes over 200 streams x 10,000 points natively (spc-wasm/examples/explain_speed.rs)");
    let native = util::output(&mut example("explain_speed", &[&dir.to_string_lossy()]))
        .ok_or("the native explain example failed")?;
    setup::chromium()?;
    say("the same through the wasm API in headless Chromium (tests/e2e/examples/compare_bench.rs)");
    let browser = util::output(
        example_of("llmscope-e2e", "compare_bench", &[])
            .env("LLMSCOPE_BENCH_DIR", &dir)
            .env("LLMSCOPE_BENCH_PAGE", "explain_bench.html"),
    )
    .ok_or("the browser explain benchmark failed")?;
    let ms = |text: &str, side: &str, what: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{side} {what}: ")))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
    };
    for what in ["one column", "every column"] {
        match (ms(&native, "native", what), ms(&browser, "browser", what)) {
            (Some(n), Some(b)) => println!(
                "  {what}: browser {b:.0} ms, native {n:.0} ms, browser/native {:.2} (target for one column's 200 episodes: 200 ms in the browser)",
                b / n
            ),
            _ => println!("  {what}: could not read the times:\n{native}{browser}"),
        }
    }
    Ok(())
}
/// Issue 14's target: forecasts for 1,000 streams × 10,000 points in under 1 s in the browser.
/// The same streams (spc-wasm/examples/forecast_speed.rs writes them) forecast natively and
/// through the wasm API `forecast` in headless Chromium (the comparison bench's runner with
/// spc-wasm/tests/browser/forecast_bench.html), against the engine's `analyze` of every
/// stream in the same run on each side.
fn forecast_in_browser() -> Result<(), String> {
    let dir = browser_bench_dir("forecast", "forecast_bench.html")?;
    say("forecasting 1,000 streams x 10,000 points natively (spc-wasm/examples/forecast_speed.rs)");
    let native = util::output(&mut example("forecast_speed", &[&dir.to_string_lossy()]))
        .ok_or("the native forecast example failed")?;
    setup::chromium()?;
    say("the same through the wasm API in headless Chromium (tests/e2e/examples/compare_bench.rs)");
    let browser = util::output(
        example_of("llmscope-e2e", "compare_bench", &[])
            .env("LLMSCOPE_BENCH_DIR", &dir)
            .env("LLMSCOPE_BENCH_PAGE", "forecast_bench.html"),
    )
    .ok_or("the browser forecast benchmark failed")?;
    let ms = |text: &str, side: &str, what: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{side} {what}: ")))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
    };
    print!("{native}{browser}");
    let (bp, ba) = (
        ms(&browser, "browser", "predict"),
        ms(&browser, "browser", "analyze"),
    );
    let (np, na) = (
        ms(&native, "native", "predict"),
        ms(&native, "native", "analyze"),
    );
    match (bp, ba, np, na) {
        (Some(bp), Some(ba), Some(np), Some(na)) => println!(
            "  predict: browser {bp:.0} ms (target: under 1,000 ms), {:.2} of the page's analyze ({ba:.0} ms); natively {np:.0} ms, {:.2} of analyze; browser/native {:.2}",
            bp / ba,
            np / na,
            bp / np
        ),
        _ => println!("  could not read the times:\n{native}{browser}"),
    }
    Ok(())
}

/// The page that times the second module's `compare` (what the Compare view's Web Worker
/// runs) on the requests `app/lazy/examples/compare_view.rs` wrote: the table (its callback)
/// and the report, best of `runs`.
const VIEW_BENCH_PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<title>compare view bench</title>
<script type="module">
  import init, { compare } from "./lazy/llmscope_lazy.js";
  async function best(file, runs) {
    const bytes = new Uint8Array(await (await fetch(file)).arrayBuffer());
    let table = Infinity, report = Infinity;
    for (let r = 0; r < runs; r++) {
      const start = performance.now();
      let first = 0;
      compare(bytes, () => { first = performance.now() - start; });
      report = Math.min(report, performance.now() - start);
      table = Math.min(table, first);
    }
    return { table, report };
  }
  window.runViewBench = async (runs) => {
    await init();
    return { reference: await best("./request.bin", runs), all: await best("./request_all.bin", runs) };
  };
  window.benchReady = true;
</script>
"#;
