//! `llmscope-shim analyze` end to end: the real binary on real files, as a user runs it.

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn data(name: &str) -> String {
    format!(
        "{}/../spc-wasm/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn shim(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_llmscope-shim"))
        .arg("analyze")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the shim starts");
    if let Some(input) = stdin {
        // The shim may reject its flags and exit before reading: a broken pipe is fine.
        let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = shim(&all, None);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

/// Runs with bad input: must fail with exit status 2, a message containing `expected`, and no
/// panic.
fn fails(args: &[&str], stdin: Option<&str>, expected: &str) {
    let out = shim(args, stdin);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains(expected), "expected '{expected}' in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Column `name` of a data file, read independently of the shim (plain split, no quotes).
fn column(file: &str, name: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(data(file)).expect("data file");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let at = header.iter().position(|h| *h == name).expect("column");
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').nth(at).expect("cell").parse().expect("number"))
        .collect()
}

/// d2 for moving ranges of two: E|X1 - X2| / sigma = 2/sqrt(pi) (Montgomery, Introduction to
/// SQC, 6th ed., Appendix Table VI: 1.128).
fn d2_of_two() -> f64 {
    2.0 / std::f64::consts::PI.sqrt()
}

/// MR-bar / d2 of a series.
fn moving_range_sigma(x: &[f64]) -> f64 {
    let mr: f64 = x.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (x.len() - 1) as f64;
    mr / d2_of_two()
}

fn close(v: &Value, expected: f64, tol: f64) {
    let x = v.as_f64().unwrap_or(f64::NAN);
    assert!((x - expected).abs() <= tol, "got {v}, expected {expected}");
}

#[test]
fn piston_rings_json_contract() {
    let j = json(&[
        &data("pistonrings.csv"),
        "--chart",
        "xbar-r",
        "--subgroup-column",
        "subgroup",
        "--phase1",
        "25",
    ]);
    assert_eq!(j["n"], 40);
    assert_eq!(j["column"], "value");
    close(&j["center"], 74.0012, 5e-5);
    let p0 = &j["points"][0];
    assert_eq!(p0["index"], 0);
    close(&p0["lcl"], 73.9880, 5e-5);
    close(&p0["ucl"], 74.0143, 5e-5);
    assert_eq!(j["points"][36]["tests"].as_array().unwrap()[0], 1);
    let beyond: Vec<u64> = j["signals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["test"] == 1)
        .map(|s| s["index"].as_u64().unwrap())
        .collect();
    assert_eq!(beyond, vec![36, 37, 38]);
    let s = &j["signals"][0];
    assert!(s["first"].as_u64() <= s["last"].as_u64() && s["last"] == s["index"]);
    close(&j["secondary"]["points"][0]["ucl"], 0.04813, 5e-5);
    assert_eq!(j["secondary"]["chart"], "range");
    assert!(j["capability"].is_null());
    // All eight tests at K = 9, 6, 14, 2, 4, 15, 8 in control: ARL 73.67 ± 0.15 by 200,000
    // seeded runs (docs/benchmarks.md, "ARL by simulation"); the report's own simulation must
    // agree within four of its standard errors plus four of the reference's.
    let arl = &j["arl"];
    let se = arl["std_error"]
        .as_f64()
        .expect("a simulated ARL has a standard error");
    close(&arl["in_control"], 73.67, 4.0 * se + 4.0 * 0.15);
}

#[test]
fn attribute_charts_from_count_and_size_columns() {
    let p = json(&[
        &data("orangejuice.csv"),
        "--chart",
        "p",
        "--column",
        "count",
        "--size-column",
        "size",
        "--phase1",
        "30",
    ]);
    close(&p["center"], 0.2313, 5e-5);
    close(&p["points"][0]["ucl"], 0.4102, 5e-5);
    assert!(p["secondary"].is_null());
    let u = json(&[
        &data("dyedcloth.csv"),
        "--chart",
        "u",
        "--column",
        "count",
        "--size-column",
        "size",
    ]);
    // Montgomery, Introduction to SQC (6th ed.), Example 7.5 (dyed cloth): u-bar = 1.42,
    // UCL = u-bar + 3 sqrt(u-bar / n) = 2.55 for n = 10 (sample 1) and 2.69 for n = 8
    // (sample 2). Recomputed here from the file's counts and sizes.
    let (counts, sizes) = (
        column("dyedcloth.csv", "count"),
        column("dyedcloth.csv", "size"),
    );
    let u_bar = counts.iter().sum::<f64>() / sizes.iter().sum::<f64>();
    close(&u["center"], u_bar, 1e-9);
    for (i, published) in [(0, 2.55), (1, 2.69)] {
        let ucl = u_bar + 3.0 * (u_bar / sizes[i]).sqrt();
        close(&u["points"][i]["ucl"], ucl, 1e-9);
        // The book rounds u-bar to 1.42 first (2.5553 here prints as 2.55 there).
        close(&u["points"][i]["ucl"], published, 0.01);
    }
    close(
        &u["points"][0]["lcl"],
        u_bar - 3.0 * (u_bar / 10.0).sqrt(),
        1e-9,
    );
}

#[test]
fn first_numeric_column_skips_the_index() {
    let j = json(&[&data("viscosity.csv"), "--phase1", "20"]);
    assert_eq!(j["column"], "value");
    close(&j["center"], 34.088, 1e-9);
    assert_eq!(j["secondary"]["points"][0]["index"], 1);
    // Exact lower quantiles (rank floor(q (n - 1))), computed independently from the sorted file.
    assert_eq!(j["summary"]["p50"], 34.05);
    assert_eq!(j["summary"]["p90"], 34.75);
    assert_eq!(j["summary"]["p99"], 35.4);
}

#[test]
fn reads_standard_input_and_one_sided_capability() {
    let csv: String = std::iter::once("ttft_ms\n".to_string())
        .chain((0..200).map(|i| format!("{}\n", 400.0 + ((i * 37) % 50) as f64)))
        .collect();
    let out = shim(&["-", "--usl", "800", "--format", "json"], Some(&csv));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cap = &j["capability"];
    assert!(cap["cp"].is_null(), "one-sided: no Cp");
    // Cpk = Cpu = (USL - mean) / (3 sigma_within), sigma_within = MR-bar / d2 (Montgomery,
    // Introduction to SQC, 6th ed., §8.2). The values are 400..449, four times each: mean
    // 424.5; moving ranges 37 (52 times) and 13 (147 times): MR-bar = 3835 / 199. So Cpk =
    // 375.5 / (3 · 19.271 / 1.1284) = 7.33.
    let x: Vec<f64> = (0..200).map(|i| 400.0 + ((i * 37) % 50) as f64).collect();
    let mean = x.iter().sum::<f64>() / 200.0;
    assert_eq!(mean, 424.5);
    let sigma = moving_range_sigma(&x);
    close(&cap["cpk"], (800.0 - mean) / (3.0 * sigma), 1e-9);
    close(&cap["cpk"], 7.33, 0.005);
    assert_eq!(cap["cpk"], cap["cpu"]);
}

#[test]
fn ewma_cusum_and_transforms() {
    let e = json(&[
        &data("viscosity.csv"),
        "--chart",
        "ewma",
        "--lambda",
        "0.2",
        "--phase1",
        "20",
    ]);
    assert_eq!(e["tests"], serde_json::json!([1]));
    // EWMA (Montgomery, Introduction to SQC, 6th ed., §9.2, eqs. 9.22 and 9.25; NIST
    // e-Handbook 6.3.2.4): z_i = λ x_i + (1 − λ) z_{i−1}, z_0 = μ; limits
    // μ ± L σ sqrt(λ / (2 − λ) · (1 − (1 − λ)^{2i})), L = 3; μ and σ (MR-bar / d2) from the
    // first 20 points. Recomputed here point by point.
    let x = column("viscosity.csv", "value");
    let mu = x[..20].iter().sum::<f64>() / 20.0;
    let sigma = moving_range_sigma(&x[..20]);
    let lambda = 0.2;
    let mut z = mu;
    let points = e["points"].as_array().expect("points");
    assert_eq!(points.len(), x.len());
    for (i, (xi, p)) in x.iter().zip(points).enumerate() {
        z = lambda * xi + (1.0 - lambda) * z;
        let t = (i + 1) as f64;
        let half =
            3.0 * sigma * (lambda / (2.0 - lambda) * (1.0 - (1.0 - lambda).powf(2.0 * t))).sqrt();
        close(&p["statistic"], z, 1e-9);
        close(&p["center"], mu, 1e-9);
        close(&p["ucl"], mu + half, 1e-9);
        close(&p["lcl"], mu - half, 1e-9);
    }
    let c = json(&[
        &data("viscosity.csv"),
        "--chart",
        "cusum",
        "--k",
        "0.5",
        "--h",
        "5",
        "--phase1",
        "20",
    ]);
    assert_eq!(c["points"][0]["ucl"], 5.0);
    assert_eq!(c["secondary"]["chart"], "cusum-lower");
    let b = json(&[
        &data("viscosity.csv"),
        "--transform",
        "box-cox",
        "--phase1",
        "20",
    ]);
    assert_eq!(b["transform"]["kind"], "box-cox");
    let orig = &b["points"][3]["original"]["statistic"];
    close(orig, 35.96, 1e-6);
    // Box-Cox (Box & Cox 1964): λ maximises l(λ) = −(n/2) ln σ̂²(λ) + (λ − 1) Σ ln x over the
    // baseline; found here by a grid over [−5, 5] in steps of 0.001, then the transformed
    // individuals chart: y = (x^λ − 1)/λ, center ȳ, limits ȳ ± 3 MR-bar / d2.
    let base = &x[..20];
    let boxcox = |l: f64, v: f64| (v.powf(l) - 1.0) / l;
    let loglik = |l: f64| {
        let y: Vec<f64> = base.iter().map(|&v| boxcox(l, v)).collect();
        let m = y.iter().sum::<f64>() / 20.0;
        let var = y.iter().map(|v| (v - m).powi(2)).sum::<f64>() / 20.0;
        -10.0 * var.ln() + (l - 1.0) * base.iter().map(|v| v.ln()).sum::<f64>()
    };
    let best = (-5000..=5000)
        .map(|k| f64::from(k) / 1000.0)
        .filter(|l| l.abs() > 1e-9)
        .max_by(|a, b| loglik(*a).total_cmp(&loglik(*b)))
        .expect("a maximum");
    let fitted = b["transform"]["lambda"].as_f64().expect("lambda");
    assert!(
        (fitted - best).abs() <= 0.001,
        "λ {fitted}, grid maximum {best}"
    );
    let y: Vec<f64> = x.iter().map(|&v| boxcox(fitted, v)).collect();
    let center = y[..20].iter().sum::<f64>() / 20.0;
    let half = 3.0 * moving_range_sigma(&y[..20]);
    let p3 = &b["points"][3];
    close(&p3["statistic"], y[3], 1e-9);
    close(&p3["center"], center, 1e-9);
    close(&p3["ucl"], center + half, 1e-9);
    close(&p3["lcl"], center - half, 1e-9);
}

#[test]
fn csv_and_text_formats() {
    let out = shim(
        &[&data("viscosity.csv"), "--phase1", "20", "--format", "csv"],
        None,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 36, "a header and one row per point");
    assert!(text
        .lines()
        .next()
        .unwrap()
        .starts_with("index,statistic,center,lcl,ucl,tests"));
    let out = shim(
        &[
            &data("pistonrings.csv"),
            "--chart",
            "xbar-r",
            "--subgroup-size",
            "5",
            "--phase1",
            "25",
        ],
        None,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("false alarm about every"), "{text}");
    assert!(text.contains("test 1"), "{text}");
}

#[test]
fn bad_input_names_line_and_column() {
    fails(
        &["-"],
        Some("t,value\n1,2\n2,abc\n3,4\n"),
        "line 3, column 'value': 'abc' is not a number",
    );
    fails(
        &["-"],
        Some("value\n1\nNaN\n"),
        "line 3, column 'value': 'NaN' is not a finite number",
    );
    fails(
        &["-"],
        Some("value\n1\n\n"),
        "needs at least 2 points, got 1",
    );
    fails(
        &["-", "--column", "ttft"],
        Some("value\n1\n2\n"),
        "--column 'ttft' is not a column",
    );
    fails(
        &["-", "--phase1", "10"],
        Some("value\n1\n2\n3\n"),
        "the baseline (Phase I) asks for 10 points but there are only 3",
    );
    fails(
        &["-", "--chart", "xbar-r"],
        Some("value\n1\n2\n3\n"),
        "X-bar charts need subgroups",
    );
    fails(
        &["-", "--chart", "xbar-r", "--subgroup-column", "g"],
        Some("g,value\n1,1\n1,2\n2,3\n"),
        "subgroup 1 has 1 value",
    );
    fails(
        &["-", "--chart", "p", "--size-column", "n"],
        Some("d,n\n3,50\n60,50\n"),
        "cannot exceed its sample size",
    );
    fails(
        &["-", "--lambda", "0.3"],
        Some("value\n1\n2\n"),
        "--lambda: applies to the ewma chart only",
    );
    fails(
        &["-", "--tests", "1,9"],
        Some("value\n1\n2\n"),
        "'9' is not a test",
    );
    fails(&["/no/such/file.csv"], None, "cannot open");
    fails(
        &["-", "--transform", "log"],
        Some("value\n1\n-2\n3\n"),
        "not positive",
    );
}

#[test]
fn np_chart_reports_center_and_sigma_in_counts() {
    // Montgomery, Introduction to SQC (6th ed.), Example 7.1 (orange juice cans, n = 50):
    // p-bar = 0.2313, so the np chart's center is n p-bar = 11.57 and its sigma
    // sqrt(n p-bar (1 - p-bar)) = 2.98 (UCL 20.51), as qcc reports them.
    let np = json(&[
        &data("orangejuice.csv"),
        "--chart",
        "np",
        "--column",
        "count",
        "--size-column",
        "size",
        "--phase1",
        "30",
    ]);
    close(&np["center"], 11.5667, 5e-4);
    close(&np["sigma"], 2.9817, 5e-4);
    close(&np["p_bar"], 0.2313, 5e-5);
    close(&np["points"][0]["center"], 11.5667, 5e-4);
    close(&np["points"][0]["ucl"], 20.511, 5e-3);
    // With varying n there is no single center: the points carry theirs.
    let mut all = vec!["-", "--chart", "np", "--column", "d", "--size-column", "n"];
    all.extend(["--format", "json"]);
    let out = shim(&all, Some("d,n\n3,50\n5,100\n4,50\n9,100\n2,50\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["center"].is_null() && v["sigma"].is_null(), "{v}");
    close(&v["p_bar"], 23.0 / 350.0, 1e-9);
    close(&v["points"][1]["center"], 100.0 * 23.0 / 350.0, 1e-9);
}

#[test]
fn a_huge_subgroup_size_does_not_abort() {
    let out = shim(
        &[
            &data("pistonrings.csv"),
            "--chart",
            "xbar-r",
            "--subgroup-size",
            "100000000000",
        ],
        None,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "killed by a signal (allocation failure?): {err}"
    );
    assert!(
        err.contains("--subgroup-size 100000000000 is more than the 200 data rows"),
        "{err}"
    );
}

/// The hand-checked series of the engine's Westgard test, as glucose results of one control
/// material with known mean 100 and sigma 10 (z = 0.5, 2.3, 2.1, -2.4, ...).
const WESTGARD_CSV: &str = "run,glucose\n0,105\n1,123\n2,121\n3,76\n4,102\n5,132\n6,112\n\
                            7,115\n8,111\n9,109\n10,103\n11,104\n12,101\n13,106\n14,107\n15,99\n";

fn westgard(args: &[&str]) -> Output {
    let mut all = vec!["-", "--column", "glucose", "--mu", "100", "--sigma", "10"];
    all.extend(args);
    shim(&all, Some(WESTGARD_CSV))
}

/// `--tests westgard`: the preset's signals carry the rule's name, warnings are marked, the
/// points list the rules that fire there, and the text report names them.
#[test]
fn westgard_preset_on_a_csv() {
    let out = westgard(&["--tests", "westgard", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    let signals: Vec<(String, u64, u64, bool)> = j["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert!(
                s.get("test").is_none(),
                "a named rule has no test number: {s}"
            );
            (
                s["rule"].as_str().unwrap().to_string(),
                s["index"].as_u64().unwrap(),
                s["first"].as_u64().unwrap(),
                s["warning"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    let want = [
        ("1-2s", 1, 1, true),
        ("1-2s", 2, 2, true),
        ("2-2s", 2, 1, false),
        ("1-2s", 3, 3, true),
        ("R-4s", 3, 2, false),
        ("1-2s", 5, 5, true),
        ("1-3s", 5, 5, false),
        ("4-1s", 8, 5, false),
        ("10-x", 13, 4, false),
        ("10-x", 14, 5, false),
    ];
    let want: Vec<(String, u64, u64, bool)> = want
        .iter()
        .map(|(r, i, f, w)| (r.to_string(), *i, *f, *w))
        .collect();
    assert_eq!(signals, want);
    assert_eq!(j["tests"], serde_json::json!([]));
    let names: Vec<&str> = j["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["1-2s", "1-3s", "2-2s", "R-4s", "4-1s", "10-x"]);
    assert_eq!(j["points"][3]["rules"], serde_json::json!(["1-2s", "R-4s"]));
    assert_eq!(j["points"][4]["rules"], serde_json::json!([]));
    // The moving-range chart runs no named rule.
    assert!(j["secondary"]["rules"].is_null());
    assert!(j["secondary"]["points"][1].get("rules").is_none());
    // The ARL leaves the warning out and comes from the Markov chain.
    assert_eq!(j["arl"]["method"], "markov-chain");
    let arl = j["arl"]["in_control"].as_f64().unwrap();
    assert!(arl > 100.0 && arl < 250.0, "{arl}");

    let out = westgard(&["--tests", "westgard"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("rule R-4s: 2 in a row beyond 2s opposite sides (points 2-3)"),
        "{text}"
    );
    assert!(text.contains("rule 1-2s: 1 beyond 2s (warning)"), "{text}");
    assert!(
        text.contains("Tests: 1-2s (1 beyond 2s, warning), 1-3s (1 beyond 3s)"),
        "{text}"
    );

    let out = westgard(&["--tests", "westgard", "--format", "csv"]);
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(csv.contains("\n3,76,100,70,130,1-2s;R-4s,"), "{csv}");
}

/// Named rules mixed with Nelson's tests, from a file, and relative to a spec limit: Nelson's
/// tests keep their numbers.
#[test]
fn named_rules_with_nelson_tests_and_a_spec_limit() {
    let dir = std::env::temp_dir().join(format!("llmscope-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("rules.txt");
    std::fs::write(
        &file,
        "# Nelson's test 1, and a rule near the USL\n1\nnear: 1 above usl - 20\n",
    )
    .unwrap();
    let tests = format!("@{}", file.display());
    let out = westgard(&["--tests", &tests, "--usl", "140", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        j["signals"],
        serde_json::json!([
            {"rule": "near", "index": 1, "first": 1, "last": 1},
            {"rule": "near", "index": 2, "first": 2, "last": 2},
            {"test": 1, "index": 5, "first": 5, "last": 5},
            {"rule": "near", "index": 5, "first": 5, "last": 5},
        ])
    );
    assert_eq!(j["tests"], serde_json::json!([1]));
    std::fs::write(&file, "ok: 1 beyond 3s\nbad: 3 of 2 beyond 2s\n").unwrap();
    let out = westgard(&["--tests", &tests]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("rules.txt: line 2, column 11: rule 'bad': 3 of 2"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_rules_name_the_part_and_column() {
    let csv = Some("value\n1\n2\n3\n");
    fails(
        &["-", "--tests", "a: 2 of 2 beyond x"],
        csv,
        "--tests: column 18: rule 'a': expected a distance in sigma such as 2s, found 'x'",
    );
    fails(
        &["-", "--tests", "a: 1 above usl"],
        csv,
        "rule 'a' (1 above usl) needs an upper spec limit (--usl)",
    );
    fails(
        &["-", "--tests", "westgard", "--chart", "ewma"],
        csv,
        "named rules apply to Shewhart charts",
    );
    fails(
        &["-", "--tests", "@/no/such/rules"],
        csv,
        "cannot read the rules",
    );
}
