//! `canary run` on the real bars of the crash, 2026-02-05/06, replayed through the engine
//! with a rule set: each rule fires at the right bar close, once, with its cooldown and its
//! hysteresis band; a restart in the middle neither repeats nor loses a notice, and a bar begun
//! before it closes whole; the run replays from its stored events to the same notices.

mod common;

use std::path::{Path, PathBuf};

use common::{canary, ok, paced_config, shared};

/// The real 4h bars before the window, imported, daily bars built, the rules added.
fn prepare(dir: &Path, name: &str, hook: &str) -> PathBuf {
    let db = dir.join(format!("{name}.db"));
    common::prepare_crash(&db, dir, hook);
    db
}

fn config(dir: &Path, name: &str, from: &str, to: &str) -> PathBuf {
    paced_config(dir, name, from, to, 0.0)
}

fn notices(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.starts_with("alert: "))
        .map(str::to_string)
        .collect()
}

fn run(db: &Path, config: &Path) -> String {
    ok(&canary(db, &["run", "--config", config.to_str().unwrap()]))
}

/// How `run_until` stops the run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Ctrl-C: the run must stop cleanly.
    CtrlC,
    /// SIGKILL: the process dies wherever it is (a crash, `kill -9`).
    Kill,
}

/// `canary run --config CFG` until `done` holds for the lines it printed, then Ctrl-C; it
/// must stop cleanly. Its standard output (all of it) and standard error.
fn run_until(db: &Path, cfg: &Path, done: impl FnMut(&[String]) -> bool) -> (String, String) {
    run_then_stop(db, cfg, Stop::CtrlC, done)
}

/// `canary run --config CFG` until `done` holds for the lines it printed, then `stop`. Its
/// standard output (all of it) and standard error.
fn run_then_stop(
    db: &Path,
    cfg: &Path,
    stop: Stop,
    mut done: impl FnMut(&[String]) -> bool,
) -> (String, String) {
    use std::io::{BufRead, Read};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_canary"))
        .arg("--db")
        .arg(db)
        .args(["run", "--config"])
        .arg(cfg)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for l in lines.by_ref() {
        seen.push(l.unwrap());
        if done(&seen) {
            break;
        }
    }
    let signal = match stop {
        Stop::CtrlC => "-INT",
        Stop::Kill => "-KILL",
    };
    std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    seen.extend(lines.map_while(Result::ok));
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let out = seen.join("\n");
    match stop {
        Stop::CtrlC => assert!(status.success(), "{out}\n{err}"),
        Stop::Kill => assert!(
            !status.success(),
            "ended before it was killed: {out}\n{err}"
        ),
    }
    (out, err)
}

