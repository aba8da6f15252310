//! Esplora address client.

use std::time::Duration;

use canary_model::network::ChainTx;

use super::messages::Tx;
use super::parse::parse_txs;
use crate::source::{SourceError, decode, get_text};

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
            let page: Vec<Tx> = decode(&url, "transaction list", &body)?;
            let Some(last_confirmed) = page
                .iter()
                .rev()
                .find(|t| t.status.confirmed)
                .map(|t| t.txid.clone())
            else {
                out.extend(parse_txs(&page));
                break;
            };
            let full = page.iter().filter(|t| t.status.confirmed).count() >= 25;
            out.extend(parse_txs(&page));
            if !full {
                break;
            }
            url = format!("{}/address/{address}/txs/chain/{last_confirmed}", self.base);
        }
        // A transaction can appear on the first page and on a chain page.
        let mut seen = std::collections::HashSet::new();
        out.retain(|t| seen.insert(t.txid.clone()));
        Ok(out)
    }
}
