//! Helpers shared by the binary's end-to-end tests: running `canary` on a database, the shared
//! data files (a missing one fails the test, naming it), CSV and claim checks.
#![allow(dead_code)] // each test file uses its own subset

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub fn shared(rel: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel);
    assert!(
        p.exists(),
        "missing shared data file {} (the repository expects ../shared beside it)",
        p.display()
    );
    p
}

pub fn canary(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_canary"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("CANARY_DB")
        .output()
        .expect("the canary binary runs")
}

pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "canary failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// The shared daily bars of BTCUSDT imported.
pub fn import_1d(db: &Path) -> String {
    let f = shared("data/btcusdt_binance_1d.csv");
    ok(&canary(
        db,
        &["import", f.to_str().unwrap(), "--symbol", "BTCUSDT"],
    ))
}

pub fn import_4h(db: &Path) -> String {
    let f = shared("data/btcusdt_binance_4h.csv");
    ok(&canary(
        db,
        &["import", f.to_str().unwrap(), "--symbol", "BTCUSDT"],
    ))
}

pub fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let h = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    (h, rows)
}

pub fn oracle_value(file: &str, date: &str, column: &str) -> f64 {
    let (h, rows) = parse_csv(&std::fs::read_to_string(shared(file)).unwrap());
    let c = h.iter().position(|x| x == column).unwrap();
    let r = rows.iter().find(|r| r[0] == date).unwrap();
    r[c].parse().unwrap()
}

/// Every claim id a document mentions is defined, and every derivation's inputs exist.
pub fn assert_claims_resolve(doc: &serde_json::Value, ids: &[&str]) {
    let claims = doc["claims"].as_object().expect("a claims map");
    for id in ids {
        assert!(claims.contains_key(*id), "claim {id} is not defined");
    }
    for (id, c) in claims {
        assert_eq!(c["id"], serde_json::Value::String(id.clone()));
        if c["provenance"]["kind"] == "derived" {
            for input in c["provenance"]["inputs"].as_array().unwrap() {
                assert!(
                    claims.contains_key(input.as_str().unwrap()),
                    "{id} derives from undefined {input}"
                );
            }
        }
    }
}

/// The `claim` of every entry of the document's list `key`.
pub fn claims_of<'a>(doc: &'a serde_json::Value, key: &str) -> Vec<&'a str> {
    doc[key]
        .as_array()
        .unwrap_or_else(|| panic!("no list {key}"))
        .iter()
        .map(|r| r["claim"].as_str().expect("a claim id"))
        .collect()
}

/// Every data claim of the document is of a bar or day that opened at `latest` or before.
pub fn assert_data_no_later_than(doc: &serde_json::Value, latest: &str) {
    for c in doc["claims"].as_object().expect("a claims map").values() {
        if c["provenance"]["kind"] == "data" {
            let t = c["provenance"]["time"].as_str().unwrap();
            assert!(t <= latest, "{} uses the data at {t}", c["label"]);
        }
    }
}

/// Import the shared network series (hash rate, difficulty, block reward, fleet efficiency).
pub fn import_network(db: &Path) {
    for (file, series) in [
        ("data/network_hashrate_daily.csv", "hashrate"),
        ("data/network_difficulty_daily_2020-2025.csv", "difficulty"),
        ("data/network_blockreward_daily.csv", "subsidy"),
        (
            "data/network_fleet_efficiency_cbeci_daily.csv",
            "fleet-efficiency",
        ),
    ] {
        let f = shared(file);
        ok(&canary(
            db,
            &["network", "import", f.to_str().unwrap(), "--series", series],
        ));
    }
}

/// A JSON report as every report must be: `as_of` (the time asked for), `simulated`, a
/// `warnings` list and `claims` in which every derivation resolves.
pub fn assert_report(doc: &serde_json::Value, asof: &str) -> Vec<serde_json::Value> {
    assert_eq!(doc["as_of"], asof, "as_of of {doc}");
    assert!(doc["simulated"].is_boolean(), "simulated missing");
    assert!(
        doc["claims"].as_object().is_some_and(|c| !c.is_empty()),
        "no claims"
    );
    assert_claims_resolve(doc, &[]);
    doc["warnings"].as_array().expect("a warnings list").clone()
}

