//! `canary simulate`: the deterministic market simulator, to CSV or into the store (the
//! engine's `jobs::bars` stores it).

use canary_engine::Session;
use std::io::Write;

use anyhow::{Context, Result, anyhow};
use canary_engine::jobs::bars::{BarsError, simulation_symbol, store_simulated};
use canary_ingest::csv::TimeRange;
use canary_sim::{SimParams, simulate, write_csv};

use crate::cli::SimulateArgs;

pub fn run(session: &Session, a: &SimulateArgs) -> Result<()> {
    let params = SimParams {
        timeframe: a.tf,
        bars: a.bars,
        seed: a.seed,
        scenario: a.scenario,
        start: a.start.unwrap_or(SimParams::DEFAULT_START),
        start_price: a.price,
    };
    if let Some(why) = params.out_of_range(TimeRange::GENESIS_DAY, session.now()) {
        anyhow::bail!("{why}: choose another --start or fewer --bars");
    }
    let bars = simulate(&params);
    crate::output::banner();
    if a.store {
        let mut store = super::open(session)?;
        let symbol = simulation_symbol(&*store, a.symbol.as_ref()).map_err(|e| match e {
            e @ BarsError::BesideReal { .. } => {
                anyhow!("{e}; name the simulated series with --symbol (e.g. --symbol SIM:BTCUSDT)")
            }
            e => anyhow!(e),
        })?;
        let r = store_simulated(&mut *store, &symbol, a.tf, &bars, session.now())?;
        println!(
            "stored {} simulated {} {} bars ({} already present) in {} [scenario {}, seed {}]",
            r.inserted,
            symbol,
            a.tf,
            r.present,
            canary_store::shown(session.db()),
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
