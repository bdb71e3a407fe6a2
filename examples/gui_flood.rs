//! Measures how the window copes with a flood: the real window, its Server tab listening on a
//! free loopback port, one client selected so that its received-data view is live, and that
//! client writing as fast as it can. Meanwhile a probe posts a closure to the GUI thread every
//! 10 ms and records how long each waited to run, and resident memory is sampled. The GUI
//! thread's CPU time and its time spent waiting for a CPU tell its own cost from a busy
//! machine's.
//!
//! Usage: `gui_flood [--idle] [--show conversation|flow|graph] [SECONDS]` (default 10 s).
//! `--idle` keeps the client connected and selected but silent, for a baseline; `--show` picks
//! how the selected connection is shown (its conversation unless told). Needs a display (`SLINT_BACKEND=winit-software`
//! under Xvfb works); `bash bench/gui-flood.sh` runs both cases and writes the results.

use std::error::Error;
use std::io::{ErrorKind, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use netdeck::gui::ui::{AppWindow, ServerAdapter, SessionShow};
use slint::{ComponentHandle, Model};

type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// How often the probe posts to the GUI thread.
const PROBE_INTERVAL: Duration = Duration::from_millis(10);
/// How often resident memory is read.
const RSS_INTERVAL: Duration = Duration::from_millis(10);
/// What the flooding client hands to each write.
const FLOOD_CHUNK: usize = 64 * 1024;
/// After the run: time for the window to show the last data, then the time in which an idle
/// window's wake-ups are counted.
const SETTLE: Duration = Duration::from_millis(500);
const QUIET: Duration = Duration::from_secs(1);
/// How long setup steps and late probe answers may take before the run counts as failed.
const PATIENCE: Duration = Duration::from_secs(20);

const USAGE: &str = "usage: gui_flood [--idle] [--show conversation|flow|graph] [SECONDS]";

struct Options {
    idle: bool,
    show: SessionShow,
    duration: Duration,
}

/// What one run measured.
struct Report {
    options: Options,
    flooded_bytes: u64,
    flood_time: Duration,
    /// How long each probe waited for the GUI thread, sorted.
    delays: Vec<Duration>,
    rss_peak_kib: u64,
    rss_end_kib: u64,
    /// What the GUI thread did during the run, and how long the run was.
    gui_thread: ThreadTimes,
    run_time: Duration,
    /// Times the GUI thread ran during [`QUIET`] once everything was shown: an idle window
    /// has no timer running, so this should be 0.
    quiet_wakeups: u64,
    /// The flooding client's row in the list and how much text the received view shows,
    /// to confirm that the view was live.
    client_row: String,
    conversation_chars: usize,
    /// The flow's marks and the graph's bytes received in its last minute, to confirm that
    /// those views were live too.
    flow_marks: usize,
    graph_bytes: i64,
}

fn main() -> Result<()> {
    let options = options(std::env::args().skip(1))?;
    let window = AppWindow::new()?;
    let _gui = netdeck::gui::setup(&window, &netdeck::gui::GuiOptions::default())?;
    window.show()?;
    let adapter = window.global::<ServerAdapter>();
    adapter.set_port("0".into());
    adapter.invoke_start();

    let weak = window.as_weak();
    let driver = thread::spawn(move || {
        let report = drive(weak, options);
        // Ends the run whether it worked or not.
        let _ = slint::quit_event_loop();
        report
    });
    slint::run_event_loop()?;
    let report = driver.join().map_err(|_| "the driver thread panicked")??;
    print(&report);
    Ok(())
}

fn options(args: impl Iterator<Item = String>) -> Result<Options> {
    let mut options = Options {
        idle: false,
        show: SessionShow::Conversation,
        duration: Duration::from_secs(10),
    };
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--idle" => options.idle = true,
            "--show" => {
                options.show = match args.next().as_deref() {
                    Some("conversation") => SessionShow::Conversation,
                    Some("flow") => SessionShow::Flow,
                    Some("graph") => SessionShow::Graph,
                    other => return Err(format!("{USAGE}\nnot a view: {other:?}").into()),
                }
            }
            seconds => match seconds.parse::<u64>() {
                Ok(seconds) if seconds > 0 => options.duration = Duration::from_secs(seconds),
                _ => return Err(format!("{USAGE}\nnot a number of seconds: {seconds}").into()),
            },
        }
    }
    Ok(options)
}

