//! `cargo xtask degradations [--out DIR] [--per-kind N] [--seed S]`: the engine's seeded
//! run-to-failure curves (`llmscope_spc::forecast::generate`) as CSV files, one per curve
//! (`t,value`, one row per second), and `labels.csv` naming each file's kind, AR(1) φ, the end
//! of its first in-control stretch, the degradation's start and the crossing of the limit
//! (0-based rows; empty for the in-control controls). Half of each kind's curves have AR(1)
//! noise with φ drawn from 0.1 to 0.5. Default: 10 per kind into target/degradations, seed 14.

use crate::util;
use llmscope_spc::forecast::generate::{curve, in_control, Curve, Kind, HOUR, LIMIT};
use llmscope_spc::Rng;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The settings, from the arguments after `degradations`.
struct Flags {
    out: PathBuf,
    per_kind: usize,
    seed: u64,
}

fn flags(args: &[String]) -> Result<Flags, String> {
    let mut f = Flags {
        out: util::root().join("target/degradations"),
        per_kind: 10,
        seed: 14,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or(format!("degradations: {flag} needs a value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("degradations: {flag} takes a whole number, not '{value}'"))
        };
        match flag.as_str() {
            "--out" => f.out = PathBuf::from(value),
            "--per-kind" => f.per_kind = number()? as usize,
            "--seed" => f.seed = number()?,
            other => {
                return Err(format!(
                    "degradations: unknown flag '{other}' (--out DIR, --per-kind N, --seed S)"
                ))
            }
        }
    }
    Ok(f)
}

/// Writes the curves and their labels.
pub fn run(args: &[String]) -> Result<(), String> {
    let f = flags(args)?;
    std::fs::create_dir_all(&f.out).map_err(|e| format!("{}: {e}", f.out.display()))?;
    let mut rng = Rng::new(f.seed);
    let mut labels = String::from("file,kind,phi,baseline_end,start,crossing,limit\n");
    let kinds = Kind::DEGRADATIONS.iter().chain([&Kind::InControl]);
    for &kind in kinds {
        for i in 0..f.per_kind {
            let phi = if i % 2 == 1 {
                0.1 + 0.4 * rng.uniform()
            } else {
                0.0
            };
            let c = match kind {
                Kind::InControl => in_control(&mut rng, phi, 10 * HOUR),
                _ => curve(&mut rng, kind, phi),
            };
            let name = format!("{}_{i:03}.csv", kind.as_str());
            write(&f.out.join(&name), &c)?;
            let opt = |v: Option<usize>| v.map_or(String::new(), |v| v.to_string());
            let _ = writeln!(
                labels,
                "{name},{},{phi:.4},{},{},{},{LIMIT}",
                kind.as_str(),
                c.baseline,
                opt(c.start),
                opt(c.crossing)
            );
        }
    }
    let path = f.out.join("labels.csv");
    std::fs::write(&path, labels).map_err(|e| format!("{}: {e}", path.display()))?;
    println!(
        "wrote {} curves and labels.csv to {}",
        5 * f.per_kind,
        f.out.display()
    );
    Ok(())
}

fn write(path: &PathBuf, c: &Curve) -> Result<(), String> {
    let mut text = String::with_capacity(c.values.len() * 16);
    text.push_str("t,value\n");
    for (t, v) in c.values.iter().enumerate() {
        let _ = writeln!(text, "{t},{v:.4}");
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_have_defaults_and_bad_ones_are_named() {
        let f = flags(&[]).unwrap();
        assert!(f.out.ends_with("target/degradations") && f.per_kind == 10 && f.seed == 14);
        let args = ["--out", "/tmp/x", "--per-kind", "3", "--seed", "7"].map(String::from);
        let f = flags(&args).unwrap();
        assert_eq!((f.out, f.per_kind, f.seed), (PathBuf::from("/tmp/x"), 3, 7));
        let err = |a: &[&str]| flags(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>()).err();
        assert!(err(&["--per-kind", "x"]).unwrap().contains("whole number"));
        assert!(err(&["--seed"]).unwrap().contains("needs a value"));
        assert!(err(&["--fast", "1"])
            .unwrap()
            .contains("unknown flag '--fast'"));
    }

    /// Every curve is written with a label, and an in-control one has no start.
    #[test]
    fn writes_one_file_per_curve_and_the_labels() {
        let dir = std::env::temp_dir().join(format!("degradations-{}", std::process::id()));
        let args = ["--out", dir.to_str().unwrap(), "--per-kind", "1"].map(String::from);
        run(&args).unwrap();
        let labels = std::fs::read_to_string(dir.join("labels.csv")).unwrap();
        assert_eq!(labels.lines().count(), 6, "{labels}");
        assert!(labels.contains("in_control_000.csv,in_control,0.0000,36000,,,56"));
        let linear = std::fs::read_to_string(dir.join("linear_000.csv")).unwrap();
        assert!(linear.starts_with("t,value\n0,"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
