//! The engine against published numbers: Montgomery, Introduction to Statistical Quality
//! Control (the data sets in tests/data/, copied from the textbook via qcc; see its README).

use llmscope_spc::{
    analyze, Baseline, Chart, ChartSpec, ChartType, Data, NelsonRule, RuleSet, SigmaMethod,
};

fn rows(name: &str) -> Vec<Vec<String>> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("{s} is not a number"))
}

fn counts(name: &str) -> Data {
    Data::Counts(
        rows(name)
            .iter()
            .map(|r| (num(&r[1]), num(&r[2])))
            .collect(),
    )
}

fn piston_rings() -> Data {
    Data::Subgroups(piston_ring_groups())
}

fn piston_ring_groups() -> Vec<Vec<f64>> {
    let mut groups: Vec<Vec<f64>> = Vec::new();
    let mut last = String::new();
    for r in rows("pistonrings.csv") {
        if r[0] != last {
            groups.push(Vec::new());
            last = r[0].clone();
        }
        groups.last_mut().unwrap().push(num(&r[1]));
    }
    assert_eq!(groups.len(), 40);
    groups
}

fn viscosity() -> Vec<f64> {
    rows("viscosity.csv").iter().map(|r| num(&r[1])).collect()
}

fn close(actual: f64, expected: f64, tol: f64, what: &str) {
    assert!(
        (actual - expected).abs() <= tol,
        "{what}: got {actual}, published {expected} (tolerance {tol})"
    );
}

/// The points where test 1 fires on the primary chart.
fn beyond_limits(chart: &Chart) -> Vec<usize> {
    chart
        .primary
        .signals
        .iter()
        .filter(|s| s.test == NelsonRule::Beyond)
        .map(|s| s.index)
        .collect()
}

fn spec(chart: ChartType, phase1: usize) -> ChartSpec {
    ChartSpec {
        baseline: Baseline::FirstN { n: phase1 },
        ..ChartSpec::new(chart)
    }
}

/// Montgomery Example 6.1: X-bar 74.0012, limits 73.9880 to 74.0143; R: 0.02276, UCL 0.04813.
/// Phase II subgroups 37, 38 and 39 (1-based) fall above the UCL (Example 6.2's Figure 6.4).
#[test]
fn piston_rings_xbar_r() {
    let chart = analyze(&spec(ChartType::XbarR, 25), &piston_rings()).unwrap();
    let p = chart.primary.point(0).unwrap();
    close(chart.center(), 74.0012, 5e-5, "x-double-bar");
    close(p.lcl.unwrap(), 73.9880, 5e-5, "X-bar LCL");
    close(p.ucl.unwrap(), 74.0143, 5e-5, "X-bar UCL");
    let r = chart.companion.as_ref().unwrap().point(0).unwrap();
    close(r.center, 0.02276, 5e-6, "R-bar");
    close(r.ucl.unwrap(), 0.04813, 5e-5, "R UCL");
    assert_eq!(r.lcl, Some(0.0));
    let beyond = beyond_limits(&chart);
    assert_eq!(beyond, vec![36, 37, 38]);
    assert!(
        chart.primary.signals.iter().all(|s| s.index >= 25),
        "the baseline itself is in control"
    );
}

/// X-bar/S on the piston rings: Montgomery Example 6.3 gives X-bar limits 73.988 to 74.014;
/// qcc's pistonrings example gives the S chart as center 0.009240, UCL 0.019302, LCL 0 (the
/// textbook's 0.0094 sums S values rounded in its Table 6.3).
#[test]
fn piston_rings_xbar_s() {
    let chart = analyze(&spec(ChartType::XbarS, 25), &piston_rings()).unwrap();
    let p = chart.primary.point(0).unwrap();
    close(p.lcl.unwrap(), 73.988, 5e-4, "X-bar LCL");
    close(p.ucl.unwrap(), 74.014, 5e-4, "X-bar UCL");
    let s = chart.companion.as_ref().unwrap().point(0).unwrap();
    close(s.center, 0.009240, 5e-7, "S-bar");
    close(s.ucl.unwrap(), 0.019302, 5e-6, "S UCL");
    assert_eq!(s.lcl, Some(0.0));
}

