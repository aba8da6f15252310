//! Stored alert rules checked at every bar close, their notices queued for delivery.
//!
//! [`add_rule`] takes a rule for an owner (parsed, its symbols stored, its channel checked
//! by the delivery room); [`check`] evaluates each rule at every close of its timeframe
//! since its last evaluation (the first time, since it was added), with the same inputs and
//! state machine as the backtest, and saves the new state together with the notices (one
//! transaction, each notice once by its idempotency key): a restart neither repeats a notice
//! nor misses a firing; one for a close that passed while nothing ran is marked late. Sending
//! them is the delivery room's (`canary_delivery::deliver`).

use std::collections::BTreeMap;

use canary_alerts::eval::Evaluator;
use canary_alerts::rule::parse;
use canary_alerts::state::{Alert, Notice, Policy, fingerprint};
use canary_model::{Symbol, Timeframe, Timestamp};
use canary_news::sentiment::Lexicon;
use canary_news::tags::Dictionary;
use canary_store::{StoredAlertState, Stores};
use serde::{Deserialize, Serialize};

pub use canary_delivery::{Channel, Payload, SYSTEM_RULE};

use crate::reports::alerts::RuleInputs;
/// A series as a notice's `values` name it; the runtime's intrabar notices use it too.
pub use crate::reports::alerts::name as series_name;
pub use crate::tokens::Owner;
use crate::{Context, Draft, EngineError, ScoreParams};

/// A rule as stored: text, timeframe, policy, channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleSpec {
    pub rule: String,
    pub timeframe: Timeframe,
    pub policy: Policy,
    pub channel: Channel,
}

/// The owner id of a token: SHA-256, hex (tokens are never stored).
#[must_use]
pub fn owner_of(token: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    canary_model::excerpt::hex(d.as_ref())
}

/// Why a rule cannot be evaluated intrabar, if it cannot: it must read only bar fields and
/// RSI 14 of one symbol (what the engine holds for the bar still open).
#[must_use]
pub fn intrabar_refusal(expr: &canary_alerts::rule::Expr) -> Option<String> {
    use canary_alerts::rule::{IndicatorKind, Series};
    let symbol = expr.symbol()?;
    let ok = expr.series().iter().all(|s| match s {
        Series::Bar { symbol: x, .. }
        | Series::Indicator {
            symbol: x,
            kind: IndicatorKind::Rsi,
            period: 14,
            ..
        } => x == symbol,
        _ => false,
    });
    (!ok).then(|| {
        "intrabar rules read bar fields and rsi14 of one symbol (scores, the Watch, outflows and analyses are known at bar close)".to_string()
    })
}

/// What the adding process allows beyond the defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allow {
    /// A channel on a loopback or private address (the process's setting, never a request's).
    pub private: bool,
    /// Symbols with no stored bars yet (a market the live engine is about to stream).
    pub before_data: bool,
}

/// Add a rule for `owner` (see [`Owner`]); its id.
///
/// # Errors
/// A rule that does not parse (pointing at the column), one naming a symbol with no stored
/// bars (unless `allow.before_data`), a refused channel, a database error.
pub fn add_rule(
    store: &mut dyn Stores,
    owner: &Owner,
    spec: &RuleSpec,
    now: Timestamp,
    allow: Allow,
) -> Result<i64, EngineError> {
    let expr = parse(&spec.rule)?;
    if !allow.before_data {
        known_symbols(store, &expr, &spec.rule)?;
    }
    if spec.policy.intrabar
        && let Some(why) = intrabar_refusal(&expr)
    {
        return Err(EngineError::param("rule", &spec.rule, &why));
    }
    if let Err(r) = spec.channel.check(allow.private) {
        return Err(EngineError::param(r.field, r.value, &r.why));
    }
    let policy = serde_json::to_string(&spec.policy).unwrap_or_default();
    let channel = serde_json::to_string(&spec.channel).unwrap_or_default();
    Ok(store.add_rule(
        owner.key(),
        &spec.rule,
        &spec.timeframe.to_string(),
        &policy,
        &channel,
        now,
    )?)
}

