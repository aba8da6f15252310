//! The matches channel kept alive: connect, subscribe once (one message per connection,
//! inside the documented limit on messages a second and within the seconds a new connection
//! has to subscribe), turn matches into trades, and reconnect with back-off after any break.
//!
//! Trade ids are consecutive per product: a jump is a `Gap` (trades missed), a repeat (the
//! `last_match` after a reconnection) is dropped, and a heartbeat whose last trade id is past
//! the last trade seen reveals trades missed without a message.

use std::collections::BTreeMap;
use std::time::Duration;

use canary_model::Symbol;
use canary_model::event::{Event, Stamped};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, watch};
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
    pub async fn run(
        &self,
        tx: &mpsc::Sender<Stamped>,
        now: Now,
        mut stop: watch::Receiver<bool>,
    ) -> Ended {
        let symbols: BTreeMap<String, Symbol> = self.products.iter().cloned().collect();
        // The last trade seen per product: (id, time).
        let mut last: BTreeMap<String, (u64, canary_model::Timestamp)> = BTreeMap::new();
        let send = |e: Event| {
            let now = now.clone();
            async move {
                tx.send(Stamped {
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
                        Ok(None | Some(Err(_)) | Some(Ok(Ws::Close(_)))) => return Ok(None),
                        Ok(Some(Ok(Ws::Text(t)))) => t.to_string(),
                        Ok(Some(Ok(_))) => continue,
                    };
                    let events = match message(&text) {
                        Ok(Message::Trade {
                            product,
                            trade_id,
                            time,
                            price,
                            size,
                        }) => {
                            let Some(symbol) = symbols.get(&product) else {
                                continue;
                            };
                            let mut out = Vec::new();
                            match last.get(&product) {
                                Some((id, _)) if trade_id <= *id => continue,
                                Some((id, at)) if trade_id > id + 1 => out.push(Event::Gap {
                                    source: self.name.clone(),
                                    symbol: symbol.clone(),
                                    from: *at,
                                    to: time,
                                }),
                                _ => {}
                            }
                            last.insert(product, (trade_id, time));
                            out.push(Event::Trade {
                                source: self.name.clone(),
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
                        }) => match (symbols.get(&product), last.get(&product)) {
                            (Some(symbol), Some((id, at))) if last_trade_id > *id => {
                                let gap = Event::Gap {
                                    source: self.name.clone(),
                                    symbol: symbol.clone(),
                                    from: *at,
                                    to: time,
                                };
                                last.insert(product, (last_trade_id, time));
                                vec![gap]
                            }
                            _ => continue,
                        },
                        Ok(Message::Subscribed) => continue,
                        Ok(Message::Error(error)) => vec![Event::Malformed {
                            source: self.name.clone(),
                            time: now(),
                            payload: text.chars().take(500).collect(),
                            error: format!("the feed reported an error: {error}"),
                        }],
                        Err(error) => vec![Event::Malformed {
                            source: self.name.clone(),
                            time: now(),
                            payload: text.chars().take(500).collect(),
                            error,
                        }],
                    };
                    for e in events {
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
