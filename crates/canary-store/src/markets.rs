//! Market series (equities, indices, daily gauges): insert and point-in-time reads on the
//! shared points table shape.

use canary_model::Timestamp;
use canary_model::markets::MarketSeries;

use crate::points::{self, Point, Table};
use crate::write::Revisions;
use crate::{InsertReport, MarketStore, Source, SqlStore, StoreError};

/// A stored market series and what it holds as of a time (its first and last day).
pub type MarketSeriesInfo = points::SeriesListing<MarketSeries>;

impl MarketStore for SqlStore {
    fn insert_markets(
        &mut self,
        series: &[(&MarketSeries, &[Point])],
        source: Source<'_>,
        ingested_at: Timestamp,
        revisions: Revisions,
    ) -> Result<InsertReport, StoreError> {
        let (keys, points) = points::keyed(series);
        let named: Vec<(&str, &[Point])> = keys.iter().map(String::as_str).zip(points).collect();
        let tx = self.begin_write()?;
        points::insert(tx, Table::Markets, &named, source, ingested_at, revisions)
    }

    fn markets_since(
        &self,
        series: &MarketSeries,
        from: Timestamp,
        asof: Option<Timestamp>,
    ) -> Result<Vec<(Timestamp, f64)>, StoreError> {
        points::read_from(&self.db, Table::Markets, &series.to_string(), from, asof)
    }

    fn market_versions(
        &self,
        series: &MarketSeries,
        asof: Option<Timestamp>,
    ) -> Result<Vec<Point>, StoreError> {
        points::versions(&self.db, Table::Markets, &series.to_string(), asof)
    }

    fn market_series(&self, asof: Option<Timestamp>) -> Result<Vec<MarketSeriesInfo>, StoreError> {
        points::list_series(&self.db, Table::Markets, asof, "market series")
    }
}
