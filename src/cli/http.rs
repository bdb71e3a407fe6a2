//! `netdeck http`: one request (or many, for a quick load figure) on the command line, with
//! curl's spellings where the meaning is the same.

mod body;
mod output;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Presets;
use crate::forms::HttpForm;
use crate::forms::parse::{check_json, parse_header, parse_seconds};
use crate::net::NetError;
use crate::net::http::proxy::{ProxyChoice, ProxySettings, basic_authorization};
use crate::net::http::{HttpAgent, HttpOptions, HttpRequest, Timings};
use crate::net::tls::{self, TlsOptions};

use self::output::{Destination, Output, WriteOut};

#[derive(Debug, clap::Args)]
pub struct HttpArgs {
    /// The method (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS; default GET, or POST with a
    /// body), then the URL.
    #[arg(
        value_name = "[METHOD] URL",
        num_args = 1..=2,
        required_unless_present = "preset"
    )]
    pub target: Vec<String>,
    /// The method, as curl's -X.
    #[arg(short = 'X', long = "request", value_name = "METHOD")]
    pub method: Option<String>,
    /// A request header; repeatable. `Name:` leaves out a header netdeck would add,
    /// `Name;` sends it empty.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// A body, as a form unless a Content-Type is given; `@FILE` reads a file (without its
    /// line breaks), `@-` standard input. Repeated, the parts are joined with `&`.
    #[arg(short = 'd', long = "data", value_name = "DATA")]
    pub data: Vec<String>,
    /// Like -d, but `@FILE` is sent exactly as it is.
    #[arg(long = "data-binary", value_name = "DATA")]
    pub data_binary: Vec<String>,
    /// Like -d, URL-encoded: `CONTENT`, `=CONTENT`, `NAME=CONTENT`, `@FILE` or `NAME@FILE`.
    #[arg(long = "data-urlencode", value_name = "DATA")]
    pub data_urlencode: Vec<String>,
    /// A JSON body (`@FILE`, `@-` too), checked first; sets Content-Type and Accept to JSON
    /// unless given.
    #[arg(long, value_name = "JSON", conflicts_with_all = ["data", "data_binary", "data_urlencode"])]
    pub json: Option<String>,
    /// A multipart form field: `NAME=VALUE`, `NAME=@FILE[;type=MIME]` (a file upload) or
    /// `NAME=<FILE` (a file's text as the value); repeatable.
    #[arg(short = 'F', long = "form", value_name = "NAME=VALUE",
          conflicts_with_all = ["data", "data_binary", "data_urlencode", "json"])]
    pub form: Vec<String>,
    /// Credentials for Basic authentication, `USER:PASSWORD` (also `user:pass@` in the URL).
    #[arg(short = 'u', long = "user", value_name = "USER:PASSWORD")]
    pub user: Option<String>,
    /// Cookies to send: `NAME=VALUE; ...`, or a file of cookies in Netscape format (curl's);
    /// a file that does not exist yet is taken as empty.
    #[arg(short = 'b', long = "cookie", value_name = "DATA|FILE")]
    pub cookie: Option<String>,
    /// When done, write every cookie the session holds to FILE (Netscape format).
    #[arg(short = 'c', long = "cookie-jar", value_name = "FILE")]
    pub cookie_jar: Option<String>,
    /// The User-Agent header.
    #[arg(short = 'A', long = "user-agent", value_name = "TEXT")]
    pub user_agent: Option<String>,
    /// The Referer header.
    #[arg(short = 'e', long = "referer", value_name = "URL")]
    pub referer: Option<String>,
    /// Print the status line and headers before the body.
    #[arg(short = 'i', long)]
    pub include: bool,
    /// Send HEAD and print the status line and headers.
    #[arg(short = 'I', long = "head")]
    pub head: bool,
    /// Write the body to FILE instead of standard output (`-` for standard output, even
    /// when it is binary).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<String>,
    /// Write the body to a file named like the URL's last part, in this folder.
    #[arg(short = 'O', long = "remote-name", conflicts_with = "output")]
    pub remote_name: bool,
    /// Print every request and answer head (every hop of a redirect) to stderr.
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Print no notes and no errors.
    #[arg(short = 's', long)]
    pub silent: bool,
    /// With -s, still print errors.
    #[arg(short = 'S', long = "show-error")]
    pub show_error: bool,
    /// Print FORMAT to stdout when done, with %{http_code}, %{time_total}, ... filled in.
    #[arg(short = 'w', long = "write-out", value_name = "FORMAT")]
    pub write_out: Option<String>,
    /// Ask for a compressed answer (gzip, deflate, br) and write it decoded.
    #[arg(long)]
    pub compressed: bool,
    /// Print how long each phase took to stderr.
    #[arg(long)]
    pub timing: bool,
    /// Give up after S seconds for the whole exchange, body included (default 30; 0 for
    /// no limit).
    #[arg(
        long,
        short = 'm',
        visible_alias = "max-time",
        value_name = "S",
        allow_hyphen_values = true
    )]
    pub timeout: Option<String>,
    /// Give up connecting (and the TLS handshake) after S seconds (default 5).
    #[arg(long, value_name = "S", allow_hyphen_values = true)]
    pub connect_timeout: Option<String>,
    /// Try again up to N times after a timeout or a 408, 429, 500, 502, 503 or 504 answer,
    /// waiting 1 s, then 2 s, 4 s, ...
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub retry: Option<String>,
    /// Follow redirects (the default; for curl's spelling).
    #[arg(short = 'L', long = "location")]
    pub location: bool,
    /// Follow at most N redirects (default 10; 0 shows the redirect itself).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub max_redirects: Option<String>,
    /// Follow redirects from https to plain http (refused by default).
    #[arg(long)]
    pub allow_insecure_redirects: bool,
    /// Exit with 22 and print no body when the status is 400 or more.
    #[arg(short = 'f', long)]
    pub fail: bool,
    /// Accept any certificate (self-signed, expired, other host). Testing only.
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// Also trust the certificates in this PEM file: CAs, or the server's own certificate.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<String>,
    #[command(flatten)]
    pub tls_choices: super::TlsChoices,
    /// Go through this proxy (`http://[user:pass@]host:port`) instead of the one in
    /// http_proxy / https_proxy / ALL_PROXY.
    #[arg(short = 'x', long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Hosts to reach without the proxy, comma-separated (`*` for all), instead of NO_PROXY.
    #[arg(long, value_name = "LIST")]
    pub noproxy: Option<String>,
    /// Send the request N times over kept-alive connections and print a summary instead of
    /// bodies.
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub repeat: Option<String>,
    /// Start from the HTTP preset NAME saved in the window: its method, URL, headers, body and
    /// certificate choice. What is given here replaces the preset's value; -H replaces its
    /// header of the same name.
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
}

