//! `canary hashprice`, `network`, `miners` and `treasury` end to end.

mod common;

use common::*;
use std::path::PathBuf;

#[test]
fn hashprice_worked_example_with_claims() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let out = ok(&canary(
        &db,
        &[
            "hashprice",
            "--price",
            "60000",
            "--hashrate-ehs",
            "1000",
            "--fees-btc",
            "0.03",
            "--asof",
            "2026-02-06T05:00:00Z",
            "--format",
            "json",
        ],
    ));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!((doc["hashprice_usd_per_th_day"].as_f64().unwrap() - 0.02726).abs() < 5e-6);
    assert!((doc["network_btc_per_day"].as_f64().unwrap() - 454.32).abs() < 1e-9);
    let s21 = doc["machines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["machine"] == "S21")
        .unwrap();
    assert!((s21["shutdown_price_usd"].as_f64().unwrap() - 46_223.0).abs() < 1.0);
    let ids = [
        doc["hashprice_claim"].as_str().unwrap(),
        doc["hashvalue_claim"].as_str().unwrap(),
    ];
    assert_claims_resolve(&doc, &ids);
    let bad = canary(&db, &["hashprice", "--price", "60000"]);
    assert!(
        !bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("--hashrate-ehs")
    );
}

#[test]
fn shared_data_network_import_and_report_as_of_a_date() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    for (file, series) in [
        ("data/network_hashrate_daily.csv", "hashrate"),
        ("data/network_difficulty_daily_2020-2025.csv", "difficulty"),
        ("data/network_blockreward_daily.csv", "subsidy"),
        (
            "data/network_fleet_efficiency_cbeci_daily.csv",
            "fleet-efficiency",
        ),
    ] {
        let f = shared(file);
        let out = ok(&canary(
            &db,
            &["network", "import", f.to_str().unwrap(), "--series", series],
        ));
        assert!(
            out.starts_with("imported ") && out.contains(", 0 already present"),
            "{out}"
        );
        let again = ok(&canary(
            &db,
            &["network", "import", f.to_str().unwrap(), "--series", series],
        ));
        assert!(again.starts_with("imported 0 values"), "{again}");
    }
    let out = ok(&canary(
        &db,
        &[
            "network",
            "--asof",
            "2025-03-01",
            "--price",
            "85000",
            "--format",
            "json",
        ],
    ));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    // Current data as of then: no stale warning (a year later there are: see below).
    assert!(
        !assert_report(&doc, "2025-03-01T00:00:00Z")
            .iter()
            .any(|w| w["kind"] == "stale"),
        "{}",
        doc["warnings"]
    );
    let labels: Vec<&str> = doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["label"].as_str().unwrap())
        .collect();
    for want in [
        "Hash Ribbons",
        "Puell Multiple (issuance",
        "Puell Multiple, halving-adjusted",
        "projected next difficulty",
        "share of the network fleet under water",
    ] {
        assert!(
            labels.iter().any(|l| l.starts_with(want)),
            "{want} missing from {labels:?}"
        );
    }
    assert_claims_resolve(&doc, &claims_of(&doc, "rows"));
    // Only days that had ended by 2025-03-01 00:00.
    assert_data_no_later_than(&doc, "2025-02-28T00:00:00Z");
    // hashprice takes the stored difficulty when no network flag is given.
    let hp = ok(&canary(
        &db,
        &[
            "hashprice",
            "--asof",
            "2025-03-01",
            "--price",
            "85000",
            "--format",
            "json",
        ],
    ));
    let hp: serde_json::Value = serde_json::from_str(&hp).unwrap();
    assert!(
        (hp["network_hashrate_ehs"].as_f64().unwrap() - 791.48).abs() < 0.01,
        "{}",
        hp["network_hashrate_ehs"]
    );
    // A bad row is refused with its line, and nothing of that file is stored.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "Date,fees\n2025-01-01,0.02\n2025-01-02,abc\n").unwrap();
    let out = canary(
        &db,
        &[
            "network",
            "import",
            bad.to_str().unwrap(),
            "--series",
            "fees",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("bad.csv:3: fees: \"abc\" is not a number"),
        "{err}"
    );
}

