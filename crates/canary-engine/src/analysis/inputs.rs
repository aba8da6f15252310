//! The reports an analysis reads, each made once as of its time: stats, scores, the Watch,
//! the news and its stories, the derivatives and the liquidation map when known and, for the
//! miners' angle, the companies' figures. Their claims,
//! warnings and simulated flags all come with the analysis.

use canary_news::sentiment::Lexicon;
use canary_news::tags::Dictionary;

use super::{AnalyzeParams, Topic, stat};
use crate::reports::companies::{CompaniesBody, MinersParams};
use crate::{
    Context, DerivativesBody, DerivativesParams, Draft, EngineError, LiqMapBody, LiqMapParams,
    MarketsBody, MarketsParams, NetworkBody, NetworkParams, NewsBody, NewsParams, Price, Report,
    ScoreBody, ScoreParams, StatsBody, StatsParams, StoriesBody, StoriesParams, Warning, WatchBody,
    WatchParams,
};

/// The reports behind an analysis.
#[derive(Debug, Clone)]
pub(super) struct Inputs {
    pub stats: Report<StatsBody>,
    pub score: Report<ScoreBody>,
    pub watch: Report<WatchBody>,
    /// The most relevant items of the last two days (the sources).
    pub news: Report<NewsBody>,
    /// The stories of the last two days (what happened, the lead for related news).
    pub stories: Report<StoriesBody>,
    /// The companies' figures at the last price, for the miners' angle only.
    pub miners: Option<Report<CompaniesBody>>,
    /// Funding, open interest and liquidations (the broadest series of each kind), when any
    /// derivatives series is known at the time.
    pub derivatives: Option<Report<DerivativesBody>>,
    /// The liquidation map with the cascade of a fall to support, when the map is current
    /// and support lies below the price.
    pub liqmap: Option<Report<LiqMapBody>>,
    /// The last US session beside BTC, when any market series is known at the time.
    pub markets: Option<Report<MarketsBody>>,
    /// Hash rate, Hash Ribbons and the difficulty nowcast, for the miners' angle when a
    /// current hash rate is known at the time.
    pub network: Option<Report<NetworkBody>>,
}

impl Inputs {
    /// Make every report the analysis reads, as of the context's time.
    ///
    /// # Errors
    /// No bars of the symbol; a database error; a report that cannot be made.
    pub(super) fn gather(
        ctx: &Context<'_>,
        p: &AnalyzeParams,
        dict: &Dictionary,
        lex: &Lexicon,
    ) -> Result<Inputs, EngineError> {
        // The 4h bars give the last price and the 24 h change; daily bars do when there are none.
        let intraday = if ctx.bars(&p.symbol, canary_model::Timeframe::H4).is_ok() {
            canary_model::Timeframe::H4
        } else {
            canary_model::Timeframe::D1
        };
        let stats = crate::stats(
            ctx,
            &StatsParams {
                symbol: p.symbol.clone(),
                intraday,
            },
        )?;
        let score = crate::score(
            ctx,
            &ScoreParams {
                symbol: p.symbol.clone(),
                method: p.method.clone(),
                asset: p.asset.clone(),
                horizon_days: ScoreParams::HORIZON_DAYS,
                drawdown: ScoreParams::DRAWDOWN,
            },
            dict,
            lex,
        )?;
        let watch = crate::watch(ctx, &WatchParams::new(p.symbol.clone()))?;
        let (derivatives, liqmap) = derivatives(ctx, p, &watch.body)?;
        let topic_tag = match p.topic {
            Topic::Miners => Some("bitcoin-miners".to_string()),
            Topic::Market => None,
        };
        let news = crate::news(
            ctx,
            dict,
            lex,
            &NewsParams {
                lookback_ms: 2 * 86_400_000,
                asset: Some(p.asset.clone()),
                topic: topic_tag.clone(),
                min_relevance: 0.5,
                limit: 5,
                ..NewsParams::default()
            },
        )?;
        let stories = crate::stories(
            ctx,
            dict,
            lex,
            &StoriesParams {
                lookback_ms: 2 * 86_400_000,
                asset: Some(p.asset.clone()),
                topic: topic_tag,
                min_relevance: 0.5,
                limit: 3,
                ..StoriesParams::default()
            },
        )?;
        let miners = if p.topic == Topic::Miners {
            let price = stat(&stats.body, "last_price").map(|s| s.value);
            Some(crate::miners(
                ctx,
                &MinersParams {
                    price: price.map_or(Price::Stored, Price::Given),
                    symbol: p.symbol.clone(),
                    scenarios: Vec::new(),
                },
            )?)
        } else {
            None
        };
        let markets = if ctx.market_series()?.is_empty() {
            None
        } else {
            Some(crate::markets(
                ctx,
                &MarketsParams {
                    symbol: p.symbol.clone(),
                    miners: None,
                },
            )?)
        };
        let network = if p.topic == Topic::Miners {
            let n = crate::network(
                ctx,
                &NetworkParams {
                    price: Price::Stored,
                    symbol: p.symbol.clone(),
                    fees_btc: 0.0,
                    power_usd_per_mwh: 50.0,
                    vendor: None,
                },
            )?;
            // Only a current hash rate makes the paragraph; an old one is named with the
            // other old inputs.
            let stale = n.warnings.iter().any(|w| {
                w.kind == crate::WarningKind::Stale
                    && w.series
                        == canary_model::network::NetworkSeries::HashrateHs.stored_name(None)
            });
            (n.body.hashrate.is_some() && !stale).then_some(n)
        } else {
            None
        };
        Ok(Inputs {
            stats,
            score,
            watch,
            news,
            stories,
            miners,
            derivatives,
            liqmap,
            markets,
            network,
        })
    }

