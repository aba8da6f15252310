//! `canary serve` end to end: every route of /api/v1 on the real data as of the crash
//! morning, the analysis `canary analyze` stored served as it was written, alert rules owned by
//! their token, the limits (rate, body, CORS, loopback), errors as problem+json, and the
//! OpenAPI document listing every route and valid by the OpenAPI 3 schema.

mod common;

use std::process::Command;

use common::{Server, assert_report, canary, import_4h, import_network, ok, shared};

const ASOF: &str = "2026-02-06T05:00:00Z";

fn json(r: reqwest::blocking::Response) -> serde_json::Value {
    let status = r.status();
    let text = r.text().unwrap();
    assert!(status.is_success(), "{status}: {text}");
    serde_json::from_str(&text).unwrap()
}

fn problem(r: reqwest::blocking::Response, status: u16) -> String {
    assert_eq!(r.status().as_u16(), status);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let p: serde_json::Value = serde_json::from_str(&r.text().unwrap()).unwrap();
    assert_eq!(p["status"], status);
    p["detail"].as_str().unwrap().to_string()
}

#[test]
fn shared_data_every_report_route_answers_as_of_the_crash_morning() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    import_4h(&db);
    import_network(&db);
    let n = shared("data/news_2026-02-05_sources.csv");
    ok(&canary(&db, &["news", "import", n.to_str().unwrap()]));
    let s = Server::start(&db, &[]);
    assert_eq!(json(s.get("/api/v1/health"))["status"], "ok");
    let series = json(s.get("/api/v1/series"));
    assert!(
        series
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["timeframe"] == "4h")
    );
    // Every report: as of the time asked, claims resolving.
    for route in [
        "stats", "watch", "score", "network", "miners", "treasury", "news", "stories",
    ] {
        let doc = json(s.get(&format!("/api/v1/{route}?asof={ASOF}")));
        assert_report(&doc, ASOF);
    }
    // The same numbers as the command line.
    let served = json(s.get(&format!("/api/v1/stats?asof={ASOF}")));
    let cli: serde_json::Value = serde_json::from_str(&ok(&canary(
        &db,
        &[
            "stats", "--symbol", "BTCUSDT", "--asof", ASOF, "--format", "json",
        ],
    )))
    .unwrap();
    assert_eq!(served, cli);
    let score = json(s.get(&format!("/api/v1/score?asof={ASOF}")));
    assert!(score["risk"].as_f64().unwrap() > 80.0);
    // Scores over time, each day as known then: the last is the score above.
    let history = json(s.get(&format!("/api/v1/score/history?days=30&asof={ASOF}")));
    assert_report(&history, ASOF);
    let days = history["days"].as_array().unwrap();
    assert!(days.len() >= 29, "{}", days.len());
    assert_eq!(days.last().unwrap()["risk"], score["risk"]);
    let csv = s
        .get(&format!(
            "/api/v1/score/history?days=3&asof={ASOF}&format=csv"
        ))
        .text()
        .unwrap();
    assert!(csv.starts_with("day,risk,threat,pulse,label\n"), "{csv}");
    problem(s.get("/api/v1/score/history?days=0"), 400);
    // Indicators and candles, JSON and CSV, only bars known at the time.
    let ind = json(s.get(&format!(
        "/api/v1/indicators?tf=4h&ind=rsi:14&last=2&asof={ASOF}"
    )));
    let rows = ind["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["time"], "2026-02-06T00:00:00Z");
    assert!((rows[1]["rsi_14"].as_f64().unwrap() - 18.7).abs() < 0.05);
    let csv = s
        .get(&format!(
            "/api/v1/candles?tf=4h&last=2&asof={ASOF}&format=csv"
        ))
        .text()
        .unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(
        csv.lines()
            .last()
            .unwrap()
            .starts_with("2026-02-06T00:00:00Z,62909.87,"),
        "{csv}"
    );
    let candles = json(s.get(&format!("/api/v1/candles?tf=1d&last=1&asof={ASOF}")));
    assert_eq!(candles["candles"][0]["open_time"], "2026-02-05T00:00:00Z");
    let ind_csv = s
        .get(&format!(
            "/api/v1/indicators?tf=1d&ind=rsi:14&last=1&asof={ASOF}&format=csv"
        ))
        .text()
        .unwrap();
    assert!(
        ind_csv.starts_with("time,close,rsi_14\n2026-02-05T00:00:00Z,62909.86,15.8"),
        "{ind_csv}"
    );
    // Errors that say what to change.
    let d = problem(s.get("/api/v1/stats?asof=yesterday"), 400);
    assert!(
        d.contains("asof=yesterday") && d.contains("ISO-8601"),
        "{d}"
    );
    let d = problem(s.get("/api/v1/candles?tf=7x"), 400);
    assert!(d.starts_with("tf=7x"), "{d}");
    let d = problem(s.get("/api/v1/stats?symbol=ETHUSDT"), 404);
    assert!(d.contains("ETHUSDT"), "{d}");
    let d = problem(s.get("/api/v1/indicators?ind=nope:3"), 400);
    assert!(d.contains("nope"), "{d}");
    problem(s.get("/api/v1/candles?format=xml"), 400);
    problem(s.get("/api/v1/nothing"), 404);
}

