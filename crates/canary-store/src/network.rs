//! Network series: insert (one transaction, idempotent, conflicts refused) and point-in-time
//! reads, with the same guarantees as candles.

use canary_model::Timestamp;
use rusqlite::{Transaction, params};

use crate::write::{self, Record, Revisions, Stored, unwrap_store};
use crate::{InsertReport, NetworkStore, Source, SqliteStore, StoreError};

/// One value of a network series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetworkPoint {
    pub time: Timestamp,
    pub value: f64,
    pub available_at: Timestamp,
}

/// A value of one network series, as the write routine sees it.
struct PointRecord<'a> {
    series: &'a str,
    point: &'a NetworkPoint,
}

impl Record for PointRecord<'_> {
    type Values = f64;
    const VERSIONED: bool = true;

    fn latest(&self, tx: &Transaction<'_>) -> rusqlite::Result<Option<Stored<f64>>> {
        // Every version, the latest picked here (see the candles' lookup: ORDER BY would
        // prepare the statement again at every call).
        let mut stmt = tx.prepare_cached(
            "SELECT value, source, available_at, ingested_at FROM network_points
             WHERE series = ?1 AND time = ?2",
        )?;
        let mut rows = stmt.query(params![self.series, self.point.time.millis()])?;
        let mut latest: Option<Stored<f64>> = None;
        while let Some(r) = rows.next()? {
            let available_at: i64 = r.get(2)?;
            if latest
                .as_ref()
                .is_none_or(|v| available_at > v.available_at)
            {
                latest = Some(Stored {
                    values: r.get(0)?,
                    source: r.get(1)?,
                    available_at,
                    ingested_at: r.get(3)?,
                });
            }
        }
        Ok(latest)
    }

    fn same(&self, stored: &f64) -> bool {
        stored.to_bits() == self.point.value.to_bits()
    }

    fn available_at(&self) -> i64 {
        self.point.available_at.millis()
    }

    fn put(
        &self,
        tx: &Transaction<'_>,
        source: &str,
        available_at: i64,
        ingested_at: i64,
    ) -> rusqlite::Result<()> {
        tx.prepare_cached(
            "INSERT INTO network_points (series, time, value, source, available_at, ingested_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            self.series,
            self.point.time.millis(),
            self.point.value,
            source,
            available_at,
            ingested_at
        ])?;
        Ok(())
    }

    fn invalid(&self) -> Option<(String, String)> {
        let v = self.point.value;
        let why = match canary_model::network::NetworkSeries::from_stored_name(self.series) {
            Some(s) => s.refuse(v),
            None => (!v.is_finite()).then(|| format!("{v} is not a finite number")),
        }?;
        Some((format!("{} value at {}", self.series, self.point.time), why))
    }

    fn describe(&self, stored: &f64) -> (String, String, String) {
        (
            format!("{} value at {}", self.series, self.point.time),
            stored.to_string(),
            self.point.value.to_string(),
        )
    }
}

impl NetworkStore for SqliteStore {
    fn insert_network(
        &mut self,
        series: &[(&str, &[NetworkPoint])],
        source: Source<'_>,
        ingested_at: Timestamp,
        revisions: Revisions,
    ) -> Result<InsertReport, StoreError> {
        let tx = self.begin_write()?;
        crate::register_source(&tx, source)?;
        let records = series
            .iter()
            .flat_map(|(name, points)| {
                points.iter().map(move |point| PointRecord {
                    series: name,
                    point,
                })
            })
            .enumerate()
            .map(|(i, r)| Ok::<_, std::convert::Infallible>((i as u64, r)));
        let report = write::insert(
            &tx,
            records,
            source.name,
            crate::stamp(&tx, ingested_at)?,
            revisions,
            |_| {},
        )
        .map_err(unwrap_store)?;
        tx.commit()?;
        Ok(report)
    }

    fn network(
        &self,
        series: &str,
        asof: Option<Timestamp>,
    ) -> Result<Vec<(Timestamp, f64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            // The latest version of each value available at the time.
            "SELECT time, value, MAX(available_at) FROM network_points
             WHERE series = ?1 AND available_at <= ?2 GROUP BY time ORDER BY time",
        )?;
        let rows = stmt.query_map(
            params![series, asof.map_or(i64::MAX, Timestamp::millis)],
            |r| Ok((Timestamp::from_millis(r.get(0)?), r.get::<_, f64>(1)?)),
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn network_sources(&self, series: &str) -> Result<String, StoreError> {
        let s: Option<String> = self.conn.query_row(
            "SELECT GROUP_CONCAT(DISTINCT source) FROM network_points WHERE series = ?1",
            params![series],
            |r| r.get(0),
        )?;
        Ok(s.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    /// Issue 19, item 8: no value that is not finite, or beyond its series' bound, is stored.
    #[test]
    fn non_finite_and_huge_values_are_never_stored() {
        let mut s = SqliteStore::in_memory().unwrap();
        for (series, value, says) in [
            ("x:custom", f64::NAN, "NaN is not a finite number"),
            ("mempool:difficulty", 1e300, "1e300 is above 1e20"),
            ("hashrate_hs", f64::INFINITY, "inf is not a finite value"),
        ] {
            let p = [NetworkPoint {
                time: Timestamp::from_millis(0),
                value,
                available_at: Timestamp::from_millis(0),
            }];
            let e = s
                .insert_network(
                    &[(series, &p)],
                    Source::real("t"),
                    Timestamp::from_millis(0),
                    Revisions::Keep,
                )
                .unwrap_err();
            assert!(matches!(e, StoreError::Invalid { .. }), "{e}");
            assert!(e.to_string().contains(says), "{e}");
        }
    }

    #[test]
    fn network_points_are_idempotent_point_in_time_and_conflicts_roll_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(&dir.path().join("n.db")).unwrap();
        let day = 86_400_000;
        let pts: Vec<NetworkPoint> = (0..5)
            .map(|i| NetworkPoint {
                time: Timestamp::from_millis(i * day),
                value: 100.0 + i as f64,
                available_at: Timestamp::from_millis((i + 1) * day),
            })
            .collect();
        let now = Timestamp::from_millis(0);
        assert_eq!(
            s.insert_network(
                &[("difficulty", &pts)],
                Source::real("f"),
                now,
                Revisions::Refuse
            )
            .unwrap()
            .inserted,
            5
        );
        assert_eq!(
            s.insert_network(
                &[("difficulty", &pts)],
                Source::real("f"),
                now,
                Revisions::Refuse
            )
            .unwrap()
            .present,
            5
        );
        let mut bad = pts.clone();
        bad[4].value = 1.0;
        let extra = [NetworkPoint {
            time: Timestamp::from_millis(9 * day),
            value: 1.0,
            available_at: Timestamp::from_millis(10 * day),
        }];
        let e = s
            .insert_network(
                &[("fees_btc", &extra), ("difficulty", &bad)],
                Source::real("g"),
                now,
                Revisions::Refuse,
            )
            .unwrap_err();
        // The conflicting value is the fifth difficulty, the sixth value of the batch.
        assert!(
            matches!(&e, StoreError::Conflict(c) if c.index == 5 && c.what.starts_with("difficulty value at") && c.stored_source == "f"),
            "{e}"
        );
        assert!(
            s.network("fees_btc", None).unwrap().is_empty(),
            "the whole insert rolled back"
        );
        let asof = s
            .network("difficulty", Some(Timestamp::from_millis(3 * day)))
            .unwrap();
        assert_eq!(asof.len(), 3);
    }
}
