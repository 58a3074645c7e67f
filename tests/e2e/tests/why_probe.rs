//! Why did it fire (issue 13), end to end for a probe stream: a stand-in Worker serves a
//! target whose TTFT spikes at probes 300 to 302, with two 429s just before and the colo
//! moving from FRA to AMS. The spike's why panel shows the target's system metrics (the 429s
//! with their retry-after, the colo change, the request ids) and ranks rate limiting first,
//! confirmed by those results as the Worker's webhook does.

use fantoccini::{Client, Locator};
use llmscope_e2e::{click, connect_probe, js, pause_simulators, wait_for, Session, DEADLINE};

const TOKEN: &str = "why-worker-token";

/// 320 successful probes a minute apart (TTFT 300 ms, sd 10, seeded; +200 ms at probes 300
/// to 302), and two 429s (retry-after 20 s) between probes 299 and 300.
fn results() -> String {
    let mut normal = llmscope_e2e::normal(0x9e37_79b9_7f4a_7c15u64);
    let t0 = 1_764_201_600_000u64;
    let mut items: Vec<(u64, String)> = (0..320u64)
        .map(|i| {
            let t = t0 + i * 60_000;
            let spike = if (300..=302).contains(&i) { 200.0 } else { 0.0 };
            let ttft = 300.0 + 10.0 * normal() + spike;
            let colo = if i >= 300 { "AMS" } else { "FRA" };
            let r = format!(
                r#"{{"target":"m","provider":"openai","model":"gpt-4o-mini","t":{t},"ok":true,"status":200,"ttft_ms":{ttft:.1},"total_ms":{:.1},"input_tokens":12,"output_tokens":64,"cached_input_tokens":0,"tokens_per_s":70,"cost_usd":null,"error":null,"extra":{{"colo":"{colo}","request_id":"req_{i}","processing_ms":250}}}}"#,
                ttft + 900.0
            );
            (t, r)
        })
        .collect();
    for dt in [20_000, 40_000] {
        let t = t0 + 299 * 60_000 + dt;
        items.push((t, format!(
            r#"{{"target":"m","provider":"openai","model":"gpt-4o-mini","t":{t},"ok":false,"status":429,"ttft_ms":null,"total_ms":null,"input_tokens":null,"output_tokens":null,"cached_input_tokens":null,"tokens_per_s":null,"cost_usd":null,"error":{{"kind":"rate_limited","message":"slow down","retry_after_s":20}},"extra":{{}}}}"#
        )));
    }
    items.sort_by_key(|r| r.0);
    let items: Vec<String> = items.into_iter().map(|r| r.1).collect();
    format!("[{}]", items.join(","))
}

/// The text of the open panel's system-metrics row `metric`, and whether it is marked changed.
async fn row(client: &Client, metric: &str) -> (String, bool) {
    let script = format!(
        "const r = document.querySelector('[data-testid=system-row][data-metric=\"{metric}\"]'); \
         return r ? [r.textContent, r.classList.contains('changed')] : null;"
    );
    let got = js(client, &script).await;
    (
        got[0].as_str().unwrap_or_default().to_string(),
        got[1].as_bool().unwrap_or_default(),
    )
}

#[tokio::test]
async fn a_probe_spikes_panel_shows_its_system_metrics_and_rate_limiting_first() {
    let targets = r#"[{"name":"m","provider":"openai","model":"gpt-4o-mini"}]"#.to_string();
    let port = llmscope_e2e::worker_stand_in(TOKEN, targets, vec![("m".into(), results())]).await;
    let session = Session::open().await;
    let client = &session.client;
    pause_simulators(client).await;
    connect_probe(client, &format!("http://127.0.0.1:{port}"), TOKEN).await;
    let card = "//article[.//h2[. = 'm/ttft_ms']]";
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while client.find(Locator::XPath(card)).await.is_err() {
        assert!(tokio::time::Instant::now() < deadline, "no m/ttft_ms card");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    click(client, Locator::XPath(card)).await;
    wait_for(client, "[data-testid=episode-row]", DEADLINE).await;
    let first = js(
        client,
        "const rows = [...document.querySelectorAll('[data-testid=episode-row]')]; \
         const row = rows.find(r => +r.dataset.first >= 295 && +r.dataset.first <= 302); \
         if (!row) return rows.map(r => r.dataset.first + '-' + r.dataset.last).join(' '); \
         row.click(); return +row.dataset.first;",
    )
    .await;
    let first = first
        .as_u64()
        .unwrap_or_else(|| panic!("no episode at the spike; episodes: {first}"));
    wait_for(
        client,
        &format!("[data-testid=why-panel][data-first='{first}'] [data-testid=system-metrics]"),
        DEADLINE,
    )
    .await;

    let (limited, changed) = row(client, "429").await;
    assert!(limited.contains("2, largest retry-after 20 s"), "{limited}");
    assert!(changed, "the 429s row is marked changed: {limited}");
    let (colo, changed) = row(client, "colo").await;
    assert!(colo.contains("FRA") && colo.contains("AMS"), "{colo}");
    assert!(changed, "the colo row is marked changed: {colo}");
    let ids = wait_for(client, "[data-testid=request-ids]", DEADLINE)
        .await
        .text()
        .await
        .unwrap_or_default();
    // The episode's last probe's id comes last (one probe per point from 0).
    let last = js(
        client,
        "return +document.querySelector('[data-testid=why-panel]').dataset.last",
    )
    .await;
    let last = last.as_u64().expect("the panel's last point");
    assert!(
        ids.ends_with(&format!("req_{last}")),
        "{ids}, last point {last}"
    );
    let cause = js(
        client,
        "return document.querySelector('[data-testid=suggestion]').dataset.cause",
    )
    .await;
    assert_eq!(cause, "rate limiting");
}