/// Montgomery Example 7.1: orange juice cans, n = 50, p-bar 0.2313, limits 0.0524 to 0.4102.
#[test]
fn orange_juice_p() {
    let chart = analyze(&spec(ChartType::P, 30), &counts("orangejuice.csv")).unwrap();
    close(chart.center(), 0.2313, 5e-5, "p-bar");
    let p = chart.primary.point(0).unwrap();
    close(p.lcl.unwrap(), 0.0524, 5e-5, "p LCL");
    close(p.ucl.unwrap(), 0.4102, 5e-5, "p UCL");
    close(
        chart.sigma(),
        (0.2313f64 * (1.0 - 0.2313)).sqrt(),
        1e-4,
        "process sigma",
    );
    // Samples 15 and 23 (1-based) are the textbook's out-of-control points.
    let beyond = beyond_limits(&chart);
    assert!(beyond.starts_with(&[14, 22]), "beyond: {beyond:?}");
    // np: center n p-bar = 11.565.
    let np = analyze(&spec(ChartType::Np, 30), &counts("orangejuice.csv")).unwrap();
    close(
        np.primary.point(0).unwrap().center,
        50.0 * 0.2313,
        5e-3,
        "n p-bar",
    );
    close(
        np.primary.point(0).unwrap().ucl.unwrap(),
        50.0 * 0.4102,
        5e-3,
        "np UCL",
    );
}

/// Setting aside the two samples with assignable causes (15 and 23) and estimating again
/// (Montgomery Example 7.1): revised p-bar 0.2150, limits 0.0407 to 0.3893. Sample 21 then
/// lies above the revised UCL; Montgomery keeps it (no cause found), while automatic
/// exclusion, which knows no causes, sets it aside as well.
#[test]
fn orange_juice_revised_limits() {
    let s = ChartSpec {
        exclude: vec![14, 22],
        ..spec(ChartType::P, 30)
    };
    let chart = analyze(&s, &counts("orangejuice.csv")).unwrap();
    assert_eq!(chart.estimate.excluded, vec![14, 22]);
    close(chart.center(), 0.2150, 5e-5, "revised p-bar");
    close(
        chart.primary.point(0).unwrap().lcl.unwrap(),
        0.0407,
        5e-5,
        "revised LCL",
    );
    close(
        chart.primary.point(0).unwrap().ucl.unwrap(),
        0.3893,
        5e-5,
        "revised UCL",
    );
    assert!(beyond_limits(&chart).contains(&20));

    let automatic = ChartSpec {
        exclude_out_of_control: true,
        ..spec(ChartType::P, 30)
    };
    let chart = analyze(&automatic, &counts("orangejuice.csv")).unwrap();
    assert_eq!(chart.estimate.excluded, vec![14, 20, 22]);
    close(
        chart.center(),
        (347.0 - 22.0 - 20.0 - 24.0) / (27.0 * 50.0),
        1e-12,
        "p-bar without samples 15, 21, 23",
    );
}

/// Montgomery Example 7.3: circuit boards, c-bar 19.85, limits 6.48 to 33.21; samples 6 and
/// 20 (1-based) are beyond.
#[test]
fn circuit_boards_c() {
    let chart = analyze(&spec(ChartType::C, 26), &counts("circuit.csv")).unwrap();
    close(chart.center(), 19.85, 5e-3, "c-bar");
    let p = chart.primary.point(0).unwrap();
    close(p.lcl.unwrap(), 6.48, 5e-3, "c LCL");
    close(p.ucl.unwrap(), 33.21, 1.5e-2, "c UCL");
    let beyond = beyond_limits(&chart);
    assert_eq!(beyond[..2], [5, 19], "beyond: {beyond:?}");
    assert!(
        beyond[2..].iter().all(|&i| i >= 26),
        "only 6 and 20 in Phase I"
    );
}

