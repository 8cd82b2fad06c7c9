//! Delta rounds of a contact folder or a To Do list (api/contact-delta.md,
//! api/todotask-delta.md, concepts/delta-query-overview.md): a round is pages joined by
//! `@odata.nextLink` (`$skiptoken`) and ends with an `@odata.deltaLink` (`$deltatoken`) that the
//! next round starts from. The first round lists the container; later ones list what changed
//! since, an item that left it (deleted or moved out) as `@removed`. Tokens are opaque to
//! clients; an evicted one is a 410.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::GraphError;
use crate::mailbox::{IdType, Kind, Mailbox};

/// Where a round stands: in a skip token (`offset` into the round) or a delta token (a round
/// not begun, `offset` 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Token {
    #[serde(rename = "f")]
    pub folder: String,
    /// The journal position the round reads changes after; `None`: the first round.
    #[serde(rename = "s")]
    pub since: Option<u64>,
    /// The journal position the round reads up to (fixed when it begins).
    #[serde(rename = "u")]
    pub upto: u64,
    #[serde(rename = "o")]
    pub offset: usize,
    /// Empty pages still to give before the items (as a busy mailbox does).
    #[serde(rename = "e")]
    pub empty: usize,
}

impl Token {
    pub fn encode(&self) -> String {
        encode_token(self)
    }

    pub fn decode(text: &str) -> Result<Token, GraphError> {
        decode_token(text)
    }
}

/// A round's state as the opaque token in a link: base64url JSON.
pub(crate) fn encode_token(state: &impl Serialize) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(state).unwrap_or_default())
}

/// A token back into its round's state; one that is not a token tandem gave is
/// `syncStateNotFound`, as Graph answers a token it does not know.
pub(crate) fn decode_token<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, GraphError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(GraphError::sync_state_not_found)
}

/// One page of a round.
pub struct Page {
    pub value: Vec<Value>,
    /// The skip token of the next page, or
    pub next: Option<Token>,
    /// the delta token of the next round.
    pub delta: Option<Token>,
}

/// The page of `token`'s round that starts at its offset.
pub fn page(
    mailbox: &Mailbox,
    kind: Kind,
    token: &Token,
    size: usize,
    ids: IdType,
) -> Result<Page, GraphError> {
    mailbox.folder(&token.folder, kind)?;
    if token
        .since
        .is_some_and(|since| since < mailbox.evicted_before)
    {
        return Err(GraphError::sync_state_not_found());
    }
    if token.empty > 0 {
        return Ok(Page {
            value: Vec::new(),
            next: Some(Token {
                empty: token.empty - 1,
                ..token.clone()
            }),
            delta: None,
        });
    }
    let items = items(mailbox, kind, token, ids);
    let end = (token.offset + size.max(1)).min(items.len());
    let value = items[token.offset.min(end)..end].to_vec();
    if end < items.len() {
        return Ok(Page {
            value,
            next: Some(Token {
                offset: end,
                ..token.clone()
            }),
            delta: None,
        });
    }
    Ok(Page {
        value,
        next: None,
        delta: Some(Token {
            folder: token.folder.clone(),
            since: Some(token.upto),
            upto: token.upto,
            offset: 0,
            empty: 0,
        }),
    })
}

/// Everything the round lists, in a stable order.
fn items(mailbox: &Mailbox, kind: Kind, token: &Token, ids: IdType) -> Vec<Value> {
    let Some(since) = token.since else {
        return mailbox
            .in_folder(&token.folder)
            .into_iter()
            .map(|c| c.to_json(ids, None))
            .collect();
    };
    // The contacts whose last change in the folder falls in the round, each once.
    let mut seen: Vec<(String, String)> = Vec::new();
    for change in mailbox
        .journal
        .iter()
        .filter(|c| c.folder == token.folder && c.seq > since && c.seq <= token.upto)
    {
        seen.retain(|(id, _)| *id != change.immutable_id);
        seen.push((change.immutable_id.clone(), change.rest_id.clone()));
    }
    seen.into_iter()
        .map(|(immutable, rest)| match mailbox.items.get(&immutable) {
            Some(item) if item.folder == token.folder => item.to_json(ids, None),
            _ => json!({
                "@odata.type": format!("#{}", kind.type_name()),
                "id": if ids == IdType::Immutable && kind.immutable_ids() { immutable } else { rest },
                "@removed": {"reason": "deleted"},
            }),
        })
        .collect()
}
