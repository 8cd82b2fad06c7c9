//! Benchmark of the CalDAV server against Radicale and Xandikos: the same calendar of N events
//! on each, the same requests over one keep-alive HTTP/1.1 connection on loopback, one at a
//! time, then 8 clients writing at once, each on its own connection. Prints a table in
//! milliseconds, and how many times faster tandem is than each peer; asserts nothing.
//!
//! Run with `cargo bench --bench dav` (release build). Radicale and Xandikos come from PyPI
//! (`pip install radicale xandikos`); the bench looks for the `radicale` and `xandikos`
//! commands on PATH, or at `TANDEM_BENCH_RADICALE` / `TANDEM_BENCH_XANDIKOS`. A peer that is
//! missing or does not start is reported as such and the others are still measured.
//!
//! Settings: `TANDEM_BENCH_SIZES` (default `250,2000`), `TANDEM_BENCH_REPS` (timed requests per
//! measurement, default 20), `TANDEM_BENCH_SECONDS` (time cap per measurement, default 20),
//! `TANDEM_BENCH_PEERS` (default `radicale,xandikos`; `none` measures tandem alone, e.g. at
//! 100,000 events, where the peers would take hours).
//!
//! tandem serves from its own runtime, so the bench also reads the CPU time of tandem's threads
//! around each request (Linux): the server's CPU per operation and, for the listings, per
//! member. A last pair of tables puts tandem's figures next to its targets, and each N's next
//! to the smallest N's (the targets want PUT, GET, multiget and sync flat in N).
//!
//! tandem is filled over HTTP (its fill rate is printed). The peers are seeded on disk in their
//! own storage layout, because their PUT cost grows with N (Radicale fills 2000 events at
//! 3–9 per second here), which would make a run take most of an hour; their caches are then
//! warmed by one untimed pass of every request before anything is timed.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tandem::config::Settings;
use tandem::dav;
use tandem::dav::auth::Credentials;
use tandem::store::Store;
use tandem::store::Writer;
use tandem::store::system_clock;

#[path = "common/proc.rs"]
mod proc;

const USER: &str = "bench";
const PASSWORD: &str = "bench";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Event `i` of the calendar: spread over 2026, a 200-byte description like real meetings,
/// every 10th a weekly series of 10 (so time ranges must look at recurrences).
fn event(i: usize, summary: &str) -> String {
    let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
        + chrono::Duration::days((i * 7 % 365) as i64);
    let rrule = if i.is_multiple_of(10) {
        "RRULE:FREQ=WEEKLY;COUNT=10\r\n"
    } else {
        ""
    };
    let description: String = format!("Agenda for meeting {i}: ")
        .chars()
        .chain(std::iter::repeat('x'))
        .take(200)
        .collect();
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tandem//bench//EN\r\nBEGIN:VEVENT\r\nUID:bench-{i}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:{}T{:02}0000Z\r\nDURATION:PT1H\r\n{rrule}SUMMARY:{summary}\r\nDESCRIPTION:{description}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        day.format("%Y%m%d"),
        8 + i % 9
    )
}

fn href(calendar: &str, i: usize) -> String {
    format!("{calendar}bench-{i}.ics")
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Tandem,
    Radicale,
    Xandikos,
}

/// A server under test: where its calendar is, and what to stop when done.
struct Server {
    name: &'static str,
    kind: Kind,
    base: String,
    calendar: String,
    /// The directory the calendar's members live in, for seeding (peers only).
    seed_dir: Option<PathBuf>,
    child: Option<Child>,
    /// The in-process tandem server, stopped when dropped.
    _tandem: Option<dav::LocalServer>,
    /// The runtime tandem serves from (its threads are what `tandem_cpu` reads).
    runtime: Option<tokio::runtime::Runtime>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The name of tandem's server threads here; its writer thread is `tandem-writer`.
const SERVER_THREADS: &str = "tandem-server";

/// CPU time used so far by tandem's threads (the server runtime's and the writer's), from the
/// kernel's per-thread CPU clocks; `None` where there are none to read.
#[cfg(target_os = "linux")]
fn tandem_cpu() -> Option<Duration> {
    let mut total = Duration::ZERO;
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with("tandem-") {
            continue;
        }
        let Some(tid) = task
            .file_name()
            .to_str()
            .and_then(|t| t.parse::<i32>().ok())
        else {
            continue;
        };
        // The thread's CPU clock as glibc's pthread_getcpuclockid names it for any thread of
        // this process: the kernel's MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED).
        let clock: libc::clockid_t = ((!tid) << 3) | 6;
        let mut time = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes one timespec we own; a thread that has exited since the
        // listing gives an error, and is skipped.
        if unsafe { libc::clock_gettime(clock, &mut time) } == 0 {
            total += Duration::new(time.tv_sec as u64, time.tv_nsec as u32);
        }
    }
    Some(total)
}

