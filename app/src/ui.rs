//! The components: the dashboard of stream cards, the stream view (control chart, companion,
//! histogram, capability, false-alarm rate, signals, settings), and the header (import, theme,
//! simulators, export, clear). Components are thin: they read the session, ask the engine, draw.

use crate::draw::{self, Palette};
use crate::model::{Health, Origin, Sample, Session, Stream, SPARK};
use crate::{import, store};
use leptos::prelude::*;
use llmscope_spc::capability::SpecLimits;
use llmscope_spc::Chart;
use wasm_bindgen::JsCast;

/// The app's shared state.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub session: RwSignal<Session>,
    pub selected: RwSignal<Option<String>>,
    pub dark: RwSignal<bool>,
    pub simulating: RwSignal<bool>,
    pub notice: RwSignal<Option<String>>,
    pub live: RwSignal<crate::live::LiveStatus>,
    pub probe: RwSignal<crate::probe::ProbeStatus>,
    /// Import: skip malformed rows instead of refusing the file.
    pub skip_bad: RwSignal<bool>,
    /// Import progress, 0 to 1, while a file is being read.
    pub progress: RwSignal<Option<f64>>,
    /// Set while a shared session is shown read-only: where it came from.
    pub readonly: RwSignal<Option<String>>,
    /// The open stream's zoomed range of points (None: all).
    pub range: RwSignal<Option<(usize, usize)>>,
    /// The probe Worker polled, and its token: memory only, used to share large sessions.
    pub worker: RwSignal<Option<(String, String)>>,
    /// The last share link made.
    pub share_link: RwSignal<Option<String>>,
}

pub fn ctx() -> Ctx {
    use_context::<Ctx>().unwrap_or_else(|| panic!("Ctx is provided by App"))
}

use crate::report::{fmt, value};

fn clock(t: f64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(t));
    String::from(d.to_locale_time_string("default"))
}

