//! `llmscope-shim compare` end to end: the real binary on a generated results file with a known
//! truth (issue 12's stand-in profiles): A is 20 % faster than B, C fails 5 % of its probes
//! (and streams twice as fast), D drifts (its TTFT rises over the window). Prices
//! (`LLMSCOPE_PRICES`, [`PRICES`]): A and B cost the same, C is cheapest, D's is unknown.

use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Command, Output};

/// Probes per target.
const N: usize = 300;
/// Median TTFT of A and B in ms: A is 20 % faster.
const A_MEDIAN: f64 = 400.0;
const B_MEDIAN: f64 = 500.0;
/// Log-normal sigma of TTFT.
const SIGMA: f64 = 0.25;

/// USD per million tokens, dated: A and B at 1 in / 4 out, C at a tenth of that; D has none.
/// Every probe is 12 tokens in and 60 out, so a success costs (12·1 + 60·4) / 10⁶ = 0.000252
/// at A and B and (12·0.1 + 60·0.4) / 10⁶ = 0.0000252 at C. C's 15 failures are refused with
/// a 500 and no usage: not billed, so C's cost per request is 285 · 0.0000252 / 300 =
/// 0.00002394.
const PRICES: &str = r#"{"taken": "2026-12-01", "prices": [
    {"provider": "openai", "model": "model-A", "input": 1, "output": 4},
    {"provider": "openai", "model": "model-B", "input": 1, "output": 4},
    {"provider": "openai", "model": "model-C", "input": 0.1, "output": 0.4}]}"#;

/// SplitMix64 (Steele, Lea & Flood 2014): seeded, so every run sees the same file.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal by Box–Muller.
    fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

fn ok(target: &str, t: i64, ttft: f64, speed: f64) -> Value {
    json!({"target": target, "provider": "openai", "model": format!("model-{target}"), "t": t,
           "ok": true, "status": 200, "ttft_ms": ttft, "total_ms": ttft + 1000.0,
           "input_tokens": 12, "output_tokens": 60, "cached_input_tokens": null,
           "tokens_per_s": speed, "cost_usd": null, "error": null, "extra": {}})
}

fn failed(target: &str, t: i64) -> Value {
    json!({"target": target, "provider": "openai", "model": format!("model-{target}"), "t": t,
           "ok": false, "status": 500, "ttft_ms": null, "total_ms": null, "input_tokens": null,
           "output_tokens": null, "cached_input_tokens": null, "tokens_per_s": null,
           "cost_usd": null,
           "error": {"kind": "server", "message": "HTTP 500", "retry_after_s": null}})
}

/// The stand-in results, targets interleaved as GET /results answers them (oldest first).
fn stand_in() -> Vec<Value> {
    let mut rng = Rng(12);
    let mut items = Vec::new();
    for i in 0..N {
        let t = 1_795_000_000_000 + 60_000 * i as i64;
        let mut speed = |median: f64| median * (0.05 * rng.normal()).exp();
        let (sa, sb, sc, sd) = (speed(60.0), speed(60.0), speed(120.0), speed(60.0));
        let mut ttft = |median: f64, sigma: f64| median * (sigma * rng.normal()).exp();
        items.push(ok("A", t, ttft(A_MEDIAN, SIGMA), sa));
        items.push(ok("B", t + 1, ttft(B_MEDIAN, SIGMA), sb));
        // Exactly 5 % of C fails: 15 of 300.
        if i % 20 == 19 {
            items.push(failed("C", t + 2));
        } else {
            items.push(ok("C", t + 2, ttft(450.0, SIGMA), sc));
        }
        // D's TTFT rises from 300 to 900 ms over the window.
        let drift = 300.0 + 600.0 * i as f64 / N as f64;
        items.push(ok("D", t + 3, ttft(drift, 0.1), sd));
    }
    items
}

/// The true A − B shift the Hodges–Lehmann estimate aims at: the median of X − Y for
/// independent X ~ A and Y ~ B, by simulation (another seed, 400 000 draws).
fn true_shift() -> f64 {
    let mut rng = Rng(99);
    let mut d: Vec<f64> = (0..400_000)
        .map(|_| A_MEDIAN * (SIGMA * rng.normal()).exp() - B_MEDIAN * (SIGMA * rng.normal()).exp())
        .collect();
    d.sort_by(f64::total_cmp);
    d[d.len() / 2]
}

