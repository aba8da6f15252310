//! `canary derivatives`: derivatives files imported (the engine's `jobs::derivatives`), and the
//! engine's derivatives report rendered.

use anyhow::Result;
use canary_engine::Session;
use canary_engine::Valued;
use canary_engine::jobs::derivatives::DerivativesFile;
use canary_engine::{DerivativesParams, derivatives};
use canary_ingest::csv::TimeRange;
use canary_ingest::derivatives::DerivOptions;

use crate::cli::{
    DerivativesArgs, DerivativesCommand, DerivativesImportArgs, DerivativesMapArgs, OutputFormat,
};
use crate::output::{preamble, print_json, sim_tag};

pub fn run(session: &Session, a: &DerivativesArgs) -> Result<()> {
    match &a.command {
        Some(DerivativesCommand::Import(i)) => import(session, i),
        Some(DerivativesCommand::Map(m)) => map(session, m),
        None => report(session, a),
    }
}

fn span(first: Option<canary_model::Timestamp>, last: Option<canary_model::Timestamp>) -> String {
    match (first, last) {
        (Some(f), Some(l)) => format!("{f} → {l}"),
        _ => "empty".into(),
    }
}

fn import(session: &Session, a: &DerivativesImportArgs) -> Result<()> {
    let many = super::import::Files {
        count: a.files.len(),
        source: a.source.as_deref(),
        dry_run: a.dry_run,
        strict: a.strict,
    };
    many.check()?;
    let opts = DerivOptions {
        kind: a.kind,
        market: a.market.clone(),
        venues: a.venues.clone(),
        interval: a.interval,
        map: super::column_map(a.map.as_deref())?,
        range: TimeRange {
            earliest: a.earliest,
            now: Some(session.now()),
        },
    };
    // Every file read and checked before any is stored.
    let mut files = Vec::with_capacity(a.files.len());
    for path in &a.files {
        files.push(DerivativesFile::read(path, &opts).map_err(super::ingest_hint)?);
    }
    many.store_each(
        session,
        &files,
        |f| {
            println!("{} ({}):", f.path().display(), f.layout().name());
            for s in f.series() {
                println!(
                    "  {}: {} values, {}",
                    s.series,
                    s.values,
                    span(s.first, s.last)
                );
            }
            for n in f.notes() {
                println!("  note: {n}");
            }
        },
        DerivativesFile::store,
    )
}

fn pct(v: &Valued, decimals: usize) -> String {
    format!("{:+.*} %", decimals, v.value * 100.0)
}

fn opt(v: Option<&Valued>, f: impl Fn(&Valued) -> String) -> String {
    v.map_or_else(|| "n/a".into(), f)
}

/// `$68.22 B`, `$31.52 M`, `97,154.49`.
fn amount(v: f64, unit: &str) -> String {
    let (x, suffix) = if v >= 1e9 {
        (v / 1e9, " B")
    } else if v >= 1e6 {
        (v / 1e6, " M")
    } else if v >= 1e3 {
        (v / 1e3, " K")
    } else {
        (v, "")
    };
    if unit == "USD" {
        format!("${x:.2}{suffix}")
    } else {
        format!("{x:.2}{suffix} {unit}")
    }
}

fn stale(s: bool) -> &'static str {
    if s { " (stale)" } else { "" }
}

