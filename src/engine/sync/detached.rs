//! Salesforce's standalone rows of detached occurrences, read back into their series: a row
//! edited in Salesforce changes the occurrence's override on every other side, a row deleted
//! there cancels the occurrence (see `mapping::detached`). A row as tandem wrote it is no news.

use crate::engine::SyncError;
use crate::salesforce::client::Row;
use crate::store::{Draft, DraftBody, ObservationDraft, Store, Writer, read};
use tandem_protocol::codec::overrides;
use tandem_protocol::codec::overrides::same_occurrence;
use tandem_protocol::mapping::{self, SalesforceContext, detached};
use tandem_protocol::record::{When, overlay};
use tandem_protocol::{Op, Origin, Outcome, OutcomeResult, RecordId, RecordKind, Side};

/// Take in the row of `series`' occurrence `when`: as Salesforce has it now (`row`, read as a
/// single event), or deleted (`None`); `in_series`: the row is the series' own, an exception
/// changed in Salesforce, not a standalone row. Whether it was news.
pub async fn take_in(
    store: &Store,
    writer: &Writer,
    ctx: &SalesforceContext,
    series: &RecordId,
    when: &When,
    row: Option<&Row>,
    in_series: bool,
) -> Result<bool, SyncError> {
    let (state, copy) = {
        let txn = store.read()?;
        let state = read::record(&txn, series)?.filter(|r| !r.deleted);
        let copy = read::side_state(&txn, series, Side::SALESFORCE)?;
        (state, copy.unwrap_or_default())
    };
    let (Some(state), Some(head)) = (state, copy.external_id.clone().filter(|_| !copy.deleted))
    else {
        return Ok(false);
    };
    let now = match row {
        Some(row) => Some(detached::own(&mapping::from_salesforce(
            RecordKind::Event,
            row,
            ctx,
        )?)),
        None => None,
    };
    // tandem's own write, read back, is no news.
    let held = detached::occurrences(&copy.fields)
        .into_iter()
        .find(|o| same_occurrence(&o.recurrence_id, when));
    if let (Some(now), Some(held)) = (&now, &held) {
        let written = detached::standalone(&state.fields, &held.fields);
        if detached::own(&mapping::read_back_created(
            RecordKind::Event,
            ctx,
            &written,
        )) == *now
        {
            return Ok(false);
        }
    }
    // The UID the desktop writes the series with.
    let uid = overrides::uid(&overrides::unmapped(&state.fields))
        .unwrap_or_else(|| tandem_protocol::dav::layout::uid_for(series, state.uid.as_deref()));
    let Some(changes) = detached::fold(&state.fields, &uid, when, now.as_ref()) else {
        return Ok(false);
    };
    let origin = Origin::new(Side::SALESFORCE, "salesforce:pull");
    let observed = Draft {
        origin: origin.clone(),
        body: DraftBody::Observation(ObservationDraft {
            record: Some(series.clone()),
            external_id: Some(head.clone()),
            base: Some(state.heads.clone()),
            changes: changes.clone(),
            ..ObservationDraft::new(RecordKind::Event, Op::Update)
        }),
    };
    let ack = writer.append(observed).await?;
    // What Salesforce holds now: the copy as it was, with this occurrence as the record has it.
    let record = overlay(&state.fields, &changes);
    let held = Draft {
        origin,
        body: DraftBody::Outcome(Outcome {
            record: series.clone(),
            side: Side::SALESFORCE,
            op: Op::Update,
            written: vec![ack.hlc],
            result: OutcomeResult::Succeeded {
                external_id: Some(head),
                version: None,
            },
            side_fields: Some(detached::held_after(&copy.fields, &record, when, in_series)),
            payload: None,
        }),
    };
    writer.append(held).await?;
    Ok(true)
}
