//! Bitcoin mining economics (`../shared/MODELS.md` §1). So far: the protocol facts that other
//! models need (subsidy schedule, supply, block height estimated from time).

pub mod protocol;
