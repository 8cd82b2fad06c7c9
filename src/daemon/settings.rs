//! The settings in force in the running daemon: `tandem.toml` is read again when it changes,
//! checked first; a file that does not parse leaves the settings in force as they were and the
//! reason shows in `tandem sync status`. The conflict policies and the `[server]` account are
//! read at start only (they shape what the store holds and who the DAV server admits).

use crate::app::{App, Serving};
use crate::config::{SETTINGS_FILE, Settings};
use chrono::Utc;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// How often the file is looked at.
const EVERY: Duration = Duration::from_secs(1);

/// The app of the running daemon, replaced whole when the settings change: a request in flight
/// keeps the app it started with.
#[derive(Clone)]
pub struct Live {
    app: Arc<RwLock<Arc<App>>>,
    settings: watch::Sender<Settings>,
}

impl Live {
    pub fn new(app: App) -> Live {
        let (settings, _) = watch::channel(app.settings.clone());
        Live {
            app: Arc::new(RwLock::new(Arc::new(app))),
            settings,
        }
    }

    /// The app in force now.
    pub fn app(&self) -> Arc<App> {
        self.app.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The settings in force, as they change (for the scheduler).
    pub fn subscribe(&self) -> watch::Receiver<Settings> {
        self.settings.subscribe()
    }

    fn replace(&self, with: impl FnOnce(&App) -> App) {
        let mut app = self.app.write().unwrap_or_else(|e| e.into_inner());
        *app = Arc::new(with(&app));
    }

    /// Look at the file every second until the task is dropped.
    pub async fn watch(self, dir: PathBuf) {
        let mut seen = stamp(&dir);
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            let now = stamp(&dir);
            if now == seen {
                continue;
            }
            seen = now;
            self.reload(&dir);
        }
    }

    /// Read the file again: new settings replace the ones in force (but for those read at start
    /// only, which wait for a restart); a bad file is reported and changes nothing.
    pub fn reload(&self, dir: &Path) {
        match Settings::load(dir) {
            Ok(mut settings) => {
                tracing::info!(
                    "settings reloaded from {}",
                    dir.join(SETTINGS_FILE).display()
                );
                self.replace(|app| {
                    let awaiting_restart = keep_start_only(&mut settings, &app.settings);
                    let _ = self.settings.send(settings.clone());
                    App {
                        settings,
                        serving: Serving::Daemon {
                            settings_loaded_ms: Utc::now().timestamp_millis(),
                            settings_error: None,
                            awaiting_restart,
                        },
                        ..app.clone()
                    }
                });
            }
            Err(e) => {
                tracing::warn!("{e}; the settings in force stay as they were");
                self.replace(|app| {
                    let (loaded, awaiting_restart) = match &app.serving {
                        Serving::Daemon {
                            settings_loaded_ms,
                            awaiting_restart,
                            ..
                        } => (*settings_loaded_ms, awaiting_restart.clone()),
                        Serving::Local => (Utc::now().timestamp_millis(), Vec::new()),
                    };
                    App {
                        serving: Serving::Daemon {
                            settings_loaded_ms: loaded,
                            settings_error: Some(e.to_string()),
                            awaiting_restart,
                        },
                        ..app.clone()
                    }
                });
            }
        }
    }
}

/// Put back the settings that are read at start only — the store merges with the conflict
/// policies it opened with, the DAV server admits the account it started with — and name those
/// the file changed.
fn keep_start_only(new: &mut Settings, in_force: &Settings) -> Vec<String> {
    let mut waiting = Vec::new();
    for (title, new, old) in [
        ("contacts", &mut new.contacts, &in_force.contacts),
        ("events", &mut new.events, &in_force.events),
        ("tasks", &mut new.tasks, &in_force.tasks),
    ] {
        if new.conflict_policy != old.conflict_policy {
            waiting.push(format!("[{title}] conflict_policy"));
            new.conflict_policy = old.conflict_policy;
        }
    }
    if new.server != in_force.server {
        waiting.push("[server]".into());
        new.server = in_force.server.clone();
    }
    waiting
}

/// When and how big the file was last written: a change of either is a change.
fn stamp(dir: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(dir.join(SETTINGS_FILE)).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

impl crate::web::AppSource for Live {
    fn app(&self) -> Arc<App> {
        Live::app(self)
    }
}