#[test]
fn shared_data_the_crash_replayed_fires_each_rule_once_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (base, got) = common::receiver(0);
    let hook = format!("{base}/hook");
    let (start, middle, end) = (
        "2026-02-05T00:00:00Z",
        "2026-02-06T08:00:00Z",
        "2026-02-07T00:00:00Z",
    );

    // Uninterrupted.
    let a = prepare(d, "a", &hook);
    let whole = run(&a, &config(d, "whole", start, end));
    let expected = [
        "alert: rule 6 `BTCUSDT.close > 70600` FIRED at 2026-02-05T04:00:00Z",
        "alert: rule 7 `BTCUSDT.close > 70600` FIRED at 2026-02-05T04:00:00Z",
        "alert: rule 4 `BTCUSDT.close < 70700` FIRED at 2026-02-05T12:00:00Z",
        "alert: rule 5 `BTCUSDT.close < 70700` FIRED at 2026-02-05T12:00:00Z",
        "alert: rule 1 `crosses_below(BTCUSDT.close, watch.support)` FIRED at 2026-02-05T20:00:00Z",
        "alert: rule 2 `BTCUSDT.rsi14.1d < 30` FIRED at 2026-02-06T00:00:00Z",
        "alert: rule 3 `threat(BTCUSDT) >= 4` FIRED at 2026-02-06T00:00:00Z",
        // No cooldown: fires again (rule 6, with 3 days, does not).
        "alert: rule 7 `BTCUSDT.close > 70600` FIRED at 2026-02-06T20:00:00Z",
        "alert: rule 1 `crosses_below(BTCUSDT.close, watch.support)` FIRED at 2026-02-07T00:00:00Z",
        // No band: 70,731 then 70,580 re-arms and fires again (rule 4, re-armed only above
        // 71,200, does not).
        "alert: rule 5 `BTCUSDT.close < 70700` FIRED at 2026-02-07T00:00:00Z",
    ];
    assert_eq!(notices(&whole), expected, "{whole}");
    // The engine's own bars: the 4h closes and the days built from six of them, with the
    // streaming RSI equal to the batch one quoted for the crash (1d 15.8, 4h 18.7).
    assert!(
        whole.contains(
            "BTCUSDT 1d bar closed 2026-02-06T00:00:00Z: 62,909.86, RSI14 15.8 (from 6 bars)"
        ),
        "{whole}"
    );
    assert!(
        whole.contains("BTCUSDT 4h bar closed 2026-02-06T04:00:00Z: 64,168.33, RSI14 18.7"),
        "{whole}"
    );
    assert!(whole.contains("12 events, 14 bars closed and stored, 10 notices (10 delivered"));
    assert_eq!(
        got.lock().unwrap().len(),
        1,
        "the webhook rule's one firing"
    );

    // Stopped in the middle of a day and started again.
    let b = prepare(d, "b", &hook);
    let first = run(&b, &config(d, "first", start, middle));
    let second = run(&b, &config(d, "second", middle, end));
    let mut both = notices(&first);
    both.extend(notices(&second));
    assert_eq!(both, expected, "{first}\n{second}");
    assert!(
        second.contains(
            "BTCUSDT 1d bar closed 2026-02-07T00:00:00Z: 70,580.26, RSI14 32.6 (from 6 bars)"
        ),
        "the day begun before the restart closes whole: {second}"
    );
    // The second half again (a restart that replays what was already seen): nothing repeats.
    let again = run(&b, &config(d, "second", middle, end));
    assert!(notices(&again).is_empty(), "{again}");
    assert_eq!(got.lock().unwrap().len(), 2, "one delivery per database");

    // The recorded run replayed from its stored events into a fresh database.
    let c = prepare(d, "c", &hook);
    let replay = d.join("replay.toml");
    std::fs::write(
        &replay,
        format!(
            "[[market]]\nsymbol = \"BTCUSDT\"\ntimeframes = [\"4h\", \"1d\"]\n\n\
             [[source]]\ntype = \"events\"\ndb = {a:?}\nfrom = \"{start}\"\nto = \"{end}\"\n"
        ),
    )
    .unwrap();
    let replayed = run(&c, &replay);
    assert_eq!(notices(&replayed), expected, "{replayed}");
    assert_eq!(bar_lines(&replayed), bar_lines(&whole));
}

/// The bars a run reported closing, in order.
fn bar_lines(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.contains(" bar closed "))
        .map(str::to_string)
        .collect()
}

/// The window of the restart tests: six weeks of real 4h bars, among them 2025-10-01, a day
/// the issue (19, item 7) saw replayed from 11 bars at 1.9 times its volume.
const RESTART_FROM: &str = "2025-09-01T00:00:00Z";
const RESTART_TO: &str = "2025-10-15T00:00:00Z";
const RESTART_BARS: usize = 6 * 44;

/// A database holding the real 4h bars of August 2025, imported: written before the run, on
/// the wall clock, as a database in use would be.
fn with_august(dir: &Path, name: &str) -> PathBuf {
    let db = dir.join(format!("{name}.db"));
    let text = std::fs::read_to_string(shared("data/btcusdt_binance_4h.csv")).unwrap();
    let august: String = text
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.starts_with("2025-08-"))
        .flat_map(|(_, l)| [l, "\n"])
        .collect();
    let file = dir.join(format!("{name}-august.csv"));
    std::fs::write(&file, august).unwrap();
    ok(&canary(
        &db,
        &["import", file.to_str().unwrap(), "--symbol", "BTCUSDT"],
    ));
    db
}

/// Every stored event but its sequence number, in order.
fn stored_events(db: &Path) -> Vec<(String, String, Option<String>, i64, i64, String)> {
    use canary_model::Timestamp;
    canary_store::open_existing(db)
        .unwrap()
        .events(
            Timestamp::from_millis(i64::MIN),
            Timestamp::from_millis(i64::MAX),
        )
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e.source,
                e.kind,
                e.symbol,
                e.event_time.millis(),
                e.available_at.millis(),
                e.payload,
            )
        })
        .collect()
}

