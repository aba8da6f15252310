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
    bail!(
        "no {symbol} {tf} bars (nor lower-timeframe bars to build them from) available as of {asof}; stored series: {}",
        stored_series(store)?
    )
}

/// The stored series, for an error that found none to use: `BTCUSDT 4h, BTCUSDT 1d`, or how
/// to store one.
pub fn stored_series(store: &Store) -> Result<String> {
    let known: Vec<String> = store
        .series()?
        .iter()
        .map(|s| format!("{} {}", s.symbol, s.timeframe))
        .collect();
    Ok(if known.is_empty() {
        "none (canary import FILE --symbol S)".to_string()
    } else {
        known.join(", ")
    })
}

/// The BTC price to evaluate at, as a claim: the `--price` flag, else the close of the latest
/// stored daily bar of `symbol` available at `asof`; `None` when there is neither.
///
/// # Errors
/// A `--price` that is not a positive number, or a database error.
pub fn price_claim(
    store: &Store,
    flag: Option<f64>,
    symbol: &Symbol,
    asof: Timestamp,
    claims: &mut canary_model::ClaimSet,
) -> Result<Option<(f64, canary_model::ClaimId)>> {
    use canary_model::Claim;
    if let Some(p) = flag {
        if !(p.is_finite() && p > 0.0) {
            bail!("--price must be a positive number, got {p}");
        }
        let c = Claim::derived(
            "BTC price",
            p,
            "USD",
            asof,
            "user_input",
            1,
            &[("flag", "--price".into())],
            &[],
        );
        return Ok(Some((p, claims.add(c))));
    }
    let q = CandleQuery {
        asof: Some(asof),
        ..CandleQuery::default()
    };
    Ok(store.candles(symbol, Timeframe::D1, &q)?.last().map(|s| {
        let c = Claim::data(
            format!("{symbol} daily close"),
            s.candle.close,
            "USD",
            asof,
            format!("{symbol} 1d close"),
            s.source.clone(),
            s.candle.open_time,
        );
        (s.candle.close, claims.add(c))
    }))
}

/// The message when a price is needed and there is none.
pub fn no_price(symbol: &Symbol) -> anyhow::Error {
    anyhow::anyhow!(
        "no price: give --price P (USD), or store {symbol} daily bars (canary import …, then canary resample --to 1d)"
    )
}
