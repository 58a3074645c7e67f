//! See it coming (issue 14) in the dashboard: a stream's forecast, made in the second module
//! (`crate::lazy::forecast`, the engine's `llmscope_spc::forecast`); the stream view's header
//! and band; the maintenance list (streams by due date, each an iCalendar event,
//! "Maintained").
//!
//! - The limits: the stream's spec limits when it has one, else its individuals chart's
//!   control limits (as `llmscope-shim forecast` picks them).
//! - Points become time with the stream's median sampling interval; the horizon is 24 hours
//!   of points (100 points when the stream's times are not clock times).
//! - Maintenance restarts the forecast: it reads the points from the last one ("Maintained",
//!   or a step back the user confirmed; a confirmed step back also re-baselines the limits on
//!   the points after it).
//! - Every text is HTML written by the module (`llmscope_app_lazy::forecast::html` and
//!   `words`: the header, the card's line, the band as inline SVG, the `.ics` event, RFC
//!   5545), but the list's rows, with one click handler each for the header and the list:
//!   the site's main wasm has a size budget.

use super::context::{data, nav};
use super::timing::now_ms;
use crate::export::download;
use crate::model::Stream;
use leptos::prelude::*;
use llmscope_app_lazy::forecast::{Reply, Request, CLOCK};
use llmscope_app_lazy::text::esc;
use llmscope_spc::forecast::degradation::MIN_WINDOW;
use std::fmt::Write;
use wasm_bindgen::JsCast;

/// The horizon in points when the stream's times are row numbers.
const HORIZON_POINTS: u64 = 100;
/// The stream view forecasts its stream at most this often (ms).
const STREAM_EVERY: f64 = 3_000.0;

/// A stream's forecast as the views show it: the module's reply, with its words.
pub(super) type Outlook = Reply;

/// Every stream's latest forecast (by id), made by the cards; the maintenance list reads it.
#[derive(Clone, Copy)]
pub(super) struct Forecasts(pub RwSignal<Vec<(String, Outlook)>>);

impl Forecasts {
    /// Puts `id`'s forecast in (or takes it out: `None`); nothing when the dashboard is gone.
    pub fn put(self, id: &str, outlook: Option<Outlook>) {
        self.0.try_update(|all| {
            all.retain(|(k, _)| k != id);
            all.extend(outlook.map(|o| (id.to_string(), o)));
        });
    }
}

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

/// The first point the forecast reads: the first at or after the last maintenance (a
/// "Maintained" click, or a confirmed step back), else 0.
pub(super) fn window_start(stream: &Stream) -> usize {
    let cut = stream
        .settings
        .maintained
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    (stream.samples.iter().position(|s| s.t >= cut)).unwrap_or(stream.samples.len())
}

/// What to ask about `stream`, with `band` steps of band (and a step back looked for), and the
/// first point sent ([`window_start`]); an error says why it cannot be forecast.
pub(super) fn prepare(stream: &Stream, band: bool) -> Result<(Request, usize), String> {
    let from = window_start(stream);
    let samples = &stream.samples[from..];
    // Too few points is said here, without loading the second module.
    let n = samples.len();
    if n < MIN_WINDOW {
        let since = if from > 0 {
            " since the maintenance"
        } else {
            ""
        };
        return Err(format!(
            "not enough data ({n} points{since}; a forecast needs {MIN_WINDOW})"
        ));
    }
    let set = &stream.settings;
    let (control, lower, upper) = if set.lsl.is_some() || set.usl.is_some() {
        (false, set.lsl, set.usl)
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
        (true, p.lcl, p.ucl)
    };
    let request = Request {
        name: stream.id.clone(),
        control,
        now: now_ms(),
        values: samples.iter().map(|s| s.value).collect(),
        times: samples[n.saturating_sub(1001)..]
            .iter()
            .map(|s| s.t)
            .collect(),
        lower,
        upper,
        horizon: HORIZON_POINTS,
        band: if band {
            (n as u64 / 3).clamp(30, 1000)
        } else {
            0
        },
    };
    Ok((request, from))
}

/// The forecast of `request`, made by the second module.
pub(super) async fn run(request: Request) -> Result<Outlook, String> {
    crate::lazy::forecast(&request).await
}

/// " · maintained 14:02" when the stream's last maintenance has a clock time.
fn maintained_at(stream: &Stream) -> String {
    let last = stream
        .settings
        .maintained
        .iter()
        .copied()
        .fold(0.0, f64::max);
    if last >= CLOCK {
        format!(" · maintained {}", super::timing::clock(last))
    } else {
        String::new()
    }
}

/// Records maintenance of stream `id` at `t` (epoch ms): the forecast starts again at it.
fn maintain(s: &mut crate::model::Session, id: &str, t: f64) -> Option<()> {
    let m = &mut s.stream_mut(id)?.settings.maintained;
    // Kept oldest first (an insertion: the list is short).
    let i = m.iter().position(|x| *x > t).unwrap_or(m.len());
    m.insert(i, t);
    Some(())
}

