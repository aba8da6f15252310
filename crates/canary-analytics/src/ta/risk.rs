//! Risk series beyond TA-Lib: realised volatility, drawdown, log return over n bars, and the
//! latest return in units of trailing σ.
//!
//! Returns are log returns r_i = ln close_i − ln close_{i−1} (one logarithm per bar, taken
//! with the vectorisable [`super::ln`]). Standard deviations of returns
//! are sample ones (divisor n−1) from running sums. Outputs are in percent.

use super::ln::{ln, ln_slice};
use super::window::Ring;
use super::{Indicator, TaError, check_len, check_period, drive};

/// The latest log return in standard deviations of the previous `n` log returns.
pub const RETURN_Z: canary_model::Method = canary_model::Method::new("return_z", 1);
/// Realised volatility: the sample standard deviation of `n` log returns, annualised, in %.
pub const REALIZED_VOL: canary_model::Method = canary_model::Method::new("realized_vol", 1);
/// Drawdown: the price over a high, minus one, in %.
pub const DRAWDOWN: canary_model::Method = canary_model::Method::new("drawdown", 1);

/// Running Σr and Σr² over the last n returns: sample standard deviation.
#[derive(Debug, Clone)]
pub(crate) struct ReturnWindow {
    n: usize,
    ring: Ring,
    pub(crate) sum: f64,
    pub(crate) sum_sq: f64,
}

impl ReturnWindow {
    fn new(n: usize) -> Self {
        ReturnWindow {
            n,
            ring: Ring::new(n),
            sum: 0.0,
            sum_sq: 0.0,
        }
    }

    #[inline]
    fn push(&mut self, r: f64) {
        // One addition per sum on the dependency chain: the new return less the one leaving.
        if let Some(old) = self.ring.push(r) {
            self.sum += r - old;
            self.sum_sq += r * r - old * old;
        } else {
            self.sum += r;
            self.sum_sq += r * r;
        }
    }

    /// Sample σ of the window once full (n ≥ 2).
    #[inline]
    fn sigma(&self) -> Option<f64> {
        if !self.ring.is_full() {
            return None;
        }
        let nf = self.n as f64;
        // Multiplications by constants rather than divisions: divisions are the slow part.
        let (inv_n, inv_n1) = (1.0 / nf, 1.0 / (nf - 1.0));
        let var = (self.sum_sq - self.sum * self.sum * inv_n) * inv_n1;
        Some(var.max(0.0).sqrt())
    }

    fn clear(&mut self) {
        self.ring.clear();
        self.sum = 0.0;
        self.sum_sq = 0.0;
    }
}

/// Annualised realised volatility in percent: sample σ of the last n log returns ×
/// √(bars per year) × 100. First value at index n (n returns need n+1 closes).
#[derive(Debug, Clone)]
pub struct RealizedVol {
    pub(crate) w: ReturnWindow,
    scale: f64,
    pub(crate) prev_ln: Option<f64>,
    value: Option<f64>,
}

impl RealizedVol {
    /// `bars_per_year` annualises (365 for daily bars of a market that never closes, 2190 for 4h).
    ///
    /// # Errors
    /// When `n` is below 2.
    pub fn new(n: usize, bars_per_year: f64) -> Result<Self, TaError> {
        check_period("realised volatility", n, 2)?;
        Ok(RealizedVol {
            w: ReturnWindow::new(n),
            scale: bars_per_year.sqrt() * 100.0,
            prev_ln: None,
            value: None,
        })
    }
}

impl Indicator for RealizedVol {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, close: f64) -> Option<f64> {
        self.update_ln(ln(close))
    }

    fn value(&self) -> Option<f64> {
        self.value
    }

    fn reset(&mut self) {
        self.w.clear();
        self.prev_ln = None;
        self.value = None;
    }
}

impl RealizedVol {
    /// `update` given ln(close).
    #[inline]
    fn update_ln(&mut self, ln: f64) -> Option<f64> {
        let prev = self.prev_ln.replace(ln)?;
        self.w.push(ln - prev);
        if let Some(s) = self.w.sigma() {
            self.value = Some(s * self.scale);
        }
        self.value
    }
}

