//! The comparison as it crosses between the dashboard and the comparison's Web Worker (which
//! runs this module): for targets, the request (the chosen targets' grouped results, the
//! settings, whether every pair is tested) and the replies (the per-target table first, then
//! the report with its boxes); for machines, their values, and their table, boxes and odd one
//! out. A plain little-endian encoding written and read field by field:
//! each type is taken apart with every field named, so a field added to the protocol's or the
//! engine's types stops the build here instead of being lost on the way, and the dashboard
//! links no serde code for these types.

use crate::boxes::BoxStats;
use crate::codec::{reading, In, Out, Read};
use llmscope_protocol::compare::{
    Billed, Cost, Metric, Report, Settings, Spend, Success, TargetResults, Tokens,
};
use llmscope_spc::compare::machines::{MachineFinding, MachineReport};
use llmscope_spc::compare::recommend::{Ranked, Recommendation, Verdict, Weights};
use llmscope_spc::compare::{Comparison, Interval, PairComparison, StreamSummary};

/// What the dashboard asks the Worker to compare.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// The chosen targets' results, grouped.
    pub targets: Vec<TargetResults>,
    /// The settings, with the shipped price table (the browser has no other).
    pub settings: Settings,
    /// Every pair, even above the many-to-one threshold.
    pub all_pairs: bool,
}

/// The Worker's answer: the report and what the view draws besides.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The report.
    pub report: Report,
    /// Each target's box of the metric shown.
    pub boxes: Vec<Option<BoxStats>>,
    /// Each target's TTFT P95 (the Pareto chart's latency).
    pub latency_p95: Vec<f64>,
    /// The target every other one was compared with, when not every pair was.
    pub reference: Option<String>,
}

/// One signal's streams, to compare as machines.
#[derive(Clone, Debug, PartialEq)]
pub struct Machines {
    /// The signal.
    pub signal: String,
    /// Its unit.
    pub unit: String,
    /// The machines' names.
    pub names: Vec<String>,
    /// Each machine's finite values, in time order.
    pub values: Vec<Vec<f64>>,
}

/// The machines compared: each one's table row and box, and the odd one out.
#[derive(Clone, Debug)]
pub struct MachinesReply {
    /// Each machine's summary.
    pub summaries: Vec<StreamSummary>,
    /// Each machine's box.
    pub boxes: Vec<Option<BoxStats>>,
    /// The machines unlike their peers, with the evidence.
    pub odd: MachineReport,
}

fn metric_code(m: Metric) -> u64 {
    Metric::ALL.iter().position(|x| *x == m).unwrap_or(0) as u64
}

fn metric(r: &mut In) -> Read<Metric> {
    let code = r.u64()?;
    Metric::ALL
        .get(code as usize)
        .copied()
        .ok_or_else(|| format!("the comparison's message names metric {code}, which is not one"))
}

// ---- the request ----

impl Request {
    /// The request as bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut o = Out::default();
        let s = &self.settings;
        o.u64(metric_code(s.metric));
        for limit in [
            s.max_ttft_p95_ms,
            s.max_error_rate,
            s.min_pass_rate,
            s.max_cost_usd,
        ] {
            o.opt(&limit, |o, v| o.f64(*v));
        }
        let Weights {
            cost,
            latency,
            speed,
            quality,
        } = s.weights;
        for w in [cost, latency, speed, quality] {
            o.f64(w);
        }
        o.opt(&s.volume, |o, v| o.u64(*v));
        o.bool(self.all_pairs);
        o.list(&self.targets, target);
        o.0
    }

    /// A request from [`Request::encode`]'s bytes.
    pub fn decode(bytes: &[u8]) -> Read<Request> {
        reading(bytes, |r| {
            let metric = metric(r)?;
            let mut limits = [None; 4];
            for l in &mut limits {
                *l = r.opt(In::f64)?;
            }
            let weights = Weights {
                cost: r.f64()?,
                latency: r.f64()?,
                speed: r.f64()?,
                quality: r.f64()?,
            };
            let volume = r.opt(In::u64)?;
            let all_pairs = r.bool()?;
            let targets = r.list(read_target)?;
            let [max_ttft_p95_ms, max_error_rate, min_pass_rate, max_cost_usd] = limits;
            let settings = Settings {
                metric,
                max_ttft_p95_ms,
                max_error_rate,
                min_pass_rate,
                max_cost_usd,
                weights,
                volume,
                ..Settings::default()
            };
            Ok(Request {
                targets,
                settings,
                all_pairs,
            })
        })
    }
}

