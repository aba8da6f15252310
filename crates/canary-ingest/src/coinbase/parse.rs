//! Coinbase Exchange WebSocket feed messages (the public "Exchange WebSocket" documentation:
//! `subscriptions`, `match` and `last_match` of the matches channel, `heartbeat`, `error`).
//! Prices and sizes come as decimal strings, times as RFC 3339 with microseconds.

use canary_model::Timestamp;
use serde::Deserialize;

/// What one message said.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A trade (`match`, or the `last_match` sent after subscribing).
    Trade {
        product: String,
        trade_id: u64,
        time: Timestamp,
        price: f64,
        size: f64,
    },
    /// A heartbeat: the product's latest trade id at that time.
    Heartbeat {
        product: String,
        last_trade_id: u64,
        time: Timestamp,
    },
    /// The subscription was accepted.
    Subscribed,
    /// The feed reported an error.
    Error(String),
}

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "type")]
    kind: String,
    product_id: Option<String>,
    trade_id: Option<u64>,
    last_trade_id: Option<u64>,
    time: Option<String>,
    price: Option<String>,
    size: Option<String>,
    message: Option<String>,
    reason: Option<String>,
}

/// Read one text message.
///
/// # Errors
/// A message that is not JSON, of an unknown type, or missing or garbling a field it needs.
pub fn message(text: &str) -> Result<Message, String> {
    let r: Raw = serde_json::from_str(text).map_err(|e| format!("not a feed message: {e}"))?;
    let need = |v: Option<String>, what: &str| v.ok_or_else(|| format!("{}: no {what}", r.kind));
    let time = |v: Option<String>| -> Result<Timestamp, String> {
        let t = v.ok_or_else(|| format!("{}: no time", r.kind))?;
        Timestamp::parse(&t).map_err(|e| format!("{}: time {t:?}: {e}", r.kind))
    };
    let number = |v: Option<String>, what: &str| -> Result<f64, String> {
        let s = v.ok_or_else(|| format!("{}: no {what}", r.kind))?;
        s.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x > 0.0)
            .ok_or_else(|| format!("{}: {what} {s:?} is not a positive number", r.kind))
    };
    match r.kind.as_str() {
        "match" | "last_match" => Ok(Message::Trade {
            product: need(r.product_id.clone(), "product_id")?,
            trade_id: r
                .trade_id
                .ok_or_else(|| format!("{}: no trade_id", r.kind))?,
            time: time(r.time.clone())?,
            price: number(r.price.clone(), "price")?,
            size: number(r.size.clone(), "size")?,
        }),
        "heartbeat" => Ok(Message::Heartbeat {
            product: need(r.product_id.clone(), "product_id")?,
            last_trade_id: r
                .last_trade_id
                .ok_or_else(|| "heartbeat: no last_trade_id".to_string())?,
            time: time(r.time.clone())?,
        }),
        "subscriptions" => Ok(Message::Subscribed),
        "error" => Ok(Message::Error(format!(
            "{}{}",
            r.message.clone().unwrap_or_default(),
            r.reason
                .as_ref()
                .map_or_else(String::new, |x| format!(" ({x})"))
        ))),
        other => Err(format!("unknown message type {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_heartbeats_and_errors_read() {
        let m = message(r#"{"type":"match","trade_id":10,"sequence":50,"maker_order_id":"ac928c66-ca53-498f-9c13-a110027a60e8","taker_order_id":"132fb6ae-456b-4654-b4e0-d681ac05cea1","time":"2014-11-07T08:19:27.028459Z","product_id":"BTC-USD","size":"5.23512","price":"400.23","side":"sell"}"#).unwrap();
        assert_eq!(
            m,
            Message::Trade {
                product: "BTC-USD".into(),
                trade_id: 10,
                time: Timestamp::parse("2014-11-07T08:19:27.028Z").unwrap(),
                price: 400.23,
                size: 5.23512
            }
        );
        let h = message(r#"{"type":"heartbeat","sequence":90,"last_trade_id":20,"product_id":"BTC-USD","time":"2014-11-07T08:19:28.464459Z"}"#).unwrap();
        assert!(matches!(
            h,
            Message::Heartbeat {
                last_trade_id: 20,
                ..
            }
        ));
        assert_eq!(
            message(r#"{"type":"error","message":"Failed to subscribe","reason":"BTC-XYZ is not a valid product"}"#).unwrap(),
            Message::Error("Failed to subscribe (BTC-XYZ is not a valid product)".into())
        );
        assert!(message(r#"{"type":"match","trade_id":1,"time":"2014-11-07T08:19:27Z","product_id":"BTC-USD","size":"1","price":"-3"}"#)
            .unwrap_err()
            .contains("price"));
        assert!(
            message(r#"{"type":"l2update"}"#)
                .unwrap_err()
                .contains("unknown")
        );
        assert!(message("[").unwrap_err().contains("not a feed message"));
    }
}
