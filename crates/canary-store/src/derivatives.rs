//! Derivatives series: insert and point-in-time reads on the shared points table shape.

use canary_model::Timestamp;
use canary_model::derivatives::DerivSeries;

use crate::points::{self, Point, Table};
use crate::write::Revisions;
use crate::{DerivativesStore, InsertReport, Source, SqlStore, StoreError};

/// A stored derivatives series and what it holds as of a time.
pub type DerivSeriesInfo = points::SeriesListing<DerivSeries>;

impl DerivativesStore for SqlStore {
    fn insert_derivatives(
        &mut self,
        series: &[(&DerivSeries, &[Point])],
        source: Source<'_>,
        ingested_at: Timestamp,
        revisions: Revisions,
    ) -> Result<InsertReport, StoreError> {
        let (keys, points) = points::keyed(series);
        let named: Vec<(&str, &[Point])> = keys.iter().map(String::as_str).zip(points).collect();
        let tx = self.begin_write()?;
        points::insert(
            tx,
            Table::Derivatives,
            &named,
            source,
            ingested_at,
            revisions,
        )
    }

    fn derivatives(
        &self,
        series: &DerivSeries,
        asof: Option<Timestamp>,
    ) -> Result<Vec<(Timestamp, f64)>, StoreError> {
        points::read(&self.db, Table::Derivatives, &series.to_string(), asof)
    }

    fn derivatives_since(
        &self,
        series: &DerivSeries,
        from: Timestamp,
        asof: Option<Timestamp>,
    ) -> Result<Vec<(Timestamp, f64)>, StoreError> {
        points::read_from(
            &self.db,
            Table::Derivatives,
            &series.to_string(),
            from,
            asof,
        )
    }

    fn derivative_versions(
        &self,
        series: &DerivSeries,
        asof: Option<Timestamp>,
    ) -> Result<Vec<Point>, StoreError> {
        points::versions(&self.db, Table::Derivatives, &series.to_string(), asof)
    }

    fn derivative_series(
        &self,
        asof: Option<Timestamp>,
    ) -> Result<Vec<DerivSeriesInfo>, StoreError> {
        points::list_series(&self.db, Table::Derivatives, asof, "derivatives series")
    }
}
