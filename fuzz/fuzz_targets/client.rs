//! The whole HTTP client path on whatever a server sends: a real TCP server on 127.0.0.1 writes
//! the input's answers, and `HttpAgent::send` reads them through netdeck's backend
//! (`net::http`, framing in `net::h1`), surf, its redirect middleware, the cookie jar
//! and the body decoders, up to `HttpResponse`. No answer may make it panic: an `Err` is
//! fine, and an `Ok` must be a sound response.
//!
//! Input layout: byte 0 holds flags, the rest is up to three answers separated by
//! [`SEPARATOR`] (anything after a third separator stays in the third answer).
//! - bits 0-1: the method: GET, HEAD, POST with a body, PUT without one;
//! - bit 2: `compressed` (ask for gzip, deflate and br, and decode);
//! - bit 3: through a proxy: every request goes to the harness server as a forward proxy
//!   (absolute-form targets, `CONNECT` for https), so redirects (at most 2) can be followed
//!   wherever they point without leaving the harness. Without it the request goes straight to
//!   the server and redirects are not followed: a `Location` could name any port on this
//!   machine;
//! - bit 4: the server closes every connection after one answer, so a kept-alive connection
//!   the client pools goes stale;
//! - bit 5: `max_body` 16 bytes instead of 1 MiB (bodies kept only in part).
//!
//! Each request takes the next answer; when none is left, the server closes the connection
//! without one. The server keeps a connection open after an answer only if the client has
//! all of it (judged with the same `h1` functions the client uses), so no input waits for the
//! timeout. Every input gets a fresh `HttpAgent`, so nothing carries over from one input to
//! the next; connections are reused within an input (redirects to the same origin).

#![no_main]

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use netdeck::net::NetError;
use netdeck::net::h1::{self, ChunkedDecoder, Framing, ResponseHead};
use netdeck::net::http::proxy::{ProxyChoice, ProxySettings};
use netdeck::net::http::{HttpAgent, HttpOptions, HttpRequest, HttpResponse, Watcher};

/// Between answers in the input.
const SEPARATOR: &[u8] = b"\n==next==\n";
const MAX_ANSWERS: usize = 3;
const MAX_REDIRECTS: usize = 2;
/// Over the whole exchange; a hang is a bug, and libFuzzer's own `-timeout` reports it.
const TIMEOUT: Duration = Duration::from_secs(2);
const SMALL_BODY: usize = 16;
const LARGE_BODY: usize = 1024 * 1024;
/// What the watcher keeps of a body, to compare with what the response kept.
const WATCHED: usize = 2 * LARGE_BODY;
const POST_BODY: &[u8] = b"name=netdeck&fuzz=1";

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (method, body) = match flags & 3 {
        0 => ("GET", Vec::new()),
        1 => ("HEAD", Vec::new()),
        2 => ("POST", POST_BODY.to_vec()),
        _ => ("PUT", Vec::new()),
    };
    let compressed = flags & 4 != 0;
    let proxied = flags & 8 != 0;
    let close_each = flags & 16 != 0;
    let max_body = if flags & 32 != 0 {
        SMALL_BODY
    } else {
        LARGE_BODY
    };
    let max_redirects = if proxied { MAX_REDIRECTS } else { 0 };

    let server = server();
    server.script(answers(rest), close_each);
    let options = HttpOptions {
        timeout: TIMEOUT,
        connect_timeout: TIMEOUT,
        max_body,
        max_redirects,
        compressed,
        proxy: ProxySettings {
            choice: if proxied {
                ProxyChoice::Given(format!("http://127.0.0.1:{}", server.port))
            } else {
                ProxyChoice::Direct
            },
            no_proxy: None,
        },
        ..HttpOptions::default()
    };
    let url = if proxied {
        "http://netdeck.test/start?fuzz=1".to_string()
    } else {
        format!("http://127.0.0.1:{}/start?fuzz=1", server.port)
    };
    let request = HttpRequest {
        method: method.into(),
        url: netdeck::forms::parse::parse_url(&url).expect("a valid URL"),
        headers: vec![("X-Fuzz".into(), "1".into())],
        omitted: Vec::new(),
        // `into`: a `Vec<u8>` or netdeck's `RequestBody`, whichever the field is.
        body: body.into(),
    };
    let session = HttpAgent::new(options).expect("a usable proxy setting");
    let watcher = Arc::new(Recorder::default());
    let result = smol::block_on(session.send(&request, Some(watcher.clone())));
    // Closes the kept-alive connections, so the server's threads for them end; waiting for
    // them keeps one input's threads out of the next, and lets libFuzzer's leak check see
    // as many frees as allocations.
    drop(session);
    server.wait_idle();
    if show() {
        match &result {
            Ok(response) => eprintln!(
                "{} {} {} | {} body bytes ({:?} encoded), {} kept | redirects {:?} | reused {} | watched {:?}",
                response.version,
                response.status,
                response.reason,
                response.body_bytes,
                response.encoded_bytes,
                response.body.len(),
                response
                    .redirects
                    .iter()
                    .map(|url| url.as_str())
                    .collect::<Vec<_>>(),
                response.reused_connection,
                watcher.seen.lock().unwrap().heads,
            ),
            Err(error) => eprintln!("error: {error}"),
        }
    }
    match result {
        Ok(response) => check(&response, &watcher, max_body, max_redirects),
        Err(error) => {
            // Messages are shown to the user: they must format too.
            let _ = error.to_string();
        }
    }
});

