//! See it coming (issue 14): is a stream degrading, where is it heading, and when will it
//! cross a limit.
//!
//! - [`degradation()`]: the slope since the last changepoint ([`pelt`]), with its interval;
//! - the forecasts with intervals: the [`linear`] line, the offset exponential [`wear`]
//!   curve and damped-trend [`holt`]; by default the line, or the curve when a detected
//!   degradation bends ([`Model::Auto`]);
//! - [`limit`]: the time to limit, a median with 80% and 95% intervals;
//! - [`outlook`]: all of it for one stream, and the predictive alert ([`predict`]: without
//!   the band);
//! - [`generate`]: a seeded generator of labelled run-to-failure curves, to measure it.
//!
//! Why not a crate: `augurs-ets` pulls `nalgebra`, `rand`, `rand_distr`, `lstsq`, `roots` and
//! `tracing`, and `augurs-changepoint` (over `changepoint`) `nalgebra`, `ndarray`, `rayon` and
//! `rv`; the engine has no dependencies (it builds for wasm32 into the site's size budget), so
//! each method is written here with its definition cited and tested against R.

pub mod degradation;
pub mod generate;
pub mod holt;
pub mod limit;
pub mod linear;
pub mod pelt;
pub mod step;
pub mod student;
pub mod wear;

pub use degradation::{degradation, Degradation};

use crate::math::normal_quantile;
use crate::SpcError;
use holt::Holt;
use limit::Crossing;
use linear::Line;
use student::t_quantile;
use wear::Wear;

/// What the forecast extrapolates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Model {
    /// The line through the degradation window.
    Linear,
    /// The [`wear`] curve `θ + φ e^{βt}` (wear that grows with itself) on the window from
    /// [`degradation::curve_start`]; the line when no curve bends towards the limit clearly
    /// better than a line ([`wear::Wear::bends`]).
    Exponential,
    /// The default: the line, or the [`wear`] curve when a detected degradation steepens
    /// ([`degradation::convex_window`]: PELT cut it into pieces, each steeper than the last)
    /// and the curve fits that window clearly better than a line and than those pieces
    /// ([`wear::Wear::bends`]).
    #[default]
    Auto,
    /// Damped-trend Holt on the window.
    DampedHolt,
}

/// Which way the forecast heads to a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The lower limit.
    Lower,
    /// The upper limit.
    Upper,
}

/// What to forecast and against what.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// Points forecast past the last one (also the alert's horizon H).
    pub horizon: usize,
    /// The alert fires when P(crossing within the horizon) is at least this.
    pub probability: f64,
    /// The model.
    pub model: Model,
    /// The lower limit (LSL, LCL), if any.
    pub lower: Option<f64>,
    /// The upper limit (USL, UCL, SLO), if any.
    pub upper: Option<f64>,
}

impl Default for Settings {
    /// 100 points ahead, p = 0.8, [`Model::Auto`], no limits.
    fn default() -> Settings {
        Settings {
            horizon: 100,
            probability: 0.8,
            model: Model::Auto,
            lower: None,
            upper: None,
        }
    }
}

/// One step of the forecast band.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    /// The future point's index (0-based, counting on from the data's).
    pub index: usize,
    /// The median forecast.
    pub median: f64,
    /// The 80% prediction interval's lower end.
    pub lo80: f64,
    /// The 80% prediction interval's upper end.
    pub hi80: f64,
    /// The 95% prediction interval's lower end.
    pub lo95: f64,
    /// The 95% prediction interval's upper end.
    pub hi95: f64,
}

/// The time to the limit the forecast heads for.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TimeToLimit {
    /// Which limit (`None`: the forecast heads to no limit that was given).
    pub side: Option<Side>,
    /// Its value.
    pub limit: Option<f64>,
    /// When, in points after the last point.
    pub crossing: Crossing,
}

/// A stream's degradation, time to limit and predictive alert: an [`Outlook`] without its
/// band, for monitoring many streams.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prediction {
    /// Points read.
    pub n: usize,
    /// The slope test.
    pub degradation: Degradation,
    /// The time to limit.
    pub time_to_limit: TimeToLimit,
    /// The predictive alert: degradation detected, and P(crossing within the horizon and the
    /// window's reach, [`limit`]) at least `settings.probability`.
    pub alert: bool,
}

/// A stream's degradation, forecast band, time to limit and predictive alert.
#[derive(Clone, Debug, PartialEq)]
pub struct Outlook {
    /// Points read.
    pub n: usize,
    /// The slope test.
    pub degradation: Degradation,
    /// The forecast band, one step per point of the horizon.
    pub forecast: Vec<Step>,
    /// The time to limit.
    pub time_to_limit: TimeToLimit,
    /// The predictive alert (as [`Prediction::alert`]).
    pub alert: bool,
}

/// The outlook of `values` (finite, at least [`degradation::MIN_WINDOW`]) under `settings`.
pub fn outlook(values: &[f64], settings: &Settings) -> Result<Outlook, SpcError> {
    let (fit, p) = assess(values, settings)?;
    Ok(Outlook {
        n: p.n,
        degradation: p.degradation,
        forecast: fit.band(p.n, settings.horizon),
        time_to_limit: p.time_to_limit,
        alert: p.alert,
    })
}

/// [`outlook`] without the band: what an alerting loop needs.
pub fn predict(values: &[f64], settings: &Settings) -> Result<Prediction, SpcError> {
    assess(values, settings).map(|(_, p)| p)
}

/// The model fitted to the degradation window.
enum Fit {
    Line(Line),
    /// The wear curve and the length of its window (its reach).
    Wear(Wear, usize),
    Holt(Holt, f64),
}

