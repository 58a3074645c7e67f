//! Drawing charts on `<canvas>` with plotters: the control chart (zones, Phase I shading, limits,
//! signals with their test numbers), the companion chart, the histogram and the sparkline.
//! Presentation only: every number comes from the engine's `Chart` value.
//!
//! Large streams are decimated for display only (min and max per pixel column); the analysis
//! always sees every point.
//!
//! `compare`: the Compare view's box plots and Pareto chart.

pub mod compare;

use llmscope_spc::{Chart, Point, Series};
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

/// Colors for the light or dark theme.
#[derive(Clone, Copy)]
pub struct Palette {
    /// The canvas behind the charts.
    pub background: RGBColor,
    /// Labels, axes and legend text.
    pub text: RGBColor,
    /// Grid lines of the mesh.
    pub grid: RGBColor,
    /// The plotted statistic (the stream's points).
    pub line: RGBColor,
    /// The upper and lower control limits (UCL, LCL).
    pub limit: RGBColor,
    /// The center line.
    pub center: RGBColor,
    /// Signal points and their test numbers.
    pub signal: RGBColor,
    /// Zone A, between 2 and 3 sigma from the center.
    pub zone_a: RGBColor,
    /// Zone B, between 1 and 2 sigma from the center.
    pub zone_b: RGBColor,
    /// Zone C, within 1 sigma of the center.
    pub zone_c: RGBColor,
    /// The Phase I (baseline) shading.
    pub baseline: RGBColor,
}

impl Palette {
    /// The palette for the dark theme, or the light one.
    pub fn new(dark: bool) -> Palette {
        if dark {
            Palette {
                background: RGBColor(22, 27, 34),
                text: RGBColor(220, 226, 232),
                grid: RGBColor(48, 54, 61),
                line: RGBColor(121, 184, 255),
                limit: RGBColor(255, 123, 114),
                center: RGBColor(126, 231, 135),
                signal: RGBColor(255, 90, 80),
                zone_a: RGBColor(70, 40, 44),
                zone_b: RGBColor(60, 52, 36),
                zone_c: RGBColor(32, 48, 40),
                baseline: RGBColor(90, 100, 140),
            }
        } else {
            Palette {
                background: RGBColor(255, 255, 255),
                text: RGBColor(36, 41, 47),
                grid: RGBColor(225, 228, 232),
                line: RGBColor(9, 105, 218),
                limit: RGBColor(207, 34, 46),
                center: RGBColor(26, 127, 55),
                signal: RGBColor(207, 34, 46),
                zone_a: RGBColor(253, 232, 232),
                zone_b: RGBColor(255, 245, 214),
                zone_c: RGBColor(232, 245, 233),
                baseline: RGBColor(150, 160, 190),
            }
        }
    }
}