/// The stream view's forecast: its header (the time to limit, a step back to confirm, the
/// last maintenance) and its band chart, both HTML text from the second module.
pub(super) fn stream_outlook(
    id: String,
    stream: Memo<Option<Stream>>,
) -> (impl IntoView, impl IntoView) {
    let (d, nav) = (data(), nav());
    // The reply, with the first point that was sent.
    let outlook = RwSignal::new(None::<Result<(Outlook, usize), String>>);
    let throttle = Throttle::new(STREAM_EVERY);
    Effect::new(move |_| {
        stream.track();
        throttle.ask(move || {
            let prepared = stream.with_untracked(|s| s.as_ref().map(|s| prepare(s, true)))?;
            match prepared {
                Err(e) => {
                    outlook.try_set(Some(Err(e)));
                    None
                }
                Ok((p, from)) => Some(async move {
                    let made = run(p).await.map(|o| (o, from));
                    outlook.try_set(Some(made));
                }),
            }
        });
    });
    let header = move || {
        let words = outlook.with(|o| match o {
            None => "Time to limit: forecasting…".to_string(),
            Some(Ok((o, _))) => o.header.clone(),
            Some(Err(e)) => esc(&format!("Time to limit: {e}")),
        });
        words + &stream.with(|s| s.as_ref().map(maintained_at).unwrap_or_default())
    };
    // Confirming a step back: maintenance at its first point, and the limits estimated again
    // on the points after it.
    let confirm = move |ev: leptos::ev::MouseEvent| {
        let at = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.get_attribute("data-at"))
            .and_then(|a| a.parse::<usize>().ok());
        let from =
            outlook.with_untracked(|o| o.as_ref().and_then(|o| o.as_ref().ok()).map(|o| o.1));
        let (Some(at), Some(from)) = (at, from) else {
            return;
        };
        if nav.readonly.get_untracked().is_some() {
            return;
        }
        let mut said = None;
        d.session.update(|s| {
            let Some(st) = s.stream(&id) else { return };
            let (i, n) = (from + at, st.samples.len());
            let Some(t) = st.samples.get(i).map(|p| p.t) else {
                return;
            };
            maintain(s, &id, t);
            if let Some(st) = s.stream_mut(&id) {
                st.settings.chart.phase1 = None;
                st.settings.chart.baseline_range = Some((i, n));
            }
            said = Some(format!(
                "{id}: step back at point {i} confirmed; the forecast starts after it and the \
                 limits are re-baselined on points {i} to {}",
                n - 1
            ));
        });
        outlook.set(None);
        d.notice.set(said);
    };
    let svg = move || {
        outlook.with(|o| {
            o.as_ref()
                .and_then(|o| o.as_ref().ok())
                .map(|o| o.0.svg.clone())
        })
    };
    (
        view! { <p class="forecast" data-testid="time-to-limit" on:click=confirm inner_html=header></p> },
        view! { <div class="band" data-testid="forecast-chart" inner_html=svg></div> },
    )
}

/// The maintenance list's rows: streams with a predicted crossing, soonest first.
fn rows(s: &crate::model::Session, all: &[(String, Outlook)]) -> String {
    let mut due: Vec<(&str, &Outlook, f64)> = Vec::new();
    for (id, o) in all {
        let Some(at) = o.due_at.filter(|_| o.ics.is_some()) else {
            continue;
        };
        // Soonest first (an insertion: the list is short).
        let i = due.iter().position(|d| d.2 > at).unwrap_or(due.len());
        due.insert(i, (id, o, at));
    }
    if due.is_empty() {
        return "<p class=\"empty\">No stream is forecast to reach a limit within 24 hours.</p>"
            .into();
    }
    let mut out = String::from("<ol>");
    for (id, o, at) in due {
        let (id, when) = (esc(id), super::timing::clock(at));
        let done = s.stream(id.as_str()).map(maintained_at).unwrap_or_default();
        let _ = write!(
            out,
            "<li data-testid=\"maintenance-row\" data-stream=\"{id}\"><strong>{id}</strong> {} · \
             {when}{done} <button data-testid=\"download-ics\">Download .ics</button>\
             <button data-testid=\"maintained\">Maintained</button></li>",
            esc(o.due_in.as_deref().unwrap_or_default())
        );
    }
    out + "</ol>"
}

/// The maintenance list: streams with a predicted crossing, soonest first, as HTML text with
/// one click handler for its buttons.
#[component]
pub(super) fn Maintenance(forecasts: Forecasts) -> impl IntoView {
    let (d, nav) = (data(), nav());
    let html = move || forecasts.0.with(|all| d.session.with(|s| rows(s, all)));
    let click = move |ev: leptos::ev::MouseEvent| {
        let Some(el) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let Some(id) = el
            .closest("[data-testid=maintenance-row]")
            .ok()
            .flatten()
            .and_then(|r| r.get_attribute("data-stream"))
        else {
            return;
        };
        match el.get_attribute("data-testid").as_deref() {
            Some("download-ics") => forecasts.0.with_untracked(|all| {
                if let Some((_, o)) = all.iter().find(|(k, _)| *k == id) {
                    let text = o.ics.as_deref().unwrap_or_default();
                    download::download(
                        &format!("{}.ics", id.replace('/', "_")),
                        "text/calendar",
                        text,
                    );
                }
            }),
            Some("maintained") if nav.readonly.get_untracked().is_none() => {
                d.session.update(|s| {
                    maintain(s, &id, now_ms());
                });
                d.notice.set(Some(format!("{id}: maintenance recorded")));
            }
            _ => {}
        }
    };
    view! {
        <section class="maintenance" aria-label="maintenance" data-testid="maintenance" on:click=click>
            <h2>"Maintenance (by due date)"</h2>
            <div inner_html=html></div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maintenance_travels_with_the_stream_and_old_sessions_still_read() {
        let mut st = Stream::new("cnc1/spindle", "mm/s", crate::model::Origin::Simulator);
        st.settings.maintained.push(1.7e12);
        let json = serde_json::to_value(&st).expect("a stream as JSON");
        assert_eq!(json["settings"]["maintained"], serde_json::json!([1.7e12]));
        let back: Stream = serde_json::from_value(json.clone()).expect("read back");
        assert_eq!(back.settings.maintained, [1.7e12]);
        let mut old = json;
        old["settings"]
            .as_object_mut()
            .expect("settings")
            .remove("maintained");
        let back: Stream = serde_json::from_value(old).expect("a session from before");
        assert!(back.settings.maintained.is_empty());
    }
}
