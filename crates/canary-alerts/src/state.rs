//! The alert state machine, after Grafana's alerting and Alertmanager's documented
//! semantics, with TradingView's frequencies.
//!
//! - **States**: Normal → Pending (the condition holds, waiting for `for_evals` consecutive
//!   evaluations) → Firing → back to Normal when it stops holding (Resolved); NoData when a
//!   series has no value; Expired after the expiry time or a `once` rule's firing.
//! - **Notifications** on entering Firing and, if asked, on resolving — never per
//!   evaluation — plus reminders every `repeat_ms` while firing. With the `every_close`
//!   frequency (TradingView's "once per bar close") each evaluation that holds notifies.
//! - **Cooldown**: no new firing until `cooldown_ms` after the last one (the rule waits in
//!   Pending). **Hysteresis**: after a firing, the rule re-arms only once its value has gone
//!   back past the threshold by `band` (a price hovering at a line fires once).
//! - **Fingerprint**: stable per rule and symbol, so a restart recognises its alerts.

use canary_model::Timestamp;
use serde::{Deserialize, Serialize};

use crate::eval::Outcome;

/// How often a rule notifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// On entering Firing (and resolving, if asked); reminders by `repeat_ms`.
    Transition,
    /// The first firing only; then the rule expires.
    Once,
    /// Every evaluation (bar close) while the condition holds, subject to the cooldown.
    EveryClose,
}

/// A rule's notification policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Consecutive evaluations the condition must hold before firing (0 or 1: at once).
    pub for_evals: usize,
    pub cooldown_ms: i64,
    /// Hysteresis: how far past its threshold the value must go back before the rule re-arms.
    pub band: f64,
    pub frequency: Frequency,
    pub notify_resolved: bool,
    pub repeat_ms: Option<i64>,
    pub expires_at: Option<Timestamp>,
    /// Evaluated on every trade against the bar still open (values provisional, notices
    /// labelled intrabar), firing at most once per bar; otherwise at bar close only.
    #[serde(default)]
    pub intrabar: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            for_evals: 1,
            cooldown_ms: 0,
            band: 0.0,
            frequency: Frequency::Transition,
            notify_resolved: false,
            repeat_ms: None,
            expires_at: None,
            intrabar: false,
        }
    }
}

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum State {
    Normal,
    Pending { since: Timestamp, count: usize },
    Firing { since: Timestamp },
    NoData,
    Expired,
}

/// A notification to deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Notice {
    Fired { at: Timestamp },
    Resolved { at: Timestamp },
    Reminder { at: Timestamp },
}

/// One alert instance: a rule on a symbol, with its state (stored, so that a restart goes on
/// from it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub fingerprint: String,
    pub state: State,
    /// False after a firing until the value has gone back past the band.
    pub armed: bool,
    pub last_fired: Option<Timestamp>,
    pub last_notified: Option<Timestamp>,
    pub fired_count: usize,
}

