//! The site as a browser gets it from the running shim (`simulate --site`): curl, a real HTTP
//! client, asks for each encoding; the headers say what was sent and how to cache it, and the
//! decoded body is the file.

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::{free_port, wait_for_port, Peer};

/// A folder with an `index.html`, a hashed stylesheet and a font (which does not compress).
fn site() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("llmscope-site-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    let page: String = (0..200)
        .map(|i| format!("<p>LLMscope line {i}: control charts for every stream</p>\n"))
        .collect();
    std::fs::write(
        dir.join("index.html"),
        format!("<title>LLMscope</title>\n{page}"),
    )
    .unwrap();
    let css = "body { font: 14px sans-serif; color: #222 }\n".repeat(100);
    std::fs::write(dir.join("pkg/app.0123abcd89.css"), css).unwrap();
    let font: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(dir.join("font.woff2"), font).unwrap();
    dir
}

struct Got {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body with its Content-Encoding undone.
    fn decoded(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self.header("content-encoding") {
            Some("br") => brotli::Decompressor::new(&self.body[..], 4096)
                .read_to_end(&mut out)
                .expect("valid brotli"),
            Some("gzip") => flate2::read::GzDecoder::new(&self.body[..])
                .read_to_end(&mut out)
                .expect("valid gzip"),
            None => return self.body.clone(),
            Some(other) => panic!("unexpected encoding {other}"),
        };
        out
    }
}

/// `curl` GET with `headers`, the body kept as sent (no decoding by curl).
fn curl(url: &str, headers: &[&str]) -> Got {
    let dir = std::env::temp_dir();
    let (head, body) = (
        dir.join(format!("llmscope-curl-h-{}", std::process::id())),
        dir.join(format!("llmscope-curl-b-{}", std::process::id())),
    );
    // curl writes no file for an empty body: no earlier body may stand in for it.
    let _ = std::fs::remove_file(&body);
    let mut cmd = Command::new("curl");
    cmd.args(["--silent", "--show-error", "--dump-header"])
        .arg(&head)
        .arg("--output")
        .arg(&body);
    for h in headers {
        cmd.args(["--header", h]);
    }
    let status = cmd
        .arg(url)
        .status()
        .expect("curl runs (apt-get install curl)");
    assert!(status.success(), "curl {url}: {status}");
    let head = std::fs::read_to_string(head).unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Got {
        status,
        headers,
        body: std::fs::read(body).unwrap_or_default(),
    }
}

#[tokio::test]
async fn the_site_is_sent_compressed_with_cache_headers() {
    let dir = site();
    let port = free_port();
    let _shim = Peer::start(Command::new(env!("CARGO_BIN_EXE_llmscope-shim")).args([
        "simulate",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--site",
        dir.to_str().unwrap(),
    ]));
    wait_for_port(port, Duration::from_secs(20)).await;
    let base = format!("http://127.0.0.1:{port}");
    let file = |p: &str| std::fs::read(Path::new(&dir).join(p)).unwrap();

    let index = file("index.html");
    let mut etags = Vec::new();
    for (accept, encoding) in [
        ("Accept-Encoding: gzip, deflate, br", Some("br")),
        ("Accept-Encoding: gzip", Some("gzip")),
        ("Accept-Encoding: br;q=0, gzip;q=0", None),
        ("Accept-Encoding: identity", None),
    ] {
        let got = curl(&format!("{base}/"), &[accept]);
        assert_eq!(got.status, 200, "{accept}");
        assert_eq!(got.header("content-encoding"), encoding, "{accept}");
        assert_eq!(got.header("cache-control"), Some("no-cache"), "{accept}");
        assert_eq!(got.header("vary"), Some("Accept-Encoding"));
        assert_eq!(got.header("content-type"), Some("text/html; charset=utf-8"));
        if encoding.is_some() {
            assert!(
                got.body.len() < index.len() / 4,
                "{accept}: {} bytes",
                got.body.len()
            );
        }
        assert_eq!(
            got.decoded(),
            index,
            "{accept}: the decoded body is the file"
        );
        etags.push(got.header("etag").expect("an ETag").to_string());
    }
    assert_eq!(etags[2], etags[3], "one ETag per representation");
    assert!(etags[0] != etags[1] && etags[1] != etags[2], "{etags:?}");

    // Revalidation: the same representation is not sent again.
    let again = curl(
        &format!("{base}/index.html"),
        &[
            "Accept-Encoding: br",
            &format!("If-None-Match: {}", etags[0]),
        ],
    );
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    let changed = curl(
        &format!("{base}/index.html"),
        &["Accept-Encoding: br", "If-None-Match: \"stale\""],
    );
    assert_eq!(changed.status, 200);

    let css = curl(
        &format!("{base}/pkg/app.0123abcd89.css"),
        &["Accept-Encoding: br, gzip"],
    );
    assert_eq!(css.status, 200);
    assert_eq!(
        css.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(css.header("content-encoding"), Some("br"));
    assert_eq!(css.decoded(), file("pkg/app.0123abcd89.css"));

    let font = curl(
        &format!("{base}/font.woff2"),
        &["Accept-Encoding: br, gzip"],
    );
    assert_eq!(
        font.header("content-encoding"),
        None,
        "woff2 is compressed already"
    );
    assert_eq!(font.body, file("font.woff2"));
    assert_eq!(curl(&format!("{base}/../Cargo.toml"), &[]).status, 404);
    assert_eq!(curl(&format!("{base}/missing.js"), &[]).status, 404);
    let _ = std::fs::remove_dir_all(dir);
}

/// A site folder that was never built (no index.html: `cargo xtask site` writes it) is refused
/// at start, with the command that builds it.
#[test]
fn an_unbuilt_site_is_refused_with_the_way_to_build_it() {
    let dir = std::env::temp_dir().join(format!("llmscope-unbuilt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let plant = "127.0.0.1:5020".parse().unwrap();
    let config = llmscope_shim::simulate::config(plant, "127.0.0.1:9750", None, dir.to_str(), 250);
    let e = llmscope_shim::config::check(&config, "simulate", None)
        .expect_err("a site without index.html")
        .to_string();
    assert!(
        e.contains("site: ") && e.contains("has no index.html") && e.contains("cargo xtask site"),
        "{e}"
    );
    let _ = std::fs::remove_dir(dir);
}
