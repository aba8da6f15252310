//! Canary's delivery room: the notices the alert check queued, sent to their channel.
//!
//! [`deliver`] sends every notice not yet delivered (a webhook: JSON, an `Idempotency-Key`
//! header, an HMAC-SHA256 signature with a timestamp; Slack, Discord and Telegram: text
//! escaped for each service; email over our own SMTP client), retries with exponential
//! back-off (or as long as a rate limit asks), paces messages to one Telegram chat and folds
//! a burst into one digest, and records each attempt in the store. What a channel is and the
//! checks a destination must pass live here too:
//!
//! - [`channels`]: [`Channel`] (where a rule's notices go), its checks when a rule is added
//!   ([`Channel::check`]), and the text and JSON each service receives;
//! - [`guard`]: the SSRF guard (names resolved once, every address checked, the connection
//!   made to the checked ones; private destinations only by the delivering process's
//!   setting);
//! - [`smtp`]: the SMTP client (STARTTLS, AUTH PLAIN, dot-stuffing).
//!
//! This room depends on the store and the rule language's notice types only: the compose
//! layer (which checks rules and queues notices) and the runtime (which wakes delivery after
//! each close) call it, never the other way.

use std::collections::BTreeMap;
use std::time::Duration;

use canary_alerts::state::Notice;
use canary_model::{Timeframe, Timestamp};
use canary_store::{StoreError, Stores};
use serde::{Deserialize, Serialize};

pub mod channels;
pub mod guard;
pub mod smtp;

pub use channels::Channel;

/// Whether an email address is one we can put in a header and an SMTP command as it is.
pub(crate) fn plain_address(a: &str) -> bool {
    a.contains('@')
        && !a.starts_with('@')
        && !a.ends_with('@')
        && a.chars()
            .all(|c| c.is_ascii_graphic() && !"<>,;\"\\()[]".contains(c))
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
#[expect(clippy::struct_excessive_bools)] // the JSON receivers read: each flag a field of its own
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
    canary_model::excerpt::hex(tag.as_ref())
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
) -> Result<Vec<Delivered>, StoreError> {
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
#[expect(clippy::too_many_arguments)]
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
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let s = t.to_string(); // 2026-02-01T00:00:00Z
    let date = s.get(..10).unwrap_or("");
    let time = s.get(11..19).unwrap_or("00:00:00");
    let mut it = date.split('-').map(|x| x.parse::<i64>().unwrap_or(0));
    let (y, m, d) = (
        it.next().unwrap_or(1970),
        it.next().unwrap_or(1),
        it.next().unwrap_or(1),
    );
    let day = DAYS[usize::try_from(t.millis().div_euclid(86_400_000).rem_euclid(7)).unwrap_or(0)];
    let month = MONTHS[usize::try_from(m - 1).unwrap_or(0).min(11)];
    format!("{day}, {d} {month} {y} {time} +0000")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_addresses_and_dates() {
        // HMAC-SHA256 of "1.{}" under the key "k", computed with Python's hmac module.
        assert_eq!(
            sign("k", 1, "{}"),
            "3dd49b2593d0f9a349e9e71c4bde3e2b862c2be4003fe9b4ba81332029310158"
        );
        assert_ne!(sign("k", 1, "{}"), sign("k", 2, "{}"));
        assert!(plain_address("ops@example.org"));
        assert!(!plain_address("ops@example.org\r\nBcc: x@y"));
        assert!(!plain_address("<ops@example.org>"));
        assert_eq!(
            rfc2822(Timestamp::from_millis(1_769_904_000_000)),
            "Sun, 1 Feb 2026 00:00:00 +0000"
        );
    }
}
