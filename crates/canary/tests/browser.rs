//! The pages in a real browser: Debian's chromium driven by playwright-core (npm), both
//! installed by `make test` (scripts/test-browser.sh). The real data stored with its miners'
//! analysis of the crash morning, `canary serve` with a live simulated market beside it, and
//! `tests/browser/pages.mjs` checking the feed, the analysis page (sections, claims on hover),
//! the dashboard (the Watch on the chart, the derivatives panes and the liquidation map, the
//! miners' slider) and its live updates, and an
//! alert created in the page from a level, tried on history, saved and delivered to a webhook
//! receiver on loopback.
//! Screenshots of each page go to target/browser-screenshots.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{canary, import_4h, import_network, ok, shared};

#[test]
fn shared_data_the_pages_in_a_browser() {
    let chromium = std::env::var("CANARY_CHROMIUM").expect(
        "CANARY_CHROMIUM is not set: run `make test`, which installs chromium and playwright-core",
    );
    let modules = std::env::var("CANARY_NODE_MODULES")
        .expect("CANARY_NODE_MODULES is not set: run `make test`");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("b.db");
    import_4h(&db);
    import_network(&db);
    let n = shared("data/news_2026-02-05_sources.csv");
    ok(&canary(&db, &["news", "import", n.to_str().unwrap()]));
    let derivatives: Vec<String> = [
        "data/btcusdt_perp_funding_8h_binance_2019-09_2026-04.csv",
        "data/btc_open_interest_daily_coinglass_all_exchanges_2020-02_2025-11.csv",
        "data/btc_liquidations_daily_coinglass_binance_2020-12_2025-11.csv",
    ]
    .iter()
    .map(|f| shared(f).to_str().unwrap().to_string())
    .collect();
    let mut args = vec!["derivatives", "import"];
    args.extend(derivatives.iter().map(String::as_str));
    ok(&canary(&db, &args));
    let doc: serde_json::Value = serde_json::from_str(&ok(&canary(
        &db,
        &[
            "analyze",
            "--symbol",
            "BTCUSDT",
            "--topic",
            "miners",
            "--asof",
            "2026-02-06T05:00:00Z",
            "--format",
            "json",
        ],
    )))
    .unwrap();
    let id = doc["id"].as_str().unwrap().to_string();
    let live = dir.path().join("live.toml");
    std::fs::write(
        &live,
        "speed = 120\n[[market]]\nsymbol = \"SIMUSDT\"\ntimeframes = [\"1m\"]\n\n\
         [[source]]\ntype = \"simulator\"\nsymbol = \"SIMUSDT\"\ntimeframe = \"1m\"\nbars = 2000\nscenario = \"calm\"\n\n\
         [alerts]\nallow_private = true\n",
    )
    .unwrap();
    // The token the page is given, as the operator would hand it over.
    let token = ok(&canary(&db, &["tokens", "create", "--name", "browser"]))
        .trim()
        .to_string();
    let server = common::Server::start(&db, &["--run", live.to_str().unwrap()]);
    let base = server.base.clone();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../browser-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser/pages.mjs");
    let (hook, got) = common::receiver(0);
    let out = Command::new("node")
        .arg(&script)
        .arg(&base)
        .arg(&id)
        .arg(&shots)
        .arg(&hook)
        .arg(&token)
        .env("CANARY_CHROMIUM", &chromium)
        .env("CANARY_NODE_MODULES", &modules)
        .output()
        .expect("node runs");
    drop(server);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.ends_with("ok\n"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for png in [
        "feed.png",
        "analysis.png",
        "dashboard.png",
        "alerts.png",
        "live.png",
    ] {
        assert!(shots.join(png).metadata().unwrap().len() > 10_000, "{png}");
    }
    // The rule created in the page was delivered to the webhook.
    let got = got.lock().unwrap();
    let body: serde_json::Value = serde_json::from_str(&got[0].body).unwrap();
    assert!(got[0].line.starts_with("POST /browser"), "{}", got[0].line);
    assert_eq!(body["rule"], "SIMUSDT.close > 0");
}
