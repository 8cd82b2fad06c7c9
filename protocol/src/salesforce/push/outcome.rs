//! What came of one record of a write, and what a failed call means for the records in it.

use super::super::ApiError;

/// One record's answer inside an sObject Collections result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemAnswer {
    pub id: Option<String>,
    pub error: Option<ApiError>,
}

impl ItemAnswer {
    /// Salesforce could not lock the row: nothing was done, it goes again in the next round.
    pub fn locked(&self) -> bool {
        self.error.as_ref().is_some_and(ApiError::is_lock)
    }
}

/// How a whole call failed, as far as the records in it are concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallFailure {
    /// The run must stop (login refused, limits, budget, the log): nothing more is sent.
    Stop,
    Failed {
        code: String,
        message: String,
        /// A later run may succeed with it.
        retryable: bool,
        /// Salesforce may have carried the call out: the answer was lost.
        ambiguous: bool,
    },
}

/// What came of one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemOutcome {
    /// `reconciled`: found by the reconciliation query rather than answered by the create.
    Created {
        id: String,
        reconciled: bool,
    },
    Updated {
        id: String,
    },
    /// Also when it was already gone.
    Deleted {
        id: String,
    },
    /// Salesforce changed the record since tandem last saw it; nothing was written.
    Conflict {
        id: String,
        message: String,
    },
    Failed {
        code: String,
        message: String,
        retryable: bool,
    },
    /// It is not known whether Salesforce has the create; its intent stays pending and the next
    /// push of this record reconciles it.
    Unknown {
        message: String,
    },
    /// The run stopped before this item was tried.
    NotAttempted,
}

impl ItemOutcome {
    /// A record's own error inside a collection answer.
    pub fn refused(error: &ApiError) -> ItemOutcome {
        ItemOutcome::Failed {
            code: error.code.clone(),
            message: error.message.clone(),
            retryable: error.is_lock(),
        }
    }

    /// A whole call that failed, for each record in it (`None`: the run stops).
    pub fn of_call(failure: &CallFailure) -> Option<ItemOutcome> {
        match failure {
            CallFailure::Stop => None,
            CallFailure::Failed {
                code,
                message,
                retryable,
                ..
            } => Some(ItemOutcome::Failed {
                code: code.clone(),
                message: message.clone(),
                retryable: *retryable,
            }),
        }
    }

    /// Given up after every round of a call kept failing.
    pub fn retries_exhausted(what: &str) -> ItemOutcome {
        ItemOutcome::Failed {
            code: "RETRIES_EXHAUSTED".into(),
            message: format!("{what} kept failing; it is tried again on the next run"),
            retryable: true,
        }
    }
}

/// What a record's answer means, per operation.
pub mod settle {
    use super::{ItemAnswer, ItemOutcome};

    /// An upsert by external id: created or found, either way the record is there.
    pub fn upsert(answer: ItemAnswer) -> ItemOutcome {
        match (answer.error, answer.id) {
            (Some(e), _) => ItemOutcome::refused(&e),
            (None, Some(id)) => ItemOutcome::Created {
                id,
                reconciled: false,
            },
            (None, None) => ItemOutcome::Failed {
                code: "NO_ID".into(),
                message: "Salesforce reported a success without an id".into(),
                retryable: true,
            },
        }
    }

    pub fn update(id: &str, answer: ItemAnswer) -> ItemOutcome {
        match answer.error {
            Some(e) => ItemOutcome::refused(&e),
            None => ItemOutcome::Updated { id: id.to_string() },
        }
    }

    /// Deleting twice is harmless: a record already gone is deleted.
    pub fn delete(id: &str, answer: ItemAnswer) -> ItemOutcome {
        match answer.error {
            Some(e) if e.code != "ENTITY_IS_DELETED" => ItemOutcome::refused(&e),
            _ => ItemOutcome::Deleted { id: id.to_string() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(code: &str) -> ApiError {
        ApiError {
            status: 400,
            code: code.into(),
            message: "m".into(),
            fields: vec![],
        }
    }

    #[test]
    fn answers_settle_by_operation() {
        let gone = ItemAnswer {
            id: None,
            error: Some(error("ENTITY_IS_DELETED")),
        };
        assert_eq!(
            settle::delete("003", gone.clone()),
            ItemOutcome::Deleted { id: "003".into() }
        );
        assert!(matches!(
            settle::update("003", gone),
            ItemOutcome::Failed {
                retryable: false,
                ..
            }
        ));
        let no_id = ItemAnswer {
            id: None,
            error: None,
        };
        assert!(
            matches!(settle::upsert(no_id), ItemOutcome::Failed { code, .. } if code == "NO_ID")
        );
        assert!(
            ItemAnswer {
                id: None,
                error: Some(error("UNABLE_TO_LOCK_ROW"))
            }
            .locked()
        );
    }
}
