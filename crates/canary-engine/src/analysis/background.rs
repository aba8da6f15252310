//! The "Context" section: where price sits against its highs, the volatility regime, the
//! miners' stress (cash break-evens, coverage prices) for the miners' angle, the derivatives
//! (funding, open interest, liquidations, the cascade of a fall to support) when known, and
//! the inputs that were old or absent at the time.

use std::collections::BTreeSet;

use super::phrases::Phrases;
use super::text::Writer;
use super::{list, stat, v};
use crate::{
    CompaniesBody, DerivativesBody, EngineError, LiqMapBody, MarketsBody, NetworkBody, StatsBody,
    Warning, WarningKind,
};
use canary_analytics::treasury::IMPLAUSIBLE_MULTIPLE;
use canary_model::derivatives::DerivSeries;

/// The section's paragraphs: price and volatility, the miners' stress when `miners` is
/// given, the derivatives when known, then the old and the absent inputs among `warnings`
/// (the derivatives name their own).
pub(super) fn context(
    stats: &StatsBody,
    more: &More<'_>,
    warnings: &[Warning],
    w: &mut Writer,
    ph: &Phrases,
) -> Result<Vec<String>, EngineError> {
    let mut context = Vec::new();
    if let Some(p) = price_and_volatility(stats, w, ph)? {
        context.push(p);
    }
    if let Some(m) = more.markets {
        context.extend(markets_context(m, w, ph)?);
    }
    if let Some(m) = more.miners {
        context.extend(miners_context(m, w, ph)?);
    }
    if let Some(n) = more.network {
        context.extend(network_context(n, w, ph)?);
    }
    let derivatives = more.derivatives;
    if let Some((d, map)) = derivatives {
        context.extend(derivatives_context(d, map, w, ph)?);
    }
    let others: Vec<Warning> = warnings
        .iter()
        .filter(|x| x.series.parse::<DerivSeries>().is_err())
        .cloned()
        .collect();
    context.extend(old_and_absent(&others, ph)?);
    Ok(context)
}

/// The reports beside the price that the section reads, each when made.
pub(super) struct More<'a> {
    pub markets: Option<&'a MarketsBody>,
    pub miners: Option<&'a CompaniesBody>,
    pub network: Option<&'a NetworkBody>,
    pub derivatives: Option<(&'a DerivativesBody, Option<&'a LiqMapBody>)>,
}

