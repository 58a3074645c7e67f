//! Each target's cost (issue 12, "Cost"), from its results' sums ([`super::Spend`]) and the price
//! table ([`crate::prices`]).
//!
//! A result's cost is its `cost_usd` where it has one (the Worker priced it when it ran, with
//! the target's own `price` or its table), else its tokens times the table's price for the
//! target's provider and model. A failed result is billed when it has a cost: the provider
//! reported its usage. One refused before any answer costs 0 (not billed). One cut after a 2xx
//! answer began without a usage report is billed for tokens nobody counted: it counts 0, with
//! a caveat. A successful result with no cost (no usage report) is left out of the sums, with a
//! caveat. A target whose price is unknown (neither `cost_usd` nor a table row) has no cost
//! (null), never 0.
//!
//! Over the results with a known cost, `total` their summed cost:
//! - `per_request_usd` = total / requests, the failed ones included;
//! - `per_success_usd` = total / successful requests (null when none succeeded): what one
//!   answer costs once the failures are paid for;
//! - `blended_3to1_per_mtok` = (3 · input + output) / 4, the table's prices per million tokens;
//! - `blended_measured_per_mtok` = the cost of the results with token counts / their tokens
//!   (input, cached or not, plus output) × 10⁶: the price per million tokens at the target's
//!   own measured input:cached:cache-write:output mix;
//! - `monthly_usd` = `per_request_usd` × volume (see [`monthly`]);
//! - `prices_taken`: the date of the table's row for the target, which prices the 3:1 blend
//!   and the results without `cost_usd` (null when the table does not know the model; those
//!   with `cost_usd` were priced by the Worker when they ran).
//!
//! When the table prices the tokens of the results with `cost_usd` more than a tenth away from
//! what they cost (the target had its own `price`, or prices changed), the table's 3:1 blend
//! would describe another price: it is null, with a caveat naming both amounts.
//!
//! Prices taken more than [`STALE_DAYS`] before the latest result get a caveat
//! ([`stale_prices`]).

use super::group::{TargetResults, Tokens};
use super::Cost;
use crate::prices::{PriceTable, Usage};

/// A target's cost under `table`, with the caveats about it; `volume` is requests per month.
pub fn cost(
    t: &TargetResults,
    table: &PriceTable,
    volume: Option<u64>,
) -> (Option<Cost>, Vec<String>) {
    let s = &t.spend;
    let row = table.lookup(&s.provider, &s.model);
    let unpriced_usd = match row {
        Some(row) if s.unpriced.n > 0 => row.price.cost(&usage(s.unpriced.tokens)),
        _ => None,
    };
    if row.is_none() && s.recorded.n == 0 {
        let unknown = format!(
            "{}'s cost is unknown: the price table (taken {}) has no price for {} {} and its \
             results carry no cost_usd; give one in LLMSCOPE_PRICES or the target's price",
            t.name, table.taken, s.provider, s.model
        );
        return (None, vec![unknown]);
    }
    let priced = unpriced_usd.map(|_| &s.unpriced);
    let total = s.recorded.usd + unpriced_usd.unwrap_or(0.0);
    let requests = s.recorded.n + priced.map_or(0, |b| b.n) + s.refused + s.cut_unreported;
    let successes = s.recorded.n_ok + priced.map_or(0, |b| b.n_ok);
    let mut tokens = s.recorded.tokens;
    let mut usd_of_tokens = s.recorded.usd_of_tokens;
    if let (Some(b), Some(usd)) = (priced, unpriced_usd) {
        tokens.add(b.tokens);
        usd_of_tokens += usd;
    }
    let per_request_usd = ratio(total, requests);
    let mut caveats = caveats(t, priced.is_some());
    // The table's 3:1 blend describes the target only if the table priced its results.
    let blend_row = row.filter(|r| match r.price.cost(&usage(s.recorded.tokens)) {
        Some(usd) if !priced_alike(usd, s.recorded.usd_of_tokens) => {
            caveats.push(format!(
                "{}'s results were priced at ${:.6} for their tokens, the table's row for {} {} \
                 (taken {}) gives ${usd:.6}: they were priced otherwise (the target's own price, \
                 or older prices), so its 3:1 blend is not shown",
                t.name, s.recorded.usd_of_tokens, s.provider, s.model, r.taken
            ));
            false
        }
        _ => true,
    });
    let cost = Cost {
        per_request_usd,
        per_success_usd: ratio(total, successes),
        blended_3to1_per_mtok: blend_row.map(|r| r.price.blended_3to1()),
        blended_measured_per_mtok: ratio(usd_of_tokens * 1e6, tokens.input + tokens.output),
        monthly_usd: monthly(per_request_usd, volume),
        prices_taken: blend_row
            .or(row.filter(|_| priced.is_some()))
            .map(|r| r.taken.clone()),
    };
    (Some(cost), caveats)
}

