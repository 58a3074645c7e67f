//! See it coming (issue 14) in the dashboard: a stream's forecast, made in the second module
//! (`crate::lazy::forecast`, the engine's `llmscope_spc::forecast`), in words; the
//! maintenance list (streams by due date, each an iCalendar event, "Maintained").
//!
//! - The limits: the stream's spec limits when it has one, else its individuals chart's
//!   control limits (as `llmscope-shim forecast` picks them).
//! - Points become time with the stream's median sampling interval; the horizon is 24 hours
//!   of points (100 points when the stream's times are not clock times).
//! - The `.ics` file follows RFC 5545: CRLF line endings, lines folded at 75 octets, text
//!   escaped (§3.1, §3.3.11), times in UTC.

use super::context::{data, nav};
use super::timing::now_ms;
use crate::export::download;
use crate::export::report::fmt;
use crate::model::Stream;
use leptos::prelude::*;
use llmscope_app_lazy::forecast::{Reply, Request};
use std::collections::BTreeMap;
use wasm_bindgen::JsCast;

/// The horizon in time: the default H.
const HORIZON_SECS: f64 = 86_400.0;
/// The horizon in points when the stream's times are row numbers.
const HORIZON_POINTS: u64 = 100;
/// Epoch ms after which a time is a clock time (2001), not a row number.
const CLOCK: f64 = 1e12;

/// Which limits a forecast is held against.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Kind {
    /// LSL/USL (or SLO).
    Spec,
    /// LCL/UCL of the individuals chart.
    Control,
}

/// A forecast request with what turns its answer into words.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Prepared {
    request: Request,
    kind: Kind,
    /// Seconds per point (the median interval), when the times are clock times.
    interval: Option<f64>,
    /// The last sample's time (epoch ms), when a clock time.
    last: Option<f64>,
}

/// A stream's forecast as the views show it.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Outlook {
    /// The module's answer.
    pub reply: Reply,
    kind: Kind,
    interval: Option<f64>,
    last: Option<f64>,
}

/// Every stream's latest forecast (by id), made by the cards; the maintenance list reads it.
#[derive(Clone, Copy)]
pub(super) struct Forecasts(pub RwSignal<BTreeMap<String, Outlook>>);

/// Runs forecasts at most every `every` ms, one at a time, and once more after the last ask
/// that had to wait (so the newest data are always forecast in the end).
#[derive(Clone, Copy)]
pub(super) struct Throttle {
    /// The last start, whether one is running, whether a later run is scheduled.
    state: StoredValue<(f64, bool, bool)>,
    every: f64,
}

impl Throttle {
    pub fn new(every: f64) -> Throttle {
        Throttle {
            state: StoredValue::new((f64::NEG_INFINITY, false, false)),
            every,
        }
    }

    /// Runs `job`'s future now, or schedules one run for when the wait is over.
    pub fn ask<F, Fut>(self, job: F)
    where
        F: Fn() -> Option<Fut> + Clone + 'static,
        Fut: std::future::Future<Output = ()> + 'static,
    {
        let Some((last, busy, pending)) = self.state.try_get_value() else {
            return; // its view is gone
        };
        let wait = self.every - (now_ms() - last);
        if busy || wait > 0.0 {
            if !pending {
                self.state.update_value(|s| s.2 = true);
                later(wait.max(250.0), move || {
                    if self.state.try_update_value(|s| s.2 = false).is_some() {
                        self.ask(job);
                    }
                });
            }
            return;
        }
        let Some(run) = job() else { return };
        self.state.update_value(|s| (s.0, s.1) = (now_ms(), true));
        wasm_bindgen_futures::spawn_local(async move {
            run.await;
            self.state.try_update_value(|s| s.1 = false);
        });
    }
}

/// Calls `f` after `ms` milliseconds.
fn later(ms: f64, f: impl FnOnce() + 'static) {
    let f = wasm_bindgen::closure::Closure::once_into_js(f);
    if let Some(w) = web_sys::window() {
        let _ =
            w.set_timeout_with_callback_and_timeout_and_arguments_0(f.unchecked_ref(), ms as i32);
    }
}

