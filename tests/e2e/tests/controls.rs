//! The stream view's controls, each checked against what is computed here from the rows the
//! test imported (never against the page's own notice): "Download CSV", "Use these points as
//! the baseline", the histogram and companion charts, the false-alarm rate of the tests in use,
//! and "Back to my session" from a shared session.

use fantoccini::{Client, Locator};
use llmscope_e2e::{
    click, console_errors, count, downloaded, import, js, notice, pause_simulators, saved_session,
    set, stream_names, temp_csv, text_of, wait_for, Session, DEADLINE,
};
use std::time::Duration;

/// 100 points: about 10 for the first half, about 12 for the second, so the limits depend on
/// which points are the baseline.
fn values() -> Vec<f64> {
    (0..100)
        .map(|i| {
            let level = if i < 50 { 10.0 } else { 12.0 };
            level + ((i * 37 % 11) as f64 - 5.0) * 0.1
        })
        .collect()
}

/// Imports [`values`] as `view/level` and opens its stream view.
async fn open_stream(client: &Client) {
    pause_simulators(client).await;
    let mut csv = String::from("t,level\n");
    for (i, v) in values().iter().enumerate() {
        csv += &format!("{i},{v}\n");
    }
    import(client, &temp_csv("view.csv", &csv)).await;
    assert!(notice(client).await.contains("imported 100 rows"));
    click(client, Locator::XPath("//article[.//h2[. = 'view/level']]")).await;
    wait_for(client, "[data-testid=center]", DEADLINE).await;
}

/// Whether a number the page shows with `shown`'s decimals is `expected` rounded.
fn shows(shown: &str, expected: f64) -> bool {
    let decimals = shown.split_once('.').map_or(0, |(_, d)| d.len());
    let value: f64 = shown
        .parse()
        .unwrap_or_else(|e| panic!("{shown:?} is not a number: {e}"));
    (value - expected).abs() <= 0.5 * 10f64.powi(-(decimals as i32)) + 1e-9
}

/// A point row of the downloaded CSV.
struct Row {
    index: usize,
    statistic: f64,
    center: f64,
    ucl: f64,
    /// The tests that fired at the point, `;`-separated.
    tests: String,
}

/// The downloaded CSV's point rows, and how many signal rows follow them.
fn read_csv(path: &std::path::Path) -> (Vec<Row>, usize) {
    let text = std::fs::read_to_string(path).expect("the CSV");
    let (points, signals) = text.split_once("\n\n").expect("points, then signals");
    let mut lines = points.lines();
    assert_eq!(lines.next(), Some("index,t,statistic,center,lcl,ucl,tests"));
    let number = |cell: &str| -> f64 { cell.parse().unwrap_or_else(|e| panic!("{cell:?}: {e}")) };
    let rows = lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            assert_eq!(cells.len(), 7, "{line}");
            Row {
                index: cells[0].parse().expect("an index"),
                statistic: number(cells[2]),
                center: number(cells[3]),
                ucl: number(cells[5]),
                tests: cells[6].to_string(),
            }
        })
        .collect();
    let mut signals = signals.lines();
    assert_eq!(signals.next(), Some("signal_test,index,first,last"));
    (rows, signals.filter(|l| !l.is_empty()).count())
}

async fn download_csv(session: &Session) -> std::path::PathBuf {
    for old in std::fs::read_dir(&session.downloads)
        .into_iter()
        .flatten()
        .flatten()
    {
        std::fs::remove_file(old.path()).expect("move the last download aside");
    }
    click(&session.client, Locator::Css("[data-testid=download-csv]")).await;
    downloaded(&session.downloads, "view_level.csv").await
}

#[tokio::test]
async fn the_csv_holds_every_point_and_the_view_becomes_the_baseline() {
    let session = Session::open().await;
    let client = &session.client;
    open_stream(client).await;
    let values = values();

    // Every imported row is a point, with the limits and signals the page shows.
    let (rows, signal_rows) = read_csv(&download_csv(&session).await);
    assert_eq!(rows.len(), values.len());
    for (row, value) in rows.iter().zip(&values) {
        assert_eq!(row.statistic, *value, "point {}", row.index);
    }
    let ucl = text_of(client, "ucl").await;
    assert!(
        rows.iter().all(|r| shows(&ucl, r.ucl)),
        "UCL {ucl} on the page"
    );
    let signalling = rows.iter().filter(|r| !r.tests.is_empty()).count();
    assert!(
        signalling > 0,
        "the step up signals against the first half's limits"
    );
    assert_eq!(signalling, count(client, "[data-testid=signal-row]").await);
    let fired: usize = rows
        .iter()
        .map(|r| r.tests.split(';').filter(|t| !t.is_empty()).count())
        .sum();
    assert_eq!(fired, signal_rows, "one signal row per test fired");

    // Zoom in (the middle half: points 25 to 74) and freeze the limits there: the center is
    // those rows' mean (individuals chart), not the first baseline's.
    let before = text_of(client, "center").await;
    let expected = values[25..75].iter().sum::<f64>() / 50.0;
    assert!(!shows(&before, expected), "{before} is already {expected}");
    click(client, Locator::XPath("//button[. = 'Zoom in']")).await;
    click(client, Locator::Css("[data-testid=baseline-from-view]")).await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let mut center = text_of(client, "center").await;
    while center == before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the center stayed {before}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        center = text_of(client, "center").await;
    }
    assert!(
        shows(&center, expected),
        "center {center}, mean of rows 25..74 {expected}"
    );
    let (rows, _) = read_csv(&download_csv(&session).await);
    assert!(
        rows.iter().all(|r| (r.center - expected).abs() < 1e-9),
        "the CSV's center is the mean of rows 25..74, {expected}"
    );
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}

