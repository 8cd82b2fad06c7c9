//! The emulated objects and their fields as data: names, types, lengths, picklists, defaults and access rules.

use std::collections::HashMap;

use super::value::Value;

/// Field types, named as `describe` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Id,
    Reference,
    String,
    TextArea,
    Email,
    Phone,
    Url,
    Picklist,
    Combobox,
    Boolean,
    Int,
    Double,
    Date,
    DateTime,
}

impl Kind {
    pub fn describe_name(self) -> &'static str {
        match self {
            Kind::Id => "id",
            Kind::Reference => "reference",
            Kind::String => "string",
            Kind::TextArea => "textarea",
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Url => "url",
            Kind::Picklist => "picklist",
            Kind::Combobox => "combobox",
            Kind::Boolean => "boolean",
            Kind::Int => "int",
            Kind::Double => "double",
            Kind::Date => "date",
            Kind::DateTime => "datetime",
        }
    }

    /// Kinds whose values are strings in JSON and SOQL (quoted literals, LIKE allowed).
    pub fn is_textual(self) -> bool {
        matches!(
            self,
            Kind::Id
                | Kind::Reference
                | Kind::String
                | Kind::TextArea
                | Kind::Email
                | Kind::Phone
                | Kind::Url
                | Kind::Picklist
                | Kind::Combobox
        )
    }

    pub fn soql_type_name(self) -> &'static str {
        match self {
            Kind::Boolean => "boolean",
            Kind::Int => "integer",
            Kind::Double => "double",
            Kind::Date => "date",
            Kind::DateTime => "dateTime",
            Kind::Id | Kind::Reference => "id",
            _ => "string",
        }
    }
}

#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: String,
    pub label: String,
    pub kind: Kind,
    pub length: usize,
    pub picklist: Vec<String>,
    pub restricted: bool,
    pub createable: bool,
    pub updateable: bool,
    pub nillable: bool,
    pub default: Option<Value>,
    pub reference_to: Vec<String>,
    pub relationship_name: Option<String>,
    pub external_id: bool,
    pub unique: bool,
    pub filterable: bool,
    pub sortable: bool,
}

impl FieldDef {
    fn new(name: &str, kind: Kind, length: usize) -> Self {
        // Long text areas can be neither filtered nor sorted in SOQL.
        let long_text = kind == Kind::TextArea && length > 255;
        FieldDef {
            name: name.to_string(),
            label: label_for(name),
            kind,
            length,
            picklist: Vec::new(),
            restricted: false,
            createable: true,
            updateable: true,
            nillable: kind != Kind::Boolean,
            default: (kind == Kind::Boolean).then_some(Value::Bool(false)),
            reference_to: Vec::new(),
            relationship_name: None,
            external_id: false,
            unique: false,
            filterable: !long_text,
            sortable: !long_text,
        }
    }

    fn read_only(mut self) -> Self {
        self.createable = false;
        self.updateable = false;
        self
    }

    fn create_only(mut self) -> Self {
        self.updateable = false;
        self
    }

    fn required(mut self) -> Self {
        self.nillable = false;
        self
    }

    fn default(mut self, v: Value) -> Self {
        self.default = Some(v);
        self
    }

    fn picklist(mut self, values: &[&str], restricted: bool) -> Self {
        self.picklist = values.iter().map(|s| s.to_string()).collect();
        self.restricted = restricted;
        self
    }

    fn refs(mut self, targets: &[&str], relationship: &str) -> Self {
        self.reference_to = targets.iter().map(|s| s.to_string()).collect();
        self.relationship_name = Some(relationship.to_string());
        self
    }

    fn label(mut self, label: &str) -> Self {
        self.label = label.to_string();
        self
    }

    /// True when a create without a value must fail with REQUIRED_FIELD_MISSING.
    pub fn is_required_on_create(&self) -> bool {
        !self.nillable && self.createable && self.default.is_none()
    }

    pub fn is_polymorphic(&self) -> bool {
        self.reference_to.len() > 1
    }
}

/// "LastModifiedDate" -> "Last Modified Date"; good enough for describe labels and error texts.
fn label_for(name: &str) -> String {
    let base = name.strip_suffix("__c").unwrap_or(name);
    let base = base
        .strip_suffix("Id")
        .filter(|b| !b.is_empty())
        .unwrap_or(base);
    let mut out = String::new();
    let chars: Vec<char> = base.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let prev_lower = i > 0 && chars[i - 1].is_lowercase();
        if i > 0 && c.is_uppercase() && prev_lower {
            out.push(' ');
        }
        out.push(if *c == '_' { ' ' } else { *c });
    }
    out
}

