//! `markets`: the US session last closed by T set beside BTC (`canary_analytics::markets`).
//! Each index's and each miner's day move with its rank among the ticker's daily moves of the
//! last three years; BTC's move over the same session, its price taken at each US close (the
//! close of the last bar closed by then, from its 1 h bars, else its 4 h ones); the 30- and
//! 90-session correlation and beta of BTC to the Nasdaq-100 and of each miner to BTC, each
//! with its change from the window before; the miners' equal-weighted basket
//! against BTC; the Crypto Fear & Greed Index. Nothing dated after T: a US day counts from its
//! exchange's close.

use canary_analytics::markets::{
    BASKET_EQUAL, BETA, CORRELATION, CoMove, DAY_MOVE, MOVE_RANK, PRICE_AT_CLOSE,
    aligned_log_returns, at_or_before, basket_equal, co_move, co_move_at, day_moves,
    rank_from_worst,
};
use canary_model::markets::{Field, Market, MarketSeries, Ticker};
use canary_model::{Claim, ClaimId, Symbol, Timeframe, Timestamp};
use serde::Serialize;

use crate::context::Series;
use crate::facts::Kind;
use crate::reports::derivatives::Valued;
use crate::{Context, Draft, EngineError, Input, Report};

const DAY_MS: i64 = 86_400_000;
/// The history a day's move is ranked in: about three years of sessions.
pub const RANK_SESSIONS: usize = 756;
/// The correlation windows, in aligned sessions.
pub const WINDOWS: [usize; 2] = [30, 90];

/// What to compute.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketsParams {
    /// The BTC instrument whose bars give its price at each US close.
    pub symbol: Symbol,
    /// The miners of the basket; `None`: every miner of the facts file with prices stored.
    pub miners: Option<Vec<Ticker>>,
}

/// One ticker's last session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TickerMove {
    pub ticker: String,
    /// Its last trading day known at T.
    pub day: Timestamp,
    pub close: Valued,
    /// The close over the previous close, minus one.
    pub day_move: Valued,
    /// Its rank among the ticker's daily moves of the last [`RANK_SESSIONS`] (1 = the worst).
    pub rank_from_worst: Option<Valued>,
    /// How many moves that rank is among, and the day of the first of them.
    pub ranked_among: usize,
    pub ranked_since: Timestamp,
    /// Whether its last day is older than the session the report describes.
    pub behind: bool,
}

/// A correlation and beta over one window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoMoveRow {
    /// `BTC–NDX`, `MARA–BTC`: beta of the first to the second.
    pub pair: String,
    pub window: usize,
    pub from: Timestamp,
    pub to: Timestamp,
    pub correlation: Valued,
    pub beta: Valued,
    /// The same window's correlation ending `window` sessions earlier, and the change since.
    pub previous: Option<Valued>,
    pub change: Option<Valued>,
}

/// The miners' basket against BTC over the session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Basket {
    /// `equal`: shares outstanding are not in the facts file, so no value weights.
    pub weighting: &'static str,
    pub members: Vec<String>,
    pub day_move: Valued,
    pub btc_move: Option<Valued>,
    /// The worst member and its move.
    pub worst: Option<(String, Valued)>,
}

/// The Crypto Fear & Greed Index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FearGreed {
    pub day: Timestamp,
    pub value: Valued,
    /// alternative.me's band: Extreme Fear (0–24), Fear (25–46), Neutral (47–54), Greed
    /// (55–75), Extreme Greed (76–100).
    pub band: &'static str,
}

/// One session of the chart: the miners' basket and BTC each compounded from 100 at the
/// first session shown, and BTC's 30-session correlation to the Nasdaq-100 then. Chart data:
/// the figures it ends on are the report's claims.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionPoint {
    pub day: Timestamp,
    pub basket: Option<f64>,
    pub btc: Option<f64>,
    pub correlation_30: Option<f64>,
}

/// Sessions the chart spans.
pub const HISTORY_SESSIONS: usize = 90;

/// The report's body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MarketsBody {
    /// The last US trading day closed by T (the indices' latest).
    pub session: Option<Timestamp>,
    pub indices: Vec<TickerMove>,
    pub miners: Vec<TickerMove>,
    /// BTC over the same session, priced at the US closes.
    pub btc: Option<TickerMove>,
    /// How BTC's price at a US close is taken.
    pub btc_at_close: Option<String>,
    pub correlations: Vec<CoMoveRow>,
    pub basket: Option<Basket>,
    pub fear_greed: Option<FearGreed>,
    /// The last [`HISTORY_SESSIONS`] sessions, for a chart.
    pub history: Vec<SessionPoint>,
    /// What could not be computed, and why.
    pub missing: Vec<String>,
}

