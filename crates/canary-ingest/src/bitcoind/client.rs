//! Bitcoin Core JSON-RPC client.

use std::time::Duration;

use canary_model::network::{BlockStats, ChainTip};
use serde::de::DeserializeOwned;

use super::messages::{self, BlockchainInfo, MiningInfo};
use super::parse::{parse_block_stats, parse_chain_tip, rpc_result};
use crate::source::SourceError;

/// A client of one node's RPC endpoint (`http://127.0.0.1:8332`).
#[derive(Debug, Clone)]
pub struct BitcoinRpc {
    url: String,
    user: String,
    password: String,
    http: reqwest::Client,
    timeout: Duration,
}

impl BitcoinRpc {
    #[must_use]
    pub fn new(url: &str, user: &str, password: &str, timeout: Duration) -> Self {
        BitcoinRpc {
            url: url.to_string(),
            user: user.to_string(),
            password: password.to_string(),
            http: reqwest::Client::new(),
            timeout,
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: serde_json::Value,
        what: &'static str,
    ) -> Result<T, SourceError> {
        let address = format!("{} ({method})", self.url);
        let req = serde_json::json!({"jsonrpc": "1.0", "id": "canary", "method": method, "params": params});
        let resp = self
            .http
            .post(&self.url)
            .basic_auth(&self.user, Some(&self.password))
            .json(&req)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| SourceError::from_reqwest(&address, &e, self.timeout))?;
        let status = resp.status();
        let body = resp
            .text()
            .await
            .map_err(|e| SourceError::from_reqwest(&address, &e, self.timeout))?;
        rpc_result(&address, status.as_u16(), body, what)
    }

    /// The chain tip with the node's hash-rate estimate.
    ///
    /// # Errors
    /// Connection, timeout, authentication, RPC or payload errors, naming the URL and method.
    pub async fn chain_tip(&self) -> Result<ChainTip, SourceError> {
        let info: BlockchainInfo = self
            .call(
                "getblockchaininfo",
                serde_json::json!([]),
                "getblockchaininfo result",
            )
            .await?;
        let mining: MiningInfo = self
            .call(
                "getmininginfo",
                serde_json::json!([]),
                "getmininginfo result",
            )
            .await?;
        Ok(parse_chain_tip(&info, Some(&mining)))
    }

    /// The node's hash-rate estimate over the last `blocks` blocks (H/s).
    ///
    /// # Errors
    /// As [`chain_tip`](Self::chain_tip).
    pub async fn network_hashps(&self, blocks: u32) -> Result<f64, SourceError> {
        self.call(
            "getnetworkhashps",
            serde_json::json!([blocks]),
            "getnetworkhashps result",
        )
        .await
    }

    /// One block's subsidy, fees and transactions.
    ///
    /// # Errors
    /// As [`chain_tip`](Self::chain_tip).
    pub async fn block_stats(&self, height: u64) -> Result<BlockStats, SourceError> {
        let s: messages::BlockStats = self
            .call(
                "getblockstats",
                serde_json::json!([height, ["height", "time", "subsidy", "totalfee", "txs"]]),
                "getblockstats result",
            )
            .await?;
        Ok(parse_block_stats(&s))
    }
}