fn write(name: &str, doc: &Value) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("compare");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(doc).unwrap()).unwrap();
    path
}

/// Runs `compare` with the stand-in's [`PRICES`].
fn shim(file: &PathBuf, args: &[&str]) -> Output {
    shim_priced(file, args, Some(PRICES))
}

/// Runs `compare` with `LLMSCOPE_PRICES` set to `prices`, or unset.
fn shim_priced(file: &PathBuf, args: &[&str], prices: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_llmscope-shim"));
    command.arg("compare").arg(file).args(args);
    match prices {
        Some(p) => command.env("LLMSCOPE_PRICES", p),
        None => command.env_remove("LLMSCOPE_PRICES"),
    };
    command.output().expect("the shim starts")
}

fn json_out(file: &PathBuf, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = shim(file, &all);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

/// Runs with bad input: exit status 2, a message containing `expected`, no panic.
fn fails(file: &PathBuf, args: &[&str], expected: &str) {
    let out = shim(file, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains(expected), "expected '{expected}' in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

fn target<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no target {name} in {report}"))
}

fn pair<'a>(report: &'a Value, a: &str, b: &str) -> &'a Value {
    report["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["a"] == a && p["b"] == b)
        .unwrap_or_else(|| panic!("no pair {a}-{b}"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn the_stand_in_truth_is_found() {
    let file = write("stand-in.json", &Value::Array(stand_in()));
    let report = json_out(&file, &[]);
    assert_eq!(report["metric"], "ttft_ms");

    let ab = pair(&report, "A", "B");
    let truth = true_shift();
    assert!(
        (-110.0..-90.0).contains(&truth),
        "the simulated truth is off: {truth}"
    );
    assert!(
        f(&ab["lo"]) <= truth && truth <= f(&ab["hi"]),
        "A - B shift CI [{}, {}] misses the true {truth}",
        ab["lo"],
        ab["hi"]
    );
    assert_eq!(ab["significant"], true);

    let c = target(&report, "C");
    assert_eq!(
        (c["n"].as_u64(), c["n_ok"].as_u64()),
        (Some(300), Some(285))
    );
    let err = &c["error_rate"];
    assert!((f(&err["value"]) - 0.05).abs() < 1e-12);
    assert!(f(&err["lo"]) > 0.0 && f(&err["lo"]) < 0.05 && f(&err["hi"]) > 0.05);

    assert_eq!(target(&report, "D")["in_control"], false);
    for name in ["A", "B", "C"] {
        assert_eq!(target(&report, name)["in_control"], true, "{name}");
    }
}

#[test]
fn two_constraint_sets_recommend_differently() {
    let file = write("constraints.json", &Value::Array(stand_in()));
    // C fails 5 %: over the limit, so the fastest to first token of the rest, A, wins.
    let strict = json_out(&file, &["--max-error-rate", "0.01"]);
    let verdict = &strict["recommendation"];
    assert_eq!(verdict["name"], "A", "{verdict}");
    let reasons = verdict["reasons"].to_string();
    assert!(reasons.contains("C"), "C's exclusion is said: {reasons}");
    // No limits, and only speed weighed: C streams twice as fast.
    let fast = json_out(&file, &["--weights", "latency=0,speed=1,cost=0,quality=0"]);
    assert_eq!(
        fast["recommendation"]["name"], "C",
        "{}",
        fast["recommendation"]
    );
    // D drifts: never recommended, and the caveats say why.
    for report in [&strict, &fast] {
        let caveats = report["recommendation"]["caveats"].to_string();
        assert!(
            caveats.contains("D is out of statistical control"),
            "{caveats}"
        );
        assert!(caveats.contains("D's cost is unknown"), "{caveats}");
    }
    // A cost limit per successful request that only C, the cheapest, meets.
    let cheap = json_out(&file, &["--max-cost-usd", "0.0001"]);
    let verdict = &cheap["recommendation"];
    assert_eq!(verdict["name"], "C", "{verdict}");
    let reasons = verdict["reasons"].to_string();
    assert!(
        reasons.contains("A's cost per successful request $0.000252 exceeds the $0.0001 limit")
            && reasons.contains("B's cost per successful request $0.000252 exceeds"),
        "{reasons}"
    );
}

/// The costs of [`PRICES`], worked out there, and the monthly bill at 1000 requests: A 0.252,
/// C 0.02394 (its refused failures cost nothing).
#[test]
fn costs_come_from_llmscope_prices_and_an_unknown_price_is_null() {
    let file = write("costs.json", &Value::Array(stand_in()));
    let report = json_out(&file, &["--volume", "1000"]);
    let close = |v: &Value, x: f64| (f(v) - x).abs() < 1e-12 * x.max(1.0);
    for name in ["A", "B"] {
        let cost = &target(&report, name)["cost"];
        assert!(close(&cost["per_request_usd"], 0.000252), "{cost}");
        assert!(close(&cost["per_success_usd"], 0.000252), "{cost}");
        // (3·1 + 4) / 4; measured: 252 µUSD per 72 tokens.
        assert!(close(&cost["blended_3to1_per_mtok"], 1.75), "{cost}");
        assert!(
            close(&cost["blended_measured_per_mtok"], 252.0 / 72.0),
            "{cost}"
        );
        assert!(close(&cost["monthly_usd"], 0.252), "{cost}");
        assert_eq!(cost["prices_taken"], "2026-12-01");
    }
    let c = &target(&report, "C")["cost"];
    assert!(close(&c["per_request_usd"], 0.00002394), "{c}");
    assert!(close(&c["per_success_usd"], 0.0000252), "{c}");
    assert!(close(&c["monthly_usd"], 0.02394), "{c}");
    assert!(target(&report, "D")["cost"].is_null());
    assert_eq!(report["prices_taken"], "2026-12-01");

    // Without LLMSCOPE_PRICES the shipped table knows none of these models: every cost is
    // null, never 0, and the caveats say so with the table's date.
    let out = shim_priced(&file, &["--format", "json"], None);
    assert!(out.status.success());
    let shipped: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(shipped["targets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["cost"].is_null()));
    let caveats = shipped["recommendation"]["caveats"].to_string();
    let taken = shipped["prices_taken"].as_str().unwrap();
    assert!(
        caveats.contains(&format!(
            "A's cost is unknown: the price table (taken {taken}) has no price for openai model-A"
        )),
        "{caveats}"
    );
}

#[test]
fn a_bad_llmscope_prices_is_refused_with_its_row_and_field() {
    let file = write("bad-prices.json", &Value::Array(stand_in()));
    let bad = PRICES.replace(r#""input": 0.1"#, r#""input": -0.1"#);
    let out = shim_priced(&file, &[], Some(&bad));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("LLMSCOPE_PRICES: prices[2].input: -0.1 is not a price"),
        "{err}"
    );
    let undated = r#"{"prices": []}"#;
    let out = shim_priced(&file, &[], Some(undated));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("LLMSCOPE_PRICES: taken: is missing"), "{err}");
}

#[test]
fn json_fields_are_the_contract() {
    let file = write("fields.json", &Value::Array(stand_in()));
    let report = json_out(&file, &["--metric", "total_ms"]);
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let has = |v: &Value, wanted: &[&str]| {
        let k = keys(v);
        for w in wanted {
            assert!(k.contains(&w.to_string()), "'{w}' missing from {k:?}");
        }
    };
    assert_eq!(report["metric"], "total_ms");
    has(
        &report,
        &["metric", "targets", "pairs", "pareto", "recommendation"],
    );
    let row = &report["targets"][0];
    has(
        row,
        &[
            "name",
            "n",
            "n_ok",
            "error_rate",
            "p50",
            "p95",
            "p99",
            "in_control",
            "cost",
            "pass_rate",
        ],
    );
    for interval in ["error_rate", "p50", "p95", "p99"] {
        assert_eq!(keys(&row[interval]), ["hi", "lo", "value"], "{interval}");
    }
    assert!(row["pass_rate"].is_null());
    has(
        &row["cost"],
        &[
            "per_request_usd",
            "per_success_usd",
            "blended_3to1_per_mtok",
            "blended_measured_per_mtok",
            "monthly_usd",
            "prices_taken",
        ],
    );
    has(
        &report["pairs"][0],
        &["a", "b", "shift", "lo", "hi", "p_value", "significant"],
    );
    assert!(report["pareto"]
        .as_array()
        .unwrap()
        .iter()
        .all(Value::is_string));
    has(&report["recommendation"], &["name", "reasons", "caveats"]);
    // 4 targets, every pair.
    assert_eq!(report["targets"].as_array().unwrap().len(), 4);
    assert_eq!(report["pairs"].as_array().unwrap().len(), 6);
}

#[test]
fn the_telemetry_export_reads_as_the_results_array() {
    let items = stand_in();
    let export = json!({"format": "llmscope-telemetry", "version": 1, "session": {},
                        "probe_results": items, "samples": []});
    let from_export = json_out(&write("export.json", &export), &[]);
    let from_array = json_out(&write("array.json", &Value::Array(stand_in())), &[]);
    assert_eq!(from_export, from_array);
}

#[test]
fn quality_pass_makes_a_pass_rate() {
    let mut items = stand_in();
    // A passes 3 checks of 4; B's checks are null (not judged).
    for (i, item) in items.iter_mut().filter(|x| x["target"] == "A").enumerate() {
        item["quality_pass"] = json!(i % 4 != 0);
    }
    for item in items.iter_mut().filter(|x| x["target"] == "B") {
        item["quality_pass"] = Value::Null;
    }
    let report = json_out(&write("quality.json", &Value::Array(items)), &[]);
    let a = &target(&report, "A")["pass_rate"];
    assert!((f(&a["value"]) - 0.75).abs() < 1e-12, "{a}");
    assert!(f(&a["lo"]) < 0.75 && f(&a["hi"]) > 0.75);
    assert!(target(&report, "B")["pass_rate"].is_null());
}

#[test]
fn text_shows_table_pairs_and_recommendation() {
    let file = write("text.json", &Value::Array(stand_in()));
    let out = shim(
        &file,
        &[
            "--max-error-rate",
            "0.01",
            "--max-cost-usd",
            "0.01",
            "--volume",
            "1000",
        ],
    );
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for wanted in [
        "error rate",
        "P95",
        "in control",
        "A's TTFT is",
        "lower than B's",
        "Pareto frontier",
        "Recommendation: A",
        "$/success",
        "$/month",
        "0.000252",
        "unknown",
        "prices taken 2026-12-01",
    ] {
        assert!(text.contains(wanted), "'{wanted}' missing from:\n{text}");
    }
}

#[test]
fn a_malformed_item_is_named() {
    let mut items = stand_in();
    items[17] = json!({"target": "A", "ok": "yes"});
    fails(
        &write("bad.json", &Value::Array(items)),
        &[],
        "item 17: target \"A\": not a probe result: ok: invalid type: string \"yes\"",
    );
    let mut items = stand_in();
    items[5]["ttft_ms"] = json!(-3.0);
    fails(
        &write("negative.json", &Value::Array(items)),
        &[],
        "item 5: target \"B\": ttft_ms is -3",
    );
    let mut items = stand_in();
    items[2]["quality_pass"] = json!("yes");
    fails(
        &write("quality-bad.json", &Value::Array(items)),
        &[],
        "item 2:",
    );
    fails(
        &write("shape.json", &json!({"results": []})),
        &[],
        "neither a JSON array of probe results",
    );
    fails(&write("empty.json", &json!([])), &[], "no probe results");
    let missing = std::env::temp_dir().join("llmscope-compare-no-such-file.json");
    fails(&missing, &[], "cannot read");
}

#[test]
fn unknown_metric_and_weights_are_refused() {
    let file = write("flags.json", &Value::Array(stand_in()));
    fails(&file, &["--metric", "latency"], "invalid value 'latency'");
    fails(&file, &["--weights", "speedy=1"], "unknown key 'speedy'");
    fails(
        &file,
        &["--weights", "latency=fast"],
        "'fast' is not a number",
    );
    fails(&file, &["--weights", "latency"], "write key=number");
    fails(
        &file,
        &["--weights", "cost=-1"],
        "not a non-negative number",
    );
    fails(&file, &["--max-error-rate=-0.5"], "--max-error-rate:");
    fails(
        &file,
        &["--min-pass-rate", "95"],
        "not a rate between 0 and 1",
    );
    fails(
        &file,
        &["--weights", "speed=1,speed=2"],
        "'speed' is given twice",
    );
}
