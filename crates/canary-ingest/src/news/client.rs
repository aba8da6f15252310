//! Fetching a feed: conditional requests (ETag, Last-Modified), redirects followed (at most
//! [`MAX_REDIRECTS`]), a timeout for the whole exchange, a cap on the body's size, and a
//! clear error for an answer that is not a feed.

use std::time::Duration;

use canary_model::Timestamp;
use canary_model::news::NewsItem;
use reqwest::header::{CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};

use super::feed::items_from;
use crate::source::{SourceError, SourceErrorKind, body_text, is_gzip};

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 5;

/// The default cap on a feed's body.
pub const DEFAULT_MAX_BYTES: u64 = 5 * 1024 * 1024;

/// What a poll found.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetched {
    /// 304: nothing new since the validators given.
    NotModified,
    /// A feed and its items.
    Feed {
        items: Vec<NewsItem>,
        etag: Option<String>,
        last_modified: Option<String>,
        /// The address the feed was finally read from, after redirects.
        final_url: String,
    },
}

/// A client for feeds.
#[derive(Debug, Clone)]
pub struct FeedClient {
    http: reqwest::Client,
    timeout: Duration,
    max_bytes: u64,
}

impl FeedClient {
    /// A client with a timeout for each fetch and a cap on bodies.
    ///
    /// # Panics
    /// If the TLS backend cannot be initialised (a broken build).
    #[must_use]
    pub fn new(timeout: Duration, max_bytes: u64) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            .user_agent(concat!(
                "canary/",
                env!("CARGO_PKG_VERSION"),
                " (feed reader)"
            ))
            .build()
            .expect("an HTTP client");
        FeedClient {
            http,
            timeout,
            max_bytes,
        }
    }

    /// Fetch `url`, sending the validators of the last fetch, and read its items as seen at
    /// `now`.
    ///
    /// # Errors
    /// No connection, no answer in time, an HTTP error, a body over the cap, an HTML page or
    /// anything else that is not a feed — each naming the address.
    pub async fn fetch(
        &self,
        url: &str,
        etag: Option<&str>,
        last_modified: Option<&str>,
        now: Timestamp,
    ) -> Result<Fetched, SourceError> {
        tokio::time::timeout(
            self.timeout,
            self.fetch_inner(url, etag, last_modified, now),
        )
        .await
        .unwrap_or_else(|_| {
            Err(SourceError::new(
                url,
                SourceErrorKind::Timeout(self.timeout),
            ))
        })
    }

    async fn fetch_inner(
        &self,
        url: &str,
        etag: Option<&str>,
        last_modified: Option<&str>,
        now: Timestamp,
    ) -> Result<Fetched, SourceError> {
        let mut req = self.http.get(url).timeout(self.timeout);
        if let Some(e) = etag {
            req = req.header(IF_NONE_MATCH, e);
        }
        if let Some(m) = last_modified {
            req = req.header(IF_MODIFIED_SINCE, m);
        }
        let mut resp = req
            .send()
            .await
            .map_err(|e| SourceError::from_reqwest(url, &e, self.timeout))?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        let final_url = resp.url().to_string();
        let header = |name| {
            resp.headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let (new_etag, new_modified, content_type) =
            (header(ETAG), header(LAST_MODIFIED), header(CONTENT_TYPE));
        if resp.content_length().is_some_and(|n| n > self.max_bytes) {
            return Err(SourceError::new(
                url,
                SourceErrorKind::TooLarge {
                    limit: self.max_bytes,
                },
            ));
        }
        let mut body: Vec<u8> = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| SourceError::from_reqwest(url, &e, self.timeout))?
        {
            if (body.len() + chunk.len()) as u64 > self.max_bytes {
                return Err(SourceError::new(
                    url,
                    SourceErrorKind::TooLarge {
                        limit: self.max_bytes,
                    },
                ));
            }
            body.extend_from_slice(&chunk);
        }
        if !status.is_success() {
            return Err(SourceError::new(
                url,
                SourceErrorKind::Http {
                    status: status.as_u16(),
                    body: body_text(&body),
                },
            ));
        }
        let malformed = |detail: String| {
            SourceError::new(
                url,
                SourceErrorKind::Malformed {
                    what: "feed (RSS, Atom or JSON Feed)",
                    detail,
                    body: body_text(&body[..body.len().min(4096)]),
                },
            )
        };
        if let Some(ct) = &content_type {
            let ct = ct.to_ascii_lowercase();
            if ct.starts_with("text/html") || ct.starts_with("image/") || ct.starts_with("video/") {
                return Err(malformed(format!(
                    "the answer is {ct}, not a feed: use the address of the site's RSS or Atom feed"
                )));
            }
        }
        if is_gzip(&body) {
            return Err(malformed(
                "a gzip-compressed body that the server sent without Content-Encoding (the server, or a proxy before it, is misconfigured)".into(),
            ));
        }
        let items = items_from(&body, &final_url, now).map_err(|e| malformed(e.0))?;
        Ok(Fetched::Feed {
            items,
            etag: new_etag,
            last_modified: new_modified,
            final_url,
        })
    }
}