    /// Every report's claims into `draft`; their warnings, in report order, and whether any
    /// input was simulated.
    pub(super) fn carry(&self, draft: &mut Draft) -> (Vec<Warning>, bool) {
        let mut warnings: Vec<Warning> = Vec::new();
        let mut simulated = false;
        macro_rules! take {
            ($r:expr) => {{
                draft.claims.extend($r.claims.clone());
                warnings.extend($r.warnings.iter().cloned());
                simulated |= $r.simulated;
            }};
        }
        take!(self.stats);
        take!(self.score);
        take!(self.watch);
        take!(self.news);
        take!(self.stories);
        if let Some(m) = &self.miners {
            take!(m);
        }
        if let Some(d) = &self.derivatives {
            take!(d);
        }
        if let Some(m) = &self.liqmap {
            take!(m);
        }
        if let Some(m) = &self.markets {
            take!(m);
        }
        if let Some(n) = &self.network {
            take!(n);
        }
        (warnings, simulated)
    }
}

/// The derivatives report and the liquidation map, each when it can be made.
type DerivativesInputs = (Option<Report<DerivativesBody>>, Option<Report<LiqMapBody>>);

/// The derivatives report on the broadest series of each kind, and the liquidation map with
/// a fall to support, when they can be made.
fn derivatives(
    ctx: &Context<'_>,
    p: &AnalyzeParams,
    watch: &WatchBody,
) -> Result<DerivativesInputs, EngineError> {
    let heads = crate::headline_series(ctx, &p.asset)?;
    if heads.is_empty() {
        return Ok((None, None));
    }
    let d = crate::derivatives(
        ctx,
        &DerivativesParams {
            market: None,
            symbol: p.symbol.clone(),
            only: Some(heads),
        },
    )?;
    let map = match &watch.support {
        Some(sup) => {
            // A fall to the support's trigger line, from the price the map is built to.
            let params = LiqMapParams {
                symbol: p.symbol.clone(),
                map: canary_analytics::liqmap::MapParams::reference(),
                shocks: Vec::new(),
                targets: vec![sup.broken_if.line],
                band_pct: 10,
            };
            match crate::liquidation_map(ctx, &params) {
                Ok(m) if !m.body.stale => Some(m),
                Ok(_) | Err(EngineError::NoDerivatives { .. } | EngineError::NoBars { .. }) => None,
                Err(e) => return Err(e),
            }
        }
        _ => None,
    };
    Ok((Some(d), map))
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Crash;
    use super::*;

    /// The miners' angle reads the companies at the last price; the market's does not.
    #[test]
    fn the_miners_angle_reads_the_companies_at_the_last_price() {
        let crash = Crash::load();
        let miners = crash.inputs(Topic::Miners);
        let m = miners.miners.as_ref().expect("the companies' figures");
        let last = stat(&miners.stats.body, "last_price").expect("a last price");
        assert!((m.body.price - last.value).abs() < 1e-9, "{}", m.body.price);
        assert!(!m.body.companies.is_empty());
        assert!(miners.news.body.items.len() <= 5);
        assert!(miners.stories.body.stories.len() <= 3);
        let market = crash.inputs(Topic::Market);
        assert!(market.miners.is_none());
    }

    /// Every report's claims, warnings and flag come with the analysis.
    #[test]
    fn carry_brings_every_reports_claims_and_warnings() {
        let crash = Crash::load();
        let inputs = crash.inputs(Topic::Miners);
        let mut draft = Draft::new(crash.asof);
        let (warnings, simulated) = inputs.carry(&mut draft);
        assert!(!simulated, "the shared data is real");
        let m = inputs.miners.as_ref().unwrap();
        let reports = [
            (&inputs.stats.claims, &inputs.stats.warnings),
            (&inputs.score.claims, &inputs.score.warnings),
            (&inputs.watch.claims, &inputs.watch.warnings),
            (&inputs.news.claims, &inputs.news.warnings),
            (&inputs.stories.claims, &inputs.stories.warnings),
            (&m.claims, &m.warnings),
        ];
        let mut expected = Vec::new();
        for (claims, warns) in reports {
            for c in claims.iter() {
                assert!(draft.claims.get(&c.id).is_some(), "{} not carried", c.id);
            }
            expected.extend(warns.iter().cloned());
        }
        assert_eq!(warnings, expected);
        assert!(!warnings.is_empty(), "the crash store has no network data");
    }
}
