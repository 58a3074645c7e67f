//! Predictive alerts (issue 14): per target, TTFT and total latency are forecast over the
//! stored history with the engine's [`llmscope_spc::forecast::predict`] (its default
//! model: the line since the last changepoint, or the wear curve when the degradation
//! steepens) against the target's SLO (`slo_ttft_ms`, `slo_total_ms`), or else the metric's
//! frozen UCL. The alert fires when P(crossing within
//! the horizon) is at least the configured probability, once per episode like the chart
//! alerts ([`crate::alert`]): it opens when the condition first holds and closes after
//! `clean_run` cron runs in a row without it, so a probability wavering around the threshold
//! does not page at every run.

use crate::alert::{self, Alert, Metric};
use crate::target::{ConfigError, Target};
use llmscope_protocol::probe::ProbeResult;
use llmscope_spc::forecast::{self, degradation::MIN_WINDOW, Side};
use serde::{Deserialize, Serialize};

/// The metrics forecast: the latencies, which an SLO caps from above.
pub const METRICS: [Metric; 2] = [Metric::TtftMs, Metric::TotalMs];

/// Default `LLMSCOPE_FORECAST_HORIZON`: 288 probes, 24 h at the shipped 5-minute cron.
pub const HORIZON: usize = 288;
/// The longest horizon accepted, in probes.
pub const MAX_HORIZON: usize = 100_000;
/// Default `LLMSCOPE_FORECAST_PROBABILITY`.
pub const PROBABILITY: f64 = 0.8;

/// How predictive alerts are computed (Worker variables `LLMSCOPE_FORECAST_HORIZON`, in
/// probes, and `LLMSCOPE_FORECAST_PROBABILITY`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// Probes ahead the crossing is looked for.
    pub horizon: usize,
    /// The alert fires when P(crossing within the horizon) is at least this.
    pub probability: f64,
    /// Cron runs in a row without the condition that close an episode.
    pub clean_run: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            horizon: HORIZON,
            probability: PROBABILITY,
            clean_run: alert::Settings::default().clean_run,
        }
    }
}

impl Settings {
    /// The settings from the variables' values; a bad value is reported (naming the
    /// variable) and its default used.
    pub fn from_vars(
        horizon: Option<&str>,
        probability: Option<&str>,
    ) -> (Settings, Vec<ConfigError>) {
        let mut s = Settings::default();
        let mut errors = Vec::new();
        if let Some(v) = horizon {
            match v.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_HORIZON).contains(&n) => s.horizon = n,
                _ => errors.push(ConfigError::new(
                    "*",
                    "LLMSCOPE_FORECAST_HORIZON",
                    format!("must be a whole number of probes from 1 to {MAX_HORIZON}, not {v:?}"),
                )),
            }
        }
        if let Some(v) = probability {
            match v.trim().parse::<f64>() {
                Ok(p) if p > 0.0 && p < 1.0 => s.probability = p,
                _ => errors.push(ConfigError::new(
                    "*",
                    "LLMSCOPE_FORECAST_PROBABILITY",
                    format!(
                        "must be a probability between 0 and 1 (exclusive), e.g. 0.8, not {v:?}"
                    ),
                )),
            }
        }
        (s, errors)
    }
}

/// The limit a metric is forecast against.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limit {
    /// `SLO` (the target's) or `UCL` (the chart's).
    pub name: &'static str,
    /// Its value, ms.
    pub value: f64,
}

/// `metric`'s limit for `target`: its SLO when configured, else the UCL of the chart's
/// frozen baseline (`chart`, the metric's alert state); none before the baseline is frozen.
pub fn limit(target: &Target, metric: Metric, chart: &alert::State) -> Option<Limit> {
    let slo = match metric {
        Metric::TtftMs => target.slo_ttft_ms,
        Metric::TotalMs => target.slo_total_ms,
        _ => return None,
    };
    if let Some(value) = slo {
        return Some(Limit { name: "SLO", value });
    }
    let ucl = chart.center? + 3.0 * chart.sigma.filter(|s| *s > 0.0)?;
    Some(Limit {
        name: "UCL",
        value: ucl,
    })
}

