//! The API tokens the server issued (migration 0016): a name, a scope and the SHA-256 of the
//! token; the token itself is shown once, at creation, and never stored.

use canary_model::Timestamp;

use crate::sql::{Row, args};
use crate::{SqlStore, StoreError, TokenStore};

/// An issued token (without the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub id: i64,
    pub name: String,
    /// SHA-256 of the token, hex: the owner of its alert rules.
    pub hash: String,
    /// `read` or `alerts`.
    pub scope: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

fn row(r: &Row<'_>) -> Result<StoredToken, StoreError> {
    Ok(StoredToken {
        id: r.get(0)?,
        name: r.get(1)?,
        hash: r.get(2)?,
        scope: r.get(3)?,
        created_at: Timestamp::from_millis(r.get(4)?),
        revoked_at: r.get::<Option<i64>>(5)?.map(Timestamp::from_millis),
    })
}

impl TokenStore for SqlStore {
    fn add_token(
        &mut self,
        name: &str,
        hash: &str,
        scope: &str,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let tx = self.begin_write()?;
        let id: i64 = tx.value(
            "INSERT INTO api_tokens (name, hash, scope, created_at) VALUES (?1, ?2, ?3, ?4)
             RETURNING id",
            args![name, hash, scope, now.millis()],
        )?;
        tx.commit()?;
        Ok(id)
    }

    fn token_by_hash(&self, hash: &str) -> Result<Option<StoredToken>, StoreError> {
        self.db.one(
            "SELECT id, name, hash, scope, created_at, revoked_at FROM api_tokens
             WHERE hash = ?1",
            args![hash],
            row,
        )
    }

    fn tokens(&self) -> Result<Vec<StoredToken>, StoreError> {
        self.db.all(
            "SELECT id, name, hash, scope, created_at, revoked_at FROM api_tokens ORDER BY id",
            &[],
            row,
        )
    }

    fn revoke_token(
        &mut self,
        id: i64,
        remove_rules: bool,
        now: Timestamp,
    ) -> Result<Option<(StoredToken, usize)>, StoreError> {
        let tx = self.begin_write()?;
        let token = tx.one(
            "SELECT id, name, hash, scope, created_at, revoked_at FROM api_tokens
             WHERE id = ?1 AND revoked_at IS NULL",
            args![id],
            row,
        )?;
        let Some(token) = token else {
            return Ok(None);
        };
        tx.exec(
            "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1",
            args![id, now.millis()],
        )?;
        let removed = if remove_rules {
            tx.exec(
                "UPDATE alert_rules SET active = 0 WHERE owner = ?1 AND active = 1",
                args![token.hash],
            )?
        } else {
            0
        };
        tx.commit()?;
        Ok(Some((
            StoredToken {
                revoked_at: Some(now),
                ..token
            },
            removed,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[test]
    fn tokens_are_kept_by_hash_and_revoked_with_or_without_their_rules() {
        let mut s = SqlStore::in_memory().unwrap();
        let t = Timestamp::from_millis(1_000);
        let a = s.add_token("dashboard", "aa", "read", t).unwrap();
        let b = s.add_token("bot", "bb", "alerts", t).unwrap();
        assert!(
            s.add_token("again", "aa", "read", t).is_err(),
            "one row per hash"
        );
        s.add_rule("bb", "BTCUSDT.close < 1", "1d", "{}", "{}", t)
            .unwrap();
        assert_eq!(s.token_by_hash("bb").unwrap().unwrap().scope, "alerts");
        assert_eq!(s.token_by_hash("cc").unwrap(), None);
        let (tok, removed) = s
            .revoke_token(b, true, Timestamp::from_millis(2_000))
            .unwrap()
            .unwrap();
        assert_eq!((tok.id, removed), (b, 1));
        assert!(s.rules(Some("bb")).unwrap().is_empty());
        assert_eq!(s.revoke_token(b, true, t).unwrap(), None, "already revoked");
        assert_eq!(
            s.token_by_hash("bb").unwrap().unwrap().revoked_at,
            Some(Timestamp::from_millis(2_000))
        );
        assert_eq!(s.revoke_token(a, false, t).unwrap().unwrap().1, 0);
        assert_eq!(s.tokens().unwrap().len(), 2);
    }

    #[test]
    fn rules_of_the_old_default_token_local_move_to_the_operator() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        // A database as it was before migration 0016, holding a rule of `local`.
        let local = "25bf8e1a2393f1108d37029b3df5593236c755742ec93465bbafa9b290bddcf6";
        {
            let mut s = SqlStore::open(&path).unwrap();
            s.add_rule(
                local,
                "BTCUSDT.close < 1",
                "1d",
                "{}",
                "{}",
                Timestamp::from_millis(1),
            )
            .unwrap();
            s.add_rule(
                "ab12",
                "BTCUSDT.close < 2",
                "1d",
                "{}",
                "{}",
                Timestamp::from_millis(1),
            )
            .unwrap();
            s.db
                .batch(
                    "DROP TABLE api_tokens; DROP TABLE derivative_points; DROP TABLE derivative_catalog; DROP TABLE market_points; DROP TABLE market_catalog; PRAGMA user_version = 15;",
                )
                .unwrap();
        }
        let s = SqlStore::open(&path).unwrap();
        assert!(s.rules(Some(local)).unwrap().is_empty());
        assert_eq!(s.rules(Some("operator")).unwrap().len(), 1);
        assert_eq!(s.rules(Some("ab12")).unwrap().len(), 1, "other owners stay");
        assert!(s.tokens().unwrap().is_empty());
    }
}
