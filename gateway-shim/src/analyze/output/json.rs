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

/// One point's JSON, built before it is written.
#[derive(Default)]
struct Line(Vec<u8>);

impl Line {
    fn clear(&mut self) {
        self.0.clear();
    }

    fn text(&mut self, s: &[u8]) {
        self.0.extend_from_slice(s);
    }

    fn int(&mut self, n: impl itoa::Integer) {
        self.0
            .extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    }

    /// As [`write_num`].
    fn num(&mut self, x: Option<f64>) {
        match x {
            Some(x) if x.is_finite() => self
                .0
                .extend_from_slice(ryu::Buffer::new().format_finite(x).as_bytes()),
            _ => self.0.extend_from_slice(b"null"),
        }
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
    // Each point is built in one reused line and written with one call; the signals are
    // ordered by point, so a cursor finds each point's tests (what `Series::tests_at` returns)
    // without a search per point.
    let mut line = Line::default();
    let mut next_signal = 0;
    for (j, p) in series.points().enumerate() {
        line.clear();
        if j > 0 {
            line.text(b",");
        }
        line.text(b"{\"index\":");
        line.int(p.index);
        line.text(b",\"statistic\":");
        line.num(Some(p.statistic));
        line.text(b",\"center\":");
        line.num(Some(p.center));
        line.text(b",\"ucl\":");
        line.num(p.ucl);
        line.text(b",\"lcl\":");
        line.num(p.lcl);
        line.text(b",\"tests\":[");
        let mut first = true;
        while let Some(s) = series
            .signals
            .get(next_signal)
            .filter(|s| s.index <= p.index)
        {
            next_signal += 1;
            if s.index == p.index {
                if !first {
                    line.text(b",");
                }
                line.int(s.test.number());
                first = false;
            }
        }
        line.text(b"]");
        if transformed {
            let [s, c, l, u] = original_scale(transform, &p);
            line.text(b",\"original\":{\"statistic\":");
            line.num(s);
            line.text(b",\"center\":");
            line.num(c);
            line.text(b",\"ucl\":");
            line.num(u);
            line.text(b",\"lcl\":");
            line.num(l);
            line.text(b"}");
        }
        line.text(b"}");
        out.write_all(&line.0)?;
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
