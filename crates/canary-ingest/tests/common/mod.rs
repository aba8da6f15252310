//! What the streams' loopback tests share: the wall clock the connectors stamp
//! with, a REST server answering from a function, and a WebSocket listener on loopback.

#![allow(dead_code, reason = "each test file uses its part")]

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use canary_model::Timestamp;

/// The stream's own clock, as the live connector stamps what it receives: the one place these
/// tests read the wall clock (the connectors take it as their `Now`; this crate is below the
/// engine's clock module, which is the one place everything else reads it).
#[expect(
    clippy::disallowed_methods,
    reason = "the live connectors' clock in a test"
)]
pub fn wall() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    Timestamp::from_millis(i64::try_from(ms).unwrap())
}

/// An answer: status, extra header lines, body.
pub struct Answer {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl Answer {
    pub fn json(body: String) -> Answer {
        Answer {
            status: 200,
            headers: "Content-Type: application/json\r\n".into(),
            body,
        }
    }

    pub fn rate_limited() -> Answer {
        Answer {
            status: 429,
            headers: "Retry-After: 1\r\n".into(),
            body: String::new(),
        }
    }
}

/// A REST server on loopback: every request line (`GET /path?query HTTP/1.1`) is recorded
/// and answered by `answer`, given the request line and how many requests came before.
pub fn rest_server(
    requests: Arc<Mutex<Vec<String>>>,
    answer: impl Fn(&str, usize) -> Answer + Send + 'static,
) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 8192];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let line = req.lines().next().unwrap_or("").to_string();
            let before = {
                let mut r = requests.lock().unwrap();
                r.push(line.clone());
                r.len() - 1
            };
            let a = answer(&line, before);
            let _ = s.write_all(
                format!(
                    "HTTP/1.1 {} X\r\n{}Content-Length: {}\r\nConnection: close\r\n\r\n{}",
                    a.status,
                    a.headers,
                    a.body.len(),
                    a.body
                )
                .as_bytes(),
            );
        }
    });
    format!("http://{addr}")
}

/// The value of `key` in a request line's query, as a number (0 when absent).
pub fn query(line: &str, key: &str) -> i64 {
    line.split(['?', '&', ' '])
        .find_map(|p| p.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The path of a request line.
pub fn path(line: &str) -> &str {
    line.split(' ')
        .nth(1)
        .unwrap_or("")
        .split('?')
        .next()
        .unwrap_or("")
}

pub const MIN: i64 = 60_000;
pub const FIVE_MIN: i64 = 300_000;
pub const HOUR: i64 = 3_600_000;
pub const EIGHT_HOURS: i64 = 8 * HOUR;

/// The last 8-hour funding settlement at or before `now` (00:00, 08:00, 16:00 UTC).
pub fn last_settlement(now: i64) -> i64 {
    now.div_euclid(EIGHT_HOURS) * EIGHT_HOURS
}

/// A funding rate per settlement, the same for the server and the test.
pub fn rate_at(t: i64) -> f64 {
    f64::from(u32::try_from(t / EIGHT_HOURS % 7).unwrap()) * 0.00001 + 0.00002
}

/// Open interest per 5-minute row, base units.
pub fn oi_at(t: i64) -> f64 {
    80_000.0 + f64::from(u32::try_from(t / FIVE_MIN % 100).unwrap())
}