/// A stable fingerprint of a rule on a symbol: `f` and 16 hex digits (FNV-1a).
#[must_use]
pub fn fingerprint(rule: &str, scope: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in rule.trim().bytes().chain([0x1f]).chain(scope.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("f{h:016x}")
}

impl Alert {
    #[must_use]
    pub fn new(fingerprint: String) -> Self {
        Alert {
            fingerprint,
            state: State::Normal,
            armed: true,
            last_fired: None,
            last_notified: None,
            fired_count: 0,
        }
    }

    fn fire(&mut self, at: Timestamp, out: &mut Vec<Notice>) {
        self.state = State::Firing { since: at };
        self.armed = false;
        self.last_fired = Some(at);
        self.last_notified = Some(at);
        self.fired_count += 1;
        out.push(Notice::Fired { at });
    }

    fn cooling(&self, p: &Policy, at: Timestamp) -> bool {
        self.last_fired
            .is_some_and(|f| at.millis() < f.millis().saturating_add(p.cooldown_ms))
    }

    /// Take one evaluation's outcome at `at` (`margin`: how far the value stands on the false
    /// side of a comparison's threshold, for the hysteresis); the notices it causes.
    pub fn step(
        &mut self,
        p: &Policy,
        at: Timestamp,
        outcome: &Outcome,
        margin: Option<f64>,
    ) -> Vec<Notice> {
        let mut out = Vec::new();
        if self.state == State::Expired {
            return out;
        }
        if p.expires_at.is_some_and(|e| at >= e) {
            self.state = State::Expired;
            return out;
        }
        match outcome {
            Outcome::NoData => {
                if !matches!(self.state, State::Firing { .. }) {
                    self.state = State::NoData;
                }
            }
            Outcome::False => {
                if let State::Firing { .. } = self.state {
                    if p.notify_resolved {
                        out.push(Notice::Resolved { at });
                    }
                    if p.frequency == Frequency::Once {
                        self.state = State::Expired;
                        return out;
                    }
                }
                self.state = State::Normal;
                if !self.armed && margin.is_none_or(|m| m >= p.band) {
                    self.armed = true;
                }
            }
            Outcome::True => match self.state {
                State::Firing { .. } => {
                    let due = |every: i64| {
                        self.last_notified
                            .is_some_and(|n| at.millis() >= n.millis().saturating_add(every))
                    };
                    if p.frequency == Frequency::EveryClose && !self.cooling(p, at) {
                        self.last_fired = Some(at);
                        self.last_notified = Some(at);
                        self.fired_count += 1;
                        out.push(Notice::Fired { at });
                    } else if p.repeat_ms.is_some_and(due) {
                        self.last_notified = Some(at);
                        out.push(Notice::Reminder { at });
                    }
                }
                _ if !self.armed => {}
                State::Pending { since, count } => {
                    let count = count + 1;
                    if count >= p.for_evals.max(1) && !self.cooling(p, at) {
                        self.fire(at, &mut out);
                    } else {
                        self.state = State::Pending { since, count };
                    }
                }
                State::Normal | State::NoData => {
                    if p.for_evals <= 1 && !self.cooling(p, at) {
                        self.fire(at, &mut out);
                    } else {
                        self.state = State::Pending {
                            since: at,
                            count: 1,
                        };
                    }
                }
                State::Expired => {}
            },
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i64) -> Timestamp {
        Timestamp::from_millis(h * 3_600_000)
    }

    fn run(p: &Policy, steps: &[(Outcome, Option<f64>)]) -> Vec<Notice> {
        let mut a = Alert::new(fingerprint("r", "s"));
        let mut all = Vec::new();
        for (i, (o, m)) in steps.iter().enumerate() {
            all.extend(a.step(p, t(i64::try_from(i).unwrap()), o, *m));
        }
        all
    }

    use Outcome::{False as F, NoData as N, True as T};

    #[test]
    fn fires_on_entering_and_not_per_evaluation() {
        let n = run(
            &Policy::default(),
            &[
                (F, None),
                (T, None),
                (T, None),
                (T, None),
                (F, None),
                (T, None),
            ],
        );
        assert_eq!(n, [Notice::Fired { at: t(1) }, Notice::Fired { at: t(5) }]);
    }

    #[test]
    fn pending_for_n_evaluations_then_firing() {
        let p = Policy {
            for_evals: 3,
            ..Policy::default()
        };
        let n = run(
            &p,
            &[
                (T, None),
                (T, None),
                (F, None),
                (T, None),
                (T, None),
                (T, None),
            ],
        );
        assert_eq!(n, [Notice::Fired { at: t(5) }]);
    }

    #[test]
    fn hysteresis_fires_a_hovering_price_once() {
        // close < 100 with a band of 2: 99, 100.5 (false but within the band), 99.5, 103, 99.
        let p = Policy {
            band: 2.0,
            ..Policy::default()
        };
        let n = run(
            &p,
            &[
                (T, Some(-1.0)),
                (F, Some(0.5)),
                (T, Some(-0.5)),
                (F, Some(3.0)),
                (T, Some(-1.0)),
            ],
        );
        assert_eq!(n, [Notice::Fired { at: t(0) }, Notice::Fired { at: t(4) }]);
    }

    #[test]
    fn cooldown_once_every_close_reminders_resolve_and_nodata() {
        let cool = Policy {
            cooldown_ms: 3 * 3_600_000,
            ..Policy::default()
        };
        let n = run(
            &cool,
            &[(T, None), (F, None), (T, None), (T, None), (T, None)],
        );
        assert_eq!(n, [Notice::Fired { at: t(0) }, Notice::Fired { at: t(3) }]);

        let once = Policy {
            frequency: Frequency::Once,
            ..Policy::default()
        };
        assert_eq!(
            run(&once, &[(T, None), (F, None), (T, None)]),
            [Notice::Fired { at: t(0) }]
        );

        let every = Policy {
            frequency: Frequency::EveryClose,
            ..Policy::default()
        };
        assert_eq!(run(&every, &[(T, None), (T, None), (F, None)]).len(), 2);

        let remind = Policy {
            repeat_ms: Some(2 * 3_600_000),
            notify_resolved: true,
            ..Policy::default()
        };
        assert_eq!(
            run(&remind, &[(T, None), (T, None), (T, None), (F, None)]),
            [
                Notice::Fired { at: t(0) },
                Notice::Reminder { at: t(2) },
                Notice::Resolved { at: t(3) }
            ]
        );
        // No data fires nothing, and does not count as false.
        assert!(run(&Policy::default(), &[(N, None), (N, None)]).is_empty());
    }

    #[test]
    fn expiry_and_fingerprints() {
        let p = Policy {
            expires_at: Some(t(1)),
            ..Policy::default()
        };
        assert!(run(&p, &[(F, None), (T, None)]).is_empty());
        assert_eq!(fingerprint(" a < 1 ", "BTC"), fingerprint("a < 1", "BTC"));
        assert_ne!(fingerprint("a < 1", "BTC"), fingerprint("a < 1", "ETH"));
    }
}
