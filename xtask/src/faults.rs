//! `cargo xtask faults [--out DIR] [--seed N] [--cases N]`: writes issue 13's seeded labelled
//! faults (the engine's `explain::cases`) as CSV files that `llmscope-shim explain FILE` reads,
//! one per case (an index column `t`, then one column per stream, `s00`, `s01`, …), and
//! `labels.csv`, what was injected in each. Per kind, N cases (default 10): each of the eight
//! shapes in one stream, a coupled fault, a recurring motif; 10 to 50 streams each. It writes
//! and runs nothing else.

use llmscope_spc::explain::cases::{coupled, motif, single, Case};
use llmscope_spc::explain::shape::Shape;
use llmscope_spc::Rng;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The default seed: the same files every time.
pub const DEFAULT_SEED: u64 = 20261206;
/// Cases of each kind by default.
pub const DEFAULT_CASES: u64 = 10;

/// The header of `labels.csv`. `partners` and `kin` list stream names separated by `;`;
/// `earlier_*` place a motif's earlier occurrence (empty for other kinds). `first` and `last`
/// are 0-based point indexes, as in `explain`'s JSON.
pub const LABELS_HEADER: &str =
    "case,file,kind,target,shape,first,last,partners,kin,earlier_stream,earlier_first,earlier_last";

/// Writes the cases into `out` (made when missing) and says where.
pub fn run(out: Option<PathBuf>, seed: u64, cases: u64) -> Result<(), String> {
    let out = out.unwrap_or_else(|| crate::util::root().join("target/faults"));
    let written = write(&out, seed, cases as usize)?;
    crate::util::say(&format!(
        "wrote {written} cases and labels.csv into {}; explain one with \
         `llmscope-shim explain FILE --column TARGET --phase1 100` (TARGET from labels.csv)",
        out.display()
    ));
    Ok(())
}

/// Writes `per_kind` cases of each kind from `seed` into `out`; returns how many.
pub fn write(out: &Path, seed: u64, per_kind: usize) -> Result<usize, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot make {}: {e}", out.display()))?;
    let mut rng = Rng::new(seed);
    let mut labels = format!("{LABELS_HEADER}\n");
    let mut count = 0;
    let kinds = Shape::ALL
        .iter()
        .map(|s| (s.as_str(), Some(*s)))
        .chain([("coupled", None), ("motif", None)]);
    for (kind, shape) in kinds {
        for i in 0..per_kind {
            let streams = 10 + rng.below(41) as usize;
            let case = match (kind, shape) {
                (_, Some(shape)) => single(&mut rng, shape, streams),
                ("coupled", None) => coupled(&mut rng, streams),
                _ => motif(&mut rng, streams),
            };
            let name = format!("{kind}-{i:03}");
            let file = format!("{name}.csv");
            let path = out.join(&file);
            std::fs::write(&path, csv(&case))
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            let kind = if shape.is_some() { "shape" } else { kind };
            labels.push_str(&label(&name, &file, kind, &case));
            count += 1;
        }
    }
    let path = out.join("labels.csv");
    std::fs::write(&path, labels).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(count)
}

/// The case as `explain` reads it: `t,s00,s01,…`, one row per point; values in Rust's shortest
/// form that reads back to the same number.
pub fn csv(case: &Case) -> String {
    let mut out = String::from("t");
    for name in &case.names {
        let _ = write!(out, ",{name}");
    }
    out.push('\n');
    let n = case.streams.first().map_or(0, Vec::len);
    for t in 0..n {
        let _ = write!(out, "{t}");
        for s in &case.streams {
            let _ = write!(out, ",{}", s[t]);
        }
        out.push('\n');
    }
    out
}

