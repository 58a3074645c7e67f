//! The rolling-origin backtest of issue 14's predictive alert (docs/benchmarks.md, "Forecasts
//! (issue 14)"): seeded run-to-failure curves from `forecast::generate` at 1 Hz, the engine's
//! [`predict`] run once a minute on the last 3 hours, against the spec limit at 6 sigma with
//! the default alert (H = 24 hours, p = 0.8).
//!
//! It reports, with counts: the share of degradations alerted before the crossing (goal
//! ≥ 90 %), the median forewarning as a share of the degradation's duration (goal ≥ 30 %),
//! false alert episodes per 1,000 in-control stream-hours (goal ≤ 1), and how often the 80 %
//! interval of the time to limit at the first alert covers the true crossing (goal 75–85 %).
//!
//! `cargo run --release -p llmscope-spc --example forecast_backtest [-- CURVES_PER_CELL
//! IN_CONTROL_HOURS SEED MODEL]` (defaults 25, 1000, 14, auto; MODEL: auto, linear, exponential
//! or holt, the same for every curve).

use llmscope_spc::forecast::generate::{curve, in_control, Curve, Kind, HOUR, LIMIT};
use llmscope_spc::forecast::{predict, Model, Settings};
use llmscope_spc::Rng;

/// The engine sees the last 3 hours.
const HISTORY: usize = 3 * HOUR;
/// An origin every minute.
const EVERY: usize = 60;
/// The first origin: 10 minutes of data.
const FIRST: usize = 600;
/// The warm-up of an in-control stream, not counted.
const WARM_UP: usize = HOUR;

fn settings(model: Model) -> Settings {
    Settings {
        horizon: 24 * HOUR,
        upper: Some(LIMIT),
        model,
        ..Settings::default()
    }
}

/// After the first alert, the interval is checked every 5 minutes.
const CHECK_EVERY: usize = 300;

/// What one degradation curve gave.
struct Run {
    kind: Kind,
    ar: bool,
    /// Alert episodes in the first in-control stretch (false alerts).
    early: usize,
    /// The first alert at or after the start, before the crossing: (origin, covered).
    first: Option<(usize, Option<bool>)>,
    /// From the first alert to the crossing: (origins alerting with an 80% interval, covered).
    later: (usize, usize),
    start: usize,
    crossing: usize,
}

/// Whether the 80% interval (a `None` end: beyond the horizon) holds `truth`.
fn covers(t: &llmscope_spc::forecast::limit::Crossing, truth: f64) -> Option<bool> {
    t.lo80
        .map(|lo| lo <= truth && t.hi80.is_none_or(|hi| truth <= hi))
}

fn run(c: &Curve, s: &Settings, forecasts: &mut usize) -> Run {
    let (start, crossing) = (c.start.unwrap_or(0), c.crossing.unwrap_or(0));
    let (mut early, mut on, mut first, mut later) = (0, false, None, (0, 0));
    let mut origin = FIRST;
    while origin < crossing {
        let history = &c.values[(origin + 1).saturating_sub(HISTORY)..=origin];
        *forecasts += 1;
        let p = predict(history, s).ok();
        let alert = p.is_some_and(|p| p.alert);
        let truth = crossing.saturating_sub(origin) as f64;
        if origin < c.baseline {
            early += usize::from(alert && !on);
            on = alert;
        } else if let Some(p) = p.filter(|_| alert && origin >= start) {
            let covered = covers(&p.time_to_limit.crossing, truth);
            if first.is_none() {
                first = Some((origin, covered));
            }
            if let Some(hit) = covered {
                later = (later.0 + 1, later.1 + usize::from(hit));
            }
        }
        origin += if first.is_some() { CHECK_EVERY } else { EVERY };
    }
    Run {
        kind: c.kind,
        ar: c.phi > 0.0,
        early,
        first,
        later,
        start,
        crossing,
    }
}

