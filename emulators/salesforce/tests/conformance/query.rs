//! SOQL over HTTP: results, relationship fields, filters, ordering, paging, queryAll, and error bodies.

use chrono::Duration;
use serde_json::{Value as Json, json};

use super::common::{Sf, start};

async fn fixture(sf: &Sf) -> (String, String) {
    let acme = sf.create("Account", json!({"Name": "Acme"})).await;
    let globex = sf.create("Account", json!({"Name": "Globex"})).await;
    for (first, last, email, account) in [
        ("Ann", "Smith", Some("ann@acme.example"), Some(&acme)),
        ("Bob", "Smyth", None, Some(&acme)),
        ("Cid", "O'Neil", Some("cid@globex.example"), Some(&globex)),
        ("Dee", "Zed", Some("dee@mail.example"), None),
    ] {
        let mut body = json!({"FirstName": first, "LastName": last, "Email": email});
        if let Some(a) = account {
            body["AccountId"] = json!(a);
        }
        sf.create("Contact", body).await;
    }
    (acme, globex)
}

fn names(r: &Json) -> Vec<String> {
    r["records"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["LastName"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn relationship_fields_and_record_shape() {
    let sf = start().await;
    let (acme, _) = fixture(&sf).await;
    let r = sf
        .query(
            "SELECT Id, LastName, Account.Name, Owner.Email FROM Contact WHERE LastName = 'smith'",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["totalSize"], 1);
    assert_eq!(r.body["done"], true);
    assert!(r.body.get("nextRecordsUrl").is_none());
    let rec = &r.body["records"][0];
    let id = rec["Id"].as_str().expect("id");
    assert_eq!(
        rec["attributes"],
        json!({"type": "Contact", "url": format!("/services/data/v60.0/sobjects/Contact/{id}")})
    );
    assert_eq!(rec["Account"]["Name"], "Acme");
    assert_eq!(
        rec["Account"]["attributes"]["url"],
        format!("/services/data/v60.0/sobjects/Account/{acme}")
    );
    assert_eq!(rec["Owner"]["Email"], "demo@tandem.example");
    // Key order: attributes first, then SELECT order.
    let keys: Vec<&str> = rec
        .as_object()
        .expect("obj")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 5);
    assert!(r.text.find("\"attributes\"") < r.text.find("\"Id\""));
    assert!(r.text.find("\"LastName\"") < r.text.find("\"Account\""));
    // A contact without an account: the relationship is null.
    let r = sf
        .query("SELECT LastName, Account.Name FROM Contact WHERE AccountId = null")
        .await;
    assert_eq!(r.body["records"][0]["Account"], Json::Null);
    assert_eq!(names(&r.body), ["Zed"]);
    let r = sf
        .query("SELECT Id FROM Contact WHERE Account.Name IN ('Acme', 'Initech') ORDER BY LastName")
        .await;
    assert_eq!(r.body["totalSize"], 2);
}

#[tokio::test]
async fn filters_ordering_limit_offset_and_count() {
    let sf = start().await;
    fixture(&sf).await;
    let q = |s: &'static str| {
        let sf = &sf;
        async move { sf.query(s).await.body }
    };
    assert_eq!(
        names(
            &q("SELECT LastName FROM Contact WHERE LastName LIKE 'Sm_th' ORDER BY LastName").await
        ),
        ["Smith", "Smyth"]
    );
    assert_eq!(
        names(&q("SELECT LastName FROM Contact WHERE LastName LIKE '%\\'%'").await),
        ["O'Neil"]
    );
    assert_eq!(
        names(&q("SELECT LastName FROM Contact WHERE Email = null").await),
        ["Smyth"]
    );
    // != includes nulls in SOQL.
    assert_eq!(
        q("SELECT Id FROM Contact WHERE Email != 'ann@acme.example'").await["totalSize"],
        3
    );
    assert_eq!(names(&q("SELECT LastName FROM Contact WHERE NOT (LastName = 'Smith' OR LastName = 'Smyth') ORDER BY LastName DESC").await), ["Zed", "O'Neil"]);
    assert_eq!(names(&q("SELECT LastName FROM Contact WHERE LastName NOT IN ('Smith', 'Zed') AND FirstName != null ORDER BY FirstName").await), ["Smyth", "O'Neil"]);
    assert_eq!(
        names(&q("SELECT LastName FROM Contact ORDER BY Email NULLS LAST, LastName LIMIT 2").await),
        ["Smith", "O'Neil"]
    );
    assert_eq!(
        names(&q("SELECT LastName FROM Contact ORDER BY Email DESC NULLS FIRST").await),
        ["Smyth", "Zed", "O'Neil", "Smith"]
    );
    assert_eq!(
        names(&q("SELECT LastName FROM Contact ORDER BY LastName LIMIT 2 OFFSET 1").await),
        ["Smith", "Smyth"]
    );
    let c = q("SELECT COUNT() FROM Contact WHERE Account.Name = 'Acme'").await;
    assert_eq!(c, json!({"totalSize": 2, "done": true, "records": []}));
    assert_eq!(
        q("select id from contact where createddate = today").await["totalSize"],
        4
    );
    assert_eq!(
        q("SELECT Id FROM Contact WHERE CreatedDate > 2024-05-06T10:00:00Z").await["totalSize"],
        0
    );
    assert_eq!(
        q("SELECT Id FROM Contact WHERE CreatedDate >= 2024-05-06T12:00:00+02:00").await["totalSize"],
        4
    );
    assert_eq!(
        q("SELECT Id FROM Contact WHERE CreatedDate < LAST_N_DAYS:3").await["totalSize"],
        0
    );
    assert_eq!(
        q("SELECT Id FROM Contact WHERE IsDeleted = false AND HasOptedOutOfEmail = FALSE").await["totalSize"],
        4
    );
}

#[tokio::test]
async fn error_bodies() {
    let sf = start().await;
    let r = sf.query("SELECT Id, Foo FROM Contact").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "INVALID_FIELD");
    assert_eq!(
        r.error_message(),
        "\nSELECT Id, Foo FROM Contact\n           ^\nERROR at Row:1:Column:12\nNo such column 'Foo' on entity 'Contact'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
    );
    assert!(r.body[0].get("fields").is_none());
    let r = sf.query("SELECT Id FROM Contct").await;
    assert_eq!(r.error_code(), "INVALID_TYPE");
    assert!(
        r.error_message()
            .contains("sObject type 'Contct' is not supported")
    );
    let r = sf.query("SELECT Id FROM Contact WHERE").await;
    assert_eq!(r.error_code(), "MALFORMED_QUERY");
    assert!(r.error_message().contains("ERROR at Row:1:Column:29"));
    let r = sf.query("SELECT Id FROM Contact WHERE LastName = 5").await;
    assert_eq!(r.error_code(), "INVALID_FIELD");
    assert!(
        r.error_message()
            .contains("must be of type string and should be enclosed in quotes"),
        "{}",
        r.text
    );
    let r = sf
        .query("SELECT Id FROM Contact WHERE CreatedDate > 2024-01-01")
        .await;
    assert!(
        r.error_message().contains("must be of type dateTime"),
        "{}",
        r.text
    );
    let r = sf
        .query("SELECT Id FROM Contact WHERE Description = 'x'")
        .await;
    assert!(
        r.error_message().contains("can not be filtered"),
        "{}",
        r.text
    );
    let r = sf.query("SELECT Id FROM Contact WHERE Id = 'nope'").await;
    assert_eq!(r.error_code(), "INVALID_QUERY_FILTER_OPERATOR");
    let r = sf.query("SELECT Id, Acount.Name FROM Contact").await;
    assert_eq!(r.error_code(), "INVALID_FIELD");
    assert!(
        r.error_message()
            .contains("Didn't understand relationship 'Acount'")
    );
    let r = sf.query("SELECT Id, Who.Title FROM Task").await;
    assert_eq!(
        r.error_code(),
        "INVALID_FIELD",
        "polymorphic Who exposes only Name fields"
    );
    let r = sf.query("SELECT Id FROM Contact OFFSET 2001").await;
    assert_eq!(r.error_code(), "NUMBER_OUTSIDE_VALID_RANGE");
    // An unencoded '+' in a datetime offset decodes to a space: malformed, like the real API.
    let r = sf
        .get("/query?q=SELECT+Id+FROM+Contact+WHERE+CreatedDate+>+2024-01-01T00:00:00+01:00")
        .await;
    assert_eq!(r.error_code(), "MALFORMED_QUERY");
    let r = sf.get("/query").await;
    assert_eq!(r.error_code(), "MALFORMED_QUERY");
}

