//! Connector tests against a loopback HTTP server serving payloads recorded from the public
//! API documentation (`tests/data`): success, HTTP errors, timeouts and malformed bodies.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use canary_ingest::bitcoind::BitcoinRpc;
use canary_ingest::mempool::MempoolClient;
use canary_ingest::source::SourceErrorKind;

/// A response the test server gives for a request whose path (or RPC body) contains `key`.
#[derive(Clone)]
struct Route {
    key: &'static str,
    status: u16,
    body: String,
    delay: Duration,
}

fn route(key: &'static str, status: u16, body: &str) -> Route {
    Route {
        key,
        status,
        body: body.to_string(),
        delay: Duration::ZERO,
    }
}

fn payload(name: &str) -> String {
    std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

/// Serve `routes` on 127.0.0.1 (a free port) for the test's life; returns the base URL.
fn serve(routes: Vec<Route>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let routes = routes.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read the head, then the body by Content-Length.
                loop {
                    let n = s.read(&mut chunk).unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf);
                    if let Some(head_end) = text.find("\r\n\r\n") {
                        let len = text[..head_end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if buf.len() >= head_end + 4 + len {
                            break;
                        }
                    }
                }
                let req = String::from_utf8_lossy(&buf).to_string();
                let r = routes
                    .iter()
                    .find(|r| req.contains(r.key))
                    .cloned()
                    .unwrap_or_else(|| route("", 404, "not found"));
                std::thread::sleep(r.delay);
                let resp = format!(
                    "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                    r.status,
                    r.body.len(),
                    r.body
                );
                let _ = s.write_all(resp.as_bytes());
            });
        }
    });
    format!("http://{addr}")
}

const T: Duration = Duration::from_secs(5);

#[tokio::test]
async fn mempool_success() {
    let base = serve(vec![
        route(
            "/api/v1/difficulty-adjustment",
            200,
            &payload("mempool_difficulty_adjustment.json"),
        ),
        route(
            "/api/v1/mining/hashrate/3d",
            200,
            &payload("mempool_hashrate_3d.json"),
        ),
        route("/api/v1/blocks", 200, &payload("mempool_blocks.json")),
    ]);
    let c = MempoolClient::new(&format!("{base}/api"), T);
    let e = c.difficulty_adjustment().await.unwrap();
    assert_eq!(
        (e.remaining_blocks, e.next_retarget_height),
        (1121, 741_888)
    );
    assert!((e.projected_change_pct - 98.459).abs() < 1e-3);
    assert_eq!(e.estimated_retarget.millis(), 1_627_762_478_000);
    let (h, d) = c.hashrate("3d").await.unwrap();
    assert_eq!(h.len(), 3);
    assert_eq!(h[0].time.to_string(), "2022-05-14T00:00:00Z");
    assert_eq!(d[0].height, 736_249);
    let b = c.blocks(None).await.unwrap();
    assert_eq!(b[0].height, 736_250, "in height order");
    assert!((b[1].fees_btc.unwrap() - 0.113_628_14).abs() < 1e-12);
    assert!((b[1].subsidy_btc.unwrap() - 6.25).abs() < 1e-12);
}

#[tokio::test]
async fn mempool_failures_name_the_address() {
    let mut slow = route("/api/v1/difficulty-adjustment", 200, "{}");
    slow.delay = Duration::from_millis(1500);
    let base = serve(vec![
        slow,
        route("/api/v1/mining/hashrate/1y", 503, "service unavailable"),
        route("/api/v1/blocks", 200, "{\"not\": \"a list\"}"),
    ]);
    let c = MempoolClient::new(&format!("{base}/api"), Duration::from_millis(300));
    let e = c.difficulty_adjustment().await.unwrap_err();
    assert!(matches!(e.kind, SourceErrorKind::Timeout(_)), "{e}");
    assert!(
        e.to_string().contains("/api/v1/difficulty-adjustment")
            && e.to_string().contains("no answer")
    );
    let e = c.hashrate("1y").await.unwrap_err();
    assert!(
        matches!(e.kind, SourceErrorKind::Http { status: 503, .. }),
        "{e}"
    );
    let e = c.blocks(None).await.unwrap_err();
    assert!(matches!(e.kind, SourceErrorKind::Malformed { .. }), "{e}");
    assert!(e.to_string().contains("not a valid block list"), "{e}");
    // Nothing listening: a connection error naming the address.
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = dead.local_addr().unwrap();
    drop(dead);
    let e = MempoolClient::new(&format!("http://{addr}/api"), T)
        .difficulty_adjustment()
        .await
        .unwrap_err();
    assert!(matches!(e.kind, SourceErrorKind::Connect(_)), "{e}");
    assert!(e.to_string().contains(&addr.to_string()));
}

