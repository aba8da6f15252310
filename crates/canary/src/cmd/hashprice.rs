//! `canary hashprice`: revenue per unit of hash rate, and each machine class's shutdown price.

use anyhow::{Result, bail};
use canary_analytics::mining::hashprice::{
    Hashprice, MACHINES, difficulty_from_hashrate, gross_margin, hashrate_from_difficulty_hs,
    max_profitable_efficiency, shutdown_price,
};
use canary_analytics::mining::protocol::{estimated_height, subsidy_btc};
use canary_model::{Claim, ClaimId, ClaimSet};

use crate::cli::{HashpriceArgs, ReportFormat};
use crate::output::human;

const V: u32 = 1;

fn input(
    claims: &mut ClaimSet,
    label: &str,
    value: f64,
    unit: &str,
    asof: canary_model::Timestamp,
    flag: &str,
) -> ClaimId {
    claims.add(Claim::derived(
        label,
        value,
        unit,
        asof,
        "user_input",
        V,
        &[("flag", flag.to_string())],
        &[],
    ))
}

pub fn run(db: &std::path::Path, a: &HashpriceArgs) -> Result<()> {
    let asof = a.asof.unwrap_or_else(super::now);
    let mut claims = ClaimSet::new();
    // Inputs not given as flags come from the store, as of the time.
    let stored = || canary_store::Store::open(db);
    let (price, price_id) =
        super::market::price_claim(&stored()?, a.price, &a.symbol, asof, &mut claims)?
            .ok_or_else(|| super::market::no_price(&a.symbol))?;
    let implied = |claims: &mut ClaimSet, d_id: ClaimId, d: f64| {
        let h = hashrate_from_difficulty_hs(d) / 1e12;
        let label = "hash rate implied by difficulty (D·2^32/600)";
        (
            h,
            claims.add(Claim::derived(
                label,
                h / 1e6,
                "EH/s",
                asof,
                "hashrate_from_difficulty",
                V,
                &[],
                &[&d_id],
            )),
        )
    };
    let (hashrate_ths, net_id) = match (a.hashrate_ehs, a.difficulty) {
        (Some(h), None) if h > 0.0 => (
            h * 1e6,
            input(
                &mut claims,
                "network hash rate",
                h,
                "EH/s",
                asof,
                "--hashrate-ehs",
            ),
        ),
        (None, Some(d)) if d > 0.0 => {
            let d_id = input(&mut claims, "difficulty", d, "", asof, "--difficulty");
            implied(&mut claims, d_id, d)
        }
        (Some(_), Some(_)) => bail!("give either --hashrate-ehs or --difficulty, not both"),
        (None, None) => {
            let store = stored()?;
            let Some(&(t, d)) = store.network("difficulty", Some(asof))?.last() else {
                bail!(
                    "no network data: give --hashrate-ehs H (EH/s) or --difficulty D, or import difficulty (canary network import FILE --series difficulty)"
                );
            };
            let d_id = claims.add(Claim::data(
                "difficulty",
                d,
                "",
                asof,
                "difficulty",
                store.network_sources("difficulty")?,
                t,
            ));
            implied(&mut claims, d_id, d)
        }
        _ => bail!("--hashrate-ehs and --difficulty must be positive"),
    };
    let (fees, fees_id) = match a.fees_btc {
        Some(f) if f.is_finite() && f >= 0.0 => (
            f,
            input(&mut claims, "fees per block", f, "BTC", asof, "--fees-btc"),
        ),
        Some(f) => bail!("--fees-btc must be ≥ 0, got {f}"),
        None => {
            let store = stored()?;
            match store.network("fees_btc", Some(asof))?.last() {
                Some(&(t, f)) => (
                    f,
                    claims.add(Claim::data(
                        "fees per block (daily average)",
                        f,
                        "BTC",
                        asof,
                        "fees_btc",
                        store.network_sources("fees_btc")?,
                        t,
                    )),
                ),
                None => (
                    0.0,
                    claims.add(Claim::derived(
                        "fees per block (none given or stored: 0 assumed)",
                        0.0,
                        "BTC",
                        asof,
                        "assumption",
                        V,
                        &[],
                        &[],
                    )),
                ),
            }
        }
    };
    let height = estimated_height(asof);
    let subsidy = subsidy_btc(height);
    let subsidy_id = claims.add(Claim::derived(
        "block subsidy (schedule at the height estimated from the time)",
        subsidy,
        "BTC",
        asof,
        "subsidy_schedule",
        V,
        &[("estimated_height", height.to_string())],
        &[],
    ));
    let h = Hashprice::from_hashrate(hashrate_ths, subsidy, fees, price);
    let ins = [&net_id, &subsidy_id, &fees_id];
    let net_btc = claims.add(Claim::derived(
        "network BTC per day (144 × reward)",
        h.network_btc_per_day,
        "BTC/day",
        asof,
        "network_btc_per_day",
        V,
        &[],
        &[&subsidy_id, &fees_id],
    ));
    let hv = claims.add(Claim::derived(
        "hashvalue",
        h.btc_per_th_day,
        "BTC/TH/day",
        asof,
        "hashvalue",
        V,
        &[],
        &ins,
    ));
    let hp = claims.add(Claim::derived(
        "hashprice",
        h.usd_per_th_day,
        "USD/TH/day",
        asof,
        "hashprice",
        V,
        &[],
        &[&hv, &price_id],
    ));
    let hp_ph = claims.add(Claim::derived(
        "hashprice",
        h.usd_per_ph_day(),
        "USD/PH/day",
        asof,
        "unit_conversion",
        V,
        &[],
        &[&hp],
    ));
    let sats = claims.add(Claim::derived(
        "hashvalue",
        h.sats_per_th_day(),
        "sats/TH/day",
        asof,
        "unit_conversion",
        V,
        &[],
        &[&hv],
    ));
    let fee_share = claims.add(Claim::derived(
        "fees' share of the reward",
        h.fee_share * 100.0,
        "%",
        asof,
        "fee_share",
        V,
        &[],
        &[&subsidy_id, &fees_id],
    ));
    let difficulty = difficulty_from_hashrate(hashrate_ths * 1e12);

    let mut rows = Vec::new();
    for &power in &a.power {
        let power_id = input(
            &mut claims,
            "power price",
            power,
            "USD/MWh",
            asof,
            "--power",
        );
        let emax = max_profitable_efficiency(h.usd_per_th_day, power, 0.0);
        let emax_id = claims.add(Claim::derived(
            "least efficient machine covering power",
            emax,
            "J/TH",
            asof,
            "max_profitable_efficiency",
            V,
            &[],
            &[&hp, &power_id],
        ));
        for m in &MACHINES {
            let s = shutdown_price(m.efficiency_j_per_th, power, h.btc_per_th_day, 0.0);
            let g = gross_margin(m.efficiency_j_per_th, power, h.usd_per_th_day, 0.0);
            let eff = params_claim(&mut claims, m.name, m.efficiency_j_per_th, m.source, asof);
            let sid = claims.add(Claim::derived(
                format!("shutdown price, {}", m.name),
                s,
                "USD/BTC",
                asof,
                "shutdown_price",
                V,
                &[("pool_fee", "0".into())],
                &[&eff, &power_id, &hv],
            ));
            let gid = claims.add(Claim::derived(
                format!("gross margin on power, {}", m.name),
                g * 100.0,
                "%",
                asof,
                "gross_margin",
                V,
                &[],
                &[&eff, &power_id, &hp],
            ));
            rows.push((
                power,
                m.name,
                m.efficiency_j_per_th,
                s,
                g * 100.0,
                sid,
                gid,
                emax,
                emax_id.clone(),
            ));
        }
    }
    claims.check()?;

    match a.format {
        ReportFormat::Json => {
            let doc = serde_json::json!({
                "asof": asof.to_string(),
                "price_usd": price,
                "network_hashrate_ehs": hashrate_ths / 1e6,
                "difficulty": difficulty,
                "subsidy_btc": subsidy,
                "fees_btc": fees,
                "network_btc_per_day": h.network_btc_per_day, "network_btc_per_day_claim": net_btc,
                "hashvalue_btc_per_th_day": h.btc_per_th_day, "hashvalue_claim": hv,
                "hashvalue_sats_per_th_day": h.sats_per_th_day(), "hashvalue_sats_claim": sats,
                "hashprice_usd_per_th_day": h.usd_per_th_day, "hashprice_claim": hp,
                "hashprice_usd_per_ph_day": h.usd_per_ph_day(), "hashprice_ph_claim": hp_ph,
                "fee_share_pct": h.fee_share * 100.0, "fee_share_claim": fee_share,
                "machines": rows.iter().map(|r| serde_json::json!({
                    "power_usd_per_mwh": r.0, "machine": r.1, "efficiency_j_per_th": r.2,
                    "shutdown_price_usd": r.3, "shutdown_price_claim": r.5,
                    "gross_margin_pct": r.4, "gross_margin_claim": r.6,
                    "max_profitable_efficiency_j_per_th": r.7, "max_profitable_efficiency_claim": r.8,
                })).collect::<Vec<_>>(),
                "claims": claims,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        ReportFormat::Table | ReportFormat::Md => {
            println!(
                "At ${} and {:.1} EH/s (difficulty {:.4e}), reward {} + {} BTC fees per block ({:.2} BTC/day for the network):",
                human(price),
                hashrate_ths / 1e6,
                difficulty,
                subsidy,
                fees,
                h.network_btc_per_day
            );
            println!(
                "hashprice ${:.5}/TH/day = ${:.2}/PH/day; hashvalue {:.4e} BTC = {:.2} sats /TH/day; fees {:.2}% of the reward",
                h.usd_per_th_day,
                h.usd_per_ph_day(),
                h.btc_per_th_day,
                h.sats_per_th_day(),
                h.fee_share * 100.0
            );
            let mut t = crate::output::table();
            t.set_header([
                "power $/MWh",
                "machine",
                "J/TH",
                "shutdown price",
                "gross margin now",
                "break-even J/TH",
            ]);
            for r in &rows {
                t.add_row([
                    format!("{}", r.0),
                    r.1.to_string(),
                    format!("{}", r.2),
                    format!("${}", human(r.3)),
                    format!("{:+.1}%", r.4),
                    format!("{:.1}", r.7),
                ]);
            }
            println!("{t}");
        }
    }
    Ok(())
}

fn params_claim(
    claims: &mut ClaimSet,
    name: &str,
    eff: f64,
    source: &str,
    asof: canary_model::Timestamp,
) -> ClaimId {
    claims.add(Claim::derived(
        format!("efficiency, {name}"),
        eff,
        "J/TH",
        asof,
        "machine_catalogue",
        V,
        &[("source", source.to_string())],
        &[],
    ))
}