#[cfg(not(target_os = "linux"))]
fn tandem_cpu() -> Option<Duration> {
    None
}

/// This process's resident memory (tandem and the bench's client), in MB.
fn resident_mb() -> Option<f64> {
    proc::resident_mb(Path::new(proc::SELF))
}

/// Resident memory once nothing has been asked for a while: the daemon hands memory freed by
/// the last requests back to the OS a second or two after them, so it is read every 250 ms
/// until it has not fallen for 5 s (30 s at most).
async fn resident_once_idle() -> Option<f64> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut low = resident_mb()?;
    let mut since = Instant::now();
    while since.elapsed() < Duration::from_secs(5) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = resident_mb()?;
        if now < low - 1.0 {
            since = Instant::now();
        }
        low = low.min(now);
    }
    Some(low)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// The command for a peer: the environment variable, else the name on PATH.
fn command(var: &str, name: &str) -> Option<PathBuf> {
    if let Ok(path) = std::env::var(var) {
        return Some(PathBuf::from(path));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

async fn start_tandem() -> Result<Server, String> {
    // As the daemon does when it starts.
    tandem::daemon::memory::keep_small();
    // Long-lived blocking threads, so that the CPU time of one that served a request is still
    // there to read (an exited thread's is gone).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(SERVER_THREADS)
        .thread_keep_alive(Duration::from_secs(24 * 3600))
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let store = Arc::new(Store::open_or_create(dir.path()).map_err(|e| e.to_string())?);
    let writer = Writer::spawn(
        store.clone(),
        Settings::default().policies(),
        system_clock(),
    )
    .map_err(|e| e.to_string())?;
    let credentials = Credentials {
        user: USER.into(),
        password: PASSWORD.into(),
    };
    let server = runtime
        .spawn(dav::LocalServer::start(store, writer, credentials))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    Ok(Server {
        name: "tandem",
        kind: Kind::Tandem,
        base: server.base.clone(),
        calendar: tandem::protocol::dav::layout::DEFAULT_CALENDAR.to_string(),
        seed_dir: None,
        child: None,
        _tandem: Some(server),
        runtime: Some(runtime),
        _dir: dir,
    })
}

/// Start a peer and wait (bounded) until it answers; then create the bench calendar.
async fn start_peer(kind: Kind, http: &reqwest::Client) -> Result<Server, String> {
    let (name, var, program) = match kind {
        Kind::Radicale => ("Radicale", "TANDEM_BENCH_RADICALE", "radicale"),
        Kind::Xandikos => ("Xandikos", "TANDEM_BENCH_XANDIKOS", "xandikos"),
        Kind::Tandem => unreachable!("tandem runs in process"),
    };
    let program = command(var, program).ok_or_else(|| {
        format!("{program} not found on PATH (pip install {program}, or set {var})")
    })?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let storage = dir.path().join("storage");
    std::fs::create_dir_all(&storage).map_err(|e| e.to_string())?;
    let port = free_port();
    let mut cmd = Command::new(&program);
    let (calendar, seed_dir) = match kind {
        Kind::Radicale => {
            cmd.arg(format!("--storage-filesystem-folder={}", storage.display()))
                .arg("--auth-type=none")
                .arg(format!("--server-hosts=127.0.0.1:{port}"))
                .arg("--logging-level=warning");
            (
                format!("/{USER}/bench/"),
                storage.join("collection-root").join(USER).join("bench"),
            )
        }
        _ => {
            cmd.arg("-d").arg(&storage).args([
                "-l",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "--defaults",
            ]);
            (
                "/user/calendars/bench/".to_string(),
                storage.join("user").join("calendars").join("bench"),
            )
        }
    };
    let log = std::fs::File::create(dir.path().join("server.log")).map_err(|e| e.to_string())?;
    let child = cmd
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    let mut server = Server {
        name,
        kind,
        base: format!("http://127.0.0.1:{port}"),
        calendar,
        seed_dir: Some(seed_dir),
        child: Some(child),
        _tandem: None,
        runtime: None,
        _dir: dir,
    };
    // Up to 30 s for the interpreter to start and bind.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(Ok(Some(status))) = server.child.as_mut().map(|c| c.try_wait()) {
            let log =
                std::fs::read_to_string(server._dir.path().join("server.log")).unwrap_or_default();
            let tail: String = log.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
            return Err(format!("{name} exited at start ({status}): {tail}"));
        }
        let probe = http
            .request(reqwest::Method::OPTIONS, &server.base)
            .send()
            .await;
        if probe.is_ok() {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{name} did not answer on {} within 30 s",
                server.base
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let made = send(
        http,
        &server,
        "MKCALENDAR",
        &server.calendar.clone(),
        &[],
        String::new(),
    )
    .await?;
    if !made.0.is_success() {
        return Err(format!("{name}: MKCALENDAR answered {}", made.0));
    }
    Ok(server)
}

type Answer = (reqwest::StatusCode, String, Option<String>);

async fn send(
    http: &reqwest::Client,
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: String,
) -> Result<Answer, String> {
    send_at(http, &server.base, method, path, headers, body).await
}

async fn send_at(
    http: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: String,
) -> Result<Answer, String> {
    let mut request = http
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?,
            format!("{base}{path}"),
        )
        .basic_auth(USER, Some(PASSWORD))
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let text = response.text().await.map_err(|e| e.to_string())?;
    Ok((status, text, content_type))
}

/// Put the calendar's N events in place: over HTTP for tandem, on disk for the peers.
async fn fill(http: &reqwest::Client, server: &Server, n: usize) -> Result<Option<f64>, String> {
    match (&server.kind, &server.seed_dir) {
        (Kind::Tandem, _) | (_, None) => {
            let start = Instant::now();
            for i in 0..n {
                let (status, body, _) = send(
                    http,
                    server,
                    "PUT",
                    &href(&server.calendar, i),
                    &[("If-None-Match", "*"), ("Content-Type", "text/calendar")],
                    event(i, &format!("Meeting {i}")),
                )
                .await?;
                if !status.is_success() {
                    return Err(format!("PUT {i}: {status} {body}"));
                }
            }
            Ok(Some(n as f64 / start.elapsed().as_secs_f64()))
        }
        (_, Some(dir)) => {
            for i in 0..n {
                let path = dir.join(format!("bench-{i}.ics"));
                std::fs::write(&path, event(i, &format!("Meeting {i}")))
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
            if matches!(server.kind, Kind::Xandikos) {
                // Xandikos serves what is committed in the collection's git repository.
                git_commit(dir)?;
            }
            Ok(None)
        }
    }
}

fn git_commit(dir: &Path) -> Result<(), String> {
    for args in [
        vec!["add", "-A"],
        vec![
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@localhost",
            "commit",
            "-q",
            "-m",
            "seed",
        ],
    ] {
        let status = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(&args)
            .status()
            .map_err(|e| format!("git: {e}"))?;
        if !status.success() {
            return Err(format!("git {args:?} failed in {}", dir.display()));
        }
    }
    Ok(())
}

/// The text of the top-level sync-token element, whatever prefix the server uses.
fn sync_token(body: &str) -> Option<String> {
    let end = body.rfind("sync-token>")?;
    let open = body[..end].rfind('<')?;
    if body[open..].starts_with("</") {
        let start = body[..open].rfind('>')? + 1;
        return Some(body[start..open].trim().to_string());
    }
    None
}

const PROPFIND_ETAGS: &str = r#"<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:getcontenttype/></D:prop></D:propfind>"#;

const WEEK_QUERY: &str = r#"<?xml version="1.0" encoding="utf-8"?><C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20260601T000000Z" end="20260608T000000Z"/></C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"#;

fn multiget_body(calendar: &str, n: usize) -> String {
    let hrefs: String = (0..100.min(n))
        .map(|k| format!("<D:href>{}</D:href>", href(calendar, k * n / 100.min(n))))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>{hrefs}</C:calendar-multiget>"#
    )
}

fn sync_body(token: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"#
    )
}

