//! The machines' comparison as the view shows it: box plots, each machine's table row, and the
//! odd machine out with its evidence (its median, the peers' median, its robust z).

use super::run::MachineRun;
use super::words;
use crate::draw::compare as charts;
use crate::draw::{self, Palette};
use crate::export::{compare_csv, download, report::fmt};
use crate::ui::context::Theme;
use leptos::prelude::*;
use std::sync::Arc;

/// The full comparison of machines.
pub fn report(run: Arc<MachineRun>, theme: Theme) -> impl IntoView {
    let boxes = NodeRef::<leptos::html::Canvas>::new();
    let r = run.clone();
    Effect::new(move |_| {
        let palette = Palette::new(theme.dark.get());
        if let Some(el) = boxes.get() {
            draw::fit(&el);
            let label = format!("{} ({})", r.signal, r.unit);
            let _ = charts::boxes(&el, &r.names, &r.boxes, &label, draw::pixel_ratio(), palette);
        }
    });
    let csv_run = run.clone();
    let download_csv = move |_| {
        let text = compare_csv::machines(&csv_run);
        download::download("llmscope-compare-machines.csv", "text/csv", &text);
    };
    let odd: Vec<String> = run
        .odd
        .machines
        .iter()
        .filter(|f| f.odd)
        .map(|f| f.words.clone())
        .collect();
    let rows: Vec<_> = run
        .summaries
        .iter()
        .cloned()
        .zip(run.odd.machines.iter().cloned())
        .collect();
    view! {
        <div class="compare-result">
            <div class="compare-actions">
                <button data-testid="compare-csv" on:click=download_csv>"Download CSV"</button>
            </div>
            <h3>{format!("Distributions of {} ({})", run.signal, run.unit)}</h3>
            <canvas class="compare-chart" data-testid="compare-boxes" node_ref=boxes aria-label="box plots"></canvas>
            <div class="compare-odd" data-testid="compare-odd">
                <h3>"The odd one out"</h3>
                <p data-testid="compare-odd-summary">{run.odd.summary.clone()}</p>
                <ul>{odd.into_iter().map(|w| view! { <li data-testid="compare-odd-machine">{w}</li> }).collect_view()}</ul>
                <p class="muted">"Modified z of each machine's median against the median of all medians, scaled by 1.4826 × their MAD (Iglewicz & Hoaglin); odd when |z| > 3.5, judged from 10 machines up."</p>
            </div>
            <div class="table-wrap">
                <table class="compare-table" data-testid="compare-table" data-stage="machines">
                    <thead><tr><th>"machine"</th><th>"n"</th><th>"P50"</th><th>"P95"</th><th>"P99"</th><th>"in control"</th><th>"median"</th><th>"z"</th><th>"finding"</th></tr></thead>
                    <tbody>
                        {rows.into_iter().map(|(s, f)| view! {
                            <tr data-testid="compare-row" data-name=f.name.clone() data-odd=f.odd.to_string()>
                                <th scope="row">{f.name.clone()}</th>
                                <td class="num">{s.n}</td>
                                <td class="num">{words::interval(&s.p50)}</td>
                                <td class="num">{words::interval(&s.p95)}</td>
                                <td class="num">{words::interval(&s.p99)}</td>
                                <td title=s.stability.clone()>{words::control(s.in_control)}</td>
                                <td class="num">{f.median.map_or("–".into(), fmt)}</td>
                                <td class="num">{f.z.map_or("–".into(), fmt)}</td>
                                <td>{f.words.clone()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </div>
    }
}
