//! The "Risks" and "Opportunities" sections and the Take: what breaks support (and where
//! the trapdoor leads), miners with negative cash margins, an oversold reading, resistance
//! to reclaim, and the stance the label and levels give, with where it is wrong.

use canary_model::news::Label;

use super::phrases::Phrases;
use super::text::Writer;
use super::{list, v};
use crate::{CompaniesBody, DerivativesBody, EngineError, LiqMapBody, WatchBody, WatchLevelRow};

/// The risks: a close below support (towards the trapdoor when there is one), the miners
/// whose cash margin is negative at the price, crowded longs (current funding 2σ or more above
/// its 90-day mean) and the liquidations a fall to support would set off on the map.
pub(super) fn risks(
    wb: &WatchBody,
    miners: Option<&CompaniesBody>,
    derivatives: Option<(&DerivativesBody, Option<&LiqMapBody>)>,
    w: &mut Writer,
    ph: &Phrases,
) -> Result<Vec<String>, EngineError> {
    let mut risks = Vec::new();
    if let Some(sup) = &wb.support {
        let tf = sup.broken_if.timeframe.to_string();
        let line = w.usd(sup.broken_if.line, &sup.broken_if.claim);
        risks.push(match &wb.trapdoor {
            Some(t) => {
                let td = w.usd(t.level.price, &t.level.claim);
                ph.say("risk_trapdoor", &[v(&tf), v(&line), v(&td)])?
            }
            None => ph.say("risk_support", &[v(&tf), v(&line)])?,
        });
    }
    if let Some(m) = miners {
        let mut under = Vec::new();
        for c in &m.companies {
            let Some(f) = c.figures.iter().find(|f| f.key == "margin") else {
                continue;
            };
            if let (Some(x), Some(id)) = (f.figure.value().filter(|x| *x < 0.0), f.claim.as_ref()) {
                under.push(format!("{} ({})", c.ticker, w.pct(x, id, true)));
            }
        }
        if !under.is_empty() {
            risks.push(ph.say("risk_miners", &[list(under)])?);
        }
    }
    if let Some((d, map)) = derivatives {
        for f in d.funding.iter().filter(|f| !f.stale) {
            if let Some(z) = f.zscore_90d.as_ref().filter(|z| z.value >= CROWDED_Z) {
                let zs = w.sigma(z.value, &z.claim);
                risks.push(ph.say("risk_crowded_longs", &[v(&f.venues), v(&zs)])?);
            }
        }
        let scenario = map
            .and_then(|m| m.scenarios.first())
            .filter(|s| s.crossed_by_shock.value >= super::background::MATERIAL_USD);
        if let (Some(s), Some(sup)) = (scenario, &wb.support) {
            let line = w.usd(sup.broken_if.line, &sup.broken_if.claim);
            let crossed = w.usd_big(s.crossed_by_shock.value, &s.crossed_by_shock.claim);
            let lo = w.usd(s.final_price_low.value, &s.final_price_low.claim);
            risks.push(ph.say("risk_cascade", &[v(&line), v(&crossed), v(&lo)])?);
        }
    }
    Ok(risks)
}

/// A funding z-score from which longs count as crowded.
const CROWDED_Z: f64 = 2.0;

/// The opportunities: an oversold momentum reading, and resistance to reclaim.
pub(super) fn opportunities(
    wb: &WatchBody,
    w: &mut Writer,
    ph: &Phrases,
) -> Result<Vec<String>, EngineError> {
    let mut opportunities = Vec::new();
    if let Some(m) = &wb.momentum
        && m.momentum.state == "oversold"
    {
        let rsi = w.num(m.momentum.rsi, 1, &m.claim);
        opportunities.push(ph.say(
            "opportunity_oversold",
            &[v(&m.momentum.timeframe.to_string()), v(&rsi)],
        )?);
    }
    if let Some(r) = &wb.resistance {
        let line = w.usd(r.broken_if.line, &r.broken_if.claim);
        opportunities.push(ph.say(
            "opportunity_reclaim",
            &[v(&r.broken_if.timeframe.to_string()), v(&line)],
        )?);
    }
    Ok(opportunities)
}

/// The Take: bearish below resistance, bullish above support, neutral between the two, or
/// no stance without the levels.
pub(super) fn take(
    label: Option<Label>,
    wb: &WatchBody,
    name: &str,
    w: &mut Writer,
    ph: &Phrases,
) -> Result<String, EngineError> {
    Ok(match (label, &wb.support, &wb.resistance) {
        (Some(Label::Bearish), _, Some(r)) => stance(ph, w, "take_bearish", name, r, r.zone.0)?,
        (Some(Label::Bullish), Some(sup), _) => {
            stance(ph, w, "take_bullish", name, sup, sup.zone.1)?
        }
        (_, Some(sup), Some(r)) => {
            let (low, high) = (w.usd(sup.zone.1, &sup.claim), w.usd(r.zone.0, &r.claim));
            let (below, above) = (
                w.usd(sup.broken_if.line, &sup.broken_if.claim),
                w.usd(r.broken_if.line, &r.broken_if.claim),
            );
            ph.say(
                "take_neutral",
                &[
                    v(&low),
                    v(&high),
                    v(&sup.broken_if.timeframe.to_string()),
                    v(&below),
                    v(&above),
                ],
            )?
        }
        _ => ph.say("take_none", &[])?,
    })
}

