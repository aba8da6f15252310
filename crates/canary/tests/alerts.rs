//! `canary alerts backtest` on the real 4h bars: rules run over history through the alert
//! state machine, firing at the right bar closes, once per episode, with cooldown and
//! hysteresis; parse errors point at the column.

mod common;

use common::{assert_report, canary, import_4h, ok};

const TO: &str = "2026-03-01T00:00:00Z";

fn fired(db: &std::path::Path, args: &[&str]) -> Vec<String> {
    let mut a = vec!["alerts", "backtest"];
    a.extend_from_slice(args);
    a.extend(["--to", TO, "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&ok(&canary(db, &a))).unwrap();
    assert_report(&doc, TO);
    doc["firings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["notice"]["kind"] == "fired")
        .map(|f| f["notice"]["at"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn shared_data_rules_fire_at_the_right_closes_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    import_4h(&db);
    // Daily RSI below 30: the November dip and the February crash.
    let rsi = fired(&db, &["BTCUSDT.rsi14.1d < 30", "--from", "2025-10-01"]);
    assert_eq!(
        rsi,
        [
            "2025-11-18T00:00:00Z",
            "2025-11-20T00:00:00Z",
            "2026-02-01T00:00:00Z",
            "2026-02-13T00:00:00Z"
        ]
    );
    // A hysteresis band of 3 RSI points: the RSI that hovered near 30 in November fires once;
    // February's second dip came after a recovery past 33, and fires again.
    let banded = fired(
        &db,
        &[
            "BTCUSDT.rsi14.1d < 30",
            "--from",
            "2025-10-01",
            "--band",
            "3",
        ],
    );
    assert_eq!(
        banded,
        [
            "2025-11-18T00:00:00Z",
            "2026-02-01T00:00:00Z",
            "2026-02-13T00:00:00Z"
        ]
    );
    // A cooldown of 14 days keeps both re-entries quiet.
    let cooled = fired(
        &db,
        &[
            "BTCUSDT.rsi14.1d < 30",
            "--from",
            "2025-10-01",
            "--cooldown",
            "14d",
        ],
    );
    assert_eq!(cooled, ["2025-11-18T00:00:00Z", "2026-02-01T00:00:00Z"]);
    // Threat at 4 or more, once per episode, fired before the crash day.
    let threat = fired(&db, &["threat(BTCUSDT) >= 4", "--from", "2026-01-01"]);
    assert_eq!(threat[0], "2026-01-21T00:00:00Z");
    assert!(
        threat.iter().all(|t| t.as_str() < "2026-02-05"),
        "{threat:?}"
    );
    // A close breaking the support known when the day began.
    let broke = fired(
        &db,
        &[
            "crosses_below(BTCUSDT.close, watch.support)",
            "--from",
            "2026-01-25",
        ],
    );
    assert!(
        broke.contains(&"2026-02-01T00:00:00Z".to_string()),
        "{broke:?}"
    );
}

#[test]
fn rules_that_do_not_parse_point_at_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    import_4h(&db);
    let o = canary(
        &db,
        &[
            "alerts",
            "backtest",
            "BTCUSDT.clos < 3",
            "--from",
            "2026-01-01",
        ],
    );
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("column 9: unknown field clos") && e.contains("\n          ^"),
        "{e}"
    );
    let o = canary(
        &db,
        &[
            "alerts",
            "backtest",
            "ETHUSDT.close < 3",
            "--from",
            "2026-01-01",
        ],
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no ETHUSDT 1d bars"),
        "{o:?}"
    );
}
