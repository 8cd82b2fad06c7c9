//! Who is signed in to the review app: sessions (a random id in an `HttpOnly; SameSite=Strict`
//! cookie, each with its own CSRF token for every state-changing request) and one-time sign-in
//! links (`tandem open`). Kept in memory: a restarted daemon asks again, and `tandem open` signs
//! in without typing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const COOKIE: &str = "tandem_session";
/// A session unused this long ends.
const IDLE: Duration = Duration::from_secs(12 * 60 * 60);
/// A one-time link not used this soon expires.
const LINK_LIFE: Duration = Duration::from_secs(5 * 60);
/// At most this many sessions and links are kept; the oldest go first.
const KEPT: usize = 64;

#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    /// What every form and script must send back (a page of another site cannot read it).
    pub csrf: String,
}

struct Entry {
    csrf: String,
    used: Instant,
}

#[derive(Default)]
pub struct Sessions {
    sessions: Mutex<HashMap<String, Entry>>,
    links: Mutex<HashMap<String, Instant>>,
}

fn token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// Keep at most `KEPT` entries, dropping the least recently used.
fn bound<V>(map: &mut HashMap<String, V>, when: impl Fn(&V) -> Instant) {
    while map.len() > KEPT {
        let Some(oldest) = map
            .iter()
            .min_by_key(|(_, v)| when(v))
            .map(|(k, _)| k.clone())
        else {
            return;
        };
        map.remove(&oldest);
    }
}

impl Sessions {
    /// A new signed-in session.
    pub fn open(&self) -> Session {
        let session = Session {
            id: token(),
            csrf: token(),
        };
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.insert(
            session.id.clone(),
            Entry {
                csrf: session.csrf.clone(),
                used: Instant::now(),
            },
        );
        bound(&mut sessions, |e| e.used);
        session
    }

    /// The session a cookie names, if it is open (its idle time starts again).
    pub fn find(&self, id: &str) -> Option<Session> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let entry = sessions.get_mut(id)?;
        if entry.used.elapsed() > IDLE {
            sessions.remove(id);
            return None;
        }
        entry.used = Instant::now();
        Some(Session {
            id: id.to_string(),
            csrf: entry.csrf.clone(),
        })
    }

    pub fn close(&self, id: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    /// A token for a link that signs in once, within a few minutes.
    pub fn link(&self) -> String {
        let token = token();
        let mut links = self.links.lock().unwrap_or_else(|e| e.into_inner());
        links.insert(token.clone(), Instant::now());
        bound(&mut links, |made| *made);
        token
    }

    /// Spend a one-time link: a new session if it was valid.
    pub fn redeem(&self, token: &str) -> Option<Session> {
        let made = self
            .links
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token)?;
        (made.elapsed() <= LINK_LIFE).then(|| self.open())
    }
}

impl Session {
    /// Whether `sent` is this session's CSRF token (compared in constant time).
    pub fn vouches(&self, sent: &str) -> bool {
        sent.as_bytes().ct_eq(self.csrf.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_signs_in_once() {
        let sessions = Sessions::default();
        let link = sessions.link();
        let session = sessions.redeem(&link).expect("a fresh link signs in");
        assert!(sessions.find(&session.id).is_some());
        assert!(sessions.redeem(&link).is_none(), "never twice");
        assert!(sessions.redeem("made-up").is_none());
    }

    #[test]
    fn each_session_has_its_own_csrf_token() {
        let sessions = Sessions::default();
        let (a, b) = (sessions.open(), sessions.open());
        assert!(a.vouches(&a.csrf) && !a.vouches(&b.csrf) && !a.vouches(""));
        sessions.close(&a.id);
        assert!(sessions.find(&a.id).is_none());
        assert!(sessions.find(&b.id).is_some());
    }

    #[test]
    fn sessions_are_bounded() {
        let sessions = Sessions::default();
        let first = sessions.open();
        for _ in 0..KEPT {
            sessions.open();
        }
        assert!(sessions.find(&first.id).is_none(), "the oldest went first");
    }
}
