//! The stream view: the control chart (zoom, pan, drag a baseline, tooltip; pinch and drag on
//! touch), its companion, a histogram, the limits, capability and false-alarm rate, the
//! settings and the signals.

use super::context::{data, nav, theme};
use super::maintenance;
use super::settings::Settings;
use super::timing::{clock, now_ms, record_draw};
use super::touch::Touches;
use super::why::{episode_at, Why};
use crate::draw::{self, Palette};
use crate::export::download;
use crate::export::report::{fmt, value};
use crate::model::{ChartState, Stream};
use leptos::prelude::*;
use llmscope_spc::capability::SpecLimits;

/// The tooltip for the point under the pointer: index, time, value, limits, tests.
fn hover_text(
    ev: &leptos::ev::MouseEvent,
    mapping: draw::Mapping,
    chart: &Memo<Option<ChartState>>,
    stream: &Memo<Option<Stream>>,
) -> Option<(f64, f64, String)> {
    let (x, y) = (f64::from(ev.offset_x()), f64::from(ev.offset_y()));
    let index = mapping.index_at(x)?;
    chart.with_untracked(|ch| {
        let ch = ch.as_ref()?.ready()?;
        let p = ch.primary.point_at(index)?;
        let tests: Vec<String> = ch.primary.tests_at(index).map(|k| k.to_string()).collect();
        let (t, unit) = stream.with_untracked(|s| {
            let s = s.as_ref()?;
            Some((s.point_time(index), s.unit.clone()))
        })?;
        // A plain value is followed by its unit; a log or Box-Cox one carries it in parentheses.
        let after = if ch.estimate.transform == llmscope_spc::transform::Transform::Identity {
            format!(" {unit}")
        } else {
            String::new()
        };
        let when = t
            .filter(|t| *t > 1e11)
            .map_or(String::new(), |t| format!(" at {}", clock(t)));
        let signal = if tests.is_empty() {
            String::new()
        } else {
            format!(" · tests {}", tests.join(", "))
        };
        Some((
            x,
            y,
            format!(
                "point {index}{when}: {}{after} · limits {} to {}{signal}",
                value(ch, p.statistic, &unit),
                p.lcl.map_or("–".into(), |x| value(ch, x, &unit)),
                p.ucl.map_or("–".into(), |x| value(ch, x, &unit))
            ),
        ))
    })
}

