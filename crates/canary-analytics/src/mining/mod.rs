//! Bitcoin mining economics (`../shared/MODELS.md` §1): protocol facts (`protocol.rs`),
//! hashprice and machine economics (`hashprice.rs`), difficulty retargets (`difficulty.rs`), Hash Ribbons, Puell and the difficulty
//! nowcast (`indicators.rs`).

pub mod difficulty;
pub mod hashprice;
pub mod indicators;
pub mod protocol;