fn f(name: &str, kind: Kind, length: usize) -> FieldDef {
    FieldDef::new(name, kind, length)
}

fn text(name: &str, length: usize) -> FieldDef {
    f(name, Kind::String, length)
}

fn boolean(name: &str) -> FieldDef {
    f(name, Kind::Boolean, 0)
}

fn reference(name: &str, targets: &[&str], relationship: &str) -> FieldDef {
    f(name, Kind::Reference, 18).refs(targets, relationship)
}

#[derive(Debug, Clone)]
pub struct ObjectDef {
    pub name: String,
    pub label: String,
    pub plural: String,
    pub prefix: String,
    pub fields: Vec<FieldDef>,
    pub createable: bool,
    pub updateable: bool,
    pub deletable: bool,
    /// Only Account supports ETag / If-Match / If-None-Match on sObject Rows.
    pub etag: bool,
    index: HashMap<String, usize>,
    relationships: HashMap<String, usize>,
}

impl ObjectDef {
    fn new(name: &str, plural: &str, prefix: &str, fields: Vec<FieldDef>) -> Self {
        let mut all = vec![
            f("Id", Kind::Id, 18).read_only().required(),
            boolean("IsDeleted").read_only(),
        ];
        all.extend(fields);
        all.extend([
            f("CreatedDate", Kind::DateTime, 0).read_only().required(),
            reference("CreatedById", &["User"], "CreatedBy")
                .read_only()
                .required(),
            f("LastModifiedDate", Kind::DateTime, 0)
                .read_only()
                .required(),
            reference("LastModifiedById", &["User"], "LastModifiedBy")
                .read_only()
                .required(),
            f("SystemModstamp", Kind::DateTime, 0)
                .read_only()
                .required(),
        ]);
        let mut def = ObjectDef {
            name: name.to_string(),
            label: name.to_string(),
            plural: plural.to_string(),
            prefix: prefix.to_string(),
            fields: all,
            createable: true,
            updateable: true,
            deletable: true,
            etag: false,
            index: HashMap::new(),
            relationships: HashMap::new(),
        };
        def.reindex();
        def
    }

    fn reindex(&mut self) {
        self.index = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, fd)| (fd.name.to_ascii_lowercase(), i))
            .collect();
        self.relationships = self
            .fields
            .iter()
            .enumerate()
            .filter_map(|(i, fd)| {
                fd.relationship_name
                    .as_ref()
                    .map(|r| (r.to_ascii_lowercase(), i))
            })
            .collect();
    }

    fn read_only_object(mut self) -> Self {
        self.createable = false;
        self.updateable = false;
        self.deletable = false;
        self
    }

    /// Field index by name, case-insensitively (Salesforce field names are case-insensitive).
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.index.get(&name.to_ascii_lowercase()).copied()
    }

    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.field_index(name).map(|i| &self.fields[i])
    }

    /// The reference field behind a relationship name (`Account` -> `AccountId`).
    pub fn relationship(&self, name: &str) -> Option<usize> {
        self.relationships.get(&name.to_ascii_lowercase()).copied()
    }

    /// Index of a field the schema itself defines; the fallback keeps lookups total.
    pub fn idx(&self, name: &str) -> usize {
        self.field_index(name).unwrap_or(0)
    }
}

/// A custom external-id field the org has (for idempotent upserts), e.g. `Tandem_Id__c` on Contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIdField {
    pub object: String,
    pub field: String,
    pub length: usize,
    /// A unique external id rejects duplicates with DUPLICATE_VALUE; a non-unique one lets upsert answer 300.
    pub unique: bool,
}

/// A row of the org's TaskStatus table: which Task.Status values close a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskStatusDef {
    pub label: String,
    pub closed: bool,
    pub default: bool,
}

pub fn default_task_statuses() -> Vec<TaskStatusDef> {
    [
        ("Not Started", false, true),
        ("In Progress", false, false),
        ("Completed", true, false),
        ("Waiting on someone else", false, false),
        ("Deferred", false, false),
    ]
    .iter()
    .map(|(label, closed, default)| TaskStatusDef {
        label: label.to_string(),
        closed: *closed,
        default: *default,
    })
    .collect()
}

