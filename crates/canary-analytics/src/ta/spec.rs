//! Indicator specifications as users write them (`rsi:14`, `macd:12:26:9`, `bbands:20:2`),
//! their output column names (those of `../shared/oracle`), and computing them over a series.

use std::fmt::Write as _;

use super::{
    TaError, adx, atr, bbands, cci, drawdown, ema, log_return, macd, mfi, minus_di, natr, obv,
    plus_di, realized_vol, return_z, roc, rsi, sma, stddev, stoch, trange, willr, wma,
};

/// A series of bars as columns, the shape the batch kernels read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ohlcv {
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub volume: Vec<f64>,
}

impl Ohlcv {
    /// Columns of the given candles.
    #[must_use]
    pub fn from_candles(candles: &[canary_model::Candle]) -> Self {
        let mut o = Ohlcv::default();
        for c in candles {
            o.open.push(c.open);
            o.high.push(c.high);
            o.low.push(c.low);
            o.close.push(c.close);
            o.volume.push(c.volume);
        }
        o
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.close.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.close.is_empty()
    }
}

/// One indicator with its parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IndicatorSpec {
    Sma(usize),
    Ema(usize),
    Wma(usize),
    Rsi(usize),
    Macd(usize, usize, usize),
    Bbands(usize, f64),
    Stddev(usize, f64),
    Roc(usize),
    Trange,
    Atr(usize),
    Natr(usize),
    Adx(usize),
    PlusDi(usize),
    MinusDi(usize),
    Stoch(usize, usize, usize),
    Willr(usize),
    Cci(usize),
    Obv,
    Mfi(usize),
    /// Annualised realised volatility (%), window n.
    Rv(usize),
    /// Drawdown from the running high close (%).
    Drawdown,
    /// Log return over n bars (%).
    Ret(usize),
    /// Latest return in σ of the previous n returns.
    RetZ(usize),
}

/// A specification that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("unknown indicator {0:?}; known: {KNOWN}")]
    Unknown(String),
    #[error("indicator {spec:?}: {reason}")]
    Params { spec: String, reason: String },
}

/// An indicator's value, named by its output column (`rsi_14`, `macd_12_26_9_signal`: the
/// function and its parameters), computed over a series' bars as TA-Lib computes it.
pub const INDICATOR: canary_model::Method = canary_model::Method::new("ta_indicator", 1);

/// The longest period an indicator takes.
const MAX_PERIOD: usize = 100_000;

const KNOWN: &str = "sma, ema, wma, rsi, macd, bbands, stddev, roc, trange, atr, natr, adx, plus_di, minus_di, stoch, willr, cci, obv, mfi, rv, drawdown, ret, retz, all";

fn fmt_num(x: f64) -> String {
    let mut s = String::new();
    let _ = write!(s, "{x}");
    s
}

impl IndicatorSpec {
    /// The 31 series of `../shared/oracle`, in its column order.
    #[must_use]
    pub fn oracle_set() -> Vec<IndicatorSpec> {
        use IndicatorSpec::{
            Adx, Atr, Bbands, Cci, Ema, Macd, Mfi, MinusDi, Natr, Obv, PlusDi, Roc, Rsi, Sma,
            Stddev, Stoch, Trange, Willr, Wma,
        };
        vec![
            Sma(20),
            Sma(50),
            Sma(200),
            Ema(12),
            Ema(20),
            Ema(26),
            Ema(50),
            Ema(200),
            Wma(20),
            Rsi(14),
            Rsi(2),
            Macd(12, 26, 9),
            Bbands(20, 2.0),
            Stddev(20, 1.0),
            Roc(10),
            Trange,
            Atr(14),
            Natr(14),
            Adx(14),
            PlusDi(14),
            MinusDi(14),
            Stoch(14, 3, 3),
            Willr(14),
            Cci(20),
            Obv,
            Mfi(14),
        ]
    }

