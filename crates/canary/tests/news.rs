//! `canary news` end to end: the real headlines of 2026-02-05 tagged and ranked as of the
//! morning after, point in time, stories and search with their claims, feeds polled from a
//! loopback server (new items, then 304), sentiment of a headline file, and the evaluation.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use common::{assert_report, canary, ok, parse_csv, shared};

const ASOF: &str = "2026-02-06T05:00:00Z";

fn news_data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../canary-news/tests/data")
        .join(name)
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn import_sources(db: &Path) {
    let f = shared("data/news_2026-02-05_sources.csv");
    let out = ok(&canary(db, &["news", "import", f.to_str().unwrap()]));
    assert!(out.contains("5 items read, 5 new"), "{out}");
}

#[test]
fn shared_data_news_of_the_crash_is_tagged_and_ranked_for_miners() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("n.db");
    import_sources(&db);
    // Importing again adds nothing.
    let f = shared("data/news_2026-02-05_sources.csv");
    let again = ok(&canary(&db, &["news", "import", f.to_str().unwrap()]));
    assert!(
        again.contains("0 new") && again.contains("5 already stored"),
        "{again}"
    );

    let doc = json(&ok(&canary(
        &db,
        &[
            "news",
            "list",
            "--asof",
            ASOF,
            "--asset",
            "BTC",
            "--topic",
            "bitcoin-miners",
            "--format",
            "json",
        ],
    )));
    let warnings = assert_report(&doc, ASOF);
    assert!(warnings.is_empty(), "{warnings:?}");
    let items = doc["items"].as_array().unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 5);
    // n5 (Ethereum layer-2s) ranks last, with no relevance at all.
    assert_eq!(ids[4], "n5", "{ids:?}");
    let rel = |id: &str| {
        items.iter().find(|i| i["id"] == id).unwrap()["relevance"]
            .as_f64()
            .unwrap()
    };
    assert_eq!(rel("n5"), 0.0);
    for id in ["n1", "n2", "n3", "n4"] {
        assert!(rel(id) > rel("n5"), "{id}");
    }
    let mut tags = std::collections::BTreeSet::new();
    for i in items.iter().filter(|i| i["id"] != "n5") {
        for t in i["tags"].as_array().unwrap() {
            tags.insert(t["name"].as_str().unwrap().to_string());
        }
    }
    for t in [
        "bitcoin-miners",
        "liquidations",
        "debt-risk",
        "crypto-crash",
        "MARA",
        "IREN",
        "CLSK",
        "MSTR",
    ] {
        assert!(tags.contains(t), "{t} missing from {tags:?}");
    }
    // Every item is a data claim citing its outlet; sentiment and relevance derive from it.
    let n3 = items.iter().find(|i| i["id"] == "n3").unwrap();
    let claim = &doc["claims"][n3["item_claim"].as_str().unwrap()];
    assert_eq!(claim["provenance"]["series"], "news coindesk.com");
    let s = &doc["claims"][n3["sentiment_claim"].as_str().unwrap()];
    assert_eq!(s["provenance"]["method"], "news_sentiment_vader_crypto");
    assert_eq!(s["provenance"]["inputs"][0], n3["item_claim"]);

    // --min-relevance drops n5; --tag filters.
    let csv = ok(&canary(
        &db,
        &[
            "news",
            "list",
            "--asof",
            ASOF,
            "--asset",
            "BTC",
            "--topic",
            "bitcoin-miners",
            "--min-relevance",
            "0.5",
            "--format",
            "csv",
        ],
    ));
    let (h, rows) = parse_csv(&csv);
    assert_eq!(h[0], "id");
    assert_eq!(rows.len(), 4);
    let tagged = ok(&canary(
        &db,
        &[
            "news", "list", "--asof", ASOF, "--tag", "mstr", "--format", "csv",
        ],
    ));
    assert_eq!(parse_csv(&tagged).1.len(), 1);
}

