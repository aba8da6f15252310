//! The live engine's events, in the order it took them, each with when Canary had it.

use canary_model::Timestamp;
use rusqlite::params;

use crate::{Store, StoreError};

/// One event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub seq: i64,
    pub source: String,
    pub kind: String,
    pub symbol: Option<String>,
    pub event_time: Timestamp,
    pub available_at: Timestamp,
    /// JSON of the event.
    pub payload: String,
}

/// An event to append (its `seq` is given by the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub source: String,
    pub kind: String,
    pub symbol: Option<String>,
    pub event_time: Timestamp,
    pub available_at: Timestamp,
    pub payload: String,
}

impl Store {
    /// Append events in one transaction, in order.
    ///
    /// # Errors
    /// A database error (nothing is written).
    pub fn append_events(&mut self, events: &[NewEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let tx = self.begin_write()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO events (source, kind, symbol, event_time, available_at, payload)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for e in events {
                stmt.execute(params![
                    e.source,
                    e.kind,
                    e.symbol,
                    e.event_time.millis(),
                    e.available_at.millis(),
                    e.payload
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The events Canary had in `[from, to)`, in the order it took them.
    ///
    /// # Errors
    /// A database error.
    pub fn events(&self, from: Timestamp, to: Timestamp) -> Result<Vec<StoredEvent>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, source, kind, symbol, event_time, available_at, payload FROM events
             WHERE available_at >= ?1 AND available_at < ?2 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![from.millis(), to.millis()], |r| {
            Ok(StoredEvent {
                seq: r.get(0)?,
                source: r.get(1)?,
                kind: r.get(2)?,
                symbol: r.get(3)?,
                event_time: Timestamp::from_millis(r.get(4)?),
                available_at: Timestamp::from_millis(r.get(5)?),
                payload: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_come_back_in_the_order_taken() {
        let mut s = Store::in_memory().unwrap();
        let e = |t: i64, k: &str| NewEvent {
            source: "x".into(),
            kind: k.into(),
            symbol: Some("BTCUSDT".into()),
            event_time: Timestamp::from_millis(t),
            available_at: Timestamp::from_millis(10 - t),
            payload: "{}".into(),
        };
        s.append_events(&[e(1, "a"), e(2, "b"), e(3, "c")]).unwrap();
        let got = s
            .events(Timestamp::from_millis(0), Timestamp::from_millis(9))
            .unwrap();
        let kinds: Vec<_> = got.iter().map(|x| x.kind.as_str()).collect();
        assert_eq!(kinds, ["b", "c"], "by seq, within the availability range");
    }
}
