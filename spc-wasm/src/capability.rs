//! Process capability: how the spread of a process compares with its specification limits.
//!
//! Definitions follow Montgomery, *Introduction to Statistical Quality Control*, ch. 8, and
//! Minitab's published capability formulas:
//!
//! * `Cp  = (USL − LSL) / 6σ_within`, `Cpu = (USL − x̄) / 3σ_within`,
//!   `Cpl = (x̄ − LSL) / 3σ_within`, `Cpk = min(Cpu, Cpl)` — the *potential* capability, with the
//!   short-term (within-subgroup) sigma that the control chart estimated (e.g. MR̄/d2).
//! * `Pp`, `Ppu`, `Ppl`, `Ppk` — the same with the overall sample standard deviation `s`, i.e.
//!   the *actual* performance including any drift between subgroups.
//! * `Cpm` (Taguchi index; Boyles 1991) penalises distance from the target `T`:
//!   `Cpm = (USL − LSL) / 6·sqrt(s² + (x̄ − T)²)`. Like Minitab we use the overall `s` here, not
//!   σ_within. When the target is not the midpoint we use the general form
//!   `min(T − LSL, USL − T) / 3·sqrt(s² + (x̄ − T)²)`, which equals the formula above when `T` is
//!   the midpoint.
//!
//! Confidence intervals (two-sided, normal theory):
//!
//! * `Cp`, `Pp`: Chou, Owen & Borrego (1990), exact under normality for a sample SD:
//!   `Ĉp·sqrt(χ²_{α/2, ν}/ν) ≤ Cp ≤ Ĉp·sqrt(χ²_{1−α/2, ν}/ν)`, `ν = n − 1`, where `χ²_{p, ν}` is
//!   the lower-`p` quantile.
//! * `Cpk`, `Ppk`: Bissell (1990), normal approximation:
//!   `Ĉpk ± z_{1−α/2}·sqrt(1/(9n) + Ĉpk²/(2(n − 1)))`. The same expression is used for a one-sided
//!   index (`Cpk = Cpu` or `Cpl`).
//! * `Cpm`: Boyles (1991), chi-square with `ν = n(1 + a²)² / (1 + 2a²)`, `a = (x̄ − T)/s`:
//!   `Ĉpm·sqrt(χ²_{α/2, ν}/ν) ≤ Cpm ≤ Ĉpm·sqrt(χ²_{1−α/2, ν}/ν)`.
//!
//! Every index assumes a stable (in-control), roughly normal process. The result says so in plain
//! words (in [`Capability::warnings`]) when the chart found the process out of control, when the
//! Anderson–Darling test rejects normality, and when the sample is small.

use crate::math::{chi2_quantile, mean_sd, normal_quantile};
use crate::normality::anderson_darling_with;
// Normality used to live here; the re-export keeps `capability::anderson_darling` working.
pub use crate::normality::{ad_p_value, anderson_darling, Normality};
use crate::SpcError;

/// Specification limits. An SLO such as "TTFT under 800 ms" is an upper limit only.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SpecLimits {
    /// Lower specification limit, if any.
    pub lsl: Option<f64>,
    /// Upper specification limit, if any.
    pub usl: Option<f64>,
    /// Target for `Cpm`; defaults to the midpoint of the two limits. Ignored (with a warning)
    /// unless both limits are given.
    pub target: Option<f64>,
}

