//! Polling the stored feeds: each feed due by its schedule (or every feed) is fetched with the
//! validators of its last fetch, its new items stored (duplicates found by the store), and
//! the outcome recorded — the next poll after its interval, or after a back-off that doubles
//! with each consecutive failure. A failing feed never stops the others.

use canary_ingest::news::{FeedClient, Fetched};
use canary_model::Timestamp;
use canary_store::{FeedPoll, Source, Stores};

use crate::EngineError;

/// What one feed's poll did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollOutcome {
    pub url: String,
    pub result: Result<Polled, String>,
}

/// A successful poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Polled {
    /// `200`, `200 via URL` after a redirect, or `304 not modified`.
    pub status: String,
    pub items: usize,
    pub new_items: usize,
    pub copies: usize,
}

/// Poll the feeds due at `now` (every feed with `all`), calling `each` after each one.
///
/// # Errors
/// A database error (a feed's own failure is an outcome, not an error).
pub async fn poll_feeds(
    store: &mut dyn Stores,
    client: &FeedClient,
    now: Timestamp,
    all: bool,
    mut each: impl FnMut(&PollOutcome),
) -> Result<Vec<PollOutcome>, EngineError> {
    let due: Vec<_> = store
        .feeds()?
        .into_iter()
        .filter(|f| all || f.next_poll <= now)
        .collect();
    let mut out = Vec::with_capacity(due.len());
    for f in due {
        let fetched = client
            .fetch(&f.url, f.etag.as_deref(), f.last_modified.as_deref(), now)
            .await;
        let (record, result) = match fetched {
            Ok(Fetched::NotModified) => (
                FeedPoll::Ok {
                    status: "304 not modified".into(),
                    etag: None,
                    last_modified: None,
                    new_items: 0,
                },
                Ok(Polled {
                    status: "304 not modified".into(),
                    items: 0,
                    new_items: 0,
                    copies: 0,
                }),
            ),
            Ok(Fetched::Feed {
                items,
                etag,
                last_modified,
                final_url,
            }) => {
                let r = store.insert_news(&items, Source::real(&f.url), now)?;
                let status = if final_url == f.url {
                    "200".to_string()
                } else {
                    format!("200 via {final_url}")
                };
                (
                    FeedPoll::Ok {
                        status: status.clone(),
                        etag,
                        last_modified,
                        new_items: r.inserted,
                    },
                    Ok(Polled {
                        status,
                        items: items.len(),
                        new_items: r.inserted,
                        copies: r.copies,
                    }),
                )
            }
            Err(e) => (
                FeedPoll::Failed {
                    error: e.to_string(),
                },
                Err(e.to_string()),
            ),
        };
        store.record_poll(&f.url, &record, now)?;
        let o = PollOutcome { url: f.url, result };
        each(&o);
        out.push(o);
    }
    Ok(out)
}
