//! The analysis: a scored, sourced market analysis composed from the engine's reports as of
//! a time — stats, scores, the Watch, news and, for the miners' angle, the companies' stress
//! figures. It computes nothing of its own: every number in its text is a claim of those
//! reports, written through [`text::Writer`] and checked by [`text::check_grounding`]; the
//! phrasing is chosen from the claims by fixed rules, so the same inputs give the same text.

pub mod phrases;
pub mod render;
pub mod text;

use std::collections::BTreeSet;

use canary_analytics::score::Methodology;
use canary_model::news::Label;
use canary_model::{Claim, ClaimId, ClaimSet, Method, Symbol, Timeframe, Timestamp};
use canary_news::sentiment::Lexicon;
use canary_news::tags::Dictionary;
use serde::Serialize;

use crate::reports::companies::{CompaniesBody, MinersParams};
use crate::{
    Context, Draft, EngineError, NewsParams, Price, Report, ScoreBody, ScoreParams, StatsParams,
    StoriesParams, Warning, WatchBody, WatchParams,
};
use text::{Grounded, Writer};

/// The analysis composer's version: bump when its rules change.
pub const ANALYSIS: Method = Method::new("analysis", 1);

/// The angle of an analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// The market: price, scores, Watch and news lead.
    Market,
    /// Bitcoin miners: miner economics, debt and flows lead.
    Miners,
}

impl Topic {
    #[must_use]
    pub const fn slug(self) -> &'static str {
        match self {
            Topic::Market => "crypto-market",
            Topic::Miners => "bitcoin-miners",
        }
    }
}

/// What to analyse.
#[derive(Debug, Clone)]
pub struct AnalyzeParams {
    pub symbol: Symbol,
    /// The asset the news is about (`BTC`).
    pub asset: String,
    pub topic: Topic,
    pub method: Methodology,
    /// The page and sentence templates.
    pub templates: render::Templates,
}

/// A section: a title and paragraphs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    pub key: &'static str,
    pub title: &'static str,
    pub paragraphs: Vec<String>,
}

/// A news item cited.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceRef {
    pub outlet: String,
    pub date: String,
    pub title: String,
    pub url: Option<String>,
    pub claim: ClaimId,
}

/// An earlier analysis that bears on this one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RelatedRef {
    pub id: String,
    pub headline: String,
    pub date: String,
    pub shared_tags: Vec<String>,
}

/// How many related analyses an analysis lists.
pub const RELATED: usize = 3;

/// A row of the Watch table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WatchRow {
    pub what: &'static str,
    pub level: String,
    pub zone: String,
    pub distance: String,
    pub trigger: String,
}

/// The analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    /// A hash of the rendered content and its claims: the same analysis, the same id.
    pub id: String,
    pub version: String,
    pub symbol: Symbol,
    pub topic: Topic,
    pub category: &'static str,
    pub topic_slug: &'static str,
    pub headline: String,
    pub summary: String,
    pub label: Option<Label>,
    pub pulse: Option<f64>,
    pub risk: Option<f64>,
    pub band: Option<String>,
    pub threat: Option<u8>,
    pub probability: Option<f64>,
    pub scores_line: String,
    pub sections: Vec<Section>,
    pub watch: Vec<WatchRow>,
    pub take: String,
    pub sources: Vec<SourceRef>,
    pub tags: Vec<String>,
    /// Earlier analyses (written for a time before this one) that share the most tags.
    pub related: Vec<RelatedRef>,
    /// News related to the lead story that the analysis does not cite (BM25 likeness in the
    /// news index, known at T).
    pub related_news: Vec<SourceRef>,
    pub read_time: String,
    /// Every number in the text with its claim.
    pub numbers: Vec<Grounded>,
    /// Names with digits the text uses that are not data: the score components' labels
    /// (`30-day realised volatility`), from the methodology.
    pub terms: Vec<String>,
}

fn stat<'a>(
    r: &'a Report<crate::StatsBody>,
    key: &str,
) -> Option<&'a canary_analytics::stats::Stat> {
    r.body.stats.iter().find(|s| s.key == key)
}

fn word_for_move(pct: f64) -> &'static str {
    match pct {
        p if p <= -10.0 => "plunges",
        p if p <= -4.0 => "slides",
        p if p < -1.0 => "slips",
        p if p < 1.0 => "holds steady",
        p if p < 4.0 => "edges up",
        p if p < 10.0 => "climbs",
        _ => "surges",
    }
}

