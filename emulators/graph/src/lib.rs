//! A Microsoft Graph emulator for tandem's tests: one Outlook mailbox's contacts, calendar
//! events and To Do tasks — contact folders and lists, the default calendar with recurring
//! series, delta rounds (a folder's, and the calendar view's), change keys and `If-Match`,
//! immutable ids, `$batch`, Graph's error envelope, throttling — and the Microsoft identity
//! platform's sign-in for a desktop app (authorization code with PKCE, refresh tokens, device
//! code), over real HTTP on 127.0.0.1, following the documentation (each behaviour names its
//! page; the tests under `tests/` check them).
//!
//! A test drives the mailbox two ways: through the API, as a client; and through
//! [`GraphHandle`], as the Outlook user (editing, moving, deleting contacts; moving or
//! cancelling one occurrence of a series; approving a device code sign-in) or as the service
//! (throttling, evicting delta tokens, revoking refresh tokens, slow answers).
//!
//! Paths: the API under `/v1.0` (`/me/contactFolders…`, `/me/todo/lists…`, `/me/calendars`,
//! `/me/events…`, `/me/calendarView…`, `/$batch`); sign-in under
//! `/{tenant}/oauth2/v2.0/{authorize,token,devicecode}`.

mod batch;
mod calendar;
mod delta;
mod error;
mod event_delta;
mod events;
mod events_http;
mod grants;
mod http;
mod identity;
mod mailbox;
mod seed;
mod signin;
mod timezone;

pub use error::GraphError;
pub use events::{EventType, Exception, Instance, Series, Target};
pub use identity::{DEFAULT_CLIENT_ID, IdentityError};
pub use mailbox::{Folder, IdType, Item, Kind, Mailbox};

use chrono::{DateTime, Utc};
use std::collections::VecDeque;
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
    /// The user's edit that lands just before the next client write to that item: a race a
    /// client must lose gracefully (its `If-Match` is stale by then).
    race: Option<(String, serde_json::Map<String, serde_json::Value>)>,
    /// The next `$batch` answers its request at this position with this status, without
    /// running it (a partial failure: the other requests run).
    batch_failure: Option<(usize, u16)>,
}

impl Faults {
    /// The partial failure staged for the next batch, if one is.
    pub(crate) fn take_batch_failure(&mut self) -> Option<(usize, u16)> {
        self.batch_failure.take()
    }

    /// The user's edit waiting for a client write to `id`, if one is.
    fn take_race(&mut self, id: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
        match &self.race {
            Some((on, _)) if on == id => self.race.take().map(|(_, body)| body),
            _ => None,
        }
    }

    fn take_throttle(&mut self) -> Option<Option<u64>> {
        self.throttle.pop_front()
    }
}

pub(crate) struct Shared {
    mailbox: Mutex<Mailbox>,
    tokens: Mutex<grants::Tokens>,
    identity: Mutex<identity::Identity>,
    faults: Mutex<Faults>,
    in_flight: Arc<tokio::sync::Semaphore>,
    /// While true, admitted requests wait before they are answered.
    held: tokio::sync::watch::Sender<bool>,
    /// While true, the answers of writes wait after the write was made (an answer lost on its
    /// way, as a client killed or timed out mid-call sees it).
    answers_held: tokio::sync::watch::Sender<bool>,
    /// Requests received, and write answers waiting now.
    requests: std::sync::atomic::AtomicU64,
    answers_waiting: std::sync::atomic::AtomicU64,
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
    fn lock_tokens(&self) -> MutexGuard<'_, grants::Tokens> {
        lock(&self.tokens)
    }
    fn lock_identity(&self) -> MutexGuard<'_, identity::Identity> {
        lock(&self.identity)
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

/// Starts emulators.
pub struct GraphEmulator;

impl GraphEmulator {
    /// Start on 127.0.0.1 on a port the system picks, with an empty mailbox (its "Contacts"
    /// folder, "Tasks" list and "Calendar"), [`DEFAULT_CLIENT_ID`] registered, and the wall
    /// clock.
    pub async fn start() -> std::io::Result<GraphHandle> {
        GraphEmulator::start_with_clock(Box::new(Utc::now)).await
    }

    /// Start with `clock` as the emulator's now: what expires (access tokens, authorization
    /// and device codes, refresh tokens) and the times items are stamped with follow it, so a
    /// test moves time without sleeping.
    pub async fn start_with_clock(
        clock: Box<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    ) -> std::io::Result<GraphHandle> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            mailbox: Mutex::new(Mailbox::new()),
            tokens: Mutex::new(grants::Tokens::default()),
            identity: Mutex::new(identity::Identity::default()),
            faults: Mutex::new(Faults::default()),
            in_flight: Arc::new(tokio::sync::Semaphore::new(MAILBOX_CONCURRENCY)),
            held: tokio::sync::watch::Sender::new(false),
            answers_held: tokio::sync::watch::Sender::new(false),
            requests: std::sync::atomic::AtomicU64::new(0),
            answers_waiting: std::sync::atomic::AtomicU64::new(0),
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
    /// `http://127.0.0.1:PORT`; the API is under `/v1.0`, sign-in under `/{tenant}/oauth2/v2.0`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The identity platform's endpoints for `tenant` (`common`, `organizations`, a tenant
    /// id: all the same here): `{authority}/authorize`, `/token`, `/devicecode`.
    pub fn authority(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0", self.base_url())
    }