/// The result of [`capability`]. Indices that the spec limits do not define are `None`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Capability {
    /// Lower specification limit, as given.
    pub lsl: Option<f64>,
    /// Upper specification limit, as given.
    pub usl: Option<f64>,
    /// The target used for `Cpm` (the midpoint when none was given); `None` unless both limits.
    pub target: Option<f64>,
    /// Number of observations.
    pub n: usize,
    /// Mean of the observations.
    pub mean: f64,
    /// The short-term sigma given by the control chart.
    pub sigma_within: f64,
    /// The sample standard deviation (n − 1 divisor) of all the data.
    pub sigma_overall: f64,
    /// `(USL − LSL)/6σ_within`; needs both limits.
    pub cp: Option<f64>,
    /// `min(Cpu, Cpl)` over the limits given (so `Cpu` alone for an upper limit only).
    pub cpk: Option<f64>,
    /// `(USL − x̄)/3σ_within`.
    pub cpu: Option<f64>,
    /// `(x̄ − LSL)/3σ_within`.
    pub cpl: Option<f64>,
    /// `(USL − LSL)/6s`; needs both limits.
    pub pp: Option<f64>,
    /// `min(Ppu, Ppl)` over the limits given.
    pub ppk: Option<f64>,
    /// `(USL − x̄)/3s`.
    pub ppu: Option<f64>,
    /// `(x̄ − LSL)/3s`.
    pub ppl: Option<f64>,
    /// Taguchi index with the overall `s`; needs both limits.
    pub cpm: Option<f64>,
    /// Two-sided confidence level of the intervals, e.g. 0.95.
    pub confidence: f64,
    /// Chou, Owen & Borrego chi-square interval for `Cp` (df = n − 1).
    pub cp_interval: Option<(f64, f64)>,
    /// Bissell's normal-approximation interval for `Cpk`.
    pub cpk_interval: Option<(f64, f64)>,
    /// Chi-square interval for `Pp` (df = n − 1, exact under normality).
    pub pp_interval: Option<(f64, f64)>,
    /// Bissell's interval for `Ppk`.
    pub ppk_interval: Option<(f64, f64)>,
    /// Boyles' chi-square interval for `Cpm`.
    pub cpm_interval: Option<(f64, f64)>,
    /// Anderson–Darling test of the data against a normal distribution.
    pub normality: Normality,
    /// Plain-English caveats to show next to the numbers.
    pub warnings: Vec<String>,
}

/// Below this Anderson–Darling p-value the data are called clearly non-normal.
const NON_NORMAL_P: f64 = 0.01;
/// Below this sample size the intervals are called wide.
const SMALL_N: usize = 30;