#[test]
fn miners_lists_every_profile_with_break_evens_coverage_and_missing_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let profiles = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../miners.toml");
    let out = ok(&canary(
        &db,
        &[
            "miners",
            "--price",
            "60000",
            "--format",
            "json",
            "--profiles",
            profiles.to_str().unwrap(),
        ],
    ));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let companies = doc["companies"].as_array().unwrap();
    let tickers: Vec<&str> = companies
        .iter()
        .map(|c| c["ticker"].as_str().unwrap())
        .collect();
    for t in [
        "MARA", "RIOT", "CLSK", "IREN", "CORZ", "CIFR", "HUT", "BITF", "WULF", "MSTR",
    ] {
        assert!(tickers.contains(&t), "{t} missing");
    }
    let get = |t: &str| companies.iter().find(|c| c["ticker"] == t).unwrap();
    // RIOT: reported cash cost 46,324 → +22.8 % at 60k; coverage from its converts and facility.
    assert_eq!(get("RIOT")["cash_break_even"]["value"], 46324.0);
    assert!((get("RIOT")["margin"]["value"].as_f64().unwrap() - 22.79).abs() < 0.01);
    assert!(get("RIOT")["coverage_price_net"]["value"].is_number());
    // MSTR: coverage net of the USD reserve; production figures do not apply.
    let mstr = get("MSTR")["coverage_price_net"]["value"].as_f64().unwrap();
    assert!((mstr - (8_213_750_000.0 - 2_250_000_000.0) / 714_644.0).abs() < 0.01);
    assert!(get("MSTR").get("cash_break_even").is_none());
    // CORZ reports no BTC held: the coverage price is absent and says why.
    let m = &get("CORZ")["coverage_price_net"];
    assert!(
        m["value"].is_null()
            && m["missing"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x == "btc_held"),
        "{m}"
    );
    // CLSK: reported cash cost × the fiscal year's production / 12 (10-K of 2025-11-25).
    let sell = get("CLSK")["forced_selling_btc_per_month"]["value"]
        .as_f64()
        .unwrap();
    assert!((sell - 67_743.0 * 656.08 / 60_000.0).abs() < 1e-6, "{sell}");
    let ids: Vec<&str> = vec![get("RIOT")["margin"]["claim"].as_str().unwrap()];
    assert_claims_resolve(&doc, &ids);
    // A bad profile file is an error naming the key.
    let bad = dir.path().join("m.toml");
    std::fs::write(&bad, "[X]\nname = \"x\"\nkind = \"miner\"\n[X.facts.uptime]\nvalue = 2\nperiod_end = \"2025-01-01\"\nsource = \"s\"\n").unwrap();
    let out = canary(
        &db,
        &[
            "miners",
            "--price",
            "60000",
            "--profiles",
            bad.to_str().unwrap(),
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("X.facts.uptime[0].value = 2 is impossible")
    );
    let t = ok(&canary(
        &db,
        &[
            "treasury",
            "--company",
            "MSTR",
            "--price",
            "60000",
            "--profiles",
            profiles.to_str().unwrap(),
        ],
    ));
    assert!(
        t.contains("debt-coverage price") && t.contains("2029 Convertible Notes"),
        "{t}"
    );
}

fn btc_held(db: &std::path::Path, asof: &str) -> (serde_json::Value, serde_json::Value) {
    let out = ok(&canary(
        db,
        &[
            "treasury",
            "--company",
            "MSTR",
            "--asof",
            asof,
            "--price",
            "60000",
            "--format",
            "json",
        ],
    ));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let fact = doc["companies"][0]["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "btc_held")
        .cloned()
        .expect("MSTR reports btc_held");
    (doc, fact)
}

#[test]
fn treasury_cites_the_holdings_published_by_the_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    // 6 Feb: the 8-K of 2 Feb (713,502 BTC) is the latest; the one of 9 Feb is not yet filed.
    let (doc, fact) = btc_held(&db, "2026-02-06T05:00:00Z");
    assert_eq!(fact["value"], 713_502.0);
    assert_eq!(fact["published_at"], "2026-02-02T00:00:00Z");
    assert!(
        fact["source"]
            .as_str()
            .unwrap()
            .contains("8-K filed 2026-02-02"),
        "{fact}"
    );
    let claim = &doc["claims"][fact["claim"].as_str().unwrap()];
    assert_eq!(claim["value"], 713_502.0);
    assert!(
        claim["provenance"]["source"]
            .as_str()
            .unwrap()
            .ends_with("published 2026-02-02"),
        "{claim}"
    );
    // The coverage price divides by the holdings known then.
    let cov = doc["companies"][0]["coverage_price_gross"]["value"]
        .as_f64()
        .unwrap();
    assert!((cov - 8_213.75 / 713_502.0 * 1e6).abs() < 0.01, "{cov}");
    // 10 Feb: the 8-K of 9 Feb (714,644 BTC).
    let (_, fact) = btc_held(&db, "2026-02-10T00:00:00Z");
    assert_eq!(fact["value"], 714_644.0);
    assert_eq!(fact["published_at"], "2026-02-09T00:00:00Z");
    // Before the first weekly update of the file: the 10-Q for the third quarter.
    let (_, fact) = btc_held(&db, "2025-12-01T00:00:00Z");
    assert_eq!(fact["value"], 640_031.0);
}

