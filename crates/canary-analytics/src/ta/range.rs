//! Ranges: true range, ATR (Wilder) and NATR.

use super::momentum::wilder;
use super::{Bar, Indicator, TaError, check_hlc, check_period, is_zero};

/// ATR with Wilder's smoothing, seeded as TA-Lib does.
pub const ATR_WILDER: canary_model::Method = canary_model::Method::new("atr_wilder_talib", 1);

/// max(high − low, |high − prev close|, |low − prev close|), TA-Lib's order of comparisons.
#[inline]
pub(crate) fn true_range(high: f64, low: f64, prev_close: f64) -> f64 {
    // Selects rather than branches: which term wins is data-dependent and unpredictable.
    let tr = high - low;
    let a = (prev_close - high).abs();
    let tr = if a > tr { a } else { tr };
    let b = (prev_close - low).abs();
    if b > tr { b } else { tr }
}

/// True range; the first value is at index 1 (it needs the previous close).
#[derive(Debug, Clone, Default)]
pub struct TrueRange {
    prev_close: Option<f64>,
    value: Option<f64>,
}

impl TrueRange {
    #[must_use]
    pub fn new() -> Self {
        TrueRange::default()
    }
}

impl Indicator for TrueRange {
    type Input = Bar;
    type Output = f64;

    #[inline]
    fn update(&mut self, b: Bar) -> Option<f64> {
        if let Some(pc) = self.prev_close.replace(b.close) {
            self.value = Some(true_range(b.high, b.low, pc));
        }
        self.value
    }

    fn value(&self) -> Option<f64> {
        self.value
    }

    fn reset(&mut self) {
        *self = TrueRange::default();
    }
}

/// Batch true range.
///
/// # Errors
/// When the slices differ in length.
pub fn trange(high: &[f64], low: &[f64], close: &[f64], out: &mut [f64]) -> Result<(), TaError> {
    check_hlc(high, low, close, None, out.len())?;
    if let Some(o) = out.first_mut() {
        *o = f64::NAN;
    }
    for i in 1..high.len() {
        out[i] = true_range(high[i], low[i], close[i - 1]);
    }
    Ok(())
}

/// Average true range: the mean of the first n true ranges (indices 1…n), then Wilder
/// smoothing; the first value is at index n.
///
/// The smoothing p_i = p_{i−1}·a + tr_i·b (a = (n−1)/n, b = 1/n) is taken two bars per step,
/// pairing bars n+1 and n+2, n+3 and n+4, …: the first of a pair as written, the second as
/// p_i = p_{i−2}·a² + (tr_{i−1}·b·a + tr_i·b). The same values to within a few ulps, but the
/// batch form's dependency chain is one multiply and one add per two bars instead of per bar.
/// Streaming, batch, NATR and the fused watch set all pair the same bars, so they agree to
/// the bit.
#[derive(Debug, Clone)]
pub struct Atr {
    n: usize,
    tr: TrueRange,
    count: usize,
    pub(crate) value: Option<f64>,
    /// Whether the next smoothed bar is the first of a pair.
    pub(crate) first_of_pair: bool,
    /// For the second of a pair: the ATR before the first, and the first's tr·b.
    pub(crate) anchor: f64,
    pub(crate) first_term: f64,
}

impl Atr {
    /// # Errors
    /// When `n` is 0.
    pub fn new(n: usize) -> Result<Self, TaError> {
        check_period("ATR", n, 1)?;
        Ok(Atr {
            n,
            tr: TrueRange::new(),
            count: 0,
            value: None,
            first_of_pair: true,
            anchor: 0.0,
            first_term: 0.0,
        })
    }
}

/// The second bar of a smoothing pair: from the ATR before the first bar (`anchor`) and both
/// bars' tr·b terms.
#[inline(always)]
pub(crate) fn atr_pair_step(anchor: f64, first_term: f64, term: f64, a: f64) -> f64 {
    anchor * (a * a) + (first_term * a + term)
}

impl Indicator for Atr {
    type Input = Bar;
    type Output = f64;

    #[inline]
    fn update(&mut self, b: Bar) -> Option<f64> {
        let tr = self.tr.update(b)?;
        let nf = self.n as f64;
        if self.count < self.n {
            // Accumulate the seed sum in `value`'s place.
            self.count += 1;
            let sum = self.value.unwrap_or(0.0) + tr;
            if self.count == self.n {
                self.value = Some(sum / nf);
                return self.value;
            }
            self.value = Some(sum);
            return None;
        }
        let prev = self.value.unwrap_or(0.0);
        let (a, b) = wilder(self.n);
        let term = tr * b;
        self.value = Some(if self.first_of_pair {
            (self.anchor, self.first_term) = (prev, term);
            prev * a + term
        } else {
            atr_pair_step(self.anchor, self.first_term, term, a)
        });
        self.first_of_pair = !self.first_of_pair;
        self.value
    }

    fn value(&self) -> Option<f64> {
        if self.count < self.n {
            None
        } else {
            self.value
        }
    }

    fn reset(&mut self) {
        *self = Atr::new(self.n).expect("period was valid");
    }
}

