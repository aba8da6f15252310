//! `canary run` on the real bars of the crash, 2026-02-05/06, replayed through the engine
//! with a rule set: each rule fires at the right bar close, once, with its cooldown and its
//! hysteresis band; a restart in the middle neither repeats nor loses a notice, and a bar begun
//! before it closes whole; the run replays from its stored events to the same notices.

mod common;

use std::path::{Path, PathBuf};

use common::{canary, ok, shared};

/// The real 4h bars before the window, imported, daily bars built, the rules added.
fn prepare(dir: &Path, name: &str, hook: &str) -> PathBuf {
    let db = dir.join(format!("{name}.db"));
    let text = std::fs::read_to_string(shared("data/btcusdt_binance_4h.csv")).unwrap();
    let pre: String = text
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.get(..10).is_some_and(|d| d < "2026-02-05"))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let pre_file = dir.join(format!("{name}-pre.csv"));
    std::fs::write(&pre_file, pre).unwrap();
    ok(&canary(
        &db,
        &["import", pre_file.to_str().unwrap(), "--symbol", "BTCUSDT"],
    ));
    ok(&canary(
        &db,
        &[
            "resample", "--symbol", "BTCUSDT", "--from", "4h", "--to", "1d",
        ],
    ));
    let since = ["--since", "2026-02-05T00:00:00Z"];
    let rules: [&[&str]; 7] = [
        &["crosses_below(BTCUSDT.close, watch.support)", "--tf", "4h"],
        &[
            "BTCUSDT.rsi14.1d < 30",
            "--webhook",
            hook,
            "--allow-private",
        ],
        &["threat(BTCUSDT) >= 4"],
        &["BTCUSDT.close < 70700", "--tf", "4h", "--band", "500"],
        &["BTCUSDT.close < 70700", "--tf", "4h"],
        &["BTCUSDT.close > 70600", "--tf", "4h", "--cooldown", "3d"],
        &["BTCUSDT.close > 70600", "--tf", "4h"],
    ];
    for r in rules {
        let mut a = vec!["alerts", "add"];
        a.extend_from_slice(r);
        a.extend_from_slice(&since);
        ok(&canary(&db, &a));
    }
    db
}

fn config(dir: &Path, name: &str, from: &str, to: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            "[[market]]\nsymbol = \"BTCUSDT\"\ntimeframes = [\"4h\", \"1d\"]\n\n\
             [[source]]\ntype = \"bars\"\npath = {:?}\nsymbol = \"BTCUSDT\"\nfrom = \"{from}\"\nto = \"{to}\"\n",
            shared("data/btcusdt_binance_4h.csv")
        ),
    )
    .unwrap();
    path
}

fn notices(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.starts_with("alert: "))
        .map(str::to_string)
        .collect()
}

fn run(db: &Path, config: &Path) -> String {
    ok(&canary(db, &["run", "--config", config.to_str().unwrap()]))
}

