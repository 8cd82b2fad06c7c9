//! The org at start-up: users (always) and, for a seed, a deterministic demo org of accounts, contacts,
//! events (timed, all-day, private, series, with invitees) and tasks spread around the clock's "now".

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value as Json, json};

use super::EmulatorConfig;
use super::clock::format_datetime;
use super::org::{Org, WriteCtx};
use super::schema::{self, Schema};
use super::value::Value;

struct UserSpec {
    username: String,
    first: &'static str,
    last: &'static str,
    alias: &'static str,
    title: &'static str,
    tz: String,
    active: bool,
}

fn users(config: &EmulatorConfig) -> Vec<UserSpec> {
    let u = |username: &str, first, last, alias, title, tz: &str, active| UserSpec {
        username: username.to_string(),
        first,
        last,
        alias,
        title,
        tz: tz.to_string(),
        active,
    };
    vec![
        u(
            &config.username,
            "Alex",
            "Morgan",
            "amorg",
            "Account Executive",
            &config.user_time_zone,
            true,
        ),
        u(
            "jamie.chen@tandem.example",
            "Jamie",
            "Chen",
            "jchen",
            "Sales Manager",
            "America/New_York",
            true,
        ),
        u(
            "priya.raman@tandem.example",
            "Priya",
            "Raman",
            "praman",
            "Solutions Engineer",
            "Asia/Kolkata",
            true,
        ),
        u(
            "tom.baker@tandem.example",
            "Tom",
            "Baker",
            "tbake",
            "Customer Success Manager",
            "Europe/London",
            true,
        ),
        u(
            "sam.carter@tandem.example",
            "Sam",
            "Carter",
            "scart",
            "Former Account Executive",
            "America/Los_Angeles",
            false,
        ),
    ]
}

pub fn user_by_username(org: &Org, username: &str) -> Option<String> {
    let obj = org.schema.obj(schema::USER);
    org.records(obj)
        .find(|r| {
            r.deleted_at.is_none()
                && org.get(r, "IsActive").as_bool()
                && org
                    .text(r, "Username")
                    .is_some_and(|u| u.eq_ignore_ascii_case(username))
        })
        .map(|r| r.id.clone())
}

/// Builds the org: schema, TaskStatus rows, users, then the demo data when a seed is configured.
pub fn build_org(config: &EmulatorConfig, now: DateTime<Utc>) -> Org {
    let schema = Arc::new(Schema::new(
        &config.external_id_fields,
        &config.task_statuses,
    ));
    let founded = now - Duration::days(3 * 365);
    let mut org = Org::new(schema, founded, config.task_statuses.clone());
    org.series_horizon_days = config.series_horizon_days.max(1);
    let mut ids = Vec::new();
    for u in users(config) {
        let id = org.insert_system(
            schema::USER,
            vec![
                ("Username", Value::Text(u.username.clone())),
                ("FirstName", Value::Text(u.first.into())),
                ("LastName", Value::Text(u.last.into())),
                ("Name", Value::Text(format!("{} {}", u.first, u.last))),
                ("Alias", Value::Text(u.alias.into())),
                ("Email", Value::Text(u.username.clone())),
                ("Title", Value::Text(u.title.into())),
                ("CompanyName", Value::Text("Tandem Demo Inc.".into())),
                ("TimeZoneSidKey", Value::Text(u.tz.clone())),
                ("LocaleSidKey", Value::Text("en_US".into())),
                ("LanguageLocaleKey", Value::Text("en_US".into())),
                ("IsActive", Value::Bool(u.active)),
            ],
            founded,
            None,
        );
        ids.push(id);
    }
    org.current_user = ids.first().cloned().unwrap_or_default();
    if let Some(seed) = config.seed {
        let active: Vec<String> = ids.iter().take(4).cloned().collect();
        DemoOrg::new(seed, now, active).populate(&mut org);
    }
    org
}

