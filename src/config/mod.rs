//! The settings file (`tandem.toml` in the data directory): what the user chose, read strictly so
//! a typo is an error that names the line instead of a setting silently ignored.

mod keychain;

pub use keychain::{Keychain, KeychainError, NoKeychain};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tandem_protocol::rules::{Rules, RulesFile};
use tandem_protocol::{ConflictPolicy, Op, Policies, RecordKind, Side};

pub const SETTINGS_FILE: &str = "tandem.toml";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The sync rules of each kind, as written; `rules` gives them with the defaults filled in.
    #[serde(default)]
    pub contacts: RulesFile,
    #[serde(default)]
    pub events: RulesFile,
    #[serde(default)]
    pub tasks: RulesFile,
    #[serde(default)]
    pub server: ServerSettings,
    /// The Salesforce connection: where to log in, the tokens `tandem login` stored, and how the
    /// client treats the org's API (retries, budget, paging).
    #[serde(default)]
    pub salesforce: SalesforceSettings,
    /// The Outlook connection (Microsoft Graph): where to sign in, the token `tandem login
    /// outlook` stored, and which folder and list sync.
    #[serde(default)]
    pub outlook: OutlookSettings,
    /// The Notes connection (the Domino REST API): the server, the account `tandem login notes`
    /// stored, and the mail file's scope.
    #[serde(default)]
    pub notes: NotesSettings,
    /// Where the passwords and tokens are kept.
    #[serde(default)]
    pub secrets: SecretsSettings,
}

/// The `[secrets]` section.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsSettings {
    #[serde(default)]
    pub store: SecretStore,
}

/// Where the passwords and tokens are kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecretStore {
    /// The OS keychain where one is reachable, else this file.
    #[default]
    Keychain,
    /// This file (mode 0600) always: for a machine whose keychain asks for a password at every
    /// use, or a throwaway data directory.
    File,
}

/// A settings key that holds a secret: its place in the file and in [`Settings`].
struct Secret {
    section: &'static str,
    key: &'static str,
    slot: fn(&mut Settings) -> &mut Option<String>,
}

/// The settings keys that hold secrets.
const SECRETS: [Secret; 5] = [
    Secret::new("server", "password", |s| &mut s.server.password),
    Secret::new("salesforce", "client_secret", |s| {
        &mut s.salesforce.client_secret
    }),
    Secret::new("salesforce", "refresh_token", |s| {
        &mut s.salesforce.refresh_token
    }),
    Secret::new("outlook", "refresh_token", |s| &mut s.outlook.refresh_token),
    Secret::new("notes", "password", |s| &mut s.notes.password),
];

impl Secret {
    const fn new(
        section: &'static str,
        key: &'static str,
        slot: fn(&mut Settings) -> &mut Option<String>,
    ) -> Secret {
        Secret { section, key, slot }
    }
}

fn is_secret(section: &str, key: &str) -> bool {
    SECRETS
        .iter()
        .any(|secret| secret.section == section && secret.key == key)
}

/// Where a data directory's secrets are kept, and why, for the daemon's first log line.
#[derive(Debug)]
pub enum SecretsHome {
    Keychain,
    File(String),
}

impl std::fmt::Display for SecretsHome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretsHome::Keychain => f.write_str("in the OS keychain"),
            SecretsHome::File(why) => write!(f, "in {SETTINGS_FILE} (mode 0600): {why}"),
        }
    }
}

/// The CalDAV/CardDAV server: the account desktop clients log in with.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// User name for HTTP Basic authentication.
    #[serde(default)]
    pub user: Option<String>,
    /// Password; generated on first start when missing.
    #[serde(default)]
    pub password: Option<String>,
    /// A PEM certificate chain and private key: serve HTTPS (Apple clients send passwords only
    /// over HTTPS).
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
}

