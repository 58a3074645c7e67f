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
//! - The dashboard forecasts every stream in turn, in the background, at most every 10 s
//!   ([`start`]); the stream view its own stream, with the band and a step back, every 3 s.
//! - Every text is HTML written by the module (`llmscope_app_lazy::forecast::html` and
//!   `words`: the header, the card's line, the list's rows, the band as inline SVG, the
//!   `.ics` event, RFC 5545), with one click handler each for the header and the list, and
//!   the forecasts kept in plain data with one version signal: the site's main wasm has a
//!   size budget (docs/benchmarks.md, "The forecast in the site").

use super::context::{data, nav};
use super::timing::now_ms;
use crate::export::download;
use crate::model::{Session, Stream};
use crate::sources::import::sleep;
use leptos::prelude::*;
use llmscope_app_lazy::forecast::{Request, Shown, CLOCK, MAX_POINTS};
use llmscope_app_lazy::text::esc;
use llmscope_spc::forecast::degradation::MIN_WINDOW;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;

/// The horizon in points when the stream's times are row numbers.
const HORIZON_POINTS: u64 = 100;
/// The stream view forecasts its stream at most this often (ms).
const STREAM_EVERY: f64 = 3_000.0;

thread_local! {
    /// Every stream's latest forecast as shown (by id), made by [`start`]'s forecaster: the
    /// cards' lines and the maintenance list read it. Plain data, not a signal: [`VERSION`] tells when it
    /// changed (one signal type fewer in the site's wasm).
    static SHOWN: RefCell<Vec<(String, Shown)>> = const { RefCell::new(Vec::new()) };
    /// Bumped when [`SHOWN`] changes; made by the dashboard.
    static VERSION: Cell<Option<RwSignal<u32>>> = const { Cell::new(None) };
}

/// The dashboard forecasts every stream at most this often (ms): in the second module, in
/// the background, one stream after the other, so many streams never stall the page.
const CARDS_EVERY: f64 = 10_000.0;

/// Starts the dashboard's forecasts (the cards' lines, the list): every stream's, again when
/// the session changes (at most every [`CARDS_EVERY`] ms), while the dashboard is shown.
pub(super) fn start(session: ReadSignal<Session>) {
    SHOWN.with_borrow_mut(Vec::clear);
    let version = RwSignal::new(0u32);
    VERSION.set(Some(version));
    let job: Job = Rc::new(move || {
        let asks: Vec<(String, Option<Request>)> = session.try_with_untracked(|s| {
            let ask = |st: &Stream| prepare(st, false).ok().map(|p| p.0);
            s.streams
                .iter()
                .map(|st| (st.id.clone(), ask(st)))
                .collect()
        })?;
        Some(Box::pin(async move {
            let mut all = Vec::new();
            for (id, ask) in asks {
                if let Some(request) = ask {
                    all.extend(crate::lazy::forecast(&request).await.ok().map(|o| (id, o)));
                }
            }
            SHOWN.set(all);
            version.try_update(|n| *n += 1);
        }))
    });
    let throttle = Throttle::new(CARDS_EVERY);
    Effect::new(move |_| {
        session.track();
        throttle.ask(&job);
    });
}

/// `f` of every shown forecast, tracking their changes.
fn shown<R>(f: impl FnOnce(&[(String, Shown)]) -> R) -> R {
    if let Some(v) = VERSION.get() {
        v.try_get();
    }
    SHOWN.with_borrow(|all| f(all))
}

/// A card's "due in" line (HTML from the module; empty when nothing is due).
pub(super) fn card_line(id: &str) -> String {
    shown(|all| {
        all.iter()
            .find(|(k, _)| k == id)
            .map(|(_, o)| o.card.clone())
            .unwrap_or_default()
    })
}

/// A forecast to run: `None` when there is nothing to ask.
type Job = Rc<dyn Fn() -> Option<Pin<Box<dyn Future<Output = ()>>>>>;

/// Runs a [`Job`] at most every `every` ms, one at a time, and once more after the last ask
/// that had to wait (so the newest data are always forecast in the end).
#[derive(Clone)]
struct Throttle {
    /// The last start, whether one is running, whether a later run is scheduled.
    state: Rc<Cell<(f64, bool, bool)>>,
    every: f64,
}