/// The canvas's pixels that are not blank (alpha > 0), and how many colors they have.
async fn drawn(client: &Client, testid: &str) -> (u64, u64) {
    let script = format!(
        "const c = document.querySelector('[data-testid={testid}]'); \
         const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; \
         let painted = 0; const colors = new Set(); \
         for (let i = 0; i < d.length; i += 4) {{ if (d[i + 3] > 0) {{ painted++; colors.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]); }} }} \
         return [painted, colors.size];"
    );
    let value = js(client, &script).await;
    let pair = |i: usize| value[i].as_u64().unwrap_or_else(|| panic!("{value}"));
    (pair(0), pair(1))
}

#[tokio::test]
async fn the_histogram_the_companion_chart_and_the_false_alarm_rate_follow_the_settings() {
    let session = Session::open().await;
    let client = &session.client;
    open_stream(client).await;
    for chart in ["histogram", "companion-chart"] {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let (painted, colors) = drawn(client, chart).await;
            // Axes, labels, bars or lines: many pixels in several colors, not a blank canvas.
            if painted > 2000 && colors > 3 {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{chart}: {painted} pixels painted in {colors} colors"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // Test 1 alone: ARL0 = 1 / P(|Z| > 3) = 370.4 (Montgomery, Introduction to SQC, 6.2.2).
    let all = text_of(client, "false-alarms").await;
    set(client, "tests", "1").await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let words = text_of(client, "false-alarms").await;
        if words != all {
            assert!(
                words.contains("one false alarm every 370 points"),
                "{words}"
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {all:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!all.contains("every 370 points"), "all eight tests: {all}");
    set(client, "tests", "none").await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !text_of(client, "false-alarms")
        .await
        .contains("never signals")
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no tests, yet alarms"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    session.close().await;
}

#[tokio::test]
async fn back_to_my_session_leaves_a_shared_session_for_ones_own() {
    let session = Session::open().await;
    let sharer = &session.client;
    open_stream(sharer).await;
    wait_for(sharer, "[data-testid=share]", DEADLINE)
        .await
        .click()
        .await
        .expect("share");
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let link = loop {
        let link = js(
            sharer,
            "const e = document.querySelector('[data-testid=share-link]'); return e ? e.value : ''",
        )
        .await;
        if link.as_str().is_some_and(|l| l.contains("#s=")) {
            break link.as_str().unwrap_or_default().to_string();
        }
        assert!(tokio::time::Instant::now() < deadline, "no share link");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // Someone else, with a session of their own, opens the link and goes back.
    let other = session.second_browser().await;
    pause_simulators(&other).await;
    import(&other, &temp_csv("mine.csv", "t,own\n0,1\n1,2\n2,3\n")).await;
    notice(&other).await;
    let own = stream_names(&other).await;
    assert!(own.to_string().contains("mine/own"), "{own}");
    // Leave only once it is saved (every 3 s), so there is a session to come back to.
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !saved_session(&other, "current")
        .await
        .to_string()
        .contains("mine/own")
    {
        assert!(tokio::time::Instant::now() < deadline, "never saved");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    other.goto("about:blank").await.expect("blank");
    other.goto(&link).await.expect("open the link");
    wait_for(&other, "[data-testid=shared-banner]", DEADLINE).await;
    click(
        &other,
        Locator::XPath("//button[contains(., 'All streams')]"),
    )
    .await;
    let shared = stream_names(&other).await;
    assert!(shared.to_string().contains("view/level"), "{shared}");
    assert!(!shared.to_string().contains("mine/own"), "{shared}");
    click(&other, Locator::Css("[data-testid=leave-shared]")).await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let url = other.current_url().await.expect("url").to_string();
        if count(&other, "[data-testid=shared-banner]").await == 0
            && count(&other, "[data-testid=stream-card]").await > 0
            && !url.contains("#s=")
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still shared: {url}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stream_names(&other).await, own, "one's own session again");
    let _ = other.close().await;
    session.close().await;
}
