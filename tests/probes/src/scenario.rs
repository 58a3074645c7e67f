//! Issue 12's comparison scenario, with a known truth, on the provider stand-in: four targets
//! whose differences the comparison must find.
//!
//! - **A** is 20 % faster than **B** (TTFT 80 ms against 100 ms, plus the same 0–40 ms
//!   jitter) at the same price: A − B is −20 ms.
//! - **C** is the cheapest and the fastest (60 ms), but every 20th probe fails (HTTP 500):
//!   an error rate of exactly 5 %.
//! - **D** drifts: its TTFT rises by 3 ms with every round, from 100 ms.
//!
//! The scripts depend on the round (C's failures and D's drift), so whoever drives the probes
//! calls [`prepare`] before each round ([`probe_rounds`] does): the probe Worker's test and
//! the dashboard's end-to-end test (tests/e2e/tests/worker_compare.rs) with their in-process
//! [`Standin`], anything else with `PUT /profiles/{profile}` on a stand-in process.

use llmscope_standin::{Fault, Script, Standin};
use serde_json::{json, Value};

/// The targets, named as their stand-in profiles.
pub const TARGETS: [&str; 4] = ["A", "B", "C", "D"];
/// B's scripted TTFT; A's is 20 % less.
pub const B_TTFT_MS: u64 = 100;
/// A's scripted TTFT.
pub const A_TTFT_MS: u64 = 80;
/// C's scripted TTFT.
pub const C_TTFT_MS: u64 = 60;
/// Uniform jitter added to A's, B's and C's TTFT (the stand-in's seeded generator).
pub const JITTER_MS: u64 = 40;
/// One probe in this many of C's fails.
pub const C_FAILS_EVERY: u32 = 20;
/// D's TTFT at round 0, and what each round adds.
pub const D_START_MS: u64 = 100;
/// D's drift per round.
pub const D_DRIFT_MS_PER_ROUND: u64 = 3;
/// USD per million tokens (input, output): A, B and D cost the same, C a tenth.
pub const PRICES: [(&str, f64, f64); 4] = [
    ("A", 1.0, 4.0),
    ("B", 1.0, 4.0),
    ("C", 0.1, 0.4),
    ("D", 1.0, 4.0),
];

/// The Worker's `LLMSCOPE_TARGETS` entries: Ollama wire format (no key needed) at `base_url`
/// of each profile, with its price.
pub fn targets(base_url: impl Fn(&str) -> String) -> Vec<Value> {
    PRICES
        .iter()
        .map(|(name, input, output)| {
            json!({"name": name, "provider": "ollama", "model": format!("model-{name}"),
                   "base_url": base_url(name), "timeout_ms": 5000,
                   "price": {"input": input, "output": output}})
        })
        .collect()
}

/// [`targets`] on an in-process stand-in.
pub fn targets_on(standin: &Standin) -> Vec<Value> {
    targets(|name| standin.base_url(name))
}

fn script(ttft_ms: u64, jitter_ms: u64) -> Script {
    Script {
        ttft_ms,
        jitter_ms,
        gap_ms: 5,
        gap_jitter_ms: 5,
        chunks: 8,
        input_tokens: 300,
        output_tokens: 40,
        ..Script::default()
    }
}

/// Whether C's probe of `round` (from 0) fails: rounds 19, 39, 59, ...
pub fn c_fails(round: u32) -> bool {
    (round + 1) % C_FAILS_EVERY == 0
}

/// D's scripted TTFT in `round`.
pub fn d_ttft_ms(round: u32) -> u64 {
    D_START_MS + D_DRIFT_MS_PER_ROUND * u64::from(round)
}

/// Sets the scripts `round` (from 0) needs with `set(profile, script)`. A and B are set only
/// in round 0 and C only when its fault comes or goes, because setting a profile restarts its
/// jitter sequence; D has no jitter and is set every round.
pub fn prepare(round: u32, mut set: impl FnMut(&str, Script)) {
    if round == 0 {
        set("A", script(A_TTFT_MS, JITTER_MS));
        set("B", script(B_TTFT_MS, JITTER_MS));
    }
    if round == 0 || c_fails(round) || c_fails(round.wrapping_sub(1)) {
        let fault = c_fails(round).then_some(Fault::ServerError);
        set(
            "C",
            Script {
                fault,
                ..script(C_TTFT_MS, JITTER_MS)
            },
        );
    }
    set("D", script(d_ttft_ms(round), 0));
}

/// [`prepare`] on an in-process stand-in.
pub fn prepare_on(standin: &Standin, round: u32) {
    prepare(round, |name, script| standin.set(name, script));
}

/// Runs `rounds` rounds through the Worker at `url`: [`prepare`], then `POST /probe/NAME` of
/// the four targets at once. Panics when the Worker refuses a probe.
pub async fn probe_rounds(url: &str, token: &str, standin: &Standin, rounds: std::ops::Range<u32>) {
    let http = reqwest::Client::new();
    for round in rounds {
        prepare_on(standin, round);
        let probes = TARGETS.map(|name| {
            http.post(format!("{url}/probe/{name}"))
                .bearer_auth(token)
                .send()
        });
        for (name, answer) in TARGETS
            .iter()
            .zip(futures_util::future::join_all(probes).await)
        {
            let status = answer.map(|r| r.status().as_u16());
            assert!(
                matches!(status, Ok(200)),
                "round {round}: POST /probe/{name}: {status:?}"
            );
        }
    }
}
