//! sObject Collections and Composite: per-record results, allOrNone, limits, one API call each.

use serde_json::{Value as Json, json};

use super::common::start;

#[tokio::test]
async fn create_update_retrieve_delete() {
    let sf = start().await;
    let before = sf.emu.api_usage().0;
    let r = sf
        .post(
            "/composite/sobjects",
            json!({"allOrNone": false, "records": [
                {"attributes": {"type": "Contact"}, "LastName": "One"},
                {"attributes": {"type": "Contact"}, "FirstName": "No last name"},
                {"attributes": {"type": "Account"}, "Name": "Mixed types are fine"}
            ]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(sf.emu.api_usage().0 - before, 1, "one API call");
    let results = r.body.as_array().expect("array");
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["success"], true);
    assert_eq!(
        results[1],
        json!({"id": null, "success": false, "errors": [{"statusCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [LastName]", "fields": ["LastName"]}]})
    );
    assert!(
        results[2]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("001"))
    );
    let one = results[0]["id"].as_str().expect("id").to_string();

    let r = sf
        .patch(
            "/composite/sobjects",
            json!({"records": [
                {"attributes": {"type": "Contact"}, "id": one, "Title": "Updated"},
                {"attributes": {"type": "Contact"}, "Title": "no id"},
                {"attributes": {"type": "Contact"}, "id": "003Kd0000009999AAA", "Title": "ghost"}
            ]}),
        )
        .await;
    let results = r.body.as_array().expect("array");
    assert_eq!(
        results[0],
        json!({"id": one, "success": true, "errors": []})
    );
    assert_eq!(results[1]["errors"][0]["statusCode"], "MISSING_ARGUMENT");
    assert_eq!(
        results[2]["errors"][0]["statusCode"],
        "INVALID_CROSS_REFERENCE_KEY"
    );

    let r = sf
        .get(&format!(
            "/composite/sobjects/Contact?ids={one},003Kd0000009999AAA&fields=LastName,Title"
        ))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body[0]["Title"], "Updated");
    assert_eq!(r.body[1], Json::Null);
    let r = sf
        .post(
            "/composite/sobjects/Contact",
            json!({"ids": [one], "fields": ["Title"]}),
        )
        .await;
    assert_eq!(r.body[0]["Title"], "Updated");
    let r = sf
        .get(&format!(
            "/composite/sobjects/Contact?ids={one}&fields=Nope"
        ))
        .await;
    assert_eq!(r.error_code(), "INVALID_FIELD");

    let r = sf
        .delete(&format!(
            "/composite/sobjects?ids={one},{one}&allOrNone=false"
        ))
        .await;
    let results = r.body.as_array().expect("array");
    assert_eq!(
        results[0],
        json!({"id": one, "success": true, "errors": []})
    );
    assert_eq!(results[1]["errors"][0]["statusCode"], "ENTITY_IS_DELETED");
}

