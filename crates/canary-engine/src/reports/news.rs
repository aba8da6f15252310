//! `news` and `stories`: the news known at T, each item tagged, scored for sentiment and (for
//! an asset and topic) relevance, and grouped into stories — every number a claim, so that
//! scores and analyses cite the items they rest on.

use std::collections::{BTreeMap, BTreeSet};

use canary_model::news::{Label, NewsItem, Sentiment, Tag};
use canary_model::{Claim, ClaimId};
use canary_news::sentiment::{Lexicon, SENTIMENT, mean_sentiment, sentiment_with};
use canary_news::stories::{STORIES, StoryParams, stories as cluster};
use canary_news::tags::{Dictionary, RELEVANCE, relevance};
use serde::Serialize;

use crate::facts::{Kind, Profiles};
use crate::{Context, Draft, EngineError, Report};

const DAY_MS: i64 = 86_400_000;

/// The tagging dictionary: the shipped one, the companies of the facts file, and a user's
/// file if given (`(text, origin)`).
///
/// # Errors
/// [`EngineError::File`] for a user file that is not a valid dictionary.
pub fn news_dictionary(
    profiles: Option<&Profiles>,
    user: Option<(&str, &str)>,
) -> Result<Dictionary, EngineError> {
    let mut d = Dictionary::built_in();
    if let Some(p) = profiles {
        for (ticker, c) in &p.companies {
            let kind = match c.kind {
                Kind::Miner => "miner",
                Kind::Treasury => "treasury",
            };
            d.add_company(ticker, &c.name, kind);
        }
    }
    if let Some((text, origin)) = user {
        d.extend(text, origin).map_err(|e| EngineError::File {
            origin: e.origin,
            message: e.reason,
        })?;
    }
    Ok(d)
}

/// What to read.
#[derive(Debug, Clone)]
pub struct NewsParams {
    /// Items that became available this long before the as-of time.
    pub lookback_ms: i64,
    /// Only items with this tag (a ticker, an exchange or a topic slug; any case).
    pub tag: Option<String>,
    /// Only items from this outlet.
    pub outlet: Option<String>,
    /// Only items of this sentiment.
    pub sentiment: Option<Label>,
    /// Score relevance to this asset (and topic), order by it, and keep only items scoring
    /// at least `min_relevance`.
    pub asset: Option<String>,
    pub topic: Option<String>,
    pub min_relevance: f64,
    /// Show copies (syndicated or lightly edited items) as items of their own.
    pub copies: bool,
    /// At most this many items (the most relevant, else the latest).
    pub limit: usize,
}

impl Default for NewsParams {
    fn default() -> Self {
        NewsParams {
            lookback_ms: 7 * DAY_MS,
            tag: None,
            outlet: None,
            sentiment: None,
            asset: None,
            topic: None,
            min_relevance: 0.0,
            copies: false,
            limit: 50,
        }
    }
}

/// One item as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewsRow {
    #[serde(flatten)]
    pub item: NewsItem,
    pub tags: Vec<Tag>,
    pub sentiment: Sentiment,
    /// Relevance to the asset and topic asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relevance: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub relevance_reasons: Vec<String>,
    /// Outlets that carried a copy of it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_in: Vec<String>,
    pub item_claim: ClaimId,
    pub sentiment_claim: ClaimId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relevance_claim: Option<ClaimId>,
}

/// The items.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewsBody {
    pub items: Vec<NewsRow>,
    /// Items known in the lookback before any filter (copies included).
    pub known: usize,
    pub dictionary: String,
    pub sentiment_method: String,
}

fn method_name(m: canary_model::Method) -> String {
    format!("{} v{}", m.id, m.version)
}

/// An item's text for tagging and sentiment: its title and summary.
fn text_of(i: &NewsItem) -> String {
    canary_news::dedup::item_text(&i.title, &i.summary)
}

