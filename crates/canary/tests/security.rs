//! Hostile tests of every boundary a stranger can reach (issue 19; the threat model is
//! `docs/security.md`): each test is named after what it defends against, and each failed
//! before its fix. `canary serve` runs as the binary on loopback; receivers are loopback
//! servers of the test's own.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{Server, canary, import_4h, ok, receiver};

fn status_and_detail(r: reqwest::blocking::Response) -> (u16, String) {
    let status = r.status().as_u16();
    let ctype = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let text = r.text().unwrap();
    if status >= 400 {
        assert_eq!(
            ctype.as_deref(),
            Some("application/problem+json"),
            "{status}: {text}"
        );
        let p: serde_json::Value = serde_json::from_str(&text).unwrap();
        return (status, p["detail"].as_str().unwrap().to_string());
    }
    (status, text)
}

fn post(s: &Server, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let mut r = reqwest::blocking::Client::new()
        .post(format!("{}{path}", s.base))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    status_and_detail(r.send().unwrap())
}

fn get(s: &Server, path: &str, token: Option<&str>) -> (u16, String) {
    let mut r = reqwest::blocking::Client::new().get(format!("{}{path}", s.base));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    status_and_detail(r.send().unwrap())
}

fn issue(db: &std::path::Path, name: &str) -> String {
    ok(&canary(db, &["tokens", "create", "--name", name]))
        .trim()
        .to_string()
}

fn nested(n: usize) -> String {
    format!("{}BTCUSDT.close < 5{}", "(".repeat(n), ")".repeat(n))
}

/// Item 1: `POST /api/v1/alerts/backtest` with a rule in 1,400 parentheses aborted the whole
/// server (a thread's stack overflowed); so did adding it. Now each is a 400 naming the
/// limit, and the server goes on answering.
#[test]
fn one_request_with_a_rule_nested_1400_deep_does_not_stop_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("n.db");
    import_4h(&db);
    let token = issue(&db, "t");
    let s = Server::start(&db, &[]);
    for (rule, limit) in [
        (nested(1_400), "at most 1000"),
        (nested(40), "more than 32 levels"),
        (vec!["1 < 2"; 65].join(" or "), "more than 64 conditions"),
    ] {
        let body = serde_json::json!({ "rule": rule, "from": "2026-01-01T00:00:00Z" });
        let (status, d) = post(&s, "/api/v1/alerts/backtest", None, &body.to_string());
        assert_eq!(status, 400, "{d}");
        assert!(d.contains(limit), "{d}");
        assert!(d.len() < 600, "the error quotes the rule short: {d}");
        let (status, d) = post(&s, "/api/v1/alerts/rules", Some(&token), &body.to_string());
        assert_eq!(status, 400, "{d}");
        assert!(d.contains(limit), "{d}");
    }
    assert_eq!(get(&s, "/api/v1/health", None).0, 200, "still serving");
    // The command line: refused with exit 1, not aborted (134).
    for cmd in ["backtest", "add"] {
        let mut a = vec!["alerts", cmd];
        let rule = nested(10_000);
        a.push(&rule);
        if cmd == "backtest" {
            a.extend(["--from", "2026-01-01"]);
        }
        let o = canary(&db, &a);
        assert_eq!(o.status.code(), Some(1), "{o:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("characters long; at most 1000"), "{err}");
        assert!(err.len() < 1000, "{err}");
    }
}

/// Item 2: a rule stored before the limits (the command line took 5,000 parentheses) made
/// `serve --run` abort at every start. It is reported, named, and the server serves.
#[test]
fn a_stored_rule_past_the_limits_does_not_crash_loop_serve_run() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    import_4h(&db);
    {
        let mut store = canary_store::open(&db).unwrap();
        let t = canary_model::Timestamp::parse("2026-02-01T00:00:00Z").unwrap();
        store
            .add_rule(
                "operator",
                &nested(5_000),
                "4h",
                r#"{"for_evals":1,"cooldown_ms":0,"band":0.0,"frequency":"transition","notify_resolved":false}"#,
                r#"{"type":"log"}"#,
                t,
            )
            .unwrap();
    }
    let cfg = dir.path().join("run.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[market]]\nsymbol = \"BTCUSDT\"\ntimeframes = [\"4h\"]\n\n\
             [[source]]\ntype = \"bars\"\npath = {:?}\nsymbol = \"BTCUSDT\"\n\
             from = \"2026-02-04T00:00:00Z\"\nto = \"2026-02-05T00:00:00Z\"\n",
            common::shared("data/btcusdt_binance_4h.csv")
        ),
    )
    .unwrap();
    let mut s = Server::start(&db, &["--run", cfg.to_str().unwrap()]);
    // The engine takes the bar file's closes and checks the rules at each.
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(3) {
        assert!(s.child.try_wait().unwrap().is_none(), "serve --run stopped");
        assert_eq!(get(&s, "/api/v1/health", None).0, 200);
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(s);
    let out = ok(&canary(
        &db,
        &["alerts", "check", "--asof", "2026-02-05T00:00:00Z"],
    ));
    assert!(
        out.contains("rule 1 `((((") && out.contains("(10017 characters)`: could not be checked"),
        "{out}"
    );
    assert!(out.contains("at most 1000"), "{out}");
}

