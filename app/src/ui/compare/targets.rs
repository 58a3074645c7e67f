//! The targets' comparison as the view shows it: box plots, the table with intervals, the
//! pairwise statements, the cost panel, the Pareto chart and the recommendation; and the note
//! on imported quality scores.

use super::quality::{self, Scores};
use super::run::TargetRun;
use super::{joined_scores, words, Shown};
use crate::draw::compare::{self as charts, ParetoPoint};
use crate::draw::{self, Palette};
use crate::export::{compare_csv, download, report::fmt};
use crate::ui::context::Theme;
use leptos::prelude::*;
use llmscope_protocol::compare::Metric;
use llmscope_spc::compare::StreamSummary;
use std::sync::Arc;

/// What was read from a scores file, and which models no compared target uses.
pub fn scores_note(s: &Scores, shown: &RwSignal<Shown>) -> impl IntoView {
    let unmatched = shown.with(|sh| match sh {
        Shown::Targets(r) => {
            let models: Vec<Option<String>> = r.models.iter().map(|m| Some(m.clone())).collect();
            Some(quality::join(s, &models).unmatched)
        }
        _ => None,
    });
    let unmatched = match unmatched {
        Some(u) if u.is_empty() => " Every scored model matches a target.".to_string(),
        Some(u) => format!(" Models matching no target: {}.", u.join(", ")),
        None => String::new(),
    };
    let problems = s.problems.clone();
    view! {
        <div class="compare-scores" data-testid="compare-scores-status">
            <p>{format!("Quality scores from {}: {} models ({}).{unmatched}", s.file, s.scores.len(), s.how)}</p>
            {(!problems.is_empty()).then(|| view! {
                <ul class="compare-problems">
                    {problems.into_iter().map(|p| view! { <li data-testid="compare-scores-problem">{p}</li> }).collect_view()}
                </ul>
            })}
        </div>
    }
}

/// The per-target cells every table has: n, error rate, P50, P95, P99, in control.
fn summary_cells(t: &StreamSummary) -> impl IntoView {
    view! {
        <td class="num" data-testid="compare-n">{t.n}</td>
        <td class="num" data-testid="compare-error-rate">{words::rate(&t.error_rate)}</td>
        <td class="num" data-testid="compare-p50">{words::interval(&t.p50)}</td>
        <td class="num" data-testid="compare-p95">{words::interval(&t.p95)}</td>
        <td class="num" data-testid="compare-p99">{words::interval(&t.p99)}</td>
        <td data-testid="compare-in-control" title=t.stability.clone()>{words::control(t.in_control)}</td>
    }
}

fn in_control_attr(t: &StreamSummary) -> &'static str {
    match t.in_control {
        Some(true) => "true",
        Some(false) => "false",
        None => "unknown",
    }
}