/// The median of the intervals between the newest samples, in seconds, when their times are
/// clock times.
fn interval(stream: &Stream) -> Option<f64> {
    let s = &stream.samples[stream.samples.len().saturating_sub(1001)..];
    if s.first()?.t < CLOCK {
        return None;
    }
    let mut gaps: Vec<f64> = s.windows(2).map(|w| (w[1].t - w[0].t) / 1000.0).collect();
    gaps.retain(|g| g.is_finite() && *g > 0.0);
    gaps.sort_by(f64::total_cmp);
    gaps.get(gaps.len() / 2).copied()
}

/// What to ask about `stream`, with `band` steps of band; an error says why it cannot be
/// forecast.
pub(super) fn prepare(stream: &Stream, band: bool) -> Result<Prepared, String> {
    let set = &stream.settings;
    let (kind, lower, upper) = if set.lsl.is_some() || set.usl.is_some() {
        (Kind::Spec, set.lsl, set.usl)
    } else {
        let state = stream.chart_state();
        let ch = state
            .ready()
            .filter(|ch| {
                ch.spec.chart.primary_kind() == llmscope_spc::ChartKind::Individuals
                    && ch.estimate.transform.name() == "none"
            })
            .ok_or("no time to limit: set a spec limit or SLO below")?;
        let p = ch.primary.points().last().ok_or("no points yet")?;
        (Kind::Control, p.lcl, p.ucl)
    };
    let interval = interval(stream);
    let horizon = interval.map_or(HORIZON_POINTS, |i| (HORIZON_SECS / i).ceil() as u64);
    let n = stream.samples.len() as u64;
    let last = stream.samples.last().map(|s| s.t).filter(|t| *t >= CLOCK);
    Ok(Prepared {
        request: Request {
            values: stream.values(),
            lower,
            upper,
            horizon,
            band: if band {
                horizon.min((n / 3).clamp(30, 1000))
            } else {
                0
            },
        },
        kind,
        interval,
        last,
    })
}

/// The forecast of `p`, made by the second module.
pub(super) async fn run(p: Prepared) -> Result<Outlook, String> {
    let reply = crate::lazy::forecast(&p.request).await?;
    Ok(Outlook {
        reply,
        kind: p.kind,
        interval: p.interval,
        last: p.last,
    })
}

/// A span of time in words: seconds, minutes, hours or days, rounded for reading.
fn span(secs: f64) -> (String, &'static str) {
    let (v, unit) = match secs {
        s if s < 90.0 => (s, "s"),
        s if s < 5400.0 => (s / 60.0, "min"),
        s if s < 172_800.0 => (s / 3600.0, "h"),
        s => (s / 86_400.0, "d"),
    };
    let v = if v < 10.0 {
        (v * 10.0).round() / 10.0
    } else {
        v.round()
    };
    (format!("{v}"), unit)
}

impl Outlook {
    /// "USL 4.5", the limit it heads for.
    fn limit(&self) -> Option<String> {
        let (up, v) = self.reply.limit?;
        let name = match (self.kind, up) {
            (Kind::Spec, true) => "USL",
            (Kind::Spec, false) => "LSL",
            (Kind::Control, true) => "UCL",
            (Kind::Control, false) => "LCL",
        };
        Some(format!("{name} {}", fmt(v)))
    }

    /// The limit it heads for, its value and its name ("USL 4.5"), for drawing.
    pub fn limit_value(&self) -> Option<(f64, String)> {
        Some((self.reply.limit?.1, self.limit()?))
    }

    /// `points` after the last point in words: "4 h", or "120 points".
    fn after(&self, points: f64) -> String {
        match self.interval {
            Some(i) => {
                let (v, u) = span(points * i);
                format!("{v} {u}")
            }
            None => format!("{} points", points.round()),
        }
    }

    /// The 80% interval in words: "3–6 h" (one unit when both ends share it).
    fn range80(&self) -> String {
        let c = self.reply.crossing;
        let lo = c[1].map_or("now".into(), |x| self.after(x));
        let hi = c[2].map_or("beyond the horizon".into(), |x| self.after(x));
        match (lo.split_once(' '), hi.split_once(' ')) {
            (Some((a, u)), Some((b, w))) if u == w => format!("{a}–{b} {u}"),
            _ => format!("{lo} to {hi}"),
        }
    }