/// Items 3 and 4 at the API: `allow_private` in a request turned the guard off; names and
/// address forms that reach loopback, link-local, unique-local, CGNAT or metadata addresses
/// were accepted.
#[test]
fn the_api_cannot_turn_the_ssrf_guard_off_nor_walk_around_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("g.db");
    import_4h(&db);
    let token = issue(&db, "t");
    let (hook, got) = receiver(0);
    let port = hook.rsplit(':').next().unwrap().to_string();
    let s = Server::start(&db, &[]);
    let add = |url: &str, extra: &str| {
        post(
            &s,
            "/api/v1/alerts/rules",
            Some(&token),
            &format!(
                r#"{{"rule": "BTCUSDT.close < 3", "channel": {{"type": "webhook", "url": "{url}"{extra}}}}}"#
            ),
        )
    };
    let (status, d) = add(&format!("{hook}/x"), r#", "allow_private": true"#);
    assert_eq!(status, 400, "{d}");
    assert!(d.contains("not a field of a request"), "{d}");
    // Every name the hosts file maps to a loopback address, and the address forms.
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let mut names: Vec<String> = hosts
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let ip: std::net::IpAddr = w.next()?.parse().ok()?;
            ip.is_loopback()
                .then(|| w.map(str::to_string).collect::<Vec<_>>())
        })
        .flatten()
        .filter(|n| !n.starts_with('#'))
        .collect();
    assert!(names.iter().any(|n| n == "localhost"), "{hosts}");
    names.retain(|n| !n.contains(':'));
    let mut urls: Vec<String> = names
        .iter()
        .map(|n| format!("http://{n}:{port}/x"))
        .collect();
    urls.extend(
        [
            "http://[::ffff:127.0.0.1]:PORT/x",
            "http://[::ffff:7f00:1]:PORT/x",
            "http://2130706433:PORT/x",
            "http://[fe80::1]/x",
            "http://[fd00::1]/x",
            "http://100.64.0.1/x",
            "http://0.1.2.3/x",
            "http://[::ffff:169.254.169.254]/latest/meta-data",
            "http://169.254.169.254/latest/meta-data",
        ]
        .iter()
        .map(|u| u.replace("PORT", &port)),
    );
    for url in &urls {
        let (status, d) = add(url, "");
        assert_eq!(status, 400, "{url} accepted");
        assert!(d.contains("public addresses only"), "{url}: {d}");
    }
    assert!(got.lock().unwrap().is_empty());
    drop(s);
    // The operator allows private destinations: the same rule is taken and tested.
    let s = Server::start(&db, &["--allow-private"]);
    let (status, d) = post(
        &s,
        "/api/v1/alerts/rules",
        Some(&token),
        &format!(
            r#"{{"rule": "BTCUSDT.close < 3", "channel": {{"type": "webhook", "url": "{hook}/x"}}}}"#
        ),
    );
    assert_eq!(status, 201, "{d}");
    let id = serde_json::from_str::<serde_json::Value>(&d).unwrap()["id"].clone();
    let (status, d) = post(
        &s,
        &format!("/api/v1/alerts/rules/{id}/test"),
        Some(&token),
        "",
    );
    assert_eq!(status, 200, "{d}");
    assert_eq!(got.lock().unwrap().len(), 1, "delivered when allowed");
}

