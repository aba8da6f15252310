//! The live engine's events, in the order it took them, each with when Canary had it.
//!
//! Each event is stored once (migration 0017). Its identity is its source, its kind, its own
//! time, the hash of its payload ([`content`]) and its occurrence, which the engine counts:
//! how many events of the same content the source sent before it at the same time. Two equal
//! trades of one millisecond (a venue without trade ids) are two events, occurrences 0 and 1;
//! the same bar file run again, or a run restarted, sends its events again with the same
//! occurrences, and they are present already. A hash of equal value for two payloads of one
//! source, kind and millisecond would keep the first only: with 64 bits, not a case to plan
//! for among a source's events of one millisecond.

use canary_model::Timestamp;
use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

use crate::sql::{Column, Db, args};
use crate::{EventStore, SqlStore, StoreError};

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
    /// Events of the same content its source sent before it at its time.
    pub occurrence: u32,
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
    /// How many events of the same source, time and payload came before this one in the
    /// source's stream (0 for the first): equal events are told apart by it, and a copy of
    /// one already stored is not stored again.
    pub occurrence: u32,
}

/// The hash of an event's payload in its identity ([`canary_model::event::content`]).
#[must_use]
pub fn content(payload: &str) -> i64 {
    canary_model::event::content(payload)
}

/// [`content`] as the SQL function `canary_event_content(payload)`, for the migration that
/// gives the events stored before it their identity.
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "canary_event_content",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| Ok(content(&ctx.get::<String>(0)?)),
    )
}

/// Insert events in the open transaction, each unless stored already; how many were new.
pub(crate) fn insert_events(tx: &Db, events: &[NewEvent]) -> Result<usize, StoreError> {
    let text =
        |f: &dyn Fn(&NewEvent) -> Option<String>| Column::Text(events.iter().map(f).collect());
    let int =
        |f: &dyn Fn(&NewEvent) -> i64| Column::Int(events.iter().map(|e| Some(f(e))).collect());
    let columns = vec![
        text(&|e| Some(e.source.clone())),
        text(&|e| Some(e.kind.clone())),
        text(&|e| e.symbol.clone()),
        int(&|e| e.event_time.millis()),
        int(&|e| e.available_at.millis()),
        text(&|e| Some(e.payload.clone())),
        int(&|e| content(&e.payload)),
        int(&|e| i64::from(e.occurrence)),
    ];
    tx.insert_columns(
        "INSERT INTO events
             (source, kind, symbol, event_time, available_at, payload, content, occurrence)",
        "ON CONFLICT (source, kind, event_time, content, occurrence) DO NOTHING",
        columns,
    )
}

impl EventStore for SqlStore {
    fn append_events(&mut self, events: &[NewEvent]) -> Result<usize, StoreError> {
        if events.is_empty() {
            return Ok(0);
        }
        let tx = self.begin_write()?;
        let new = insert_events(&tx, events)?;
        tx.commit()?;
        Ok(new)
    }

