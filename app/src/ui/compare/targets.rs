//! The targets' comparison as the view shows it: the table with intervals, the pairwise
//! statements, the cost panel and the recommendation (the box plots and the Pareto chart are
//! canvases, drawn by the view); and the note on imported quality scores.
//!
//! Written as HTML text ([`super::html`]): a finished report never changes, and typed views of
//! this many elements would weigh tens of KB in the site's wasm.

use super::html::{attr, esc};
use super::quality::{self, Scores};
use super::run::TargetRun;
use super::words;
use crate::draw::compare::ParetoPoint;
use crate::export::report::fmt;
use llmscope_protocol::compare::Metric;
use llmscope_spc::compare::StreamSummary;

/// What was read from a scores file, and (once targets are compared) which models no target
/// uses, with the lines left out.
pub fn scores_note(s: &Scores, run: Option<&TargetRun>) -> String {
    let unmatched = run.map(|r| {
        let models: Vec<Option<String>> = r.models.iter().map(|m| Some(m.clone())).collect();
        quality::join(s, &models).unmatched
    });
    let unmatched = match unmatched {
        Some(u) if u.is_empty() => " Every scored model matches a target.".to_string(),
        Some(u) => format!(" Models matching no target: {}.", u.join(", ")),
        None => String::new(),
    };
    let problems: String = s
        .problems
        .iter()
        .map(|p| format!("<li data-testid=\"compare-scores-problem\">{}</li>", esc(p)))
        .collect();
    let problems = if problems.is_empty() {
        problems
    } else {
        format!("<ul class=\"compare-problems\">{problems}</ul>")
    };
    let text = format!(
        "Quality scores from {}: {} models ({}).{unmatched}",
        s.file,
        s.scores.len(),
        s.how
    );
    format!("<p>{}</p>{problems}", esc(&text))
}

/// The row's attributes: its name and whether it is in control.
fn row_open(t: &StreamSummary) -> String {
    let state = match t.in_control {
        Some(true) => "true",
        Some(false) => "false",
        None => "unknown",
    };
    format!(
        "<tr data-testid=\"compare-row\" data-name=\"{}\" data-in-control=\"{state}\"><th scope=\"row\">{}</th>",
        attr(&t.name),
        esc(&t.name)
    )
}

fn td(testid: &str, text: &str) -> String {
    format!(
        "<td class=\"num\" data-testid=\"{testid}\">{}</td>",
        esc(text)
    )
}

/// The cells every table has: n, error rate, P50, P95, P99, in control.
fn summary_cells(t: &StreamSummary) -> String {
    [
        td("compare-n", &t.n.to_string()),
        td("compare-error-rate", &words::rate(&t.error_rate)),
        td("compare-p50", &words::interval(&t.p50)),
        td("compare-p95", &words::interval(&t.p95)),
        td("compare-p99", &words::interval(&t.p99)),
        format!(
            "<td data-testid=\"compare-in-control\" title=\"{}\">{}</td>",
            attr(&t.stability),
            words::control(t.in_control)
        ),
    ]
    .concat()
}

fn head(cells: &[&str]) -> String {
    let cells: String = cells
        .iter()
        .map(|c| format!("<th>{}</th>", esc(c)))
        .collect();
    format!("<thead><tr>{cells}</tr></thead>")
}

/// The table alone, shown while the pairs are computed.
pub fn table_only(rows: &[StreamSummary], metric: Metric) -> String {
    let (name, unit) = metric.words();
    let body: String = rows
        .iter()
        .map(|t| format!("{}{}</tr>", row_open(t), summary_cells(t)))
        .collect();
    format!(
        "<div class=\"table-wrap\"><table class=\"compare-table\" data-testid=\"compare-table\" data-stage=\"summaries\">\
         <caption>{} ({}): 95% intervals in brackets; comparing the pairs…</caption>{}<tbody>{body}</tbody></table></div>",
        esc(name),
        esc(unit),
        head(&["target", "n", "error rate", "P50", "P95", "P99", "in control"])
    )
}

