//! The benchmark set: every indicator as a named batch call, shared by the criterion benches
//! and the TA-Lib comparison (`bench/talib.sh`), so both time exactly the same calls.

use super::{
    Ohlcv, TaError, WatchSetBuffers, adx, atr, bbands, cci, drawdown, ema, log_return, macd, mfi,
    minus_di, natr, obv, plus_di, realized_vol, return_z, roc, rsi, sma, stddev, stoch, trange,
    watch_set, willr, wma,
};

/// Reusable output buffers for one run of the set.
#[derive(Debug)]
pub struct Scratch {
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
    watch: WatchSetBuffers,
}

impl Scratch {
    #[must_use]
    pub fn new(len: usize) -> Self {
        Scratch {
            a: vec![0.0; len],
            b: vec![0.0; len],
            c: vec![0.0; len],
            watch: WatchSetBuffers::with_len(len),
        }
    }
}

/// A named batch call.
pub type BenchFn = fn(&Ohlcv, &mut Scratch) -> Result<(), TaError>;

/// Every indicator with the parameters of the oracle, named as TA-Lib calls them, then
/// Canary's own series and the fused watch set (`WATCH`).
pub const BENCH_SET: &[(&str, BenchFn)] = &[
    ("SMA20", |d, s| sma(&d.close, 20, &mut s.a)),
    ("EMA20", |d, s| ema(&d.close, 20, &mut s.a)),
    ("WMA20", |d, s| wma(&d.close, 20, &mut s.a)),
    ("RSI14", |d, s| rsi(&d.close, 14, &mut s.a)),
    ("MACD", |d, s| {
        macd(&d.close, 12, 26, 9, &mut s.a, &mut s.b, &mut s.c)
    }),
    ("BBANDS20", |d, s| {
        bbands(&d.close, 20, 2.0, &mut s.a, &mut s.b, &mut s.c)
    }),
    ("STDDEV20", |d, s| stddev(&d.close, 20, 1.0, &mut s.a)),
    ("ROC10", |d, s| roc(&d.close, 10, &mut s.a)),
    ("TRANGE", |d, s| trange(&d.high, &d.low, &d.close, &mut s.a)),
    ("ATR14", |d, s| atr(&d.high, &d.low, &d.close, 14, &mut s.a)),
    ("NATR14", |d, s| {
        natr(&d.high, &d.low, &d.close, 14, &mut s.a)
    }),
    ("ADX14", |d, s| adx(&d.high, &d.low, &d.close, 14, &mut s.a)),
    ("PLUS_DI14", |d, s| {
        plus_di(&d.high, &d.low, &d.close, 14, &mut s.a)
    }),
    ("MINUS_DI14", |d, s| {
        minus_di(&d.high, &d.low, &d.close, 14, &mut s.a)
    }),
    ("STOCH", |d, s| {
        stoch(&d.high, &d.low, &d.close, 14, 3, 3, &mut s.a, &mut s.b)
    }),
    ("WILLR14", |d, s| {
        willr(&d.high, &d.low, &d.close, 14, &mut s.a)
    }),
    ("CCI20", |d, s| cci(&d.high, &d.low, &d.close, 20, &mut s.a)),
    ("OBV", |d, s| obv(&d.close, &d.volume, &mut s.a)),
    ("MFI14", |d, s| {
        mfi(&d.high, &d.low, &d.close, &d.volume, 14, &mut s.a)
    }),
    ("RV30", |d, s| realized_vol(&d.close, 30, 365.0, &mut s.a)),
    ("DRAWDOWN", |d, s| drawdown(&d.close, &mut s.a)),
    ("RET1", |d, s| log_return(&d.close, 1, &mut s.a)),
    ("RETZ30", |d, s| return_z(&d.close, 30, &mut s.a)),
    ("WATCH", |d, s| {
        watch_set(&d.high, &d.low, &d.close, 365.0, &mut s.watch)
    }),
];

/// The TA-Lib members of the watch set, whose summed time the fused kernel is compared with.
pub const WATCH_TALIB_MEMBERS: &[&str] = &[
    "EMA20", "EMA50", "EMA200", "RSI14", "ATR14", "BBANDS20", "MACD",
];
