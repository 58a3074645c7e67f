//! Installing what the tasks need, only when the right version is missing.

use crate::util::{self, output, run, say};
use std::path::PathBuf;
use std::process::Command;

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

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
    apt(&["nodejs"], "Node.js, for the wasm API test")
}

/// npm, for the build tools pinned in tools/npm. Debian's package when it is missing (Debian's
/// `nodejs` does not bring it).
pub fn npm() -> Result<(), String> {
    node()?;
    if output(Command::new("npm").arg("--version")).is_some() {
        return Ok(());
    }
    apt(&["npm"], "npm, for wasm-opt (binaryen)")
}

/// Installs Debian packages with apt-get, saying what for; the error says how to do it by hand.
fn apt(packages: &[&str], what: &str) -> Result<(), String> {
    say(&format!(
        "installing {what}: {} (apt-get)",
        packages.join(", ")
    ));
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq"])
        .args(packages))
    .map_err(|e| {
        format!(
            "{e}
install them by hand (apt-get install {}) and run again",
            packages.join(" ")
        )
    })
}

/// Those of `(package, binary)` whose binary is not there yet.
fn missing<'a>(wanted: &[(&'a str, &str)]) -> Vec<&'a str> {
    wanted
        .iter()
        .filter(|(_, bin)| !std::path::Path::new(bin).exists())
        .map(|(p, _)| *p)
        .collect()
}

/// The binaryen version pinned in tools/npm/package.json.
fn pinned_binaryen(package_json: &str) -> Option<String> {
    let after = package_json.split("\"binaryen\"").nth(1)?;
    let version = after.split('"').nth(1)?;
    Some(version.split('.').next()?.to_string())
}

/// wasm-opt from npm's binaryen, at the version pinned in tools/npm (`npm ci` when missing).
/// Debian's binaryen (108) produces wasm that Chromium rejects, so it is never used.
pub fn wasm_opt() -> Result<PathBuf, String> {
    let tools = util::root().join("tools/npm");
    let manifest = std::fs::read_to_string(tools.join("package.json"))
        .map_err(|e| format!("cannot read tools/npm/package.json: {e}"))?;
    let major = pinned_binaryen(&manifest)
        .ok_or("tools/npm/package.json does not pin binaryen".to_string())?;
    let wasm_opt = tools.join("node_modules/.bin/wasm-opt");
    let have = output(Command::new(&wasm_opt).arg("--version")).unwrap_or_default();
    if !have.contains(&format!("version {major} ")) && !have.contains(&format!("version_{major})"))
    {
        npm()?;
        say(&format!(
            "installing wasm-opt (npm binaryen {major}) into tools/npm/node_modules (npm ci)"
        ));
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&tools))?;
    }
    Ok(wasm_opt)
}

/// Headless Chromium and its WebDriver, for the end-to-end tests (Debian's packages).
pub fn chromium() -> Result<(), String> {
    let missing = missing(&[
        ("chromium", "/usr/bin/chromium"),
        ("chromium-driver", "/usr/bin/chromedriver"),
    ]);
    if missing.is_empty() {
        return Ok(());
    }
    apt(
        &missing,
        "the browser for the end-to-end tests (about 1 min)",
    )
}

/// poppler-utils (`pdftotext`, `pdftoppm`, `pdffonts`), which the export tests read PDFs with.
pub fn pdf_tools() -> Result<(), String> {
    let missing = missing(&[("poppler-utils", "/usr/bin/pdftotext")]);
    if missing.is_empty() {
        return Ok(());
    }
    apt(&missing, "the PDF tools the report test reads PDFs with")
}

/// Builds the engine's wasm-bindgen API for Node.js into target/wasm-node/.
pub fn wasm_node_package() -> Result<PathBuf, String> {
    wasm_target()?;
    let bindgen = wasm_bindgen_cli()?;
    say("building the engine for wasm32 with the wasm-bindgen API (release)");
    run(util::cargo().args([
        "rustc",
        "--release",
        "-p",
        "llmscope-spc",
        "--lib",
        "--crate-type",
        "cdylib",
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

/// Python packages of the real peers the shim is tested against, pinned (their APIs move).
const PEER_PACKAGES: [&str; 3] = ["pymodbus==3.16.1", "pyserial==3.5", "asyncua==2.1.0"];

/// Debian packages of the real peers: an MQTT broker, its clients, virtual serial ports, and
/// curl (the HTTP client the site-serving test reads raw, still-compressed bodies with).
const PEER_DEBS: [(&str, &str); 4] = [
    ("mosquitto", "/usr/sbin/mosquitto"),
    ("mosquitto-clients", "/usr/bin/mosquitto_pub"),
    ("socat", "/usr/bin/socat"),
    ("curl", "/usr/bin/curl"),
];

/// Installs the shim's test peers when missing and returns the Python of their virtual
/// environment (target/peers/venv).
pub fn peers() -> Result<PathBuf, String> {
    let missing = missing(&PEER_DEBS);
    if !missing.is_empty() {
        apt(&missing, "the shim's test peers")?;
    }
    let venv = util::root().join("target/peers/venv");
    let python = venv.join("bin/python");
    let stamp = venv.join("llmscope-peers.txt");
    let wanted = PEER_PACKAGES.join("\n");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(python);
    }
    say("creating the Python environment of the test peers (target/peers/venv)");
    if run(Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv))
    .is_err()
    {
        apt(
            &["python3-venv"],
            "Python's venv module (python3 cannot make a venv)",
        )?;
        run(Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv))?;
    }
    say(&format!("installing {} (pip)", PEER_PACKAGES.join(", ")));
    run(Command::new(&python)
        .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
        .args(PEER_PACKAGES))?;
    std::fs::write(&stamp, wanted).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(python)
}
