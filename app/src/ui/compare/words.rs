//! The comparison's numbers as the view, the PDF page and the notices write them: an estimate
//! with its interval, a rate in percent, a cost with its prices' date, the settings in words.

use crate::export::report::fmt;
use llmscope_protocol::compare::{Cost, Settings};
use llmscope_spc::compare::Interval;

/// A metric with its unit in parentheses, or alone when it has none: `TTFT (ms)`, `temp`.
pub fn labelled(name: &str, unit: &str) -> String {
    if unit.is_empty() {
        name.to_string()
    } else {
        format!("{name} ({unit})")
    }
}

/// `412.3 [398.1, 425.0]`; without bounds, the value alone (too few values for an interval).
pub fn interval(i: &Interval) -> String {
    match (i.lo, i.hi) {
        (Some(lo), Some(hi)) => format!("{} [{}, {}]", fmt(i.value), fmt(lo), fmt(hi)),
        _ => fmt(i.value),
    }
}

/// A rate in percent with its interval: `5.0 % [3.1, 7.9]`.
pub fn rate(i: &Interval) -> String {
    let pc = |x: f64| format!("{:.1}", 100.0 * x);
    match (i.lo, i.hi) {
        (Some(lo), Some(hi)) => format!("{} % [{}, {}]", pc(i.value), pc(lo), pc(hi)),
        _ => format!("{} %", pc(i.value)),
    }
}

/// Whether a stream is in control, in a word.
pub fn control(in_control: Option<bool>) -> &'static str {
    match in_control {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not judged",
    }
}

/// US dollars: cents for amounts from a dollar, more digits below.
pub fn usd(x: Option<f64>) -> String {
    match x {
        Some(v) if v.abs() >= 1.0 => format!("${v:.2}"),
        Some(v) => format!("${v:.6}"),
        None => "–".into(),
    }
}

/// A target's cost per success with the prices' date, or "price unknown".
pub fn per_success(cost: Option<&Cost>, date: Option<&str>) -> String {
    match cost.and_then(|c| c.per_success_usd) {
        Some(v) => match date {
            Some(d) => format!("{} (prices of {d})", usd(Some(v))),
            None => usd(Some(v)),
        },
        None => "price unknown".into(),
    }
}

/// The settings a recommendation was made under, in one line.
pub fn settings(s: &Settings) -> String {
    let mut parts = Vec::new();
    let limit = |name: &str, v: Option<f64>, unit: &str| v.map(|v| format!("{name} {v}{unit}"));
    parts.extend(limit("TTFT P95 ≤", s.max_ttft_p95_ms, " ms"));
    parts.extend(limit("error rate ≤", s.max_error_rate, ""));
    parts.extend(limit("pass rate ≥", s.min_pass_rate, ""));
    parts.extend(limit("cost per success ≤ $", s.max_cost_usd, ""));
    let constraints = if parts.is_empty() {
        "no constraints".to_string()
    } else {
        parts.join(", ")
    };
    let w = &s.weights;
    let volume = s
        .volume
        .map_or(String::new(), |n| format!("; {n} requests a month"));
    format!(
        "{constraints}; weights cost={}, latency={}, speed={}, quality={}{volume}",
        w.cost, w.latency, w.speed, w.quality
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_rates_and_costs_read_as_written() {
        let i = Interval {
            value: 412.25,
            lo: Some(398.0),
            hi: Some(425.5),
        };
        assert_eq!(interval(&i), "412.2 [398.0, 425.5]");
        assert_eq!(interval(&Interval::point(7.0)), "7.0000");
        assert_eq!(
            (labelled("TTFT", "ms"), labelled("temp", "")),
            ("TTFT (ms)".into(), "temp".into())
        );
        let r = Interval {
            value: 0.05,
            lo: Some(0.031),
            hi: Some(0.0789),
        };
        assert_eq!(rate(&r), "5.0 % [3.1, 7.9]");
        assert_eq!(per_success(None, Some("2026-11-01")), "price unknown");
        let cost = Cost {
            per_request_usd: Some(0.001),
            per_success_usd: Some(0.00105),
            blended_3to1_per_mtok: None,
            blended_measured_per_mtok: None,
            monthly_usd: Some(1050.0),
            prices_taken: Some("2026-11-01".into()),
        };
        assert_eq!(
            per_success(Some(&cost), Some("2026-11-01")),
            "$0.001050 (prices of 2026-11-01)"
        );
        assert_eq!(usd(cost.monthly_usd), "$1050.00");
    }

    #[test]
    fn settings_in_one_line() {
        let s = Settings {
            max_error_rate: Some(0.02),
            volume: Some(1000),
            ..Settings::default()
        };
        assert_eq!(
            settings(&s),
            "error rate ≤ 0.02; weights cost=1, latency=1, speed=1, quality=1; 1000 requests a month"
        );
    }
}
