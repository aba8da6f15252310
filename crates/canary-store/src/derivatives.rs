//! Derivatives series: insert and point-in-time reads on the shared points table shape.

use canary_model::Timestamp;
use canary_model::derivatives::DerivSeries;

use crate::points::{self, Point, Table};
use crate::write::Revisions;
use crate::{DerivativesStore, InsertReport, Source, SqliteStore, StoreError};

/// A stored series and what it holds as of a time.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivSeriesInfo {
    pub series: DerivSeries,
    pub first: Timestamp,
    pub last: Timestamp,
    /// Every source that wrote a value, sorted.
    pub sources: Vec<String>,
}

impl DerivativesStore for SqliteStore {
    fn insert_derivatives(
        &mut self,
        series: &[(&DerivSeries, &[Point])],
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
        points::read(&self.conn, Table::Derivatives, &series.to_string(), asof)
    }

    fn derivatives_since(
        &self,
        series: &DerivSeries,
        from: Timestamp,
        asof: Option<Timestamp>,
    ) -> Result<Vec<(Timestamp, f64)>, StoreError> {
        points::read_from(
            &self.conn,
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
        points::versions(&self.conn, Table::Derivatives, &series.to_string(), asof)
    }

    fn derivative_series(
        &self,
        asof: Option<Timestamp>,
    ) -> Result<Vec<DerivSeriesInfo>, StoreError> {
        points::list(&self.conn, Table::Derivatives, asof)?
            .into_iter()
            .map(|l| {
                let series =
                    l.key
                        .parse()
                        .map_err(|e: canary_model::derivatives::DerivError| {
                            StoreError::Corrupt {
                                what: format!(
                                    "derivatives series {}",
                                    canary_model::excerpt::quoted(&l.key)
                                ),
                                reason: e.to_string(),
                            }
                        })?;
                Ok(DerivSeriesInfo {
                    series,
                    first: l.first,
                    last: l.last,
                    sources: l.sources,
                })
            })
            .collect()
    }
}
