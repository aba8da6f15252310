//! Issue 19 (security and integrity), the import and command-line side: what a hostile tester
//! found on the release binary, one test per finding, each named after it. None reads the
//! shared data: every file is written here, in the test's own folder.

mod common;

use std::io::{Read, Write};
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
            let t = canary_model::Timestamp::from_millis(
                start + i64::try_from(i).unwrap() * 14_400_000,
            );
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

// Item 11: the import and command-line messages.

#[test]
fn item11_resample_to_the_same_timeframe_says_the_target_must_be_longer() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let file = write(
        dir.path(),
        "a.csv",
        &(HEADER.to_string() + &rows_4h(12).join("\n")),
    );
    ok(&canary(&db, &["import", &file, "--symbol", "BTCUSDT"]));
    let out = canary(
        &db,
        &[
            "resample", "--symbol", "BTCUSDT", "--from", "4h", "--to", "4h",
        ],
    );
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("must be longer than") && !err.contains("whole multiple of 4h"),
        "{err}"
    );
    // Said before looking for bars, and the other way round too.
    let out = canary(
        &db,
        &["resample", "--symbol", "NONE", "--from", "1d", "--to", "4h"],
    );
    assert!(
        stderr(&out).contains("must be longer than"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn item11_tf_1capital_m_is_refused_as_months_are_no_timeframe() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let file = write(
        dir.path(),
        "a.csv",
        &(HEADER.to_string() + &rows_4h(12).join("\n")),
    );
    let out = canary(&db, &["import", &file, "--symbol", "BTCUSDT", "--tf", "1M"]);
    let err = stderr(&out);
    assert!(!out.status.success(), "1M was taken: {}", ok(&out));
    assert!(
        err.contains("1m is a minute") && err.contains("months"),
        "{err}"
    );
    let out = canary(
        &db,
        &["resample", "--symbol", "X", "--from", "4h", "--to", "1M"],
    );
    assert!(stderr(&out).contains("months"), "{}", stderr(&out));
    // Lower case is a minute, and the other names still read case-insensitively.
    for tf in ["4H", "H4", "h4"] {
        let out = canary(
            &db,
            &[
                "import",
                &file,
                "--symbol",
                "BTCUSDT",
                "--tf",
                tf,
                "--dry-run",
            ],
        );
        assert!(out.status.success(), "{tf}: {}", stderr(&out));
    }
}

#[test]
fn item11_an_ambiguous_analysis_id_prefix_says_so_and_lists_matches() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    ok(&canary(
        &db,
        &[
            "simulate",
            "--tf",
            "4h",
            "--bars",
            "800",
            "--seed",
            "3",
            "--start",
            "2025-06-01T00:00:00Z",
            "--store",
        ],
    ));
    for asof in ["2025-10-01T00:00:00Z", "2025-10-02T00:00:00Z"] {
        let out = canary(&db, &["analyze", "--symbol", "BTCUSDT", "--asof", asof]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let list = ok(&canary(&db, &["analyses", "list", "--wide"]));
    let ids: Vec<&str> = list
        .split_whitespace()
        .filter(|w| w.len() == 17 && w.starts_with('a'))
        .collect();
    assert_eq!(ids.len(), 2, "{list}");
    let out = canary(&db, &["analyses", "show", "a"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("ambiguous")
            && err.contains("2 analyses")
            && ids.iter().all(|i| err.contains(i)),
        "{err}"
    );
    let out = canary(&db, &["analyses", "show", "azzz"]);
    assert!(
        stderr(&out).contains("no analysis azzz"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn item11_a_utf16_file_is_named_with_how_to_convert_it_and_a_utf8_bom_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let text = HEADER.to_string() + &rows_4h(12).join("\n") + "\n";
    let utf16 = |bom: bool, big: bool| {
        let mut b: Vec<u8> = Vec::new();
        let mut units = Vec::new();
        if bom {
            units.push(0xfeff_u16);
        }
        units.extend(text.encode_utf16());
        for u in units {
            b.extend(if big {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            });
        }
        b
    };
    for (name, bytes, says) in [
        ("le.csv", utf16(true, false), "UTF-16 (little-endian"),
        ("be.csv", utf16(true, true), "UTF-16 (big-endian"),
        ("nobom.csv", utf16(false, false), "UTF-16 (little-endian"),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let out = canary(&db, &["import", p.to_str().unwrap(), "--symbol", "X"]);
        let err = stderr(&out);
        assert!(!out.status.success());
        assert!(
            err.contains(says) && err.contains("iconv -f UTF-16") && !err.contains("invalid utf-8"),
            "{name}: {err}"
        );
    }
    let p = dir.path().join("bom.csv");
    std::fs::write(&p, [&[0xef, 0xbb, 0xbf][..], text.as_bytes()].concat()).unwrap();
    let out = ok(&canary(
        &db,
        &["import", p.to_str().unwrap(), "--symbol", "X"],
    ));
    assert!(out.starts_with("imported 12 bars"), "{out}");
}

#[test]
fn item11_a_semicolon_separated_file_gets_a_hint_and_reads_with_delimiter() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let text = (HEADER.to_string() + &rows_4h(12).join("\n")).replace(',', ";");
    let file = write(dir.path(), "semi.csv", &text);
    let out = canary(&db, &["import", &file, "--symbol", "X"]);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("semicolon-separated") && err.contains("--delimiter ';'"),
        "{err}"
    );
    let out = ok(&canary(
        &db,
        &["import", &file, "--symbol", "X", "--delimiter", ";"],
    ));
    assert!(out.starts_with("imported 12 bars"), "{out}");
    let tabs = write(dir.path(), "tabs.csv", &text.replace(';', "\t"));
    let err = stderr(&canary(&db, &["import", &tabs, "--symbol", "Y"]));
    assert!(err.contains("tab-separated"), "{err}");
    let out = canary(
        &db,
        &[
            "indicators",
            "--input",
            &file,
            "--delimiter",
            ";",
            "--ind",
            "rsi",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A loopback server answering `/good` with an RSS feed, `/gzip` with a gzip-compressed body
/// without Content-Encoding, and anything else with a 500 and binary bytes.
fn hostile_feeds() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let rss = std::fs::read(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../canary-ingest/tests/data/feeds/rss2.xml"),
    )
    .unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !String::from_utf8_lossy(&buf).contains("\r\n\r\n") {
                let n = s.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let req = String::from_utf8_lossy(&buf).to_ascii_lowercase();
            // Bytes a terminal would act on (clear the screen, set the title, ring).
            let binary = b"\x1b[2J\x1b]0;owned\x07\x00\xff\xfe".to_vec();
            let (status, body) = if req.starts_with("get /good") {
                ("200 OK", rss.clone())
            } else if req.starts_with("get /gzip") {
                // The gzip magic, then the same bytes.
                ("200 OK", [&b"\x1f\x8b\x08\x00"[..], &binary].concat())
            } else {
                ("500 Internal Server Error", binary)
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    format!("http://{addr}")
}

#[test]
fn item11_a_gzip_feed_body_is_never_printed_raw() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("n.db");
    let base = hostile_feeds();
    let (gz, broken) = (format!("{base}/gzip"), format!("{base}/broken"));
    ok(&canary(&db, &["news", "feeds", "add", &gz]));
    ok(&canary(&db, &["news", "feeds", "add", &broken]));
    let out = canary(&db, &["news", "poll", "--all"]);
    let list = canary(&db, &["news", "feeds", "list", "--wide"]);
    for o in [&out, &list] {
        let all = [&o.stdout[..], &o.stderr[..]].concat();
        assert!(
            !all.iter()
                .any(|&b| b == 0x1b || b == 0x07 || b == 0x1f || b == 0),
            "raw bytes printed: {}",
            String::from_utf8_lossy(&all)
        );
        assert!(
            !String::from_utf8_lossy(&all).contains('\u{fffd}'),
            "{}",
            String::from_utf8_lossy(&all)
        );
    }
    let text = String::from_utf8_lossy(&[&out.stdout[..], &out.stderr[..]].concat()).into_owned();
    assert!(
        text.contains("gzip-compressed body that the server sent without Content-Encoding"),
        "{text}"
    );
    assert!(
        text.contains("HTTP 500") && text.contains("binary"),
        "{text}"
    );
}

#[test]
fn item11_news_poll_fails_when_any_feed_fails_and_keeps_what_the_others_brought() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("n.db");
    let base = hostile_feeds();
    let (good, bad) = (format!("{base}/good"), format!("{base}/down"));
    ok(&canary(&db, &["news", "feeds", "add", &good]));
    ok(&canary(&db, &["news", "feeds", "add", &bad]));
    let out = canary(&db, &["news", "poll", "--all"]);
    let err = stderr(&out);
    assert!(!out.status.success(), "exit 0 with a failed feed: {err}");
    assert!(
        err.contains("1 of 2 feeds failed") && err.contains(&format!("{bad}: HTTP 500")),
        "{err}"
    );
    let items = ok(&canary(
        &db,
        &[
            "news",
            "list",
            "--asof",
            "2026-02-06T05:00:00Z",
            "--format",
            "csv",
        ],
    ));
    assert_eq!(parse_csv(&items).1.len(), 2, "{items}");
}

// Item 12: the gaps and the timeframe of an import.

#[test]
fn item12_an_import_reports_the_gap_between_stored_bars_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let rows = rows_4h(200);
    let first = write(
        dir.path(),
        "first.csv",
        &(HEADER.to_string() + &rows[..60].join("\n")),
    );
    // 16 days (96 bars) later.
    let later = write(
        dir.path(),
        "later.csv",
        &(HEADER.to_string() + &rows[156..].join("\n")),
    );
    ok(&canary(&db, &["import", &first, "--symbol", "X"]));
    let out = ok(&canary(&db, &["import", &later, "--symbol", "X"]));
    assert!(out.contains("1 gaps") && out.contains("(96 bars)"), "{out}");
    // And the gap after the file, before bars already stored.
    let before = write(
        dir.path(),
        "before.csv",
        &(HEADER.to_string() + &rows[70..80].join("\n")),
    );
    let out = ok(&canary(&db, &["import", &before, "--symbol", "X"]));
    assert!(
        out.contains("2 gaps") && out.contains("(10 bars)") && out.contains("(76 bars)"),
        "{out}"
    );
}

#[test]
fn item12_a_4h_file_with_one_bar_an_hour_after_the_previous_is_not_taken_for_1h() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let text = format!(
        "{HEADER}2025-01-01T00:00:00Z,10,11,9,10,1\n2025-01-01T04:00:00Z,10,11,9,10,1\n2025-01-01T05:00:00Z,10,11,9,10,1\n"
    );
    let file = write(dir.path(), "odd.csv", &text);
    let out = canary(&db, &["import", &file, "--symbol", "X"]);
    let err = stderr(&out);
    assert!(!out.status.success(), "stored: {}", ok(&out));
    assert!(err.contains("odd.csv") && err.contains("--tf"), "{err}");
    // Told the timeframe, the odd bar is named by its line.
    let out = canary(&db, &["import", &file, "--symbol", "X", "--tf", "4h"]);
    assert!(
        stderr(&out).contains("odd.csv:4: time:"),
        "{}",
        stderr(&out)
    );
}