/// One timed request: its wall time, and tandem's CPU time for it (tandem only).
struct Timing {
    wall: Duration,
    cpu: Option<Duration>,
}

/// The timings of one measurement.
#[derive(Default)]
struct Measure {
    wall: Vec<Duration>,
    cpu: Vec<Duration>,
}

impl Measure {
    fn push(&mut self, t: Timing) {
        self.wall.push(t.wall);
        self.cpu.extend(t.cpu);
    }
}

/// A measurement, or why it could not be made.
type Samples = Result<Measure, String>;

struct Row {
    server: &'static str,
    n: usize,
    fill_rate: Option<f64>,
    put: Samples,
    /// PUTs acknowledged per second with `CLIENTS` clients writing at once.
    concurrent: Result<f64, String>,
    get: Samples,
    propfind: Samples,
    /// sync-collection without a token: the whole collection, like PROPFIND.
    initial: Samples,
    multiget: Samples,
    sync: Samples,
    query: Samples,
    query_hits: usize,
    feed: Samples,
    feed_note: String,
    /// Resident memory after the fill, right after the measurements, and once idle after them
    /// (tandem's rows: tandem and the bench's client).
    resident_filled: Option<f64>,
    resident: Option<f64>,
    resident_idle: Option<f64>,
}

fn quantile(samples: &[Duration], q: f64) -> f64 {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(|a, b| a.total_cmp(b));
    ms[((ms.len() - 1) as f64 * q).round() as usize]
}

