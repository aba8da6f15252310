//! What the live engine took, stored at once: its events and the bars that closed since its
//! last store, in one transaction and few statements.
//!
//! A store per close, series by series, costs a transaction and about eight round trips to a
//! server per series (its source, its id, its latest bar, the stamp, then each bar looked up
//! and written): a few hundred closes a second. Here the whole batch shares one transaction
//! and one stamp; sources and series ids already seen are remembered (neither is ever
//! deleted, and only what a committed write saw is kept); the latest stored bar of every
//! series is read in one query; and the bars that come after it in order, the live case, are
//! written many rows to a statement without a lookup, since nothing of theirs can be stored.
//! Any other series (a bar at or before the latest, out of order, invalid, or enough bars to
//! pack a block) takes the one write path of every bar write, so that revisions, refusals and
//! blocks are what they always are.

use std::collections::BTreeMap;

use canary_model::{SourceKind, Symbol, Timeframe, Timestamp};

use crate::candles::{MIN_BLOCK_BARS, insert_candle_stream, invalid_bar};
use crate::events::insert_events;
use crate::sql::{Arg, Column, Db, Dialect, ROWS_AT_ONCE, ToArg, args};
use crate::write::{Revisions, WriteError};
use crate::{InsertReport, LiveStore, NewCandle, NewEvent, Source, SqlStore, Stopped, StoreError};

/// The bars of one series that closed, to store with the events.
#[derive(Debug, Clone, Copy)]
pub struct SeriesBars<'a> {
    pub source: Source<'a>,
    pub symbol: &'a Symbol,
    pub tf: Timeframe,
    pub rows: &'a [NewCandle],
}

/// What [`LiveStore::store_taken`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Taken {
    /// Events that were new.
    pub events: usize,
    /// The bars, over every series.
    pub bars: InsertReport,
}

/// Sources and series ids a committed write has seen: neither is ever deleted, so a later
/// write need not ask for them again.
#[derive(Debug, Default)]
pub(crate) struct Known {
    sources: BTreeMap<String, SourceKind>,
    series: BTreeMap<(String, Timeframe), i64>,
}

