//! Every `/api/v1` route in process: the router with its middleware, called with
//! `tower::ServiceExt::oneshot` on a store holding the real 4h bars and the headlines of
//! 2026-02-05 (status, content type, problem+json on errors, `asof` honoured). The binary's
//! end-to-end tests (`crates/canary/tests/serve.rs`, `security.rs`) stay as they are.

use std::net::SocketAddr;
use std::path::Path;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use canary_model::Timestamp;
use canary_store::Stores;

use crate::test_data::{ASOF, crash_store};
use crate::{AppState, ServerConfig, router};

/// The router on a store with the real 4h bars to a day after the crash morning and the
/// headlines of 2026-02-05, its clock at `now` when given (else the wall clock).
fn app_at(dir: &Path, now: Option<Timestamp>) -> axum::Router {
    let db = dir.join("r.db");
    crash_store(&db, Timestamp::parse("2026-02-07T05:00:00Z").unwrap());
    let mut state = AppState::new(ServerConfig::new(db)).unwrap();
    if let Some(t) = now {
        state.session = state.session.with_clock(std::sync::Arc::new(
            canary_engine::clock::ReplayClock::starting(t),
        ));
    }
    router(state)
}

fn app(dir: &Path) -> axum::Router {
    app_at(dir, None)
}

/// An answer: status, content type, body.
struct Answer {
    status: StatusCode,
    ctype: String,
    body: String,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// A problem document of this status; its detail.
    fn problem(&self, status: u16) -> String {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(self.ctype, "application/problem+json", "{}", self.body);
        let p = self.json();
        assert_eq!(p["status"], status);
        p["detail"].as_str().unwrap().to_string()
    }
}

async fn call(
    app: &axum::Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: &str,
) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if !body.is_empty() {
        req = req.header("content-type", "application/json");
    }
    let mut req = req.body(Body::from(body.to_string())).unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))));
    let r = tower::ServiceExt::oneshot(app.clone(), req).await.unwrap();
    let status = r.status();
    let ctype = r
        .headers()
        .get("content-type")
        .map_or_else(String::new, |v| v.to_str().unwrap().to_string());
    let bytes = axum::body::to_bytes(r.into_body(), 64 << 20).await.unwrap();
    Answer {
        status,
        ctype,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get(app: &axum::Router, uri: &str) -> Answer {
    call(app, Method::GET, uri, None, "").await
}

#[tokio::test]
async fn every_report_route_answers_as_of_the_time_asked_with_its_claims() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    for route in [
        "stats", "watch", "score", "miners", "treasury", "news", "stories",
    ] {
        let a = get(&app, &format!("/api/v1/{route}?asof={ASOF}")).await;
        assert_eq!(a.status, StatusCode::OK, "{route}: {}", a.body);
        assert_eq!(a.ctype, "application/json", "{route}");
        let doc = a.json();
        assert_eq!(doc["as_of"], ASOF, "{route}");
        assert!(doc["simulated"].is_boolean(), "{route}");
        assert!(doc["warnings"].is_array(), "{route}");
        assert!(doc["claims"].is_object(), "{route}");
    }
    // Without network series stored: what can be said, and what is missing and why.
    let net = get(&app, &format!("/api/v1/network?asof={ASOF}"))
        .await
        .json();
    assert_eq!(net["as_of"], ASOF);
    assert!(
        net["missing"][0].as_str().unwrap().contains("none stored"),
        "{net}"
    );
    let h = get(&app, &format!("/api/v1/score/history?asof={ASOF}&days=30")).await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.body);
    let days = h.json()["days"].as_array().unwrap().len();
    assert!((29..=31).contains(&days), "{days} days");
    let csv = get(
        &app,
        &format!("/api/v1/score/history?asof={ASOF}&days=30&format=csv"),
    )
    .await;
    assert_eq!(csv.ctype, "text/csv; charset=utf-8");
    assert!(
        csv.body.starts_with("day,risk,threat,pulse,label\n"),
        "{}",
        csv.body
    );
    for (uri, ctype) in [
        ("/api/v1/health", "application/json"),
        ("/api/v1/series", "application/json"),
        ("/api/v1/analyses", "application/json"),
        ("/api/v1/openapi.json", "application/json"),
    ] {
        let a = get(&app, uri).await;
        assert_eq!(
            (a.status, a.ctype.as_str()),
            (StatusCode::OK, ctype),
            "{uri}: {}",
            a.body
        );
    }
}

