//! `canary watch` on the real 4h bars (daily bars built from them) as of the morning after
//! the 2026-02-05 crash: one support, one trapdoor, one resistance, disjoint, with triggers
//! as claims; the momentum line on the 4h chart.

mod common;

use common::{assert_report, canary, import_4h, ok};

const ASOF: &str = "2026-02-06T05:00:00Z";

#[test]
fn shared_data_watch_the_morning_after_the_crash() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    import_4h(&db);
    let text = ok(&canary(
        &db,
        &[
            "watch", "--symbol", "BTCUSDT", "--asof", ASOF, "--format", "json",
        ],
    ));
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_report(&doc, ASOF);
    let price = doc["price"].as_f64().unwrap();
    assert!((price - 64_168.33).abs() < 0.01, "{price}");
    let zone = |k: &str| {
        let z = doc[k]["zone"]
            .as_array()
            .unwrap_or_else(|| panic!("no {k}: {doc}"));
        (z[0].as_f64().unwrap(), z[1].as_f64().unwrap())
    };
    let (s, t, r) = (zone("support"), zone("trapdoor"), zone("resistance"));
    // Pinned: where the 4h and daily levels agree, and the shelf below the thin gap.
    let near = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).abs() < 1.0 && (a.1 - b.1).abs() < 1.0;
    assert!(near(s, (59_743.21, 60_618.65)), "support {s:?}");
    assert!(near(t, (52_454.14, 54_016.79)), "trapdoor {t:?}");
    assert!(near(r, (72_745.21, 73_564.15)), "resistance {r:?}");
    // Disjoint, on their sides, the trapdoor below the support.
    assert!(t.1 < s.0 && s.1 < price && price < r.0);
    // Triggers are claims an alert rule can use.
    let trig = &doc["support"]["broken_if"];
    assert_eq!(trig["comparison"], "<");
    assert_eq!(trig["timeframe"], "1d");
    let c = &doc["claims"][trig["claim"].as_str().unwrap()];
    assert_eq!(c["provenance"]["method"], "watch_trigger");
    assert!((c["value"].as_f64().unwrap() - trig["line"].as_f64().unwrap()).abs() < 1e-9);
    // The gap above the trapdoor is thin.
    assert!(doc["trapdoor"]["gap_volume_share"].as_f64().unwrap() < 0.5);
    // Momentum on the 4h chart: oversold after the crash.
    assert_eq!(doc["momentum"]["timeframe"], "4h");
    assert_eq!(doc["momentum"]["state"], "oversold");
    // The table says the same.
    let t = ok(&canary(
        &db,
        &["watch", "--symbol", "BTCUSDT", "--asof", ASOF, "--wide"],
    ));
    assert!(
        t.contains("trapdoor") && t.contains("broken if 1d close < 57679.63"),
        "{t}"
    );
}

#[test]
fn shared_data_watch_history_shows_triggers_that_fired_before_the_crash() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    import_4h(&db);
    let text = ok(&canary(
        &db,
        &[
            "watch",
            "--symbol",
            "BTCUSDT",
            "--history",
            "--from",
            "2026-01-26",
            "--step",
            "7d",
            "--asof",
            "2026-03-01T00:00:00Z",
            "--format",
            "json",
        ],
    ));
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_report(&doc, "2026-03-01T00:00:00Z");
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 5);
    // The Watch of 2026-01-26 had its support break on 2026-02-01, 12 % lower a week later,
    // and the trapdoor reached on the crash day.
    let first = &rows[0];
    assert_eq!(first["asof"], "2026-01-26T00:00:00Z");
    assert_eq!(first["support_broken"]["fired_at"], "2026-02-01T00:00:00Z");
    assert!(first["support_broken"]["followed_pct"].as_f64().unwrap() < -10.0);
    assert_eq!(first["trapdoor_reached_at"], "2026-02-05T20:00:00Z");
    // Nothing is judged on bars after the report's time: the last row's move a week after
    // its firing is not known yet.
    let last = rows.last().unwrap();
    assert!(last["support_broken"]["followed_pct"].is_null());
}