fn cell(samples: &Samples, q: f64) -> String {
    match samples {
        Ok(m) if !m.wall.is_empty() => {
            let v = quantile(&m.wall, q);
            if v < 10.0 {
                format!("{v:.2}")
            } else {
                format!("{v:.0}")
            }
        }
        Ok(_) => "–".into(),
        Err(e) => format!("n/a ({e})"),
    }
}

struct Limits {
    reps: usize,
    cap: Duration,
}

/// A bounded measuring loop: at most `reps` timed requests, and none started after the time
/// cap (at least one always runs).
struct Budget<'a> {
    limits: &'a Limits,
    started: Instant,
    done: usize,
}

impl Limits {
    fn budget(&self) -> Budget<'_> {
        Budget {
            limits: self,
            started: Instant::now(),
            done: 0,
        }
    }
}

impl Budget<'_> {
    fn next(&mut self) -> Option<usize> {
        if self.done >= self.limits.reps
            || (self.done > 0 && self.started.elapsed() > self.limits.cap)
        {
            return None;
        }
        self.done += 1;
        Some(self.done - 1)
    }
}

async fn timed(
    http: &reqwest::Client,
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: String,
) -> Result<(Timing, Answer), String> {
    let cpu_before = server.runtime.as_ref().and_then(|_| tandem_cpu());
    let start = Instant::now();
    let answer = send(http, server, method, path, headers, body).await?;
    let wall = start.elapsed();
    let cpu = cpu_before.and_then(|before| Some(tandem_cpu()?.saturating_sub(before)));
    if !answer.0.is_success() {
        return Err(format!("{method} answered {}", answer.0.as_u16()));
    }
    Ok((Timing { wall, cpu }, answer))
}

