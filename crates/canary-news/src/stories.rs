//! Stories: items about one event, by single-pass clustering in the order items were seen
//! (Topic Detection and Tracking; `MODELS.md` §7.4). Each item is a TF-IDF vector of its
//! title (counted twice) and summary, without stop words; it joins the story whose centroid
//! is most similar (cosine at least [`StoryParams::threshold`]) among those updated within
//! [`StoryParams::window_ms`] before it, else it starts a story. A copy of an item (see
//! [`crate::dedup`]) joins its original's story. The result depends only on the items given,
//! so stories as of T are a function of the items known at T.

use std::collections::{BTreeSet, HashMap};

use canary_model::Method;
use canary_model::news::{NewsItem, Story};

use crate::text::words;

/// The method of [`stories`].
pub const STORIES: Method = Method::new("news_stories_tfidf", 1);

/// Clustering parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoryParams {
    /// Cosine similarity to a story's centroid from which an item joins it.
    pub threshold: f64,
    /// A story takes items only this long after its latest one.
    pub window_ms: i64,
}

impl Default for StoryParams {
    fn default() -> Self {
        StoryParams {
            threshold: 0.3,
            window_ms: 48 * 3_600_000,
        }
    }
}

const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "been", "before", "being", "but", "by", "can", "could", "did", "do", "does", "for",
    "from", "had", "has", "have", "he", "her", "his", "how", "i", "if", "in", "into", "is", "it",
    "its", "just", "more", "most", "new", "no", "not", "now", "of", "on", "one", "or", "other",
    "our", "out", "over", "said", "says", "she", "so", "some", "than", "that", "the", "their",
    "them", "then", "there", "these", "they", "this", "those", "through", "to", "up", "us", "was",
    "we", "were", "what", "when", "where", "which", "while", "who", "will", "with", "would", "you",
    "your", "amid", "per", "via", "week", "day", "today", "news",
];

type Vector = HashMap<String, f64>;

/// A word as the stories compare it: tickers as names (`btc` is `bitcoin`), amounts as
/// plain numbers (`60k` and `60000` alike, `1.45b` and `1.45 billion` alike).
fn canonical(words: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    for w in words {
        if STOP_WORDS.contains(&w.as_str()) {
            continue;
        }
        let scale = match w.as_str() {
            "thousand" => Some(1e3),
            "million" | "mn" => Some(1e6),
            "billion" | "bn" => Some(1e9),
            "trillion" => Some(1e12),
            _ => None,
        };
        if let Some(f) = scale
            && let Some(prev) = out.last_mut()
            && let Ok(x) = prev.parse::<f64>()
        {
            *prev = amount(x * f);
            continue;
        }
        let name = match w.as_str() {
            "btc" | "xbt" => "bitcoin".to_string(),
            "eth" | "ether" => "ethereum".to_string(),
            "sol" => "solana".to_string(),
            _ => number(&w).unwrap_or(w),
        };
        out.push(name);
    }
    out
}

/// `60k`, `1.45b`, `87m` as plain numbers; `None` for anything else.
fn number(w: &str) -> Option<String> {
    let (digits, f) = match w.as_bytes().last()? {
        b'k' => (&w[..w.len() - 1], 1e3),
        b'm' => (&w[..w.len() - 1], 1e6),
        b'b' => (&w[..w.len() - 1], 1e9),
        b't' => (&w[..w.len() - 1], 1e12),
        _ => (w, 1.0),
    };
    let x: f64 = digits.parse().ok()?;
    Some(amount(x * f))
}

fn amount(x: f64) -> String {
    format!("{}", (x * 1000.0).round() / 1000.0)
}

fn terms(item: &NewsItem) -> Vec<String> {
    let mut t = canonical(words(&item.title));
    // The title twice: it says what the item is about; a summary wanders.
    t.extend(t.clone());
    t.extend(canonical(words(&item.summary)));
    t
}

fn normalise(v: &mut Vector) {
    let n = v.values().map(|x| x * x).sum::<f64>().sqrt();
    if n > 0.0 {
        for x in v.values_mut() {
            *x /= n;
        }
    }
}

fn cosine(a: &Vector, b: &Vector) -> f64 {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    small
        .iter()
        .filter_map(|(k, x)| large.get(k).map(|y| x * y))
        .sum()
}

struct Cluster {
    story: Story,
    centroid: Vector,
    outlets: BTreeSet<String>,
}

