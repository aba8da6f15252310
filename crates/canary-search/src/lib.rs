//! Canary's full-text index of news items (tantivy, BM25).
//!
//! The index is a cache of the store: [`NewsIndex::sync`] adds the items stored since the
//! last sync (items are never changed once stored, so adding is all it takes), and the
//! stamp it reached is saved with each commit. Searches filter by time inside the index
//! (only items available at or before the as-of time, and from `since`) and by outlet; tags
//! and sentiment, which depend on the dictionary in use, are the caller's to filter.

use std::ops::Bound;
use std::path::Path;

use canary_model::Timestamp;
use canary_model::news::NewsItem;
use tantivy::collector::TopDocs;
use tantivy::query::{
    BooleanQuery, MoreLikeThisQuery, Occur, Query, QueryParser, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TEXT, Value};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term, doc};

/// What can go wrong with the index.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index at {path}: {source} (delete the folder to rebuild it from the database)")]
    Index {
        path: String,
        source: tantivy::TantivyError,
    },
    #[error("no item {0} in the search index")]
    UnknownItem(String),
}

/// A search: words, the time it is as of, and filters.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// Words to find: all of them, any order; "quoted phrases" kept together; a word that
    /// the query syntax cannot read is taken as plain text.
    pub text: String,
    /// Only items available at or before this time.
    pub asof: Option<Timestamp>,
    /// Only items available at or after this time.
    pub since: Option<Timestamp>,
    /// Only items of this outlet.
    pub outlet: Option<String>,
    /// At most this many hits.
    pub limit: usize,
}

/// A hit: the item's id and its BM25 score.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: String,
    pub score: f64,
    pub available_at: Timestamp,
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    id: Field,
    title: Field,
    summary: Field,
    outlet: Field,
    available: Field,
}

/// The index of news items.
pub struct NewsIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    origin: String,
}

impl std::fmt::Debug for NewsIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewsIndex")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        title: b.add_text_field("title", TEXT | STORED),
        summary: b.add_text_field("summary", TEXT | STORED),
        outlet: b.add_text_field("outlet", STRING),
        available: b.add_i64_field("available_at", INDEXED | STORED),
    };
    (b.build(), fields)
}

/// The memory the writer may use (tantivy's minimum is 15 MB).
const WRITER_BYTES: usize = 32 * 1024 * 1024;

impl NewsIndex {
    /// Open the index in `dir`, creating it (and the folder) if there is none.
    ///
    /// # Errors
    /// The folder cannot be made, or holds something that is not this index.
    pub fn open(dir: &Path) -> Result<NewsIndex, SearchError> {
        let origin = dir.display().to_string();
        let err = |source| SearchError::Index {
            path: origin.clone(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| err(tantivy::TantivyError::from(e)))?;
        let (schema, fields) = schema();
        let index = if dir.join("meta.json").is_file() {
            let i = Index::open_in_dir(dir).map_err(err)?;
            if i.schema() != schema {
                return Err(err(tantivy::TantivyError::SchemaError(
                    "the index was made by another version of canary".into(),
                )));
            }
            i
        } else {
            Index::create_in_dir(dir, schema).map_err(err)?
        };
        NewsIndex::with(index, fields, origin)
    }

    /// An index in memory (tests, one-off searches).
    ///
    /// # Errors
    /// Never in practice: tantivy's in-memory directory cannot fail to open.
    pub fn in_memory() -> Result<NewsIndex, SearchError> {
        let (schema, fields) = schema();
        NewsIndex::with(Index::create_in_ram(schema), fields, "memory".into())
    }

    fn with(index: Index, fields: Fields, origin: String) -> Result<NewsIndex, SearchError> {
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|source| SearchError::Index {
                path: origin.clone(),
                source,
            })?;
        Ok(NewsIndex {
            index,
            reader,
            fields,
            origin,
        })
    }

    fn err(&self, source: tantivy::TantivyError) -> SearchError {
        SearchError::Index {
            path: self.origin.clone(),
            source,
        }
    }