const COMPANIES: &[(&str, &str, &str)] = &[
    ("Acme Corporation", "acme.example", "Manufacturing"),
    ("Globex Industries", "globex.example", "Energy"),
    ("Initech", "initech.example", "Technology"),
    ("Umbrella Health", "umbrella-health.example", "Healthcare"),
    (
        "Stark Logistics",
        "stark-logistics.example",
        "Transportation",
    ),
    ("Wayne Financial", "wayne-financial.example", "Finance"),
    ("Hooli", "hooli.example", "Technology"),
    ("Vandelay Imports", "vandelay.example", "Retail"),
    ("Soylent Foods", "soylent.example", "Agriculture"),
    ("Cyberdyne Systems", "cyberdyne.example", "Engineering"),
    ("Tyrell Biotech", "tyrell.example", "Biotechnology"),
    ("Wonka Confectionery", "wonka.example", "Manufacturing"),
    ("Massive Dynamic", "massive-dynamic.example", "Consulting"),
    ("Oceanic Airlines", "oceanic.example", "Transportation"),
    ("Pied Piper", "piedpiper.example", "Technology"),
    ("Dunder Mifflin Paper", "dundermifflin.example", "Retail"),
    ("Prestige Worldwide", "prestige.example", "Media"),
    ("Nakatomi Trading", "nakatomi.example", "Finance"),
    ("Gringotts Banking", "gringotts.example", "Banking"),
    ("Blue Sun Telecom", "bluesun.example", "Telecommunications"),
    ("Aperture Labs", "aperture.example", "Engineering"),
    ("Monarch Education", "monarch-edu.example", "Education"),
    ("Sterling Cooper Media", "sterlingcooper.example", "Media"),
    ("Rekall Travel", "rekall.example", "Other"),
];

const CITIES: &[(&str, &str)] = &[
    ("Berlin", "Germany"),
    ("Munich", "Germany"),
    ("Hamburg", "Germany"),
    ("Vienna", "Austria"),
    ("Zurich", "Switzerland"),
    ("London", "United Kingdom"),
    ("Paris", "France"),
    ("Amsterdam", "Netherlands"),
    ("New York", "United States"),
    ("Chicago", "United States"),
    ("San Francisco", "United States"),
    ("Toronto", "Canada"),
];

const FIRST: &[&str] = &[
    "Anna", "Ben", "Clara", "David", "Elena", "Felix", "Greta", "Hannes", "Ines", "Jonas", "Karin",
    "Lukas", "Maria", "Nico", "Olivia", "Paul", "Quinn", "Rosa", "Stefan", "Tara", "Uwe", "Vera",
    "Walter", "Yara", "Zoe", "Amir", "Bianca", "Chen", "Dmitri", "Fatima", "José", "Łukasz",
    "Søren", "Aoife", "Mei",
];

const LAST: &[&str] = &[
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Schulz",
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Martin",
    "Rossi",
    "Dubois",
    "Novak",
    "Kowalski",
    "O'Brien",
    "Nguyen",
    "Tanaka",
    "Silva",
    "Andersen",
    "Van der Berg",
    "Ferreira",
    "Yilmaz",
    "Ivanova",
];

const TITLES: &[&str] = &[
    "CEO",
    "CFO",
    "CTO",
    "VP Sales",
    "Head of Procurement",
    "Purchasing Manager",
    "IT Director",
    "Operations Manager",
    "Marketing Lead",
    "Project Manager",
    "Office Manager",
    "Chief Revenue Officer",
];

const TASK_SUBJECTS: &[&str] = &[
    "Follow up on proposal",
    "Send pricing sheet",
    "Call back about renewal",
    "Prepare QBR deck",
    "Check contract redlines",
    "Schedule onsite visit",
    "Update opportunity notes",
    "Send thank-you note",
];

struct DemoOrg {
    rng: StdRng,
    now: DateTime<Utc>,
    users: Vec<String>,
    accounts: Vec<(String, String)>,
    contacts: Vec<(String, String, Option<String>)>,
    events: Vec<String>,
}

