//! Quality checks end to end (issue 12): the built Worker in `wrangler dev` probes stand-in
//! targets that answer right or, on a drawn fraction of requests, wrong, and every result's
//! `quality_pass` must say which, for each kind of check and several wire formats; a probe
//! that fails is not judged, a target without a check is not judged, and a bad check is a
//! configuration error naming the target and the key.

use llmscope_probe_tests::{targets, Wrangler};
use llmscope_standin::{Fault, Script, Standin, Wrong};
use serde_json::{json, Value};

const TOKEN: &str = "worker-token-quality-4d1e";
const SECRETS: [(&str, &str); 6] = [
    ("LLMSCOPE_TOKEN", TOKEN),
    ("OPENAI_API_KEY", "sk-openai-test-quality"),
    ("ANTHROPIC_API_KEY", "sk-ant-test-quality"),
    ("GEMINI_API_KEY", "AIza-test-quality"),
    ("AWS_ACCESS_KEY_ID", "AKIDQUALITYTEST01"),
    ("AWS_SECRET_ACCESS_KEY", "aws-secret-test-quality"),
];

/// Probes of each checked target.
const PROBES: usize = 12;

/// A target of `provider` named `name`, on the stand-in profile of the same name.
fn target(provider: &str, name: &str, standin: &Standin) -> Value {
    // Not streamed: the whole answer in one body.
    let http = || {
        let base = standin.base_url(name);
        json!({"name": name, "provider": "http", "url": format!("{base}/generate"),
               "body": {"prompt": "{{prompt}}"}, "stream": "none", "text_pointer": "/output/text"})
    };
    let mut t = match provider {
        "http" => http(),
        _ => targets::target(provider, name, standin).unwrap_or_else(|| panic!("{provider}")),
    };
    t["timeout_ms"] = json!(5000);
    t
}

/// A quick reply of `answer` in three chunks, `wrong` instead on about a third of requests.
fn answering(answer: &str, wrong: &str) -> Script {
    Script {
        ttft_ms: 5,
        gap_ms: 1,
        chunks: 3,
        answer: Some(answer.into()),
        wrong: Some(Wrong {
            rate: 0.35,
            text: wrong.into(),
        }),
        ..Script::default()
    }
}

/// (provider, target name, check, right answer, wrong answer).
fn checked() -> Vec<(
    &'static str,
    &'static str,
    Value,
    &'static str,
    &'static str,
)> {
    vec![
        (
            "openai",
            "exact",
            json!({"exact": "Paris"}),
            " Paris\n",
            "Lyon",
        ),
        (
            "gemini",
            "regex",
            json!({"regex": r"\b42\b"}),
            "The answer is 42.",
            "The answer is 421.",
        ),
        (
            "bedrock",
            "json",
            json!({"json_pointer": "/answer/value", "equals": 4}),
            "Here:\n```json\n{\"answer\": {\"value\": 4.0}}\n```",
            "{\"answer\": {\"value\": \"4\"}}",
        ),
        (
            "ollama",
            "number",
            json!({"number": 2.5, "tolerance": 0.01}),
            "It is about 2.49.",
            "It is about 2.6.",
        ),
        (
            "http",
            "number-exactly",
            json!({"number": -40, "tolerance": 0}),
            "-40",
            "40",
        ),
        // Anthropic streams its thinking first: were the thinking kept with the answer, no
        // answer would be exactly "Paris".
        (
            "anthropic",
            "thinking",
            json!({"exact": "Paris"}),
            "Paris",
            "paris",
        ),
    ]
}

