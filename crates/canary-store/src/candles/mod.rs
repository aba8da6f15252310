//! Candles: insert (one transaction, idempotent, conflicts refused) and point-in-time reads.
//!
//! This file has the bar types and the queries, the blocks as stored (what the write path
//! looks bars up in and every read merges in), and the store's `CandleStore` methods, each
//! handing over to its path: `insert.rs` writes (the block packer and the row-by-row write),
//! `read.rs` reads (blocks and rows merged, the later available version of a bar winning),
//! `series.rs` lists the series.

#[cfg(test)]
use canary_model::SourceKind;

use canary_model::{Candle, Symbol, Timeframe, Timestamp};

use crate::blocks::{self, BlockBar};
use crate::sql::{Db, Row, args};
use crate::write::{Revisions, WriteError};
use crate::{CandleStore, Source, SqlStore, Stopped, StoreError};

mod insert;
pub(crate) use insert::{MIN_BLOCK_BARS, insert_candle_stream, invalid_bar};
mod read;
mod series;

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
    fn from_row(r: &Row<'_>) -> Result<Self, StoreError> {
        let data: Vec<u8> = r.get(5)?;
        let bars = blocks::decode(&data).map_err(|e| StoreError::Corrupt {
            what: "a block of bars".to_string(),
            reason: e.clone(),
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
fn block_holding(db: &Db, series_id: i64, t: i64) -> Result<Option<LoadedBlock>, StoreError> {
    db.one(
        &format!(
            "SELECT {BLOCK_COLUMNS} FROM candle_blocks
             WHERE series_id = ?1 AND first_open <= ?2 AND last_open >= ?2"
        ),
        args![series_id, t],
        LoadedBlock::from_row,
    )
}

impl CandleStore for SqlStore {
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
        let report = insert::insert_candle_stream(
            &tx,
            symbol,
            tf,
            source,
            ingested_at,
            rows,
            revisions,
            progress,
        )?;
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
        read::open_times_around(&self.db, symbol, tf, first, last)
    }

    fn for_each_open_time(
        &self,
        symbol: &Symbol,
        tf: Timeframe,
        from: Timestamp,
        to: Timestamp,
        f: &mut dyn FnMut(Timestamp),
    ) -> Result<(), StoreError> {
        read::for_each_open_time(&self.db, symbol, tf, from, to, f)
    }

    fn candles_each(
        &self,
        symbol: &Symbol,
        tf: Timeframe,
        q: &CandleQuery,
        f: &mut dyn FnMut(&StoredCandle),
    ) -> Result<(), StoreError> {
        read::candles_each(&self.db, symbol, tf, q, f)
    }

    fn series(&self) -> Result<Vec<SeriesInfo>, StoreError> {
        series::series(&self.db)
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

    fn write(s: &mut SqlStore, batch: &Batch, k: usize) -> Result<InsertReport, String> {
        let rows: Vec<NewCandle> = batch
            .iter()
            .map(|&(slot, close, lag)| {
                let mut b = bar(BASE + slot * HOUR, f64::from(close) + 10.0);
                b.available_at = Timestamp::from_millis(BASE + (slot + lag) * HOUR);
                b
            })
            .collect();
        let ingest = Timestamp::from_millis(BASE + (1000 + i64::try_from(k).unwrap() * 50) * HOUR);
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
            let mut a = SqlStore::open(&dir.path().join("a.db")).unwrap();
            let mut b = SqlStore::open(&dir.path().join("b.db")).unwrap();
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
            let times = |s: &SqlStore| {
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
        let mut s = SqlStore::in_memory().unwrap();
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
        let mut s = SqlStore::in_memory().unwrap();
        let sym = Symbol::new("BTCUSDT").unwrap();
        for (n, bad_at) in [(10_usize, 3_usize), (200, 150)] {
            let mut rows: Vec<_> = (0..i64::try_from(n).unwrap())
                .map(|i| bar(i * 3_600_000, 100.0))
                .collect();
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
        let mut s = SqlStore::open(&dir.path().join("sub/canary.db")).unwrap();
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
        let s = SqlStore::open(&dir.path().join("sub/canary.db")).unwrap();
        assert_eq!(s.series().unwrap()[0].bars, 10);
    }

    #[test]
    fn a_revision_is_a_new_version_seen_from_its_ingest_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqlStore::open(&dir.path().join("r.db")).unwrap();
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
        let mut s = SqlStore::open(&dir.path().join("d.db")).unwrap();
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
        let mut s = SqlStore::open(&dir.path().join("k.db")).unwrap();
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
        let s = SqlStore::open(&path).unwrap();
        let kinds = s.source_kinds().unwrap();
        assert_eq!(kinds["sim"], SourceKind::Sim);
        assert_eq!(kinds["sim:resample:4h"], SourceKind::Sim);
        assert_eq!(kinds["file.csv"], SourceKind::Real);
    }
}
