//! The probe Worker end to end: built by wrangler.toml's build command, run in `wrangler dev`
//! (workerd, local D1), probing the provider stand-ins over real HTTP on 127.0.0.1.

use llmscope_probe_tests::{targets, Answer, Webhook, Wrangler};
use llmscope_standin::{thinking_text, Fault, Script, Standin};
use serde_json::{json, Value};

const TOKEN: &str = "worker-token-5f2a9c71";
const SECRETS: [(&str, &str); 7] = [
    ("LLMSCOPE_TOKEN", TOKEN),
    ("OPENAI_API_KEY", "sk-openai-test-31f8c2"),
    ("ANTHROPIC_API_KEY", "sk-ant-test-77d0e4"),
    ("GEMINI_API_KEY", "AIza-test-a81b3c"),
    ("AWS_ACCESS_KEY_ID", "AKIDPROBETEST4821"),
    ("AWS_SECRET_ACCESS_KEY", "aws-secret-test-90c7ab"),
    ("CUSTOM_KEY", "custom-key-test-5e6d"),
];

fn secret(name: &str) -> &'static str {
    SECRETS
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| *v)
        .unwrap()
}

const PROVIDERS: [&str; 6] = ["openai", "anthropic", "gemini", "bedrock", "ollama", "http"];

/// A target of `provider` whose stand-in profile is the target's own name.
fn target(provider: &str, name: &str, standin: &Standin) -> Value {
    let http = || {
        let base = standin.base_url(name);
        json!({"name": name, "provider": "http", "model": "house-model",
               "url": format!("{base}/generate"), "key_secret": "CUSTOM_KEY",
               "headers": {"Authorization": "Bearer {{key}}"},
               "body": {"prompt": "{{prompt}}", "stream": true},
               "stream": "ndjson", "text_pointer": "/token/text",
               "input_tokens_pointer": "/stats/prompt_tokens",
               "output_tokens_pointer": "/stats/generated_tokens",
               "price": {"input": 1.0, "output": 2.0}})
    };
    let mut t = match provider {
        "http" => http(),
        _ => targets::target(provider, name, standin).unwrap_or_else(|| panic!("{provider}")),
    };
    t["timeout_ms"] = json!(2000);
    t
}

/// The credential a provider's stand-in profile accepts.
fn credential(provider: &str) -> Option<String> {
    match provider {
        "openai" => Some(secret("OPENAI_API_KEY").into()),
        "anthropic" => Some(secret("ANTHROPIC_API_KEY").into()),
        "gemini" => Some(secret("GEMINI_API_KEY").into()),
        "bedrock" => Some(secret("AWS_ACCESS_KEY_ID").into()),
        "http" => Some(secret("CUSTOM_KEY").into()),
        _ => None,
    }
}

/// USD per million (input, output) the Worker should price each "ok" target at.
fn price(provider: &str) -> Option<(f64, f64)> {
    match provider {
        "openai" => Some((0.15, 0.60)),
        "anthropic" => Some((0.80, 4.00)),
        "gemini" => Some((0.10, 0.40)),
        "bedrock" => Some((0.25, 1.25)),
        "http" => Some((1.0, 2.0)),   // the target's own override
        "ollama" => Some((0.0, 0.0)), // a local model: no per-token price
        _ => None,
    }
}

const TTFT_MS: u64 = 120;
const GAP_MS: u64 = 15;
const CHUNKS: u32 = 6;

fn ok_script(provider: &str) -> Script {
    Script {
        ttft_ms: TTFT_MS,
        gap_ms: GAP_MS,
        chunks: CHUNKS,
        input_tokens: 1200,
        output_tokens: 9,
        key: credential(provider),
        load_duration_ms: 30,
        ..Script::default()
    }
}

/// (scenario, fault, expected kind).
fn faults() -> Vec<(&'static str, Fault, &'static str)> {
    vec![
        ("unauthorized", Fault::Unauthorized, "auth"),
        ("not-found", Fault::NotFound, "not_found"),
        (
            "rate-limited",
            Fault::RateLimited { retry_after_s: 7 },
            "rate_limited",
        ),
        ("server-error", Fault::ServerError, "server"),
        ("cut", Fault::CutMidway, "stream_cut"),
        ("corrupt", Fault::CorruptFrame, "malformed"),
        ("hang", Fault::Hang, "timeout"),
        ("stream-error", Fault::StreamError, "server"),
    ]
}

struct Client {
    http: reqwest::Client,
    url: String,
    /// Every body the Worker answered, to look for leaked secrets.
    seen: std::sync::Mutex<String>,
}