/// The statistic `key` of a `stats --format json` report.
pub fn stat<'a>(doc: &'a serde_json::Value, key: &str) -> &'a serde_json::Value {
    doc["stats"]
        .as_array()
        .expect("a stats list")
        .iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in the stats"))
}

/// A request a loopback receiver got: method and path, headers (names lower-cased), body.
#[derive(Debug, Clone)]
pub struct Received {
    pub line: String,
    pub headers: std::collections::BTreeMap<String, String>,
    pub body: String,
}

/// An HTTP receiver on loopback that answers 503 to its first `fail_first` requests and 200
/// after; every request is recorded. Its base URL and the record.
pub fn receiver(fail_first: usize) -> (String, std::sync::Arc<std::sync::Mutex<Vec<Received>>>) {
    receiver_with(move |n, _| {
        if n <= fail_first {
            ("503 Service Unavailable".into(), "unavailable".into())
        } else {
            ("200 OK".into(), "ok".into())
        }
    })
}

/// An HTTP receiver on loopback answering each request (numbered from 1) as `respond` says:
/// status line and body. Its base URL and the record of every request.
pub fn receiver_with(
    respond: impl Fn(usize, &Received) -> (String, String) + Send + 'static,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<Received>>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Received>::new()));
    let record = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let head_end = loop {
                if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break Some(p);
                }
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => break None,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            };
            let Some(head_end) = head_end else { continue };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
            let mut lines = head.split("\r\n");
            let line = lines.next().unwrap_or_default().to_string();
            let headers: std::collections::BTreeMap<String, String> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                .collect();
            let len: usize = headers
                .get("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            while buf.len() < head_end + 4 + len {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let body = String::from_utf8_lossy(&buf[head_end + 4..]).to_string();
            let r = Received {
                line,
                headers,
                body,
            };
            let n = {
                let mut g = record.lock().unwrap();
                g.push(r.clone());
                g.len()
            };
            let (status, answer) = respond(n, &r);
            let _ = s.write_all(
                format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                )
                .as_bytes(),
            );
        }
    });
    (format!("http://{addr}"), got)
}

/// A `canary serve` child on a free loopback port; stopped with Ctrl-C when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    pub fn start(db: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_canary"))
            .arg("--db")
            .arg(db)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        Server { child, base: addr }
    }

    pub fn get(&self, path: &str) -> reqwest::blocking::Response {
        reqwest::blocking::get(format!("{}{path}", self.base)).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// A database of its own on the test server, dropped when the test ends.
pub struct PgDatabase {
    pub server: String,
    pub name: String,
}

impl PgDatabase {
    pub fn new(tag: &str) -> Self {
        let server = std::env::var("CANARY_TEST_POSTGRES").unwrap_or_else(|_| {
            panic!(
                "CANARY_TEST_POSTGRES is not set: run `make test`, which starts a PostgreSQL \
                 server on loopback (scripts/test-postgres.sh start) and sets it"
            )
        });
        let name = format!("cli_{tag}_{}", std::process::id());
        let mut admin = admin(&server);
        for sql in [
            format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            format!("CREATE DATABASE \"{name}\""),
        ] {
            admin.batch_execute(&sql).expect("a database is made");
        }
        PgDatabase { server, name }
    }

    pub fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }
}

fn admin(server: &str) -> postgres::Client {
    postgres::Client::connect(&format!("{server}/postgres"), postgres::NoTls)
        .unwrap_or_else(|e| panic!("the test server at {server} answers: {e}"))
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let _ = admin(&self.server).batch_execute(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ));
    }
}

/// The real 4h bars before the crash window (2026-02-05) imported into `db` through a file
/// written in `dir`, and the daily bars built from them.
pub fn import_before_crash(db: &Path, dir: &Path) {
    let name = db
        .file_stem()
        .map_or_else(|| "store".to_string(), |n| n.to_string_lossy().into_owned())
        .replace(['/', ':', '@'], "_");
    let text = std::fs::read_to_string(shared("data/btcusdt_binance_4h.csv")).unwrap();
    let pre: String = text
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.get(..10).is_some_and(|d| d < "2026-02-05"))
        .flat_map(|(_, l)| [l, "\n"])
        .collect();
    let pre_file = dir.join(format!("{name}-pre.csv"));
    std::fs::write(&pre_file, pre).unwrap();
    ok(&canary(
        db,
        &["import", pre_file.to_str().unwrap(), "--symbol", "BTCUSDT"],
    ));
    ok(&canary(
        db,
        &[
            "resample", "--symbol", "BTCUSDT", "--from", "4h", "--to", "1d",
        ],
    ));
}

