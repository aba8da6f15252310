//! `canary flows` end to end against a loopback Esplora server.

mod common;

use common::*;
use std::path::PathBuf;

/// Serve `body` for every request on 127.0.0.1 (a free port) for the test's life.
fn serve_static(body: String) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 8192];
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(body.as_bytes());
        }
    });
    format!("http://{addr}/api")
}

#[test]
fn flows_fetch_classifies_and_reports_outflows() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../canary-ingest/tests/data/esplora_address_txs.json");
    let url = serve_static(std::fs::read_to_string(fixture).unwrap());
    let labels = dir.path().join("labels.toml");
    std::fs::write(
        &labels,
        "[MINER]\nkind = \"miner\"\nsource = \"test\"\naddresses = [\"bc1qminer000000000000000000000000000000001\"]\n\
         [EXCH]\nkind = \"exchange\"\nsource = \"test\"\naddresses = [\"bc1qexchange0000000000000000000000000000001\"]\n\
         [DESK]\nkind = \"otc\"\nsource = \"test\"\naddresses = [\"bc1qotcdesk00000000000000000000000000000001\"]\n",
    )
    .unwrap();
    let out = ok(&canary(
        &db,
        &[
            "flows",
            "fetch",
            "--labels",
            labels.to_str().unwrap(),
            "--url",
            &url,
            "--pages",
            "1",
        ],
    ));
    assert!(
        out.contains("MINER: 2 transactions seen, 2 outflows (2 new"),
        "{out}"
    );
    let again = ok(&canary(
        &db,
        &[
            "flows",
            "fetch",
            "--labels",
            labels.to_str().unwrap(),
            "--url",
            &url,
            "--pages",
            "1",
        ],
    ));
    assert!(again.contains("(0 new, 2 already stored)"), "{again}");
    let doc: serde_json::Value =
        serde_json::from_str(&ok(&canary(&db, &["flows", "--format", "json"]))).unwrap();
    let m = &doc["entities"][0];
    assert_eq!(m["entity"], "MINER");
    assert_eq!(m["outflow_btc"], 1450.0);
    assert_eq!(m["to_exchanges_and_otc_btc"], 1450.0);
    assert!(
        m["zscore_90d"].is_null(),
        "one day of history is not enough"
    );
    assert_claims_resolve(&doc, &[m["outflow_claim"].as_str().unwrap()]);
    // Before the transaction's block time nothing is known.
    let early: serde_json::Value = serde_json::from_str(&ok(&canary(
        &db,
        &[
            "flows",
            "--asof",
            "2026-02-05T13:00:00Z",
            "--format",
            "json",
        ],
    )))
    .unwrap();
    assert!(early["entities"][0]["outflow_btc"].is_null());
    assert_eq!(early["as_of"], "2026-02-05T13:00:00Z");
    assert!(early["warnings"].as_array().unwrap().is_empty());
    assert_eq!(early["simulated"], false);
    assert_report(&doc, doc["as_of"].as_str().unwrap());
}

/// An alert rule on outflows: the BTC an entity sent to exchanges over a trailing day, known
/// from the transaction's block time (2026-02-05 14:00), fires at the first 4h close after it.
#[test]
fn shared_data_an_outflow_rule_fires_at_the_first_close_after_the_block() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("o.db");
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../canary-ingest/tests/data/esplora_address_txs.json");
    let url = serve_static(std::fs::read_to_string(fixture).unwrap());
    let labels = dir.path().join("labels.toml");
    std::fs::write(
        &labels,
        "[MINER]\nkind = \"miner\"\nsource = \"test\"\naddresses = [\"bc1qminer000000000000000000000000000000001\"]\n\
         [EXCH]\nkind = \"exchange\"\nsource = \"test\"\naddresses = [\"bc1qexchange0000000000000000000000000000001\"]\n",
    )
    .unwrap();
    ok(&canary(
        &db,
        &[
            "flows",
            "fetch",
            "--labels",
            labels.to_str().unwrap(),
            "--url",
            &url,
            "--pages",
            "1",
        ],
    ));
    import_4h(&db);
    let backtest = |rule: &str| -> Vec<(String, String, f64)> {
        let doc: serde_json::Value = serde_json::from_str(&ok(&canary(
            &db,
            &[
                "alerts",
                "backtest",
                rule,
                "--tf",
                "4h",
                "--notify-resolved",
                "--from",
                "2026-02-05T00:00:00Z",
                "--to",
                "2026-02-08T00:00:00Z",
                "--format",
                "json",
            ],
        )))
        .unwrap();
        doc["firings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["notice"]["kind"].as_str().unwrap().to_string(),
                    f["notice"]["at"].as_str().unwrap().to_string(),
                    f["values"]
                        .as_object()
                        .unwrap()
                        .values()
                        .next()
                        .unwrap()
                        .as_f64()
                        .unwrap(),
                )
            })
            .collect()
    };
    let n = backtest("outflow(MINER, exchange, 24h) > 500");
    assert_eq!(
        n,
        [
            (
                "fired".to_string(),
                "2026-02-05T16:00:00Z".to_string(),
                1000.0
            ),
            (
                "resolved".to_string(),
                "2026-02-06T16:00:00Z".to_string(),
                0.0
            )
        ]
    );
    // To any destination: the 450 BTC to the unlabelled desk counts too.
    assert_eq!(backtest("outflow(MINER, any, 24h) > 1200")[0].2, 1450.0);
}
