//! `canary alerts backtest`: render the engine's alert backtest.

use std::path::Path;

use anyhow::Result;
use canary_alerts::state::{Frequency, Notice, Policy};
use canary_analytics::score::Methodology;
use canary_engine::{AlertBacktestParams, ScoreParams};

use crate::cli::{AlertFrequency, AlertsArgs, AlertsCommand, ReportFormat};
use crate::output::{preamble, print_json, progress, table};

pub fn run(db: &Path, a: &AlertsArgs) -> Result<()> {
    let AlertsCommand::Backtest(b) = &a.command;
    let (dict, lex) = super::news::vocabulary(&crate::cli::Vocabulary {
        dictionary: None,
        lexicon: None,
        profiles: None,
    })?;
    let p = AlertBacktestParams {
        rule: b.rule.clone(),
        timeframe: b.tf,
        from: b.from,
        policy: Policy {
            for_evals: b.for_evals,
            cooldown_ms: b.cooldown.unwrap_or(0),
            band: b.band,
            frequency: match b.frequency {
                AlertFrequency::Transition => Frequency::Transition,
                AlertFrequency::Once => Frequency::Once,
                AlertFrequency::EveryClose => Frequency::EveryClose,
            },
            notify_resolved: b.notify_resolved,
            repeat_ms: None,
            expires_at: None,
        },
        follow_ms: b.follow,
        score: Some(ScoreParams {
            symbol: canary_model::Symbol::new("BTCUSDT")?,
            method: Methodology::built_in(),
            asset: "BTC".into(),
            horizon_days: 7,
            drawdown: 0.10,
        }),
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
    if b.format == ReportFormat::Json {
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
