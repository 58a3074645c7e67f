//! The Compare view as CSV (its "Download CSV", made here after the click, so the site's
//! first download leaves it out): one file, two sections separated by a blank line (as the stream
//! CSV puts its signals after its points), so one download holds the whole comparison.
//!
//! - **Targets:** one row per target with every column the table shows and every interval
//!   as its own `_lo`/`_hi` columns: `target,model,metric,unit,n,n_ok,error_rate,...,p50,
//!   p50_lo,p50_hi,...,in_control,pass_rate,...,outside_score,per_request_usd,...,
//!   prices_date,pareto,rank,score`. An unknown value is an empty cell.
//! - **Pairs:** `a,b,shift,lo,hi,p_value,p_unadjusted,significant,exact,n_a,n_b,words`, where
//!   `shift` is a − b in the metric's unit and `p_value` is Holm-adjusted.
//! - **Machines:** one row per machine (`machine,n,p50,...,median,peers_median,z,odd,words`),
//!   then the overall finding.

use crate::codec::{reading, In, Out, Read};
use crate::wire::{MachinesReply, Reply};
use llmscope_protocol::compare::Report;

/// The comparison shown, as the Compare view sends it here: the comparison Worker's reply
/// bytes as they came, with what the view adds to them.
#[derive(Clone, Debug, PartialEq)]
pub enum Csv {
    /// Targets compared.
    Targets {
        /// The [`Reply`]'s bytes.
        reply: Vec<u8>,
        /// Each target's model, in the report's order.
        models: Vec<String>,
        /// The date of the prices behind the costs.
        prices_date: Option<String>,
        /// Each target's outside quality score (0–1), if any.
        scores: Vec<Option<f64>>,
    },
    /// Machines compared.
    Machines {
        /// The signal.
        signal: String,
        /// Its unit.
        unit: String,
        /// The [`MachinesReply`]'s bytes.
        reply: Vec<u8>,
    },
}

impl Csv {
    /// As bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut o = Out::default();
        match self {
            Csv::Targets {
                reply,
                models,
                prices_date,
                scores,
            } => {
                o.bool(true);
                o.bytes(reply);
                o.list(models, |o, m| o.str(m));
                o.opt(prices_date, |o, d| o.str(d));
                o.list(scores, |o, s| o.opt(s, |o, v| o.f64(*v)));
            }
            Csv::Machines {
                signal,
                unit,
                reply,
            } => {
                o.bool(false);
                o.str(signal);
                o.str(unit);
                o.bytes(reply);
            }
        }
        o.0
    }

    /// From [`Csv::encode`]'s bytes.
    pub fn decode(bytes: &[u8]) -> Read<Csv> {
        reading(bytes, |r| {
            Ok(if r.bool()? {
                Csv::Targets {
                    reply: r.bytes()?,
                    models: r.list(In::str)?,
                    prices_date: r.opt(In::str)?,
                    scores: r.list(|r| r.opt(In::f64))?,
                }
            } else {
                Csv::Machines {
                    signal: r.str()?,
                    unit: r.str()?,
                    reply: r.bytes()?,
                }
            })
        })
    }

    /// The CSV file's text.
    pub fn text(&self) -> Read<String> {
        Ok(match self {
            Csv::Targets {
                reply,
                models,
                prices_date,
                scores,
            } => {
                let reply = Reply::decode(reply)?;
                targets(&reply.report, models, prices_date.as_deref(), scores)
            }
            Csv::Machines {
                signal,
                unit,
                reply,
            } => machines(signal, unit, &MachinesReply::decode(reply)?),
        })
    }
}
use llmscope_spc::compare::Interval;

/// A cell: quoted when it holds a comma, a quote or a line break (RFC 4180).
fn cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn num(x: Option<f64>) -> String {
    x.filter(|v| v.is_finite())
        .map_or(String::new(), |v| v.to_string())
}

fn interval(i: Option<&Interval>) -> [String; 3] {
    [
        num(i.map(|i| i.value)),
        num(i.and_then(|i| i.lo)),
        num(i.and_then(|i| i.hi)),
    ]
}

