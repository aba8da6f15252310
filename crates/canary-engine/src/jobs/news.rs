//! News into the store: a headline file's items (CSV or JSON; a date alone available at the
//! day's end), copies of earlier items found by the store; and feeds added for polling
//! (`crate::news_poll` polls them).

use std::path::{Path, PathBuf};

use canary_ingest::csv::{ImportError, TimeRange};
use canary_ingest::news::read_headlines;
use canary_model::Timestamp;
use canary_model::news::NewsItem;
use canary_store::{NewsInsertReport, Source, StoreError, Stores};

/// A headline file read and validated, ready to store.
#[derive(Debug, Clone)]
pub struct HeadlineFile {
    path: PathBuf,
    items: Vec<NewsItem>,
}

/// What storing a headline file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadlinesImported {
    /// The source the items are stored under: the file's name.
    pub source: String,
    /// Items the file holds.
    pub read: usize,
    pub insert: NewsInsertReport,
}

impl HeadlineFile {
    /// Read `path` (CSV, or JSON by its extension), refusing times after `now`.
    ///
    /// # Errors
    /// An unreadable file or the first invalid record (`FILE:LINE: field: reason`).
    pub fn read(path: &Path, now: Timestamp) -> Result<Self, ImportError> {
        Ok(HeadlineFile {
            path: path.to_path_buf(),
            items: read_headlines(path, now, &TimeRange::until(now))?,
        })
    }

    /// Store the items under the file's name.
    ///
    /// # Errors
    /// A database error (nothing is written).
    pub fn store(
        &self,
        store: &mut dyn Stores,
        ingested_at: Timestamp,
    ) -> Result<HeadlinesImported, StoreError> {
        let source = super::file_source(&self.path);
        let insert = store.insert_news(&self.items, Source::real(&source), ingested_at)?;
        Ok(HeadlinesImported {
            source,
            read: self.items.len(),
            insert,
        })
    }
}

/// Why a feed could not be added.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error(
        "{0:?} is not an http(s) address: give the feed's full URL, e.g. https://example.com/rss"
    )]
    NotHttp(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Check that `url` is a feed's full http(s) address (before a store is opened for it).
///
/// # Errors
/// [`FeedError::NotHttp`].
pub fn check_feed_url(url: &str) -> Result<(), FeedError> {
    let lower = url.trim().to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) || url.contains(' ') {
        return Err(FeedError::NotHttp(url.to_string()));
    }
    Ok(())
}

/// Add the feed at `url` (trimmed), polled every `interval_s` seconds, or set the interval of
/// the feed already there. Whether it is new.
///
/// # Errors
/// [`FeedError::NotHttp`], or a database error.
pub fn add_feed(
    store: &mut dyn Stores,
    url: &str,
    interval_s: i64,
    now: Timestamp,
) -> Result<bool, FeedError> {
    check_feed_url(url)?;
    Ok(store.add_feed(url.trim(), interval_s, now)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::testing::t;

    #[test]
    fn a_headline_file_is_stored_once_under_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = canary_store::open(&dir.path().join("n.db")).unwrap();
        let path = dir.path().join("headlines.csv");
        std::fs::write(
            &path,
            "id,published_at,source,title\n\
             a,2026-01-05T10:00:00Z,coindesk.com,Bitcoin miners sell reserves as hashprice falls\n\
             b,2026-01-05T11:00:00Z,theblock.co,Exchange outflows rise for a third day\n",
        )
        .unwrap();
        let now = t("2026-02-01");
        let file = HeadlineFile::read(&path, now).unwrap();
        let r = file.store(&mut *store, now).unwrap();
        assert_eq!((r.source.as_str(), r.read), ("headlines.csv", 2));
        assert_eq!((r.insert.inserted, r.insert.present), (2, 0));
        let again = file.store(&mut *store, now).unwrap();
        assert_eq!((again.insert.inserted, again.insert.present), (0, 2));
        std::fs::write(
            &path,
            "id,published_at,source,title\nc,2026-03-01T00:00:00Z,x.com,Too late\n",
        )
        .unwrap();
        let e = HeadlineFile::read(&path, now).unwrap_err();
        assert!(e.to_string().contains("headlines.csv"), "{e}");
    }

    #[test]
    fn a_feed_is_added_once_and_only_an_http_address() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = canary_store::open(&dir.path().join("f.db")).unwrap();
        let now = t("2026-02-01");
        for bad in [
            "ftp://example.com/rss",
            "example.com/rss",
            "https://exa mple.com",
        ] {
            let e = add_feed(&mut *store, bad, 3600, now).unwrap_err();
            assert!(matches!(e, FeedError::NotHttp(_)), "{bad}: {e:?}");
            assert!(e.to_string().contains("not an http(s) address"), "{e}");
        }
        assert!(add_feed(&mut *store, "https://example.com/rss", 3600, now).unwrap());
        assert!(!add_feed(&mut *store, "https://example.com/rss", 600, now).unwrap());
        let feeds = store.feeds().unwrap();
        assert_eq!(feeds.len(), 1);
        assert_eq!(
            (feeds[0].url.as_str(), feeds[0].interval_s),
            ("https://example.com/rss", 600)
        );
    }
}