/// The stories of these items (any order; they are taken in the order they became
/// available, ties by id), newest story first.
#[must_use]
pub fn stories(items: &[NewsItem], p: StoryParams) -> Vec<Story> {
    let mut order: Vec<&NewsItem> = items.iter().collect();
    order.sort_by(|a, b| a.available_at.cmp(&b.available_at).then(a.id.cmp(&b.id)));
    let docs: Vec<Vec<String>> = order.iter().map(|i| terms(i)).collect();
    let mut df: HashMap<&str, usize> = HashMap::new();
    for d in &docs {
        let uniq: BTreeSet<&str> = d.iter().map(String::as_str).collect();
        for w in uniq {
            *df.entry(w).or_default() += 1;
        }
    }
    let n = docs.len() as f64;
    let mut clusters: Vec<Cluster> = Vec::new();
    let mut story_of: HashMap<&str, usize> = HashMap::new();
    for (item, doc) in order.iter().zip(&docs) {
        let mut tf: HashMap<&str, f64> = HashMap::new();
        for w in doc {
            *tf.entry(w.as_str()).or_default() += 1.0;
        }
        let mut v: Vector = tf
            .into_iter()
            .map(|(w, c)| {
                let idf = ((n + 1.0) / (df[w] as f64 + 1.0)).ln() + 1.0;
                (w.to_string(), (1.0 + c.ln()) * idf)
            })
            .collect();
        normalise(&mut v);
        let by_copy = item
            .duplicate_of
            .as_deref()
            .and_then(|o| story_of.get(o).copied());
        let target = by_copy.or_else(|| {
            clusters
                .iter()
                .enumerate()
                .filter(|(_, c)| {
                    item.available_at.millis() - c.story.last_seen.millis() <= p.window_ms
                })
                .map(|(k, c)| (k, cosine(&v, &c.centroid)))
                .filter(|&(_, s)| s >= p.threshold)
                .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
                .map(|(k, _)| k)
        });
        if let Some(k) = target {
            let c = &mut clusters[k];
            let m = c.story.items.len() as f64;
            // The centroid as the mean of its members' vectors, renormalised.
            for x in c.centroid.values_mut() {
                *x *= m;
            }
            for (w, x) in v {
                *c.centroid.entry(w).or_default() += x;
            }
            normalise(&mut c.centroid);
            c.story.items.push(item.id.clone());
            c.story.last_seen = c.story.last_seen.max(item.available_at);
            c.outlets.insert(item.outlet.clone());
            story_of.insert(&item.id, k);
        } else {
            story_of.insert(&item.id, clusters.len());
            clusters.push(Cluster {
                story: Story {
                    id: format!("s-{}", item.id),
                    title: item.title.clone(),
                    items: vec![item.id.clone()],
                    first_seen: item.available_at,
                    last_seen: item.available_at,
                    outlets: Vec::new(),
                },
                centroid: v,
                outlets: BTreeSet::from([item.outlet.clone()]),
            });
        }
    }
    let mut out: Vec<Story> = clusters
        .into_iter()
        .map(|mut c| {
            c.story.outlets = c.outlets.into_iter().collect();
            c.story
        })
        .collect();
    out.sort_by(|a, b| {
        b.last_seen
            .cmp(&a.last_seen)
            .then(b.outlets.len().cmp(&a.outlets.len()))
            .then(a.id.cmp(&b.id))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use canary_model::Timestamp;

    fn item(id: &str, at: &str, outlet: &str, title: &str, summary: &str) -> NewsItem {
        let t = Timestamp::parse(at).unwrap();
        NewsItem {
            id: id.into(),
            outlet: outlet.into(),
            source: "test".into(),
            url: None,
            title: title.into(),
            summary: summary.into(),
            published_at: Some(t),
            available_at: t,
            language: None,
            duplicate_of: None,
        }
    }

    #[test]
    fn amounts_and_tickers_compare_alike() {
        let w = |s: &str| canonical(words(s));
        assert_eq!(w("BTC at $60K"), w("bitcoin at $60,000"));
        assert_eq!(w("$1.45B wipeout"), w("$1.45 billion wipeout"));
    }

    #[test]
    fn copies_join_their_original_and_old_stories_close() {
        let a = item(
            "a",
            "2026-02-01T00:00:00Z",
            "x.com",
            "Bitcoin miners sell reserves",
            "",
        );
        let mut b = item(
            "b",
            "2026-02-01T01:00:00Z",
            "y.com",
            "Unrelated words entirely",
            "",
        );
        b.duplicate_of = Some("a".into());
        // The same words four days later: a new story.
        let c = item(
            "c",
            "2026-02-05T00:00:00Z",
            "z.com",
            "Bitcoin miners sell reserves",
            "",
        );
        let s = stories(&[c, b, a], StoryParams::default());
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].items, ["c"]);
        assert_eq!(s[1].items, ["a", "b"]);
        assert_eq!(s[1].outlets, ["x.com", "y.com"]);
        assert_eq!(s[1].id, "s-a");
    }
}
