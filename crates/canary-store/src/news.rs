//! News items (insert in one transaction with duplicates found; point-in-time reads) and the
//! feeds that `canary news poll` fetches.

use canary_model::Timestamp;
use canary_model::news::NewsItem;
use canary_news::dedup::{Duplicate, Fingerprint, Seen, find_duplicate, fingerprint, item_text};

use crate::sql::{Row, args};
use crate::{NewsStore, Source, SqlStore, StoreError, register_source, stamp};

/// Near copies are looked for among items available this long before or after an item.
pub const COPY_WINDOW_MS: i64 = 7 * 86_400_000;

/// What an insert of news items did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewsInsertReport {
    /// New items stored (copies included).
    pub inserted: usize,
    /// Items already stored (same id, or the same article under its canonical URL).
    pub present: usize,
    /// New items stored as copies of an earlier one (syndicated or lightly edited).
    pub copies: usize,
    /// The ids of the new items, in input order.
    pub new_ids: Vec<String>,
}

/// Which items to read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NewsQuery {
    /// Only items available at or before this time.
    pub asof: Option<Timestamp>,
    /// Only items available at or after this time.
    pub since: Option<Timestamp>,
    /// At most this many, the latest (still returned oldest first).
    pub limit: Option<usize>,
}

/// A feed to poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    pub url: String,
    pub interval_s: i64,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub added_at: Timestamp,
    pub last_polled: Option<Timestamp>,
    pub next_poll: Timestamp,
    /// Consecutive failed polls (the back-off doubles the interval with each, up to a day).
    pub failures: i64,
    pub last_error: Option<String>,
    /// What the last poll found: `200`, `304 not modified`, an error's summary.
    pub last_status: Option<String>,
    /// Items stored from it in all.
    pub items: i64,
}

/// The outcome of one poll of a feed, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedPoll {
    /// Fetched (200) or not modified (304): new validators, how many items were new.
    Ok {
        status: String,
        etag: Option<String>,
        last_modified: Option<String>,
        new_items: usize,
    },
    /// Failed: why.
    Failed { error: String },
}

/// The longest back-off between polls of a failing feed.
pub const MAX_BACKOFF_S: i64 = 86_400;

const ITEM_COLUMNS: &str = "id, outlet, source, url, title, summary, published_at, \
                            available_at, language, duplicate_of";

fn item_of(r: &Row<'_>) -> Result<NewsItem, StoreError> {
    Ok(NewsItem {
        id: r.get(0)?,
        outlet: r.get(1)?,
        source: r.get(2)?,
        url: r.get(3)?,
        title: r.get(4)?,
        summary: r.get(5)?,
        published_at: r.get::<Option<i64>>(6)?.map(Timestamp::from_millis),
        available_at: Timestamp::from_millis(r.get(7)?),
        language: r.get(8)?,
        duplicate_of: r.get(9)?,
    })
}

fn feed_of(r: &Row<'_>) -> Result<Feed, StoreError> {
    Ok(Feed {
        url: r.get(0)?,
        interval_s: r.get(1)?,
        etag: r.get(2)?,
        last_modified: r.get(3)?,
        added_at: Timestamp::from_millis(r.get(4)?),
        last_polled: r.get::<Option<i64>>(5)?.map(Timestamp::from_millis),
        next_poll: Timestamp::from_millis(r.get(6)?),
        failures: r.get(7)?,
        last_error: r.get(8)?,
        last_status: r.get(9)?,
        items: r.get(10)?,
    })
}

const FEED_COLUMNS: &str = "url, interval_s, etag, last_modified, added_at, last_polled, \
                            next_poll, failures, last_error, last_status, items";

/// A stored item's text and fingerprint, for the search for near copies.
struct Candidate {
    id: String,
    available_at: i64,
    fp: Fingerprint,
    text: String,
}

/// A 64-bit hash as SQLite stores integers (signed), and back: the same bits.
const fn to_sql(h: u64) -> i64 {
    h.cast_signed()
}

const fn from_sql(h: i64) -> u64 {
    h.cast_unsigned()
}

