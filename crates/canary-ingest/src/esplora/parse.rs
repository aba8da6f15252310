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