/// False alert episodes (rising edges) after the warm-up, and the hours watched.
fn false_alerts(c: &Curve, s: &Settings, forecasts: &mut usize) -> (usize, f64) {
    let (mut episodes, mut on) = (0, false);
    for origin in (WARM_UP..c.values.len()).step_by(EVERY) {
        let history = &c.values[(origin + 1).saturating_sub(HISTORY)..=origin];
        *forecasts += 1;
        let alert = predict(history, s).is_ok_and(|p| p.alert);
        episodes += usize::from(alert && !on);
        on = alert;
    }
    (episodes, (c.values.len() - WARM_UP) as f64 / HOUR as f64)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn report(label: &str, runs: &[&Run]) {
    let n = runs.len();
    let alerted: Vec<&&Run> = runs.iter().filter(|r| r.first.is_some()).collect();
    let shares: Vec<f64> = alerted
        .iter()
        .filter_map(|r| {
            r.first
                .map(|(o, _)| (r.crossing - o) as f64 / (r.crossing - r.start) as f64)
        })
        .collect();
    let judged = alerted
        .iter()
        .filter(|r| r.first.is_some_and(|(_, c)| c.is_some()))
        .count();
    let covered = alerted
        .iter()
        .filter(|r| r.first.is_some_and(|(_, c)| c == Some(true)))
        .count();
    let early: usize = runs.iter().map(|r| r.early).sum();
    let (checked, hits) = runs
        .iter()
        .fold((0, 0), |(a, b), r| (a + r.later.0, b + r.later.1));
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    println!(
        "| {label} | {n} | {} ({:.1} %) | {:.1} % | {covered}/{judged} ({:.1} %) | {hits}/{checked} ({:.1} %) | {early} |",
        alerted.len(),
        pct(alerted.len(), n),
        100.0 * median(shares),
        pct(covered, judged),
        pct(hits, checked),
    );
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let model = match args.get(3).map(String::as_str) {
        None | Some("auto") => Model::Auto,
        Some("linear") => Model::Linear,
        Some("exponential") => Model::Exponential,
        Some("holt") => Model::DampedHolt,
        Some(other) => panic!("MODEL: auto, linear, exponential or holt, not {other}"),
    };
    args.truncate(3);
    let args: Vec<u64> = args
        .iter()
        .map(|a| {
            a.parse()
                .expect("CURVES_PER_CELL IN_CONTROL_HOURS SEED: numbers")
        })
        .collect();
    let per_cell = args.first().copied().unwrap_or(25) as usize;
    let in_control_hours = args.get(1).copied().unwrap_or(1000) as usize;
    let mut rng = Rng::new(args.get(2).copied().unwrap_or(14));
    let s = settings(model);
    println!("model: {model:?}");
    let started = std::time::Instant::now();
    let mut forecasts = 0;
    let mut runs = Vec::new();
    for kind in Kind::DEGRADATIONS {
        for ar in [false, true] {
            for _ in 0..per_cell {
                let phi = if ar { 0.1 + 0.4 * rng.uniform() } else { 0.0 };
                runs.push(run(&curve(&mut rng, kind, phi), &s, &mut forecasts));
            }
        }
    }
    println!("| curves | n | alerted before the crossing | median forewarning (share of the duration) | 80 % interval covers the crossing: at the first alert | every 5 min after it | false alert episodes in the baseline |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for kind in Kind::DEGRADATIONS {
        for ar in [false, true] {
            let cell: Vec<&Run> = runs
                .iter()
                .filter(|r| r.kind == kind && r.ar == ar)
                .collect();
            let label = format!("{} {}", kind.as_str(), if ar { "AR(1)" } else { "iid" });
            report(&label, &cell);
        }
    }
    report("all", &runs.iter().collect::<Vec<_>>());
    // In control: streams of 10 watched hours after the warm-up, half with AR(1) noise.
    let streams = in_control_hours.div_ceil(10);
    let (mut episodes, mut hours) = ([0usize; 2], [0f64; 2]);
    for i in 0..streams {
        let ar = i % 2 == 1;
        let phi = if ar { 0.1 + 0.4 * rng.uniform() } else { 0.0 };
        let (e, h) = false_alerts(
            &in_control(&mut rng, phi, WARM_UP + 10 * HOUR),
            &s,
            &mut forecasts,
        );
        episodes[usize::from(ar)] += e;
        hours[usize::from(ar)] += h;
    }
    for (i, label) in ["iid", "AR(1)"].iter().enumerate() {
        println!(
            "in control {label}: {} false alert episodes in {:.0} stream-hours ({:.2} per 1,000)",
            episodes[i],
            hours[i],
            1000.0 * episodes[i] as f64 / hours[i]
        );
    }
    let (e, h) = (episodes[0] + episodes[1], hours[0] + hours[1]);
    println!(
        "in control, all: {e} in {h:.0} stream-hours ({:.2} per 1,000)",
        1000.0 * e as f64 / h
    );
    println!(
        "{forecasts} forecasts in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
