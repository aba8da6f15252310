//! `canary score` and `canary backtest scores` on the real daily bars and the headlines of
//! 2026-02-05: the waterfall as of the morning after the crash, with the components that had
//! data and their coverage; the probability fitted only on what was known; determinism; the
//! daily history; the track record.

mod common;

use std::path::Path;

use common::{assert_report, canary, import_1d, ok, parse_csv, shared};

const ASOF: &str = "2026-02-06T05:00:00Z";

fn store(db: &Path) {
    import_1d(db);
    let n = shared("data/news_2026-02-05_sources.csv");
    ok(&canary(db, &["news", "import", n.to_str().unwrap()]));
}

#[test]
fn shared_data_score_as_of_the_crash_shows_its_waterfall() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    store(&db);
    let args = [
        "score", "--symbol", "BTCUSDT", "--asof", ASOF, "--format", "json",
    ];
    let text = ok(&canary(&db, &args));
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_report(&doc, ASOF);
    assert_eq!(doc["method"], "canary-risk-pulse v1");
    assert_eq!(doc["day"], "2026-02-05T00:00:00Z");
    let risk = doc["risk"].as_f64().unwrap();
    assert!((80.0..=100.0).contains(&risk), "risk {risk}");
    assert_eq!(doc["threat"], 5);
    assert_eq!(doc["band"], "Extreme High");
    assert_eq!(doc["label"], "bearish");
    // Derivatives data is absent, so its components are missing and coverage is partial.
    let comps = doc["components"].as_array().unwrap();
    let get = |k: &str, s: &str| {
        comps
            .iter()
            .find(|c| c["key"] == k && c["score"] == s)
            .unwrap()
    };
    assert!(get("funding_z", "risk")["missing"].is_string());
    assert!(get("liquidated_share_oi", "risk")["missing"].is_string());
    assert!(get("realised_vol_30d", "risk")["value"].is_number());
    // The day's news counts: the four bearish items about bitcoin.
    let news = get("news_sentiment", "risk");
    assert!(news["raw"].as_f64().unwrap() < -0.5, "{news}");
    let cov = doc["risk_coverage"].as_f64().unwrap();
    assert!(cov > 0.4 && cov < 1.0, "{cov}");
    // Risk derives from the normalised components, each from its raw value.
    let claims = &doc["claims"];
    let r = &claims[doc["risk_claim"].as_str().unwrap()];
    assert_eq!(r["provenance"]["method"], "score_composite");
    let first = r["provenance"]["inputs"][0].as_str().unwrap();
    assert_eq!(claims[first]["provenance"]["method"], "score_normalise");
    // The probability was fitted on days whose 7-day windows had closed by the time.
    let p = &doc["probability"];
    let v = p["value"].as_f64().unwrap();
    assert!(v > 0.0 && v < 1.0);
    let fit_to = p["fit_to"].as_str().unwrap();
    assert!(fit_to <= "2026-01-29T00:00:00Z", "{fit_to}");
    // The same inputs give the same bytes.
    assert_eq!(ok(&canary(&db, &args)), text);
    // The table says the same, with the missing components named.
    let t = ok(&canary(
        &db,
        &["score", "--symbol", "BTCUSDT", "--asof", ASOF],
    ));
    assert!(
        t.contains("Threat 5/5") && t.contains("missing: no data stored for it"),
        "{t}"
    );
}

#[test]
fn shared_data_score_history_and_track_record() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    store(&db);
    let csv = ok(&canary(
        &db,
        &[
            "score",
            "--symbol",
            "BTCUSDT",
            "--asof",
            ASOF,
            "--from",
            "2026-01-01",
            "--to",
            "2026-02-05",
            "--format",
            "csv",
        ],
    ));
    let (h, rows) = parse_csv(&csv);
    assert_eq!(h[..5], ["day", "risk", "threat", "pulse", "label"]);
    assert_eq!(rows.len(), 36);
    assert_eq!(rows[35][0], "2026-02-05T00:00:00Z");
    // The history's last day is the score as of the next morning.
    let last_risk: f64 = rows[35][1].parse().unwrap();
    let doc: serde_json::Value = serde_json::from_str(&ok(&canary(
        &db,
        &[
            "score", "--symbol", "BTCUSDT", "--asof", ASOF, "--format", "json",
        ],
    )))
    .unwrap();
    assert!((doc["risk"].as_f64().unwrap() - last_risk).abs() < 1e-3);

    let md = ok(&canary(
        &db,
        &[
            "backtest", "scores", "--symbol", "BTCUSDT", "--to", ASOF, "--reps", "200",
        ],
    ));
    for part in [
        "# Track record of canary-risk-pulse v1",
        "independent episodes",
        "30-day realised volatility percentile",
        "Reliability of its probability",
        "Deciles:",
        "## 90-day drawdown percentile",
        "NSR",
    ] {
        assert!(md.contains(part), "{part} missing from\n{md}");
    }
    let doc: serde_json::Value = serde_json::from_str(&ok(&canary(
        &db,
        &[
            "backtest", "scores", "--symbol", "BTCUSDT", "--to", ASOF, "--reps", "200", "--format",
            "json",
        ],
    )))
    .unwrap();
    assert_report(&doc, ASOF);
    assert!(doc["days"].as_u64().unwrap() > 2000);
    let auc = doc["score"]["auc"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&auc));
    assert!(doc["last_day"].as_str().unwrap() < ASOF);
    // The candidates are judged on the same days, against volatility calibrated as they are.
    let c = doc["candidates"].as_array().unwrap();
    assert_eq!(c.len(), 4);
    assert!(
        c[0]["name"]
            .as_str()
            .unwrap()
            .contains("logistic calibration")
    );
    assert_eq!(
        c[0]["auc"], doc["score"]["auc"],
        "calibration keeps the ranking"
    );
    for t in [&doc["score"], &c[0], &c[3]] {
        let g = t["brier_gain_interval"].as_array().unwrap();
        assert!(g[0].as_f64().unwrap() <= g[1].as_f64().unwrap());
    }
    assert!(c[1]["brier_gain_interval"].is_null());
    assert!(md.contains("weights learned walk-forward"));
}

