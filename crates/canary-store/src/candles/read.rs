//! The read path: the latest version of each bar available at a time, merged from the rows of
//! `candles` and the bars packed in `candle_blocks` (of two versions of a bar, the later
//! available wins), handed over in open-time order as they are read (`candles_each`) or only
//! the last N; and the open times stored around a run or within a range, from both.

use canary_model::{Candle, Symbol, Timeframe, Timestamp};

use super::{BLOCK_COLUMNS, CandleQuery, LoadedBlock, StoredCandle, block_candle};
use crate::StoreError;
use crate::blocks::BlockBar;
use crate::sql::{Db, Dialect, args};

/// Call `f` with each bar `q` selects, in open-time order: the rows' latest versions and the
/// blocks' bars, merged.
pub(super) fn candles_each(
    db: &Db,
    symbol: &Symbol,
    tf: Timeframe,
    q: &CandleQuery,
    f: &mut dyn FnMut(&StoredCandle),
) -> Result<(), StoreError> {
    let rows = latest_rows(db, symbol, tf, q)?;
    // The bars kept in blocks, merged in: of two versions of a bar, the later available.
    let Some(sid) = series_id(db, symbol, tf)? else {
        rows.iter().for_each(f);
        return Ok(());
    };
    let window = Window::of(q);
    let Some(n) = q.last else {
        return stream_merged(db, sid, symbol, tf, window, rows, f);
    };
    let packed = newest_block_bars(db, sid, symbol, tf, window, n)?;
    let merged = merge_versions(rows, packed);
    merged[merged.len().saturating_sub(n)..].iter().for_each(f);
    Ok(())
}

/// The bars a query sees: opened from `from` to `to` (inclusive), available by `asof`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    from: i64,
    to: i64,
    asof: i64,
}

impl Window {
    fn of(q: &CandleQuery) -> Self {
        Window {
            from: q.from.map_or(i64::MIN, Timestamp::millis),
            to: q.to.map_or(i64::MAX, Timestamp::millis),
            asof: q.asof.map_or(i64::MAX, Timestamp::millis),
        }
    }

    /// Whether the bar of block `b` opened at `t` is seen.
    fn shows(&self, t: i64, b: &LoadedBlock) -> bool {
        (self.from..=self.to).contains(&t) && t.saturating_add(b.offset) <= self.asof
    }
}

