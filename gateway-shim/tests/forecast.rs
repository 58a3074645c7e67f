//! `llmscope-shim forecast` end to end: the real binary on generated CSVs whose truth is known
//! (a barrel temperature drifting towards its USL, a level falling towards its LSL, a stream
//! in control), and on bad input.

use llmscope_spc::Rng;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn file(name: &str, text: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("forecast");
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

fn shim(path: &PathBuf, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_llmscope-shim"))
        .arg("forecast")
        .arg(path)
        .args(args)
        .output()
        .expect("run llmscope-shim")
}

fn json(path: &PathBuf, args: &[&str]) -> Value {
    let out = shim(path, &[args, &["--format", "json"]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn text(path: &PathBuf, args: &[&str]) -> String {
    let out = shim(path, args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// 600 in-control points of N(70, 0.5), then `ramp` points rising `rate` per point.
fn temperature(seed: u64, ramp: usize, rate: f64) -> String {
    let mut rng = Rng::new(seed);
    let mut csv = String::from("t,operator,temperature\n");
    for i in 0..600 + ramp {
        let v = 70.0 + 0.5 * rng.normal() + rate * i.saturating_sub(600) as f64;
        csv += &format!("{i},op{},{v:.4}\n", i % 3);
    }
    csv
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("a number: {v}"))
}

/// At point 999 the level is 70 + 0.02 × 399 = 77.98: USL 80 is about 101 points ahead.
#[test]
fn a_drift_gets_its_time_to_the_usl_and_an_alert() {
    let path = file("drift.csv", &temperature(1, 400, 0.02));
    let r = json(&path, &["--usl", "80", "--horizon", "300"]);
    assert_eq!(r["column"], "temperature");
    assert_eq!(r["n"], 1000);
    let d = &r["degradation"];
    assert_eq!(d["detected"], true);
    let start = d["start"].as_u64().expect("start");
    assert!((550..=650).contains(&start), "{d}");
    assert!(f(&d["lo"]) < 0.02 * 1.1 && 0.02 * 0.9 < f(&d["hi"]), "{d}");
    let band = r["forecast"].as_array().expect("forecast");
    assert_eq!(band.len(), 300);
    assert_eq!(band[0]["index"], 1000);
    for key in ["median", "lo80", "hi80", "lo95", "hi95"] {
        assert!(band[299][key].is_number(), "{key}");
    }
    let t = &r["time_to_limit"];
    assert_eq!(t["limit"], "usl");
    assert!(f(&t["lo80"]) < 101.0 && 101.0 < f(&t["hi80"]), "{t}");
    assert!(f(&t["lo95"]) <= f(&t["lo80"]) && f(&t["hi80"]) <= f(&t["hi95"]));
    assert!((80.0..125.0).contains(&f(&t["median"])), "{t}");
    assert!(
        f(&t["probability"]) >= f(&t["within_reach"]) && f(&t["within_reach"]) >= 0.8,
        "{t}"
    );
    assert_eq!(r["alert"], true);
    // The same in words.
    let words = text(&path, &["--usl", "80", "--horizon", "300"]);
    assert!(
        words.contains("temperature reaches USL 80 in about "),
        "{words}"
    );
    assert!(
        words.contains("points (80%: ") && words.contains("predictive alert"),
        "{words}"
    );
}

/// Not within the horizon: nulls and no alert; in words, "not expected".
#[test]
fn a_crossing_beyond_the_horizon_is_null() {
    let path = file("far.csv", &temperature(2, 400, 0.02));
    let r = json(&path, &["--usl", "80", "--horizon", "50"]);
    let t = &r["time_to_limit"];
    assert_eq!(t["limit"], "usl");
    for key in ["median", "lo80", "hi80", "lo95", "hi95"] {
        assert!(t[key].is_null(), "{key}: {t}");
    }
    assert_eq!(r["alert"], false);
    let words = text(&path, &["--usl", "80", "--horizon", "50"]);
    assert!(
        words.contains("is not expected to reach USL 80 within 50 points"),
        "{words}"
    );
}

/// A fall heads for the LSL; no spec limits means the individuals chart's limits (from the
/// points before the drift), which a stream in control does not reach.
#[test]
fn the_side_follows_the_slope_and_control_limits_are_the_default() {
    let path = file("fall.csv", &temperature(3, 400, -0.02));
    let r = json(&path, &["--lsl", "62", "--usl", "80", "--horizon", "300"]);
    assert_eq!(r["time_to_limit"]["limit"], "lsl");
    assert_eq!(r["alert"], true);
    let r = json(&path, &["--horizon", "300"]);
    assert_eq!(r["time_to_limit"]["limit"], "lcl");
    // The LCL (about 70 − 1.5) was passed about 75 points before the end.
    assert_eq!(r["time_to_limit"]["median"], 0.0);
    let calm = file("calm.csv", &temperature(4, 0, 0.0));
    let r = json(&calm, &["--horizon", "300"]);
    assert_eq!(r["degradation"]["detected"], false, "{}", r["degradation"]);
    assert!(r["time_to_limit"]["median"].is_null());
    assert_eq!(r["alert"], false);
}

/// A column that never varies has no control limits (said so, exit 2), and is flat against a
/// spec limit.
#[test]
fn a_constant_column_is_flat() {
    let path = file("constant.csv", &format!("v\n{}", "5\n".repeat(50)));
    let out = shim(&path, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("column 'v': the values do not vary") && err.contains("--usl"),
        "{err}"
    );
    let words = text(&path, &["--usl", "6"]);
    assert!(
        words.contains("no degradation detected") && words.contains("v is flat"),
        "{words}"
    );
}

/// Bad input and bad flags: exit 2 and a message that names the line and column or the flag.
#[test]
fn bad_input_is_named_and_exits_2() {
    let mut csv = temperature(5, 0, 0.0);
    csv = csv.replacen("\n7,op1,", "\n7,op1,hot", 1);
    let bad = file("bad.csv", &csv);
    let out = shim(&bad, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 9") && err.contains("column 'temperature'"),
        "{err}"
    );
    let good = file("good.csv", &temperature(6, 0, 0.0));
    for (args, words) in [
        (&["--limit", "spec"][..], "--limit spec needs"),
        (&["--probability", "1.5"][..], "--probability"),
        (&["--horizon", "0"][..], "--horizon"),
        (&["--lsl", "80", "--usl", "60"][..], "must be below"),
        (&["--column", "pressure"][..], "pressure"),
    ] {
        let out = shim(&good, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(words), "{args:?}: {err}");
    }
}
