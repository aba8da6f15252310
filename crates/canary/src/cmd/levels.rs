//! `canary levels`: supports, resistances and the trapdoor per timeframe, as claims.

use std::path::Path;

use anyhow::Result;
use canary_analytics::levels::{Level, LevelParams, LevelReport, find_levels};
use canary_analytics::series::Bars;
use canary_model::ClaimSet;
use canary_store::Store;

use super::market::load;
use crate::cli::{LevelsArgs, ReportFormat};
use crate::output::{SIMULATED, human};

fn level_json(l: &Level) -> serde_json::Value {
    serde_json::json!({
        "price": l.price,
        "zone": [l.zone.0, l.zone.1],
        "distance_pct": l.distance_pct,
        "distance_atr": l.distance_atr,
        "touches": l.touches,
        "last_touch": l.last_touch.map(|t| t.to_string()),
        "last_touch_bars_ago": l.last_touch_bars_ago,
        "strength": l.strength,
        "methods": l.methods,
        "broken_if": l.broken_if,
        "claim": l.claim,
    })
}

fn report_json(r: &LevelReport) -> serde_json::Value {
    serde_json::json!({
        "timeframe": r.timeframe.as_str(),
        "price": r.price,
        "atr_14": r.atr,
        "traded_range": [r.range.0, r.range.1],
        "supports": r.supports.iter().map(level_json).collect::<Vec<_>>(),
        "resistances": r.resistances.iter().map(level_json).collect::<Vec<_>>(),
        "trapdoor": r.trapdoor.as_ref().map(|t| serde_json::json!({
            "from": t.from, "to": t.to, "air_pocket": [t.pocket.0, t.pocket.1], "claim": t.claim,
        })),
        "volume_profile": {
            "poc": r.poc,
            "value_area": r.value_area.map(|(a, b)| [a, b]),
            "air_pockets": r.air_pockets.iter().map(|(a, b)| [a, b]).collect::<Vec<_>>(),
        },
    })
}

fn print_table(sym: &str, r: &LevelReport, md: bool) {
    let rows: Vec<[String; 7]> = r
        .resistances
        .iter()
        .rev()
        .chain(r.supports.iter())
        .map(|l| {
            [
                if l.price > r.price {
                    "resistance".into()
                } else {
                    "support".into()
                },
                human(l.price),
                format!("{} – {}", human(l.zone.0), human(l.zone.1)),
                format!("{:+.2}% / {:+.2} ATR", l.distance_pct, l.distance_atr),
                format!("{} ({:.2})", l.touches, l.strength),
                l.methods.join(", "),
                l.broken_if.clone(),
            ]
        })
        .collect();
    let header = [
        "level",
        "price",
        "zone",
        "distance",
        "touches (strength)",
        "methods",
        "broken if",
    ];
    if md {
        println!(
            "#### {sym} {} — price {}, ATR 14 ({}) {}\n",
            r.timeframe,
            human(r.price),
            r.timeframe,
            human(r.atr)
        );
        println!(
            "| {} |\n|{}",
            header.join(" | "),
            "---|".repeat(header.len())
        );
        for row in rows {
            println!("| {} |", row.join(" | "));
        }
    } else {
        let mut t = crate::output::table();
        t.set_header(header);
        for row in rows {
            t.add_row(row);
        }
        println!(
            "{sym} {} — price {}, ATR 14 ({}) {}",
            r.timeframe,
            human(r.price),
            r.timeframe,
            human(r.atr)
        );
        println!("{t}");
    }
    if let Some(td) = &r.trapdoor {
        println!(
            "trapdoor: below {} an air pocket {} – {} leads to {}",
            human(td.from),
            human(td.pocket.0),
            human(td.pocket.1),
            human(td.to)
        );
    }
    if let (Some(poc), Some((a, b))) = (r.poc, r.value_area) {
        println!(
            "volume profile: point of control {}, value area {} – {}\n",
            human(poc),
            human(a),
            human(b)
        );
    }
}

pub fn run(db: &Path, a: &LevelsArgs) -> Result<()> {
    let store = Store::open(db)?;
    let asof = a.asof.unwrap_or_else(super::now);
    report(&store, a, asof)
}

/// Compute and print the levels (also used by the demo).
pub fn report(store: &Store, a: &LevelsArgs, asof: canary_model::Timestamp) -> Result<()> {
    let sym = a.symbol.as_str();
    let mut reports = Vec::new();
    let mut claims = ClaimSet::new();
    let mut simulated = false;
    // Levels of every timeframe are placed around the latest price, from the finest one.
    let finest = *a
        .tf
        .iter()
        .min()
        .ok_or_else(|| anyhow::anyhow!("--tf needs at least one timeframe"))?;
    let fine = load(store, &a.symbol, finest, asof)?;
    let Some(last) = fine.candles.last() else {
        anyhow::bail!("no {} {finest} bars available as of {asof}", a.symbol);
    };
    let fine_bars = Bars {
        symbol: sym,
        timeframe: finest,
        source: &fine.source,
        candles: &fine.candles,
    };
    let current = fine_bars.claim(
        "last price",
        "close",
        fine.candles.len() - 1,
        last.close,
        canary_analytics::stats::quote_unit(sym),
        asof,
    );
    for tf in &a.tf {
        let loaded = load(store, &a.symbol, *tf, asof)?;
        simulated |= loaded.simulated;
        let bars = Bars {
            symbol: sym,
            timeframe: *tf,
            source: &loaded.source,
            candles: &loaded.candles,
        };
        let params = LevelParams {
            k: a.k,
            lookback: a.lookback,
            ..LevelParams::default()
        };
        let r = find_levels(&bars, &params, asof, Some(&current))?;
        claims.extend(r.claims.clone());
        reports.push(r);
    }
    claims.check()?;
    if simulated {
        eprintln!("{SIMULATED}");
    }
    match a.format {
        ReportFormat::Json => {
            let doc = serde_json::json!({
                "symbol": sym,
                "asof": asof.to_string(),
                "simulated": simulated,
                "levels": reports.iter().map(report_json).collect::<Vec<_>>(),
                "claims": claims,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        ReportFormat::Table | ReportFormat::Md => {
            println!(
                "{sym} levels as of {asof}{}\n",
                if simulated { " (SIMULATED)" } else { "" }
            );
            for r in &reports {
                print_table(sym, r, a.format == ReportFormat::Md);
            }
        }
    }
    Ok(())
}
