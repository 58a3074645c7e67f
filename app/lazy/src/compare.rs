//! The comparison of targets as the comparison's Web Worker runs it (the dashboard's Compare
//! view sends it a [`Request`]): first the per-target table ([`table`], one engine call per
//! target, no pairs), then the report ([`targets`]): every pair, or above
//! [`ALL_PAIRS_UP_TO`] targets each against the [`reference`], Holm over the pairs tested;
//! the boxes of the metric shown, and each target's TTFT P95. And machines ([`machines`]):
//! their table, boxes and the odd one out.

use crate::boxes::BoxStats;
use crate::wire::{Machines, MachinesReply, Reply, Request};
use llmscope_protocol::compare::{self, Metric, Success, TargetResults};
use llmscope_spc::compare::machines::{odd_machines, MachineInput};
use llmscope_spc::compare::quantile::quantile_ci;
use llmscope_spc::compare::{CompareOptions, StreamInput, StreamSummary};

/// Up to this many targets every pair is compared; above, each target against the reference
/// ([`reference`]) unless every pair is asked for: n − 1 tests instead of n(n − 1)/2, 19
/// instead of 190 for 20 targets (docs/benchmarks.md, the comparison in the browser).
pub const ALL_PAIRS_UP_TO: usize = 8;

/// A result's value of `metric`.
fn value(metric: Metric, s: &Success) -> Option<f64> {
    match metric {
        Metric::TtftMs => s.ttft_ms,
        Metric::TotalMs => s.total_ms,
        Metric::TokensPerS => s.tokens_per_s,
    }
}

/// Each target's values of `metric`, sorted (for the box plots and the medians).
pub fn sorted_values(targets: &[TargetResults], metric: Metric) -> Vec<Vec<f64>> {
    targets
        .iter()
        .map(|t| {
            let mut v: Vec<f64> =
                t.ok.iter()
                    .filter_map(|s| value(metric, s))
                    .filter(|v| v.is_finite())
                    .collect();
            v.sort_unstable_by(f64::total_cmp);
            v
        })
        .collect()
}

/// Each target's values of `metric` in time order (the stability check reads them so).
fn timed_values(targets: &[TargetResults], metric: Metric) -> Vec<Vec<f64>> {
    targets
        .iter()
        .map(|t| t.ok.iter().filter_map(|s| value(metric, s)).collect())
        .collect()
}

/// The per-stream table alone (no pairs, no recommendation): one engine call per stream, so
/// no pair is computed. `metric` is its name and unit.
pub fn summaries(
    streams: &[StreamInput<'_>],
    metric: (&str, &str),
) -> Result<Vec<StreamSummary>, String> {
    let options = CompareOptions {
        metric: metric.0.into(),
        unit: metric.1.into(),
        ..CompareOptions::default()
    };
    streams
        .iter()
        .map(|s| {
            llmscope_spc::compare::compare(std::slice::from_ref(s), &options)
                .map(|mut c| c.targets.remove(0))
                .map_err(|e| e.to_string())
        })
        .collect()
}

/// The request's per-target table: what the view shows while the pairs are computed.
pub fn table(request: &Request) -> Result<Vec<StreamSummary>, String> {
    let metric = request.settings.metric;
    let values = timed_values(&request.targets, metric);
    let streams: Vec<StreamInput<'_>> = request
        .targets
        .iter()
        .zip(&values)
        .map(|(t, v)| StreamInput {
            name: &t.name,
            values: v,
            requests: t.requests,
            errors: t.errors,
            quality: None,
        })
        .collect();
    summaries(&streams, metric.words())
}

/// The reference of a many-to-one comparison: the target with the best median of `metric`
/// (the lowest time; for speed, the highest; the first of equals), from each target's
/// `sorted` values; none when no target has a value.
pub fn reference(sorted: &[Vec<f64>], metric: Metric) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, v) in sorted.iter().enumerate() {
        let n = v.len();
        if n == 0 {
            continue;
        }
        let median = (v[(n - 1) / 2] + v[n / 2]) / 2.0;
        let better = best.is_none_or(|(_, b)| match metric {
            Metric::TokensPerS => median > b,
            _ => median < b,
        });
        if better {
            best = Some((i, median));
        }
    }
    best.map(|(i, _)| i)
}

/// The request's report: every pair when asked or when there are at most
/// [`ALL_PAIRS_UP_TO`] targets, else each against the [`reference`].
pub fn targets(request: &Request) -> Result<Reply, String> {
    let (grouped, settings) = (&request.targets, &request.settings);
    if grouped.is_empty() {
        return Err("no probe results of the chosen targets".into());
    }
    let sorted = sorted_values(grouped, settings.metric);
    let reference = if request.all_pairs || grouped.len() <= ALL_PAIRS_UP_TO {
        None
    } else {
        reference(&sorted, settings.metric)
    };
    let report = compare::build_against(grouped, settings, reference).map_err(|e| e.to_string())?;
    // The recommendation and its Pareto frontier judge latency by TTFT P95, whatever the
    // metric shown.
    let latency_p95 = match settings.metric {
        Metric::TtftMs => report
            .comparison
            .targets
            .iter()
            .map(|t| t.p95.value)
            .collect(),
        _ => sorted_values(grouped, Metric::TtftMs)
            .iter()
            .map(|v| quantile_ci(v, 0.95, 0.95).value)
            .collect(),
    };
    Ok(Reply {
        report,
        boxes: sorted.iter().map(|v| BoxStats::of(v)).collect(),
        latency_p95,
        reference: reference.map(|i| grouped[i].name.clone()),
    })
}

/// The machines' table, boxes and the odd one out (Iglewicz–Hoaglin, `odd_machines`).
pub fn machines(m: &Machines) -> Result<MachinesReply, String> {
    let inputs: Vec<StreamInput<'_>> = m
        .names
        .iter()
        .zip(&m.values)
        .map(|(name, v)| StreamInput {
            name,
            values: v,
            requests: v.len() as u64,
            errors: 0,
            quality: None,
        })
        .collect();
    let summaries = summaries(&inputs, (&m.signal, &m.unit))?;
    let machines: Vec<MachineInput<'_>> = m
        .names
        .iter()
        .zip(&m.values)
        .map(|(name, v)| MachineInput { name, values: v })
        .collect();
    let odd = odd_machines(&machines, &m.unit).map_err(|e| e.to_string())?;
    let boxes = m
        .values
        .iter()
        .map(|v| {
            let mut sorted = v.clone();
            sorted.sort_unstable_by(f64::total_cmp);
            BoxStats::of(&sorted)
        })
        .collect();
    Ok(MachinesReply {
        summaries,
        boxes,
        odd,
    })
}
