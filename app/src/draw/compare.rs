//! The Compare view's charts: side-by-side box plots of the compared streams on one axis, and
//! the Pareto chart of latency against cost (or error rate) with the frontier marked.
//!
//! **Box plots, not ECDFs.** Several targets or machines must be read at a glance on one axis:
//! a box plot puts each stream's median, quartiles and tails side by side in its own column,
//! where overlaid ECDFs of 20 streams cross and hide each other. The quantiles that decide
//! (P50/P95/P99 with intervals) are in the table next to it.
//!
//! The box is Tukey's (J. W. Tukey, *Exploratory Data Analysis*, 1977, ch. 2; McGill, Tukey &
//! Larsen, "Variations of Box Plots", *The American Statistician* 32(1), 1978): the box spans
//! the hinges (Tukey's fourths, as R's `fivenum` computes them), the line is the median, the
//! whiskers reach the most extreme values within 1.5 × the hinge spread of the hinges, and
//! values beyond are drawn one by one. [`BoxStats::of`] gives R's `boxplot.stats` (it is in the
//! second module's crate, `llmscope_app_lazy::boxes`, where the comparison's Worker computes
//! the targets' boxes).

use super::{err, Palette};
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

pub use llmscope_app_lazy::boxes::BoxStats;

/// The y range covering every box and its outliers, with a margin.
fn range(boxes: &[Option<BoxStats>]) -> (f64, f64) {
    let values = boxes.iter().flatten().flat_map(|b| {
        [b.low, b.high]
            .into_iter()
            .chain(b.outliers.iter().copied())
    });
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.06).max(1e-9);
    (lo - pad, hi + pad)
}

/// Draws one box per stream, named under its column, on one axis labelled `y_label`. `ratio`
/// is device pixels per CSS pixel (the canvas is sized by the caller).
pub fn boxes(
    canvas: &HtmlCanvasElement,
    names: &[String],
    boxes: &[Option<BoxStats>],
    y_label: &str,
    ratio: f64,
    palette: Palette,
) -> Result<(), String> {
    let backend =
        CanvasBackend::with_canvas_object(canvas.clone()).ok_or("no 2d canvas context")?;
    let root = backend.into_drawing_area();
    root.fill(&palette.background).map_err(err)?;
    let (lo, hi) = range(boxes);
    let n = boxes.len().max(1) as f64;
    let font = ("sans-serif", 12.0 * ratio)
        .into_font()
        .color(&palette.text);
    let mut c = ChartBuilder::on(&root)
        .margin((10.0 * ratio) as i32)
        .x_label_area_size((34.0 * ratio) as i32)
        .y_label_area_size((60.0 * ratio) as i32)
        .build_cartesian_2d(-0.5..n - 0.5, lo..hi)
        .map_err(err)?;
    c.configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .light_line_style(palette.background)
        .bold_line_style(palette.grid)
        .axis_style(palette.text)
        .label_style(font.clone())
        .y_desc(y_label)
        .draw()
        .map_err(err)?;
    let half = 0.3;
    for (i, b) in boxes.iter().enumerate() {
        let x = i as f64;
        let Some(b) = b else { continue };
        let body = palette.line.mix(0.25).filled();
        let edge = palette.line.stroke_width((1.5 * ratio) as u32);
        let rect = [(x - half, b.q1), (x + half, b.q3)];
        c.draw_series([Rectangle::new(rect, body), Rectangle::new(rect, edge)])
            .map_err(err)?;
        let mid = palette.center.stroke_width((2.5 * ratio) as u32);
        let whisker = palette.text.stroke_width((1.0 * ratio) as u32);
        c.draw_series([
            PathElement::new(vec![(x - half, b.median), (x + half, b.median)], mid),
            PathElement::new(vec![(x, b.q3), (x, b.high)], whisker),
            PathElement::new(vec![(x, b.q1), (x, b.low)], whisker),
            PathElement::new(
                vec![(x - half / 2.0, b.high), (x + half / 2.0, b.high)],
                whisker,
            ),
            PathElement::new(
                vec![(x - half / 2.0, b.low), (x + half / 2.0, b.low)],
                whisker,
            ),
        ])
        .map_err(err)?;
        c.draw_series(
            b.outliers
                .iter()
                .map(|v| Circle::new((x, *v), (2.0 * ratio) as i32, palette.signal.mix(0.6))),
        )
        .map_err(err)?;
    }
    // The names under their columns, on the whole canvas (the mesh has no room for text).
    let label = font.pos(plotters::style::text_anchor::Pos::new(
        plotters::style::text_anchor::HPos::Center,
        plotters::style::text_anchor::VPos::Top,
    ));
    for (i, name) in names.iter().enumerate() {
        let (px, py) = c.backend_coord(&(i as f64, lo));
        root.draw(&Text::new(
            name.clone(),
            (px, py + (8.0 * ratio) as i32),
            label.clone(),
        ))
        .map_err(err)?;
    }
    root.present().map_err(err)
}

