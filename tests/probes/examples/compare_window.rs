//! What `GET /compare` costs the Worker at its limit of results per target (5000, fewer for
//! many targets: `llmscope_probes::compare::per_target`), in the worst case for the engine
//! (every target's TTFT the same 5 whole-ms values: a pairwise test's ties between targets that
//! perform alike), against a baseline in
//! the same run: `GET /results` of the very same rows (the D1 read and the answer,
//! without parsing the results or running the engine). The difference is what the Worker
//! spends on the comparison itself, in wasm under `wrangler dev` (workerd): Workers freeze
//! their clock during computation, so the time is taken by the client, on a quiet machine.
//!
//! `cargo run -p llmscope-probe-tests --example compare_window` (needs `npm ci` in workers/ and
//! worker-build; `cargo xtask worker` sees to both).

use llmscope_probe_tests::Wrangler;
use llmscope_probes::compare::per_target;
use llmscope_protocol::compare::Metric;
use llmscope_standin::{Script, Standin};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const TOKEN: &str = "bench-token-4d93";
const STORED: u32 = 5000;
const TARGETS: usize = 20;
const REPEATS: usize = 5;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn timed(http: &reqwest::Client, url: &str) -> Duration {
    let started = Instant::now();
    let r = http
        .get(url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("an answer");
    let status = r.status();
    let body = r.bytes().await.expect("a body");
    assert!(
        status.is_success(),
        "{url}: {status} {}",
        String::from_utf8_lossy(&body)
    );
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let standin = Standin::start().await.expect("the stand-in");
    standin.set("T1", Script::default());
    let names: Vec<String> = (1..=TARGETS).map(|k| format!("T{k}")).collect();
    let targets: Vec<Value> = names
        .iter()
        .map(|n| json!({"name": n, "provider": "ollama", "model": "m", "base_url": standin.base_url(n)}))
        .collect();
    let vars = [("LLMSCOPE_TARGETS", Value::Array(targets).to_string())];
    let wrangler = Wrangler::start("compare-window", &vars, &[("LLMSCOPE_TOKEN", TOKEN)]).await;
    let http = reqwest::Client::new();
    let probe = http
        .post(format!("{}/probe/T1", wrangler.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("a probe");
    assert!(probe.status().is_success());
    // Each target: 5000 copies of that real result, one a second, TTFT in whole ms, the same 5
    // values for every target (ties between alike targets: the engine's worst case), speed
    // without ties.
    for (k, name) in names.iter().enumerate() {
        wrangler.d1(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {STORED}) \
             INSERT INTO results (target, t, ok, json) \
             SELECT '{name}', 1000 * i, 1, json_set((SELECT json FROM results WHERE target = 'T1' LIMIT 1), \
             '$.target', '{name}', '$.t', 1000 * i, '$.ttft_ms', 50 + (i * 7919) % 5, \
             '$.tokens_per_s', 80 + {k} + ((i * 104729) % 3100) / 100.0 + i / 1e7) FROM n"
        ));
    }
    wrangler.d1("DELETE FROM results WHERE t > 1000000000");
    let base = &wrangler.url;
    for k in [1, 2, 4, 8, 20] {
        let targets = &names[..k];
        let limit = per_target(k, Metric::TtftMs);
        let compare = format!("{base}/compare?targets={}", targets.join(","));
        timed(&http, &compare).await; // warm-up
        let mut with_engine = Vec::new();
        let mut read_only = Vec::new();
        for _ in 0..REPEATS {
            with_engine.push(timed(&http, &compare).await);
            let mut reads = Duration::ZERO;
            for t in targets {
                let url = format!("{base}/results?target={t}&limit={limit}");
                reads += timed(&http, &url).await;
            }
            read_only.push(reads);
        }
        let (c, r) = (median(with_engine), median(read_only));
        println!(
            "{k} target(s) x {limit}: GET /compare {:.0} ms, GET /results of the same rows {:.0} ms: the comparison adds {:.0} ms ({:.1}x the read)",
            c.as_secs_f64() * 1e3,
            r.as_secs_f64() * 1e3,
            (c.as_secs_f64() - r.as_secs_f64()) * 1e3,
            c.as_secs_f64() / r.as_secs_f64()
        );
    }
}
