//! A notice written for each kind of channel, and one attempt to send it.
//!
//! Chat services get text with their own formatting escaped, so that a rule or a value can
//! never make a message malformed (Slack's `&`, `<`, `>`; Discord's Markdown, with mentions
//! disabled; Telegram's MarkdownV2, where a stray `.` or `-` gets the message refused). A
//! reply of 429 (or Telegram's `retry_after`) is a rate limit: the next attempt waits as told.
//! A 4xx other than 408 and 429 will not succeed on retry, and ends the attempts.

use std::time::{Duration, Instant};

use canary_alerts::state::Notice;
use serde::{Deserialize, Serialize};

use super::Payload;
use super::smtp::{self, Smtp};

/// The Telegram Bot API's address.
pub const TELEGRAM_API: &str = "https://api.telegram.org";

fn telegram_api() -> String {
    TELEGRAM_API.into()
}

/// Where a rule's notices go. Whether private addresses may be reached is not the channel's
/// to say: it is the delivering process's setting (see [`super::guard`]). A channel stored
/// with the `allow_private` field an earlier version took still reads; the field is ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Channel {
    /// An HTTP(S) endpoint that takes the notice as JSON.
    Webhook {
        url: String,
        /// Signs each delivery (HMAC-SHA256) when set.
        secret: Option<String>,
    },
    /// A Slack incoming webhook.
    Slack { url: String },
    /// A Discord webhook.
    Discord { url: String },
    /// A Telegram chat, through a bot.
    Telegram {
        /// The Bot API's base address ([`TELEGRAM_API`] unless testing or proxied).
        #[serde(default = "telegram_api")]
        api: String,
        bot_token: String,
        chat_id: String,
    },
    /// Email over SMTP with STARTTLS.
    Email { smtp: Smtp },
    /// Only the delivery log.
    Log,
}

/// Why a channel cannot be used: the setting at fault, its value, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub field: &'static str,
    pub value: String,
    pub why: String,
}

impl Channel {
    /// Whether notices can go here, checked when a rule is added: email addresses that fit a
    /// header as they are, a recipient, an SMTP relay as `HOST:PORT`, a CA file that exists,
    /// and a destination the SSRF guard lets through (private ones only with
    /// `allow_private`, the adding process's setting).
    ///
    /// # Errors
    /// The first setting that cannot be used.
    pub fn check(&self, allow_private: bool) -> Result<(), Refused> {
        let refused = |field, value: &str, why: &str| Refused {
            field,
            value: value.to_string(),
            why: why.to_string(),
        };
        if let Channel::Email { smtp } = self {
            if let Some(a) = smtp
                .to
                .iter()
                .chain([&smtp.from])
                .find(|a| !crate::plain_address(a))
            {
                return Err(refused(
                    "email",
                    a,
                    "not a plain address like name@example.org",
                ));
            }
            if smtp.to.is_empty() {
                return Err(refused("email", "", "no recipient"));
            }
            if !smtp.server.contains(':') {
                return Err(refused(
                    "smtp",
                    &smtp.server,
                    "write HOST:PORT (587 for submission)",
                ));
            }
            if let Some(ca) = smtp.ca.as_ref().filter(|ca| !ca.is_file()) {
                return Err(refused(
                    "smtp-ca",
                    &ca.display().to_string(),
                    "no such file",
                ));
            }
        }
        if let Some(url) = self.address()
            && let Err(why) = crate::guard::check_destination(&url, allow_private)
        {
            return Err(refused("channel", &url, &why));
        }
        Ok(())
    }

    /// The address the channel connects to (an SMTP relay as `smtp://HOST:PORT`).
    #[must_use]
    pub fn address(&self) -> Option<String> {
        match self {
            Self::Webhook { url, .. } | Self::Slack { url } | Self::Discord { url } => {
                Some(url.clone())
            }
            Self::Telegram { api, .. } => Some(api.clone()),
            Self::Email { smtp } => Some(format!("smtp://{}", smtp.server)),
            Self::Log => None,
        }
    }

    /// Notices for one recipient are paced and, past a limit, sent as one digest (a Telegram
    /// chat): the recipient's key.
    #[must_use]
    pub fn chat(&self) -> Option<String> {
        match self {
            Self::Telegram {
                api,
                bot_token,
                chat_id,
                ..
            } => Some(format!("{api}|{bot_token}|{chat_id}")),
            _ => None,
        }
    }
}

