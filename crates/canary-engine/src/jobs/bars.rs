//! Bars into the store: a candle file read and validated row by row as it streams into one
//! write (a bad row stops it and nothing of the file is stored), with the gaps inside the run
//! and where it meets the bars already stored; simulated bars; a bar file stored whole.

use std::fs::File;
use std::path::{Path, PathBuf};

use canary_ingest::csv::{CandleStream, Gap, ImportError, ImportOptions, find_gaps, read_candles};
use canary_ingest::lines::CrlfAsLf;
use canary_model::{Candle, SourceKind, Symbol, Timeframe, Timestamp};
use canary_store::prelude::*;
use canary_store::{InsertReport, NewCandle, Revisions, Source, StoreError, Stores, WriteError};

use super::WriteFailed;

use crate::EngineError;

/// Why bars could not be read or stored. Nothing of the run was stored.
#[derive(Debug, thiserror::Error)]
pub enum BarsError {
    /// The file cannot be opened.
    #[error("cannot read {}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file's layout or one of its rows, found before the write began or on a check
    /// (`FILE:LINE: field: reason`).
    #[error(transparent)]
    File(ImportError),
    /// The write stopped on this.
    #[error(transparent)]
    Write(WriteFailed),
    /// Reading the stored bars around the run (after the write).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Simulated bars under a symbol that has real ones (the series named).
    #[error(
        "the database holds real bars ({}): simulated bars would sit beside them",
        series.join(", ")
    )]
    BesideReal { symbol: Symbol, series: Vec<String> },
}

/// What a candle file held and what its import stored (or, for a check, would store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BarsImported {
    pub symbol: Symbol,
    pub timeframe: Timeframe,
    /// The source the bars are stored under.
    pub source: String,
    pub simulated: bool,
    /// What the write did; `None` for a check, which stores nothing.
    pub stored: Option<InsertReport>,
    /// Bars read.
    pub bars: u64,
    /// Rows skipped because the file marks them partial.
    pub partial_skipped: usize,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    /// The missing bars, in time order; `None` when a check met rows out of time order (the
    /// gaps are found once they are stored).
    pub gaps: Option<Vec<Gap>>,
    /// How many of `gaps` lie between the bars already stored and the run's first or last
    /// bar: the first and last gaps.
    pub edge_gaps: usize,
}

impl BarsImported {
    /// Put the gaps between the bars `store` holds and this run's ends around the run's own
    /// (when those are known): what an import reports, and what a check of a file against a
    /// database adds.
    ///
    /// # Errors
    /// A database error.
    pub fn add_stored_ends(&mut self, store: &dyn Stores) -> Result<(), StoreError> {
        let (Some(first), Some(last), Some(gaps)) = (self.first, self.last, &mut self.gaps) else {
            return Ok(());
        };
        let tf = self.timeframe;
        let (before, after) = store.open_times_around(&self.symbol, tf, first, last)?;
        let before = before.map_or_else(Vec::new, |b| find_gaps([b, first].into_iter(), tf));
        let after = after.map_or_else(Vec::new, |n| find_gaps([last, n].into_iter(), tf));
        self.edge_gaps = before.len() + after.len();
        let inner = std::mem::take(gaps);
        *gaps = before.into_iter().chain(inner).chain(after).collect();
        Ok(())
    }
}

/// A candle file opened for import: its layout and timeframe known from its head, its rows
/// read as it is imported or checked.
#[derive(Debug)]
pub struct CandleFile {
    path: PathBuf,
    stream: CandleStream<CrlfAsLf<File>>,
}

