//! Momentum: RSI (Wilder) and ROC.

use super::window::Ring;
use super::{Indicator, TaError, check_len, check_period, is_zero};

/// RSI with Wilder's smoothing, seeded and rounded as TA-Lib does (`MODELS.md` §5.2).
pub const RSI_WILDER: canary_model::Method = canary_model::Method::new("rsi_wilder_talib", 1);

/// Relative Strength Index, Wilder smoothing seeded with the mean of the first n moves.
#[derive(Debug, Clone)]
pub struct Rsi {
    n: usize,
    prev: Option<f64>,
    moves: usize,
    pub(crate) gain: f64,
    pub(crate) loss: f64,
    value: Option<f64>,
}

impl Rsi {
    /// # Errors
    /// When `n` is 0.
    pub fn new(n: usize) -> Result<Self, TaError> {
        check_period("RSI", n, 1)?;
        Ok(Rsi {
            n,
            prev: None,
            moves: 0,
            gain: 0.0,
            loss: 0.0,
            value: None,
        })
    }
}

/// Wilder's smoothing s ← (s·(n−1) + x)/n, written s·a + x·b with a = (n−1)/n, b = 1/n: the
/// same value to within a few ulps, without a division on the loop-carried chain (TA-Lib
/// divides; the oracle test holds at 1e-9).
#[inline]
pub(crate) fn wilder(n: usize) -> (f64, f64) {
    let nf = n as f64;
    ((nf - 1.0) / nf, 1.0 / nf)
}

#[inline]
fn rsi_of(gain: f64, loss: f64) -> f64 {
    let total = gain + loss;
    if is_zero(total) {
        0.0
    } else {
        100.0 * (gain / total)
    }
}

impl Indicator for Rsi {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        let prev = self.prev.replace(x)?;
        let d = x - prev;
        let nf = self.n as f64;
        if self.moves < self.n {
            if d < 0.0 {
                self.loss -= d;
            } else {
                self.gain += d;
            }
            self.moves += 1;
            if self.moves == self.n {
                self.loss /= nf;
                self.gain /= nf;
                self.value = Some(rsi_of(self.gain, self.loss));
            }
            return self.value;
        }
        let (a, b) = wilder(self.n);
        self.gain = self.gain * a + d.max(0.0) * b;
        self.loss = self.loss * a + (-d).max(0.0) * b;
        self.value = Some(rsi_of(self.gain, self.loss));
        self.value
    }

    fn value(&self) -> Option<f64> {
        self.value
    }

    fn reset(&mut self) {
        *self = Rsi::new(self.n).expect("period was valid");
    }
}

/// Batch RSI.
///
/// # Errors
/// When `n` is 0 or `out` has another length than `input`.
pub fn rsi(input: &[f64], n: usize, out: &mut [f64]) -> Result<(), TaError> {
    check_period("RSI", n, 1)?;
    check_len("output", out.len(), input.len())?;
    if input.len() <= n {
        out.fill(f64::NAN);
        return Ok(());
    }
    let nf = n as f64;
    let (mut gain, mut loss) = (0.0, 0.0);
    for i in 1..=n {
        let d = input[i] - input[i - 1];
        if d < 0.0 {
            loss -= d;
        } else {
            gain += d;
        }
    }
    loss /= nf;
    gain /= nf;
    out[..n].fill(f64::NAN);
    out[n] = rsi_of(gain, loss);
    let (a, b) = wilder(n);
    for i in n + 1..input.len() {
        let d = input[i] - input[i - 1];
        gain = gain * a + d.max(0.0) * b;
        loss = loss * a + (-d).max(0.0) * b;
        out[i] = rsi_of(gain, loss);
    }
    Ok(())
}

/// Rate of change in percent: (x / x₋ₙ − 1)·100, 0 when x₋ₙ is 0.
#[derive(Debug, Clone)]
pub struct Roc {
    ring: Ring,
    value: Option<f64>,
}

impl Roc {
    /// # Errors
    /// When `n` is 0.
    pub fn new(n: usize) -> Result<Self, TaError> {
        check_period("ROC", n, 1)?;
        Ok(Roc {
            ring: Ring::new(n),
            value: None,
        })
    }
}

#[inline]
fn roc_of(x: f64, base: f64) -> f64 {
    if base == 0.0 {
        0.0
    } else {
        (x / base - 1.0) * 100.0
    }
}

impl Indicator for Roc {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        if let Some(base) = self.ring.push(x) {
            self.value = Some(roc_of(x, base));
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

/// Batch ROC.
///
/// # Errors
/// When `n` is 0 or `out` has another length than `input`.
pub fn roc(input: &[f64], n: usize, out: &mut [f64]) -> Result<(), TaError> {
    check_period("ROC", n, 1)?;
    check_len("output", out.len(), input.len())?;
    let k = n.min(input.len());
    out[..k].fill(f64::NAN);
    for i in k..input.len() {
        out[i] = roc_of(input[i], input[i - n]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::drive;
    use super::super::testutil::{prices, same};
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn streaming_equals_batch(xs in prices(), n in 1usize..30) {
            let mut a = vec![0.0; xs.len()];
            let mut b = vec![0.0; xs.len()];
            rsi(&xs, n, &mut a).unwrap();
            drive(Rsi::new(n).unwrap(), xs.iter().copied(), &mut b);
            for i in 0..xs.len() {
                prop_assert!(same(a[i], b[i]), "rsi i={} {} {}", i, a[i], b[i]);
                prop_assert!(a[i].is_nan() || (0.0..=100.0).contains(&a[i]));
            }
            roc(&xs, n, &mut a).unwrap();
            drive(Roc::new(n).unwrap(), xs.iter().copied(), &mut b);
            for i in 0..xs.len() {
                prop_assert!(same(a[i], b[i]), "roc i={} {} {}", i, a[i], b[i]);
            }
        }
    }

    #[test]
    fn flat_series_gives_zero_like_talib() {
        let mut out = [0.0; 5];
        rsi(&[1.0; 5], 2, &mut out).unwrap();
        assert_eq!(&out[2..], &[0.0, 0.0, 0.0]);
    }
}
