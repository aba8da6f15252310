//! Candles: insert (one transaction, idempotent, conflicts refused) and point-in-time reads.

#[cfg(test)]
use canary_model::SourceKind;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use canary_model::{Candle, Symbol, Timeframe, Timestamp};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::blocks::{self, BLOCK_BARS, BlockBar};
use crate::write::{self, Record, Revisions, Stored, WriteError};
use crate::{CandleStore, Source, SqliteStore, Stopped, StoreError};

/// A bar to insert, with the moment it became knowable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewCandle {
    pub candle: Candle,
    pub available_at: Timestamp,
    /// For a bar built from lower-timeframe bars: how many it was built from.
    pub source_bars: Option<u32>,
}

/// A bar as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCandle {
    pub candle: Candle,
    pub source: String,
    pub available_at: Timestamp,
    pub ingested_at: Timestamp,
    pub source_bars: Option<u32>,
}

/// Which bars to read. `asof` hides every bar not yet available at that time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CandleQuery {
    /// First open time (inclusive).
    pub from: Option<Timestamp>,
    /// Last open time (inclusive).
    pub to: Option<Timestamp>,
    /// Only bars with `available_at <= asof`.
    pub asof: Option<Timestamp>,
    /// Only the latest this many of those bars (still returned in open-time order).
    pub last: Option<usize>,
}

/// What an insert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InsertReport {
    /// New rows written.
    pub inserted: usize,
    /// Rows already stored with identical values (skipped).
    pub present: usize,
    /// Rows stored with other values before, kept as new versions.
    pub revised: usize,
}

/// One stored series: symbol, timeframe, bar count, first and last open time, sources.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesInfo {
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    pub bars: u64,
    pub first: Timestamp,
    pub last: Timestamp,
    pub sources: String,
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

/// A block's bar as a candle (unchecked: for comparing with a new version of it).
fn block_candle(b: &BlockBar) -> Candle {
    let [open, high, low, close, volume] = b.ohlcv;
    Candle {
        open_time: Timestamp::from_millis(b.open_time),
        open,
        high,
        low,
        close,
        volume,
        quote_volume: b.quote_volume,
        trades: b.trades,
    }
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

/// A block as stored, decoded.
struct LoadedBlock {
    first_open: i64,
    last_open: i64,
    source: String,
    ingested_at: i64,
    offset: i64,
    bars: Vec<BlockBar>,
}

impl LoadedBlock {
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        let data: Vec<u8> = r.get(5)?;
        let bars = blocks::decode(&data).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Blob, e.into())
        })?;
        Ok(LoadedBlock {
            first_open: r.get(0)?,
            last_open: r.get(1)?,
            source: r.get(2)?,
            ingested_at: r.get(3)?,
            offset: r.get(4)?,
            bars,
        })
    }

    fn find(&self, t: i64) -> Option<&BlockBar> {
        self.bars
            .binary_search_by_key(&t, |b| b.open_time)
            .ok()
            .map(|i| &self.bars[i])
    }
}

const BLOCK_COLUMNS: &str = "first_open, last_open, source, ingested_at, avail_offset, data";

/// The block of a series whose time range holds `t`, if any.
fn block_holding(
    conn: &Connection,
    series_id: i64,
    t: i64,
) -> rusqlite::Result<Option<LoadedBlock>> {
    conn.prepare_cached(&format!(
        "SELECT {BLOCK_COLUMNS} FROM candle_blocks
         WHERE series_id = ?1 AND first_open <= ?2 AND last_open >= ?2"
    ))?
    .query_row(params![series_id, t], LoadedBlock::from_row)
    .optional()
}

/// The block a write's lookups read last: bars are mostly looked up in time order, so one
/// decoded block serves thousands of them. Blocks are never changed once written.
#[derive(Default)]
struct BlockCache(RefCell<Option<Rc<LoadedBlock>>>);

impl BlockCache {
    /// The block of `series_id` whose time range holds `t`, if any.
    fn holding(
        &self,
        tx: &Transaction<'_>,
        series_id: i64,
        t: i64,
    ) -> rusqlite::Result<Option<Rc<LoadedBlock>>> {
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
const MIN_BLOCK_BARS: usize = 64;

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

    fn flush(&mut self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
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
        tx.prepare_cached(
            "INSERT INTO candle_blocks (series_id, first_open, last_open, bars, source,
                ingested_at, avail_offset, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            self.series_id,
            first.open_time,
            last.open_time,
            i64::try_from(bars.len()).unwrap_or(i64::MAX),
            self.source,
            self.ingested_at,
            self.offset.unwrap_or(0),
            blocks::encode(&bars, self.step),
        ])?;
        self.written += bars.len();
        self.pending.clear();
        Ok(())
    }
}

