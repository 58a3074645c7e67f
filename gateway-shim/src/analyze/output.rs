//! The three output formats of `analyze`. Presentation only: every number comes from the
//! engine's [`Chart`] value.
//!
//! JSON points are written by hand rather than through serde: a 10-million-point chart is
//! mostly points, and this keeps the output streaming and fast.

use llmscope_spc::capability::Capability;
use llmscope_spc::summary::{summarize, Summary};
use llmscope_spc::transform::Transform;
use llmscope_spc::{Chart, ChartType, Data, Observation, Point, Series, SigmaMethod};
use serde_json::{json, Value};
use std::io::Result;
use std::io::Write;

/// Everything a format needs.
pub struct Report<'a> {
    pub file: &'a str,
    pub column: &'a str,
    pub chart: &'a Chart,
    pub data: &'a Data,
    pub capability: Option<Capability>,
}

/// Shifts (in sigma) whose ARL the reports show besides the in-control one.
const SHIFTS: [f64; 2] = [1.0, 2.0];

fn num(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else {
        Value::Null
    }
}

fn opt(x: Option<f64>) -> Value {
    x.map_or(Value::Null, num)
}

fn write_num(out: &mut impl Write, x: Option<f64>) -> std::io::Result<()> {
    match x {
        Some(x) if x.is_finite() => write!(out, "{x}"),
        _ => out.write_all(b"null"),
    }
}

fn tests_of(bits: u8) -> impl Iterator<Item = u8> {
    (1..=8u8).filter(move |t| bits & (1 << (t - 1)) != 0)
}

fn method_name(m: SigmaMethod, chart: ChartType) -> &'static str {
    match m {
        SigmaMethod::MovingRange => "MR-bar / d2",
        SigmaMethod::MedianMovingRange => "median MR / d4",
        SigmaMethod::OverallSd => "overall SD / c4",
        SigmaMethod::AverageRange => "mean of R / d2(n)",
        SigmaMethod::AverageSd => "mean of S / c4(n)",
        SigmaMethod::PooledSd => "pooled SD / c4",
        SigmaMethod::Auto => match chart {
            ChartType::P | ChartType::Np => "sqrt(p-bar (1 - p-bar))",
            ChartType::C => "sqrt(c-bar)",
            ChartType::U => "sqrt(u-bar)",
            _ => "given",
        },
    }
}

fn arl_json(chart: &Chart) -> Value {
    let mut out = serde_json::Map::new();
    match chart.arl(0.0) {
        Ok(a) => {
            out.insert("in_control".into(), num(a.value));
            out.insert(
                "method".into(),
                serde_json::to_value(a.method).unwrap_or(Value::Null),
            );
            out.insert("std_error".into(), opt(a.std_error));
        }
        Err(e) => {
            out.insert("in_control".into(), Value::Null);
            out.insert("error".into(), json!(e.to_string()));
        }
    }
    for shift in SHIFTS {
        let value = chart
            .arl(shift)
            .map(|a| num(a.value))
            .unwrap_or(Value::Null);
        out.insert(format!("shift_{shift}"), value);
    }
    Value::Object(out)
}

fn measurements(data: &Data) -> Vec<f64> {
    (0..data.len())
        .flat_map(|i| match data.observation(i) {
            Observation::Value(x) => vec![x],
            Observation::Subgroup(s) => s.to_vec(),
            Observation::Count { count, .. } => vec![count],
        })
        .collect()
}

fn summary_json(s: &Summary) -> Value {
    json!({"n": s.n, "mean": num(s.mean), "sd": num(s.sd), "min": num(s.min), "max": num(s.max),
           "p50": num(s.p50), "p90": num(s.p90), "p95": num(s.p95), "p99": num(s.p99)})
}

fn original_scale(t: &Transform, p: &Point) -> [Option<f64>; 4] {
    let back = |x: f64| Some(t.invert(x));
    [
        back(p.statistic),
        back(p.center),
        p.lcl.and_then(back),
        p.ucl.and_then(back),
    ]
}

