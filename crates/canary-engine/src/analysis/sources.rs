//! What an analysis cites and what it points to: its sources (the news items it read), its
//! tags, the related news it does not cite (items like the lead story's, from the search
//! index) and the earlier analyses that share its tags.

use std::collections::BTreeSet;

use canary_model::Timestamp;
use canary_model::news::TagKind;
use canary_news::sentiment::Lexicon;
use canary_news::tags::Dictionary;

use super::text::Writer;
use super::{AnalyzeParams, RELATED, RelatedRef, SourceRef, Topic};
use crate::{Context, EngineError, NewsBody, NewsRow, Report, StoriesBody, StoryRow};

/// A news item cited, dated when it was published (or, failing that, known).
fn cite(row: &NewsRow, w: &mut Writer) -> SourceRef {
    SourceRef {
        outlet: row.item.outlet.clone(),
        date: w.date(
            row.item.published_at.unwrap_or(row.item.available_at),
            &row.item_claim,
        ),
        title: row.item.title.clone(),
        url: row.item.url.clone(),
        claim: row.item_claim.clone(),
    }
}

/// The sources: every news item the analysis read, in the report's order.
pub(super) fn sources(news: &NewsBody, w: &mut Writer) -> Vec<SourceRef> {
    news.items.iter().map(|r| cite(r, w)).collect()
}

/// The tags: the asset, the topic, the stories' topics and the sources' tags other than
/// exchanges.
pub(super) fn tags(p: &AnalyzeParams, stories: &StoriesBody, news: &NewsBody) -> BTreeSet<String> {
    let mut tags: BTreeSet<String> = BTreeSet::from([p.asset.clone(), p.topic.slug().to_string()]);
    for st in &stories.stories {
        for t in &st.tags {
            if t.kind == TagKind::Topic {
                tags.insert(t.name.clone());
            }
        }
    }
    for r in &news.items {
        for t in &r.tags {
            if t.kind != TagKind::Exchange {
                tags.insert(t.name.clone());
            }
        }
    }
    tags
}

/// The titles the analysis already cites: its sources and every item of its stories.
pub(super) fn cited<'a>(sources: &'a [SourceRef], stories: &'a StoriesBody) -> BTreeSet<&'a str> {
    sources
        .iter()
        .map(|s| s.title.as_str())
        .chain(
            stories
                .stories
                .iter()
                .flat_map(|st| st.members.iter().map(|m| m.item.title.as_str())),
        )
        .collect()
}

/// The news like the lead story's first item, known in the week before T (BM25 likeness in
/// the search index).
///
/// # Errors
/// A database or index error.
pub(super) fn like_the_lead(
    ctx: &Context<'_>,
    index: &mut canary_search::NewsIndex,
    dict: &Dictionary,
    lex: &Lexicon,
    lead: &StoryRow,
) -> Result<Report<NewsBody>, EngineError> {
    crate::news_search(
        ctx,
        index,
        dict,
        lex,
        &crate::SearchParams {
            related: Some(lead.members[0].item.id.clone()),
            lookback_ms: Some(7 * 86_400_000),
            limit: 10,
            ..crate::SearchParams::default()
        },
    )
}

/// Related news: the first [`RELATED`] items `found` that are not `cited` and bear on the
/// asset and topic as much as the sources do.
pub(super) fn related_news(
    found: &NewsBody,
    cited: &BTreeSet<&str>,
    dict: &Dictionary,
    p: &AnalyzeParams,
    w: &mut Writer,
) -> Vec<SourceRef> {
    let topic = match p.topic {
        Topic::Miners => Some("bitcoin-miners"),
        Topic::Market => None,
    };
    let relevant =
        |x: &&NewsRow| canary_news::tags::relevance(dict, &x.tags, &p.asset, topic).score >= 0.5;
    found
        .items
        .iter()
        .filter(|x| !cited.contains(x.item.title.as_str()))
        .filter(relevant)
        .take(RELATED)
        .map(|row| cite(row, w))
        .collect()
}

