//! Exports for other people: a chart as a presentation PNG, and the words that go with a chart
//! (what its limits are and how they were estimated, which tests run and how often they would
//! cry wolf). The words are plain functions of the engine's `Chart`, shared by the PNG's
//! subtitle, the PDF report and the screen.

use crate::draw;
use crate::model::Stream;
use llmscope_spc::transform::Transform;
use llmscope_spc::{Chart, ChartKind, NelsonRule};
use wasm_bindgen::JsCast;

pub use llmscope_app_lazy::text::fmt;

/// The tests a chart runs, as numbers with runs collapsed, then its named rules: "1–8",
/// "1, 2, 5–6", "1, 2-2s, R-4s".
pub fn tests(chart: &Chart) -> String {
    let on: Vec<u8> = NelsonRule::ALL
        .iter()
        .filter(|r| chart.primary.rules.contains(**r))
        .map(|r| r.number())
        .collect();
    let named = chart.primary.rules.custom().rules().iter();
    let names: Vec<String> = named.map(|r| r.name.clone()).collect();
    if on.is_empty() && names.is_empty() {
        return "none".into();
    }
    let mut parts: Vec<String> = Vec::new();
    for run in on.chunk_by(|a, b| b == &(a + 1)) {
        parts.push(match run {
            [one] => one.to_string(),
            [first, .., last] => format!("{first}–{last}"),
            [] => continue,
        });
    }
    parts.extend(names);
    parts.join(", ")
}

/// How many signals the chart's primary chart has, the named rules' included.
fn signal_count(chart: &Chart) -> usize {
    chart.primary.signals.len() + chart.primary.rule_signals.len()
}

/// How often the chart's tests would signal on an in-control process.
pub fn false_alarms(chart: &Chart) -> String {
    match chart.arl(0.0) {
        Ok(a) if a.value.is_infinite() => "no tests are on, so the chart never signals".into(),
        Ok(a) => format!(
            "about one false alarm every {} points while in control (ARL0)",
            a.value.round()
        ),
        Err(e) => format!("false-alarm rate not available: {e}"),
    }
}

/// The transform to undo to show a primary-chart value in the data's unit: the chart's, when
/// its statistic is a measurement on the transformed scale (individuals, X-bar means, EWMA).
/// CUSUM sums and attribute counts have no such value.
fn undo(chart: &Chart) -> Option<Transform> {
    let t = chart.estimate.transform;
    let measured = matches!(
        chart.primary.kind,
        ChartKind::Individuals | ChartKind::XBar | ChartKind::Ewma
    );
    (measured && t != Transform::Identity).then_some(t)
}

/// A value of the primary chart for people: as charted and, on a log or Box-Cox chart, back in
/// the data's unit through the engine's inverse transform: "8.372 (4321 ms)". The inverse of a
/// limit beyond the transform's range is "no limit" (`Transform::invert` gives `f64::MAX`).
pub fn value(chart: &Chart, x: f64, unit: &str) -> String {
    let Some(t) = undo(chart) else {
        return fmt(x);
    };
    let back = t.invert(x);
    let back = if back == f64::MAX {
        "no limit".to_string()
    } else if unit.is_empty() {
        fmt(back)
    } else {
        format!("{} {unit}", fmt(back))
    };
    format!("{} ({back})", fmt(x))
}

/// The scale the chart is drawn on, for words: "", or " on the log scale".
fn scale(chart: &Chart) -> String {
    match chart.estimate.transform {
        Transform::Identity => String::new(),
        Transform::BoxCox { lambda } => {
            format!(" on the Box-Cox scale (lambda {})", fmt(lambda))
        }
        Transform::Log => " on the log scale".into(),
    }
}

/// The limits and where they came from, in one line; on a transformed chart, each also in the
/// data's `unit`.
pub fn limits(chart: &Chart, unit: &str) -> String {
    let e = &chart.estimate;
    let p = chart.primary.point(0);
    let show = |x: f64| value(chart, x, unit);
    let lcl = p.and_then(|p| p.lcl).map_or("–".into(), show);
    let ucl = p.and_then(|p| p.ucl).map_or("–".into(), show);
    let basis = if e.known {
        "from known parameters".to_string()
    } else {
        format!(
            "estimated from points {} to {} (Phase I), sigma by {:?}",
            e.baseline_start,
            e.baseline_end.saturating_sub(1),
            e.sigma_method
        )
    };
    format!(
        "{} chart{}: center {}, LCL {lcl}, UCL {ucl}, sigma {}; {basis}",
        chart.primary.kind.name(),
        scale(chart),
        show(e.center),
        fmt(e.sigma)
    )
}

