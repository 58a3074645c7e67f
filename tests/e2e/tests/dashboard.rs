//! The dashboard as a person uses it, in headless Chromium: simulators raise signals, a reload
//! keeps the session, the textbook piston rings charted as X-bar/R show the out-of-control
//! subgroups, bad files are refused with the line at fault, and names are shown as text.

use llmscope_e2e::{
    console_errors, count, import, js, notice, pause_simulators, root, screenshot, set,
    stream_names, temp_csv, wait_for, Session, DEADLINE,
};
use std::time::Duration;

#[tokio::test]
async fn simulators_raise_a_signal_and_a_reload_keeps_the_session() {
    let session = Session::open().await;
    let client = &session.client;
    client
        .goto(&session.url("?tick=25"))
        .await
        .expect("open with fast simulators");
    wait_for(
        client,
        "[data-testid=stream-card][data-status=signal]",
        Duration::from_secs(60),
    )
    .await;
    let cards = count(client, "[data-testid=stream-card]").await;
    assert_eq!(cards, 8, "one card per simulator");
    // Cards with problems come first.
    let first = js(
        client,
        "return document.querySelector('[data-testid=stream-card]').dataset.status",
    )
    .await;
    assert_eq!(first, "signal");
    pause_simulators(client).await;
    let before = stream_names(client).await;
    tokio::time::sleep(Duration::from_millis(3500)).await; // the session is saved every 3 s
    client.refresh().await.expect("reload");
    wait_for(client, "[data-testid=stream-card]", DEADLINE).await;
    let after = stream_names(client).await;
    assert_eq!(before, after, "the same streams after a reload");
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}