    fn events(&self, from: Timestamp, to: Timestamp) -> Result<Vec<StoredEvent>, StoreError> {
        self.db.all(
            "SELECT seq, source, kind, symbol, event_time, available_at, payload, occurrence
             FROM events WHERE available_at >= ?1 AND available_at < ?2 ORDER BY seq",
            args![from.millis(), to.millis()],
            |r| {
                Ok(StoredEvent {
                    seq: r.get(0)?,
                    source: r.get(1)?,
                    kind: r.get(2)?,
                    symbol: r.get(3)?,
                    event_time: Timestamp::from_millis(r.get(4)?),
                    available_at: Timestamp::from_millis(r.get(5)?),
                    payload: r.get(6)?,
                    occurrence: r.get(7)?,
                })
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[test]
    fn events_come_back_in_the_order_taken() {
        let mut s = SqlStore::in_memory().unwrap();
        let e = |t: i64, k: &str| NewEvent {
            source: "x".into(),
            kind: k.into(),
            symbol: Some("BTCUSDT".into()),
            event_time: Timestamp::from_millis(t),
            available_at: Timestamp::from_millis(10 - t),
            payload: "{}".into(),
            occurrence: 0,
        };
        s.append_events(&[e(1, "a"), e(2, "b"), e(3, "c")]).unwrap();
        let got = s
            .events(Timestamp::from_millis(0), Timestamp::from_millis(9))
            .unwrap();
        let kinds: Vec<_> = got.iter().map(|x| x.kind.as_str()).collect();
        assert_eq!(kinds, ["b", "c"], "by seq, within the availability range");
    }

    fn trade(t: i64, available_at: i64, occurrence: u32) -> NewEvent {
        NewEvent {
            source: "venue".into(),
            kind: "trade".into(),
            symbol: Some("BTCUSD".into()),
            event_time: Timestamp::from_millis(t),
            available_at: Timestamp::from_millis(available_at),
            payload: format!(r#"{{"kind":"trade","time":{t},"price":62000.0,"qty":0.5}}"#),
            occurrence,
        }
    }

    fn all(s: &SqlStore) -> Vec<StoredEvent> {
        s.events(Timestamp::from_millis(0), Timestamp::from_millis(i64::MAX))
            .unwrap()
    }

    /// Issue 19, item 7: the events of a run given again (a restart, the same bar file run
    /// twice) are stored once; the first copy, with its availability, is the one kept.
    #[test]
    fn an_event_given_again_is_stored_once() {
        let mut s = SqlStore::in_memory().unwrap();
        let run = [trade(1, 5, 0), trade(2, 6, 0), trade(3, 7, 0)];
        assert_eq!(s.append_events(&run).unwrap(), 3);
        let again = [trade(2, 8, 0), trade(3, 9, 0), trade(4, 9, 0)];
        assert_eq!(
            s.append_events(&again).unwrap(),
            1,
            "only the fourth is new"
        );
        let got = all(&s);
        let kept: Vec<_> = got
            .iter()
            .map(|e| (e.event_time.millis(), e.available_at.millis()))
            .collect();
        assert_eq!(kept, [(1, 5), (2, 6), (3, 7), (4, 9)]);
    }

    /// Two equal trades of one millisecond are two events, told apart by their occurrence;
    /// given again, they are both present.
    #[test]
    fn equal_events_of_one_time_are_kept_by_occurrence() {
        let mut s = SqlStore::in_memory().unwrap();
        let pair = [trade(1, 5, 0), trade(1, 5, 1)];
        assert_eq!(s.append_events(&pair).unwrap(), 2);
        assert_eq!(s.append_events(&pair).unwrap(), 0);
        let occurrences: Vec<_> = all(&s).iter().map(|e| e.occurrence).collect();
        assert_eq!(occurrences, [0, 1]);
    }

    /// A database that stored every event of a run twice (before migration 0017) keeps the
    /// first copy of each, in its place, and stores none of them again.
    #[test]
    fn copies_stored_before_identities_keep_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let c = rusqlite::Connection::open(&path).unwrap();
            let before = crate::sqlite::MIGRATIONS
                .iter()
                .position(|(name, _)| *name == "0017_event_identity")
                .unwrap();
            for (_, sql) in &crate::sqlite::MIGRATIONS[..before] {
                c.execute_batch(sql).unwrap();
            }
            c.pragma_update(None, "user_version", i64::try_from(before).unwrap())
                .unwrap();
            // A run, then the same run again from its start after it was stopped at t = 2.
            for (t, available_at) in [(1, 5), (2, 6), (1, 7), (2, 8), (3, 9)] {
                let e = trade(t, available_at, 0);
                c.execute(
                    "INSERT INTO events (source, kind, symbol, event_time, available_at, payload)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    rusqlite::params![e.source, e.kind, e.symbol, t, available_at, e.payload],
                )
                .unwrap();
            }
        }
        let mut s = SqlStore::open(&path).unwrap();
        let got: Vec<_> = all(&s)
            .iter()
            .map(|e| (e.seq, e.event_time.millis(), e.available_at.millis()))
            .collect();
        assert_eq!(got, [(1, 1, 5), (2, 2, 6), (5, 3, 9)]);
        assert_eq!(s.append_events(&[trade(3, 10, 0)]).unwrap(), 0);
        assert_eq!(s.append_events(&[trade(4, 10, 0)]).unwrap(), 1);
        assert_eq!(all(&s).last().unwrap().seq, 6, "after the last stored");
    }
}
