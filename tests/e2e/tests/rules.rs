//! The rule editor in the browser (issue 16): the Westgard and Western Electric presets' false-
//! alarm rates are the engine's (computed here natively with `llmscope_spc::custom::check`), a
//! bad rule is named with the line and column the engine's parser gives, and a rule applied to
//! an imported stream with two points beyond 2 sigma on one side is a signal named by the rule
//! in the signal list, at the point the engine finds, kept across a reload. Westgard's preset
//! applied: its rules named in the stream's CSV, the PDF report and the why panel's episodes.

use fantoccini::{Client, Locator};
use llmscope_e2e::{
    click, console_errors, eventually, import, js, notice, pause_simulators, screenshot_at, set,
    temp_csv, type_into, wait_for, Session, DEADLINE,
};
use llmscope_spc::custom::{check, parse_tests, WESTGARD_TEXT};
use llmscope_spc::{analyze, ChartConfig, Data};
use serde_json::Value;
use std::time::{Duration, Instant};

const STREAM: &str = "rules/level";
const RULE: &str = "2-2s: 2 in a row beyond 2s same side";
const BAD: &str = "1-3s: 1 beyond 3s\nbad: 3 of 2 beyond 2s";

/// 30 baseline points and 10 more around 100, then two points 2.5 sigma above the center
/// (beyond 2s, inside the 3-sigma limits), then four more of the baseline's pattern.
fn values() -> Vec<f64> {
    let pattern = |i: usize| 100.0 + ((i * 37 % 11) as f64 - 5.0) * 0.2;
    let mut v: Vec<f64> = (0..40).map(pattern).collect();
    let chart = analyze(&config(None).to_spec().unwrap(), &Data::Values(v.clone())).unwrap();
    let high = chart.center() + 2.5 * chart.sigma();
    v.extend([high, high]);
    v.extend((42..46).map(pattern));
    v
}

/// The settings the app gives an imported stream (a 30-point baseline), with these tests.
fn config(tests: Option<&str>) -> ChartConfig {
    ChartConfig {
        phase1: Some(30),
        tests: tests.map(str::to_string),
        ..ChartConfig::default()
    }
}

/// The rule editor's false-alarm line once it shows `want` (to 1e-9, relative) found by
/// `method`: its text. Until then the page may still show the set before (a new text is read
/// after a pause in the typing).
async fn far(client: &Client, want: f64, method: &str) -> String {
    // A simulation takes seconds, more on a busy machine.
    let deadline = Duration::from_secs(180);
    eventually(
        &format!("a false-alarm rate of {want} by {method}"),
        deadline,
        || async {
            let v = js(
                client,
                "const e = document.querySelector('[data-testid=rule-far]'); \
             return [e.dataset.arl, e.dataset.method, e.textContent]",
            )
            .await;
            let arl = v[0].as_str().and_then(|a| a.parse::<f64>().ok());
            match arl {
                Some(arl) if (arl - want).abs() <= 1e-9 * want && v[1] == method => {
                    Ok(v[2].as_str().unwrap_or_default().to_string())
                }
                _ => Err(v.to_string()),
            }
        },
    )
    .await
}

/// Picks a preset, and waits for its text in the text area.
async fn preset(client: &Client, name: &str, text: &str) {
    set(client, "rule-preset", name).await;
    eventually("the preset's text", DEADLINE, || async {
        let shown = js(
            client,
            "return document.querySelector('[data-testid=rule-text]').value",
        )
        .await;
        (shown == text).then_some(()).ok_or(shown.to_string())
    })
    .await;
}

/// Waits until the signal list's rows are `expected`: (index, rule names) each.
async fn listed(client: &Client, expected: &[Value], what: &str) {
    eventually(what, DEADLINE, || async {
        let rows = js(
            client,
            "return [...document.querySelectorAll('[data-testid=signal-row]')]\
             .map(r => [Number(r.dataset.index), r.dataset.rules])",
        )
        .await;
        (rows.as_array().map(Vec::as_slice) == Some(expected))
            .then_some(())
            .ok_or(rows.to_string())
    })
    .await;
}

async fn open_stream(client: &Client) {
    click(
        client,
        Locator::XPath(&format!("//article[.//h2[. = '{STREAM}']]")),
    )
    .await;
    wait_for(client, "[data-testid=center]", DEADLINE).await;
}