/// The subtitle of an exported chart.
pub fn subtitle(chart: &Chart, unit: &str) -> String {
    format!(
        "{}. Tests {}; {} signals.",
        limits(chart, unit),
        tests(chart),
        signal_count(chart)
    )
}

/// One stream's points with their limits and tests, then its signals, as CSV. `t` is when
/// each point was complete ([`Stream::point_time`]). Named rules are named where tests have
/// their numbers: a point's `tests` is `5;2-2s`, a signal's `signal_test` is `2-2s`, as
/// `analyze`'s CSV does.
pub fn csv(stream: &Stream, chart: &Chart) -> String {
    let mut out = String::from("index,t,statistic,center,lcl,ucl,tests\n");
    let cell = |x: Option<f64>| x.map_or(String::new(), |v| v.to_string());
    let marks = crate::model::marks(&chart.primary, 0..usize::MAX);
    let mut at = marks.iter().peekable();
    for p in chart.primary.points() {
        let t = cell(stream.point_time(p.index));
        while at.next_if(|m| m.index < p.index).is_some() {}
        let fired = at.next_if(|m| m.index == p.index).map(|m| m.fired());
        out += &format!(
            "{},{t},{},{},{},{},{}\n",
            p.index,
            p.statistic,
            p.center,
            cell(p.lcl),
            cell(p.ucl),
            fired.unwrap_or_default().join(";")
        );
    }
    out += "\nsignal_test,index,first,last\n";
    for m in &marks {
        let tests = m
            .tests
            .iter()
            .map(|s| (s.test.number().to_string(), s.first, s.last));
        let names = m.rules.iter().zip(&m.named);
        let names = names.map(|(r, s)| (r.name.clone(), s.first, s.last));
        for (fired, first, last) in tests.chain(names) {
            out += &format!("{fired},{},{first},{last}\n", m.index);
        }
    }
    out
}

/// The stream's CSV ([`csv`]) under its settings; none until its baseline is complete or when
/// it cannot be charted.
pub fn stream_csv(stream: &Stream) -> Option<String> {
    let chart = stream.chart().ok()??;
    Some(csv(stream, &chart))
}

/// The false-alarm rate ([`false_alarms`]) as a sentence, for the stream view.
pub fn false_alarm_sentence(chart: &Chart) -> String {
    let words = false_alarms(chart);
    let mut chars = words.chars();
    chars.next().map_or(words.clone(), |first| {
        format!("{}{}.", first.to_uppercase(), chars.as_str())
    })
}

/// The stream's title: its name and unit.
pub fn title(stream: &Stream) -> String {
    if stream.unit.is_empty() {
        stream.id.clone()
    } else {
        format!("{} ({})", stream.id, stream.unit)
    }
}

/// The chart drawn at presentation size on a canvas that is not on the page.
pub fn presentation_canvas(
    stream: &Stream,
    chart: &Chart,
) -> Result<web_sys::HtmlCanvasElement, String> {
    let canvas = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("canvas").ok())
        .and_then(|e| e.dyn_into::<web_sys::HtmlCanvasElement>().ok())
        .ok_or("cannot create a canvas")?;
    draw::presentation(
        &canvas,
        chart,
        &stream.unit,
        &title(stream),
        &subtitle(chart, &stream.unit),
    )?;
    Ok(canvas)
}

/// The chart as a PNG `data:` URL, 1920 pixels wide.
pub fn png(stream: &Stream, chart: &Chart) -> Result<String, String> {
    presentation_canvas(stream, chart)?
        .to_data_url_with_type("image/png")
        .map_err(|_| "the browser cannot encode the PNG".to_string())
}

// ---- the PDF report ----

use crate::model::Session;
use llmscope_app_lazy::doc::{Doc, Image};
use llmscope_spc::capability::SpecLimits;

/// A time for people: ISO 8601 (UTC, to the second) for epoch milliseconds, else the raw value
/// (imported files may count in points or seconds). Beyond the dates JavaScript can hold (or
/// the infinite span of a session without samples) it is "–", not a thrown RangeError.
pub fn when(t: f64) -> String {
    if t > 1e11 && t <= 8.64e15 {
        let iso = String::from(js_sys::Date::new(&t.into()).to_iso_string());
        iso.get(..19).unwrap_or(&iso).replace('T', " ")
    } else {
        fmt(t)
    }
}