/// Runs off the GUI thread: waits for the server, connects and selects the client, then
/// floods (or idles), probes and samples memory for the whole duration.
fn drive(window: slint::Weak<AppWindow>, options: Options) -> Result<Report> {
    let port = wait_for(&window, "the server to listen", |window| {
        listening_port(&window.global::<ServerAdapter>().get_status())
    })?;
    let stream = TcpStream::connect(("127.0.0.1", port))?;
    let id = wait_for(&window, "the client in the list", |window| {
        let clients = window.global::<ServerAdapter>().get_clients();
        clients.row_data(0).map(|row| row.id)
    })?;
    let show = options.show;
    on_gui(&window, move |window| {
        let adapter = window.global::<ServerAdapter>();
        adapter.invoke_select_client(id);
        adapter.set_show(show);
    })?;

    let gui_thread_before = gui_thread_times()?;
    let started = Instant::now();
    let deadline = started + options.duration;
    let memory = thread::spawn(move || sample_rss(deadline));
    let probe = thread::spawn(move || probe(deadline));
    let (flooded_bytes, flood_time) = if options.idle {
        thread::sleep(options.duration);
        (0, started.elapsed())
    } else {
        // A clone writes, so the client stays connected (and listed) until the end.
        let writer = stream.try_clone()?;
        let flood = thread::spawn(move || flood(writer, deadline));
        flood.join().map_err(|_| "the flood thread panicked")??
    };
    let gui_thread = gui_thread_times()?.since(&gui_thread_before);
    let run_time = started.elapsed();
    let (rss_peak_kib, rss_end_kib) = memory.join().map_err(|_| "the memory thread panicked")??;
    let mut delays = probe.join().map_err(|_| "the probe thread panicked")??;
    delays.sort();
    thread::sleep(SETTLE);
    let quiet_before = gui_thread_times()?;
    thread::sleep(QUIET);
    let quiet_wakeups = gui_thread_times()?.since(&quiet_before).slices;
    let (client_row, conversation_chars, flow_marks, graph_bytes) = on_gui(&window, |window| {
        let adapter = window.global::<ServerAdapter>();
        let row = adapter.get_clients().row_data(0);
        let row = row.map(|row| format!("{} {}", row.peer, row.detail));
        let graph = adapter.get_graphs().row_data(0);
        (
            row.unwrap_or_default(),
            (adapter.get_conversation().iter())
                .map(|line| line.text.chars().count())
                .sum::<usize>(),
            adapter.get_flow().row_count(),
            graph.map_or(0, |rates| rates.received.iter().map(i64::from).sum()),
        )
    })?;
    Ok(Report {
        options,
        flooded_bytes,
        flood_time,
        delays,
        rss_peak_kib,
        rss_end_kib,
        gui_thread,
        run_time,
        quiet_wakeups,
        client_row,
        conversation_chars,
        flow_marks,
        graph_bytes,
    })
}

/// Runs `f` on the GUI thread and returns its result.
fn on_gui<T: Send + 'static>(
    window: &slint::Weak<AppWindow>,
    f: impl FnOnce(&AppWindow) -> T + Send + 'static,
) -> Result<T> {
    let (answer, answered) = mpsc::channel();
    window.upgrade_in_event_loop(move |window| {
        let _ = answer.send(f(&window));
    })?;
    Ok(answered.recv_timeout(PATIENCE)?)
}

