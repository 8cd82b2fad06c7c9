//! The review app driven in a real headless Chromium (through chromedriver), on `tandem demo`:
//! review the first sync, Shift-select three items and ignore them once, ignore one forever,
//! apply the rest — the org then holds exactly what was applied, and the next review shows the
//! ignored ones as ignored; change settings (the file keeps its comments; a bad value is shown at
//! its field and nothing is written); find a contact in History and restore an earlier title,
//! which a CalDAV client then sees; Connect shows credentials that work, and disconnects and
//! connects Salesforce. A screenshot of each page goes to `target/tmp/review-app/`.
//!
//! Chromium and chromedriver are installed by `.ci/run`; `cargo test` alone skips this test.

use fantoccini::actions::{
    InputSource, KeyAction, KeyActions, MOUSE_BUTTON_LEFT, MouseActions, PointerAction,
};
use fantoccini::key::Key;
mod common;

use common::demo::{Demo, Org};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The demo's log: tandem's own lines, down to each request the page made.
const LOG: &str = "tandem=debug";

/// A bounded wait for a condition, polled (never a fixed sleep); `None` after 60 s.
async fn within<T>(mut probe: impl AsyncFnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = probe().await {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// [`within`], or a failure naming what never happened.
async fn until<T>(what: &str, probe: impl AsyncFnMut() -> Option<T>) -> T {
    within(probe)
        .await
        .unwrap_or_else(|| panic!("{what}: not within 60 s"))
}

/// The first names' contacts in the org, by last name.
async fn last_names(org: &Org, first: &str) -> Vec<String> {
    org.query(&format!(
        "SELECT LastName FROM Contact WHERE FirstName = '{first}' ORDER BY LastName"
    ))
    .await
    .iter()
    .map(|r| r["LastName"].as_str().unwrap().to_string())
    .collect()
}

/// A CalDAV/CardDAV client's requests, with the account the demo printed.
struct Dav {
    base: String,
    user: String,
    password: String,
    http: reqwest::Client,
}

impl Dav {
    async fn put(&self, path: &str, body: String) {
        let status = self
            .http
            .put(format!("{}{path}", self.base.trim_end_matches("/dav/")))
            .basic_auth(&self.user, Some(&self.password))
            .header("Content-Type", "text/vcard")
            .body(body)
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "PUT {path}: {status}");
    }

    async fn delete(&self, path: &str) {
        let status = self
            .http
            .delete(format!("{}{path}", self.base.trim_end_matches("/dav/")))
            .basic_auth(&self.user, Some(&self.password))
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "DELETE {path}: {status}");
    }

    /// The hrefs of a collection's members.
    async fn list(&self, collection: &str) -> Vec<String> {
        let body = self
            .http
            .request(
                reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
                format!("{}{collection}", self.base.trim_end_matches("/dav/")),
            )
            .basic_auth(&self.user, Some(&self.password))
            .header("Depth", "1")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        common::members_in(&body, collection)
    }

    async fn get(&self, path: &str) -> String {
        self.http
            .get(format!("{}{path}", self.base.trim_end_matches("/dav/")))
            .basic_auth(&self.user, Some(&self.password))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

fn card(uid: &str, last: &str, title: &str) -> String {
    format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nN:{last};Zeta;;;\r\nFN:Zeta {last}\r\nTITLE:{title}\r\nEND:VCARD\r\n"
    )
}

/// chromedriver on a free port, and a headless Chromium session through it.
struct Browser {
    driver: Child,
    client: Client,
    shots: PathBuf,
    /// The demo's log: a failure shows its end (what the page asked for, what the runs did).
    log: PathBuf,
}

impl Browser {
    async fn start(log: &Path) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (installed by .ci/run)");
        let profile = tempfile::tempdir().unwrap().keep();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         "--window-size=1280,1400", "--lang=en-US",
                         format!("--user-data-dir={}", profile.display())],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let client = until("chromedriver answers", async || {
            ClientBuilder::rustls()
                .ok()?
                .capabilities(caps.clone())
                .connect(&url)
                .await
                .ok()
        })
        .await;
        let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("review-app");
        std::fs::create_dir_all(&shots).unwrap();
        Browser {
            driver,
            client,
            shots,
            log: log.to_path_buf(),
        }
    }

    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    /// [`until`] on this page: when the wait fails, the failure shows what the page said, and
    /// a screenshot of it is kept (`failed.png`).
    async fn until<T>(&self, what: &str, probe: impl AsyncFnMut() -> Option<T>) -> T {
        if let Some(value) = within(probe).await {
            return value;
        }
        self.fail(&format!("{what}: not within 60 s")).await
    }

    /// Fail with what the page shows, and keep a screenshot of it (`failed.png`).
    async fn fail(&self, what: &str) -> ! {
        let _ = self
            .client
            .screenshot()
            .await
            .map(|png| std::fs::write(self.shots.join("failed.png"), png));
        let shown = match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(e) => format!("(no page: {e})"),
        };
        let url = self.client.current_url().await.map(|u| u.to_string());
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let end = lines[lines.len().saturating_sub(60)..].join("\n");
        panic!("{what}; {url:?} showed:\n{shown}\n\nthe end of the demo's log:\n{end}");
    }

    /// Click what `css` finds, once the page has it (found again if a reload replaced it).
    async fn click(&self, css: &str) {
        self.until(&format!("click {css}"), async || {
            let element = self.client.find(Locator::Css(css)).await.ok()?;
            element.click().await.ok()
        })
        .await
    }

    /// Wait until what `css` finds says `needle` (the page after a click may still be loading);
    /// its text.
    async fn expect(&self, css: &str, needle: &str) -> String {
        let mut seen = String::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await
                && let Ok(text) = element.text().await
            {
                if text.contains(needle) {
                    return text;
                }
                seen = text;
            }
            assert!(
                Instant::now() < deadline,
                "{css} never said {needle:?}; last: {seen:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of what `css` finds, once the page has it.
    async fn text(&self, css: &str) -> String {
        self.until(&format!("the text of {css}"), async || {
            let element = self.client.find(Locator::Css(css)).await.ok()?;
            element.text().await.ok()
        })
        .await
    }

    async fn page(&self) -> String {
        self.client
            .find(Locator::Css("main"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Wait until the run the page follows has ended: tandem says no run is under way, and the
    /// page (which reloads itself when the run ends) no longer follows one.
    async fn run_ends(&self) {
        const ASK: &str = "var x = new XMLHttpRequest(); x.open('GET', '/app/progress', false); \
                           x.send(); return JSON.parse(x.responseText).busy;";
        self.until("the run ends and the page shows it", async || {
            let busy = self.client.execute(ASK, Vec::new()).await.ok()?;
            let following = self.client.find(Locator::Css("#progress")).await.is_ok();
            (busy == Value::Bool(false) && !following).then_some(())
        })
        .await;
    }

    /// What attribute `name` of what `css` finds says, if the page has it.
    async fn attr(&self, css: &str, name: &str) -> Option<String> {
        let element = self.client.find(Locator::Css(css)).await.ok()?;
        element.attr(name).await.ok()?
    }

    /// Click a button that submits a form, and wait until the browser has left the page for
    /// the answer to that form. A click the browser drops (it happens now and then to a headless
    /// Chromium right after a page load) is made again, and so is one the page left for another
    /// reason (a page following a run reloads itself when the run ends); a button is clicked
    /// only once it can be pressed. A server that never answers fails here.
    async fn submit(&self, css: &str) {
        // The mark is on the document (gone once the browser has left it); the submission is
        // remembered by the tab, across the navigation it starts.
        const MARK: &str = "document.documentElement.dataset.before = '1'; \
                            sessionStorage.removeItem('submitted'); \
                            document.addEventListener('submit', \
                              () => sessionStorage.setItem('submitted', '1')); return true;";
        const LEFT: &str = "if (document.documentElement.dataset.before === '1') return 'here'; \
                            return sessionStorage.getItem('submitted') === '1' \
                              ? 'submitted' : 'reloaded';";
        for _ in 0..3 {
            self.until(&format!("{css} can be pressed"), async || {
                let button = self.client.find(Locator::Css(css)).await.ok()?;
                button.attr("disabled").await.ok()?.is_none().then_some(())
            })
            .await;
            self.client.execute(MARK, Vec::new()).await.unwrap();
            self.click(css).await;
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                match self.client.execute(LEFT, Vec::new()).await {
                    Ok(Value::String(s)) if s == "submitted" => return,
                    Ok(Value::String(s)) if s == "reloaded" => break,
                    _ => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        }
        self.fail(&format!(
            "the page never answered {css}, clicked three times"
        ))
        .await
    }

    /// "Review now", and wait until the page shows the new review.
    async fn review_now(&self) {
        let before = self.attr("#reviewed-at", "datetime").await;
        self.submit("#review").await;
        let new = within(async || {
            let now = self.attr("#reviewed-at", "datetime").await;
            (now.is_some() && now != before).then_some(())
        })
        .await;
        if new.is_none() {
            // Which run came last says why no review waits: the failure shows the Runs page.
            const RUNS: &str = "var x = new XMLHttpRequest(); x.open('GET', '/app/runs', false); \
                                x.send(); var page = new DOMParser().parseFromString(x.responseText, \
                                'text/html'); return page.querySelector('main').textContent;";
            let runs = self.client.execute(RUNS, Vec::new()).await;
            self.fail(&format!(
                "a new review on the page: not within 60 s; the runs page said {runs:?}"
            ))
            .await
        }
        self.run_ends().await;
    }

    /// Click an apply button once it can be pressed, and wait until the page says what the
    /// apply did.
    async fn apply(&self, css: &str) -> String {
        self.submit(css).await;
        self.run_ends().await;
        self.expect("#applied", "of").await
    }

    /// Review and apply everything, from the Summary: what a person does after an edit.
    async fn sync(&self, base: &str) {
        self.client
            .goto(&format!("{base}/app/summary"))
            .await
            .unwrap();
        self.review_now().await;
        self.apply("#apply-all").await;
    }

    /// Shift-click: the way a salesperson selects a range.
    async fn shift_click(&self, element: fantoccini::elements::Element) {
        let pause = Duration::from_millis(0);
        let keys = KeyActions::new("keys".into())
            .then(KeyAction::Down {
                value: Key::Shift.into(),
            })
            .pause(pause)
            .pause(pause)
            .pause(pause)
            .then(KeyAction::Up {
                value: Key::Shift.into(),
            });
        let mouse = MouseActions::new("mouse".into())
            .pause(pause)
            .then(PointerAction::MoveToElement {
                element,
                duration: None,
                x: 0.0,
                y: 0.0,
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            })
            .pause(pause);
        self.client
            .perform_actions(fantoccini::actions::Actions::from(keys).and(mouse))
            .await
            .unwrap();
        self.client.release_actions().await.unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The checkbox of the row whose desktop column names `who`.
async fn row_box(browser: &Browser, who: &str) -> fantoccini::elements::Element {
    browser
        .client
        .find(Locator::XPath(&format!(
            "//tr[contains(@class,'item')][td[4][contains(., '{who}')]]//input[@class='pick']"
        )))
        .await
        .unwrap_or_else(|e| panic!("the row of {who}: {e}"))
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs chromium and chromedriver: run .ci/run"]
async fn the_review_app_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("demo.log");
    let demo = Demo::start_logged(&dir.path().join("demo"), &["--seed", "3"], &log, LOG);
    let (dav_url, user, password) = demo.dav();
    let dav = Dav {
        base: dav_url,
        user,
        password,
        http: reqwest::Client::new(),
    };
    // Five contacts made on the desktop after the demo's review: they go to Salesforce.
    for last in ["Alpha", "Bravo", "Charlie", "Delta", "Echo"] {
        dav.put(
            &format!("/dav/addressbooks/contacts/zeta-{last}.vcf"),
            card(&format!("zeta-{last}"), last, "Buyer"),
        )
        .await;
    }
    let org = Org::of(&demo).await;
    let browser = Browser::start(&log).await;
    let base = demo.base();

    // The link signs in once and lands on the setup path: nothing was applied yet.
    browser.client.goto(&demo.link()).await.unwrap();
    browser.expect("h1", "Getting started").await;
    browser.screenshot("setup").await;
    browser.client.goto(&demo.link()).await.unwrap();
    assert!(
        browser.page().await.contains("used already"),
        "a link signs in once"
    );
    let token = demo.link().rsplit('/').next().unwrap().to_string();
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("/app/signin/once/") && !logged.contains(&token),
        "the link's visits are logged, its token is not"
    );

    // The demo's review is waiting; the five new contacts came after it.
    browser
        .client
        .goto(&format!("{base}/app/summary"))
        .await
        .unwrap();
    browser.expect("#changed-since", "5 more changed").await;
    browser.review_now().await;
    for last in ["Alpha", "Bravo", "Charlie", "Delta", "Echo"] {
        assert!(
            browser.page().await.contains(&format!("Zeta {last}")),
            "{last}"
        );
    }
    browser.screenshot("summary").await;

    // Shift-select three, ignore them until either side changes.
    row_box(&browser, "Zeta Alpha").await.click().await.unwrap();
    browser
        .shift_click(row_box(&browser, "Zeta Charlie").await)
        .await;
    let selected = browser
        .client
        .find_all(Locator::Css("input.pick:checked"))
        .await
        .unwrap()
        .len();
    assert_eq!(selected, 3, "Shift-click selects the range");
    browser.click("#ignore-once").await;
    browser
        .expect("#note", "3 items ignored until either side changes")
        .await;
    row_box(&browser, "Zeta Delta").await.click().await.unwrap();
    browser.click("#ignore-forever").await;
    browser.expect("#note", "1 item ignored forever").await;
    let apply_all = browser.text("#apply-all").await;
    let applied = browser.apply("#apply-all").await;
    let pending: usize = apply_all
        .trim_start_matches("Apply all (")
        .trim_end_matches(')')
        .parse()
        .unwrap();
    assert!(
        applied.contains(&format!("{pending} of {pending} steps")),
        "{applied} after {apply_all}"
    );
    browser.screenshot("summary-applied").await;
    assert_eq!(
        last_names(&org, "Zeta").await,
        vec!["Echo"],
        "the org holds exactly the applied contact"
    );

    // The next review shows the ignored ones, as ignored.
    browser.review_now().await;
    browser.click("#skipped-contacts summary").await;
    let skipped = browser.text("#skipped-contacts").await;
    for (last, why) in [
        ("Alpha", "ignored until it changes"),
        ("Bravo", "ignored until it changes"),
        ("Charlie", "ignored until it changes"),
        ("Delta", "ignored forever"),
    ] {
        let line = skipped
            .lines()
            .find(|l| l.contains(&format!("Zeta {last}")))
            .unwrap_or_else(|| panic!("{last} in {skipped}"));
        assert!(line.contains(why), "{line}");
    }

    // Take one ignore back: after a new review it is pending again, and applied on its own.
    row_box(&browser, "Zeta Alpha").await.click().await.unwrap();
    browser.click("#undo").await;
    browser.expect("#note", "1 item is no longer ignored").await;
    browser.review_now().await;
    row_box(&browser, "Zeta Alpha").await.click().await.unwrap();
    let applied = browser.apply("#apply-selected").await;
    assert!(applied.contains("1 of 1 step"), "{applied}");
    assert_eq!(last_names(&org, "Zeta").await, vec!["Alpha", "Echo"]);

    // Runs: the apply, in the user's local time.
    browser
        .client
        .goto(&format!("{base}/app/runs"))
        .await
        .unwrap();
    assert!(browser.page().await.contains("Manual run"));
    browser.screenshot("runs").await;

    // Settings: past days and the hours window, saved with the file's comments kept.
    let settings_file = demo.data.join("tandem.toml");
    browser
        .client
        .goto(&format!("{base}/app/settings"))
        .await
        .unwrap();
    let past = browser
        .client
        .find(Locator::Css("input[name='events.past_days']"))
        .await
        .unwrap();
    past.clear().await.unwrap();
    past.send_keys("60").await.unwrap();
    for (name, time) in [
        ("events.hours_from", "0800AM"),
        ("events.hours_to", "0600PM"),
    ] {
        browser
            .client
            .find(Locator::Css(&format!("input[name='{name}']")))
            .await
            .unwrap()
            .send_keys(time)
            .await
            .unwrap();
    }
    browser.click("#save").await;
    browser.expect("#saved", "Saved").await;
    let text = std::fs::read_to_string(&settings_file).unwrap();
    let toml: toml::Value = toml::from_str(&text).unwrap();
    assert_eq!(toml["events"]["past_days"].as_integer(), Some(60), "{text}");
    assert_eq!(
        toml["events"]["hours"].as_str(),
        Some("08:00-18:00"),
        "{text}"
    );
    assert!(
        text.starts_with("# Written by `tandem demo`"),
        "comments kept: {text}"
    );
    // A bad value: shown at its field, nothing written.
    let every = browser
        .client
        .find(Locator::Css("input[name='contacts.every_minutes']"))
        .await
        .unwrap();
    every.clear().await.unwrap();
    every.send_keys("2").await.unwrap();
    browser.click("#save").await;
    let error = browser
        .expect("#error-contacts-every_minutes", "between 5 and 1440")
        .await;
    assert!(
        !error.starts_with("line "),
        "no line of a file never written: {error}"
    );
    assert_eq!(
        std::fs::read_to_string(&settings_file).unwrap(),
        text,
        "nothing written"
    );
    browser.screenshot("settings-error").await;

    // History: a title changed on the desktop, restored in the browser, seen by the client.
    let echo = "/dav/addressbooks/contacts/zeta-Echo.vcf";
    dav.put(echo, card("zeta-Echo", "Echo", "Head Buyer")).await;
    browser
        .client
        .goto(&format!("{base}/app/history"))
        .await
        .unwrap();
    let q = browser.client.find(Locator::Css("#q")).await.unwrap();
    q.send_keys("Zeta Echo").await.unwrap();
    browser.click("#find").await;
    browser.expect(".timeline", "Head Buyer").await;
    browser.screenshot("history").await;
    // The oldest entry is the creation, with the title "Buyer".
    let restore_buttons = browser
        .client
        .find_all(Locator::Css("button.restore-to"))
        .await
        .unwrap();
    restore_buttons.last().unwrap().click().await.unwrap();
    browser.expect("h1", "Restore Zeta Echo").await;
    browser.screenshot("restore").await;
    browser.click("#confirm-restore").await;
    browser.expect("#restored", "Restored as event").await;
    browser.sync(&base).await;
    let card = dav.get(echo).await;
    assert!(
        card.contains("TITLE:Buyer\r\n"),
        "the client sees the restored title: {card}"
    );

    // Undelete: an event deleted on the desktop, brought back from History.
    let calendar = dav.list("/dav/calendars/calendar/").await;
    let event = calendar
        .iter()
        .find(|href| href.ends_with(".ics"))
        .expect("an event of the demo")
        .clone();
    dav.delete(&event).await;
    browser.sync(&base).await;
    browser
        .client
        .goto(&format!("{base}/app/history"))
        .await
        .unwrap();
    browser
        .client
        .find(Locator::Css("#q"))
        .await
        .unwrap()
        .send_keys(&event)
        .await
        .unwrap();
    browser.click("#find").await;
    browser.expect("#record", "This record is deleted").await;
    browser.click("#undelete").await;
    browser.click("#confirm-restore").await;
    browser.expect("#restored", "Restored as event").await;
    browser.sync(&base).await;
    assert!(
        dav.list("/dav/calendars/calendar/").await.contains(&event),
        "the event is back where the client had it"
    );

    // Sign out, and in again with the account's user and password.
    browser.click("form.signout button").await;
    browser.expect("h1", "tandem").await;
    browser.screenshot("signin").await;
    browser
        .client
        .find(Locator::Css("#user"))
        .await
        .unwrap()
        .send_keys(&dav.user)
        .await
        .unwrap();
    browser
        .client
        .find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(&dav.password)
        .await
        .unwrap();
    browser.click("#signin").await;
    browser.expect("h1", "Synchronization Summary").await;

    // Connect: the credentials shown work; Salesforce disconnects and connects again.
    browser
        .client
        .goto(&format!("{base}/app/connect"))
        .await
        .unwrap();
    browser.click("#reveal").await;
    let shown_password = browser
        .client
        .find(Locator::Css("#dav-password"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    let shown_user = browser.text("#dav-user").await;
    let shown_url = browser.text("#dav-url").await;
    let listing = reqwest::Client::new()
        .request(
            reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
            format!("{shown_url}addressbooks/contacts/"),
        )
        .basic_auth(shown_user, Some(shown_password))
        .header("Depth", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(listing.status().as_u16(), 207);
    browser.screenshot("connect").await;
    browser.click("#disconnect").await;
    browser.expect("#sf-state", "Not connected").await;
    // The emulator's connected app takes any callback: listen on a free port.
    let mut settings = std::fs::read_to_string(&settings_file).unwrap();
    settings = settings.replace(
        "[salesforce]\n",
        "[salesforce]\ncallback_url = \"http://127.0.0.1:0/callback\"\n",
    );
    std::fs::write(&settings_file, settings).unwrap();
    browser.click("#connect-salesforce").await;
    until(
        "the login comes back to the Connect page, connected",
        async || {
            let state = browser.client.find(Locator::Css("#sf-state")).await.ok()?;
            state
                .text()
                .await
                .ok()?
                .starts_with("Connected")
                .then_some(())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver: run .ci/run"]
async fn the_review_app_shows_outlook_as_a_column_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("demo.log");
    let demo = Demo::start_logged(
        &dir.path().join("demo"),
        &["--seed", "5", "--outlook"],
        &log,
        LOG,
    );
    let browser = Browser::start(&log).await;
    let base = demo.base();
    browser.client.goto(&demo.link()).await.unwrap();
    browser
        .client
        .goto(&format!("{base}/app/summary"))
        .await
        .unwrap();
    // Salesforce on the left, the desktop and Outlook on the right, each its own column.
    let heads = browser.text("#kind-contacts thead").await.to_lowercase();
    assert!(
        heads.contains("salesforce") && heads.contains("desktop") && heads.contains("outlook"),
        "{heads}"
    );
    let page = browser.page().await;
    assert!(page.contains("create → Outlook"), "{page}");
    assert!(page.contains("(not in Outlook)"), "{page}");
    browser.screenshot("summary-outlook").await;
    // "Carried out 340 of 340 steps (… Salesforce API calls …; 11 Graph requests)."
    let applied = browser.apply("#apply-all").await;
    let words: Vec<&str> = applied.split_whitespace().collect();
    assert_eq!(words[2], words[4], "every step carried out: {applied}");
    assert!(applied.contains("Graph requests"), "{applied}");
}
