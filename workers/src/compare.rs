//! `GET /compare` (workers/README.md, issue 12): the query's parameters, the bound on the work,
//! and the answer. The report itself is `llmscope_protocol::compare`'s, so the Worker answers
//! the same JSON as `llmscope-shim compare --format json`; this module only reads the query
//! (parameters named as [`Settings`]' fields, which are the CLI's flags in snake_case) and says
//! what window of results was compared.

use crate::error::ApiError;
use llmscope_protocol::compare::{parse_weights, CompareError, Metric, Report, Settings};
use serde::Serialize;

/// Results read per target at most, the newest ones after `since`.
pub const MAX_PER_TARGET: u32 = 5000;

/// The bound on a request's work: results per target × pairwise tests. A test's cost grows
/// with its samples' sizes, and is largest when values tie (whole milliseconds do: the Workers
/// clock ticks in ms) and two targets perform alike: 5000 against 5000 of the same 5 values
/// took 0.25 s natively and about 0.5 s in `wrangler dev`, against 1 ms without ties. 30,000
/// keeps a request at a few seconds of CPU at worst, within Workers Paid's 30 s
/// (docs/benchmarks.md, "The Worker's GET /compare").
pub const WORK_BUDGET: u32 = 30_000;

/// Results read per target when `targets` are compared on `metric`: [`MAX_PER_TARGET`], or
/// fewer when there are many pairs to test, so that pairs × results stays within
/// [`WORK_BUDGET`] (20 targets on TTFT: 143 each). The report tests every pair on the metric
/// shown and on TTFT, and each target against the first on speed
/// (`llmscope_protocol::compare::build`).
pub fn per_target(targets: usize, metric: Metric) -> u32 {
    let k = targets as u32;
    let all = k * k.saturating_sub(1) / 2;
    let pairs = match metric {
        Metric::TtftMs => all + k.saturating_sub(1),
        Metric::TotalMs => 2 * all + k.saturating_sub(1),
        Metric::TokensPerS => 2 * all,
    };
    (WORK_BUDGET / pairs.max(1)).min(MAX_PER_TARGET)
}

/// The query's parameters, after checking.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// The targets compared, in the order asked (all configured ones by default).
    pub targets: Vec<String>,
    /// Only results sent after this (epoch ms, exclusive), as `/results`' `since`.
    pub since: i64,
    /// What the user asks of the report.
    pub settings: Settings,
}

/// The parameters `GET /compare` takes, for the error that names an unknown one.
const PARAMETERS: &str = "targets, since, metric, max_ttft_p95_ms, max_error_rate, min_pass_rate, max_cost_usd, weights, volume";

/// Reads the query's `(name, value)` pairs; `configured` are the targets that may be named.
/// Every error is a 400 that names the parameter and what would do.
pub fn parse_query<K: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (K, V)>,
    configured: &[&str],
) -> Result<Query, ApiError> {
    let mut query = Query {
        targets: configured.iter().map(|t| t.to_string()).collect(),
        since: 0,
        settings: Settings::default(),
    };
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in pairs {
        let (name, value) = (name.as_ref(), value.as_ref());
        if seen.iter().any(|s| s == name) {
            return Err(bad(format!("{name} is given twice: give it once")));
        }
        seen.push(name.to_string());
        parameter(&mut query, name, value, configured)?;
    }
    query.settings.check().map_err(setting)?;
    Ok(query)
}

/// Applies one parameter to the query.
fn parameter(
    query: &mut Query,
    name: &str,
    value: &str,
    configured: &[&str],
) -> Result<(), ApiError> {
    let s = &mut query.settings;
    match name {
        "targets" => query.targets = targets(value, configured)?,
        "since" => match value.parse::<f64>() {
            Ok(v) if v.is_finite() => query.since = v as i64,
            _ => return Err(bad(format!("since={value}: must be epoch milliseconds"))),
        },
        "metric" => {
            s.metric = Metric::from_field(value).ok_or_else(|| {
                bad(format!(
                    "metric={value}: must be ttft_ms, total_ms or tokens_per_s"
                ))
            })?
        }
        "max_ttft_p95_ms" => s.max_ttft_p95_ms = Some(number(name, value)?),
        "max_error_rate" => s.max_error_rate = Some(number(name, value)?),
        "min_pass_rate" => s.min_pass_rate = Some(number(name, value)?),
        "max_cost_usd" => s.max_cost_usd = Some(number(name, value)?),
        "weights" => s.weights = parse_weights(value).map_err(setting)?,
        "volume" => {
            s.volume = Some(value.trim().parse::<u64>().map_err(|_| {
                bad(format!(
                    "volume={value}: must be a whole number of requests per month"
                ))
            })?)
        }
        other => {
            return Err(bad(format!(
                "unknown parameter {other:?}: use {PARAMETERS}"
            )))
        }
    }
    Ok(())
}