/// Montgomery Example 7.5: dyed cloth, u-bar = 153 / 107.5 = 1.42, limits vary with the
/// number of inspection units: n = 10 gives 0.29 to 2.55, n = 8 gives 0.16 to 2.69 (the book
/// rounds u-bar to 1.42 first, hence the tolerance of 0.006).
#[test]
fn dyed_cloth_u_with_varying_units() {
    let chart = analyze(&ChartSpec::new(ChartType::U), &counts("dyedcloth.csv")).unwrap();
    close(chart.center(), 153.0 / 107.5, 1e-9, "u-bar");
    let at = |i: usize| chart.primary.point(i).unwrap();
    close(at(0).lcl.unwrap(), 0.29, 6e-3, "LCL, n = 10");
    close(at(0).ucl.unwrap(), 2.55, 6e-3, "UCL, n = 10");
    close(at(1).lcl.unwrap(), 0.16, 6e-3, "LCL, n = 8");
    close(at(1).ucl.unwrap(), 2.69, 6e-3, "UCL, n = 8");
    assert!(beyond_limits(&chart).is_empty(), "in control");
}

/// Individuals on the viscosity data, Phase I = 20 points. The expected numbers were computed
/// independently (Python, from the CSV): mean 34.088, MR-bar 0.572632, sigma = MR-bar/d2(2).
#[test]
fn viscosity_individuals() {
    let values: Vec<f64> = rows("viscosity.csv").iter().map(|r| num(&r[1])).collect();
    let chart = analyze(&spec(ChartType::Individuals, 20), &Data::Values(values)).unwrap();
    close(chart.center(), 34.088, 1e-9, "mean");
    close(
        chart.sigma(),
        0.5726315789473682 / std::f64::consts::FRAC_2_SQRT_PI,
        1e-9,
        "MR-bar/d2",
    );
    close(
        chart.primary.point(0).unwrap().ucl.unwrap(),
        35.61044457088304,
        1e-6,
        "UCL",
    );
    let mr = chart.companion.as_ref().unwrap();
    assert_eq!(
        mr.point(0).unwrap().index,
        1,
        "the first moving range belongs to point 1"
    );
    close(
        mr.point(0).unwrap().ucl.unwrap(),
        3.2665 * 0.5726315789473682,
        1e-3,
        "MR UCL = D4 MR-bar",
    );
}

/// EWMA limits approach the asymptotic mu0 +- L sigma sqrt(lambda / (2 - lambda)), starting at
/// mu0 +- L sigma lambda (Montgomery §9.2, Eq. 9.22 and 9.23).
#[test]
fn ewma_time_varying_limits() {
    let values: Vec<f64> = rows("viscosity.csv").iter().map(|r| num(&r[1])).collect();
    let s = ChartSpec {
        baseline: Baseline::Known {
            mu: 34.0,
            sigma: 0.5,
        },
        ..ChartSpec::new(ChartType::Ewma {
            lambda: 0.1,
            width: 2.7,
        })
    };
    let chart = analyze(&s, &Data::Values(values.clone())).unwrap();
    let pts: Vec<_> = chart.primary.points().collect();
    close(
        pts[0].ucl.unwrap(),
        34.0 + 2.7 * 0.5 * 0.1,
        1e-12,
        "first UCL",
    );
    let asymptotic = 34.0 + 2.7 * 0.5 * (0.1f64 / 1.9).sqrt();
    close(
        pts[34].ucl.unwrap(),
        asymptotic,
        2e-3,
        "UCL after 35 points",
    );
    close(
        pts[0].statistic,
        0.1 * values[0] + 0.9 * 34.0,
        1e-12,
        "z_1 from z_0 = mu0",
    );
    assert_eq!(
        chart.primary.rules,
        RuleSet::only(&[NelsonRule::Beyond]),
        "only test 1 on EWMA"
    );
}

