//! The machine unlike its peers: a robust z of each machine's median against the median of
//! all machines' medians.
//!
//! B. Iglewicz & D. C. Hoaglin (1993), *How to Detect and Handle Outliers* (ASQC Basic
//! References in Quality Control 16), the modified z-score
//!
//! ```text
//! zᵢ = (mᵢ − M) / (1.4826 · MAD),   M = median of the mᵢ,   MAD = median |mᵢ − M|
//! ```
//!
//! (1.4826 = 1/Φ⁻¹(3/4) makes the MAD consistent for σ under normality; the book writes it as
//! 0.6745 (mᵢ − M)/MAD), flagged when |zᵢ| > 3.5, the book's recommended cut-off. Median and
//! MAD resist the very machine being looked for: one press far off cannot drag the centre or
//! inflate the scale, as it would a mean and SD. When more than half the medians coincide the
//! MAD is 0; the scale is then 1.253314 · mean |mᵢ − M| (√(π/2) makes the mean absolute
//! deviation consistent for σ), the usual fallback, and if that is 0 too no machine differs.
//!
//! Minimum [`MIN_MACHINES`]: with k machines whose medians are in truth the same (normal
//! noise), simulation (20 000 sets per k) gives the chance a given machine is wrongly flagged:
//! k = 3: 9 %, 5: 5 %, 7: 3.4 %, 10: 1.7 %, 20: 0.7 %, 100: 0.1 %. The MAD of a handful of
//! values is itself so noisy that the 3.5 cut-off means little below ten, so fewer machines
//! get their medians and z but no flag, and the report says "not enough machines".

use crate::error::{invalid, SpcError};

/// Fewer machines than this are not judged (see the module docs).
pub const MIN_MACHINES: usize = 10;
/// Iglewicz & Hoaglin's cut-off for the modified z-score.
pub const Z_LIMIT: f64 = 3.5;

/// One machine's values of the metric over the window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MachineInput<'a> {
    /// The machine's name.
    pub name: &'a str,
    /// Its values (any order).
    pub values: &'a [f64],
}

/// The evidence about one machine.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MachineFinding {
    /// The machine's name.
    pub name: String,
    /// Values it had.
    pub n: usize,
    /// Its median; `None` without values.
    pub median: Option<f64>,
    /// The median of the other machines' medians.
    pub peers_median: Option<f64>,
    /// Its modified z-score; `None` without values or without a scale.
    pub z: Option<f64>,
    /// |z| > 3.5 with enough machines.
    pub odd: bool,
    /// The finding in one sentence.
    pub words: String,
}

/// The machines compared with each other.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MachineReport {
    /// One finding per machine, in input order.
    pub machines: Vec<MachineFinding>,
    /// The median of the machines' medians (M).
    pub center: Option<f64>,
    /// The robust scale: 1.4826 · MAD, or the mean-deviation fallback.
    pub scale: Option<f64>,
    /// At least [`MIN_MACHINES`] machines with values: flags are given.
    pub enough: bool,
    /// The names of the machines unlike their peers.
    pub odd: Vec<String>,
    /// The overall finding in words.
    pub summary: String,
}