/// The `[salesforce]` section. Every key is documented in `tandem.toml.example` at the top of
/// the repository. Tokens are written by `tandem login` (and by a refresh-token rotation), never
/// by hand; they live in the OS keychain where there is one (see [`SecretStore`]), else here,
/// at mode 0600.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case", default)]
pub struct SalesforceSettings {
    /// Where OAuth happens: `https://login.salesforce.com`, `https://test.salesforce.com` or a
    /// My Domain URL.
    pub login_url: String,
    /// The org's instance, as the last token response said (data calls go there).
    pub instance_url: Option<String>,
    /// The connected app's consumer key.
    pub client_id: Option<String>,
    /// The connected app's consumer secret, when the app requires it for the refresh-token flow.
    pub client_secret: Option<String>,
    /// The Salesforce username (required for the JWT bearer flow).
    pub username: Option<String>,
    /// The refresh token of the web-server flow.
    pub refresh_token: Option<String>,
    /// Where the browser comes back to after a web-server login: the callback URL registered in
    /// the connected app, on this machine.
    pub callback_url: String,
    /// A PEM RSA private key: log in with the JWT bearer flow instead of a refresh token.
    pub jwt_key_file: Option<PathBuf>,
    /// REST API version, e.g. "60.0".
    pub api_version: String,
    /// The external-id field tandem upserts by, when the org has it (e.g. `Tandem_Id__c`).
    pub external_id_field: Option<String>,
    /// How updates detect a concurrent Salesforce edit.
    pub update_check: UpdateCheck,
    /// API calls one run may make at most.
    pub max_calls_per_run: u64,
    /// A run stops once the org's rolling 24-hour API usage reaches this share of its limit.
    pub max_org_usage_percent: u8,
    /// Records per query page (`Sforce-Query-Options: batchSize`), 200..=2000.
    pub query_batch_size: u32,
    /// How far before the watermark an incremental pull starts again (late commits).
    pub pull_overlap_seconds: u64,
    /// Retries of a call that is safe to repeat, after a transient failure.
    pub max_retries: u32,
    /// First backoff delay; it doubles with every retry up to `backoff_max_ms`.
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// A call that takes longer than this fails (and counts as a transient failure).
    pub request_timeout_seconds: u64,
}

/// The callback URL `tandem login` listens on unless told otherwise: fixed, so it can be
/// registered in the connected app once.
pub const DEFAULT_CALLBACK: &str = "http://localhost:1717/callback";

/// How an update makes sure it does not overwrite a Salesforce edit tandem has not seen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UpdateCheck {
    /// A conditional PATCH per record, 25 to a Composite call: the server checks and writes
    /// each atomically.
    #[default]
    IfUnmodifiedSince,
    /// One SystemModstamp query per 200 records, then one sObject Collections update: far fewer
    /// API calls, but an edit in the moment between the check and the write is not seen.
    Modstamp,
}

impl Default for SalesforceSettings {
    fn default() -> Self {
        SalesforceSettings {
            login_url: "https://login.salesforce.com".into(),
            instance_url: None,
            client_id: None,
            client_secret: None,
            username: None,
            refresh_token: None,
            callback_url: DEFAULT_CALLBACK.into(),
            jwt_key_file: None,
            api_version: "60.0".into(),
            external_id_field: None,
            update_check: UpdateCheck::default(),
            max_calls_per_run: 5_000,
            max_org_usage_percent: 80,
            query_batch_size: 2_000,
            pull_overlap_seconds: 300,
            max_retries: 5,
            backoff_base_ms: 500,
            backoff_max_ms: 30_000,
            request_timeout_seconds: 120,
        }
    }
}

/// Tokens and secrets are never printed.
impl std::fmt::Debug for SalesforceSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "<hidden>");
        f.debug_struct("SalesforceSettings")
            .field("login_url", &self.login_url)
            .field("instance_url", &self.instance_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &hidden(&self.client_secret))
            .field("username", &self.username)
            .field("refresh_token", &hidden(&self.refresh_token))
            .field("jwt_key_file", &self.jwt_key_file)
            .field("api_version", &self.api_version)
            .field("external_id_field", &self.external_id_field)
            .field("update_check", &self.update_check)
            .finish_non_exhaustive()
    }
}

impl SalesforceSettings {
    /// Whether the settings name an org tandem can log in to: a connected app, and a refresh
    /// token or a JWT key.
    pub fn signed_in(&self) -> bool {
        self.client_id.is_some() && (self.refresh_token.is_some() || self.jwt_key_file.is_some())
    }

    /// Range checks serde cannot express; the error names the key.
    pub fn check(&self) -> Result<(), BadSetting> {
        let bad = |key: &'static str, why: &'static str| Err(BadSetting { key, why });
        if !(200..=2000).contains(&self.query_batch_size) {
            return bad("query_batch_size", "must be between 200 and 2000");
        }
        if !(1..=100).contains(&self.max_org_usage_percent) {
            return bad("max_org_usage_percent", "must be between 1 and 100");
        }
        if self.max_calls_per_run == 0 {
            return bad("max_calls_per_run", "must be at least 1");
        }
        let version_ok = self
            .api_version
            .split_once('.')
            .is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b == "0");
        if !version_ok {
            return bad("api_version", "must look like \"60.0\"");
        }
        for (key, url) in [
            ("login_url", Some(&self.login_url)),
            ("instance_url", self.instance_url.as_ref()),
        ] {
            if let Some(url) = url
                && !(url.starts_with("https://") || url.starts_with("http://"))
            {
                return bad(key, "must start with https://");
            }
        }
        if !loopback(&self.callback_url) {
            return bad(
                "callback_url",
                "must be a loopback address with a port, such as http://localhost:1717/callback",
            );
        }
        if let Some(field) = &self.external_id_field
            && (field.is_empty() || !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            return bad(
                "external_id_field",
                "must be a field API name such as Tandem_Id__c",
            );
        }
        Ok(())
    }
}

