//! The emulator's calendar against Microsoft Graph's documentation, over HTTP: each test names
//! the page (in microsoftgraph/microsoft-graph-docs-contrib, or the issue where Graph's
//! behaviour was seen) that the behaviour it checks follows.

mod common;

use chrono::{TimeZone, Utc};
use common::{Client, Clock, error_code};
use reqwest::StatusCode;
use serde_json::{Value, json};

const IMMUTABLE: (&str, &str) = ("Prefer", "IdType=\"ImmutableId\"");

fn at(date_time: &str, zone: &str) -> Value {
    json!({"dateTime": date_time, "timeZone": zone})
}

async fn create(c: &Client, body: Value) -> Value {
    let (status, event) = c.post("/me/events", body).await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    event
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_string()
}

fn ids(values: &[Value]) -> Vec<String> {
    values.iter().map(id).collect()
}

/// resources/calendar.md: one default calendar; api/user-post-events.md and resources/event.md:
/// an event's properties, read back with Graph's defaults; resources/datetimetimezone.md:
/// `timeZone` takes Windows and IANA names; api/user-list-calendarview.md: reads answer in UTC
/// unless `Prefer: outlook.timezone`; errors.md: a stale `If-Match` is a 412
/// (ErrorIrresolvableConflict, msgraph-sdk-dotnet#1201); outlook-immutable-id.md: events have
/// immutable ids.
#[tokio::test]
async fn an_event_is_written_in_any_zone_and_read_in_utc_or_the_preferred_one() {
    let c = Client::start().await;
    let (status, calendars) = c.get("/me/calendars", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let calendars = calendars["value"].as_array().unwrap();
    assert_eq!(calendars.len(), 1);
    assert_eq!(calendars[0]["name"], "Calendar");
    assert_eq!(calendars[0]["isDefaultCalendar"], true);
    let calendar = id(&calendars[0]);

    let event = create(
        &c,
        json!({
            "subject": "Quote review",
            "body": {"contentType": "html", "content": "<p>Bring the <b>numbers</b></p>"},
            "start": at("2027-03-12T09:00:00", "W. Europe Standard Time"),
            "end": at("2027-03-12T10:00:00", "W. Europe Standard Time"),
            "location": {"displayName": "Room 4"},
            "categories": ["CRM"],
            "sensitivity": "private",
            "showAs": "tentative",
        }),
    )
    .await;
    assert_eq!(event["type"], "singleInstance");
    assert_eq!(event["start"], at("2027-03-12T08:00:00.0000000", "UTC"));
    assert_eq!(event["end"], at("2027-03-12T09:00:00.0000000", "UTC"));
    assert_eq!(event["originalStartTimeZone"], "W. Europe Standard Time");
    assert_eq!(event["bodyPreview"], "Bring the numbers");
    assert_eq!(
        event["importance"], "normal",
        "absent properties have Graph's defaults"
    );
    assert_eq!(event["isReminderOn"], true);
    assert_eq!(event["seriesMasterId"], Value::Null);
    assert!(event.get("transactionId").is_none(), "only when set");
    assert!(
        event.get("originalStart").is_none(),
        "not for single instances"
    );
    assert_eq!(
        event["organizer"]["emailAddress"]["address"]
            .as_str()
            .map(|a| a.contains('@')),
        Some(true)
    );
    let path = format!("/me/events/{}", id(&event));

    let (_, pacific) = c
        .get(
            &path,
            &[("Prefer", "outlook.timezone=\"Pacific Standard Time\"")],
        )
        .await;
    assert_eq!(
        pacific["start"],
        at("2027-03-12T00:00:00.0000000", "Pacific Standard Time")
    );
    let (_, berlin) = c
        .get(&path, &[("Prefer", "outlook.timezone=\"Europe/Berlin\"")])
        .await;
    assert_eq!(
        berlin["start"],
        at("2027-03-12T09:00:00.0000000", "Europe/Berlin")
    );

    let etag = event["@odata.etag"].as_str().unwrap().to_string();
    let (status, moved) = c
        .patch(
            &path,
            &[("If-Match", &etag)],
            json!({"start": at("2027-03-12T11:00:00", "Europe/Berlin"), "end": at("2027-03-12T12:00:00", "Europe/Berlin")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["start"]["dateTime"], "2027-03-12T10:00:00.0000000");
    assert_ne!(moved["changeKey"], event["changeKey"]);
    assert_eq!(
        moved["subject"], "Quote review",
        "a PATCH keeps what it does not name"
    );
    let (status, stale) = c
        .patch(&path, &[("If-Match", &etag)], json!({"subject": "x"}))
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(error_code(&stale), "ErrorIrresolvableConflict");

    let (status, made) = c
        .send(
            reqwest::Method::POST,
            &format!("/me/calendars/{calendar}/events"),
            &[IMMUTABLE],
            Some(json!({"subject": "Call", "start": at("2027-03-13T09:00:00", "UTC"), "end": at("2027-03-13T09:30:00", "UTC")})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let (_, plain) = c.get(&format!("/me/events/{}", id(&made)), &[]).await;
    assert_ne!(id(&plain), id(&made), "two ids for one event");
    let (status, _) = c
        .get(&format!("/me/events/{}", id(&plain)), &[IMMUTABLE])
        .await;
    assert_eq!(status, StatusCode::OK);

    assert_eq!(c.delete(&path).await, StatusCode::NO_CONTENT);
    let (status, gone) = c.get(&path, &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&gone), "ErrorItemNotFound");
}

/// resources/event.md: `isAllDay` events start and end at midnight in one zone (else 400,
/// ErrorInvalidRequest, "...must be at least 24 hours" as Graph words it, and
/// microsoft-graph-docs#6129), and read back midnight to midnight whatever zone a read asks
/// for (microsoft-graph-docs#1802); `sensitivity` and `showAs` take their documented values;
/// a property the event does not have, or a zone Graph does not know, is refused.
#[tokio::test]
async fn all_day_events_are_midnight_to_midnight_and_bad_values_are_refused() {
    let c = Client::start().await;
    let day = create(
        &c,
        json!({"subject": "Trade fair", "isAllDay": true,
               "start": at("2027-03-15", "Europe/Berlin"), "end": at("2027-03-17T00:00:00", "Europe/Berlin")}),
    )
    .await;
    assert_eq!(day["isAllDay"], true);
    assert_eq!(day["start"], at("2027-03-15T00:00:00.0000000", "UTC"));
    assert_eq!(day["end"], at("2027-03-17T00:00:00.0000000", "UTC"));
    let (_, pacific) = c
        .get(
            &format!("/me/events/{}", id(&day)),
            &[("Prefer", "outlook.timezone=\"Pacific Standard Time\"")],
        )
        .await;
    assert_eq!(
        pacific["start"],
        at("2027-03-15T00:00:00.0000000", "Pacific Standard Time")
    );

    for (body, code) in [
        (
            json!({"isAllDay": true, "start": at("2027-03-15T09:00:00", "UTC"), "end": at("2027-03-16T09:00:00", "UTC")}),
            "ErrorInvalidRequest",
        ),
        (
            json!({"isAllDay": true, "start": at("2027-03-15", "UTC"), "end": at("2027-03-15", "UTC")}),
            "ErrorInvalidRequest",
        ),
        (
            json!({"start": at("2027-03-15T10:00:00", "UTC"), "end": at("2027-03-15T09:00:00", "UTC")}),
            "ErrorInvalidRequest",
        ),
        (
            json!({"start": at("2027-03-15T10:00:00", "Mars/Olympus_Mons"), "end": at("2027-03-15T11:00:00", "UTC")}),
            "TimeZoneNotSupportedException",
        ),
        (
            json!({"sensitivity": "secret", "start": at("2027-03-15T10:00:00", "UTC"), "end": at("2027-03-15T11:00:00", "UTC")}),
            "RequestBodyRead",
        ),
        (
            json!({"showAs": "away", "start": at("2027-03-15T10:00:00", "UTC"), "end": at("2027-03-15T11:00:00", "UTC")}),
            "RequestBodyRead",
        ),
        (
            json!({"colour": "red", "start": at("2027-03-15T10:00:00", "UTC"), "end": at("2027-03-15T11:00:00", "UTC")}),
            "RequestBodyRead",
        ),
    ] {
        let (status, error) = c.post("/me/events", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {error}");
        assert_eq!(error_code(&error), code, "{body}");
    }
}

/// resources/event.md, `transactionId`: "A custom identifier specified by a client app for the
/// server to avoid redundant POST operations in case of client retries to create the same
/// event"; "you cannot change transactionId in a subsequent update". The docs do not say what
/// the retry answers; the emulator answers 201 with the event the first create made.
#[tokio::test]
async fn a_retried_create_with_the_same_transaction_id_makes_one_event() {
    let c = Client::start().await;
    let body = json!({"subject": "Kick-off", "transactionId": "tandem-0b1c",
                      "start": at("2027-03-12T09:00:00", "UTC"), "end": at("2027-03-12T10:00:00", "UTC")});
    let first = create(&c, body.clone()).await;
    let again = create(&c, body).await;
    assert_eq!(id(&again), id(&first));
    assert_eq!(again["transactionId"], "tandem-0b1c");
    let (_, all) = c.get("/me/events", &[]).await;
    assert_eq!(all["value"].as_array().unwrap().len(), 1, "created once");
    let (status, error) = c
        .patch(
            &format!("/me/events/{}", id(&first)),
            &[],
            json!({"transactionId": "other"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&error), "ErrorInvalidRequest");
}

/// resources/event.md (`type`, `seriesMasterId`, `originalStart`, `iCalUId` "different for each
/// occurrence"), recurrencepattern.md and recurrencerange.md (a weekly pattern, a numbered
/// range), api/event-list-instances.md (a master's occurrences and exceptions in a window,
/// `recurrence` null on them): an occurrence that is updated becomes an exception; one that is
/// deleted is cancelled and leaves every view while the master stays. Occurrences keep their
/// wall-clock time across a DST change of the series' zone. The Outlook user can do the same
/// without the API.
#[tokio::test]
async fn a_series_expands_into_occurrences_that_become_exceptions_or_are_cancelled() {
    let c = Client::start().await;
    // Mondays at 10:00 in Berlin, from 1 March 2027, six times (Berlin moves to summer time
    // on 28 March).
    let master = create(
        &c,
        json!({"subject": "Pipeline review",
               "start": at("2027-03-01T10:00:00", "Europe/Berlin"), "end": at("2027-03-01T10:30:00", "Europe/Berlin"),
               "recurrence": {
                   "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"], "firstDayOfWeek": "monday"},
                   "range": {"type": "numbered", "startDate": "2027-03-01", "numberOfOccurrences": 6}}}),
    )
    .await;
    assert_eq!(master["type"], "seriesMaster");
    assert_eq!(master["recurrence"]["range"]["numberOfOccurrences"], 6);
    let instances_path = format!(
        "/me/events/{}/instances?startDateTime=2027-03-01T00:00:00Z&endDateTime=2027-05-01T00:00:00Z",
        id(&master)
    );
    let (status, list) = c.get(&instances_path, &[]).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let occurrences = list["value"].as_array().unwrap().clone();
    assert_eq!(occurrences.len(), 6);
    for o in &occurrences {
        assert_eq!(o["type"], "occurrence");
        assert_eq!(o["seriesMasterId"], json!(id(&master)));
        assert_eq!(o["recurrence"], Value::Null);
        assert_eq!(o["subject"], "Pipeline review");
    }
    assert_eq!(
        occurrences[0]["start"]["dateTime"],
        "2027-03-01T09:00:00.0000000"
    );
    assert_eq!(occurrences[0]["originalStart"], "2027-03-01T09:00:00Z");
    assert_eq!(
        occurrences[4]["start"]["dateTime"], "2027-03-29T08:00:00.0000000",
        "10:00 in summer time"
    );
    let mut uids: Vec<&str> = occurrences
        .iter()
        .map(|o| o["iCalUId"].as_str().unwrap())
        .collect();
    uids.dedup();
    assert_eq!(uids.len(), 6, "an iCalUId per occurrence");
    let occurrence_ids = ids(&occurrences);

    let (status, exception) = c
        .patch(
            &format!("/me/events/{}", occurrence_ids[1]),
            &[],
            json!({"subject": "Pipeline review (moved)",
                   "start": at("2027-03-09T14:00:00", "Europe/Berlin"), "end": at("2027-03-09T14:30:00", "Europe/Berlin")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{exception}");
    assert_eq!(exception["type"], "exception");
    assert_eq!(exception["id"], json!(occurrence_ids[1]), "it keeps its id");
    assert_eq!(exception["originalStart"], "2027-03-08T09:00:00Z");
    assert_eq!(
        exception["start"]["dateTime"],
        "2027-03-09T13:00:00.0000000"
    );
    let (status, _) = c
        .patch(
            &format!("/me/events/{}", occurrence_ids[2]),
            &[],
            json!({"recurrence": null}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an occurrence has no recurrence of its own"
    );

    assert_eq!(
        c.delete(&format!("/me/events/{}", occurrence_ids[2])).await,
        StatusCode::NO_CONTENT
    );
    let (status, _) = c
        .get(&format!("/me/events/{}", occurrence_ids[2]), &[])
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a cancelled occurrence is gone"
    );
    let (_, master_now) = c.get(&format!("/me/events/{}", id(&master)), &[]).await;
    assert_eq!(master_now["type"], "seriesMaster", "the master stays");

    // The Outlook user drags the fourth to Friday and deletes the fifth.
    let (fourth, fifth) = (occurrence_ids[3].clone(), occurrence_ids[4].clone());
    let now = c.graph.now();
    c.graph
        .mailbox(|m| {
            m.move_occurrence(
                &fourth,
                Utc.with_ymd_and_hms(2027, 3, 26, 15, 0, 0).unwrap(),
                Utc.with_ymd_and_hms(2027, 3, 26, 15, 30, 0).unwrap(),
                now,
            )?;
            m.cancel_occurrence(&fifth)
        })
        .unwrap();
    let (_, list) = c.get(&instances_path, &[]).await;
    let now_listed = list["value"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = now_listed
        .iter()
        .map(|o| {
            (
                o["type"].as_str().unwrap(),
                o["start"]["dateTime"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("occurrence", "2027-03-01T09:00:00.0000000"),
            ("exception", "2027-03-09T13:00:00.0000000"),
            ("exception", "2027-03-26T15:00:00.0000000"),
            ("occurrence", "2027-04-05T08:00:00.0000000"),
        ]
    );

    // A calendar view shows the instances, not the master.
    let (_, view) = c
        .get(
            "/me/calendarView?startDateTime=2027-03-01T00:00:00&endDateTime=2027-03-10T00:00:00",
            &[],
        )
        .await;
    let view = view["value"].as_array().unwrap();
    assert_eq!(view.len(), 2, "{view:?}");
    assert!(view.iter().all(|e| e["type"] != "seriesMaster"));
}

/// concepts/delta-query-events.md and api/event-delta.md: a first round over a window lists
/// single events, occurrences and exceptions — and the masters of series in it — in pages
/// (`Prefer: odata.maxpagesize`, empty pages with a nextLink included), ending with a
/// deltaLink; the next round lists what changed, with `@removed` ("deleted") for deleted
/// events, cancelled occurrences, events moved out of the window, and events outside the
/// window that changed ("Filter the events under @removed for the date range that your
/// scenario requires"). Replaying a finished round's link lists nothing new.
#[tokio::test]
async fn calendar_view_delta_lists_the_window_then_what_changed_and_what_left_it() {
    let c = Client::start().await;
    let in_window = |day: u32, subject: &str| {
        json!({"subject": subject,
               "start": at(&format!("2027-03-{day:02}T09:00:00"), "UTC"),
               "end": at(&format!("2027-03-{day:02}T10:00:00"), "UTC")})
    };
    let kept = create(&c, in_window(2, "Kept")).await;
    let deleted = create(&c, in_window(3, "Deleted")).await;
    let leaving = create(&c, in_window(4, "Leaving")).await;
    let outside = create(&c, in_window(25, "Outside")).await;
    let series = create(
        &c,
        json!({"subject": "Stand-up",
               "start": at("2027-03-08T08:00:00", "UTC"), "end": at("2027-03-08T08:15:00", "UTC"),
               "recurrence": {"pattern": {"type": "daily", "interval": 1},
                              "range": {"type": "endDate", "startDate": "2027-03-08", "endDate": "2027-03-10"}}}),
    )
    .await;

    let start = "/me/calendarView/delta?startDateTime=2027-03-01T00:00:00Z&endDateTime=2027-03-15T00:00:00Z";
    let small = [("Prefer", "odata.maxpagesize=2")];
    c.graph.empty_pages(1);
    let (items, pages, delta) = c.round(start, &small).await;
    let types: Vec<&str> = items.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        items.len(),
        7,
        "three singles, the master, three occurrences: {types:?}"
    );
    assert_eq!(types.iter().filter(|t| **t == "seriesMaster").count(), 1);
    assert_eq!(types.iter().filter(|t| **t == "occurrence").count(), 3);
    assert!(!ids(&items).contains(&id(&outside)), "outside the window");
    assert_eq!(pages, 1 + 4, "one empty page, then four of two");
    assert!(delta.contains("$deltatoken="), "{delta}");
    c.graph.empty_pages(0);

    let (items, _, delta) = c.round(&delta, &small).await;
    assert!(items.is_empty(), "nothing changed: {items:?}");

    c.patch(
        &format!("/me/events/{}", id(&kept)),
        &[],
        json!({"subject": "Kept (renamed)"}),
    )
    .await;
    c.delete(&format!("/me/events/{}", id(&deleted))).await;
    c.patch(
        &format!("/me/events/{}", id(&leaving)),
        &[],
        json!({"start": at("2027-04-04T09:00:00", "UTC"), "end": at("2027-04-04T10:00:00", "UTC")}),
    )
    .await;
    c.patch(
        &format!("/me/events/{}", id(&outside)),
        &[],
        json!({"subject": "Outside (renamed)"}),
    )
    .await;
    let (_, instances) = c
        .get(
            &format!("/me/events/{}/instances?startDateTime=2027-03-01T00:00:00Z&endDateTime=2027-03-15T00:00:00Z", id(&series)),
            &[],
        )
        .await;
    let cancelled = id(&instances["value"][1]);
    c.graph
        .mailbox(|m| m.cancel_occurrence(&cancelled))
        .unwrap();
    let added = create(&c, in_window(12, "Added")).await;

    let (items, _, delta) = c.round(&delta, &[]).await;
    let removed: Vec<String> = items
        .iter()
        .filter(|e| e["@removed"]["reason"] == "deleted")
        .map(id)
        .collect();
    for gone in [id(&deleted), id(&leaving), id(&outside), cancelled.clone()] {
        assert!(removed.contains(&gone), "{gone} is @removed: {items:?}");
    }
    let present: Vec<&Value> = items
        .iter()
        .filter(|e| e.get("@removed").is_none())
        .collect();
    let renamed = present
        .iter()
        .find(|e| e["id"] == json!(id(&kept)))
        .expect("the renamed one");
    assert_eq!(renamed["subject"], "Kept (renamed)");
    assert!(present.iter().any(|e| e["id"] == json!(id(&added))));
    assert!(
        present.iter().any(|e| e["id"] == json!(id(&series))),
        "cancelling an occurrence changes its master, so the series is listed again"
    );

    let (items, _, _) = c.round(&delta, &[]).await;
    assert!(items.is_empty(), "{items:?}");
}

/// api/event-delta.md: `$select`, `$filter`, `$expand`, `$orderby` and `$search` are not
/// supported; a first request needs its window; delta-query-events.md: tokens encode the
/// window, so a token with another window is refused as an unknown sync state (410
/// syncStateNotFound, microsoft-graph-docs#2350; window-bound tokens: relaticle/relaticle#745),
/// as is an evicted one (delta-query-overview.md).
#[tokio::test]
async fn calendar_view_delta_refuses_what_it_does_not_support_and_unknown_tokens() {
    let c = Client::start().await;
    create(
        &c,
        json!({"subject": "A", "start": at("2027-03-02T09:00:00", "UTC"), "end": at("2027-03-02T10:00:00", "UTC")}),
    )
    .await;
    let start = "/me/calendarView/delta?startDateTime=2027-03-01T00:00:00Z&endDateTime=2027-03-15T00:00:00Z";
    for query in [
        "$select=subject",
        "$filter=subject eq 'A'",
        "$orderby=start/dateTime",
    ] {
        let (status, body) = c.get(&format!("{start}&{query}"), &[]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
    }
    let (status, body) = c.get("/me/calendarView/delta", &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "ErrorInvalidParameter");

    let (_, _, delta) = c.round(start, &[]).await;
    let other_window =
        format!("{delta}&startDateTime=2027-02-01T00:00:00Z&endDateTime=2027-03-15T00:00:00Z");
    let (status, body) = c.get(&other_window, &[]).await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    assert_eq!(error_code(&body), "SyncStateNotFound");
    let (status, _) = c.get(&delta, &[]).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the token with its own window still works"
    );

    // The same rounds under the calendar's own path (delta-query-events.md: "specific to a
    // calendar"); another calendar id is not found.
    let (_, calendars) = c.get("/me/calendars", &[]).await;
    let calendar = id(&calendars["value"][0]);
    let window = "startDateTime=2027-03-01T00:00:00Z&endDateTime=2027-03-15T00:00:00Z";
    let (items, _, link) = c
        .round(
            &format!("/me/calendars/{calendar}/calendarView/delta?{window}"),
            &[],
        )
        .await;
    assert_eq!(items.len(), 1);
    assert!(
        link.contains(&format!("/me/calendars/{calendar}/calendarView/delta?")),
        "{link}"
    );
    let (status, _) = c
        .get(
            &format!("/me/calendars/AAMkAnone/calendarView/delta?{window}"),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, _, delta) = c.round(start, &[]).await;
    c.graph.evict_delta_tokens();
    let (status, body) = c.get(&delta, &[]).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(error_code(&body), "SyncStateNotFound");
    let (items, _, _) = c.round(start, &[]).await;
    assert_eq!(items.len(), 1, "a round without a token starts over");
}

/// concepts/json-batching.md: events are created, read and deleted in a batch like anything
/// else, each answered in its own slot, a failed dependency a 424; concepts/throttling.md: they
/// are throttled as the rest of the mailbox is. singlevaluelegacyextendedproperty-get.md: an
/// event is found by a single-value extended property with `$filter` and carries it with
/// `$expand`.
#[tokio::test]
async fn events_go_through_batch_throttling_and_extended_property_filters() {
    let c = Client::start().await;
    let property = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name tandemId";
    let batch = json!({"requests": [
        {"id": "1", "method": "POST", "url": "/me/events", "headers": {"Content-Type": "application/json"},
         "body": {"subject": "From a batch", "start": at("2027-03-02T09:00:00", "UTC"), "end": at("2027-03-02T10:00:00", "UTC"),
                  "singleValueExtendedProperties": [{"id": property, "value": "evt-01"}]}},
        {"id": "2", "method": "GET", "url": "/me/calendarView?startDateTime=2027-03-01T00:00:00Z&endDateTime=2027-03-03T00:00:00Z", "dependsOn": ["1"]},
        {"id": "3", "method": "DELETE", "url": "/me/events/AAMkAnone"},
        {"id": "4", "method": "PATCH", "url": "/me/events/AAMkAnone", "dependsOn": ["3"],
         "headers": {"Content-Type": "application/json"}, "body": {"subject": "x"}},
    ]});
    let (status, body) = c.post("/$batch", batch).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let by_id = |n: &str| {
        body["responses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == n)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_id("1")["status"], 201);
    assert_eq!(by_id("2")["status"], 200);
    assert_eq!(by_id("2")["body"]["value"][0]["subject"], "From a batch");
    assert_eq!(by_id("3")["status"], 404);
    assert_eq!(by_id("4")["status"], 424);

    let filter = format!(
        "singleValueExtendedProperties/Any(ep: ep/id eq '{property}' and ep/value eq 'evt-01')"
    );
    let expand = format!("singleValueExtendedProperties($filter=id eq '{property}')");
    let url = reqwest::Url::parse_with_params(
        &c.url("/me/events"),
        &[("$filter", filter.as_str()), ("$expand", expand.as_str())],
    )
    .unwrap();
    let (status, found) = c.get(url.as_str(), &[]).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["value"].as_array().unwrap().len(), 1);
    assert_eq!(
        found["value"][0]["singleValueExtendedProperties"][0]["value"],
        "evt-01"
    );

    c.graph.throttle(1, Some(2));
    let (status, body) = c.get("/me/events", &[]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(&body), "ApplicationThrottled");
}

/// The seed helper makes what a client would have: events in the next 60 days, some of them
/// weekly series (resources/event.md), contacts and tasks.
#[tokio::test]
async fn seeding_fills_the_mailbox_with_plausible_items() {
    let clock = Clock::at(2027, 3, 1);
    let c = Client::with(clock.start().await);
    c.graph.seed(12, 20, 5).unwrap();
    let (_, events) = c.get("/me/events", &[]).await;
    let events = events["value"].as_array().unwrap();
    assert_eq!(events.len(), 20);
    assert_eq!(
        events
            .iter()
            .filter(|e| e["type"] == "seriesMaster")
            .count(),
        2
    );
    let (_, view) = c
        .get(
            "/me/calendarView?startDateTime=2027-03-01T00:00:00Z&endDateTime=2027-06-01T00:00:00Z",
            &[],
        )
        .await;
    assert_eq!(view["value"].as_array().unwrap().len(), 18 + 2 * 10);
    let (_, folders) = c.get("/me/contactFolders", &[]).await;
    let folder = id(&folders["value"][0]);
    let (_, contacts) = c
        .get(&format!("/me/contactFolders/{folder}/contacts"), &[])
        .await;
    assert_eq!(contacts["value"].as_array().unwrap().len(), 12);
}
