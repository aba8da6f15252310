//! `canary markets`: equity, index and gauge files imported (the engine's `jobs::markets`),
//! and the engine's markets report rendered.

use anyhow::Result;
use canary_engine::jobs::markets::MarketsFile;
use canary_engine::{MarketsParams, Session, TickerMove, Valued, markets};
use canary_ingest::csv::TimeRange;
use canary_ingest::markets::MarketOptions;

use crate::cli::{MarketsArgs, MarketsCommand, MarketsImportArgs, OutputFormat};
use crate::output::{preamble, print_json, sim_tag};

pub fn run(session: &Session, a: &MarketsArgs) -> Result<()> {
    match &a.command {
        Some(MarketsCommand::Import(i)) => import(session, i),
        None => report(session, a),
    }
}

fn pct(v: &Valued) -> String {
    format!("{:+.2} %", v.value * 100.0)
}

fn move_row(m: &TickerMove) -> [String; 5] {
    [
        format!("{}{}", m.ticker, if m.behind { " (behind)" } else { "" }),
        m.day.to_string()[..10].to_string(),
        format!("{:.2}", m.close.value),
        pct(&m.day_move),
        m.rank_from_worst.as_ref().map_or_else(
            || "n/a".into(),
            |r| format!("{:.0} of {}", r.value, m.ranked_among),
        ),
    ]
}

fn report(session: &Session, a: &MarketsArgs) -> Result<()> {
    let profiles = super::miners::profiles(a.profiles.as_deref())?;
    let p = MarketsParams {
        symbol: a.symbol.clone(),
        miners: a.miners.clone(),
    };
    let r = super::with_facts(session, a.at.asof, &profiles, |ctx| markets(ctx, &p))?;
    if a.format == OutputFormat::Json {
        return print_json(&r);
    }
    preamble(&r);
    let b = &r.body;
    println!(
        "Markets as of {}{}: the US session of {}",
        r.as_of,
        sim_tag(&r),
        b.session
            .map_or_else(|| "none known".into(), |s| s.to_string()[..10].to_string())
    );
    let mut t = crate::output::table();
    t.set_header([
        "ticker",
        "day",
        "close",
        "day move",
        "rank from the worst (3 years)",
    ]);
    for m in b.indices.iter().chain(&b.btc).chain(&b.miners) {
        t.add_row(move_row(m));
    }
    println!("{t}");
    if let Some(how) = &b.btc_at_close {
        println!("BTC at US closes: {how}");
    }
    if let Some(k) = &b.basket {
        println!(
            "Miners' basket ({}-weighted, {}): {}{}{}",
            k.weighting,
            k.members.join(", "),
            pct(&k.day_move),
            k.btc_move
                .as_ref()
                .map_or_else(String::new, |m| format!(" against BTC {}", pct(m))),
            k.worst
                .as_ref()
                .map_or_else(String::new, |(t, m)| format!("; worst {t} {}", pct(m)))
        );
    }
    if !b.correlations.is_empty() {
        let mut t = crate::output::table();
        t.set_header([
            "pair",
            "sessions",
            "from",
            "to",
            "correlation",
            "beta",
            "change",
        ]);
        for c in &b.correlations {
            t.add_row([
                c.pair.clone(),
                c.window.to_string(),
                c.from.to_string()[..10].to_string(),
                c.to.to_string()[..10].to_string(),
                format!("{:+.2}", c.correlation.value),
                format!("{:.2}", c.beta.value),
                c.change
                    .as_ref()
                    .map_or_else(|| "n/a".into(), |x| format!("{:+.2}", x.value)),
            ]);
        }
        println!("{t}");
    }
    if let Some(f) = &b.fear_greed {
        println!(
            "Crypto Fear & Greed Index: {:.0} ({}) on {}",
            f.value.value,
            f.band,
            &f.day.to_string()[..10]
        );
    }
    for m in &b.missing {
        println!("missing: {m}");
    }
    Ok(())
}

fn import(session: &Session, a: &MarketsImportArgs) -> Result<()> {
    let many = super::import::Files {
        count: a.files.len(),
        source: a.source.as_deref(),
        dry_run: a.dry_run,
        strict: a.strict,
    };
    many.check()?;
    let opts = MarketOptions {
        ticker: a.ticker.clone(),
        range: TimeRange {
            earliest: a.earliest,
            now: Some(session.now()),
        },
    };
    // Every file read and checked before any is stored.
    let mut files = Vec::with_capacity(a.files.len());
    for path in &a.files {
        files.push(MarketsFile::read(path, &opts).map_err(super::ingest_hint)?);
    }
    many.store_each(session, &files, describe, MarketsFile::store)
}

/// What a market file holds: one line per ticker, its days and span (every field of a day
/// shares them), and the notes.
fn describe(f: &MarketsFile) {
    println!("{} ({}):", f.path().display(), f.layout().name());
    let series = f.series();
    // One line per ticker: its days and span (every field of a day shares them).
    let mut shown = std::collections::BTreeSet::new();
    for s in &series {
        if shown.insert(s.series.ticker.clone()) {
            let fields: Vec<&str> = series
                .iter()
                .filter(|x| x.series.ticker == s.series.ticker)
                .map(|x| x.series.field.name())
                .collect();
            let span = match (s.first, s.last) {
                (Some(a), Some(b)) => {
                    format!("{} → {}", &a.to_string()[..10], &b.to_string()[..10])
                }
                _ => "empty".into(),
            };
            println!(
                "  {}:{}: {} days, {span} ({})",
                s.series.market,
                s.series.ticker,
                s.values,
                fields.join(", ")
            );
        }
    }
    for n in f.notes() {
        println!("  note: {n}");
    }
}
