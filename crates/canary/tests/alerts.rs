//! `canary alerts backtest` on the real 4h bars: rules run over history through the alert
//! state machine, firing at the right bar closes, once per episode, with cooldown and
//! hysteresis; parse errors point at the column.

mod common;

use common::{assert_report, canary, import_4h, ok};

const TO: &str = "2026-03-01T00:00:00Z";

fn fired(db: &std::path::Path, args: &[&str]) -> Vec<String> {
    let mut a = vec!["alerts", "backtest"];
    a.extend_from_slice(args);
    a.extend(["--to", TO, "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&ok(&canary(db, &a))).unwrap();
    assert_report(&doc, TO);
    doc["firings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["notice"]["kind"] == "fired")
        .map(|f| f["notice"]["at"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn shared_data_rules_fire_at_the_right_closes_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    import_4h(&db);
    // Daily RSI below 30: the November dip and the February crash.
    let rsi = fired(&db, &["BTCUSDT.rsi14.1d < 30", "--from", "2025-10-01"]);
    assert_eq!(
        rsi,
        [
            "2025-11-18T00:00:00Z",
            "2025-11-20T00:00:00Z",
            "2026-02-01T00:00:00Z",
            "2026-02-13T00:00:00Z"
        ]
    );
    // A hysteresis band of 3 RSI points: the RSI that hovered near 30 in November fires once;
    // February's second dip came after a recovery past 33, and fires again.
    let banded = fired(
        &db,
        &[
            "BTCUSDT.rsi14.1d < 30",
            "--from",
            "2025-10-01",
            "--band",
            "3",
        ],
    );
    assert_eq!(
        banded,
        [
            "2025-11-18T00:00:00Z",
            "2026-02-01T00:00:00Z",
            "2026-02-13T00:00:00Z"
        ]
    );
    // A cooldown of 14 days keeps both re-entries quiet.
    let cooled = fired(
        &db,
        &[
            "BTCUSDT.rsi14.1d < 30",
            "--from",
            "2025-10-01",
            "--cooldown",
            "14d",
        ],
    );
    assert_eq!(cooled, ["2025-11-18T00:00:00Z", "2026-02-01T00:00:00Z"]);
    // Threat at 4 or more, once per episode, fired before the crash day.
    let threat = fired(&db, &["threat(BTCUSDT) >= 4", "--from", "2026-01-01"]);
    assert_eq!(threat[0], "2026-01-21T00:00:00Z");
    assert!(
        threat.iter().all(|t| t.as_str() < "2026-02-05"),
        "{threat:?}"
    );
    // A close breaking the support known when the day began.
    let broke = fired(
        &db,
        &[
            "crosses_below(BTCUSDT.close, watch.support)",
            "--from",
            "2026-01-25",
        ],
    );
    assert!(
        broke.contains(&"2026-02-01T00:00:00Z".to_string()),
        "{broke:?}"
    );
}

#[test]
fn rules_that_do_not_parse_point_at_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    import_4h(&db);
    let o = canary(
        &db,
        &[
            "alerts",
            "backtest",
            "BTCUSDT.clos < 3",
            "--from",
            "2026-01-01",
        ],
    );
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("column 9: unknown field clos") && e.contains("\n          ^"),
        "{e}"
    );
    let o = canary(
        &db,
        &[
            "alerts",
            "backtest",
            "ETHUSDT.close < 3",
            "--from",
            "2026-01-01",
        ],
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no ETHUSDT 1d bars"),
        "{o:?}"
    );
}

/// Stored rules checked as of successive times, the way cron would run `alerts check`: a
/// receiver that fails three times then succeeds gets the notice once, recorded as delivered
/// after four attempts, signed; a check that finds nothing new sends nothing; a firing that
/// happened while nothing checked is delivered once, marked late.
#[test]
fn stored_rules_deliver_each_notice_once_signed_and_retried() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    import_4h(&db);
    let (base, got) = common::receiver(3);
    let hook = format!("{base}/hook");
    let token = |name: &str| {
        ok(&canary(&db, &["tokens", "create", "--name", name]))
            .trim()
            .to_string()
    };
    let (alice, bob) = (token("alice"), token("bob"));
    let add = |extra: &[&str]| {
        let mut a = vec![
            "alerts",
            "add",
            "BTCUSDT.rsi14.1d < 30",
            "--webhook",
            &hook,
            "--secret",
            "s3cret",
            "--since",
            "2026-01-25T00:00:00Z",
            "--token",
            &alice,
        ];
        a.extend_from_slice(extra);
        canary(&db, &a)
    };
    // Loopback is refused unless allowed (the SSRF guard).
    let refused = add(&[]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("public addresses only"),
        "{refused:?}"
    );
    assert!(ok(&add(&["--allow-private"])).contains("rule 1 added"));
    let check = |asof: &str| {
        ok(&canary(
            &db,
            &[
                "alerts",
                "check",
                "--asof",
                asof,
                "--backoff",
                "0.01",
                "--allow-private",
            ],
        ))
    };
    let first = check("2026-02-01T12:00:00Z");
    assert!(
        first.contains("fired at 2026-02-01T00:00:00Z\n"),
        "not late: {first}"
    );
    assert!(first.contains("1 notices delivered, 0 failed"), "{first}");
    {
        let g = got.lock().unwrap();
        assert_eq!(g.len(), 4, "three failures, then the delivery");
        let keys: std::collections::BTreeSet<_> = g
            .iter()
            .map(|r| r.headers["idempotency-key"].clone())
            .collect();
        assert_eq!(keys.len(), 1, "every attempt carries the same key");
        let r = &g[3];
        assert!(r.line.starts_with("POST /hook"), "{}", r.line);
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["notice"]["kind"], "fired");
        assert_eq!(body["rule"], "BTCUSDT.rsi14.1d < 30");
        assert_eq!(body["time_zone"], "UTC");
        assert!(body["values"]["BTCUSDT.rsi14.1d"].as_f64().unwrap() < 30.0);
        // X-Canary-Signature: t=SECONDS,v1=HMAC-SHA256(secret, "SECONDS.body"), in hex.
        let sig = &r.headers["x-canary-signature"];
        let (t, v1) = sig
            .strip_prefix("t=")
            .and_then(|x| x.split_once(",v1="))
            .unwrap();
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"s3cret");
        let tag = ring::hmac::sign(&key, format!("{t}.{}", r.body).as_bytes());
        let hex = canary_model::excerpt::hex(tag.as_ref());
        assert_eq!(v1, hex);
    }
    // Again at the same time, as after a restart: nothing repeats.
    let again = check("2026-02-01T12:00:00Z");
    assert!(again.contains("0 notices delivered"), "{again}");
    assert_eq!(got.lock().unwrap().len(), 4);
    // Nothing checked from then until the 20th: the firing of the 13th comes once, late.
    let later = check("2026-02-20T00:00:00Z");
    assert!(
        later.contains("fired at 2026-02-13T00:00:00Z (late"),
        "{later}"
    );
    assert!(later.contains("1 notices delivered"), "{later}");
    assert_eq!(got.lock().unwrap().len(), 5);
    let log = ok(&canary(&db, &["alerts", "log"]));
    assert!(log.contains("late") && log.contains("delivered"), "{log}");
    // Rules belong to their token: bob sees none and cannot remove alice's; neither can the
    // operator's own list, nor a token nobody issued.
    let of_bob = ok(&canary(&db, &["alerts", "list", "--token", &bob]));
    assert!(of_bob.contains("no rules"), "{of_bob}");
    assert!(
        !canary(&db, &["alerts", "rm", "1", "--token", &bob])
            .status
            .success()
    );
    assert!(ok(&canary(&db, &["alerts", "list"])).contains("no rules"));
    let made_up = canary(&db, &["alerts", "list", "--token", "alice"]);
    assert!(
        String::from_utf8_lossy(&made_up.stderr).contains("not a valid token of this database"),
        "{made_up:?}"
    );
    let of_alice = ok(&canary(&db, &["alerts", "list", "--token", &alice]));
    assert!(of_alice.contains("BTCUSDT.rsi14.1d < 30"), "{of_alice}");
    let tokens = ok(&canary(&db, &["tokens", "list"]));
    assert!(
        tokens.contains("alice") && tokens.contains("bob"),
        "{tokens}"
    );
    assert!(
        !tokens.contains(&alice),
        "the token is never shown again: {tokens}"
    );
    ok(&canary(&db, &["alerts", "rm", "1", "--token", &alice]));
}

