//! The watch set: the indicators an analysis's Watch section reads (EMA 20/50/200, RSI 14,
//! ATR 14, Bollinger 20/2, MACD 12/26/9, drawdown, realised volatility 30), computed in one
//! fused pass over the bars.
//!
//! [`watch_set`] reads each input once and keeps every indicator's state in locals, with the
//! same arithmetic, in the same order, as the individual batch functions: its outputs are equal
//! to theirs (a property test checks this). [`WatchSet`] is the streaming form.

use super::bbands::Moments;
use super::window::Ring;
use super::{
    Atr, Bar, Bbands, BbandsValue, Drawdown, Ema, Indicator, Macd, MacdValue, RealizedVol, Rsi,
    TaError, check_len, is_zero,
};

/// Output buffers of the fused kernel, one per series, each as long as the input.
#[derive(Debug, Clone, Default)]
pub struct WatchSetBuffers {
    pub ema_20: Vec<f64>,
    pub ema_50: Vec<f64>,
    pub ema_200: Vec<f64>,
    pub rsi_14: Vec<f64>,
    pub atr_14: Vec<f64>,
    pub bb_upper: Vec<f64>,
    pub bb_middle: Vec<f64>,
    pub bb_lower: Vec<f64>,
    pub macd: Vec<f64>,
    pub macd_signal: Vec<f64>,
    pub macd_hist: Vec<f64>,
    pub drawdown: Vec<f64>,
    pub rv_30: Vec<f64>,
}

impl WatchSetBuffers {
    /// Buffers for `len` bars.
    #[must_use]
    pub fn with_len(len: usize) -> Self {
        let v = || vec![0.0; len];
        WatchSetBuffers {
            ema_20: v(),
            ema_50: v(),
            ema_200: v(),
            rsi_14: v(),
            atr_14: v(),
            bb_upper: v(),
            bb_middle: v(),
            bb_lower: v(),
            macd: v(),
            macd_signal: v(),
            macd_hist: v(),
            drawdown: v(),
            rv_30: v(),
        }
    }

    /// (column name, series) pairs in a fixed order; names as in `../shared/oracle`.
    #[must_use]
    pub fn columns(&self) -> [(&'static str, &[f64]); 13] {
        [
            ("ema_20", &self.ema_20),
            ("ema_50", &self.ema_50),
            ("ema_200", &self.ema_200),
            ("rsi_14", &self.rsi_14),
            ("atr_14", &self.atr_14),
            ("bb_upper_20_2", &self.bb_upper),
            ("bb_middle_20_2", &self.bb_middle),
            ("bb_lower_20_2", &self.bb_lower),
            ("macd_12_26_9", &self.macd),
            ("macd_signal_12_26_9", &self.macd_signal),
            ("macd_hist_12_26_9", &self.macd_hist),
            ("drawdown", &self.drawdown),
            ("rv_30", &self.rv_30),
        ]
    }
}

/// An EMA's state inside the fused loop (same arithmetic as [`super::ema`]).
#[derive(Clone, Copy)]
struct EmaState {
    n: usize,
    nf: f64,
    k: f64,
    v: f64,
}

impl EmaState {
    #[allow(clippy::cast_precision_loss)]
    fn new(n: usize) -> Self {
        EmaState {
            n,
            nf: n as f64,
            k: 2.0 / (n as f64 + 1.0),
            v: 0.0,
        }
    }

