//! The Compare view in Chromium, on issue 12's stand-in truth served by a stand-in probe Worker
//! (the Worker's `/targets` and `/results` contract, as in probe.rs): A is 20 % faster than B
//! (a pure shift of −100 ms in TTFT), C fails 5 % (and has the fastest output), D drifts.
//! The view must state A–B's shift with an interval holding −100 ms, show C's error rate and
//! leave C out under a 2 % limit, call D out of control and not recommend it, recommend
//! differently under two sets of constraints and weights, export a CSV that matches its table,
//! join outside quality scores by model, and put a page in the PDF report. Then machines:
//! twelve presses from a file, one far off, is the odd one out.

use fantoccini::{Client, Locator};
use llmscope_e2e::{
    assert_scenario_table, click, compare_cell, connect_probe, downloaded, eventually, import, js,
    pause_simulators, run_compare, screenshot_at, temp_csv, type_into, wait_for, Session, DEADLINE,
};

const TOKEN: &str = "compare-worker-token";
/// Probes per target.
const N: u64 = 300;
/// A − B in TTFT, by construction.
const TRUE_SHIFT: f64 = -100.0;

/// xorshift64 with Box–Muller normals: the same story on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn uniform(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// Each target's results as the Worker answers them. TTFT is 50·e^(0.5 z) above a floor of
/// 350 ms (A) or 450 ms (B, C): A's distribution is B's moved by exactly −100 ms (medians 400
/// and 500). C fails one probe in 20 and streams at 90 tokens/s (the others at 60). D's floor
/// climbs 2 ms a probe.
fn results() -> Vec<(&'static str, String)> {
    let mut rng = Rng(1);
    let mut out = Vec::new();
    for (name, model) in [
        ("A", "model-a"),
        ("B", "model-b"),
        ("C", "model-c"),
        ("D", "model-d"),
    ] {
        let mut items = Vec::new();
        for i in 0..N {
            let t = 1_764_201_600_000u64 + i * 60_000;
            let (z, z2) = (rng.normal(), rng.normal());
            let spread = 50.0 * (0.5 * z).exp();
            let (ttft, speed) = match name {
                "A" => (350.0 + spread, 60.0 + 3.0 * z2),
                "B" => (450.0 + spread, 60.0 + 3.0 * z2),
                "C" => (450.0 + spread, 90.0 + 3.0 * z2),
                _ => (300.0 + 2.0 * i as f64 + spread, 60.0 + 3.0 * z2),
            };
            items.push(if name == "C" && i % 20 == 7 {
                format!(r#"{{"target":"C","provider":"openai","model":"{model}","t":{t},"ok":false,"status":500,"ttft_ms":null,"total_ms":null,"input_tokens":12,"output_tokens":null,"cached_input_tokens":0,"tokens_per_s":null,"cost_usd":null,"error":{{"kind":"server","message":"boom","retry_after_s":null}},"extra":{{}}}}"#)
            } else {
                format!(r#"{{"target":"{name}","provider":"openai","model":"{model}","t":{t},"ok":true,"status":200,"ttft_ms":{ttft:.3},"total_ms":{:.3},"input_tokens":12,"output_tokens":64,"cached_input_tokens":0,"tokens_per_s":{speed:.3},"cost_usd":null,"error":null,"extra":{{}}}}"#, ttft + 800.0)
            });
        }
        out.push((name, format!("[{}]", items.join(","))));
    }
    out
}

/// A stand-in Worker: `/targets`, and each target's results on its first poll (`since=0`).
async fn stand_in() -> u16 {
    let targets = r#"[{"name":"A"},{"name":"B"},{"name":"C"},{"name":"D"}]"#.to_string();
    let results = results()
        .into_iter()
        .map(|(name, body)| (name.to_string(), body));
    llmscope_e2e::worker_stand_in(TOKEN, targets, results.collect()).await
}

/// A picture of the element of `testid` alone, to `target/screenshots/NAME.png` (taken before
/// any click: it scrolls the element to the top, under the sticky header).
async fn picture(client: &Client, testid: &str, name: &str) {
    let element = client
        .find(Locator::Css(&format!("[data-testid={testid}]")))
        .await
        .unwrap_or_else(|e| panic!("no {testid}: {e}"));
    let png = element
        .screenshot()
        .await
        .unwrap_or_else(|e| panic!("cannot picture {testid}: {e}"));
    let dir = llmscope_e2e::root().join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshots folder");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("write the picture");
}

/// CSV records (quoted fields may hold commas and doubled quotes; no line breaks here).
fn records(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|line| {
            let (mut fields, mut field, mut quoted) = (Vec::new(), String::new(), false);
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                match (c, quoted) {
                    ('"', true) if chars.peek() == Some(&'"') => {
                        field.push('"');
                        chars.next();
                    }
                    ('"', _) => quoted = !quoted,
                    (',', false) => fields.push(std::mem::take(&mut field)),
                    _ => field.push(c),
                }
            }
            fields.push(field);
            fields
        })
        .collect()
}

