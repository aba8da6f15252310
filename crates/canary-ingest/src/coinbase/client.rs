//! The matches channel kept alive: connect, subscribe once (one message per connection,
//! inside the documented limit on messages a second and within the seconds a new connection
//! has to subscribe), turn matches into trades, and reconnect with back-off after any break.
//!
//! Trade ids are consecutive per product: a jump is a `Gap` (trades missed), a repeat (the
//! `last_match` after a reconnection) is dropped, and a heartbeat whose last trade id is past
//! the last trade seen reveals trades missed without a message.

use std::collections::BTreeMap;
use std::time::Duration;

use canary_model::event::{Event, Stamped};
use canary_model::{Symbol, Timestamp};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;

use crate::bus::Publish;
use tokio_tungstenite::tungstenite::Message as Ws;

use super::parse::{Message, message};
use crate::binance::{Ended, Now};

/// The Coinbase Exchange feed's address.
pub const WS_BASE: &str = "wss://ws-feed.exchange.coinbase.com";

/// The trades of some products.
#[derive(Debug, Clone)]
pub struct CoinbaseStream {
    /// The source's name in events and the store (e.g. `coinbase`).
    pub name: String,
    pub ws: String,
    /// Product ids (`BTC-USD`) and the symbols their trades feed.
    pub products: Vec<(String, Symbol)>,
    /// No message for this long (heartbeats come every second): a `Stale` event and a new
    /// connection.
    pub stale_after: Duration,
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    pub timeout: Duration,
    pub ca: Option<std::path::PathBuf>,
}

impl CoinbaseStream {
    /// The subscription message.
    #[must_use]
    pub fn subscribe(&self) -> String {
        let ids: Vec<&str> = self.products.iter().map(|(p, _)| p.as_str()).collect();
        serde_json::json!({
            "type": "subscribe",
            "product_ids": ids,
            "channels": ["matches", "heartbeat"],
        })
        .to_string()
    }

    /// Run until shutdown.
    pub async fn run(&self, tx: &impl Publish, now: Now, mut stop: watch::Receiver<bool>) -> Ended {
        let mut seen = Seen::new(&self.name, &self.products);
        let send = |e: Event| {
            let now = now.clone();
            async move {
                tx.publish(Stamped {
                    event: e,
                    available_at: now(),
                })
                .await
                .map_err(|_| Ended::EngineGone)
            }
        };
        let mut wait = self.reconnect_min;
        let mut connected_before = false;
        loop {
            if *stop.borrow() {
                return Ended::Shutdown;
            }
            let outcome: Result<Option<Ended>, String> = async {
                let mut ws = crate::ws::connect(&self.ws, self.timeout, self.ca.as_deref()).await?;
                ws.send(Ws::text(self.subscribe()))
                    .await
                    .map_err(|e| format!("{}: subscribing: {e}", self.ws))?;
                if connected_before
                    && let Err(e) = send(Event::Reconnected {
                        source: self.name.clone(),
                        time: now(),
                    })
                    .await
                {
                    return Ok(Some(e));
                }
                connected_before = true;
                loop {
                    let next = tokio::select! {
                        m = tokio::time::timeout(self.stale_after, ws.next()) => m,
                        _ = stop.changed() => {
                            let _ = ws.close(None).await;
                            return Ok(Some(Ended::Shutdown));
                        }
                    };
                    let text = match next {
                        Err(_) => {
                            let silent_ms =
                                i64::try_from(self.stale_after.as_millis()).unwrap_or(i64::MAX);
                            if let Err(e) = send(Event::Stale {
                                source: self.name.clone(),
                                time: now(),
                                silent_ms,
                            })
                            .await
                            {
                                return Ok(Some(e));
                            }
                            return Ok(None);
                        }
                        Ok(None | Some(Err(_) | Ok(Ws::Close(_)))) => return Ok(None),
                        Ok(Some(Ok(Ws::Text(t)))) => t.to_string(),
                        Ok(Some(Ok(_))) => continue,
                    };
                    for e in seen.events(&text, &now) {
                        if let Err(end) = send(e).await {
                            return Ok(Some(end));
                        }
                    }
                }
            }
            .await;
            match outcome {
                Ok(Some(end)) => return end,
                Ok(None) => wait = self.reconnect_min,
                Err(error) => {
                    if send(Event::Malformed {
                        source: self.name.clone(),
                        time: now(),
                        payload: String::new(),
                        error,
                    })
                    .await
                    .is_err()
                    {
                        return Ended::EngineGone;
                    }
                }
            }
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                _ = stop.changed() => return Ended::Shutdown,
            }
            wait = (wait * 2).min(self.reconnect_max);
        }
    }
}

