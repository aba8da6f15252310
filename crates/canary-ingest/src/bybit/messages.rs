//! Bybit v5 payloads as the public documentation describes them (WebSocket public topics
//! `tickers.{symbol}` and `allLiquidation.{symbol}` of the linear category, the connection's
//! `subscribe` and `ping` operations; REST `GET /v5/market/open-interest` and
//! `GET /v5/market/funding/history`). Numbers come as decimal strings, times as integer
//! milliseconds (as strings inside the ticker). Fields not named here are ignored.
//!
//! A ticker topic sends a snapshot, then deltas carrying only what changed ("if a response
//! param is not found in the message, then its value has not changed"). A delta captured live
//! in 2026, as quoted by a third party's notes:
//!
//! ```json
//! {"topic":"tickers.BTCUSDT","type":"delta","data":{"symbol":"BTCUSDT","bid1Price":"79114.50","bid1Size":"1.496"},"cs":793092205004,"ts":1787590405983}
//! ```
//!
//! and the documentation's liquidation example (`S`: the side of the position liquidated,
//! `Buy` a long):
//!
//! ```json
//! {"topic":"allLiquidation.ROSEUSDT","type":"snapshot","ts":1739502303204,"data":[{"T":1739502302929,"s":"ROSEUSDT","S":"Sell","v":"20000","p":"0.04499"}]}
//! ```

use serde::Deserialize;

/// A frame of a public topic.
#[derive(Debug, Deserialize)]
pub struct Topic {
    #[serde(rename = "topic")]
    pub name: String,
    /// `snapshot` or `delta`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// When the system generated the data, ms.
    pub ts: i64,
    pub data: serde_json::Value,
}

/// The reply to an operation (`subscribe`, `ping`):
/// `{"success":true,"ret_msg":"pong","conn_id":"465772b1-…","req_id":"","op":"ping"}`.
#[derive(Debug, Deserialize)]
pub struct OpReply {
    pub op: String,
    pub success: Option<bool>,
    pub ret_msg: Option<String>,
}

/// A ticker's `data`: every field optional (a delta holds only what changed; `null` or an
/// empty string is taken as unchanged too).
#[derive(Debug, Deserialize)]
pub struct Ticker {
    pub symbol: Option<String>,
    #[serde(rename = "markPrice")]
    pub mark_price: Option<String>,
    #[serde(rename = "indexPrice")]
    pub index_price: Option<String>,
    /// Base coin, for linear contracts.
    #[serde(rename = "openInterest")]
    pub open_interest: Option<String>,
    /// Quote (USDT, USDC).
    #[serde(rename = "openInterestValue")]
    pub open_interest_value: Option<String>,
    /// The rate of the interval ending at `next_funding_time`, as it stands.
    #[serde(rename = "fundingRate")]
    pub funding_rate: Option<String>,
    /// ms, as a string.
    #[serde(rename = "nextFundingTime")]
    pub next_funding_time: Option<String>,
}

/// One item of an `allLiquidation` frame's `data` array
/// (`{"T":1785937194086,"s":"BTCUSDT","S":"Sell","v":"0.003","p":"64502.20"}`, captured live in
/// 2026 as quoted by a third party).
#[derive(Debug, Deserialize)]
pub struct Liquidation {
    /// Updated time, ms.
    #[serde(rename = "T")]
    pub time: i64,
    #[serde(rename = "s")]
    pub symbol: String,
    /// The position's side: `Buy` means a long position was liquidated.
    #[serde(rename = "S")]
    pub side: String,
    /// Executed size, base units.
    #[serde(rename = "v")]
    pub size: String,
    /// Bankruptcy price.
    #[serde(rename = "p")]
    pub price: String,
}

/// The REST envelope: errors come with HTTP 200 and a non-zero `retCode`.
#[derive(Debug, Deserialize)]
pub struct Envelope<T> {
    #[serde(rename = "retCode")]
    pub ret_code: i64,
    #[serde(rename = "retMsg")]
    pub ret_msg: String,
    pub result: Option<T>,
}

/// `GET /v5/market/open-interest`'s result (newest first in the documentation's example).
#[derive(Debug, Deserialize)]
pub struct OpenInterestResult {
    pub list: Vec<OpenInterestRow>,
}

/// `{"openInterest":"58944.79900000","timestamp":"1785936900000"}` (a real linear row of 2026,
/// as quoted by a third party): base coin for linear contracts; no USD value.
#[derive(Debug, Deserialize)]
pub struct OpenInterestRow {
    #[serde(rename = "openInterest")]
    pub open_interest: String,
    pub timestamp: String,
}

/// `GET /v5/market/funding/history`'s result.
#[derive(Debug, Deserialize)]
pub struct FundingResult {
    pub list: Vec<FundingRow>,
}

/// `{"symbol":"BTCUSDT","fundingRate":"0.00005918","fundingRateTimestamp":"1785916800000"}` (a
/// real row of 2026, as quoted by a third party).
#[derive(Debug, Deserialize)]
pub struct FundingRow {
    pub symbol: String,
    #[serde(rename = "fundingRate")]
    pub rate: String,
    #[serde(rename = "fundingRateTimestamp")]
    pub timestamp: String,
}