/// The predictive alert's fields (beside the alert's own in the JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Predictive {
    /// Always `predictive`: what sets it apart from a chart alert.
    pub kind: Kind,
    /// `SLO` or `UCL`.
    pub limit_name: String,
    /// The limit, ms.
    pub limit: f64,
    /// Median time to the limit, in probes after the last one.
    pub median: f64,
    /// The 80% interval of the time to limit, in probes (`None`: beyond the horizon).
    pub lo80: Option<f64>,
    /// Its upper end.
    pub hi80: Option<f64>,
    /// P(crossing within the horizon and the forecast's reach, as far ahead as its window is
    /// long): what the alert reads.
    pub probability: f64,
    /// The horizon, in probes.
    pub horizon: usize,
    /// The median in hours at the history's median probe interval.
    pub median_h: Option<f64>,
}

/// The alert kind tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A forecast crossing.
    Predictive,
}

impl Predictive {
    /// The words: `target/ttft reaches its SLO 2000 ms in about 31 probes (≈ 2.6 h) (80%: 25–40)`.
    pub fn describe(&self, target: &str, metric: &str) -> String {
        let short = metric.strip_suffix("_ms").unwrap_or(metric);
        let hours = self
            .median_h
            .map(|h| format!(" (≈ {} h)", hours(h)))
            .unwrap_or_default();
        let end =
            |e: Option<f64>, beyond: &str| e.map_or(beyond.to_string(), |p| format!("{p:.0}"));
        format!(
            "{target}/{short} reaches its {} {:.0} ms in about {:.0} probes{hours} (80%: {}–{})",
            self.limit_name,
            self.limit,
            self.median,
            end(self.lo80, "0"),
            end(self.hi80, &format!(">{}", self.horizon)),
        )
    }
}

/// Hours to a sensible precision: whole from 10 h, tenths from 1 h, two significant digits
/// below (a probe every few seconds still reads as more than nothing).
fn hours(h: f64) -> String {
    match h {
        h if h >= 10.0 => format!("{h:.0}"),
        h if h >= 1.0 => format!("{h:.1}"),
        h if h > 0.0 => {
            let decimals = (1.0 - h.log10().floor()).clamp(2.0, 9.0) as usize;
            format!("{h:.decimals$}")
        }
        _ => "0".into(),
    }
}

/// Where one (target, metric) forecast stands, persisted between cron runs (D1
/// `alert_state`, metric `forecast/<metric>`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Time of the last point forecast from; a run with no newer point changes nothing.
    pub last_t: i64,
    /// Whether an episode is open (already alerted).
    pub open: bool,
    /// Runs without the condition since it last held.
    pub clean: usize,
}

/// The `alert_state` key of `metric`'s forecast.
pub fn state_key(metric: Metric) -> String {
    format!("forecast/{}", metric.name())
}

/// The successful probes' (time, value) of `metric`, oldest first.
fn series(history: &[ProbeResult], metric: Metric) -> Vec<(i64, f64)> {
    let pick = |r: &ProbeResult| match metric {
        Metric::TtftMs => r.ttft_ms,
        Metric::TotalMs => r.total_ms,
        _ => None,
    };
    history
        .iter()
        .filter(|r| r.ok)
        .filter_map(|r| Some((r.t, pick(r).filter(|v| v.is_finite())?)))
        .collect()
}

/// The median time between consecutive points, ms (`None` for fewer than two).
fn probe_interval_ms(points: &[(i64, f64)]) -> Option<f64> {
    let mut gaps: Vec<i64> = points.windows(2).map(|w| w[1].0 - w[0].0).collect();
    gaps.sort_unstable();
    gaps.get(gaps.len() / 2).map(|&g| g as f64)
}