    #[inline(always)]
    fn step<const STEADY: bool>(&mut self, i: usize, x: f64) -> f64 {
        if STEADY || i + 1 > self.n {
            self.v = (x - self.v) * self.k + self.v;
            self.v
        } else {
            self.v += x;
            if i + 1 == self.n {
                self.v /= self.nf;
                self.v
            } else {
                f64::NAN
            }
        }
    }
}

/// From this bar on every member of the set is past its lookback (EMA 200 is the longest).
const STEADY_FROM: usize = 200;

/// The state of every member of the watch set, with the arithmetic of the individual batch
/// functions. `step::<true>` is the branch-free form valid from [`STEADY_FROM`] on.
struct Fused {
    ema: [EmaState; 3],
    // RSI 14 and ATR 14 (Wilder; seeded over indices 1..=14)
    gain: f64,
    loss: f64,
    atr: f64,
    wa: f64,
    wb: f64,
    // Bollinger 20/2
    moments: Moments,
    // MACD 12/26/9: fast EMA seeded over bars 14..=25, slow over 0..=25, signal over 9 lines
    fsum: f64,
    ssum: f64,
    f: f64,
    s: f64,
    g: f64,
    // drawdown
    peak: f64,
    // realised volatility 30
    ring: Ring,
    rsum: f64,
    rsq: f64,
    rv_scale: f64,
}

const KF: f64 = 2.0 / 13.0;
const KS: f64 = 2.0 / 27.0;
const KG: f64 = 2.0 / 10.0;

impl Fused {
    fn new(bars_per_year: f64) -> Self {
        let (wa, wb) = super::momentum::wilder(14);
        Fused {
            ema: [EmaState::new(20), EmaState::new(50), EmaState::new(200)],
            gain: 0.0,
            loss: 0.0,
            atr: 0.0,
            wa,
            wb,
            moments: Moments::new(20),
            fsum: 0.0,
            ssum: 0.0,
            f: 0.0,
            s: 0.0,
            g: 0.0,
            peak: 0.0,
            ring: Ring::new(30),
            rsum: 0.0,
            rsq: 0.0,
            rv_scale: bars_per_year.sqrt() * 100.0,
        }
    }

