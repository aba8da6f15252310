//! `canary markets`: the shared equity, index and Fear & Greed files imported, and the report
//! as of the crash morning checked against a computation that shares no code with Canary
//! (`markets_reference.py`, issue 22).

mod common;

use common::{canary, ok, shared};
use serde_json::Value;

const FILES: [&str; 3] = [
    "data/equities_daily_ohlcv_yahoo_2018-01_2026-05.csv",
    "data/us_indices_daily_fred_nasdaq100_sp500_2018-01_2026-08.csv",
    "data/fear_greed_index_daily_alternative_me_2018-02_2026-02.csv",
];

fn store(db: &std::path::Path) {
    let paths: Vec<String> = FILES
        .iter()
        .map(|f| shared(f).to_str().unwrap().to_string())
        .collect();
    let mut args = vec!["markets", "import"];
    args.extend(paths.iter().map(String::as_str));
    let out = ok(&canary(db, &args));
    assert_eq!(out.matches("imported ").count(), 3, "{out}");
    ok(&canary(
        db,
        &[
            "import",
            shared("data/btcusdt_binance_4h.csv").to_str().unwrap(),
            "--symbol",
            "BTCUSDT",
        ],
    ));
}

fn report(db: &std::path::Path, asof: &str) -> Value {
    let out = ok(&canary(
        db,
        &["markets", "--asof", asof, "--format", "json"],
    ));
    serde_json::from_str(&out).unwrap()
}

fn reference() -> Value {
    let python = std::env::var("CANARY_TEST_PYTHON").expect(
        "CANARY_TEST_PYTHON is not set: run `make test`, which makes .venv-test and points it there",
    );
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/markets_reference.py");
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg(shared("data"))
        .arg("2026-02-05")
        .output()
        .unwrap_or_else(|e| panic!("{python}: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn close_to(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-12 * b.abs().max(1.0),
        "{what}: {a} vs {b}"
    );
}

#[test]
fn the_crash_morning_knows_the_5_february_session_and_matches_an_independent_computation() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    store(&db);
    let r = report(&db, "2026-02-06T05:00:00Z");
    assert_eq!(r["session"], "2026-02-05T00:00:00Z", "{r}");
    let text = r.to_string();
    // Nothing from the 6 February US session before it closes: no US data claim dated then.
    let mut us_claims = 0;
    for c in r["claims"].as_object().unwrap().values() {
        let p = &c["provenance"];
        if p["series"].as_str().is_some_and(|s| s.starts_with("US:")) {
            us_claims += 1;
            assert!(p["time"].as_str().unwrap() < "2026-02-06", "{c}");
        }
    }
    assert!(us_claims >= 10, "{us_claims} US claims");
    // Each move resolves to the two imported closes (the file's 2026-02-04 and -05 rows).
    let moves: Vec<&Value> = r["indices"]
        .as_array()
        .unwrap()
        .iter()
        .chain(r["miners"].as_array().unwrap())
        .collect();
    for (ticker, prev, close) in [
        ("NDX", 24_891.2, 24_548.7),
        ("MARA", 8.28, 6.73),
        ("RIOT", 14.14, 12.06),
        ("CLSK", 10.22, 8.265),
        ("IREN", 44.94, 39.79),
    ] {
        let m = moves
            .iter()
            .find(|m| m["ticker"] == ticker)
            .unwrap_or_else(|| panic!("no {ticker} in {r}"));
        assert_eq!(m["day"], "2026-02-05T00:00:00Z");
        close_to(m["close"]["value"].as_f64().unwrap(), close, ticker);
        close_to(
            m["day_move"]["value"].as_f64().unwrap(),
            close / prev - 1.0,
            ticker,
        );
        let claim = m["day_move"]["claim"].as_str().unwrap();
        assert!(text.contains(claim));
    }
    // MARA's and CLSK's falls were their worst in three years of sessions.
    for t in ["MARA", "CLSK"] {
        let m = moves.iter().find(|m| m["ticker"] == t).unwrap();
        assert_eq!(m["rank_from_worst"]["value"], 1.0, "{t}");
    }

    // BTC priced at the US closes, correlation and beta against Python's.
    let py = reference();
    close_to(
        r["btc"]["close"]["value"].as_f64().unwrap(),
        py["btc_at_last_close"].as_f64().unwrap(),
        "BTC at the close",
    );
    let row = |w: u64| {
        r["correlations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["pair"] == "BTC–NDX" && c["window"] == w)
            .unwrap_or_else(|| panic!("no BTC–NDX {w} in {r}"))
            .clone()
    };
    let (c30, c90) = (row(30), row(90));
    close_to(
        c30["correlation"]["value"].as_f64().unwrap(),
        py["corr30"].as_f64().unwrap(),
        "corr30",
    );
    close_to(
        c30["beta"]["value"].as_f64().unwrap(),
        py["beta30"].as_f64().unwrap(),
        "beta30",
    );
    close_to(
        c90["correlation"]["value"].as_f64().unwrap(),
        py["corr90"].as_f64().unwrap(),
        "corr90",
    );
    close_to(
        c90["beta"]["value"].as_f64().unwrap(),
        py["beta90"].as_f64().unwrap(),
        "beta90",
    );
    close_to(
        c30["previous"]["value"].as_f64().unwrap(),
        py["corr30_before"].as_f64().unwrap(),
        "corr30 before",
    );
    assert_eq!(
        c30["from"],
        format!("{}T00:00:00Z", py["from30"].as_str().unwrap())
    );
    // The last aligned return of each: BTC's day move at the US closes is exp(r) − 1.
    let last = &py["last_returns"][2];
    close_to(
        r["btc"]["day_move"]["value"].as_f64().unwrap(),
        last[1].as_f64().unwrap().exp_m1(),
        "BTC's move over the session",
    );
    assert_eq!(r["fear_greed"]["value"]["value"], 9.0);
    assert_eq!(r["fear_greed"]["band"], "Extreme Fear");
    assert_eq!(r["basket"]["weighting"], "equal");

    // The 6 February session counts from its close, 21:00 UTC in winter.
    let before = report(&db, "2026-02-06T20:59:59Z");
    assert_eq!(before["session"], "2026-02-05T00:00:00Z");
    let after = report(&db, "2026-02-06T21:00:00Z");
    assert_eq!(after["session"], "2026-02-06T00:00:00Z");
}

/// Issue 22's "done when": the miners' analysis of the crash morning states the 5 February
/// moves of the miners and the Nasdaq-100, a BTC–Nasdaq correlation, Hash Ribbons from 2026
/// data and a cash break-even for every miner of `miners.toml`, and nothing of the 6 February
/// US session.
#[test]
fn the_miners_analysis_of_the_crash_places_it_in_its_markets() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    store(&db);
    let network = shared("data/btc_network_daily_hashrate_difficulty_2018-01_2026-02.csv");
    for series in ["hashrate", "difficulty"] {
        ok(&canary(
            &db,
            &[
                "network",
                "import",
                network.to_str().unwrap(),
                "--series",
                series,
            ],
        ));
    }
    let news = shared("data/news_2026-02-05_sources.csv");
    ok(&canary(&db, &["news", "import", news.to_str().unwrap()]));
    let args = [
        "analyze",
        "--symbol",
        "BTCUSDT",
        "--topic",
        "miners",
        "--asof",
        "2026-02-06T05:00:00Z",
        "--format",
    ];
    let md = ok(&canary(&db, &[&args[..], &["md"]].concat()));
    for part in [
        "In the US session of 2026-02-05, the Nasdaq-100 closed -1.4%",
        "MARA -18.7%",
        "RIOT -14.7%",
        "CLSK -19.1%",
        "IREN -11.5%",
        "Bitcoin's correlation to the Nasdaq-100 is 0.33",
        "Hash Ribbons read capitulation",
        "since 2026-01-06",
    ] {
        assert!(md.contains(part), "{part:?} missing from\n{md}");
    }
    // Hash rate is days old, not stale.
    assert!(!md.contains("hashrate_hs"), "{md}");
    // Every miner of the facts file has a cash break-even, published or estimated.
    let be = md
        .lines()
        .find(|l| l.starts_with("Miners' cash break-even prices"))
        .unwrap_or_else(|| panic!("no break-evens in\n{md}"));
    for t in [
        "MARA", "RIOT", "CLSK", "IREN", "CORZ", "CIFR", "HUT", "BITF", "WULF",
    ] {
        assert!(be.contains(&format!("{t} $")), "{t}: {be}");
    }
    assert!(be.contains("estimated by Canary"), "{be}");
    assert!(md.contains("CIFR holds too little BTC"), "{md}");
    // Every number of the text is a claim's; no US figure from the 6 February session.
    let doc: Value =
        serde_json::from_str(&ok(&canary(&db, &[&args[..], &["json"]].concat()))).unwrap();
    for c in doc["claims"].as_object().unwrap().values() {
        let p = &c["provenance"];
        if p["series"].as_str().is_some_and(|s| s.starts_with("US:")) {
            assert!(p["time"].as_str().unwrap() < "2026-02-06", "{c}");
        }
    }
}

