//! `canary import`: the engine's import job (`canary_engine::jobs::bars`) reads and validates
//! a candle CSV as it streams in and stores it in one transaction (a bad row stops it and
//! nothing of the file is stored); its counts and gaps rendered.

use canary_engine::Session;

use anyhow::{Result, anyhow};
use canary_engine::jobs::WriteFailed;
use canary_engine::jobs::bars::{BarsError, CandleFile};
use canary_ingest::csv::{ImportOptions, TimeRange, missing_bars};
use canary_store::Revisions;

use crate::cli::ImportArgs;

pub fn run(session: &Session, a: &ImportArgs) -> Result<()> {
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
            now: Some(session.now()),
        },
    };
    let file = CandleFile::open(&a.file, &opts).map_err(|e| bars_error(e, a, session))?;
    let tf = file.timeframe();
    if file.simulated() {
        crate::output::banner();
    }
    let pb = crate::output::counter("importing");
    let summary = if a.dry_run {
        let mut summary = file
            .check(&a.symbol, |n| pb.set_position(n))
            .map_err(|e| bars_error(e, a, session))?;
        // Where the file meets the bars already stored, if there is a database.
        if canary_store::exists(session.db()) {
            let store = super::open_existing(session)?;
            summary.add_stored_ends(&*store)?;
        }
        summary
    } else {
        let mut store = super::open(session)?;
        file.import(
            &mut *store,
            &a.symbol,
            a.source.as_deref(),
            revisions(a.strict),
            session.now(),
            |n| pb.set_position(n),
        )
        .map_err(|e| bars_error(e, a, session))?
    };
    pb.finish_and_clear();
    let gaps = summary.gaps.clone().unwrap_or_default();
    let missing = missing_bars(&gaps);
    let edge_count = summary.edge_gaps;
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
    let source = &summary.source;
    match summary.stored {
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

/// An import's error with the flags that fix it; a failed write names the file and the
/// database.
fn bars_error(e: BarsError, a: &ImportArgs, session: &Session) -> anyhow::Error {
    match e {
        BarsError::File(e) => super::ingest_hint(e),
        BarsError::Write(w) => write_failed(w).context(format!(
            "importing {} into {}",
            a.file.display(),
            canary_store::shown(session.db())
        )),
        e => anyhow!(e),
    }
}

/// A file's write that stopped, with the flags that fix it.
pub fn write_failed(w: WriteFailed) -> anyhow::Error {
    match w {
        WriteFailed::Row(e) => super::ingest_hint(e),
        c @ WriteFailed::Conflict { .. } => {
            anyhow!("{c} (without --strict it is stored as a revision)")
        }
        WriteFailed::Store(e) => anyhow!(e),
        d => anyhow!(d),
    }
}

/// The flags every multi-file import shares (`derivatives import`, `markets import`).
pub struct Files<'a> {
    pub count: usize,
    pub source: Option<&'a str>,
    pub dry_run: bool,
    pub strict: bool,
}

impl Files<'_> {
    /// `--source` names the source of one file: refused with several.
    ///
    /// # Errors
    /// `--source` with more than one file.
    pub fn check(&self) -> Result<()> {
        if self.source.is_some() && self.count > 1 {
            anyhow::bail!(
                "--source names the source of one file; with {} files each is stored under its own name",
                self.count
            );
        }
        Ok(())
    }

    /// Store each file (all read and checked before), each in one write: `describe` prints
    /// what a file holds, `store` writes it; with `--dry-run`, nothing is written.
    ///
    /// # Errors
    /// The database cannot be opened, or a write fails (what it names, and the flag that
    /// changes it).
    pub fn store_each<F>(
        &self,
        session: &Session,
        files: &[F],
        describe: impl Fn(&F),
        store: impl Fn(
            &F,
            &mut dyn canary_store::Stores,
            Option<&str>,
            Revisions,
            canary_model::Timestamp,
        ) -> Result<(String, canary_store::InsertReport), WriteFailed>,
    ) -> Result<()> {
        let mut db = if self.dry_run {
            None
        } else {
            Some(super::open(session)?)
        };
        for f in files {
            describe(f);
            if let Some(db) = db.as_mut() {
                let (source, r) = store(
                    f,
                    &mut **db,
                    self.source,
                    revisions(self.strict),
                    session.now(),
                )
                .map_err(write_failed)?;
                println!(
                    "  imported {} values, {} already present, {} revised (source {source})",
                    r.inserted, r.present, r.revised
                );
            }
        }
        if self.dry_run {
            println!("dry run: every file valid, nothing stored");
        }
        Ok(())
    }
}