/// One point of the Pareto chart.
#[derive(Clone, Debug, PartialEq)]
pub struct ParetoPoint {
    /// The target's name.
    pub name: String,
    /// Latency (TTFT P95).
    pub x: f64,
    /// Cost per success, or the error rate.
    pub y: f64,
    /// On the Pareto frontier.
    pub frontier: bool,
}

/// The Pareto chart: each target at (`x`, `y`), lower is better on both; the frontier's points
/// filled and joined by a line, the others hollow.
pub fn pareto(
    canvas: &HtmlCanvasElement,
    points: &[ParetoPoint],
    (x_label, y_label): (&str, &str),
    ratio: f64,
    palette: Palette,
) -> Result<(), String> {
    let backend =
        CanvasBackend::with_canvas_object(canvas.clone()).ok_or("no 2d canvas context")?;
    let root = backend.into_drawing_area();
    root.fill(&palette.background).map_err(err)?;
    let fold = |f: fn(&ParetoPoint) -> f64| {
        points
            .iter()
            .map(f)
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            })
    };
    let pad = |(lo, hi): (f64, f64)| {
        if !lo.is_finite() {
            return (0.0, 1.0);
        }
        let p = ((hi - lo) * 0.15).max(hi.abs() * 0.05).max(1e-9);
        ((lo - p).max(0.0), hi + p)
    };
    let (x0, x1) = pad(fold(|p| p.x));
    let (y0, y1) = pad(fold(|p| p.y));
    let font = ("sans-serif", 12.0 * ratio)
        .into_font()
        .color(&palette.text);
    let mut c = ChartBuilder::on(&root)
        .margin((12.0 * ratio) as i32)
        .x_label_area_size((36.0 * ratio) as i32)
        .y_label_area_size((64.0 * ratio) as i32)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err)?;
    c.configure_mesh()
        .light_line_style(palette.background)
        .bold_line_style(palette.grid)
        .axis_style(palette.text)
        .label_style(font.clone())
        .x_desc(x_label)
        .y_desc(y_label)
        .draw()
        .map_err(err)?;
    let mut front: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| p.frontier && p.x.is_finite() && p.y.is_finite())
        .map(|p| (p.x, p.y))
        .collect();
    front.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    c.draw_series(std::iter::once(PathElement::new(
        front,
        palette.center.stroke_width((2.0 * ratio) as u32),
    )))
    .map_err(err)?;
    let r = (5.0 * ratio) as i32;
    for p in points.iter().filter(|p| p.x.is_finite() && p.y.is_finite()) {
        let style = if p.frontier {
            palette.center.filled()
        } else {
            palette.line.stroke_width((1.5 * ratio) as u32)
        };
        c.draw_series([Circle::new((p.x, p.y), r, style)])
            .map_err(err)?;
        c.draw_series([Text::new(
            p.name.clone(),
            (p.x, p.y),
            font.clone().pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Left,
                plotters::style::text_anchor::VPos::Bottom,
            )),
        )])
        .map_err(err)?;
    }
    root.present().map_err(err)
}