/// Center and sigma on the scale the chart plots. The np chart plots counts of defectives, so
/// with a fixed sample size n its center is n·p̄ and its sigma √(n·p̄(1−p̄)) (Montgomery,
/// *Introduction to Statistical Quality Control*, 6th ed., §7.2.3; qcc's `stats.np`/`sd.np`
/// report the same). With varying n there is no single value: both are None, and each point
/// carries its own center and limits. Every other chart plots on the estimate's own scale.
fn charted_scale(chart: &Chart, data: &Data) -> (Option<f64>, Option<f64>) {
    let (p, sigma) = (chart.center(), chart.sigma());
    if chart.spec.chart != ChartType::Np {
        return (Some(p), Some(sigma));
    }
    let mut sizes = (0..data.len()).filter_map(|i| match data.observation(i) {
        Observation::Count { size, .. } => Some(size),
        _ => None,
    });
    let first = sizes.next();
    match first {
        Some(n) if sizes.all(|m| m == n) => (Some(n * p), Some((n * p * (1.0 - p)).sqrt())),
        _ => (None, None),
    }
}

fn write_series(
    out: &mut impl Write,
    series: &Series,
    chart: &Chart,
    data: &Data,
    primary: bool,
) -> Result<()> {
    let transform = &chart.estimate.transform;
    let transformed =
        primary && *transform != Transform::Identity && !chart.spec.chart.is_attribute();
    let center = series.point(0).map_or(chart.center(), |p| p.center);
    write!(
        out,
        "\"chart\":\"{}\",\"n\":{},\"center\":",
        series.kind.name(),
        series.len()
    )?;
    let (top_center, sigma) = charted_scale(chart, data);
    write_num(out, if primary { top_center } else { Some(center) })?;
    out.write_all(b",\"sigma\":")?;
    write_num(out, sigma)?;
    if primary && chart.spec.chart == ChartType::Np {
        out.write_all(b",\"p_bar\":")?;
        write_num(out, Some(chart.center()))?;
    }
    write!(
        out,
        ",\"tests\":{},\"points\":[",
        json!(series.rules.rules().map(|r| r.number()).collect::<Vec<_>>())
    )?;
    let tests = series.tests_by_point();
    for (j, p) in series.points().enumerate() {
        if j > 0 {
            out.write_all(b",")?;
        }
        write!(out, "{{\"index\":{},\"statistic\":", p.index)?;
        write_num(out, Some(p.statistic))?;
        out.write_all(b",\"center\":")?;
        write_num(out, Some(p.center))?;
        out.write_all(b",\"ucl\":")?;
        write_num(out, p.ucl)?;
        out.write_all(b",\"lcl\":")?;
        write_num(out, p.lcl)?;
        out.write_all(b",\"tests\":[")?;
        for (k, t) in tests_of(tests[j]).enumerate() {
            write!(out, "{}{t}", if k > 0 { "," } else { "" })?;
        }
        out.write_all(b"]")?;
        if transformed {
            let [s, c, l, u] = original_scale(transform, &p);
            out.write_all(b",\"original\":{\"statistic\":")?;
            write_num(out, s)?;
            out.write_all(b",\"center\":")?;
            write_num(out, c)?;
            out.write_all(b",\"ucl\":")?;
            write_num(out, u)?;
            out.write_all(b",\"lcl\":")?;
            write_num(out, l)?;
            out.write_all(b"}")?;
        }
        out.write_all(b"}")?;
    }
    out.write_all(b"],\"signals\":[")?;
    for (k, s) in series.signals.iter().enumerate() {
        write!(
            out,
            "{}{{\"test\":{},\"index\":{},\"first\":{},\"last\":{}}}",
            if k > 0 { "," } else { "" },
            s.test.number(),
            s.index,
            s.first,
            s.last
        )?;
    }
    out.write_all(b"]")?;
    Ok(())
}

