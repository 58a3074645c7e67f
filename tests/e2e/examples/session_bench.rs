//! The saving benchmark (`cargo run -p llmscope-e2e --example session_bench`): a session of
//! one stream of 1,000,000 points plus the simulators running, saved every 3 s. Reports how
//! long each save holds the page (the app records its two parts in `window.__llmscope`:
//! `save_ms`, preparing the changed chunks, and `save_write_ms`, handing them to IndexedDB),
//! the first save after loading an older whole-JSON session (every chunk written), and the
//! long tasks (over 50 ms, from the browser's long-task observer) while the simulators run.

use fantoccini::Client;
use llmscope_e2e::{js, pause_simulators, wait_for, Session, DEADLINE};
use std::time::Duration;

const POINTS: usize = 1_000_000;

/// Stores a version-1 session (whole JSON) of one imported stream of `points` values in
/// IndexedDB, made in the page (40 MB is too much to send through WebDriver).
async fn plant(client: &Client, points: usize) {
    let script = r#"
        const done = arguments[arguments.length - 1];
        const n = arguments[0];
        let state = 0x2545F491n, parts = new Array(n);
        for (let i = 0; i < n; i++) {
            const v = 420 + 80 * Math.abs(Math.sin(i * 12.9898) * 43758.5453 % 1);
            parts[i] = '{"t":' + (1764201600000 + i * 100) + ',"value":' + v.toFixed(3) + '}';
        }
        const text = '{"streams":[{"id":"bench/latency","unit":"ms","origin":{"Import":{"file":"bench.csv"}},"samples":['
            + parts.join(',') + '],"settings":{"chart":{"phase1":100},"lsl":null,"usl":800.0,"subgroup_size":null},"stale":null}]}';
        const open = indexedDB.open('llmscope');
        open.onsuccess = () => {
            const tx = open.result.transaction('sessions', 'readwrite');
            tx.objectStore('sessions').put(text, 'current');
            tx.oncomplete = () => { open.result.close(); done(text.length); };
            tx.onabort = () => done(String(tx.error));
        };"#;
    let size = client
        .execute_async(script, vec![points.into()])
        .await
        .expect("store the session");
    println!("  planted a whole-JSON session of {points} points ({size} characters)");
}

async fn timing(client: &Client, name: &str) -> f64 {
    js(
        client,
        &format!("return (window.__llmscope || {{}})['{name}'] || 0"),
    )
    .await
    .as_f64()
    .unwrap_or(0.0)
}

#[tokio::main]
async fn main() {
    let session = Session::open().await;
    let client = &session.client;
    pause_simulators(client).await;
    tokio::time::sleep(Duration::from_secs(4)).await; // the first page's only save
    plant(client, POINTS).await;
    client.goto(&session.site.url).await.expect("reload");
    wait_for(
        client,
        "[data-testid=stream-card]",
        Duration::from_secs(120),
    )
    .await;
    js(
        client,
        "window.__long = []; new PerformanceObserver(l => l.getEntries().forEach(e => window.__long.push(e.duration))).observe({type: 'longtask', buffered: true}); return true",
    )
    .await;
    // The first save writes every chunk (the session came as whole JSON).
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while timing(client, "save_write_max_ms").await == 0.0 {
        assert!(tokio::time::Instant::now() < deadline, "no save");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (first_prepare, first_write) = (
        timing(client, "save_max_ms").await,
        timing(client, "save_write_max_ms").await,
    );
    js(
        client,
        "window.__llmscope.save_max_ms = 0; window.__llmscope.save_write_max_ms = 0; window.__long = []; return true",
    )
    .await;
    let sims = wait_for(client, "[data-testid=simulators]", DEADLINE).await;
    sims.click().await.expect("run the simulators");
    tokio::time::sleep(Duration::from_secs(21)).await; // 7 saves
    let (prepare, write) = (
        timing(client, "save_max_ms").await,
        timing(client, "save_write_max_ms").await,
    );
    let long: Vec<f64> =
        serde_json::from_value(js(client, "return window.__long").await).unwrap_or_default();
    let saved = llmscope_e2e::saved_session(client, "current").await;
    let stored = saved["session"]["streams"]
        .as_array()
        .and_then(|s| s.iter().find(|x| x["id"] == "bench/latency"))
        .and_then(|x| x["samples"].as_array().map(Vec::len));
    println!("saving a {POINTS}-point session (headless Chromium, 2 cores):");
    println!("  first save (every chunk): prepare {first_prepare:.1} ms + hand to IndexedDB {first_write:.1} ms");
    println!("  later saves, simulators running (21 s, ~7 saves): longest prepare {prepare:.1} ms, longest hand-over {write:.1} ms");
    println!(
        "  long tasks (>50 ms) in those 21 s: {} {:?}",
        long.len(),
        long.iter().map(|d| d.round()).collect::<Vec<_>>()
    );
    println!("  stored points of bench/latency read back: {stored:?}");
    session.close().await;
}
