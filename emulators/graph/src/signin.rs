//! The identity platform's endpoints over HTTP, at its paths with a tenant segment
//! (`/{tenant}/oauth2/v2.0/authorize`, `/token`, `/devicecode`; v2-protocols.md, "Endpoints":
//! `common`, `organizations`, `consumers` or a tenant id, all the same tenant here). The rules
//! are identity.rs's; this module turns them into redirects and JSON, and issues the tokens.

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use std::sync::Arc;

use crate::Shared;
use crate::grants::{self, Grant};
use crate::identity::{
    ACCESS_TOKEN_SECONDS, AuthorizeError, DEVICE_CODE_SECONDS, IdentityError, Issued, Params,
    VERIFICATION_URI,
};

pub fn routes(router: Router<Arc<Shared>>) -> Router<Arc<Shared>> {
    router
        .route("/{tenant}/oauth2/v2.0/authorize", get(authorize))
        .route("/{tenant}/oauth2/v2.0/token", post(token).get(not_post))
        .route("/{tenant}/oauth2/v2.0/devicecode", post(device_code))
}

/// The user has consented already, so the browser is sent straight back to the app: a `302`
/// whose `Location` is the redirect URI with `code` and `state` (or `error`). A test needs no
/// browser: it fetches the URL and follows (or reads) the `Location`.
async fn authorize(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    Query(params): Query<Params>,
) -> Response {
    let now = (shared.clock)();
    let answer = shared.lock_identity().authorize(&tenant, &params, now);
    match answer {
        Ok(location) | Err(AuthorizeError::Redirect(location)) => {
            (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
        }
        Err(AuthorizeError::Page(error)) => error.into_response_at(now),
    }
}

/// A token or device code request's form; anything else is the platform's `invalid_request`
/// (the endpoints take `application/x-www-form-urlencoded` only).
fn form(form: Result<Form<Params>, FormRejection>) -> Result<Params, IdentityError> {
    form.map(|Form(params)| params).map_err(|_| IdentityError {
        status: StatusCode::BAD_REQUEST,
        error: "invalid_request",
        code: 900144,
        text: "The request body must contain the following parameter: 'grant_type'. (It must be application/x-www-form-urlencoded.)".into(),
    })
}

async fn token(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    params: Result<Form<Params>, FormRejection>,
) -> Response {
    let now = (shared.clock)();
    let issued =
        form(params).and_then(|params| shared.lock_identity().token(&tenant, &params, now));
    match issued {
        Ok(issued) => issue(&shared, &issued, now),
        Err(error) => error.into_response_at(now),
    }
}

/// AADSTS900561: the token endpoint takes POSTs only.
async fn not_post(State(shared): State<Arc<Shared>>) -> Response {
    IdentityError {
        status: StatusCode::BAD_REQUEST,
        error: "invalid_request",
        code: 900561,
        text: "The endpoint only accepts (POST, OPTIONS) requests. Received a GET request.".into(),
    }
    .into_response_at((shared.clock)())
}

/// The token response (v2-oauth2-auth-code-flow.md, "Successful response"): an access token
/// the API accepts for the granted permissions, for an hour of the emulator's clock, and a
/// refresh token when `offline_access` was asked for. No `id_token`: tandem does not read one.
fn issue(shared: &Shared, issued: &Issued, now: chrono::DateTime<chrono::Utc>) -> Response {
    let grant = Grant::scoped(
        grants::permissions(&issued.scopes),
        Some(now + chrono::Duration::seconds(ACCESS_TOKEN_SECONDS)),
    );
    let access_token = shared.lock_tokens().issue(grant);
    let mut body = json!({
        "token_type": "Bearer",
        "scope": grants::display(&issued.scopes),
        "expires_in": ACCESS_TOKEN_SECONDS,
        "ext_expires_in": ACCESS_TOKEN_SECONDS,
        "access_token": access_token,
    });
    if issued.offline() {
        body["refresh_token"] = json!(shared.lock_identity().new_refresh_token(issued, now));
    }
    // RFC 6749 §5.1: token responses are not to be cached.
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        axum::Json(body),
    )
        .into_response()
}

async fn device_code(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    params: Result<Form<Params>, FormRejection>,
) -> Response {
    let now = (shared.clock)();
    let answer =
        form(params).and_then(|params| shared.lock_identity().device_code(&tenant, &params, now));
    match answer {
        Ok(code) => axum::Json(json!({
            "device_code": code.device_code,
            "user_code": code.user_code,
            "verification_uri": VERIFICATION_URI,
            "expires_in": DEVICE_CODE_SECONDS,
            "interval": code.interval,
            "message": format!(
                "To sign in, use a web browser to open the page {VERIFICATION_URI} and enter the code {} to authenticate.",
                code.user_code
            ),
        }))
        .into_response(),
        Err(error) => error.into_response_at(now),
    }
}