/// The canvas's pixels as RGB.
pub(super) fn pixels(canvas: &web_sys::HtmlCanvasElement) -> Result<Image, String> {
    let ctx = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok())
        .ok_or("no 2d context")?;
    let (width, height) = (canvas.width(), canvas.height());
    let data = ctx
        .get_image_data(0.0, 0.0, f64::from(width), f64::from(height))
        .map_err(|_| "the chart's pixels cannot be read")?
        .data();
    let rgb = data
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    Ok(Image { width, height, rgb })
}

/// The capability line of a stream, against its spec or SLO.
fn capability(stream: &crate::model::Stream, chart: &Chart) -> String {
    let spec = SpecLimits {
        lsl: stream.settings.lsl,
        usl: stream.settings.usl,
        target: None,
    };
    if spec.lsl.is_none() && spec.usl.is_none() {
        return "Capability: no spec limit or SLO set.".into();
    }
    match chart.capability(&stream.data(), &spec, 0.95) {
        Ok(c) => format!(
            "Capability against LSL {} / USL {}: Cp {}, Cpk {} (95% {}), Pp {}, Ppk {}.{}",
            spec.lsl.map_or("–".into(), fmt),
            spec.usl.map_or("–".into(), fmt),
            c.cp.map_or("–".into(), fmt),
            c.cpk.map_or("–".into(), fmt),
            c.cpk_interval
                .map_or("–".into(), |(a, b)| format!("{} to {}", fmt(a), fmt(b))),
            c.pp.map_or("–".into(), fmt),
            c.ppk.map_or("–".into(), fmt),
            if c.warnings.is_empty() {
                String::new()
            } else {
                format!(" {}", c.warnings.join(" "))
            }
        ),
        Err(e) => format!("Capability: {e}"),
    }
}