type Headers = Vec<(String, String)>;

/// Everything the command line asked for, checked before the first packet.
struct Plan {
    request: HttpRequest,
    options: HttpOptions,
    repeat: usize,
    retries: u32,
    destination: Destination,
    write_out: Option<WriteOut>,
    /// `-b FILE`: cookies to start from.
    cookie_file: Option<String>,
}

impl HttpArgs {
    fn plan(&self, settings: &Path) -> Result<Plan, NetError> {
        let (target_method, url) = match self.target.as_slice() {
            [] => (None, None),
            [url] => (None, Some(url)),
            [method, url] => (Some(method), Some(url)),
            _ => unreachable!("clap takes at most two"),
        };
        // The preset's form, or one of the command line's own, with what is given here in its
        // place; its check makes the request the window would make of the same fields.
        let mut form = match &self.preset {
            Some(name) => super::saved_preset(name, Presets::http, settings)?,
            None => HttpForm::default(),
        };
        if let Some(url) = url {
            form.url.clone_from(url);
        }
        let method_given = self.method.as_ref().or(target_method);
        if let Some(method) = method_given {
            form.method.clone_from(method);
        }
        if self.has_body() {
            form.body.clear();
            form.json = false;
        }
        form.insecure |= self.insecure;
        let checked = form.check()?;
        let (mut headers, omitted) = self.headers(checked.headers)?;
        let given = |headers: &[(String, String)], name: &str| {
            headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        let mut add_default = |name: &str, value: &str| {
            if !given(&headers, name) && !omitted.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                headers.push((name.into(), value.into()));
            }
        };
        if let Some(agent) = &self.user_agent {
            add_default("User-Agent", agent);
        }
        if let Some(referer) = &self.referer {
            add_default("Referer", referer);
        }
        let cookie_file = match &self.cookie {
            Some(cookies) if cookies.contains('=') => {
                add_default("Cookie", cookies);
                None
            }
            Some(file) => Some(file.clone()),
            None => None,
        };
        if let Some(user) = &self.user {
            let (name, password) = user.split_once(':').unwrap_or((user, ""));
            add_default("Authorization", &basic_authorization(name, password));
        }
        let body = match self.body()? {
            Some(body) => {
                if let Some(content_type) = &body.content_type {
                    add_default("Content-Type", content_type);
                }
                if body.json {
                    add_default("Accept", "application/json");
                }
                body.parts
            }
            None => checked.body,
        };
        // Without a method given, curl's choice: HEAD with -I, POST with a body, else GET.
        let method = match (method_given, &self.preset) {
            (None, None) if self.head => "HEAD".to_string(),
            (None, None) if !body.is_empty() || !self.form.is_empty() => "POST".to_string(),
            _ => checked.method,
        };
        let url = checked.url;

        let mut options = HttpOptions {
            // The whole body is written as it arrives; nothing needs keeping.
            max_body: 0,
            ..HttpOptions::default()
        };
        if let Some(timeout) = &self.timeout {
            options.timeout = parse_limit("timeout", timeout)?;
            options.connect_timeout = options.connect_timeout.min(options.timeout);
        }
        if let Some(timeout) = &self.connect_timeout {
            options.connect_timeout = parse_seconds("connect-timeout", timeout)?;
        }
        if let Some(max) = &self.max_redirects {
            options.max_redirects = max.trim().parse().map_err(|_| {
                NetError::invalid(
                    "max-redirects",
                    format!("`{max}` is not a number of redirects (0 or more)"),
                )
            })?;
        }
        options.allow_insecure_redirects = self.allow_insecure_redirects;
        options.compressed = self.compressed;
        options.tls = self.tls_choices.apply(TlsOptions {
            accept_invalid_certificates: form.insecure,
            extra_roots: match &self.cacert {
                Some(path) => tls::load_pem_certificates(path)?,
                None => Vec::new(),
            },
            ..TlsOptions::default()
        })?;
        options.proxy = ProxySettings {
            choice: match &self.proxy {
                Some(proxy) => ProxyChoice::Given(proxy.clone()),
                None => ProxyChoice::Environment,
            },
            no_proxy: self.noproxy.clone(),
        };
        let repeat = match &self.repeat {
            Some(text) => count("repeat", text, 1)?,
            None => 0,
        };
        let retries = match &self.retry {
            Some(text) => count("retry", text, 0)? as u32,
            None => 0,
        };
        let destination = Destination::new(self.output.as_deref(), self.remote_name, &url)?;
        if let Some(jar) = &self.cookie_jar {
            output::check_folder("cookie-jar", std::path::Path::new(jar))?;
        }
        let write_out = self.write_out.as_deref().map(WriteOut::parse).transpose()?;
        Ok(Plan {
            request: HttpRequest {
                method,
                url,
                headers,
                omitted,
                body,
            },
            options,
            repeat,
            retries,
            destination,
            write_out,
            cookie_file,
        })
    }

