//! The emulator against Microsoft Graph's documentation, over HTTP: each test names the page
//! (in microsoftgraph/microsoft-graph-docs-contrib, or the issue where Graph's behaviour was
//! seen) that the behaviour it checks follows.

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
mod common;

use common::{Client, error_code};
use tandem_graph_emulator::{Kind, MAILBOX_CONCURRENCY};

/// concepts/errors.md: a 401 without a valid token, in the error envelope with `innerError`.
#[tokio::test]
async fn requests_without_a_valid_token_are_refused_in_the_error_envelope() {
    let c = Client::start().await;
    let response = c
        .http
        .get(c.url("/me/contactFolders"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(error_code(&body), "InvalidAuthenticationToken");
    assert!(
        body["error"]["innerError"]["request-id"].is_string(),
        "{body}"
    );
    c.graph.expire_tokens();
    let (status, body) = c.get("/me/contactFolders", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

/// api/user-post-contactfolders.md: a folder is created once; Exchange refuses a second with
/// the same name (ErrorFolderExists).
#[tokio::test]
async fn a_contact_folder_is_created_once() {
    let c = Client::start().await;
    let (_, folders) = c.get("/me/contactFolders", &[]).await;
    assert_eq!(folders["value"][0]["displayName"], "Contacts");
    c.folder("Salesforce Contacts").await;
    let (status, body) = c
        .post(
            "/me/contactFolders",
            json!({"displayName": "Salesforce Contacts"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "ErrorFolderExists");
}

/// resources/contact.md and api/contact-update.md: every write gives a new change key and ETag;
/// errors.md: an `If-Match` with a stale one is a 412 (ErrorIrresolvableConflict,
/// msgraph-sdk-dotnet#1201) and changes nothing.
#[tokio::test]
async fn every_write_changes_the_etag_and_a_stale_if_match_is_a_412() {
    let c = Client::start().await;
    let folder = c.folder("Salesforce Contacts").await;
    let created = c.contact(&folder, "Ana").await;
    let id = created["id"].as_str().unwrap();
    let etag = created["@odata.etag"].as_str().unwrap().to_string();
    assert_eq!(
        created["jobTitle"],
        Value::Null,
        "absent properties are null"
    );
    assert_eq!(created["businessPhones"], json!([]));

    let (status, _, updated) = c
        .exchange(
            reqwest::Method::PATCH,
            &format!("/me/contacts/{id}"),
            &[("If-Match", &etag)],
            Some(json!({"jobTitle": "Buyer"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_ne!(updated["@odata.etag"], json!(etag));
    assert_eq!(
        updated["givenName"], "Ana",
        "a PATCH keeps what it does not name"
    );

    let (status, _, stale) = c
        .exchange(
            reqwest::Method::PATCH,
            &format!("/me/contacts/{id}"),
            &[("If-Match", &etag)],
            Some(json!({"jobTitle": "Overwritten"})),
        )
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(error_code(&stale), "ErrorIrresolvableConflict");
    let (_, now) = c.get(&format!("/me/contacts/{id}"), &[]).await;
    assert_eq!(now["jobTitle"], "Buyer");

    let (status, _, bad) = c
        .exchange(
            reqwest::Method::PATCH,
            &format!("/me/contacts/{id}"),
            &[],
            Some(json!({"favouriteColour": "red"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&bad), "RequestBodyRead");

    let (status, _, _) = c
        .exchange(
            reqwest::Method::DELETE,
            &format!("/me/contacts/{id}"),
            &[],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, gone) = c.get(&format!("/me/contacts/{id}"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&gone), "ErrorItemNotFound");
}

/// errors.md (412): a write whose `If-Match` names the version the client read fails once the
/// user has saved the item in between — the race `edit_before_next_write` stages — and the
/// user's edit is what the item holds.
#[tokio::test]
async fn a_user_edit_between_a_read_and_a_write_makes_the_write_a_412() {
    let c = Client::start().await;
    let folder = c.folder("Salesforce Contacts").await;
    let created = c.contact(&folder, "Ana").await;
    let id = created["id"].as_str().unwrap();
    let etag = created["@odata.etag"].as_str().unwrap().to_string();
    c.graph
        .edit_before_next_write(id, json!({"mobilePhone": "+49 170 1"}));
    let (status, _, stale) = c
        .exchange(
            reqwest::Method::PATCH,
            &format!("/me/contacts/{id}"),
            &[("If-Match", &etag)],
            Some(json!({"jobTitle": "Buyer"})),
        )
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{stale}");
    let (_, now) = c.get(&format!("/me/contacts/{id}"), &[]).await;
    assert_eq!(now["mobilePhone"], "+49 170 1");
    assert_eq!(now["jobTitle"], Value::Null);
}

/// concepts/json-batching.md: each request of a batch succeeds or fails on its own inside the
/// batch's 200 — a staged failure of one (`fail_in_next_batch`) leaves the others carried out.
#[tokio::test]
async fn one_request_of_a_batch_fails_and_the_others_are_carried_out() {
    let c = Client::start().await;
    let folder = c.folder("Salesforce Contacts").await;
    c.graph.fail_in_next_batch(1, 503);
    let requests: Vec<Value> = ["Ana", "Bo", "Cleo"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            json!({"id": i.to_string(), "method": "POST",
                   "url": format!("/me/contactFolders/{folder}/contacts"),
                   "headers": {"Content-Type": "application/json"},
                   "body": {"givenName": name}})
        })
        .collect();
    let (status, _, answer) = c
        .exchange(
            reqwest::Method::POST,
            "/$batch",
            &[],
            Some(json!({"requests": requests})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let statuses: Vec<u64> = answer["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![201, 503, 201]);
    let (_, listed) = c
        .get(&format!("/me/contactFolders/{folder}/contacts"), &[])
        .await;
    assert_eq!(
        listed["value"].as_array().unwrap().len(),
        2,
        "Bo was not made"
    );
}

/// concepts/delta-query-overview.md and api/contact-delta.md: a round follows nextLinks to a
/// deltaLink, pages may be empty and still carry a nextLink (`Prefer: odata.maxpagesize` sets
/// their size); the next round lists what changed, deletions as `@removed`.
#[tokio::test]
async fn delta_rounds_list_the_folder_then_its_changes_and_removals() {
    let c = Client::start().await;
    let folder = c.folder("Salesforce Contacts").await;
    let mut ids = Vec::new();
    for name in ["Ana", "Bo", "Cleo", "Dev", "Eli"] {
        ids.push(
            c.contact(&folder, name).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    c.graph.empty_pages(2);
    let start = format!("/me/contactFolders/{folder}/contacts/delta");
    let small = [("Prefer", "odata.maxpagesize=2")];
    let (items, pages, delta) = c.round(&start, &small).await;
    assert_eq!(items.len(), 5);
    assert_eq!(pages, 2 + 3, "two empty pages, then three of two");

    let (items, _, delta) = c.round(&delta, &small).await;
    assert!(items.is_empty(), "nothing changed: {items:?}");

    c.exchange(
        reqwest::Method::PATCH,
        &format!("/me/contacts/{}", ids[1]),
        &[],
        Some(json!({"jobTitle": "CFO"})),
    )
    .await;
    c.exchange(
        reqwest::Method::DELETE,
        &format!("/me/contacts/{}", ids[2]),
        &[],
        None,
    )
    .await;
    let (items, _, _) = c.round(&delta, &small).await;
    assert_eq!(items.len(), 2, "{items:?}");
    let changed = items.iter().find(|i| i["id"] == json!(ids[1])).unwrap();
    assert_eq!(changed["jobTitle"], "CFO");
    let removed = items.iter().find(|i| i["id"] == json!(ids[2])).unwrap();
    assert_eq!(removed["@removed"]["reason"], "deleted");
}

/// delta-query-overview.md: an evicted sync state is a 410; the body Graph gives
/// (SyncStateNotFound, microsoft-graph-docs#2350); a round without a token starts over.
#[tokio::test]
async fn an_evicted_delta_token_is_a_410_and_a_new_round_starts_over() {
    let c = Client::start().await;
    let folder = c.folder("Salesforce Contacts").await;
    c.contact(&folder, "Ana").await;
    let start = format!("/me/contactFolders/{folder}/contacts/delta");
    let (_, _, delta) = c.round(&start, &[]).await;
    c.graph.evict_delta_tokens();
    let (status, body) = c.get(&delta, &[]).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(error_code(&body), "SyncStateNotFound");
    let (items, _, delta) = c.round(&start, &[]).await;
    assert_eq!(items.len(), 1);
    let (items, _, _) = c.round(&delta, &[]).await;
    assert!(items.is_empty(), "tokens given after the eviction work");
}

/// concepts/outlook-immutable-id.md: an item's id changes when it moves to another folder
/// unless the request asks for immutable ids; a move shows in delta as leaving one folder and
/// joining the other.
#[tokio::test]
async fn ids_change_on_a_move_unless_immutable_ids_are_asked_for() {
    let c = Client::start().await;
    let crm = c.folder("Salesforce Contacts").await;
    let other = c.folder("Friends").await;
    let immutable = [("Prefer", "IdType=\"ImmutableId\"")];
    let (status, made) = {
        let (status, _, body) = c
            .exchange(
                reqwest::Method::POST,
                &format!("/me/contactFolders/{crm}/contacts"),
                &immutable,
                Some(json!({"givenName": "Ana"})),
            )
            .await;
        (status, body)
    };
    assert_eq!(status, StatusCode::CREATED);
    let stable = made["id"].as_str().unwrap().to_string();
    let (_, plain) = c.get(&format!("/me/contacts/{stable}"), &[]).await;
    let rest = plain["id"].as_str().unwrap().to_string();
    assert_ne!(rest, stable, "two ids for one contact");
    let (_, _, delta) = c
        .round(
            &format!("/me/contactFolders/{crm}/contacts/delta"),
            &immutable,
        )
        .await;

    c.graph
        .mailbox(|m| m.move_item(&stable, Kind::Contact, &other))
        .unwrap();
    let (_, moved) = c.get(&format!("/me/contacts/{stable}"), &immutable).await;
    assert_eq!(moved["id"], json!(stable), "the immutable id stays");
    let (_, moved) = c.get(&format!("/me/contacts/{stable}"), &[]).await;
    assert_ne!(moved["id"], json!(rest), "the REST id changed");
    let (status, _) = c.get(&format!("/me/contacts/{rest}"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the old REST id is gone");
    let (items, _, _) = c.round(&delta, &immutable).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], json!(stable));
    assert!(
        items[0]["@removed"].is_object(),
        "it left the folder: {items:?}"
    );
}

/// concepts/throttling.md: 429 with `Retry-After` (and without, as OfficeDev/outlook-dev-docs#144
/// saw); throttling-limits.md: at most 4 requests in flight per mailbox (MailboxConcurrency,
/// magodo/terraform-provider-outlook#21).
#[tokio::test]
async fn throttling_answers_429_and_more_than_four_requests_in_flight_are_refused() {
    let c = Client::start().await;
    c.graph.throttle(1, Some(3));
    c.graph.throttle(1, None);
    let (status, headers, body) = c
        .exchange(reqwest::Method::GET, "/me/contactFolders", &[], None)
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(&body), "ApplicationThrottled");
    assert_eq!(headers["retry-after"], "3");
    let (status, headers, _) = c
        .exchange(reqwest::Method::GET, "/me/contactFolders", &[], None)
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.get("retry-after").is_none());
    let (status, _) = c.get("/me/contactFolders", &[]).await;
    assert_eq!(status, StatusCode::OK, "the storm is over");

    // Six at once while the mailbox holds what it admitted: two are refused at the door.
    c.graph.hold();
    let c = std::sync::Arc::new(c);
    let calls: Vec<_> = (0..MAILBOX_CONCURRENCY + 2)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.get("/me/contactFolders", &[]).await })
        })
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while calls.iter().filter(|h| h.is_finished()).count() < 2 {
        assert!(std::time::Instant::now() < deadline, "two are refused");
        tokio::task::yield_now().await;
    }
    c.graph.release();
    let answers: Vec<(StatusCode, Value)> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let refused = answers
        .iter()
        .filter(|(s, b)| {
            *s == StatusCode::TOO_MANY_REQUESTS && error_code(b) == "ApplicationThrottled"
        })
        .count();
    let served = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!((served, refused), (MAILBOX_CONCURRENCY, 2), "{answers:?}");
}

/// singlevaluelegacyextendedproperty-get.md: items are found by a single-value extended
/// property with `$filter`, and carry it with `$expand` (how a client finds what it created
/// before a crash).
#[tokio::test]
async fn a_contact_is_found_by_its_extended_property() {
    let c = Client::start().await;
    let folder = c.folder("Salesforce Contacts").await;
    let property = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name tandemId";
    let (status, _) = c
        .post(
            &format!("/me/contactFolders/{folder}/contacts"),
            json!({"givenName": "Ana", "singleValueExtendedProperties": [
                {"id": property, "value": "con-01"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    c.contact(&folder, "Bo").await;
    let filter = format!(
        "singleValueExtendedProperties/Any(ep: ep/id eq '{property}' and ep/value eq 'con-01')"
    );
    let expand = format!("singleValueExtendedProperties($filter=id eq '{property}')");
    let url = reqwest::Url::parse_with_params(
        &c.url(&format!("/me/contactFolders/{folder}/contacts")),
        &[("$filter", filter.as_str()), ("$expand", expand.as_str())],
    )
    .unwrap();
    let (status, found) = c.get(url.as_str(), &[]).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let found = found["value"].as_array().unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["givenName"], "Ana");
    assert_eq!(
        found[0]["singleValueExtendedProperties"][0]["value"],
        "con-01"
    );
}

/// concepts/json-batching.md: at most 20 requests, ids unique, each answered in its own slot of
/// a 200; a request whose `dependsOn` failed answers 424 and is not run.
#[tokio::test]
async fn a_batch_answers_each_request_and_skips_those_whose_dependency_failed() {
    let c = Client::start().await;
    let folder = c.folder("Salesforce Contacts").await;
    let batch = json!({"requests": [
        {"id": "1", "method": "POST", "url": format!("/me/contactFolders/{folder}/contacts"),
         "headers": {"Content-Type": "application/json"}, "body": {"givenName": "Ana"}},
        {"id": "2", "method": "PATCH", "url": "/me/contacts/AAMkAnone",
         "headers": {"Content-Type": "application/json"}, "body": {"jobTitle": "x"}},
        {"id": "3", "method": "DELETE", "url": "/me/contacts/AAMkAnone", "dependsOn": ["2"]},
        {"id": "4", "method": "GET", "url": "/me/contactFolders", "dependsOn": ["1"]},
    ]});
    let (status, body) = c.post("/$batch", batch).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let by_id = |id: &str| {
        body["responses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_id("1")["status"], 201);
    assert_eq!(by_id("1")["body"]["givenName"], "Ana");
    assert_eq!(by_id("2")["status"], 404);
    assert_eq!(by_id("2")["body"]["error"]["code"], "ErrorItemNotFound");
    assert_eq!(by_id("3")["status"], 424);
    assert_eq!(by_id("4")["status"], 200);
    let (_, list) = c
        .get(&format!("/me/contactFolders/{folder}/contacts"), &[])
        .await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1, "created once");

    let too_many: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/me/contactFolders"}))
        .collect();
    let (status, body) = c.post("/$batch", json!({"requests": too_many})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let twice = json!({"requests": [
        {"id": "1", "method": "GET", "url": "/me/contactFolders"},
        {"id": "1", "method": "GET", "url": "/me/contactFolders"},
    ]});
    let (status, _) = c.post("/$batch", twice).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// resources/todotasklist.md and resources/todotask.md: the "Tasks" list is the
/// `defaultList`; a task's status and importance take their documented values only; its delta
/// (api/todotask-delta.md) works like a folder's; and To Do tasks are not covered by immutable
/// ids (outlook-immutable-id.md), so a task moved to another list gets a new id either way.
#[tokio::test]
async fn to_do_lists_hold_tasks_with_their_documented_values_and_deltas() {
    let c = Client::start().await;
    let (_, lists) = c.get("/me/todo/lists", &[]).await;
    let default = lists["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["wellknownListName"] == "defaultList")
        .expect("the Tasks list");
    assert_eq!(default["displayName"], "Tasks");
    let list = default["id"].as_str().unwrap().to_string();

    let (status, task) = c
        .post(
            &format!("/me/todo/lists/{list}/tasks"),
            json!({"title": "Send the quote",
                   "dueDateTime": {"dateTime": "2027-03-12T00:00:00.0000000", "timeZone": "Europe/Berlin"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    assert_eq!(task["status"], "notStarted");
    assert_eq!(task["importance"], "normal");
    let id = task["id"].as_str().unwrap().to_string();
    let (status, _, bad) = c
        .exchange(
            reqwest::Method::PATCH,
            &format!("/me/todo/lists/{list}/tasks/{id}"),
            &[],
            Some(json!({"status": "done"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&bad), "RequestBodyRead");
    let start = format!("/me/todo/lists/{list}/tasks/delta");
    let (items, _, delta) = c.round(&start, &[]).await;
    assert_eq!(items.len(), 1);
    let (status, _, done) = c
        .exchange(
            reqwest::Method::PATCH,
            &format!("/me/todo/lists/{list}/tasks/{id}"),
            &[("If-Match", task["@odata.etag"].as_str().unwrap())],
            Some(json!({"status": "completed",
                        "completedDateTime": {"dateTime": "2027-03-11T16:15:00.0000000", "timeZone": "UTC"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let (items, _, _) = c.round(&delta, &[]).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["status"], "completed");

    // Another list; a task is not a contact.
    let (status, other) = c
        .post("/me/todo/lists", json!({"displayName": "Follow-ups"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{other}");
    let other = other["id"].as_str().unwrap().to_string();
    let (status, _) = c.get(&format!("/me/contacts/{id}"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let immutable = [("Prefer", "IdType=\"ImmutableId\"")];
    c.graph
        .mailbox(|m| m.move_item(&id, Kind::Task, &other))
        .unwrap();
    let (_, moved) = c
        .get(&format!("/me/todo/lists/{other}/tasks"), &immutable)
        .await;
    assert_ne!(
        moved["value"][0]["id"],
        json!(id),
        "a moved task has a new id"
    );
    let (status, _) = c
        .get(&format!("/me/todo/lists/{list}/tasks/{id}"), &[])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
