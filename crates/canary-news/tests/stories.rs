//! Stories on a fixture day of news (`tests/data/news_day.csv`: 18 items from 2026-02-05,
//! written for this test after real headlines of that day, each with the event it is
//! about): the clustering must recover the events.

use std::collections::BTreeMap;

use canary_model::Timestamp;
use canary_model::news::NewsItem;
use canary_news::stories::{StoryParams, stories};

fn day() -> (Vec<NewsItem>, BTreeMap<String, String>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/news_day.csv");
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut items = Vec::new();
    let mut truth = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let t = Timestamp::parse(&rec[1]).unwrap();
        items.push(NewsItem {
            id: rec[0].to_string(),
            outlet: rec[2].to_string(),
            source: "news_day.csv".into(),
            url: Some(rec[3].to_string()),
            title: rec[4].to_string(),
            summary: rec[5].to_string(),
            published_at: Some(t),
            available_at: t,
            language: Some("en".into()),
            duplicate_of: None,
        });
        truth.insert(rec[0].to_string(), rec[6].to_string());
    }
    (items, truth)
}

#[test]
fn a_day_of_news_clusters_into_its_events() {
    let (items, truth) = day();
    let found = stories(&items, StoryParams::default());
    let mut assigned = BTreeMap::new();
    for s in &found {
        println!("{} ({} outlets): {:?}", s.title, s.outlets.len(), s.items);
        for i in &s.items {
            assigned.insert(i.clone(), s.id.clone());
        }
    }
    // Pairwise: items of one event in one story, items of different events apart.
    let ids: Vec<&String> = truth.keys().collect();
    let (mut together, mut apart, mut wrong) = (0, 0, Vec::new());
    for (a, x) in ids.iter().enumerate() {
        for y in &ids[a + 1..] {
            let same_event = truth[*x] == truth[*y];
            let same_story = assigned[*x] == assigned[*y];
            match (same_event, same_story) {
                (true, true) => together += 1,
                (false, false) => apart += 1,
                _ => wrong.push((x.as_str(), y.as_str(), same_event)),
            }
        }
    }
    println!("pairs together {together}, apart {apart}, wrong {wrong:?}");
    assert!(wrong.is_empty(), "{wrong:?}");
    let events: std::collections::BTreeSet<&String> = truth.values().collect();
    assert_eq!(found.len(), events.len());
}
