//! `cargo xtask site`: builds the dashboard into the deployable site in `static/`.
//!
//! The plain chain, no bundler: `cargo build` of `llmscope-app` for wasm32 with the `site`
//! profile (opt-level z, LTO, one codegen unit, abort on panic), `wasm-bindgen --target web`
//! into `static/pkg/` (git-ignored, emptied each build), then `wasm-opt -Oz` from npm's
//! binaryen (Debian's breaks the output).
//!
//! Then every asset that changes with a build gets its content's hash in its name, so a server
//! may cache it for good (the shim sends `immutable` for such names, see
//! `gateway-shim/src/site.rs`): `pkg/llmscope_bg-<hash>.wasm`, `pkg/llmscope-<hash>.js` (its
//! reference to the wasm rewritten first, so its hash covers the wasm's) and
//! `pkg/app-<hash>.css`, a copy of the hand-written `static/app.css` (a `url()` in it resolves
//! against `pkg/`). `static/index.html`, the page every visit revalidates, is written from the
//! tracked `static/index.template.html` with those names; it is git-ignored, so a build leaves
//! the tree clean. `favicon.svg` and `fonts/` keep their names (fetched rarely, revalidated by
//! ETag). The task ends with the gzipped size of what a browser downloads, and fails above the
//! budget.

use crate::setup;
use crate::util::{self, run, say};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The most the wasm and its JavaScript glue may weigh, gzipped, in bytes. Issue 3 set 600 KB;
/// the Compare view (issue 12) took the site to 642 KB, and 650 KB holds it until the view
/// (and the PDF writer) load on demand as a second module (docs/benchmarks.md, "The Compare
/// view in the site"). Raise it only with such a reason.
pub const BUDGET: u64 = 650 * 1024;

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

    say("naming the assets by their content hash, and writing static/index.html");
    let assets = fingerprint(&site)?;
    let (wasm_gz, js_gz) = (
        gzipped(&pkg.join(&assets.wasm))?,
        gzipped(&pkg.join(&assets.js))?,
    );
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

/// The hashed names of the built assets, in `static/pkg/`.
struct Assets {
    wasm: String,
    js: String,
}

/// Renames wasm-bindgen's output in `site/pkg` to hashed names, copies `app.css` there under
/// its hashed name, and writes `index.html` from `index.template.html` with those names.
fn fingerprint(site: &Path) -> Result<Assets, String> {
    let pkg = site.join("pkg");
    let wasm = hashed_name("llmscope_bg", "wasm", &read(&pkg.join("llmscope_bg.wasm"))?);
    rename(&pkg.join("llmscope_bg.wasm"), &pkg.join(&wasm))?;

    // wasm-bindgen's default for `init()`: `new URL('llmscope_bg.wasm', import.meta.url)`.
    let glue = String::from_utf8(read(&pkg.join("llmscope.js"))?)
        .map_err(|_| "static/pkg/llmscope.js is not UTF-8 text".to_string())?;
    let glue = replace_once(
        &glue,
        "'llmscope_bg.wasm'",
        &format!("'{wasm}'"),
        "static/pkg/llmscope.js",
    )?;
    let js = hashed_name("llmscope", "js", glue.as_bytes());
    write(&pkg.join(&js), glue.as_bytes())?;
    remove(&pkg.join("llmscope.js"))?;

    let css_body = read(&site.join("app.css"))?;
    let css = hashed_name("app", "css", &css_body);
    write(&pkg.join(&css), &css_body)?;

    let template = site.join("index.template.html");
    let page = String::from_utf8(read(&template)?)
        .map_err(|_| format!("{} is not UTF-8 text", template.display()))?;
    write(
        &site.join("index.html"),
        page_with(&page, &js, &css)?.as_bytes(),
    )?;
    Ok(Assets { wasm, js })
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

/// The page `template` with its script and stylesheet references pointing at the hashed
/// `js` and `css` in `pkg/`.
fn page_with(template: &str, js: &str, css: &str) -> Result<String, String> {
    let what = "static/index.template.html";
    let page = replace_once(
        template,
        "\"./pkg/llmscope.js\"",
        &format!("\"./pkg/{js}\""),
        what,
    )?;
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
        let page = page_with(&template, "llmscope-0123456789.js", "app-abcdef0123.css")
            .expect("the template names ./pkg/llmscope.js and ./app.css once each");
        assert!(page.contains(r#"import init from "./pkg/llmscope-0123456789.js";"#));
        assert!(page.contains(r#"<link rel="stylesheet" href="./pkg/app-abcdef0123.css">"#));
        assert!(!page.contains(r#""./pkg/llmscope.js""#) && !page.contains(r#""./app.css""#));
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
