//! `canary derivatives`: derivatives files imported (the engine's `jobs::derivatives`), and the
//! engine's derivatives report rendered.

use anyhow::Result;
use canary_engine::Session;
use canary_engine::Valued;
use canary_engine::jobs::derivatives::DerivativesFile;
use canary_engine::{DerivativesParams, derivatives};
use canary_ingest::csv::TimeRange;
use canary_ingest::derivatives::DerivOptions;

use crate::cli::{DerivativesArgs, DerivativesCommand, DerivativesImportArgs, OutputFormat};
use crate::output::{preamble, print_json, sim_tag};

pub fn run(session: &Session, a: &DerivativesArgs) -> Result<()> {
    match &a.command {
        Some(DerivativesCommand::Import(i)) => import(session, i),
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
    if a.source.is_some() && a.files.len() > 1 {
        anyhow::bail!(
            "--source names the source of one file; with {} files each is stored under its own name",
            a.files.len()
        );
    }
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
    let mut store = if a.dry_run {
        None
    } else {
        Some(super::open(session)?)
    };
    for f in &files {
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
        if let Some(store) = store.as_mut() {
            let (source, r) = f
                .store(
                    &mut **store,
                    a.source.as_deref(),
                    super::import::revisions(a.strict),
                    session.now(),
                )
                .map_err(super::import::write_failed)?;
            println!(
                "  imported {} values, {} already present, {} revised (source {source})",
                r.inserted, r.present, r.revised
            );
        }
    }
    if a.dry_run {
        println!("dry run: every file valid, nothing stored");
    }
    Ok(())
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
                t.set_header(["funding", "settled", "rate", "annualised", "z (90 d)"]);
                for f in &b.funding {
                    t.add_row([
                        format!("{}{}", f.series, stale(f.stale)),
                        f.settled_at.to_string(),
                        pct(&f.rate, 4),
                        pct(&f.annualised, 2),
                        opt(f.zscore_90d.as_ref(), |z| format!("{:+.2}", z.value)),
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