/// Tag, score and cite one item.
fn row(
    draft: &mut Draft,
    dict: &Dictionary,
    lex: &Lexicon,
    item: &NewsItem,
    asset: Option<&str>,
    topic: Option<&str>,
) -> NewsRow {
    let asof = draft.as_of;
    let text = text_of(item);
    let tags = dict.tag(&text);
    let sentiment = sentiment_with(lex, &text);
    let item_claim = draft.add(Claim::data(
        format!("news item {}: {}", item.id, item.title),
        1.0,
        "item",
        asof,
        format!("news {}", item.outlet),
        item.url.clone().unwrap_or_else(|| item.source.clone()),
        item.published_at.unwrap_or(item.available_at),
    ));
    let sentiment_claim = draft.add(Claim::derived(
        format!("sentiment of news item {}", item.id),
        sentiment.score,
        "score [-1, 1]",
        asof,
        SENTIMENT.of(&[&item_claim]).param("label", sentiment.label),
    ));
    let (relevance_v, reasons, relevance_claim) = match asset {
        Some(a) => {
            let r = relevance(dict, &tags, a, topic);
            let id = draft.add(Claim::derived(
                format!(
                    "relevance of news item {} to {a}{}",
                    item.id,
                    topic.map(|t| format!(" / {t}")).unwrap_or_default()
                ),
                r.score,
                "score [0, 1]",
                asof,
                RELEVANCE
                    .of(&[&item_claim])
                    .param("asset", a)
                    .param("topic", topic.unwrap_or("-"))
                    .param("dictionary", &dict.version),
            ));
            (Some(r.score), r.reasons, Some(id))
        }
        None => (None, Vec::new(), None),
    };
    NewsRow {
        item: item.clone(),
        tags,
        sentiment,
        relevance: relevance_v,
        relevance_reasons: reasons,
        also_in: Vec::new(),
        item_claim,
        sentiment_claim,
        relevance_claim,
    }
}

fn check_params(
    dict: &Dictionary,
    asset: Option<&str>,
    topic: Option<&str>,
) -> Result<(), EngineError> {
    if let Some(t) = topic {
        if asset.is_none() {
            return Err(EngineError::Param {
                name: "topic",
                value: t.into(),
                reason: "relevance to a topic is scored for an asset: name the asset too".into(),
            });
        }
        if !dict.has_topic(t) {
            return Err(EngineError::Param {
                name: "topic",
                value: t.into(),
                reason: format!(
                    "not a topic of the dictionary; known: {}",
                    dict.topics().join(", ")
                ),
            });
        }
    }
    Ok(())
}

/// The news known at T.
///
/// # Errors
/// A topic the dictionary does not know (or without an asset); a database error.
pub fn news(
    ctx: &Context<'_>,
    dict: &Dictionary,
    lex: &Lexicon,
    p: &NewsParams,
) -> Result<Report<NewsBody>, EngineError> {
    check_params(dict, p.asset.as_deref(), p.topic.as_deref())?;
    let input = ctx.news(p.lookback_ms)?;
    let mut draft = Draft::new(ctx.asof());
    draft.uses(&input);
    let all = &input.value;
    // Copies fold into the item they copy (which may be outside the lookback: then the
    // earliest copy in it stands for the story).
    let ids: BTreeSet<&str> = all.iter().map(|i| i.id.as_str()).collect();
    let mut also: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let shown: Vec<&NewsItem> = all
        .iter()
        .filter(|i| {
            if p.copies {
                return true;
            }
            match i.duplicate_of.as_deref() {
                Some(of) if ids.contains(of) => {
                    also.entry(of).or_default().push(i.outlet.clone());
                    false
                }
                _ => true,
            }
        })
        .collect();
    let tag = p.tag.as_deref().map(str::to_lowercase);
    let mut rows = Vec::new();
    let mut scratch = Draft::new(ctx.asof());
    for item in shown {
        if p.outlet
            .as_deref()
            .is_some_and(|o| !item.outlet.eq_ignore_ascii_case(o))
        {
            continue;
        }
        // Score into a scratch draft first: only items shown put claims in the report.
        let r = row(
            &mut scratch,
            dict,
            lex,
            item,
            p.asset.as_deref(),
            p.topic.as_deref(),
        );
        if tag
            .as_deref()
            .is_some_and(|t| !r.tags.iter().any(|x| x.name.to_lowercase() == t))
        {
            continue;
        }
        if p.sentiment.is_some_and(|s| s != r.sentiment.label) {
            continue;
        }
        if r.relevance.is_some_and(|v| v < p.min_relevance) {
            continue;
        }
        rows.push(r);
    }
    if p.asset.is_some() {
        rows.sort_by(|a, b| {
            b.relevance
                .unwrap_or(0.0)
                .total_cmp(&a.relevance.unwrap_or(0.0))
                .then(b.item.available_at.cmp(&a.item.available_at))
                .then(a.item.id.cmp(&b.item.id))
        });
    } else {
        rows.reverse(); // newest first
    }
    rows.truncate(p.limit);
    let rows = rows
        .into_iter()
        .map(|r| {
            let mut r = row(
                &mut draft,
                dict,
                lex,
                &r.item,
                p.asset.as_deref(),
                p.topic.as_deref(),
            );
            r.also_in = also.get(r.item.id.as_str()).cloned().unwrap_or_default();
            r
        })
        .collect();
    draft.finish(NewsBody {
        items: rows,
        known: all.len(),
        dictionary: dict.version.clone(),
        sentiment_method: method_name(SENTIMENT),
    })
}