/// A silence mutes the notices due inside it (logged as silenced, never sent) while the rule
/// goes on being evaluated; a test notice reaches the channel at once, marked as a test.
#[test]
fn silences_mute_notices_and_tests_reach_the_channel() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    import_4h(&db);
    let (base, got) = common::receiver(0);
    let hook = format!("{base}/hook");
    ok(&canary(
        &db,
        &[
            "alerts",
            "add",
            "BTCUSDT.rsi14.1d < 30",
            "--webhook",
            &hook,
            "--allow-private",
            "--since",
            "2026-01-25T00:00:00Z",
        ],
    ));
    let silence = |extra: &[&str]| {
        let mut a = vec![
            "alerts",
            "silence",
            "1",
            "--from",
            "2026-01-31T00:00:00Z",
            "--for",
            "2d",
            "--comment",
            "known crash",
        ];
        a.extend_from_slice(extra);
        canary(&db, &a)
    };
    // A rule whose data is missing is that rule's error; the others are checked.
    ok(&canary(
        &db,
        &[
            "alerts",
            "add",
            "outflow(NOBODY, any, 24h) > 1",
            "--since",
            "2026-01-25T00:00:00Z",
        ],
    ));
    assert!(!silence(&["--token", "mallory"]).status.success());
    assert!(ok(&silence(&[])).contains("until 2026-02-02T00:00:00Z"));
    let out = ok(&canary(
        &db,
        &[
            "alerts",
            "check",
            "--asof",
            "2026-02-20T00:00:00Z",
            "--allow-private",
        ],
    ));
    assert!(
        out.contains("1 notices delivered, 0 failed, 1 silenced"),
        "{out}"
    );
    assert!(
        out.contains("rule 2 `outflow(NOBODY, any, 24h) > 1`: could not be checked: no outflows of NOBODY stored"),
        "{out}"
    );
    let sent: Vec<serde_json::Value> = got
        .lock()
        .unwrap()
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["notice"]["at"], "2026-02-13T00:00:00Z");
    let log = ok(&canary(&db, &["alerts", "log"]));
    assert!(log.contains("silenced"), "{log}");
    // A test notice: delivered now, flagged as a test.
    let refused = canary(&db, &["alerts", "test", "1"]);
    assert!(!refused.status.success(), "loopback needs --allow-private");
    assert!(ok(&canary(&db, &["alerts", "test", "1", "--allow-private"])).contains("delivered"));
    let g = got.lock().unwrap();
    let t: serde_json::Value = serde_json::from_str(&g[1].body).unwrap();
    assert_eq!(t["test"], true);
    assert!(
        !canary(&db, &["alerts", "test", "1", "--token", "mallory"])
            .status
            .success()
    );
}

