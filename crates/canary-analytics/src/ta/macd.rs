//! MACD: fast EMA − slow EMA, its signal EMA and the histogram, seeded as TA-Lib seeds them.

use super::ma::ema_step;
use super::{Indicator, TaError, check_len, check_period};

/// One MACD output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacdValue {
    pub macd: f64,
    pub signal: f64,
    pub hist: f64,
}

/// MACD(fast, slow, signal). Both EMAs start at index slow−1: the slow one seeded with the
/// mean of bars 0…slow−1, the fast one with the mean of bars slow−fast…slow−1. The signal EMA
/// is seeded with the mean of the first `signal` MACD values; the first output is at index
/// slow+signal−2. If `fast > slow` the two are swapped, as TA-Lib does.
#[derive(Debug, Clone)]
pub struct Macd {
    fast: usize,
    slow: usize,
    signal: usize,
    k_fast: f64,
    k_slow: f64,
    k_signal: f64,
    count: usize,
    fast_sum: f64,
    slow_sum: f64,
    pub(crate) fast_ema: f64,
    pub(crate) slow_ema: f64,
    signal_count: usize,
    signal_sum: f64,
    pub(crate) signal_ema: f64,
    value: Option<MacdValue>,
}

fn k(n: usize) -> f64 {
    2.0 / (n as f64 + 1.0)
}

impl Macd {
    /// # Errors
    /// When a period is 0.
    pub fn new(fast: usize, slow: usize, signal: usize) -> Result<Self, TaError> {
        check_period("MACD fast", fast, 1)?;
        check_period("MACD slow", slow, 1)?;
        check_period("MACD signal", signal, 1)?;
        let (fast, slow) = if fast > slow {
            (slow, fast)
        } else {
            (fast, slow)
        };
        Ok(Macd {
            fast,
            slow,
            signal,
            k_fast: k(fast),
            k_slow: k(slow),
            k_signal: k(signal),
            count: 0,
            fast_sum: 0.0,
            slow_sum: 0.0,
            fast_ema: 0.0,
            slow_ema: 0.0,
            signal_count: 0,
            signal_sum: 0.0,
            signal_ema: 0.0,
            value: None,
        })
    }
}

impl Indicator for Macd {
    type Input = f64;
    type Output = MacdValue;

    #[inline]
    fn update(&mut self, x: f64) -> Option<MacdValue> {
        let i = self.count;
        self.count += 1;
        if i + 1 < self.slow {
            self.slow_sum += x;
            if i >= self.slow - self.fast {
                self.fast_sum += x;
            }
            return None;
        }
        if i + 1 == self.slow {
            self.slow_sum += x;
            self.fast_sum += x;
            {
                self.slow_ema = self.slow_sum / self.slow as f64;
                self.fast_ema = self.fast_sum / self.fast as f64;
            }
        } else {
            self.fast_ema = ema_step(self.fast_ema, x, self.k_fast);
            self.slow_ema = ema_step(self.slow_ema, x, self.k_slow);
        }
        let line = self.fast_ema - self.slow_ema;
        if self.signal_count < self.signal {
            self.signal_sum += line;
            self.signal_count += 1;
            if self.signal_count < self.signal {
                return None;
            }
            {
                self.signal_ema = self.signal_sum / self.signal as f64;
            }
        } else {
            self.signal_ema = ema_step(self.signal_ema, line, self.k_signal);
        }
        self.value = Some(MacdValue {
            macd: line,
            signal: self.signal_ema,
            hist: line - self.signal_ema,
        });
        self.value
    }

    fn value(&self) -> Option<MacdValue> {
        self.value
    }

    fn reset(&mut self) {
        *self = Macd::new(self.fast, self.slow, self.signal).expect("periods were valid");
    }
}

/// Batch MACD into three buffers (line, signal, histogram).
///
/// # Errors
/// When a period is 0 or a buffer has another length than `input`.
pub fn macd(
    input: &[f64],
    fast: usize,
    slow: usize,
    signal: usize,
    out_macd: &mut [f64],
    out_signal: &mut [f64],
    out_hist: &mut [f64],
) -> Result<(), TaError> {
    let mut m = Macd::new(fast, slow, signal)?;
    check_len("macd output", out_macd.len(), input.len())?;
    check_len("signal output", out_signal.len(), input.len())?;
    check_len("histogram output", out_hist.len(), input.len())?;
    let (fast, slow, signal) = (m.fast, m.slow, m.signal);
    let start = slow - 1; // both EMAs seeded here
    let first = slow + signal - 2; // first output
    let nan = first.min(input.len());
    out_macd[..nan].fill(f64::NAN);
    out_signal[..nan].fill(f64::NAN);
    out_hist[..nan].fill(f64::NAN);
    if input.len() <= first {
        return Ok(());
    }
    let (mut f, mut s) = (
        input[slow - fast..slow].iter().sum::<f64>() / fast as f64,
        input[..slow].iter().sum::<f64>() / slow as f64,
    );
    let (kf, ks, kg) = (m.k_fast, m.k_slow, m.k_signal);
    let mut sig_sum = f - s;
    for &x in &input[start + 1..=first] {
        f = ema_step(f, x, kf);
        s = ema_step(s, x, ks);
        sig_sum += f - s;
    }
    let mut g = sig_sum / signal as f64;
    let line = f - s;
    out_macd[first] = line;
    out_signal[first] = g;
    out_hist[first] = line - g;
    for i in first + 1..input.len() {
        let x = input[i];
        f = ema_step(f, x, kf);
        s = ema_step(s, x, ks);
        let line = f - s;
        g = ema_step(g, line, kg);
        out_macd[i] = line;
        out_signal[i] = g;
        out_hist[i] = line - g;
    }
    m.reset();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{prices, same};
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn streaming_equals_batch(xs in prices(), fast in 1usize..15, slow in 1usize..30, sig in 1usize..10) {
            let len = xs.len();
            let (mut a, mut b, mut c) = (vec![0.0; len], vec![0.0; len], vec![0.0; len]);
            macd(&xs, fast, slow, sig, &mut a, &mut b, &mut c).unwrap();
            let mut m = Macd::new(fast, slow, sig).unwrap();
            for i in 0..len {
                match m.update(xs[i]) {
                    Some(v) => {
                        prop_assert!(same(v.macd, a[i]) && same(v.signal, b[i]) && same(v.hist, c[i]), "i={}", i);
                    }
                    None => prop_assert!(a[i].is_nan() && b[i].is_nan() && c[i].is_nan(), "i={}", i),
                }
            }
        }
    }
}
