//! `llmscope-shim analyze` output pinned byte for byte: the speed work on the reader and the
//! writers (docs/benchmarks.md, the shim's section) must not change one byte of any report, nor
//! the error for a bad line, wherever in the file that line sits.
//!
//! The inputs are generated here (no random numbers: integer arithmetic, so every platform
//! writes the same file). Each report's SHA-256 was taken from the binary before that work; a
//! mismatch writes the output to target/tmp for a diff.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output};

/// Rows in the generated files: enough for several chunks of any split.
const ROWS: usize = 40_000;

fn tmp(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
}

fn shim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_llmscope-shim"))
        .current_dir(tmp(""))
        .arg("analyze")
        .args(args)
        .output()
        .expect("the shim runs")
}

/// A latency with long decimals, a level shift at row 30,000 and a spike every 7,001 rows (so
/// the charts signal), a sample size and a defect count, and a subgroup key.
fn row(i: usize) -> (String, u64, u64, usize) {
    let mut x = 400.0 + ((i * 2_654_435_761) % 100_003) as f64 / 997.0;
    if i >= 30_000 {
        x += 70.0;
    }
    if i % 7_001 == 6_999 {
        x += 500.0;
    }
    let n = 50 + (i % 7) as u64;
    let d = ((i * 40_503) % 13) as u64 + u64::from(i >= 30_000) * 4;
    (format!("{x}"), n, d, i / 5)
}

/// Writes a test file into [`tmp`] and returns its name: `\n` and some `\r\n` line ends, blank
/// lines, each `replace` line in place of the row it numbers (from 0). With `quoted`, some
/// cells are in quotes (the csv crate's path).
fn file(name: &str, quoted: bool, replace: &[(usize, &str)]) -> String {
    let mut text = String::from("t,ttft_ms,n,d,g\n");
    for i in 0..ROWS {
        if let Some((_, line)) = replace.iter().find(|(at, _)| *at == i) {
            text += line;
        } else {
            let (x, n, d, g) = row(i);
            let x = if quoted && i % 3 == 0 {
                format!("\"{x}\"")
            } else {
                x
            };
            write!(
                text,
                "{},{x},{n},{d},{g}",
                1_764_201_600_000u64 + i as u64 * 100
            )
            .unwrap();
        }
        text += if i % 1_000 == 17 { "\r\n" } else { "\n" };
        if i % 9_973 == 5 {
            text += "\n";
        }
    }
    std::fs::write(tmp(name), text).expect("write the test file");
    // Relative to the shim's directory: the text report names the file.
    name.to_string()
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut s, b| {
            write!(s, "{b:02x}").unwrap();
            s
        })
}