/// The latest version of each bar kept as a row that `q` selects, in open-time order (with
/// `last`, only the newest that many).
fn latest_rows(
    db: &Db,
    symbol: &Symbol,
    tf: Timeframe,
    q: &CandleQuery,
) -> Result<Vec<StoredCandle>, StoreError> {
    // The latest version of each bar available at the time; with `last`, the newest bars
    // first, reversed below.
    let columns = "open_time, open, high, low, close, volume, quote_volume, trades, source";
    let filter = "FROM candles
         WHERE series_id = (SELECT id FROM series WHERE symbol = ?1 AND timeframe = ?2)
           AND open_time >= ?3 AND open_time <= ?4 AND available_at <= ?5";
    let order = if q.last.is_some() { "DESC" } else { "ASC" };
    let limit = if q.last.is_some() { "LIMIT ?6" } else { "" };
    let sql = match db.dialect() {
        // SQLite returns the other columns of the row that holds the MAX().
        Dialect::Sqlite => format!(
            "SELECT {columns}, MAX(available_at), ingested_at, source_bars {filter}
             GROUP BY open_time ORDER BY open_time {order} {limit}"
        ),
        Dialect::Postgres => format!(
            "SELECT DISTINCT ON (open_time) {columns}, available_at, ingested_at, source_bars
             {filter} ORDER BY open_time {order}, available_at DESC {limit}"
        ),
    };
    let last = q.last.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    let (name, tf_name, n) = (symbol.as_str(), tf.as_str(), last.unwrap_or(0));
    let (from, to, asof) = (
        q.from.map_or(i64::MIN, Timestamp::millis),
        q.to.map_or(i64::MAX, Timestamp::millis),
        q.asof.map_or(i64::MAX, Timestamp::millis),
    );
    let all_args = args![name, tf_name, from, to, asof, n];
    let given = if last.is_some() {
        all_args
    } else {
        &all_args[..5]
    };
    let rows = db.all(&sql, given, |r| {
        Ok((
            r.get::<i64>(0)?,
            [r.get::<f64>(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?],
            r.get::<Option<f64>>(6)?,
            r.get::<Option<i64>>(7)?,
            r.get::<String>(8)?,
            r.get::<i64>(9)?,
            r.get::<i64>(10)?,
            r.get::<Option<u32>>(11)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (t, [o, h, l, c, v], qv, trades, source, avail, ingested, source_bars) = row;
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
    Ok(out)
}

/// Every bar the window shows, in open-time order: the blocks' bars streamed, the rows (the
/// latest versions, in open-time order) merged in as their times come; of two versions of a
/// bar, the later available.
fn stream_merged(
    db: &Db,
    sid: i64,
    symbol: &Symbol,
    tf: Timeframe,
    window: Window,
    rows: Vec<StoredCandle>,
    f: &mut dyn FnMut(&StoredCandle),
) -> Result<(), StoreError> {
    let mut failed = None;
    let mut rows = rows.into_iter().peekable();
    for_each_block(db, sid, window.from, window.to, window.asof, false, |b| {
        let mut held: Option<StoredCandle> = None;
        for bar in b.bars.iter().filter(|x| window.shows(x.open_time, b)) {
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
    Ok(())
}

/// The blocks' bars the window shows, read from the newest block back until they number `n`
/// or more (whole blocks), in open-time order.
fn newest_block_bars(
    db: &Db,
    sid: i64,
    symbol: &Symbol,
    tf: Timeframe,
    window: Window,
    n: usize,
) -> Result<Vec<StoredCandle>, StoreError> {
    let mut failed = None;
    let mut packed: Vec<StoredCandle> = Vec::new();
    for_each_block(db, sid, window.from, window.to, window.asof, true, |b| {
        let before = packed.len();
        for bar in b.bars.iter().filter(|x| window.shows(x.open_time, b)) {
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
    Ok(packed)
}

pub(super) fn open_times_around(
    db: &Db,
    symbol: &Symbol,
    tf: Timeframe,
    first: Timestamp,
    last: Timestamp,
) -> Result<(Option<Timestamp>, Option<Timestamp>), StoreError> {
    let Some(sid) = series_id(db, symbol, tf)? else {
        return Ok((None, None));
    };
    let (first, last) = (first.millis(), last.millis());
    let row_before: Option<i64> = db.value(
        "SELECT MAX(open_time) FROM candles WHERE series_id = ?1 AND open_time < ?2",
        args![sid, first],
    )?;
    let row_after: Option<i64> = db.value(
        "SELECT MIN(open_time) FROM candles WHERE series_id = ?1 AND open_time > ?2",
        args![sid, last],
    )?;
    let mut block_before: Option<i64> = None;
    for_each_block(db, sid, i64::MIN, first - 1, i64::MAX, true, |b| {
        block_before = b
            .bars
            .iter()
            .map(|x| x.open_time)
            .filter(|&t| t < first)
            .max();
        block_before.is_none()
    })?;
    let mut block_after: Option<i64> = None;
    for_each_block(db, sid, last + 1, i64::MAX, i64::MAX, false, |b| {
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

pub(super) fn for_each_open_time(
    db: &Db,
    symbol: &Symbol,
    tf: Timeframe,
    from: Timestamp,
    to: Timestamp,
    f: &mut dyn FnMut(Timestamp),
) -> Result<(), StoreError> {
    let Some(sid) = series_id(db, symbol, tf)? else {
        return Ok(());
    };
    let (from, to) = (from.millis(), to.millis());
    let rows: Vec<i64> = db.all(
        "SELECT DISTINCT open_time FROM candles
             WHERE series_id = ?1 AND open_time BETWEEN ?2 AND ?3 ORDER BY open_time",
        args![sid, from, to],
        |r| r.get(0),
    )?;
    let mut in_blocks = Vec::new();
    for_each_block(db, sid, from, to, i64::MAX, false, |b| {
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

/// The id of a stored series.
fn series_id(db: &Db, symbol: &Symbol, tf: Timeframe) -> Result<Option<i64>, StoreError> {
    db.one(
        "SELECT id FROM series WHERE symbol = ?1 AND timeframe = ?2",
        args![symbol.as_str(), tf.as_str()],
        |r| r.get(0),
    )
}

/// Call `f` with each block of a series that may hold bars opened from `from` to `to` and
/// available by `asof`, in time order (newest first with `newest_first`), until it returns
/// false.
fn for_each_block(
    db: &Db,
    sid: i64,
    from: i64,
    to: i64,
    asof: i64,
    newest_first: bool,
    mut f: impl FnMut(&LoadedBlock) -> bool,
) -> Result<(), StoreError> {
    let sql = format!(
        "SELECT {BLOCK_COLUMNS} FROM candle_blocks
         WHERE series_id = ?1 AND last_open >= ?2 AND first_open <= ?3
           AND first_open + avail_offset <= ?4
         ORDER BY first_open {}",
        if newest_first { "DESC" } else { "ASC" }
    );
    db.each(&sql, args![sid, from, to, asof], |r| {
        Ok(f(&LoadedBlock::from_row(r)?))
    })
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

/// A block's bar as a valid candle, or the error naming it.
fn checked(bar: &BlockBar, symbol: &Symbol, tf: Timeframe) -> Result<Candle, StoreError> {
    let c = block_candle(bar);
    c.checked().map_err(|e| StoreError::Corrupt {
        what: format!("{symbol} {tf} bar at {}", c.open_time),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::{Revisions, Source, SqlStore};

    const H: i64 = 3_600_000;

    /// A bar opened at hour `hour`, closing at `close`, available an hour after its open.
    fn bar(hour: i64, close: f64) -> crate::NewCandle {
        let t = Timestamp::from_millis(hour * H);
        crate::NewCandle {
            candle: Candle::new(t, close, close + 1.0, close - 1.0, close, 1.0, None, None)
                .unwrap(),
            available_at: Timestamp::from_millis((hour + 1) * H),
            source_bars: None,
        }
    }

    fn sym() -> Symbol {
        Symbol::new("BTCUSDT").unwrap()
    }

    /// Store `bars` as one write ingested at hour `at`.
    fn write(s: &mut SqlStore, source: &str, at: i64, bars: &[crate::NewCandle]) {
        s.insert_candles(
            &sym(),
            Timeframe::H1,
            Source::real(source),
            Timestamp::from_millis(at * H),
            bars,
            Revisions::Keep,
            |_| {},
        )
        .unwrap();
    }

    fn query(asof_hour: Option<i64>, last: Option<usize>) -> CandleQuery {
        CandleQuery {
            asof: asof_hour.map(|h| Timestamp::from_millis(h * H)),
            last,
            ..CandleQuery::default()
        }
    }

    fn hours(bars: &[StoredCandle]) -> Vec<i64> {
        bars.iter()
            .map(|c| c.candle.open_time.millis() / H)
            .collect()
    }

    fn blocks(s: &SqlStore) -> i64 {
        s.db.value("SELECT COUNT(*) FROM candle_blocks", &[])
            .unwrap()
    }

    #[test]
    fn a_window_shows_a_blocks_bar_opened_in_range_and_available_by_asof() {
        let block = LoadedBlock {
            first_open: 0,
            last_open: 20 * H,
            source: "t".into(),
            ingested_at: 0,
            offset: H,
            bars: Vec::new(),
        };
        let w = Window::of(&CandleQuery {
            from: Some(Timestamp::from_millis(2 * H)),
            to: Some(Timestamp::from_millis(10 * H)),
            asof: Some(Timestamp::from_millis(5 * H)),
            last: None,
        });
        let shown: Vec<i64> = (0..=20).filter(|h| w.shows(h * H, &block)).collect();
        // Opened from 2h, and available (an hour after the open) by 5h.
        assert_eq!(shown, [2, 3, 4]);
        // No bounds: everything, the availability of the last open time saturating.
        let all = Window::of(&CandleQuery::default());
        assert!(all.shows(i64::MIN, &block) && all.shows(i64::MAX, &block));
    }

    #[test]
    fn latest_rows_are_each_bars_latest_version_known_in_open_time_order() {
        let mut s = SqlStore::in_memory().unwrap();
        write(
            &mut s,
            "a",
            10,
            &(0..5).map(|h| bar(h, 100.0)).collect::<Vec<_>>(),
        );
        write(&mut s, "b", 34, &[bar(2, 150.0)]);
        assert_eq!(blocks(&s), 0, "a short write is rows");
        let rows = |q| latest_rows(&s.db, &sym(), Timeframe::H1, &q).unwrap();
        let before = rows(query(Some(20), None));
        assert_eq!(hours(&before), [0, 1, 2, 3, 4]);
        assert_eq!(
            (before[2].candle.close, before[2].source.as_str()),
            (100.0, "a")
        );
        let after = rows(query(None, None));
        assert_eq!(
            (after[2].candle.close, after[2].source.as_str()),
            (150.0, "b")
        );
        // The newest two, still in time order; and only those available by 3h (bar 2 at 3h).
        assert_eq!(hours(&rows(query(None, Some(2)))), [3, 4]);
        assert_eq!(hours(&rows(query(Some(3), None))), [0, 1, 2]);
    }

    #[test]
    fn newest_block_bars_read_whole_blocks_back_until_they_hold_n() {
        let mut s = SqlStore::in_memory().unwrap();
        write(
            &mut s,
            "a",
            0,
            &(0..100).map(|h| bar(h, 100.0)).collect::<Vec<_>>(),
        );
        write(
            &mut s,
            "a",
            0,
            &(100..200).map(|h| bar(h, 100.0)).collect::<Vec<_>>(),
        );
        assert_eq!(blocks(&s), 2, "each write appended a block");
        let sid = series_id(&s.db, &sym(), Timeframe::H1).unwrap().unwrap();
        let newest = |asof, n| {
            let w = Window::of(&query(asof, None));
            hours(&newest_block_bars(&s.db, sid, &sym(), Timeframe::H1, w, n).unwrap())
        };
        assert_eq!(newest(None, 50), (100..200).collect::<Vec<_>>());
        assert_eq!(newest(None, 101), (0..200).collect::<Vec<_>>());
        // Known by 150h: the newest block shows 50 bars, enough for 50, not for 51.
        assert_eq!(newest(Some(150), 50), (100..150).collect::<Vec<_>>());
        assert_eq!(newest(Some(150), 51), (0..150).collect::<Vec<_>>());
    }

    #[test]
    fn stream_merged_hands_over_rows_between_block_bars_the_later_version_winning() {
        let mut s = SqlStore::in_memory().unwrap();
        write(
            &mut s,
            "a",
            0,
            &(10..110).map(|h| bar(h, 100.0)).collect::<Vec<_>>(),
        );
        // A revision of a block's bar (known from its ingest at 200h), bars before and after.
        write(
            &mut s,
            "b",
            200,
            &[bar(5, 50.0), bar(20, 150.0), bar(300, 70.0)],
        );
        assert_eq!(blocks(&s), 1);
        let sid = series_id(&s.db, &sym(), Timeframe::H1).unwrap().unwrap();
        let streamed = |asof| {
            let q = query(asof, None);
            let rows = latest_rows(&s.db, &sym(), Timeframe::H1, &q).unwrap();
            let mut out = Vec::new();
            stream_merged(
                &s.db,
                sid,
                &sym(),
                Timeframe::H1,
                Window::of(&q),
                rows,
                &mut |c| {
                    out.push((c.candle.open_time.millis() / H, c.candle.close));
                },
            )
            .unwrap();
            out
        };
        let now = streamed(None);
        let mut want: Vec<(i64, f64)> = vec![(5, 50.0)];
        want.extend((10..110).map(|h| (h, if h == 20 { 150.0 } else { 100.0 })));
        want.push((300, 70.0));
        assert_eq!(now, want);
        // Before the revision was ingested, the block's version.
        let then = streamed(Some(150));
        assert_eq!(then.len(), 101);
        assert_eq!(then[11], (20, 100.0));
    }
}