/// Item 4 at delivery: a rule whose webhook is a name resolving to loopback, allowed when it
/// was added, is not delivered by a process that does not allow private destinations; the
/// log names the address the name resolved to.
#[test]
fn a_name_resolving_to_loopback_is_refused_at_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    import_4h(&db);
    let (hook, got) = receiver(0);
    let named = hook.replace("127.0.0.1", "localhost");
    ok(&canary(
        &db,
        &[
            "alerts",
            "add",
            "BTCUSDT.rsi14.1d < 30",
            "--webhook",
            &format!("{named}/hook"),
            "--allow-private",
            "--since",
            "2026-01-25T00:00:00Z",
        ],
    ));
    let check = |extra: &[&str]| {
        let mut a = vec![
            "alerts",
            "check",
            "--asof",
            "2026-02-01T12:00:00Z",
            "--attempts",
            "1",
        ];
        a.extend_from_slice(extra);
        ok(&canary(&db, &a))
    };
    let out = check(&[]);
    assert!(out.contains("0 notices delivered, 1 failed"), "{out}");
    assert!(
        out.contains("localhost: resolves to 127.0.0.1, a loopback address"),
        "{out}"
    );
    assert!(got.lock().unwrap().is_empty(), "nothing reached loopback");
    // The same process allowed: delivered (so the refusal above was the guard's).
    ok(&canary(
        &db,
        &["alerts", "test", "1", "--allow-private", "--attempts", "1"],
    ));
    assert_eq!(got.lock().unwrap().len(), 1);
}

/// Item 5: rules added from the command line without a token belonged to the token `local`,
/// which any HTTP client could send (and delete them with). They belong to the operator now.
#[test]
fn bearer_local_reaches_none_of_the_command_lines_rules() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    import_4h(&db);
    ok(&canary(&db, &["alerts", "add", "BTCUSDT.close < 3"]));
    let token = issue(&db, "someone");
    let s = Server::start(&db, &[]);
    let (status, d) = get(&s, "/api/v1/alerts/rules", Some("local"));
    assert_eq!(status, 401, "{d}");
    let r = reqwest::blocking::Client::new()
        .delete(format!("{}/api/v1/alerts/rules/1", s.base))
        .bearer_auth("local")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // No issued token reaches them either.
    let (status, rules) = get(&s, "/api/v1/alerts/rules", Some(&token));
    assert_eq!((status, rules.as_str()), (200, "[]"));
    let r = reqwest::blocking::Client::new()
        .delete(format!("{}/api/v1/alerts/rules/1", s.base))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert!(ok(&canary(&db, &["alerts", "list"])).contains("BTCUSDT.close < 3"));
}

/// Item 6: tokens were self-chosen, so twenty invented tokens got twenty fresh rate limits.
/// Now an invented token is refused and every request counts against its address; a revoked
/// token stops working.
#[test]
fn invented_tokens_are_refused_and_cannot_reset_the_rate_limit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    import_4h(&db);
    let token = issue(&db, "real");
    let s = Server::start(&db, &["--rate-per-address", "10", "--rate", "5"]);
    let mut statuses = Vec::new();
    for i in 0..20 {
        statuses.push(get(&s, "/api/v1/health", Some(&format!("made-up-{i}"))).0);
    }
    assert!(!statuses.contains(&200), "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 10);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 10);
    drop(s);
    // Per token: five a minute, whatever the address allows.
    let s = Server::start(&db, &["--rate", "5"]);
    let ok_then_limited: Vec<u16> = (0..7)
        .map(|_| get(&s, "/api/v1/alerts/rules", Some(&token)).0)
        .collect();
    assert_eq!(ok_then_limited, [200, 200, 200, 200, 200, 429, 429]);
    drop(s);
    let s = Server::start(&db, &[]);
    assert_eq!(get(&s, "/api/v1/alerts/rules", Some(&token)).0, 200);
    let out = ok(&canary(&db, &["tokens", "revoke", "1"]));
    assert!(out.contains("token 1 (real) revoked"), "{out}");
    std::thread::sleep(canary_server::TOKEN_RECHECK + Duration::from_millis(500));
    let (status, d) = get(&s, "/api/v1/alerts/rules", Some(&token));
    assert_eq!(status, 401, "{d}");
    assert!(d.contains("unknown or revoked"), "{d}");
}