    /// The time to limit as the stream view's header says it.
    pub fn words(&self) -> String {
        let r = &self.reply;
        if !r.enough {
            return format!("Time to limit: not enough data ({} points).", r.n);
        }
        let Some(limit) = self.limit() else {
            return "Time to limit: not within the horizon (heading to no limit).".into();
        };
        match r.crossing[0] {
            Some(m) => format!(
                "Reaches {limit} in about {} (80%: {}){}.",
                self.after(m),
                self.range80(),
                if r.detected {
                    ""
                } else {
                    "; no degradation detected"
                }
            ),
            None => format!("Time to limit: {limit} not within the horizon."),
        }
    }

    /// The card's line: "due in about 4 h", when a degradation heads to a limit within the
    /// horizon.
    pub fn due_in(&self) -> Option<String> {
        let m = self.reply.crossing[0].filter(|_| self.reply.detected)?;
        Some(format!(
            "due in about {} ({})",
            self.after(m),
            self.limit()?
        ))
    }

    /// When the median crossing falls (epoch ms), with the 80% ends.
    fn due_at(&self) -> Option<(f64, Option<f64>, Option<f64>)> {
        self.due_in()?;
        let (last, i) = (self.last?, self.interval?);
        let at = |p: f64| last + p * i * 1000.0;
        let c = self.reply.crossing;
        Some((at(c[0]?), c[1].map(at), c[2].map(at)))
    }
}

