//! A forecast as the dashboard shows it, written here as HTML text so the dashboard's wasm
//! carries no view code for it: the stream view's header (the time to limit and a step back
//! to confirm), a card's "due in" line, a maintenance list's row and the band chart as inline
//! SVG.

use super::Step;
use crate::text::{esc, fmt};
use std::fmt::Write;

/// The chart's size in SVG units (it scales to the page's width).
const W: f64 = 600.0;
const H: f64 = 200.0;
/// Room for the value labels (left) and the axis note (bottom).
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 22.0;

/// A card's "due in" line (empty when nothing is due).
pub fn card(due_in: Option<&str>) -> String {
    due_in.map_or(String::new(), |d| {
        format!("<p class=\"due\" data-testid=\"due-in\">{}</p>", esc(d))
    })
}

/// The maintenance list's row of stream `name`, `due_in` ("due in about 4 h (USL 4.5)"),
/// with its buttons (the dashboard's one click handler reads `data-stream`).
pub fn row(name: &str, due_in: &str) -> String {
    let name = esc(name);
    format!(
        "<li data-testid=\"maintenance-row\" data-stream=\"{name}\"><strong>{name}</strong> {} \
         <button data-testid=\"download-ics\">Download .ics</button> \
         <button data-testid=\"maintained\">Maintained</button></li>",
        esc(due_in)
    )
}

/// The stream view's header: `words`, and when a step back was found, `back` (its words) with
/// the button that confirms it (`data-at`: its first point in the values sent).
pub fn header(words: &str, back: Option<(&str, u64)>) -> String {
    let mut out = esc(words);
    if let Some((said, at)) = back {
        let _ = write!(
            out,
            " <span class=\"step-back\" data-testid=\"forecast-step\">{}: maintenance? \
             <button data-testid=\"forecast-rebaseline\" data-at=\"{at}\">Re-baseline</button>\
             </span>",
            esc(said)
        );
    }
    out
}

/// The band chart: `history` (the newest values), `band` after it (the 95% and 80% intervals
/// as areas, the median as a line), the `limit` it heads for (value, name) and the median
/// `crossing` (points after the last point) marked.
pub fn svg(
    history: &[f64],
    band: &[Step],
    limit: Option<(f64, &str)>,
    crossing: Option<f64>,
) -> String {
    if history.len() < 2 {
        return String::new();
    }
    let last = (history.len() - 1) as f64;
    let x_end = last + band.len().max(1) as f64;
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let all = history
        .iter()
        .chain(band.iter().flat_map(|s| [&s[3], &s[4]]));
    for v in all
        .chain(limit.as_ref().map(|l| &l.0))
        .filter(|v| v.is_finite())
    {
        (lo, hi) = (lo.min(*v), hi.max(*v));
    }
    let pad = ((hi - lo) * 0.05).max(1e-9);
    let (lo, hi) = (lo - pad, hi + pad);
    let x = |i: f64| LEFT + (W - LEFT - 4.0) * i / x_end;
    let y = |v: f64| 4.0 + (H - BOTTOM - 4.0) * (hi - v.clamp(lo, hi)) / (hi - lo);
    let line = |pts: &mut dyn Iterator<Item = (f64, f64)>| {
        let mut s = String::new();
        for (i, v) in pts {
            let _ = write!(s, "{:.1},{:.1} ", x(i), y(v));
        }
        s
    };
    let after = |i: usize| last + 1.0 + i as f64;
    // An interval's area: its upper end forward, its lower end back.
    let area = |a: usize, b: usize| {
        let up = band.iter().enumerate().map(|(i, s)| (after(i), s[b]));
        let down = band.iter().enumerate().rev().map(|(i, s)| (after(i), s[a]));
        line(&mut up.chain(down))
    };
    let mut out = format!(
        "<svg class=\"band\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"forecast band\">\
         <text x=\"2\" y=\"12\">{}</text><text x=\"2\" y=\"{}\">{}</text>\
         <text x=\"{LEFT}\" y=\"{}\">points (newest, then the forecast)</text>",
        fmt(hi),
        H - BOTTOM,
        fmt(lo),
        H - 6.0
    );
    if !band.is_empty() {
        let _ = write!(
            out,
            "<polygon class=\"i95\" points=\"{}\"/><polygon class=\"i80\" points=\"{}\"/>\
             <polyline class=\"median\" points=\"{}\"/>",
            area(3, 4),
            area(1, 2),
            line(&mut band.iter().enumerate().map(|(i, s)| (after(i), s[0])))
        );
    }
    let _ = write!(
        out,
        "<polyline class=\"history\" points=\"{}\"/>",
        line(&mut history.iter().enumerate().map(|(i, v)| (i as f64, *v)))
    );
    if let Some((v, name)) = limit {
        let _ = write!(
            out,
            "<line class=\"limit\" x1=\"{LEFT}\" x2=\"{W}\" y1=\"{0:.1}\" y2=\"{0:.1}\"/>\
             <text class=\"limit\" x=\"{1}\" y=\"{2:.1}\">{3}</text>",
            y(v),
            LEFT + 4.0,
            y(v) - 3.0,
            esc(name)
        );
        if let Some(at) = crossing.map(|m| last + m).filter(|at| *at <= x_end) {
            let _ = write!(
                out,
                "<circle class=\"crossing\" data-testid=\"forecast-crossing\" cx=\"{0:.1}\" \
                 cy=\"{1:.1}\" r=\"5\"/><text class=\"crossing\" x=\"{0:.1}\" y=\"{2:.1}\" \
                 text-anchor=\"end\">crossing</text>",
                x(at),
                y(v),
                y(v) + 16.0
            );
        }
    }
    out + "</svg>"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_band_is_drawn_past_the_history_with_the_limit_and_the_crossing() {
        let history = [1.0, 2.0, 3.0];
        let band = [[4.0, 3.5, 4.5, 3.0, 5.0], [5.0, 4.0, 6.0, 3.5, 6.5]];
        let s = svg(&history, &band, Some((5.5, "USL <5.5>")), Some(1.5));
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        for part in [
            "class=\"i95\"",
            "class=\"i80\"",
            "class=\"median\"",
            "class=\"history\"",
        ] {
            assert_eq!(s.matches(part).count(), 1, "{part} in {s}");
        }
        assert!(s.contains("USL &lt;5.5&gt;") && s.contains("data-testid=\"forecast-crossing\""));
        // The history's first point sits at the left edge, the band's last at the right.
        assert!(s.contains(&format!("points=\"{LEFT:.1},")));
        assert!(s.contains(&format!("{:.1},", W - 4.0)));
        // A crossing past the band's end is not marked; too little history draws nothing.
        assert!(!svg(&history, &band, Some((5.5, "USL")), Some(9.0)).contains("circle"));
        assert_eq!(svg(&[1.0], &band, None, None), "");
    }

    #[test]
    fn the_header_carries_the_step_back_and_its_button() {
        let h = header(
            "Reaches USL 4.5 in about 3 h.",
            Some(("Step back 2 h ago (−3.1)", 40)),
        );
        assert!(
            h.contains("data-testid=\"forecast-rebaseline\" data-at=\"40\""),
            "{h}"
        );
        assert_eq!(header("a < b", None), "a &lt; b");
        assert_eq!(card(None), "");
        let r = row("a/<x>", "due in about 3 h (USL 4.5)");
        assert!(
            r.contains("data-stream=\"a/&lt;x&gt;\"") && r.contains("data-testid=\"maintained\"")
        );
        assert!(card(Some("due in about 3 h (USL 4.5)")).contains("data-testid=\"due-in\""));
    }
}
