//! Paging and incremental pull: 2,000-row pages, changes and deletes since the watermark, and
//! the full comparison when the delete history no longer reaches back.

use std::collections::HashSet;

use chrono::Duration;
use serde_json::json;
use tandem::config::SalesforceSettings;
use tandem::engine::sync::{stored_watermark, watermark_scope};
use tandem::protocol::event::Watermark;
use tandem::protocol::{Origin, Side};
use tandem::salesforce::client::{FullReason, PullRequest};
use tandem::store::{Draft, DraftBody};

use crate::common::*;

fn contacts(watermark: Option<chrono::DateTime<chrono::Utc>>) -> PullRequest {
    PullRequest {
        object: "Contact".into(),
        fields: vec!["LastName".into(), "Email".into()],
        filter: None,
        include_archived: false,
        watermark,
        holds_records: false,
    }
}

#[tokio::test]
async fn paging_4500_rows_across_2000_row_pages() {
    let emu = start().await;
    let seeded: HashSet<String> = seed_contacts(&emu, 4500).into_iter().collect();
    let client = client(&emu);
    let mut pager = client.pager("SELECT Id, LastName FROM Contact", false);
    let mut sizes = Vec::new();
    let mut ids = HashSet::new();
    while let Some(page) = pager.next_page().await.expect("page") {
        assert_eq!(page.total_size, 4500);
        sizes.push(page.records.len());
        ids.extend(
            page.records
                .iter()
                .filter_map(|r| r["Id"].as_str().map(str::to_string)),
        );
        assert!(sizes.len() <= 3);
    }
    assert_eq!(sizes, vec![2000, 2000, 500]);
    assert_eq!(ids, seeded);

    // batchSize asks for smaller pages.
    let small = client_with(SalesforceSettings {
        query_batch_size: 1000,
        ..settings(&emu)
    });
    let mut pager = small.pager("SELECT Id FROM Contact", false);
    let rows = {
        let mut n = 0;
        while let Some(p) = pager.next_page().await.expect("page") {
            n += p.records.len();
        }
        n
    };
    assert_eq!((rows, pager.pages()), (4500, 5));

    // A first pull reads everything, a page at a time; with nothing held to compare, it lists
    // no ids.
    let calls = client.stats().run_calls;
    let mut first = client.pull(&contacts(None)).await.expect("pull");
    assert_eq!(first.full, Some(FullReason::FirstRun));
    assert_eq!(first.all_ids, None);
    let mut pages = Vec::new();
    while let Some(rows) = first.next_rows().await.expect("rows") {
        pages.push(rows.len());
    }
    assert_eq!(pages, vec![2000, 2000, 500]);
    assert_eq!(client.stats().run_calls - calls, 3);

    // One that holds records from before (its watermark lost) also lists every id there is.
    let holding = PullRequest {
        holds_records: true,
        ..contacts(None)
    };
    let calls = client.stats().run_calls;
    let first = client.pull(&holding).await.expect("pull");
    assert_eq!(first.all_ids.as_ref().map(|s| s.len()), Some(4500));
    assert_eq!(first.all_rows().await.expect("rows").len(), 4500);
    assert_eq!(
        client.stats().run_calls - calls,
        6,
        "3 pages of rows, 3 of ids"
    );
}

