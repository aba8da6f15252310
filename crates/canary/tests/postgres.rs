//! The command line on a PostgreSQL store (`--db postgres://…`), against a real server:
//! the one `CANARY_TEST_POSTGRES` names (`postgres://USER@HOST:PORT`), which `make test`
//! starts on loopback (scripts/test-postgres.sh). The same data imported into PostgreSQL and
//! into SQLite must give the same answers, byte for byte.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{PgDatabase as Database, ok, shared};

/// `canary --db STORE ARGS` run in `dir` (where a PostgreSQL store keeps its search index).
fn canary(dir: &Path, store: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_canary"))
        .current_dir(dir)
        .args(["--db", store])
        .args(args)
        .env_remove("CANARY_DB")
        .env_remove("PGPASSWORD")
        .output()
        .expect("the canary binary runs")
}

const ASOF: &str = "2026-02-06T05:00:00Z";

#[test]
fn shared_data_postgresql_answers_as_sqlite_does() {
    let pg = Database::new("same");
    let dir = tempfile::tempdir().unwrap();
    let url = pg.url();
    let stores = [url.as_str(), "canary.db"];
    let four_h = shared("data/btcusdt_binance_4h.csv");
    let daily = shared("data/btcusdt_binance_1d.csv");
    let news = shared("data/news_2026-02-05_sources.csv");
    let funding = shared("data/btcusdt_perp_funding_8h_binance_2019-09_2026-04.csv");
    let mut imports: Vec<Vec<String>> = vec![
        vec!["import".into(), four_h.display().to_string()],
        vec!["import".into(), daily.display().to_string()],
    ];
    for v in &mut imports {
        v.extend(["--symbol".into(), "BTCUSDT".into()]);
    }
    imports.push(vec![
        "news".into(),
        "import".into(),
        news.display().to_string(),
    ]);
    imports.push(vec![
        "derivatives".into(),
        "import".into(),
        funding.display().to_string(),
    ]);
    for (file, series) in [
        ("data/network_hashrate_daily.csv", "hashrate"),
        ("data/network_difficulty_daily_2020-2025.csv", "difficulty"),
        ("data/network_blockreward_daily.csv", "subsidy"),
    ] {
        imports.push(vec![
            "network".into(),
            "import".into(),
            shared(file).display().to_string(),
            "--series".into(),
            series.into(),
        ]);
    }
    for store in stores {
        for args in &imports {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            ok(&canary(dir.path(), store, &args));
        }
    }
    // Every kind the analysis reads: bars of two timeframes in blocks and rows, the network
    // series, funding, news and its index; then the stored analyses themselves.
    let reports: &[&[&str]] = &[
        &["series"],
        &[
            "stats", "--symbol", "BTCUSDT", "--asof", ASOF, "--format", "json",
        ],
        &[
            "watch", "--symbol", "BTCUSDT", "--asof", ASOF, "--format", "json",
        ],
        &["network", "--asof", ASOF, "--format", "json"],
        &["derivatives", "--asof", ASOF, "--format", "json"],
        &["news", "search", "miners", "--asof", ASOF],
        &[
            "analyze", "--symbol", "BTCUSDT", "--topic", "miners", "--asof", ASOF, "--format", "md",
        ],
        &["analyses", "list"],
    ];
    for args in reports {
        let [on_pg, on_sqlite] = stores.map(|s| ok(&canary(dir.path(), s, args)));
        assert!(!on_pg.trim().is_empty(), "{args:?} says something");
        assert_eq!(on_pg, on_sqlite, "{args:?} on PostgreSQL and on SQLite");
    }
    assert!(
        dir.path().join(format!("{}.search", pg.name)).is_dir(),
        "the search index of a PostgreSQL store is a folder named after its database"
    );
}

/// A server that cannot be reached is named, without the password given in its address.
#[test]
fn an_unreachable_server_is_named_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = canary(
        dir.path(),
        "postgres://canary:hunter2@127.0.0.1:1/canary",
        &["series"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot connect to the database at postgres://canary@127.0.0.1:1/canary"),
        "{err}"
    );
    assert!(err.contains("is the server running"), "{err}");
    assert!(
        !err.contains("hunter2"),
        "the password is never shown: {err}"
    );
}