/// The header: title, import, simulators, export, theme, clear.
#[component]
pub fn Header() -> impl IntoView {
    let c = ctx();
    let (skip_bad, progress) = (c.skip_bad, c.progress);
    let on_file = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        if let Some(file) = input.files().and_then(|f| f.get(0)) {
            import_file(c, file);
        }
        input.set_value("");
    };
    let export = move |_| {
        let json = c.session.with_untracked(crate::telemetry::export);
        store::download("llmscope-session.json", "application/json", &json);
    };
    let clear = move |_| {
        let sure = web_sys::window().and_then(|w| {
            w.confirm_with_message("Delete every stream and its data?")
                .ok()
        });
        if sure == Some(true) {
            c.simulating.set(false);
            c.selected.set(None);
            c.session.set(Session::default());
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(e) = crate::idb::clear().await {
                    c.notice.set(Some(e));
                }
            });
        }
    };
    let url = RwSignal::new(crate::live::same_origin_url().unwrap_or_default());
    let token = RwSignal::new(String::new());
    let connect = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let t = token.get_untracked();
        crate::live::connect(c, c.live, url.get_untracked(), (!t.is_empty()).then_some(t));
    };
    let live_text = move || {
        let l = c.live.get();
        let state = match (&l.url, l.connected) {
            (None, _) => "not connected".to_string(),
            (Some(u), true) => format!("live from {u}"),
            (Some(u), false) => format!("reconnecting to {u}"),
        };
        let invalid = if l.invalid_frames > 0 {
            format!("; {} invalid frames ignored", l.invalid_frames)
        } else {
            String::new()
        };
        let error = l.last_error.map_or(String::new(), |e| format!("; {e}"));
        format!("{state}{invalid}{error}")
    };
    let worker = RwSignal::new(String::new());
    let worker_token = RwSignal::new(String::new());
    let poll = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        c.worker
            .set(Some((worker.get_untracked(), worker_token.get_untracked())));
        crate::probe::start(
            c,
            c.probe,
            worker.get_untracked(),
            worker_token.get_untracked(),
        );
    };
    let probe_text = move || {
        let p = c.probe.get();
        let Some(url) = p.url else {
            return "no probe Worker".to_string();
        };
        let mut text = format!("polling {url} ({} targets)", p.targets);
        for (target, (n, kind)) in &p.failures {
            text += &format!("; {target}: {n} failed probes (latest: {kind})");
        }
        if let Some(e) = p.error {
            text += &format!("; {e}");
        }
        text
    };
    let viewing = move || c.readonly.get().is_some();
    view! {
        {move || c.readonly.get().map(|made| view! {
            <div class="shared-banner" role="status" data-testid="shared-banner">
                <strong>"Shared session, read-only"</strong>
                {format!(" ({made}). Nothing here is saved unless you copy it. ")}
                <button data-testid="copy-shared" on:click=move |_| crate::link::copy_into_mine(c)>"Copy into my session"</button>
                <button data-testid="leave-shared" on:click=move |_| crate::link::leave()>"Back to my session"</button>
            </div>
        })}
        <header class="bar">
            <h1 class="brand" on:click=move |_| c.selected.set(None)>"LLMscope"</h1>
            <span class="controls" hidden=viewing>
            <label class="button">
                "Import CSV or JSON"
                <input type="file" accept=".csv,.json,text/csv,application/json" data-testid="import-file" on:change=on_file/>
            </label>
            <label class="check">
                <input type="checkbox" data-testid="skip-bad-rows" prop:checked=move || skip_bad.get()
                    on:change=move |ev| skip_bad.set(event_target_checked(&ev))/>
                "skip bad rows"
            </label>
            <button data-testid="simulators" aria-pressed=move || c.simulating.get().to_string()
                on:click=move |_| c.simulating.update(|s| *s = !*s)>
                {move || if c.simulating.get() { "Pause simulators" } else { "Run simulators" }}
            </button>
            <button on:click=clear>"Clear…"</button>
            </span>
            <button data-testid="export-json" on:click=export>"Export session"</button>
            <button data-testid="report-pdf" on:click=move |_| report_pdf(c)>"Report (PDF)"</button>
            <button data-testid="share" hidden=viewing on:click=move |_| crate::link::make(c)>"Share link"</button>
            <button aria-label="toggle dark theme" on:click=move |_| c.dark.update(|d| *d = !*d)>
                {move || if c.dark.get() { "Light" } else { "Dark" }}
            </button>
            <form class="connect" on:submit=connect aria-label="connect to a live stream" hidden=viewing>
                <input type="url" data-testid="connect-url" aria-label="WebSocket URL" placeholder="ws://127.0.0.1:9750/ws"
                    prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))/>
                <input type="password" data-testid="connect-token" aria-label="token (optional)" placeholder="token (optional)"
                    prop:value=move || token.get() on:input=move |ev| token.set(event_target_value(&ev))/>
                <button type="submit" data-testid="connect">"Connect"</button>
                <span class="live" data-testid="live-status" role="status">{live_text}</span>
            </form>
            <form class="connect" on:submit=poll aria-label="poll a probe Worker" hidden=viewing>
                <input type="url" data-testid="probe-url" aria-label="probe Worker URL" placeholder="https://probes.example.workers.dev"
                    prop:value=move || worker.get() on:input=move |ev| worker.set(event_target_value(&ev))/>
                <input type="password" data-testid="probe-token" aria-label="Worker token" placeholder="Worker token"
                    prop:value=move || worker_token.get() on:input=move |ev| worker_token.set(event_target_value(&ev))/>
                <button type="submit" data-testid="probe-connect">"Poll"</button>
                <span class="live" data-testid="probe-status" role="status">{probe_text}</span>
            </form>
        </header>
        {move || progress.get().map(|p| view! {
            <progress class="import-progress" data-testid="import-progress" max="1" value=p.to_string()
                aria-label="import progress"></progress>
        })}
        {move || c.notice.get().map(|n| view! { <p class="notice" role="status" data-testid="notice">{n}</p> })}
        {move || c.share_link.get().map(|link| view! {
            <p class="share-link">
                <label>"Share link "
                    <input readonly data-testid="share-link" prop:value=link.clone() on:focus=move |ev| {
                        if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                            input.select();
                        }
                    }/>
                </label>
                <button on:click=move |_| copy_text(&link)>"Copy"</button>
            </p>
        })}
    }
}

