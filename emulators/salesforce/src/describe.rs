//! Metadata resources: the versions list, the per-version resource directory, describeGlobal and sObject describe.

use super::http::{MAX_VERSION, MIN_VERSION, Reply};
use super::org::Org;
use super::value::Doc;

/// Release name of an API version: v20.0 was Winter '11, then three releases a year.
pub fn release_label(major: u32) -> String {
    let k = major.saturating_sub(20);
    let season = ["Winter", "Spring", "Summer"][(k % 3) as usize];
    format!("{season} '{:02}", 11 + k / 3)
}

/// `GET /services/data/`: not authenticated and not counted against the limit.
pub fn versions(_base_url: &str) -> Reply {
    let items: Vec<Doc> = (MIN_VERSION..=MAX_VERSION)
        .map(|v| {
            Doc::object()
                .with("label", release_label(v))
                .with("url", format!("/services/data/v{v}.0"))
                .with("version", format!("{v}.0"))
        })
        .collect();
    Reply::json(200, &Doc::Array(items))
}

pub fn resources(version: &str) -> Reply {
    let base = format!("/services/data/v{version}");
    let mut doc = Doc::object();
    for name in ["composite", "limits", "query", "queryAll", "sobjects"] {
        doc.push(name, format!("{base}/{name}"));
    }
    Reply::json(200, &doc)
}

fn object_summary(org: &Org, obj: usize, version: &str) -> Doc {
    let def = org.def(obj);
    let base = format!("/services/data/v{version}/sobjects/{}", def.name);
    Doc::object()
        .with("name", def.name.as_str())
        .with("label", def.label.as_str())
        .with("labelPlural", def.plural.as_str())
        .with("keyPrefix", def.prefix.as_str())
        .with("createable", def.createable)
        .with("updateable", def.updateable)
        .with("deletable", def.deletable)
        .with("queryable", true)
        .with("replicateable", true)
        .with("custom", false)
        .with(
            "urls",
            Doc::object()
                .with("sobject", base.clone())
                .with("describe", format!("{base}/describe"))
                .with("rowTemplate", format!("{base}/{{ID}}")),
        )
}

pub fn global(org: &Org, version: &str) -> Reply {
    let objects: Vec<Doc> = (0..org.schema.objects.len())
        .map(|i| object_summary(org, i, version))
        .collect();
    Reply::json(
        200,
        &Doc::object()
            .with("encoding", "UTF-8")
            .with("maxBatchSize", 200u64)
            .with("sobjects", Doc::Array(objects)),
    )
}

pub fn basic(org: &Org, obj: usize, version: &str) -> Reply {
    Reply::json(
        200,
        &Doc::object()
            .with("objectDescribe", object_summary(org, obj, version))
            .with("recentItems", Doc::Array(Vec::new())),
    )
}

pub fn object(org: &Org, obj: usize, version: &str) -> Reply {
    let def = org.def(obj);
    let fields: Vec<Doc> = def
        .fields
        .iter()
        .map(|f| {
            let picklist: Vec<Doc> = f
                .picklist
                .iter()
                .map(|v| {
                    let default = f.default.as_ref().and_then(|d| d.as_text()) == Some(v.as_str());
                    Doc::object()
                        .with("active", true)
                        .with("defaultValue", default)
                        .with("label", v.as_str())
                        .with("value", v.as_str())
                })
                .collect();
            Doc::object()
                .with("name", f.name.as_str())
                .with("label", f.label.as_str())
                .with("type", f.kind.describe_name())
                .with("length", f.length as u64)
                .with("nillable", f.nillable)
                .with("createable", f.createable)
                .with("updateable", f.updateable)
                .with(
                    "defaultedOnCreate",
                    f.default.is_some() || matches!(f.name.as_str(), "OwnerId" | "Id"),
                )
                .with("externalId", f.external_id)
                .with("unique", f.unique)
                .with("filterable", f.filterable)
                .with("sortable", f.sortable)
                .with("restrictedPicklist", f.restricted)
                .with("picklistValues", Doc::Array(picklist))
                .with(
                    "referenceTo",
                    Doc::Array(
                        f.reference_to
                            .iter()
                            .map(|r| Doc::from(r.as_str()))
                            .collect(),
                    ),
                )
                .with("relationshipName", f.relationship_name.clone())
        })
        .collect();
    let mut doc = object_summary(org, obj, version);
    doc.push("fields", Doc::Array(fields));
    Reply::json(200, &doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_labels() {
        assert_eq!(release_label(20), "Winter '11");
        assert_eq!(release_label(59), "Winter '24");
        assert_eq!(release_label(60), "Spring '24");
        assert_eq!(release_label(66), "Spring '26");
    }
}