/// Device pixels per CSS pixel (at least 1), so charts are sharp on dense screens.
pub fn pixel_ratio() -> f64 {
    web_sys::window()
        .map_or(1.0, |w| w.device_pixel_ratio())
        .max(1.0)
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Sizes the canvas's bitmap to its CSS box (times the device pixel ratio), so lines are sharp.
pub fn fit(canvas: &HtmlCanvasElement) {
    let ratio = pixel_ratio();
    let (w, h) = (
        canvas.client_width().max(1) as f64,
        canvas.client_height().max(1) as f64,
    );
    canvas.set_width((w * ratio) as u32);
    canvas.set_height((h * ratio) as u32);
}

/// The points at positions `range` of a series, decimated to at most two per pixel column
/// (min and max, in order), without collecting the points in between.
fn decimate_range(series: &Series, range: std::ops::Range<usize>, columns: usize) -> Vec<Point> {
    let n = range.len();
    if n <= columns.max(1) * 2 {
        return range.filter_map(|i| series.point(i)).collect();
    }
    let stats = &series.statistics()[range.clone()];
    let per = n as f64 / columns as f64;
    let mut out = Vec::with_capacity(columns * 2);
    for c in 0..columns {
        let (a, b) = (
            (c as f64 * per) as usize,
            (((c + 1) as f64 * per) as usize).clamp((c as f64 * per) as usize + 1, n),
        );
        let chunk = &stats[a..b];
        let (mut lo, mut hi) = (0, 0);
        for (j, v) in chunk.iter().enumerate() {
            if *v < chunk[lo] {
                lo = j;
            }
            if *v > chunk[hi] {
                hi = j;
            }
        }
        let (first, second) = if lo <= hi { (lo, hi) } else { (hi, lo) };
        out.extend(series.point(range.start + a + first));
        if second != first {
            out.extend(series.point(range.start + a + second));
        }
    }
    out
}

/// The y range covering the points and their limits, with a margin.
fn y_range(points: &[Point]) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for p in points {
        for v in [Some(p.statistic), p.lcl, p.ucl]
            .into_iter()
            .flatten()
            .filter(|v| v.is_finite())
        {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(1e-9);
    (lo - pad, hi + pad)
}

/// Where the plot area of a drawn chart lies, to map a pointer back to a point.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Mapping {
    /// Plot area's left edge, in CSS pixels.
    pub left: f64,
    /// Plot area's right edge, in CSS pixels.
    pub right: f64,
    /// Point index at the left edge.
    pub x0: f64,
    /// Point index at the right edge.
    pub x1: f64,
}

impl Mapping {
    /// The point index under a CSS-pixel x offset, if inside the plot area.
    pub fn index_at(&self, x: f64) -> Option<usize> {
        if !(self.left..=self.right).contains(&x) || self.right <= self.left {
            return None;
        }
        let v = self.x0 + (x - self.left) / (self.right - self.left) * (self.x1 - self.x0);
        (v >= -0.5).then(|| v.round().max(0.0) as usize)
    }
}

/// Draws one series (primary or companion) for points whose index lies in `range`; returns
/// where its plot area lies.
#[allow(clippy::too_many_arguments)]
pub fn series(
    canvas: &HtmlCanvasElement,
    chart: &Chart,
    series: &Series,
    range: std::ops::Range<usize>,
    y_label: &str,
    zones: bool,
    palette: Palette,
) -> Result<Mapping, String> {
    fit(canvas);
    let view = View {
        chart,
        series,
        range,
        y_label,
        zones,
        palette,
    };
    render(canvas, pixel_ratio(), None, &view)
}

/// What [`render`] draws.
struct View<'a> {
    chart: &'a Chart,
    series: &'a Series,
    range: std::ops::Range<usize>,
    y_label: &'a str,
    zones: bool,
    palette: Palette,
}

/// The width of an exported chart, in pixels: a full-HD slide.
pub const PRESENTATION_WIDTH: u32 = 1920;

/// The chart for a slide or a report: [`PRESENTATION_WIDTH`] by 1080 pixels, every point, with
/// a title, a subtitle (limits, tests) and a legend, on the light palette (it will be printed).
pub fn presentation(
    canvas: &HtmlCanvasElement,
    chart: &Chart,
    y_label: &str,
    title: &str,
    subtitle: &str,
) -> Result<(), String> {
    canvas.set_width(PRESENTATION_WIDTH);
    canvas.set_height(PRESENTATION_WIDTH * 9 / 16);
    let len = chart.primary.first_index() + chart.primary.len();
    let view = View {
        chart,
        series: &chart.primary,
        range: 0..len,
        y_label,
        zones: true,
        palette: Palette::new(false),
    };
    let ratio = f64::from(PRESENTATION_WIDTH) / 960.0;
    render(canvas, ratio, Some((title, subtitle)), &view).map(|_| ())
}