impl LiveStore for SqlStore {
    fn store_taken(
        &mut self,
        events: &[NewEvent],
        bars: &[SeriesBars<'_>],
        ingested_at: Timestamp,
    ) -> Result<Taken, StoreError> {
        let bars: Vec<&SeriesBars<'_>> = bars.iter().filter(|b| !b.rows.is_empty()).collect();
        if events.is_empty() && bars.is_empty() {
            return Ok(Taken::default());
        }
        let tx = self.begin_write()?;
        let mut taken = Taken {
            events: insert_events(&tx, events)?,
            bars: InsertReport::default(),
        };
        let mut sources = BTreeMap::new();
        let mut series = BTreeMap::new();
        if !bars.is_empty() {
            let mut ids = Vec::with_capacity(bars.len());
            for b in &bars {
                if self.known.sources.get(b.source.name) != Some(&b.source.kind)
                    && !sources.contains_key(b.source.name)
                {
                    crate::register_source(&tx, b.source)?;
                    sources.insert(b.source.name.to_string(), b.source.kind);
                }
                let key = (b.symbol.as_str().to_string(), b.tf);
                let id = if let Some(id) = self.known.series.get(&key).or(series.get(&key)) {
                    *id
                } else {
                    let id = series_id(&tx, b.symbol, b.tf)?;
                    series.insert(key, id);
                    id
                };
                ids.push(id);
            }
            let distinct: std::collections::BTreeSet<i64> = ids.iter().copied().collect();
            let held = latest_held(&tx, &distinct.into_iter().collect::<Vec<_>>())?;
            let stamp = crate::stamp(&tx, ingested_at)?;
            // The bars that append go first, many to a statement; then the others, each
            // series' writes in the order given. A series given twice (a bar closed again in
            // the batch) can append only with its first write, which goes before the rest
            // of that series as it would alone.
            let mut appended = Vec::new();
            let mut rest = Vec::new();
            let mut seen = std::collections::BTreeSet::new();
            for (b, series_id) in bars.iter().zip(ids) {
                if seen.insert(series_id) && appends(b, held.get(&series_id).copied().flatten()) {
                    appended.push((series_id, *b));
                } else {
                    rest.push(*b);
                }
            }
            taken.bars.inserted += insert_appended(&tx, &appended, stamp)?;
            for b in &rest {
                let r = insert_candle_stream(
                    &tx,
                    b.symbol,
                    b.tf,
                    b.source,
                    ingested_at,
                    &mut b.rows.iter().enumerate().map(|(i, r)| Ok((i as u64, *r))),
                    Revisions::Keep,
                    &mut |_| {},
                )
                .map_err(|e| match e {
                    WriteError::Store(e) => e,
                    WriteError::Input(Stopped) => StoreError::Corrupt {
                        what: "the live engine's bars".into(),
                        reason: "a stream that cannot fail stopped".into(),
                    },
                })?;
                taken.bars.inserted += r.inserted;
                taken.bars.present += r.present;
                taken.bars.revised += r.revised;
            }
        }
        tx.commit()?;
        self.known.sources.extend(sources);
        self.known.series.extend(series);
        Ok(taken)
    }
}

/// The id of a series, recorded if new.
fn series_id(tx: &Db, symbol: &Symbol, tf: Timeframe) -> Result<i64, StoreError> {
    tx.exec(
        "INSERT INTO series (symbol, timeframe) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        args![symbol.as_str(), tf.as_str()],
    )?;
    tx.value(
        "SELECT id FROM series WHERE symbol = ?1 AND timeframe = ?2",
        args![symbol.as_str(), tf.as_str()],
    )
}

/// The open time of the latest bar each series holds, in rows or in blocks (`None` for an
/// empty one), asked for many series at once.
fn latest_held(tx: &Db, ids: &[i64]) -> Result<BTreeMap<i64, Option<i64>>, StoreError> {
    let mut out = BTreeMap::new();
    let mut read = |which: &str, args: &[Arg<'_>]| {
        tx.each(
            &format!(
                "SELECT s.id,
                        (SELECT MAX(open_time) FROM candles WHERE series_id = s.id),
                        (SELECT MAX(last_open) FROM candle_blocks WHERE series_id = s.id)
                 FROM series s WHERE s.id {which}"
            ),
            args,
            |r| {
                let rows: Option<i64> = r.get(1)?;
                let blocks: Option<i64> = r.get(2)?;
                out.insert(r.get(0)?, rows.max(blocks));
                Ok(true)
            },
        )
    };
    match tx.dialect() {
        // One statement whatever their number: a round trip to the server each.
        Dialect::Postgres => read("= ANY(?1)", &[Arg::Ints(ids)])?,
        Dialect::Sqlite => {
            let mut rest = ids;
            while !rest.is_empty() {
                let take = ROWS_AT_ONCE.min(1 << rest.len().ilog2());
                let (chunk, after) = rest.split_at(take);
                let args: Vec<Arg<'_>> = chunk.iter().map(ToArg::arg).collect();
                read(&format!("IN ({})", vec!["?"; take].join(", ")), &args)?;
                rest = after;
            }
        }
    }
    Ok(out)
}

/// Whether a series' bars are all new and need no lookup: valid, in order, each after the
/// one before and the first after the latest the series holds; and too few to pack a block.
fn appends(b: &SeriesBars<'_>, held: Option<i64>) -> bool {
    b.rows.len() < MIN_BLOCK_BARS
        && b.rows
            .iter()
            .all(|r| invalid_bar(&r.candle, b.symbol, b.tf).is_none())
        && b.rows
            .iter()
            .map(|r| Some(r.candle.open_time.millis()))
            .try_fold(held, |last, t| (t > last).then_some(t))
            .is_some()
}

/// Write bars known to be new as rows, many to a statement; how many.
fn insert_appended(
    tx: &Db,
    appended: &[(i64, &SeriesBars<'_>)],
    stamp: i64,
) -> Result<usize, StoreError> {
    let rows = || {
        appended
            .iter()
            .flat_map(|(id, b)| b.rows.iter().map(move |r| (*id, *b, r)))
    };
    let int = |f: &dyn Fn(i64, &NewCandle) -> Option<i64>| {
        Column::Int(rows().map(|(id, _, r)| f(id, r)).collect())
    };
    let real = |f: &dyn Fn(&NewCandle) -> Option<f64>| {
        Column::Real(rows().map(|(_, _, r)| f(r)).collect())
    };
    let columns = vec![
        int(&|id, _| Some(id)),
        int(&|_, r| Some(r.candle.open_time.millis())),
        real(&|r| Some(r.candle.open)),
        real(&|r| Some(r.candle.high)),
        real(&|r| Some(r.candle.low)),
        real(&|r| Some(r.candle.close)),
        real(&|r| Some(r.candle.volume)),
        real(&|r| r.candle.quote_volume),
        int(&|_, r| r.candle.trades.and_then(|t| i64::try_from(t).ok())),
        Column::Text(
            rows()
                .map(|(_, b, _)| Some(b.source.name.to_string()))
                .collect(),
        ),
        int(&|_, r| Some(r.available_at.millis())),
        int(&|_, _| Some(stamp)),
        int(&|_, r| r.source_bars.map(i64::from)),
    ];
    tx.insert_columns(
        "INSERT INTO candles (series_id, open_time, open, high, low, close, volume,
            quote_volume, trades, source, available_at, ingested_at, source_bars)",
        "",
        columns,
    )
}
