//! Lightning event series: RRULE validation and normalisation, occurrences, edits and fromThisEventOnwards.

use chrono::Duration;
use serde_json::{Value as Json, json};

use super::common::{Sf, start};

async fn series(sf: &Sf, rule: &str) -> super::common::Resp {
    sf.post(
        "/sobjects/Event",
        json!({
            "Subject": "Standup",
            "StartDateTime": "2024-05-06T07:00:00Z",
            "DurationInMinutes": 15,
            "IsRecurrence2": true,
            "Recurrence2PatternText": rule,
            "Recurrence2PatternTimeZone": "Europe/Berlin",
        }),
    )
    .await
}

async fn occurrences(sf: &Sf) -> Vec<Json> {
    let r = sf
        .query("SELECT Id, StartDateTime, Subject, Recurrence2PatternText, IsRecurrence2Exception FROM Event WHERE IsRecurrence2 = true ORDER BY StartDateTime")
        .await;
    r.body["records"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn rules_are_normalised_and_expanded_in_the_series_time_zone() {
    let sf = start().await;
    let r = series(&sf, "FREQ=WEEKLY;COUNT=4;BYDAY=MO,WE").await;
    assert_eq!(r.status, 201, "{}", r.text);
    let first = r.body["id"].as_str().expect("id").to_string();
    let occ = occurrences(&sf).await;
    assert_eq!(occ.len(), 4);
    assert_eq!(
        occ[0]["Id"],
        first.as_str(),
        "the returned id is the first occurrence"
    );
    let starts: Vec<&str> = occ
        .iter()
        .map(|o| o["StartDateTime"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        starts,
        [
            "2024-05-06T07:00:00.000+0000",
            "2024-05-08T07:00:00.000+0000",
            "2024-05-13T07:00:00.000+0000",
            "2024-05-15T07:00:00.000+0000"
        ]
    );
    assert!(occ.iter().all(|o| o["Recurrence2PatternText"]
        == "RRULE:FREQ=WEEKLY;BYDAY=MO,WE;WKST=SU;INTERVAL=1;COUNT=4"));
    let e = sf.get(&format!("/sobjects/Event/{first}")).await.body;
    assert_eq!(e["IsRecurrence2"], true);
    assert_eq!(
        e["Recurrence2PatternStartDate"],
        "2024-05-06T07:00:00.000+0000"
    );
    assert_eq!(e["Recurrence2PatternTimeZone"], "Europe/Berlin");
    assert_eq!(e["Recurrence2PatternVersion"], "1");
}

#[tokio::test]
async fn wall_clock_time_survives_daylight_saving() {
    let sf = start().await;
    // 08:00 Berlin on Mon 2024-10-21 (UTC+2), weekly: after 27 Oct it's 08:00 at UTC+1.
    let r = sf
        .post(
            "/sobjects/Event",
            json!({"Subject": "DST", "StartDateTime": "2024-10-21T06:00:00Z", "DurationInMinutes": 30, "IsRecurrence2": true,
                   "Recurrence2PatternText": "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=2", "Recurrence2PatternTimeZone": "Europe/Berlin"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let occ = occurrences(&sf).await;
    assert_eq!(occ[1]["StartDateTime"], "2024-10-28T07:00:00.000+0000");
}

#[tokio::test]
async fn invalid_rules_are_rejected() {
    let sf = start().await;
    for bad in [
        "FREQ=WEEKLY",
        "FREQ=DAILY;COUNT=3;UNTIL=20240601T000000Z",
        "FREQ=MONTHLY;BYDAY=5MO",
        "FREQ=HOURLY",
        "FREQ=DAILY;INTERVAL=1000",
        "FREQ=YEARLY;BYMONTH=5;BYMONTHDAY=6;INTERVAL=2",
    ] {
        let r = series(&sf, bad).await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.error_code(), "FIELD_INTEGRITY_EXCEPTION", "{bad}");
        assert_eq!(r.body[0]["fields"], json!(["Recurrence2PatternText"]));
    }
    let r = sf
        .post("/sobjects/Event", json!({"StartDateTime": "2024-05-06T07:00:00Z", "DurationInMinutes": 15, "IsRecurrence2": true}))
        .await;
    assert_eq!(r.error_code(), "REQUIRED_FIELD_MISSING");
    let r = sf
        .post("/sobjects/Event", json!({"StartDateTime": "2024-05-06T07:00:00Z", "DurationInMinutes": 15, "IsRecurrence2": true, "Recurrence2PatternText": "FREQ=DAILY", "Recurrence2PatternTimeZone": "Mars/Olympus"}))
        .await;
    assert_eq!(r.error_code(), "FIELD_INTEGRITY_EXCEPTION");
    assert_eq!(sf.emu.org().count("Event", true), 0);
}

#[tokio::test]
async fn open_ended_series_are_bounded_and_monthly_rules_pick_the_right_days() {
    let sf = start().await;
    let r = series(&sf, "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1").await;
    assert_eq!(r.status, 201, "{}", r.text);
    let occ = occurrences(&sf).await;
    // Last weekday of each month from May 2024 for a year ahead.
    assert_eq!(occ.len(), 12);
    assert_eq!(occ[0]["StartDateTime"], "2024-05-31T07:00:00.000+0000");
    assert_eq!(occ[1]["StartDateTime"], "2024-06-28T07:00:00.000+0000");
}

#[tokio::test]
async fn edits_and_deleting_from_this_event_onwards() {
    let sf = start().await;
    let r = series(&sf, "FREQ=DAILY;COUNT=5").await;
    assert_eq!(r.status, 201);
    let occ = occurrences(&sf).await;
    let ids: Vec<String> = occ
        .iter()
        .map(|o| o["Id"].as_str().unwrap_or("").to_string())
        .collect();
    // Now is 10:00 UTC on day 1, so occurrence 0 (07:00) is past. Editing it makes an exception.
    assert_eq!(
        sf.patch(
            &format!("/sobjects/Event/{}", ids[0]),
            json!({"Subject": "Only this one"})
        )
        .await
        .status,
        204
    );
    let e = sf.get(&format!("/sobjects/Event/{}", ids[0])).await.body;
    assert_eq!(e["IsRecurrence2Exception"], true);
    assert_eq!(
        sf.get(&format!("/sobjects/Event/{}", ids[1])).await.body["Subject"],
        "Standup"
    );
    // Editing a future occurrence changes it and the following ones.
    assert_eq!(
        sf.patch(
            &format!("/sobjects/Event/{}", ids[2]),
            json!({"Location": "Room 2"})
        )
        .await
        .status,
        204
    );
    let locs: Vec<Json> = {
        let mut v = Vec::new();
        for id in &ids {
            v.push(sf.get(&format!("/sobjects/Event/{id}")).await.body["Location"].clone());
        }
        v
    };
    assert_eq!(
        locs,
        [
            Json::Null,
            Json::Null,
            json!("Room 2"),
            json!("Room 2"),
            json!("Room 2")
        ]
    );
    // Changing the time of a future occurrence re-creates it and the following ones with new ids.
    assert_eq!(
        sf.patch(
            &format!("/sobjects/Event/{}", ids[3]),
            json!({"StartDateTime": "2024-05-09T08:00:00Z"})
        )
        .await
        .status,
        204
    );
    assert_eq!(
        sf.get(&format!("/sobjects/Event/{}", ids[3]))
            .await
            .error_code(),
        "ENTITY_IS_DELETED"
    );
    let now_occ = occurrences(&sf).await;
    assert_eq!(now_occ.len(), 5);
    assert_eq!(now_occ[3]["StartDateTime"], "2024-05-09T08:00:00.000+0000");
    assert!(now_occ[3]["Id"] != ids[3].as_str());
    // fromThisEventOnwards deletes this one and the later ones of its series.
    sf.emu.advance_clock(Duration::minutes(1));
    let r = sf
        .delete(&format!("/sobjects/Event/{}/fromThisEventOnwards", ids[1]))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.body["success"]
            .as_str()
            .is_some_and(|s| s.contains("deleting the selected events"))
    );
    let left = occurrences(&sf).await;
    // The first series keeps occurrence 0; the re-created tail is a separate series and stays.
    let left_ids: Vec<&str> = left
        .iter()
        .map(|o| o["Id"].as_str().unwrap_or(""))
        .collect();
    assert!(left_ids.contains(&ids[0].as_str()));
    assert!(!left_ids.contains(&ids[1].as_str()) && !left_ids.contains(&ids[2].as_str()));
    let single = sf
        .create(
            "Event",
            json!({"StartDateTime": "2024-05-07T09:00:00Z", "DurationInMinutes": 5}),
        )
        .await;
    let r = sf
        .delete(&format!("/sobjects/Event/{single}/fromThisEventOnwards"))
        .await;
    assert_eq!(r.status, 400);
}