impl Record for CandleRecord<'_> {
    type Values = Candle;
    const VERSIONED: bool = true;

    fn latest(&self, tx: &Transaction<'_>) -> rusqlite::Result<Option<Stored<Candle>>> {
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
        let mut stmt = tx.prepare_cached(
            "SELECT open, high, low, close, volume, quote_volume, trades, source, available_at,
                    ingested_at
             FROM candles WHERE series_id = ?1 AND open_time = ?2",
        )?;
        let mut rows = stmt.query(params![self.series_id, t])?;
        while let Some(r) = rows.next()? {
            let available_at: i64 = r.get(8)?;
            if in_rows
                .as_ref()
                .is_some_and(|v| v.available_at >= available_at)
            {
                continue;
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
                    trades: r
                        .get::<_, Option<i64>>(6)?
                        .and_then(|t| u64::try_from(t).ok()),
                },
                source: r.get(7)?,
                available_at,
                ingested_at: r.get(9)?,
            });
        }
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
        tx: &Transaction<'_>,
        source: &str,
        available_at: i64,
        ingested_at: i64,
    ) -> rusqlite::Result<()> {
        let c = &self.row.candle;
        tx.prepare_cached(
            "INSERT INTO candles (series_id, open_time, open, high, low, close, volume,
                quote_volume, trades, source, available_at, ingested_at, source_bars)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )?
        .execute(params![
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
        ])?;
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
fn invalid_bar(c: &Candle, symbol: &Symbol, tf: Timeframe) -> Option<(String, String)> {
    c.checked().err().map(|e| {
        (
            format!("{symbol} {tf} bar at {}", c.open_time),
            e.to_string(),
        )
    })
}

/// A block's bar as a valid candle, or the error naming it.
fn checked(bar: &BlockBar, symbol: &Symbol, tf: Timeframe) -> Result<Candle, StoreError> {
    let c = block_candle(bar);
    c.checked().map_err(|e| StoreError::Corrupt {
        what: format!("{symbol} {tf} bar at {}", c.open_time),
        reason: e.to_string(),
    })
}

/// The id of a stored series.
fn series_id(conn: &Connection, symbol: &Symbol, tf: Timeframe) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT id FROM series WHERE symbol = ?1 AND timeframe = ?2")?
        .query_row(params![symbol.as_str(), tf.as_str()], |r| r.get(0))
        .optional()
}

/// Call `f` with each block of a series that may hold bars opened from `from` to `to` and
/// available by `asof`, in time order (newest first with `newest_first`), until it returns
/// false.
fn for_each_block(
    conn: &Connection,
    sid: i64,
    from: i64,
    to: i64,
    asof: i64,
    newest_first: bool,
    mut f: impl FnMut(&LoadedBlock) -> bool,
) -> rusqlite::Result<()> {
    let sql = format!(
        "SELECT {BLOCK_COLUMNS} FROM candle_blocks
         WHERE series_id = ?1 AND last_open >= ?2 AND first_open <= ?3
           AND first_open + avail_offset <= ?4
         ORDER BY first_open {}",
        if newest_first { "DESC" } else { "ASC" }
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![sid, from, to, asof])?;
    while let Some(r) = rows.next()? {
        if !f(&LoadedBlock::from_row(r)?) {
            break;
        }
    }
    Ok(())
}

/// Two lists of bars in open-time order, one version of each bar in each, merged: where both
/// hold a bar, the version available later.
fn merge_versions(a: Vec<StoredCandle>, b: Vec<StoredCandle>) -> Vec<StoredCandle> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => match x.candle.open_time.cmp(&y.candle.open_time) {
                std::cmp::Ordering::Less => a.next(),
                std::cmp::Ordering::Greater => b.next(),
                std::cmp::Ordering::Equal => {
                    let (x, y) = (a.next(), b.next());
                    match (x, y) {
                        (Some(x), Some(y)) if y.available_at > x.available_at => Some(y),
                        (x, _) => x,
                    }
                }
            },
            (Some(_), None) => a.next(),
            (None, Some(_)) => b.next(),
            (None, None) => None,
        };
        match next {
            Some(c) => out.push(c),
            None => return out,
        }
    }
}

