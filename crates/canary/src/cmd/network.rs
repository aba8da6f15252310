//! `canary network`: import and fetch network series; render the engine's network report
//! (Hash Ribbons, Puell, the difficulty nowcast, the share of the fleet under water).

use std::path::Path;

use anyhow::{Result, anyhow};
use canary_engine::NetworkParams;
use canary_ingest::csv::TimeRange;
use canary_ingest::network::read_network;
use canary_model::Timeframe;
use canary_model::network::NetworkSeries;
use canary_store::{NetworkPoint, Revisions, Source, StoreError};

use crate::cli::{NetworkArgs, NetworkCommand, NetworkImportArgs, OutputFormat};
use crate::output::{preamble, print_json, sim_tag};

pub fn run(db: &Path, a: &NetworkArgs) -> Result<()> {
    match &a.command {
        Some(NetworkCommand::Import(i)) => import(db, i),
        Some(NetworkCommand::Fetch(f)) => fetch(db, f),
        None => report(db, a),
    }
}

fn import(db: &Path, a: &NetworkImportArgs) -> Result<()> {
    let map = match &a.map {
        Some(m) => m
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|item| {
                item.split_once('=')
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    .ok_or_else(|| anyhow!("--map item {item:?} is not NAME=COLUMN"))
            })
            .collect::<Result<Vec<_>>>()?,
        None => Vec::new(),
    };
    let range = TimeRange {
        earliest: a.earliest,
        now: Some(super::now()),
    };
    let parsed = read_network(&a.file, a.series, &map, &range).map_err(super::ingest_hint)?;
    let source = a.source.clone().unwrap_or_else(|| {
        a.file.file_name().map_or_else(
            || a.file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    });
    let points: Vec<(NetworkSeries, Vec<NetworkPoint>)> = parsed
        .series
        .iter()
        .map(|(spec, values)| {
            let pts = values
                .iter()
                .map(|&(_, t, v)| NetworkPoint {
                    time: t,
                    value: v,
                    available_at: Timeframe::D1.close_of(t),
                })
                .collect();
            (spec.series, pts)
        })
        .collect();
    let summary: Vec<String> = parsed
        .series
        .iter()
        .map(|(spec, v)| {
            let span = match (v.first(), v.last()) {
                (Some(f), Some(l)) => {
                    format!("{} → {}", &f.1.to_string()[..10], &l.1.to_string()[..10])
                }
                _ => "empty".into(),
            };
            format!(
                "{} ({}): {} days, {span}",
                spec.series,
                spec.series.unit(),
                v.len()
            )
        })
        .collect();
    if a.dry_run {
        println!("dry run: valid, nothing stored; {}", summary.join("; "));
        return Ok(());
    }
    let mut store = super::open(db)?;
    let refs: Vec<(&str, &[NetworkPoint])> = points
        .iter()
        .map(|(s, p)| (s.name(), p.as_slice()))
        .collect();
    let r = store
        .insert_network(
            &refs,
            Source::real(&source),
            super::now(),
            super::import::revisions(a.strict),
        )
        .map_err(|e| match e {
            StoreError::Conflict(c) => {
                // Find the line of the conflicting value.
                let line = parsed
                    .series
                    .iter()
                    .flat_map(|(_, v)| v.iter())
                    .nth(usize::try_from(c.index).unwrap_or(usize::MAX))
                    .map_or(0, |v| v.0);
                anyhow!(
                    "{}:{line}: {c} (without --strict it is stored as a revision)",
                    a.file.display()
                )
            }
            e => anyhow!(e),
        })?;
    println!(
        "imported {} values, {} already present, {} revised (source {source}); {}",
        r.inserted,
        r.present,
        r.revised,
        summary.join("; ")
    );
    Ok(())
}

