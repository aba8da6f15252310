//! Sentiment and tagging speed per headline, on the labelled headline set (154 headlines,
//! cycled). `docs/news.md` records the figures with the processor they were measured on.

use canary_news::sentiment::{Lexicon, sentiment_with};
use canary_news::tags::Dictionary;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn headlines() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/headlines_labelled.csv"
    );
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let title = r
        .headers()
        .unwrap()
        .iter()
        .position(|c| c == "title")
        .unwrap();
    r.records().map(|x| x.unwrap()[title].to_string()).collect()
}

fn bench(c: &mut Criterion) {
    let h = headlines();
    let lex = Lexicon::built_in();
    let dict = Dictionary::built_in();
    let mut g = c.benchmark_group("news");
    g.throughput(Throughput::Elements(h.len() as u64));
    g.bench_function("sentiment", |b| {
        b.iter(|| h.iter().map(|t| sentiment_with(lex, t).score).sum::<f64>());
    });
    g.bench_function("tags", |b| {
        b.iter(|| h.iter().map(|t| dict.tag(t).len()).sum::<usize>());
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