/// Item 10: a silent connection and a half-sent header stayed open past 70 s, and 200
/// slowloris connections survived 60 s. Headers must come within the header timeout, a body
/// within the body timeout, and connections past the cap wait their turn.
#[test]
fn silent_and_slow_clients_are_disconnected() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    import_4h(&db);
    let s = Server::start(
        &db,
        &[
            "--header-timeout",
            "1",
            "--body-timeout",
            "1",
            "--timeout",
            "1",
            "--max-connections",
            "8",
        ],
    );
    let addr = s.base.trim_start_matches("http://").to_string();
    let connect = || {
        let c = TcpStream::connect(&addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c
    };
    // Closed (or answered and closed) within a few seconds, not left open.
    let closed_within = |mut c: TcpStream, limit: Duration| -> String {
        let t0 = Instant::now();
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            match c.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => panic!("still open after {:?}: {e}", t0.elapsed()),
            }
        }
        assert!(t0.elapsed() < limit, "closed after {:?}", t0.elapsed());
        String::from_utf8_lossy(&got).into_owned()
    };
    // A silent connection.
    closed_within(connect(), Duration::from_secs(5));
    // A half-sent header.
    let mut half = connect();
    half.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    closed_within(half, Duration::from_secs(5));
    // A body that stops halfway: 408, then closed.
    let mut body = connect();
    body.write_all(
        b"POST /api/v1/alerts/backtest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"rule\":",
    )
    .unwrap();
    let answer = closed_within(body, Duration::from_secs(8));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // Slowloris: 20 connections each sending a header byte every 200 ms.
    let t0 = Instant::now();
    let loris: Vec<_> = (0..20)
        .map(|_| {
            let mut c = connect();
            std::thread::spawn(move || {
                let head = b"GET /api/v1/health HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
                for b in head.iter().cycle() {
                    if c.write_all(&[*b]).is_err() {
                        return Instant::now();
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
                unreachable!()
            })
        })
        .collect();
    for l in loris {
        let cut = l.join().unwrap();
        assert!(
            cut.duration_since(t0) < Duration::from_secs(10),
            "a slowloris connection lasted {:?}",
            cut.duration_since(t0)
        );
    }
    // The cap: eight silent connections hold every slot; a ninth request is answered once
    // the header timeout frees them, not refused and not left waiting.
    let hold: Vec<_> = (0..8).map(|_| connect()).collect();
    std::thread::sleep(Duration::from_millis(200));
    let t0 = Instant::now();
    assert_eq!(get(&s, "/api/v1/health", None).0, 200);
    assert!(
        t0.elapsed() > Duration::from_millis(300),
        "{:?}",
        t0.elapsed()
    );
    assert!(t0.elapsed() < Duration::from_secs(6), "{:?}", t0.elapsed());
    drop(hold);
}

/// Item 11 (the server's part): a bad query or path value got a text/plain answer.
#[test]
fn bad_query_and_path_values_get_problem_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("q.db");
    import_4h(&db);
    let token = issue(&db, "t");
    let s = Server::start(&db, &[]);
    for (path, status) in [
        ("/api/v1/candles?last=abc", 400),
        ("/api/v1/stats?asof=2026-01-01&asof=2026-01-02", 400),
        ("/api/v1/score/history?days=x", 400),
    ] {
        let (got, d) = get(&s, path, None);
        assert_eq!(got, status, "{path}: {d}");
        assert!(!d.is_empty(), "{path}");
    }
    let r = reqwest::blocking::Client::new()
        .delete(format!("{}/api/v1/alerts/rules/abc", s.base))
        .bearer_auth(&token)
        .send()
        .unwrap();
    let (got, d) = status_and_detail(r);
    assert_eq!(got, 400, "{d}");
    let r = reqwest::blocking::Client::new()
        .put(format!("{}/api/v1/alerts/rules", s.base))
        .send()
        .unwrap();
    let (got, d) = status_and_detail(r);
    assert_eq!(got, 405, "{d}");
}

/// Item 12 (the rules' part): a rule on a symbol with no data, and `within 0h`, were
/// accepted and could never fire.
#[test]
fn rules_that_could_never_fire_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("f.db");
    import_4h(&db);
    let o = canary(&db, &["alerts", "add", "FOO.close < 3"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no bars of FOO are stored (stored: BTCUSDT)"),
        "{err}"
    );
    // A market about to stream, said so.
    ok(&canary(
        &db,
        &["alerts", "add", "FOO.close < 3", "--before-data"],
    ));
    let o = canary(
        &db,
        &["alerts", "add", "BTCUSDT.close rises_by 5 within 0h"],
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("less than a minute"),
        "{o:?}"
    );
    let token = issue(&db, "t");
    let s = Server::start(&db, &[]);
    let (status, d) = post(
        &s,
        "/api/v1/alerts/rules",
        Some(&token),
        r#"{"rule": "FOO.close < 3"}"#,
    );
    assert_eq!(status, 400, "{d}");
    assert!(d.contains("no bars of FOO"), "{d}");
}
