//! `canary run` split into roles over a NATS JetStream bus and a PostgreSQL store, as on
//! several machines: an ingest process replays the crash's bars onto the bus, an evaluator
//! takes them and stores bars and notices, a deliverer sends what the evaluator stored. It
//! must do what one process does on its own, notice for notice and bar for bar. Servers:
//! `CANARY_TEST_NATS` and `CANARY_TEST_POSTGRES`, started by `make test`.

mod common;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::{PgDatabase, canary, ok, paced_config, prepare_crash};

const START: &str = "2026-02-05T00:00:00Z";
const END: &str = "2026-02-07T00:00:00Z";

fn nats() -> String {
    std::env::var("CANARY_TEST_NATS").unwrap_or_else(|_| {
        panic!(
            "CANARY_TEST_NATS is not set: run `make test`, which starts a NATS server on \
             loopback (scripts/test-nats.sh start) and sets it"
        )
    })
}

/// `canary --db DB run --config CFG ARGS` started, its output piped.
/// A started `canary`, killed if the test ends (a failed assertion) before it was stopped, so
/// that no process outlives its test.
struct Running(Option<Child>);

impl Running {
    fn take(mut self) -> Child {
        self.0.take().expect("still running")
    }
}

impl std::ops::Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        self.0.as_ref().expect("still running")
    }
}

impl std::ops::DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        self.0.as_mut().expect("still running")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn start(db: &Path, cfg: &Path, args: &[&str]) -> Running {
    Command::new(env!("CARGO_BIN_EXE_canary"))
        .arg("--db")
        .arg(db)
        .args(["run", "--config"])
        .arg(cfg)
        .args(args)
        .env_remove("CANARY_DB")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map(|c| Running(Some(c)))
        .expect("canary starts")
}

/// What a child has printed and has still to print.
type Lines = std::io::Lines<std::io::BufReader<std::process::ChildStdout>>;

/// Ctrl-C, then everything it printed (`seen` already, then the rest); it must stop cleanly.
fn stop(child: Running, mut seen: Vec<String>, rest: Option<Lines>) -> String {
    let mut child = child.take();
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let rest = rest.or_else(|| {
        child
            .stdout
            .take()
            .map(|o| std::io::BufReader::new(o).lines())
    });
    if let Some(r) = rest {
        seen.extend(r.map_while(Result::ok));
    }
    let out = child.wait_with_output().unwrap();
    let text = seen.join("\n");
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// The notices a run printed, sorted: an evaluator that takes two closes in one batch checks
/// the rules once for both and prints their notices by rule, not by close, so only the set
/// is the same as one process's.
fn notices(out: &str) -> Vec<String> {
    let mut n: Vec<String> = out
        .lines()
        .filter(|l| l.starts_with("alert: "))
        .map(str::to_string)
        .collect();
    n.sort();
    n
}

/// Every bar of `tf` stored in the window, as stored.
fn bars(db: &Path, tf: &str) -> Vec<(canary_model::Candle, String, i64, Option<u32>)> {
    use canary_model::{Symbol, Timestamp};
    canary_store::open_existing(db)
        .unwrap()
        .candles(
            &Symbol::new("BTCUSDT").unwrap(),
            tf.parse().unwrap(),
            &canary_store::CandleQuery {
                from: Some(Timestamp::parse(START).unwrap()),
                ..canary_store::CandleQuery::default()
            },
        )
        .unwrap()
        .into_iter()
        .map(|b| (b.candle, b.source, b.available_at.millis(), b.source_bars))
        .collect()
}

/// The crash window run by one process on SQLite, as the reference: its store (prepared in
/// `d`, rules sending to `hook`) and what it printed. `got` is the webhook's record.
fn one_process(
    d: &Path,
    hook: &str,
    got: &std::sync::Mutex<Vec<common::Received>>,
) -> (PathBuf, String) {
    let one = d.join("one.db");
    prepare_crash(&one, d, hook);
    let cfg = paced_config(d, "window", START, END, 0.0);
    let alone = ok(&canary(&one, &["run", "--config", cfg.to_str().unwrap()]));
    assert_eq!(notices(&alone).len(), 10, "{alone}");
    assert_eq!(
        got.lock().unwrap().len(),
        1,
        "the webhook rule's one firing"
    );
    (one, alone)
}

/// The bus options of a run on a stream of its own, named after `tag`.
fn bus_args(tag: &str) -> Vec<String> {
    [
        "--bus".to_string(),
        nats(),
        "--bus-stream".to_string(),
        format!("{tag}_{}", std::process::id()),
        "--bus-partitions".to_string(),
        "8".to_string(),
    ]
    .to_vec()
}

/// `args` then `more`, as `&str`s.
fn with<'a>(args: &[&'a str], more: &'a [String]) -> Vec<&'a str> {
    args.iter()
        .copied()
        .chain(more.iter().map(String::as_str))
        .collect()
}

