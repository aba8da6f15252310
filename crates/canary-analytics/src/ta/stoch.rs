//! Range oscillators: Stochastic (%K, %D) and Williams %R.

use super::ma::{Sma, sma};
use super::window::{Max, Min, sliding_extremes};
use super::{Bar, Indicator, TaError, check_hlc, check_len, check_period};

/// One Stochastic output: slow %K and %D.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StochValue {
    pub k: f64,
    pub d: f64,
}

/// Stochastic(k, slow_k, d) with SMA smoothing: fast %K = 100·(close − lowest low)/(highest
/// high − lowest low) over k bars (0 when the range is 0); slow %K = SMA of fast %K; %D = SMA
/// of slow %K. Both outputs start at index k + slow_k + d − 3.
#[derive(Debug, Clone)]
pub struct Stoch {
    params: (usize, usize, usize),
    hi: Max,
    lo: Min,
    seen: usize,
    slow_k: Sma,
    d: Sma,
    value: Option<StochValue>,
}

impl Stoch {
    /// # Errors
    /// When a period is 0.
    pub fn new(k: usize, slow_k: usize, d: usize) -> Result<Self, TaError> {
        check_period("STOCH fastk", k, 1)?;
        Ok(Stoch {
            params: (k, slow_k, d),
            hi: Max::new(k),
            lo: Min::new(k),
            seen: 0,
            slow_k: Sma::new(slow_k)?,
            d: Sma::new(d)?,
            value: None,
        })
    }
}

/// Fast %K = 100·(close − lowest)/(highest − lowest), 0 when the range is 0. (TA-Lib
/// divides the range by 100 first; one division instead of two differs in the last bits only.)
#[inline]
fn fast_k(close: f64, highest: f64, lowest: f64) -> f64 {
    let range = highest - lowest;
    if range == 0.0 {
        0.0
    } else {
        100.0 * (close - lowest) / range
    }
}

impl Indicator for Stoch {
    type Input = Bar;
    type Output = StochValue;

    #[inline]
    fn update(&mut self, b: Bar) -> Option<StochValue> {
        let highest = self.hi.push(b.high);
        let lowest = self.lo.push(b.low);
        self.seen += 1;
        if self.seen < self.params.0 {
            return None;
        }
        let k = self.slow_k.update(fast_k(b.close, highest, lowest))?;
        let d = self.d.update(k)?;
        self.value = Some(StochValue { k, d });
        self.value
    }

    fn value(&self) -> Option<StochValue> {
        self.value
    }

    fn reset(&mut self) {
        let (k, sk, d) = self.params;
        *self = Stoch::new(k, sk, d).expect("periods were valid");
    }
}

/// Batch Stochastic into slow %K and %D buffers.
///
/// # Errors
/// When a period is 0 or the slices differ in length.
#[expect(clippy::too_many_arguments)]
pub fn stoch(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    k: usize,
    slow_k: usize,
    d: usize,
    out_k: &mut [f64],
    out_d: &mut [f64],
) -> Result<(), TaError> {
    check_period("STOCH fastk", k, 1)?;
    check_period("STOCH slowk", slow_k, 1)?;
    check_period("STOCH slowd", d, 1)?;
    check_hlc(high, low, close, None, out_k.len())?;
    check_len("%D output", out_d.len(), out_k.len())?;
    let len = high.len();
    let first = (k + slow_k + d - 3).min(len);
    if len >= k {
        // fast %K into out_d, slow %K (its SMA) into out_k, %D (SMA of that) back into out_d.
        sliding_extremes(high, low, k, |i, hh, ll| {
            out_d[i] = fast_k(close[i], hh, ll);
        });
        let (fast, slow) = (&out_d[k - 1..], &mut out_k[k - 1..]);
        sma(fast, slow_k, slow)?;
        if len >= k + slow_k - 1 {
            let from = k + slow_k - 2;
            let (slow, dd) = (&out_k[from..], &mut out_d[from..]);
            sma(slow, d, dd)?;
        }
    }
    out_k[..first].fill(f64::NAN);
    out_d[..first].fill(f64::NAN);
    Ok(())
}

