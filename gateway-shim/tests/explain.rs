//! `llmscope-shim explain` end to end: the real binary on a generated press log with a known
//! truth. The barrel temperature steps twice with its setpoint; the pressure never moves; the
//! spindle load (another file) wears, and one thermocouple sticks.

use llmscope_spc::explain::faults::fault;
use llmscope_spc::explain::shape::Shape;
use llmscope_spc::Rng;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn file(name: &str, text: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("explain");
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

fn shim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_llmscope-shim"))
        .arg("explain")
        .args(args)
        .output()
        .expect("run llmscope-shim")
}

fn json(args: &[&str]) -> Value {
    let out = shim(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn press() -> String {
    let mut rng = Rng::new(11);
    let mut csv = String::from("t,temperature,pressure,setpoint,operator\n");
    for i in 0..700 {
        let sp = if (200..300).contains(&i) || i >= 600 {
            65.0
        } else {
            60.0
        };
        let temperature = 50.0 + (sp - 60.0) + 0.5 * rng.normal();
        let pressure = 120.0 + 3.0 * rng.normal();
        csv += &format!("{i},{temperature:.4},{pressure:.4},{sp},op{}\n", i % 3);
    }
    csv
}

fn episode_at(report: &Value, from: usize, to: usize) -> &Value {
    let episodes = report["episodes"].as_array().expect("episodes");
    episodes
        .iter()
        .find(|e| (from..to).contains(&(e["first"].as_u64().unwrap_or(0) as usize)))
        .unwrap_or_else(|| panic!("no episode starting in {from}..{to}: {report:#}"))
}

/// Whether the second setpoint step's similar windows hold the first one (at point 200).
fn finds_the_first_step(episode: &Value) -> bool {
    let similar = episode["similar"].as_array().expect("similar");
    similar.iter().any(|s| {
        s["stream"] == "temperature" && (s["first"].as_u64().unwrap_or(0) as i64 - 200).abs() < 12
    })
}

#[test]
fn a_setpoint_step_is_a_step_with_its_cause_and_its_earlier_twin() {
    let path = file("press.csv", &press());
    let path = path.to_str().expect("utf-8 path");
    let report = json(&[
        path,
        "--column",
        "temperature",
        "--phase1",
        "150",
        "--format",
        "json",
    ]);
    assert_eq!(report["column"], "temperature");
    let first = episode_at(&report, 195, 210);
    for field in [
        "first",
        "last",
        "tests",
        "shape",
        "evidence",
        "co_moving",
        "suggestions",
        "similar",
    ] {
        assert!(first.get(field).is_some(), "{field} missing: {first:#}");
    }
    assert_eq!(first["shape"], "step");
    assert_eq!(first["co_moving"][0]["stream"], "setpoint");
    assert_eq!(first["suggestions"][0]["cause"], "setpoint change");
    let names: Vec<&str> = first["co_moving"]
        .as_array()
        .expect("co_moving")
        .iter()
        .filter_map(|c| c["stream"].as_str())
        .collect();
    assert!(
        !names.contains(&"operator") && !names.contains(&"t"),
        "{names:?}"
    );
    let second = episode_at(&report, 595, 610);
    assert!(
        finds_the_first_step(second),
        "the first step is not among {:?}",
        second["similar"]
    );

    let text = shim(&[path, "--column", "temperature", "--phase1", "150"]);
    let text = String::from_utf8_lossy(&text.stdout);
    for wanted in [
        "temperature:",
        "not numeric, left out: operator",
        "setpoint change",
        "similar earlier windows",
    ] {
        assert!(text.contains(wanted), "'{wanted}' missing from:\n{text}");
    }
}

#[test]
fn wear_is_a_drift_and_a_stuck_sensor_is_stuck() {
    let mut rng = Rng::new(5);
    for (shape, cause) in [
        (Shape::Drift, "tool wear"),
        (Shape::Stuck, "sensor stuck or failing"),
    ] {
        let f = fault(shape, &mut rng, 100, 60);
        let csv: String = std::iter::once("index,spindle_load\n".to_string())
            .chain(
                f.values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| format!("{i},{v}\n")),
            )
            .collect();
        let path = file(&format!("{}.csv", shape.as_str()), &csv);
        let report = json(&[
            path.to_str().expect("utf-8"),
            "--phase1",
            "100",
            "--format",
            "json",
        ]);
        let e = &report["episodes"][0];
        assert_eq!(e["shape"], shape.as_str(), "{e:#}");
        assert_eq!(e["suggestions"][0]["cause"], cause);
        assert!(e["co_moving"].as_array().expect("co_moving").is_empty());
    }
}

#[test]
fn bad_input_is_named_and_nothing_half_written() {
    let csv = press();
    let mut lines: Vec<String> = csv.lines().map(String::from).collect();
    // Line 301 of the file: the pressure cell is not a number.
    let row: Vec<String> = lines[300].split(',').map(String::from).collect();
    lines[300] = format!("{},{},x7,{},{}", row[0], row[1], row[3], row[4]);
    let broken = lines.join("\n") + "\n";
    let path = file("broken.csv", &broken);
    let path = path.to_str().expect("utf-8");
    let out = shim(&[path, "--column", "temperature", "--phase1", "150"]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "nothing written on an error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 301") && err.contains("pressure"),
        "{err}"
    );

    let good = file("press-ok.csv", &press());
    let good = good.to_str().expect("utf-8");
    let out = shim(&[good, "--format", "csv"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--format csv: explain writes json or text")
    );
    let out = shim(&[good, "--column", "nope"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("'nope' is not a column"));
    let out = shim(&[good, "--chart", "xbar-r", "--subgroup-size", "5"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("use individuals, ewma or cusum"));
}

#[test]
fn kin_limits_the_similar_windows_to_the_named_columns() {
    let path = file("press-kin.csv", &press());
    let path = path.to_str().expect("utf-8 path");
    let args = [path, "--column", "temperature", "--phase1", "150"];
    let streams_of = |report: &Value| -> Vec<String> {
        let episodes = report["episodes"].as_array().expect("episodes");
        episodes
            .iter()
            .flat_map(|e| e["similar"].as_array().expect("similar").iter())
            .filter_map(|s| s["stream"].as_str().map(str::to_string))
            .collect()
    };
    // By default every other numeric column is searched: the setpoint's flat stretches too.
    let all = json(&[&args[..], &["--format", "json"]].concat());
    assert!(streams_of(&all).iter().any(|s| s == "setpoint"), "{all:#}");

    let kin = json(&[&args[..], &["--kin", "pressure", "--format", "json"]].concat());
    let streams = streams_of(&kin);
    assert!(!streams.is_empty());
    assert!(
        streams
            .iter()
            .all(|s| s == "temperature" || s == "pressure"),
        "{streams:?}"
    );
    let second = episode_at(&kin, 595, 610);
    assert!(
        finds_the_first_step(second),
        "--kin lost the twin: {second:#}"
    );

    let bad = shim(&[&args[..], &["--kin", "pressure,nope"]].concat());
    assert_eq!(bad.status.code(), Some(2));
    let message = String::from_utf8_lossy(&bad.stderr);
    assert!(
        message.contains("--kin") && message.contains("'nope'") && message.contains("setpoint"),
        "{message}"
    );
}