#[test]
fn shared_data_network_figures_a_year_old_are_flagged_stale() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    import_network(&db);
    let out = ok(&canary(
        &db,
        &[
            "network",
            "--asof",
            "2026-02-06T00:00:00Z",
            "--price",
            "64000",
            "--format",
            "json",
        ],
    ));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let warnings = assert_report(&doc, "2026-02-06T00:00:00Z");
    for series in ["hashrate_hs", "difficulty"] {
        let w = warnings
            .iter()
            .find(|w| w["kind"] == "stale" && w["series"] == series)
            .unwrap_or_else(|| panic!("no stale warning for {series}: {warnings:?}"));
        assert!(w["age_days"].as_f64().unwrap() > 300.0, "{w}");
    }
    // The table says so above the numbers.
    let table = ok(&canary(
        &db,
        &[
            "network",
            "--asof",
            "2026-02-06T00:00:00Z",
            "--price",
            "64000",
        ],
    ));
    let first_table_line = table.lines().position(|l| l.starts_with('┌')).unwrap();
    let stale = table
        .lines()
        .position(|l| l.starts_with("WARNING stale: hashrate_hs"))
        .expect("a stale warning in the table output");
    assert!(stale < first_table_line, "{table}");
}

/// The 2026 network file (Coin Metrics layout): hash rate in TH/s, difficulty, daily fees.
const NETWORK_2026: &str = "data/btc_network_daily_hashrate_difficulty_2018-01_2026-02.csv";

/// `canary network import FILE --series SERIES`, its output.
fn network_import(db: &std::path::Path, file: &str, series: &str) -> String {
    let f = shared(file);
    ok(&canary(
        db,
        &["network", "import", f.to_str().unwrap(), "--series", series],
    ))
}

/// The network report as of `asof` (with the extra arguments), as JSON.
fn network_report(db: &std::path::Path, asof: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["network", "--asof", asof, "--format", "json"];
    args.extend(extra);
    serde_json::from_str(&ok(&canary(db, &args))).unwrap()
}

/// The report's row whose label starts with `label`.
fn row(doc: &serde_json::Value, label: &str) -> serde_json::Value {
    doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["label"].as_str().unwrap().starts_with(label))
        .unwrap_or_else(|| panic!("no {label} in {doc}"))
        .clone()
}

/// The 2026 network file (Coin Metrics layout, hash rate in TH/s) imported for hash rate and
/// difficulty: as of the crash morning the network report reads days-old data, with no stale
/// warning, and Hash Ribbons from 2026 (SMAs checked apart, in Python, over the file's last 30
/// and 60 rows to 2026-02-05).
#[test]
fn shared_data_2026_hash_rate_in_th_per_second_gives_fresh_hash_ribbons() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("n.db");
    let out = network_import(&db, NETWORK_2026, "hashrate");
    assert!(out.contains("\"hashrate_ths\" read as TH/s"), "{out}");
    network_import(&db, NETWORK_2026, "difficulty");
    let doc = network_report(&db, "2026-02-06T05:00:00Z", &["--price", "64000"]);
    assert!(doc["warnings"].as_array().unwrap().is_empty(), "{doc}");
    let row = |label: &str| row(&doc, label);
    assert_eq!(row("network hash rate (daily)")["value"], 8.9438e20);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b;
    assert!(close(
        row("hash rate SMA 30")["value"].as_f64().unwrap(),
        9.529_244_666_666_667e20
    ));
    assert!(close(
        row("hash rate SMA 60")["value"].as_f64().unwrap(),
        1.003_947e21
    ));
    assert_eq!(
        row("Hash Ribbons")["reading"],
        "capitulation since 2026-01-06"
    );
    // The late-January dip: 690.15 EH/s on 2026-01-24, the lowest of the last 30 days (the
    // file sorted by hash rate, apart).
    let low = row("lowest daily hash rate of the last 30 days");
    assert_eq!(low["value"], 6.901_51e20);
    assert!(
        low["reading"].as_str().unwrap().contains("on 2026-01-24"),
        "{low}"
    );
}