async fn call(http: &reqwest::Client, url: &str, method: &str, path: &str) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let resp = http
        .request(method, format!("{url}{path}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quality_pass_says_which_answers_were_right_for_every_kind_of_check() {
    let standin = Standin::start().await.unwrap();
    let mut targets = Vec::new();
    for (provider, name, check, right, wrong) in checked() {
        let mut t = target(provider, name, &standin);
        t["check"] = check;
        let mut script = answering(right, wrong);
        if provider == "anthropic" {
            t["max_tokens"] = json!(2048);
            t["thinking_budget"] = json!(1024);
            script.thinking_chunks = 2;
        }
        standin.set(name, script);
        targets.push(t);
    }
    // Not judged: no check, and a check on a probe that fails.
    targets.push(target("ollama", "unchecked", &standin));
    standin.set("unchecked", answering("Paris", "Lyon"));
    let mut failing = target("openai", "failing", &standin);
    failing["check"] = json!({"exact": "Paris"});
    targets.push(failing);
    standin.set(
        "failing",
        Script {
            fault: Some(Fault::ServerError),
            ..answering("Paris", "Lyon")
        },
    );
    let mut cut = target("ollama", "cut", &standin);
    cut["check"] = json!({"regex": "."});
    targets.push(cut);
    standin.set(
        "cut",
        Script {
            fault: Some(Fault::CutMidway),
            chunks: 4,
            ..answering("Paris", "Lyon")
        },
    );
    // Bad checks: configuration errors naming the target and the key.
    let bad = [
        (
            "bad-regex",
            json!({"regex": "(42"}),
            "check.regex",
            "is not a valid pattern",
        ),
        (
            "two-kinds",
            json!({"exact": "4", "regex": "4"}),
            "check",
            "has 2 kinds (exact, regex)",
        ),
        (
            "negative",
            json!({"number": 4, "tolerance": -0.5}),
            "check.tolerance",
            "must be 0 or more, not -0.5",
        ),
        (
            "unknown-key",
            json!({"number": 4, "tolerance": 1, "units": "ms"}),
            "check.units",
            "is not a key of the number check",
        ),
    ];
    for (name, check, _, _) in &bad {
        let mut t = target("ollama", name, &standin);
        t["check"] = check.clone();
        targets.push(t);
    }
    let vars = [("LLMSCOPE_TARGETS", Value::Array(targets).to_string())];
    let wrangler = Wrangler::start("quality", &vars, &SECRETS).await;
    let http = reqwest::Client::new();
    let url = wrangler.url.as_str();

    let (status, health) = call(&http, url, "GET", "/health").await;
    assert_eq!(status, 200, "{health}");
    let problems = health["problems"].as_array().cloned().unwrap_or_default();
    assert_eq!(problems.len(), bad.len(), "{health}");
    for (name, _, field, message) in &bad {
        assert!(
            problems.iter().any(|p| p["target"] == *name
                && p["field"] == *field
                && p["message"].as_str().unwrap_or("").starts_with(message)),
            "{name}: {health}"
        );
        let (status, body) = call(&http, url, "POST", &format!("/probe/{name}")).await;
        assert_eq!(status, 400, "{name}: {body}");
        let said = body["error"].as_str().unwrap_or("");
        assert!(
            said.starts_with(&format!("target {name}: {field}: {message}")),
            "{name}: {body}"
        );
    }

    // Every verdict matches what the stand-in answered, request by request.
    for (_, name, _, _, _) in checked() {
        let mut verdicts = Vec::new();
        for _ in 0..PROBES {
            let (status, r) = call(&http, url, "POST", &format!("/probe/{name}")).await;
            assert_eq!(status, 200, "{name}: {r}");
            assert_eq!(r["ok"], true, "{name}: {r}");
            verdicts.push(r["quality_pass"].clone());
        }
        let answered_right: Vec<Value> = standin
            .requests(name)
            .iter()
            .map(|r| json!(!r.wrong))
            .collect();
        assert_eq!(verdicts, answered_right, "{name}");
        assert!(
            verdicts.contains(&json!(true)) && verdicts.contains(&json!(false)),
            "{name}: the draw gave only one kind of answer: {verdicts:?}"
        );
        // Stored as answered.
        let (_, stored) = call(&http, url, "GET", &format!("/results?target={name}")).await;
        let stored: Vec<Value> = stored
            .as_array()
            .map(|a| a.iter().map(|r| r["quality_pass"].clone()).collect())
            .unwrap_or_default();
        assert_eq!(stored, verdicts, "{name}");
    }

    // Not judged: null, never false.
    for name in ["unchecked", "failing", "cut"] {
        let (status, r) = call(&http, url, "POST", &format!("/probe/{name}")).await;
        assert_eq!(status, 200, "{name}: {r}");
        assert_eq!(r["ok"], name == "unchecked", "{name}: {r}");
        assert!(r["quality_pass"].is_null(), "{name}: {r}");
        assert!(
            r.as_object()
                .is_some_and(|o| o.contains_key("quality_pass")),
            "{r}"
        );
    }
}
