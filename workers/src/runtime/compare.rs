//! `GET /compare`: reads each target's newest results (at most [`per_target`]) from D1 and
//! answers `llmscope_protocol::compare`'s report, the CLI's JSON, with the window compared.
//! The daily digest reads its report here too.

use super::config::Config;
use super::http::json;
use super::store::Store;
use crate::compare::{answer, no_results, parse_query, per_target, Query, Window};
use crate::error::ApiError;
use llmscope_protocol::compare::{build, group, CompareError, Report};
use llmscope_protocol::probe::ProbeResult;
use worker::{Env, Request, Response};

/// Answers `GET /compare?targets=...&since=...&<settings>`.
pub async fn get(req: &Request, env: &Env, config: &Config) -> Result<Response, ApiError> {
    let url = req.url()?;
    let configured: Vec<&str> = config
        .targets
        .valid
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    let mut query = parse_query(url.query_pairs(), &configured)?;
    query.settings.prices = config.prices.clone();
    let store = Store::open(env).await?;
    let (report, window) = report(&store, &query).await?;
    json(200, &answer(&report, &window)?)
}

/// The report of `query`'s targets over their newest results after `since`, and the window it
/// was computed on. No result for any target is [`no_results`]' 404.
pub async fn report(store: &Store, query: &Query) -> Result<(Report, Window), ApiError> {
    let limit = per_target(query.targets.len(), query.settings.metric);
    let mut window = Window {
        since: query.since,
        limit_per_target: limit,
        ..Window::default()
    };
    let mut results: Vec<ProbeResult> = Vec::new();
    for name in &query.targets {
        // One more than the limit tells whether the limit cut the window.
        let mut rows = store.newest(name, query.since, limit + 1).await?;
        if rows.len() > limit as usize {
            rows.remove(0);
            window.capped.push(name.clone());
        }
        if rows.is_empty() {
            window.no_results.push(name.clone());
        }
        for row in rows {
            // The Worker wrote every row: one it cannot read is its own fault, and skipping it
            // would change the target's error rate.
            let r = serde_json::from_str(&row).map_err(|e| {
                ApiError::Internal(format!(
                    "compare: a stored result of {name} is unreadable: {e}"
                ))
            })?;
            results.push(r);
        }
    }
    if results.is_empty() {
        return Err(no_results(&window));
    }
    let targets = group(&results);
    // The one call site of the report, for GET /compare and the digest alike; the query's
    // settings carry the Worker's price table (LLMSCOPE_PRICES over the shipped one).
    let report = build(&targets, &query.settings).map_err(|e| match e {
        CompareError::Setting { .. } => ApiError::BadRequest(e.to_string()),
        CompareError::Engine(e) => ApiError::Internal(format!("compare: {e}")),
    })?;
    Ok((report, window))
}
