"""Cross-market figures computed apart from Canary's code, for tests/markets.rs to compare.

Reads the shared files with the standard library only. BTC's price at a US close is the close
of the last 4 h bar (Binance BTCUSDT) that closed at or before 16:00 New York time; New York's
summer time is taken from the US rule in force since 2007 (from the second Sunday of March to
the first Sunday of November, Energy Policy Act of 2005), written out here rather than read from
a time-zone library, and the early closes (13:00) are NYSE's published dates, listed, so the
two computations share nothing. Returns are log returns between
consecutive days that both series have; correlation is Pearson's, beta cov / var.

Usage: markets_reference.py DATA_DIR LAST_DAY  → JSON on stdout.
"""

import csv
import datetime as dt
import json
import math
import sys


def nth_sunday(year, month, n):
    d = dt.date(year, month, 1)
    d += dt.timedelta(days=(6 - d.weekday()) % 7)  # the first Sunday
    return d + dt.timedelta(weeks=n - 1)


# NYSE's early closes (13:00 New York), 2018-2026, from its published holiday calendars.
EARLY = {dt.date.fromisoformat(d) for d in """
2018-07-03 2018-11-23 2018-12-24 2019-07-03 2019-11-29 2019-12-24 2020-11-27 2020-12-24
2021-11-26 2022-11-25 2023-07-03 2023-11-24 2024-07-03 2024-11-29 2024-12-24 2025-07-03
2025-11-28 2025-12-24 2026-11-27 2026-12-24""".split()}


def us_close_utc(day):
    summer = nth_sunday(day.year, 3, 2) <= day < nth_sunday(day.year, 11, 1)
    hour = (20 if summer else 21) - (3 if day in EARLY else 0)
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.timezone.utc)


def main():
    data, last_day = sys.argv[1], dt.date.fromisoformat(sys.argv[2])
    bars = []  # (close time, close)
    with open(f"{data}/btcusdt_binance_4h.csv", newline="") as f:
        for r in csv.DictReader(f):
            t = dt.datetime.fromisoformat(r["open_time_utc"]).replace(tzinfo=dt.timezone.utc)
            bars.append((t + dt.timedelta(hours=4), float(r["close"])))
    bars.sort()
    ndx = []
    with open(f"{data}/us_indices_daily_fred_nasdaq100_sp500_2018-01_2026-08.csv", newline="") as f:
        for r in csv.DictReader(f):
            d = dt.date.fromisoformat(r["date"])
            # 2019-04-19 is Good Friday: FRED repeats the day before; the market was shut.
            if d <= last_day and r["nasdaq100_close"] and d != dt.date(2019, 4, 19):
                ndx.append((d, float(r["nasdaq100_close"])))
    btc = {}
    i = 0
    for d, _ in ndx:
        close = us_close_utc(d)
        while i < len(bars) and bars[i][0] <= close:
            i += 1
        if i and close - bars[i - 1][0] <= dt.timedelta(hours=4):
            btc[d] = bars[i - 1][1]
    common = [(d, btc[d], v) for d, v in ndx if d in btc]
    returns = [
        (b[0], math.log(b[1] / a[1]), math.log(b[2] / a[2])) for a, b in zip(common, common[1:])
    ]

    def co_move(rs):
        n = len(rs)
        ma = sum(r[1] for r in rs) / n
        mb = sum(r[2] for r in rs) / n
        sab = sum((r[1] - ma) * (r[2] - mb) for r in rs)
        saa = sum((r[1] - ma) ** 2 for r in rs)
        sbb = sum((r[2] - mb) ** 2 for r in rs)
        return sab / math.sqrt(saa * sbb), sab / sbb

    c30, b30 = co_move(returns[-30:])
    c90, b90 = co_move(returns[-90:])
    before30, _ = co_move(returns[-60:-30])
    print(json.dumps({
        "btc_at_last_close": common[-1][1],
        "last_returns": [[d.isoformat(), a, b] for d, a, b in returns[-3:]],
        "corr30": c30, "beta30": b30, "corr90": c90, "beta90": b90,
        "corr30_before": before30,
        "from30": returns[-30][0].isoformat(),
    }))


main()
