//! The rule editor in the browser (issue 16): the Westgard and Western Electric presets' false-
//! alarm rates are the engine's (computed here natively with `llmscope_spc::custom::check`), a
//! bad rule is named with the line and column the engine's parser gives, and a rule applied to
//! an imported stream with two points beyond 2 sigma on one side is a signal named by the rule
//! in the signal list, at the point the engine finds, kept across a reload.

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
        (shown == Value::from(text))
            .then_some(())
            .ok_or(shown.to_string())
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

#[tokio::test]
async fn the_rule_editor_rates_sets_names_errors_and_applies_rules() {
    let session = Session::open().await;
    let client = &session.client;
    pause_simulators(client).await;
    let mut csv = String::from("t,level\n");
    for (i, v) in values().iter().enumerate() {
        csv += &format!("{i},{v}\n");
    }
    import(client, &temp_csv("rules.csv", &csv)).await;
    assert!(notice(client).await.contains("imported 46 rows"));
    open_stream(client).await;
    click(client, Locator::Css("[data-testid=rule-open]")).await;
    wait_for(client, "[data-testid=rule-editor]", DEADLINE).await;

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
    client.refresh().await.expect("reload");
    // The page opens where it was, on the stream's view; else its card is clicked.
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
    listed(client, &expected, "the rule's signal after a reload").await;
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    session.close().await;
}
