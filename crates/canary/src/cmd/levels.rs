//! `canary levels`: render the engine's supports, resistances and trapdoor per timeframe.

use canary_engine::Session;

use anyhow::Result;
use canary_analytics::levels::LevelReport;
use canary_engine::{LevelsBody, LevelsParams, Report};

use crate::cli::{LevelsArgs, OutputFormat};
use crate::output::{human, preamble, print_json, sim_tag};

fn print_table(sym: &str, r: &LevelReport, md: bool) {
    let rows: Vec<[String; 7]> = r
        .resistances
        .iter()
        .rev()
        .chain(r.supports.iter())
        .map(|l| {
            [
                if l.price > r.price {
                    "resistance".into()
                } else {
                    "support".into()
                },
                human(l.price),
                format!("{} – {}", human(l.zone.0), human(l.zone.1)),
                format!("{:+.2}% / {:+.2} ATR", l.distance_pct, l.distance_atr),
                format!("{} ({:.2})", l.touches, l.strength),
                l.methods.join(", "),
                l.broken_if.clone(),
            ]
        })
        .collect();
    let header = [
        "level",
        "price",
        "zone",
        "distance",
        "touches (strength)",
        "methods",
        "broken if",
    ];
    if md {
        println!(
            "#### {sym} {} — price {}, ATR 14 ({}) {}\n",
            r.timeframe,
            human(r.price),
            r.timeframe,
            human(r.atr)
        );
        println!(
            "| {} |\n|{}",
            header.join(" | "),
            "---|".repeat(header.len())
        );
        for row in rows {
            println!("| {} |", row.join(" | "));
        }
    } else {
        let mut t = crate::output::table();
        t.set_header(header);
        for row in rows {
            t.add_row(row);
        }
        println!(
            "{sym} {} — price {}, ATR 14 ({}) {}",
            r.timeframe,
            human(r.price),
            r.timeframe,
            human(r.atr)
        );
        println!("{t}");
    }
    if let Some(td) = &r.trapdoor {
        println!(
            "trapdoor: below {} an air pocket {} – {} leads to {}",
            human(td.from),
            human(td.pocket.0),
            human(td.pocket.1),
            human(td.to)
        );
    }
    if let (Some(poc), Some((a, b))) = (r.poc, r.value_area) {
        println!(
            "volume profile: point of control {}, value area {} – {}\n",
            human(poc),
            human(a),
            human(b)
        );
    }
}

pub fn run(session: &Session, a: &LevelsArgs) -> Result<()> {
    let p = LevelsParams {
        symbol: a.symbol.clone(),
        timeframes: a.tf.clone(),
        k: a.k,
        lookback: a.lookback,
    };
    let r = super::with_context(session, a.at.asof, |ctx| canary_engine::levels(ctx, &p))?;
    render(&r, a.format)
}

/// Print the levels (also used by the demo).
pub fn render(r: &Report<LevelsBody>, format: OutputFormat) -> Result<()> {
    let sym = r.body.symbol.as_str();
    match format {
        OutputFormat::Json => print_json(r)?,
        OutputFormat::Table | OutputFormat::Md => {
            preamble(r);
            println!("{sym} levels as of {}{}\n", r.as_of, sim_tag(r));
            for l in &r.body.levels {
                print_table(sym, l, format == OutputFormat::Md);
            }
        }
        f @ (OutputFormat::Csv | OutputFormat::Html) => return Err(f.unavailable()),
    }
    Ok(())
}
