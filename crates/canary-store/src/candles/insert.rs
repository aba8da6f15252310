//! The write path: a stream of bars stored in one transaction. Bars that come in order after
//! everything the series holds (64 or more of them) are packed into blocks as they come
//! (`Packer`); from the first that does not fit, the rest go through the store's one write
//! routine as rows (`CandleRecord`), each looked up first in the rows and in the blocks
//! (`BlockCache`), so that a bar given twice is still refused and a revision is a new version.

use std::cell::RefCell;
use std::rc::Rc;

use canary_model::{Candle, Symbol, Timeframe, Timestamp};

use super::{InsertReport, LoadedBlock, NewCandle, block_candle, block_holding};
use crate::blocks::{self, BLOCK_BARS, BlockBar};
use crate::sql::{Db, args};
use crate::write::{self, Record, Revisions, Stored, WriteError};
use crate::{Source, Stopped, StoreError};

/// Store `rows` in `tx` (its caller commits): the leading run that fits blocks packed, the
/// rest written row by row; the first invalid bar, input error or refused row stops it.
#[expect(clippy::too_many_arguments)]
pub(crate) fn insert_candle_stream(
    tx: &Db,
    symbol: &Symbol,
    tf: Timeframe,
    source: Source<'_>,
    ingested_at: Timestamp,
    rows: &mut dyn Iterator<Item = Result<(u64, NewCandle), Stopped>>,
    revisions: Revisions,
    progress: &mut dyn FnMut(usize),
) -> Result<InsertReport, WriteError<Stopped>> {
    crate::register_source(tx, source)?;
    tx.exec(
        "INSERT INTO series (symbol, timeframe) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        args![symbol.as_str(), tf.as_str()],
    )?;
    let series_id: i64 = tx.value(
        "SELECT id FROM series WHERE symbol = ?1 AND timeframe = ?2",
        args![symbol.as_str(), tf.as_str()],
    )?;
    // The latest bar the series holds, if any: bars after it are new.
    let held_last: Option<i64> = tx.value(
        "SELECT MAX(t) FROM (SELECT MAX(open_time) AS t FROM candles WHERE series_id = ?1
                 UNION ALL SELECT MAX(last_open) FROM candle_blocks WHERE series_id = ?1) AS held",
        args![series_id],
    )?;
    let stamp = crate::stamp(tx, ingested_at)?;
    let cache = BlockCache::default();
    let record = |row| CandleRecord {
        symbol,
        tf,
        series_id,
        row,
        blocks: &cache,
    };
    let mut packer = Packer {
        series_id,
        source: source.name,
        ingested_at: stamp,
        step: tf.duration_ms(),
        offset: None,
        last: held_last,
        pending: Vec::with_capacity(BLOCK_BARS),
        written: 0,
    };
    // Bars go to blocks while they fit one: in order, each after everything the series
    // holds (into a fresh series from the first bar; into a held one, an appended run).
    // From the first that does not fit, the rest are rows, each looked up first (in the
    // blocks too), so that a bar given twice is still refused.
    let mut misfit = None;
    for row in &mut *rows {
        let (tag, row) = row.map_err(WriteError::Input)?;
        if let Some((what, reason)) = invalid_bar(&row.candle, symbol, tf) {
            return Err(StoreError::Invalid { tag, what, reason }.into());
        }
        if !packer.fits(&row) {
            misfit = Some((tag, row));
            break;
        }
        packer.push(tag, row);
        if packer.pending.len() == BLOCK_BARS {
            packer.flush(tx)?;
            progress(packer.written);
        }
    }
    // A short run goes to rows with the rest.
    let short = if packer.written == 0 && packer.pending.len() < MIN_BLOCK_BARS {
        std::mem::take(&mut packer.pending)
    } else {
        packer.flush(tx)?;
        Vec::new()
    };
    let packed = packer.written;
    let mut report = InsertReport {
        inserted: packed,
        ..InsertReport::default()
    };
    if misfit.is_some() || !short.is_empty() {
        let rest = short
            .into_iter()
            .map(Ok)
            .chain(misfit.map(Ok))
            .chain(rows)
            .map(|r| r.map(|(tag, row)| (tag, record(row))));
        let more = write::insert(tx, rest, source.name, stamp, revisions, |n| {
            progress(packed + n);
        })?;
        report.inserted += more.inserted;
        report.present += more.present;
        report.revised += more.revised;
    } else {
        progress(packed);
    }
    Ok(report)
}

