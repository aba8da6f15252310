//! The Binance kline stream against loopback servers speaking its protocol, with frames
//! written from the public API documentation: closed klines become bars; an open kline, an
//! acknowledgement and a malformed frame are not; a connection dropped mid-candle is
//! reconnected, the bars missed meanwhile come by REST (after a 429 waited out), and the bars
//! taken have no hole and no duplicate.

use canary_ingest::bus::Subscribe;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use canary_ingest::binance::BinanceStream;
use canary_model::event::Event;
use canary_model::{Symbol, Timeframe};
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;

const MIN: i64 = 60_000;

mod common;

use common::wall;

/// The bar of every minute, the same for the stream and REST.
fn bar(open: i64) -> (f64, f64, f64, f64) {
    let o = 60_000.0 + (open / MIN % 97) as f64;
    (o, o + 5.0, o - 5.0, o + 1.0)
}

fn kline_frame(open: i64, closed: bool) -> String {
    let (o, h, l, c) = bar(open);
    format!(
        r#"{{"stream":"btcusdt@kline_1m","data":{{"e":"kline","E":{},"s":"BTCUSDT","k":{{"t":{open},"T":{},"s":"BTCUSDT","i":"1m","f":100,"L":200,"o":"{o}","c":"{c}","h":"{h}","l":"{l}","v":"2.5","n":101,"x":{closed},"q":"150000.0","V":"1.0","Q":"60000.0","B":"0"}}}}}}"#,
        open + MIN,
        open + MIN - 1
    )
}

