//! The watch set: the indicators an analysis's Watch section reads (EMA 20/50/200, RSI 14,
//! ATR 14, Bollinger 20/2, MACD 12/26/9, drawdown, realised volatility 30), computed in one
//! fused pass over the bars.
//!
//! [`watch_set`] reads the series once, 64 bars at a time (each block taken in a few passes
//! while it sits in the L1 cache), and keeps every indicator's state in locals, with the same
//! arithmetic, in the same order, as the individual batch functions: its outputs are equal to
//! theirs (a property test checks this). [`WatchSet`] is the streaming form.

use super::bbands::{REANCHOR, deviation_sums, sigma};
use super::ln::ln_slice;
use super::ma::ema_step;
use super::range::atr_pair_step;
use super::simd::{self, Level};
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
    pub fn columns(&self) -> [(&'static str, &[f64]); COLUMNS] {
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

    /// The series, mutable, in [`Self::columns`] order.
    fn columns_mut(&mut self) -> [&mut [f64]; COLUMNS] {
        [
            &mut self.ema_20,
            &mut self.ema_50,
            &mut self.ema_200,
            &mut self.rsi_14,
            &mut self.atr_14,
            &mut self.bb_upper,
            &mut self.bb_middle,
            &mut self.bb_lower,
            &mut self.macd,
            &mut self.macd_signal,
            &mut self.macd_hist,
            &mut self.drawdown,
            &mut self.rv_30,
        ]
    }
}

/// Series in the watch set.
const COLUMNS: usize = 13;

/// From this bar on every member of the set is past its lookback (EMA 200 is the longest).
const STEADY_FROM: usize = 200;

/// Bars per block. Bollinger's sums are re-anchored before bars whose index is a multiple of
/// [`REANCHOR`], so blocks start there (a divisor of it).
const BLOCK: usize = 64;
// The steady loop's ATR pairs start on an even bar and never straddle a block.
const _: () = assert!(STEADY_FROM.is_multiple_of(2) && BLOCK.is_multiple_of(2));

/// Returns a block reads back from before its start: the volatility window's 30 plus one.
const BACK: usize = 31;

/// From this many bars on (13 outputs of 8 bytes: about 109 MB, more than any processor's
/// last-level cache) the outputs may be written with stores that bypass the caches, when the
/// path asks for it. Below it the outputs stay in a cache, where such stores only cost.
pub const STREAM_FROM: usize = 1 << 20;

/// Compute the watch set over bars in one pass. `bars_per_year` annualises the volatility.
///
/// The first [`STEADY_FROM`] bars go through the streaming forms ([`WatchSet`]); the rest is
/// taken in blocks of [`BLOCK`] bars, carrying on from their state with the same arithmetic.
/// Each block makes three passes, so that only the recurrences run one bar at a time:
///
/// 1. element-wise (vectorised by the compiler): logarithms, the returns entering and leaving
///    the volatility window, Bollinger's deviations, RSI's gains and losses, true ranges;
/// 2. the recurrences, in two loops of independent chains: the five EMAs and MACD's signal;
///    RSI's and ATR's Wilder averages, the two pairs of running sums and the running high;
/// 3. element-wise again: RSI, Bollinger's bands, volatility, drawdown, MACD's histogram
///    (the divisions and square roots, several at a time).
///
/// The block's outputs are assembled in a small buffer and then copied out. This function runs
/// the plain path (the widest vector tier the processor has, ordinary stores);
/// [`watch_set_with`] takes another, such as stores that bypass the caches for series of
/// [`STREAM_FROM`] bars or more (see [`super::simd`]). All paths give the same bits (no fused
/// multiply-adds: the operations and their order are the same).
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
    watch_set_with(high, low, close, bars_per_year, out, WatchPath::PLAIN)
}

