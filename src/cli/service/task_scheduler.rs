//! Windows: a Task Scheduler task, `tandem`, started when the user logs on, registered from its
//! XML definition with `schtasks /Create /XML`. The
//! definition is kept in tandem's configuration directory, so `status` can show what was
//! registered and `uninstall` has a file to remove.

use super::{Activation, Launch, Manager, ManagerError, ServiceState};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use std::ffi::OsStr;
use std::io;
use std::path::{Path, PathBuf};

/// The task's name in the Task Scheduler Library.
pub const TASK: &str = "tandem";
/// How soon a tandem that stopped with an error is started again.
const REPEAT: &str = "PT5M";
const NAMESPACE: &str = "http://schemas.microsoft.com/windows/2004/02/mit/task";

/// `%APPDATA%\tandem\config\tandem-logon-task.xml`.
pub fn task_file(dirs: &directories::ProjectDirs) -> PathBuf {
    dirs.config_dir().join("tandem-logon-task.xml")
}

/// The logged-on user, `DOMAIN\name`: a logon trigger for one user needs no administrator.
pub fn current_user() -> Option<String> {
    let name = std::env::var("USERNAME").ok()?;
    Some(match std::env::var("USERDOMAIN") {
        Ok(domain) if !domain.is_empty() => format!("{domain}\\{name}"),
        _ => name,
    })
}

/// The task definition (Task Scheduler schema 1.2): at logon of `user`, with the user's own
/// rights, no time limit, not stopped on battery. The Task Scheduler restarts a task that failed
/// to start, not one that exited with an error; so the logon trigger repeats every five minutes,
/// and while tandem runs a repetition does nothing (`IgnoreNew`).
pub fn render(launch: &Launch, user: Option<&str>) -> io::Result<String> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-16"), None)))?;
    writer
        .create_element("Task")
        .with_attribute(("version", "1.2"))
        .with_attribute(("xmlns", NAMESPACE))
        .write_inner_content(|w| {
            w.create_element("RegistrationInfo").write_inner_content(|w| {
                text(w, "Description", "tandem serve: desktop calendar, contacts and tasks in step with Salesforce. Written by `tandem service install`.")
            })?;
            w.create_element("Triggers").write_inner_content(|w| {
                w.create_element("LogonTrigger").write_inner_content(|w| {
                    text(w, "Enabled", "true")?;
                    w.create_element("Repetition")
                        .write_inner_content(|w| text(w, "Interval", REPEAT))?;
                    if let Some(user) = user {
                        text(w, "UserId", user)?;
                    }
                    Ok(())
                })?;
                Ok(())
            })?;
            w.create_element("Principals").write_inner_content(|w| {
                w.create_element("Principal")
                    .with_attribute(("id", "Author"))
                    .write_inner_content(|w| {
                        if let Some(user) = user {
                            text(w, "UserId", user)?;
                        }
                        text(w, "LogonType", "InteractiveToken")?;
                        text(w, "RunLevel", "LeastPrivilege")
                    })?;
                Ok(())
            })?;
            w.create_element("Settings").write_inner_content(|w| {
                text(w, "MultipleInstancesPolicy", "IgnoreNew")?;
                text(w, "DisallowStartIfOnBatteries", "false")?;
                text(w, "StopIfGoingOnBatteries", "false")?;
                text(w, "ExecutionTimeLimit", "PT0S")?;
                w.create_element("RestartOnFailure").write_inner_content(|w| {
                    text(w, "Interval", "PT1M")?;
                    text(w, "Count", "999")
                })?;
                text(w, "AllowStartOnDemand", "true")?;
                text(w, "Enabled", "true")
            })?;
            w.create_element("Actions")
                .with_attribute(("Context", "Author"))
                .write_inner_content(|w| {
                    w.create_element("Exec").write_inner_content(|w| {
                        text(w, "Command", &quote(&launch.program))?;
                        let arguments: Vec<String> =
                            launch.args.iter().map(|a| quote(a)).collect();
                        text(w, "Arguments", &arguments.join(" "))
                    })?;
                    Ok(())
                })?;
            Ok(())
        })?;
    String::from_utf8(writer.into_inner()).map_err(io::Error::other)
}

