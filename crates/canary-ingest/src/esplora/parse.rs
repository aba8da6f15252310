//! Esplora payloads → model transactions, pure functions.

use canary_model::Timestamp;
use canary_model::network::{ChainTx, TxOut};

use super::messages::{Output, Tx};

fn out(o: &Output) -> TxOut {
    TxOut {
        address: o.scriptpubkey_address.clone(),
        sats: o.value,
    }
}

/// Transactions with their block time (none while unconfirmed) and previous outputs.
#[must_use]
pub fn parse_txs(txs: &[Tx]) -> Vec<ChainTx> {
    txs.iter()
        .map(|t| ChainTx {
            txid: t.txid.clone(),
            time: if t.status.confirmed {
                t.status
                    .block_time
                    .map(|s| Timestamp::from_millis(s * 1000))
            } else {
                None
            },
            inputs: t
                .vin
                .iter()
                .filter_map(|v| v.prevout.as_ref())
                .map(out)
                .collect(),
            outputs: t.vout.iter().map(out).collect(),
        })
        .collect()
}

/// One page of an address's transactions (`/address/…/txs`, `/address/…/txs/chain/…`).
#[derive(Debug, Clone, PartialEq)]
pub struct TxPage {
    pub txs: Vec<ChainTx>,
    /// The last confirmed transaction on the page: where the next page starts.
    pub last_confirmed: Option<String>,
    /// The page holds a full 25 confirmed transactions: there may be more.
    pub full: bool,
}

/// A page of transactions from a response body.
///
/// # Errors
/// A body that is not a transaction list, naming `address`.
pub fn page_from(address: &str, body: &str) -> Result<TxPage, crate::source::SourceError> {
    let page: Vec<Tx> = crate::source::decode(address, "transaction list", body)?;
    Ok(TxPage {
        last_confirmed: page
            .iter()
            .rev()
            .find(|t| t.status.confirmed)
            .map(|t| t.txid.clone()),
        full: page.iter().filter(|t| t.status.confirmed).count() >= 25,
        txs: parse_txs(&page),
    })
}
