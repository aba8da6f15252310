//! What can go wrong fetching from a remote source, named so a user can act on it.

use std::fmt;
use std::time::Duration;

/// A failed request to a source, with its address.
#[derive(Debug, thiserror::Error)]
pub struct SourceError {
    /// The URL (or RPC method at a URL) asked.
    pub address: String,
    pub kind: SourceErrorKind,
}

/// The kinds of failure.
#[derive(Debug)]
pub enum SourceErrorKind {
    /// No answer within the timeout.
    Timeout(Duration),
    /// No connection (refused, unreachable, DNS).
    Connect(String),
    /// An answer with an HTTP error status.
    Http { status: u16, body: String },
    /// An answer that is not what the API documents.
    Malformed {
        what: &'static str,
        detail: String,
        body: String,
    },
    /// The server answered with an application error (JSON-RPC `error`).
    Remote(String),
    /// The answer is larger than the limit set for it.
    TooLarge { limit: u64 },
}

fn snippet(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() > 200 {
        format!("{}…", s.chars().take(200).collect::<String>())
    } else {
        s.to_string()
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = &self.address;
        match &self.kind {
            SourceErrorKind::Timeout(d) => write!(
                f,
                "{a}: no answer within {} s (is the host up? raise the timeout)",
                d.as_secs_f64()
            ),
            SourceErrorKind::Connect(e) => write!(
                f,
                "{a}: cannot connect: {e} (check the URL and that the service is reachable)"
            ),
            SourceErrorKind::Http { status, body } => {
                write!(f, "{a}: HTTP {status}: {}", snippet(body))
            }
            SourceErrorKind::Malformed { what, detail, body } => {
                write!(
                    f,
                    "{a}: the answer is not a valid {what}: {detail}; body: {}",
                    snippet(body)
                )
            }
            SourceErrorKind::Remote(e) => write!(f, "{a}: the server answered with an error: {e}"),
            SourceErrorKind::TooLarge { limit } => write!(
                f,
                "{a}: the answer is larger than {limit} bytes, the limit (raise it if this is really a feed)"
            ),
        }
    }
}

impl SourceError {
    pub fn new(address: impl Into<String>, kind: SourceErrorKind) -> Self {
        SourceError {
            address: address.into(),
            kind,
        }
    }

    pub(crate) fn from_reqwest(address: &str, e: &reqwest::Error, timeout: Duration) -> Self {
        let kind = if e.is_timeout() {
            SourceErrorKind::Timeout(timeout)
        } else {
            SourceErrorKind::Connect(e.to_string())
        };
        SourceError::new(address, kind)
    }
}

/// GET a URL, returning the body of a 2xx answer.
pub(crate) async fn get_text(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
) -> Result<String, SourceError> {
    let resp = client
        .get(url)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| SourceError::from_reqwest(url, &e, timeout))?;
    let status = resp.status();
    let body = resp
        .text()
        .await
        .map_err(|e| SourceError::from_reqwest(url, &e, timeout))?;
    if !status.is_success() {
        return Err(SourceError::new(
            url,
            SourceErrorKind::Http {
                status: status.as_u16(),
                body,
            },
        ));
    }
    Ok(body)
}

/// Decode a JSON body into the raw payload type, or say what was wrong with it.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    address: &str,
    what: &'static str,
    body: &str,
) -> Result<T, SourceError> {
    serde_json::from_str(body).map_err(|e| {
        SourceError::new(
            address,
            SourceErrorKind::Malformed {
                what,
                detail: e.to_string(),
                body: body.to_string(),
            },
        )
    })
}
