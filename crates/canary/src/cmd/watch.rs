//! `canary watch`: render the engine's Watch.

use canary_engine::Session;

use anyhow::Result;
use canary_engine::{WatchLevelRow, WatchParams};

use crate::cli::{OutputFormat, WatchArgs};
use crate::output::{human, preamble, print_json, sim_tag, table};

fn row(name: &str, l: &WatchLevelRow, extra: &str) -> [String; 8] {
    [
        name.to_string(),
        human(l.price),
        format!("{}–{}", human(l.zone.0), human(l.zone.1)),
        format!("{:+.1}% / {:+.1} ATR", l.distance_pct, l.distance_atr),
        format!("{:.2}", l.strength),
        l.timeframes
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        format!(
            "broken if {}; reclaimed if {}",
            l.broken_if.rule, l.reclaimed_if.rule
        ),
        format!("{}{extra}", l.methods.join(", ")),
    ]
}

fn history(session: &Session, a: &WatchArgs, p: WatchParams) -> Result<()> {
    let now = a.at.asof.unwrap_or_else(|| session.now());
    let Some(from) = a.from else {
        anyhow::bail!("--history needs --from TIME");
    };
    let hp = canary_engine::WatchHistoryParams {
        watch: p,
        from,
        to: now,
        step_ms: a.step,
        horizon_ms: a.horizon,
        follow_ms: 7 * 86_400_000,
    };
    let pb = crate::output::progress(0, "building past Watches");
    let r = super::with_context(session, Some(now), |ctx| {
        canary_engine::watch_history(ctx, &hp, |d, t| {
            pb.set_length(t as u64);
            pb.set_position(d as u64);
        })
    });
    pb.finish_and_clear();
    let r = r?;
    if a.format == OutputFormat::Json {
        return print_json(&r);
    }
    preamble(&r);
    let f = |x: &Option<canary_engine::Fired>| match x {
        None => ("n/a".to_string(), String::new(), String::new()),
        Some(x) => (
            x.rule.clone(),
            x.fired_at
                .map_or_else(|| "no".into(), |t| t.to_string()[..16].replace('T', " ")),
            x.followed_pct
                .map_or_else(String::new, |v| format!("{v:+.1}%")),
        ),
    };
    let mut t = table();
    t.set_header([
        "as of",
        "price",
        "support broken if",
        "fired",
        "+7d",
        "resistance broken if",
        "fired",
        "+7d",
        "trapdoor reached",
    ]);
    let (mut fired_s, mut fired_r) = (0, 0);
    for row in &r.body.rows {
        let (s, sf, sp) = f(&row.support_broken);
        let (rr, rf, rp) = f(&row.resistance_broken);
        fired_s += usize::from(
            row.support_broken
                .as_ref()
                .is_some_and(|x| x.fired_at.is_some()),
        );
        fired_r += usize::from(
            row.resistance_broken
                .as_ref()
                .is_some_and(|x| x.fired_at.is_some()),
        );
        t.add_row([
            row.asof.to_string()[..10].to_string(),
            human(row.price),
            s,
            sf,
            sp,
            rr,
            rf,
            rp,
            row.trapdoor_reached_at
                .map_or_else(String::new, |t| t.to_string()[..10].to_string()),
        ]);
    }
    println!(
        "Watch history of {} (triggers within {:.0} days of each as-of time; the move 7 days after a firing)",
        r.body.symbol, r.body.horizon_days
    );
    println!("{t}");
    println!(
        "{} as-of times: support broken after {fired_s}, resistance broken after {fired_r}",
        r.body.rows.len()
    );
    Ok(())
}

pub fn run(session: &Session, a: &WatchArgs) -> Result<()> {
    let p = WatchParams {
        symbol: a.symbol.clone(),
        timeframes: a.tf.clone(),
        k: a.k,
        lookback: a.lookback,
        profile_days: a.profile_days,
        recent_days: 365,
    };
    if a.history {
        return history(session, a, p);
    }
    let r = super::with_context(session, a.at.asof, |ctx| canary_engine::watch(ctx, &p))?;
    if a.format == OutputFormat::Json {
        return print_json(&r);
    }
    preamble(&r);
    let b = &r.body;
    let md = a.format == OutputFormat::Md;
    let title = format!(
        "Watch {} as of {}{}: price {} ({} close of {})",
        b.symbol,
        r.as_of,
        sim_tag(&r),
        human(b.price),
        b.price_timeframe,
        b.price_bar
    );
    let mut rows = Vec::new();
    if let Some(l) = &b.resistance {
        rows.push(row("resistance", l, ""));
    }
    if let Some(l) = &b.testing {
        rows.push(row("testing (price inside)", l, ""));
    }
    if let Some(l) = &b.support {
        rows.push(row("support", l, ""));
    }
    if let Some(t) = &b.trapdoor {
        rows.push(row(
            "trapdoor",
            &t.level,
            &format!(
                "; thin gap {}–{} ({:.0}% of the mean volume)",
                human(t.gap.0),
                human(t.gap.1),
                t.gap_volume_share * 100.0
            ),
        ));
    }
    let head = [
        "",
        "level",
        "zone",
        "distance",
        "strength",
        "timeframes",
        "triggers",
        "methods",
    ];
    if md {
        println!("## {title}\n");
        println!("| {} |", head.join(" | "));
        println!("|{}", "---|".repeat(head.len()));
        for r in &rows {
            println!("| {} |", r.join(" | "));
        }
    } else {
        println!("{title}");
        let mut t = table();
        t.set_header(head);
        for r in rows {
            t.add_row(r);
        }
        println!("{t}");
    }
    if b.support.is_none() {
        println!("no support below the price in the bars used");
    }
    if b.resistance.is_none() {
        println!("no resistance above the price in the bars used");
    }
    if let Some(m) = &b.momentum {
        let m0 = &m.momentum;
        println!(
            "{}Momentum: RSI 14 ({}) {:.1}, {}{}{} ({})",
            if md { "\n- " } else { "" },
            m0.timeframe,
            m0.rsi,
            m0.state,
            m0.change_1d
                .map(|c| format!(", {c:+.1} over the last day"))
                .unwrap_or_default(),
            m0.divergence
                .map(|d| format!(", {d} divergence with price"))
                .unwrap_or_default(),
            m.rule
        );
    }
    Ok(())
}
