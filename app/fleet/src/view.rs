//! What the page shows of thousands of streams, made here so the page's main thread only sets
//! HTML: streams grouped by plant, line and machine, each group rolled up (signals first, then
//! stale, then live), and only the rows the page can see, as escaped HTML text.
//!
//! - A stream's group is its id without the last segment (the metric): a Sparkplug
//!   `{group}/{node}/{device}/{metric}` falls in `{group}/{node}/{device}`, a node's own
//!   `{group}/{node}/{metric}` in `{group}/{node}`, a plain `plant/line/machine/temperature` in
//!   `plant/line/machine`; an id without `/` in the group `""`.
//! - The list is the groups in order (signals first, then stale, then live; then by name),
//!   each followed by its streams when the page has opened it. The page asks for a window of
//!   that list ([`Ask`]: the open groups, the first row and how many) and gets those rows only,
//!   each [`ROW_PX`] high, with the list's length, so it can size a scroller for all of them.
//! - A watched stream's last [`KEEP`] points are kept for its chart (inline SVG: points,
//!   center line and control limits, signals marked).

use crate::engine::StreamUpdate;
use crate::sparkplug::NodeUpdate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write;

/// The height of every row, in CSS pixels (the page's stylesheet uses the same).
pub const ROW_PX: u32 = 28;
/// Points kept for a watched stream's chart.
pub const KEEP: usize = 500;
/// The most rows one window holds.
const MAX_ROWS: usize = 400;

/// The page's `view` message: which groups are open and which rows it can see.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ask {
    /// The groups whose streams are listed (group keys).
    #[serde(default)]
    pub open: BTreeSet<String>,
    /// The first row wanted.
    #[serde(default)]
    pub from: usize,
    /// How many rows (at most 400).
    #[serde(default)]
    pub count: usize,
    /// The stream whose chart is shown, if any.
    #[serde(default)]
    pub chart: Option<String>,
}

/// One group's roll-up.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Group {
    /// Its key, `plant/line/machine`.
    pub key: String,
    /// `signal`, `stale` or `live`.
    pub status: &'static str,
    /// Its streams.
    pub streams: u64,
    /// Its streams with at least one signal.
    pub signals: u64,
    /// Its stale streams.
    pub stale: u64,
    /// Why its first stale stream is stale (a death, a silence, a lost connection).
    pub reason: Option<String>,
}

/// What the page gets for its window.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Shown {
    /// Rows in the whole list (groups and the open groups' streams).
    pub total: usize,
    /// The first row of `html`.
    pub from: usize,
    /// The rows `from..` as HTML.
    pub html: String,
    /// Groups in all, and of them with signals and with stale streams.
    pub groups: [usize; 3],
    /// The chart of the stream asked for, as HTML (empty when none).
    pub chart: String,
}

/// The view's state between batches: the page's last ask and the watched streams' points.
#[derive(Default)]
pub struct View {
    /// The page's last ask.
    pub ask: Ask,
    history: BTreeMap<String, VecDeque<[f64; 2]>>,
    /// The groups as last rolled up, and the engine's [`crate::engine::Engine::rollup`] then.
    rolled: Option<(u64, Vec<Group>)>,
}

/// Where a stream falls: its group key and its metric.
pub fn split(id: &str) -> (&str, &str) {
    id.rsplit_once('/').unwrap_or(("", id))
}

fn rank(status: &str) -> u8 {
    match status {
        "signal" => 0,
        "stale" => 1,
        _ => 2,
    }
}

/// The groups of `streams` (in id order), rolled up and in the list's order.
pub fn groups<'a>(streams: impl Iterator<Item = &'a StreamUpdate>) -> Vec<Group> {
    let mut by: BTreeMap<&str, Group> = BTreeMap::new();
    // A group's streams mostly follow one another in id order: counted here, and looked up
    // in `by` only when the group changes (every tick walks all 20,000 streams).
    let mut run: Option<(&str, Group)> = None;
    for s in streams {
        let key = split(&s.id).0;
        if run.as_ref().is_none_or(|(k, _)| *k != key) {
            if let Some((k, g)) = run.take() {
                by.insert(k, g);
            }
            let g = by.remove(key).unwrap_or_else(|| Group {
                key: key.to_string(),
                ..Group::default()
            });
            run = Some((key, g));
        }
        if let Some((_, g)) = run.as_mut() {
            g.streams += 1;
            g.signals += u64::from(s.signals > 0);
            g.stale += u64::from(s.status == "stale");
            if g.reason.is_none() && s.status == "stale" {
                g.reason.clone_from(&s.reason);
            }
        }
    }
    if let Some((k, g)) = run {
        by.insert(k, g);
    }
    let mut out: Vec<Group> = by
        .into_values()
        .map(|mut g| {
            g.status = match (g.signals, g.stale) {
                (0, 0) => "live",
                (0, _) => "stale",
                _ => "signal",
            };
            g
        })
        .collect();
    out.sort_by(|a, b| rank(a.status).cmp(&rank(b.status)).then(a.key.cmp(&b.key)));
    out
}