/// The report as PDF bytes: a title page with the summary table, then a section per stream
/// (chart, limits and their basis, capability, tests and false-alarm rate, signals with ±10
/// points of context). `progress` gets 0..1 as streams are done; the page keeps responding.
/// The report is described here ([`Doc`]) and laid out and written by the second module
/// (`crate::lazy`), which is fetched on the first report.
pub async fn pdf(session: &Session, progress: impl Fn(f64)) -> Result<Vec<u8>, String> {
    // The stream names and units decide whether the CJK fallback font is fetched.
    let cover: String = session
        .streams
        .iter()
        .map(|s| format!("{} {} ", s.id, s.unit))
        .collect();
    let mut w = Doc {
        title: crate::brand::report_title(),
        producer: crate::brand::name(),
        cover,
        blocks: Vec::new(),
    };
    let charts: Vec<_> = session
        .streams
        .iter()
        .map(|s| s.chart().ok().flatten())
        .collect();
    let times = session
        .streams
        .iter()
        .flat_map(|s| s.samples.iter().map(|x| x.t));
    let (from, to) = times.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), t| {
        (a.min(t), b.max(t))
    });
    w.page();
    w.gap(30.0);
    w.para(24.0, &w.title.clone());
    w.gap(10.0);
    w.para(
        11.0,
        &format!(
            "{} stream{}; data from {} to {}.",
            session.streams.len(),
            if session.streams.len() == 1 { "" } else { "s" },
            when(from),
            when(to)
        ),
    );
    w.para(
        11.0,
        &format!("Generated {} UTC.", when(js_sys::Date::now())),
    );
    w.gap(16.0);
    w.para(14.0, "Summary");
    let columns = [0.0, 140.0, 225.0, 265.0, 310.0, 355.0, 400.0, 440.0];
    w.row(
        9.0,
        &columns,
        &[
            "stream", "chart", "points", "center", "LCL", "UCL", "signals", "tests",
        ]
        .map(String::from),
    );
    w.rule();
    for (s, ch) in session.streams.iter().zip(&charts) {
        let cells = match ch {
            Some(ch) => {
                let p = ch.primary.point(0);
                vec![
                    s.id.clone(),
                    // The scale the table's center and limits are on.
                    match ch.estimate.transform {
                        Transform::Identity => ch.primary.kind.name().to_string(),
                        t => format!("{} ({})", ch.primary.kind.name(), t.name()),
                    },
                    s.samples.len().to_string(),
                    fmt(ch.estimate.center),
                    p.and_then(|p| p.lcl).map_or("–".into(), fmt),
                    p.and_then(|p| p.ucl).map_or("–".into(), fmt),
                    ch.primary.signals.len().to_string(),
                    tests(ch),
                ]
            }
            None => vec![
                s.id.clone(),
                "collecting baseline".into(),
                s.samples.len().to_string(),
            ],
        };
        w.row(9.0, &columns, &cells);
    }
    let total = session.streams.len().max(1) as f64;
    for (i, (s, ch)) in session.streams.iter().zip(&charts).enumerate() {
        progress(i as f64 / total);
        crate::sources::import::next_tick().await;
        let Some(ch) = ch else { continue };
        w.page();
        w.para(16.0, &title(s));
        w.gap(6.0);
        w.image(pixels(&presentation_canvas(s, ch)?)?);
        w.para(10.0, &format!("Limits: {}.", limits(ch, &s.unit)));
        w.para(
            10.0,
            &format!("Tests in use: {}; {}.", tests(ch), false_alarms(ch)),
        );
        w.para(10.0, &capability(s, ch));
        w.gap(8.0);
        let grouped = crate::model::marks(&ch.primary, 0..usize::MAX);
        w.para(
            12.0,
            &format!("Signals: {} at {} points", signal_count(ch), grouped.len()),
        );
        for group in grouped.iter().take(200) {
            let at = group.index;
            let value = ch
                .primary
                .point_at(at)
                .map_or("–".into(), |p| value(ch, p.statistic, &s.unit));
            let time = s.point_time(at).map_or(String::new(), when);
            w.row(
                9.0,
                &[0.0, 60.0, 180.0, 300.0],
                &[
                    format!("point {at}"),
                    time,
                    value,
                    format!("tests {}", group.fired().join(", ")),
                ],
            );
            let context: Vec<String> = (at.saturating_sub(10)..=at + 10)
                .filter_map(|j| {
                    ch.primary.point_at(j).map(|q| {
                        if j == at {
                            format!("[{}]", fmt(q.statistic))
                        } else {
                            fmt(q.statistic)
                        }
                    })
                })
                .collect();
            w.para(7.5, &format!("±10 points: {}", context.join("  ")));
        }
        if grouped.len() > 200 {
            w.para(
                9.0,
                &format!(
                    "… and {} more signalling points (see the CSV export).",
                    grouped.len() - 200
                ),
            );
        }
    }
    if let Some(compared) = super::compare_pdf::last() {
        super::compare_pdf::page(&mut w, &compared)?;
    }
    progress(1.0);
    crate::sources::import::next_tick().await;
    crate::lazy::pdf(&w).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Origin, Sample};

    fn stream(chart: &str, n: usize, values: impl Fn(usize) -> f64) -> Stream {
        let mut s = Stream::new("m/ttft_ms", "ms", Origin::Simulator);
        s.settings.chart.chart = Some(chart.into());
        s.samples = (0..n)
            .map(|i| Sample {
                t: 1_795_000_000_000.0 + 1000.0 * i as f64,
                value: values(i),
            })
            .collect();
        s
    }

    /// The `t` column of the CSV export, by point.
    fn csv_times(s: &Stream) -> Vec<f64> {
        let chart = s.chart().unwrap().unwrap();
        csv(s, &chart)
            .lines()
            .skip(1)
            .take_while(|l| !l.is_empty())
            .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
            .collect()
    }

    #[test]
    fn the_csv_gives_each_subgroup_the_time_it_was_complete() {
        let mut xbar = stream("xbar-r", 103, |i| 10.0 + (i % 7) as f64);
        xbar.settings.subgroup_size = Some(5);
        xbar.settings.chart.phase1 = Some(10);
        let t = csv_times(&xbar);
        assert_eq!(t.len(), 21); // 20 whole subgroups and the last 3 samples
        assert_eq!(t[0], xbar.samples[4].t);
        assert_eq!(t[3], xbar.samples[19].t);
        assert_eq!(t[20], xbar.samples[102].t);

        let mut p = stream("p", 255, |i| f64::from(i % 9 == 0));
        p.settings.subgroup_size = Some(10);
        p.settings.chart.phase1 = Some(20);
        let t = csv_times(&p);
        assert_eq!(t.len(), 25); // complete subgroups only
        assert_eq!(t[7], p.samples[79].t);
        assert_eq!(p.point_time(25), None);

        let single = stream("individuals", 40, |i| (i % 5) as f64);
        assert_eq!(csv_times(&single)[12], single.samples[12].t);
    }

    #[test]
    fn the_csv_lists_each_point_with_the_tests_that_fire_there() {
        let mut s = stream("individuals", 40, |i| {
            if i == 35 {
                50.0
            } else {
                (i % 5) as f64
            }
        });
        let text = stream_csv(&s).unwrap();
        let rows: Vec<&str> = text.lines().collect();
        assert_eq!(rows[0], "index,t,statistic,center,lcl,ucl,tests");
        assert!(rows[1 + 35].starts_with("35,"), "{}", rows[36]);
        // The spike ends a run of six rising points (30 to 35): tests 1 and 3 fire there.
        assert!(
            rows[1 + 35].ends_with(",1;3"),
            "tests 1 and 3 at the spike: {}",
            rows[36]
        );
        assert!(
            rows[1 + 34].ends_with(','),
            "no test at point 34: {}",
            rows[35]
        );
        assert!(rows.contains(&"signal_test,index,first,last"));
        assert!(rows.contains(&"1,35,35,35"), "{text}");
        assert!(rows.contains(&"3,35,30,35"), "{text}");
        // Before the baseline is complete there is nothing to export.
        s.samples.truncate(10);
        assert_eq!(stream_csv(&s), None);
    }

    #[test]
    fn the_false_alarm_rate_reads_as_a_sentence() {
        let mut s = stream("individuals", 40, |i| (i % 5) as f64);
        s.settings.chart.tests = Some("1".into());
        let chart = s.chart().unwrap().unwrap();
        // Test 1 alone: ARL0 = 1 / 0.0027 = 370.4 (Montgomery, table 6.3 row 1 / §6.2.3).
        assert_eq!(
            false_alarm_sentence(&chart),
            "About one false alarm every 370 points while in control (ARL0)."
        );
        s.settings.chart.tests = Some("none".into());
        let chart = s.chart().unwrap().unwrap();
        assert_eq!(
            false_alarm_sentence(&chart),
            "No tests are on, so the chart never signals."
        );
    }

    #[test]
    fn every_point_has_a_time_and_only_points_do() {
        for (chart, n) in [
            ("xbar-s", Some(4)),
            ("np", Some(3)),
            ("ewma", None),
            ("individuals", None),
        ] {
            let mut s = stream(chart, 97, |i| f64::from(i % 3 == 0));
            s.settings.subgroup_size = n;
            let points = s.data().len();
            assert!(s.point_time(points - 1).is_some(), "{chart}");
            assert_eq!(s.point_time(points), None, "{chart}");
        }
    }

    #[test]
    fn log_charts_show_center_limits_and_values_in_the_data_unit_too() {
        // TTFT around 4,300 ms, then a slow stretch.
        let mut s = stream("individuals", 60, |i| {
            let base = 4300.0 * (1.0 + 0.05 * ((i as f64) * 1.7).sin());
            if i >= 50 {
                base * 3.0
            } else {
                base
            }
        });
        s.settings.chart.transform = Some("log".into());
        let chart = s.chart().unwrap().unwrap();
        let center = chart.center();
        assert!((center - 4300f64.ln()).abs() < 0.05, "{center}");
        let shown = value(&chart, center, "ms");
        assert_eq!(shown, format!("{} ({} ms)", fmt(center), fmt(center.exp())));
        let words = limits(&chart, "ms");
        assert!(
            words.starts_with("individuals chart on the log scale: center 8."),
            "{words}"
        );
        assert_eq!(words.matches(" ms)").count(), 3, "{words}");
        let signal = chart.primary.signals[0].index;
        let p = chart.primary.point_at(signal).unwrap();
        assert!(value(&chart, p.statistic, "ms").ends_with(" ms)"));
        // Untransformed charts, and CUSUM sums, read as before.
        s.settings.chart.transform = None;
        let plain = s.chart().unwrap().unwrap();
        assert_eq!(value(&plain, 4300.0, "ms"), "4300.0");
        s.settings.chart.transform = Some("box-cox".into());
        s.settings.chart.chart = Some("cusum".into());
        let cusum = s.chart().unwrap().unwrap();
        assert_eq!(value(&cusum, 2.5, "ms"), "2.5000");
    }
}