#[test]
fn shared_data_the_served_analysis_is_the_one_analyze_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    import_4h(&db);
    import_network(&db);
    let n = shared("data/news_2026-02-05_sources.csv");
    ok(&canary(&db, &["news", "import", n.to_str().unwrap()]));
    let written: serde_json::Value = serde_json::from_str(&ok(&canary(
        &db,
        &[
            "analyze", "--symbol", "BTCUSDT", "--topic", "miners", "--asof", ASOF, "--format",
            "json",
        ],
    )))
    .unwrap();
    let s = Server::start(&db, &[]);
    let list = json(s.get("/api/v1/analyses?tag=bitcoin-miners"));
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["as_of"], ASOF);
    let id = list[0]["id"].as_str().unwrap();
    let served = json(s.get(&format!("/api/v1/analyses/{id}")));
    assert_eq!(served, written, "the same analysis, number for number");
    // An id prefix is enough; the history lists its versions.
    let again = json(s.get(&format!("/api/v1/analyses/{}", &id[..10])));
    assert_eq!(again, written);
    let history = json(s.get(&format!("/api/v1/analyses/{id}/history")));
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert_eq!(
        json(s.get(&format!("/api/v1/analyses/{id}/related"))),
        written["related"]
    );
    assert!(
        json(s.get("/api/v1/analyses?tag=eth"))
            .as_array()
            .unwrap()
            .is_empty()
    );
    problem(s.get("/api/v1/analyses/ffffffff"), 404);

    // The pages: the feed lists it with its scores; its page is the HTML analyze renders.
    let headline = written["headline"].as_str().unwrap();
    let feed = s.get("/").text().unwrap();
    assert!(
        feed.contains(headline) && feed.contains(&format!("/analyses/{id}")),
        "{feed}"
    );
    assert!(
        feed.contains("Threat 5/5") && feed.contains("bearish"),
        "{feed}"
    );
    assert!(feed.contains(r#"data-theme="auto""#));
    let dark = s.get("/?tag=bitcoin-miners&theme=dark").text().unwrap();
    assert!(dark.contains(r#"data-theme="dark""#) && dark.contains(headline));
    let none = s.get("/?q=ethereum+layer").text().unwrap();
    assert!(
        !none.contains(headline) && none.contains("No analyses match"),
        "{none}"
    );
    // Search (BM25 over headline, tags and text): words from its text find it.
    let found = s.get("/?q=break-even+prices").text().unwrap();
    assert!(found.contains(headline), "{found}");
    let asset = s.get("/?asset=btc").text().unwrap();
    assert!(asset.contains(headline));
    let page = s.get(&format!("/analyses/{id}"));
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let page = page.text().unwrap();
    let html = ok(&canary(
        &db,
        &[
            "analyze",
            "--symbol",
            "BTCUSDT",
            "--topic",
            "miners",
            "--asof",
            ASOF,
            "--format",
            "html",
            "--no-store",
        ],
    ));
    // The analysis as rendered, with the charts under it.
    let end = html.rfind("</body>").unwrap();
    assert!(
        page.starts_with(&html[..end]) && page.ends_with(&html[end..]),
        "the page is the analysis as rendered"
    );
    assert!(page.contains(
        r#"<section id="canary-charts" data-symbol="BTCUSDT" data-asof="2026-02-06T05:00:00Z">"#
    ));
    assert!(
        page.contains(r#"class="n""#),
        "numbers carry their claims on hover"
    );
    problem(s.get("/analyses/ffffffff"), 404);
}

#[test]
fn alert_rules_belong_to_their_token_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    import_4h(&db);
    let issue = |name: &str, scope: &str| {
        ok(&canary(
            &db,
            &["tokens", "create", "--name", name, "--scope", scope],
        ))
        .trim()
        .to_string()
    };
    let (alice, bob, carol) = (
        issue("alice", "alerts"),
        issue("bob", "alerts"),
        issue("carol", "read"),
    );
    let (alice, bob, carol) = (alice.as_str(), bob.as_str(), carol.as_str());
    let s = Server::start(&db, &["--max-body", "2048"]);
    let client = reqwest::blocking::Client::new();
    let post = |token: Option<&str>, body: &str| {
        let mut r = client
            .post(format!("{}/api/v1/alerts/rules", s.base))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().unwrap()
    };
    let rule = r#"{"rule": "BTCUSDT.rsi14.1d < 30", "channel": {"type": "webhook", "url": "https://hooks.example.org/x", "secret": "s3cret"}, "policy": {"cooldown_ms": 86400000}}"#;
    let d = problem(post(None, rule), 401);
    assert!(d.contains("Bearer"), "{d}");
    // A token nobody issued is refused; a read-only token may not add.
    let d = problem(post(Some("alice"), rule), 401);
    assert!(d.contains("unknown or revoked token"), "{d}");
    let d = problem(post(Some(carol), rule), 403);
    assert!(d.contains("scope is read"), "{d}");
    let added = post(Some(alice), rule);
    assert_eq!(added.status().as_u16(), 201);
    let id = json(added)["id"].as_i64().unwrap();
    let get = |token: &str, path: &str| {
        client
            .get(format!("{}{path}", s.base))
            .bearer_auth(token)
            .send()
            .unwrap()
    };
    let mine = json(get(alice, "/api/v1/alerts/rules"));
    assert_eq!(mine[0]["id"], id);
    assert_eq!(mine[0]["policy"]["cooldown_ms"], 86_400_000);
    assert_eq!(
        mine[0]["channel"]["secret"], "***",
        "secrets are not served"
    );
    assert!(
        json(get(bob, "/api/v1/alerts/rules"))
            .as_array()
            .unwrap()
            .is_empty()
    );
    let del = |token: &str| {
        client
            .delete(format!("{}/api/v1/alerts/rules/{id}", s.base))
            .bearer_auth(token)
            .send()
            .unwrap()
    };
    problem(del(bob), 404);
    problem(del(carol), 403);
    assert!(
        json(get(carol, "/api/v1/alerts/rules"))
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        json(get(alice, "/api/v1/alerts/deliveries"))
            .as_array()
            .unwrap()
            .is_empty()
    );
    // A rule that does not parse, a private webhook, a body that is not JSON, one too large.
    let d = problem(post(Some(alice), r#"{"rule": "BTCUSDT.clos < 3"}"#), 400);
    assert!(d.contains("column 9"), "{d}");
    let d = problem(
        post(
            Some(alice),
            r#"{"rule": "BTCUSDT.close < 3", "channel": {"type": "webhook", "url": "http://127.0.0.1:9/x"}}"#,
        ),
        400,
    );
    assert!(d.contains("loopback address"), "{d}");
    problem(post(Some(alice), "{"), 400);
    let big = format!(r#"{{"rule": "{}"}}"#, "x".repeat(4096));
    let d = problem(post(Some(alice), &big), 413);
    assert!(!d.is_empty());
    // A rule on the log channel: its test notice is delivered now; a silence for an hour.
    let logged = json(post(Some(alice), r#"{"rule": "BTCUSDT.close < 3"}"#))["id"]
        .as_i64()
        .unwrap();
    let act = |token: &str, what: &str, body: &str| {
        client
            .post(format!("{}/api/v1/alerts/rules/{logged}/{what}", s.base))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap()
    };
    let tested = json(act(alice, "test", ""));
    assert_eq!(tested["deliveries"][0]["ok"], true, "{tested}");
    problem(act(bob, "test", ""), 404);
    let silenced = json(act(alice, "silence", r#"{"seconds": 3600}"#));
    assert_eq!(silenced["rule"], logged);
    problem(act(bob, "silence", r#"{"seconds": 3600}"#), 404);
    problem(act(alice, "silence", r#"{"seconds": 0}"#), 400);
    let log = json(get(alice, "/api/v1/alerts/deliveries"));
    assert_eq!(log[0]["notice"]["test"], true);
    // A backtest needs no token and stores nothing.
    let bt = json(
        client
            .post(format!("{}/api/v1/alerts/backtest", s.base))
            .header("content-type", "application/json")
            .body(r#"{"rule": "BTCUSDT.rsi14.1d < 30", "from": "2025-10-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}"#)
            .send()
            .unwrap(),
    );
    let fired: Vec<&str> = bt["firings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["notice"]["at"].as_str().unwrap())
        .collect();
    assert_eq!(
        fired,
        [
            "2025-11-18T00:00:00Z",
            "2025-11-20T00:00:00Z",
            "2026-02-01T00:00:00Z",
            "2026-02-13T00:00:00Z"
        ],
        "the same firings as canary alerts backtest"
    );
    assert_eq!(del(alice).status().as_u16(), 204);
    let left = json(get(alice, "/api/v1/alerts/rules"));
    let ids: Vec<i64> = left
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [logged], "only the removed rule is gone");
}

#[test]
fn limits_cors_and_the_listening_address() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    import_4h(&db);
    {
        let s = Server::start(&db, &["--rate-per-address", "3"]);
        for _ in 0..3 {
            let r = s.get("/api/v1/health");
            assert_eq!(r.status().as_u16(), 200);
            assert!(
                r.headers().get("access-control-allow-origin").is_none(),
                "CORS is off"
            );
        }
        let r = s.get("/api/v1/health");
        assert!(r.headers().contains_key("retry-after"));
        let d = problem(r, 429);
        assert!(
            d.contains("more than 3 requests a minute from this address"),
            "{d}"
        );
    }
    {
        let s = Server::start(&db, &["--cors-origin", "https://dash.example.org"]);
        let r = s.get("/api/v1/health");
        assert_eq!(
            r.headers()["access-control-allow-origin"],
            "https://dash.example.org"
        );
    }
    let o = canary(&db, &["serve", "--addr", "0.0.0.0:0"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a loopback address"));
    let missing = dir.path().join("none.db");
    let o = canary(&missing, &["serve", "--addr", "127.0.0.1:0"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no database there"),
        "{o:?}"
    );
}

#[test]
fn the_openapi_document_lists_every_route_and_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("o.db");
    import_4h(&db);
    let s = Server::start(&db, &[]);
    let doc = json(s.get("/api/v1/openapi.json"));
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for p in [
        "/api/v1/health",
        "/api/v1/series",
        "/api/v1/candles",
        "/api/v1/indicators",
        "/api/v1/stats",
        "/api/v1/watch",
        "/api/v1/score",
        "/api/v1/network",
        "/api/v1/miners",
        "/api/v1/treasury",
        "/api/v1/news",
        "/api/v1/stories",
        "/api/v1/analyses",
        "/api/v1/analyses/{id}",
        "/api/v1/analyses/{id}/history",
        "/api/v1/alerts/rules",
        "/api/v1/alerts/rules/{id}",
        "/api/v1/alerts/deliveries",
        "/api/v1/alerts/rules/{id}/test",
        "/api/v1/alerts/rules/{id}/silence",
        "/api/v1/alerts/backtest",
        "/api/v1/stream",
        "/api/v1/ws",
        "/api/v1/score/history",
        "/api/v1/analyses/{id}/related",
    ] {
        assert!(paths.contains(&p), "{p} missing from {paths:?}");
    }
    // Validated by openapi-spec-validator (PyPI), installed in .venv-test by make test.
    let python = std::env::var("CANARY_TEST_PYTHON").expect(
        "CANARY_TEST_PYTHON is not set: run `make test`, which installs the validator in .venv-test",
    );
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_string(&doc).unwrap()).unwrap();
    let out = Command::new(&python)
        .args(["-c", "import sys, json; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1]))); print('valid')"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("valid"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `canary serve --run`: the engine replays the crash beside the server and its bars, daily
/// scores and alert notices reach a client of /api/v1/stream as they happen; without an
/// engine the stream is a 404 that says how to start one.
#[test]
fn shared_data_the_engine_beside_the_server_streams_bars_scores_and_alerts() {
    use std::io::Read as _;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    // The bars before the window stored; the window replayed by the engine.
    common::import_before_crash(&db, dir.path());
    ok(&canary(
        &db,
        &[
            "alerts",
            "add",
            "BTCUSDT.rsi14.1d < 30",
            "--since",
            "2026-02-05T00:00:00Z",
        ],
    ));
    {
        let plain = Server::start(&db, &[]);
        let d = problem(plain.get("/api/v1/stream"), 404);
        assert!(d.contains("--run"), "{d}");
    }
    let cfg = dir.path().join("run.toml");
    std::fs::write(
        &cfg,
        format!(
            "speed = 28800\n[[market]]\nsymbol = \"BTCUSDT\"\ntimeframes = [\"4h\", \"1d\"]\n\n\
             [[source]]\ntype = \"bars\"\npath = {:?}\nsymbol = \"BTCUSDT\"\n\
             from = \"2026-02-05T00:00:00Z\"\nto = \"2026-02-07T00:00:00Z\"\n",
            shared("data/btcusdt_binance_4h.csv")
        ),
    )
    .unwrap();
    let s = Server::start(&db, &["--run", cfg.to_str().unwrap()]);
    // The same stream over a WebSocket, read beside the Server-Sent Events.
    let ws_url = format!(
        "{}/api/v1/ws?kinds=score,notice",
        s.base.replace("http://", "ws://")
    );
    let ws_reader = std::thread::spawn(move || {
        use futures_util::StreamExt;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
            let mut kinds = Vec::new();
            while let Some(Ok(m)) = ws.next().await {
                if let tokio_tungstenite::tungstenite::Message::Text(t) = m {
                    let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                    let kind = v["kind"].as_str().unwrap().to_string();
                    let done = kind == "notice";
                    kinds.push(kind);
                    if done {
                        break;
                    }
                }
            }
            kinds
        })
    });
    let mut r = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap()
        .get(format!("{}/api/v1/stream?kinds=bar,score,notice", s.base))
        .send()
        .unwrap();
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    while !text.contains("event: notice") {
        let n = r.read(&mut buf).unwrap();
        assert!(n > 0, "the stream ended: {text}");
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let events: Vec<(&str, serde_json::Value)> = text
        .split("\n\n")
        .filter_map(|block| {
            let kind = block.lines().find_map(|l| l.strip_prefix("event: "))?;
            let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
            Some((kind, serde_json::from_str(data).ok()?))
        })
        .collect();
    let score = events
        .iter()
        .find(|(k, _)| *k == "score")
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(score.1["day"], "2026-02-05T00:00:00Z");
    assert_eq!(score.1["threat"], 5);
    let notice = events.iter().find(|(k, _)| *k == "notice").unwrap();
    assert_eq!(notice.1["rule"], "BTCUSDT.rsi14.1d < 30");
    assert_eq!(notice.1["notice"]["at"], "2026-02-06T00:00:00Z");
    assert!(
        events
            .iter()
            .any(|(k, v)| *k == "bar" && v["timeframe"] == "1d")
    );
    let ws_kinds = ws_reader.join().unwrap();
    assert_eq!(
        ws_kinds,
        ["score", "notice"],
        "only the kinds asked for, over the WebSocket"
    );
}

/// A report asked for an explicit `asof` is computed once and then served from the cache,
/// byte for byte, until a write to the store changes what it could read.
#[test]
fn shared_data_reports_are_cached_until_the_data_changes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    import_4h(&db);
    let s = Server::start(&db, &[]);
    let path = "/api/v1/stats?asof=2026-02-06T05:00:00Z";
    let first = s.get(path);
    assert_eq!(first.headers()["x-cache"], "miss");
    let first = first.text().unwrap();
    let second = s.get(path);
    assert_eq!(second.headers()["x-cache"], "hit");
    assert_eq!(second.text().unwrap(), first);
    // Without asof (now), nothing is cached.
    assert!(s.get("/api/v1/series").headers().get("x-cache").is_none());
    // A bar stored later: the same question is computed again.
    let extra = dir.path().join("extra.csv");
    std::fs::write(
        &extra,
        "open_time_utc,open,high,low,close,volume_btc,quote_volume_usdt,trades\n2026-03-20 00:00:00,70000,70100,69900,70050,10,700000,100\n",
    )
    .unwrap();
    ok(&canary(
        &db,
        &[
            "import",
            extra.to_str().unwrap(),
            "--symbol",
            "BTCUSDT",
            "--tf",
            "4h",
        ],
    ));
    assert_eq!(s.get(path).headers()["x-cache"], "miss");
}
