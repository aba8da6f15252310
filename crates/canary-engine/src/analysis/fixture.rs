//! What the analysis's step tests read: the crash morning of 2026-02-06 from the shared data
//! (`crate::test_data`), the built-in company facts, dictionary, lexicon and phrases, and the
//! reports an analysis makes from them.

use canary_model::Timestamp;
use canary_news::sentiment::Lexicon;
use canary_news::tags::Dictionary;
use canary_store::Stores;

use super::inputs::Inputs;
use super::phrases::Phrases;
use super::{AnalyzeParams, Topic, render};
use crate::Context;
use crate::facts::Profiles;
use crate::test_data;

/// The crash morning, stored, with what an analysis needs beside the store.
pub(super) struct Crash {
    pub store: Box<dyn Stores>,
    pub profiles: Profiles,
    pub dict: Dictionary,
    pub lex: &'static Lexicon,
    pub asof: Timestamp,
}

impl Crash {
    pub fn load() -> Crash {
        let profiles = Profiles::built_in().unwrap();
        let dict = crate::news_dictionary(Some(&profiles), None).unwrap();
        Crash {
            store: test_data::crash_store(),
            profiles,
            dict,
            lex: Lexicon::built_in(),
            asof: test_data::asof(),
        }
    }

    /// The crash morning with the shared derivatives stored as well.
    pub fn with_derivatives() -> Crash {
        let mut c = Crash::load();
        test_data::store_derivatives(&mut *c.store);
        c
    }

    /// A context on the crash morning, with the built-in company facts.
    pub fn ctx(&self) -> Context<'_> {
        Context::new(&*self.store, self.asof)
            .unwrap()
            .with_profiles(&self.profiles)
    }

    /// The published analysis of BTCUSDT from `topic`'s angle.
    pub fn params(topic: Topic) -> AnalyzeParams {
        AnalyzeParams {
            symbol: test_data::btcusdt(),
            asset: "BTC".into(),
            topic,
            method: canary_analytics::score::Methodology::built_in(),
            templates: render::Templates::default(),
        }
    }

    /// The reports an analysis from `topic`'s angle reads.
    pub fn inputs(&self, topic: Topic) -> Inputs {
        Inputs::gather(&self.ctx(), &Self::params(topic), &self.dict, self.lex).unwrap()
    }
}

/// The shipped sentences.
pub(super) fn phrases() -> Phrases {
    Phrases::new(&render::Templates::default().phrases).unwrap()
}
