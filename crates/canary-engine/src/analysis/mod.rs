//! The analysis: a scored, sourced market analysis composed from the engine's reports as of
//! a time — stats, scores, the Watch, news and, for the miners' angle, the companies' stress
//! figures. It computes nothing of its own: every number in its text is a claim of those
//! reports, written through [`text::Writer`] and checked by [`text::check_grounding`]; the
//! phrasing is chosen from the claims by fixed rules, so the same inputs give the same text.

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
            horizon_days: 7,
            drawdown: 0.10,
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

    let headline = match (price, ch24) {
        (Some(px), Some(ch)) => {
            let verb = word_for_move(ch.value);
            let (pxs, chs) = (
                w.usd(px.value, &px.claim),
                w.pct(ch.value.abs(), &ch.claim, false),
            );
            match p.topic {
                Topic::Miners => {
                    format!("Bitcoin miners under pressure as {name} {verb} {chs} to {pxs}")
                }
                Topic::Market => format!("{name} {verb} {chs} to {pxs}"),
            }
        }
        _ => format!("{name}: the market as of {}", &asof.to_string()[..10]),
    };

    let scores_line = match (s.risk, &s.risk_claim, s.pulse, &s.pulse_claim) {
        (Some(r), Some(rc), Some(pu), Some(pc)) => {
            let label = s.label.map_or("neutral", Label::as_str);
            let threat = match (s.threat, &s.threat_claim) {
                (Some(t), Some(tc)) => format!(", Threat {} of 5", w.num(f64::from(t), 0, tc)),
                _ => String::new(),
            };
            format!(
                "{} · Pulse {} · Risk {} ({}){threat}",
                capitalise(label),
                w.num(pu, 0, pc),
                w.num(r, 0, rc),
                s.band.clone().unwrap_or_default()
            )
        }
        _ => "Scores: not enough data".into(),
    };
    let prob_text = s.probability.as_ref().map(|pr| {
        format!(
            "a {} chance of a further 10% fall within 7 days",
            w.share(pr.value, &pr.claim)
        )
    });
    let summary = {
        let label = s.label.map_or("neutral", Label::as_str);
        let mut t = format!("Canary reads {name} as {label}");
        if let (Some(r), Some(rc)) = (s.risk, &s.risk_claim) {
            t.push_str(&format!(
                ", with Risk at {} ({})",
                w.num(r, 0, rc),
                s.band.clone().unwrap_or_default()
            ));
        }
        if let Some(pt) = &prob_text {
            t.push_str(&format!(" and {pt}"));
        }
        t.push('.');
        t
    };

    // What happened.
    let mut happened = Vec::new();
    if let (Some(px), Some(ch)) = (price, ch24) {
        let mut t = format!(
            "{name} trades at {}, {} over 24 h",
            w.usd(px.value, &px.claim),
            w.pct(ch.value, &ch.claim, true)
        );
        if let Some(sg) = sigma {
            t.push_str(&format!(
                "; the last daily move was {} against its 90-day history",
                w.sigma(sg.value, &sg.claim)
            ));
        }
        if let Some(e) = erased.filter(|e| e.value < 0.0) {
            t.push_str(&format!(
                ", erasing about {} of market value",
                w.usd_big(-e.value, &e.claim)
            ));
        }
        t.push('.');
        happened.push(t);
    }
    let mut sources = Vec::new();
    let mut tags: BTreeSet<String> = BTreeSet::from([p.asset.clone(), p.topic.slug().to_string()]);
    if !stories.body.stories.is_empty() {
        let mut parts = Vec::new();
        for st in &stories.body.stories {
            let first = &st.members[0];
            let outlets = st.story.outlets.join(", ");
            parts.push(format!(
                "\"{}\" ({}, {})",
                st.story.title,
                outlets,
                w.date(
                    first.item.published_at.unwrap_or(first.item.available_at),
                    &first.item_claim
                )
            ));
            for t in &st.tags {
                if t.kind == canary_model::news::TagKind::Topic {
                    tags.insert(t.name.clone());
                }
            }
        }
        happened.push(format!("In the news: {}.", parts.join("; ")));
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
        let mut t = String::new();
        if let Some(d) = dd90 {
            t.push_str(&format!(
                "Price sits {} below its 90-day high",
                w.pct(-d.value, &d.claim, false)
            ));
            if let Some(a) = dd_ath {
                t.push_str(&format!(
                    " and {} below its all-time high",
                    w.pct(-a.value, &a.claim, false)
                ));
            }
            t.push('.');
        }
        if let Some(v) = rvp {
            let regime = if v.value >= 80.0 {
                "high"
            } else if v.value >= 40.0 {
                "middling"
            } else {
                "low"
            };
            t.push_str(&format!(
                " Volatility is {regime}: 30-day realised volatility stands at the {} percentile of two years.",
                w.ordinal(v.value, &v.claim)
            ));
        }
        if !t.is_empty() {
            context.push(t.trim().to_string());
        }
    }
    if let Some(m) = &miners {
        context.extend(miners_context(&m.body, &mut w));
    }
    // Old inputs (a latest value, too old) and absent ones (none at all) are named apart.
    let named = |pick: &dyn Fn(&Warning) -> bool| -> Vec<&str> {
        let set: BTreeSet<&str> = warnings
            .iter()
            .filter(|x| pick(x))
            .map(|x| x.series.as_str())
            .collect();
        set.into_iter().collect()
    };
    let stale = named(&|x| x.kind == crate::WarningKind::Stale && x.last_time.is_some());
    if !stale.is_empty() {
        context.push(format!(
            "Some inputs are old and are used as the latest known, not as current: {}.",
            stale.join(", ")
        ));
    }
    let absent = named(&|x| {
        x.kind == crate::WarningKind::Assumed
            || (x.kind == crate::WarningKind::Stale && x.last_time.is_none())
    });
    if !absent.is_empty() {
        context.push(format!(
            "Built without: {} (no data at the time).",
            absent.join(", ")
        ));
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
        let parts: Vec<String> = rows
            .iter()
            .take(3)
            .filter_map(|c| {
                let vc = c.value_claim.as_ref()?;
                let v = 100.0 * c.value?;
                let percentile = p.method.components.iter().any(|m| {
                    m.key == c.key
                        && m.score == c.score
                        && m.normalise == canary_analytics::score::Normalise::Percentile
                });
                Some(if percentile {
                    format!(
                        "{} (at the {} percentile of its history)",
                        c.label,
                        w.ordinal(v, vc)
                    )
                } else {
                    format!("{} (scoring {} of 100)", c.label, w.num(v, 0, vc))
                })
            })
            .collect();
        if !parts.is_empty() {
            analysis.push(format!("{name_k} is driven most by {}.", parts.join(", ")));
        }
    }
    let missing: Vec<&str> = s
        .components
        .iter()
        .filter(|c| c.missing.is_some() && c.score == canary_analytics::score::ScoreKind::Risk)
        .map(|c| c.label.as_str())
        .collect();
    if !missing.is_empty() {
        analysis.push(format!(
            "Left out for want of data: {}; the score rests on the components that had data.",
            missing.join("; ")
        ));
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
        let trig = format!(
            "broken on a {} close below {}",
            sup.broken_if.timeframe,
            w.usd(sup.broken_if.line, &sup.broken_if.claim)
        );
        watch_text.push(format!("Support: {zone} ({dist}), {trig}."));
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
        let trig = if t.gap_volume_share < 0.05 {
            "the gap above it barely traded in the last year".to_string()
        } else {
            format!(
                "the gap above it traded {} of the usual volume",
                w.share(t.gap_volume_share, &t.trapdoor_claim)
            )
        };
        watch_text.push(format!(
            "Trapdoor: {zone} ({dist}) if support breaks; {trig}."
        ));
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
        let trig = format!(
            "reclaimed on a {} close above {}",
            r.broken_if.timeframe,
            w.usd(r.broken_if.line, &r.broken_if.claim)
        );
        watch_text.push(format!("Resistance: {zone} ({dist}), {trig}."));
        watch_rows.push(WatchRow {
            what: "Resistance",
            level: lv,
            zone,
            distance: dist,
            trigger: trig,
        });
    }
    if let Some(m) = &wb.momentum {
        let mut t = format!(
            "Momentum: {} RSI 14 at {}, {}",
            m.momentum.timeframe,
            w.num(m.momentum.rsi, 1, &m.claim),
            m.momentum.state
        );
        if let Some(d) = m.momentum.divergence {
            t.push_str(&format!(", with a {d} divergence"));
        }
        t.push('.');
        watch_text.push(t);
    }
    if let Some(rd) = rsi_d {
        watch_text.push(format!("Daily RSI 14: {}.", w.num(rd.value, 1, &rd.claim)));
    }

    // Risks, opportunities and the Take.
    let mut risks = Vec::new();
    let mut opportunities = Vec::new();
    if let (Some(sup), Some(t)) = (&wb.support, &wb.trapdoor) {
        risks.push(format!(
            "A {} close below {} opens the way to the trapdoor near {}, through a thinly traded gap.",
            sup.broken_if.timeframe,
            w.usd(sup.broken_if.line, &sup.broken_if.claim),
            w.usd(t.level.price, &t.level.claim)
        ));
    } else if let Some(sup) = &wb.support {
        risks.push(format!(
            "A {} close below {} breaks the nearest support.",
            sup.broken_if.timeframe,
            w.usd(sup.broken_if.line, &sup.broken_if.claim)
        ));
    }
    if let Some(m) = &miners {
        let under: Vec<String> = m
            .body
            .companies
            .iter()
            .filter_map(|c| {
                let f = c.figures.iter().find(|f| f.key == "margin")?;
                let v = f.figure.value().filter(|v| *v < 0.0)?;
                Some(format!(
                    "{} ({})",
                    c.ticker,
                    w.pct(v, f.claim.as_ref()?, true)
                ))
            })
            .collect();
        if !under.is_empty() {
            risks.push(format!(
                "Miners with a negative cash margin at this price may sell more of their coins: {}.",
                under.join(", ")
            ));
        }
    }
    if let Some(m) = &wb.momentum
        && m.momentum.state == "oversold"
    {
        opportunities.push(format!(
            "{} RSI 14 is oversold at {}: selling is stretched, and a reflex rally is common from such readings.",
            m.momentum.timeframe,
            w.num(m.momentum.rsi, 1, &m.claim)
        ));
    }
    if let Some(r) = &wb.resistance {
        opportunities.push(format!(
            "A {} close above {} would reclaim resistance and turn the picture.",
            r.broken_if.timeframe,
            w.usd(r.broken_if.line, &r.broken_if.claim)
        ));
    }
    let take = match (s.label, &wb.support, &wb.resistance) {
        (Some(Label::Bearish), _, Some(r)) => format!(
            "Defensive while {name} stays below {}; the view is wrong on a {} close above {}.",
            w.usd(r.zone.0, &r.claim),
            r.broken_if.timeframe,
            w.usd(r.broken_if.line, &r.broken_if.claim)
        ),
        (Some(Label::Bullish), Some(sup), _) => format!(
            "Constructive while {name} holds {}; the view is wrong on a {} close below {}.",
            w.usd(sup.zone.1, &sup.claim),
            sup.broken_if.timeframe,
            w.usd(sup.broken_if.line, &sup.broken_if.claim)
        ),
        (_, Some(sup), Some(r)) => format!(
            "Neutral between {} and {}; a {} close below {} or above {} decides.",
            w.usd(sup.zone.1, &sup.claim),
            w.usd(r.zone.0, &r.claim),
            sup.broken_if.timeframe,
            w.usd(sup.broken_if.line, &sup.broken_if.claim),
            w.usd(r.broken_if.line, &r.broken_if.claim)
        ),
        _ => "No stance: the levels needed to set one are missing.".to_string(),
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
    let read_time = format!("{} min read", w.num(minutes, 0, &read_claim));
    let tag_list: Vec<String> = tags.into_iter().collect();
    // Related: earlier analyses (time before this one) by tags shared, then recency.
    let mut related: Vec<(usize, Timestamp, RelatedRef)> = ctx
        .store()
        .analyses(None)?
        .into_iter()
        .filter(|x| x.as_of < asof)
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

/// The miners' stress in sentences: cash break-evens and margins, coverage prices.
fn miners_context(m: &CompaniesBody, w: &mut Writer) -> Vec<String> {
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
        out.push(format!(
            "Miners' cash break-even prices, as last published: {}; at {} that is the line between earning and burning cash.",
            be.join(", "),
            w.usd(m.price, &m.price_claim)
        ));
    }
    let mut cov = Vec::new();
    for c in &m.companies {
        if let Some((v, id)) = fig(c, "coverage_price_net") {
            cov.push(format!("{} {}", c.ticker, w.usd(v, &id)));
        }
    }
    if !cov.is_empty() {
        out.push(format!(
            "Debt-coverage prices, net of cash (where BTC holdings would just cover net debt): {}.",
            cov.join(", ")
        ));
    }
    out
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
