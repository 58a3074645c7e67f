//! See it coming (issue 14) in Chromium: the shim's `simulate` wearing spindle (rising towards
//! its USL of 4.5 mm/s) gets a "due in" on its card, the maintenance list has it, and its
//! `.ics` download is an RFC 5545 calendar with one event whose start is the forecast crossing.

use fantoccini::Locator;
use llmscope_e2e::{console_errors, downloaded, js, Session};
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
        assert!(line.len() <= 75, "a line of {} octets: {line:?}", line.len());
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
        if let [name, due] = js(client, DUE).await.as_array().map_or(&[][..], Vec::as_slice) {
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
    // The crossing is ahead of now, and within the day's horizon.
    assert!(start > stamp, "due {start}, made {stamp}");
    assert!(value("SUMMARY").contains(&format!("{name} reaches USL 4.5")));
    assert!(value("DESCRIPTION").contains("80% interval"));

    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}