/// What stories to make.
#[derive(Debug, Clone)]
pub struct StoriesParams {
    pub lookback_ms: i64,
    pub clustering: StoryParams,
    /// Score and order by relevance to this asset (and topic).
    pub asset: Option<String>,
    pub topic: Option<String>,
    pub min_relevance: f64,
    pub limit: usize,
}

impl Default for StoriesParams {
    fn default() -> Self {
        StoriesParams {
            lookback_ms: 3 * DAY_MS,
            clustering: StoryParams::default(),
            asset: None,
            topic: None,
            min_relevance: 0.0,
            limit: 20,
        }
    }
}

/// One story as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoryRow {
    #[serde(flatten)]
    pub story: canary_model::news::Story,
    /// Its items, in the order seen.
    pub members: Vec<NewsRow>,
    pub sentiment: Label,
    pub sentiment_score: f64,
    pub tags: Vec<Tag>,
    /// The highest relevance of its items.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relevance: Option<f64>,
    /// Claims: the number of outlets, and the mean sentiment.
    pub sources_claim: ClaimId,
    pub sentiment_claim: ClaimId,
}

/// The stories.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoriesBody {
    pub stories: Vec<StoryRow>,
    pub items: usize,
    pub dictionary: String,
    pub method: String,
}

/// The stories of the news known at T: the items of the lookback clustered, each story
/// with its items, outlets, mean sentiment and tags; ordered by relevance when an asset is
/// given, then by the number of outlets, then by recency.
///
/// # Errors
/// As [`news`].
pub fn stories(
    ctx: &Context<'_>,
    dict: &Dictionary,
    lex: &Lexicon,
    p: &StoriesParams,
) -> Result<Report<StoriesBody>, EngineError> {
    check_params(dict, p.asset.as_deref(), p.topic.as_deref())?;
    let input = ctx.news(p.lookback_ms)?;
    let mut draft = Draft::new(ctx.asof());
    draft.uses(&input);
    let items = &input.value;
    let by_id: BTreeMap<&str, &NewsItem> = items.iter().map(|i| (i.id.as_str(), i)).collect();
    let mut scratch = Draft::new(ctx.asof());
    let mut rows: Vec<(canary_model::news::Story, Vec<NewsRow>)> = Vec::new();
    for s in cluster(items, p.clustering) {
        let members: Vec<NewsRow> = s
            .items
            .iter()
            .filter_map(|id| by_id.get(id.as_str()))
            .map(|i| {
                row(
                    &mut scratch,
                    dict,
                    lex,
                    i,
                    p.asset.as_deref(),
                    p.topic.as_deref(),
                )
            })
            .collect();
        let best = members
            .iter()
            .filter_map(|m| m.relevance)
            .fold(None, |a: Option<f64>, r| Some(a.map_or(r, |a| a.max(r))));
        if best.is_some_and(|b| b < p.min_relevance) {
            continue;
        }
        rows.push((s, members));
    }
    let best = |r: &[NewsRow]| r.iter().filter_map(|m| m.relevance).fold(0.0_f64, f64::max);
    rows.sort_by(|a, b| {
        best(&b.1)
            .total_cmp(&best(&a.1))
            .then(b.0.outlets.len().cmp(&a.0.outlets.len()))
            .then(b.0.last_seen.cmp(&a.0.last_seen))
            .then(a.0.id.cmp(&b.0.id))
    });
    rows.truncate(p.limit);
    let asof = ctx.asof();
    let mut out = Vec::new();
    for (story, members) in rows {
        let members: Vec<NewsRow> = members
            .iter()
            .map(|m| {
                row(
                    &mut draft,
                    dict,
                    lex,
                    &m.item,
                    p.asset.as_deref(),
                    p.topic.as_deref(),
                )
            })
            .collect();
        let item_ids: Vec<&ClaimId> = members.iter().map(|m| &m.item_claim).collect();
        let sources_claim = draft.add(Claim::derived(
            format!("outlets carrying story {}: {}", story.id, story.title),
            story.outlets.len() as f64,
            "outlets",
            asof,
            STORIES
                .of(&item_ids)
                .param("threshold", p.clustering.threshold)
                .param("window_h", p.clustering.window_ms / 3_600_000),
        ));
        let scores: Vec<f64> = members.iter().map(|m| m.sentiment.score).collect();
        let (label, score) = mean_sentiment(&scores).unwrap_or((Label::Neutral, 0.0));
        let sent_ids: Vec<&ClaimId> = members.iter().map(|m| &m.sentiment_claim).collect();
        let sentiment_claim = draft.add(Claim::derived(
            format!("mean sentiment of story {}", story.id),
            score,
            "score [-1, 1]",
            asof,
            SENTIMENT
                .of(&sent_ids)
                .param("aggregate", "mean")
                .param("label", label),
        ));
        let tags: BTreeSet<Tag> = members
            .iter()
            .flat_map(|m| m.tags.iter().cloned())
            .collect();
        let relevance = p.asset.as_ref().map(|_| best(&members));
        out.push(StoryRow {
            story,
            members,
            sentiment: label,
            sentiment_score: score,
            tags: tags.into_iter().collect(),
            relevance,
            sources_claim,
            sentiment_claim,
        });
    }
    draft.finish(StoriesBody {
        stories: out,
        items: items.len(),
        dictionary: dict.version.clone(),
        method: method_name(STORIES),
    })
}

