//! The native side of the browser explain benchmark (issue 13's speed goal: the full context
//! of 200 episodes over 200 streams × 10,000 points in ≤ 200 ms in the browser). Streams are
//! bounded noise (uniform, sd 1, so test 1 never fires by chance) with bumps of 6 sigma for 20
//! points: stream 0 at 1,000 + 43·k for k = 0..200, stream i > 0 once, at 1,000 + 43·i (so each
//! of stream 0's bumps has a partner). Charted as individuals, the first 1,000 points the
//! baseline, test 1; best of 15 (the machines are shared) of:
//! - **one column:** stream 0's 200 episodes explained (shape, what else changed among the 199
//!   others, causes, similar windows in the stream itself): the context of 200 episodes;
//! - **every column:** each stream's episodes (200 charts of 10,000 points, 399 episodes).
//!
//! With a folder argument it also writes the streams there as `streams.bin` (little-endian
//! f64, stream after stream) for the same computation in headless Chromium through the wasm
//! API `explain` (spc-wasm/tests/browser/explain_bench.html). Also timed: reading every point
//! once, the floor of any method. Each part prints a digest of everything it explained (the
//! reports' debug text, every float to its last bit): a change for speed must keep it.
//!
//! With `--one-column` or `--every-column` only that part runs, once, untimed: for counting
//! instructions (`valgrind --tool=callgrind`), which hold under load where times do not.
//!
//! `cargo run --release -p llmscope-spc --example explain_speed -- [--one-column|--every-column]
//! [FOLDER]`

use llmscope_spc::explain::cause::Domain;
use llmscope_spc::explain::{explain, Stream};
use llmscope_spc::{Baseline, ChartSpec, ChartType, NelsonRule, RuleSet};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::time::Instant;

const STREAMS: usize = 200;
const POINTS: usize = 10_000;
const RUNS: usize = 15;

/// Stream `i`: uniform noise with sd 1 from a xorshift generator, and its bumps.
fn stream(i: usize) -> Vec<f64> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ (i as u64 + 1).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    let bumped = |t: usize| {
        let k = t.wrapping_sub(1_000) / 43;
        let in_bump = t >= 1_000 && (t - 1_000) % 43 < 20 && k < STREAMS;
        in_bump && (i == 0 || k == i)
    };
    (0..POINTS)
        .map(|t| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            let bump = if bumped(t) { 6.0 } else { 0.0 };
            (u - 0.5) * 12f64.sqrt() + bump
        })
        .collect()
}

/// Best wall time in ms of `RUNS` runs of `f`, and its last result.
fn best_ms<T>(mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut last = None;
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = f();
        best = best.min(start.elapsed().as_secs_f64() * 1e3);
        last = Some(out);
    }
    (best, last.expect("RUNS > 0"))
}

fn main() -> std::io::Result<()> {
    let data: Vec<Vec<f64>> = (0..STREAMS).map(stream).collect();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let once = args.iter().find_map(|a| match a.as_str() {
        "--one-column" => Some(("one column", 1)),
        "--every-column" => Some(("every column", STREAMS)),
        _ => None,
    });
    if let Some(folder) = args.iter().find(|a| !a.starts_with("--")) {
        let bytes: Vec<u8> = data
            .iter()
            .flatten()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        std::fs::write(std::path::Path::new(&folder).join("streams.bin"), bytes)?;
    }
    let names: Vec<String> = (0..STREAMS).map(|i| format!("stream-{i}")).collect();
    let streams: Vec<Stream> = names
        .iter()
        .zip(&data)
        .map(|(name, values)| Stream { name, values })
        .collect();
    let spec = ChartSpec {
        baseline: Baseline::FirstN { n: 1_000 },
        tests: RuleSet::only(&[NelsonRule::Beyond]),
        ..ChartSpec::new(ChartType::Individuals)
    };
    // The episodes, and a digest of every number explained: an optimisation must keep it.
    let episodes_of = |columns: &[usize]| {
        let mut digest = DefaultHasher::new();
        let episodes = columns
            .iter()
            .map(|&i| {
                let reports = explain(&streams, i, &[], &spec, Domain::Plant)
                    .expect("a chart of individuals");
                format!("{reports:?}").hash(&mut digest);
                reports.len()
            })
            .sum::<usize>();
        (episodes, digest.finish())
    };
    let every: Vec<usize> = (0..STREAMS).collect();
    if let Some((part, columns)) = once {
        let (episodes, digest) = episodes_of(&every[..columns]);
        println!("native {part} once: {episodes} episodes; results {digest:016x}");
        return Ok(());
    }
    let (one, one_episodes) = best_ms(|| episodes_of(&[0]));
    let (all, all_episodes) = best_ms(|| episodes_of(&every));
    let (read, _) = best_ms(|| std::hint::black_box(data.iter().flatten().sum::<f64>()));
    let (one_episodes, one_digest) = one_episodes;
    let (all_episodes, all_digest) = all_episodes;
    println!(
        "native one column: {one:.1} ms ({one_episodes} episodes, best of {RUNS}; \
         results {one_digest:016x})"
    );
    println!(
        "native every column: {all:.1} ms ({all_episodes} episodes, best of {RUNS}; \
         results {all_digest:016x})"
    );
    println!("native read once: {read:.2} ms");
    Ok(())
}
