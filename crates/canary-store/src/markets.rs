//! Market series (equities, indices, daily gauges): insert and point-in-time reads on the
//! shared points table shape.

use canary_model::Timestamp;
use canary_model::markets::MarketSeries;

use crate::points::{self, Point, Table};
use crate::write::Revisions;
use crate::{InsertReport, MarketStore, Source, SqliteStore, StoreError};

/// A stored market series and what it holds as of a time.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketSeriesInfo {
    pub series: MarketSeries,
    /// The first and last day with a value known then.
    pub first: Timestamp,
    pub last: Timestamp,
    /// Every source that wrote a value, sorted.
    pub sources: Vec<String>,
}

impl MarketStore for SqliteStore {
    fn insert_markets(
        &mut self,
        series: &[(&MarketSeries, &[Point])],
        source: Source<'_>,
        ingested_at: Timestamp,
        revisions: Revisions,
    ) -> Result<InsertReport, StoreError> {
        let keys: Vec<String> = series.iter().map(|(s, _)| s.to_string()).collect();
        let named: Vec<(&str, &[Point])> = keys
            .iter()
            .zip(series)
            .map(|(k, (_, p))| (k.as_str(), *p))
            .collect();
        let tx = self.begin_write()?;
        points::insert(tx, Table::Markets, &named, source, ingested_at, revisions)
    }

    fn markets_since(
        &self,
        series: &MarketSeries,
        from: Timestamp,
        asof: Option<Timestamp>,
    ) -> Result<Vec<(Timestamp, f64)>, StoreError> {
        points::read_from(&self.conn, Table::Markets, &series.to_string(), from, asof)
    }

    fn market_versions(
        &self,
        series: &MarketSeries,
        asof: Option<Timestamp>,
    ) -> Result<Vec<Point>, StoreError> {
        points::versions(&self.conn, Table::Markets, &series.to_string(), asof)
    }

    fn market_series(&self, asof: Option<Timestamp>) -> Result<Vec<MarketSeriesInfo>, StoreError> {
        points::list(&self.conn, Table::Markets, asof)?
            .into_iter()
            .map(|l| {
                let series = l
                    .key
                    .parse()
                    .map_err(
                        |e: canary_model::markets::MarketError| StoreError::Corrupt {
                            what: format!(
                                "market series {}",
                                canary_model::excerpt::quoted(&l.key)
                            ),
                            reason: e.to_string(),
                        },
                    )?;
                Ok(MarketSeriesInfo {
                    series,
                    first: l.first,
                    last: l.last,
                    sources: l.sources,
                })
            })
            .collect()
    }
}