/// Williams %R = −100·(highest high − close)/(highest high − lowest low) over n bars (0 when
/// the range is 0), from index n−1.
#[derive(Debug, Clone)]
pub struct WillR {
    n: usize,
    hi: Max,
    lo: Min,
    seen: usize,
    value: Option<f64>,
}

impl WillR {
    /// # Errors
    /// When `n` is 0.
    pub fn new(n: usize) -> Result<Self, TaError> {
        check_period("WILLR", n, 1)?;
        Ok(WillR {
            n,
            hi: Max::new(n),
            lo: Min::new(n),
            seen: 0,
            value: None,
        })
    }
}

/// %R = −100·(highest − close)/(highest − lowest), 0 when the range is 0 (one division; TA-Lib's
/// two differ in the last bits only).
#[inline]
fn willr_of(close: f64, highest: f64, lowest: f64) -> f64 {
    let range = highest - lowest;
    if range == 0.0 {
        0.0
    } else {
        -100.0 * (highest - close) / range
    }
}

impl Indicator for WillR {
    type Input = Bar;
    type Output = f64;

    #[inline]
    fn update(&mut self, b: Bar) -> Option<f64> {
        let highest = self.hi.push(b.high);
        let lowest = self.lo.push(b.low);
        self.seen += 1;
        if self.seen < self.n {
            return None;
        }
        self.value = Some(willr_of(b.close, highest, lowest));
        self.value
    }

    fn value(&self) -> Option<f64> {
        self.value
    }

    fn reset(&mut self) {
        *self = WillR::new(self.n).expect("period was valid");
    }
}

/// Batch Williams %R.
///
/// # Errors
/// When `n` is 0 or the slices differ in length.
pub fn willr(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    n: usize,
    out: &mut [f64],
) -> Result<(), TaError> {
    check_period("WILLR", n, 1)?;
    check_hlc(high, low, close, None, out.len())?;
    let len = high.len();
    out[..(n - 1).min(len)].fill(f64::NAN);
    sliding_extremes(high, low, n, |i, hh, ll| {
        out[i] = willr_of(close[i], hh, ll);
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::drive;
    use super::super::testutil::{ohlcv, same};
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn streaming_equals_batch((h, l, c, _v) in ohlcv(), k in 1usize..20, sk in 1usize..5, d in 1usize..5) {
            let len = h.len();
            let bars: Vec<Bar> = (0..len).map(|i| Bar { high: h[i], low: l[i], close: c[i], volume: 0.0 }).collect();
            let (mut a, mut b) = (vec![0.0; len], vec![0.0; len]);
            stoch(&h, &l, &c, k, sk, d, &mut a, &mut b).unwrap();
            let mut s = Stoch::new(k, sk, d).unwrap();
            for i in 0..len {
                let v = s.update(bars[i]);
                prop_assert!(same(a[i], v.map_or(f64::NAN, |v| v.k)), "%K i={} {} {:?}", i, a[i], v);
                prop_assert!(same(b[i], v.map_or(f64::NAN, |v| v.d)), "%D i={} {} {:?}", i, b[i], v);
            }
            willr(&h, &l, &c, k, &mut a).unwrap();
            drive(WillR::new(k).unwrap(), bars.iter().copied(), &mut b);
            for i in 0..len { prop_assert!(same(a[i], b[i]), "willr i={}", i); }
        }

        #[test]
        fn bounded_and_timed_right((h, l, c, _v) in ohlcv(), k in 1usize..20, sk in 1usize..5, d in 1usize..5) {
            let mut s = Stoch::new(k, sk, d).unwrap();
            let mut w = WillR::new(k).unwrap();
            for i in 0..h.len() {
                let b = Bar { high: h[i], low: l[i], close: c[i], volume: 0.0 };
                let v = s.update(b);
                prop_assert_eq!(v.is_some(), i + 3 >= k + sk + d);
                if let Some(v) = v {
                    prop_assert!((-1e-9..=100.0 + 1e-9).contains(&v.k) && (-1e-9..=100.0 + 1e-9).contains(&v.d));
                }
                let r = w.update(b);
                prop_assert_eq!(r.is_some(), i + 1 >= k);
                if let Some(r) = r { prop_assert!((-100.0 - 1e-9..=1e-9).contains(&r)); }
            }
        }
    }
}