/// Runs `analyze path args` and checks the output's length and SHA-256.
fn pinned(case: &str, path: &str, args: &[&str], len: usize, hash: &str) {
    let mut all = vec![path];
    all.extend(args);
    let out = shim(&all);
    assert!(
        out.status.success(),
        "{case}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = sha256(&out.stdout);
    if (out.stdout.len(), got.as_str()) != (len, hash) {
        let saved = tmp(&format!("{case}.out"));
        std::fs::write(&saved, &out.stdout).expect("save the output");
        panic!(
            "{case}: {} bytes, sha256 {got}; pinned {len} bytes, {hash}; output in {}",
            out.stdout.len(),
            saved.display()
        );
    }
}

/// Each case: a name, the file, the flags, and the report's length and SHA-256.
type Case<'a> = (&'a str, &'a str, &'a [&'a str], usize, &'a str);

#[test]
fn reports_are_byte_identical_to_the_pinned_ones() {
    let plain = file("pinned-plain.csv", false, &[]);
    let quoted = file("pinned-quoted.csv", true, &[]);
    let json = ["--format", "json"];
    let cases: [Case<'_>; 11] = [
        (
            "individuals-text",
            &plain,
            &["--format", "text"],
            17260,
            "90c3dea9689a99cab86ce83b536100b7f25ef88a3228212c45d5c28fcab776d4",
        ),
        (
            "individuals-csv",
            &plain,
            &["--format", "csv"],
            5564942,
            "f7a60c8b50ce0c5e2f01e82e57b9d8586069da9436ca67b9ec67e52102cfc504",
        ),
        (
            "individuals-json",
            &plain,
            &json,
            10686056,
            "1ccf5939589fca0017525e06bd94b7e05c6cdb1dc6b8cdaefd11600eef67c580",
        ),
        (
            "phase1-test1-json",
            &plain,
            &[&json[..], &["--tests", "1", "--phase1", "1000"]].concat(),
            9903318,
            "75e5b6404b3ab8f6ef7fa6e123f7efbc80a02b25642c2aec3fa5e2821a78ed88",
        ),
        (
            "capability-text",
            &plain,
            &["--lsl", "380", "--usl", "520", "--phase1", "2000"],
            20503,
            "69d80b614cf9d9e55037e3e3846fd9abb0697a3a3d916e02ee6bc3a60d49a5c9",
        ),
        (
            "xbar-s-json",
            &plain,
            &[&json[..], &["--chart", "xbar-s", "--subgroup-size", "4"]].concat(),
            3674471,
            "46b1caea8a900af2bb98bdecd43db4205539a7d057981c132f264267c232ceab",
        ),
        (
            "xbar-r-by-key-json",
            &plain,
            &[&json[..], &["--chart", "xbar-r", "--subgroup-column", "g"]].concat(),
            3013614,
            "e8b077770232803612203a790dd2ad3286630fa40c191f07cfdd0b554ba5a7fe",
        ),
        (
            "p-csv",
            &plain,
            &[
                "--format",
                "csv",
                "--chart",
                "p",
                "--column",
                "d",
                "--size-column",
                "n",
            ],
            2733741,
            "97bc2f043f33ce46575e4969ed53c7a8a4b3639d3c2623e13c0032a8c593a66a",
        ),
        (
            "ewma-log-json",
            &plain,
            &[&json[..], &["--chart", "ewma", "--transform", "log"]].concat(),
            10527010,
            "8f48693dc5026d11dc42fd01eb187d222a0874fd999e8a09b5fd7b8f14663710",
        ),
        // The csv crate's path gives the same points; the text report names its file.
        (
            "quoted-json",
            &quoted,
            &json,
            10686056,
            "1ccf5939589fca0017525e06bd94b7e05c6cdb1dc6b8cdaefd11600eef67c580",
        ),
        (
            "quoted-text",
            &quoted,
            &["--format", "text"],
            17261,
            "fd55a3216253c37ce68c18d42dbda25d85a42ddeb1814072d36984f1a4c4760c",
        ),
    ];
    for (case, path, args, len, hash) in cases {
        pinned(case, path, args, len, hash);
    }
}

/// The whole of standard error for a run that must fail on a bad line.
fn error_of(path: &str) -> String {
    let out = shim(&[path, "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{path}");
    String::from_utf8(out.stderr).expect("UTF-8")
}

/// Each case: a name, quoted or not, the bad lines, and the error expected after the path.
type BadCase<'a> = (&'a str, bool, &'a [(usize, &'a str)], &'a str);

#[test]
fn the_first_bad_line_is_reported_wherever_it_is() {
    let cases: [BadCase<'_>; 6] = [
        (
            "bad-early-and-late",
            false,
            &[(3, "1,abc"), (35_000, "2,xyz")],
            "line 5, column 'ttft_ms': 'abc' is not a number",
        ),
        (
            "bad-late",
            false,
            &[(35_000, "2,xyz,3")],
            "line 35006, column 'ttft_ms': 'xyz' is not a number",
        ),
        (
            "short-row-late",
            false,
            &[(25_123, "7")],
            "line 25128: the row has 1 cells, so column 'ttft_ms' is missing",
        ),
        (
            "empty-last",
            false,
            &[(ROWS - 1, "9, ,1,1,1")],
            "line 40006, column 'ttft_ms': the cell is empty",
        ),
        (
            "inf-middle",
            false,
            &[(20_000, "9,inf"), (20_001, "9,x")],
            "line 20005, column 'ttft_ms': 'inf' is not a finite number",
        ),
        (
            "quoted-bad-late",
            true,
            &[(33_333, "4,\"1 2\"")],
            "line 33339, column 'ttft_ms': '1 2' is not a number",
        ),
    ];
    for (case, quoted, replace, expected) in cases {
        let path = file(&format!("{case}.csv"), quoted, replace);
        let err = error_of(&path);
        assert_eq!(
            err,
            format!("llmscope-shim: error: {path}: {expected}\n"),
            "{case}"
        );
    }
}