    /// An access token the API accepts for everything, until [`GraphHandle::expire_tokens`]
    /// (a test that is not about sign-in needs no more).
    pub fn issue_token(&self) -> String {
        self.shared.lock_tokens().issue(grants::Grant::everything())
    }

    /// An access token with only these delegated permissions (`Contacts.Read`,
    /// `Calendars.ReadWrite`, …, with or without the `https://graph.microsoft.com/` prefix),
    /// as the identity platform issues one for a sign-in that asked for them; it lasts as
    /// long as one, an hour of the emulator's clock.
    pub fn issue_token_with_scopes(&self, scopes: &[&str]) -> String {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let expires = self.now() + chrono::Duration::seconds(identity::ACCESS_TOKEN_SECONDS);
        self.shared.lock_tokens().issue(grants::Grant::scoped(
            grants::permissions(&scopes),
            Some(expires),
        ))
    }

    /// Every access token stops working, as after its lifetime.
    pub fn expire_tokens(&self) {
        self.shared.lock_tokens().clear();
    }

    /// The sign-in endpoints accept this client id too (an app registration of the tenant).
    pub fn register_client(&self, client_id: &str) {
        self.shared.lock_identity().register_client(client_id);
    }

    /// The user opens the verification page, enters `user_code` and approves the sign-in: the
    /// next poll of the token endpoint with its device code gets the tokens.
    pub fn approve_device_code(&self, user_code: &str) -> Result<(), IdentityError> {
        self.shared.lock_identity().decide(user_code, true)
    }

    /// The user declines the sign-in: the next poll answers `authorization_declined`.
    pub fn decline_device_code(&self, user_code: &str) -> Result<(), IdentityError> {
        self.shared.lock_identity().decide(user_code, false)
    }

    /// The polling `interval` the device code endpoint asks for from now on (5 seconds by
    /// default; 0 lets a test's client poll without waiting).
    pub fn device_code_interval(&self, seconds: u64) {
        self.shared.lock_identity().interval = seconds;
    }

    /// A refresh token used once is refused from then on (the platform lets it live on, as
    /// documented): a client that does not keep the newest fails at once.
    pub fn rotate_refresh_tokens_strictly(&self) {
        self.shared.lock_identity().strict_rotation = true;
    }

    /// Every refresh token stops working (`invalid_grant`, AADSTS50173), as when the user's
    /// sessions are revoked; the client must sign in again.
    pub fn revoke_refresh_tokens(&self) {
        self.shared.lock_identity().revoke_refresh_tokens();
    }

    /// The mailbox as the Outlook user changes it (or a test reads it): `move_item` for a
    /// contact or task, `update_event`/`delete_event`, `move_occurrence`/`cancel_occurrence`
    /// for one occurrence of a series, `event_instances` to find them.
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

    /// Held requests are answered.
    pub fn release(&self) {
        self.shared.held.send_replace(false);
    }

    /// Writes (POST, PATCH, DELETE, `$batch`) are carried out but their answers wait until
    /// [`GraphHandle::release_answers`]: a client that gives up on them, or dies, never learns
    /// that the write was made.
    pub fn hold_answers(&self) {
        self.shared.answers_held.send_replace(true);
    }

    pub fn release_answers(&self) {
        self.shared.answers_held.send_replace(false);
    }

    /// Write answers waiting now.
    pub fn answers_waiting(&self) -> u64 {
        self.shared
            .answers_waiting
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Requests received so far (sign-in included).
    pub fn requests(&self) -> u64 {
        self.shared
            .requests
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The Outlook user saves `body` on item `id` just before the next client write to it
    /// arrives: that write's `If-Match` names the version the client read, which is no longer
    /// current (412, errors.md).
    pub fn edit_before_next_write(&self, id: &str, body: serde_json::Value) {
        let body = body.as_object().cloned().unwrap_or_default();
        self.shared.lock_faults().race = Some((id.to_string(), body));
    }

    /// The next `$batch` answers its request number `position` (from 0) with `status` — 500
    /// (`generalException`) or 503 (`serviceNotAvailable`) — without running it; the others
    /// run (json-batching.md: each request succeeds or fails on its own).
    pub fn fail_in_next_batch(&self, position: usize, status: u16) {
        self.shared.lock_faults().batch_failure = Some((position, status));
    }

    /// Every delta round begins with this many empty pages.
    pub fn empty_pages(&self, count: usize) {
        self.shared.lock_faults().empty_pages = count;
    }

    /// The service forgets every delta token given so far, a folder's and the calendar
    /// view's (their next round is a 410).
    pub fn evict_delta_tokens(&self) {
        let mut mailbox = self.shared.lock_mailbox();
        // Tokens given from now on read from a later position, so they are not evicted.
        mailbox.seq += 1;
        mailbox.evicted_before = mailbox.seq;
        mailbox.calendar_sync.clear();
    }

    /// Fill the mailbox with plausible items fast (for demos and benchmarks): `contacts` in
    /// "Contacts" (nine in ten with the category "CRM"), `tasks` in "Tasks", and `events` in the calendar over the 60 days from now
    /// (every tenth a weekly series of ten).
    pub fn seed(&self, contacts: usize, events: usize, tasks: usize) -> Result<(), GraphError> {
        let now = self.now();
        let mut mailbox = self.shared.lock_mailbox();
        seed::fill(&mut mailbox, now, contacts, events, tasks)
    }
}