/// Tabular CUSUM (Montgomery §9.1, Table 9.2): mu0 = 10, sigma = 1, k = 0.5, h = 5 on the
/// textbook's 30 observations; C+ first exceeds h at period 29 (1-based), C+_29 = 5.28.
#[test]
fn montgomery_table_9_2_cusum() {
    let x = [
        9.45, 7.99, 9.29, 11.66, 12.16, 10.18, 8.04, 11.46, 9.20, 10.34, 9.03, 11.47, 10.51, 9.40,
        10.08, 9.37, 10.62, 10.31, 8.52, 10.84, 10.90, 9.33, 12.29, 11.50, 10.60, 11.08, 10.38,
        11.62, 11.31, 10.52,
    ];
    let s = ChartSpec {
        baseline: Baseline::Known {
            mu: 10.0,
            sigma: 1.0,
        },
        ..ChartSpec::new(ChartType::Cusum {
            k: 0.5,
            h: 5.0,
            head_start: 0.0,
        })
    };
    let chart = analyze(&s, &Data::Values(x.to_vec())).unwrap();
    close(
        chart.primary.point(28).unwrap().statistic,
        5.28,
        5e-3,
        "C+ at period 29",
    );
    let first = chart.primary.signals.first().unwrap();
    assert_eq!((first.test, first.index), (NelsonRule::Beyond, 28));
    assert!(
        chart.companion.as_ref().unwrap().signals.is_empty(),
        "C- never exceeds h"
    );
}

/// The exact 95 % upper bound on p after n trials without a failure, 1 - 0.05^(1/n), against
/// the values Hanley & Lippman-Hand (1983, JAMA 249:1743) compare with the rule of three, 3/n.
#[test]
fn zero_failure_bound_is_the_exact_binomial_bound() {
    use llmscope_spc::zero_failure_upper_bound as bound;
    for (n, exact) in [
        (10.0, 0.2589),
        (30.0, 0.0950),
        (100.0, 0.0295),
        (300.0, 0.00994),
    ] {
        close(bound(n), exact, 5e-5, &format!("p_U for n = {n}"));
    }
    // Rule of three: 3/n within 1 % for large n.
    close(bound(10_000.0) * 10_000.0, 3.0, 0.02, "n p_U for n = 10000");
}

/// A baseline of only "failures" (p-bar = 1: a pass rate whose baseline always passed) is the
/// mirror of the zero-failure baseline: center 1, sigma at the same bound, LCL = 1 - the UCL
/// above. One miss in 10 stays inside, two do not.
#[test]
fn an_all_pass_baseline_still_charts_and_catches_misses() {
    let p_u = 1.0 - 0.05f64.powf(1.0 / 200.0);
    let mut counts = vec![(10.0, 10.0); 20];
    counts.extend([(9.0, 10.0), (8.0, 10.0), (10.0, 10.0), (0.0, 10.0)]);
    let chart = analyze(&spec(ChartType::P, 20), &Data::Counts(counts)).unwrap();
    close(chart.center(), 1.0, 0.0, "p-bar");
    close(
        chart.sigma(),
        (p_u * (1.0 - p_u)).sqrt(),
        1e-12,
        "sigma at p_U",
    );
    let lcl = chart.primary.point(20).unwrap().lcl.unwrap();
    close(lcl, 1.0 - 0.1148, 5e-5, "LCL for n = 10");
    assert_eq!(beyond_limits(&chart), [21, 23]);
}

