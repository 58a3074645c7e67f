//! The export benchmark (`cargo xtask bench`): time from the click to the finished download for
//! each export of a 100,000-point session, against the same exports of a 1,000-point session in
//! the same run; and the share link's outcome. Headless Chromium, the site served by the shim.

use fantoccini::{Client, Locator};
use llmscope_e2e::{click, downloaded, load_bench_session, wait_for, Session, DEADLINE};
use std::time::{Duration, Instant};

async fn load(session: &Session, points: usize) {
    load_bench_session(session, points).await;
    wait_for(
        &session.client,
        "[data-testid=center]",
        Duration::from_secs(60),
    )
    .await;
}

/// Milliseconds from a click to the download of a file ending in `suffix`.
async fn export(session: &Session, css: &str, suffix: &str) -> f64 {
    for entry in std::fs::read_dir(&session.downloads)
        .into_iter()
        .flatten()
        .flatten()
    {
        let _ = std::fs::remove_file(entry.path());
    }
    let started = Instant::now();
    click(&session.client, Locator::Css(css)).await;
    downloaded(&session.downloads, suffix).await;
    started.elapsed().as_secs_f64() * 1000.0
}

async fn notice(client: &Client) -> String {
    let script =
        "const e = document.querySelector('[data-testid=notice]'); return e ? e.textContent : ''";
    let value = client.execute(script, vec![]).await.expect("notice");
    value.as_str().unwrap_or_default().to_string()
}

/// Milliseconds from the click to the app's answer, and the answer.
async fn share(client: &Client) -> (f64, String) {
    let before = notice(client).await;
    let started = Instant::now();
    click(client, Locator::Css("[data-testid=share]")).await;
    let deadline = Instant::now() + DEADLINE;
    loop {
        let said = notice(client).await;
        if said != before && !said.starts_with("encrypting") {
            return (started.elapsed().as_secs_f64() * 1000.0, said);
        }
        assert!(
            Instant::now() < deadline,
            "the app never answered the share"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::main]
async fn main() {
    let session = Session::open().await;
    let mut rows = Vec::new();
    for points in [1_000, 100_000] {
        load(&session, points).await;
        let png = export(&session, "[data-testid=download-png]", ".png").await;
        let json = export(
            &session,
            "[data-testid=export-json]",
            "llmscope-session.json",
        )
        .await;
        let pdf = export(&session, "[data-testid=report-pdf]", ".pdf").await;
        let (link, said) = share(&session.client).await;
        rows.push((points, png, json, pdf, link, said));
    }
    println!("| session | PNG (1920 px) | JSON (full telemetry) | PDF report | share link |");
    println!("|---|---|---|---|---|");
    let base = rows[0].clone();
    for (points, png, json, pdf, link, said) in &rows {
        println!(
            "| {points} points | {png:.0} ms ({:.1}x) | {json:.0} ms ({:.1}x) | {pdf:.0} ms ({:.1}x) | {link:.0} ms: {said} |",
            png / base.1,
            json / base.2,
            pdf / base.3
        );
    }
    session.close().await;
}