#[test]
fn shared_data_roles_over_a_bus_do_what_one_process_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (base, got) = common::receiver(0);
    let hook = format!("{base}/hook");

    // One process, on SQLite.
    let (one, alone) = one_process(d, &hook, &got);
    let cfg = paced_config(d, "window", START, END, 0.0);

    // Three processes on PostgreSQL and NATS.
    let pg = PgDatabase::new("roles");
    let shared = PathBuf::from(pg.url());
    prepare_crash(&shared, d, &hook);
    let bus = bus_args("ROLES");
    // Two API servers following the evaluators' outputs, a client of each from the start.
    let apis = [0, 1].map(|_| common::Server::start(&shared, &with(&[], &bus[..4])));
    let streams = [0, 1].map(|i| common::sse(&apis[i].base, None));
    let mut eval = start(&shared, &cfg, &with(&["--role", "eval"], &bus));
    let deliver = start(&shared, &cfg, &["--role", "deliver"]);
    let cfg_path = cfg.to_str().unwrap();
    let ingest = ok(&canary(
        &shared,
        &with(&["run", "--config", cfg_path, "--role", "ingest"], &bus),
    ));
    assert!(ingest.contains("sources stopped"), "{ingest}");
    // The evaluator has taken the window when the last day closes.
    let (lines, seen) = to_the_last_close(&mut eval);
    let waited = std::time::Instant::now();
    while got.lock().unwrap().len() < 2 {
        if waited.elapsed() > std::time::Duration::from_secs(30) {
            let said = stop(deliver, Vec::new(), None);
            panic!("the deliverer sent no webhook in 30 s: {said}");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // Give the deliverer a moment past its last pass, then stop both.
    std::thread::sleep(std::time::Duration::from_secs(1));
    let evaluated = stop(eval, seen, Some(lines));
    let delivered = stop(deliver, Vec::new(), None);

    assert_eq!(notices(&evaluated), notices(&alone), "{evaluated}");
    assert!(
        evaluated.contains("14 bars closed and stored, 10 notices (0 delivered"),
        "the evaluator stores notices and leaves them to the deliverer: {evaluated}"
    );
    assert!(
        delivered.contains("10 delivered, 0 failed"),
        "the deliverer sent every notice: {delivered}"
    );
    assert_eq!(bars(&shared, "4h"), bars(&one, "4h"));
    assert_eq!(bars(&shared, "1d"), bars(&one, "1d"));
    let hooks = got.lock().unwrap();
    assert_eq!(hooks.len(), 2, "one webhook per store, none twice");
    assert_eq!(
        hooks[0].headers.get("idempotency-key"),
        hooks[1].headers.get("idempotency-key"),
        "the same notice, by the same key"
    );

    // Both API servers streamed what the evaluator reported, each output under the same id.
    let [first, second] = streams.map(|s| common::drain(&s));
    assert_eq!(
        first, second,
        "both servers give the same outputs, ids and all"
    );
    let count = |kind: &str| first.iter().filter(|e| e.kind == kind).count();
    assert_eq!((count("bar"), count("notice")), (14, 10), "{first:?}");
    let seqs: Vec<u64> = first
        .iter()
        .map(|e| e.id.rsplit_once(':').unwrap().1.parse().unwrap())
        .collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "ids in sequence"
    );
    // A client that read half of them from one server resumes on the other.
    let half = first.len() / 2;
    let resumed = common::drain(&common::sse(&apis[1].base, Some(&first[half - 1].id)));
    assert_eq!(resumed, first[half..], "the rest, once each");
    // An id of another stream is said to be one.
    let other = common::drain(&common::sse(&apis[0].base, Some("1:1")));
    assert_eq!(other.first().map(|e| e.kind.as_str()), Some("reset"));
}