#[tokio::test]
async fn bitcoind_success_and_failures() {
    let base = serve(vec![
        route(
            "getblockchaininfo",
            200,
            &payload("bitcoind_getblockchaininfo.json"),
        ),
        route(
            "getmininginfo",
            200,
            &payload("bitcoind_getmininginfo.json"),
        ),
        route(
            "\"getblockstats\",\"params\":[880000",
            200,
            &payload("bitcoind_getblockstats.json"),
        ),
        route("getblockstats", 500, &payload("bitcoind_error.json")),
        route(
            "getnetworkhashps",
            200,
            "{\"result\": \"fast\", \"error\": null, \"id\": \"canary\"}",
        ),
    ]);
    let rpc = BitcoinRpc::new(&base, "user", "pass", T);
    let tip = rpc.chain_tip().await.unwrap();
    assert_eq!(tip.height, 880_000);
    assert!((tip.hashrate_hs.unwrap() - 7.91e20).abs() < 1e6);
    let s = rpc.block_stats(880_000).await.unwrap();
    assert_eq!(s.subsidy_btc, Some(3.125));
    assert!((s.fees_btc.unwrap() - 0.025_123_45).abs() < 1e-12);
    let e = rpc.block_stats(99_999_999).await.unwrap_err();
    assert!(matches!(e.kind, SourceErrorKind::Remote(_)), "{e}");
    assert!(
        e.to_string().contains("getblockstats") && e.to_string().contains("after current tip"),
        "{e}"
    );
    let e = rpc.network_hashps(120).await.unwrap_err();
    assert!(matches!(e.kind, SourceErrorKind::Malformed { .. }), "{e}");
    let unauthorised = serve(vec![route("getblockchaininfo", 401, "")]);
    let e = BitcoinRpc::new(&unauthorised, "u", "wrong", T)
        .chain_tip()
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("HTTP 401") && e.to_string().contains("RPC user and password"),
        "{e}"
    );
}

#[tokio::test]
async fn esplora_address_transactions() {
    use canary_ingest::esplora::EsploraClient;
    let addr = "bc1qminer000000000000000000000000000000001";
    let base = serve(vec![
        route(
            "/api/address/bc1qminer000000000000000000000000000000001/txs",
            200,
            &payload("esplora_address_txs.json"),
        ),
        route("/api/address/bc1qbroken/txs", 200, "[{\"txid\": 5}]"),
        route(
            "/api/address/bc1qmissing/txs",
            400,
            "Invalid Bitcoin address",
        ),
    ]);
    let c = EsploraClient::new(&format!("{base}/api"), T);
    let txs = c.address_txs(addr, 3).await.unwrap();
    assert_eq!(txs.len(), 2, "a short first page ends the walk");
    assert_eq!(txs[0].inputs[0].address.as_deref(), Some(addr));
    assert_eq!(txs[0].outputs.len(), 3);
    assert_eq!(txs[0].time.unwrap().to_string(), "2026-02-05T14:00:00Z");
    assert!(
        txs[1].inputs.is_empty(),
        "a coinbase input has no previous output"
    );
    let e = c.address_txs("bc1qbroken", 1).await.unwrap_err();
    assert!(
        e.to_string().contains("not a valid transaction list"),
        "{e}"
    );
    let e = c.address_txs("bc1qmissing", 1).await.unwrap_err();
    assert!(
        e.to_string().contains("HTTP 400") && e.to_string().contains("Invalid Bitcoin address"),
        "{e}"
    );
}