/// A baseline without failures (p-bar = 0) still makes a p chart: sigma at the exact bound of
/// its 200 units (20 subgroups of 10), center 0. One failure in 10 stays inside the limit, two
/// do not, a total outage signals at its first subgroup, and 9 subgroups in a row with a
/// failure each signal test 2. The np chart gets the same rule.
#[test]
fn a_zero_failure_baseline_still_charts_and_catches_an_outage() {
    let p_u = 1.0 - 0.05f64.powf(1.0 / 200.0); // 0.014867
    let mut counts = vec![(0.0, 10.0); 20];
    counts.extend([(1.0, 10.0), (2.0, 10.0), (0.0, 10.0), (10.0, 10.0)]);
    counts.extend(vec![(1.0, 10.0); 9]);
    let chart = analyze(&spec(ChartType::P, 20), &Data::Counts(counts.clone())).unwrap();
    close(chart.center(), 0.0, 0.0, "p-bar");
    close(
        chart.sigma(),
        (p_u * (1.0 - p_u)).sqrt(),
        1e-12,
        "sigma at p_U",
    );
    let ucl = chart.primary.point(20).unwrap().ucl.unwrap();
    close(ucl, 3.0 * (p_u * (1.0 - p_u) / 10.0).sqrt(), 1e-12, "UCL");
    close(ucl, 0.1148, 5e-5, "UCL for n = 10");
    assert_eq!(beyond_limits(&chart), [21, 23]);
    let runs: Vec<usize> = chart
        .primary
        .signals
        .iter()
        .filter(|s| s.test == NelsonRule::SameSide)
        .map(|s| s.index)
        .collect();
    assert_eq!(
        runs,
        [31, 32],
        "9 subgroups in a row with failures, from the outage on"
    );
    let np = analyze(&spec(ChartType::Np, 20), &Data::Counts(counts)).unwrap();
    assert_eq!(beyond_limits(&np), [21, 23]);
    // Frozen and given back as known parameters, the same limits come out.
    let known = ChartSpec {
        baseline: Baseline::Known {
            mu: 0.0,
            sigma: chart.sigma(),
        },
        ..ChartSpec::new(ChartType::P)
    };
    let again = analyze(&known, &Data::Counts(vec![(10.0, 10.0)])).unwrap();
    close(
        again.primary.point(0).unwrap().ucl.unwrap(),
        ucl,
        1e-15,
        "known UCL",
    );
    assert_eq!(beyond_limits(&again), [0]);
}

// ---- Sigma estimators against qcc's definitions, computed here from the raw data ----------
//
// qcc (Scrucca 2004, R package; `sd.xbar` and `sd.xbar.one`) names the subgroup estimators:
// "UWAVE-R" = mean(R_i / d2(n_i)), "UWAVE-SD" = mean(s_i / c4(n_i)) (unweighted averages),
// "RMSDF" = sqrt(sum((n_i - 1) s_i^2) / sum(n_i - 1)) / c4(sum(n_i - 1) + 1); and for single
// values "SD" = sd(x) / c4(n). The median moving range over d4(2), the median of the range of
// two standard normals, is Minitab's robust alternative (Montgomery §6.4 mentions it). With
// equal subgroup sizes qcc's "MVLUE-R"/"MVLUE-SD" weights are all equal, so they coincide
// with "UWAVE-R"/"UWAVE-SD" on the piston rings. The constants below are closed forms, not the
// engine's numerical integration.

/// c4(n) = sqrt(2 / (n - 1)) Gamma(n/2) / Gamma((n - 1)/2) (Montgomery Appendix VI), by the
/// recurrence r(n + 2) = r(n) n / (n - 1) of r(n) = Gamma(n/2) / Gamma((n - 1)/2), from
/// r(2) = 1/sqrt(pi) and r(3) = sqrt(pi)/2.
fn c4(n: usize) -> f64 {
    let pi = std::f64::consts::PI;
    let mut m = 2 + n % 2;
    let mut r = if m == 2 {
        1.0 / pi.sqrt()
    } else {
        pi.sqrt() / 2.0
    };
    while m < n {
        r *= m as f64 / (m as f64 - 1.0);
        m += 2;
    }
    (2.0 / (n as f64 - 1.0)).sqrt() * r
}

/// d2(n), the mean range of n standard normals (Montgomery Appendix VI, more digits from
/// Harter 1960): exact for n = 2 (2/sqrt(pi)).
fn d2(n: usize) -> f64 {
    match n {
        2 => 2.0 / std::f64::consts::PI.sqrt(),
        3 => 1.692_568_750,
        4 => 2.058_750_746,
        5 => 2.325_929_019,
        _ => panic!("no d2 for n = {n} here"),
    }
}

fn sd(xs: &[f64]) -> f64 {
    let m = xs.iter().sum::<f64>() / xs.len() as f64;
    (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() as f64 - 1.0)).sqrt()
}

/// The pooled standard deviation, sqrt(sum (n_i - 1) s_i^2 / sum (n_i - 1)) (Montgomery
/// Eq. 6.31), and its degrees of freedom. qcc's "RMSDF" divides it by c4(df + 1).
fn pooled_sd(groups: &[Vec<f64>]) -> (f64, usize) {
    let df: usize = groups.iter().map(|g| g.len() - 1).sum();
    let squares: f64 = groups
        .iter()
        .map(|g| (g.len() as f64 - 1.0) * sd(g).powi(2))
        .sum();
    ((squares / df as f64).sqrt(), df)
}

