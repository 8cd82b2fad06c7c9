//! `tandem serve` as a test runs it: started on a scratch data directory, stopped as a service
//! manager stops it, and spoken to over raw HTTP/1.1 as any client or page could.

use super::Scratch;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};

pub struct Daemon {
    child: Child,
    data: std::path::PathBuf,
    /// Its standard error, in a file: a pipe nobody reads would stop it once full.
    said: tempfile::NamedTempFile,
}

impl Daemon {
    pub fn start(s: &Scratch) -> Daemon {
        Daemon::start_in(s.path())
    }

    /// `tandem serve` on the data directory `data` (made if missing).
    pub fn start_in(data: &std::path::Path) -> Daemon {
        Daemon::start_with(data, &[])
    }

    /// `tandem serve` on `data`, with these variables added to its environment.
    pub fn start_with(data: &std::path::Path, env: &[(&str, &std::ffi::OsStr)]) -> Daemon {
        let said = tempfile::NamedTempFile::new().unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tandem"))
            .arg("--data")
            .arg(data)
            .env_remove("TANDEM_DATA")
            .envs(env.iter().copied())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(said.reopen().unwrap())
            .spawn()
            .expect("tandem serve starts");
        // It prints its address once the API is listening and announced.
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.contains("local API at http://127.0.0.1:"), "{line}");
        Daemon {
            child,
            data: data.to_path_buf(),
            said,
        }
    }

    /// What it announced in its data directory (`daemon.json`): addresses and the API token.
    pub fn announcement(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.data.join("daemon.json")).unwrap()).unwrap()
    }

    /// `host:port` of its CalDAV/CardDAV server (and review app).
    pub fn dav_addr(&self) -> String {
        self.announcement()["dav_url"]
            .as_str()
            .unwrap()
            .trim_start_matches("http://")
            .trim_end_matches("/dav/")
            .to_string()
    }

    /// The `Authorization: Basic` value of the DAV account in its settings.
    pub fn basic_auth(&self) -> String {
        let settings: toml::Value =
            toml::from_str(&std::fs::read_to_string(self.data.join("tandem.toml")).unwrap())
                .unwrap();
        basic(
            settings["server"]["user"].as_str().unwrap(),
            settings["server"]["password"].as_str().unwrap(),
        )
    }

    /// Kill it (SIGKILL), as a crash would, and wait until it is gone.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Stop it the way a service manager would, and wait until it has closed the store; what
    /// it said on standard error.
    pub fn stop(mut self) -> String {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        let said = std::fs::read_to_string(self.said.path()).unwrap_or_default();
        assert!(
            exit.success(),
            "the daemon exits cleanly on SIGTERM: {exit}\n{said}"
        );
        said
    }
}

/// A test that fails while its daemon runs must not leave it running: the daemon holds the
/// test's standard error open, and the harness would wait for it forever.
impl Drop for Daemon {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The `Authorization: Basic` value of a user and password.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

/// One HTTP/1.1 request, written as a browser (or an attacker's page) would send it: the raw
/// response.
pub fn raw(addr: &str, head: &str, body: &str) -> String {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}