/// `a,b,c`: each a configured target, none twice.
fn targets(list: &str, configured: &[&str]) -> Result<Vec<String>, ApiError> {
    let mut out: Vec<String> = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !configured.contains(&name) {
            return Err(bad(format!(
                "targets: no target named {name:?}: GET /targets lists them"
            )));
        }
        if out.iter().any(|t| t == name) {
            return Err(bad(format!("targets: {name:?} is named twice")));
        }
        out.push(name.to_string());
    }
    if out.is_empty() {
        return Err(bad(
            "targets is empty: name one or more, comma-separated, or leave it out for all".into(),
        ));
    }
    Ok(out)
}

/// A finite number; the settings' own check then says which values make sense.
fn number(name: &str, value: &str) -> Result<f64, ApiError> {
    match value.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(bad(format!("{name}={value}: must be a number"))),
    }
}

fn bad(message: String) -> ApiError {
    ApiError::BadRequest(message)
}

/// A setting the report refuses is the user's to fix; the message starts with its name.
fn setting(e: CompareError) -> ApiError {
    match e {
        CompareError::Setting { .. } => bad(e.to_string()),
        CompareError::Engine(e) => ApiError::Internal(format!("compare: {e}")),
    }
}

/// What was compared: the `window` object of the answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Window {
    /// The `since` asked.
    pub since: i64,
    /// [`per_target`]'s limit for this request.
    pub limit_per_target: u32,
    /// Targets that had more results than the limit: only their newest were compared.
    pub capped: Vec<String>,
    /// Targets asked for that have no results in the window (left out of the report).
    pub no_results: Vec<String>,
}

impl Window {
    /// The caveats the window calls for, in words.
    pub fn caveats(&self) -> Vec<String> {
        let capped = self.capped.iter().map(|t| {
            format!(
                "{t}: only its newest {} results since {} were compared (the Worker's limit per target for this many targets; narrow the window with since, or compare fewer targets)",
                self.limit_per_target, self.since
            )
        });
        let missing = self.no_results.iter().map(|t| {
            format!(
                "{t} has no results since {}: it is not compared",
                self.since
            )
        });
        capped.chain(missing).collect()
    }
}

/// The answer: the report's JSON (the CLI's), its recommendation's caveats extended with the
/// window's, and the `window` object.
pub fn answer(report: &Report, window: &Window) -> Result<serde_json::Value, ApiError> {
    let mut report = report.clone();
    report
        .recommendation
        .recommendation
        .caveats
        .extend(window.caveats());
    let mut json = serde_json::to_value(&report)?;
    json["window"] = serde_json::to_value(window)?;
    Ok(json)
}

