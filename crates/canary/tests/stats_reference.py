"""The market statistics of `canary stats`, computed apart from Canary's code.

Reads the shared 4h file with the standard library only and prints, as JSON, each statistic
as of a time, by the definitions Canary documents:
- intraday bars: the 4h bars closed by the time; daily bars: UTC days of six 4h bars;
- last price: the latest 4h close; changes: against the 4h bar that closed exactly 24 h, 7 d
  and 30 d before the last one;
- RSI 14: Wilder's (the first averages simple means of 14 changes, then smoothed by 13/14);
- daily move: the latest daily close over the one before; in σ: the latest daily log return
  over the sample standard deviation of the n log returns before it (not mean-adjusted);
- drawdowns: the last price over the highest high of the daily bars (from 90 days before the
  last close for the 90-day one) and of the 4h bars after the last complete day;
- realised volatility: the sample standard deviation of 30 daily log returns × √365 × 100;
  its percentile: the share of the last 730 daily values at or below the latest;
- volume: the latest daily volume over the median of the 30 days before;
- supply: the subsidy schedule summed to the height estimated at 600 s a block after the 2024
  halving block (840,000 at 2024-04-20T00:09:27Z); market value change: the 24 h price change
  times that supply.

Usage: stats_reference.py DATA_DIR ASOF  (ASOF like 2026-02-06T05:00:00Z)
"""

import csv
import datetime as dt
import json
import math
import statistics
import sys

H4 = dt.timedelta(hours=4)


def rsi_wilder(closes, n=14):
    gains, losses = [], []
    for a, b in zip(closes, closes[1:]):
        d = b - a
        gains.append(max(d, 0.0))
        losses.append(max(-d, 0.0))
    ag = sum(gains[:n]) / n
    al = sum(losses[:n]) / n
    for g, l in zip(gains[n:], losses[n:]):
        ag = (ag * (n - 1) + g) / n
        al = (al * (n - 1) + l) / n
    return 100.0 * ag / (ag + al) if ag + al > 0 else 0.0


def supply(height):
    sats, start = 0, 0
    while start <= height:
        era = start // 210_000
        end = min((era + 1) * 210_000 - 1, height)
        subsidy = (50 * 100_000_000) >> era if era < 64 else 0
        if subsidy == 0:
            break
        sats += (end - start + 1) * subsidy
        start = end + 1
    return sats / 100_000_000


def main():
    data, asof_text = sys.argv[1], sys.argv[2]
    asof = dt.datetime.fromisoformat(asof_text.replace("Z", "+00:00"))
    bars = []
    with open(f"{data}/btcusdt_binance_4h.csv", newline="") as f:
        for r in csv.DictReader(f):
            t = dt.datetime.fromisoformat(r["open_time_utc"]).replace(tzinfo=dt.timezone.utc)
            if t + H4 <= asof:
                bars.append((t, float(r["high"]), float(r["close"]), float(r["volume_btc"])))
    bars.sort()
    last_t, _, last, _ = bars[-1]
    last_close_t = last_t + H4
    by_open = {b[0]: b for b in bars}
    out = {"last_price": last}
    for key, hours in [("change_24h", 24), ("change_7d", 24 * 7), ("change_30d", 24 * 30)]:
        then = by_open[last_close_t - dt.timedelta(hours=hours) - H4][2]
        out[key] = (last / then - 1.0) * 100.0
        if hours == 24:
            delta = last - then
    out["rsi14_intraday"] = rsi_wilder([b[2] for b in bars])

    days = {}
    for b in bars:
        days.setdefault(b[0].date(), []).append(b)
    daily = []
    for d in sorted(days):
        bs = days[d]
        day_end = dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc) + dt.timedelta(days=1)
        if len(bs) == 6 and day_end <= asof:
            daily.append((d, max(b[1] for b in bs), bs[-1][2], sum(b[3] for b in bs), day_end))
    closes = [x[2] for x in daily]
    out["daily_close"] = closes[-1]
    out["daily_move"] = (closes[-1] / closes[-2] - 1.0) * 100.0
    logs = [math.log(b / a) for a, b in zip(closes, closes[1:])]
    for n in (30, 90):
        out[f"daily_move_sigma_{n}"] = logs[-1] / statistics.stdev(logs[-n - 1:-1])
    after = [b[1] for b in bars if b[0] >= daily[-1][4]]
    ath = max([x[1] for x in daily] + after)
    from90 = last_close_t - dt.timedelta(days=90)
    d90 = max([x[1] for x in daily if dt.datetime(x[0].year, x[0].month, x[0].day, tzinfo=dt.timezone.utc) >= from90] + after)
    out["drawdown_ath"] = (last / ath - 1.0) * 100.0
    out["drawdown_90d"] = (last / d90 - 1.0) * 100.0
    rv = [statistics.stdev(logs[i - 30:i]) * math.sqrt(365) * 100.0 for i in range(30, len(logs) + 1)]
    out["rv30"] = rv[-1]
    hist = rv[-730:]
    out["rv30_percentile_2y"] = sum(1 for v in hist if v <= rv[-1]) / len(hist) * 100.0
    out["rsi14_daily"] = rsi_wilder(closes)
    vols = [x[3] for x in daily]
    out["volume_vs_median30"] = vols[-1] / statistics.median(vols[-31:-1])
    halving = dt.datetime(2024, 4, 20, 0, 9, 27, tzinfo=dt.timezone.utc)
    height = 840_000 + int((asof - halving).total_seconds()) // 600
    out["supply_estimate"] = supply(height)
    out["market_value_change_24h"] = delta * out["supply_estimate"]
    print(json.dumps(out))


main()
