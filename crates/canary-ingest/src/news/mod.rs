//! News sources: headline files (`file.rs`: CSV and JSON) and feeds (`feed.rs`: RSS, Atom
//! and JSON Feed bodies into items, pure; `client.rs`: fetching with conditional requests,
//! redirects, a timeout and a size cap).

pub mod client;
pub mod feed;
pub mod file;

pub use client::{DEFAULT_MAX_BYTES, FeedClient, Fetched};
pub use feed::{NotAFeed, items_from};
pub use file::{read_headlines, read_headlines_csv, read_headlines_json, read_labelled};