#[tokio::test]
async fn asof_is_honoured_bars_closed_by_then_and_no_later() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let last_open = |doc: &serde_json::Value| {
        doc["candles"].as_array().unwrap().last().unwrap()["open_time"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let morning = get(&app, &format!("/api/v1/candles?tf=4h&last=3&asof={ASOF}")).await;
    assert_eq!(morning.status, StatusCode::OK, "{}", morning.body);
    // The 00:00-04:00 bar closed at 04:00; the 04:00 bar is open at 05:00.
    assert_eq!(last_open(&morning.json()), "2026-02-06T00:00:00Z");
    let later = get(
        &app,
        "/api/v1/candles?tf=4h&last=3&asof=2026-02-06T09:00:00Z",
    )
    .await;
    assert_eq!(last_open(&later.json()), "2026-02-06T04:00:00Z");
    // The same asof in unix seconds and as a date-time answer alike.
    let unix = get(&app, "/api/v1/candles?tf=4h&last=3&asof=1770354000").await;
    assert_eq!(unix.body, morning.body);
    let csv = get(
        &app,
        &format!("/api/v1/candles?tf=4h&last=2&asof={ASOF}&format=csv"),
    )
    .await;
    assert_eq!(csv.ctype, "text/csv; charset=utf-8");
    assert_eq!(csv.body.lines().count(), 3, "{}", csv.body);
    let ind = get(
        &app,
        &format!("/api/v1/indicators?tf=4h&ind=rsi:14&last=2&asof={ASOF}"),
    )
    .await;
    assert_eq!(ind.status, StatusCode::OK, "{}", ind.body);
    assert_eq!(ind.json()["as_of"], ASOF);
}

#[tokio::test]
async fn bad_parameters_and_routes_get_problem_json_saying_what_to_change() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    for (uri, status, says) in [
        ("/api/v1/stats?asof=yesterday", 400, "asof=yesterday"),
        (
            "/api/v1/stats?asof=2026-01-01&asof=2026-01-02",
            400,
            "given twice",
        ),
        ("/api/v1/stats?symbol=BTC%20USDT", 400, "symbol="),
        ("/api/v1/candles?tf=7x", 400, "tf=7x"),
        ("/api/v1/candles?last=0", 400, "last=0"),
        ("/api/v1/candles?last=abc", 400, "last"),
        ("/api/v1/candles?format=xml", 400, "format"),
        ("/api/v1/score/history?days=0", 400, "days=0"),
        ("/api/v1/miners?price=-1", 400, "price"),
        ("/api/v1/candles?symbol=ETHUSDT", 404, "ETHUSDT"),
        ("/api/v1/analyses/ffffffff", 404, "no analysis"),
        ("/api/v1/nothing", 404, "no such route"),
    ] {
        let d = get(&app, uri).await.problem(status);
        assert!(d.contains(says), "{uri}: {d}");
    }
    let d = call(&app, Method::PUT, "/api/v1/stats", None, "")
        .await
        .problem(405);
    assert!(d.contains("method"), "{d}");
}