#[test]
fn shared_data_the_crash_replayed_fires_each_rule_once_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (base, got) = common::receiver(0);
    let hook = format!("{base}/hook");
    let (start, middle, end) = (
        "2026-02-05T00:00:00Z",
        "2026-02-06T08:00:00Z",
        "2026-02-07T00:00:00Z",
    );

    // Uninterrupted.
    let a = prepare(d, "a", &hook);
    let whole = run(&a, &config(d, "whole", start, end));
    let expected = [
        "alert: rule 6 `BTCUSDT.close > 70600` FIRED at 2026-02-05T04:00:00Z",
        "alert: rule 7 `BTCUSDT.close > 70600` FIRED at 2026-02-05T04:00:00Z",
        "alert: rule 4 `BTCUSDT.close < 70700` FIRED at 2026-02-05T12:00:00Z",
        "alert: rule 5 `BTCUSDT.close < 70700` FIRED at 2026-02-05T12:00:00Z",
        "alert: rule 1 `crosses_below(BTCUSDT.close, watch.support)` FIRED at 2026-02-05T20:00:00Z",
        "alert: rule 2 `BTCUSDT.rsi14.1d < 30` FIRED at 2026-02-06T00:00:00Z",
        "alert: rule 3 `threat(BTCUSDT) >= 4` FIRED at 2026-02-06T00:00:00Z",
        // No cooldown: fires again (rule 6, with 3 days, does not).
        "alert: rule 7 `BTCUSDT.close > 70600` FIRED at 2026-02-06T20:00:00Z",
        "alert: rule 1 `crosses_below(BTCUSDT.close, watch.support)` FIRED at 2026-02-07T00:00:00Z",
        // No band: 70,731 then 70,580 re-arms and fires again (rule 4, re-armed only above
        // 71,200, does not).
        "alert: rule 5 `BTCUSDT.close < 70700` FIRED at 2026-02-07T00:00:00Z",
    ];
    assert_eq!(notices(&whole), expected, "{whole}");
    // The engine's own bars: the 4h closes and the days built from six of them, with the
    // streaming RSI equal to the batch one quoted for the crash (1d 15.8, 4h 18.7).
    assert!(
        whole.contains(
            "BTCUSDT 1d bar closed 2026-02-06T00:00:00Z: 62,909.86, RSI14 15.8 (from 6 bars)"
        ),
        "{whole}"
    );
    assert!(
        whole.contains("BTCUSDT 4h bar closed 2026-02-06T04:00:00Z: 64,168.33, RSI14 18.7"),
        "{whole}"
    );
    assert!(whole.contains("12 events, 14 bars closed and stored, 10 notices (10 delivered"));
    assert_eq!(
        got.lock().unwrap().len(),
        1,
        "the webhook rule's one firing"
    );

    // Stopped in the middle of a day and started again.
    let b = prepare(d, "b", &hook);
    let first = run(&b, &config(d, "first", start, middle));
    let second = run(&b, &config(d, "second", middle, end));
    let mut both = notices(&first);
    both.extend(notices(&second));
    assert_eq!(both, expected, "{first}\n{second}");
    assert!(
        second.contains(
            "BTCUSDT 1d bar closed 2026-02-07T00:00:00Z: 70,580.26, RSI14 32.6 (from 6 bars)"
        ),
        "the day begun before the restart closes whole: {second}"
    );
    // The second half again (a restart that replays what was already seen): nothing repeats.
    let again = run(&b, &config(d, "second", middle, end));
    assert!(notices(&again).is_empty(), "{again}");
    assert_eq!(got.lock().unwrap().len(), 2, "one delivery per database");

    // The recorded run replayed from its stored events into a fresh database.
    let c = prepare(d, "c", &hook);
    let replay = d.join("replay.toml");
    std::fs::write(
        &replay,
        format!(
            "[[market]]\nsymbol = \"BTCUSDT\"\ntimeframes = [\"4h\", \"1d\"]\n\n\
             [[source]]\ntype = \"events\"\ndb = {a:?}\nfrom = \"{start}\"\nto = \"{end}\"\n"
        ),
    )
    .unwrap();
    let replayed = run(&c, &replay);
    assert_eq!(notices(&replayed), expected, "{replayed}");
    let bars = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| l.contains(" bar closed "))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(bars(&replayed), bars(&whole));
}

#[test]
fn a_config_that_does_not_hold_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let cfg = dir.path().join("bad.toml");
    std::fs::write(
        &cfg,
        "[[market]]\nsymbol = \"BTCUSDT\"\ntimeframes = [\"4h\", \"1d\"]\n\
         [[source]]\ntype = \"bars\"\npath = \"missing.csv\"\nsymbol = \"BTCUSDT\"\n",
    )
    .unwrap();
    let o = canary(&db, &["run", "--config", cfg.to_str().unwrap()]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("bad.toml: source 1: path") && e.contains("no such file"),
        "{e}"
    );
    assert!(!db.exists(), "nothing written");
}

#[test]
fn the_live_demo_plays_the_simulated_crash_through_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_canary"))
        .args(["demo", "--live", "--speed", "0", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let out = ok(&o);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("SIMULATED DATA"),
        "{o:?}"
    );
    assert!(
        out.contains("30 events, 35 bars closed and stored"),
        "{out}"
    );
    assert!(
        out.contains("alert: rule 2 `BTCUSDT.rsi14.1d < 30` FIRED at 2026-02-06T00:00:00Z"),
        "{out}"
    );
    assert!(dir.path().join("live.db").exists());
}