async fn bench(http: &reqwest::Client, server: &Server, n: usize, limits: &Limits) -> Row {
    let mut row = Row {
        server: server.name,
        n,
        fill_rate: None,
        put: Err("not run".into()),
        concurrent: Err("not run".into()),
        get: Err("not run".into()),
        propfind: Err("not run".into()),
        initial: Err("not run".into()),
        multiget: Err("not run".into()),
        sync: Err("not run".into()),
        query: Err("not run".into()),
        query_hits: 0,
        feed: Err("not run".into()),
        feed_note: String::new(),
        resident_filled: None,
        resident: None,
        resident_idle: None,
    };
    match fill(http, server, n).await {
        Ok(rate) => {
            row.fill_rate = rate;
            if server.runtime.is_some() {
                row.resident_filled = resident_mb();
            }
        }
        Err(e) => {
            row.put = Err(format!("fill failed: {e}"));
            return row;
        }
    }
    let cal = server.calendar.clone();
    let multiget = multiget_body(&cal, n);
    let depth1 = [("Depth", "1"), ("Content-Type", "application/xml")];
    // RFC 6578 §3.2 defines sync-collection for Depth 0 only.
    let depth0 = [("Depth", "0"), ("Content-Type", "application/xml")];
    // Warm-up: one untimed pass of every read, so peers build their caches and indexes.
    for (method, body) in [
        ("PROPFIND", PROPFIND_ETAGS.to_string()),
        ("REPORT", multiget.clone()),
        ("REPORT", WEEK_QUERY.to_string()),
        ("REPORT", WEEK_QUERY.to_string()),
        ("GET", String::new()),
    ] {
        let _ = send(http, server, method, &cal, &depth1, body).await;
    }

    // PUT of a new event at size N (If-None-Match: *), removed again untimed so N stays N.
    row.put = async {
        let mut samples = Measure::default();
        let mut budget = limits.budget();
        while let Some(j) = budget.next() {
            let path = href(&cal, 1_000_000 + j);
            let (d, _) = timed(
                http,
                server,
                "PUT",
                &path,
                &[("If-None-Match", "*"), ("Content-Type", "text/calendar")],
                event(1_000_000 + j, "Extra"),
            )
            .await?;
            send(http, server, "DELETE", &path, &[], String::new()).await?;
            samples.push(d);
        }
        Ok::<_, String>(samples)
    }
    .await;

    row.concurrent = concurrent_writes(server, limits).await;

    // GET of one member, a different one each time.
    row.get = async {
        let mut samples = Measure::default();
        let mut budget = limits.budget();
        while let Some(j) = budget.next() {
            let (d, (_, body, _)) = timed(
                http,
                server,
                "GET",
                &href(&cal, j * 7919 % n),
                &[],
                String::new(),
            )
            .await?;
            if !body.contains("BEGIN:VEVENT") {
                return Err("no event in the body".into());
            }
            samples.push(d);
        }
        Ok::<_, String>(samples)
    }
    .await;

    row.propfind = listing(
        http,
        server,
        limits,
        n,
        ("PROPFIND", &depth1, PROPFIND_ETAGS.into()),
    )
    .await;
    // Initial sync-collection: every member, as a new client's first sync lists them.
    row.initial = listing(http, server, limits, n, ("REPORT", &depth0, sync_body(""))).await;

    row.multiget = async {
        let mut samples = Measure::default();
        let mut budget = limits.budget();
        while budget.next().is_some() {
            let (d, (_, body, _)) =
                timed(http, server, "REPORT", &cal, &depth1, multiget.clone()).await?;
            if !body.contains("BEGIN:VEVENT") {
                return Err("no calendar-data".into());
            }
            samples.push(d);
        }
        Ok::<_, String>(samples)
    }
    .await;

    // Incremental sync after one change: the change itself is not timed.
    row.sync = async {
        let (_, (_, body, _)) = timed(http, server, "REPORT", &cal, &depth0, sync_body("")).await?;
        let mut token = sync_token(&body).ok_or("no sync-token in the initial sync")?;
        let mut samples = Measure::default();
        let mut budget = limits.budget();
        while let Some(j) = budget.next() {
            let k = j % n;
            send(
                http,
                server,
                "PUT",
                &href(&cal, k),
                &[("Content-Type", "text/calendar")],
                event(k, &format!("Meeting {k} (changed {j})")),
            )
            .await?;
            let (d, (_, body, _)) =
                timed(http, server, "REPORT", &cal, &depth0, sync_body(&token)).await?;
            if !body.contains(&format!("bench-{k}.ics")) {
                return Err("the change was not listed".into());
            }
            token = sync_token(&body).ok_or("no sync-token")?;
            samples.push(d);
        }
        Ok::<_, String>(samples)
    }
    .await;

    let mut hits = 0;
    row.query = async {
        let mut samples = Measure::default();
        let mut budget = limits.budget();
        while budget.next().is_some() {
            let (d, (_, body, _)) =
                timed(http, server, "REPORT", &cal, &depth1, WEEK_QUERY.into()).await?;
            hits = body.matches("getetag>").count() / 2;
            samples.push(d);
        }
        Ok::<_, String>(samples)
    }
    .await;

    row.query_hits = hits;

    let mut note = String::new();
    row.feed = async {
        let mut samples = Measure::default();
        let mut budget = limits.budget();
        while budget.next().is_some() {
            let (d, (_, body, content_type)) =
                timed(http, server, "GET", &cal, &[], String::new()).await?;
            let content_type = content_type.unwrap_or_default();
            if !content_type.starts_with("text/calendar") {
                return Err(format!("answers {content_type}, not an iCalendar feed"));
            }
            note = format!("{} KB", body.len() / 1024);
            samples.push(d);
        }
        Ok::<_, String>(samples)
    }
    .await;
    row.feed_note = note;
    if server.runtime.is_some() {
        row.resident = resident_mb();
        row.resident_idle = resident_once_idle().await;
    }
    row
}

