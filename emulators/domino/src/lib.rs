//! An HCL Domino REST API (DRAPI) emulator for tandem's tests: the login (`POST /api/v1/auth`,
//! a JWT signed with a key made at each start), one user's mail file through the basis API
//! (`/api/v1/document…`, `@meta` with UNID, revision and weak ETag, schema coercion of
//! multi-value items), change detection by DQL (`POST /api/v1/query`, offset paging) and
//! deletions by `POST /api/v1/bulk/etag`, the PIM calendar (`/api/pim-v1/calendar/{calid}…`,
//! JSCalendar bodies, Notes zone strings on read, implicit scheduling notices), the PIM item
//! and search endpoints (`/api/pim-v1/pimitem/{unid}`, `/api/pim-v1/search`) and the faults
//! a client meets (503 storms, held answers, a mailbox on another server, ACL denials,
//! expired tokens), over real HTTP on 127.0.0.1. It follows HCL's OpenAPI files
//! (openapi.basis.json 1.3.7, openapi.pim.json 1.0.2) and the notes in
//! shared/reference/connectors.md, never a client's wishes.
//!
//! A test drives it two ways: over HTTP as a client, and through [`DominoHandle`] as the
//! Notes user ([`DominoHandle::mail_file`]) or as the server's administrator (users, schema,
//! faults, key restarts).

mod auth;
mod basis_http;
mod calendar;
mod calendar_http;
mod dql;
mod error;
mod gate;
mod items_http;
mod jwt;
mod mailfile;
mod seed;
mod zones;

pub use calendar::{Notice, NoticeKind};
pub use dql::{ParseError, Query};
pub use error::{DominoError, Envelope};
pub use jwt::Claims;
pub use mailfile::{Document, MailFile, Schema};
pub use seed::Seeded;

use chrono::{DateTime, FixedOffset, Utc};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

/// The scope name the basis API's `dataSource` must name for the mail file, unless
/// [`DominoHandle::set_data_source`] says otherwise.
pub const DEFAULT_DATA_SOURCE: &str = "mail";

/// Seconds a login token lasts: the spec's example `expSeconds` (the default lifetime itself
/// is not documented, connectors.md "Not found").
pub const TOKEN_SECONDS: i64 = 21600;

/// A user who may log in.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub password: String,
    pub dn: String,
    /// Whether the mail file's ACL lets them in.
    pub access: bool,
}

/// The server's state of the session machinery.
pub(crate) struct Auth {
    pub users: HashMap<String, User>,
    pub key: jwt::Key,
    /// Serial numbers of the tokens issued so far.
    pub issued: u64,
    /// Tokens with a serial number up to this are refused ([`DominoHandle::expire_tokens`]).
    pub expired_through: u64,
}

/// What the server does to the next requests.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    /// The next requests answer this status, in the envelope of the API asked.
    pub fail: Vec<axum::http::StatusCode>,
    /// When set, PIM requests are redirected here (302) as for a mailbox on another server.
    pub mailbox_server: Option<String>,
    /// The next document update finds its document saved once more just before it, as when
    /// the user saves it in the Notes client in between.
    pub save_before_next_update: bool,
}

pub(crate) struct Shared {
    pub mail: Mutex<MailFile>,
    pub auth: Mutex<Auth>,
    pub faults: Mutex<Faults>,
    pub notices: Mutex<Vec<Notice>>,
    pub data_source: Mutex<String>,
    /// While true, requests wait before they are answered.
    pub held: tokio::sync::watch::Sender<bool>,
    /// While true, requests are carried out and their answers wait.
    pub answers_held: tokio::sync::watch::Sender<bool>,
    /// Answers waiting to be sent.
    pub answers_waiting: std::sync::atomic::AtomicU64,
    pub requests: std::sync::atomic::AtomicU64,
    pub clock: Box<dyn Fn() -> DateTime<Utc> + Send + Sync>,
}

/// A poisoned lock only means a test panicked while holding it; the data is still usable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// The mail file, its clock set to now for the saves to come.
    pub fn mail(&self) -> MutexGuard<'_, MailFile> {
        let now = self.now();
        let mut mail = lock(&self.mail);
        mail.set_now(now);
        mail
    }
}

/// Starts emulators.
pub struct DominoEmulator;

impl DominoEmulator {
    /// Start on 127.0.0.1 on a port the system picks, with no users, an empty mail file and
    /// the wall clock.
    pub async fn start() -> std::io::Result<DominoHandle> {
        DominoEmulator::start_with_clock(Box::new(Utc::now)).await
    }

    /// Start with `clock` as the emulator's now: token expiry and the times documents are
    /// stamped with follow it, so a test moves time without sleeping.
    pub async fn start_with_clock(
        clock: Box<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    ) -> std::io::Result<DominoHandle> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        // The examples in openapi.basis.json are written at -05:00 and +08:00: a server in a
        // zone other than UTC, so clients must honour the offsets.
        let offset = FixedOffset::west_opt(5 * 3600)
            .unwrap_or_else(|| unreachable!("5 hours is a valid offset"));
        let shared = Arc::new(Shared {
            mail: Mutex::new(MailFile::new(offset)),
            auth: Mutex::new(Auth {
                users: HashMap::new(),
                key: jwt::Key::random(),
                issued: 0,
                expired_through: 0,
            }),
            faults: Mutex::new(Faults::default()),
            notices: Mutex::new(Vec::new()),
            data_source: Mutex::new(DEFAULT_DATA_SOURCE.to_string()),
            held: tokio::sync::watch::Sender::new(false),
            answers_held: tokio::sync::watch::Sender::new(false),
            answers_waiting: std::sync::atomic::AtomicU64::new(0),
            requests: std::sync::atomic::AtomicU64::new(0),
            clock,
        });
        let app = gate::router(shared.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!("the Domino emulator stopped: {e}");
            }
        });
        Ok(DominoHandle {
            shared,
            addr,
            server,
        })
    }
}

