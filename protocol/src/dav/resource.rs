//! Naming and versioning of DAV resources: where a member sits, and its ETag.

use sha2::{Digest, Sha256};

/// The strong ETag of a resource: derived from its exact bytes, so the same bytes always have
/// the same ETag (also after a replay) and any change to them changes it.
pub fn etag(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(34);
    hex.push('"');
    for byte in &digest[..16] {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex.push('"');
    hex
}

/// Split a member's path into its collection (ending with `/`) and its name.
/// `/dav/calendars/me/calendar/a.ics` → (`/dav/calendars/me/calendar/`, `a.ics`).
pub fn split_member(path: &str) -> Option<(&str, &str)> {
    let slash = path.rfind('/')?;
    let (collection, name) = (&path[..=slash], &path[slash + 1..]);
    (!name.is_empty() && collection.starts_with('/')).then_some((collection, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_quoted_stable_and_content_derived() {
        let a = etag(b"BEGIN:VCARD\r\n");
        assert_eq!(a, etag(b"BEGIN:VCARD\r\n"));
        assert_ne!(a, etag(b"BEGIN:VCARD\r\n "));
        assert!(a.starts_with('"') && a.ends_with('"') && a.len() == 34);
    }

    #[test]
    fn members_split_into_collection_and_name() {
        assert_eq!(split_member("/dav/c/a.ics"), Some(("/dav/c/", "a.ics")));
        assert_eq!(split_member("/dav/c/"), None);
        assert_eq!(split_member("a.ics"), None);
    }
}