fn text(w: &mut Writer<Vec<u8>>, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(value))
        .map(drop)
}

/// The file's bytes: UTF-16 with a byte-order mark, as the declaration says and schtasks reads.
pub fn encode(xml: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in xml.encode_utf16() {
        bytes.extend(unit.to_le_bytes());
    }
    bytes
}

/// One word of a Windows command line, as the C runtime splits it again (CommandLineToArgvW):
/// quoted when it has blanks or quotes; backslashes doubled only before a quote.
fn quote(word: &str) -> String {
    if !word.is_empty() && !word.contains([' ', '\t', '\n', '\u{b}', '"']) {
        return word.to_string();
    }
    let mut quoted = String::from("\"");
    let mut backslashes = 0;
    for c in word.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                quoted.push_str(&"\\".repeat(2 * backslashes + 1));
                quoted.push('"');
                backslashes = 0;
            }
            c => {
                quoted.push_str(&"\\".repeat(backslashes));
                quoted.push(c);
                backslashes = 0;
            }
        }
    }
    quoted.push_str(&"\\".repeat(2 * backslashes));
    quoted.push('"');
    quoted
}

/// Register the task (replacing an older one) and start it now.
pub fn activate(manager: &Manager, file: &Path) -> Result<(), Activation> {
    manager
        .call([
            OsStr::new("/Create"),
            OsStr::new("/TN"),
            OsStr::new(TASK),
            OsStr::new("/XML"),
            file.as_os_str(),
            OsStr::new("/F"),
        ])
        .map_err(Activation::Refused)?;
    manager
        .call(["/Run", "/TN", TASK])
        .map(drop)
        .map_err(Activation::Refused)
}

/// Stop the running task (it may not run) and delete it.
pub fn deactivate(manager: &Manager) -> Result<(), ManagerError> {
    let _ = manager.call(["/End", "/TN", TASK]);
    manager.call(["/Delete", "/TN", TASK, "/F"]).map(drop)
}

/// Whether the task is registered. schtasks words its status in the system's language, so
/// whether tandem runs is left to the daemon's own answer.
pub fn state(manager: &Manager) -> Result<ServiceState, ManagerError> {
    let output = manager.output(["/Query", "/TN", TASK])?;
    let registered = output.status.success();
    Ok(ServiceState {
        enabled: Some(registered),
        running: None,
        said: format!(
            "schtasks: task {TASK} {}",
            if registered {
                "registered"
            } else {
                "not registered"
            }
        ),
    })
}