impl CandleFile {
    /// Open `path` and read its layout and head (the timeframe detected unless `opts` gives
    /// it).
    ///
    /// # Errors
    /// [`BarsError::Open`], or [`BarsError::File`]: an unknown layout, a bad row in the head,
    /// a timeframe that cannot be detected.
    pub fn open(path: &Path, opts: &ImportOptions) -> Result<Self, BarsError> {
        let file = canary_ingest::lines::open(path).map_err(|source| BarsError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let stream = CandleStream::open(file, path, opts).map_err(BarsError::File)?;
        Ok(CandleFile {
            path: path.to_path_buf(),
            stream,
        })
    }

    #[must_use]
    pub fn timeframe(&self) -> Timeframe {
        self.stream.timeframe()
    }

    /// Whether the file marks its bars simulated.
    #[must_use]
    pub fn simulated(&self) -> bool {
        self.stream.simulated()
    }

    /// The source its bars are stored under: `given`, else `sim` for a simulated file, else
    /// the file's name.
    #[must_use]
    pub fn source(&self, given: Option<&str>) -> String {
        match given {
            Some(s) => s.to_string(),
            None if self.simulated() => "sim".to_string(),
            None => super::file_source(&self.path),
        }
    }

    /// Read every row and validate it, storing nothing. `progress` is called with the rows
    /// read so far, every 65,536. The gaps where the run meets stored bars are added by
    /// [`BarsImported::add_stored_ends`].
    ///
    /// # Errors
    /// [`BarsError::File`]: the first bad row.
    pub fn check(
        mut self,
        symbol: &Symbol,
        mut progress: impl FnMut(u64),
    ) -> Result<BarsImported, BarsError> {
        let mut n = 0u64;
        while let Some(row) = self.stream.next_row() {
            row.map_err(BarsError::File)?;
            n += 1;
            if n.is_multiple_of(65_536) {
                progress(n);
            }
        }
        Ok(self.summary(symbol, None, None))
    }

    /// Stream the rows into the store under `symbol` in one write, each bar available at its
    /// close, the source named as [`CandleFile::source`] says; then find the gaps (read back
    /// from the store when the rows came out of time order) and those at the run's ends.
    /// `progress` is called with the bars handled so far, every few thousand.
    ///
    /// # Errors
    /// [`BarsError::Write`] (a bad row, a conflict with `Revisions::Refuse`, a time given
    /// twice, a database error: nothing stored), or a database error reading the gaps back.
    pub fn import(
        mut self,
        store: &mut dyn Stores,
        symbol: &Symbol,
        source: Option<&str>,
        revisions: Revisions,
        ingested_at: Timestamp,
        mut progress: impl FnMut(u64),
    ) -> Result<BarsImported, BarsError> {
        let tf = self.timeframe();
        let name = self.source(source);
        let kind = if self.simulated() {
            Source::sim(&name)
        } else {
            Source::real(&name)
        };
        let stream = &mut self.stream;
        let rows = std::iter::from_fn(|| stream.next_row())
            .map(|r| r.map(|row| (row.line, at_close(tf, row.candle))));
        let path = &self.path;
        let report = store
            .insert_candles_from(symbol, tf, kind, ingested_at, rows, revisions, |n| {
                progress(n as u64);
            })
            .map_err(|e| {
                BarsError::Write(match e {
                    WriteError::Input(e) => WriteFailed::Row(e),
                    WriteError::Store(StoreError::Conflict(conflict)) => WriteFailed::Conflict {
                        path: path.clone(),
                        line: conflict.index,
                        conflict,
                    },
                    WriteError::Store(StoreError::Duplicate { tag, what }) => {
                        WriteFailed::Duplicate {
                            path: path.clone(),
                            line: tag,
                            what,
                        }
                    }
                    WriteError::Store(e) => WriteFailed::Store(e),
                })
            })?;
        let mut done = self.summary(symbol, Some(name), Some(report));
        if done.gaps.is_none()
            && let (Some(first), Some(last)) = (done.first, done.last)
        {
            // Rows out of time order: the gaps are read back from what is stored.
            let mut prev: Option<Timestamp> = None;
            let mut gaps = Vec::new();
            store.for_each_open_time(symbol, tf, first, last, &mut |t| {
                if let Some(p) = prev {
                    gaps.extend(find_gaps([p, t].into_iter(), tf));
                }
                prev = Some(t);
            })?;
            done.gaps = Some(gaps);
        }
        done.add_stored_ends(&*store)?;
        Ok(done)
    }

    fn summary(
        &self,
        symbol: &Symbol,
        source: Option<String>,
        stored: Option<InsertReport>,
    ) -> BarsImported {
        let s = self.stream.summary();
        BarsImported {
            symbol: symbol.clone(),
            timeframe: self.timeframe(),
            source: source.unwrap_or_else(|| self.source(None)),
            simulated: self.simulated(),
            stored,
            bars: s.bars,
            partial_skipped: s.partial_skipped,
            first: s.first,
            last: s.last,
            gaps: s.gaps,
            edge_gaps: 0,
        }
    }
}

/// A bar of `tf` as stored from a file or the simulator: available at its close.
fn at_close(tf: Timeframe, candle: Candle) -> NewCandle {
    NewCandle {
        candle,
        available_at: tf.close_of(candle.open_time),
        source_bars: None,
    }
}

/// The symbol simulated bars go under: `given`, else `BTCUSDT` unless real bars of it are
/// stored (simulated bars would sit beside them).
///
/// # Errors
/// [`BarsError::BesideReal`], or a database error.
pub fn simulation_symbol(store: &dyn Stores, given: Option<&Symbol>) -> Result<Symbol, BarsError> {
    if let Some(s) = given {
        return Ok(s.clone());
    }
    let symbol = Symbol::new("BTCUSDT").expect("BTCUSDT is a symbol");
    let kinds = store.source_kinds()?;
    let series: Vec<String> = store
        .series()?
        .into_iter()
        .filter(|s| s.symbol == symbol)
        .filter(|s| {
            s.sources
                .split(',')
                .any(|src| kinds.get(src) != Some(&SourceKind::Sim))
        })
        .map(|s| format!("{} {}", s.symbol, s.timeframe))
        .collect();
    if series.is_empty() {
        Ok(symbol)
    } else {
        Err(BarsError::BesideReal { symbol, series })
    }
}

/// Simulated bars of timeframe `tf` stored under `symbol` (source `sim`, marked simulated),
/// each available at its close; a bar stored before with other values is kept as a revision.
///
/// # Errors
/// A database error (nothing is written).
pub fn store_simulated(
    store: &mut dyn Stores,
    symbol: &Symbol,
    tf: Timeframe,
    bars: &[Candle],
    ingested_at: Timestamp,
) -> Result<InsertReport, StoreError> {
    let rows: Vec<NewCandle> = bars.iter().map(|c| at_close(tf, *c)).collect();
    store.insert_candles(
        symbol,
        tf,
        Source::sim("sim"),
        ingested_at,
        &rows,
        Revisions::Keep,
        |_| {},
    )
}

/// Read a candle file (any layout `canary import` reads) and store its bars under `symbol`,
/// each available at its close, the source named by the file's name and marked simulated when
/// the file says so.
///
/// # Errors
/// The file does not read (its error names the line), or the store refuses the write.
pub fn store_bar_file(
    store: &mut dyn Stores,
    path: &Path,
    symbol: &Symbol,
    ingested_at: Timestamp,
) -> Result<InsertReport, EngineError> {
    let parsed = read_candles(path, &ImportOptions::default())
        .map_err(|e| EngineError::param("file", path.display(), &e.to_string()))?;
    let tf = parsed.timeframe;
    let rows: Vec<NewCandle> = parsed.rows.iter().map(|r| at_close(tf, r.candle)).collect();
    let name = super::file_source(path);
    let source = if parsed.simulated {
        Source::sim(&name)
    } else {
        Source::real(&name)
    };
    Ok(store.insert_candles(
        symbol,
        tf,
        source,
        ingested_at,
        &rows,
        Revisions::Keep,
        |_| {},
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::testing::t;
    use std::fmt::Write as _;

    const HEAD: &str = "time,open,high,low,close,volume\n";

    /// A daily bar file of `days` (`2026-01-05`…) in the given order, written to `dir/name`.
    fn day_file(dir: &Path, name: &str, days: &[&str]) -> PathBuf {
        let rows = days.iter().fold(String::new(), |mut rows, d| {
            let _ = writeln!(rows, "{d},10,11,9,10,1");
            rows
        });
        let p = dir.join(name);
        std::fs::write(&p, format!("{HEAD}{rows}")).unwrap();
        p
    }

    fn btc() -> Symbol {
        Symbol::new("BTCUSDT").unwrap()
    }

    fn gaps(r: &BarsImported) -> Vec<(String, u64)> {
        r.gaps
            .as_ref()
            .unwrap()
            .iter()
            .map(|g| (g.first.to_string()[..10].to_string(), g.count))
            .collect()
    }

    fn import(
        store: &mut dyn Stores,
        path: &Path,
        revisions: Revisions,
    ) -> Result<BarsImported, BarsError> {
        CandleFile::open(path, &ImportOptions::default())?.import(
            store,
            &btc(),
            None,
            revisions,
            t("2026-02-01T00:00:00Z"),
            |_| {},
        )
    }

    fn bars_stored(store: &dyn Stores) -> u64 {
        store.series().unwrap().iter().map(|s| s.bars).sum()
    }

    #[test]
    fn a_file_streams_in_with_its_gaps_inside_and_where_it_meets_stored_bars() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = canary_store::open(&dir.path().join("b.db")).unwrap();
        let around = day_file(
            dir.path(),
            "around.csv",
            &["2025-12-27", "2025-12-28", "2026-01-10", "2026-01-11"],
        );
        import(&mut *store, &around, Revisions::Keep).unwrap();
        let main = day_file(
            dir.path(),
            "main.csv",
            &[
                "2026-01-01",
                "2026-01-02",
                "2026-01-03",
                "2026-01-05",
                "2026-01-06",
            ],
        );
        // A check stores nothing, and finds the same gaps once told what is stored.
        let mut checked = CandleFile::open(&main, &ImportOptions::default())
            .unwrap()
            .check(&btc(), |_| {})
            .unwrap();
        assert_eq!((checked.stored, checked.bars), (None, 5));
        assert_eq!(gaps(&checked), [("2026-01-04".to_string(), 1)]);
        checked.add_stored_ends(&*store).unwrap();
        assert_eq!(bars_stored(&*store), 4, "the check stored nothing");
        let r = import(&mut *store, &main, Revisions::Keep).unwrap();
        assert_eq!(gaps(&r), gaps(&checked));
        assert_eq!(
            gaps(&r),
            [
                ("2025-12-29".to_string(), 3),
                ("2026-01-04".to_string(), 1),
                ("2026-01-07".to_string(), 3)
            ]
        );
        assert_eq!(r.edge_gaps, 2);
        assert_eq!(
            (r.timeframe, r.source.as_str(), r.simulated),
            (Timeframe::D1, "main.csv", false)
        );
        assert_eq!(
            (r.first, r.last),
            (Some(t("2026-01-01")), Some(t("2026-01-06")))
        );
        assert_eq!(
            r.stored,
            Some(InsertReport {
                inserted: 5,
                present: 0,
                revised: 0
            })
        );
        let again = import(&mut *store, &main, Revisions::Keep).unwrap();
        assert_eq!(again.stored.map(|s| (s.inserted, s.present)), Some((0, 5)));
        assert_eq!(bars_stored(&*store), 9);
    }

    #[test]
    fn rows_out_of_time_order_have_their_gaps_read_back_from_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = canary_store::open(&dir.path().join("b.db")).unwrap();
        let f = day_file(
            dir.path(),
            "shuffled.csv",
            &["2026-01-03", "2026-01-01", "2026-01-02", "2026-01-06"],
        );
        let checked = CandleFile::open(&f, &ImportOptions::default())
            .unwrap()
            .check(&btc(), |_| {})
            .unwrap();
        assert_eq!(checked.gaps, None, "found only when stored");
        let r = import(&mut *store, &f, Revisions::Keep).unwrap();
        assert_eq!(gaps(&r), [("2026-01-04".to_string(), 2)]);
        assert_eq!(r.edge_gaps, 0);
    }

    /// The import of `path` refused, its message starting `FILE:{at}`.
    fn refused(store: &mut dyn Stores, path: &Path, revisions: Revisions, at: &str) -> BarsError {
        let e = import(store, path, revisions).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with(&format!("{}:{at}", path.display())),
            "{text}"
        );
        e
    }