/// Every notice's idempotency key and status in a store's delivery log, sorted.
fn deliveries(db: &Path) -> Vec<(String, String)> {
    let mut v: Vec<_> = canary_store::open_existing(db)
        .unwrap()
        .delivery_log(None)
        .unwrap()
        .into_iter()
        .map(|d| (d.idempotency_key, d.status))
        .collect();
    v.sort();
    v
}

/// Read a child's lines (its stdout, `lines`) until one starts with `prefix`, keeping them
/// in `seen`: if they end first, what it said on stderr and how it ended are in the failure.
fn expect_line(child: &mut Running, lines: &mut Lines, seen: &mut Vec<String>, prefix: &str) {
    for l in lines.by_ref() {
        let l = l.unwrap();
        let done = l.starts_with(prefix);
        seen.push(l);
        if done {
            return;
        }
    }
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    let status = child.wait();
    panic!(
        "never printed {prefix:?} ({status:?}): {}\nstderr: {err}",
        seen.join("\n")
    );
}

/// Issue 23: the active evaluator killed (SIGKILL) mid-run, a standby given the same
/// partitions takes over once the dead one's lease lapses, from what the store holds; the
/// ingest goes on publishing meanwhile. Every notice due is stored and delivered once, under
/// the same keys as one process's run, and the bars are the same.
#[test]
fn shared_data_a_standby_evaluator_takes_over_when_the_active_one_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (base, got) = common::receiver(0);
    let hook = format!("{base}/hook");
    let (one, _) = one_process(d, &hook, &got);

    let pg = PgDatabase::new("failover");
    let shared = PathBuf::from(pg.url());
    prepare_crash(&shared, d, &hook);
    // A 4h bar a second: the window takes twelve.
    let paced = paced_config(d, "paced", START, END, 14_400.0);
    let bus = bus_args("FAILOVER");
    let Window {
        active,
        active_out,
        mut standby,
        deliverer: deliver,
        mut ingest,
    } = window_with_standby(&shared, &paced, &bus);
    kill(active);
    drop(active_out);
    let (standby_out, after) = to_the_last_close(&mut standby);
    assert!(
        ingest.wait().unwrap().success(),
        "the ingest published the window"
    );
    let waited = std::time::Instant::now();
    while got.lock().unwrap().len() < 2 {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(30),
            "the webhook notice was delivered"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_secs(1));
    let took_over = stop(standby, after, Some(standby_out));
    stop(deliver, Vec::new(), None);
    assert!(
        !took_over.contains("BTCUSDT 4h bar closed 2026-02-05T04:00:00Z"),
        "the standby began where the store was, not at the start: {took_over}"
    );
    let keys = deliveries(&shared);
    assert_eq!(
        keys,
        deliveries(&one),
        "the same notices, each delivered once"
    );
    assert!(
        keys.iter().all(|(_, status)| status == "delivered"),
        "{keys:?}"
    );
    assert_eq!(bars(&shared, "4h"), bars(&one, "4h"));
    assert_eq!(bars(&shared, "1d"), bars(&one, "1d"));
    let hooks = got.lock().unwrap();
    assert_eq!(hooks.len(), 2, "one webhook per store: {hooks:?}");
}

