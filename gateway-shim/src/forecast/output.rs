//! The outlook of `forecast`: JSON in the contract's shape (issue 14, README), or words.

use super::{limit_name, Forecast};
use serde::Serialize;
use std::io::{self, Write};

#[derive(Serialize)]
struct Json<'a> {
    column: &'a str,
    n: usize,
    degradation: Degradation,
    forecast: Vec<Step>,
    time_to_limit: TimeToLimit,
    alert: bool,
}

#[derive(Serialize)]
struct Degradation {
    detected: bool,
    start: usize,
    slope: f64,
    lo: f64,
    hi: f64,
}

#[derive(Serialize)]
struct Step {
    index: usize,
    median: f64,
    lo80: f64,
    hi80: f64,
    lo95: f64,
    hi95: f64,
}

/// The contract's fields, then three documented extras: the limit's `value`, `probability`
/// (P(crossing within the horizon)) and `within_reach` (P(crossing within the horizon and the
/// window the line was fitted on), which the alert reads).
#[derive(Serialize)]
struct TimeToLimit {
    limit: Option<&'static str>,
    median: Option<f64>,
    lo80: Option<f64>,
    hi80: Option<f64>,
    lo95: Option<f64>,
    hi95: Option<f64>,
    value: Option<f64>,
    probability: Option<f64>,
    within_reach: Option<f64>,
}

/// The contract's object.
pub fn json(f: &Forecast, out: &mut impl Write) -> io::Result<()> {
    let o = &f.outlook;
    let d = &o.degradation;
    let t = &o.time_to_limit;
    let c = &t.crossing;
    let doc = Json {
        column: &f.column,
        n: o.n,
        degradation: Degradation {
            detected: d.detected,
            start: d.start,
            slope: d.slope,
            lo: d.lo,
            hi: d.hi,
        },
        forecast: o
            .forecast
            .iter()
            .map(|s| Step {
                index: s.index,
                median: s.median,
                lo80: s.lo80,
                hi80: s.hi80,
                lo95: s.lo95,
                hi95: s.hi95,
            })
            .collect(),
        time_to_limit: TimeToLimit {
            limit: t.side.map(|s| limit_name(f.kind, s)),
            median: c.median,
            lo80: c.lo80,
            hi80: c.hi80,
            lo95: c.lo95,
            hi95: c.hi95,
            value: t.limit,
            probability: t.side.map(|_| c.probability),
            within_reach: t.side.map(|_| c.within_reach),
        },
        alert: o.alert,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// The outlook in words: the degradation, the time to limit, the alert.
pub fn text(f: &Forecast, horizon: usize, out: &mut impl Write) -> io::Result<()> {
    let o = &f.outlook;
    let d = &o.degradation;
    let name = &f.column;
    if d.detected {
        writeln!(
            out,
            "{name} is degrading since point {}: {:+.4} per point (95%: {:.4} to {:.4})",
            d.start, d.slope, d.lo, d.hi
        )?;
    } else {
        writeln!(
            out,
            "{name}: no degradation detected since point {} (slope {:+.4} per point, 95%: {:.4} to {:.4})",
            d.start, d.slope, d.lo, d.hi
        )?;
    }
    let t = &o.time_to_limit;
    let c = &t.crossing;
    match (t.side, t.limit) {
        (Some(side), Some(value)) => {
            let limit = format!(
                "{} {}",
                limit_name(f.kind, side).to_uppercase(),
                number(value)
            );
            match c.median {
                Some(0.0) => writeln!(out, "{name} is already past {limit}")?,
                Some(m) => writeln!(
                    out,
                    "{name} reaches {limit} in about {} points (80%: {}–{})",
                    points(Some(m)),
                    points(c.lo80),
                    points(c.hi80)
                )?,
                None => writeln!(
                    out,
                    "{name} is not expected to reach {limit} within {horizon} points"
                )?,
            }
            let reach = horizon.min(o.n - o.degradation.start);
            writeln!(
                out,
                "P(crossing within {horizon} points) = {:.2}; within {reach} (the points the line \
                 was fitted on, what the alert reads) = {:.2}",
                c.probability, c.within_reach
            )?;
        }
        _ if d.slope == 0.0 => writeln!(out, "{name} is flat: it heads for no limit")?,
        _ => writeln!(out, "{name} heads for no limit that was given")?,
    }
    if o.alert {
        writeln!(out, "predictive alert")?;
    }
    Ok(())
}

/// A time in points, rounded; beyond the horizon as "later".
fn points(t: Option<f64>) -> String {
    t.map_or("later".into(), |t| format!("{}", t.round()))
}

/// A limit as given (no trailing zeros), to 4 significant decimals at most.
fn number(v: f64) -> String {
    let s = format!("{v:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
