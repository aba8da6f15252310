//! Network data fetched from a mempool instance and stored: the difficulty epoch, the daily
//! hash-rate history and difficulty adjustments (each value known from the end of its day, or
//! from the adjustment's time), and the fees of the latest blocks. `canary network fetch` and
//! the engine's schedule call this.

use std::time::Duration;

use canary_ingest::mempool::MempoolClient;
use canary_model::network::DifficultyEpoch;
use canary_model::{Timeframe, Timestamp};
use canary_store::{InsertReport, NetworkPoint, Revisions, Source, Stores};

use crate::EngineError;
use canary_model::network::NetworkSeries;

/// What a mempool fetch stored.
#[derive(Debug, Clone, PartialEq)]
pub struct MempoolFetched {
    pub epoch: DifficultyEpoch,
    pub hashrate_days: usize,
    pub adjustments: usize,
    /// Mean fees per block over the latest blocks, and how many.
    pub mean_fees_btc: Option<f64>,
    pub blocks: usize,
    pub insert: InsertReport,
}

/// Fetch from the mempool instance at `url` (hash-rate history over `period`: `1m`, `3m`,
/// `1y`, `all`) and store it.
///
/// # Errors
/// The source's failure (naming its address), a database error.
pub async fn fetch_mempool(
    store: &mut dyn Stores,
    url: &str,
    period: &str,
    timeout: Duration,
    now: Timestamp,
) -> Result<MempoolFetched, EngineError> {
    let c = MempoolClient::new(url, timeout);
    let epoch = c.difficulty_adjustment().await?;
    let (hashrates, difficulties) = c.hashrate(period).await?;
    let blocks = c.blocks(None).await?;
    let h: Vec<NetworkPoint> = hashrates
        .iter()
        .map(|x| NetworkPoint {
            time: x.time,
            value: x.hashrate_hs,
            available_at: Timeframe::D1.close_of(x.time),
        })
        .collect();
    let d: Vec<NetworkPoint> = difficulties
        .iter()
        .map(|x| NetworkPoint {
            time: x.time,
            value: x.difficulty,
            available_at: x.time,
        })
        .collect();
    let (hs, ds) = (
        NetworkSeries::HashrateHs.stored_name(Some("mempool")),
        NetworkSeries::Difficulty.stored_name(Some("mempool")),
    );
    let insert = store.insert_network(
        &[(&hs, &h), (&ds, &d)],
        Source::real(url),
        now,
        Revisions::Keep,
    )?;
    let fees: Vec<f64> = blocks.iter().filter_map(|b| b.fees_btc).collect();
    #[allow(clippy::cast_precision_loss)]
    let mean_fees_btc = (!fees.is_empty()).then(|| fees.iter().sum::<f64>() / fees.len() as f64);
    Ok(MempoolFetched {
        epoch,
        hashrate_days: h.len(),
        adjustments: d.len(),
        mean_fees_btc,
        blocks: fees.len(),
        insert,
    })
}
