"""Time TA-Lib on the series written by the bench_vs_talib example and print, per indicator,
Canary's and TA-Lib's ns/element and their ratio, then the fused watch set against the sum of
TA-Lib's times for its members. Usage: talib_compare.py SERIES_FILE CANARY_TSV"""
import sys
import time

import numpy as np
import talib

RUNS = 7


def main():
    series_path, canary_path = sys.argv[1], sys.argv[2]
    n = int(np.fromfile(series_path, dtype="<u8", count=1)[0])
    data = np.fromfile(series_path, dtype="<f8", offset=8)
    h, l, c, v = (np.ascontiguousarray(data[i * n:(i + 1) * n]) for i in range(4))

    calls = {
        "SMA20": lambda: talib.SMA(c, 20),
        "EMA20": lambda: talib.EMA(c, 20),
        "EMA50": lambda: talib.EMA(c, 50),
        "EMA200": lambda: talib.EMA(c, 200),
        "WMA20": lambda: talib.WMA(c, 20),
        "RSI14": lambda: talib.RSI(c, 14),
        "MACD": lambda: talib.MACD(c, 12, 26, 9),
        "BBANDS20": lambda: talib.BBANDS(c, 20, 2, 2, 0),
        "STDDEV20": lambda: talib.STDDEV(c, 20, 1),
        "ROC10": lambda: talib.ROC(c, 10),
        "TRANGE": lambda: talib.TRANGE(h, l, c),
        "ATR14": lambda: talib.ATR(h, l, c, 14),
        "NATR14": lambda: talib.NATR(h, l, c, 14),
        "ADX14": lambda: talib.ADX(h, l, c, 14),
        "PLUS_DI14": lambda: talib.PLUS_DI(h, l, c, 14),
        "MINUS_DI14": lambda: talib.MINUS_DI(h, l, c, 14),
        "STOCH": lambda: talib.STOCH(h, l, c, 14, 3, 0, 3, 0),
        "WILLR14": lambda: talib.WILLR(h, l, c, 14),
        "CCI20": lambda: talib.CCI(h, l, c, 20),
        "OBV": lambda: talib.OBV(c, v),
        "MFI14": lambda: talib.MFI(h, l, c, v, 14),
    }
    talib_ns = {}
    for name, call in calls.items():
        best = float("inf")
        for _ in range(RUNS):
            t = time.perf_counter()
            call()
            best = min(best, time.perf_counter() - t)
        talib_ns[name] = best * 1e9 / n

    canary_ns = {}
    chosen = ""
    with open(canary_path) as f:
        for line in f:
            name, ns, *rest = line.rstrip("\n").split("\t")
            canary_ns[name] = float(ns)
            if name == "WATCH" and rest:
                chosen = rest[0]

    print(f"{n:,} bars; best of {RUNS} runs; ns per element (lower is better); ratio = Canary / TA-Lib")
    print(f"{'indicator':<12} {'Canary':>9} {'TA-Lib':>9} {'ratio':>7}")
    worst = 0.0
    for name, ns in canary_ns.items():
        if name in talib_ns:
            ratio = ns / talib_ns[name]
            worst = max(worst, ratio)
            print(f"{name:<12} {ns:>9.3f} {talib_ns[name]:>9.3f} {ratio:>7.2f}")
        elif not name.startswith("WATCH"):
            print(f"{name:<12} {ns:>9.3f} {'-':>9} {'-':>7}   (not in TA-Lib)")
    members = ["EMA20", "EMA50", "EMA200", "RSI14", "ATR14", "BBANDS20", "MACD"]
    total = sum(talib_ns[m] for m in members)
    for name, ns in canary_ns.items():
        if name.startswith("WATCH/"):
            print(f"{name:<20} {ns:>9.3f} {total:>9.3f} {ns / total:>7.2f}")
    watch = canary_ns["WATCH"]
    print(f"{'WATCH (' + chosen + ')':<20} {watch:>9.3f} {total:>9.3f} {watch / total:>7.2f}   "
          f"(fused watch set as the engine runs it, vs the sum of TA-Lib's {', '.join(members)})")
    print(f"worst single-indicator ratio: {worst:.2f} (target <= 1.00); "
          f"fused watch set: {watch / total:.2f} (target <= 0.50)")
    # A miss fails the bench (make bench-talib exits non-zero), so a regression shows.
    if worst > 1.0 or watch / total > 0.5:
        print("target NOT met")
        sys.exit(1)


if __name__ == "__main__":
    main()
