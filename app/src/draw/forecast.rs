//! The stream view's forecast chart (issue 14): the newest points, then the forecast band past
//! the last one (95% and 80% prediction intervals, the median thicker), the limit it heads for,
//! and the median crossing marked. The numbers are the engine's (made in the second module).

use super::{err, fit, pixel_ratio, Palette};
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

/// A band step: median, 80% low and high, 95% low and high.
pub type Step = [f64; 5];

/// Draws `history` (the newest values), `band` after it, the `limit` (value, name) and the
/// median `crossing` (points after the last point).
pub fn band(
    canvas: &HtmlCanvasElement,
    history: &[f64],
    band: &[Step],
    limit: Option<(f64, &str)>,
    crossing: Option<f64>,
    palette: Palette,
) -> Result<(), String> {
    fit(canvas);
    let backend =
        CanvasBackend::with_canvas_object(canvas.clone()).ok_or("no 2d canvas context")?;
    let root = backend.into_drawing_area();
    root.fill(&palette.background).map_err(err)?;
    if history.len() < 2 {
        return Ok(());
    }
    let last = (history.len() - 1) as f64;
    let all = history
        .iter()
        .copied()
        .chain(band.iter().flat_map(|s| [s[3], s[4]]))
        .chain(limit.map(|l| l.0))
        .filter(|v| v.is_finite());
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let pad = ((hi - lo) * 0.05).max(1e-9);
    let x_end = last + band.len().max(1) as f64;
    let ratio = pixel_ratio();
    let font = ("sans-serif", 12.0 * ratio)
        .into_font()
        .color(&palette.text);
    let mut c = ChartBuilder::on(&root)
        .margin((8.0 * ratio) as i32)
        .x_label_area_size((30.0 * ratio) as i32)
        .y_label_area_size((56.0 * ratio) as i32)
        .build_cartesian_2d(0.0..x_end, (lo - pad)..(hi + pad))
        .map_err(err)?;
    c.configure_mesh()
        .light_line_style(palette.grid)
        .bold_line_style(palette.grid)
        .axis_style(palette.text)
        .label_style(font)
        .x_desc("points (newest, then the forecast)")
        .draw()
        .map_err(err)?;
    // The intervals' ends as thin lines, the median as a thick one (lines only: polygon fills
    // would add plotters' rasterizer to the site's budget).
    let x = |i: usize| last + 1.0 + i as f64;
    for (end, alpha, width) in [
        (3, 0.35, 1.0),
        (4, 0.35, 1.0),
        (1, 0.7, 1.0),
        (2, 0.7, 1.0),
        (0, 1.0, 2.0),
    ] {
        c.draw_series(LineSeries::new(
            band.iter().enumerate().map(|(i, s)| (x(i), s[end])),
            palette.line.mix(alpha).stroke_width((width * ratio) as u32),
        ))
        .map_err(err)?;
    }
    c.draw_series(LineSeries::new(
        history.iter().enumerate().map(|(i, v)| (i as f64, *v)),
        palette.line.stroke_width((1.5 * ratio) as u32),
    ))
    .map_err(err)?;
    let label = ("sans-serif", 11.0 * ratio).into_font();
    if let Some((v, name)) = limit {
        c.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, v), (x_end, v)],
            palette.limit.stroke_width((1.5 * ratio) as u32),
        )))
        .map_err(err)?;
        let style = label.clone().color(&palette.limit);
        c.draw_series(std::iter::once(Text::new(
            name.to_string(),
            (0.0, v),
            style,
        )))
        .map_err(err)?;
    }
    if let (Some(m), Some((v, _))) = (crossing, limit) {
        let at = last + m;
        if at <= x_end {
            c.draw_series(std::iter::once(Circle::new(
                (at, v),
                (5.0 * ratio) as i32,
                palette.signal.filled(),
            )))
            .map_err(err)?;
            let style = label.color(&palette.signal);
            c.draw_series(std::iter::once(Text::new(
                "crossing".to_string(),
                (at, v),
                style,
            )))
            .map_err(err)?;
        }
    }
    root.present().map_err(err)
}