#[tokio::test]
async fn paging_with_batch_size_and_locators() {
    let sf = start().await;
    sf.emu.org().with(|org| {
        let obj = org.schema.obj("Account");
        let ctx = tandem_salesforce_emulator::org::WriteCtx {
            now: sf.emu.now(),
            user_id: org.current_user.clone(),
        };
        for n in 0..4500 {
            let body = json!({"Name": format!("Account {n:05}")});
            org.create(obj, body.as_object().expect("obj"), &ctx)
                .expect("create");
        }
    });
    let before = sf.emu.api_usage().0;
    let r = sf.query("SELECT Id, Name FROM Account ORDER BY Name").await;
    assert_eq!(r.body["totalSize"], 4500);
    assert_eq!(r.body["done"], false);
    assert_eq!(r.body["records"].as_array().map(Vec::len), Some(2000));
    let next = r.body["nextRecordsUrl"].as_str().expect("next").to_string();
    assert!(
        next.starts_with("/services/data/v60.0/query/01g") && next.ends_with("-2000"),
        "{next}"
    );

    // Follow with a smaller batch size; every page is one API call.
    let mut seen = 2000;
    let mut url = Some(next);
    let mut pages = 1;
    let mut last_name = String::new();
    while let Some(u) = url.take() {
        assert!(pages < 20, "bounded");
        let r = sf
            .send(
                sf.http
                    .get(format!("{}{u}", sf.emu.base_url()))
                    .bearer_auth(&sf.token)
                    .header("Sforce-Query-Options", "batchSize=500"),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let recs = r.body["records"].as_array().expect("records");
        assert!(recs.len() <= 500);
        seen += recs.len();
        last_name = recs
            .last()
            .and_then(|x| x["Name"].as_str())
            .unwrap_or("")
            .to_string();
        url = r.body["nextRecordsUrl"].as_str().map(str::to_string);
        assert_eq!(r.body["done"], url.is_none());
        pages += 1;
    }
    assert_eq!(seen, 4500);
    assert_eq!(pages, 1 + 5);
    assert_eq!(last_name, "Account 04499");
    assert_eq!(sf.emu.api_usage().0 - before, 6);

    // batchSize below 200 is raised to 200.
    let r = sf
        .send(
            sf.authed(
                reqwest::Method::GET,
                &format!("/query?q={}", super::common::enc("SELECT Id FROM Account")),
            )
            .header("Sforce-Query-Options", "batchSize=10"),
        )
        .await;
    assert_eq!(r.body["records"].as_array().map(Vec::len), Some(200));
    let next = r.body["nextRecordsUrl"].as_str().expect("next").to_string();

    // Unknown locators and locators idle for more than 15 minutes are INVALID_QUERY_LOCATOR.
    let r = sf.get("/query/01gKd0000000000AAA-2000").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_code(), "INVALID_QUERY_LOCATOR");
    sf.emu.advance_clock(Duration::minutes(16));
    let r = sf
        .send(
            sf.http
                .get(format!("{}{next}", sf.emu.base_url()))
                .bearer_auth(&sf.token),
        )
        .await;
    assert_eq!(r.error_code(), "INVALID_QUERY_LOCATOR");
}

