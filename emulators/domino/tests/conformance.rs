//! The basis API (openapi.basis.json 1.3.7) against the emulator, over HTTP: login and
//! bearer checks, documents and their `@meta`, DQL change queries with offset paging,
//! deletions through `/bulk/etag`, and the server's faults. Each test names the operation or
//! the line of shared/reference/connectors.md it follows.

mod common;

use base64::Engine;
use chrono::{DateTime, Duration};
use common::{Answer, Client, Clock, DN, PASSWORD, USER, assert_basis_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn person(first: &str, categories: Value) -> Value {
    json!({"Form": "Person", "FirstName": first, "LastName": "Lee", "Categories": categories})
}

/// authLogin (`POST /auth`): `{bearer, claims, expSeconds}`; the JWT's `sub` is the Notes
/// DN, `aud` "Domino", default scopes "MAIL $DATA" (connectors.md A1 "Versions and auth").
#[tokio::test]
async fn login_returns_a_jwt_for_the_notes_dn() {
    let client = Client::start().await;
    let answer = client
        .post(
            "/api/v1/auth",
            json!({"username": USER, "password": PASSWORD}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["claims"]["sub"], DN);
    assert_eq!(answer.body["claims"]["aud"], "Domino");
    assert_eq!(answer.body["claims"]["scopes"], "MAIL $DATA");
    assert_eq!(answer.body["expSeconds"], 21600);
    let bearer = answer.body["bearer"].as_str().unwrap();
    let payload = bearer.split('.').nth(1).unwrap();
    let payload: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(payload["sub"], DN);
    assert_eq!(payload["aud"], "Domino");
}

/// authLogin's 401: `{"status": 401, "message": "Invalid credentials or account locked"}`
/// (the basis ErrorMessage envelope, connectors.md C2).
#[tokio::test]
async fn a_wrong_password_is_401_in_the_basis_envelope() {
    let client = Client::start().await;
    let answer = client
        .post(
            "/api/v1/auth",
            json!({"username": USER, "password": "nope"}),
        )
        .await;
    assert_basis_error(&answer, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.body["message"],
        "Invalid credentials or account locked"
    );
}

/// components.responses.401Unauthorized: no token, a forged one, or one past its
/// `expSeconds` is refused.
#[tokio::test]
async fn requests_need_a_valid_unexpired_bearer() {
    let clock = Clock::at(2026, 12, 1, 9);
    let mut client = Client::with(clock.start().await).await;
    let path = "/api/v1/bulk/etag?dataSource=mail";
    assert_eq!(
        client.post(path, json!({"unids": []})).await.status,
        StatusCode::OK
    );

    let token = std::mem::take(&mut client.token);
    assert_basis_error(
        &client.post(path, json!({"unids": []})).await,
        StatusCode::UNAUTHORIZED,
    );
    client.token = format!("{token}x");
    assert_basis_error(
        &client.post(path, json!({"unids": []})).await,
        StatusCode::UNAUTHORIZED,
    );

    client.token = token;
    clock.advance(Duration::seconds(21600));
    assert_basis_error(
        &client.post(path, json!({"unids": []})).await,
        StatusCode::UNAUTHORIZED,
    );
}

/// "The login key is random per restart" (connectors.md A1, from
/// references/security/authentication.md; C1 "tokens become invalid after a restart").
#[tokio::test]
async fn a_key_restart_invalidates_every_token() {
    let mut client = Client::start().await;
    let path = "/api/v1/bulk/etag?dataSource=mail";
    client.domino.restart_keys();
    assert_basis_error(
        &client.post(path, json!({"unids": []})).await,
        StatusCode::UNAUTHORIZED,
    );
    client.token = client.domino.issue_token(USER).unwrap();
    assert_eq!(
        client.post(path, json!({"unids": []})).await.status,
        StatusCode::OK
    );
    client.domino.expire_tokens();
    assert_basis_error(
        &client.post(path, json!({"unids": []})).await,
        StatusCode::UNAUTHORIZED,
    );
    // A new login right after, even within the same second, works.
    client.token = client.domino.issue_token(USER).unwrap();
    assert_eq!(
        client.post(path, json!({"unids": []})).await.status,
        StatusCode::OK
    );
}

/// "Scopes only narrow what the ACL grants" (connectors.md A1): a login asking only for
/// MAIL cannot use the basis API's data scope.
#[tokio::test]
async fn a_narrowed_scope_is_403_on_the_data_api() {
    let mut client = Client::start().await;
    let login = client
        .post(
            "/api/v1/auth",
            json!({"username": USER, "password": PASSWORD, "scope": "MAIL"}),
        )
        .await;
    client.token = login.body["bearer"].as_str().unwrap().to_string();
    let answer = client
        .post("/api/v1/bulk/etag?dataSource=mail", json!({"unids": []}))
        .await;
    assert_basis_error(&answer, StatusCode::FORBIDDEN);
}

/// createDocument (`POST /document`) and getDocument: `@meta {unid (32 hex), noteid,
/// created, lastmodified (with an offset), revision (32 hex), etag (weak)}`, items as keys.
#[tokio::test]
async fn a_created_document_reads_back_with_its_meta() {
    let client = Client::start().await;
    let meta = client.create(person("Ann", json!(["CRM", "VIP"]))).await;
    let unid = meta["unid"].as_str().unwrap();
    assert_eq!(unid.len(), 32);
    assert!(
        unid.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
    );
    assert_eq!(meta["revision"].as_str().unwrap().len(), 32);
    assert!(meta["etag"].as_str().unwrap().starts_with("W/\""));
    assert!(meta["noteid"].is_u64());
    let modified = meta["lastmodified"].as_str().unwrap();
    assert!(DateTime::parse_from_rfc3339(modified).is_ok());
    assert!(!modified.ends_with('Z'), "a server-zone offset: {modified}");

    let doc = client
        .get(&format!("/api/v1/document/{unid}?dataSource=mail"))
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.body["Form"], "Person");
    assert_eq!(doc.body["FirstName"], "Ann");
    assert_eq!(doc.body["Categories"], json!(["CRM", "VIP"]));
    assert_eq!(doc.body["@meta"], meta);
    assert!(
        doc.body.get("CompanyName").is_none(),
        "a missing item is an absent key"
    );
}

/// createDocument / updateDocument: "'Form' is required" → 400BadRequest.
#[tokio::test]
async fn a_document_without_form_is_400() {
    let client = Client::start().await;
    let answer = client
        .post(
            "/api/v1/document?dataSource=mail",
            json!({"FirstName": "Ann"}),
        )
        .await;
    assert_basis_error(&answer, StatusCode::BAD_REQUEST);
}

/// Every basis operation takes `dataSource` (required, "Scope name").
#[tokio::test]
async fn the_data_source_must_name_the_mail_scope() {
    let client = Client::start().await;
    let missing = client
        .post("/api/v1/document", person("Ann", json!("CRM")))
        .await;
    assert_basis_error(&missing, StatusCode::BAD_REQUEST);
    let other = client
        .post(
            "/api/v1/document?dataSource=names",
            person("Ann", json!("CRM")),
        )
        .await;
    assert_basis_error(&other, StatusCode::NOT_FOUND);
    client.domino.set_data_source("mymail");
    let renamed = client
        .post(
            "/api/v1/document?dataSource=mymail",
            person("Ann", json!("CRM")),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
}

/// "A DRAPI schema must declare it multi-value, or only the first value is returned"
/// (connectors.md A2, C4).
#[tokio::test]
async fn a_single_value_schema_truncates_categories() {
    let client = Client::start().await;
    let unid = client.create(person("Ann", json!(["CRM", "VIP"]))).await["unid"]
        .as_str()
        .unwrap()
        .to_string();
    client
        .domino
        .schema(|s| s.set_multi_value("Categories", false));
    let doc = client
        .get(&format!("/api/v1/document/{unid}?dataSource=mail"))
        .await;
    assert_eq!(doc.body["Categories"], "CRM");
}

/// patchDocument ("null removes item") and updateDocument (all items replaced): each save
/// gives a new revision and ETag.
#[tokio::test]
async fn patch_merges_put_replaces_and_both_bump_the_revision() {
    let client = Client::start().await;
    let meta = client.create(person("Ann", json!("CRM"))).await;
    let unid = meta["unid"].as_str().unwrap();
    let path = format!("/api/v1/document/{unid}?dataSource=mail");

    let patched = client
        .send(
            Method::PATCH,
            &path,
            Some(json!({"CompanyName": "Acme", "Categories": null})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    assert_eq!(patched.body["FirstName"], "Ann");
    assert_eq!(patched.body["CompanyName"], "Acme");
    assert!(patched.body.get("Categories").is_none());
    assert_ne!(patched.body["@meta"]["revision"], meta["revision"]);
    assert_ne!(patched.body["@meta"]["etag"], meta["etag"]);

    let put = client
        .send(
            Method::PUT,
            &path,
            Some(json!({"Form": "Person", "LastName": "Lee"})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK);
    assert!(put.body.get("FirstName").is_none());
    assert_eq!(put.body["LastName"], "Lee");
    assert_ne!(
        put.body["@meta"]["revision"],
        patched.body["@meta"]["revision"]
    );
}

/// updateDocument's `revision`: "If db config "requireRevisionToUpdate" is enabled, then
/// revision is required"; a stale one is refused (its status is undocumented, connectors.md
/// C5: the emulator answers 409). Without the setting it is not checked.
#[tokio::test]
async fn require_revision_to_update_refuses_stale_revisions() {
    let client = Client::start().await;
    let meta = client.create(person("Ann", json!("CRM"))).await;
    let unid = meta["unid"].as_str().unwrap();
    let stale = meta["revision"].as_str().unwrap();
    let patch = |revision: Option<&str>| {
        let path = match revision {
            Some(r) => format!("/api/v1/document/{unid}?dataSource=mail&revision={r}"),
            None => format!("/api/v1/document/{unid}?dataSource=mail"),
        };
        let client = &client;
        async move {
            client
                .send(Method::PATCH, &path, Some(json!({"FirstName": "Bo"})))
                .await
        }
    };
    // Not required: an old revision goes through.
    let first = patch(Some(stale)).await;
    assert_eq!(first.status, StatusCode::OK);
    let fresh = first.body["@meta"]["revision"]
        .as_str()
        .unwrap()
        .to_string();

    client.domino.schema(|s| s.require_revision = true);
    assert_basis_error(&patch(None).await, StatusCode::BAD_REQUEST);
    assert_basis_error(&patch(Some(stale)).await, StatusCode::CONFLICT);
    assert_eq!(patch(Some(&fresh)).await.status, StatusCode::OK);
}

/// deleteDocument: StatusMessage `{status: "OK", statusCode: 200, message, unid}`; the
/// document is then gone (404NotFound).
#[tokio::test]
async fn delete_answers_a_status_message_and_the_document_is_gone() {
    let client = Client::start().await;
    let unid = client.create(person("Ann", json!("CRM"))).await["unid"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/document/{unid}?dataSource=mail");
    let deleted = client.send(Method::DELETE, &path, None).await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.body["statusCode"], 200);
    assert_eq!(deleted.body["unid"], unid);
    assert_basis_error(&client.get(&path).await, StatusCode::NOT_FOUND);
    assert_basis_error(
        &client.send(Method::DELETE, &path, None).await,
        StatusCode::NOT_FOUND,
    );
}

/// DQL `@ModifiedInThisFile > @dt('…Z')` with `Form` and `Categories` terms (connectors.md
/// A1 "Change detection", C6: timestamps carry offsets), through `POST /query`.
#[tokio::test]
async fn dql_finds_what_changed_since_a_time() {
    let clock = Clock::at(2026, 12, 1, 9);
    let client = Client::with(clock.start().await).await;
    let old = client.create(person("Old", json!(["CRM"]))).await;
    clock.advance(Duration::hours(2));
    let crm = client.create(person("New", json!(["VIP", "CRM"]))).await;
    client.create(person("Other", json!("Private"))).await;
    client
        .create(json!({"Form": "Task", "Subject": "Call", "Categories": "CRM"}))
        .await;

    let since = "@ModifiedInThisFile > @dt('2026-12-01T10:00:00Z')";
    let found = client
        .query(
            &format!("{since} and Form = 'Person' and Categories = 'CRM'"),
            0,
            100,
        )
        .await;
    let unids: Vec<&Value> = found.iter().map(|d| &d["@meta"]["unid"]).collect();
    assert_eq!(unids, vec![&crm["unid"]]);

    // The same instant written with an offset.
    let with_offset = client
        .query(
            "@ModifiedInThisFile > @dt('2026-12-01T05:00:00-05:00') and Form = 'Person'",
            0,
            100,
        )
        .await;
    assert_eq!(with_offset.len(), 2);

    let all_crm = client.query("Categories = 'CRM'", 0, 100).await;
    assert_eq!(all_crm.len(), 3);
    assert_eq!(all_crm[0]["@meta"]["unid"], old["unid"]);
}

/// The query operation's `start` ("zero based") and `count`: offset paging with no next
/// links (connectors.md C3); a client pages until a short page.
#[tokio::test]
async fn query_pages_by_offset_until_a_short_page() {
    let client = Client::start().await;
    client.domino.seed(5, 0, 0);
    let mut seen = Vec::new();
    let mut start = 0;
    loop {
        let page = client.query("Form = 'Person'", start, 2).await;
        seen.extend(page.iter().map(|d| d["@meta"]["unid"].clone()));
        if page.len() < 2 {
            break;
        }
        start += page.len();
    }
    assert_eq!(seen.len(), 5);
    seen.dedup();
    assert_eq!(seen.len(), 5);
}

/// A query DRAPI would not run as asked (a term outside the subset, a time without an
/// offset, no `action`) is a 400, never a silently wrong answer.
#[tokio::test]
async fn unsupported_dql_is_400() {
    let client = Client::start().await;
    for query in [
        "Form = 'Person' or Form = 'Task'",
        "@ModifiedInThisFile > @dt('2026-12-01T10:00:00')",
    ] {
        let answer = client
            .post(
                "/api/v1/query?dataSource=mail&action=execute",
                json!({ "query": query }),
            )
            .await;
        assert_basis_error(&answer, StatusCode::BAD_REQUEST);
    }
    let no_action = client
        .post(
            "/api/v1/query?dataSource=mail",
            json!({"query": "Form = 'Person'"}),
        )
        .await;
    assert_basis_error(&no_action, StatusCode::BAD_REQUEST);
}

/// bulkDocumentEtagByUnid (`POST /bulk/etag`): per UNID `{exists, etag}`, "useful in finding
/// if a doc has been updated or deleted" — deletions never show in queries (connectors.md
/// C7).
#[tokio::test]
async fn deletions_show_only_through_bulk_etag() {
    let clock = Clock::at(2026, 12, 1, 9);
    let client = Client::with(clock.start().await).await;
    let kept = client.create(person("Kept", json!("CRM"))).await;
    let gone = client.create(person("Gone", json!("CRM"))).await;
    clock.advance(Duration::hours(1));
    let gone_unid = gone["unid"].as_str().unwrap().to_string();
    client.domino.mail_file(|m| m.delete(&gone_unid));

    let changed = client
        .query("@ModifiedInThisFile > @dt('2026-12-01T09:30:00Z')", 0, 100)
        .await;
    assert!(changed.is_empty(), "a deletion is no change a query sees");

    let answer = client
        .post(
            "/api/v1/bulk/etag?dataSource=mail",
            json!({"unids": [kept["unid"], gone["unid"]]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let kept_unid = kept["unid"].as_str().unwrap();
    assert_eq!(
        answer.body[kept_unid],
        json!({"exists": true, "etag": kept["etag"]})
    );
    assert_eq!(answer.body[gone_unid.as_str()]["exists"], false);
}

/// The Notes user's own edit (through the handle) is a change like any: new ETag, and a
/// `@ModifiedInThisFile` query finds it (connectors.md A1 "Change detection").
#[tokio::test]
async fn an_edit_in_notes_shows_in_queries_and_etags() {
    let clock = Clock::at(2026, 12, 1, 9);
    let client = Client::with(clock.start().await).await;
    let meta = client.create(person("Ann", json!("CRM"))).await;
    let unid = meta["unid"].as_str().unwrap().to_string();
    clock.advance(Duration::minutes(5));
    client.domino.mail_file(|m| {
        let mut items = serde_json::Map::new();
        items.insert("CompanyName".into(), json!("Acme"));
        m.update(&unid, items, false);
    });
    let changed = client
        .query("@ModifiedInThisFile > @dt('2026-12-01T09:01:00Z')", 0, 10)
        .await;
    assert_eq!(changed.len(), 1);
    assert_ne!(changed[0]["@meta"]["etag"], meta["etag"]);
}

/// A storm of 503s (components.responses carry the basis envelope), then service resumes.
#[tokio::test]
async fn fail_next_answers_that_many_failures() {
    let client = Client::start().await;
    client.domino.fail_next(2, 503);
    let path = "/api/v1/bulk/etag?dataSource=mail";
    for _ in 0..2 {
        let answer: Answer = client.post(path, json!({"unids": []})).await;
        assert_basis_error(&answer, StatusCode::SERVICE_UNAVAILABLE);
    }
    assert_eq!(
        client.post(path, json!({"unids": []})).await.status,
        StatusCode::OK
    );
}

/// 403Forbidden when the mail file's ACL does not let the user in (connectors.md C10).
#[tokio::test]
async fn no_acl_access_is_403() {
    let client = Client::start().await;
    client.domino.set_access(USER, false);
    let answer = client
        .post("/api/v1/bulk/etag?dataSource=mail", json!({"unids": []}))
        .await;
    assert_basis_error(&answer, StatusCode::FORBIDDEN);
}

/// Held requests stay unanswered until released (a slow or hung server).
#[tokio::test]
async fn held_requests_wait_for_release() {
    let client = Client::start().await;
    client.domino.hold();
    let request = client.post("/api/v1/bulk/etag?dataSource=mail", json!({"unids": []}));
    tokio::pin!(request);
    // The request cannot be answered while held: poll it until the server has it.
    let before = client.domino.requests();
    loop {
        tokio::select! {
            _ = &mut request => panic!("answered while held"),
            _ = tokio::task::yield_now() => {}
        }
        if client.domino.requests() > before {
            break;
        }
    }
    client.domino.release();
    assert_eq!(request.await.status, StatusCode::OK);
}

/// `seed` fills the mail file with contacts, to-dos and calendar entries of their forms.
#[tokio::test]
async fn seed_fills_the_mail_file() {
    let client = Client::start().await;
    let seeded = client.domino.seed(4, 3, 2);
    assert_eq!(
        (
            seeded.contacts.len(),
            seeded.entries.len(),
            seeded.todos.len()
        ),
        (4, 3, 2)
    );
    assert_eq!(client.query("Form = 'Person'", 0, 100).await.len(), 4);
    assert_eq!(client.query("Form = 'Task'", 0, 100).await.len(), 2);
    assert_eq!(client.query("Form = 'Appointment'", 0, 100).await.len(), 3);
    assert_eq!(
        client
            .query("Form = 'Person' and Categories = 'CRM'", 0, 100)
            .await
            .len(),
        2
    );
}
