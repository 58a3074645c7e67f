//! Why did it fire (issue 13) through the real Worker in `wrangler dev`: the probe's context
//! kept in `extra` (request ids, processing time, rate limits, the model the response names,
//! the colo) as the provider stand-ins send it, changed mid-run by their scripts; and the
//! webhook message of an episode carrying its shape, its top suggested cause and the target's
//! co-moving metrics.

use llmscope_probe_tests::{targets, Webhook, Wrangler};
use llmscope_standin::{Quota, Script, Standin, Throttle};
use serde_json::{json, Value};

const TOKEN: &str = "context-token-8c41d2";
const SECRETS: [(&str, &str); 6] = [
    ("LLMSCOPE_TOKEN", TOKEN),
    ("OPENAI_API_KEY", "sk-openai-context-61b9"),
    ("ANTHROPIC_API_KEY", "sk-ant-context-0d7e"),
    ("GEMINI_API_KEY", "AIza-context-5e20"),
    ("AWS_ACCESS_KEY_ID", "AKIDCONTEXTTEST07"),
    ("AWS_SECRET_ACCESS_KEY", "aws-secret-context-3f1a"),
];
/// Every target's prompt: it must never come back in a result or a webhook.
const PROMPT: &str = "Name the capital of France, then count to five.";

/// A target of `provider` whose stand-in profile is the target's own name.
fn target(provider: &str, name: &str, standin: &Standin) -> Value {
    let mut t = targets::target(provider, name, standin).unwrap_or_else(|| panic!("{provider}"));
    t["timeout_ms"] = json!(3000);
    t["prompt"] = json!(PROMPT);
    t
}

struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    /// `POST /probe/NAME`, with miniflare's `MF-CF-Blob` header standing for Cloudflare's
    /// `request.cf` when `cf` is given (workerd takes `cf` from it).
    async fn probe(&self, name: &str, cf: Option<Value>) -> Value {
        let mut req = self
            .http
            .post(format!("{}/probe/{name}", self.url))
            .bearer_auth(TOKEN);
        if let Some(mut cf) = cf {
            // Without it workerd compresses the answer (miniflare's entry worker sets it so).
            cf["clientAcceptEncoding"] = json!("");
            req = req.header("MF-CF-Blob", cf.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert_eq!(status, 200, "{name}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}: {text:?}"))
    }

    async fn first(&self, name: &str) -> Value {
        self.stored(name).await.remove(0)
    }

    async fn stored(&self, name: &str) -> Vec<Value> {
        let resp = self
            .http
            .get(format!("{}/results?target={name}", self.url))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "/results?target={name}");
        resp.json().await.unwrap()
    }
}