/// [`watch_set`] on a chosen path (see [`WatchPath`]; [`calibrate`] measures which is
/// fastest on this processor). Every path gives the same bits.
///
/// # Errors
/// As [`watch_set`].
pub fn watch_set_with(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    bars_per_year: f64,
    out: &mut WatchSetBuffers,
    path: WatchPath,
) -> Result<(), TaError> {
    let len = close.len();
    check_len("high", high.len(), len)?;
    check_len("low", low.len(), len)?;
    for (name, col) in out.columns() {
        check_len(name, col.len(), len)?;
    }
    let path = Path {
        simd: level(path.simd),
        stream: path.stream && len >= STREAM_FROM,
    };
    run(high, low, close, bars_per_year, out, path);
    Ok(())
}

/// The kernel's level for a tier.
fn level(simd: Simd) -> Level {
    match simd {
        Simd::Baseline => Level::Baseline,
        Simd::Avx2 => Level::Avx2,
        Simd::Avx512 => Level::Avx512,
    }
}

/// The widest vector instructions the kernel may use; a processor without them runs the next
/// narrower tier it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Simd {
    /// The x86-64 baseline (SSE2): any x86-64 processor.
    Baseline,
    /// AVX2 when the processor has it.
    Avx2,
    /// AVX-512 when the processor has it, else AVX2.
    Avx512,
}

/// How the fused kernel runs: its widest vector tier, and whether a long series' outputs are
/// written with stores that bypass the caches (from 65,536 bars). Which is fastest depends on
/// the processor (streaming stores halve memory traffic on some, and cost more than they save
/// on others); every path gives the same bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WatchPath {
    pub simd: Simd,
    pub stream: bool,
}

impl WatchPath {
    /// The default without measuring: the widest tier, ordinary stores.
    pub const PLAIN: WatchPath = WatchPath {
        simd: Simd::Avx512,
        stream: false,
    };

    /// Every path, widest tier first.
    #[must_use]
    pub fn all() -> [WatchPath; 6] {
        let p = |simd, stream| WatchPath { simd, stream };
        [
            p(Simd::Avx512, false),
            p(Simd::Avx512, true),
            p(Simd::Avx2, false),
            p(Simd::Avx2, true),
            p(Simd::Baseline, false),
            p(Simd::Baseline, true),
        ]
    }

    /// The path as it runs on this processor: its tier narrowed to the widest the processor
    /// has (`avx512` runs as `avx2` on one without AVX-512). What a report of a timing names.
    #[must_use]
    pub fn on_this_processor(self) -> WatchPath {
        let simd = match super::simd::widest(level(self.simd)) {
            Level::Baseline => Simd::Baseline,
            Level::Avx2 => Simd::Avx2,
            Level::Avx512 => Simd::Avx512,
        };
        WatchPath { simd, ..self }
    }

    /// A path from its names as in `CANARY_SIMD` (`baseline`, `avx2`, `avx512`) and
    /// `CANARY_STREAM` (`0`, `1`); an absent part takes [`WatchPath::PLAIN`]'s.
    ///
    /// # Errors
    /// A name that is none of these.
    pub fn parse(simd: Option<&str>, stream: Option<&str>) -> Result<WatchPath, String> {
        let simd = match simd.map(str::trim) {
            None => Self::PLAIN.simd,
            Some("baseline") => Simd::Baseline,
            Some("avx2") => Simd::Avx2,
            Some("avx512") => Simd::Avx512,
            Some(x) => return Err(format!("{x:?}: use baseline, avx2 or avx512")),
        };
        let stream = match stream.map(str::trim) {
            None => Self::PLAIN.stream,
            Some("0") => false,
            Some("1") => true,
            Some(x) => return Err(format!("{x:?}: use 0 or 1")),
        };
        Ok(WatchPath { simd, stream })
    }
}

impl std::fmt::Display for WatchPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let simd = match self.simd {
            Simd::Baseline => "baseline",
            Simd::Avx2 => "avx2",
            Simd::Avx512 => "avx512",
        };
        write!(f, "{simd}{}", if self.stream { "+stream" } else { "" })
    }
}

/// Bars of the series that chooses the vector tier: small enough to stay in cache, where
/// the tiers differ most.
pub const TIER_BARS: usize = 1 << 14;