/// What the stream has seen across connections: the symbol each product feeds, and the last
/// trade of each product (id and time), against which gaps and repeats are found.
#[derive(Debug, Clone)]
struct Seen<'a> {
    source: &'a str,
    symbols: BTreeMap<String, Symbol>,
    last: BTreeMap<String, (u64, Timestamp)>,
}

impl<'a> Seen<'a> {
    fn new(source: &'a str, products: &[(String, Symbol)]) -> Seen<'a> {
        Seen {
            source,
            symbols: products.iter().cloned().collect(),
            last: BTreeMap::new(),
        }
    }

    /// The events of one text message: a trade (after a `Gap` when trade ids jumped), a
    /// `Gap` when a heartbeat's last trade is past the last one seen, a `Malformed` for an
    /// error or an unreadable message; none for a repeated trade, another product, a
    /// heartbeat with nothing missed or the subscription's confirmation. `now` is read only
    /// for a `Malformed`.
    fn events(&mut self, text: &str, now: &Now) -> Vec<Event> {
        let source = self.source.to_string();
        match message(text) {
            Ok(Message::Trade {
                product,
                trade_id,
                time,
                price,
                size,
            }) => {
                let Some(symbol) = self.symbols.get(&product) else {
                    return Vec::new();
                };
                let mut out = Vec::new();
                match self.last.get(&product) {
                    Some((id, _)) if trade_id <= *id => return Vec::new(),
                    Some((id, at)) if trade_id > id + 1 => out.push(Event::Gap {
                        source: source.clone(),
                        symbol: symbol.clone(),
                        from: *at,
                        to: time,
                    }),
                    _ => {}
                }
                self.last.insert(product, (trade_id, time));
                out.push(Event::Trade {
                    source,
                    symbol: symbol.clone(),
                    time,
                    price,
                    qty: size,
                });
                out
            }
            Ok(Message::Heartbeat {
                product,
                last_trade_id,
                time,
            }) => match (self.symbols.get(&product), self.last.get(&product)) {
                (Some(symbol), Some((id, at))) if last_trade_id > *id => {
                    let gap = Event::Gap {
                        source,
                        symbol: symbol.clone(),
                        from: *at,
                        to: time,
                    };
                    self.last.insert(product, (last_trade_id, time));
                    vec![gap]
                }
                _ => Vec::new(),
            },
            Ok(Message::Subscribed) => Vec::new(),
            Ok(Message::Error(error)) => vec![Event::Malformed {
                source,
                time: now(),
                payload: text.chars().take(500).collect(),
                error: format!("the feed reported an error: {error}"),
            }],
            Err(error) => vec![Event::Malformed {
                source,
                time: now(),
                payload: text.chars().take(500).collect(),
                error,
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn trade(id: u64, second: u32) -> String {
        format!(
            r#"{{"type":"match","trade_id":{id},"time":"2026-02-05T10:00:{second:02}Z","product_id":"BTC-USD","size":"0.5","price":"64000.5"}}"#
        )
    }

    fn heartbeat(last_trade_id: u64, second: u32) -> String {
        format!(
            r#"{{"type":"heartbeat","sequence":1,"last_trade_id":{last_trade_id},"product_id":"BTC-USD","time":"2026-02-05T10:00:{second:02}Z"}}"#
        )
    }

    fn seen() -> Seen<'static> {
        Seen::new(
            "coinbase",
            &[("BTC-USD".into(), Symbol::new("BTCUSD").unwrap())],
        )
    }

    fn clock() -> Now {
        Arc::new(|| Timestamp::parse("2026-02-05T12:00:00Z").unwrap())
    }

    /// Consecutive trades pass; a repeat is dropped; a jump in ids is a gap, then the trade.
    #[test]
    fn trades_repeats_and_jumps() {
        let (mut s, now) = (seen(), clock());
        let sym = Symbol::new("BTCUSD").unwrap();
        let first = s.events(&trade(10, 1), &now);
        assert_eq!(
            first,
            [Event::Trade {
                source: "coinbase".into(),
                symbol: sym.clone(),
                time: t("2026-02-05T10:00:01Z"),
                price: 64000.5,
                qty: 0.5,
            }]
        );
        assert_eq!(s.events(&trade(11, 2), &now).len(), 1);
        assert!(s.events(&trade(11, 2), &now).is_empty(), "a repeat");
        assert!(s.events(&trade(5, 2), &now).is_empty(), "an older trade");
        let jump = s.events(&trade(15, 3), &now);
        assert_eq!(
            jump[0],
            Event::Gap {
                source: "coinbase".into(),
                symbol: sym,
                from: t("2026-02-05T10:00:02Z"),
                to: t("2026-02-05T10:00:03Z"),
            }
        );
        assert!(matches!(jump[1], Event::Trade { .. }));
        let other = trade(16, 4).replace("BTC-USD", "ETH-USD");
        assert!(s.events(&other, &now).is_empty(), "a product not asked for");
    }

    /// A heartbeat past the last trade seen is a gap (and moves the last trade on); one that
    /// is not, or before any trade, says nothing.
    #[test]
    fn heartbeats_reveal_missed_trades() {
        let (mut s, now) = (seen(), clock());
        assert!(
            s.events(&heartbeat(7, 0), &now).is_empty(),
            "no trade seen yet"
        );
        s.events(&trade(10, 1), &now);
        assert!(s.events(&heartbeat(10, 2), &now).is_empty());
        let gap = s.events(&heartbeat(12, 3), &now);
        assert!(
            matches!(&gap[..], [Event::Gap { from, .. }] if *from == t("2026-02-05T10:00:01Z"))
        );
        assert!(
            s.events(&trade(12, 4), &now).is_empty(),
            "already counted as missed"
        );
        assert_eq!(s.events(&trade(13, 5), &now).len(), 1);
    }

    /// An error from the feed and an unreadable message are malformed, at the clock's time;
    /// the subscription's confirmation is nothing.
    #[test]
    fn errors_and_unreadable_messages_are_malformed() {
        let (mut s, now) = (seen(), clock());
        let subscribed = r#"{"type":"subscriptions","channels":[]}"#;
        assert!(s.events(subscribed, &now).is_empty());
        let err = r#"{"type":"error","message":"Failed to subscribe","reason":"bad product"}"#;
        match &s.events(err, &now)[..] {
            [
                Event::Malformed {
                    time,
                    error,
                    payload,
                    ..
                },
            ] => {
                assert_eq!(*time, t("2026-02-05T12:00:00Z"));
                assert_eq!(
                    error,
                    "the feed reported an error: Failed to subscribe (bad product)"
                );
                assert_eq!(payload, err);
            }
            other => panic!("{other:?}"),
        }
        let long = "x".repeat(600);
        match &s.events(&long, &now)[..] {
            [Event::Malformed { payload, .. }] => assert_eq!(payload.len(), 500),
            other => panic!("{other:?}"),
        }
    }
}
