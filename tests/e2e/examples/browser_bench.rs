//! The browser benchmark (`cargo xtask bench`), in the e2e harness: time from navigation to the
//! first control chart painted, and the time to redraw a 100,000-point stream, against the same
//! measurements for a 1,000-point stream in the same run. The app records both in
//! `window.__llmscope` (`first_chart_ms`, since navigation start; `draw_ms`, the last draw).

use fantoccini::Client;
use llmscope_e2e::{load_bench_session, wait_for, Session, DEADLINE};
use std::time::Duration;

async fn number(client: &Client, script: &str) -> Option<f64> {
    client.execute(script, vec![]).await.ok()?.as_f64()
}

/// Loads a session of `points`, opens its stream, and returns (first chart ms, median redraw ms).
async fn measure(session: &Session, points: usize) -> (f64, f64) {
    let client = &session.client;
    load_bench_session(session, points).await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let first = loop {
        if let Some(ms) = number(
            client,
            "return window.__llmscope && window.__llmscope.first_chart_ms",
        )
        .await
        {
            break ms;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no chart was painted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let theme = wait_for(client, "button[aria-label='toggle dark theme']", DEADLINE).await;
    let mut draws = Vec::new();
    for _ in 0..15 {
        client
            .execute("window.__llmscope.draw_ms = -1; return true;", vec![])
            .await
            .expect("reset");
        theme.click().await.expect("toggle the theme (a redraw)");
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            match number(client, "return window.__llmscope.draw_ms").await {
                Some(ms) if ms >= 0.0 => {
                    draws.push(ms);
                    break;
                }
                _ => {}
            }
            assert!(tokio::time::Instant::now() < deadline, "no redraw");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    draws.sort_by(f64::total_cmp);
    (first, draws[draws.len() / 2])
}

#[tokio::main]
async fn main() {
    let session = Session::open().await;
    let (first_small, draw_small) = measure(&session, 1_000).await;
    let (first_big, draw_big) = measure(&session, 100_000).await;
    println!("browser (headless Chromium, 2 cores):");
    println!("  1,000 points:   first chart {first_small:.0} ms after navigation; redraw {draw_small:.1} ms (median of 15)");
    println!(
        "  100,000 points: first chart {first_big:.0} ms after navigation; redraw {draw_big:.1} ms (median of 15); {:.1}x the 1,000-point redraw",
        draw_big / draw_small.max(0.01)
    );
    session.close().await;
}