fn range(xs: &[f64]) -> f64 {
    xs.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        - xs.iter().copied().fold(f64::INFINITY, f64::min)
}

fn sigma_of(chart: ChartType, method: SigmaMethod, phase1: usize, data: Data) -> f64 {
    let s = ChartSpec {
        sigma_method: method,
        ..spec(chart, phase1)
    };
    analyze(&s, &data).unwrap().sigma()
}

#[test]
fn c4_and_d2_here_match_montgomery_appendix() {
    for (n, c) in [
        (2, 0.7979),
        (3, 0.8862),
        (4, 0.9213),
        (5, 0.9400),
        (25, 0.9896),
    ] {
        close(c4(n), c, 5e-5, &format!("c4({n})"));
    }
    for (n, d) in [(2, 1.128), (3, 1.693), (4, 2.059), (5, 2.326)] {
        close(d2(n), d, 5e-4, &format!("d2({n})"));
    }
}

/// Piston rings, Phase I = subgroups 1-25 of 5: qcc's "UWAVE-R", "UWAVE-SD" and "RMSDF".
#[test]
fn piston_rings_subgroup_sigma_methods() {
    let groups: Vec<Vec<f64>> = piston_ring_groups().into_iter().take(25).collect();
    let m = groups.len() as f64;
    let uwave_r = groups.iter().map(|g| range(g) / d2(g.len())).sum::<f64>() / m;
    let uwave_sd = groups.iter().map(|g| sd(g) / c4(g.len())).sum::<f64>() / m;
    let (pooled, df) = pooled_sd(&groups);
    let rmsdf = pooled / c4(df + 1);
    // Montgomery Example 6.1's R-bar 0.02276 and Example 6.3's S-bar 0.009240 (qcc), divided
    // by d2(5) and c4(5), as a check on the data and the formulas above.
    close(uwave_r, 0.02276 / 2.326, 2e-6, "R-bar / d2");
    close(uwave_sd, 0.009240 / 0.9400, 2e-6, "S-bar / c4");
    // d2(5) above has 10 digits, c4 is exact: the tolerances follow.
    for (method, chart, want, tol) in [
        (SigmaMethod::AverageRange, ChartType::XbarR, uwave_r, 1e-7),
        (SigmaMethod::AverageRange, ChartType::XbarS, uwave_r, 1e-7),
        (SigmaMethod::AverageSd, ChartType::XbarS, uwave_sd, 1e-10),
        (SigmaMethod::AverageSd, ChartType::XbarR, uwave_sd, 1e-10),
        (SigmaMethod::PooledSd, ChartType::XbarS, rmsdf, 1e-10),
    ] {
        let got = sigma_of(chart, method, 25, piston_rings());
        close(got, want, tol * want, &format!("{method:?} on {chart:?}"));
    }
    // The three differ enough on these data that a mix-up would show.
    assert!((uwave_r - uwave_sd).abs() > 1e-5 && (uwave_sd - rmsdf).abs() > 1e-5);
}

/// Viscosity, Phase I = points 1-20: the median moving range over d4(2) and qcc's "SD" for
/// individuals, sd(x) / c4(n).
#[test]
fn viscosity_individual_sigma_methods() {
    let x: Vec<f64> = viscosity().into_iter().take(20).collect();
    let mut mr: Vec<f64> = x.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    mr.sort_by(f64::total_cmp);
    // 19 moving ranges: the median is the 10th.
    let median_mr = mr[9];
    // d4(2): |X1 - X2| ~ |N(0, 2)|, whose median is sqrt(2) z_0.75 = 0.9539 (Minitab's 0.954).
    let d4_2 = std::f64::consts::SQRT_2 * 0.674_489_750_196_081_7;
    let overall = sd(&x) / c4(20);
    for (method, want) in [
        (SigmaMethod::MedianMovingRange, median_mr / d4_2),
        (SigmaMethod::OverallSd, overall),
    ] {
        let got = sigma_of(
            ChartType::Individuals,
            method,
            20,
            Data::Values(viscosity()),
        );
        close(got, want, 1e-8 * want, &format!("{method:?}"));
    }
    let mean_mr = mr.iter().sum::<f64>() / mr.len() as f64;
    assert!(
        (median_mr / d4_2 - mean_mr / d2(2)).abs() > 1e-3,
        "distinct estimates"
    );
}