/// Forecasts `metric` of `target`'s history (oldest first) against `limit`: the predictive
/// alert when an episode opens, with `state` advanced. Errors are the engine's; they alert
/// nobody and are logged by the caller.
pub fn evaluate(
    target: &str,
    metric: Metric,
    history: &[ProbeResult],
    limit: Limit,
    settings: &Settings,
    state: &mut State,
) -> Result<Option<Alert>, String> {
    let points = series(history, metric);
    let Some(&(last_t, last)) = points.last() else {
        return Ok(None);
    };
    if last_t <= state.last_t || points.len() < MIN_WINDOW {
        return Ok(None);
    }
    state.last_t = last_t;
    let values: Vec<f64> = points.iter().map(|p| p.1).collect();
    let engine = forecast::Settings {
        horizon: settings.horizon,
        probability: settings.probability,
        upper: Some(limit.value),
        ..forecast::Settings::default()
    };
    let p = forecast::predict(&values, &engine).map_err(|e| e.to_string())?;
    let crossing = p.time_to_limit.crossing;
    // A median of 0 is a limit already reached: the chart alert's business, not a forecast.
    let median = crossing
        .median
        .filter(|&m| m > 0.0 && p.alert && p.time_to_limit.side == Some(Side::Upper));
    let Some(median) = median else {
        state.clean += 1;
        if state.clean >= settings.clean_run {
            state.open = false;
        }
        return Ok(None);
    };
    state.clean = 0;
    if state.open {
        return Ok(None);
    }
    state.open = true;
    let median_h = probe_interval_ms(&points).map(|ms| median * ms / 3_600_000.0);
    Ok(Some(Alert {
        target: target.to_string(),
        metric: metric.name(),
        t: last_t,
        value: last,
        center: p.degradation.line.mean,
        lcl: None,
        ucl: None,
        tests: Vec::new(),
        rules: Vec::new(),
        why: None,
        forecast: Some(Predictive {
            kind: Kind::Predictive,
            limit_name: limit.name.to_string(),
            limit: limit.value,
            median,
            lo80: crossing.lo80,
            hi80: crossing.hi80,
            probability: crossing.within_reach,
            horizon: settings.horizon,
            median_h,
        }),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(i: usize, ttft: f64) -> ProbeResult {
        ProbeResult {
            target: "drift".into(),
            provider: "openai".into(),
            model: "m".into(),
            t: i as i64 * 300_000, // every 5 minutes
            ok: true,
            status: Some(200),
            ttft_ms: Some(ttft),
            total_ms: Some(ttft + 400.0),
            input_tokens: None,
            output_tokens: None,
            cached_input_tokens: None,
            tokens_per_s: None,
            cost_usd: None,
            error: None,
            quality_pass: None,
            extra: Default::default(),
        }
    }

    /// Uniform noise in ±20 ms from a fixed linear congruential sequence (Knuth's MMIX
    /// constants), so the tests are exact.
    fn noise(i: usize) -> f64 {
        let x = (i as u64 + 1)
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((x >> 33) as f64 / (1u64 << 31) as f64 - 0.5) * 40.0
    }

    /// `flat` probes around 200 ms, then `ramp` rising 40 ms a probe (the engine trusts a line only as far ahead as it is long,
    /// so a ramp reaches 2000 ms within its reach from about its 23rd probe).
    fn drifting(flat: usize, ramp: usize) -> Vec<ProbeResult> {
        (0..flat + ramp)
            .map(|i| probe(i, 200.0 + 40.0 * i.saturating_sub(flat) as f64 + noise(i)))
            .collect()
    }

    const SLO: Limit = Limit {
        name: "SLO",
        value: 2000.0,
    };

    /// One evaluation per cron run, each seeing one more probe of `h`: the alerts.
    fn runs(h: &[ProbeResult], from: usize, state: &mut State) -> Vec<Alert> {
        let settings = Settings::default();
        (from..=h.len())
            .filter_map(|n| {
                evaluate("drift", Metric::TtftMs, &h[..n], SLO, &settings, state).unwrap()
            })
            .collect()
    }

    #[test]
    fn a_slow_drift_toward_the_slo_alerts_once_with_its_time_to_limit() {
        let h = drifting(20, 30);
        let mut state = State::default();
        let alerts = runs(&h, 1, &mut state);
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        assert!(state.open);
        let a = &alerts[0];
        let f = a.forecast.as_ref().unwrap();
        // The ramp is at ~ 200 + 40 k; 2000 ms is 45 probes after it starts.
        let at = (a.t / 300_000) as f64;
        let expected = 45.0 - (at - 20.0);
        assert!((f.median - expected).abs() < 10.0, "{f:?} at probe {at}");
        assert!(f.probability >= 0.8, "{f:?}");
        let (lo, hi) = (f.lo80.unwrap(), f.hi80.unwrap());
        assert!(lo <= f.median && f.median <= hi, "{f:?}");
        // Probes are 5 minutes apart: the median in hours is a twelfth of it in probes.
        assert!((f.median_h.unwrap() - f.median / 12.0).abs() < 1e-9);
        let text = a.describe();
        let words = format!(
            "drift/ttft reaches its SLO 2000 ms in about {:.0} probes (≈ ",
            f.median
        );
        assert!(text.starts_with(&words), "{text}");
        assert!(
            text.ends_with(&format!("h) (80%: {lo:.0}–{hi:.0})")),
            "{text}"
        );
        let json = serde_json::to_value(a).unwrap();
        assert_eq!(json["kind"], "predictive");
        assert_eq!(json["limit"], 2000.0);
        assert_eq!(json["median"], f.median);
        assert_eq!(json["lo80"], lo);
        assert_eq!(json["hi80"], hi);
        assert_eq!(json["probability"], f.probability);
        // The outbox gives it back whole, and a chart alert stays one.
        assert_eq!(Alert::from_stored(&json.to_string()).as_ref(), Some(a));
        let chart = Alert {
            forecast: None,
            ..a.clone()
        };
        let stored = serde_json::to_string(&chart).unwrap();
        assert!(!stored.contains("predictive"), "{stored}");
        assert_eq!(Alert::from_stored(&stored), Some(chart));
    }

    #[test]
    fn hours_keep_two_significant_digits_below_one() {
        let said: Vec<String> = [26.4, 2.64, 0.264, 0.00092, 0.0].map(hours).into();
        assert_eq!(said, ["26", "2.6", "0.26", "0.00092", "0"]);
    }

    #[test]
    fn a_step_already_past_the_limit_is_no_forecast() {
        let mut h = drifting(20, 0);
        h.extend((20..32).map(|i| probe(i, 2500.0 + noise(i))));
        let mut state = State::default();
        assert!(runs(&h, 1, &mut state).is_empty());
    }

    #[test]
    fn a_flat_history_never_alerts() {
        let mut state = State::default();
        assert!(runs(&drifting(60, 0), 1, &mut state).is_empty());
        assert!(!state.open);
    }

    #[test]
    fn an_episode_closes_after_a_clean_run_and_a_new_drift_alerts_again() {
        let mut h = drifting(20, 30);
        let mut state = State::default();
        assert_eq!(runs(&h, 1, &mut state).len(), 1);
        // Nothing new: nothing sent, the episode stays open.
        let settings = Settings::default();
        let again = evaluate("drift", Metric::TtftMs, &h, SLO, &settings, &mut state).unwrap();
        assert_eq!((again, state.open), (None, true));
        // Maintenance: back to 200 ms and flat, long enough to close the episode.
        let reset = h.len();
        h.extend((reset..reset + 30).map(|i| probe(i, 200.0 + noise(i))));
        assert!(runs(&h, reset + 1, &mut state).is_empty());
        assert!(!state.open, "{state:?}");
        // The next drift is a new episode.
        let start = h.len();
        h.extend(
            (start..start + 30).map(|i| probe(i, 200.0 + 40.0 * (i - start) as f64 + noise(i))),
        );
        let second = runs(&h, start + 1, &mut state);
        assert_eq!(second.len(), 1, "{second:#?}");
        assert!(second[0].t > start as i64 * 300_000);
    }

    #[test]
    fn the_limit_is_the_slo_else_the_frozen_ucl() {
        let targets = crate::target::parse(
            r#"[{"name": "a", "provider": "ollama", "model": "m", "slo_ttft_ms": 2000},
                {"name": "b", "provider": "ollama", "model": "m"}]"#,
        );
        let chart = alert::State {
            center: Some(100.0),
            sigma: Some(10.0),
            ..alert::State::default()
        };
        let [a, b] = [&targets.valid[0], &targets.valid[1]];
        assert_eq!(limit(a, Metric::TtftMs, &chart), Some(SLO));
        let ucl = Some(Limit {
            name: "UCL",
            value: 130.0,
        });
        assert_eq!(limit(a, Metric::TotalMs, &chart), ucl);
        assert_eq!(limit(b, Metric::TtftMs, &chart), ucl);
        assert_eq!(limit(b, Metric::TtftMs, &alert::State::default()), None);
        assert_eq!(limit(a, Metric::TokensPerS, &chart), None);
    }

    #[test]
    fn bad_forecast_variables_are_named_and_the_defaults_kept() {
        let (s, errors) = Settings::from_vars(Some("48"), Some("0.9"));
        assert_eq!((s.horizon, s.probability, errors.len()), (48, 0.9, 0));
        let (s, errors) = Settings::from_vars(Some("a day"), Some("80%"));
        assert_eq!(s, Settings::default());
        let said: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            said,
            [
                "target *: LLMSCOPE_FORECAST_HORIZON: must be a whole number of probes from 1 to 100000, not \"a day\"",
                "target *: LLMSCOPE_FORECAST_PROBABILITY: must be a probability between 0 and 1 (exclusive), e.g. 0.8, not \"80%\"",
            ]
        );
        let (_, errors) = Settings::from_vars(Some("0"), Some("1"));
        assert_eq!(errors.len(), 2);
    }
}
