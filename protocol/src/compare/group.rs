//! Probe results grouped by target: in order of first appearance, each target's successful
//! results in time order (`t`), which the stability check needs, and the sums its cost is
//! computed from ([`Spend`]).

use crate::probe::ProbeResult;
use std::collections::HashMap;

/// One target's results.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TargetResults {
    /// The target's name.
    pub name: String,
    /// Every result, failed ones included.
    pub requests: u64,
    /// Failed results.
    pub errors: u64,
    /// Results with `quality_pass` true.
    pub passed: u64,
    /// Results with `quality_pass` true or false (null is not judged).
    pub judged: u64,
    /// The successful results, in time order.
    pub ok: Vec<Success>,
    /// What its cost is computed from.
    pub spend: Spend,
}

/// What a target's cost is computed from (`cost.rs`): sums, not results, so a target's cost
/// takes no memory per result. Every result falls in exactly one of the five counts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Spend {
    /// The provider of the target's last result.
    pub provider: String,
    /// The model of the target's last result.
    pub model: String,
    /// Whether its results name more than one provider or model.
    pub mixed: bool,
    /// When its latest result was sent (epoch ms), failed ones included.
    pub latest_t: Option<i64>,
    /// Results that carry `cost_usd` (the Worker priced them: with the target's own `price`
    /// or its table).
    pub recorded: Billed,
    /// Results without `cost_usd` but with input and output counts: priced from the table.
    pub unpriced: Billed,
    /// Failed results with neither, refused before any answer (no status or an error status):
    /// not billed.
    pub refused: u64,
    /// Failed results with neither after a 2xx answer began (cut, timed out): billed for what
    /// was generated, which no usage report said.
    pub cut_unreported: u64,
    /// Successful results with neither: their cost is unknown.
    pub unknown_ok: u64,
}

/// Sums over some of a target's results.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Billed {
    /// Results.
    pub n: u64,
    /// Of which successful.
    pub n_ok: u64,
    /// Their `cost_usd`, summed (0 for results priced from the table).
    pub usd: f64,
    /// The tokens of those with input and output counts.
    pub tokens: Tokens,
    /// The `cost_usd` of those with input and output counts: the cost of `tokens`.
    pub usd_of_tokens: f64,
}

/// Token counts, summed.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tokens {
    /// All prompt tokens (`input_tokens`: uncached, cache reads and cache writes).
    pub input: u64,
    /// Prompt tokens read from the cache (`cached_input_tokens`).
    pub cached_input: u64,
    /// Prompt tokens written to the cache (`extra.cache_write_input_tokens`).
    pub cache_write: u64,
    /// Generated tokens (`output_tokens`).
    pub output: u64,
}

impl Tokens {
    /// A result's tokens, when it reports input and output counts (a cost from half the counts
    /// would look like a real, low price).
    fn of(r: &ProbeResult) -> Option<Tokens> {
        let (input, output) = (r.input_tokens?, r.output_tokens?);
        let cache_write = r.extra.get("cache_write_input_tokens");
        Some(Tokens {
            input,
            output,
            cached_input: r.cached_input_tokens.unwrap_or(0),
            cache_write: cache_write.and_then(serde_json::Value::as_u64).unwrap_or(0),
        })
    }

    /// Adds `t`'s counts.
    pub fn add(&mut self, t: Tokens) {
        self.input += t.input;
        self.cached_input += t.cached_input;
        self.cache_write += t.cache_write;
        self.output += t.output;
    }
}

impl Spend {
    fn add(&mut self, r: &ProbeResult, failed: bool) {
        self.latest_t = self.latest_t.max(Some(r.t));
        if self.provider != r.provider || self.model != r.model {
            self.mixed |= !self.provider.is_empty() || !self.model.is_empty();
            self.provider.clone_from(&r.provider);
            self.model.clone_from(&r.model);
        }
        let tokens = Tokens::of(r);
        let billed = match (r.cost_usd, tokens) {
            (Some(usd), _) => {
                self.recorded.usd += usd;
                if tokens.is_some() {
                    self.recorded.usd_of_tokens += usd;
                }
                &mut self.recorded
            }
            (None, Some(_)) => &mut self.unpriced,
            (None, None) => {
                match (failed, r.status) {
                    (false, _) => self.unknown_ok += 1,
                    (true, Some(200..=299)) => self.cut_unreported += 1,
                    (true, _) => self.refused += 1,
                }
                return;
            }
        };
        billed.n += 1;
        billed.n_ok += u64::from(!failed);
        if let Some(t) = tokens {
            billed.tokens.add(t);
        }
    }
}

/// The metrics of one successful result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Success {
    /// When it was sent (epoch ms).
    pub t: i64,
    /// `ttft_ms`.
    pub ttft_ms: Option<f64>,
    /// `total_ms`.
    pub total_ms: Option<f64>,
    /// `tokens_per_s`.
    pub tokens_per_s: Option<f64>,
}

/// Results grouped by target.
pub fn group<'a>(results: impl IntoIterator<Item = &'a ProbeResult>) -> Vec<TargetResults> {
    let mut targets: Vec<TargetResults> = Vec::new();
    // Hashed: a scan of every name per result was most of the grouping's time.
    let mut index: HashMap<&'a str, usize> = HashMap::new();
    for r in results {
        let at = *index.entry(&r.target).or_insert_with(|| {
            targets.push(TargetResults {
                name: r.target.clone(),
                ..TargetResults::default()
            });
            targets.len() - 1
        });
        targets[at].add(r);
    }
    for t in &mut targets {
        // Stable: results sent in the same millisecond keep their order.
        t.ok.sort_by_key(|s| s.t);
    }
    targets
}

impl TargetResults {
    fn add(&mut self, r: &ProbeResult) {
        self.requests += 1;
        if let Some(pass) = r.quality_pass {
            self.judged += 1;
            self.passed += u64::from(pass);
        }
        // A result is failed when it says so either way.
        let failed = !r.ok || r.error.is_some();
        self.spend.add(r, failed);
        if failed {
            self.errors += 1;
            return;
        }
        self.ok.push(Success {
            t: r.t,
            ttft_ms: r.ttft_ms,
            total_ms: r.total_ms,
            tokens_per_s: r.tokens_per_s,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(target: &str, t: i64, ok: bool) -> ProbeResult {
        serde_json::from_value(serde_json::json!({
            "target": target, "provider": "openai", "model": "m", "t": t, "ok": ok,
            "status": 200, "ttft_ms": t as f64, "total_ms": null, "input_tokens": null,
            "output_tokens": null, "cached_input_tokens": null, "tokens_per_s": null,
            "cost_usd": null, "error": null
        }))
        .expect("a valid result")
    }

    #[test]
    fn groups_by_first_appearance_and_sorts_by_time() {
        let mut rs = [
            result("B", 3, true),
            result("A", 2, true),
            result("B", 1, true),
            result("B", 2, false),
        ];
        let quality = [Some(true), None, Some(false), None];
        for (r, q) in rs.iter_mut().zip(quality) {
            r.quality_pass = q;
        }
        let targets = group(&rs);
        let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["B", "A"]);
        let b = &targets[0];
        assert_eq!((b.requests, b.errors, b.passed, b.judged), (3, 1, 1, 2));
        let times: Vec<i64> = b.ok.iter().map(|s| s.t).collect();
        assert_eq!(times, [1, 3]);
    }
}
