//! Each event's occurrence in its source's stream, the end of its stored identity, so that a
//! run given its input again stores nothing twice.

use std::collections::HashMap;

use canary_model::{Symbol, Timestamp};
use canary_store::event_content;

use super::Event;

/// The occurrence of each event in its source's stream, which its stored identity ends with
/// (`canary_store::NewEvent::occurrence`): how many events of the same content the source
/// sent before it at the same time. Equal content means an equal own time, and a source sends
/// each symbol's events in time order, so equal events come together: the events of each
/// source's (and symbol's) latest time are counted, and the count starts again when that time
/// moves on. Two equal trades of one millisecond are thus 0 and 1, in this run and in any run
/// of the same input, so that a run given its input again (a restart, a bar file run twice, a
/// replay) stores nothing twice; the same content again after the time has moved on is a
/// repeat. Contents are counted by their hash (`canary_store::event_content`): two contents
/// of one hash would only number the second 1, still stored.
#[derive(Debug, Default)]
pub(super) struct Occurrences(HashMap<String, HashMap<String, Latest>>);

/// The events of a source's symbol at its latest time: how many of each content.
#[derive(Debug)]
struct Latest {
    time: Timestamp,
    seen: HashMap<i64, u32>,
}

impl Occurrences {
    pub(super) fn next(&mut self, e: &Event, payload: &str) -> u32 {
        let symbol = e.symbol().map_or("", Symbol::as_str);
        if !self
            .0
            .get(e.source())
            .is_some_and(|m| m.contains_key(symbol))
        {
            self.0.entry(e.source().to_string()).or_default().insert(
                symbol.to_string(),
                Latest {
                    time: e.time(),
                    seen: HashMap::new(),
                },
            );
        }
        let latest = self
            .0
            .get_mut(e.source())
            .and_then(|m| m.get_mut(symbol))
            .expect("inserted above");
        if latest.time != e.time() {
            latest.time = e.time();
            latest.seen.clear();
        }
        let n = latest.seen.entry(event_content(payload)).or_insert(0);
        *n += 1;
        *n - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trade(source: &str, symbol: &str, time: &str, price: f64) -> (Event, String) {
        let e = Event::Trade {
            source: source.into(),
            symbol: Symbol::new(symbol).unwrap(),
            time: Timestamp::parse(time).unwrap(),
            price,
            qty: 1.0,
        };
        let payload = serde_json::to_string(&e).unwrap();
        (e, payload)
    }

    /// Equal events of one time count 0, 1, …; the count starts again when the time moves on,
    /// and each source's symbol counts apart.
    #[test]
    fn equal_events_of_one_time_are_numbered() {
        let mut o = Occurrences::default();
        let mut next = |x: (Event, String)| o.next(&x.0, &x.1);
        let t0 = "2026-02-05T10:00:00Z";
        assert_eq!(next(trade("binance", "BTCUSDT", t0, 1.0)), 0);
        assert_eq!(next(trade("binance", "BTCUSDT", t0, 1.0)), 1);
        assert_eq!(next(trade("binance", "BTCUSDT", t0, 2.0)), 0);
        assert_eq!(next(trade("binance", "BTCUSDT", t0, 1.0)), 2);
        assert_eq!(next(trade("coinbase", "BTCUSDT", t0, 1.0)), 0);
        assert_eq!(next(trade("binance", "ETHUSDT", t0, 1.0)), 0);
        let t1 = "2026-02-05T10:00:01Z";
        assert_eq!(next(trade("binance", "BTCUSDT", t1, 1.0)), 0);
        // Back at the first time: a repeat, numbered afresh.
        assert_eq!(next(trade("binance", "BTCUSDT", t0, 1.0)), 0);
    }
}
