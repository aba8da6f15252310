//! Network series: insert (one transaction, idempotent, conflicts refused) and point-in-time
//! reads, with the same guarantees as candles.

use canary_model::Timestamp;
use rusqlite::{OptionalExtension, params};

use crate::{Conflict, InsertReport, Source, Store, StoreError};

/// One value of a network series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetworkPoint {
    pub time: Timestamp,
    pub value: f64,
    pub available_at: Timestamp,
}

impl Store {
    /// Insert values of several series in one transaction; see [`Store::insert_candles`] for
    /// the rules. `index` in a conflict counts across all series in the order given.
    ///
    /// # Errors
    /// A conflict, or a database error (nothing is written).
    pub fn insert_network(
        &mut self,
        series: &[(&str, &[NetworkPoint])],
        source: Source<'_>,
        ingested_at: Timestamp,
    ) -> Result<InsertReport, StoreError> {
        let tx = self.conn.transaction()?;
        crate::register_source(&tx, source)?;
        let mut report = InsertReport::default();
        let mut index = 0;
        {
            let mut get = tx.prepare_cached(
                "SELECT value, source FROM network_points WHERE series = ?1 AND time = ?2",
            )?;
            let mut put = tx.prepare_cached(
                "INSERT INTO network_points (series, time, value, source, available_at, ingested_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (name, points) in series {
                for p in *points {
                    let stored: Option<(f64, String)> = get
                        .query_row(params![name, p.time.millis()], |r| {
                            Ok((r.get(0)?, r.get(1)?))
                        })
                        .optional()?;
                    match stored {
                        Some((v, _)) if v.to_bits() == p.value.to_bits() => report.present += 1,
                        Some((v, stored_source)) => {
                            return Err(StoreError::Conflict(Box::new(Conflict {
                                index,
                                symbol: (*name).to_string(),
                                timeframe: "network".into(),
                                open_time: p.time.to_string(),
                                stored_source,
                                stored: v.to_string(),
                                new: p.value.to_string(),
                            })));
                        }
                        None => {
                            put.execute(params![
                                name,
                                p.time.millis(),
                                p.value,
                                source.name,
                                p.available_at.millis(),
                                ingested_at.millis()
                            ])?;
                            report.inserted += 1;
                        }
                    }
                    index += 1;
                }
            }
        }
        tx.commit()?;
        Ok(report)
    }

    /// Values of a series in time order, only those available at `asof`.
    ///
    /// # Errors
    /// A database error.
    pub fn network(
        &self,
        series: &str,
        asof: Option<Timestamp>,
    ) -> Result<Vec<(Timestamp, f64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT time, value FROM network_points WHERE series = ?1 AND available_at <= ?2 ORDER BY time",
        )?;
        let rows = stmt.query_map(
            params![series, asof.map_or(i64::MAX, Timestamp::millis)],
            |r| Ok((Timestamp::from_millis(r.get(0)?), r.get::<_, f64>(1)?)),
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The sources of a series (for provenance).
    ///
    /// # Errors
    /// A database error.
    pub fn network_sources(&self, series: &str) -> Result<String, StoreError> {
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

    #[test]
    fn network_points_are_idempotent_point_in_time_and_conflicts_roll_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("n.db")).unwrap();
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
            s.insert_network(&[("difficulty", &pts)], Source::real("f"), now)
                .unwrap()
                .inserted,
            5
        );
        assert_eq!(
            s.insert_network(&[("difficulty", &pts)], Source::real("f"), now)
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
            )
            .unwrap_err();
        // The conflicting value is the fifth difficulty, the sixth value of the batch.
        assert!(
            matches!(&e, StoreError::Conflict(c) if c.index == 5 && c.symbol == "difficulty" && c.stored_source == "f"),
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
