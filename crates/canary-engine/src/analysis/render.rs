//! The analysis as Markdown and as one self-contained HTML page (inline CSS, no external
//! asset; each number shows its claim on hover). Both are checked: a numeral the claims do
//! not account for makes rendering fail.

use std::fmt::Write as _;

use canary_model::{ClaimSet, Timestamp};

use super::text::{Ungrounded, check_grounding};
use super::{Analysis, published};

const SIM_NOTE: &str =
    "SIMULATED DATA: this analysis reads Canary's market simulator, not a real market.";

/// The Markdown form (not checked: see [`markdown_checked`]).
#[must_use]
pub fn markdown(a: &Analysis, asof: Timestamp, simulated: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", a.headline);
    if simulated {
        let _ = writeln!(s, "> **{SIM_NOTE}**\n");
    }
    let _ = writeln!(
        s,
        "*{} / {} · {} · as of {} · {}*\n",
        a.category,
        a.topic_slug,
        a.symbol,
        published(asof),
        a.read_time
    );
    let _ = writeln!(s, "**{}**\n", a.scores_line);
    let _ = writeln!(s, "{}\n", a.summary);
    for sec in &a.sections {
        if sec.paragraphs.is_empty() {
            continue;
        }
        let _ = writeln!(s, "## {}\n", sec.title);
        if sec.key == "watch" && !a.watch.is_empty() {
            let _ = writeln!(
                s,
                "| | level | zone | distance | trigger |\n|---|---|---|---|---|"
            );
            for r in &a.watch {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} |",
                    r.what, r.level, r.zone, r.distance, r.trigger
                );
            }
            s.push('\n');
            for p in sec
                .paragraphs
                .iter()
                .filter(|p| p.starts_with("Momentum") || p.starts_with("Daily RSI"))
            {
                let _ = writeln!(s, "{p}\n");
            }
            continue;
        }
        for p in &sec.paragraphs {
            let _ = writeln!(s, "{p}\n");
        }
    }
    let _ = writeln!(s, "## Take\n\n{}\n", a.take);
    if !a.sources.is_empty() {
        let _ = writeln!(s, "## Sources ({})\n", a.sources.len());
        for src in &a.sources {
            match &src.url {
                Some(u) => {
                    let _ = writeln!(s, "- {}, {}: [{}]({u})", src.outlet, src.date, src.title);
                }
                None => {
                    let _ = writeln!(s, "- {}, {}: {}", src.outlet, src.date, src.title);
                }
            }
        }
        s.push('\n');
    }
    let _ = writeln!(s, "Tags: {}\n", a.tags.join(", "));
    let _ = writeln!(
        s,
        "---\n*{} · analysis {} · every number is a claim: `canary analyze --format json` lists them with their data and formulas.*",
        a.version, a.id
    );
    s
}

/// Terms of the page itself that carry digits: the dateline, the version, the id, the
/// source count, tag names.
fn page_terms(a: &Analysis, asof: Timestamp) -> Vec<String> {
    let mut t = vec![
        published(asof),
        a.version.clone(),
        a.id.clone(),
        format!("Sources ({})", a.sources.len()),
    ];
    t.extend(a.tags.iter().cloned());
    t.extend(a.terms.iter().cloned());
    t.extend(a.sources.iter().flat_map(|s| {
        [
            s.title.clone(),
            s.url.clone().unwrap_or_default(),
            s.outlet.clone(),
        ]
    }));
    t.extend(
        a.sections
            .iter()
            .flat_map(|s| s.paragraphs.iter())
            .flat_map(|p| quoted(p)),
    );
    t
}