/// A request that lists the whole calendar, timed; each answer must list all `n` members.
async fn listing(
    http: &reqwest::Client,
    server: &Server,
    limits: &Limits,
    n: usize,
    (method, headers, body): (&str, &[(&str, &str)], String),
) -> Samples {
    let mut samples = Measure::default();
    let mut budget = limits.budget();
    while budget.next().is_some() {
        let (d, (_, answer, _)) = timed(
            http,
            server,
            method,
            &server.calendar,
            headers,
            body.clone(),
        )
        .await?;
        let listed = answer.matches("getetag>").count() / 2;
        if listed < n {
            return Err(format!("{method} listed {listed} of {n}"));
        }
        samples.push(d);
    }
    Ok(samples)
}

/// One keep-alive connection, requests one after another: like a desktop client.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(120))
        .build()
        .expect("an HTTP client")
}

/// Clients writing at once in the concurrent measurement, each on its own connection.
const CLIENTS: usize = 8;

/// PUTs of new events acknowledged per second with `CLIENTS` clients writing at once, each on
/// its own connection, each up to 5 × reps PUTs within the time cap; the events are removed
/// again afterwards, untimed.
async fn concurrent_writes(server: &Server, limits: &Limits) -> Result<f64, String> {
    let per_client = limits.reps * 5;
    let cap = limits.cap;
    let started = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for c in 0..CLIENTS {
        let (base, cal) = (server.base.clone(), server.calendar.clone());
        clients.spawn(async move {
            let http = client();
            let mut written = Vec::new();
            for j in 0..per_client {
                if j > 0 && started.elapsed() > cap {
                    break;
                }
                let i = 2_000_000 + c * 100_000 + j;
                let path = href(&cal, i);
                let (status, _, _) = send_at(
                    &http,
                    &base,
                    "PUT",
                    &path,
                    &[("If-None-Match", "*"), ("Content-Type", "text/calendar")],
                    event(i, "Concurrent"),
                )
                .await?;
                if !status.is_success() {
                    return Err(format!("a concurrent PUT answered {}", status.as_u16()));
                }
                written.push(path);
            }
            Ok::<_, String>(written)
        });
    }
    let mut written = Vec::new();
    while let Some(done) = clients.join_next().await {
        written.extend(done.map_err(|e| e.to_string())??);
    }
    let rate = written.len() as f64 / started.elapsed().as_secs_f64();
    let http = client();
    for path in written {
        send_at(&http, &server.base, "DELETE", &path, &[], String::new()).await?;
    }
    Ok(rate)
}

