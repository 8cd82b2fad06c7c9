//! `tandem demo` as a test runs it: started on a data directory, read up to the review app's
//! address (its last line), and its org reached through the REST API with the credentials it
//! printed — following the printed commands, as a user would.

use serde_json::Value;
use std::io::{BufRead, BufReader, Lines};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

/// A running `tandem demo` and what it printed.
pub struct Demo {
    child: Child,
    pub printed: String,
    pub data: PathBuf,
    _rest: Lines<BufReader<ChildStdout>>,
}

impl Demo {
    pub fn start(data: &Path, args: &[&str]) -> Demo {
        Demo::spawn(data, args, Command::new(env!("CARGO_BIN_EXE_tandem")))
    }

    /// Started with the log lines `filter` lets through (`TANDEM_LOG`) written to `log`.
    pub fn start_logged(data: &Path, args: &[&str], log: &Path, filter: &str) -> Demo {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tandem"));
        command
            .env("TANDEM_LOG", filter)
            .stderr(std::fs::File::create(log).expect("the log file"));
        Demo::spawn(data, args, command)
    }

    fn spawn(data: &Path, args: &[&str], mut command: Command) -> Demo {
        let mut child = command
            .arg("--data")
            .arg(data)
            .args(["demo", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("tandem demo starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut printed = String::new();
        for line in lines.by_ref().take(200) {
            let line = line.unwrap();
            printed.push_str(&line);
            printed.push('\n');
            if line.starts_with("Open the review app") {
                return Demo {
                    child,
                    printed,
                    data: data.to_path_buf(),
                    _rest: lines,
                };
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("the demo never said where the review app is:\n{printed}")
    }

    /// The text after `prefix` on the line that starts with it.
    pub fn line(&self, prefix: &str) -> &str {
        self.printed
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{}", self.printed))
    }

    /// The one-time sign-in link, the last thing the demo says.
    pub fn link(&self) -> String {
        let line = self.line("Open the review app");
        line[line.find("http").unwrap()..].to_string()
    }

    /// The review app's address (`http://127.0.0.1:PORT`).
    pub fn base(&self) -> String {
        let link = self.link();
        link[..link.find("/app/").unwrap()].to_string()
    }

    /// The DAV address, user and password: "Connect … to URL with user U and password P."
    pub fn dav(&self) -> (String, String, String) {
        let words: Vec<String> = self
            .line("Connect a CalDAV/CardDAV client to ")
            .trim_end_matches('.')
            .split_whitespace()
            .map(str::to_string)
            .collect();
        (words[0].clone(), words[3].clone(), words[6].clone())
    }

    /// Stop it as a person does: Ctrl-C.
    pub fn interrupt(mut self) {
        let sent = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        assert!(
            self.child.wait().unwrap().success(),
            "the demo ends cleanly on Ctrl-C"
        );
    }
}

/// A test that fails half-way leaves no demo running behind it.
impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The demo's org over its REST API, signed in with the `curl` the demo printed.
pub struct Org {
    pub url: String,
    bearer: String,
    http: reqwest::Client,
}

impl Org {
    pub async fn of(demo: &Demo) -> Org {
        let token_call = demo.line("  curl -s ");
        let token_url = token_call.split_whitespace().next().unwrap().to_string();
        // The printed values need no escaping: the form body is the -d arguments joined.
        let form = token_call
            .split(" -d ")
            .skip(1)
            .map(str::trim)
            .collect::<Vec<_>>()
            .join("&");
        let http = reqwest::Client::new();
        let token: Value = http
            .post(&token_url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Org {
            url: token_url
                .trim_end_matches("/services/oauth2/token")
                .to_string(),
            bearer: format!("Bearer {}", token["access_token"].as_str().unwrap()),
            http,
        }
    }

    /// The records a SOQL query finds.
    pub async fn query(&self, soql: &str) -> Vec<Value> {
        let url = reqwest::Url::parse_with_params(
            &format!("{}/services/data/v60.0/query", self.url),
            &[("q", soql)],
        )
        .unwrap();
        let answer: Value = self
            .http
            .get(url)
            .header("Authorization", &self.bearer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["records"].as_array().cloned().unwrap_or_default()
    }

    /// Change a record as a user of the org would; the answer's status.
    pub async fn patch(&self, object: &str, id: &str, fields: Value) -> u16 {
        self.http
            .patch(format!(
                "{}/services/data/v60.0/sobjects/{object}/{id}",
                self.url
            ))
            .header("Authorization", &self.bearer)
            .json(&fields)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}