impl DemoOrg {
    fn new(seed: u64, now: DateTime<Utc>, users: Vec<String>) -> Self {
        DemoOrg {
            rng: StdRng::seed_from_u64(seed),
            now,
            users,
            accounts: Vec::new(),
            contacts: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Mostly the logged-in user, sometimes a colleague.
    fn owner(&mut self) -> String {
        if self.rng.random_bool(0.6) {
            self.users[0].clone()
        } else {
            self.users
                .choose(&mut self.rng)
                .cloned()
                .unwrap_or_default()
        }
    }

    fn days_ago(&mut self, lo: i64, hi: i64) -> DateTime<Utc> {
        let d = self.rng.random_range(lo..=hi);
        let minutes = self.rng.random_range(0..24 * 60);
        self.now - Duration::days(d) - Duration::minutes(minutes)
    }

    fn create(
        &mut self,
        org: &mut Org,
        object: &str,
        fields: Json,
        at: DateTime<Utc>,
        user: &str,
    ) -> Option<String> {
        let obj = org.schema.obj(object);
        let map: Map<String, Json> = match fields {
            Json::Object(m) => m,
            _ => Map::new(),
        };
        let ctx = WriteCtx {
            now: at.min(self.now),
            user_id: user.to_string(),
        };
        match org.create(obj, &map, &ctx) {
            Ok(id) => Some(id),
            Err(e) => {
                tracing::warn!(object, error = ?e, "demo org: record skipped");
                None
            }
        }
    }

    /// Touches a record later on, so LastModifiedDate/SystemModstamp spread over recent days.
    fn touch(
        &mut self,
        org: &mut Org,
        object: &str,
        id: &str,
        fields: Json,
        at: DateTime<Utc>,
        user: &str,
    ) {
        let obj = org.schema.obj(object);
        let map = fields.as_object().cloned().unwrap_or_default();
        let ctx = WriteCtx {
            now: at.min(self.now),
            user_id: user.to_string(),
        };
        if let Err(e) = org.update(obj, id, &map, &ctx) {
            tracing::warn!(object, error = ?e, "demo org: update skipped");
        }
    }

    fn populate(mut self, org: &mut Org) {
        self.accounts(org);
        self.contacts(org);
        self.events(org);
        self.series(org);
        self.invitees(org);
        self.tasks(org);
    }

    fn accounts(&mut self, org: &mut Org) {
        let mut companies: Vec<&(&str, &str, &str)> = COMPANIES.iter().collect();
        companies.shuffle(&mut self.rng);
        for (name, domain, industry) in companies.into_iter().take(20) {
            let owner = self.owner();
            let (city, country) = *CITIES.choose(&mut self.rng).unwrap_or(&CITIES[0]);
            let created = self.days_ago(200, 900);
            let fields = json!({
                "Name": name,
                "Industry": industry,
                "Type": (["Prospect", "Customer - Direct", "Customer - Channel"][self.rng.random_range(0..3)]),
                "Phone": format!("+49 30 {:04} {:04}", self.rng.random_range(1000..9999), self.rng.random_range(1000..9999)),
                "Website": format!("https://www.{domain}"),
                "NumberOfEmployees": self.rng.random_range(10..20_000),
                "BillingStreet": format!("{} Market Street", self.rng.random_range(1..200)),
                "BillingCity": city,
                "BillingCountry": country,
                "OwnerId": owner,
            });
            if let Some(id) = self.create(org, schema::ACCOUNT, fields, created, &owner) {
                self.accounts.push((id, domain.to_string()));
            }
        }
    }

    fn contacts(&mut self, org: &mut Org) {
        for n in 0..100 {
            let first = *FIRST.choose(&mut self.rng).unwrap_or(&"Anna");
            let last = *LAST.choose(&mut self.rng).unwrap_or(&"Smith");
            let account = (self.rng.random_bool(0.9))
                .then(|| self.accounts.choose(&mut self.rng).cloned())
                .flatten();
            let domain = account
                .as_ref()
                .map(|(_, d)| d.clone())
                .unwrap_or_else(|| "mail.example".into());
            let local: String = format!("{first}.{last}{n}")
                .to_lowercase()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
                .collect();
            let owner = self.owner();
            let (city, country) = *CITIES.choose(&mut self.rng).unwrap_or(&CITIES[0]);
            let mut fields = json!({
                "Salutation": (["Mr.", "Ms.", "Dr.", "Prof."][self.rng.random_range(0..4)]),
                "FirstName": first,
                "LastName": last,
                "Title": TITLES.choose(&mut self.rng).copied().unwrap_or("CEO"),
                "Email": format!("{local}@{domain}"),
                "Phone": format!("+49 89 {:07}", self.rng.random_range(1_000_000..9_999_999)),
                "MobilePhone": format!("+49 170 {:07}", self.rng.random_range(1_000_000..9_999_999)),
                "MailingStreet": format!("{} Hauptstraße\nBuilding {}", self.rng.random_range(1..120), self.rng.random_range(1..5)),
                "MailingCity": city,
                "MailingCountry": country,
                "OwnerId": owner,
            });
            if let (Some(obj), Some((acc, _))) = (fields.as_object_mut(), account.as_ref()) {
                obj.insert("AccountId".into(), json!(acc));
            }
            if self.rng.random_bool(0.3)
                && let Some(obj) = fields.as_object_mut()
            {
                let birth = format!(
                    "{}-{:02}-{:02}",
                    self.rng.random_range(1950..2000),
                    self.rng.random_range(1..13),
                    self.rng.random_range(1..29)
                );
                obj.insert("Birthdate".into(), json!(birth));
            }
            let created = self.days_ago(30, 700);
            if let Some(id) = self.create(org, schema::CONTACT, fields, created, &owner) {
                if self.rng.random_bool(0.4) {
                    let at = self.days_ago(0, 20);
                    let title = TITLES.choose(&mut self.rng).copied().unwrap_or("CEO");
                    self.touch(
                        org,
                        schema::CONTACT,
                        &id,
                        json!({"Title": title}),
                        at,
                        &owner,
                    );
                }
                self.contacts
                    .push((id, first.to_string(), account.map(|(a, _)| a)));
            }
        }
    }

    fn local_time(&self, tz: Tz, day_offset: i64, hour: u32, minute: u32) -> DateTime<Utc> {
        let day = (self.now.with_timezone(&tz) + Duration::days(day_offset)).date_naive();
        let t = NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or(NaiveTime::MIN);
        tz.from_local_datetime(&day.and_time(t))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(self.now)
    }

    fn events(&mut self, org: &mut Org) {
        let subjects = [
            "Intro call with {first}",
            "Demo for {first}",
            "Contract negotiation",
            "Lunch with {first}",
            "Renewal discussion",
            "Onsite workshop",
            "Quarterly business review",
        ];
        for _ in 0..60 {
            let owner = self.owner();
            let tz = org.user_tz(&owner);
            let offset = self.rng.random_range(-45..=60);
            let kind = self.rng.random_range(0..10);
            let contact = self.contacts.choose(&mut self.rng).cloned();
            let (who, first, what) = match &contact {
                Some((id, first, acc)) => (Some(id.clone()), first.clone(), acc.clone()),
                None => (None, "team".into(), None),
            };
            let subject = subjects
                .choose(&mut self.rng)
                .copied()
                .unwrap_or("Meeting")
                .replace("{first}", &first);
            let mut fields = match kind {
                0 => {
                    // All-day, one to three days.
                    let start = (self.now + Duration::days(offset)).date_naive();
                    let days = self.rng.random_range(1..=3);
                    json!({
                        "Subject": format!("Trade fair: {subject}"),
                        "IsAllDayEvent": true,
                        "ActivityDate": start.to_string(),
                        "EndDateTime": format_datetime(Utc.from_utc_datetime(&(start + Duration::days(days - 1)).and_time(NaiveTime::MIN))),
                        "ShowAs": "OutOfOffice",
                    })
                }
                _ => {
                    let (hour, minute) = (
                        self.rng.random_range(8..17),
                        [0, 30][self.rng.random_range(0..2)],
                    );
                    let start = self.local_time(tz, offset, hour, minute);
                    json!({
                        "Subject": subject,
                        "StartDateTime": format_datetime(start),
                        "DurationInMinutes": ([30, 45, 60, 90][self.rng.random_range(0..4)]),
                        "Location": (["Zoom", "Teams", "Customer office", "Café Einstein", "HQ room 4.12"][self.rng.random_range(0..5)]),
                        "Description": format!("Agenda:\n- status\n- next steps for {first}"),
                    })
                }
            };
            let private = kind == 1;
            if let Some(obj) = fields.as_object_mut() {
                obj.insert("OwnerId".into(), json!(owner));
                if private {
                    obj.insert("IsPrivate".into(), json!(true));
                    obj.insert("Subject".into(), json!("Doctor's appointment"));
                } else if let Some(w) = &who {
                    obj.insert("WhoId".into(), json!(w));
                    if let Some(a) = &what {
                        obj.insert("WhatId".into(), json!(a));
                    }
                }
            }
            let created = self.now + Duration::days(offset.min(0))
                - Duration::days(self.rng.random_range(1..30));
            if let Some(id) = self.create(org, schema::EVENT, fields, created, &owner) {
                self.events.push(id);
            }
        }
    }

    fn series(&mut self, org: &mut Org) {
        let me = self.users[0].clone();
        let tz = org.user_tz(&me);
        let specs = [
            (
                "Weekly team sync",
                "FREQ=WEEKLY;BYDAY=MO;COUNT=20",
                -35,
                9,
                30,
            ),
            (
                "Pipeline review",
                "RRULE:FREQ=MONTHLY;BYDAY=1TU",
                -60,
                14,
                60,
            ),
            (
                "1:1 with Jamie",
                "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;UNTIL=",
                -14,
                16,
                30,
            ),
        ];
        for (subject, rule, offset, hour, minutes) in specs {
            let start = self.local_time(tz, offset, hour, 0);
            let rule = if rule.ends_with("UNTIL=") {
                format!(
                    "{rule}{}",
                    (self.now + Duration::days(180)).format("%Y%m%dT%H%M%SZ")
                )
            } else {
                rule.to_string()
            };
            let fields = json!({
                "Subject": subject,
                "StartDateTime": format_datetime(start),
                "DurationInMinutes": minutes,
                "IsRecurrence2": true,
                "Recurrence2PatternText": rule,
                "Recurrence2PatternTimeZone": tz.name(),
                "Location": "Teams",
            });
            let created = start - Duration::days(3);
            self.create(org, schema::EVENT, fields, created, &me);
        }
    }

    fn invitees(&mut self, org: &mut Org) {
        let events: Vec<String> = self.events.iter().take(12).cloned().collect();
        for (i, event) in events.iter().enumerate() {
            let Some(rec) = org.live(event).cloned() else {
                continue;
            };
            if org.get(&rec, "IsPrivate").as_bool() {
                continue;
            }
            let owner = org.text(&rec, "OwnerId").unwrap_or("").to_string();
            let created = org
                .get(&rec, "CreatedDate")
                .as_datetime()
                .unwrap_or(self.now);
            if let Some((contact, _, _)) = self.contacts.choose(&mut self.rng).cloned() {
                let status = ["New", "Accepted", "Declined"][self.rng.random_range(0..3)];
                self.create(
                    org,
                    schema::EVENT_RELATION,
                    json!({"EventId": event, "RelationId": contact, "Status": status}),
                    created,
                    &owner,
                );
            }
            if i % 3 == 0
                && let Some(colleague) = self.users.iter().find(|u| **u != owner).cloned()
            {
                self.create(
                    org,
                    schema::EVENT_RELATION,
                    json!({"EventId": event, "RelationId": colleague}),
                    created,
                    &owner,
                );
            }
        }
    }

    fn tasks(&mut self, org: &mut Org) {
        let statuses = [
            "Not Started",
            "Not Started",
            "In Progress",
            "Completed",
            "Completed",
            "Waiting on someone else",
            "Deferred",
        ];
        for _ in 0..50 {
            let owner = self.owner();
            let status = statuses
                .choose(&mut self.rng)
                .copied()
                .unwrap_or("Not Started");
            let due = (self.now + Duration::days(self.rng.random_range(-30..=30))).date_naive();
            let mut fields = json!({
                "Subject": TASK_SUBJECTS.choose(&mut self.rng).copied().unwrap_or("Call"),
                "Status": status,
                "Priority": (["High", "Normal", "Normal", "Low"][self.rng.random_range(0..4)]),
                "ActivityDate": due.to_string(),
                "OwnerId": owner,
            });
            if self.rng.random_bool(0.7)
                && let Some((contact, _, account)) = self.contacts.choose(&mut self.rng).cloned()
                && let Some(obj) = fields.as_object_mut()
            {
                obj.insert("WhoId".into(), json!(contact));
                if let Some(a) = account {
                    obj.insert("WhatId".into(), json!(a));
                }
            }
            let created = self.days_ago(1, 60);
            self.create(org, schema::TASK, fields, created, &owner);
        }
    }
}
