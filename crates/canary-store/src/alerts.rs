//! Alert rules, their state after each evaluation, and the deliveries of their notices.

use canary_model::Timestamp;

use crate::sql::args;
use crate::{AlertStore, SqlStore, StoreError};

/// A stored rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRule {
    pub id: i64,
    /// SHA-256 of the owner's token, hex, or `operator` for the command line's rules.
    pub owner: String,
    pub rule: String,
    pub timeframe: String,
    /// JSON of the policy.
    pub policy: String,
    /// JSON of the channel.
    pub channel: String,
    pub created_at: Timestamp,
}

/// A rule's state after its last evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAlertState {
    pub rule_id: i64,
    pub fingerprint: String,
    /// JSON of the alert.
    pub alert: String,
    pub evaluated_to: Timestamp,
}

/// A notice to deliver, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub idempotency_key: String,
    pub rule_id: i64,
    /// JSON of the notice.
    pub notice: String,
    pub late: bool,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub latency_ms: Option<i64>,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

/// A silence of a rule's notices over `[starts_at, ends_at)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silence {
    pub id: i64,
    pub rule_id: i64,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub comment: String,
}

impl AlertStore for SqlStore {
    fn add_silence(
        &mut self,
        owner: &str,
        rule_id: i64,
        starts: Timestamp,
        ends: Timestamp,
        comment: &str,
        now: Timestamp,
    ) -> Result<Option<i64>, StoreError> {
        let tx = self.begin_write()?;
        let id: Option<i64> = tx.one(
            "INSERT INTO alert_silences (owner, rule_id, starts_at, ends_at, comment, created_at)
             SELECT owner, id, ?3, ?4, ?5, ?6 FROM alert_rules
             WHERE id = ?2 AND owner = ?1 AND active = 1
             RETURNING id",
            args![
                owner,
                rule_id,
                starts.millis(),
                ends.millis(),
                comment,
                now.millis()
            ],
            |r| r.get(0),
        )?;
        tx.commit()?;
        Ok(id)
    }

    fn lift_silences(
        &mut self,
        owner: &str,
        rule_id: i64,
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        let tx = self.begin_write()?;
        let n = tx.exec(
            "UPDATE alert_silences
             SET ends_at = CASE WHEN starts_at > ?3 THEN starts_at ELSE ?3 END
             WHERE owner = ?1 AND rule_id = ?2 AND ends_at > ?3",
            args![owner, rule_id, now.millis()],
        )?;
        tx.commit()?;
        Ok(n)
    }

    fn silences(&self, rule_id: i64) -> Result<Vec<Silence>, StoreError> {
        self.db.all(
            "SELECT id, rule_id, starts_at, ends_at, comment FROM alert_silences
             WHERE rule_id = ?1 ORDER BY starts_at, id",
            args![rule_id],
            |r| {
                Ok(Silence {
                    id: r.get(0)?,
                    rule_id: r.get(1)?,
                    starts_at: Timestamp::from_millis(r.get(2)?),
                    ends_at: Timestamp::from_millis(r.get(3)?),
                    comment: r.get(4)?,
                })
            },
        )
    }

    fn add_rule(
        &mut self,
        owner: &str,
        rule: &str,
        timeframe: &str,
        policy: &str,
        channel: &str,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let tx = self.begin_write()?;
        let id: i64 = tx.value(
            "INSERT INTO alert_rules (owner, rule, timeframe, policy, channel, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
            args![owner, rule, timeframe, policy, channel, now.millis()],
        )?;
        tx.commit()?;
        Ok(id)
    }

    fn rules(&self, owner: Option<&str>) -> Result<Vec<StoredRule>, StoreError> {
        self.db.all(
            "SELECT id, owner, rule, timeframe, policy, channel, created_at FROM alert_rules
             WHERE active = 1 AND (CAST(?1 AS TEXT) IS NULL OR owner = ?1) ORDER BY id",
            args![owner],
            |r| {
                Ok(StoredRule {
                    id: r.get(0)?,
                    owner: r.get(1)?,
                    rule: r.get(2)?,
                    timeframe: r.get(3)?,
                    policy: r.get(4)?,
                    channel: r.get(5)?,
                    created_at: Timestamp::from_millis(r.get(6)?),
                })
            },
        )
    }

