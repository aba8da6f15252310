//! End-to-end tests of the `canary` binary on the real data in `../shared` (they fail, naming
//! the file, when it is missing) and on simulated data.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn shared(rel: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel);
    assert!(
        p.exists(),
        "missing shared data file {} (the repository expects ../shared beside it)",
        p.display()
    );
    p
}

fn canary(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_canary"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("CANARY_DB")
        .output()
        .expect("the canary binary runs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "canary failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn import_4h(db: &Path) -> String {
    let f = shared("data/btcusdt_binance_4h.csv");
    ok(&canary(
        db,
        &["import", f.to_str().unwrap(), "--symbol", "BTCUSDT"],
    ))
}

fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let h = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    (h, rows)
}

#[test]
fn shared_data_import_is_idempotent_and_a_bad_row_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let first = import_4h(&db);
    assert!(
        first.starts_with("imported 18506 bars, 0 already present, 8 gaps"),
        "{first}"
    );
    assert!(
        first.contains("2018-02-08T04:00:00Z → 2018-02-09T04:00:00Z (7 bars)"),
        "{first}"
    );
    let again = import_4h(&db);
    assert!(
        again.starts_with("imported 0 bars, 18506 already present"),
        "{again}"
    );

    // A copy whose line 1001 has its high below its low (and a new bar appended) is refused
    // whole: the new bar is not stored either.
    let text = std::fs::read_to_string(shared("data/btcusdt_binance_4h.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let f: Vec<&str> = lines[1000].split(',').collect();
    let (low, high) = (f[3].to_string(), f[2].to_string());
    lines[1000] = [f[0], f[1], &low, &high, f[4], f[5], f[6], f[7]].join(",");
    lines.push("2026-06-15 00:00:00,100,110,90,105,1,100,1".into());
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let before = ok(&canary(&db, &["series"]));
    let out = canary(
        &db,
        &["import", bad.to_str().unwrap(), "--symbol", "BTCUSDT"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv:1001: high:"), "{err}");
    assert_eq!(ok(&canary(&db, &["series"])), before);

    // A bar that conflicts with a stored one is refused, naming the line and both values.
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let f: Vec<String> = lines[5].split(',').map(str::to_string).collect();
    lines[5] = format!(
        "{},{},{},{},{},{},{},{}",
        f[0], f[1], f[2], f[3], f[4], "1.5", f[6], f[7]
    );
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let out = canary(
        &db,
        &["import", bad.to_str().unwrap(), "--symbol", "BTCUSDT"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("bad.csv:6:") && err.contains("V 1.5"),
        "{err}"
    );
}

#[test]
fn shared_data_daily_bars_resampled_from_4h_equal_the_daily_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    import_4h(&db);
    let out = ok(&canary(
        &db,
        &[
            "resample", "--symbol", "BTCUSDT", "--from", "4h", "--to", "1d",
        ],
    ));
    assert!(out.contains("into 3087 1d bars: 3087 new"), "{out}");

    let built = canary_store::Store::open(&db).unwrap();
    let sym = canary_model::Symbol::new("BTCUSDT").unwrap();
    let days = built
        .candles(&sym, canary_model::Timeframe::D1, &Default::default())
        .unwrap();
    let text = std::fs::read_to_string(shared("data/btcusdt_binance_1d.csv")).unwrap();
    let (h, rows) = parse_csv(&text);
    assert_eq!(rows.len(), 3087);
    assert_eq!(days.len(), rows.len());
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    for (d, r) in days.iter().zip(&rows) {
        let c = &d.candle;
        let day = &c.open_time.to_string()[..10];
        assert_eq!(day, r[col("date_utc")]);
        let f = |n: &str| r[col(n)].parse::<f64>().unwrap();
        assert_eq!(
            (c.open, c.high, c.low, c.close),
            (f("open"), f("high"), f("low"), f("close")),
            "{day}"
        );
        assert!(
            (c.volume - f("volume_btc")).abs() <= 1e-9 * f("volume_btc"),
            "{day} volume"
        );
        let qv = c.quote_volume.unwrap();
        assert!(
            (qv - f("quote_volume_usdt")).abs() <= 1e-9 * f("quote_volume_usdt"),
            "{day} quote volume"
        );
        assert_eq!(c.trades, Some(f("trades") as u64), "{day}");
        assert_eq!(d.source_bars, Some(f("bars_4h") as u32), "{day}");
        assert_eq!(d.available_at, c.open_time.add_millis(86_400_000));
    }
}

#[test]
fn shared_data_asof_hides_bars_not_yet_closed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    import_4h(&db);
    let out = ok(&canary(
        &db,
        &[
            "indicators",
            "--symbol",
            "BTCUSDT",
            "--tf",
            "4h",
            "--asof",
            "2026-02-06T05:00:00Z",
            "--ind",
            "rsi:14",
            "--format",
            "csv",
        ],
    ));
    let last = out.lines().last().unwrap();
    assert!(last.starts_with("2026-02-06T00:00:00Z,"), "{last}");
    // Resampling as of that time stores 5 Feb but not the still-open 6 Feb.
    let r = ok(&canary(
        &db,
        &[
            "resample",
            "--symbol",
            "BTCUSDT",
            "--from",
            "4h",
            "--to",
            "1d",
            "--asof",
            "2026-02-06T05:00:00Z",
        ],
    ));
    assert!(r.contains("1 bucket still open"), "{r}");
    let d = ok(&canary(
        &db,
        &[
            "indicators",
            "--symbol",
            "BTCUSDT",
            "--tf",
            "1d",
            "--asof",
            "2026-02-06T05:00:00Z",
            "--ind",
            "rsi:14",
            "--format",
            "csv",
            "--last",
            "1",
        ],
    ));
    let last = d.lines().last().unwrap();
    assert!(last.starts_with("2026-02-05T00:00:00Z,15.82"), "{last}");
    // Without --asof it is now: the stored days end on 5 Feb, and the days since are built
    // from the 4h bars, which reach 14 June.
    let now = ok(&canary(
        &db,
        &[
            "indicators",
            "--symbol",
            "BTCUSDT",
            "--tf",
            "1d",
            "--ind",
            "rsi:14",
            "--format",
            "csv",
            "--last",
            "1",
        ],
    ));
    assert!(
        now.lines()
            .last()
            .unwrap()
            .starts_with("2026-06-14T00:00:00Z,"),
        "{now}"
    );
}

#[test]
fn shared_data_indicators_from_a_file_equal_talib_column_by_column() {
    let dir = tempfile::tempdir().unwrap();
    let input = shared("data/btcusdt_binance_1d.csv");
    let out = ok(&canary(
        &dir.path().join("unused.db"),
        &[
            "indicators",
            "--input",
            input.to_str().unwrap(),
            "--ind",
            "all",
            "--format",
            "csv",
        ],
    ));
    let (h, rows) = parse_csv(&out);
    let (oh, orows) =
        parse_csv(&std::fs::read_to_string(shared("oracle/talib_btcusdt_binance_1d.csv")).unwrap());
    assert_eq!(h[0], "time");
    assert_eq!(&h[1..], &oh[1..], "same columns, same order as the oracle");
    assert_eq!(rows.len(), orows.len());
    assert_eq!(rows[0][0], "2018-01-01T00:00:00Z");
    for (r, o) in rows.iter().zip(&orows) {
        for j in 1..h.len() {
            let (a, b) = (&r[j], &o[j]);
            if b.is_empty() {
                assert!(a.is_empty(), "{} at {}: ours {a}, TA-Lib empty", h[j], r[0]);
            } else {
                let (a, b): (f64, f64) = (a.parse().unwrap(), b.parse().unwrap());
                assert!(
                    (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                    "{} at {}: ours {a}, TA-Lib {b}",
                    h[j],
                    r[0]
                );
            }
        }
    }
}

#[test]
fn simulate_is_deterministic_importable_and_marked() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let args = [
        "simulate",
        "--tf",
        "1h",
        "--bars",
        "300",
        "--seed",
        "9",
        "--scenario",
        "calm",
    ];
    let a = canary(&db, &args);
    let b = canary(&db, &args);
    assert_eq!(ok(&a), ok(&b));
    assert!(String::from_utf8_lossy(&a.stderr).contains("SIMULATED"));
    let csv_path = dir.path().join("sim.csv");
    std::fs::write(&csv_path, &a.stdout).unwrap();
    let imp = ok(&canary(
        &db,
        &["import", csv_path.to_str().unwrap(), "--symbol", "SIMUSDT"],
    ));
    assert!(
        imp.contains("imported 300 bars") && imp.contains("source sim"),
        "{imp}"
    );
    let out = canary(
        &db,
        &[
            "indicators",
            "--symbol",
            "SIMUSDT",
            "--tf",
            "1h",
            "--format",
            "json",
            "--last",
            "1",
        ],
    );
    let doc: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(doc["simulated"], true);
    assert!(doc["rows"][0]["rsi_14"].is_number());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SIMULATED"));
}

#[test]
fn wrong_flags_and_missing_data_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let out = canary(&db, &["indicators", "--symbol", "BTCUSDT", "--tf", "4h"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("no BTCUSDT 4h bars"),
        "{err}"
    );
    let out = canary(&db, &["indicators", "--symbol", "BTCUSDT", "--tf", "2h"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown timeframe"));
    let out = canary(&db, &["simulate", "--bars", "10", "--store"]);
    ok(&out);
    let out = canary(
        &db,
        &[
            "indicators",
            "--symbol",
            "BTCUSDT",
            "--tf",
            "4h",
            "--ind",
            "rsi:0",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("rsi:0"), "{err}");
    // --db is accepted after the subcommand too.
    let out = Command::new(env!("CARGO_BIN_EXE_canary"))
        .args(["series", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(ok(&out).contains("BTCUSDT"));
}

fn oracle_value(file: &str, date: &str, column: &str) -> f64 {
    let (h, rows) = parse_csv(&std::fs::read_to_string(shared(file)).unwrap());
    let c = h.iter().position(|x| x == column).unwrap();
    let r = rows.iter().find(|r| r[0] == date).unwrap();
    r[c].parse().unwrap()
}

/// Every claim id a document mentions is defined, and every derivation's inputs exist.
fn assert_claims_resolve(doc: &serde_json::Value, ids: &[&str]) {
    let claims = doc["claims"].as_object().expect("a claims map");
    for id in ids {
        assert!(claims.contains_key(*id), "claim {id} is not defined");
    }
    for (id, c) in claims {
        assert_eq!(c["id"], serde_json::Value::String(id.clone()));
        if c["provenance"]["kind"] == "derived" {
            for input in c["provenance"]["inputs"].as_array().unwrap() {
                assert!(
                    claims.contains_key(input.as_str().unwrap()),
                    "{id} derives from undefined {input}"
                );
            }
        }
    }
}

/// The `claim` of every entry of the document's list `key`.
fn claims_of<'a>(doc: &'a serde_json::Value, key: &str) -> Vec<&'a str> {
    doc[key]
        .as_array()
        .unwrap_or_else(|| panic!("no list {key}"))
        .iter()
        .map(|r| r["claim"].as_str().expect("a claim id"))
        .collect()
}

/// Every data claim of the document is of a bar or day that opened at `latest` or before.
fn assert_data_no_later_than(doc: &serde_json::Value, latest: &str) {
    for c in doc["claims"].as_object().expect("a claims map").values() {
        if c["provenance"]["kind"] == "data" {
            let t = c["provenance"]["time"].as_str().unwrap();
            assert!(t <= latest, "{} uses the data at {t}", c["label"]);
        }
    }
}

#[test]
fn shared_data_stats_as_of_the_crash_morning() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    import_4h(&db);
    ok(&canary(
        &db,
        &[
            "resample", "--symbol", "BTCUSDT", "--from", "4h", "--to", "1d",
        ],
    ));
    let out = ok(&canary(
        &db,
        &[
            "stats",
            "--symbol",
            "BTCUSDT",
            "--asof",
            "2026-02-06T05:00:00Z",
            "--format",
            "json",
        ],
    ));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let stat = |k: &str| -> f64 {
        doc["stats"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == k)
            .unwrap_or_else(|| panic!("no {k}"))["value"]
            .as_f64()
            .unwrap()
    };
    assert_eq!(stat("last_price"), 64168.33);
    assert_eq!(stat("daily_close"), 62909.86);
    assert!(
        (stat("daily_move") - -14.0).abs() < 0.05,
        "{}",
        stat("daily_move")
    );
    assert!(stat("daily_move_sigma_30") < -3.0);
    let talib = oracle_value(
        "oracle/talib_btcusdt_binance_1d.csv",
        "2026-02-05",
        "rsi_14",
    );
    assert!(
        (stat("rsi14_daily") - talib).abs() <= 1e-9 * talib,
        "{} vs {talib}",
        stat("rsi14_daily")
    );
    assert!((talib - 15.82).abs() < 0.005);
    // The supply estimate is labelled as one, and the 24h change erased value.
    assert!(stat("supply_estimate") > 19.9e6 && stat("supply_estimate") < 20.1e6);
    assert!(stat("market_value_change_24h") < 0.0);
    assert_claims_resolve(&doc, &claims_of(&doc, "stats"));
    // Nothing after 05:00 is used: every data claim's bar closed by then.
    assert_data_no_later_than(&doc, "2026-02-06T00:00:00Z");
}

#[test]
fn shared_data_levels_as_of_the_crash_morning() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    import_4h(&db);
    let out = ok(&canary(
        &db,
        &[
            "levels",
            "--symbol",
            "BTCUSDT",
            "--asof",
            "2026-02-06T05:00:00Z",
            "--format",
            "json",
        ],
    ));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    // The range traded before that time, from the 4h file.
    let text = std::fs::read_to_string(shared("data/btcusdt_binance_4h.csv")).unwrap();
    let (h, rows) = parse_csv(&text);
    let (ci, hi, lo) = (
        0,
        h.iter().position(|x| x == "high").unwrap(),
        h.iter().position(|x| x == "low").unwrap(),
    );
    let before: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| r[ci].as_str() <= "2026-02-06 00:00:00")
        .collect();
    let min = before
        .iter()
        .map(|r| r[lo].parse::<f64>().unwrap())
        .fold(f64::INFINITY, f64::min);
    let max = before
        .iter()
        .map(|r| r[hi].parse::<f64>().unwrap())
        .fold(0.0, f64::max);
    let mut ids = vec![];
    let (mut supports, mut resistances) = (0, 0);
    for tf in doc["levels"].as_array().unwrap() {
        assert_eq!(tf["price"], 64168.33);
        for (side, below) in [("supports", true), ("resistances", false)] {
            for l in tf[side].as_array().unwrap() {
                let p = l["price"].as_f64().unwrap();
                assert_eq!(p < 64168.33, below, "{side} {p}");
                assert!(
                    (min..=max).contains(&p),
                    "{p} outside the traded range {min}..{max}"
                );
                assert!(!l["methods"].as_array().unwrap().is_empty());
                assert!(l["touches"].is_u64() && l["broken_if"].is_string());
                ids.push(l["claim"].as_str().unwrap().to_string());
                if below {
                    supports += 1
                } else {
                    resistances += 1
                }
            }
        }
    }
    assert!(
        supports >= 2 && resistances >= 2,
        "{supports} supports, {resistances} resistances"
    );
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    assert_claims_resolve(&doc, &ids);
}

#[test]
fn shared_data_backtest_levels_measures_hit_rate_against_a_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    import_4h(&db);
    let out = ok(&canary(
        &db,
        &[
            "backtest",
            "levels",
            "--symbol",
            "BTCUSDT",
            "--tf",
            "1d",
            "--to",
            "2026-06-15",
        ],
    ));
    assert!(
        out.contains("hit rate") && out.contains("baseline") && out.contains("lift"),
        "{out}"
    );
    // Same seed, same figures.
    assert_eq!(
        out,
        ok(&canary(
            &db,
            &[
                "backtest",
                "levels",
                "--symbol",
                "BTCUSDT",
                "--tf",
                "1d",
                "--to",
                "2026-06-15"
            ]
        ))
    );
}

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
}