#[test]
fn score_flags_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    for bad in [
        ["--drawdown", "0%"],
        ["--drawdown", "x"],
        ["--horizon", "0d"],
        ["--horizon", "400"],
    ] {
        let o = canary(&db, &["score", "--symbol", "BTCUSDT", bad[0], bad[1]]);
        assert!(!o.status.success(), "{bad:?} accepted");
    }
    let m = dir.path().join("m.toml");
    std::fs::write(&m, "id = \"x\"\n").unwrap();
    let o = canary(
        &db,
        &[
            "score",
            "--symbol",
            "BTCUSDT",
            "--method",
            m.to_str().unwrap(),
        ],
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("m.toml"),
        "{o:?}"
    );
}

/// docs/track-record.md's comparison with the Crypto Fear & Greed Index: the index as fear,
/// calibrated like the baselines, and Risk on the same days, to 2026-06-15.
#[test]
fn the_fear_and_greed_comparison_holds() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.db");
    import_1d(&db);
    let fg = shared("data/fear_greed_index_daily_alternative_me_2018-02_2026-02.csv");
    ok(&canary(&db, &["markets", "import", fg.to_str().unwrap()]));
    let doc: serde_json::Value = serde_json::from_str(&ok(&canary(
        &db,
        &[
            "backtest",
            "scores",
            "--symbol",
            "BTCUSDT",
            "--to",
            "2026-06-15T00:00:00Z",
            "--format",
            "json",
        ],
    )))
    .unwrap();
    let close = |a: &serde_json::Value, b: f64| (a.as_f64().unwrap() - b).abs() <= 1e-9 * b.abs();
    // The main run is unchanged by the index being stored.
    assert_eq!(doc["days"], 2510);
    assert!(close(&doc["score"]["auc"], 0.595_055_352_675_618_9));
    let g = &doc["fear_greed"];
    assert_eq!(g["days"], 2395);
    assert_eq!(g["first_day"], "2019-07-25T00:00:00Z");
    assert_eq!(g["last_day"], "2026-02-13T00:00:00Z");
    let (risk, gauge) = (&g["risk"], &g["gauge"]);
    assert!(close(&risk["auc"], 0.603_574_586_333_207));
    assert!(close(
        &risk["auc_gain_interval"][0],
        0.001_405_935_974_441_275_1
    ));
    assert!(close(
        &risk["auc_gain_interval"][1],
        0.128_021_681_867_286_85
    ));
    assert!(close(&risk["brier"], 0.141_309_768_593_714_16));
    assert!(close(&gauge["auc"], 0.542_124_542_124_542_1));
    assert!(close(&gauge["auc_interval"][0], 0.475_696_733_389_422_4));
    assert!(close(&gauge["brier_skill"], 0.001_128_707_470_999_135_2));
}

/// docs/track-record.md's two published runs, to 2026-06-15: every line of their tables and
/// their "Event:" line appears, byte for byte, in what the documented commands print today.
/// A change to the method or the data that moves a published figure fails here, and the
/// document must be rerun and updated with it.
#[test]
fn the_published_track_record_holds() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/track-record.md"),
    )
    .unwrap();
    let section = |from: &str, to: &str| -> Vec<String> {
        let start = doc
            .find(from)
            .unwrap_or_else(|| panic!("no {from:?} in the document"));
        let rest = &doc[start..];
        let end = rest.find(to).unwrap_or(rest.len());
        rest[..end]
            .lines()
            .filter(|l| l.starts_with("| ") || l.starts_with("Event:"))
            .map(str::to_string)
            .collect()
    };
    let market = section(
        "## Result: market components only",
        "## Result: with the network components",
    );
    let network = section(
        "## Result: with the network components",
        "## Pre-registered",
    );
    assert!(
        market.len() > 100 && network.len() >= 8,
        "{} {}",
        market.len(),
        network.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let run = || {
        ok(&canary(
            &db,
            &[
                "backtest",
                "scores",
                "--symbol",
                "BTCUSDT",
                "--to",
                "2026-06-15T00:00:00Z",
            ],
        ))
    };
    import_1d(&db);
    let out = run();
    let printed: std::collections::BTreeSet<&str> = out.lines().collect();
    for line in &market {
        assert!(
            printed.contains(line.as_str()),
            "published, not printed now:\n{line}\n\n{out}"
        );
    }
    for (file, series) in [
        ("data/network_hashrate_daily.csv", "hashrate"),
        ("data/network_blockreward_daily.csv", "subsidy"),
        (
            "data/network_fleet_efficiency_cbeci_daily.csv",
            "fleet-efficiency",
        ),
    ] {
        let f = shared(file);
        ok(&canary(
            &db,
            &["network", "import", f.to_str().unwrap(), "--series", series],
        ));
    }
    let out = run();
    let printed: std::collections::BTreeSet<&str> = out.lines().collect();
    for line in &network {
        assert!(
            printed.contains(line.as_str()),
            "published, not printed now:\n{line}\n\n{out}"
        );
    }
}
