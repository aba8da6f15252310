//! Entity outflows: insert (one transaction, idempotent by transaction) and point-in-time reads.

use canary_model::Timestamp;

use crate::sql::{Db, args};
use crate::write::{self, Record, Revisions, Stored, unwrap_store};
use crate::{FlowStore, InsertReport, Source, SqlStore, StoreError};

/// One stored outflow.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredOutflow {
    pub entity: String,
    pub txid: String,
    pub destination: String,
    pub btc: f64,
    pub time: Timestamp,
}

impl Record for &StoredOutflow {
    type Values = f64;
    /// A transaction's outflow does not change: a different amount is an error.
    const VERSIONED: bool = false;

    fn latest(&self, tx: &Db) -> Result<Option<Stored<f64>>, StoreError> {
        tx.one(
            "SELECT btc, source, available_at, ingested_at FROM entity_outflows
             WHERE entity = ?1 AND txid = ?2 AND destination = ?3",
            args![&self.entity, &self.txid, &self.destination],
            |x| {
                Ok(Stored {
                    values: x.get(0)?,
                    source: x.get(1)?,
                    available_at: x.get(2)?,
                    ingested_at: x.get(3)?,
                })
            },
        )
    }

    fn same(&self, stored: &f64) -> bool {
        stored.to_bits() == self.btc.to_bits()
    }

    fn available_at(&self) -> i64 {
        // Known from its block time.
        self.time.millis()
    }

    fn put(
        &self,
        tx: &Db,
        source: &str,
        available_at: i64,
        ingested_at: i64,
    ) -> Result<(), StoreError> {
        tx.exec(
            "INSERT INTO entity_outflows (entity, txid, destination, btc, time, source, available_at, ingested_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            args![
                &self.entity,
                &self.txid,
                &self.destination,
                self.btc,
                self.time.millis(),
                source,
                available_at,
                ingested_at
            ],
        )?;
        Ok(())
    }

    fn describe(&self, stored: &f64) -> (String, String, String) {
        (
            format!(
                "{} outflow in transaction {} at {}",
                self.entity, self.txid, self.time
            ),
            format!("{stored} BTC to {}", self.destination),
            format!("{} BTC to {}", self.btc, self.destination),
        )
    }
}

impl FlowStore for SqlStore {
    fn insert_outflows(
        &mut self,
        rows: &[StoredOutflow],
        source: Source<'_>,
        ingested_at: Timestamp,
    ) -> Result<InsertReport, StoreError> {
        let tx = self.begin_write()?;
        crate::register_source(&tx, source)?;
        let tagged = rows
            .iter()
            .enumerate()
            .map(|(i, r)| Ok::<_, std::convert::Infallible>((i as u64, r)));
        let report = write::insert(
            &tx,
            tagged,
            source.name,
            crate::stamp(&tx, ingested_at)?,
            Revisions::Refuse,
            |_| {},
        )
        .map_err(unwrap_store)?;
        tx.commit()?;
        Ok(report)
    }

    fn outflows(
        &self,
        entity: &str,
        asof: Option<Timestamp>,
    ) -> Result<Vec<StoredOutflow>, StoreError> {
        self.db.all(
            "SELECT entity, txid, destination, btc, time FROM entity_outflows
             WHERE entity = ?1 AND available_at <= ?2 ORDER BY time, txid, destination",
            args![entity, asof.map_or(i64::MAX, Timestamp::millis)],
            |r| {
                Ok(StoredOutflow {
                    entity: r.get(0)?,
                    txid: r.get(1)?,
                    destination: r.get(2)?,
                    btc: r.get(3)?,
                    time: Timestamp::from_millis(r.get(4)?),
                })
            },
        )
    }

    fn flow_entities(&self) -> Result<Vec<String>, StoreError> {
        self.db.all(
            "SELECT DISTINCT entity FROM entity_outflows ORDER BY entity",
            &[],
            |r| r.get(0),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[test]
    fn outflows_are_idempotent_and_point_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqlStore::open(&dir.path().join("f.db")).unwrap();
        let row = |txid: &str, btc: f64, t: i64| StoredOutflow {
            entity: "MARA".into(),
            txid: txid.into(),
            destination: "exchange".into(),
            btc,
            time: Timestamp::from_millis(t),
        };
        let rows = [row("a", 1.0, 10), row("b", 2.0, 20)];
        let now = Timestamp::from_millis(0);
        assert_eq!(
            s.insert_outflows(&rows, Source::real("esplora"), now)
                .unwrap()
                .inserted,
            2
        );
        assert_eq!(
            s.insert_outflows(&rows, Source::real("esplora"), now)
                .unwrap()
                .present,
            2
        );
        let e = s
            .insert_outflows(
                &[row("c", 3.0, 30), row("a", 9.0, 10)],
                Source::real("esplora"),
                now,
            )
            .unwrap_err();
        assert!(
            matches!(&e, StoreError::Conflict(c) if c.index == 1 && c.what.starts_with("MARA outflow in transaction a")),
            "{e}"
        );
        assert_eq!(
            s.outflows("MARA", None).unwrap().len(),
            2,
            "the failed insert wrote nothing"
        );
        assert_eq!(
            s.outflows("MARA", Some(Timestamp::from_millis(15)))
                .unwrap()
                .len(),
            1
        );
        assert_eq!(s.flow_entities().unwrap(), ["MARA"]);
    }
}
