//! Stored alert rules checked at every bar close and their notices delivered.
//!
//! [`check`] evaluates each rule at every close of its timeframe since its last evaluation
//! (the first time, since it was added), with the same inputs and state machine as the
//! backtest, and saves the new state together with the notices (one transaction, each notice
//! once by its idempotency key): a restart neither repeats a notice nor misses a firing; one
//! for a close that passed while nothing ran is marked late. [`deliver`] sends the notices
//! not yet delivered to their channel (a webhook: JSON, an `Idempotency-Key` header, an
//! HMAC-SHA256 signature with a timestamp, retries with exponential back-off) and records
//! each attempt.

use std::collections::BTreeMap;
use std::time::Duration;

use canary_alerts::eval::Evaluator;
use canary_alerts::rule::parse;
use canary_alerts::state::{Alert, Notice, Policy, fingerprint};
use canary_model::{Timeframe, Timestamp};
use canary_news::sentiment::Lexicon;
use canary_news::tags::Dictionary;
use canary_store::{StoredAlertState, Stores};
use serde::{Deserialize, Serialize};

pub mod channels;
pub mod guard;
pub mod smtp;

pub use channels::Channel;

use crate::reports::alerts::RuleInputs;
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
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether an email address is one we can put in a header and an SMTP command as it is.
fn plain_address(a: &str) -> bool {
    a.contains('@')
        && !a.starts_with('@')
        && !a.ends_with('@')
        && a.chars()
            .all(|c| c.is_ascii_graphic() && !"<>,;\"\\()[]".contains(c))
}

