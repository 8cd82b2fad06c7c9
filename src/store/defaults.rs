//! The collections a store starts with: the DAV server's first start, or a first sync run
//! before it, creates the calendar, the task list and the address book of
//! `tandem_protocol::dav::layout`, as log events like any other collection.

use super::{Draft, DraftBody, Store, Writer, WriterError, dav};
use std::collections::BTreeMap;
use tandem_protocol::dav::XmlValue;
use tandem_protocol::dav::layout::DEFAULT_COLLECTIONS;
use tandem_protocol::event::{CollectionChange, CollectionOp};
use tandem_protocol::{Origin, Side};

/// Create the default collections in a store that has no collection yet.
pub async fn ensure_default_collections(store: &Store, writer: &Writer) -> Result<(), WriterError> {
    let existing = dav::collections(&store.read()?)?;
    if !existing.is_empty() {
        return Ok(());
    }
    for default in DEFAULT_COLLECTIONS {
        let props: BTreeMap<String, String> = [(
            "{DAV:}displayname".to_string(),
            XmlValue::text(default.name).to_xml(),
        )]
        .into();
        let draft = Draft {
            origin: Origin::new(Side::TANDEM, "server:defaults"),
            body: DraftBody::Collection(CollectionChange {
                path: default.path.to_string(),
                op: CollectionOp::Create {
                    kind: default.kind,
                    components: default.components.iter().map(|c| c.to_string()).collect(),
                    props,
                },
            }),
        };
        writer.append(draft).await?;
    }
    Ok(())
}