/// The store's server stopped at once (`pg_ctl stop -m immediate`) while the deliverer is
/// sending, then started again: the deliverer says so, goes on once it answers, and every
/// notice is delivered: none lost, none invented, none sent more than twice (those in
/// flight when the store went are sent again under the same idempotency key, which is how a
/// receiver keeps them apart).
#[test]
fn shared_data_the_deliverer_outlives_a_restart_of_the_stores_server() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A server of this test's own, since it is stopped in the middle.
    let own = OwnServer::start();
    let server = own.url.clone();
    postgres::Client::connect(&format!("{server}/postgres"), postgres::NoTls)
        .unwrap()
        .batch_execute("CREATE DATABASE canary")
        .unwrap();
    let shared = PathBuf::from(format!("{server}/canary"));
    // A receiver slow to answer, so that the restart falls among the sends.
    let (hook, got) = slow_receiver();
    prepare_with_webhooks(&shared, d, &hook);
    // The window evaluated over the bus, its notices stored for the deliverer.
    let cfg = paced_config(d, "window", START, END, 0.0);
    let bus = bus_args("RESTART");
    let mut eval = start(&shared, &cfg, &with(&["--role", "eval"], &bus));
    let cfg_path = cfg.to_str().unwrap();
    ok(&canary(
        &shared,
        &with(&["run", "--config", cfg_path, "--role", "ingest"], &bus),
    ));
    let (lines, seen) = to_the_last_close(&mut eval);
    std::thread::sleep(std::time::Duration::from_secs(1));
    stop(eval, seen, Some(lines));
    let due: Vec<String> = deliveries(&shared).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        due.len(),
        15,
        "ten notices of the crash's rules and five more: {due:?}"
    );

    // The deliverer sending, the server stopped at once after the second webhook, started
    // again two seconds later.
    let deliver = start(&shared, &cfg, &["--role", "deliver"]);
    let waited = std::time::Instant::now();
    while got.lock().unwrap().len() < 2 {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(30),
            "sending began"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    own.pg_ctl(&["-m", "immediate", "stop"]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    own.pg_ctl(&["-w", "start"]);
    // Every notice delivered in the end.
    let waited = std::time::Instant::now();
    loop {
        let log = deliveries(&shared);
        if log.iter().all(|(_, status)| status == "delivered") {
            break;
        }
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(60),
            "still pending after the restart: {log:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let said = {
        Command::new("kill")
            .args(["-INT", &deliver.id().to_string()])
            .status()
            .unwrap();
        let out = deliver.take().wait_with_output().unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(
        said.contains("cannot deliver now"),
        "said while the store was away: {said}"
    );
    // Sent, then the store went before the attempt was recorded: sent again after it came
    // back, under the same key, and never a third time.
    six_webhooks_each_at_most_twice(&got.lock().unwrap(), &due);
}

/// The webhooks received: the six notices of `prepare_with_webhooks` that send one, each
/// a stored notice of `due`, none more than twice (one sent again under its key after its
/// sender or the store went before the attempt was recorded).
fn six_webhooks_each_at_most_twice(hooks: &[common::Received], due: &[String]) {
    let mut sends: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for r in hooks {
        let key = r
            .headers
            .get("idempotency-key")
            .cloned()
            .unwrap_or_default();
        *sends.entry(key).or_default() += 1;
    }
    assert!(
        sends.keys().all(|k| due.contains(k)),
        "only stored notices were sent: {sends:?}"
    );
    assert_eq!(sends.len(), 6, "every webhook notice arrived: {sends:?}");
    assert!(
        sends.values().all(|&n| n <= 2),
        "a notice sent more than twice: {sends:?}"
    );
}

/// The crash window paced on a bus: an active evaluator, a standby on the same partitions
/// (started once the active one holds the lease), a deliverer and the ingest, returned once
/// the active one has closed the 4h bar of 2026-02-05 16:00.
struct Window {
    active: Running,
    /// What the active one prints, kept open until it is killed.
    active_out: Lines,
    standby: Running,
    deliverer: Running,
    ingest: Running,
}

/// What an evaluator has still to print, and what it printed up to the window's last close.
fn to_the_last_close(standby: &mut Running) -> (Lines, Vec<String>) {
    let mut out = std::io::BufReader::new(standby.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    expect_line(
        standby,
        &mut out,
        &mut seen,
        "BTCUSDT 1d bar closed 2026-02-07T00:00:00Z",
    );
    (out, seen)
}

fn window_with_standby(shared: &Path, paced: &Path, bus: &[String]) -> Window {
    let eval = with(&["--role", "eval"], bus);
    let mut active = start(shared, paced, &eval);
    let mut active_out = std::io::BufReader::new(active.stdout.take().unwrap()).lines();
    std::thread::sleep(std::time::Duration::from_secs(2));
    let standby = start(shared, paced, &eval);
    let deliverer = start(shared, paced, &["--role", "deliver"]);
    let ingest = start(shared, paced, &with(&["--role", "ingest"], bus));
    let mut seen = Vec::new();
    expect_line(
        &mut active,
        &mut active_out,
        &mut seen,
        "BTCUSDT 4h bar closed 2026-02-05T16:00:00Z",
    );
    Window {
        active,
        active_out,
        standby,
        deliverer,
        ingest,
    }
}

/// A PostgreSQL server of one test's own (scripts/test-postgres.sh), stopped when dropped.
struct OwnServer {
    script: PathBuf,
    url: String,
    folder: String,
}

impl OwnServer {
    fn start() -> Self {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/test-postgres.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg("start")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let line = String::from_utf8(out.stdout).unwrap();
        let (url, folder) = line.trim().split_once(' ').expect("ADDRESS FOLDER");
        OwnServer {
            script,
            url: url.to_string(),
            folder: folder.to_string(),
        }
    }

    /// `pg_ctl ARGS` on its data folder.
    fn pg_ctl(&self, args: &[&str]) {
        pg_ctl(&self.folder, args);
    }
}

/// `pg_ctl ARGS` on the data folder of a server `scripts/test-postgres.sh` started in
/// `folder` (as PostgreSQL's user when this runs as root).
fn pg_ctl(folder: &str, args: &[&str]) {
    let bin = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|mut d| d.next())
        .and_then(Result::ok)
        .map(|e| e.path().join("bin/pg_ctl"))
        .expect("PostgreSQL's binaries");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let mut c = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(&bin);
        c
    } else {
        Command::new(&bin)
    };
    let data = format!("{folder}/data");
    let log = format!("{folder}/server.log");
    let out = c
        .args(["-D", &data, "-l", &log])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "pg_ctl {args:?}: {out:?}");
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(&self.script)
            .args(["stop", &self.folder])
            .status();
    }
}

