//! Commodity Channel Index.

use super::window::Ring;
use super::{Bar, Indicator, TaError, bars, check_period, drive};

/// CCI = (tp − SMA(tp)) / (0.015 · mean absolute deviation of tp from that SMA), over n bars,
/// tp = (high + low + close)/3; 0 when either part is 0. From index n−1.
///
/// The mean absolute deviation is taken around the newest mean, so an update costs O(n).
/// Sums run over the window's storage slots in slot order, as TA-Lib's circular buffer does,
/// so that results match it to the last bits where the deviation is tiny.
#[derive(Debug, Clone)]
pub struct Cci {
    n: usize,
    ring: Ring,
    value: Option<f64>,
}

impl Cci {
    /// # Errors
    /// When `n` is 0.
    pub fn new(n: usize) -> Result<Self, TaError> {
        check_period("CCI", n, 1)?;
        Ok(Cci {
            n,
            ring: Ring::new(n),
            value: None,
        })
    }
}

impl Indicator for Cci {
    type Input = Bar;
    type Output = f64;

    #[inline]
    fn update(&mut self, b: Bar) -> Option<f64> {
        let tp = (b.high + b.low + b.close) / 3.0;
        self.ring.push(tp);
        if !self.ring.is_full() {
            return None;
        }
        let nf = self.n as f64;
        let slots = self.ring.slots();
        let mean = slots.iter().sum::<f64>() / nf;
        let mad: f64 = slots.iter().map(|x| (x - mean).abs()).sum();
        let dev = tp - mean;
        self.value = Some(if dev != 0.0 && mad != 0.0 {
            dev / (0.015 * (mad / nf))
        } else {
            0.0
        });
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

/// Bars computed side by side by the batch CCI (one vector of doubles with AVX-512).
const LANES: usize = 8;

/// Batch CCI.
///
/// Each bar's two sums run over its window in the streaming form's slot order (so the bits are
/// the same), but eight consecutive bars are summed side by side, one lane each: at slot j the
/// eight lanes read one of three values (a window holds each residue of the index modulo n
/// once, and eight bars cross at most one multiple of n when n ≥ 8), so the lanes are a select
/// among three broadcasts, which the compiler vectorises. Typical prices are taken a block at
/// a time. Periods below 8 use the streaming form.
///
/// # Errors
/// When `n` is 0 or the slices differ in length.
pub fn cci(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    n: usize,
    out: &mut [f64],
) -> Result<(), TaError> {
    let c = Cci::new(n)?;
    let it = bars(high, low, close, None, out.len())?;
    if n < LANES {
        drive(c, it, out);
        return Ok(());
    }
    let len = out.len();
    out[..(n - 1).min(len)].fill(f64::NAN);
    if len < n {
        return Ok(());
    }
    super::simd::with_simd(
        super::simd::Level::Avx512,
        #[inline(always)]
        || cci_lanes(high, low, close, n, out),
    );
    Ok(())
}

/// The batch CCI from index n − 1 on, for n ≥ [`LANES`].
#[inline(always)]
fn cci_lanes(high: &[f64], low: &[f64], close: &[f64], n: usize, out: &mut [f64]) {
    let len = out.len();
    let nf = n as f64;
    // Bars per block (a multiple of LANES), and the typical prices of the block, the 2n before
    // it and 3n after it (zeros outside the series: loaded, never selected).
    let block = (16 * n).max(256).next_multiple_of(LANES);
    let mut tp = vec![0.0; block + 5 * n];
    let mut vals = vec![[0.0f64; LANES]; n];
    let mut start = n - 1;
    while start < len {
        let end = (start + block).min(len);
        // tp[p] is the typical price of bar start − 2n + p
        let from = start.saturating_sub(2 * n);
        let to = (end + 3 * n).min(len);
        let skip = from + 2 * n - start;
        tp.fill(0.0);
        let dst = &mut tp[skip..skip + (to - from)];
        let (h, l, c) = (&high[from..to], &low[from..to], &close[from..to]);
        for k in 0..dst.len() {
            dst[k] = (h[k] + l[k] + c[k]) / 3.0;
        }
        let at = |i: usize| i + 2 * n - start;
        let mut t0 = start;
        while t0 < end {
            // Lane q is bar t0 + q. Its newest value sits in slot (t0 + q) mod n, so at slot j
            // the lanes read, in order of q: the value n·(1 − ⌊…⌋) back, then the one at
            // base + j, then (past a multiple of n, for lanes q ≥ q*) the one n further on:
            // a staircase over q with steps at j − r0 and j + q*.
            let r0 = t0 % n;
            let base = t0 - r0;
            let q_star = n - r0; // ≥ 1; beyond the lanes when no multiple of n is crossed
            let mut sum = [0.0f64; LANES];
            for (j, v) in vals.iter_mut().enumerate() {
                let p = at(base + j) - n;
                let (x0, x1, x2) = (tp[p], tp[p + n], tp[p + 2 * n]);
                #[expect(clippy::cast_possible_wrap)]
                let (up1, up2) = (j as i64 - r0 as i64, (j + q_star) as i64);
                for q in 0..LANES {
                    #[expect(clippy::cast_possible_wrap)]
                    let qi = q as i64;
                    let lower = if qi >= up1 { x1 } else { x0 };
                    v[q] = if qi >= up2 { x2 } else { lower };
                    sum[q] += v[q];
                }
            }
            let mean = sum.map(|s| s / nf);
            let mut mad = [0.0f64; LANES];
            for v in &vals {
                for q in 0..LANES {
                    mad[q] += (v[q] - mean[q]).abs();
                }
            }
            for q in 0..LANES.min(end - t0) {
                let dev = tp[at(t0 + q)] - mean[q];
                out[t0 + q] = if dev != 0.0 && mad[q] != 0.0 {
                    dev / (0.015 * (mad[q] / nf))
                } else {
                    0.0
                };
            }
            t0 += LANES;
        }
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::ohlcv;
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Same bits as the streaming form (whose slot order matches TA-Lib's).
        #[test]
        fn streaming_equals_batch((h, l, c, _v) in ohlcv().prop_map(|(h, l, c, v)| (h.repeat(4), l.repeat(4), c.repeat(4), v)), n in 1usize..60) {
            let mut batch = vec![0.0; c.len()];
            cci(&h, &l, &c, n, &mut batch).unwrap();
            let mut s = Cci::new(n).unwrap();
            for i in 0..c.len() {
                let want = s.update(Bar { high: h[i], low: l[i], close: c[i], volume: 0.0 }).unwrap_or(f64::NAN);
                prop_assert!(want.to_bits() == batch[i].to_bits() || (want.is_nan() && batch[i].is_nan()), "n={} i={} batch {} streaming {}", n, i, batch[i], want);
            }
        }
    }
}