/// Every symbol a rule names must have stored bars: a rule on a misspelt symbol would
/// otherwise be accepted and never fire.
fn known_symbols(
    store: &dyn Stores,
    expr: &canary_alerts::rule::Expr,
    rule: &str,
) -> Result<(), EngineError> {
    use canary_alerts::rule::Series;
    let stored: std::collections::BTreeSet<String> = store
        .series()?
        .into_iter()
        .map(|s| s.symbol.as_str().to_string())
        .collect();
    for s in expr.series() {
        let (Series::Bar { symbol, .. }
        | Series::Indicator { symbol, .. }
        | Series::Score { symbol, .. }) = s
        else {
            continue;
        };
        if !stored.contains(symbol.as_str()) {
            let known = if stored.is_empty() {
                "none yet".to_string()
            } else {
                stored
                    .iter()
                    .take(10)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(EngineError::param(
                "rule",
                canary_alerts::rule::excerpt(rule),
                &format!(
                    "no bars of {symbol} are stored (stored: {known}); check the spelling, or import its bars first"
                ),
            ));
        }
    }
    Ok(())
}

/// What a check did for one rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checked {
    pub rule_id: i64,
    pub rule: String,
    pub evaluated: usize,
    /// Notices new in this check (with whether each came late).
    pub notices: Vec<(Notice, bool)>,
    /// How many of them fell in a silence (logged, not sent).
    pub silenced: usize,
    pub state: canary_alerts::state::State,
    /// Why the rule could not be checked (its data is missing, it no longer parses): it keeps
    /// its state and is tried again at the next check.
    pub error: Option<String>,
}

/// Queue a notice about a source (`kind`: stale, gap, reconnected, malformed, divergence)
/// for the system channel, once per source, kind and time.
///
/// # Errors
/// A database error.
pub fn queue_system(
    store: &mut dyn Stores,
    kind: &str,
    source: &str,
    what: &str,
    at: Timestamp,
    values: BTreeMap<String, f64>,
    now: Timestamp,
) -> Result<String, EngineError> {
    let key = format!("system:{kind}:{source}:{}", at.millis());
    let p = Payload {
        idempotency_key: key.clone(),
        fingerprint: format!("system:{kind}:{source}"),
        rule: what.to_string(),
        timeframe: None,
        notice: Notice::Fired { at },
        values,
        late: false,
        test: false,
        system: true,
        intrabar: false,
        time_zone: "UTC".into(),
    };
    store.queue_notice(
        &key,
        SYSTEM_RULE,
        &serde_json::to_string(&p).unwrap_or_default(),
        now,
    )?;
    Ok(key)
}

/// Evaluate every active rule at each close since its last evaluation, up to `now`.
///
/// # Errors
/// A stored rule that no longer parses, a database error.
pub fn check(
    store: &mut dyn Stores,
    now: Timestamp,
    dict: &Dictionary,
    lex: &Lexicon,
    score: &ScoreParams,
) -> Result<Vec<Checked>, EngineError> {
    check_where(store, now, dict, lex, score, &|_| true)
}

/// [`check`] for the rules whose clock symbol (the instrument whose closes it is evaluated
/// at) `owns` accepts: an evaluator among several checks the rules of the markets it
/// takes, so that each rule is placed with its instrument's partition, and no two
/// evaluators move one rule's state.
///
/// # Errors
/// As [`check`].
pub fn check_where(
    store: &mut dyn Stores,
    now: Timestamp,
    dict: &Dictionary,
    lex: &Lexicon,
    score: &ScoreParams,
    owns: &dyn Fn(&Symbol) -> bool,
) -> Result<Vec<Checked>, EngineError> {
    let mut out = Vec::new();
    let failed = |r: &canary_store::StoredRule, e: &EngineError| Checked {
        rule_id: r.id,
        rule: canary_alerts::rule::excerpt(&r.rule),
        evaluated: 0,
        notices: Vec::new(),
        silenced: 0,
        state: canary_alerts::state::State::Normal,
        error: Some(e.to_string()),
    };
    for r in store.rules(None)? {
        // Intrabar rules are the live engine's, trade by trade; one that no longer parses (a
        // rule stored before today's limits) is reported here, since the engine skips it.
        if serde_json::from_str::<Policy>(&r.policy).is_ok_and(|p| p.intrabar) {
            if let Err(e) = parse(&r.rule) {
                out.push(failed(&r, &e.into()));
            }
            continue;
        }
        if parse(&r.rule).is_ok_and(|e| !owns(&e.clock_symbol())) {
            continue;
        }
        match check_rule(store, &r, now, dict, lex, score) {
            Ok(Some(c)) => out.push(c),
            Ok(None) => {}
            // The database failing stops the check; a rule failing is that rule's error state
            // (its state is not moved, so the next check tries the same closes again).
            Err(EngineError::Store(e)) => return Err(EngineError::Store(e)),
            Err(e) => out.push(failed(&r, &e)),
        }
    }
    Ok(out)
}

