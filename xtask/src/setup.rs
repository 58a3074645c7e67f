//! Installing what the tasks need, only when the right version is missing.

use crate::util::{self, output, run, say};
use std::path::PathBuf;
use std::process::Command;

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The wasm-bindgen version pinned in Cargo.lock; the CLI must match it exactly.
fn locked_wasm_bindgen() -> Result<String, String> {
    let lock = std::fs::read_to_string(util::root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_string());
            }
        }
    }
    Err("Cargo.lock has no wasm-bindgen entry: run `cargo generate-lockfile`".into())
}

/// rustup's wasm32 target.
pub fn wasm_target() -> Result<(), String> {
    let installed =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        return Ok(());
    }
    say("installing the Rust target wasm32-unknown-unknown (rustup)");
    run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

/// wasm-bindgen-cli at the version in Cargo.lock (about 2.5 minutes to build the first time).
pub fn wasm_bindgen_cli() -> Result<PathBuf, String> {
    let version = locked_wasm_bindgen()?;
    let have = output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    if have.split_whitespace().nth(1) != Some(version.as_str()) {
        say(&format!(
            "installing wasm-bindgen-cli {version} to match Cargo.lock (cargo install, ~3 min)"
        ));
        run(Command::new("cargo").args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &format!("={version}"),
        ]))?;
    }
    Ok(PathBuf::from("wasm-bindgen"))
}

/// Node.js, for the wasm API test. Debian's package when it is missing.
pub fn node() -> Result<(), String> {
    if output(Command::new("node").arg("--version")).is_some() {
        return Ok(());
    }
    say("installing Node.js (apt-get install nodejs)");
    run(Command::new("apt-get").arg("update"))?;
    run(Command::new("apt-get").args(["install", "-y", "nodejs"]))
        .map_err(|e| format!("{e}\nNode.js is needed for the wasm API test: install it (apt-get install nodejs) and run again"))
}

/// Builds the engine's wasm-bindgen API for Node.js into target/wasm-node/.
pub fn wasm_node_package() -> Result<PathBuf, String> {
    wasm_target()?;
    let bindgen = wasm_bindgen_cli()?;
    say("building the engine for wasm32 with the wasm-bindgen API (release)");
    run(util::cargo().args([
        "build",
        "--release",
        "-p",
        "llmscope-spc",
        "--lib",
        "--features",
        "wasm",
        "--target",
        WASM_TARGET,
    ]))?;
    let root = util::root();
    let wasm = root.join("target/wasm32-unknown-unknown/release/llmscope_spc.wasm");
    let out = root.join("target/wasm-node");
    say("generating the Node.js bindings and TypeScript typings (wasm-bindgen --target nodejs)");
    run(Command::new(bindgen)
        .arg("--target")
        .arg("nodejs")
        .arg("--out-dir")
        .arg(&out)
        .arg(&wasm))?;
    Ok(out)
}
