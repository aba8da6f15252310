//! `canary markets`: equity, index and gauge files imported (the engine's `jobs::markets`).

use anyhow::Result;
use canary_engine::Session;
use canary_engine::jobs::markets::MarketsFile;
use canary_ingest::csv::TimeRange;
use canary_ingest::markets::MarketOptions;

use crate::cli::{MarketsArgs, MarketsCommand, MarketsImportArgs};

pub fn run(session: &Session, a: &MarketsArgs) -> Result<()> {
    match &a.command {
        MarketsCommand::Import(i) => import(session, i),
    }
}

fn import(session: &Session, a: &MarketsImportArgs) -> Result<()> {
    if a.source.is_some() && a.files.len() > 1 {
        anyhow::bail!(
            "--source names the source of one file; with {} files each is stored under its own name",
            a.files.len()
        );
    }
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
    let mut store = if a.dry_run {
        None
    } else {
        Some(super::open(session)?)
    };
    for f in &files {
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
        if let Some(store) = store.as_mut() {
            let (source, r) = f
                .store(
                    &mut **store,
                    a.source.as_deref(),
                    super::import::revisions(a.strict),
                    session.now(),
                )
                .map_err(super::import::write_failed)?;
            println!(
                "  imported {} values, {} already present, {} revised (source {source})",
                r.inserted, r.present, r.revised
            );
        }
    }
    if a.dry_run {
        println!("dry run: every file valid, nothing stored");
    }
    Ok(())
}