fn no_secret_or_prompt_in(what: &str, text: &str) {
    for (name, value) in SECRETS {
        assert!(!text.contains(value), "{what} holds {name}");
    }
    assert!(!text.contains(PROMPT), "{what} holds the prompt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_probe_keeps_its_context_in_extra() {
    let standin = Standin::start().await.unwrap();
    let providers = ["openai", "anthropic", "gemini", "bedrock", "ollama"];
    let base = Script {
        ttft_ms: 30,
        gap_ms: 2,
        colo: Some("SJC".into()),
        ..Script::default()
    };
    for p in providers {
        standin.set(p, base.clone());
    }
    let targets: Vec<Value> = providers.iter().map(|p| target(p, p, &standin)).collect();
    let vars = [("LLMSCOPE_TARGETS", Value::Array(targets).to_string())];
    let wrangler = Wrangler::start("context-extra", &vars, &SECRETS).await;
    let client = Client {
        http: reqwest::Client::new(),
        url: wrangler.url.clone(),
    };

    for p in providers {
        let r = client.probe(p, None).await;
        assert_eq!(r["ok"], true, "{r}");
    }
    // OpenAI: its id, processing time and limits, the dated model it answered with, and the
    // Cloudflare colo of its edge from cf-ray.
    let r = client.first("openai").await;
    let x = &r["extra"];
    assert!(x["request_id"].as_str().unwrap().starts_with("req_"), "{r}");
    assert_eq!(x["processing_ms"], 30, "the ttft, as the script says: {r}");
    assert_eq!(
        (
            &x["ratelimit_limit_requests"],
            &x["ratelimit_remaining_requests"],
            &x["ratelimit_limit_tokens"],
            &x["ratelimit_remaining_tokens"]
        ),
        (
            &json!(5000),
            &json!(4999),
            &json!(2_000_000),
            &json!(1_999_980)
        ),
        "{r}"
    );
    assert_eq!(x["response_model"], "gpt-4o-mini", "{r}");
    assert_eq!(x["provider_colo"], "SJC", "{r}");
    // wrangler dev's placeholder request.cf is no colo.
    assert!(x.get("colo").is_none(), "a placeholder colo was kept: {r}");
    // Anthropic's own header names map to the same keys.
    let r = client.first("anthropic").await;
    let x = &r["extra"];
    assert!(
        x["request_id"].as_str().unwrap().starts_with("req_standin"),
        "{r}"
    );
    assert_eq!(x["ratelimit_remaining_tokens"], 1_999_980, "{r}");
    assert_eq!(x["response_model"], targets::ANTHROPIC_MODEL, "{r}");
    assert!(
        x.get("processing_ms").is_none(),
        "OpenAI's header only: {r}"
    );
    // Gemini's id and version are in the body; Bedrock's id is a header and it names no
    // model; Ollama names the model only.
    let r = client.first("gemini").await;
    assert_eq!(r["extra"]["response_model"], "gemini-2.0-flash", "{r}");
    assert!(
        r["extra"]["request_id"]
            .as_str()
            .unwrap()
            .starts_with("standin"),
        "{r}"
    );
    let r = client.first("bedrock").await;
    let id = r["extra"]["request_id"].as_str().unwrap().to_string();
    assert_eq!(
        id.split('-').map(str::len).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12],
        "a UUID: {r}"
    );
    assert!(r["extra"].get("response_model").is_none(), "{r}");
    let r = client.first("ollama").await;
    assert_eq!(r["extra"]["response_model"], "llama3.2", "{r}");
    assert!(r["extra"].get("request_id").is_none(), "{r}");

    // The colo of the Worker's own request, as Cloudflare's edge would give it.
    let r = client.probe("ollama", Some(json!({"colo": "AMS"}))).await;
    assert_eq!(r["extra"]["colo"], "AMS", "{r}");

    // Mid-run, OpenAI moves the alias to a new version, slows its servers, and its quota
    // runs low; then it throttles: a 429 with retry-after, still with its headers.
    standin.set(
        "openai",
        Script {
            response_model: Some("gpt-4o-mini-2025-04-14".into()),
            processing_ms: Some(870),
            quota: Quota {
                requests_remaining: 3,
                tokens_remaining: 812,
                ..Quota::default()
            },
            colo: Some("LAX".into()),
            ..base.clone()
        },
    );
    let r = client.probe("openai", None).await;
    let x = &r["extra"];
    assert_eq!(
        (
            &x["response_model"],
            &x["processing_ms"],
            &x["ratelimit_remaining_requests"],
            &x["ratelimit_remaining_tokens"],
            &x["provider_colo"]
        ),
        (
            &json!("gpt-4o-mini-2025-04-14"),
            &json!(870),
            &json!(3),
            &json!(812),
            &json!("LAX")
        ),
        "{r}"
    );
    standin.set(
        "openai",
        Script {
            throttle: Some(Throttle {
                rate: 1.0,
                retry_after_s: 2,
            }),
            ..base.clone()
        },
    );
    let r = client.probe("openai", None).await;
    assert_eq!(
        (
            &r["ok"],
            &r["status"],
            &r["error"]["kind"],
            &r["error"]["retry_after_s"]
        ),
        (
            &json!(false),
            &json!(429),
            &json!("rate_limited"),
            &json!(2.0)
        ),
        "{r}"
    );
    assert!(
        r["extra"]["request_id"]
            .as_str()
            .unwrap()
            .starts_with("req_"),
        "{r}"
    );
    assert_eq!(r["extra"]["ratelimit_remaining_requests"], 4999, "{r}");
    assert!(standin.requests("openai").last().unwrap().throttled);

    // What GET /results answers is what the probes answered, and holds no secret or prompt.
    let stored = client.stored("openai").await;
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[2], r);
    for p in providers {
        let all = Value::Array(client.stored(p).await).to_string();
        no_secret_or_prompt_in(&format!("/results of {p}"), &all);
    }
}

