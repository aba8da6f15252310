//! Tagging and relevance: a [`Dictionary`] of assets, companies, exchanges and topics (the
//! shipped `dictionary.toml`, extended by the user's file and by the companies of the facts
//! file), the [`Tag`]s it finds in a text, and the [`relevance`] of a tagged item to an asset
//! and a topic.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use canary_model::Method;
use canary_model::news::{Tag, TagKind};
use serde::Deserialize;

/// The method of [`relevance`].
pub const RELEVANCE: Method = Method::new("news_relevance", 1);

const BUILT_IN: &str = include_str!("../dictionary.toml");

/// A dictionary file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {reason}")]
pub struct DictionaryError {
    pub origin: String,
    pub reason: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    version: Option<u32>,
    #[serde(default)]
    asset: Vec<AssetEntry>,
    #[serde(default)]
    company: Vec<CompanyEntry>,
    #[serde(default)]
    exchange: Vec<ExchangeEntry>,
    #[serde(default)]
    topic: Vec<TopicEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssetEntry {
    ticker: String,
    #[serde(default)]
    terms: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompanyEntry {
    ticker: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    assets: Vec<String>,
    #[serde(default)]
    terms: Vec<String>,
    #[serde(default)]
    exact: Vec<String>,
    #[serde(default)]
    context: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExchangeEntry {
    name: String,
    #[serde(default)]
    terms: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicEntry {
    slug: String,
    #[serde(default)]
    terms: Vec<String>,
    #[serde(default)]
    company_kinds: Vec<String>,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    related: Vec<String>,
}

/// One word of a term: its text, whether case must match, whether it is a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    text: String,
    /// `text` in lower case: the key of the document's word index.
    key: String,
    case: bool,
    prefix: bool,
}

/// A term as words.
type Term = Vec<Word>;

fn term_of(raw: &str, exact: bool) -> Option<Term> {
    let prefix = raw.ends_with('*');
    let raw = raw.trim_end_matches('*');
    // A term in capitals only is a ticker: its case matters.
    let caps = raw.chars().any(char::is_alphabetic) && !raw.chars().any(char::is_lowercase);
    let case = exact || caps;
    let ws = split_words(raw);
    let n = ws.len();
    let t: Term = ws
        .into_iter()
        .enumerate()
        .map(|(i, w)| Word {
            key: w.to_lowercase(),
            text: if case { w.clone() } else { w.to_lowercase() },
            case,
            prefix: prefix && i + 1 == n,
        })
        .collect();
    (!t.is_empty()).then_some(t)
}

/// Words as written: runs of letters and digits (`&` kept inside, for `S&P`), apostrophes
/// inside a word kept out (`Strategy's` is `Strategys`).
fn split_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() || (c == '&' && !cur.is_empty()) {
            cur.push(c);
        } else if (c == '\'' || c == '’') && !cur.is_empty() {
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// What an entry tags and how it is found.
#[derive(Debug, Clone)]
struct Entry {
    tag: Tag,
    terms: Vec<Term>,
    /// Terms that count only with one of `context` present.
    exact: Vec<Term>,
    context: Vec<Term>,
    /// Topics: at least one of these must be present as well (none: no condition).
    requires: Vec<Term>,
    /// Topics implied by a company of these kinds.
    company_kinds: Vec<String>,
    /// Companies: their kind and the assets they hold or mine.
    kind: Option<String>,
    assets: Vec<String>,
    related: Vec<String>,
}

/// The dictionary: entries by tag, and its version (from the built-in file; a user file
/// that extends it adds `+user`).
#[derive(Debug, Clone)]
pub struct Dictionary {
    entries: Vec<Entry>,
    index: BTreeMap<(TagKind, String), usize>,
    pub version: String,
}

impl Dictionary {
    /// The shipped dictionary.
    ///
    /// # Panics
    /// Never: the shipped file is checked by a test.
    #[must_use]
    pub fn built_in() -> Dictionary {
        let mut d = Dictionary {
            entries: Vec::new(),
            index: BTreeMap::new(),
            version: String::new(),
        };
        let v = d
            .merge_text(BUILT_IN, "dictionary.toml (built in)")
            .expect("the shipped dictionary reads");
        d.version = format!("v{}", v.unwrap_or(1));
        d
    }

    /// Add the entries of a user's file: new entries, or more terms for existing ones.
    ///
    /// # Errors
    /// A file that is not valid TOML of the dictionary's layout, or a term with no words.
    pub fn extend(&mut self, text: &str, origin: &str) -> Result<(), DictionaryError> {
        self.merge_text(text, origin)?;
        if !self.version.ends_with("+user") {
            self.version.push_str("+user");
        }
        Ok(())
    }

    /// Add a company (from the facts file) unless the dictionary has it; its name becomes a
    /// term either way.
    pub fn add_company(&mut self, ticker: &str, name: &str, kind: &str) {
        let entry = CompanyEntry {
            ticker: ticker.to_string(),
            kind: Some(kind.to_string()),
            assets: vec!["BTC".to_string()],
            terms: vec![ticker.to_string(), name.to_string()],
            exact: Vec::new(),
            context: Vec::new(),
        };
        // A name with no words cannot be a term: only the ticker is then added.
        let _ = self.merge(
            File {
                company: vec![entry],
                ..File::default()
            },
            "facts file",
        );
    }

    fn merge_text(&mut self, text: &str, origin: &str) -> Result<Option<u32>, DictionaryError> {
        let f: File = toml::from_str(text).map_err(|e| DictionaryError {
            origin: origin.to_string(),
            reason: e.to_string(),
        })?;
        let v = f.version;
        self.merge(f, origin)?;
        Ok(v)
    }

    fn merge(&mut self, f: File, origin: &str) -> Result<(), DictionaryError> {
        let terms = |list: &[String], exact: bool| -> Result<Vec<Term>, DictionaryError> {
            list.iter()
                .map(|t| {
                    term_of(t, exact).ok_or_else(|| DictionaryError {
                        origin: origin.to_string(),
                        reason: format!("term {t:?} has no letters or digits"),
                    })
                })
                .collect()
        };
        for a in f.asset {
            let e = self.entry(TagKind::Asset, &a.ticker.to_uppercase());
            e.terms.extend(terms(&a.terms, false)?);
        }
        for c in f.company {
            let e = self.entry(TagKind::Company, &c.ticker.to_uppercase());
            e.terms.extend(terms(&c.terms, false)?);
            e.exact.extend(terms(&c.exact, true)?);
            e.context.extend(terms(&c.context, false)?);
            if c.kind.is_some() {
                e.kind = c.kind;
            }
            for a in c.assets {
                if !e.assets.contains(&a) {
                    e.assets.push(a);
                }
            }
        }
        for x in f.exchange {
            let e = self.entry(TagKind::Exchange, &x.name.to_lowercase());
            e.terms.extend(terms(&x.terms, false)?);
        }
        for t in f.topic {
            let e = self.entry(TagKind::Topic, &t.slug.to_lowercase());
            e.terms.extend(terms(&t.terms, false)?);
            e.requires.extend(terms(&t.requires, false)?);
            e.company_kinds.extend(t.company_kinds);
            e.related.extend(t.related);
        }
        Ok(())
    }

    fn entry(&mut self, kind: TagKind, name: &str) -> &mut Entry {
        let key = (kind, name.to_string());
        let i = if let Some(&i) = self.index.get(&key) {
            i
        } else {
            self.entries.push(Entry {
                tag: Tag {
                    kind,
                    name: name.to_string(),
                },
                terms: Vec::new(),
                exact: Vec::new(),
                context: Vec::new(),
                requires: Vec::new(),
                company_kinds: Vec::new(),
                kind: None,
                assets: Vec::new(),
                related: Vec::new(),
            });
            self.index.insert(key, self.entries.len() - 1);
            self.entries.len() - 1
        };
        &mut self.entries[i]
    }

    fn get(&self, kind: TagKind, name: &str) -> Option<&Entry> {
        self.index
            .get(&(kind, name.to_string()))
            .map(|&i| &self.entries[i])
    }

    /// Whether the dictionary knows this topic slug.
    #[must_use]
    pub fn has_topic(&self, slug: &str) -> bool {
        self.get(TagKind::Topic, slug).is_some()
    }

    /// Whether the dictionary knows this asset ticker.
    #[must_use]
    pub fn has_asset(&self, ticker: &str) -> bool {
        self.get(TagKind::Asset, ticker).is_some()
    }

    /// Every topic slug, in order.
    #[must_use]
    pub fn topics(&self) -> Vec<&str> {
        self.index
            .keys()
            .filter(|(k, _)| *k == TagKind::Topic)
            .map(|(_, n)| n.as_str())
            .collect()
    }

    /// The tags of a text, in order (assets, companies, exchanges, topics; by name).
    #[must_use]
    pub fn tag(&self, text: &str) -> Vec<Tag> {
        let doc = Doc::new(text);
        let mut found: BTreeSet<Tag> = BTreeSet::new();
        let mut company_kinds: BTreeSet<&str> = BTreeSet::new();
        for e in self.entries.iter().filter(|e| e.tag.kind != TagKind::Topic) {
            let hit = e.terms.iter().any(|t| doc.has(t))
                || (e.exact.iter().any(|t| doc.has(t)) && e.context.iter().any(|t| doc.has(t)));
            if hit {
                found.insert(e.tag.clone());
                if let Some(k) = &e.kind {
                    company_kinds.insert(k.as_str());
                }
            }
        }
        for e in self.entries.iter().filter(|e| e.tag.kind == TagKind::Topic) {
            let by_term = e.terms.iter().any(|t| doc.has(t))
                && (e.requires.is_empty() || e.requires.iter().any(|t| doc.has(t)));
            let by_company = e
                .company_kinds
                .iter()
                .any(|k| company_kinds.contains(k.as_str()));
            if by_term || by_company {
                found.insert(e.tag.clone());
            }
        }
        found.into_iter().collect()
    }
}

/// A text's words, as written and in lower case.
struct Doc {
    cased: Vec<String>,
    lower: Vec<String>,
    /// Positions of each lower-case word.
    at: HashMap<String, Vec<usize>>,
}

impl Doc {
    fn new(text: &str) -> Doc {
        let cased = split_words(text);
        let lower: Vec<String> = cased.iter().map(|w| w.to_lowercase()).collect();
        let mut at: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, w) in lower.iter().enumerate() {
            at.entry(w.clone()).or_default().push(i);
        }
        Doc { cased, lower, at }
    }

    fn word_at(&self, i: usize, w: &Word) -> bool {
        let Some(text) = (if w.case {
            self.cased.get(i)
        } else {
            self.lower.get(i)
        }) else {
            return false;
        };
        if w.prefix {
            text.starts_with(&w.text)
        } else {
            *text == w.text
        }
    }

    fn has(&self, term: &Term) -> bool {
        let first = &term[0];
        let matches_at = |s: usize| term.iter().enumerate().all(|(k, w)| self.word_at(s + k, w));
        if first.prefix {
            return (0..self.lower.len()).any(matches_at);
        }
        self.at
            .get(&first.key)
            .is_some_and(|starts| starts.iter().any(|&s| matches_at(s)))
    }
}

/// How much an item bears on an asset and a topic, in [0, 1], and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Relevance {
    pub score: f64,
    pub reasons: Vec<String>,
}

/// The relevance of an item with these tags to `asset` and, if given, `topic`:
/// half for the asset (named: 1; through a company that holds or mines it: 0.7) and half
/// for the topic (tagged: 1; a related topic or a company of the topic's kind: 0.5). Without
/// a topic, the asset part alone. An item that names neither scores 0, however it is worded.
#[must_use]
pub fn relevance(dict: &Dictionary, tags: &[Tag], asset: &str, topic: Option<&str>) -> Relevance {
    let mut reasons = Vec::new();
    let has = |k: TagKind, n: &str| tags.iter().any(|t| t.kind == k && t.name == n);
    let asset_part = if has(TagKind::Asset, asset) {
        reasons.push(format!("names {asset}"));
        1.0
    } else if let Some(c) = tags.iter().find(|t| {
        t.kind == TagKind::Company
            && dict
                .get(TagKind::Company, &t.name)
                .is_some_and(|e| e.assets.iter().any(|a| a == asset))
    }) {
        reasons.push(format!("names {}, which holds or mines {asset}", c.name));
        0.7
    } else {
        0.0
    };
    let Some(topic) = topic else {
        return Relevance {
            score: asset_part,
            reasons,
        };
    };
    let entry = dict.get(TagKind::Topic, topic);
    let topic_part = if has(TagKind::Topic, topic) {
        reasons.push(format!("about {topic}"));
        1.0
    } else if let Some(r) = entry.and_then(|e| {
        e.related
            .iter()
            .find(|r| has(TagKind::Topic, r))
            .map(String::as_str)
    }) {
        reasons.push(format!("about {r}, related to {topic}"));
        0.5
    } else if let Some(c) = entry.and_then(|e| {
        tags.iter().find(|t| {
            t.kind == TagKind::Company
                && dict
                    .get(TagKind::Company, &t.name)
                    .and_then(|c| c.kind.as_ref())
                    .is_some_and(|k| e.company_kinds.contains(k))
        })
    }) {
        reasons.push(format!("names {}, a company of {topic}", c.name));
        0.5
    } else {
        0.0
    };
    Relevance {
        score: 0.5 * asset_part + 0.5 * topic_part,
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(tags: &[Tag]) -> Vec<String> {
        tags.iter().map(|t| t.name.clone()).collect()
    }

    fn s(x: &str) -> String {
        x.to_string()
    }

    #[test]
    fn shipped_dictionary_reads() {
        let d = Dictionary::built_in();
        assert_eq!(d.version, "v1");
        for t in [
            "bitcoin-miners",
            "liquidations",
            "crypto-crash",
            "margin-calls",
            "debt-risk",
            "etf-flows",
            "regulation",
            "hacks",
            "macro",
        ] {
            assert!(d.has_topic(t), "{t}");
        }
    }

    #[test]
    fn tickers_match_in_capitals_only_and_names_in_any_case() {
        let d = Dictionary::built_in();
        assert_eq!(names(&d.tag("SOL jumps 5%")), ["SOL"]);
        assert!(names(&d.tag("the sol of the matter")).is_empty());
        assert_eq!(names(&d.tag("solana jumps")), ["SOL"]);
    }

    #[test]
    fn ambiguous_names_need_context() {
        let d = Dictionary::built_in();
        assert!(names(&d.tag("Strategy buys more bitcoin")).contains(&s("MSTR")));
        assert!(!names(&d.tag("A Strategy For Your Retirement")).contains(&s("MSTR")));
        assert!(!names(&d.tag("our strategy on bitcoin")).contains(&s("MSTR")));
    }

    #[test]
    fn topics_by_terms_conditions_and_companies() {
        let d = Dictionary::built_in();
        let t = names(&d.tag("Longs liquidated as BTC crashes"));
        assert!(
            t.contains(&s("liquidations")) && t.contains(&s("crypto-crash")),
            "{t:?}"
        );
        // A crash word without a market: not a crypto crash.
        assert!(!names(&d.tag("Car crash on the highway")).contains(&s("crypto-crash")));
        // A miner named implies the miners topic.
        assert!(names(&d.tag("CleanSpark posts results")).contains(&s("bitcoin-miners")));
    }

    #[test]
    fn user_entries_extend() {
        let mut d = Dictionary::built_in();
        d.extend(
            "[[asset]]\nticker = \"PEPE\"\nterms = [\"pepe\"]\n[[topic]]\nslug = \"hacks\"\nterms = [\"rug pull\"]\n",
            "mine.toml",
        )
        .unwrap();
        assert_eq!(d.version, "v1+user");
        assert_eq!(names(&d.tag("PEPE team in rug pull")), ["PEPE", "hacks"]);
        let e = d.extend("[[asset]]\nname = 1\n", "bad.toml").unwrap_err();
        assert!(e.to_string().starts_with("bad.toml:"), "{e}");
    }

    #[test]
    fn relevance_prefers_the_asset_and_topic() {
        let d = Dictionary::built_in();
        let r = |text: &str| relevance(&d, &d.tag(text), "BTC", Some("bitcoin-miners")).score;
        let miners = r("Bitcoin miners IREN, CleanSpark shares plunge as earnings fall short");
        let eth = r("Vitalik Buterin: Copy-Paste L2s Are Hurting Ethereum's Progress");
        let mstr = r("Strategy says BTC needs to fall to $8K for holdings not to cover debt");
        assert!((miners - 1.0).abs() < 1e-12, "{miners}");
        assert!(eth.abs() < 1e-12, "{eth}");
        assert!(mstr > 0.5 && mstr < 1.0, "{mstr}");
        let only_company = r("MARA shares drop");
        assert!((only_company - 0.85).abs() < 1e-12, "{only_company}");
    }
}
