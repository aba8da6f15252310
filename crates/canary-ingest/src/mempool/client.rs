//! mempool.space REST client.

use std::time::Duration;

use canary_model::network::{BlockStats, DifficultyEpoch, DifficultySample, HashrateSample};

use super::parse::{blocks_from, difficulty_adjustment_from, hashrate_from};
use crate::source::{SourceError, get_text};

/// A client of one mempool instance (`https://mempool.space/api` or a self-hosted one).
#[derive(Debug, Clone)]
pub struct MempoolClient {
    base: String,
    http: reqwest::Client,
    timeout: Duration,
}

impl MempoolClient {
    /// `base` is the API root, e.g. `https://mempool.space/api`.
    #[must_use]
    pub fn new(base: &str, timeout: Duration) -> Self {
        MempoolClient {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
            timeout,
        }
    }

    /// The current difficulty epoch.
    ///
    /// # Errors
    /// Connection, timeout, HTTP status or payload errors, naming the URL.
    pub async fn difficulty_adjustment(&self) -> Result<DifficultyEpoch, SourceError> {
        let url = format!("{}/v1/difficulty-adjustment", self.base);
        let body = get_text(&self.http, &url, self.timeout).await?;
        difficulty_adjustment_from(&url, &body)
    }

    /// Hash-rate history and difficulty adjustments over a period (`1m`, `3m`, `1y`, `all`, …).
    ///
    /// # Errors
    /// As [`difficulty_adjustment`](Self::difficulty_adjustment).
    pub async fn hashrate(
        &self,
        period: &str,
    ) -> Result<(Vec<HashrateSample>, Vec<DifficultySample>), SourceError> {
        let url = format!("{}/v1/mining/hashrate/{period}", self.base);
        let body = get_text(&self.http, &url, self.timeout).await?;
        hashrate_from(&url, &body)
    }

    /// The latest blocks (about 15), or those below `start_height`.
    ///
    /// # Errors
    /// As [`difficulty_adjustment`](Self::difficulty_adjustment).
    pub async fn blocks(&self, start_height: Option<u64>) -> Result<Vec<BlockStats>, SourceError> {
        let url = match start_height {
            Some(h) => format!("{}/v1/blocks/{h}", self.base),
            None => format!("{}/v1/blocks", self.base),
        };
        let body = get_text(&self.http, &url, self.timeout).await?;
        blocks_from(&url, &body)
    }
}
