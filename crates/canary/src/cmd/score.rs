//! `canary score` and `canary backtest scores`: render the engine's scores, their daily
//! history and their walk-forward track record.

use canary_engine::Session;

use anyhow::{Context as _, Result};
use canary_analytics::score::Methodology;
use canary_engine::{BacktestScoresParams, ScoreParams, TrackRecord};

use crate::cli::{BacktestScoresArgs, OutputFormat, ScoreArgs, ScoreMethod};
use crate::output::{preamble, print_json, progress, sim_tag, table};

fn methodology(m: &ScoreMethod) -> Result<Methodology> {
    Ok(match &m.method {
        None => Methodology::built_in(),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the methodology file {}", p.display()))?;
            Methodology::parse(&text, &p.display().to_string())?
        }
    })
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "n/a".into(), |x| format!("{x:.digits$}"))
}

pub fn run(session: &Session, a: &ScoreArgs) -> Result<()> {
    let (dict, lex) = super::news::vocabulary(&a.vocabulary)?;
    let p = ScoreParams {
        symbol: a.symbol.clone(),
        method: methodology(&a.method)?,
        asset: a.asset.to_uppercase(),
        horizon_days: a.method.horizon,
        drawdown: a.method.drawdown,
    };
    if a.format == OutputFormat::Csv {
        let r = super::with_context(session, a.at.asof, |ctx| {
            canary_engine::score_history(ctx, &p, &dict, &lex, a.from, a.to)
        })?;
        if r.simulated {
            crate::output::banner();
        }
        let mut w = ::csv::Writer::from_writer(std::io::stdout());
        w.write_record([
            "day",
            "risk",
            "threat",
            "pulse",
            "label",
            "risk_coverage",
            "pulse_coverage",
            "method",
        ])?;
        for d in &r.body.days {
            w.write_record([
                d.day.to_string(),
                d.risk.map(|x| format!("{x:.4}")).unwrap_or_default(),
                d.threat.map(|x| x.to_string()).unwrap_or_default(),
                d.pulse.map(|x| format!("{x:.4}")).unwrap_or_default(),
                d.label.map(|l| l.to_string()).unwrap_or_default(),
                format!("{:.4}", d.risk_coverage),
                format!("{:.4}", d.pulse_coverage),
                r.body.method.clone(),
            ])?;
        }
        w.flush()?;
        return Ok(());
    }
    let r = super::with_context(session, a.at.asof, |ctx| {
        canary_engine::score(ctx, &p, &dict, &lex)
    })?;
    if a.format == OutputFormat::Json {
        return print_json(&r);
    }
    preamble(&r);
    let b = &r.body;
    let md = a.format == OutputFormat::Md;
    let title = format!(
        "{} as of {}{} — {} (daily bar of {})",
        b.symbol,
        r.as_of,
        sim_tag(&r),
        b.method,
        &b.day.to_string()[..10]
    );
    if md {
        println!("## {title}\n");
    } else {
        println!("{title}");
    }
    let prob = b.probability.as_ref().map_or_else(
        || "n/a (too little history to calibrate)".to_string(),
        |p| {
            format!(
                "{:.0}% (a fall of {:.0}% within {} days; isotonic fit on {} days, {} → {}, {} event days)",
                p.value * 100.0,
                p.drawdown * 100.0,
                p.horizon_days,
                p.fit_days,
                &p.fit_from.to_string()[..10],
                &p.fit_to.to_string()[..10],
                p.fit_events
            )
        },
    );
    let lines = [
        format!(
            "Risk {} ({}), Threat {}/5, coverage {:.0}%",
            opt(b.risk, 0),
            b.band.clone().unwrap_or_else(|| "n/a".into()),
            b.threat.map_or_else(|| "n/a".into(), |t| t.to_string()),
            b.risk_coverage * 100.0
        ),
        format!(
            "Pulse {} ({}), coverage {:.0}%",
            opt(b.pulse, 0),
            b.label.map_or_else(|| "n/a".into(), |l| l.to_string()),
            b.pulse_coverage * 100.0
        ),
        format!("P(drawdown) {prob}"),
        format!("Why: {}", b.rationale),
    ];
    for l in lines {
        if md {
            println!("- {l}");
        } else {
            println!("{l}");
        }
    }
    println!();
    let head = [
        "score",
        "component",
        "raw",
        "value",
        "weight",
        "points",
        "pull",
        "note",
    ];
    let rows: Vec<[String; 8]> = b
        .components
        .iter()
        .map(|c| {
            [
                format!("{:?}", c.score).to_lowercase(),
                c.label.clone(),
                opt(c.raw, 3),
                opt(c.value, 2),
                format!("{}", c.weight),
                opt(c.points, 1),
                c.pull.map_or_else(String::new, |x| format!("{x:+.1}")),
                c.missing
                    .clone()
                    .map(|m| format!("missing: {m}"))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    if md {
        println!("| {} |", head.join(" | "));
        println!("|{}", "---|".repeat(head.len()));
        for r in rows {
            println!("| {} |", r.join(" | "));
        }
    } else {
        let mut t = table();
        t.set_header(head);
        for r in rows {
            t.add_row(r);
        }
        println!("{t}");
    }
    Ok(())
}

fn interval(i: Option<(f64, f64)>) -> String {
    i.map_or_else(|| "n/a".into(), |(a, b)| format!("[{a:.3}, {b:.3}]"))
}

fn record_lines(t: &TrackRecord) -> String {
    format!(
        "| {} | {} | {} | {} | {:.4} | {:.4} | {:+.4} | {} |",
        t.name,
        opt(t.auc, 3),
        interval(t.auc_interval),
        interval(t.auc_gain_interval),
        t.brier,
        t.brier_reference,
        t.brier_skill,
        t.brier_gain_interval
            .map_or_else(|| "n/a".into(), |(a, b)| format!("[{a:+.4}, {b:+.4}]"))
    )
}

fn print_details(t: &TrackRecord) {
    println!("\n## {}\n", t.name);
    println!("Reliability of its probability:\n");
    println!("| forecast | days | mean forecast | observed |");
    println!("|---|---|---|---|");
    for row in &t.reliability {
        println!(
            "| {:.1}–{:.1} | {} | {:.3} | {:.3} |",
            row.lo, row.hi, row.count, row.mean_forecast, row.observed
        );
    }
    println!("\nDeciles:\n");
    println!(
        "| decile | score | days | event rate | mean return over the horizon | median max drawdown |"
    );
    println!("|---|---|---|---|---|---|");
    for d in &t.deciles {
        println!(
            "| {} | {:.0}–{:.0} | {} | {:.1}% | {:+.2}% | {:.1}% |",
            d.decile,
            d.lo,
            d.hi,
            d.count,
            d.event_rate * 100.0,
            d.mean_forward_return * 100.0,
            d.median_forward_drawdown * 100.0
        );
    }
    println!(
        "\nAs a signal, by the Risk bands' levels (noise-to-signal, Kaminsky–Lizondo–Reinhart):\n"
    );
    println!("| signal when level ≥ | days signalled | hit rate | false-alarm rate | NSR |");
    println!("|---|---|---|---|---|");
    for s in &t.signals {
        println!(
            "| {} | {} | {:.1}% | {:.1}% | {} |",
            s.threshold,
            s.signals,
            s.hit_rate * 100.0,
            s.false_alarm_rate * 100.0,
            opt(s.nsr, 2)
        );
    }
}

pub fn backtest(session: &Session, a: &BacktestScoresArgs) -> Result<()> {
    let p = ScoreParams {
        symbol: a.symbol.clone(),
        method: methodology(&a.method)?,
        asset: "BTC".into(),
        horizon_days: a.method.horizon,
        drawdown: a.method.drawdown,
    };
    let b = BacktestScoresParams {
        from: a.from,
        reps: a.reps,
        ..BacktestScoresParams::default()
    };
    let pb = progress(0, "scoring every day");
    let r = super::with_context(session, a.to, |ctx| {
        canary_engine::backtest_scores(ctx, &p, b, |done, total| {
            pb.set_length(total as u64);
            pb.set_position(done as u64);
        })
    });
    pb.finish_and_clear();
    let r = r?;
    if a.format == OutputFormat::Json {
        return print_json(&r);
    }
    preamble(&r);
    let x = &r.body;
    let day = |t: Option<canary_model::Timestamp>| {
        t.map_or_else(|| "n/a".into(), |t| t.to_string()[..10].to_string())
    };
    println!(
        "# Track record of {} on {}{}\n",
        x.method,
        x.symbol,
        sim_tag(&r)
    );
    println!(
        "Event: a fall of {:.0}% or more from the day's close to the lowest low of the next {} days. \
         Days {} → {}, out of sample: {} days, {} event days ({:.1}%), {} independent episodes \
         (event runs more than {} days apart). Calibration: isotonic, refitted every {} days on days \
         whose event windows closed at least {} days before (purged, embargo {} days). As of {}.\n",
        x.drawdown * 100.0,
        x.horizon_days,
        day(x.first_day),
        day(x.last_day),
        x.days,
        x.events,
        x.base_rate * 100.0,
        x.episodes,
        x.horizon_days,
        x.refit_days,
        x.embargo_days,
        x.embargo_days,
        r.as_of
    );
    println!(
        "| series | AUC | AUC 90% CI | AUC gain over volatility, 90% CI | Brier | Brier of base rate | Brier skill | Brier gain over volatility, 90% CI |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!("{}", record_lines(&x.score));
    for bl in x.baselines.iter().chain(&x.candidates) {
        println!("{}", record_lines(bl));
    }
    if !x.candidates.is_empty() {
        println!(
            "\nThe first row is the published method and the next {} its baselines; the last {} are \
             candidates judged on the same days, not the published method. Brier gains are over \
             volatility calibrated the same way.",
            x.baselines.len(),
            x.candidates.len()
        );
    }
    if let Some(g) = &x.fear_greed {
        println!(
            "\n## Against the Crypto Fear & Greed Index\n\nThe index as fear (100 - index; the value dated each day, as stored by the day's close), \
             calibrated the same way, and Risk, both on the {} days above that have a forecast from the index \
             ({} → {}); Risk's gains are over the index.\n",
            g.days,
            day(g.first_day),
            day(g.last_day)
        );
        println!(
            "| series | AUC | AUC 90% CI | AUC gain over the index, 90% CI | Brier | Brier of base rate | Brier skill | Brier gain over the index, 90% CI |"
        );
        println!("|---|---|---|---|---|---|---|---|");
        println!("{}", record_lines(&g.risk));
        println!("{}", record_lines(&g.gauge));
    }
    for t in std::iter::once(&x.score)
        .chain(&x.baselines)
        .chain(&x.candidates)
    {
        print_details(t);
    }
    println!("\n## Components with data (share of days)\n");
    for (k, v) in &x.components_present {
        println!("- {k}: {:.0}%", v * 100.0);
    }
    Ok(())
}
