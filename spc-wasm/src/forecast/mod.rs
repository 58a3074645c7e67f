//! See it coming (issue 14): is a stream degrading, where is it heading, and when will it
//! cross a limit.
//!
//! - [`degradation()`]: the slope since the last changepoint ([`pelt`]), with its interval;
//! - the forecasts with intervals: the [`linear`] line (and its exponential variant), and
//!   damped-trend [`holt`];
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
pub mod student;

pub use degradation::{degradation, Degradation};

use crate::math::normal_quantile;
use crate::SpcError;
use holt::Holt;
use limit::Crossing;
use linear::Line;
use student::t_quantile;

/// What the forecast extrapolates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Model {
    /// The line through the degradation window (the default).
    #[default]
    Linear,
    /// The line through the logarithm of the window (wear that grows with itself); needs
    /// positive values.
    Exponential,
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
    /// 100 points ahead, p = 0.8, linear, no limits.
    fn default() -> Settings {
        Settings {
            horizon: 100,
            probability: 0.8,
            model: Model::Linear,
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
    /// The line through `ln y`.
    Log(Line),
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
        Model::Exponential => {
            let logs = logs(window, d.start)?;
            Fit::Log(Line::fit(d.start as f64, &logs).ok_or(too_few(window.len()))?)
        }
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
            // A limit at or below 0 is never reached by a positive exponential.
            Fit::Log(line) if lim > 0.0 => limit::line_crossing(line, last, lim.ln(), up, h, r),
            Fit::Log(_) => Crossing::default(),
            Fit::Holt(m, _) => limit::holt_crossing(m, lim, up, h, r),
        }
    }

    /// The band for points `n .. n + horizon`.
    fn band(&self, n: usize, horizon: usize) -> Vec<Step> {
        let step = |index: usize, median: f64, half: [f64; 2], back: fn(f64) -> f64| Step {
            index,
            median: back(median),
            lo80: back(median - half[0]),
            hi80: back(median + half[0]),
            lo95: back(median - half[1]),
            hi95: back(median + half[1]),
        };
        match self {
            Fit::Line(line) | Fit::Log(line) => {
                let back: fn(f64) -> f64 = match self {
                    Fit::Log(_) => f64::exp,
                    _ => |v| v,
                };
                // The 80% and 95% two-sided quantiles.
                let t = [t_quantile(0.9, line.df), t_quantile(0.975, line.df)];
                (n..n + horizon)
                    .map(|index| {
                        let x = index as f64;
                        let se = line.prediction_se(x);
                        step(index, line.at(x), [t[0] * se, t[1] * se], back)
                    })
                    .collect()
            }
            Fit::Holt(m, last) => {
                let z = [normal_quantile(0.9), normal_quantile(0.975)];
                (n..n + horizon)
                    .map(|index| {
                        let h = index - *last as usize;
                        let sd = m.variance(h).sqrt();
                        step(index, m.forecast(h), [z[0] * sd, z[1] * sd], |v| v)
                    })
                    .collect()
            }
        }
    }
}

fn too_few(got: usize) -> SpcError {
    SpcError::TooFewPoints {
        needed: degradation::MIN_WINDOW,
        got,
        what: "a forecast",
    }
}

/// The logarithms of the window, which starts at point `start`.
fn logs(window: &[f64], start: usize) -> Result<Vec<f64>, SpcError> {
    window
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if v > 0.0 {
                Ok(v.ln())
            } else {
                Err(SpcError::InvalidParameter {
                    name: "model",
                    message: format!(
                        "the exponential model needs positive values; point {} is {v}",
                        start + i
                    ),
                })
            }
        })
        .collect()
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