/// Capability of `data` against `spec`.
///
/// `sigma_within` is the short-term sigma estimated by the control chart (it is not recomputed
/// here, so the indices agree with the chart's limits). The mean and the overall sigma come from
/// `data`. `confidence` (strictly between 0 and 1) sets the intervals; `in_control` is whether the
/// chart found the process stable, and only adds a warning.
///
/// # Errors
/// * [`SpcError::InvalidParameter`] when no limit is given, a limit or target is not finite,
///   `lsl >= usl`, the target lies outside the limits, or `confidence` is not in (0, 1);
/// * [`SpcError::NotFinite`] for a NaN or infinite observation (0-based index);
/// * [`SpcError::TooFewPoints`] for fewer than 2 observations;
/// * [`SpcError::ZeroSigma`] when `sigma_within` is not a positive finite number, or the data have
///   no spread at all (then `Pp` would be infinite).
pub fn capability(
    data: &[f64],
    sigma_within: f64,
    spec: &SpecLimits,
    confidence: f64,
    in_control: bool,
) -> Result<Capability, SpcError> {
    let SpecLimits { lsl, usl, target } = *spec;
    check_finite_param("lsl", lsl)?;
    check_finite_param("usl", usl)?;
    check_finite_param("target", target)?;
    if lsl.is_none() && usl.is_none() {
        return Err(crate::error::invalid(
            "spec",
            "give a lower and/or an upper spec limit",
        ));
    }
    if let (Some(l), Some(u)) = (lsl, usl) {
        if l >= u {
            return Err(crate::error::invalid(
                "spec",
                format!("the lower spec limit ({l}) must be below the upper spec limit ({u})"),
            ));
        }
        if let Some(t) = target {
            if t < l || t > u {
                return Err(crate::error::invalid(
                    "target",
                    format!("the target ({t}) must lie between the spec limits ({l} and {u})"),
                ));
            }
        }
    }
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(crate::error::invalid(
            "confidence",
            format!("must be strictly between 0 and 1 (e.g. 0.95), got {confidence}"),
        ));
    }
    if let Some((index, &value)) = data.iter().enumerate().find(|(_, x)| !x.is_finite()) {
        return Err(SpcError::NotFinite { index, value });
    }
    let n = data.len();
    if n < 2 {
        return Err(SpcError::TooFewPoints {
            needed: 2,
            got: n,
            what: "capability analysis",
        });
    }
    if !(sigma_within.is_finite() && sigma_within > 0.0) {
        return Err(SpcError::ZeroSigma {
            what: "capability (within-subgroup sigma)",
        });
    }
    let (mean, sigma_overall) = mean_sd(data);
    if !(mean.is_finite() && sigma_overall.is_finite()) {
        return Err(crate::error::invalid(
            "data",
            "the values are too large in magnitude to average in floating point",
        ));
    }
    if sigma_overall <= 0.0 {
        return Err(SpcError::ZeroSigma {
            what: "capability (overall standard deviation)",
        });
    }

    let nf = n as f64;
    let alpha = 1.0 - confidence;
    let z = normal_quantile(1.0 - alpha / 2.0);

    let (cp, cpu, cpl, cpk) = indices(lsl, usl, mean, sigma_within)?;
    let (pp, ppu, ppl, ppk) = indices(lsl, usl, mean, sigma_overall)?;

    let mut warnings = Vec::new();
    let (target_used, cpm) = match (lsl, usl) {
        (Some(l), Some(u)) => {
            let t = target.unwrap_or(l + (u - l) / 2.0);
            let tau = sigma_overall.hypot(mean - t);
            let cpm = finite("Cpm", (t - l).min(u - t) / (3.0 * tau))?;
            (Some(t), Some(cpm))
        }
        _ => {
            if target.is_some() {
                warnings.push(
                    "Cpm needs both a lower and an upper spec limit, so the target was not used."
                        .to_string(),
                );
            }
            (None, None)
        }
    };

    let df = nf - 1.0;
    let chi_ratio = |df: f64| {
        let lo = (chi2_quantile(alpha / 2.0, df) / df).sqrt();
        let hi = (chi2_quantile(1.0 - alpha / 2.0, df) / df).sqrt();
        (lo, hi)
    };
    let (clo, chi) = chi_ratio(df);
    let chi_interval = |c: Option<f64>| c.and_then(|c| interval(c * clo, c * chi));
    let bissell = |c: Option<f64>| {
        c.and_then(|c| {
            let half = z * (1.0 / (9.0 * nf) + c * c / (2.0 * df)).sqrt();
            interval(c - half, c + half)
        })
    };
    let cpm_interval = match (cpm, target_used) {
        (Some(c), Some(t)) => {
            let a = (mean - t) / sigma_overall;
            let a2 = a * a;
            let nu = nf * (1.0 + a2) * (1.0 + a2) / (1.0 + 2.0 * a2);
            let (lo, hi) = chi_ratio(nu);
            interval(c * lo, c * hi)
        }
        _ => None,
    };

    let normality = anderson_darling_with(data, mean, sigma_overall);

    if !in_control {
        warnings.push(
            "The process is not in statistical control: capability describes an unstable \
             process and does not predict what it will do next. Find and remove the special \
             causes first."
                .to_string(),
        );
    }
    if normality.p_value < NON_NORMAL_P {
        warnings.push(format!(
            "The data are clearly not normal (Anderson-Darling p = {:.4}), so these normal-theory \
             indices misstate the tail fractions; for right-skewed data such as latency, try the \
             log or Box-Cox transform.",
            normality.p_value
        ));
    }
    if n < SMALL_N {
        warnings.push(format!(
            "Only {n} observations: the confidence intervals are wide, so read the indices as \
             rough."
        ));
    }
    if lsl.is_some_and(|l| mean < l) || usl.is_some_and(|u| mean > u) {
        warnings.push("The process mean lies outside the spec limits.".to_string());
    }

    Ok(Capability {
        lsl,
        usl,
        target: target_used,
        n,
        mean,
        sigma_within,
        sigma_overall,
        cp,
        cpk,
        cpu,
        cpl,
        pp,
        ppk,
        ppu,
        ppl,
        cpm,
        confidence,
        cp_interval: chi_interval(cp),
        cpk_interval: bissell(cpk),
        pp_interval: chi_interval(pp),
        ppk_interval: bissell(ppk),
        cpm_interval,
        normality,
        warnings,
    })
}

/// `(two-sided, upper, lower, min)` indices for one sigma.
#[allow(clippy::type_complexity)]
fn indices(
    lsl: Option<f64>,
    usl: Option<f64>,
    mean: f64,
    sigma: f64,
) -> Result<(Option<f64>, Option<f64>, Option<f64>, Option<f64>), SpcError> {
    let upper = usl
        .map(|u| finite("the upper index", (u - mean) / (3.0 * sigma)))
        .transpose()?;
    let lower = lsl
        .map(|l| finite("the lower index", (mean - l) / (3.0 * sigma)))
        .transpose()?;
    let both = match (lsl, usl) {
        (Some(l), Some(u)) => Some(finite("Cp/Pp", (u - l) / (6.0 * sigma))?),
        _ => None,
    };
    let min = match (upper, lower) {
        (Some(u), Some(l)) => Some(u.min(l)),
        (u, l) => u.or(l),
    };
    Ok((both, upper, lower, min))
}