/// Drive a return-based indicator over closes with the logarithms taken a chunk at a time
/// ([`ln_slice`] vectorises; [`ln`] gives the same bits one value at a time).
fn drive_ln(close: &[f64], out: &mut [f64], mut update_ln: impl FnMut(f64) -> Option<f64>) {
    let mut logs = [0.0; 256];
    for (c, o) in close.chunks(256).zip(out.chunks_mut(256)) {
        let logs = &mut logs[..c.len()];
        ln_slice(c, logs);
        for (o, &l) in o.iter_mut().zip(logs.iter()) {
            *o = update_ln(l).unwrap_or(f64::NAN);
        }
    }
}

/// Batch realised volatility.
///
/// # Errors
/// When `n` is below 2 or `out` has another length than `close`.
pub fn realized_vol(
    close: &[f64],
    n: usize,
    bars_per_year: f64,
    out: &mut [f64],
) -> Result<(), TaError> {
    let mut rv = RealizedVol::new(n, bars_per_year)?;
    check_len("output", out.len(), close.len())?;
    drive_ln(close, out, |l| rv.update_ln(l));
    Ok(())
}

/// Drawdown from the running highest close, in percent (≤ 0). From index 0.
#[derive(Debug, Clone, Default)]
pub struct Drawdown {
    pub(crate) peak: f64,
    pub(crate) inv_peak: f64,
    value: Option<f64>,
}

impl Drawdown {
    #[must_use]
    pub fn new() -> Self {
        Drawdown::default()
    }
}

impl Indicator for Drawdown {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, close: f64) -> Option<f64> {
        if self.value.is_none() || close > self.peak {
            // A new high: drawdown 0, and the reciprocal is taken once per new high rather than
            // a division on every bar.
            self.peak = close;
            self.inv_peak = 1.0 / close;
            self.value = Some(0.0);
        } else {
            self.value = Some((close * self.inv_peak - 1.0) * 100.0);
        }
        self.value
    }

    fn value(&self) -> Option<f64> {
        self.value
    }

    fn reset(&mut self) {
        *self = Drawdown::default();
    }
}

/// Batch drawdown.
///
/// # Errors
/// When `out` has another length than `close`.
pub fn drawdown(close: &[f64], out: &mut [f64]) -> Result<(), TaError> {
    check_len("output", out.len(), close.len())?;
    drive(Drawdown::new(), close.iter().copied(), out);
    Ok(())
}

/// Log return over n bars in percent: 100·ln(close / close₋ₙ). From index n.
#[derive(Debug, Clone)]
pub struct LogReturn {
    ring: Ring,
    value: Option<f64>,
}

impl LogReturn {
    /// # Errors
    /// When `n` is 0.
    pub fn new(n: usize) -> Result<Self, TaError> {
        check_period("return", n, 1)?;
        Ok(LogReturn {
            ring: Ring::new(n),
            value: None,
        })
    }
}

impl Indicator for LogReturn {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, close: f64) -> Option<f64> {
        if let Some(base) = self.ring.push(close) {
            self.value = Some((close / base).ln() * 100.0);
        }
        self.value
    }

    fn value(&self) -> Option<f64> {
        self.value
    }

    fn reset(&mut self) {
        self.ring.clear();
        self.value = None;
    }
}

/// Batch log return over n bars.
///
/// # Errors
/// When `n` is 0 or `out` has another length than `close`.
pub fn log_return(close: &[f64], n: usize, out: &mut [f64]) -> Result<(), TaError> {
    let r = LogReturn::new(n)?;
    check_len("output", out.len(), close.len())?;
    drive(r, close.iter().copied(), out);
    Ok(())
}

/// The latest one-bar log return in units of the sample σ of the n returns before it
/// (r_i / σ(r_{i−n} … r_{i−1}); zero mean assumed, as is usual for daily moves). First value
/// at index n+1; no value on a bar whose trailing σ is 0.
#[derive(Debug, Clone)]
pub struct ReturnZ {
    w: ReturnWindow,
    prev_ln: Option<f64>,
    value: Option<f64>,
}

