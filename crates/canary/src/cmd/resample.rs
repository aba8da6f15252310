//! `canary resample`: build higher-timeframe bars from stored lower ones.

use std::path::Path;

use anyhow::{Result, bail};
use canary_analytics::resample::{Resampled, resample};
use canary_model::SourceKind;
use canary_store::{CandleQuery, NewCandle, Revisions, Source};

use crate::cli::ResampleArgs;

pub fn run(db: &Path, a: &ResampleArgs) -> Result<()> {
    let mut store = super::open(db)?;
    let asof = a.asof.unwrap_or_else(super::now);
    let src = store.candles(
        &a.symbol,
        a.from,
        &CandleQuery {
            asof: Some(asof),
            ..CandleQuery::default()
        },
    )?;
    if src.is_empty() {
        bail!(
            "no {} {} bars stored in {} as of {asof}: import them first (canary import FILE --symbol {} --tf {})",
            a.symbol,
            a.from,
            db.display(),
            a.symbol,
            a.from
        );
    }
    let kinds = store.source_kinds()?;
    let simulated = src
        .iter()
        .any(|c| kinds.get(&c.source) == Some(&SourceKind::Sim));
    let pairs: Vec<_> = src.iter().map(|c| (c.candle, c.available_at)).collect();
    let built = resample(&pairs, a.from, a.to, asof)?;
    let (complete, partial): (Vec<&Resampled>, Vec<&Resampled>) =
        built.iter().partition(|r| r.complete);
    let short = complete
        .iter()
        .filter(|r| r.source_bars < r.expected_bars)
        .count();
    let rows: Vec<NewCandle> = complete
        .iter()
        .map(|r| NewCandle {
            candle: r.candle,
            available_at: r.available_at,
            source_bars: Some(r.source_bars),
        })
        .collect();
    let source = if simulated {
        format!("sim:resample:{}", a.from)
    } else {
        format!("resample:{}", a.from)
    };
    let kind = if simulated {
        Source::sim(&source)
    } else {
        Source::real(&source)
    };
    let report = store.insert_candles(
        &a.symbol,
        a.to,
        kind,
        super::now(),
        &rows,
        Revisions::Keep,
        |_| {},
    )?;
    println!(
        "resampled {} {} bars into {} {} bars: {} new, {} already present, {} built from fewer than {} bars (outages){}",
        src.len(),
        a.from,
        rows.len(),
        a.to,
        report.inserted,
        report.present,
        short,
        built.first().map_or(0, |r| r.expected_bars),
        if partial.is_empty() {
            String::new()
        } else {
            format!("; {} bucket still open at {asof} not stored", partial.len())
        }
    );
    Ok(())
}