/// Builds the PDF report of the whole session, with a progress bar, and downloads it.
fn report_pdf(c: Ctx) {
    if c.progress.get_untracked().is_some() {
        return; // one long job at a time
    }
    c.progress.set(Some(0.0));
    c.notice.set(Some("making the report…".into()));
    wasm_bindgen_futures::spawn_local(async move {
        let session = c.session.get_untracked();
        let started = js_sys::Date::now();
        let made = crate::report::pdf(&session, |p| c.progress.set(Some(p))).await;
        c.progress.set(None);
        match made {
            Ok(bytes) => {
                store::download_bytes("llmscope-report.pdf", "application/pdf", &bytes);
                c.notice.set(Some(format!(
                    "report ready: {} KB in {:.1} s",
                    bytes.len() / 1024,
                    (js_sys::Date::now() - started) / 1000.0
                )));
            }
            Err(e) => c.notice.set(Some(format!("cannot make the report: {e}"))),
        }
    });
}

/// Puts text on the clipboard (the user can still select the field by hand).
fn copy_text(text: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
}

/// Reads a file the user picked or dropped and imports it, telling them how it went.
pub fn import_file(c: Ctx, file: web_sys::File) {
    let name = file.name();
    let skip = c.skip_bad.get_untracked();
    c.notice.set(Some(format!("importing {name}…")));
    wasm_bindgen_futures::spawn_local(async move {
        let text = match wasm_bindgen_futures::JsFuture::from(file.text()).await {
            Ok(t) => t.as_string().unwrap_or_default(),
            Err(_) => {
                c.notice.set(Some(format!("{name}: cannot read the file")));
                return;
            }
        };
        let said = import_text(c, &name, &text, skip, c.progress).await;
        c.progress.set(None);
        c.notice.set(Some(said));
    });
}

/// Imports a file's text into the session, showing progress; returns what to tell the user.
pub async fn import_text(
    c: Ctx,
    name: &str,
    text: &str,
    skip_bad: bool,
    progress: RwSignal<Option<f64>>,
) -> String {
    if name.ends_with(".json") {
        return match import::session_json(text) {
            Ok(s) => {
                let n = s.streams.len();
                c.session.update(|mine| {
                    for stream in s.streams {
                        mine.streams.retain(|x| x.id != stream.id);
                        mine.streams.push(stream);
                    }
                    mine.telemetry
                        .probe_results
                        .extend(s.telemetry.probe_results);
                });
                format!("{name}: imported {n} streams")
            }
            Err(e) => format!("{name}: {e}"),
        };
    }
    match import::csv_in_chunks(text, skip_bad, |p| progress.set(Some(p))).await {
        Ok(got) => {
            let base = name.trim_end_matches(".csv");
            let n = got.columns.len();
            c.session.update(|s| {
                for (column, values) in got.columns {
                    let id = format!("{base}/{column}");
                    s.streams.retain(|x| x.id != id);
                    let mut stream = Stream::new(
                        id,
                        "",
                        Origin::Import {
                            file: name.to_string(),
                        },
                    );
                    stream.samples = values
                        .into_iter()
                        .enumerate()
                        .map(|(i, value)| Sample { t: i as f64, value })
                        .collect();
                    s.streams.push(stream);
                }
            });
            let skipped = if got.skipped.is_empty() {
                String::new()
            } else {
                format!(
                    "; skipped {} bad rows (lines {:?})",
                    got.skipped.len(),
                    &got.skipped[..got.skipped.len().min(10)]
                )
            };
            format!(
                "{name}: imported {} rows into {n} stream(s){skipped}",
                got.rows - got.skipped.len()
            )
        }
        Err(e) => format!("{name}: {e}"),
    }
}

/// One card's data.
#[derive(Clone)]
struct CardData {
    id: String,
    unit: String,
    /// Where its data comes from.
    source: String,
    /// Its oldest points dropped to stay within its limit.
    dropped: u64,
    last: f64,
    health: Health,
    spark: Vec<f64>,
}

/// Every stream as a card, problems first.
#[component]
pub fn Dashboard() -> impl IntoView {
    let c = ctx();
    let cards = move || {
        let mut cards: Vec<CardData> = c.session.with(|s| {
            s.streams
                .iter()
                .map(|st| {
                    let chart = st.chart_cached();
                    let from = st.samples.len().saturating_sub(SPARK);
                    CardData {
                        id: st.id.clone(),
                        unit: st.unit.clone(),
                        source: st.origin.label(),
                        dropped: s.dropped(&st.id),
                        last: st.samples.last().map_or(f64::NAN, |x| x.value),
                        health: st.health(&chart),
                        spark: st.samples[from..].iter().map(|x| x.value).collect(),
                    }
                })
                .collect()
        });
        cards.sort_by(|a, b| a.health.cmp(&b.health).then(a.id.cmp(&b.id)));
        cards
    };
    view! {
        <section class="cards" aria-label="streams">
            {move || {
                let list = cards();
                if list.is_empty() {
                    view! { <p class="empty">"No streams yet: run the simulators or import a file."</p> }.into_any()
                } else {
                    list.into_iter().map(|card| view! { <Card card/> }).collect_view().into_any()
                }
            }}
        </section>
    }
}