/// A notice in words: a title and the lines under it, plain text.
#[must_use]
pub fn words(p: &Payload) -> (String, Vec<String>) {
    let (what, at) = match p.notice {
        _ if p.test => ("test notice", p.notice_at()),
        Notice::Fired { at } => ("fired", at),
        Notice::Resolved { at } => ("resolved", at),
        Notice::Reminder { at } => ("still firing", at),
    };
    let when = at.to_string().trim_end_matches('Z').replace('T', " ");
    if p.system {
        let mut lines = vec![format!("at {when} UTC")];
        for (k, v) in &p.values {
            lines.push(format!("{k} = {}", number(*v)));
        }
        return (format!("Canary: {}", p.rule), lines);
    }
    let title = format!("Canary: {} {what}", p.rule);
    let mut lines = vec![format!(
        "at {when} UTC, {} bar {}{}",
        p.timeframe.map_or_else(String::new, |t| t.to_string()),
        if p.intrabar {
            "still open (intrabar: provisional values)"
        } else {
            "close"
        },
        if p.late {
            " (late: nothing was checking then)"
        } else {
            ""
        }
    )];
    for (k, v) in &p.values {
        lines.push(format!("{k} = {}", number(*v)));
    }
    lines.push(format!("fingerprint {}", p.fingerprint));
    (title, lines)
}

fn number(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Slack's three control characters (its "Escaping text" guide).
#[must_use]
pub fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Discord Markdown neutralised with backslashes.
#[must_use]
pub fn discord_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\*_~`|>#-[]()".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Telegram MarkdownV2 outside code: every one of `_*[]()~`>#+-=|{}.!` and `\` is escaped
/// (the Bot API's formatting options).
#[must_use]
pub fn telegram_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\_*[]()~`>#+-=|{}.!".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The text of one notice for a chat channel (its title in bold).
#[must_use]
pub fn chat_text(channel: &Channel, p: &Payload) -> String {
    let (title, lines) = words(p);
    match channel {
        Channel::Slack { .. } => format!(
            "*{}*\n{}",
            slack_escape(&title),
            slack_escape(&lines.join("\n"))
        ),
        Channel::Discord { .. } => truncate(
            format!(
                "**{}**\n{}",
                discord_escape(&title),
                discord_escape(&lines.join("\n"))
            ),
            2000,
        ),
        _ => format!(
            "*{}*\n{}",
            telegram_escape(&title),
            telegram_escape(&lines.join("\n"))
        ),
    }
}

/// Several notices for one Telegram chat as one message (past the per-chat limit).
#[must_use]
pub fn telegram_digest(ps: &[Payload]) -> String {
    let mut s = format!(
        "*{}*",
        telegram_escape(&format!("Canary: {} notices", ps.len()))
    );
    for p in ps {
        let (title, lines) = words(p);
        s.push('\n');
        s.push_str(&telegram_escape(&format!(
            "- {} ({})",
            title.trim_start_matches("Canary: "),
            lines[0]
        )));
    }
    truncate_telegram(s)
}

fn truncate(s: String, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s;
    }
    let mut t: String = s.chars().take(max_chars - 1).collect();
    // Never end on a lone escaping backslash.
    if t.ends_with('\\') && !t.ends_with("\\\\") {
        t.pop();
    }
    t.push('…');
    t
}

/// Telegram allows 4096 characters; a cut keeps the escapes whole ("…" needs no escape).
fn truncate_telegram(s: String) -> String {
    truncate(s, 4096)
}

/// Why an attempt failed, and whether another can succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub error: String,
    /// The receiver asked for this wait (a rate limit).
    pub retry_after: Option<Duration>,
    /// Retrying cannot help (a 4xx other than 408 and 429).
    pub permanent: bool,
}

impl Failure {
    fn new(error: String) -> Self {
        Self {
            error,
            retry_after: None,
            permanent: false,
        }
    }
}

/// One attempt over HTTP: the latency in ms.
///
/// # Errors
/// What failed.
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    body: String,
    headers: &[(&str, String)],
    timeout: Duration,
) -> Result<i64, Failure> {
    let mut req = client
        .post(url)
        .timeout(timeout)
        .header("Content-Type", "application/json")
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let started = Instant::now();
    let r = req
        .send()
        .await
        .map_err(|e| Failure::new(format!("{}: {}", redact(url), causes(e))))?;
    let status = r.status().as_u16();
    if r.status().is_success() {
        return Ok(i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX));
    }
    let header_wait = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok());
    let text = r.text().await.unwrap_or_default();
    // Telegram: {"parameters":{"retry_after":N}}; Discord: {"retry_after":N.N}.
    let body_wait = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| {
            v["parameters"]["retry_after"]
                .as_f64()
                .or_else(|| v["retry_after"].as_f64())
        });
    let detail: String = text.chars().take(200).collect();
    Err(Failure {
        error: format!("{}: HTTP {status} {detail}", redact(url)),
        retry_after: (status == 429)
            .then(|| header_wait.or(body_wait).unwrap_or(1.0))
            .map(|s| Duration::from_secs_f64(s.clamp(0.0, 600.0))),
        permanent: (400..500).contains(&status) && status != 408 && status != 429,
    })
}

