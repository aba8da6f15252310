//! Every report of the engine, through the binary, on the real data: each JSON report has
//! `as_of`, `simulated`, `warnings` and `claims` that resolve.

mod common;

use common::*;

const ASOF: &str = "2026-02-06T05:00:00Z";

fn json(db: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.extend(["--asof", ASOF, "--format", "json"]);
    serde_json::from_str(&ok(&canary(db, &all))).unwrap()
}

#[test]
fn shared_data_every_report_has_as_of_claims_warnings_and_simulated() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    import_4h(&db);
    import_network(&db);
    let reports: Vec<(&str, Vec<&str>)> = vec![
        ("stats", vec!["stats", "--symbol", "BTCUSDT"]),
        ("levels", vec!["levels", "--symbol", "BTCUSDT"]),
        (
            "indicators",
            vec![
                "indicators",
                "--symbol",
                "BTCUSDT",
                "--tf",
                "4h",
                "--ind",
                "rsi:14,atr:14",
            ],
        ),
        ("network", vec!["network"]),
        ("hashprice", vec!["hashprice"]),
        ("miners", vec!["miners"]),
        ("treasury", vec!["treasury"]),
    ];
    for (name, args) in reports {
        let doc = json(&db, &args);
        let warnings = assert_report(&doc, ASOF);
        assert_eq!(doc["simulated"], false, "{name}");
        for w in &warnings {
            assert!(
                w["kind"].is_string() && w["series"].is_string() && w["message"].is_string(),
                "{name}: {w}"
            );
        }
    }
    // The backtest's time is --to.
    let out = ok(&canary(
        &db,
        &[
            "backtest", "levels", "--symbol", "BTCUSDT", "--tf", "1d", "--to", ASOF, "--format",
            "json",
        ],
    ));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_report(&doc, ASOF);
}

#[test]
fn simulated_data_is_marked_in_every_report_from_its_source_kind() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    // A simulated source under a name that does not say so: the kind is what counts.
    let csv = dir.path().join("market.csv");
    ok(&canary(
        &db,
        &[
            "simulate",
            "--tf",
            "4h",
            "--bars",
            "1500",
            "--seed",
            "3",
            "--start",
            "2025-08-01T00:00:00Z",
            "-o",
            csv.to_str().unwrap(),
        ],
    ));
    ok(&canary(
        &db,
        &[
            "import",
            csv.to_str().unwrap(),
            "--symbol",
            "BTCUSDT",
            "--source",
            "market-feed",
        ],
    ));
    for args in [
        vec!["stats", "--symbol", "BTCUSDT"],
        vec!["levels", "--symbol", "BTCUSDT"],
        vec!["hashprice", "--hashrate-ehs", "900"],
    ] {
        let doc = json(&db, &args);
        assert_report(&doc, ASOF);
        assert_eq!(doc["simulated"], true, "{args:?}");
    }
}
