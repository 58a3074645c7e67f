//! The built-in simulators, on by default on first visit: LLM latency for several models and
//! machine signals, each with the kind of trouble SPC is for. The noise is the engine's seeded
//! [`Rng`] (standard normals), so a test with a fixed seed sees the same story every time.
//!
//! LLM time to first token and output speed are log-normal (right-skewed, as real ones are);
//! incidents: a slow region (a step up), a cold start (one huge spike), a slow degradation (a
//! trend in TTFT, and the matching sag in tokens/s). Machine
//! signals: barrel temperature drifting, cycle time with a step change, spindle vibration
//! wearing slowly.

use crate::model::{Origin, Sample, Session};
use llmscope_spc::Rng;

/// One simulated stream: its name, unit, and its value at tick `k` given a standard normal draw.
pub struct Simulated {
    /// The stream's name (`model/metric` or `machine/signal`).
    pub id: &'static str,
    /// The unit of its values.
    pub unit: &'static str,
    /// The value at tick `k`, given a standard normal draw.
    pub value: fn(u64, f64) -> f64,
    /// The upper spec limit (an SLO for latency), set on a new stream.
    pub usl: Option<f64>,
    /// The lower spec limit, set on a new stream.
    pub lsl: Option<f64>,
}

/// Every simulator. `k` counts ticks from the start of the demo.
pub const SIMULATORS: [Simulated; 8] = [
    Simulated {
        id: "gpt-4o-mini/ttft",
        unit: "ms",
        value: |k, e| {
            (5.9 + 0.18 * e).exp()
                * if k > 90 {
                    1.0 + 0.004 * (k - 90) as f64
                } else {
                    1.0
                }
        },
        usl: Some(800.0),
        lsl: None,
    },
    Simulated {
        id: "claude-haiku/ttft",
        unit: "ms",
        value: |k, e| (6.1 + 0.15 * e).exp() + if k == 75 { 4000.0 } else { 0.0 },
        usl: Some(1000.0),
        lsl: None,
    },
    Simulated {
        id: "gemini-flash/ttft",
        unit: "ms",
        value: |k, e| (5.7 + 0.2 * e).exp() * if k > 60 { 1.45 } else { 1.0 },
        usl: Some(800.0),
        lsl: None,
    },
    Simulated {
        id: "gpt-4o-mini/tokens_per_s",
        unit: "tokens/s",
        // Output speed sags in the same slow degradation that lifts its TTFT.
        value: |k, e| {
            (4.5 + 0.08 * e).exp()
                / if k > 90 {
                    1.0 + 0.004 * (k - 90) as f64
                } else {
                    1.0
                }
        },
        usl: None,
        lsl: Some(60.0),
    },
    Simulated {
        id: "claude-haiku/tokens_per_s",
        unit: "tokens/s",
        value: |_, e| (4.8 + 0.07 * e).exp(),
        usl: None,
        lsl: Some(80.0),
    },
    Simulated {
        id: "press1/barrel_temperature",
        unit: "°C",
        value: |k, e| 225.0 + 0.02 * k as f64 + 0.3 * e,
        usl: Some(235.0),
        lsl: Some(215.0),
    },
    Simulated {
        id: "press1/cycle_time",
        unit: "s",
        value: |k, e| 12.0 + if k > 70 { 0.3 } else { 0.0 } + 0.05 * e,
        usl: Some(13.0),
        lsl: Some(11.0),
    },
    Simulated {
        id: "cnc1/spindle_vibration",
        unit: "mm/s",
        value: |k, e| 1.5 + 0.00004 * (k * k) as f64 + 0.08 * e,
        usl: Some(4.5),
        lsl: None,
    },
];

/// Adds tick `k` of every simulator at time `t` (epoch ms). New streams get the simulator's
/// spec limits.
pub fn tick(session: &mut Session, rng: &mut Rng, k: u64, t: f64) {
    for sim in &SIMULATORS {
        let value = (sim.value)(k, rng.normal());
        let (stream, fresh) = session.slot(&Origin::Simulator, sim.id, sim.unit);
        stream.samples.push(Sample { t, value });
        if fresh {
            stream.settings.usl = sim.usl;
            stream.settings.lsl = sim.lsl;
            if sim.unit == "ms" || sim.unit == "tokens/s" {
                // Latency is log-normal: chart it on the log scale.
                stream.settings.chart.transform = Some("log".into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each incident is caught after it starts, and before it the charts rarely signal: at
    /// most 10 % of the points between the baseline and the incidents (a chart that signalled
    /// everywhere passed a check of "after" alone). Not "none", and not the nominal rate of
    /// one in ARL0 = 74 points either: run tests fire on consecutive points, and limits from a
    /// 30-point baseline make the in-control ARL of a given chart vary widely around its
    /// nominal value (Jensen et al. 2006, J. Quality Technology 38(4)); 20 seeds here give
    /// about 5 %. The page seeds its generator from the clock, so the story must hold for any
    /// seed.
    #[test]
    fn every_incident_is_caught_after_it_starts_and_not_much_before() {
        let incidents = [
            ("gpt-4o-mini/ttft", 91),
            ("gpt-4o-mini/tokens_per_s", 91),
            ("claude-haiku/ttft", 75),
            ("gemini-flash/ttft", 61),
            ("press1/cycle_time", 71),
            ("press1/barrel_temperature", 30),
            ("cnc1/spindle_vibration", 30),
        ];
        let (mut early, mut points_before) = (0, 0);
        for seed in 0..20 {
            let mut session = Session::default();
            let mut rng = Rng::new(seed);
            for k in 0..200 {
                tick(&mut session, &mut rng, k, k as f64 * 1000.0);
            }
            for (id, start) in incidents {
                let stream = session
                    .stream(id)
                    .unwrap_or_else(|| panic!("{id} is simulated"));
                let chart = stream.chart().unwrap().unwrap();
                let after = chart
                    .primary
                    .signals
                    .iter()
                    .filter(|s| s.index >= start)
                    .count();
                assert!(
                    after > 0,
                    "seed {seed}, {id}: no signal after its incident at {start}"
                );
                let before = chart.estimate.baseline_end..start;
                let mut signalling: Vec<usize> =
                    chart.primary.signals.iter().map(|s| s.index).collect();
                signalling.dedup();
                early += signalling.iter().filter(|i| before.contains(i)).count();
                points_before += before.len();
            }
        }
        assert!(
            early * 10 <= points_before,
            "{early} of {points_before} points signal before the incidents (at most 10 %)"
        );
    }
}