/// How many times faster tandem is than a peer, operation by operation, at each N: the peer's
/// time over tandem's (and tandem's writes per second over the peer's).
fn print_ratios(rows: &[Row]) {
    let mut out = std::io::stdout().lock();
    let ratio = |peer: Option<f64>, ours: Option<f64>| match (peer, ours) {
        (Some(p), Some(o)) if o > 0.0 => format!("{:.0}×", p / o),
        _ => "–".into(),
    };
    let _ = writeln!(
        out,
        "\n| tandem vs | N | PUT | {CLIENTS} clients writing | PROPFIND d1 | sync initial | multiget 100 | sync incr. | cal-query 1 week |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    for ours in rows.iter().filter(|r| r.server == "tandem") {
        for peer in rows
            .iter()
            .filter(|r| r.server != "tandem" && r.n == ours.n)
        {
            let writes = ratio(
                ours.concurrent.as_ref().ok().copied(),
                peer.concurrent.as_ref().ok().copied(),
            );
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                peer.server,
                ours.n,
                ratio(median_ms(&peer.put), median_ms(&ours.put)),
                writes,
                ratio(median_ms(&peer.propfind), median_ms(&ours.propfind)),
                ratio(median_ms(&peer.initial), median_ms(&ours.initial)),
                ratio(median_ms(&peer.multiget), median_ms(&ours.multiget)),
                ratio(median_ms(&peer.sync), median_ms(&ours.sync)),
                ratio(median_ms(&peer.query), median_ms(&ours.query)),
            );
        }
    }
}

fn print_table(rows: &[Row], notes: &[String]) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "\n| server | N | fill (events/s) | PUT p50 | PUT p95 | {CLIENTS} clients writing (PUTs/s) | GET member | PROPFIND d1 | sync initial | multiget 100 | sync incr. (1 change) | cal-query 1 week (hits) | GET calendar (size) |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        let fill = r
            .fill_rate
            .map(|f| format!("{f:.0}"))
            .unwrap_or_else(|| "seeded on disk".into());
        let feed = match &r.feed {
            Ok(_) => format!("{} ({})", cell(&r.feed, 0.5), r.feed_note),
            Err(_) => cell(&r.feed, 0.5),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} ({}) | {} |",
            r.server,
            r.n,
            fill,
            cell(&r.put, 0.5),
            cell(&r.put, 0.95),
            rate_cell(&r.concurrent),
            cell(&r.get, 0.5),
            cell(&r.propfind, 0.5),
            cell(&r.initial, 0.5),
            cell(&r.multiget, 0.5),
            cell(&r.sync, 0.5),
            cell(&r.query, 0.5),
            r.query_hits,
            feed,
        );
    }
    let _ = writeln!(out, "\nTimes in ms, p50 unless marked.");
    for note in notes {
        let _ = writeln!(out, "- {note}");
    }
}

/// The median of a measurement's wall times, in ms.
fn median_ms(samples: &Samples) -> Option<f64> {
    match samples {
        Ok(m) if !m.wall.is_empty() => Some(quantile(&m.wall, 0.5)),
        _ => None,
    }
}

/// The median of tandem's CPU time per request, in µs.
fn cpu_us(samples: &Samples) -> Option<f64> {
    match samples {
        Ok(m) if !m.cpu.is_empty() => Some(quantile(&m.cpu, 0.5) * 1000.0),
        _ => None,
    }
}

/// Writes per second, or why they were not measured.
fn rate_cell(rate: &Result<f64, String>) -> String {
    match rate {
        Ok(rate) => format!("{rate:.0}"),
        Err(e) => format!("n/a ({e})"),
    }
}

fn or_dash(v: Option<String>) -> String {
    v.unwrap_or_else(|| "–".into())
}

/// tandem's figures next to the targets of its performance issue.
fn print_targets(rows: &[Row]) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "\n| tandem | N | PUT p50 (target ≤ 0.6 ms) | server CPU per PUT | {CLIENTS} clients writing (≥ 3,000 PUTs/s) | PROPFIND d1: server CPU per member (≤ 1.5 µs) | sync initial: server CPU per member (≤ 1.5 µs) | multiget 100: server CPU | cal-query 1 week (≤ 5 ms at 100,000) | resident after the fill / after serving / idle (≤ 150 MB at 100,000) |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
    for r in rows.iter().filter(|r| r.server == "tandem") {
        let per_member =
            |s: &Samples| or_dash(cpu_us(s).map(|us| format!("{:.2} µs", us / r.n as f64)));
        let _ = writeln!(
            out,
            "| | {} | {} ms | {} | {} | {} | {} | {} | {} ms | {} |",
            r.n,
            cell(&r.put, 0.5),
            or_dash(cpu_us(&r.put).map(|us| format!("{us:.0} µs"))),
            rate_cell(&r.concurrent),
            per_member(&r.propfind),
            per_member(&r.initial),
            or_dash(cpu_us(&r.multiget).map(|us| format!("{us:.0} µs"))),
            cell(&r.query, 0.5),
            or_dash(r.resident_filled.zip(r.resident).zip(r.resident_idle).map(
                |((filled, served), idle)| format!("{filled:.0} / {served:.0} / {idle:.0} MB")
            )),
        );
    }
}