/// The band alternative.me gives a reading.
#[must_use]
pub fn fear_greed_band(v: f64) -> &'static str {
    match v {
        x if x < 25.0 => "Extreme Fear",
        x if x < 47.0 => "Fear",
        x if x < 55.0 => "Neutral",
        x if x < 76.0 => "Greed",
        _ => "Extreme Greed",
    }
}

fn derived(draft: &mut Draft, c: Claim) -> Valued {
    Valued {
        value: c.value,
        claim: draft.add(c),
    }
}

/// A ticker's closes and their claims: the series read from three years and a month before T.
/// BTC's are its prices at the US closes, each cited as the bar it was read from.
struct Closes<'b> {
    ticker: String,
    input: Input<Series>,
    bars: Option<&'b Input<crate::context::MarketBars>>,
}

impl Closes<'_> {
    fn read(ctx: &Context<'_>, series: &MarketSeries) -> Result<Option<Self>, EngineError> {
        let from = ctx.asof().add_millis(-(3 * 366 + 31) * DAY_MS);
        Ok(ctx.markets_since(series, from)?.map(|input| Closes {
            ticker: series.ticker.to_string(),
            input,
            bars: None,
        }))
    }

    fn claim(&self, draft: &mut Draft, at: usize) -> Valued {
        let (t, v) = self.input.value[at];
        if let Some(bars) = self.bars {
            let b = bars.bars();
            let instant = Market::Us.available_at(t).unwrap_or(t);
            if let Some(i) = b.last_closed_by(instant) {
                let close_time = b.close_time(i);
                let bar = draft.add(b.claim(
                    format!("{} close", b.symbol),
                    "close",
                    i,
                    b.candles[i].close,
                    "USD",
                    draft.as_of,
                ));
                return derived(
                    draft,
                    Claim::derived(
                        format!("{} at the US close of {}", b.symbol, &t.to_string()[..10]),
                        v,
                        "USD",
                        draft.as_of,
                        PRICE_AT_CLOSE
                            .of(&[&bar])
                            .param("us_close", instant.to_string())
                            .param("bar_close", close_time.to_string()),
                    ),
                );
            }
        }
        let c = Claim::data(
            format!("{} close", self.ticker),
            v,
            "USD",
            draft.as_of,
            &self.input.series,
            &self.input.source,
            t,
        );
        Valued {
            value: v,
            claim: draft.add(c),
        }
    }
}

/// The last session's move of a series of closes, ranked in its history.
fn last_move(
    draft: &mut Draft,
    c: &Closes,
    session: Option<Timestamp>,
    unit_label: &str,
) -> Option<TickerMove> {
    let n = c.input.value.len();
    if n < 2 {
        return None;
    }
    draft.uses(&c.input);
    let close = c.claim(draft, n - 1);
    let prev = c.claim(draft, n - 2);
    let moves = day_moves(&c.input.value);
    let day = c.input.value[n - 1].0;
    let day_move = derived(
        draft,
        Claim::derived(
            format!("{} day move{unit_label}", c.ticker),
            close.value / prev.value - 1.0,
            "fraction",
            draft.as_of,
            DAY_MOVE.of(&[&close.claim, &prev.claim]),
        ),
    );
    let window: Vec<f64> = moves
        .iter()
        .rev()
        .take(RANK_SESSIONS)
        .rev()
        .map(|m| m.1)
        .collect();
    let since = moves[moves.len() - window.len()].0;
    let rank = rank_from_worst(&window).map(|(r, among)| {
        derived(
            draft,
            Claim::derived(
                format!("{} day move, rank from the worst", c.ticker),
                r as f64,
                "rank",
                draft.as_of,
                MOVE_RANK
                    .of(&[&day_move.claim])
                    .param("among", among)
                    .param("since", since.to_string())
                    .param("to", day.to_string())
                    .param("series", c.input.series.clone()),
            ),
        )
    });
    Some(TickerMove {
        ticker: c.ticker.clone(),
        day,
        close,
        day_move,
        rank_from_worst: rank,
        ranked_among: window.len(),
        ranked_since: since,
        behind: session.is_some_and(|s| day < s),
    })
}

/// BTC's prices at US closes: `(day, price, lag behind the close)`, and the bars read.
pub(crate) type AtCloses = (
    Vec<(Timestamp, f64, i64)>,
    Input<crate::context::MarketBars>,
);

