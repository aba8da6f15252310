//! The analysis: a scored, sourced market analysis composed from the engine's reports as of
//! a time — stats, scores, the Watch, news and, for the miners' angle, the companies' stress
//! figures. It computes nothing of its own: every number in its text is a claim of those
//! reports, written through [`text::Writer`] and checked by [`text::check_grounding`]; the
//! phrasing is chosen from the claims by fixed rules, so the same inputs give the same text.
//!
//! [`analyze`] reads the reports (`inputs.rs`) and writes the page in order, one step per
//! part: the headline, scores line and summary (`lead.rs`), "What happened" (`happened.rs`),
//! "Context" with the derivatives when known (`background.rs`), "Analysis", the score in words (`drivers.rs`), "Watch"
//! (`watch.rs`), "Risks", "Opportunities" and the Take (`outlook.rs`), and the sources, tags
//! and related news and analyses (`sources.rs`).

mod background;
mod drivers;
#[cfg(test)]
mod fixture;
mod happened;
mod inputs;
mod lead;
mod outlook;
pub mod phrases;
pub mod render;
mod sources;
pub mod text;
mod watch;

use std::collections::BTreeSet;

use canary_analytics::score::Methodology;
use canary_model::news::Label;
use canary_model::{Claim, ClaimId, ClaimSet, Method, Symbol, Timestamp};
use canary_news::sentiment::Lexicon;
use canary_news::tags::Dictionary;
use serde::Serialize;

use crate::{Context, Draft, EngineError, Report, StatsBody};
use inputs::Inputs;
use text::{Grounded, Writer};

/// The analysis composer's version: bump when its rules change.
pub const ANALYSIS: Method = Method::new("analysis", 2);

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

/// A stat of the stats report, by key.
fn stat<'a>(stats: &'a StatsBody, key: &str) -> Option<&'a canary_analytics::stats::Stat> {
    stats.stats.iter().find(|s| s.key == key)
}

/// A written value as a sentence macro's argument.
fn v(s: &str) -> minijinja::Value {
    minijinja::Value::from(s)
}

/// Written values as one list argument.
fn list(l: Vec<String>) -> minijinja::Value {
    minijinja::Value::from(l)
}