/// The title band of an exported chart: title, subtitle, and a legend of every mark drawn
/// (`named`: the chart runs named rules, whose names mark its signals too).
fn titles<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    (title, subtitle): (&str, &str),
    ratio: f64,
    palette: Palette,
    named: bool,
) -> Result<(), String> {
    let big = ("sans-serif", 20.0 * ratio)
        .into_font()
        .color(&palette.text);
    let small = ("sans-serif", 11.0 * ratio)
        .into_font()
        .color(&palette.text);
    let at = |x: f64, y: f64| ((x * ratio) as i32, (y * ratio) as i32);
    area.draw(&Text::new(title.to_string(), at(12.0, 8.0), big))
        .map_err(err)?;
    area.draw(&Text::new(
        subtitle.to_string(),
        at(12.0, 34.0),
        small.clone(),
    ))
    .map_err(err)?;
    let legend: [(&str, RGBColor, bool); 6] = [
        ("statistic", palette.line, false),
        ("center line", palette.center, false),
        ("control limits (3 sigma)", palette.limit, false),
        ("zones C, B, A (1, 2, 3 sigma)", palette.zone_b, true),
        ("Phase I (baseline)", palette.baseline, true),
        (
            if named {
                "signal (test numbers, rule names)"
            } else {
                "signal (test numbers)"
            },
            palette.signal,
            false,
        ),
    ];
    let mut x = 12.0;
    for (label, color, filled) in legend {
        let (x0, y0) = at(x, 56.0);
        let (x1, y1) = at(x + 18.0, 62.0);
        if filled {
            area.draw(&Rectangle::new([(x0, y0), (x1, y1)], color.filled()))
                .map_err(err)?;
        } else {
            let mid = (y0 + y1) / 2;
            area.draw(&PathElement::new(
                vec![(x0, mid), (x1, mid)],
                color.stroke_width((2.0 * ratio) as u32),
            ))
            .map_err(err)?;
        }
        area.draw(&Text::new(
            label.to_string(),
            at(x + 22.0, 53.0),
            small.clone(),
        ))
        .map_err(err)?;
        x += 30.0 + label.len() as f64 * 6.0;
    }
    Ok(())
}

