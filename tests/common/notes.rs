//! Logging a data directory in to the Domino emulator's mail file the way `tandem login notes`
//! does (as the demo does).

use std::path::Path;
use tandem_domino_emulator::DominoHandle;

/// `tandem login notes` against `domino` as the demo user: the `[notes]` section of `dir`'s
/// settings file holds the account afterwards.
pub async fn log_in(domino: &DominoHandle, dir: &Path) {
    tandem::cli::demo::log_in_to_mail_file(domino, dir)
        .await
        .expect("the login completes");
}
