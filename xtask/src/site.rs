//! `cargo xtask site`: builds the dashboard into the deployable site in `static/`.
//!
//! Two wasm modules: the dashboard (`llmscope-app`, every visit downloads it) and the second
//! module (`llmscope-app-lazy`, `app/lazy/`: the PDF report's writer and the Compare view's
//! computation), which the page imports on first use (the comparison in a Web Worker). Each goes through the plain chain, no bundler: `cargo build` for wasm32 with
//! the `site` profile (opt-level z, LTO, one codegen unit, abort on panic),
//! `wasm-bindgen --target web` into `static/pkg/` (git-ignored, emptied each build), then
//! `wasm-opt -Oz` (with [`WASM_OPT`]'s flags) from npm's binaryen (Debian's breaks the output).
//!
//! Then every asset that changes with a build gets its content's hash in its name, so a server
//! may cache it for good (the shim sends `immutable` for such names, see
//! `gateway-shim/src/site.rs`): `pkg/llmscope_bg-<hash>.wasm`, `pkg/llmscope-<hash>.js` (its
//! reference to the wasm rewritten first, so its hash covers the wasm's), the same for
//! `llmscope_lazy`, and `pkg/app-<hash>.css`, a copy of the hand-written `static/app.css` (a
//! `url()` in it resolves against `pkg/`). `static/index.html`, the page every visit
//! revalidates, is written from the tracked `static/index.template.html` with those names (the
//! second module's in its loader, `window.llmscopeLazy`); it is git-ignored, so a build leaves
//! the tree clean. `favicon.svg` and `fonts/` keep their names (fetched rarely, revalidated by
//! ETag). The task ends with the gzipped size of what a browser downloads on every visit (the
//! dashboard's wasm and JS), and fails above the budget; the second module's size is shown
//! too.
//!
//! A third module, `llmscope-app-fleet` (`app/fleet/`: the "MQTT broker" source), runs only in
//! a dedicated Web Worker: its script `app/fleet/worker.js` is copied to
//! `pkg/fleet-worker-<hash>.js` with its import rewritten to the module's hashed JS, and its
//! gzipped size (wasm, glue and worker script) is shown as well. It is built for speed
//! (opt-level 3 for the crate and its LTO link, `wasm-opt -O3`), not size.

use crate::setup;
use crate::util::{self, run, say};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The most the dashboard's wasm and its JavaScript glue (what every visit downloads) may
/// weigh, gzipped, in bytes: issue 3's 600 KB. The Compare view (issue 12) took the site to
/// 648 KB until the PDF writer and the comparison's computation moved to the second module,
/// loaded on first use (559 KB; docs/benchmarks.md, "The Compare view in the site"). Raise it
/// only with such a reason.
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

/// How wasm-opt shrinks each module built for size, beyond `-Oz`:
/// - `--low-memory-unused`: rustc's wasm32 layout puts the 1 MiB stack first, growing down to
///   address 0, and the data after it, so the lowest 1 KiB is touched only by a stack within
///   1 KiB of overflowing; wasm-opt may then fold constant offsets into loads and stores
///   (3.0 KB gzipped off the main module);
/// - `--converge`: repeat the passes until the module stops shrinking (2.0 KB more; about 30 s
///   per module).
const WASM_OPT: [&str; 3] = ["--low-memory-unused", "-Oz", "--converge"];