/// A REST server for `/api/v3/klines`: the first request gets 429 with `Retry-After: 1`.
fn rest_server(requests: Arc<Mutex<Vec<String>>>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let line = req.lines().next().unwrap_or("").to_string();
            let first = {
                let mut r = requests.lock().unwrap();
                r.push(line.clone());
                r.len() == 1
            };
            if first {
                let _ = s.write_all(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                continue;
            }
            let q = |k: &str| -> i64 {
                line.split(['?', '&', ' '])
                    .find_map(|p| p.strip_prefix(&format!("{k}=")))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            let (start, end) = (q("startTime"), q("endTime"));
            let mut rows = Vec::new();
            let mut t = start.div_euclid(MIN) * MIN;
            while t <= end && rows.len() < 1000 {
                let (o, h, l, c) = bar(t);
                rows.push(format!(
                    r#"[{t},"{o}","{h}","{l}","{c}","2.5",{},"150000.0",101,"1.0","60000.0","0"]"#,
                    t + MIN - 1
                ));
                t += MIN;
            }
            let body = format!("[{}]", rows.join(","));
            let _ = s.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_dropped_stream_reconnects_and_backfills_without_hole_or_duplicate() {
    let now = wall().millis();
    let t = move |k: i64| (now.div_euclid(MIN) - k) * MIN; // open time k minutes back
    // The stream server: the first connection sends closed klines for t-10..t-7, an open one,
    // an acknowledgement and a broken frame, then drops mid-candle; the second sends t-3..t-1
    // (already fetched by REST by then) and then waits.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ws_addr = listener.local_addr().unwrap();
    let paths = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen_paths = paths.clone();
    tokio::spawn(async move {
        let mut n = 0;
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            n += 1;
            let seen = seen_paths.clone();
            // tungstenite's callback type: its error is an HTTP response, large by design.
            #[expect(clippy::result_large_err)]
            let callback =
                move |req: &tokio_tungstenite::tungstenite::handshake::server::Request, resp| {
                    seen.lock().unwrap().push(req.uri().to_string());
                    Ok(resp)
                };
            let mut ws = tokio_tungstenite::accept_hdr_async(tcp, callback)
                .await
                .unwrap();
            if n == 1 {
                for k in (7..=10).rev() {
                    ws.send(Message::text(kline_frame(t(k), true)))
                        .await
                        .unwrap();
                }
                ws.send(Message::text(kline_frame(t(6), false)))
                    .await
                    .unwrap();
                ws.send(Message::text(r#"{"result":null,"id":1}"#))
                    .await
                    .unwrap();
                ws.send(Message::text(
                    r#"{"stream":"btcusdt@kline_1m","data":{"e":"kline""#,
                ))
                .await
                .unwrap();
                ws.send(Message::Ping(vec![1, 2].into())).await.unwrap();
                // Dropped without a close frame, mid-candle.
                drop(ws);
            } else {
                for k in (1..=3).rev() {
                    ws.send(Message::text(kline_frame(t(k), true)))
                        .await
                        .unwrap();
                }
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
        }
    });
    let requests = Arc::new(Mutex::new(Vec::new()));
    let rest = rest_server(requests.clone());
    let sym = Symbol::new("BTCUSDT").unwrap();
    let cfg = BinanceStream {
        name: "binance".into(),
        ws_base: format!("ws://{ws_addr}"),
        rest_base: rest,
        symbols: vec![sym.clone()],
        timeframe: Timeframe::from_duration_ms(MIN).unwrap(),
        stale_after: Duration::from_secs(20),
        reconnect_min: Duration::from_millis(50),
        reconnect_max: Duration::from_secs(1),
        timeout: Duration::from_secs(5),
        ca: None,
    };
    let (tx, mut rx) = canary_ingest::bus::in_process(64);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stream =
        tokio::spawn(async move { cfg.run(&tx, Arc::new(wall), BTreeMap::new(), stop_rx).await });
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while let Ok(Some(s)) = tokio::time::timeout_at(deadline, rx.next()).await {
        let done =
            matches!(&s.event, Event::Bar { candle, .. } if candle.open_time.millis() >= t(1));
        events.push(s.event);
        if done {
            break;
        }
    }
    stop_tx.send(true).unwrap();
    stream.await.unwrap();

    let bars: Vec<i64> = events
        .iter()
        .filter_map(|e| match e {
            Event::Bar { candle, .. } => Some(candle.open_time.millis()),
            _ => None,
        })
        .collect();
    let expected: Vec<i64> = (1..=10).rev().map(t).collect();
    assert_eq!(
        bars, expected,
        "no hole, no duplicate, in order: {events:#?}"
    );
    let malformed = events
        .iter()
        .find_map(|e| match e {
            Event::Malformed { payload, error, .. } => Some((payload.clone(), error.clone())),
            _ => None,
        })
        .expect("the broken frame is reported");
    assert!(malformed.0.contains(r#""e":"kline""#) && malformed.1.contains("not JSON"));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Reconnected { .. }))
    );
    let gap = events.iter().find_map(|e| match e {
        Event::Gap { from, .. } => Some(from.millis()),
        _ => None,
    });
    assert_eq!(gap, Some(t(6)), "the gap starts at the first bar not held");
    // Every bar's values come through as streamed or fetched.
    let Event::Bar { candle, .. } = events
        .iter()
        .find(|e| matches!(e, Event::Bar { .. }))
        .unwrap()
    else {
        unreachable!()
    };
    assert_eq!(candle.close, bar(t(10)).3);
    // REST: the 429, then the same request again after its Retry-After.
    let r = requests.lock().unwrap();
    assert!(r.len() >= 2 && r[0] == r[1], "{r:?}");
    assert!(
        r[0].contains("symbol=BTCUSDT&interval=1m&startTime="),
        "{r:?}"
    );
    // Both connections asked for the combined kline stream.
    let p = paths.lock().unwrap();
    assert_eq!(p.len(), 2);
    assert_eq!(p[0], "/stream?streams=btcusdt@kline_1m");
}

#[tokio::test]
async fn a_silent_stream_is_reported_stale_and_replaced() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            // Accept, then say nothing.
            held.push(tokio_tungstenite::accept_async(tcp).await.unwrap());
        }
    });
    let cfg = BinanceStream {
        name: "binance".into(),
        ws_base: format!("ws://{addr}"),
        rest_base: "http://127.0.0.1:9".into(),
        symbols: vec![Symbol::new("BTCUSDT").unwrap()],
        timeframe: Timeframe::from_duration_ms(MIN).unwrap(),
        stale_after: Duration::from_millis(300),
        reconnect_min: Duration::from_millis(50),
        reconnect_max: Duration::from_millis(100),
        timeout: Duration::from_secs(5),
        ca: None,
    };
    let (tx, mut rx) = canary_ingest::bus::in_process(8);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stream =
        tokio::spawn(async move { cfg.run(&tx, Arc::new(wall), BTreeMap::new(), stop_rx).await });
    let first = tokio::time::timeout(Duration::from_secs(5), rx.next())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(first.event, Event::Stale { silent_ms: 300, .. }),
        "{first:?}"
    );
    let second = tokio::time::timeout(Duration::from_secs(5), rx.next())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(second.event, Event::Reconnected { .. }),
        "{second:?}"
    );
    stop_tx.send(true).unwrap();
    assert_eq!(
        stream.await.unwrap(),
        canary_ingest::binance::Ended::Shutdown
    );
}