/// Text for HTML: `&`, `<`, `>`, `"` and `'` escaped.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A number for people: up to 4 significant digits.
fn num(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let digits = if v == 0.0 {
        0
    } else {
        (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize
    };
    format!("{v:.digits$}")
}

/// The Sparkplug node a group belongs to (`{group}/{node}`), if it is one.
/// The Sparkplug node id a group's key starts with (`{group}/{node}`), if it has two levels.
fn node_of(key: &str) -> Option<String> {
    let mut parts = key.splitn(3, '/');
    Some(format!("{}/{}", parts.next()?, parts.next()?))
}

/// Where the view finds a Sparkplug node by its id `{group}/{node}`.
pub type Nodes<'a> = &'a dyn Fn(&str) -> Option<&'a NodeUpdate>;

fn group_row(g: &Group, open: bool, nodes: Nodes) -> String {
    let name = if g.key.is_empty() {
        "(no group)"
    } else {
        &g.key
    };
    let mut extra = String::new();
    if let Some(n) = node_of(&g.key).and_then(|id| nodes(&id)) {
        let _ = write!(extra, " · node {}", n.state);
        if n.seq_gaps > 0 {
            let _ = write!(
                extra,
                " · <span class=\"fleet-gaps\" data-testid=\"seq-gaps\">{} seq gap{}</span>",
                n.seq_gaps,
                if n.seq_gaps == 1 { "" } else { "s" }
            );
        }
    }
    // Last: the longest part, cut by the row's width first.
    if let Some(why) = g.reason.as_deref().filter(|_| g.stale > 0) {
        let _ = write!(extra, " · <span class=\"fleet-why\">{}</span>", esc(why));
    }
    format!(
        "<div class=\"fleet-row fleet-group {status}\" data-testid=\"stream-group\" data-group=\"{key}\" \
         data-status=\"{status}\" data-streams=\"{n}\" data-signals=\"{sig}\" data-stale=\"{stale}\" \
         aria-expanded=\"{open}\" role=\"button\" tabindex=\"0\"><span class=\"badge\">{status}</span> \
         <b>{name}</b> <span class=\"muted\">{n} streams · {sig} with signals · {stale} stale{extra}</span></div>",
        status = g.status,
        key = esc(&g.key),
        n = g.streams,
        sig = g.signals,
        stale = g.stale,
        name = esc(name),
    )
}

fn stream_row(s: &StreamUpdate) -> String {
    let status = match (s.signals, s.status) {
        (_, "stale") => "stale",
        (0, _) => "live",
        _ => "signal",
    };
    let limits = match (s.lcl, s.ucl) {
        (Some(l), Some(u)) => format!(" · limits {} to {}", num(l), num(u)),
        _ => " · collecting baseline".to_string(),
    };
    let reason = s
        .reason
        .as_deref()
        .map_or(String::new(), |r| format!(" · {}", esc(r)));
    format!(
        "<div class=\"fleet-row fleet-stream {status}\" data-testid=\"fleet-stream\" data-stream=\"{id}\" \
         data-status=\"{status}\" role=\"button\" tabindex=\"0\"><span class=\"badge\">{status}</span> \
         {metric} <b>{last}</b> <span class=\"muted\">n {n} · {sig} signals{limits}{reason}</span></div>",
        id = esc(&s.id),
        metric = esc(split(&s.id).1),
        last = num(s.last),
        n = s.n,
        sig = s.signals,
    )
}

impl View {
    /// Keeps the new points of watched streams for their charts.
    pub fn keep(&mut self, points: &BTreeMap<String, Vec<[f64; 2]>>) {
        for (id, new) in points {
            let h = self.history.entry(id.clone()).or_default();
            h.extend(new.iter().copied());
            while h.len() > KEEP {
                h.pop_front();
            }
        }
        let chart = &self.ask.chart;
        self.history.retain(|id, _| chart.as_ref() == Some(id));
    }

    /// The window the page asked for, from every stream (in id order) and node. `rollup` is
    /// the engine's count of roll-up changes: the groups are rolled up again only when it
    /// moved (every tick would walk all 20,000 streams).
    pub fn show(
        &mut self,
        streams: &BTreeMap<String, StreamUpdate>,
        rollup: u64,
        nodes: Nodes,
    ) -> Shown {
        if self.rolled.as_ref().is_none_or(|(r, _)| *r != rollup) {
            self.rolled = Some((rollup, groups(streams.values())));
        }
        let groups = self.rolled.as_ref().map_or(&[][..], |(_, g)| g);
        let (from, count) = (self.ask.from, self.ask.count.min(MAX_ROWS));
        let mut html = String::new();
        let mut row = 0;
        for g in groups {
            let open = self.ask.open.contains(&g.key);
            if (from..from + count).contains(&row) {
                html += &group_row(g, open, nodes);
            }
            row += 1;
            if !open {
                continue;
            }
            let n = g.streams as usize;
            if row + n > from && row < from + count {
                let prefix = if g.key.is_empty() {
                    String::new()
                } else {
                    format!("{}/", g.key)
                };
                let skip = from.saturating_sub(row);
                let members = streams
                    .range(prefix.clone()..)
                    .map(|(_, s)| s)
                    .take_while(|s| s.id.starts_with(&prefix))
                    .filter(|s| split(&s.id).0 == g.key);
                for s in members.skip(skip).take(from + count - row.max(from)) {
                    html += &stream_row(s);
                }
            }
            row += n;
        }
        let chart = self.ask.chart.as_ref().and_then(|id| {
            let s = streams.get(id)?;
            Some(chart(s, self.history.get(id)))
        });
        Shown {
            total: row,
            from,
            html,
            groups: [
                groups.len(),
                groups.iter().filter(|g| g.signals > 0).count(),
                groups.iter().filter(|g| g.stale > 0).count(),
            ],
            chart: chart.unwrap_or_default(),
        }
    }
}

/// A stream's control chart as inline SVG: its kept points, the center line and the control
/// limits (dashed), points beyond the limits in red.
pub fn chart(s: &StreamUpdate, points: Option<&VecDeque<[f64; 2]>>) -> String {
    const W: f64 = 600.0;
    const H: f64 = 180.0;
    let empty = VecDeque::new();
    let points = points.unwrap_or(&empty);
    let values = points.iter().map(|p| p[1]).chain(s.lcl).chain(s.ucl);
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let (lo, hi) = if lo < hi {
        (lo, hi)
    } else {
        (lo - 1.0, lo + 1.0)
    };
    let y = |v: f64| 10.0 + (hi - v) / (hi - lo) * (H - 20.0);
    let x = |i: usize| 10.0 + i as f64 * (W - 20.0) / (points.len().max(2) - 1) as f64;
    let mut svg = format!(
        "<svg class=\"fleet-chart-svg\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"control chart of {}\">",
        esc(&s.id)
    );
    for (limit, class) in [(s.lcl, "limit"), (s.ucl, "limit")] {
        if let Some(v) = limit {
            let _ = write!(
                svg,
                "<line class=\"{class}\" x1=\"0\" x2=\"{W}\" y1=\"{0:.1}\" y2=\"{0:.1}\"/>",
                y(v)
            );
        }
    }
    if let (Some(l), Some(u)) = (s.lcl, s.ucl) {
        let c = y((l + u) / 2.0);
        let _ = write!(
            svg,
            "<line class=\"center\" x1=\"0\" x2=\"{W}\" y1=\"{c:.1}\" y2=\"{c:.1}\"/>"
        );
    }
    let line: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p[1])))
        .collect();
    let _ = write!(svg, "<polyline points=\"{}\"/>", line.join(" "));
    for (i, p) in points.iter().enumerate() {
        let out = s.lcl.is_some_and(|l| p[1] < l) || s.ucl.is_some_and(|u| p[1] > u);
        if out {
            let _ = write!(
                svg,
                "<circle class=\"signal\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\"/>",
                x(i),
                y(p[1])
            );
        }
    }
    svg += "</svg>";
    format!(
        "<div class=\"fleet-chart\" data-testid=\"fleet-chart\" data-stream=\"{id}\" data-points=\"{n}\">\
         <h3>{id}</h3>{row}{svg}</div>",
        id = esc(&s.id),
        n = points.len(),
        row = stream_row(s),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(id: &str, status: &'static str, signals: u64) -> StreamUpdate {
        StreamUpdate {
            id: id.into(),
            status,
            reason: None,
            last: 1.0,
            t: 0.0,
            n: 1,
            signals,
            last_signal: None,
            lcl: None,
            ucl: None,
            chart: 0,
            silent: false,
        }
    }

    fn all(list: &[StreamUpdate]) -> BTreeMap<String, StreamUpdate> {
        list.iter().map(|s| (s.id.clone(), s.clone())).collect()
    }

    #[test]
    fn groups_roll_up_with_signals_first_then_stale_then_live() {
        let s = [
            stream("a/n1/d/t", "live", 0),
            stream("a/n1/d/p", "live", 0),
            stream("a/n2/d/t", "stale", 0),
            stream("a/n3/d/t", "live", 2),
            stream("a/n3/d/p", "stale", 0),
            stream("a/n4/t", "live", 0),
            stream("plain", "live", 0),
        ];
        let g = groups(s.iter());
        let seen: Vec<(&str, &str, u64, u64, u64)> = g
            .iter()
            .map(|g| (g.key.as_str(), g.status, g.streams, g.signals, g.stale))
            .collect();
        assert_eq!(
            seen,
            [
                ("a/n3/d", "signal", 2, 1, 1),
                ("a/n2/d", "stale", 1, 0, 1),
                ("", "live", 1, 0, 0),
                ("a/n1/d", "live", 2, 0, 0),
                ("a/n4", "live", 1, 0, 0),
            ]
        );
    }

    #[test]
    fn only_the_asked_window_is_written_and_open_groups_list_their_streams() {
        // 100 groups of 20 streams: 100 rows closed; group g000 open adds 20.
        let mut list = Vec::new();
        for g in 0..100 {
            for m in 0..20 {
                list.push(stream(&format!("p/g{g:03}/m{m:02}"), "live", 0));
            }
        }
        let streams = all(&list);
        let mut view = View {
            ask: Ask {
                from: 0,
                count: 5,
                ..Ask::default()
            },
            ..View::default()
        };
        let shown = view.show(&streams, 0, &|_| None);
        assert_eq!((shown.total, shown.groups), (100, [100, 0, 0]));
        assert_eq!(
            shown.html.matches("data-testid=\"stream-group\"").count(),
            5
        );
        view.ask.open.insert("p/g001".into());
        view.ask.from = 2;
        view.ask.count = 10;
        let shown = view.show(&streams, 0, &|_| None);
        assert_eq!(shown.total, 120);
        // Rows 2..12: g001's 20 streams start at row 2 (g000, g001, then its streams).
        assert_eq!(
            shown.html.matches("data-testid=\"fleet-stream\"").count(),
            10
        );
        assert!(shown
            .html
            .starts_with("<div class=\"fleet-row fleet-stream"));
        assert!(shown.html.contains("data-stream=\"p/g001/m00\""));
        assert!(shown.html.contains("data-stream=\"p/g001/m09\""));
        assert!(!shown.html.contains("m10"));
        view.ask.from = 20;
        let shown = view.show(&streams, 0, &|_| None);
        assert!(shown.html.contains("data-stream=\"p/g001/m18\""));
        assert!(shown.html.contains("data-group=\"p/g002\""));
    }

    #[test]
    fn a_nodes_seq_gaps_show_on_its_groups_and_names_are_escaped() {
        let streams = all(&[stream("g/n1/d<1>/t", "live", 0)]);
        let nodes = BTreeMap::from([(
            "g/n1".to_string(),
            NodeUpdate {
                id: "g/n1".into(),
                state: "online",
                seq_gaps: 2,
                ..NodeUpdate::default()
            },
        )]);
        let mut view = View::default();
        view.ask.count = 10;
        let html = view.show(&streams, 0, &|id| nodes.get(id)).html;
        assert!(html.contains("2 seq gaps"), "{html}");
        assert!(
            html.contains("g/n1/d&lt;1&gt;") && !html.contains("<1>"),
            "{html}"
        );
    }

    #[test]
    fn a_stale_groups_row_says_why_after_its_node() {
        let mut s = stream("g/n1/d/t", "stale", 0);
        s.reason = Some("silent since 05:32:00 UTC <x>".into());
        let streams = all(&[s, stream("g/n2/d/t", "live", 0)]);
        let mut view = View::default();
        view.ask.count = 10;
        let html = view.show(&streams, 0, &|_| None).html;
        assert!(
            html.contains(
                "1 stale · <span class=\"fleet-why\">silent since 05:32:00 UTC &lt;x&gt;</span>"
            ),
            "{html}"
        );
        assert_eq!(
            html.matches("fleet-why").count(),
            1,
            "not on the live group"
        );
    }

    #[test]
    fn a_watched_streams_chart_has_its_points_and_limits() {
        let mut s = stream("p/m/t", "live", 1);
        (s.lcl, s.ucl) = (Some(0.0), Some(10.0));
        let streams = all(&[s]);
        let mut view = View::default();
        view.ask.chart = Some("p/m/t".into());
        let points = BTreeMap::from([("p/m/t".to_string(), vec![[0.0, 5.0], [1.0, 12.0]])]);
        view.keep(&points);
        let chart = view.show(&streams, 0, &|_| None).chart;
        assert!(chart.contains("data-points=\"2\""), "{chart}");
        assert_eq!(chart.matches("class=\"limit\"").count(), 2);
        assert_eq!(
            chart.matches("class=\"signal\"").count(),
            1,
            "12 is above 10"
        );
    }
}
