//! Derivatives files into the store: each file read and validated whole
//! ([`canary_ingest::derivatives`]), then its series stored in one write, each value available
//! when its kind says (a level at its time, a flow at its bar's close).

use std::path::{Path, PathBuf};

use canary_ingest::csv::ImportError;
use canary_ingest::derivatives::{DerivOptions, Layout, ParsedDerivatives, read_derivatives};
use canary_model::Timestamp;
use canary_model::derivatives::DerivSeries;
use canary_store::{InsertReport, Point, Revisions, Source, Stores};

use super::WriteFailed;

/// A derivatives file read and validated, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivativesFile {
    path: PathBuf,
    parsed: ParsedDerivatives,
}

/// What a file holds of one series.
pub type DerivSeriesRead = super::SeriesRead<DerivSeries>;

impl DerivativesFile {
    /// Read and validate `path`.
    ///
    /// # Errors
    /// An unreadable file, an unknown layout, a market or venue not given, or the first
    /// invalid row (`FILE:LINE: column: reason`).
    pub fn read(path: &Path, opts: &DerivOptions) -> Result<Self, ImportError> {
        Ok(DerivativesFile {
            path: path.to_path_buf(),
            parsed: read_derivatives(path, opts)?,
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

    /// What the importer assumed or left out.
    #[must_use]
    pub fn notes(&self) -> &[String] {
        &self.parsed.notes
    }

    /// Each series the file holds, in series order.
    #[must_use]
    pub fn series(&self) -> Vec<DerivSeriesRead> {
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
        let after_interval = self.parsed.known_after_interval;
        let points = super::points_of(&self.parsed.series, |s, t| {
            if after_interval {
                t.add_millis(s.interval.millis()).max(s.available_at(t))
            } else {
                s.available_at(t)
            }
        });
        let refs: Vec<(&DerivSeries, &[Point])> = self
            .parsed
            .series
            .iter()
            .zip(&points)
            .map(|((s, _), p)| (s, p.as_slice()))
            .collect();
        let insert = store
            .insert_derivatives(&refs, Source::real(&source), ingested_at, revisions)
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

    /// Every derivatives file of `../shared/data`.
    const SHARED: [&str; 7] = [
        "btcusdt_perp_funding_8h_binance_2019-09_2026-04.csv",
        "btc_open_interest_daily_coinglass_all_exchanges_2020-02_2025-11.csv",
        "btc_open_interest_4h_coinglass_2024-11_2025-11.csv",
        "btc_open_interest_by_exchange_4h_coinglass_2025-05_2025-11.csv",
        "binance_btcusdt_open_interest_snippets_2025-11_2026-03.csv",
        "btc_liquidations_daily_coinglass_binance_okx_bybit_2020-12_2025-09.csv",
        "btc_liquidations_daily_coinglass_binance_2020-12_2025-11.csv",
    ];

    #[test]
    fn every_shared_derivatives_file_loads_into_its_own_series() {
        let mut store = canary_store::in_memory().unwrap();
        let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        let opts = DerivOptions {
            range: TimeRange::until(now),
            ..DerivOptions::default()
        };
        let mut stored = 0;
        for name in SHARED {
            let f = DerivativesFile::read(&shared(name), &opts).unwrap();
            let (_, r) = f.store(&mut *store, None, Revisions::Refuse, now).unwrap();
            stored += r.inserted;
            // Importing again changes nothing.
            let (_, again) = f.store(&mut *store, None, Revisions::Refuse, now).unwrap();
            assert_eq!(again.inserted, 0, "{name}");
        }
        let series = store.derivative_series(None).unwrap();
        let find = |key: &str| {
            series
                .iter()
                .find(|s| s.series.to_string() == key)
                .unwrap_or_else(|| panic!("no {key} in {series:?}"))
        };
        let funding = find("funding_rate:BTCUSDT:binance:8h");
        assert_eq!(
            store.derivatives(&funding.series, None).unwrap().len(),
            7238,
            "README: 7,238 rows"
        );
        assert_eq!(funding.last.to_string(), "2026-04-18T16:00:00Z");
        let oi = find("oi_usd:BTC:all:1d");
        assert_eq!(
            oi.first.to_string(),
            "2020-02-28T00:00:00Z",
            "end of 2020-02-27"
        );
        assert_eq!(oi.last.to_string(), "2025-11-14T00:00:00Z");
        assert_eq!(
            find("oi_usd:BTC:all:4h").last.to_string(),
            "2025-11-14T00:00:00Z"
        );
        find("oi_base:BTC-STABLECOIN-MARGINED:binance:4h");
        find("oi_usd:BTC:gate:4h");
        assert!(
            !series
                .iter()
                .any(|s| s.series.to_string().contains("gate.io"))
        );
        find("oi_usd:BTC:hyperliquid:4h");
        find("oi_base:BTCUSDT:binance:4h");
        find("oi_usd:BTCUSDT:binance:1d");
        let longs = find("long_liquidations_usd:BTC:binance:1d");
        assert_eq!(longs.last.to_string(), "2025-11-13T00:00:00Z");
        find("short_liquidations_usd:BTC:binance+bybit+okx:1d");
        // Every non-empty value cell of the seven files (counted apart, in Python).
        assert_eq!(stored, 42_977);

        // As of the crash morning: funding settled at 00:00 is the last; OI and
        // liquidations stop in November 2025.
        let asof = Timestamp::parse("2026-02-06T05:00:00Z").unwrap();
        let f = store.derivatives(&funding.series, Some(asof)).unwrap();
        assert_eq!(f.last().unwrap().0.to_string(), "2026-02-06T00:00:00Z");
        let l = store.derivatives(&longs.series, Some(asof)).unwrap();
        assert_eq!(l.last().unwrap().0.to_string(), "2025-11-13T00:00:00Z");
    }
}
