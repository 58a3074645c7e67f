//! Holm's step-down adjustment of p-values for multiple comparisons.
//!
//! S. Holm (1979), "A simple sequentially rejective multiple test procedure", Scand. J.
//! Statist. 6, 65-70. With the m p-values sorted ascending, p₍ᵢ₎ becomes
//! max over j ≤ i of min(1, (m − j + 1) p₍ⱼ₎): R's `p.adjust(p, method = "holm")`. Rejecting
//! where the adjusted value is ≤ α controls the family-wise error rate at α, with no assumption
//! about how the tests depend on each other (every pair shares streams with others), and it is
//! uniformly more powerful than Bonferroni.

/// Holm-adjusted p-values, in the order given. NaN inputs stay NaN and do not count.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    order.sort_by(|&i, &j| p[i].total_cmp(&p[j]));
    let m = order.len();
    let mut adjusted = vec![f64::NAN; p.len()];
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_down_is_monotone_and_capped() {
        let adjusted = holm(&[0.01, 0.04, 0.03, 0.5]);
        for (got, want) in adjusted.iter().zip([0.04, 0.09, 0.09, 0.5]) {
            assert!((got - want).abs() < 1e-15, "{adjusted:?}");
        }
        assert!(holm(&[f64::NAN, 0.2])[0].is_nan());
        assert_eq!(holm(&[0.2])[0], 0.2, "one test: unchanged");
    }
}
