//! The watch set: the indicators an analysis's Watch section reads (EMA 20/50/200, RSI 14,
//! ATR 14, Bollinger 20/2, MACD 12/26/9, drawdown, realised volatility 30), computed in one
//! fused pass over the bars.
//!
//! [`watch_set`] reads each input once and keeps every indicator's state in locals, with the
//! same arithmetic, in the same order, as the individual batch functions: its outputs are equal
//! to theirs (a property test checks this). [`WatchSet`] is the streaming form.

use super::ma::ema_step;
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

/// From this bar on every member of the set is past its lookback (EMA 200 is the longest).
const STEADY_FROM: usize = 200;

/// Bars per block of logarithms taken ahead of the main loop.
const BLOCK: usize = 256;

/// Compute the watch set over bars in one pass. `bars_per_year` annualises the volatility.
///
/// The first [`STEADY_FROM`] bars go through the streaming forms ([`WatchSet`]); the main loop
/// then carries on from their state with the same arithmetic and no per-indicator state
/// machines, reading past values from the input (Bollinger's window) and from a block of
/// logarithms (the returns that leave the volatility window) instead of ring buffers.
///
/// # Errors
/// When an input slice or an output buffer has another length than `close`.
#[allow(clippy::too_many_lines, clippy::similar_names)]
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
    let (high, low, close) = (&high[..len], &low[..len], &close[..len]);
    let o_e20 = &mut out.ema_20[..len];
    let o_e50 = &mut out.ema_50[..len];
    let o_e200 = &mut out.ema_200[..len];
    let o_rsi = &mut out.rsi_14[..len];
    let o_atr = &mut out.atr_14[..len];
    let o_bbu = &mut out.bb_upper[..len];
    let o_bbm = &mut out.bb_middle[..len];
    let o_bbl = &mut out.bb_lower[..len];
    let o_macd = &mut out.macd[..len];
    let o_sig = &mut out.macd_signal[..len];
    let o_hist = &mut out.macd_hist[..len];
    let o_dd = &mut out.drawdown[..len];
    let o_rv = &mut out.rv_30[..len];

    // The head, through the streaming forms.
    let mut ws = WatchSet::new(bars_per_year);
    let head = STEADY_FROM.min(len);
    for i in 0..head {
        let v = ws
            .update(Bar {
                high: high[i],
                low: low[i],
                close: close[i],
                volume: 0.0,
            })
            .expect("the watch set always yields values");
        let nan = f64::NAN;
        o_e20[i] = v.ema_20.unwrap_or(nan);
        o_e50[i] = v.ema_50.unwrap_or(nan);
        o_e200[i] = v.ema_200.unwrap_or(nan);
        o_rsi[i] = v.rsi_14.unwrap_or(nan);
        o_atr[i] = v.atr_14.unwrap_or(nan);
        let b = v.bbands.unwrap_or(BbandsValue {
            upper: nan,
            middle: nan,
            lower: nan,
        });
        (o_bbu[i], o_bbm[i], o_bbl[i]) = (b.upper, b.middle, b.lower);
        let m = v.macd.unwrap_or(MacdValue {
            macd: nan,
            signal: nan,
            hist: nan,
        });
        (o_macd[i], o_sig[i], o_hist[i]) = (m.macd, m.signal, m.hist);
        o_dd[i] = v.drawdown.unwrap_or(nan);
        o_rv[i] = v.rv_30.unwrap_or(nan);
    }
    if len <= STEADY_FROM {
        return Ok(());
    }

    // The state, carried over.
    let [s20, s50, s200] = &ws.ema;
    let (mut e20, mut e50, mut e200) = (
        s20.value.unwrap_or(0.0),
        s50.value.unwrap_or(0.0),
        s200.value.unwrap_or(0.0),
    );
    let (k20, k50, k200) = (2.0 / 21.0, 2.0 / 51.0, 2.0 / 201.0);
    let (mut gain, mut loss) = (ws.rsi.gain, ws.rsi.loss);
    let mut atr = ws.atr.value.unwrap_or(0.0);
    let (wa, wb) = super::momentum::wilder(14);
    let bm = &ws.bb.m;
    let (mut anchor, mut bsum, mut bsq, mut since) =
        (bm.anchor, bm.sum, bm.sum_sq, bm.since_anchor);
    let (mut f, mut s, mut g) = (ws.macd.fast_ema, ws.macd.slow_ema, ws.macd.signal_ema);
    let (kf, ks, kg) = (2.0 / 13.0, 2.0 / 27.0, 2.0 / 10.0);
    let (mut peak, mut inv_peak) = (ws.dd.peak, ws.dd.inv_peak);
    let (mut rsum, mut rsq) = (ws.rv.w.sum, ws.rv.w.sum_sq);
    let rv_scale = bars_per_year.sqrt() * 100.0;

    // ln of close[start − 31 + j] at j, for returns leaving the 30-return window.
    const BACK: usize = 31;
    let mut lnb = [0.0f64; BACK + BLOCK];
    for (j, &x) in close[STEADY_FROM - BACK..STEADY_FROM].iter().enumerate() {
        lnb[j] = x.ln();
    }
    let mut start = STEADY_FROM;
    while start < len {
        let end = (start + BLOCK).min(len);
        let c = &close[start..end];
        let pcs = &close[start - 1..end - 1];
        for (l, &x) in lnb[BACK..].iter_mut().zip(c) {
            *l = x.ln();
        }
        // One tight loop per group of indicators over the block, the block's inputs staying in
        // L1: few live values per loop (no register spills) and independent recurrences side
        // by side.
        for (((&x, a), b), d) in c
            .iter()
            .zip(&mut o_e20[start..end])
            .zip(&mut o_e50[start..end])
            .zip(&mut o_e200[start..end])
        {
            e20 = ema_step(e20, x, k20);
            e50 = ema_step(e50, x, k50);
            e200 = ema_step(e200, x, k200);
            (*a, *b, *d) = (e20, e50, e200);
        }
        for (((&x, a), b), d) in c
            .iter()
            .zip(&mut o_macd[start..end])
            .zip(&mut o_sig[start..end])
            .zip(&mut o_hist[start..end])
        {
            f = ema_step(f, x, kf);
            s = ema_step(s, x, ks);
            let line = f - s;
            g = ema_step(g, line, kg);
            (*a, *b, *d) = (line, g, line - g);
        }
        let (h, l) = (&high[start..end], &low[start..end]);
        for k in 0..c.len() {
            let (x, pc) = (c[k], pcs[k]);
            let d = x - pc;
            gain = gain * wa + d.max(0.0) * wb;
            loss = loss * wa + (-d).max(0.0) * wb;
            let t = gain + loss;
            o_rsi[start + k] = if is_zero(t) { 0.0 } else { 100.0 * (gain / t) };
            atr = atr * wa + super::range::true_range(h[k], l[k], pc) * wb;
            o_atr[start + k] = atr;
        }
        for i in start..end {
            // Bollinger 20/2: `Moments::push` with the window read from the input.
            let x = close[i];
            let e = close[i - 20] - anchor;
            let dv = x - anchor;
            bsum += dv - e;
            bsq += dv * dv - e * e;
            since += 1;
            if since >= 20 {
                anchor = x;
                let (mut s1, mut q1) = (0.0, 0.0);
                for &v in &close[i - 19..=i] {
                    let dd = v - x;
                    s1 += dd;
                    q1 += dd * dd;
                }
                bsum = s1;
                bsq = q1;
                since = 0;
            }
            let m = bsum * (1.0 / 20.0);
            let mean = anchor + m;
            let var = bsq * (1.0 / 20.0) - m * m;
            let w = if var < 1e-8 { 0.0 } else { var.sqrt() } * 2.0;
            o_bbu[i] = mean + w;
            o_bbm[i] = mean;
            o_bbl[i] = mean - w;
        }
        for k in 0..c.len() {
            let x = c[k];
            o_dd[start + k] = if x > peak {
                peak = x;
                inv_peak = 1.0 / x;
                0.0
            } else {
                (x * inv_peak - 1.0) * 100.0
            };
            let j = k + BACK;
            let r = lnb[j] - lnb[j - 1];
            let old = lnb[j - 30] - lnb[j - 31];
            rsum += r - old;
            rsq += r * r - old * old;
            let rv = (rsq - rsum * rsum * (1.0 / 30.0)) * (1.0 / 29.0);
            o_rv[start + k] = rv.max(0.0).sqrt() * rv_scale;
        }
        // Keep the last BACK logarithms for the next block.
        let n = end - start;
        lnb.copy_within(n..n + BACK, 0);
        start = end;
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