    /// The preset's headers, then `-H`: a header given replaces the preset's of that name;
    /// `Name:` omits it, `Name;` sends it empty.
    fn headers(&self, mut headers: Headers) -> Result<(Headers, Vec<String>), NetError> {
        let mut explicit = Vec::new();
        let mut omitted = Vec::new();
        for text in &self.headers {
            let trimmed = text.trim_end();
            if let Some(name) = trimmed.strip_suffix(';').filter(|name| !name.contains(':')) {
                let (name, _) = parse_header(&format!("{name}: x"))?;
                explicit.push((name, String::new()));
                continue;
            }
            let (name, value) = parse_header(text)?;
            if value.is_empty() {
                omitted.push(name);
            } else {
                explicit.push((name, value));
            }
        }
        headers.retain(|(name, _)| {
            let replaced = explicit.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
            let dropped = omitted.iter().any(|n| n.eq_ignore_ascii_case(name));
            !replaced && !dropped
        });
        headers.extend(explicit);
        Ok((headers, omitted))
    }

    fn has_body(&self) -> bool {
        !self.data.is_empty()
            || !self.data_binary.is_empty()
            || !self.data_urlencode.is_empty()
            || self.json.is_some()
            || !self.form.is_empty()
    }

    fn body(&self) -> Result<Option<body::Body>, NetError> {
        if let Some(json) = &self.json {
            let text = body::read_argument("json", json, false)?;
            check_json(&String::from_utf8_lossy(&text))?;
            return Ok(Some(body::Body::json(text)));
        }
        if !self.form.is_empty() {
            return body::multipart(&self.form).map(Some);
        }
        body::form_data(&self.data, &self.data_binary, &self.data_urlencode)
    }
}

