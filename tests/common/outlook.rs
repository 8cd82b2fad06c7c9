//! Signing a data directory in to the Graph emulator's mailbox the way a user without a
//! browser does: a device code, approved on the emulated sign-in page (as the demo does).

use std::path::Path;
use tandem_graph_emulator::GraphHandle;

/// `tandem login outlook --device-code` against `graph`, approved at once: the `[outlook]`
/// section of `dir`'s settings file holds the refresh token afterwards.
pub async fn sign_in(graph: &GraphHandle, dir: &Path) {
    tandem::cli::demo::sign_in_to_mailbox(graph, dir)
        .await
        .expect("the sign-in completes");
}
