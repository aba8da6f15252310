//! `canary flows`: fetch labelled entities' transactions from an Esplora API and report their
//! outflows by destination kind, with the latest day against the previous 90.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Result, bail};
use canary_analytics::flows::{
    Destination, EntityKind, Outflow, daily, latest_zscore, outflows, position_ratio,
};
use canary_ingest::esplora::EsploraClient;
use canary_model::{Claim, ClaimSet};
use canary_store::{Store, StoredOutflow};

use crate::cli::{FlowsArgs, FlowsCommand, FlowsFetchArgs, ReportFormat};
use crate::output::{human, progress};

const V: u32 = 1;

pub fn run(db: &Path, a: &FlowsArgs) -> Result<()> {
    match &a.command {
        Some(FlowsCommand::Fetch(f)) => fetch(db, f),
        None => report(db, a),
    }
}

fn fetch(db: &Path, f: &FlowsFetchArgs) -> Result<()> {
    let set = crate::labels::load(&f.labels)?;
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
    if !(f.timeout.is_finite() && f.timeout > 0.0) {
        bail!(
            "--timeout must be a positive number of seconds, got {}",
            f.timeout
        );
    }
    let client = EsploraClient::new(&f.url, std::time::Duration::from_secs_f64(f.timeout));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut store = Store::open(db)?;
    let total: usize = targets
        .iter()
        .map(|t| set.entities[*t].1.addresses.len())
        .sum();
    let pb = progress(total as u64, "fetching addresses");
    for entity in targets {
        let mut rows = Vec::new();
        let mut seen = HashSet::new();
        for addr in &set.entities[entity].1.addresses {
            let txs = rt.block_on(client.address_txs(addr, f.pages))?;
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
        let r = store.insert_outflows(&rows, &f.url, super::now())?;
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

fn dest(s: &str) -> Destination {
    match s {
        "miner" => Destination::Labelled(EntityKind::Miner),
        "exchange" => Destination::Labelled(EntityKind::Exchange),
        "otc" => Destination::Labelled(EntityKind::Otc),
        "custodian" => Destination::Labelled(EntityKind::Custodian),
        _ => Destination::Unlabelled,
    }
}

#[allow(clippy::too_many_lines)]
fn report(db: &Path, a: &FlowsArgs) -> Result<()> {
    let store = Store::open(db)?;
    let asof = a.asof.unwrap_or_else(super::now);
    let entities = match &a.entity {
        Some(e) => vec![e.clone()],
        None => store.flow_entities()?,
    };
    if entities.is_empty() {
        bail!(
            "no outflows stored in {}: run canary flows fetch --labels FILE first",
            db.display()
        );
    }
    let mut claims = ClaimSet::new();
    let mut rows = Vec::new();
    for e in &entities {
        let stored = store.outflows(e, Some(asof))?;
        let all: Vec<Outflow> = stored
            .iter()
            .map(|s| Outflow {
                txid: s.txid.clone(),
                time: s.time,
                destination: dest(&s.destination),
                btc: s.btc,
            })
            .collect();
        let sells: Vec<Outflow> = all
            .iter()
            .filter(|o| {
                matches!(
                    o.destination,
                    Destination::Labelled(EntityKind::Exchange | EntityKind::Otc)
                )
            })
            .cloned()
            .collect();
        let (d_all, d_sell) = (daily(&all), daily(&sells));
        let Some(&(last_day, last_all)) = d_all.last() else {
            rows.push((e.clone(), None));
            continue;
        };
        let input = claims.add(Claim::data(
            format!("{e} outflows on {}", &last_day.to_string()[..10]),
            last_all,
            "BTC",
            asof,
            format!("{e} daily outflows"),
            "esplora transactions classified by canary labels",
            last_day,
        ));
        let sell_last = d_sell
            .last()
            .filter(|d| d.0 == last_day)
            .map_or(0.0, |d| d.1);
        let z = latest_zscore(&d_all, 90);
        let z_id = z.map(|z| {
            claims.add(Claim::derived(
                format!("{e} latest daily outflow in σ of the previous 90 days"),
                z,
                "σ",
                asof,
                "outflow_zscore",
                V,
                &[("days", "90".into())],
                &[&input],
            ))
        });
        let ratio = position_ratio(&d_all);
        let r_id = ratio.map(|r| {
            claims.add(Claim::derived(
                format!("{e} position ratio (latest day / 365-day mean)"),
                r,
                "×",
                asof,
                "position_ratio",
                V,
                &[],
                &[&input],
            ))
        });
        rows.push((
            e.clone(),
            Some((
                last_day,
                last_all,
                sell_last,
                d_all.len(),
                z,
                z_id,
                ratio,
                r_id,
                input,
            )),
        ));
    }
    claims.check()?;
    match a.format {
        ReportFormat::Json => {
            let doc = serde_json::json!({
                "asof": asof.to_string(),
                "entities": rows.iter().map(|(e, r)| match r {
                    None => serde_json::json!({"entity": e, "outflows": null}),
                    Some((day, all, sell, n, z, zid, ratio, rid, input)) => serde_json::json!({
                        "entity": e, "last_day": day.to_string(), "outflow_btc": all, "outflow_claim": input,
                        "to_exchanges_and_otc_btc": sell, "days": n,
                        "zscore_90d": z, "zscore_claim": zid, "position_ratio": ratio, "position_ratio_claim": rid,
                        "flag": z.is_some_and(|z| z >= 3.0),
                    }),
                }).collect::<Vec<_>>(),
                "claims": claims,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        ReportFormat::Table | ReportFormat::Md => {
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
            for (e, r) in &rows {
                match r {
                    None => {
                        t.add_row([
                            e.clone(),
                            "no outflows stored".into(),
                            String::new(),
                            String::new(),
                            String::new(),
                            String::new(),
                            String::new(),
                        ]);
                    }
                    Some((day, all, sell, n, z, _, ratio, _, _)) => {
                        t.add_row([
                            e.clone(),
                            day.to_string()[..10].to_string(),
                            human(*all),
                            human(*sell),
                            z.map_or(format!("n/a ({n} of 91 days)"), |z| format!("{z:+.1}")),
                            ratio.map_or("n/a (< 365 days)".into(), |r| format!("{r:.2}×")),
                            if z.is_some_and(|z| z >= 3.0) {
                                "FLAG: ≥ 3σ".into()
                            } else {
                                String::new()
                            },
                        ]);
                    }
                }
            }
            println!("Entity outflows as of {asof}");
            println!("{t}");
        }
    }
    Ok(())
}