/// `NETDECK_FUZZ_SHOW=1`: print each input's outcome (for replaying inputs by hand).
fn show() -> bool {
    static SHOW: OnceLock<bool> = OnceLock::new();
    *SHOW.get_or_init(|| std::env::var_os("NETDECK_FUZZ_SHOW").is_some())
}

/// Splits the input into the server's answers.
fn answers(mut rest: &[u8]) -> VecDeque<Vec<u8>> {
    let mut answers = VecDeque::new();
    while answers.len() + 1 < MAX_ANSWERS {
        match rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
            Some(at) => {
                answers.push_back(rest[..at].to_vec());
                rest = &rest[at + SEPARATOR.len()..];
            }
            None => break,
        }
    }
    answers.push_back(rest.to_vec());
    answers
}

/// What must hold of any response the client accepted.
fn check(response: &HttpResponse, watcher: &Recorder, max_body: usize, max_redirects: usize) {
    assert!(
        (100..=999).contains(&response.status),
        "status {}",
        response.status
    );
    assert!(response.body.len() as u64 <= response.body_bytes);
    assert!(response.body.len() <= max_body);
    assert_eq!(
        response.truncated,
        response.body_bytes > response.body.len() as u64
    );
    assert!(
        response.version == "HTTP/1.0" || response.version == "HTTP/1.1",
        "version {}",
        response.version
    );
    assert!(response.redirects.len() <= max_redirects);
    let seen = watcher.seen.lock().unwrap();
    // The last head the backend read is the answer returned; when it was announced as the
    // last one, the watcher had its whole body, and the response kept the start of it.
    let heads = &seen.heads;
    assert!(!heads.is_empty(), "an answer without a head");
    let (status, last) = heads[heads.len() - 1];
    assert_eq!(status, response.status);
    assert!(last, "the answer returned was announced as a redirect to follow");
    assert_eq!(seen.body_total, response.body_bytes);
    let kept = response.body.len().min(seen.body.len());
    assert_eq!(response.body[..kept], seen.body[..kept]);
}

/// Records what the client reports as it goes.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    /// Each answer's status and whether it was announced as the last.
    heads: Vec<(u16, bool)>,
    /// The start of the last answer's body.
    body: Vec<u8>,
    body_total: u64,
}

impl Watcher for Recorder {
    fn answer_head(&self, head: &ResponseHead, last: bool) -> Result<(), NetError> {
        self.seen.lock().unwrap().heads.push((head.status, last));
        Ok(())
    }

    fn body(&self, bytes: &[u8], total: u64) -> Result<(), NetError> {
        let mut seen = self.seen.lock().unwrap();
        assert!(!bytes.is_empty(), "an empty body piece");
        seen.body_total += bytes.len() as u64;
        assert_eq!(seen.body_total, total, "the running total");
        let room = WATCHED.saturating_sub(seen.body.len());
        seen.body.extend_from_slice(&bytes[..bytes.len().min(room)]);
        Ok(())
    }
}

