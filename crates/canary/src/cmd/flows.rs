//! `canary flows`: labelled entities' outflows fetched from an Esplora API and stored (the
//! engine's `jobs::flows`), and the engine's outflow report rendered.

use canary_engine::Session;

use anyhow::{Result, bail};
use canary_engine::jobs::flows::{EsploraFetch, FlowsStep, addresses, fetch_outflows, miners};

use crate::cli::{FlowsArgs, FlowsCommand, FlowsFetchArgs, OutputFormat};
use crate::output::{human, preamble, print_json, progress};

pub fn run(session: &Session, a: &FlowsArgs) -> Result<()> {
    match &a.command {
        Some(FlowsCommand::Fetch(f)) => fetch(session, f),
        None => report(session, a),
    }
}

fn fetch(session: &Session, f: &FlowsFetchArgs) -> Result<()> {
    let set = canary_engine::labels::load(&f.labels)?;
    let targets: Vec<&str> = match &f.entity {
        Some(e) => {
            let Some((name, _)) = set.entities.get_key_value(e) else {
                bail!(
                    "no entity {e} in {}; entities: {}",
                    f.labels.display(),
                    set.entities.keys().cloned().collect::<Vec<_>>().join(", ")
                );
            };
            vec![name.as_str()]
        }
        None => miners(&set),
    };
    if targets.is_empty() {
        bail!(
            "{} has no miner entities; name one with --entity",
            f.labels.display()
        );
    }
    let mut store = super::open(session)?;
    let pb = progress(addresses(&set, &targets) as u64, "fetching addresses");
    let from = EsploraFetch {
        url: &f.url,
        pages: f.pages,
        timeout: std::time::Duration::from_secs_f64(f.timeout),
    };
    canary_engine::jobs::block_on(fetch_outflows(
        &mut *store,
        &set,
        &targets,
        &from,
        session.now(),
        |step| match step {
            FlowsStep::Address => pb.inc(1),
            FlowsStep::Entity(e) => pb.suspend(|| {
                println!(
                    "{}: {} transactions seen, {} outflows ({} new, {} already stored)",
                    e.entity, e.transactions, e.outflows, e.insert.inserted, e.insert.present
                );
            }),
        },
    ))?
    .map_err(super::source_hint)?;
    pb.finish_and_clear();
    Ok(())
}

fn report(session: &Session, a: &FlowsArgs) -> Result<()> {
    let r = super::with_context(session, a.at.asof, |ctx| {
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