/// A calibration series of `n` bars: a wavy walk (no randomness needed, only work).
fn calibration_series(n: usize) -> [Vec<f64>; 3] {
    let (mut h, mut l, mut c) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let mut p = 60_000.0f64;
    for i in 0..n {
        let x = i as f64;
        p *= 1.0 + 0.002 * (x * 0.37).sin() + 0.001 * (x * 0.011).cos();
        c[i] = p;
        h[i] = p * 1.001;
        l[i] = p * 0.999;
    }
    [h, l, c]
}

/// The best of `reps` timings of `path` on `series`.
fn best_time(
    time: &mut impl FnMut(&mut dyn FnMut()) -> std::time::Duration,
    series: &[Vec<f64>; 3],
    out: &mut WatchSetBuffers,
    path: WatchPath,
    reps: usize,
) -> std::time::Duration {
    let [h, l, c] = series;
    (0..reps)
        .map(|_| {
            time(&mut || {
                watch_set_with(h, l, c, 365.0, out, path).expect("equal lengths");
            })
        })
        .min()
        .unwrap_or_default()
}

/// The fastest vector tier on this processor, timed on a [`TIER_BARS`]-bar series, among
/// those it has (a tier it lacks is never timed nor named). `time` runs the closure it is
/// given and says how long it took (the caller owns the clock: this crate reads none). A
/// narrower tier is chosen over a wider one only when it is at least 5 % faster, so that
/// noise never trades a tier for a slower one.
pub fn calibrate_tier(mut time: impl FnMut(&mut dyn FnMut()) -> std::time::Duration) -> Simd {
    let series = calibration_series(TIER_BARS);
    let mut out = WatchSetBuffers::with_len(TIER_BARS);
    let mut chosen: Option<(Simd, std::time::Duration)> = None;
    for simd in [Simd::Avx512, Simd::Avx2, Simd::Baseline] {
        let path = WatchPath {
            simd,
            stream: false,
        };
        if path.on_this_processor() != path {
            continue;
        }
        let t = best_time(&mut time, &series, &mut out, path, 5);
        if chosen.is_none_or(|(_, best)| t.as_secs_f64() < 0.95 * best.as_secs_f64()) {
            chosen = Some((simd, t));
        }
    }
    chosen.map_or(Simd::Baseline, |c| c.0)
}

/// Whether stores that bypass the caches are faster on this processor for a long series (of
/// [`STREAM_FROM`] bars, out of every cache) at tier `simd`; only when at least 5 % faster.
pub fn calibrate_stream(
    mut time: impl FnMut(&mut dyn FnMut()) -> std::time::Duration,
    simd: Simd,
) -> bool {
    let series = calibration_series(STREAM_FROM);
    let mut out = WatchSetBuffers::with_len(STREAM_FROM);
    let plain = WatchPath {
        simd,
        stream: false,
    };
    let stream = WatchPath { simd, stream: true };
    // Once each first: the outputs' pages are touched before anything is timed.
    best_time(&mut time, &series, &mut out, plain, 1);
    let tp = best_time(&mut time, &series, &mut out, plain, 3);
    let ts = best_time(&mut time, &series, &mut out, stream, 3);
    ts.as_secs_f64() < 0.95 * tp.as_secs_f64()
}

/// How the kernel runs: the widest vectors it may use (if the processor has them), and
/// whether the outputs bypass the caches. Every path gives the same bits (a test holds them to
/// it).
#[derive(Debug, Clone, Copy)]
struct Path {
    simd: Level,
    stream: bool,
}

/// The kernel, on inputs and outputs of equal lengths.
fn run(
    high: &[f64],
    low: &[f64],
    close: &[f64],
    bars_per_year: f64,
    out: &mut WatchSetBuffers,
    path: Path,
) {
    let mut cols = out.columns_mut();
    // The head, through the streaming forms.
    let mut ws = WatchSet::new(bars_per_year);
    for i in 0..STEADY_FROM.min(close.len()) {
        let v = ws
            .update(Bar {
                high: high[i],
                low: low[i],
                close: close[i],
                volume: 0.0,
            })
            .expect("the watch set always yields values");
        for (col, x) in cols.iter_mut().zip(v.row()) {
            col[i] = x;
        }
    }
    if close.len() > STEADY_FROM {
        let k = Steady {
            high,
            low,
            close,
            state: &ws,
            bars_per_year,
            out: cols,
            stream: path.stream,
        };
        simd::with_simd(
            path.simd,
            #[inline(always)]
            || steady(k),
        );
    }
}