impl NewsStore for SqlStore {
    fn insert_news(
        &mut self,
        items: &[NewsItem],
        source: Source<'_>,
        ingested_at: Timestamp,
    ) -> Result<NewsInsertReport, StoreError> {
        let tx = self.begin_write()?;
        register_source(&tx, source)?;
        let at = stamp(&tx, ingested_at)?;
        let mut report = NewsInsertReport::default();
        let (lo, hi) = items.iter().fold((i64::MAX, i64::MIN), |(lo, hi), i| {
            let t = i.available_at.millis();
            (lo.min(t), hi.max(t))
        });
        let mut window: Vec<Candidate> = Vec::new();
        if !items.is_empty() {
            window = tx.all(
                "SELECT id, available_at, url, content_hash, simhash, title, summary
                 FROM news_items WHERE available_at BETWEEN ?1 AND ?2",
                args![
                    lo.saturating_sub(COPY_WINDOW_MS),
                    hi.saturating_add(COPY_WINDOW_MS)
                ],
                |r| {
                    Ok(Candidate {
                        id: r.get(0)?,
                        available_at: r.get(1)?,
                        fp: Fingerprint {
                            url: r.get(2)?,
                            content: from_sql(r.get(3)?),
                            simhash: from_sql(r.get(4)?),
                        },
                        text: item_text(&r.get::<String>(5)?, &r.get::<String>(6)?),
                    })
                },
            )?;
        }
        for item in items {
            let known: Option<String> = tx.one(
                "SELECT id FROM news_items WHERE id = ?1",
                args![item.id],
                |r| r.get(0),
            )?;
            if known.is_some() {
                report.present += 1;
                continue;
            }
            let fp = fingerprint(&item.title, &item.summary, item.url.as_deref());
            if let Some(url) = &fp.url {
                let same: Option<String> = tx.one(
                    "SELECT id FROM news_items WHERE url = ?1 LIMIT 1",
                    args![url],
                    |r| r.get(0),
                )?;
                if same.is_some() {
                    report.present += 1;
                    continue;
                }
            }
            let exact: Option<String> = tx.one(
                "SELECT id FROM news_items WHERE content_hash = ?1
                 ORDER BY available_at, id LIMIT 1",
                args![to_sql(fp.content)],
                |r| r.get(0),
            )?;
            let text = item_text(&item.title, &item.summary);
            let t = item.available_at.millis();
            let dup = match exact {
                Some(of) => Some(Duplicate::Copy {
                    of,
                    similarity: 1.0,
                }),
                None => find_duplicate(
                    &fp,
                    &text,
                    window
                        .iter()
                        .filter(|c| (c.available_at - t).abs() <= COPY_WINDOW_MS)
                        .map(|c| Seen {
                            id: &c.id,
                            fingerprint: &c.fp,
                            text: &c.text,
                        }),
                ),
            };
            let duplicate_of = match dup {
                Some(Duplicate::Same { .. }) => {
                    report.present += 1;
                    continue;
                }
                Some(Duplicate::Copy { of, .. }) => {
                    report.copies += 1;
                    Some(of)
                }
                None => None,
            };
            tx.exec(
                "INSERT INTO news_items (id, outlet, source, url, title, summary, published_at,
                    available_at, language, duplicate_of, content_hash, simhash, ingested_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                args![
                    item.id,
                    item.outlet,
                    source.name,
                    fp.url,
                    item.title,
                    item.summary,
                    item.published_at.map(Timestamp::millis),
                    t,
                    item.language,
                    duplicate_of,
                    to_sql(fp.content),
                    to_sql(fp.simhash),
                    at,
                ],
            )?;
            report.inserted += 1;
            report.new_ids.push(item.id.clone());
            window.push(Candidate {
                id: item.id.clone(),
                available_at: t,
                fp,
                text,
            });
        }
        tx.commit()?;
        Ok(report)
    }

    fn news(&self, q: NewsQuery) -> Result<Vec<NewsItem>, StoreError> {
        let asof = q.asof.map_or(i64::MAX, Timestamp::millis);
        let since = q.since.map_or(i64::MIN, Timestamp::millis);
        let limit = q
            .limit
            .map_or(i64::MAX, |n| i64::try_from(n).unwrap_or(i64::MAX));
        let mut out = self.db.all(
            &format!(
                "SELECT {ITEM_COLUMNS} FROM news_items
                 WHERE available_at <= ?1 AND available_at >= ?2
                 ORDER BY available_at DESC, id DESC LIMIT ?3"
            ),
            args![asof, since, limit],
            item_of,
        )?;
        out.reverse();
        Ok(out)
    }