/// Asks the GUI thread every 10 ms until `check` gives an answer.
fn wait_for<T: Send + 'static>(
    window: &slint::Weak<AppWindow>,
    what: &str,
    check: fn(&AppWindow) -> Option<T>,
) -> Result<T> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(answer) = on_gui(window, check)? {
            return Ok(answer);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// The port in the Server tab's "Listening on 127.0.0.1:PORT · N clients" status line.
fn listening_port(status: &str) -> Option<u16> {
    let addr = status.strip_prefix("Listening on ")?.split(' ').next()?;
    addr.rsplit_once(':')?.1.parse().ok()
}

/// Writes lines of text as fast as the server takes them until `deadline`; returns the bytes
/// written and the time it took.
fn flood(mut stream: TcpStream, deadline: Instant) -> Result<(u64, Duration)> {
    // Text lines, as a chatty device sends: the received view shows them as they are.
    let line = b"0123456789 the quick brown fox jumps over the lazy dog 0123456789\n";
    let chunk: Vec<u8> = line.iter().copied().cycle().take(FLOOD_CHUNK).collect();
    // A blocked write returns in time to stop at the deadline.
    stream.set_write_timeout(Some(Duration::from_millis(100)))?;
    let started = Instant::now();
    let mut written = 0u64;
    while Instant::now() < deadline {
        match stream.write(&chunk) {
            Ok(n) => written += n as u64,
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok((written, started.elapsed()))
}

/// Posts a closure to the GUI thread every [`PROBE_INTERVAL`] until `deadline`; each records
/// how long it waited to run. Returns every probe's delay, late ones included.
fn probe(deadline: Instant) -> Result<Vec<Duration>> {
    let (answer, answers) = mpsc::channel();
    let mut posted = 0;
    let mut next = Instant::now();
    while next < deadline {
        let answer = answer.clone();
        let posted_at = Instant::now();
        slint::invoke_from_event_loop(move || {
            let _ = answer.send(posted_at.elapsed());
        })?;
        posted += 1;
        next += PROBE_INTERVAL;
        thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    (0..posted)
        .map(|_| {
            answers
                .recv_timeout(PATIENCE)
                .map_err(|_| "a probe got no answer from the GUI thread".into())
        })
        .collect()
}

/// Reads VmRSS every [`RSS_INTERVAL`] until `deadline`; returns the peak and the last value,
/// in KiB.
fn sample_rss(deadline: Instant) -> Result<(u64, u64)> {
    let mut peak = 0;
    loop {
        let status = std::fs::read_to_string("/proc/self/status")?;
        let rss = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or("no VmRSS line in /proc/self/status")?;
        peak = peak.max(rss);
        if Instant::now() >= deadline {
            return Ok((peak, rss));
        }
        thread::sleep(RSS_INTERVAL);
    }
}

/// Time a thread spent on a CPU and runnable but waiting for one, and how often it ran.
struct ThreadTimes {
    running: Duration,
    waiting: Duration,
    slices: u64,
}

impl ThreadTimes {
    fn since(&self, earlier: &ThreadTimes) -> ThreadTimes {
        ThreadTimes {
            running: self.running - earlier.running,
            waiting: self.waiting - earlier.waiting,
            slices: self.slices - earlier.slices,
        }
    }
}

/// The GUI thread's times so far. It is the main thread, whose id is the process id.
fn gui_thread_times() -> Result<ThreadTimes> {
    let path = format!("/proc/self/task/{}/schedstat", std::process::id());
    let schedstat = std::fs::read_to_string(path)?;
    // Nanoseconds on a CPU, nanoseconds waiting on a run queue, time slices.
    let mut fields = schedstat.split_whitespace().map(str::parse::<u64>);
    let mut next = || -> Result<u64> { Ok(fields.next().ok_or("a short schedstat line")??) };
    Ok(ThreadTimes {
        running: Duration::from_nanos(next()?),
        waiting: Duration::from_nanos(next()?),
        slices: next()?,
    })
}

/// The value at percentile `p` of sorted `values` (nearest rank), in milliseconds.
fn percentile_ms(values: &[Duration], p: f64) -> f64 {
    let rank = ((p / 100.0 * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1].as_secs_f64() * 1000.0
}

/// One `name: value` line per figure, for people and for the bench script.
fn print(report: &Report) {
    let mib = |kib: u64| kib as f64 / 1024.0;
    let mode = if report.options.idle { "idle" } else { "flood" };
    println!("mode: {mode}");
    println!("view: {:?}", report.options.show);
    println!("seconds: {}", report.options.duration.as_secs());
    println!("flooded bytes: {}", report.flooded_bytes);
    println!(
        "flood MB/s: {:.1}",
        report.flooded_bytes as f64 / report.flood_time.as_secs_f64() / 1e6
    );
    println!("probes: {}", report.delays.len());
    for (name, p) in [("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("max", 100.0)] {
        println!("delay {name} ms: {:.2}", percentile_ms(&report.delays, p));
    }
    println!("rss peak MiB: {:.1}", mib(report.rss_peak_kib));
    println!("rss end MiB: {:.1}", mib(report.rss_end_kib));
    let share = |time: Duration| time.as_secs_f64() / report.run_time.as_secs_f64() * 100.0;
    println!("gui thread cpu %: {:.1}", share(report.gui_thread.running));
    println!("gui thread wait %: {:.1}", share(report.gui_thread.waiting));
    println!("gui thread wake-ups when quiet: {}", report.quiet_wakeups);
    println!("client row: {}", report.client_row);
    println!("conversation view chars: {}", report.conversation_chars);
    println!("flow marks: {}", report.flow_marks);
    println!("graph bytes received: {}", report.graph_bytes);
}
