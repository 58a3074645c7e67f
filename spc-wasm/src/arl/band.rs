//! What the EWMA and CUSUM chains share: the banded solver of `(I - Q) ARL = 1`, the reach of
//! the normal kernel, Richardson extrapolation over two cell widths, and where an ARL stops
//! being resolvable in double precision.

/// Entries of a normal transition kernel further than this many standard deviations from its
/// center (below 2e-33) are left out of the band. Leaving them out raises the chance of leaving
/// the chain by at most 4e-33 a step, which changes no ARL below 1e14 (the largest reported) by
/// more than 1e-18 relative.
pub(super) const KERNEL_REACH: f64 = 12.0;

/// Richardson extrapolation of a Markov chain approximation whose error falls as the square of
/// the cell width (as it does here: it is a midpoint rule), from cell widths `w1 > w2`. Falls back
/// to the finer value when either is infinite or the two are too far apart to be in the
/// asymptotic regime.
pub(super) fn richardson(coarse: f64, fine: f64, w1: f64, w2: f64) -> f64 {
    if !(coarse.is_finite() && fine.is_finite()) {
        return fine;
    }
    let extrapolated = fine + (fine - coarse) / ((w1 / w2).powi(2) - 1.0);
    if (fine - coarse).abs() <= 0.05 * fine && extrapolated >= 1.0 {
        extrapolated
    } else {
        fine
    }
}

/// ARLs beyond this are reported as infinite by [`super::ewma()`] and [`super::cusum()`]: the chance of leaving
/// the chain in one step is then about 1e-14 or less, the size of the rounding in `1 - sum Q`.
pub(super) const RESOLVABLE_ARL: f64 = 1e14;

pub(super) fn unresolved_is_infinite(arl: f64) -> f64 {
    if arl > RESOLVABLE_ARL {
        f64::INFINITY
    } else {
        arl
    }
}

/// Sub- and super-diagonals needed for these column ranges (and the diagonal).
pub(super) fn band_widths(rows: &[Option<(usize, usize)>]) -> (usize, usize) {
    let mut kl = 0;
    let mut ku = 0;
    for (i, r) in rows.iter().enumerate() {
        if let Some((lo, hi)) = *r {
            kl = kl.max(i.saturating_sub(lo));
            ku = ku.max(hi.saturating_sub(i));
        }
    }
    (kl, ku)
}

/// `I - Q` for a band matrix `Q`, stored by rows with `kl` sub- and `ku` super-diagonals.
pub(super) struct Band {
    n: usize,
    kl: usize,
    ku: usize,
    a: Vec<f64>,
}

impl Band {
    /// The identity, with room for the column ranges `rows` (None: an empty row).
    pub(super) fn with_ranges(n: usize, rows: &[Option<(usize, usize)>]) -> Band {
        let (kl, ku) = band_widths(rows);
        let width = kl + ku + 1;
        let mut a = vec![0.0; n * width];
        for i in 0..n {
            a[i * width + kl] = 1.0;
        }
        Band { n, kl, ku, a }
    }

    fn at(&self, i: usize, j: usize) -> usize {
        i * (self.kl + self.ku + 1) + (j + self.kl - i)
    }

    /// `A[i][j] -= q` (`j` within the band).
    pub(super) fn sub(&mut self, i: usize, j: usize, q: f64) {
        let at = self.at(i, j);
        self.a[at] -= q;
    }

    /// Solves `(I - Q) x = 1` by banded Gaussian elimination without pivoting. `I - Q` with `Q`
    /// substochastic is an M-matrix (weakly row diagonally dominant), for which elimination
    /// without pivoting is stable and keeps the band. None when a pivot is not positive, which
    /// happens only when leaving the chain is too unlikely to resolve in double precision.
    pub(super) fn solve_ones(mut self) -> Option<Vec<f64>> {
        let (n, kl, ku) = (self.n, self.kl, self.ku);
        let width = kl + ku + 1;
        let mut b = vec![1.0; n];
        for p in 0..n {
            let piv = self.a[p * width + kl];
            if !(piv > 0.0 && piv.is_finite()) {
                return None;
            }
            // Columns p+1 .. end of row p's band.
            let cols = n.min(p + ku + 1) - (p + 1);
            for i in p + 1..n.min(p + kl + 1) {
                let (top, bottom) = self.a.split_at_mut(i * width);
                let pivot_row = &top[p * width + kl + 1..p * width + kl + 1 + cols];
                // Column p of row i, then columns p+1 ..
                let at = kl + p - i;
                let f = bottom[at] / piv;
                if f == 0.0 {
                    continue;
                }
                bottom[at] = 0.0;
                for (x, y) in bottom[at + 1..at + 1 + cols].iter_mut().zip(pivot_row) {
                    *x -= f * y;
                }
                b[i] -= f * b[p];
            }
        }
        for p in (0..n).rev() {
            let cols = n.min(p + ku + 1) - (p + 1);
            let row = &self.a[p * width + kl..p * width + kl + 1 + cols];
            let s: f64 = row[1..]
                .iter()
                .zip(&b[p + 1..p + 1 + cols])
                .map(|(x, y)| x * y)
                .sum();
            b[p] = (b[p] - s) / row[0];
        }
        b.iter()
            .all(|x| x.is_finite() && *x >= 1.0 - 1e-9)
            .then_some(b)
    }
}