pub fn default_external_ids() -> Vec<ExternalIdField> {
    ["Contact", "Event", "Task"]
        .iter()
        .map(|o| ExternalIdField {
            object: o.to_string(),
            field: "Tandem_Id__c".to_string(),
            length: 255,
            unique: false,
        })
        .collect()
}

/// All emulated objects, built once per emulator from the org configuration.
#[derive(Debug, Clone)]
pub struct Schema {
    pub objects: Vec<ObjectDef>,
    by_name: HashMap<String, usize>,
    by_prefix: HashMap<String, usize>,
}

pub const USER: &str = "User";
pub const ACCOUNT: &str = "Account";
pub const CONTACT: &str = "Contact";
pub const EVENT: &str = "Event";
pub const TASK: &str = "Task";
pub const EVENT_RELATION: &str = "EventRelation";
pub const TASK_STATUS: &str = "TaskStatus";

const STATE_LEN: usize = 80;

fn address(prefix: &str) -> Vec<FieldDef> {
    vec![
        f(&format!("{prefix}Street"), Kind::TextArea, 255),
        text(&format!("{prefix}City"), 40),
        text(&format!("{prefix}State"), STATE_LEN),
        text(&format!("{prefix}PostalCode"), 20),
        text(&format!("{prefix}Country"), 80),
    ]
}

fn owner() -> FieldDef {
    reference("OwnerId", &["User"], "Owner").required()
}

impl Schema {
    pub fn new(external_ids: &[ExternalIdField], task_statuses: &[TaskStatusDef]) -> Self {
        let mut objects = vec![
            user(),
            task_status(),
            account(),
            contact(),
            event(),
            task(task_statuses),
            event_relation(),
        ];
        for ext in external_ids {
            if let Some(obj) = objects
                .iter_mut()
                .find(|o| o.name.eq_ignore_ascii_case(&ext.object))
            {
                if obj.field_index(&ext.field).is_some() {
                    continue;
                }
                let mut fd = text(&ext.field, ext.length);
                fd.external_id = true;
                fd.unique = ext.unique;
                obj.fields.push(fd);
                obj.reindex();
            }
        }
        let by_name = objects
            .iter()
            .enumerate()
            .map(|(i, o)| (o.name.to_ascii_lowercase(), i))
            .collect();
        let by_prefix = objects
            .iter()
            .enumerate()
            .map(|(i, o)| (o.prefix.clone(), i))
            .collect();
        Schema {
            objects,
            by_name,
            by_prefix,
        }
    }

    pub fn object_index(&self, name: &str) -> Option<usize> {
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }

    pub fn object(&self, name: &str) -> Option<&ObjectDef> {
        self.object_index(name).map(|i| &self.objects[i])
    }

    /// Which object an id belongs to, by its key prefix.
    pub fn object_for_id(&self, id: &str) -> Option<usize> {
        self.by_prefix.get(super::ids::prefix(id)).copied()
    }

    /// Index of an object the schema itself defines.
    pub fn obj(&self, name: &str) -> usize {
        self.object_index(name).unwrap_or(0)
    }
}

fn user() -> ObjectDef {
    ObjectDef::new(
        USER,
        "Users",
        "005",
        vec![
            text("Username", 80).required(),
            text("FirstName", 40),
            text("LastName", 80).required(),
            text("Name", 121).read_only(),
            text("Alias", 8).required(),
            f("Email", Kind::Email, 128).required(),
            text("Title", 80),
            f("Phone", Kind::Phone, 40),
            text("CompanyName", 80),
            // Java time-zone ids; tandem converts all-day and local times with this, not the machine's zone.
            text("TimeZoneSidKey", 40).required().label("Time Zone"),
            text("LocaleSidKey", 40).required(),
            text("LanguageLocaleKey", 40).required(),
            boolean("IsActive").default(Value::Bool(true)),
        ],
    )
    .read_only_object()
}

fn task_status() -> ObjectDef {
    ObjectDef::new(
        TASK_STATUS,
        "Task Status Values",
        "01J",
        vec![
            text("MasterLabel", 255),
            text("ApiName", 255),
            boolean("IsClosed"),
            boolean("IsDefault"),
            f("SortOrder", Kind::Int, 9),
        ],
    )
    .read_only_object()
}