/// Check one rule: `None` when its symbol has no bars yet.
fn check_rule(
    store: &mut dyn Stores,
    r: &canary_store::StoredRule,
    now: Timestamp,
    dict: &Dictionary,
    lex: &Lexicon,
    score: &ScoreParams,
) -> Result<Option<Checked>, EngineError> {
    let spec_policy: Policy = serde_json::from_str(&r.policy)
        .map_err(|e| EngineError::param("policy", &r.policy, &e.to_string()))?;
    let tf: Timeframe = r
        .timeframe
        .parse()
        .map_err(|e: canary_model::TimeframeError| {
            EngineError::param("timeframe", &r.timeframe, &e.to_string())
        })?;
    let expr = parse(&r.rule)?;
    let symbol = expr.clock_symbol();
    let fp = fingerprint(&r.rule, symbol.as_str());
    let prior = store.alert_state(r.id)?;
    let silences = store.silences(r.id)?;
    let (mut alert, from) = match &prior {
        Some(s) => (
            serde_json::from_str(&s.alert).unwrap_or_else(|_| Alert::new(fp.clone())),
            s.evaluated_to,
        ),
        None => (Alert::new(fp.clone()), r.created_at),
    };
    let (notices, evaluated, last) = {
        let ctx = Context::new(store, now)?;
        let mut draft = Draft::new(now);
        let mut inputs =
            match RuleInputs::prepare(&ctx, &expr, &symbol, tf, Some(score), dict, lex, &mut draft)
            {
                Ok(i) => i,
                Err(EngineError::NoBars { .. }) => return Ok(None),
                Err(e) => return Err(e),
            };
        let closes: Vec<(usize, Timestamp)> = inputs
            .bars
            .iter()
            .enumerate()
            .map(|(i, c)| (i, tf.close_of(c.open_time)))
            .collect();
        let mut ev = Evaluator::new(expr.clone());
        // Prime the evaluator with the closes before (crossings need the previous one).
        let first_new = closes.partition_point(|(_, t)| *t <= from);
        for &(_, t) in &closes[first_new.saturating_sub(2)..first_new] {
            let v = inputs.values(&ctx, t)?;
            ev.evaluate(t, &v);
        }
        let mut notices = Vec::new();
        let mut evaluated = 0;
        let mut last = from;
        for &(_, t) in closes[first_new..].iter().filter(|(_, t)| *t <= now) {
            let v = inputs.values(&ctx, t)?;
            let outcome = ev.evaluate(t, &v);
            let margin = ev.margin(&v);
            evaluated += 1;
            last = t;
            let late = now.millis() - t.millis() > tf.duration_ms();
            for n in alert.step(&spec_policy, t, &outcome, margin) {
                let values: BTreeMap<String, f64> = v
                    .iter()
                    .map(|(s, x)| (crate::reports::alerts::name(s), *x))
                    .collect();
                notices.push((n, late, values));
            }
        }
        (notices, evaluated, last)
    };
    let records: Vec<(String, String, bool, bool)> = notices
        .iter()
        .map(|(n, late, values)| {
            let (kind, at) = match n {
                Notice::Fired { at } => ("fired", at),
                Notice::Resolved { at } => ("resolved", at),
                Notice::Reminder { at } => ("reminder", at),
            };
            // Per rule: two rules of the same text (other channels, other owners) each deliver.
            let key = format!("{fp}:{}:{kind}:{}", r.id, at.millis());
            let p = Payload {
                idempotency_key: key.clone(),
                fingerprint: fp.clone(),
                rule: r.rule.clone(),
                timeframe: Some(tf),
                notice: *n,
                values: values.clone(),
                late: *late,
                test: false,
                system: false,
                intrabar: false,
                time_zone: "UTC".into(),
            };
            let silenced = silences
                .iter()
                .any(|s| s.starts_at <= *at && *at < s.ends_at);
            (
                key,
                serde_json::to_string(&p).unwrap_or_default(),
                *late,
                silenced,
            )
        })
        .collect();
    let silenced = records.iter().filter(|r| r.3).count();
    store.save_evaluation(
        &StoredAlertState {
            rule_id: r.id,
            fingerprint: fp.clone(),
            alert: serde_json::to_string(&alert).unwrap_or_default(),
            evaluated_to: last,
        },
        &records,
        now,
    )?;
    Ok(Some(Checked {
        rule_id: r.id,
        rule: r.rule.clone(),
        evaluated,
        notices: notices.iter().map(|(n, l, _)| (*n, *l)).collect(),
        silenced,
        state: alert.state,
        error: None,
    }))
}