/// `t` (epoch ms) as an iCalendar UTC date-time, `YYYYMMDDTHHMMSSZ` (civil from days:
/// H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
fn utc(t: f64) -> String {
    let secs = (t / 1000.0).floor() as i64;
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, mi, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    format!("{y:04}{m:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// Text as an iCalendar TEXT value (RFC 5545 §3.3.11).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | ';' | ',' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// A content line folded at 75 octets (RFC 5545 §3.1), never inside a character, with CRLF.
fn fold(line: &str, out: &mut String) {
    let mut used = 0;
    for c in line.chars() {
        if used + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += c.len_utf8();
    }
    out.push_str("\r\n");
}

/// The maintenance event of `stream` due at `due` (epoch ms, with the 80% ends), made at `now`.
fn ics(stream: &str, summary: &str, due: (f64, Option<f64>, Option<f64>), now: f64) -> String {
    let end = |t: Option<f64>, none: &str| t.map_or(none.to_string(), utc);
    let description = format!(
        "{summary}. Median crossing {}; 80% interval {} to {} (UTC). Forecast by LLMscope.",
        utc(due.0),
        end(due.1, "now"),
        end(due.2, "beyond the horizon")
    );
    let uid: String = stream
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let lines = [
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "PRODID:-//LLMscope//forecast//EN".into(),
        "BEGIN:VEVENT".into(),
        format!("UID:{uid}-{}@llmscope", due.0 as i64),
        format!("DTSTAMP:{}", utc(now)),
        format!("DTSTART:{}", utc(due.0)),
        format!("SUMMARY:{}", escape(&format!("Maintenance: {summary}"))),
        format!("DESCRIPTION:{}", escape(&description)),
        "END:VEVENT".into(),
        "END:VCALENDAR".into(),
    ];
    let mut out = String::new();
    for l in &lines {
        fold(l, &mut out);
    }
    out
}

/// The maintenance list: streams with a predicted crossing, soonest first.
#[component]
pub(super) fn Maintenance(forecasts: Forecasts) -> impl IntoView {
    let (d, nav) = (data(), nav());
    let rows = move || {
        let mut due: Vec<(String, Outlook, (f64, Option<f64>, Option<f64>))> =
            forecasts.0.with(|m| {
                m.iter()
                    .filter_map(|(id, o)| Some((id.clone(), o.clone(), o.due_at()?)))
                    .collect()
            });
        due.sort_by(|a, b| a.2 .0.total_cmp(&b.2 .0));
        due
    };
    let row = move |(id, o, at): (String, Outlook, (f64, Option<f64>, Option<f64>))| {
        let summary = format!("{id} reaches {}", o.limit().unwrap_or_default());
        let (name, mark_id) = (id.clone(), id.clone());
        let maintained = move || {
            d.session.with(|s| {
                let t = s.stream(&mark_id)?.settings.maintained.last().copied()?;
                Some(format!(" · maintained {}", super::timing::clock(t)))
            })
        };
        let mark = id.clone();
        let save = move |_| {
            if nav.readonly.get_untracked().is_some() {
                return;
            }
            d.session.update(|s| {
                if let Some(st) = s.stream_mut(&mark) {
                    st.settings.maintained.push(now_ms());
                }
            });
            d.notice.set(Some(format!("{mark}: maintenance recorded")));
        };
        let file = format!("{}.ics", id.replace('/', "_"));
        let text = ics(&id, &summary, at, now_ms());
        view! {
            <li data-testid="maintenance-row" data-stream=id.clone()>
                <strong>{name}</strong>
                {format!(" {} · {}", o.due_in().unwrap_or_default(), super::timing::clock(at.0))}
                {maintained}
                " "
                <button data-testid="download-ics"
                    on:click=move |_| download::download(&file, "text/calendar", &text)>"Download .ics"</button>
                <button data-testid="maintained" on:click=save>"Maintained"</button>
            </li>
        }
    };
    view! {
        <section class="maintenance" aria-label="maintenance" data-testid="maintenance">
            <h2>"Maintenance (by due date)"</h2>
            {move || {
                let rows = rows();
                if rows.is_empty() {
                    view! { <p class="empty">"No stream is forecast to reach a limit within 24 hours."</p> }.into_any()
                } else {
                    view! { <ol>{rows.into_iter().map(row).collect::<Vec<_>>()}</ol> }.into_any()
                }
            }}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_match_known_instants() {
        assert_eq!(utc(0.0), "19700101T000000Z");
        // 2000-02-29 12:34:56 UTC (a leap day).
        assert_eq!(utc(951_827_696_000.0), "20000229T123456Z");
        // 2026-12-31 23:59:59 UTC.
        assert_eq!(utc(1_798_761_599_000.0), "20261231T235959Z");
    }

    #[test]
    fn an_event_has_crlf_lines_of_at_most_75_octets_and_escaped_text() {
        let name = "cnc1/spindle_vibration; the long name, with a comma and ünïcödé".repeat(2);
        let text = ics(
            &name,
            &format!("{name} reaches USL 4.5"),
            (1.8e12, Some(1.79e12), None),
            1.7e12,
        );
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'));
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "{line:?}");
        }
        // Unfolded, the summary reads back with its specials escaped.
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded
            .contains("SUMMARY:Maintenance: cnc1/spindle_vibration\\; the long name\\, with"));
        assert!(unfolded.contains("DTSTART:20270115T080000Z"));
        for key in [
            "UID:",
            "DTSTAMP:20231114T221320Z",
            "DESCRIPTION:",
            "BEGIN:VEVENT",
            "END:VEVENT",
        ] {
            assert!(unfolded.contains(key), "{key}");
        }
    }

    fn outlook(crossing: [Option<f64>; 5], interval: Option<f64>) -> Outlook {
        Outlook {
            reply: Reply {
                n: 500,
                enough: true,
                detected: true,
                limit: Some((true, 80.0)),
                crossing,
                alert: true,
                band: Vec::new(),
            },
            kind: Kind::Spec,
            interval,
            last: Some(1.7e12),
        }
    }

    #[test]
    fn the_time_to_limit_reads_in_hours_with_its_80_percent_interval() {
        // 1 point a minute: 240 points are 4 h.
        let o = outlook(
            [Some(240.0), Some(180.0), Some(360.0), Some(150.0), None],
            Some(60.0),
        );
        assert_eq!(
            o.words(),
            "Reaches USL 80.000 in about 4 h (80%: 3–6 h).".replace("80.000", &fmt(80.0))
        );
        assert_eq!(
            o.due_in().as_deref(),
            Some(&*format!("due in about 4 h (USL {})", fmt(80.0)))
        );
        assert_eq!(o.due_at().map(|d| d.0), Some(1.7e12 + 240.0 * 60_000.0));
        let far = outlook([None; 5], Some(60.0));
        assert!(far.words().contains("not within the horizon"));
        assert_eq!(far.due_in(), None);
        let mut few = far.clone();
        few.reply.enough = false;
        assert!(few.words().contains("not enough data"));
        let rows = outlook([Some(12.0), Some(10.0), Some(15.0), None, None], None);
        assert!(
            rows.words().contains("12 points (80%: 10–15 points)"),
            "{}",
            rows.words()
        );
    }
}