/// Role options that do not fit together are refused before anything runs, saying what to
/// give instead.
#[test]
fn shared_data_role_options_that_do_not_fit_are_refused_saying_what_to_give() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    let cfg = paced_config(dir.path(), "window", START, END, 0.0);
    let cfg = cfg.to_str().unwrap();
    for (args, says) in [
        (
            &["--partitions", "0-3", "--bus", "nats://127.0.0.1:1"][..],
            "give it with --role eval",
        ),
        (
            &["--role", "deliver", "--bus", "nats://127.0.0.1:1"][..],
            "leave out --bus",
        ),
        (&["--role", "eval"][..], "give --bus nats://HOST:PORT"),
        (&["--role", "ingest"][..], "give --bus nats://HOST:PORT"),
    ] {
        let out = canary(&db, &[&["run", "--config", cfg][..], args].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(says),
            "{args:?}: {err}"
        );
    }
}

/// A webhook receiver that takes 300 ms to answer, so that what happens meanwhile falls
/// among the sends: its address and what it received.
fn slow_receiver() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<common::Received>>>,
) {
    let (base, got) = common::receiver_with(|_, _| {
        std::thread::sleep(std::time::Duration::from_millis(300));
        ("200 OK".into(), "ok".into())
    });
    (format!("{base}/hook"), got)
}

/// The crash window's rules (`prepare_crash`, one of them a webhook) and five more that send
/// to `hook` at every 4h close from the crash on: fifteen notices, six of them webhooks.
fn prepare_with_webhooks(db: &Path, d: &Path, hook: &str) {
    prepare_crash(db, d, hook);
    for k in 1..=5 {
        let rule = format!("BTCUSDT.close > {k}");
        ok(&canary(
            db,
            &[
                "alerts",
                "add",
                &rule,
                "--tf",
                "4h",
                "--webhook",
                hook,
                "--allow-private",
                "--since",
                START,
            ],
        ));
    }
}

/// A three-server NATS cluster and a PostgreSQL server of one test's own
/// (`scripts/cluster.sh servers`), stopped when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    store: PathBuf,
    bus: String,
}

