//! `canary alerts backtest`: render the engine's alert backtest.

use std::path::Path;

use anyhow::Result;
use canary_alerts::state::{Frequency, Notice, Policy};
use canary_engine::{AlertBacktestParams, ScoreParams};

use crate::cli::{AlertFrequency, AlertsArgs, AlertsCommand, OutputFormat};
use crate::output::{preamble, print_json, progress, table};

fn run(db: &Path, a: &AlertsArgs) -> Result<()> {
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
    let r = super::with_context(db, b.to, |ctx| {
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
        let (kind, at) = match f.notice {
            Notice::Fired { at } => ("fired", at),
            Notice::Resolved { at } => ("resolved", at),
            Notice::Reminder { at } => ("reminder", at),
        };
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

pub fn manage(db: &Path, a: &AlertsArgs) -> Result<()> {
    use crate::cli::AlertsCommand as C;
    use canary_engine::alerting::{Allow, Channel, RuleSpec, add_rule};
    match &a.command {
        C::Backtest(_) => run(db, a),
        C::Add(x) => {
            let channel = if let Some(url) = &x.webhook {
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
            };
            let spec = RuleSpec {
                rule: x.rule.clone(),
                timeframe: x.tf,
                policy: Policy {
                    intrabar: x.intrabar,
                    ..policy(&x.policy)
                },
                channel,
            };
            let mut store = super::open(db)?;
            let owner = owner(&*store, &x.owner)?;
            let allow = Allow {
                private: x.allow_private,
                before_data: x.before_data,
            };
            let id = add_rule(
                &mut *store,
                &owner,
                &spec,
                x.since.unwrap_or_else(super::now),
                allow,
            )
            .map_err(super::hint)?;
            println!("rule {id} added: `{}` on {} closes", x.rule, x.tf);
            Ok(())
        }
        C::List(t) => {
            let store = super::open_existing(db)?;
            let rules = store.rules(Some(owner(&*store, t)?.key()))?;
            if rules.is_empty() {
                println!("no rules: add one with canary alerts add RULE");
                return Ok(());
            }
            let mut tb = table();
            tb.set_header(["id", "rule", "tf", "state", "evaluated to", "channel"]);
            for r in rules {
                let st = store.alert_state(r.id)?;
                let state = st
                    .as_ref()
                    .and_then(|s| serde_json::from_str::<serde_json::Value>(&s.alert).ok())
                    .map_or_else(
                        || "not checked yet".into(),
                        |v| v["state"]["state"].as_str().unwrap_or("").to_string(),
                    );
                let now = super::now();
                let state = match store
                    .silences(r.id)?
                    .iter()
                    .find(|s| s.starts_at <= now && now < s.ends_at)
                {
                    Some(s) => format!("{state}, silenced until {}", s.ends_at),
                    None => state,
                };
                let channel: serde_json::Value =
                    serde_json::from_str(&r.channel).unwrap_or_default();
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
        C::Rm(x) => {
            let mut store = super::open_existing(db)?;
            let owner = owner(&*store, &x.owner)?;
            if store.remove_rule(owner.key(), x.id)? {
                println!("rule {} removed (its deliveries stay in the log)", x.id);
                Ok(())
            } else {
                anyhow::bail!("no rule {} of yours (canary alerts list shows them)", x.id)
            }
        }
        C::Check(x) => {
            let (dict, lex) = super::news::vocabulary(&crate::cli::Vocabulary {
                dictionary: None,
                lexicon: None,
                profiles: None,
            })?;
            let now = x.asof.unwrap_or_else(super::now);
            let mut store = super::open(db)?;
            let checked =
                canary_engine::alerting::check(&mut *store, now, &dict, &lex, &score_params()?)
                    .map_err(super::hint)?;
            for c in &checked {
                if let Some(e) = &c.error {
                    println!("rule {} `{}`: could not be checked: {e}", c.rule_id, c.rule);
                }
                for (n, late) in &c.notices {
                    let (kind, at) = match n {
                        Notice::Fired { at } => ("fired", at),
                        Notice::Resolved { at } => ("resolved", at),
                        Notice::Reminder { at } => ("reminder", at),
                    };
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
            let sent = send(&mut *store, &x.send, super::now(), None)?;
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
        C::Test(x) => {
            let mut store = super::open_existing(db)?;
            let now = super::now();
            let owner = owner(&*store, &x.owner)?;
            let key = canary_engine::alerting::queue_test(&mut *store, &owner, x.id, now)
                .map_err(super::hint)?;
            let sent = send(&mut *store, &x.send, now, Some(&key))?;
            if sent.iter().all(|d| d.ok) {
                println!("test notice of rule {} delivered", x.id);
                Ok(())
            } else {
                anyhow::bail!("the test notice of rule {} was not delivered", x.id)
            }
        }
        C::Silence(x) => {
            let mut store = super::open_existing(db)?;
            let owner = owner(&*store, &x.owner)?;
            let owner = owner.key();
            let now = super::now();
            if x.lift {
                let n = store.lift_silences(owner, x.id, now)?;
                println!("{n} silences of rule {} lifted", x.id);
                return Ok(());
            }
            let from = x.from.unwrap_or(now);
            let until = match (x.until, x.duration) {
                (Some(t), _) => t,
                (None, Some(d)) => canary_model::Timestamp::from_millis(from.millis() + d),
                (None, None) => unreachable!("clap requires --for, --until or --lift"),
            };
            if until <= from {
                anyhow::bail!("--until {until} is not after --from {from}");
            }
            match store.add_silence(owner, x.id, from, until, &x.comment, now)? {
                Some(_) => {
                    println!("rule {} silenced from {from} until {until}", x.id);
                    Ok(())
                }
                None => anyhow::bail!("no rule {} of yours (canary alerts list shows them)", x.id),
            }
        }
        C::Log(x) => {
            let store = super::open_existing(db)?;
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
                let p: serde_json::Value = serde_json::from_str(&d.notice).unwrap_or_default();
                tb.add_row([
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
                ]);
            }
            println!("{tb}");
            Ok(())
        }
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
pub fn tokens(db: &Path, a: &crate::cli::TokensArgs) -> Result<()> {
    use crate::cli::TokensCommand as T;
    match &a.command {
        T::Create(c) => {
            let mut store = super::open(db)?;
            let scope = c.scope.parse().map_err(anyhow::Error::msg)?;
            let (token, row) =
                canary_engine::tokens::issue(&mut *store, &c.name, scope, super::now())
                    .map_err(super::hint)?;
            println!("{token}");
            eprintln!(
                "token {} ({}, scope {}) issued: it is shown this once (only its hash is kept); send it as Authorization: Bearer TOKEN",
                row.id, row.name, row.scope
            );
            Ok(())
        }
        T::List => {
            let store = super::open_existing(db)?;
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
            let mut store = super::open_existing(db)?;
            match store.revoke_token(r.id, r.remove_rules, super::now())? {
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
