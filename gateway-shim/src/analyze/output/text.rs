//! `--format text`: the report a person reads: limits, signals with context, false alarms,
//! capability and a summary.

use super::{charted_scale, method_name, original_scale, Found, Report, SHIFTS};
use llmscope_spc::transform::Transform;
use llmscope_spc::{Chart, ChartType, Point, Series};
use std::io::{Result, Write};

/// Points with signals listed in full in the text report; the rest are counted.
const TEXT_SIGNALS: usize = 50;
/// Points shown on either side of a signal in the text report.
const CONTEXT: usize = 3;

fn fmt(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    let magnitude = x.abs();
    if magnitude != 0.0 && !(1e-3..1e7).contains(&magnitude) {
        format!("{x:.4e}")
    } else {
        let s = format!("{x:.6}");
        let s = s.trim_end_matches('0');
        s.trim_end_matches('.').to_string()
    }
}

fn limits_line(series: &Series) -> String {
    let Some(first) = series.point(0) else {
        return "no points".into();
    };
    let varies = series
        .points()
        .any(|p| p.ucl != first.ucl || p.lcl != first.lcl);
    let show = |x: Option<f64>| x.map_or("none".into(), fmt);
    if varies {
        let range = |f: fn(&Point) -> Option<f64>| {
            let vals: Vec<f64> = series.points().filter_map(|p| f(&p)).collect();
            let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if vals.is_empty() {
                "none".to_string()
            } else {
                format!("{} to {}", fmt(lo), fmt(hi))
            }
        };
        format!(
            "LCL {}, UCL {} (they vary point to point)",
            range(|p| p.lcl),
            range(|p| p.ucl)
        )
    } else {
        format!(
            "center {}, LCL {}, UCL {}",
            fmt(first.center),
            show(first.lcl),
            show(first.ucl)
        )
    }
}

fn signal_lines(series: &Series, out: &mut impl Write) -> Result<()> {
    let signals = super::signals(series);
    if signals.is_empty() {
        writeln!(out, "  none")?;
        return Ok(());
    }
    let first_index = series.first_index();
    // Signals come in point order; each point is shown once with every test it fails.
    let groups: Vec<&[super::Signal]> = signals.chunk_by(|a, b| a.index == b.index).collect();
    for group in groups.iter().take(TEXT_SIGNALS) {
        let at = group[0].index - first_index;
        let Some(p) = series.point(at) else { continue };
        writeln!(
            out,
            "  point {}: {} = {}",
            group[0].index,
            series.kind.name(),
            fmt(p.statistic)
        )?;
        for s in group.iter() {
            let span = if s.first == s.last {
                String::new()
            } else {
                format!(" (points {}-{})", s.first, s.last)
            };
            match s.what {
                Found::Test(t) => writeln!(
                    out,
                    "      test {}: {}{span}",
                    t.number(),
                    t.describe(series.rules.k(t))
                )?,
                Found::Rule(r) => writeln!(
                    out,
                    "      rule {}: {}{}{span}",
                    r.name,
                    r.text,
                    if r.warning { " (warning)" } else { "" }
                )?,
            }
        }
        let from = at.saturating_sub(CONTEXT);
        let to = (at + CONTEXT + 1).min(series.len());
        let context: Vec<String> = (from..to)
            .filter_map(|k| series.point(k).map(|q| (k, q)))
            .map(|(k, q)| {
                let mark = if k == at { "*" } else { "" };
                format!("{mark}{}: {}{mark}", q.index, fmt(q.statistic))
            })
            .collect();
        writeln!(out, "      context  {}", context.join("  "))?;
    }
    if groups.len() > TEXT_SIGNALS {
        writeln!(
            out,
            "  ... and {} more points with signals (--format json lists them all)",
            groups.len() - TEXT_SIGNALS
        )?;
    }
    Ok(())
}

fn arl_words(chart: &Chart) -> String {
    match chart.arl(0.0) {
        Ok(a) if a.value.is_infinite() => "no tests are on, so the chart never signals".into(),
        Ok(a) => {
            let how = match a.std_error {
                Some(se) => format!("simulated, standard error {se:.2}"),
                None => "Markov chain".into(),
            };
            let shifted: Vec<String> = SHIFTS
                .iter()
                .filter_map(|&s| {
                    chart
                        .arl(s)
                        .ok()
                        .map(|b| format!("{:.1} points after a {s}-sigma shift", b.value))
                })
                .collect();
            format!(
                "expect a false alarm about every {} points in control ({how}); a real shift is caught after about {}",
                fmt(a.value.round()),
                shifted.join(", or ")
            )
        }
        Err(e) => format!("not available: {e}"),
    }
}