/// The table, the pairwise statements and the cost panel; `scores` are the targets' outside
/// scores in the report's order.
pub fn body(run: &TargetRun, scores: &[Option<f64>]) -> String {
    [table(run, scores), pairs(run), costs(run)].concat()
}

fn table(run: &TargetRun, scores: &[Option<f64>]) -> String {
    let r = &run.report;
    let any_pass = r.comparison.targets.iter().any(|t| t.pass_rate.is_some());
    let (name, unit) = r.metric.words();
    let date = run.prices_date.as_deref();
    let mut cols = vec![
        "target",
        "model",
        "n",
        "error rate",
        "P50",
        "P95",
        "P99",
        "in control",
    ];
    if any_pass {
        cols.push("pass rate");
    }
    cols.extend(["outside score", "cost per success"]);
    let rows: String = r
        .comparison
        .targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let cost = r.costs.get(i).and_then(Option::as_ref);
            let pass = if any_pass {
                td(
                    "compare-pass-rate",
                    &t.pass_rate.as_ref().map_or("–".into(), words::rate),
                )
            } else {
                String::new()
            };
            format!(
                "{}<td>{}</td>{}{pass}{}{}</tr>",
                row_open(t),
                esc(run.models.get(i).map_or("", String::as_str)),
                summary_cells(t),
                td(
                    "compare-score",
                    &scores.get(i).copied().flatten().map_or("–".into(), fmt)
                ),
                td("compare-cost", &words::per_success(cost, date)),
            )
        })
        .collect();
    let prices = date.map_or(String::new(), |d| format!("; prices of {}", esc(d)));
    format!(
        "<div class=\"table-wrap\"><table class=\"compare-table\" data-testid=\"compare-table\" data-stage=\"report\">\
         <caption>{} ({}): 95% intervals in brackets{prices}</caption>{}<tbody>{rows}</tbody></table></div>",
        esc(name),
        esc(unit),
        head(&cols)
    )
}

fn pairs(run: &TargetRun) -> String {
    let items: String = run
        .report
        .comparison
        .pairs
        .iter()
        .map(|p| {
            format!(
                "<li data-testid=\"compare-pair\" data-a=\"{}\" data-b=\"{}\" data-shift=\"{}\" data-lo=\"{}\" \
                 data-hi=\"{}\" data-significant=\"{}\">{}<span class=\"muted\"> (Holm p = {:.3})</span></li>",
                attr(&p.a),
                attr(&p.b),
                p.shift,
                p.lo,
                p.hi,
                p.significant,
                esc(&p.words),
                p.p_value
            )
        })
        .collect();
    let which = match &run.reference {
        Some(r) => format!(
            "Each target against {}, the best median (tick “All pairs” to test every pair); p \
             adjusted over these pairs (Holm).",
            esc(r)
        ),
        None => "p adjusted over all pairs (Holm).".into(),
    };
    format!(
        "<h3>Pairwise</h3><p class=\"muted\" data-testid=\"compare-pairs-note\">Hodges–Lehmann shift \
         with its 95% interval. {which} A difference that is not significant is not stated.</p>\
         <ul class=\"compare-pairs\" data-testid=\"compare-pairs\">{items}</ul>"
    )
}