/// A baseline in the middle of the series (points 5..25, 0-based): center and sigma come from
/// those rows only, the moving ranges from adjacent pairs inside the range.
#[test]
fn baseline_range_estimates_from_its_rows_only() {
    let x = viscosity();
    let (start, end) = (5, 25);
    let rows = &x[start..end];
    let center = rows.iter().sum::<f64>() / rows.len() as f64;
    let mr_bar =
        rows.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / (rows.len() - 1) as f64;
    let s = ChartSpec {
        baseline: Baseline::Range { start, end },
        ..ChartSpec::new(ChartType::Individuals)
    };
    let chart = analyze(&s, &Data::Values(x.clone())).unwrap();
    close(chart.center(), center, 1e-12, "mean of rows 5..25");
    close(
        chart.sigma(),
        mr_bar / d2(2),
        1e-12,
        "MR-bar / d2 of rows 5..25",
    );
    assert_eq!(
        (chart.estimate.baseline_start, chart.estimate.baseline_end),
        (start, end)
    );
    // Every point, before and after the range, is judged against the same limits.
    for p in chart.primary.points() {
        close(p.ucl.unwrap(), center + 3.0 * mr_bar / d2(2), 1e-12, "UCL");
    }
    // And it is not what the first 20 points give.
    let first = analyze(&spec(ChartType::Individuals, 20), &Data::Values(x)).unwrap();
    assert!((first.center() - center).abs() > 1e-3);
}

/// Montgomery Example 6.4 (Table 6.4): the piston rings with subgroups of 3 to 5. The sizes of
/// subgroups 1-22 are the table's; their values are the first n_i of Table 6.3's. Montgomery
/// pools them (Eq. 6.30 and 6.31): x-double-bar = sum n_i x-bar_i / sum n_i, s-bar^2 =
/// sum (n_i - 1) s_i^2 / sum (n_i - 1). With one sigma for every point (qcc's way) the limits
/// of point i are x-double-bar +- 3 sigma / sqrt(n_i); the S chart's are c4(n_i) sigma +-
/// 3 sigma sqrt(1 - c4(n_i)^2) (Montgomery §6.3.1, the B5/B6 form).
#[test]
fn unequal_subgroups_montgomery_6_4() {
    let sizes = [
        5, 3, 5, 5, 5, 4, 4, 5, 4, 5, 5, 5, 3, 5, 3, 5, 4, 5, 5, 3, 5, 5,
    ];
    let groups: Vec<Vec<f64>> = piston_ring_groups()
        .into_iter()
        .zip(sizes)
        .map(|(g, n)| g[..n].to_vec())
        .collect();
    // The table's printed s_i for samples 2, 6, 13 and 20 (the shortened ones).
    for (i, s_i) in [(1, 0.0046), (5, 0.0099), (12, 0.0100), (19, 0.0068)] {
        close(sd(&groups[i]), s_i, 5e-5, &format!("s of sample {}", i + 1));
    }
    let total: f64 = sizes.iter().sum::<usize>() as f64;
    let grand = groups.iter().map(|g| g.iter().sum::<f64>()).sum::<f64>() / total;
    let (pooled, df) = pooled_sd(&groups);
    let sigma = pooled / c4(df + 1);
    let s = ChartSpec {
        sigma_method: SigmaMethod::PooledSd,
        ..ChartSpec::new(ChartType::XbarS)
    };
    let chart = analyze(&s, &Data::Subgroups(groups.clone())).unwrap();
    close(chart.center(), grand, 1e-12, "x-double-bar weighted by n_i");
    close(chart.sigma(), sigma, 1e-12, "pooled sigma");
    let companion = chart.companion.as_ref().unwrap();
    for (i, g) in groups.iter().enumerate() {
        let n = g.len() as f64;
        let p = chart.primary.point(i).unwrap();
        close(p.statistic, g.iter().sum::<f64>() / n, 1e-12, "x-bar_i");
        close(
            p.ucl.unwrap(),
            grand + 3.0 * sigma / n.sqrt(),
            1e-12,
            "X-bar UCL_i",
        );
        close(
            p.lcl.unwrap(),
            grand - 3.0 * sigma / n.sqrt(),
            1e-12,
            "X-bar LCL_i",
        );
        let q = companion.point(i).unwrap();
        let c = c4(g.len());
        close(q.statistic, sd(g), 1e-12, "s_i");
        close(q.center, c * sigma, 1e-12, "S center_i");
        close(
            q.ucl.unwrap(),
            (c + 3.0 * (1.0 - c * c).sqrt()) * sigma,
            1e-12,
            "S UCL_i",
        );
        close(
            q.lcl.unwrap(),
            ((c - 3.0 * (1.0 - c * c).sqrt()) * sigma).max(0.0),
            1e-12,
            "S LCL_i",
        );
    }
    // n = 5 and n = 3 get different limits, wider for the smaller subgroup.
    let (five, three) = (
        chart.primary.point(0).unwrap(),
        chart.primary.point(1).unwrap(),
    );
    assert!(three.ucl.unwrap() - five.ucl.unwrap() > 1e-3);
    // Montgomery's pooled s-bar for all 25 samples is 0.0103; these 22 give about the same.
    close(pooled, 0.0103, 1e-3, "pooled s");
}

