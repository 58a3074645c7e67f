//! `cargo xtask site`: builds the dashboard into the deployable site in `static/`.
//!
//! The plain chain, no bundler: `cargo build` of `llmscope-app` for wasm32 with the `site`
//! profile (opt-level z, LTO, one codegen unit, abort on panic), `wasm-bindgen --target web`
//! into `static/pkg/` (git-ignored), then `wasm-opt -Oz` from npm's binaryen (Debian's breaks
//! the output). The hand-written `static/index.html`, `app.css` and `favicon.svg` load it. The
//! task ends with the gzipped size of what a browser downloads, and fails above the budget.

use crate::setup;
use crate::util::{self, run, say};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The most the wasm and its JavaScript glue may weigh, gzipped, in bytes.
pub const BUDGET: u64 = 600 * 1024;

/// The wasm features rustc enables by default for wasm32-unknown-unknown (1.82 and later);
/// wasm-opt must accept them all, and may use no others (Chromium runs every one of these).
const WASM_FEATURES: [&str; 8] = [
    "--enable-bulk-memory",
    "--enable-bulk-memory-opt",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
    "--enable-call-indirect-overlong",
];

/// Builds the site and returns its folder (`static/`).
pub fn build() -> Result<PathBuf, String> {
    setup::wasm_target()?;
    let bindgen = setup::wasm_bindgen_cli()?;
    let wasm_opt = setup::wasm_opt()?;
    let root = util::root();
    let site = root.join("static");
    let pkg = site.join("pkg");

    say("building the dashboard for wasm32 (cargo build -p llmscope-app, profile `site`)");
    run(util::cargo().args([
        "build",
        "-p",
        "llmscope-app",
        "--lib",
        "--target",
        setup::WASM_TARGET,
        "--profile",
        "site",
    ]))?;
    let wasm = root.join("target/wasm32-unknown-unknown/site/llmscope_app.wasm");

    say("generating the browser bindings into static/pkg (wasm-bindgen --target web)");
    if pkg.exists() {
        std::fs::remove_dir_all(&pkg).map_err(|e| format!("{}: {e}", pkg.display()))?;
    }
    run(Command::new(bindgen)
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--remove-name-section",
            "--remove-producers-section",
            "--out-name",
            "llmscope",
            "--out-dir",
        ])
        .arg(&pkg)
        .arg(&wasm))?;

    say("shrinking the wasm (wasm-opt -Oz, npm binaryen)");
    let bg = pkg.join("llmscope_bg.wasm");
    let optimized = pkg.join("llmscope_bg.opt.wasm");
    run(Command::new(&wasm_opt)
        .arg("-Oz")
        .args(WASM_FEATURES)
        .arg(&bg)
        .arg("-o")
        .arg(&optimized))?;
    std::fs::rename(&optimized, &bg).map_err(|e| format!("{}: {e}", bg.display()))?;

    let js = pkg.join("llmscope.js");
    let (wasm_gz, js_gz) = (gzipped(&bg)?, gzipped(&js)?);
    let total = wasm_gz + js_gz;
    say(&format!(
        "site built in static/: wasm {} + JS {} = {} gzipped (budget {})",
        kb(wasm_gz),
        kb(js_gz),
        kb(total),
        kb(BUDGET)
    ));
    if total > BUDGET {
        return Err(format!(
            "the site's wasm and JS weigh {} gzipped, over the budget of {}: find the dependency \
             that grew it (cargo tree -p llmscope-app), or raise BUDGET in xtask/src/site.rs \
             deliberately",
            kb(total),
            kb(BUDGET)
        ));
    }
    Ok(site)
}

/// The size of a file after `gzip -9`, as a server that compresses would send it.
fn gzipped(file: &Path) -> Result<u64, String> {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(file)
        .output()
        .map_err(|e| format!("cannot run gzip: {e}"))?;
    if !out.status.success() {
        return Err(format!("gzip {} failed ({})", file.display(), out.status));
    }
    Ok(out.stdout.len() as u64)
}

fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1024.0)
}
