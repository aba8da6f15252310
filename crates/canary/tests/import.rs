//! `canary import`, `resample` and `simulate` end to end.

mod common;

use common::*;
use std::fmt::Write as _;

#[test]
fn shared_data_import_is_idempotent_and_a_bad_row_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let first = import_4h(&db);
    assert!(
        first.starts_with("imported 18506 bars, 0 already present, 0 revised, 8 gaps"),
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

    // A bar that differs from a stored one: with --strict it is refused, naming the line and
    // both values; by default it is stored as a revision, seen from its import time on.
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let f: Vec<String> = lines[5].split(',').map(str::to_string).collect();
    lines[5] = format!(
        "{},{},{},{},{},{},{},{}",
        f[0], f[1], f[2], f[3], f[4], "1.5", f[6], f[7]
    );
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let out = canary(
        &db,
        &[
            "import",
            bad.to_str().unwrap(),
            "--symbol",
            "BTCUSDT",
            "--strict",
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("bad.csv:6:") && err.contains("V 1.5"),
        "{err}"
    );
    assert_eq!(ok(&canary(&db, &["series"])), before);
    let obv = |asof: Option<&str>| {
        let mut args = vec![
            "indicators",
            "--symbol",
            "BTCUSDT",
            "--tf",
            "4h",
            "--ind",
            "obv",
            "--format",
            "csv",
            "--to",
            "2018-01-01T16:00:00Z",
            "--last",
            "1",
        ];
        if let Some(t) = asof {
            args.extend(["--asof", t]);
        }
        ok(&canary(&db, &args)).lines().last().unwrap().to_string()
    };
    let (old_then, old_now) = (obv(Some("2026-06-15T00:00:00Z")), obv(None));
    assert_eq!(old_then, old_now);
    let out = ok(&canary(
        &db,
        &["import", bad.to_str().unwrap(), "--symbol", "BTCUSDT"],
    ));
    assert!(
        out.starts_with("imported 0 bars, 18505 already present, 1 revised"),
        "{out}"
    );
    assert_eq!(
        obv(Some("2026-06-15T00:00:00Z")),
        old_then,
        "the past is not rewritten"
    );
    assert_ne!(obv(None), old_now, "the revision is seen now");
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

    let built = canary_store::open(&db).unwrap();
    let sym = canary_model::Symbol::new("BTCUSDT").unwrap();
    let days = built
        .candles(
            &sym,
            canary_model::Timeframe::D1,
            &canary_store::CandleQuery::default(),
        )
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
        // Counts in the file: whole, non-negative numbers read as f64.
        #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let (trades, bars) = (f("trades") as u64, f("bars_4h") as u32);
        assert_eq!(c.trades, Some(trades), "{day}");
        assert_eq!(d.source_bars, Some(bars), "{day}");
        assert_eq!(d.available_at, c.open_time.add_millis(86_400_000));
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

/// Regression: errors in files with CRLF line ends named the line before the bad one.
#[test]
fn shared_data_a_bad_row_in_a_crlf_file_is_named_by_its_physical_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let text = std::fs::read_to_string(shared("data/btcusdt_binance_4h.csv")).unwrap();
    assert!(
        text.contains("\r\n"),
        "the shared 4h file ends its lines with CRLF"
    );
    let mut lines: Vec<String> = text.split("\r\n").map(str::to_string).collect();
    let f: Vec<String> = lines[99].split(',').map(str::to_string).collect();
    // Line 100: high below low.
    lines[99] = [&f[0], &f[1], &f[3], &f[2], &f[4], &f[5], &f[6], &f[7]]
        .map(String::as_str)
        .join(",");
    let bad = dir.path().join("crlf.csv");
    std::fs::write(&bad, lines.join("\r\n")).unwrap();
    let out = canary(
        &db,
        &["import", bad.to_str().unwrap(), "--symbol", "BTCUSDT"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("crlf.csv:100: high:"),
        "{err}"
    );
}

#[test]
fn times_out_of_range_are_refused_naming_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let f = dir.path().join("t.csv");
    for (rows, needle) in [
        (
            "3000-01-01,10,11,9,10,1\n3000-01-02,10,11,9,10,1\n",
            "t.csv:2: time: 3000-01-01T00:00:00Z is in the future",
        ),
        (
            "2026-01-01,10,11,9,10,1\n9999-01-02,10,11,9,10,1\n",
            "t.csv:3: time: 9999-01-02T00:00:00Z is in the future",
        ),
        (
            "1960-01-01,10,11,9,10,1\n1960-01-02,10,11,9,10,1\n",
            "t.csv:2: time: 1960-01-01T00:00:00Z is before 2009-01-03",
        ),
    ] {
        std::fs::write(&f, format!("time,open,high,low,close,volume\n{rows}")).unwrap();
        let out = canary(&db, &["import", f.to_str().unwrap(), "--symbol", "X"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(needle), "{err}");
    }
    // The earliest time is configurable.
    std::fs::write(
        &f,
        "time,open,high,low,close,volume\n2008-01-01,10,11,9,10,1\n2008-01-02,10,11,9,10,1\n",
    )
    .unwrap();
    let out = canary(&db, &["import", f.to_str().unwrap(), "--symbol", "X"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--earliest"));
    ok(&canary(
        &db,
        &[
            "import",
            f.to_str().unwrap(),
            "--symbol",
            "X",
            "--earliest",
            "2008-01-01",
        ],
    ));
    // The simulator refuses bars that would leave the range.
    for start in ["9999-12-30", "2008-06-01"] {
        let out = canary(&db, &["simulate", "--start", start, "--bars", "3"]);
        assert!(!out.status.success() && out.stdout.is_empty(), "{start}");
    }
}

#[test]
fn shared_data_writers_started_together_wait_for_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let h1 = shared("data/btcusd_cryptocompare_1h_2025-05_2025-11.csv");
    ok(&canary(
        &db,
        &["import", h1.to_str().unwrap(), "--symbol", "BTCUSD"],
    ));
    let (h4, d1) = (
        shared("data/btcusdt_binance_4h.csv"),
        shared("data/btcusdt_binance_1d.csv"),
    );
    let spawn = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_canary"))
            .arg("--db")
            .arg(&db)
            .args(["--wait", "300"])
            .args(args)
            .env_remove("CANARY_DB")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let children = [
        spawn(&["import", h4.to_str().unwrap(), "--symbol", "BTCUSDT"]),
        spawn(&[
            "import",
            d1.to_str().unwrap(),
            "--symbol",
            "BINANCE:BTCUSDT",
        ]),
        spawn(&[
            "resample", "--symbol", "BTCUSD", "--from", "1h", "--to", "4h",
        ]),
        spawn(&["import", h4.to_str().unwrap(), "--symbol", "BTCUSDT"]),
    ];
    for c in children {
        ok(&c.wait_with_output().unwrap());
    }
    let series = ok(&canary(&db, &["series"]));
    let bars = |sym: &str, tf: &str| -> u64 {
        series
            .lines()
            .find(|l| {
                l.split_whitespace().nth(1) == Some(sym) && l.split_whitespace().nth(2) == Some(tf)
            })
            .unwrap_or_else(|| panic!("no {sym} {tf} in {series}"))
            .split_whitespace()
            .nth(3)
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(
        bars("BTCUSDT", "4h"),
        18506,
        "every bar once, whichever import came second"
    );
    assert!(bars("BINANCE:BTCUSDT", "1d") > 3000);
    assert!(bars("BTCUSD", "4h") > 1000);
}

#[test]
fn commands_that_only_read_refuse_a_missing_database_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nowhere/x.db");
    for args in [
        vec!["series"],
        vec!["stats", "--symbol", "BTCUSDT"],
        vec!["levels", "--symbol", "BTCUSDT"],
        vec!["indicators", "--symbol", "BTCUSDT", "--tf", "4h"],
        vec!["network"],
        vec!["hashprice", "--hashrate-ehs", "900"],
        vec!["miners"],
        vec!["flows"],
    ] {
        let out = canary(&db, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("no database at") && err.contains("nowhere/x.db"),
            "{args:?}: {err}"
        );
    }
    // A report whose inputs are all given needs no database.
    ok(&canary(
        &db,
        &[
            "hashprice",
            "--price",
            "60000",
            "--hashrate-ehs",
            "900",
            "--fees-btc",
            "0.03",
        ],
    ));
    assert!(!dir.path().join("nowhere").exists(), "nothing created");
}

/// Regression: the crash scenario on bars shorter than an hour over about two days panicked
/// ("0 is not a positive price").
#[test]
fn simulate_crash_on_short_bars_gives_valid_bars() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    for (tf, bars) in [
        ("1m", "3000"),
        ("15m", "200"),
        ("5m", "1000"),
        ("1w", "300"),
    ] {
        let args = [
            "simulate",
            "--tf",
            tf,
            "--bars",
            bars,
            "--start",
            "2020-01-06",
        ];
        let out = ok(&canary(&db, &args));
        assert_eq!(
            out.lines().count(),
            bars.parse::<usize>().unwrap() + 1,
            "{tf}"
        );
    }
}

#[test]
fn simulated_bars_are_not_stored_beside_real_ones_unless_named() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let f = dir.path().join("real.csv");
    std::fs::write(
        &f,
        "time,open,high,low,close,volume\n2026-01-01,10,11,9,10,1\n2026-01-02,10,11,9,10,1\n",
    )
    .unwrap();
    ok(&canary(
        &db,
        &["import", f.to_str().unwrap(), "--symbol", "BTCUSDT"],
    ));
    let out = canary(&db, &["simulate", "--store", "--bars", "10"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && err.contains("holds real bars (BTCUSDT 1d)")
            && err.contains("--symbol"),
        "{err}"
    );
    ok(&canary(
        &db,
        &[
            "simulate",
            "--store",
            "--bars",
            "10",
            "--symbol",
            "SIM:BTCUSDT",
        ],
    ));
}

#[test]
fn the_demo_says_simulated_once_and_ends_with_a_command_that_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_canary"))
        .args(["demo", "--dir"])
        .arg(dir.path().join("demo"))
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("SIMULATED DATA").count(), 1, "{stderr}");
    let hint = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Try: "))
        .expect("a closing hint");
    let words: Vec<&str> = hint.split_whitespace().collect();
    let again = std::process::Command::new(words[0])
        .args(&words[1..])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(ok(&again).contains("rsi_14"));
}

