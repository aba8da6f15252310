//! The kline stream kept alive: connect, take closed klines, and after any break reconnect
//! with back-off and fetch the bars missed meanwhile by REST before streaming again.
//!
//! Limits from the public documentation this respects: one connection per stream set (the
//! streams are named in the URL, so no subscription messages count against the five
//! incoming messages a second), reconnections spaced by a back-off from 1 s doubling to a
//! minute (well inside 300 connections per 5 minutes per IP), pings answered (tungstenite
//! replies with a pong as it reads), REST requests one at a time with `Retry-After` obeyed on
//! 429 and 418.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use canary_model::event::{Event, Stamped};
use canary_model::{Candle, Symbol, Timeframe, Timestamp};
use futures_util::StreamExt;
use tokio::sync::watch;

use crate::bus::Publish;
use tokio_tungstenite::tungstenite::Message;

use super::parse::{Frame, frame, rest_klines};
use crate::source::{SourceError, SourceErrorKind};

/// The Binance spot stream's address.
pub const WS_BASE: &str = "wss://stream.binance.com:9443";
/// The Binance spot REST API's address.
pub const REST_BASE: &str = "https://api.binance.com";

/// A kline stream of some symbols at one interval.
#[derive(Debug, Clone)]
pub struct BinanceStream {
    /// The source's name in events and the store (e.g. `binance`).
    pub name: String,
    pub ws_base: String,
    pub rest_base: String,
    pub symbols: Vec<Symbol>,
    pub timeframe: Timeframe,
    /// No message for this long: a `Stale` event, and a new connection.
    pub stale_after: Duration,
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    /// A REST request's limit.
    pub timeout: Duration,
    /// A CA file trusted besides the web roots (a private relay, a test server).
    pub ca: Option<std::path::PathBuf>,
}

/// The clock a source stamps events with.
pub type Now = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Why the stream ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// Shutdown was asked for.
    Shutdown,
    /// The engine is gone.
    EngineGone,
}

struct Run<'a, P> {
    cfg: &'a BinanceStream,
    tx: &'a P,
    now: Now,
    http: reqwest::Client,
    /// The open time of the last bar sent, per symbol (Binance's spelling).
    last: BTreeMap<String, Timestamp>,
    by_name: BTreeMap<String, Symbol>,
}

impl BinanceStream {
    /// The combined-stream URL for the symbols.
    #[must_use]
    pub fn url(&self) -> String {
        let streams: Vec<String> = self
            .symbols
            .iter()
            .map(|s| {
                format!(
                    "{}@kline_{}",
                    s.as_str().to_ascii_lowercase(),
                    self.timeframe
                )
            })
            .collect();
        format!(
            "{}/stream?streams={}",
            self.ws_base.trim_end_matches('/'),
            streams.join("/")
        )
    }