#[tokio::test]
async fn targets_are_compared_on_the_stand_in_truth() {
    let port = stand_in().await;
    let session = Session::open().await;
    let client = &session.client;
    pause_simulators(client).await;
    connect_probe(client, &format!("http://127.0.0.1:{port}"), TOKEN).await;
    // Targets are polled in order, each one's results added at once: D's last stream means all.
    eventually("every probe result in the session", DEADLINE, || async {
        let names = llmscope_e2e::stream_names(client).await;
        if names.to_string().contains("\"D/tokens_per_s\"") {
            Ok(())
        } else {
            Err(format!("streams {names}"))
        }
    })
    .await;
    click(client, Locator::Css("[data-testid=compare-open]")).await;
    let picks = js(client, "return [...document.querySelectorAll('[data-testid=compare-pick]')].map(e => e.dataset.name)").await;
    assert_eq!(picks, serde_json::json!(["A", "B", "C", "D"]));

    // Set 1: error rate at most 2 %, weights as given.
    type_into(client, "compare-max-error", "0.02").await;
    let first = run_compare(client).await;
    let status = wait_for(client, "[data-testid=compare-status]", DEADLINE)
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(status.starts_with("compared in"), "{status}");
    let ab = client
        .find(Locator::Css(
            "[data-testid=compare-pair][data-a=A][data-b=B]",
        ))
        .await
        .expect("the A–B pair");
    let mut bounds = Vec::new();
    for name in ["data-lo", "data-hi"] {
        let v = ab.attr(name).await.ok().flatten().unwrap_or_default();
        bounds.push(v.parse::<f64>().unwrap_or_else(|_| panic!("{name}: {v:?}")));
    }
    let (lo, hi) = (bounds[0], bounds[1]);
    assert!(
        lo <= TRUE_SHIFT && TRUE_SHIFT <= hi,
        "A − B in [{lo}, {hi}] holds {TRUE_SHIFT}"
    );
    let words = ab.text().await.unwrap_or_default();
    assert!(
        words.starts_with("A's TTFT is ") && words.contains(" ms lower than B's (95% CI "),
        "{words}"
    );
    assert!(words.contains("Holm p = 0.000"), "{words}");
    assert_scenario_table(client).await;
    assert_eq!(
        compare_cell(client, "A", "compare-cost").await,
        "price unknown"
    );
    let reasons = js(client, "return [...document.querySelectorAll('[data-testid=compare-reason]')].map(e => e.textContent)").await;
    let reasons: Vec<String> = serde_json::from_value(reasons).expect("reasons");
    assert_eq!(first, "A", "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("C's error rate 5 % exceeds the 2 % limit")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("D is out of statistical control")),
        "{reasons:?}"
    );
    picture(client, "compare-pareto", "compare-targets-pareto").await;
    picture(client, "compare-boxes", "compare-targets-boxes").await;
    screenshot_at(client, "compare-table", "compare-targets-table").await;
    screenshot_at(
        client,
        "compare-recommendation",
        "compare-targets-recommendation",
    )
    .await;

    // The CSV: one row per target, matching the table; then the pairs.
    click(client, Locator::Css("[data-testid=compare-csv]")).await;
    let file = downloaded(&session.downloads, "llmscope-compare.csv").await;
    let text = std::fs::read_to_string(file).expect("the CSV");
    let (table, pairs) = text.split_once("\n\n").expect("two sections");
    let rows = records(table);
    let head = &rows[0];
    let col = |name: &str| {
        head.iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} in {head:?}"))
    };
    assert_eq!(rows.len(), 5, "a header and four targets");
    for row in &rows[1..] {
        assert_eq!(row.len(), head.len(), "{row:?}");
        let name = &row[col("target")];
        let n: u64 = row[col("n")].parse().expect("n");
        assert_eq!(n, N);
        assert_eq!(compare_cell(client, name, "compare-n").await, n.to_string());
        let rate: f64 = row[col("error_rate")].parse().expect("error rate");
        let shown = compare_cell(client, name, "compare-error-rate").await;
        assert!(
            shown.starts_with(&format!("{:.1} % [", 100.0 * rate)),
            "{name}: {rate} vs {shown}"
        );
        for q in ["p50", "p95"] {
            let (v, lo, hi): (f64, f64, f64) = (
                row[col(q)].parse().expect("value"),
                row[col(&format!("{q}_lo"))].parse().expect("lo"),
                row[col(&format!("{q}_hi"))].parse().expect("hi"),
            );
            let shown = compare_cell(client, name, &format!("compare-{q}")).await;
            assert_eq!(shown, format!("{v:.1} [{lo:.1}, {hi:.1}]"), "{name} {q}");
        }
        let in_control = &row[col("in_control")];
        assert_eq!(
            in_control,
            if name == "D" { "false" } else { "true" },
            "{name}"
        );
    }
    let pairs = records(pairs);
    assert_eq!(pairs[0][..5], ["a", "b", "shift", "lo", "hi"]);
    let ab_row = pairs
        .iter()
        .find(|p| p[0] == "A" && p[1] == "B")
        .expect("A,B in the CSV");
    assert_eq!(ab_row[3].parse::<f64>().ok(), Some(lo));
    assert_eq!(ab_row[4].parse::<f64>().ok(), Some(hi));
    assert_eq!(
        ab_row.last(),
        Some(&words.split(" (Holm").next().unwrap_or_default().to_string())
    );

    // Outside scores, in percent, one model unknown and one bad line.
    let scores = temp_csv(
        "compare-scores.csv",
        "model,suite,score\nmodel-a,mmlu,91\nmodel-b,mmlu,78\nmodel-x,mmlu,50\nmodel-c,mmlu,oops\n",
    );
    let input = wait_for(client, "[data-testid=compare-scores-file]", DEADLINE).await;
    input
        .send_keys(&scores.display().to_string())
        .await
        .expect("choose the scores");
    let note = eventually("the scores joined", DEADLINE, || async {
        let a = compare_cell(client, "A", "compare-score").await;
        if a == "0.9100" {
            Ok(())
        } else {
            Err(format!("A's score {a:?}"))
        }
    });
    note.await;
    assert_eq!(compare_cell(client, "B", "compare-score").await, "0.7800");
    assert_eq!(compare_cell(client, "C", "compare-score").await, "–");
    let note = wait_for(client, "[data-testid=compare-scores-status]", DEADLINE)
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(
        note.contains("Models matching no target: model-x."),
        "{note}"
    );
    assert!(note.contains("in percent (0–100)"), "{note}");
    assert!(
        note.contains("line 5: \"oops\" is not a score for \"model-c\""),
        "{note}"
    );

    // Set 2: no error limit, only output speed counts: C, the fastest, is recommended.
    type_into(client, "compare-max-error", "").await;
    type_into(
        client,
        "compare-weights",
        "cost=0,latency=0,speed=1,quality=0",
    )
    .await;
    let second = run_compare(client).await;
    assert_eq!(second, "C");
    assert_ne!(first, second);
    let caveats = js(client, "return [...document.querySelectorAll('[data-testid=compare-caveat]')].map(e => e.textContent)").await;
    assert!(
        caveats
            .to_string()
            .contains("D is out of statistical control"),
        "{caveats}"
    );

    // The PDF report has a page of the comparison.
    click(client, Locator::Css("[data-testid=report-pdf]")).await;
    let pdf = downloaded(&session.downloads, "llmscope-report.pdf").await;
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", &pdf.display().to_string(), "-"])
        .output()
        .expect("pdftotext (poppler-utils)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Comparison of targets: TTFT (ms)"), "{text}");
    assert!(text.contains("Recommendation: C"), "{text}");
    assert!(text.contains("A's TTFT is"), "{text}");
    session.close().await;
}

