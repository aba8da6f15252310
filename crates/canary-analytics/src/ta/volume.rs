//! Volume indicators: On-Balance Volume and Money Flow Index.

use super::{Bar, Indicator, TaError, bars, check_len, check_period};

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
/// The first n + 1 bars go through the streaming form; the rest in blocks of [`MFI_BLOCK`]:
/// typical prices and signed money flows element-wise (vectorised), then the two running sums
/// bar by bar in the streaming form's order (the leaving flow subtracted, then the new one
/// added; adding a zero flow changes nothing), then the ratio element-wise.
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
    let mut m = Mfi::new(n)?;
    let head = bars(high, low, close, Some(volume), out.len())?.take(n + 1);
    let len = out.len();
    for (o, b) in out.iter_mut().zip(head) {
        *o = m.update(b).unwrap_or(f64::NAN);
    }
    if len <= n + 1 {
        return Ok(());
    }
    super::simd::with_simd(
        super::simd::Level::Avx512,
        #[inline(always)]
        || mfi_steady(high, low, close, volume, &m, out),
    );
    Ok(())
}

/// Bars per block of the batch MFI.
const MFI_BLOCK: usize = 256;

/// The batch MFI from bar n + 1 on, carrying on from the streaming state `m`.
#[inline(always)]
fn mfi_steady(high: &[f64], low: &[f64], close: &[f64], volume: &[f64], m: &Mfi, out: &mut [f64]) {
    let n = m.n;
    let len = out.len();
    let (mut pos, mut neg) = (m.pos, m.neg);
    let mut prev_tp = m.prev_tp.unwrap_or(0.0);
    // Flows of the n bars before the block (oldest first), then the block's.
    let mut pf = vec![0.0; n + MFI_BLOCK];
    let mut nf = vec![0.0; n + MFI_BLOCK];
    for (k, &(p, q)) in m.flows[m.head..]
        .iter()
        .chain(&m.flows[..m.head])
        .enumerate()
    {
        (pf[k], nf[k]) = (p, q);
    }
    let mut tp = [0.0; MFI_BLOCK];
    let mut start = n + 1;
    while start < len {
        let end = (start + MFI_BLOCK).min(len);
        let bn = end - start;
        let (h, l, c, v) = (
            &high[start..end],
            &low[start..end],
            &close[start..end],
            &volume[start..end],
        );
        let tp = &mut tp[..bn];
        for k in 0..bn {
            tp[k] = (h[k] + l[k] + c[k]) / 3.0;
        }
        {
            let (pf_new, nf_new) = (&mut pf[n..n + bn], &mut nf[n..n + bn]);
            for k in 0..bn {
                let before = if k == 0 { prev_tp } else { tp[k - 1] };
                let d = tp[k] - before;
                let mf = tp[k] * v[k];
                pf_new[k] = if d > 0.0 { mf } else { 0.0 };
                nf_new[k] = if d < 0.0 { mf } else { 0.0 };
            }
        }
        prev_tp = tp[bn - 1];
        let o = &mut out[start..end];
        // The sums, kept in `tp` (no longer needed) and `o` for the ratio. The flow leaving
        // the window at block bar k is n flows back: pf[k].
        let (pf_all, nf_all) = (&pf[..n + bn], &nf[..n + bn]);
        for k in 0..bn {
            pos = (pos - pf_all[k]) + pf_all[n + k];
            neg = (neg - nf_all[k]) + nf_all[n + k];
            (tp[k], o[k]) = (pos, neg);
        }
        for k in 0..bn {
            let (p, q) = (tp[k], o[k]);
            let total = p + q;
            o[k] = if total < 1.0 {
                0.0
            } else {
                100.0 * (p / total)
            };
        }
        // The last n flows before the next block.
        pf.copy_within(bn..bn + n, 0);
        nf.copy_within(bn..bn + n, 0);
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::super::drive;
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
        fn mfi_streaming_equals_batch((h, l, c, v) in ohlcv().prop_map(|(h, l, c, v)| (h.repeat(3), l.repeat(3), c.repeat(3), v.repeat(3))), n in 1usize..40) {
            let mut a = vec![0.0; c.len()];
            let mut b = vec![0.0; c.len()];
            mfi(&h, &l, &c, &v, n, &mut a).unwrap();
            let it = (0..c.len()).map(|i| Bar { high: h[i], low: l[i], close: c[i], volume: v[i] });
            drive(Mfi::new(n).unwrap(), it, &mut b);
            for i in 0..c.len() { prop_assert!(a[i].to_bits() == b[i].to_bits() || (a[i].is_nan() && b[i].is_nan()), "i={} batch {} streaming {}", i, a[i], b[i]); }
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
