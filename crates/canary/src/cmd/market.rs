//! Loading a symbol's bars as of a time for the analysis commands (`stats`, `levels`,
//! `backtest`): stored bars of the timeframe if there are any, else bars built from a stored
//! lower timeframe (complete buckets only), so that `canary stats` works straight after an
//! import of 4h bars.

use anyhow::{Result, bail};
use canary_analytics::resample::resample;
use canary_model::{Candle, Symbol, Timeframe, Timestamp};
use canary_store::{CandleQuery, Store};

/// Bars of one timeframe with where they came from.
pub struct Loaded {
    pub candles: Vec<Candle>,
    pub source: String,
    pub simulated: bool,
}

/// The bars of `symbol` at `tf` available at `asof`.
pub fn load(store: &Store, symbol: &Symbol, tf: Timeframe, asof: Timestamp) -> Result<Loaded> {
    let q = CandleQuery {
        asof: Some(asof),
        ..CandleQuery::default()
    };
    let rows = store.candles(symbol, tf, &q)?;
    if !rows.is_empty() {
        let mut sources: Vec<&str> = rows.iter().map(|r| r.source.as_str()).collect();
        sources.sort_unstable();
        sources.dedup();
        return Ok(Loaded {
            simulated: sources.iter().any(|s| s.contains("sim")),
            source: sources.join("+"),
            candles: rows.into_iter().map(|r| r.candle).collect(),
        });
    }
    for lower in Timeframe::ALL
        .iter()
        .rev()
        .filter(|l| tf.is_multiple_of(**l))
    {
        let rows = store.candles(symbol, *lower, &q)?;
        if rows.is_empty() {
            continue;
        }
        let simulated = rows.iter().any(|r| r.source.contains("sim"));
        let pairs: Vec<_> = rows.iter().map(|r| (r.candle, r.available_at)).collect();
        let built = resample(&pairs, *lower, tf, asof)?;
        return Ok(Loaded {
            candles: built
                .into_iter()
                .filter(|r| r.complete)
                .map(|r| r.candle)
                .collect(),
            source: format!("resample:{lower}"),
            simulated,
        });
    }
    let known: Vec<String> = store
        .series()?
        .iter()
        .map(|s| format!("{} {}", s.symbol, s.timeframe))
        .collect();
    bail!(
        "no {symbol} {tf} bars (nor lower-timeframe bars to build them from) available as of {asof}; stored series: {}",
        if known.is_empty() {
            "none (canary import FILE --symbol S)".to_string()
        } else {
            known.join(", ")
        }
    )
}
