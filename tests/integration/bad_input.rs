//! Malformed input across the command line and the checks the GUI's adapters use: each is
//! refused with its exact message and exit code, before anything starts, and never panics.

use crate::common;

use common::run_netdeck;
use netdeck::forms::parse::{
    check_json, parse_bind_ip, parse_duration_ms, parse_header, parse_host, parse_max_clients,
    parse_method, parse_port, parse_seconds, parse_url,
};
use netdeck::net::NetError;
use netdeck::payload::{Encoding, LineEnding, encode};

/// (arguments, exit code, the error line netdeck prints)
const COMMAND_LINE: &[(&[&str], i32, &str)] = &[
    (
        &["serve", "--port", "70000"],
        2,
        "port: 70000 is not a port number (0 to 65535)",
    ),
    (
        &["serve", "--port", "-1"],
        2,
        "port: `-1` is not a port number (0 to 65535)",
    ),
    (&["serve", "--port", ""], 2, "port: a port number is needed"),
    (
        &["serve", "--port", "12ab"],
        2,
        "port: `12ab` is not a port number (0 to 65535)",
    ),
    (
        &["serve", "--bind", "999.1.1.1"],
        2,
        "bind: `999.1.1.1` is not an IP address (like 127.0.0.1, 0.0.0.0, ::1 or ::)",
    ),
    (
        &["serve", "--bind", "localhost"],
        2,
        "bind: `localhost` is not an IP address (like 127.0.0.1, 0.0.0.0, ::1 or ::)",
    ),
    (
        &["serve", "--bind", "::1::"],
        2,
        "bind: `::1::` is not an IP address (like 127.0.0.1, 0.0.0.0, ::1 or ::)",
    ),
    (
        &["serve", "--bind", "[::1"],
        2,
        "bind: `[::1` is not an IP address (like 127.0.0.1, 0.0.0.0, ::1 or ::)",
    ),
    (
        &["serve", "--max-clients", "0"],
        2,
        "max-clients: `0` is not a client count (a whole number, 1 or more; empty for no limit)",
    ),
    (
        &["serve", "--max-clients", "-2"],
        2,
        "max-clients: `-2` is not a client count (a whole number, 1 or more; empty for no limit)",
    ),
    (
        &["serve", "--reply", r"a\q"],
        2,
        r"reply: unknown escape `\q` (use \r \n \t \0 \\ or \xNN; `\\` for a backslash) at column 2",
    ),
    (
        &["serve", "--reply", r"a\"],
        2,
        r"reply: a lone `\` ends the text (write `\\` for a backslash) at column 2",
    ),
    (
        &["serve", "--reply", r"\xZZ"],
        2,
        r"reply: `\x` needs exactly two hex digits, like `\x0a` at column 1",
    ),
    (
        &["serve", "--bind", "192.0.2.1", "--port", "0"],
        45,
        "cannot listen on 192.0.2.1:0: 192.0.2.1 is not an address of this machine",
    ),
    (
        &["serve", "--reply", ""],
        2,
        r"reply: is empty; give the text to answer with, such as --reply 'OK\r\n', or use --echo",
    ),
    (
        &["serve", "--once", "--max-clients", "5"],
        2,
        "max-clients: --once serves exactly one client, so --max-clients 5 contradicts it; leave one out",
    ),
    (
        &["serve", "--cert", "cert.pem"],
        2,
        "tls: --cert, --key, --client-ca and --ciphers need TLS, which is off; add --tls",
    ),
    (
        &["serve", "--tls", "--cert", "/nonexistent/cert.pem"],
        2,
        "cert: cannot read /nonexistent/cert.pem: No such file or directory (os error 2)",
    ),
    (
        &["serve", "--tls", "--key", "key.pem"],
        2,
        "key: a key needs its certificate; give it with --cert FILE",
    ),
    (
        &["serve", "--tls", "--client-ca", "/nonexistent/ca.pem"],
        2,
        "client-ca: cannot read /nonexistent/ca.pem: No such file or directory (os error 2)",
    ),
    (
        &["connect", "127.0.0.1", "80", "--send", ""],
        2,
        r"send: is empty; give something to send, such as --send 'hello\n'",
    ),
    (
        &["connect", "127.0.0.1", "80", "--hex", ""],
        2,
        "hex: is empty; give something to send, such as --hex '48 69 0a'",
    ),
    (
        &["connect", "localhost"],
        2,
        "port: missing: give it after the host (netdeck connect localhost PORT), or as localhost:PORT",
    ),
    (
        &["connect", "localhost:99999"],
        2,
        "port: 99999 is not a port number (0 to 65535)",
    ),
    (
        &["connect", "127.0.0.1", "80", "--idle", "0"],
        2,
        "idle: `0` is not a number of seconds (more than 0, at most 86400)",
    ),
    (
        &["connect", "127.0.0.1", "80", "--alpn", "h2"],
        2,
        "tls: --insecure, --cacert, --cert, --alpn, --sni, --ciphers and --tlsv1.x need TLS, which is off; add --tls",
    ),
    (
        &["connect", "127.0.0.1", "80", "--tls", "--alpn", "h2,"],
        2,
        "alpn: `` cannot be a protocol name: give names of 1 to 255 bytes, separated by commas",
    ),
    (
        &["connect", "127.0.0.1", "80", "--tls", "--sni", "a b"],
        2,
        "sni: `a b` is not a valid name for a TLS certificate",
    ),
    (
        &["udp", "send", "127.0.0.1", "9", "--send", ""],
        2,
        r"send: is empty; give something to send, such as --send 'hello\n'",
    ),
    (
        &["udp", "send", "127.0.0.1", "9"],
        2,
        "send: nothing to send: give --send TEXT, --hex HEX or --stdin",
    ),
    (
        &["udp", "send", "127.0.0.1", "--send", "x"],
        2,
        "port: missing: give it after the host (netdeck udp send 127.0.0.1 PORT), or as 127.0.0.1:PORT",
    ),
    (
        &["udp", "send", "255.255.255.255", "9", "--send", "x"],
        2,
        "broadcast: 255.255.255.255 is a broadcast address; add --broadcast to send to it",
    ),
    (
        &["udp", "send", "127.0.0.1", "9", "--send", "x", "--ttl", "0"],
        2,
        "ttl: `0` is not a whole number from 1 to 255",
    ),
    (
        &[
            "udp",
            "send",
            "127.0.0.1",
            "9",
            "--send",
            "x",
            "--interface",
            "nosuch0",
        ],
        2,
        "interface: `nosuch0` is not an interface of this machine (give its name, like eth0, its number, or an IPv4 address of it)",
    ),
    (
        &["udp", "send", "127.0.0.1", "70000", "--send", "x"],
        2,
        "port: 70000 is not a port number (0 to 65535)",
    ),
    (
        &["udp", "listen", "--join", "10.0.0.1", "--port", "0"],
        2,
        "join: 10.0.0.1 is not a multicast group (224.0.0.0/4 or ff00::/8)",
    ),
    (
        &["udp", "listen", "--join", "group", "--port", "0"],
        2,
        "join: `group` is not a multicast group address",
    ),
    (
        &[
            "udp",
            "listen",
            "--join",
            "239.1.2.3",
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
        ],
        2,
        "bind: a socket bound to 127.0.0.1 never sees a group's datagrams: bind 0.0.0.0 (or :: for IPv6 groups)",
    ),
    (
        &["udp", "send", "127.0.0.1:5005", "5006", "--send", "x"],
        2,
        "port: given twice: `127.0.0.1:5005` has one already",
    ),
    (
        &["udp", "send", "127.0.0.1", "0", "--send", "x"],
        2,
        "port: 0 is not a port datagrams can be sent to",
    ),
    (
        &["connect", "127.0.0.1:80", "81"],
        2,
        "port: given twice: `127.0.0.1:80` has one already",
    ),
    (
        &["connect", "127.0.0.1", "80", "--tls", "--alpn", " , h2"],
        2,
        "alpn: `` cannot be a protocol name: give names of 1 to 255 bytes, separated by commas",
    ),
    (
        &["udp", "listen", "--reply", ""],
        2,
        r"reply: is empty; give the text to answer with, such as --reply 'OK\n', or use --echo",
    ),
    (
        &["connect", "", "80"],
        2,
        "host: a host name or address is needed",
    ),
    (
        &["connect", "http://x", "80"],
        2,
        "host: `http://x` is a URL; give only the host, like example.com or 192.168.1.10",
    ),
    (
        &["connect", "a b", "80"],
        2,
        "host: `a b` is not a host name (it contains ' ')",
    ),
    (
        &["connect", "host/path", "80"],
        2,
        "host: `host/path` is not a host name (it contains '/')",
    ),
    (
        &["connect", "[::1", "80"],
        2,
        "host: `[::1` is not an IPv6 address in brackets, like [::1]",
    ),
    (
        &["connect", "[example.com]", "80"],
        2,
        "host: `[example.com]` is not an IPv6 address in brackets, like [::1]",
    ),
    (
        &["connect", "127.0.0.1", "65536"],
        2,
        "port: 65536 is not a port number (0 to 65535)",
    ),
    (
        &["connect", "127.0.0.1", "port"],
        2,
        "port: `port` is not a port number (0 to 65535)",
    ),
    (
        &["connect", "127.0.0.1", "80", "--hex", "zz"],
        2,
        "hex: `z` is not a hex digit (0-9, a-f) at column 1",
    ),
    (
        &["connect", "127.0.0.1", "80", "--hex", "0x"],
        2,
        "hex: `0x` without digits at column 1",
    ),
    (
        &["connect", "127.0.0.1", "80", "--hex", "4"],
        2,
        "hex: odd number of hex digits in `4` (each byte is two digits, like `0a`) at column 1",
    ),
    (
        &["connect", "127.0.0.1", "80", "--hex", "48 6"],
        2,
        "hex: odd number of hex digits in `6` (each byte is two digits, like `0a`) at column 4",
    ),
    (
        &["connect", "127.0.0.1", "80", "--send", r"\x4"],
        2,
        r"send: `\x` needs exactly two hex digits, like `\x0a` at column 1",
    ),
    (
        &["connect", "127.0.0.1", "80", "--send", r"tab\T"],
        2,
        r"send: unknown escape `\T` (use \r \n \t \0 \\ or \xNN; `\\` for a backslash) at column 4",
    ),
    (
        &["connect", "127.0.0.1", "80", "--timeout", "0"],
        2,
        "timeout: `0` is not a number of seconds (more than 0, at most 86400)",
    ),
    (
        &["connect", "127.0.0.1", "80", "--timeout", "abc"],
        2,
        "timeout: `abc` is not a number of seconds (more than 0, at most 86400)",
    ),
    (
        &["connect", "127.0.0.1", "80", "--timeout", "1e9"],
        2,
        "timeout: `1e9` is not a number of seconds (more than 0, at most 86400)",
    ),
    (
        &["connect", "127.0.0.1", "80", "--wait", "-5"],
        2,
        "wait: `-5` is not a number of milliseconds (0 to 86400000)",
    ),
    (
        &[
            "connect",
            "127.0.0.1",
            "80",
            "--tls",
            "--cacert",
            "/nonexistent.pem",
        ],
        2,
        "cacert: cannot read /nonexistent.pem: No such file or directory (os error 2)",
    ),
    (
        &["http", "htp://x"],
        3,
        "URL htp://x: the scheme `htp` is not supported; use http:// or https://",
    ),
    (
        &["http", "http://"],
        3,
        "URL http://: not a valid URL (empty host)",
    ),
    (
        &["http", "http://a b/"],
        3,
        "URL http://a b/: not a valid URL (invalid international domain name)",
    ),
    (
        &["http", "example.com"],
        3,
        "URL example.com: no scheme; did you mean http://example.com ?",
    ),
    (
        &["http", ""],
        3,
        r#"URL "": a URL is needed, like http://127.0.0.1:8080/"#,
    ),
    (
        &["http", "ftp://example.com/"],
        3,
        "URL ftp://example.com/: the scheme `ftp` is not supported; use http:// or https://",
    ),
    (
        &["http", "http://[::1/"],
        3,
        "URL http://[::1/: not a valid URL (invalid IPv6 address)",
    ),
    (
        &["http", "http://example.com:99999/"],
        3,
        "URL http://example.com:99999/: not a valid URL (invalid port number)",
    ),
    (
        &["http", "http://127.0.0.1:9/", "-H", "NoColon"],
        2,
        "header: `NoColon` has no colon; write it as Name: value",
    ),
    (
        &["http", "http://127.0.0.1:9/", "-H", ": value"],
        2,
        "header: `: value` has no name before the colon",
    ),
    (
        &["http", "http://127.0.0.1:9/", "-H", "Bad Name: v"],
        2,
        "header: `Bad Name` is not a header name (letters, digits and - only)",
    ),
    (
        &["http", "http://127.0.0.1:9/", "-H", "X-Name: café"],
        2,
        "header: the value of X-Name has characters outside ASCII, which HTTP headers cannot carry",
    ),
    (
        &["http", "http://127.0.0.1:9/", "--json", "{"],
        2,
        "json: invalid JSON at line 1 column 1: EOF while parsing an object",
    ),
    (
        &["http", "http://127.0.0.1:9/", "--json", r#"{"a": 1,}"#],
        2,
        "json: invalid JSON at line 1 column 9: trailing comma",
    ),
    (
        &["http", "http://127.0.0.1:9/", "--json", "[1, 2"],
        2,
        "json: invalid JSON at line 1 column 5: EOF while parsing a list",
    ),
    (
        &[
            "http",
            "http://127.0.0.1:9/",
            "-d",
            "@/nonexistent/missing-file",
        ],
        2,
        "data: cannot read /nonexistent/missing-file: no such file",
    ),
    (
        &[
            "http",
            "http://127.0.0.1:9/",
            "--json",
            "@/nonexistent/missing.json",
        ],
        2,
        "json: cannot read /nonexistent/missing.json: no such file",
    ),
    (
        &["http", "http://127.0.0.1:9/", "-x", "http://:3128"],
        2,
        "proxy: `http://:3128`: not a proxy URL (empty host)",
    ),
    (
        &[
            "http",
            "http://127.0.0.1:9/",
            "-x",
            "socks5://127.0.0.1:1080",
        ],
        2,
        "proxy: `socks5://127.0.0.1:1080`: socks5:// proxies are not supported; use an http:// proxy",
    ),
    (
        &["http", "http://127.0.0.1:9/", "-F", "novalue"],
        2,
        "form: `novalue` is not a form field; write it as name=value or name=@file",
    ),
    (
        &[
            "http",
            "http://127.0.0.1:9/",
            "-F",
            "upload=@/nonexistent/file.bin",
        ],
        2,
        "form: cannot read /nonexistent/file.bin: no such file",
    ),
    (
        &["http", "http://127.0.0.1:9/", "-w", "%{nope}"],
        2,
        "write-out: unknown variable %{nope}; known: http_code, response_code, http_version, time_namelookup, time_connect, time_appconnect, time_pretransfer, time_starttransfer, time_total, size_download, speed_download, url_effective, num_redirects, content_type, remote_ip, remote_port",
    ),
    (
        &["http", "http://127.0.0.1:9/", "-o", "/nonexistent/out.bin"],
        2,
        "output: the folder /nonexistent does not exist",
    ),
    (
        &["http", "http://127.0.0.1:9/", "-O"],
        2,
        "remote-name: http://127.0.0.1:9/ has no file name to save as; give one with -o FILE",
    ),
    (
        &["http", "http://127.0.0.1:9/", "--retry", "-1"],
        2,
        "retry: `-1` is not a count (0 or more)",
    ),
    (
        &["http", "http://127.0.0.1:9/", "--timeout", "-1"],
        2,
        "timeout: `-1` is not a number of seconds (more than 0, at most 86400)",
    ),
    (
        &["http", "http://127.0.0.1:9/", "--max-redirects", "-3"],
        2,
        "max-redirects: `-3` is not a number of redirects (0 or more)",
    ),
    (
        &["http", "http://127.0.0.1:9/", "--repeat", "0"],
        2,
        "repeat: `0` is not a count (1 or more)",
    ),
    (
        &["http", "FETCH", "http://127.0.0.1:9/"],
        2,
        "method: `FETCH` is not one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS",
    ),
    (
        &[
            "http",
            "http://127.0.0.1:9/",
            "--cacert",
            "/nonexistent.pem",
        ],
        2,
        "cacert: cannot read /nonexistent.pem: No such file or directory (os error 2)",
    ),
];

#[test]
fn every_bad_command_line_names_its_field_and_starts_nothing() {
    assert!(COMMAND_LINE.len() >= 40);
    for (args, code, message) in COMMAND_LINE {
        let (exit, stdout, stderr) = run_netdeck(args);
        let mut lines = stderr.lines();
        assert_eq!(
            lines.next(),
            Some(format!("netdeck: {message}").as_str()),
            "{args:?}"
        );
        assert!(
            lines.next().is_some_and(|hint| hint.starts_with("hint: ")),
            "{args:?}: {stderr}"
        );
        assert_eq!(exit, *code, "{args:?}: {stderr}");
        assert!(
            stdout.is_empty(),
            "{args:?} started something: {}",
            String::from_utf8_lossy(&stdout)
        );
    }
}

/// The checks behind the GUI's fields: the variant, the field it is shown under, the code.
#[test]
fn the_fields_checks_return_the_exact_error() {
    fn field_of(
        result: Result<impl std::fmt::Debug, NetError>,
    ) -> (Option<&'static str>, u8, bool) {
        let error = result.expect_err("refused");
        let input = matches!(
            error,
            NetError::InvalidInput { .. } | NetError::Payload { .. } | NetError::BadUrl { .. }
        );
        (error.field(), error.exit_code(), input)
    }
    let cases = [
        (
            field_of(parse_port("port", "65536")),
            (Some("port"), 2, true),
        ),
        (
            field_of(parse_bind_ip("bind", "1.2.3")),
            (Some("bind"), 2, true),
        ),
        (
            field_of(parse_max_clients("max-clients", "1.5")),
            (Some("max-clients"), 2, true),
        ),
        (
            field_of(parse_host("host", "[fe80::1")),
            (Some("host"), 2, true),
        ),
        (
            field_of(parse_seconds("timeout", "NaN")),
            (Some("timeout"), 2, true),
        ),
        (
            field_of(parse_duration_ms("wait", "1.5")),
            (Some("wait"), 2, true),
        ),
        (
            field_of(parse_url("http//missing-colon")),
            (Some("url"), 3, true),
        ),
        (
            field_of(parse_header("X-A\r\n: b")),
            (Some("header"), 2, true),
        ),
        (field_of(check_json("{\"open\": ")), (Some("json"), 2, true)),
        (field_of(parse_method("get it")), (Some("method"), 2, true)),
    ];
    for (found, expected) in cases {
        assert_eq!(found, expected);
    }
    let payload = encode("0x4", Encoding::Hex, LineEnding::None).unwrap_err();
    assert_eq!(
        (payload.column, payload.problem.contains("odd number")),
        (1, true)
    );
}
