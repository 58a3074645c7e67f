//! The machines' comparison as the view shows it (the box plots are a canvas the view draws):
//! the odd machine out with its evidence (its median, the peers' median, its robust z), then
//! each machine's row. HTML text, as for targets.

use super::html::{attr, esc};
use super::run::MachineRun;
use super::words;
use crate::export::report::fmt;

/// The finding, then the table.
pub fn body(run: &MachineRun) -> String {
    let odd: String = run
        .odd
        .machines
        .iter()
        .filter(|f| f.odd)
        .map(|f| {
            format!(
                "<li data-testid=\"compare-odd-machine\">{}</li>",
                esc(&f.words)
            )
        })
        .collect();
    let rows: String = run
        .summaries
        .iter()
        .zip(&run.odd.machines)
        .map(|(s, f)| {
            let cells: String = [
                s.n.to_string(),
                words::interval(&s.p50),
                words::interval(&s.p95),
                words::interval(&s.p99),
                words::control(s.in_control).to_string(),
                f.median.map_or("–".into(), fmt),
                f.z.map_or("–".into(), fmt),
                f.words.clone(),
            ]
            .iter()
            .map(|c| format!("<td>{}</td>", esc(c)))
            .collect();
            format!(
                "<tr data-testid=\"compare-row\" data-name=\"{}\" data-odd=\"{}\"><th scope=\"row\">{}</th>{cells}</tr>",
                attr(&f.name),
                f.odd,
                esc(&f.name)
            )
        })
        .collect();
    let head: String = [
        "machine",
        "n",
        "P50",
        "P95",
        "P99",
        "in control",
        "median",
        "z",
        "finding",
    ]
    .iter()
    .map(|h| format!("<th>{h}</th>"))
    .collect();
    format!(
        "<div class=\"compare-odd\" data-testid=\"compare-odd\"><h3>The odd one out</h3>\
         <p data-testid=\"compare-odd-summary\">{}</p><ul>{odd}</ul><p class=\"muted\">Modified z of each \
         machine's median against the median of all medians, scaled by 1.4826 × their MAD (Iglewicz &amp; \
         Hoaglin); odd when |z| &gt; 3.5, judged from 10 machines up.</p></div>\
         <div class=\"table-wrap\"><table class=\"compare-table\" data-testid=\"compare-table\" \
         data-stage=\"machines\"><caption>{}: 95% intervals in brackets</caption><thead><tr>{head}</tr></thead>\
         <tbody>{rows}</tbody></table></div>",
        esc(&run.odd.summary),
        esc(&words::labelled(&run.signal, &run.unit))
    )
}