#[tokio::test]
async fn alert_routes_act_for_an_issued_token_within_its_scope() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let (alerts, read) = {
        let mut store = canary_store::open(&dir.path().join("r.db")).unwrap();
        let t = Timestamp::parse(ASOF).unwrap();
        let issue = |store: &mut dyn Stores, scope| {
            canary_engine::tokens::issue(store, "t", scope, t)
                .unwrap()
                .0
        };
        (
            issue(&mut *store, canary_engine::tokens::Scope::Alerts),
            issue(&mut *store, canary_engine::tokens::Scope::Read),
        )
    };
    let rule = r#"{"rule": "BTCUSDT.close < 3", "since": "2026-02-01T00:00:00Z"}"#;
    let rules = "/api/v1/alerts/rules";
    call(&app, Method::POST, rules, None, rule)
        .await
        .problem(401);
    call(&app, Method::POST, rules, Some("made-up"), rule)
        .await
        .problem(401);
    call(&app, Method::POST, rules, Some(&read), rule)
        .await
        .problem(403);
    let added = call(&app, Method::POST, rules, Some(&alerts), rule).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let id = added.json()["id"].as_i64().unwrap();
    let mine = call(&app, Method::GET, rules, Some(&alerts), "").await;
    assert_eq!(mine.json()[0]["id"], id);
    let theirs = call(&app, Method::GET, rules, Some(&read), "").await;
    assert_eq!(theirs.body, "[]");
    let test = format!("{rules}/{id}/test");
    let tested = call(&app, Method::POST, &test, Some(&alerts), "").await;
    assert_eq!(
        tested.json()["deliveries"][0]["ok"],
        true,
        "{}",
        tested.body
    );
    let silence = format!("{rules}/{id}/silence");
    let s = call(
        &app,
        Method::POST,
        &silence,
        Some(&alerts),
        r#"{"seconds": 60}"#,
    )
    .await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.body);
    let log = call(
        &app,
        Method::GET,
        "/api/v1/alerts/deliveries",
        Some(&alerts),
        "",
    )
    .await;
    assert_eq!(log.json()[0]["notice"]["test"], true);
    let bt = call(
        &app,
        Method::POST,
        "/api/v1/alerts/backtest",
        None,
        r#"{"rule": "BTCUSDT.close < 70000", "timeframe": "4h", "from": "2026-02-01T00:00:00Z", "to": "2026-02-06T05:00:00Z"}"#,
    )
    .await;
    assert_eq!(bt.status, StatusCode::OK, "{}", bt.body);
    assert!(!bt.json()["firings"].as_array().unwrap().is_empty());
    let one = format!("{rules}/{id}");
    call(&app, Method::DELETE, &one, Some(&read), "")
        .await
        .problem(403);
    let gone = call(&app, Method::DELETE, &one, Some(&alerts), "").await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    call(&app, Method::DELETE, &one, Some(&alerts), "")
        .await
        .problem(404);
    call(
        &app,
        Method::DELETE,
        &format!("{rules}/abc"),
        Some(&alerts),
        "",
    )
    .await
    .problem(400);
}

#[tokio::test]
async fn without_asof_a_report_is_as_of_the_servers_clock() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_at(dir.path(), Some(Timestamp::parse(ASOF).unwrap()));
    let doc = get(&app, "/api/v1/stats").await.json();
    assert_eq!(doc["as_of"], ASOF, "the clock given, not the wall's");
    let bars = get(&app, "/api/v1/candles?tf=4h&last=1").await.json();
    assert_eq!(bars["candles"][0]["open_time"], "2026-02-06T00:00:00Z");
}

/// Two analyses of the crash stored as `canary analyze` stores them (the morning's and, a day
/// later, the next), as the store's analysis routes read them.
fn with_analyses(dir: &Path) -> (axum::Router, String, String) {
    use canary_engine::analysis::{AnalyzeParams, Topic, analyze, render, store};
    let db = dir.join("r.db");
    let mut s = crash_store(&db, Timestamp::parse("2026-02-07T05:00:00Z").unwrap());
    let profiles = canary_engine::facts::Profiles::built_in().unwrap();
    let p = AnalyzeParams {
        symbol: canary_model::Symbol::new("BTCUSDT").unwrap(),
        asset: "BTC".into(),
        topic: Topic::Market,
        method: canary_analytics::score::Methodology::built_in(),
        templates: render::Templates::default(),
    };
    let mut ids = Vec::new();
    for at in [ASOF, "2026-02-06T21:00:00Z"] {
        let t = Timestamp::parse(at).unwrap();
        let ctx = canary_engine::Context::new(&*s, t)
            .unwrap()
            .with_profiles(&profiles);
        let r = analyze(
            &ctx,
            &p,
            &canary_news::tags::Dictionary::built_in(),
            canary_news::sentiment::Lexicon::built_in(),
            None,
        )
        .unwrap();
        ids.push(r.body.id.clone());
        store(&mut *s, &r, &p.templates, t).unwrap();
    }
    let state = AppState::new(ServerConfig::new(db)).unwrap();
    (router(state), ids[0].clone(), ids[1].clone())
}

