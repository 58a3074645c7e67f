//! ARL of the EWMA chart by the Brook & Evans chain (Lucas & Saccucci 1990).

use super::band::{band_widths, richardson, unresolved_is_infinite, Band, KERNEL_REACH};
use super::{check_finite, markov, normal_between, Arl};
use crate::error::{invalid, SpcError};

/// ARL of a two-sided EWMA chart `z_i = lambda x_i + (1 - lambda) z_{i-1}`, `z_0 = 0`, of a
/// normal `x` with unit sigma, signalling when `|z_i|` exceeds the asymptotic limit
/// `h = width * sqrt(lambda / (2 - lambda))`, after the mean of `x` shifts by `shift` sigma.
///
/// Markov chain approximation of Brook & Evans (1972), Biometrika 59(3), 539-549, as applied to
/// the EWMA by Lucas & Saccucci (1990), Technometrics 32(1), 1-12: `(-h, h)` is cut into
/// `2m + 1` equal cells, the chain moves from cell midpoint `c_i` to cell `j` with probability
/// `P((1 - lambda) c_i + lambda X in cell j)`, and `(I - Q) ARL = 1` is solved (banded Gaussian
/// elimination) for the middle cell. This is done for `m` and `2m`, with `m >= 50` and cells of
/// at most `lambda / 8` (the kernel's standard deviation is `lambda`), and the two are combined by
/// Richardson extrapolation (the error of the chain falls as the square of the cell width). The
/// result agrees with a 2,401-cell chain to 1e-5 relative and reproduces Lucas & Saccucci's
/// table (lambda 0.5, L 3.071: 500 in control, 17.5 at a shift of 1 sigma, 3.63 at 2 — 499.91,
/// 17.477, 3.6280 here; lambda 0.03, L 2.437: 500, 12.6, 5.99 — 499.86, 12.598, 5.9868).
///
/// Domain: `0 < lambda <= 1`, `width > 0`, all finite. The work is bounded (about 3e7
/// multiply-adds per elimination, tens of milliseconds), so for `lambda` below about 1e-3 the
/// cells are coarsened and the in-control ARL loses accuracy (about 2% at lambda = 1e-4;
/// shifted ARLs stay within 1e-5). An ARL beyond 1e14 points, where the chance of leaving the
/// chain is down to the rounding of the transition probabilities, is reported as
/// `f64::INFINITY`.
pub fn ewma(lambda: f64, width: f64, shift: f64) -> Result<Arl, SpcError> {
    check_finite("lambda", lambda)?;
    check_finite("L", width)?;
    check_finite("shift", shift)?;
    if !(lambda > 0.0 && lambda <= 1.0) {
        return Err(invalid(
            "lambda",
            format!("{lambda} is outside 0 < lambda <= 1"),
        ));
    }
    if width <= 0.0 {
        return Err(invalid(
            "L",
            format!("{width} is not a positive width of the limits"),
        ));
    }
    let h = width * (lambda / (2.0 - lambda)).sqrt();
    if !(h > 0.0 && h.is_finite()) {
        return Err(invalid("L", format!("{width} gives limits of {h} sigma")));
    }
    // Cells of at most lambda / 8 (the kernel's standard deviation), at least 2 * 50 + 1.
    let mut m = (8.0 * h / lambda).ceil().clamp(50.0, 5_000.0) as usize;
    loop {
        let max_cost = if m <= 50 {
            f64::INFINITY
        } else {
            MAX_BAND_COST
        };
        if let Some(fine) = ewma_band(lambda, h, shift, 2 * m, max_cost) {
            let value = |band: Option<Band>, m: usize| {
                band.and_then(Band::solve_ones)
                    .map_or(f64::INFINITY, |x| x[m])
            };
            let coarse = value(ewma_band(lambda, h, shift, m, f64::INFINITY), m);
            let fine = value(Some(fine), 2 * m);
            let (w1, w2) = (1.0 / (2 * m + 1) as f64, 1.0 / (4 * m + 1) as f64);
            return Ok(markov(unresolved_is_infinite(richardson(
                coarse, fine, w1, w2,
            ))));
        }
        m /= 2;
    }
}

/// Most multiply-adds one banded elimination may take (a few tens of milliseconds).
const MAX_BAND_COST: f64 = 3e7;

/// `I - Q` of the EWMA chain with `2m + 1` cells, or None if eliminating it would cost more than
/// `max_cost` multiply-adds.
fn ewma_band(lambda: f64, h: f64, shift: f64, m: usize, max_cost: f64) -> Option<Band> {
    let n = 2 * m + 1;
    let w = 2.0 * h / n as f64;
    let reach = KERNEL_REACH * lambda + w;
    let cell = |x: f64| ((x + h) / w).floor();
    // Column range of each row: cells within the kernel's reach of its center.
    let rows: Vec<Option<(usize, usize)>> = (0..n)
        .map(|i| {
            let c = -h + (i as f64 + 0.5) * w;
            let center = (1.0 - lambda) * c + lambda * shift;
            let (lo, hi) = (cell(center - reach), cell(center + reach));
            (hi >= 0.0 && lo <= (n - 1) as f64)
                .then(|| (lo.max(0.0) as usize, (hi.min((n - 1) as f64)) as usize))
        })
        .collect();
    let (kl, ku) = band_widths(&rows);
    if n as f64 * (kl as f64 + 1.0) * (ku as f64 + 1.0) > max_cost {
        return None;
    }
    let mut band = Band::with_ranges(n, &rows);
    for (i, r) in rows.iter().enumerate() {
        let Some((lo, hi)) = *r else { continue };
        let c = -h + (i as f64 + 0.5) * w;
        let center = (1.0 - lambda) * c + lambda * shift;
        for j in lo..=hi {
            let a = (-h + j as f64 * w - center) / lambda;
            let b = (-h + (j + 1) as f64 * w - center) / lambda;
            band.sub(i, j, normal_between(a, b));
        }
    }
    Some(band)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arl::tests::close;
    use crate::arl::*;

    #[test]
    fn ewma_lucas_saccucci() {
        for (lambda, width, want) in [
            (0.5, 3.071, [500.0, 17.5, 3.63]),
            (0.03, 2.437, [500.0, 12.6, 5.99]),
        ] {
            for (shift, want) in [0.0, 1.0, 2.0].into_iter().zip(want) {
                let a = ewma(lambda, width, shift).unwrap();
                assert_eq!(a.method, ArlMethod::MarkovChain);
                close(
                    a.value,
                    want,
                    0.01 * want,
                    &format!("EWMA {lambda} {width} at {shift}"),
                );
            }
        }
        // Symmetric in the shift, and lambda = 1 is the Shewhart chart with limits at L.
        let (up, down) = (ewma(0.2, 2.9, 0.7).unwrap(), ewma(0.2, 2.9, -0.7).unwrap());
        close(up.value, down.value, 1e-9 * up.value, "symmetry");
        close(ewma(1.0, 3.0, 0.0).unwrap().value, 370.40, 0.01, "lambda 1");
    }
}
