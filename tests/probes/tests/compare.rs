//! Issue 12's proof through the real Worker: `GET /compare` on the stand-in scenario with a
//! known truth (`llmscope_probe_tests::scenario`), and the daily digest delivered once per UTC
//! day to the webhook receiver.

use llmscope_probe_tests::scenario::{self, TARGETS};
use llmscope_probe_tests::{Answer, Webhook, Wrangler};
use llmscope_standin::{Script, Standin};
use serde_json::{json, Value};

const TOKEN: &str = "compare-token-7c41e9";

/// One wrangler dev at a time: two on two cores would slow each other's probes.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    fn new(wrangler: &Wrangler) -> Client {
        Client {
            http: reqwest::Client::new(),
            url: wrangler.url.clone(),
        }
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }

    /// `GET /compare` that must answer 200.
    async fn compare(&self, query: &str) -> Value {
        let (status, body) = self.get(&format!("/compare?{query}")).await;
        assert_eq!(status, 200, "/compare?{query}: {body}");
        body
    }

    /// `GET /compare` that must be refused with `status`: its error message.
    async fn refused(&self, query: &str, status: u16) -> String {
        let (got, body) = self.get(&format!("/compare?{query}")).await;
        assert_eq!(got, status, "/compare?{query}: {body}");
        body["error"].as_str().unwrap_or_default().to_string()
    }

    async fn cron(&self) {
        let r = self
            .http
            .get(format!("{}/__scheduled?cron=*/5+*+*+*+*", self.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
}

fn row<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["targets"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == name))
        .unwrap_or_else(|| panic!("no row {name}: {report}"))
}