/// The harness server: one per process, a thread per connection.
struct Server {
    port: u16,
    script: Arc<Mutex<Script>>,
    /// The threads serving connections, one each.
    serving: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

#[derive(Default)]
struct Script {
    /// Counts inputs; a connection accepted for an earlier input gets no answers.
    generation: u64,
    answers: VecDeque<Vec<u8>>,
    close_each: bool,
}

impl Server {
    fn script(&self, answers: VecDeque<Vec<u8>>, close_each: bool) {
        let mut script = self.script.lock().unwrap();
        script.generation += 1;
        script.answers = answers;
        script.close_each = close_each;
    }

    /// Waits for every connection's thread to end. Once the client has closed its
    /// connections, each one ends at once; joined rather than counted, so that no thread is
    /// still exiting when libFuzzer looks for leaks (LeakSanitizer takes the record glibc
    /// keeps of an exiting thread's thread-local destructors for a leak).
    fn wait_idle(&self) {
        let threads = std::mem::take(&mut *self.serving.lock().unwrap());
        for thread in threads {
            let _ = thread.join();
        }
    }
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        // A write to a connection the peer has closed must be an `EPIPE` error, as in
        // netdeck's binary, whose Rust runtime ignores SIGPIPE; libFuzzer's `main` does not,
        // and the signal would end the process.
        // SAFETY: setting a signal's disposition to "ignore", before any other thread of ours
        // writes to a socket.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        }
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port on 127.0.0.1");
        let port = listener.local_addr().expect("the bound address").port();
        let script = Arc::new(Mutex::new(Script::default()));
        let serving = Arc::new(Mutex::new(Vec::new()));
        let (shared, threads) = (script.clone(), serving.clone());
        std::thread::Builder::new()
            .name("fuzz-server".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let generation = shared.lock().unwrap().generation;
                    let script = shared.clone();
                    // Spawned and listed under the lock, so `wait_idle` sees every thread
                    // that may have answered.
                    let mut threads = threads.lock().unwrap();
                    threads.push(std::thread::spawn(move || {
                        serve(stream, generation, &script)
                    }));
                }
            })
            .expect("the server thread");
        Server {
            port,
            script,
            serving,
        }
    })
}

/// One connection: read a request (head and Content-Length body), write the next answer,
/// and again while the client can have read the whole answer.
fn serve(mut stream: TcpStream, generation: u64, script: &Mutex<Script>) {
    let _ = stream.set_nodelay(true);
    // Only a safety net, so no thread outlives a stuck input for long.
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut received = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let (head, head_len) = loop {
            match h1::parse_request_head(&received) {
                Ok(Some(found)) => break found,
                Ok(None) => match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => received.extend_from_slice(&buffer[..n]),
                },
                // TLS after a `CONNECT`, say.
                Err(_) => return,
            }
        };
        let body_len = match h1::request_framing(&head) {
            Ok(Framing::Empty) => 0,
            Ok(Framing::Length(length)) => length as usize,
            _ => return,
        };
        while received.len() < head_len + body_len {
            match stream.read(&mut buffer) {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
        received.drain(..head_len + body_len);
        let (answer, close_each) = {
            let mut script = script.lock().unwrap();
            if script.generation != generation {
                return;
            }
            match script.answers.pop_front() {
                Some(answer) => (answer, script.close_each),
                None => return,
            }
        };
        if stream.write_all(&answer).is_err() {
            return;
        }
        // A `CONNECT` answer is followed by TLS, which this server does not speak.
        if close_each || head.method == "CONNECT" || !complete(&head.method, &answer) {
            return;
        }
    }
}

/// Whether the client, having read `answer`, is done with it rather than waiting for more
/// bytes or the end of the connection: the backend's own reading, with the same functions.
fn complete(method: &str, answer: &[u8]) -> bool {
    let mut rest = answer;
    let head = loop {
        match h1::parse_response_head(rest) {
            Ok(Some((head, len))) if (100..200).contains(&head.status) && head.status != 101 => {
                rest = &rest[len..];
            }
            Ok(Some((head, len))) => {
                rest = &rest[len..];
                break head;
            }
            Ok(None) => return false,
            Err(_) => return true,
        }
    };
    match h1::response_framing(method, &head) {
        Err(_) | Ok(Framing::Empty) => true,
        Ok(Framing::Length(length)) => rest.len() as u64 >= length,
        Ok(Framing::Chunked) => {
            let mut decoder = ChunkedDecoder::default();
            match decoder.feed(rest, &mut |_| {}) {
                Ok(_) => decoder.is_done(),
                Err(_) => true,
            }
        }
        Ok(Framing::UntilClose) => false,
    }
}
