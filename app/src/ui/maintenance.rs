//! See it coming (issue 14) in the dashboard: a stream's forecast, made in the second module
//! (`crate::lazy::forecast`, the engine's `llmscope_spc::forecast`), in words; the
//! maintenance list (streams by due date, each an iCalendar event, "Maintained").
//!
//! - The limits: the stream's spec limits when it has one, else its individuals chart's
//!   control limits (as `llmscope-shim forecast` picks them).
//! - Points become time with the stream's median sampling interval; the horizon is 24 hours
//!   of points (100 points when the stream's times are not clock times).
//! - The words and the `.ics` event (RFC 5545) are written by the module too
//!   (`llmscope_app_lazy::forecast::words`): the site's main wasm has a size budget.

use super::context::{data, nav};
use super::timing::now_ms;
use crate::export::download;
use crate::model::Stream;
use leptos::prelude::*;
use llmscope_app_lazy::forecast::{Reply, Request};
use llmscope_spc::forecast::degradation::MIN_WINDOW;
use wasm_bindgen::JsCast;

/// The horizon in points when the stream's times are row numbers.
const HORIZON_POINTS: u64 = 100;

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

/// What to ask about `stream`, with `band` steps of band; an error says why it cannot be
/// forecast.
pub(super) fn prepare(stream: &Stream, band: bool) -> Result<Request, String> {
    // Too few points is said here, without loading the second module.
    let n = stream.samples.len();
    if n < MIN_WINDOW {
        return Err(format!(
            "not enough data ({n} points; a forecast needs {MIN_WINDOW})"
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
    let n = stream.samples.len() as u64;
    Ok(Request {
        name: stream.id.clone(),
        control,
        now: now_ms(),
        values: stream.values(),
        times: stream.samples[stream.samples.len().saturating_sub(1001)..]
            .iter()
            .map(|s| s.t)
            .collect(),
        lower,
        upper,
        horizon: HORIZON_POINTS,
        band: if band { (n / 3).clamp(30, 1000) } else { 0 },
    })
}

/// The forecast of `request`, made by the second module.
pub(super) async fn run(request: Request) -> Result<Outlook, String> {
    crate::lazy::forecast(&request).await
}

/// The maintenance list: streams with a predicted crossing, soonest first.
#[component]
pub(super) fn Maintenance(forecasts: Forecasts) -> impl IntoView {
    let (d, nav) = (data(), nav());
    let rows = move || {
        let mut due: Vec<(String, Outlook, f64)> = Vec::new();
        forecasts.0.with(|all| {
            for (id, o) in all {
                let Some(at) = o.due_at.filter(|_| o.ics.is_some()) else {
                    continue;
                };
                // Soonest first (an insertion: the list is short).
                let i = due.iter().position(|d| d.2 > at).unwrap_or(due.len());
                due.insert(i, (id.clone(), o.clone(), at));
            }
        });
        due
    };
    let row = move |(id, o, at): (String, Outlook, f64)| {
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
        let text = o.ics.clone().unwrap_or_default();
        view! {
            <li data-testid="maintenance-row" data-stream=id.clone()>
                <strong>{name}</strong>
                {format!(" {} · {}", o.due_in.clone().unwrap_or_default(), super::timing::clock(at))}
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