/// Whether the recorded cost of some tokens and the table's cost of the same tokens agree to
/// within a tenth: far above the rounding of `cost_usd`, below any price change that matters.
fn priced_alike(table_usd: f64, recorded_usd: f64) -> bool {
    (table_usd - recorded_usd).abs() <= 0.1 * table_usd.max(recorded_usd)
}

/// What a known cost leaves out or guesses: results the table cannot price (`priced`: it
/// priced those without `cost_usd`), successes without usage, cuts without usage, and a
/// target whose model changed.
fn caveats(t: &TargetResults, priced: bool) -> Vec<String> {
    let s = &t.spend;
    let mut caveats = Vec::new();
    if s.unpriced.n > 0 && !priced {
        caveats.push(format!(
            "{}: {} results without cost_usd are left out of its cost: the price table has no \
             price for {} {}",
            t.name, s.unpriced.n, s.provider, s.model
        ));
    }
    if s.unknown_ok > 0 {
        caveats.push(format!(
            "{}: {} successful results reported no token usage and are left out of its cost",
            t.name, s.unknown_ok
        ));
    }
    if s.cut_unreported > 0 {
        caveats.push(format!(
            "{}: {} failed requests were cut after the provider began answering, with no usage \
             report: they may be billed, but count 0 here",
            t.name, s.cut_unreported
        ));
    }
    if s.mixed {
        caveats.push(format!(
            "{}'s results name more than one model: its table price is {} {}'s",
            t.name, s.provider, s.model
        ));
    }
    caveats
}

/// Prices older than this at the latest result get a caveat: list prices change several times
/// a year, and the shipped table only changes with a release.
pub const STALE_DAYS: i64 = 90;

/// A caveat per price date more than [`STALE_DAYS`] before the latest result, naming the
/// targets it prices.
pub fn stale_prices(targets: &[TargetResults], costs: &[Option<Cost>]) -> Vec<String> {
    let Some(latest_ms) = targets.iter().filter_map(|t| t.spend.latest_t).max() else {
        return Vec::new();
    };
    let latest_day = latest_ms.div_euclid(86_400_000);
    let mut stale: Vec<(&str, i64, Vec<&str>)> = Vec::new();
    for (t, cost) in targets.iter().zip(costs) {
        let Some(date) = cost.as_ref().and_then(|c| c.prices_taken.as_deref()) else {
            continue;
        };
        let Some(age) = day_number(date).map(|d| latest_day - d) else {
            continue;
        };
        if age <= STALE_DAYS {
            continue;
        }
        match stale.iter_mut().find(|(d, _, _)| *d == date) {
            Some((_, _, names)) => names.push(&t.name),
            None => stale.push((date, age, vec![&t.name])),
        }
    }
    stale
        .into_iter()
        .map(|(date, age, names)| {
            format!(
                "the prices of {} were taken on {date}, {age} days before the latest result: \
                 check them against the providers' price pages and correct them with \
                 LLMSCOPE_PRICES",
                names.join(", ")
            )
        })
        .collect()
}

