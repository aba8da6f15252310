//! `canary stats`: render the engine's market statistics.

use canary_engine::Session;

use anyhow::Result;
use canary_engine::{Report, StatsBody, StatsParams};

use crate::cli::{OutputFormat, StatsArgs};
use crate::output::{human, preamble, print_json, sim_tag};

pub fn run(session: &Session, a: &StatsArgs) -> Result<()> {
    let p = StatsParams {
        symbol: a.symbol.clone(),
        intraday: a.intraday,
    };
    let r = super::with_context(session, a.at.asof, |ctx| canary_engine::stats(ctx, &p))?;
    render(&r, a.format)
}

/// Print the statistics (also used by the demo).
pub fn render(r: &Report<StatsBody>, format: OutputFormat) -> Result<()> {
    let sym = &r.body.symbol;
    let asof = r.as_of;
    match format {
        OutputFormat::Json => print_json(r)?,
        OutputFormat::Table => {
            preamble(r);
            let mut t = crate::output::table();
            t.set_header(["statistic", "value", "unit", "note"]);
            for s in &r.body.stats {
                t.add_row([
                    s.label.clone(),
                    human(s.value),
                    s.unit.clone(),
                    s.note.clone(),
                ]);
            }
            println!("{sym} as of {asof}{}", sim_tag(r));
            println!("{t}");
            for m in &r.body.missing {
                println!("not computed: {}: {}", m.key, m.reason);
            }
        }
        OutputFormat::Md => {
            preamble(r);
            println!(
                "### {sym} as of {asof}{}\n",
                if r.simulated { " (simulated data)" } else { "" }
            );
            println!("| statistic | value | unit | note | claim |\n|---|---:|---|---|---|");
            for s in &r.body.stats {
                println!(
                    "| {} | {} | {} | {} | `{}` |",
                    s.label,
                    human(s.value),
                    s.unit,
                    s.note,
                    s.claim
                );
            }
            for m in &r.body.missing {
                println!("\n_Not computed: {}: {}_", m.key, m.reason);
            }
        }
        f @ (OutputFormat::Csv | OutputFormat::Html) => return Err(f.unavailable()),
    }
    Ok(())
}