impl Client {
    async fn call(&self, method: &str, path: &str, token: Option<&str>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        self.seen.lock().unwrap().push_str(&text);
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// The stored results of `name`: a refused or malformed answer fails the test rather than
    /// reading as "no results".
    async fn stored(&self, name: &str) -> Vec<Value> {
        let (status, r) = self
            .call("GET", &format!("/results?target={name}"), Some(TOKEN))
            .await;
        assert_eq!(status, 200, "/results?target={name}: {r}");
        r.as_array()
            .cloned()
            .unwrap_or_else(|| panic!("/results?target={name} is not an array: {r}"))
    }

    async fn probe(&self, name: &str) -> Value {
        let (status, body) = self
            .call("POST", &format!("/probe/{name}"), Some(TOKEN))
            .await;
        assert_eq!(status, 200, "{name}: {body}");
        body
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The two tests run one after the other: each starts its own wrangler dev, and timing checks
/// should not share two cores with the other's cron runs.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn close(actual: f64, expected: f64, tolerance: f64) -> bool {
    (actual - expected).abs() <= tolerance
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_measure_every_provider_and_classify_every_fault() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let standin = Standin::start().await.unwrap();
    let mut targets = Vec::new();
    for p in PROVIDERS {
        let ok = format!("{p}-ok");
        targets.push(target(p, &ok, &standin));
        standin.set(&ok, ok_script(p));
        for (scenario, fault, _) in faults() {
            let name = format!("{p}-{scenario}");
            targets.push(target(p, &name, &standin));
            standin.set(
                &name,
                Script {
                    fault: Some(fault),
                    ..ok_script(p)
                },
            );
        }
    }
    targets[0]["fresh_prompt"] = json!(true);
    // Two bad targets: a missing secret, and an unknown provider.
    targets.push(json!({"name": "no-key", "provider": "anthropic", "model": "claude-3-5-haiku", "key_secret": "MISSING_KEY"}));
    targets.push(json!({"name": "typo", "provider": "opneai", "model": "x"}));
    let vars = [
        ("LLMSCOPE_TARGETS", Value::Array(targets).to_string()),
        ("LLMSCOPE_ORIGINS", "http://127.0.0.1:8080".to_string()),
        ("LLMSCOPE_SHARE_MAX_BYTES", "4096".to_string()),
        ("LLMSCOPE_SHARE_QUOTA_PER_DAY", "2".to_string()),
        // A bad price table: reported, and the probes price with the shipped one (the costs
        // checked below are the shipped prices).
        (
            "LLMSCOPE_PRICES",
            r#"{"taken": "2026-12-01", "prices": [{"provider": "openai", "model": "gpt-4o-mini", "input": -1, "output": 0.6}]}"#.to_string(),
        ),
    ];
    let wrangler = Wrangler::start("probes", &vars, &SECRETS).await;
    let client = Client {
        http: reqwest::Client::new(),
        url: wrangler.url.clone(),
        seen: Default::default(),
    };

    // /health without the token says only whether the Worker is up; with it, it names each
    // configuration problem by target and field.
    let (status, open) = client.call("GET", "/health", None).await;
    assert_eq!(status, 200);
    let keys: Vec<&String> = open.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["ok", "version"], "{open}");
    let (status, health) = client.call("GET", "/health", Some(TOKEN)).await;
    assert_eq!(status, 200);
    assert_eq!(health["undelivered_alerts"], 0, "{health}");
    assert_eq!(health["ok"], false, "{health}");
    let problems = health["problems"].as_array().unwrap();
    assert!(
        problems.iter().any(|p| p["target"] == "no-key"
            && p["field"] == "key_secret"
            && p["message"]
                .as_str()
                .unwrap()
                .contains("MISSING_KEY is not set")),
        "{health}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p["target"] == "typo" && p["field"] == "provider"),
        "{health}"
    );
    assert!(
        problems.iter().any(|p| p["field"] == "LLMSCOPE_PRICES"
            && p["message"]
                .as_str()
                .unwrap()
                .starts_with("prices[0].input: -1 is not a price")),
        "{health}"
    );
    assert_ne!(
        health["prices_taken"], "2026-12-01",
        "the shipped date: {health}"
    );
    let (status, body) = client.call("POST", "/probe/typo", Some(TOKEN)).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("target typo: provider: unknown variant `opneai`"),
        "{body}"
    );
    let missing = client.probe("no-key").await;
    assert_eq!(
        (missing["ok"].clone(), missing["error"]["kind"].clone()),
        (json!(false), json!("auth")),
        "{missing}"
    );