/// Each N's p50 next to the smallest N's, for the operations that should not grow with N.
fn print_flat(rows: &[Row]) {
    let ours: Vec<&Row> = rows.iter().filter(|r| r.server == "tandem").collect();
    let Some(base) = ours.iter().min_by_key(|r| r.n) else {
        return;
    };
    if ours.len() < 2 {
        return;
    }
    let mut out = std::io::stdout().lock();
    let header: String = ours.iter().map(|r| format!(" N = {} |", r.n)).collect();
    let _ = writeln!(
        out,
        "\n| flat in N (target: within 20% of N = {}) |{header}",
        base.n
    );
    let _ = writeln!(out, "|---|{}", "---|".repeat(ours.len()));
    type Pick = fn(&Row) -> &Samples;
    let ops: [(&str, Pick); 4] = [
        ("PUT", |r| &r.put),
        ("GET member", |r| &r.get),
        ("multiget 100", |r| &r.multiget),
        ("sync incr.", |r| &r.sync),
    ];
    for (name, pick) in ops {
        let first = median_ms(pick(base));
        let cells: String = ours
            .iter()
            .map(|r| match (median_ms(pick(r)), first) {
                (Some(v), Some(b)) if r.n != base.n && b > 0.0 => {
                    format!(" {v:.2} ms ({:+.0}%) |", (v / b - 1.0) * 100.0)
                }
                (Some(v), _) => format!(" {v:.2} ms |"),
                (None, _) => " – |".into(),
            })
            .collect();
        let _ = writeln!(out, "| {name} |{cells}");
    }
}

fn main() {
    let sizes: Vec<usize> = std::env::var("TANDEM_BENCH_SIZES")
        .unwrap_or_else(|_| "250,2000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .filter(|&n| n > 0)
        .collect();
    let limits = Limits {
        reps: env_or("TANDEM_BENCH_REPS", 20usize).max(1),
        cap: Duration::from_secs(env_or("TANDEM_BENCH_SECONDS", 20u64)),
    };
    let peers: Vec<Kind> = std::env::var("TANDEM_BENCH_PEERS")
        .unwrap_or_else(|_| "radicale,xandikos".into())
        .split(',')
        .filter_map(|p| match p.trim() {
            "radicale" => Some(Kind::Radicale),
            "xandikos" => Some(Kind::Xandikos),
            _ => None,
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let http = client();
        let mut rows = Vec::new();
        let mut notes = Vec::new();
        for &n in &sizes {
            for kind in std::iter::once(Kind::Tandem).chain(peers.iter().copied()) {
                let server = match kind {
                    Kind::Tandem => start_tandem().await,
                    other => start_peer(other, &http).await,
                };
                match server {
                    Ok(server) => {
                        eprintln!("{} with {n} events…", server.name);
                        rows.push(bench(&http, &server, n, &limits).await);
                    }
                    Err(e) => {
                        if !notes.contains(&e) {
                            eprintln!("{e}");
                            notes.push(e);
                        }
                    }
                }
            }
        }
        notes.push(format!(
            "{} timed requests per measurement at most, {} s cap each; one keep-alive connection on loopback ({CLIENTS} for the concurrent writes, {} PUTs each at most).",
            limits.reps,
            limits.cap.as_secs(),
            limits.reps * 5
        ));
        print_table(&rows, &notes);
        print_ratios(&rows);
        print_targets(&rows);
        print_flat(&rows);
    });
}
