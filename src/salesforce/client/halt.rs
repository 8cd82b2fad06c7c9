//! A request to stop at the next safe point, shared by a run and the client it uses: a call in
//! flight finishes (and is recorded), nothing more is sent, and a wait between retries ends at
//! once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Clone, Default)]
pub struct Halt(Arc<Inner>);

#[derive(Default)]
struct Inner {
    raised: AtomicBool,
    woken: Notify,
}

impl Halt {
    pub fn raise(&self) {
        self.0.raised.store(true, Ordering::SeqCst);
        self.0.woken.notify_waiters();
    }

    pub fn raised(&self) -> bool {
        self.0.raised.load(Ordering::SeqCst)
    }

    /// Wait `delay`, or less if the halt is raised meanwhile; whether it was waited out.
    pub async fn sleep(&self, delay: Duration) -> bool {
        let woken = self.0.woken.notified();
        if self.raised() {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => !self.raised(),
            _ = woken => false,
        }
    }
}
