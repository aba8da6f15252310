//! `canary miners` and `canary treasury`: the companies of `miners.toml` under price
//! scenarios — cost per BTC, cash break-even, margin, debt coverage, runway, forced selling.
//! Every figure is a claim whose inputs are the company's cited facts; a figure whose inputs
//! are missing says which.

use std::path::Path;

use anyhow::{Result, anyhow};
use canary_analytics::mining::protocol::{estimated_height, subsidy_btc};
use canary_analytics::treasury::{Basis, Company, Figure, NetworkState, margin};
use canary_model::{Claim, ClaimId, ClaimSet, Timestamp};
use canary_store::Store;

use crate::cli::{MinersArgs, TableFormat, TreasuryArgs};
use crate::output::human;
use crate::profiles::{self, Profile};

const V: u32 = 1;

/// The price to evaluate at: the flag, or the stored daily close as of the time.
fn price(
    db: &Path,
    flag: Option<f64>,
    symbol: &canary_model::Symbol,
    asof: Timestamp,
    claims: &mut ClaimSet,
) -> Result<(f64, ClaimId)> {
    let store = Store::open(db)?;
    super::market::price_claim(&store, flag, symbol, asof, claims)?
        .ok_or_else(|| super::market::no_price(symbol))
}

/// The network for production estimates: 7-day mean hash rate as of the time, if stored.
fn network(db: &Path, asof: Timestamp) -> Option<NetworkState> {
    let store = Store::open(db).ok()?;
    let h = store.network("hashrate_hs", Some(asof)).ok()?;
    let week = &h[h.len().checked_sub(7)?..];
    #[allow(clippy::cast_precision_loss)]
    let mean = week.iter().map(|x| x.1).sum::<f64>() / week.len() as f64;
    Some(NetworkState {
        hashrate_ths: mean / 1e12,
        reward_btc: subsidy_btc(estimated_height(asof)),
    })
}

/// Render a figure for a table cell; missing inputs are listed under the table.
fn show(f: &Figure, fmt: impl Fn(f64) -> String) -> String {
    match f {
        Figure::Value(v) if v.is_infinite() => "self-funding".into(),
        Figure::Value(v) => fmt(*v),
        Figure::Missing(_) => "n/a".into(),
    }
}

/// The missing inputs behind a company's "n/a" cells, once each.
fn missing_note(ticker: &str, figures: &[&Figure]) -> Option<String> {
    let mut all: Vec<&str> = Vec::new();
    for f in figures {
        if let Figure::Missing(m) = f {
            for x in m {
                if !all.contains(x) {
                    all.push(x);
                }
            }
        }
    }
    (!all.is_empty()).then(|| format!("{ticker}: n/a for want of {}", all.join(", ")))
}

fn figure_json(f: &Figure, claim: Option<&ClaimId>) -> serde_json::Value {
    match f {
        Figure::Value(v) if v.is_finite() => serde_json::json!({"value": v, "claim": claim}),
        Figure::Value(_) => {
            serde_json::json!({"value": null, "self_funding": true, "claim": claim})
        }
        Figure::Missing(m) => serde_json::json!({"value": null, "missing": m}),
    }
}

/// A claim for a computed figure (none when it is missing).
fn claim(
    claims: &mut ClaimSet,
    f: &Figure,
    label: String,
    unit: &str,
    asof: Timestamp,
    method: &str,
    inputs: &[ClaimId],
) -> Option<ClaimId> {
    let v = f.value().filter(|v| v.is_finite())?;
    let refs: Vec<&ClaimId> = inputs.iter().collect();
    Some(claims.add(Claim::derived(label, v, unit, asof, method, V, &[], &refs)))
}