/// The window's bars of `timeframe` as stored (the latest version of each): values, source,
/// availability and how many lower bars each was built from.
fn stored_bars(
    db: &Path,
    timeframe: &str,
) -> Vec<(canary_model::Candle, String, i64, Option<u32>)> {
    use canary_model::{Symbol, Timestamp};
    canary_store::open_existing(db)
        .unwrap()
        .candles(
            &Symbol::new("BTCUSDT").unwrap(),
            timeframe.parse().unwrap(),
            &canary_store::CandleQuery {
                from: Some(Timestamp::parse(RESTART_FROM).unwrap()),
                to: None,
                asof: None,
                last: None,
            },
        )
        .unwrap()
        .into_iter()
        .map(|b| (b.candle, b.source, b.available_at.millis(), b.source_bars))
        .collect()
}

/// The window run uninterrupted (`whole`), and run killed with SIGKILL ten days in and then
/// run again whole (`restarted`), as the issue's tester did: the two databases and the
/// uninterrupted run's output.
fn whole_and_restarted(dir: &Path) -> (PathBuf, PathBuf, String) {
    let whole = with_august(dir, "whole");
    let out = run(&whole, &config(dir, "window", RESTART_FROM, RESTART_TO));
    let restarted = with_august(dir, "restarted");
    // 25 ms a 4h bar: the kill lands with most of the window still to come.
    let paced = paced_config(dir, "paced", RESTART_FROM, RESTART_TO, 576_000.0);
    run_then_stop(&restarted, &paced, Stop::Kill, |seen| {
        seen.last()
            .is_some_and(|l| l.contains("1d bar closed 2025-09-11T00:00:00Z"))
    });
    let stored = stored_events(&restarted).len();
    assert!(
        (60..RESTART_BARS).contains(&stored),
        "killed ten days in: {stored} events stored"
    );
    run(&restarted, &config(dir, "window", RESTART_FROM, RESTART_TO));
    (whole, restarted, out)
}

/// Issue 19, item 7: a bar-file run killed and run again stored every event again (774
/// events became 1,060, then 1,548 after one more clean run). A restarted run, and a clean run
/// after it, leave exactly the events of one uninterrupted run.
#[test]
fn shared_data_rerun_of_a_bar_file_stores_each_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (whole, restarted, _) = whole_and_restarted(d);
    let expected = stored_events(&whole);
    assert_eq!(expected.len(), RESTART_BARS, "one event per 4h bar");
    let got = stored_events(&restarted);
    assert_eq!(got.len(), expected.len(), "killed, then run again");
    assert_eq!(got, expected);
    run(&restarted, &config(d, "window", RESTART_FROM, RESTART_TO));
    let again = stored_events(&restarted);
    assert_eq!(again.len(), expected.len(), "and run once more");
    assert_eq!(again, expected);
}

/// Issue 19, item 7: the events of a restarted run, replayed, built wrong daily bars (from 11
/// 4h bars, 1.9 times the volume) and revised each day again with a one-bar day available
/// from the wall clock. The replay builds and stores exactly the bars of the uninterrupted
/// run, each available at its close.
#[test]
fn shared_data_replay_of_a_restarted_run_builds_the_same_bars() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (whole, restarted, whole_out) = whole_and_restarted(d);
    let replayed = with_august(d, "replayed");
    let cfg = d.join("replay.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[market]]\nsymbol = \"BTCUSDT\"\ntimeframes = [\"4h\", \"1d\"]\n\n\
             [[source]]\ntype = \"events\"\ndb = {restarted:?}\n\
             from = \"{RESTART_FROM}\"\nto = \"{RESTART_TO}\"\n"
        ),
    )
    .unwrap();
    let out = run(&replayed, &cfg);
    assert_eq!(
        bar_lines(&out).len(),
        RESTART_BARS + 44,
        "bars closed in the replay"
    );
    assert_eq!(bar_lines(&out), bar_lines(&whole_out));
    for tf in ["4h", "1d"] {
        let bars = stored_bars(&replayed, tf);
        assert_eq!(bars, stored_bars(&whole, tf), "{tf} bars stored");
        let tf: canary_model::Timeframe = tf.parse().unwrap();
        for (c, _, available_at, _) in &bars {
            assert_eq!(
                *available_at,
                tf.close_of(c.open_time).millis(),
                "the {tf} bar of {} is available at its close, not revised later",
                c.open_time
            );
        }
    }
}

#[test]
fn a_config_that_does_not_hold_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let cfg = dir.path().join("bad.toml");
    std::fs::write(
        &cfg,
        "[[market]]\nsymbol = \"BTCUSDT\"\ntimeframes = [\"4h\", \"1d\"]\n\
         [[source]]\ntype = \"bars\"\npath = \"missing.csv\"\nsymbol = \"BTCUSDT\"\n",
    )
    .unwrap();
    let o = canary(&db, &["run", "--config", cfg.to_str().unwrap()]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("bad.toml: source 1: path") && e.contains("no such file"),
        "{e}"
    );
    assert!(!db.exists(), "nothing written");
}

