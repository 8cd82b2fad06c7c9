//! A Microsoft Graph emulator for tandem's tests: one Outlook mailbox's contacts and To Do
//! tasks — contact folders and lists, delta rounds, change keys and `If-Match`, immutable ids,
//! `$batch`, Graph's error envelope, throttling — over real HTTP on 127.0.0.1, following Graph's
//! documentation (each behaviour names its page; `tests/conformance.rs` checks them). Events
//! and sign-in come with the Outlook connector that needs them.
//!
//! A test drives the mailbox two ways: through the API, as a client; and through
//! [`GraphHandle`], as the Outlook user (editing, moving, deleting contacts) or as the service
//! (throttling, evicting delta tokens, slow answers).

mod batch;
mod delta;
mod error;
mod http;
mod mailbox;

pub use error::GraphError;
pub use mailbox::{Folder, IdType, Item, Kind, Mailbox};

use chrono::{DateTime, Utc};
use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// The mailbox's limit of requests in flight (throttling-limits.md, Outlook service limits).
pub const MAILBOX_CONCURRENCY: usize = 4;

/// What the service does to the next requests.
#[derive(Debug, Default)]
pub struct Faults {
    /// The next requests answer 429, each with its `Retry-After` seconds or none.
    throttle: VecDeque<Option<u64>>,
    /// Empty pages (with a next link) at the start of every delta round.
    pub empty_pages: usize,
}

impl Faults {
    fn take_throttle(&mut self) -> Option<Option<u64>> {
        self.throttle.pop_front()
    }
}

pub(crate) struct Shared {
    mailbox: Mutex<Mailbox>,
    tokens: Mutex<HashSet<String>>,
    faults: Mutex<Faults>,
    in_flight: Arc<tokio::sync::Semaphore>,
    /// While true, admitted requests wait before they are answered.
    held: tokio::sync::watch::Sender<bool>,
    clock: Box<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    base_url: String,
}

/// A poisoned lock only means a test panicked while holding it; the data is still usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn lock_mailbox(&self) -> MutexGuard<'_, Mailbox> {
        lock(&self.mailbox)
    }
    fn lock_tokens(&self) -> MutexGuard<'_, HashSet<String>> {
        lock(&self.tokens)
    }
    fn lock_faults(&self) -> MutexGuard<'_, Faults> {
        lock(&self.faults)
    }
}

/// A running emulator; it stops when the handle is dropped.
pub struct GraphHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _server: tokio::task::JoinHandle<()>,
}

impl Drop for GraphHandle {
    fn drop(&mut self) {
        self._server.abort();
    }
}

pub struct GraphEmulator;

impl GraphEmulator {
    /// Start on 127.0.0.1 on a port the system picks, with an empty mailbox (its "Contacts"
    /// folder) and the wall clock.
    pub async fn start() -> std::io::Result<GraphHandle> {
        GraphEmulator::start_with_clock(Box::new(Utc::now)).await
    }

    pub async fn start_with_clock(
        clock: Box<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    ) -> std::io::Result<GraphHandle> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            mailbox: Mutex::new(Mailbox::new()),
            tokens: Mutex::new(HashSet::new()),
            faults: Mutex::new(Faults::default()),
            in_flight: Arc::new(tokio::sync::Semaphore::new(MAILBOX_CONCURRENCY)),
            held: tokio::sync::watch::Sender::new(false),
            clock,
            base_url: format!("http://{addr}"),
        });
        let app = http::router(shared.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!("the Graph emulator stopped: {e}");
            }
        });
        Ok(GraphHandle {
            shared,
            addr,
            _server: server,
        })
    }
}

impl GraphHandle {
    /// `http://127.0.0.1:PORT`; the API is under `/v1.0`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// An access token the API accepts (as the identity platform would issue one).
    pub fn issue_token(&self) -> String {
        let mut tokens = self.shared.lock_tokens();
        let token = format!("eyJ0eXAiOiJKV1QiLCJ-emulated-{:04}", tokens.len() + 1);
        tokens.insert(token.clone());
        token
    }

    /// Every token stops working, as after its lifetime.
    pub fn expire_tokens(&self) {
        self.shared.lock_tokens().clear();
    }

    /// The mailbox as the Outlook user changes it (or a test reads it).
    pub fn mailbox<R>(&self, f: impl FnOnce(&mut Mailbox) -> R) -> R {
        f(&mut self.shared.lock_mailbox())
    }

    /// Now, on the emulator's clock.
    pub fn now(&self) -> DateTime<Utc> {
        (self.shared.clock)()
    }

    /// The next `count` requests answer 429, with `Retry-After` seconds or none.
    pub fn throttle(&self, count: usize, retry_after: Option<u64>) {
        let mut faults = self.shared.lock_faults();
        faults
            .throttle
            .extend(std::iter::repeat_n(retry_after, count));
    }

    /// Admitted requests wait, in flight, until [`GraphHandle::release`] (so a test reaches
    /// the limit of 4 in flight without depending on timing).
    pub fn hold(&self) {
        self.shared.held.send_replace(true);
    }

    pub fn release(&self) {
        self.shared.held.send_replace(false);
    }

    /// Every delta round begins with this many empty pages.
    pub fn empty_pages(&self, count: usize) {
        self.shared.lock_faults().empty_pages = count;
    }

    /// The service forgets every delta token given so far (their next round is a 410).
    pub fn evict_delta_tokens(&self) {
        let mut mailbox = self.shared.lock_mailbox();
        // Tokens given from now on read from a later position, so they are not evicted.
        mailbox.seq += 1;
        mailbox.evicted_before = mailbox.seq;
    }
}
