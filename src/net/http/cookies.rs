//! The cookies of one HTTP session: kept from `Set-Cookie`, sent back by domain, path and
//! `Secure`, so a cookie set on a redirect goes with the next hop. Read and written in curl's
//! Netscape format (`-b FILE`, `-c FILE`).

use std::time::{SystemTime, UNIX_EPOCH};

use surf::Url;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cookie {
    pub name: String,
    pub value: String,
    /// Lower-case, without a leading dot.
    pub domain: String,
    /// Only the exact host (no `Domain` attribute), not its subdomains.
    pub host_only: bool,
    pub path: String,
    pub secure: bool,
    pub http_only: bool,
    /// Seconds since 1970; `None` for a session cookie.
    pub expires: Option<u64>,
}

#[derive(Clone, Debug, Default)]
pub struct CookieJar {
    cookies: Vec<Cookie>,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl CookieJar {
    pub fn clear(&mut self) {
        self.cookies.clear();
    }

    /// A `Set-Cookie` value received from `url`. One for another domain is ignored.
    pub fn store(&mut self, url: &Url, header: &str) {
        let Some(cookie) = parse_set_cookie(url, header) else {
            return;
        };
        self.cookies.retain(|c| {
            !(c.name == cookie.name && c.domain == cookie.domain && c.path == cookie.path)
        });
        if cookie.expires.is_none_or(|expires| expires > now()) {
            self.cookies.push(cookie);
        }
    }

    /// The `Cookie` header for a request to `url`, if any cookie applies.
    pub fn header_for(&self, url: &Url) -> Option<String> {
        let host = url
            .host_str()?
            .trim_matches(['[', ']'])
            .to_ascii_lowercase();
        let path = url.path();
        let now = now();
        let mut matching: Vec<&Cookie> = self
            .cookies
            .iter()
            .filter(|c| c.expires.is_none_or(|expires| expires > now))
            .filter(|c| !c.secure || url.scheme() == "https")
            .filter(|c| domain_matches(c, &host) && path_matches(&c.path, path))
            .collect();
        // Longer paths first, as browsers send them.
        matching.sort_by_key(|c| std::cmp::Reverse(c.path.len()));
        let pairs: Vec<String> = matching
            .iter()
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    /// Cookies from a file in Netscape format (curl's `-b FILE`, `-c FILE`).
    pub fn read_netscape(&mut self, text: &str) {
        for line in text.lines() {
            let (line, http_only) = match line.strip_prefix("#HttpOnly_") {
                Some(rest) => (rest, true),
                None => (line, false),
            };
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            let [domain, subdomains, path, secure, expires, name, value] = fields[..] else {
                continue;
            };
            let expires = expires.parse::<u64>().ok().filter(|e| *e != 0);
            self.cookies.push(Cookie {
                name: name.into(),
                value: value.into(),
                domain: domain.trim_start_matches('.').to_ascii_lowercase(),
                host_only: subdomains != "TRUE",
                path: path.into(),
                secure: secure == "TRUE",
                http_only,
                expires,
            });
        }
    }

    pub fn to_netscape(&self) -> String {
        let mut text = String::from(
            "# Netscape HTTP Cookie File\n# Written by netdeck; the format curl reads and writes.\n\n",
        );
        for c in &self.cookies {
            let domain = if c.host_only {
                c.domain.clone()
            } else {
                format!(".{}", c.domain)
            };
            text.push_str(&format!(
                "{}{domain}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                if c.http_only { "#HttpOnly_" } else { "" },
                if c.host_only { "FALSE" } else { "TRUE" },
                c.path,
                if c.secure { "TRUE" } else { "FALSE" },
                c.expires.unwrap_or(0),
                c.name,
                c.value
            ));
        }
        text
    }
}

fn domain_matches(cookie: &Cookie, host: &str) -> bool {
    host == cookie.domain
        || (!cookie.host_only
            && host.ends_with(&cookie.domain)
            && host[..host.len() - cookie.domain.len()].ends_with('.'))
}

fn path_matches(cookie_path: &str, path: &str) -> bool {
    path == cookie_path
        || (path.starts_with(cookie_path)
            && (cookie_path.ends_with('/') || path[cookie_path.len()..].starts_with('/')))
}

fn parse_set_cookie(url: &Url, header: &str) -> Option<Cookie> {
    let mut parts = header.split(';');
    let (name, value) = parts.next()?.split_once('=')?;
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let host = url
        .host_str()?
        .trim_matches(['[', ']'])
        .to_ascii_lowercase();
    // The default path: the request's path up to its last `/`.
    let default_path = match url.path().rfind('/') {
        Some(0) | None => "/".to_string(),
        Some(at) => url.path()[..at].to_string(),
    };
    let mut cookie = Cookie {
        name: name.to_string(),
        value: value.trim().to_string(),
        domain: host.clone(),
        host_only: true,
        path: default_path,
        secure: false,
        http_only: false,
        expires: None,
    };
    let mut max_age = None;
    for attribute in parts {
        let (key, value) = match attribute.split_once('=') {
            Some((key, value)) => (key.trim(), value.trim()),
            None => (attribute.trim(), ""),
        };
        match key.to_ascii_lowercase().as_str() {
            "domain" if !value.is_empty() => {
                let domain = value.trim_start_matches('.').to_ascii_lowercase();
                // A server may set cookies for itself or a parent domain, not for others.
                let own = host == domain || host.ends_with(&format!(".{domain}"));
                if !own {
                    return None;
                }
                cookie.domain = domain;
                cookie.host_only = false;
            }
            "path" if value.starts_with('/') => cookie.path = value.to_string(),
            "secure" => cookie.secure = true,
            "httponly" => cookie.http_only = true,
            "max-age" => max_age = value.parse::<i64>().ok(),
            "expires" if cookie.expires.is_none() => cookie.expires = parse_http_date(value),
            _ => {}
        }
    }
    // Max-Age wins over Expires; 0 or less deletes the cookie.
    if let Some(seconds) = max_age {
        cookie.expires = Some(if seconds <= 0 {
            0
        } else {
            now().saturating_add(seconds as u64)
        });
    }
    Some(cookie)
}

/// `Wed, 21 Oct 2015 07:28:00 GMT` (and the `21-Oct-2015` spelling) as seconds since 1970.
fn parse_http_date(text: &str) -> Option<u64> {
    let words: Vec<&str> = text
        .split([' ', ',', '-'])
        .filter(|word| !word.is_empty())
        .collect();
    let (mut day, mut month, mut year, mut time) = (None, None, None, None);
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    for word in words {
        let lower = word.to_ascii_lowercase();
        if word.contains(':') {
            let hms: Vec<u64> = word.split(':').filter_map(|n| n.parse().ok()).collect();
            if let [hours @ 0..=23, minutes @ 0..=59, seconds @ 0..=60] = hms[..] {
                time = Some(hours * 3600 + minutes * 60 + seconds);
            }
        } else if let Some(index) = MONTHS.iter().position(|m| lower.starts_with(m)) {
            month = Some(index as u64 + 1);
        } else if let Ok(number) = word.parse::<u64>() {
            if day.is_none() && number <= 31 && word.len() <= 2 {
                day = Some(number);
            } else {
                year = Some(if number < 70 {
                    2000 + number
                } else if number < 100 {
                    1900 + number
                } else {
                    number
                });
            }
        }
    }
    let (day, month, year, time) = (day?, month?, year?, time?);
    // Dates a browser keeps: anything else is not a date, and could overflow below.
    if !(1..=31).contains(&day) || !(1601..=9999).contains(&year) {
        return None;
    }
    // Days from 1970-01-01 to the date (the civil-from-days algorithm, run backwards).
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let year_of_era = y - era * 400;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = (era * 146_097 + day_of_era).checked_sub(719_468)?;
    Some(days * 86_400 + time)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn http_dates_in_both_spellings() {
        assert_eq!(
            parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(1_445_412_480)
        );
        assert_eq!(
            parse_http_date("Wed, 21-Oct-2015 07:28:00 GMT"),
            Some(1_445_412_480)
        );
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse_http_date("soon"), None);
        // Found by fuzzing: numbers that overflowed the arithmetic.
        assert_eq!(
            parse_http_date("Wed, 21 Oct 2015 99999999999999999:00:00 GMT"),
            None
        );
        assert_eq!(
            parse_http_date("Wed, 21 Oct 99999999999999 07:28:00 GMT"),
            None
        );
    }

    #[test]
    fn cookies_go_back_by_domain_path_and_scheme() {
        let mut jar = CookieJar::default();
        jar.store(
            &url("http://lab.example/login"),
            "session=abc; Path=/; HttpOnly",
        );
        jar.store(&url("http://lab.example/a/b"), "deep=1");
        jar.store(
            &url("https://lab.example/"),
            "safe=2; Secure; Domain=example",
        );
        jar.store(
            &url("http://lab.example/"),
            "other=3; Domain=elsewhere.example",
        );
        assert_eq!(
            jar.header_for(&url("http://lab.example/a/x")).as_deref(),
            Some("deep=1; session=abc")
        );
        assert_eq!(
            jar.header_for(&url("http://lab.example/")).as_deref(),
            Some("session=abc")
        );
        assert_eq!(
            jar.header_for(&url("https://www.example/")).as_deref(),
            Some("safe=2")
        );
        assert_eq!(jar.header_for(&url("http://www.example/")), None);
        // Max-Age=0 deletes.
        jar.store(
            &url("http://lab.example/"),
            "session=gone; Path=/; Max-Age=0",
        );
        assert_eq!(jar.header_for(&url("http://lab.example/")), None);
    }

    #[test]
    fn the_netscape_format_round_trips() {
        let mut jar = CookieJar::default();
        jar.store(&url("http://lab.example/"), "a=1; Path=/; HttpOnly");
        jar.store(
            &url("https://lab.example/"),
            "b=2; Domain=lab.example; Secure; Max-Age=600",
        );
        let mut read = CookieJar::default();
        read.read_netscape(&jar.to_netscape());
        assert_eq!(read.cookies, jar.cookies);
    }
}