/// Fees from the 2026 network file's daily totals (2025-11-05 on): the hashprice is taken
/// with the last 7 days' fees, and at Luxor's reference point of 2026-01-12 (BTC $91,132,
/// 7-day hash rate 1,024 EH/s: $39.53/PH/day, `miners_fundamentals.csv`) Canary's is within
/// 5 % of it from its own hash rate (Coin Metrics' 7-day mean is 1,014 EH/s, and Luxor's
/// price is of another hour: $40.76 here). Before fees are known, the given fees stand, said
/// so.
#[test]
fn shared_data_daily_fees_enter_the_hashprice_and_match_a_published_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("f.db");
    for series in ["hashrate", "fees"] {
        network_import(&db, NETWORK_2026, series);
    }
    let doc = network_report(&db, "2026-01-12T12:00:00Z", &["--price", "91132"]);
    let hp = row(
        &doc,
        "hashprice (subsidy by schedule + fees of the last 7 days)",
    );
    let per_ph = hp["value"].as_f64().unwrap() * 1000.0;
    assert!((per_ph / 39.53 - 1.0).abs() < 0.05, "{per_ph} $/PH/day");
    let fees = row(&doc, "fees per block, mean of the last 7 days")["value"]
        .as_f64()
        .unwrap();
    assert!((0.01..0.05).contains(&fees), "{fees} BTC/block");
    // Before the file's fees begin: the given fees (0 by default), named as given.
    let early = network_report(&db, "2025-10-01T00:00:00Z", &["--price", "91132"]);
    row(&early, "hashprice (subsidy by schedule + given fees)");
}

/// Without a current USD subsidy series (the shared one ends in 2025-03), the Puell Multiple
/// takes the issuance from the schedule and the daily closes, and says so: as of the crash
/// morning, 3.125 BTC × 144 × the 2026-02-05 close over the mean of the 365 days to it
/// (0.62607…, computed apart in Python from the daily file's closes).
#[test]
fn shared_data_puell_from_the_schedule_when_no_current_subsidy_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("p.db");
    import_1d(&db);
    network_import(&db, "data/network_blockreward_daily.csv", "subsidy");
    let doc = network_report(&db, "2026-02-06T05:00:00Z", &[]);
    let puell = row(
        &doc,
        "Puell Multiple (issuance USD / 365-day mean, issuance by the schedule",
    );
    let v = puell["value"].as_f64().unwrap();
    assert!((v - 0.626_072_964_150_112).abs() < 1e-9, "{v}");
    // A year earlier the stored series is current and is used as it is.
    let doc = network_report(&db, "2025-03-01T00:00:00Z", &[]);
    assert_eq!(
        row(&doc, "Puell Multiple (issuance USD / 365-day mean")["label"],
        "Puell Multiple (issuance USD / 365-day mean)"
    );
}

/// The hashprice stress ratio (the score's input) as of the crash morning, from days-old hash
/// rate and price and CBECI's last fleet estimate (2025-03-10, named as assumed unchanged):
/// 19.528 J/TH × 24 h × $55/MWh over 3.125 BTC × 144 × $62,909.86 per 912.49 EH/s
/// (the 7-day mean), 0.83086…, worked out apart.
#[test]
fn shared_data_hashprice_stress_from_days_old_data_with_the_fleet_assumed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    import_1d(&db);
    network_import(&db, NETWORK_2026, "hashrate");
    network_import(
        &db,
        "data/network_fleet_efficiency_cbeci_daily.csv",
        "fleet-efficiency",
    );
    let doc = network_report(&db, "2026-02-06T05:00:00Z", &[]);
    let stress = row(&doc, "hashprice stress ratio");
    assert_eq!(
        stress["label"],
        "hashprice stress ratio (fleet power cost / subsidy hashprice, the fleet's efficiency as of 2025-03-10, assumed unchanged)"
    );
    let v = stress["value"].as_f64().unwrap();
    assert!((v - 0.830_863_939_805_217_6).abs() < 1e-12, "{v}");
}
