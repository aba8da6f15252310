//! Binance USDⓈ-M futures payloads as the public documentation describes them ("Websocket
//! Market Streams": Mark Price Stream, Liquidation Order Streams; "Market Data": Open Interest,
//! Open Interest Statistics, Get Funding Rate History). Prices, quantities and rates come as
//! decimal strings, times as integer milliseconds. Fields not named here are ignored (live
//! frames carry undocumented ones, such as `ap` and `st` in the mark price update).
//!
//! A combined-stream frame wraps each event:
//!
//! ```json
//! {"stream":"btcusdt@markPrice@1s","data":{"e":"markPriceUpdate","E":1788936948001,"s":"BTCUSDT","p":"79107.36658171","ap":"79107.36658171","P":"79176.63756423","i":"79139.09565217","r":"0.00008359","T":1788940800000,"st":1}}
//! ```
//!
//! (the `data` is a frame captured live in 2026, as quoted by a third party's notes; the
//! liquidation below is a real frame of 2023-09-26 quoted in a public issue thread):
//!
//! ```json
//! {"e":"forceOrder","E":1695714031883,"o":{"s":"BTCUSDT","S":"SELL","o":"LIMIT","f":"IOC","q":"0.115","p":"26142.12","ap":"26245.10","X":"FILLED","l":"0.115","z":"0.115","T":1695714031881}}
//! ```

use serde::Deserialize;

/// A combined-stream frame: `{"stream": "btcusdt@forceOrder", "data": {...}}`.
#[derive(Debug, Deserialize)]
pub struct Combined {
    pub stream: String,
    pub data: serde_json::Value,
}

/// The event type of a stream payload, read first to pick its shape.
#[derive(Debug, Deserialize)]
pub struct Typed {
    #[serde(rename = "e")]
    pub event: String,
}

/// `<symbol>@markPrice@1s`: the mark price, the index price and the funding rate of the
/// interval ending at `T`, pushed every second.
#[derive(Debug, Deserialize)]
pub struct MarkPriceUpdate {
    /// Event time, ms.
    #[serde(rename = "E")]
    pub event_time: i64,
    #[serde(rename = "s")]
    pub symbol: String,
    #[serde(rename = "p")]
    pub mark_price: String,
    #[serde(rename = "i")]
    pub index_price: String,
    /// The funding rate of the interval ending at `next_funding_time` as it stands now.
    #[serde(rename = "r")]
    pub funding_rate: String,
    /// Next funding time, ms.
    #[serde(rename = "T")]
    pub next_funding_time: i64,
}

/// `<symbol>@forceOrder`: the latest liquidation order of the symbol in each 1000 ms window
/// (at most one a second per symbol; nothing when there is none).
#[derive(Debug, Deserialize)]
pub struct ForceOrderEvent {
    #[serde(rename = "o")]
    pub order: ForceOrder,
}

/// The liquidation order of a `forceOrder` event.
#[derive(Debug, Deserialize)]
pub struct ForceOrder {
    #[serde(rename = "s")]
    pub symbol: String,
    /// The forced order's side: `SELL` closes (liquidates) a long, `BUY` a short.
    #[serde(rename = "S")]
    pub side: String,
    /// Original quantity, base units.
    #[serde(rename = "q")]
    pub quantity: String,
    /// The order's limit price (the bankruptcy price).
    #[serde(rename = "p")]
    pub price: String,
    /// Average fill price.
    #[serde(rename = "ap")]
    pub average_price: String,
    /// Accumulated filled quantity, base units.
    #[serde(rename = "z")]
    pub filled: String,
    /// Order trade time, ms.
    #[serde(rename = "T")]
    pub trade_time: i64,
}

/// `GET /fapi/v1/openInterest?symbol=`: `{"symbol":"BTCUSDT","openInterest":"109049.480","time":1789913109480}`
/// (a real answer of 2026, as quoted by a third party).
#[derive(Debug, Deserialize)]
pub struct OpenInterest {
    pub symbol: String,
    /// Base units.
    #[serde(rename = "openInterest")]
    pub value: String,
    /// Transaction time, ms.
    pub time: i64,
}

/// One row of `GET /futures/data/openInterestHist?symbol=&period=5m` (a real answer of 2026,
/// as quoted by a third party):
/// `{"symbol":"BTCUSDT","sumOpenInterest":"109115.83500000","sumOpenInterestValue":"8785524572.89207600","CMCCirculatingSupply":"20086328.00000000","timestamp":1789912200000}`.
/// The documentation's example writes `timestamp` as a string; both are read.
#[derive(Debug, Deserialize)]
pub struct OpenInterestHist {
    pub symbol: String,
    /// Base units.
    #[serde(rename = "sumOpenInterest")]
    pub sum_open_interest: String,
    /// USDT.
    #[serde(rename = "sumOpenInterestValue")]
    pub sum_open_interest_value: String,
    pub timestamp: Millis,
}

/// One row of `GET /fapi/v1/fundingRate?symbol=` (the documentation's example):
/// `{"symbol":"BTCUSDT","fundingRate":"-0.03750000","fundingTime":1570608000000,"markPrice":"34287.54619963"}`.
#[derive(Debug, Deserialize)]
pub struct FundingRate {
    pub symbol: String,
    #[serde(rename = "fundingRate")]
    pub rate: String,
    /// Settlement time, ms (a few ms after the scheduled time).
    #[serde(rename = "fundingTime")]
    pub funding_time: i64,
}

/// A time in milliseconds written as a number or as a string of digits.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Millis {
    Number(i64),
    Text(String),
}

impl Millis {
    /// The milliseconds, if a string holds an integer.
    #[must_use]
    pub fn get(&self) -> Option<i64> {
        match self {
            Millis::Number(n) => Some(*n),
            Millis::Text(s) => s.trim().parse().ok(),
        }
    }
}