/// Quoted story titles (news text, cited as written).
fn quoted(p: &str) -> Vec<String> {
    p.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The Markdown form, refused if a number in it has no claim.
///
/// # Errors
/// [`Ungrounded`], naming the numeral.
pub fn markdown_checked(
    a: &Analysis,
    asof: Timestamp,
    simulated: bool,
) -> Result<String, Ungrounded> {
    let md = markdown(a, asof, simulated);
    let terms = page_terms(a, asof);
    let refs: Vec<&str> = terms.iter().map(String::as_str).collect();
    check_grounding(&md, &a.numbers, &refs)?;
    Ok(md)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A marker without digits for the `i`-th number: letters only, so that no later number
/// can match inside it.
fn marker(mut i: usize) -> String {
    let mut s = String::from("\u{1}");
    loop {
        s.push(char::from(b'a' + u8::try_from(i % 26).unwrap_or(0)));
        i /= 26;
        if i == 0 {
            break;
        }
    }
    s.push('\u{2}');
    s
}

/// Wrap each grounded number of `text` (escaped) in a span whose title is its claim: every
/// number is first replaced by a marker (longest first), then the markers by the spans, so
/// that no span is ever matched again.
fn annotate(text: &str, a: &Analysis, claims: &ClaimSet) -> String {
    let mut out = esc(text);
    let mut seen = std::collections::BTreeSet::new();
    let mut numbers: Vec<&super::text::Grounded> = a.numbers.iter().collect();
    numbers.sort_by_key(|n| std::cmp::Reverse(n.text.len()));
    let mut spans = Vec::new();
    for n in numbers {
        if !seen.insert(n.text.clone()) {
            continue;
        }
        let needle = esc(&n.text);
        if !out.contains(&needle) {
            continue;
        }
        let title = claims.get(&n.claim).map_or_else(
            || n.claim.to_string(),
            |c| {
                let how = match &c.provenance {
                    canary_model::Provenance::Data {
                        series,
                        source,
                        time,
                    } => {
                        format!("data: {series}, {source}, {time}")
                    }
                    canary_model::Provenance::Derived {
                        method, version, ..
                    } => {
                        format!("{method} v{version}")
                    }
                };
                format!(
                    "{} = {} {} ({how}; claim {})",
                    c.label, c.value, c.unit, c.id
                )
            },
        );
        let m = marker(spans.len());
        out = out.replace(&needle, &m);
        spans.push((
            m,
            format!(
                "<span class=\"n\" title=\"{}\">{needle}</span>",
                esc(&title)
            ),
        ));
    }
    for (m, span) in spans {
        out = out.replace(&m, &span);
    }
    out
}

const CSS: &str = "body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1d2330;line-height:1.55}h1{font-size:1.7rem;line-height:1.25;margin-bottom:.3rem}.meta{color:#5b6475;font-size:.9rem}.scores{display:flex;gap:.6rem;flex-wrap:wrap;margin:1rem 0}.chip{border-radius:.4rem;padding:.3rem .7rem;font-weight:600;background:#eef1f6}.bearish{background:#fde8e8;color:#9b1c1c}.bullish{background:#e3f7ea;color:#166534}.neutral{background:#eef1f6}.sim{background:#fff3cd;border:1px solid #e0b000;padding:.6rem;border-radius:.4rem}h2{font-size:1.15rem;margin-top:1.8rem;border-bottom:1px solid #e3e6ec;padding-bottom:.2rem}table{border-collapse:collapse;width:100%;font-size:.92rem}td,th{border-bottom:1px solid #e3e6ec;padding:.35rem .4rem;text-align:left}.n{border-bottom:1px dotted #8a93a6;cursor:help}.take{background:#f5f7fb;border-left:4px solid #3b5bdb;padding:.7rem 1rem}.tags span{display:inline-block;background:#eef1f6;border-radius:1rem;padding:.1rem .6rem;margin:.1rem;font-size:.85rem}footer{color:#5b6475;font-size:.85rem;margin-top:2rem}";

/// The HTML page, refused if a number in its Markdown form has no claim.
///
/// # Errors
/// [`Ungrounded`], naming the numeral.
pub fn html(
    a: &Analysis,
    claims: &ClaimSet,
    asof: Timestamp,
    simulated: bool,
) -> Result<String, Ungrounded> {
    markdown_checked(a, asof, simulated)?;
    let t = |s: &str| annotate(s, a, claims);
    let mut h = String::new();
    let label = a.label.map_or("neutral", |l| l.as_str());
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{CSS}</style></head><body>",
        esc(&a.headline)
    );
    if simulated {
        let _ = write!(h, "<p class=\"sim\">{}</p>", esc(SIM_NOTE));
    }
    let _ = write!(
        h,
        "<header><h1>{}</h1><div class=\"meta\">{} / {} · {} · as of {} · {}</div>",
        t(&a.headline),
        esc(a.category),
        esc(a.topic_slug),
        esc(a.symbol.as_str()),
        esc(&published(asof)),
        t(&a.read_time)
    );
    let _ = write!(
        h,
        "<div class=\"scores\"><span class=\"chip {label}\">{}</span></div><p>{}</p></header>",
        t(&a.scores_line),
        t(&a.summary)
    );
    for sec in &a.sections {
        if sec.paragraphs.is_empty() {
            continue;
        }
        let _ = write!(h, "<section><h2>{}</h2>", esc(sec.title));
        if sec.key == "watch" && !a.watch.is_empty() {
            h.push_str("<table><tr><th></th><th>level</th><th>zone</th><th>distance</th><th>trigger</th></tr>");
            for r in &a.watch {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(r.what),
                    t(&r.level),
                    t(&r.zone),
                    t(&r.distance),
                    t(&r.trigger)
                );
            }
            h.push_str("</table>");
            for p in sec
                .paragraphs
                .iter()
                .filter(|p| p.starts_with("Momentum") || p.starts_with("Daily RSI"))
            {
                let _ = write!(h, "<p>{}</p>", t(p));
            }
        } else {
            for p in &sec.paragraphs {
                let _ = write!(h, "<p>{}</p>", t(p));
            }
        }
        h.push_str("</section>");
    }
    let _ = write!(
        h,
        "<section><h2>Take</h2><p class=\"take\">{}</p></section>",
        t(&a.take)
    );
    if !a.sources.is_empty() {
        let _ = write!(h, "<section><h2>Sources ({})</h2><ul>", a.sources.len());
        for s in &a.sources {
            let title = match &s.url {
                Some(u) => format!("<a href=\"{}\">{}</a>", esc(u), esc(&s.title)),
                None => esc(&s.title),
            };
            let _ = write!(h, "<li>{}, {}: {title}</li>", esc(&s.outlet), t(&s.date));
        }
        h.push_str("</ul></section>");
    }
    let _ = write!(h, "<p class=\"tags\">");
    for tag in &a.tags {
        let _ = write!(h, "<span>{}</span>", esc(tag));
    }
    let _ = writeln!(
        h,
        "</p><footer>{} · analysis {} · hover a number for its claim; <code>canary analyze --format json</code> lists every claim with its data and formula.</footer></body></html>",
        esc(&a.version),
        esc(&a.id)
    );
    Ok(h)
}
