//! Directional movement: +DI, −DI and ADX (Wilder), as TA-Lib computes them.

use super::range::true_range;
use super::{Bar, Indicator, TaError, bars, check_period, drive, is_zero};

/// +DI and −DI of one bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DmiValue {
    pub plus_di: f64,
    pub minus_di: f64,
}

/// +DI and −DI over n bars. The Wilder sums of +DM, −DM and true range are seeded with the
/// plain sums over indices 1…n−1; from index n each step is s ← s − s/n + x, and
/// DI = 100·s_DM/s_TR (0 when s_TR is within 1e-8 of zero). First value at index n.
#[derive(Debug, Clone)]
pub struct Dmi {
    n: usize,
    prev: Option<Bar>,
    count: usize,
    plus_dm: f64,
    minus_dm: f64,
    tr: f64,
    value: Option<DmiValue>,
}

impl Dmi {
    /// # Errors
    /// When `n` is 0.
    pub fn new(n: usize) -> Result<Self, TaError> {
        check_period("DMI", n, 1)?;
        Ok(Dmi {
            n,
            prev: None,
            count: 0,
            plus_dm: 0.0,
            minus_dm: 0.0,
            tr: 0.0,
            value: None,
        })
    }

    /// Update the Wilder sums; `Some(sum of TR)` once past the seeding, so the caller can tell
    /// a zero range.
    #[inline]
    fn step(&mut self, b: Bar) -> Option<f64> {
        let p = self.prev.replace(b)?;
        let up = b.high - p.high;
        let down = p.low - b.low;
        let tr = true_range(b.high, b.low, p.close);
        self.count += 1;
        #[allow(clippy::cast_precision_loss)]
        let nf = self.n as f64;
        if self.count >= self.n {
            self.minus_dm -= self.minus_dm / nf;
            self.plus_dm -= self.plus_dm / nf;
        }
        if down > 0.0 && up < down {
            self.minus_dm += down;
        } else if up > 0.0 && up > down {
            self.plus_dm += up;
        }
        if self.count >= self.n {
            self.tr = self.tr - self.tr / nf + tr;
            Some(self.tr)
        } else {
            self.tr += tr;
            None
        }
    }
}

impl Indicator for Dmi {
    type Input = Bar;
    type Output = DmiValue;

    #[inline]
    fn update(&mut self, b: Bar) -> Option<DmiValue> {
        let tr = self.step(b)?;
        self.value = Some(if is_zero(tr) {
            DmiValue {
                plus_di: 0.0,
                minus_di: 0.0,
            }
        } else {
            DmiValue {
                plus_di: 100.0 * (self.plus_dm / tr),
                minus_di: 100.0 * (self.minus_dm / tr),
            }
        });
        self.value
    }

    fn value(&self) -> Option<DmiValue> {
        self.value
    }

    fn reset(&mut self) {
        *self = Dmi::new(self.n).expect("period was valid");
    }
}

/// Average directional index: DX = 100·|+DI − −DI|/(+DI + −DI); the first ADX (index 2n−1)
/// is the mean of DX over indices n…2n−1, then ADX ← (ADX·(n−1) + DX)/n. A bar whose true
/// range or DI sum is within 1e-8 of zero leaves the ADX unchanged, as in TA-Lib.
#[derive(Debug, Clone)]
pub struct Adx {
    n: usize,
    dmi: Dmi,
    dx_count: usize,
    adx: f64,
    value: Option<f64>,
}

impl Adx {
    /// # Errors
    /// When `n` is 0.
    pub fn new(n: usize) -> Result<Self, TaError> {
        Ok(Adx {
            n,
            dmi: Dmi::new(n)?,
            dx_count: 0,
            adx: 0.0,
            value: None,
        })
    }

    /// The +DI and −DI of the latest bar.
    #[must_use]
    pub fn dmi(&self) -> Option<DmiValue> {
        self.dmi.value()
    }
}

impl Indicator for Adx {
    type Input = Bar;
    type Output = f64;

    #[inline]
    fn update(&mut self, b: Bar) -> Option<f64> {
        let tr = self.dmi.step(b)?;
        #[allow(clippy::cast_precision_loss)]
        let nf = self.n as f64;
        let dx = if is_zero(tr) {
            self.dmi.value = Some(DmiValue {
                plus_di: 0.0,
                minus_di: 0.0,
            });
            None
        } else {
            let plus = 100.0 * (self.dmi.plus_dm / tr);
            let minus = 100.0 * (self.dmi.minus_dm / tr);
            self.dmi.value = Some(DmiValue {
                plus_di: plus,
                minus_di: minus,
            });
            let sum = minus + plus;
            if is_zero(sum) {
                None
            } else {
                Some(100.0 * ((minus - plus).abs() / sum))
            }
        };
        if self.dx_count < self.n {
            self.dx_count += 1;
            if let Some(dx) = dx {
                self.adx += dx;
            }
            if self.dx_count == self.n {
                self.adx /= nf;
                self.value = Some(self.adx);
            }
            return self.value;
        }
        if let Some(dx) = dx {
            self.adx = (self.adx * (nf - 1.0) + dx) / nf;
        }
        self.value = Some(self.adx);
        self.value
    }

    fn value(&self) -> Option<f64> {
        self.value
    }

    fn reset(&mut self) {
        *self = Adx::new(self.n).expect("period was valid");
    }
}

/// Batch +DI.
///
/// # Errors
/// When `n` is 0 or the slices differ in length.
pub fn plus_di(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    n: usize,
    out: &mut [f64],
) -> Result<(), TaError> {
    let mut d = Dmi::new(n)?;
    let it = bars(high, low, close, None, out.len())?;
    for (o, b) in out.iter_mut().zip(it) {
        *o = d.update(b).map_or(f64::NAN, |v| v.plus_di);
    }
    Ok(())
}

/// Batch −DI.
///
/// # Errors
/// When `n` is 0 or the slices differ in length.
pub fn minus_di(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    n: usize,
    out: &mut [f64],
) -> Result<(), TaError> {
    let mut d = Dmi::new(n)?;
    let it = bars(high, low, close, None, out.len())?;
    for (o, b) in out.iter_mut().zip(it) {
        *o = d.update(b).map_or(f64::NAN, |v| v.minus_di);
    }
    Ok(())
}

/// Batch ADX.
///
/// # Errors
/// When `n` is 0 or the slices differ in length.
pub fn adx(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    n: usize,
    out: &mut [f64],
) -> Result<(), TaError> {
    let a = Adx::new(n)?;
    let it = bars(high, low, close, None, out.len())?;
    drive(a, it, out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::ohlcv;
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The DIs computed inside ADX are the DIs of `Dmi`, and all stay in [0, 100].
        #[test]
        fn adx_and_dmi_agree((h, l, c, _v) in ohlcv(), n in 1usize..20) {
            let mut d = Dmi::new(n).unwrap();
            let mut a = Adx::new(n).unwrap();
            for i in 0..h.len() {
                let b = Bar { high: h[i], low: l[i], close: c[i], volume: 0.0 };
                let dv = d.update(b);
                let av = a.update(b);
                prop_assert_eq!(dv, a.dmi());
                prop_assert_eq!(dv.is_some(), i >= n);
                prop_assert_eq!(av.is_some(), i + 1 >= 2 * n);
                if let Some(v) = av { prop_assert!((0.0..=100.0 + 1e-9).contains(&v)); }
            }
        }
    }
}