/// Finds the machines unlike their peers (see the module docs). `unit` is the metric's unit
/// for the sentences. O(total values): each median is a selection.
pub fn odd_machines(machines: &[MachineInput<'_>], unit: &str) -> Result<MachineReport, SpcError> {
    let mut medians = Vec::with_capacity(machines.len());
    for m in machines {
        if let Some(i) = m.values.iter().position(|v| !v.is_finite()) {
            return Err(invalid(
                "values",
                format!(
                    "machine \"{}\": value {i} is {}; give finite numbers only",
                    m.name, m.values[i]
                ),
            ));
        }
        medians.push(median(m.values));
    }
    let present: Vec<f64> = medians.iter().flatten().copied().collect();
    let enough = present.len() >= MIN_MACHINES;
    let center = median(&present);
    let scale = center.and_then(|c| robust_scale(&present, c));
    let mut odd = Vec::new();
    let findings = machines
        .iter()
        .zip(&medians)
        .enumerate()
        .map(|(i, (m, &med))| {
            let peers: Vec<f64> = medians
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .filter_map(|(_, v)| *v)
                .collect();
            let peers_median = median(&peers);
            let z = match (med, center, scale) {
                (Some(v), Some(c), Some(s)) => Some((v - c) / s),
                (Some(_), Some(_), None) => Some(0.0), // every median equal: nothing differs
                _ => None,
            };
            let is_odd = enough && z.is_some_and(|z| z.abs() > Z_LIMIT);
            if is_odd {
                odd.push(m.name.to_string());
            }
            MachineFinding {
                words: machine_words(m.name, med, peers_median, z, is_odd, enough, unit),
                name: m.name.to_string(),
                n: m.values.len(),
                median: med,
                peers_median,
                z,
                odd: is_odd,
            }
        })
        .collect();
    let summary = if !enough {
        format!(
            "not enough machines to single one out: {} with data, at least {MIN_MACHINES} needed",
            present.len()
        )
    } else if odd.is_empty() {
        format!(
            "no machine is unlike its peers (all {} within |z| ≤ {Z_LIMIT})",
            present.len()
        )
    } else {
        format!("unlike their peers: {}", odd.join(", "))
    };
    Ok(MachineReport {
        machines: findings,
        center,
        scale,
        enough,
        odd,
        summary,
    })
}

fn machine_words(
    name: &str,
    median: Option<f64>,
    peers: Option<f64>,
    z: Option<f64>,
    odd: bool,
    enough: bool,
    unit: &str,
) -> String {
    let f = super::format_number;
    match (median, peers, z) {
        (None, _, _) => format!("{name}: no values in the window"),
        (Some(m), Some(p), Some(z)) => {
            let verdict = if odd {
                "unlike its peers"
            } else if enough {
                "in line with its peers"
            } else {
                "not judged (not enough machines)"
            };
            format!(
                "{name}: median {} {unit} against {} {unit} for its peers (modified z = {}): {verdict}",
                f(m),
                f(p),
                f(z)
            )
        }
        (Some(m), _, _) => format!("{name}: median {} {unit}; no peers to compare with", f(m)),
    }
}

/// 1.4826 · MAD about `center`, or 1.253314 · mean absolute deviation when the MAD is 0;
/// `None` when both are 0 (or there are no values).
fn robust_scale(values: &[f64], center: f64) -> Option<f64> {
    let deviations: Vec<f64> = values.iter().map(|v| (v - center).abs()).collect();
    let mad = median(&deviations)?;
    if mad > 0.0 {
        return Some(1.4826 * mad);
    }
    let mean = deviations.iter().sum::<f64>() / deviations.len() as f64;
    (mean > 0.0).then_some(1.253_314 * mean)
}

/// The median (mean of the middle two for an even count), by selection; `None` when empty.
fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    let mid = v.len() / 2;
    let upper = *v.select_nth_unstable_by(mid, f64::total_cmp).1;
    Some(if v.len() % 2 == 1 {
        upper
    } else {
        let lower = v[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        0.5 * (lower + upper)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rng;

    fn fleet(k: usize, odd_shift: f64, rng: &mut Rng) -> Vec<Vec<f64>> {
        (0..k)
            .map(|i| {
                let centre = 300.0
                    + if i == 3 {
                        odd_shift
                    } else {
                        2.0 * rng.normal()
                    };
                (0..500).map(|_| centre + 20.0 * rng.normal()).collect()
            })
            .collect()
    }

    fn inputs<'a>(data: &'a [Vec<f64>], names: &'a [String]) -> Vec<MachineInput<'a>> {
        data.iter()
            .zip(names)
            .map(|(v, n)| MachineInput { name: n, values: v })
            .collect()
    }

    #[test]
    fn the_odd_press_is_flagged_with_its_evidence() {
        let mut rng = Rng::new(9);
        let data = fleet(12, 40.0, &mut rng);
        let names: Vec<String> = (0..12).map(|i| format!("press-{i}")).collect();
        let r = odd_machines(&inputs(&data, &names), "ms").unwrap();
        assert!(r.enough);
        assert_eq!(r.odd, vec!["press-3".to_string()]);
        let f = &r.machines[3];
        assert!(
            f.z.unwrap() > Z_LIMIT && f.words.contains("unlike its peers"),
            "{}",
            f.words
        );
        assert!((f.peers_median.unwrap() - 300.0).abs() < 5.0);
    }

    #[test]
    fn hand_computed_modified_z() {
        // Medians 1..=9 and 30: M = 5.5, |deviations| median = 2.5, scale 3.7065.
        let data: Vec<Vec<f64>> = (1..=9).chain([30]).map(|v| vec![f64::from(v)]).collect();
        let names: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        let r = odd_machines(&inputs(&data, &names), "").unwrap();
        assert_eq!(r.center, Some(5.5));
        assert!((r.scale.unwrap() - 1.4826 * 2.5).abs() < 1e-12);
        assert!((r.machines[9].z.unwrap() - 24.5 / (1.4826 * 2.5)).abs() < 1e-12);
        assert_eq!(r.odd, vec!["9".to_string()]);
    }

    #[test]
    fn too_few_machines_are_not_judged_and_bad_values_are_named() {
        let mut rng = Rng::new(2);
        let data = fleet(5, 400.0, &mut rng);
        let names: Vec<String> = (0..5).map(|i| format!("m{i}")).collect();
        let r = odd_machines(&inputs(&data, &names), "ms").unwrap();
        assert!(!r.enough && r.odd.is_empty());
        assert!(r.summary.starts_with("not enough machines"));
        let bad = [MachineInput {
            name: "m9",
            values: &[1.0, f64::NAN],
        }];
        let e = odd_machines(&bad, "ms").unwrap_err().to_string();
        assert!(e.contains("m9") && e.contains("value 1"), "{e}");
    }
}
