//! `--help` of every command says what each option and argument is for, and says the
//! command's description once.

use clap::CommandFactory;
use std::process::Command;

/// Every command path: `serve`, `sync preview`, …
fn paths(command: &clap::Command, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    for sub in command.get_subcommands().filter(|c| c.get_name() != "help") {
        let mut path = prefix.clone();
        path.push(sub.get_name().to_string());
        out.push(path.clone());
        paths(sub, path, out);
    }
}

#[test]
fn every_option_and_argument_has_a_help_text_and_the_description_is_said_once() {
    let mut all = Vec::new();
    paths(&tandem::cli::Cli::command(), Vec::new(), &mut all);
    assert!(all.iter().any(|p| p == &["sync", "ignore"]), "{all:?}");
    for path in all {
        let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
            .args(&path)
            .arg("--help")
            .output()
            .unwrap();
        assert!(out.status.success(), "{path:?}");
        let help = String::from_utf8_lossy(&out.stdout);
        // Two descriptions run together ("Run the daemon: … Run tandem: …") start two
        // sentences with the same word.
        let description = help.lines().next().unwrap_or_default();
        let openings: Vec<&str> = description
            .split(". ")
            .filter_map(|sentence| sentence.split_whitespace().next())
            .collect();
        let mut distinct = openings.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(
            distinct.len(),
            openings.len(),
            "{path:?} says its description twice:\n{help}"
        );
        let lines: Vec<&str> = help.lines().collect();
        let mut in_list = false;
        for (i, line) in lines.iter().enumerate() {
            if *line == "Options:" || *line == "Arguments:" {
                in_list = true;
                continue;
            }
            if line.is_empty() || !line.starts_with(' ') {
                in_list = false;
                continue;
            }
            let entry = line.trim_start();
            if !in_list || !(entry.starts_with('-') || entry.starts_with('<')) {
                continue;
            }
            // "  --json     Print …", or (long help) the text on the next, deeper line.
            let same_line = entry
                .split_once("  ")
                .is_some_and(|(_, text)| !text.trim().is_empty());
            let indent = line.len() - entry.len();
            let next_line = lines.get(i + 1).is_some_and(|next| {
                let text = next.trim_start();
                !text.is_empty() && next.len() - text.len() > indent && !text.starts_with('-')
            });
            assert!(
                same_line || next_line,
                "{path:?}: no help text on `{entry}`:\n{help}"
            );
        }
    }
}

fn tandem(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tandem {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_for_every_shell_know_the_commands() {
    let bash = tandem(&["completions", "bash"]);
    assert!(bash.contains("complete -F _tandem"), "{bash}");
    for command in ["sync", "service", "preview", "install"] {
        assert!(bash.contains(command), "bash completes {command}");
    }
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let script = tandem(&["completions", shell]);
        assert!(
            script.contains("sync") && script.contains("service"),
            "{shell}: {script}"
        );
    }
    let out = Command::new(env!("CARGO_BIN_EXE_tandem"))
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "an unknown shell is refused");
}

#[test]
fn the_man_page_is_roff_and_names_every_command() {
    let page = tandem(&["man"]);
    // After clap_mangen's two preamble lines (an apostrophe that works in groff and others).
    let title = page
        .lines()
        .find(|line| !line.starts_with(".ie ") && !line.starts_with(".el "))
        .unwrap_or_default();
    assert!(title.starts_with(".TH tandem 1"), "{page}");
    for command in ["serve", "sync", "service", "login", "completions"] {
        assert!(page.contains(command), "{command} in the man page");
    }

    // The pages it refers to (tandem-sync(1), …) can be written too.
    let dir = tempfile::tempdir().unwrap();
    let man1 = dir.path().join("man1");
    tandem(&["man", "--dir", man1.to_str().unwrap()]);
    for page in [
        "tandem.1",
        "tandem-sync-preview.1",
        "tandem-service-install.1",
    ] {
        let text = std::fs::read_to_string(man1.join(page)).unwrap_or_default();
        assert!(text.contains(".TH"), "{page} is written");
    }
}
