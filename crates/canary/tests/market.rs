//! `canary stats`, `levels` and `backtest levels` end to end on the real data.

// The pinned figures are written as the reports print them, so that a search finds them.
#![expect(clippy::unreadable_literal)]

mod common;

use common::*;

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
    let stat = |k: &str| -> f64 { stat(&doc, k)["value"].as_f64().unwrap() };
    // Every statistic, worked out from the 4h file by tests/stats_reference.py (Python's
    // standard library, no Canary code; its docstring gives each definition).
    let python = std::env::var("CANARY_TEST_PYTHON").expect(
        "CANARY_TEST_PYTHON is not set: run `make test`, which makes .venv-test and points it there",
    );
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/stats_reference.py");
    let run = std::process::Command::new(&python)
        .arg(&script)
        .arg(shared("data"))
        .arg("2026-02-06T05:00:00Z")
        .output()
        .unwrap_or_else(|e| panic!("{python}: {e}"));
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let reference: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let expected = reference.as_object().unwrap();
    assert_eq!(expected.len(), 17);
    for (k, want) in expected {
        let want = want.as_f64().unwrap();
        let got = stat(k);
        assert!(
            (got - want).abs() <= 1e-9 * want.abs(),
            "{k}: {got} vs {want}"
        );
    }
    // The crash morning's figures as published (docs and the analysis): the script agrees.
    assert_eq!(stat("last_price"), 64168.33);
    assert!((stat("change_24h") - -9.905360960079745).abs() < 1e-9);
    assert_eq!(doc["stats"].as_array().unwrap().len(), expected.len());
    assert!(doc["missing"].as_array().unwrap().is_empty());
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
                    supports += 1;
                } else {
                    resistances += 1;
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
    // The nearest levels of each timeframe, as the method places them today (a change of
    // method changes these on purpose; docs/levels.md measures them).
    let nearest = |tf: usize, side: &str| doc["levels"][tf][side][0]["price"].as_f64().unwrap();
    assert_eq!(doc["levels"][0]["timeframe"], "1d");
    for (got, want) in [
        (nearest(0, "supports"), 62_703.459_246),
        (nearest(0, "resistances"), 66_240.639_037),
        (nearest(1, "supports"), 60_000.0),
        (nearest(1, "resistances"), 72_945.5),
    ] {
        assert!((got - want).abs() < 1e-3, "{got} vs {want}");
    }

    // No look-ahead: a database that holds only the bars closed by 05:00 gives the same
    // levels, claim for claim.
    let text = std::fs::read_to_string(shared("data/btcusdt_binance_4h.csv")).unwrap();
    let cut: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.starts_with("open_time") || l.get(..19).is_some_and(|t| t <= "2026-02-06 00:00:00")
        })
        .collect();
    let file = dir.path().join("cut.csv");
    std::fs::write(&file, cut.join("\n")).unwrap();
    let db2 = dir.path().join("cut.db");
    ok(&canary(
        &db2,
        &[
            "import",
            file.to_str().unwrap(),
            "--symbol",
            "BTCUSDT",
            "--source",
            "btcusdt_binance_4h.csv",
        ],
    ));
    let out2 = ok(&canary(
        &db2,
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
    let doc2: serde_json::Value = serde_json::from_str(&out2).unwrap();
    assert_eq!(doc["levels"], doc2["levels"]);
    assert_eq!(doc["claims"], doc2["claims"]);
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
    // The figures docs/levels.md records for the shipped method on the daily chart.
    assert!(
        out.contains("levels: 473 touches, 288 bounces (60.9%), 143 breaks")
            && out.contains("random zones (ATR-scaled, pooled): 9742 touches")
            && out.contains("lift 0.982, 90% interval [0.930, 1.033]"),
        "{out}"
    );
    // Same seeds, same figures.
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

/// Regression: daily bars stored up to February hid the 4h bars of the months since, and
/// `stats` as of June printed February's close as the latest.
#[test]
fn shared_data_stats_use_the_freshest_daily_bars() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    import_4h(&db);
    ok(&canary(
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
    let out = ok(&canary(
        &db,
        &[
            "stats",
            "--symbol",
            "BTCUSDT",
            "--asof",
            "2026-06-01T00:00:00Z",
            "--format",
            "json",
        ],
    ));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let warnings = assert_report(&doc, "2026-06-01T00:00:00Z");
    assert!(
        warnings.is_empty(),
        "stored and built days agree: {warnings:?}"
    );
    assert_eq!(stat(&doc, "last_price")["value"], 73_674.39);
    assert_eq!(stat(&doc, "daily_close")["value"], 73_674.39);
    assert_eq!(stat(&doc, "daily_close")["note"], "day 2026-05-31");
    assert_data_no_later_than(&doc, "2026-05-31T20:00:00Z");
}

#[test]
fn shared_data_stale_bars_are_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    import_4h(&db);
    // The 4h file ends on 14 June 2026: a month later its bars are stale.
    let out = ok(&canary(
        &db,
        &[
            "stats",
            "--symbol",
            "BTCUSDT",
            "--asof",
            "2026-07-15T00:00:00Z",
            "--format",
            "json",
        ],
    ));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let warnings = assert_report(&doc, "2026-07-15T00:00:00Z");
    for series in ["BTCUSDT 4h", "BTCUSDT 1d"] {
        assert!(
            warnings
                .iter()
                .any(|w| w["kind"] == "stale" && w["series"] == series),
            "{series}: {warnings:?}"
        );
    }
}

/// docs/levels.md's table of the bounce backtest, to 2026-06-15: each of its 14 rows is
/// what the documented command prints today, figure for figure (run two at a time).
#[test]
fn the_published_levels_backtest_holds() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/levels.md"),
    )
    .unwrap();
    let rows: Vec<String> = doc
        .lines()
        .filter(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            cells.len() == 12 && (cells[2] == "1d" || cells[2] == "4h")
        })
        .map(str::to_string)
        .collect();
    assert_eq!(rows.len(), 14, "the document's table");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    import_4h(&db);
    ok(&canary(
        &db,
        &[
            "resample", "--symbol", "BTCUSDT", "--from", "4h", "--to", "1d",
        ],
    ));
    let thousands = |n: u64| {
        let s = n.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    let printed = |row: &str| -> String {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (variant, tf) = (cells[1], cells[2]);
        let out = ok(&canary(
            &db,
            &[
                "backtest",
                "levels",
                "--symbol",
                "BTCUSDT",
                "--tf",
                tf,
                "--variant",
                variant,
                "--to",
                "2026-06-15T00:00:00Z",
                "--format",
                "json",
            ],
        ));
        let d: serde_json::Value = serde_json::from_str(&out).unwrap();
        let n = |v: &serde_json::Value| v.as_u64().unwrap();
        let f = |v: &serde_json::Value| v.as_f64().unwrap();
        let (l, b) = (&d["levels"], &d["baseline"]);
        let pct = |a: &serde_json::Value, t: &serde_json::Value| {
            format!("{:.1} %", n(a) as f64 / n(t) as f64 * 100.0)
        };
        format!(
            "| {variant} | {tf} | {} | {} | {} | {} | {} | {:.3} | [{:.3}, {:.3}] | {:.2}–{:.2} |",
            thousands(n(&l["touches"])),
            pct(&l["bounces"], &l["touches"]),
            pct(&l["breaks"], &l["touches"]),
            thousands(n(&b["touches"])),
            pct(&b["bounces"], &b["touches"]),
            f(&d["lift"]),
            f(&d["lift_interval"][0]),
            f(&d["lift_interval"][1]),
            f(&d["lift_by_seed"][0]),
            f(&d["lift_by_seed"][1]),
        )
    };
    let (a, b) = rows.split_at(rows.len() / 2);
    let check = |part: &[String]| {
        for row in part {
            assert_eq!(&printed(row), row, "published, not printed now");
        }
    };
    std::thread::scope(|s| {
        let h = s.spawn(|| check(a));
        check(b);
        h.join().unwrap();
    });
}
