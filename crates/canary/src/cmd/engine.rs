//! `canary run`: the engine on the sources of a config file, printing bar closes, notices and
//! source events as they come; Ctrl-C stops the sources, and the engine stores what it took
//! and sends what is pending before it exits.

use canary_engine::Session;
use std::time::Duration;

use anyhow::Result;
use canary_alerts::state::Notice;
use canary_runtime::config::{Config, SourceConfig};
use canary_runtime::runner::{Placement, Role};
use canary_runtime::{AlertSettings, Event, Output};
use tokio::sync::{mpsc, watch};

use crate::cli::RunArgs;

pub fn run(session: &Session, a: &RunArgs) -> Result<()> {
    if a.partitions.is_some() && a.role != Role::Eval {
        anyhow::bail!(
            "--partitions says which partitions an evaluator takes: give it with --role eval"
        );
    }
    if a.bus.bus.is_some() && a.role == Role::Deliver {
        anyhow::bail!(
            "--role deliver sends what evaluators stored and reads nothing from the bus: leave out --bus"
        );
    }
    let config = Config::load(&a.config).map_err(super::hint)?;
    let placement = Placement {
        role: a.role,
        bus: a.bus.config(a.bus_partitions),
        partitions: a.partitions.clone().map(|p| p.0).unwrap_or_default(),
        ..Placement::default()
    };
    run_config(session, &config, a.quiet, &placement)
}