/// The `[outlook]` section: Outlook on Exchange Online through Microsoft Graph. The refresh token
/// is written by `tandem login outlook` (and replaced on every use), never by hand.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case", default)]
pub struct OutlookSettings {
    /// The Microsoft identity platform: `https://login.microsoftonline.com`.
    pub login_url: String,
    /// The directory: `organizations` (any work account), `common`, or the tenant's id.
    pub tenant: String,
    /// Microsoft Graph: `https://graph.microsoft.com` (the API is under `/v1.0`).
    pub graph_url: String,
    /// The application (client) id of the app registration tandem signs in with: a public
    /// client, no secret (README, "Outlook").
    pub client_id: Option<String>,
    /// The refresh token of the last sign-in; each use replaces it.
    pub refresh_token: Option<String>,
    /// Where the browser comes back to after signing in: a loopback redirect URI registered
    /// for the app ("Mobile and desktop applications").
    pub callback_url: String,
    /// The contact folder whose contacts all sync; created on the first run.
    pub contacts_folder: String,
    /// The To Do list whose tasks sync.
    pub task_list: String,
    /// Retries of a call after a throttling answer or a transient failure.
    pub max_retries: u32,
    /// First backoff delay when Graph gives no `Retry-After`; it doubles up to `backoff_max_ms`.
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// A call that takes longer than this fails (and counts as a transient failure).
    pub request_timeout_seconds: u64,
}

/// The redirect `tandem login outlook` listens on unless told otherwise.
pub const DEFAULT_OUTLOOK_CALLBACK: &str = "http://localhost:1718/outlook";

impl Default for OutlookSettings {
    fn default() -> Self {
        OutlookSettings {
            login_url: "https://login.microsoftonline.com".into(),
            tenant: "organizations".into(),
            graph_url: "https://graph.microsoft.com".into(),
            client_id: None,
            refresh_token: None,
            callback_url: DEFAULT_OUTLOOK_CALLBACK.into(),
            contacts_folder: "Salesforce Contacts".into(),
            task_list: "Tasks".into(),
            max_retries: 5,
            backoff_base_ms: 500,
            backoff_max_ms: 30_000,
            request_timeout_seconds: 60,
        }
    }
}

/// The refresh token is never printed.
impl std::fmt::Debug for OutlookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutlookSettings")
            .field("login_url", &self.login_url)
            .field("tenant", &self.tenant)
            .field("graph_url", &self.graph_url)
            .field("client_id", &self.client_id)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<hidden>"),
            )
            .field("contacts_folder", &self.contacts_folder)
            .field("task_list", &self.task_list)
            .finish_non_exhaustive()
    }
}

impl OutlookSettings {
    /// Whether tandem has signed in to Outlook: an app and a refresh token.
    pub fn signed_in(&self) -> bool {
        self.client_id.is_some() && self.refresh_token.is_some()
    }

    /// Range checks serde cannot express; the error names the key.
    pub fn check(&self) -> Result<(), BadOutlookSetting> {
        let bad = |key: &'static str, why: &'static str| Err(BadOutlookSetting { key, why });
        for (key, url) in [
            ("login_url", &self.login_url),
            ("graph_url", &self.graph_url),
        ] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return bad(key, "must start with https://");
            }
        }
        if !loopback(&self.callback_url) {
            return bad(
                "callback_url",
                "must be a loopback address with a port, such as http://localhost:1718/outlook",
            );
        }
        if self.contacts_folder.trim().is_empty() {
            return bad("contacts_folder", "must name a contact folder");
        }
        if self.task_list.trim().is_empty() {
            return bad("task_list", "must name a To Do list");
        }
        Ok(())
    }
}

/// An `[outlook]` value out of its range.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("[outlook] {key} {why}")]
pub struct BadOutlookSetting {
    pub key: &'static str,
    pub why: &'static str,
}