#[tokio::test]
async fn the_odd_machine_out_is_found() {
    let session = Session::open().await;
    let client = &session.client;
    pause_simulators(client).await;
    // Twelve presses of one signal from a file; press5 runs 15 °C hot.
    let mut rng = Rng(7);
    let head: Vec<String> = (1..=12).map(|k| format!("press{k}/temp")).collect();
    let mut text = head.join(",") + "\n";
    for _ in 0..80 {
        let row: Vec<String> = (1..=12)
            .map(|k| {
                format!(
                    "{:.3}",
                    225.0 + if k == 5 { 15.0 } else { 0.0 } + 0.5 * rng.normal()
                )
            })
            .collect();
        text += &(row.join(",") + "\n");
    }
    import(client, &temp_csv("line.csv", &text)).await;
    eventually("the file's streams", DEADLINE, || async {
        let names = llmscope_e2e::stream_names(client).await;
        let n = names.as_array().map_or(0, |a| {
            a.iter()
                .filter(|n| n.as_str().is_some_and(|n| n.starts_with("line/")))
                .count()
        });
        if n == 12 {
            Ok(())
        } else {
            Err(format!("streams {names}"))
        }
    })
    .await;
    click(client, Locator::Css("[data-testid=compare-open]")).await;
    click(client, Locator::Css("[data-testid=compare-mode-machines]")).await;
    llmscope_e2e::set(client, "compare-metric", "temp").await;
    let picks = js(
        client,
        "return document.querySelectorAll('[data-testid=compare-pick]').length",
    )
    .await;
    assert_eq!(picks, 12);
    click(client, Locator::Css("[data-testid=compare-run]")).await;
    let odd = wait_for(client, "[data-testid=compare-odd-machine]", DEADLINE)
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(odd.contains("line/press5"), "{odd}");
    let flagged = js(client, "return [...document.querySelectorAll('[data-testid=compare-row][data-odd=true]')].map(e => e.dataset.name)").await;
    assert_eq!(flagged, serde_json::json!(["line/press5"]));
    screenshot_at(client, "compare-boxes", "compare-machines-boxes").await;
    screenshot_at(client, "compare-odd", "compare-machines").await;
    session.close().await;
}