fn render(
    canvas: &HtmlCanvasElement,
    ratio: f64,
    title: Option<(&str, &str)>,
    view: &View,
) -> Result<Mapping, String> {
    let View {
        chart,
        series,
        ref range,
        y_label,
        zones,
        palette,
    } = *view;
    let range = range.clone();
    let backend =
        CanvasBackend::with_canvas_object(canvas.clone()).ok_or("no 2d canvas context")?;
    let root = backend.into_drawing_area();
    root.fill(&palette.background).map_err(err)?;
    let area = match title {
        Some(t) => {
            let (top, body) = root.split_vertically((72.0 * ratio) as u32);
            let named = !series.rules.custom().is_empty();
            titles(&top, t, ratio, palette, named)?;
            body
        }
        None => root.clone(),
    };
    // Everything below works on the decimated points: at most two per pixel column, so a
    // 100,000-point stream draws as fast as a 3,000-point one. Limits are piecewise constant,
    // and min/max per column keeps every spike, so nothing a reader needs is lost.
    let columns = canvas.width() as usize;
    let first = series.first_index();
    let from = range.start.saturating_sub(first).min(series.len());
    let to = range.end.saturating_sub(first).min(series.len());
    let visible: Vec<Point> = decimate_range(series, from..to, columns);
    if visible.is_empty() {
        return Ok(Mapping::default());
    }
    let (y0, y1) = y_range(&visible);
    let (x0, x1) = (range.start as f64 - 0.5, range.end as f64 - 0.5);
    let font = ("sans-serif", 12.0 * ratio)
        .into_font()
        .color(&palette.text);
    let mut c = ChartBuilder::on(&area)
        .margin((8.0 * ratio) as i32)
        .x_label_area_size((30.0 * ratio) as i32)
        .y_label_area_size((64.0 * ratio) as i32)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err)?;
    c.configure_mesh()
        .light_line_style(palette.grid)
        .bold_line_style(palette.grid)
        .axis_style(palette.text)
        .label_style(font.clone())
        .x_desc("point")
        .y_desc(y_label)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()
        .map_err(err)?;

    if zones {
        // Bands at 1, 2 and 3 sigma of the statistic: C nearest the center, then B, then A.
        let step = if series.constant_limits() {
            visible.len().max(1)
        } else {
            1
        };
        for (k, color) in [
            (3.0, palette.zone_a),
            (2.0, palette.zone_b),
            (1.0, palette.zone_c),
        ] {
            let bands = visible.windows(2).step_by(step).map(|w| {
                let (p, q) = (w[0], w[1]);
                let end = if step > 1 { x1 } else { q.index as f64 };
                Rectangle::new(
                    [
                        (p.index as f64 - 0.5, p.center - k * p.sigma),
                        (end, p.center + k * p.sigma),
                    ],
                    color.filled(),
                )
            });
            c.draw_series(bands).map_err(err)?;
        }
    }
    // Phase I: the baseline that set the limits, shaded apart from Phase II.
    let e = &chart.estimate;
    if !e.known && e.baseline_end > e.baseline_start {
        let (a, b) = (
            e.baseline_start.max(range.start) as f64 - 0.5,
            e.baseline_end.min(range.end) as f64 - 0.5,
        );
        if b > a {
            c.draw_series(std::iter::once(Rectangle::new(
                [(a, y0), (b, y1)],
                palette.baseline.mix(0.3).filled(),
            )))
            .map_err(err)?;
            let style = ("sans-serif", 11.0 * ratio)
                .into_font()
                .color(&palette.text);
            c.draw_series(std::iter::once(Text::new("Phase I", (a + 0.5, y1), style)))
                .map_err(err)?;
        }
    }
    let line = |f: fn(&Point) -> Option<f64>| -> Vec<(f64, f64)> {
        visible
            .iter()
            .filter_map(|p| f(p).map(|v| (p.index as f64, v)))
            .collect()
    };
    c.draw_series(LineSeries::new(
        line(|p| Some(p.center)),
        palette.center.stroke_width(2),
    ))
    .map_err(err)?
    .label("center")
    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], palette.center));
    for f in [
        (|p: &Point| p.ucl) as fn(&Point) -> Option<f64>,
        |p: &Point| p.lcl,
    ] {
        c.draw_series(LineSeries::new(line(f), palette.limit.stroke_width(2)))
            .map_err(err)?;
    }
    let shown = &visible;
    c.draw_series(LineSeries::new(
        shown.iter().map(|p| (p.index as f64, p.statistic)),
        palette.line.stroke_width(1),
    ))
    .map_err(err)?;
    if shown.len() <= 400 {
        c.draw_series(shown.iter().map(|p| {
            Circle::new(
                (p.index as f64, p.statistic),
                2.5 * ratio,
                palette.line.filled(),
            )
        }))
        .map_err(err)?;
    }
    // Signals: a ring at the point and the test numbers above it.
    let first = series.first_index();
    let marked = crate::model::marks(series, range.clone());
    // One draw call per kind of element: a call per signal costs more than the drawing.
    let dense = marked.len() > 60;
    let at: Vec<(Point, String)> = marked
        .iter()
        .filter_map(|m| Some((series.point(m.index - first)?, m.label())))
        .collect();
    let mut squares = Vec::new();
    if dense {
        // Many signals: squares in one canvas path below, since one plotters element per signal
        // (a style change and a fill each) costs more than the rest of the chart.
        squares = at
            .iter()
            .map(|(p, _)| c.backend_coord(&(p.index as f64, p.statistic)))
            .collect();
    } else {
        c.draw_series(at.iter().map(|(p, _)| {
            Circle::new(
                (p.index as f64, p.statistic),
                5.0 * ratio,
                palette.signal.stroke_width(2),
            )
        }))
        .map_err(err)?;
    }
    if !dense {
        let style = ("sans-serif", 11.0 * ratio)
            .into_font()
            .color(&palette.signal);
        c.draw_series(at.iter().map(|(p, label)| {
            Text::new(label.clone(), (p.index as f64, p.statistic), style.clone())
        }))
        .map_err(err)?;
    }
    let (px, _) = c.plotting_area().get_pixel_range();
    root.present().map_err(err)?;
    fill_squares(canvas, &squares, 2.5 * ratio, palette.signal);
    Ok(Mapping {
        left: px.start as f64 / ratio,
        right: px.end as f64 / ratio,
        x0,
        x1,
    })
}