impl Throttle {
    fn new(every: f64) -> Throttle {
        Throttle {
            state: Rc::new(Cell::new((f64::NEG_INFINITY, false, false))),
            every,
        }
    }

    /// Runs `job` now, or once when the wait is over.
    fn ask(&self, job: &Job) {
        let (last, busy, pending) = self.state.get();
        let wait = self.every - (now_ms() - last);
        let me = self.clone();
        let task: Pin<Box<dyn Future<Output = ()>>> = if busy || wait > 0.0 {
            if pending {
                return;
            }
            self.state.set((last, busy, true));
            let job = job.clone();
            Box::pin(async move {
                sleep(Duration::from_millis(wait.max(250.0) as u64)).await;
                let (last, busy, _) = me.state.get();
                me.state.set((last, busy, false));
                me.ask(&job);
            })
        } else {
            let Some(run) = job() else { return };
            self.state.set((now_ms(), true, pending));
            Box::pin(async move {
                run.await;
                let (last, _, pending) = me.state.get();
                me.state.set((last, false, pending));
            })
        };
        spawn_local(task);
    }
}

/// The first point the forecast reads: the first at or after the last maintenance (a
/// "Maintained" click, or a confirmed step back), and at most the newest [`MAX_POINTS`]
/// (all the module reads).
fn window_start(stream: &Stream) -> usize {
    let cut = stream.settings.maintained.unwrap_or(f64::NEG_INFINITY);
    let s = &stream.samples;
    let newest = s.len().saturating_sub(MAX_POINTS);
    newest.max(s.iter().position(|p| p.t >= cut).unwrap_or(s.len()))
}

