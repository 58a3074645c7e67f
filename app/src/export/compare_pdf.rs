//! The PDF report's comparison page, when a comparison was run in the Compare view: the box
//! plots, the table with intervals, the pairwise statements, the cost, the recommendation with
//! its reasons and caveats (targets); or the machines with the odd one out and its evidence.
//!
//! The view remembers its latest comparison here ([`remember`]); the report adds its page
//! after the streams' sections.

use super::report::pixels;
use crate::draw::{compare as charts, Palette};
use crate::export::report::fmt;
use crate::ui::compare::run::{MachineRun, TargetRun};
use crate::ui::compare::words;
use llmscope_app_lazy::doc::{Doc, Image};
use std::cell::RefCell;
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// The comparison the report shows.
#[derive(Clone, Debug)]
pub enum Compared {
    /// Targets, with each one's outside quality score (0–1), if imported.
    Targets(Arc<TargetRun>, Vec<Option<f64>>),
    /// Machines.
    Machines(Arc<MachineRun>),
}

thread_local! {
    static LAST: RefCell<Option<Compared>> = const { RefCell::new(None) };
}

/// Keeps the view's latest comparison for the report (None: there is none).
pub fn remember(compared: Option<Compared>) {
    LAST.with(|l| *l.borrow_mut() = compared);
}

/// The latest comparison, if one was run.
pub fn last() -> Option<Compared> {
    LAST.with(|l| l.borrow().clone())
}

/// The box plots as an image, 1600 × 640 pixels on the light palette (it will be printed).
fn boxes_image(
    names: &[String],
    boxes: &[Option<charts::BoxStats>],
    label: &str,
) -> Result<Image, String> {
    let canvas = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("canvas").ok())
        .and_then(|e| e.dyn_into::<web_sys::HtmlCanvasElement>().ok())
        .ok_or("cannot create a canvas")?;
    canvas.set_width(1600);
    canvas.set_height(640);
    charts::boxes(&canvas, names, boxes, label, 1.6, Palette::new(false))?;
    pixels(&canvas)
}

/// Adds the comparison's page(s).
pub(super) fn page(w: &mut Doc, compared: &Compared) -> Result<(), String> {
    w.page();
    match compared {
        Compared::Targets(run, scores) => targets(w, run, scores),
        Compared::Machines(run) => machines(w, run),
    }
}

fn targets(w: &mut Doc, run: &TargetRun, scores: &[Option<f64>]) -> Result<(), String> {
    let r = &run.report;
    let (metric, unit) = r.metric.words();
    w.para(16.0, &format!("Comparison of targets: {metric} ({unit})"));
    w.para(9.0, &format!("Under: {}.", words::settings(&run.settings)));
    w.gap(4.0);
    let names: Vec<String> = r
        .comparison
        .targets
        .iter()
        .map(|t| t.name.clone())
        .collect();
    w.cover += &names.join(" ");
    w.image(boxes_image(
        &names,
        &run.boxes,
        &format!("{metric} ({unit})"),
    )?);
    let columns = [0.0, 70.0, 100.0, 170.0, 240.0, 310.0, 380.0, 415.0, 445.0];
    w.row(
        8.0,
        &columns,
        &[
            "target",
            "n",
            "error rate",
            "P50",
            "P95",
            "P99",
            "in control",
            "score",
            "cost/success",
        ]
        .map(String::from),
    );
    w.rule();
    for (i, t) in r.comparison.targets.iter().enumerate() {
        let cost = r.costs.get(i).and_then(Option::as_ref);
        w.row(
            8.0,
            &columns,
            &[
                t.name.clone(),
                t.n.to_string(),
                words::rate(&t.error_rate),
                words::interval(&t.p50),
                words::interval(&t.p95),
                words::interval(&t.p99),
                words::control(t.in_control).into(),
                scores.get(i).copied().flatten().map_or("–".into(), fmt),
                words::per_success(cost, run.prices_date.as_deref()),
            ],
        );
    }
    if let Some(d) = &run.prices_date {
        w.para(8.0, &format!("Prices of {d}."));
    }
    w.gap(8.0);
    w.para(
        12.0,
        "Pairwise (Hodges–Lehmann shift, 95% interval, Holm-adjusted p)",
    );
    if let Some(reference) = &run.reference {
        w.para(
            9.0,
            &format!("Each target against {reference}, the best median."),
        );
    }
    for p in &r.comparison.pairs {
        w.para(9.0, &format!("{} (Holm p = {:.3})", p.words, p.p_value));
    }
    w.gap(8.0);
    let v = &r.recommendation.recommendation;
    let head = v.name.as_ref().map_or("Recommendation: none".into(), |n| {
        format!("Recommendation: {n}")
    });
    w.para(12.0, &head);
    for reason in &v.reasons {
        w.para(9.0, &format!("• {reason}"));
    }
    for caveat in &v.caveats {
        w.para(9.0, &format!("Caveat: {caveat}"));
    }
    w.para(
        9.0,
        &format!("Pareto frontier: {}.", r.recommendation.pareto.join(", ")),
    );
    Ok(())
}

fn machines(w: &mut Doc, run: &MachineRun) -> Result<(), String> {
    w.para(
        16.0,
        &format!(
            "Comparison of machines: {}",
            words::labelled(&run.signal, &run.unit)
        ),
    );
    w.gap(4.0);
    let label = words::labelled(&run.signal, &run.unit);
    w.cover += &run.names.join(" ");
    w.image(boxes_image(&run.names, &run.boxes, &label)?);
    let columns = [0.0, 110.0, 150.0, 230.0, 310.0, 360.0, 420.0];
    w.row(
        8.0,
        &columns,
        &["machine", "n", "P50", "P95", "in control", "z", "odd"].map(String::from),
    );
    w.rule();
    for (s, f) in run.summaries.iter().zip(&run.odd.machines) {
        w.row(
            8.0,
            &columns,
            &[
                f.name.clone(),
                s.n.to_string(),
                words::interval(&s.p50),
                words::interval(&s.p95),
                words::control(s.in_control).into(),
                f.z.map_or("–".into(), fmt),
                if f.odd {
                    "odd one out".into()
                } else {
                    String::new()
                },
            ],
        );
    }
    w.gap(8.0);
    w.para(12.0, &run.odd.summary);
    for f in run.odd.machines.iter().filter(|f| f.odd) {
        w.para(9.0, &f.words);
    }
    Ok(())
}