/// One row of `labels.csv`.
fn label(name: &str, file: &str, kind: &str, case: &Case) -> String {
    let names = |ix: &[usize]| {
        ix.iter()
            .map(|&i| case.names[i].as_str())
            .collect::<Vec<_>>()
            .join(";")
    };
    let earlier = case.earlier.map_or(",,".to_string(), |e| {
        format!("{},{},{}", case.names[e.stream], e.first, e.last)
    });
    format!(
        "{name},{file},{kind},{},{},{},{},{},{},{earlier}\n",
        case.names[case.target],
        case.shape.as_str(),
        case.first,
        case.last,
        names(&case.partners),
        names(&case.kin),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use llmscope_spc::explain::cause::Domain;
    use llmscope_spc::explain::report::{explain, Stream};
    use llmscope_spc::{Baseline, ChartSpec, ChartType};

    /// A table read back from one of the CSV files: names and columns.
    fn read(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines = text.lines();
        let names: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
        let mut columns = vec![Vec::new(); names.len()];
        for line in lines {
            for (c, cell) in columns.iter_mut().zip(line.split(',')) {
                c.push(cell.parse::<f64>().unwrap());
            }
        }
        (names, columns)
    }

    /// The files and labels round-trip: every labelled case's file holds its target, and the
    /// engine explaining a step's and a stuck sensor's file (as the shim does: the first 100
    /// points as the baseline, every other column a candidate) finds the injected shape at the
    /// labelled point; a coupled case's partners are in its top 3. When a built
    /// `llmscope-shim` is at hand, its JSON on the step's file names the shape too.
    #[test]
    fn the_written_cases_explain_as_labelled() {
        let out = std::env::temp_dir().join(format!("llmscope-faults-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out);
        assert_eq!(write(&out, 5, 1).unwrap(), 10);
        let labels = std::fs::read_to_string(out.join("labels.csv")).unwrap();
        let mut rows = labels.lines();
        assert_eq!(rows.next(), Some(LABELS_HEADER));
        let rows: Vec<Vec<&str>> = rows.map(|r| r.split(',').collect()).collect();
        assert_eq!(rows.len(), 10);
        let spec = ChartSpec {
            baseline: Baseline::FirstN { n: 100 },
            ..ChartSpec::new(ChartType::Individuals)
        };
        for row in &rows {
            assert_eq!(row.len(), 12, "{row:?}");
            let (names, columns) = read(&out.join(row[1]));
            assert_eq!(names[0], "t");
            let target = names.iter().position(|n| n == row[3]).unwrap();
            let (first, last): (usize, usize) = (row[5].parse().unwrap(), row[6].parse().unwrap());
            assert!(first <= last && last < columns[target].len(), "{row:?}");
            if !["step", "stuck", "coupled"].contains(&row[0].split('-').next().unwrap()) {
                continue;
            }
            let streams: Vec<Stream> = names[1..]
                .iter()
                .zip(&columns[1..])
                .map(|(name, values)| Stream { name, values })
                .collect();
            let reports = explain(&streams, target - 1, &[], &spec, Domain::Plant).unwrap();
            let e = reports
                .iter()
                .find(|r| r.last >= first && r.first <= last)
                .unwrap_or_else(|| panic!("{row:?}: no episode at the fault"));
            assert_eq!(e.shape.as_str(), row[4], "{row:?}");
            for partner in row[7].split(';').filter(|p| !p.is_empty()) {
                let top3: Vec<&str> = e.co_moving.iter().take(3).map(|c| &*c.stream).collect();
                assert!(top3.contains(&partner), "{row:?}: {top3:?}");
            }
        }
        if let Some(shim) = built_shim() {
            let step = out.join("step-000.csv");
            let row = rows.iter().find(|r| r[0] == "step-000").unwrap();
            let json = std::process::Command::new(&shim)
                .arg("explain")
                .arg(&step)
                .args(["--column", row[3], "--phase1", "100", "--format", "json"])
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&json.stdout);
            assert!(
                json.status.success(),
                "{}",
                String::from_utf8_lossy(&json.stderr)
            );
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            assert!(compact.contains("\"shape\":\"step\""), "{text}");
        }
        std::fs::remove_dir_all(&out).unwrap();
    }

    /// `target/{debug,release}/llmscope-shim`, when built.
    fn built_shim() -> Option<PathBuf> {
        ["debug", "release"]
            .iter()
            .map(|p| {
                crate::util::root()
                    .join("target")
                    .join(p)
                    .join("llmscope-shim")
            })
            .find(|p| p.is_file())
    }
}
