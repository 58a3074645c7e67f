//! The why panel's text and small charts as HTML: lists and inline SVG (the dashboard sets
//! the text as the panel's content). Every name and cause is escaped.

use super::system::Window;
use super::Explained;
use crate::text::{esc, fmt};
use llmscope_spc::explain::shape::Evidence;
use std::fmt::Write;

/// The features the shape was read from, in words; the named `rules` that fired are named
/// after the tests' numbers.
fn evidence(e: &Evidence, rules: &[String]) -> String {
    let tests = e.tests.iter().map(|t| t.number().to_string());
    let fired: Vec<String> = tests.chain(rules.iter().cloned()).collect();
    let mut parts = vec![
        format!("tests {} fired", fired.join(", ")),
        format!("mean shift {:+.2} σ", e.mean_z),
        format!("variance ratio {:.2}", e.variance_ratio),
        format!("largest distance {:.1} σ", e.max_abs_z),
    ];
    if let Some((slope, lo, hi)) = e.slope {
        parts.push(format!(
            "slope {} per point (95 % CI {} to {}), {:+.1} σ over the window",
            fmt(slope),
            fmt(lo),
            fmt(hi),
            e.trend
        ));
    }
    parts.push(format!("lag-1 autocorrelation {:.2}", e.lag1));
    if let Some((r, lag)) = e.cycle {
        parts.push(format!("autocorrelation {r:.2} at lag {lag}"));
    }
    if e.repeated > 0.0 {
        parts.push(format!("{:.0} % repeated values", 100.0 * e.repeated));
    }
    parts.push(format!(
        "read over {} points ({} in the episode)",
        e.n, e.episode
    ));
    parts.join(" · ")
}

/// A small chart of `values` (the drawn points), with the baseline window (`0..base`) and the
/// episode (`base..end`) shaded, as inline SVG 240 × 48.
fn spark(values: &[f64], base: usize, end: usize) -> String {
    let (w, h) = (240.0, 48.0);
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let lo = finite.clone().fold(f64::INFINITY, f64::min);
    let hi = finite.fold(f64::NEG_INFINITY, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let step = w / (values.len().max(2) - 1) as f64;
    let x = |i: usize| i as f64 * step;
    let mut line = String::new();
    for (i, v) in values.iter().enumerate().filter(|(_, v)| v.is_finite()) {
        let y = h - 2.0 - (v - lo) / span * (h - 4.0);
        let _ = write!(line, "{:.1},{y:.1} ", x(i));
    }
    format!(
        "<svg class=\"spark-why\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" aria-hidden=\"true\">\
         <rect class=\"base\" x=\"0\" y=\"0\" width=\"{:.1}\" height=\"{h}\"/>\
         <rect class=\"ep\" x=\"{:.1}\" y=\"0\" width=\"{:.1}\" height=\"{h}\"/>\
         <polyline points=\"{}\"/></svg>",
        x(base),
        x(base),
        (x(end) - x(base)).max(1.0),
        line.trim_end()
    )
}

/// A count or a measurement: whole numbers without decimals.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        fmt(v)
    }
}

/// `counts` as "key ×n, ...".
fn counts<K: std::fmt::Display>(counts: &std::collections::BTreeMap<K, u64>) -> Option<String> {
    let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// A probe stream's system metrics, the baseline window against the episode, as a table; a
/// row neither window has is left out.
fn system(base: &Window, ep: &Window) -> String {
    let number = |v: Option<f64>| v.map(num);
    let list = |v: &[String]| (!v.is_empty()).then(|| v.join(", "));
    let limited = |w: &Window| {
        (w.calls > 0).then(|| {
            let retry = w.retry_after_s.map_or(String::new(), |r| {
                format!(", largest retry-after {} s", num(r))
            });
            format!("{}{retry}", w.rate_limited)
        })
    };
    let row = |name: &str, key: &str, f: &dyn Fn(&Window) -> Option<String>| {
        let (b, e) = (f(base), f(ep));
        if b.is_none() && e.is_none() {
            return String::new();
        }
        let changed = if b != e && b.is_some() && e.is_some() {
            " class=\"changed\""
        } else {
            ""
        };
        let cell = |v: Option<String>| esc(&v.unwrap_or_else(|| "–".into()));
        format!(
            "<tr data-testid=\"system-row\" data-metric=\"{key}\"{changed}><th>{name}</th>\
             <td>{}</td><td>{}</td></tr>",
            cell(b),
            cell(e)
        )
    };
    let rows = [
        row("probe results", "results", &|w| Some(w.calls.to_string())),
        row("errors", "errors", &|w| counts(&w.errors)),
        row("HTTP statuses", "statuses", &|w| counts(&w.statuses)),
        row("429s", "429", &limited),
        row("input tokens (mean)", "input", &|w| number(w.tokens[0])),
        row("output tokens (mean)", "output", &|w| number(w.tokens[1])),
        row("cached tokens (mean)", "cached", &|w| number(w.tokens[2])),
        row("colo", "colo", &|w| list(&w.colos)),
        row("response model", "model", &|w| list(&w.models)),
        row("processing ms (median)", "processing", &|w| {
            number(w.processing_ms)
        }),
    ];
    let ids = if ep.request_ids.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"request-ids\" data-testid=\"request-ids\">Last request ids of the \
             episode (quote them to the provider): <code>{}</code></p>",
            esc(&ep.request_ids.join(", "))
        )
    };
    format!(
        "<h5>System metrics (the target's probe results)</h5>\
         <table class=\"system\" data-testid=\"system-metrics\"><tr><th></th><th>baseline</th>\
         <th>episode</th></tr>{}</table>{ids}",
        rows.concat()
    )
}