/// Imports [`values`] as `rules.csv`, opens its stream and the rule editor; the import's notice.
async fn start(client: &Client) -> String {
    pause_simulators(client).await;
    let mut csv = String::from("t,level\n");
    for (i, v) in values().iter().enumerate() {
        csv += &format!("{i},{v}\n");
    }
    import(client, &temp_csv("rules.csv", &csv)).await;
    let said = notice(client).await;
    open_stream(client).await;
    click(client, Locator::Css("[data-testid=rule-open]")).await;
    wait_for(client, "[data-testid=rule-editor]", DEADLINE).await;
    said
}

/// Reloads the page and waits for the stream's view: the page opens where it was, else the
/// stream's card is clicked.
async fn reload(client: &Client) {
    client.refresh().await.expect("reload");
    let script = format!(
        "if (document.querySelector('[data-testid=center]')) return true; \
         const h = [...document.querySelectorAll('article h2')].find(h => h.textContent === {STREAM:?}); \
         if (h) h.closest('article').click(); return false"
    );
    eventually("the stream's view after a reload", DEADLINE, || async {
        let open = js(client, &script).await;
        (open == Value::Bool(true))
            .then_some(())
            .ok_or(open.to_string())
    })
    .await;
}

#[tokio::test]
async fn the_rule_editor_rates_sets_names_errors_and_applies_rules() {
    let session = Session::open().await;
    let client = &session.client;
    assert!(start(client).await.contains("imported 46 rows"));

    // Westgard: the engine's chain, to the last digit.
    preset(client, "westgard", WESTGARD_TEXT).await;
    let native = check(WESTGARD_TEXT, None, None, None).unwrap();
    let want = native.arl.as_ref().unwrap().value;
    let words = far(client, want, "markov-chain").await;
    assert!(
        words.starts_with(&native.words),
        "{words:?} vs {:?}",
        native.words
    );
    screenshot_at(client, "rule-editor", "rule-editor").await;

    // Western Electric: the engine's value, which is the published 91.75 (Champ & Woodall's
    // chain for tests 1, 5, 6 and 2 with K = 8).
    preset(client, "we", "western-electric").await;
    let want = check("western-electric", None, None, None)
        .unwrap()
        .arl
        .unwrap()
        .value;
    assert!((want - 91.75).abs() < 0.01, "{want} vs the published 91.75");
    let words = far(client, want, "markov-chain").await;
    assert!(words.contains("about every 92 points"), "{words}");

    // A trend is not zone-based: simulated, seeded, as the engine simulates it.
    let trend = "up: 6 rising";
    let started = Instant::now();
    type_into(client, "rule-text", trend).await;
    let native = check(trend, None, None, None).unwrap();
    let words = far(client, native.arl.unwrap().value, "simulation").await;
    let by = js(
        client,
        "return document.querySelector('[data-testid=rule-far]').dataset.by",
    )
    .await;
    assert_eq!(by, "worker", "the simulation ran off the page's thread");
    assert!(
        words.starts_with(&native.words),
        "{words:?} vs {:?}",
        native.words
    );
    println!(
        "a simulated set's rate shown {} ms after the text was typed (250 ms of it the pause)",
        started.elapsed().as_millis()
    );

    // A bad rule: the part, with the parser's line and column.
    type_into(client, "rule-text", BAD).await;
    let e = parse_tests(BAD).unwrap_err();
    let shown = eventually("the error", DEADLINE, || async {
        let v = js(
            client,
            "const e = document.querySelector('[data-testid=rule-error]'); \
             return e.hidden ? null : [e.dataset.line, e.dataset.column, e.textContent]",
        )
        .await;
        v.as_array().cloned().ok_or(v.to_string())
    })
    .await;
    assert_eq!(shown[0], Value::from(e.line.to_string()));
    assert_eq!(shown[1], Value::from(e.column.to_string()));
    let text = shown[2].as_str().unwrap_or_default();
    assert!(
        text.starts_with(&format!("line 2, column {}: ", e.column)) && text.contains("'bad'"),
        "{text}"
    );
    let disabled = js(
        client,
        "return document.querySelector('[data-testid=rule-apply]').disabled",
    )
    .await;
    assert_eq!(disabled, Value::Bool(true), "a bad set cannot be applied");

    // The rule applied: its signal, by its name, where the engine finds it.
    type_into(client, "rule-text", RULE).await;
    let rate = check(RULE, None, None, None).unwrap().arl.unwrap().value;
    far(client, rate, "markov-chain").await;
    click(client, Locator::Css("[data-testid=rule-apply]")).await;
    let chart = analyze(
        &config(Some(RULE)).to_spec().unwrap(),
        &Data::Values(values()),
    )
    .unwrap();
    let expected: Vec<Value> = chart
        .primary
        .rule_signals
        .iter()
        .rev()
        .map(|s| serde_json::json!([s.index, "2-2s"]))
        .collect();
    assert_eq!(expected, [serde_json::json!([41, "2-2s"])]);
    listed(client, &expected, "the rule's signal in the list").await;
    let row = js(
        client,
        "return document.querySelector('[data-testid=signal-row]').textContent",
    )
    .await;
    assert!(row.as_str().unwrap_or_default().contains(RULE), "{row}");

    // Kept with the session: after a reload, the stream still runs the rule.
    tokio::time::sleep(Duration::from_millis(3500)).await; // the session is saved every 3 s
    reload(client).await;
    listed(client, &expected, "the rule's signal after a reload").await;
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    session.close().await;
}

