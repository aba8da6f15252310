//! `canary miners` and `canary treasury`: render the engine's company reports. The company
//! figures come from a facts file (`--profiles`, else `./miners.toml`, else the built-in
//! copy), each read as published by the as-of time.

use canary_analytics::treasury::IMPLAUSIBLE_MULTIPLE;
use canary_engine::Session;
use std::path::Path;

use anyhow::Result;
use canary_analytics::treasury::Figure;
use canary_engine::facts::Profiles;
use canary_engine::{CompanyBody, FigureRow, MinersParams, TreasuryParams};

use crate::cli::{MinersArgs, OutputFormat, TreasuryArgs};
use crate::output::{human, preamble, print_json, sim_tag};

/// The facts file: the given one, else `./miners.toml`, else the built-in copy.
pub(super) fn profiles(path: Option<&Path>) -> Result<Profiles> {
    let default = Path::new("miners.toml");
    Ok(match path.or_else(|| default.exists().then_some(default)) {
        Some(p) => Profiles::read(p)?,
        None => Profiles::built_in()?,
    })
}

/// A figure for a table cell; missing inputs are listed under the table.
fn show(f: Option<&FigureRow>, fmt: impl Fn(f64) -> String) -> String {
    match f.map(|f| &f.figure) {
        Some(Figure::Value(v)) if v.is_infinite() => "self-funding".into(),
        Some(Figure::Value(v)) => fmt(*v),
        _ => "n/a".into(),
    }
}

/// The missing inputs behind a company's "n/a" cells, once each.
fn missing_note<'a>(ticker: &str, figures: impl Iterator<Item = &'a FigureRow>) -> Option<String> {
    let mut all: Vec<&str> = Vec::new();
    for f in figures {
        if let Figure::Missing(m) = &f.figure {
            for x in m {
                if !all.contains(x) {
                    all.push(x);
                }
            }
        }
    }
    (!all.is_empty()).then(|| {
        format!(
            "{ticker}: n/a without {} (not in the facts file as of the time)",
            all.join("; ")
        )
    })
}

fn usd(v: f64) -> String {
    format!("${}", human(v))
}

pub fn run_miners(session: &Session, a: &MinersArgs) -> Result<()> {
    let profiles = profiles(a.profiles.as_deref())?;
    let p = MinersParams {
        price: a.value.price.into(),
        symbol: a.value.symbol.clone(),
        scenarios: a.scenarios.clone(),
    };
    let r = super::with_facts(session, a.at.asof, &profiles, |ctx| {
        canary_engine::miners(ctx, &p)
    })?;
    let companies = &r.body.companies;
    match a.format {
        OutputFormat::Json => print_json(&r)?,
        OutputFormat::Csv => {
            preamble_csv(&r);
            let keys: Vec<&str> = companies
                .iter()
                .find(|c| c.figures.len() > 2)
                .map(|c| c.figures.iter().map(|f| f.key).collect())
                .unwrap_or_default();
            println!("ticker,{}", keys.join(","));
            for c in companies {
                let cells: Vec<String> = keys
                    .iter()
                    .map(|k| {
                        c.figure(k)
                            .and_then(|f| f.figure.value())
                            .filter(|v| v.is_finite())
                            .map(|v| v.to_string())
                            .unwrap_or_default()
                    })
                    .collect();
                println!("{},{}", c.ticker, cells.join(","));
            }
        }
        OutputFormat::Table => {
            preamble(&r);
            println!(
                "Miners and treasury companies at ${} ({}, as of {}){}",
                human(r.body.price),
                r.body.profiles,
                r.as_of,
                sim_tag(&r)
            );
            let mut t = crate::output::table();
            t.set_header([
                "ticker",
                "power cost/BTC",
                "cash break-even",
                "estimate",
                "margin",
                "coverage net",
                "runway",
                "sell BTC/mo",
            ]);
            for c in companies {
                t.add_row([
                    c.ticker.clone(),
                    show(c.figure("power_cost_per_btc"), usd),
                    show(c.figure("cash_break_even"), usd),
                    show(c.figure("cash_break_even_estimate"), usd),
                    show(c.figure("margin"), |v| format!("{v:+.1}%")),
                    show(c.figure("coverage_price_net"), |v| {
                        if v > IMPLAUSIBLE_MULTIPLE * r.body.price {
                            format!("n/m ({})", usd(v))
                        } else {
                            usd(v)
                        }
                    }),
                    show(c.figure("runway_months"), |v| format!("{v:.1} mo")),
                    show(c.figure("forced_selling_btc_per_month"), |v| {
                        format!("{v:.0}")
                    }),
                ]);
            }
            println!("{t}");
            for c in companies {
                if let Some(n) = missing_note(&c.ticker, c.figures.iter()) {
                    println!("{n}");
                }
            }
            println!(
                "Treasury companies show debt coverage only. Reported costs are the companies' own (or analysts'); --format json has every source and publication date. Add missing figures to miners.toml."
            );
            println!(
                "estimate: the cash cost per BTC from what each miner reports, missing inputs replaced by the network fleet's efficiency, the peers' median power price and a 95% industry uptime, and a floor where cost lines are not reported (each named in --format json). n/m: a coverage price over {IMPLAUSIBLE_MULTIPLE}× the price, where the BTC held is too small against the debt for the figure to mean anything."
            );
            let mut s = crate::output::table();
            let mut header = vec!["cash margin at".to_string()];
            if let Some(c) = companies.first() {
                header.extend(c.scenarios.iter().map(|x| usd(x.price)));
            }
            s.set_header(header);
            for c in companies {
                let mut row = vec![c.ticker.clone()];
                row.extend(
                    c.scenarios
                        .iter()
                        .map(|sc| show(sc.get("margin"), |v| format!("{v:+.1}%"))),
                );
                s.add_row(row);
            }
            println!("{s}");
        }
        f @ (OutputFormat::Md | OutputFormat::Html) => return Err(f.unavailable()),
    }
    Ok(())
}