/// Alert terms on the markets: an equity's move, the miners' basket and the correlation, each
/// as known at every 4h close, so the rule fires at the first close after the 5 February US
/// close (21:00 UTC) and not before, with the report's own figures.
#[test]
fn market_alert_terms_fire_after_the_us_close_with_the_reports_figures() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    store(&db);
    let rule = "equity_move(MARA) < -18 and basket_move() < -13 and correlation(NDX, 30) < 0.4";
    let out = ok(&canary(
        &db,
        &[
            "alerts",
            "backtest",
            rule,
            "--from",
            "2026-01-01",
            "--to",
            "2026-02-10",
            "--tf",
            "4h",
            "--format",
            "json",
        ],
    ));
    let doc: Value = serde_json::from_str(&out).unwrap();
    let firings = doc["firings"].as_array().unwrap();
    assert_eq!(firings.len(), 1, "{out}");
    let f = &firings[0];
    assert_eq!(f["notice"]["at"], "2026-02-06T00:00:00Z");
    let r = report(&db, "2026-02-06T05:00:00Z");
    let mara = r["miners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["ticker"] == "MARA")
        .unwrap();
    close_to(
        f["values"]["equity_move(MARA)"].as_f64().unwrap(),
        mara["day_move"]["value"].as_f64().unwrap() * 100.0,
        "MARA",
    );
    close_to(
        f["values"]["basket_move()"].as_f64().unwrap(),
        r["basket"]["day_move"]["value"].as_f64().unwrap() * 100.0,
        "basket",
    );
    let c30 = r["correlations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["pair"] == "BTC–NDX" && c["window"] == 30)
        .unwrap();
    close_to(
        f["values"]["correlation(NDX, 30)"].as_f64().unwrap(),
        c30["correlation"]["value"].as_f64().unwrap(),
        "correlation",
    );
    // A ticker with no prices is an error naming what to import.
    let out = canary(
        &db,
        &[
            "alerts",
            "backtest",
            "equity_move(ZZZ) < 1",
            "--from",
            "2026-01-01",
            "--tf",
            "4h",
        ],
    );
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("canary markets import"), "{e}");
}
