//! The report of `explain`: JSON in the contract's shape (issue 13, README), or text to read.

use super::Explained;
use llmscope_spc::explain::EpisodeReport;
use serde::Serialize;
use std::io::{self, Write};

#[derive(Serialize)]
struct Json<'a> {
    column: &'a str,
    episodes: &'a [EpisodeReport],
}

/// The contract's object: `column` and `episodes`.
pub fn json(e: &Explained, out: &mut impl Write) -> io::Result<()> {
    let doc = Json {
        column: &e.column,
        episodes: &e.episodes,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// One paragraph per episode.
pub fn text(e: &Explained, out: &mut impl Write) -> io::Result<()> {
    let n = e.episodes.len();
    writeln!(out, "{}: {n} episode(s)", e.column)?;
    if !e.skipped.is_empty() {
        writeln!(out, "not numeric, left out: {}", e.skipped.join(", "))?;
    }
    for (i, ep) in e.episodes.iter().enumerate() {
        episode(i + 1, ep, out)?;
    }
    Ok(())
}

fn episode(number: usize, ep: &EpisodeReport, out: &mut impl Write) -> io::Result<()> {
    let tests: Vec<String> = ep
        .tests
        .iter()
        .map(|t| (*t as u8).to_string())
        .chain(ep.rules.iter().cloned())
        .collect();
    let ev = &ep.evidence;
    writeln!(
        out,
        "\nEpisode {number}: points {}-{}, tests {}: {}",
        ep.first,
        ep.last,
        tests.join(", "),
        ep.shape.as_str()
    )?;
    writeln!(
        out,
        "  level {:+.2} sigma, spread x{:.2}, trend {:+.2} sigma, lag-1 autocorrelation {:.2}",
        ev.mean_z, ev.sd_ratio, ev.trend, ev.lag1
    )?;
    if !ep.co_moving.is_empty() {
        writeln!(out, "  what else changed:")?;
    }
    for c in &ep.co_moving {
        let shift = c.shift.map_or("-".into(), |s| format!("{s:+.2} sd"));
        writeln!(
            out,
            "    {} (KS D {:.2}, shift {shift})",
            c.stream, c.statistic
        )?;
    }
    writeln!(out, "  suggested causes:")?;
    for s in ep.suggestions.iter().take(3) {
        writeln!(out, "    {} ({:.2}): {}", s.cause, s.score, s.evidence)?;
    }
    if !ep.similar.is_empty() {
        writeln!(out, "  similar earlier windows:")?;
    }
    for s in &ep.similar {
        writeln!(
            out,
            "    {} {}-{} (distance {:.2})",
            s.stream, s.first, s.last, s.distance
        )?;
    }
    Ok(())
}
