//! The "Context" section: where price sits against its highs, the volatility regime, the
//! miners' stress (cash break-evens, coverage prices) for the miners' angle, and the inputs
//! that were old or absent at the time.

use std::collections::BTreeSet;

use super::phrases::Phrases;
use super::text::Writer;
use super::{list, stat, v};
use crate::{CompaniesBody, EngineError, StatsBody, Warning, WarningKind};

/// The section's paragraphs: price and volatility, the miners' stress when `miners` is
/// given, then the old and the absent inputs among `warnings`.
pub(super) fn context(
    stats: &StatsBody,
    miners: Option<&CompaniesBody>,
    warnings: &[Warning],
    w: &mut Writer,
    ph: &Phrases,
) -> Result<Vec<String>, EngineError> {
    let mut context = Vec::new();
    if let Some(p) = price_and_volatility(stats, w, ph)? {
        context.push(p);
    }
    if let Some(m) = miners {
        context.extend(miners_context(m, w, ph)?);
    }
    context.extend(old_and_absent(warnings, ph)?);
    Ok(context)
}

/// One paragraph: the fall from the 90-day and all-time highs, and the volatility regime by
/// the 30-day realised volatility's percentile of two years.
fn price_and_volatility(
    stats: &StatsBody,
    w: &mut Writer,
    ph: &Phrases,
) -> Result<Option<String>, EngineError> {
    let mut t = Vec::new();
    if let Some(d) = stat(stats, "drawdown_90d") {
        let high = w.pct(-d.value, &d.claim, false);
        let ath = stat(stats, "drawdown_ath")
            .map_or_else(String::new, |a| w.pct(-a.value, &a.claim, false));
        t.push(ph.say("drawdown", &[v(&high), v(&ath)])?);
    }
    if let Some(x) = stat(stats, "rv30_percentile_2y") {
        let regime = if x.value >= 80.0 {
            "high"
        } else if x.value >= 40.0 {
            "middling"
        } else {
            "low"
        };
        let o = w.ordinal(x.value, &x.claim);
        t.push(ph.say("volatility", &[v(regime), v(&o)])?);
    }
    Ok((!t.is_empty()).then(|| t.join(" ")))
}

/// The miners' stress in sentences: cash break-evens and margins, coverage prices.
fn miners_context(
    m: &CompaniesBody,
    w: &mut Writer,
    ph: &Phrases,
) -> Result<Vec<String>, EngineError> {
    let mut out = Vec::new();
    let fig = |c: &crate::CompanyBody, key: &str| {
        c.figures.iter().find(|f| f.key == key).and_then(|f| {
            Some((
                f.figure.value().filter(|v| v.is_finite())?,
                f.claim.clone()?,
            ))
        })
    };
    let mut be = Vec::new();
    for c in &m.companies {
        if let Some((v, id)) = fig(c, "cash_break_even") {
            be.push(format!("{} {}", c.ticker, w.usd(v, &id)));
        }
    }
    if !be.is_empty() {
        let price = w.usd(m.price, &m.price_claim);
        out.push(ph.say(
            "break_evens",
            &[minijinja::Value::from(be), minijinja::Value::from(price)],
        )?);
    }
    let mut cov = Vec::new();
    for c in &m.companies {
        if let Some((v, id)) = fig(c, "coverage_price_net") {
            cov.push(format!("{} {}", c.ticker, w.usd(v, &id)));
        }
    }
    if !cov.is_empty() {
        out.push(ph.say("coverage", &[minijinja::Value::from(cov)])?);
    }
    Ok(out)
}