pub fn by_hand(file: &Path) -> String {
    format!("schtasks /Create /TN {TASK} /XML \"{}\" /F", file.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_xml::{Reader, XmlVersion};
    use std::collections::BTreeMap;

    /// Every element's text by its path, `Task/Settings/RestartOnFailure/Count`, and the
    /// attributes of `Task`.
    fn read(xml: &str) -> (BTreeMap<String, String>, Vec<(String, String)>) {
        let mut reader = Reader::from_str(xml);
        let mut path: Vec<String> = Vec::new();
        let mut texts = BTreeMap::new();
        let mut text = String::new();
        let mut task_attributes = Vec::new();
        loop {
            match reader.read_event().unwrap() {
                Event::Start(start) => {
                    let name = start.name().as_ref().to_string();
                    if name == "Task" {
                        for attribute in start.attributes() {
                            let attribute = attribute.unwrap();
                            task_attributes.push((
                                attribute.key.as_ref().to_string(),
                                attribute
                                    .normalized_value(XmlVersion::Implicit1_0)
                                    .unwrap()
                                    .into_owned(),
                            ));
                        }
                    }
                    path.push(name);
                    text.clear();
                }
                Event::End(_) => {
                    if !text.trim().is_empty() {
                        texts.insert(path.join("/"), std::mem::take(&mut text));
                    }
                    text.clear();
                    path.pop();
                }
                Event::Text(content) => text.push_str(&content.xml10_content()),
                // `&amp;` and the like come as events of their own.
                Event::GeneralRef(entity) => {
                    let resolved = match entity.resolve_char_ref().unwrap() {
                        Some(c) => c.to_string(),
                        None => quick_xml::escape::resolve_predefined_entity(&entity)
                            .unwrap()
                            .to_string(),
                    };
                    text.push_str(&resolved);
                }
                Event::Eof => break,
                _ => {}
            }
        }
        (texts, task_attributes)
    }

    fn launch() -> Launch {
        Launch {
            program: r"C:\Program Files\tandem\tandem.exe".into(),
            args: vec![
                "--data".into(),
                r"C:\Users\Ana Lima\AppData\Roaming\tandem\data".into(),
                "serve".into(),
                "--service".into(),
            ],
            log_dir: r"C:\Users\Ana Lima\AppData\Local\tandem\data\logs".into(),
        }
    }

    #[test]
    fn the_task_runs_serve_as_a_service_at_logon_and_again_after_a_failure() {
        let xml = render(&launch(), Some(r"OFFICE\ana & co")).unwrap();
        assert!(xml.starts_with(r#"<?xml version="1.0" encoding="UTF-16"?>"#));
        let (texts, attributes) = read(&xml);
        assert!(attributes.contains(&("xmlns".into(), NAMESPACE.into())));
        let at = |path: &str| texts.get(path).map(String::as_str);
        assert_eq!(at("Task/Triggers/LogonTrigger/Enabled"), Some("true"));
        assert_eq!(
            at("Task/Triggers/LogonTrigger/Repetition/Interval"),
            Some("PT5M")
        );
        assert_eq!(
            at("Task/Settings/MultipleInstancesPolicy"),
            Some("IgnoreNew")
        );
        assert_eq!(
            at("Task/Triggers/LogonTrigger/UserId"),
            Some(r"OFFICE\ana & co")
        );
        assert_eq!(
            at("Task/Principals/Principal/LogonType"),
            Some("InteractiveToken")
        );
        assert_eq!(
            at("Task/Principals/Principal/RunLevel"),
            Some("LeastPrivilege")
        );
        assert_eq!(at("Task/Settings/ExecutionTimeLimit"), Some("PT0S"));
        assert_eq!(at("Task/Settings/RestartOnFailure/Interval"), Some("PT1M"));
        assert_eq!(at("Task/Settings/RestartOnFailure/Count"), Some("999"));
        assert_eq!(
            at("Task/Actions/Exec/Command"),
            Some(r#""C:\Program Files\tandem\tandem.exe""#)
        );
        assert_eq!(
            at("Task/Actions/Exec/Arguments"),
            Some(r#"--data "C:\Users\Ana Lima\AppData\Roaming\tandem\data" serve --service"#)
        );
    }

    #[test]
    fn without_a_user_name_the_trigger_names_none() {
        let (texts, _) = read(&render(&launch(), None).unwrap());
        assert!(!texts.contains_key("Task/Triggers/LogonTrigger/UserId"));
        assert_eq!(
            texts
                .get("Task/Triggers/LogonTrigger/Enabled")
                .map(String::as_str),
            Some("true")
        );
    }

    #[test]
    fn the_file_is_utf16_with_a_byte_order_mark() {
        let xml = render(&launch(), Some("ÄÖ\\ü")).unwrap();
        let bytes = encode(&xml);
        assert_eq!(&bytes[..2], &[0xFF, 0xFE]);
        let units: Vec<u16> = bytes[2..]
            .chunks(2)
            .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
            .collect();
        assert_eq!(String::from_utf16(&units).unwrap(), xml);
    }

    #[test]
    fn words_are_quoted_as_the_c_runtime_splits_them() {
        assert_eq!(quote("serve"), "serve");
        assert_eq!(quote(r"C:\a b\c"), r#""C:\a b\c""#);
        assert_eq!(quote(r"C:\a b\"), r#""C:\a b\\""#);
        assert_eq!(quote(r#"say "hi""#), r#""say \"hi\"""#);
        assert_eq!(quote(r#"a\"b"#), r#""a\\\"b""#);
        assert_eq!(quote(""), r#""""#);
    }
}
