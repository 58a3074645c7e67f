//! Helpers for the Compare view's tests: run a comparison and read its table, as the stand-in
//! Worker's test (tests/compare.rs) and the `wrangler dev` Worker's (tests/worker_compare.rs)
//! both do.

use crate::*;

/// The text of the cell `testid` in the Compare table's row of target `name` (empty when
/// there is no such cell).
pub async fn compare_cell(client: &Client, name: &str, testid: &str) -> String {
    let script = format!(
        "const r = document.querySelector('[data-testid=compare-row][data-name=\"{name}\"]'); \
         const c = r && r.querySelector('[data-testid={testid}]'); return c ? c.textContent : null;"
    );
    js(client, &script)
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Presses Compare and waits for the full report (not the table shown first); returns the
/// recommended target.
pub async fn run_compare(client: &Client) -> String {
    // A marker on the old report tells it from the new one.
    js(client, "const t = document.querySelector('[data-testid=compare-table]'); if (t) t.dataset.old = '1'; return true;").await;
    click(client, Locator::Css("[data-testid=compare-run]")).await;
    eventually("the comparison's report", DEADLINE, || async {
        let seen = js(
            client,
            "const t = document.querySelector('[data-testid=compare-table][data-stage=report]'); \
             const s = document.querySelector('[data-testid=compare-status]'); \
             return t && !t.dataset.old ? null : (s ? s.textContent : 'no status');",
        )
        .await;
        match seen.as_str() {
            Some(status) => Err(status.to_string()),
            None => Ok(()),
        }
    })
    .await;
    wait_for(client, "[data-testid=compare-recommended]", DEADLINE)
        .await
        .text()
        .await
        .unwrap_or_default()
}

/// The texts of every element of `testid` (the recommendation's reasons, its caveats), in
/// page order.
pub async fn texts(client: &Client, testid: &str) -> Vec<String> {
    let script = format!(
        "return [...document.querySelectorAll('[data-testid={testid}]')].map(e => e.textContent)"
    );
    let value = js(client, &script).await;
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{testid}: {e}: {value}"))
}

/// The scenario's truth in the Compare table (tests/probes/src/scenario.rs, which both the
/// stand-in Worker's and the `wrangler dev` Worker's tests probe): C fails 5 % of its probes,
/// D is out of statistical control and A, B and C are in control.
pub async fn assert_scenario_table(client: &Client) {
    let c_errors = compare_cell(client, "C", "compare-error-rate").await;
    assert!(
        c_errors.starts_with("5.0 % ["),
        "C's error rate shown: {c_errors}"
    );
    let d = client
        .find(Locator::Css("[data-testid=compare-row][data-name=D]"))
        .await
        .expect("D's row");
    assert_eq!(
        d.attr("data-in-control").await.ok().flatten().as_deref(),
        Some("false")
    );
    assert_eq!(compare_cell(client, "D", "compare-in-control").await, "no");
    for name in ["A", "B", "C"] {
        let shown = compare_cell(client, name, "compare-in-control").await;
        assert_eq!(shown, "yes", "{name} in control");
    }
}