fn describe(c: &Candle) -> String {
    format!(
        "O {} H {} L {} C {} V {}{}{}",
        c.open,
        c.high,
        c.low,
        c.close,
        c.volume,
        c.quote_volume
            .map(|q| format!(" QV {q}"))
            .unwrap_or_default(),
        c.trades.map(|t| format!(" trades {t}")).unwrap_or_default()
    )
}

fn same_values(a: &Candle, b: &Candle) -> bool {
    // Bitwise: a bar parsed from the same text, or computed the same way, is identical.
    a.open.to_bits() == b.open.to_bits()
        && a.high.to_bits() == b.high.to_bits()
        && a.low.to_bits() == b.low.to_bits()
        && a.close.to_bits() == b.close.to_bits()
        && a.volume.to_bits() == b.volume.to_bits()
        && a.quote_volume.map(f64::to_bits) == b.quote_volume.map(f64::to_bits)
        && a.trades == b.trades
}

/// A bar of one series, as the write routine sees it.
struct CandleRecord<'a> {
    symbol: &'a Symbol,
    tf: Timeframe,
    series_id: i64,
    row: NewCandle,
    blocks: &'a BlockCache,
}

/// The block a write's lookups read last: bars are mostly looked up in time order, so one
/// decoded block serves thousands of them. Blocks are never changed once written.
#[derive(Default)]
struct BlockCache(RefCell<Option<Rc<LoadedBlock>>>);

impl BlockCache {
    /// The block of `series_id` whose time range holds `t`, if any.
    fn holding(
        &self,
        tx: &Db,
        series_id: i64,
        t: i64,
    ) -> Result<Option<Rc<LoadedBlock>>, StoreError> {
        if let Some(b) = self.0.borrow().as_ref()
            && (b.first_open..=b.last_open).contains(&t)
        {
            return Ok(Some(Rc::clone(b)));
        }
        let found = block_holding(tx, series_id, t)?.map(Rc::new);
        if let Some(b) = &found {
            *self.0.borrow_mut() = Some(Rc::clone(b));
        }
        Ok(found)
    }
}

/// Bars of a fresh series gathered into blocks as they come, while they fit one: in time
/// order by whole bars, each available the same time after its open, not resampled.
struct Packer<'a> {
    series_id: i64,
    source: &'a str,
    ingested_at: i64,
    step: i64,
    offset: Option<i64>,
    last: Option<i64>,
    /// The bars of the block being gathered, with their tags.
    pending: Vec<(u64, NewCandle)>,
    written: usize,
}

/// A write that appends fewer bars than this (a live bar at each close, a short file) stores
/// them as rows: blocks of a few bars would only make reads slower.
pub(crate) const MIN_BLOCK_BARS: usize = 64;

impl Packer<'_> {
    fn fits(&self, row: &NewCandle) -> bool {
        let t = row.candle.open_time.millis();
        row.source_bars.is_none()
            && self
                .offset
                .is_none_or(|o| row.available_at.millis().checked_sub(t) == Some(o))
            && self.last.is_none_or(|l| blocks::follows(l, t, self.step))
    }

    fn push(&mut self, tag: u64, row: NewCandle) {
        let t = row.candle.open_time.millis();
        self.offset = Some(row.available_at.millis() - t);
        self.last = Some(t);
        self.pending.push((tag, row));
    }

    fn flush(&mut self, tx: &Db) -> Result<(), StoreError> {
        let bars: Vec<BlockBar> = self
            .pending
            .iter()
            .map(|(_, r)| {
                let c = &r.candle;
                BlockBar {
                    open_time: c.open_time.millis(),
                    ohlcv: [c.open, c.high, c.low, c.close, c.volume],
                    quote_volume: c.quote_volume,
                    trades: c.trades,
                }
            })
            .collect();
        let (Some(first), Some(last)) = (bars.first(), bars.last()) else {
            return Ok(());
        };
        tx.exec(
            "INSERT INTO candle_blocks (series_id, first_open, last_open, bars, source,
                ingested_at, avail_offset, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            args![
                self.series_id,
                first.open_time,
                last.open_time,
                i64::try_from(bars.len()).unwrap_or(i64::MAX),
                self.source,
                self.ingested_at,
                self.offset.unwrap_or(0),
                blocks::encode(&bars, self.step),
            ],
        )?;
        self.written += bars.len();
        self.pending.clear();
        Ok(())
    }
}