fn pair<'a>(report: &'a Value, a: &str, b: &str) -> &'a Value {
    report["pairs"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["a"] == a && p["b"] == b))
        .unwrap_or_else(|| panic!("no pair {a}-{b}: {report}"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The same JSON up to the last digits of a float: the Worker's engine is wasm, this test's
/// native, and their `exp`/`ln` may round differently in the last bit.
fn same(a: &Value, b: &Value, path: &str) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (f(&Value::Number(x.clone())), f(&Value::Number(y.clone())));
            assert!(
                (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
                "{path}: {x} vs {y}"
            );
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}: lengths");
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                same(x, y, &format!("{path}[{i}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            let keys = |o: &serde_json::Map<String, Value>| o.keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(x), keys(y), "{path}: fields");
            for (k, v) in x {
                same(v, &y[k], &format!("{path}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}

/// The report the CLI's library builds from `GET /results` of the same targets.
async fn cli_report(
    client: &Client,
    targets: &[&str],
    settings: &llmscope_protocol::compare::Settings,
) -> Value {
    use llmscope_protocol::probe::ProbeResult;
    let mut results: Vec<ProbeResult> = Vec::new();
    for name in targets {
        let (status, rows) = client
            .get(&format!("/results?target={name}&limit=10000"))
            .await;
        assert_eq!(status, 200, "{rows}");
        results.extend(serde_json::from_value::<Vec<ProbeResult>>(rows).unwrap());
    }
    let grouped = llmscope_protocol::compare::group(&results);
    let report = llmscope_protocol::compare::build(&grouped, settings).unwrap();
    serde_json::to_value(&report).unwrap()
}

const ROUNDS: u32 = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compare_finds_the_known_truth_through_wrangler_dev() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let standin = Standin::start().await.unwrap();
    let mut targets = scenario::targets_on(&standin);
    // E is never probed; F gets 5001 results straight into D1, one over the limit.
    for name in ["E", "F"] {
        targets.push(json!({"name": name, "provider": "ollama", "model": "m", "base_url": standin.base_url(name)}));
    }
    let vars = [
        ("LLMSCOPE_TARGETS", Value::Array(targets).to_string()),
        ("LLMSCOPE_DIGEST", "weekly".to_string()),
    ];
    let wrangler = Wrangler::start("compare", &vars, &[("LLMSCOPE_TOKEN", TOKEN)]).await;
    let client = Client::new(&wrangler);

    // A digest setting it does not know is a configuration problem /health names.
    let (_, health) = client.get("/health").await;
    let problem = health["problems"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["field"] == "LLMSCOPE_DIGEST"))
        .unwrap_or_else(|| panic!("{health}"));
    assert_eq!(
        problem["message"],
        "must be daily (or unset for no digest), not \"weekly\""
    );

    // Before any probe: 404 with what to do; refusals name the parameter or the target.
    let none = client.refused("", 404).await;
    assert!(
        none.starts_with("no results since 0 for A, B, C, D, E, F:"),
        "{none}"
    );
    let unknown = client.refused("targets=A,Z", 400).await;
    assert_eq!(
        unknown,
        "targets: no target named \"Z\": GET /targets lists them"
    );
    let rate = client.refused("max_error_rate=2", 400).await;
    assert!(
        rate.starts_with("max_error_rate: 2 is not a rate"),
        "{rate}"
    );
    let weights = client.refused("weights=latency%3Dfast", 400).await;
    assert!(weights.starts_with("weights: 'latency=fast'"), "{weights}");
    let anonymous = client
        .http
        .get(format!("{}/compare", client.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    let started = std::time::Instant::now();
    scenario::probe_rounds(&client.url, TOKEN, &standin, 0..ROUNDS).await;
    eprintln!("{ROUNDS} rounds of 4 probes: {:?}", started.elapsed());

    let abcd = "targets=A,B,C,D";
    let latency_only = "weights=latency%3D1,speed%3D0,cost%3D0,quality%3D0";
    let strict = client
        .compare(&format!("{abcd}&max_error_rate=0.02&{latency_only}"))
        .await;
    // A − B: the true shift, −20 ms, inside the interval, and significant.
    let ab = pair(&strict, "A", "B");
    let truth = scenario::A_TTFT_MS as f64 - scenario::B_TTFT_MS as f64;
    assert!(f(&ab["lo"]) <= truth && truth <= f(&ab["hi"]), "{ab}");
    assert_eq!(ab["significant"], true, "{ab}");
    // C fails 5 of its 100 probes: the interval holds 5 %, and 2 % at most excludes C.
    let c = &row(&strict, "C")["error_rate"];
    assert_eq!(
        (row(&strict, "C")["n"].clone(), f(&c["value"])),
        (json!(ROUNDS), 0.05)
    );
    assert!(f(&c["lo"]) <= 0.05 && 0.05 <= f(&c["hi"]), "{c}");
    let reasons = strict["recommendation"]["reasons"].to_string();
    assert!(
        reasons.contains("C's error rate 5 % exceeds the 2 % limit"),
        "{reasons}"
    );
    // D drifts: out of control, off the frontier, never recommended.
    assert_eq!(row(&strict, "D")["in_control"], false, "{strict}");
    for name in ["A", "B", "C"] {
        assert_eq!(row(&strict, name)["in_control"], true, "{name}: {strict}");
    }
    assert!(
        !strict["pareto"].as_array().unwrap().contains(&json!("D")),
        "{strict}"
    );
    assert_eq!(strict["recommendation"]["name"], "A", "{strict}");
    assert_eq!(
        strict["window"],
        json!({"since": 0, "limit_per_target": 3333, "capped": [], "no_results": []})
    );

    // Errors tolerated, latency alone: C, the fastest, is recommended instead; still not D.
    let tolerant = client.compare(&format!("{abcd}&{latency_only}")).await;
    assert_eq!(tolerant["recommendation"]["name"], "C", "{tolerant}");

    // The same JSON as the CLI's report of the same results (GET /results).
    let mut settings = llmscope_protocol::compare::Settings {
        max_error_rate: Some(0.02),
        ..Default::default()
    };
    settings.weights =
        llmscope_protocol::compare::parse_weights("latency=1,speed=0,cost=0,quality=0").unwrap();
    let mut worker = strict.clone();
    worker.as_object_mut().unwrap().remove("window");
    same(
        &worker,
        &cli_report(&client, &TARGETS, &settings).await,
        "report",
    );

    // F: 5001 results; only the newest 5000 are compared, and the answer says so.
    wrangler.d1(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5001) \
         INSERT INTO results (target, t, ok, json) \
         SELECT 'F', i, 1, json_set((SELECT json FROM results WHERE target = 'A' AND ok = 1 LIMIT 1), \
         '$.target', 'F', '$.t', i, '$.ttft_ms', 50 + i % 37) FROM n",
    );
    let started = std::time::Instant::now();
    let capped = client.compare("targets=F").await;
    eprintln!(
        "GET /compare?targets=F (5000 results): {:?}",
        started.elapsed()
    );
    assert_eq!(row(&capped, "F")["n"], 5000);
    assert_eq!(capped["window"]["capped"], json!(["F"]));
    let caveats = capped["recommendation"]["caveats"].to_string();
    assert!(
        caveats.contains("F: only its newest 5000 results since 0 were compared"),
        "{caveats}"
    );

    // Every target by default: E has none and is left out, with a caveat.
    let all = client.compare("").await;
    assert_eq!(all["window"]["no_results"], json!(["E"]));
    assert_eq!(all["targets"].as_array().unwrap().len(), 5);
    assert!(all["recommendation"]["caveats"]
        .to_string()
        .contains("E has no results since 0: it is not compared"));
    assert!(client
        .refused("targets=E", 404)
        .await
        .starts_with("no results since 0 for E:"));
    // since narrows the window like /results' since.
    let last = f(&client.get("/results?target=A&limit=10000").await.1[ROUNDS as usize - 11]["t"]);
    let recent = client.compare(&format!("targets=A,B&since={last}")).await;
    assert_eq!(row(&recent, "A")["n"], 10, "{recent}");
}

/// The digest's webhook bodies among everything the webhook received.
fn digests(bodies: Vec<Value>) -> Vec<Value> {
    bodies
        .into_iter()
        .filter(|b| b["llmscope"].get("digest").is_some())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_digest_goes_once_a_day_and_says_what_changed() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let standin = Standin::start().await.unwrap();
    let webhook = Webhook::start().await;
    // X is better on both criteria the digest weighs (TTFT and speed), so the order does not
    // hang on how close two speeds' intervals come.
    let script = |ttft_ms, gap_ms| Script {
        ttft_ms,
        jitter_ms: 10,
        gap_ms,
        gap_jitter_ms: 2,
        ..Script::default()
    };
    standin.set("X", script(40, 3));
    standin.set("Y", script(120, 12));
    let targets: Vec<Value> = ["X", "Y"]
        .iter()
        .map(|n| json!({"name": n, "provider": "ollama", "model": "m", "base_url": standin.base_url(n)}))
        .collect();
    let vars = [
        ("LLMSCOPE_TARGETS", Value::Array(targets).to_string()),
        ("LLMSCOPE_WEBHOOK", webhook.url()),
        ("LLMSCOPE_WEBHOOK_TIMEOUT_MS", "1000".to_string()),
        ("LLMSCOPE_DIGEST", "daily".to_string()),
    ];
    let wrangler = Wrangler::start("digest", &vars, &[("LLMSCOPE_TOKEN", TOKEN)]).await;
    let client = Client::new(&wrangler);

    // The webhook refuses the first run's three attempts: nothing is recorded, and the next
    // run delivers it.
    webhook.answer_next(&[Answer::Status(500); 3]);
    client.cron().await;
    assert_eq!(digests(webhook.received()).len(), 0);
    assert_eq!(
        digests(webhook.attempts().into_iter().map(|a| a.0).collect()).len(),
        3
    );
    client.cron().await;
    let first = digests(webhook.received());
    assert_eq!(first.len(), 1, "{first:#?}");
    let text = first[0]["text"].as_str().unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("LLMscope daily digest, 20"), "{text}");
    // Two probes each cannot tell X from Y.
    assert_eq!(
        lines[1], "Recommended: none (GET /compare gives the reasons)",
        "{text}"
    );
    assert!(
        lines[2].starts_with("not ranked: X: n 2, error rate 0 %"),
        "{text}"
    );
    assert!(
        lines[3].starts_with("not ranked: Y: n 2, error rate 0 %"),
        "{text}"
    );
    assert!(
        text.ends_with("The first digest: nothing to compare with yet."),
        "{text}"
    );

    // The same day: no second digest.
    for _ in 0..10 {
        client.cron().await;
    }
    assert_eq!(digests(webhook.received()).len(), 1);

    // Enough results to judge stability (50 successful are needed before anything is
    // recommended): 50 more of each, copies of its stored probes in turn (so the same
    // distribution: a level apart from the probes would rightly be out of control), written
    // straight to D1 rather than probed, a second apart before the first probe (inside the
    // retention the cron keeps).
    for name in ["X", "Y"] {
        let first = format!("(SELECT min(t) FROM results WHERE target = '{name}')");
        wrangler.d1(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50), \
             p(k, v) AS (SELECT ROW_NUMBER() OVER (ORDER BY t) - 1, \
             json_extract(json, '$.ttft_ms') FROM results WHERE target = '{name}' AND ok = 1) \
             INSERT INTO results (target, t, ok, json) \
             SELECT '{name}', {first} - 1000 * i, 1, json_set((SELECT json FROM results \
             WHERE target = '{name}' AND ok = 1 LIMIT 1), '$.t', {first} - 1000 * i, \
             '$.ttft_ms', (SELECT v FROM p WHERE k = i % (SELECT count(*) FROM p))) FROM n"
        ));
    }
    // The last digest was yesterday's: the next run sends today's, with what changed.
    wrangler.d1("UPDATE digest_sent SET day = day - 1, state = json_set(state, '$.day', day - 1)");
    client.cron().await;
    client.cron().await;
    let all = digests(webhook.received());
    assert_eq!(all.len(), 2, "{all:#?}");
    let text = all[1]["text"].as_str().unwrap();
    assert!(
        text.contains("\nRecommended: X\n#1 X: n 63, error rate 0 %"),
        "{text}"
    );
    assert!(text.contains("\n#2 Y: n 63"), "{text}");
    let changes = all[1]["llmscope"]["digest"]["changes"].clone();
    let wanted = [
        "recommended: X, was none",
        "X entered the ranking at #1",
        "Y entered the ranking at #2",
    ];
    assert_eq!(changes, json!(wanted), "{text}");
    assert!(
        text.contains(&format!("\n• {}", wanted.join("\n• "))),
        "{text}"
    );
    assert!(!text.contains(TOKEN) && !wrangler.log().contains(TOKEN));
}