#[test]
fn the_live_demo_plays_the_simulated_crash_through_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_canary"))
        .args(["demo", "--live", "--speed", "0", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let out = ok(&o);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("SIMULATED DATA"),
        "{o:?}"
    );
    assert!(
        out.contains("30 events, 35 bars closed and stored"),
        "{out}"
    );
    assert!(
        out.contains("alert: rule 2 `BTCUSDT.rsi14.1d < 30` FIRED at 2026-02-06T00:00:00Z"),
        "{out}"
    );
    assert!(dir.path().join("live.db").exists());
}

/// `canary run` on a live Binance source (a loopback server speaking its WebSocket and REST
/// protocols): the stream drops after three closed minutes, the engine's source reconnects and
/// fetches the missing minutes by REST, and after Ctrl-C the store holds every minute once,
/// with no hole.
#[test]
fn a_live_binance_stream_dropped_and_resumed_leaves_no_hole() {
    use futures_util::SinkExt;
    use std::io::{Read, Write};
    const MIN: i64 = 60_000;
    let now = canary_engine::clock::wall_now().millis();
    // If a minute is about to turn, wait for it: the test names minutes from now.
    let into_minute = now.rem_euclid(MIN);
    if into_minute > 45_000 {
        std::thread::sleep(std::time::Duration::from_millis(
            (MIN - into_minute + 500).cast_unsigned(),
        ));
    }
    let now = canary_engine::clock::wall_now().millis();
    let t = move |k: i64| (now.div_euclid(MIN) - k) * MIN;
    let row = |open: i64| {
        let o = 60_000.0 + (open / MIN % 89) as f64;
        (o, o + 4.0, o - 4.0, o + 2.0)
    };
    let frame = move |open: i64| {
        let (o, h, l, c) = row(open);
        format!(
            r#"{{"stream":"btcusdt@kline_1m","data":{{"e":"kline","E":{},"s":"BTCUSDT","k":{{"t":{open},"T":{},"s":"BTCUSDT","i":"1m","f":1,"L":2,"o":"{o}","c":"{c}","h":"{h}","l":"{l}","v":"1.5","n":2,"x":true,"q":"90000.0","V":"1.0","Q":"60000.0","B":"0"}}}}}}"#,
            open + MIN,
            open + MIN - 1
        )
    };
    // REST: /api/v3/klines for the range asked.
    let rest = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let rest_addr = rest.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in rest.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let line = String::from_utf8_lossy(&buf[..n])
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            let q = |k: &str| -> i64 {
                line.split(['?', '&', ' '])
                    .find_map(|p| p.strip_prefix(&format!("{k}=")))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            let mut rows = Vec::new();
            let mut m = q("startTime");
            while m <= q("endTime") {
                let (o, h, l, c) = row(m);
                rows.push(format!(
                    r#"[{m},"{o}","{h}","{l}","{c}","1.5",{},"90000.0",2,"1.0","60000.0","0"]"#,
                    m + MIN - 1
                ));
                m += MIN;
            }
            let body = format!("[{}]", rows.join(","));
            let _ = s.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }
    });
    // WebSocket: three closed minutes, then a drop; the next connection only repeats t-1.
    let ws = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ws_addr = ws.local_addr().unwrap();
    ws.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(ws).unwrap();
            let mut n = 0;
            let mut held = Vec::new();
            while let Ok((tcp, _)) = listener.accept().await {
                n += 1;
                let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
                if n == 1 {
                    for k in [5, 4, 3] {
                        ws.send(tokio_tungstenite::tungstenite::Message::text(frame(t(k))))
                            .await
                            .unwrap();
                    }
                    drop(ws);
                } else {
                    ws.send(tokio_tungstenite::tungstenite::Message::text(frame(t(1))))
                        .await
                        .unwrap();
                    held.push(ws);
                }
            }
        });
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    let cfg = dir.path().join("live.toml");
    // Notices about the source go to a webhook of their own.
    let (sys, sys_got) = common::receiver(0);
    std::fs::write(
        &cfg,
        format!(
            "[[market]]\nsymbol = \"BTCUSDT\"\ntimeframes = [\"1m\", \"5m\"]\n\n\
             [[source]]\ntype = \"binance\"\nsymbols = [\"BTCUSDT\"]\nws = \"ws://{ws_addr}\"\n\
             rest = \"http://{rest_addr}\"\n\n\
             [alerts]\nallow_private = true\n\n\
             [alerts.system]\nevents = [\"gap\", \"reconnected\"]\n\
             channel = {{ type = \"webhook\", url = \"{sys}/system\" }}\n"
        ),
    )
    .unwrap();
    let last_close = iso(t(1) + MIN);
    let (out, err) = run_until(&db, &cfg, |seen| {
        seen.last()
            .is_some_and(|l| l.starts_with("BTCUSDT 1m bar closed") && l.contains(&last_close))
    });
    assert!(err.contains("stopping"), "{err}");
    assert!(out.contains("binance: reconnected at"), "{out}");
    assert!(
        out.contains(&format!("binance: gap in BTCUSDT from {}", iso(t(2)))),
        "{out}"
    );
    // The gap and the reconnection reached the system webhook, each once.
    let notices: Vec<serde_json::Value> = sys_got
        .lock()
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    let rules: Vec<&str> = notices
        .iter()
        .map(|n| n["rule"].as_str().unwrap())
        .collect();
    assert_eq!(notices.len(), 2, "{rules:?}");
    assert!(notices.iter().all(|n| n["system"] == true));
    assert!(rules.contains(&"binance: reconnected"), "{rules:?}");
    assert!(
        rules
            .iter()
            .any(|r| r.starts_with(&format!("binance: gap in BTCUSDT from {}", iso(t(2))))),
        "{rules:?}"
    );
    let series = ok(&canary(&db, &["series"]));
    let row = series
        .lines()
        .find(|l| l.contains(" 1m "))
        .unwrap_or_else(|| panic!("{series}"));
    assert!(
        row.contains(" 5 ") && row.contains(&iso(t(5))) && row.contains(&iso(t(1))),
        "five minutes, t-5 to t-1, no hole: {series}"
    );
}

