//! Bitcoin Core results → model types, pure functions.

use canary_model::Timestamp;
use canary_model::network::{BlockStats, ChainTip};

use super::messages::{self, BlockchainInfo, Envelope, MiningInfo};
use crate::source::{SourceError, SourceErrorKind};

fn btc(sats: u64) -> f64 {
    sats as f64 / 1e8
}

/// The tip from `getblockchaininfo` and, when available, `getmininginfo`'s hash-rate estimate.
#[must_use]
pub fn parse_chain_tip(info: &BlockchainInfo, mining: Option<&MiningInfo>) -> ChainTip {
    ChainTip {
        height: info.blocks,
        difficulty: info.difficulty,
        hashrate_hs: mining.map(|m| m.networkhashps),
        median_time: info.mediantime.map(|t| Timestamp::from_millis(t * 1000)),
    }
}

/// One block's figures from `getblockstats`.
#[must_use]
pub fn parse_block_stats(s: &messages::BlockStats) -> BlockStats {
    BlockStats {
        height: s.height,
        time: Timestamp::from_millis(s.time * 1000),
        difficulty: None,
        subsidy_btc: s.subsidy.map(btc),
        fees_btc: s.totalfee.map(btc),
        tx_count: s.txs,
    }
}

/// The result of a JSON-RPC call from the HTTP status and body: Bitcoin Core answers errors
/// with HTTP 500 and the error in the envelope, a wrong password with 401.
///
/// # Errors
/// The RPC error, the HTTP status, or a body that is not the expected result, naming
/// `address`.
pub fn rpc_result<T: serde::de::DeserializeOwned>(
    address: &str,
    status: u16,
    body: String,
    what: &'static str,
) -> Result<T, SourceError> {
    if status == 401 {
        return Err(SourceError::new(
            address,
            SourceErrorKind::Http {
                status: 401,
                body: "unauthorised: check the RPC user and password".into(),
            },
        ));
    }
    let ok = (200..300).contains(&status);
    match serde_json::from_str::<Envelope<T>>(&body) {
        Ok(Envelope { error: Some(e), .. }) => Err(SourceError::new(
            address,
            SourceErrorKind::Remote(format!("{} (code {})", e.message, e.code)),
        )),
        Ok(Envelope {
            result: Some(r), ..
        }) if ok => Ok(r),
        _ if !ok => Err(SourceError::new(
            address,
            SourceErrorKind::Http { status, body },
        )),
        Ok(_) => Err(SourceError::new(
            address,
            SourceErrorKind::Malformed {
                what,
                detail: "no result".into(),
                body,
            },
        )),
        Err(e) => Err(SourceError::new(
            address,
            SourceErrorKind::Malformed {
                what,
                detail: e.to_string(),
                body,
            },
        )),
    }
}

/// The chain tip from the bodies of `getblockchaininfo` and `getmininginfo` answers.
///
/// # Errors
/// As [`rpc_result`].
pub fn chain_tip_from(
    address: &str,
    info: (u16, String),
    mining: (u16, String),
) -> Result<ChainTip, SourceError> {
    let i: BlockchainInfo = rpc_result(address, info.0, info.1, "getblockchaininfo result")?;
    let m: MiningInfo = rpc_result(address, mining.0, mining.1, "getmininginfo result")?;
    Ok(parse_chain_tip(&i, Some(&m)))
}

/// One block's figures from the body of a `getblockstats` answer.
///
/// # Errors
/// As [`rpc_result`].
pub fn block_stats_from(
    address: &str,
    status: u16,
    body: String,
) -> Result<BlockStats, SourceError> {
    let s: messages::BlockStats = rpc_result(address, status, body, "getblockstats result")?;
    Ok(parse_block_stats(&s))
}