impl Cluster {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let out = Self::script(dir.path(), &["servers"]);
        let line = |name: &str| {
            out.lines()
                .find_map(|l| l.strip_prefix(name))
                .unwrap_or_else(|| panic!("no {name} in {out}"))
                .trim()
                .to_string()
        };
        Cluster {
            store: PathBuf::from(line("store:")),
            bus: line("bus:"),
            dir,
        }
    }

    fn state(dir: &Path) -> PathBuf {
        dir.join("cluster")
    }

    fn script(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("bash")
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/cluster.sh"))
            .args(args)
            .env("CLUSTER_DIR", Self::state(dir))
            .output()
            .unwrap();
        assert!(out.status.success(), "cluster.sh {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// The NATS server leading `stream`, killed (SIGKILL): its name.
    fn kill_leader(&self, stream: &str) -> String {
        let out = Self::script(self.dir.path(), &["leader", stream]);
        let (name, pid) = out.trim().split_once(' ').expect("NAME PID");
        Command::new("kill").args(["-KILL", pid]).status().unwrap();
        name.to_string()
    }

    /// `pg_ctl ARGS` on the store's server.
    fn pg_ctl(&self, args: &[&str]) {
        let folder = std::fs::read_to_string(Self::state(self.dir.path()).join("postgres.dir"))
            .expect("the server's folder");
        pg_ctl(folder.trim(), args);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/cluster.sh"))
            .arg("stop")
            .env("CLUSTER_DIR", Self::state(self.dir.path()))
            .output();
    }
}

/// Kill (SIGKILL) a started process.
fn kill(child: Running) {
    let mut child = child.take();
    Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(!child.wait().unwrap().success(), "killed");
}

/// Issue 23's failover: during a run with rules firing, the JetStream stream's leader, the
/// active evaluator and the deliverer killed (SIGKILL) at once; a standby evaluator and a
/// new deliverer go on, and the store's server is stopped at once (`pg_ctl stop -m
/// immediate`) and started again while the notices are being sent. Every notice due is
/// delivered (none lost, none sent under a key of no notice, none more than twice: one in
/// flight when a deliverer or the store went is sent again under its key), and the notice
/// ids are those a replay of the same period from the store's recorded events derives.
#[test]
fn shared_data_notices_survive_the_bus_leader_an_evaluator_the_deliverer_and_the_store_killed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cluster = Cluster::start();
    let shared = cluster.store.clone();
    // A receiver slow to answer, so that kills and the restart fall among the sends.
    let (hook, got) = slow_receiver();
    prepare_with_webhooks(&shared, d, &hook);
    // A 4h bar a second: the window takes twelve.
    let paced = paced_config(d, "paced", START, END, 14_400.0);
    let stream = format!("KILLS_{}", std::process::id());
    let bus: Vec<String> = [
        "--bus",
        &cluster.bus,
        "--bus-stream",
        &stream,
        "--bus-partitions",
        "8",
        "--bus-replicas",
        "3",
    ]
    .map(str::to_string)
    .to_vec();
    let Window {
        active,
        active_out,
        mut standby,
        deliverer,
        mut ingest,
    } = window_with_standby(&shared, &paced, &bus);
    // The evaluator and the deliverer first: finding the stream's leader takes a moment, in
    // which they would otherwise go on (and might send every webhook before the kill).
    kill(active);
    drop(active_out);
    kill(deliverer);
    let leader = cluster.kill_leader(&stream);
    let (standby_out, after) = to_the_last_close(&mut standby);
    let published = ingest.wait().unwrap();
    assert!(
        published.success(),
        "the ingest published the window with {leader} killed"
    );
    let sent_before = got.lock().unwrap().len();
    let deliverer = start(&shared, &paced, &["--role", "deliver"]);
    let waited = std::time::Instant::now();
    while got.lock().unwrap().len() < sent_before + 1 {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(30),
            "the new deliverer sent nothing: {:?}",
            deliveries(&shared)
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    cluster.pg_ctl(&["-m", "immediate", "stop"]);
    std::thread::sleep(std::time::Duration::from_secs(2));
    cluster.pg_ctl(&["-w", "start"]);
    let waited = std::time::Instant::now();
    let log = loop {
        let log = deliveries(&shared);
        if log.len() == 15 && log.iter().all(|(_, status)| status == "delivered") {
            break log;
        }
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(60),
            "not all delivered a minute after the restart: {log:?}\nSTANDBY:\n{}",
            after.join("\n")
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    stop(standby, after, Some(standby_out));
    stop(deliverer, Vec::new(), None);

    // The same period replayed from the events the store recorded, in one process.
    let (quiet, _) = common::receiver(0);
    let replay = d.join("replay.db");
    prepare_with_webhooks(&replay, d, &format!("{quiet}/hook"));
    let cfg = d.join("replay.toml");
    std::fs::write(
        &cfg,
        format!(
            "speed = 0\n\n[[market]]\nsymbol = \"BTCUSDT\"\ntimeframes = [\"4h\", \"1d\"]\n\n\
             [[source]]\ntype = \"events\"\ndb = {:?}\nfrom = \"{START}\"\nto = \"{END}\"\n\n\
             [alerts]\nallow_private = true\n",
            shared.display().to_string()
        ),
    )
    .unwrap();
    ok(&canary(
        &replay,
        &["run", "--config", cfg.to_str().unwrap()],
    ));
    let ids = |log: &[(String, String)]| log.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&log), ids(&deliveries(&replay)), "the replay's notices");

    six_webhooks_each_at_most_twice(&got.lock().unwrap(), &ids(&log));
}
