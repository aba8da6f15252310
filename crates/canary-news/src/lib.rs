//! Canary's news intelligence, as pure functions over [`canary_model::news`] types: no I/O,
//! no clock (feeds are fetched by `canary-ingest`, items stored by `canary-store`, read as of
//! a time by `canary-engine`).
//!
//! - [`dedup`]: the same article, exact copies and near copies (SimHash, shingle Jaccard).
//! - [`stories`]: items clustered into stories (TF-IDF cosine, single pass, time window).
//! - [`text`]: HTML to text, canonical URLs, words, content hashes, SimHash.
//! - [`sentiment`]: VADER's method with Canary's crypto-market terms.
//! - [`tags`]: the tagging dictionary (assets, companies, exchanges, topics) and relevance.

pub mod dedup;
pub mod sentiment;
pub mod stories;
pub mod tags;
pub mod text;