/// Related analyses: earlier ones (about a time before T) by the number of `tags` they
/// share, then recency; one per headline, at most [`RELATED`].
///
/// # Errors
/// A database error.
pub(super) fn related_analyses(
    ctx: &Context<'_>,
    tags: &[String],
) -> Result<Vec<RelatedRef>, EngineError> {
    let mut related: Vec<(usize, Timestamp, RelatedRef)> = ctx
        .analyses_before(None)?
        .into_iter()
        .filter_map(|x| {
            let shared: Vec<String> = x
                .tags
                .iter()
                .filter(|t| tags.contains(t))
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
    Ok(related
        .into_iter()
        .map(|r| r.2)
        .filter(|r| seen_subjects.insert(r.headline.clone()))
        .take(RELATED)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Crash;
    use super::*;
    use canary_store::StoredAnalysis;

    /// Every item read is a source, dated from its own claim.
    #[test]
    fn every_item_read_is_a_source() {
        let crash = Crash::load();
        let news = crash.inputs(Topic::Miners).news.body;
        assert_eq!(news.items.len(), 4, "the crash analysis cites four sources");
        let mut w = Writer::default();
        let out = sources(&news, &mut w);
        assert_eq!(out.len(), news.items.len());
        for ((s, row), n) in out.iter().zip(&news.items).zip(&w.numbers) {
            assert_eq!(s.title, row.item.title);
            assert_eq!(s.claim, row.item_claim);
            assert_eq!((&n.text, &n.claim), (&s.date, &row.item_claim));
        }
    }

    /// The tags: asset and topic always, the stories' topics, the sources' tags but their
    /// exchanges.
    #[test]
    fn tags_from_the_asset_topic_stories_and_sources() {
        let crash = Crash::load();
        let inputs = crash.inputs(Topic::Miners);
        let p = Crash::params(Topic::Miners);
        let t = tags(&p, &inputs.stories.body, &inputs.news.body);
        assert!(t.contains("BTC") && t.contains("bitcoin-miners"), "{t:?}");
        let news_tags = inputs.news.body.items.iter().flat_map(|r| &r.tags);
        for tag in news_tags.filter(|x| x.kind != TagKind::Exchange) {
            assert!(t.contains(&tag.name), "{tag:?}");
        }
        let story_tags = inputs.stories.body.stories.iter().flat_map(|s| &s.tags);
        for tag in story_tags.filter(|x| x.kind == TagKind::Topic) {
            assert!(t.contains(&tag.name), "{tag:?}");
        }
        // An exchange named by a source is not a tag of the analysis.
        let mut news = inputs.news.body.clone();
        news.items[0].tags.push(canary_model::news::Tag {
            kind: TagKind::Exchange,
            name: "some-exchange".into(),
        });
        assert!(!tags(&p, &inputs.stories.body, &news).contains("some-exchange"));
        let mut empty = inputs.news.body.clone();
        empty.items.clear();
        let mut none = inputs.stories.body.clone();
        none.stories.clear();
        assert_eq!(
            tags(&Crash::params(Topic::Market), &none, &empty),
            BTreeSet::from(["BTC".to_string(), "crypto-market".to_string()])
        );
    }

    /// Related news: like the lead story, neither a source nor a story's item, relevant to
    /// the miners, at most three.
    #[test]
    fn related_news_is_like_the_lead_and_not_cited() {
        let crash = Crash::load();
        let inputs = crash.inputs(Topic::Miners);
        let dir = tempfile::tempdir().unwrap();
        let mut index = canary_search::NewsIndex::open(dir.path()).unwrap();
        let lead = inputs.stories.body.stories.first().expect("a lead story");
        let found = like_the_lead(&crash.ctx(), &mut index, &crash.dict, crash.lex, lead).unwrap();
        assert!(!found.body.items.is_empty(), "the lead has look-alikes");
        let mut w = Writer::default();
        let srcs = sources(&inputs.news.body, &mut w);
        let cited = cited(&srcs, &inputs.stories.body);
        assert!(cited.contains(lead.members[0].item.title.as_str()));
        let p = Crash::params(Topic::Miners);
        let mut w = Writer::default();
        let related = related_news(&found.body, &cited, &crash.dict, &p, &mut w);
        assert!(related.len() <= RELATED);
        for r in &related {
            assert!(!cited.contains(r.title.as_str()), "{} is cited", r.title);
            let row = found
                .body
                .items
                .iter()
                .find(|x| x.item.title == r.title)
                .unwrap();
            assert!(
                canary_news::tags::relevance(&crash.dict, &row.tags, "BTC", Some("bitcoin-miners"))
                    .score
                    >= 0.5
            );
        }
        // With nothing cited, the market's angle finds items on the asset.
        let market = Crash::params(Topic::Market);
        let uncited = related_news(&found.body, &BTreeSet::new(), &crash.dict, &market, &mut w);
        assert!(!uncited.is_empty());
        assert_eq!(uncited[0].title, found.body.items[0].item.title);
        // Nothing is related when everything found is cited.
        let all: BTreeSet<&str> = found
            .body
            .items
            .iter()
            .map(|x| x.item.title.as_str())
            .collect();
        assert!(related_news(&found.body, &all, &crash.dict, &p, &mut w).is_empty());
    }

    /// Earlier analyses by tags shared, then recency; one per headline; none from after T.
    #[test]
    fn related_analyses_share_tags_and_come_before() {
        let mut crash = Crash::load();
        let stored = |id: &str, day: &str, headline: &str, tags: &[&str]| StoredAnalysis {
            id: id.into(),
            symbol: "BTCUSDT".into(),
            topic: "bitcoin-miners".into(),
            as_of: Timestamp::parse(day).unwrap(),
            version: "analysis v1".into(),
            headline: headline.into(),
            label: None,
            tags: tags.iter().map(|t| (*t).to_string()).collect(),
            markdown: String::new(),
            json: "{}".into(),
            created_at: Timestamp::parse(day).unwrap(),
            html: None,
        };
        for a in [
            stored("a1", "2026-02-01", "one tag", &["BTC", "eth"]),
            stored("a2", "2026-02-02", "two tags", &["BTC", "bitcoin-miners"]),
            stored("a3", "2026-02-03", "two tags", &["BTC", "bitcoin-miners"]),
            stored("a4", "2026-02-04", "no tag", &["eth"]),
            stored("a5", "2026-02-07", "after", &["BTC", "bitcoin-miners"]),
            stored("a6", "2026-01-30", "older one tag", &["bitcoin-miners"]),
            stored("a7", "2026-01-29", "oldest one tag", &["BTC"]),
        ] {
            crash.store.insert_analysis(&a, a.created_at).unwrap();
        }
        let tags = ["BTC".to_string(), "bitcoin-miners".to_string()];
        let r = related_analyses(&crash.ctx(), &tags).unwrap();
        let ids: Vec<&str> = r.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, ["a3", "a1", "a6"]);
        assert_eq!(r[0].shared_tags, tags);
        assert_eq!(r[0].date, "2026-02-03");
    }
}