#[tokio::test]
async fn all_or_none_rolls_back_and_reports_the_others() {
    let sf = start().await;
    let r = sf
        .post(
            "/composite/sobjects",
            json!({"allOrNone": true, "records": [
                {"attributes": {"type": "Contact"}, "LastName": "Fine"},
                {"attributes": {"type": "Contact"}, "LastName": "x".repeat(81)},
                {"attributes": {"type": "Contact"}, "LastName": "Also fine"}
            ]}),
        )
        .await;
    let results = r.body.as_array().expect("array");
    assert_eq!(results[1]["errors"][0]["statusCode"], "STRING_TOO_LONG");
    for i in [0, 2] {
        assert_eq!(
            results[i],
            json!({"id": null, "success": false, "errors": [{"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK", "message": "Record rolled back because not all records were valid and the request was using AllOrNone header", "fields": []}]})
        );
    }
    assert_eq!(
        sf.emu.org().count("Contact", true),
        0,
        "nothing was written"
    );
    // Deletes roll back too: the first id stays live.
    let a = sf.create("Contact", json!({"LastName": "A"})).await;
    let r = sf
        .delete(&format!(
            "/composite/sobjects?ids={a},003Kd0000009999AAA&allOrNone=true"
        ))
        .await;
    assert_eq!(
        r.body[0]["errors"][0]["statusCode"],
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(sf.get(&format!("/sobjects/Contact/{a}")).await.status, 200);
    assert_eq!(sf.emu.org().is_deleted(&a), Some(false));
}

#[tokio::test]
async fn limits_and_malformed_requests() {
    let sf = start().await;
    let records: Vec<Json> = (0..201)
        .map(|n| json!({"attributes": {"type": "Contact"}, "LastName": format!("C{n}")}))
        .collect();
    let r = sf
        .post("/composite/sobjects", json!({"records": records}))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "EXCEEDED_ID_LIMIT");
    let records: Vec<Json> = (0..200)
        .map(|n| json!({"attributes": {"type": "Contact"}, "LastName": format!("C{n}")}))
        .collect();
    let r = sf
        .post("/composite/sobjects", json!({"records": records}))
        .await;
    assert_eq!(r.body.as_array().map(Vec::len), Some(200));
    let r = sf
        .post(
            "/composite/sobjects",
            json!({"records": [{"LastName": "untyped"}]}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "INVALID_TYPE");
    let r = sf.post("/composite/sobjects", json!({"records": [{"attributes": {"type": "Contact"}, "LastName": "x", "id": "003Kd0000000001AAA"}]})).await;
    assert_eq!(
        r.body[0]["errors"][0]["statusCode"], "INVALID_FIELD",
        "no id on create"
    );
    let many = vec!["003Kd0000000001AAA"; 201].join(",");
    assert_eq!(
        sf.delete(&format!("/composite/sobjects?ids={many}"))
            .await
            .error_code(),
        "EXCEEDED_ID_LIMIT"
    );
    // Collections need API 42.0+.
    let r = sf
        .send(
            sf.http
                .post(format!(
                    "{}/services/data/v41.0/composite/sobjects",
                    sf.emu.base_url()
                ))
                .bearer_auth(&sf.token)
                .json(&json!({"records": []})),
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn upsert_collection_by_external_id() {
    let sf = start().await;
    let existing = sf
        .create(
            "Contact",
            json!({"LastName": "Old", "Tandem_Id__c": "pim-1"}),
        )
        .await;
    sf.create(
        "Contact",
        json!({"LastName": "Dup A", "Tandem_Id__c": "pim-dup"}),
    )
    .await;
    sf.create(
        "Contact",
        json!({"LastName": "Dup B", "Tandem_Id__c": "pim-dup"}),
    )
    .await;
    let r = sf
        .patch(
            "/composite/sobjects/Contact/Tandem_Id__c",
            json!({"allOrNone": false, "records": [
                {"attributes": {"type": "Contact"}, "Tandem_Id__c": "pim-1", "LastName": "New name"},
                {"attributes": {"type": "Contact"}, "Tandem_Id__c": "pim-2", "LastName": "Created"},
                {"attributes": {"type": "Contact"}, "Tandem_Id__c": "pim-dup", "LastName": "Ambiguous"},
                {"attributes": {"type": "Contact"}, "LastName": "No key"}
            ]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let results = r.body.as_array().expect("array");
    assert_eq!(
        results[0],
        json!({"id": existing, "success": true, "errors": [], "created": false})
    );
    assert_eq!(results[1]["created"], true);
    assert_eq!(
        results[2]["errors"][0]["statusCode"],
        "DUPLICATE_EXTERNAL_ID"
    );
    assert_eq!(results[3]["success"], false);
    assert_eq!(
        sf.get(&format!("/sobjects/Contact/{existing}")).await.body["LastName"],
        "New name"
    );
}

#[tokio::test]
async fn composite_references_and_all_or_none() {
    let sf = start().await;
    let contact = sf.create("Contact", json!({"LastName": "Invitee"})).await;
    let before = sf.emu.api_usage().0;
    let r = sf
        .post(
            "/composite",
            json!({"allOrNone": true, "compositeRequest": [
                {"method": "POST", "url": "/services/data/v60.0/sobjects/Event", "referenceId": "ev1",
                 "body": {"Subject": "Composite", "StartDateTime": "2024-05-07T09:00:00Z", "DurationInMinutes": 30}},
                {"method": "POST", "url": "/services/data/v60.0/sobjects/EventRelation", "referenceId": "rel1",
                 "body": {"EventId": "@{ev1.id}", "RelationId": contact}},
                {"method": "GET", "url": "/services/data/v60.0/sobjects/Event/@{ev1.id}?fields=Subject", "referenceId": "read"},
                {"method": "GET", "url": "/services/data/v60.0/query/?q=SELECT+Id+FROM+EventRelation", "referenceId": "q"}
            ]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(sf.emu.api_usage().0 - before, 1);
    let subs = r.body["compositeResponse"].as_array().expect("subs");
    assert_eq!(subs[0]["httpStatusCode"], 201);
    assert_eq!(subs[0]["referenceId"], "ev1");
    let ev = subs[0]["body"]["id"].as_str().expect("id");
    assert_eq!(
        subs[0]["httpHeaders"]["Location"],
        format!("/services/data/v60.0/sobjects/Event/{ev}")
    );
    assert_eq!(subs[1]["httpStatusCode"], 201);
    assert_eq!(subs[2]["body"]["Subject"], "Composite");
    assert_eq!(subs[3]["body"]["totalSize"], 1);

    // allOrNone: the failing subrequest reports its error, the others are rolled back.
    let r = sf
        .post(
            "/composite",
            json!({"allOrNone": true, "compositeRequest": [
                {"method": "POST", "url": "/services/data/v60.0/sobjects/Contact", "referenceId": "c1", "body": {"LastName": "Rolled back"}},
                {"method": "POST", "url": "/services/data/v60.0/sobjects/Contact", "referenceId": "c2", "body": {"FirstName": "missing"}},
                {"method": "PATCH", "url": "/services/data/v60.0/sobjects/Contact/@{c1.id}", "referenceId": "c3", "body": {"Title": "x"}}
            ]}),
        )
        .await;
    let subs = r.body["compositeResponse"].as_array().expect("subs");
    assert_eq!(subs[1]["httpStatusCode"], 400);
    assert_eq!(subs[1]["body"][0]["errorCode"], "REQUIRED_FIELD_MISSING");
    for i in [0, 2] {
        assert_eq!(subs[i]["httpStatusCode"], 400);
        assert_eq!(subs[i]["body"][0]["errorCode"], "PROCESSING_HALTED");
    }
    assert_eq!(
        sf.query("SELECT Id FROM Contact WHERE LastName = 'Rolled back'")
            .await
            .body["totalSize"],
        0
    );

    // Without allOrNone, a reference to a failed subrequest halts only its dependants.
    let r = sf
        .post(
            "/composite",
            json!({"compositeRequest": [
                {"method": "POST", "url": "/services/data/v60.0/sobjects/Contact", "referenceId": "bad", "body": {}},
                {"method": "PATCH", "url": "/services/data/v60.0/sobjects/Contact/@{bad.id}", "referenceId": "dep", "body": {"Title": "x"}},
                {"method": "POST", "url": "/services/data/v60.0/sobjects/Contact", "referenceId": "ok", "body": {"LastName": "Kept"}}
            ]}),
        )
        .await;
    let subs = r.body["compositeResponse"].as_array().expect("subs");
    assert_eq!(subs[1]["body"][0]["errorCode"], "PROCESSING_HALTED");
    assert_eq!(subs[2]["httpStatusCode"], 201);

    let too_many: Vec<Json> = (0..26)
        .map(|n| json!({"method": "GET", "url": "/services/data/v60.0/limits", "referenceId": format!("r{n}")}))
        .collect();
    let r = sf
        .post("/composite", json!({"compositeRequest": too_many}))
        .await;
    assert_eq!(r.status, 400);
}