fn report(session: &Session, a: &DerivativesArgs) -> Result<()> {
    let p = DerivativesParams {
        market: a.market.clone(),
        symbol: a.symbol.clone(),
        only: None,
    };
    let r = super::with_context(session, a.at.asof, |ctx| derivatives(ctx, &p))?;
    match a.format {
        OutputFormat::Json => print_json(&r)?,
        OutputFormat::Table => {
            preamble(&r);
            println!("Derivatives as of {}{}", r.as_of, sim_tag(&r));
            let b = &r.body;
            if !b.funding.is_empty() {
                let mut t = crate::output::table();
                t.set_header([
                    "funding",
                    "settled",
                    "rate",
                    "annualised",
                    "z (90 d)",
                    "predicted next",
                ]);
                for f in &b.funding {
                    t.add_row([
                        format!("{}{}", f.series, stale(f.stale)),
                        f.settled_at.to_string(),
                        pct(&f.rate, 4),
                        pct(&f.annualised, 2),
                        opt(f.zscore_90d.as_ref(), |z| format!("{:+.2}", z.value)),
                        opt(f.predicted.as_ref(), |p| pct(p, 4)),
                    ]);
                }
                println!("{t}");
            }
            if !b.basis.is_empty() {
                let mut t = crate::output::table();
                t.set_header(["basis", "at", "mark", "index", "mark / index - 1"]);
                for x in &b.basis {
                    t.add_row([
                        format!("{} {}{}", x.venues, x.market, stale(x.stale)),
                        x.at.to_string(),
                        format!("{:.2}", x.mark.value),
                        format!("{:.2}", x.index.value),
                        pct(&x.basis, 3),
                    ]);
                }
                println!("{t}");
            }
            if !b.open_interest.is_empty() {
                let mut t = crate::output::table();
                t.set_header([
                    "open interest",
                    "at",
                    "value",
                    "24 h",
                    "7 d",
                    "/ market value",
                ]);
                for o in &b.open_interest {
                    t.add_row([
                        format!("{}{}", o.series, stale(o.stale)),
                        o.at.to_string(),
                        amount(o.value.value, &o.unit),
                        opt(o.change_24h.as_ref(), |v| pct(v, 1)),
                        opt(o.change_7d.as_ref(), |v| pct(v, 1)),
                        opt(o.to_market_value.as_ref(), |v| {
                            format!("{:.2} %", v.value * 100.0)
                        }),
                    ]);
                }
                println!("{t}");
            }
            if !b.liquidations.is_empty() {
                let mut t = crate::output::table();
                t.set_header([
                    "liquidations",
                    "bar",
                    "long",
                    "short",
                    "total",
                    "rank",
                    "/ OI",
                ]);
                for l in &b.liquidations {
                    t.add_row([
                        format!("{} {} {}{}", l.market, l.venues, l.interval, stale(l.stale)),
                        l.bar_open.to_string(),
                        amount(l.long_usd.value, "USD"),
                        amount(l.short_usd.value, "USD"),
                        amount(l.total_usd.value, "USD"),
                        format!(
                            "{} of {} since {}",
                            l.rank.value,
                            l.bars_in_history,
                            &l.history_since.to_string()[..10]
                        ),
                        opt(l.share_of_oi.as_ref(), |v| {
                            format!("{:.2} %", v.value * 100.0)
                        }),
                    ]);
                }
                println!("{t}");
            }
            for m in &b.missing {
                println!("not computed: {m}");
            }
        }
        f => return Err(f.unavailable()),
    }
    Ok(())
}

fn map(session: &Session, a: &DerivativesMapArgs) -> Result<()> {
    let mut params = canary_analytics::liqmap::MapParams::reference();
    if let Some(d) = a.decay_days {
        params.decay_days = d;
    }
    let p = canary_engine::LiqMapParams {
        symbol: a.symbol.clone(),
        map: params,
        shocks: a.shock.clone(),
        targets: Vec::new(),
        band_pct: u32::try_from(a.bands).unwrap_or(15),
    };
    let r = super::with_context(session, a.at.asof, |ctx| {
        canary_engine::liquidation_map(ctx, &p)
    })?;
    if a.format == OutputFormat::Json {
        return print_json(&r);
    }
    preamble(&r);
    let b = &r.body;
    println!(
        "Estimated liquidation map as of {}{}: {} and {} from {} to {} ({} bars){}",
        r.as_of,
        sim_tag(&r),
        b.oi_series,
        b.bars,
        b.from,
        b.to,
        b.steps,
        if b.stale { ", STALE" } else { "" }
    );
    println!(
        "at {:.0}: longs {} (within 5 % {}, 10 % {}), shorts {} (within 5 % {}, 10 % {})",
        b.price.value,
        amount(b.long_total.value, "USD"),
        amount(b.longs_within_5pct.value, "USD"),
        amount(b.longs_within_10pct.value, "USD"),
        amount(b.short_total.value, "USD"),
        amount(b.shorts_within_5pct.value, "USD"),
        amount(b.shorts_within_10pct.value, "USD"),
    );
    let mut t = crate::output::table();
    t.set_header(["band", "prices", "longs", "shorts", "band ", "prices "]);
    for (l, s) in b.long_bands.iter().zip(&b.short_bands) {
        t.add_row([
            format!("{:+.0}..{:+.0} %", l.from_pct, l.to_pct),
            format!("{:.0}-{:.0}", l.low, l.high),
            amount(l.usd, "USD"),
            amount(s.usd, "USD"),
            format!("{:+.0}..{:+.0} %", s.from_pct, s.to_pct),
            format!("{:.0}-{:.0}", s.low, s.high),
        ]);
    }
    println!("{t}");
    let mut t = crate::output::table();
    t.set_header([
        "scenario (not a forecast)",
        "longs crossed",
        "final price",
        "liquidated",
    ]);
    for s in &b.scenarios {
        t.add_row([
            format!("fall of {} % to {:.0}", s.shock_pct, s.shocked_price),
            amount(s.crossed_by_shock.value, "USD"),
            format!(
                "{:.0} to {:.0}",
                s.final_price_low.value, s.final_price_high.value
            ),
            format!(
                "{} to {}",
                amount(s.liquidated_low, "USD"),
                amount(s.liquidated_high, "USD")
            ),
        ]);
    }
    println!("{t}");
    println!(
        "Cascades range over absorption of 0 to 30 % and the {}. {}",
        b.impact.note, b.note
    );
    Ok(())
}

