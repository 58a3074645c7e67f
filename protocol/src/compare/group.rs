//! Probe results grouped by target: in order of first appearance, each target's successful
//! results in time order (`t`), which the stability check needs.

use crate::probe::ProbeResult;

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

/// Results with their `quality_pass`, grouped by target.
pub fn group<'a>(
    results: impl IntoIterator<Item = (&'a ProbeResult, Option<bool>)>,
) -> Vec<TargetResults> {
    let mut targets: Vec<TargetResults> = Vec::new();
    for (r, quality) in results {
        let at = match targets.iter().position(|t| t.name == r.target) {
            Some(at) => at,
            None => {
                targets.push(TargetResults {
                    name: r.target.clone(),
                    ..TargetResults::default()
                });
                targets.len() - 1
            }
        };
        targets[at].add(r, quality);
    }
    for t in &mut targets {
        // Stable: results sent in the same millisecond keep their order.
        t.ok.sort_by_key(|s| s.t);
    }
    targets
}

impl TargetResults {
    fn add(&mut self, r: &ProbeResult, quality: Option<bool>) {
        self.requests += 1;
        if let Some(pass) = quality {
            self.judged += 1;
            self.passed += u64::from(pass);
        }
        // A result is failed when it says so either way.
        if !r.ok || r.error.is_some() {
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
        let rs = [
            result("B", 3, true),
            result("A", 2, true),
            result("B", 1, true),
            result("B", 2, false),
        ];
        let quality = [Some(true), None, Some(false), None];
        let targets = group(rs.iter().zip(quality));
        let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["B", "A"]);
        let b = &targets[0];
        assert_eq!((b.requests, b.errors, b.passed, b.judged), (3, 1, 1, 2));
        let times: Vec<i64> = b.ok.iter().map(|s| s.t).collect();
        assert_eq!(times, [1, 3]);
    }
}