    /// One bar: close `x`, its high and low, and the previous close `pc` (unused at i = 0).
    /// Returns the 13 outputs in [`WatchSetBuffers::columns`] order.
    #[inline(always)]
    #[allow(clippy::too_many_lines)]
    fn step<const STEADY: bool>(&mut self, i: usize, x: f64, h: f64, l: f64, pc: f64) -> [f64; 13] {
        let nan = f64::NAN;
        let [e20, e50, e200] = &mut self.ema;
        let (ema20, ema50, ema200) = (
            e20.step::<STEADY>(i, x),
            e50.step::<STEADY>(i, x),
            e200.step::<STEADY>(i, x),
        );

        let (rsi, atr) = if STEADY || i > 14 {
            let d = x - pc;
            let tr = super::range::true_range(h, l, pc);
            self.gain = self.gain * self.wa + d.max(0.0) * self.wb;
            self.loss = self.loss * self.wa + (-d).max(0.0) * self.wb;
            self.atr = self.atr * self.wa + tr * self.wb;
            let t = self.gain + self.loss;
            (
                if is_zero(t) {
                    0.0
                } else {
                    100.0 * (self.gain / t)
                },
                self.atr,
            )
        } else if i == 0 {
            (nan, nan)
        } else {
            let d = x - pc;
            if d < 0.0 {
                self.loss -= d;
            } else {
                self.gain += d;
            }
            self.atr += super::range::true_range(h, l, pc);
            if i == 14 {
                self.loss /= 14.0;
                self.gain /= 14.0;
                self.atr /= 14.0;
                let t = self.gain + self.loss;
                (
                    if is_zero(t) {
                        0.0
                    } else {
                        100.0 * (self.gain / t)
                    },
                    self.atr,
                )
            } else {
                (nan, nan)
            }
        };

        let (bu, bm, bl) = match self.moments.push(x) {
            Some((mean, var)) => {
                let w = if var < 1e-8 { 0.0 } else { var.sqrt() } * 2.0;
                (mean + w, mean, mean - w)
            }
            None => (nan, nan, nan),
        };

        let (line, signal, hist) = if STEADY || i > 33 {
            self.f = (x - self.f) * KF + self.f;
            self.s = (x - self.s) * KS + self.s;
            let line = self.f - self.s;
            self.g = (line - self.g) * KG + self.g;
            (line, self.g, line - self.g)
        } else if i < 25 {
            self.ssum += x;
            if i >= 14 {
                self.fsum += x;
            }
            (nan, nan, nan)
        } else if i == 25 {
            self.ssum += x;
            self.fsum += x;
            self.f = self.fsum / 12.0;
            self.s = self.ssum / 26.0;
            self.g = self.f - self.s;
            (nan, nan, nan)
        } else {
            self.f = (x - self.f) * KF + self.f;
            self.s = (x - self.s) * KS + self.s;
            let line = self.f - self.s;
            if i == 33 {
                self.g = (self.g + line) / 9.0;
                (line, self.g, line - self.g)
            } else {
                self.g += line;
                (nan, nan, nan)
            }
        };

        if i == 0 || x > self.peak {
            self.peak = x;
        }
        let drawdown = (x / self.peak - 1.0) * 100.0;

        let rv = if !STEADY && i == 0 {
            nan
        } else {
            let r = (x / pc).ln();
            if let Some(old) = self.ring.push(r) {
                self.rsum -= old;
                self.rsq -= old * old;
            }
            self.rsum += r;
            self.rsq += r * r;
            if STEADY || i >= 30 {
                let var = (self.rsq - self.rsum * self.rsum / 30.0) / 29.0;
                var.max(0.0).sqrt() * self.rv_scale
            } else {
                nan
            }
        };
        [
            ema20, ema50, ema200, rsi, atr, bu, bm, bl, line, signal, hist, drawdown, rv,
        ]
    }
}

/// Compute the watch set over bars in one pass. `bars_per_year` annualises the volatility.
///
/// # Errors
/// When an input slice or an output buffer has another length than `close`.
pub fn watch_set(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    bars_per_year: f64,
    out: &mut WatchSetBuffers,
) -> Result<(), TaError> {
    let len = close.len();
    check_len("high", high.len(), len)?;
    check_len("low", low.len(), len)?;
    for (name, col) in out.columns() {
        check_len(name, col.len(), len)?;
    }
    let mut st = Fused::new(bars_per_year);
    let WatchSetBuffers {
        ema_20,
        ema_50,
        ema_200,
        rsi_14,
        atr_14,
        bb_upper,
        bb_middle,
        bb_lower,
        macd,
        macd_signal,
        macd_hist,
        drawdown,
        rv_30,
    } = out;
    let mut cols: [&mut [f64]; 13] = [
        &mut ema_20[..len],
        &mut ema_50[..len],
        &mut ema_200[..len],
        &mut rsi_14[..len],
        &mut atr_14[..len],
        &mut bb_upper[..len],
        &mut bb_middle[..len],
        &mut bb_lower[..len],
        &mut macd[..len],
        &mut macd_signal[..len],
        &mut macd_hist[..len],
        &mut drawdown[..len],
        &mut rv_30[..len],
    ];
    let (high, low, close) = (&high[..len], &low[..len], &close[..len]);
    let head = STEADY_FROM.min(len);
    for i in 0..head {
        let pc = if i == 0 { close[0] } else { close[i - 1] };
        let v = st.step::<false>(i, close[i], high[i], low[i], pc);
        for (c, v) in cols.iter_mut().zip(v) {
            c[i] = v;
        }
    }
    for i in head..len {
        let v = st.step::<true>(i, close[i], high[i], low[i], close[i - 1]);
        for (c, v) in cols.iter_mut().zip(v) {
            c[i] = v;
        }
    }
    Ok(())
}

/// The latest values of the watch set, `None` where an indicator is still in its lookback.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WatchValues {
    pub close: f64,
    pub ema_20: Option<f64>,
    pub ema_50: Option<f64>,
    pub ema_200: Option<f64>,
    pub rsi_14: Option<f64>,
    pub atr_14: Option<f64>,
    pub bbands: Option<BbandsValue>,
    pub macd: Option<MacdValue>,
    pub drawdown: Option<f64>,
    pub rv_30: Option<f64>,
}

