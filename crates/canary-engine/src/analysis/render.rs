//! The analysis as Markdown and as one self-contained HTML page (inline CSS, no external
//! asset; each number shows its claim on hover). Both are checked: a numeral the claims do
//! not account for makes rendering fail.

use canary_model::{ClaimSet, Timestamp};

use super::text::{Ungrounded, check_grounding, replace_whole};
use super::{Analysis, published};

const SIM_NOTE: &str =
    "SIMULATED DATA: this analysis reads Canary's market simulator, not a real market.";

/// The page templates (minijinja): the shipped ones, or the user's.
#[derive(Debug, Clone)]
pub struct Templates {
    pub markdown: String,
    pub html: String,
    /// The sentence macros.
    pub phrases: String,
}

impl Default for Templates {
    fn default() -> Self {
        Templates {
            markdown: include_str!("templates/analysis.md.j2").to_string(),
            html: include_str!("templates/analysis.html.j2").to_string(),
            phrases: include_str!("templates/phrases.j2").to_string(),
        }
    }
}

/// A template that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template {name}: {source}")]
    Template {
        name: &'static str,
        source: minijinja::Error,
    },
    #[error(transparent)]
    Ungrounded(#[from] Ungrounded),
}

fn env(name: &'static str, source: &str) -> Result<minijinja::Environment<'static>, RenderError> {
    let mut env = minijinja::Environment::new();
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .expect("a valid syntax"),
    );
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_template_owned(name, source.to_string())
        .map_err(|source| RenderError::Template { name, source })?;
    Ok(env)
}

fn context(a: &Analysis, asof: Timestamp, simulated: bool) -> minijinja::Value {
    minijinja::context! {
        a => minijinja::Value::from(minijinja::value::Serde(a)),
        simulated => simulated,
        sim_note => SIM_NOTE,
        published => published(asof),
        label => a.label.map_or("neutral", |l| l.as_str()),
        css => CSS,
    }
}

/// The Markdown form (not checked: see [`markdown_checked`]), from the shipped template.
#[must_use]
pub fn markdown(a: &Analysis, asof: Timestamp, simulated: bool) -> String {
    markdown_with(a, asof, simulated, &Templates::default()).unwrap_or_default()
}

