//! `canary simulate`: the deterministic market simulator, to CSV or into the store.

use canary_store::prelude::*;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use canary_ingest::csv::TimeRange;
use canary_model::Symbol;
use canary_sim::{SimParams, simulate, write_csv};
use canary_store::{NewCandle, Revisions, Source};

use crate::cli::SimulateArgs;

pub fn run(db: &Path, a: &SimulateArgs) -> Result<()> {
    let params = SimParams {
        timeframe: a.tf,
        bars: a.bars,
        seed: a.seed,
        scenario: a.scenario,
        start: a.start.unwrap_or(SimParams::DEFAULT_START),
        start_price: a.price,
    };
    if let Some(why) = params.out_of_range(TimeRange::GENESIS_DAY, super::now()) {
        anyhow::bail!("{why}: choose another --start or fewer --bars");
    }
    let bars = simulate(&params);
    crate::output::banner();
    if a.store {
        let rows: Vec<NewCandle> = bars
            .iter()
            .map(|c| NewCandle {
                candle: *c,
                available_at: a.tf.close_of(c.open_time),
                source_bars: None,
            })
            .collect();
        let mut store = super::open(db)?;
        let symbol = match &a.symbol {
            Some(s) => s.clone(),
            None => {
                let s = Symbol::new("BTCUSDT")?;
                refuse_beside_real(&*store, &s)?;
                s
            }
        };
        let r = store.insert_candles(
            &symbol,
            a.tf,
            Source::sim("sim"),
            super::now(),
            &rows,
            Revisions::Keep,
            |_| {},
        )?;
        println!(
            "stored {} simulated {} {} bars ({} already present) in {} [scenario {}, seed {}]",
            r.inserted,
            symbol,
            a.tf,
            r.present,
            db.display(),
            a.scenario,
            a.seed
        );
        return Ok(());
    }
    if a.output.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut w = std::io::BufWriter::new(stdout.lock());
        write_csv(&bars, &mut w)?;
        w.flush()?;
    } else {
        let f = std::fs::File::create(&a.output)
            .with_context(|| format!("cannot create {}", a.output.display()))?;
        let mut w = std::io::BufWriter::new(f);
        write_csv(&bars, &mut w)?;
        w.flush()?;
        eprintln!(
            "wrote {} simulated bars to {}",
            bars.len(),
            a.output.display()
        );
    }
    Ok(())
}

/// Simulated bars under the default symbol would sit beside real ones: refuse unless the user
/// names the symbol.
fn refuse_beside_real(store: &dyn canary_store::Stores, symbol: &Symbol) -> Result<()> {
    let kinds = store.source_kinds()?;
    let real: Vec<String> = store
        .series()?
        .into_iter()
        .filter(|s| &s.symbol == symbol)
        .filter(|s| {
            s.sources
                .split(',')
                .any(|src| kinds.get(src) != Some(&canary_model::SourceKind::Sim))
        })
        .map(|s| format!("{} {}", s.symbol, s.timeframe))
        .collect();
    if real.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "the database holds real bars ({}): simulated bars would sit beside them; name the simulated series with --symbol (e.g. --symbol SIM:BTCUSDT)",
            real.join(", ")
        )
    }
}
