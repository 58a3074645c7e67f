//! See it coming (issue 14) in Chromium: the shim's `simulate` wearing spindle (rising towards
//! its USL of 4.5 mm/s) gets a "due in" on its card, the maintenance list has it, and its
//! `.ics` download is an RFC 5545 calendar with one event whose start is the forecast crossing,
//! and "Maintained" is recorded on the stream;
//! and a stream that drifts, then steps back, shows the step back in its view, and confirming
//! it re-baselines the limits on the points after it.

use fantoccini::{Client, Locator};
use llmscope_e2e::{
    click, console_errors, downloaded, import, js, normal, notice, pause_simulators, screenshot_at,
    temp_csv, wait_for, Session, DEADLINE,
};
use std::time::Duration;

/// The shim's spindle card's name and "due in" text, once it has one.
const DUE: &str = "const c = [...document.querySelectorAll('[data-testid=stream-card]')].find(c => c.querySelector('.name').textContent.startsWith('cnc1/spindle_vibration') && c.querySelector('[data-testid=stream-source]').textContent.startsWith('live')); const d = c && c.querySelector('[data-testid=due-in]'); return d ? [c.querySelector('.name').textContent, d.textContent] : null";

/// The `.ics` text unfolded (RFC 5545 §3.1), after checking its line endings and lengths.
fn unfold(text: &str) -> Vec<String> {
    assert!(text.ends_with("\r\n"), "the last line ends with CRLF");
    assert!(
        !text.replace("\r\n", "").contains(['\r', '\n']),
        "every line ends with CRLF"
    );
    for line in text.split("\r\n") {
        assert!(
            line.len() <= 75,
            "a line of {} octets: {line:?}",
            line.len()
        );
    }
    text.replace("\r\n ", "")
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether `v` is an iCalendar UTC date-time, `YYYYMMDDTHHMMSSZ`.
fn utc(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 16
        && b[8] == b'T'
        && b[15] == b'Z'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 8 || i == 15 || c.is_ascii_digit())
}