#[test]
fn shared_data_news_is_point_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("n.db");
    import_sources(&db);
    // Dated 2026-02-05 without a time: available at the end of that day, not before.
    let before = canary(
        &db,
        &[
            "news",
            "list",
            "--asof",
            "2026-02-05T23:00:00Z",
            "--format",
            "json",
        ],
    );
    let doc = json(&ok(&before));
    assert!(doc["items"].as_array().unwrap().is_empty());
    let w = doc["warnings"].as_array().unwrap();
    assert!(w.iter().any(|w| w["kind"] == "stale"), "{w:?}");
    // Three weeks later the same items are old news: shown with a stale warning.
    let late = json(&ok(&canary(
        &db,
        &[
            "news",
            "list",
            "--asof",
            "2026-02-26T00:00:00Z",
            "--since",
            "30d",
            "--format",
            "json",
        ],
    )));
    assert_eq!(late["items"].as_array().unwrap().len(), 5);
    assert!(
        late["warnings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("latest news item")
    );
}

#[test]
fn stories_and_search_of_a_day_of_news() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("n.db");
    let day = news_data("news_day.csv");
    let out = ok(&canary(&db, &["news", "import", day.to_str().unwrap()]));
    assert!(out.contains("18 items read, 18 new"), "{out}");
    let doc = json(&ok(&canary(
        &db,
        &[
            "news",
            "stories",
            "--asof",
            ASOF,
            "--asset",
            "BTC",
            "--topic",
            "bitcoin-miners",
            "--format",
            "json",
        ],
    )));
    assert_report(&doc, ASOF);
    let stories = doc["stories"].as_array().unwrap();
    assert_eq!(stories.len(), 8);
    // The layer-2 story is last: it bears on neither bitcoin nor its miners.
    let last = stories.last().unwrap();
    assert!(last["title"].as_str().unwrap().contains("L2s"), "{last}");
    let mara = stories
        .iter()
        .find(|s| s["title"].as_str().unwrap().contains("MARA"))
        .unwrap();
    assert_eq!(mara["outlets"].as_array().unwrap().len(), 3);
    assert_eq!(
        doc["claims"][mara["sources_claim"].as_str().unwrap()]["value"],
        3.0
    );

    // Search: point in time, filters, related items without the item's own copies.
    let hits = |args: &[&str]| {
        let mut a = vec!["news", "search"];
        a.extend_from_slice(args);
        a.extend(["--format", "csv"]);
        parse_csv(&ok(&canary(&db, &a))).1
    };
    let all = hits(&["liquidations", "--asof", ASOF]);
    assert_eq!(all.len(), 3, "{all:?}");
    let early = hits(&["liquidations", "--asof", "2026-02-05T09:40:00Z"]);
    assert_eq!(early.len(), 1);
    assert_eq!(early[0][0], "d03");
    let by_outlet = hits(&["liquidations", "--asof", ASOF, "--outlet", "decrypt.co"]);
    assert_eq!(by_outlet.len(), 1);
    let bullish = hits(&["liquidations", "--asof", ASOF, "--sentiment", "bullish"]);
    assert!(bullish.is_empty());
    let related = hits(&["--related", "d06", "--asof", ASOF, "--limit", "3"]);
    let ids: Vec<&str> = related.iter().map(|r| r[0].as_str()).collect();
    assert!(!ids.contains(&"d06") && !ids.contains(&"d08"), "{ids:?}");
    assert_eq!(ids[0], "d07", "{ids:?}");
    // The index is a cache beside the database: a second search reuses it.
    assert!(dir.path().join("n.db.search").is_dir());
    assert_eq!(hits(&["liquidations", "--asof", ASOF]).len(), 3);
}

/// A loopback feed server: `/rss` answers the test RSS file with an ETag, and 304 to a
/// request that sends it back; `/page` answers an HTML page.
fn feed_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let rss = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
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
            let (status, ctype, body): (&str, &str, Vec<u8>) = if req.starts_with("get /rss") {
                if req.contains("if-none-match: \"r1\"") {
                    ("304 Not Modified", "application/rss+xml", Vec::new())
                } else {
                    ("200 OK", "application/rss+xml", rss.clone())
                }
            } else {
                ("200 OK", "text/html", b"<!DOCTYPE html><p>hi</p>".to_vec())
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nETag: \"r1\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    format!("http://{addr}")
}

