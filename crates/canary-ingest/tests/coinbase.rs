//! The Coinbase Exchange matches channel against a loopback server speaking its protocol, with
//! messages written from the public documentation: the subscription sent once per connection,
//! matches become trades, a jump in trade ids or a heartbeat ahead of the last trade is a gap,
//! an error and a broken message are reported, and after a drop the `last_match` repeated on
//! the new connection is not taken twice.

use canary_ingest::bus::Subscribe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use canary_ingest::coinbase::CoinbaseStream;
use canary_model::Symbol;
use canary_model::event::Event;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

mod common;

use common::wall;

fn trade(kind: &str, id: u64, second: u32, price: &str) -> String {
    format!(
        r#"{{"type":"{kind}","trade_id":{id},"sequence":{},"maker_order_id":"ac928c66-ca53-498f-9c13-a110027a60e8","taker_order_id":"132fb6ae-456b-4654-b4e0-d681ac05cea1","time":"2026-02-05T20:00:{second:02}.028459Z","product_id":"BTC-USD","size":"0.5","price":"{price}","side":"sell"}}"#,
        id * 10
    )
}

#[tokio::test]
async fn trades_gaps_and_a_reconnection_without_repeats() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let subscriptions = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = subscriptions.clone();
    tokio::spawn(async move {
        let mut n = 0;
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            n += 1;
            let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            let Some(Ok(Message::Text(sub))) = ws.next().await else {
                panic!("no subscription");
            };
            seen.lock().unwrap().push(sub.to_string());
            ws.send(Message::text(r#"{"type":"subscriptions","channels":[{"name":"matches","product_ids":["BTC-USD"]},{"name":"heartbeat","product_ids":["BTC-USD"]}]}"#)).await.unwrap();
            if n == 1 {
                for m in [
                    trade("last_match", 100, 0, "62900.00"),
                    trade("match", 101, 1, "62901.50"),
                    trade("match", 102, 2, "62899.00"),
                    // 103 and 104 never come.
                    trade("match", 105, 5, "62895.25"),
                    r#"{"type":"heartbeat","sequence":1090,"last_trade_id":107,"product_id":"BTC-USD","time":"2026-02-05T20:00:07.000000Z"}"#.to_string(),
                    r#"{"type":"match","trade_id":108,"product_id":"BTC-USD","time":"2026-02-05T20:00:08Z","size":"0.5","price":"oops"}"#.to_string(),
                    r#"{"type":"error","message":"Failed to subscribe","reason":"ETH-XYZ is not a valid product"}"#.to_string(),
                ] {
                    ws.send(Message::text(m)).await.unwrap();
                }
                drop(ws); // dropped without a close frame
            } else {
                ws.send(Message::text(trade("last_match", 107, 7, "62890.00")))
                    .await
                    .unwrap();
                ws.send(Message::text(trade("match", 108, 8, "62888.00")))
                    .await
                    .unwrap();
                held.push(ws);
            }
        }
    });
    let cfg = CoinbaseStream {
        name: "coinbase".into(),
        ws: format!("ws://{addr}"),
        products: vec![("BTC-USD".into(), Symbol::new("BTCUSD").unwrap())],
        stale_after: Duration::from_secs(10),
        reconnect_min: Duration::from_millis(50),
        reconnect_max: Duration::from_millis(200),
        timeout: Duration::from_secs(5),
        ca: None,
    };
    let (tx, mut rx) = canary_ingest::bus::in_process(64);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stream = tokio::spawn(async move { cfg.run(&tx, Arc::new(wall), stop_rx).await });
    let mut events = Vec::new();
    while let Ok(Some(s)) = tokio::time::timeout(Duration::from_secs(10), rx.next()).await {
        let done = matches!(&s.event, Event::Trade { price, .. } if *price == 62888.0);
        events.push(s.event);
        if done {
            break;
        }
    }
    stop_tx.send(true).unwrap();
    stream.await.unwrap();

    let trades: Vec<f64> = events
        .iter()
        .filter_map(|e| match e {
            Event::Trade { price, symbol, .. } => {
                assert_eq!(symbol.as_str(), "BTCUSD");
                Some(*price)
            }
            _ => None,
        })
        .collect();
    // 107's last_match after the reconnection was already covered by the heartbeat's gap.
    assert_eq!(
        trades,
        [62900.0, 62901.5, 62899.0, 62895.25, 62888.0],
        "{events:#?}"
    );
    let gaps: Vec<(String, String)> = events
        .iter()
        .filter_map(|e| match e {
            Event::Gap { from, to, .. } => Some((from.to_string(), to.to_string())),
            _ => None,
        })
        .collect();
    assert_eq!(
        gaps,
        [
            (
                "2026-02-05T20:00:02.028Z".to_string(),
                "2026-02-05T20:00:05.028Z".to_string()
            ),
            (
                "2026-02-05T20:00:05.028Z".to_string(),
                "2026-02-05T20:00:07Z".to_string()
            )
        ]
    );
    let malformed: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::Malformed { error, .. } => Some(error.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(malformed.len(), 2, "{malformed:?}");
    assert!(malformed[0].contains("price \"oops\""));
    assert!(malformed[1].contains("ETH-XYZ is not a valid product"));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Reconnected { .. }))
    );
    let subs = subscriptions.lock().unwrap();
    assert_eq!(subs.len(), 2, "one subscription per connection");
    let sub: serde_json::Value = serde_json::from_str(&subs[0]).unwrap();
    assert_eq!(
        sub,
        serde_json::json!({"type": "subscribe", "product_ids": ["BTC-USD"], "channels": ["matches", "heartbeat"]})
    );
}
