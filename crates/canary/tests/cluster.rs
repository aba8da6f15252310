//! `make cluster` (scripts/cluster.sh) on a small simulated market: a three-server NATS
//! cluster, PostgreSQL, an ingest, two evaluators, a deliverer and two API servers start on
//! loopback, every symbol's bars reach the store through the bus, both API servers answer
//! from it, and `stop` ends every process cleanly.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/cluster.sh")
}

fn cluster(dir: &Path, action: &str) -> String {
    let out = Command::new("bash")
        .arg(script())
        .arg(action)
        .env("CLUSTER_DIR", dir)
        .env("CANARY_BIN", env!("CARGO_BIN_EXE_canary"))
        .env("SYMBOLS", "12")
        .env("BARS", "30")
        .env("SPEED", "36000")
        .output()
        .expect("bash runs the script");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "cluster.sh {action}: {text}");
    text
}

/// The value after `label` on a line of the script's summary.
fn field(summary: &str, label: &str) -> String {
    summary
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label} in {summary}"))
        .trim()
        .to_string()
}

/// Stops the cluster at `.0` when dropped, if it is still there.
struct Stop<'a>(&'a Path);

impl Drop for Stop<'_> {
    fn drop(&mut self) {
        if self.0.exists() {
            let _ = Command::new("bash")
                .arg(script())
                .arg("stop")
                .env("CLUSTER_DIR", self.0)
                .status();
        }
    }
}

/// Every process's log, for a failure's message.
fn logs(state: &Path) -> String {
    std::fs::read_dir(state.join("logs"))
        .map(|d| {
            d.map(|e| {
                let p = e.map(|e| e.path()).unwrap_or_default();
                format!(
                    "== {}\n{}",
                    p.display(),
                    std::fs::read_to_string(&p).unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
        })
        .unwrap_or_default()
}

#[test]
fn the_cluster_starts_takes_a_simulated_market_through_the_bus_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("cluster");
    let summary = cluster(&state, "start");
    // Stopped whatever happens: a failed assertion leaves no server or process running.
    let _stop = Stop(&state);
    let db = field(&summary, "store:");
    let apis: Vec<String> = field(&summary, "api:")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert_eq!(apis.len(), 2, "{summary}");
    // Every symbol's last 1h bar stored (the evaluators split the partitions between them).
    let waited = Instant::now();
    let complete = loop {
        let store = canary_store::open_existing(Path::new(&db)).unwrap();
        let series = store.series().unwrap();
        let done = series
            .iter()
            .filter(|s| s.timeframe.to_string() == "1h" && s.bars == 30)
            .count();
        if done == 12 {
            break series;
        }
        if waited.elapsed() > Duration::from_secs(120) {
            let logs = logs(&state);
            cluster(&state, "stop");
            panic!("{done} of 12 symbols' bars stored in 120 s: {series:?}\n{logs}");
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(
        complete
            .iter()
            .any(|s| s.timeframe.to_string() == "4h" && s.bars > 0),
        "the evaluators built the higher timeframes: {complete:?}"
    );
    let status = cluster(&state, "status");
    for role in ["eval-a", "eval-b", "deliver", "api-1", "api-2"] {
        if !status.contains(&format!("{role}: running")) {
            let logs = logs(&state);
            cluster(&state, "stop");
            panic!("{role} is not running: {status}\n{logs}");
        }
    }
    for api in &apis {
        let body = reqwest::blocking::get(format!("{api}/api/v1/health"))
            .and_then(reqwest::blocking::Response::text)
            .unwrap_or_else(|e| panic!("{api} answers: {e}"));
        assert!(body.contains("ok"), "{api}: {body}");
    }
    // Both API servers stream what the evaluators reported, from the first output on, under
    // the same ids: every symbol's 1h closes among them.
    let streamed: Vec<Vec<common::Sse>> = apis
        .iter()
        .map(|api| {
            let (epoch, _) = common::stream_position(api)
                .split_once(':')
                .map(|(e, s)| (e.to_string(), s.to_string()))
                .unwrap();
            common::drain(&common::sse(api, Some(&format!("{epoch}:0"))))
        })
        .collect();
    assert_eq!(streamed[0], streamed[1], "the same outputs, ids and all");
    let hourly = streamed[0]
        .iter()
        .filter(|e| e.kind == "bar" && e.data.contains(r#""timeframe":"1h""#))
        .count();
    assert_eq!(hourly, 12 * 30, "every 1h close, once");
    let stopped = cluster(&state, "stop");
    assert!(stopped.contains("cluster: stopped"), "{stopped}");
    assert!(
        !stopped.contains("did not stop"),
        "every process stopped on Ctrl-C: {stopped}"
    );
    assert!(!state.exists(), "stop removes the cluster's folder");
}