/// A running emulator; it stops when the handle is dropped.
pub struct DominoHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for DominoHandle {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl DominoHandle {
    /// `http://127.0.0.1:PORT`; the basis API is under `/api/v1`, the PIM API under
    /// `/api/pim-v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The emulator's now.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.now()
    }

    /// Lets `username` log in with `password`, as the Notes user `dn` (`CN=Ann Lee/O=Acme`),
    /// with access to the mail file.
    pub fn add_user(&self, username: &str, password: &str, dn: &str) {
        lock(&self.shared.auth).users.insert(
            username.to_string(),
            User {
                password: password.to_string(),
                dn: dn.to_string(),
                access: true,
            },
        );
    }

    /// Whether the mail file's ACL lets `username` in; without access, data requests answer
    /// 403 (the login itself still succeeds: the ACL is the database's, not the server's).
    pub fn set_access(&self, username: &str, access: bool) {
        if let Some(user) = lock(&self.shared.auth).users.get_mut(username) {
            user.access = access;
        }
    }

    /// A token for `username` as `POST /api/v1/auth` would give (default scopes), for tests
    /// that are not about the login. `None` for an unknown user.
    pub fn issue_token(&self, username: &str) -> Option<String> {
        auth::issue(&self.shared, username, None).map(|result| result.bearer)
    }

    /// A new signing key, as a server restart makes: every token issued before fails.
    pub fn restart_keys(&self) {
        lock(&self.shared.auth).key = jwt::Key::random();
    }

    /// Every token issued so far stops working, as at the end of its lifetime.
    pub fn expire_tokens(&self) {
        let mut auth = lock(&self.shared.auth);
        auth.expired_through = auth.issued;
    }

    /// The scope name the basis API's `dataSource` must name for the mail file.
    pub fn set_data_source(&self, name: &str) {
        *lock(&self.shared.data_source) = name.to_string();
    }

    /// Reads or edits the mail file directly, as the Notes user in their client would (saves
    /// are stamped with the emulator's now).
    pub fn mail_file<R>(&self, f: impl FnOnce(&mut MailFile) -> R) -> R {
        f(&mut self.shared.mail())
    }

    /// The schema of the mail file's scope: which items are multi-value, whether writes need
    /// the current revision.
    pub fn schema<R>(&self, f: impl FnOnce(&mut Schema) -> R) -> R {
        f(&mut self.shared.mail().schema)
    }

    /// The scheduling notices sent so far (invitations, updates, cancellations).
    pub fn notices(&self) -> Vec<Notice> {
        lock(&self.shared.notices).clone()
    }

    /// The next `count` requests (logins included) answer `status` (503: a storm).
    pub fn fail_next(&self, count: usize, status: u16) {
        let status = axum::http::StatusCode::from_u16(status)
            .unwrap_or(axum::http::StatusCode::SERVICE_UNAVAILABLE);
        lock(&self.shared.faults)
            .fail
            .extend(std::iter::repeat_n(status, count));
    }

    /// The next document update (PUT or PATCH) finds the document saved again just before it
    /// lands, as when the Notes user saves it at that moment: its revision is a new one.
    pub fn save_before_next_update(&self) {
        lock(&self.shared.faults).save_before_next_update = true;
    }

    /// Requests wait, unanswered, until [`DominoHandle::release`].
    pub fn hold(&self) {
        self.shared.held.send_replace(true);
    }

    pub fn release(&self) {
        self.shared.held.send_replace(false);
    }

    /// Requests are carried out, and their answers wait until [`DominoHandle::release_answers`]:
    /// a client that dies meanwhile made a write it never heard of.
    pub fn hold_answers(&self) {
        self.shared.answers_held.send_replace(true);
    }

    pub fn release_answers(&self) {
        self.shared.answers_held.send_replace(false);
    }

    /// Answers held back so far (requests carried out, not answered).
    pub fn answers_waiting(&self) -> u64 {
        self.shared
            .answers_waiting
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Moves the user's mailbox to the server at `base_url` (PIM requests get a 302 there,
    /// openapi.pim.json info.description), or back home with `None`.
    pub fn move_mailbox(&self, base_url: Option<&str>) {
        lock(&self.shared.faults).mailbox_server = base_url.map(str::to_string);
    }

    /// Requests received so far.
    pub fn requests(&self) -> u64 {
        self.shared
            .requests
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Fills the mail file with `contacts` contacts, `entries` calendar entries and `todos`
    /// to-dos, for demos and benchmarks.
    pub fn seed(&self, contacts: usize, entries: usize, todos: usize) -> Seeded {
        let mut mail = self.shared.mail();
        seed::seed(&mut mail, contacts, entries, todos)
    }
}
