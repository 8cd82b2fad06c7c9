//! Connect: the CalDAV/CardDAV address, user and password (revealed and copied on demand), the
//! steps for each client, and the Salesforce connection — its state, "Connect to Salesforce"
//! (the OAuth web flow, started here: the login page opens in a new tab, and this page shows
//! the outcome — the session cookie is `SameSite=Strict`, so a redirect chain coming back from
//! Salesforce's site would not carry it) and "Disconnect".

use crate::app::{SignInArgs, WebSignIn, sign_out};
use crate::web::Web;
use crate::web::session::Session;
use crate::web::view::{Base, failure, render};
use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long the page waits for Salesforce's login page to come back.
const SIGN_IN_WAIT: Duration = Duration::from_secs(10 * 60);

/// A sign-in started from the page.
#[derive(Clone, Default)]
pub enum SigningIn {
    #[default]
    Idle,
    Waiting,
    Failed(String),
}

/// The page's sign-in, shared by its requests.
#[derive(Default)]
pub struct SignIn(Mutex<SigningIn>);

impl SignIn {
    fn now(&self) -> SigningIn {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, to: SigningIn) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = to;
    }
}

/// A desktop client and how to point it at tandem (`{dav}` is the server's DAV address).
pub struct ClientSteps {
    pub client: &'static str,
    pub place: &'static str,
    pub what: String,
}

/// The clients the README describes, with this server's addresses filled in.
fn clients(dav: &str, base: &str) -> Vec<ClientSteps> {
    vec![
        ClientSteps {
            client: "Thunderbird",
            place: "New Calendar → On the network; Address Book → Add CardDAV",
            what: format!("{base}/ (it finds the calendars and address books)"),
        },
        ClientSteps {
            client: "Outlook (CalDav Synchronizer)",
            place: "Synchronization Profiles → Add → Generic CalDAV/CardDAV",
            what: format!(
                "calendar {dav}calendars/calendar/, tasks {dav}calendars/tasks/, contacts {dav}addressbooks/contacts/"
            ),
        },
        ClientSteps {
            client: "Apple Calendar / Contacts / Reminders",
            place: "Settings → Internet Accounts → Add Other → CalDAV / CardDAV, Manual",
            what: format!(
                "server {base}; Apple sends passwords only over HTTPS: give tandem a certificate (tls_cert, tls_key in tandem.toml)"
            ),
        },
        ClientSteps {
            client: "Android (DAVx5)",
            place: "Add account → Login with URL and user name",
            what: format!("{base}/"),
        },
        ClientSteps {
            client: "GNOME Calendar / Evolution",
            place: "Online Accounts → Calendar, Contacts and Files (or Evolution: New → Calendar → CalDAV)",
            what: format!("{dav}calendars/calendar/ and {dav}addressbooks/contacts/"),
        },
    ]
}

#[derive(Template)]
#[template(path = "web/connect.html")]
struct ConnectPage {
    base: Base,
    dav: String,
    user: String,
    password: String,
    clients: Vec<ClientSteps>,
    signed_in: bool,
    instance_url: Option<String>,
    username: Option<String>,
    login_url: String,
    signing_in: SigningIn,
}

pub async fn page(State(web): State<Arc<Web>>, Extension(session): Extension<Session>) -> Response {
    let settings = match web.app().settings_on_disk() {
        Ok(settings) => settings,
        Err(e) => return failure(&e.to_string()),
    };
    let mut signing_in = web.sign_in.now();
    if settings.salesforce.signed_in && matches!(signing_in, SigningIn::Waiting) {
        signing_in = SigningIn::Idle;
    }
    let dav = web.account.dav_url();
    render(&ConnectPage {
        base: Base::new(&web, &session, "Connect", "connect"),
        clients: clients(&dav, &web.account.base),
        dav,
        user: web.account.user.clone(),
        password: web.account.password.clone(),
        signed_in: settings.salesforce.signed_in,
        instance_url: settings.salesforce.instance_url,
        username: settings.salesforce.username,
        login_url: settings.salesforce.login_url,
        signing_in,
    })
}

/// "Connect to Salesforce": listen for the login's callback, then send the (new) tab to
/// Salesforce's login page.
pub async fn salesforce(State(web): State<Arc<Web>>) -> Response {
    let dir = web.app().dir.clone();
    let sign_in = match WebSignIn::start(&dir, &SignInArgs::default()).await {
        Ok(sign_in) => sign_in,
        Err(e) => {
            web.sign_in.set(SigningIn::Failed(e.to_string()));
            return Redirect::to("/app/connect").into_response();
        }
    };
    let authorize = sign_in.authorize_url().to_string();
    web.sign_in.set(SigningIn::Waiting);
    let waiting = web.clone();
    tokio::spawn(async move {
        let outcome = sign_in.finish(SIGN_IN_WAIT).await;
        waiting.sign_in.set(match outcome {
            Ok(_) => SigningIn::Idle,
            Err(e) => SigningIn::Failed(e.to_string()),
        });
    });
    Redirect::to(&authorize).into_response()
}

/// "Disconnect": forget the tokens; the connected app stays for the next connect.
pub async fn disconnect(State(web): State<Arc<Web>>) -> Response {
    match sign_out(&web.app().dir) {
        Ok(()) => {
            web.sign_in.set(SigningIn::Idle);
            Redirect::to("/app/connect").into_response()
        }
        Err(e) => failure(&e.to_string()),
    }
}