/// Why a rule cannot be evaluated intrabar, if it cannot: it must read only bar fields and
/// RSI 14 of one symbol (what the engine holds for the bar still open).
#[must_use]
pub fn intrabar_refusal(expr: &canary_alerts::rule::Expr) -> Option<String> {
    use canary_alerts::rule::{IndicatorKind, Series};
    let symbol = expr.symbol()?;
    let ok = expr.series().iter().all(|s| match s {
        Series::Bar { symbol: x, .. } => x == symbol,
        Series::Indicator {
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
    if let Channel::Email { smtp, .. } = &spec.channel {
        for a in smtp.to.iter().chain([&smtp.from]) {
            if !plain_address(a) {
                return Err(EngineError::param(
                    "email",
                    a,
                    "not a plain address like name@example.org",
                ));
            }
        }
        if smtp.to.is_empty() {
            return Err(EngineError::param("email", "", "no recipient"));
        }
        if !smtp.server.contains(':') {
            return Err(EngineError::param(
                "smtp",
                &smtp.server,
                "write HOST:PORT (587 for submission)",
            ));
        }
        if let Some(ca) = smtp.ca.as_ref().filter(|ca| !ca.is_file()) {
            return Err(EngineError::param(
                "smtp-ca",
                ca.display().to_string(),
                "no such file",
            ));
        }
    }
    if let Some(url) = spec.channel.address()
        && let Err(why) = guard::check_destination(&url, allow.private)
    {
        return Err(EngineError::param("channel", &url, &why));
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

impl Payload {
    /// The time of its notice.
    #[must_use]
    pub fn notice_at(&self) -> Timestamp {
        match self.notice {
            Notice::Fired { at } | Notice::Resolved { at } | Notice::Reminder { at } => at,
        }
    }
}

/// A notice as stored and delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    pub idempotency_key: String,
    pub fingerprint: String,
    /// The rule's text (for a system notice: what happened, e.g. `binance: silent for 60 s`).
    pub rule: String,
    /// The timeframe whose close the rule was checked at (none for a system notice).
    #[serde(default)]
    pub timeframe: Option<Timeframe>,
    pub notice: Notice,
    pub values: BTreeMap<String, f64>,
    pub late: bool,
    /// A test notice sent by `alerts test`, not a firing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
    /// A notice about a source (silence, a gap, venues diverging), not a rule.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub system: bool,
    /// Evaluated on a trade against the bar still open: its values are provisional.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub intrabar: bool,
    pub time_zone: String,
}

/// The rule id system notices are recorded under (no rule has it).
pub const SYSTEM_RULE: i64 = 0;

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

/// Queue a test notice for one of the owner's rules (sent by the next [`deliver`] with
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

/// What one delivery did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivered {
    pub idempotency_key: String,
    pub ok: bool,
    pub attempts: usize,
    pub error: Option<String>,
}

fn sign(secret: &str, t: i64, body: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, format!("{t}.{body}").as_bytes());
    tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// How deliveries are attempted: up to `attempts` times, the first back-off `backoff`
/// (doubling), each attempt within `timeout`; to loopback and private addresses only with
/// `allow_private` (the delivering process's setting, see [`guard`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sending {
    pub attempts: usize,
    pub backoff: Duration,
    pub timeout: Duration,
    pub allow_private: bool,
}

/// More notices than this for one Telegram chat in one delivery go as one digest.
pub const DIGEST_AFTER: usize = 10;
/// The least time between two messages to one Telegram chat (the Bot API's FAQ: about one
/// message per second in a chat).
pub const CHAT_INTERVAL: Duration = Duration::from_secs(1);

/// Send every notice not yet delivered (or only the one keyed `only`; system notices only
/// with a `system` channel), each up to `attempts`
/// times with back-off from `backoff` (doubling, or as long as a rate limit asks), recording
/// each attempt. Messages to one Telegram chat are paced; past [`DIGEST_AFTER`] they go as one
/// digest, recorded against each notice it carries.
///
/// # Errors
/// A database error (a failed delivery is recorded, not an error).
pub async fn deliver(
    store: &mut dyn Stores,
    client: &reqwest::Client,
    now: Timestamp,
    sending: &Sending,
    only: Option<&str>,
    system: Option<&Channel>,
) -> Result<Vec<Delivered>, EngineError> {
    let started = std::time::Instant::now();
    let Sending {
        attempts,
        backoff,
        timeout,
        allow_private,
    } = *sending;
    let mut rules: BTreeMap<i64, Channel> = store
        .rules(None)?
        .into_iter()
        .filter_map(|r| serde_json::from_str(&r.channel).ok().map(|c| (r.id, c)))
        .collect();
    // System notices go to the system channel of the engine that delivers (kept pending for
    // it by `alerts check`, which has none).
    if let Some(c) = system {
        rules.insert(SYSTEM_RULE, c.clone());
    }
    // Each send: the channel, the notices it carries (one, or a digest's), JSON, text.
    let mut sends: Vec<(Channel, Vec<String>, String, String)> = Vec::new();
    let mut chats: BTreeMap<String, (Channel, Vec<Payload>)> = BTreeMap::new();
    for d in store.undelivered()? {
        if only.is_some_and(|k| k != d.idempotency_key) {
            continue;
        }
        let Some(channel) = rules.get(&d.rule_id) else {
            continue;
        };
        let Ok(p) = serde_json::from_str::<Payload>(&d.notice) else {
            store.record_attempt(
                &d.idempotency_key,
                Err("the stored notice does not read as a notice".into()),
                now,
            )?;
            continue;
        };
        if let Some(chat) = channel.chat() {
            chats
                .entry(chat)
                .or_insert_with(|| (channel.clone(), Vec::new()))
                .1
                .push(p);
            continue;
        }
        let text = match channel {
            Channel::Email { smtp, .. } => channels::email(smtp, &p, &rfc2822(now)),
            _ => channels::chat_text(channel, &p),
        };
        sends.push((channel.clone(), vec![d.idempotency_key], d.notice, text));
    }
    let mut paced = Vec::new();
    for (_, (channel, ps)) in chats {
        if ps.len() > DIGEST_AFTER {
            let keys = ps.iter().map(|p| p.idempotency_key.clone()).collect();
            paced.push((
                channel.clone(),
                keys,
                String::new(),
                channels::telegram_digest(&ps),
            ));
        } else {
            for p in ps {
                let text = channels::chat_text(&channel, &p);
                let json = serde_json::to_string(&p).unwrap_or_default();
                paced.push((channel.clone(), vec![p.idempotency_key], json, text));
            }
        }
    }
    let mut out = Vec::new();
    let mut last_to_chat: BTreeMap<String, std::time::Instant> = BTreeMap::new();
    for (channel, keys, json, text) in sends.into_iter().chain(paced) {
        if let Some(t) = channel.chat().and_then(|c| last_to_chat.get(&c).copied()) {
            tokio::time::sleep(CHAT_INTERVAL.saturating_sub(t.elapsed())).await;
        }
        let r = send_one(
            client,
            &channel,
            &keys[0],
            &json,
            &text,
            (attempts, backoff, timeout),
            allow_private,
            (now, started),
        )
        .await;
        if let Some(chat) = channel.chat() {
            last_to_chat.insert(chat, std::time::Instant::now());
        }
        for (i, outcome) in r.outcomes.iter().enumerate() {
            for k in &keys {
                // A digest's attempts count against each notice it carries.
                store.record_attempt(k, outcome.clone(), now)?;
                if i + 1 == r.outcomes.len() {
                    out.push(Delivered {
                        idempotency_key: k.clone(),
                        ok: outcome.is_ok(),
                        attempts: r.outcomes.len(),
                        error: outcome.clone().err(),
                    });
                }
            }
        }
    }
    Ok(out)
}

struct Sent {
    outcomes: Vec<Result<i64, String>>,
}

/// `client` must resolve names through the guard ([`guard::http_client`]); a literal
/// address in the URL is checked here. A signature's time is the caller's `now` plus the
/// time elapsed since `started` (the delivery's start): the time of the attempt on the
/// caller's clock, which no one but the binary reads from the wall.
#[allow(clippy::too_many_arguments)]
async fn send_one(
    client: &reqwest::Client,
    channel: &Channel,
    key: &str,
    json: &str,
    text: &str,
    (attempts, backoff, timeout): (usize, Duration, Duration),
    allow_private: bool,
    (now, started): (Timestamp, std::time::Instant),
) -> Sent {
    let mut outcomes = Vec::new();
    if let Some(Err(why)) = channel
        .address()
        .map(|url| guard::check_url(&url, allow_private))
    {
        return Sent {
            outcomes: vec![Err(why)],
        };
    }
    let mut wait = backoff;
    let mut asked: Option<Duration> = None;
    for k in 0..attempts.max(1) {
        if k > 0 {
            tokio::time::sleep(asked.take().unwrap_or(wait)).await;
            wait *= 2;
        }
        let mut headers = vec![("Idempotency-Key", key.to_string())];
        if let Channel::Webhook {
            secret: Some(secret),
            ..
        } = channel
        {
            // The signature's timestamp is the sending time, so a receiver can refuse replays.
            let elapsed = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
            let t = now.millis().saturating_add(elapsed).div_euclid(1000);
            headers.push((
                "X-Canary-Signature",
                format!("t={t},v1={}", sign(secret, t, json)),
            ));
        }
        match channels::attempt(
            client,
            channel,
            json,
            text,
            &headers,
            timeout,
            allow_private,
        )
        .await
        {
            Ok(ms) => {
                outcomes.push(Ok(ms));
                break;
            }
            Err(f) => {
                outcomes.push(Err(f.error));
                if f.permanent {
                    break;
                }
                asked = f.retry_after;
            }
        }
    }
    Sent { outcomes }
}

/// An RFC 5322 date.
fn rfc2822(t: Timestamp) -> String {
    let s = t.to_string(); // 2026-02-01T00:00:00Z
    let date = s.get(..10).unwrap_or("");
    let time = s.get(11..19).unwrap_or("00:00:00");
    let mut it = date.split('-').map(|x| x.parse::<i64>().unwrap_or(0));
    let (y, m, d) = (
        it.next().unwrap_or(1970),
        it.next().unwrap_or(1),
        it.next().unwrap_or(1),
    );
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let day = DAYS[usize::try_from(t.millis().div_euclid(86_400_000).rem_euclid(7)).unwrap_or(0)];
    let month = MONTHS[usize::try_from(m - 1).unwrap_or(0).min(11)];
    format!("{day}, {d} {month} {y} {time} +0000")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_owners_and_addresses() {
        // HMAC-SHA256 of "1.{}" under the key "k", computed with Python's hmac module.
        assert_eq!(
            sign("k", 1, "{}"),
            "3dd49b2593d0f9a349e9e71c4bde3e2b862c2be4003fe9b4ba81332029310158"
        );
        assert_ne!(sign("k", 1, "{}"), sign("k", 2, "{}"));
        assert_eq!(owner_of("t").len(), 64);
        assert_ne!(owner_of("a"), owner_of("b"));
        assert!(plain_address("ops@example.org"));
        assert!(!plain_address("ops@example.org\r\nBcc: x@y"));
        assert!(!plain_address("<ops@example.org>"));
        assert_eq!(
            rfc2822(Timestamp::from_millis(1_769_904_000_000)),
            "Sun, 1 Feb 2026 00:00:00 +0000"
        );
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
