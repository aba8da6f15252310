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
        #[allow(clippy::cast_precision_loss)]
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

/// Batch CCI.
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
    drive(c, it, out);
    Ok(())
}