/// BTC's price at each US close of `days`, from the finest of its 1 h and 4 h bars known at
/// T (a bar closed at most one bar's length before the close).
pub(crate) fn btc_at_closes(
    ctx: &Context<'_>,
    symbol: &Symbol,
    days: &[Timestamp],
) -> Result<Option<AtCloses>, EngineError> {
    let span_days = days
        .first()
        .map_or(0, |f| (ctx.asof().millis() - f.millis()) / DAY_MS + 2);
    for tf in [Timeframe::H1, Timeframe::H4] {
        let n = usize::try_from(span_days * DAY_MS / tf.duration_ms()).unwrap_or(0);
        let bars = match ctx.last_bars(symbol, tf, n) {
            Ok(b) => b,
            Err(EngineError::NoBars { .. }) => continue,
            Err(e) => return Err(e),
        };
        let closes: Vec<(Timestamp, f64)> = bars
            .value
            .candles
            .iter()
            .map(|c| (tf.close_of(c.open_time), c.close))
            .collect();
        let instants: Vec<(Timestamp, Timestamp)> = days
            .iter()
            .filter_map(|&d| Some((d, Market::Us.available_at(d).ok()?)))
            .collect();
        let on_days = at_or_before(&closes, &instants, tf.duration_ms());
        if on_days.len() >= 2 {
            return Ok(Some((on_days, bars)));
        }
    }
    Ok(None)
}

/// The claims of `c`'s closes on the first and last day of a window of `returns` ending at
/// `end` (exclusive): the first day is the common day the window's first return starts from.
fn window_ends(
    draft: &mut Draft,
    c: &Closes<'_>,
    returns: &[(Timestamp, f64, f64)],
    end: usize,
    window: usize,
) -> Vec<ClaimId> {
    let start = end - window;
    let first = if start > 0 {
        returns[start - 1].0
    } else {
        returns[start].0
    };
    let last = returns[end - 1].0;
    [first, last]
        .into_iter()
        .filter_map(|d| {
            let i = c.input.value.binary_search_by(|x| x.0.cmp(&d)).ok()?;
            Some(c.claim(draft, i).claim)
        })
        .collect()
}

/// The correlation row of `a` to `b` over `window` aligned sessions, with its change from the
/// window before; each figure cites both series' closes at its window's ends.
fn co_move_row(
    draft: &mut Draft,
    pair: &str,
    returns: &[(Timestamp, f64, f64)],
    window: usize,
    series: (&Closes<'_>, &Closes<'_>),
) -> Option<CoMoveRow> {
    let claim = |draft: &mut Draft, label: &str, v: f64, m: &CoMove, end: usize, method| {
        let mut ids = window_ends(draft, series.0, returns, end, window);
        ids.extend(window_ends(draft, series.1, returns, end, window));
        let refs: Vec<&ClaimId> = ids.iter().collect();
        derived(
            draft,
            Claim::derived(
                format!("{pair} {label}, {window} sessions"),
                v,
                if label == "beta" {
                    "ratio"
                } else {
                    "correlation"
                },
                draft.as_of,
                canary_model::Method::of(method, &refs)
                    .param("window", window)
                    .param("from", m.from.to_string())
                    .param("to", m.to.to_string())
                    .param("returns", "log, consecutive common days"),
            ),
        )
    };
    let end = returns.len();
    let now: CoMove = co_move(returns, window)?;
    let correlation = claim(
        draft,
        "correlation",
        now.correlation,
        &now,
        end,
        CORRELATION,
    );
    let beta = claim(draft, "beta", now.beta, &now, end, BETA);
    let before_end = end.checked_sub(window);
    let previous = before_end
        .and_then(|e| Some((e, co_move_at(returns, e, window)?)))
        .map(|(e, b)| {
            claim(
                draft,
                "correlation before",
                b.correlation,
                &b,
                e,
                CORRELATION,
            )
        });
    let change = previous.as_ref().map(|p| {
        derived(
            draft,
            Claim::derived(
                format!("{pair} correlation change, {window} sessions"),
                correlation.value - p.value,
                "correlation",
                draft.as_of,
                canary_model::Method::new("difference", 1).of(&[&correlation.claim, &p.claim]),
            ),
        )
    });
    Some(CoMoveRow {
        pair: pair.to_string(),
        window,
        from: now.from,
        to: now.to,
        correlation,
        beta,
        previous,
        change,
    })
}