/// The answer when no target asked for has a result in the window.
pub fn no_results(window: &Window) -> ApiError {
    ApiError::NotFound(format!(
        "no results since {} for {}: the cron probes every target every 5 minutes, or POST /probe/NAME probes one now",
        window.since,
        window.no_results.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIGURED: [&str; 3] = ["A", "B", "C"];

    fn parse(query: &[(&str, &str)]) -> Result<Query, ApiError> {
        parse_query(query.iter().copied(), &CONFIGURED)
    }

    fn refusal(query: &[(&str, &str)]) -> String {
        match parse(query) {
            Err(ApiError::BadRequest(m)) => m,
            other => panic!("{query:?}: {other:?}"),
        }
    }

    #[test]
    fn every_setting_is_read_under_its_cli_name() {
        let q = parse(&[
            ("targets", "C, A"),
            ("since", "1700000000000"),
            ("metric", "total_ms"),
            ("max_ttft_p95_ms", "800"),
            ("max_error_rate", "0.02"),
            ("min_pass_rate", "0.9"),
            ("max_cost_usd", "0.001"),
            ("weights", "latency=2,cost=0"),
            ("volume", "100000"),
        ])
        .unwrap();
        assert_eq!(q.targets, ["C", "A"]);
        assert_eq!(q.since, 1_700_000_000_000);
        let s = &q.settings;
        assert_eq!(s.metric, Metric::TotalMs);
        assert_eq!(
            (
                s.max_ttft_p95_ms,
                s.max_error_rate,
                s.min_pass_rate,
                s.max_cost_usd
            ),
            (Some(800.0), Some(0.02), Some(0.9), Some(0.001))
        );
        assert_eq!(
            (s.weights.latency, s.weights.cost, s.weights.speed),
            (2.0, 0.0, 1.0)
        );
        assert_eq!(s.volume, Some(100_000));
    }

    #[test]
    fn defaults_are_every_configured_target_since_the_start() {
        let q = parse(&[]).unwrap();
        assert_eq!(q.targets, CONFIGURED);
        assert_eq!(q.since, 0);
        assert_eq!(q.settings, Settings::default());
    }

    #[test]
    fn each_bad_parameter_is_named() {
        let cases: [(&[(&str, &str)], &str); 11] = [
            (
                &[("max_error_rate", "5")],
                "max_error_rate: 5 is not a rate",
            ),
            (
                &[("max_error_rate", "lots")],
                "max_error_rate=lots: must be a number",
            ),
            (
                &[("min_pass_rate", "-0.1")],
                "min_pass_rate: -0.1 is not a rate",
            ),
            (
                &[("max_ttft_p95_ms", "NaN")],
                "max_ttft_p95_ms=NaN: must be a number",
            ),
            (&[("weights", "latency=fast")], "weights: 'latency=fast'"),
            (
                &[("weights", "taste=1")],
                "weights: 'taste=1': unknown key 'taste'",
            ),
            (
                &[("metric", "p95")],
                "metric=p95: must be ttft_ms, total_ms or tokens_per_s",
            ),
            (&[("volume", "-3")], "volume=-3: must be a whole number"),
            (
                &[("since", "yesterday")],
                "since=yesterday: must be epoch milliseconds",
            ),
            (
                &[("limit", "10")],
                "unknown parameter \"limit\": use targets, since",
            ),
            (&[("volume", "1"), ("volume", "2")], "volume is given twice"),
        ];
        for (query, expected) in cases {
            let m = refusal(query);
            assert!(m.starts_with(expected), "{query:?}: {m}");
        }
    }

    #[test]
    fn an_unknown_or_repeated_target_is_named() {
        assert_eq!(
            refusal(&[("targets", "A,gpt-9")]),
            "targets: no target named \"gpt-9\": GET /targets lists them"
        );
        assert_eq!(
            refusal(&[("targets", "A,B,A")]),
            "targets: \"A\" is named twice"
        );
        assert!(refusal(&[("targets", " , ")]).starts_with("targets is empty"));
    }

    #[test]
    fn the_limit_shrinks_with_the_pairs_to_test() {
        assert_eq!(per_target(1, Metric::TtftMs), 5000);
        assert_eq!(per_target(2, Metric::TtftMs), 5000); // 2 pairs: 15000
        assert_eq!(per_target(4, Metric::TtftMs), 3333); // 6 + 3 pairs
        assert_eq!(per_target(8, Metric::TtftMs), 857); // 28 + 7 pairs
        assert_eq!(per_target(20, Metric::TtftMs), 143); // 190 + 19 pairs
        assert_eq!(per_target(20, Metric::TotalMs), 75); // 380 + 19 pairs
        assert_eq!(per_target(20, Metric::TokensPerS), 78); // 380 pairs
        for k in 2..40 {
            let n = per_target(k, Metric::TotalMs) as usize;
            assert!(
                (k * (k - 1) + k - 1) * n <= WORK_BUDGET as usize,
                "{k} targets"
            );
        }
    }

    #[test]
    fn a_capped_or_empty_target_is_said_in_words_and_in_the_window() {
        let window = Window {
            since: 5,
            limit_per_target: MAX_PER_TARGET,
            capped: vec!["A".into()],
            no_results: vec!["C".into()],
        };
        assert_eq!(
            window.caveats(),
            [
                "A: only its newest 5000 results since 5 were compared (the Worker's limit per target for this many targets; narrow the window with since, or compare fewer targets)",
                "C has no results since 5: it is not compared",
            ]
        );
        let result = |target: &str| -> llmscope_protocol::probe::ProbeResult {
            serde_json::from_value(serde_json::json!({
                "target": target, "provider": "openai", "model": "m", "t": 1, "ok": true,
                "status": 200, "ttft_ms": 100.0, "total_ms": 200.0, "input_tokens": 12,
                "output_tokens": 8, "cached_input_tokens": null, "tokens_per_s": 80.0,
                "cost_usd": null, "error": null
            }))
            .unwrap()
        };
        let results = [result("A"), result("B")];
        let targets = llmscope_protocol::compare::group(&results);
        let report = llmscope_protocol::compare::build(&targets, &Settings::default()).unwrap();
        let json = answer(&report, &window).unwrap();
        let mut cli = serde_json::to_value(&report).unwrap();
        assert_eq!(json["targets"], cli["targets"], "the CLI's report");
        assert_eq!(json["window"]["capped"], serde_json::json!(["A"]));
        assert_eq!(json["window"]["limit_per_target"], MAX_PER_TARGET);
        let caveats = cli["recommendation"]["caveats"].as_array_mut().unwrap();
        caveats.extend(window.caveats().into_iter().map(serde_json::Value::from));
        assert_eq!(json["recommendation"], cli["recommendation"]);
        let e = no_results(&window);
        assert_eq!(e.status(), 404);
        assert!(e.public_message().starts_with("no results since 5 for C:"));
    }
}