    /// Run until shutdown. `last` is the open time of the latest bar already held per symbol
    /// (from the store): bars after it are fetched by REST on the first connection, so a
    /// restart leaves no hole.
    ///
    /// # Errors
    /// Why it ended (a shutdown is the normal end).
    pub async fn run(
        &self,
        tx: &impl Publish,
        now: Now,
        last: BTreeMap<Symbol, Timestamp>,
        mut stop: watch::Receiver<bool>,
    ) -> Ended {
        let mut run = Run {
            cfg: self,
            tx,
            now,
            http: reqwest::Client::new(),
            last: last
                .into_iter()
                .map(|(s, t)| (s.as_str().to_string(), t))
                .collect(),
            by_name: self
                .symbols
                .iter()
                .map(|s| (s.as_str().to_string(), s.clone()))
                .collect(),
        };
        let mut wait = self.reconnect_min;
        let mut connected_before = false;
        loop {
            if *stop.borrow() {
                return Ended::Shutdown;
            }
            match run.session(&mut stop, connected_before).await {
                Ok(Some(end)) => return end,
                Ok(None) => {
                    // A session that streamed: start the back-off afresh.
                    connected_before = true;
                    wait = self.reconnect_min;
                }
                Err(e) => {
                    if run
                        .send(Event::Malformed {
                            source: self.name.clone(),
                            time: (run.now)(),
                            payload: String::new(),
                            error: e,
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

impl<P: Publish> Run<'_, P> {
    async fn send(&self, e: Event) -> Result<(), Ended> {
        self.tx
            .publish(Stamped {
                event: e,
                available_at: (self.now)(),
            })
            .await
            .map_err(|_| Ended::EngineGone)
    }

    /// One connection: `Ok(None)` when it broke after streaming (reconnect now), `Ok(Some)`
    /// to stop, `Err` when it could not connect (back off).
    async fn session(
        &mut self,
        stop: &mut watch::Receiver<bool>,
        reconnection: bool,
    ) -> Result<Option<Ended>, String> {
        let url = self.cfg.url();
        let mut ws = crate::ws::connect(&url, self.cfg.timeout, self.cfg.ca.as_deref()).await?;
        let name = self.cfg.name.clone();
        if reconnection
            && let Err(e) = self
                .send(Event::Reconnected {
                    source: name.clone(),
                    time: (self.now)(),
                })
                .await
        {
            return Ok(Some(e));
        }
        // Bars missed since the last one held (a restart, a break): fetched now, before the
        // stream's own, so that the engine gets them in order.
        if let Err(e) = self.backfill().await {
            return match e {
                Backfill::Ended(end) => Ok(Some(end)),
                Backfill::Failed(why) => Err(why),
            };
        }
        let tf = self.cfg.timeframe;
        loop {
            let next = tokio::select! {
                m = tokio::time::timeout(self.cfg.stale_after, ws.next()) => m,
                _ = stop.changed() => {
                    let _ = ws.close(None).await;
                    return Ok(Some(Ended::Shutdown));
                }
            };
            let msg = match next {
                Err(_) => {
                    let silent_ms =
                        i64::try_from(self.cfg.stale_after.as_millis()).unwrap_or(i64::MAX);
                    if let Err(e) = self
                        .send(Event::Stale {
                            source: name.clone(),
                            time: (self.now)(),
                            silent_ms,
                        })
                        .await
                    {
                        return Ok(Some(e));
                    }
                    return Ok(None);
                }
                Ok(None | Some(Err(_))) => return Ok(None),
                Ok(Some(Ok(m))) => m,
            };
            let text = match msg {
                Message::Text(t) => t.to_string(),
                Message::Close(_) => return Ok(None),
                // Pings are answered by tungstenite as it reads; nothing else carries data.
                _ => continue,
            };
            match frame(&text, tf) {
                Ok(Frame::Closed { symbol, candle }) => {
                    if let Err(e) = self.take(&symbol, candle).await {
                        return Ok(Some(e));
                    }
                }
                Ok(Frame::Other) => {}
                Err(error) => {
                    let payload: String = text.chars().take(500).collect();
                    if let Err(e) = self
                        .send(Event::Malformed {
                            source: name.clone(),
                            time: (self.now)(),
                            payload,
                            error,
                        })
                        .await
                    {
                        return Ok(Some(e));
                    }
                }
            }
        }
    }

    /// Send a closed bar unless one as new was sent already (a bar fetched by REST and
    /// streamed again after a reconnection goes to the engine once).
    async fn take(&mut self, symbol: &str, candle: Candle) -> Result<(), Ended> {
        let Some(sym) = self.by_name.get(symbol).cloned() else {
            return Ok(());
        };
        if self
            .last
            .get(symbol)
            .is_some_and(|t| candle.open_time <= *t)
        {
            return Ok(());
        }
        self.last.insert(symbol.to_string(), candle.open_time);
        self.send(Event::Bar {
            source: self.cfg.name.clone(),
            symbol: sym,
            timeframe: self.cfg.timeframe,
            candle,
        })
        .await
    }

    async fn backfill(&mut self) -> Result<(), Backfill> {
        let tf = self.cfg.timeframe;
        let step = tf.duration_ms();
        let held: Vec<(String, Timestamp)> =
            self.last.iter().map(|(s, t)| (s.clone(), *t)).collect();
        for (symbol, last) in held {
            let now = (self.now)();
            // The first bar not held, and the last one closed by now.
            let first = last.millis() + step;
            let last_closed = tf.floor(now).millis() - step;
            if first > last_closed {
                continue;
            }
            self.send(Event::Gap {
                source: self.cfg.name.clone(),
                symbol: self.by_name[&symbol].clone(),
                from: Timestamp::from_millis(first),
                to: Timestamp::from_millis(last_closed + step),
            })
            .await
            .map_err(Backfill::Ended)?;
            let mut start = first;
            while start <= last_closed {
                let url = format!(
                    "{}/api/v3/klines?symbol={symbol}&interval={tf}&startTime={start}&endTime={}&limit=1000",
                    self.cfg.rest_base.trim_end_matches('/'),
                    last_closed + step - 1
                );
                let bars = self
                    .get_klines(&url)
                    .await
                    .map_err(|e| Backfill::Failed(e.to_string()))?;
                let Some(newest) = bars.last().map(|c| c.open_time.millis()) else {
                    break;
                };
                for c in bars
                    .into_iter()
                    .filter(|c| c.open_time.millis() <= last_closed)
                {
                    self.take(&symbol, c).await.map_err(Backfill::Ended)?;
                }
                start = newest + step;
            }
        }
        Ok(())
    }

    /// One REST request, waiting out a rate limit (429, or 418 for a ban) as the reply says.
    async fn get_klines(&self, url: &str) -> Result<Vec<Candle>, SourceError> {
        for _ in 0..5 {
            let r = self
                .http
                .get(url)
                .timeout(self.cfg.timeout)
                .send()
                .await
                .map_err(|e| SourceError::from_reqwest(url, &e, self.cfg.timeout))?;
            let status = r.status().as_u16();
            if status == 429 || status == 418 {
                let wait = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(1);
                tokio::time::sleep(Duration::from_secs(wait.min(300))).await;
                continue;
            }
            let body = r
                .text()
                .await
                .map_err(|e| SourceError::from_reqwest(url, &e, self.cfg.timeout))?;
            if !(200..300).contains(&status) {
                return Err(SourceError::new(
                    url,
                    SourceErrorKind::Http { status, body },
                ));
            }
            return rest_klines(url, &body);
        }
        Err(SourceError::new(
            url,
            SourceErrorKind::Http {
                status: 429,
                body: "still rate-limited after five waits".into(),
            },
        ))
    }
}

enum Backfill {
    Ended(Ended),
    Failed(String),
}