    fn remove_rule(&mut self, owner: &str, id: i64) -> Result<bool, StoreError> {
        let tx = self.begin_write()?;
        let n = tx.exec(
            "UPDATE alert_rules SET active = 0 WHERE id = ?1 AND owner = ?2 AND active = 1",
            args![id, owner],
        )?;
        tx.commit()?;
        Ok(n > 0)
    }

    fn alert_state(&self, rule_id: i64) -> Result<Option<StoredAlertState>, StoreError> {
        self.db.one(
            "SELECT rule_id, fingerprint, alert, evaluated_to FROM alert_state WHERE rule_id = ?1",
            args![rule_id],
            |r| {
                Ok(StoredAlertState {
                    rule_id: r.get(0)?,
                    fingerprint: r.get(1)?,
                    alert: r.get(2)?,
                    evaluated_to: Timestamp::from_millis(r.get(3)?),
                })
            },
        )
    }

    fn save_evaluation(
        &mut self,
        state: &StoredAlertState,
        notices: &[(String, String, bool, bool)],
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        let tx = self.begin_write()?;
        tx.exec(
            "INSERT INTO alert_state (rule_id, fingerprint, alert, evaluated_to)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (rule_id) DO UPDATE SET fingerprint = ?2, alert = ?3, evaluated_to = ?4",
            args![
                state.rule_id,
                state.fingerprint,
                state.alert,
                state.evaluated_to.millis()
            ],
        )?;
        let mut new = 0;
        for (key, notice, late, silenced) in notices {
            let status = if *silenced { "silenced" } else { "pending" };
            new += tx.exec(
                "INSERT INTO alert_deliveries
                    (idempotency_key, rule_id, notice, late, status, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
                args![key, state.rule_id, notice, late, status, now.millis()],
            )?;
        }
        tx.commit()?;
        Ok(new)
    }

    fn queue_notice(
        &mut self,
        key: &str,
        rule_id: i64,
        notice: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let tx = self.begin_write()?;
        let n = tx.exec(
            "INSERT INTO alert_deliveries
                (idempotency_key, rule_id, notice, late, status, created_at)
             VALUES (?1, ?2, ?3, 0, 'pending', ?4) ON CONFLICT DO NOTHING",
            args![key, rule_id, notice, now.millis()],
        )?;
        tx.commit()?;
        Ok(n > 0)
    }

    fn undelivered(&self) -> Result<Vec<Delivery>, StoreError> {
        self.deliveries(
            "WHERE status IN ('pending', 'failed') ORDER BY created_at, idempotency_key",
        )
    }

    fn delivery_log(&self, rule_id: Option<i64>) -> Result<Vec<Delivery>, StoreError> {
        match rule_id {
            Some(id) => self.deliveries(&format!(
                "WHERE rule_id = {id} ORDER BY created_at DESC, idempotency_key"
            )),
            None => self.deliveries("ORDER BY created_at DESC, idempotency_key"),
        }
    }

    fn record_attempt(
        &mut self,
        key: &str,
        outcome: Result<i64, String>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let tx = self.begin_write()?;
        match outcome {
            Ok(latency) => tx.exec(
                "UPDATE alert_deliveries SET status = 'delivered', attempts = attempts + 1,
                    latency_ms = ?2, delivered_at = ?3, last_error = NULL
                 WHERE idempotency_key = ?1",
                args![key, latency, now.millis()],
            )?,
            Err(e) => tx.exec(
                "UPDATE alert_deliveries SET status = 'failed', attempts = attempts + 1,
                    last_error = ?2 WHERE idempotency_key = ?1",
                args![key, e],
            )?,
        };
        tx.commit()?;
        Ok(())
    }
}

impl SqlStore {
    fn deliveries(&self, tail: &str) -> Result<Vec<Delivery>, StoreError> {
        self.db.all(
            &format!(
                "SELECT idempotency_key, rule_id, notice, late, status, attempts, last_error,
                    latency_ms, created_at, delivered_at FROM alert_deliveries {tail}"
            ),
            &[],
            |r| {
                Ok(Delivery {
                    idempotency_key: r.get(0)?,
                    rule_id: r.get(1)?,
                    notice: r.get(2)?,
                    late: r.get(3)?,
                    status: r.get(4)?,
                    attempts: r.get(5)?,
                    last_error: r.get(6)?,
                    latency_ms: r.get(7)?,
                    created_at: Timestamp::from_millis(r.get(8)?),
                    delivered_at: r.get::<Option<i64>>(9)?.map(Timestamp::from_millis),
                })
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[test]
    fn rules_belong_to_their_owner_and_notices_are_recorded_once() {
        let mut s = SqlStore::in_memory().unwrap();
        let now = Timestamp::from_millis(1_800_000_000_000);
        let a = s
            .add_rule("alice", "BTCUSDT.close < 1", "1d", "{}", "{}", now)
            .unwrap();
        let b = s
            .add_rule("bob", "BTCUSDT.close > 1", "1d", "{}", "{}", now)
            .unwrap();
        assert_eq!(s.rules(Some("alice")).unwrap().len(), 1);
        assert_eq!(s.rules(None).unwrap().len(), 2);
        assert!(
            !s.remove_rule("alice", b).unwrap(),
            "bob's rule is not alice's"
        );
        assert!(s.remove_rule("bob", b).unwrap());
        assert_eq!(s.rules(None).unwrap().len(), 1);

        let st = StoredAlertState {
            rule_id: a,
            fingerprint: "f1".into(),
            alert: "{}".into(),
            evaluated_to: now,
        };
        let n = vec![("f1:fired:1".to_string(), "{}".to_string(), false, false)];
        assert_eq!(s.save_evaluation(&st, &n, now).unwrap(), 1);
        // The same notice again (a replay after a crash): not recorded twice.
        assert_eq!(s.save_evaluation(&st, &n, now).unwrap(), 0);
        assert_eq!(s.alert_state(a).unwrap().unwrap().evaluated_to, now);
        assert_eq!(s.undelivered().unwrap().len(), 1);
        s.record_attempt("f1:fired:1", Err("HTTP 500".into()), now)
            .unwrap();
        assert_eq!(s.undelivered().unwrap()[0].attempts, 1);
        s.record_attempt("f1:fired:1", Ok(12), now).unwrap();
        assert!(s.undelivered().unwrap().is_empty());
        let log = s.delivery_log(Some(a)).unwrap();
        assert_eq!(
            (log[0].status.as_str(), log[0].attempts, log[0].latency_ms),
            ("delivered", 2, Some(12))
        );
        // A silenced notice is logged and never offered for delivery.
        let q = vec![("f1:fired:2".to_string(), "{}".to_string(), false, true)];
        assert_eq!(s.save_evaluation(&st, &q, now).unwrap(), 1);
        assert!(s.undelivered().unwrap().is_empty());
    }

    #[test]
    fn silences_belong_to_the_rule_owner_and_can_be_lifted() {
        let mut s = SqlStore::in_memory().unwrap();
        let t = |h: i64| Timestamp::from_millis(1_800_000_000_000 + h * 3_600_000);
        let a = s
            .add_rule("alice", "BTCUSDT.close < 1", "1d", "{}", "{}", t(0))
            .unwrap();
        assert_eq!(s.add_silence("bob", a, t(0), t(6), "", t(0)).unwrap(), None);
        let id = s
            .add_silence("alice", a, t(0), t(6), "maintenance", t(0))
            .unwrap();
        assert!(id.is_some());
        assert_eq!(s.lift_silences("bob", a, t(2)).unwrap(), 0);
        assert_eq!(s.lift_silences("alice", a, t(2)).unwrap(), 1);
        let sil = s.silences(a).unwrap();
        assert_eq!(
            (sil[0].ends_at, sil[0].comment.as_str()),
            (t(2), "maintenance")
        );
        assert_eq!(s.lift_silences("alice", a, t(3)).unwrap(), 0);
    }
}
