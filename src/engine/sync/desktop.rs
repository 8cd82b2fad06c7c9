//! Carrying out a plan's steps on the desktop side: tandem renders the record into the DAV
//! member's bytes (editing the client's own bytes, so what tandem does not map stays) and appends
//! them as the outcome of the write, on the condition that the member is still as tandem read it.

use crate::dav::paths;
use crate::engine::{
    DesktopWrite, Draft, DraftBody, Pending, VersionCondition, Writer, WriterError,
};
use crate::store::{Store, StoreError, dav, read};
use tandem_protocol::codec::{parse_icalendar, parse_vcard, render_icalendar, render_vcard};
use tandem_protocol::plan::{Item, Step};
use tandem_protocol::rules::Rules;
use tandem_protocol::{Fields, Hlc, Op, Origin, Outcome, OutcomeResult, Payload, RecordKind, Side};

/// Where records of a kind that the desktop does not have yet are put.
pub fn home_collection(kind: RecordKind, rules: &Rules) -> String {
    match kind {
        RecordKind::Contact => rules.address_book.clone(),
        RecordKind::Event => paths::DEFAULT_CALENDAR.to_string(),
        RecordKind::Task => paths::DEFAULT_TASKS.to_string(),
    }
}

/// A desktop write queued in the log's writer; [`Queued::outcome`] says how it went.
pub struct Queued(Pending);

impl Queued {
    pub async fn outcome(self) -> Result<(), String> {
        self.0.await.map(|_| ()).map_err(explain)
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
) -> Result<Queued, String> {
    let kind = item.kind;
    let (href, previous, condition) = match step.op {
        Op::Create => {
            let collection = home_collection(kind, rules);
            let uid = uid_for(store, item)?;
            let extension = if kind == RecordKind::Contact {
                "vcf"
            } else {
                "ics"
            };
            let href = format!("{collection}{}.{extension}", member_name(&uid));
            (href, None, VersionCondition::Absent)
        }
        Op::Update | Op::Delete => {
            let href = item
                .desktop_id
                .clone()
                .ok_or("the desktop copy has no address; this is a bug in tandem")?;
            let (collection, name) = tandem_protocol::dav::resource::split_member(&href)
                .ok_or_else(|| format!("{href} is not a collection member"))?;
            let txn = store.read().map_err(|e| e.to_string())?;
            let current = dav::item(&txn, collection, name)
                .map_err(|e| e.to_string())?
                .filter(|i| i.live())
                .ok_or_else(|| format!("{href} is gone from the desktop side"))?;
            let body = dav::body(&txn, &href).map_err(|e| e.to_string())?;
            (href, body, VersionCondition::OneOf(vec![current.etag]))
        }
    };
    let (payload, side_fields) = match step.op {
        Op::Delete => (None, None),
        Op::Create | Op::Update => {
            let had = match step.op {
                Op::Update => side_fields_of(store, item)?,
                _ => Fields::new(),
            };
            let fields = overlay(&had, &step.changes);
            let uid = uid_for(store, item)?;
            let (bytes, content_type) = render(kind, &uid, &fields, previous.as_deref());
            let parsed = parse(kind, &bytes)?;
            (
                Some(Payload {
                    content_type: content_type.to_string(),
                    bytes,
                }),
                Some(parsed),
            )
        }
    };
    let version = payload
        .as_ref()
        .map(|p| tandem_protocol::dav::resource::etag(&p.bytes));
    let draft = Draft {
        origin: Origin::new(Side::Tandem, "sync:desktop"),
        body: DraftBody::DesktopWrite(DesktopWrite {
            outcome: Outcome {
                record: item.record.clone(),
                side: Side::Desktop,
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
    writer.submit(draft).await.map(Queued).map_err(explain)
}

fn explain(e: WriterError) -> String {
    match e {
        WriterError::Store(StoreError::PreconditionFailed(why)) => format!(
            "the desktop copy changed while the run was planned ({why}); the next run takes the change in"
        ),
        e => e.to_string(),
    }
}

/// The fields `had` with `changes` laid over them (`null` removes a field).
pub fn overlay(had: &Fields, changes: &Fields) -> Fields {
    let mut out = had.clone();
    for (name, value) in changes {
        if value.is_null() {
            out.remove(name);
        } else {
            out.insert(name.clone(), value.clone());
        }
    }
    out
}

fn side_fields_of(store: &Store, item: &Item) -> Result<Fields, String> {
    let txn = store.read().map_err(|e| e.to_string())?;
    Ok(read::side_state(&txn, &item.record, Side::Desktop)
        .map_err(|e| e.to_string())?
        .map(|s| s.fields)
        .unwrap_or_default())
}

/// The record's UID, or one made from its id for a record that never had one.
fn uid_for(store: &Store, item: &Item) -> Result<String, String> {
    let txn = store.read().map_err(|e| e.to_string())?;
    let state = read::record(&txn, &item.record).map_err(|e| e.to_string())?;
    Ok(state
        .and_then(|s| s.uid)
        .unwrap_or_else(|| format!("tandem-{}", item.record)))
}

/// A UID made safe as a member name: anything but letters, digits, `-`, `_`, `.`, `@` becomes
/// `_`.
fn member_name(uid: &str) -> String {
    uid.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn render(
    kind: RecordKind,
    uid: &str,
    fields: &Fields,
    previous: Option<&[u8]>,
) -> (Vec<u8>, &'static str) {
    match kind {
        RecordKind::Contact => (render_vcard(uid, fields, previous), "text/vcard"),
        _ => (
            render_icalendar(kind, uid, fields, previous),
            "text/calendar",
        ),
    }
}

/// The fields a client re-reading the bytes would report: what the desktop side now holds.
fn parse(kind: RecordKind, bytes: &[u8]) -> Result<Fields, String> {
    let fields = match kind {
        RecordKind::Contact => parse_vcard(bytes).map(|c| c.fields),
        _ => parse_icalendar(bytes).map(|o| o.fields),
    };
    fields.map_err(|e| {
        format!("tandem rendered a body it cannot read back ({e}); please report this")
    })
}
