//! The comparison in the browser (`cargo xtask bench`, issue 12's performance target): the
//! engine's wasm compares 20 targets × 100,000 results in headless Chromium, all 190 pairs and
//! the 19 against the first, best of 5 each. `LLMSCOPE_BENCH_DIR` holds what xtask prepared:
//! `compare_bench.html`, `pkg/` (wasm-bindgen --target web) and `streams.bin`
//! (spc-wasm/examples/compare_speed.rs, which times the same comparison natively). The folder
//! is served by a few lines of HTTP here, so the page needs no shim. `LLMSCOPE_BENCH_PAGE` names
//! another page of that folder to run instead (the explain bench's); a page whose `runBench`
//! returns `{ lines }` has them printed as they are. Then the Compare view's Worker code, the
//! second module's `compare` (`view_bench.html`, `lazy/`, `request.bin` and
//! `request_all.bin` from app/lazy/examples/compare_view.rs): the table, then the report.

use llmscope_e2e::{free_port, Driver};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

const RUNS: u32 = 5;

/// Serves the files of `dir` (GET only) on 127.0.0.1:`port`, one thread per connection.
fn serve(dir: PathBuf, port: u16) {
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the bench's port");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let dir = dir.clone();
            std::thread::spawn(move || {
                let mut request = String::new();
                let mut reader = BufReader::new(&stream);
                if reader.read_line(&mut request).is_err() {
                    return;
                }
                let path = request.split_whitespace().nth(1).unwrap_or("/");
                let file = dir.join(path.trim_start_matches('/'));
                let (status, body) = match std::fs::read(&file) {
                    Ok(body) if !path.contains("..") => ("200 OK", body),
                    _ => ("404 Not Found", Vec::new()),
                };
                let header = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    content_type(&file),
                    body.len()
                );
                let mut out = &stream;
                let _ = out.write_all(header.as_bytes());
                let _ = out.write_all(&body);
            });
        }
    });
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        _ => "application/octet-stream",
    }
}

/// Opens the bench page at `url` and waits (up to 10 s) for its `benchReady`.
async fn open(client: &fantoccini::Client, url: &str) {
    client.goto(url).await.expect("open the bench page");
    for _ in 0..200 {
        let ready = client
            .execute("return window.benchReady === true", vec![])
            .await;
        if ready.ok().and_then(|v| v.as_bool()) == Some(true) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::main]
async fn main() {
    let dir = PathBuf::from(
        std::env::var_os("LLMSCOPE_BENCH_DIR")
            .expect("LLMSCOPE_BENCH_DIR: run this through `cargo xtask bench`"),
    );
    let port = free_port();
    serve(dir, port);
    let driver = Driver::start();
    let client = driver.browser().await;
    client
        .update_timeouts(fantoccini::wd::TimeoutConfiguration::new(
            Some(Duration::from_secs(300)),
            Some(Duration::from_secs(60)),
            Some(Duration::from_secs(0)),
        ))
        .await
        .expect("set the script timeout");
    // The explain bench (`cargo xtask bench`) runs its own page through the same machinery.
    let page = std::env::var("LLMSCOPE_BENCH_PAGE").unwrap_or_else(|_| "compare_bench.html".into());
    open(&client, &format!("http://127.0.0.1:{port}/{page}")).await;
    let script = "const done = arguments[arguments.length - 1];
        window.runBench(20, 100000, arguments[0]).then(done, (e) => done({ error: String(e) }));";
    let result = client
        .execute_async(script, vec![RUNS.into()])
        .await
        .expect("run the comparison in the page");
    if let Some(e) = result.get("error") {
        panic!("the comparison failed in the browser: {e}");
    }
    if let Some(lines) = result.get("lines").and_then(|l| l.as_array()) {
        lines
            .iter()
            .for_each(|l| println!("{}", l.as_str().unwrap_or_default()));
        let _ = client.close().await;
        return;
    }
    for (key, label) in [("all", "190 pairs"), ("reference", "19 pairs")] {
        let ms = result[key]["ms"].as_f64().expect("a time");
        let pairs = result[key]["pairs"].as_u64().expect("a pair count");
        println!("browser {label}: {ms:.1} ms ({pairs} pairs, best of {RUNS})");
    }
    // The Compare view's Worker code (the second module): the table, then the report.
    open(&client, &format!("http://127.0.0.1:{port}/view_bench.html")).await;
    let script = "const done = arguments[arguments.length - 1];
        window.runViewBench(arguments[0]).then(done, (e) => done({ error: String(e) }));";
    let result = client
        .execute_async(script, vec![3.into()])
        .await
        .expect("run the view's comparison in the page");
    if let Some(e) = result.get("error") {
        panic!("the view's comparison failed in the browser: {e}");
    }
    for (key, label) in [("reference", "19 pairs"), ("all", "190 pairs")] {
        let table = result[key]["table"].as_f64().expect("a time");
        let report = result[key]["report"].as_f64().expect("a time");
        println!("browser view {label}: table {table:.1} ms, report {report:.1} ms (best of 3)");
    }
    let _ = client.close().await;
}
