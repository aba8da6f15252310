//! The write-side jobs the command line and the server call: each takes a store and its
//! inputs, does the whole job (read, validate, map, fetch, store) and returns a summary the
//! caller renders. No job prints: progress goes to a callback the caller gives, and errors
//! name the data (the file, its line and field; the address), never a flag.
//!
//! - [`bars`]: a candle file streamed into the store with the gaps at the run's ends and
//!   inside it; simulated bars stored; a bar file stored whole.
//! - [`flows`]: entities' transactions fetched from an Esplora API, de-duplicated, their
//!   outflows stored.
//! - [`network`]: a network file's series stored; network data fetched from a mempool
//!   instance or a bitcoind node and stored.
//! - [`derivatives`], [`markets`]: a derivatives file's or an equity, index or gauge file's
//!   series stored, each value available when its kind or its exchange's close says.
//! - [`news`]: a headline file's items stored; a feed added.
//!
//! [`block_on`] and [`block_on_workers`] are the command line's one way to run async work.

pub mod bars;
pub mod derivatives;
pub mod flows;
pub mod markets;
pub mod network;
pub mod news;

use std::future::Future;
use std::path::{Path, PathBuf};

use canary_ingest::csv::ImportError;
use canary_model::Timestamp;
use canary_store::{Conflict, StoreError};

/// What a file holds of one series: how many values, the first and last time.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRead<S> {
    pub series: S,
    pub values: usize,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
}

/// A file's series as read: each with its values, `(file line, time, value)`.
type FileSeries<S> = [(S, Vec<(u64, Timestamp, f64)>)];

/// A file's series summarised, in series order.
fn summarise<S: Clone>(series: &FileSeries<S>) -> Vec<SeriesRead<S>> {
    series
        .iter()
        .map(|(s, v)| SeriesRead {
            series: s.clone(),
            values: v.len(),
            first: v.first().map(|x| x.1),
            last: v.last().map(|x| x.1),
        })
        .collect()
}

/// A file's series as points, each value available when `available_at` says.
fn points_of<S>(
    series: &FileSeries<S>,
    available_at: impl Fn(&S, Timestamp) -> Timestamp,
) -> Vec<Vec<canary_store::Point>> {
    series
        .iter()
        .map(|(s, values)| {
            values
                .iter()
                .map(|&(_, t, v)| canary_store::Point {
                    time: t,
                    value: v,
                    available_at: available_at(s, t),
                })
                .collect()
        })
        .collect()
}

/// Run `future` to its end on a runtime on this thread (a fetch, a delivery, the engine of
/// `canary run`), with I/O and timers enabled.
///
/// # Errors
/// The runtime cannot be built.
pub fn block_on<F: Future>(future: F) -> std::io::Result<F::Output> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(future))
}

/// The processor this runs on (its model name, from `/proc/cpuinfo`), which every measured
/// figure is printed with.
#[must_use]
pub fn processor() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown processor".into())
}

/// As [`block_on`], with `workers` threads running spawned tasks beside it (a server).
///
/// # Errors
/// The runtime cannot be built.
pub fn block_on_workers<F: Future>(workers: usize, future: F) -> std::io::Result<F::Output> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()?;
    Ok(rt.block_on(future))
}

/// Why the write of a file's rows stopped; nothing of the file was stored.
#[derive(Debug, thiserror::Error)]
pub enum WriteFailed {
    /// A row of the file (`FILE:LINE: field: reason`).
    #[error(transparent)]
    Row(ImportError),
    /// The row at `line` differs from the stored one of its key, and revisions are refused.
    #[error("{}:{line}: {conflict}", path.display())]
    Conflict {
        path: PathBuf,
        line: u64,
        conflict: Box<Conflict>,
    },
    /// The file gives a time twice (at `line`, the second time).
    #[error(
        "{}:{line}: time: {what} appears twice in the file; nothing was stored",
        path.display()
    )]
    Duplicate {
        path: PathBuf,
        line: u64,
        what: String,
    },
    #[error(transparent)]
    Store(StoreError),
}

/// A failed write of a file's values: a conflict names the file's line of the value at the
/// conflict's index (`lines`: each value's line, in the order written).
pub(crate) fn file_write_failed(
    e: StoreError,
    path: &Path,
    mut lines: impl Iterator<Item = u64>,
) -> WriteFailed {
    match e {
        StoreError::Conflict(conflict) => WriteFailed::Conflict {
            path: path.to_path_buf(),
            line: lines
                .nth(usize::try_from(conflict.index).unwrap_or(usize::MAX))
                .unwrap_or(0),
            conflict,
        },
        e => WriteFailed::Store(e),
    }
}

/// The source name a file's rows are stored under when none is given: its file name.
#[must_use]
pub fn file_source(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// What the jobs' tests share: a loopback HTTP server, recorded payloads, times.
#[cfg(test)]
pub(crate) mod testing {
    use std::io::{BufRead, Read, Write};

    /// Serve on 127.0.0.1 (a free port) for the test's life: each request gets the body of the
    /// first route whose key its head or body contains (status 200), else a 404. Returns
    /// `http://ADDRESS`.
    pub fn serve(routes: Vec<(&'static str, String)>) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for mut s in listener.incoming().flatten() {
                let req = request(&s);
                let (status, body) = routes
                    .iter()
                    .find(|(key, _)| req.contains(key))
                    .map_or((404, "not found"), |(_, b)| (200, b.as_str()));
                let _ = write!(
                    s,
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        format!("http://{addr}")
    }

    /// A request's head lines, then its body (by its Content-Length).
    fn request(s: &std::net::TcpStream) -> String {
        let mut r = std::io::BufReader::new(s);
        let (mut text, mut len) = (String::new(), 0);
        let mut line = String::new();
        while r.read_line(&mut line).is_ok_and(|n| n > 2) {
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
            text.push_str(&line);
            line.clear();
        }
        let mut body = vec![0; len];
        let _ = r.read_exact(&mut body);
        text + &String::from_utf8_lossy(&body)
    }

    /// A recorded payload of the connectors' tests (`canary-ingest/tests/data`).
    pub fn payload(name: &str) -> String {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../canary-ingest/tests/data")
            .join(name);
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    /// A time written out (`2026-01-05`, `2026-01-05T10:00:00Z`).
    pub fn t(s: &str) -> canary_model::Timestamp {
        canary_model::Timestamp::parse(s).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_runtimes_run_timers_and_io() {
        let slept = block_on(async {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            tokio::net::TcpListener::bind("127.0.0.1:0").await.is_ok()
        })
        .unwrap();
        assert!(slept);
        let spawned = block_on_workers(2, async {
            tokio::spawn(async { std::thread::current().id() })
                .await
                .unwrap()
        })
        .unwrap();
        assert_ne!(spawned, std::thread::current().id(), "ran on a worker");
    }

    #[test]
    fn a_file_is_its_own_source_by_name() {
        assert_eq!(file_source(Path::new("data/btc_4h.csv")), "btc_4h.csv");
        assert_eq!(file_source(Path::new("/")), "/");
    }
}