#[tokio::test]
async fn stored_analyses_answer_by_id_and_prefix_with_history_and_related() {
    let dir = tempfile::tempdir().unwrap();
    let (app, morning, evening) = with_analyses(dir.path());
    let list = get(&app, "/api/v1/analyses").await;
    assert_eq!(
        (list.status, list.ctype.as_str()),
        (StatusCode::OK, "application/json")
    );
    let listed: Vec<String> = list.json()["analyses"].as_array().map_or_else(
        || {
            list.json()
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["id"].as_str().unwrap().to_string())
                .collect()
        },
        |a| {
            a.iter()
                .map(|x| x["id"].as_str().unwrap().to_string())
                .collect()
        },
    );
    assert!(
        listed.contains(&morning) && listed.contains(&evening),
        "{listed:?}"
    );
    for id in [morning.clone(), morning[..8].to_string()] {
        let a = get(&app, &format!("/api/v1/analyses/{id}")).await;
        assert_eq!(
            (a.status, a.ctype.as_str()),
            (StatusCode::OK, "application/json"),
            "{}",
            a.body
        );
        assert_eq!(a.json()["id"], morning.as_str());
        assert_eq!(a.json()["as_of"], ASOF);
    }
    let history = get(&app, &format!("/api/v1/analyses/{morning}/history")).await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.body);
    assert!(history.body.contains(&morning), "{}", history.body);
    // The evening's analysis lists the morning's (an earlier one sharing its tags).
    let related = get(&app, &format!("/api/v1/analyses/{evening}/related")).await;
    assert_eq!(related.status, StatusCode::OK, "{}", related.body);
    assert!(related.body.contains(&morning), "{}", related.body);
    let none = get(&app, &format!("/api/v1/analyses/{morning}/related")).await;
    assert!(
        !none.body.contains(&evening),
        "a later analysis is never related: {}",
        none.body
    );
    for route in ["", "/history", "/related"] {
        let missing = get(&app, &format!("/api/v1/analyses/0000000{route}")).await;
        assert!(missing.problem(404).contains("no analysis"), "{route}");
    }
}

#[tokio::test]
async fn the_stream_sends_the_kinds_asked_for_and_says_when_no_engine_runs() {
    use futures_util::StreamExt;
    let dir = tempfile::tempdir().unwrap();
    let idle = app(dir.path());
    let none = get(&idle, "/api/v1/stream").await;
    assert!(none.problem(404).contains("no engine reports"));
    // A WebSocket request that is not an upgrade is told so, as problem+json.
    let plain = get(&idle, "/api/v1/ws").await;
    assert!(plain.problem(400).contains("upgrade"));
    let db = dir.path().join("s.db");
    crash_store(&db, Timestamp::parse(ASOF).unwrap());
    let mut state = AppState::new(ServerConfig::new(db)).unwrap();
    let feed = std::sync::Arc::new(crate::live::LiveFeed::new("1", 16));
    state.live = Some(feed.clone());
    let app = router(state);
    let mut req = Request::get("/api/v1/stream?kinds=bar")
        .body(Body::empty())
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))));
    let r = tower::ServiceExt::oneshot(app, req).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let mut body = r.into_body().into_data_stream();
    feed.push(1, "score", r#"{"kind":"score","risk":50}"#.into());
    feed.push(2, "bar", r#"{"kind":"bar","close":64168}"#.into());
    let mut text = String::new();
    while !text.contains("data: ") {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), body.next())
            .await
            .expect("an event within 5 s")
            .unwrap()
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.starts_with("retry: 1000\nid: 1:0\n\n"), "{text}");
    assert!(
        text.contains("event: bar") && text.contains("64168") && text.contains("id: 1:2"),
        "{text}"
    );
    assert!(
        !text.contains("score"),
        "a kind not asked for is not sent: {text}"
    );
}