fn assess(values: &[f64], settings: &Settings) -> Result<(Fit, Prediction), SpcError> {
    check(values, settings)?;
    let n = values.len();
    let d = degradation(values).ok_or(too_few(n))?;
    let window = &values[d.start..];
    let last = (n - 1) as f64;
    let fit = match settings.model {
        Model::Linear => Fit::Line(d.line),
        Model::Exponential => wear(values, degradation::curve_start(values), &[], &d)
            .filter(|f| matches!(f, Fit::Wear(w, _) if w.bends()))
            .unwrap_or(Fit::Line(d.line)),
        // Without a detected degradation there is no curve to choose.
        Model::Auto if d.detected => degradation::convex_window(values)
            .and_then(|(from, cuts)| wear(values, from, &cuts, &d))
            .filter(|f| matches!(f, Fit::Wear(w, _) if w.bends()))
            .unwrap_or(Fit::Line(d.line)),
        Model::Auto => Fit::Line(d.line),
        Model::DampedHolt => Fit::Holt(Holt::fit_best(window).ok_or(too_few(window.len()))?, last),
    };
    // The side the degradation's slope heads to (a model's last trend is noisier).
    let (side, target) = if d.slope > 0.0 {
        (Side::Upper, settings.upper)
    } else {
        (Side::Lower, settings.lower)
    };
    let time_to_limit = match target {
        Some(lim) => TimeToLimit {
            side: Some(side),
            limit: Some(lim),
            crossing: fit.crossing(
                last,
                lim,
                side == Side::Upper,
                settings.horizon,
                n - d.start,
            ),
        },
        None => TimeToLimit::default(),
    };
    let alert = d.detected && time_to_limit.crossing.within_reach >= settings.probability;
    let p = Prediction {
        n,
        degradation: d,
        time_to_limit,
        alert,
    };
    Ok((fit, p))
}

impl Fit {
    /// The time to `lim` from the point at `last`, within `horizon` and `reach` points.
    fn crossing(&self, last: f64, lim: f64, up: bool, horizon: usize, reach: usize) -> Crossing {
        let (h, r) = (horizon, reach);
        match self {
            Fit::Line(line) => limit::line_crossing(line, last, lim, up, h, r),
            // Its reach is its own, longer window.
            Fit::Wear(w, span) => limit::wear_crossing(w, lim, up, h, *span),
            Fit::Holt(m, _) => limit::holt_crossing(m, lim, up, h, r),
        }
    }

    /// The band for points `n .. n + horizon`.
    fn band(&self, n: usize, horizon: usize) -> Vec<Step> {
        let line_band = |line: &Line| -> Vec<Step> {
            // The 80% and 95% two-sided quantiles.
            let t = [t_quantile(0.9, line.df), t_quantile(0.975, line.df)];
            (n..n + horizon)
                .map(|index| {
                    let x = index as f64;
                    let (m, se) = (line.at(x), line.prediction_se(x));
                    step(index, m, [t[0] * se, t[1] * se].map(|h| (m - h, m + h)))
                })
                .collect()
        };
        match self {
            Fit::Line(line) => line_band(line),
            Fit::Wear(w, _) => (n..n + horizon)
                .map(|index| {
                    let x = index as f64;
                    let ends = [0.8, 0.95].map(|level| w.prediction(x, level));
                    step(index, w.at(x), ends)
                })
                .collect(),
            Fit::Holt(m, last) => {
                let z = [normal_quantile(0.9), normal_quantile(0.975)];
                (n..n + horizon)
                    .map(|index| {
                        let h = index - *last as usize;
                        let (f, sd) = (m.forecast(h), m.variance(h).sqrt());
                        step(index, f, [z[0] * sd, z[1] * sd].map(|h| (f - h, f + h)))
                    })
                    .collect()
            }
        }
    }
}

/// The wear curve on the window from `from` (held against the lines between `cuts`), heading
/// the degradation's way; `None` when it does not bend that way or the window is too short.
fn wear(values: &[f64], from: usize, cuts: &[usize], d: &Degradation) -> Option<Fit> {
    let w = Wear::fit_against(from as f64, &values[from..], d.slope > 0.0, cuts)?;
    Some(Fit::Wear(w, values.len() - from))
}

fn too_few(got: usize) -> SpcError {
    SpcError::TooFewPoints {
        needed: degradation::MIN_WINDOW,
        got,
        what: "a forecast",
    }
}

/// A band step from its median and its 80% and 95% intervals (either end first: a falling
/// exponential turns them round).
fn step(index: usize, median: f64, [i80, i95]: [(f64, f64); 2]) -> Step {
    let order = |(a, b): (f64, f64)| if a <= b { (a, b) } else { (b, a) };
    let ((lo80, hi80), (lo95, hi95)) = (order(i80), order(i95));
    Step {
        index,
        median,
        lo80,
        hi80,
        lo95,
        hi95,
    }
}

fn check(values: &[f64], settings: &Settings) -> Result<(), SpcError> {
    if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(SpcError::NotFinite { index, value });
    }
    if !(settings.probability > 0.0 && settings.probability <= 1.0) {
        return Err(SpcError::InvalidParameter {
            name: "probability",
            message: format!("{} is not in (0, 1]", settings.probability),
        });
    }
    if settings.horizon == 0 {
        return Err(SpcError::InvalidParameter {
            name: "horizon",
            message: "must be at least 1 point".into(),
        });
    }
    if let (Some(lo), Some(hi)) = (settings.lower, settings.upper) {
        if lo >= hi {
            return Err(SpcError::InvalidParameter {
                name: "limits",
                message: format!("the lower limit {lo} is not below the upper {hi}"),
            });
        }
    }
    Ok(())
}