fn target(o: &mut Out, t: &TargetResults) {
    let TargetResults {
        name,
        requests,
        errors,
        passed,
        judged,
        ok,
        spend,
    } = t;
    o.str(name);
    for n in [*requests, *errors, *passed, *judged] {
        o.u64(n);
    }
    o.list(ok, |o, s| {
        let Success {
            t,
            ttft_ms,
            total_ms,
            tokens_per_s,
        } = s;
        o.u64(*t as u64);
        for v in [ttft_ms, total_ms, tokens_per_s] {
            o.opt(v, |o, v| o.f64(*v));
        }
    });
    let Spend {
        provider,
        model,
        mixed,
        latest_t,
        recorded,
        unpriced,
        refused,
        cut_unreported,
        unknown_ok,
    } = spend;
    o.str(provider);
    o.str(model);
    o.bool(*mixed);
    o.opt(latest_t, |o, t| o.u64(*t as u64));
    for b in [recorded, unpriced] {
        let Billed {
            n,
            n_ok,
            usd,
            tokens,
            usd_of_tokens,
        } = b;
        let Tokens {
            input,
            cached_input,
            cache_write,
            output,
        } = tokens;
        for n in [*n, *n_ok, *input, *cached_input, *cache_write, *output] {
            o.u64(n);
        }
        o.f64(*usd);
        o.f64(*usd_of_tokens);
    }
    for n in [*refused, *cut_unreported, *unknown_ok] {
        o.u64(n);
    }
}

fn read_target(r: &mut In) -> Read<TargetResults> {
    let name = r.str()?;
    let (requests, errors, passed, judged) = (r.u64()?, r.u64()?, r.u64()?, r.u64()?);
    let ok = r.list(|r| {
        Ok(Success {
            t: r.u64()? as i64,
            ttft_ms: r.opt(In::f64)?,
            total_ms: r.opt(In::f64)?,
            tokens_per_s: r.opt(In::f64)?,
        })
    })?;
    let (provider, model, mixed) = (r.str()?, r.str()?, r.bool()?);
    let latest_t = r.opt(|r| r.u64().map(|t| t as i64))?;
    let mut billed = [Billed::default(); 2];
    for b in &mut billed {
        let (n, n_ok) = (r.u64()?, r.u64()?);
        let tokens = Tokens {
            input: r.u64()?,
            cached_input: r.u64()?,
            cache_write: r.u64()?,
            output: r.u64()?,
        };
        *b = Billed {
            n,
            n_ok,
            tokens,
            usd: r.f64()?,
            usd_of_tokens: r.f64()?,
        };
    }
    let [recorded, unpriced] = billed;
    let spend = Spend {
        provider,
        model,
        mixed,
        latest_t,
        recorded,
        unpriced,
        refused: r.u64()?,
        cut_unreported: r.u64()?,
        unknown_ok: r.u64()?,
    };
    Ok(TargetResults {
        name,
        requests,
        errors,
        passed,
        judged,
        ok,
        spend,
    })
}

// ---- the replies ----

fn interval(o: &mut Out, i: &Interval) {
    let Interval { value, lo, hi } = i;
    o.f64(*value);
    o.opt(lo, |o, v| o.f64(*v));
    o.opt(hi, |o, v| o.f64(*v));
}

fn read_interval(r: &mut In) -> Read<Interval> {
    Ok(Interval {
        value: r.f64()?,
        lo: r.opt(In::f64)?,
        hi: r.opt(In::f64)?,
    })
}

