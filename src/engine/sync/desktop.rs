//! Carrying out a plan's steps on the desktop side: tandem renders the record into the DAV
//! member's bytes (editing the client's own bytes, so what tandem does not map stays) and appends
//! them as the outcome of the write, on the condition that the member is still as tandem read it.
//! Where the member goes and how it is spelled is `tandem_protocol::dav::layout`'s to say.

use crate::store::{
    DesktopWrite, Draft, DraftBody, Pending, Store, StoreError, VersionCondition, Writer,
    WriterError, dav, read,
};
use tandem_protocol::dav::layout::{
    home_collection, member_body, member_fields, member_href, uid_for,
};
use tandem_protocol::dav::resource::{etag, split_member};
use tandem_protocol::plan::{Item, Step};
use tandem_protocol::rules::Rules;
use tandem_protocol::{Fields, Hlc, Op, Origin, Outcome, OutcomeResult, Side};

/// Why a desktop write was not made.
#[derive(Debug, thiserror::Error)]
pub enum DesktopError {
    #[error(
        "the desktop copy changed while the run was planned ({0}); the next run takes the change in"
    )]
    Changed(String),
    #[error("{0} is gone from the desktop side")]
    Gone(String),
    #[error("the desktop copy has no address; this is a bug in tandem")]
    NoAddress,
    #[error("tandem rendered a body it cannot read back ({0}); please report this")]
    Unreadable(tandem_protocol::codec::CodecError),
    #[error(transparent)]
    Log(WriterError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<WriterError> for DesktopError {
    fn from(e: WriterError) -> DesktopError {
        match e {
            WriterError::Store(StoreError::PreconditionFailed(why)) => DesktopError::Changed(why),
            e => DesktopError::Log(e),
        }
    }
}

/// A desktop write queued in the log's writer; [`Queued::outcome`] says how it went.
pub struct Queued(Pending);

impl Queued {
    pub async fn outcome(self) -> Result<(), DesktopError> {
        self.0.await.map(|_| ()).map_err(DesktopError::from)
    }
}

/// Queue the write of one step to the desktop side. `written`: the record heads the step's
/// state is from. Writes are appended in the order they are queued, each on its own condition;
/// queueing many before waiting lets the writer commit them together.
pub async fn submit(
    store: &Store,
    writer: &Writer,
    rules: &Rules,
    item: &Item,
    step: &Step,
    written: Vec<Hlc>,
) -> Result<Queued, DesktopError> {
    let kind = item.kind;
    let txn = store.read()?;
    let uid = uid_for(
        &item.record,
        read::record(&txn, &item.record)?
            .and_then(|s| s.uid)
            .as_deref(),
    );
    let (href, previous, condition) = match step.op {
        Op::Create => {
            let href = member_href(home_collection(kind, rules), kind, &uid);
            (href, None, VersionCondition::Absent)
        }
        Op::Update | Op::Delete => {
            let href = item
                .id_on(Side::DESKTOP)
                .ok_or(DesktopError::NoAddress)?
                .to_string();
            let (collection, name) = split_member(&href).ok_or(DesktopError::NoAddress)?;
            let current = dav::item(&txn, collection, name)?
                .filter(|i| i.live())
                .ok_or_else(|| DesktopError::Gone(href.clone()))?;
            let body = dav::body(&txn, &href)?;
            (href, body, VersionCondition::OneOf(vec![current.etag]))
        }
    };
    let (payload, side_fields) = match step.op {
        Op::Delete => (None, None),
        Op::Create | Op::Update => {
            let had = match step.op {
                Op::Update => read::side_state(&txn, &item.record, Side::DESKTOP)?
                    .map(|s| s.fields)
                    .unwrap_or_default(),
                _ => Fields::new(),
            };
            let fields = tandem_protocol::record::overlay(&had, &step.changes);
            let payload = member_body(kind, &uid, &fields, previous.as_deref());
            let held = member_fields(kind, &payload.bytes).map_err(DesktopError::Unreadable)?;
            (Some(payload), Some(held))
        }
    };
    drop(txn);
    let version = payload.as_ref().map(|p| etag(&p.bytes));
    let draft = Draft {
        origin: Origin::new(Side::TANDEM, "sync:desktop"),
        body: DraftBody::DesktopWrite(DesktopWrite {
            outcome: Outcome {
                record: item.record.clone(),
                side: Side::DESKTOP,
                op: step.op,
                written,
                result: OutcomeResult::Succeeded {
                    external_id: Some(href.clone()),
                    version,
                },
                side_fields,
                payload,
            },
            href,
            condition,
        }),
    };
    Ok(Queued(writer.submit(draft).await?))
}