impl CandleStore for SqliteStore {
    #[allow(clippy::too_many_arguments)]
    fn insert_candle_stream(
        &mut self,
        symbol: &Symbol,
        tf: Timeframe,
        source: Source<'_>,
        ingested_at: Timestamp,
        rows: &mut dyn Iterator<Item = Result<(u64, NewCandle), Stopped>>,
        revisions: Revisions,
        progress: &mut dyn FnMut(usize),
    ) -> Result<InsertReport, WriteError<Stopped>> {
        let tx = self.begin_write()?;
        crate::register_source(&tx, source)?;
        tx.execute(
            "INSERT OR IGNORE INTO series (symbol, timeframe) VALUES (?1, ?2)",
            params![symbol.as_str(), tf.as_str()],
        )?;
        let series_id: i64 = tx.query_row(
            "SELECT id FROM series WHERE symbol = ?1 AND timeframe = ?2",
            params![symbol.as_str(), tf.as_str()],
            |r| r.get(0),
        )?;
        // The latest bar the series holds, if any: bars after it are new.
        let held_last: Option<i64> = tx.query_row(
            "SELECT MAX(t) FROM (SELECT MAX(open_time) AS t FROM candles WHERE series_id = ?1
                 UNION ALL SELECT MAX(last_open) FROM candle_blocks WHERE series_id = ?1)",
            params![series_id],
            |r| r.get(0),
        )?;
        let stamp = crate::stamp(&tx, ingested_at)?;
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
                packer.flush(&tx)?;
                progress(packer.written);
            }
        }
        // A short run goes to rows with the rest.
        let short = if packer.written == 0 && packer.pending.len() < MIN_BLOCK_BARS {
            std::mem::take(&mut packer.pending)
        } else {
            packer.flush(&tx)?;
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
            let more = write::insert(&tx, rest, source.name, stamp, revisions, |n| {
                progress(packed + n)
            })?;
            report.inserted += more.inserted;
            report.present += more.present;
            report.revised += more.revised;
        } else {
            progress(packed);
        }
        tx.commit()?;
        Ok(report)
    }

    fn open_times_around(
        &self,
        symbol: &Symbol,
        tf: Timeframe,
        first: Timestamp,
        last: Timestamp,
    ) -> Result<(Option<Timestamp>, Option<Timestamp>), StoreError> {
        let Some(sid) = series_id(&self.conn, symbol, tf)? else {
            return Ok((None, None));
        };
        let (first, last) = (first.millis(), last.millis());
        let row_before: Option<i64> = self.conn.query_row(
            "SELECT MAX(open_time) FROM candles WHERE series_id = ?1 AND open_time < ?2",
            params![sid, first],
            |r| r.get(0),
        )?;
        let row_after: Option<i64> = self.conn.query_row(
            "SELECT MIN(open_time) FROM candles WHERE series_id = ?1 AND open_time > ?2",
            params![sid, last],
            |r| r.get(0),
        )?;
        let mut block_before: Option<i64> = None;
        for_each_block(&self.conn, sid, i64::MIN, first - 1, i64::MAX, true, |b| {
            block_before = b
                .bars
                .iter()
                .map(|x| x.open_time)
                .filter(|&t| t < first)
                .max();
            block_before.is_none()
        })?;
        let mut block_after: Option<i64> = None;
        for_each_block(&self.conn, sid, last + 1, i64::MAX, i64::MAX, false, |b| {
            block_after = b
                .bars
                .iter()
                .map(|x| x.open_time)
                .filter(|&t| t > last)
                .min();
            block_after.is_none()
        })?;
        let before = row_before.into_iter().chain(block_before).max();
        let after = row_after.into_iter().chain(block_after).min();
        Ok((
            before.map(Timestamp::from_millis),
            after.map(Timestamp::from_millis),
        ))
    }

    fn for_each_open_time(
        &self,
        symbol: &Symbol,
        tf: Timeframe,
        from: Timestamp,
        to: Timestamp,
        f: &mut dyn FnMut(Timestamp),
    ) -> Result<(), StoreError> {
        let Some(sid) = series_id(&self.conn, symbol, tf)? else {
            return Ok(());
        };
        let (from, to) = (from.millis(), to.millis());
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT open_time FROM candles
             WHERE series_id = ?1 AND open_time BETWEEN ?2 AND ?3 ORDER BY open_time",
        )?;
        let rows: Vec<i64> = stmt
            .query_map(params![sid, from, to], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut in_blocks = Vec::new();
        for_each_block(&self.conn, sid, from, to, i64::MAX, false, |b| {
            in_blocks.extend(
                b.bars
                    .iter()
                    .map(|x| x.open_time)
                    .filter(|t| (from..=to).contains(t)),
            );
            true
        })?;
        let (mut i, mut j) = (0, 0);
        while i < rows.len() || j < in_blocks.len() {
            let t = match (rows.get(i), in_blocks.get(j)) {
                (Some(&a), Some(&b)) => a.min(b),
                (Some(&a), None) => a,
                (None, Some(&b)) => b,
                (None, None) => break,
            };
            while rows.get(i) == Some(&t) {
                i += 1;
            }
            while in_blocks.get(j) == Some(&t) {
                j += 1;
            }
            f(Timestamp::from_millis(t));
        }
        Ok(())
    }

    fn candles_each(
        &self,
        symbol: &Symbol,
        tf: Timeframe,
        q: &CandleQuery,
        f: &mut dyn FnMut(&StoredCandle),
    ) -> Result<(), StoreError> {
        // The latest version of each bar available at the time (SQLite returns the other
        // columns of the row that holds the MAX); with `last`, the newest bars first, reversed
        // below.
        let mut stmt = self.conn.prepare_cached(if q.last.is_some() {
            "SELECT open_time, open, high, low, close, volume, quote_volume, trades, source,
                    MAX(available_at), ingested_at, source_bars
             FROM candles
             WHERE series_id = (SELECT id FROM series WHERE symbol = ?1 AND timeframe = ?2)
               AND open_time >= ?3 AND open_time <= ?4
               AND available_at <= ?5
             GROUP BY open_time
             ORDER BY open_time DESC LIMIT ?6"
        } else {
            "SELECT open_time, open, high, low, close, volume, quote_volume, trades, source,
                    MAX(available_at), ingested_at, source_bars
             FROM candles
             WHERE series_id = (SELECT id FROM series WHERE symbol = ?1 AND timeframe = ?2)
               AND open_time >= ?3 AND open_time <= ?4
               AND available_at <= ?5 AND ?6 >= 0
             GROUP BY open_time
             ORDER BY open_time"
        })?;
        let rows = stmt.query_map(
            params![
                symbol.as_str(),
                tf.as_str(),
                q.from.map_or(i64::MIN, Timestamp::millis),
                q.to.map_or(i64::MAX, Timestamp::millis),
                q.asof.map_or(i64::MAX, Timestamp::millis),
                q.last.map_or(0, |n| i64::try_from(n).unwrap_or(i64::MAX)),
            ],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    [
                        r.get::<_, f64>(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ],
                    r.get::<_, Option<f64>>(6)?,
                    r.get::<_, Option<i64>>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, i64>(9)?,
                    r.get::<_, i64>(10)?,
                    r.get::<_, Option<u32>>(11)?,
                ))
            },
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (t, [o, h, l, c, v], qv, trades, source, avail, ingested, source_bars) = row?;
            let open_time = Timestamp::from_millis(t);
            let candle = Candle::new(
                open_time,
                o,
                h,
                l,
                c,
                v,
                qv,
                trades.and_then(|t| u64::try_from(t).ok()),
            )
            .map_err(|e| StoreError::Corrupt {
                what: format!("{symbol} {tf} bar at {open_time}"),
                reason: e.to_string(),
            })?;
            out.push(StoredCandle {
                candle,
                source,
                available_at: Timestamp::from_millis(avail),
                ingested_at: Timestamp::from_millis(ingested),
                source_bars,
            });
        }
        if q.last.is_some() {
            out.reverse();
        }
        // The bars kept in blocks, merged in: of two versions of a bar, the later available.
        let Some(sid) = series_id(&self.conn, symbol, tf)? else {
            out.iter().for_each(f);
            return Ok(());
        };
        let (from, to) = (
            q.from.map_or(i64::MIN, Timestamp::millis),
            q.to.map_or(i64::MAX, Timestamp::millis),
        );
        let asof = q.asof.map_or(i64::MAX, Timestamp::millis);
        let visible = |t: i64, b: &LoadedBlock| {
            (from..=to).contains(&t) && t.saturating_add(b.offset) <= asof
        };
        let mut failed = None;
        let Some(n) = q.last else {
            // Every bar: block bars streamed, the rows merged in as their times come.
            let mut rows = out.into_iter().peekable();
            for_each_block(&self.conn, sid, from, to, asof, false, |b| {
                let mut held: Option<StoredCandle> = None;
                for bar in b.bars.iter().filter(|x| visible(x.open_time, b)) {
                    let candle = match checked(bar, symbol, tf) {
                        Ok(c) => c,
                        Err(e) => {
                            failed = Some(e);
                            return false;
                        }
                    };
                    let available_at = Timestamp::from_millis(bar.open_time + b.offset);
                    while let Some(r) = rows.next_if(|r| r.candle.open_time < candle.open_time) {
                        f(&r);
                    }
                    if let Some(r) = rows.next_if(|r| r.candle.open_time == candle.open_time)
                        && r.available_at >= available_at
                    {
                        f(&r);
                        continue;
                    }
                    let sc = held.get_or_insert_with(|| StoredCandle {
                        candle,
                        source: b.source.clone(),
                        available_at,
                        ingested_at: Timestamp::from_millis(b.ingested_at),
                        source_bars: None,
                    });
                    sc.candle = candle;
                    sc.available_at = available_at;
                    f(sc);
                }
                true
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
            rows.for_each(|r| f(&r));
            return Ok(());
        };
        // The last `n`: blocks newest first until they hold `n` bars, then merged.
        let mut packed: Vec<StoredCandle> = Vec::new();
        for_each_block(&self.conn, sid, from, to, asof, true, |b| {
            let before = packed.len();
            for bar in b.bars.iter().filter(|x| visible(x.open_time, b)) {
                match checked(bar, symbol, tf) {
                    Ok(candle) => packed.push(StoredCandle {
                        candle,
                        source: b.source.clone(),
                        available_at: Timestamp::from_millis(bar.open_time + b.offset),
                        ingested_at: Timestamp::from_millis(b.ingested_at),
                        source_bars: None,
                    }),
                    Err(e) => {
                        failed = Some(e);
                        return false;
                    }
                }
            }
            // Each block's bars are in time order: turned, to keep the whole newest first.
            packed[before..].reverse();
            packed.len() < n
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        packed.reverse();
        let merged = merge_versions(out, packed);
        merged[merged.len().saturating_sub(n)..].iter().for_each(f);
        Ok(())
    }

    fn series(&self) -> Result<Vec<SeriesInfo>, StoreError> {
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
        let mut stmt = self.conn.prepare(
            "SELECT series_id, source, COUNT(*), MIN(first_open), MAX(last_open), SUM(bars)
             FROM candle_blocks GROUP BY series_id, source",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            add(
                &mut by_id,
                r.get(0)?,
                r.get(5)?,
                r.get(3)?,
                r.get(4)?,
                r.get(1)?,
            );
        }
        let packed: BTreeSet<i64> = by_id.keys().copied().collect();
        // Bars kept as rows count once each, and not at all when a block holds them (a
        // revision of a block's bar).
        let mut stmt = self.conn.prepare(
            "SELECT series_id, open_time, GROUP_CONCAT(DISTINCT source)
             FROM candles GROUP BY series_id, open_time ORDER BY series_id, open_time",
        )?;
        let mut rows = stmt.query([])?;
        let mut block: Option<(i64, LoadedBlock)> = None;
        while let Some(r) = rows.next()? {
            let (id, t, sources): (i64, i64, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
            let known = if packed.contains(&id) {
                if block
                    .as_ref()
                    .is_none_or(|(bid, b)| *bid != id || !(b.first_open..=b.last_open).contains(&t))
                {
                    block = block_holding(&self.conn, id, t)?.map(|b| (id, b));
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
        let mut names = self
            .conn
            .prepare("SELECT id, symbol, timeframe FROM series ORDER BY symbol, timeframe")?;
        let rows = names.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut listed = Vec::new();
        for row in rows {
            let (id, symbol, timeframe) = row?;
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use proptest::prelude::*;

    const HOUR: i64 = 3_600_000;
    const BASE: i64 = 1_600_000_000 * 1000 / HOUR * HOUR;

    /// A batch: bars by slot (hours after BASE), close, and hours from open to availability.
    type Batch = Vec<(i64, u8, i64)>;

    fn write(s: &mut SqliteStore, batch: &Batch, k: usize) -> Result<InsertReport, String> {
        let rows: Vec<NewCandle> = batch
            .iter()
            .map(|&(slot, close, lag)| {
                let mut b = bar(BASE + slot * HOUR, f64::from(close) + 10.0);
                b.available_at = Timestamp::from_millis(BASE + (slot + lag) * HOUR);
                b
            })
            .collect();
        let ingest = Timestamp::from_millis(BASE + (1000 + k as i64 * 50) * HOUR);
        s.insert_candles(
            &Symbol::new("BTCUSDT").unwrap(),
            Timeframe::H1,
            Source::real(&format!("batch{k}")),
            ingest,
            &rows,
            Revisions::Keep,
            |_| {},
        )
        .map_err(|e| e.to_string())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Blocks change the layout, never what is read: the same batches written into a
        /// fresh series (each batch's leading run in order after what the series holds goes
        /// to blocks) and into one holding a bar after them all (so every bar is a row) read
        /// the same at every time, by range and by last N. An availability that changes
        /// within a run ends its block.
        #[test]
        fn blocks_read_exactly_like_rows(
            batches in prop::collection::vec(
                prop::collection::vec(
                    (0i64..9000, 0u8..3, prop_oneof![19 => Just(1i64), 1 => Just(2i64)]),
                    1..250,
                )
                    .prop_map(|mut b: Batch| {
                        // Mostly in time order, as files are; sometimes not.
                        if !b.len().is_multiple_of(3) {
                            b.sort_by_key(|x| x.0);
                            b.dedup_by_key(|x| x.0);
                        }
                        b
                    }),
                1..4,
            ),
            asofs in prop::collection::vec(0i64..10_200, 3),
            range in (0i64..9000, 0i64..9000),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut a = SqliteStore::open(&dir.path().join("a.db")).unwrap();
            let mut b = SqliteStore::open(&dir.path().join("b.db")).unwrap();
            let pre = vec![bar(BASE + 20_000 * HOUR, 50.0)];
            b.insert_candles(
                &Symbol::new("BTCUSDT").unwrap(),
                Timeframe::H1,
                Source::real("pre"),
                Timestamp::from_millis(1),
                &pre,
                Revisions::Keep,
                |_| {},
            )
            .unwrap();
            for (k, batch) in batches.iter().enumerate() {
                let (ra, rb) = (write(&mut a, batch, k), write(&mut b, batch, k));
                prop_assert_eq!(&ra, &rb);
            }
            let sym = Symbol::new("BTCUSDT").unwrap();
            let (lo, hi) = (range.0.min(range.1), range.0.max(range.1));
            let mut queries = Vec::new();
            for asof in asofs.iter().map(|h| Some(BASE + h * HOUR)).chain([None]) {
                for last in [None, Some(1), Some(7), Some(300)] {
                    for (from, to) in [(0, 10_000), (lo, hi)] {
                        queries.push(CandleQuery {
                            from: Some(Timestamp::from_millis(BASE + from * HOUR)),
                            to: Some(Timestamp::from_millis(BASE + to * HOUR)),
                            asof: asof.map(Timestamp::from_millis),
                            last,
                        });
                    }
                }
            }
            for q in &queries {
                let (ca, cb) = (a.candles(&sym, Timeframe::H1, q), b.candles(&sym, Timeframe::H1, q));
                prop_assert_eq!(ca.unwrap(), cb.unwrap(), "{:?}", q);
            }
            let times = |s: &SqliteStore| {
                let mut v = Vec::new();
                s.for_each_open_time(
                    &sym,
                    Timeframe::H1,
                    Timestamp::from_millis(BASE),
                    Timestamp::from_millis(BASE + 10_000 * HOUR),
                    &mut |t| v.push(t),
                )
                .unwrap();
                v
            };
            prop_assert_eq!(times(&a), times(&b));
            let (sa, sb) = (a.series().unwrap(), b.series().unwrap());
            // b holds the bar after them all (a may hold nothing, every batch refused).
            prop_assert_eq!(sa.first().map_or(0, |x| x.bars) + 1, sb[0].bars);
        }
    }

    fn bar(t: i64, close: f64) -> NewCandle {
        let candle = Candle::new(
            Timestamp::from_millis(t),
            close,
            close + 1.0,
            close - 1.0,
            close,
            1.0,
            None,
            None,
        )
        .unwrap();
        NewCandle {
            candle,
            available_at: Timestamp::from_millis(t + 3_600_000),
            source_bars: None,
        }
    }

    /// Issue 19, item 12: the bars stored next to a new run, in blocks or rows, for the gaps
    /// an import reports at its ends.
    #[test]
    fn the_stored_bars_around_a_run_are_found_in_blocks_and_rows() {
        let mut s = SqliteStore::in_memory().unwrap();
        let sym = Symbol::new("BTCUSDT").unwrap();
        let h = 3_600_000;
        for hours in [0..100, 300..311] {
            let rows: Vec<_> = hours.map(|i| bar(i * h, 100.0)).collect();
            s.insert_candles(
                &sym,
                Timeframe::H1,
                Source::real("t"),
                Timestamp::from_millis(0),
                &rows,
                Revisions::Keep,
                |_| {},
            )
            .unwrap();
        }
        let around = |a: i64, b: i64| {
            let (x, y) = s
                .open_times_around(
                    &sym,
                    Timeframe::H1,
                    Timestamp::from_millis(a * h),
                    Timestamp::from_millis(b * h),
                )
                .unwrap();
            (x.map(|t| t.millis() / h), y.map(|t| t.millis() / h))
        };
        assert_eq!(around(150, 160), (Some(99), Some(300)));
        assert_eq!(around(305, 305), (Some(304), Some(306)));
        assert_eq!(around(50, 50), (Some(49), Some(51)));
        assert_eq!(around(-5, -1), (None, Some(0)));
        assert_eq!(around(311, 400), (Some(310), None));
    }

    /// Issue 19, item 8: a resample once stored an `inf` volume, and every later read of the
    /// series failed. The write refuses a value that is not finite (or beyond the bounds),
    /// whether the bar would go to a block or a row, and writes nothing.
    #[test]
    fn non_finite_values_are_never_stored() {
        let mut s = SqliteStore::in_memory().unwrap();
        let sym = Symbol::new("BTCUSDT").unwrap();
        for (n, bad_at) in [(10_usize, 3_usize), (200, 150)] {
            let mut rows: Vec<_> = (0..n as i64).map(|i| bar(i * 3_600_000, 100.0)).collect();
            rows[bad_at].candle.volume = f64::INFINITY;
            let e = s
                .insert_candles(
                    &sym,
                    Timeframe::H1,
                    Source::real("t"),
                    Timestamp::from_millis(0),
                    &rows,
                    Revisions::Keep,
                    |_| {},
                )
                .unwrap_err();
            assert!(
                matches!(&e, StoreError::Invalid { tag, .. } if *tag == bad_at as u64),
                "{e}"
            );
            assert!(
                e.to_string().contains("volume: inf is not a finite volume"),
                "{e}"
            );
            assert!(
                s.series().unwrap().iter().all(|x| x.bars == 0),
                "nothing stored"
            );
        }
    }

    #[test]
    fn insert_is_idempotent_conflicts_roll_back_and_reads_are_point_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(&dir.path().join("sub/canary.db")).unwrap();
        let sym = Symbol::new("BTCUSDT").unwrap();
        let tf = Timeframe::H1;
        let rows: Vec<_> = (0..10)
            .map(|i| bar(i * 3_600_000, 100.0 + i as f64))
            .collect();
        let now = Timestamp::from_millis(0);
        assert_eq!(
            s.insert_candles(
                &sym,
                tf,
                Source::real("t"),
                now,
                &rows,
                Revisions::Refuse,
                |_| {}
            )
            .unwrap()
            .inserted,
            10
        );
        let again = s
            .insert_candles(
                &sym,
                tf,
                Source::real("t"),
                now,
                &rows,
                Revisions::Refuse,
                |_| {},
            )
            .unwrap();
        assert_eq!((again.inserted, again.present), (0, 10));

        // A batch with one new bar and one conflicting bar writes nothing.
        let mut bad = vec![bar(10 * 3_600_000, 2.0), bar(3 * 3_600_000, 555.0)];
        bad[0].candle.close = 2.5;
        let e = s
            .insert_candles(
                &sym,
                tf,
                Source::real("t2"),
                now,
                &bad,
                Revisions::Refuse,
                |_| {},
            )
            .unwrap_err();
        assert!(matches!(&e, StoreError::Conflict(c) if c.index == 1), "{e}");
        assert!(
            e.to_string().contains("C 103") && e.to_string().contains("C 555"),
            "{e}"
        );
        assert_eq!(
            s.candles(&sym, tf, &CandleQuery::default()).unwrap().len(),
            10
        );

        // As of 05:30, bars that opened up to 04:00 (available at 05:00) are known.
        let q = CandleQuery {
            asof: Some(Timestamp::from_millis(5 * 3_600_000 + 1_800_000)),
            ..CandleQuery::default()
        };
        let got = s.candles(&sym, tf, &q).unwrap();
        assert_eq!(got.last().unwrap().candle.open_time.millis(), 4 * 3_600_000);
        assert!(got.iter().all(|c| c.available_at <= q.asof.unwrap()));
        // The latest three of those, in time order.
        let last3 = s
            .candles(&sym, tf, &CandleQuery { last: Some(3), ..q })
            .unwrap();
        let times: Vec<i64> = last3
            .iter()
            .map(|c| c.candle.open_time.millis() / 3_600_000)
            .collect();
        assert_eq!(times, [2, 3, 4]);
        drop(s);
        // Reopening keeps the data and does not re-run migrations.
        let s = SqliteStore::open(&dir.path().join("sub/canary.db")).unwrap();
        assert_eq!(s.series().unwrap()[0].bars, 10);
    }

    #[test]
    fn a_revision_is_a_new_version_seen_from_its_ingest_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(&dir.path().join("r.db")).unwrap();
        let sym = Symbol::new("BTCUSDT").unwrap();
        let tf = Timeframe::H1;
        let h = 3_600_000;
        let rows: Vec<_> = (0..5).map(|i| bar(i * h, 100.0 + i as f64)).collect();
        let first = Timestamp::from_millis(10 * h);
        s.insert_candles(
            &sym,
            tf,
            Source::real("a"),
            first,
            &rows,
            Revisions::Keep,
            |_| {},
        )
        .unwrap();
        // A day later bar 2 is re-imported with another close (and bar 3 unchanged).
        let later = Timestamp::from_millis(34 * h);
        let fixed = [bar(2 * h, 150.0), bar(3 * h, 103.0)];
        let r = s
            .insert_candles(
                &sym,
                tf,
                Source::real("b"),
                later,
                &fixed,
                Revisions::Keep,
                |_| {},
            )
            .unwrap();
        assert_eq!((r.inserted, r.present, r.revised), (0, 1, 1));
        let close_at = |t: i64| {
            let q = CandleQuery {
                asof: Some(Timestamp::from_millis(t)),
                ..CandleQuery::default()
            };
            let got = s.candles(&sym, tf, &q).unwrap();
            (
                got.len(),
                got.get(2).map(|c| (c.candle.close, c.source.clone())),
            )
        };
        // Before the revision was ingested the first version is what was known.
        assert_eq!(close_at(20 * h), (5, Some((102.0, "a".to_string()))));
        assert_eq!(close_at(34 * h), (5, Some((150.0, "b".to_string()))));
        assert_eq!(s.series().unwrap()[0].bars, 5, "versions are not bars");
        // Importing the revision again changes nothing; refusing revisions names both values.
        let again = s
            .insert_candles(
                &sym,
                tf,
                Source::real("b"),
                later,
                &fixed,
                Revisions::Keep,
                |_| {},
            )
            .unwrap();
        assert_eq!((again.present, again.revised), (2, 0));
        let e = s
            .insert_candles(
                &sym,
                tf,
                Source::real("a"),
                later,
                &[bar(2 * h, 102.0)],
                Revisions::Refuse,
                |_| {},
            )
            .unwrap_err();
        assert!(
            matches!(&e, StoreError::Conflict(c) if c.what == "BTCUSDT 1h bar at 1970-01-01T02:00:00Z" && c.stored.contains("C 150") && c.new.contains("C 102")),
            "{e}"
        );
    }

    #[test]
    fn a_bar_given_twice_in_one_write_is_refused_naming_its_tag() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(&dir.path().join("d.db")).unwrap();
        let sym = Symbol::new("BTCUSDT").unwrap();
        let h = 3_600_000;
        let now = Timestamp::from_millis(0);
        // Into an empty series and into one that holds bars.
        for round in 0..2 {
            let rows = [(10, bar(0, 10.0)), (11, bar(h, 20.0)), (12, bar(0, 10.0))];
            let e = s
                .insert_candles_from(
                    &sym,
                    Timeframe::H1,
                    Source::real("f"),
                    now,
                    rows.iter().map(|&(t, b)| Ok::<_, String>((t, b))),
                    Revisions::Keep,
                    |_| {},
                )
                .unwrap_err();
            assert!(
                matches!(&e, WriteError::Store(StoreError::Duplicate { tag: 12, .. })),
                "round {round}: {e}"
            );
            if round == 0 {
                s.insert_candles(
                    &sym,
                    Timeframe::H1,
                    Source::real("f"),
                    now,
                    &[bar(5 * h, 90.0)],
                    Revisions::Keep,
                    |_| {},
                )
                .unwrap();
            }
        }
        // The same bar twice with another availability, into a series holding none: refused.
        let other = Symbol::new("ETHUSDT").unwrap();
        let mut later = bar(0, 10.0);
        later.available_at = Timestamp::from_millis(2 * h);
        let e = s
            .insert_candles(
                &other,
                Timeframe::H1,
                Source::real("f"),
                now,
                &[bar(0, 10.0), later],
                Revisions::Keep,
                |_| {},
            )
            .unwrap_err();
        assert!(matches!(&e, StoreError::Duplicate { tag: 1, .. }), "{e}");
        // An input error stops the write; nothing of it is stored.
        let rows = vec![Ok((1, bar(7 * h, 10.0))), Err("line 2: bad".to_string())];
        let e = s
            .insert_candles_from(
                &sym,
                Timeframe::H1,
                Source::real("f"),
                now,
                rows,
                Revisions::Keep,
                |_| {},
            )
            .unwrap_err();
        assert!(matches!(&e, WriteError::Input(m) if m == "line 2: bad"));
        assert_eq!(
            s.candles(&sym, Timeframe::H1, &CandleQuery::default())
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn a_source_keeps_its_kind() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(&dir.path().join("k.db")).unwrap();
        let sym = Symbol::new("BTCUSDT").unwrap();
        let now = Timestamp::from_millis(0);
        let rows = [bar(0, 100.0)];
        s.insert_candles(
            &sym,
            Timeframe::H1,
            Source::sim("sim"),
            now,
            &rows,
            Revisions::Refuse,
            |_| {},
        )
        .unwrap();
        let more = [bar(3_600_000, 101.0)];
        let e = s
            .insert_candles(
                &sym,
                Timeframe::H1,
                Source::real("sim"),
                now,
                &more,
                Revisions::Refuse,
                |_| {},
            )
            .unwrap_err();
        assert!(
            matches!(
                &e,
                StoreError::SourceKind { name, stored: SourceKind::Sim, new: SourceKind::Real } if name == "sim"
            ),
            "{e}"
        );
        assert_eq!(
            s.candles(&sym, Timeframe::H1, &CandleQuery::default())
                .unwrap()
                .len(),
            1,
            "nothing written"
        );
        assert_eq!(s.source_kinds().unwrap()["sim"], SourceKind::Sim);
    }

    #[test]
    fn databases_from_before_source_kinds_are_classified_on_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let c = rusqlite::Connection::open(&path).unwrap();
            for (_, sql) in &crate::sqlite::MIGRATIONS[..3] {
                c.execute_batch(sql).unwrap();
            }
            c.pragma_update(None, "user_version", 3).unwrap();
            for (sym, src) in [("A", "sim"), ("B", "sim:resample:4h"), ("C", "file.csv")] {
                c.execute(
                    "INSERT INTO candles VALUES (?1, '1h', 0, 1, 1, 1, 1, 1, NULL, NULL, ?2, 0, 0, NULL)",
                    rusqlite::params![sym, src],
                )
                .unwrap();
            }
        }
        let s = SqliteStore::open(&path).unwrap();
        let kinds = s.source_kinds().unwrap();
        assert_eq!(kinds["sim"], SourceKind::Sim);
        assert_eq!(kinds["sim:resample:4h"], SourceKind::Sim);
        assert_eq!(kinds["file.csv"], SourceKind::Real);
    }
}