/// The miners to put in the basket: the given ones, else the facts file's miners.
pub(crate) fn miner_tickers(ctx: &Context<'_>, p: &MarketsParams) -> Vec<Ticker> {
    if let Some(m) = &p.miners {
        // Each counts once in the equal-weighted basket, in the order given.
        let mut out: Vec<Ticker> = Vec::with_capacity(m.len());
        for t in m {
            if !out.contains(t) {
                out.push(t.clone());
            }
        }
        return out;
    }
    ctx.profiles()
        .map(|pr| {
            pr.companies
                .iter()
                .filter(|(_, c)| c.kind == Kind::Miner)
                .filter_map(|(t, _)| t.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The markets report as of the context's time.
///
/// # Errors
/// A database error.
pub fn markets(ctx: &Context<'_>, p: &MarketsParams) -> Result<Report<MarketsBody>, EngineError> {
    let mut draft = Draft::new(ctx.asof());
    let mut body = MarketsBody {
        session: None,
        indices: Vec::new(),
        miners: Vec::new(),
        btc: None,
        btc_at_close: None,
        correlations: Vec::new(),
        basket: None,
        fear_greed: None,
        history: Vec::new(),
        missing: Vec::new(),
    };
    let us = |t: &str| -> Option<MarketSeries> {
        Some(MarketSeries::us(&t.parse().ok()?, Field::Close))
    };
    let mut index_closes = Vec::new();
    for t in [Ticker::NASDAQ_100, Ticker::SP_500] {
        let Some(s) = us(t) else { continue };
        match Closes::read(ctx, &s)? {
            Some(c) => index_closes.push(c),
            None => body.missing.push(format!("{t}: no closes known at T")),
        }
    }
    body.session = index_closes
        .iter()
        .filter_map(|c| c.input.value.last().map(|x| x.0))
        .max();
    for c in &index_closes {
        if let Some(m) = last_move(&mut draft, c, body.session, "") {
            body.indices.push(m);
        }
    }
    let mut miner_closes = Vec::new();
    for t in miner_tickers(ctx, p) {
        match Closes::read(ctx, &MarketSeries::us(&t, Field::Close))? {
            Some(c) => miner_closes.push(c),
            None => body.missing.push(format!("{t}: no prices known at T")),
        }
    }
    for c in &miner_closes {
        if let Some(m) = last_move(&mut draft, c, body.session, "") {
            body.miners.push(m);
        }
    }

    // BTC at the US closes of the Nasdaq-100's days (else the S&P's).
    let days: Vec<Timestamp> = index_closes
        .first()
        .map(|c| c.input.value.iter().map(|x| x.0).collect())
        .unwrap_or_default();
    let btc = btc_at_closes(ctx, &p.symbol, &days)?;
    match &btc {
        None => body.missing.push(format!(
            "{}: no 1h or 4h bars to price BTC at the US closes",
            p.symbol
        )),
        Some((on_days, bars)) => {
            draft.uses(bars);
            let tf = bars.value.timeframe;
            body.btc_at_close = Some(format!(
                "the close of the last {} {tf} bar closed at or before each US close (16:00 New York), at most {tf} before it",
                p.symbol
            ));
            let input = Input {
                value: on_days.iter().map(|&(d, v, _)| (d, v)).collect(),
                series: format!("{} {tf} at US closes", p.symbol),
                source: bars.source.clone(),
                kind: bars.kind,
                last_time: bars.last_time,
                age_ms: bars.age_ms,
                warnings: Vec::new(),
            };
            let asset = crate::ScoreParams::asset_of(&p.symbol);
            let closes = Closes {
                ticker: asset.clone(),
                input,
                bars: Some(bars),
            };
            body.btc = last_move(&mut draft, &closes, body.session, " at US closes");
            if let (Some(ndx), Some(_)) = (index_closes.first(), &body.btc) {
                let returns = aligned_log_returns(&closes.input.value, &ndx.input.value);
                for w in WINDOWS {
                    if let Some(row) = co_move_row(
                        &mut draft,
                        &format!("{asset}–{}", ndx.ticker),
                        &returns,
                        w,
                        (&closes, ndx),
                    ) {
                        body.correlations.push(row);
                    }
                }
            }
            body.history = history(
                &days,
                &closes.input.value,
                index_closes.first().map(|c| c.input.value.as_slice()),
                &miner_closes,
            );
            if body.btc.is_some() {
                for m in &miner_closes {
                    let returns = aligned_log_returns(&m.input.value, &closes.input.value);
                    for w in WINDOWS {
                        if let Some(row) = co_move_row(
                            &mut draft,
                            &format!("{}–{asset}", m.ticker),
                            &returns,
                            w,
                            (m, &closes),
                        ) {
                            body.correlations.push(row);
                        }
                    }
                }
            }
        }
    }
    body.basket = basket(&mut draft, &body);
    body.fear_greed = fear_greed(ctx, &mut draft)?;
    if body.fear_greed.is_none() {
        body.missing
            .push("Crypto Fear & Greed Index: no value known at T".into());
    }
    if body.session.is_none() {
        body.missing.push(
            "US indices: no Nasdaq-100 or S&P 500 close known at T (canary markets import)".into(),
        );
    }
    draft.finish(body)
}

/// The chart's sessions: the basket (the mean move of the miners with a close that day and
/// the session before) and BTC at the US closes, each compounded from 100, and the rolling
/// 30-session correlation of BTC to the index.
fn history(
    days: &[Timestamp],
    btc: &[(Timestamp, f64)],
    index: Option<&[(Timestamp, f64)]>,
    miners: &[Closes<'_>],
) -> Vec<SessionPoint> {
    let start = days.len().saturating_sub(HISTORY_SESSIONS + 1);
    let days = &days[start..];
    let price = |series: &[(Timestamp, f64)], d: Timestamp| {
        series
            .binary_search_by(|x| x.0.cmp(&d))
            .ok()
            .map(|i| series[i].1)
    };
    let returns = index
        .map(|ix| aligned_log_returns(btc, ix))
        .unwrap_or_default();
    let mut out: Vec<SessionPoint> = Vec::with_capacity(days.len());
    let (mut basket, mut btc_ix) = (Some(100.0), Some(100.0));
    for (k, &d) in days.iter().enumerate() {
        if k > 0 {
            let prev = days[k - 1];
            let moves: Vec<f64> = miners
                .iter()
                .filter_map(|m| {
                    Some(price(&m.input.value, d)? / price(&m.input.value, prev)? - 1.0)
                })
                .collect();
            // A session without a move (no close that day or the one before) leaves the
            // line where it was.
            if let (Some(b), Some(m)) = (basket, basket_equal(&moves)) {
                basket = Some(b * (1.0 + m));
            }
            if let (Some(b), Some(p), Some(q)) = (btc_ix, price(btc, d), price(btc, prev)) {
                btc_ix = Some(b * p / q);
            }
        }
        let end = returns.partition_point(|r| r.0 <= d);
        out.push(SessionPoint {
            day: d,
            basket,
            btc: btc_ix,
            correlation_30: co_move_at(&returns, end, 30).map(|c| c.correlation),
        });
    }
    out
}

/// The miners that traded in the session, equal-weighted, against BTC over it.
fn basket(draft: &mut Draft, body: &MarketsBody) -> Option<Basket> {
    let session = body.session?;
    let members: Vec<&TickerMove> = body.miners.iter().filter(|m| m.day == session).collect();
    let moves: Vec<f64> = members.iter().map(|m| m.day_move.value).collect();
    let v = basket_equal(&moves)?;
    let ids: Vec<&ClaimId> = members.iter().map(|m| &m.day_move.claim).collect();
    let day_move = derived(
        draft,
        Claim::derived(
            "miners' basket day move (equal-weighted)",
            v,
            "fraction",
            draft.as_of,
            BASKET_EQUAL
                .of(&ids)
                .param("members", members.len())
                .param("session", session.to_string()),
        ),
    );
    let worst = members
        .iter()
        .min_by(|a, b| a.day_move.value.total_cmp(&b.day_move.value))
        .map(|m| (m.ticker.clone(), m.day_move.clone()));
    Some(Basket {
        weighting: "equal",
        members: members.iter().map(|m| m.ticker.clone()).collect(),
        day_move,
        btc_move: body
            .btc
            .as_ref()
            .filter(|b| b.day == session)
            .map(|b| b.day_move.clone()),
        worst,
    })
}

fn fear_greed(ctx: &Context<'_>, draft: &mut Draft) -> Result<Option<FearGreed>, EngineError> {
    let Ok(ticker) = Ticker::FEAR_GREED.parse::<Ticker>() else {
        return Ok(None);
    };
    let s = MarketSeries {
        market: Market::Utc,
        ticker,
        field: Field::Value,
    };
    let Some(input) = ctx.markets_since(&s, ctx.asof().add_millis(-30 * DAY_MS))? else {
        return Ok(None);
    };
    draft.uses(&input);
    let Some(&(day, v)) = input.value.last() else {
        return Ok(None);
    };
    let c = Claim::data(
        "Crypto Fear & Greed Index",
        v,
        "index 0-100",
        draft.as_of,
        &input.series,
        &input.source,
        day,
    );
    Ok(Some(FearGreed {
        day,
        value: Valued {
            value: v,
            claim: draft.add(c),
        },
        band: fear_greed_band(v),
    }))
}
