//! Signing a data directory in to the Graph emulator's mailbox the way a user without a
//! browser does: a device code, approved on the emulated sign-in page.

use std::path::Path;
use tandem::app::{OutlookSignIn, OutlookSignInArgs};
use tandem_graph_emulator::{DEFAULT_CLIENT_ID, GraphHandle};

/// `tandem login outlook --device-code` against `graph`, approved at once: the `[outlook]`
/// section of `dir`'s settings file holds the refresh token afterwards.
pub async fn sign_in(graph: &GraphHandle, dir: &Path) {
    // The client polls the token endpoint without waiting between polls.
    graph.device_code_interval(0);
    let sign_in = OutlookSignIn::prepare(
        dir,
        &OutlookSignInArgs {
            login_url: Some(graph.base_url()),
            graph_url: Some(graph.base_url()),
            client_id: Some(DEFAULT_CLIENT_ID.into()),
            ..OutlookSignInArgs::default()
        },
    )
    .expect("the sign-in is prepared");
    let code = sign_in.device_code().await.expect("a device code");
    graph
        .approve_device_code(&code.user_code)
        .expect("the user approves");
    sign_in
        .finish_device(&code)
        .await
        .expect("the sign-in completes");
}
