//! Binance spot payloads as the public API documentation describes them ("WebSocket Streams
//! for Binance": combined streams, `<symbol>@kline_<interval>`; "Market Data endpoints":
//! `GET /api/v3/klines`). Prices and quantities come as decimal strings.

use serde::Deserialize;

/// A combined-stream frame: `{"stream": "btcusdt@kline_1m", "data": {...}}`.
#[derive(Debug, Deserialize)]
pub struct Combined {
    pub stream: String,
    pub data: serde_json::Value,
}

/// The kline stream's event.
#[derive(Debug, Deserialize)]
pub struct KlineEvent {
    /// Event type, `kline`.
    #[serde(rename = "e")]
    pub event: String,
    #[serde(rename = "s")]
    pub symbol: String,
    #[serde(rename = "k")]
    pub kline: Kline,
}

/// One kline as streamed.
#[derive(Debug, Deserialize)]
pub struct Kline {
    /// Open time, ms.
    #[serde(rename = "t")]
    pub open_time: i64,
    /// Interval, e.g. `1m`.
    #[serde(rename = "i")]
    pub interval: String,
    #[serde(rename = "o")]
    pub open: String,
    #[serde(rename = "h")]
    pub high: String,
    #[serde(rename = "l")]
    pub low: String,
    #[serde(rename = "c")]
    pub close: String,
    /// Base asset volume.
    #[serde(rename = "v")]
    pub volume: String,
    /// Quote asset volume.
    #[serde(rename = "q")]
    pub quote_volume: String,
    /// Number of trades.
    #[serde(rename = "n")]
    pub trades: u64,
    /// Whether the kline is closed (final).
    #[serde(rename = "x")]
    pub closed: bool,
}