#[tokio::test]
async fn the_wearing_spindle_is_due_and_its_calendar_event_parses() {
    let session = Session::open().await;
    let client = &session.client;
    client
        .goto(&session.url("?live=1"))
        .await
        .expect("open with live data");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(150);
    let (name, due) = loop {
        if let [name, due] = js(client, DUE)
            .await
            .as_array()
            .map_or(&[][..], Vec::as_slice)
        {
            break (
                name.as_str().unwrap_or_default().to_string(),
                due.as_str().unwrap_or_default().to_string(),
            );
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the spindle's card has no 'due in'"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(
        due.starts_with("due in about ") && due.contains("USL 4.5"),
        "{due}"
    );

    // The maintenance list has it, and its event downloads.
    let row = client
        .find(Locator::Css(&format!(
            "[data-testid=maintenance-row][data-stream='{name}']"
        )))
        .await
        .expect("the spindle in the maintenance list");
    row.find(Locator::Css("[data-testid=download-ics]"))
        .await
        .expect("its .ics button")
        .click()
        .await
        .expect("download the event");
    let path = downloaded(&session.downloads, ".ics").await;
    let text = std::fs::read_to_string(&path).expect("read the .ics");
    let lines = unfold(&text);
    let value = |key: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
            .unwrap_or_else(|| panic!("no {key} in {text}"))
            .to_string()
    };
    let order: Vec<&str> = lines
        .iter()
        .filter(|l| l.starts_with("BEGIN:") || l.starts_with("END:"))
        .map(String::as_str)
        .collect();
    assert_eq!(
        order,
        [
            "BEGIN:VCALENDAR",
            "BEGIN:VEVENT",
            "END:VEVENT",
            "END:VCALENDAR"
        ]
    );
    assert_eq!(value("VERSION"), "2.0");
    assert!(!value("PRODID").is_empty() && !value("UID").is_empty());
    let (stamp, start) = (value("DTSTAMP"), value("DTSTART"));
    assert!(utc(&stamp) && utc(&start), "{stamp} {start}");
    // Made now (a clock time, not the page's own milliseconds).
    assert!(stamp.as_str() > "2025", "made {stamp}");
    // The crossing is ahead of now, and within the day's horizon.
    assert!(start > stamp, "due {start}, made {stamp}");
    assert!(value("SUMMARY").contains(&format!("{name} reaches USL 4.5")));
    assert!(value("DESCRIPTION").contains("80% interval"));

    // "Maintained" is recorded on the stream: its view says when, and its forecast restarts.
    row.find(Locator::Css("[data-testid=maintained]"))
        .await
        .expect("its Maintained button")
        .click()
        .await
        .expect("record maintenance");
    let said = notice(client).await;
    assert_eq!(said, format!("{name}: maintenance recorded"));
    js(client, &DUE.replace("return d ?", "c.click(); return d ?")).await;
    let header = wait_for(client, "[data-testid=time-to-limit]", DEADLINE).await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let text = header.text().await.unwrap_or_default();
        if text.contains(" · maintained ") {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "header {text:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}

/// Where the imported stream steps back, its level before the drift and after the step.
const STEP: usize = 220;
const BEFORE: f64 = 10.0;
const AFTER: f64 = 11.0;

/// 300 points: 100 at [`BEFORE`], a drift of 4 over 120 points, then a step back at [`STEP`]
/// to [`AFTER`] (a part replaced, not quite as new); seeded noise of sigma 0.3.
fn drift_and_step_back() -> String {
    let mut noise = normal(14);
    let mut csv = String::from("t,level\n");
    for i in 0..300 {
        let level = match i {
            0..100 => BEFORE,
            100..STEP => BEFORE + 4.0 * (i - 100) as f64 / 120.0,
            _ => AFTER,
        };
        csv += &format!("{i},{:.4}\n", level + 0.3 * noise());
    }
    csv
}

/// The number a stat of the stream view shows.
async fn stat(client: &Client, testid: &str) -> f64 {
    let text = wait_for(client, &format!("[data-testid={testid}]"), DEADLINE)
        .await
        .text()
        .await
        .unwrap_or_default();
    text.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{testid} shows {text:?}"))
}

#[tokio::test]
async fn a_step_back_is_offered_and_confirming_it_re_baselines() {
    let session = Session::open().await;
    let client = &session.client;
    client.goto(&session.url("")).await.expect("open the app");
    pause_simulators(client).await;
    import(client, &temp_csv("stepback.csv", &drift_and_step_back())).await;
    assert!(notice(client).await.contains("imported 300 rows"));
    click(
        client,
        Locator::XPath("//article[.//h2[. = 'stepback/level']]"),
    )
    .await;

    // The limits are estimated on the first points, before the drift.
    let center = stat(client, "center").await;
    assert!((center - BEFORE).abs() < 0.3, "center {center} before");
    let ucl = stat(client, "ucl").await;

    let button = wait_for(client, "[data-testid=forecast-rebaseline]", DEADLINE).await;
    let header = wait_for(client, "[data-testid=time-to-limit]", DEADLINE)
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(
        header.contains("Step back") && header.contains("maintenance?"),
        "{header}"
    );
    // Where and how big: at the step (to a point or two), a fall of about 4 − 1 = 3.
    let at: usize = button
        .attr("data-at")
        .await
        .ok()
        .flatten()
        .and_then(|a| a.parse().ok())
        .expect("the step's point");
    assert!(at.abs_diff(STEP) <= 3, "step back at {at}");
    let size: f64 = header
        .split_once('(')
        .and_then(|(_, r)| r.split(';').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no size in {header}"));
    assert!((-3.4..-2.6).contains(&size), "size {size} in {header}");

    // The band past the last point, for a person to look at (target/screenshots/).
    wait_for(client, "[data-testid=forecast-chart] svg", DEADLINE).await;
    screenshot_at(client, "forecast-chart", "forecast-band").await;
    button.click().await.expect("confirm the step back");
    let said = notice(client).await;
    assert!(
        said.contains(&format!("step back at point {at} confirmed"))
            && said.contains("re-baselined"),
        "{said}"
    );
    // The limits are now those of the points after the step, and the prompt is gone.
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let center = stat(client, "center").await;
        let header = wait_for(client, "[data-testid=time-to-limit]", DEADLINE)
            .await
            .text()
            .await
            .unwrap_or_default();
        if (center - AFTER).abs() < 0.2
            && !header.contains("Step back")
            && !header.contains("forecasting")
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "center {center}, header {header:?} after confirming"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_ne!(stat(client, "ucl").await, ucl, "the UCL was re-estimated");
    assert_eq!(
        js(
            client,
            "return document.querySelectorAll('[data-testid=forecast-rebaseline]').length"
        )
        .await,
        0
    );

    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}
