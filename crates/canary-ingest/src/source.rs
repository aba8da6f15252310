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

/// At most this many characters of a body are shown in an error.
const BODY_CHARS: usize = 200;

/// A body as an error shows it: its first characters with control characters escaped (a
/// body made of bytes a terminal would act on is never printed raw).
fn snippet(s: &str) -> String {
    let s = s.trim();
    // Bytes that were not text (replaced when decoded) or NUL: say so, show none of it.
    if s.contains(['\0', '\u{fffd}']) {
        return format!("({} bytes of binary data, not shown)", s.len());
    }
    let mut out: String = s
        .chars()
        .take(BODY_CHARS)
        .flat_map(|c| {
            if c.is_control() && c != '\n' {
                c.escape_debug().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if s.chars().count() > BODY_CHARS {
        out.push('…');
    }
    out
}

/// Whether a body starts with the gzip magic bytes.
#[must_use]
pub fn is_gzip(body: &[u8]) -> bool {
    body.starts_with(&[0x1f, 0x8b])
}

/// A response body as an error may quote it: text as it is (to be cut short when shown), and
/// for anything else only what it is — a gzip-compressed body, or binary data — never its
/// bytes.
#[must_use]
pub fn body_text(body: &[u8]) -> String {
    if is_gzip(body) {
        return format!(
            "(a gzip-compressed body of {} bytes, not shown: the server sent it without Content-Encoding)",
            body.len()
        );
    }
    // The first bytes decide (a body cut at the limit may end inside a character).
    let head = &body[..body.len().min(4096)];
    let text = match std::str::from_utf8(head) {
        Ok(t) => Some(t),
        Err(e) if e.valid_up_to() + 4 > head.len() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).ok()
        }
        Err(_) => None,
    };
    match text {
        Some(t)
            if !t
                .chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) =>
        {
            t.to_string()
        }
        _ => format!("({} bytes of binary data, not shown)", body.len()),
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
    let bytes = resp
        .bytes()
        .await
        .map_err(|e| SourceError::from_reqwest(url, &e, timeout))?;
    if !status.is_success() {
        return Err(SourceError::new(
            url,
            SourceErrorKind::Http {
                status: status.as_u16(),
                body: body_text(&bytes),
            },
        ));
    }
    match String::from_utf8(bytes.to_vec()) {
        Ok(text) => Ok(text),
        Err(_) => Err(SourceError::new(
            url,
            SourceErrorKind::Malformed {
                what: "text answer",
                detail: "the answer is not UTF-8 text".into(),
                body: body_text(&bytes),
            },
        )),
    }
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
