//! `tandem completions SHELL` and `tandem man`: the shell completions and the man page, both
//! generated from the command line's own definition, so they never disagree with `--help`.

use clap::CommandFactory;
use clap_complete::Shell;
use std::io::{self, Write};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for. Bash: `tandem completions bash >
    /// ~/.local/share/bash-completion/completions/tandem`; zsh: into a file `_tandem` in a
    /// directory of your `fpath`; fish: `> ~/.config/fish/completions/tandem.fish`.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Print the completion script for `shell`.
pub fn completions(args: CompletionsArgs) -> io::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(
        args.shell,
        &mut super::Cli::command(),
        "tandem",
        &mut script,
    );
    print(&script)
}

#[derive(clap::Args, Debug)]
pub struct ManArgs {
    /// Write a page for tandem and one for each command (tandem-sync-preview.1, …) into this
    /// directory, instead of printing tandem's page.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ManError {
    #[error("cannot write the man pages in {}: {source}", dir.display())]
    Write { dir: PathBuf, source: io::Error },
    #[error("cannot print the man page: {0}")]
    Print(#[from] io::Error),
}

/// Print the man page (roff), or write every command's page into `--dir`.
pub fn man(args: ManArgs) -> Result<(), ManError> {
    let Some(dir) = args.dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(super::Cli::command()).render(&mut page)?;
        return Ok(print(&page)?);
    };
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| clap_mangen::generate_to(super::Cli::command(), &dir));
    written.map_err(|source| ManError::Write {
        dir: dir.clone(),
        source,
    })?;
    println!(
        "Wrote tandem.1 and a page for each command in {}; man finds them in a man1 directory of its path (e.g. ~/.local/share/man/man1).",
        dir.display()
    );
    Ok(())
}

/// Write to standard output; a reader that stopped early (`| head`) is not an error.
fn print(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        done => done,
    }
}
