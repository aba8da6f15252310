//! `canary import`: read and validate a candle CSV as it streams in, and store it in one
//! transaction (a bad row stops it and nothing of the file is stored).

use canary_store::prelude::*;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use canary_ingest::csv::{
    CandleStream, Gap, ImportOptions, StreamSummary, TimeRange, find_gaps, missing_bars,
};
use canary_store::{NewCandle, Revisions, Source, StoreError, WriteError};

use crate::cli::ImportArgs;

pub fn run(db: &Path, a: &ImportArgs) -> Result<()> {
    let map = match &a.map {
        Some(m) => ImportOptions::parse_map(m).map_err(|e| anyhow!("--map: {e}"))?,
        None => Vec::new(),
    };
    let opts = ImportOptions {
        delimiter: a.delimiter,
        timeframe: a.tf,
        map,
        range: TimeRange {
            earliest: a.earliest,
            now: Some(super::now()),
        },
    };
    let file = canary_ingest::lines::open(&a.file)
        .with_context(|| format!("cannot read {}", a.file.display()))?;
    let mut stream = CandleStream::open(file, &a.file, &opts).map_err(super::ingest_hint)?;
    let tf = stream.timeframe();
    let simulated = stream.simulated();
    let source = a.source.clone().unwrap_or_else(|| {
        if simulated {
            "sim".to_string()
        } else {
            a.file.file_name().map_or_else(
                || a.file.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        }
    });
    if simulated {
        crate::output::banner();
    }
    let pb = crate::output::counter("importing");
    let (report, summary, edge_count) = if a.dry_run {
        let mut n = 0u64;
        while let Some(row) = stream.next_row() {
            row.map_err(super::ingest_hint)?;
            n += 1;
            if n.is_multiple_of(65_536) {
                pb.set_position(n);
            }
        }
        let mut summary = stream.summary();
        // Where the file meets the bars already stored, if there is a database.
        let edges = if db.is_file() {
            let store = super::open_existing(db)?;
            edge_gaps(&*store, a, tf, &summary)?
        } else {
            (Vec::new(), Vec::new())
        };
        let edge_count = add_edges(&mut summary, edges);
        (None, summary, edge_count)
    } else {
        let mut store = super::open(db)?;
        let kind = if simulated {
            Source::sim(&source)
        } else {
            Source::real(&source)
        };
        let rows = std::iter::from_fn(|| stream.next_row()).map(|r| {
            r.map(|row| {
                (
                    row.line,
                    NewCandle {
                        candle: row.candle,
                        available_at: tf.close_of(row.candle.open_time),
                        source_bars: None,
                    },
                )
            })
        });
        let report = store
            .insert_candles_from(
                &a.symbol,
                tf,
                kind,
                super::now(),
                rows,
                revisions(a.strict),
                |n| pb.set_position(n as u64),
            )
            .map_err(|e| match e {
                WriteError::Input(e) => super::ingest_hint(e),
                WriteError::Store(StoreError::Conflict(c)) => anyhow!(
                    "{}:{}: {c} (without --strict it is stored as a revision)",
                    a.file.display(),
                    c.index
                ),
                WriteError::Store(StoreError::Duplicate { tag, what }) => anyhow!(
                    "{}:{tag}: time: {what} appears twice in the file; nothing was stored",
                    a.file.display()
                ),
                WriteError::Store(e) => anyhow!(e),
            })
            .with_context(|| format!("importing {} into {}", a.file.display(), db.display()))?;
        let mut summary = stream.summary();
        if summary.gaps.is_none()
            && let (Some(first), Some(last)) = (summary.first, summary.last)
        {
            // Rows out of time order: the gaps are read back from what is stored.
            let mut prev: Option<canary_model::Timestamp> = None;
            let mut gaps = Vec::new();
            store.for_each_open_time(&a.symbol, tf, first, last, &mut |t| {
                if let Some(p) = prev {
                    gaps.extend(find_gaps([p, t].into_iter(), tf));
                }
                prev = Some(t);
            })?;
            summary.gaps = Some(gaps);
        }
        let edges = edge_gaps(&*store, a, tf, &summary)?;
        let edge_count = add_edges(&mut summary, edges);
        (Some(report), summary, edge_count)
    };
    pb.finish_and_clear();
    let gaps = summary.gaps.clone().unwrap_or_default();
    let missing = missing_bars(&gaps);
    let gap_note = if gaps.is_empty() {
        String::new()
    } else {
        // The gaps at the file's ends come first and last: show them whatever the number.
        let shown: Vec<String> = if gaps.len() > 6 {
            gaps.iter()
                .take(5)
                .chain(gaps.last())
                .map(ToString::to_string)
                .collect()
        } else {
            gaps.iter().map(ToString::to_string).collect()
        };
        format!(
            "\n{} gaps ({missing} missing {tf} bars, not filled{}): {}",
            gaps.len(),
            if edge_count > 0 {
                format!(
                    "; {edge_count} of them between the bars already stored and the file's first or last bar"
                )
            } else {
                String::new()
            },
            if gaps.len() > 6 {
                format!(
                    "{}; … {} more; {}",
                    shown[..5].join("; "),
                    gaps.len() - 6,
                    shown[5]
                )
            } else {
                shown.join("; ")
            }
        )
    };
    let partial_note = if summary.partial_skipped > 0 {
        format!(
            "\nskipped {} bars the file marks partial",
            summary.partial_skipped
        )
    } else {
        String::new()
    };
    let span = match (summary.first, summary.last) {
        (Some(f), Some(l)) => format!("{f} → {l}"),
        _ => String::new(),
    };
    match report {
        None if summary.gaps.is_none() => println!(
            "dry run: {} {} bars of {} {tf} ({span}) are valid row by row; nothing stored. The rows are out of time order: a time repeated far apart, and the gaps, are found when the file is stored{partial_note}",
            summary.bars, tf, a.symbol,
        ),
        None => println!(
            "dry run: {} {} bars of {} {tf} ({span}) are valid; nothing stored, {} gaps{gap_note}{partial_note}",
            summary.bars,
            tf,
            a.symbol,
            gaps.len()
        ),
        Some(report) => println!(
            "imported {} bars, {} already present, {} revised, {} gaps ({} {tf} {span}, source {source}){gap_note}{partial_note}",
            report.inserted,
            report.present,
            report.revised,
            gaps.len(),
            a.symbol
        ),
    }
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

/// The gaps between the series already stored and the file: from the stored bar before the
/// file's first bar to it, and from the file's last bar to the stored bar after it.
fn edge_gaps(
    store: &dyn canary_store::Stores,
    a: &ImportArgs,
    tf: canary_model::Timeframe,
    summary: &StreamSummary,
) -> Result<(Vec<Gap>, Vec<Gap>)> {
    let (Some(first), Some(last)) = (summary.first, summary.last) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let (before, after) = store.open_times_around(&a.symbol, tf, first, last)?;
    Ok((
        before.map_or_else(Vec::new, |b| find_gaps([b, first].into_iter(), tf)),
        after.map_or_else(Vec::new, |n| find_gaps([last, n].into_iter(), tf)),
    ))
}

/// Put the gaps at the file's ends around its own (when those are known); how many there
/// are.
fn add_edges(summary: &mut StreamSummary, (before, after): (Vec<Gap>, Vec<Gap>)) -> usize {
    let Some(gaps) = &mut summary.gaps else {
        return 0;
    };
    let n = before.len() + after.len();
    let inner = std::mem::take(gaps);
    *gaps = before.into_iter().chain(inner).chain(after).collect();
    n
}