/// A whole number of at least `min`, for the option `field`.
fn count(field: &'static str, text: &str, min: usize) -> Result<usize, NetError> {
    text.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| *n >= min)
        .ok_or_else(|| NetError::invalid(field, format!("`{text}` is not a count ({min} or more)")))
}

/// Seconds, where 0 means no limit.
fn parse_limit(field: &'static str, text: &str) -> Result<Duration, NetError> {
    if text.trim().parse::<f64>() == Ok(0.0) {
        return Ok(Duration::MAX);
    }
    parse_seconds(field, text)
}

pub fn run(args: HttpArgs, settings: &Path) -> Result<(), NetError> {
    let plan = args.plan(settings)?;
    let session = HttpAgent::new(plan.options.clone())?;
    if let Some(file) = &plan.cookie_file {
        load_cookies(&session, file)?;
    }
    let result = exchange(&args, &plan, &session);
    if let Some(jar) = &args.cookie_jar {
        save_cookies(&session, jar)?;
    }
    result
}

/// `-b FILE`: a file that does not exist yet is an empty jar, so `-b` and `-c` can name the
/// same file from the first run on.
fn load_cookies(session: &HttpAgent, file: &str) -> Result<(), NetError> {
    match std::fs::read_to_string(file) {
        Ok(text) => {
            if let Ok(mut jar) = session.cookies().lock() {
                jar.read_netscape(&text);
            }
            Ok(())
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(NetError::invalid(
            "cookie",
            format!("cannot read {file}: {error}"),
        )),
    }
}

fn save_cookies(session: &HttpAgent, file: &str) -> Result<(), NetError> {
    let text = match session.cookies().lock() {
        Ok(jar) => jar.to_netscape(),
        Err(_) => return Ok(()),
    };
    std::fs::write(file, text).map_err(|source| NetError::WriteFailed {
        target: file.to_string(),
        source,
    })
}

fn exchange(args: &HttpArgs, plan: &Plan, session: &HttpAgent) -> Result<(), NetError> {
    if plan.repeat > 0 {
        return smol::block_on(run_repeated(session, &plan.request, plan.repeat, args.fail));
    }
    let output = Arc::new(Output::new(
        plan.destination.clone(),
        args.include || args.head,
        args.verbose,
        args.fail,
        std::io::stdout().is_terminal(),
    ));
    let quiet = args.silent && !args.show_error;
    let mut wait = Duration::from_secs(1);
    let mut tries_left = plan.retries;
    let result = loop {
        output.retry_allowed(tries_left > 0);
        let result = smol::block_on(session.send(&plan.request, Some(output.clone())));
        let transient = match &result {
            Err(NetError::Timeout { .. }) => output.written() == 0,
            Err(_) => output.retrying_status().is_some(),
            Ok(_) => false,
        };
        if !transient || tries_left == 0 {
            break result;
        }
        if !args.silent {
            eprintln!(
                "netdeck: {}; trying again in {} s ({} {} left)",
                match output.retrying_status() {
                    Some(status) => format!("the server answered {status}"),
                    None => "timed out".to_string(),
                },
                wait.as_secs(),
                tries_left,
                if tries_left == 1 { "try" } else { "tries" }
            );
        }
        std::thread::sleep(wait);
        wait *= 2;
        tries_left -= 1;
    };
    let finished = output.finish();
    let response = match result {
        Ok(response) => response,
        // The reader of standard output is gone (`| head`): nothing more to do.
        Err(NetError::WriteFailed { source, .. })
            if source.kind() == std::io::ErrorKind::BrokenPipe && output.to_stdout() =>
        {
            return Ok(());
        }
        Err(error) if quiet => return Err(silenced(error)),
        Err(error) if output.written() > 0 => {
            return Err(NetError::Interrupted {
                cause: Box::new(error),
                arrived: output.written(),
                target: output.target(),
            });
        }
        Err(error) => return Err(error),
    };
    finished?;
    if args.timing && !args.silent {
        eprint!("{}", timing_table(&response.timings));
    }
    if let Some(write_out) = &plan.write_out {
        print!("{}", write_out.render(&response, output.written()));
    }
    Ok(())
}

/// The same failure, with no message (`-s`): only the exit code tells.
fn silenced(error: NetError) -> NetError {
    NetError::Silent {
        code: error.exit_code(),
    }
}

/// The phases, one per line, for `--timing`.
pub fn timing_table(timings: &Timings) -> String {
    let ms = |d: Duration| format!("{:>9.3} ms", d.as_secs_f64() * 1000.0);
    let mut table = String::new();
    for (name, value) in [
        ("dns", Some(timings.dns)),
        ("connect", Some(timings.connect)),
        ("tls", timings.tls),
        ("send", Some(timings.send)),
        ("wait", Some(timings.wait)),
        ("receive", Some(timings.receive)),
        ("total", Some(timings.total)),
    ] {
        let value = value.map(ms).unwrap_or_else(|| format!("{:>12}", "-"));
        table.push_str(&format!("{name:<8}{value}\n"));
    }
    table
}

async fn run_repeated(
    session: &HttpAgent,
    request: &HttpRequest,
    count: usize,
    fail: bool,
) -> Result<(), NetError> {
    let mut latencies = Vec::with_capacity(count);
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    let started = Instant::now();
    for _ in 0..count {
        let response = session.send(request, None).await?;
        latencies.push(response.timings.total);
        *statuses.entry(response.status).or_default() += 1;
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let percentile = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    let ms = |d: Duration| format!("{:.3} ms", d.as_secs_f64() * 1000.0);
    let listed: Vec<String> = statuses
        .iter()
        .map(|(status, n)| format!("{status} × {n}"))
        .collect();
    println!(
        "{count} requests in {:.3} s: {:.0} requests/s",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64()
    );
    println!("status: {}", listed.join(", "));
    println!(
        "latency: min {}, p50 {}, p90 {}, p99 {}, max {}",
        ms(latencies[0]),
        ms(percentile(0.5)),
        ms(percentile(0.9)),
        ms(percentile(0.99)),
        ms(latencies[latencies.len() - 1])
    );
    match statuses.range(400..).next_back() {
        Some((&status, _)) if fail => Err(NetError::HttpStatus {
            status,
            reason: "(with --fail: at least one answer of 400 or more)".into(),
        }),
        _ => Ok(()),
    }
}