fn line(cells: impl IntoIterator<Item = String>) -> String {
    let cells: Vec<String> = cells.into_iter().map(|c| cell(&c)).collect();
    cells.join(",") + "\n"
}

/// The interval columns' headers: `name,name_lo,name_hi`.
fn spans(names: &[&str]) -> Vec<String> {
    names
        .iter()
        .flat_map(|n| [n.to_string(), format!("{n}_lo"), format!("{n}_hi")])
        .collect()
}

/// The targets' comparison; `scores` is each target's outside quality score (0–1), if any.
fn targets(
    r: &Report,
    models: &[String],
    prices_date: Option<&str>,
    scores: &[Option<f64>],
) -> String {
    let (metric, unit) = (r.metric.field(), r.metric.words().1);
    let mut head: Vec<String> = ["target", "model", "metric", "unit", "n", "n_ok"]
        .map(String::from)
        .into();
    head.extend(spans(&["error_rate", "p50", "p95", "p99"]));
    head.extend(["mean", "sd", "in_control", "stability"].map(String::from));
    head.extend(spans(&["pass_rate"]));
    head.extend(
        [
            "outside_score",
            "per_request_usd",
            "per_success_usd",
            "blended_3to1_per_mtok",
            "blended_measured_per_mtok",
            "monthly_usd",
            "prices_date",
            "pareto",
            "rank",
            "score",
        ]
        .map(String::from),
    );
    let mut out = line(head);
    let rec = &r.recommendation;
    for (i, t) in r.comparison.targets.iter().enumerate() {
        let cost = r.costs.get(i).and_then(Option::as_ref);
        let ranked = rec.ranking.iter().find(|k| k.name == t.name);
        let mut row = vec![
            t.name.clone(),
            models.get(i).cloned().unwrap_or_default(),
            metric.into(),
            unit.into(),
            t.n.to_string(),
            t.n_ok.to_string(),
        ];
        for i in [
            Some(&t.error_rate),
            Some(&t.p50),
            Some(&t.p95),
            Some(&t.p99),
        ] {
            row.extend(interval(i));
        }
        row.extend([
            num(Some(t.mean)),
            num(Some(t.sd)),
            t.in_control.map_or(String::new(), |b| b.to_string()),
            t.stability.clone(),
        ]);
        row.extend(interval(t.pass_rate.as_ref()));
        row.extend([
            num(scores.get(i).copied().flatten()),
            num(cost.and_then(|c| c.per_request_usd)),
            num(cost.and_then(|c| c.per_success_usd)),
            num(cost.and_then(|c| c.blended_3to1_per_mtok)),
            num(cost.and_then(|c| c.blended_measured_per_mtok)),
            num(cost.and_then(|c| c.monthly_usd)),
            prices_date.unwrap_or_default().to_string(),
            rec.pareto.contains(&t.name).to_string(),
            ranked.map_or(String::new(), |k| k.rank.to_string()),
            num(ranked.map(|k| k.score)),
        ]);
        out += &line(row);
    }
    out += "\n";
    out += &line(
        [
            "a",
            "b",
            "shift",
            "lo",
            "hi",
            "p_value",
            "p_unadjusted",
            "significant",
            "exact",
            "n_a",
            "n_b",
            "words",
        ]
        .map(String::from),
    );
    for p in &r.comparison.pairs {
        out += &line([
            p.a.clone(),
            p.b.clone(),
            num(Some(p.shift)),
            num(Some(p.lo)),
            num(Some(p.hi)),
            num(Some(p.p_value)),
            num(Some(p.p_unadjusted)),
            p.significant.to_string(),
            p.exact.to_string(),
            p.n_a.to_string(),
            p.n_b.to_string(),
            p.words.clone(),
        ]);
    }
    out
}