fn summary(o: &mut Out, s: &StreamSummary) {
    let StreamSummary {
        name,
        n,
        n_ok,
        error_rate,
        p50,
        p95,
        p99,
        mean,
        sd,
        in_control,
        stability,
        pass_rate,
    } = s;
    o.str(name);
    o.u64(*n);
    o.u64(*n_ok);
    for i in [error_rate, p50, p95, p99] {
        interval(o, i);
    }
    o.f64(*mean);
    o.f64(*sd);
    o.opt(in_control, |o, b| o.bool(*b));
    o.str(stability);
    o.opt(pass_rate, interval);
}

fn read_summary(r: &mut In) -> Read<StreamSummary> {
    Ok(StreamSummary {
        name: r.str()?,
        n: r.u64()?,
        n_ok: r.u64()?,
        error_rate: read_interval(r)?,
        p50: read_interval(r)?,
        p95: read_interval(r)?,
        p99: read_interval(r)?,
        mean: r.f64()?,
        sd: r.f64()?,
        in_control: r.opt(In::bool)?,
        stability: r.str()?,
        pass_rate: r.opt(read_interval)?,
    })
}

/// The per-target table (sent first) as bytes.
pub fn encode_table(table: &[StreamSummary]) -> Vec<u8> {
    let mut o = Out::default();
    o.list(table, summary);
    o.0
}

/// The per-target table from [`encode_table`]'s bytes.
pub fn decode_table(bytes: &[u8]) -> Read<Vec<StreamSummary>> {
    reading(bytes, |r| r.list(read_summary))
}

fn pair(o: &mut Out, p: &PairComparison) {
    let PairComparison {
        a,
        b,
        shift,
        lo,
        hi,
        p_value,
        p_unadjusted,
        significant,
        exact,
        n_a,
        n_b,
        words,
    } = p;
    o.str(a);
    o.str(b);
    for v in [*shift, *lo, *hi, *p_value, *p_unadjusted] {
        o.f64(v);
    }
    o.bool(*significant);
    o.bool(*exact);
    o.u64(*n_a as u64);
    o.u64(*n_b as u64);
    o.str(words);
}

fn read_pair(r: &mut In) -> Read<PairComparison> {
    Ok(PairComparison {
        a: r.str()?,
        b: r.str()?,
        shift: r.f64()?,
        lo: r.f64()?,
        hi: r.f64()?,
        p_value: r.f64()?,
        p_unadjusted: r.f64()?,
        significant: r.bool()?,
        exact: r.bool()?,
        n_a: r.u64()? as usize,
        n_b: r.u64()? as usize,
        words: r.str()?,
    })
}

fn strings(o: &mut Out, v: &[String]) {
    o.list(v, |o, s| o.str(s));
}

fn cost(o: &mut Out, c: &Cost) {
    let Cost {
        per_request_usd,
        per_success_usd,
        blended_3to1_per_mtok,
        blended_measured_per_mtok,
        monthly_usd,
        prices_taken,
    } = c;
    for v in [
        per_request_usd,
        per_success_usd,
        blended_3to1_per_mtok,
        blended_measured_per_mtok,
        monthly_usd,
    ] {
        o.opt(v, |o, v| o.f64(*v));
    }
    o.opt(prices_taken, |o, s| o.str(s));
}

fn read_cost(r: &mut In) -> Read<Cost> {
    Ok(Cost {
        per_request_usd: r.opt(In::f64)?,
        per_success_usd: r.opt(In::f64)?,
        blended_3to1_per_mtok: r.opt(In::f64)?,
        blended_measured_per_mtok: r.opt(In::f64)?,
        monthly_usd: r.opt(In::f64)?,
        prices_taken: r.opt(In::str)?,
    })
}

fn box_stats(o: &mut Out, b: &BoxStats) {
    let BoxStats {
        low,
        q1,
        median,
        q3,
        high,
        outliers,
    } = b;
    for v in [*low, *q1, *median, *q3, *high] {
        o.f64(v);
    }
    o.list(outliers, |o, v| o.f64(*v));
}

