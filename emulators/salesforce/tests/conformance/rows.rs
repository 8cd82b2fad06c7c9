//! sObject Rows: status codes, error bodies, validation, object rules, conditional requests, upsert.

use chrono::Duration;
use serde_json::{Value as Json, json};
use tandem_salesforce_emulator::ids;

use super::common::{Sf, start};

#[tokio::test]
async fn crud_status_codes_and_system_fields() {
    let sf = start().await;
    let r = sf
        .post(
            "/sobjects/Contact",
            json!({"FirstName": "Ada", "LastName": "Lovelace", "Email": "ada@example.com"}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["success"], true);
    assert_eq!(r.body["errors"], json!([]));
    let id = r.body["id"].as_str().expect("id").to_string();
    assert_eq!(id.len(), 18);
    assert!(id.starts_with("003"));
    assert_eq!(
        ids::to18(&id[..15]).as_deref(),
        Some(id.as_str()),
        "valid case-safe suffix"
    );

    let r = sf.get(&format!("/sobjects/Contact/{id}")).await;
    assert_eq!(r.status, 200);
    let b = &r.body;
    assert_eq!(
        b["attributes"],
        json!({"type": "Contact", "url": format!("/services/data/v60.0/sobjects/Contact/{id}")})
    );
    assert_eq!(b["Name"], "Ada Lovelace");
    assert_eq!(b["IsDeleted"], false);
    assert_eq!(b["CreatedDate"], "2024-05-06T10:00:00.000+0000");
    assert_eq!(b["SystemModstamp"], b["LastModifiedDate"]);
    let me = sf.emu.org().current_user_id();
    assert_eq!(b["CreatedById"], me.as_str());
    assert_eq!(b["OwnerId"], me.as_str());
    assert_eq!(
        r.header("last-modified"),
        Some("Mon, 06 May 2024 10:00:00 GMT")
    );
    assert!(r.header("etag").is_none(), "only Account has ETags");
    let keys: Vec<&String> = b.as_object().expect("object").keys().collect();
    assert!(keys.len() > 40);

    // 15-character ids work too; ?fields= narrows the record.
    let r = sf
        .get(&format!(
            "/sobjects/Contact/{}?fields=LastName,Email",
            &id[..15]
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_object().map(|o| o.len()), Some(3));
    assert_eq!(r.body["Email"], "ada@example.com");

    sf.emu.advance_clock(Duration::minutes(5));
    let r = sf
        .patch(
            &format!("/sobjects/Contact/{id}"),
            json!({"Title": "Countess", "Email": null}),
        )
        .await;
    assert_eq!(r.status, 204);
    assert!(r.text.is_empty());
    let b = sf.get(&format!("/sobjects/Contact/{id}")).await.body;
    assert_eq!(b["Title"], "Countess");
    assert_eq!(b["Email"], Json::Null);
    assert_eq!(b["LastModifiedDate"], "2024-05-06T10:05:00.000+0000");
    assert_eq!(b["CreatedDate"], "2024-05-06T10:00:00.000+0000");

    let r = sf.delete(&format!("/sobjects/Contact/{id}")).await;
    assert_eq!(r.status, 204);
    for r in [
        sf.get(&format!("/sobjects/Contact/{id}")).await,
        sf.delete(&format!("/sobjects/Contact/{id}")).await,
        sf.patch(&format!("/sobjects/Contact/{id}"), json!({"Title": "x"}))
            .await,
    ] {
        assert_eq!(r.status, 404);
        assert_eq!(
            r.text,
            r#"[{"message":"entity is deleted","errorCode":"ENTITY_IS_DELETED","fields":[]}]"#
        );
    }
    let r = sf.get("/sobjects/Contact/003Kd0000009999AAA").await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.text,
        r#"[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]"#
    );
    // An id of another object under this object's URL is not found either.
    let r = sf.get(&format!("/sobjects/Account/{id}")).await;
    assert_eq!(r.error_code(), "NOT_FOUND");
    assert_eq!(sf.get("/sobjects/Foo__c/x").await.status, 404);
    let r = sf
        .send(sf.authed(reqwest::Method::PUT, &format!("/sobjects/Contact/{id}")))
        .await;
    assert_eq!(r.status, 405);
}

#[tokio::test]
async fn validation_errors_have_the_documented_bodies() {
    let sf = start().await;
    let r = sf
        .post("/sobjects/Contact", json!({"FirstName": "No"}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text,
        r#"[{"message":"Required fields are missing: [LastName]","errorCode":"REQUIRED_FIELD_MISSING","fields":["LastName"]}]"#
    );
    let r = sf
        .post("/sobjects/Contact", json!({"LastName": "x".repeat(81)}))
        .await;
    assert_eq!(r.error_code(), "STRING_TOO_LONG");
    assert_eq!(r.body[0]["fields"], json!(["LastName"]));
    assert!(r.error_message().contains("max length=80"), "{}", r.text);
    let r = sf
        .post(
            "/sobjects/Contact",
            json!({"LastName": "X", "Shoe_Size__c": 44}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "INVALID_FIELD");
    assert!(
        r.error_message()
            .contains("No such column 'Shoe_Size__c' on sobject of type Contact")
    );
    let r = sf
        .send(
            sf.authed(reqwest::Method::POST, "/sobjects/Contact")
                .header("Content-Type", "application/json")
                .body("{\"LastName\": "),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "JSON_PARSER_ERROR");
    let r = sf
        .post("/sobjects/Contact", json!([{"LastName": "X"}]))
        .await;
    assert_eq!(r.error_code(), "JSON_PARSER_ERROR");
    let r = sf
        .post("/sobjects/Contact", json!({"LastName": "X", "Name": "Y"}))
        .await;
    assert_eq!(r.error_code(), "INVALID_FIELD_FOR_INSERT_UPDATE");
    let r = sf
        .post(
            "/sobjects/Contact",
            json!({"LastName": "X", "Email": "not-an-email"}),
        )
        .await;
    assert_eq!(r.error_code(), "INVALID_EMAIL_ADDRESS");
    let r = sf
        .post(
            "/sobjects/Contact",
            json!({"LastName": "X", "Birthdate": "1990-02-30"}),
        )
        .await;
    assert_eq!(r.error_code(), "JSON_PARSER_ERROR");
    let r = sf
        .post(
            "/sobjects/Contact",
            json!({"LastName": "X", "AccountId": "001Kd0000009999AAA"}),
        )
        .await;
    assert_eq!(r.error_code(), "INVALID_CROSS_REFERENCE_KEY");
    let r = sf
        .post(
            "/sobjects/Contact",
            json!({"LastName": "X", "AccountId": "garbage"}),
        )
        .await;
    assert_eq!(r.error_code(), "MALFORMED_ID");
    let r = sf
        .post(
            "/sobjects/Contact",
            json!({"LastName": "X", "Id": "003Kd0000009999AAA"}),
        )
        .await;
    assert_eq!(r.error_code(), "INVALID_FIELD");
    let r = sf.post("/sobjects/Event", json!({"Subject": "x", "StartDateTime": "2024-05-06T10:00:00Z", "DurationInMinutes": 30, "ShowAs": "Maybe"})).await;
    assert_eq!(r.error_code(), "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
    assert_eq!(r.body[0]["fields"], json!(["ShowAs"]));
    assert!(
        r.error_message()
            .ends_with("bad value for restricted picklist field: Maybe")
    );
    let r = sf
        .post(
            "/sobjects/Task",
            json!({"Subject": "x", "Status": "Done-ish"}),
        )
        .await;
    assert_eq!(r.error_code(), "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
    let r = sf
        .post("/sobjects/Task", json!({"Subject": "x", "Priority": null}))
        .await;
    assert_eq!(r.error_code(), "REQUIRED_FIELD_MISSING");
    let inactive = sf.emu.org().user_id("sam.carter@tandem.example");
    assert!(inactive.is_none(), "inactive users can't log in");
    // Users are read-only here.
    let r = sf.post("/sobjects/User", json!({"LastName": "X"})).await;
    assert_eq!(r.status, 400);
    // Update validation: clearing a required field.
    let id = sf.create("Contact", json!({"LastName": "Keep"})).await;
    let r = sf
        .patch(
            &format!("/sobjects/Contact/{id}"),
            json!({"LastName": null}),
        )
        .await;
    assert_eq!(r.error_code(), "REQUIRED_FIELD_MISSING");
    // Nothing was changed by the failed writes.
    assert_eq!(sf.emu.org().count("Contact", true), 1);
}

async fn event(sf: &Sf, body: Json) -> Json {
    let r = sf.post("/sobjects/Event", body).await;
    if r.status != 201 {
        return r.body;
    }
    sf.get(&format!(
        "/sobjects/Event/{}",
        r.body["id"].as_str().unwrap_or("")
    ))
    .await
    .body
}

#[tokio::test]
async fn event_duration_and_date_rules() {
    let sf = start().await;
    // Timed event from a duration: end, ActivityDateTime, ActivityDate (user zone Europe/Berlin) derived.
    let e = event(&sf, json!({"Subject": "Call", "StartDateTime": "2024-05-06T23:30:00Z", "DurationInMinutes": 60})).await;
    assert_eq!(e["EndDateTime"], "2024-05-07T00:30:00.000+0000");
    assert_eq!(e["ActivityDateTime"], "2024-05-06T23:30:00.000+0000");
    assert_eq!(
        e["ActivityDate"], "2024-05-07",
        "local date in the user's zone (Berlin, UTC+2)"
    );
    assert_eq!(e["ShowAs"], "Busy");
    assert_eq!(e["IsAllDayEvent"], false);
    // From an end time; offsets accepted on input, UTC +0000 on output.
    let e = event(&sf, json!({"StartDateTime": "2024-05-07T09:00:00+02:00", "EndDateTime": "2024-05-07T09:45:00+02:00"})).await;
    assert_eq!(e["DurationInMinutes"], 45);
    assert_eq!(e["StartDateTime"], "2024-05-07T07:00:00.000+0000");
    // Both, inconsistent.
    let e = event(&sf, json!({"StartDateTime": "2024-05-07T09:00:00Z", "EndDateTime": "2024-05-07T10:00:00Z", "DurationInMinutes": 30})).await;
    assert_eq!(e[0]["errorCode"], "FIELD_INTEGRITY_EXCEPTION");
    // Neither.
    let e = event(&sf, json!({"StartDateTime": "2024-05-07T09:00:00Z"})).await;
    assert_eq!(e[0]["errorCode"], "REQUIRED_FIELD_MISSING");
    // No start.
    let e = event(&sf, json!({"Subject": "x", "DurationInMinutes": 30})).await;
    assert_eq!(e[0]["errorCode"], "REQUIRED_FIELD_MISSING");
    // Ends before it starts.
    let e = event(
        &sf,
        json!({"StartDateTime": "2024-05-07T09:00:00Z", "EndDateTime": "2024-05-07T08:00:00Z"}),
    )
    .await;
    assert_eq!(e[0]["errorCode"], "FIELD_INTEGRITY_EXCEPTION");
    // Longer than 14 days.
    let e = event(
        &sf,
        json!({"StartDateTime": "2024-05-07T09:00:00Z", "EndDateTime": "2024-05-21T09:01:00Z"}),
    )
    .await;
    assert_eq!(e[0]["errorCode"], "FIELD_INTEGRITY_EXCEPTION");
    let e = event(
        &sf,
        json!({"StartDateTime": "2024-05-07T09:00:00Z", "EndDateTime": "2024-05-21T09:00:00Z"}),
    )
    .await;
    assert_eq!(e["DurationInMinutes"], 14 * 1440);
    // ActivityDateTime must match StartDateTime; ActivityDate must match its date.
    let e = event(&sf, json!({"StartDateTime": "2024-05-07T09:00:00Z", "ActivityDateTime": "2024-05-07T10:00:00Z", "DurationInMinutes": 5})).await;
    assert_eq!(e[0]["errorCode"], "FIELD_INTEGRITY_EXCEPTION");
    let e = event(&sf, json!({"StartDateTime": "2024-05-07T09:00:00Z", "ActivityDate": "2024-05-09", "DurationInMinutes": 5})).await;
    assert_eq!(e[0]["errorCode"], "FIELD_INTEGRITY_EXCEPTION");
    // Legacy ActivityDateTime alone is the start.
    let e = event(
        &sf,
        json!({"ActivityDateTime": "2024-05-07T09:00:00Z", "DurationInMinutes": 15}),
    )
    .await;
    assert_eq!(e["StartDateTime"], "2024-05-07T09:00:00.000+0000");
}

#[tokio::test]
async fn all_day_events_are_dates_with_an_inclusive_last_day() {
    let sf = start().await;
    let e = event(
        &sf,
        json!({"Subject": "Fair", "IsAllDayEvent": true, "ActivityDate": "2024-05-08"}),
    )
    .await;
    assert_eq!(e["StartDateTime"], "2024-05-08T00:00:00.000+0000");
    assert_eq!(e["EndDateTime"], "2024-05-08T00:00:00.000+0000");
    assert_eq!(e["DurationInMinutes"], 1440);
    assert_eq!(e["EndDate"], "2024-05-08");
    let e = event(&sf, json!({"IsAllDayEvent": true, "StartDateTime": "2024-05-08T00:00:00Z", "EndDateTime": "2024-05-10T00:00:00Z"})).await;
    assert_eq!(e["DurationInMinutes"], 3 * 1440);
    assert_eq!(e["ActivityDate"], "2024-05-08");
    assert_eq!(e["EndDate"], "2024-05-10");
    let e = event(
        &sf,
        json!({"IsAllDayEvent": true, "ActivityDate": "2024-05-08", "DurationInMinutes": 2880}),
    )
    .await;
    assert_eq!(e["EndDateTime"], "2024-05-09T00:00:00.000+0000");
    let e = event(&sf, json!({"IsAllDayEvent": true, "ActivityDate": "2024-05-08", "EndDateTime": "2024-05-23T00:00:00Z"})).await;
    assert_eq!(
        e[0]["errorCode"], "FIELD_INTEGRITY_EXCEPTION",
        "15 days is too long"
    );
    let e = event(&sf, json!({"IsAllDayEvent": true})).await;
    assert_eq!(e[0]["errorCode"], "REQUIRED_FIELD_MISSING");
    // Moving an all-day event keeps its length.
    let id = sf
        .create(
            "Event",
            json!({"IsAllDayEvent": true, "ActivityDate": "2024-05-08", "DurationInMinutes": 2880}),
        )
        .await;
    assert_eq!(
        sf.patch(
            &format!("/sobjects/Event/{id}"),
            json!({"ActivityDate": "2024-06-01"})
        )
        .await
        .status,
        204
    );
    let e = sf.get(&format!("/sobjects/Event/{id}")).await.body;
    assert_eq!(e["StartDateTime"], "2024-06-01T00:00:00.000+0000");
    assert_eq!(e["EndDate"], "2024-06-02");
}

#[tokio::test]
async fn private_events_cant_have_who_or_what() {
    let sf = start().await;
    let contact = sf.create("Contact", json!({"LastName": "Who"})).await;
    let e = event(&sf, json!({"IsPrivate": true, "WhoId": contact, "StartDateTime": "2024-05-07T09:00:00Z", "DurationInMinutes": 5})).await;
    assert_eq!(e[0]["errorCode"], "FIELD_INTEGRITY_EXCEPTION");
    assert_eq!(e[0]["fields"], json!(["IsPrivate"]));
    let e = event(
        &sf,
        json!({"IsPrivate": true, "StartDateTime": "2024-05-07T09:00:00Z", "DurationInMinutes": 5}),
    )
    .await;
    assert_eq!(e["IsPrivate"], true);
    // Who must be a contact or lead; an account id is the wrong type.
    let account = sf.create("Account", json!({"Name": "Acme"})).await;
    let e = event(
        &sf,
        json!({"WhoId": account, "StartDateTime": "2024-05-07T09:00:00Z", "DurationInMinutes": 5}),
    )
    .await;
    assert_eq!(e[0]["errorCode"], "FIELD_INTEGRITY_EXCEPTION");
    // AccountId is derived from WhatId.
    let e = event(&sf, json!({"WhoId": contact, "WhatId": account, "StartDateTime": "2024-05-07T09:00:00Z", "DurationInMinutes": 5})).await;
    assert_eq!(e["AccountId"], account.as_str());
}

#[tokio::test]
async fn task_status_drives_is_closed_and_completed_date() {
    let sf = start().await;
    let id = sf.create("Task", json!({"Subject": "Follow up"})).await;
    let t = sf.get(&format!("/sobjects/Task/{id}")).await.body;
    assert_eq!(t["Status"], "Not Started");
    assert_eq!(t["Priority"], "Normal");
    assert_eq!(t["IsClosed"], false);
    assert_eq!(t["CompletedDateTime"], Json::Null);
    assert_eq!(t["TaskSubtype"], "Task");
    sf.emu.advance_clock(Duration::hours(1));
    assert_eq!(
        sf.patch(
            &format!("/sobjects/Task/{id}"),
            json!({"Status": "Completed", "Priority": "High"})
        )
        .await
        .status,
        204
    );
    let t = sf.get(&format!("/sobjects/Task/{id}")).await.body;
    assert_eq!(t["IsClosed"], true);
    assert_eq!(t["IsHighPriority"], true);
    assert_eq!(t["CompletedDateTime"], "2024-05-06T11:00:00.000+0000");
    let r = sf
        .patch(&format!("/sobjects/Task/{id}"), json!({"IsClosed": false}))
        .await;
    assert_eq!(
        r.error_code(),
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        "IsClosed is read-only"
    );
    assert_eq!(
        sf.patch(
            &format!("/sobjects/Task/{id}"),
            json!({"Status": "In Progress"})
        )
        .await
        .status,
        204
    );
    let t = sf.get(&format!("/sobjects/Task/{id}")).await.body;
    assert_eq!(t["IsClosed"], false);
    assert_eq!(t["CompletedDateTime"], Json::Null);
    // The TaskStatus table is queryable.
    let r = sf
        .query("SELECT MasterLabel, IsClosed FROM TaskStatus WHERE IsClosed = true")
        .await;
    assert_eq!(r.body["totalSize"], 1);
    assert_eq!(r.body["records"][0]["MasterLabel"], "Completed");
}

#[tokio::test]
async fn conditional_requests() {
    let sf = start().await;
    let id = sf.create("Contact", json!({"LastName": "Cond"})).await;
    let path = format!("/sobjects/Contact/{id}");
    // If-Modified-Since at/after the last change: 304.
    let r = sf
        .send(
            sf.authed(reqwest::Method::GET, &path)
                .header("If-Modified-Since", "Mon, 06 May 2024 10:00:00 GMT"),
        )
        .await;
    assert_eq!(r.status, 304);
    assert!(r.text.is_empty());
    let r = sf
        .send(
            sf.authed(reqwest::Method::GET, &path)
                .header("If-Modified-Since", "Mon, 06 May 2024 09:59:59 GMT"),
        )
        .await;
    assert_eq!(r.status, 200);
    // Someone else edits a minute later.
    sf.emu.advance_clock(Duration::minutes(1));
    assert_eq!(
        sf.patch(&path, json!({"Title": "theirs"})).await.status,
        204
    );
    let stale = sf
        .send(
            sf.authed(reqwest::Method::PATCH, &path)
                .header("If-Unmodified-Since", "Mon, 06 May 2024 10:00:00 GMT")
                .json(&json!({"Title": "mine"})),
        )
        .await;
    assert_eq!(stale.status, 412);
    assert_eq!(stale.error_code(), "PRECONDITION_FAILED");
    assert_eq!(sf.get(&path).await.body["Title"], "theirs");
    // Second granularity: the exact second of the change is not "after".
    let ok = sf
        .send(
            sf.authed(reqwest::Method::PATCH, &path)
                .header("If-Unmodified-Since", "Mon, 06 May 2024 10:01:00 GMT")
                .json(&json!({"Title": "mine"})),
        )
        .await;
    assert_eq!(ok.status, 204);
    let bad = sf
        .send(
            sf.authed(reqwest::Method::PATCH, &path)
                .header("If-Unmodified-Since", "yesterday")
                .json(&json!({"Title": "x"})),
        )
        .await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn account_etags() {
    let sf = start().await;
    let id = sf.create("Account", json!({"Name": "Etag Inc"})).await;
    let path = format!("/sobjects/Account/{id}");
    let r = sf.get(&path).await;
    let tag = r.header("etag").expect("Account has an ETag").to_string();
    assert!(tag.starts_with('"') && tag.ends_with('"'));
    let r = sf
        .send(
            sf.authed(reqwest::Method::GET, &path)
                .header("If-None-Match", &tag),
        )
        .await;
    assert_eq!(r.status, 304);
    let r = sf
        .send(
            sf.authed(reqwest::Method::PATCH, &path)
                .header("If-Match", "\"stale\"")
                .json(&json!({"Phone": "1"})),
        )
        .await;
    assert_eq!(r.status, 412);
    let r = sf
        .send(
            sf.authed(reqwest::Method::PATCH, &path)
                .header("If-Match", &tag)
                .json(&json!({"Phone": "1"})),
        )
        .await;
    assert_eq!(r.status, 204);
    let new_tag = sf.get(&path).await.header("etag").map(str::to_string);
    assert_ne!(new_tag.as_deref(), Some(tag.as_str()));
    let r = sf
        .send(
            sf.authed(reqwest::Method::DELETE, &path)
                .header("If-Match", &tag),
        )
        .await;
    assert_eq!(r.status, 412, "DELETE honours If-Match on Account");
    let r = sf
        .post("/sobjects/Account", json!({"Industry": "Banking"}))
        .await;
    assert_eq!(
        r.text,
        r#"[{"message":"Required fields are missing: [Name]","errorCode":"REQUIRED_FIELD_MISSING","fields":["Name"]}]"#
    );
}

#[tokio::test]
async fn upsert_by_external_id() {
    let sf = start().await;
    let path = "/sobjects/Contact/Tandem_Id__c/pim-123";
    let r = sf.patch(path, json!({"LastName": "Upserted"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["created"], true);
    let id = r.body["id"].as_str().expect("id").to_string();
    let r = sf.patch(path, json!({"Title": "Again"})).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        json!({"id": id, "success": true, "errors": [], "created": false})
    );
    // Older API versions answer 204 for the update.
    let old = sf
        .send(
            sf.http
                .patch(format!("{}/services/data/v45.0{path}", sf.emu.base_url()))
                .bearer_auth(&sf.token)
                .json(&json!({"Title": "Old"})),
        )
        .await;
    assert_eq!(old.status, 204);
    assert_eq!(sf.emu.org().count("Contact", false), 1);
    // updateOnly doesn't create.
    let r = sf
        .patch(
            "/sobjects/Contact/Tandem_Id__c/pim-999?updateOnly=true",
            json!({"LastName": "X"}),
        )
        .await;
    assert_eq!(r.status, 404);
    // GET by external id.
    let r = sf.get(path).await;
    assert_eq!(r.body["Id"], id.as_str());
    // Two records with the same (non-unique) external id: 300 with their URLs.
    sf.emu
        .org()
        .create(
            "Contact",
            json!({"LastName": "Twin", "Tandem_Id__c": "pim-123"}),
        )
        .expect("twin");
    let r = sf.patch(path, json!({"Title": "Which?"})).await;
    assert_eq!(r.status, 300);
    let urls = r.body.as_array().expect("array of urls");
    assert_eq!(urls.len(), 2);
    assert!(urls.iter().all(|u| {
        u.as_str()
            .is_some_and(|u| u.starts_with("/services/data/v60.0/sobjects/Contact/003"))
    }));
    // Only external-id fields can be used.
    assert_eq!(
        sf.patch("/sobjects/Contact/LastName/Twin", json!({}))
            .await
            .status,
        400
    );
    assert_eq!(
        sf.patch("/sobjects/Contact/Nope__c/1", json!({}))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn event_relations_make_child_events_for_user_invitees() {
    let sf = start().await;
    let colleague = sf
        .emu
        .org()
        .user_id("jamie.chen@tandem.example")
        .expect("colleague");
    let contact = sf.create("Contact", json!({"LastName": "Guest"})).await;
    let ev = sf.create("Event", json!({"Subject": "Kickoff", "StartDateTime": "2024-05-07T09:00:00Z", "DurationInMinutes": 60})).await;
    let rel = sf
        .create(
            "EventRelation",
            json!({"EventId": ev, "RelationId": colleague}),
        )
        .await;
    assert!(rel.starts_with("0RE"));
    let c = sf
        .create(
            "EventRelation",
            json!({"EventId": ev, "RelationId": contact}),
        )
        .await;
    let r = sf
        .post(
            "/sobjects/EventRelation",
            json!({"EventId": ev, "RelationId": contact}),
        )
        .await;
    assert_eq!(r.error_code(), "DUPLICATE_VALUE");
    let parent = sf.get(&format!("/sobjects/Event/{ev}")).await.body;
    assert_eq!(parent["IsGroupEvent"], true);
    assert_eq!(parent["GroupEventType"], "1");
    let children = sf.query(&format!("SELECT Id, OwnerId, Subject, IsChild FROM Event WHERE IsChild = true AND OwnerId = '{colleague}'")).await;
    assert_eq!(children.body["totalSize"], 1, "{}", children.text);
    let child = children.body["records"][0]["Id"]
        .as_str()
        .expect("child")
        .to_string();
    // The child mirrors the parent.
    assert_eq!(
        sf.patch(
            &format!("/sobjects/Event/{ev}"),
            json!({"Subject": "Kickoff (moved)"})
        )
        .await
        .status,
        204
    );
    assert_eq!(
        sf.get(&format!("/sobjects/Event/{child}")).await.body["Subject"],
        "Kickoff (moved)"
    );
    let r = sf
        .post(
            "/sobjects/EventRelation",
            json!({"EventId": child, "RelationId": contact}),
        )
        .await;
    assert_eq!(
        r.error_code(),
        "FIELD_INTEGRITY_EXCEPTION",
        "no invitees on a child event"
    );
    let r = sf.get(&format!("/sobjects/EventRelation/{c}")).await;
    assert_eq!(r.body["Status"], "New");
    assert_eq!(r.body["IsInvitee"], true);
    // Removing the invitee removes their copy; deleting the event removes the relations.
    assert_eq!(
        sf.delete(&format!("/sobjects/EventRelation/{rel}"))
            .await
            .status,
        204
    );
    assert_eq!(
        sf.get(&format!("/sobjects/Event/{child}"))
            .await
            .error_code(),
        "ENTITY_IS_DELETED"
    );
    assert_eq!(
        sf.get(&format!("/sobjects/Event/{ev}")).await.body["IsGroupEvent"],
        false
    );
    assert_eq!(
        sf.delete(&format!("/sobjects/Event/{ev}")).await.status,
        204
    );
    assert_eq!(
        sf.get(&format!("/sobjects/EventRelation/{c}"))
            .await
            .error_code(),
        "ENTITY_IS_DELETED"
    );
}

#[tokio::test]
async fn describe_reports_types_lengths_and_picklists() {
    let sf = start().await;
    let d = sf.get("/sobjects/Event/describe").await.body;
    assert_eq!(d["keyPrefix"], "00U");
    let fields = d["fields"].as_array().expect("fields");
    let show_as = fields
        .iter()
        .find(|f| f["name"] == "ShowAs")
        .expect("ShowAs");
    assert_eq!(show_as["restrictedPicklist"], true);
    assert_eq!(
        show_as["picklistValues"].as_array().map(|v| v.len()),
        Some(3)
    );
    let desc = fields
        .iter()
        .find(|f| f["name"] == "Description")
        .expect("Description");
    assert_eq!(desc["length"], 32000);
    assert_eq!(desc["filterable"], false);
    let g = sf.get("/sobjects").await.body;
    assert!(
        g["sobjects"]
            .as_array()
            .is_some_and(|s| s.iter().any(|o| o["name"] == "EventRelation"))
    );
}

#[tokio::test]
async fn hostile_input_gets_errors_not_crashes() {
    let sf = start().await;
    // Encoded external-id values are decoded like the real API does.
    let r = sf
        .patch(
            "/sobjects/Contact/Tandem_Id__c/pim%20with%20space",
            json!({"LastName": "Enc"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = sf.query("SELECT Tandem_Id__c FROM Contact").await;
    assert_eq!(r.body["records"][0]["Tandem_Id__c"], "pim with space");
    for (path, body) in [
        (
            "/sobjects/Contact",
            json!({"LastName": "X", "Birthdate": "0001-01-01"}),
        ),
        (
            "/sobjects/Event",
            json!({"StartDateTime": "9999-12-31T23:59:59Z", "DurationInMinutes": 30}),
        ),
        (
            "/sobjects/Account",
            json!({"Name": "X", "NumberOfEmployees": i64::MIN}),
        ),
        (
            "/sobjects/Event",
            json!({"StartDateTime": "2024-05-06T07:00:00Z", "DurationInMinutes": 15, "IsRecurrence2": true, "Recurrence2PatternText": "FREQ=WEEKLY;BYDAY=MÖ"}),
        ),
        (
            "/sobjects/Event",
            json!({"StartDateTime": "1700-01-04T07:00:00Z", "DurationInMinutes": 15, "IsRecurrence2": true, "Recurrence2PatternText": "FREQ=DAILY"}),
        ),
    ] {
        let r = sf.post(path, body).await;
        assert!(r.status == 400 || r.status == 201, "{path}: {}", r.text);
    }
    for id in ["003Kd00000000ü0AAA", "ü", "%FF%FE"] {
        assert_eq!(sf.get(&format!("/sobjects/Contact/{id}")).await.status, 404);
    }
    let nested = |n: usize| {
        format!(
            "SELECT Id FROM Contact WHERE {}LastName = 'x'{}",
            "(".repeat(n),
            ")".repeat(n)
        )
    };
    assert_eq!(
        sf.query(&nested(1500)).await.error_code(),
        "MALFORMED_QUERY"
    );
    assert_eq!(
        sf.query(&nested(60)).await.status,
        200,
        "moderate nesting is fine"
    );
    // URI + headers beyond 16,384 bytes: 414.
    assert_eq!(sf.query(&nested(5000)).await.status, 414);
    let nots = format!(
        "SELECT Id FROM Contact WHERE {} LastName = 'x'",
        "NOT ".repeat(2000)
    );
    assert_eq!(sf.query(&nots).await.error_code(), "MALFORMED_QUERY");
    assert_eq!(
        sf.query("SELECT Id FROM Contact WHERE CreatedDate = LAST_N_DAYS:99999999999")
            .await
            .status,
        200
    );
    let r = sf.control(json!({"advanceClockSeconds": i64::MAX})).await;
    assert_eq!(r.status, 200);
    let r = sf
        .control(
            json!({"enqueue": [{"fault": "unavailable", "count": u64::MAX}], "clearQueue": false}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(
        sf.send(
            sf.http
                .get(format!("{}/__emulator/state", sf.emu.base_url()))
        )
        .await
        .status
            == 200
    );
}
