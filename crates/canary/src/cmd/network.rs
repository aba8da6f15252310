//! `canary network`: import network series, and report Hash Ribbons, Puell, the difficulty
//! nowcast and the share of the fleet under water as of a time.

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use canary_analytics::mining::difficulty::epoch_position;
use canary_analytics::mining::hashprice::{
    Hashprice, hashrate_from_difficulty_hs, max_profitable_efficiency, share_under_water,
};
use canary_analytics::mining::indicators::{difficulty_nowcast, hash_ribbons, puell};
use canary_analytics::mining::protocol::{estimated_height, subsidy_btc};
use canary_ingest::network::read_network;
use canary_model::{Claim, ClaimId, ClaimSet, Timeframe, Timestamp};
use canary_store::{NetworkPoint, Store, StoreError};

use crate::cli::{NetworkArgs, NetworkCommand, NetworkImportArgs, ReportFormat};
use crate::output::human;

const V: u32 = 1;

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
    let parsed = read_network(&a.file, a.series, &map)?;
    let source = a.source.clone().unwrap_or_else(|| {
        a.file.file_name().map_or_else(
            || a.file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    });
    let points: Vec<(&str, Vec<NetworkPoint>)> = parsed
        .series
        .iter()
        .map(|(spec, values)| {
            let pts = values
                .iter()
                .map(|&(_, t, v)| NetworkPoint {
                    time: t,
                    value: v,
                    available_at: t.add_millis(Timeframe::D1.duration_ms()),
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
            format!("{} ({}): {} days, {span}", spec.series, spec.unit, v.len())
        })
        .collect();
    if a.dry_run {
        println!("dry run: valid, nothing stored; {}", summary.join("; "));
        return Ok(());
    }
    let mut store = Store::open(db)?;
    let refs: Vec<(&str, &[NetworkPoint])> =
        points.iter().map(|(s, p)| (*s, p.as_slice())).collect();
    let r = store
        .insert_network(&refs, &source, super::now())
        .map_err(|e| match e {
            StoreError::Conflict(c) => {
                // Find the line of the conflicting value.
                let line = parsed
                    .series
                    .iter()
                    .flat_map(|(_, v)| v.iter())
                    .nth(c.index)
                    .map_or(0, |v| v.0);
                anyhow!("{}:{line}: {c}", a.file.display())
            }
            e => anyhow!(e),
        })?;
    println!(
        "imported {} values, {} already present (source {source}); {}",
        r.inserted,
        r.present,
        summary.join("; ")
    );
    Ok(())
}

struct Report {
    claims: ClaimSet,
    rows: Vec<(String, String, ClaimId)>,
    missing: Vec<String>,
}

impl Report {
    fn add(&mut self, c: Claim, shown: String) -> ClaimId {
        let id = self.claims.add(c.clone());
        self.rows.push((c.label, shown, id.clone()));
        id
    }
}

/// The latest value of a stored series as a data claim, with the whole series.
type Latest = Option<(f64, Claim, Vec<(Timestamp, f64)>)>;

fn last_data(
    store: &Store,
    series: &str,
    unit: &str,
    asof: Timestamp,
    label: &str,
) -> Result<Latest> {
    let values = store.network(series, Some(asof))?;
    let Some(&(t, v)) = values.last() else {
        return Ok(None);
    };
    let source = store.network_sources(series)?;
    Ok(Some((
        v,
        Claim::data(label, v, unit, asof, series, source, t),
        values,
    )))
}

#[allow(clippy::too_many_lines)]
fn report(db: &Path, a: &NetworkArgs) -> Result<()> {
    let store = Store::open(db)?;
    let asof = a.asof.unwrap_or_else(super::now);
    // Fetched series are kept apart per source (vendors are never mixed within a series).
    let series = |name: &str| {
        a.source
            .as_ref()
            .map_or_else(|| name.to_string(), |src| format!("{src}:{name}"))
    };
    let mut r = Report {
        claims: ClaimSet::new(),
        rows: Vec::new(),
        missing: Vec::new(),
    };

    // Hash rate and Hash Ribbons.
    let mut hashrate_now: Option<(f64, ClaimId)> = None;
    match last_data(
        &store,
        &series("hashrate_hs"),
        "H/s",
        asof,
        "network hash rate (daily)",
    )? {
        Some((v, c, series)) => {
            let id = r.add(c, format!("{} EH/s", human(v / 1e18)));
            // The mean of the last 7 days, for the nowcast (1 day is ±8 % noise).
            let week = &series[series.len().saturating_sub(7)..];
            #[allow(clippy::cast_precision_loss)]
            let mean7 = week.iter().map(|x| x.1).sum::<f64>() / week.len() as f64;
            let m7 = r.claims.add(Claim::derived(
                "network hash rate, mean of the last 7 days",
                mean7,
                "H/s",
                asof,
                "mean",
                V,
                &[("days", week.len().to_string())],
                &[&id],
            ));
            hashrate_now = Some((mean7, m7));
            match hash_ribbons(&series) {
                Some(rb) => {
                    let s30 = r.add(
                        Claim::derived(
                            "hash rate SMA 30",
                            rb.sma30,
                            "H/s",
                            asof,
                            "sma",
                            V,
                            &[("n", "30".into())],
                            &[&id],
                        ),
                        format!("{} EH/s", human(rb.sma30 / 1e18)),
                    );
                    let s60 = r.add(
                        Claim::derived(
                            "hash rate SMA 60",
                            rb.sma60,
                            "H/s",
                            asof,
                            "sma",
                            V,
                            &[("n", "60".into())],
                            &[&id],
                        ),
                        format!("{} EH/s", human(rb.sma60 / 1e18)),
                    );
                    let state = if rb.capitulation {
                        format!(
                            "capitulation since {}",
                            rb.capitulation_since
                                .map_or("?".into(), |t| t.to_string()[..10].to_string())
                        )
                    } else {
                        format!(
                            "no capitulation; last recovery {}",
                            rb.last_recovery
                                .map_or("none in the data".into(), |t| t.to_string()[..10]
                                    .to_string())
                        )
                    };
                    r.add(
                        Claim::derived(
                            "Hash Ribbons: SMA 30 / SMA 60 (below 1 = capitulation)",
                            rb.sma30 / rb.sma60,
                            "ratio",
                            asof,
                            "hash_ribbons",
                            V,
                            &[("day", rb.day.to_string())],
                            &[&s30, &s60],
                        ),
                        state,
                    );
                }
                None => r
                    .missing
                    .push("Hash Ribbons: need 60 days of hash rate".into()),
            }
        }
        None => r
            .missing
            .push("hash rate: none stored (canary network import FILE --series hashrate)".into()),
    }

    // Difficulty, implied hash rate, nowcast and the next retarget.
    let height = estimated_height(asof);
    match last_data(&store, &series("difficulty"), "", asof, "difficulty")? {
        Some((d, c, _)) => {
            let d_id = r.add(c, format!("{d:.4e}"));
            let implied = hashrate_from_difficulty_hs(d);
            r.add(
                Claim::derived(
                    "hash rate implied by difficulty (D·2^32/600)",
                    implied,
                    "H/s",
                    asof,
                    "hashrate_from_difficulty",
                    V,
                    &[],
                    &[&d_id],
                ),
                format!("{} EH/s", human(implied / 1e18)),
            );
            if let Some((h7, h7_id)) = &hashrate_now {
                let (next, change) = difficulty_nowcast(d, *h7);
                r.add(
                    Claim::derived(
                        "projected next difficulty (nowcast)",
                        next,
                        "",
                        asof,
                        "difficulty_nowcast",
                        V,
                        &[],
                        &[&d_id, h7_id],
                    ),
                    format!("{next:.4e} ({:+.2}%)", change * 100.0),
                );
            }
        }
        None => r.missing.push(
            "difficulty: none stored (canary network import FILE --series difficulty)".into(),
        ),
    }
    let (left, next_h) = epoch_position(height);
    #[allow(clippy::cast_precision_loss)]
    r.add(
        Claim::derived(
            "blocks to the next retarget (height estimated from the time)",
            left as f64,
            "blocks",
            asof,
            "epoch_position",
            V,
            &[
                ("estimated_height", height.to_string()),
                ("next_retarget_height", next_h.to_string()),
            ],
            &[],
        ),
        format!(
            "{left} (≈ {:.1} days, retarget at block {next_h})",
            left as f64 / 144.0
        ),
    );

    // Puell Multiple.
    match last_data(
        &store,
        "subsidy_usd",
        "USD/day",
        asof,
        "subsidy issued (USD)",
    )? {
        Some((_, c, series)) => {
            let id = r.claims.add(c);
            match puell(&series) {
                Some(p) => {
                    r.add(
                        Claim::derived(
                            "Puell Multiple (issuance USD / 365-day mean)",
                            p.puell,
                            "ratio",
                            asof,
                            "puell",
                            V,
                            &[("day", p.day.to_string())],
                            &[&id],
                        ),
                        zone(p.puell),
                    );
                    r.add(
                        Claim::derived(
                            "Puell Multiple, halving-adjusted",
                            p.halving_adjusted,
                            "ratio",
                            asof,
                            "puell_halving_adjusted",
                            V,
                            &[("day", p.day.to_string())],
                            &[&id],
                        ),
                        zone(p.halving_adjusted),
                    );
                }
                None => r
                    .missing
                    .push("Puell: needs 365 days of subsidy in USD".into()),
            }
        }
        None => r.missing.push(
            "Puell: no subsidy in USD stored (canary network import FILE --series subsidy)".into(),
        ),
    }

    // Share of the fleet under water at the power price.
    let price = super::market::price_claim(&store, a.price, &a.symbol, asof, &mut r.claims)?;
    let fleet = (
        last_data(
            &store,
            "fleet_efficiency_lower_j_per_th",
            "J/TH",
            asof,
            "fleet efficiency, lower bound",
        )?,
        last_data(
            &store,
            "fleet_efficiency_estimate_j_per_th",
            "J/TH",
            asof,
            "fleet efficiency, estimate",
        )?,
        last_data(
            &store,
            "fleet_efficiency_upper_j_per_th",
            "J/TH",
            asof,
            "fleet efficiency, upper bound",
        )?,
    );
    match (price, &hashrate_now, fleet) {
        (Some((p, p_id)), Some((h, h_id)), (Some(lo), Some(est), Some(hi))) => {
            let sub = subsidy_btc(height);
            let hp = Hashprice::from_hashrate(h / 1e12, sub, a.fees_btc, p);
            let hp_id = r.add(
                Claim::derived("hashprice (subsidy by schedule + --fees-btc)", hp.usd_per_th_day, "USD/TH/day", asof, "hashprice", V, &[("subsidy_btc", sub.to_string()), ("fees_btc", a.fees_btc.to_string())], &[&p_id, h_id]),
                format!("${:.5}/TH/day (${:.2}/PH/day)", hp.usd_per_th_day, hp.usd_per_ph_day()),
            );
            let emax = max_profitable_efficiency(hp.usd_per_th_day, a.power, 0.0);
            let emax_id = r.add(Claim::derived("least efficient machine covering power", emax, "J/TH", asof, "max_profitable_efficiency", V, &[("power_usd_per_mwh", a.power.to_string())], &[&hp_id]), format!("{emax:.1} J/TH at ${}/MWh", a.power));
            let ids: Vec<ClaimId> = [lo.1, est.1, hi.1].into_iter().map(|c| r.claims.add(c)).collect();
            let share = share_under_water(lo.0, est.0, hi.0, emax);
            r.add(
                Claim::derived("share of the network fleet under water (triangular over the fleet-efficiency bounds)", share * 100.0, "%", asof, "share_under_water", V, &[], &[&emax_id, &ids[0], &ids[1], &ids[2]]),
                format!("{:.0}% (fleet {:.1} / {:.1} / {:.1} J/TH)", share * 100.0, lo.0, est.0, hi.0),
            );
        }
        _ => r.missing.push("fleet under water: needs a price (--price or stored daily bars), hash rate and the three fleet-efficiency series".into()),
    }
    r.claims.check().context("claims")?;

    match a.format {
        ReportFormat::Json => {
            let doc = serde_json::json!({
                "asof": asof.to_string(),
                "rows": r.rows.iter().map(|(l, s, id)| serde_json::json!({"label": l, "value": r.claims.get(id).map(|c| c.value), "reading": s, "claim": id})).collect::<Vec<_>>(),
                "missing": r.missing,
                "claims": r.claims,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        ReportFormat::Table | ReportFormat::Md => {
            let mut t = crate::output::table();
            t.set_header(["network, as of", "reading"]);
            for (l, s, _) in &r.rows {
                t.add_row([l.clone(), s.clone()]);
            }
            println!("Bitcoin network as of {asof}");
            println!("{t}");
            for m in &r.missing {
                println!("not computed: {m}");
            }
        }
    }
    Ok(())
}

fn zone(p: f64) -> String {
    if p < 0.5 {
        format!("{p:.2}: bottom zone (< 0.5)")
    } else if p > 3.0 {
        format!("{p:.2}: top zone (> 3)")
    } else {
        format!("{p:.2}")
    }
}

fn fetch(db: &Path, f: &crate::cli::NetworkFetchArgs) -> Result<()> {
    use canary_ingest::bitcoind::BitcoinRpc;
    use canary_ingest::mempool::MempoolClient;

    use crate::cli::FetchFrom;

    if !(f.timeout.is_finite() && f.timeout > 0.0) {
        anyhow::bail!(
            "--timeout must be a positive number of seconds, got {}",
            f.timeout
        );
    }
    let timeout = std::time::Duration::from_secs_f64(f.timeout);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let now = super::now();
    let day = Timeframe::D1.duration_ms();
    let mut store = Store::open(db)?;
    match &f.from {
        FetchFrom::Mempool { url, period } => {
            let c = MempoolClient::new(url, timeout);
            let (epoch, (hashrates, difficulties), blocks) = rt.block_on(async {
                Ok::<_, canary_ingest::source::SourceError>((
                    c.difficulty_adjustment().await?,
                    c.hashrate(period).await?,
                    c.blocks(None).await?,
                ))
            })?;
            let h: Vec<NetworkPoint> = hashrates
                .iter()
                .map(|x| NetworkPoint {
                    time: x.time,
                    value: x.hashrate_hs,
                    available_at: x.time.add_millis(day),
                })
                .collect();
            let d: Vec<NetworkPoint> = difficulties
                .iter()
                .map(|x| NetworkPoint {
                    time: x.time,
                    value: x.difficulty,
                    available_at: x.time,
                })
                .collect();
            let rep = store.insert_network(
                &[("mempool:hashrate_hs", &h), ("mempool:difficulty", &d)],
                url,
                now,
            )?;
            println!(
                "{url}: epoch {:.1}% done, {} blocks to the retarget at {} (≈ {}), projected {:+.2}% (previous {:+.2}%)",
                epoch.progress_pct,
                epoch.remaining_blocks,
                epoch.next_retarget_height,
                epoch.estimated_retarget,
                epoch.projected_change_pct,
                epoch.previous_change_pct
            );
            let fees: Vec<f64> = blocks.iter().filter_map(|b| b.fees_btc).collect();
            if !fees.is_empty() {
                #[allow(clippy::cast_precision_loss)]
                let mean = fees.iter().sum::<f64>() / fees.len() as f64;
                println!(
                    "fees over the last {} blocks: {mean:.4} BTC per block on average",
                    fees.len()
                );
            }
            println!(
                "stored {} new values ({} already present): mempool:hashrate_hs {} days, mempool:difficulty {} adjustments; read them with `canary network --source mempool`",
                rep.inserted,
                rep.present,
                h.len(),
                d.len()
            );
        }
        FetchFrom::Bitcoind {
            url,
            user,
            password,
        } => {
            let rpc = BitcoinRpc::new(url, user, password, timeout);
            let (tip, stats) = rt.block_on(async {
                let tip = rpc.chain_tip().await?;
                let stats = rpc.block_stats(tip.height).await?;
                Ok::<_, canary_ingest::source::SourceError>((tip, stats))
            })?;
            let t = tip.median_time.unwrap_or(stats.time);
            let mut series: Vec<(&str, Vec<NetworkPoint>)> = vec![(
                "bitcoind:difficulty",
                vec![NetworkPoint {
                    time: t,
                    value: tip.difficulty,
                    available_at: t,
                }],
            )];
            if let Some(h) = tip.hashrate_hs {
                series.push((
                    "bitcoind:hashrate_hs",
                    vec![NetworkPoint {
                        time: t,
                        value: h,
                        available_at: t,
                    }],
                ));
            }
            let refs: Vec<(&str, &[NetworkPoint])> =
                series.iter().map(|(s, p)| (*s, p.as_slice())).collect();
            let rep = store.insert_network(&refs, url, now)?;
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