/// Above eight targets each is compared with the one of the best median (9 pairs for 10
/// targets, not 45); ticking "All pairs" tests every pair.
#[tokio::test]
async fn many_targets_are_compared_with_the_best_one_unless_all_pairs_are_ticked() {
    // Ten targets, T3 the fastest by 30 ms and more: TTFT 400 + 30 × its distance from T3.
    let mut rng = Rng(11);
    let names: Vec<String> = (0..10).map(|k| format!("T{k}")).collect();
    let results = names
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let items: Vec<String> = (0..60u64)
                .map(|i| {
                    let t = 1_764_201_600_000u64 + i * 60_000;
                    let ttft = 400.0 + 30.0 * (k as f64 - 3.0).abs() + 10.0 * rng.normal();
                    format!(r#"{{"target":"{name}","provider":"openai","model":"m-{name}","t":{t},"ok":true,"status":200,"ttft_ms":{ttft:.3},"total_ms":{:.3},"input_tokens":12,"output_tokens":64,"cached_input_tokens":0,"tokens_per_s":60,"cost_usd":null,"error":null,"extra":{{}}}}"#, ttft + 800.0)
                })
                .collect();
            (name.clone(), format!("[{}]", items.join(",")))
        })
        .collect();
    let listed: Vec<String> = names
        .iter()
        .map(|n| format!(r#"{{"name":"{n}"}}"#))
        .collect();
    let port =
        llmscope_e2e::worker_stand_in(TOKEN, format!("[{}]", listed.join(",")), results).await;
    let session = Session::open().await;
    let client = &session.client;
    pause_simulators(client).await;
    type_into(client, "probe-url", &format!("http://127.0.0.1:{port}")).await;
    type_into(client, "probe-token", TOKEN).await;
    click(client, Locator::Css("[data-testid=probe-connect]")).await;
    eventually("every probe result in the session", DEADLINE, || async {
        let names = llmscope_e2e::stream_names(client).await;
        if names.to_string().contains("\"T9/tokens_per_s\"") {
            Ok(())
        } else {
            Err(format!("streams {names}"))
        }
    })
    .await;
    click(client, Locator::Css("[data-testid=compare-open]")).await;
    let pairs = "return [...document.querySelectorAll('[data-testid=compare-pair]')].map(e => [e.dataset.a, e.dataset.b])";
    run_compare(client).await;
    let against = js(client, pairs).await;
    let against = against.as_array().cloned().unwrap_or_default();
    assert_eq!(against.len(), 9, "{against:?}");
    assert!(
        against.iter().all(|p| p.to_string().contains("\"T3\"")),
        "every pair has T3, the best median: {against:?}"
    );
    let note = wait_for(client, "[data-testid=compare-pairs-note]", DEADLINE)
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(note.contains("Each target against T3"), "{note}");
    // Compared in the Web Worker: the page itself never started the second module (its wasm
    // was fetched by the worker; Chromium lists the worker's script imports on the page).
    let on_page = js(
        client,
        "return performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('llmscope_lazy_bg'))",
    )
    .await;
    assert_eq!(
        on_page,
        serde_json::json!([]),
        "the second module on the page"
    );
    click(client, Locator::Css("[data-testid=compare-all-pairs]")).await;
    run_compare(client).await;
    let all = js(client, pairs).await;
    assert_eq!(all.as_array().map_or(0, Vec::len), 45, "{all}");
    session.close().await;
}