/// Queue a test notice for one of the owner's rules (sent by the next `canary_delivery::deliver` with
/// `only` set to the key returned): what the channel will receive, marked as a test.
///
/// # Errors
/// A rule that is not the owner's, a database error.
pub fn queue_test(
    store: &mut dyn Stores,
    owner: &Owner,
    rule_id: i64,
    now: Timestamp,
) -> Result<String, EngineError> {
    let Some(r) = store
        .rules(Some(owner.key()))?
        .into_iter()
        .find(|r| r.id == rule_id)
    else {
        return Err(EngineError::param(
            "rule",
            rule_id.to_string(),
            "no rule of yours has this id (alerts list shows them)",
        ));
    };
    let tf: Timeframe = r
        .timeframe
        .parse()
        .map_err(|e: canary_model::TimeframeError| {
            EngineError::param("timeframe", &r.timeframe, &e.to_string())
        })?;
    let symbol = parse(&r.rule)?.clock_symbol().as_str().to_string();
    let fp = fingerprint(&r.rule, &symbol);
    let key = format!("{fp}:{rule_id}:test:{}", now.millis());
    let p = Payload {
        idempotency_key: key.clone(),
        fingerprint: fp,
        rule: r.rule,
        timeframe: Some(tf),
        notice: Notice::Fired { at: now },
        values: BTreeMap::new(),
        late: false,
        test: true,
        system: false,
        intrabar: false,
        time_zone: "UTC".into(),
    };
    store.queue_notice(
        &key,
        rule_id,
        &serde_json::to_string(&p).unwrap_or_default(),
        now,
    )?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_token_hashes() {
        assert_eq!(owner_of("t").len(), 64);
        assert_ne!(owner_of("a"), owner_of("b"));
    }

    #[test]
    fn a_stored_rule_nested_5000_deep_is_reported_by_the_check_not_a_crash() {
        // Rules the CLI took before the limits (5,000 parentheses) aborted `serve --run` at
        // every start; stored as they were, the check now names each and goes on.
        let mut store = canary_store::in_memory().unwrap();
        let deep = format!("{}BTCUSDT.close < 5{}", "(".repeat(5000), ")".repeat(5000));
        let policy = |intrabar: bool| {
            serde_json::to_string(&Policy {
                intrabar,
                ..Policy::default()
            })
            .unwrap()
        };
        let t = Timestamp::from_millis(1_769_904_000_000);
        let a = store
            .add_rule("o", &deep, "1d", &policy(false), "{\"type\":\"log\"}", t)
            .unwrap();
        let b = store
            .add_rule("o", &deep, "1h", &policy(true), "{\"type\":\"log\"}", t)
            .unwrap();
        let ok = store
            .add_rule(
                "o",
                "BTCUSDT.close < 5",
                "1d",
                &policy(false),
                "{\"type\":\"log\"}",
                t,
            )
            .unwrap();
        // On a stack far smaller than a server thread's: nothing recurses per level.
        let checked = std::thread::Builder::new()
            .stack_size(512 * 1024)
            .spawn(move || {
                check(
                    &mut *store,
                    t,
                    &Dictionary::built_in(),
                    Lexicon::built_in(),
                    &crate::ScoreParams {
                        symbol: canary_model::Symbol::new("BTCUSDT").unwrap(),
                        method: canary_analytics::score::Methodology::built_in(),
                        asset: "BTC".into(),
                        horizon_days: 7,
                        drawdown: 0.1,
                    },
                )
            })
            .unwrap()
            .join()
            .expect("no stack overflow")
            .unwrap();
        let errors: Vec<(i64, &str, &str)> = checked
            .iter()
            .filter_map(|c| c.error.as_deref().map(|e| (c.rule_id, c.rule.as_str(), e)))
            .collect();
        assert_eq!(errors.len(), 2, "{checked:?}");
        for (id, rule, e) in errors {
            assert!([a, b].contains(&id));
            assert!(e.contains("characters long; at most 1000"), "{e}");
            assert!(
                rule.len() < 200 && rule.contains("10017 characters"),
                "{rule}"
            );
        }
        assert!(!checked.iter().any(|c| c.rule_id == ok && c.error.is_some()));
    }
}