/// Fills a small square at each pixel position, in one path.
fn fill_squares(canvas: &HtmlCanvasElement, at: &[(i32, i32)], half: f64, color: RGBColor) {
    use wasm_bindgen::JsCast;
    if at.is_empty() {
        return;
    }
    let Some(ctx) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    ctx.set_fill_style_str(&format!("rgb({},{},{})", color.0, color.1, color.2));
    ctx.begin_path();
    for (x, y) in at {
        ctx.rect(*x as f64 - half, *y as f64 - half, 2.0 * half, 2.0 * half);
    }
    ctx.fill();
}

/// A small line of the latest values, for a dashboard card.
pub fn sparkline(
    canvas: &HtmlCanvasElement,
    values: &[f64],
    color: RGBColor,
    palette: Palette,
) -> Result<(), String> {
    fit(canvas);
    let backend =
        CanvasBackend::with_canvas_object(canvas.clone()).ok_or("no 2d canvas context")?;
    let root = backend.into_drawing_area();
    root.fill(&palette.background).map_err(err)?;
    if values.len() < 2 {
        return Ok(());
    }
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let pad = ((hi - lo) * 0.1).max(1e-9);
    let mut c = ChartBuilder::on(&root)
        .margin(2)
        .build_cartesian_2d(0.0..(values.len() - 1) as f64, (lo - pad)..(hi + pad))
        .map_err(err)?;
    c.draw_series(LineSeries::new(
        values.iter().enumerate().map(|(i, v)| (i as f64, *v)),
        color.stroke_width(2),
    ))
    .map_err(err)?;
    root.present().map_err(err)
}

/// A histogram of the values with the control limits and spec limits marked.
pub fn histogram(
    canvas: &HtmlCanvasElement,
    values: &[f64],
    marks: &[(f64, &'static str)],
    x_label: &str,
    palette: Palette,
) -> Result<(), String> {
    fit(canvas);
    let backend =
        CanvasBackend::with_canvas_object(canvas.clone()).ok_or("no 2d canvas context")?;
    let root = backend.into_drawing_area();
    root.fill(&palette.background).map_err(err)?;
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.len() < 2 {
        return Ok(());
    }
    let mut lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let mut hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for (m, _) in marks {
        lo = lo.min(*m);
        hi = hi.max(*m);
    }
    let pad = ((hi - lo) * 0.05).max(1e-9);
    let (lo, hi) = (lo - pad, hi + pad);
    let bins = ((finite.len() as f64).sqrt() as usize).clamp(8, 60);
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0u32; bins];
    for v in &finite {
        let b = (((v - lo) / width) as usize).min(bins - 1);
        counts[b] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1) as f64 * 1.15;
    let ratio = pixel_ratio();
    let font = ("sans-serif", 12.0 * ratio)
        .into_font()
        .color(&palette.text);
    let mut c = ChartBuilder::on(&root)
        .margin((8.0 * ratio) as i32)
        .x_label_area_size((30.0 * ratio) as i32)
        .y_label_area_size((48.0 * ratio) as i32)
        .build_cartesian_2d(lo..hi, 0.0..top)
        .map_err(err)?;
    c.configure_mesh()
        .light_line_style(palette.grid)
        .bold_line_style(palette.grid)
        .axis_style(palette.text)
        .label_style(font)
        .x_desc(x_label)
        .y_desc("count")
        .draw()
        .map_err(err)?;
    c.draw_series(counts.iter().enumerate().map(|(i, n)| {
        let x = lo + i as f64 * width;
        Rectangle::new(
            [(x, 0.0), (x + width, *n as f64)],
            palette.line.mix(0.6).filled(),
        )
    }))
    .map_err(err)?;
    for (m, label) in marks {
        let color = if label.ends_with("SL") {
            palette.center
        } else {
            palette.limit
        };
        c.draw_series(std::iter::once(PathElement::new(
            vec![(*m, 0.0), (*m, top)],
            color.stroke_width(2),
        )))
        .map_err(err)?;
        let style = ("sans-serif", 11.0 * ratio).into_font().color(&color);
        c.draw_series(std::iter::once(Text::new(
            label.to_string(),
            (*m, top * 0.98),
            style,
        )))
        .map_err(err)?;
    }
    root.present().map_err(err)
}
