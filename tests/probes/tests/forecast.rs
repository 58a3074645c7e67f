//! See it coming (issue 14) through the real Worker in `wrangler dev`: a stand-in whose TTFT
//! drifts slowly upward, probe after probe as its script is raised, toward the target's SLO;
//! the cron forecasts it with the engine and the webhook receives exactly one predictive
//! alert for the episode, with its words and fields, however often the cron runs again. A
//! flat target with the same SLO gets none. A bad forecast variable is a `/health` problem.

use llmscope_probe_tests::{targets, Webhook, Wrangler};
use llmscope_standin::{Script, Standin};
use serde_json::{json, Value};

const TOKEN: &str = "forecast-token-5b2e91";
const KEY: &str = "sk-openai-forecast-7c03";
const SECRETS: [(&str, &str); 2] = [("LLMSCOPE_TOKEN", TOKEN), ("OPENAI_API_KEY", KEY)];
/// The TTFT SLO both targets have.
const SLO_MS: u64 = 2000;

/// An OpenAI target on its own stand-in profile, with a TTFT SLO; the total-latency SLO is
/// far off, so TTFT is the only metric that can reach its limit here.
fn target(name: &str, standin: &Standin) -> Value {
    let mut t = targets::target("openai", name, standin).expect("an OpenAI target");
    t["timeout_ms"] = json!(10000);
    t["slo_ttft_ms"] = json!(SLO_MS);
    t["slo_total_ms"] = json!(600000);
    t
}

/// The stand-in's answer at a TTFT of `ttft_ms`.
fn script(ttft_ms: u64) -> Script {
    Script {
        ttft_ms,
        jitter_ms: 10,
        gap_ms: 5,
        chunks: 4,
        ..Script::default()
    }
}

fn predictive(body: &Value) -> Vec<Value> {
    body["llmscope"]["alerts"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|a| a["kind"] == "predictive")
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowly_drifting_ttft_sends_one_predictive_alert_and_a_flat_one_none() {
    let standin = Standin::start().await.unwrap();
    let webhook = Webhook::start().await;
    standin.set("drift", script(200));
    standin.set("flat", script(200));
    let vars = [
        (
            "LLMSCOPE_TARGETS",
            json!([target("drift", &standin), target("flat", &standin)]).to_string(),
        ),
        ("LLMSCOPE_WEBHOOK", webhook.url()),
        // Read: the alert carries it.
        ("LLMSCOPE_FORECAST_HORIZON", "100".to_string()),
        // Bad: /health names it, and the default (0.8) is used.
        ("LLMSCOPE_FORECAST_PROBABILITY", "80%".to_string()),
    ];
    let wrangler = Wrangler::start("forecast", &vars, &SECRETS).await;
    let http = reqwest::Client::new();
    let health: Value = http
        .get(format!("{}/health", wrangler.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let problems = health["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{health}");
    assert_eq!(
        problems[0]["field"], "LLMSCOPE_FORECAST_PROBABILITY",
        "{health}"
    );
    assert!(
        problems[0]["message"]
            .as_str()
            .unwrap()
            .contains("must be a probability between 0 and 1"),
        "{health}"
    );
    let probe = |name: &'static str| {
        let req = http
            .post(format!("{}/probe/{name}", wrangler.url))
            .bearer_auth(TOKEN);
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status();
            let text = resp.text().await.unwrap();
            assert_eq!(status, 200, "{name}: {text}");
            let result: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(result["ok"], true, "{name}: {text}");
        }
    };
    let cron = || async {
        let url = format!("{}/__scheduled?cron=*/5+*+*+*+*", wrangler.url);
        assert_eq!(reqwest::get(url).await.unwrap().status(), 200);
    };
    // A steady start, then TTFT climbs 60 ms a probe: from 200 ms toward the 2000 ms SLO.
    let mut ttft = 200;
    for i in 0..38 {
        if i >= 12 {
            ttft += 60;
            standin.set("drift", script(ttft));
        }
        probe("drift").await;
        probe("flat").await;
    }
    cron().await;
    // The drift goes on: the open episode sends nothing more.
    for _ in 0..2 {
        ttft += 60;
        standin.set("drift", script(ttft));
        cron().await;
    }

    let received = webhook.received();
    let of = |name: &str| -> Vec<Value> {
        received
            .iter()
            .filter(|b| b["llmscope"]["target"] == name)
            .flat_map(predictive)
            .collect()
    };
    assert!(of("flat").is_empty(), "a false alarm: {received:#?}");
    let alerts = of("drift");
    assert_eq!(alerts.len(), 1, "one episode, one alert: {received:#?}");
    let a = &alerts[0];
    assert_eq!(a["metric"], "ttft_ms", "{a:#}");
    assert_eq!(a["limit_name"], "SLO", "{a:#}");
    assert_eq!(a["limit"], SLO_MS as f64, "{a:#}");
    assert_eq!(a["horizon"], 100, "{a:#}");
    let p = a["probability"].as_f64().unwrap();
    assert!((0.8..=1.0).contains(&p), "{a:#}");
    let median = a["median"].as_f64().unwrap();
    let (lo, hi) = (a["lo80"].as_f64().unwrap(), a["hi80"].as_f64().unwrap());
    assert!(0.0 <= lo && lo <= median && median <= hi, "{a:#}");
    // Still short of the SLO when it fired: it was a forecast, not a breach.
    assert!(a["value"].as_f64().unwrap() < SLO_MS as f64, "{a:#}");

    let body = received.iter().find(|b| !predictive(b).is_empty()).unwrap();
    let text = body["text"].as_str().unwrap();
    let words = format!("• drift/ttft reaches its SLO 2000 ms in about {median:.0} probes (≈ ");
    assert!(text.contains(&words), "{text}");
    assert!(
        text.contains(&format!("h) (80%: {lo:.0}–{hi:.0})")),
        "{text}"
    );
    let whole = body.to_string();
    for (name, value) in SECRETS {
        assert!(!whole.contains(value), "the webhook message holds {name}");
    }
}
