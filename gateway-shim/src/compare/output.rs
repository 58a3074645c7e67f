//! The report of `compare`: JSON in the contract's shape (issue 12, README), or text to read:
//! a table with intervals and costs, the prices' date, the pairwise sentences, the Pareto
//! frontier and the recommendation.

use super::Report;
use llmscope_protocol::compare::Cost;
use llmscope_spc::compare::{format_number, Interval, StreamSummary};
use std::io::{self, Write};

/// The report as one JSON object (`llmscope_protocol::compare` says which fields).
pub fn json(report: &Report, out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

/// The report to read.
pub fn text(report: &Report, out: &mut impl Write) -> io::Result<()> {
    let (name, unit) = report.metric.words();
    writeln!(
        out,
        "{name} ({unit}) by target, 95% intervals in brackets\n"
    )?;
    table(&report.comparison.targets, &report.costs, out)?;
    writeln!(out, "{}", prices_line(report))?;
    let targets = &report.comparison.targets;
    for t in targets.iter().filter(|t| t.in_control != Some(true)) {
        writeln!(out, "{}: {}", t.name, t.stability)?;
    }
    writeln!(out, "\nPairs (Holm-adjusted):")?;
    if report.comparison.pairs.is_empty() {
        writeln!(out, "  none: fewer than two targets with values")?;
    }
    for p in &report.comparison.pairs {
        writeln!(out, "  - {} (p {})", p.words, p_value(p.p_value))?;
    }
    let pareto = &report.recommendation.pareto;
    let pareto = if pareto.is_empty() {
        "none".to_string()
    } else {
        pareto.join(", ")
    };
    writeln!(out, "\nPareto frontier (latency, quality, cost): {pareto}")?;
    let verdict = &report.recommendation.recommendation;
    match &verdict.name {
        Some(name) => writeln!(out, "\nRecommendation: {name}")?,
        None => writeln!(out, "\nRecommendation: none")?,
    }
    for r in &verdict.reasons {
        writeln!(out, "  - {r}")?;
    }
    if !verdict.caveats.is_empty() {
        writeln!(out, "Caveats:")?;
    }
    for c in &verdict.caveats {
        writeln!(out, "  - {c}")?;
    }
    Ok(())
}

fn table(
    targets: &[StreamSummary],
    costs: &[Option<Cost>],
    out: &mut impl Write,
) -> io::Result<()> {
    let quality = targets.iter().any(|t| t.pass_rate.is_some());
    let monthly = costs.iter().flatten().any(|c| c.monthly_usd.is_some());
    let mut header = vec![
        "target",
        "n",
        "error rate",
        "P50",
        "P95",
        "P99",
        "in control",
    ];
    if quality {
        header.push("pass rate");
    }
    header.push("$/success");
    if monthly {
        header.push("$/month");
    }
    let mut rows = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    for (t, cost) in targets.iter().zip(costs) {
        let mut row = vec![
            t.name.clone(),
            t.n.to_string(),
            percent(&t.error_rate),
            interval(&t.p50),
            interval(&t.p95),
            interval(&t.p99),
            match t.in_control {
                Some(true) => "yes".into(),
                Some(false) => "NO".into(),
                None => "too few to tell".into(),
            },
        ];
        if quality {
            row.push(t.pass_rate.as_ref().map_or("-".into(), percent));
        }
        let usd = |v: Option<f64>| v.map_or("-".into(), format_number);
        match cost {
            Some(c) => row.push(usd(c.per_success_usd)),
            None => row.push("unknown".into()),
        }
        if monthly {
            row.push(usd(cost.as_ref().and_then(|c| c.monthly_usd)));
        }
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| format!("{cell:<w$}"))
            .collect();
        writeln!(out, "{}", cells.join("  ").trim_end())?;
    }
    Ok(())
}

/// Where the costs' prices come from: the table's date, a target's own where its row is older
/// (rows `LLMSCOPE_PRICES` does not name keep the shipped date), and the targets priced by
/// their results' `cost_usd` alone.
fn prices_line(report: &Report) -> String {
    let names = report.comparison.targets.iter().map(|t| t.name.as_str());
    let mut other = Vec::new();
    for (name, cost) in names.zip(&report.costs) {
        match cost.as_ref().map(|c| c.prices_taken.as_deref()) {
            Some(Some(d)) if d != report.prices_taken => other.push(format!("{name}: {d}")),
            Some(None) => other.push(format!("{name}: its results' cost_usd")),
            _ => {}
        }
    }
    let mut line =
        String::from("$/success: USD per successful request, billed failures included; ");
    if report
        .costs
        .iter()
        .flatten()
        .any(|c| c.monthly_usd.is_some())
    {
        line += "$/month: USD per request × --volume; ";
    }
    line += &format!("prices taken {}", report.prices_taken);
    if !other.is_empty() {
        line += &format!(" ({})", other.join(", "));
    }
    line
}

/// "320 [305, 334]"; a missing bound is "?", a missing value "-".
fn interval(i: &Interval) -> String {
    show(i, 1.0, "")
}

/// A rate as "5 % [3.1, 8.1]".
fn percent(i: &Interval) -> String {
    show(i, 100.0, " %")
}

fn show(i: &Interval, scale: f64, suffix: &str) -> String {
    if !i.value.is_finite() {
        return "-".into();
    }
    let bound = |b: Option<f64>| b.map_or("?".into(), |b| format_number(b * scale));
    format!(
        "{}{suffix} [{}, {}]",
        format_number(i.value * scale),
        bound(i.lo),
        bound(i.hi)
    )
}

/// "= 0.0123", or "< 0.0001" where more digits would only be noise.
fn p_value(p: f64) -> String {
    if p < 1e-4 {
        "< 0.0001".into()
    } else {
        format!("= {}", format_number(p))
    }
}