fn report(db: &Path, a: &NetworkArgs) -> Result<()> {
    let p = NetworkParams {
        price: a.value.price.into(),
        symbol: a.value.symbol.clone(),
        fees_btc: a.fees_btc,
        power_usd_per_mwh: a.power,
        vendor: a.source.clone(),
    };
    let r = super::with_context(db, a.at.asof, |ctx| canary_engine::network(ctx, &p))?;
    match a.format {
        OutputFormat::Json => print_json(&r)?,
        OutputFormat::Table | OutputFormat::Md => {
            preamble(&r);
            let mut t = crate::output::table();
            t.set_header(["network, as of", "reading"]);
            for row in &r.body.rows {
                t.add_row([row.label.clone(), row.reading.clone()]);
            }
            println!("Bitcoin network as of {}{}", r.as_of, sim_tag(&r));
            println!("{t}");
            for m in &r.body.missing {
                println!("not computed: {m}");
            }
        }
        f @ (OutputFormat::Csv | OutputFormat::Html) => return Err(f.unavailable()),
    }
    Ok(())
}

fn fetch(db: &Path, f: &crate::cli::NetworkFetchArgs) -> Result<()> {
    use canary_ingest::bitcoind::BitcoinRpc;

    use crate::cli::FetchFrom;

    let timeout = std::time::Duration::from_secs_f64(f.timeout);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let now = super::now();
    let mut store = super::open(db)?;
    match &f.from {
        FetchFrom::Mempool { url, period } => {
            let f = rt
                .block_on(canary_engine::network_fetch::fetch_mempool(
                    &mut *store,
                    url,
                    period,
                    timeout,
                    now,
                ))
                .map_err(super::hint)?;
            let epoch = &f.epoch;
            println!(
                "{url}: epoch {:.1}% done, {} blocks to the retarget at {} (≈ {}), projected {:+.2}% (previous {:+.2}%)",
                epoch.progress_pct,
                epoch.remaining_blocks,
                epoch.next_retarget_height,
                epoch.estimated_retarget,
                epoch.projected_change_pct,
                epoch.previous_change_pct
            );
            if let Some(mean) = f.mean_fees_btc {
                println!(
                    "fees over the last {} blocks: {mean:.4} BTC per block on average",
                    f.blocks
                );
            }
            println!(
                "stored {} new values ({} already present): mempool:hashrate_hs {} days, mempool:difficulty {} adjustments; read them with `canary network --source mempool`",
                f.insert.inserted, f.insert.present, f.hashrate_days, f.adjustments
            );
        }
        FetchFrom::Bitcoind {
            url,
            user,
            password,
        } => {
            let rpc = BitcoinRpc::new(url, user, password, timeout);
            let (tip, stats) = rt
                .block_on(async {
                    let tip = rpc.chain_tip().await?;
                    let stats = rpc.block_stats(tip.height).await?;
                    Ok::<_, canary_ingest::source::SourceError>((tip, stats))
                })
                .map_err(super::ingest_hint)?;
            let t = tip.median_time.unwrap_or(stats.time);
            let mut series: Vec<(String, Vec<NetworkPoint>)> = vec![(
                NetworkSeries::Difficulty.stored_name(Some("bitcoind")),
                vec![NetworkPoint {
                    time: t,
                    value: tip.difficulty,
                    available_at: t,
                }],
            )];
            if let Some(h) = tip.hashrate_hs {
                series.push((
                    NetworkSeries::HashrateHs.stored_name(Some("bitcoind")),
                    vec![NetworkPoint {
                        time: t,
                        value: h,
                        available_at: t,
                    }],
                ));
            }
            let refs: Vec<(&str, &[NetworkPoint])> = series
                .iter()
                .map(|(s, p)| (s.as_str(), p.as_slice()))
                .collect();
            let rep = store.insert_network(&refs, Source::real(url), now, Revisions::Keep)?;
            println!(
                "{url}: height {}, difficulty {:.4e}, node hash-rate estimate {}, tip fees {} BTC, subsidy {} BTC; stored {} new values",
                tip.height,
                tip.difficulty,
                tip.hashrate_hs
                    .map_or("n/a".into(), |h| format!("{:.1} EH/s", h / 1e18)),
                stats.fees_btc.map_or("n/a".into(), |f| format!("{f:.8}")),
                stats.subsidy_btc.map_or("n/a".into(), |s| s.to_string()),
                rep.inserted
            );
        }
    }
    Ok(())
}
