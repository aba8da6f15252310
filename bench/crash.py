#!/usr/bin/env python3
"""Crash safety, measured: kill `canary import`, `resample` and `network import` with SIGKILL at
random moments (while parsing, inside the write transaction, at commit), then check that the
database is intact (PRAGMA integrity_check), that the write is either wholly stored or absent
(never partial, never duplicated), and that running the command again completes.

Usage: bench/crash.py CANARY_BINARY SHARED_DATA_DIR [KILLS_PER_COMMAND]
Prints one line per command with the counts, and exits non-zero on any failure.
"""

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time


def run(binary, db, args):
    return subprocess.run([binary, "--db", db, *args], capture_output=True, text=True)


def count(db, sql, params=()):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchone()[0]
    finally:
        con.close()


def integrity(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def duration(binary, db, args):
    start = time.monotonic()
    out = run(binary, db, args)
    if out.returncode != 0:
        sys.exit(f"setup run failed: {args}: {out.stderr}")
    return time.monotonic() - start


def trial(binary, work, base, args, rows_sql, full, span, rng):
    """One kill: copy the base database, start the command, SIGKILL it after a random delay,
    check the database, run the command again. Returns the state found after the kill."""
    db = os.path.join(work, "t.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    if base:
        shutil.copy(base, db)
    proc = subprocess.Popen(
        [binary, "--db", db, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(rng.uniform(0.0, span))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if not os.path.exists(db):
        state = "absent"
    else:
        check = integrity(db)
        if check != "ok":
            return "corrupt", check
        n = count(db, rows_sql) if table_exists(db) else 0
        state = "absent" if n == 0 else ("whole" if n == full else f"partial {n}/{full}")
    again = run(binary, db, args)
    if again.returncode != 0:
        return "rerun failed", again.stderr.strip()
    n = count(db, rows_sql)
    if n != full or integrity(db) != "ok":
        return "rerun incomplete", f"{n}/{full}"
    return state, None


def table_exists(db):
    con = sqlite3.connect(db)
    try:
        return (
            con.execute(
                "SELECT COUNT(*) FROM sqlite_master"
                " WHERE name IN ('candles', 'candle_blocks', 'network_points')"
            ).fetchone()[0]
            == 3
        )
    finally:
        con.close()


def main():
    binary, data = sys.argv[1], sys.argv[2]
    kills = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    rng = random.Random(2026)
    work = tempfile.mkdtemp(prefix="canary-crash-")
    h4 = os.path.join(data, "btcusdt_binance_4h.csv")
    hashrate = os.path.join(data, "network_hashrate_daily.csv")

    # The base for resample: the 4h bars imported.
    base = os.path.join(work, "base.db")
    run(binary, base, ["import", h4, "--symbol", "BTCUSDT"])
    full_4h = count(base, "SELECT (SELECT COUNT(*) FROM candles c JOIN series s ON s.id = c.series_id WHERE s.timeframe = '4h') + (SELECT IFNULL(SUM(b.bars), 0) FROM candle_blocks b JOIN series s ON s.id = b.series_id WHERE s.timeframe = '4h')")
    resample_args = ["resample", "--symbol", "BTCUSDT", "--from", "4h", "--to", "1d"]
    probe = os.path.join(work, "probe.db")
    shutil.copy(base, probe)
    t_resample = duration(binary, probe, resample_args)
    full_1d = count(probe, "SELECT (SELECT COUNT(*) FROM candles c JOIN series s ON s.id = c.series_id WHERE s.timeframe = '1d') + (SELECT IFNULL(SUM(b.bars), 0) FROM candle_blocks b JOIN series s ON s.id = b.series_id WHERE s.timeframe = '1d')")
    os.remove(probe)
    probe = os.path.join(work, "probe2.db")
    t_import = duration(binary, probe, ["import", h4, "--symbol", "BTCUSDT"])
    net_args = ["network", "import", hashrate, "--series", "hashrate"]
    t_net = duration(binary, probe, net_args)
    full_net = count(probe, "SELECT COUNT(*) FROM network_points")

    cases = [
        ("import", None, ["import", h4, "--symbol", "BTCUSDT"],
         "SELECT (SELECT COUNT(*) FROM candles c JOIN series s ON s.id = c.series_id WHERE s.timeframe = '4h') + (SELECT IFNULL(SUM(b.bars), 0) FROM candle_blocks b JOIN series s ON s.id = b.series_id WHERE s.timeframe = '4h')", full_4h, t_import),
        ("resample", base, resample_args,
         "SELECT (SELECT COUNT(*) FROM candles c JOIN series s ON s.id = c.series_id WHERE s.timeframe = '1d') + (SELECT IFNULL(SUM(b.bars), 0) FROM candle_blocks b JOIN series s ON s.id = b.series_id WHERE s.timeframe = '1d')", full_1d, t_resample),
        ("network import", None, net_args,
         "SELECT COUNT(*) FROM network_points", full_net, t_net),
    ]
    failed = False
    for name, start_db, args, sql, full, took in cases:
        tally = {}
        problems = []
        for _ in range(kills):
            # Up to 1.2× the run's length: some kills land after it finished.
            state, detail = trial(binary, work, start_db, args, sql, full, took * 1.2, rng)
            key = state.split()[0]
            tally[key] = tally.get(key, 0) + 1
            if detail is not None or key == "partial":
                problems.append(f"{state}: {detail}")
        ok = not problems
        failed |= not ok
        print(
            f"{name:15} {kills} kills over {took * 1.2:.2f} s: "
            + ", ".join(f"{k} {v}" for k, v in sorted(tally.items()))
            + ("" if ok else f"; FAILED: {problems[:3]}")
        )
    shutil.rmtree(work)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