/// The JSON contract of `analyze` (README, "analyze").
pub fn json(r: &Report<'_>, out: &mut impl Write) -> Result<()> {
    let c = r.chart;
    let e = &c.estimate;
    out.write_all(b"{")?;
    write_series(out, &c.primary, c, r.data, true)?;
    let baseline = json!({"start": e.baseline_start, "end": e.baseline_end, "excluded": e.excluded, "known": e.known,
                          "sigma_method": method_name(e.sigma_method, c.spec.chart)});
    let transform = match e.transform {
        Transform::Identity => json!({"kind": "none"}),
        Transform::Log => json!({"kind": "log"}),
        Transform::BoxCox { lambda } => json!({"kind": "box-cox", "lambda": lambda}),
    };
    write!(
        out,
        ",\"type\":\"{}\",\"column\":{},\"baseline\":{baseline},\"transform\":{transform}",
        c.spec.chart.name(),
        json!(r.column)
    )?;
    out.write_all(b",\"secondary\":")?;
    match &c.companion {
        Some(s) => {
            out.write_all(b"{")?;
            write_series(out, s, c, r.data, false)?;
            out.write_all(b"}")?;
        }
        None => out.write_all(b"null")?,
    }
    let capability = r.capability.as_ref().map_or(Value::Null, |cap| {
        serde_json::to_value(cap).unwrap_or(Value::Null)
    });
    write!(
        out,
        ",\"capability\":{capability},\"arl\":{},\"summary\":{}}}",
        arl_json(c),
        summary_json(&summarize(&measurements(r.data)))
    )?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

/// One row per point; companion-chart columns on the same row (empty where it has no point).
pub fn csv(r: &Report<'_>, out: &mut impl Write) -> Result<()> {
    let c = r.chart;
    writeln!(out, "index,statistic,center,lcl,ucl,tests,companion_statistic,companion_center,companion_lcl,companion_ucl,companion_tests")?;
    let cell = |x: Option<f64>| {
        x.filter(|v| v.is_finite())
            .map_or(String::new(), |v| v.to_string())
    };
    let tests = |bits: u8| {
        tests_of(bits)
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(";")
    };
    let primary_tests = c.primary.tests_by_point();
    let companion_tests = c
        .companion
        .as_ref()
        .map(Series::tests_by_point)
        .unwrap_or_default();
    for (j, p) in c.primary.points().enumerate() {
        write!(
            out,
            "{},{},{},{},{},{}",
            p.index,
            cell(Some(p.statistic)),
            cell(Some(p.center)),
            cell(p.lcl),
            cell(p.ucl),
            tests(primary_tests[j])
        )?;
        let companion = c
            .companion
            .as_ref()
            .and_then(|s| Some((p.index.checked_sub(s.first_index())?, s.point_at(p.index)?)));
        match companion {
            Some((k, q)) => writeln!(
                out,
                ",{},{},{},{},{}",
                cell(Some(q.statistic)),
                cell(Some(q.center)),
                cell(q.lcl),
                cell(q.ucl),
                tests(companion_tests[k])
            )?,
            None => writeln!(out, ",,,,,")?,
        }
    }
    out.flush()?;
    Ok(())
}

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
    if series.signals.is_empty() {
        writeln!(out, "  none")?;
        return Ok(());
    }
    let first_index = series.first_index();
    // Signals come in point order; each point is shown once with every test it fails.
    let groups: Vec<&[llmscope_spc::Signal]> =
        series.signals.chunk_by(|a, b| a.index == b.index).collect();
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
            writeln!(
                out,
                "      test {}: {}{span}",
                s.test.number(),
                s.test.describe(series.rules.k(s.test))
            )?;
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
    let tests: Vec<String> = c
        .primary
        .rules
        .rules()
        .map(|t| t.number().to_string())
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
        c.primary.signals.len()
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
