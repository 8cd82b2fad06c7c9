//! The PIM API's item endpoints (openapi.pim.json 1.0.2) against the emulator, over HTTP:
//! searchPIM and getPimItem / updatePimItem, what a client has for contacts and to-dos without
//! a REST API scope for the mail file. Each test names the operation it follows.

mod common;

use common::{Client, assert_pim_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn person(client: &Client, first: &str) -> String {
    let items = json!({
        "Form": "Person", "FirstName": first, "LastName": "Lee", "Categories": ["CRM", "VIP"],
    });
    client
        .domino
        .mail_file(|m| m.create(items.as_object().cloned().unwrap()))
}

/// searchPIM: SearchQuery `{type: "DQL", query, count, skip}` → SearchResult `{count,
/// result}`; the result's documents carry `@unid`, `@noteid`, `@created`, `@lastmodified`
/// (SearchResult's example) beside their items, and `count`/`skip` page them.
#[tokio::test]
async fn search_finds_documents_by_dql_and_pages_by_skip() {
    let client = Client::start().await;
    let mut made = Vec::new();
    for first in ["Ann", "Ben", "Cleo"] {
        made.push(person(&client, first).await);
    }
    client.domino.mail_file(|m| {
        m.create(
            json!({"Form": "Task", "Subject": "Call"})
                .as_object()
                .cloned()
                .unwrap(),
        )
    });
    let page = client
        .post(
            "/api/pim-v1/search",
            json!({"type": "DQL", "query": "Form = 'Person'", "count": 2, "skip": 1}),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.body["count"], 3, "every document found");
    let result = page.body["result"].as_array().unwrap();
    let unids: Vec<&Value> = result.iter().map(|d| &d["@unid"]).collect();
    assert_eq!(unids, vec![&json!(made[1]), &json!(made[2])]);
    assert_eq!(result[0]["FirstName"], "Ben");
    assert_eq!(
        result[0]["Categories"],
        json!(["CRM", "VIP"]),
        "a list stays a list"
    );
    for attribute in ["@noteid", "@created", "@lastmodified"] {
        assert!(
            result[0].get(attribute).is_some(),
            "{attribute}: {}",
            result[0]
        );
    }
    assert!(
        result[0].get("@meta").is_none(),
        "the PIM shape, not the basis one"
    );
}

/// searchPIM's `type` is DQL or FT (SearchQuery's enum); anything else is 400 in the PIM
/// envelope. Full-text search is not emulated: 501, as an unimplemented operation.
#[tokio::test]
async fn search_types_other_than_dql_are_refused() {
    let client = Client::start().await;
    let wrong = client
        .post("/api/pim-v1/search", json!({"type": "SQL", "query": "x"}))
        .await;
    assert_pim_error(&wrong, StatusCode::BAD_REQUEST);
    let ft = client
        .post(
            "/api/pim-v1/search",
            json!({"type": "FT", "query": "Horse race"}),
        )
        .await;
    assert_pim_error(&ft, StatusCode::NOT_IMPLEMENTED);
}

/// getPimItem ("Universal document fetch") and updatePimItem ("Will update fields on a
/// document in mail regardless of the type of document"): the fields sent are set, the others
/// stay, and the answer says it was updated.
#[tokio::test]
async fn a_pim_item_reads_and_updates_its_fields() {
    let client = Client::start().await;
    let unid = person(&client, "Ann").await;
    let read = client.get(&format!("/api/pim-v1/pimitem/{unid}")).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body["@unid"], json!(unid));
    assert_eq!(read.body["FirstName"], "Ann");
    let updated = client
        .send(
            Method::PUT,
            &format!("/api/pim-v1/pimitem/{unid}"),
            Some(json!({"JobTitle": "Director", "Categories": null})),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["message"], "Updated Successfully");
    let doc = client.domino.mail_file(|m| m.get(&unid).cloned()).unwrap();
    assert_eq!(doc.item("JobTitle"), Some(&json!("Director")));
    assert_eq!(
        doc.item("FirstName"),
        Some(&json!("Ann")),
        "the others stay"
    );
    assert_eq!(doc.item("Categories"), None, "null removes");
    let missing = client
        .get("/api/pim-v1/pimitem/0123456789ABCDEF0123456789ABCDEF")
        .await;
    assert_pim_error(&missing, StatusCode::NOT_FOUND);
}

/// The PIM API reaches the user's own mailbox with the `MAIL` scope (scopes.md): a token
/// without it is 403, whatever the data source's scope.
#[tokio::test]
async fn pim_items_need_the_mail_scope() {
    let mut client = Client::start().await;
    let login = client
        .post(
            "/api/v1/auth",
            json!({"username": common::USER, "password": common::PASSWORD, "scope": "$DATA"}),
        )
        .await;
    client.token = login.body["bearer"].as_str().unwrap().to_string();
    let answer = client
        .post(
            "/api/pim-v1/search",
            json!({"type": "DQL", "query": "Form = 'Person'"}),
        )
        .await;
    assert_pim_error(&answer, StatusCode::FORBIDDEN);
}