    /// The store's write stamp up to which items are indexed (0 for a new index).
    ///
    /// # Errors
    /// The index's metadata cannot be read.
    pub fn synced_to(&self) -> Result<i64, SearchError> {
        let metas = self.index.load_metas().map_err(|e| self.err(e))?;
        Ok(metas
            .payload
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0))
    }

    /// Add items (those stored after [`synced_to`](Self::synced_to)) and record that the
    /// index now reaches `stamp`.
    ///
    /// # Errors
    /// Writing the index fails.
    pub fn add(&mut self, items: &[NewsItem], stamp: i64) -> Result<(), SearchError> {
        let mut w: IndexWriter = self
            .index
            .writer_with_num_threads(1, WRITER_BYTES)
            .map_err(|e| self.err(e))?;
        let f = self.fields;
        for i in items {
            w.add_document(doc!(
                f.id => i.id.as_str(),
                f.title => i.title.as_str(),
                f.summary => i.summary.as_str(),
                f.outlet => i.outlet.to_lowercase(),
                f.available => i.available_at.millis(),
            ))
            .map_err(|e| self.err(e))?;
        }
        let mut c = w.prepare_commit().map_err(|e| self.err(e))?;
        c.set_payload(&stamp.to_string());
        c.commit().map_err(|e| self.err(e))?;
        w.wait_merging_threads().map_err(|e| self.err(e))?;
        self.reader.reload().map_err(|e| self.err(e))?;
        Ok(())
    }

    /// How many items are indexed.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The filters every search takes: time and outlet.
    fn filters(&self, q: &SearchQuery) -> Vec<(Occur, Box<dyn Query>)> {
        let f = self.fields;
        let mut out: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let lo = q.since.map_or(Bound::Unbounded, |t| {
            Bound::Included(Term::from_field_i64(f.available, t.millis()))
        });
        let hi = q.asof.map_or(Bound::Unbounded, |t| {
            Bound::Included(Term::from_field_i64(f.available, t.millis()))
        });
        if q.since.is_some() || q.asof.is_some() {
            out.push((Occur::Must, Box::new(RangeQuery::new(lo, hi))));
        }
        if let Some(o) = &q.outlet {
            out.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.outlet, &o.to_lowercase()),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        out
    }

    fn run(&self, query: &dyn Query, limit: usize) -> Result<Vec<Hit>, SearchError> {
        let searcher = self.reader.searcher();
        let top = searcher
            .search(query, &TopDocs::with_limit(limit.max(1)).order_by_score())
            .map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let d: TantivyDocument = searcher.doc(addr).map_err(|e| self.err(e))?;
            let id = d
                .get_first(self.fields.id)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string();
            let at = d
                .get_first(self.fields.available)
                .and_then(|v| v.as_i64())
                .unwrap_or(0);
            out.push(Hit {
                id,
                score: f64::from(score),
                available_at: Timestamp::from_millis(at),
            });
        }
        Ok(out)
    }

    /// Items matching the words, best first.
    ///
    /// # Errors
    /// Reading the index fails.
    pub fn search(&self, q: &SearchQuery) -> Result<Vec<Hit>, SearchError> {
        let f = self.fields;
        let mut parser = QueryParser::for_index(&self.index, vec![f.title, f.summary]);
        parser.set_conjunction_by_default();
        parser.set_field_boost(f.title, 2.0);
        let (words, _unreadable) = parser.parse_query_lenient(&q.text);
        let mut parts = self.filters(q);
        parts.push((Occur::Must, words));
        self.run(&BooleanQuery::new(parts), q.limit)
    }

    /// Items whose words are most like those of item `id` (BM25 "more like this"), within
    /// the query's time and outlet filters; the item itself is left out.
    ///
    /// # Errors
    /// [`SearchError::UnknownItem`] when the index does not hold `id`; reading fails.
    pub fn more_like(&self, id: &str, q: &SearchQuery) -> Result<Vec<Hit>, SearchError> {
        let f = self.fields;
        let searcher = self.reader.searcher();
        let this = TermQuery::new(Term::from_field_text(f.id, id), IndexRecordOption::Basic);
        let found = searcher
            .search(&this, &TopDocs::with_limit(1).order_by_score())
            .map_err(|e| self.err(e))?;
        let Some((_, addr)) = found.first() else {
            return Err(SearchError::UnknownItem(id.to_string()));
        };
        let like = MoreLikeThisQuery::builder()
            .with_min_doc_frequency(1)
            .with_min_term_frequency(1)
            .with_min_word_length(3)
            .with_max_query_terms(25)
            .with_document(*addr);
        let mut parts = self.filters(q);
        parts.push((Occur::Must, Box::new(like)));
        parts.push((Occur::MustNot, Box::new(this)));
        self.run(&BooleanQuery::new(parts), q.limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, at: &str, outlet: &str, title: &str, summary: &str) -> NewsItem {
        let t = Timestamp::parse(at).unwrap();
        NewsItem {
            id: id.into(),
            outlet: outlet.into(),
            source: "t".into(),
            url: None,
            title: title.into(),
            summary: summary.into(),
            published_at: Some(t),
            available_at: t,
            language: None,
            duplicate_of: None,
        }
    }

    fn items() -> Vec<NewsItem> {
        vec![
            item(
                "a",
                "2026-02-05T09:30:00Z",
                "coinpaper.com",
                "BTC crashes to $60K on $1.45B wipeout",
                "Liquidations as crypto traders suffer",
            ),
            item(
                "b",
                "2026-02-05T09:45:00Z",
                "cointelegraph.com",
                "Crypto liquidations top $1.45 billion as bitcoin crashes",
                "Leveraged longs liquidated",
            ),
            item(
                "c",
                "2026-02-05T11:00:00Z",
                "coindesk.com",
                "Bitcoin miner MARA moves $87 million BTC to trading desks",
                "Transfers to Two Prime and BitGo",
            ),
            item(
                "d",
                "2026-02-05T15:20:00Z",
                "cryptopotato.com",
                "Vitalik Buterin: copy-paste L2s are hurting Ethereum",
                "Layer 2s stall scaling",
            ),
        ]
    }

    fn ids(h: &[Hit]) -> Vec<&str> {
        h.iter().map(|h| h.id.as_str()).collect()
    }

    #[test]
    fn search_filters_by_time_and_outlet_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut ix = NewsIndex::open(dir.path()).unwrap();
            assert_eq!(ix.synced_to().unwrap(), 0);
            ix.add(&items(), 42).unwrap();
        }
        let ix = NewsIndex::open(dir.path()).unwrap();
        assert_eq!(ix.synced_to().unwrap(), 42);
        assert_eq!(ix.len(), 4);
        let q = |text: &str| SearchQuery {
            text: text.into(),
            limit: 10,
            ..SearchQuery::default()
        };
        let all = ix.search(&q("liquidations")).unwrap();
        assert_eq!(ids(&all).len(), 2, "{all:?}");
        // Both words needed.
        assert_eq!(ids(&ix.search(&q("bitcoin miner")).unwrap()), ["c"]);
        // Point in time: only what was available by 09:40.
        let early = ix
            .search(&SearchQuery {
                asof: Some(Timestamp::parse("2026-02-05T09:40:00Z").unwrap()),
                ..q("liquidations")
            })
            .unwrap();
        assert_eq!(ids(&early), ["a"]);
        let outlet = ix
            .search(&SearchQuery {
                outlet: Some("CoinTelegraph.com".into()),
                ..q("liquidations")
            })
            .unwrap();
        assert_eq!(ids(&outlet), ["b"]);
        // Syntax the parser cannot read is not an error.
        assert!(ix.search(&q("bitcoin AND (")).is_ok());
    }

    #[test]
    fn more_like_this_finds_the_same_story_not_the_item_itself() {
        let mut ix = NewsIndex::in_memory().unwrap();
        ix.add(&items(), 1).unwrap();
        let q = SearchQuery {
            limit: 3,
            ..SearchQuery::default()
        };
        let r = ix.more_like("a", &q).unwrap();
        assert_eq!(r.first().map(|h| h.id.as_str()), Some("b"), "{r:?}");
        assert!(!ids(&r).contains(&"a"));
        assert!(matches!(
            ix.more_like("zz", &q),
            Err(SearchError::UnknownItem(_))
        ));
    }
}