/// The last US session in one paragraph: the indices' moves, Bitcoin's over the same
/// session, each miner's, the basket and its worst member; then the correlation to the
/// Nasdaq-100 and the Fear & Greed Index.
fn markets_context(
    m: &MarketsBody,
    w: &mut Writer,
    ph: &Phrases,
) -> Result<Vec<String>, EngineError> {
    let mut t = Vec::new();
    let name = |ticker: &str| match ticker {
        "NDX" => "the Nasdaq-100".to_string(),
        "SPX" => "the S&P 500".to_string(),
        x => x.to_string(),
    };
    if let Some(session) = m.session {
        let fresh = |x: &&crate::TickerMove| x.day == session;
        let indices: Vec<String> = m
            .indices
            .iter()
            .filter(fresh)
            .map(|x| {
                let mv = w.pct(x.day_move.value * 100.0, &x.day_move.claim, true);
                format!("{} closed {mv}", name(&x.ticker))
            })
            .collect();
        let btc = m.btc.as_ref().filter(fresh).map_or_else(String::new, |b| {
            w.pct(b.day_move.value * 100.0, &b.day_move.claim, true)
        });
        let miners: Vec<String> = m
            .miners
            .iter()
            .filter(fresh)
            .map(|x| {
                let mv = w.pct(x.day_move.value * 100.0, &x.day_move.claim, true);
                format!("{} {mv}", x.ticker)
            })
            .collect();
        if !indices.is_empty() {
            let day = m
                .indices
                .iter()
                .find(fresh)
                .map(|x| w.date(session, &x.close.claim))
                .unwrap_or_default();
            t.push(ph.say(
                "markets_session",
                &[v(&day), list(indices), v(&btc), list(miners)],
            )?);
        }
        if let Some(k) = &m.basket
            && let Some((worst, wm)) = &k.worst
        {
            let basket = w.pct(k.day_move.value * 100.0, &k.day_move.claim, true);
            let btc = k
                .btc_move
                .as_ref()
                .map_or_else(String::new, |b| w.pct(b.value * 100.0, &b.claim, true));
            let worst_move = w.pct(wm.value * 100.0, &wm.claim, true);
            let (rank, since) = m
                .miners
                .iter()
                .find(|x| &x.ticker == worst)
                .and_then(|x| Some((x.rank_from_worst.as_ref()?, x.ranked_since)))
                .filter(|(r, _)| r.value <= 10.0)
                .map_or_else(
                    || (String::new(), String::new()),
                    |(r, since)| (w.ordinal(r.value, &r.claim), w.date(since, &r.claim)),
                );
            t.push(ph.say(
                "markets_basket",
                &[
                    v(&basket),
                    v(&btc),
                    v(worst),
                    v(&worst_move),
                    v(&rank),
                    v(&since),
                ],
            )?);
        }
    }
    let pair = |p: &str, n: usize| m.correlations.iter().find(|c| c.pair == p && c.window == n);
    if let Some(c30) = pair("BTC–NDX", 30) {
        let corr = w.num(c30.correlation.value, 2, &c30.correlation.claim);
        let before = c30
            .previous
            .as_ref()
            .map_or_else(String::new, |p| w.num(p.value, 2, &p.claim));
        let beta = w.num(c30.beta.value, 2, &c30.beta.claim);
        let c90 = pair("BTC–NDX", 90).map_or_else(String::new, |c| {
            w.num(c.correlation.value, 2, &c.correlation.claim)
        });
        t.push(ph.say(
            "markets_correlation",
            &[v("Nasdaq-100"), v(&corr), v(&before), v(&beta), v(&c90)],
        )?);
    }
    if let Some(f) = &m.fear_greed {
        let value = w.num(f.value.value, 0, &f.value.claim);
        let day = w.date(f.day, &f.value.claim);
        t.push(ph.say("fear_greed", &[v(&value), v(f.band), v(&day)])?);
    }
    Ok(if t.is_empty() {
        Vec::new()
    } else {
        vec![t.join(" ")]
    })
}

/// The network in one sentence: the latest hash rate and the 30-day low, Hash Ribbons and the
/// next difficulty adjustment's projection.
fn network_context(
    n: &NetworkBody,
    w: &mut Writer,
    ph: &Phrases,
) -> Result<Vec<String>, EngineError> {
    let (Some(h), Some(low), Some(rb)) = (&n.hashrate, &n.low_30d, &n.ribbons) else {
        return Ok(Vec::new());
    };
    let eh = |w: &mut Writer, x: &crate::reports::network::DayValue| {
        format!("{} EH/s", w.num(x.value / 1e18, 0, &x.claim))
    };
    let rate = eh(w, h);
    let day = w.date(h.day, &h.claim);
    let low_rate = eh(w, low);
    let low_day = w.date(low.day, &low.claim);
    let state = if rb.capitulation {
        "capitulation (the 30-day mean below the 60-day mean)"
    } else {
        "no capitulation"
    };
    let since = rb.since.map_or_else(String::new, |s| w.date(s, &rb.claim));
    let nowcast = n
        .nowcast_change
        .as_ref()
        .map_or_else(String::new, |c| w.pct(c.value * 100.0, &c.claim, true));
    Ok(vec![ph.say(
        "network_ribbons",
        &[
            v(&rate),
            v(&day),
            v(&low_rate),
            v(&low_day),
            v(state),
            v(&since),
            v(&nowcast),
        ],
    )?])
}

/// Liquidations on the map below this are not worth a sentence.
pub(super) const MATERIAL_USD: f64 = 1e6;