/// The file downloaded with a name ending in `suffix` after clicking `testid`: a real click
/// (Chromium lets a page download a second file only on a user's gesture), with the button
/// scrolled to the middle first (the sticky header may cover it).
async fn download(session: &Session, testid: &str, suffix: &str) -> std::path::PathBuf {
    let selector = format!("[data-testid={testid}]");
    wait_for(&session.client, &selector, DEADLINE).await;
    let script = format!(
        "document.querySelector('{selector}').scrollIntoView({{block: 'center'}}); return null"
    );
    js(&session.client, &script).await;
    click(&session.client, Locator::Css(&selector)).await;
    llmscope_e2e::downloaded(&session.downloads, suffix).await
}

/// Westgard's preset applied to the stream: its named rules' signals are named in the stream's
/// CSV (a point's `tests`, a signal's `signal_test`), in the PDF report (tests in use, each
/// signalling point) and in the why panel's episodes, as the engine finds them; a warning
/// rule (1-2s) opens no episode.
#[tokio::test]
async fn named_rules_are_named_in_the_csv_the_report_and_the_why_panel() {
    let session = Session::open().await;
    let client = &session.client;
    start(client).await;
    preset(client, "westgard", WESTGARD_TEXT).await;
    let native = check(WESTGARD_TEXT, None, None, None).unwrap();
    far(client, native.arl.unwrap().value, "markov-chain").await;
    click(client, Locator::Css("[data-testid=rule-apply]")).await;

    // What the engine finds: (point, first, rule) for each named rule's signal.
    let chart = analyze(
        &config(Some("westgard")).to_spec().unwrap(),
        &Data::Values(values()),
    )
    .unwrap();
    let rules = chart.primary.rules.custom().rules();
    let found: Vec<(usize, usize, &str)> = chart
        .primary
        .rule_signals
        .iter()
        .map(|s| (s.index, s.first, rules[s.rule].name.as_str()))
        .collect();
    assert_eq!(
        found,
        [(40, 40, "1-2s"), (41, 41, "1-2s"), (41, 40, "2-2s")],
        "the series' two points beyond 2s"
    );
    assert!(
        chart.primary.signals.is_empty(),
        "no Nelson test in the set"
    );
    listed(
        client,
        &[
            serde_json::json!([41, "1-2s,2-2s"]),
            serde_json::json!([40, "1-2s"]),
        ],
        "the signal list",
    )
    .await;

    // The CSV: the names where test numbers go.
    let file = download(&session, "download-csv", ".csv").await;
    let text = std::fs::read_to_string(&file).expect("the CSV");
    std::fs::remove_file(&file).expect("move it aside");
    let point = |i: usize| {
        text.lines()
            .find(|l| l.starts_with(&format!("{i},{i},")))
            .unwrap_or_default()
            .rsplit(',')
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        (point(39), point(40), point(41)),
        ("".into(), "1-2s".into(), "1-2s;2-2s".into()),
        "{text}"
    );
    let signals = text.split("\nsignal_test,index,first,last\n").nth(1);
    let want: String = found
        .iter()
        .map(|(i, first, name)| format!("{name},{i},{first},{i}\n"))
        .collect();
    assert_eq!(signals, Some(want.as_str()), "{text}");

    // The report: the set in use, and each signalling point's rules.
    let pdf = download(&session, "report-pdf", ".pdf").await;
    let report = llmscope_e2e::poppler("pdftotext", &["-layout", &pdf.to_string_lossy(), "-"]);
    let squeezed = report.split_whitespace().collect::<Vec<_>>().join(" ");
    for needed in [
        "Tests in use: 1-2s, 1-3s, 2-2s, R-4s, 4-1s, 10-x;",
        "Signals: 3 at 2 points",
        "tests 1-2s, 2-2s",
    ] {
        assert!(
            squeezed.contains(needed),
            "{needed:?} not in the report:\n{report}"
        );
    }

    // The why panel: one episode, of 2-2s (1-2s is a warning); its evidence names it.
    let rows = js(
        client,
        "return [...document.querySelectorAll('[data-testid=episode-row]')]\
         .map(r => [+r.dataset.first, +r.dataset.last, r.dataset.rules, r.textContent])",
    )
    .await;
    let rows = rows.as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        (&rows[0][0], &rows[0][1], &rows[0][2]),
        (&Value::from(40), &Value::from(41), &Value::from("2-2s"))
    );
    let said = rows[0][3].as_str().unwrap_or_default();
    assert!(said.contains("tests 2-2s"), "{said}");
    js(
        client,
        "document.querySelector('[data-testid=episode-row]').click(); return null",
    )
    .await;
    let evidence = wait_for(
        client,
        "[data-testid=why-panel][data-first='40'] [data-testid=why-evidence]",
        DEADLINE,
    )
    .await
    .text()
    .await
    .expect("the evidence");
    assert!(evidence.starts_with("tests 2-2s fired"), "{evidence}");
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    session.close().await;
}

