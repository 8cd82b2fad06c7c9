//! Deletes in collections of 200. Deleting twice is harmless (the second answer is
//! ENTITY_IS_DELETED, taken as done), so lost answers are simply resent.

use reqwest::Method;
use tandem_protocol::Op;
use tandem_protocol::salesforce::push::settle;

use super::super::http::{Request, Safety};
use super::{COLLECTION_SIZE, Decided, Delete, Ledger, PushReport, Pusher, results};

impl<L: Ledger> Pusher<L> {
    pub async fn delete(&self, deletes: Vec<Delete>) -> PushReport {
        let mut report = PushReport::default();
        for chunk in deletes.chunks(COLLECTION_SIZE) {
            if report.stopped.is_some() {
                report.not_attempted(chunk.iter().map(|d| &d.record), Op::Delete);
                continue;
            }
            let what = format!("the delete of {} records", chunk.len());
            let ids: Vec<&str> = chunk.iter().map(|d| d.id.as_str()).collect();
            let request = |pending: &[usize]| delete_call(&what, &ids, pending);
            let (outcomes, stop) = self
                .rounds(chunk.len(), request, |i, answer| {
                    settle::delete(&chunk[i].id, answer)
                })
                .await;
            let decided: Vec<Decided> =
                results(chunk.iter().map(|d| &d.record), Op::Delete, outcomes)
                    .into_iter()
                    .zip(chunk)
                    .map(|(r, d)| (r, d.written.clone(), None))
                    .collect();
            let logged = self.record(&decided).await;
            report.items.extend(decided.into_iter().map(|(r, _, _)| r));
            report.stopped = stop.or(logged.err());
        }
        report
    }
}

/// One collection call deleting the `pending` ones of `ids`.
pub(super) fn delete_call(what: &str, ids: &[&str], pending: &[usize]) -> Request {
    let ids: Vec<&str> = pending.iter().map(|&i| ids[i]).collect();
    Request::new(Method::DELETE, "/composite/sobjects", Safety::Idempotent)
        .named(what)
        .param("ids", ids.join(","))
        .param("allOrNone", "false")
}