/// The Markdown form from the given template (not checked).
///
/// # Errors
/// A template that does not parse or render.
pub fn markdown_with(
    a: &Analysis,
    asof: Timestamp,
    simulated: bool,
    t: &Templates,
) -> Result<String, RenderError> {
    const NAME: &str = "analysis.md.j2";
    let e = env(NAME, &t.markdown)?;
    e.get_template(NAME)
        .and_then(|tpl| tpl.render(context(a, asof, simulated)))
        .map_err(|source| RenderError::Template { name: NAME, source })
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
    // Earlier analyses are cited as written, by headline, date and id.
    t.extend(
        a.related
            .iter()
            .flat_map(|r| [r.headline.clone(), r.date.clone(), r.id.clone()]),
    );
    t.extend(a.related_news.iter().flat_map(|s| {
        [
            s.title.clone(),
            s.url.clone().unwrap_or_default(),
            s.outlet.clone(),
        ]
    }));
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
/// A template error, or [`Ungrounded`] naming the numeral.
pub fn markdown_checked(
    a: &Analysis,
    asof: Timestamp,
    simulated: bool,
    t: &Templates,
) -> Result<String, RenderError> {
    let md = markdown_with(a, asof, simulated, t)?;
    let terms = page_terms(a, asof);
    let refs: Vec<&str> = terms.iter().map(String::as_str).collect();
    check_grounding(&md, &a.numbers, &refs)?;
    Ok(md)
}

/// Every numeral of a rendered page must be grounded: the numbers, the page's terms.
fn check_page(text: &str, a: &Analysis, asof: Timestamp) -> Result<(), Ungrounded> {
    let terms = page_terms(a, asof);
    let mut refs: Vec<&str> = terms.iter().map(String::as_str).collect();
    refs.push(CSS);
    check_grounding(text, &a.numbers, &refs)
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

/// The spans of the numbers: (escaped text, span), longest first.
fn spans(a: &Analysis, claims: &ClaimSet) -> Vec<(String, String)> {
    let mut seen = std::collections::BTreeSet::new();
    let mut numbers: Vec<&super::text::Grounded> = a.numbers.iter().collect();
    numbers.sort_by_key(|n| std::cmp::Reverse(n.text.len()));
    let mut out = Vec::new();
    for n in numbers {
        if !seen.insert(n.text.clone()) {
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
        let needle = esc(&n.text);
        out.push((
            needle.clone(),
            format!(
                "<span class=\"n\" title=\"{}\">{needle}</span>",
                esc(&title)
            ),
        ));
    }
    out
}

/// Escape `text` and wrap each number in its span: every number is first replaced by a
/// marker (longest first, whole numbers only), then the markers by the spans, so that no span
/// is matched again.
fn annotate(text: &str, spans: &[(String, String)]) -> String {
    let mut out = esc(text);
    let mut used = Vec::new();
    for (needle, span) in spans {
        if out.contains(needle.as_str()) {
            let m = marker(used.len());
            let next = replace_whole(&out, needle, &m);
            if next != out {
                out = next;
                used.push((m, span));
            }
        }
    }
    for (m, span) in used {
        out = out.replace(&m, span);
    }
    out
}

const CSS: &str = "body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1d2330;line-height:1.55}h1{font-size:1.7rem;line-height:1.25;margin-bottom:.3rem}.meta{color:#5b6475;font-size:.9rem}.scores{display:flex;gap:.6rem;flex-wrap:wrap;margin:1rem 0}.chip{border-radius:.4rem;padding:.3rem .7rem;font-weight:600;background:#eef1f6}.bearish{background:#fde8e8;color:#9b1c1c}.bullish{background:#e3f7ea;color:#166534}.neutral{background:#eef1f6}.sim{background:#fff3cd;border:1px solid #e0b000;padding:.6rem;border-radius:.4rem}h2{font-size:1.15rem;margin-top:1.8rem;border-bottom:1px solid #e3e6ec;padding-bottom:.2rem}table{border-collapse:collapse;width:100%;font-size:.92rem}td,th{border-bottom:1px solid #e3e6ec;padding:.35rem .4rem;text-align:left}.n{border-bottom:1px dotted #8a93a6;cursor:help}.take{background:#f5f7fb;border-left:4px solid #3b5bdb;padding:.7rem 1rem}.tags span{display:inline-block;background:#eef1f6;border-radius:1rem;padding:.1rem .6rem;margin:.1rem;font-size:.85rem}footer{color:#5b6475;font-size:.85rem;margin-top:2rem}";

/// The HTML page from the given template, refused if a number in its Markdown form or on
/// the page has no claim.
///
/// # Errors
/// A template error, or [`Ungrounded`] naming the numeral.
pub fn html(
    a: &Analysis,
    claims: &ClaimSet,
    asof: Timestamp,
    simulated: bool,
    t: &Templates,
) -> Result<String, RenderError> {
    const NAME: &str = "analysis.html.j2";
    markdown_checked(a, asof, simulated, t)?;
    let mut e = env(NAME, &t.html)?;
    let sp = spans(a, claims);
    e.add_filter("ann", move |s: String| {
        minijinja::Value::from_safe_string(annotate(&s, &sp))
    });
    let page = e
        .get_template(NAME)
        .and_then(|tpl| tpl.render(context(a, asof, simulated)))
        .map_err(|source| RenderError::Template { name: NAME, source })?;
    // The page's text, without its markup, must be grounded too.
    check_page(&canary_news::text::html_to_text(&page), a, asof)?;
    Ok(page)
}