/// What to ask about `stream`, with `band` steps of band (and a step back looked for), and the
/// first point sent ([`window_start`]); an error says why it cannot be forecast.
fn prepare(stream: &Stream, band: bool) -> Result<(Request, usize), String> {
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
        product: crate::brand::name(),
        control,
        now: js_sys::Date::now(),
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

/// " · maintained 14:02" when the stream's last maintenance has a clock time.
fn maintained_at(stream: &Stream) -> String {
    match stream.settings.maintained {
        Some(t) if t >= CLOCK => format!(" · maintained {}", super::timing::clock(t)),
        _ => String::new(),
    }
}

/// The element an event happened on.
fn target(ev: &leptos::ev::MouseEvent) -> Option<web_sys::Element> {
    ev.target()?.dyn_into().ok()
}

/// The stream view's forecast: its header (the time to limit, a step back to confirm, the
/// last maintenance) and its band chart, both HTML text from the second module.
pub(super) fn stream_outlook(
    id: String,
    stream: Memo<Option<Stream>>,
) -> (impl IntoView, impl IntoView) {
    let (d, nav) = (data(), nav());
    let forecasting = || "Time to limit: forecasting…".to_string();
    let (header, svg) = (RwSignal::new(forecasting()), RwSignal::new(String::new()));
    // The first point of the stream that the shown forecast read.
    let from = Rc::new(Cell::new(0usize));
    let failed = move |e: &str| {
        header.try_set(esc(&format!("Time to limit: {e}")));
        svg.try_set(String::new());
    };
    let sent = from.clone();
    let job: Job = Rc::new(move || {
        let prepared = stream
            .try_with_untracked(|s| s.as_ref().map(|s| prepare(s, true)))
            .flatten()?;
        let (request, first) = prepared.map_err(|e| failed(&e)).ok()?;
        let sent = sent.clone();
        Some(Box::pin(async move {
            match crate::lazy::forecast(&request).await {
                Ok(s) => {
                    sent.set(first);
                    header.try_set(s.header);
                    svg.try_set(s.svg);
                }
                Err(e) => failed(&e),
            }
        }))
    });
    let throttle = Throttle::new(STREAM_EVERY);
    Effect::new(move |_| {
        stream.track();
        throttle.ask(&job);
    });
    let text =
        move || header.get() + &stream.with(|s| s.as_ref().map(maintained_at).unwrap_or_default());
    // Confirming a step back: maintenance at its first point, and the limits estimated again
    // on the points after it.
    let confirm = move |ev: leptos::ev::MouseEvent| {
        let at = target(&ev)
            .and_then(|e| e.get_attribute("data-at"))
            .and_then(|a| a.parse::<usize>().ok());
        let Some(i) = at.map(|a| from.get() + a) else {
            return;
        };
        if nav.readonly.get_untracked().is_some() {
            return;
        }
        let mut said = None;
        d.session.update(|s| {
            let Some(st) = s.stream_mut(&id) else { return };
            let n = st.samples.len();
            let Some(t) = st.samples.get(i).map(|p| p.t) else {
                return;
            };
            st.settings.maintained = Some(t);
            st.settings.chart.phase1 = None;
            st.settings.chart.baseline_range = Some((i, n));
            said = Some(format!(
                "{id}: step back at point {i} confirmed; the forecast starts after it and the \
                 limits are re-baselined on points {i} to {}",
                n - 1
            ));
        });
        header.set(forecasting());
        svg.set(String::new());
        d.notice.set(said);
    };
    (
        view! { <p class="forecast" data-testid="time-to-limit" on:click=confirm inner_html=text></p> },
        view! { <div class="band" data-testid="forecast-chart" inner_html=move || svg.get()></div> },
    )
}

/// The maintenance list: its rows (from the module), soonest first.
fn rows(all: &[(String, Shown)]) -> String {
    let mut due: Vec<(&str, f64)> = Vec::new();
    for (_, o) in all.iter().filter(|(_, o)| !o.row.is_empty()) {
        let at = o.due_at.unwrap_or(f64::INFINITY);
        // Soonest first (an insertion: the list is short).
        let i = due.iter().position(|d| d.1 > at).unwrap_or(due.len());
        due.insert(i, (&o.row, at));
    }
    let head = "<h2>Maintenance (by due date)</h2>";
    if due.is_empty() {
        return format!(
            "{head}<p class=\"empty\">No stream is forecast to reach a limit within 24 hours.</p>"
        );
    }
    due.iter()
        .fold(format!("{head}<ol>"), |out, (row, _)| out + row)
        + "</ol>"
}

/// The maintenance list: streams with a predicted crossing, soonest first, as HTML text with
/// one click handler for its buttons.
#[component]
pub(super) fn Maintenance() -> impl IntoView {
    let (d, nav) = (data(), nav());
    let html = move || shown(rows);
    let click = move |ev: leptos::ev::MouseEvent| {
        let Some(el) = target(&ev) else { return };
        let Some(id) = el
            .closest("[data-testid=maintenance-row]")
            .ok()
            .flatten()
            .and_then(|r| r.get_attribute("data-stream"))
        else {
            return;
        };
        match el.get_attribute("data-testid").as_deref() {
            Some("download-ics") => {
                let ics = shown(|all| {
                    let (_, o) = all.iter().find(|(k, _)| *k == id)?;
                    Some(o.ics.clone())
                });
                let file = format!("{}.ics", id.replace('/', "_"));
                download::download(&file, "text/calendar", &ics.unwrap_or_default());
            }
            Some("maintained") if nav.readonly.get_untracked().is_none() => {
                d.session.update(|s| {
                    if let Some(st) = s.stream_mut(&id) {
                        st.settings.maintained = Some(js_sys::Date::now());
                    }
                });
                d.notice.set(Some(format!("{id}: maintenance recorded")));
            }
            _ => {}
        }
    };
    view! {
        <section class="maintenance" aria-label="maintenance" data-testid="maintenance"
            on:click=click inner_html=html></section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maintenance_travels_with_the_stream_and_old_sessions_still_read() {
        let mut st = Stream::new("cnc1/spindle", "mm/s", crate::model::Origin::Simulator);
        st.settings.maintained = Some(1.7e12);
        let json = serde_json::to_value(&st).expect("a stream as JSON");
        assert_eq!(json["settings"]["maintained"], serde_json::json!(1.7e12));
        let back: Stream = serde_json::from_value(json.clone()).expect("read back");
        assert_eq!(back.settings.maintained, Some(1.7e12));
        let mut old = json;
        old["settings"]
            .as_object_mut()
            .expect("settings")
            .remove("maintained");
        let back: Stream = serde_json::from_value(old).expect("a session from before");
        assert_eq!(back.settings.maintained, None);
    }
}