fn iso(ms: i64) -> String {
    canary_model::Timestamp::from_millis(ms).to_string()
}

/// `canary run` with schedules only: the stored feeds polled and network data fetched from a
/// mempool instance (loopback servers serving payloads recorded from the public docs), until
/// Ctrl-C.
#[test]
fn schedules_poll_feeds_and_fetch_network_data_until_stopped() {
    use std::io::{Read, Write};
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../canary-ingest/tests/data");
    let file = |name: &str| std::fs::read(data.join(name)).unwrap();
    let routes: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "/api/v1/difficulty-adjustment",
            "application/json",
            file("mempool_difficulty_adjustment.json"),
        ),
        (
            "/api/v1/mining/hashrate/",
            "application/json",
            file("mempool_hashrate_3d.json"),
        ),
        (
            "/api/v1/blocks",
            "application/json",
            file("mempool_blocks.json"),
        ),
        ("/rss", "application/rss+xml", file("feeds/rss2.xml")),
    ];
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 8192];
            let n = s.read(&mut buf).unwrap_or(0);
            let line = String::from_utf8_lossy(&buf[..n])
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            let path = line.split(' ').nth(1).unwrap_or("");
            match routes.iter().find(|(p, _, _)| path.starts_with(p)) {
                Some((_, ctype, body)) => {
                    let _ = s.write_all(
                        format!("HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())
                            .as_bytes(),
                    );
                    let _ = s.write_all(body);
                }
                None => {
                    let _ = s.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                }
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    ok(&canary(
        &db,
        &["news", "feeds", "add", &format!("http://{addr}/rss")],
    ));
    let cfg = dir.path().join("jobs.toml");
    std::fs::write(
        &cfg,
        format!(
            "[[market]]\nsymbol = \"BTCUSDT\"\ntimeframes = [\"1d\"]\n\n\
             [[schedule]]\ntype = \"news\"\nevery_secs = 600\n\n\
             [[schedule]]\ntype = \"mempool\"\nurl = \"http://{addr}/api\"\nevery_secs = 600\n"
        ),
    )
    .unwrap();
    let (out, _) = run_until(&db, &cfg, |seen| {
        let done = |p: &str| seen.iter().any(|l| l.starts_with(p));
        done("news: ") && done("mempool ")
    });
    assert!(out.contains("news: 1 feeds due, 2 new items"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with(&format!("mempool http://{addr}/api: "))
                && l.contains("new network values")),
        "{out}"
    );
    // Stored: polling again finds them already there.
    let again = ok(&canary(&db, &["news", "poll", "--all"]));
    assert!(again.contains("0 new"), "{again}");
}
