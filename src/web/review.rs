//! Runs started from the page: they go on in the background (the page follows them through
//! `engine::sync::in_flight`, as it follows automatic runs), and the last apply's report and
//! the last failure stay for the page to show. The review itself is the store's: the latest
//! preview, whichever front made it.

use crate::app::{App, AppError, Reply, Request, RunReport};
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct Review {
    state: Mutex<Reviewed>,
}

/// What the last runs started from the page gave.
#[derive(Clone, Default)]
pub struct Reviewed {
    /// The last apply's report.
    pub applied: Option<RunReport>,
    /// Why the last run started here failed, in the app's words.
    pub failed: Option<String>,
    /// A run started here is under way.
    pub busy: bool,
}

/// What to run.
pub enum Run {
    Preview,
    /// These items, as the page showed them.
    Apply(Vec<String>),
}

impl Review {
    pub fn now(&self) -> Reviewed {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn update(&self, change: impl FnOnce(&mut Reviewed)) {
        change(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Start `run` in the background unless one started here is under way; whether it started.
    pub fn start(self: &Arc<Self>, app: Arc<App>, run: Run) -> bool {
        let mut started = false;
        self.update(|state| {
            if !state.busy {
                state.busy = true;
                state.failed = None;
                started = true;
            }
        });
        if !started {
            tracing::info!("a run was asked for in the review app while one was under way");
            return false;
        }
        let review = self.clone();
        tokio::spawn(async move {
            let (preview, request) = match run {
                Run::Preview => (true, Request::Preview),
                Run::Apply(fingerprints) => (
                    false,
                    Request::Apply {
                        records: Vec::new(),
                        fingerprints,
                    },
                ),
            };
            let what = if preview { "review" } else { "apply" };
            tracing::info!("{what} from the review app started");
            // A new review replaces what the last apply said.
            let outcome = app.handle(request, &|_, _| {}).await;
            match &outcome {
                Err(e) => tracing::warn!("{what} from the review app failed: {e}"),
                Ok(_) => tracing::info!("{what} from the review app finished"),
            }
            review.update(|state| {
                state.busy = false;
                match outcome {
                    Ok(Reply::Run(_)) if preview => state.applied = None,
                    Ok(Reply::Run(report)) => state.applied = Some(report),
                    Ok(_) => state.failed = Some(AppError::Unexpected.to_string()),
                    Err(e) => state.failed = Some(e.to_string()),
                }
            });
        });
        true
    }
}