impl Record for CandleRecord<'_> {
    type Values = Candle;
    const VERSIONED: bool = true;

    fn latest(&self, tx: &Db) -> Result<Option<Stored<Candle>>, StoreError> {
        let c = &self.row.candle;
        let t = c.open_time.millis();
        let in_block = self.blocks.holding(tx, self.series_id, t)?.and_then(|b| {
            b.find(t).map(|bar| Stored {
                values: block_candle(bar),
                source: b.source.clone(),
                available_at: t + b.offset,
                ingested_at: b.ingested_at,
            })
        });
        // Every version, the latest picked here: with ORDER BY or MAX the bundled SQLite
        // (3.54, STAT4) prepares the statement again at every call, four times the cost.
        let mut in_rows: Option<Stored<Candle>> = None;
        tx.each(
            "SELECT open, high, low, close, volume, quote_volume, trades, source, available_at,
                    ingested_at
             FROM candles WHERE series_id = ?1 AND open_time = ?2",
            args![self.series_id, t],
            |r| {
                let available_at: i64 = r.get(8)?;
                if in_rows
                    .as_ref()
                    .is_some_and(|v| v.available_at >= available_at)
                {
                    return Ok(true);
                }
                in_rows = Some(Stored {
                    values: Candle {
                        open_time: c.open_time,
                        open: r.get(0)?,
                        high: r.get(1)?,
                        low: r.get(2)?,
                        close: r.get(3)?,
                        volume: r.get(4)?,
                        quote_volume: r.get(5)?,
                        trades: r.get::<Option<i64>>(6)?.and_then(|t| u64::try_from(t).ok()),
                    },
                    source: r.get(7)?,
                    available_at,
                    ingested_at: r.get(9)?,
                });
                Ok(true)
            },
        )?;
        // Revisions of a block's bar are rows, later than it; the later version is the latest.
        Ok(match (in_rows, in_block) {
            (Some(r), Some(b)) if b.available_at > r.available_at => Some(b),
            (r, b) => r.or(b),
        })
    }

    fn same(&self, stored: &Candle) -> bool {
        same_values(stored, &self.row.candle)
    }

    fn available_at(&self) -> i64 {
        self.row.available_at.millis()
    }

    fn put(
        &self,
        tx: &Db,
        source: &str,
        available_at: i64,
        ingested_at: i64,
    ) -> Result<(), StoreError> {
        let c = &self.row.candle;
        tx.exec(
            "INSERT INTO candles (series_id, open_time, open, high, low, close, volume,
                quote_volume, trades, source, available_at, ingested_at, source_bars)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            args![
                self.series_id,
                c.open_time.millis(),
                c.open,
                c.high,
                c.low,
                c.close,
                c.volume,
                c.quote_volume,
                c.trades.and_then(|t| i64::try_from(t).ok()),
                source,
                available_at,
                ingested_at,
                self.row.source_bars,
            ],
        )?;
        Ok(())
    }

    fn describe(&self, stored: &Candle) -> (String, String, String) {
        (
            format!(
                "{} {} bar at {}",
                self.symbol, self.tf, self.row.candle.open_time
            ),
            describe(stored),
            describe(&self.row.candle),
        )
    }

    fn invalid(&self) -> Option<(String, String)> {
        invalid_bar(&self.row.candle, self.symbol, self.tf)
    }
}

/// Why a bar may not be stored, if it may not (what [`Candle::new`] refuses: values not
/// finite or beyond the bounds that keep the analytics finite), with what the bar is.
pub(crate) fn invalid_bar(c: &Candle, symbol: &Symbol, tf: Timeframe) -> Option<(String, String)> {
    c.checked().err().map(|e| {
        (
            format!("{symbol} {tf} bar at {}", c.open_time),
            e.to_string(),
        )
    })
}