/// Check the inputs, fill the lookback with NaN and return the first ATR (the mean of the
/// true ranges at indices 1…n); `None` when the series is too short for one.
fn atr_seed(
    name: &'static str,
    high: &[f64],
    low: &[f64],
    close: &[f64],
    n: usize,
    out: &mut [f64],
) -> Result<Option<f64>, TaError> {
    check_period(name, n, 1)?;
    check_hlc(high, low, close, None, out.len())?;
    if high.len() <= n {
        out.fill(f64::NAN);
        return Ok(None);
    }
    let nf = n as f64;
    let sum: f64 = (1..=n)
        .map(|i| true_range(high[i], low[i], close[i - 1]))
        .sum();
    out[..n].fill(f64::NAN);
    Ok(Some(sum / nf))
}

/// Batch ATR.
///
/// # Errors
/// When `n` is 0 or the slices differ in length.
pub fn atr(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    n: usize,
    out: &mut [f64],
) -> Result<(), TaError> {
    let Some(mut prev) = atr_seed("ATR", high, low, close, n, out)? else {
        return Ok(());
    };
    out[n] = prev;
    let (a, b) = wilder(n);
    let len = high.len();
    let mut i = n + 1;
    while i + 1 < len {
        let t1 = true_range(high[i], low[i], close[i - 1]) * b;
        let t2 = true_range(high[i + 1], low[i + 1], close[i]) * b;
        out[i] = prev * a + t1;
        prev = atr_pair_step(prev, t1, t2, a);
        out[i + 1] = prev;
        i += 2;
    }
    if i < len {
        out[i] = prev * a + true_range(high[i], low[i], close[i - 1]) * b;
    }
    Ok(())
}

/// Normalised ATR: ATR / close · 100 (0 when the close is within 1e-8 of zero).
#[derive(Debug, Clone)]
pub struct Natr {
    atr: Atr,
    value: Option<f64>,
}

impl Natr {
    /// # Errors
    /// When `n` is 0.
    pub fn new(n: usize) -> Result<Self, TaError> {
        Ok(Natr {
            atr: Atr::new(n)?,
            value: None,
        })
    }
}

#[inline]
fn natr_of(atr: f64, close: f64) -> f64 {
    // Computed unconditionally, then selected: a select vectorises, a branch does not.
    let v = (atr / close) * 100.0;
    if is_zero(close) { 0.0 } else { v }
}

impl Indicator for Natr {
    type Input = Bar;
    type Output = f64;

    #[inline]
    fn update(&mut self, b: Bar) -> Option<f64> {
        if let Some(a) = self.atr.update(b) {
            self.value = Some(natr_of(a, b.close));
        }
        self.value
    }

    fn value(&self) -> Option<f64> {
        self.value
    }

    fn reset(&mut self) {
        self.atr.reset();
        self.value = None;
    }
}

/// Batch NATR.
///
/// # Errors
/// When `n` is 0 or the slices differ in length.
pub fn natr(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    n: usize,
    out: &mut [f64],
) -> Result<(), TaError> {
    let Some(mut prev) = atr_seed("NATR", high, low, close, n, out)? else {
        return Ok(());
    };
    let len = high.len();
    out[n] = natr_of(prev, close[n]);
    let (a, b) = wilder(n);
    // Two bars per step as ATR pairs them, with both divisions side by side so they can share
    // a vector divide.
    let mut i = n + 1;
    while i + 1 < len {
        let t1 = true_range(high[i], low[i], close[i - 1]) * b;
        let t2 = true_range(high[i + 1], low[i + 1], close[i]) * b;
        let p1 = prev * a + t1;
        let p2 = atr_pair_step(prev, t1, t2, a);
        let q = [p1 / close[i], p2 / close[i + 1]];
        out[i] = if is_zero(close[i]) { 0.0 } else { q[0] * 100.0 };
        out[i + 1] = if is_zero(close[i + 1]) {
            0.0
        } else {
            q[1] * 100.0
        };
        prev = p2;
        i += 2;
    }
    if i < len {
        prev = prev * a + true_range(high[i], low[i], close[i - 1]) * b;
        out[i] = natr_of(prev, close[i]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::drive;
    use super::super::testutil::{ohlcv, same, same_bits};
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn streaming_equals_batch((h, l, c, _v) in ohlcv(), n in 1usize..30) {
            let len = h.len();
            let bars: Vec<Bar> = (0..len).map(|i| Bar { high: h[i], low: l[i], close: c[i], volume: 0.0 }).collect();
            let (mut a, mut b) = (vec![0.0; len], vec![0.0; len]);
            trange(&h, &l, &c, &mut a).unwrap();
            drive(TrueRange::new(), bars.iter().copied(), &mut b);
            for i in 0..len { prop_assert!(same(a[i], b[i]), "trange i={}", i); }
            atr(&h, &l, &c, n, &mut a).unwrap();
            drive(Atr::new(n).unwrap(), bars.iter().copied(), &mut b);
            for i in 0..len { prop_assert!(same_bits(a[i], b[i]), "atr i={} {} {}", i, a[i], b[i]); }
            natr(&h, &l, &c, n, &mut a).unwrap();
            drive(Natr::new(n).unwrap(), bars.iter().copied(), &mut b);
            for i in 0..len { prop_assert!(same_bits(a[i], b[i]), "natr i={}", i); }
        }
    }
}
