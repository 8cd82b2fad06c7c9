//! `tandem open`: the review app in the browser, signed in — the running daemon makes a link
//! that signs in once, and the browser is sent there (the link is printed too).

use crate::app::AppError;
use crate::daemon::Client;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "tandem is not running for {}: start it with `tandem serve` (or `tandem service install`), then `tandem open`",
        .0.display()
    )]
    NotRunning(PathBuf),
    #[error(transparent)]
    Daemon(#[from] AppError),
}

pub async fn run(dir: &Path) -> Result<(), OpenError> {
    let daemon = Client::discover(dir)
        .await
        .ok_or_else(|| OpenError::NotRunning(dir.to_path_buf()))?;
    let link = daemon.sign_in_link().await?;
    let opened = super::browser::open(&link);
    println!(
        "{} the review app (this link signs you in once, within five minutes):\n{link}",
        if opened { "Opening" } else { "Open" }
    );
    Ok(())
}