/// A client reconnecting with `Last-Event-ID` is given what came after it (of its kinds), an
/// id of another sequence a `reset` event, an id older than what is kept a `lagged` count.
#[tokio::test]
async fn a_client_that_reconnects_resumes_after_its_last_event_id() {
    use futures_util::StreamExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    crash_store(&db, Timestamp::parse(ASOF).unwrap());
    let mut state = AppState::new(ServerConfig::new(db)).unwrap();
    let feed = std::sync::Arc::new(crate::live::LiveFeed::new("5", 3));
    for seq in 1..=5 {
        let kind = if seq == 4 { "score" } else { "bar" };
        feed.push(
            seq,
            kind,
            format!(r#"{{"kind":"{kind}","n":{seq}}}"#).into(),
        );
    }
    state.live = Some(feed.clone());
    let app = router(state);
    let events_until = |last: &'static str, until: &'static str| {
        let app = app.clone();
        async move {
            let mut req = Request::get("/api/v1/stream?kinds=bar")
                .header("last-event-id", last)
                .body(Body::empty())
                .unwrap();
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))));
            let r = tower::ServiceExt::oneshot(app, req).await.unwrap();
            let mut body = r.into_body().into_data_stream();
            let mut text = String::new();
            // After the first block, which says how long to wait before reconnecting.
            let after_hello = |t: &str| t.split_once("\n\n").map(|(_, rest)| rest.to_string());
            while !after_hello(&text).is_some_and(|t| t.contains(until)) {
                let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), body.next())
                    .await
                    .expect("events within 5 s")
                    .unwrap()
                    .unwrap();
                text.push_str(&String::from_utf8_lossy(&chunk));
            }
            assert!(
                text.starts_with(&format!("retry: 1000\nid: {last}\n\n")) || last.starts_with("4:"),
                "{text}"
            );
            after_hello(&text).unwrap()
        }
    };
    // After 3: 4 is a score (not asked for), then 5.
    let resumed = events_until("5:3", "\n\n").await;
    assert!(
        resumed.starts_with("id: 5:5\nevent: bar\ndata: {\"kind\":\"bar\",\"n\":5}"),
        "{resumed}"
    );
    feed.push(6, "bar", r#"{"kind":"bar","n":6}"#.into());
    // After 1: 2 and 3 are no longer kept (the latest 3 are), then 5 and 6.
    let late = events_until("5:1", "id: 5:6").await;
    assert!(late.starts_with("event: lagged\ndata: 2\n\n"), "{late}");
    assert!(late.contains("\"n\":5"), "{late}");
    // Of another sequence: a reset, then what comes.
    let other = events_until("4:3", "\n\n").await;
    assert!(other.starts_with("event: reset\n"), "{other}");
}

#[tokio::test]
async fn reports_past_the_slots_are_refused_with_retry_after_until_one_frees() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    crash_store(&db, Timestamp::parse(ASOF).unwrap());
    let mut config = ServerConfig::new(db);
    config.max_reports = 1;
    let state = AppState::new(config).unwrap();
    let app = router(state.clone());
    let uri = format!("/api/v1/stats?asof={ASOF}");
    // A report still computing (one that overran its time limit keeps its slot like this).
    let busy = state.report_slot().unwrap();
    let refused = get(&app, &uri).await;
    assert!(refused.problem(503).contains("computing 1 reports already"));
    let mut req = Request::get(&uri).body(Body::empty()).unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))));
    let r = tower::ServiceExt::oneshot(app.clone(), req).await.unwrap();
    assert_eq!(r.headers()["retry-after"], "1");
    let page = get(&app, &format!("/dashboard?asof={ASOF}")).await;
    assert_eq!(
        page.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "the dashboard's reports too"
    );
    drop(busy);
    let a = get(&app, &uri).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}