/// The stream view.
#[component]
pub fn StreamView(id: String) -> impl IntoView {
    let (d, nav, theme) = (data(), nav(), theme());
    let key = id.clone();
    let stream = Memo::new(move |_| d.session.with(|s| s.stream(&key).cloned()));
    let chart = Memo::new(move |_| stream.with(|s| s.as_ref().map(Stream::chart_state)));
    let range = nav.range;
    let mapping = StoredValue::new(draw::Mapping::default());
    let drag = RwSignal::new(None::<usize>);
    let hover = RwSignal::new(None::<(f64, f64, String)>);
    let control = NodeRef::<leptos::html::Canvas>::new();
    let companion = NodeRef::<leptos::html::Canvas>::new();
    let histogram = NodeRef::<leptos::html::Canvas>::new();
    let episode = RwSignal::new(None::<(usize, usize)>);
    // A click on a flagged point selects its episode.
    let select_at = move |index: usize| {
        let found = stream.with_untracked(|s| {
            let s = s.as_ref()?;
            chart.with_untracked(|ch| episode_at(s, ch.as_ref()?, index))
        });
        if found.is_some() {
            episode.set(found);
        }
    };

    // The forecast (second module): its header and band, HTML text.
    let (forecast_header, forecast_band) = maintenance::stream_outlook(id.clone(), stream);

    Effect::new(move |_| {
        let palette = Palette::new(theme.dark.get());
        let unit = stream.with(|s| s.as_ref().map(|s| s.unit.clone()).unwrap_or_default());
        chart.with(|ch| {
            let Some(ch) = ch.as_ref().and_then(ChartState::ready) else {
                return;
            };
            let len = ch.primary.first_index() + ch.primary.len();
            let (a, b) = range.get().unwrap_or((0, len));
            let r = a.min(len.saturating_sub(1))..b.min(len).max(a + 1);
            let label = if ch.estimate.transform.name() == "none" {
                unit.clone()
            } else {
                format!("{}({unit})", ch.estimate.transform.name())
            };
            if let Some(el) = control.get() {
                let started = now_ms();
                if let Ok(m) = draw::series(&el, ch, &ch.primary, r.clone(), &label, true, palette)
                {
                    mapping.set_value(m);
                }
                record_draw(started, now_ms());
            }
            if let (Some(el), Some(second)) = (companion.get(), ch.companion.as_ref()) {
                let _ = draw::series(&el, ch, second, r, second.kind.name(), false, palette);
            }
            if let Some(el) = histogram.get() {
                let values: Vec<f64> = ch.primary.statistics().to_vec();
                let p = ch.primary.point(0);
                let mut marks = Vec::new();
                if let Some(p) = p {
                    marks.extend(p.lcl.map(|v| (v, "LCL")));
                    marks.extend(p.ucl.map(|v| (v, "UCL")));
                }
                // Spec limits are on the original scale; show them when the chart's scale is too.
                if ch.estimate.transform.name() == "none"
                    && ch.spec.chart.primary_kind() == llmscope_spc::ChartKind::Individuals
                {
                    let (lsl, usl) = stream.with_untracked(|s| {
                        s.as_ref()
                            .map_or((None, None), |s| (s.settings.lsl, s.settings.usl))
                    });
                    marks.extend(lsl.map(|v| (v, "LSL")));
                    marks.extend(usl.map(|v| (v, "USL")));
                }
                let _ = draw::histogram(&el, &values, &marks, &label, palette);
            }
        });
    });

    let zoom = move |factor: f64| {
        chart.with_untracked(|ch| {
            if let Some(ch) = ch.as_ref().and_then(ChartState::ready) {
                let len = ch.primary.first_index() + ch.primary.len();
                let (a, b) = range.get_untracked().unwrap_or((0, len));
                let mid = (a + b) / 2;
                let half = (((b - a) as f64 * factor / 2.0).round() as usize).clamp(5, len);
                range.set(Some((mid.saturating_sub(half), (mid + half).min(len))));
            }
        })
    };
    // The points there are, and the view as drawn (clamped to them), for the touch gestures.
    let len = move || {
        chart.with_untracked(|ch| {
            ch.as_ref()
                .and_then(ChartState::ready)
                .map_or(0, |ch| ch.primary.first_index() + ch.primary.len())
        })
    };
    let view_now = move || {
        let len = len();
        let (a, b) = range.get_untracked().unwrap_or((0, len));
        (a.min(len), b.min(len).max(a.min(len)))
    };
    let touches = StoredValue::new(Touches::default());
    let touch = |ev: &leptos::ev::PointerEvent| {
        (ev.pointer_type() == "touch").then(|| {
            let at = (f64::from(ev.offset_x()), f64::from(ev.offset_y()));
            (ev.pointer_id(), at)
        })
    };
    let lift = move |ev: leptos::ev::PointerEvent| {
        if let Some((id, _)) = touch(&ev) {
            touches.update_value(|t| t.up(id, view_now()));
        }
    };
    let pan = move |dir: i64| {
        chart.with_untracked(|ch| {
            if let Some(ch) = ch.as_ref().and_then(ChartState::ready) {
                let len = (ch.primary.first_index() + ch.primary.len()) as i64;
                let (a, b) = range
                    .get_untracked()
                    .map_or((0, len), |(a, b)| (a as i64, b as i64));
                let step = ((b - a) / 4).max(1) * dir;
                let (a, b) = (
                    (a + step).clamp(0, (len - (b - a)).max(0)),
                    (b + step).clamp(b - a, len),
                );
                range.set(Some((a as usize, b as usize)));
            }
        })
    };

    let summary = move || {
        chart.with(|ch| match ch {
            None => view! { <p>"This stream no longer exists."</p> }.into_any(),
            Some(ChartState::Invalid(e)) => view! { <p class="error" role="alert">{format!("Cannot chart this stream: {e}")}</p> }.into_any(),
            Some(ChartState::Collecting) => view! { <p>"Collecting the baseline…"</p> }.into_any(),
            Some(ChartState::Ready(ch)) => {
                let e = &ch.estimate;
                let p = ch.primary.point(0);
                let words = crate::export::report::false_alarm_sentence(ch);
                let capability = stream.with(|s| {
                    let s = s.as_ref()?;
                    let spec = SpecLimits { lsl: s.settings.lsl, usl: s.settings.usl, target: None };
                    (spec.lsl.is_some() || spec.usl.is_some()).then(|| ch.capability(&s.data(), &spec, 0.95))
                });
                let cap = match capability {
                    Some(Ok(cap)) => format!(
                        "Capability: Cpk {} (95% {}), Ppk {}{}",
                        cap.cpk.map_or("–".into(), fmt),
                        cap.cpk_interval.map_or("–".into(), |(a, b)| format!("{} to {}", fmt(a), fmt(b))),
                        cap.ppk.map_or("–".into(), fmt),
                        if cap.warnings.is_empty() { String::new() } else { format!(". {}", cap.warnings.join(" ")) }
                    ),
                    Some(Err(e)) => format!("Capability: {e}"),
                    None => "Capability: set a spec limit or SLO below.".into(),
                };
                let unit = stream.with(|s| s.as_ref().map(|s| s.unit.clone()).unwrap_or_default());
                let show = |x: f64| value(ch, x, &unit);
                view! {
                    <dl class="stats">
                        <dt>"Center"</dt><dd data-testid="center">{show(e.center)}</dd>
                        <dt>"LCL"</dt><dd data-testid="lcl">{p.and_then(|p| p.lcl).map_or("–".into(), show)}</dd>
                        <dt>"UCL"</dt><dd data-testid="ucl">{p.and_then(|p| p.ucl).map_or("–".into(), show)}</dd>
                        <dt>"Sigma"</dt><dd>{fmt(e.sigma)}</dd>
                        <dt>"Baseline"</dt><dd>{format!("points {} to {}", e.baseline_start, e.baseline_end.saturating_sub(1))}</dd>
                    </dl>
                    <p class="arl" data-testid="false-alarms">{words}</p>
                    <p class="capability">{cap}</p>
                }
                .into_any()
            }
        })
    };

    let signals = move || {
        chart.with(|ch| {
            let Some(ch) = ch.as_ref().and_then(ChartState::ready) else { return Vec::new() };
            let grouped = crate::model::marks(&ch.primary, 0..usize::MAX);
            // When each listed point was complete, and the unit, read once.
            let (times, unit): (std::collections::HashMap<usize, f64>, String) = stream.with(|s| s.as_ref().map(|s| {
                let shown = grouped.iter().rev().take(200).map(|g| g.index);
                (shown.filter_map(|i| Some((i, s.point_time(i)?))).collect(), s.unit.clone())
            }).unwrap_or_default());
            grouped
                .iter()
                .rev()
                .take(200)
                .map(|s| {
                    let group = s.tests;
                    let p = ch.primary.point_at(s.index);
                    let context: Vec<String> = (s.index.saturating_sub(10)..=s.index + 10)
                        .filter_map(|i| ch.primary.point_at(i).map(|q| if i == s.index { format!("[{}]", fmt(q.statistic)) } else { fmt(q.statistic) }))
                        .collect();
                    let when = times.get(&s.index).map(|t| if *t > 1e11 { clock(*t) } else { String::new() }).unwrap_or_default();
                    let mut tests: Vec<String> = group.iter().map(|g| format!("test {}: {}", g.test.number(), g.test.describe(ch.primary.rules.k(g.test)))).collect();
                    tests.extend(s.rules.iter().map(|r| format!("{}: {}", r.name, r.text)));
                    let first_test = group.iter().map(|g| g.test.number()).min().unwrap_or(0);
                    let names: Vec<&str> = s.rules.iter().map(|r| r.name.as_str()).collect();
                    view! {
                        <li data-testid="signal-row" data-test-number=first_test.to_string() data-rules=names.join(",") data-index=s.index.to_string()>
                            <strong>{format!("point {} {when}", s.index)}</strong>
                            {format!(" value {} — {}", p.map_or("–".into(), |p| value(ch, p.statistic, &unit)), tests.join("; "))}
                            <details><summary>"10 points either side"</summary><code>{context.join("  ")}</code></details>
                        </li>
                    }
                })
                .collect::<Vec<_>>()
        })
    };

    let csv_id = id.clone();
    let download_csv = move || {
        let text =
            stream.with_untracked(|s| s.as_ref().and_then(crate::export::report::stream_csv));
        match text {
            Some(t) => {
                download::download(&format!("{}.csv", csv_id.replace('/', "_")), "text/csv", &t)
            }
            None => d.notice.set(Some(
                "nothing to export yet: the baseline is not complete".into(),
            )),
        }
    };
    let png_id = id.clone();
    let download_png = move || {
        let made = stream.with_untracked(|s| {
            let s = s.as_ref().ok_or("this stream no longer exists")?;
            let ch = s
                .chart()
                .map_err(|e| e.to_string())?
                .ok_or("nothing to export yet: the baseline is not complete")?;
            crate::export::report::png(s, &ch)
        });
        match made {
            Ok(url) => download::download_url(&format!("{}.png", png_id.replace('/', "_")), &url),
            Err(e) => d.notice.set(Some(e.to_string())),
        }
    };
    let baseline_id = id.clone();
    // Freezes the limits on points a..b: a drag across the chart, or the zoomed view.
    let freeze_baseline = move |a: usize, b: usize| {
        if b < a + 5 || nav.readonly.get_untracked().is_some() {
            return; // a click, not a selection; or a shared session, which is read-only
        }
        d.session.update(|s| {
            if let Some(st) = s.stream_mut(&baseline_id) {
                st.settings.chart.phase1 = None;
                st.settings.chart.baseline_range = Some((a, b));
            }
        });
        d.notice.set(Some(format!(
            "limits now frozen on points {a} to {}",
            b - 1
        )));
    };
    let freeze_view = freeze_baseline.clone();
    let use_view_as_baseline = move || {
        match range.get_untracked() {
        Some((a, b)) => freeze_view(a, b),
        None => d.notice.set(Some(
            "drag across the stable stretch of the chart, or zoom in on it, to use it as the baseline".into(),
        )),
    }
    };
    let seen_id = id.clone();
    let back = move |_| {
        // What was on screen is seen: its card no longer calls the old signals news.
        super::dashboard::acknowledge(d, &seen_id);
        nav.open(None);
    };
    // The view as the readout says it: first point, end (exclusive), and all the points.
    let shown = move || {
        let len = chart.with(|ch| {
            ch.as_ref()
                .and_then(ChartState::ready)
                .map_or(0, |ch| ch.primary.first_index() + ch.primary.len())
        });
        let (a, b) = range.get().unwrap_or((0, len));
        (a.min(len), b.min(len), len)
    };
    let name = id.clone();
    view! {
        <section class="stream">
            <nav class="crumbs"><button on:click=back>"← All streams"</button></nav>
            <h2>{name}</h2>
            {forecast_header}
            <div class="toolbar" role="toolbar" aria-label="zoom and pan">
                <button on:click=move |_| zoom(0.5)>"Zoom in"</button>
                <button on:click=move |_| zoom(2.0)>"Zoom out"</button>
                <button on:click=move |_| pan(-1)>"◀"</button>
                <button on:click=move |_| pan(1)>"▶"</button>
                <button on:click=move |_| range.set(None)>"All"</button>
                <span class="range" data-testid="view-range" data-from=move || shown().0 data-to=move || shown().1>
                    {move || { let (a, b, n) = shown(); if (a, b) == (0, n) { format!("all {n} points") } else { format!("points {a}–{} of {n}", b.saturating_sub(1)) } }}
                </span>
                <button data-testid="baseline-from-view" title="Freeze the limits on the points shown"
                    on:click=move |_| use_view_as_baseline()>"Use these points as the baseline"</button>
                <button data-testid="download-csv" on:click=move |_| download_csv()>"Download CSV"</button>
                <button data-testid="download-png" on:click=move |_| download_png()>"Download PNG"</button>
            </div>
            <div class="chart-wrap">
                <canvas class="chart" data-testid="control-chart" node_ref=control aria-label="control chart"
                    on:mousemove=move |ev| hover.set(hover_text(&ev, mapping.get_value(), &chart, &stream))
                    on:mouseleave=move |_| hover.set(None)
                    on:pointerdown=move |ev| if let Some((id, at)) = touch(&ev) {
                        touches.update_value(|t| t.down(id, at, view_now()));
                    }
                    on:pointermove=move |ev| if let Some((id, at)) = touch(&ev) {
                        let width = control.get_untracked().map_or(1.0, |c| f64::from(c.client_width()));
                        let moved = touches.try_update_value(|t| t.moved(id, at, len(), width)).flatten();
                        if moved.is_some() && moved != Some(view_now()) {
                            range.set(moved);
                        }
                    }
                    on:pointerup=lift
                    on:pointercancel=lift
                    on:mousedown=move |ev| drag.set(mapping.get_value().index_at(f64::from(ev.offset_x())))
                    on:mouseup=move |ev| {
                        let end = mapping.get_value().index_at(f64::from(ev.offset_x()));
                        if let (Some(a), Some(b)) = (drag.get_untracked(), end) {
                            if a.abs_diff(b) < 4 {
                                select_at(b);
                            }
                            freeze_baseline(a.min(b), a.max(b) + 1);
                        }
                        drag.set(None);
                    }></canvas>
                {move || hover.get().map(|(x, y, text)| view! {
                    <div class="tooltip" data-testid="tooltip" role="tooltip"
                        style=format!("left: {}px; top: {}px", x + 14.0, y + 14.0)>{text}</div>
                })}
            </div>
            {forecast_band}
            <canvas class="chart small" data-testid="companion-chart" node_ref=companion aria-label="companion chart"></canvas>
            <div class="side">
                {summary}
                <canvas class="chart small" data-testid="histogram" node_ref=histogram aria-label="histogram"></canvas>
            </div>
            <Why id=id.clone() selected=episode/>
            <Settings id=id.clone()/>
            <h3>"Signals (latest first)"</h3>
            <ol class="signals" data-testid="signal-list">{signals}</ol>
        </section>
    }
}
