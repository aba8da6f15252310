//! `canary indicators` end to end: point in time, the TA-Lib oracle from a file, errors.

mod common;

use common::*;
use std::process::Command;

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
fn wrong_flags_and_missing_data_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let out = canary(&db, &["indicators", "--symbol", "BTCUSDT", "--tf", "4h"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("no database at"),
        "{err}"
    );
    let out = canary(&db, &["indicators", "--symbol", "BTCUSDT", "--tf", "2h"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown timeframe"));
    let out = canary(&db, &["simulate", "--bars", "10", "--store"]);
    ok(&out);
    let out = canary(&db, &["indicators", "--symbol", "ETHUSDT", "--tf", "4h"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("no ETHUSDT 4h bars") && err.contains("BTCUSDT 4h"),
        "{err}"
    );
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

#[test]
fn flags_out_of_range_are_refused_before_any_work_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    for (args, flag, reason) in [
        (
            vec!["levels", "--symbol", "X", "--k", "0"],
            "--k",
            "outside 1..=50",
        ),
        (
            vec!["levels", "--symbol", "X", "--lookback", "5"],
            "--lookback",
            "outside 30..=100000",
        ),
        (
            vec!["backtest", "levels", "--symbol", "X", "--horizon", "0"],
            "--horizon",
            "outside 1..=500",
        ),
        (
            vec!["hashprice", "--price", "-5"],
            "--price",
            "must be greater than 0",
        ),
        (
            vec!["hashprice", "--price", "NaN"],
            "--price",
            "not a finite number",
        ),
        (
            vec!["hashprice", "--fees-btc", "-1"],
            "--fees-btc",
            "must be 0 or more",
        ),
        (
            vec!["hashprice", "--power", "50,-3"],
            "--power",
            "must be greater than 0",
        ),
        (
            vec!["hashprice", "--power", "0"],
            "--power",
            "must be greater than 0",
        ),
        (
            vec!["network", "--power", "0"],
            "--power",
            "must be greater than 0",
        ),
        (
            vec!["hashprice", "--hashrate-ehs", "1e-30"],
            "--hashrate-ehs",
            "outside",
        ),
        (
            vec!["hashprice", "--difficulty", "0.5"],
            "--difficulty",
            "outside",
        ),
        (
            vec!["network", "--fees-btc=-5"],
            "--fees-btc",
            "must be 0 or more",
        ),
        (
            vec!["miners", "--scenarios=-5,0"],
            "--scenarios",
            "must be greater than 0",
        ),
        (
            vec!["indicators", "--input", "x.csv", "--ind", "macd:26:12:9"],
            "macd:26:12:9",
            "must be shorter",
        ),
        (
            vec!["hashprice", "--difficulty", "1", "--hashrate-ehs", "2"],
            "--difficulty",
            "cannot be used with",
        ),
        (
            vec!["miners", "--scenarios", "58000,0"],
            "--scenarios",
            "must be greater than 0",
        ),
        (
            vec!["simulate", "--bars", "0"],
            "--bars",
            "outside 1..=10000000",
        ),
        (
            vec!["simulate", "--price", "0"],
            "--price",
            "must be greater than 0",
        ),
        (
            vec!["network", "fetch", "--timeout", "0", "mempool"],
            "--timeout",
            "must be greater than 0",
        ),
        (
            vec!["flows", "fetch", "--labels", "l.toml", "--pages", "101"],
            "--pages",
            "outside 1..=100",
        ),
    ] {
        let out = canary(&db, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(flag) && err.contains(reason),
            "{args:?}: {err}"
        );
    }
    assert!(!db.exists(), "a refused flag touches no database");
}

/// `--last N` reads only the bars the indicators need, and gives the whole history's values.
#[test]
fn shared_data_the_last_rows_read_only_what_they_need_and_equal_the_full_series() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    import_4h(&db);
    let ind =
        "rsi:14,ema:200,macd:12:26:9,bbands:20:2,atr:14,adx:14,stoch:14:3:3,cci:20,mfi:14,rv:30";
    let run = |extra: &[&str]| {
        let mut args = vec![
            "indicators",
            "--symbol",
            "BTCUSDT",
            "--tf",
            "4h",
            "--asof",
            "2026-02-06T05:00:00Z",
            "--ind",
            ind,
            "--format",
            "csv",
        ];
        args.extend(extra);
        parse_csv(&ok(&canary(&db, &args)))
    };
    let (h, windowed) = run(&["--last", "3"]);
    let (h2, full) = run(&[]);
    assert_eq!(h, h2);
    let full = &full[full.len() - 3..];
    assert_eq!(windowed.len(), 3);
    for (w, f) in windowed.iter().zip(full) {
        assert_eq!(w[0], f[0], "same bars");
        for (c, (a, b)) in h.iter().zip(w.iter().zip(f)).skip(1) {
            let (a, b): (f64, f64) = (a.parse().unwrap(), b.parse().unwrap());
            assert!(
                (a - b).abs() <= 1e-9 * b.abs(),
                "{c} at {}: {a} vs {b}",
                w[0]
            );
        }
    }
    // The JSON names the first bar read: not the first of the file.
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
            "json",
            "--last",
            "1",
        ],
    ));
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let claim = doc["claims"]
        .as_object()
        .unwrap()
        .values()
        .find(|c| c["provenance"]["method"] == "ta_indicator")
        .unwrap();
    let bars: usize = claim["provenance"]["params"]["bars"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(bars < 1000, "{bars} bars read for one RSI value");
}
