//! The cascade's impact calibrated on daily data (MODELS.md §4.4, step 2, at the resolution
//! the shared data has): an ordinary least-squares fit of each day's log return on its net
//! forced selling as a share of open interest,
//!
//! ```text
//! r_d = a + b · (L_d − S_d) / OI_{d−1}
//! ```
//!
//! with `L` and `S` the day's long and short liquidations (USD) and `OI` the open interest at
//! the day's open. Forced selling of `Q` USD then moves the price by `−b · Q / OI`, so the
//! USD that moves it 1 % is `0.01 · OI / (−b)`. Causality runs both ways on a day (a fall
//! liquidates longs as much as liquidations make a fall), so `−b` overstates the impact and
//! the depth it gives is a stressed one: the deep end of the cascade's range.

use canary_model::Method;
use serde::Serialize;

/// The daily impact fit, version 1.
pub const DAILY_IMPACT: Method = Method::new("daily_impact_fit", 1);

/// A fit of `r = a + b x`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ImpactFit {
    pub a: f64,
    pub b: f64,
    /// The standard error of `b`.
    pub se_b: f64,
    pub n: usize,
    pub r2: f64,
}

impl ImpactFit {
    /// The USD of forced selling that moves the price 1 % at open interest `oi`, for an
    /// impact slope `b` (negative: selling lowers the price); `None` when `b` is not negative.
    #[must_use]
    pub fn depth_1pct(b: f64, oi: f64) -> Option<f64> {
        (b < 0.0 && oi > 0.0).then(|| 0.01 * oi / -b)
    }
}

/// The fit over `(x, r)` pairs, finite ones only; `None` with fewer than 30 or no spread in `x`.
#[must_use]
pub fn fit(points: &[(f64, f64)]) -> Option<ImpactFit> {
    let p: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, r)| x.is_finite() && r.is_finite())
        .collect();
    let n = p.len();
    if n < 30 {
        return None;
    }
    let nf = n as f64;
    let mx = p.iter().map(|q| q.0).sum::<f64>() / nf;
    let mr = p.iter().map(|q| q.1).sum::<f64>() / nf;
    let sxx: f64 = p.iter().map(|q| (q.0 - mx).powi(2)).sum();
    let sxr: f64 = p.iter().map(|q| (q.0 - mx) * (q.1 - mr)).sum();
    let srr: f64 = p.iter().map(|q| (q.1 - mr).powi(2)).sum();
    if sxx <= 0.0 || srr <= 0.0 {
        return None;
    }
    let b = sxr / sxx;
    let a = mr - b * mx;
    let sse: f64 = p.iter().map(|q| (q.1 - a - b * q.0).powi(2)).sum();
    Some(ImpactFit {
        a,
        b,
        se_b: (sse / (nf - 2.0) / sxx).sqrt(),
        n,
        r2: 1.0 - sse / srr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slope_of_a_known_line_and_its_depth() {
        // r = 0.001 − 2 x, with a small alternating error.
        let pts: Vec<(f64, f64)> = (0..100)
            .map(|i| {
                let x = f64::from(i) / 1000.0 - 0.05;
                let e = if i % 2 == 0 { 1e-4 } else { -1e-4 };
                (x, 0.001 - 2.0 * x + e)
            })
            .collect();
        let f = fit(&pts).unwrap();
        assert!((f.b + 2.0).abs() < 1e-3, "{f:?}");
        assert!(f.se_b > 0.0 && f.se_b < 0.01, "{f:?}");
        assert!(f.r2 > 0.99);
        // Selling 1 % of $50B moves the price 2 %: $250M per 1 %.
        assert!((ImpactFit::depth_1pct(f.b, 50e9).unwrap() - 250e6).abs() < 1e6);
        assert_eq!(ImpactFit::depth_1pct(0.5, 50e9), None);
        assert_eq!(fit(&pts[..20]), None);
    }
}