    /// Parse a comma-separated list such as `rsi:14,ema:20,macd:12:26:9,bbands:20:2`. A name
    /// without parameters takes the usual defaults (`rsi` = `rsi:14`); `all` is the oracle set.
    ///
    /// # Errors
    /// An unknown name, a wrong number of parameters, or a parameter that is not a positive
    /// number.
    pub fn parse_list(text: &str) -> Result<Vec<IndicatorSpec>, SpecError> {
        let mut out = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if item.eq_ignore_ascii_case("all") {
                out.extend(Self::oracle_set());
            } else {
                out.push(Self::parse(item)?);
            }
        }
        if out.is_empty() {
            return Err(SpecError::Params {
                spec: text.to_string(),
                reason: "no indicator given".into(),
            });
        }
        Ok(out)
    }

    /// Parse one specification (`macd:12:26:9`).
    ///
    /// # Errors
    /// As [`parse_list`](Self::parse_list).
    pub fn parse(item: &str) -> Result<IndicatorSpec, SpecError> {
        use IndicatorSpec::{
            Adx, Atr, Bbands, Cci, Drawdown, Ema, Macd, Mfi, MinusDi, Natr, Obv, PlusDi, Ret, RetZ,
            Roc, Rsi, Rv, Sma, Stddev, Stoch, Trange, Willr, Wma,
        };
        let mut parts = item.split(':');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let params: Vec<&str> = parts.collect();
        let bad = |reason: String| SpecError::Params {
            spec: item.to_string(),
            reason,
        };
        let int = |i: usize, default: usize| -> Result<usize, SpecError> {
            match params.get(i) {
                None => Ok(default),
                Some(p) => match p.trim().parse::<usize>() {
                    Ok(v) if (1..=MAX_PERIOD).contains(&v) => Ok(v),
                    _ => Err(bad(format!(
                        "parameter {} ({p:?}) must be a whole number from 1 to {MAX_PERIOD}",
                        i + 1
                    ))),
                },
            }
        };
        let real = |i: usize, default: f64| -> Result<f64, SpecError> {
            match params.get(i) {
                None => Ok(default),
                Some(p) => match p.trim().parse::<f64>() {
                    Ok(v) if v.is_finite() && v > 0.0 && v <= 100.0 => Ok(v),
                    _ => Err(bad(format!(
                        "parameter {} ({p:?}) must be a number above 0, at most 100",
                        i + 1
                    ))),
                },
            }
        };
        let (spec, max_params) = match name.as_str() {
            "sma" => (Sma(int(0, 20)?), 1),
            "ema" => (Ema(int(0, 20)?), 1),
            "wma" => (Wma(int(0, 20)?), 1),
            "rsi" => (Rsi(int(0, 14)?), 1),
            "macd" => (Macd(int(0, 12)?, int(1, 26)?, int(2, 9)?), 3),
            "bbands" | "bb" => (Bbands(int(0, 20)?, real(1, 2.0)?), 2),
            "stddev" => (Stddev(int(0, 20)?, real(1, 1.0)?), 2),
            "roc" => (Roc(int(0, 10)?), 1),
            "trange" => (Trange, 0),
            "atr" => (Atr(int(0, 14)?), 1),
            "natr" => (Natr(int(0, 14)?), 1),
            "adx" => (Adx(int(0, 14)?), 1),
            "plus_di" | "+di" => (PlusDi(int(0, 14)?), 1),
            "minus_di" | "-di" => (MinusDi(int(0, 14)?), 1),
            "stoch" => (Stoch(int(0, 14)?, int(1, 3)?, int(2, 3)?), 3),
            "willr" => (Willr(int(0, 14)?), 1),
            "cci" => (Cci(int(0, 20)?), 1),
            "obv" => (Obv, 0),
            "mfi" => (Mfi(int(0, 14)?), 1),
            "rv" | "realized_vol" => (Rv(int(0, 30)?), 1),
            "drawdown" | "dd" => (Drawdown, 0),
            "ret" | "return" => (Ret(int(0, 1)?), 1),
            "retz" | "zscore" => (RetZ(int(0, 30)?), 1),
            _ => return Err(SpecError::Unknown(item.to_string())),
        };
        if params.len() > max_params {
            return Err(bad(format!(
                "takes at most {max_params} parameter(s), got {}",
                params.len()
            )));
        }
        match spec {
            Rv(1) | RetZ(1) => Err(bad("the window must be at least 2 returns".into())),
            Macd(f, s, _) if f >= s => Err(bad(format!(
                "the fast period ({f}, first) must be shorter than the slow one ({s}, second)"
            ))),
            _ => Ok(spec),
        }
    }

    /// Output column names, as in `../shared/oracle` (`rsi_14`, `macd_signal_12_26_9`, …).
    #[must_use]
    pub fn columns(&self) -> Vec<String> {
        use IndicatorSpec::{
            Adx, Atr, Bbands, Cci, Drawdown, Ema, Macd, Mfi, MinusDi, Natr, Obv, PlusDi, Ret, RetZ,
            Roc, Rsi, Rv, Sma, Stddev, Stoch, Trange, Willr, Wma,
        };
        match *self {
            Sma(n) => vec![format!("sma_{n}")],
            Ema(n) => vec![format!("ema_{n}")],
            Wma(n) => vec![format!("wma_{n}")],
            Rsi(n) => vec![format!("rsi_{n}")],
            Macd(f, s, g) => ["macd", "macd_signal", "macd_hist"]
                .iter()
                .map(|p| format!("{p}_{f}_{s}_{g}"))
                .collect(),
            Bbands(n, k) => ["bb_upper", "bb_middle", "bb_lower"]
                .iter()
                .map(|p| format!("{p}_{n}_{}", fmt_num(k)))
                .collect(),
            Stddev(n, 1.0) => vec![format!("stddev_{n}")],
            Stddev(n, k) => vec![format!("stddev_{n}_{}", fmt_num(k))],
            Roc(n) => vec![format!("roc_{n}")],
            Trange => vec!["trange".into()],
            Atr(n) => vec![format!("atr_{n}")],
            Natr(n) => vec![format!("natr_{n}")],
            Adx(n) => vec![format!("adx_{n}")],
            PlusDi(n) => vec![format!("plus_di_{n}")],
            MinusDi(n) => vec![format!("minus_di_{n}")],
            Stoch(k, s, d) => vec![
                format!("stoch_k_{k}_{s}_{d}"),
                format!("stoch_d_{k}_{s}_{d}"),
            ],
            Willr(n) => vec![format!("willr_{n}")],
            Cci(n) => vec![format!("cci_{n}")],
            Obv => vec!["obv".into()],
            Mfi(n) => vec![format!("mfi_{n}")],
            Rv(n) => vec![format!("rv_{n}")],
            Drawdown => vec!["drawdown".into()],
            Ret(n) => vec![format!("ret_{n}")],
            RetZ(n) => vec![format!("retz_{n}")],
        }
    }

    /// Bars before a given one that the indicator needs for its value there to equal the
    /// value computed from the whole history: the lookback for windowed indicators, plus, for
    /// exponential ones (EMA, Wilder's averages), the bars after which an older bar's weight is
    /// below 2⁻⁵³ of the value. `None` for indicators that depend on the whole history (OBV's
    /// running total, the drawdown's running high). The values agree to 1e-9 relative, the
    /// tolerance against TA-Lib (running sums carry rounding from where the series starts).
    #[must_use]
    pub fn warmup(&self) -> Option<usize> {
        use IndicatorSpec::{
            Adx, Atr, Bbands, Cci, Drawdown, Ema, Macd, Mfi, MinusDi, Natr, Obv, PlusDi, Ret, RetZ,
            Roc, Rsi, Rv, Sma, Stddev, Stoch, Trange, Willr, Wma,
        };
        // Bars for an exponential weight (1 − α)^k to fall below 2^-53.
        let converge = |alpha: f64| -> usize {
            #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let k = (53.0 * std::f64::consts::LN_2 / -(1.0 - alpha).ln()).ceil() as usize;
            k
        };
        let ema = |n: usize| n + converge(2.0 / (n as f64 + 1.0));
        let wilder = |n: usize| n + 1 + converge(1.0 / n as f64);
        Some(match *self {
            Sma(n) | Wma(n) | Willr(n) | Cci(n) | Stddev(n, _) | Bbands(n, _) => n,
            Roc(n) | Ret(n) | Mfi(n) => n + 1,
            Trange => 2,
            Ema(n) => ema(n),
            Macd(f, s, g) => ema(f.max(s)) + ema(g),
            Rsi(n) | Atr(n) | Natr(n) | PlusDi(n) | MinusDi(n) => wilder(n),
            Adx(n) => 2 * wilder(n),
            Stoch(k, s, d) => k + s + d,
            Rv(n) | RetZ(n) => n + 2,
            Obv | Drawdown => return None,
        })
    }

    /// Compute the indicator over `data`: one column per name in [`columns`](Self::columns),
    /// each as long as the series, NaN in the lookback. `bars_per_year` annualises `rv`.
    ///
    /// # Errors
    /// Only on a bad period (parsing already refuses those).
    pub fn compute(&self, d: &Ohlcv, bars_per_year: f64) -> Result<Vec<Vec<f64>>, TaError> {
        use IndicatorSpec::{
            Adx, Atr, Bbands, Cci, Drawdown, Ema, Macd, Mfi, MinusDi, Natr, Obv, PlusDi, Ret, RetZ,
            Roc, Rsi, Rv, Sma, Stddev, Stoch, Trange, Willr, Wma,
        };
        let len = d.len();
        let mut cols = vec![vec![0.0; len]; self.columns().len()];
        let (h, l, c, v) = (&d.high[..], &d.low[..], &d.close[..], &d.volume[..]);
        match (*self, cols.as_mut_slice()) {
            (Sma(n), [o]) => sma(c, n, o)?,
            (Ema(n), [o]) => ema(c, n, o)?,
            (Wma(n), [o]) => wma(c, n, o)?,
            (Rsi(n), [o]) => rsi(c, n, o)?,
            (Macd(f, s, g), [a, b, x]) => macd(c, f, s, g, a, b, x)?,
            (Bbands(n, k), [u, m, lo]) => bbands(c, n, k, u, m, lo)?,
            (Stddev(n, k), [o]) => stddev(c, n, k, o)?,
            (Roc(n), [o]) => roc(c, n, o)?,
            (Trange, [o]) => trange(h, l, c, o)?,
            (Atr(n), [o]) => atr(h, l, c, n, o)?,
            (Natr(n), [o]) => natr(h, l, c, n, o)?,
            (Adx(n), [o]) => adx(h, l, c, n, o)?,
            (PlusDi(n), [o]) => plus_di(h, l, c, n, o)?,
            (MinusDi(n), [o]) => minus_di(h, l, c, n, o)?,
            (Stoch(k, s, dd), [a, b]) => stoch(h, l, c, k, s, dd, a, b)?,
            (Willr(n), [o]) => willr(h, l, c, n, o)?,
            (Cci(n), [o]) => cci(h, l, c, n, o)?,
            (Obv, [o]) => obv(c, v, o)?,
            (Mfi(n), [o]) => mfi(h, l, c, v, n, o)?,
            (Rv(n), [o]) => realized_vol(c, n, bars_per_year, o)?,
            (Drawdown, [o]) => drawdown(c, o)?,
            (Ret(n), [o]) => log_return(c, n, o)?,
            (RetZ(n), [o]) => return_z(c, n, o)?,
            _ => unreachable!("columns() and compute() list the same outputs"),
        }
        Ok(cols)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_names_columns_like_the_oracle() {
        let s = IndicatorSpec::parse_list("rsi:14, macd:12:26:9,bbands:20:2,atr").unwrap();
        let cols: Vec<String> = s.iter().flat_map(IndicatorSpec::columns).collect();
        assert_eq!(
            cols,
            [
                "rsi_14",
                "macd_12_26_9",
                "macd_signal_12_26_9",
                "macd_hist_12_26_9",
                "bb_upper_20_2",
                "bb_middle_20_2",
                "bb_lower_20_2",
                "atr_14"
            ]
        );
        let all: usize = IndicatorSpec::parse_list("all")
            .unwrap()
            .iter()
            .map(|s| s.columns().len())
            .sum();
        assert_eq!(all, 31);
    }

    #[test]
    fn rejects_bad_specs_with_the_reason() {
        assert!(matches!(
            IndicatorSpec::parse("foo:3"),
            Err(SpecError::Unknown(_))
        ));
        let e = IndicatorSpec::parse("rsi:0").unwrap_err().to_string();
        assert!(e.contains("rsi:0") && e.contains("from 1 to"), "{e}");
        assert!(IndicatorSpec::parse("rsi:14:3").is_err());
        assert!(IndicatorSpec::parse("bbands:20:-1").is_err());
        assert!(IndicatorSpec::parse("rv:1").is_err());
    }

    #[test]
    fn specifications_that_would_mislead_are_refused() {
        for (spec, why) in [
            ("macd:26:12:9", "fast period (26, first) must be shorter"),
            ("macd:12:12:9", "must be shorter"),
            ("rsi:0", "from 1 to 100000"),
            ("rsi:1000000", "from 1 to 100000"),
            ("bbands:20:0", "above 0"),
            ("bbands:20:1e9", "at most 100"),
            ("rv:1", "at least 2 returns"),
            ("ema:5:5", "at most 1 parameter"),
        ] {
            let e = IndicatorSpec::parse_list(spec).unwrap_err().to_string();
            assert!(e.contains(why) && e.contains(spec), "{spec}: {e}");
        }
    }

    /// Computed over only the bars [`IndicatorSpec::warmup`] asks for, each indicator's last
    /// values equal those computed over the whole history, to 1e-9 relative (the tolerance
    /// every indicator is held to against TA-Lib: running sums carry rounding from the start).
    #[test]
    fn the_warmup_window_gives_the_whole_historys_values() {
        let n = 20_000;
        let (mut p, mut seed) = (60_000.0f64, 11u64);
        let mut d = Ohlcv::default();
        for _ in 0..n {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let u = (seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let o = p;
            p *= 1.0 + 0.02 * u;
            d.open.push(o);
            d.high.push(o.max(p) * 1.003);
            d.low.push(o.min(p) * 0.997);
            d.close.push(p);
            d.volume.push(100.0 + 50.0 * u);
        }
        let tail = |d: &Ohlcv, k: usize| Ohlcv {
            open: d.open[n - k..].to_vec(),
            high: d.high[n - k..].to_vec(),
            low: d.low[n - k..].to_vec(),
            close: d.close[n - k..].to_vec(),
            volume: d.volume[n - k..].to_vec(),
        };
        let last = 5;
        for spec in IndicatorSpec::oracle_set() {
            let Some(w) = spec.warmup() else {
                continue;
            };
            let full = spec.compute(&d, 2190.0).unwrap();
            let part = spec.compute(&tail(&d, last + w), 2190.0).unwrap();
            for (name, (f, p)) in spec.columns().iter().zip(full.iter().zip(&part)) {
                for j in 1..=last {
                    let (a, b) = (f[f.len() - j], p[p.len() - j]);
                    assert!(
                        (a - b).abs() <= 1e-9 * a.abs().max(1e-300),
                        "{name}: {a} from all bars, {b} from the last {}",
                        last + w
                    );
                }
            }
        }
        assert_eq!(IndicatorSpec::Obv.warmup(), None);
    }
}
