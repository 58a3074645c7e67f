//! `cargo xtask worker`: builds the probe Worker (`workers/`) with worker-build, pointed at the
//! project's pinned local tools: wasm-bindgen-cli matching Cargo.lock, wasm-opt from npm's
//! binaryen, and the esbuild that comes with wrangler. Left to itself worker-build downloads
//! them, which this network refuses. wrangler.toml's build command runs this task, so
//! `npx wrangler dev` and `npx wrangler deploy` build the same way.

use crate::setup;
use crate::util::{self, output, run, say};
use std::path::PathBuf;
use std::process::Command;

/// The worker-build release that matches the `worker` crate in Cargo.lock.
const WORKER_BUILD: &str = "0.8.7";

/// The Worker's folder.
pub fn dir() -> PathBuf {
    util::root().join("workers")
}

/// wrangler (and with it workerd and esbuild) from workers/package-lock.json (`npm ci`).
pub fn npm_packages() -> Result<PathBuf, String> {
    let bin = dir().join("node_modules/.bin");
    if !bin.join("wrangler").exists() || !bin.join("esbuild").exists() {
        setup::npm()?;
        say("installing wrangler, workerd and esbuild into workers/node_modules (npm ci, ~1 min)");
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(dir()))?;
    }
    Ok(bin)
}

/// worker-build at [`WORKER_BUILD`] (cargo install, ~4 min the first time).
fn worker_build() -> Result<(), String> {
    let have = output(Command::new("worker-build").arg("--version")).unwrap_or_default();
    if !have.contains(WORKER_BUILD) {
        say(&format!(
            "installing worker-build {WORKER_BUILD} (cargo install --locked, ~4 min)"
        ));
        run(Command::new("cargo").args([
            "install",
            "worker-build",
            "--version",
            WORKER_BUILD,
            "--locked",
        ]))?;
    }
    Ok(())
}

/// The full path of a program on PATH (worker-build wants paths, not names).
fn which(program: &str) -> Result<PathBuf, String> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{program} is not on PATH"))
}

/// Builds workers/build/ (index.js and its wasm).
pub fn build() -> Result<PathBuf, String> {
    setup::wasm_target()?;
    let bindgen = which(&setup::wasm_bindgen_cli()?.to_string_lossy())?;
    let wasm_opt = setup::wasm_opt()?;
    let bin = npm_packages()?;
    worker_build()?;
    say(
        "building the probe Worker (worker-build --release, local wasm-bindgen, wasm-opt, esbuild)",
    );
    run(Command::new("worker-build")
        .arg("--release")
        .current_dir(dir())
        .env("WASM_BINDGEN_BIN", bindgen)
        .env("WASM_OPT_BIN", wasm_opt)
        .env("ESBUILD_BIN", bin.join("esbuild")))?;
    Ok(dir().join("build"))
}