/// One figure of a scenario: key, value, claim.
type ScenarioValue = (&'static str, Figure, Option<ClaimId>);

struct Row {
    ticker: String,
    company: Company,
    figures: Vec<(&'static str, String, Figure, &'static str, Option<ClaimId>)>,
    scenarios: Vec<(f64, Vec<ScenarioValue>)>,
}

// The arguments are the evaluation's whole context; a struct would only rename them.
#[allow(clippy::too_many_lines, clippy::too_many_arguments)]
fn evaluate(
    ticker: &str,
    p: &Profile,
    price: f64,
    price_id: &ClaimId,
    scenarios: &[f64],
    net: Option<&NetworkState>,
    asof: Timestamp,
    claims: &mut ClaimSet,
) -> Row {
    let c = p.company(ticker);
    let miner = p.kind == profiles::Kind::Miner;
    let mut inputs: Vec<ClaimId> = p
        .claims(ticker, asof)
        .into_iter()
        .map(|x| claims.add(x))
        .collect();
    let facts = inputs.clone();
    inputs.push(price_id.clone());
    let (power, pb) = c.power_cost_per_btc(net);
    let (cash_be, cb) = c.cash_break_even(net);
    let basis = |b: Basis| {
        if b == Basis::Reported {
            "reported"
        } else {
            "computed"
        }
    };
    let m = margin(&cash_be, price);
    let cov_g = c.coverage_price_gross();
    let cov_n = c.coverage_price_net();
    let runway = c.runway_months(price, 0.10, net);
    let (sell, ratio) = c.forced_selling(price, net);
    let mut figures = Vec::new();
    for (key, label, f, unit, method, with_price) in [
        (
            "power_cost_per_btc",
            format!("{ticker} power cost per BTC ({})", basis(pb)),
            power,
            "USD/BTC",
            "power_cost_per_btc",
            false,
        ),
        (
            "cash_break_even",
            format!("{ticker} cash break-even ({})", basis(cb)),
            cash_be.clone(),
            "USD/BTC",
            "cash_break_even",
            false,
        ),
        (
            "margin",
            format!("{ticker} cash margin at {price}"),
            m.map_pct(),
            "%",
            "margin",
            true,
        ),
        (
            "coverage_price_gross",
            format!("{ticker} debt-coverage price, gross"),
            cov_g,
            "USD/BTC",
            "coverage_price_gross",
            false,
        ),
        (
            "coverage_price_net",
            format!("{ticker} debt-coverage price, net of cash"),
            cov_n,
            "USD/BTC",
            "coverage_price_net",
            false,
        ),
        (
            "runway_months",
            format!("{ticker} liquidity runway at {price} (10% haircut)"),
            runway,
            "months",
            "runway",
            true,
        ),
        (
            "forced_selling_btc_per_month",
            format!("{ticker} BTC to sell per month at {price}"),
            sell,
            "BTC/month",
            "forced_selling",
            true,
        ),
        (
            "sell_ratio",
            format!("{ticker} BTC sold / mined at {price}"),
            ratio,
            "ratio",
            "sell_ratio",
            true,
        ),
    ] {
        if !miner && !key.starts_with("coverage") {
            continue; // production and cost figures do not apply to a treasury company
        }
        let ins = if with_price { &inputs } else { &facts };
        let id = claim(claims, &f, label.clone(), unit, asof, method, ins);
        figures.push((key, label, f, unit, id));
    }
    let scen = scenarios
        .iter()
        .map(|&sp| {
            let sid = claims.add(Claim::derived(
                "scenario price",
                sp,
                "USD",
                asof,
                "scenario",
                V,
                &[],
                &[price_id],
            ));
            let mut ins = facts.clone();
            ins.push(sid);
            let vals = [
                ("margin", margin(&cash_be, sp).map_pct(), "%"),
                ("coverage_ratio", c.coverage_ratio(sp), "×"),
                ("runway_months", c.runway_months(sp, 0.10, net), "months"),
                (
                    "forced_selling_btc_per_month",
                    c.forced_selling(sp, net).0,
                    "BTC/month",
                ),
            ];
            let vals = vals
                .into_iter()
                .filter(|(k, _, _)| miner || *k == "coverage_ratio")
                .map(|(k, f, unit)| {
                    let id = claim(
                        claims,
                        &f,
                        format!("{ticker} {k} at {sp}"),
                        unit,
                        asof,
                        k,
                        &ins,
                    );
                    (k, f, id)
                })
                .collect();
            (sp, vals)
        })
        .collect();
    Row {
        ticker: ticker.to_string(),
        company: c,
        figures,
        scenarios: scen,
    }
}

impl Row {
    fn figure(&self, key: &str) -> Option<(&Figure, Option<&ClaimId>)> {
        self.figures
            .iter()
            .find(|f| f.0 == key)
            .map(|f| (&f.2, f.4.as_ref()))
    }
}

/// A scenario value by key.
fn scen_value<'a>(
    vals: &'a [(&'static str, Figure, Option<ClaimId>)],
    key: &str,
    na: &'a Figure,
) -> &'a Figure {
    vals.iter().find(|v| v.0 == key).map_or(na, |v| &v.1)
}

trait Pct {
    fn map_pct(self) -> Figure;
}

impl Pct for Figure {
    fn map_pct(self) -> Figure {
        match self {
            Figure::Value(v) => Figure::Value(v * 100.0),
            m => m,
        }
    }
}

fn scenario_prices(spot: f64, extra: &[f64]) -> Vec<f64> {
    let mut v = vec![spot, (spot * 0.9).round(), (spot * 0.8).round()];
    v.extend_from_slice(extra);
    v
}