pub fn scenario(session: &Session, a: &crate::cli::ScenarioArgs) -> Result<()> {
    let p = canary_engine::ScenarioParams {
        symbol: a.symbol.clone(),
        price: a.price,
    };
    let profiles = super::miners::profiles(a.profiles.as_deref())?;
    let r = super::with_facts(session, a.at.asof, &profiles, |ctx| {
        canary_engine::scenario(ctx, &p)
    })?;
    if a.format == OutputFormat::Json {
        return print_json(&r);
    }
    preamble(&r);
    let b = &r.body;
    println!(
        "Scenario: BTC at {:.0}, as of {}{}",
        b.price.value,
        r.as_of,
        sim_tag(&r)
    );
    let mut t = crate::output::table();
    t.set_header(["at this price", "what", "detail"]);
    match (&b.liquidations, &b.liquidations_missing) {
        (Some(l), _) => {
            let cascade = match (&l.cascade_low, &l.cascade_high) {
                (Some(lo), Some(hi)) => format!(
                    "; the forced selling could take it to {:.0}-{:.0} (scenario over assumed depth)",
                    lo.value, hi.value
                ),
                _ => String::new(),
            };
            t.add_row([
                format!("{} liquidations crossed", l.side),
                amount(l.crossed.value, "USD"),
                format!(
                    "on the estimated map built to {:.0}{}{cascade}",
                    l.map_price,
                    if l.stale { " (STALE)" } else { "" }
                ),
            ]);
        }
        (None, Some(why)) => {
            t.add_row(["liquidations crossed".into(), "n/a".into(), why.clone()]);
        }
        (None, None) => {}
    }
    let state =
        |c: &canary_engine::reports_scenario::CompanyAt, below: &str, above: &str| match c.below {
            Some(true) => below.to_string(),
            Some(false) => above.to_string(),
            None => "unknown (a figure is missing)".to_string(),
        };
    let line = |c: &canary_engine::reports_scenario::CompanyAt| {
        c.line
            .as_ref()
            .map_or_else(|| "n/a".to_string(), |v| format!("{:.0}", v.value))
    };
    for c in &b.miners {
        t.add_row([
            format!("miner {}", c.ticker),
            format!("cash break-even {}", line(c)),
            state(c, "burning cash", "covering cash costs"),
        ]);
    }
    for c in &b.treasury {
        t.add_row([
            format!("treasury {}", c.ticker),
            format!("net debt covered down to {}", line(c)),
            state(c, "holdings no longer cover net debt", "covered"),
        ]);
    }
    println!("{t}");
    println!(
        "{} of {} miners burn cash at this price; {} of {} treasury companies are uncovered",
        b.miners_below,
        b.miners.len(),
        b.treasury_below,
        b.treasury.len()
    );
    for m in &b.missing {
        println!("not computed: {m}");
    }
    Ok(())
}