/// CSV carries no banner lines on standard output: warnings go to standard error.
fn preamble_csv<B>(r: &canary_engine::Report<B>) {
    if r.simulated {
        crate::output::banner();
    }
    for w in &r.warnings {
        eprintln!("WARNING {w}");
    }
}

fn print_company(c: &CompanyBody, origin: &str) {
    println!("\n{} — {} ({origin})", c.ticker, c.name);
    for f in &c.facts {
        println!(
            "  {} = {} ({}; {}; {} {})",
            f.key,
            human(f.value),
            &f.period_end.to_string()[..10],
            f.source,
            if f.published_assumed {
                "taken as public"
            } else {
                "published"
            },
            &f.published_at.to_string()[..10],
        );
    }
    if !c.debt.is_empty() {
        let mut d = crate::output::table();
        d.set_header([
            "debt",
            "principal",
            "coupon",
            "maturity",
            "conversion price",
            "as reported",
        ]);
        for x in &c.debt {
            d.add_row([
                x.name.clone(),
                usd(x.principal_usd),
                x.coupon_pct
                    .map_or("not reported".into(), |c| format!("{c}%")),
                x.maturity.clone().unwrap_or_else(|| "not reported".into()),
                x.conversion_price_usd
                    .map_or(String::new(), |c| format!("${c}")),
                x.period_end.to_string()[..10].to_string(),
            ]);
        }
        println!("{d}");
    }
    println!(
        "  debt-coverage price: gross {}, net of cash {}",
        show(c.figure("coverage_price_gross"), usd),
        show(c.figure("coverage_price_net"), usd)
    );
    let mut s = crate::output::table();
    s.set_header([
        "BTC price",
        "coverage ratio",
        "cash margin",
        "runway",
        "sell BTC/mo",
    ]);
    for sc in &c.scenarios {
        s.add_row([
            usd(sc.price),
            show(sc.get("coverage_ratio"), |v| format!("{v:.2}×")),
            show(sc.get("margin"), |v| format!("{v:+.1}%")),
            show(sc.get("runway_months"), |v| format!("{v:.1} mo")),
            show(sc.get("forced_selling_btc_per_month"), |v| {
                format!("{v:.0}")
            }),
        ]);
    }
    println!("{s}");
    if let Some(n) = missing_note(&c.ticker, c.scenarios.iter().flat_map(|s| s.figures.iter())) {
        println!("{n}");
    }
}

pub fn run_treasury(session: &Session, a: &TreasuryArgs) -> Result<()> {
    let profiles = profiles(a.profiles.as_deref())?;
    let p = TreasuryParams {
        price: a.value.price.into(),
        symbol: a.value.symbol.clone(),
        company: a.company.clone(),
        scenarios: vec![58_000.0, 52_000.0],
    };
    let r = super::with_facts(session, a.at.asof, &profiles, |ctx| {
        canary_engine::treasury(ctx, &p)
    })?;
    if a.format != OutputFormat::Table {
        return print_json(&r);
    }
    preamble(&r);
    println!(
        "Treasury view at ${}, as of {}{}",
        human(r.body.price),
        r.as_of,
        sim_tag(&r)
    );
    for c in &r.body.companies {
        print_company(c, &r.body.profiles);
    }
    Ok(())
}
