//! Signing in to the review app: with the CalDAV/CardDAV account (the user and password in
//! `tandem.toml`), or with a one-time link from `tandem open`.

use crate::web::Web;
use crate::web::session::{COOKIE, Session};
use crate::web::view::render;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::Form;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use std::sync::Arc;
use subtle::ConstantTimeEq;

#[derive(Template)]
#[template(path = "web/signin.html")]
struct SignInPage {
    error: Option<&'static str>,
    user: String,
}

pub async fn page() -> Response {
    render(&SignInPage {
        error: None,
        user: String::new(),
    })
}

#[derive(Deserialize)]
pub struct Credentials {
    user: String,
    password: String,
}

pub async fn submit(
    State(web): State<Arc<Web>>,
    jar: CookieJar,
    Form(form): Form<Credentials>,
) -> Response {
    let same_user = form.user.as_bytes().ct_eq(web.account.user.as_bytes());
    let same_password = form
        .password
        .as_bytes()
        .ct_eq(web.account.password.as_bytes());
    if !bool::from(same_user & same_password) {
        if (web.account.guesses)().is_err() {
            let mut page = render(&SignInPage {
                error: Some(
                    "Too many wrong passwords in the last minute; wait a minute and try again. The password is in tandem.toml ([server] password); `tandem open` signs you in without it.",
                ),
                user: form.user,
            });
            *page.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
            return page;
        }
        let mut page = render(&SignInPage {
            error: Some(
                "That is not the user and password of tandem's CalDAV/CardDAV account. They are in tandem.toml ([server] user, password); `tandem open` signs you in without them.",
            ),
            user: form.user,
        });
        *page.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
        return page;
    }
    signed_in(&web, jar, web.sessions.open())
}

/// A one-time link: signs in once, within a few minutes of `tandem open` making it.
pub async fn once(
    State(web): State<Arc<Web>>,
    jar: CookieJar,
    Path(token): Path<String>,
) -> Response {
    match web.sessions.redeem(&token) {
        Some(session) => signed_in(&web, jar, session),
        None => render(&SignInPage {
            error: Some(
                "This sign-in link was used already or is too old. Run `tandem open` for a new one, or sign in below.",
            ),
            user: String::new(),
        }),
    }
}

pub async fn sign_out(
    State(web): State<Arc<Web>>,
    Extension(session): Extension<Session>,
    jar: CookieJar,
) -> Response {
    web.sessions.close(&session.id);
    (
        jar.remove(Cookie::build(COOKIE).path("/app")),
        Redirect::to("/app/signin"),
    )
        .into_response()
}

fn signed_in(web: &Web, jar: CookieJar, session: Session) -> Response {
    let cookie = Cookie::build((COOKIE, session.id))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(web.tls)
        .path("/app");
    (jar.add(cookie), Redirect::to("/app/")).into_response()
}
