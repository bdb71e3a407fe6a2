//! Redirects, followed by a surf middleware of our own.

use surf::Url;
use surf::http::Method;
use surf::middleware::{Middleware, Next};

use super::backend::ExchangeInfo;
use super::{Omitted, RequestBody, Upload, Watch, to_surf};
use crate::net::error::NetError;
use crate::net::h1;

/// The URLs redirected to, carried on the final response.
#[derive(Clone, Debug, Default)]
pub(super) struct RedirectChain(pub Vec<Url>);

/// Follows redirects: relative `Location`s resolved, 303 (and 301/302 after a POST) turned
/// into GET, 307/308 resent as they were; a loop or too many redirects is an error.
#[derive(Debug)]
pub(super) struct FollowRedirects {
    pub max: usize,
    pub allow_insecure: bool,
}

#[async_trait::async_trait]
impl Middleware for FollowRedirects {
    async fn handle(
        &self,
        mut request: surf::Request,
        client: surf::Client,
        next: Next<'_>,
    ) -> surf::Result<surf::Response> {
        let mut visited = vec![(request.method(), request.url().clone())];
        loop {
            let mut attempt = request.clone();
            carry_extensions(&request, &mut attempt);
            let mut response = next.run(attempt, client.clone()).await?;
            // As the server sent them: surf's copy leaves out a Location that is not ASCII,
            // and the backend, which decides whose body is the caller's, sees the real one.
            let head = &response
                .ext::<ExchangeInfo>()
                .expect("the backend describes every response")
                .head;
            let status = head.status;
            let location = h1::header(&head.headers, "location").map(|value| value.value_text());
            let Some(location) = location.filter(|_| follows(self.max, status, true)) else {
                let chain = visited[1..].iter().map(|(_, url)| url.clone()).collect();
                let http: &mut surf::http::Response = response.as_mut();
                http.ext_mut().insert(RedirectChain(chain));
                return Ok(response);
            };
            let from = request.url().clone();
            let bad_location = |detail: String| {
                to_surf(NetError::BadResponse {
                    host: from.host_str().unwrap_or("").to_string(),
                    detail,
                })
            };
            let target = from.join(&location).map_err(|error| {
                bad_location(format!(
                    "redirect to an invalid Location `{location}`: {error}"
                ))
            })?;
            if !matches!(target.scheme(), "http" | "https") {
                return Err(bad_location(format!(
                    "redirect to `{target}`: only http and https are followed"
                )));
            }
            if from.scheme() == "https" && target.scheme() == "http" && !self.allow_insecure {
                return Err(to_surf(NetError::InsecureRedirect {
                    from: from.to_string(),
                    to: target.to_string(),
                }));
            }
            let becomes_get = request.method() != Method::Head
                && (status == 303
                    || (matches!(status, 301 | 302) && request.method() == Method::Post));
            let method = if becomes_get {
                Method::Get
            } else {
                request.method()
            };
            // Post/Redirect/Get may come back to the same URL with another method.
            if visited.contains(&(method, target.clone())) {
                return Err(to_surf(NetError::RedirectLoop {
                    url: target.to_string(),
                }));
            }
            if visited.len() > self.max {
                return Err(to_surf(NetError::TooManyRedirects { limit: self.max }));
            }
            // Credentials are for the origin they were given to, as curl does.
            let same_origin = target.origin() == from.origin();
            let mut following = surf::Request::new(method, target.clone());
            for (name, values) in request.iter() {
                let dropped = match name.as_str() {
                    "content-type" | "content-length" => becomes_get,
                    "authorization" | "proxy-authorization" | "cookie" | "host" => !same_origin,
                    _ => false,
                };
                if !dropped {
                    following.append_header(name, values);
                }
            }
            carry_extensions(&request, &mut following);
            if becomes_get {
                following.set_ext(Upload(RequestBody::default()));
            }
            request = following;
            visited.push((method, target));
        }
    }
}

/// Cloning a request drops its extensions; the watcher and the omitted headers must reach
/// the backend.
fn carry_extensions(from: &surf::Request, to: &mut surf::Request) {
    if let Some(watch) = from.ext::<Watch>().cloned() {
        to.set_ext(watch);
    }
    if let Some(omitted) = from.ext::<Omitted>().cloned() {
        to.set_ext(omitted);
    }
    if let Some(upload) = from.ext::<Upload>().cloned() {
        to.set_ext(upload);
    }
}

/// Whether an answer with this status (and a `Location`, or not) is a redirect to follow.
/// The backend asks too: a followed redirect's body is not the caller's.
pub(super) fn follows(max_redirects: usize, status: u16, has_location: bool) -> bool {
    max_redirects > 0 && has_location && matches!(status, 301 | 302 | 303 | 307 | 308)
}
