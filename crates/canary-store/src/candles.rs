//! Candles: insert (one transaction, idempotent, conflicts refused) and point-in-time reads.

#[cfg(test)]
use canary_model::SourceKind;
use canary_model::{Candle, Symbol, Timeframe, Timestamp};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::write::{self, Record, Revisions, Stored, Target, WriteError};
use crate::{Source, Store, StoreError};

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
}

impl Record for CandleRecord<'_> {
    type Values = Candle;
    const VERSIONED: bool = true;

    fn latest(&self, tx: &Transaction<'_>) -> rusqlite::Result<Option<Stored<Candle>>> {
        let c = &self.row.candle;
        tx.prepare_cached(
            "SELECT open, high, low, close, volume, quote_volume, trades, source, available_at,
                    ingested_at
             FROM candles WHERE series_id = ?1 AND open_time = ?2
             ORDER BY available_at DESC LIMIT 1",
        )?
        .query_row(params![self.series_id, c.open_time.millis()], |r| {
            Ok(Stored {
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
                available_at: r.get(8)?,
                ingested_at: r.get(9)?,
            })
        })
        .optional()
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
}

impl Store {
    /// Insert bars of one series in a single transaction. A bar already stored with the same
    /// values is counted as present and skipped; one stored with other values is a revision
    /// (with [`Revisions::Keep`]: a new version, available from `ingested_at`) or aborts the
    /// whole insert ([`Revisions::Refuse`]: [`StoreError::Conflict`], naming both, its `index`
    /// the bar's position), and then nothing is written. `progress` is called with the number
    /// of bars handled so far, every few thousand bars.
    ///
    /// # Errors
    /// A conflict, a bar given twice, or a database error (the transaction is rolled back).
    #[allow(clippy::too_many_arguments)] // each is one fact of the write; a struct would only rename them
    pub fn insert_candles(
        &mut self,
        symbol: &Symbol,
        tf: Timeframe,
        source: Source<'_>,
        ingested_at: Timestamp,
        rows: &[NewCandle],
        revisions: Revisions,
        progress: impl FnMut(usize),
    ) -> Result<InsertReport, StoreError> {
        let tagged = rows
            .iter()
            .enumerate()
            .map(|(i, r)| Ok::<_, std::convert::Infallible>((i as u64, *r)));
        self.insert_candles_from(symbol, tf, source, ingested_at, tagged, revisions, progress)
            .map_err(write::unwrap_store)
    }

    /// [`Store::insert_candles`] from a stream of tagged bars (a file line and its bar, as they
    /// are read): memory stays flat whatever the number of bars, and the whole stream is one
    /// transaction. An input error stops the write and comes back as
    /// [`WriteError::Input`]; conflicts and duplicates carry the bar's tag. Into a series that
    /// holds no bars yet, each bar is inserted without looking first.
    ///
    /// # Errors
    /// The stream's first error, a conflict, a bar given twice, or a database error; nothing
    /// is written.
    #[allow(clippy::too_many_arguments)]
    pub fn insert_candles_from<E>(
        &mut self,
        symbol: &Symbol,
        tf: Timeframe,
        source: Source<'_>,
        ingested_at: Timestamp,
        rows: impl IntoIterator<Item = Result<(u64, NewCandle), E>>,
        revisions: Revisions,
        progress: impl FnMut(usize),
    ) -> Result<InsertReport, WriteError<E>> {
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
        let held: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM candles WHERE series_id = ?1)",
            params![series_id],
            |r| r.get(0),
        )?;
        let target = if held {
            Target::Existing
        } else {
            Target::Fresh
        };
        let records = rows.into_iter().map(|r| {
            r.map(|(tag, row)| {
                (
                    tag,
                    CandleRecord {
                        symbol,
                        tf,
                        series_id,
                        row,
                    },
                )
            })
        });
        let report = write::insert(
            &tx,
            records,
            source.name,
            crate::stamp(&tx, ingested_at)?,
            revisions,
            target,
            progress,
        )?;
        tx.commit()?;
        Ok(report)
    }

    /// Call `f` with the open time of every stored bar of a series from `from` to `to`
    /// (inclusive), in order, whatever its version: the times a gap report reads.
    ///
    /// # Errors
    /// A database error.
    pub fn for_each_open_time(
        &self,
        symbol: &Symbol,
        tf: Timeframe,
        from: Timestamp,
        to: Timestamp,
        mut f: impl FnMut(Timestamp),
    ) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT open_time FROM candles
             WHERE series_id = (SELECT id FROM series WHERE symbol = ?1 AND timeframe = ?2) AND open_time BETWEEN ?3 AND ?4
             ORDER BY open_time",
        )?;
        let mut rows = stmt.query(params![
            symbol.as_str(),
            tf.as_str(),
            from.millis(),
            to.millis()
        ])?;
        while let Some(r) = rows.next()? {
            f(Timestamp::from_millis(r.get(0)?));
        }
        Ok(())
    }

    /// Bars of one series in open-time order, as of `q.asof`.
    ///
    /// # Errors
    /// A database error, or a stored row that is no longer a valid candle.
    pub fn candles(
        &self,
        symbol: &Symbol,
        tf: Timeframe,
        q: &CandleQuery,
    ) -> Result<Vec<StoredCandle>, StoreError> {
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
        Ok(out)
    }

    /// Every stored series with its extent, sorted by symbol and timeframe.
    ///
    /// # Errors
    /// A database error.
    pub fn series(&self) -> Result<Vec<SeriesInfo>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT s.symbol, s.timeframe, COUNT(DISTINCT c.open_time), MIN(c.open_time),
                    MAX(c.open_time), GROUP_CONCAT(DISTINCT c.source)
             FROM candles c JOIN series s ON s.id = c.series_id
             GROUP BY c.series_id ORDER BY s.symbol, s.timeframe",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
            ))
        })?;
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

    #[test]
    fn insert_is_idempotent_conflicts_roll_back_and_reads_are_point_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("sub/canary.db")).unwrap();
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
        let s = Store::open(&dir.path().join("sub/canary.db")).unwrap();
        assert_eq!(s.series().unwrap()[0].bars, 10);
    }

    #[test]
    fn a_revision_is_a_new_version_seen_from_its_ingest_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("r.db")).unwrap();
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
        let mut s = Store::open(&dir.path().join("d.db")).unwrap();
        let sym = Symbol::new("BTCUSDT").unwrap();
        let h = 3_600_000;
        let now = Timestamp::from_millis(0);
        // Into an empty series (inserted without looking first) and into one that holds bars.
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
        let mut s = Store::open(&dir.path().join("k.db")).unwrap();
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
            for (_, sql) in &crate::MIGRATIONS[..3] {
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
        let s = Store::open(&path).unwrap();
        let kinds = s.source_kinds().unwrap();
        assert_eq!(kinds["sim"], SourceKind::Sim);
        assert_eq!(kinds["sim:resample:4h"], SourceKind::Sim);
        assert_eq!(kinds["file.csv"], SourceKind::Real);
    }
}
