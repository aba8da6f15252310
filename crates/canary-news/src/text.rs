//! Text normalisation: HTML to plain text, canonical URLs, words, content hashes and SimHash
//! fingerprints.

use std::fmt::Write as _;
use url::Url;

/// Plain text of an HTML fragment: tags dropped (with the content of `script` and `style`),
/// entities decoded, whitespace collapsed. Text that is not HTML comes back with only its
/// whitespace collapsed.
#[must_use]
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        push_decoded(&mut out, &rest[..lt]);
        let after = &rest[lt + 1..];
        let Some(gt) = after.find('>') else {
            // A lone '<' ("a < b"): text, not a tag.
            push_decoded(&mut out, &rest[lt..]);
            rest = "";
            break;
        };
        let tag = after[..gt].trim_start_matches('/').to_ascii_lowercase();
        let name: String = tag
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        if !name.starts_with(|c: char| c.is_ascii_alphabetic()) && !after.starts_with('!') {
            // Not a tag ("1 <2 and 3> 2"): the '<' is text.
            out.push('<');
            rest = after;
            continue;
        }
        rest = &after[gt + 1..];
        if (name == "script" || name == "style") && !after.starts_with('/') {
            let close = format!("</{name}");
            match rest.to_ascii_lowercase().find(&close) {
                Some(i) => {
                    let tail = &rest[i..];
                    rest = tail.find('>').map_or("", |j| &tail[j + 1..]);
                }
                None => rest = "",
            }
        }
        // Block-level tags and line breaks separate words; inline ones (b, a, span) do not.
        if BLOCK_TAGS.contains(&name.as_str()) {
            out.push(' ');
        }
    }
    push_decoded(&mut out, rest);
    collapse_whitespace(&out)
}

const BLOCK_TAGS: &[&str] = &[
    "p",
    "br",
    "div",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "td",
    "th",
    "table",
    "blockquote",
    "section",
    "article",
    "header",
    "footer",
    "hr",
    "img",
    "figure",
    "figcaption",
    "pre",
    "dd",
    "dt",
    "script",
    "style",
];

fn push_decoded(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after.find(';').filter(|&i| i <= 10);
        let decoded = end.and_then(|i| entity(&after[..i]));
        if let (Some(i), Some(c)) = (end, decoded) {
            out.push(c);
            rest = &after[i + 1..];
        } else {
            out.push('&');
            rest = after;
        }
    }
    out.push_str(rest);
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" | "ldquo" | "rdquo" => '"',
        "apos" | "rsquo" | "lsquo" => '\'',
        "nbsp" => ' ',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "euro" => '€',
        "pound" => '£',
        "copy" => '©',
        _ => return None,
    })
}

/// Runs of whitespace as one space, trimmed.
#[must_use]
pub fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Query parameters that track the reader rather than name the page.
fn is_tracking(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.starts_with("utm_")
        || matches!(
            k.as_str(),
            "fbclid"
                | "gclid"
                | "dclid"
                | "msclkid"
                | "yclid"
                | "igshid"
                | "mc_cid"
                | "mc_eid"
                | "_ga"
                | "_gl"
                | "ref"
                | "ref_src"
                | "referrer"
                | "cmpid"
                | "ocid"
                | "ito"
                | "guccounter"
                | "src"
                | "source"
                | "rss"
                | "feed"
                | "amp"
        )
}

