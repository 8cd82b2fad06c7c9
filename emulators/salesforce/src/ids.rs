//! Salesforce record ids: 15-character case-sensitive bodies with the 3-character case-safe suffix that makes them 18.

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SUFFIX: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// The "pod" characters after the key prefix; real ids carry an instance marker here.
const POD: &str = "Kd";

/// Computes the 3-character suffix: for each 5-character chunk, a bitmap of which characters are upper-case.
pub fn suffix(id15: &str) -> Option<String> {
    let bytes = id15.as_bytes();
    if bytes.len() != 15 || !bytes.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let mut out = String::with_capacity(3);
    for chunk in bytes.chunks(5) {
        let mut bits = 0usize;
        for (i, b) in chunk.iter().enumerate() {
            if b.is_ascii_uppercase() {
                bits |= 1 << i;
            }
        }
        out.push(SUFFIX[bits] as char);
    }
    Some(out)
}

/// Normalises a 15- or 18-character id to the canonical 18-character form; `None` if it is not an id.
/// An 18-character id is matched case-insensitively through its suffix, as Salesforce does.
pub fn to18(id: &str) -> Option<String> {
    if !id.is_ascii() {
        return None;
    }
    match id.len() {
        15 => suffix(id).map(|s| format!("{id}{s}")),
        18 => {
            let (body, sfx) = id.split_at(15);
            if !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return None;
            }
            let sfx = sfx.to_ascii_uppercase();
            let sfx_bytes = sfx.as_bytes();
            // Restore the body's case from the suffix bitmap, so "003kd..." finds "003Kd...".
            let mut restored = Vec::with_capacity(15);
            for (chunk_no, chunk) in body.as_bytes().chunks(5).enumerate() {
                let bits = SUFFIX.iter().position(|c| *c == sfx_bytes[chunk_no])?;
                for (i, b) in chunk.iter().enumerate() {
                    restored.push(if bits & (1 << i) != 0 {
                        b.to_ascii_uppercase()
                    } else {
                        b.to_ascii_lowercase()
                    });
                }
            }
            let body = String::from_utf8(restored).ok()?;
            let expect = suffix(&body)?;
            (expect == sfx).then(|| format!("{body}{sfx}"))
        }
        _ => None,
    }
}

/// The key prefix (`003` for Contact, ...).
pub fn prefix(id: &str) -> &str {
    id.get(..3).unwrap_or("")
}

/// Builds the `n`-th id for a key prefix: prefix + pod + 10 base-62 counter digits, then the suffix.
pub fn make(prefix: &str, n: u64) -> String {
    let mut digits = [b'0'; 10];
    let mut v = n;
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(v % 62) as usize];
        v /= 62;
    }
    let body = format!("{prefix}{POD}{}", String::from_utf8_lossy(&digits));
    let sfx = suffix(&body).unwrap_or_else(|| "AAA".to_string());
    format!("{body}{sfx}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_salesforce_id_suffix() {
        // A documented example pair: 001A0000006Vm9r -> 001A0000006Vm9rIAC.
        assert_eq!(suffix("001A0000006Vm9r").as_deref(), Some("IAC"));
        assert_eq!(
            to18("001A0000006Vm9r").as_deref(),
            Some("001A0000006Vm9rIAC")
        );
    }

    #[test]
    fn eighteen_char_ids_are_case_insensitive() {
        assert_eq!(
            to18("001a0000006vm9riac").as_deref(),
            Some("001A0000006Vm9rIAC")
        );
        assert_eq!(to18("001A0000006Vm9rZZZ"), None);
        assert!(to18("bad").is_none());
        assert!(to18("001A0000006Vm9!").is_none());
    }

    #[test]
    fn made_ids_are_valid_and_distinct() {
        let a = make("003", 1);
        let b = make("003", 2);
        assert_eq!(a.len(), 18);
        assert_ne!(a, b);
        assert_eq!(to18(&a).as_deref(), Some(a.as_str()));
        assert_eq!(to18(&a[..15]).as_deref(), Some(a.as_str()));
        assert_eq!(prefix(&a), "003");
    }
}
