//! Results from a probe Worker, polled by the dashboard: against a stand-in that speaks the
//! Worker's documented results contract (`GET /targets`, `GET /results?target&since&limit`,
//! bearer token, CORS). Successful probes become latency streams; failures are counted, never
//! charted as latency; the token is never stored.

use fantoccini::Client;
use llmscope_e2e::{click, connect_probe, stream_names, wait_for, Session, DEADLINE};
use std::time::Duration;

const TOKEN: &str = "secret-worker-token";

fn results() -> String {
    let items: Vec<String> = (0..40)
        .map(|i| {
            let t = 1_764_201_600_000u64 + i * 60_000;
            if i == 13 || i == 27 {
                format!(r#"{{"target":"gpt4o-mini","provider":"openai","model":"gpt-4o-mini","t":{t},"ok":false,"status":429,"ttft_ms":null,"total_ms":null,"input_tokens":null,"output_tokens":null,"cached_input_tokens":null,"tokens_per_s":null,"cost_usd":null,"error":{{"kind":"rate_limited","message":"slow down","retry_after_s":2}},"extra":{{}}}}"#)
            } else {
                let ttft = 300 + (i * 37) % 50;
                format!(r#"{{"target":"gpt4o-mini","provider":"openai","model":"gpt-4o-mini","t":{t},"ok":true,"status":200,"ttft_ms":{ttft},"total_ms":{},"input_tokens":12,"output_tokens":64,"cached_input_tokens":0,"tokens_per_s":{},"cost_usd":0.00004,"error":null,"quality_pass":{},"extra":{{}}}}"#, ttft + 900, 64.0 / 0.9, i % 4 != 0)
            }
        })
        .collect();
    format!("[{}]", items.join(","))
}

/// A stand-in Worker serving the one target and its results.
async fn stand_in() -> u16 {
    let targets =
        r#"[{"name":"gpt4o-mini","provider":"openai","model":"gpt-4o-mini"}]"#.to_string();
    llmscope_e2e::worker_stand_in(TOKEN, targets, vec![("gpt4o-mini".into(), results())]).await
}

/// The session the app saved in IndexedDB (its streams with their samples), or null.
async fn saved_session(client: &Client) -> serde_json::Value {
    llmscope_e2e::saved_session(client, "current").await
}

#[tokio::test]
async fn worker_results_become_latency_streams_and_failures_are_counted() {
    let port = stand_in().await;
    let session = Session::open().await;
    let client = &session.client;
    let sims = wait_for(client, "[data-testid=simulators]", DEADLINE).await;
    sims.click().await.expect("pause the simulators");
    connect_probe(client, &format!("http://127.0.0.1:{port}"), TOKEN).await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let status = wait_for(client, "[data-testid=probe-status]", DEADLINE)
            .await
            .text()
            .await
            .unwrap_or_default();
        let names = stream_names(client).await;
        if status.contains("gpt4o-mini: 2 failed probes (latest: rate_limited)")
            && names
                == serde_json::json!([
                    "gpt4o-mini/error_rate",
                    "gpt4o-mini/pass_rate",
                    "gpt4o-mini/tokens_per_s",
                    "gpt4o-mini/total_ms",
                    "gpt4o-mini/ttft_ms"
                ])
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "status {status:?}, streams {names}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(3500)).await; // after the next save
    let stored = saved_session(client).await;
    assert!(
        !stored.to_string().contains(TOKEN),
        "the Worker token must never be stored"
    );
    let saved = &stored["session"];
    let counts: Vec<usize> = saved["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .filter(|s| {
            s["id"]
                .as_str()
                .is_some_and(|id| id.starts_with("gpt4o-mini/") && !id.ends_with("_rate"))
        })
        .map(|s| s["samples"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(
        counts,
        vec![38, 38, 38],
        "38 successes: failed probes are not latency values"
    );
    // Every probe, failed or not, is an outcome of the error-rate p chart: 2 of 40 failed.
    let outcomes: Vec<f64> = saved["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .find(|s| s["id"] == "gpt4o-mini/error_rate")
        .and_then(|s| s["samples"].as_array())
        .expect("the error-rate stream")
        .iter()
        .filter_map(|x| x["value"].as_f64())
        .collect();
    assert_eq!((outcomes.len(), outcomes.iter().sum::<f64>()), (40, 2.0));
    // Every successful probe was judged (quality_pass): 10 of the 38 failed their check
    // (i = 0, 4, ..., 36), charted like the error rate.
    let pass_rate = saved["streams"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["id"] == "gpt4o-mini/pass_rate"))
        .expect("the pass-rate stream");
    let verdicts: Vec<f64> = pass_rate["samples"]
        .as_array()
        .expect("samples")
        .iter()
        .filter_map(|x| x["value"].as_f64())
        .collect();
    assert_eq!((verdicts.len(), verdicts.iter().sum::<f64>()), (38, 28.0));
    assert_eq!(pass_rate["settings"]["chart"]["chart"], "p");
    let chart = saved["streams"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["id"] == "gpt4o-mini/error_rate"))
        .map(|s| s["settings"]["chart"]["chart"].clone());
    assert_eq!(chart, Some(serde_json::json!("p")));
    // The full export keeps every probe result as the Worker sent it, failures included, with
    // the OpenTelemetry GenAI names, and never the token.
    click(
        client,
        fantoccini::Locator::XPath("//button[. = 'Export session']"),
    )
    .await;
    let file = llmscope_e2e::downloaded(&session.downloads, "llmscope-session.json").await;
    let text = std::fs::read_to_string(file).expect("the export");
    assert!(
        !text.contains(TOKEN),
        "the Worker token must never be exported"
    );
    let export: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(export["format"], "llmscope-telemetry");
    let results = export["probe_results"].as_array().expect("probe_results");
    assert_eq!(results.len(), 40, "every result, failed ones too");
    let failed = results
        .iter()
        .find(|r| r["ok"] == false)
        .expect("a failure");
    assert_eq!(failed["error"]["retry_after_s"], 2);
    assert_eq!(failed["error.type"], "rate_limited");
    let ok = results.iter().find(|r| r["ok"] == true).expect("a success");
    let ttft = ok["ttft_ms"].as_f64().expect("ttft");
    assert_eq!(
        ok["gen_ai.server.time_to_first_token"].as_f64(),
        Some(ttft / 1000.0)
    );
    assert_eq!(ok["gen_ai.usage.output_tokens"], 64);
    session.close().await;
}
