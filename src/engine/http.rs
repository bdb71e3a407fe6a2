//! HTTP exchanges as sessions: each request runs as its own task; exchanges with the same
//! settings share one kept-alive client, and every client shares one cookie jar.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use smol::{Executor, Task};

use super::Event;
use crate::net::h1::ResponseHead;
use crate::net::http::cookies::CookieJar;
use crate::net::http::proxy::ProxySettings;
use crate::net::http::{
    BodyPart, HttpAgent, HttpEvent, HttpOptions, HttpRequest, RequestBody, Watcher,
};
use crate::net::{EventSink, NetError};

/// Progress is reported at most once per this many body bytes.
const PROGRESS_STEP: u64 = 256 * 1024;

/// One request to make, and what to do with its body.
#[derive(Debug)]
pub struct HttpSpec {
    pub request: HttpRequest,
    pub settings: HttpSettings,
    /// The body is this file's content instead of the request's own.
    pub body_file: Option<PathBuf>,
    /// The whole body is also written here as it arrives.
    pub save_to: Option<PathBuf>,
}

/// The choices that shape the client an exchange runs on; exchanges with other settings get
/// another client (with the same cookies).
#[derive(Clone, Debug, PartialEq)]
pub struct HttpSettings {
    /// Accept any certificate (the user's explicit choice).
    pub insecure: bool,
    pub timeout: Duration,
    pub max_redirects: usize,
    pub compressed: bool,
    pub proxy: ProxySettings,
}

impl HttpSettings {
    fn options(&self) -> HttpOptions {
        let mut options = HttpOptions {
            timeout: self.timeout,
            max_redirects: self.max_redirects,
            compressed: self.compressed,
            proxy: self.proxy.clone(),
            ..HttpOptions::default()
        };
        options.connect_timeout = options.connect_timeout.min(self.timeout);
        options.tls.accept_invalid_certificates = self.insecure;
        options
    }
}

/// The kept-alive client of the last settings used, and the cookies every client shares
/// until the user clears them.
#[derive(Default)]
pub struct HttpClients {
    current: Option<(HttpSettings, Arc<HttpAgent>)>,
    cookies: Arc<Mutex<CookieJar>>,
}

impl HttpClients {
    pub fn clear_cookies(&self) {
        if let Ok(mut jar) = self.cookies.lock() {
            jar.clear();
        }
    }

    fn client(
        &mut self,
        settings: &HttpSettings,
        executor: &Arc<Executor<'static>>,
    ) -> Result<Arc<HttpAgent>, NetError> {
        if let Some((current, client)) = &self.current
            && current == settings
        {
            return Ok(client.clone());
        }
        let client = Arc::new(HttpAgent::with_cookies(
            settings.options(),
            self.cookies.clone(),
            executor,
        )?);
        self.current = Some((settings.clone(), client.clone()));
        Ok(client)
    }

    /// Starts the exchange; it reports `Done` (or, when closed first, the registry reports
    /// `Cancelled`).
    pub fn start(
        &mut self,
        spec: HttpSpec,
        executor: &Arc<Executor<'static>>,
        events: EventSink<Event>,
    ) -> Task<()> {
        let client = self.client(&spec.settings, executor);
        executor.spawn(async move {
            let result = match client {
                Ok(client) => exchange(spec, &client, &events).await,
                Err(error) => Err(error),
            };
            events.emit(HttpEvent::Done(Box::new(result))).await;
        })
    }
}

async fn exchange(
    spec: HttpSpec,
    client: &HttpAgent,
    events: &EventSink<Event>,
) -> Result<crate::net::http::HttpResponse, NetError> {
    let HttpSpec {
        mut request,
        body_file,
        save_to,
        ..
    } = spec;
    if let Some(path) = body_file {
        request.body = RequestBody(vec![BodyPart::File(path)]);
    }
    let watcher = Arc::new(BodyWatcher {
        events: events.clone(),
        reported: AtomicU64::new(0),
        save: save_to.map(|path| SavedBody {
            path,
            file: Mutex::new(None),
        }),
    });
    client.send(&request, Some(watcher)).await
}

/// The body saved to a file as it arrives; the file is made when the last answer's head is
/// in.
struct SavedBody {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

impl SavedBody {
    fn failed(&self, source: std::io::Error) -> NetError {
        NetError::WriteFailed {
            target: self.path.display().to_string(),
            source,
        }
    }
}

/// Tells the front-end how much of a body has arrived, at most once per `PROGRESS_STEP`,
/// without waiting: a slow window never slows a download. Saves the body too, when asked.
struct BodyWatcher {
    events: EventSink<Event>,
    reported: AtomicU64,
    save: Option<SavedBody>,
}

impl Watcher for BodyWatcher {
    fn answer_head(&self, _head: &ResponseHead, last: bool) -> Result<(), NetError> {
        if let (true, Some(save)) = (last, &self.save) {
            let file = std::fs::File::create(&save.path).map_err(|source| save.failed(source))?;
            *save.file.lock().unwrap_or_else(|p| p.into_inner()) = Some(file);
        }
        Ok(())
    }

    fn body(&self, bytes: &[u8], total: u64) -> Result<(), NetError> {
        if let Some(save) = &self.save
            && let Some(file) = save.file.lock().unwrap_or_else(|p| p.into_inner()).as_mut()
        {
            use std::io::Write;
            file.write_all(bytes)
                .map_err(|source| save.failed(source))?;
        }
        if total >= self.reported.load(Ordering::Relaxed) + PROGRESS_STEP {
            self.reported.store(total, Ordering::Relaxed);
            self.events.try_emit(HttpEvent::Progress(total));
        }
        Ok(())
    }
}
