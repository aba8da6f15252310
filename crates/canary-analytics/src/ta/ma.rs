//! Moving averages: SMA, EMA and WMA.

use super::window::Ring;
use super::{Indicator, TaError, check_len, check_period};

/// Simple moving average: the mean of the last `n` values.
pub const SMA: canary_model::Method = canary_model::Method::new("sma", 1);

/// Simple moving average over `n` values (running sum, as TA-Lib).
#[derive(Debug, Clone)]
pub struct Sma {
    n: usize,
    ring: Ring,
    sum: f64,
    value: Option<f64>,
}

impl Sma {
    /// # Errors
    /// When `n` is 0.
    pub fn new(n: usize) -> Result<Self, TaError> {
        check_period("SMA", n, 1)?;
        Ok(Sma {
            n,
            ring: Ring::new(n),
            sum: 0.0,
            value: None,
        })
    }
}

impl Indicator for Sma {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        self.ring.push(x);
        self.sum += x;
        if self.ring.is_full() {
            let v = self.sum / self.n as f64;
            // TA-Lib removes the oldest value after the output, ready for the next input.
            self.sum -= self.ring.oldest();
            self.value = Some(v);
        }
        self.value
    }

    fn value(&self) -> Option<f64> {
        self.value
    }

    fn reset(&mut self) {
        self.ring.clear();
        self.sum = 0.0;
        self.value = None;
    }
}

/// Batch SMA.
///
/// # Errors
/// When `n` is 0 or `out` has another length than `input`.
pub fn sma(input: &[f64], n: usize, out: &mut [f64]) -> Result<(), TaError> {
    check_period("SMA", n, 1)?;
    check_len("output", out.len(), input.len())?;
    let nf = n as f64;
    let mut sum = 0.0;
    for i in 0..input.len() {
        sum += input[i];
        if i + 1 >= n {
            out[i] = sum / nf;
            sum -= input[i + 1 - n];
        } else {
            out[i] = f64::NAN;
        }
    }
    Ok(())
}

/// One EMA step, prev·(1 − k) + x·k: the same value as TA-Lib's (x − prev)·k + prev to within
/// a few ulps, with a shorter dependency chain (a multiply and an add on `prev`).
#[inline(always)]
pub(crate) fn ema_step(prev: f64, x: f64, k: f64) -> f64 {
    prev * (1.0 - k) + x * k
}

/// Exponential moving average, k = 2/(n+1), seeded with the simple mean of the first n values.
#[derive(Debug, Clone)]
pub struct Ema {
    n: usize,
    k: f64,
    count: usize,
    sum: f64,
    pub(crate) value: Option<f64>,
}

impl Ema {
    /// # Errors
    /// When `n` is 0.
    pub fn new(n: usize) -> Result<Self, TaError> {
        check_period("EMA", n, 1)?;
        let k = 2.0 / (n as f64 + 1.0);
        Ok(Ema {
            n,
            k,
            count: 0,
            sum: 0.0,
            value: None,
        })
    }
}

impl Indicator for Ema {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        if let Some(prev) = self.value {
            self.value = Some(ema_step(prev, x, self.k));
        } else {
            self.sum += x;
            self.count += 1;
            if self.count == self.n {
                let seed = self.sum / self.n as f64;
                self.value = Some(seed);
            }
        }
        self.value
    }

    fn value(&self) -> Option<f64> {
        self.value
    }

    fn reset(&mut self) {
        self.count = 0;
        self.sum = 0.0;
        self.value = None;
    }
}

/// Batch EMA.
///
/// # Errors
/// When `n` is 0 or `out` has another length than `input`.
pub fn ema(input: &[f64], n: usize, out: &mut [f64]) -> Result<(), TaError> {
    check_period("EMA", n, 1)?;
    check_len("output", out.len(), input.len())?;
    if input.len() < n {
        out.fill(f64::NAN);
        return Ok(());
    }
    let (nf, k) = (n as f64, 2.0 / (n as f64 + 1.0));
    out[..n - 1].fill(f64::NAN);
    let mut prev = input[..n].iter().sum::<f64>() / nf;
    out[n - 1] = prev;
    for (o, &x) in out[n..].iter_mut().zip(&input[n..]) {
        prev = ema_step(prev, x, k);
        *o = prev;
    }
    Ok(())
}

