//! `--format csv`: one row per point, the companion chart's columns on the same row.

use super::Report;
use llmscope_spc::Series;
use std::io::{Result, Write};

/// One row per point; companion-chart columns on the same row (empty where it has no point).
pub fn csv(r: &Report<'_>, out: &mut impl Write) -> Result<()> {
    let c = r.chart;
    writeln!(out, "index,statistic,center,lcl,ucl,tests,companion_statistic,companion_center,companion_lcl,companion_ucl,companion_tests")?;
    let cell = |x: Option<f64>| {
        x.filter(|v| v.is_finite())
            .map_or(String::new(), |v| v.to_string())
    };
    let tests = |series: &Series, index: usize| {
        series
            .tests_at(index)
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(";")
    };
    for p in c.primary.points() {
        write!(
            out,
            "{},{},{},{},{},{}",
            p.index,
            cell(Some(p.statistic)),
            cell(Some(p.center)),
            cell(p.lcl),
            cell(p.ucl),
            tests(&c.primary, p.index)
        )?;
        let companion = c
            .companion
            .as_ref()
            .and_then(|s| Some((s, s.point_at(p.index)?)));
        match companion {
            Some((s, q)) => writeln!(
                out,
                ",{},{},{},{},{}",
                cell(Some(q.statistic)),
                cell(Some(q.center)),
                cell(q.lcl),
                cell(q.ucl),
                tests(s, q.index)
            )?,
            None => writeln!(out, ",,,,,")?,
        }
    }
    out.flush()?;
    Ok(())
}
