//! Duplicates (`MODELS.md` §7.4): the same article seen twice (same canonical URL), exact
//! copies under other URLs (same words), and near copies — syndicated or lightly edited
//! versions — found by SimHash and confirmed by the Jaccard similarity of word shingles.

use std::collections::HashSet;

use crate::text::{canonical_url, content_hash, fnv1a, hamming, simhash, words};

/// SimHash fingerprints at most this many bits apart are compared word by word. Unrelated
/// texts are about 32 bits apart (each bit a coin toss: standard deviation 4); a one-word
/// insertion into a 14-word headline moves 13 bits, so the prefilter is generous and the
/// shingle comparison decides.
pub const SIMHASH_CANDIDATE_BITS: u32 = 20;

/// Texts whose shingle sets overlap at least this much (Jaccard) are copies.
pub const COPY_JACCARD: f64 = 0.7;

/// What identifies an item's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// Canonical URL, if any.
    pub url: Option<String>,
    /// Hash of the words of title and summary.
    pub content: u64,
    /// SimHash of title and summary.
    pub simhash: u64,
}

/// The text an item is compared by: its title and summary.
#[must_use]
pub fn item_text(title: &str, summary: &str) -> String {
    if summary.is_empty() {
        title.to_string()
    } else {
        format!("{title}. {summary}")
    }
}

/// The fingerprint of an item.
#[must_use]
pub fn fingerprint(title: &str, summary: &str, url: Option<&str>) -> Fingerprint {
    let text = item_text(title, summary);
    Fingerprint {
        url: url.and_then(canonical_url),
        content: content_hash(&text),
        simhash: simhash(&text),
    }
}

/// Word shingles of a text: single words and adjacent pairs, hashed.
#[must_use]
pub fn shingles(text: &str) -> HashSet<u64> {
    let w = words(text);
    let mut s: HashSet<u64> = w.iter().map(|x| fnv1a(x.as_bytes())).collect();
    for pair in w.windows(2) {
        s.insert(fnv1a(format!("{} {}", pair[0], pair[1]).as_bytes()));
    }
    s
}

/// The Jaccard similarity of two shingle sets (1 for two empty sets).
#[must_use]
pub fn jaccard<S: std::hash::BuildHasher>(a: &HashSet<u64, S>, b: &HashSet<u64, S>) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let inter = a.intersection(b).count();
    let union = a.len() + b.len() - inter;
    inter as f64 / union as f64
}

/// How a new item relates to one seen before.
#[derive(Debug, Clone, PartialEq)]
pub enum Duplicate {
    /// The same article (same canonical URL): nothing new.
    Same { id: String },
    /// A copy of another item's text (exact or near): stored, marked as a copy of it.
    Copy { of: String, similarity: f64 },
}

/// An item seen before, as [`find_duplicate`] compares it.
#[derive(Debug, Clone)]
pub struct Seen<'a> {
    pub id: &'a str,
    pub fingerprint: &'a Fingerprint,
    /// Title and summary ([`item_text`]).
    pub text: &'a str,
}

/// The first earlier item that the new one duplicates, if any: the same URL first, then the
/// same words, then the most similar near copy.
#[must_use]
pub fn find_duplicate<'a>(
    fp: &Fingerprint,
    text: &str,
    earlier: impl IntoIterator<Item = Seen<'a>>,
) -> Option<Duplicate> {
    let mine = shingles(text);
    let mut best: Option<(f64, &str)> = None;
    let mut exact: Option<&str> = None;
    for s in earlier {
        if fp.url.is_some() && s.fingerprint.url == fp.url {
            return Some(Duplicate::Same {
                id: s.id.to_string(),
            });
        }
        if s.fingerprint.content == fp.content {
            exact.get_or_insert(s.id);
            continue;
        }
        if exact.is_none() && hamming(s.fingerprint.simhash, fp.simhash) <= SIMHASH_CANDIDATE_BITS {
            let j = jaccard(&mine, &shingles(s.text));
            if j >= COPY_JACCARD && best.is_none_or(|b| j > b.0) {
                best = Some((j, s.id));
            }
        }
    }
    if let Some(id) = exact {
        return Some(Duplicate::Copy {
            of: id.to_string(),
            similarity: 1.0,
        });
    }
    best.map(|(j, id)| Duplicate::Copy {
        of: id.to_string(),
        similarity: j,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARA: &str =
        "Bitcoin miner MARA moves $87 million BTC to various trading desks and exchanges";
    const MARA_SUM: &str = "The largest transfers went to credit and trading firm Two Prime, which \
                            received more than 660 BTC, while additional chunks were sent to a \
                            BitGo address";

    fn check(title: &str, summary: &str, url: Option<&str>) -> Option<Duplicate> {
        let fp0 = fingerprint(
            MARA,
            MARA_SUM,
            Some("https://www.coindesk.com/markets/mara"),
        );
        let t0 = item_text(MARA, MARA_SUM);
        let fp = fingerprint(title, summary, url);
        find_duplicate(
            &fp,
            &item_text(title, summary),
            [Seen {
                id: "n3",
                fingerprint: &fp0,
                text: &t0,
            }],
        )
    }

    #[test]
    fn the_same_url_is_the_same_article() {
        assert_eq!(
            check(
                "Updated headline",
                "",
                Some("https://coindesk.com/markets/mara/?utm_source=x")
            ),
            Some(Duplicate::Same { id: "n3".into() })
        );
    }

    #[test]
    fn syndicated_and_edited_copies_are_copies() {
        // The same words elsewhere.
        assert!(matches!(
            check(&MARA.to_uppercase(), MARA_SUM, Some("https://yahoo.com/x")),
            Some(Duplicate::Copy { similarity, .. }) if similarity == 1.0
        ));
        // Lightly edited: a word added, a figure reworded.
        let edited = check(
            "Bitcoin miner MARA moves $87 million in BTC to various trading desks and exchanges",
            "The largest transfers went to credit and trading firm Two Prime, which received \
             over 660 BTC, while additional chunks were sent to a BitGo address",
            Some("https://aggregator.example/mara"),
        );
        assert!(
            matches!(edited, Some(Duplicate::Copy { similarity, .. }) if similarity >= COPY_JACCARD),
            "{edited:?}"
        );
    }

    #[test]
    fn another_story_on_the_same_subject_is_not_a_copy() {
        assert_eq!(
            check(
                "MARA sells bitcoin as miners face margin squeeze",
                "Marathon's transfers to exchanges come as hashprice falls to a record low and \
                 miners sell reserves to cover costs",
                Some("https://theblock.co/mara-sells"),
            ),
            None
        );
    }
}