#[test]
fn files_out_of_time_order_import_with_their_gaps_read_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let f = dir.path().join("u.csv");
    std::fs::write(
        &f,
        "time,open,high,low,close,volume\n2026-01-02,10,11,9,10,1\n2026-01-01,10,11,9,10,1\n2026-01-05,10,11,9,10,1\n",
    )
    .unwrap();
    let dry = ok(&canary(
        &db,
        &["import", f.to_str().unwrap(), "--symbol", "X", "--dry-run"],
    ));
    assert!(dry.contains("out of time order"), "{dry}");
    let out = ok(&canary(
        &db,
        &["import", f.to_str().unwrap(), "--symbol", "X"],
    ));
    assert!(
        out.contains("imported 3 bars")
            && out.contains("2026-01-03T00:00:00Z → 2026-01-04T00:00:00Z (2 bars)"),
        "{out}"
    );
    // A time repeated far apart in an unsorted file is refused when stored, naming its line.
    let mut text = String::from("time,open,high,low,close,volume\n");
    for d in (1..=1200).rev() {
        let day = canary_day(d);
        let _ = writeln!(text, "{day},10,11,9,10,1");
    }
    let _ = writeln!(text, "{},10,11,9,10,1", canary_day(600));
    std::fs::write(&f, text).unwrap();
    let out = canary(&db, &["import", f.to_str().unwrap(), "--symbol", "Y"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("u.csv:1202: time:") && err.contains("appears twice"),
        "{err}"
    );
    assert!(
        !ok(&canary(&db, &["series"])).contains(" Y "),
        "nothing of it stored"
    );
}

/// Day `d` after 2020-01-01 as `YYYY-MM-DD`.
fn canary_day(d: i64) -> String {
    canary_model::Timestamp::from_millis(1_577_836_800_000 + d * 86_400_000).to_string()[..10]
        .to_string()
}
