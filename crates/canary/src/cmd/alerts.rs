//! `canary alerts backtest`: render the engine's alert backtest.

use canary_engine::Session;

use anyhow::Result;
use canary_alerts::state::{Frequency, Notice, Policy};
use canary_engine::{AlertBacktestParams, ScoreParams};

use crate::cli::{AlertFrequency, AlertsArgs, AlertsCommand, OutputFormat};
use crate::output::{preamble, print_json, progress, table};

fn run(session: &Session, a: &AlertsArgs) -> Result<()> {
    let AlertsCommand::Backtest(b) = &a.command else {
        unreachable!("manage dispatches the other commands");
    };
    let (dict, lex) = super::news::vocabulary(&crate::cli::Vocabulary {
        dictionary: None,
        lexicon: None,
        profiles: None,
    })?;
    let p = AlertBacktestParams {
        rule: b.rule.clone(),
        timeframe: b.tf,
        from: b.from,
        policy: policy(&b.policy),
        follow_ms: b.follow,
        score: Some(score_params()?),
    };
    let pb = progress(0, "evaluating the rule at every bar close");
    // Its rules may read the facts file (`basket_move()` reads its miners).
    let profiles = super::miners::profiles(None)?;
    let r = super::with_facts(session, b.to, &profiles, |ctx| {
        canary_engine::alerts_backtest(ctx, &p, &dict, &lex, |d, t| {
            pb.set_length(t as u64);
            pb.set_position(d as u64);
        })
    });
    pb.finish_and_clear();
    let r = r?;
    if b.format == OutputFormat::Json {
        return print_json(&r);
    }
    preamble(&r);
    let x = &r.body;
    println!(
        "`{}` on {} closes from {}: {} evaluations ({} without data), fingerprint {}",
        x.rule, x.timeframe, b.from, x.evaluations, x.no_data, x.fingerprint
    );
    if x.firings.is_empty() {
        println!("it would not have fired");
        return Ok(());
    }
    let mut t = table();
    t.set_header([
        "notice",
        "at",
        "values",
        "return after",
        "max drawdown after",
    ]);
    let pct = |v: Option<f64>| v.map_or_else(|| "not yet known".into(), |v| format!("{v:+.1}%"));
    for f in &x.firings {
        let (kind, at) = notice_kind(&f.notice);
        t.add_row([
            kind.to_string(),
            at.to_string(),
            f.values
                .iter()
                .map(|(k, v)| format!("{k} = {}", crate::output::human(*v)))
                .collect::<Vec<_>>()
                .join(", "),
            pct(f.forward_return_pct),
            f.forward_drawdown_pct
                .map_or_else(|| "not yet known".into(), |v| format!("{v:.1}%")),
        ]);
    }
    println!("{t}");
    println!(
        "per month: {} (moves measured over {:.0} days after each notice)",
        x.per_month
            .iter()
            .map(|(m, n)| format!("{m}: {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        x.follow_days
    );
    Ok(())
}

fn policy(p: &crate::cli::AlertPolicyArgs) -> Policy {
    Policy {
        for_evals: p.for_evals,
        cooldown_ms: p.cooldown.unwrap_or(0),
        band: p.band,
        frequency: match p.frequency {
            AlertFrequency::Transition => Frequency::Transition,
            AlertFrequency::Once => Frequency::Once,
            AlertFrequency::EveryClose => Frequency::EveryClose,
        },
        notify_resolved: p.notify_resolved,
        repeat_ms: p.repeat,
        expires_at: p.expires,
        intrabar: false,
    }
}

/// The published score method on BTCUSDT, which rules on scores read.
pub(crate) fn score_params() -> Result<ScoreParams> {
    Ok(ScoreParams::published(canary_model::Symbol::new(
        "BTCUSDT",
    )?))
}

pub fn manage(session: &Session, a: &AlertsArgs) -> Result<()> {
    use crate::cli::AlertsCommand as C;
    match &a.command {
        C::Backtest(_) => run(session, a),
        C::Add(x) => add(session, x),
        C::List(t) => list(session, t),
        C::Rm(x) => rm(session, x),
        C::Check(x) => check(session, x),
        C::Test(x) => send_test(session, x),
        C::Silence(x) => silence(session, x),
        C::Log(x) => log(session, x),
    }
}

/// The owner the command acts for: the token's (issued by this database) or the operator.
fn owner(
    store: &dyn canary_store::Stores,
    t: &crate::cli::AlertTokenArgs,
) -> Result<canary_engine::alerting::Owner> {
    canary_engine::tokens::cli_owner(store, t.token.as_deref()).map_err(super::hint)
}

/// `canary tokens`: issue, list and revoke API tokens.
pub fn tokens(session: &Session, a: &crate::cli::TokensArgs) -> Result<()> {
    use crate::cli::TokensCommand as T;
    match &a.command {
        T::Create(c) => {
            let mut store = super::open(session)?;
            let scope = c.scope.parse().map_err(anyhow::Error::msg)?;
            let (token, row) =
                canary_engine::tokens::issue(&mut *store, &c.name, scope, session.now())
                    .map_err(super::hint)?;
            println!("{token}");
            eprintln!(
                "token {} ({}, scope {}) issued: it is shown this once (only its hash is kept); send it as Authorization: Bearer TOKEN",
                row.id, row.name, row.scope
            );
            Ok(())
        }
        T::List => {
            let store = super::open_existing(session)?;
            let tokens = store.tokens()?;
            if tokens.is_empty() {
                println!("no tokens: issue one with canary tokens create --name NAME");
                return Ok(());
            }
            let mut tb = table();
            tb.set_header(["id", "name", "scope", "created", "revoked", "rules"]);
            for t in tokens {
                let rules = store.rules(Some(&t.hash))?.len();
                tb.add_row([
                    t.id.to_string(),
                    t.name.clone(),
                    t.scope.clone(),
                    t.created_at.to_string(),
                    t.revoked_at.map_or_else(String::new, |r| r.to_string()),
                    rules.to_string(),
                ]);
            }
            println!("{tb}");
            Ok(())
        }
        T::Revoke(r) => {
            let mut store = super::open_existing(session)?;
            match store.revoke_token(r.id, r.remove_rules, session.now())? {
                Some((t, removed)) => {
                    println!(
                        "token {} ({}) revoked{}",
                        t.id,
                        t.name,
                        if r.remove_rules {
                            format!(", {removed} rules removed")
                        } else {
                            String::new()
                        }
                    );
                    Ok(())
                }
                None => anyhow::bail!("no valid token {} (canary tokens list shows them)", r.id),
            }
        }
    }
}

/// Deliver what is pending (or only the notice keyed `only`), printing each failure.
fn send(
    store: &mut dyn canary_store::Stores,
    a: &crate::cli::AlertSendArgs,
    now: canary_model::Timestamp,
    only: Option<&str>,
) -> Result<Vec<canary_delivery::Delivered>> {
    let client = canary_delivery::guard::http_client(a.allow_private)?;
    let sent = canary_engine::jobs::block_on(canary_delivery::deliver(
        store,
        &client,
        now,
        &canary_delivery::Sending {
            attempts: a.attempts,
            backoff: std::time::Duration::from_secs_f64(a.backoff),
            timeout: std::time::Duration::from_secs_f64(a.timeout),
            allow_private: a.allow_private,
        },
        only,
        None,
    ))?
    .map_err(super::store_hint)?;
    for f in sent.iter().filter(|d| !d.ok) {
        println!(
            "  {} not delivered after {} attempts: {}",
            f.idempotency_key,
            f.attempts,
            f.error.clone().unwrap_or_default()
        );
    }
    Ok(sent)
}

/// A channel as listed (no secret shown).
fn channel_name(c: &serde_json::Value) -> String {
    match c["type"].as_str().unwrap_or("log") {
        "webhook" => c["url"].as_str().unwrap_or("").to_string(),
        "slack" | "discord" => format!(
            "{} {}",
            c["type"].as_str().unwrap_or(""),
            c["url"].as_str().unwrap_or("")
        ),
        "telegram" => format!("telegram chat {}", c["chat_id"].as_str().unwrap_or("")),
        "email" => format!(
            "email {}",
            c["smtp"]["to"]
                .as_array()
                .map(|a| a
                    .iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        ),
        other => other.to_string(),
    }
}

/// `alerts add`: the rule stored for its owner, with its channel and policy.
fn add(session: &Session, x: &crate::cli::AlertAddArgs) -> Result<()> {
    use canary_engine::alerting::{Allow, RuleSpec, add_rule};
    let spec = RuleSpec {
        rule: x.rule.clone(),
        timeframe: x.tf,
        policy: Policy {
            intrabar: x.intrabar,
            ..policy(&x.policy)
        },
        channel: channel(x),
    };
    let mut store = super::open(session)?;
    let owner = owner(&*store, &x.owner)?;
    let allow = Allow {
        private: x.allow_private,
        before_data: x.before_data,
    };
    let id = add_rule(
        &mut *store,
        &owner,
        &spec,
        x.since.unwrap_or_else(|| session.now()),
        allow,
    )
    .map_err(super::hint)?;
    println!("rule {id} added: `{}` on {} closes", x.rule, x.tf);
    Ok(())
}

/// Where a new rule's notices go: the one channel its flags name (clap allows one), else the
/// log.
fn channel(x: &crate::cli::AlertAddArgs) -> canary_engine::alerting::Channel {
    use canary_engine::alerting::Channel;
    if let Some(url) = &x.webhook {
        Channel::Webhook {
            url: url.clone(),
            secret: x.secret.clone(),
        }
    } else if let Some(url) = &x.slack {
        Channel::Slack { url: url.clone() }
    } else if let Some(url) = &x.discord {
        Channel::Discord { url: url.clone() }
    } else if let Some(chat) = &x.telegram_chat {
        Channel::Telegram {
            api: x.telegram_api.clone(),
            bot_token: x.telegram_token.clone().unwrap_or_default(),
            chat_id: chat.clone(),
        }
    } else if !x.email.is_empty() {
        Channel::Email {
            smtp: canary_delivery::smtp::Smtp {
                server: x.smtp.clone().unwrap_or_default(),
                from: x.smtp_from.clone().unwrap_or_default(),
                to: x.email.clone(),
                username: x.smtp_user.clone(),
                password: x.smtp_password.clone(),
                ca: x.smtp_ca.clone(),
            },
        }
    } else {
        Channel::Log
    }
}

/// `alerts list`: the owner's rules with their state and channel.
fn list(session: &Session, t: &crate::cli::AlertTokenArgs) -> Result<()> {
    let store = super::open_existing(session)?;
    let rules = store.rules(Some(owner(&*store, t)?.key()))?;
    if rules.is_empty() {
        println!("no rules: add one with canary alerts add RULE");
        return Ok(());
    }
    let mut tb = table();
    tb.set_header(["id", "rule", "tf", "state", "evaluated to", "channel"]);
    for r in rules {
        let st = store.alert_state(r.id)?;
        let state = rule_state(
            st.as_ref().map(|s| s.alert.as_str()),
            &store.silences(r.id)?,
            session.now(),
        );
        let channel: serde_json::Value = serde_json::from_str(&r.channel).unwrap_or_default();
        tb.add_row([
            r.id.to_string(),
            r.rule.clone(),
            r.timeframe.clone(),
            state,
            st.map_or_else(String::new, |s| s.evaluated_to.to_string()),
            channel_name(&channel),
        ]);
    }
    println!("{tb}");
    Ok(())
}

/// A rule's state as listed: from its stored alert (JSON), and the silence running at `now`.
fn rule_state(
    alert: Option<&str>,
    silences: &[canary_store::Silence],
    now: canary_model::Timestamp,
) -> String {
    let state = alert
        .and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok())
        .map_or_else(
            || "not checked yet".into(),
            |v| v["state"]["state"].as_str().unwrap_or("").to_string(),
        );
    match silences
        .iter()
        .find(|s| s.starts_at <= now && now < s.ends_at)
    {
        Some(s) => format!("{state}, silenced until {}", s.ends_at),
        None => state,
    }
}

/// `alerts rm`: one of the owner's rules removed.
fn rm(session: &Session, x: &crate::cli::AlertRmArgs) -> Result<()> {
    let mut store = super::open_existing(session)?;
    let owner = owner(&*store, &x.owner)?;
    if store.remove_rule(owner.key(), x.id)? {
        println!("rule {} removed (its deliveries stay in the log)", x.id);
        Ok(())
    } else {
        anyhow::bail!("no rule {} of yours (canary alerts list shows them)", x.id)
    }
}

/// `alerts check`: every rule evaluated at the closes since its last check, the notices
/// delivered.
fn check(session: &Session, x: &crate::cli::AlertCheckArgs) -> Result<()> {
    let (dict, lex) = super::news::vocabulary(&crate::cli::Vocabulary {
        dictionary: None,
        lexicon: None,
        profiles: None,
    })?;
    let now = x.asof.unwrap_or_else(|| session.now());
    let mut store = super::open(session)?;
    let checked = canary_engine::alerting::check(&mut *store, now, &dict, &lex, &score_params()?)
        .map_err(super::hint)?;
    for c in &checked {
        if let Some(e) = &c.error {
            println!("rule {} `{}`: could not be checked: {e}", c.rule_id, c.rule);
        }
        for (n, late) in &c.notices {
            let (kind, at) = notice_kind(n);
            println!(
                "rule {} `{}`: {kind} at {at}{}",
                c.rule_id,
                c.rule,
                if *late {
                    " (late: nothing was checking then)"
                } else {
                    ""
                }
            );
        }
    }
    let evaluated: usize = checked.iter().map(|c| c.evaluated).sum();
    let silenced: usize = checked.iter().map(|c| c.silenced).sum();
    // Evaluated as of the check's time; delivered now.
    let sent = send(&mut *store, &x.send, session.now(), None)?;
    let failed = sent.iter().filter(|d| !d.ok).count();
    println!(
        "{} rules checked ({evaluated} bar closes), {} notices delivered, {failed} failed{}",
        checked.len(),
        sent.len() - failed,
        if silenced > 0 {
            format!(", {silenced} silenced")
        } else {
            String::new()
        }
    );
    Ok(())
}

/// A notice's kind as written, and its time.
fn notice_kind(n: &Notice) -> (&'static str, canary_model::Timestamp) {
    match *n {
        Notice::Fired { at } => ("fired", at),
        Notice::Resolved { at } => ("resolved", at),
        Notice::Reminder { at } => ("reminder", at),
    }
}

/// `alerts test`: a test notice of one of the owner's rules delivered now.
fn send_test(session: &Session, x: &crate::cli::AlertTestArgs) -> Result<()> {
    let mut store = super::open_existing(session)?;
    let now = session.now();
    let owner = owner(&*store, &x.owner)?;
    let key =
        canary_engine::alerting::queue_test(&mut *store, &owner, x.id, now).map_err(super::hint)?;
    let sent = send(&mut *store, &x.send, now, Some(&key))?;
    if sent.iter().all(|d| d.ok) {
        println!("test notice of rule {} delivered", x.id);
        Ok(())
    } else {
        anyhow::bail!("the test notice of rule {} was not delivered", x.id)
    }
}

/// `alerts silence`: one of the owner's rules silenced for a span, or its silences lifted.
fn silence(session: &Session, x: &crate::cli::AlertSilenceArgs) -> Result<()> {
    let mut store = super::open_existing(session)?;
    let owner = owner(&*store, &x.owner)?;
    let owner = owner.key();
    let now = session.now();
    if x.lift {
        let n = store.lift_silences(owner, x.id, now)?;
        println!("{n} silences of rule {} lifted", x.id);
        return Ok(());
    }
    let (from, until) = silence_span(x, now)?;
    match store.add_silence(owner, x.id, from, until, &x.comment, now)? {
        Some(_) => {
            println!("rule {} silenced from {from} until {until}", x.id);
            Ok(())
        }
        None => anyhow::bail!("no rule {} of yours (canary alerts list shows them)", x.id),
    }
}

/// The span a silence covers: from `--from` (default `now`) until `--until`, or for `--for`;
/// refused when it ends before it starts.
fn silence_span(
    x: &crate::cli::AlertSilenceArgs,
    now: canary_model::Timestamp,
) -> Result<(canary_model::Timestamp, canary_model::Timestamp)> {
    let from = x.from.unwrap_or(now);
    let until = match (x.until, x.duration) {
        (Some(t), _) => t,
        (None, Some(d)) => canary_model::Timestamp::from_millis(from.millis() + d),
        (None, None) => unreachable!("clap requires --for, --until or --lift"),
    };
    if until <= from {
        anyhow::bail!("--until {until} is not after --from {from}");
    }
    Ok((from, until))
}

/// `alerts log`: the deliveries, newest first.
fn log(session: &Session, x: &crate::cli::AlertLogArgs) -> Result<()> {
    let store = super::open_existing(session)?;
    let log = store.delivery_log(x.rule)?;
    if log.is_empty() {
        println!("no deliveries yet");
        return Ok(());
    }
    let mut tb = table();
    tb.set_header([
        "rule", "notice", "late", "status", "attempts", "latency", "error",
    ]);
    for d in log {
        tb.add_row(delivery_row(&d));
    }
    println!("{tb}");
    Ok(())
}

/// A delivery as a row of the log: rule, the notice's kind and time, late, status, attempts,
/// latency, last error.
fn delivery_row(d: &canary_store::Delivery) -> [String; 7] {
    let p: serde_json::Value = serde_json::from_str(&d.notice).unwrap_or_default();
    [
        d.rule_id.to_string(),
        format!(
            "{} at {}",
            p["notice"]["kind"].as_str().unwrap_or(""),
            p["notice"]["at"].as_str().unwrap_or("")
        ),
        if d.late { "late".into() } else { String::new() },
        d.status.clone(),
        d.attempts.to_string(),
        d.latency_ms.map_or_else(String::new, |l| format!("{l} ms")),
        d.last_error.clone().unwrap_or_default(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use canary_alerts::state::{Alert, State};
    use canary_engine::alerting::Channel;
    use canary_model::Timestamp;
    use clap::Parser;

    use crate::cli::{AlertsCommand, Cli, Command};

    fn at(hour: i64) -> Timestamp {
        Timestamp::from_millis(hour * 3_600_000)
    }

    /// `canary alerts ARGS…` as the command line parses it.
    fn alerts(args: &[&str]) -> AlertsCommand {
        let cli = Cli::try_parse_from(["canary", "alerts"].iter().chain(args)).unwrap();
        let Command::Alerts(a) = cli.command else {
            panic!("not an alerts command")
        };
        a.command
    }

    fn channel_of(flags: &[&str]) -> Channel {
        let args: Vec<&str> = ["add", "BTCUSDT.close < 1"]
            .iter()
            .chain(flags)
            .copied()
            .collect();
        let AlertsCommand::Add(x) = alerts(&args) else {
            panic!("not alerts add")
        };
        channel(&x)
    }

    #[test]
    fn a_new_rules_channel_is_the_one_its_flags_name_else_the_log() {
        assert_eq!(channel_of(&[]), Channel::Log);
        assert_eq!(
            channel_of(&["--discord", "https://discord.example/w"]),
            Channel::Discord {
                url: "https://discord.example/w".into()
            }
        );
        assert_eq!(
            channel_of(&["--webhook", "https://example.com/h", "--secret", "k"]),
            Channel::Webhook {
                url: "https://example.com/h".into(),
                secret: Some("k".into())
            }
        );
        assert_eq!(
            channel_of(&["--telegram-chat", "-100", "--telegram-token", "T"]),
            Channel::Telegram {
                api: canary_delivery::channels::TELEGRAM_API.into(),
                bot_token: "T".into(),
                chat_id: "-100".into()
            }
        );
        let email = channel_of(&[
            "--email",
            "a@example.com",
            "--email",
            "b@example.com",
            "--smtp",
            "relay.example:587",
            "--smtp-from",
            "canary@example.com",
        ]);
        let Channel::Email { smtp } = email else {
            panic!("{email:?}")
        };
        assert_eq!(
            (smtp.server.as_str(), smtp.from.as_str(), smtp.to.len()),
            ("relay.example:587", "canary@example.com", 2)
        );
    }

    #[test]
    fn a_rules_state_is_its_stored_alerts_with_the_silence_running_now() {
        let mut alert = Alert::new("f".into());
        alert.state = State::Firing { since: at(1) };
        let stored = serde_json::to_string(&alert).unwrap();
        let silence = canary_store::Silence {
            id: 1,
            rule_id: 7,
            starts_at: at(2),
            ends_at: at(4),
            comment: String::new(),
        };
        assert_eq!(rule_state(None, &[], at(3)), "not checked yet");
        assert_eq!(rule_state(Some(&stored), &[], at(3)), "firing");
        let silences = [silence];
        assert_eq!(
            rule_state(Some(&stored), &silences, at(3)),
            "firing, silenced until 1970-01-01T04:00:00Z"
        );
        // Not yet begun, and over (its end excluded).
        assert_eq!(rule_state(Some(&stored), &silences, at(1)), "firing");
        assert_eq!(rule_state(Some(&stored), &silences, at(4)), "firing");
    }

    #[test]
    fn a_silence_spans_from_its_start_until_its_end_or_for_its_length() {
        let span = |args: &[&str]| {
            let args: Vec<&str> = ["silence", "7"].iter().chain(args).copied().collect();
            let AlertsCommand::Silence(x) = alerts(&args) else {
                panic!("not alerts silence")
            };
            silence_span(&x, at(10)).map_err(|e| e.to_string())
        };
        assert_eq!(span(&["--for", "2h"]), Ok((at(10), at(12))));
        assert_eq!(
            span(&["--from", "1970-01-01T01:00:00Z", "--for", "1d"]),
            Ok((at(1), at(25)))
        );
        assert_eq!(
            span(&[
                "--from",
                "1970-01-01T11:00:00Z",
                "--until",
                "1970-01-01T12:00:00Z"
            ]),
            Ok((at(11), at(12)))
        );
        assert_eq!(
            span(&["--until", "1970-01-01T10:00:00Z"]),
            Err("--until 1970-01-01T10:00:00Z is not after --from 1970-01-01T10:00:00Z".into())
        );
    }

    #[test]
    fn a_notices_kind_is_written_as_it_is_stored() {
        for n in [
            Notice::Fired { at: at(1) },
            Notice::Resolved { at: at(2) },
            Notice::Reminder { at: at(3) },
        ] {
            let (kind, t) = notice_kind(&n);
            let stored = serde_json::to_value(n).unwrap();
            assert_eq!(
                (stored["kind"].as_str(), stored["at"].as_str()),
                (Some(kind), Some(t.to_string().as_str()))
            );
        }
    }

    #[test]
    fn a_delivery_is_listed_with_its_notices_kind_and_time() {
        let d = canary_store::Delivery {
            idempotency_key: "k".into(),
            rule_id: 7,
            notice: serde_json::json!({ "notice": Notice::Fired { at: at(5) } }).to_string(),
            late: true,
            status: "failed".into(),
            attempts: 3,
            last_error: Some("timed out".into()),
            latency_ms: Some(1200),
            created_at: at(5),
            delivered_at: None,
        };
        assert_eq!(
            delivery_row(&d),
            [
                "7",
                "fired at 1970-01-01T05:00:00Z",
                "late",
                "failed",
                "3",
                "1200 ms",
                "timed out"
            ]
        );
    }
}