fn costs(run: &TargetRun) -> String {
    let r = &run.report;
    let note = match (&run.prices_date, run.settings.volume) {
        (Some(d), Some(n)) => format!("Prices of {d}; monthly at {n} requests."),
        (Some(d), None) => format!("Prices of {d}; type a monthly volume for a projection."),
        (None, Some(n)) => format!("Monthly at {n} requests, where the price is known."),
        (None, None) => "Type a monthly volume for a projection.".into(),
    };
    let rows: String = r
        .comparison
        .targets
        .iter()
        .zip(&r.costs)
        .map(|(t, c)| {
            let cells = match c {
                Some(c) => [
                    c.per_request_usd,
                    c.per_success_usd,
                    c.blended_3to1_per_mtok,
                    c.blended_measured_per_mtok,
                    c.monthly_usd,
                ]
                .map(|v| format!("<td class=\"num\">{}</td>", words::usd(v)))
                .concat(),
                None => "<td colspan=\"5\" class=\"muted\">price unknown</td>".into(),
            };
            format!(
                "<tr data-testid=\"compare-cost-row\" data-name=\"{}\"><th scope=\"row\">{}</th>{cells}</tr>",
                attr(&t.name),
                esc(&t.name)
            )
        })
        .collect();
    format!(
        "<h3>Cost</h3><p class=\"muted\">{}</p><div class=\"table-wrap\"><table class=\"compare-costs\" \
         data-testid=\"compare-costs\">{}<tbody>{rows}</tbody></table></div>",
        esc(&note),
        head(&[
            "target",
            "per request",
            "per success",
            "blended 3:1 /Mtok",
            "blended, measured mix /Mtok",
            "monthly"
        ])
    )
}

/// The recommendation with its reasons, caveats, frontier and ranking.
pub fn recommendation(run: &TargetRun) -> String {
    let rec = &run.report.recommendation;
    let v = &rec.recommendation;
    let list = |testid: &str, items: &[String]| -> String {
        items
            .iter()
            .map(|x| format!("<li data-testid=\"{testid}\">{}</li>", esc(x)))
            .collect()
    };
    let caveats = if v.caveats.is_empty() {
        String::new()
    } else {
        format!(
            "<p><strong>Caveats</strong></p><ul class=\"compare-caveats\">{}</ul>",
            list("compare-caveat", &v.caveats)
        )
    };
    let ranking: Vec<String> = rec
        .ranking
        .iter()
        .map(|k| format!("{}. {} ({:.2})", k.rank, k.name, k.score))
        .collect();
    format!(
        "<div class=\"compare-recommendation\" data-testid=\"compare-recommendation\"><h3>Recommendation</h3>\
         <p class=\"muted\">Under: {}.</p><p class=\"compare-recommended\">Recommended: \
         <strong data-testid=\"compare-recommended\">{}</strong></p><ul>{}</ul>{caveats}\
         <p data-testid=\"compare-frontier\">Pareto frontier (latency, quality, cost): {}.</p>\
         <p data-testid=\"compare-ranking\">Ranking: {}.</p></div>",
        esc(&words::settings(&run.settings)),
        esc(v.name.as_deref().unwrap_or("none")),
        list("compare-reason", &v.reasons),
        esc(&rec.pareto.join(", ")),
        esc(&ranking.join("; "))
    )
}

/// The Pareto chart's points and axis labels: TTFT P95 (the latency the frontier is judged on)
/// against the cost per success where every target's is known, else against the error rate.
pub fn pareto_points(run: &TargetRun) -> (Vec<ParetoPoint>, (String, String)) {
    let r = &run.report;
    let costs: Vec<Option<f64>> = r
        .costs
        .iter()
        .map(|c| c.as_ref().and_then(|c| c.per_success_usd))
        .collect();
    let by_cost = !costs.is_empty() && costs.iter().all(Option::is_some);
    let points = r
        .comparison
        .targets
        .iter()
        .zip(&costs)
        .zip(&run.latency_p95)
        .map(|((t, c), latency)| ParetoPoint {
            name: t.name.clone(),
            x: *latency,
            y: if by_cost {
                c.unwrap_or(f64::NAN)
            } else {
                t.error_rate.value
            },
            frontier: r.recommendation.pareto.contains(&t.name),
        })
        .collect();
    let y = if by_cost {
        "cost per success (USD)"
    } else {
        "error rate"
    };
    (points, ("TTFT P95 (ms)".to_string(), y.to_string()))
}
