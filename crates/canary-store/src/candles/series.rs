//! The series listing: each stored series with its bar count, first and last open time and
//! sources, from the blocks and the rows (a bar counted once, however many versions it has,
//! and a row that revises a block's bar not at all).

use std::collections::{BTreeMap, BTreeSet};

use canary_model::{Symbol, Timestamp};

use super::{LoadedBlock, SeriesInfo, block_holding};
use crate::StoreError;
use crate::sql::Db;

/// Every stored series with its bar count, first and last open time and sources.
pub(super) fn series(db: &Db) -> Result<Vec<SeriesInfo>, StoreError> {
    // Per series id: bars, first, last and sources, from the rows and from the blocks.
    struct Extent {
        bars: i64,
        first: i64,
        last: i64,
        sources: BTreeSet<String>,
    }
    let mut by_id: BTreeMap<i64, Extent> = BTreeMap::new();
    let add = |by_id: &mut BTreeMap<i64, Extent>,
               id: i64,
               bars: i64,
               first: i64,
               last: i64,
               source: String| {
        let e = by_id.entry(id).or_insert(Extent {
            bars: 0,
            first,
            last,
            sources: BTreeSet::new(),
        });
        e.bars += bars;
        e.first = e.first.min(first);
        e.last = e.last.max(last);
        e.sources.insert(source);
    };
    db.each(
        "SELECT series_id, source, COUNT(*), MIN(first_open), MAX(last_open),
                CAST(SUM(bars) AS BIGINT)
             FROM candle_blocks GROUP BY series_id, source",
        &[],
        |r| {
            add(
                &mut by_id,
                r.get(0)?,
                r.get(5)?,
                r.get(3)?,
                r.get(4)?,
                r.get(1)?,
            );
            Ok(true)
        },
    )?;
    let packed: BTreeSet<i64> = by_id.keys().copied().collect();
    // Bars kept as rows count once each, and not at all when a block holds them (a
    // revision of a block's bar).
    // Read whole before the blocks are looked up: a query may not run while another's rows
    // are read.
    let rows: Vec<(i64, i64, String)> = db.all(
        &format!(
            "SELECT series_id, open_time, {}
             FROM candles GROUP BY series_id, open_time ORDER BY series_id, open_time",
            crate::store::distinct_list(db, "source")
        ),
        &[],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let mut block: Option<(i64, LoadedBlock)> = None;
    for (id, t, sources) in rows {
        let known = if packed.contains(&id) {
            if block
                .as_ref()
                .is_none_or(|(bid, b)| *bid != id || !(b.first_open..=b.last_open).contains(&t))
            {
                block = block_holding(db, id, t)?.map(|b| (id, b));
            }
            block
                .as_ref()
                .is_some_and(|(bid, b)| *bid == id && b.find(t).is_some())
        } else {
            false
        };
        for (k, source) in sources.split(',').enumerate() {
            let bars = i64::from(k == 0 && !known);
            add(&mut by_id, id, bars, t, t, source.to_string());
        }
    }
    let names = db.all(
        "SELECT id, symbol, timeframe FROM series ORDER BY symbol, timeframe",
        &[],
        |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?, r.get::<String>(2)?)),
    )?;
    let mut listed = Vec::new();
    for (id, symbol, timeframe) in names {
        if let Some(e) = by_id.remove(&id) {
            let sources = e.sources.into_iter().collect::<Vec<_>>().join(",");
            listed.push((symbol, timeframe, e.bars, e.first, e.last, sources));
        }
    }
    let rows = listed.into_iter().map(Ok::<_, StoreError>);
    let mut out = Vec::new();
    for row in rows {
        let (symbol, timeframe, bars, first, last, sources) = row?;
        let corrupt = |reason: String| StoreError::Corrupt {
            what: format!("series {symbol} {timeframe}"),
            reason,
        };
        out.push(SeriesInfo {
            symbol: Symbol::new(&symbol).map_err(|e| corrupt(e.to_string()))?,
            timeframe: timeframe
                .parse()
                .map_err(|e: canary_model::TimeframeError| corrupt(e.to_string()))?,
            bars: bars.try_into().unwrap_or(0),
            first: Timestamp::from_millis(first),
            last: Timestamp::from_millis(last),
            sources,
        });
    }
    Ok(out)
}