/// The machines' comparison of `signal` in `unit`.
fn machines(signal: &str, unit: &str, run: &MachinesReply) -> String {
    let mut head: Vec<String> = ["machine", "signal", "unit", "n"].map(String::from).into();
    head.extend(spans(&["p50", "p95", "p99"]));
    head.extend(
        [
            "mean",
            "sd",
            "in_control",
            "median",
            "peers_median",
            "z",
            "odd",
            "words",
        ]
        .map(String::from),
    );
    let mut out = line(head);
    for (s, f) in run.summaries.iter().zip(&run.odd.machines) {
        let mut row = vec![
            f.name.clone(),
            signal.to_string(),
            unit.to_string(),
            s.n.to_string(),
        ];
        for i in [&s.p50, &s.p95, &s.p99] {
            row.extend(interval(Some(i)));
        }
        row.extend([
            num(Some(s.mean)),
            num(Some(s.sd)),
            s.in_control.map_or(String::new(), |b| b.to_string()),
            num(f.median),
            num(f.peers_median),
            num(f.z),
            f.odd.to_string(),
            f.words.clone(),
        ]);
        out += &line(row);
    }
    out += "\n";
    out += &line(["summary".to_string()]);
    out += &line([run.odd.summary.clone()]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Request;
    use llmscope_protocol::compare::{group, Settings};

    fn results() -> Vec<llmscope_protocol::probe::ProbeResult> {
        (0..120)
            .map(|i| {
                let (target, base) = if i % 2 == 0 {
                    ("A, fast", 300.0)
                } else {
                    ("B", 400.0)
                };
                serde_json::from_value(serde_json::json!({
                    "target": target, "provider": "openai", "model": "m", "t": i,
                    "ok": true, "status": 200, "ttft_ms": base + f64::from(i % 13),
                    "total_ms": null, "input_tokens": null, "output_tokens": null,
                    "cached_input_tokens": null, "tokens_per_s": null, "cost_usd": null,
                    "error": null
                }))
                .unwrap()
            })
            .collect()
    }

    #[test]
    fn one_row_per_target_with_every_interval_then_the_pairs() {
        let results = results();
        let request = Request {
            targets: group(&results),
            settings: Settings::default(),
            all_pairs: false,
        };
        let reply = crate::compare::targets(&request).unwrap();
        let csv = Csv::Targets {
            reply: reply.encode(),
            models: vec!["m".into(), "m".into()],
            prices_date: None,
            scores: vec![Some(0.8), None],
        };
        // It crosses from the dashboard as bytes.
        let csv = Csv::decode(&csv.encode()).unwrap();
        let text = csv.text().unwrap();
        let mut records = crate::csv::Records::new(&text);
        let mut rows: Vec<Vec<String>> = Vec::new();
        while let Some(row) = records.next_row() {
            rows.push(row.fields.iter().map(|f| f.to_string()).collect());
        }
        let head = rows[0].clone();
        assert_eq!(head.len(), 35);
        let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
        // Every row has the header's columns; the quoted name keeps its comma.
        assert!(rows[..3].iter().all(|r| r.len() == 35));
        assert_eq!(rows[1][..6], ["A, fast", "m", "ttft_ms", "ms", "60", "60"]);
        let b = &rows[2];
        let p50 = &reply.report.comparison.targets[1].p50;
        assert_eq!(b[col("p50")], p50.value.to_string());
        assert_eq!(b[col("p50_lo")], p50.lo.unwrap().to_string());
        assert_eq!(rows[1][col("outside_score")], "0.8");
        assert_eq!(b[col("outside_score")], "");
        assert_eq!(b[col("per_success_usd")], "", "cost unknown: empty");
        // After a blank line, the pairs.
        assert!(text.contains(
            "\n\na,b,shift,lo,hi,p_value,p_unadjusted,significant,exact,n_a,n_b,words\n"
        ));
        assert_eq!(rows[3][..2], ["a", "b"]);
        assert_eq!(rows[4][..2], ["A, fast", "B"]);
        assert!(
            rows[4][2].starts_with('-'),
            "A − B is negative: {:?}",
            rows[4]
        );
        assert_eq!(rows[4][7], "true", "a 100 ms shift is significant");
        assert!(Csv::decode(&[1, 2]).is_err());
    }
}