/// Compose the analysis as of the context's time.
///
/// # Errors
/// No bars of the symbol; a database error; a report that cannot be made.
#[allow(clippy::too_many_lines)] // one story, told in order
pub fn analyze(
    ctx: &Context<'_>,
    p: &AnalyzeParams,
    dict: &Dictionary,
    lex: &Lexicon,
    index: Option<&mut canary_search::NewsIndex>,
) -> Result<Report<Analysis>, EngineError> {
    let asof = ctx.asof();
    let mut draft = Draft::new(asof);
    // The 4h bars give the last price and the 24 h change; daily bars do when there are none.
    let intraday = if ctx.bars(&p.symbol, Timeframe::H4).is_ok() {
        Timeframe::H4
    } else {
        Timeframe::D1
    };
    let stats = crate::stats(
        ctx,
        &StatsParams {
            symbol: p.symbol.clone(),
            intraday,
        },
    )?;
    let score = crate::score(
        ctx,
        &ScoreParams {
            symbol: p.symbol.clone(),
            method: p.method.clone(),
            asset: p.asset.clone(),
            horizon_days: ScoreParams::HORIZON_DAYS,
            drawdown: ScoreParams::DRAWDOWN,
        },
        dict,
        lex,
    )?;
    let watch = crate::watch(ctx, &WatchParams::new(p.symbol.clone()))?;
    let topic_tag = match p.topic {
        Topic::Miners => Some("bitcoin-miners".to_string()),
        Topic::Market => None,
    };
    let news = crate::news(
        ctx,
        dict,
        lex,
        &NewsParams {
            lookback_ms: 2 * 86_400_000,
            asset: Some(p.asset.clone()),
            topic: topic_tag.clone(),
            min_relevance: 0.5,
            limit: 5,
            ..NewsParams::default()
        },
    )?;
    let stories = crate::stories(
        ctx,
        dict,
        lex,
        &StoriesParams {
            lookback_ms: 2 * 86_400_000,
            asset: Some(p.asset.clone()),
            topic: topic_tag,
            min_relevance: 0.5,
            limit: 3,
            ..StoriesParams::default()
        },
    )?;
    let miners = if p.topic == Topic::Miners {
        let price = stat(&stats, "last_price").map(|s| s.value);
        Some(crate::miners(
            ctx,
            &MinersParams {
                price: price.map_or(Price::Stored, Price::Given),
                symbol: p.symbol.clone(),
                scenarios: Vec::new(),
            },
        )?)
    } else {
        None
    };
    // Every report's claims and warnings come with the analysis.
    let mut warnings: Vec<Warning> = Vec::new();
    let mut simulated = false;
    macro_rules! take {
        ($r:expr) => {{
            draft.claims.extend($r.claims.clone());
            warnings.extend($r.warnings.iter().cloned());
            simulated |= $r.simulated;
        }};
    }
    take!(stats);
    take!(score);
    take!(watch);
    take!(news);
    take!(stories);
    if let Some(m) = &miners {
        take!(m);
    }
    let mut w = Writer::default();
    let name = if p.asset == "BTC" {
        "Bitcoin".to_string()
    } else {
        p.asset.clone()
    };

    // The move.
    let price = stat(&stats, "last_price");
    let ch24 = stat(&stats, "change_24h");
    let sigma = stat(&stats, "daily_move_sigma_90");
    let erased = stat(&stats, "market_value_change_24h");
    let rsi_d = stat(&stats, "rsi14_daily");
    let dd90 = stat(&stats, "drawdown_90d");
    let dd_ath = stat(&stats, "drawdown_ath");
    let rvp = stat(&stats, "rv30_percentile_2y");

    let s: &ScoreBody = &score.body;
    let wb: &WatchBody = &watch.body;

    let ph = phrases::Phrases::new(&p.templates.phrases)?;
    let v = |s: &str| minijinja::Value::from(s);
    let list = |l: Vec<String>| minijinja::Value::from(l);
    let headline = match (price, ch24) {
        (Some(px), Some(ch)) => {
            let verb = word_for_move(ch.value);
            let (pxs, chs) = (
                w.usd(px.value, &px.claim),
                w.pct(ch.value.abs(), &ch.claim, false),
            );
            let topic = match p.topic {
                Topic::Miners => "miners",
                Topic::Market => "market",
            };
            ph.say("headline", &[v(topic), v(&name), v(verb), v(&chs), v(&pxs)])?
        }
        _ => ph.say("headline_plain", &[v(&name), v(&asof.to_string()[..10])])?,
    };

    let scores_line = match (s.risk, &s.risk_claim, s.pulse, &s.pulse_claim) {
        (Some(r), Some(rc), Some(pu), Some(pc)) => {
            let label = s.label.map_or("neutral", Label::as_str);
            let threat = match (s.threat, &s.threat_claim) {
                (Some(t), Some(tc)) => w.num(f64::from(t), 0, tc),
                _ => String::new(),
            };
            let (pulse, risk) = (w.num(pu, 0, pc), w.num(r, 0, rc));
            ph.say(
                "scores_line",
                &[
                    v(&capitalise(label)),
                    v(&pulse),
                    v(&risk),
                    v(&s.band.clone().unwrap_or_default()),
                    v(&threat),
                ],
            )?
        }
        _ => "Scores: not enough data".into(),
    };
    let summary = {
        let label = s.label.map_or("neutral", Label::as_str);
        let risk = match (s.risk, &s.risk_claim) {
            (Some(r), Some(rc)) => w.num(r, 0, rc),
            _ => String::new(),
        };
        let prob = s
            .probability
            .as_ref()
            .map_or_else(String::new, |pr| w.share(pr.value, &pr.claim));
        ph.say(
            "summary",
            &[
                v(&name),
                v(label),
                v(&risk),
                v(&s.band.clone().unwrap_or_default()),
                v(&prob),
            ],
        )?
    };

    // What happened.
    let mut happened = Vec::new();
    if let (Some(px), Some(ch)) = (price, ch24) {
        let (pxs, chs) = (w.usd(px.value, &px.claim), w.pct(ch.value, &ch.claim, true));
        let sg = sigma.map_or_else(String::new, |sg| w.sigma(sg.value, &sg.claim));
        let er = erased
            .filter(|e| e.value < 0.0)
            .map_or_else(String::new, |e| w.usd_big(-e.value, &e.claim));
        happened.push(ph.say("moved", &[v(&name), v(&pxs), v(&chs), v(&sg), v(&er)])?);
    }
    let mut sources = Vec::new();
    let mut tags: BTreeSet<String> = BTreeSet::from([p.asset.clone(), p.topic.slug().to_string()]);
    if !stories.body.stories.is_empty() {
        let mut parts = Vec::new();
        for st in &stories.body.stories {
            let first = &st.members[0];
            let date = w.date(
                first.item.published_at.unwrap_or(first.item.available_at),
                &first.item_claim,
            );
            parts.push(ph.say(
                "story",
                &[
                    v(&st.story.title),
                    v(&st.story.outlets.join(", ")),
                    v(&date),
                ],
            )?);
            for t in &st.tags {
                if t.kind == canary_model::news::TagKind::Topic {
                    tags.insert(t.name.clone());
                }
            }
        }
        happened.push(ph.say("in_the_news", &[list(parts)])?);
    }
    for r in &news.body.items {
        sources.push(SourceRef {
            outlet: r.item.outlet.clone(),
            date: w.date(
                r.item.published_at.unwrap_or(r.item.available_at),
                &r.item_claim,
            ),
            title: r.item.title.clone(),
            url: r.item.url.clone(),
            claim: r.item_claim.clone(),
        });
        for t in &r.tags {
            if t.kind != canary_model::news::TagKind::Exchange {
                tags.insert(t.name.clone());
            }
        }
    }

    // Context.
    let mut context = Vec::new();
    {
        let mut t = Vec::new();
        if let Some(d) = dd90 {
            let high = w.pct(-d.value, &d.claim, false);
            let ath = dd_ath.map_or_else(String::new, |a| w.pct(-a.value, &a.claim, false));
            t.push(ph.say("drawdown", &[v(&high), v(&ath)])?);
        }
        if let Some(x) = rvp {
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
        if !t.is_empty() {
            context.push(t.join(" "));
        }
    }
    if let Some(m) = &miners {
        context.extend(miners_context(&m.body, &mut w, &ph)?);
    }
    // Old inputs (a latest value, too old) and absent ones (none at all) are named apart.
    let named = |pick: &dyn Fn(&Warning) -> bool| -> Vec<String> {
        let set: BTreeSet<&str> = warnings
            .iter()
            .filter(|x| pick(x))
            .map(|x| x.series.as_str())
            .collect();
        set.into_iter().map(str::to_string).collect()
    };
    let stale = named(&|x| x.kind == crate::WarningKind::Stale && x.last_time.is_some());
    if !stale.is_empty() {
        context.push(ph.say("stale", &[list(stale)])?);
    }
    let absent = named(&|x| {
        x.kind == crate::WarningKind::Assumed
            || (x.kind == crate::WarningKind::Stale && x.last_time.is_none())
    });
    if !absent.is_empty() {
        context.push(ph.say("absent", &[list(absent)])?);
    }

    // Analysis: the waterfall in words.
    let mut analysis = Vec::new();
    for (kind, name_k) in [
        (canary_analytics::score::ScoreKind::Risk, "Risk"),
        (canary_analytics::score::ScoreKind::Pulse, "Pulse"),
    ] {
        let mut rows: Vec<&crate::ComponentRow> = s
            .components
            .iter()
            .filter(|c| c.score == kind && c.pull.is_some())
            .collect();
        rows.sort_by(|a, b| {
            b.pull
                .unwrap_or(0.0)
                .abs()
                .total_cmp(&a.pull.unwrap_or(0.0).abs())
                .then(a.key.cmp(&b.key))
        });
        let mut parts = Vec::new();
        for c in rows.iter().take(3) {
            let (Some(vc), Some(x)) = (c.value_claim.as_ref(), c.value) else {
                continue;
            };
            let x = 100.0 * x;
            let percentile = p.method.components.iter().any(|m| {
                m.key == c.key
                    && m.score == c.score
                    && m.normalise == canary_analytics::score::Normalise::Percentile
            });
            parts.push(if percentile {
                let o = w.ordinal(x, vc);
                ph.say("driver_percentile", &[v(&c.label), v(&o)])?
            } else {
                let n = w.num(x, 0, vc);
                ph.say("driver_score", &[v(&c.label), v(&n)])?
            });
        }
        if !parts.is_empty() {
            analysis.push(ph.say("drivers", &[v(name_k), list(parts)])?);
        }
    }
    let missing: Vec<String> = s
        .components
        .iter()
        .filter(|c| c.missing.is_some() && c.score == canary_analytics::score::ScoreKind::Risk)
        .map(|c| c.label.clone())
        .collect();
    if !missing.is_empty() {
        analysis.push(ph.say("left_out", &[list(missing)])?);
    }

    // The Watch.
    let mut watch_rows = Vec::new();
    let mut watch_text = Vec::new();
    let lvl = |w: &mut Writer, l: &crate::WatchLevelRow| {
        (
            w.usd(l.price, &l.claim),
            format!(
                "{}–{}",
                w.usd(l.zone.0, &l.claim),
                w.usd(l.zone.1, &l.claim)
            ),
            w.pct(l.distance_pct, &l.claim, true),
        )
    };
    if let Some(sup) = &wb.support {
        let (lv, zone, dist) = lvl(&mut w, sup);
        let line = w.usd(sup.broken_if.line, &sup.broken_if.claim);
        let trig = ph.say(
            "support_trigger",
            &[v(&sup.broken_if.timeframe.to_string()), v(&line)],
        )?;
        watch_text.push(ph.say("watch_support", &[v(&zone), v(&dist), v(&trig)])?);
        watch_rows.push(WatchRow {
            what: "Support",
            level: lv,
            zone,
            distance: dist,
            trigger: trig,
        });
    }
    if let Some(t) = &wb.trapdoor {
        let (lv, zone, dist) = lvl(&mut w, &t.level);
        let share = if t.gap_volume_share < 0.05 {
            String::new()
        } else {
            w.share(t.gap_volume_share, &t.trapdoor_claim)
        };
        let trig = ph.say("trapdoor_gap", &[v(&share)])?;
        watch_text.push(ph.say("watch_trapdoor", &[v(&zone), v(&dist), v(&trig)])?);
        watch_rows.push(WatchRow {
            what: "Trapdoor",
            level: lv,
            zone,
            distance: dist,
            trigger: trig,
        });
    }
    if let Some(r) = &wb.resistance {
        let (lv, zone, dist) = lvl(&mut w, r);
        let line = w.usd(r.broken_if.line, &r.broken_if.claim);
        let trig = ph.say(
            "resistance_trigger",
            &[v(&r.broken_if.timeframe.to_string()), v(&line)],
        )?;
        watch_text.push(ph.say("watch_resistance", &[v(&zone), v(&dist), v(&trig)])?);
        watch_rows.push(WatchRow {
            what: "Resistance",
            level: lv,
            zone,
            distance: dist,
            trigger: trig,
        });
    }
    if let Some(m) = &wb.momentum {
        let rsi = w.num(m.momentum.rsi, 1, &m.claim);
        watch_text.push(ph.say(
            "momentum",
            &[
                v(&m.momentum.timeframe.to_string()),
                v(&rsi),
                v(m.momentum.state),
                v(m.momentum.divergence.unwrap_or("")),
            ],
        )?);
    }
    if let Some(rd) = rsi_d {
        let rsi = w.num(rd.value, 1, &rd.claim);
        watch_text.push(ph.say("daily_rsi", &[v(&rsi)])?);
    }

    // Risks, opportunities and the Take.
    let mut risks = Vec::new();
    let mut opportunities = Vec::new();
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
    if let Some(m) = &miners {
        let mut under = Vec::new();
        for c in &m.body.companies {
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
    let take = match (s.label, &wb.support, &wb.resistance) {
        (Some(Label::Bearish), _, Some(r)) => {
            stance(&ph, &mut w, "take_bearish", &name, r, r.zone.0)?
        }
        (Some(Label::Bullish), Some(sup), _) => {
            stance(&ph, &mut w, "take_bullish", &name, sup, sup.zone.1)?
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
    };

    let sections = vec![
        Section {
            key: "what_happened",
            title: "What happened",
            paragraphs: happened,
        },
        Section {
            key: "context",
            title: "Context",
            paragraphs: context,
        },
        Section {
            key: "analysis",
            title: "Analysis",
            paragraphs: analysis,
        },
        Section {
            key: "watch",
            title: "Watch",
            paragraphs: watch_text,
        },
        Section {
            key: "risks",
            title: "Risks",
            paragraphs: risks,
        },
        Section {
            key: "opportunities",
            title: "Opportunities",
            paragraphs: opportunities,
        },
    ];
    let words: usize = sections
        .iter()
        .flat_map(|s| &s.paragraphs)
        .map(|p| p.split_whitespace().count())
        .sum::<usize>()
        + take.split_whitespace().count();
    #[allow(clippy::cast_precision_loss)]
    let minutes = (words as f64 / 200.0).ceil().max(1.0);
    let read_claim = draft.add(Claim::derived(
        "read time",
        minutes,
        "min",
        asof,
        ANALYSIS
            .of(&[])
            .param("words", words)
            .param("words_per_minute", 200),
    ));
    let mins = w.num(minutes, 0, &read_claim);
    let read_time = ph.say("read_time", &[v(&mins)])?;
    let tag_list: Vec<String> = tags.into_iter().collect();
    // Related news: items like the lead story's first item, not cited, known at T.
    let mut related_news = Vec::new();
    if let (Some(ix), Some(lead)) = (index, stories.body.stories.first()) {
        let cited: BTreeSet<&str> = sources
            .iter()
            .map(|s| s.title.as_str())
            .chain(
                stories
                    .body
                    .stories
                    .iter()
                    .flat_map(|st| st.members.iter().map(|m| m.item.title.as_str())),
            )
            .collect();
        let r = crate::news_search(
            ctx,
            ix,
            dict,
            lex,
            &crate::SearchParams {
                related: Some(lead.members[0].item.id.clone()),
                lookback_ms: Some(7 * 86_400_000),
                limit: 10,
                ..crate::SearchParams::default()
            },
        )?;
        draft.claims.extend(r.claims.clone());
        let topic = match p.topic {
            Topic::Miners => Some("bitcoin-miners"),
            Topic::Market => None,
        };
        // Related news must bear on the asset and topic as much as the sources do.
        let relevant = |x: &&crate::NewsRow| {
            canary_news::tags::relevance(dict, &x.tags, &p.asset, topic).score >= 0.5
        };
        for row in r
            .body
            .items
            .iter()
            .filter(|x| !cited.contains(x.item.title.as_str()))
            .filter(relevant)
            .take(RELATED)
        {
            related_news.push(SourceRef {
                outlet: row.item.outlet.clone(),
                date: w.date(
                    row.item.published_at.unwrap_or(row.item.available_at),
                    &row.item_claim,
                ),
                title: row.item.title.clone(),
                url: row.item.url.clone(),
                claim: row.item_claim.clone(),
            });
        }
    }
    // Related: earlier analyses (time before this one) by tags shared, then recency.
    let mut related: Vec<(usize, Timestamp, RelatedRef)> = ctx
        .analyses_before(None)?
        .into_iter()
        .filter_map(|x| {
            let shared: Vec<String> = x
                .tags
                .iter()
                .filter(|t| tag_list.contains(t))
                .cloned()
                .collect();
            (!shared.is_empty()).then(|| {
                (
                    shared.len(),
                    x.as_of,
                    RelatedRef {
                        id: x.id.clone(),
                        headline: x.headline.clone(),
                        date: x.as_of.to_string()[..10].to_string(),
                        shared_tags: shared,
                    },
                )
            })
        })
        .collect();
    related.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.id.cmp(&b.2.id)));
    let mut seen_subjects = BTreeSet::new();
    let related: Vec<RelatedRef> = related
        .into_iter()
        .map(|r| r.2)
        .filter(|r| seen_subjects.insert(r.headline.clone()))
        .take(RELATED)
        .collect();
    let mut a = Analysis {
        id: String::new(),
        version: format!("{} v{}", ANALYSIS.id, ANALYSIS.version),
        symbol: p.symbol.clone(),
        topic: p.topic,
        category: "crypto",
        topic_slug: p.topic.slug(),
        headline,
        summary,
        label: s.label,
        pulse: s.pulse,
        risk: s.risk,
        band: s.band.clone(),
        threat: s.threat,
        probability: s.probability.as_ref().map(|p| p.value),
        scores_line,
        sections,
        watch: watch_rows,
        take,
        sources,
        tags: tag_list,
        related,
        related_news,
        read_time,
        numbers: w.numbers,
        terms: s.components.iter().map(|c| c.label.clone()).collect(),
    };
    for x in warnings {
        draft.warn(x);
    }
    if simulated {
        draft.mark_simulated();
    }
    let md = render::markdown(&a, asof, simulated);
    a.id = content_id(&md, &draft.claims);
    draft.finish(a)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}

/// A one-sided Take: a stance while price stays on the level's side, wrong on its trigger.
fn stance(
    ph: &phrases::Phrases,
    w: &mut Writer,
    macro_name: &str,
    name: &str,
    l: &crate::WatchLevelRow,
    edge: f64,
) -> Result<String, EngineError> {
    let (level, line) = (
        w.usd(edge, &l.claim),
        w.usd(l.broken_if.line, &l.broken_if.claim),
    );
    let v = |s: &str| minijinja::Value::from(s);
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

/// The miners' stress in sentences: cash break-evens and margins, coverage prices.
fn miners_context(
    m: &CompaniesBody,
    w: &mut Writer,
    ph: &phrases::Phrases,
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

/// `a` and 16 hex digits: FNV-1a of the Markdown and the claim ids.
fn content_id(md: &str, claims: &ClaimSet) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: &[u8]| {
        for &x in b {
            h ^= u64::from(x);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(md.as_bytes());
    for c in claims.iter() {
        eat(c.id.as_str().as_bytes());
    }
    format!("a{h:016x}")
}

/// The analysis's time, for renderers.
#[must_use]
pub fn published(asof: Timestamp) -> String {
    let s = asof.to_string();
    format!("{} {} UTC", &s[..10], &s[11..16])
}

/// The claims used by an analysis's numbers (for the JSON form's check).
#[must_use]
pub fn used_claims(a: &Analysis) -> BTreeSet<ClaimId> {
    a.numbers.iter().map(|n| n.claim.clone()).collect()
}

/// Store an analysis (once by its id) with its Markdown, its HTML page and its JSON, all
/// rendered from `templates` and checked for grounding: whether it was new.
///
/// # Errors
/// A rendering that is not grounded, a database error.
pub fn store(
    store: &mut dyn canary_store::Stores,
    r: &Report<Analysis>,
    templates: &render::Templates,
    now: Timestamp,
) -> Result<bool, EngineError> {
    let err = |e: render::RenderError| EngineError::param("analysis", &r.body.id, &e.to_string());
    let markdown =
        render::markdown_checked(&r.body, r.as_of, r.simulated, templates).map_err(err)?;
    let html = render::html(&r.body, &r.claims, r.as_of, r.simulated, templates).map_err(err)?;
    let json = serde_json::to_string_pretty(r).unwrap_or_default() + "\n";
    Ok(store.insert_analysis(
        &canary_store::StoredAnalysis {
            id: r.body.id.clone(),
            symbol: r.body.symbol.to_string(),
            topic: r.body.topic_slug.to_string(),
            as_of: r.as_of,
            version: r.body.version.clone(),
            headline: r.body.headline.clone(),
            label: r.body.label.map(|l| l.to_string()),
            tags: r.body.tags.clone(),
            markdown,
            json,
            created_at: now,
            html: Some(html),
        },
        now,
    )?)
}
