//! The "What happened" section: the move (price, 24 h change, its size against the last 90
//! days, the market value erased) and the stories in the news, each dated by its first item.

use super::phrases::Phrases;
use super::text::Writer;
use super::{list, stat, v};
use crate::{EngineError, StatsBody, StoriesBody};

/// The section's paragraphs: the move, when the stats have a price and a 24 h change, and
/// the stories, when there are any.
pub(super) fn what_happened(
    stats: &StatsBody,
    stories: &StoriesBody,
    name: &str,
    w: &mut Writer,
    ph: &Phrases,
) -> Result<Vec<String>, EngineError> {
    let mut happened = Vec::new();
    if let (Some(px), Some(ch)) = (stat(stats, "last_price"), stat(stats, "change_24h")) {
        let (pxs, chs) = (w.usd(px.value, &px.claim), w.pct(ch.value, &ch.claim, true));
        let sg = stat(stats, "daily_move_sigma_90")
            .map_or_else(String::new, |sg| w.sigma(sg.value, &sg.claim));
        let er = stat(stats, "market_value_change_24h")
            .filter(|e| e.value < 0.0)
            .map_or_else(String::new, |e| w.usd_big(-e.value, &e.claim));
        happened.push(ph.say("moved", &[v(name), v(&pxs), v(&chs), v(&sg), v(&er)])?);
    }
    if !stories.stories.is_empty() {
        let mut parts = Vec::new();
        for st in &stories.stories {
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
        }
        happened.push(ph.say("in_the_news", &[list(parts)])?);
    }
    Ok(happened)
}

#[cfg(test)]
mod tests {
    use super::super::Topic;
    use super::super::fixture::{Crash, phrases};
    use super::*;

    /// The crash: the move with its size in sigmas and the value erased, then the stories,
    /// each dated from its first item's claim.
    #[test]
    fn the_move_then_the_stories() {
        let crash = Crash::load();
        let inputs = crash.inputs(Topic::Miners);
        let (stats, stories) = (&inputs.stats.body, &inputs.stories.body);
        assert!(
            !stories.stories.is_empty(),
            "the shared headlines tell stories"
        );
        let mut w = Writer::default();
        let paragraphs = what_happened(stats, stories, "Bitcoin", &mut w, &phrases()).unwrap();
        assert_eq!(paragraphs.len(), 2, "{paragraphs:?}");
        assert!(
            paragraphs[0].starts_with(
                "Bitcoin trades at $64,168, -9.9% over 24 h; the last daily move was -7.0σ"
            ),
            "{}",
            paragraphs[0]
        );
        assert!(
            paragraphs[0].contains(", erasing about $"),
            "{}",
            paragraphs[0]
        );
        assert!(
            paragraphs[1].starts_with("In the news: \""),
            "{}",
            paragraphs[1]
        );
        for st in &stories.stories {
            assert!(
                paragraphs[1].contains(&st.story.title),
                "{}",
                st.story.title
            );
        }
        // Four numbers for the move, then one date per story.
        let claims: Vec<_> = w.numbers.iter().map(|n| n.claim.clone()).collect();
        let mut expected = vec![
            stat(stats, "last_price").unwrap().claim.clone(),
            stat(stats, "change_24h").unwrap().claim.clone(),
            stat(stats, "daily_move_sigma_90").unwrap().claim.clone(),
            stat(stats, "market_value_change_24h")
                .unwrap()
                .claim
                .clone(),
        ];
        expected.extend(
            stories
                .stories
                .iter()
                .map(|s| s.members[0].item_claim.clone()),
        );
        assert_eq!(claims, expected);
    }

    /// No price and no stories: nothing happened that the analysis can tell.
    #[test]
    fn without_a_price_or_stories_the_section_is_empty() {
        let crash = Crash::load();
        let inputs = crash.inputs(Topic::Market);
        let mut stats = inputs.stats.body.clone();
        stats.stats.retain(|s| s.key != "last_price");
        let mut stories = inputs.stories.body.clone();
        stories.stories.clear();
        let mut w = Writer::default();
        let paragraphs = what_happened(&stats, &stories, "Bitcoin", &mut w, &phrases()).unwrap();
        assert!(paragraphs.is_empty(), "{paragraphs:?}");
        assert!(w.numbers.is_empty());
    }
}