/// The rest of the bars, carried on from the head's state.
struct Steady<'a> {
    high: &'a [f64],
    low: &'a [f64],
    close: &'a [f64],
    state: &'a WatchSet,
    bars_per_year: f64,
    out: [&'a mut [f64]; COLUMNS],
    stream: bool,
}

/// Copy a block's output column out, bypassing the caches when `stream`.
#[inline(always)]
fn put(to: &mut [f64], stream: bool, values: &[f64]) {
    if stream {
        simd::copy_streaming(to, values);
    } else {
        // (a loop the compiler inlines, rather than a call to memcpy for a kilobyte)
        for (t, &v) in to.iter_mut().zip(values) {
            *t = v;
        }
    }
}

/// Per-block working arrays: first each recurrence's inputs, then (in place) its states; and
/// the block's outputs, in [`WatchSetBuffers::columns`] order.
struct Scratch {
    ln: [f64; BACK + BLOCK],
    gain: [f64; BLOCK],
    loss: [f64; BLOCK],
    bb_sum: [f64; BLOCK],
    bb_sq: [f64; BLOCK],
    r_sum: [f64; BLOCK],
    r_sq: [f64; BLOCK],
    prev_peak: [f64; BLOCK],
    out: [[f64; BLOCK]; COLUMNS],
}