/// The part of a stream's id before its last `/`: its source (a device, a probe target).
fn source(id: &str) -> Option<&str> {
    id.rsplit_once('/').map(|(s, _)| s)
}

/// A time (epoch ms) as `HH:MM:SS` UTC: the events are minutes apart at most, the panel says
/// the day elsewhere.
fn clock(t: f64) -> String {
    let s = (t / 1000.0).floor().rem_euclid(86_400.0) as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// The source's status events around the episode, as a list.
fn events(events: &[(f64, String, String)]) -> String {
    let mut out = String::from(
        "<h5>Source status events (baseline and episode, UTC)</h5>\
         <ol class=\"source-events\" data-testid=\"source-events\">",
    );
    for (t, kind, message) in events {
        let _ = write!(
            out,
            "<li data-testid=\"source-event\" data-kind=\"{kind}\">{} <strong>{kind}</strong>{}</li>",
            clock(*t),
            if message.is_empty() {
                String::new()
            } else {
                format!(": {}", esc(message))
            },
            kind = esc(kind),
        );
    }
    out + "</ol>"
}

/// The panel's explanation of the episode of stream `id`.
pub fn render(x: &Explained, id: &str) -> String {
    let r = &x.report;
    let mut out = String::new();
    let shape = r.shape.as_str();
    let _ = write!(
        out,
        "<p data-testid=\"why-shape\" data-shape=\"{shape}\">Shape: <strong>{shape}</strong></p>\
         <p class=\"evidence\" data-testid=\"why-evidence\">{}</p>",
        esc(&evidence(&r.evidence, &x.rules))
    );
    if let Some((base, ep)) = &x.system {
        out += &system(base, ep);
    }
    if !x.events.is_empty() {
        out += &events(&x.events);
    }
    // The episode's place in the drawn points: after the baseline window.
    let (base, end) = (r.first - x.drawn.0, r.last + 1 - x.drawn.0);
    let _ = write!(
        out,
        "<h5>What else changed (the episode against the {} points before it, shaded)</h5>\
         <ol class=\"co-moving\" data-testid=\"co-moving\">",
        r.first - x.baseline
    );
    if r.co_moving.is_empty() {
        out += "<li>no other stream of the session covers this episode and its baseline</li>";
    }
    for (c, values) in r.co_moving.iter().zip(&x.charts) {
        let same = source(&c.stream).is_some() && source(&c.stream) == source(id);
        let _ = write!(
            out,
            "<li data-testid=\"co-moving-row\" data-stream=\"{name}\" data-same-source=\"{same}\">\
             <strong>{name}</strong>{} KS D {:.2} (p {}){}<br>{}</li>",
            if same { " (same source)" } else { "" },
            c.statistic,
            fmt(c.p_value),
            c.shift.map_or(String::new(), |s| format!(
                ", mean shift {s:+.2} baseline sd"
            )),
            spark(values, base, end),
            name = esc(&c.stream),
        );
    }
    out += "</ol><h5>Suggested causes</h5><ol class=\"suggestions\" data-testid=\"suggestions\">";
    for s in &r.suggestions {
        let _ = write!(
            out,
            "<li data-testid=\"suggestion\" data-cause=\"{cause}\"><strong>{cause}</strong> \
             score {:.2}: {}</li>",
            s.score,
            esc(&s.evidence),
            cause = esc(&s.cause),
        );
    }
    out += "</ol><h5>Similar past windows</h5><ol class=\"similar\" data-testid=\"similar\">";
    if r.similar.is_empty() {
        out += "<li>none: too few earlier points</li>";
    }
    for (m, cause) in r.similar.iter().zip(&x.causes) {
        let own = if m.stream == id { " (this stream)" } else { "" };
        let _ = write!(
            out,
            "<li data-testid=\"similar-row\" data-cause=\"{}\">{}{own}, points {}–{}, distance \
             {:.2}: {}</li>",
            esc(cause.as_deref().unwrap_or("")),
            esc(&m.stream),
            m.first,
            m.last,
            m.distance,
            cause
                .as_ref()
                .map_or("no cause recorded".into(), |c| format!("cause: {}", esc(c))),
        );
    }
    out += "</ol>";
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_listed_with_their_time_and_escaped() {
        let html = events(&[(3_723_000.0, "stale".into(), "<timeout>".into())]);
        assert!(
            html.contains(
                "data-kind=\"stale\">01:02:03 <strong>stale</strong>: &lt;timeout&gt;</li>"
            ),
            "{html}"
        );
        assert_eq!(source("press1/temperature"), Some("press1"));
        assert_eq!(source("alone"), None);
    }

    #[test]
    fn the_chart_shades_its_windows() {
        let svg = spark(&[1.0, 2.0, f64::NAN, 3.0, 2.0], 2, 4);
        assert!(
            svg.contains("<rect class=\"base\" x=\"0\" y=\"0\" width=\"120.0\""),
            "{svg}"
        );
        assert!(
            svg.contains("<rect class=\"ep\" x=\"120.0\" y=\"0\" width=\"120.0\""),
            "{svg}"
        );
        assert!(
            svg.contains("points=\"0.0,46.0 60.0,24.0 180.0,2.0 240.0,24.0\""),
            "{svg}"
        );
    }
}