/// The `[notes]` section: HCL Notes through the Domino REST API (DRAPI, Domino 12.0.2 and
/// later). `tandem login notes` writes the user name and password after they worked.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case", default)]
pub struct NotesSettings {
    /// The Domino REST API's address, such as `https://mail.example.com:8880` (the APIs are
    /// under `/api/v1` and `/api/pim-v1`).
    pub url: Option<String>,
    /// The Notes user name or internet address the REST API logs in (`POST /api/v1/auth`).
    pub username: Option<String>,
    /// The HTTP password of that user (kept like the other secrets, see [`SecretStore`]).
    pub password: Option<String>,
    /// The REST API scope the administrator made for the user's mail file: contacts and
    /// to-dos are read and written through it (README, "Notes").
    pub data_source: String,
    /// How contacts and to-dos are reached, as `tandem login notes` found: `documents` (the
    /// scope: read, created, updated, deleted) or `pim_items` (no scope: the PIM API reads
    /// and updates them, and cannot create or delete them).
    pub contacts_and_todos: NotesItems,
    /// Retries of a call after a transient failure (503, 504, 429).
    pub max_retries: u32,
    /// First backoff delay; it doubles up to `backoff_max_ms`.
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// A call that takes longer than this fails (and counts as a transient failure).
    pub request_timeout_seconds: u64,
}

impl Default for NotesSettings {
    fn default() -> Self {
        NotesSettings {
            url: None,
            username: None,
            password: None,
            data_source: "mail".into(),
            contacts_and_todos: NotesItems::Documents,
            max_retries: 5,
            backoff_base_ms: 500,
            backoff_max_ms: 30_000,
            request_timeout_seconds: 60,
        }
    }
}

/// Which API of the Domino REST API reaches a mail file's contacts and to-dos.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotesItems {
    /// The basis API on the mail file's scope: everything.
    #[default]
    Documents,
    /// The PIM API's item and search endpoints: read and update only.
    PimItems,
}

impl NotesItems {
    pub fn as_str(self) -> &'static str {
        match self {
            NotesItems::Documents => "documents",
            NotesItems::PimItems => "pim_items",
        }
    }
}

/// The password is never printed.
impl std::fmt::Debug for NotesSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotesSettings")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("data_source", &self.data_source)
            .finish_non_exhaustive()
    }
}

impl NotesSettings {
    /// Whether tandem has signed in to Notes: a server, a user and a password.
    pub fn signed_in(&self) -> bool {
        self.url.is_some() && self.username.is_some() && self.password.is_some()
    }

    /// Range checks serde cannot express; the error names the key.
    pub fn check(&self) -> Result<(), BadNotesSetting> {
        let bad = |key: &'static str, why: &'static str| Err(BadNotesSetting { key, why });
        if let Some(url) = &self.url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return bad("url", "must start with https://");
        }
        if self.data_source.trim().is_empty() {
            return bad(
                "data_source",
                "must name the REST API scope of your mail file",
            );
        }
        Ok(())
    }
}

/// A `[notes]` value out of its range.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("[notes] {key} {why}")]
pub struct BadNotesSetting {
    pub key: &'static str,
    pub why: &'static str,
}

/// Whether a redirect URL is on this machine, with a port: where a sign-in's browser comes back
/// to tandem listening.
fn loopback(url: &str) -> bool {
    ["http://localhost:", "http://127.0.0.1:"]
        .iter()
        .any(|p| url.starts_with(p))
}

/// A `[salesforce]` value out of its range.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("[salesforce] {key} {why}")]
pub struct BadSetting {
    pub key: &'static str,
    pub why: &'static str,
}

/// Settings text that does not parse or names a bad value; the message names the line.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidSettings(String);

impl InvalidSettings {
    /// A parser's message, with the line and column of `span` in `text` in front. The settings'
    /// own text is not quoted — not the line (as toml's message does), not a string found where
    /// another type belongs (as serde's does) — since a line of tandem.toml may hold a password
    /// or a token and this message reaches logs.
    fn at(text: &str, span: Option<std::ops::Range<usize>>, message: &str) -> InvalidSettings {
        let mut said = String::new();
        let mut rest = message;
        while let Some(start) = rest.find("string \"") {
            said.push_str(&rest[..start]);
            said.push_str("a string");
            let value = &rest[start + "string \"".len()..];
            rest = value.find('"').map_or("", |end| &value[end + 1..]);
        }
        said.push_str(rest);
        let Some(at) = span.map(|span| span.start.min(text.len())) else {
            return InvalidSettings(said);
        };
        let before = text.get(..at).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count()
            + 1;
        InvalidSettings(format!("line {line}, column {column}: {said}"))
    }