    // Every endpoint but /health needs the token.
    for (method, path) in [
        ("GET", "/targets"),
        ("POST", "/probe/openai-ok"),
        ("GET", "/results?target=openai-ok"),
        ("GET", "/nope"),
    ] {
        for token in [None, Some("wrong-token"), Some("worker-token-5f2a9c7")] {
            let (status, body) = client.call(method, path, token).await;
            assert_eq!(status, 401, "{method} {path} with {token:?}: {body}");
        }
    }
    let lowercase = client
        .http
        .get(format!("{}/targets", wrangler.url))
        .header("authorization", format!("bearer {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lowercase.status(), 200, "the scheme is case-insensitive");
    let (_, list) = client.call("GET", "/targets", Some(TOKEN)).await;
    assert_eq!(list.as_array().unwrap().len(), 6 * 9 + 1, "{list}");
    assert_eq!(
        list[0],
        json!({"name": "openai-ok", "provider": "openai", "model": "gpt-4o-mini"})
    );

    // CORS: the listed origin only.
    let preflight = |origin: &'static str| {
        client
            .http
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/results", wrangler.url),
            )
            .header("origin", origin)
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("http://127.0.0.1:8080").await.unwrap();
    assert_eq!(allowed.status(), 204);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://127.0.0.1:8080"
    );
    let refused = preflight("https://elsewhere.example").await.unwrap();
    assert_eq!(refused.status(), 204, "answered, only without CORS headers");
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());

    // Latency: one provider at a time, so probes do not share the CPU. Each provider is
    // judged on its median of three probes: one probe can lose a scheduler slice to a
    // neighbour on these shared machines, the median cannot.
    let mut overheads = Vec::new();
    let expected_total = (TTFT_MS + GAP_MS * u64::from(CHUNKS - 1)) as f64;
    for p in PROVIDERS {
        let (mut ttfts, mut totals) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            let r = client.probe(&format!("{p}-ok")).await;
            assert_eq!(r["ok"], true, "{r}");
            assert_eq!(r["status"], 200, "{r}");
            assert!(r["error"].is_null(), "{r}");
            let ttft = r["ttft_ms"].as_f64().unwrap();
            let total = r["total_ms"].as_f64().unwrap();
            // The first byte of any kind: never after the first text. Where the provider
            // sends something before any text (a role chunk, message_start, messageStart), it
            // comes before the stand-in's delay, where the first text cannot.
            let ttfb = r["extra"]["ttfb_ms"].as_f64().unwrap();
            assert!(ttfb >= 0.0 && ttfb <= ttft, "{p}: {r}");
            if ["openai", "anthropic", "bedrock"].contains(&p) {
                assert!(
                    ttfb < TTFT_MS as f64 - 2.0,
                    "{p}: first byte at {ttfb} ms: {r}"
                );
            }
            assert_eq!(
                (r["input_tokens"].as_u64(), r["output_tokens"].as_u64()),
                (Some(1200), Some(9)),
                "{p}: {r}"
            );
            let speed = r["tokens_per_s"].as_f64().unwrap();
            assert!(
                close(speed, 9.0 / ((total - ttft) / 1000.0), 1e-6),
                "{p}: {speed}"
            );
            match price(p) {
                Some((input, output)) => {
                    let cost = r["cost_usd"].as_f64().unwrap();
                    assert!(
                        close(cost, (1200.0 * input + 9.0 * output) / 1e6, 1e-12),
                        "{p}: cost {cost}"
                    );
                }
                None => assert!(r["cost_usd"].is_null(), "{p}: {r}"),
            }
            ttfts.push(ttft);
            totals.push(total);
            overheads.push(ttft - TTFT_MS as f64);
        }
        let (ttft, total) = (median(&mut ttfts), median(&mut totals));
        eprintln!("{p}: TTFT {ttfts:?} ms, total {totals:?} ms");
        // The definitions, not the speed: TTFT comes after the stand-in's delay and before the
        // stream is half through (the first byte or the last token would fall outside), and the
        // total covers the whole stream. The upper margins absorb a loaded machine.
        let half_stream = (GAP_MS * u64::from(CHUNKS - 1)) as f64 / 2.0;
        assert!(
            (TTFT_MS as f64 - 2.0..TTFT_MS as f64 + half_stream).contains(&ttft),
            "{p}: median TTFT {ttft} ms ({ttfts:?}), the stand-in waited {TTFT_MS}"
        );
        assert!(
            (expected_total - 2.0..expected_total + TTFT_MS as f64 / 2.0).contains(&total),
            "{p}: median total {total} ms ({totals:?}), the stand-in took {expected_total}"
        );
    }
    let r = client.probe("ollama-ok").await;
    assert_eq!(r["extra"]["load_duration_ms"], 30.0, "{r}");
    let r = client.probe("bedrock-ok").await;
    assert_eq!(
        r["extra"]["latency_ms"], expected_total,
        "Bedrock's own latencyMs, as the stand-in reports it: {r}"
    );
    overheads.sort_by(f64::total_cmp);
    eprintln!(
        "worker overhead (reported TTFT - stand-in delay) over {} probes: median {:.1} ms, max {:.1} ms",
        overheads.len(),
        overheads[overheads.len() / 2],
        overheads[overheads.len() - 1]
    );

    // A fresh prompt per probe defeats provider caches: a new 64-bit nonce in front of the
    // prompt on each of the three probes.
    let prompts: Vec<String> = standin
        .requests("openai-ok")
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_str(&r.body).unwrap();
            body["messages"][0]["content"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(prompts.len(), 3, "{prompts:?}");
    let nonces: std::collections::BTreeSet<&str> = prompts
        .iter()
        .map(|p| {
            let nonce = p
                .strip_prefix('[')
                .and_then(|p| p.split_once("] "))
                .map(|(n, _)| n)
                .unwrap_or_else(|| panic!("no nonce: {p:?}"));
            assert!(
                nonce.len() == 16 && nonce.bytes().all(|b| b.is_ascii_hexdigit()),
                "{p:?}"
            );
            nonce
        })
        .collect();
    assert_eq!(nonces.len(), 3, "a new nonce each time: {prompts:?}");
    let sigv4 = standin.requests("bedrock-ok")[0]
        .header("authorization")
        .unwrap()
        .to_string();
    assert!(
        sigv4.starts_with("AWS4-HMAC-SHA256 Credential=AKIDPROBETEST4821/"),
        "{sigv4}"
    );

    // Every fault of every provider, at once: classified, stored, never a latency.
    let names: Vec<(String, &str)> = PROVIDERS
        .iter()
        .flat_map(|p| {
            faults()
                .into_iter()
                .map(move |(s, _, kind)| (format!("{p}-{s}"), kind))
        })
        .collect();
    let results = futures_util::future::join_all(names.iter().map(|(n, _)| client.probe(n))).await;
    for ((name, kind), r) in names.iter().zip(&results) {
        assert_eq!(r["ok"], false, "{name}: {r}");
        assert_eq!(r["error"]["kind"], *kind, "{name}: {r}");
        assert!(
            r["ttft_ms"].is_null()
                && r["total_ms"].is_null()
                && r["tokens_per_s"].is_null()
                && r["extra"].get("ttfb_ms").is_none(),
            "{name}: {r}"
        );
        if name.ends_with("rate-limited") {
            assert_eq!(r["error"]["retry_after_s"], 7.0, "{name}: {r}");
        }
        let (_, stored) = client
            .call(
                "GET",
                &format!("/results?target={name}&since=0&limit=10"),
                Some(TOKEN),
            )
            .await;
        assert_eq!(stored.as_array().map(Vec::len), Some(1), "{name}: {stored}");
        assert_eq!(&stored[0], r, "{name}");
    }
    let auth = &results[0];
    assert!(
        auth["error"]["message"]
            .as_str()
            .unwrap()
            .contains("[redacted]"),
        "{auth}"
    );

    // Results: oldest first, `since` exclusive, `limit` honoured, bad parameters named.
    let (_, all) = client
        .call("GET", "/results?target=openai-ok", Some(TOKEN))
        .await;
    let all = all.as_array().unwrap().clone();
    assert_eq!(all.len(), 3);
    assert!(all
        .windows(2)
        .all(|w| w[0]["t"].as_i64() <= w[1]["t"].as_i64()));
    let since = all[0]["t"].as_i64().unwrap();
    let (_, later) = client
        .call(
            "GET",
            &format!("/results?target=openai-ok&since={since}&limit=1"),
            Some(TOKEN),
        )
        .await;
    assert_eq!(later.as_array().unwrap().len(), 1);
    assert_eq!(later[0], all[1]);
    let (status, bad) = client
        .call("GET", "/results?target=openai-ok&limit=lots", Some(TOKEN))
        .await;
    assert_eq!(status, 400);
    assert!(
        bad["error"].as_str().unwrap().starts_with("limit=lots"),
        "{bad}"
    );

    // Shares: upload needs the token, reading needs only the id; limits are enforced.
    let share = |body: Vec<u8>, token: Option<&'static str>| {
        let mut req = client
            .http
            .post(format!("{}/share", wrangler.url))
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let blob: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
    assert_eq!(share(blob.clone(), None).await.unwrap().status(), 401);
    let created = share(blob.clone(), Some(TOKEN)).await.unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 22, "{created}");
    let fetched = client
        .http
        .get(format!("{}/share/{id}", wrangler.url))
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.bytes().await.unwrap().to_vec(), blob);
    let other = format!("{}{}", &id[..21], if id.ends_with('A') { 'B' } else { 'A' });
    let (status, body) = client.call("GET", &format!("/share/{other}"), None).await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = client.call("GET", "/share/..%2Fetc", None).await;
    assert_eq!(status, 400);
    let too_big = share(vec![1u8; 5000], Some(TOKEN)).await.unwrap();
    assert_eq!(too_big.status(), 413);
    let said: Value = too_big.json().await.unwrap();
    assert!(
        said["error"].as_str().unwrap().contains("at most 4096"),
        "{said}"
    );

    // The token's quota: two shares a day here (the refused ones above do not count).
    assert_eq!(
        share(vec![3u8; 10], Some(TOKEN)).await.unwrap().status(),
        201
    );
    let over = share(vec![3u8; 10], Some(TOKEN)).await.unwrap();
    assert_eq!(over.status(), 429);
    let said: Value = over.json().await.unwrap();
    assert!(
        said["error"]
            .as_str()
            .unwrap()
            .contains("LLMSCOPE_SHARE_QUOTA_PER_DAY"),
        "{said}"
    );

    // A chunked body (no content-length) over the limit is refused while it is read. Sent by
    // curl, which closes its connection after: wrangler dev waits for the unread rest of a
    // refused chunked body before reading another request on that connection.
    let body = wrangler.state_dir().join("../chunked.bin");
    std::fs::write(&body, vec![2u8; 10_000]).unwrap();
    let out = std::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "60",
        ])
        .args(["-H", "transfer-encoding: chunked", "-H"])
        .arg(format!("authorization: Bearer {TOKEN}"))
        .arg("--data-binary")
        .arg(format!("@{}", body.display()))
        .arg(format!("{}/share", wrangler.url))
        .output()
        .expect("curl");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "413");

    // Wrong tokens, again and again: ten are free (the right tokens since the 401s above
    // cleared the count), the eleventh makes the client wait, and while it waits every
    // request is refused, even with the right token.
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let (status, _) = client.call("GET", "/targets", Some("guess")).await;
        statuses.push(status);
    }
    assert_eq!(statuses, [[401; 11].as_slice(), &[429]].concat());
    let (status, body) = client.call("GET", "/targets", Some(TOKEN)).await;
    assert_eq!(status, 429, "{body}");

    // No response and no log line holds a secret.
    let seen = client.seen.lock().unwrap().clone();
    let log = wrangler.log();
    for (name, value) in SECRETS {
        assert!(!seen.contains(value), "a response holds {name}");
        assert!(!log.contains(value), "wrangler's log holds {name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cron_stores_every_target_and_alerts_once_on_a_shift() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let standin = Standin::start().await.unwrap();
    let webhook = Webhook::start().await;
    // Output speed varies per request (gap jitter), as a real model's does: with a constant
    // speed the chart's sigma would be the clock's 1 ms granularity, and any scheduler hiccup
    // on these shared machines would be a genuine out-of-control point.
    let steady = Script {
        ttft_ms: 40,
        jitter_ms: 20,
        gap_ms: 20,
        gap_jitter_ms: 10,
        chunks: 8,
        key: credential("ollama"),
        ..Script::default()
    };
    let shifty = Script {
        ttft_ms: 60,
        jitter_ms: 20,
        key: credential("openai"),
        ..steady.clone()
    };
    standin.set("shifty", shifty.clone());
    standin.set("steady", steady.clone());
    // Six more targets, slow on the first run: with eight targets the cron must not open more
    // than the six connections Workers allow at once.
    let extras: Vec<String> = (0..6).map(|i| format!("extra-{i}")).collect();
    let slow = Script {
        ttft_ms: 500,
        jitter_ms: 0,
        ..steady.clone()
    };
    let mut targets = Vec::new();
    for name in &extras {
        targets.push(target("ollama", name, &standin));
        standin.set(name, slow.clone());
    }
    targets.push(target("openai", "shifty", &standin));
    targets.push(target("ollama", "steady", &standin));
    standin.set("steady", slow.clone());
    let targets = Value::Array(targets);
    // Test 1 only: the shift is a 260 ms jump, which test 1 catches at its first point. With
    // all eight tests an unshifted chart can false-alarm in its 8 Phase II points (one run saw
    // test 3, six speeds in a row rising, on the stand-in's jitter), and "one alert for one
    // shift" would then depend on chance, not on the Worker.
    let vars = [
        ("LLMSCOPE_TARGETS", targets.to_string()),
        ("LLMSCOPE_WEBHOOK", webhook.url()),
        ("LLMSCOPE_TESTS", "1".to_string()),
    ];
    let wrangler = Wrangler::start("cron", &vars, &SECRETS).await;
    let client = Client {
        http: reqwest::Client::new(),
        url: wrangler.url.clone(),
        seen: Default::default(),
    };
    let cron = || {
        client
            .http
            .get(format!("{}/__scheduled?cron=*/5+*+*+*+*", wrangler.url))
            .send()
    };

    assert_eq!(cron().await.unwrap().status(), 200);
    assert_eq!(
        (
            client.stored("shifty").await.len(),
            client.stored("steady").await.len()
        ),
        (1, 1)
    );
    // At most six probes at once: the six slow targets come first, so the seventh request was
    // sent only when one of them had ended, which takes the stand-in's 500 ms at least.
    let mut arrivals: Vec<std::time::Instant> = extras
        .iter()
        .chain(["steady".to_string(), "shifty".to_string()].iter())
        .flat_map(|n| standin.requests(n))
        .map(|r| r.received_at)
        .collect();
    arrivals.sort();
    assert_eq!(arrivals.len(), 8);
    let waited = arrivals[6] - arrivals[0];
    assert!(
        waited >= std::time::Duration::from_millis(400),
        "the 7th probe started {waited:?} after the first"
    );
    for name in extras.iter().chain(["steady".to_string()].iter()) {
        let fast = Script {
            key: None,
            ..steady.clone()
        };
        standin.set(name, fast);
    }
    for _ in 1..20 {
        cron().await.unwrap();
    }
    assert!(
        webhook.received().is_empty(),
        "no alert during the baseline: {:?}",
        webhook.received()
    );
    standin.set(
        "shifty",
        Script {
            ttft_ms: 320,
            ..shifty
        },
    );
    for _ in 0..8 {
        cron().await.unwrap();
    }
    let history = client.stored("shifty").await;
    assert_eq!(
        (history.len(), client.stored("steady").await.len()),
        (28, 28)
    );
    assert!(history.iter().all(|r| r["ok"] == true), "{history:?}");

    let alerts: Vec<Value> = webhook
        .received()
        .into_iter()
        .filter(|b| b["llmscope"]["target"] == "shifty")
        .collect();
    assert_eq!(alerts.len(), 1, "one alert for one shift: {alerts:#?}");
    let body = &alerts[0];
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .starts_with("LLMscope: shifty\n• ttft_ms is out of control"),
        "{body}"
    );
    let first = &body["llmscope"]["alerts"][0];
    assert_eq!(first["metric"], "ttft_ms");
    assert_eq!(
        first["t"], history[20]["t"],
        "the alert is at the first shifted probe"
    );
    assert_eq!(first["tests"], json!([1]), "{first}");
    let log = wrangler.log();
    for (name, value) in SECRETS {
        assert!(!log.contains(value), "wrangler's log holds {name}");
        assert!(!body.to_string().contains(value), "the alert holds {name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_alerts_once_and_no_alert_is_lost_when_the_webhook_fails() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let standin = Standin::start().await.unwrap();
    let webhook = Webhook::start().await;
    let healthy = Script {
        ttft_ms: 5,
        gap_ms: 1,
        chunks: 2,
        ..Script::default()
    };
    standin.set("outage", healthy.clone());
    let vars = [
        (
            "LLMSCOPE_TARGETS",
            json!([target("ollama", "outage", &standin)]).to_string(),
        ),
        ("LLMSCOPE_WEBHOOK", webhook.url()),
        ("LLMSCOPE_WEBHOOK_TIMEOUT_MS", "1000".to_string()),
    ];
    let wrangler = Wrangler::start("outage", &vars, &SECRETS).await;
    let client = Client {
        http: reqwest::Client::new(),
        url: wrangler.url.clone(),
        seen: Default::default(),
    };
    let cron = || async {
        let r = client
            .http
            .get(format!("{}/__scheduled?cron=*/5+*+*+*+*", wrangler.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    };
    let undelivered = || async {
        let (status, health) = client.call("GET", "/health", Some(TOKEN)).await;
        assert_eq!(status, 200, "{health}");
        health["undelivered_alerts"].clone()
    };
    let error_rate_alerts = |bodies: Vec<Value>| -> Vec<Value> {
        bodies
            .iter()
            .flat_map(|b| {
                b["llmscope"]["alerts"]
                    .as_array()
                    .cloned()
                    .unwrap_or_else(|| panic!("a webhook body without alerts: {b}"))
            })
            .filter(|a| a["metric"] == "error_rate")
            .collect()
    };

    // 200 good probes: the error rate's baseline (20 subgroups of 10) has no failure at all.
    for _ in 0..200 {
        cron().await;
    }
    assert!(error_rate_alerts(webhook.received()).is_empty());

    // Then everything fails. The first failed subgroup completes at the 210th probe; the
    // webhook hangs on all three attempts of that run, so the alert waits in the outbox.
    webhook.answer_next(&[
        Answer::Hang,
        Answer::Hang,
        Answer::Hang,
        Answer::Status(500),
    ]);
    standin.set(
        "outage",
        Script {
            fault: Some(Fault::ServerError),
            ..healthy
        },
    );
    for _ in 0..10 {
        cron().await;
    }
    let tried = webhook.attempts();
    let hung = tried.iter().filter(|(_, a)| *a == Answer::Hang).count();
    assert_eq!(hung, 3, "three attempts in that run: {tried:?}");
    assert!(error_rate_alerts(webhook.received()).is_empty());
    assert_eq!(undelivered().await, 1);

    // The next run tries again: 500, then 200. Delivered once, and never again.
    cron().await;
    assert_eq!(undelivered().await, 0);
    for _ in 0..89 {
        cron().await;
    }
    let results = client.stored("outage").await;
    assert_eq!(results.len(), 300);
    assert_eq!(results.iter().filter(|r| r["ok"] == false).count(), 100);
    let delivered = error_rate_alerts(webhook.received());
    assert_eq!(delivered.len(), 1, "one outage, one alert: {delivered:#?}");
    assert_eq!(delivered[0]["value"], 1.0);
    assert_eq!(delivered[0]["center"], 0.0);
    assert_eq!(delivered[0]["t"], results[209]["t"]);
    assert_eq!(
        webhook
            .attempts()
            .iter()
            .filter(|(_, a)| *a == Answer::Status(500))
            .count(),
        1
    );
    assert_eq!(undelivered().await, 0);
}

/// Providers as they are today (issue 12): OpenAI's reasoning models and their token cap
/// field, reasoning tokens counted apart, time to the first byte, and a rate limit's
/// `retry-after` given as an HTTP date.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reasoning_models_first_bytes_and_dated_retry_after() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let standin = Standin::start().await.unwrap();
    // A reasoning model: 40 of its 50 output tokens reasoning, three thinking chunks streamed
    // at half the TTFT where the provider shows them.
    let reasoner = |provider: &str| Script {
        output_tokens: 50,
        reasoning_tokens: 40,
        thinking_chunks: 3,
        ..ok_script(provider)
    };
    let openai = |name: &str, model: &str, field: Option<&str>| {
        let mut t = target("openai", name, &standin);
        t["model"] = json!(model);
        if let Some(f) = field {
            t["token_limit_field"] = json!(f);
        }
        standin.set(name, reasoner("openai"));
        t
    };
    let thinking = |provider: &str, name: &str, model: &str| {
        let mut t = target(provider, name, &standin);
        t["model"] = json!(model);
        t["max_tokens"] = json!(2048);
        t["thinking_budget"] = json!(1024);
        standin.set(name, reasoner(provider));
        t
    };
    let targets = vec![
        openai("o4", "o4-mini", None),
        openai("gpt5", "gpt-5-mini-2025-08-07", None),
        openai("o3-forced-max-tokens", "o3", Some("max_tokens")),
        openai("deployment", "prod-reasoner", Some("max_completion_tokens")),
        thinking("anthropic", "claude-thinking", "claude-sonnet-4-5"),
        thinking("gemini", "gemini-thinking", "gemini-2.5-flash"),
        target("anthropic", "rate-dated", &standin),
    ];
    // A 429 whose retry-after is a date two minutes ahead, not seconds.
    standin.set(
        "rate-dated",
        Script {
            fault: Some(Fault::RateLimitedUntil { retry_after_s: 120 }),
            ..ok_script("anthropic")
        },
    );
    // A price update for one model: it overlays the shipped table, whose gpt-5-mini row stays.
    let prices = r#"{"taken": "2026-12-01", "prices": [{"provider": "openai", "model": "o4-mini", "input": 2, "output": 8}]}"#;
    let vars = [
        ("LLMSCOPE_TARGETS", Value::Array(targets).to_string()),
        ("LLMSCOPE_PRICES", prices.to_string()),
    ];
    let wrangler = Wrangler::start("today", &vars, &SECRETS).await;
    let client = Client {
        http: reqwest::Client::new(),
        url: wrangler.url.clone(),
        seen: Default::default(),
    };
    let (_, health) = client.call("GET", "/health", Some(TOKEN)).await;
    assert_eq!(health["prices_taken"], "2026-12-01", "{health}");
    assert_eq!(health["problems"], json!([]), "{health}");

    // The model family picks `max_completion_tokens`; the stand-in, like OpenAI, refuses
    // `max_tokens` for these models with a 400.
    for name in ["o4", "gpt5", "deployment"] {
        let r = client.probe(name).await;
        assert_eq!(r["ok"], true, "{name}: {r}");
        let sent: Value = serde_json::from_str(&standin.requests(name)[0].body).unwrap();
        assert_eq!(sent["max_completion_tokens"], 64, "{name}: {sent}");
        assert!(sent.get("max_tokens").is_none(), "{name}: {sent}");
        // OpenAI reports the reasoning tokens (part of the output) and streams no thinking.
        assert_eq!(r["output_tokens"], 50, "{name}: {r}");
        assert_eq!(r["extra"]["reasoning_tokens"], 40, "{name}: {r}");
        assert!(r["extra"].get("reasoning_chars").is_none(), "{name}: {r}");
        // 1200 input and 50 output tokens: o4-mini at LLMSCOPE_PRICES' 2 and 8, gpt-5-mini
        // at the shipped 0.25 and 2.00, "prod-reasoner" unknown.
        let cost = match name {
            "o4" => Some((1200.0 * 2.0 + 50.0 * 8.0) / 1e6),
            "gpt5" => Some((1200.0 * 0.25 + 50.0 * 2.0) / 1e6),
            _ => None,
        };
        match (cost, r["cost_usd"].as_f64()) {
            (Some(want), Some(got)) => assert!(close(got, want, 1e-12), "{name}: {r}"),
            (want, got) => assert_eq!(want, got, "{name}: {r}"),
        }
    }
    // The override wins over the family, and OpenAI's refusal is reported in its words.
    let r = client.probe("o3-forced-max-tokens").await;
    assert_eq!(
        (
            r["ok"].clone(),
            r["status"].clone(),
            r["error"]["kind"].clone()
        ),
        (json!(false), json!(400), json!("malformed")),
        "{r}"
    );
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Unsupported parameter: 'max_tokens' is not supported with this model"),
        "{r}"
    );

    // Thinking asked for (thinking_budget) and streamed before the text: counted apart, timed,
    // and never the first visible text. Anthropic counts no thinking tokens of its own;
    // Gemini does (thoughtsTokenCount), billed as output.
    let thought_chars: usize = (0..3).map(|i| thinking_text(i).chars().count()).sum();
    for (name, reasoning_tokens) in [("claude-thinking", None), ("gemini-thinking", Some(40))] {
        let r = client.probe(name).await;
        assert_eq!(r["ok"], true, "{name}: {r}");
        assert_eq!(r["output_tokens"], 50, "{name}: {r}");
        assert_eq!(
            r["extra"].get("reasoning_tokens").and_then(Value::as_u64),
            reasoning_tokens,
            "{name}: {r}"
        );
        assert_eq!(r["extra"]["reasoning_chars"], thought_chars, "{name}: {r}");
        let ttft = r["ttft_ms"].as_f64().unwrap();
        assert!(
            ttft >= TTFT_MS as f64 - 2.0,
            "{name}: thinking counted as the first text: {r}"
        );
        let thinking_for = r["extra"]["reasoning_ms"].as_f64().unwrap();
        assert!(thinking_for > 0.0 && thinking_for < ttft, "{name}: {r}");
        // The thinking's first byte came before it was timed as thinking: the first byte.
        let ttfb = r["extra"]["ttfb_ms"].as_f64().unwrap();
        assert!(ttfb <= ttft - thinking_for, "{name}: {r}");
    }

    // retry-after as an HTTP date: the seconds from the Worker's clock to that date (the
    // date has whole seconds, and the probe took a moment).
    let r = client.probe("rate-dated").await;
    assert_eq!(r["error"]["kind"], "rate_limited", "{r}");
    let wait = r["error"]["retry_after_s"].as_f64().unwrap_or(-1.0);
    assert!((110.0..=120.0).contains(&wait), "{r}");
}