#[tokio::test]
async fn incremental_pull_reads_changes_and_deletes_and_takes_the_server_clock() {
    let emu = start().await;
    let ids = seed_contacts(&emu, 3);
    // Older than the overlap by the time of the next pull, so only real changes come back.
    emu.advance_clock(Duration::minutes(10));
    let client = client(&emu);
    let first = client.pull(&contacts(None)).await.expect("first pull");
    assert_eq!(
        first.watermark,
        emu.now(),
        "the org's clock, not this machine's"
    );
    assert!(first.watermark < chrono::Utc::now() - Duration::days(300));

    emu.advance_clock(Duration::minutes(30));
    emu.org()
        .update("Contact", &ids[0], json!({"LastName": "Changed"}))
        .expect("update");
    emu.org().delete(&ids[1]).expect("delete");
    let new = emu
        .org()
        .create("Contact", json!({"LastName": "New"}))
        .expect("create");
    emu.advance_clock(Duration::minutes(2));

    let next = client
        .pull(&contacts(Some(first.watermark)))
        .await
        .expect("incremental pull");
    assert_eq!(next.full, None);
    let deleted: Vec<&str> = next.deleted.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(deleted, vec![ids[1].as_str()]);
    assert_eq!(next.watermark, emu.now());
    let watermark = next.watermark;
    let rows = next.all_rows().await.expect("rows");
    let changed: HashSet<&str> = rows.iter().filter_map(|r| r["Id"].as_str()).collect();
    assert_eq!(changed, HashSet::from([ids[0].as_str(), new.as_str()]));

    // The watermark goes into the log and comes back out.
    let dir = tempfile::tempdir().expect("tempdir");
    let log = Log::open(dir.path());
    let draft = Draft {
        origin: Origin::new(Side::SALESFORCE, "salesforce:pull"),
        body: DraftBody::Watermark(Watermark {
            side: Side::SALESFORCE,
            scope: watermark_scope("Contact"),
            value: watermark.to_rfc3339(),
        }),
    };
    log.writer.append(draft).await.expect("appended");
    assert_eq!(
        stored_watermark(&log.store, &watermark_scope("Contact")).expect("read"),
        Some(watermark)
    );
    assert_eq!(
        stored_watermark(&log.store, &watermark_scope("Event")).expect("read"),
        None
    );
}

#[tokio::test]
async fn a_missed_delete_window_falls_back_to_a_full_comparison() {
    let emu = start().await;
    let ids = seed_contacts(&emu, 3);
    let client = client(&emu);
    let first = client.pull(&contacts(None)).await.expect("first pull");
    emu.advance_clock(Duration::hours(1));
    emu.org().delete(&ids[2]).expect("delete");
    emu.advance_clock(Duration::days(16));

    let next = client
        .pull(&contacts(Some(first.watermark)))
        .await
        .expect("pull");
    assert!(
        matches!(next.full, Some(FullReason::DeleteWindowMissed { .. })),
        "{:?}",
        next.full
    );
    assert!(next.deleted.is_empty());
    let expected: std::collections::BTreeSet<String> = ids[..2].iter().cloned().collect();
    assert_eq!(
        next.all_ids,
        Some(expected),
        "every id Salesforce still has"
    );
    assert_eq!(next.watermark, emu.now());
}

#[tokio::test]
async fn an_emptied_recycle_bin_also_means_deletes_were_missed() {
    let emu = start().await;
    let ids = seed_contacts(&emu, 2);
    let client = client(&emu);
    let first = client.pull(&contacts(None)).await.expect("first pull");
    emu.advance_clock(Duration::hours(2));
    emu.org().delete(&ids[0]).expect("delete");
    emu.org().empty_recycle_bin();
    emu.advance_clock(Duration::minutes(5));
    let next = client
        .pull(&contacts(Some(first.watermark)))
        .await
        .expect("pull");
    match next.full {
        Some(FullReason::DeleteWindowMissed {
            earliest_available: Some(e),
            ..
        }) => assert!(e > first.watermark),
        other => panic!("expected a missed window, got {other:?}"),
    }
    assert_eq!(
        next.all_ids.map(|s| s.into_iter().collect::<Vec<_>>()),
        Some(vec![ids[1].clone()])
    );
}

#[tokio::test]
async fn include_archived_uses_query_all_without_the_recycle_bin() {
    let emu = start().await;
    let ids = seed_contacts(&emu, 3);
    emu.org().delete(&ids[0]).expect("delete");
    let client = client(&emu);
    let pulled = client
        .pull(&PullRequest {
            include_archived: true,
            filter: Some("LastName LIKE 'Seed%'".into()),
            ..contacts(None)
        })
        .await
        .expect("pull")
        .all_rows()
        .await
        .expect("rows");
    let got: HashSet<&str> = pulled.iter().filter_map(|r| r["Id"].as_str()).collect();
    assert_eq!(got, HashSet::from([ids[1].as_str(), ids[2].as_str()]));
}