/// A one-sided Take: a stance while price stays on the level's side, wrong on its trigger.
fn stance(
    ph: &Phrases,
    w: &mut Writer,
    macro_name: &str,
    name: &str,
    l: &WatchLevelRow,
    edge: f64,
) -> Result<String, EngineError> {
    let (level, line) = (
        w.usd(edge, &l.claim),
        w.usd(l.broken_if.line, &l.broken_if.claim),
    );
    Ok(ph.say(
        macro_name,
        &[
            v(name),
            v(&level),
            v(&l.broken_if.timeframe.to_string()),
            v(&line),
        ],
    )?)
}

#[cfg(test)]
mod tests {
    use super::super::Topic;
    use super::super::fixture::{Crash, phrases};
    use super::*;

    /// The crash: a break of support leads to the trapdoor; the miners under water follow.
    #[test]
    fn support_to_the_trapdoor_then_the_miners_under_water() {
        let crash = Crash::load();
        let inputs = crash.inputs(Topic::Miners);
        let wb = &inputs.watch.body;
        let m = &inputs.miners.as_ref().unwrap().body;
        let mut w = Writer::default();
        let out = risks(wb, Some(m), None, &mut w, &phrases()).unwrap();
        let sup = wb.support.as_ref().unwrap();
        assert!(
            out[0].starts_with(&format!("A {} close below ", sup.broken_if.timeframe)),
            "{}",
            out[0]
        );
        assert!(
            out[0].contains("opens the way to the trapdoor near $"),
            "{}",
            out[0]
        );
        let under: Vec<&str> = m
            .companies
            .iter()
            .filter(|c| {
                c.figures
                    .iter()
                    .any(|f| f.key == "margin" && f.figure.value().is_some_and(|x| x < 0.0))
            })
            .map(|c| c.ticker.as_str())
            .collect();
        assert!(!under.is_empty(), "miners under water at the crash's price");
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(
            out[1].starts_with("Miners with a negative cash margin"),
            "{out:?}"
        );
        for t in under {
            assert!(out[1].contains(&format!("{t} (-")), "{t} in {}", out[1]);
        }
        // Without a trapdoor the risk is support alone; without miners, no miners' risk.
        let mut no_trapdoor = wb.clone();
        no_trapdoor.trapdoor = None;
        let out = risks(&no_trapdoor, None, None, &mut w, &phrases()).unwrap();
        assert_eq!(out.len(), 1);
        assert!(
            out[0].ends_with("breaks the nearest support."),
            "{}",
            out[0]
        );
    }

    /// Oversold momentum and resistance to reclaim, each when the Watch has it.
    #[test]
    fn oversold_and_reclaim() {
        let crash = Crash::load();
        let mut wb = crash.inputs(Topic::Market).watch.body;
        let m = wb.momentum.as_mut().unwrap();
        m.momentum.state = "oversold";
        let mut w = Writer::default();
        let out = opportunities(&wb, &mut w, &phrases()).unwrap();
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(out[0].contains(" RSI 14 is oversold at "), "{}", out[0]);
        assert!(
            out[1].ends_with("would reclaim resistance and turn the picture."),
            "{}",
            out[1]
        );
        wb.momentum.as_mut().unwrap().momentum.state = "neutral";
        wb.resistance = None;
        let mut w = Writer::default();
        assert!(opportunities(&wb, &mut w, &phrases()).unwrap().is_empty());
        assert!(w.numbers.is_empty());
    }

    /// The label picks the stance; the levels set where it is wrong.
    #[test]
    fn the_label_and_levels_pick_the_take() {
        let crash = Crash::load();
        let wb = crash.inputs(Topic::Market).watch.body;
        let mut w = Writer::default();
        let say = |label, wb: &WatchBody, w: &mut Writer| {
            take(label, wb, "Bitcoin", w, &phrases()).unwrap()
        };
        let bearish = say(Some(Label::Bearish), &wb, &mut w);
        assert!(
            bearish.starts_with("Defensive while Bitcoin stays below $"),
            "{bearish}"
        );
        assert!(
            bearish.contains("the view is wrong on a 1d close above"),
            "{bearish}"
        );
        let bullish = say(Some(Label::Bullish), &wb, &mut w);
        assert!(
            bullish.starts_with("Constructive while Bitcoin holds $"),
            "{bullish}"
        );
        let neutral = say(None, &wb, &mut w);
        assert!(neutral.starts_with("Neutral between $"), "{neutral}");
        let mut bare = wb.clone();
        bare.support = None;
        assert!(say(Some(Label::Bullish), &bare, &mut w).starts_with("No stance"));
        assert!(say(Some(Label::Bearish), &bare, &mut w).starts_with("Defensive"));
    }
}
