//! The first visit: a short path — connect Salesforce, connect a desktop client, review the
//! first sync — each step saying whether it is done.

use crate::web::Web;
use crate::web::session::Session;
use crate::web::view::{Base, failure, render};
use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use std::sync::Arc;

#[derive(Template)]
#[template(path = "web/setup.html")]
struct SetupPage {
    base: Base,
    signed_in: bool,
    instance_url: Option<String>,
    dav: String,
    reviewed: bool,
    busy: bool,
}

pub async fn page(State(web): State<Arc<Web>>, Extension(session): Extension<Session>) -> Response {
    let app = web.app();
    let (settings, reviewed) = match (app.settings_on_disk(), app.reviewed()) {
        (Ok(settings), Ok(reviewed)) => (settings, reviewed),
        (Err(e), _) | (_, Err(e)) => return failure(&e.to_string()),
    };
    render(&SetupPage {
        base: Base::new(&web, &session, "Getting started", "setup"),
        signed_in: settings.salesforce.signed_in,
        instance_url: settings.salesforce.instance_url,
        dav: web.account.dav_url(),
        reviewed,
        busy: web.review.now().busy || crate::app::in_flight().is_some(),
    })
}
