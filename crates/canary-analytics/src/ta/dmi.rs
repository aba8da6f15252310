//! Directional movement: +DI, −DI and ADX (Wilder), as TA-Lib computes them.

use super::momentum::wilder;
use super::range::true_range;
use super::{Bar, Indicator, TaError, check_hlc, check_period, is_zero};

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
        let (pdm, mdm) = directional_moves(b.high - p.high, p.low - b.low);
        let tr = true_range(b.high, b.low, p.close);
        self.count += 1;
        if self.count >= self.n {
            let (a, _) = wilder(self.n);
            self.plus_dm = self.plus_dm * a + pdm;
            self.minus_dm = self.minus_dm * a + mdm;
            self.tr = self.tr * a + tr;
            Some(self.tr)
        } else {
            self.plus_dm += pdm;
            self.minus_dm += mdm;
            self.tr += tr;
            None
        }
    }
}

/// +DM and −DM of one bar from up = high − previous high and down = previous low − low:
/// only the larger move counts, and only when positive.
#[inline]
fn directional_moves(up: f64, down: f64) -> (f64, f64) {
    let plus = if up > 0.0 && up > down { up } else { 0.0 };
    let minus = if down > 0.0 && down > up { down } else { 0.0 };
    (plus, minus)
}

/// (+DI, −DI) from the Wilder sums; (0, 0) when the true-range sum is within 1e-8 of zero.
#[inline]
fn di(plus_dm: f64, minus_dm: f64, tr: f64) -> (f64, f64) {
    if is_zero(tr) {
        (0.0, 0.0)
    } else {
        let k = 100.0 / tr;
        (plus_dm * k, minus_dm * k)
    }
}

/// DX from the DIs, `None` when their sum is within 1e-8 of zero.
#[inline]
fn dx(plus: f64, minus: f64) -> Option<f64> {
    let sum = minus + plus;
    if is_zero(sum) {
        None
    } else {
        Some(100.0 * ((minus - plus).abs() / sum))
    }
}

impl Indicator for Dmi {
    type Input = Bar;
    type Output = DmiValue;

    #[inline]
    fn update(&mut self, b: Bar) -> Option<DmiValue> {
        let tr = self.step(b)?;
        let (plus_di, minus_di) = di(self.plus_dm, self.minus_dm, tr);
        self.value = Some(DmiValue { plus_di, minus_di });
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
    smoothed: f64,
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
            smoothed: 0.0,
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
        let (plus_di, minus_di) = di(self.dmi.plus_dm, self.dmi.minus_dm, tr);
        self.dmi.value = Some(DmiValue { plus_di, minus_di });
        // TA-Lib skips DX (keeps ADX) when the true-range sum is zero.
        let dx = if is_zero(tr) {
            None
        } else {
            dx(plus_di, minus_di)
        };
        if self.dx_count < self.n {
            self.dx_count += 1;
            if let Some(dx) = dx {
                self.smoothed += dx;
            }
            if self.dx_count == self.n {
                let nf = self.n as f64;
                self.smoothed /= nf;
                self.value = Some(self.smoothed);
            }
            return self.value;
        }
        if let Some(dx) = dx {
            let (a, b) = wilder(self.n);
            self.smoothed = self.smoothed * a + dx * b;
        }
        self.value = Some(self.smoothed);
        self.value
    }

    fn value(&self) -> Option<f64> {
        self.value
    }

    fn reset(&mut self) {
        *self = Adx::new(self.n).expect("period was valid");
    }
}

/// Which series a batch pass writes.
#[derive(Clone, Copy, PartialEq)]
enum Which {
    Plus,
    Minus,
    Adx,
}

/// One batch pass over the bars, the streaming arithmetic without the per-bar state machine.
fn dmi_batch(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    n: usize,
    which: Which,
    out: &mut [f64],
) -> Result<(), TaError> {
    check_period("DMI", n, 1)?;
    check_hlc(high, low, close, None, out.len())?;
    let len = high.len();
    let first = if which == Which::Adx { 2 * n - 1 } else { n };
    out[..first.min(len)].fill(f64::NAN);
    if len <= n {
        return Ok(());
    }
    let (mut pdm, mut mdm, mut tr) = (0.0, 0.0, 0.0);
    for i in 1..n {
        let (p, m) = directional_moves(high[i] - high[i - 1], low[i - 1] - low[i]);
        pdm += p;
        mdm += m;
        tr += true_range(high[i], low[i], close[i - 1]);
    }
    let (a, b) = wilder(n);
    let mut adx = 0.0;
    for i in n..len {
        let (p, m) = directional_moves(high[i] - high[i - 1], low[i - 1] - low[i]);
        pdm = pdm * a + p;
        mdm = mdm * a + m;
        tr = tr * a + true_range(high[i], low[i], close[i - 1]);
        let (plus, minus) = di(pdm, mdm, tr);
        match which {
            Which::Plus => out[i] = plus,
            Which::Minus => out[i] = minus,
            Which::Adx => {
                let dx = if is_zero(tr) { None } else { dx(plus, minus) };
                match i.cmp(&(2 * n - 1)) {
                    std::cmp::Ordering::Less => adx += dx.unwrap_or(0.0),
                    std::cmp::Ordering::Equal => {
                        adx += dx.unwrap_or(0.0);
                        let nf = n as f64;
                        adx /= nf;
                        out[i] = adx;
                    }
                    std::cmp::Ordering::Greater => {
                        if let Some(dx) = dx {
                            adx = adx * a + dx * b;
                        }
                        out[i] = adx;
                    }
                }
            }
        }
    }
    Ok(())
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
    dmi_batch(high, low, close, n, Which::Plus, out)
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
    dmi_batch(high, low, close, n, Which::Minus, out)
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
    dmi_batch(high, low, close, n, Which::Adx, out)
}

#[cfg(test)]
mod tests {
    use super::super::drive;
    use super::super::testutil::{ohlcv, same};
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn streaming_equals_batch((h, l, c, _v) in ohlcv(), n in 1usize..20) {
            let len = h.len();
            let bars: Vec<Bar> = (0..len).map(|i| Bar { high: h[i], low: l[i], close: c[i], volume: 0.0 }).collect();
            let (mut a, mut b) = (vec![0.0; len], vec![0.0; len]);
            adx(&h, &l, &c, n, &mut a).unwrap();
            drive(Adx::new(n).unwrap(), bars.iter().copied(), &mut b);
            for i in 0..len { prop_assert!(same(a[i], b[i]), "adx i={} {} {}", i, a[i], b[i]); }
            plus_di(&h, &l, &c, n, &mut a).unwrap();
            minus_di(&h, &l, &c, n, &mut b).unwrap();
            let mut d = Dmi::new(n).unwrap();
            for i in 0..len {
                let v = d.update(bars[i]);
                prop_assert!(same(a[i], v.map_or(f64::NAN, |v| v.plus_di)), "+di i={}", i);
                prop_assert!(same(b[i], v.map_or(f64::NAN, |v| v.minus_di)), "-di i={}", i);
            }
        }

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
