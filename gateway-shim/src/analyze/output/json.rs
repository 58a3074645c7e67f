//! `--format json`: the JSON contract of `analyze` (README, "analyze").
//!
//! Points are written by hand rather than through serde: a 10-million-point chart is mostly
//! points, so they stream straight into the buffered writer, numbers formatted with `ryu`
//! (floats, shortest round-trip form) and `itoa` (integers).

use super::chunks::{self, push_json, Chunks, Repeated, Tests, CHUNK};
use super::{charted_scale, method_name, original_scale, summary, Ahead, Report, SHIFTS};
use llmscope_spc::summary::Summary;
use llmscope_spc::transform::Transform;
use llmscope_spc::{Chart, ChartType, Point, Series};
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

/// The JSON of a series' points, from one pass over them (see [`chunks`]).
struct Points<'a, I> {
    points: I,
    /// The position of the next point `points` gives.
    at: usize,
    len: usize,
    tests: Tests<'a>,
    /// The transform, for points also shown on the original scale.
    original: Option<&'a Transform>,
    /// Statistics formatted ahead, and whether this is the primary chart.
    ahead: Option<(&'a Ahead<'a>, bool)>,
    /// Center, UCL and LCL, then the same on the original scale.
    repeated: [Repeated; 6],
}

impl<'a, I: Iterator<Item = Point> + Send> Points<'a, I> {
    fn new(
        series: &'a Series,
        points: I,
        original: Option<&'a Transform>,
        ahead: Option<(&'a Ahead<'a>, bool)>,
    ) -> Self {
        Points {
            points,
            at: 0,
            len: series.len(),
            tests: Tests::new(series),
            original,
            ahead,
            repeated: std::array::from_fn(|_| Repeated::new(push_json)),
        }
    }

    /// One point's JSON.
    fn point(&mut self, position: usize, p: &Point, buf: &mut Vec<u8>) {
        if position > 0 {
            buf.push(b',');
        }
        buf.extend_from_slice(b"{\"index\":");
        buf.extend_from_slice(itoa::Buffer::new().format(p.index).as_bytes());
        buf.extend_from_slice(b",\"statistic\":");
        let ahead = self
            .ahead
            .and_then(|(a, primary)| a.text(primary, position, p.statistic));
        match ahead {
            Some(text) => buf.extend_from_slice(text),
            None => push_json(buf, Some(p.statistic)),
        }
        let [center, ucl, lcl, rest @ ..] = &mut self.repeated;
        buf.extend_from_slice(b",\"center\":");
        center.push(Some(p.center), buf);
        buf.extend_from_slice(b",\"ucl\":");
        ucl.push(p.ucl, buf);
        buf.extend_from_slice(b",\"lcl\":");
        lcl.push(p.lcl, buf);
        buf.extend_from_slice(b",\"tests\":[");
        self.tests.push(p.index, b',', buf);
        buf.push(b']');
        if self.tests.has_rules() {
            buf.extend_from_slice(b",\"rules\":[");
            self.tests.push_rules(p.index, b',', b"\"", false, buf);
            buf.push(b']');
        }
        if let Some(transform) = self.original {
            let [s, c, l, u] = original_scale(transform, p);
            let [center, ucl, lcl] = rest;
            buf.extend_from_slice(b",\"original\":{\"statistic\":");
            push_json(buf, s);
            buf.extend_from_slice(b",\"center\":");
            center.push(c, buf);
            buf.extend_from_slice(b",\"ucl\":");
            ucl.push(u, buf);
            buf.extend_from_slice(b",\"lcl\":");
            lcl.push(l, buf);
            buf.push(b'}');
        }
        buf.push(b'}');
    }
}

impl<I: Iterator<Item = Point> + Send> Chunks for Points<'_, I> {
    fn chunk(&mut self, k: usize, buf: &mut Vec<u8>) {
        let (start, end) = (k * CHUNK, ((k + 1) * CHUNK).min(self.len));
        while self.at < end {
            let Some(p) = self.points.next() else { return };
            let position = self.at;
            self.at += 1;
            if position >= start {
                self.point(position, &p, buf);
            }
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
    r: &Report<'_>,
    primary: bool,
) -> Result<()> {
    let (chart, data) = (r.chart, r.data);
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
        ",\"tests\":{}",
        json!(series.rules.rules().map(|r| r.number()).collect::<Vec<_>>())
    )?;
    let custom = series.rules.custom().rules();
    if !custom.is_empty() {
        let rules: Vec<Value> = custom
            .iter()
            .map(|r| json!({"name": r.name, "pattern": r.text, "warning": r.warning}))
            .collect();
        write!(out, ",\"rules\":{}", Value::Array(rules))?;
    }
    out.write_all(b",\"points\":[")?;
    let original = transformed.then_some(transform);
    let ahead = r.ahead.as_ref().map(|a| (a, primary));
    chunks::write_in_order(
        out,
        series.len().div_ceil(CHUNK),
        Points::new(series, series.points(), original, ahead),
        Points::new(series, series.points(), original, ahead),
    )?;
    out.write_all(b"],\"signals\":[")?;
    for (k, s) in super::signals(series).iter().enumerate() {
        let what = match s.what {
            super::Found::Test(t) => format!("\"test\":{}", t.number()),
            super::Found::Rule(r) if r.warning => {
                format!("\"rule\":{},\"warning\":true", json!(r.name))
            }
            super::Found::Rule(r) => format!("\"rule\":{}", json!(r.name)),
        };
        write!(
            out,
            "{}{{{what},\"index\":{},\"first\":{},\"last\":{}}}",
            if k > 0 { "," } else { "" },
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
    write_series(out, &c.primary, r, true)?;
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
            write_series(out, s, r, false)?;
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
        summary_json(&r.summary.unwrap_or_else(|| summary(r.data)))
    )?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}