fn read_box(r: &mut In) -> Read<BoxStats> {
    Ok(BoxStats {
        low: r.f64()?,
        q1: r.f64()?,
        median: r.f64()?,
        q3: r.f64()?,
        high: r.f64()?,
        outliers: r.list(In::f64)?,
    })
}

impl Reply {
    /// The reply as bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut o = Out::default();
        let Report {
            metric,
            comparison,
            recommendation,
            costs,
            prices_taken,
        } = &self.report;
        o.u64(metric_code(*metric));
        let Comparison {
            metric,
            targets,
            pairs,
        } = comparison;
        o.str(metric);
        o.list(targets, summary);
        o.list(pairs, pair);
        let Recommendation {
            pareto,
            recommendation,
            ranking,
        } = recommendation;
        strings(&mut o, pareto);
        let Verdict {
            name,
            reasons,
            caveats,
        } = recommendation;
        o.opt(name, |o, s| o.str(s));
        strings(&mut o, reasons);
        strings(&mut o, caveats);
        o.list(ranking, |o, r| {
            let Ranked { name, score, rank } = r;
            o.str(name);
            o.f64(*score);
            o.u64(*rank as u64);
        });
        o.list(costs, |o, c| o.opt(c, cost));
        o.str(prices_taken);
        o.list(&self.boxes, |o, b| o.opt(b, box_stats));
        o.list(&self.latency_p95, |o, v| o.f64(*v));
        o.opt(&self.reference, |o, s| o.str(s));
        o.0
    }

    /// A reply from [`Reply::encode`]'s bytes.
    pub fn decode(bytes: &[u8]) -> Read<Reply> {
        reading(bytes, |r| {
            let shown = metric(r)?;
            let comparison = Comparison {
                metric: r.str()?,
                targets: r.list(read_summary)?,
                pairs: r.list(read_pair)?,
            };
            let pareto = r.list(In::str)?;
            let verdict = Verdict {
                name: r.opt(In::str)?,
                reasons: r.list(In::str)?,
                caveats: r.list(In::str)?,
            };
            let ranking = r.list(|r| {
                Ok(Ranked {
                    name: r.str()?,
                    score: r.f64()?,
                    rank: r.u64()? as usize,
                })
            })?;
            let report = Report {
                metric: shown,
                comparison,
                recommendation: Recommendation {
                    pareto,
                    recommendation: verdict,
                    ranking,
                },
                costs: r.list(|r| r.opt(read_cost))?,
                prices_taken: r.str()?,
            };
            Ok(Reply {
                report,
                boxes: r.list(|r| r.opt(read_box))?,
                latency_p95: r.list(In::f64)?,
                reference: r.opt(In::str)?,
            })
        })
    }
}

// ---- machines ----

fn floats(o: &mut Out, v: &[f64]) {
    o.list(v, |o, x| o.f64(*x));
}

impl Machines {
    /// The request as bytes.
    pub fn encode(&self) -> Vec<u8> {
        let Machines {
            signal,
            unit,
            names,
            values,
        } = self;
        let mut o = Out::default();
        o.str(signal);
        o.str(unit);
        strings(&mut o, names);
        o.list(values, |o, v| floats(o, v));
        o.0
    }

    /// A request from [`Machines::encode`]'s bytes.
    pub fn decode(bytes: &[u8]) -> Read<Machines> {
        reading(bytes, |r| {
            Ok(Machines {
                signal: r.str()?,
                unit: r.str()?,
                names: r.list(In::str)?,
                values: r.list(|r| r.list(In::f64))?,
            })
        })
    }
}