#[tokio::test]
async fn piston_rings_as_xbar_r_show_the_out_of_control_subgroups() {
    let session = Session::open().await;
    let client = &session.client;
    pause_simulators(client).await;
    import(client, &root().join("spc-wasm/tests/data/pistonrings.csv")).await;
    assert!(notice(client).await.contains("imported 200 rows"), "notice");
    let card = wait_for(client, "[data-testid=stream-card]:has(.name)", DEADLINE).await;
    let script = "const c = [...document.querySelectorAll('[data-testid=stream-card]')].find(c => c.textContent.includes('pistonrings/value')); if (!c) return 'missing'; c.click(); return 'opened';";
    assert_ne!(
        js(client, script).await,
        "missing",
        "the imported stream's card"
    );
    drop(card);
    wait_for(client, "[data-testid=control-chart]", DEADLINE).await;
    set(client, "chart-type", "xbar-r").await;
    set(client, "subgroup-size", "5").await;
    set(client, "phase1", "25").await;
    wait_for(
        client,
        "[data-testid=signal-row][data-test-number='1']",
        DEADLINE,
    )
    .await;
    let beyond = js(
        client,
        "return [...document.querySelectorAll('[data-testid=signal-row][data-test-number=\"1\"]')].map(r => +r.dataset.index).sort((a, b) => a - b)",
    )
    .await;
    assert_eq!(
        beyond,
        serde_json::json!([36, 37, 38]),
        "Montgomery's subgroups 37-39 are beyond the UCL"
    );
    let center = wait_for(client, "[data-testid=center]", DEADLINE)
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(
        center.starts_with("74.00"),
        "X-double-bar 74.0012: {center}"
    );
    // Hovering a point shows its value and limits.
    let tip = js(
        client,
        "const c = document.querySelector('[data-testid=control-chart]'); const r = c.getBoundingClientRect(); \
         c.dispatchEvent(new MouseEvent('mousemove', {clientX: r.left + r.width * 0.6, clientY: r.top + r.height / 2, bubbles: true})); \
         return true;",
    )
    .await;
    assert_eq!(tip, true);
    let text = wait_for(client, "[data-testid=tooltip]", DEADLINE)
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(
        text.starts_with("point ") && text.contains("limits 73.98"),
        "tooltip: {text}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let shot = screenshot(client, "stream").await;
    assert!(std::fs::metadata(shot).expect("the screenshot").len() > 10_000);
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    session.close().await;
}

#[tokio::test]
async fn a_malformed_row_imports_nothing_unless_the_user_skips_bad_rows() {
    let session = Session::open().await;
    let client = &session.client;
    pause_simulators(client).await;
    let before = count(client, "[data-testid=stream-card]").await;
    let bad = temp_csv(
        "latency-bad.csv",
        "t,ttft_ms\n1,410\n2,oops\n3,420\n4,415\n",
    );
    import(client, &bad).await;
    let said = notice(client).await;
    assert!(
        said.contains("line 3, column 'ttft_ms': 'oops' is not a number")
            && said.contains("nothing was imported"),
        "{said}"
    );
    assert_eq!(
        count(client, "[data-testid=stream-card]").await,
        before,
        "nothing was imported"
    );
    wait_for(client, "[data-testid=skip-bad-rows]", DEADLINE)
        .await
        .click()
        .await
        .expect("tick skip bad rows");
    import(client, &bad).await;
    let said = notice(client).await;
    assert!(
        said.contains("imported 3 rows") && said.contains("skipped 1 bad rows"),
        "{said}"
    );
    assert_eq!(count(client, "[data-testid=stream-card]").await, before + 1);
    session.close().await;
}

#[tokio::test]
async fn stream_names_with_html_are_shown_as_text() {
    let session = Session::open().await;
    let client = &session.client;
    pause_simulators(client).await;
    let name = "<img src=x onerror=window.__xss=1>";
    import(
        client,
        &temp_csv("evil.csv", &format!("t,\"{name}\"\n1,1\n2,2\n3,3\n")),
    )
    .await;
    notice(client).await;
    let shown = js(
        client,
        "return [...document.querySelectorAll('[data-testid=stream-card] .name')].map(e => e.textContent).filter(t => t.startsWith('evil'))",
    )
    .await;
    assert_eq!(shown, serde_json::json!([format!("evil/{name}")]));
    assert_eq!(
        js(
            client,
            "return document.querySelectorAll('.card img').length"
        )
        .await,
        0
    );
    assert_eq!(js(client, "return window.__xss === undefined").await, true);
    session.close().await;
}

#[tokio::test]
async fn a_million_rows_import_with_a_progress_bar() {
    let session = Session::open().await;
    let client = &session.client;
    pause_simulators(client).await;
    let mut text = String::with_capacity(20_000_000);
    text.push_str("t,ttft_ms\n");
    for i in 0..1_000_000u64 {
        text.push_str(&format!("{i},{}.{}\n", 400 + (i * 7919) % 97, i % 10));
    }
    let path = temp_csv("million.csv", &text);
    // Watch for the progress bar from before the upload: it may come and go between two polls.
    js(
        client,
        "window.__sawProgress = false; new MutationObserver(() => { if (document.querySelector('[data-testid=import-progress]')) window.__sawProgress = true; }).observe(document.body, {childList: true, subtree: true}); return true;",
    )
    .await;
    import(client, &path).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let said = loop {
        let said = notice(client).await;
        if said.contains("imported") || tokio::time::Instant::now() > deadline {
            break said;
        }
    };
    assert!(
        said.contains("imported 1000000 rows into 1 stream"),
        "{said}"
    );
    assert_eq!(
        js(client, "return window.__sawProgress").await,
        true,
        "a progress bar was shown"
    );
    let errors = console_errors(client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    let _ = std::fs::remove_file(path);
    session.close().await;
}

#[tokio::test]
async fn dragging_across_the_chart_freezes_the_baseline_and_k_is_editable() {
    let session = Session::open().await;
    let client = &session.client;
    pause_simulators(client).await;
    import(client, &root().join("spc-wasm/tests/data/viscosity.csv")).await;
    notice(client).await;
    let script = "const c = [...document.querySelectorAll('[data-testid=stream-card]')].find(c => c.textContent.includes('viscosity/value')); if (!c) return 'missing'; c.click(); return 'opened';";
    assert_eq!(js(client, script).await, "opened");
    wait_for(client, "[data-testid=control-chart]", DEADLINE).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let drag = "const c = document.querySelector('[data-testid=control-chart]'); const r = c.getBoundingClientRect(); \
        const at = (f) => ({clientX: r.left + r.width * f, clientY: r.top + r.height / 2, bubbles: true}); \
        c.dispatchEvent(new MouseEvent('mousedown', at(0.15))); c.dispatchEvent(new MouseEvent('mouseup', at(0.55))); return true;";
    js(client, drag).await;
    let said = notice(client).await;
    assert!(said.starts_with("limits now frozen on points "), "{said}");
    let baseline = js(client, "return [...document.querySelectorAll('.stats dd')].map(e => e.textContent).find(t => t.startsWith('points'))").await;
    let expected = said.trim_start_matches("limits now frozen on ");
    assert_eq!(
        baseline,
        serde_json::json!(expected),
        "the chart uses the dragged range"
    );
    // K is part of the tests setting: 3 in a row on one side fires far more often than 9.
    set(client, "tests", "2:3").await;
    wait_for(
        client,
        "[data-testid=signal-row][data-test-number='2']",
        DEADLINE,
    )
    .await;
    session.close().await;
}

#[tokio::test]
async fn a_file_dropped_on_the_page_is_imported() {
    let session = Session::open().await;
    let client = &session.client;
    pause_simulators(client).await;
    let drop = "const dt = new DataTransfer(); \
        dt.items.add(new File(['t,cycle_s\\n1,12.1\\n2,12.0\\n3,11.9\\n4,12.2\\n'], 'dropped.csv', {type: 'text/csv'})); \
        document.querySelector('main').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true})); \
        return true;";
    js(client, drop).await;
    let said = notice(client).await;
    assert!(said.contains("dropped.csv: imported 4 rows"), "{said}");
    let names = js(client, "return [...document.querySelectorAll('[data-testid=stream-card] .name')].map(e => e.textContent)").await;
    assert!(
        names
            .as_array()
            .is_some_and(|n| n.iter().any(|x| x == "dropped/cycle_s")),
        "{names}"
    );
    session.close().await;
}