/// A client error with its causes (where the guard's refusal or the socket's error is),
/// without the URL reqwest would print (it can hold a Telegram bot token).
fn causes(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut out = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let s_text = s.to_string();
        if !out.ends_with(&s_text) {
            out.push_str(": ");
            out.push_str(&s_text);
        }
        source = s.source();
    }
    out
}

/// A URL as it may be logged: a Telegram bot token in its path is hidden.
#[must_use]
pub fn redact(url: &str) -> String {
    match url.find("/bot") {
        Some(i) => {
            let rest = &url[i + 4..];
            let end = rest.find('/').unwrap_or(rest.len());
            format!("{}/bot***{}", &url[..i], &rest[end..])
        }
        None => url.to_string(),
    }
}

/// One attempt to deliver `text` (already written for the channel) or the JSON payload.
/// The HTTP client resolves names through the SSRF guard; an SMTP relay's name is resolved
/// and checked here, under `allow_private`.
///
/// # Errors
/// What failed.
pub async fn attempt(
    client: &reqwest::Client,
    channel: &Channel,
    json: &str,
    text: &str,
    headers: &[(&str, String)],
    timeout: Duration,
    allow_private: bool,
) -> Result<i64, Failure> {
    match channel {
        Channel::Log => Ok(0),
        Channel::Webhook { url, .. } => post(client, url, json.to_string(), headers, timeout).await,
        Channel::Slack { url, .. } => {
            let body = serde_json::json!({ "text": text, "mrkdwn": true });
            post(client, url, body.to_string(), headers, timeout).await
        }
        Channel::Discord { url, .. } => {
            let body = serde_json::json!({
                "content": text,
                "allowed_mentions": { "parse": [] },
            });
            post(client, url, body.to_string(), headers, timeout).await
        }
        Channel::Telegram {
            api,
            bot_token,
            chat_id,
            ..
        } => {
            let url = format!("{}/bot{bot_token}/sendMessage", api.trim_end_matches('/'));
            let body = serde_json::json!({
                "chat_id": chat_id,
                "text": text,
                "parse_mode": "MarkdownV2",
                "link_preview_options": { "is_disabled": true },
            });
            post(client, &url, body.to_string(), headers, timeout).await
        }
        Channel::Email { smtp: cfg } => {
            let started = Instant::now();
            smtp::send(cfg, text, timeout, allow_private)
                .await
                .map_err(Failure::new)?;
            Ok(i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX))
        }
    }
}

/// The email for a notice: subject, then the whole message.
#[must_use]
pub fn email(cfg: &Smtp, p: &Payload, date: &str) -> String {
    let (title, lines) = words(p);
    let body = format!(
        "{}\n\n{}\n\nThe notice as JSON:\n{}\n",
        title,
        lines.join("\n"),
        serde_json::to_string_pretty(p).unwrap_or_default()
    );
    smtp::message(
        cfg,
        &title,
        &body,
        &p.idempotency_key.replace(':', "."),
        date,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_formatting_character_is_escaped() {
        assert_eq!(slack_escape("a<b & c>d"), "a&lt;b &amp; c&gt;d");
        assert_eq!(
            telegram_escape("close < 58,000.5 (x-1) !"),
            "close < 58,000\\.5 \\(x\\-1\\) \\!"
        );
        for c in "_*[]()~`>#+-=|{}.!\\".chars() {
            assert_eq!(telegram_escape(&c.to_string()), format!("\\{c}"));
        }
        assert_eq!(
            discord_escape("**@everyone** _x_"),
            "\\*\\*@everyone\\*\\* \\_x\\_"
        );
        assert_eq!(
            redact("http://127.0.0.1:1/bot123:ABC/sendMessage"),
            "http://127.0.0.1:1/bot***/sendMessage"
        );
        let long = "\\.".repeat(3000);
        let t = truncate_telegram(long);
        assert!(
            t.chars().count() <= 4096 && t.ends_with("\\.…"),
            "{}",
            &t[t.len() - 10..]
        );
    }
}
