//! Volume indicators: On-Balance Volume and Money Flow Index.

use super::{Bar, Indicator, TaError, bars, check_len, check_period, drive};

/// On-Balance Volume: starts at the first bar's volume, then adds the volume on an up close and
/// subtracts it on a down close. From index 0.
#[derive(Debug, Clone, Default)]
pub struct Obv {
    prev_close: Option<f64>,
    value: Option<f64>,
}

impl Obv {
    #[must_use]
    pub fn new() -> Self {
        Obv::default()
    }
}

impl Indicator for Obv {
    type Input = Bar;
    type Output = f64;

    #[inline]
    fn update(&mut self, b: Bar) -> Option<f64> {
        let v = match (self.prev_close.replace(b.close), self.value) {
            (Some(pc), Some(obv)) if b.close > pc => obv + b.volume,
            (Some(pc), Some(obv)) if b.close < pc => obv - b.volume,
            (Some(_), Some(obv)) => obv,
            _ => b.volume,
        };
        self.value = Some(v);
        self.value
    }

    fn value(&self) -> Option<f64> {
        self.value
    }

    fn reset(&mut self) {
        *self = Obv::default();
    }
}

/// Batch OBV.
///
/// # Errors
/// When the slices differ in length.
pub fn obv(close: &[f64], volume: &[f64], out: &mut [f64]) -> Result<(), TaError> {
    check_len("volume", volume.len(), close.len())?;
    check_len("output", out.len(), close.len())?;
    let Some((&c0, &v0)) = close.first().zip(volume.first()) else {
        return Ok(());
    };
    let (mut prev, mut acc) = (c0, v0);
    out[0] = acc;
    for i in 1..close.len() {
        let c = close[i];
        // ±1 or 0 times the volume: exactly the same sums as branching on the direction, without
        // the unpredictable branch.
        let dir = f64::from(u8::from(c > prev)) - f64::from(u8::from(c < prev));
        acc += dir * volume[i];
        out[i] = acc;
        prev = c;
    }
    Ok(())
}

/// Money Flow Index over n bars: money flow = typical price × volume, positive when the typical
/// price rose, negative when it fell; MFI = 100·pos/(pos + neg), 0 when pos + neg < 1 (TA-Lib's
/// rule). From index n.
#[derive(Debug, Clone)]
pub struct Mfi {
    n: usize,
    prev_tp: Option<f64>,
    /// (positive, negative) flows of the last n bars, oldest at `head`.
    flows: Box<[(f64, f64)]>,
    head: usize,
    count: usize,
    pos: f64,
    neg: f64,
    value: Option<f64>,
}

impl Mfi {
    /// # Errors
    /// When `n` is 0.
    pub fn new(n: usize) -> Result<Self, TaError> {
        check_period("MFI", n, 1)?;
        Ok(Mfi {
            n,
            prev_tp: None,
            flows: vec![(0.0, 0.0); n].into_boxed_slice(),
            head: 0,
            count: 0,
            pos: 0.0,
            neg: 0.0,
            value: None,
        })
    }
}

impl Indicator for Mfi {
    type Input = Bar;
    type Output = f64;

    #[inline]
    fn update(&mut self, b: Bar) -> Option<f64> {
        let tp = (b.high + b.low + b.close) / 3.0;
        let prev = self.prev_tp.replace(tp)?;
        let full = self.count == self.n;
        if full {
            let (p, q) = self.flows[self.head];
            self.pos -= p;
            self.neg -= q;
        }
        let d = tp - prev;
        let mf = tp * b.volume;
        let flow = if d < 0.0 {
            self.neg += mf;
            (0.0, mf)
        } else if d > 0.0 {
            self.pos += mf;
            (mf, 0.0)
        } else {
            (0.0, 0.0)
        };
        self.flows[self.head] = flow;
        self.head += 1;
        if self.head == self.n {
            self.head = 0;
        }
        if !full {
            self.count += 1;
            if self.count < self.n {
                return None;
            }
        }
        let total = self.pos + self.neg;
        self.value = Some(if total < 1.0 {
            0.0
        } else {
            100.0 * (self.pos / total)
        });
        self.value
    }

    fn value(&self) -> Option<f64> {
        self.value
    }

    fn reset(&mut self) {
        *self = Mfi::new(self.n).expect("period was valid");
    }
}

/// Batch MFI.
///
/// # Errors
/// When `n` is 0 or the slices differ in length.
pub fn mfi(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    volume: &[f64],
    n: usize,
    out: &mut [f64],
) -> Result<(), TaError> {
    let m = Mfi::new(n)?;
    let it = bars(high, low, close, Some(volume), out.len())?;
    drive(m, it, out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{ohlcv, same};
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn obv_streaming_equals_batch((h, l, c, v) in ohlcv()) {
            let mut a = vec![0.0; c.len()];
            let mut b = vec![0.0; c.len()];
            obv(&c, &v, &mut a).unwrap();
            let it = (0..c.len()).map(|i| Bar { high: h[i], low: l[i], close: c[i], volume: v[i] });
            drive(Obv::new(), it, &mut b);
            for i in 0..c.len() { prop_assert!(same(a[i], b[i])); }
        }

        #[test]
        fn mfi_is_bounded((h, l, c, v) in ohlcv(), n in 1usize..20) {
            let mut out = vec![0.0; c.len()];
            mfi(&h, &l, &c, &v, n, &mut out).unwrap();
            for (i, x) in out.iter().enumerate() {
                prop_assert_eq!(x.is_nan(), i < n);
                prop_assert!(x.is_nan() || (-1e-9..=100.0 + 1e-9).contains(x));
            }
        }
    }
}