/// The streaming watch set.
#[derive(Debug, Clone)]
pub struct WatchSet {
    ema: [Ema; 3],
    rsi: Rsi,
    atr: Atr,
    bb: Bbands,
    macd: Macd,
    dd: Drawdown,
    rv: RealizedVol,
    bars_per_year: f64,
    value: Option<WatchValues>,
}

impl WatchSet {
    /// A streaming watch set; `bars_per_year` annualises the volatility.
    ///
    /// # Panics
    /// Never: the periods are fixed and valid.
    #[must_use]
    pub fn new(bars_per_year: f64) -> Self {
        WatchSet {
            ema: [Ema::new(20), Ema::new(50), Ema::new(200)].map(|e| e.expect("valid period")),
            rsi: Rsi::new(14).expect("valid period"),
            atr: Atr::new(14).expect("valid period"),
            bb: Bbands::new(20, 2.0).expect("valid period"),
            macd: Macd::new(12, 26, 9).expect("valid periods"),
            dd: Drawdown::new(),
            rv: RealizedVol::new(30, bars_per_year).expect("valid period"),
            bars_per_year,
            value: None,
        }
    }
}

impl Indicator for WatchSet {
    type Input = Bar;
    type Output = WatchValues;

    fn update(&mut self, b: Bar) -> Option<WatchValues> {
        let [e20, e50, e200] = &mut self.ema;
        let v = WatchValues {
            close: b.close,
            ema_20: e20.update(b.close),
            ema_50: e50.update(b.close),
            ema_200: e200.update(b.close),
            rsi_14: self.rsi.update(b.close),
            atr_14: self.atr.update(b),
            bbands: self.bb.update(b.close),
            macd: self.macd.update(b.close),
            drawdown: self.dd.update(b.close),
            rv_30: self.rv.update(b.close),
        };
        self.value = Some(v);
        self.value
    }

    fn value(&self) -> Option<WatchValues> {
        self.value
    }

    fn reset(&mut self) {
        *self = WatchSet::new(self.bars_per_year);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{ohlcv, same};
    use super::super::{IndicatorSpec, Ohlcv};
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// The fused kernel equals the individual batch functions, and the streaming watch set.
        #[test]
        fn fused_equals_individual((h, l, c, v) in ohlcv().prop_map(|(h, l, c, v)| {
            // long enough to get past EMA 200's lookback
            let r = |x: &Vec<f64>| x.iter().cycle().take(x.len() * 3).copied().collect::<Vec<f64>>();
            (r(&h), r(&l), r(&c), r(&v))
        })) {
            let len = c.len();
            let mut w = WatchSetBuffers::with_len(len);
            watch_set(&h, &l, &c, 365.0, &mut w).unwrap();
            let d = Ohlcv { open: c.clone(), high: h.clone(), low: l.clone(), close: c.clone(), volume: v };
            let specs = IndicatorSpec::parse_list("ema:20,ema:50,ema:200,rsi:14,atr:14,bbands:20:2,macd:12:26:9,drawdown,rv:30").unwrap();
            let mut individual = vec![];
            for s in &specs {
                individual.extend(s.columns().into_iter().zip(s.compute(&d, 365.0).unwrap()));
            }
            for (name, fused) in w.columns() {
                let (_, want) = individual.iter().find(|(n, _)| n == name).unwrap();
                for i in 0..len {
                    prop_assert!(same(fused[i], want[i]), "{} i={} fused={} individual={}", name, i, fused[i], want[i]);
                }
            }
            let mut s = WatchSet::new(365.0);
            for i in 0..len {
                let v = s.update(Bar { high: h[i], low: l[i], close: c[i], volume: 0.0 }).unwrap();
                prop_assert!(same(v.rsi_14.unwrap_or(f64::NAN), w.rsi_14[i]));
                prop_assert!(same(v.macd.map_or(f64::NAN, |m| m.signal), w.macd_signal[i]));
                prop_assert!(same(v.rv_30.unwrap_or(f64::NAN), w.rv_30[i]));
                prop_assert!(same(v.ema_200.unwrap_or(f64::NAN), w.ema_200[i]));
            }
        }
    }
}