/// The store at `db` made ready for the crash window (2026-02-05 on): the bars before it
/// ([`import_before_crash`]) and seven rules (the second sending to the webhook `hook`).
pub fn prepare_crash(db: &Path, dir: &Path, hook: &str) {
    import_before_crash(db, dir);
    let since = ["--since", "2026-02-05T00:00:00Z"];
    let rules: [&[&str]; 7] = [
        &["crosses_below(BTCUSDT.close, watch.support)", "--tf", "4h"],
        &[
            "BTCUSDT.rsi14.1d < 30",
            "--webhook",
            hook,
            "--allow-private",
        ],
        &["threat(BTCUSDT) >= 4"],
        &["BTCUSDT.close < 70700", "--tf", "4h", "--band", "500"],
        &["BTCUSDT.close < 70700", "--tf", "4h"],
        &["BTCUSDT.close > 70600", "--tf", "4h", "--cooldown", "3d"],
        &["BTCUSDT.close > 70600", "--tf", "4h"],
    ];
    for r in rules {
        let mut a = vec!["alerts", "add"];
        a.extend_from_slice(r);
        a.extend_from_slice(&since);
        ok(&canary(db, &a));
    }
}

/// The real 4h bars closing in `(from, to]` as a bars source, played at `speed`.
pub fn paced_config(dir: &Path, name: &str, from: &str, to: &str, speed: f64) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            "speed = {speed}\n\n[[market]]\nsymbol = \"BTCUSDT\"\ntimeframes = [\"4h\", \"1d\"]\n\n\
             [[source]]\ntype = \"bars\"\npath = {:?}\nsymbol = \"BTCUSDT\"\nfrom = \"{from}\"\nto = \"{to}\"\n\n\
             [alerts]\nallow_private = true\n",
            shared("data/btcusdt_binance_4h.csv").display().to_string()
        ),
    )
    .unwrap();
    path
}

/// One Server-Sent Event: its id, kind and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sse {
    pub id: String,
    pub kind: String,
    pub data: String,
}

/// A client of `base`'s /api/v1/stream, connected (after `last` when given): its events as
/// they come (an event without an id of its own keeps the one before, as a browser's
/// `EventSource` does; the stream's first, with no data, is not passed on).
pub fn sse(base: &str, last: Option<&str>) -> std::sync::mpsc::Receiver<Sse> {
    let mut req = reqwest::blocking::Client::builder()
        .timeout(None)
        .build()
        .unwrap()
        .get(format!("{base}/api/v1/stream"));
    if let Some(id) = last {
        req = req.header("last-event-id", id);
    }
    let r = req.send().unwrap();
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut e = Sse {
            id: String::new(),
            kind: String::new(),
            data: String::new(),
        };
        for line in std::io::BufReader::new(r).lines().map_while(Result::ok) {
            if let Some(v) = line.strip_prefix("id: ") {
                e.id = v.to_string();
            } else if let Some(v) = line.strip_prefix("event: ") {
                e.kind = v.to_string();
            } else if let Some(v) = line.strip_prefix("data: ") {
                e.data = v.to_string();
            } else if line.is_empty() && !e.kind.is_empty() {
                let kind = std::mem::take(&mut e.kind);
                if tx
                    .send(Sse {
                        kind,
                        data: std::mem::take(&mut e.data),
                        ..e.clone()
                    })
                    .is_err()
                {
                    return;
                }
            }
        }
    });
    rx
}

/// What a stream's client gets until it has had nothing for 3 s.
pub fn drain(rx: &std::sync::mpsc::Receiver<Sse>) -> Vec<Sse> {
    std::iter::from_fn(|| rx.recv_timeout(std::time::Duration::from_secs(3)).ok()).collect()
}

/// Where a new client of `base`'s /api/v1/stream stands: the id its first event gives
/// (`EPOCH:SEQ`, the latest output's).
pub fn stream_position(base: &str) -> String {
    let r = reqwest::blocking::get(format!("{base}/api/v1/stream")).unwrap();
    std::io::BufReader::new(r)
        .lines()
        .map_while(Result::ok)
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix("id: ").map(str::to_string))
        .unwrap_or_else(|| panic!("{base}: the stream's first event has no id"))
}