#[component]
fn Card(card: CardData) -> impl IntoView {
    let c = ctx();
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let status = card.health.label();
    let color = match card.health {
        Health::Signal => plotters::style::RGBColor(207, 34, 46),
        Health::Stale => plotters::style::RGBColor(130, 130, 130),
        _ => plotters::style::RGBColor(9, 105, 218),
    };
    let spark = card.spark.clone();
    Effect::new(move |_| {
        if let Some(el) = canvas.get() {
            let _ = draw::sparkline(&el, &spark, color, Palette::new(c.dark.get()));
        }
    });
    let id = card.id.clone();
    let open = move || {
        c.range.set(None);
        c.selected.set(Some(id.clone()));
    };
    let open2 = open.clone();
    view! {
        <article class="card" data-testid="stream-card" data-status=status tabindex="0" role="button"
            on:click=move |_| open()
            on:keydown=move |ev| if ev.key() == "Enter" || ev.key() == " " { open2() }>
            <h2 class="name">{card.id.clone()}</h2>
            <p class="source" data-testid="stream-source">{card.source.clone()}</p>
            {(card.dropped > 0).then(|| view! {
                <p class="dropped" data-testid="stream-dropped">
                    {format!("oldest {} points dropped (limit reached)", card.dropped)}
                </p>
            })}
            <p class="last"><strong>{fmt(card.last)}</strong>" "{card.unit.clone()}</p>
            <p class={format!("badge {}", status.replace(' ', "-"))}>{status}</p>
            <canvas class="spark" node_ref=canvas aria-hidden="true"></canvas>
        </article>
    }
}

pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// Updates `window.__llmscope`, the timings the browser benchmarks read.
fn with_timings(update: impl FnOnce(&wasm_bindgen::JsValue)) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let key = wasm_bindgen::JsValue::from_str("__llmscope");
    let timings = js_sys::Reflect::get(&window, &key)
        .ok()
        .filter(|v| v.is_object())
        .unwrap_or_else(|| js_sys::Object::new().into());
    update(&timings);
    let _ = js_sys::Reflect::set(&window, &key, &timings);
}

/// Keeps `first_chart_ms` (when the first control chart was painted, ms since navigation) and
/// `draw_ms` (how long the last draw took) for the browser benchmark.
fn record_draw(started: f64, ended: f64) {
    with_timings(|timings| {
        let first = wasm_bindgen::JsValue::from_str("first_chart_ms");
        if js_sys::Reflect::get(timings, &first).map_or(true, |v| v.is_undefined()) {
            let _ = js_sys::Reflect::set(timings, &first, &ended.into());
        }
        let _ = js_sys::Reflect::set(timings, &"draw_ms".into(), &(ended - started).into());
    });
}

/// Keeps `<name>_ms` (the last) and `<name>_max_ms` (the longest) for the browser benchmarks.
pub fn record_timing(name: &str, ms: f64) {
    with_timings(|timings| {
        let max = wasm_bindgen::JsValue::from_str(&format!("{name}_max_ms"));
        let before = js_sys::Reflect::get(timings, &max)
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0);
        let _ = js_sys::Reflect::set(timings, &max, &before.max(ms).into());
        let _ = js_sys::Reflect::set(timings, &format!("{name}_ms").into(), &ms.into());
    });
}