/// Old inputs (a latest value, too old) and absent ones (none at all), named apart, each
/// series once.
fn old_and_absent(warnings: &[Warning], ph: &Phrases) -> Result<Vec<String>, EngineError> {
    let mut out = Vec::new();
    let named = |pick: &dyn Fn(&Warning) -> bool| -> Vec<String> {
        let set: BTreeSet<&str> = warnings
            .iter()
            .filter(|x| pick(x))
            .map(|x| x.series.as_str())
            .collect();
        set.into_iter().map(str::to_string).collect()
    };
    let stale = named(&|x| x.kind == WarningKind::Stale && x.last_time.is_some());
    if !stale.is_empty() {
        out.push(ph.say("stale", &[list(stale)])?);
    }
    let absent = named(&|x| {
        x.kind == WarningKind::Assumed || (x.kind == WarningKind::Stale && x.last_time.is_none())
    });
    if !absent.is_empty() {
        out.push(ph.say("absent", &[list(absent)])?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::Topic;
    use super::super::fixture::{Crash, phrases};
    use super::*;

    /// The crash: the fall from the highs and a high volatility regime, in one paragraph,
    /// each number from its stat's claim.
    #[test]
    fn price_and_volatility_in_one_paragraph() {
        let crash = Crash::load();
        let stats = crash.inputs(Topic::Market).stats.body;
        let mut w = Writer::default();
        let p = price_and_volatility(&stats, &mut w, &phrases())
            .unwrap()
            .expect("a paragraph");
        let d90 = stat(&stats, "drawdown_90d").unwrap();
        assert!(
            p.starts_with(&format!(
                "Price sits {:.1}% below its 90-day high and ",
                -d90.value
            )),
            "{p}"
        );
        let rv = stat(&stats, "rv30_percentile_2y").unwrap();
        let regime = if rv.value >= 80.0 {
            "high"
        } else if rv.value >= 40.0 {
            "middling"
        } else {
            "low"
        };
        assert!(p.contains(&format!(" Volatility is {regime}: ")), "{p}");
        let claims: Vec<_> = w.numbers.iter().map(|n| n.claim.clone()).collect();
        assert_eq!(
            claims,
            [
                d90.claim.clone(),
                stat(&stats, "drawdown_ath").unwrap().claim.clone(),
                rv.claim.clone()
            ]
        );
        let mut none = stats.clone();
        none.stats
            .retain(|s| s.key != "drawdown_90d" && s.key != "rv30_percentile_2y");
        assert_eq!(
            price_and_volatility(&none, &mut w, &phrases()).unwrap(),
            None
        );
    }

    /// The miners' break-evens at the analysis's price, then their coverage prices.
    #[test]
    fn the_miners_break_evens_and_coverage() {
        let crash = Crash::load();
        let inputs = crash.inputs(Topic::Miners);
        let m = &inputs.miners.as_ref().unwrap().body;
        let mut w = Writer::default();
        let out = miners_context(m, &mut w, &phrases()).unwrap();
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(
            out[0].starts_with("Miners' cash break-even prices"),
            "{}",
            out[0]
        );
        assert!(out[0].contains("at $64,168 that is the line"), "{}", out[0]);
        assert!(out[1].starts_with("Debt-coverage prices"), "{}", out[1]);
        assert!(out[1].contains("MSTR $8,358"), "{}", out[1]);
        assert!(w.numbers.iter().any(|n| n.claim == m.price_claim));
    }

    /// Old and absent inputs are named apart, each series once, in name order.
    #[test]
    fn old_and_absent_inputs_are_named_apart() {
        let crash = Crash::load();
        let old = Warning {
            kind: WarningKind::Stale,
            series: "hashrate_hs".into(),
            last_time: Some(crash.asof),
            age_days: Some(9.0),
            message: "old".into(),
        };
        let never = Warning {
            last_time: None,
            age_days: None,
            series: "BTCUSDT 1d".into(),
            ..old.clone()
        };
        let assumed = Warning {
            kind: WarningKind::Assumed,
            series: "MSTR btc_held".into(),
            ..never.clone()
        };
        let disagree = Warning {
            kind: WarningKind::Disagree,
            series: "ignored".into(),
            ..old.clone()
        };
        let out =
            old_and_absent(&[old.clone(), assumed, never, old, disagree], &phrases()).unwrap();
        assert_eq!(
            out,
            [
                "Some inputs are old and are used as the latest known, not as current: hashrate_hs.",
                "Built without: BTCUSDT 1d, MSTR btc_held (no data at the time).",
            ]
        );
        assert!(old_and_absent(&[], &phrases()).unwrap().is_empty());
    }

    /// The whole section from the crash's reports: price and volatility first, the miners'
    /// two paragraphs next, and the inputs missing from the crash store (no network data)
    /// last.
    #[test]
    fn the_section_in_order() {
        let crash = Crash::load();
        let inputs = crash.inputs(Topic::Miners);
        let mut draft = crate::Draft::new(crash.asof);
        let (warnings, _) = inputs.carry(&mut draft);
        let m = inputs.miners.as_ref().map(|m| &m.body);
        let mut w = Writer::default();
        let out = context(&inputs.stats.body, m, &warnings, &mut w, &phrases()).unwrap();
        assert!(out[0].starts_with("Price sits "), "{out:?}");
        assert!(out[1].starts_with("Miners' cash break-even"), "{out:?}");
        assert!(out[2].starts_with("Debt-coverage"), "{out:?}");
        assert_eq!(&out[3..], old_and_absent(&warnings, &phrases()).unwrap());
        assert!(out.len() > 3, "{out:?}");
    }
}