/// The table alone, shown while the pairs are computed.
pub fn table_only(rows: &[StreamSummary], metric: Metric) -> impl IntoView {
    let (name, unit) = metric.words();
    view! {
        <div class="table-wrap">
            <table class="compare-table" data-testid="compare-table" data-stage="summaries">
                <caption>{format!("{name} ({unit}): 95% intervals in brackets; pairs being compared…")}</caption>
                <thead><tr><th>"target"</th><th>"n"</th><th>"error rate"</th><th>"P50"</th><th>"P95"</th><th>"P99"</th><th>"in control"</th></tr></thead>
                <tbody>
                    {rows.iter().map(|t| view! {
                        <tr data-testid="compare-row" data-name=t.name.clone() data-in-control=in_control_attr(t)>
                            <th scope="row">{t.name.clone()}</th>
                            {summary_cells(t)}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The full comparison of targets.
pub fn report(
    run: Arc<TargetRun>,
    scores: RwSignal<Option<Arc<Scores>>>,
    theme: Theme,
) -> impl IntoView {
    let boxes = NodeRef::<leptos::html::Canvas>::new();
    let pareto = NodeRef::<leptos::html::Canvas>::new();
    let r = run.clone();
    Effect::new(move |_| {
        let palette = Palette::new(theme.dark.get());
        let (name, unit) = r.report.metric.words();
        if let Some(el) = boxes.get() {
            draw::fit(&el);
            let names: Vec<String> = r.report.comparison.targets.iter().map(|t| t.name.clone()).collect();
            let label = format!("{name} ({unit})");
            let _ = charts::boxes(&el, &names, &r.boxes, &label, draw::pixel_ratio(), palette);
        }
        if let Some(el) = pareto.get() {
            draw::fit(&el);
            let (points, labels) = pareto_points(&r);
            let _ = charts::pareto(&el, &points, (&labels.0, &labels.1), draw::pixel_ratio(), palette);
        }
    });
    let csv_run = run.clone();
    let download_csv = move |_| {
        let joined = joined_scores(&csv_run, scores.get_untracked().as_deref());
        let text = compare_csv::targets(&csv_run, &joined);
        download::download("llmscope-compare.csv", "text/csv", &text);
    };
    let (name, unit) = run.report.metric.words();
    view! {
        <div class="compare-result">
            <div class="compare-actions">
                <button data-testid="compare-csv" on:click=download_csv>"Download CSV"</button>
                <span class="muted">"“Report (PDF)” adds a page of this comparison."</span>
            </div>
            <h3>{format!("Distributions of {name} ({unit})")}</h3>
            <p class="muted">"Box: hinges and median; whiskers: the furthest values within 1.5 × the box of it (Tukey); dots: values beyond."</p>
            <canvas class="compare-chart" data-testid="compare-boxes" node_ref=boxes aria-label="box plots"></canvas>
            {table(run.clone(), scores)}
            {pairs(&run)}
            {costs(&run)}
            <h3>"Pareto chart"</h3>
            <canvas class="compare-chart" data-testid="compare-pareto" node_ref=pareto aria-label="Pareto chart"></canvas>
            {recommendation(&run)}
        </div>
    }
}

/// The Pareto chart's points and axis labels: the metric's P95 against the cost per success
/// where every target's is known, else against the error rate.
fn pareto_points(run: &TargetRun) -> (Vec<ParetoPoint>, (String, String)) {
    let r = &run.report;
    let costs: Vec<Option<f64>> = r
        .costs
        .iter()
        .map(|c| c.as_ref().and_then(|c| c.per_success_usd))
        .collect();
    let by_cost = !costs.is_empty() && costs.iter().all(Option::is_some);
    let (name, unit) = r.metric.words();
    let points = r
        .comparison
        .targets
        .iter()
        .zip(&costs)
        .map(|(t, c)| ParetoPoint {
            name: t.name.clone(),
            x: t.p95.value,
            y: if by_cost { c.unwrap_or(f64::NAN) } else { t.error_rate.value },
            frontier: r.recommendation.pareto.contains(&t.name),
        })
        .collect();
    let y = if by_cost { "cost per success (USD)" } else { "error rate" };
    (points, (format!("{name} P95 ({unit})"), y.to_string()))
}

fn table(run: Arc<TargetRun>, scores: RwSignal<Option<Arc<Scores>>>) -> impl IntoView {
    let r = &run.report;
    let any_pass = r.comparison.targets.iter().any(|t| t.pass_rate.is_some());
    let (name, unit) = r.metric.words();
    let date = run.prices_date.clone();
    let caption = format!(
        "{name} ({unit}): 95% intervals in brackets{}",
        date.as_ref().map_or(String::new(), |d| format!("; prices of {d}"))
    );
    let rows = r.comparison.targets.clone();
    let costs = r.costs.clone();
    let models = run.models.clone();
    let run2 = run.clone();
    view! {
        <div class="table-wrap">
            <table class="compare-table" data-testid="compare-table" data-stage="report">
                <caption>{caption}</caption>
                <thead><tr>
                    <th>"target"</th><th>"model"</th><th>"n"</th><th>"error rate"</th><th>"P50"</th><th>"P95"</th><th>"P99"</th><th>"in control"</th>
                    {any_pass.then(|| view! { <th>"pass rate"</th> })}
                    <th>"outside score"</th><th>"cost per success"</th>
                </tr></thead>
                <tbody>
                    {move || {
                        let joined = joined_scores(&run2, scores.get().as_deref());
                        rows.iter().enumerate().map(|(i, t)| {
                            let cost = costs.get(i).and_then(Option::as_ref);
                            view! {
                                <tr data-testid="compare-row" data-name=t.name.clone() data-in-control=in_control_attr(t)>
                                    <th scope="row">{t.name.clone()}</th>
                                    <td>{models.get(i).cloned().unwrap_or_default()}</td>
                                    {summary_cells(t)}
                                    {any_pass.then(|| view! {
                                        <td class="num" data-testid="compare-pass-rate">{t.pass_rate.as_ref().map_or("–".into(), words::rate)}</td>
                                    })}
                                    <td class="num" data-testid="compare-score">{joined.get(i).copied().flatten().map_or("–".into(), fmt)}</td>
                                    <td class="num" data-testid="compare-cost">{words::per_success(cost, date.as_deref())}</td>
                                </tr>
                            }
                        }).collect_view()
                    }}
                </tbody>
            </table>
        </div>
    }
}

fn pairs(run: &TargetRun) -> impl IntoView {
    let pairs = run.report.comparison.pairs.clone();
    view! {
        <h3>"Pairwise"</h3>
        <p class="muted">"Hodges–Lehmann shift with its 95% interval; p adjusted for all pairs (Holm). A difference that is not significant is not stated."</p>
        <ul class="compare-pairs" data-testid="compare-pairs">
            {pairs.into_iter().map(|p| view! {
                <li data-testid="compare-pair" data-a=p.a.clone() data-b=p.b.clone()
                    data-shift=p.shift.to_string() data-lo=p.lo.to_string() data-hi=p.hi.to_string()
                    data-significant=p.significant.to_string()>
                    {p.words.clone()}
                    <span class="muted">{format!(" (Holm p = {:.3})", p.p_value)}</span>
                </li>
            }).collect_view()}
        </ul>
    }
}

fn costs(run: &TargetRun) -> impl IntoView {
    let r = &run.report;
    let volume = run.settings.volume;
    let date = run.prices_date.clone();
    let rows: Vec<_> = r
        .comparison
        .targets
        .iter()
        .zip(&r.costs)
        .map(|(t, c)| (t.name.clone(), c.clone()))
        .collect();
    view! {
        <h3>"Cost"</h3>
        <p class="muted">{match (&date, volume) {
            (Some(d), Some(n)) => format!("Prices of {d}; monthly at {n} requests."),
            (Some(d), None) => format!("Prices of {d}; type a monthly volume for a projection."),
            (None, Some(n)) => format!("Monthly at {n} requests, where the price is known."),
            (None, None) => "Type a monthly volume for a projection.".into(),
        }}</p>
        <div class="table-wrap">
            <table class="compare-costs" data-testid="compare-costs">
                <thead><tr><th>"target"</th><th>"per request"</th><th>"per success"</th><th>"blended 3:1 /Mtok"</th><th>"blended, measured mix /Mtok"</th><th>"monthly"</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|(name, cost)| match cost {
                        Some(c) => view! {
                            <tr data-testid="compare-cost-row" data-name=name.clone()>
                                <th scope="row">{name.clone()}</th>
                                <td class="num">{words::usd(c.per_request_usd)}</td>
                                <td class="num">{words::usd(c.per_success_usd)}</td>
                                <td class="num">{words::usd(c.blended_3to1_per_mtok)}</td>
                                <td class="num">{words::usd(c.blended_measured_per_mtok)}</td>
                                <td class="num">{words::usd(c.monthly_usd)}</td>
                            </tr>
                        }.into_any(),
                        None => view! {
                            <tr data-testid="compare-cost-row" data-name=name.clone()>
                                <th scope="row">{name.clone()}</th>
                                <td colspan="5" class="muted">"price unknown"</td>
                            </tr>
                        }.into_any(),
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

fn recommendation(run: &TargetRun) -> impl IntoView {
    let rec = &run.report.recommendation;
    let v = rec.recommendation.clone();
    let ranking = rec.ranking.clone();
    let pareto = rec.pareto.join(", ");
    let under = words::settings(&run.settings);
    view! {
        <div class="compare-recommendation" data-testid="compare-recommendation">
            <h3>"Recommendation"</h3>
            <p class="muted">{format!("Under: {under}.")}</p>
            <p class="compare-recommended">
                "Recommended: "
                <strong data-testid="compare-recommended">{v.name.clone().unwrap_or_else(|| "none".into())}</strong>
            </p>
            <ul>{v.reasons.into_iter().map(|r| view! { <li data-testid="compare-reason">{r}</li> }).collect_view()}</ul>
            {(!v.caveats.is_empty()).then(|| view! {
                <p><strong>"Caveats"</strong></p>
                <ul class="compare-caveats">{v.caveats.clone().into_iter().map(|c| view! { <li data-testid="compare-caveat">{c}</li> }).collect_view()}</ul>
            })}
            <p data-testid="compare-frontier">{format!("Pareto frontier: {pareto}.")}</p>
            {(!ranking.is_empty()).then(|| view! {
                <p data-testid="compare-ranking">{format!("Ranking: {}.", ranking.iter().map(|k| format!("{}. {} ({:.2})", k.rank, k.name, k.score)).collect::<Vec<_>>().join("; "))}</p>
            })}
        </div>
    }
}
