//! `canary stats`: market statistics as of a time, every number a claim.

use std::path::Path;

use anyhow::Result;
use canary_analytics::series::Bars;
use canary_analytics::stats::market_stats;
use canary_model::Timeframe;
use canary_store::Store;

use super::market::load;
use crate::cli::{ReportFormat, StatsArgs};
use crate::output::{SIMULATED, human};

pub fn run(db: &Path, a: &StatsArgs) -> Result<()> {
    let store = Store::open(db)?;
    let asof = a.asof.unwrap_or_else(super::now);
    report(&store, a, asof)
}

/// Compute and print the statistics (also used by the demo).
pub fn report(store: &Store, a: &StatsArgs, asof: canary_model::Timestamp) -> Result<()> {
    let intraday = load(store, &a.symbol, a.intraday, asof)?;
    let daily = load(store, &a.symbol, Timeframe::D1, asof)?;
    let simulated = intraday.simulated || daily.simulated;
    let sym = a.symbol.as_str();
    let ib = Bars {
        symbol: sym,
        timeframe: a.intraday,
        source: &intraday.source,
        candles: &intraday.candles,
    };
    let db_ = Bars {
        symbol: sym,
        timeframe: Timeframe::D1,
        source: &daily.source,
        candles: &daily.candles,
    };
    let m = market_stats(&ib, &db_, asof);
    m.claims.check()?;
    if simulated {
        eprintln!("{SIMULATED}");
    }
    match a.format {
        ReportFormat::Json => {
            let doc = serde_json::json!({
                "symbol": sym,
                "asof": asof.to_string(),
                "simulated": simulated,
                "stats": m.stats.iter().map(|s| serde_json::json!({
                    "key": s.key, "label": s.label, "value": s.value, "unit": s.unit, "note": s.note, "claim": s.claim,
                })).collect::<Vec<_>>(),
                "missing": m.missing.iter().map(|(k, r)| serde_json::json!({"key": k, "reason": r})).collect::<Vec<_>>(),
                "claims": m.claims,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        ReportFormat::Table => {
            let mut t = crate::output::table();
            t.set_header(["statistic", "value", "unit", "note"]);
            for s in &m.stats {
                t.add_row([
                    s.label.clone(),
                    human(s.value),
                    s.unit.clone(),
                    s.note.clone(),
                ]);
            }
            println!(
                "{sym} as of {asof}{}",
                if simulated { " (SIMULATED)" } else { "" }
            );
            println!("{t}");
            for (k, r) in &m.missing {
                println!("not computed: {k}: {r}");
            }
        }
        ReportFormat::Md => {
            println!(
                "### {sym} as of {asof}{}\n",
                if simulated { " (simulated data)" } else { "" }
            );
            println!("| statistic | value | unit | note | claim |\n|---|---:|---|---|---|");
            for s in &m.stats {
                println!(
                    "| {} | {} | {} | {} | `{}` |",
                    s.label,
                    human(s.value),
                    s.unit,
                    s.note,
                    s.claim
                );
            }
            for (k, r) in &m.missing {
                println!("\n_Not computed: {k}: {r}_");
            }
        }
    }
    Ok(())
}