/// Slack-, Discord- and Telegram-shaped receivers on loopback, for three rules of the same
/// text (each delivers: the idempotency key is per rule): each gets its own JSON with the
/// formatting escaped; Telegram's rate-limit reply is waited out as told; more than ten
/// notices for one Telegram chat arrive as one digest.
#[test]
fn chat_channels_get_escaped_paced_and_digested_messages() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    import_4h(&db);
    let (base, got) = common::receiver_with(|_, r| {
        let telegram = r.line.contains("/sendMessage");
        let first_to_chat_7 =
            r.body.contains("\"chat_id\":\"-1007\"") && !r.headers.contains_key("x-seen");
        if telegram
            && first_to_chat_7
            && RATE_LIMITED.swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            return (
                "429 Too Many Requests".into(),
                r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}"#.into(),
            );
        }
        ("200 OK".into(), r#"{"ok":true,"result":{}}"#.into())
    });
    let add = |rule: &str, tf: &str, extra: &[&str]| {
        let mut a = vec![
            "alerts",
            "add",
            rule,
            "--tf",
            tf,
            "--allow-private",
            "--since",
            "2026-01-30T00:00:00Z",
        ];
        a.extend_from_slice(extra);
        ok(&canary(&db, &a));
    };
    let rsi = "BTCUSDT.rsi14.1d < 30";
    let (slack_url, discord_url) = (format!("{base}/slack"), format!("{base}/discord"));
    add(rsi, "1d", &["--slack", &slack_url]);
    add(rsi, "1d", &["--discord", &discord_url]);
    add(
        rsi,
        "1d",
        &[
            "--telegram-chat",
            "-1007",
            "--telegram-token",
            "123:ABC",
            "--telegram-api",
            &base,
        ],
    );
    // Every 4h close from the 30th: more than ten notices for chat 42.
    add(
        "BTCUSDT.close > 1",
        "4h",
        &[
            "--frequency",
            "every-close",
            "--telegram-chat",
            "42",
            "--telegram-token",
            "123:ABC",
            "--telegram-api",
            &base,
        ],
    );
    let started = std::time::Instant::now();
    let out = ok(&canary(
        &db,
        &[
            "alerts",
            "check",
            "--asof",
            "2026-02-01T12:00:00Z",
            "--backoff",
            "0.01",
            "--allow-private",
        ],
    ));
    assert!(out.contains("0 failed"), "{out}");
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "the 429 was waited out"
    );
    let g = got.lock().unwrap();
    let to = |path: &str| -> Vec<serde_json::Value> {
        g.iter()
            .filter(|r| r.line.contains(path))
            .map(|r| serde_json::from_str(&r.body).unwrap())
            .collect()
    };
    let slack = to("/slack");
    assert_eq!(slack.len(), 1);
    let t = slack[0]["text"].as_str().unwrap();
    assert!(
        t.starts_with("*Canary: BTCUSDT.rsi14.1d &lt; 30 fired*\n"),
        "{t}"
    );
    let discord = to("/discord");
    assert_eq!(discord.len(), 1);
    assert_eq!(
        discord[0]["allowed_mentions"]["parse"],
        serde_json::json!([])
    );
    assert!(
        discord[0]["content"]
            .as_str()
            .unwrap()
            .starts_with("**Canary: ")
    );
    let tg = to("/bot123:ABC/sendMessage");
    let chat7: Vec<_> = tg.iter().filter(|m| m["chat_id"] == "-1007").collect();
    assert_eq!(chat7.len(), 2, "the rate-limited attempt, then the message");
    assert_eq!(chat7[1]["parse_mode"], "MarkdownV2");
    let text = chat7[1]["text"].as_str().unwrap();
    assert!(
        text.starts_with("*Canary: BTCUSDT\\.rsi14\\.1d < 30 fired*\n"),
        "{text}"
    );
    assert!(text.contains("2026\\-02\\-01 00:00:00 UTC"), "{text}");
    let chat42: Vec<_> = tg.iter().filter(|m| m["chat_id"] == "42").collect();
    assert_eq!(chat42.len(), 1, "one digest");
    let digest = chat42[0]["text"].as_str().unwrap();
    let n: usize = digest
        .strip_prefix("*Canary: ")
        .and_then(|s| s.split_once(' '))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap();
    assert!(n > 10 && digest.lines().count() == n + 1, "{digest}");
    drop(g);
    // Every notice the digest carried is recorded as delivered.
    let log = ok(&canary(&db, &["alerts", "log", "--rule", "4"]));
    assert_eq!(log.matches("delivered").count(), n, "{log}");
    // The bot token never appears in the log.
    let all = ok(&canary(&db, &["alerts", "log"]));
    assert!(!all.contains("123:ABC"), "{all}");
}

