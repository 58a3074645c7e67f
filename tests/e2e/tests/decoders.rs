//! The app's decoders and exports in headless Chromium: a CSV whose quoted field holds a line
//! break imports through the chunked reader; a log-transformed chart gives its center and its
//! signal values in the data's unit too; the CSV export of an X-bar chart gives each subgroup
//! the time it was complete.

use fantoccini::Locator;
use llmscope_e2e::{
    click, console_errors, downloaded, import, js, notice, pause_simulators, set, temp_csv,
    wait_for, Session, DEADLINE,
};
use std::time::Duration;

/// The number in parentheses of a shown value, "8.3669 (4300.0 ms)" → 4300.0.
fn in_unit(shown: &str) -> Option<f64> {
    let inner = shown.split_once('(')?.1.split_once(')')?.0;
    inner.split_whitespace().next()?.parse().ok()
}

/// Waits until the text of `css` satisfies `ok`, and returns it.
async fn text_until(client: &fantoccini::Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let text = wait_for(client, css, DEADLINE)
            .await
            .text()
            .await
            .unwrap_or_default();
        if ok(&text) {
            return text;
        }
        assert!(tokio::time::Instant::now() < deadline, "{css}: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn quoted_csv_log_scale_values_and_subgroup_times() {
    let session = Session::open().await;
    let client = &session.client;
    pause_simulators(client).await;
    // TTFT around 4,300 ms, three times slower from row 170; row 5's note holds a line break.
    let mut csv = String::from("t,note,ttft_ms\n");
    for i in 0..200u64 {
        let slow = if i >= 170 { 3.0 } else { 1.0 };
        let note = if i == 5 {
            "\"cold start,\nsee ops\""
        } else {
            "ok"
        };
        let ttft = slow * 4300.0 * (1.0 + 0.05 * (i as f64 * 1.7).sin());
        csv += &format!("{},{note},{ttft}\n", 1_795_000_000_000 + i * 1000);
    }
    import(client, &temp_csv("decoders.csv", &csv)).await;
    let told = notice(client).await;
    assert!(told.contains("imported 200 rows"), "{told}");
    click(
        client,
        Locator::XPath("//article[.//h2[contains(., 'decoders/ttft_ms')]]"),
    )
    .await;

    // Log scale: the center reads on both scales.
    let picked = js(
        client,
        "const s = [...document.querySelectorAll('select')].find(s => s.querySelector('option[value=log]')); \
         s.value = 'log'; s.dispatchEvent(new Event('change', {bubbles: true})); return s.value;",
    )
    .await;
    assert_eq!(picked, "log");
    let center = text_until(client, "[data-testid=center]", |t| t.contains('(')).await;
    let back = in_unit(&center).unwrap_or_else(|| panic!("no value in the unit: {center}"));
    assert!((back - 4300.0).abs() < 100.0, "{center}");
    assert!(center.starts_with("8.3"), "ln 4300 = 8.37: {center}");
    let signal = text_until(client, "[data-testid=signal-row]", |t| t.contains("value")).await;
    let value = signal.split("value ").nth(1).unwrap_or_default();
    let slow = in_unit(value).unwrap_or_else(|| panic!("no value in the unit: {signal}"));
    assert!(slow > 10_000.0, "the slow stretch, in ms: {signal}");

    // X-bar of subgroups of 5: the CSV export's t is each subgroup's last sample.
    set(client, "chart-type", "xbar-r").await;
    set(client, "subgroup-size", "5").await;
    text_until(client, "[data-testid=center]", |t| !t.is_empty()).await;
    click(client, Locator::Css("[data-testid=download-csv]")).await;
    let file = downloaded(&session.downloads, "ttft_ms.csv").await;
    let text = std::fs::read_to_string(file).expect("the CSV");
    let row3: Vec<&str> = text
        .lines()
        .find(|l| l.starts_with("3,"))
        .unwrap_or_else(|| panic!("no point 3:\n{text}"))
        .split(',')
        .collect();
    assert_eq!(row3[1], "19", "subgroup 3 is samples 15 to 19: {row3:?}");
    assert_eq!(console_errors(client).await, Vec::<String>::new());
    session.close().await;
}