    fn news_by_ids(&self, ids: &[String]) -> Result<Vec<NewsItem>, StoreError> {
        let sql = format!("SELECT {ITEM_COLUMNS} FROM news_items WHERE id = ?1");
        let mut out = Vec::new();
        for id in ids {
            if let Some(i) = self.db.one(&sql, args![id], item_of)? {
                out.push(i);
            }
        }
        out.sort_by(|a, b| a.available_at.cmp(&b.available_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    fn news_written_after(&self, stamp: i64) -> Result<(Vec<NewsItem>, i64), StoreError> {
        let mut last = stamp;
        let mut out = Vec::new();
        self.db.each(
            &format!(
                "SELECT {ITEM_COLUMNS}, ingested_at FROM news_items WHERE ingested_at > ?1
                 ORDER BY ingested_at, id"
            ),
            args![stamp],
            |r| {
                last = last.max(r.get::<i64>(10)?);
                out.push(item_of(r)?);
                Ok(true)
            },
        )?;
        Ok((out, last))
    }

    fn news_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self.db.value("SELECT count(*) FROM news_items", &[])?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn add_feed(&mut self, url: &str, interval_s: i64, now: Timestamp) -> Result<bool, StoreError> {
        let tx = self.begin_write()?;
        let existed = tx
            .one(
                "SELECT 1 FROM news_feeds WHERE url = ?1",
                args![url],
                |_| Ok(()),
            )?
            .is_some();
        if existed {
            tx.exec(
                "UPDATE news_feeds SET interval_s = ?2 WHERE url = ?1",
                args![url, interval_s],
            )?;
        } else {
            tx.exec(
                "INSERT INTO news_feeds (url, interval_s, added_at, next_poll) VALUES (?1, ?2, ?3, ?3)",
                args![url, interval_s, now.millis()],
            )?;
        }
        tx.commit()?;
        Ok(!existed)
    }

    fn remove_feed(&mut self, url: &str) -> Result<bool, StoreError> {
        let tx = self.begin_write()?;
        let n = tx.exec("DELETE FROM news_feeds WHERE url = ?1", args![url])?;
        tx.commit()?;
        Ok(n > 0)
    }

    fn feeds(&self) -> Result<Vec<Feed>, StoreError> {
        self.db.all(
            &format!("SELECT {FEED_COLUMNS} FROM news_feeds ORDER BY url"),
            &[],
            feed_of,
        )
    }

    fn record_poll(
        &mut self,
        url: &str,
        outcome: &FeedPoll,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let tx = self.begin_write()?;
        let Some((interval, failures)): Option<(i64, i64)> = tx.one(
            "SELECT interval_s, failures FROM news_feeds WHERE url = ?1",
            args![url],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
        else {
            return Ok(());
        };
        match outcome {
            FeedPoll::Ok {
                status,
                etag,
                last_modified,
                new_items,
            } => {
                tx.exec(
                    "UPDATE news_feeds SET etag = coalesce(?2, etag),
                        last_modified = coalesce(?3, last_modified), last_polled = ?4,
                        next_poll = ?5, failures = 0, last_error = NULL, last_status = ?6,
                        items = items + ?7
                     WHERE url = ?1",
                    args![
                        url,
                        etag,
                        last_modified,
                        now.millis(),
                        now.millis() + interval * 1000,
                        status,
                        i64::try_from(*new_items).unwrap_or(i64::MAX)
                    ],
                )?;
            }
            FeedPoll::Failed { error } => {
                let n = failures + 1;
                let backoff = (interval.saturating_mul(1_i64 << n.min(20))).min(MAX_BACKOFF_S);
                tx.exec(
                    "UPDATE news_feeds SET last_polled = ?2, next_poll = ?3, failures = ?4,
                        last_error = ?5, last_status = 'failed'
                     WHERE url = ?1",
                    args![url, now.millis(), now.millis() + backoff * 1000, n, error],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn item(id: &str, at: &str, url: Option<&str>, title: &str) -> NewsItem {
        NewsItem {
            id: id.into(),
            outlet: "x.com".into(),
            source: String::new(),
            url: url.map(Into::into),
            title: title.into(),
            summary: String::new(),
            published_at: None,
            available_at: t(at),
            language: None,
            duplicate_of: None,
        }
    }

    const TITLE: &str =
        "Bitcoin miner MARA moves $87 million BTC to various trading desks and exchanges";

    #[test]
    fn duplicates_are_found_across_batches_and_reads_are_point_in_time() {
        let mut s = SqlStore::in_memory().unwrap();
        let now = t("2026-02-06T00:00:00Z");
        let r = s
            .insert_news(
                &[
                    item(
                        "a",
                        "2026-02-05T11:00:00Z",
                        Some("https://coindesk.com/mara?utm_source=x"),
                        TITLE,
                    ),
                    item(
                        "b",
                        "2026-02-05T12:00:00Z",
                        Some("https://yahoo.com/mara"),
                        TITLE,
                    ),
                ],
                Source::real("f.csv"),
                now,
            )
            .unwrap();
        assert_eq!((r.inserted, r.present, r.copies), (2, 0, 1));
        let r = s
            .insert_news(
                &[
                    // Same id.
                    item("a", "2026-02-05T11:00:00Z", None, "changed"),
                    // Same article under its canonical URL.
                    item("c", "2026-02-05T13:00:00Z", Some("https://www.coindesk.com/mara/"), "x"),
                    // A light edit.
                    item(
                        "d",
                        "2026-02-05T14:00:00Z",
                        None,
                        "Bitcoin miner MARA moves $87 million in BTC to various trading desks and exchanges",
                    ),
                    item("e", "2026-02-05T15:00:00Z", None, "SEC delays solana ETF decision"),
                ],
                Source::real("g.csv"),
                now,
            )
            .unwrap();
        assert_eq!((r.inserted, r.present, r.copies), (2, 2, 1), "{r:?}");
        assert_eq!(r.new_ids, ["d", "e"]);
        let all = s.news(NewsQuery::default()).unwrap();
        let ids: Vec<&str> = all.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "d", "e"]);
        assert_eq!(all[1].duplicate_of.as_deref(), Some("a"));
        assert_eq!(all[2].duplicate_of.as_deref(), Some("a"));
        assert_eq!(all[0].url.as_deref(), Some("https://coindesk.com/mara"));
        let early = s
            .news(NewsQuery {
                asof: Some(t("2026-02-05T12:00:00Z")),
                ..NewsQuery::default()
            })
            .unwrap();
        assert_eq!(early.len(), 2);
        let last = s
            .news(NewsQuery {
                limit: Some(1),
                ..NewsQuery::default()
            })
            .unwrap();
        assert_eq!(last[0].id, "e");
    }

    #[test]
    fn feeds_back_off_after_failures_and_keep_validators() {
        let mut s = SqlStore::in_memory().unwrap();
        let now = t("2026-02-05T00:00:00Z");
        assert!(s.add_feed("http://127.0.0.1:1/rss", 600, now).unwrap());
        assert!(!s.add_feed("http://127.0.0.1:1/rss", 900, now).unwrap());
        let url = "http://127.0.0.1:1/rss";
        s.record_poll(
            url,
            &FeedPoll::Ok {
                status: "200".into(),
                etag: Some("\"v1\"".into()),
                last_modified: None,
                new_items: 3,
            },
            now,
        )
        .unwrap();
        s.record_poll(
            url,
            &FeedPoll::Failed {
                error: "timeout".into(),
            },
            now,
        )
        .unwrap();
        s.record_poll(
            url,
            &FeedPoll::Failed {
                error: "timeout".into(),
            },
            now,
        )
        .unwrap();
        let f = &s.feeds().unwrap()[0];
        assert_eq!(f.etag.as_deref(), Some("\"v1\""));
        assert_eq!(f.items, 3);
        assert_eq!(f.failures, 2);
        assert_eq!(f.next_poll.millis() - now.millis(), 900 * 4 * 1000);
        assert!(s.remove_feed(url).unwrap());
        assert!(s.feeds().unwrap().is_empty());
    }
}
