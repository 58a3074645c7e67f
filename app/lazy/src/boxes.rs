//! The box of a box plot: Tukey's (J. W. Tukey, *Exploratory Data Analysis*, 1977, ch. 2;
//! McGill, Tukey & Larsen, "Variations of Box Plots", *The American Statistician* 32(1), 1978):
//! the box spans the hinges (Tukey's fourths, as R's `fivenum` computes them), the line is the
//! median, the whiskers reach the most extreme values within 1.5 × the hinge spread of the
//! hinges, and values beyond are kept one by one. [`BoxStats::of`] gives R's `boxplot.stats`.
//! Computed where the values are (the comparison's Worker for targets), drawn by the dashboard
//! (`draw::compare`).

/// One box of a box plot.
#[derive(Clone, Debug, PartialEq)]
pub struct BoxStats {
    /// The lower whisker's end: the smallest value within 1.5 hinge spreads of the lower hinge.
    pub low: f64,
    /// The lower hinge.
    pub q1: f64,
    /// The median.
    pub median: f64,
    /// The upper hinge.
    pub q3: f64,
    /// The upper whisker's end.
    pub high: f64,
    /// The values beyond the whiskers.
    pub outliers: Vec<f64>,
}

/// Outliers drawn per box at most (beyond that, the extremes on either side are kept).
const MAX_OUTLIERS: usize = 400;

impl BoxStats {
    /// The box of `sorted` (ascending, finite): R's `boxplot.stats(x, coef = 1.5)`; `None`
    /// without values.
    pub fn of(sorted: &[f64]) -> Option<BoxStats> {
        let n = sorted.len();
        if n == 0 {
            return None;
        }
        // fivenum: the hinges are the medians of each half, the middle value counted in both.
        let at = |d: f64| 0.5 * (sorted[d.floor() as usize - 1] + sorted[d.ceil() as usize - 1]);
        let n4 = ((n + 3) / 2) as f64 / 2.0;
        let (q1, median, q3) = (at(n4), at((n + 1) as f64 / 2.0), at(n as f64 + 1.0 - n4));
        let reach = 1.5 * (q3 - q1);
        let (lo_fence, hi_fence) = (q1 - reach, q3 + reach);
        let inside = sorted.partition_point(|v| *v < lo_fence);
        let beyond = sorted.partition_point(|v| *v <= hi_fence);
        let mut outliers: Vec<f64> = sorted[..inside].to_vec();
        outliers.extend_from_slice(&sorted[beyond..]);
        if outliers.len() > MAX_OUTLIERS {
            let half = MAX_OUTLIERS / 2;
            let tail = outliers.split_off(outliers.len() - half);
            outliers.truncate(half);
            outliers.extend(tail);
        }
        Some(BoxStats {
            low: sorted[inside.min(n - 1)],
            q1,
            median,
            q3,
            high: sorted[beyond.max(1) - 1],
            outliers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R 4.x: `boxplot.stats(c(1:10, 50))` gives stats 1, 3.5, 6, 8.5, 10 and out 50; and
    /// `boxplot.stats(c(-20, 2, 4, 4, 5, 7, 8, 30))` gives stats 2, 3, 4.5, 7.5, 8 and out
    /// -20, 30 (hinges 3 and 7.5, fences -3.75 and 14.25).
    #[test]
    fn boxes_are_r_boxplot_stats() {
        let mut x: Vec<f64> = (1..=10).map(f64::from).collect();
        x.push(50.0);
        let b = BoxStats::of(&x).unwrap();
        assert_eq!(
            (b.low, b.q1, b.median, b.q3, b.high),
            (1.0, 3.5, 6.0, 8.5, 10.0)
        );
        assert_eq!(b.outliers, [50.0]);
        let b = BoxStats::of(&[-20.0, 2.0, 4.0, 4.0, 5.0, 7.0, 8.0, 30.0]).unwrap();
        assert_eq!(
            (b.low, b.q1, b.median, b.q3, b.high),
            (2.0, 3.0, 4.5, 7.5, 8.0)
        );
        assert_eq!(b.outliers, [-20.0, 30.0]);
        let one = BoxStats::of(&[7.0]).unwrap();
        assert_eq!(
            (one.low, one.q1, one.median, one.high),
            (7.0, 7.0, 7.0, 7.0)
        );
        assert_eq!(BoxStats::of(&[]), None);
    }

    #[test]
    fn a_long_tail_keeps_its_extremes_within_the_cap() {
        // Hinges both 5: every value of the tail is beyond the whiskers.
        let mut x = vec![5.0; 3000];
        x.extend((0..900).map(|i| 100.0 + f64::from(i)));
        let b = BoxStats::of(&x).unwrap();
        assert_eq!((b.q1, b.q3, b.high), (5.0, 5.0, 5.0));
        assert_eq!(b.outliers.len(), MAX_OUTLIERS);
        assert_eq!((b.outliers[0], b.outliers.last()), (100.0, Some(&999.0)));
    }
}