impl MachinesReply {
    /// The reply as bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut o = Out::default();
        o.list(&self.summaries, summary);
        o.list(&self.boxes, |o, b| o.opt(b, box_stats));
        let MachineReport {
            machines,
            center,
            scale,
            enough,
            odd,
            summary,
        } = &self.odd;
        o.list(machines, |o, f| {
            let MachineFinding {
                name,
                n,
                median,
                peers_median,
                z,
                odd,
                words,
            } = f;
            o.str(name);
            o.u64(*n as u64);
            for v in [median, peers_median, z] {
                o.opt(v, |o, v| o.f64(*v));
            }
            o.bool(*odd);
            o.str(words);
        });
        o.opt(center, |o, v| o.f64(*v));
        o.opt(scale, |o, v| o.f64(*v));
        o.bool(*enough);
        strings(&mut o, odd);
        o.str(summary);
        o.0
    }

    /// A reply from [`MachinesReply::encode`]'s bytes.
    pub fn decode(bytes: &[u8]) -> Read<MachinesReply> {
        reading(bytes, |r| {
            let summaries = r.list(read_summary)?;
            let boxes = r.list(|r| r.opt(read_box))?;
            let machines = r.list(|r| {
                Ok(MachineFinding {
                    name: r.str()?,
                    n: r.u64()? as usize,
                    median: r.opt(In::f64)?,
                    peers_median: r.opt(In::f64)?,
                    z: r.opt(In::f64)?,
                    odd: r.bool()?,
                    words: r.str()?,
                })
            })?;
            let odd = MachineReport {
                machines,
                center: r.opt(In::f64)?,
                scale: r.opt(In::f64)?,
                enough: r.bool()?,
                odd: r.list(In::str)?,
                summary: r.str()?,
            };
            Ok(MachinesReply {
                summaries,
                boxes,
                odd,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        let mut t = TargetResults {
            name: "gpt-ü".into(),
            requests: 3,
            errors: 1,
            passed: 1,
            judged: 2,
            ..TargetResults::default()
        };
        t.ok = vec![
            Success {
                t: 1_764_201_600_000,
                ttft_ms: Some(412.5),
                total_ms: None,
                tokens_per_s: Some(61.0),
            },
            Success {
                t: 1_764_201_660_000,
                ttft_ms: Some(f64::NAN),
                total_ms: Some(1200.0),
                tokens_per_s: None,
            },
        ];
        t.spend.provider = "openai".into();
        t.spend.latest_t = Some(-5);
        t.spend.unpriced.tokens.cache_write = 7;
        t.spend.recorded.usd = 0.25;
        t.spend.unknown_ok = 2;
        Request {
            targets: vec![t],
            settings: Settings {
                metric: Metric::TokensPerS,
                max_error_rate: Some(0.02),
                volume: Some(100_000),
                weights: Weights {
                    cost: 2.0,
                    ..Weights::default()
                },
                ..Settings::default()
            },
            all_pairs: true,
        }
    }

    #[test]
    fn a_request_crosses_unchanged_and_a_damaged_one_is_an_error() {
        let sent = request();
        let bytes = sent.encode();
        let got = Request::decode(&bytes).unwrap();
        // NaN is not equal to itself: compare it apart, then the rest.
        assert!(got.targets[0].ok[1].ttft_ms.is_some_and(f64::is_nan));
        let (mut a, mut b) = (got.clone(), sent.clone());
        a.targets[0].ok[1].ttft_ms = None;
        b.targets[0].ok[1].ttft_ms = None;
        assert_eq!(a, b);
        for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
            let err = Request::decode(&bytes[..cut]).unwrap_err();
            assert!(
                err.contains("reload the page") || err.contains("damaged"),
                "{cut}: {err}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Request::decode(&longer).unwrap_err().contains("left over"));
        // A length beyond the message is refused before anything is allocated for it.
        let mut huge = bytes;
        // The targets' count ends at: metric 8, limits 1 + 9 + 1 + 1, weights 32, volume 9,
        // all_pairs 1, the count 8.
        let at = 8 + 12 + 32 + 9 + 1 + 8;
        huge[at - 8..at].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(Request::decode(&huge).unwrap_err().contains("damaged"));
    }

    #[test]
    fn an_empty_table_and_an_unknown_metric_are_read_as_such() {
        assert_eq!(decode_table(&encode_table(&[])).unwrap(), []);
        let mut bytes = request().encode();
        bytes[0] = 9;
        assert!(Request::decode(&bytes).unwrap_err().contains("metric 9"));
    }
}