impl ReturnZ {
    /// # Errors
    /// When `n` is below 2.
    pub fn new(n: usize) -> Result<Self, TaError> {
        check_period("return z-score", n, 2)?;
        Ok(ReturnZ {
            w: ReturnWindow::new(n),
            prev_ln: None,
            value: None,
        })
    }
}

impl Indicator for ReturnZ {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, close: f64) -> Option<f64> {
        self.update_ln(ln(close))
    }

    fn value(&self) -> Option<f64> {
        self.value
    }

    fn reset(&mut self) {
        self.w.clear();
        self.prev_ln = None;
        self.value = None;
    }
}

impl ReturnZ {
    /// `update` given ln(close).
    #[inline]
    fn update_ln(&mut self, ln: f64) -> Option<f64> {
        let prev = self.prev_ln.replace(ln)?;
        let r = ln - prev;
        let z = self.w.sigma().filter(|&s| s > 0.0).map(|s| r / s);
        self.w.push(r);
        self.value = z;
        z
    }
}

/// Batch return z-score.
///
/// # Errors
/// When `n` is below 2 or `out` has another length than `close`.
pub fn return_z(close: &[f64], n: usize, out: &mut [f64]) -> Result<(), TaError> {
    let mut z = ReturnZ::new(n)?;
    check_len("output", out.len(), close.len())?;
    drive_ln(close, out, |l| z.update_ln(l));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{prices, same};
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The batch forms take logarithms a chunk at a time: same bits as streaming.
        #[test]
        fn streaming_equals_batch(xs in prices().prop_map(|x| x.repeat(3)), n in 2usize..40) {
            let len = xs.len();
            let mut batch = vec![0.0; len];
            realized_vol(&xs, n, 365.0, &mut batch).unwrap();
            let mut rv = RealizedVol::new(n, 365.0).unwrap();
            for i in 0..len {
                prop_assert!(same(rv.update(xs[i]).unwrap_or(f64::NAN), batch[i]), "rv i={}", i);
            }
            return_z(&xs, n, &mut batch).unwrap();
            let mut z = ReturnZ::new(n).unwrap();
            for i in 0..len {
                prop_assert!(same(z.update(xs[i]).unwrap_or(f64::NAN), batch[i]), "z i={}", i);
            }
        }
    }

    fn naive_sigma(r: &[f64]) -> f64 {
        let n = r.len() as f64;
        let m = r.iter().sum::<f64>() / n;
        (r.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    }

    #[test]
    fn realised_vol_and_z_match_two_pass_formulas() {
        let closes: Vec<f64> = (0..60)
            .map(|i| 100.0 * (1.0 + 0.01 * f64::from(i % 7) - 0.02 * f64::from(i % 3)))
            .collect();
        let r: Vec<f64> = closes.windows(2).map(|w| (w[1] / w[0]).ln()).collect();
        let mut rv = vec![0.0; closes.len()];
        realized_vol(&closes, 10, 365.0, &mut rv).unwrap();
        assert!(rv[9].is_nan());
        let want = naive_sigma(&r[40..50]) * 365f64.sqrt() * 100.0;
        assert!((rv[50] - want).abs() < 1e-9 * want, "{} {}", rv[50], want);
        let mut z = vec![0.0; closes.len()];
        return_z(&closes, 10, &mut z).unwrap();
        assert!(z[10].is_nan());
        let want = r[49] / naive_sigma(&r[39..49]);
        assert!(
            (z[50] - want).abs() < 1e-9 * want.abs(),
            "{} {}",
            z[50],
            want
        );
    }

    #[test]
    fn drawdown_from_running_high() {
        let mut out = [0.0; 4];
        drawdown(&[100.0, 120.0, 90.0, 130.0], &mut out).unwrap();
        assert_eq!(out, [0.0, 0.0, -25.0, 0.0]);
        let mut lr = [0.0; 3];
        log_return(&[100.0, 110.0, 121.0], 2, &mut lr).unwrap();
        assert!((lr[2] - 100.0 * 1.21f64.ln()).abs() < 1e-12);
    }
}
