//! Equity, index and gauge files into the store: each file read and validated whole
//! ([`canary_ingest::markets`]), then its series stored in one write, each day's value
//! available at its exchange's close (a gauge at the start of its UTC day).

use std::path::{Path, PathBuf};

use canary_ingest::csv::ImportError;
use canary_ingest::markets::{Layout, MarketOptions, ParsedMarkets, read_markets};
use canary_model::Timestamp;
use canary_model::markets::MarketSeries;
use canary_store::{InsertReport, Point, Revisions, Source, Stores};

use super::WriteFailed;

/// A market file read and validated, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketsFile {
    path: PathBuf,
    parsed: ParsedMarkets,
}

/// What a file holds of one series.
pub type MarketSeriesRead = super::SeriesRead<MarketSeries>;

impl MarketsFile {
    /// Read and validate `path`.
    ///
    /// # Errors
    /// An unreadable file, an unknown layout, a one-ticker file without a ticker, or the
    /// first invalid row (`FILE:LINE: column: reason`).
    pub fn read(path: &Path, opts: &MarketOptions) -> Result<Self, ImportError> {
        Ok(MarketsFile {
            path: path.to_path_buf(),
            parsed: read_markets(path, opts)?,
        })
    }

    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    #[must_use]
    pub fn layout(&self) -> Layout {
        self.parsed.layout
    }

    /// What was skipped or is missing.
    #[must_use]
    pub fn notes(&self) -> &[String] {
        &self.parsed.notes
    }

    /// Each series the file holds, in series order.
    #[must_use]
    pub fn series(&self) -> Vec<MarketSeriesRead> {
        super::summarise(&self.parsed.series)
    }

    /// Store every series under `source` (else the file's name) in one write.
    ///
    /// # Errors
    /// [`WriteFailed::Conflict`] naming the file's line when a value differs from the stored
    /// one and `revisions` refuses it, or [`WriteFailed::Store`]; nothing is stored.
    pub fn store(
        &self,
        store: &mut dyn Stores,
        source: Option<&str>,
        revisions: Revisions,
        ingested_at: Timestamp,
    ) -> Result<(String, InsertReport), WriteFailed> {
        let source = source.map_or_else(|| super::file_source(&self.path), str::to_string);
        // The reader checked every day; one it let through is refused by the store, which
        // asks the same question.
        let points = super::points_of(&self.parsed.series, |s, t| s.available_at(t).unwrap_or(t));
        let refs: Vec<(&MarketSeries, &[Point])> = self
            .parsed
            .series
            .iter()
            .zip(&points)
            .map(|((s, _), p)| (s, p.as_slice()))
            .collect();
        let insert = store
            .insert_markets(&refs, Source::real(&source), ingested_at, revisions)
            .map_err(|e| {
                super::file_write_failed(
                    e,
                    &self.path,
                    self.parsed
                        .series
                        .iter()
                        .flat_map(|(_, v)| v.iter().map(|x| x.0)),
                )
            })?;
        Ok((source, insert))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::shared;
    use canary_ingest::csv::TimeRange;
    use canary_model::markets::{Field, Ticker, us_trading_day};

    const EQUITIES: &str = "equities_daily_ohlcv_yahoo_2018-01_2026-05.csv";
    const INDICES: &str = "us_indices_daily_fred_nasdaq100_sp500_2018-01_2026-08.csv";
    const FEAR_GREED: &str = "fear_greed_index_daily_alternative_me_2018-02_2026-02.csv";

    fn series(key: &str) -> MarketSeries {
        key.parse().unwrap()
    }

    #[test]
    fn shared_market_files_load_with_each_close_known_at_new_york_16h() {
        let mut store = canary_store::in_memory().unwrap();
        let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        let opts = MarketOptions {
            range: TimeRange::until(now),
            ..MarketOptions::default()
        };
        let mut inserted = 0;
        for name in [EQUITIES, INDICES, FEAR_GREED] {
            let f = MarketsFile::read(&shared(name), &opts).unwrap();
            let (_, r) = f.store(&mut *store, None, Revisions::Refuse, now).unwrap();
            inserted += r.inserted;
            let (_, again) = f.store(&mut *store, None, Revisions::Refuse, now).unwrap();
            assert_eq!(again.inserted, 0, "{name}");
            if name == INDICES {
                // FRED's Nasdaq-100 repeats 2019-04-18 on Good Friday: skipped, said so.
                assert!(
                    f.notes()
                        .iter()
                        .any(|n| n.starts_with("1 row(s) dated on Good Friday")),
                    "{:?}",
                    f.notes()
                );
            }
        }
        // 17,924 equity rows of 5 values (277 with a volume of 0 stored as 0), 2,170 index
        // days of 2 closes plus one Nasdaq-only day skipped, and the gauge's days (counted
        // independently with Python's csv module).
        assert_eq!(inserted, 17_924 * 5 + 2_170 * 2 + 2_931, "values stored");

        let asof = Timestamp::parse("2026-02-06T05:00:00Z").unwrap();
        let day = |d: &str| Timestamp::parse(d).unwrap();
        let last = |key: &str, at: Timestamp| {
            *store
                .markets_since(&series(key), day("2026-01-01"), Some(at))
                .unwrap()
                .last()
                .unwrap()
        };
        assert_eq!(last("US:MARA:close", asof), (day("2026-02-05"), 6.73));
        assert_eq!(last("US:NDX:close", asof), (day("2026-02-05"), 24_548.7));
        assert_eq!(last("UTC:FEAR_GREED:value", asof), (day("2026-02-06"), 9.0));
        // Friday's closes at 21:00 UTC, not before.
        let before = Timestamp::parse("2026-02-06T20:59:59Z").unwrap();
        assert_eq!(last("US:IREN:close", before).0, day("2026-02-05"));
        let at_close = Timestamp::parse("2026-02-06T21:00:00Z").unwrap();
        assert_eq!(last("US:IREN:close", at_close), (day("2026-02-06"), 41.83));

        // The trading-day calendar is exactly QQQ's days, 2018-01-02 to 2026-05-29.
        let qqq: Vec<Timestamp> = store
            .markets_since(
                &MarketSeries::us(&"QQQ".parse::<Ticker>().unwrap(), Field::Close),
                day("2018-01-01"),
                None,
            )
            .unwrap()
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        let mut calendar = Vec::new();
        let mut t = day("2018-01-02");
        while t <= day("2026-05-29") {
            let (y, m, d, ..) = t.to_civil();
            if us_trading_day(y, m, d) {
                calendar.push(t);
            }
            t = t.add_millis(86_400_000);
        }
        assert_eq!(qqq.len(), 2113);
        assert_eq!(calendar, qqq);
    }
}