/// The derivatives in one paragraph: each current funding series (its last settlement, the
/// annual carry, the z-score against its 90-day history), the current open interest (its
/// level and changes) and liquidations (the last bar, its rank), the cascade of a fall to
/// support on the liquidation map; then, apart, what is old at the time and so left out.
fn derivatives_context(
    d: &DerivativesBody,
    map: Option<&LiqMapBody>,
    w: &mut Writer,
    ph: &Phrases,
) -> Result<Vec<String>, EngineError> {
    let mut t = Vec::new();
    let mut old = Vec::new();
    for f in &d.funding {
        if f.stale {
            let last = w.date(f.settled_at, &f.rate.claim);
            old.push(format!("funding on {} (latest {last})", f.venues));
            continue;
        }
        let rate = format!("{}%", w.num(f.rate.value * 100.0, 4, &f.rate.claim));
        let when = w.time(f.settled_at, &f.rate.claim);
        let annual = w.pct(f.annualised.value * 100.0, &f.annualised.claim, true);
        let (z, side) = match &f.zscore_90d {
            Some(z) => (
                w.sigma(z.value.abs(), &z.claim),
                if z.value < 0.0 { "below" } else { "above" },
            ),
            None => (String::new(), ""),
        };
        t.push(ph.say(
            "deriv_funding",
            &[
                v(&f.venues),
                v(f.series.market()),
                v(&rate),
                v(&when),
                v(&annual),
                v(&z),
                v(side),
            ],
        )?);
    }
    for o in &d.open_interest {
        if o.stale {
            let last = w.date(o.at, &o.value.claim);
            old.push(format!("open interest across {} (latest {last})", o.venues));
            continue;
        }
        let value = w.usd_big(o.value.value, &o.value.claim);
        let ch = |c: &Option<crate::Valued>, w: &mut Writer| {
            c.as_ref()
                .map_or_else(String::new, |c| w.pct(c.value * 100.0, &c.claim, true))
        };
        let (c24, c7) = (ch(&o.change_24h, w), ch(&o.change_7d, w));
        let mv = o
            .to_market_value
            .as_ref()
            .map_or_else(String::new, |m| w.pct(m.value * 100.0, &m.claim, false));
        t.push(ph.say(
            "deriv_open_interest",
            &[v(&o.venues), v(&value), v(&c24), v(&c7), v(&mv)],
        )?);
    }
    for l in &d.liquidations {
        if l.stale {
            let last = w.date(l.bar_open, &l.total_usd.claim);
            old.push(format!("liquidations on {} (latest {last})", l.venues));
            continue;
        }
        let total = w.usd_big(l.total_usd.value, &l.total_usd.claim);
        let longs = w.usd_big(l.long_usd.value, &l.long_usd.claim);
        let shorts = w.usd_big(l.short_usd.value, &l.short_usd.claim);
        let day = w.date(l.bar_open, &l.total_usd.claim);
        let rank = w.ordinal(l.rank.value, &l.rank.claim);
        let since = w.date(l.history_since, &l.rank.claim);
        let share = l
            .share_of_oi
            .as_ref()
            .map_or_else(String::new, |s| w.pct(s.value * 100.0, &s.claim, false));
        t.push(ph.say(
            "deriv_liquidations",
            &[
                v(&l.venues),
                v(&day),
                v(&total),
                v(&longs),
                v(&shorts),
                v(&rank),
                v(&since),
                v(&share),
            ],
        )?);
    }
    if let Some(s) = map
        .and_then(|m| m.scenarios.first())
        .filter(|s| s.crossed_by_shock.value >= MATERIAL_USD)
    {
        let to = w.usd(s.shocked_price, &s.crossed_by_shock.claim);
        let crossed = w.usd_big(s.crossed_by_shock.value, &s.crossed_by_shock.claim);
        let lo = w.usd(s.final_price_low.value, &s.final_price_low.claim);
        let hi = w.usd(s.final_price_high.value, &s.final_price_high.claim);
        t.push(ph.say("deriv_cascade", &[v(&to), v(&crossed), v(&lo), v(&hi)])?);
    }
    let mut out = Vec::new();
    if !t.is_empty() {
        out.push(t.join(" "));
    }
    if !old.is_empty() {
        out.push(ph.say("deriv_old", &[list(old)])?);
    }
    Ok(out)
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
    let mut est = Vec::new();
    for c in &m.companies {
        let own = fig(c, "cash_break_even");
        let estimate = fig(c, "cash_break_even_estimate");
        match (own, estimate) {
            (Some((v, id)), Some((e, eid))) => {
                let own = w.usd(v, &id);
                let e = w.usd(e, &eid);
                be.push(format!("{} {own} (estimate {e})", c.ticker));
            }
            (Some((v, id)), None) => be.push(format!("{} {}", c.ticker, w.usd(v, &id))),
            (None, Some((e, eid))) => est.push(format!("{} {}", c.ticker, w.usd(e, &eid))),
            (None, None) => {}
        }
    }
    if !be.is_empty() || !est.is_empty() {
        let price = w.usd(m.price, &m.price_claim);
        out.push(ph.say(
            "break_evens",
            &[
                minijinja::Value::from(be),
                minijinja::Value::from(price),
                minijinja::Value::from(est),
            ],
        )?);
    }
    let mut cov = Vec::new();
    let mut beyond = Vec::new();
    for c in &m.companies {
        if let Some((v, id)) = fig(c, "coverage_price_net") {
            if v > IMPLAUSIBLE_MULTIPLE * m.price {
                beyond.push(c.ticker.clone());
            } else {
                cov.push(format!("{} {}", c.ticker, w.usd(v, &id)));
            }
        }
    }
    if !cov.is_empty() || !beyond.is_empty() {
        out.push(ph.say(
            "coverage",
            &[minijinja::Value::from(cov), minijinja::Value::from(beyond)],
        )?);
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
    use crate::Context;
    use canary_model::Timestamp;

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

    /// The crash morning with the derivatives stored: the funding settled at 00:00 (never the
    /// 08:00 one, not yet settled), and open interest and liquidations named as old, apart;
    /// every number grounded.
    #[test]
    fn derivatives_on_the_crash_morning_use_what_was_settled_and_name_what_is_old() {
        let crash = Crash::with_derivatives();
        let p = Crash::params(Topic::Market);
        let a = crate::analysis::analyze(&crash.ctx(), &p, &crash.dict, crash.lex, None).unwrap();
        let context = &a
            .body
            .sections
            .iter()
            .find(|s| s.key == "context")
            .unwrap()
            .paragraphs;
        assert!(
            context.iter().any(|x| x.starts_with(
                "Funding on the Binance BTCUSDT perpetual last settled at -0.0016% (2026-02-06 00:00 UTC), -1.7% a year, 1.7σ below its 90-day mean."
            )),
            "{context:#?}"
        );
        assert!(
            context.contains(&"Not known for the days before this analysis, and so left out: open interest across every venue the source tracks (latest 2025-11-14); liquidations on Binance (latest 2025-11-13).".to_string()),
            "{context:#?}"
        );
        let md = crate::analysis::render::markdown_checked(
            &a.body,
            crash.asof,
            a.simulated,
            &p.templates,
        )
        .unwrap();
        assert!(!md.contains("08:00"), "{md}");
        assert!(
            !md.contains("oi_usd:"),
            "derivatives series are described, not named"
        );
    }

    /// Before the data ends, the paragraph has the open interest, the day's liquidations and
    /// their rank, and the cascade of a fall to the support's trigger; the risks take it up.
    #[test]
    fn derivatives_while_current_give_the_cascade_to_support() {
        let crash = Crash::with_derivatives();
        let asof = Timestamp::parse("2025-11-13T12:00:00Z").unwrap();
        let ctx = Context::new(&*crash.store, asof)
            .unwrap()
            .with_profiles(&crash.profiles);
        let p = Crash::params(Topic::Market);
        let a = crate::analysis::analyze(&ctx, &p, &crash.dict, crash.lex, None).unwrap();
        let text = |key: &str| {
            a.body
                .sections
                .iter()
                .find(|s| s.key == key)
                .unwrap()
                .paragraphs
                .join("\n")
        };
        let context = text("context");
        for says in [
            "Open interest across every venue the source tracks stands at $66.8 billion, -1.3% over 24 h and -3.6% over the week; that is 3.3% of the market value of all bitcoin.",
            "Liquidations on Binance came to $28.4 million on 2025-11-12",
            "largest day since 2020-12-23",
            "On Canary's estimated liquidation map, a fall to the support's trigger at",
        ] {
            assert!(context.contains(says), "{says}: {context}");
        }
        assert!(
            text("risks").contains("of estimated long liquidations"),
            "{}",
            text("risks")
        );
        crate::analysis::render::markdown_checked(&a.body, asof, a.simulated, &p.templates)
            .unwrap();
    }

    /// With the shared equities, indices, Fear & Greed and 2026 network data stored: the US
    /// session of 5 February beside Bitcoin, and Hash Ribbons from days-old data, every
    /// number from its report's claim.
    #[test]
    fn the_markets_and_network_paragraphs_of_the_crash() {
        let mut crash = Crash::load();
        crate::test_data::store_markets(&mut *crash.store);
        crate::test_data::store_network_2026(&mut *crash.store);
        let inputs = crash.inputs(Topic::Miners);
        let markets = &inputs.markets.as_ref().expect("markets").body;
        let network = &inputs.network.as_ref().expect("network").body;
        let mut w = Writer::default();
        let m = markets_context(markets, &mut w, &phrases()).unwrap();
        assert_eq!(m.len(), 1);
        let p = &m[0];
        assert!(
            p.starts_with(
                "In the US session of 2026-02-05, the Nasdaq-100 closed -1.4% and the S&P 500 closed -1.2%; Bitcoin, priced at the US close, moved -11.7%."
            ),
            "{p}"
        );
        for t in ["MARA -18.7%", "RIOT -14.7%", "CLSK -19.1%", "IREN -11.5%"] {
            assert!(p.contains(t), "{t}: {p}");
        }
        assert!(
            p.contains("CLSK fared worst at -19.1%, its worst day since 2023-02-01"),
            "{p}"
        );
        assert!(
            p.contains("correlation to the Nasdaq-100 is 0.33 (from 0.44"),
            "{p}"
        );
        assert!(
            p.ends_with("Fear & Greed Index reads 9 of 100 (Extreme Fear) on 2026-02-06."),
            "{p}"
        );
        let claims = &inputs.markets.as_ref().unwrap().claims;
        for n in &w.numbers {
            assert!(claims.get(&n.claim).is_some(), "{n:?}");
        }
        let mut w = Writer::default();
        let n = network_context(network, &mut w, &phrases()).unwrap();
        assert_eq!(
            n,
            [
                "Network hash rate stood at 894 EH/s on 2026-02-05, after a low of 690 EH/s on 2026-01-24 within 30 days; Hash Ribbons read capitulation (the 30-day mean below the 60-day mean) since 2026-01-06, and the next difficulty adjustment is projected at -10.0%."
            ]
        );
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
        let more = More {
            markets: None,
            miners: m,
            network: None,
            derivatives: None,
        };
        let out = context(&inputs.stats.body, &more, &warnings, &mut w, &phrases()).unwrap();
        assert!(out[0].starts_with("Price sits "), "{out:?}");
        assert!(out[1].starts_with("Miners' cash break-even"), "{out:?}");
        assert!(out[2].starts_with("Debt-coverage"), "{out:?}");
        assert_eq!(&out[3..], old_and_absent(&warnings, &phrases()).unwrap());
        assert!(out.len() > 3, "{out:?}");
    }
}
