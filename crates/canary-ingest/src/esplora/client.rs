//! Esplora address client.

use std::time::Duration;

use canary_model::network::ChainTx;

use super::parse::page_from;
use crate::source::{SourceError, get_text};

/// A client of one Esplora API root (`https://blockstream.info/api`, `https://mempool.space/api`).
#[derive(Debug, Clone)]
pub struct EsploraClient {
    base: String,
    http: reqwest::Client,
    timeout: Duration,
}

impl EsploraClient {
    #[must_use]
    pub fn new(base: &str, timeout: Duration) -> Self {
        EsploraClient {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
            timeout,
        }
    }

    /// The transactions of `address`, newest first: the first page (mempool and the latest
    /// confirmed) and up to `pages − 1` older confirmed pages.
    ///
    /// # Errors
    /// Connection, timeout, HTTP status or payload errors, naming the URL.
    pub async fn address_txs(
        &self,
        address: &str,
        pages: usize,
    ) -> Result<Vec<ChainTx>, SourceError> {
        let mut out: Vec<ChainTx> = Vec::new();
        let mut url = format!("{}/address/{address}/txs", self.base);
        for _ in 0..pages.max(1) {
            let body = get_text(&self.http, &url, self.timeout).await?;
            let page = page_from(&url, &body)?;
            out.extend(page.txs);
            let (Some(last), true) = (page.last_confirmed, page.full) else {
                break;
            };
            url = format!("{}/address/{address}/txs/chain/{last}", self.base);
        }
        // A transaction can appear on the first page and on a chain page.
        let mut seen = std::collections::HashSet::new();
        out.retain(|t| seen.insert(t.txid.clone()));
        Ok(out)
    }
}
