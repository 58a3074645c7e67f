//! `cargo xtask test`: every test of the project, and one closing count.

use crate::util::{self, say};
use crate::{setup, site};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
}

impl Tally {
    /// Reads cargo's "test result: ok. 12 passed; 0 failed; ..." and node's "# pass 3" lines.
    fn read(&mut self, line: &str) {
        let count = |s: &str, word: &str| -> Option<u64> {
            let before = s.split(word).next()?;
            before.split_whitespace().last()?.parse().ok()
        };
        if let Some(rest) = line.strip_prefix("test result: ") {
            self.passed += count(rest, " passed").unwrap_or(0);
            self.failed += count(rest, " failed").unwrap_or(0);
        } else if let Some(n) = line.strip_prefix("# pass ") {
            self.passed += n.trim().parse::<u64>().unwrap_or(0);
        } else if let Some(n) = line.strip_prefix("# fail ") {
            self.failed += n.trim().parse::<u64>().unwrap_or(0);
        }
    }
}

/// What a run from a clean clone writes: target/ (every build, the site, the Worker, the
/// browser and Python peers): 7.3 GB measured on 2026-12-07, with room to spare.
const CLEAN_RUN_GB: f64 = 10.0;

/// Warns when the disk holding target/ has less room than a clean run needs: a linker that
/// runs out of disk dies of a bus error far from the cause (CI did, once).
fn disk_space() {
    let target = util::root().join("target");
    let dir = if target.exists() {
        target
    } else {
        util::root()
    };
    let free_gb = util::output(Command::new("df").args(["-Pk"]).arg(&dir)).and_then(|out| {
        let fields: Vec<&str> = out.lines().nth(1)?.split_whitespace().collect();
        Some(fields.get(3)?.parse::<f64>().ok()? / 1e6)
    });
    match free_gb {
        Some(gb) if gb < CLEAN_RUN_GB => say(&format!(
            "warning: {gb:.1} GB free on the disk of {}; a run from a clean clone writes about \
             {CLEAN_RUN_GB:.0} GB there (delete old target/ folders if a link fails)",
            dir.display()
        )),
        Some(gb) => say(&format!(
            "{gb:.1} GB free for the build (a clean run writes about {CLEAN_RUN_GB:.0} GB)"
        )),
        None => {}
    }
}

/// Runs a command, echoing its output and counting the tests it reports.
fn counted(cmd: &mut Command, tally: &mut Tally) -> Result<(), String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {cmd:?}: {e}"))?;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            tally.read(&line);
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed ({status})"))
    }
}

pub fn run() -> Result<(), String> {
    let mut tally = Tally::default();
    let result = all(&mut tally);
    println!("total: {} passed, {} failed", tally.passed, tally.failed);
    result
}

fn all(tally: &mut Tally) -> Result<(), String> {
    disk_space();
    say("checking formatting (cargo fmt --check)");
    util::run(util::cargo().args(["fmt", "--all", "--", "--check"]))
        .map_err(|e| format!("{e}\nrun `cargo fmt --all` and commit the result"))?;
    let peers_python = setup::peers()?;
    setup::chromium()?;
    setup::pdf_tools()?;
    site::build()?;
    crate::worker::build()?; // the probe tests run it under wrangler dev, which rebuilds it
    say("building llmscope-shim, which serves the site to the browser tests");
    util::run(util::cargo().args(["build", "-p", "gateway-shim", "--bin", "llmscope-shim"]))?;
    let shim = util::root().join("target/debug/llmscope-shim");
    say("running the workspace tests (cargo test --workspace, all features), with the browser tests (tests/e2e) and the probe Worker under wrangler dev (tests/probes)");
    counted(
        util::cargo()
            .args(["test", "--workspace", "--all-features"])
            .env("LLMSCOPE_SHIM", &shim)
            .env("LLMSCOPE_PEERS_PYTHON", &peers_python),
        tally,
    )?;
    say("running the engine's tests in release mode with its serde feature off (the plain build)");
    counted(
        util::cargo().args(["test", "-p", "llmscope-spc", "--release", "--lib"]),
        tally,
    )?;
    let package = setup::wasm_node_package()?;
    setup::node()?;
    say("running the Node.js tests of the wasm API (node --test)");
    let tests = util::root().join("spc-wasm/tests/node");
    counted(
        Command::new("node")
            .arg("--test")
            .arg("--test-reporter=tap")
            .arg(tests.join("spc.test.mjs"))
            .arg(tests.join("compare.test.mjs"))
            .arg(tests.join("explain.test.mjs"))
            .arg(tests.join("forecast.test.mjs"))
            .arg(tests.join("rules.test.mjs"))
            .env("LLMSCOPE_WASM_PKG", package.join("llmscope_spc.js")),
        tally,
    )
}
