//! `canary analyze` on the real data of the 2026-02-05 crash: the full analysis from the
//! miners' angle, every number in its text resolved to a claim, nothing from after the time
//! used, stale inputs said to be stale, relevant sources only, identical bytes on two runs,
//! and a self-contained HTML page.

mod common;

use std::path::Path;

use common::{assert_report, canary, import_network, ok, shared};

const ASOF: &str = "2026-02-06T05:00:00Z";

fn import(db: &Path, four_h: &Path) {
    ok(&canary(
        db,
        &["import", four_h.to_str().unwrap(), "--symbol", "BTCUSDT"],
    ));
    import_network(db);
    let n = shared("data/news_2026-02-05_sources.csv");
    ok(&canary(db, &["news", "import", n.to_str().unwrap()]));
}

fn analyze(db: &Path, format: &str) -> String {
    ok(&canary(
        db,
        &[
            "analyze", "--symbol", "BTCUSDT", "--topic", "miners", "--asof", ASOF, "--format",
            format,
        ],
    ))
}

/// The numerals of a text (digits with `,` or `.` between them).
fn numerals(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let inner = (c == ',' || c == '.')
            && !cur.is_empty()
            && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if c.is_ascii_digit() || inner {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[test]
fn shared_data_the_miners_analysis_of_the_crash() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    import(&db, &shared("data/btcusdt_binance_4h.csv"));
    let md = analyze(&db, "md");
    for part in [
        "# Bitcoin miners under pressure as Bitcoin slides 9.9% to $64,168",
        "**Bearish · Pulse",
        "Risk 96 (Extreme High), Threat 5 of 5",
        "-7.0σ",
        "## What happened",
        "## Context",
        "## Analysis",
        "## Watch",
        "| Support | $60,619 | $59,743–$60,619 |",
        "| Trapdoor |",
        "Daily RSI 14: 15.8.",
        "cash break-even",
        "MSTR $8,358",
        "## Take",
        "the view is wrong on a 1d close above",
        "## Sources (4)",
    ] {
        assert!(md.contains(part), "{part:?} missing from\n{md}");
    }
    // Stale inputs are said to be stale, never shown as current.
    assert!(
        md.contains("used as the latest known, not as current") && md.contains("hashrate_hs"),
        "{md}"
    );
    // The Ethereum item is no source of a miners' analysis.
    assert!(!md.contains("Vitalik"), "{md}");
    // RSI equals TA-Lib's (the oracle's daily RSI 14 of 2026-02-05, to the decimal shown).
    let rsi = common::oracle_value(
        "oracle/talib_btcusdt_binance_1d.csv",
        "2026-02-05",
        "rsi_14",
    );
    assert!(md.contains(&format!("Daily RSI 14: {rsi:.1}.")), "{rsi}");

    // Every number of the Markdown resolves to a claim in the JSON form.
    let json = analyze(&db, "json");
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_report(&doc, ASOF);
    let claims = doc["claims"].as_object().unwrap();
    let numbers = doc["numbers"].as_array().unwrap();
    let mut grounded = std::collections::BTreeSet::new();
    for n in numbers {
        let id = n["claim"].as_str().unwrap();
        assert!(claims.contains_key(id), "{n} names a missing claim");
        for x in numerals(n["text"].as_str().unwrap()) {
            grounded.insert(x);
        }
    }
    let mut terms: Vec<String> = doc["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    terms.extend(
        [
            "RSI 14", "24 h", "7-day", "30-day", "90-day", "1d", "4h", "of 5", "of 100", "10%",
            "7 days",
        ]
        .map(String::from),
    );
    terms.extend(doc["sources"].as_array().unwrap().iter().flat_map(|s| {
        [
            s["title"].as_str().unwrap().to_string(),
            s["url"].as_str().unwrap_or("").to_string(),
        ]
    }));
    terms.extend(
        doc["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_string()),
    );
    terms.push("2026-02-06 05:00 UTC".into());
    terms.push(doc["id"].as_str().unwrap().to_string());
    terms.push("analysis v2".into());
    terms.push("Sources (4)".into());
    let mut rest = md.clone();
    terms.sort_by_key(|t| std::cmp::Reverse(t.len()));
    for t in terms.iter().filter(|t| !t.is_empty()) {
        rest = rest.replace(t.as_str(), " ");
    }
    for x in numerals(&rest) {
        assert!(
            grounded.contains(&x),
            "{x} in the text is no claim's number"
        );
    }

    // Two runs, the same bytes; the HTML is one page with no external asset.
    assert_eq!(analyze(&db, "md"), md);
    let html = analyze(&db, "html");
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<style>"));
    assert!(!html.contains("src=\"http") && !html.contains("<link") && !html.contains("<script"));
    assert!(
        html.contains("class=\"n\" title=\""),
        "numbers carry their claims"
    );
}

#[test]
fn shared_data_the_analysis_ignores_what_came_after_its_time() {
    let dir = tempfile::tempdir().unwrap();
    // The 4h file cut at the as-of time, under the same name.
    let cut_dir = dir.path().join("cut");
    std::fs::create_dir_all(&cut_dir).unwrap();
    let full = shared("data/btcusdt_binance_4h.csv");
    let text = std::fs::read_to_string(&full).unwrap();
    let mut lines = text.lines();
    let mut cut = String::from(lines.next().unwrap());
    cut.push('\n');
    for l in lines {
        // Bars that had closed by 05:00: those opening before 04:00 on the day.
        if l.split(',').next().unwrap() < "2026-02-06 04:00:00" {
            cut.push_str(l);
            cut.push('\n');
        }
    }
    let cut_file = cut_dir.join("btcusdt_binance_4h.csv");
    std::fs::write(&cut_file, cut).unwrap();
    let (a, b) = (dir.path().join("full.db"), dir.path().join("cut.db"));
    import(&a, &full);
    import(&b, &cut_file);
    // A later headline in the full database only.
    let later = dir.path().join("later.csv");
    std::fs::write(
        &later,
        "id,published_at,source,title\nl1,2026-02-06T06:00:00Z,example.com,Bitcoin miners rally as hashprice recovers\n",
    )
    .unwrap();
    ok(&canary(&a, &["news", "import", later.to_str().unwrap()]));
    let (ma, mb) = (analyze(&a, "md"), analyze(&b, "md"));
    assert_eq!(ma, mb);
    assert!(!ma.contains("rally as hashprice"));
}

#[test]
fn shared_data_analyses_are_stored_once_and_versions_show_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("v.db");
    import(&db, &shared("data/btcusdt_binance_4h.csv"));
    // An earlier analysis (of the market, two days before) becomes a related one.
    ok(&canary(
        &db,
        &[
            "analyze",
            "--symbol",
            "BTCUSDT",
            "--asof",
            "2026-02-04T05:00:00Z",
        ],
    ));
    let first = analyze(&db, "md");
    assert!(first.contains("\nRelated: Bitcoin "), "{first}");
    assert!(first.contains("(2026-02-04, `a"), "{first}");
    analyze(&db, "md");
    let list = ok(&canary(
        &db,
        &["analyses", "list", "--tag", "bitcoin-miners", "--wide"],
    ));
    let ids: Vec<&str> = list
        .split_whitespace()
        .filter(|w| w.len() == 17 && w.starts_with('a'))
        .collect();
    assert_eq!(ids.len(), 1, "{list}");
    // A headline of that night, imported later: a new version of the same analysis.
    let late = dir.path().join("late.csv");
    std::fs::write(
        &late,
        "id,published_at,source,title\nz9,2026-02-06T02:00:00Z,theblock.co,Bitcoin miners sell more BTC as hashprice sinks\n",
    )
    .unwrap();
    ok(&canary(&db, &["news", "import", late.to_str().unwrap()]));
    let md = analyze(&db, "md");
    assert!(md.contains("Bitcoin miners sell more BTC as hashprice sinks"));
    let history = ok(&canary(&db, &["analyses", "history", ids[0]]));
    assert!(history.starts_with("2 versions"), "{history}");
    assert!(
        history.contains("+ - theblock.co, 2026-02-06: Bitcoin miners sell more BTC"),
        "{history}"
    );
    // The stored text is the text as written.
    let shown = ok(&canary(&db, &["analyses", "show", ids[0]]));
    assert!(shown.starts_with("# Bitcoin miners under pressure"));
    assert!(!shown.contains("sell more BTC"));
}

/// Store the simulator's crash: `bars` 4h bars of `seed`, from `start` if given.
fn simulate(db: &Path, bars: usize, seed: u64, start: Option<&str>) {
    let (bars, seed) = (bars.to_string(), seed.to_string());
    let mut args = vec![
        "simulate",
        "--tf",
        "4h",
        "--bars",
        &bars,
        "--seed",
        &seed,
        "--scenario",
        "crash",
        "--store",
    ];
    if let Some(s) = start {
        args.extend(["--start", s]);
    }
    ok(&canary(db, &args));
}

/// The rendered text of a fixed scenario: the simulator's crash (seed 7), analysed the
/// morning after. A change of wording or figures shows here as a snapshot difference.
#[test]
fn the_simulated_crash_reads_as_it_did() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    simulate(&db, 2190, 7, Some("2025-02-07T00:00:00Z"));
    let md = ok(&canary(
        &db,
        &[
            "analyze",
            "--symbol",
            "BTCUSDT",
            "--asof",
            "2026-02-06T05:00:00Z",
            "--no-store",
        ],
    ));
    assert!(md.contains("SIMULATED DATA"));
    insta::assert_snapshot!("simulated_crash_analysis", md);
}