static RATE_LIMITED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// A real SMTP server (aiosmtpd, started by the test; STARTTLS and AUTH required) gets the
/// email of a firing: the envelope, the subject, the notice as JSON. A wrong password is a
/// failed delivery that names the step and the server's reply.
#[test]
fn the_smtp_receiver_gets_the_email_over_starttls() {
    struct Smtpd(std::process::Child);
    impl Drop for Smtpd {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let python = std::env::var("CANARY_TEST_PYTHON").expect(
        "CANARY_TEST_PYTHON is not set: run `make test`, which installs aiosmtpd and trustme \
         in .venv-test and points it there",
    );
    let dir = tempfile::tempdir().unwrap();
    let mail = dir.path().join("mail");
    std::fs::create_dir(&mail).unwrap();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_receiver.py");
    let mut child = std::process::Command::new(&python)
        .arg(&script)
        .arg(&mail)
        .arg("pw-1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{python}: {e}"));
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let _smtpd = Smtpd(child);
    let port: u16 = line.trim().parse().unwrap_or_else(|_| panic!("{line:?}"));
    let server = format!("127.0.0.1:{port}");
    let ca = mail.join("ca.pem");
    let db = dir.path().join("a.db");
    import_4h(&db);
    for password in ["wrong", "pw-1"] {
        ok(&canary(
            &db,
            &[
                "alerts",
                "add",
                "BTCUSDT.rsi14.1d < 30",
                "--email",
                "ops@example.org",
                "--email",
                "risk@example.org",
                "--smtp",
                &server,
                "--smtp-from",
                "canary@example.org",
                "--smtp-user",
                "canary",
                "--smtp-password",
                password,
                "--smtp-ca",
                ca.to_str().unwrap(),
                "--allow-private",
                "--since",
                "2026-01-25T00:00:00Z",
            ],
        ));
    }
    let out = ok(&canary(
        &db,
        &[
            "alerts",
            "check",
            "--asof",
            "2026-02-01T12:00:00Z",
            "--attempts",
            "1",
            "--allow-private",
        ],
    ));
    assert!(out.contains("1 notices delivered, 1 failed"), "{out}");
    assert!(out.contains("AUTH: 535"), "{out}");
    let eml = std::fs::read_to_string(mail.join("1.eml")).unwrap();
    assert!(
        eml.contains("X-Envelope-From: canary@example.org\r\n"),
        "{eml}"
    );
    assert!(
        eml.contains("X-Envelope-To: ops@example.org,risk@example.org\r\n"),
        "{eml}"
    );
    assert!(eml.contains("X-Authenticated: True\r\n"), "{eml}");
    assert!(
        eml.contains("Subject: Canary: BTCUSDT.rsi14.1d < 30 fired\r\n"),
        "{eml}"
    );
    assert!(eml.contains("\"idempotency_key\""), "{eml}");
    assert!(!mail.join("2.eml").exists());
}

/// Reminders every `--repeat` while firing; nothing after `--expires`.
#[test]
fn shared_data_reminders_repeat_and_rules_expire() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    import_4h(&db);
    let notices = |extra: &[&str]| -> Vec<(String, String)> {
        let mut a = vec![
            "alerts",
            "backtest",
            "BTCUSDT.close < 80000",
            "--from",
            "2026-01-25",
            "--to",
            "2026-02-10T00:00:00Z",
            "--format",
            "json",
        ];
        a.extend_from_slice(extra);
        let doc: serde_json::Value = serde_json::from_str(&ok(&canary(&db, &a))).unwrap();
        doc["firings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["notice"]["kind"].as_str().unwrap().to_string(),
                    f["notice"]["at"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let n = notices(&["--repeat", "3d"]);
    let at: Vec<(&str, &str)> = n.iter().map(|(k, t)| (k.as_str(), &t[..10])).collect();
    assert_eq!(
        at,
        [
            ("fired", "2026-02-01"),
            ("reminder", "2026-02-04"),
            ("reminder", "2026-02-07"),
            ("reminder", "2026-02-10")
        ]
    );
    assert!(notices(&["--expires", "2026-01-28T00:00:00Z"]).is_empty());
}
