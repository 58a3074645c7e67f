//! The probe Worker's own overhead: the TTFT it reports minus the stand-in's scripted delay,
//! per provider, against a baseline in the same run: a native client (reqwest, same machine)
//! sending the very same request built by the same adapter and parsing with the same parser.
//!
//! `cargo run --release -p llmscope-probe-tests --example overhead [-- --quick]`
//! (needs `npm ci` in workers/ and worker-build; `cargo xtask bench` sees to both).

use llmscope_probe_tests::Wrangler;
use llmscope_probes::provider::{self, Outcome, Secrets};
use llmscope_probes::target;
use llmscope_standin::{Script, Standin};
use serde_json::{json, Value};
use std::time::Instant;

const DELAY_MS: u64 = 100;
const TOKEN: &str = "bench-token-0e2f";
const KEY: &str = "bench-key-7a1c";
const PROVIDERS: [&str; 6] = ["openai", "anthropic", "gemini", "bedrock", "ollama", "http"];

struct Keys;
impl Secrets for Keys {
    fn get(&self, _: &str) -> Option<String> {
        Some(KEY.into())
    }
}

fn target(provider: &str, standin: &Standin) -> Value {
    let base = standin.base_url(provider);
    let mut t = match provider {
        "openai" => json!({"base_url": format!("{base}/v1"), "key_secret": "K"}),
        "bedrock" => {
            json!({"base_url": base, "region": "us-east-1", "access_key_secret": "K", "secret_key_secret": "K"})
        }
        "http" => {
            json!({"url": format!("{base}/generate"), "key_secret": "K", "headers": {"Authorization": "Bearer {{key}}"},
                         "body": {"prompt": "{{prompt}}", "stream": true}, "stream": "ndjson", "text_pointer": "/token/text"})
        }
        _ => json!({"base_url": base, "key_secret": "K"}),
    };
    t["name"] = json!(provider);
    t["provider"] = json!(provider);
    t["model"] = json!("m");
    t
}

/// TTFT as a native client sees it: same request, same parser.
async fn native_ttft(client: &reqwest::Client, t: &target::Target) -> f64 {
    let ctx = provider::Context {
        target: t,
        prompt: &t.prompt,
        now_ms: 1_700_000_000_000,
        secrets: &Keys,
    };
    let adapter = provider::adapter(t.provider);
    let req = adapter.request(&ctx).expect("request");
    let mut builder = client.post(&req.url).body(req.body.clone());
    for (k, v) in &req.headers {
        builder = builder.header(k, v);
    }
    let start = Instant::now();
    let mut resp = builder.send().await.expect("send");
    let mut parser = adapter.parser(t);
    let mut out = Outcome::default();
    while let Some(chunk) = resp.chunk().await.expect("chunk") {
        parser.feed(&chunk, &mut out);
        if out.text_chunks > 0 {
            return start.elapsed().as_secs_f64() * 1000.0;
        }
    }
    panic!("no text from {}", t.name);
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rounds = if std::env::args().any(|a| a == "--quick") {
        5
    } else {
        30
    };
    let standin = Standin::start().await.expect("stand-in");
    let targets: Vec<Value> = PROVIDERS.iter().map(|p| target(p, &standin)).collect();
    for p in PROVIDERS {
        let key = (p != "ollama").then(|| KEY.to_string());
        standin.set(
            p,
            Script {
                ttft_ms: DELAY_MS,
                gap_ms: 5,
                chunks: 4,
                key,
                ..Script::default()
            },
        );
    }
    let parsed = target::parse(&Value::Array(targets.clone()).to_string());
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let secrets = [("LLMSCOPE_TOKEN", TOKEN), ("K", KEY)];
    let vars = [("LLMSCOPE_TARGETS", Value::Array(targets).to_string())];
    let wrangler = Wrangler::start("overhead", &vars, &secrets).await;
    let client = reqwest::Client::new();
    println!("{rounds} probes per provider, stand-in delay {DELAY_MS} ms; overhead = TTFT - delay (median)");
    println!("| provider | Worker in wrangler dev | native client (baseline) | Worker - native |");
    println!("|---|---|---|---|");
    let (mut all_worker, mut all_native) = (Vec::new(), Vec::new());
    for t in &parsed.valid {
        let (mut worker, mut native) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let r: Value = client
                .post(format!("{}/probe/{}", wrangler.url, t.name))
                .bearer_auth(TOKEN)
                .send()
                .await
                .expect("probe")
                .json()
                .await
                .expect("json");
            let ttft = r["ttft_ms"].as_f64().unwrap_or_else(|| panic!("{r}"));
            worker.push(ttft - DELAY_MS as f64);
            native.push(native_ttft(&client, t).await - DELAY_MS as f64);
        }
        all_worker.extend_from_slice(&worker);
        all_native.extend_from_slice(&native);
        let (w, n) = (median(&mut worker), median(&mut native));
        println!("| {} | {w:.1} ms | {n:.2} ms | {:.1} ms |", t.name, w - n);
    }
    let (w, n) = (median(&mut all_worker), median(&mut all_native));
    println!("| all | {w:.1} ms | {n:.2} ms | {:.1} ms |", w - n);
}
