//! `cargo xtask worker`: builds the probe Worker (`workers/`) with worker-build, pointed at the
//! project's pinned local tools: wasm-bindgen-cli matching Cargo.lock, wasm-opt from npm's
//! binaryen, and the esbuild that comes with wrangler. Left to itself worker-build downloads
//! them, which this network refuses. wrangler.toml's build command runs this task, so
//! `npx wrangler dev` and `npx wrangler deploy` build the same way.

use crate::setup;
use crate::util::{self, output, run, say};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
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

/// What the Worker is built from: its crate, the engine's and the protocol crate's, and the
/// lock file. Registry crates change only through Cargo.lock.
const SOURCES: [&str; 8] = [
    "workers/src",
    "workers/Cargo.toml",
    "spc-wasm/src",
    "spc-wasm/Cargo.toml",
    "protocol/src",
    "protocol/Cargo.toml",
    "Cargo.toml",
    "Cargo.lock",
];

/// SHA-256 over the paths and contents of [`SOURCES`], files in sorted order.
fn sources_digest() -> String {
    fn add(path: &Path, hash: &mut Sha256) {
        if let Ok(entries) = std::fs::read_dir(path) {
            let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            entries.sort();
            entries.iter().for_each(|p| add(p, hash));
        } else if let Ok(bytes) = std::fs::read(path) {
            hash.update(path.to_string_lossy().as_bytes());
            hash.update(bytes);
        }
    }
    let mut hash = Sha256::new();
    for source in SOURCES {
        add(&util::root().join(source), &mut hash);
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Builds workers/build/ (index.js and its wasm), unless it was built from these very sources:
/// every `wrangler dev` runs this, and the tests start it about twenty times.
pub fn build() -> Result<PathBuf, String> {
    let out = dir().join("build");
    let stamp = out.join(".llmscope-sources");
    let digest = sources_digest();
    let built = out.join("index.js").exists() && out.join("index_bg.wasm").exists();
    if built && std::fs::read_to_string(&stamp).ok().as_deref() == Some(digest.as_str()) {
        say("the probe Worker in workers/build/ is built from these sources already");
        return Ok(out);
    }
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
    std::fs::write(&stamp, digest).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(out)
}