#[tokio::test]
async fn query_all_sees_the_recycle_bin_and_archived_activities() {
    let sf = start().await;
    let keep = sf.create("Contact", json!({"LastName": "Keep"})).await;
    let gone = sf.create("Contact", json!({"LastName": "Gone"})).await;
    assert_eq!(
        sf.delete(&format!("/sobjects/Contact/{gone}")).await.status,
        204
    );
    let r = sf.query("SELECT Id, IsDeleted FROM Contact").await;
    assert_eq!(r.body["totalSize"], 1);
    assert_eq!(r.body["records"][0]["Id"], keep.as_str());
    let r = sf
        .query_all("SELECT Id, IsDeleted FROM Contact WHERE IsDeleted = true")
        .await;
    assert_eq!(r.body["totalSize"], 1);
    assert_eq!(r.body["records"][0]["Id"], gone.as_str());
    assert_eq!(r.body["records"][0]["IsDeleted"], true);
    // Activities older than 365 days are archived: hidden from query, visible to queryAll.
    let old = sf.create("Event", json!({"Subject": "Ancient", "StartDateTime": "2023-01-02T10:00:00Z", "DurationInMinutes": 30})).await;
    let r = sf.query("SELECT Id FROM Event").await;
    assert_eq!(r.body["totalSize"], 0);
    let r = sf.query_all("SELECT Id, IsArchived FROM Event").await;
    assert_eq!(r.body["records"][0]["Id"], old.as_str());
    assert_eq!(r.body["records"][0]["IsArchived"], true);
}
