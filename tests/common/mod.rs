//! Helpers shared by the integration tests: run the real `tandem` binary on a scratch data
//! directory, feed it events, read what it prints.
#![allow(dead_code)]

pub mod crash;
pub mod daemon;
pub mod demo;
pub mod notes;
pub mod outlook;

use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// The members of `collection` a PROPFIND (Depth 1) answer lists, by href.
pub fn members_in(multistatus: &str, collection: &str) -> Vec<String> {
    multistatus
        .split("href>")
        .filter_map(|part| {
            part.strip_suffix("</d:")
                .or(part.strip_suffix("</D:"))
                .or(part.strip_suffix("</"))
        })
        .filter(|href| *href != collection && href.starts_with(collection))
        .map(str::to_string)
        .collect()
}

pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn store_file(&self) -> PathBuf {
        self.path().join("tandem.redb")
    }

    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tandem"));
        cmd.arg("--data").arg(self.path()).env_remove("TANDEM_DATA");
        cmd
    }

    /// Run a tandem command to completion.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("tandem runs")
    }

    /// Run a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "tandem {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// Feed drafts to `tandem ingest`; returns the acknowledgements.
    pub fn ingest(&self, drafts: &[Value]) -> Vec<Value> {
        let (status, stdout, stderr) = self.ingest_raw(
            &drafts
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        );
        assert!(status.success(), "ingest failed: {stderr}");
        stdout
    }

    pub fn ingest_raw(&self, input: &str) -> (std::process::ExitStatus, Vec<Value>, String) {
        let mut child = self.spawn_ingest();
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write drafts");
        let out = child.wait_with_output().expect("ingest finishes");
        let acks = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("acks are JSON"))
            .collect();
        (
            out.status,
            acks,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn spawn_ingest(&self) -> Child {
        self.command()
            .arg("ingest")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tandem ingest starts")
    }

    /// The log as JSON values.
    pub fn log(&self) -> Vec<Value> {
        self.ok(&["log", "--json"])
            .lines()
            .map(|l| serde_json::from_str(l).expect("log lines are JSON"))
            .collect()
    }
}

/// A draft observation from a side.
pub fn observe(side: &str, op: &str, external_id: &str, changes: Value) -> Value {
    json!({
        "origin": { "side": side, "agent": format!("test:{side}") },
        "type": "observation",
        "kind": "contact",
        "op": op,
        "external_id": external_id,
        "changes": changes,
    })
}

/// The same, with an explicit causal base (what the side last saw).
pub fn observe_on(side: &str, op: &str, record: &str, base: &[u64], changes: Value) -> Value {
    json!({
        "origin": { "side": side, "agent": format!("test:{side}") },
        "type": "observation",
        "record": record,
        "kind": "contact",
        "op": op,
        "base": base,
        "changes": changes,
    })
}

/// The store's tables by their names in the file, for tests that damage a store on purpose, as
/// a bug or another program would. tandem itself reaches them only through its typed reads.
pub mod raw {
    use redb::TableDefinition;
    use tandem::store::Text;
    pub const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
    pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
    pub const RECORDS: TableDefinition<Text, &[u8]> = TableDefinition::new("records");
    pub const ALIASES: TableDefinition<Text, &str> = TableDefinition::new("aliases");
}