// The fused kernel: every indicator's state is a local, carried from block to block and
// updated by the numbered passes of one body, so that each SIMD compilation `with_simd` makes
// keeps the states in registers and the arithmetic in the order the bit-equality tests pin.
#[inline(always)]
#[expect(clippy::too_many_lines)] // reason: one fused SIMD kernel (above)
fn steady(k: Steady<'_>) {
    let Steady {
        high,
        low,
        close,
        state: ws,
        bars_per_year,
        out,
        stream,
    } = k;
    let len = close.len();
    // The state, carried over.
    let [s20, s50, s200] = &ws.ema;
    let (mut e20, mut e50, mut e200) = (
        s20.value.unwrap_or(0.0),
        s50.value.unwrap_or(0.0),
        s200.value.unwrap_or(0.0),
    );
    let (k20, k50, k200) = (2.0 / 21.0, 2.0 / 51.0, 2.0 / 201.0);
    let (mut f, mut s, mut g) = (ws.macd.fast_ema, ws.macd.slow_ema, ws.macd.signal_ema);
    let (kf, ks, kg) = (2.0 / 13.0, 2.0 / 27.0, 2.0 / 10.0);
    let (mut gain, mut loss) = (ws.rsi.gain, ws.rsi.loss);
    // ATR before the pair that bar STEADY_FROM (even) ends, and that pair's first term.
    debug_assert!(!ws.atr.first_of_pair);
    let (mut anchor_atr, mut first_term) = (ws.atr.anchor, ws.atr.first_term);
    let (wa, wb) = super::momentum::wilder(14);
    let bm = &ws.bb.m;
    let (mut anchor, mut bsum, mut bsq) = (bm.anchor, bm.sum, bm.sum_sq);
    let mut peak = ws.dd.peak;
    let (mut rsum, mut rsq) = (ws.rv.w.sum, ws.rv.w.sum_sq);
    let rv_scale = bars_per_year.sqrt() * 100.0;

    let mut sc = Box::new(Scratch {
        ln: [0.0; BACK + BLOCK],
        gain: [0.0; BLOCK],
        loss: [0.0; BLOCK],
        bb_sum: [0.0; BLOCK],
        bb_sq: [0.0; BLOCK],
        r_sum: [0.0; BLOCK],
        r_sq: [0.0; BLOCK],
        prev_peak: [0.0; BLOCK],
        out: [[0.0; BLOCK]; COLUMNS],
    });
    // ln of close[start − BACK + j] at j.
    ln_slice(&close[STEADY_FROM - BACK..STEADY_FROM], &mut sc.ln[..BACK]);
    let mut start = STEADY_FROM;
    while start < len {
        let end = ((start / BLOCK + 1) * BLOCK).min(len);
        let n = end - start;
        if start.is_multiple_of(REANCHOR) {
            // `Moments::push` re-anchors here (the window is long full).
            anchor = close[start - 1];
            (bsum, bsq) = deviation_sums(close[start - 20..start].iter().copied(), anchor);
        }
        let c = &close[start..end];
        let pc = &close[start - 1..end - 1];
        let (h, l) = (&high[start..end], &low[start..end]);
        let Scratch {
            ln,
            gain: gi,
            loss: li,
            bb_sum: bu,
            bb_sq: bq,
            r_sum: ru,
            r_sq: rq,
            prev_peak: pp,
            out: block_out,
        } = &mut *sc;
        let (gi, li, bu, bq) = (&mut gi[..n], &mut li[..n], &mut bu[..n], &mut bq[..n]);
        let (ru, rq, pp) = (&mut ru[..n], &mut rq[..n], &mut pp[..n]);
        let [
            oe20,
            oe50,
            oe200,
            orsi,
            oatr,
            ou,
            omid,
            olo,
            om,
            os,
            oh,
            odd,
            orv,
        ] = block_out;
        let (oe20, oe50, oe200, orsi) = (
            &mut oe20[..n],
            &mut oe50[..n],
            &mut oe200[..n],
            &mut orsi[..n],
        );
        let (oatr, ou, omid, olo) = (&mut oatr[..n], &mut ou[..n], &mut omid[..n], &mut olo[..n]);
        let (om, os, oh, odd, orv) = (
            &mut om[..n],
            &mut os[..n],
            &mut oh[..n],
            &mut odd[..n],
            &mut orv[..n],
        );

        // 1. Inputs of the recurrences, element-wise.
        ln_slice(c, &mut ln[BACK..BACK + n]);
        {
            let (now, before) = (&ln[BACK..BACK + n], &ln[BACK - 1..BACK - 1 + n]);
            let (leaving, before_leaving) = (&ln[(BACK - 30)..=n], &ln[..n]);
            for k in 0..n {
                let r = now[k] - before[k];
                let old = leaving[k] - before_leaving[k];
                ru[k] = r - old;
                rq[k] = r * r - old * old;
            }
        }
        let c20 = &close[start - 20..end - 20];
        for k in 0..n {
            let d = c[k] - anchor;
            let e = c20[k] - anchor;
            bu[k] = d - e;
            bq[k] = d * d - e * e;
        }
        for k in 0..n {
            let d = c[k] - pc[k];
            gi[k] = d.max(0.0) * wb;
            li[k] = (-d).max(0.0) * wb;
        }
        for k in 0..n {
            oatr[k] = super::range::true_range(h[k], l[k], pc[k]) * wb;
        }

        // 2. The recurrences.
        for k in 0..n {
            let x = c[k];
            e20 = ema_step(e20, x, k20);
            e50 = ema_step(e50, x, k50);
            e200 = ema_step(e200, x, k200);
            f = ema_step(f, x, kf);
            s = ema_step(s, x, ks);
            let line = f - s;
            g = ema_step(g, line, kg);
            (oe20[k], oe50[k], oe200[k]) = (e20, e50, e200);
            (om[k], os[k]) = (line, g);
            gain = gain * wa + gi[k];
            loss = loss * wa + li[k];
            (gi[k], li[k]) = (gain, loss);
        }
        for k in 0..n {
            oh[k] = om[k] - os[k];
        }
        // Each output column leaves the block as soon as it is final, so that its stores
        // overlap the computing of the next ones.
        put(&mut out[0][start..end], stream, oe20);
        put(&mut out[1][start..end], stream, oe50);
        put(&mut out[2][start..end], stream, oe200);
        put(&mut out[8][start..end], stream, om);
        put(&mut out[9][start..end], stream, os);
        put(&mut out[10][start..end], stream, oh);
        // The running sums and high, and ATR's smoothing two bars at a time as `Atr` pairs
        // them: every block starts at an even bar, the second of a pair (bars 15 and 16, 17
        // and 18, … pair up), so bar k of a pair of bars (k, k + 1) ends a pair and k + 1
        // starts the next.
        macro_rules! sums_and_high {
            ($k:expr) => {{
                let k = $k;
                bsum += bu[k];
                bsq += bq[k];
                rsum += ru[k];
                rsq += rq[k];
                (bu[k], bq[k], ru[k], rq[k]) = (bsum, bsq, rsum, rsq);
                pp[k] = peak;
                let x = c[k];
                peak = if x > peak { x } else { peak };
            }};
        }
        let mut k = 0;
        while k + 1 < n {
            sums_and_high!(k);
            sums_and_high!(k + 1);
            let (t0, t1) = (oatr[k], oatr[k + 1]);
            let p0 = atr_pair_step(anchor_atr, first_term, t0, wa);
            (anchor_atr, first_term) = (p0, t1);
            (oatr[k], oatr[k + 1]) = (p0, p0 * wa + t1);
            k += 2;
        }
        if k < n {
            // the series' last bar, the second of a pair
            sums_and_high!(k);
            oatr[k] = atr_pair_step(anchor_atr, first_term, oatr[k], wa);
        }
        put(&mut out[4][start..end], stream, oatr);

        // 3. Outputs, element-wise.
        for k in 0..n {
            let t = gi[k] + li[k];
            orsi[k] = if is_zero(t) { 0.0 } else { 100.0 * (gi[k] / t) };
        }
        put(&mut out[3][start..end], stream, orsi);
        for k in 0..n {
            let m = bu[k] * (1.0 / 20.0);
            let mean = anchor + m;
            let w = sigma(bq[k] * (1.0 / 20.0) - m * m) * 2.0;
            (ou[k], omid[k], olo[k]) = (mean + w, mean, mean - w);
        }
        put(&mut out[5][start..end], stream, ou);
        put(&mut out[6][start..end], stream, omid);
        put(&mut out[7][start..end], stream, olo);
        for k in 0..n {
            let var = (rq[k] - ru[k] * ru[k] * (1.0 / 30.0)) * (1.0 / 29.0);
            orv[k] = var.max(0.0).sqrt() * rv_scale;
        }
        put(&mut out[12][start..end], stream, orv);
        for k in 0..n {
            let x = c[k];
            odd[k] = if x > pp[k] {
                0.0
            } else {
                (x * (1.0 / pp[k]) - 1.0) * 100.0
            };
        }
        put(&mut out[11][start..end], stream, odd);

        // Keep the last BACK logarithms for the next block.
        ln.copy_within(n..n + BACK, 0);
        start = end;
    }
    if stream {
        simd::stream_fence();
    }
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

impl WatchValues {
    /// The values in [`WatchSetBuffers::columns`] order, NaN where there is none.
    fn row(&self) -> [f64; COLUMNS] {
        let nan = f64::NAN;
        let b = self.bbands.unwrap_or(BbandsValue {
            upper: nan,
            middle: nan,
            lower: nan,
        });
        let m = self.macd.unwrap_or(MacdValue {
            macd: nan,
            signal: nan,
            hist: nan,
        });
        [
            self.ema_20.unwrap_or(nan),
            self.ema_50.unwrap_or(nan),
            self.ema_200.unwrap_or(nan),
            self.rsi_14.unwrap_or(nan),
            self.atr_14.unwrap_or(nan),
            b.upper,
            b.middle,
            b.lower,
            m.macd,
            m.signal,
            m.hist,
            self.drawdown.unwrap_or(nan),
            self.rv_30.unwrap_or(nan),
        ]
    }
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
    use super::super::testutil::{ohlcv, same_bits};
    use super::super::{IndicatorSpec, Ohlcv};
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn paths_parse_from_their_names_and_calibration_keeps_the_widest_unless_clearly_slower() {
        assert_eq!(WatchPath::parse(None, None), Ok(WatchPath::PLAIN));
        let p = WatchPath::parse(Some("avx2"), Some("1")).unwrap();
        assert_eq!(
            (p.simd, p.stream, p.to_string().as_str()),
            (Simd::Avx2, true, "avx2+stream")
        );
        assert!(WatchPath::parse(Some("sse"), None).is_err());
        assert!(WatchPath::parse(None, Some("yes")).is_err());
        // Every tier timed equal: the widest this processor has stays.
        let same = calibrate_tier(|f| {
            f();
            std::time::Duration::from_millis(10)
        });
        assert_eq!(same, WatchPath::PLAIN.on_this_processor().simd);
        // Each later timing 10 % below the one before: the last tier tried is chosen.
        let mut t = 100.0;
        let faster = calibrate_tier(|f| {
            f();
            t *= 0.9;
            std::time::Duration::from_secs_f64(t)
        });
        assert_eq!(faster, Simd::Baseline);
    }

    /// A path is named as it runs: a tier the processor lacks becomes the widest narrower one
    /// it has, never a wider one, and a tier it has is kept.
    #[test]
    fn a_path_runs_and_is_named_at_a_tier_this_processor_has() {
        #[cfg(target_arch = "x86_64")]
        let has = |simd: Simd| match simd {
            Simd::Baseline => true,
            Simd::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            Simd::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512cd")
            }
        };
        #[cfg(not(target_arch = "x86_64"))]
        let has = |simd: Simd| simd == Simd::Baseline;
        for path in WatchPath::all() {
            let ran = path.on_this_processor();
            assert_eq!(ran.stream, path.stream);
            assert!(ran.simd <= path.simd, "{path} ran as {ran}");
            assert!(has(ran.simd), "{ran} is not on this processor");
            assert_eq!(ran == path, has(path.simd), "{path} ran as {ran}");
        }
    }

    /// The kernel compiled for AVX-512, AVX2 or the baseline, with cache-bypassing stores or
    /// plain ones, gives the same bits.
    #[test]
    fn every_path_gives_the_same_bits() {
        // a random walk with bursts of volatility, 3,000 bars: many blocks and re-anchorings
        let (mut h, mut l, mut c) = (vec![], vec![], vec![]);
        let (mut p, mut seed) = (60_000.0f64, 7u64);
        for i in 0..3_000u32 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let u = (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let vol = if (i / 300) % 2 == 0 { 0.002 } else { 0.02 };
            p *= 1.0 + u * vol;
            h.push(p * (1.0 + vol * 0.3));
            l.push(p * (1.0 - vol * 0.2));
            c.push(p);
        }
        let mut paths = vec![];
        for simd in [Level::Baseline, Level::Avx2, Level::Avx512] {
            for stream in [false, true] {
                paths.push(Path { simd, stream });
            }
        }
        let outs: Vec<WatchSetBuffers> = paths
            .iter()
            .map(|&path| {
                let mut w = WatchSetBuffers::with_len(c.len());
                run(&h, &l, &c, 365.0, &mut w, path);
                w
            })
            .collect();
        for (path, w) in paths.iter().zip(&outs).skip(1) {
            for ((name, got), (_, want)) in w.columns().into_iter().zip(outs[0].columns()) {
                for i in 0..c.len() {
                    assert_eq!(
                        got[i].to_bits(),
                        want[i].to_bits(),
                        "{name} at {i}, path {path:?}"
                    );
                }
            }
        }
        assert!(outs[0].rv_30[2_999] > 0.0 && outs[0].bb_upper[2_999] > outs[0].bb_lower[2_999]);
    }

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
                    prop_assert!(same_bits(fused[i], want[i]), "{} i={} fused={} individual={}", name, i, fused[i], want[i]);
                }
            }
            let mut s = WatchSet::new(365.0);
            for i in 0..len {
                let v = s.update(Bar { high: h[i], low: l[i], close: c[i], volume: 0.0 }).unwrap();
                prop_assert!(same_bits(v.rsi_14.unwrap_or(f64::NAN), w.rsi_14[i]));
                prop_assert!(same_bits(v.macd.map_or(f64::NAN, |m| m.signal), w.macd_signal[i]));
                prop_assert!(same_bits(v.rv_30.unwrap_or(f64::NAN), w.rv_30[i]));
                prop_assert!(same_bits(v.ema_200.unwrap_or(f64::NAN), w.ema_200[i]));
            }
        }
    }
}