/// The CUSUM's fast initial response on the chart itself (Montgomery §9.1.5; Lucas & Crosier
/// 1982): with a head start of h/2, C+_0 = C-_0 = h/2 and then C+_i = max(0, z_i - k + C+_{i-1}),
/// C-_i = max(0, -z_i - k + C-_{i-1}), z_i = (x_i - mu0) / sigma, on Table 9.2's data.
#[test]
fn cusum_head_start_follows_the_recursion() {
    let x = [
        9.45, 7.99, 9.29, 11.66, 12.16, 10.18, 8.04, 11.46, 9.20, 10.34, 9.03, 11.47, 10.51, 9.40,
        10.08, 9.37, 10.62, 10.31, 8.52, 10.84, 10.90, 9.33, 12.29, 11.50, 10.60, 11.08, 10.38,
        11.62, 11.31, 10.52,
    ];
    let (mu, sigma, k, h) = (10.0, 1.0, 0.5, 5.0);
    let s = ChartSpec {
        baseline: Baseline::Known { mu, sigma },
        ..ChartSpec::new(ChartType::Cusum {
            k,
            h,
            head_start: h / 2.0,
        })
    };
    let chart = analyze(&s, &Data::Values(x.to_vec())).unwrap();
    let lower = chart.companion.as_ref().unwrap();
    let (mut up, mut down) = (h / 2.0, h / 2.0);
    let mut first_up = None;
    for (i, &xi) in x.iter().enumerate() {
        let z = (xi - mu) / sigma;
        up = (z - k + up).max(0.0);
        down = (-z - k + down).max(0.0);
        if up > h && first_up.is_none() {
            first_up = Some(i);
        }
        close(
            chart.primary.point(i).unwrap().statistic,
            up,
            1e-12,
            &format!("C+_{}", i + 1),
        );
        close(
            lower.point(i).unwrap().statistic,
            down,
            1e-12,
            &format!("C-_{}", i + 1),
        );
    }
    // By hand: C+_1 = max(0, -0.55 - 0.5 + 2.5) = 1.45, C-_1 = 0.55 - 0.5 + 2.5 = 2.55.
    close(
        chart.primary.point(0).unwrap().statistic,
        1.45,
        1e-12,
        "C+_1",
    );
    close(lower.point(0).unwrap().statistic, 2.55, 1e-12, "C-_1");
    let first = chart.primary.signals.first().unwrap();
    assert_eq!(Some(first.index), first_up);
}
