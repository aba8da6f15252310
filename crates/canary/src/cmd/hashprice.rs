//! `canary hashprice`: render the engine's hashprice and machine table.

use anyhow::Result;
use canary_engine::HashpriceParams;
use canary_engine::Session;

use crate::cli::{HashpriceArgs, OutputFormat};
use crate::output::{human, preamble, print_json};

pub fn run(session: &Session, a: &HashpriceArgs) -> Result<()> {
    let p = HashpriceParams {
        price: a.value.price.into(),
        symbol: a.value.symbol.clone(),
        hashrate_ehs: a.hashrate_ehs,
        difficulty: a.difficulty,
        fees_btc: a.fees_btc,
        power_usd_per_mwh: a.power.clone(),
    };
    let r =
        super::with_context_or_none(session, a.at.asof, |ctx| canary_engine::hashprice(ctx, &p))?;
    if a.format == OutputFormat::Json {
        return print_json(&r);
    }
    preamble(&r);
    let b = &r.body;
    println!(
        "At ${} and {:.1} EH/s (difficulty {:.4e}), reward {} + {} BTC fees per block ({:.2} BTC/day for the network):",
        human(b.price_usd),
        b.network_hashrate_ehs,
        b.difficulty,
        b.subsidy_btc,
        b.fees_btc,
        b.network_btc_per_day
    );
    println!(
        "hashprice ${:.5}/TH/day = ${:.2}/PH/day; hashvalue {:.4e} BTC = {:.2} sats /TH/day; fees {:.2}% of the reward",
        b.hashprice_usd_per_th_day,
        b.hashprice_usd_per_ph_day,
        b.hashvalue_btc_per_th_day,
        b.hashvalue_sats_per_th_day,
        b.fee_share_pct
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
    for m in &b.machines {
        t.add_row([
            format!("{}", m.power_usd_per_mwh),
            m.machine.clone(),
            format!("{}", m.efficiency_j_per_th),
            format!("${}", human(m.shutdown_price_usd)),
            format!("{:+.1}%", m.gross_margin_pct),
            format!("{:.1}", m.max_profitable_efficiency_j_per_th),
        ]);
    }
    println!("{t}");
    Ok(())
}
