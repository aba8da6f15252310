//! Network series: insert (one transaction, idempotent, conflicts refused) and point-in-time
//! reads, with the same guarantees as candles.

use crate::sql::args;
use canary_model::Timestamp;

use crate::points::{self, Point, Table};
use crate::write::Revisions;
use crate::{InsertReport, NetworkStore, Source, SqlStore, StoreError};

impl NetworkStore for SqlStore {
    fn insert_network(
        &mut self,
        series: &[(&str, &[Point])],
        source: Source<'_>,
        ingested_at: Timestamp,
        revisions: Revisions,
    ) -> Result<InsertReport, StoreError> {
        let tx = self.begin_write()?;
        points::insert(tx, Table::Network, series, source, ingested_at, revisions)
    }

    fn network(
        &self,
        series: &str,
        asof: Option<Timestamp>,
    ) -> Result<Vec<(Timestamp, f64)>, StoreError> {
        points::read(&self.db, Table::Network, series, asof)
    }

    fn network_sources(&self, series: &str) -> Result<String, StoreError> {
        let s: Option<String> = self.db.value(
            &format!(
                "SELECT {} FROM network_points WHERE series = ?1",
                crate::store::distinct_list(&self.db, "source")
            ),
            args![series],
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
        let mut s = SqlStore::in_memory().unwrap();
        for (series, value, says) in [
            ("x:custom", f64::NAN, "NaN is not a finite number"),
            ("mempool:difficulty", 1e300, "1e300 is above 1e20"),
            ("hashrate_hs", f64::INFINITY, "inf is not a finite value"),
        ] {
            let p = [Point {
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
        let mut s = SqlStore::open(&dir.path().join("n.db")).unwrap();
        let day = 86_400_000;
        let pts: Vec<Point> = (0..5)
            .map(|i| Point {
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
        let extra = [Point {
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
