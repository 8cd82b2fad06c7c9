//! Whether a record read back holds what a write sent: how a lost or refused conditional update
//! is settled without sending it again.

use crate::mapping::parse_salesforce_datetime;
use serde_json::{Map, Value};

/// Every field `written` sets has that value in `current` (field names compared as Salesforce
/// does, case-insensitively; datetimes compared as instants, numbers as numbers).
pub fn holds(current: &Map<String, Value>, written: &Map<String, Value>) -> bool {
    written
        .iter()
        .filter(|(k, _)| k.as_str() != "attributes")
        .all(|(k, want)| {
            let got = current
                .iter()
                .find(|(ck, _)| ck.eq_ignore_ascii_case(k))
                .map(|(_, v)| v);
            match (want, got) {
                (Value::Null, None | Some(Value::Null)) => true,
                (Value::String(w), Some(Value::String(g))) => {
                    w == g
                        || matches!(
                            (parse_salesforce_datetime(w), parse_salesforce_datetime(g)),
                            (Ok(a), Ok(b)) if a == b
                        )
                }
                (Value::Number(w), Some(Value::Number(g))) => w.as_f64() == g.as_f64(),
                (w, Some(g)) => w == g,
                _ => false,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn read_back_compares_by_meaning() {
        let written = json!({"StartDateTime": "2024-05-06T12:00:00+02:00", "Email": null, "N": 1});
        let current =
            json!({"StartDateTime": "2024-05-06T10:00:00.000+0000", "N": 1.0, "attributes": {}});
        let (Value::Object(w), Value::Object(c)) = (written, current) else {
            unreachable!()
        };
        assert!(holds(&c, &w));
        let mut other = c.clone();
        other.insert("N".into(), json!(2));
        assert!(!holds(&other, &w));
        let mut cleared = w.clone();
        cleared.insert("Phone".into(), json!("1"));
        assert!(!holds(&c, &cleared));
    }
}
