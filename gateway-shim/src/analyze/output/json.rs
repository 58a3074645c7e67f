//! `--format json`: the JSON contract of `analyze` (README, "analyze").
//!
//! Points are written by hand rather than through serde: a 10-million-point chart is mostly
//! points, so they stream straight into the buffered writer, numbers formatted with `ryu`
//! (floats, shortest round-trip form) and `itoa` (integers).

use super::{charted_scale, measurements, method_name, original_scale, Report, SHIFTS};
use llmscope_spc::summary::{summarize, Summary};
use llmscope_spc::transform::Transform;
use llmscope_spc::{Chart, ChartType, Data, Series};
use serde_json::{json, Value};
use std::io::{Result, Write};

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

/// A finite number in its shortest round-trip form (`ryu`, as serde_json writes floats), or
/// `null` for none, NaN or an infinity (JSON has no such numbers).
fn write_num(out: &mut impl Write, x: Option<f64>) -> Result<()> {
    match x {
        Some(x) if x.is_finite() => out.write_all(ryu::Buffer::new().format_finite(x).as_bytes()),
        _ => out.write_all(b"null"),
    }
}

fn write_int(out: &mut impl Write, n: impl itoa::Integer) -> Result<()> {
    out.write_all(itoa::Buffer::new().format(n).as_bytes())
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
fn summary_json(s: &Summary) -> Value {
    json!({"n": s.n, "mean": num(s.mean), "sd": num(s.sd), "min": num(s.min), "max": num(s.max),
           "p50": num(s.p50), "p90": num(s.p90), "p95": num(s.p95), "p99": num(s.p99)})
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
    for (j, p) in series.points().enumerate() {
        if j > 0 {
            out.write_all(b",")?;
        }
        out.write_all(b"{\"index\":")?;
        write_int(out, p.index)?;
        out.write_all(b",\"statistic\":")?;
        write_num(out, Some(p.statistic))?;
        out.write_all(b",\"center\":")?;
        write_num(out, Some(p.center))?;
        out.write_all(b",\"ucl\":")?;
        write_num(out, p.ucl)?;
        out.write_all(b",\"lcl\":")?;
        write_num(out, p.lcl)?;
        out.write_all(b",\"tests\":[")?;
        for (k, t) in series.tests_at(p.index).enumerate() {
            if k > 0 {
                out.write_all(b",")?;
            }
            write_int(out, t)?;
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
