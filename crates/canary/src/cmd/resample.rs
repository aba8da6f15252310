//! `canary resample`: build higher-timeframe bars from stored lower ones (the engine's
//! `resample_stored`) and say what was stored.

use canary_engine::Session;

use anyhow::Result;

use crate::cli::ResampleArgs;

pub fn run(session: &Session, a: &ResampleArgs) -> Result<()> {
    let mut store = super::open(session)?;
    let asof = a.asof.unwrap_or_else(|| session.now());
    let r =
        canary_engine::resample_stored(&mut *store, &a.symbol, a.from, a.to, asof, session.now())
            .map_err(super::hint)?;
    println!(
        "resampled {} {} bars into {} {} bars: {} new, {} already present, {} revised, {} built from fewer than {} bars (outages){}",
        r.read,
        a.from,
        r.built,
        a.to,
        r.insert.inserted,
        r.insert.present,
        r.insert.revised,
        r.short,
        r.expected,
        if r.open == 0 {
            String::new()
        } else {
            format!("; {} bucket still open at {asof} not stored", r.open)
        }
    );
    Ok(())
}