#[test]
fn feeds_are_polled_conditionally_and_failures_back_off() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("n.db");
    let base = feed_server();
    let rss = format!("{base}/rss");
    let page = format!("{base}/page");
    ok(&canary(
        &db,
        &["news", "feeds", "add", &rss, "--interval", "10m"],
    ));
    ok(&canary(&db, &["news", "feeds", "add", &page]));
    let bad = canary(&db, &["news", "feeds", "add", "ftp://x"]);
    assert!(!bad.status.success());
    // One feed of two fails: the command fails, naming it, and the other's items are kept.
    let out = canary(&db, &["news", "poll"]);
    assert!(!out.status.success());
    let first = String::from_utf8_lossy(&out.stdout);
    assert!(
        first.contains(&format!("{rss}: 200, 2 items, 2 new")),
        "{first}"
    );
    assert!(
        first.contains("FAILED") && first.contains("text/html"),
        "{first}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1 of 2 feeds failed") && err.contains(&format!("{page}: ")),
        "{err}"
    );
    // Not due yet: nothing polled.
    let idle = ok(&canary(&db, &["news", "poll"]));
    assert!(idle.contains("no feed is due"), "{idle}");
    // Forced: the validators bring a 304; the failing feed fails again.
    let out = canary(&db, &["news", "poll", "--all"]);
    assert!(!out.status.success());
    let second = String::from_utf8_lossy(&out.stdout);
    assert!(
        second.contains(&format!("{rss}: 304 not modified")),
        "{second}"
    );
    let list = ok(&canary(&db, &["news", "feeds", "list"]));
    assert!(
        list.contains("10 min") && list.contains("failed:"),
        "{list}"
    );
    let items = ok(&canary(
        &db,
        &["news", "list", "--asof", ASOF, "--format", "csv"],
    ));
    assert_eq!(parse_csv(&items).1.len(), 2);
    ok(&canary(&db, &["news", "feeds", "rm", &page]));
    let gone = canary(&db, &["news", "feeds", "rm", &page]);
    assert!(!gone.status.success());
}

#[test]
fn sentiment_of_a_headline_file_and_the_evaluation() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("unused.db");
    let f = shared("data/news_2026-02-05_sources.csv");
    let out = ok(&canary(
        &db,
        &[
            "news",
            "sentiment",
            "--input",
            f.to_str().unwrap(),
            "--format",
            "csv",
        ],
    ));
    let (h, rows) = parse_csv(&out);
    assert_eq!(h, ["id", "label", "score", "tags"]);
    assert_eq!(rows.len(), 5);
    let n4 = rows.iter().find(|r| r[0] == "n4").unwrap();
    assert_eq!(n4[1], "bearish");
    assert!(n4[3].contains("liquidations"));
    // Any headline CSV: no id column, extra columns, CRLF.
    let other = dir.path().join("h.csv");
    std::fs::write(
        &other,
        "headline,extra\r\nBitcoin soars to a record high,x\r\nSEC delays ETF decision,y\r\n",
    )
    .unwrap();
    let out = ok(&canary(
        &db,
        &[
            "news",
            "sentiment",
            "--input",
            other.to_str().unwrap(),
            "--format",
            "json",
        ],
    ));
    let doc = json(&out);
    assert_eq!(doc["items"][0]["label"], "bullish");
    assert!(!db.exists(), "sentiment needs no database");
    // A bad row names its line.
    std::fs::write(
        &other,
        "title,published_at\r\nok,2026-01-01\r\nbad,someday\r\n",
    )
    .unwrap();
    let e = canary(
        &db,
        &["news", "sentiment", "--input", other.to_str().unwrap()],
    );
    assert!(!e.status.success());
    assert!(String::from_utf8_lossy(&e.stderr).contains("h.csv:3: published_at"));

    let set = news_data("headlines_labelled.csv");
    let out = ok(&canary(&db, &["news", "eval", set.to_str().unwrap()]));
    assert!(out.contains("154 headlines"), "{out}");
    assert!(out.contains("truth \\ label"), "{out}");
}