/// Builds the site and returns its folder (`static/`).
pub fn build() -> Result<PathBuf, String> {
    setup::wasm_target()?;
    let bindgen = setup::wasm_bindgen_cli()?;
    let wasm_opt = setup::wasm_opt()?;
    let root = util::root();
    let site = root.join("static");
    let pkg = site.join("pkg");

    if pkg.exists() {
        std::fs::remove_dir_all(&pkg).map_err(|e| format!("{}: {e}", pkg.display()))?;
    }
    for module in [MAIN, LAZY, FLEET] {
        say(&format!(
            "building {} for wasm32 (cargo build -p {}, profile `site`), its browser bindings \
             (wasm-bindgen --target web) and optimizing it (wasm-opt {}, npm binaryen)",
            module.what,
            module.package,
            if module.speed {
                "-O3".to_string()
            } else {
                WASM_OPT.join(" ")
            }
        ));
        let mut build = util::cargo();
        build.args([
            "build",
            "-p",
            module.package,
            "--lib",
            "--target",
            setup::WASM_TARGET,
            "--profile",
            "site",
        ]);
        if module.speed {
            // The crate's own opt-level, which its LTO link (every dependency) runs at; the
            // dependencies' objects shared with the other modules stay as they are.
            build.arg("--config").arg(format!(
                "profile.site.package.{}.opt-level=3",
                module.package
            ));
        }
        run(&mut build)?;
        let wasm = root.join(format!(
            "target/wasm32-unknown-unknown/site/{}.wasm",
            module.package.replace('-', "_")
        ));
        run(Command::new(&bindgen)
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--remove-name-section",
                "--remove-producers-section",
                "--out-name",
                module.name,
                "--out-dir",
            ])
            .arg(&pkg)
            .arg(&wasm))?;
        let bg = pkg.join(format!("{}_bg.wasm", module.name));
        let optimized = pkg.join(format!("{}_bg.opt.wasm", module.name));
        run(Command::new(&wasm_opt)
            .args(if module.speed {
                &["-O3"][..]
            } else {
                &WASM_OPT[..]
            })
            .args(WASM_FEATURES)
            .arg(&bg)
            .arg("-o")
            .arg(&optimized))?;
        std::fs::rename(&optimized, &bg).map_err(|e| format!("{}: {e}", bg.display()))?;
    }

    say("naming the assets by their content hash, and writing static/index.html");
    let assets = fingerprint(&site)?;
    let (wasm_gz, js_gz) = (
        gzipped(&pkg.join(&assets.main.wasm))?,
        gzipped(&pkg.join(&assets.main.js))?,
    );
    let total = wasm_gz + js_gz;
    let lazy_gz = gzipped(&pkg.join(&assets.lazy.wasm))? + gzipped(&pkg.join(&assets.lazy.js))?;
    let fleet_gz = gzipped(&pkg.join(&assets.fleet.wasm))?
        + gzipped(&pkg.join(&assets.fleet.js))?
        + gzipped(&pkg.join(&assets.fleet_worker))?;
    say(&format!(
        "site built in static/: wasm {} + JS {} = {} gzipped (budget {}); the second module, \
         loaded on first use: {} gzipped; the broker source's worker ({}): {} gzipped",
        kb(wasm_gz),
        kb(js_gz),
        kb(total),
        kb(BUDGET),
        kb(lazy_gz),
        assets.fleet_worker,
        kb(fleet_gz)
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

/// One wasm module of the site.
struct Module {
    /// Its package.
    package: &'static str,
    /// wasm-bindgen's `--out-name`: `<name>.js` and `<name>_bg.wasm` in `static/pkg/`.
    name: &'static str,
    /// What it is, for the build's messages.
    what: &'static str,
    /// Built for speed (opt-level 3, `wasm-opt -O3`) rather than size: the broker source's
    /// worker decodes and charts 20,000 messages a second and is not in the size budget
    /// (docs/benchmarks.md, "Publish → chart through the dashboard").
    speed: bool,
}

/// The dashboard: every visit downloads it.
const MAIN: Module = Module {
    package: "llmscope-app",
    name: "llmscope",
    what: "the dashboard",
    speed: false,
};

/// The second module, imported on first use (`app/lazy/`).
const LAZY: Module = Module {
    package: "llmscope-app-lazy",
    name: "llmscope_lazy",
    what: "the second module (the PDF report's writer, the Compare view's computation)",
    speed: false,
};

/// The third module, run only in the broker source's Web Worker (`app/fleet/`).
const FLEET: Module = Module {
    package: "llmscope-app-fleet",
    name: "llmscope_fleet",
    what: "the third module (the MQTT broker source, run in a Web Worker)",
    speed: true,
};

/// The hashed names of one module's files, in `static/pkg/`.
struct Hashed {
    wasm: String,
    js: String,
}

/// The hashed names of the built modules.
struct Assets {
    main: Hashed,
    lazy: Hashed,
    fleet: Hashed,
    /// `fleet-worker-<hash>.js`, the worker script that imports `fleet`.
    fleet_worker: String,
}

/// Renames wasm-bindgen's output in `site/pkg` to hashed names, copies `app.css` there under
/// its hashed name, and writes `index.html` from `index.template.html` with those names.
fn fingerprint(site: &Path) -> Result<Assets, String> {
    let pkg = site.join("pkg");
    let main = hash_module(&pkg, MAIN.name)?;
    let lazy = hash_module(&pkg, LAZY.name)?;
    let fleet = hash_module(&pkg, FLEET.name)?;
    let fleet_worker = fleet_worker(&pkg, &fleet.js)?;

    let css_body = read(&site.join("app.css"))?;
    let css = hashed_name("app", "css", &css_body);
    write(&pkg.join(&css), &css_body)?;

    let template = site.join("index.template.html");
    let page = String::from_utf8(read(&template)?)
        .map_err(|_| format!("{} is not UTF-8 text", template.display()))?;
    write(
        &site.join("index.html"),
        page_with(&page, &main.js, &lazy.js, &fleet_worker, &css)?.as_bytes(),
    )?;
    Ok(Assets {
        main,
        lazy,
        fleet,
        fleet_worker,
    })
}

/// Copies `app/fleet/worker.js` to `pkg/fleet-worker-<hash>.js`, its import of
/// `./llmscope_fleet.js` pointing at the module's hashed glue `js`.
fn fleet_worker(pkg: &Path, js: &str) -> Result<String, String> {
    let path = util::root().join("app/fleet/worker.js");
    let script = String::from_utf8(read(&path)?)
        .map_err(|_| format!("{} is not UTF-8 text", path.display()))?;
    let what = "app/fleet/worker.js";
    let script = replace_once(
        &script,
        "\"./llmscope_fleet.js\"",
        &format!("\"./{js}\""),
        what,
    )?;
    let name = hashed_name("fleet-worker", "js", script.as_bytes());
    write(&pkg.join(&name), script.as_bytes())?;
    Ok(name)
}

/// Gives module `name`'s wasm and JS in `pkg` their hashed names, the JS's reference to the
/// wasm rewritten first.
fn hash_module(pkg: &Path, name: &str) -> Result<Hashed, String> {
    let bg = format!("{name}_bg.wasm");
    let wasm = hashed_name(&format!("{name}_bg"), "wasm", &read(&pkg.join(&bg))?);
    rename(&pkg.join(&bg), &pkg.join(&wasm))?;

    // wasm-bindgen's default for `init()`: `new URL('<name>_bg.wasm', import.meta.url)`.
    let what = format!("static/pkg/{name}.js");
    let glue = String::from_utf8(read(&pkg.join(format!("{name}.js")))?)
        .map_err(|_| format!("{what} is not UTF-8 text"))?;
    let glue = replace_once(&glue, &format!("'{bg}'"), &format!("'{wasm}'"), &what)?;
    let js = hashed_name(name, "js", glue.as_bytes());
    write(&pkg.join(&js), glue.as_bytes())?;
    remove(&pkg.join(format!("{name}.js")))?;
    Ok(Hashed { wasm, js })
}

/// `stem-<hash>.ext`: the first 10 hex digits (40 bits) of the content's SHA-256. The shim takes
/// 8 or more hex digits after the last `-` or `.` of the stem as a content hash.
fn hashed_name(stem: &str, extension: &str, body: &[u8]) -> String {
    let hash: String = Sha256::digest(body)[..5]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{stem}-{hash}.{extension}")
}

/// The page `template` with its script, second module and stylesheet references pointing at
/// the hashed `js`, `lazy` and `css` in `pkg/`.
fn page_with(
    template: &str,
    js: &str,
    lazy: &str,
    fleet_worker: &str,
    css: &str,
) -> Result<String, String> {
    let what = "static/index.template.html";
    let mut page = template.to_string();
    for (from, to) in [
        ("llmscope.js", js),
        ("llmscope_lazy.js", lazy),
        ("fleet-worker.js", fleet_worker),
    ] {
        let from = format!("\"./pkg/{from}\"");
        page = replace_once(&page, &from, &format!("\"./pkg/{to}\""), what)?;
    }
    replace_once(&page, "\"./app.css\"", &format!("\"./pkg/{css}\""), what)
}

/// `text` with its one `from` replaced by `to`; an error naming `what` when `from` occurs
/// other than once, since the build would then ship a page or script that loads stale names.
fn replace_once(text: &str, from: &str, to: &str, what: &str) -> Result<String, String> {
    match text.matches(from).count() {
        1 => Ok(text.replacen(from, to, 1)),
        n => Err(format!(
            "{what}: expected {from} exactly once, found it {n} times: the build rewrites that \
             reference to the asset's hashed name, so keep it written just so (once)"
        )),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn write(path: &Path, body: &[u8]) -> Result<(), String> {
    std::fs::write(path, body).map_err(|e| format!("{}: {e}", path.display()))
}

fn rename(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::rename(from, to).map_err(|e| format!("{} -> {}: {e}", from.display(), to.display()))
}

fn remove(path: &Path) -> Result<(), String> {
    std::fs::remove_file(path).map_err(|e| format!("{}: {e}", path.display()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_carry_ten_hex_digits_of_the_content() {
        let a = hashed_name("llmscope_bg", "wasm", b"\0asm one");
        let b = hashed_name("llmscope_bg", "wasm", b"\0asm two");
        assert_ne!(a, b, "different contents, one name");
        assert_eq!(a, hashed_name("llmscope_bg", "wasm", b"\0asm one"));
        // The shim's rule (gateway-shim/src/site.rs `is_hashed`): 8 or more hex digits after the
        // stem's last `-` or `.`.
        let hash = a
            .strip_prefix("llmscope_bg-")
            .and_then(|rest| rest.strip_suffix(".wasm"))
            .unwrap_or_else(|| panic!("{a} is not llmscope_bg-<hash>.wasm"));
        assert_eq!(hash.len(), 10, "{a}");
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{a}");
        // SHA-256 of the empty string begins e3b0c44298.
        assert_eq!(hashed_name("app", "css", b""), "app-e3b0c44298.css");
    }

    #[test]
    fn the_page_is_written_from_the_tracked_template_with_hashed_names() {
        let path = util::root().join("static/index.template.html");
        let template = std::fs::read_to_string(&path).expect("static/index.template.html");
        let page = page_with(
            &template,
            "llmscope-0123456789.js",
            "llmscope_lazy-9876543210.js",
            "fleet-worker-5555555555.js",
            "app-abcdef0123.css",
        )
        .expect(
            "the template names ./pkg/llmscope.js, ./pkg/llmscope_lazy.js, \
             ./pkg/fleet-worker.js and ./app.css once each",
        );
        assert!(page.contains(r#"import init from "./pkg/llmscope-0123456789.js";"#));
        assert!(page.contains(r#"new URL("./pkg/llmscope_lazy-9876543210.js", import.meta.url)"#));
        assert!(page.contains(r#"<link rel="stylesheet" href="./pkg/app-abcdef0123.css">"#));
        assert!(!page.contains(r#""./pkg/llmscope.js""#) && !page.contains(r#""./app.css""#));
        assert!(!page.contains(r#""./pkg/llmscope_lazy.js""#));
        assert!(page.contains(r#"new URL("./pkg/fleet-worker-5555555555.js", import.meta.url)"#));
        assert!(!page.contains(r#""./pkg/fleet-worker.js""#));
    }

    #[test]
    fn the_fleet_worker_imports_the_hashed_module() {
        let pkg =
            std::env::temp_dir().join(format!("llmscope-fleet-worker-{}", std::process::id()));
        std::fs::create_dir_all(&pkg).expect("a temporary folder");
        let name = fleet_worker(&pkg, "llmscope_fleet-0123456789.js")
            .expect("app/fleet/worker.js imports ./llmscope_fleet.js once");
        let script = std::fs::read_to_string(pkg.join(&name)).expect("the worker script");
        let _ = std::fs::remove_dir_all(&pkg);
        assert!(
            name.starts_with("fleet-worker-") && name.ends_with(".js"),
            "{name}"
        );
        assert!(
            script.contains(r#"from "./llmscope_fleet-0123456789.js";"#),
            "{script}"
        );
        assert!(!script.contains(r#""./llmscope_fleet.js""#));
    }

    #[test]
    fn a_reference_not_found_exactly_once_is_an_error_that_names_the_file() {
        let twice = replace_once("'a.wasm' 'a.wasm'", "'a.wasm'", "'b'", "pkg/x.js");
        let err = twice.expect_err("two references");
        assert!(
            err.starts_with("pkg/x.js: ") && err.contains("2 times"),
            "{err}"
        );
        let none = replace_once("nothing", "'a.wasm'", "'b'", "pkg/x.js");
        assert!(none.expect_err("no reference").contains("0 times"));
        assert_eq!(
            replace_once("x 'a.wasm'", "'a.wasm'", "'b'", "f"),
            Ok("x 'b'".into())
        );
    }
}
