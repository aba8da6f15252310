//! Building and storing higher-timeframe bars from stored lower ones: the bars known at T are
//! resampled (`canary_analytics::resample`), complete buckets are stored with the availability
//! of their latest source bar, and a bucket still open at T is left out. Bars built from
//! simulated data are stored as simulated.

use canary_analytics::resample::resample;
use canary_model::{SourceKind, Symbol, Timeframe, Timestamp};
use canary_store::prelude::*;
use canary_store::{CandleQuery, InsertReport, NewCandle, Revisions, Source, Stores};

use crate::EngineError;

/// What a resample stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resampled {
    /// Source bars read.
    pub read: usize,
    /// Complete bars built.
    pub built: usize,
    /// Of those, built from fewer bars than a full bucket has (exchange outages).
    pub short: usize,
    /// Bars a full bucket has.
    pub expected: u32,
    /// Buckets still open at the time, not stored.
    pub open: usize,
    /// The source name the bars were stored under (`resample:4h`, `sim:resample:4h`).
    pub source: String,
    pub insert: InsertReport,
}

/// Build `to` bars of `symbol` from its stored `from` bars known at `asof` and store them.
///
/// # Errors
/// [`EngineError::Empty`] when no `from` bars are stored by then; a timeframe that is not a
/// multiple; a database error (nothing is written).
pub fn resample_stored(
    store: &mut dyn Stores,
    symbol: &Symbol,
    from: Timeframe,
    to: Timeframe,
    asof: Timestamp,
    now: Timestamp,
) -> Result<Resampled, EngineError> {
    canary_analytics::resample::check_timeframes(from, to)?;
    let src = store.candles(
        symbol,
        from,
        &CandleQuery {
            asof: Some(asof),
            ..CandleQuery::default()
        },
    )?;
    if src.is_empty() {
        return Err(EngineError::Empty(format!(
            "no {symbol} {from} bars stored as of {asof}: import them first"
        )));
    }
    let kinds = store.source_kinds()?;
    let simulated = src
        .iter()
        .any(|c| kinds.get(&c.source) == Some(&SourceKind::Sim));
    let pairs: Vec<_> = src.iter().map(|c| (c.candle, c.available_at)).collect();
    let built = resample(&pairs, from, to, asof)?;
    let rows: Vec<NewCandle> = built
        .iter()
        .filter(|r| r.complete)
        .map(|r| NewCandle {
            candle: r.candle,
            available_at: r.available_at,
            source_bars: Some(r.source_bars),
        })
        .collect();
    let source = if simulated {
        format!("sim:resample:{from}")
    } else {
        format!("resample:{from}")
    };
    let kind = Source {
        name: &source,
        kind: if simulated {
            SourceKind::Sim
        } else {
            SourceKind::Real
        },
    };
    let insert = store.insert_candles(symbol, to, kind, now, &rows, Revisions::Keep, |_| {})?;
    Ok(Resampled {
        read: src.len(),
        built: rows.len(),
        short: built
            .iter()
            .filter(|r| r.complete && r.source_bars < r.expected_bars)
            .count(),
        expected: built.first().map_or(0, |r| r.expected_bars),
        open: built.iter().filter(|r| !r.complete).count(),
        source,
        insert,
    })
}