/// `/api/v1/derivatives` and `/api/v1/derivatives/map` as of the time asked, on the shared
/// funding, open interest and liquidations; their parameters refused as problem+json.
#[tokio::test]
async fn derivatives_routes_answer_as_of_the_time_asked() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    {
        let mut store = canary_store::open(&dir.path().join("r.db")).unwrap();
        let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        let opts = canary_ingest::derivatives::DerivOptions {
            range: canary_ingest::csv::TimeRange::until(now),
            ..canary_ingest::derivatives::DerivOptions::default()
        };
        for name in [
            "btcusdt_perp_funding_8h_binance_2019-09_2026-04.csv",
            "btc_open_interest_daily_coinglass_all_exchanges_2020-02_2025-11.csv",
            "btc_liquidations_daily_coinglass_binance_2020-12_2025-11.csv",
        ] {
            canary_engine::jobs::derivatives::DerivativesFile::read(
                &crate::test_data::shared(name),
                &opts,
            )
            .unwrap()
            .store(&mut *store, None, canary_store::Revisions::Keep, now)
            .unwrap();
        }
    }
    let d = get(&app, &format!("/api/v1/derivatives?asof={ASOF}")).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.body);
    let doc = d.json();
    assert_eq!(doc["funding"][0]["settled_at"], "2026-02-06T00:00:00Z");
    assert_eq!(doc["open_interest"][0]["stale"], true);
    assert!(doc["claims"].is_object());
    let m = get(
        &app,
        "/api/v1/derivatives/map?asof=2025-11-13T12:00:00Z&shock=2,4",
    )
    .await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.body);
    let map = m.json();
    assert_eq!(map["scenarios"].as_array().unwrap().len(), 2);
    assert_eq!(map["stale"], false);
    for (uri, param) in [
        ("/api/v1/derivatives/map?shock=0", "shock"),
        ("/api/v1/derivatives/map?shock=5,x", "shock"),
        ("/api/v1/derivatives?market=BTC%20USDT", "market"),
    ] {
        let detail = get(&app, uri).await.problem(400);
        assert!(detail.contains(param), "{uri}: {detail}");
    }
    // Before any open interest is known: not found, with what to do.
    let early = get(&app, "/api/v1/derivatives/map?asof=2019-01-01T00:00:00Z").await;
    assert!(early.problem(404).contains("canary derivatives import"));
}

/// `/api/v1/markets` as of the time asked: the 5 February session before the 6th's US close,
/// the 6th's from it; its parameters refused as problem+json.
#[tokio::test]
async fn markets_route_answers_as_of_the_time_asked() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    {
        let mut store = canary_store::open(&dir.path().join("r.db")).unwrap();
        let now = Timestamp::parse("2026-12-01T00:00:00Z").unwrap();
        for name in [
            "equities_daily_ohlcv_yahoo_2018-01_2026-05.csv",
            "us_indices_daily_fred_nasdaq100_sp500_2018-01_2026-08.csv",
            "fear_greed_index_daily_alternative_me_2018-02_2026-02.csv",
        ] {
            canary_engine::jobs::markets::MarketsFile::read(
                &crate::test_data::shared(name),
                &canary_ingest::markets::MarketOptions::default(),
            )
            .unwrap()
            .store(&mut *store, None, canary_store::Revisions::Keep, now)
            .unwrap();
        }
    }
    let m = get(
        &app,
        &format!("/api/v1/markets?asof={ASOF}&miners=MARA,RIOT"),
    )
    .await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.body);
    let doc = m.json();
    assert_eq!(doc["session"], "2026-02-05T00:00:00Z");
    let miners: Vec<&str> = doc["miners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["ticker"].as_str().unwrap())
        .collect();
    assert_eq!(miners, ["MARA", "RIOT"]);
    assert!(doc["claims"].is_object());
    let later = get(&app, "/api/v1/markets?asof=2026-02-06T21:00:00Z")
        .await
        .json();
    assert_eq!(later["session"], "2026-02-06T00:00:00Z");
    for (uri, param) in [
        ("/api/v1/markets?miners=MA%20RA", "miners"),
        ("/api/v1/markets?miners=,", "miners"),
        ("/api/v1/markets?miners=MARA,mara", "named twice"),
        ("/api/v1/markets?symbol=%3Cx%3E", "symbol"),
    ] {
        let detail = get(&app, uri).await.problem(400);
        assert!(detail.contains(param), "{uri}: {detail}");
    }
    // The dashboard shows the session beside BTC and the basket against BTC.
    let page = get(&app, &format!("/dashboard?asof={ASOF}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("<table id=\"markets\">"),
        "{}",
        page.body
    );
    assert!(page.body.contains("BTC–NDX correlation, 30 sessions"));
    assert!(page.body.contains("+0.33 (beta 1.27"), "{}", page.body);
    assert!(page.body.contains("Crypto Fear &amp; Greed Index"));
    assert_eq!(page.body.matches("<polyline").count(), 2);
    assert!(
        page.body
            .contains("2025-09-26 to 2026-02-05, both from 100")
    );
    let many = vec!["MARA"; 21].join(",");
    let detail = get(&app, &format!("/api/v1/markets?miners={many}"))
        .await
        .problem(400);
    assert!(detail.contains("at most 20"), "{detail}");
}