fn account() -> ObjectDef {
    let mut fields = vec![
        text("Name", 255).required().label("Account Name"),
        text("AccountNumber", 40),
        f("Type", Kind::Picklist, 255).picklist(
            &[
                "Prospect",
                "Customer - Direct",
                "Customer - Channel",
                "Channel Partner / Reseller",
                "Installation Partner",
                "Technology Partner",
                "Other",
            ],
            false,
        ),
        reference("ParentId", &["Account"], "Parent"),
        f("Industry", Kind::Picklist, 255).picklist(
            &[
                "Agriculture",
                "Banking",
                "Biotechnology",
                "Consulting",
                "Education",
                "Energy",
                "Engineering",
                "Finance",
                "Healthcare",
                "Manufacturing",
                "Media",
                "Retail",
                "Technology",
                "Telecommunications",
                "Transportation",
                "Other",
            ],
            false,
        ),
        f("Phone", Kind::Phone, 40),
        f("Fax", Kind::Phone, 40),
        f("Website", Kind::Url, 255),
        f("NumberOfEmployees", Kind::Int, 8),
        f("Description", Kind::TextArea, 32000),
    ];
    fields.extend(address("Billing"));
    fields.extend(address("Shipping"));
    fields.push(owner());
    let mut def = ObjectDef::new(ACCOUNT, "Accounts", "001", fields);
    def.etag = true;
    def
}

fn contact() -> ObjectDef {
    let mut fields = vec![
        f("Salutation", Kind::Picklist, 40)
            .picklist(&["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."], false),
        text("FirstName", 40),
        text("LastName", 80).required(),
        text("Name", 121).read_only().label("Full Name"),
        reference("AccountId", &["Account"], "Account").label("Account"),
        text("Title", 128),
        text("Department", 80),
        f("Email", Kind::Email, 80),
        f("Phone", Kind::Phone, 40),
        f("MobilePhone", Kind::Phone, 40),
        f("HomePhone", Kind::Phone, 40),
        f("OtherPhone", Kind::Phone, 40),
        f("Fax", Kind::Phone, 40),
        f("AssistantPhone", Kind::Phone, 40),
        text("AssistantName", 40),
        f("Birthdate", Kind::Date, 0),
        f("LeadSource", Kind::Picklist, 255).picklist(
            &[
                "Web",
                "Phone Inquiry",
                "Partner Referral",
                "Purchased List",
                "Other",
            ],
            false,
        ),
        reference("ReportsToId", &["Contact"], "ReportsTo"),
    ];
    fields.extend(address("Mailing"));
    fields.extend(address("Other"));
    fields.extend([
        f("Description", Kind::TextArea, 32000),
        boolean("HasOptedOutOfEmail"),
        boolean("HasOptedOutOfFax"),
        boolean("DoNotCall"),
        reference("MasterRecordId", &["Contact"], "MasterRecord").read_only(),
        f("LastActivityDate", Kind::Date, 0).read_only(),
        owner(),
    ]);
    ObjectDef::new(CONTACT, "Contacts", "003", fields)
}

fn activity_common() -> Vec<FieldDef> {
    vec![
        reference("WhoId", &["Contact", "Lead"], "Who").label("Name"),
        reference("WhatId", &["Account"], "What").label("Related To"),
        reference("AccountId", &["Account"], "Account").read_only(),
        owner().label("Assigned To"),
        boolean("IsReminderSet"),
        f("ReminderDateTime", Kind::DateTime, 0),
        f("Type", Kind::Picklist, 40).picklist(&["Call", "Email", "Meeting", "Other"], false),
        boolean("IsArchived").read_only(),
    ]
}

