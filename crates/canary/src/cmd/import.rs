//! `canary import`: read and validate a candle CSV, store it in one transaction.

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use canary_ingest::csv::{ImportOptions, TimeRange, read_candles};
use canary_store::{NewCandle, Revisions, Source, StoreError};

use crate::cli::ImportArgs;
use crate::output::progress;

pub fn run(db: &Path, a: &ImportArgs) -> Result<()> {
    let map = match &a.map {
        Some(m) => ImportOptions::parse_map(m).map_err(|e| anyhow!("--map: {e}"))?,
        None => Vec::new(),
    };
    let opts = ImportOptions {
        timeframe: a.tf,
        map,
        range: TimeRange {
            earliest: a.earliest,
            now: Some(super::now()),
        },
    };
    let parsed = read_candles(&a.file, &opts).map_err(super::ingest_hint)?;
    let tf = parsed.timeframe;
    let source = a.source.clone().unwrap_or_else(|| {
        if parsed.simulated {
            "sim".to_string()
        } else {
            a.file.file_name().map_or_else(
                || a.file.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        }
    });
    if parsed.simulated {
        crate::output::banner();
    }
    let rows: Vec<NewCandle> = parsed
        .rows
        .iter()
        .map(|r| NewCandle {
            candle: r.candle,
            available_at: tf.close_of(r.candle.open_time),
            source_bars: None,
        })
        .collect();

    let gaps = &parsed.gaps;
    let gap_note = if gaps.is_empty() {
        String::new()
    } else {
        let shown: Vec<String> = gaps.iter().take(5).map(ToString::to_string).collect();
        format!(
            "\n{} gaps ({} missing {tf} bars, not filled): {}{}",
            gaps.len(),
            parsed.missing_bars(),
            shown.join("; "),
            if gaps.len() > 5 {
                format!("; … {} more", gaps.len() - 5)
            } else {
                String::new()
            }
        )
    };
    let partial_note = if parsed.partial_skipped > 0 {
        format!(
            "\nskipped {} bars the file marks partial",
            parsed.partial_skipped
        )
    } else {
        String::new()
    };
    let first = rows.first().map(|r| r.candle.open_time);
    let last = rows.last().map(|r| r.candle.open_time);
    let span = match (first, last) {
        (Some(f), Some(l)) => format!("{f} → {l}"),
        _ => String::new(),
    };

    if a.dry_run {
        println!(
            "dry run: {} {} bars of {} {tf} ({span}) are valid; nothing stored, {} gaps{gap_note}{partial_note}",
            rows.len(),
            tf,
            a.symbol,
            gaps.len()
        );
        return Ok(());
    }

    let mut store = super::open(db)?;
    let kind = if parsed.simulated {
        Source::sim(&source)
    } else {
        Source::real(&source)
    };
    let pb = progress(rows.len() as u64, "importing");
    let report = store
        .insert_candles(
            &a.symbol,
            tf,
            kind,
            super::now(),
            &rows,
            revisions(a.strict),
            |n| pb.set_position(n as u64),
        )
        .map_err(|e| match e {
            StoreError::Conflict(c) => {
                let line = parsed.rows[c.index].line;
                anyhow!(
                    "{}:{line}: {c} (without --strict it is stored as a revision)",
                    a.file.display()
                )
            }
            e => anyhow!(e),
        })
        .with_context(|| format!("importing {} into {}", a.file.display(), db.display()))?;
    pb.finish_and_clear();
    println!(
        "imported {} bars, {} already present, {} revised, {} gaps ({} {tf} {span}, source {source}){gap_note}{partial_note}",
        report.inserted,
        report.present,
        report.revised,
        gaps.len(),
        a.symbol
    );
    Ok(())
}

/// Whether differing rows are refused (`--strict`) or stored as revisions.
pub fn revisions(strict: bool) -> Revisions {
    if strict {
        Revisions::Refuse
    } else {
        Revisions::Keep
    }
}
