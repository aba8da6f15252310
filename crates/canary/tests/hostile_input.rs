//! Issue 19 (security and integrity), the import and command-line side: what a hostile tester
//! found on the release binary, one test per finding, each named after it. None reads the
//! shared data: every file is written here, in the test's own folder.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const HEADER: &str = "time,open,high,low,close,volume\n";

/// `n` 4h bars from 2025-01-01 as CSV rows (no header), prices near 100.
fn rows_4h(n: usize) -> Vec<String> {
    let start = 1_735_689_600_000_i64; // 2025-01-01T00:00:00Z
    (0..n)
        .map(|i| {
            let t = canary_model::Timestamp::from_millis(start + i as i64 * 14_400_000);
            #[allow(clippy::cast_precision_loss)]
            let p = 100.0 + 10.0 * ((i as f64) / 9.0).sin();
            format!(
                "{t},{p:.2},{:.2},{:.2},{:.2},{}",
                p + 2.0,
                p - 2.0,
                p + 0.5,
                10 + i % 7
            )
        })
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Run canary, killing it after `limit`: its output, or a failure saying it did not finish.
fn canary_within(db: &Path, args: &[&str], limit: Duration) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_canary"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("CANARY_DB")
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("canary {args:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

// Item 8: huge values panic later.

#[test]
fn item8_a_price_of_1e307_is_refused_at_import_naming_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let mut rows = rows_4h(40);
    let f: Vec<String> = rows[20].split(',').map(str::to_string).collect();
    rows[20] = format!("{},1e307,1e307,1e307,1e307,{}", f[0], f[5]);
    let file = write(
        dir.path(),
        "huge.csv",
        &(HEADER.to_string() + &rows.join("\n")),
    );
    let out = canary(&db, &["import", &file, "--symbol", "BTCUSDT"]);
    let err = stderr(&out);
    assert!(!out.status.success(), "imported: {err}");
    assert!(
        err.contains("huge.csv:22: open: 1e307 is above 1e12"),
        "{err}"
    );
    // Volumes of 1e308 (whose sum a resample turned into inf) are refused the same way.
    let mut rows = rows_4h(12);
    for r in &mut rows[..6] {
        let f: Vec<&str> = r.split(',').collect();
        *r = format!("{},{},{},{},{},1e308", f[0], f[1], f[2], f[3], f[4]);
    }
    let file = write(
        dir.path(),
        "vol.csv",
        &(HEADER.to_string() + &rows.join("\n")),
    );
    let out = canary(&db, &["import", &file, "--symbol", "BTCUSDT"]);
    let err = stderr(&out);
    assert!(
        !out.status.success() && err.contains("vol.csv:2: volume: 1e308 is above 1e18"),
        "{err}"
    );
}

#[test]
fn item8_levels_watch_and_analyze_neither_panic_nor_hang_on_huge_but_allowed_values() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    // 200 days of 4h bars, one of them reaching the largest price accepted.
    let mut rows = rows_4h(1200);
    let f: Vec<String> = rows[1100].split(',').map(str::to_string).collect();
    rows[1100] = format!("{},{},1e12,{},{},{}", f[0], f[1], f[3], f[4], f[5]);
    let file = write(
        dir.path(),
        "big.csv",
        &(HEADER.to_string() + &rows.join("\n")),
    );
    ok(&canary(&db, &["import", &file, "--symbol", "BTCUSDT"]));
    ok(&canary(
        &db,
        &[
            "resample", "--symbol", "BTCUSDT", "--from", "4h", "--to", "1d",
        ],
    ));
    let asof = "2025-07-20T00:00:00Z";
    for cmd in ["levels", "watch", "analyze", "stats"] {
        let out = canary_within(
            &db,
            &[cmd, "--symbol", "BTCUSDT", "--asof", asof],
            Duration::from_secs(60),
        );
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{cmd}: {err}");
        assert!(out.status.success(), "{cmd}: {err}");
    }
}

// Item 9: unbounded echo and memory on a huge field.

#[test]
fn item9_a_5_mb_field_is_refused_with_a_short_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let rows = rows_4h(3);
    let huge = "9".repeat(5 * 1024 * 1024);
    let text = format!("{HEADER}{}\n{huge},1,1,1,1,1\n{}\n", rows[0], rows[1]);
    let file = write(dir.path(), "wide.csv", &text);
    let out = canary(&db, &["import", &file, "--symbol", "BTCUSDT"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(err.len() < 600, "{} bytes of error", err.len());
    assert!(
        err.contains("wide.csv:3: the record is 5242890 bytes; at most 65536"),
        "{err}"
    );
    // A long field under the record's bound is quoted by an excerpt with its length.
    let long = "x".repeat(10_000);
    let text = format!("{HEADER}{}\n{},{long},1,1,1,1\n", rows[0], &rows[1][..20]);
    let file = write(dir.path(), "long.csv", &text);
    let out = canary(&db, &["import", &file, "--symbol", "BTCUSDT"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(err.len() < 600, "{} bytes of error: {err}", err.len());
    assert!(
        err.contains("long.csv:3: open: \"xxxx") && err.contains("…\" (10000 characters)"),
        "{err}"
    );
}