/// Run a loaded config (`canary demo --live` builds its own), this process doing the part
/// `placement` says.
pub fn run_config(
    session: &Session,
    config: &Config,
    quiet: bool,
    placement: &Placement,
) -> Result<()> {
    if config
        .sources
        .iter()
        .any(|s| matches!(s, SourceConfig::Simulator { .. }))
    {
        crate::output::banner();
    }
    let alerts = alert_settings(config)?;
    let live = super::live_session(session)?;
    // On a bus, the connection to it and the lease's renewal run on threads of their own:
    // the engine's work at a close (scores, the store) must not hold them up.
    let workers = if placement.bus.is_some() { 2 } else { 0 };
    let run = async {
        let (stop_tx, stop_rx) = watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("stopping: storing what was taken, sending what is pending");
                let _ = stop_tx.send(true);
            }
        });
        let (otx, mut orx) = mpsc::channel::<Output>(256);
        let printer = tokio::spawn(async move {
            while let Some(o) = orx.recv().await {
                print(&o, quiet);
            }
        });
        let s = canary_runtime::runner::run_placed(
            config,
            &live,
            Some(alerts),
            Some(otx),
            stop_rx,
            placement,
        )
        .await;
        let _ = printer.await;
        s
    };
    let summary = if workers > 0 {
        canary_engine::jobs::block_on_workers(workers, run)
    } else {
        canary_engine::jobs::block_on(run)
    }?;
    let s = summary.map_err(super::hint)?;
    match placement.role {
        Role::Ingest => {
            println!("sources stopped: what they sent is on the bus");
            return Ok(());
        }
        Role::Deliver => {
            println!(
                "deliverer stopped: {} delivered, {} failed",
                s.delivered, s.failed_deliveries
            );
            return Ok(());
        }
        Role::All | Role::Eval => {}
    }
    println!(
        "{} events, {} bars closed and stored, {} notices ({} delivered, {} failed){}{}",
        s.events,
        s.bars,
        s.notices,
        s.delivered,
        s.failed_deliveries,
        if s.late_input > 0 {
            format!(", {} late inputs dropped", s.late_input)
        } else {
            String::new()
        },
        if s.unknown_symbol > 0 {
            format!(
                ", {} events for symbols with no [[market]]",
                s.unknown_symbol
            )
        } else {
            String::new()
        }
    );
    if s.derivatives > 0 || s.refused_derivatives > 0 {
        println!(
            "{} derivatives values stored (levels at most one a minute, liquidations in 1-minute bars){}",
            s.derivatives,
            if s.refused_derivatives > 0 {
                format!(
                    ", {} out of their kind's range dropped",
                    s.refused_derivatives
                )
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

/// How the engine checks and sends alerts, from the config's `[alerts]`.
pub fn alert_settings(config: &Config) -> Result<AlertSettings> {
    let (dictionary, lexicon) = super::news::vocabulary(&crate::cli::Vocabulary {
        dictionary: None,
        lexicon: None,
        profiles: None,
    })?;
    Ok(AlertSettings {
        score: super::alerts::score_params()?,
        dictionary,
        lexicon: lexicon.into_owned(),
        attempts: config.alerts.attempts,
        backoff: Duration::from_secs_f64(config.alerts.backoff_secs),
        timeout: Duration::from_secs_f64(config.alerts.timeout_secs),
        allow_private: config.alerts.allow_private,
    })
}

fn print(o: &Output, quiet: bool) {
    match o {
        Output::Bar(c) if !quiet => println!(
            "{} {} bar closed {}: {}{}{}",
            c.symbol,
            c.timeframe,
            c.timeframe.close_of(c.candle.open_time),
            crate::output::human(c.candle.close),
            c.rsi14
                .map_or_else(String::new, |r| format!(", RSI14 {r:.1}")),
            match c.source_bars {
                Some(n) => format!(" (from {n} bars)"),
                None => String::new(),
            }
        ),
        Output::Liquidations {
            source,
            venue,
            market,
            open_time,
            long_usd,
            short_usd,
        } if !quiet => println!(
            "{source}: {market} liquidations on {venue} in the minute from {open_time}: longs {} USD, shorts {} USD",
            crate::output::human(*long_usd),
            crate::output::human(*short_usd)
        ),
        // Quiet: what closed is not printed.
        Output::Bar(_) | Output::Liquidations { .. } => {}
        Output::Notice {
            rule_id,
            rule,
            notice,
            late,
            intrabar,
        } => {
            let (kind, at) = match notice {
                Notice::Fired { at } => ("FIRED", at),
                Notice::Resolved { at } => ("resolved", at),
                Notice::Reminder { at } => ("still firing", at),
            };
            println!(
                "alert: rule {rule_id} `{rule}` {kind} at {at}{}{}",
                if *late { " (late)" } else { "" },
                if *intrabar {
                    " (intrabar, on the bar still open)"
                } else {
                    ""
                }
            );
        }
        Output::Divergence {
            check,
            open_time,
            close_a,
            close_b,
            diff_pct,
        } => println!(
            "cross-check, {} bar {open_time}: {} closed at {}, {} at {} ({diff_pct:+.2}%, over {}%)",
            check.timeframe,
            check.a,
            crate::output::human(*close_a),
            check.b,
            crate::output::human(*close_b),
            check.max_diff_pct
        ),
        Output::RuleError {
            rule_id,
            rule,
            error,
        } => println!("alert: rule {rule_id} `{rule}` could not be checked: {error}"),
        Output::Score {
            symbol,
            day,
            risk,
            threat,
            pulse,
            label,
        } => println!(
            "{symbol} scores for {day}: Risk {}, Threat {}, Pulse {}, {}",
            risk.map_or_else(|| "n/a".into(), |r| format!("{r:.0}")),
            threat.map_or_else(|| "n/a".into(), |t| t.to_string()),
            pulse.map_or_else(|| "n/a".into(), |p| format!("{p:.0}")),
            label.as_deref().unwrap_or("no label")
        ),
        Output::Job { name, result } => match result {
            Ok(what) => println!("{name}: {what}"),
            Err(why) => println!("{name}: FAILED {why}"),
        },
        Output::System(e) => match e {
            Event::Gap {
                source,
                symbol,
                from,
                to,
            } => println!("{source}: gap in {symbol} from {from} to {to}"),
            Event::Reconnected { source, time } => println!("{source}: reconnected at {time}"),
            Event::Stale {
                source,
                time,
                silent_ms,
            } => println!("{source}: silent for {} s at {time}", silent_ms / 1000),
            Event::Malformed {
                source,
                time,
                payload,
                error,
            } => println!("{source}: skipped an unreadable message at {time} ({error}): {payload}"),
            // Market data is not a system event: the engine reports none as one.
            Event::Trade { .. }
            | Event::Bar { .. }
            | Event::Derivative { .. }
            | Event::Liquidation { .. } => {}
        },
    }
}