/// The tooltip for the point under the pointer: index, time, value, limits, tests.
fn hover_text(
    ev: &leptos::ev::MouseEvent,
    mapping: draw::Mapping,
    chart: &Memo<Option<Result<Option<Chart>, String>>>,
    stream: &Memo<Option<Stream>>,
) -> Option<(f64, f64, String)> {
    let (x, y) = (f64::from(ev.offset_x()), f64::from(ev.offset_y()));
    let index = mapping.index_at(x)?;
    chart.with_untracked(|ch| {
        let Some(Ok(Some(ch))) = ch else { return None };
        let p = ch.primary.point_at(index)?;
        let bits = ch
            .primary
            .tests_by_point()
            .get(index.checked_sub(ch.primary.first_index())?)
            .copied()
            .unwrap_or(0);
        let tests: Vec<String> = (1..=8u8)
            .filter(|k| bits & (1 << (k - 1)) != 0)
            .map(|k| k.to_string())
            .collect();
        let (t, unit) = stream.with_untracked(|s| {
            let s = s.as_ref()?;
            Some((crate::report::point_time(s, index), s.unit.clone()))
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

/// Words for the false-alarm rate of the chart's tests.
/// The false-alarm rate as a sentence (the report's words).
fn false_alarm_words(chart: &Chart) -> String {
    let words = crate::report::false_alarms(chart);
    let mut chars = words.chars();
    chars.next().map_or(words.clone(), |first| {
        format!("{}{}.", first.to_uppercase(), chars.as_str())
    })
}

/// The stream view.
#[component]
pub fn StreamView(id: String) -> impl IntoView {
    let c = ctx();
    let key = id.clone();
    let stream = Memo::new(move |_| c.session.with(|s| s.stream(&key).cloned()));
    let chart = Memo::new(move |_| {
        stream.with(|s| {
            s.as_ref()
                .map(|s| (*s.chart_cached()).clone().map_err(|e| e.to_string()))
        })
    });
    let range = c.range;
    let mapping = StoredValue::new(draw::Mapping::default());
    let drag = RwSignal::new(None::<usize>);
    let hover = RwSignal::new(None::<(f64, f64, String)>);
    let control = NodeRef::<leptos::html::Canvas>::new();
    let companion = NodeRef::<leptos::html::Canvas>::new();
    let histogram = NodeRef::<leptos::html::Canvas>::new();

    Effect::new(move |_| {
        let palette = Palette::new(c.dark.get());
        let unit = stream.with(|s| s.as_ref().map(|s| s.unit.clone()).unwrap_or_default());
        chart.with(|ch| {
            let Some(Ok(Some(ch))) = ch else { return };
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
            if let Some(Ok(Some(ch))) = ch {
                let len = ch.primary.first_index() + ch.primary.len();
                let (a, b) = range.get_untracked().unwrap_or((0, len));
                let mid = (a + b) / 2;
                let half = (((b - a) as f64 * factor / 2.0).round() as usize).clamp(5, len);
                range.set(Some((mid.saturating_sub(half), (mid + half).min(len))));
            }
        })
    };
    let pan = move |dir: i64| {
        chart.with_untracked(|ch| {
            if let Some(Ok(Some(ch))) = ch {
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
            Some(Err(e)) => view! { <p class="error" role="alert">{format!("Cannot chart this stream: {e}")}</p> }.into_any(),
            Some(Ok(None)) => view! { <p>"Collecting the baseline…"</p> }.into_any(),
            Some(Ok(Some(ch))) => {
                let e = &ch.estimate;
                let p = ch.primary.point(0);
                let words = false_alarm_words(ch);
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
            let Some(Ok(Some(ch))) = ch else { return Vec::new() };
            let grouped = ch.primary.signals.chunk_by(|a, b| a.index == b.index);
            // When each listed point was complete, and the unit, read once.
            let (times, unit): (std::collections::HashMap<usize, f64>, String) = stream.with(|s| s.as_ref().map(|s| {
                let shown = grouped.clone().rev().take(200).map(|g| g[0].index);
                (shown.filter_map(|i| Some((i, crate::report::point_time(s, i)?))).collect(), s.unit.clone())
            }).unwrap_or_default());
            grouped
                .rev()
                .take(200)
                .map(|group| {
                    let s = group[0];
                    let p = ch.primary.point_at(s.index);
                    let context: Vec<String> = (s.index.saturating_sub(10)..=s.index + 10)
                        .filter_map(|i| ch.primary.point_at(i).map(|q| if i == s.index { format!("[{}]", fmt(q.statistic)) } else { fmt(q.statistic) }))
                        .collect();
                    let when = times.get(&s.index).map(|t| if *t > 1e11 { clock(*t) } else { String::new() }).unwrap_or_default();
                    let tests: Vec<String> = group.iter().map(|g| format!("test {}: {}", g.test.number(), g.test.describe(ch.primary.rules.k(g.test)))).collect();
                    let first_test = group.iter().map(|g| g.test.number()).min().unwrap_or(0);
                    view! {
                        <li data-testid="signal-row" data-test-number=first_test.to_string() data-index=s.index.to_string()>
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
        let text = stream.with_untracked(|s| {
            let s = s.as_ref()?;
            let ch = s.chart().ok()??;
            Some(crate::report::csv(s, &ch))
        });
        match text {
            Some(t) => {
                store::download(&format!("{}.csv", csv_id.replace('/', "_")), "text/csv", &t)
            }
            None => c.notice.set(Some(
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
            crate::report::png(s, &ch)
        });
        match made {
            Ok(url) => store::download_url(&format!("{}.png", png_id.replace('/', "_")), &url),
            Err(e) => c.notice.set(Some(e.to_string())),
        }
    };
    let baseline_id = id.clone();
    // Freezes the limits on points a..b: a drag across the chart, or the zoomed view.
    let freeze_baseline = move |a: usize, b: usize| {
        if b < a + 5 || c.readonly.get_untracked().is_some() {
            return; // a click, not a selection; or a shared session, which is read-only
        }
        c.session.update(|s| {
            if let Some(st) = s.stream_mut(&baseline_id) {
                st.settings.chart.phase1 = None;
                st.settings.chart.baseline_range = Some((a, b));
            }
        });
        c.notice.set(Some(format!(
            "limits now frozen on points {a} to {}",
            b - 1
        )));
    };
    let freeze_view = freeze_baseline.clone();
    let use_view_as_baseline = move || {
        match range.get_untracked() {
        Some((a, b)) => freeze_view(a, b),
        None => c.notice.set(Some(
            "drag across the stable stretch of the chart, or zoom in on it, to use it as the baseline".into(),
        )),
    }
    };
    let back = move |_| {
        c.range.set(None);
        c.selected.set(None);
    };
    let name = id.clone();
    view! {
        <section class="stream">
            <nav class="crumbs"><button on:click=back>"← All streams"</button></nav>
            <h2>{name}</h2>
            <div class="toolbar" role="toolbar" aria-label="zoom and pan">
                <button on:click=move |_| zoom(0.5)>"Zoom in"</button>
                <button on:click=move |_| zoom(2.0)>"Zoom out"</button>
                <button on:click=move |_| pan(-1)>"◀"</button>
                <button on:click=move |_| pan(1)>"▶"</button>
                <button on:click=move |_| range.set(None)>"All"</button>
                <button data-testid="baseline-from-view" title="Freeze the limits on the points shown"
                    on:click=move |_| use_view_as_baseline()>"Use these points as the baseline"</button>
                <button data-testid="download-csv" on:click=move |_| download_csv()>"Download CSV"</button>
                <button data-testid="download-png" on:click=move |_| download_png()>"Download PNG"</button>
            </div>
            <div class="chart-wrap">
                <canvas class="chart" data-testid="control-chart" node_ref=control aria-label="control chart"
                    on:mousemove=move |ev| hover.set(hover_text(&ev, mapping.get_value(), &chart, &stream))
                    on:mouseleave=move |_| hover.set(None)
                    on:mousedown=move |ev| drag.set(mapping.get_value().index_at(f64::from(ev.offset_x())))
                    on:mouseup=move |ev| {
                        let end = mapping.get_value().index_at(f64::from(ev.offset_x()));
                        if let (Some(a), Some(b)) = (drag.get_untracked(), end) {
                            freeze_baseline(a.min(b), a.max(b) + 1);
                        }
                        drag.set(None);
                    }></canvas>
                {move || hover.get().map(|(x, y, text)| view! {
                    <div class="tooltip" data-testid="tooltip" role="tooltip"
                        style=format!("left: {}px; top: {}px", x + 14.0, y + 14.0)>{text}</div>
                })}
            </div>
            <canvas class="chart small" data-testid="companion-chart" node_ref=companion aria-label="companion chart"></canvas>
            <div class="side">
                {summary}
                <canvas class="chart small" data-testid="histogram" node_ref=histogram aria-label="histogram"></canvas>
            </div>
            <Settings id=id.clone()/>
            <h3>"Signals (latest first)"</h3>
            <ol class="signals" data-testid="signal-list">{signals}</ol>
        </section>
    }
}

/// Per-stream settings, applied at once and kept with the session.
#[component]
fn Settings(id: String) -> impl IntoView {
    let c = ctx();
    let key = id.clone();
    let current = move || {
        c.session
            .with(|s| s.stream(&key).map(|s| s.settings.clone()))
            .unwrap_or_default()
    };
    let update = move |f: Box<dyn Fn(&mut crate::model::Settings)>| {
        c.session.update(|s| {
            if let Some(st) = s.stream_mut(&id) {
                f(&mut st.settings);
            }
        })
    };
    // A non-finite limit would be saved as null and silently vanish: it counts as none.
    let num = |ev: &leptos::ev::Event| {
        let v = event_target_value(ev).trim().parse::<f64>().ok();
        v.filter(|v| v.is_finite())
    };
    let u1 = update.clone();
    let u2 = update.clone();
    let u3 = update.clone();
    let u4 = update.clone();
    let u5 = update.clone();
    let u6 = update.clone();
    let c1 = current.clone();
    let c2 = current.clone();
    let c3 = current.clone();
    let c4 = current.clone();
    let c5 = current.clone();
    let c6 = current.clone();
    view! {
        <fieldset class="settings" disabled=move || c.readonly.get().is_some()>
            <legend>"Chart settings"</legend>
            <label>"Chart "
                <select data-testid="chart-type" on:change=move |ev| { let v = event_target_value(&ev); u1(Box::new(move |s| s.chart.chart = Some(v.clone()))) }
                    prop:value=move || c1().chart.chart.unwrap_or_else(|| "individuals".into())>
                    <option value="individuals">"Individuals / MR"</option>
                    <option value="xbar-r">"X-bar / R"</option>
                    <option value="xbar-s">"X-bar / S"</option>
                    <option value="ewma">"EWMA"</option>
                    <option value="cusum">"CUSUM"</option>
                </select>
            </label>
            <label>"Subgroup size "
                <input type="number" min="2" data-testid="subgroup-size" prop:value=move || c2().subgroup_size.map_or(String::new(), |n| n.to_string())
                    on:change=move |ev| { let v = num(&ev).map(|n| n as usize); u2(Box::new(move |s| s.subgroup_size = v)) }/>
            </label>
            <label>"Baseline points "
                <input type="number" min="2" data-testid="phase1" prop:value=move || c3().chart.phase1.map_or(String::new(), |n| n.to_string())
                    on:change=move |ev| { let v = num(&ev).map(|n| n as usize); u3(Box::new(move |s| { s.chart.phase1 = v; s.chart.baseline_range = None; })) }/>
            </label>
            <label title="nelson, western-electric, none, or test numbers with an optional K: 1,2:8,5">"Tests "
                <input list="test-sets" data-testid="tests" size="14"
                    on:change=move |ev| { let v = event_target_value(&ev); u4(Box::new(move |s| s.chart.tests = Some(v.trim().to_string()))) }
                    prop:value=move || c4().chart.tests.unwrap_or_else(|| "nelson".into())/>
                <datalist id="test-sets">
                    <option value="nelson">"Nelson (all eight)"</option>
                    <option value="western-electric">"Western Electric"</option>
                    <option value="1">"Test 1 only"</option>
                    <option value="1,2:8,5,6">"1, 2 with K=8, 5, 6"</option>
                </datalist>
            </label>
            <label>"LSL "
                <input type="number" step="any" prop:value=move || c5().lsl.map_or(String::new(), |v| v.to_string())
                    on:change=move |ev| { let v = num(&ev); u5(Box::new(move |s| s.lsl = v)) }/>
            </label>
            <label>"USL / SLO "
                <input type="number" step="any" prop:value=move || c6().usl.map_or(String::new(), |v| v.to_string())
                    on:change=move |ev| { let v = num(&ev); u6(Box::new(move |s| s.usl = v)) }/>
            </label>
            <label>"Transform "
                <select on:change=move |ev| { let v = event_target_value(&ev); update(Box::new(move |s| s.chart.transform = Some(v.clone()))) }
                    prop:value=move || current().chart.transform.unwrap_or_else(|| "none".into())>
                    <option value="none">"none"</option>
                    <option value="log">"log"</option>
                    <option value="box-cox">"Box-Cox"</option>
                </select>
            </label>
        </fieldset>
    }
}
