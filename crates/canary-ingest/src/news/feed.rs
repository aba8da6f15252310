//! Feeds (RSS 2.0, RSS 1.0, Atom, JSON Feed, parsed by `feed-rs`) into news items: pure
//! conversion from a response body, what the poller and the fuzz target call.
//!
//! An entry's id is the feed's own (GUID, Atom id, JSON Feed id; `feed-rs` derives one from
//! the content when an RSS item has none), prefixed with the feed's host so that two feeds'
//! ids cannot collide. An entry is available from `min(published, first seen)`: a feed that
//! dates an entry in the future does not make it visible early.

use canary_model::Timestamp;
use canary_model::news::NewsItem;
use canary_news::text::{canonical_url, collapse_whitespace, html_to_text, outlet_of};

/// A body that is not a feed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a feed (RSS, Atom or JSON Feed): {0}")]
pub struct NotAFeed(pub String);

/// The items of a feed body fetched from `feed_url` at `now`.
///
/// # Errors
/// [`NotAFeed`] with the parser's reason (an HTML page, broken XML, JSON that is not a JSON
/// Feed).
pub fn items_from(body: &[u8], feed_url: &str, now: Timestamp) -> Result<Vec<NewsItem>, NotAFeed> {
    let head = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
    if head.contains("<!doctype html") || head.trim_start().starts_with("<html") {
        return Err(NotAFeed(
            "an HTML page: use the address of the site's RSS or Atom feed".into(),
        ));
    }
    let feed = feed_rs::parser::parse(body).map_err(|e| NotAFeed(e.to_string()))?;
    let feed_host = outlet_of(feed_url).unwrap_or_else(|| feed_url.to_string());
    let feed_outlet = feed
        .links
        .iter()
        .find_map(|l| outlet_of(&l.href))
        .unwrap_or_else(|| feed_host.clone());
    let language = feed.language.clone();
    let mut out = Vec::with_capacity(feed.entries.len());
    for e in feed.entries {
        let title = e
            .title
            .as_ref()
            .map(|t| collapse_whitespace(&html_to_text(&t.content)))
            .unwrap_or_default();
        let summary_html = e
            .summary
            .as_ref()
            .map(|s| s.content.clone())
            .or_else(|| e.content.as_ref().and_then(|c| c.body.clone()))
            .unwrap_or_default();
        let summary = collapse_whitespace(&html_to_text(&summary_html));
        if title.is_empty() && summary.is_empty() {
            continue;
        }
        let title = if title.is_empty() {
            summary.chars().take(120).collect()
        } else {
            title
        };
        let link = e
            .links
            .iter()
            .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
            .or_else(|| e.links.first())
            .map(|l| l.href.clone());
        let url = link.as_deref().and_then(canonical_url);
        let published = e
            .published
            .or(e.updated)
            .map(|d| Timestamp::from_millis(d.timestamp_millis()));
        out.push(NewsItem {
            id: format!("{feed_host}:{}", e.id),
            outlet: url
                .as_deref()
                .and_then(outlet_of)
                .unwrap_or_else(|| feed_outlet.clone()),
            source: feed_url.to_string(),
            url,
            title,
            summary,
            published_at: published,
            available_at: published.map_or(now, |p| p.min(now)),
            language: e.language.or_else(|| language.clone()),
            duplicate_of: None,
        });
    }
    Ok(out)
}
