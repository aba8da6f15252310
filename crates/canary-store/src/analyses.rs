//! Analyses, stored append-only by content id.

use canary_model::Timestamp;

use crate::sql::{Row, args};
use crate::{AnalysisStore, SqlStore, StoreError, stamp};

/// An analysis as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAnalysis {
    pub id: String,
    pub symbol: String,
    pub topic: String,
    pub as_of: Timestamp,
    pub version: String,
    pub headline: String,
    pub label: Option<String>,
    pub tags: Vec<String>,
    pub markdown: String,
    pub json: String,
    pub created_at: Timestamp,
    /// The HTML page as rendered when stored (none for analyses stored before pages).
    pub html: Option<String>,
}

const COLUMNS: &str =
    "id, symbol, topic, as_of, version, headline, label, tags, markdown, json, created_at, html";

fn of(r: &Row<'_>) -> Result<StoredAnalysis, StoreError> {
    Ok(StoredAnalysis {
        id: r.get(0)?,
        symbol: r.get(1)?,
        topic: r.get(2)?,
        as_of: Timestamp::from_millis(r.get(3)?),
        version: r.get(4)?,
        headline: r.get(5)?,
        label: r.get(6)?,
        tags: r
            .get::<String>(7)?
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        markdown: r.get(8)?,
        json: r.get(9)?,
        created_at: Timestamp::from_millis(r.get(10)?),
        html: r.get(11)?,
    })
}

impl AnalysisStore for SqlStore {
    fn insert_analysis(&mut self, a: &StoredAnalysis, now: Timestamp) -> Result<bool, StoreError> {
        let tx = self.begin_write()?;
        let known: Option<String> =
            tx.one("SELECT id FROM analyses WHERE id = ?1", args![a.id], |r| {
                r.get(0)
            })?;
        if known.is_some() {
            return Ok(false);
        }
        let at = stamp(&tx, now)?;
        tx.exec(
            &format!("INSERT INTO analyses ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
            args![
                a.id,
                a.symbol,
                a.topic,
                a.as_of.millis(),
                a.version,
                a.headline,
                a.label,
                a.tags.join(" "),
                a.markdown,
                a.json,
                at,
                a.html
            ],
        )?;
        tx.commit()?;
        Ok(true)
    }

    fn analysis(&self, id: &str) -> Result<Option<StoredAnalysis>, StoreError> {
        let hi = format!("{id}\u{10ffff}");
        let rows = self.db.all(
            &format!(
                "SELECT {COLUMNS} FROM analyses WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 2"
            ),
            args![id, hi],
            of,
        )?;
        Ok(if rows.len() == 1 {
            rows.into_iter().next()
        } else {
            rows.into_iter().find(|r| r.id == id)
        })
    }

    fn analysis_ids_with_prefix(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<(usize, Vec<String>), StoreError> {
        let hi = format!("{prefix}\u{10ffff}");
        let count: i64 = self.db.value(
            "SELECT COUNT(*) FROM analyses WHERE id >= ?1 AND id < ?2",
            args![prefix, hi],
        )?;
        let ids = self.db.all(
            "SELECT id FROM analyses WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT ?3",
            args![prefix, hi, i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| r.get::<String>(0),
        )?;
        Ok((usize::try_from(count).unwrap_or(0), ids))
    }

    fn analyses(&self, tag: Option<&str>) -> Result<Vec<StoredAnalysis>, StoreError> {
        let rows = self.db.all(
            &format!("SELECT {COLUMNS} FROM analyses ORDER BY as_of DESC, created_at DESC, id"),
            &[],
            of,
        )?;
        Ok(rows
            .into_iter()
            .filter(|a| tag.is_none_or(|t| a.tags.iter().any(|x| x.eq_ignore_ascii_case(t))))
            .collect())
    }

    fn analysis_versions(&self, a: &StoredAnalysis) -> Result<Vec<StoredAnalysis>, StoreError> {
        self.db.all(
            &format!(
                "SELECT {COLUMNS} FROM analyses WHERE symbol = ?1 AND topic = ?2 AND as_of = ?3
                 ORDER BY created_at, id"
            ),
            args![a.symbol, a.topic, a.as_of.millis()],
            of,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    fn a(id: &str, md: &str) -> StoredAnalysis {
        StoredAnalysis {
            id: id.into(),
            symbol: "BTCUSDT".into(),
            topic: "miners".into(),
            as_of: Timestamp::from_millis(1_770_354_000_000),
            version: "analysis v1".into(),
            headline: "h".into(),
            label: Some("bearish".into()),
            tags: vec!["BTC".into(), "bitcoin-miners".into()],
            markdown: md.into(),
            json: "{}".into(),
            created_at: Timestamp::from_millis(0),
            html: Some("<p>h</p>".into()),
        }
    }

    #[test]
    fn analyses_are_append_only_with_versions() {
        let mut s = SqlStore::in_memory().unwrap();
        let now = Timestamp::from_millis(1_800_000_000_000);
        assert!(s.insert_analysis(&a("a1", "one"), now).unwrap());
        assert!(!s.insert_analysis(&a("a1", "one"), now).unwrap());
        assert!(s.insert_analysis(&a("a2", "two"), now).unwrap());
        let v = s
            .analysis_versions(&s.analysis("a1").unwrap().unwrap())
            .unwrap();
        assert_eq!(
            v.iter().map(|x| x.id.as_str()).collect::<Vec<_>>(),
            ["a1", "a2"]
        );
        assert!(v[1].created_at > v[0].created_at);
        assert_eq!(s.analyses(Some("bitcoin-miners")).unwrap().len(), 2);
        assert!(s.analyses(Some("eth")).unwrap().is_empty());
        // A prefix that is not unique finds nothing; an exact id finds it.
        assert!(s.analysis("a").unwrap().is_none());
        assert_eq!(
            s.analysis_ids_with_prefix("a", 1).unwrap(),
            (2, vec!["a1".to_string()])
        );
        assert_eq!(s.analysis_ids_with_prefix("b", 5).unwrap(), (0, vec![]));
        assert_eq!(s.analysis("a2").unwrap().unwrap().markdown, "two");
    }
}