    pub fn contains(&self, text: &str) -> bool {
        self.0.contains(text)
    }

    pub fn starts_with(&self, text: &str) -> bool {
        self.0.starts_with(text)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the settings file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the settings file {path} is not valid: {message}")]
    Invalid {
        path: PathBuf,
        message: InvalidSettings,
    },
    #[error("cannot write the settings file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Keychain(#[from] KeychainError),
}

/// One change to the settings file: a key of a section set to a value, or removed (`None`:
/// the default applies again).
#[derive(Clone, Debug)]
pub struct Change {
    pub section: String,
    pub key: String,
    pub value: Option<toml_edit::Value>,
}

impl Change {
    pub fn new(section: &str, key: &str, value: Option<toml_edit::Value>) -> Change {
        Change {
            section: section.to_string(),
            key: key.to_string(),
            value,
        }
    }
}

/// `text` with `changes` made, the user's comments and everything else kept as they were; the
/// result is checked with the strict parser, so the error names what is wrong and where.
pub fn changed(text: &str, changes: &[Change]) -> Result<String, InvalidSettings> {
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| InvalidSettings::at(text, e.span(), e.message()))?;
    for change in changes {
        let table = doc
            .entry(&change.section)
            .or_insert(toml_edit::Item::Table(toml_edit::Table::new()))
            .as_table_mut()
            .ok_or_else(|| {
                InvalidSettings(format!("`{0}` is not a [{0}] table", change.section))
            })?;
        match &change.value {
            Some(value) => {
                table.insert(&change.key, toml_edit::Item::Value(value.clone()));
            }
            None => {
                table.remove(&change.key);
            }
        }
    }
    let new_text = doc.to_string();
    Settings::parse(&new_text)?;
    Ok(new_text)
}

/// Make `changes` to the settings file at `path` (see [`changed`]). Nothing is written unless the
/// result is valid; the file is replaced atomically, readable by the user only. A secret goes
/// to the OS keychain instead (and leaves the file) where the settings keep secrets there and
/// a keychain takes it; otherwise it stays in the file, with a warning that says why.
pub fn edit(path: &Path, changes: &[Change]) -> Result<(), ConfigError> {
    write_changes(path, changes).map(|_refused| ())
}

