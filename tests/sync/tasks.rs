//! Tasks as a desktop client completes them: what the client says about a task's status and its
//! completion time is what Salesforce gets, and what the desktop keeps.

use super::TASKS;
use super::rig::Rig;
use chrono::{Duration, Utc};
use serde_json::json;
use tandem::protocol::Side;

/// The task body with its STATUS replaced by `lines` (the rest kept, as a client keeps what it
/// does not know).
fn with_status(body: &str, lines: &[&str]) -> String {
    body.lines()
        .filter(|l| !l.starts_with("STATUS:") && !l.starts_with("COMPLETED:"))
        .flat_map(|l| {
            let mut out = vec![l.to_string()];
            if l == "BEGIN:VTODO" {
                out.extend(lines.iter().map(|s| s.to_string()));
            }
            out
        })
        .collect::<Vec<_>>()
        .join("\r\n")
        + "\r\n"
}

async fn one_task(rig: &Rig, status: &str) -> (String, String, String) {
    let due = (Utc::now() + Duration::days(3)).date_naive();
    let id = rig.sf_create(
        "Task",
        json!({"Subject": "Send the contract", "ActivityDate": due.to_string(), "Status": status}),
    );
    rig.sync().await;
    let members = rig.members(TASKS).await;
    assert_eq!(members.len(), 1, "{members:?}");
    let (_, body) = rig.get(&members[0]).await;
    (id, members[0].clone(), body)
}

#[tokio::test]
async fn completing_a_deferred_task_reaches_salesforce() {
    let rig = Rig::start().await;
    let (id, href, body) = one_task(&rig, "Deferred").await;
    assert!(body.contains("X-TANDEM-STATUS:DEFERRED"), "{body}");
    // python-caldav's todo.complete(): STATUS and COMPLETED set, the unknown X- line kept.
    let done = with_status(&body, &["STATUS:COMPLETED", "COMPLETED:20261205T190000Z"]);
    assert!(done.contains("X-TANDEM-STATUS:DEFERRED"));
    assert!(rig.put(&href, &done).await.is_success());
    let preview = rig.preview().await;
    let step = preview.plan.items[0]
        .step(Side::SALESFORCE)
        .expect("a Salesforce step");
    assert_eq!(step.changes.get("status"), Some(&json!("completed")));
    rig.apply().await;
    assert_eq!(rig.sf_get(&id)["Status"], json!("Completed"));
}

#[tokio::test]
async fn the_clients_completion_time_survives_a_run() {
    let rig = Rig::start().await;
    let (_, href, body) = one_task(&rig, "Not Started").await;
    let done = with_status(&body, &["STATUS:COMPLETED", "COMPLETED:20261205T190000Z"]);
    assert!(rig.put(&href, &done).await.is_success());
    rig.sync().await;
    let after = rig.preview().await;
    assert!(
        after.plan.is_idle(),
        "the run after an apply has nothing to do: {:#?}",
        after.plan.items
    );
    let (_, body) = rig.get(&href).await;
    assert!(
        body.contains("COMPLETED:20261205T190000Z"),
        "the desktop keeps the time the user completed it: {body}"
    );
}
