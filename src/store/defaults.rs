//! The collections a store starts with: the DAV server's first start, or a first sync run
//! before it, creates the calendar, the task list and the address book of
//! `tandem_protocol::dav::layout`, as log events like any other collection.

use super::{Draft, DraftBody, Store, Writer, WriterError, dav};
use std::collections::BTreeMap;
use tandem_protocol::dav::XmlValue;
use tandem_protocol::dav::layout::DEFAULT_COLLECTIONS;
use tandem_protocol::event::{CollectionChange, CollectionOp};
use tandem_protocol::{Origin, Side};

/// Create the default collections in a store that has no collection yet. They are appended in
/// one transaction: a start killed midway must not leave a store with a calendar and no
/// address book, which no later start would complete (it has collections).
pub async fn ensure_default_collections(store: &Store, writer: &Writer) -> Result<(), WriterError> {
    let existing = dav::collections(&store.read()?)?;
    if !existing.is_empty() {
        return Ok(());
    }
    let mut drafts = Vec::new();
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
        drafts.push(draft);
    }
    for appended in writer.append_together(drafts).await? {
        appended?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::system_clock;
    use std::sync::Arc;

    #[tokio::test]
    async fn the_defaults_are_one_transaction_all_or_none() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open_or_create(dir.path()).unwrap());
        let writer = Writer::spawn(
            store.clone(),
            tandem_protocol::Policies::default(),
            system_clock(),
        )
        .unwrap();
        let before = writer.commits();
        ensure_default_collections(&store, &writer).await.unwrap();
        assert_eq!(
            writer.commits(),
            before + 1,
            "one commit: a crash leaves all or none"
        );
        let made = dav::collections(&store.read().unwrap()).unwrap();
        assert_eq!(made.len(), DEFAULT_COLLECTIONS.len());
        ensure_default_collections(&store, &writer).await.unwrap();
        assert_eq!(writer.commits(), before + 1, "made once");
    }
}
