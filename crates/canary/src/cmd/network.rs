//! `canary network`: network series imported and fetched (the engine's `jobs::network`), and
//! the engine's network report rendered (Hash Ribbons, Puell, the difficulty nowcast, the share
//! of the fleet under water).

use canary_engine::Session;

use anyhow::Result;
use canary_engine::NetworkParams;
use canary_engine::jobs::block_on;
use canary_engine::jobs::network::{NetworkFile, fetch_bitcoind, fetch_mempool};
use canary_ingest::csv::TimeRange;

use crate::cli::{NetworkArgs, NetworkCommand, NetworkImportArgs, OutputFormat};
use crate::output::{preamble, print_json, sim_tag};

pub fn run(session: &Session, a: &NetworkArgs) -> Result<()> {
    match &a.command {
        Some(NetworkCommand::Import(i)) => import(session, i),
        Some(NetworkCommand::Fetch(f)) => fetch(session, f),
        None => report(session, a),
    }
}

fn import(session: &Session, a: &NetworkImportArgs) -> Result<()> {
    let map = super::column_map(a.map.as_deref())?;
    let range = TimeRange {
        earliest: a.earliest,
        now: Some(session.now()),
    };
    let file = NetworkFile::read(&a.file, a.series, &map, &range).map_err(super::ingest_hint)?;
    let summary: Vec<String> = file
        .series()
        .iter()
        .map(|s| {
            let span = match (s.first, s.last) {
                (Some(f), Some(l)) => {
                    format!("{} → {}", &f.to_string()[..10], &l.to_string()[..10])
                }
                _ => "empty".into(),
            };
            format!(
                "{} ({}): {} days, {span}",
                s.series,
                s.series.unit(),
                s.days
            )
        })
        .collect();
    if a.dry_run {
        println!("dry run: valid, nothing stored; {}", summary.join("; "));
        return Ok(());
    }
    let mut store = super::open(session)?;
    let r = file
        .store(
            &mut *store,
            a.source.as_deref(),
            super::import::revisions(a.strict),
            session.now(),
        )
        .map_err(super::import::write_failed)?;
    println!(
        "imported {} values, {} already present, {} revised (source {}); {}",
        r.insert.inserted,
        r.insert.present,
        r.insert.revised,
        r.source,
        summary.join("; ")
    );
    for n in file.notes() {
        println!("note: {n}");
    }
    Ok(())
}

fn report(session: &Session, a: &NetworkArgs) -> Result<()> {
    let p = NetworkParams {
        price: a.value.price.into(),
        symbol: a.value.symbol.clone(),
        fees_btc: a.fees_btc,
        power_usd_per_mwh: a.power,
        vendor: a.source.clone(),
    };
    let r = super::with_context(session, a.at.asof, |ctx| canary_engine::network(ctx, &p))?;
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

fn fetch(session: &Session, f: &crate::cli::NetworkFetchArgs) -> Result<()> {
    use crate::cli::FetchFrom;

    let timeout = std::time::Duration::from_secs_f64(f.timeout);
    let now = session.now();
    let mut store = super::open(session)?;
    match &f.from {
        FetchFrom::Mempool { url, period } => {
            let f = block_on(fetch_mempool(&mut *store, url, period, timeout, now))?
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
            let f = block_on(fetch_bitcoind(
                &mut *store,
                url,
                user,
                password,
                timeout,
                now,
            ))?
            .map_err(super::source_hint)?;
            let (tip, stats) = (&f.tip, &f.stats);
            println!(
                "{url}: height {}, difficulty {:.4e}, node hash-rate estimate {}, tip fees {} BTC, subsidy {} BTC; stored {} new values",
                tip.height,
                tip.difficulty,
                tip.hashrate_hs
                    .map_or("n/a".into(), |h| format!("{:.1} EH/s", h / 1e18)),
                stats.fees_btc.map_or("n/a".into(), |f| format!("{f:.8}")),
                stats.subsidy_btc.map_or("n/a".into(), |s| s.to_string()),
                f.insert.inserted
            );
        }
    }
    Ok(())
}