fn event() -> ObjectDef {
    let mut fields = vec![
        f("Subject", Kind::Combobox, 255).picklist(
            &["Call", "Email", "Meeting", "Send Letter/Quote", "Other"],
            false,
        ),
        f("StartDateTime", Kind::DateTime, 0),
        f("EndDateTime", Kind::DateTime, 0),
        f("DurationInMinutes", Kind::Int, 8),
        f("ActivityDateTime", Kind::DateTime, 0),
        f("ActivityDate", Kind::Date, 0),
        f("EndDate", Kind::Date, 0).read_only(),
        boolean("IsAllDayEvent").label("All-Day Event"),
        text("Location", 255),
        f("Description", Kind::TextArea, 32000),
        boolean("IsPrivate"),
        f("ShowAs", Kind::Picklist, 40)
            .picklist(&["Busy", "OutOfOffice", "Free"], true)
            .required()
            .default(Value::Text("Busy".into()))
            .label("Show Time As"),
        f("EventSubtype", Kind::Picklist, 40)
            .picklist(&["Event"], true)
            .create_only()
            .default(Value::Text("Event".into())),
        boolean("IsChild").read_only(),
        boolean("IsGroupEvent").read_only(),
        f("GroupEventType", Kind::Picklist, 40)
            .picklist(&["0", "1", "2", "3"], true)
            .read_only(),
        // Classic recurrence is not emulated; the flag is always false and not writeable here.
        boolean("IsRecurrence").read_only(),
        boolean("IsRecurrence2").create_only(),
        f("Recurrence2PatternText", Kind::TextArea, 512),
        text("Recurrence2PatternTimeZone", 255),
        f("Recurrence2PatternStartDate", Kind::DateTime, 0).read_only(),
        text("Recurrence2PatternVersion", 40).read_only(),
        boolean("IsRecurrence2Exception").read_only(),
        boolean("IsRecurrence2Exclusion").read_only(),
        boolean("IsVisibleInSelfService"),
    ];
    fields.extend(activity_common());
    ObjectDef::new(EVENT, "Events", "00U", fields)
}

fn task(statuses: &[TaskStatusDef]) -> ObjectDef {
    let labels: Vec<&str> = statuses.iter().map(|s| s.label.as_str()).collect();
    let default = statuses
        .iter()
        .find(|s| s.default)
        .or(statuses.first())
        .map(|s| Value::Text(s.label.clone()));
    let mut status = f("Status", Kind::Picklist, 40)
        .picklist(&labels, true)
        .required();
    status.default = default;
    let mut fields = vec![
        f("Subject", Kind::Combobox, 255)
            .picklist(&["Call", "Send Letter", "Send Quote", "Other"], false),
        f("ActivityDate", Kind::Date, 0).label("Due Date Only"),
        status,
        f("Priority", Kind::Picklist, 40)
            .picklist(&["High", "Normal", "Low"], true)
            .required()
            .default(Value::Text("Normal".into())),
        boolean("IsHighPriority").read_only(),
        boolean("IsClosed").read_only(),
        f("CompletedDateTime", Kind::DateTime, 0).read_only(),
        f("Description", Kind::TextArea, 32000),
        f("TaskSubtype", Kind::Picklist, 40)
            .picklist(
                &["Task", "Email", "LinkedIn", "ListEmail", "Cadence", "Call"],
                true,
            )
            .create_only()
            .default(Value::Text("Task".into())),
        boolean("IsRecurrence").read_only(),
    ];
    fields.extend(activity_common());
    ObjectDef::new(TASK, "Tasks", "00T", fields)
}

fn event_relation() -> ObjectDef {
    ObjectDef::new(
        EVENT_RELATION,
        "Event Relations",
        "0RE",
        vec![
            reference("EventId", &["Event"], "Event")
                .required()
                .create_only(),
            reference("RelationId", &["User", "Contact", "Lead"], "Relation")
                .required()
                .create_only(),
            boolean("IsInvitee").default(Value::Bool(true)),
            boolean("IsParent"),
            boolean("IsWhat"),
            f("Status", Kind::Picklist, 40).picklist(&["New", "Accepted", "Declined"], false),
            f("RespondedDate", Kind::DateTime, 0),
            text("Response", 255),
            reference("AccountId", &["Account"], "Account").read_only(),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_have_system_fields_and_prefixes() {
        let s = Schema::new(&default_external_ids(), &default_task_statuses());
        let c = s.object("contact").expect("contact");
        assert_eq!(c.prefix, "003");
        assert!(
            c.field("lastname")
                .is_some_and(|f| f.is_required_on_create())
        );
        assert!(c.field("SystemModstamp").is_some());
        assert!(c.field("Tandem_Id__c").is_some_and(|f| f.external_id));
        assert_eq!(
            c.relationship("owner").map(|i| c.fields[i].name.as_str()),
            Some("OwnerId")
        );
        let t = s.object("Task").expect("task");
        assert!(!t.field("Status").is_some_and(|f| f.is_required_on_create()));
        assert_eq!(
            s.object_for_id("00UKd0000000001AAA"),
            s.object_index("Event")
        );
        assert!(s.object("Foo").is_none());
        assert_eq!(label_for("LastModifiedById"), "Last Modified By");
    }
}
