//! `netdeck http`: one request (or many, for a quick load figure) on the command line.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use crate::config::{self, Presets};
use crate::net::NetError;
use crate::net::error::parse_seconds;
use crate::net::http::{
    HttpOptions, HttpRequest, HttpResponse, HttpSession, Timings, check_json, parse_header,
    parse_method, parse_url,
};
use crate::net::tls::{self, TlsOptions};
use crate::payload::ByteCount;

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
    /// A request header; repeatable.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// A body, sent as given.
    #[arg(
        short = 'd',
        long = "data",
        value_name = "BODY",
        conflicts_with = "json"
    )]
    pub data: Option<String>,
    /// A JSON body, checked first; sets Content-Type and Accept to JSON unless given.
    #[arg(long, value_name = "JSON")]
    pub json: Option<String>,
    /// Print the status line and headers before the body.
    #[arg(short = 'i', long)]
    pub include: bool,
    /// Print how long each phase took to stderr.
    #[arg(long)]
    pub timing: bool,
    /// Give up after S seconds for the whole exchange, body included (default 30).
    #[arg(long, value_name = "S", allow_hyphen_values = true)]
    pub timeout: Option<String>,
    /// Follow at most N redirects (default 10; 0 shows the redirect itself).
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub max_redirects: Option<String>,
    /// Follow redirects from https to plain http (refused by default).
    #[arg(long)]
    pub allow_insecure_redirects: bool,
    /// Exit with 22 and print no body when the status is 400 or more.
    #[arg(long)]
    pub fail: bool,
    /// Accept any certificate (self-signed, expired, other host). Testing only.
    #[arg(long)]
    pub insecure: bool,
    /// Also trust the CA certificates in this PEM file.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<String>,
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

impl HttpArgs {
    /// Everything checked before the first packet.
    fn request(&self) -> Result<(HttpRequest, HttpOptions, usize), NetError> {
        let saved = match &self.preset {
            Some(name) => Some(super::saved_preset(name, Presets::http)?),
            None => None,
        };
        let saved = saved.as_ref();
        let (method, url) = match self.target.as_slice() {
            [] => (None, None),
            [url] => (None, Some(url)),
            [method, url] => (Some(parse_method(method)?), Some(url)),
            _ => unreachable!("clap takes at most two"),
        };
        let url = parse_url(url.or(saved.map(|s| &s.url)).map_or("", String::as_str))?;
        let method = match (method, saved) {
            (None, Some(saved)) => Some(parse_method(&saved.method)?),
            (method, _) => method,
        };
        let mut headers = match saved {
            Some(saved) => saved.checked_headers()?,
            None => Vec::new(),
        };
        let explicit = self
            .headers
            .iter()
            .map(|h| parse_header(h))
            .collect::<Result<Vec<_>, _>>()?;
        headers.retain(|(name, _)| !explicit.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)));
        headers.extend(explicit);
        let given = |headers: &[(String, String)], name: &str| {
            headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        let (data, json) = match saved {
            Some(saved) if self.data.is_none() && self.json.is_none() => body_of(saved),
            _ => (self.data.as_ref(), self.json.as_ref()),
        };
        let body = match (data, json) {
            (Some(data), _) => data.clone().into_bytes(),
            (None, Some(json)) => {
                check_json(json)?;
                for name in ["Content-Type", "Accept"] {
                    if !given(&headers, name) {
                        headers.push((name.into(), "application/json".into()));
                    }
                }
                json.clone().into_bytes()
            }
            (None, None) => Vec::new(),
        };
        let method = method.unwrap_or_else(|| if body.is_empty() { "GET" } else { "POST" }.into());
        let mut options = HttpOptions::default();
        if let Some(timeout) = &self.timeout {
            options.timeout = parse_seconds("timeout", timeout)?;
            options.connect_timeout = options.connect_timeout.min(options.timeout);
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
        options.tls = TlsOptions {
            accept_invalid_certificates: self.insecure || saved.is_some_and(|s| s.insecure),
            extra_roots: match &self.cacert {
                Some(path) => tls::load_pem_certificates(path)?,
                None => Vec::new(),
            },
        };
        let repeat = match &self.repeat {
            Some(text) => text
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| {
                    NetError::invalid("repeat", format!("`{text}` is not a count (1 or more)"))
                })?,
            None => 0,
        };
        Ok((
            HttpRequest {
                method,
                url,
                headers,
                body,
            },
            options,
            repeat,
        ))
    }
}

/// A preset's body as `-d` or `--json` would give it: JSON when its switch says so and there is
/// something to check, nothing when it is empty.
fn body_of(saved: &config::HttpRequest) -> (Option<&String>, Option<&String>) {
    if saved.body.is_empty() {
        (None, None)
    } else if saved.json && !saved.body.trim().is_empty() {
        (None, Some(&saved.body))
    } else {
        (Some(&saved.body), None)
    }
}

pub fn run(args: HttpArgs) -> Result<(), NetError> {
    let (request, options, repeat) = args.request()?;
    let session = HttpSession::new(options);
    if repeat > 0 {
        return smol::block_on(run_repeated(&session, &request, repeat));
    }
    let response = smol::block_on(session.send(&request, None))?;
    if args.fail && response.status >= 400 {
        return Err(NetError::HttpStatus {
            status: response.status,
            reason: response.reason,
        });
    }
    // A closed stdout (`| head`) is not a failure of the request.
    let _ = print_response(&mut io::stdout().lock(), &response, args.include);
    if response.truncated {
        eprintln!(
            "netdeck: body truncated: kept {} of {}",
            ByteCount(response.body.len() as u64),
            ByteCount(response.body_bytes)
        );
    }
    if args.timing {
        eprint!("{}", timing_table(&response.timings));
    }
    Ok(())
}

fn print_response(out: &mut impl Write, response: &HttpResponse, include: bool) -> io::Result<()> {
    if include {
        writeln!(
            out,
            "{} {} {}",
            response.version, response.status, response.reason
        )?;
        for (name, value) in &response.headers {
            writeln!(out, "{name}: {value}")?;
        }
        writeln!(out)?;
    }
    out.write_all(&response.body)?;
    out.flush()
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
    session: &HttpSession,
    request: &HttpRequest,
    count: usize,
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
    let statuses: Vec<String> = statuses
        .iter()
        .map(|(status, n)| format!("{status} × {n}"))
        .collect();
    println!(
        "{count} requests in {:.3} s: {:.0} requests/s",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64()
    );
    println!("status: {}", statuses.join(", "));
    println!(
        "latency: min {}, p50 {}, p90 {}, p99 {}, max {}",
        ms(latencies[0]),
        ms(percentile(0.5)),
        ms(percentile(0.9)),
        ms(percentile(0.99)),
        ms(latencies[latencies.len() - 1])
    );
    Ok(())
}