/// What to search for.
#[derive(Debug, Clone, Default)]
pub struct SearchParams {
    /// Words (with [`SearchParams::related`] unset).
    pub text: String,
    /// Instead of words: the items related to this one.
    pub related: Option<String>,
    pub lookback_ms: Option<i64>,
    pub tag: Option<String>,
    pub outlet: Option<String>,
    pub sentiment: Option<Label>,
    pub limit: usize,
}

/// Related items rank by BM25 likeness, times one plus the share of tags they have in common
/// (Jaccard), times `exp(-|Δt| / 7 days)`.
const RELATED_DECAY_MS: f64 = 7.0 * 86_400_000.0;

/// Bring the search index up to the store: add every item written since it was last synced.
///
/// # Errors
/// A database or index error.
pub fn sync_news_index(
    store: &dyn canary_store::Stores,
    index: &mut canary_search::NewsIndex,
) -> Result<usize, EngineError> {
    let (items, stamp) = store.news_written_after(index.synced_to()?)?;
    if !items.is_empty() {
        index.add(&items, stamp)?;
    }
    Ok(items.len())
}

/// Search the news known at T (the index is synced first): by words, or the items related
/// to one; filtered by time, outlet, tag and sentiment. Rows carry their search score in
/// `relevance` (BM25; for related items, the combined score above).
///
/// # Errors
/// An item id the index does not know; a database or index error.
pub fn news_search(
    ctx: &Context<'_>,
    index: &mut canary_search::NewsIndex,
    dict: &Dictionary,
    lex: &Lexicon,
    p: &SearchParams,
) -> Result<Report<NewsBody>, EngineError> {
    let mut scratch = None;
    let index = ctx.news_index(index, &mut scratch)?;
    let asof = ctx.asof();
    let q = canary_search::SearchQuery {
        text: p.text.clone(),
        asof: Some(asof),
        since: p.lookback_ms.map(|l| asof.add_millis(-l)),
        outlet: p.outlet.clone(),
        // Tag and sentiment filters come after: fetch enough to fill the page.
        limit: (p.limit * 10).clamp(50, 2_000),
    };
    let mut draft = Draft::new(asof);
    let (hits, origin) = match &p.related {
        Some(id) => {
            let origin = ctx
                .news_by_ids(std::slice::from_ref(id))?
                .into_iter()
                .next()
                .ok_or_else(|| {
                    EngineError::Empty(format!("no news item {id} known as of {asof}"))
                })?;
            (index.more_like(id, &q)?, Some(origin))
        }
        None => (index.search(&q)?, None),
    };
    let ids: Vec<String> = hits.iter().map(|h| h.id.clone()).collect();
    let items: BTreeMap<String, NewsItem> = ctx
        .news_by_ids(&ids)?
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    let origin_tags: BTreeSet<Tag> = origin
        .as_ref()
        .map(|o| dict.tag(&text_of(o)).into_iter().collect())
        .unwrap_or_default();
    let tag = p.tag.as_deref().map(str::to_lowercase);
    let mut scratch = Draft::new(asof);
    let mut scored: Vec<(f64, NewsItem)> = Vec::new();
    // An item and its copies share a root: the item they copy, or themselves.
    let root = |i: &NewsItem| i.duplicate_of.clone().unwrap_or_else(|| i.id.clone());
    let mut seen_roots: BTreeSet<String> = BTreeSet::new();
    let mut also: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for h in &hits {
        let Some(item) = items.get(&h.id) else {
            continue;
        };
        // Copies of the item asked about are the same story, not related news.
        if origin.as_ref().is_some_and(|o| root(item) == root(o)) {
            continue;
        }
        // One row per text: later hits of the same root add their outlet.
        if !seen_roots.insert(root(item)) {
            also.entry(root(item))
                .or_default()
                .push(item.outlet.clone());
            continue;
        }
        let r = row(&mut scratch, dict, lex, item, None, None);
        if tag
            .as_deref()
            .is_some_and(|t| !r.tags.iter().any(|x| x.name.to_lowercase() == t))
        {
            continue;
        }
        if p.sentiment.is_some_and(|s| s != r.sentiment.label) {
            continue;
        }
        let score = match &origin {
            Some(o) => {
                let mine: BTreeSet<Tag> = r.tags.iter().cloned().collect();
                let union = mine.union(&origin_tags).count();
                let shared = if union == 0 {
                    0.0
                } else {
                    mine.intersection(&origin_tags).count() as f64 / union as f64
                };
                let dt = (item.available_at.millis() - o.available_at.millis()).abs() as f64;
                h.score * (1.0 + shared) * (-dt / RELATED_DECAY_MS).exp()
            }
            None => h.score,
        };
        scored.push((score, item.clone()));
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
    scored.truncate(p.limit);
    let rows = scored
        .into_iter()
        .map(|(score, item)| {
            let mut r = row(&mut draft, dict, lex, &item, None, None);
            r.relevance = Some(score);
            r.also_in = also.get(&root(&item)).cloned().unwrap_or_default();
            r
        })
        .collect();
    draft.finish(NewsBody {
        items: rows,
        known: hits.len(),
        dictionary: dict.version.clone(),
        sentiment_method: method_name(SENTIMENT),
    })
}