/// Compose the analysis as of the context's time: the reports read, then each section
/// written in page order (the order the numbers are recorded in).
///
/// # Errors
/// No bars of the symbol; a database error; a report that cannot be made.
pub fn analyze(
    ctx: &Context<'_>,
    p: &AnalyzeParams,
    dict: &Dictionary,
    lex: &Lexicon,
    index: Option<&mut canary_search::NewsIndex>,
) -> Result<Report<Analysis>, EngineError> {
    let asof = ctx.asof();
    let mut draft = Draft::new(asof);
    let inputs = Inputs::gather(ctx, p, dict, lex)?;
    // Every report's claims and warnings come with the analysis.
    let (warnings, simulated) = inputs.carry(&mut draft);
    let mut w = Writer::default();
    let name = if p.asset == "BTC" {
        "Bitcoin".to_string()
    } else {
        p.asset.clone()
    };
    let (stats, s, wb) = (&inputs.stats.body, &inputs.score.body, &inputs.watch.body);
    let (news, stories) = (&inputs.news.body, &inputs.stories.body);
    let miners = inputs.miners.as_ref().map(|m| &m.body);
    let ph = phrases::Phrases::new(&p.templates.phrases)?;

    let headline = lead::headline(stats, p.topic, &name, asof, &mut w, &ph)?;
    let scores_line = lead::scores_line(s, &mut w, &ph)?;
    let summary = lead::summary(s, &name, &mut w, &ph)?;
    let happened = happened::what_happened(stats, stories, &name, &mut w, &ph)?;
    let sources = sources::sources(news, &mut w);
    let derivatives = inputs
        .derivatives
        .as_ref()
        .map(|d| (&d.body, inputs.liqmap.as_ref().map(|m| &m.body)));
    let more = background::More {
        markets: inputs.markets.as_ref().map(|m| &m.body),
        miners,
        network: inputs.network.as_ref().map(|n| &n.body),
        derivatives,
    };
    let context = background::context(stats, &more, &warnings, &mut w, &ph)?;
    let analysis = drivers::score_in_words(s, &p.method, &mut w, &ph)?;
    let watch = watch::watch_section(wb, stats, &mut w, &ph)?;
    let risks = outlook::risks(wb, miners, derivatives, &mut w, &ph)?;
    let opportunities = outlook::opportunities(wb, &mut w, &ph)?;
    let take = outlook::take(s.label, wb, &name, &mut w, &ph)?;
    let sections = vec![
        section("what_happened", "What happened", happened),
        section("context", "Context", context),
        section("analysis", "Analysis", analysis),
        section("watch", "Watch", watch.paragraphs),
        section("risks", "Risks", risks),
        section("opportunities", "Opportunities", opportunities),
    ];
    let read_time = read_time(&sections, &take, &mut draft, &mut w, &ph)?;
    let tag_list: Vec<String> = sources::tags(p, stories, news).into_iter().collect();
    // Related news: items like the lead story's first item, not cited, known at T.
    let mut related_news = Vec::new();
    if let (Some(ix), Some(lead)) = (index, stories.stories.first()) {
        let cited = sources::cited(&sources, stories);
        let found = sources::like_the_lead(ctx, ix, dict, lex, lead)?;
        draft.claims.extend(found.claims.clone());
        related_news = sources::related_news(&found.body, &cited, dict, p, &mut w);
    }
    let related = sources::related_analyses(ctx, &tag_list)?;
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
        watch: watch.rows,
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

fn section(key: &'static str, title: &'static str, paragraphs: Vec<String>) -> Section {
    Section {
        key,
        title,
        paragraphs,
    }
}

/// The read time: the words of the sections and the Take at 200 a minute, at least one
/// minute, as a claim of its own.
fn read_time(
    sections: &[Section],
    take: &str,
    draft: &mut Draft,
    w: &mut Writer,
    ph: &phrases::Phrases,
) -> Result<String, EngineError> {
    let words: usize = sections
        .iter()
        .flat_map(|s| &s.paragraphs)
        .map(|p| p.split_whitespace().count())
        .sum::<usize>()
        + take.split_whitespace().count();
    let minutes = (words as f64 / 200.0).ceil().max(1.0);
    let read_claim = draft.add(Claim::derived(
        "read time",
        minutes,
        "min",
        draft.as_of,
        ANALYSIS
            .of(&[])
            .param("words", words)
            .param("words_per_minute", 200),
    ));
    let mins = w.num(minutes, 0, &read_claim);
    Ok(ph.say("read_time", &[v(&mins)])?)
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

#[cfg(test)]
mod tests {
    use super::fixture::{Crash, phrases};
    use super::*;

    fn words(n: usize) -> String {
        vec!["word"; n].join(" ")
    }

    /// 200 words a minute over the sections and the Take, rounded up, at least a minute;
    /// the minutes a claim of their own, recorded by the writer.
    #[test]
    fn read_time_counts_the_sections_and_the_take() {
        let crash = Crash::load();
        let sections = [
            section("a", "A", vec![words(150), words(100)]),
            section("b", "B", vec![words(149)]),
        ];
        let mut draft = Draft::new(crash.asof);
        let mut w = Writer::default();
        let t = read_time(&sections, &words(2), &mut draft, &mut w, &phrases()).unwrap();
        assert_eq!(t, "3 min read");
        let n = &w.numbers[0];
        let claim = draft.claims.get(&n.claim).expect("the read time's claim");
        assert_eq!((n.text.as_str(), claim.value), ("3", 3.0));
        assert_eq!(
            read_time(&[], "", &mut draft, &mut w, &phrases()).unwrap(),
            "1 min read"
        );
    }

    /// The whole analysis records the numbers of its steps in page order: the lead's first.
    #[test]
    fn the_analysis_writes_its_steps_in_page_order() {
        let crash = Crash::load();
        let p = Crash::params(Topic::Miners);
        let r = analyze(&crash.ctx(), &p, &crash.dict, crash.lex, None).unwrap();
        let a = &r.body;
        let inputs = crash.inputs(Topic::Miners);
        let mut w = Writer::default();
        let ph = phrases();
        let headline = lead::headline(
            &inputs.stats.body,
            p.topic,
            "Bitcoin",
            crash.asof,
            &mut w,
            &ph,
        )
        .unwrap();
        assert_eq!(a.headline, headline);
        assert_eq!(a.numbers[..w.numbers.len()], w.numbers[..]);
        let keys: Vec<&str> = a.sections.iter().map(|s| s.key).collect();
        assert_eq!(
            keys,
            [
                "what_happened",
                "context",
                "analysis",
                "watch",
                "risks",
                "opportunities"
            ]
        );
        assert_eq!(a.sources.len(), 4);
        assert!(a.related_news.is_empty(), "no index, no related news");
        assert!(a.id.starts_with('a') && a.id.len() == 17, "{}", a.id);
    }
}
