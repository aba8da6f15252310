//! `canary flows`: fetch labelled entities' transactions from an Esplora API and store their
//! outflows; render the engine's outflow report.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Result, bail};
use canary_analytics::flows::{EntityKind, outflows};
use canary_ingest::esplora::EsploraClient;
use canary_store::{Source, StoredOutflow};

use crate::cli::{FlowsArgs, FlowsCommand, FlowsFetchArgs, OutputFormat};
use crate::output::{human, preamble, print_json, progress};

pub fn run(db: &Path, a: &FlowsArgs) -> Result<()> {
    match &a.command {
        Some(FlowsCommand::Fetch(f)) => fetch(db, f),
        None => report(db, a),
    }
}

fn fetch(db: &Path, f: &FlowsFetchArgs) -> Result<()> {
    let set = canary_engine::labels::load(&f.labels)?;
    let targets: Vec<&String> = match &f.entity {
        Some(e) => {
            let Some((name, _)) = set.entities.get_key_value(e) else {
                bail!(
                    "no entity {e} in {}; entities: {}",
                    f.labels.display(),
                    set.entities.keys().cloned().collect::<Vec<_>>().join(", ")
                );
            };
            vec![name]
        }
        None => set
            .entities
            .iter()
            .filter(|(_, (k, _))| *k == EntityKind::Miner)
            .map(|(n, _)| n)
            .collect(),
    };
    if targets.is_empty() {
        bail!(
            "{} has no miner entities; name one with --entity",
            f.labels.display()
        );
    }
    let client = EsploraClient::new(&f.url, std::time::Duration::from_secs_f64(f.timeout));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut store = super::open(db)?;
    let total: usize = targets
        .iter()
        .map(|t| set.entities[*t].1.addresses.len())
        .sum();
    let pb = progress(total as u64, "fetching addresses");
    for entity in targets {
        let mut rows = Vec::new();
        let mut seen = HashSet::new();
        for addr in &set.entities[entity].1.addresses {
            let txs = rt
                .block_on(client.address_txs(addr, f.pages))
                .map_err(super::ingest_hint)?;
            for tx in txs.iter().filter(|t| seen.insert(t.txid.clone())) {
                for o in outflows(tx, entity, &set.labels) {
                    rows.push(StoredOutflow {
                        entity: entity.clone(),
                        txid: o.txid,
                        destination: o.destination.name().to_string(),
                        btc: o.btc,
                        time: o.time,
                    });
                }
            }
            pb.inc(1);
        }
        let r = store.insert_outflows(&rows, Source::real(&f.url), super::now())?;
        pb.suspend(|| {
            println!(
                "{entity}: {} transactions seen, {} outflows ({} new, {} already stored)",
                seen.len(),
                rows.len(),
                r.inserted,
                r.present
            );
        });
    }
    pb.finish_and_clear();
    Ok(())
}

fn report(db: &Path, a: &FlowsArgs) -> Result<()> {
    let r = super::with_context(db, a.at.asof, |ctx| {
        canary_engine::flows(ctx, a.entity.as_deref())
    })?;
    match a.format {
        OutputFormat::Json => print_json(&r)?,
        OutputFormat::Table | OutputFormat::Md => {
            preamble(&r);
            let mut t = crate::output::table();
            t.set_header([
                "entity",
                "last day",
                "outflow BTC",
                "to exchanges/OTC",
                "z (90 d)",
                "position ratio",
                "",
            ]);
            for e in &r.body.entities {
                let (Some(day), Some(all), Some(sell)) =
                    (e.last_day, e.outflow_btc, e.to_exchanges_and_otc_btc)
                else {
                    t.add_row([
                        e.entity.clone(),
                        "no outflows stored".into(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                    ]);
                    continue;
                };
                t.add_row([
                    e.entity.clone(),
                    day.to_string()[..10].to_string(),
                    human(all),
                    human(sell),
                    e.zscore_90d
                        .map_or(format!("n/a ({} of 91 days)", e.days), |z| {
                            format!("{z:+.1}")
                        }),
                    e.position_ratio
                        .map_or("n/a (< 365 days)".into(), |r| format!("{r:.2}×")),
                    if e.flag {
                        "FLAG: ≥ 3σ".into()
                    } else {
                        String::new()
                    },
                ]);
            }
            println!("Entity outflows as of {}", r.as_of);
            println!("{t}");
        }
        f @ (OutputFormat::Csv | OutputFormat::Html) => return Err(f.unavailable()),
    }
    Ok(())
}