/// Weighted moving average, weights 1…n with the newest heaviest (TA-Lib's running form).
#[derive(Debug, Clone)]
pub struct Wma {
    n: usize,
    divider: f64,
    ring: Ring,
    /// Σ w_i·x_i of the current window.
    weighted: f64,
    /// Σ x_i of the current window.
    plain: f64,
    value: Option<f64>,
}

impl Wma {
    /// # Errors
    /// When `n` is 0.
    pub fn new(n: usize) -> Result<Self, TaError> {
        check_period("WMA", n, 1)?;
        let divider = ((n * (n + 1)) / 2) as f64;
        Ok(Wma {
            n,
            divider,
            ring: Ring::new(n),
            weighted: 0.0,
            plain: 0.0,
            value: None,
        })
    }
}

impl Indicator for Wma {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        let nf = self.n as f64;
        if self.ring.len() + 1 < self.n {
            self.ring.push(x);
            self.plain += x;
            let w = self.ring.len() as f64;
            self.weighted += x * w;
            return None;
        }
        // TA-Lib's order: add the new value, drop the one that left, take the output, then
        // shift every weight down by one (subtract the plain sum).
        let trailing = if self.ring.is_full() {
            self.ring.oldest()
        } else {
            0.0
        };
        let first = !self.ring.is_full();
        self.ring.push(x);
        self.plain += x;
        if !first {
            self.plain -= trailing;
        }
        self.weighted += x * nf;
        let v = self.weighted / self.divider;
        self.weighted -= self.plain;
        self.value = Some(v);
        self.value
    }

    fn value(&self) -> Option<f64> {
        self.value
    }

    fn reset(&mut self) {
        self.ring.clear();
        self.weighted = 0.0;
        self.plain = 0.0;
        self.value = None;
    }
}

/// Batch WMA.
///
/// # Errors
/// When `n` is 0 or `out` has another length than `input`.
pub fn wma(input: &[f64], n: usize, out: &mut [f64]) -> Result<(), TaError> {
    check_period("WMA", n, 1)?;
    check_len("output", out.len(), input.len())?;
    if input.len() < n {
        out.fill(f64::NAN);
        return Ok(());
    }
    let (nf, divider) = (n as f64, ((n * (n + 1)) / 2) as f64);
    let (mut weighted, mut plain) = (0.0, 0.0);
    for (i, &x) in input[..n - 1].iter().enumerate() {
        plain += x;
        let w = (i + 1) as f64;
        weighted += x * w;
    }
    out[..n - 1].fill(f64::NAN);
    let mut trailing = 0.0;
    for i in n - 1..input.len() {
        let x = input[i];
        plain += x;
        plain -= trailing;
        weighted += x * nf;
        trailing = input[i + 1 - n];
        out[i] = weighted / divider;
        weighted -= plain;
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
        fn streaming_equals_batch(xs in prices(), n in 1usize..40) {
            let mut a = vec![0.0; xs.len()];
            let mut b = vec![0.0; xs.len()];
            sma(&xs, n, &mut a).unwrap();
            drive(Sma::new(n).unwrap(), xs.iter().copied(), &mut b);
            for i in 0..xs.len() { prop_assert!(same(a[i], b[i]), "sma i={} {} {}", i, a[i], b[i]); }
            ema(&xs, n, &mut a).unwrap();
            drive(Ema::new(n).unwrap(), xs.iter().copied(), &mut b);
            for i in 0..xs.len() { prop_assert!(same(a[i], b[i]), "ema i={} {} {}", i, a[i], b[i]); }
            wma(&xs, n, &mut a).unwrap();
            drive(Wma::new(n).unwrap(), xs.iter().copied(), &mut b);
            for i in 0..xs.len() { prop_assert!(same(a[i], b[i]), "wma i={} {} {}", i, a[i], b[i]); }
        }
    }

    #[test]
    fn reset_forgets() {
        let mut s = Sma::new(2).unwrap();
        s.update(1.0);
        s.update(3.0);
        s.reset();
        assert_eq!(s.update(5.0), None);
        assert_eq!(s.update(7.0), Some(6.0));
    }
}