/// Days from 1970-01-01 to a YYYY-MM-DD date of the proleptic Gregorian calendar (H. Hinnant,
/// "chrono-Compatible Low-Level Date Algorithms", `days_from_civil`).
fn day_number(date: &str) -> Option<i64> {
    let part = |r: std::ops::Range<usize>| date.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (part(0..4)?, part(5..7)?, part(8..10)?);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Some(era * 146_097 + day_of_era - 719_468)
}

/// The monthly bill at `volume` requests a month: `per_request_usd` × volume. The volume
/// counts the requests sent, and each one is billed whether it succeeds or fails (a failure
/// as much as the provider bills it, which `per_request_usd` already averages in), so this is
/// what the invoice says. `per_success_usd` × volume would bill every failure as an answer's
/// full price and overstate it by the error rate.
pub fn monthly(per_request_usd: Option<f64>, volume: Option<u64>) -> Option<f64> {
    Some(per_request_usd? * volume? as f64)
}

fn ratio(usd: f64, n: u64) -> Option<f64> {
    (n > 0).then(|| usd / n as f64)
}

fn usage(t: Tokens) -> Usage {
    Usage {
        input: Some(t.input),
        output: Some(t.output),
        cached_input: Some(t.cached_input),
        cache_write: Some(t.cache_write),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{build, group, Settings};
    use crate::probe::ProbeResult;
    use serde_json::{json, Value};

    /// One price, round numbers: model m1 at 1.00 input, 4.00 output, 0.10 cached input, 1.25
    /// cache write (USD per million tokens).
    fn table() -> PriceTable {
        PriceTable::parse(
            r#"{"taken": "2026-12-01", "prices": [{"provider": "openai", "model": "m1",
                "input": 1.0, "output": 4.0, "cached_input": 0.1, "cache_write": 1.25}]}"#,
        )
        .unwrap()
    }

    /// A result of `target`; `fields` overrides the defaults (a success of model m1 with no
    /// tokens and no cost).
    fn result(target: &str, fields: Value) -> ProbeResult {
        let mut r = json!({
            "target": target, "provider": "openai", "model": "m1", "t": 0, "ok": true,
            "status": 200, "ttft_ms": 100.0, "total_ms": 500.0, "input_tokens": null,
            "output_tokens": null, "cached_input_tokens": null, "tokens_per_s": 10.0,
            "cost_usd": null, "error": null, "extra": {}
        });
        for (k, v) in fields.as_object().unwrap() {
            r[k] = v.clone();
        }
        serde_json::from_value(r).unwrap()
    }

    fn failed(target: &str, kind: &str, status: Value, fields: Value) -> ProbeResult {
        let mut r = result(target, fields);
        r.ok = false;
        r.status = status.as_u64().map(|s| s as u16);
        r.error = Some(
            serde_json::from_value(json!({"kind": kind, "message": "x", "retry_after_s": null}))
                .unwrap(),
        );
        r
    }

    fn costs(results: &[ProbeResult], volume: Option<u64>) -> Vec<(Option<Cost>, Vec<String>)> {
        let targets = group(results);
        targets.iter().map(|t| cost(t, &table(), volume)).collect()
    }

    #[test]
    fn day_numbers_are_the_calendars() {
        // Checked with Python's datetime.date(...) - date(1970, 1, 1).
        for (date, day) in [
            ("1970-01-01", 0),
            ("1969-12-31", -1),
            ("2000-03-01", 11_017),
            ("2025-11-24", 20_416),
            ("2026-12-06", 20_793),
        ] {
            assert_eq!(day_number(date), Some(day), "{date}");
        }
    }

    /// Results of 2026-11-18 against prices of 2026-12-01 (newer) and of 2025-11-24 (359 days
    /// older): only the old ones get a caveat.
    #[test]
    fn prices_older_than_90_days_at_the_latest_result_are_said() {
        let t = json!(1_794_960_000_000_i64);
        let results = [
            result(
                "A",
                json!({"t": t, "input_tokens": 10, "output_tokens": 10}),
            ),
            result(
                "B",
                json!({"t": t, "model": "gpt-4o-mini", "input_tokens": 10, "output_tokens": 10}),
            ),
        ];
        let targets = group(&results);
        let prices = PriceTable::shipped().overlay(table());
        let costs: Vec<_> = targets.iter().map(|t| cost(t, &prices, None).0).collect();
        assert_eq!(
            stale_prices(&targets, &costs),
            [
                "the prices of B were taken on 2025-11-24, 359 days before the latest result: \
              check them against the providers' price pages and correct them with \
              LLMSCOPE_PRICES"
            ]
        );
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-12 * b.abs().max(1.0))
    }

    /// Target A, worked by hand (USD per million tokens × tokens / 10⁶):
    ///
    /// | # | result | tokens (in / cached / written / out) | cost |
    /// |---|---|---|---|
    /// | 1 | ok, no cost_usd | 1000 / 400 / 100 / 200 | (500·1 + 400·0.1 + 100·1.25 + 200·4) / 10⁶ = 0.001465 |
    /// | 2 | ok, no cost_usd | 2000 / 0 / 0 / 500 | (2000·1 + 500·4) / 10⁶ = 0.004 |
    /// | 3 | stream cut, cost_usd 0.0015 (billed) | 1000 / 0 / 0 / 100 | 0.0015 |
    /// | 4 | 429, no usage (not billed) | – | 0 |
    /// | 5 | ok, cost_usd 0.002 | 1000 / 0 / 0 / 250 | 0.002 |
    ///
    /// total 0.008965 over 5 requests = 0.001793 per request, over 3 successes =
    /// 0.0029883… per success; 3:1 blend (3·1 + 4) / 4 = 1.75; measured blend 0.008965 · 10⁶
    /// / (1200 + 2500 + 1100 + 1250 tokens) = 1.481818…; 10,000 requests a month: 17.93.
    #[test]
    fn costs_by_hand_with_a_billed_failure_cached_tokens_and_the_monthly_projection() {
        let a = [
            result(
                "A",
                json!({"input_tokens": 1000, "cached_input_tokens": 400,
                "output_tokens": 200, "extra": {"cache_write_input_tokens": 100}}),
            ),
            result(
                "A",
                json!({"input_tokens": 2000, "cached_input_tokens": 0, "output_tokens": 500}),
            ),
            failed(
                "A",
                "stream_cut",
                json!(200),
                json!({"input_tokens": 1000, "output_tokens": 100, "cost_usd": 0.0015}),
            ),
            failed("A", "rate_limited", json!(429), json!({})),
            result(
                "A",
                json!({"input_tokens": 1000, "output_tokens": 250, "cost_usd": 0.002}),
            ),
        ];
        let (cost, caveats) = costs(&a, Some(10_000)).remove(0);
        let cost = cost.unwrap();
        assert!(close(cost.per_request_usd, 0.001793), "{cost:?}");
        assert!(close(cost.per_success_usd, 0.008965 / 3.0), "{cost:?}");
        assert!(close(cost.blended_3to1_per_mtok, 1.75), "{cost:?}");
        assert!(
            close(cost.blended_measured_per_mtok, 0.008965e6 / 6050.0),
            "{cost:?}"
        );
        assert!(close(cost.monthly_usd, 17.93), "{cost:?}");
        assert_eq!(cost.prices_taken.as_deref(), Some("2026-12-01"));
        assert_eq!(caveats, Vec::<String>::new());
        // Without a volume, no projection.
        let (cost, _) = costs(&a, None).remove(0);
        assert_eq!(cost.unwrap().monthly_usd, None);
    }

    /// An unknown model has no cost, never 0. A target priced only by its results' cost_usd
    /// (its own price) has one, without the table's blend or date: C's 0.01 + 0.03 over 3
    /// requests (a timeout without an answer costs 0) = 0.013333… per request, 0.02 per
    /// success, 0.04 · 10⁶ / 400 tokens = 100 per million. D: 0.002 for (1000·1 + 250·4) / 10⁶,
    /// over 2 requests (one cut after a 200, counted 0) and 1 success (one success without a
    /// usage report is left out).
    #[test]
    fn unknown_prices_are_null_and_uncounted_tokens_are_said() {
        let results = [
            result(
                "B",
                json!({"model": "mystery", "input_tokens": 10, "output_tokens": 10}),
            ),
            result(
                "C",
                json!({"provider": "http", "model": "house", "input_tokens": 100, "output_tokens": 100, "cost_usd": 0.01}),
            ),
            result(
                "C",
                json!({"provider": "http", "model": "house", "input_tokens": 100, "output_tokens": 100, "cost_usd": 0.03}),
            ),
            failed(
                "C",
                "timeout",
                Value::Null,
                json!({"provider": "http", "model": "house"}),
            ),
            result("D", json!({"input_tokens": 1000, "output_tokens": 250})),
            failed("D", "stream_cut", json!(200), json!({})),
            result("D", json!({})),
        ];
        let mut all = costs(&results, Some(100)).into_iter();
        let (b, why) = all.next().unwrap();
        assert_eq!(b, None);
        assert!(why[0].starts_with("B's cost is unknown: the price table (taken 2026-12-01) has no price for openai mystery"), "{why:?}");
        let (c, why) = all.next().unwrap();
        let c = c.unwrap();
        assert!(close(c.per_request_usd, 0.04 / 3.0), "{c:?}");
        assert!(close(c.per_success_usd, 0.02), "{c:?}");
        assert!(close(c.blended_measured_per_mtok, 100.0), "{c:?}");
        assert!(close(c.monthly_usd, 4.0 / 3.0), "{c:?}");
        assert_eq!((c.blended_3to1_per_mtok, c.prices_taken), (None, None));
        assert!(why.is_empty(), "{why:?}");
        let (d, why) = all.next().unwrap();
        let d = d.unwrap();
        assert!(close(d.per_request_usd, 0.001), "{d:?}");
        assert!(close(d.per_success_usd, 0.002), "{d:?}");
        assert_eq!(why.len(), 2, "{why:?}");
        assert!(
            why[0].contains("D: 1 successful results reported no token usage"),
            "{why:?}"
        );
        assert!(
            why[1].contains("D: 1 failed requests were cut after the provider began answering"),
            "{why:?}"
        );
    }

    /// G runs a model the table prices at nothing (as it does Ollama's) but its target had
    /// its own price, 1.00/4.00: its results cost 0.002 each for 1000 + 250 tokens. The
    /// table's 3:1 blend (0) is withheld and said; the measured blend stands. H's results
    /// cost what the table says: its blend is the table's.
    #[test]
    fn a_blend_the_results_were_not_priced_at_is_withheld() {
        let zero = PriceTable::parse(
            r#"{"taken": "2026-12-01", "prices": [{"provider": "ollama", "model": "*",
                "input": 0.0, "output": 0.0}, {"provider": "openai", "model": "m1",
                "input": 1.0, "output": 4.0}]}"#,
        )
        .unwrap();
        let tokens = json!({"input_tokens": 1000, "output_tokens": 250, "cost_usd": 0.002});
        let mut g = tokens.clone();
        g["provider"] = json!("ollama");
        let results = [result("G", g.clone()), result("G", g), result("H", tokens)];
        let targets = group(&results);
        let (c, why) = cost(&targets[0], &zero, None);
        let c = c.unwrap();
        assert!(close(c.blended_measured_per_mtok, 1.6), "{c:?}");
        assert_eq!((c.blended_3to1_per_mtok, c.prices_taken), (None, None));
        assert_eq!(
            why,
            ["G's results were priced at $0.004000 for their tokens, the table's row for ollama \
              m1 (taken 2026-12-01) gives $0.000000: they were priced otherwise (the target's \
              own price, or older prices), so its 3:1 blend is not shown"]
        );
        let (h, why) = cost(&targets[1], &zero, None);
        assert!(close(h.unwrap().blended_3to1_per_mtok, 1.75));
        assert!(why.is_empty(), "{why:?}");
    }

    /// E's first model is unknown to the table and its last, m1, is known: the results
    /// without cost_usd are priced at m1's price, and the caveat says whose. F's model is
    /// unknown: its result without cost_usd is left out, its 0.004 is over 1 request.
    #[test]
    fn what_the_table_cannot_price_is_said() {
        let results = [
            result(
                "E",
                json!({"model": "old", "input_tokens": 1000, "output_tokens": 250}),
            ),
            result("E", json!({"input_tokens": 1000, "output_tokens": 250})),
            result("F", json!({"model": "mystery", "cost_usd": 0.004})),
            result(
                "F",
                json!({"model": "mystery", "input_tokens": 10, "output_tokens": 10}),
            ),
        ];
        let mut all = costs(&results, None).into_iter();
        let (e, why) = all.next().unwrap();
        // 2 · (1000·1 + 250·4) / 10⁶ over 2 requests.
        assert!(close(e.unwrap().per_request_usd, 0.002));
        assert_eq!(
            why,
            ["E's results name more than one model: its table price is openai m1's"]
        );
        let (f, why) = all.next().unwrap();
        let f = f.unwrap();
        assert!(close(f.per_request_usd, 0.004), "{f:?}");
        assert_eq!(
            f.blended_measured_per_mtok, None,
            "no result has both tokens and a cost"
        );
        assert_eq!(
            why,
            [
                "F: 1 results without cost_usd are left out of its cost: the price table has no \
              price for openai mystery"
            ]
        );
    }

    /// The costs reach the report: the recommendation applies max_cost_usd to the cost per
    /// successful request, and the JSON carries each cost object.
    #[test]
    fn the_report_applies_the_cost_limit_and_shows_every_cost() {
        let mut results = Vec::new();
        for i in 0..60 {
            let t = json!(i);
            // A: 0.002 a success; C: 0.02; B: unknown.
            results.push(result(
                "A",
                json!({"t": t, "input_tokens": 1000, "output_tokens": 250}),
            ));
            results.push(result(
                "B",
                json!({"t": t, "model": "mystery", "input_tokens": 10, "output_tokens": 10}),
            ));
            results.push(result(
                "C",
                json!({"t": t, "provider": "http", "model": "house", "cost_usd": 0.02}),
            ));
        }
        let targets = group(&results);
        let settings = Settings {
            max_cost_usd: Some(0.005),
            volume: Some(1000),
            prices: table(),
            ..Settings::default()
        };
        let report = build(&targets, &settings).unwrap();
        let verdict = &report.recommendation.recommendation;
        assert_eq!(verdict.name.as_deref(), Some("A"), "{verdict:?}");
        let reasons = verdict.reasons.join("\n");
        assert!(
            reasons.contains("C's cost per successful request $0.02 exceeds the $0.005 limit"),
            "{reasons}"
        );
        assert!(
            reasons.contains("B has no price to check against the cost limit"),
            "{reasons}"
        );
        let json = serde_json::to_value(&report).unwrap();
        let a = &json["targets"][0]["cost"];
        assert!(close(a["monthly_usd"].as_f64(), 2.0), "{a}");
        assert_eq!(a["prices_taken"], "2026-12-01");
        assert!(json["targets"][1]["cost"].is_null());
        assert!(close(
            json["targets"][2]["cost"]["per_success_usd"].as_f64(),
            0.02
        ));
        assert!(
            !verdict.caveats.iter().any(|c| c.contains("not known yet")),
            "{verdict:?}"
        );
    }
}
