//! `canary derivatives`: every shared derivatives file imported in one command, and the report
//! as of the crash morning (issue 21's first "done when").

mod common;

use common::{canary, ok, shared};

const FILES: [&str; 7] = [
    "data/btcusdt_perp_funding_8h_binance_2019-09_2026-04.csv",
    "data/btc_open_interest_daily_coinglass_all_exchanges_2020-02_2025-11.csv",
    "data/btc_open_interest_4h_coinglass_2024-11_2025-11.csv",
    "data/btc_open_interest_by_exchange_4h_coinglass_2025-05_2025-11.csv",
    "data/binance_btcusdt_open_interest_snippets_2025-11_2026-03.csv",
    "data/btc_liquidations_daily_coinglass_binance_okx_bybit_2020-12_2025-09.csv",
    "data/btc_liquidations_daily_coinglass_binance_2020-12_2025-11.csv",
];

fn import_all(db: &std::path::Path) -> String {
    let paths: Vec<String> = FILES
        .iter()
        .map(|f| shared(f).to_str().unwrap().to_string())
        .collect();
    let mut args = vec!["derivatives", "import"];
    args.extend(paths.iter().map(String::as_str));
    ok(&canary(db, &args))
}

#[test]
fn the_crash_morning_has_funding_to_midnight_and_stale_open_interest_and_liquidations() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let out = import_all(&db);
    assert_eq!(out.matches("imported ").count(), 7, "{out}");
    assert!(
        out.contains("funding_rate:BTCUSDT:binance:8h: 7238 values"),
        "{out}"
    );
    // Again: everything already present.
    let again = import_all(&db);
    assert!(!again.contains("imported 1"), "{again}");
    ok(&canary(
        &db,
        &[
            "import",
            shared("data/btcusdt_binance_1d.csv").to_str().unwrap(),
            "--symbol",
            "BTCUSDT",
        ],
    ));

    let out = ok(&canary(
        &db,
        &[
            "derivatives",
            "--asof",
            "2026-02-06T05:00:00Z",
            "--format",
            "json",
        ],
    ));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let body = &doc;
    let funding = body["funding"].as_array().unwrap();
    assert_eq!(funding.len(), 1);
    assert_eq!(funding[0]["settled_at"], "2026-02-06T00:00:00Z");
    assert_eq!(funding[0]["rate"]["value"], -1.597e-05);
    assert_eq!(funding[0]["stale"], false);
    // Computed apart (Python, statistics.stdev over the 270 settlements of the 90 days
    // before): z = -1.7155534627, annualised = rate × 1095.
    let z = funding[0]["zscore_90d"]["value"].as_f64().unwrap();
    assert!((z + 1.715_553_462_721_12).abs() < 1e-9, "{z}");
    assert_eq!(funding[0]["annualised"]["value"], -0.017_487_15);
    let oi = body["open_interest"].as_array().unwrap();
    assert!(oi.len() > 20, "one row per series and venue");
    assert!(oi.iter().all(|o| o["stale"] == true), "{oi:?}");
    let liq = body["liquidations"].as_array().unwrap();
    assert_eq!(
        liq.len(),
        2,
        "Binance alone, and Binance + OKX + Bybit, apart"
    );
    assert!(liq.iter().all(|l| l["stale"] == true));
    let stale: Vec<&str> = doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["kind"] == "stale")
        .map(|w| w["series"].as_str().unwrap())
        .collect();
    assert!(stale.contains(&"oi_usd:BTC:all:1d"), "{stale:?}");
    assert!(stale.contains(&"long_liquidations_usd:BTC:binance:1d"));
    assert!(!stale.iter().any(|s| s.starts_with("funding_rate")));
    let ids: Vec<&str> = funding
        .iter()
        .flat_map(|f| [&f["rate"]["claim"], &f["annualised"]["claim"]])
        .map(|c| c.as_str().unwrap())
        .collect();
    common::assert_claims_resolve(&doc, &ids);

    // The table says the same for people.
    let table = ok(&canary(
        &db,
        &["derivatives", "--asof", "2026-02-06T05:00:00Z"],
    ));
    assert!(table.contains("2026-02-06T00:00:00Z"), "{table}");
    assert!(table.contains("oi_usd:BTC:all:1d (stale)"), "{table}");
}

#[test]
fn a_bad_file_among_several_stores_none_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let bad = dir.path().join("btc_liquidations_binance.csv");
    std::fs::write(
        &bad,
        "date_utc,long_liquidations_usd,short_liquidations_usd\n2025-01-01,1,2\n2025-01-02,x,2\n",
    )
    .unwrap();
    let good = shared(FILES[0]);
    ok(&canary(
        &db,
        &[
            "import",
            shared("data/btcusdt_binance_1d.csv").to_str().unwrap(),
            "--symbol",
            "BTCUSDT",
        ],
    ));
    let out = canary(
        &db,
        &[
            "derivatives",
            "import",
            good.to_str().unwrap(),
            bad.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "btc_liquidations_binance.csv:3: long_liquidations_usd: \"x\" is not a number"
        ),
        "{err}"
    );
    let report = ok(&canary(&db, &["derivatives", "--format", "json"]));
    let doc: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert!(
        doc["funding"].as_array().unwrap().is_empty(),
        "nothing stored"
    );
    assert!(
        doc["missing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m.as_str().unwrap().starts_with("funding rates: none known")),
        "{doc}"
    );
    // A wrong flag names what it accepts.
    let out = canary(
        &db,
        &["derivatives", "import", "--venues", "all+okx", "x.csv"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("`all` cannot be joined"));
}