/// [`edit`], saying how many secrets stayed in the file because the keychain refused them.
fn write_changes(path: &Path, changes: &[Change]) -> Result<usize, ConfigError> {
    let invalid = |message| ConfigError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let text = read_text(path)?;
    let checked = changed(&text, changes).map_err(invalid)?;
    let keychain = Settings::parse(&text)
        .ok()
        .and_then(|settings| settings.keychain(path.parent()?).ok());
    let (new_text, refused) = match keychain {
        Some(keychain) => {
            let (changes, refused) = to_keychain(&keychain, changes)?;
            (changed(&text, &changes).map_err(invalid)?, refused)
        }
        None => (checked, 0),
    };
    write_private(path, new_text.as_bytes()).map_err(|source| ConfigError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(refused)
}

/// `changes` with each secret handed to the keychain and removed from the file instead, and how
/// many the keychain refused to keep: those stay changes of the file (never lost), with a
/// warning. One it refuses to forget is an error, since it would still be read from there (a
/// sign-out that leaves the token behind has not happened).
fn to_keychain(
    keychain: &Keychain,
    changes: &[Change],
) -> Result<(Vec<Change>, usize), KeychainError> {
    let mut refused = 0;
    let mut out = Vec::with_capacity(changes.len());
    for change in changes {
        if !is_secret(&change.section, &change.key) {
            out.push(change.clone());
            continue;
        }
        let Some(secret) = change.value.as_ref().and_then(|v| v.as_str()) else {
            keychain.delete(&change.section, &change.key)?;
            out.push(change.clone());
            continue;
        };
        match keychain.set(&change.section, &change.key, secret) {
            Ok(()) => out.push(Change::new(&change.section, &change.key, None)),
            Err(e) => {
                tracing::warn!("{e}; kept in {SETTINGS_FILE} instead");
                refused += 1;
                out.push(change.clone());
            }
        }
    }
    Ok((out, refused))
}

/// Move the secrets written in the settings file of `dir` (by hand, or before there was a
/// keychain) into the OS keychain, where the settings keep them there; says where they are kept.
pub fn keep_secrets(dir: &Path) -> Result<SecretsHome, ConfigError> {
    let path = dir.join(SETTINGS_FILE);
    let text = read_text(&path)?;
    let mut settings = Settings::parse(&text).map_err(|message| ConfigError::Invalid {
        path: path.clone(),
        message,
    })?;
    if let Err(home) = settings.keychain(dir) {
        return Ok(home);
    }
    let in_file: Vec<Change> = SECRETS
        .iter()
        .filter_map(|secret| {
            let value = (secret.slot)(&mut settings).take()?;
            Some(Change::new(secret.section, secret.key, Some(value.into())))
        })
        .collect();
    let refused = if in_file.is_empty() {
        0
    } else {
        write_changes(&path, &in_file)?
    };
    Ok(match refused {
        0 => SecretsHome::Keychain,
        n => SecretsHome::File(format!(
            "the OS keychain refused {n} of them (see the warnings above)"
        )),
    })
}

/// Set (`Some`) or remove (`None`) text keys of one section of the settings file at `path`.
pub fn set(path: &Path, section: &str, values: &[(&str, Option<&str>)]) -> Result<(), ConfigError> {
    let changes: Vec<Change> = values
        .iter()
        .map(|(key, value)| Change::new(section, key, value.map(toml_edit::Value::from)))
        .collect();
    edit(path, &changes)
}

/// The settings file's text; a missing file is an empty one.
pub fn read_text(path: &Path) -> Result<String, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(source) => Err(ConfigError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Write a file of the data directory that holds secrets (the settings' passwords and tokens,
/// the daemon's API token): a sibling temp file (mode 0600 from its creation, never wider),
/// synced, renamed over the target, and the directory synced — a crash leaves either the old or
/// the new file.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| SETTINGS_FILE.to_string());
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        rand::random::<u32>()
    ));
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        #[cfg(unix)]
        std::fs::File::open(&dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Make sure the settings name a user and password for the DAV server, generating a password
/// (and writing it into the settings file, keeping everything else in it as it was) on first
/// start. Returns the user and password.
pub fn ensure_server_credentials(dir: &Path) -> Result<(String, String), ConfigError> {
    let path = dir.join(SETTINGS_FILE);
    let settings = Settings::load(dir)?;
    if let (Some(user), Some(password)) = (&settings.server.user, &settings.server.password) {
        return Ok((user.clone(), password.clone()));
    }
    let user = settings.server.user.unwrap_or_else(|| "tandem".to_string());
    let password = settings.server.password.unwrap_or_else(generate_password);
    set(
        &path,
        "server",
        &[("user", Some(&user)), ("password", Some(&password))],
    )?;
    Ok((user, password))
}

fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

impl Settings {
    fn rules_file(&self, kind: RecordKind) -> &RulesFile {
        match kind {
            RecordKind::Contact => &self.contacts,
            RecordKind::Event => &self.events,
            RecordKind::Task => &self.tasks,
        }
    }

    /// The effective sync rules of a kind. Settings that were parsed are known to resolve.
    /// A Notes server reached without a scope for the mail file cannot create contacts or
    /// to-dos: those creates are prevented, so the summary says so instead of failing them.
    pub fn rules(&self, kind: RecordKind) -> Rules {
        let mut rules = self
            .rules_file(kind)
            .resolve(kind)
            .unwrap_or_else(|_| Rules::defaults(kind));
        if kind == RecordKind::Event {
            rules.salesforce_key_field = self.salesforce.external_id_field.clone();
        }
        if kind != RecordKind::Event
            && self.notes.signed_in()
            && self.notes.contacts_and_todos == NotesItems::PimItems
        {
            rules
                .prevent
                .entry(Side::NOTES)
                .or_default()
                .push(Op::Create);
        }
        rules
    }

    /// The sides a run syncs: Salesforce and the desktop always, a connector's side once tandem
    /// is signed in to it; in the order the summary shows them.
    pub fn sides(&self) -> Vec<Side> {
        let mut sides = Side::SYNCED.to_vec();
        if self.outlook.signed_in() {
            sides.push(Side::OUTLOOK);
        }
        if self.notes.signed_in() {
            sides.push(Side::NOTES);
        }
        sides
    }

    /// The kinds of record that sync at all.
    pub fn enabled_kinds(&self) -> Vec<RecordKind> {
        RecordKind::ALL
            .into_iter()
            .filter(|k| self.rules(*k).enabled)
            .collect()
    }

    pub fn policy(&self, kind: RecordKind) -> ConflictPolicy {
        self.rules_file(kind).conflict_policy.unwrap_or_default()
    }

    /// The conflict policy of every kind: all the store's merge needs of the settings.
    pub fn policies(&self) -> Policies {
        Policies {
            contacts: self.policy(RecordKind::Contact),
            events: self.policy(RecordKind::Event),
            tasks: self.policy(RecordKind::Task),
        }
    }

    /// Read the settings of a data directory; a missing file means the defaults. A secret the
    /// file does not hold is read from the OS keychain, where the settings keep secrets there.
    pub fn load(dir: &Path) -> Result<Settings, ConfigError> {
        let path = dir.join(SETTINGS_FILE);
        let text = read_text(&path)?;
        let mut settings =
            Settings::parse(&text).map_err(|message| ConfigError::Invalid { path, message })?;
        if let Ok(keychain) = settings.keychain(dir) {
            for secret in &SECRETS {
                let slot = (secret.slot)(&mut settings);
                if slot.is_none() {
                    *slot = keychain.get(secret.section, secret.key)?;
                }
            }
        }
        Ok(settings)
    }

    /// The keychain the secrets of the data directory `dir` are kept in; else where they are
    /// kept instead, and why.
    fn keychain(&self, dir: &Path) -> Result<Keychain, SecretsHome> {
        if self.secrets.store == SecretStore::File {
            return Err(SecretsHome::File(
                "[secrets] store = \"file\" says so".to_string(),
            ));
        }
        Keychain::of(dir).map_err(|why| SecretsHome::File(why.to_string()))
    }

    /// Parse settings text; the error names the line and column (toml's message does).
    pub fn parse(text: &str) -> Result<Settings, InvalidSettings> {
        let settings: Settings =
            toml::from_str(text).map_err(|e| InvalidSettings::at(text, e.span(), e.message()))?;
        settings
            .salesforce
            .check()
            .map_err(|e| InvalidSettings(e.to_string()))?;
        settings
            .outlook
            .check()
            .map_err(|e| InvalidSettings(e.to_string()))?;
        settings
            .notes
            .check()
            .map_err(|e| InvalidSettings(e.to_string()))?;
        for kind in RecordKind::ALL {
            settings
                .rules_file(kind)
                .resolve(kind)
                .map_err(|message| InvalidSettings(at_line(text, kind, &message)))?;
        }
        Ok(settings)
    }
}

/// Put the line of the key a rules message names (`[events] only_related ...`) in front of it.
fn at_line(text: &str, kind: RecordKind, message: &str) -> String {
    let section = match kind {
        RecordKind::Contact => "contacts",
        RecordKind::Event => "events",
        RecordKind::Task => "tasks",
    };
    let key = message
        .strip_prefix(&format!("[{section}] "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default();
    let offset = toml_edit::Document::parse(text).ok().and_then(|doc| {
        let (found, _) = doc.get(section)?.as_table()?.get_key_value(key)?;
        found.span().map(|span| span.start)
    });
    match offset {
        Some(at) => format!("line {}: {message}", text[..at].matches('\n').count() + 1),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_line_is_named_without_quoting_what_it_holds() {
        for (text, line) in [
            (
                "[salesforce]\nrefresh_token = \"5Aep-SECRET\nx = 1\n",
                "line 2, column 29",
            ),
            (
                "[salesforce]\nrefesh_token = \"5Aep-SECRET\"\n",
                "line 2, column 1",
            ),
            (
                "[salesforce]\nmax_retries = \"5Aep-SECRET\"\n",
                "line 2, column 15",
            ),
            (
                "[server]\npassword = \"SECRET\" junk\n",
                "line 2, column 21",
            ),
        ] {
            let err = Settings::parse(text).unwrap_err().to_string();
            assert!(err.starts_with(line), "{line}: {err}");
            assert!(!err.contains("SECRET"), "{err}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE);
        std::fs::write(&path, "[server]\npassword = \"SECRET\nx = 1\n").unwrap();
        let err = set(&path, "salesforce", &[("client_id", Some("app"))]).unwrap_err();
        let err = err.to_string();
        assert!(err.contains("line 2") && !err.contains("SECRET"), "{err}");
    }

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(Settings::parse("").unwrap(), Settings::default());
        let s = Settings::parse("[events]\nconflict_policy = \"salesforce-wins\"\n").unwrap();
        assert_eq!(s.policy(RecordKind::Event), ConflictPolicy::SalesforceWins);
        assert_eq!(s.policy(RecordKind::Contact), ConflictPolicy::NewestWins);
    }

    #[test]
    fn a_bad_key_or_value_names_the_line() {
        let err = Settings::parse("[contacts]\n\nconflict_polcy = \"newest-wins\"\n").unwrap_err();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("conflict_polcy"), "{err}");
        let err = Settings::parse("[tasks]\nconflict_policy = \"loudest-wins\"\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn sync_rules_are_read_per_kind_and_checked_with_the_line() {
        let s = Settings::parse(
            "[events]\npast_days = 7\nhours = \"08:00-18:00\"\n[tasks]\nonly_related = true\n",
        )
        .unwrap();
        assert_eq!(s.rules(RecordKind::Event).past_days, 7);
        assert!(s.rules(RecordKind::Task).only_related);
        assert!(s.rules(RecordKind::Contact).prevented(
            tandem_protocol::Side::SALESFORCE,
            tandem_protocol::Op::Delete
        ));
        let err = Settings::parse("[contacts]\n\npast_days = 3\n").unwrap_err();
        assert!(
            err.starts_with("line 3:") && err.contains("past_days"),
            "{err}"
        );
        let err = Settings::parse("[events]\nhours = \"8 to 6\"\n").unwrap_err();
        assert!(
            err.contains("line 2") && err.contains("08:00-18:00"),
            "{err}"
        );
        let err = Settings::parse("[tasks]\nprevent_desktop = [\"erase\"]\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn numbers_out_of_range_say_the_range_and_the_line() {
        let err = Settings::parse("[events]\nevery_minutes = 100000000\n").unwrap_err();
        assert!(
            err.contains("line 2") && err.contains("between 5 and 1440"),
            "{err}"
        );
        let err = Settings::parse("[tasks]\n\nevery_minutes = \"often\"\n").unwrap_err();
        assert!(
            err.contains("line 3") && err.contains("between 5 and 1440"),
            "{err}"
        );
        let err = Settings::parse("[events]\npast_days = -1\n").unwrap_err();
        assert!(err.contains("between 0 and 3650"), "{err}");
        assert!(Settings::parse("[events]\nevery_minutes = 60\nfuture_days = 90\n").is_ok());
    }

    #[test]
    fn the_settings_template_is_valid() {
        let s = Settings::parse(include_str!("../../tandem.toml.example")).unwrap();
        assert_eq!(s.salesforce, SalesforceSettings::default());
        assert_eq!(s.outlook, OutlookSettings::default());
        assert_eq!(s.notes, NotesSettings::default());
        for kind in RecordKind::ALL {
            assert_eq!(
                s.rules(kind),
                Rules::defaults(kind),
                "the template shows the defaults"
            );
        }
    }

    #[test]
    fn salesforce_section_is_strict() {
        let s = Settings::parse(
            "[salesforce]\nclient_id = \"abc\"\nexternal_id_field = \"Tandem_Id__c\"\nupdate_check = \"modstamp\"\n",
        )
        .unwrap();
        assert_eq!(s.salesforce.client_id.as_deref(), Some("abc"));
        assert_eq!(s.salesforce.update_check, UpdateCheck::Modstamp);
        assert_eq!(s.salesforce.query_batch_size, 2000);
        let err = Settings::parse("[salesforce]\n\nrefresh_tokn = \"x\"\n").unwrap_err();
        assert!(
            err.contains("line 3") && err.contains("refresh_tokn"),
            "{err}"
        );
        let err = Settings::parse("[salesforce]\nquery_batch_size = 10\n").unwrap_err();
        assert!(err.contains("query_batch_size"), "{err}");
        let secret = Settings::parse("[salesforce]\nrefresh_token = \"5Aep-secret\"\n").unwrap();
        assert!(!format!("{secret:?}").contains("5Aep-secret"));
    }

    #[test]
    fn notes_section_is_checked_and_its_password_never_printed() {
        let err = Settings::parse("[notes]\nurl = \"ftp://mail.example\"\n").unwrap_err();
        assert!(
            err.contains("[notes] url must start with https://"),
            "{err}"
        );
        let err = Settings::parse("[notes]\ndata_source = \" \"\n").unwrap_err();
        assert!(err.contains("[notes] data_source"), "{err}");
        let err = Settings::parse("[notes]\ncontacts_and_todos = \"views\"\n").unwrap_err();
        assert!(
            err.contains("line 2") && err.contains("`documents` or `pim_items`"),
            "{err}"
        );
        let s = Settings::parse(
            "[notes]\nurl = \"https://mail.example:8880\"\nusername = \"Ann Lee\"\npassword = \"hunter2-secret\"\n",
        )
        .unwrap();
        assert!(s.notes.signed_in());
        assert!(s.sides().contains(&Side::NOTES));
        assert!(!format!("{s:?}").contains("hunter2-secret"));
    }
}