/// A report a person reads.
pub fn text(r: &Report<'_>, out: &mut impl Write) -> Result<()> {
    let c = r.chart;
    let e = &c.estimate;
    writeln!(
        out,
        "LLMscope control chart: {} (column '{}')",
        r.file, r.column
    )?;
    writeln!(
        out,
        "Chart: {}, {} points (numbered from 0)",
        c.spec.chart.name(),
        c.primary.len()
    )?;
    if e.known {
        writeln!(
            out,
            "Limits from known parameters: mu = {}, sigma = {}",
            fmt(e.center),
            fmt(e.sigma)
        )?;
    } else {
        write!(
            out,
            "Phase I baseline: points {}-{} ({} points); sigma = {}",
            e.baseline_start,
            e.baseline_end - 1,
            e.baseline_end - e.baseline_start,
            method_name(e.sigma_method, c.spec.chart)
        )?;
        if e.excluded.is_empty() {
            writeln!(out)?;
        } else {
            writeln!(out, "; set aside after failing test 1: {:?}", e.excluded)?;
        }
    }
    match (c.spec.chart, charted_scale(c, r.data)) {
        (ChartType::Np, (Some(center), Some(sigma))) => writeln!(
            out,
            "Center n p-bar = {}   sigma {}   (p-bar {})",
            fmt(center),
            fmt(sigma),
            fmt(e.center)
        )?,
        (ChartType::Np, _) => writeln!(
            out,
            "p-bar {}; the sample size varies, so center and limits vary by point",
            fmt(e.center)
        )?,
        _ => writeln!(out, "Center {}   sigma {}", fmt(e.center), fmt(e.sigma))?,
    }
    match e.transform {
        Transform::Identity => {}
        t => {
            let name = match t {
                Transform::BoxCox { lambda } => format!("Box-Cox, lambda = {}", fmt(lambda)),
                _ => "log".into(),
            };
            writeln!(
                out,
                "Transform: {name}; limits below are on the transformed scale"
            )?;
            if let Some(p) = c.primary.point(0) {
                let [_, center, lcl, ucl] = original_scale(&t, &p);
                let show = |x: Option<f64>| x.map_or("none".into(), fmt);
                writeln!(
                    out,
                    "  on the original scale: center {}, LCL {}, UCL {}",
                    show(center),
                    show(lcl),
                    show(ucl)
                )?;
            }
        }
    }
    writeln!(
        out,
        "{}: {}",
        c.primary.kind.name(),
        limits_line(&c.primary)
    )?;
    if let Some(s) = &c.companion {
        writeln!(out, "{}: {}", s.kind.name(), limits_line(s))?;
    }
    let named = c.primary.rules.custom().rules().iter().map(|r| {
        let warning = if r.warning { ", warning" } else { "" };
        format!("{} ({}{warning})", r.name, r.text)
    });
    let tests: Vec<String> = c
        .primary
        .rules
        .rules()
        .map(|t| t.number().to_string())
        .chain(named)
        .collect();
    writeln!(
        out,
        "Tests: {}",
        if tests.is_empty() {
            "none".into()
        } else {
            tests.join(", ")
        }
    )?;
    writeln!(out, "False alarms: {}", arl_words(c))?;
    if let Some(cap) = &r.capability {
        let show = |x: Option<f64>| x.map_or("-".into(), fmt);
        writeln!(
            out,
            "Capability (n = {}, mean {}, sigma within {}, overall {}):",
            cap.n,
            fmt(cap.mean),
            fmt(cap.sigma_within),
            fmt(cap.sigma_overall)
        )?;
        writeln!(
            out,
            "  Cp {}  Cpk {}  Cpu {}  Cpl {}  Cpm {}",
            show(cap.cp),
            show(cap.cpk),
            show(cap.cpu),
            show(cap.cpl),
            show(cap.cpm)
        )?;
        writeln!(out, "  Pp {}  Ppk {}", show(cap.pp), show(cap.ppk))?;
        if let Some((lo, hi)) = cap.cpk_interval {
            writeln!(
                out,
                "  Cpk {}% interval: {} to {}",
                fmt(cap.confidence * 100.0),
                fmt(lo),
                fmt(hi)
            )?;
        }
        for w in &cap.warnings {
            writeln!(out, "  warning: {w}")?;
        }
    }
    writeln!(
        out,
        "Signals on the {} chart ({}):",
        c.primary.kind.name(),
        c.primary.signals.len() + c.primary.rule_signals.len()
    )?;
    signal_lines(&c.primary, out)?;
    if let Some(s) = &c.companion {
        writeln!(
            out,
            "Signals on the {} chart ({}):",
            s.kind.name(),
            s.signals.len()
        )?;
        signal_lines(s, out)?;
    }
    out.flush()?;
    Ok(())
}