/// A 429 burst: the provider throttles a third of the requests and answers the rest late. The cron
/// opens one episode for the target, and its webhook message says the shape (a step or a
/// spike), rate limiting as the likely cause with the 429s as evidence, and the error rate
/// among the metrics that moved with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_says_the_shape_the_likely_cause_and_what_moved_with_it() {
    let standin = Standin::start().await.unwrap();
    let webhook = Webhook::start().await;
    // Speed and TTFT vary per request, as a real model's do, and widely: the chart's sigma
    // is then far above a scheduler hiccup on these shared machines (tens of ms), which must
    // not read as a signal, and far below the burst's jump.
    let steady = Script {
        ttft_ms: 40,
        jitter_ms: 150,
        gap_ms: 20,
        gap_jitter_ms: 40,
        chunks: 6,
        colo: Some("SJC".into()),
        ..Script::default()
    };
    standin.set("burst", steady.clone());
    let vars = [
        (
            "LLMSCOPE_TARGETS",
            json!([target("openai", "burst", &standin)]).to_string(),
        ),
        ("LLMSCOPE_WEBHOOK", webhook.url()),
        // Test 1 only: the burst is a jump of many sigmas, caught at its first point, and no
        // other test can false-alarm on the stand-in's jitter.
        ("LLMSCOPE_TESTS", "1".to_string()),
    ];
    let wrangler = Wrangler::start("context-webhook", &vars, &SECRETS).await;
    let client = Client {
        http: reqwest::Client::new(),
        url: wrangler.url.clone(),
    };
    let cron = || async {
        let url = format!("{}/__scheduled?cron=*/5+*+*+*+*", wrangler.url);
        let resp = reqwest::get(url).await.unwrap();
        assert_eq!(resp.status(), 200);
    };
    for _ in 0..30 {
        client.probe("burst", None).await;
    }
    cron().await;
    let ttft_alert = |b: &Value| {
        b["llmscope"]["alerts"]
            .as_array()
            .is_some_and(|a| a.iter().any(|a| a["metric"] == "ttft_ms"))
    };
    let early = webhook.received();
    assert!(!early.iter().any(ttft_alert), "a false alarm: {early:#?}");

    standin.set(
        "burst",
        Script {
            ttft_ms: 1500,
            throttle: Some(Throttle {
                rate: 0.3,
                retry_after_s: 1,
            }),
            ..steady
        },
    );
    // Enough answered probes that the shape is read on more than a handful of points, few
    // enough that the alert reads a step (32 read as a drift; half throttled, an oscillation).
    for _ in 0..16 {
        client.probe("burst", None).await;
    }
    cron().await;
    let throttled = standin
        .requests("burst")
        .iter()
        .filter(|r| r.throttled)
        .count();
    assert!(
        throttled >= 3,
        "the seeded draw throttled {throttled} of 17"
    );

    let received: Vec<Value> = webhook.received().into_iter().filter(ttft_alert).collect();
    assert_eq!(
        received.len(),
        1,
        "one message for one episode: {received:#?}"
    );
    let body = &received[0];
    let alerts = body["llmscope"]["alerts"].as_array().unwrap();
    let ttft = alerts
        .iter()
        .find(|a| a["metric"] == "ttft_ms")
        .unwrap_or_else(|| panic!("no TTFT alert: {body:#}"));
    let shape = ttft["shape"].as_str().unwrap();
    assert!(["step", "spike"].contains(&shape), "{ttft:#}");
    assert_eq!(ttft["suggestion"]["cause"], "rate limiting", "{ttft:#}");
    assert!(
        ttft["suggestion"]["score"].as_f64().unwrap() >= 0.8,
        "{ttft:#}"
    );
    let evidence = ttft["suggestion"]["evidence"].as_str().unwrap();
    assert!(evidence.contains("rate-limited probes (429)"), "{evidence}");
    let moved = ttft["co_moving"].as_array().unwrap();
    let error_rate = moved
        .iter()
        .find(|m| m["metric"] == "error_rate")
        .unwrap_or_else(|| panic!("the error rate did not move: {ttft:#}"));
    // The 429s moved the error rate (KS D of at least 3 in 17 against none). Whether that is
    // significant at 0.05 depends on the draw (3 of 17 gave p = 0.079 once), so not asserted.
    assert!(
        error_rate["statistic"].as_f64().unwrap() >= 0.15,
        "{ttft:#}"
    );
    assert!(moved.iter().all(|m| m["metric"] != "ttft_ms"), "{ttft:#}");
    let text = body["text"].as_str().unwrap();
    assert!(text.contains("• ttft_ms is out of control"), "{text}");
    assert!(text.contains(&format!("\n  shape: {shape} (")), "{text}");
    assert!(
        text.contains("\n  likely cause: rate limiting (score 0.80): "),
        "{text}"
    );
    assert!(text.contains("\n  moved with it: "), "{text}");
    assert!(text.contains("error_rate (KS D "), "{text}");
    no_secret_or_prompt_in("the webhook message", &body.to_string());
}