/// The canonical form of an article URL: `https`, host in lower case without `www.`, no
/// default port, no fragment, no tracking parameters, the rest of the query sorted, no
/// trailing slash. `None` for text that is not an absolute http(s) URL.
#[must_use]
pub fn canonical_url(raw: &str) -> Option<String> {
    let mut u = Url::parse(raw.trim()).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    let host = u.host_str()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
    let mut pairs: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| !is_tracking(k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    let path = u.path().trim_end_matches('/').to_string();
    let mut out = format!("https://{host}");
    if let Some(p) = u.port().filter(|&p| p != 80 && p != 443) {
        let _ = write!(out, ":{p}");
    }
    out.push_str(&path);
    if !pairs.is_empty() {
        u.set_query(None);
        let q = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        out.push('?');
        out.push_str(&q);
    }
    Some(out)
}

/// The outlet of a URL: its host without `www.` (`coindesk.com`).
#[must_use]
pub fn outlet_of(url: &str) -> Option<String> {
    let u = Url::parse(url.trim()).ok()?;
    let host = u.host_str()?.to_ascii_lowercase();
    Some(host.strip_prefix("www.").unwrap_or(&host).to_string())
}

/// The words of a text in lower case: runs of letters and digits (apostrophes inside a word
/// dropped, so `Strategy's` is `strategys`; `$87` is `87`; a point or comma between digits
/// kept as part of a number, the comma dropped: `$1.45B` is `1.45b`, `60,000` is `60000`).
#[must_use]
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() {
            cur.extend(c.to_lowercase());
        } else if (c == '.' || c == ',')
            && cur.chars().last().is_some_and(|l| l.is_ascii_digit())
            && chars.peek().is_some_and(char::is_ascii_digit)
        {
            if c == '.' {
                cur.push('.');
            }
        } else if (c == '\'' || c == '’') && !cur.is_empty() {
            // inside a word: skip
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

pub use canary_model::fnv1a;

/// A 64-bit finaliser (SplitMix64's) that spreads FNV's bits, so that SimHash's bit columns
/// are independent.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The hash of a text's words (case, punctuation and spacing ignored): equal for exact copies.
#[must_use]
pub fn content_hash(text: &str) -> u64 {
    fnv1a(words(text).join(" ").as_bytes())
}

/// SimHash (Charikar 2002) of a text: a 64-bit fingerprint over its words and word pairs,
/// each of weight one. Texts that share most of their words and word order are a few bits
/// apart ([`hamming`]).
#[must_use]
pub fn simhash(text: &str) -> u64 {
    let w = words(text);
    let mut counts = [0i32; 64];
    let mut add = |h: u64| {
        let h = mix(h);
        for (bit, c) in counts.iter_mut().enumerate() {
            if h >> bit & 1 == 1 {
                *c += 1;
            } else {
                *c -= 1;
            }
        }
    };
    for (i, word) in w.iter().enumerate() {
        add(fnv1a(word.as_bytes()));
        if let Some(next) = w.get(i + 1) {
            add(fnv1a(format!("{word} {next}").as_bytes()));
        }
    }
    counts.iter().enumerate().fold(
        0u64,
        |acc, (bit, &c)| if c > 0 { acc | 1 << bit } else { acc },
    )
}

/// The number of bits in which two fingerprints differ.
#[must_use]
pub const fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_text() {
        assert_eq!(
            html_to_text(
                "<p>Bitcoin <b>fell</b>&nbsp;9%&hellip;<br/>Miners&#8217; shares &amp; bonds</p>\
                 <script>var x = '<p>';</script><style>p{}</style>"
            ),
            "Bitcoin fell 9%… Miners’ shares & bonds"
        );
        assert_eq!(html_to_text("plain text, no   tags"), "plain text, no tags");
        assert_eq!(
            html_to_text("a < b and &bogus; stays"),
            "a < b and &bogus; stays"
        );
        assert_eq!(html_to_text("1 <2 and 3> 2"), "1 <2 and 3> 2");
        assert_eq!(html_to_text("<![CDATA[x]]>y"), "y");
    }

    #[test]
    fn urls_lose_tracking_and_cosmetics() {
        assert_eq!(
            canonical_url(
                "HTTP://www.CoinDesk.com/markets/2026/02/05/mara-moves/?utm_source=rss&b=2&a=1#top"
            )
            .unwrap(),
            "https://coindesk.com/markets/2026/02/05/mara-moves?a=1&b=2"
        );
        assert_eq!(
            canonical_url("https://coindesk.com/markets/2026/02/05/mara-moves").unwrap(),
            canonical_url("https://www.coindesk.com/markets/2026/02/05/mara-moves/?fbclid=x")
                .unwrap()
        );
        assert_eq!(
            canonical_url("https://example.com:8443/a").unwrap(),
            "https://example.com:8443/a"
        );
        assert_eq!(canonical_url("ftp://example.com/a"), None);
        assert_eq!(canonical_url("not a url"), None);
        assert_eq!(
            outlet_of("https://www.coindesk.com/x").unwrap(),
            "coindesk.com"
        );
    }

    #[test]
    fn words_are_lower_case_alphanumerics() {
        assert_eq!(
            words("Strategy's $8K: BTC—needs to fall!"),
            ["strategys", "8k", "btc", "needs", "to", "fall"]
        );
        assert_eq!(
            words("$1.45B, 60,000 coins. 3.5% up"),
            ["1.45b", "60000", "coins", "3.5", "up"]
        );
        assert_eq!(
            content_hash("Bitcoin  FALLS!"),
            content_hash("bitcoin falls")
        );
    }

    #[test]
    fn simhash_keeps_copies_close_and_other_stories_far() {
        let a = "Bitcoin miner MARA moves $87 million BTC to various trading desks and \
                 exchanges. The largest transfers went to credit and trading firm Two Prime, \
                 which received more than 660 BTC";
        let b = "Bitcoin miner MARA moves $87 million in BTC to various trading desks and \
                 exchanges. The largest transfers went to credit and trading firm Two Prime, \
                 which received more than 660 BTC";
        let c = "Vitalik Buterin: Copy-Paste L2s Are Hurting Ethereum's Progress. Buterin warns \
                 copy-paste Layer 2s and generic EVM chains are stalling the scaling vision";
        assert!(
            hamming(simhash(a), simhash(b)) <= 6,
            "{}",
            hamming(simhash(a), simhash(b))
        );
        assert!(hamming(simhash(a), simhash(c)) > 16);
        assert_eq!(simhash(a), simhash(&a.to_uppercase()));
    }
}