pub fn run_miners(db: &Path, a: &MinersArgs) -> Result<()> {
    let asof = a.asof.unwrap_or_else(super::now);
    let (profiles, origin) = profiles::load(a.profiles.as_deref())?;
    let mut claims = ClaimSet::new();
    let (p, p_id) = price(db, a.price, &a.symbol, asof, &mut claims)?;
    let net = network(db, asof);
    let scen = scenario_prices(p, &a.scenarios);
    let rows: Vec<Row> = profiles
        .iter()
        .map(|(t, pr)| evaluate(t, pr, p, &p_id, &scen, net.as_ref(), asof, &mut claims))
        .collect();
    claims.check()?;
    match a.format {
        TableFormat::Json => {
            let doc = serde_json::json!({
                "asof": asof.to_string(), "price": p, "price_claim": p_id, "profiles": origin, "scenarios": scen,
                "companies": rows.iter().map(|r| {
                    let mut m = serde_json::Map::new();
                    m.insert("ticker".into(), r.ticker.clone().into());
                    m.insert("name".into(), r.company.name.clone().into());
                    for (k, _, f, _, id) in &r.figures {
                        m.insert((*k).into(), figure_json(f, id.as_ref()));
                    }
                    m.insert("scenarios".into(), r.scenarios.iter().map(|(sp, vals)| {
                        let mut s = serde_json::Map::new();
                        s.insert("price".into(), (*sp).into());
                        for (k, f, id) in vals { s.insert((*k).into(), figure_json(f, id.as_ref())); }
                        serde_json::Value::Object(s)
                    }).collect::<Vec<_>>().into());
                    serde_json::Value::Object(m)
                }).collect::<Vec<_>>(),
                "claims": claims,
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        TableFormat::Csv => {
            println!(
                "ticker,{}",
                rows[0]
                    .figures
                    .iter()
                    .map(|f| f.0)
                    .collect::<Vec<_>>()
                    .join(",")
            );
            for r in &rows {
                let cells: Vec<String> = r
                    .figures
                    .iter()
                    .map(|f| {
                        f.2.value()
                            .filter(|v| v.is_finite())
                            .map(|v| v.to_string())
                            .unwrap_or_default()
                    })
                    .collect();
                println!("{},{}", r.ticker, cells.join(","));
            }
        }
        TableFormat::Table => {
            println!(
                "Miners and treasury companies at ${} ({origin}, as of {asof})",
                human(p)
            );
            let mut t = crate::output::table();
            t.set_header([
                "ticker",
                "power cost/BTC",
                "cash break-even",
                "margin",
                "coverage net",
                "runway",
                "sell BTC/mo",
            ]);
            for r in &rows {
                let na = Figure::Missing(vec![]);
                let f = |k: &str| r.figures.iter().find(|x| x.0 == k).map_or(&na, |x| &x.2);
                t.add_row([
                    r.ticker.clone(),
                    show(f("power_cost_per_btc"), |v| format!("${}", human(v))),
                    show(f("cash_break_even"), |v| format!("${}", human(v))),
                    show(f("margin"), |v| format!("{v:+.1}%")),
                    show(f("coverage_price_net"), |v| format!("${}", human(v))),
                    show(f("runway_months"), |v| format!("{v:.1} mo")),
                    show(f("forced_selling_btc_per_month"), |v| format!("{v:.0}")),
                ]);
            }
            println!("{t}");
            for r in &rows {
                let figs: Vec<&Figure> = r.figures.iter().map(|f| &f.2).collect();
                if let Some(n) = missing_note(&r.ticker, &figs) {
                    println!("{n}");
                }
            }
            println!(
                "Treasury companies show debt coverage only. Reported costs are the companies' own (or analysts'); --format json has every source. Add missing figures to miners.toml."
            );
            let mut s = crate::output::table();
            let mut header = vec!["cash margin at".to_string()];
            header.extend(scen.iter().map(|x| format!("${}", human(*x))));
            s.set_header(header);
            for r in &rows {
                let mut row = vec![r.ticker.clone()];
                let na = Figure::Missing(vec![]);
                row.extend(r.scenarios.iter().map(|(_, vals)| {
                    show(scen_value(vals, "margin", &na), |v| format!("{v:+.1}%"))
                }));
                s.add_row(row);
            }
            println!("{s}");
        }
    }
    Ok(())
}

pub fn run_treasury(db: &Path, a: &TreasuryArgs) -> Result<()> {
    let asof = a.asof.unwrap_or_else(super::now);
    let (profiles, origin) = profiles::load(a.profiles.as_deref())?;
    let mut claims = ClaimSet::new();
    let (p, p_id) = price(db, a.price, &a.symbol, asof, &mut claims)?;
    let selected: Vec<(&String, &Profile)> = match &a.company {
        Some(t) => {
            let t = t.to_ascii_uppercase();
            let (k, v) = profiles.get_key_value(&t).ok_or_else(|| {
                anyhow!(
                    "no company {t} in {origin}; known: {}",
                    profiles.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            })?;
            vec![(k, v)]
        }
        None => profiles
            .iter()
            .filter(|(_, v)| v.facts.btc_held.is_some())
            .collect(),
    };
    let mut docs = Vec::new();
    for (t, pr) in selected {
        let c = pr.company(t);
        let cov = c.coverage_price_net();
        let mut scen = scenario_prices(p, &[58_000.0, 52_000.0]);
        if let Some(v) = cov.value().filter(|v| *v > 0.0) {
            scen.push(v.round());
        }
        let row = evaluate(t, pr, p, &p_id, &scen, None, asof, &mut claims);
        if a.format == TableFormat::Table {
            println!("\n{t} — {} ({origin})", pr.name);
            for (key, f) in pr.facts.iter() {
                println!(
                    "  {key} = {} ({}; {})",
                    human(f.value),
                    f.period_end,
                    f.source
                );
            }
            if !pr.debt.is_empty() {
                let mut d = crate::output::table();
                d.set_header([
                    "debt",
                    "principal",
                    "coupon",
                    "maturity",
                    "conversion price",
                ]);
                for x in &pr.debt {
                    d.add_row([
                        x.name.clone(),
                        format!("${}", human(x.principal_usd)),
                        x.coupon_pct
                            .map_or("not reported".into(), |c| format!("{c}%")),
                        x.maturity.clone().unwrap_or_else(|| "not reported".into()),
                        x.conversion_price_usd
                            .map_or(String::new(), |c| format!("${c}")),
                    ]);
                }
                println!("{d}");
            }
            let na = Figure::Missing(vec![]);
            let f = |k: &str| row.figures.iter().find(|x| x.0 == k).map_or(&na, |x| &x.2);
            println!(
                "  debt-coverage price: gross {}, net of cash {}",
                show(f("coverage_price_gross"), |v| format!("${}", human(v))),
                show(f("coverage_price_net"), |v| format!("${}", human(v)))
            );
            let mut s = crate::output::table();
            s.set_header([
                "BTC price",
                "coverage ratio",
                "cash margin",
                "runway",
                "sell BTC/mo",
            ]);
            for (sp, vals) in &row.scenarios {
                s.add_row([
                    format!("${}", human(*sp)),
                    show(scen_value(vals, "coverage_ratio", &na), |v| {
                        format!("{v:.2}×")
                    }),
                    show(scen_value(vals, "margin", &na), |v| format!("{v:+.1}%")),
                    show(scen_value(vals, "runway_months", &na), |v| {
                        format!("{v:.1} mo")
                    }),
                    show(scen_value(vals, "forced_selling_btc_per_month", &na), |v| {
                        format!("{v:.0}")
                    }),
                ]);
            }
            println!("{s}");
            let figs: Vec<&Figure> = row
                .scenarios
                .iter()
                .flat_map(|(_, v)| v.iter().map(|x| &x.1))
                .collect();
            if let Some(n) = missing_note(t, &figs) {
                println!("{n}");
            }
        } else {
            docs.push(serde_json::json!({
                "ticker": t, "name": pr.name,
                "debt": pr.debt.iter().map(|d| serde_json::json!({"name": d.name, "principal_usd": d.principal_usd, "coupon_pct": d.coupon_pct, "maturity": d.maturity, "conversion_price_usd": d.conversion_price_usd, "period_end": d.period_end, "source": d.source})).collect::<Vec<_>>(),
                "coverage_price_gross": row.figure("coverage_price_gross").map(|(f, id)| figure_json(f, id)),
                "coverage_price_net": row.figure("coverage_price_net").map(|(f, id)| figure_json(f, id)),
                "scenarios": row.scenarios.iter().map(|(sp, vals)| {
                    let mut s = serde_json::Map::new();
                    s.insert("price".into(), (*sp).into());
                    for (k, f, id) in vals { s.insert((*k).into(), figure_json(f, id.as_ref())); }
                    serde_json::Value::Object(s)
                }).collect::<Vec<_>>(),
            }));
        }
    }
    claims.check()?;
    if a.format != TableFormat::Table {
        let doc = serde_json::json!({"asof": asof.to_string(), "price": p, "companies": docs, "claims": claims});
        println!("{}", serde_json::to_string_pretty(&doc)?);
    }
    Ok(())
}