/// The set as typed, with comments and blank lines: 2-2s by another layout, and a comment.
const TYPED: &str =
    "# the lab's rules (Westgard 1981)\n\n2-2s:   2 in a row beyond 2s same side   # both high\n";

/// What the rule editor's text area holds.
async fn editor_text(client: &Client) -> Value {
    js(
        client,
        "return document.querySelector('[data-testid=rule-text]').value",
    )
    .await
}

/// The set applied as typed is shown as typed when the editor opens again, after a reload and
/// in the exported session; a text over the bound cannot be applied, and says why.
#[tokio::test]
async fn the_rule_editor_keeps_the_text_as_typed() {
    let session = Session::open().await;
    let client = &session.client;
    start(client).await;

    // Over the bound: named, and Apply stays off.
    let long = format!("{TYPED}#{}", "x".repeat(10_000));
    type_into(client, "rule-text", &long).await;
    let said = eventually("the bound's message", DEADLINE, || async {
        let v = js(
            client,
            "const e = document.querySelector('[data-testid=rule-error]'); \
             return e.hidden ? null : [e.textContent, document.querySelector('[data-testid=rule-apply]').disabled]",
        )
        .await;
        v.as_array().cloned().ok_or(v.to_string())
    })
    .await;
    let text = said[0].as_str().unwrap_or_default();
    assert!(
        text.starts_with(&format!(
            "this rule set is {} bytes; at most 10000",
            long.len()
        )),
        "{text}"
    );
    assert_eq!(said[1], Value::Bool(true));

    type_into(client, "rule-text", TYPED).await;
    let rate = check(TYPED, None, None, None).unwrap().arl.unwrap().value;
    far(client, rate, "markov-chain").await;
    click(client, Locator::Css("[data-testid=rule-apply]")).await;
    listed(
        client,
        &[serde_json::json!([41, "2-2s"])],
        "the rule's signal",
    )
    .await;
    click(client, Locator::Css("[data-testid=rule-open]")).await;
    wait_for(client, "[data-testid=rule-editor]", DEADLINE).await;
    assert_eq!(editor_text(client).await, Value::from(TYPED));

    // After a reload (the session is saved every 3 s).
    tokio::time::sleep(Duration::from_millis(3500)).await;
    reload(client).await;
    click(client, Locator::Css("[data-testid=rule-open]")).await;
    wait_for(client, "[data-testid=rule-editor]", DEADLINE).await;
    assert_eq!(editor_text(client).await, Value::from(TYPED));

    // In the exported session, with the saved form that runs without the parser.
    let file = download(&session, "export-json", "llmscope-session.json").await;
    let exported: Value =
        serde_json::from_str(&std::fs::read_to_string(file).expect("the export")).expect("JSON");
    let settings = &exported["session"]["streams"][0]["settings"];
    assert_eq!(settings["rules_text"], Value::from(TYPED));
    assert!(
        settings["rules"]
            .as_str()
            .unwrap_or_default()
            .starts_with("2-2s\t"),
        "{settings}"
    );
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    session.close().await;
}