/// An index that overflowed (spec limits astronomically far away in units of sigma) is an input
/// problem, not a result.
fn finite(what: &str, v: f64) -> Result<f64, SpcError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(crate::error::invalid(
            "spec",
            format!(
                "{what} is not a finite number: the spec limits are too far from the data for \
                 the sigma given"
            ),
        ))
    }
}

fn interval(lo: f64, hi: f64) -> Option<(f64, f64)> {
    (lo.is_finite() && hi.is_finite()).then_some((lo, hi))
}

fn check_finite_param(name: &'static str, v: Option<f64>) -> Result<(), SpcError> {
    match v {
        Some(x) if !x.is_finite() => Err(crate::error::invalid(
            name,
            format!("must be a finite number, got {x}"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    fn spec(lsl: Option<f64>, usl: Option<f64>) -> SpecLimits {
        SpecLimits {
            lsl,
            usl,
            target: None,
        }
    }

    /// Normal scores: deterministic, exactly symmetric, very close to normal.
    fn normal_scores(n: usize, mean: f64, sd: f64) -> Vec<f64> {
        (1..=n)
            .map(|i| mean + sd * normal_quantile((i as f64 - 0.5) / n as f64))
            .collect()
    }

    #[test]
    fn hand_computed_indices() {
        // mean 5, sum of squares 32, s = sqrt(32/7).
        let data = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let c = capability(&data, 2.0, &spec(Some(0.0), Some(14.0)), 0.95, true).unwrap();
        let s = (32.0f64 / 7.0).sqrt();
        assert!(close(c.mean, 5.0, 1e-12));
        assert!(close(c.sigma_overall, s, 1e-12));
        assert!(close(c.cp.unwrap(), 14.0 / 12.0, 1e-12));
        assert!(close(c.cpu.unwrap(), 9.0 / 6.0, 1e-12));
        assert!(close(c.cpl.unwrap(), 5.0 / 6.0, 1e-12));
        assert!(close(c.cpk.unwrap(), 5.0 / 6.0, 1e-12));
        assert!(close(c.pp.unwrap(), 14.0 / (6.0 * s), 1e-12));
        assert!(close(c.ppu.unwrap(), 9.0 / (3.0 * s), 1e-12));
        assert!(close(c.ppl.unwrap(), 5.0 / (3.0 * s), 1e-12));
        assert!(close(c.ppk.unwrap(), 5.0 / (3.0 * s), 1e-12));
        // Target defaults to the midpoint 7: Cpm = 14 / (6 sqrt(s^2 + 4)).
        assert_eq!(c.target, Some(7.0));
        assert!(close(
            c.cpm.unwrap(),
            14.0 / (6.0 * (32.0 / 7.0 + 4.0f64).sqrt()),
            1e-12
        ));
        // n = 8 < 30
        assert!(c.warnings.iter().any(|w| w.contains("intervals are wide")));
    }

    #[test]
    fn off_centre_target_uses_the_nearer_limit() {
        let data = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let sp = SpecLimits {
            lsl: Some(0.0),
            usl: Some(14.0),
            target: Some(5.0),
        };
        let c = capability(&data, 2.0, &sp, 0.95, true).unwrap();
        let s2 = 32.0 / 7.0;
        assert!(close(c.cpm.unwrap(), 5.0 / (3.0 * f64::sqrt(s2)), 1e-12));
    }

    /// Montgomery, Intro to SQC, ch. 8: USL = 62, LSL = 38, n = 20, s = 1.75, centred; Ĉp = 2.29
    /// and the 95% interval 1.57 ≤ Cp ≤ 3.01 from χ²_{0.025,19} = 8.91 and χ²_{0.975,19} = 32.85.
    #[test]
    fn montgomery_cp_interval() {
        let data = normal_scores(20, 50.0, 1.75);
        let c = capability(&data, 1.75, &spec(Some(38.0), Some(62.0)), 0.95, true).unwrap();
        let cp = 24.0 / (6.0 * 1.75);
        assert!(close(c.cp.unwrap(), cp, 1e-12));
        let (lo, hi) = c.cp_interval.unwrap();
        assert!(close(lo, cp * (8.907f64 / 19.0).sqrt(), 1e-3), "{lo}");
        assert!(close(hi, cp * (32.852f64 / 19.0).sqrt(), 1e-3), "{hi}");
        // The book rounds Ĉp to 2.29 before multiplying.
        assert!(close(lo, 1.57, 0.01) && close(hi, 3.01, 0.01));
    }

    /// Cp = 1, n = 50, 95%: Ĉp·sqrt(χ²/49) with the published χ²_{0.025,49} = 31.555 and
    /// χ²_{0.975,49} = 70.222.
    #[test]
    fn cp_interval_chou_n50() {
        let data = normal_scores(50, 0.0, 1.0);
        let c = capability(&data, 1.0, &spec(Some(-3.0), Some(3.0)), 0.95, true).unwrap();
        assert!(close(c.cp.unwrap(), 1.0, 1e-12));
        let (lo, hi) = c.cp_interval.unwrap();
        assert!(close(lo, (31.555f64 / 49.0).sqrt(), 2e-4), "{lo}");
        assert!(close(hi, (70.222f64 / 49.0).sqrt(), 2e-4), "{hi}");
        assert!(!c.warnings.iter().any(|w| w.contains("intervals are wide")));
    }

    /// Bissell's interval for Ĉpk = 1.33, n = 20, 95% (Montgomery's worked example, also ch. 8):
    /// 1.33 ± 1.96·sqrt(1/180 + 1.33²/38) = [0.8826, 1.7774].
    #[test]
    fn bissell_cpk_interval() {
        let data = normal_scores(20, 50.0, 3.0);
        let sigma = 12.0 / (3.0 * 1.33);
        let c = capability(&data, sigma, &spec(Some(38.0), Some(62.0)), 0.95, true).unwrap();
        assert!(close(c.cpk.unwrap(), 1.33, 1e-9));
        let (lo, hi) = c.cpk_interval.unwrap();
        let half = 1.96 * (1.0f64 / 180.0 + 1.33 * 1.33 / 38.0).sqrt();
        assert!(
            close(lo, 1.33 - half, 1e-4) && close(hi, 1.33 + half, 1e-4),
            "{lo} {hi}"
        );
        assert!(close(lo, 0.8826, 1e-3) && close(hi, 1.7774, 1e-3));
    }

    #[test]
    fn cpm_interval_boyles_centred() {
        // Mean on target: a = 0, ν = n, so the interval is Ĉpm·sqrt(χ²_{p,n}/n).
        let data = normal_scores(50, 0.0, 1.0);
        let c = capability(&data, 1.0, &spec(Some(-3.0), Some(3.0)), 0.95, true).unwrap();
        let cpm = c.cpm.unwrap();
        let (lo, hi) = c.cpm_interval.unwrap();
        assert!(close(
            lo,
            cpm * (chi2_quantile(0.025, 50.0) / 50.0).sqrt(),
            1e-9
        ));
        assert!(close(
            hi,
            cpm * (chi2_quantile(0.975, 50.0) / 50.0).sqrt(),
            1e-9
        ));
        assert!(lo < cpm && cpm < hi);
    }

    #[test]
    fn one_sided_usl_only() {
        let data = normal_scores(40, 500.0, 60.0);
        let c = capability(&data, 60.0, &spec(None, Some(800.0)), 0.95, true).unwrap();
        assert_eq!(c.cp, None);
        assert_eq!(c.pp, None);
        assert_eq!(c.cpl, None);
        assert_eq!(c.cpm, None);
        assert_eq!(c.cp_interval, None);
        assert_eq!(c.cpm_interval, None);
        assert!(close(c.cpu.unwrap(), 300.0 / 180.0, 1e-9));
        assert_eq!(c.cpk, c.cpu);
        assert_eq!(c.ppk, c.ppu);
        assert!(c.cpk_interval.is_some() && c.ppk_interval.is_some());
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let lower = capability(&data, 60.0, &spec(Some(300.0), None), 0.95, true).unwrap();
        assert_eq!(lower.cpk, lower.cpl);
        assert_eq!(lower.cpu, None);
    }

    #[test]
    fn normal_data_pass_and_skewed_data_warn() {
        let normal = normal_scores(100, 10.0, 2.0);
        let c = capability(&normal, 2.0, &spec(Some(0.0), Some(20.0)), 0.95, true).unwrap();
        assert!(c.normality.p_value > 0.5, "{:?}", c.normality);
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);

        // Exponential scores: strongly right-skewed, like latency.
        let expo: Vec<f64> = (1..=100)
            .map(|i| 100.0 * -(1.0 - (i as f64 - 0.5) / 100.0).ln())
            .collect();
        let c = capability(&expo, 90.0, &spec(None, Some(800.0)), 0.95, true).unwrap();
        assert!(c.normality.p_value < 0.01, "{:?}", c.normality);
        assert!(
            c.warnings.iter().any(|w| w.contains("Box-Cox")),
            "{:?}",
            c.warnings
        );
    }

    #[test]
    fn out_of_control_warns() {
        let data = normal_scores(50, 10.0, 1.0);
        let c = capability(&data, 1.0, &spec(Some(5.0), Some(15.0)), 0.95, false).unwrap();
        assert!(c
            .warnings
            .iter()
            .any(|w| w.contains("not in statistical control")));
    }

    #[test]
    fn errors() {
        let good = [1.0, 2.0, 3.0, 4.0];
        let two = spec(Some(0.0), Some(5.0));
        assert!(matches!(
            capability(&good, 1.0, &spec(None, None), 0.95, true),
            Err(SpcError::InvalidParameter { name: "spec", .. })
        ));
        assert!(matches!(
            capability(&good, 1.0, &spec(Some(5.0), Some(5.0)), 0.95, true),
            Err(SpcError::InvalidParameter { name: "spec", .. })
        ));
        assert!(matches!(
            capability(&good, 1.0, &spec(Some(f64::NAN), Some(5.0)), 0.95, true),
            Err(SpcError::InvalidParameter { name: "lsl", .. })
        ));
        let bad_target = SpecLimits {
            target: Some(9.0),
            ..two
        };
        assert!(matches!(
            capability(&good, 1.0, &bad_target, 0.95, true),
            Err(SpcError::InvalidParameter { name: "target", .. })
        ));
        assert!(matches!(
            capability(&[1.0, f64::INFINITY, 3.0], 1.0, &two, 0.95, true),
            Err(SpcError::NotFinite { index: 1, .. })
        ));
        assert!(matches!(
            capability(&[1.0], 1.0, &two, 0.95, true),
            Err(SpcError::TooFewPoints {
                needed: 2,
                got: 1,
                ..
            })
        ));
        assert!(matches!(
            capability(&[], 1.0, &two, 0.95, true),
            Err(SpcError::TooFewPoints { got: 0, .. })
        ));
        for s in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                capability(&good, s, &two, 0.95, true),
                Err(SpcError::ZeroSigma { .. })
            ));
        }
        for conf in [0.0, 1.0, f64::NAN, 1.5] {
            assert!(matches!(
                capability(&good, 1.0, &two, conf, true),
                Err(SpcError::InvalidParameter {
                    name: "confidence",
                    ..
                })
            ));
        }
        assert!(matches!(
            capability(&[3.0, 3.0, 3.0], 1.0, &two, 0.95, true),
            Err(SpcError::ZeroSigma { .. })
        ));
        // Overflowing sums and overflowing indices are errors, not NaN/inf results.
        assert!(capability(&[f64::MAX, f64::MAX], 1.0, &two, 0.95, true).is_err());
        assert!(capability(&good, 1e-320, &two, 0.95, true).is_err());
        let huge = spec(Some(-1e308), Some(1e308));
        assert!(capability(&good, 1.0, &huge, 0.95, true).is_err());
    }

    #[test]
    fn gross_outlier_keeps_everything_finite() {
        let mut data = normal_scores(2000, 0.0, 1.0);
        data.push(1e12);
        let c = capability(&data, 1.0, &spec(Some(-1e13), Some(1e13)), 0.95, true).unwrap();
        assert!(c.normality.anderson_darling.is_finite());
        assert_eq!(c.normality.p_value, 0.0);
        for v in [c.cp, c.cpk, c.pp, c.ppk, c.cpm].into_iter().flatten() {
            assert!(v.is_finite());
        }
    }

    #[test]
    fn target_ignored_for_one_sided_with_warning() {
        let data = normal_scores(40, 10.0, 1.0);
        let sp = SpecLimits {
            lsl: None,
            usl: Some(20.0),
            target: Some(10.0),
        };
        let c = capability(&data, 1.0, &sp, 0.95, true).unwrap();
        assert_eq!(c.cpm, None);
        assert_eq!(c.target, None);
        assert!(c.warnings.iter().any(|w| w.contains("target was not used")));
    }
}
