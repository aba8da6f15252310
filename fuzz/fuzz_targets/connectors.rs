//! Any bytes as a response body of each connector (mempool.space, Bitcoin Core JSON-RPC,
//! Esplora): model values or an error naming the address, never a panic.
#![no_main]

use canary_ingest::{bitcoind, esplora, mempool};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let body = String::from_utf8_lossy(rest).into_owned();
    let a = "http://fuzz";
    match which % 7 {
        0 => drop(mempool::difficulty_adjustment_from(a, &body)),
        1 => drop(mempool::hashrate_from(a, &body)),
        2 => drop(mempool::blocks_from(a, &body)),
        3 => drop(bitcoind::block_stats_from(a, 200, body)),
        4 => drop(bitcoind::chain_tip_from(
            a,
            (200, body.clone()),
            (500, body),
        )),
        5 => drop(bitcoind::rpc_result::<f64>(
            a,
            500,
            body,
            "getnetworkhashps result",
        )),
        _ => drop(esplora::page_from(a, &body)),
    }
});