    #[test]
    fn a_bad_row_a_repeated_time_or_a_refused_revision_stores_nothing_and_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = canary_store::open(&dir.path().join("b.db")).unwrap();
        let write = |name: &str, rows: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, format!("{HEAD}{rows}")).unwrap();
            p
        };
        // A bad row in the head is found on opening; one past it stops the write.
        let bad = write(
            "bad.csv",
            "2026-01-01,10,11,9,10,1\n2026-01-02,10,11,9,10,1\n2026-01-03,10,9,9.5,10,1\n",
        );
        let e = refused(&mut *store, &bad, Revisions::Keep, "4: high: ");
        assert!(matches!(e, BarsError::File(_)), "{e:?}");
        let hours = (0..1100).fold(String::new(), |mut rows, i| {
            let t = Timestamp::from_millis(t("2026-01-01").millis() + i * 3_600_000);
            let _ = writeln!(rows, "{t},10,11,9,10,1");
            rows
        });
        let bad = write(
            "bad.csv",
            &format!("{hours}2026-03-01T00:00:00Z,10,9,9.5,10,1\n"),
        );
        let e = refused(&mut *store, &bad, Revisions::Keep, "1102: high: ");
        assert!(matches!(e, BarsError::Write(WriteFailed::Row(_))), "{e:?}");
        // A time given twice far apart (past the head) is found by the write.
        let twice = write(
            "twice.csv",
            &format!("{hours}2026-01-01T00:00:00Z,10,11,9,10,1\n"),
        );
        let e = refused(&mut *store, &twice, Revisions::Keep, "1102: time: ");
        assert!(
            matches!(e, BarsError::Write(WriteFailed::Duplicate { .. })),
            "{e:?}"
        );
        assert!(e.to_string().contains("appears twice in the file"), "{e}");
        assert_eq!(bars_stored(&*store), 0);
        let first = write(
            "first.csv",
            "2026-01-01,10,11,9,10,1\n2026-01-02,10,11,9,10,1\n",
        );
        import(&mut *store, &first, Revisions::Keep).unwrap();
        let changed = write(
            "changed.csv",
            "2026-01-01,10,11,9,10,1\n2026-01-02,10,11,9,10.5,1\n",
        );
        let e = refused(&mut *store, &changed, Revisions::Refuse, "3: ");
        assert!(
            matches!(e, BarsError::Write(WriteFailed::Conflict { .. })),
            "{e:?}"
        );
        let kept = import(&mut *store, &changed, Revisions::Keep).unwrap();
        assert_eq!(kept.stored.map(|s| s.revised), Some(1));
        let e = CandleFile::open(&dir.path().join("nowhere.csv"), &ImportOptions::default())
            .unwrap_err();
        assert!(matches!(e, BarsError::Open { .. }), "{e:?}");
        assert!(e.to_string().starts_with("cannot read "), "{e}");
    }

    #[test]
    fn simulated_bars_go_beside_real_ones_only_under_a_named_symbol() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = canary_store::open(&dir.path().join("b.db")).unwrap();
        assert_eq!(simulation_symbol(&*store, None).unwrap(), btc());
        let params = canary_sim::SimParams::benchmark(12);
        let bars = canary_sim::simulate(&params);
        let r = store_simulated(
            &mut *store,
            &btc(),
            params.timeframe,
            &bars,
            t("2026-02-01"),
        )
        .unwrap();
        assert_eq!((r.inserted, r.present), (12, 0));
        assert_eq!(store.source_kinds().unwrap()["sim"], SourceKind::Sim);
        assert_eq!(
            simulation_symbol(&*store, None).unwrap(),
            btc(),
            "simulated bars may go beside simulated ones"
        );
        let real = day_file(dir.path(), "real.csv", &["2026-01-01", "2026-01-02"]);
        import(&mut *store, &real, Revisions::Keep).unwrap();
        let e = simulation_symbol(&*store, None).unwrap_err();
        assert!(
            matches!(&e, BarsError::BesideReal { series, .. } if series == &["BTCUSDT 1d"]),
            "{e:?}"
        );
        let named = Symbol::new("SIM:BTCUSDT").unwrap();
        assert_eq!(simulation_symbol(&*store, Some(&named)).unwrap(), named);
    }

    #[test]
    fn a_bar_file_is_stored_whole_and_a_broken_one_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = canary_store::open(&dir.path().join("b.db")).unwrap();
        let sym = Symbol::new("BTCUSDT").unwrap();
        let good = dir.path().join("good.csv");
        std::fs::write(
            &good,
            "time,open,high,low,close,volume\n2026-01-01,10,11,9,10,1\n2026-01-02,10,12,9,11,1\n",
        )
        .unwrap();
        let now = Timestamp::parse("2026-02-01T00:00:00Z").unwrap();
        let r = store_bar_file(&mut *store, &good, &sym, now).unwrap();
        assert_eq!(r.inserted, 2);
        let info = store.series().unwrap();
        assert_eq!((info[0].bars, info[0].sources.as_str()), (2, "good.csv"));
        let bad = dir.path().join("bad.csv");
        std::fs::write(
            &bad,
            "time,open,high,low,close,volume\n2026-01-03,10,11,9,10,1\n2026-01-04,10,9,9.5,10,1\n",
        )
        .unwrap();
        let e = store_bar_file(&mut *store, &bad, &sym, now)
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.csv:3"), "{e}");
        assert_eq!(
            store.series().unwrap()[0].bars,
            2,
            "nothing of the bad file stored"
        );
    }
}