#[test]
fn your_own_templates_render_but_cannot_invent_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    simulate(&db, 800, 3, None);
    let tpl = dir.path().join("tpl");
    std::fs::create_dir_all(&tpl).unwrap();
    std::fs::write(
        tpl.join("analysis.md.j2"),
        "{{ a.headline }} — {{ a.scores_line }}\n",
    )
    .unwrap();
    let args = |extra: &[&str]| {
        let mut v = vec![
            "analyze",
            "--symbol",
            "BTCUSDT",
            "--no-store",
            "--templates",
            tpl.to_str().unwrap(),
        ];
        v.extend_from_slice(extra);
        v.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let a = args(&[]);
    let out = ok(&canary(
        &db,
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("Pulse"), "{out}");
    // The sentences are the user's too: the shipped phrases with one macro reworded.
    std::fs::remove_file(tpl.join("analysis.md.j2")).unwrap();
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../canary-engine/src/analysis/templates/phrases.j2"),
    )
    .unwrap();
    let mine = shipped.replace(
        "Defensive while {{ name }} stays below",
        "Stay careful while {{ name }} trades under",
    );
    assert_ne!(mine, shipped);
    std::fs::write(tpl.join("phrases.j2"), mine).unwrap();
    let out = ok(&canary(
        &db,
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    assert!(
        out.contains("Stay careful while Bitcoin trades under $"),
        "{out}"
    );
    std::fs::remove_file(tpl.join("phrases.j2")).unwrap();
    // A number the claims do not hold is refused, whoever wrote the template.
    std::fs::write(
        tpl.join("analysis.md.j2"),
        "{{ a.headline }}: up 987.65% tomorrow\n",
    )
    .unwrap();
    let e = canary(&db, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!e.status.success());
    assert!(
        String::from_utf8_lossy(&e.stderr).contains("\"987.65\""),
        "{e:?}"
    );
    // A template that does not parse names itself.
    std::fs::write(tpl.join("analysis.md.j2"), "{{ a.headline \n").unwrap();
    let e = canary(&db, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        String::from_utf8_lossy(&e.stderr).contains("template analysis.md.j2"),
        "{e:?}"
    );
}

#[test]
fn shared_data_an_analysis_from_daily_bars_alone_says_what_it_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    let d = shared("data/btcusdt_binance_1d.csv");
    ok(&canary(
        &db,
        &["import", d.to_str().unwrap(), "--symbol", "BTCUSDT"],
    ));
    let md = ok(&canary(
        &db,
        &[
            "analyze",
            "--symbol",
            "BTCUSDT",
            "--asof",
            ASOF,
            "--no-store",
        ],
    ));
    assert!(
        md.contains("Built without: BTCUSDT 4h, news (no data at the time)."),
        "{md}"
    );
    assert!(md.contains("| Support |"), "{md}");
}

#[test]
fn shared_data_related_news_comes_from_the_index_and_is_not_cited_twice() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    import(&db, &shared("data/btcusdt_binance_4h.csv"));
    let day = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../canary-news/tests/data/news_day.csv");
    ok(&canary(&db, &["news", "import", day.to_str().unwrap()]));
    let md = analyze(&db, "md");
    let line = md
        .lines()
        .find(|l| l.starts_with("Related news: "))
        .unwrap_or_else(|| panic!("{md}"));
    // Each related item is cited once: not among the sources.
    let sources: Vec<&str> = md.lines().filter(|l| l.starts_with("- ")).collect();
    for item in line.trim_start_matches("Related news: ").split("; ") {
        let title = item.split(": ").nth(1).unwrap();
        assert!(
            !sources.iter().any(|s| s.contains(title)),
            "{title} is a source too"
        );
    }
    assert!(dir.path().join("r.db.search").is_dir());
}
